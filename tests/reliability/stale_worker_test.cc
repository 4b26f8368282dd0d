// Reliability: stale worker. A scheduler replica is stopped (SIGSTOP) while it holds a slot,
// past its lease; a second replica takes the slot over and finishes it; the first is resumed
// (SIGCONT) and its late write is refused: the run row stays as the second replica left it,
// and billing's effect happened once.
//
// Real processes on loopback: anken-customer, anken-project and anken-billing (20 monthly
// auto-renewing plans seeded with SQL) and two anken-scheduler replicas on a test clock file.
// Replica 1 reaches billing through GatedBilling, a BillingService in this test that forwards
// RunRenewals to the real billing and can hold one call, so replica 1 is stopped exactly
// between its claim and its completion. Three stop points, one month's renewal slot each:
//   1. reply lost: billing renewed, its reply is held; the late reply is DEADLINE_EXCEEDED, so
//      the late write would re-queue the slot;
//   2. request late: the call is held before billing; the late call reaches billing after
//      replica 2 finished (a replay of the same request_id), the late write a SUCCEEDED;
//   3. frozen in a transaction: as 1, and replica 1 is stopped while its lease renewal holds
//      the run's row lock: replica 2 is blocked until Postgres ends the idle transaction
//      (the scheduler's idle-in-transaction limit, half the lease), then takes over.

#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <pqxx/pqxx>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "anken/billing/v1/billing_service.grpc.pb.h"
#include "anken/customer/v1/customer_service.grpc.pb.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "tests/reliability/fault_support.h"
#include "tests/reliability/reliability_support.h"
#include "tests/services/scheduler/scheduler_process.h"
#include "tests/support/test_database.h"

namespace anken::reliability {
namespace {

using scheduler::testing::TestClockFile;
using scheduler::testing::WaitUntil;

constexpr char kScenario[] = "stale worker";
constexpr int kPlans = 20;
constexpr char kTakenOver[] = "run was taken over by another replica";

// BillingService in front of the real billing for one replica. RunRenewals is forwarded with
// the caller's token and request id; the next call can be held before it is forwarded
// (kRequest) or after billing answered (kReply, answered then with `late` unless it is OK).
class GatedBilling final : public billing::v1::BillingService::Service {
 public:
  enum class Hold { kNone, kRequest, kReply };

  explicit GatedBilling(std::shared_ptr<grpc::Channel> billing)
      : billing_(billing::v1::BillingService::NewStub(std::move(billing))) {}

  void HoldNext(Hold hold, grpc::Status late) {
    std::lock_guard<std::mutex> lock(mu_);
    armed_ = hold;
    late_ = std::move(late);
  }
  // Waits until the armed call is held; false on timeout.
  bool WaitHeld(absl::Duration timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, absl::ToChronoMilliseconds(timeout), [&] { return held_; });
  }
  int held_peer_port() {
    std::lock_guard<std::mutex> lock(mu_);
    return held_port_;
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  // Lets everything through from now on (before the server shuts down).
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  // Billing's answer to the latest forwarded call.
  grpc::Status last_forwarded() {
    std::lock_guard<std::mutex> lock(mu_);
    return forwarded_;
  }

  grpc::Status RunRenewals(grpc::ServerContext* ctx, const billing::v1::RunRenewalsRequest* req,
                           billing::v1::RenewalRun* resp) override {
    Hold hold;
    {
      std::lock_guard<std::mutex> lock(mu_);
      hold = armed_;
      armed_ = Hold::kNone;
    }
    if (hold == Hold::kRequest) Wait(*ctx);
    grpc::Status s = Forward(*ctx, *req, resp);
    {
      std::lock_guard<std::mutex> lock(mu_);
      forwarded_ = s;
    }
    if (hold == Hold::kReply) {
      Wait(*ctx);
      std::lock_guard<std::mutex> lock(mu_);
      if (!late_.ok()) return late_;
    }
    return s;
  }

 private:
  void Wait(const grpc::ServerContext& ctx) {
    std::unique_lock<std::mutex> lock(mu_);
    held_ = true;
    held_port_ = PeerPort(ctx.peer());
    cv_.notify_all();
    cv_.wait(lock, [&] { return released_ || open_; });
    held_ = false;
    released_ = false;
  }

  grpc::Status Forward(const grpc::ServerContext& in, const billing::v1::RunRenewalsRequest& req,
                       billing::v1::RenewalRun* resp) {
    grpc::ClientContext out;
    out.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(120)));
    for (const auto& [key, value] : in.client_metadata()) {
      const std::string k(key.data(), key.size());
      if (k == "authorization" || k == "x-request-id") {
        out.AddMetadata(k, std::string(value.data(), value.size()));
      }
    }
    return billing_->RunRenewals(&out, req, resp);
  }

