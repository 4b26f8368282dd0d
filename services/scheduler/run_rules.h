#pragma once
// The rules of runs and deliveries, pure (time is a parameter): which run of a job a replica
// may claim, when a lease has lapsed, what a failure leads to, and the backoff between
// attempts. The store applies them inside its transactions (pg_scheduler_store.h).
//
// Exactly once per (job, slot):
// - A slot is claimed by inserting its run under the unique key (job, slot) in state RUNNING,
//   owned by the inserting replica with a lease (lease_until = now + lease). Inserts happen
//   only while the job's row is locked, and only when the job has no active run (RUNNING or
//   QUEUED), so the runs of a job happen one at a time and in slot order.
// - The owner renews its lease while it works. A lease has lapsed when now >= lease_until;
//   only then may another replica take the run over (a conditional update that bumps
//   attempts and takeovers). The run's peer calls carry the slot's request_id, so a takeover
//   that repeats a call the crashed owner already made is a replay for the peer.
// - Finishing a run is conditional on still owning it: a replica whose lease lapsed and was
//   taken over cannot overwrite the new owner's outcome.

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace anken::scheduler {

// Numbers as stored and as in the API's enums.
enum class RunState { kRunning = 1, kQueued = 2, kSucceeded = 3, kFailed = 4, kSkipped = 5 };
enum class RunTrigger { kSchedule = 1, kManual = 2 };

inline bool IsActive(RunState s) { return s == RunState::kRunning || s == RunState::kQueued; }

// What the claim rules need of a job's active runs.
struct ActiveRun {
  int64_t id = 0;
  absl::CivilMinute slot;
  RunState state = RunState::kQueued;
  absl::Time lease_until = absl::InfinitePast();        // kRunning
  absl::Time next_attempt_time = absl::InfinitePast();  // kQueued
  int attempts = 0;
};

inline bool LeaseLapsed(absl::Time lease_until, absl::Time now) { return now >= lease_until; }

struct ClaimDecision {
  enum class Action {
    kNone,         // nothing to do now: a live lease, a queued run not yet due, or paused
    kTakeOver,     // run_id: a RUNNING run whose lease lapsed
    kClaimQueued,  // run_id: a QUEUED run that is due
    kGiveUp,       // run_id: would be claimed, but its attempts are used up -> FAILED
    kMaterialize,  // no active run: insert the next due slot(s)
  };
  Action action = Action::kNone;
  int64_t run_id = 0;
};

// Decides for one job. `active` holds the job's RUNNING and QUEUED runs (any order). A live
// lease anywhere means the job is busy. Otherwise a lapsed RUNNING run comes first (the
// earliest slot), then the earliest QUEUED run once due; a paused job claims nothing but may
// still materialize (its due slots are recorded as skipped). A run is given up instead of
// claimed when attempts >= max_attempts.
ClaimDecision DecideClaim(const std::vector<ActiveRun>& active, absl::Time now, bool paused,
                          int max_attempts);

// min(cap, base * 2^(attempt-1)) for attempt >= 1; `base` for anything smaller.
absl::Duration Backoff(int attempt, absl::Duration base, absl::Duration cap);

// Whether a failed job run may succeed when attempted again: transport and transient errors
// yes; client errors (INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION, PERMISSION_DENIED,
// UNAUTHENTICATED, UNIMPLEMENTED, ALREADY_EXISTS, OUT_OF_RANGE) no.
bool IsRetryable(absl::StatusCode code);

struct FailureOutcome {
  bool final = false;  // true: FAILED (or, for mail, DEAD); false: try again at next_attempt
  absl::Time next_attempt;
};

// After attempt number `attempts` (1-based) failed: final when not `retryable` or when
// attempts >= max_attempts, otherwise again at now + Backoff(attempts, base, cap).
FailureOutcome AfterFailure(int attempts, int max_attempts, bool retryable, absl::Time now,
                            absl::Duration base, absl::Duration cap);

}  // namespace anken::scheduler
