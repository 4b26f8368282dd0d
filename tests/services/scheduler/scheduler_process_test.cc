// Three real anken-scheduler processes on one Postgres, driven through weeks of schedule by
// a test clock file, against a fake billing peer (an in-process gRPC server that records every
// RunRenewals request_id and, like the real billing, answers a repeated request_id as a replay):
//   - 40 days across two month starts and Golden Week: every slot ran exactly once and billing
//     saw each request_id once;
//   - SIGKILL of the replica holding a slot mid-call: another replica takes the slot over once
//     the lease lapses, finishes it, and the effect happens once;
//   - 10 days with no process running: 10 catch-up runs, in order.

#include <signal.h>

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <set>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "anken/billing/v1/billing_service.grpc.pb.h"
#include "common/calendar/calendar.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "tests/services/scheduler/scheduler_process.h"

namespace anken::scheduler::testing {
namespace {

using absl::CivilDay;

// BillingService with RunRenewals only. Effects happen once per request_id; a request_id seen
// again is a replay (waiting for the first call when it is still in flight, as the real
// billing's idempotency key would). A day can be blocked so that its call hangs until released.
class FakeBilling final : public billing::v1::BillingService::Service {
 public:
  grpc::Status RunRenewals(grpc::ServerContext*, const billing::v1::RunRenewalsRequest* req,
                           billing::v1::RenewalRun* resp) override {
    std::unique_lock<std::mutex> lock(mu_);
    const std::string id = req->request_id();
    ++calls_[id];
    arrivals_.push_back(id);
    cv_.notify_all();
    if (in_flight_.count(id) > 0 || done_.count(id) > 0) {
      cv_.wait(lock, [&] { return done_.count(id) > 0; });
      ++replays_[id];
      *resp = done_[id];
      return grpc::Status::OK;
    }
    in_flight_.insert(id);
    const CivilDay as_of(req->as_of().year(), req->as_of().month(), req->as_of().day());
    cv_.wait(lock, [&] { return blocked_.count(as_of) == 0; });
    ++effects_[id];
    as_of_[id] = as_of;
    billing::v1::RenewalRun run;
    run.set_id(++next_run_);
    *run.mutable_as_of() = req->as_of();
    done_[id] = run;
    effect_order_.push_back(id);
    in_flight_.erase(id);
    cv_.notify_all();
    *resp = run;
    return grpc::Status::OK;
  }

  void Block(CivilDay day) {
    std::lock_guard<std::mutex> lock(mu_);
    blocked_.insert(day);
  }
  void Release(CivilDay day) {
    std::lock_guard<std::mutex> lock(mu_);
    blocked_.erase(day);
    cv_.notify_all();
  }
  int Calls(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_.count(id) ? calls_[id] : 0;
  }
  int Effects(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    return effects_.count(id) ? effects_[id] : 0;
  }
  int Replays(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    return replays_.count(id) ? replays_[id] : 0;
  }
  std::map<std::string, int> AllCalls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  std::map<std::string, int> AllEffects() {
    std::lock_guard<std::mutex> lock(mu_);
    return effects_;
  }
  std::map<std::string, CivilDay> AsOf() {
    std::lock_guard<std::mutex> lock(mu_);
    return as_of_;
  }
  std::vector<std::string> Arrivals() {
    std::lock_guard<std::mutex> lock(mu_);
    return arrivals_;
  }
  // Unblocks everything so the server can shut down.
  void ReleaseAll() {
    std::lock_guard<std::mutex> lock(mu_);
    blocked_.clear();
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<CivilDay> blocked_;
  std::set<std::string> in_flight_;
  std::map<std::string, billing::v1::RenewalRun> done_;
  std::map<std::string, int> calls_, effects_, replays_;
  std::map<std::string, CivilDay> as_of_;
  std::vector<std::string> arrivals_, effect_order_;
  int64_t next_run_ = 0;
};

std::string RenewalsId(CivilDay day) {
  return RequestIdFor("renewals", absl::CivilMinute(day.year(), day.month(), day.day(), 0, 0));
}

class ThreeReplicasTest : public SchedulerProcessTest {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &billing_port_);
    builder.RegisterService(&billing_);
    billing_server_ = builder.BuildAndStart();
    ASSERT_NE(billing_server_, nullptr);
    // Saturday 2026-04-25 23:00 in Tokyo: renewals' first slot is 4/26 00:00.
    clock_.SetTokyo(2026, 4, 25, 23, 0);
    env_ = BaseEnv();
    env_["ANKEN_BILLING_ADDR"] = absl::StrCat("127.0.0.1:", billing_port_);
    // billing_alerts on business days, so the holidays show in what runs.
    env_["ANKEN_SCHEDULE_BILLING_ALERTS"] = "businessdays 09:00";
    Migrate(env_);
  }

