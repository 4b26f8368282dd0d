// PgSchedulerStore and JobRunner::Step on a real Postgres: claiming by unique insert, leases
// and takeovers, catch-up and the horizon, pauses, disabled jobs, manual triggers, retries,
// the notification outbox, and many concurrent claimers.

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/services/scheduler/scheduler_fixture.h"

namespace anken::scheduler::testing {
namespace {

using absl::CivilMinute;
// Inside a gtest fixture, plain "Run" names testing::Test::Run.
using RunRow = ::anken::scheduler::Run;

class PgSchedulerStoreTest : public SchedulerDbTest {
 protected:
  void Ensure(const std::string& job, const char* schedule, bool enabled = true) {
    ASSERT_TRUE(store_.EnsureJobs({JobSpec{job, MustParse(schedule), enabled}}, clock_.Now()).ok());
  }
  AdvanceResult Advance(const AdvanceRequest& r) {
    absl::StatusOr<AdvanceResult> out = store_.Advance(r);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.value_or(AdvanceResult());
  }
  bool Finish(const RunRow& run, const std::string& owner, RunState state = RunState::kSucceeded) {
    RunOutcome o;
    o.state = state;
    o.now = clock_.Now();
    o.duration_ms = 12;
    o.summary = "ok";
    absl::StatusOr<bool> done = store_.FinishRun(run.id, owner, o);
    EXPECT_TRUE(done.ok()) << done.status();
    return done.value_or(false);
  }
  std::vector<RunRow> Runs(const std::string& job) {
    absl::StatusOr<std::vector<RunRow>> runs =
        store_.ListRuns(job, {}, absl::nullopt, 1000, absl::InfiniteFuture());
    EXPECT_TRUE(runs.ok()) << runs.status();
    return runs.value_or(std::vector<RunRow>());
  }
  WriteContext Admin() const {
    WriteContext w;
    w.actor = "admin-1";
    w.actor_role = "admin";
    w.method = "/anken.scheduler.v1.SchedulerService/TriggerJob";
    w.now = clock_.Now();
    return w;
  }
};

TEST_F(PgSchedulerStoreTest, ANewJobStartsAfterNowAndClaimsBySlotInsert) {
  Ensure("renewals", "daily 00:00");
  // At 23:00 nothing is due: the installation does not replay today's 00:00.
  EXPECT_FALSE(Advance(Request("renewals", "daily 00:00", "a")).claimed.has_value());
  EXPECT_EQ(Count("SELECT count(*) FROM scheduler.runs"), 0);

  clock_.Set(Tokyo(2026, 4, 26, 0, 0, 1));
  AdvanceResult a = Advance(Request("renewals", "daily 00:00", "a"));
  ASSERT_TRUE(a.claimed.has_value());
  EXPECT_EQ(a.claimed->slot, CivilMinute(2026, 4, 26, 0, 0));
  EXPECT_EQ(a.claimed->state, RunState::kRunning);
  EXPECT_EQ(a.claimed->owner, "a");
  EXPECT_EQ(a.claimed->attempts, 1);
  EXPECT_FALSE(a.took_over);
  // Another replica meanwhile: the job is busy.
  EXPECT_FALSE(Advance(Request("renewals", "daily 00:00", "b")).claimed.has_value());
  EXPECT_TRUE(Finish(*a.claimed, "a"));
  // Done: nothing more until the next slot.
  EXPECT_FALSE(Advance(Request("renewals", "daily 00:00", "b")).claimed.has_value());
  std::vector<RunRow> runs = Runs("renewals");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].state, RunState::kSucceeded);
  EXPECT_EQ(runs[0].duration_ms, 12);
  EXPECT_TRUE(runs[0].finish_time.has_value());
  EXPECT_EQ(runs[0].owner, "");
  // The unique key is what makes the slot once: a second row cannot exist.
  EXPECT_THROW(
      {
        pqxx::connection c(db_.url());
        pqxx::work tx(c);
        tx.exec("INSERT INTO scheduler.runs (job, slot_time, state, trigger, create_time) "
                "SELECT job, slot_time, 3, 1, now() FROM scheduler.runs");
        tx.commit();
      },
      pqxx::unique_violation);
}

