#include "services/scheduler/run_rules.h"

#include <algorithm>

namespace anken::scheduler {

ClaimDecision DecideClaim(const std::vector<ActiveRun>& active, absl::Time now, bool paused,
                          int max_attempts) {
  const ActiveRun* lapsed = nullptr;
  const ActiveRun* queued = nullptr;
  for (const ActiveRun& r : active) {
    if (r.state == RunState::kRunning) {
      if (!LeaseLapsed(r.lease_until, now)) return {};  // someone is working on this job
      if (lapsed == nullptr || r.slot < lapsed->slot) lapsed = &r;
    } else if (queued == nullptr || r.slot < queued->slot) {
      queued = &r;
    }
  }
  if (lapsed == nullptr && queued == nullptr) {
    return {ClaimDecision::Action::kMaterialize, 0};
  }
  if (paused) return {};
  const ActiveRun* next = lapsed;
  ClaimDecision::Action action = ClaimDecision::Action::kTakeOver;
  if (next == nullptr) {
    if (now < queued->next_attempt_time) return {};
    next = queued;
    action = ClaimDecision::Action::kClaimQueued;
  }
  if (next->attempts >= max_attempts) return {ClaimDecision::Action::kGiveUp, next->id};
  return {action, next->id};
}

absl::Duration Backoff(int attempt, absl::Duration base, absl::Duration cap) {
  absl::Duration d = base;
  for (int i = 1; i < attempt && d < cap; ++i) d *= 2;
  return std::min(d, cap);
}

bool IsRetryable(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kUnimplemented:
    case absl::StatusCode::kOutOfRange:
      return false;
    default:
      return true;
  }
}

FailureOutcome AfterFailure(int attempts, int max_attempts, bool retryable, absl::Time now,
                            absl::Duration base, absl::Duration cap) {
  FailureOutcome out;
  if (!retryable || attempts >= max_attempts) {
    out.final = true;
    out.next_attempt = now;
    return out;
  }
  out.next_attempt = now + Backoff(attempts, base, cap);
  return out;
}

}  // namespace anken::scheduler
