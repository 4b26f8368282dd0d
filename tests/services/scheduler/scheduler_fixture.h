#pragma once
// The scheduler's store as the runner and the handlers see it, for integration tests: a fresh
// Postgres database (ScratchDatabase) migrated with the service's migrations, the real
// PgSchedulerStore, a FakeClock standing at a fixed Tokyo time, and scriptable job actions.
// Each test gets its own database, so row counts are exact.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/db/migrate.h"
#include "common/db/pool.h"
#include "services/scheduler/jobs.h"
#include "services/scheduler/pg_scheduler_store.h"
#include "services/scheduler/runner.h"
#include "services/scheduler/schedule.h"
#include "tests/fakes/fake_clock.h"
#include "tests/support/test_database.h"

namespace anken::scheduler::testing {

// A JobAction that records every call and answers from a script (OK by default).
class ScriptedAction final : public JobAction {
 public:
  std::string DisabledReason() const override {
    absl::MutexLock lock(&mu_);
    return disabled_reason_;
  }
  absl::StatusOr<std::string> Run(const JobContext& ctx) override {
    absl::MutexLock lock(&mu_);
    calls_.push_back(ctx);
    if (!script_.empty()) {
      absl::Status s = script_.front();
      script_.pop_front();
      if (!s.ok()) return s;
    }
    return std::string("done ") + SlotKey(ctx.slot);
  }
  void Disable(std::string reason) {
    absl::MutexLock lock(&mu_);
    disabled_reason_ = std::move(reason);
  }
  // The next calls answer these, in order.
  void Script(std::vector<absl::Status> answers) {
    absl::MutexLock lock(&mu_);
    script_.assign(answers.begin(), answers.end());
  }
  std::vector<JobContext> calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }

 private:
  mutable absl::Mutex mu_;
  std::string disabled_reason_;
  std::deque<absl::Status> script_;
  std::vector<JobContext> calls_;
};

inline absl::Time Tokyo(int y, int m, int d, int hh, int mm, int ss = 0) {
  return SlotInstant(absl::CivilMinute(y, m, d, hh, mm)) + absl::Seconds(ss);
}

inline Schedule MustParse(const char* text) {
  absl::StatusOr<Schedule> s = ParseSchedule(text);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.value_or(Schedule());
}

class SchedulerDbTest : public ::testing::Test {
 protected:
  SchedulerDbTest() : clock_(Tokyo(2026, 4, 25, 23, 0)), pool_(PoolOptionsFor(db_.url())),
                      store_(pool_) {}

  void SetUp() override {
    absl::Status migrated = db::Migrate(db_.url(), "scheduler", ANKEN_SCHEDULER_MIGRATIONS);
    ASSERT_TRUE(migrated.ok()) << migrated;
  }

  // The single integer `sql` selects.
  int64_t Count(const std::string& sql) const {
    pqxx::connection c(db_.url());
    pqxx::nontransaction tx(c);
    return tx.exec1(sql)[0].as<int64_t>();
  }

  AdvanceRequest Request(const std::string& job, const char* schedule, const std::string& owner,
                         bool enabled = true) const {
    AdvanceRequest r;
    r.job = JobSpec{job, MustParse(schedule), enabled};
    r.now = clock_.Now();
    r.owner = owner;
    r.lease = absl::Seconds(30);
    r.horizon = absl::Hours(24 * 35);
    r.max_attempts = 3;
    return r;
  }

  anken::testing::FakeClock clock_;
  anken::testing::ScratchDatabase db_{"sched"};
  db::Pool pool_;
  PgSchedulerStore store_;

 private:
  static db::PoolOptions PoolOptionsFor(const std::string& url) {
    db::PoolOptions o;
    o.url = url;
    o.size = 12;
    return o;
  }
};

}  // namespace anken::scheduler::testing