TEST_F(PgSchedulerStoreTest, ALapsedLeaseIsTakenOverAndTheOldOwnerCannotFinish) {
  Ensure("renewals", "daily 00:00");
  clock_.Set(Tokyo(2026, 4, 26, 0, 0, 5));
  AdvanceResult a = Advance(Request("renewals", "daily 00:00", "a"));
  ASSERT_TRUE(a.claimed.has_value());

  // Renewed by the owner, the lease holds past its first end, up to its last second.
  clock_.Advance(absl::Seconds(25));
  ASSERT_EQ(*store_.RenewLeases("a", clock_.Now() + absl::Seconds(30)), 1);
  clock_.Advance(absl::Seconds(29));
  EXPECT_FALSE(Advance(Request("renewals", "daily 00:00", "b")).claimed.has_value());

  // The owner stops renewing (crashed); the moment the lease lapses another replica takes over.
  clock_.Advance(absl::Seconds(1));
  AdvanceResult b = Advance(Request("renewals", "daily 00:00", "b"));
  ASSERT_TRUE(b.claimed.has_value());
  EXPECT_TRUE(b.took_over);
  EXPECT_EQ(b.claimed->id, a.claimed->id);
  EXPECT_EQ(b.claimed->owner, "b");
  EXPECT_EQ(b.claimed->attempts, 2);
  EXPECT_EQ(b.claimed->takeovers, 1);
  // A third replica sees b's fresh lease.
  EXPECT_FALSE(Advance(Request("renewals", "daily 00:00", "c")).claimed.has_value());

  // The old owner's late outcome is refused; the new owner's stands.
  EXPECT_FALSE(Finish(*a.claimed, "a", RunState::kFailed));
  EXPECT_TRUE(Finish(*b.claimed, "b"));
  std::vector<RunRow> runs = Runs("renewals");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].state, RunState::kSucceeded);
  EXPECT_EQ(runs[0].takeovers, 1);
}

TEST_F(PgSchedulerStoreTest, CatchUpRunsMissedSlotsInOrderAndRecordsOlderOnesAsSkipped) {
  Ensure("renewals", "daily 00:00");
  // 40 days later (the cursor stands at 4/25 00:00): 4/26..6/4 are due; with a 35-day horizon
  // 4/26..4/30 are older than 35 days at 6/4 00:30.
  clock_.Set(Tokyo(2026, 6, 4, 0, 30));
  std::vector<CivilMinute> ran;
  for (;;) {
    AdvanceResult r = Advance(Request("renewals", "daily 00:00", "a"));
    if (!r.claimed.has_value()) break;
    ran.push_back(r.claimed->slot);
    ASSERT_TRUE(Finish(*r.claimed, "a"));
  }
  ASSERT_EQ(ran.size(), 35u);
  EXPECT_EQ(ran.front(), CivilMinute(2026, 5, 1, 0, 0));
  EXPECT_EQ(ran.back(), CivilMinute(2026, 6, 4, 0, 0));
  for (size_t i = 1; i < ran.size(); ++i) EXPECT_EQ(ran[i], ran[i - 1] + 24 * 60);
  EXPECT_EQ(Count("SELECT count(*) FROM scheduler.runs WHERE state = 5 "
                  "AND error_code = 'BEYOND_CATCHUP_HORIZON'"),
            5);
  std::vector<RunRow> skipped;
  absl::StatusOr<std::vector<RunRow>> listed = store_.ListRuns(
      "renewals", {RunState::kSkipped}, absl::nullopt, 100, absl::InfiniteFuture());
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 5u);
  EXPECT_EQ(listed->front().slot, CivilMinute(2026, 4, 30, 0, 0));  // latest first
  EXPECT_NE(listed->front().error.find("catch-up horizon"), std::string::npos);
}