  std::unique_ptr<billing::v1::BillingService::Stub> billing_;
  std::mutex mu_;
  std::condition_variable cv_;
  Hold armed_ = Hold::kNone;
  grpc::Status late_;
  bool held_ = false;
  bool released_ = false;
  bool open_ = false;
  int held_port_ = 0;
  grpc::Status forwarded_;
};

struct StopPoint {
  std::string name;
  absl::CivilDay day;  // the renewal slot's day (00:00), as_of of the billing call
  GatedBilling::Hold hold;
  grpc::Status late;         // what replica 1 finally gets for a held reply
  bool in_transaction;       // stopped inside its lease renewal's transaction
};

std::string CodeText(const grpc::Status& s) {
  return s.ok() ? std::string("OK") : absl::StrCat("code ", s.error_code());
}

class StaleWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = ServiceEnv(db_.url());
    env_["ANKEN_ISSUER_NAME"] = "株式会社アンケン";
    env_["ANKEN_ISSUER_REGISTRATION_NUMBER"] = "T7000012050002";
    env_["ANKEN_DB_POOL_SIZE"] = "4";
    for (const char* bin :
         {ANKEN_CUSTOMER_BIN, ANKEN_PROJECT_BIN, ANKEN_BILLING_BIN, ANKEN_SCHEDULER_BIN}) {
      absl::Status m = Migrate(bin, env_);
      ASSERT_TRUE(m.ok()) << m;
    }
    auto customer = ServiceProcess::Start(ANKEN_CUSTOMER_BIN, env_);
    ASSERT_TRUE(customer.ok()) << customer.status();
    customer_ = std::move(*customer);
    env_["ANKEN_CUSTOMER_ADDR"] = customer_->address();
    auto project = ServiceProcess::Start(ANKEN_PROJECT_BIN, env_);
    ASSERT_TRUE(project.ok()) << project.status();
    project_ = std::move(*project);
    env_["ANKEN_PROJECT_ADDR"] = project_->address();
    auto billing = ServiceProcess::Start(ANKEN_BILLING_BIN, env_);
    ASSERT_TRUE(billing.ok()) << billing.status();
    billing_ = std::move(*billing);

    // The cases' customer through the API; the won cases and their plans (ending 2025-01,
    // renewing a month at a time) with SQL, as in renewal_test.cc.
    customer::v1::Customer owner;
    {
      auto stub = customer::v1::CustomerService::NewStub(customer_->Channel());
      grpc::ClientContext ctx;
      Authorize(&ctx, Token(auth::Role::kStaff, "reliability-staff"));
      grpc::Status s = stub->CreateCustomer(&ctx, CustomerRequest("stale-owner", "株式会社ステイル"),
                                            &owner);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
    conn_ = std::make_unique<pqxx::connection>(db_.url());
    {
      pqxx::work tx(*conn_);
      tx.exec0(absl::StrCat(
          "INSERT INTO project.projects (id, number, customer_id, name, order_status, version, "
          "create_time, created_by, update_time, updated_by) "
          "SELECT g, lpad(g::text, 7, '0'), ", owner.id(), ", 'stale ' || g, 2, 1, now(), "
          "'seed', now(), 'seed' FROM generate_series(1, ", kPlans, ") g"));
      tx.exec0(absl::StrCat(
          "INSERT INTO billing.plans (project_id, customer_id, timing, tax_category, "
          "recurring_interval, split_revenue, amount, start_month, end_month, auto_renew, "
          "renewal_unit_months, version, create_time, created_by, update_time, updated_by) "
          "SELECT g, ", owner.id(), ", 3, 1, 1, false, 10000, '2024-02-01', '2025-01-01', true, "
          "1, 1, now(), 'seed', now(), 'seed' FROM generate_series(1, ", kPlans, ") g"));
      tx.commit();
    }

    gate_ = std::make_unique<GatedBilling>(billing_->Channel());
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &gate_port_);
    builder.RegisterService(gate_.get());
    gate_server_ = builder.BuildAndStart();
    ASSERT_NE(gate_server_, nullptr);

    // Renewals on the 3rd of each month; nothing else runs (billing alerts off, no report
    // peer). The lease is 10 s of test-clock time; the idle-in-transaction limit is half.
    sched_env_ = env_;
    sched_env_["ANKEN_SCHEDULE_RENEWALS"] = "monthly 3 00:00";
    sched_env_["ANKEN_SCHEDULE_BILLING_ALERTS"] = "off";
    sched_env_["ANKEN_SCHEDULER_TICK"] = "50ms";
    sched_env_["ANKEN_SCHEDULER_LEASE"] = "10s";
    sched_env_["ANKEN_TEST_CLOCK_FILE"] = clock_.path();
    sched_env_["ANKEN_ALLOW_TEST_CLOCK"] = "1";
    clock_.SetTokyo(2025, 2, 2, 23, 0);
  }

  void TearDown() override {
    if (gate_ != nullptr) gate_->Open();
    replica1_.reset();  // SIGKILL, also when stopped
    if (gate_server_ != nullptr) {
      gate_server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    }
  }

  // The renewals run of `day`'s slot.
  static std::string RunWhere(absl::CivilDay day) {
    return absl::StrFormat(
        "FROM scheduler.runs WHERE job = 'renewals' AND slot_time = '%04d-%02d-%02d 00:00:00+09'",
        day.year(), day.month(), day.day());
  }
  // Everything a late write could change in the run row.
  std::string RunRow(absl::CivilDay day) {
    return QueryText(*conn_, absl::StrCat(
        "SELECT concat_ws('|', state, coalesce(owner, '-'), attempts, takeovers, "
        "coalesce(lease_until::text, '-'), coalesce(next_attempt_time::text, '-'), "
        "coalesce(finish_time::text, '-'), duration_ms, summary, error, error_code) ",
        RunWhere(day)));
  }
  int64_t Entries(absl::CivilDay day, bool distinct_plans) {
    return QueryInt(*conn_, absl::StrFormat(
        "SELECT count(%s) FROM billing.entries WHERE period = 'M%04d-%02d'",
        distinct_plans ? "DISTINCT project_id" : "*", day.year(), day.month()));
  }
  int64_t RenewalRuns(absl::CivilDay day) {
    return QueryInt(*conn_, absl::StrFormat(
        "SELECT count(*) FROM billing.renewal_runs WHERE as_of = '%04d-%02d-%02d'", day.year(),
        day.month(), day.day()));
  }
  int TakenOverLines() {
    const std::string log = replica1_->LogTail(size_t{1} << 26);
    int n = 0;
    for (size_t at = log.find(kTakenOver); at != std::string::npos;
         at = log.find(kTakenOver, at + 1)) {
      ++n;
    }
    return n;
  }

  // Stops replica 1 (pid) inside its lease renewal's transaction: stopped, checked, resumed
  // again until the stop lands while its backend is idle in a transaction that holds the
  // runs table's row-exclusive lock (between the heartbeat's UPDATE and its COMMIT). Returns
  // that backend's pid, or 0 if it never landed within the bound.
  int64_t StopInsideTransaction(pid_t pid, int* tries) {
    const std::string frozen =
        "SELECT a.pid || ' ' || a.state_change::text FROM pg_locks l "
        "JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.relation = 'scheduler.runs'::regclass AND l.mode = 'RowExclusiveLock' "
        "AND a.state = 'idle in transaction' LIMIT 1";
    const absl::Time end = absl::Now() + absl::Seconds(90);
    for (*tries = 1; absl::Now() < end; ++*tries) {
      if (!StopProcess(pid).ok()) return 0;
      const std::string seen = QueryText(*conn_, frozen);
      // Seen twice alike: not a COMMIT that was already on its way.
      if (!seen.empty() && QueryText(*conn_, frozen) == seen) {
        return QueryInt(*conn_, absl::StrCat("SELECT ", seen.substr(0, seen.find(' '))));
      }
      if (!ContinueProcess(pid).ok()) return 0;
    }
    return 0;
  }

  bool RunStopPoint(const StopPoint& p, int index);

  anken::testing::ScratchDatabase db_{"rel_stale"};
  std::map<std::string, std::string> env_, sched_env_;
  std::unique_ptr<ServiceProcess> customer_, project_, billing_, replica1_;
  std::unique_ptr<GatedBilling> gate_;
  int gate_port_ = 0;
  std::unique_ptr<grpc::Server> gate_server_;
  TestClockFile clock_;
  std::unique_ptr<pqxx::connection> conn_;
};

