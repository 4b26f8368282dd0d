#include "tests/reliability/smtp_trap.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/reliability/fault_support.h"
#include "tests/reliability/loopback.h"

namespace anken::reliability {
namespace {

bool SendAll(int fd, const std::string& text) {
  for (size_t off = 0; off < text.size();) {
    const ssize_t n = ::send(fd, text.data() + off, text.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// The address inside "<...>" of a MAIL FROM / RCPT TO argument.
std::string Angle(const std::string& arg) {
  const size_t open = arg.find('<');
  const size_t close = arg.find('>', open == std::string::npos ? 0 : open);
  if (open == std::string::npos || close == std::string::npos) return arg;
  return arg.substr(open + 1, close - open - 1);
}

// The header block of `data` (up to the first empty line), unfolded, first value per name.
std::map<std::string, std::string> ParseHeaders(const std::string& data) {
  std::map<std::string, std::string> out;
  std::string name, value;
  auto flush = [&] {
    if (!name.empty() && out.count(name) == 0) {
      out[name] = std::string(absl::StripAsciiWhitespace(value));
    }
    name.clear();
    value.clear();
  };
  size_t at = 0;
  while (at < data.size()) {
    size_t end = data.find("\r\n", at);
    if (end == std::string::npos) end = data.size();
    const std::string line = data.substr(at, end - at);
    at = end + 2;
    if (line.empty()) break;  // the end of the header block
    if (line[0] == ' ' || line[0] == '\t') {
      absl::StrAppend(&value, " ", absl::StripAsciiWhitespace(line));
      continue;
    }
    flush();
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    name = absl::AsciiStrToLower(line.substr(0, colon));
    value = line.substr(colon + 1);
  }
  flush();
  return out;
}

}  // namespace

std::string SmtpTrap::Message::Header(const std::string& name) const {
  auto it = headers.find(absl::AsciiStrToLower(name));
  return it == headers.end() ? "" : it->second;
}

absl::StatusOr<std::unique_ptr<SmtpTrap>> SmtpTrap::Start() {
  std::unique_ptr<SmtpTrap> t(new SmtpTrap());
  absl::StatusOr<LoopbackSocket> listening = ListenOnLoopback(16, "smtp trap");
  if (!listening.ok()) return listening.status();
  t->listen_fd_ = listening->fd;
  t->port_ = listening->port;
  t->acceptor_ = std::thread([raw = t.get()] { raw->AcceptLoop(); });
  return t;
}

SmtpTrap::~SmtpTrap() {
  stop_ = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    hold_ = false;
  }
  cv_.notify_all();
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    threads.swap(threads_);
  }
  for (std::thread& t : threads) t.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

std::string SmtpTrap::url() const { return absl::StrCat("smtp://127.0.0.1:", port_); }

void SmtpTrap::HoldGreetings() {
  std::lock_guard<std::mutex> lock(mu_);
  hold_ = true;
}

void SmtpTrap::ReleaseGreetings() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    hold_ = false;
  }
  cv_.notify_all();
}

void SmtpTrap::ArmKill() { armed_ = true; }

bool SmtpTrap::WaitForMessages(size_t n, absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, absl::ToChronoMilliseconds(timeout), [&] {
    return messages_.size() >= n || !trap_error_.empty();
  }) && messages_.size() >= n;
}

std::vector<SmtpTrap::Message> SmtpTrap::Messages() const {
  std::lock_guard<std::mutex> lock(mu_);
  return messages_;
}

std::string SmtpTrap::trap_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return trap_error_;
}

