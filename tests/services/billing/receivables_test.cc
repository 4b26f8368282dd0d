// Pure tests of receivables: aging buckets at every boundary, overdue lists, the aging table,
// commission rounding (incl. amounts near the int64 limit), and missed billing (請求漏れ):
// each of its three kinds found, and nothing else.

#include "services/billing/receivables.h"

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/status/errors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/billing/billing.h"
#include "services/billing/payments.h"

namespace anken::billing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::CivilDay Day(int y, int m, int d) { return absl::CivilDay(y, m, d); }

OpenInvoice Inv(int64_t id, int64_t customer, absl::CivilDay due, int64_t balance) {
  OpenInvoice i;
  i.id = id;
  i.customer_id = customer;
  i.issue_date = due - 30;
  i.due_date = due;
  i.total = balance;
  i.balance = balance;
  return i;
}

// ---------------------------------------------------------------------------------------------
// Aging.

TEST(AgingTest, BucketAtEveryBoundary) {
  const absl::CivilDay due = Day(2026, 1, 31);
  const struct {
    int days;
    AgingBucket bucket;
  } cases[] = {
      {-1, AgingBucket::kNotDue},     {0, AgingBucket::kNotDue},
      {1, AgingBucket::kDays1To30},   {30, AgingBucket::kDays1To30},
      {31, AgingBucket::kDays31To60}, {60, AgingBucket::kDays31To60},
      {61, AgingBucket::kDays61To90}, {90, AgingBucket::kDays61To90},
      {91, AgingBucket::kOver90},     {1000, AgingBucket::kOver90},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(DaysPastDue(due, due + c.days), c.days);
    EXPECT_EQ(static_cast<int>(AgingBucketFor(due, due + c.days)), static_cast<int>(c.bucket))
        << c.days << " days past due";
  }
  // Across a month end and a leap day: 2024-02-29 is 30 days after 2024-01-30.
  EXPECT_EQ(AgingBucketFor(Day(2024, 1, 30), Day(2024, 2, 29)), AgingBucket::kDays1To30);
  EXPECT_EQ(AgingBucketFor(Day(2024, 1, 30), Day(2024, 3, 1)), AgingBucket::kDays31To60);
}

