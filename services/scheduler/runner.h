#pragma once
// The scheduler's background work in one process: a worker thread per job that claims and
// runs its slots (SchedulerStore::Advance), a heartbeat that renews the leases this replica
// holds, and the mail delivery loop (delivery.h). Replicas coordinate only through the
// database; none is special.
//
// Each worker, every tick (ANKEN_SCHEDULER_TICK, or at once after Wake() or after finishing a
// run, so a backlog is worked off without waiting): Advance the job; when it hands back a run,
// execute the job's action with the run's request_id, measure the work, and record the outcome
// conditionally on still owning the run (a lapsed-and-taken-over run's late outcome is
// dropped). A failed attempt is retried with backoff when the error is transient
// (IsRetryable) and attempts remain, else the run is FAILED. Skipped slots (beyond the
// horizon, or while paused) are logged at warn level and stay visible in ListRuns.
//
// Stop(): cancels the peer calls in flight (CallGroup), joins the threads and hands the runs
// still held back as QUEUED, so another replica continues at once instead of waiting for the
// lease to lapse. Durations are measured on a monotonic clock; every "now" of the business
// logic (slots, leases, backoff) comes from the injected Clock.

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock/clock.h"
#include "services/scheduler/jobs.h"
#include "services/scheduler/schedule.h"
#include "services/scheduler/scheduler_store.h"

namespace anken::scheduler {

class CallGroup;

// A job as this process runs it: its kind, its configured schedule and its action.
struct ScheduledJob {
  const JobKind* kind = nullptr;
  Schedule schedule;
  JobAction* action = nullptr;

  const std::string& name() const { return kind->name; }
  bool enabled() const { return action->DisabledReason().empty(); }
  JobSpec Spec() const { return JobSpec{kind->name, schedule, enabled()}; }
};

struct RunnerOptions {
  std::string owner;  // this replica's id (NewReplicaId)
  absl::Duration tick = absl::Seconds(5);
  absl::Duration lease = absl::Minutes(1);
  absl::Duration horizon = absl::Hours(24 * 35);
  absl::Duration call_timeout = absl::Minutes(10);  // bound of one attempt's peer calls
  int max_attempts = 5;
  absl::Duration retry_base = absl::Minutes(1);
  absl::Duration retry_cap = absl::Hours(1);
};

// "<host>/<pid>/<8 random hex digits>": unique per process, readable in ListRuns and logs.
std::string NewReplicaId();

class JobRunner {
 public:
  // `calls` (may be null) is cancelled by Stop(). Everything must outlive the runner.
  JobRunner(SchedulerStore& store, const Clock& clock, std::vector<ScheduledJob> jobs,
            RunnerOptions options, CallGroup* calls);
  ~JobRunner();
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  // Registers the jobs (EnsureJobs) and starts the workers and the heartbeat. When the
  // database is unreachable, each worker registers its job itself, retrying every tick, so a
  // replica started during a database outage begins scheduling once it is back.
  absl::Status Start();
  void Stop();
  // Makes every worker look again now (after TriggerJob or ResumeJob).
  void Wake();

  // One step of one job on the calling thread: claims at most one run and executes it. True
  // when a run was executed. The workers loop on this; tests call it directly.
  absl::StatusOr<bool> Step(const ScheduledJob& job);
  // One heartbeat: renews the leases this replica holds.
  absl::Status Heartbeat();

  const std::vector<ScheduledJob>& jobs() const { return jobs_; }
  const RunnerOptions& options() const { return options_; }

 private:
  void WorkerLoop(size_t index);
  void HeartbeatLoop();
  // Waits up to `d` (real time) or until Wake()/Stop(); false once stopping.
  bool Pause(absl::Duration d, uint64_t* seen_wakeups);
  void Execute(const ScheduledJob& job, const Run& run, bool took_over);

  SchedulerStore& store_;
  const Clock& clock_;
  std::vector<ScheduledJob> jobs_;
  RunnerOptions options_;
  CallGroup* calls_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t wakeups_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<bool> stopping_flag_{false};
  bool registered_ = false;  // set by Start() before the threads exist
  std::vector<std::thread> threads_;
};

}  // namespace anken::scheduler
