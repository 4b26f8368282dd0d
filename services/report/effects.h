#pragma once
// The effect outbox of report intake: what a submission must apply (planning, inside the
// submission's transaction) and the loop that applies it (delivery).
//
// Planning. For every changed line that differs from its snapshot (SubmissionDiff) and from
// what an earlier submission of the report applied (the answer key):
//   - RecordReferralOutcome on the project service: the reported outcome, dates, amount,
//     remarks and the extra orders not applied before; request_id
//     "report-line-<line id>-outcome" (suffixed "-<n>" for the n-th submission after reopens);
//   - when the case becomes 施工完了 (not 施工完了 in the snapshot): CreateCommissionCharge with
//     charge_key "completion" on the reported amount, request_id
//     "report-line-<id>-completion[-<n>]" (billing turns a corrected amount into an adjusting
//     entry, as charges are unique per (case, charge_key));
//   - per additional / repeat order not applied before: CreateCommissionCharge with charge_key
//     "extra:<the order's id in this service>", request_id "report-line-<id>-extra-<position>";
//   each charge waits for the line's outcome to be recorded (depends_on), so billing sees the
//   case as reported. report_month is the period's month (a case update: the month it is made).
//   The partner's rate is billing's: only amounts are sent.
//
// Delivery. Every request_id is derived from stored rows, and each payload is stored once, so
// every attempt sends the same request: a peer that applied it answers a repeat with its first
// answer. Hence at-least-once delivery with retries is exactly-once application: a crash between
// the call and the mark, or a lapsed lease taken over by another replica, repeats the call
// harmlessly. Replicas claim with FOR UPDATE SKIP LOCKED and a lease (no row lock is held while
// calling); a failure is retried after an exponential backoff (Backoff), with the error kept
// for GetSubmissionStatus. The loop runs on its own thread; RunOnce is its body, for tests.

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/clock/clock.h"
#include "services/report/peers.h"
#include "services/report/report_rules.h"
#include "services/report/report_store.h"

namespace anken::report {

// A stable text of an answer's content (outcome, dates, amount, remarks, extra orders), to tell
// whether a line changed since it was last applied.
std::string AnswerKey(const Change& change);

// What submitting one line applies.
struct LinePlan {
  bool apply = false;                     // false: nothing (unchanged, or applied as it is)
  LineDiff diff;                          // when apply
  std::vector<NewEffect> effects;         // depends_on relative to this list
  std::vector<CommissionItem> commissions;  // the charges among effects (commission left 0)
  LineApplied applied;
};

// The plan of one line of a report (or a case update) of `partner_id` in its `sequence`-th
// submission. INTERNAL when a payload cannot be written.
absl::StatusOr<LinePlan> PlanLine(const StoredLine& line, int64_t partner_id, int sequence,
                                  absl::CivilMonth report_month);

// The plans of all lines joined into one submission.
absl::StatusOr<SubmissionPlan> PlanSubmission(const std::vector<StoredLine>& lines,
                                              int64_t partner_id, int sequence,
                                              absl::CivilMonth report_month);

// The wait after the `attempts`-th failed attempt: base × 2^(attempts-1), at most `cap`.
absl::Duration Backoff(int attempts, absl::Duration base, absl::Duration cap);

struct EffectDeliveryOptions {
  std::string owner = "report";  // this replica (leases are taken in its name)
  absl::Duration interval = absl::Seconds(5);
  // How long a claim holds its batch: longer than batch_size calls of call_timeout each, so
  // that another replica takes over only the effects of a replica that died.
  absl::Duration lease = absl::Minutes(5);
  absl::Duration call_timeout = absl::Seconds(10);  // each peer call and store call
  absl::Duration retry_base = absl::Seconds(5);
  absl::Duration retry_cap = absl::Hours(1);
  int batch_size = 20;
};

struct DeliveryRound {
  int claimed = 0;
  int done = 0;
  int failed = 0;
  absl::Status status;  // the first store failure, if any (peer failures are per effect)
};

class EffectDelivery {
 public:
  // `store`, `peers` and `clock` must outlive the loop.
  EffectDelivery(ReportStore& store, EffectPeers& peers, const Clock& clock,
                 EffectDeliveryOptions options);
  ~EffectDelivery();  // Stop()
  EffectDelivery(const EffectDelivery&) = delete;
  EffectDelivery& operator=(const EffectDelivery&) = delete;

  // Delivers every due effect, batch after batch, until none is due (an effect whose
  // dependency was done in this round is due in the same round).
  DeliveryRound RunOnce();

  // The loop: a round at once, then one every interval. Once only.
  void Start();
  // Wakes and joins the loop; a round in progress finishes first. Idempotent.
  void Stop();

 private:
  void Loop();
  // Calls the peer for `effect`.
  absl::Status Deliver(const Effect& effect);

  ReportStore& store_;
  EffectPeers& peers_;
  const Clock& clock_;
  const EffectDeliveryOptions options_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace anken::report
