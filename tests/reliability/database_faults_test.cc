// Reliability: the database failing under a running service (real anken-customer process).
//
// - postgres-restart: a private PostgreSQL cluster (scripts/lib/pg.sh) is stopped with
//   `pg_ctl stop -m immediate` under a light write load and started again: grpc.health goes
//   NOT_SERVING, then SERVING without restarting the service; every acknowledged write is
//   there exactly once, and every unacknowledged one retried with its request_id makes one row.
// - pool-exhaustion: a pool of 10 whose connections are stuck behind a table lock the test
//   holds, and 200 concurrent reads: the excess fail with UNAVAILABLE / RESOURCE_EXHAUSTED
//   while the lock is still held (they do not wait for it), health stays SERVING, and once the
//   lock goes every later call succeeds.

#include <stdlib.h>

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <pqxx/pqxx>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "anken/customer/v1/customer_service.grpc.pb.h"
#include "tests/reliability/reliability_support.h"
#include "tests/support/grpc_probe.h"
#include "tests/support/test_database.h"

namespace anken::reliability {
namespace {

using customer::v1::CustomerService;

// Polls `probe` until it returns `want`, within `timeout`.
template <typename Fn>
bool PollUntil(Fn probe, absl::Duration timeout) {
  const absl::Time end = absl::Now() + timeout;
  while (absl::Now() < end) {
    if (probe()) return true;
    absl::SleepFor(absl::Milliseconds(100));  // pacing of the poll, bounded by `end`
  }
  return probe();
}

// Runs `script` with scripts/lib/pg.sh sourced; OK when it exits 0.
absl::Status PgShell(const std::string& script, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"-c", absl::StrCat("source ", ANKEN_PG_SH, " && ", script),
                                   "pg"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto run = anken::testing::RunToExit("/bin/bash", argv, {}, absl::Seconds(120));
  if (!run.ok()) return run.status();
  if (run->first != 0) {
    return absl::InternalError(absl::StrCat("exit ", run->first, ": ", run->second));
  }
  return absl::OkStatus();
}

// A private cluster in a temporary folder, stopped and removed at the end.
class PrivateCluster {
 public:
  PrivateCluster() {
    char tmpl[] = "/tmp/anken-rel-pg-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    ::chmod(dir_.c_str(), 0755);
    auto port = anken::testing::RunToExit("/bin/bash",
                                          {"-c", absl::StrCat("source ", ANKEN_PG_SH,
                                                              " && pg_free_port")},
                                          {}, absl::Seconds(30));
    if (port.ok()) port_ = std::string(absl::StripAsciiWhitespace(port->second));
  }
  ~PrivateCluster() {
    (void)PgShell("pg_stop \"$1\"", {dir_});
    (void)anken::testing::RunToExit("/bin/rm", {"-rf", dir_}, {}, absl::Seconds(60));
  }
  absl::Status Start() { return PgShell("pg_start \"$1\" \"$2\"", {dir_, port_}); }
  absl::Status StopImmediate() {
    return PgShell("_pg_as \"$PG_BIN/pg_ctl\" -D \"$1/data\" -m immediate -w stop >/dev/null",
                   {dir_});
  }
  std::string url() const { return absl::StrCat("postgresql://postgres@127.0.0.1:", port_,
                                                "/postgres"); }