  void TearDown() override {
    replicas_.clear();
    billing_.ReleaseAll();
    if (billing_server_) billing_server_->Shutdown(std::chrono::system_clock::now());
    SchedulerProcessTest::TearDown();
  }

  void StartAll() {
    for (int i = 0; i < 3; ++i) {
      replicas_.emplace_back();
      ASSERT_NO_FATAL_FAILURE(Start(env_, &replicas_.back()));
    }
  }

  int64_t Succeeded(const std::string& job) {
    return Count(absl::StrCat("SELECT count(*) FROM scheduler.runs WHERE job = '", job,
                              "' AND state = 3"));
  }
  int64_t Active() { return Count("SELECT count(*) FROM scheduler.runs WHERE state IN (1, 2)"); }

  // Slots of `schedule` in (from, to], the test's own expectation.
  static int SlotsIn(const char* schedule, absl::CivilMinute from, absl::CivilMinute to) {
    Schedule s = *ParseSchedule(schedule);
    int n = 0;
    for (auto next = NextSlotAfter(s, from); next.has_value() && *next <= to;
         next = NextSlotAfter(s, *next)) {
      ++n;
    }
    return n;
  }

  // Moves the clock to `day` 09:30 and waits until every slot up to then has succeeded.
  void StepTo(CivilDay day) {
    clock_.SetTokyo(day.year(), day.month(), day.day(), 9, 30);
    const absl::CivilMinute now(day.year(), day.month(), day.day(), 9, 30);
    const absl::CivilMinute start(2026, 4, 25, 23, 0);
    const int renewals = SlotsIn("daily 00:00", start, now);
    const int alerts = SlotsIn("businessdays 09:00", start, now);
    ASSERT_TRUE(WaitUntil([&] {
      return Succeeded("renewals") == renewals && Succeeded("billing_alerts") == alerts &&
             Active() == 0;
    })) << "at " << day << ": renewals " << Succeeded("renewals") << "/" << renewals
        << ", alerts " << Succeeded("billing_alerts") << "/" << alerts;
  }

  FakeBilling billing_;
  int billing_port_ = 0;
  std::unique_ptr<grpc::Server> billing_server_;
  std::map<std::string, std::string> env_;
  std::vector<Replica> replicas_;
};

TEST_F(ThreeReplicasTest, FortyDaysEverySlotExactlyOnce) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  // Mostly day by day; sometimes several days at once (the replicas catch up live).
  std::vector<CivilDay> stops;
  for (CivilDay d(2026, 4, 26); d <= CivilDay(2026, 6, 4); ++d) {
    if (d == CivilDay(2026, 5, 3) || d == CivilDay(2026, 5, 4) || d == CivilDay(2026, 5, 19) ||
        d == CivilDay(2026, 5, 20)) {
      continue;  // jumped over: 5/2 -> 5/5 and 5/18 -> 5/21
    }
    stops.push_back(d);
  }
  for (CivilDay d : stops) ASSERT_NO_FATAL_FAILURE(StepTo(d));

  // Renewals: one run per day 4/26..6/4, each SUCCEEDED, each request_id seen once by billing
  // with the slot's day as as_of.
  std::set<std::string> expected;
  for (CivilDay d(2026, 4, 26); d <= CivilDay(2026, 6, 4); ++d) expected.insert(RenewalsId(d));
  ASSERT_EQ(expected.size(), 40u);
  std::map<std::string, int> calls = billing_.AllCalls();
  std::set<std::string> seen;
  for (const auto& [id, n] : calls) {
    seen.insert(id);
    EXPECT_EQ(n, 1) << id << " was called " << n << " times";
  }
  EXPECT_EQ(seen, expected);
  for (const auto& [id, n] : billing_.AllEffects()) EXPECT_EQ(n, 1) << id;
  for (const auto& [id, day] : billing_.AsOf()) EXPECT_EQ(RenewalsId(day), id);
  EXPECT_EQ(Count("SELECT count(*) FROM scheduler.runs WHERE job = 'renewals'"), 40);
  EXPECT_EQ(Succeeded("renewals"), 40);