void SmtpTrap::AcceptLoop() {
  while (!stop_) {
    pollfd pfd{listen_fd_, POLLIN, 0};
    if (::poll(&pfd, 1, 100) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard<std::mutex> lock(mu_);
    threads_.emplace_back([this, fd] { Serve(fd); });
  }
}

void SmtpTrap::Serve(int fd) {
  sockaddr_in peer{};
  socklen_t len = sizeof(peer);
  const int client_port =
      ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) == 0 ? ntohs(peer.sin_port) : 0;
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !hold_ || stop_; });
  }
  std::string buffer;
  // One CRLF-terminated line (without the CRLF); false when the client left or we stop.
  auto read_line = [&](std::string* line) {
    for (;;) {
      const size_t end = buffer.find("\r\n");
      if (end != std::string::npos) {
        *line = buffer.substr(0, end);
        buffer.erase(0, end + 2);
        return true;
      }
      if (stop_) return false;
      pollfd pfd{fd, POLLIN, 0};
      if (::poll(&pfd, 1, 100) <= 0) continue;
      char chunk[8192];
      const ssize_t n = ::read(fd, chunk, sizeof(chunk));
      if (n <= 0) return false;
      buffer.append(chunk, static_cast<size_t>(n));
    }
  };

  Message m;
  std::string line;
  bool open = SendAll(fd, "220 smtp-trap ESMTP ready\r\n");
  while (open && read_line(&line)) {
    const std::string verb = absl::AsciiStrToUpper(line.substr(0, 4));
    if (verb == "EHLO") {
      open = SendAll(fd, "250-smtp-trap\r\n250 8BITMIME\r\n");
    } else if (verb == "HELO") {
      open = SendAll(fd, "250 smtp-trap\r\n");
    } else if (verb == "MAIL") {
      m = Message();
      m.mail_from = Angle(line.substr(line.find(':') == std::string::npos ? 4 : line.find(':')));
      open = SendAll(fd, "250 OK\r\n");
    } else if (verb == "RCPT") {
      m.rcpt_to.push_back(
          Angle(line.substr(line.find(':') == std::string::npos ? 4 : line.find(':'))));
      open = SendAll(fd, "250 OK\r\n");
    } else if (verb == "DATA") {
      if (m.rcpt_to.empty()) {
        open = SendAll(fd, "503 need RCPT first\r\n");
        continue;
      }
      open = SendAll(fd, "354 end data with <CR><LF>.<CR><LF>\r\n");
      std::string data;
      bool ended = false;
      while (open && read_line(&line)) {
        if (line == ".") {
          ended = true;
          break;
        }
        if (!line.empty() && line[0] == '.') line.erase(0, 1);  // dot-unstuffing
        absl::StrAppend(&data, line, "\r\n");
      }
      if (!ended) break;
      m.headers = ParseHeaders(data);
      m.data = std::move(data);
      Finish(fd, client_port, std::move(m));
      m = Message();
    } else if (verb == "RSET") {
      m = Message();
      open = SendAll(fd, "250 OK\r\n");
    } else if (verb == "NOOP") {
      open = SendAll(fd, "250 OK\r\n");
    } else if (verb == "QUIT") {
      SendAll(fd, "221 bye\r\n");
      break;
    } else {
      open = SendAll(fd, "502 command not implemented\r\n");
    }
  }
  ::close(fd);
}

void SmtpTrap::Finish(int fd, int client_port, Message m) {
  absl::StatusOr<pid_t> sender = LoopbackClientPid(client_port, port_);
  if (sender.ok()) m.sender = *sender;
  if (armed_.exchange(false)) {
    absl::Status stopped = sender.ok() ? StopProcess(*sender) : sender.status();
    if (!stopped.ok()) {
      SendAll(fd, "451 4.3.0 the trap could not stop the sender\r\n");
      std::lock_guard<std::mutex> lock(mu_);
      trap_error_ = stopped.ToString();
      cv_.notify_all();
      return;
    }
    // The sender is stopped: the 250 waits in its socket, unread, until it dies.
    SendAll(fd, "250 2.0.0 accepted\r\n");
    absl::Status killed = KillProcess(*sender);
    std::lock_guard<std::mutex> lock(mu_);
    if (!killed.ok()) trap_error_ = killed.ToString();
    m.trapped = killed.ok();
    messages_.push_back(std::move(m));
    cv_.notify_all();
    return;
  }
  SendAll(fd, "250 2.0.0 accepted\r\n");
  std::lock_guard<std::mutex> lock(mu_);
  messages_.push_back(std::move(m));
  cv_.notify_all();
}

}  // namespace anken::reliability