bool StaleWorkerTest::RunStopPoint(const StopPoint& p, int index) {
  const std::string at = absl::StrCat(p.name, ": ", absl::FormatCivilTime(p.day), " 00:00");
  bool held = true;
  gate_->HoldNext(p.hold, p.late);
  clock_.SetTokyo(p.day.year(), p.day.month(), p.day.day(), 0, 0, 30);
  const bool in_call = gate_->WaitHeld(absl::Seconds(90));
  const std::string owner = QueryText(*conn_, absl::StrCat("SELECT owner ", RunWhere(p.day)));
  const pid_t pid = ReplicaPid(owner);
  absl::StatusOr<pid_t> caller = LoopbackClientPid(gate_->held_peer_port(), gate_port_);
  const int64_t entries_in_call = Entries(p.day, false);
  const int64_t want_in_call = p.hold == GatedBilling::Hold::kReply ? kPlans : 0;
  held &= Check(kScenario,
                absl::StrCat(at, ": replica 1 (pid ", pid, ") claimed the slot and is inside "
                             "its billing call (caller pid ",
                             caller.ok() ? absl::StrCat(*caller) : caller.status().ToString(),
                             "); billing has ", entries_in_call, " entries for it (want ",
                             want_in_call, ")"),
                in_call && pid > 0 && caller.ok() && *caller == pid &&
                    entries_in_call == want_in_call);
  if (!in_call || pid <= 0) {
    ADD_FAILURE() << replica1_->LogTail();
    return false;
  }

  // Replica 2, started now, sees replica 1's live lease and waits.
  std::map<std::string, std::string> env2 = sched_env_;
  env2["ANKEN_BILLING_ADDR"] = billing_->address();
  auto replica2 = ServiceProcess::Start(ANKEN_SCHEDULER_BIN, env2);
  if (!replica2.ok()) {
    ADD_FAILURE() << replica2.status();
    return false;
  }

  int64_t frozen_backend = 0;
  if (p.in_transaction) {
    int tries = 0;
    frozen_backend = StopInsideTransaction(pid, &tries);
    held &= Check(kScenario,
                  absl::StrCat(at, ": replica 1 stopped (SIGSTOP) inside its lease renewal, "
                               "its backend ", frozen_backend, " idle in a transaction holding "
                               "the run's row lock (", tries, " stops tried)"),
                  frozen_backend > 0);
    const bool blocked = WaitUntil(
        [&] {
          return QueryInt(*conn_, "SELECT count(*) FROM pg_stat_activity WHERE "
                                  "wait_event_type = 'Lock' AND datname = current_database()") > 0;
        },
        absl::Seconds(4));
    held &= Check(kScenario, absl::StrCat(at, ": replica 2 is blocked behind that lock"),
                  blocked);
  } else {
    const absl::Status stopped = StopProcess(pid);
    held &= Check(kScenario, absl::StrCat(at, ": replica 1 stopped (SIGSTOP) holding the claim: ",
                                          stopped.ok() ? "every thread stopped"
                                                       : stopped.ToString()),
                  stopped.ok());
  }

  // Past the lease (10 s): replica 2 takes the slot over and finishes it.
  clock_.Advance(absl::Seconds(30));
  const absl::Time started = absl::Now();
  const bool finished = WaitUntil(
      [&] { return QueryInt(*conn_, absl::StrCat("SELECT state ", RunWhere(p.day))) == 3; },
      absl::Seconds(90));
  const absl::Duration took = absl::Now() - started;
  const std::string snapshot = RunRow(p.day);
  const std::string owner2 = QueryText(*conn_, "SELECT owner FROM scheduler.runs WHERE state = 1");
  const int64_t takeovers = QueryInt(*conn_, absl::StrCat("SELECT takeovers ", RunWhere(p.day)));
  const int64_t attempts = QueryInt(*conn_, absl::StrCat("SELECT attempts ", RunWhere(p.day)));
  std::string extra;
  bool extra_ok = true;
  if (p.in_transaction) {
    const int64_t alive = QueryInt(*conn_, absl::StrCat(
        "SELECT count(*) FROM pg_stat_activity WHERE pid = ", frozen_backend));
    extra = absl::StrCat("; replica 1's idle transaction was ended by the server (backend ",
                         alive == 0 ? "gone" : "still there", ")");
    extra_ok = alive == 0;
  }
  held &= Check(kScenario,
                absl::StrCat(at, ": replica 2 took the slot over once the lease lapsed and "
                             "finished it in ", absl::FormatDuration(absl::Trunc(took, absl::Milliseconds(1))),
                             ": SUCCEEDED, attempts ", attempts, ", takeovers ", takeovers, extra),
                finished && attempts == 2 && takeovers == 1 && owner2.empty() && extra_ok);
  if (!finished) ADD_FAILURE() << (*replica2)->LogTail();
  const int64_t runs_mid = RenewalRuns(p.day);
  const int64_t entries_mid = Entries(p.day, false);

  // Replica 1 resumes and gets its (late) reply; its write must be refused.
  const absl::Status resumed = ContinueProcess(pid);
  gate_->Release();
  const bool logged =
      WaitUntil([&] { return TakenOverLines() == index + 1; }, absl::Seconds(60));
  const std::string after = RunRow(p.day);
  held &= Check(kScenario,
                absl::StrCat(at, ": replica 1 resumed (SIGCONT), got ",
                             p.hold == GatedBilling::Hold::kReply && !p.late.ok()
                                 ? CodeText(p.late)
                                 : CodeText(gate_->last_forwarded()),
                             " for its call, and its late write was refused: the run row is "
                             "unchanged [", after, "]"),
                resumed.ok() && logged && !snapshot.empty() && after == snapshot);
  if (!logged) ADD_FAILURE() << replica1_->LogTail();

  const int64_t runs_after = RenewalRuns(p.day);
  const int64_t entries_after = Entries(p.day, false);
  const int64_t plans_after = Entries(p.day, true);
  held &= Check(kScenario,
                absl::StrCat(at, ": nothing doubled: billing ran the renewal ", runs_mid, "->",
                             runs_after, " time(s) for the day and has ", entries_mid, "->",
                             entries_after, " entries for ", plans_after,
                             " plans in the month (the late call to billing: ",
                             CodeText(gate_->last_forwarded()), ")"),
                runs_mid == 1 && runs_after == 1 && entries_mid == kPlans &&
                    entries_after == kPlans && plans_after == kPlans &&
                    gate_->last_forwarded().ok());
  (void)(*replica2)->Stop();
  return held;
}