  // Alerts: the business days only — no weekends, no Golden Week (4/29, 5/4, 5/5, 5/6).
  int business = 0;
  for (CivilDay d(2026, 4, 26); d <= CivilDay(2026, 6, 4); ++d) {
    business += calendar::IsBusinessDay(d) ? 1 : 0;
  }
  EXPECT_EQ(business, 25);
  EXPECT_EQ(Succeeded("billing_alerts"), business);
  for (const char* holiday : {"2026-04-29", "2026-05-04", "2026-05-05", "2026-05-06",
                              "2026-05-02", "2026-05-03"}) {
    EXPECT_EQ(Count(absl::StrCat("SELECT count(*) FROM scheduler.runs WHERE job = "
                                 "'billing_alerts' AND "
                                 "(slot_time AT TIME ZONE 'UTC' + interval '9 hours')::date = '",
                                 holiday, "'")),
              0)
        << holiday;
  }
  // The report jobs have no peer: disabled, never a run.
  EXPECT_EQ(Count("SELECT count(*) FROM scheduler.runs WHERE job LIKE 'report%' OR "
                  "job = 'open_report_period'"),
            0);

  // The work was shared: more than one replica finished runs (76 slots won by whichever
  // replica's tick came first).
  int working = 0;
  for (Replica& r : replicas_) {
    anken::testing::Subprocess& p = r.Quiet();
    (void)p.WaitForLine([](const std::string&) { return false; }, absl::Milliseconds(200));
    working += absl::StrContains(p.output(), "\"run finished\"") ? 1 : 0;
  }
  EXPECT_GE(working, 2);

  // The same, through the API of any replica.
  auto jobs = Call(replicas_[1], &v1::SchedulerService::Stub::ListJobs, v1::ListJobsRequest(),
                   Token(auth::Role::kStaff, "staff-1"));
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  ASSERT_EQ(jobs->jobs_size(), 4);
  EXPECT_EQ(jobs->jobs(0).last_run().slot(), "2026-06-04T00:00");
  EXPECT_EQ(jobs->jobs(0).next_slot(), "2026-06-05T00:00");
  EXPECT_FALSE(jobs->jobs(1).enabled());
  EXPECT_EQ(jobs->jobs(1).disabled_reason(), "ANKEN_REPORT_ADDR is not set");
  v1::ListRunsRequest runs_req;
  runs_req.set_job("renewals");
  runs_req.set_page_size(1000);
  auto runs = Call(replicas_[2], &v1::SchedulerService::Stub::ListRuns, runs_req,
                   Token(auth::Role::kAdmin, "admin-1"));
  ASSERT_TRUE(runs.ok()) << runs.status();
  ASSERT_EQ(runs->runs_size(), 40);
  for (const v1::Run& r : runs->runs()) {
    EXPECT_EQ(r.state(), v1::RUN_STATE_SUCCEEDED) << r.slot();
    EXPECT_EQ(r.attempts(), 1) << r.slot();
    EXPECT_EQ(r.takeovers(), 0) << r.slot();
  }
}

