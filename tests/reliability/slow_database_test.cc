// Reliability: slow database. The real anken-customer process (pool of 4) reaches Postgres
// through PgFaultProxy (tests/reliability/pg_fault_proxy.h); its sessions carry
// application_name=rel_slowdb so the test can watch them in pg_stat_activity on the real
// server. Three faults of the link, each followed by the link healing:
// - delay: every byte either way 3 s late. GetCustomer calls with a 1 s deadline end with
//   DEADLINE_EXCEEDED promptly.
// - blackhole after the query: while the test holds a lock on customer.customers, each
//   call's SELECT reaches the server and waits there, and its answer is lost. The calls end
//   promptly; the server cancels the running queries (statement_timeout from the deadline);
//   the pool gives the stuck connections up (their sessions end on the server) instead of
//   waiting forever for answers that will never come.
// - blackhole everything (existing and new connections): the calls end promptly and health
//   turns NOT_SERVING; once the link is back, SERVING again.
// After each fault, a burst of twice the pool size all succeeds (the pool recovered).

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/types/optional.h"
#include "anken/customer/v1/customer_service.grpc.pb.h"
#include "tests/reliability/pg_fault_proxy.h"
#include "tests/reliability/reliability_support.h"
#include "tests/support/grpc_probe.h"
#include "tests/support/test_database.h"

namespace anken::reliability {
namespace {

using customer::v1::CustomerService;

constexpr int kPoolSize = 4;
constexpr char kApp[] = "rel_slowdb";
// The text of GetCustomer's statement (services/customer/customer_queries.h kGetCustomer).
constexpr char kGetCustomerSql[] = "FROM customer.customers c WHERE c.id";

struct Outcome {
  grpc::Status status;
  absl::Duration took;
};

struct Batch {
  std::vector<Outcome> calls;
  int ok = 0;
  int deadline_exceeded = 0;
  absl::Duration slowest;
  std::string codes;  // "4x DEADLINE_EXCEEDED"-like text of what ended otherwise
};

// `n` GetCustomer calls at once, each with `deadline`, each on its own channel.
Batch Concurrent(const ServiceProcess& svc, int n, absl::Duration deadline, int64_t id,
                 const std::string& token) {
  Batch b;
  b.calls.resize(n);
  absl::Notification go;
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      auto stub = CustomerService::NewStub(svc.Channel());
      go.WaitForNotification();
      grpc::ClientContext ctx;
      Authorize(&ctx, token, deadline);
      customer::v1::GetCustomerRequest req;
      req.set_id(id);
      customer::v1::Customer reply;
      const absl::Time start = absl::Now();
      b.calls[i].status = stub->GetCustomer(&ctx, req, &reply);
      b.calls[i].took = absl::Now() - start;
    });
  }
  go.Notify();
  for (auto& t : threads) t.join();
  std::map<int, int> other;
  for (const Outcome& o : b.calls) {
    b.slowest = std::max(b.slowest, o.took);
    if (o.status.ok()) {
      ++b.ok;
    } else if (o.status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      ++b.deadline_exceeded;
    } else {
      ++other[o.status.error_code()];
    }
  }
  for (const auto& [code, count] : other) absl::StrAppend(&b.codes, " ", count, "x code ", code);
  return b;
}

// Polls `probe` (pacing 100 ms) until it holds or `limit` passes; the time it took, or
// nothing.
template <typename Fn>
absl::optional<absl::Duration> Within(absl::Duration limit, Fn probe) {
  const absl::Time start = absl::Now();
  for (;;) {
    if (probe()) return absl::Now() - start;
    if (absl::Now() - start > limit) return absl::nullopt;
    absl::SleepFor(absl::Milliseconds(100));  // pacing of the poll, bounded by `limit`
  }
}

std::string Ms(absl::Duration d) { return absl::StrCat(absl::ToInt64Milliseconds(d), " ms"); }

class SlowDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const int pg_port = std::stoi(db_.url().substr(db_.url().rfind(':') + 1));
    auto proxy = PgFaultProxy::Start(pg_port);
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    proxy_ = std::move(*proxy);
    std::map<std::string, std::string> env = ServiceEnv(db_.url());
    ASSERT_TRUE(Migrate(ANKEN_CUSTOMER_BIN, env).ok());
    env["ANKEN_DATABASE_URL"] = proxy_->Url(db_.url(), absl::StrCat("application_name=", kApp));
    env["ANKEN_DB_POOL_SIZE"] = absl::StrCat(kPoolSize);
    env["ANKEN_DB_ACQUIRE_TIMEOUT"] = "2s";
    env["ANKEN_DB_STATEMENT_TIMEOUT"] = "30s";
    auto service = ServiceProcess::Start(ANKEN_CUSTOMER_BIN, env);
    ASSERT_TRUE(service.ok()) << service.status();
    service_ = std::move(*service);
    auto stub = CustomerService::NewStub(service_->Channel());
    grpc::ClientContext ctx;
    Authorize(&ctx, staff_, absl::Seconds(60));
    grpc::Status s = stub->CreateCustomer(&ctx, CustomerRequest("slow-seed", "株式会社スロー"),
                                          &seeded_);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  // Sessions of the service on the real server running (state active) or stuck in a
  // transaction (idle in transaction, aborted or not) with GetCustomer's statement.
  std::pair<int64_t, int64_t> Sessions() {
    pqxx::connection c(db_.url());
    pqxx::nontransaction tx(c);
    pqxx::row r = tx.exec_params1(
        "SELECT count(*) FILTER (WHERE state = 'active'), "
        "count(*) FILTER (WHERE state LIKE 'idle in transaction%') FROM pg_stat_activity "
        "WHERE datname = current_database() AND application_name = $1 AND query LIKE $2",
        kApp, absl::StrCat("%", kGetCustomerSql, "%"));
    return {r[0].as<int64_t>(), r[1].as<int64_t>()};
  }

  bool Serving(bool want) {
    absl::StatusOr<bool> s = anken::testing::HealthServing(service_->Channel());
    return s.ok() && *s == want;
  }

  // The faulted calls: all DEADLINE_EXCEEDED within kPrompt.
  bool CheckPrompt(const std::string& phase, const Batch& b) {
    return Check(scenario_,
                 absl::StrCat(phase, ": ", b.calls.size(), " GetCustomer calls with a 1 s "
                              "deadline: ", b.deadline_exceeded, " DEADLINE_EXCEEDED", b.codes,
                              ", ", b.ok, " OK, slowest ", Ms(b.slowest), " (want all "
                              "DEADLINE_EXCEEDED, each < 3000 ms)"),
                 b.deadline_exceeded == static_cast<int>(b.calls.size()) &&
                     b.slowest < absl::Seconds(3));
  }

  // After healing: a burst of 2 x pool size all succeeds, polled (the pool may still be
  // giving stuck connections up) within `limit`.
  bool CheckRecovered(const std::string& phase, int* ok_calls) {
    Batch last;
    absl::optional<absl::Duration> took = Within(absl::Seconds(30), [&] {
      last = Concurrent(*service_, 2 * kPoolSize, absl::Seconds(10), seeded_.id(), staff_);
      return last.ok == 2 * kPoolSize;
    });
    *ok_calls += last.ok;
    return Check(scenario_,
                 absl::StrCat(phase, ": link back to normal: a burst of ", 2 * kPoolSize,
                              " calls (pool ", kPoolSize, ") all OK ",
                              took ? absl::StrCat("within ", Ms(*took))
                                   : absl::StrCat("NOT within 30 s (last burst ", last.ok,
                                                  " OK,", last.codes, ")")),
                 took.has_value());
  }

  const std::string scenario_ = "slow-database";
  const std::string staff_ = Token(auth::Role::kStaff, "reliability-staff");
  anken::testing::ScratchDatabase db_{"rel_slow"};
  std::unique_ptr<PgFaultProxy> proxy_;
  std::unique_ptr<ServiceProcess> service_;
  customer::v1::Customer seeded_;
};