TEST_F(PgSchedulerStoreTest, PausedJobsRecordTheirSlotsAsSkippedAndResumeAfterwards) {
  Ensure("billing_alerts", "daily 09:00");
  WriteContext admin = Admin();
  absl::StatusOr<JobRow> paused = store_.SetPaused(admin, "billing_alerts", true, "年末の点検");
  ASSERT_TRUE(paused.ok()) << paused.status();
  EXPECT_TRUE(paused->paused);
  EXPECT_EQ(paused->paused_by, "admin-1");
  clock_.Set(Tokyo(2026, 4, 28, 10, 0));
  AdvanceResult r = Advance(Request("billing_alerts", "daily 09:00", "a"));
  EXPECT_FALSE(r.claimed.has_value());
  EXPECT_EQ(r.skipped, (std::vector<CivilMinute>{CivilMinute(2026, 4, 26, 9, 0),
                                                 CivilMinute(2026, 4, 27, 9, 0),
                                                 CivilMinute(2026, 4, 28, 9, 0)}));
  EXPECT_EQ(Count("SELECT count(*) FROM scheduler.runs WHERE error_code = 'JOB_PAUSED'"), 3);
  // Pausing again changes nothing (and writes no second audit event).
  ASSERT_TRUE(store_.SetPaused(admin, "billing_alerts", true, "again").ok());
  EXPECT_EQ(Count("SELECT count(*) FROM scheduler.audit_events WHERE resource_type = 'job'"), 1);

  ASSERT_TRUE(store_.SetPaused(admin, "billing_alerts", false, "").ok());
  EXPECT_FALSE(Advance(Request("billing_alerts", "daily 09:00", "a")).claimed.has_value());
  clock_.Set(Tokyo(2026, 4, 29, 9, 0));
  AdvanceResult next = Advance(Request("billing_alerts", "daily 09:00", "a"));
  ASSERT_TRUE(next.claimed.has_value());
  EXPECT_EQ(next.claimed->slot, CivilMinute(2026, 4, 29, 9, 0));
  EXPECT_EQ(Count("SELECT count(*) FROM scheduler.audit_events WHERE resource_type = 'job'"), 2);
}

TEST_F(PgSchedulerStoreTest, DisabledJobsNeverClaimAndDoNotReplayThePastWhenEnabled) {
  Ensure("open_report_period", "monthly 1 00:00", /*enabled=*/false);
  clock_.Set(Tokyo(2026, 6, 15, 0, 0));
  EXPECT_FALSE(
      Advance(Request("open_report_period", "monthly 1 00:00", "a", false)).claimed.has_value());
  EXPECT_EQ(Count("SELECT count(*) FROM scheduler.runs"), 0);
  // Enabled later: only the slots after it was last seen disabled are due.
  clock_.Set(Tokyo(2026, 7, 1, 0, 1));
  AdvanceResult r = Advance(Request("open_report_period", "monthly 1 00:00", "a", true));
  ASSERT_TRUE(r.claimed.has_value());
  EXPECT_EQ(r.claimed->slot, CivilMinute(2026, 7, 1, 0, 0));
  EXPECT_TRUE(r.skipped.empty());
  ASSERT_TRUE(Finish(*r.claimed, "a"));
  EXPECT_EQ(Count("SELECT count(*) FROM scheduler.runs"), 1);
}

TEST_F(PgSchedulerStoreTest, ManualTriggersFollowTheExactlyOnceRule) {
  Ensure("renewals", "daily 00:00");
  clock_.Set(Tokyo(2026, 4, 26, 0, 0, 30));
  AdvanceResult a = Advance(Request("renewals", "daily 00:00", "a"));
  ASSERT_TRUE(a.claimed.has_value());
  // The running slot: returned as it is.
  absl::StatusOr<std::pair<RunRow, bool>> same =
      store_.TriggerRun(Admin(), "renewals", CivilMinute(2026, 4, 26, 0, 0));
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_FALSE(same->second);
  EXPECT_EQ(same->first.id, a.claimed->id);
  ASSERT_TRUE(Finish(*a.claimed, "a"));
  // Succeeded: still returned as it is.
  EXPECT_FALSE(store_.TriggerRun(Admin(), "renewals", CivilMinute(2026, 4, 26, 0, 0))->second);

  // An old slot with no run: a new manual run, queued now, claimed by the next Advance.
  absl::StatusOr<std::pair<RunRow, bool>> old =
      store_.TriggerRun(Admin(), "renewals", CivilMinute(2026, 4, 20, 0, 0));
  ASSERT_TRUE(old.ok());
  EXPECT_TRUE(old->second);
  EXPECT_EQ(old->first.state, RunState::kQueued);
  EXPECT_EQ(old->first.trigger, RunTrigger::kManual);
  EXPECT_EQ(old->first.triggered_by, "admin-1");
  AdvanceResult b = Advance(Request("renewals", "daily 00:00", "b"));
  ASSERT_TRUE(b.claimed.has_value());
  EXPECT_EQ(b.claimed->id, old->first.id);
  EXPECT_EQ(b.claimed->attempts, 1);
  ASSERT_TRUE(Finish(*b.claimed, "b", RunState::kFailed));

  // A failed slot may be triggered again: the same row, attempts reset.
  absl::StatusOr<std::pair<RunRow, bool>> again =
      store_.TriggerRun(Admin(), "renewals", CivilMinute(2026, 4, 20, 0, 0));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->second);
  EXPECT_EQ(again->first.id, old->first.id);
  EXPECT_EQ(again->first.state, RunState::kQueued);
  EXPECT_EQ(again->first.attempts, 0);
  EXPECT_EQ(Count("SELECT count(*) FROM scheduler.audit_events WHERE resource_type = 'run'"), 2);
  absl::Status nope = store_.TriggerRun(Admin(), "nope", CivilMinute(2026, 4, 20, 0, 0)).status();
  EXPECT_EQ(nope.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(std::string(nope.message()), "no such job");  // never the name it was given
}

