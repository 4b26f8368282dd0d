#include "common/db/pool.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <pqxx/nontransaction>
#include <thread>
#include <pqxx/pqxx>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/db/pg_status.h"
#include "common/db/prepared.h"
#include "common/log/log.h"
#include "common/status/status_macros.h"

namespace anken::db {
namespace {

// statement_timeout for a transaction: the time left, capped by the configured default;
// absl::InfiniteDuration() when neither bounds it.
absl::Duration StatementTimeout(absl::Time deadline, absl::Duration configured) {
  absl::Duration remaining = deadline - absl::Now();
  absl::Duration bound = configured > absl::ZeroDuration() ? configured : absl::InfiniteDuration();
  return std::min(remaining, bound);
}

// Whole milliseconds, rounded up and at least 1: 0 would switch the timeout off.
std::string TimeoutSetting(absl::Duration timeout) {
  int64_t ms = absl::ToInt64Milliseconds(absl::Ceil(timeout, absl::Milliseconds(1)));
  return absl::StrCat(std::max<int64_t>(ms, 1));
}

// The statement that makes a read-committed transaction read-only and bounds its statements,
// in one round trip: set_config(..., true) is SET LOCAL, and transaction_read_only is what
// SET TRANSACTION READ ONLY sets (Postgres allows it at any point; the isolation level, by
// contrast, must be set before the first query, which a SELECT is). Both run prepared: every
// transaction runs one of them.
constexpr char kReadOnlyWithTimeout[] =
    "SELECT set_config('transaction_read_only', 'on', true), "
    "set_config('statement_timeout', $1, true)";
constexpr char kTimeout[] = "SELECT set_config('statement_timeout', $1, true)";

absl::Status Connect(const std::string& conn_string, absl::Duration idle_in_transaction_limit,
                     std::unique_ptr<pqxx::connection>* out) {
  try {
    *out = std::make_unique<pqxx::connection>(conn_string);
    if (idle_in_transaction_limit > absl::ZeroDuration()) {
      pqxx::nontransaction tx(**out);
      const int64_t ms = std::max<int64_t>(1, absl::ToInt64Milliseconds(idle_in_transaction_limit));
      tx.exec0(absl::StrCat("SET idle_in_transaction_session_timeout = ", ms));
    }
    return absl::OkStatus();
  } catch (const std::exception& e) {
    // Whatever libpqxx throws here (refused, auth, bad URI), the database is not usable.
    StatusFromException(e, "connecting to the database").IgnoreError();  // logs the cause
    return absl::UnavailableError("database unavailable");
  }
}

// How long past a caller's deadline a connection may stay silent before it is cut. The
// server's statement_timeout (set from the deadline) normally answers well within it.
constexpr absl::Duration kDeadlineGrace = absl::Seconds(1);

// Cuts (shutdown(2)) the sockets of connections still in use past their time. Postgres'
// statement_timeout ends a statement that runs too long, but not one whose answer never
// arrives: behind a partition or a stalled link libpq waits for it forever (keepalives do not
// help while the path still acknowledges), holding the caller and the pool slot. A cut socket
// makes the blocked read fail at once, so the connection is discarded. One thread for the
// process, started on first use; the socket's inode is checked before the cut, so a
// descriptor closed and reused meanwhile is never touched.
class SocketWatchdog {
 public:
  static SocketWatchdog& Get() {
    static SocketWatchdog* const watchdog = new SocketWatchdog();  // its thread outlives main
    return *watchdog;
  }

  // A watch to end with Unwatch; 0 (nothing watched) when `at` is infinite.
  uint64_t Watch(int fd, absl::Time at) {
    struct stat st;
    if (at == absl::InfiniteFuture() || fd < 0 || ::fstat(fd, &st) != 0) return 0;
    absl::MutexLock lock(&mu_);
    const uint64_t id = next_id_++;
    entries_.emplace(id, Entry{fd, st.st_ino, at, false});
    if (!started_) {
      started_ = true;
      std::thread([this] { Loop(); }).detach();
    }
    if (at < wake_at_) cv_.Signal();
    return id;
  }

