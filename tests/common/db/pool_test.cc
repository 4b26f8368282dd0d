// Pool and Transact against a real Postgres (a fresh database per test).

#include "common/db/pool.h"

#include <signal.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <pqxx/pqxx>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/types/optional.h"
#include "tests/support/test_database.h"

namespace anken::db {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Waits, without sleeping, until `done` holds; fails the test after `limit`.
template <typename Pred>
bool Eventually(Pred done, absl::Duration limit = absl::Seconds(20)) {
  absl::Time until = absl::Now() + limit;
  while (!done()) {
    if (absl::Now() > until) return false;
    std::this_thread::yield();
  }
  return true;
}

class PoolTest : public ::testing::Test {
 protected:
  PoolOptions Options(int size = 2) {
    PoolOptions o;
    o.url = db_.url();
    o.size = size;
    return o;
  }

  // Ends a backend from outside, as a server restart or an admin would, and waits until it
  // is gone (PostgreSQL 14+: the timeout argument).
  void Terminate(int pid) {
    pqxx::connection c(db_.url());
    pqxx::nontransaction tx(c);
    ASSERT_TRUE(tx.exec_params1("SELECT pg_terminate_backend($1, 10000)", pid)[0].as<bool>());
  }

  int64_t Count(const std::string& table) {
    pqxx::connection c(db_.url());
    pqxx::nontransaction tx(c);
    return tx.exec1("SELECT count(*) FROM " + table)[0].as<int64_t>();
  }

  absl::Status CreateTable(Pool& pool) {
    return pool.Transact(absl::InfiniteFuture(), [](pqxx::work& tx) {
      tx.exec0("CREATE TABLE notes (id integer PRIMARY KEY, text text NOT NULL)");
      return absl::OkStatus();
    });
  }

  testing::ScratchDatabase db_{"pool"};
};

absl::StatusOr<int> BackendPid(Pool& pool) {
  return pool.Transact(absl::InfiniteFuture(), [](pqxx::work& tx) -> absl::StatusOr<int> {
    return tx.exec1("SELECT pg_backend_pid()")[0].as<int>();
  });
}

TEST_F(PoolTest, CommitsOnOkAndRollsBackOnError) {
  Pool pool(Options());
  ASSERT_TRUE(CreateTable(pool).ok());

  absl::StatusOr<int> id = pool.Transact(absl::Now() + absl::Seconds(30),
                                         [](pqxx::work& tx) -> absl::StatusOr<int> {
    tx.exec_params0("INSERT INTO notes (id, text) VALUES ($1, $2)", 1, "kept");
    return 1;
  });
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, 1);

  absl::Status failed = pool.Transact(absl::InfiniteFuture(), [](pqxx::work& tx) {
    tx.exec_params0("INSERT INTO notes (id, text) VALUES ($1, $2)", 2, "rolled back");
    return absl::FailedPreconditionError("rule broken after the insert");
  });
  // fn's own status comes back unchanged, and its insert is gone.
  EXPECT_EQ(failed, absl::FailedPreconditionError("rule broken after the insert"));

  absl::StatusOr<int> failed_or = pool.Transact(absl::InfiniteFuture(),
                                                [](pqxx::work& tx) -> absl::StatusOr<int> {
    tx.exec_params0("INSERT INTO notes (id, text) VALUES ($1, $2)", 3, "rolled back too");
    return absl::NotFoundError("customer");
  });
  EXPECT_EQ(failed_or.status().code(), absl::StatusCode::kNotFound);

  EXPECT_EQ(Count("notes"), 1);
  PoolStats stats = pool.Stats();
  EXPECT_EQ(stats.in_use, 0);
  EXPECT_EQ(stats.idle, 2);
}