TEST_F(ThreeReplicasTest, SigkillOfTheHolderMidRunIsTakenOverAndTheEffectHappensOnce) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  const CivilDay day(2026, 4, 26);
  const std::string id = RenewalsId(day);
  billing_.Block(day);
  clock_.SetTokyo(2026, 4, 26, 0, 0, 30);
  // Some replica claims the slot and is now inside the billing call.
  ASSERT_TRUE(WaitUntil([&] { return billing_.Calls(id) == 1; }));
  std::string holder;
  ASSERT_TRUE(WaitUntil([&] {
    pqxx::connection c(db_.url());
    pqxx::nontransaction tx(c);
    pqxx::result r = tx.exec("SELECT owner FROM scheduler.runs WHERE job = 'renewals' AND "
                             "state = 1");
    if (r.empty()) return false;
    holder = r[0][0].as<std::string>();
    return true;
  }));
  Replica* victim = nullptr;
  for (Replica& r : replicas_) {
    if (r.id == holder) victim = &r;
  }
  ASSERT_NE(victim, nullptr) << holder;
  victim->Quiet().Signal(SIGKILL);
  auto killed = victim->process->Wait(absl::Seconds(10));
  ASSERT_TRUE(killed.ok());
  EXPECT_EQ(*killed, 128 + SIGKILL);

  // While the dead replica's lease holds, nobody else calls billing.
  clock_.Advance(absl::Seconds(5));
  EXPECT_FALSE(WaitUntil([&] { return billing_.Calls(id) > 1; }, absl::Milliseconds(500)));
  // Once it lapses (10 s lease), another replica takes the slot over and repeats the call with
  // the same request_id; billing treats it as a replay of the call still in flight.
  clock_.Advance(absl::Seconds(10));
  ASSERT_TRUE(WaitUntil([&] { return billing_.Calls(id) == 2; }));
  EXPECT_EQ(Count("SELECT takeovers FROM scheduler.runs WHERE job = 'renewals'"), 1);
  billing_.Release(day);
  ASSERT_TRUE(WaitUntil([&] { return Succeeded("renewals") == 1 && Active() == 0; }));

  EXPECT_EQ(billing_.Effects(id), 1);
  EXPECT_EQ(billing_.Calls(id), 2);
  EXPECT_EQ(billing_.Replays(id), 1);
  EXPECT_EQ(Count("SELECT attempts FROM scheduler.runs WHERE job = 'renewals'"), 2);
  v1::ListRunsRequest req;
  req.set_job("renewals");
  const Replica& survivor = replicas_[0].id == holder ? replicas_[1] : replicas_[0];
  auto runs = Call(survivor, &v1::SchedulerService::Stub::ListRuns, req,
                   Token(auth::Role::kStaff, "staff-1"));
  ASSERT_TRUE(runs.ok()) << runs.status();
  ASSERT_EQ(runs->runs_size(), 1);
  EXPECT_EQ(runs->runs(0).state(), v1::RUN_STATE_SUCCEEDED);
  EXPECT_EQ(runs->runs(0).takeovers(), 1);
  EXPECT_EQ(runs->runs(0).request_id(), id);

  // The two survivors carry on: the next days run once each.
  ASSERT_NO_FATAL_FAILURE(StepTo(CivilDay(2026, 4, 27)));
  ASSERT_NO_FATAL_FAILURE(StepTo(CivilDay(2026, 4, 28)));
  EXPECT_EQ(billing_.Calls(RenewalsId(CivilDay(2026, 4, 27))), 1);
  EXPECT_EQ(billing_.Calls(RenewalsId(CivilDay(2026, 4, 28))), 1);
}

TEST_F(ThreeReplicasTest, TenDaysOfDowntimeAreCaughtUpInOrder) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  ASSERT_NO_FATAL_FAILURE(StepTo(CivilDay(2026, 4, 26)));
  ASSERT_NO_FATAL_FAILURE(StepTo(CivilDay(2026, 4, 27)));
  // Every replica stops (gracefully).
  for (Replica& r : replicas_) r.Quiet().Signal(SIGTERM);
  for (Replica& r : replicas_) {
    auto code = r.process->Wait(absl::Seconds(20));
    ASSERT_TRUE(code.ok()) << code.status();
    EXPECT_EQ(*code, 0) << r.process->output();
  }
  replicas_.clear();
  const size_t before = billing_.Arrivals().size();
  ASSERT_EQ(before, 2u);

  // Ten days pass with no scheduler running.
  clock_.SetTokyo(2026, 5, 7, 9, 30);
  EXPECT_EQ(Count("SELECT count(*) FROM scheduler.runs WHERE job = 'renewals'"), 2);
  ASSERT_NO_FATAL_FAILURE(StartAll());
  ASSERT_NO_FATAL_FAILURE(StepTo(CivilDay(2026, 5, 7)));

  // Ten catch-up runs, 4/28..5/7, each once and in slot order.
  std::vector<std::string> arrivals = billing_.Arrivals();
  std::vector<std::string> catch_up(arrivals.begin() + static_cast<long>(before), arrivals.end());
  std::vector<std::string> expected;
  for (CivilDay d(2026, 4, 28); d <= CivilDay(2026, 5, 7); ++d) expected.push_back(RenewalsId(d));
  EXPECT_EQ(catch_up, expected);
  EXPECT_EQ(Succeeded("renewals"), 12);
  // Business-day alerts caught up too: 4/28, 4/30, 5/1 and 5/7.
  EXPECT_EQ(Count("SELECT count(*) FROM scheduler.runs WHERE job = 'billing_alerts' AND "
                  "slot_time > '2026-04-27T09:00:00+09:00'"),
            4);
  // The runs were created in slot order.
  EXPECT_EQ(Count("SELECT count(*) FROM scheduler.runs a JOIN scheduler.runs b "
                  "ON a.job = b.job AND a.id < b.id AND a.slot_time > b.slot_time"),
            0);
}