TEST_F(PgSchedulerStoreTest, ARunnerRetriesTransientFailuresWithBackoffAndGivesUp) {
  ScriptedAction action;
  const JobKind* kind = FindJobKind("renewals");
  ScheduledJob job{kind, MustParse("daily 00:00"), &action};
  RunnerOptions options;
  options.owner = "runner-a";
  options.max_attempts = 3;
  options.retry_base = absl::Minutes(1);
  JobRunner runner(store_, clock_, {job}, options, nullptr);
  ASSERT_TRUE(store_.EnsureJobs({job.Spec()}, clock_.Now()).ok());

  clock_.Set(Tokyo(2026, 4, 26, 0, 0, 10));
  action.Script({absl::UnavailableError("billing down"), absl::DeadlineExceededError("slow"),
                 absl::UnavailableError("still down")});
  ASSERT_TRUE(*runner.Step(job));
  std::vector<RunRow> runs = Runs("renewals");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].state, RunState::kQueued);
  EXPECT_EQ(runs[0].error_code, "UNAVAILABLE");
  EXPECT_EQ(*runs[0].next_attempt_time, clock_.Now() + absl::Minutes(1));
  // Not before its time.
  EXPECT_FALSE(*runner.Step(job));
  clock_.Advance(absl::Minutes(1));
  ASSERT_TRUE(*runner.Step(job));  // attempt 2 fails; backoff doubles
  runs = Runs("renewals");
  EXPECT_EQ(runs[0].attempts, 2);
  EXPECT_EQ(*runs[0].next_attempt_time, clock_.Now() + absl::Minutes(2));
  clock_.Advance(absl::Minutes(2));
  ASSERT_TRUE(*runner.Step(job));  // attempt 3 fails: no attempts left
  runs = Runs("renewals");
  EXPECT_EQ(runs[0].state, RunState::kFailed);
  EXPECT_EQ(runs[0].attempts, 3);
  EXPECT_EQ(runs[0].error, "still down");
  // Every attempt carried the same request_id.
  for (const JobContext& c : action.calls()) {
    EXPECT_EQ(c.request_id, "scheduler:renewals:2026-04-26T00:00");
  }
  EXPECT_EQ(action.calls().size(), 3u);

  // A permanent error fails at once; the next day runs normally.
  clock_.Set(Tokyo(2026, 4, 27, 0, 0));
  action.Script({absl::InvalidArgumentError("as_of: bad")});
  ASSERT_TRUE(*runner.Step(job));
  runs = Runs("renewals");
  EXPECT_EQ(runs[0].slot, CivilMinute(2026, 4, 27, 0, 0));
  EXPECT_EQ(runs[0].state, RunState::kFailed);
  EXPECT_EQ(runs[0].attempts, 1);
}

