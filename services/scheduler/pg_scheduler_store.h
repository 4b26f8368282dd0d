#pragma once
// SchedulerStore on Postgres (schema `scheduler`, migrations/V001__init.sql). Every method is
// one Pool::Transact; nothing throws, and libpqxx errors become statuses by
// db::StatusFromException (pg_status.h).
//
// Choices the interface leaves open:
// - Instants are stored with microsecond precision (values are truncated first, so what a
//   write returns equals what a later read returns).
// - Advance locks the job row with FOR UPDATE SKIP LOCKED: a replica that finds another one
//   mid-claim returns an empty result and tries on its next tick. TriggerRun and SetPaused
//   wait for the lock instead. Active runs are read FOR UPDATE, so a finish or a takeover of
//   the same row serializes with the decision.
// - Slots older than the horizon are recorded with error_code "BEYOND_CATCHUP_HORIZON", slots
//   due while paused with "JOB_PAUSED"; at most 1000 slots are accounted for per call.
// - Audit events: resource types "job" ("jobs/<name>"), "run" ("jobs/<name>/runs/<slot>") and
//   "notification" ("notifications/<id>"); the method is the full gRPC method of the context.
//   Notifications enqueued by the scheduler's own runs are audited like any other, with the
//   run's context.
// - Notification parameters are stored as a JSON object of strings.

#include <string>
#include <utility>
#include <vector>

#include "common/db/pool.h"
#include "services/scheduler/scheduler_store.h"

namespace anken::scheduler {

class PgSchedulerStore final : public SchedulerStore {
 public:
  static constexpr char kSchema[] = "scheduler";

  // `pool` must outlive the store.
  explicit PgSchedulerStore(db::Pool& pool) : pool_(pool) {}

  absl::Status EnsureJobs(const std::vector<JobSpec>& jobs, absl::Time now) override;
  absl::StatusOr<AdvanceResult> Advance(const AdvanceRequest& request) override;
  absl::StatusOr<int> RenewLeases(const std::string& owner, absl::Time lease_until) override;
  absl::StatusOr<bool> FinishRun(int64_t run_id, const std::string& owner,
                                 const RunOutcome& outcome) override;
  absl::StatusOr<int> ReleaseRuns(const std::string& owner, absl::Time now) override;

  absl::StatusOr<std::vector<JobRow>> ListJobs(absl::Time deadline) override;
  absl::StatusOr<absl::optional<Run>> LatestRun(const std::string& job,
                                                absl::Time deadline) override;
  absl::StatusOr<std::vector<Run>> ListRuns(const std::string& job,
                                            const std::vector<RunState>& states,
                                            absl::optional<absl::CivilMinute> before, int limit,
                                            absl::Time deadline) override;
  absl::StatusOr<std::pair<Run, bool>> TriggerRun(const WriteContext& ctx, const std::string& job,
                                                  absl::CivilMinute slot) override;
  absl::StatusOr<JobRow> SetPaused(const WriteContext& ctx, const std::string& job, bool paused,
                                   const std::string& reason) override;

  absl::StatusOr<std::pair<Notification, bool>> EnqueueNotification(
      const WriteContext& ctx, const NewNotification& notification) override;
  absl::StatusOr<std::vector<Notification>> ListNotifications(const NotificationFilter& filter,
                                                              int64_t before_id, int limit,
                                                              absl::Time deadline) override;
  absl::StatusOr<absl::optional<Notification>> ClaimDelivery(const std::string& owner,
                                                             absl::Time now,
                                                             absl::Time lease_until) override;
  absl::StatusOr<bool> MarkSent(int64_t id, const std::string& owner, absl::Time now) override;
  absl::StatusOr<bool> MarkDeliveryFailed(int64_t id, const std::string& owner,
                                          const std::string& error, bool dead,
                                          absl::Time next_attempt, absl::Time now) override;

 private:
  db::Pool& pool_;
};

}  // namespace anken::scheduler
