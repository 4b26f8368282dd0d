#pragma once
// Storage of the scheduler behind an interface (one Postgres implementation,
// pg_scheduler_store.h). Every method is one transaction; nothing throws. The claim rules are
// those of run_rules.h and schedule.h, applied under row locks so that any number of replicas
// can call these concurrently.
//
// Jobs: EnsureJobs registers each job once with its cursor at the latest slot at or before
// "now" (a new installation does not catch up on the past). Advance is the one step a replica
// takes for a job: under the job's row lock (skipped when another replica holds it) it either
// takes over a lapsed run, claims a due QUEUED run, gives up a run whose attempts ran out, or
// materializes the slots due since the cursor: older than the horizon (or due while paused)
// -> SKIPPED rows; the first within the horizon -> a RUNNING row owned by the caller, claimed
// by its insert under the unique key (job, slot). A disabled job (no peer) and a schedule that
// is off only move the cursor along, so that enabling them later does not replay the past.
//
// Writes from RPCs (TriggerRun, SetPaused, EnqueueNotification) carry a WriteContext and record
// an audit event in the same transaction. The runner's own bookkeeping (claims, leases,
// outcomes, deliveries) is not audited: the runs and notifications rows are that record.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "common/db/write_context.h"
#include "services/scheduler/schedule.h"
#include "services/scheduler/scheduler.h"

namespace anken::scheduler {

using db::WriteContext;

struct JobSpec {
  std::string name;
  Schedule schedule;
  bool enabled = true;
};

struct AdvanceRequest {
  JobSpec job;
  absl::Time now;
  std::string owner;        // this replica
  absl::Duration lease;     // lease_until = now + lease for what it claims
  absl::Duration horizon;   // catch-up horizon
  int max_attempts = 5;
  absl::Time deadline = absl::InfiniteFuture();
};

struct AdvanceResult {
  absl::optional<Run> claimed;  // RUNNING, owned by the caller
  bool took_over = false;       // claimed from a replica whose lease lapsed
  std::vector<absl::CivilMinute> skipped;  // slots recorded as SKIPPED by this call
  std::string skip_reason;
  absl::optional<Run> gave_up;  // a run set FAILED because its attempts ran out
};

struct RunOutcome {
  RunState state = RunState::kSucceeded;  // kSucceeded, kFailed or kQueued
  absl::Time now;
  absl::optional<absl::Time> next_attempt_time;  // kQueued
  int64_t duration_ms = 0;  // of this attempt; added to the run's total
  std::string summary;
  std::string error;
  std::string error_code;
};

struct NotificationFilter {
  std::vector<NotificationState> states;  // any when empty
  std::string recipient;                  // any when empty
  std::string template_name;              // any when empty
};

class SchedulerStore {
 public:
  virtual ~SchedulerStore() = default;

  // ---- jobs and runs (the runner) ----
  virtual absl::Status EnsureJobs(const std::vector<JobSpec>& jobs, absl::Time now) = 0;
  virtual absl::StatusOr<AdvanceResult> Advance(const AdvanceRequest& request) = 0;
  // Sets lease_until of every RUNNING run `owner` holds; returns how many.
  virtual absl::StatusOr<int> RenewLeases(const std::string& owner, absl::Time lease_until) = 0;
  // Records an attempt's outcome if `owner` still holds the run; false when it does not (its
  // lease lapsed and another replica took over), and nothing is written then.
  virtual absl::StatusOr<bool> FinishRun(int64_t run_id, const std::string& owner,
                                         const RunOutcome& outcome) = 0;
  // Hands back the RUNNING runs `owner` holds as QUEUED, due at `now` (graceful shutdown).
  virtual absl::StatusOr<int> ReleaseRuns(const std::string& owner, absl::Time now) = 0;

  // ---- jobs and runs (the API) ----
  virtual absl::StatusOr<std::vector<JobRow>> ListJobs(absl::Time deadline) = 0;
  // The run of the job's latest slot, if any.
  virtual absl::StatusOr<absl::optional<Run>> LatestRun(const std::string& job,
                                                        absl::Time deadline) = 0;
  // Latest slot first, slots before `before` (all when nullopt), at most `limit`.
  virtual absl::StatusOr<std::vector<Run>> ListRuns(const std::string& job,
                                                    const std::vector<RunState>& states,
                                                    absl::optional<absl::CivilMinute> before,
                                                    int limit, absl::Time deadline) = 0;
  // TriggerJob: the slot's existing run (second = false) unless it is FAILED or SKIPPED, which
  // is queued again with its attempts reset; or a new QUEUED MANUAL run (second = true), due
  // at ctx.now. NOT_FOUND for an unknown job.
  virtual absl::StatusOr<std::pair<Run, bool>> TriggerRun(const WriteContext& ctx,
                                                          const std::string& job,
                                                          absl::CivilMinute slot) = 0;
  // PauseJob / ResumeJob; setting the state it already has changes nothing (no audit event).
  // NOT_FOUND for an unknown job.
  virtual absl::StatusOr<JobRow> SetPaused(const WriteContext& ctx, const std::string& job,
                                           bool paused, const std::string& reason) = 0;

  // ---- the outbox ----
  // Inserts the notification (PENDING, due at ctx.now) unless its dedup key exists: then the
  // stored one is returned when recipient, template and parameters are equal, and
  // ALREADY_EXISTS (reason DEDUP_KEY_REUSED) otherwise. second: whether it was inserted.
  virtual absl::StatusOr<std::pair<Notification, bool>> EnqueueNotification(
      const WriteContext& ctx, const NewNotification& notification) = 0;
  // Newest first, ids below `before_id` (all when 0), at most `limit`.
  virtual absl::StatusOr<std::vector<Notification>> ListNotifications(
      const NotificationFilter& filter, int64_t before_id, int limit, absl::Time deadline) = 0;
  // Leases the oldest due PENDING notification whose lease is free (or lapsed) to `owner` and
  // counts the attempt; nullopt when none is due.
  virtual absl::StatusOr<absl::optional<Notification>> ClaimDelivery(const std::string& owner,
                                                                     absl::Time now,
                                                                     absl::Time lease_until) = 0;
  // SENT, if `owner` still holds it.
  virtual absl::StatusOr<bool> MarkSent(int64_t id, const std::string& owner, absl::Time now) = 0;
  // PENDING again at `next_attempt` (dead = false) or DEAD, with the error; if `owner` still
  // holds it.
  virtual absl::StatusOr<bool> MarkDeliveryFailed(int64_t id, const std::string& owner,
                                                  const std::string& error, bool dead,
                                                  absl::Time next_attempt, absl::Time now) = 0;
};

}  // namespace anken::scheduler
