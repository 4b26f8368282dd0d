#pragma once
// A fixed-size, thread-safe pool of libpqxx connections, and Transact(): the way services run
// SQL. Nothing here throws: every libpqxx exception becomes an absl::Status (pg_status.h).
//
//   absl::StatusOr<int64_t> n = pool.Transact(deadline, [&](pqxx::work& tx)
//       -> absl::StatusOr<int64_t> { ... return id; });
//
// Contract:
// - Connections are made lazily, on the Acquire that first needs one, so a service starts (and
//   reports NOT_SERVING through Ping) while its database is down. A connection found broken
//   (is_open() false, or a lost connection during use) is discarded when its lease ends and a
//   new one is made on next use. Connect failures are UNAVAILABLE.
// - Acquire waits at most `acquire_timeout` (then UNAVAILABLE "database busy") and never past
//   the caller's deadline (then DEADLINE_EXCEEDED).
// - Transact opens a transaction, sets statement_timeout = min(time left until the deadline,
//   `statement_timeout`) for each statement of it, runs fn, commits when fn returns OK and
//   rolls back otherwise. A deadline already passed is DEADLINE_EXCEEDED without touching the
//   database. Deadlines are wall-clock instants (gRPC's), compared with absl::Now().
// - A connection still waiting for the server 1 s past the deadline (statement_timeout cannot
//   end a statement whose answer never arrives: a partition, a stalled link) has its socket
//   shut down and is discarded; Transact then returns DEADLINE_EXCEEDED. Ping is bounded the
//   same way by ping_timeout.
// - Retries, so fn MAY RUN MORE THAN ONCE and must have no effect outside the transaction:
//   (1) a retryable ABORTED (serialization failure, deadlock, lock timeout) runs the whole
//   transaction again, up to TransactOptions::max_attempts in all; (2) a connection that turns
//   out to be dead before fn started (the server restarted while it sat idle) is replaced and
//   the transaction begun again on a fresh one; fn had not run, so this is always safe. A
//   connection lost while fn runs is UNAVAILABLE (the server rolled the transaction back); lost
//   during COMMIT it is UNAVAILABLE with "outcome is unknown".
// - Ping uses its own connection, not a pooled one, so a busy pool does not make the service
//   look unhealthy.

#include <cstdint>
#include <memory>
#include <pqxx/connection>
#include <pqxx/transaction>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"

namespace anken::db {

struct PoolOptions {
  // A libpq connection string or postgresql:// URI. A connect_timeout is added unless present.
  std::string url;
  // Number of connections, at least 1.
  int size = 4;
  // How long Acquire waits for a free connection before UNAVAILABLE "database busy".
  absl::Duration acquire_timeout = absl::Seconds(5);
  // Upper bound of every statement in Transact; zero or negative: only the deadline bounds it.
  absl::Duration statement_timeout = absl::Seconds(30);
  // Bound of Ping's SELECT 1.
  absl::Duration ping_timeout = absl::Seconds(2);
  // libpq's connect_timeout (whole seconds, at least 2; libpq rounds 1 up to 2).
  absl::Duration connect_timeout = absl::Seconds(5);
  // Postgres ends a session that sits this long inside an open transaction
  // (idle_in_transaction_session_timeout, set on every new connection). A process frozen
  // mid-transaction (stopped, swapped out, stuck in a peer call) would otherwise hold its row
  // locks until it is killed, blocking every other replica's writes to those rows. Transact
  // never idles that long between statements; zero or negative: no limit.
  absl::Duration idle_in_transaction_limit = absl::Seconds(60);
};

// A snapshot for metrics (gauges and counters); no dependency on any metrics library.
struct PoolStats {
  int size = 0;        // configured connections
  int idle = 0;        // slots free to lease (connected or not yet)
  int in_use = 0;      // leased
  int connected = 0;   // slots holding a connection (idle or in use)
  int waiters = 0;     // Acquire calls waiting for a slot now
  int64_t acquire_timeouts_total = 0;  // Acquire calls that ended in "database busy"
  int64_t reconnects_total = 0;        // connections made to replace a discarded one
};

enum class Isolation { kReadCommitted, kRepeatableRead, kSerializable };

struct TransactOptions {
  Isolation isolation = Isolation::kReadCommitted;
  bool read_only = false;
  // Runs in all, counting the first, when the failure is IsRetryableDbError(). 1: no retry.
  int max_attempts = 3;
  // Our own words for messages and logs ("creating invoice"); never SQL. Must outlive the call.
  absl::string_view what = "database transaction";
};

class Pool {
 private:
  struct Slot {
    std::unique_ptr<pqxx::connection> conn;
    bool had_connection = false;  // a connection was made here before (for reconnects_total)
  };

