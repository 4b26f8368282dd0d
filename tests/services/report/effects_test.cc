// The effect planning of report intake (effects.h) without any I/O: which peer calls a
// submitted line makes, their request_ids (the same on every attempt), their payloads, what a
// resubmission after a reopen leaves out, and the retry backoff.

#include "services/report/effects.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "google/protobuf/util/json_util.h"

namespace anken::report {
namespace {

using ::testing::SizeIs;

absl::CivilDay D(int y, int m, int d) { return absl::CivilDay(y, m, d); }
const absl::CivilMonth kApril(2026, 4);
constexpr int64_t kPartner = 7;

StoredLine InProgressLine(int64_t id) {
  StoredLine s;
  s.line.id = id;
  s.line.report_id = 3;
  s.line.snapshot.project_id = 100 + id;
  s.line.snapshot.case_number = "0000123";
  s.line.snapshot.referral_date = D(2026, 1, 10);
  s.partner_id = kPartner;
  return s;
}

ExtraOrder Extra(ExtraKind kind, int64_t amount) {
  ExtraOrder x;
  x.kind = kind;
  x.order_date = D(2026, 3, 28);
  x.amount = amount;
  return x;
}

// Completed for 1,000,000 with an additional and a repeat order (stored ids 31 and 32).
StoredLine CompletedLine(int64_t id) {
  StoredLine s = InProgressLine(id);
  s.line.answer = Answer::kChanged;
  s.line.change.outcome = Outcome::kCompleted;
  s.line.change.completion_date = D(2026, 3, 20);
  s.line.change.amount = 1000000;
  s.line.change.remarks = "引き渡し済み";
  s.line.change.extra_orders = {Extra(ExtraKind::kAdditional, 200000),
                                Extra(ExtraKind::kRepeat, 50000)};
  s.extra_order_ids = {31, 32};
  return s;
}

template <typename Msg>
Msg Parse(const NewEffect& e) {
  Msg m;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(e.payload, &m).ok()) << e.payload;
  return m;
}

TEST(PlanLineTest, UncheckedUnchangedAndRepeatedLinesApplyNothing) {
  StoredLine line = InProgressLine(5);
  absl::StatusOr<LinePlan> p = PlanLine(line, kPartner, 1, kApril);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->apply);
  line.line.answer = Answer::kNoChange;
  EXPECT_FALSE(PlanLine(line, kPartner, 1, kApril)->apply);
  line.line.answer = Answer::kChanged;  // a change that repeats the snapshot
  EXPECT_FALSE(PlanLine(line, kPartner, 1, kApril)->apply);
  // Applied as it is by an earlier submission.
  StoredLine applied = CompletedLine(5);
  applied.submitted_answer = AnswerKey(applied.line.change);
  applied.applied_extra_orders = 2;
  EXPECT_FALSE(PlanLine(applied, kPartner, 2, kApril)->apply);
}

TEST(PlanLineTest, ACompletedLineRecordsItsOutcomeThenChargesCompletionAndEachOrder) {
  absl::StatusOr<LinePlan> p = PlanLine(CompletedLine(5), kPartner, 1, kApril);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_TRUE(p->apply);
  ASSERT_THAT(p->effects, SizeIs(4));
  EXPECT_EQ(p->effects[0].kind, EffectKind::kRecordOutcome);
  EXPECT_EQ(p->effects[0].request_id, "report-line-5-outcome");
  EXPECT_EQ(p->effects[0].depends_on, -1);
  const auto outcome = Parse<project::v1::RecordReferralOutcomeRequest>(p->effects[0]);
  EXPECT_EQ(outcome.request_id(), "report-line-5-outcome");
  EXPECT_EQ(outcome.project_id(), 105);
  EXPECT_EQ(outcome.outcome(), project::v1::REFERRAL_OUTCOME_COMPLETED);
  EXPECT_EQ(outcome.amount(), 1000000);
  EXPECT_EQ(outcome.completion_date().day(), 20);
  EXPECT_EQ(outcome.remarks(), "引き渡し済み");
  ASSERT_THAT(outcome.extra_orders(), SizeIs(2));
  EXPECT_EQ(outcome.extra_orders(1).kind(), project::v1::EXTRA_ORDER_KIND_REPEAT);

  const std::vector<std::string> ids = {"report-line-5-completion", "report-line-5-extra-0",
                                        "report-line-5-extra-1"};
  const std::vector<std::string> keys = {"completion", "extra:31", "extra:32"};
  const std::vector<billing::v1::CommissionKind> kinds = {
      billing::v1::COMMISSION_KIND_COMPLETION, billing::v1::COMMISSION_KIND_ADDITIONAL_ORDER,
      billing::v1::COMMISSION_KIND_REPEAT_ORDER};
  const std::vector<int64_t> amounts = {1000000, 200000, 50000};
  for (size_t i = 0; i < 3; ++i) {
    const NewEffect& e = p->effects[i + 1];
    EXPECT_EQ(e.kind, EffectKind::kCommission);
    EXPECT_EQ(e.request_id, ids[i]);
    EXPECT_EQ(e.depends_on, 0);  // after the outcome
    const auto charge = Parse<billing::v1::CreateCommissionChargeRequest>(e);
    EXPECT_EQ(charge.request_id(), ids[i]);
    EXPECT_EQ(charge.project_id(), 105);
    EXPECT_EQ(charge.partner_id(), kPartner);
    EXPECT_EQ(charge.charge_key(), keys[i]);
    EXPECT_EQ(charge.kind(), kinds[i]);
    EXPECT_EQ(charge.construction_amount(), amounts[i]);
    EXPECT_EQ(charge.report_month().year(), 2026);
    EXPECT_EQ(charge.report_month().month(), 4);
  }
  ASSERT_THAT(p->commissions, SizeIs(3));
  EXPECT_EQ(p->commissions[0].source, "completion");
  EXPECT_EQ(p->commissions[2].source, "extra_orders[1]");
  EXPECT_EQ(p->applied.line_id, 5);
  EXPECT_EQ(p->applied.applied_extra_orders, 2);
  EXPECT_EQ(p->applied.answer_key, AnswerKey(CompletedLine(5).line.change));

  // The same line planned again gives the same requests: retries are the same calls.
  absl::StatusOr<LinePlan> again = PlanLine(CompletedLine(5), kPartner, 1, kApril);
  ASSERT_TRUE(again.ok());
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(again->effects[i].payload, p->effects[i].payload);
}