TEST_F(SlowDatabaseTest, DeadlinesHoldQueriesAreCancelledAndThePoolRecovers) {
  const absl::Time began = absl::Now();
  int recovered_calls = 0;
  bool held = true;

  // 1. A slow link.
  proxy_->SetDelay(absl::Seconds(3));
  const Batch delayed = Concurrent(*service_, kPoolSize, absl::Seconds(1), seeded_.id(), staff_);
  held &= CheckPrompt("delay 3 s", delayed);
  proxy_->Normal();
  held &= CheckRecovered("delay 3 s", &recovered_calls);

  // 2. The query runs on the server (behind the test's lock) and its answer is lost.
  pqxx::connection locker(db_.url());
  auto lock = std::make_unique<pqxx::work>(locker);
  lock->exec0("LOCK TABLE customer.customers IN ACCESS EXCLUSIVE MODE");
  proxy_->BlackholeAfter(kGetCustomerSql);
  std::atomic<bool> calls_done{false};
  int64_t most_waiting = 0;  // seen at once on the server while the calls ran
  std::thread watcher([&] {
    while (!calls_done.load()) most_waiting = std::max(most_waiting, Sessions().first);
  });
  const Batch lost = Concurrent(*service_, kPoolSize, absl::Seconds(1), seeded_.id(), staff_);
  calls_done = true;
  watcher.join();
  held &= CheckPrompt("blackhole after the query", lost);
  held &= Check(scenario_,
                absl::StrCat("blackhole after the query: ", proxy_->blackholed(), " connections "
                             "had the SELECT delivered and its answer dropped (want 1 to ",
                             kPoolSize, "; on a loaded machine a call's deadline may pass "
                             "before its SELECT is sent)"),
                proxy_->blackholed() >= 1 && proxy_->blackholed() <= kPoolSize);
  // The lock is still held, so a query that is no longer active was cancelled.
  std::pair<int64_t, int64_t> sessions;
  absl::optional<absl::Duration> cancelled = Within(absl::Seconds(20), [&] {
    sessions = Sessions();
    return sessions.first == 0;
  });
  held &= Check(scenario_,
                absl::StrCat("blackhole after the query: up to ", most_waiting, " of the "
                             "statements seen waiting on the server during the calls; then the "
                             "server cancelled them (the lock still held) ",
                             cancelled ? absl::StrCat("within ", Ms(*cancelled))
                                       : absl::StrCat("NOT within 20 s: ", sessions.first,
                                                      " still active")),
                most_waiting >= 1 && cancelled.has_value());
  absl::optional<absl::Duration> closed = Within(absl::Seconds(20), [&] {
    sessions = Sessions();
    return sessions.first == 0 && sessions.second == 0;
  });
  held &= Check(scenario_,
                absl::StrCat("blackhole after the query: the pool gave the unanswered "
                             "connections up, their sessions ended on the server ",
                             closed ? absl::StrCat("within ", Ms(*closed))
                                    : absl::StrCat("NOT within 20 s: ", sessions.second,
                                                   " still idle in transaction")),
                closed.has_value());
  lock->abort();
  lock.reset();
  proxy_->Normal();
  held &= CheckRecovered("blackhole after the query", &recovered_calls);

  // 3. Nothing gets through, on old or new connections.
  proxy_->Blackhole();
  const Batch dark = Concurrent(*service_, kPoolSize, absl::Seconds(1), seeded_.id(), staff_);
  held &= CheckPrompt("blackhole everything", dark);
  absl::optional<absl::Duration> not_serving =
      Within(absl::Seconds(30), [&] { return Serving(false); });
  held &= Check(scenario_,
                absl::StrCat("blackhole everything: health NOT_SERVING ",
                             not_serving ? absl::StrCat("within ", Ms(*not_serving))
                                         : "NOT within 30 s"),
                not_serving.has_value());
  proxy_->Normal();
  absl::optional<absl::Duration> serving =
      Within(absl::Seconds(30), [&] { return Serving(true); });
  held &= Check(scenario_,
                absl::StrCat("blackhole everything: health SERVING again ",
                             serving ? absl::StrCat("within ", Ms(*serving))
                                     : "NOT within 30 s"),
                serving.has_value());
  held &= CheckRecovered("blackhole everything", &recovered_calls);

  if (!held) ADD_FAILURE() << service_->LogTail();
  RecordScenario(
      scenario_, held,
      absl::StrCat("pool ", kPoolSize, ", 1 s deadlines: delay 3 s slowest ", Ms(delayed.slowest),
                   ", answer lost slowest ", Ms(lost.slowest), ", blackhole slowest ",
                   Ms(dark.slowest), "; ", proxy_->blackholed(), " connections blackholed, ",
                   recovered_calls, " calls OK after healing, ",
                   absl::ToInt64Seconds(absl::Now() - began), " s"));
  EXPECT_TRUE(held);
}

}  // namespace
}  // namespace anken::reliability
