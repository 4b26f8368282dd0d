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
// - Every transaction runs with an idle-in-transaction limit (LimitIdleInTransaction). A
//   replica frozen inside one (SIGSTOP, a VM pause, a debugger) would otherwise keep its row
//   locks — the job row of an Advance, the runs its heartbeat renews — for as long as it is
//   frozen, and every other replica's Advance would wait on them (or skip the job) however
//   long ago the frozen replica's lease lapsed: its work could never be taken over. With the
//   limit the server ends such a session and rolls its transaction back; the frozen replica
//   finds its connection gone when it wakes, and its late writes are refused as usual (they
//   are conditional on still holding the lease). main.cc sets half the lease, so the locks are
//   gone before the lease lapses.

#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "common/db/pool.h"
#include "services/scheduler/scheduler_store.h"

namespace anken::scheduler {

// Sets Postgres's idle_in_transaction_session_timeout for the rest of `tx` (nothing when
// `limit` is not positive): a client that stays quiet inside the transaction for longer loses
// its session, the transaction is rolled back and its locks are released. Throws like any
// libpqxx call (inside Pool::Transact that becomes a status).
void LimitIdleInTransaction(pqxx::work& tx, absl::Duration limit);

class PgSchedulerStore final : public SchedulerStore {
 public:
  static constexpr char kSchema[] = "scheduler";

  // `pool` must outlive the store. `idle_in_transaction_limit` bounds how long a replica
  // frozen inside one of the store's transactions keeps its locks (see above).
  explicit PgSchedulerStore(db::Pool& pool,
                            absl::Duration idle_in_transaction_limit = absl::Seconds(30))
      : pool_(pool), idle_limit_(idle_in_transaction_limit) {}

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
  // pool_.Transact, with the idle-in-transaction limit set first.
  template <typename Fn>
  auto Transact(absl::Time deadline, Fn&& fn, const db::TransactOptions& options) {
    return pool_.Transact(
        deadline,
        [this, &fn](pqxx::work& tx) {
          LimitIdleInTransaction(tx, idle_limit_);
          return fn(tx);
        },
        options);
  }

  db::Pool& pool_;
  const absl::Duration idle_limit_;
};

}  // namespace anken::scheduler
