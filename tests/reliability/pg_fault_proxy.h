#pragma once
// A PostgreSQL wire-protocol aware TCP proxy for the reliability suite. A service reaches
// Postgres through it (its database URL names the proxy's port, sslmode=disable), so a test
// can fault the link, or kill the service at an exact statement, without a hook in
// production code.
//
// Contract:
// - It forwards both ways, the client's stream one whole message at a time: it parses it (the
//   untyped startup packet first, again after an SSL/GSS request; then 1 type byte + int32
//   length each) and counts statement round trips, the Sync ('S') and simple Query ('Q')
//   messages, over all connections.
// - ArmFault(n, when, fault): when the n-th statement message counted after arming arrives,
//   `fault` runs on the proxy's thread (a SIGKILL of the service). kBeforeForwarding drops
//   that message; kAfterForwarding forwards it first, so the server executes it (a COMMIT
//   commits) while its reply never reaches the client. From then on every byte of every
//   connection then open is dropped; Reset() disarms for the next run.
// - SetDelay(d): every chunk either way is forwarded d after it arrived, in order (a slow
//   link). Blackhole(): every byte of every connection, and of new ones, is read and dropped
//   (the database neither hears nor answers). BlackholeAfter(needle): a connection is
//   blackholed once the round trip of a statement whose text contains `needle` has been
//   forwarded (a simple Query, a Parse, or a Bind of a statement prepared with such text), so
//   the statement runs on the server while its answer is lost. A blackholed
//   connection stays so (its lost bytes cannot be given back, as after a partition from a
//   database host that failed over); Normal() heals the link for the others and new ones.
// - A close (EOF) on either side is always passed on as a half-close after what is queued,
//   so the server sees a client that went away and executes what it already received.
// - The destructor stops and joins every thread.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace anken::reliability {

class PgFaultProxy {
 public:
  enum class When { kBeforeForwarding, kAfterForwarding };

  static absl::StatusOr<std::unique_ptr<PgFaultProxy>> Start(int upstream_port);
  ~PgFaultProxy();
  PgFaultProxy(const PgFaultProxy&) = delete;
  PgFaultProxy& operator=(const PgFaultProxy&) = delete;

  int port() const { return port_; }
  // `database_url` (postgresql://user@host:port/db[?...]) pointed at the proxy, with
  // sslmode=disable and gssencmode=disable so the stream stays readable, and `extra`
  // parameters ("application_name=x") when given.
  std::string Url(const std::string& database_url, const std::string& extra = "") const;

  // Statement messages counted since Start or the last Reset().
  int64_t statements() const;
  // Disarms, zeroes the count and ends the dropping that a fired fault began (connections
  // open at the fault stay dropped).
  void Reset();
  void ArmFault(int64_t nth, When when, std::function<void()> fault);
  // True once the armed fault has run (and returned).
  bool fired() const;
  // Waits until the fault has run; false after `timeout`.
  bool WaitFired(absl::Duration timeout);

  void SetDelay(absl::Duration delay);
  void Blackhole();
  void BlackholeAfter(const std::string& needle);
  // No delay, no blackhole for new traffic (blackholed connections stay so).
  void Normal();
  // Connections blackholed so far, and connections open now.
  int blackholed() const;
  int open_connections() const;

 private:
  struct Conn;
  PgFaultProxy() = default;
  void AcceptLoop();
  void Pump(std::shared_ptr<Conn> c);
  // Handles one whole client message; false when the connection must end.
  bool ClientMessage(Conn& c, std::string msg, bool typed);
  bool Dropping(const Conn& c) const;

  int listen_fd_ = -1;
  int port_ = 0;
  int upstream_port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;

  mutable std::mutex mu_;
  std::condition_variable fired_cv_;
  std::vector<std::shared_ptr<Conn>> conns_;  // guarded by mu_
  std::vector<std::thread> threads_;          // guarded by mu_
  int64_t count_ = 0;                         // guarded by mu_
  int64_t arm_at_ = 0;                        // 0: not armed; guarded by mu_
  When arm_when_ = When::kBeforeForwarding;   // guarded by mu_
  std::function<void()> fault_;               // guarded by mu_
  bool fault_done_ = false;                   // guarded by mu_
  bool faulted_ = false;  // a fault fired: new connections are dropped too until Reset()
  absl::Duration delay_ = absl::ZeroDuration();  // guarded by mu_
  bool blackhole_all_ = false;                // guarded by mu_
  std::string blackhole_needle_;              // guarded by mu_
  int blackholed_ = 0;                        // guarded by mu_
};

}  // namespace anken::reliability
