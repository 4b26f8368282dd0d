#include "services/scheduler/runner.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/log/log.h"
#include "services/scheduler/peers.h"
#include "services/scheduler/run_rules.h"

namespace anken::scheduler {
namespace {

std::string StatusCodeName(absl::StatusCode code) { return absl::StatusCodeToString(code); }

}  // namespace

std::string NewReplicaId() {
  char host[256] = {0};
  if (::gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') {
    std::snprintf(host, sizeof(host), "unknown");
  }
  absl::BitGen gen;
  return absl::StrFormat("%s/%d/%08x", host, static_cast<int>(::getpid()),
                         absl::Uniform<uint32_t>(gen));
}

JobRunner::JobRunner(SchedulerStore& store, const Clock& clock, std::vector<ScheduledJob> jobs,
                     RunnerOptions options, CallGroup* calls)
    : store_(store), clock_(clock), jobs_(std::move(jobs)), options_(std::move(options)),
      calls_(calls) {}

JobRunner::~JobRunner() { Stop(); }

absl::Status JobRunner::Start() {
  // Registered up front when the database answers; otherwise each worker keeps trying.
  std::vector<JobSpec> specs;
  for (const ScheduledJob& job : jobs_) specs.push_back(job.Spec());
  if (absl::Status s = store_.EnsureJobs(specs, clock_.Now()); s.ok()) {
    registered_ = true;
  } else {
    log::Warn("cannot register the jobs yet; retrying every tick").Str("error", s.ToString());
  }
  for (const ScheduledJob& job : jobs_) {
    const std::string reason = job.action->DisabledReason();
    log::Info("job configured")
        .Str("job", job.name())
        .Str("schedule", FormatSchedule(job.schedule))
        .Bool("enabled", reason.empty())
        .Str("disabled_reason", reason);
  }
  for (size_t i = 0; i < jobs_.size(); ++i) threads_.emplace_back([this, i] { WorkerLoop(i); });
  threads_.emplace_back([this] { HeartbeatLoop(); });
  return absl::OkStatus();
}

void JobRunner::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  stopping_flag_ = true;
  if (calls_ != nullptr) calls_->CancelAll();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
  absl::StatusOr<int> released = store_.ReleaseRuns(options_.owner, clock_.Now());
  if (!released.ok()) {
    log::Warn("could not hand back runs at shutdown; they are taken over when the lease lapses")
        .Str("error", released.status().ToString());
  } else if (*released > 0) {
    log::Info("runs handed back at shutdown").Int("runs", *released);
  }
}

void JobRunner::Wake() {
  absl::MutexLock lock(&mu_);
  ++wakeups_;
}

bool JobRunner::Pause(absl::Duration d, uint64_t* seen_wakeups) {
  absl::MutexLock lock(&mu_);
  auto woken = [this, seen_wakeups]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || wakeups_ != *seen_wakeups;
  };
  mu_.AwaitWithTimeout(absl::Condition(&woken), d);
  *seen_wakeups = wakeups_;
  return !stopping_;
}

absl::StatusOr<bool> JobRunner::Step(const ScheduledJob& job) {
  AdvanceRequest req;
  req.job = job.Spec();
  req.now = clock_.Now();
  req.owner = options_.owner;
  req.lease = options_.lease;
  req.horizon = options_.horizon;
  req.max_attempts = options_.max_attempts;
  req.deadline = absl::Now() + absl::Seconds(30);
  absl::StatusOr<AdvanceResult> result = store_.Advance(req);
  if (!result.ok()) return result.status();
  if (!result->skipped.empty()) {
    std::vector<std::string> keys;
    for (absl::CivilMinute s : result->skipped) keys.push_back(SlotKey(s));
    log::Warn("slots skipped")
        .Str("job", job.name())
        .Int("count", static_cast<int64_t>(keys.size()))
        .Str("slots", absl::StrJoin(keys, ","))
        .Str("reason", result->skip_reason);
  }
  if (result->gave_up.has_value()) {
    log::Error("run failed: attempts exhausted")
        .Str("job", job.name())
        .Str("slot", SlotKey(result->gave_up->slot))
        .Int("attempts", result->gave_up->attempts);
  }
  if (!result->claimed.has_value()) return false;
  Execute(job, *result->claimed, result->took_over);
  return true;
}