TEST_F(StaleWorkerTest, AResumedReplicaCannotOverwriteTheSlotItsSuccessorFinished) {
  auto started = ServiceProcess::Start(ANKEN_SCHEDULER_BIN, [&] {
    std::map<std::string, std::string> env1 = sched_env_;
    env1["ANKEN_BILLING_ADDR"] = absl::StrCat("127.0.0.1:", gate_port_);
    return env1;
  }());
  ASSERT_TRUE(started.ok()) << started.status();
  replica1_ = std::move(*started);

  const StopPoint points[] = {
      {"reply lost", absl::CivilDay(2025, 2, 3), GatedBilling::Hold::kReply,
       grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "the stale call timed out"), false},
      {"request late", absl::CivilDay(2025, 3, 3), GatedBilling::Hold::kRequest,
       grpc::Status::OK, false},
      {"frozen in a transaction", absl::CivilDay(2025, 4, 3), GatedBilling::Hold::kReply,
       grpc::Status::OK, true},
  };
  bool held = true;
  int index = 0;
  for (const StopPoint& p : points) {
    held &= RunStopPoint(p, index++);
    if (::testing::Test::HasFatalFailure()) break;
  }

  const int64_t runs = QueryInt(*conn_, "SELECT count(*) FROM scheduler.runs WHERE job = "
                                        "'renewals'");
  const int64_t succeeded = QueryInt(*conn_, "SELECT count(*) FROM scheduler.runs WHERE job = "
                                             "'renewals' AND state = 3 AND takeovers = 1");
  const int64_t entries = QueryInt(*conn_, "SELECT count(*) FROM billing.entries");
  const int64_t distinct = QueryInt(
      *conn_, "SELECT count(*) FROM (SELECT DISTINCT project_id, period FROM billing.entries) e");
  const int64_t renewal_runs = QueryInt(*conn_, "SELECT count(*) FROM billing.renewal_runs");
  held &= Check(kScenario,
                absl::StrCat(runs, " renewal slots, ", succeeded,
                             " SUCCEEDED after one takeover; billing: ", renewal_runs,
                             " renewal runs, ", entries, " entries for ", distinct,
                             " plan-months (want 3, 3, 3, ", 3 * kPlans, ", ", 3 * kPlans, ")"),
                runs == 3 && succeeded == 3 && renewal_runs == 3 && entries == 3 * kPlans &&
                    distinct == 3 * kPlans);
  RecordScenario(kScenario, held,
                 absl::StrCat("3 stop points (reply lost, request late, frozen in a "
                              "transaction), 3 takeovers, ", TakenOverLines(),
                              " late writes refused, ", entries - distinct, " duplicates"));
  EXPECT_TRUE(held);
}

}  // namespace
}  // namespace anken::reliability