 private:
  std::string dir_;
  std::string port_;
};

TEST(DatabaseFaultsTest, PostgresStoppedAndStartedUnderLoad) {
  const std::string scenario = "postgres-restart";
  PrivateCluster pg;
  ASSERT_TRUE(pg.Start().ok());
  std::map<std::string, std::string> env = ServiceEnv(pg.url());
  env["ANKEN_DB_ACQUIRE_TIMEOUT"] = "2s";
  ASSERT_TRUE(Migrate(ANKEN_CUSTOMER_BIN, env).ok());
  auto service = ServiceProcess::Start(ANKEN_CUSTOMER_BIN, env);
  ASSERT_TRUE(service.ok()) << service.status();
  auto channel = (*service)->Channel();
  auto serving = [&](bool want) {
    absl::StatusOr<bool> s = anken::testing::HealthServing(channel);
    return s.ok() && *s == want;
  };
  bool held = Check(scenario, "SERVING before the fault", PollUntil([&] { return serving(true); },
                                                                    absl::Seconds(60)));

  // Light load: one writer, one create at a time, each with its own request_id.
  const std::string staff = Token(auth::Role::kStaff, "reliability-staff");
  std::mutex mu;
  std::vector<grpc::Status> results;  // by k
  std::vector<int64_t> ids;           // by k, when acknowledged
  std::atomic<bool> stop{false};
  std::atomic<int> acked{0};
  std::thread writer([&] {
    auto stub = CustomerService::NewStub(channel);
    for (int k = 0; !stop.load(); ++k) {
      grpc::ClientContext ctx;
      Authorize(&ctx, staff, absl::Seconds(10));
      customer::v1::Customer reply;
      grpc::Status s = stub->CreateCustomer(
          &ctx, CustomerRequest(absl::StrCat("load-", k), absl::StrCat("負荷 ", k)), &reply);
      std::lock_guard<std::mutex> lock(mu);
      results.push_back(s);
      ids.push_back(s.ok() ? reply.id() : 0);
      if (s.ok()) ++acked;
      absl::SleepFor(absl::Milliseconds(20));  // light load: pacing, not synchronisation
    }
  });
  PollUntil([&] { return acked.load() >= 5; }, absl::Seconds(60));
  ASSERT_TRUE(pg.StopImmediate().ok());
  const int acked_before = acked.load();
  held &= Check(scenario, "NOT_SERVING after pg_ctl stop -m immediate",
                PollUntil([&] { return serving(false); }, absl::Seconds(60)));
  // Some writes fail while it is down (the writer keeps trying).
  size_t at_outage;
  {
    std::lock_guard<std::mutex> lock(mu);
    at_outage = results.size();
  }
  PollUntil([&] {
    std::lock_guard<std::mutex> lock(mu);
    return results.size() >= at_outage + 2;
  }, absl::Seconds(60));
  ASSERT_TRUE(pg.Start().ok());
  held &= Check(scenario, "SERVING again after Postgres started (same process)",
                PollUntil([&] { return serving(true); }, absl::Seconds(90)));
  const int acked_at_restart = acked.load();
  held &= Check(scenario, "writes acknowledged again after the restart",
                PollUntil([&] { return acked.load() >= acked_at_restart + 3; },
                          absl::Seconds(60)));
  stop = true;
  writer.join();

  // Error codes and messages while it was down.
  std::map<int, int> codes;
  int leaks = 0;
  for (const grpc::Status& s : results) {
    if (!s.ok()) ++codes[s.error_code()];
    if (LeaksInternals(s.error_message())) {
      ++leaks;
      ADD_FAILURE() << "leaking message: " << s.error_message();
    }
  }
  std::vector<std::string> code_text;
  bool codes_ok = true;
  for (const auto& [code, n] : codes) {
    code_text.push_back(absl::StrCat(n, "x code ", code));
    codes_ok &= code == grpc::StatusCode::UNAVAILABLE ||
                code == grpc::StatusCode::DEADLINE_EXCEEDED;
  }
  held &= Check(scenario, absl::StrCat("failures while down: ", absl::StrJoin(code_text, ", "),
                                       " (UNAVAILABLE or DEADLINE_EXCEEDED only)"),
                codes_ok && !codes.empty());
  held &= Check(scenario, absl::StrCat(leaks, " messages leaking internals"), leaks == 0);

  // Every acknowledged write exactly once; every other one retried with its request_id.
  auto stub = CustomerService::NewStub(channel);
  int retried = 0, retry_ok = 0;
  for (size_t k = 0; k < results.size(); ++k) {
    if (results[k].ok()) continue;
    ++retried;
    grpc::ClientContext ctx;
    Authorize(&ctx, staff, absl::Seconds(60));
    customer::v1::Customer reply;
    grpc::Status s = stub->CreateCustomer(
        &ctx, CustomerRequest(absl::StrCat("load-", k), absl::StrCat("負荷 ", k)), &reply);
    if (s.ok()) {
      ++retry_ok;
      ids[k] = reply.id();
    }
  }
  pqxx::connection conn(pg.url());
  pqxx::nontransaction tx(conn);
  int exactly_once = 0;
  for (size_t k = 0; k < results.size(); ++k) {
    pqxx::result r = tx.exec_params(
        "SELECT id FROM customer.customers WHERE name = $1", absl::StrCat("負荷 ", k));
    if (r.size() == 1 && r[0][0].as<int64_t>() == ids[k]) ++exactly_once;
  }
  const int64_t rows = tx.exec1("SELECT count(*) FROM customer.customers")[0].as<int64_t>();
  held &= Check(scenario, absl::StrCat(retry_ok, "/", retried,
                                       " unacknowledged writes succeeded on retry"),
                retry_ok == retried);
  held &= Check(scenario, absl::StrCat(exactly_once, "/", results.size(),
                                       " writes present exactly once with their id; ", rows,
                                       " rows"),
                exactly_once == static_cast<int>(results.size()) &&
                    rows == static_cast<int64_t>(results.size()));
  RecordScenario(scenario, held,
                 absl::StrCat(results.size(), " writes (", acked_before, " acked before the stop, ",
                              retried, " retried), 0 lost, ",
                              rows - static_cast<int64_t>(exactly_once), " extra rows"));
  EXPECT_TRUE(held);
}

TEST(DatabaseFaultsTest, PoolExhaustionFailsFastAndRecovers) {
  const std::string scenario = "pool-exhaustion";
  constexpr int kCalls = 200;
  constexpr int kPool = 10;
  anken::testing::ScratchDatabase db("rel_pool");
  std::map<std::string, std::string> env = ServiceEnv(db.url());
  env["ANKEN_DB_POOL_SIZE"] = absl::StrCat(kPool);
  env["ANKEN_DB_ACQUIRE_TIMEOUT"] = "1s";
  env["ANKEN_DB_STATEMENT_TIMEOUT"] = "5m";
  ASSERT_TRUE(Migrate(ANKEN_CUSTOMER_BIN, env).ok());
  auto service = ServiceProcess::Start(ANKEN_CUSTOMER_BIN, env);
  ASSERT_TRUE(service.ok()) << service.status();
  const std::string staff = Token(auth::Role::kStaff, "reliability-staff");
  auto stub = CustomerService::NewStub((*service)->Channel());
  customer::v1::Customer seeded;
  {
    grpc::ClientContext ctx;
    Authorize(&ctx, staff, absl::Seconds(60));
    grpc::Status s = stub->CreateCustomer(&ctx, CustomerRequest("pool-seed", "株式会社プール"),
                                          &seeded);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  // Every read of customers now waits behind this lock, holding its pooled connection.
  pqxx::connection locker(db.url());
  auto lock = std::make_unique<pqxx::work>(locker);
  lock->exec0("LOCK TABLE customer.customers IN ACCESS EXCLUSIVE MODE");

  std::vector<grpc::Status> statuses(kCalls);
  std::vector<bool> done_while_locked(kCalls, false);
  std::atomic<bool> locked{true};
  std::atomic<int> done{0};
  absl::Notification go;
  std::vector<std::thread> threads;
  for (int i = 0; i < kCalls; ++i) {
    threads.emplace_back([&, i] {
      auto own = CustomerService::NewStub((*service)->Channel());
      go.WaitForNotification();
      grpc::ClientContext ctx;
      Authorize(&ctx, staff, absl::Seconds(300));
      customer::v1::GetCustomerRequest req;
      req.set_id(seeded.id());
      customer::v1::Customer reply;
      statuses[i] = own->GetCustomer(&ctx, req, &reply);
      done_while_locked[i] = locked.load();
      ++done;
    });
  }
  go.Notify();
  // All but the calls holding the pool's connections end while the lock is held.
  const bool excess_ended =
      PollUntil([&] { return done.load() >= kCalls - kPool; }, absl::Seconds(180));
  absl::StatusOr<bool> health = anken::testing::HealthServing((*service)->Channel());
  const bool serving_while_exhausted = health.ok() && *health;
  locked = false;
  lock->abort();
  lock.reset();
  for (auto& t : threads) t.join();

  int fast_fail = 0, ok = 0, other = 0, leaks = 0;
  std::map<int, int> codes;
  for (int i = 0; i < kCalls; ++i) {
    if (LeaksInternals(statuses[i].error_message())) ++leaks;
    const auto code = statuses[i].error_code();
    if (statuses[i].ok()) {
      ++ok;
    } else if ((code == grpc::StatusCode::UNAVAILABLE ||
                code == grpc::StatusCode::RESOURCE_EXHAUSTED) && done_while_locked[i]) {
      ++fast_fail;
    } else {
      ++other;
      ++codes[code];
    }
  }
  bool held = true;
  held &= Check(scenario, absl::StrCat(done.load(), " calls ended, ", kCalls - kPool,
                                       " needed while the ", kPool,
                                       " connections were stuck"),
                excess_ended);
  held &= Check(scenario, absl::StrCat(fast_fail, " failed UNAVAILABLE/RESOURCE_EXHAUSTED while "
                                       "the lock was held, ", ok, " succeeded after it, ",
                                       other, " other"),
                fast_fail >= kCalls - kPool && ok + fast_fail == kCalls && other == 0);
  held &= Check(scenario, "health SERVING while the pool was exhausted",
                serving_while_exhausted);
  held &= Check(scenario, absl::StrCat(leaks, " messages leaking internals"), leaks == 0);

  // Full recovery: every later call succeeds.
  int later_ok = 0;
  constexpr int kLater = 20;
  for (int i = 0; i < kLater; ++i) {
    grpc::ClientContext ctx;
    Authorize(&ctx, staff, absl::Seconds(60));
    customer::v1::GetCustomerRequest req;
    req.set_id(seeded.id());
    customer::v1::Customer reply;
    if (stub->GetCustomer(&ctx, req, &reply).ok() && reply.id() == seeded.id()) ++later_ok;
  }
  grpc::ClientContext ctx;
  Authorize(&ctx, staff, absl::Seconds(60));
  customer::v1::Customer created;
  const bool write_ok =
      stub->CreateCustomer(&ctx, CustomerRequest("pool-after", "株式会社アフター"), &created).ok();
  held &= Check(scenario, absl::StrCat(later_ok, "/", kLater, " later reads and ",
                                       write_ok ? 1 : 0, "/1 write succeeded"),
                later_ok == kLater && write_ok);
  RecordScenario(scenario, held,
                 absl::StrCat("pool ", kPool, ", ", kCalls, " concurrent calls: ", fast_fail,
                              " failed fast, ", ok, " served, ", later_ok + (write_ok ? 1 : 0),
                              "/", kLater + 1, " later calls ok"));
  EXPECT_TRUE(held);
}

}  // namespace
}  // namespace anken::reliability