TEST(PlanLineTest, AResubmissionSendsOnlyWhatWasNotAppliedUnderNewRequestIds) {
  StoredLine line = CompletedLine(5);
  line.applied_extra_orders = 1;
  line.submitted_answer = "the first answer";
  line.line.change.amount = 1100000;  // corrected after a reopen
  absl::StatusOr<LinePlan> p = PlanLine(line, kPartner, 2, kApril);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_THAT(p->effects, SizeIs(3));
  EXPECT_EQ(p->effects[0].request_id, "report-line-5-outcome-2");
  EXPECT_THAT(Parse<project::v1::RecordReferralOutcomeRequest>(p->effects[0]).extra_orders(),
              SizeIs(1));
  EXPECT_EQ(p->effects[1].request_id, "report-line-5-completion-2");
  EXPECT_EQ(Parse<billing::v1::CreateCommissionChargeRequest>(p->effects[1]).charge_key(),
            "completion");
  EXPECT_EQ(p->effects[2].request_id, "report-line-5-extra-1");
  EXPECT_EQ(Parse<billing::v1::CreateCommissionChargeRequest>(p->effects[2]).charge_key(),
            "extra:32");
}

TEST(PlanLineTest, ALostCaseOnlyRecordsItsOutcome) {
  StoredLine line = InProgressLine(6);
  line.line.answer = Answer::kChanged;
  line.line.change.outcome = Outcome::kLost;
  line.line.change.lost_date = D(2026, 3, 1);
  absl::StatusOr<LinePlan> p = PlanLine(line, kPartner, 1, kApril);
  ASSERT_TRUE(p.ok());
  ASSERT_THAT(p->effects, SizeIs(1));
  EXPECT_EQ(Parse<project::v1::RecordReferralOutcomeRequest>(p->effects[0]).lost_date().day(), 1);
  EXPECT_THAT(p->commissions, SizeIs(0));
}

TEST(PlanSubmissionTest, JoinsTheLinesKeepingEachChargeAfterItsOwnOutcome) {
  StoredLine lost = InProgressLine(6);
  lost.line.answer = Answer::kChanged;
  lost.line.change.outcome = Outcome::kLost;
  lost.line.change.lost_date = D(2026, 3, 1);
  absl::StatusOr<SubmissionPlan> p =
      PlanSubmission({lost, InProgressLine(7), CompletedLine(5)}, kPartner, 1, kApril);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_THAT(p->effects, SizeIs(5));
  EXPECT_EQ(p->effects[1].request_id, "report-line-5-outcome");
  for (size_t i = 2; i < 5; ++i) EXPECT_EQ(p->effects[i].depends_on, 1);
  ASSERT_THAT(p->lines, SizeIs(2));
  EXPECT_EQ(p->lines[0].line_id, 6);
  EXPECT_EQ(p->lines[1].line_id, 5);
}

TEST(AnswerKeyTest, DiffersWhenAnyAnsweredValueDiffers) {
  const Change base = CompletedLine(5).line.change;
  Change other = base;
  EXPECT_EQ(AnswerKey(other), AnswerKey(base));
  other.remarks = "別";
  EXPECT_NE(AnswerKey(other), AnswerKey(base));
  other = base;
  other.extra_orders[0].note = "x";
  EXPECT_NE(AnswerKey(other), AnswerKey(base));
  other = base;
  other.completion_date = D(2026, 3, 21);
  EXPECT_NE(AnswerKey(other), AnswerKey(base));
}

TEST(BackoffTest, DoublesFromTheBaseUpToTheCap) {
  const absl::Duration base = absl::Seconds(5), cap = absl::Minutes(1);
  EXPECT_EQ(Backoff(0, base, cap), absl::Seconds(5));
  EXPECT_EQ(Backoff(1, base, cap), absl::Seconds(5));
  EXPECT_EQ(Backoff(2, base, cap), absl::Seconds(10));
  EXPECT_EQ(Backoff(4, base, cap), absl::Seconds(40));
  EXPECT_EQ(Backoff(5, base, cap), absl::Minutes(1));
  EXPECT_EQ(Backoff(1000000, base, cap), absl::Minutes(1));
}

}  // namespace
}  // namespace anken::report
