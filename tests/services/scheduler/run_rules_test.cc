// Claim, lease, retry and backoff rules (pure).

#include "services/scheduler/run_rules.h"

#include <gtest/gtest.h>

namespace anken::scheduler {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1800000000);
using Action = ClaimDecision::Action;

ActiveRun Running(int64_t id, int day, absl::Time lease_until, int attempts = 1) {
  ActiveRun r;
  r.id = id;
  r.slot = absl::CivilMinute(2026, 5, day, 0, 0);
  r.state = RunState::kRunning;
  r.lease_until = lease_until;
  r.attempts = attempts;
  return r;
}

ActiveRun Queued(int64_t id, int day, absl::Time next_attempt, int attempts = 1) {
  ActiveRun r;
  r.id = id;
  r.slot = absl::CivilMinute(2026, 5, day, 0, 0);
  r.state = RunState::kQueued;
  r.next_attempt_time = next_attempt;
  r.attempts = attempts;
  return r;
}

TEST(Lease, LapsesExactlyAtItsEnd) {
  EXPECT_FALSE(LeaseLapsed(kNow + absl::Milliseconds(1), kNow));
  EXPECT_TRUE(LeaseLapsed(kNow, kNow));
  EXPECT_TRUE(LeaseLapsed(kNow - absl::Seconds(1), kNow));
}

TEST(DecideClaim, NoActiveRunMaterializes) {
  EXPECT_EQ(DecideClaim({}, kNow, false, 5).action, Action::kMaterialize);
  // Paused jobs still materialize: their due slots are recorded as skipped.
  EXPECT_EQ(DecideClaim({}, kNow, true, 5).action, Action::kMaterialize);
}

TEST(DecideClaim, ALiveLeaseKeepsEveryoneElseOut) {
  // Even with a due queued run and a lapsed one: the job runs one slot at a time.
  const ClaimDecision d = DecideClaim({Queued(1, 1, kNow - absl::Hours(1)),
                                       Running(2, 2, kNow + absl::Seconds(1)),
                                       Running(3, 3, kNow - absl::Seconds(1))},
                                      kNow, false, 5);
  EXPECT_EQ(d.action, Action::kNone);
}

TEST(DecideClaim, ALapsedLeaseIsTakenOverEarliestSlotFirst) {
  const ClaimDecision d = DecideClaim(
      {Running(7, 9, kNow - absl::Seconds(5)), Running(4, 8, kNow), Queued(2, 1, kNow)}, kNow,
      false, 5);
  EXPECT_EQ(d.action, Action::kTakeOver);
  EXPECT_EQ(d.run_id, 4);
}

TEST(DecideClaim, QueuedRunsWaitForTheirTimeAndGoInSlotOrder) {
  EXPECT_EQ(DecideClaim({Queued(1, 2, kNow + absl::Seconds(1))}, kNow, false, 5).action,
            Action::kNone);
  const ClaimDecision d =
      DecideClaim({Queued(5, 3, kNow - absl::Seconds(1)), Queued(6, 2, kNow)}, kNow, false, 5);
  EXPECT_EQ(d.action, Action::kClaimQueued);
  EXPECT_EQ(d.run_id, 6);
  // The earliest slot decides, even when a later one is already due (order is kept).
  EXPECT_EQ(DecideClaim({Queued(5, 3, kNow), Queued(6, 2, kNow + absl::Minutes(1))}, kNow, false, 5)
                .action,
            Action::kNone);
}

TEST(DecideClaim, PausedJobsClaimNothing) {
  EXPECT_EQ(DecideClaim({Queued(1, 1, kNow)}, kNow, true, 5).action, Action::kNone);
  EXPECT_EQ(DecideClaim({Running(1, 1, kNow - absl::Hours(1))}, kNow, true, 5).action,
            Action::kNone);
}

TEST(DecideClaim, ExhaustedAttemptsAreGivenUp) {
  const ClaimDecision lapsed =
      DecideClaim({Running(3, 1, kNow - absl::Seconds(1), /*attempts=*/5)}, kNow, false, 5);
  EXPECT_EQ(lapsed.action, Action::kGiveUp);
  EXPECT_EQ(lapsed.run_id, 3);
  EXPECT_EQ(DecideClaim({Queued(4, 1, kNow, 5)}, kNow, false, 5).action, Action::kGiveUp);
  EXPECT_EQ(DecideClaim({Queued(4, 1, kNow, 4)}, kNow, false, 5).action, Action::kClaimQueued);
}

TEST(Backoff, DoublesUpToTheCap) {
  const absl::Duration base = absl::Seconds(30);
  const absl::Duration cap = absl::Minutes(5);
  EXPECT_EQ(Backoff(0, base, cap), base);
  EXPECT_EQ(Backoff(1, base, cap), absl::Seconds(30));
  EXPECT_EQ(Backoff(2, base, cap), absl::Seconds(60));
  EXPECT_EQ(Backoff(3, base, cap), absl::Seconds(120));
  EXPECT_EQ(Backoff(4, base, cap), absl::Seconds(240));
  EXPECT_EQ(Backoff(5, base, cap), cap);
  EXPECT_EQ(Backoff(1000, base, cap), cap);  // no overflow
}

TEST(AfterFailure, RetriesTransientErrorsUntilTheAttemptsRunOut) {
  const absl::Duration base = absl::Seconds(10);
  const absl::Duration cap = absl::Hours(1);
  FailureOutcome first = AfterFailure(1, 3, true, kNow, base, cap);
  EXPECT_FALSE(first.final);
  EXPECT_EQ(first.next_attempt, kNow + absl::Seconds(10));
  FailureOutcome second = AfterFailure(2, 3, true, kNow, base, cap);
  EXPECT_FALSE(second.final);
  EXPECT_EQ(second.next_attempt, kNow + absl::Seconds(20));
  EXPECT_TRUE(AfterFailure(3, 3, true, kNow, base, cap).final);
  // A permanent error ends it at once.
  EXPECT_TRUE(AfterFailure(1, 3, false, kNow, base, cap).final);
}

TEST(IsRetryable, TransientYesClientErrorsNo) {
  for (auto code : {absl::StatusCode::kUnavailable, absl::StatusCode::kDeadlineExceeded,
                    absl::StatusCode::kAborted, absl::StatusCode::kInternal,
                    absl::StatusCode::kResourceExhausted, absl::StatusCode::kUnknown,
                    absl::StatusCode::kCancelled}) {
    EXPECT_TRUE(IsRetryable(code)) << absl::StatusCodeToString(code);
  }
  for (auto code : {absl::StatusCode::kInvalidArgument, absl::StatusCode::kNotFound,
                    absl::StatusCode::kFailedPrecondition, absl::StatusCode::kPermissionDenied,
                    absl::StatusCode::kUnauthenticated, absl::StatusCode::kUnimplemented,
                    absl::StatusCode::kAlreadyExists, absl::StatusCode::kOutOfRange}) {
    EXPECT_FALSE(IsRetryable(code)) << absl::StatusCodeToString(code);
  }
}

}  // namespace
}  // namespace anken::scheduler