TEST_F(PgSchedulerStoreTest, ManyConcurrentReplicasRunEverySlotExactlyOnce) {
  Ensure("renewals", "daily 00:00");
  Ensure("billing_alerts", "businessdays 09:00");
  // 30 days of backlog for two jobs, eight claimers racing on them.
  clock_.Set(Tokyo(2026, 5, 25, 12, 0));
  absl::Mutex mu;
  std::map<std::pair<std::string, int64_t>, int> executions;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      const std::string owner = absl::StrCat("replica-", t);
      for (int idle = 0; idle < 20;) {
        bool any = false;
        for (const auto& [job, schedule] :
             std::vector<std::pair<std::string, const char*>>{{"renewals", "daily 00:00"},
                                                              {"billing_alerts",
                                                               "businessdays 09:00"}}) {
          absl::StatusOr<AdvanceResult> r = store_.Advance(Request(job, schedule, owner));
          if (!r.ok() || !r->claimed.has_value()) continue;
          any = true;
          {
            absl::MutexLock lock(&mu);
            ++executions[{job, absl::ToUnixSeconds(SlotInstant(r->claimed->slot))}];
          }
          RunOutcome o;
          o.now = clock_.Now();
          EXPECT_TRUE(*store_.FinishRun(r->claimed->id, owner, o));
        }
        idle = any ? 0 : idle + 1;
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& [key, n] : executions) EXPECT_EQ(n, 1) << key.first << " " << key.second;
  EXPECT_EQ(Count("SELECT count(*) FROM scheduler.runs WHERE job = 'renewals' AND state = 3"),
            30);
  // Business days 4/27..5/25 09:00 (the cursor stood at 4/24 09:00): Golden Week excluded.
  int business = 0;
  for (auto s = NextSlotAfter(MustParse("businessdays 09:00"), CivilMinute(2026, 4, 24, 9, 0));
       SlotInstant(*s) <= clock_.Now();
       s = NextSlotAfter(MustParse("businessdays 09:00"), *s)) {
    ++business;
  }
  EXPECT_EQ(business, 17);
  EXPECT_EQ(Count("SELECT count(*) FROM scheduler.runs WHERE job = 'billing_alerts' "
                  "AND state = 3"),
            business);
  EXPECT_EQ(static_cast<int>(executions.size()), 30 + business);
}

// ---- the outbox ----

NewNotification Sample(const std::string& key, const std::string& recipient = "a@example.jp") {
  NewNotification n;
  n.dedup_key = key;
  n.recipient = recipient;
  n.template_name = "report_reminder";
  n.parameters = {{"partner_name", "株式会社A"}, {"period", "2026年11月"},
                  {"deadline", "2026年12月4日（金）"}};
  n.subject = "件名";
  n.body = "本文";
  n.message_id = "<abc@example.jp>";
  return n;
}

TEST_F(PgSchedulerStoreTest, EnqueueIsIdempotentByDedupKey) {
  WriteContext w = Admin();
  auto first = store_.EnqueueNotification(w, Sample("k1"));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->second);
  EXPECT_EQ(first->first.state, NotificationState::kPending);
  EXPECT_EQ(first->first.parameters.at("partner_name"), "株式会社A");
  auto replay = store_.EnqueueNotification(w, Sample("k1"));
  ASSERT_TRUE(replay.ok());
  EXPECT_FALSE(replay->second);
  EXPECT_EQ(replay->first.id, first->first.id);
  auto other = store_.EnqueueNotification(w, Sample("k1", "b@example.jp"));
  EXPECT_EQ(other.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Count("SELECT count(*) FROM scheduler.notifications"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM scheduler.audit_events "
                  "WHERE resource_type = 'notification'"),
            1);
}