  // True when the socket was cut (the connection is dead).
  bool Unwatch(uint64_t id) {
    if (id == 0) return false;
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return false;
    const bool cut = it->second.cut;
    entries_.erase(it);
    return cut;
  }

 private:
  struct Entry {
    int fd;
    ino_t inode;
    absl::Time at;
    bool cut;
  };

  void Loop() {
    absl::MutexLock lock(&mu_);
    for (;;) {
      const absl::Time now = absl::Now();
      wake_at_ = absl::InfiniteFuture();
      for (auto& [id, e] : entries_) {
        if (e.cut) continue;
        if (e.at > now) {
          wake_at_ = std::min(wake_at_, e.at);
          continue;
        }
        struct stat st;
        if (::fstat(e.fd, &st) == 0 && st.st_ino == e.inode) ::shutdown(e.fd, SHUT_RDWR);
        e.cut = true;
        log::Warn("database connection silent past the deadline; closed")
            .Int("late_ms", absl::ToInt64Milliseconds(now - e.at + kDeadlineGrace));
      }
      cv_.WaitWithDeadline(&mu_, wake_at_);
    }
  }

  absl::Mutex mu_;
  absl::CondVar cv_;
  std::map<uint64_t, Entry> entries_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  absl::Time wake_at_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  bool started_ ABSL_GUARDED_BY(mu_) = false;
};

// Watches a connection's socket while it lives; Stop() says whether it was cut.
class DeadlineCut {
 public:
  DeadlineCut(pqxx::connection& conn, absl::Time deadline)
      : id_(SocketWatchdog::Get().Watch(conn.sock(), deadline + kDeadlineGrace)) {}
  ~DeadlineCut() { (void)Stop(); }
  DeadlineCut(const DeadlineCut&) = delete;
  DeadlineCut& operator=(const DeadlineCut&) = delete;
  bool Stop() { return SocketWatchdog::Get().Unwatch(std::exchange(id_, 0)); }

 private:
  uint64_t id_;
};

}  // namespace

absl::Status CheckSchemaName(absl::string_view name) {
  bool ok = !name.empty() && name.size() <= 63 && !absl::StartsWith(name, "pg_") &&
            (absl::ascii_islower(name[0]) || name[0] == '_');
  for (char c : name) {
    ok = ok && (absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_');
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("schema name \"", absl::CEscape(name),
                     "\" is not a plain identifier [a-z_][a-z0-9_]*"));
  }
  return absl::OkStatus();
}

std::string WithConnectTimeout(const std::string& url, absl::Duration timeout) {
  if (absl::StrContains(url, "connect_timeout")) return url;
  int64_t seconds = std::max<int64_t>(
      2, absl::ToInt64Seconds(absl::Ceil(timeout, absl::Seconds(1))));
  std::string param = absl::StrCat("connect_timeout=", seconds);
  if (absl::StartsWith(url, "postgresql://") || absl::StartsWith(url, "postgres://")) {
    return absl::StrCat(url, absl::StrContains(url, "?") ? "&" : "?", param);
  }
  return url.empty() ? param : absl::StrCat(url, " ", param);
}

// --- Lease ---------------------------------------------------------------------------------

Pool::Lease::Lease(Lease&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)),
      slot_(std::move(other.slot_)),
      broken_(other.broken_) {}

Pool::Lease& Pool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Release();
    pool_ = std::exchange(other.pool_, nullptr);
    slot_ = std::move(other.slot_);
    broken_ = other.broken_;
  }
  return *this;
}

Pool::Lease::~Lease() { Release(); }

void Pool::Lease::Release() {
  if (pool_ == nullptr) return;
  std::exchange(pool_, nullptr)->Release(std::move(slot_), broken_);
}