TEST(AgingTest, OverdueMeansDuePassedAndSomethingOpen) {
  const absl::CivilDay due = Day(2026, 3, 31);
  EXPECT_FALSE(IsOverdue(Inv(1, 1, due, 1'000), due));     // due today
  EXPECT_TRUE(IsOverdue(Inv(1, 1, due, 1'000), due + 1));  // the day after
  EXPECT_FALSE(IsOverdue(Inv(1, 1, due, 0), due + 40));    // paid
  EXPECT_FALSE(IsOverdue(Inv(1, 1, due, -5), due + 40));   // credit, nothing owed
}

TEST(AgingTest, OverdueListLongestOverdueFirst) {
  const absl::CivilDay as_of = Day(2026, 4, 10);
  const std::vector<OpenInvoice> invoices = {
      Inv(1, 10, Day(2026, 3, 31), 5'000),   // 10 days
      Inv(2, 10, Day(2026, 4, 10), 5'000),   // due today: not overdue
      Inv(3, 20, Day(2025, 12, 31), 7'000),  // 100 days
      Inv(4, 20, Day(2026, 1, 31), 0),       // paid
      Inv(5, 30, Day(2026, 3, 31), 1'000),   // 10 days, higher id
  };
  std::vector<int64_t> ids;
  for (const OpenInvoice& i : OverdueInvoices(invoices, as_of)) ids.push_back(i.id);
  EXPECT_THAT(ids, ElementsAre(3, 1, 5));
}

TEST(AgingTest, SummaryByCustomerHandComputed) {
  const absl::CivilDay as_of = Day(2026, 4, 30);
  const std::vector<OpenInvoice> invoices = {
      // customer 10
      Inv(1, 10, Day(2026, 5, 31), 110'000),  // not due
      Inv(2, 10, Day(2026, 4, 30), 22'000),   // due today: not due
      Inv(3, 10, Day(2026, 3, 31), 33'000),   // 30 days
      Inv(4, 10, Day(2026, 3, 30), 44'000),   // 31 days
      Inv(5, 10, Day(2025, 12, 31), 55'000),  // 120 days
      // customer 7
      Inv(6, 7, Day(2026, 1, 30), 1'000),  // 90 days
      Inv(7, 7, Day(2026, 1, 29), 2'000),  // 91 days
      Inv(8, 7, Day(2026, 2, 28), 3'000),  // 61 days
      Inv(9, 7, Day(2026, 1, 31), 0),      // paid: not counted
  };
  const AgingSummary s = SummarizeAging(invoices, as_of);
  ASSERT_EQ(s.rows.size(), 2u);
  EXPECT_EQ(s.rows[0].customer_id, 7);
  EXPECT_THAT(s.rows[0].amounts, ElementsAre(0, 0, 0, 4'000, 2'000));
  EXPECT_EQ(s.rows[0].total, 6'000);
  EXPECT_EQ(s.rows[0].invoice_count, 3);
  EXPECT_EQ(s.rows[1].customer_id, 10);
  EXPECT_THAT(s.rows[1].amounts, ElementsAre(132'000, 33'000, 44'000, 0, 55'000));
  EXPECT_EQ(s.rows[1].total, 264'000);
  EXPECT_EQ(s.rows[1].invoice_count, 5);
  EXPECT_EQ(s.totals.customer_id, 0);
  EXPECT_THAT(s.totals.amounts, ElementsAre(132'000, 33'000, 44'000, 4'000, 57'000));
  EXPECT_EQ(s.totals.total, 270'000);
  EXPECT_EQ(s.totals.invoice_count, 8);
}

TEST(AgingTest, SumsSaturateInsteadOfWrapping) {
  const int64_t max = std::numeric_limits<int64_t>::max();
  const AgingSummary s = SummarizeAging(
      {Inv(1, 1, Day(2026, 5, 31), max), Inv(2, 1, Day(2026, 5, 31), max)}, Day(2026, 4, 1));
  EXPECT_EQ(s.rows[0].total, max);
  EXPECT_EQ(s.rows[0].amounts[0], max);
}

// ---------------------------------------------------------------------------------------------
// Commissions.

int64_t ReferenceCommission(int64_t amount, int64_t rate_bp) {
  return static_cast<int64_t>(static_cast<__int128>(amount) * rate_bp / 10000);
}

TEST(CommissionTest, FloorsEveryFraction) {
  EXPECT_EQ(*Commission(1'234'567, 300), 37'037);  // 37,037.01
  EXPECT_EQ(*Commission(1'234'599, 300), 37'037);  // 37,037.97: floor, not round
  EXPECT_EQ(*Commission(999, 1), 0);               // 0.0999
  EXPECT_EQ(*Commission(10'000, 1), 1);
  EXPECT_EQ(*Commission(9'999, 10'000), 9'999);  // 100%
  EXPECT_EQ(*Commission(5'000'000, 0), 0);
  EXPECT_EQ(*Commission(0, 1'500), 0);
  EXPECT_EQ(*Commission(3'333'333, 1'000), 333'333);  // 333,333.3
  EXPECT_EQ(*Commission(1'100'001, 750), 82'500);     // 82,500.075
}

TEST(CommissionTest, HugeAmountsDoNotOverflow) {
  const int64_t max = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(*Commission(max, 10'000), max);
  EXPECT_EQ(*Commission(max, 5'000), max / 2);
  EXPECT_EQ(*Commission(max, 9'999), ReferenceCommission(max, 9'999));
  EXPECT_EQ(*Commission(max - 1, 1), ReferenceCommission(max - 1, 1));
  // Against 128-bit arithmetic over many amounts and rates.
  std::mt19937_64 rng(20260415);
  std::uniform_int_distribution<int64_t> amount(0, max);
  std::uniform_int_distribution<int64_t> rate(0, 10'000);
  for (int i = 0; i < 10'000; ++i) {
    const int64_t a = i % 2 == 0 ? amount(rng) : amount(rng) % 100'000'000;
    const int64_t r = rate(rng);
    ASSERT_EQ(*Commission(a, r), ReferenceCommission(a, r)) << a << " × " << r << "bp";
  }
}

TEST(CommissionTest, RefusesNegativeAmountsAndRatesOutOfRange) {
  absl::StatusOr<int64_t> c = Commission(-1, 100);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(ErrorReason(c.status()), "AMOUNT_NEGATIVE");
  c = Commission(1'000, 10'001);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(ErrorReason(c.status()), "INVALID_RATE");
  ASSERT_EQ(FieldViolations(c.status()).size(), 1u);
  EXPECT_EQ(FieldViolations(c.status())[0].field, "rate_bp");
  EXPECT_FALSE(Commission(1'000, -1).ok());
}

TEST(CommissionTest, AdjustmentIsTheDifferenceOfFlooredCommissions) {
  EXPECT_EQ(*CommissionAdjustment(1'000'000, 1'200'000, 500), 10'000);
  EXPECT_EQ(*CommissionAdjustment(1'200'000, 1'000'000, 500), -10'000);
  // Each side is floored, so that charge + adjustment = the commission of the new amount;
  // flooring the difference (0.5 yen here) would give 0 and lose a yen.
  EXPECT_EQ(*CommissionAdjustment(1'000'010, 1'000'020, 500), 1);  // 50,000.5 → 50,001.0
  EXPECT_EQ(*CommissionAdjustment(5, 10, 1'000), 1);               // 0.5 → 1.0
  EXPECT_FALSE(CommissionAdjustment(-1, 10, 100).ok());
}

TEST(CommissionTest, BilledAtTheEndOfTheReportMonth) {
  EXPECT_EQ(CommissionBillingDate(absl::CivilMonth(2024, 2)), Day(2024, 2, 29));
  EXPECT_EQ(CommissionBillingDate(absl::CivilMonth(2026, 4)), Day(2026, 4, 30));
}

// ---------------------------------------------------------------------------------------------
// Missed billing.

BillingEntry Entry(int64_t id, absl::CivilDay billing, EntryStatus status, int64_t amount,
                   std::string period = "") {
  BillingEntry e;
  e.id = id;
  e.billing_date = billing;
  e.revenue_date = billing;
  e.status = status;
  e.amount = amount;
  e.period = std::move(period);
  return e;
}

BillingPlan Plan(int64_t project, int64_t customer, Timing timing,
                 std::vector<BillingEntry> entries) {
  BillingPlan p;
  p.project_id = project;
  p.customer_id = customer;
  p.timing = timing;
  p.entries = std::move(entries);
  return p;
}

RecurringTerms Terms(Interval interval, absl::CivilMonth start, absl::CivilMonth end,
                     int64_t amount, bool split = false) {
  RecurringTerms t;
  t.interval = interval;
  t.split_revenue = split;
  t.amount = amount;
  t.start_month = start;
  t.end_month = end;
  return t;
}

std::string Describe(const MissedBilling& m) {
  return absl::StrCat(m.project_id, " ", m.code, " entry=", m.entry_id, " period=", m.period,
                      " date=", m.billing_date.year(), "-", m.billing_date.month(), "-",
                      m.billing_date.day(), " amount=", m.amount);
}

TEST(MissedBillingTest, FindsEachKindAndNothingElse) {
  const absl::CivilDay as_of = Day(2026, 4, 10);
  const EntryStatus U = EntryStatus::kUnbilled, R = EntryStatus::kReady, B = EntryStatus::kBilled,
                    P = EntryStatus::kPaid;
  std::vector<BillingPlan> plans;

  // 1: a split plan. Reported: the UNBILLED one of 03-31 and the READY one of 04-09. Not:
  // billed, paid, uncollectible, due today (04-10 has not passed), future.
  plans.push_back(
      Plan(1, 501, Timing::kSplit,
           {Entry(11, Day(2026, 3, 31), U, 100'000), Entry(12, Day(2026, 4, 9), R, 50'000),
            Entry(13, Day(2026, 3, 31), B, 70'000), Entry(14, Day(2026, 2, 28), P, 1),
            Entry(15, Day(2026, 2, 28), EntryStatus::kUncollectible, 2),
            Entry(16, Day(2026, 4, 10), R, 3), Entry(17, Day(2026, 4, 30), U, 4)}));

  // 2: won, no plan at all.

  // 3: monthly 2026-01..2026-12, 10,000 a month: February's entry is missing. March's entry
  // exists with its date moved into May (by a person): neither missing nor overdue.
  {
    BillingPlan p = Plan(3, 503, Timing::kRecurring,
                         {Entry(31, Day(2026, 1, 31), B, 10'000, "M2026-01"),
                          Entry(33, Day(2026, 5, 15), U, 10'000, "M2026-03")});
    for (int m = 4; m <= 12; ++m) {
      p.entries.push_back(Entry(30 + m, absl::CivilDay(absl::CivilMonth(2026, m) + 1) - 1, U,
                                10'000, absl::StrCat("M2026-", m < 10 ? "0" : "", m)));
    }
    p.recurring =
        Terms(Interval::kMonthly, absl::CivilMonth(2026, 1), absl::CivilMonth(2026, 12), 10'000);
    plans.push_back(std::move(p));
  }

  // 4: NOT won (e.g. 失注): an overdue entry and missing periods, none reported.
  {
    BillingPlan p = Plan(4, 504, Timing::kRecurring, {Entry(41, Day(2026, 1, 31), U, 5, "")});
    p.recurring =
        Terms(Interval::kMonthly, absl::CivilMonth(2025, 1), absl::CivilMonth(2026, 12), 5);
    plans.push_back(std::move(p));
  }

  // 5: yearly split 2026-01..2026-12: all twelve revenue months are billed on 2026-01-31,
  // so by 04-10 every one is due, July included; July's entry is missing.
  {
    BillingPlan p = Plan(5, 505, Timing::kRecurring, {});
    for (int m = 1; m <= 12; ++m) {
      if (m == 7) continue;
      p.entries.push_back(Entry(500 + m, Day(2026, 1, 31), B, 20'000,
                                absl::StrCat("S2026-", m < 10 ? "0" : "", m)));
    }
    p.recurring = Terms(Interval::kYearly, absl::CivilMonth(2026, 1), absl::CivilMonth(2026, 12),
                        20'000, true);
    plans.push_back(std::move(p));
  }

  // 6: yearly, not split, 2025-05..2027-04: the 2025-05 year is billed, the 2026-05 year is
  // not due yet (2026-05-31). Nothing to report.
  {
    BillingPlan p = Plan(6, 506, Timing::kRecurring,
                         {Entry(61, Day(2025, 5, 31), P, 1'200'000, "Y2025-05"),
                          Entry(62, Day(2026, 5, 31), U, 1'200'000, "Y2026-05")});
    p.recurring =
        Terms(Interval::kYearly, absl::CivilMonth(2025, 5), absl::CivilMonth(2027, 4), 1'200'000);
    plans.push_back(std::move(p));
  }

  const std::vector<WonCase> won = {{1, 501}, {2, 502}, {3, 503}, {5, 505}, {6, 506}, {1, 501}};
  std::vector<std::string> found;
  for (const MissedBilling& m : FindMissedBilling(won, plans, as_of)) found.push_back(Describe(m));
  EXPECT_THAT(found, ElementsAre("1 ENTRY_NOT_BILLED entry=11 period= date=2026-3-31 amount=100000",
                                 "1 ENTRY_NOT_BILLED entry=12 period= date=2026-4-9 amount=50000",
                                 "2 NO_PLAN entry=0 period= date=1970-1-1 amount=0",
                                 "3 PERIOD_MISSING entry=0 period=M2026-02 date=2026-2-28 "
                                 "amount=10000",
                                 "5 PERIOD_MISSING entry=0 period=S2026-07 date=2026-1-31 "
                                 "amount=20000"));
}

TEST(MissedBillingTest, ReasonsAndCustomers) {
  const absl::CivilDay as_of = Day(2026, 4, 10);
  BillingPlan p = Plan(3, 0, Timing::kRecurring, {});
  p.recurring =
      Terms(Interval::kMonthly, absl::CivilMonth(2026, 2), absl::CivilMonth(2026, 2), 10'000);
  const std::vector<MissedBilling> found = FindMissedBilling({{3, 77}, {9, 78}}, {p}, as_of);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].kind, MissedBillingKind::kPeriodMissing);
  EXPECT_EQ(found[0].customer_id, 77);  // from the won case when the plan has none
  EXPECT_THAT(found[0].reason, HasSubstr("M2026-02"));
  EXPECT_EQ(found[1].kind, MissedBillingKind::kNoPlan);
  EXPECT_EQ(found[1].customer_id, 78);
  EXPECT_THAT(found[1].reason, HasSubstr("no billing plan"));
}

TEST(MissedBillingTest, TheDayBeforeTheBillingDateNothingIsMissing) {
  BillingPlan p = Plan(3, 1, Timing::kRecurring, {});
  p.recurring =
      Terms(Interval::kMonthly, absl::CivilMonth(2026, 2), absl::CivilMonth(2026, 3), 10'000);
  // February's billing date is 02-28: on 02-28 it has not passed; on 03-01 it has.
  EXPECT_TRUE(FindMissedBilling({{3, 1}}, {p}, Day(2026, 2, 28)).empty());
  EXPECT_EQ(FindMissedBilling({{3, 1}}, {p}, Day(2026, 3, 1)).size(), 1u);
}

}  // namespace
}  // namespace anken::billing