TEST_F(PoolTest, PassedDeadlineFailsWithoutTouchingTheDatabase) {
  Pool pool(Options());
  bool ran = false;
  absl::Status s = pool.Transact(absl::Now() - absl::Milliseconds(1), [&](pqxx::work&) {
    ran = true;
    return absl::OkStatus();
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_FALSE(ran);
  EXPECT_EQ(pool.Stats().connected, 0);  // lazy: no connection was ever made
}

TEST_F(PoolTest, AcquireTimesOutWithDatabaseBusy) {
  PoolOptions options = Options(/*size=*/1);
  options.acquire_timeout = absl::Milliseconds(300);
  Pool pool(options);

  absl::Notification holding;
  absl::Notification release;
  std::thread holder([&] {
    absl::Status s = pool.Transact(absl::InfiniteFuture(), [&](pqxx::work& tx) {
      tx.exec("SELECT 1");
      holding.Notify();
      release.WaitForNotification();
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
  });
  holding.WaitForNotification();
  EXPECT_EQ(pool.Stats().in_use, 1);
  EXPECT_EQ(pool.Stats().idle, 0);

  bool ran = false;
  absl::Time start = absl::Now();
  absl::Status busy = pool.Transact(absl::InfiniteFuture(), [&](pqxx::work&) {
    ran = true;
    return absl::OkStatus();
  });
  absl::Duration waited = absl::Now() - start;
  EXPECT_EQ(busy.code(), absl::StatusCode::kUnavailable) << busy;
  EXPECT_THAT(std::string(busy.message()), HasSubstr("database busy"));
  EXPECT_FALSE(ran);
  EXPECT_GE(waited, absl::Milliseconds(290));
  EXPECT_LT(waited, absl::Milliseconds(300) + absl::Seconds(2));
  EXPECT_EQ(pool.Stats().acquire_timeouts_total, 1);

  // A caller deadline shorter than the acquire timeout wins, with its own code.
  absl::StatusOr<Pool::Lease> lease = pool.Acquire(absl::Now() + absl::Milliseconds(50));
  EXPECT_EQ(lease.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(pool.Stats().acquire_timeouts_total, 1);

  release.Notify();
  holder.join();
  EXPECT_TRUE(pool.Transact(absl::InfiniteFuture(), [](pqxx::work& tx) {
    tx.exec("SELECT 1");
    return absl::OkStatus();
  }).ok());
}

TEST_F(PoolTest, WaiterGetsTheConnectionWhenItIsReleased) {
  PoolOptions options = Options(/*size=*/1);
  options.acquire_timeout = absl::Seconds(60);
  Pool pool(options);
  absl::optional<Pool::Lease> held;
  {
    absl::StatusOr<Pool::Lease> lease = pool.Acquire();
    ASSERT_TRUE(lease.ok()) << lease.status();
    held.emplace(*std::move(lease));
  }
  absl::StatusOr<int> got;
  std::thread waiter([&] { got = BackendPid(pool); });
  ASSERT_TRUE(Eventually([&] { return pool.Stats().waiters == 1; }));
  held.reset();
  waiter.join();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(pool.Stats().waiters, 0);
  EXPECT_EQ(pool.Stats().acquire_timeouts_total, 0);
}

TEST_F(PoolTest, StatementBeyondTheDeadlineIsDeadlineExceeded) {
  Pool pool(Options());
  absl::Time start = absl::Now();
  absl::Status s = pool.Transact(absl::Now() + absl::Milliseconds(300), [](pqxx::work& tx) {
    tx.exec("SELECT pg_sleep(30)");
    return absl::OkStatus();
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr("pg_sleep")));
  // The connection is still good afterwards.
  EXPECT_TRUE(BackendPid(pool).ok());
}

TEST_F(PoolTest, DefaultStatementTimeoutBoundsAnInfiniteDeadline) {
  PoolOptions options = Options();
  options.statement_timeout = absl::Milliseconds(200);
  Pool pool(options);
  absl::Status s = pool.Transact(absl::InfiniteFuture(), [](pqxx::work& tx) {
    tx.exec("SELECT pg_sleep(30)");
    return absl::OkStatus();
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
}

TEST_F(PoolTest, StatementTimeoutIsTheSmallerOfDeadlineAndDefault) {
  PoolOptions options = Options();
  options.statement_timeout = absl::Seconds(45);
  Pool pool(options);
  auto timeout_ms = [](pqxx::work& tx) -> absl::StatusOr<int64_t> {
    return tx.exec1("SELECT setting::bigint FROM pg_settings WHERE name = 'statement_timeout'")
        [0].as<int64_t>();
  };
  absl::StatusOr<int64_t> unbounded = pool.Transact(absl::InfiniteFuture(), timeout_ms);
  ASSERT_TRUE(unbounded.ok()) << unbounded.status();
  EXPECT_EQ(*unbounded, 45000);

  absl::StatusOr<int64_t> bounded = pool.Transact(absl::Now() + absl::Seconds(10), timeout_ms);
  ASSERT_TRUE(bounded.ok()) << bounded.status();
  EXPECT_LE(*bounded, 10000);
  EXPECT_GT(*bounded, 5000);

  // SET LOCAL: the setting does not leak into the next transaction on the connection.
  absl::StatusOr<int64_t> again = pool.Transact(absl::InfiniteFuture(), timeout_ms);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 45000);
}

// A process frozen inside a transaction must not hold its row locks for good: the server
// ends the session after idle_in_transaction_limit, and another writer gets the row.
TEST_F(PoolTest, ASessionIdleInATransactionIsEndedAndItsLocksReleased) {
  {
    Pool defaults(Options(/*size=*/1));
    absl::StatusOr<std::string> limit =
        defaults.Transact(absl::InfiniteFuture(), [](pqxx::work& tx) -> absl::StatusOr<std::string> {
          return tx.exec1("SHOW idle_in_transaction_session_timeout")[0].as<std::string>();
        });
    ASSERT_TRUE(limit.ok()) << limit.status();
    EXPECT_EQ(*limit, "1min");
  }
  PoolOptions options = Options(/*size=*/1);
  options.idle_in_transaction_limit = absl::Milliseconds(300);
  Pool pool(options);
  ASSERT_TRUE(CreateTable(pool).ok());
  ASSERT_TRUE(pool.Transact(absl::InfiniteFuture(), [](pqxx::work& tx) {
                    tx.exec0("INSERT INTO notes VALUES (1, 'before')");
                    return absl::OkStatus();
                  }).ok());
  std::string other_writer;
  absl::Status frozen = pool.Transact(absl::InfiniteFuture(), [&](pqxx::work& tx) {
    tx.exec0("UPDATE notes SET text = 'frozen' WHERE id = 1");  // holds the row lock
    // While this session sits idle, another writer waits for the row (at most 10 s)...
    pqxx::connection c(db_.url());
    pqxx::nontransaction other(c);
    other.exec0("SET lock_timeout = 10000");
    try {
      other.exec0("UPDATE notes SET text = 'other' WHERE id = 1");
      other_writer = "updated";
    } catch (const std::exception& e) {
      other_writer = e.what();
    }
    tx.exec("SELECT 1");  // ...and the frozen session finds itself ended.
    return absl::OkStatus();
  });
  EXPECT_EQ(other_writer, "updated");
  EXPECT_FALSE(frozen.ok());
  pqxx::connection c(db_.url());
  pqxx::nontransaction tx(c);
  EXPECT_EQ(tx.exec1("SELECT text FROM notes WHERE id = 1")[0].as<std::string>(), "other");
  // The pool replaces the ended connection.
  EXPECT_TRUE(BackendPid(pool).ok());
}

TEST_F(PoolTest, ReconnectsAfterTheBackendIsKilled) {
  Pool pool(Options(/*size=*/1));
  absl::StatusOr<int> first = BackendPid(pool);
  ASSERT_TRUE(first.ok()) << first.status();
  Terminate(*first);

  // The idle connection is dead; the next transaction notices before fn runs and uses a
  // fresh one.
  absl::StatusOr<int> second = BackendPid(pool);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_NE(*second, *first);
  EXPECT_EQ(pool.Stats().reconnects_total, 1);
  EXPECT_EQ(pool.Stats().connected, 1);
}

TEST_F(PoolTest, ConnectionLostDuringFnIsUnavailableAndThenReplaced) {
  Pool pool(Options(/*size=*/1));
  int runs = 0;
  absl::Status s = pool.Transact(absl::InfiniteFuture(), [&](pqxx::work& tx) {
    ++runs;
    Terminate(tx.exec1("SELECT pg_backend_pid()")[0].as<int>());
    tx.exec("SELECT 1");
    return absl::OkStatus();
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_EQ(runs, 1);  // fn had started: not run again behind the caller's back
  EXPECT_TRUE(BackendPid(pool).ok());
  EXPECT_EQ(pool.Stats().reconnects_total, 1);
}

TEST_F(PoolTest, UniqueViolationIsAlreadyExistsWithoutSql) {
  Pool pool(Options());
  ASSERT_TRUE(CreateTable(pool).ok());
  auto insert = [](pqxx::work& tx) {
    tx.exec_params0("INSERT INTO notes (id, text) VALUES ($1, $2)", 7, "x");
    return absl::OkStatus();
  };
  ASSERT_TRUE(pool.Transact(absl::InfiniteFuture(), insert).ok());
  TransactOptions options;
  options.what = "creating note";
  absl::Status s = pool.Transact(absl::InfiniteFuture(), insert, options);
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << s;
  std::string m(s.message());
  EXPECT_EQ(m.rfind("creating note: ", 0), 0u) << m;
  for (const char* leak : {"INSERT", "notes", "duplicate", "unique", "pkey", "ERROR"}) {
    EXPECT_THAT(m, Not(HasSubstr(leak)));
  }
  EXPECT_EQ(Count("notes"), 1);
}

TEST_F(PoolTest, OtherExceptionsFromFnAreInternalAndNeverEscape) {
  Pool pool(Options(/*size=*/1));
  absl::Status s = pool.Transact(absl::InfiniteFuture(), [](pqxx::work& tx) -> absl::Status {
    tx.exec("SELECT 1");
    throw std::out_of_range("secret detail");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr("secret")));
  absl::StatusOr<int> cast = pool.Transact(absl::InfiniteFuture(),
                                           [](pqxx::work& tx) -> absl::StatusOr<int> {
    return tx.exec1("SELECT 'not a number'")[0].as<int>();
  });
  EXPECT_EQ(cast.status().code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(BackendPid(pool).ok());
  EXPECT_EQ(pool.Stats().reconnects_total, 0);
}

TEST_F(PoolTest, RetriesDatabaseConflictsOnlyUpToMaxAttempts) {
  Pool pool(Options());
  ASSERT_TRUE(CreateTable(pool).ok());
  int runs = 0;
  absl::StatusOr<int> ok = pool.Transact(absl::InfiniteFuture(),
                                         [&](pqxx::work& tx) -> absl::StatusOr<int> {
    ++runs;
    tx.exec_params0("INSERT INTO notes (id, text) VALUES ($1, 'x')", runs);
    if (runs == 1) throw pqxx::serialization_failure("could not serialize access");
    return runs;
  });
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(*ok, 2);
  EXPECT_EQ(Count("notes"), 1);  // the first attempt's insert was rolled back

  runs = 0;
  TransactOptions once;
  once.max_attempts = 1;
  absl::Status s = pool.Transact(absl::InfiniteFuture(), [&](pqxx::work&) -> absl::Status {
    ++runs;
    throw pqxx::deadlock_detected("deadlock detected");
  }, once);
  EXPECT_EQ(s.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(runs, 1);

  runs = 0;
  s = pool.Transact(absl::InfiniteFuture(), [&](pqxx::work&) -> absl::Status {
    ++runs;
    throw pqxx::serialization_failure("could not serialize access");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(runs, 3);  // the default max_attempts

  // fn's own ABORTED (a stale etag) is the caller's business: no retry.
  runs = 0;
  s = pool.Transact(absl::InfiniteFuture(), [&](pqxx::work&) {
    ++runs;
    return absl::AbortedError("etag mismatch");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(runs, 1);
}

TEST_F(PoolTest, RealSerializationConflictIsRetried) {
  Pool pool(Options(/*size=*/2));
  ASSERT_TRUE(pool.Transact(absl::InfiniteFuture(), [](pqxx::work& tx) {
    tx.exec0("CREATE TABLE counter (n integer NOT NULL)");
    tx.exec0("INSERT INTO counter VALUES (0)");
    return absl::OkStatus();
  }).ok());
  TransactOptions serializable;
  serializable.isolation = Isolation::kSerializable;

  // A reads the counter, B commits an increment, then A writes: A's first attempt must fail
  // to serialize and its retry must see B's value.
  absl::Notification a_read;
  absl::Notification b_done;
  int a_runs = 0;
  std::thread a([&] {
    absl::Status s = pool.Transact(absl::InfiniteFuture(), [&](pqxx::work& tx) {
      ++a_runs;
      int n = tx.exec1("SELECT n FROM counter")[0].as<int>();
      if (a_runs == 1) {
        a_read.Notify();
        b_done.WaitForNotification();
      }
      tx.exec_params0("UPDATE counter SET n = $1", n + 1);
      return absl::OkStatus();
    }, serializable);
    EXPECT_TRUE(s.ok()) << s;
  });
  a_read.WaitForNotification();
  absl::Status b = pool.Transact(absl::InfiniteFuture(), [](pqxx::work& tx) {
    tx.exec0("UPDATE counter SET n = n + 1");
    return absl::OkStatus();
  }, serializable);
  EXPECT_TRUE(b.ok()) << b;
  b_done.Notify();
  a.join();
  EXPECT_EQ(a_runs, 2);
  pqxx::connection c(db_.url());
  pqxx::nontransaction tx(c);
  EXPECT_EQ(tx.exec1("SELECT n FROM counter")[0].as<int>(), 2);
}

TEST_F(PoolTest, IsolationAndReadOnlyOptions) {
  Pool pool(Options());
  auto isolation = [](pqxx::work& tx) -> absl::StatusOr<std::string> {
    return tx.exec1("SHOW transaction_isolation")[0].as<std::string>();
  };
  EXPECT_EQ(*pool.Transact(absl::InfiniteFuture(), isolation), "read committed");
  TransactOptions options;
  options.isolation = Isolation::kSerializable;
  EXPECT_EQ(*pool.Transact(absl::InfiniteFuture(), isolation, options), "serializable");
  options.isolation = Isolation::kRepeatableRead;
  EXPECT_EQ(*pool.Transact(absl::InfiniteFuture(), isolation, options), "repeatable read");

  TransactOptions read_only;
  read_only.read_only = true;
  absl::Status s = pool.Transact(absl::InfiniteFuture(), [](pqxx::work& tx) {
    tx.exec0("CREATE TABLE t (x integer)");
    return absl::OkStatus();
  }, read_only);
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << s;  // 25006: a bug in the caller
}

TEST_F(PoolTest, ConcurrentTransactionsFromSeveralThreads) {
  Pool pool(Options(/*size=*/3));
  ASSERT_TRUE(pool.Transact(absl::InfiniteFuture(), [](pqxx::work& tx) {
    tx.exec0("CREATE TABLE counter (n integer NOT NULL)");
    tx.exec0("INSERT INTO counter VALUES (0)");
    return absl::OkStatus();
  }).ok());
  constexpr int kThreads = 8;
  constexpr int kEach = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        absl::Status s = pool.Transact(absl::Now() + absl::Seconds(60), [](pqxx::work& tx) {
          tx.exec0("UPDATE counter SET n = n + 1");
          return absl::OkStatus();
        });
        if (!s.ok()) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  pqxx::connection c(db_.url());
  pqxx::nontransaction tx(c);
  EXPECT_EQ(tx.exec1("SELECT n FROM counter")[0].as<int>(), kThreads * kEach);
  PoolStats stats = pool.Stats();
  EXPECT_EQ(stats.in_use, 0);
  EXPECT_EQ(stats.idle, 3);
  EXPECT_LE(stats.connected, 3);
  EXPECT_EQ(stats.waiters, 0);
}

TEST_F(PoolTest, UnreachableDatabaseIsUnavailable) {
  PoolOptions options;
  options.url = "postgresql://postgres@127.0.0.1:1/postgres";  // nothing listens on port 1
  Pool pool(options);
  absl::Status s = pool.Transact(absl::InfiniteFuture(), [](pqxx::work&) {
    return absl::OkStatus();
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_EQ(pool.Ping().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(pool.Stats().in_use, 0);
  EXPECT_EQ(pool.Stats().connected, 0);
}

TEST_F(PoolTest, PingAnswersAndSurvivesKilledBackends) {
  Pool pool(Options(/*size=*/1));
  ASSERT_TRUE(pool.Ping().ok());
  {
    // Every backend of this database but the killer's own, the ping connection among them.
    pqxx::connection c(db_.url());
    pqxx::nontransaction tx(c);
    pqxx::result killed = tx.exec_params(
        "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
        "WHERE datname = $1 AND pid <> pg_backend_pid()",
        db_.name());
    ASSERT_EQ(killed.size(), 1u);
  }
  EXPECT_TRUE(pool.Ping().ok());
  // Ping's connection is its own: a fully leased pool still answers.
  absl::StatusOr<Pool::Lease> lease = pool.Acquire();
  ASSERT_TRUE(lease.ok());
  EXPECT_TRUE(pool.Ping().ok());
}

// A server that goes silent (its backend stopped with SIGSTOP, so not even statement_timeout
// can answer; a partition or a stalled link looks the same to libpq) holds neither the caller
// nor the connection much past the deadline: the socket is cut a grace period after it, the
// call is DEADLINE_EXCEEDED and the next transaction gets a new connection.
TEST_F(PoolTest, SilentServerIsCutPastTheDeadlineAndReplaced) {
  Pool pool(Options(/*size=*/1));
  absl::StatusOr<int> silent = BackendPid(pool);
  ASSERT_TRUE(silent.ok()) << silent.status();
  absl::Notification answered;
  // Bounds the test if the cut never comes: the backend resumes and the timing check fails.
  std::thread rescue([&] {
    answered.WaitForNotificationWithTimeout(absl::Seconds(60));
    ::kill(*silent, SIGCONT);
  });
  const absl::Time start = absl::Now();
  absl::Status s = pool.Transact(start + absl::Seconds(1), [&](pqxx::work& tx) {
    if (::kill(*silent, SIGSTOP) != 0) return absl::InternalError("cannot stop the backend");
    tx.exec1("SELECT 1");
    return absl::OkStatus();
  });
  const absl::Duration took = absl::Now() - start;
  answered.Notify();
  rescue.join();
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("did not answer before the deadline"));
  EXPECT_GE(took, absl::Seconds(1));
  EXPECT_LT(took, absl::Seconds(20)) << "1 s deadline + 1 s grace, on a loaded machine";
  absl::StatusOr<int> next = BackendPid(pool);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_NE(*next, *silent);
  EXPECT_EQ(pool.Stats().reconnects_total, 1);
}

// Ping's own connection is cut the same way: a silent one does not hang the health probe.
TEST_F(PoolTest, PingDoesNotHangOnASilentConnection) {
  PoolOptions options = Options(/*size=*/1);
  options.ping_timeout = absl::Seconds(1);
  Pool pool(options);
  ASSERT_TRUE(pool.Ping().ok());
  int silent = 0;
  {
    pqxx::connection c(db_.url());
    pqxx::nontransaction tx(c);
    silent = tx.exec_params1("SELECT pid FROM pg_stat_activity WHERE datname = $1 "
                             "AND pid <> pg_backend_pid()", db_.name())[0].as<int>();
  }
  ASSERT_EQ(::kill(silent, SIGSTOP), 0);
  absl::Notification answered;
  std::thread rescue([&] {
    answered.WaitForNotificationWithTimeout(absl::Seconds(60));
    ::kill(silent, SIGCONT);
  });
  const absl::Time start = absl::Now();
  const absl::Status s = pool.Ping();  // the kept connection is cut, a fresh one answers
  const absl::Duration took = absl::Now() - start;
  answered.Notify();
  rescue.join();
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_LT(took, absl::Seconds(20)) << "1 s ping timeout + 1 s grace, on a loaded machine";
}

}  // namespace
}  // namespace anken::db