void JobRunner::Execute(const ScheduledJob& job, const Run& run, bool took_over) {
  JobContext ctx;
  ctx.job = job.name();
  ctx.slot = run.slot;
  ctx.request_id = RequestIdFor(job.name(), run.slot);
  ctx.attempt = run.attempts;
  ctx.deadline = absl::Now() + options_.call_timeout;
  ctx.now = clock_.Now();
  log::Info(took_over ? "run taken over" : "run started")
      .Str("job", ctx.job)
      .Str("slot", SlotKey(run.slot))
      .Int("attempt", run.attempts)
      .Str("request_id", ctx.request_id);
  const auto started = std::chrono::steady_clock::now();
  absl::StatusOr<std::string> summary = job.action->Run(ctx);
  const int64_t duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::steady_clock::now() - started)
                                  .count();
  if (!summary.ok() && stopping_flag_) {
    // Interrupted by our own shutdown: not the run's failure. Stop() hands it back.
    log::Info("run interrupted by shutdown").Str("job", ctx.job).Str("slot", SlotKey(run.slot));
    return;
  }
  RunOutcome outcome;
  outcome.now = clock_.Now();
  outcome.duration_ms = duration_ms;
  if (summary.ok()) {
    outcome.state = RunState::kSucceeded;
    outcome.summary = *summary;
  } else {
    const FailureOutcome next =
        AfterFailure(run.attempts, options_.max_attempts, IsRetryable(summary.status().code()),
                     outcome.now, options_.retry_base, options_.retry_cap);
    outcome.state = next.final ? RunState::kFailed : RunState::kQueued;
    if (!next.final) outcome.next_attempt_time = next.next_attempt;
    outcome.error = std::string(summary.status().message());
    outcome.error_code = StatusCodeName(summary.status().code());
  }
  absl::StatusOr<bool> recorded = store_.FinishRun(run.id, options_.owner, outcome);
  {
    log::Event event = outcome.state == RunState::kSucceeded ? log::Info("run finished")
                       : outcome.state == RunState::kQueued
                           ? log::Warn("run attempt failed; retrying")
                           : log::Error("run failed");
    event.Str("job", ctx.job)
        .Str("slot", SlotKey(run.slot))
        .Int("attempt", run.attempts)
        .Int("duration_ms", duration_ms)
        .Str("summary", outcome.summary)
        .Str("error", outcome.error);
  }
  if (!recorded.ok()) {
    log::Error("could not record a run's outcome; it is retried when its lease lapses")
        .Str("job", ctx.job)
        .Str("slot", SlotKey(run.slot))
        .Str("error", recorded.status().ToString());
  } else if (!*recorded) {
    log::Warn("run was taken over by another replica; its outcome stands")
        .Str("job", ctx.job)
        .Str("slot", SlotKey(run.slot));
  }
}

void JobRunner::WorkerLoop(size_t index) {
  const ScheduledJob& job = jobs_[index];
  uint64_t seen = 0;
  // Registered here rather than in Start(), so that a replica started while the database is
  // down serves (NOT_SERVING) and begins scheduling once the database is back.
  bool registered = registered_;
  while (!stopping_flag_) {
    if (!registered) {
      absl::Status s = store_.EnsureJobs({job.Spec()}, clock_.Now());
      registered = s.ok();
      if (!registered) {
        log::Warn("cannot register the job yet").Str("job", job.name()).Str("error", s.ToString());
        if (!Pause(options_.tick, &seen)) return;
        continue;
      }
    }
    absl::StatusOr<bool> ran = Step(job);
    if (!ran.ok()) {
      log::Warn("job step failed").Str("job", job.name()).Str("error", ran.status().ToString());
    } else if (*ran) {
      continue;  // more may be due (catch-up): look again at once
    }
    if (!Pause(options_.tick, &seen)) return;
  }
}

absl::Status JobRunner::Heartbeat() {
  return store_.RenewLeases(options_.owner, clock_.Now() + options_.lease).status();
}

void JobRunner::HeartbeatLoop() {
  // Renew well within the lease, and at least as often as the workers look.
  const absl::Duration every = std::min(options_.tick, options_.lease / 3);
  uint64_t seen = 0;
  while (Pause(every, &seen)) {
    if (absl::Status s = Heartbeat(); !s.ok()) {
      log::Warn("lease renewal failed").Str("error", s.ToString());
    }
  }
}

}  // namespace anken::scheduler