TEST_F(ThreeReplicasTest, AReplicaStartedWhileTheDatabaseIsDownSchedulesOnceItIsBack) {
  auto admin = [&](const std::string& sql) {
    pqxx::connection c(anken::testing::HarnessDatabaseUrl());
    pqxx::nontransaction tx(c);
    tx.exec(sql);
  };
  conn_.reset();
  admin(absl::StrCat("ALTER DATABASE ", db_.name(), " ALLOW_CONNECTIONS false"));
  replicas_.emplace_back();
  ASSERT_NO_FATAL_FAILURE(Start(env_, &replicas_.back()));  // serves nonetheless
  admin(absl::StrCat("ALTER DATABASE ", db_.name(), " ALLOW_CONNECTIONS true"));
  ASSERT_TRUE(WaitUntil([&] { return Count("SELECT count(*) FROM scheduler.jobs") == 4; }));
  ASSERT_NO_FATAL_FAILURE(StepTo(CivilDay(2026, 4, 26)));
  ASSERT_NO_FATAL_FAILURE(StepTo(CivilDay(2026, 4, 27)));
  EXPECT_EQ(billing_.Calls(RenewalsId(CivilDay(2026, 4, 26))), 1);
  EXPECT_EQ(billing_.Calls(RenewalsId(CivilDay(2026, 4, 27))), 1);
  anken::testing::Subprocess& p = replicas_.back().Quiet();
  (void)p.WaitForLine([](const std::string&) { return false; }, absl::Milliseconds(100));
  EXPECT_TRUE(absl::StrContains(p.output(), "cannot register the jobs yet"));
}

TEST_F(SchedulerProcessTest, BadConfigurationAndAnUnpermittedTestClockStopWithExitCode2) {
  clock_.SetTokyo(2026, 4, 25, 23, 0);
  auto env = BaseEnv();
  env["ANKEN_SCHEDULE_RENEWALS"] = "hourly";
  env["ANKEN_SMTP_URL"] = "smtp://127.0.0.1:2525";  // without ANKEN_MAIL_FROM
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{}, std::vector<std::string>{"--check-config"}}) {
    auto r = anken::testing::RunToExit(ANKEN_SCHEDULER_BIN, args, env);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->first, 2) << r->second;
    EXPECT_TRUE(absl::StrContains(r->second, "ANKEN_SCHEDULE_RENEWALS")) << r->second;
    EXPECT_TRUE(absl::StrContains(r->second, "ANKEN_MAIL_FROM")) << r->second;
  }
  // The file clock is refused unless explicitly permitted: a stray variable must not decide
  // when renewals run.
  env = BaseEnv();
  env.erase("ANKEN_ALLOW_TEST_CLOCK");
  auto refused = anken::testing::RunToExit(ANKEN_SCHEDULER_BIN, {}, env);
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ(refused->first, 2);
  EXPECT_TRUE(absl::StrContains(refused->second, "ANKEN_ALLOW_TEST_CLOCK=1")) << refused->second;
  auto good = anken::testing::RunToExit(ANKEN_SCHEDULER_BIN, {"--check-config"}, BaseEnv());
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_EQ(good->first, 0) << good->second;
}

}  // namespace
}  // namespace anken::scheduler::testing