 public:
  // A leased connection; returned to the pool (or discarded when broken) when destroyed. The
  // Pool must outlive it.
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();

    pqxx::connection& conn() const { return *slot_.conn; }
    // Discard the connection instead of reusing it (its session state is unknown, or it holds
    // a session-level lock that must die with it).
    void MarkBroken() { broken_ = true; }

   private:
    friend class Pool;
    Lease(Pool* pool, Slot slot) : pool_(pool), slot_(std::move(slot)) {}
    void Release();

    Pool* pool_;
    Slot slot_;
    bool broken_ = false;
  };

  // Never throws and never connects; see the contract above.
  explicit Pool(PoolOptions options);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // A connected, open connection. UNAVAILABLE when none frees up within acquire_timeout
  // ("database busy") or connecting fails; DEADLINE_EXCEEDED when the deadline comes first.
  absl::StatusOr<Lease> Acquire(absl::Time deadline = absl::InfiniteFuture());

  // Runs fn(pqxx::work&) -> absl::Status or absl::StatusOr<T> in one transaction and returns
  // what fn returned, or the database error. See the contract above (fn may run again).
  template <typename Fn>
  auto Transact(absl::Time deadline, Fn&& fn, const TransactOptions& options = TransactOptions());

  // SELECT 1 within ping_timeout on the pool's separate health connection. OK: the database
  // answers. Used by the health checker.
  absl::Status Ping();

  PoolStats Stats() const;
  const PoolOptions& options() const { return options_; }

 private:
  absl::Status RunTransaction(absl::Time deadline, const TransactOptions& options,
                              absl::FunctionRef<absl::Status(pqxx::work&)> body);
  absl::Status TryOnce(pqxx::connection& conn, absl::Time deadline,
                       const TransactOptions& options,
                       absl::FunctionRef<absl::Status(pqxx::work&)> body, bool* body_started);
  void Release(Slot slot, bool broken);
  bool HasFreeSlot() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !free_.empty(); }

  const PoolOptions options_;
  const std::string conn_string_;  // url with connect_timeout

  mutable absl::Mutex mu_;
  std::vector<Slot> free_ ABSL_GUARDED_BY(mu_);  // LIFO, so warm connections are reused first
  int in_use_ ABSL_GUARDED_BY(mu_) = 0;
  int waiters_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t acquire_timeouts_total_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t reconnects_total_ ABSL_GUARDED_BY(mu_) = 0;

  absl::Mutex ping_mu_;
  std::unique_ptr<pqxx::connection> ping_conn_ ABSL_GUARDED_BY(ping_mu_);
};

// OK when `name` is a plain lower-case SQL identifier ([a-z_][a-z0-9_]*, at most 63 bytes,
// not pg_*), the only schema names the db layer pastes into SQL (quoted as well).
absl::Status CheckSchemaName(absl::string_view name);

// `url` with libpq's connect_timeout added (URI or keyword/value form) unless already set.
std::string WithConnectTimeout(const std::string& url, absl::Duration timeout);

namespace internal {
template <typename T>
struct IsStatusOr : std::false_type {};
template <typename T>
struct IsStatusOr<absl::StatusOr<T>> : std::true_type {};
}  // namespace internal

template <typename Fn>
auto Pool::Transact(absl::Time deadline, Fn&& fn, const TransactOptions& options) {
  using R = std::decay_t<std::invoke_result_t<Fn&, pqxx::work&>>;
  if constexpr (std::is_same_v<R, absl::Status>) {
    return RunTransaction(deadline, options, [&fn](pqxx::work& tx) { return fn(tx); });
  } else {
    static_assert(internal::IsStatusOr<R>::value,
                  "Transact: fn must return absl::Status or absl::StatusOr<T>");
    absl::optional<typename R::value_type> value;
    absl::Status status =
        RunTransaction(deadline, options, [&fn, &value](pqxx::work& tx) -> absl::Status {
          value.reset();  // a retried attempt starts afresh
          R result = fn(tx);
          if (!result.ok()) return result.status();
          value.emplace(*std::move(result));
          return absl::OkStatus();
        });
    if (!status.ok()) return R(std::move(status));
    return R(*std::move(value));
  }
}

}  // namespace anken::db