// --- Pool ----------------------------------------------------------------------------------

Pool::Pool(PoolOptions options)
    : options_([&] {
        options.size = std::max(options.size, 1);
        return std::move(options);
      }()),
      conn_string_(WithConnectTimeout(options_.url, options_.connect_timeout)) {
  free_.resize(options_.size);
}

Pool::~Pool() = default;

absl::StatusOr<Pool::Lease> Pool::Acquire(absl::Time deadline) {
  absl::Time now = absl::Now();
  if (deadline <= now) {
    return absl::DeadlineExceededError("deadline exceeded before a database connection was free");
  }
  absl::Time busy_at = now + options_.acquire_timeout;
  Slot slot;
  {
    absl::MutexLock lock(&mu_);
    if (free_.empty()) {
      ++waiters_;
      bool got = mu_.AwaitWithDeadline(absl::Condition(this, &Pool::HasFreeSlot),
                                       std::min(busy_at, deadline));
      --waiters_;
      if (!got) {
        if (deadline < busy_at) {
          return absl::DeadlineExceededError(
              "deadline exceeded while waiting for a database connection");
        }
        ++acquire_timeouts_total_;
        log::Warn("database pool exhausted")
            .Int("size", options_.size)
            .Int("acquire_timeout_ms", absl::ToInt64Milliseconds(options_.acquire_timeout));
        return absl::UnavailableError("database busy");
      }
    }
    slot = std::move(free_.back());
    free_.pop_back();
    ++in_use_;
  }
  // Connecting happens outside the lock, so one slow connect does not stall the others.
  if (slot.conn != nullptr && !slot.conn->is_open()) slot.conn.reset();
  if (slot.conn == nullptr) {
    absl::Status s = Connect(conn_string_, options_.idle_in_transaction_limit, &slot.conn);
    if (!s.ok()) {
      Release(std::move(slot), /*broken=*/true);
      return s;
    }
    if (slot.had_connection) {
      absl::MutexLock lock(&mu_);
      ++reconnects_total_;
    }
    slot.had_connection = true;
  }
  return Lease(this, std::move(slot));
}

void Pool::Release(Slot slot, bool broken) {
  if (slot.conn != nullptr && (broken || !slot.conn->is_open())) {
    slot.conn.reset();  // closes the session before the slot is offered again
  }
  absl::MutexLock lock(&mu_);
  --in_use_;
  free_.push_back(std::move(slot));
}

PoolStats Pool::Stats() const {
  absl::MutexLock lock(&mu_);
  PoolStats s;
  s.size = options_.size;
  s.idle = static_cast<int>(free_.size());
  s.in_use = in_use_;
  s.connected = in_use_;
  for (const Slot& slot : free_) s.connected += slot.conn != nullptr ? 1 : 0;
  s.waiters = waiters_;
  s.acquire_timeouts_total = acquire_timeouts_total_;
  s.reconnects_total = reconnects_total_;
  return s;
}

absl::Status Pool::RunTransaction(absl::Time deadline, const TransactOptions& options,
                                  absl::FunctionRef<absl::Status(pqxx::work&)> body) {
  const int max_attempts = std::max(options.max_attempts, 1);
  int attempts = 0;
  int stale_connections = 0;
  while (true) {
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(options.what, ": deadline exceeded"));
    }
    absl::StatusOr<Lease> lease = Acquire(deadline);
    if (!lease.ok()) {
      return absl::Status(lease.status().code(),
                          absl::StrCat(options.what, ": ", lease.status().message()));
    }
    bool body_started = false;
    DeadlineCut cut(lease->conn(), deadline);
    absl::Status status = TryOnce(lease->conn(), deadline, options, body, &body_started);
    if (cut.Stop()) {
      lease->MarkBroken();
      if (!status.ok()) {
        return absl::DeadlineExceededError(
            absl::StrCat(options.what, ": the database did not answer before the deadline"));
      }
    }
    if (status.ok()) return status;
    if (!lease->conn().is_open()) {
      lease->MarkBroken();
      // Dead before fn ran: nothing happened, so begin again on a fresh connection. Bounded
      // by the pool size (after a server restart every idle connection is dead).
      if (!body_started && stale_connections < options_.size) {
        ++stale_connections;
        continue;
      }
    }
    ++attempts;
    if (!IsRetryableDbError(status) || attempts >= max_attempts) return status;
    log::Info("retrying transaction").Str("during", options.what).Int("attempt", attempts + 1);
  }
}

