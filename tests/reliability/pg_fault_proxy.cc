#include "tests/reliability/pg_fault_proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/reliability/loopback.h"

namespace anken::reliability {
namespace {

// The codes of the untyped requests after which the client sends another untyped packet
// (SSLRequest, GSSENCRequest); CancelRequest ends the connection anyway.
constexpr uint32_t kSslRequest = 80877103;
constexpr uint32_t kGssEncRequest = 80877104;

uint32_t BigEndian32(const std::string& s, size_t at) {
  return (static_cast<uint32_t>(static_cast<unsigned char>(s[at])) << 24) |
         (static_cast<uint32_t>(static_cast<unsigned char>(s[at + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<unsigned char>(s[at + 2])) << 8) |
         static_cast<uint32_t>(static_cast<unsigned char>(s[at + 3]));
}

bool SendAll(int fd, const std::string& bytes) {
  for (size_t off = 0; off < bytes.size();) {
    const ssize_t w = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    off += static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

struct PgFaultProxy::Conn {
  struct Chunk {
    absl::Time due;
    std::string bytes;
  };
  int client = -1;
  int server = -1;
  std::string in;           // client bytes not yet a whole message
  bool typed = false;       // past the untyped startup packet(s)
  bool dropped = false;     // guarded by mu_: every byte read from now on is dropped
  bool pending_blackhole = false;  // guarded by mu_: a needle matched in this round trip
  std::map<std::string, std::string> prepared;  // guarded by mu_: named statements' text
  std::deque<Chunk> to_server;
  std::deque<Chunk> to_client;
  bool client_eof = false;
  bool server_eof = false;
  bool server_shut = false;
  bool client_shut = false;

  // Sends every chunk due by `now` (all when `now` is InfiniteFuture), in order.
  static bool Flush(std::deque<Chunk>& q, int fd, absl::Time now) {
    while (!q.empty() && q.front().due <= now) {
      if (!SendAll(fd, q.front().bytes)) return false;
      q.pop_front();
    }
    return true;
  }
  static void Enqueue(std::deque<Chunk>& q, std::string bytes, absl::Time due) {
    if (!q.empty()) due = std::max(due, q.back().due);  // never overtake: the stream is ordered
    q.push_back(Chunk{due, std::move(bytes)});
  }
};

absl::StatusOr<std::unique_ptr<PgFaultProxy>> PgFaultProxy::Start(int upstream_port) {
  std::unique_ptr<PgFaultProxy> p(new PgFaultProxy());
  p->upstream_port_ = upstream_port;
  absl::StatusOr<LoopbackSocket> listening = ListenOnLoopback(128, "pg proxy");
  if (!listening.ok()) return listening.status();
  p->listen_fd_ = listening->fd;
  p->port_ = listening->port;
  p->acceptor_ = std::thread([raw = p.get()] { raw->AcceptLoop(); });
  return p;
}

PgFaultProxy::~PgFaultProxy() {
  stop_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

std::string PgFaultProxy::Url(const std::string& database_url, const std::string& extra) const {
  // postgresql://[user@]host:port/db[?params]: replace host:port.
  const size_t scheme = database_url.find("://");
  const size_t authority = scheme == std::string::npos ? 0 : scheme + 3;
  const size_t slash = database_url.find('/', authority);
  const size_t at = database_url.rfind('@', slash);
  const size_t host = at == std::string::npos || at < authority ? authority : at + 1;
  std::string url = absl::StrCat(database_url.substr(0, host), "127.0.0.1:", port_,
                                 database_url.substr(slash));
  absl::StrAppend(&url, url.find('?') == std::string::npos ? "?" : "&",
                  "sslmode=disable&gssencmode=disable");
  if (!extra.empty()) absl::StrAppend(&url, "&", extra);
  return url;
}

int64_t PgFaultProxy::statements() const {
  std::lock_guard<std::mutex> lock(mu_);
  return count_;
}

void PgFaultProxy::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  count_ = 0;
  arm_at_ = 0;
  fault_ = nullptr;
  fault_done_ = false;
  faulted_ = false;
}

void PgFaultProxy::ArmFault(int64_t nth, When when, std::function<void()> fault) {
  std::lock_guard<std::mutex> lock(mu_);
  arm_at_ = count_ + nth;
  arm_when_ = when;
  fault_ = std::move(fault);
  fault_done_ = false;
}

bool PgFaultProxy::fired() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fault_done_;
}

bool PgFaultProxy::WaitFired(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return fired_cv_.wait_for(lock, absl::ToChronoMilliseconds(timeout),
                            [this] { return fault_done_; });
}

void PgFaultProxy::SetDelay(absl::Duration delay) {
  std::lock_guard<std::mutex> lock(mu_);
  delay_ = delay;
}

void PgFaultProxy::Blackhole() {
  std::lock_guard<std::mutex> lock(mu_);
  blackhole_all_ = true;
  for (auto& c : conns_) {
    if (!c->dropped) ++blackholed_;
    c->dropped = true;
  }
}

void PgFaultProxy::BlackholeAfter(const std::string& needle) {
  std::lock_guard<std::mutex> lock(mu_);
  blackhole_needle_ = needle;
}

void PgFaultProxy::Normal() {
  std::lock_guard<std::mutex> lock(mu_);
  delay_ = absl::ZeroDuration();
  blackhole_all_ = false;
  blackhole_needle_.clear();
}

int PgFaultProxy::blackholed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return blackholed_;
}

int PgFaultProxy::open_connections() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(conns_.size());
}

void PgFaultProxy::AcceptLoop() {
  while (!stop_) {
    pollfd pfd{listen_fd_, POLLIN, 0};
    if (::poll(&pfd, 1, 100) <= 0) continue;
    const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    const int server = ConnectToLoopback(upstream_port_);
    if (server < 0) {
      ::close(client);
      continue;
    }
    // Messages go on one at a time: without TCP_NODELAY, Nagle's algorithm and delayed ACKs
    // would add tens of milliseconds to every round trip.
    const int one = 1;
    ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    ::setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    auto c = std::make_shared<Conn>();
    c->client = client;
    c->server = server;
    std::lock_guard<std::mutex> lock(mu_);
    c->dropped = blackhole_all_ || faulted_;
    if (blackhole_all_) ++blackholed_;
    conns_.push_back(c);
    threads_.emplace_back([this, c] { Pump(c); });
  }
}

bool PgFaultProxy::Dropping(const Conn& c) const {
  std::lock_guard<std::mutex> lock(mu_);
  return c.dropped;
}

bool PgFaultProxy::ClientMessage(Conn& c, std::string msg, bool typed) {
  const char type = typed ? msg[0] : '\0';
  const bool counted = type == 'S' || type == 'Q';
  std::function<void()> fault;
  When when = When::kBeforeForwarding;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (c.dropped) return true;
    // Parse (P) and Bind (B) start with NUL-terminated names after the length: P the
    // statement's then its text, B the portal's then the statement's. A named statement also
    // runs on later Binds, so its text is kept by name.
    const size_t first = typed ? msg.find('\0', 5) : std::string::npos;
    if (type == 'P' && first != std::string::npos && first > 5) {
      c.prepared[msg.substr(5, first - 5)] = msg.substr(first + 1);
    }
    if (!blackhole_needle_.empty()) {
      bool match = false;
      if (type == 'Q' || type == 'P') {  // a Parse waits on the table's lock as its run does
        match = msg.find(blackhole_needle_) != std::string::npos;
      } else if (type == 'B' && first != std::string::npos) {
        const size_t second = msg.find('\0', first + 1);
        auto it = second == std::string::npos
                      ? c.prepared.end()
                      : c.prepared.find(msg.substr(first + 1, second - first - 1));
        match = it != c.prepared.end() && it->second.find(blackhole_needle_) != std::string::npos;
      }
      if (match) c.pending_blackhole = true;
    }
    if (counted) {
      ++count_;
      if (arm_at_ > 0 && count_ == arm_at_) {
        fault = std::move(fault_);
        fault_ = nullptr;
        when = arm_when_;
        arm_at_ = 0;
        faulted_ = true;
        for (auto& other : conns_) other->dropped = true;  // the whole process is going
      }
    }
    if (!fault) {
      const absl::Time due = absl::Now() + delay_;
      Conn::Enqueue(c.to_server, std::move(msg), due);
      if (counted && c.pending_blackhole) {
        // The round trip of the matching statement is on its way: its answer is lost.
        c.pending_blackhole = false;
        c.dropped = true;
        ++blackholed_;
      }
      return true;
    }
  }
  // The fault: what arrived before this message goes first, as it would on a wire.
  bool ok = Conn::Flush(c.to_server, c.server, absl::InfiniteFuture());
  if (ok && when == When::kAfterForwarding) ok = SendAll(c.server, msg);
  if (fault) fault();
  {
    std::lock_guard<std::mutex> lock(mu_);
    fault_done_ = true;
  }
  fired_cv_.notify_all();
  return ok;
}

void PgFaultProxy::Pump(std::shared_ptr<Conn> c) {
  std::string buf(65536, '\0');
  bool ok = true;
  while (ok && !stop_) {
    const absl::Time now = absl::Now();
    if (!Conn::Flush(c->to_server, c->server, now) || !Conn::Flush(c->to_client, c->client, now)) {
      break;
    }
    if (c->client_eof && c->to_server.empty() && !c->server_shut) {
      ::shutdown(c->server, SHUT_WR);
      c->server_shut = true;
    }
    if (c->server_eof && c->to_client.empty() && !c->client_shut) {
      ::shutdown(c->client, SHUT_WR);
      c->client_shut = true;
    }
    if (c->server_shut && c->client_shut) break;

    absl::Time next = now + absl::Milliseconds(50);
    if (!c->to_server.empty()) next = std::min(next, c->to_server.front().due);
    if (!c->to_client.empty()) next = std::min(next, c->to_client.front().due);
    const int wait_ms = static_cast<int>(std::max<int64_t>(
        0, absl::ToInt64Milliseconds(absl::Ceil(next - now, absl::Milliseconds(1)))));
    pollfd fds[2] = {{c->client_eof ? -1 : c->client, POLLIN, 0},
                     {c->server_eof ? -1 : c->server, POLLIN, 0}};
    if (::poll(fds, 2, wait_ms) <= 0) continue;

    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      const ssize_t n = ::read(c->client, buf.data(), buf.size());
      if (n <= 0) {
        c->client_eof = true;
      } else if (!Dropping(*c)) {
        c->in.append(buf.data(), static_cast<size_t>(n));
        // Whole messages only: the untyped startup packet(s), then type + int32 length.
        while (ok) {
          size_t size;
          if (!c->typed) {
            if (c->in.size() < 8) break;
            size = BigEndian32(c->in, 0);
          } else {
            if (c->in.size() < 5) break;
            size = 1 + static_cast<size_t>(BigEndian32(c->in, 1));
          }
          if (size < 4 || c->in.size() < size) break;
          std::string msg = c->in.substr(0, size);
          c->in.erase(0, size);
          const bool typed = c->typed;
          if (!typed) {
            const uint32_t code = BigEndian32(msg, 4);
            c->typed = code != kSslRequest && code != kGssEncRequest;
          }
          ok = ClientMessage(*c, std::move(msg), typed);
        }
      }
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      const ssize_t n = ::read(c->server, buf.data(), buf.size());
      if (n <= 0) {
        c->server_eof = true;
      } else {
        std::lock_guard<std::mutex> lock(mu_);
        if (!c->dropped) {
          Conn::Enqueue(c->to_client, std::string(buf.data(), static_cast<size_t>(n)),
                        absl::Now() + delay_);
        }
      }
    }
  }
  ::close(c->client);
  ::close(c->server);
  std::lock_guard<std::mutex> lock(mu_);
  conns_.erase(std::remove(conns_.begin(), conns_.end(), c), conns_.end());
}

}  // namespace anken::reliability