TEST_F(PgSchedulerStoreTest, DeliveryLeasesRetriesAndDeadLetters) {
  WriteContext w = Admin();
  ASSERT_TRUE(store_.EnqueueNotification(w, Sample("k1")).ok());
  ASSERT_TRUE(store_.EnqueueNotification(w, Sample("k2")).ok());
  const absl::Time now = clock_.Now();
  auto a = store_.ClaimDelivery("a", now, now + absl::Minutes(2));
  ASSERT_TRUE(a.ok() && a->has_value());
  EXPECT_EQ((*a)->dedup_key, "k1");
  EXPECT_EQ((*a)->attempts, 1);
  auto b = store_.ClaimDelivery("b", now, now + absl::Minutes(2));
  ASSERT_TRUE(b.ok() && b->has_value());
  EXPECT_EQ((*b)->dedup_key, "k2");  // k1 is leased to a
  EXPECT_FALSE(store_.ClaimDelivery("c", now, now + absl::Minutes(2))->has_value());

  ASSERT_TRUE(*store_.MarkSent((*a)->id, "a", now));
  EXPECT_FALSE(*store_.MarkSent((*a)->id, "a", now));  // once
  ASSERT_TRUE(*store_.MarkDeliveryFailed((*b)->id, "b", "SMTP reply 451: try later", false,
                                         now + absl::Seconds(30), now));
  EXPECT_FALSE(store_.ClaimDelivery("c", now, now + absl::Minutes(2))->has_value());
  clock_.Advance(absl::Seconds(30));
  auto again = store_.ClaimDelivery("c", clock_.Now(), clock_.Now() + absl::Minutes(2));
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ((*again)->attempts, 2);
  EXPECT_EQ((*again)->last_error, "SMTP reply 451: try later");
  // Another replica cannot record an outcome for it.
  EXPECT_FALSE(*store_.MarkDeliveryFailed((*again)->id, "a", "x", true, clock_.Now(), clock_.Now()));
  ASSERT_TRUE(*store_.MarkDeliveryFailed((*again)->id, "c", "SMTP reply 550: no such user", true,
                                         clock_.Now(), clock_.Now()));
  NotificationFilter dead;
  dead.states = {NotificationState::kDead};
  auto listed = store_.ListNotifications(dead, 0, 10, absl::InfiniteFuture());
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->at(0).dedup_key, "k2");
  EXPECT_EQ(listed->at(0).last_error, "SMTP reply 550: no such user");
  EXPECT_TRUE(listed->at(0).dead_time.has_value());
  // A lapsed delivery lease frees the notification for another replica.
  ASSERT_TRUE(store_.EnqueueNotification(w, Sample("k3")).ok());
  auto held = store_.ClaimDelivery("a", clock_.Now(), clock_.Now() + absl::Minutes(2));
  ASSERT_TRUE(held.ok() && held->has_value());
  EXPECT_FALSE(store_.ClaimDelivery("b", clock_.Now(), clock_.Now())->has_value());
  clock_.Advance(absl::Minutes(2));
  auto taken = store_.ClaimDelivery("b", clock_.Now(), clock_.Now() + absl::Minutes(2));
  ASSERT_TRUE(taken.ok() && taken->has_value());
  EXPECT_EQ((*taken)->dedup_key, "k3");
  EXPECT_FALSE(*store_.MarkSent((*held)->id, "a", clock_.Now()));
}

TEST_F(PgSchedulerStoreTest, AReplicaFrozenInsideATransactionCannotBlockTheTakeover) {
  Ensure("renewals", "daily 00:00");
  clock_.Set(Tokyo(2026, 4, 26, 0, 0, 5));
  AdvanceResult a = Advance(Request("renewals", "daily 00:00", "a"));
  ASSERT_TRUE(a.claimed.has_value());

  // Replica a's heartbeat as the store runs it, frozen between its UPDATE and its COMMIT
  // (the process stopped): the run's row stays locked while nothing more arrives.
  pqxx::connection frozen(db_.url());
  const int backend = frozen.backendpid();
  pqxx::work heartbeat(frozen);
  LimitIdleInTransaction(heartbeat, absl::Seconds(1));
  heartbeat.exec_params0(
      "UPDATE scheduler.runs SET lease_until = lease_until WHERE owner = $1 AND state = 1", "a");
  {
    pqxx::connection other(db_.url());
    pqxx::work probe(other);
    EXPECT_ANY_THROW(probe.exec_params("SELECT id FROM scheduler.runs WHERE id = $1 FOR UPDATE "
                                       "NOWAIT",
                                       a.claimed->id))
        << "the frozen transaction holds the run's row lock";
  }

  // a's lease lapses; b's takeover waits for the lock only until the server ends a's idle
  // transaction (without the limit it would wait for as long as a stays frozen).
  clock_.Advance(absl::Minutes(1));
  AdvanceRequest takeover = Request("renewals", "daily 00:00", "b");
  takeover.deadline = absl::Now() + absl::Seconds(20);
  AdvanceResult b = Advance(takeover);
  ASSERT_TRUE(b.claimed.has_value());
  EXPECT_TRUE(b.took_over);
  EXPECT_EQ(b.claimed->id, a.claimed->id);
  EXPECT_EQ(Count(absl::StrCat("SELECT count(*) FROM pg_stat_activity WHERE pid = ", backend)), 0);
  // a wakes up: its transaction is gone, nothing it wrote stands, and its late finish is refused.
  EXPECT_ANY_THROW(heartbeat.commit());
  EXPECT_FALSE(Finish(*a.claimed, "a"));
  EXPECT_TRUE(Finish(*b.claimed, "b"));
}

}  // namespace
}  // namespace anken::scheduler::testing