absl::Status Pool::TryOnce(pqxx::connection& conn, absl::Time deadline,
                           const TransactOptions& options,
                           absl::FunctionRef<absl::Status(pqxx::work&)> body,
                           bool* body_started) {
  absl::Duration timeout = StatementTimeout(deadline, options_.statement_timeout);
  if (timeout <= absl::ZeroDuration()) {
    return absl::DeadlineExceededError(absl::StrCat(options.what, ": deadline exceeded"));
  }
  try {
    pqxx::work tx(conn);
    // At most two round trips of settings, one in the common cases (read-committed).
    const bool bounded = timeout != absl::InfiniteDuration();
    bool read_only_set = false;
    switch (options.isolation) {  // SET TRANSACTION must come before any query
      case Isolation::kReadCommitted:
        break;
      case Isolation::kRepeatableRead:
        tx.exec0(options.read_only ? "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"
                                   : "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
        read_only_set = true;
        break;
      case Isolation::kSerializable:
        tx.exec0(options.read_only ? "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE READ ONLY"
                                   : "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE");
        read_only_set = true;
        break;
    }
    if (options.read_only && !read_only_set && bounded) {
      ExecPrepared(tx, kReadOnlyWithTimeout, TimeoutSetting(timeout));
    } else {
      if (options.read_only && !read_only_set) tx.exec0("SET TRANSACTION READ ONLY");
      if (bounded) ExecPrepared(tx, kTimeout, TimeoutSetting(timeout));
    }
    *body_started = true;
    absl::Status status = body(tx);
    if (!status.ok()) {
      try {
        tx.abort();
      } catch (const std::exception&) {
        // The connection is gone; the server rolls back on its own. fn's status matters more.
      }
      return status;
    }
    tx.commit();
    return absl::OkStatus();
  } catch (const std::exception& e) {
    return StatusFromException(e, options.what);
  } catch (...) {
    log::Error("non-standard exception in a transaction").Str("during", options.what);
    return absl::InternalError(absl::StrCat(options.what, ": internal error"));
  }
}

absl::Status Pool::Ping() {
  absl::MutexLock lock(&ping_mu_);
  // Two tries: the kept connection may have died with a server restart while the database
  // itself is fine again; only a fresh connection's failure says the database is down.
  absl::Status status;
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool fresh = false;
    if (ping_conn_ != nullptr && !ping_conn_->is_open()) ping_conn_.reset();
    if (ping_conn_ == nullptr) {
      RETURN_IF_ERROR(Connect(conn_string_, absl::ZeroDuration(), &ping_conn_));
      fresh = true;
    }
    DeadlineCut cut(*ping_conn_, absl::Now() + options_.ping_timeout);
    try {
      pqxx::nontransaction tx(*ping_conn_);
      tx.exec_params("SELECT set_config('statement_timeout', $1, false)",
                     TimeoutSetting(options_.ping_timeout));
      tx.exec1("SELECT 1");
      return absl::OkStatus();
    } catch (const std::exception& e) {
      status = StatusFromException(e, "pinging the database");
    }
    if (ping_conn_->is_open() || fresh) break;
  }
  if (ping_conn_ != nullptr && !ping_conn_->is_open()) ping_conn_.reset();
  return status;
}

}  // namespace anken::db
