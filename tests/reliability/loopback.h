#pragma once
// A TCP listening socket on 127.0.0.1 at a port the kernel picks: the one way the reliability
// suite's proxies, traps and listeners open theirs. Header-only, so the small support
// libraries that need it (the Postgres proxy, the SMTP trap) take no extra dependency.

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace anken::reliability {

struct LoopbackSocket {
  int fd = -1;
  int port = 0;
};

// Close-on-exec (a service the test starts must not inherit it). `what` names it in errors.
inline absl::StatusOr<LoopbackSocket> ListenOnLoopback(int backlog, absl::string_view what) {
  LoopbackSocket s;
  s.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (s.fd < 0 || ::bind(s.fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(s.fd, backlog) != 0 ||
      ::getsockname(s.fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int err = errno;
    if (s.fd >= 0) ::close(s.fd);
    return absl::InternalError(absl::StrCat(what, " listen: errno ", err));
  }
  s.port = ntohs(addr.sin_port);
  return s;
}

// A close-on-exec socket connected to 127.0.0.1:`port`, or -1 when it cannot connect.
inline int ConnectToLoopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace anken::reliability
