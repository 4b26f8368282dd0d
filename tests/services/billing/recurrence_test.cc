// Pure tests of billing-plan rules: generation (DESIGN.md "Billing timing and generation"),
// automatic renewal ("Automatic renewal"), plan validation and entry status moves.

#include "services/billing/recurrence.h"

#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/status/errors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/billing/billing.h"

namespace anken::billing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::CivilMonth Month(int y, int m) { return absl::CivilMonth(y, m); }
absl::CivilDay Day(int y, int m, int d) { return absl::CivilDay(y, m, d); }

RecurringTerms Monthly(absl::CivilMonth start, absl::CivilMonth end, int64_t amount,
                       bool auto_renew = false, int unit = 0) {
  RecurringTerms t;
  t.interval = Interval::kMonthly;
  t.amount = amount;
  t.start_month = start;
  t.end_month = end;
  t.auto_renew = auto_renew;
  t.renewal_unit_months = unit;
  return t;
}

RecurringTerms Yearly(absl::CivilMonth start, absl::CivilMonth end, int64_t amount, bool split,
                      bool auto_renew = false, int unit = 0) {
  RecurringTerms t = Monthly(start, end, amount, auto_renew, unit);
  t.interval = Interval::kYearly;
  t.split_revenue = split;
  return t;
}

std::vector<std::string> Periods(const std::vector<PlannedEntry>& entries) {
  std::vector<std::string> out;
  for (const PlannedEntry& e : entries) out.push_back(e.period);
  return out;
}
std::vector<absl::CivilDay> BillingDates(const std::vector<PlannedEntry>& entries) {
  std::vector<absl::CivilDay> out;
  for (const PlannedEntry& e : entries) out.push_back(e.billing_date);
  return out;
}
std::vector<absl::CivilDay> RevenueDates(const std::vector<PlannedEntry>& entries) {
  std::vector<absl::CivilDay> out;
  for (const PlannedEntry& e : entries) out.push_back(e.revenue_date);
  return out;
}
std::vector<std::string> MonthlyPeriods(char prefix, absl::CivilMonth from, absl::CivilMonth to) {
  std::vector<std::string> out;
  for (absl::CivilMonth m = from; m <= to; ++m) out.push_back(prefix + MonthKey(m));
  return out;
}

// ---- month arithmetic ----

TEST(MonthEndTest, LastCalendarDayAcrossLeapYears) {
  EXPECT_EQ(MonthEnd(Month(2024, 2)), Day(2024, 2, 29));
  EXPECT_EQ(MonthEnd(Month(2023, 2)), Day(2023, 2, 28));
  EXPECT_EQ(MonthEnd(Month(2100, 2)), Day(2100, 2, 28));  // divisible by 100: not leap
  EXPECT_EQ(MonthEnd(Month(2000, 2)), Day(2000, 2, 29));  // divisible by 400: leap
  EXPECT_EQ(MonthEnd(Month(2019, 6)), Day(2019, 6, 30));
  EXPECT_EQ(MonthEnd(Month(2019, 7)), Day(2019, 7, 31));
  EXPECT_EQ(MonthEnd(Month(2019, 12)), Day(2019, 12, 31));
}

TEST(MonthKeyTest, ZeroPadded) {
  EXPECT_EQ(MonthKey(Month(2019, 7)), "2019-07");
  EXPECT_EQ(MonthKey(Month(2020, 12)), "2020-12");
}

// ---- generation: the examples of DESIGN.md and the manual ----

TEST(GenerateTest, MonthlyOneEntryPerMonthAtMonthEnd) {
  std::vector<PlannedEntry> e = GenerateEntries(Monthly(Month(2019, 6), Month(2019, 9), 50'000));
  EXPECT_THAT(Periods(e), ElementsAre("M2019-06", "M2019-07", "M2019-08", "M2019-09"));
  EXPECT_THAT(BillingDates(e), ElementsAre(Day(2019, 6, 30), Day(2019, 7, 31), Day(2019, 8, 31),
                                           Day(2019, 9, 30)));
  EXPECT_EQ(BillingDates(e), RevenueDates(e));
  for (const PlannedEntry& x : e) EXPECT_EQ(x.amount, 50'000);
}

TEST(GenerateTest, MonthlySingleMonthContract) {
  std::vector<PlannedEntry> e = GenerateEntries(Monthly(Month(2019, 6), Month(2019, 6), 3'000));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].period, "M2019-06");
  EXPECT_EQ(e[0].billing_date, Day(2019, 6, 30));
  EXPECT_EQ(e[0].revenue_date, Day(2019, 6, 30));
  EXPECT_EQ(e[0].amount, 3'000);
}

TEST(GenerateTest, YearlyNotSplitOneEntryPerContractYear) {
  // The manual's example: 2019-06..2023-05 without splitting → 4 entries, one a year.
  std::vector<PlannedEntry> e =
      GenerateEntries(Yearly(Month(2019, 6), Month(2023, 5), 1'200'000, /*split=*/false));
  EXPECT_THAT(Periods(e), ElementsAre("Y2019-06", "Y2020-06", "Y2021-06", "Y2022-06"));
  EXPECT_THAT(BillingDates(e), ElementsAre(Day(2019, 6, 30), Day(2020, 6, 30), Day(2021, 6, 30),
                                           Day(2022, 6, 30)));
  EXPECT_EQ(RevenueDates(e), BillingDates(e));
  for (const PlannedEntry& x : e) EXPECT_EQ(x.amount, 1'200'000);
}

TEST(GenerateTest, YearlySplitTwelveRevenueMonthsShareTheBillingDate) {
  // The manual's example: 2019-06..2020-05 split → 12 entries billed on 2019-06-30.
  std::vector<PlannedEntry> e =
      GenerateEntries(Yearly(Month(2019, 6), Month(2020, 5), 100'000, /*split=*/true));
  ASSERT_EQ(e.size(), 12u);
  for (const PlannedEntry& x : e) {
    EXPECT_EQ(x.billing_date, Day(2019, 6, 30));
    EXPECT_EQ(x.amount, 100'000);
  }
  EXPECT_THAT(RevenueDates(e),
              ElementsAre(Day(2019, 6, 30), Day(2019, 7, 31), Day(2019, 8, 31), Day(2019, 9, 30),
                          Day(2019, 10, 31), Day(2019, 11, 30), Day(2019, 12, 31),
                          Day(2020, 1, 31), Day(2020, 2, 29), Day(2020, 3, 31), Day(2020, 4, 30),
                          Day(2020, 5, 31)));
  EXPECT_EQ(Periods(e), MonthlyPeriods('S', Month(2019, 6), Month(2020, 5)));
}

TEST(GenerateTest, YearlySplitEachYearHasItsOwnBillingDate) {
  std::vector<PlannedEntry> e =
      GenerateEntries(Yearly(Month(2019, 6), Month(2021, 5), 100'000, /*split=*/true));
  ASSERT_EQ(e.size(), 24u);
  for (size_t i = 0; i < 12; ++i) EXPECT_EQ(e[i].billing_date, Day(2019, 6, 30)) << i;
  for (size_t i = 12; i < 24; ++i) EXPECT_EQ(e[i].billing_date, Day(2020, 6, 30)) << i;
  EXPECT_EQ(e[12].revenue_date, Day(2020, 6, 30));
  EXPECT_EQ(e[23].revenue_date, Day(2021, 5, 31));
}

// ---- month ends across leap years ----

TEST(GenerateTest, FebruaryMonthEndsAcrossLeapYears) {
  auto feb = [](int year) {
    std::vector<PlannedEntry> e = GenerateEntries(Monthly(Month(year, 1), Month(year, 3), 1));
    return e.at(1).billing_date;
  };
  EXPECT_EQ(feb(2024), Day(2024, 2, 29));
  EXPECT_EQ(feb(2023), Day(2023, 2, 28));
  EXPECT_EQ(feb(2100), Day(2100, 2, 28));
  EXPECT_EQ(feb(2000), Day(2000, 2, 29));
}

TEST(GenerateTest, StartInA31DayMonthStepsThroughFebruaryByMonth) {
  // Never "2024-01-31 + 1 month" (which would give 03-02): every date is its own month's end.
  std::vector<PlannedEntry> e = GenerateEntries(Monthly(Month(2024, 1), Month(2024, 5), 1));
  EXPECT_THAT(BillingDates(e), ElementsAre(Day(2024, 1, 31), Day(2024, 2, 29), Day(2024, 3, 31),
                                           Day(2024, 4, 30), Day(2024, 5, 31)));
  // The same through a renewal: end 2024-01, renewed on 2024-02-01.
  absl::optional<PlanRenewal> r =
      ComputeRenewal(Monthly(Month(2024, 1), Month(2024, 1), 1, true, 1), Day(2024, 2, 1));
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->entries.size(), 1u);
  EXPECT_EQ(r->entries[0].billing_date, Day(2024, 2, 29));
  EXPECT_EQ(r->entries[0].revenue_date, Day(2024, 2, 29));
}

TEST(GenerateTest, YearlyContractYearsStartingInFebruaryOfALeapYear) {
  std::vector<PlannedEntry> e =
      GenerateEntries(Yearly(Month(2024, 2), Month(2029, 1), 10, /*split=*/false));
  EXPECT_THAT(BillingDates(e), ElementsAre(Day(2024, 2, 29), Day(2025, 2, 28), Day(2026, 2, 28),
                                           Day(2027, 2, 28), Day(2028, 2, 29)));
  std::vector<PlannedEntry> s =
      GenerateEntries(Yearly(Month(2099, 3), Month(2101, 2), 10, /*split=*/true));
  ASSERT_EQ(s.size(), 24u);
  EXPECT_EQ(s[11].revenue_date, Day(2100, 2, 28));
  EXPECT_EQ(s[11].billing_date, Day(2099, 3, 31));
  EXPECT_EQ(s[12].billing_date, Day(2100, 3, 31));
  EXPECT_EQ(s[23].revenue_date, Day(2101, 2, 28));
}

// ---- GenerateEntriesBetween ----

TEST(GenerateBetweenTest, MonthlyClipsToTheStartAndGoesPastTheEnd) {
  RecurringTerms t = Monthly(Month(2020, 3), Month(2020, 4), 7);
  EXPECT_THAT(Periods(GenerateEntriesBetween(t, Month(2019, 12), Month(2020, 3))),
              ElementsAre("M2020-03"));
  // Renewal months lie beyond the current end month.
  EXPECT_THAT(Periods(GenerateEntriesBetween(t, Month(2020, 5), Month(2020, 6))),
              ElementsAre("M2020-05", "M2020-06"));
  EXPECT_TRUE(GenerateEntriesBetween(t, Month(2020, 6), Month(2020, 5)).empty());
}

TEST(GenerateBetweenTest, YearlyAlignsToContractYears) {
  RecurringTerms t = Yearly(Month(2019, 6), Month(2020, 5), 12, /*split=*/false);
  // A year belongs to the range holding its first month.
  EXPECT_THAT(Periods(GenerateEntriesBetween(t, Month(2020, 6), Month(2022, 5))),
              ElementsAre("Y2020-06", "Y2021-06"));
  EXPECT_THAT(Periods(GenerateEntriesBetween(t, Month(2020, 7), Month(2022, 5))),
              ElementsAre("Y2021-06"));
  EXPECT_TRUE(GenerateEntriesBetween(t, Month(2020, 7), Month(2021, 5)).empty());

  RecurringTerms s = Yearly(Month(2019, 6), Month(2020, 5), 12, /*split=*/true);
  std::vector<PlannedEntry> e = GenerateEntriesBetween(s, Month(2021, 4), Month(2021, 7));
  EXPECT_THAT(Periods(e), ElementsAre("S2021-04", "S2021-05", "S2021-06", "S2021-07"));
  EXPECT_THAT(BillingDates(e), ElementsAre(Day(2020, 6, 30), Day(2020, 6, 30), Day(2021, 6, 30),
                                           Day(2021, 6, 30)));
}

// ---- renewal ----

TEST(RenewalTest, DesignExampleJulyThenAugust) {
  RecurringTerms t = Monthly(Month(2019, 6), Month(2019, 6), 10'000, true, 1);
  EXPECT_FALSE(ComputeRenewal(t, Day(2019, 6, 30)).has_value());  // June has not passed

  absl::optional<PlanRenewal> july = ComputeRenewal(t, Day(2019, 7, 1));
  ASSERT_TRUE(july.has_value());
  EXPECT_EQ(july->old_end_month, Month(2019, 6));
  EXPECT_EQ(july->new_end_month, Month(2019, 7));
  ASSERT_EQ(july->entries.size(), 1u);
  EXPECT_EQ(july->entries[0].period, "M2019-07");
  EXPECT_EQ(july->entries[0].billing_date, Day(2019, 7, 31));
  EXPECT_EQ(july->entries[0].revenue_date, Day(2019, 7, 31));
  EXPECT_EQ(july->entries[0].amount, 10'000);

  t.end_month = july->new_end_month;
  EXPECT_FALSE(ComputeRenewal(t, Day(2019, 7, 1)).has_value());  // the same day again
  EXPECT_FALSE(ComputeRenewal(t, Day(2019, 7, 31)).has_value());

  absl::optional<PlanRenewal> august = ComputeRenewal(t, Day(2019, 8, 1));
  ASSERT_TRUE(august.has_value());
  EXPECT_EQ(august->old_end_month, Month(2019, 7));
  EXPECT_EQ(august->new_end_month, Month(2019, 8));
  ASSERT_EQ(august->entries.size(), 1u);
  EXPECT_EQ(august->entries[0].period, "M2019-08");
  EXPECT_EQ(august->entries[0].billing_date, Day(2019, 8, 31));
}

TEST(RenewalTest, NothingWithoutAutoRenewOrUnit) {
  RecurringTerms off = Monthly(Month(2019, 6), Month(2019, 6), 1, /*auto_renew=*/false, 1);
  EXPECT_FALSE(ComputeRenewal(off, Day(2019, 8, 1)).has_value());
  RecurringTerms no_unit = Monthly(Month(2019, 6), Month(2019, 6), 1, true, 0);
  EXPECT_FALSE(ComputeRenewal(no_unit, Day(2019, 8, 1)).has_value());
  // Units ValidatePlan refuses renew nothing either (the caller validates to report them).
  EXPECT_FALSE(ComputeRenewal(Monthly(Month(2019, 6), Month(2019, 6), 1, true, 13),
                              Day(2019, 8, 1))
                   .has_value());
  EXPECT_FALSE(ComputeRenewal(Yearly(Month(2019, 6), Month(2020, 5), 1, false, true, 6),
                              Day(2021, 8, 1))
                   .has_value());
}

TEST(RenewalTest, MonthlyUnitsOneToElevenAndTwelve) {
  for (int unit = 1; unit <= 12; ++unit) {
    SCOPED_TRACE(absl::StrCat("unit ", unit));
    RecurringTerms t = Monthly(Month(2024, 1), Month(2024, 1), 500, true, unit);
    BillingPlan plan;
    plan.project_id = 1;
    plan.timing = Timing::kRecurring;
    plan.recurring = t;
    EXPECT_TRUE(ValidatePlan(plan).ok());
    absl::optional<PlanRenewal> r = ComputeRenewal(t, Day(2024, 2, 1));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->new_end_month, Month(2024, 1) + unit);
    EXPECT_EQ(Periods(r->entries), MonthlyPeriods('M', Month(2024, 2), Month(2024, 1) + unit));
    for (const PlannedEntry& e : r->entries) {
      EXPECT_EQ(e.billing_date, MonthEnd(absl::CivilMonth(e.billing_date)));
      EXPECT_EQ(e.amount, 500);
    }
  }
}

TEST(RenewalTest, YearlyUnitTwelve) {
  RecurringTerms t = Yearly(Month(2024, 1), Month(2024, 12), 120'000, false, true, 12);
  absl::optional<PlanRenewal> r = ComputeRenewal(t, Day(2025, 1, 1));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->new_end_month, Month(2025, 12));
  ASSERT_EQ(r->entries.size(), 1u);
  EXPECT_EQ(r->entries[0].period, "Y2025-01");
  EXPECT_EQ(r->entries[0].billing_date, Day(2025, 1, 31));
  EXPECT_EQ(r->entries[0].amount, 120'000);

  RecurringTerms s = Yearly(Month(2024, 1), Month(2024, 12), 10'000, true, true, 12);
  absl::optional<PlanRenewal> rs = ComputeRenewal(s, Day(2025, 1, 1));
  ASSERT_TRUE(rs.has_value());
  EXPECT_EQ(rs->new_end_month, Month(2025, 12));
  EXPECT_EQ(Periods(rs->entries), MonthlyPeriods('S', Month(2025, 1), Month(2025, 12)));
  for (const PlannedEntry& e : rs->entries) {
    EXPECT_EQ(e.billing_date, Day(2025, 1, 31));
    EXPECT_EQ(e.amount, 10'000);
  }
}

TEST(RenewalTest, CatchUpAfterFourteenMonthsOfMissedRunsUnitOne) {
  // End 2024-01; the runs of 2024-02-01 .. 2025-03-01 (14 of them) were all missed. On
  // 2025-03-15 the end moves while it is before 2025-03, so to 2025-03 — the March entry is
  // due just as the July one is on 2019-07-01 in the DESIGN.md example.
  RecurringTerms t = Monthly(Month(2023, 2), Month(2024, 1), 900, true, 1);
  absl::optional<PlanRenewal> r = ComputeRenewal(t, Day(2025, 3, 15));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->old_end_month, Month(2024, 1));
  EXPECT_EQ(r->new_end_month, Month(2025, 3));
  ASSERT_EQ(r->entries.size(), 14u);
  EXPECT_EQ(Periods(r->entries), MonthlyPeriods('M', Month(2024, 2), Month(2025, 3)));
  EXPECT_EQ(r->entries.front().billing_date, Day(2024, 2, 29));
  EXPECT_EQ(r->entries.back().billing_date, Day(2025, 3, 31));
  // Caught up: the same day, or any later day of March, renews nothing more.
  t.end_month = r->new_end_month;
  EXPECT_FALSE(ComputeRenewal(t, Day(2025, 3, 15)).has_value());
  EXPECT_FALSE(ComputeRenewal(t, Day(2025, 3, 31)).has_value());
}

TEST(RenewalTest, CatchUpUnitThreeMovesInWholeUnits) {
  // 2024-01 → 04 → 07 → 10 → 2025-01 → 2025-04 (2025-01 is still before 2025-03).
  RecurringTerms t = Monthly(Month(2023, 11), Month(2024, 1), 900, true, 3);
  absl::optional<PlanRenewal> r = ComputeRenewal(t, Day(2025, 3, 15));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->new_end_month, Month(2025, 4));
  EXPECT_EQ(Periods(r->entries), MonthlyPeriods('M', Month(2024, 2), Month(2025, 4)));
  // One unit short of the boundary: on 2025-01-31 the end reaches exactly 2025-01.
  absl::optional<PlanRenewal> r2 = ComputeRenewal(t, Day(2025, 1, 31));
  ASSERT_TRUE(r2.has_value());
  EXPECT_EQ(r2->new_end_month, Month(2025, 1));
}

TEST(RenewalTest, YearlyCatchesUpTwoYears) {
  RecurringTerms t = Yearly(Month(2020, 4), Month(2021, 3), 240'000, false, true, 12);
  absl::optional<PlanRenewal> r = ComputeRenewal(t, Day(2022, 6, 1));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->new_end_month, Month(2023, 3));
  EXPECT_THAT(Periods(r->entries), ElementsAre("Y2021-04", "Y2022-04"));
  EXPECT_THAT(BillingDates(r->entries), ElementsAre(Day(2021, 4, 30), Day(2022, 4, 30)));

  RecurringTerms s = Yearly(Month(2020, 4), Month(2021, 3), 20'000, true, true, 12);
  absl::optional<PlanRenewal> rs = ComputeRenewal(s, Day(2022, 6, 1));
  ASSERT_TRUE(rs.has_value());
  EXPECT_EQ(rs->new_end_month, Month(2023, 3));
  ASSERT_EQ(rs->entries.size(), 24u);
  EXPECT_EQ(Periods(rs->entries), MonthlyPeriods('S', Month(2021, 4), Month(2023, 3)));
  for (size_t i = 0; i < 24; ++i) {
    EXPECT_EQ(rs->entries[i].billing_date, i < 12 ? Day(2021, 4, 30) : Day(2022, 4, 30)) << i;
  }
}

// ---- properties over random plans ----

struct Coverage {
  std::map<absl::CivilMonth, int> months;  // contract month → how many entries cover it
  std::set<std::string> periods;
  int64_t sum = 0;
};

// Adds `entries` of `t`, checking each entry's own shape and that no period repeats.
void Cover(const RecurringTerms& t, const std::vector<PlannedEntry>& entries, Coverage& c) {
  for (const PlannedEntry& e : entries) {
    ASSERT_TRUE(c.periods.insert(e.period).second) << "period repeated: " << e.period;
    c.sum += e.amount;
    EXPECT_EQ(e.amount, t.amount);
    const absl::CivilMonth revenue(e.revenue_date);
    EXPECT_EQ(e.revenue_date, MonthEnd(revenue));
    EXPECT_EQ(e.billing_date, MonthEnd(absl::CivilMonth(e.billing_date)));
    const int64_t into_year = (revenue - t.start_month) % 12;
    if (t.interval == Interval::kMonthly) {
      EXPECT_EQ(e.period, "M" + MonthKey(revenue));
      EXPECT_EQ(e.billing_date, e.revenue_date);
      ++c.months[revenue];
    } else if (!t.split_revenue) {
      EXPECT_EQ(e.period, "Y" + MonthKey(revenue));
      EXPECT_EQ(into_year, 0) << "a yearly entry starts a contract year";
      EXPECT_EQ(e.billing_date, e.revenue_date);
      for (int i = 0; i < 12; ++i) ++c.months[revenue + i];
    } else {
      EXPECT_EQ(e.period, "S" + MonthKey(revenue));
      EXPECT_EQ(e.billing_date, MonthEnd(revenue - into_year));
      ++c.months[revenue];
    }
  }
}

// Every month of [start, end] covered exactly once, nothing outside, and the plan's sum.
void ExpectExactCover(const RecurringTerms& t, const Coverage& c) {
  const int64_t months = (t.end_month - t.start_month) + 1;
  ASSERT_EQ(static_cast<int64_t>(c.months.size()), months);
  for (absl::CivilMonth m = t.start_month; m <= t.end_month; ++m) {
    auto it = c.months.find(m);
    ASSERT_TRUE(it != c.months.end()) << "missing " << MonthKey(m);
    ASSERT_EQ(it->second, 1) << "overlap at " << MonthKey(m);
  }
  int64_t expected = 0;
  if (t.interval == Interval::kMonthly) {
    expected = months * t.amount;
  } else if (!t.split_revenue) {
    expected = (months / 12) * t.amount;
  } else {
    expected = (months / 12) * 12 * t.amount;
  }
  EXPECT_EQ(c.sum, expected);
}

TEST(RecurrencePropertyTest, RandomPlansAndRenewalsCoverEachMonthOnce) {
  std::mt19937_64 rng(20190701);
  auto uniform = [&rng](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  int renewals_seen = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    SCOPED_TRACE(absl::StrCat("iteration ", iter));
    RecurringTerms t;
    const bool yearly = uniform(0, 1) == 1;
    t.interval = yearly ? Interval::kYearly : Interval::kMonthly;
    t.split_revenue = yearly && uniform(0, 1) == 1;
    t.amount = uniform(1, 1'000'000'000);
    t.start_month = Month(static_cast<int>(uniform(2000, 2098)), static_cast<int>(uniform(1, 12)));
    t.end_month = yearly ? t.start_month + 12 * uniform(1, 5) - 1 : t.start_month + uniform(0, 59);
    t.auto_renew = true;
    t.renewal_unit_months = yearly || uniform(0, 3) == 0 ? 12 : static_cast<int>(uniform(1, 11));

    BillingPlan plan;
    plan.project_id = iter + 1;
    plan.timing = Timing::kRecurring;
    plan.recurring = t;
    ASSERT_TRUE(ValidatePlan(plan).ok()) << ValidatePlan(plan);

    Coverage c;
    std::vector<PlannedEntry> all = GenerateEntries(t);
    Cover(t, all, c);
    ExpectExactCover(t, c);
    if (::testing::Test::HasFailure()) return;

    // A sequence of daily-ish runs, some after long gaps.
    absl::CivilDay as_of = MonthEnd(t.end_month) - uniform(0, 40);
    const int runs = static_cast<int>(uniform(1, 6));
    for (int run = 0; run < runs; ++run) {
      as_of += uniform(1, 500);
      absl::optional<PlanRenewal> r = ComputeRenewal(t, as_of);
      const absl::CivilMonth current(as_of);
      if (t.end_month >= current) {
        ASSERT_FALSE(r.has_value());
        continue;
      }
      ASSERT_TRUE(r.has_value());
      ++renewals_seen;
      ASSERT_EQ(r->old_end_month, t.end_month);
      const int64_t moved = r->new_end_month - r->old_end_month;
      ASSERT_GT(moved, 0);
      ASSERT_EQ(moved % t.renewal_unit_months, 0);
      ASSERT_GE(r->new_end_month, current);                           // caught up
      ASSERT_LT(r->new_end_month - t.renewal_unit_months, current);  // by the fewest units
      t.end_month = r->new_end_month;
      Cover(t, r->entries, c);
      all.insert(all.end(), r->entries.begin(), r->entries.end());
      ExpectExactCover(t, c);
      // Renewed entries are exactly what the longer contract would have generated.
      ASSERT_EQ(Periods(all), Periods(GenerateEntries(t)));
      // The same day again creates nothing.
      ASSERT_FALSE(ComputeRenewal(t, as_of).has_value());
      if (::testing::Test::HasFailure()) return;
    }
  }
  EXPECT_GT(renewals_seen, 3000);  // the runs really exercised renewal
}

// ---- ValidatePlan ----

BillingPlan LumpSum() {
  BillingPlan p;
  p.project_id = 7;
  p.timing = Timing::kLumpSum;
  PlannedEntry e;
  e.billing_date = Day(2026, 4, 30);
  e.revenue_date = Day(2026, 4, 30);
  e.amount = 100'000;
  p.planned_entries.push_back(e);
  return p;
}

BillingPlan Split(int n) {
  BillingPlan p = LumpSum();
  p.timing = Timing::kSplit;
  p.planned_entries.resize(static_cast<size_t>(n), p.planned_entries[0]);
  return p;
}

BillingPlan Recurring(const RecurringTerms& t) {
  BillingPlan p;
  p.project_id = 7;
  p.timing = Timing::kRecurring;
  p.recurring = t;
  return p;
}

RecurringTerms GoodMonthly() { return Monthly(Month(2019, 6), Month(2020, 5), 10'000, true, 1); }
RecurringTerms GoodYearly() {
  return Yearly(Month(2019, 6), Month(2023, 5), 120'000, false, true, 12);
}

void ExpectInvalid(const absl::Status& s, const std::string& field, const std::string& reason) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  std::vector<FieldViolation> v = FieldViolations(s);
  ASSERT_EQ(v.size(), 1u) << s;
  EXPECT_EQ(v[0].field, field) << s;
  EXPECT_EQ(ErrorReason(s), reason) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr(field));
}

TEST(ValidatePlanTest, AcceptsEveryValidCombination) {
  EXPECT_TRUE(ValidatePlan(LumpSum()).ok());
  EXPECT_TRUE(ValidatePlan(Split(0)).ok());
  EXPECT_TRUE(ValidatePlan(Split(1)).ok());
  EXPECT_TRUE(ValidatePlan(Split(40)).ok());
  EXPECT_TRUE(ValidatePlan(Recurring(GoodMonthly())).ok());
  EXPECT_TRUE(ValidatePlan(Recurring(GoodYearly())).ok());
  RecurringTerms split = GoodYearly();
  split.split_revenue = true;
  EXPECT_TRUE(ValidatePlan(Recurring(split)).ok());
  // One month, and exactly one year.
  EXPECT_TRUE(ValidatePlan(Recurring(Monthly(Month(2019, 6), Month(2019, 6), 1))).ok());
  EXPECT_TRUE(
      ValidatePlan(Recurring(Yearly(Month(2019, 6), Month(2020, 5), 1, false))).ok());
  // Without auto-renew the unit is ignored, whatever it says.
  for (int unit : {0, -1, 6, 13, 99}) {
    RecurringTerms y = GoodYearly();
    y.auto_renew = false;
    y.renewal_unit_months = unit;
    EXPECT_TRUE(ValidatePlan(Recurring(y)).ok()) << unit;
    RecurringTerms m = GoodMonthly();
    m.auto_renew = false;
    m.renewal_unit_months = unit;
    EXPECT_TRUE(ValidatePlan(Recurring(m)).ok()) << unit;
  }
  for (tax::Category c : {tax::Category::kStandard, tax::Category::kReduced,
                          tax::Category::kExempt}) {
    BillingPlan p = LumpSum();
    p.tax_category = c;
    EXPECT_TRUE(ValidatePlan(p).ok());
  }
  // 100 years is the longest contract.
  EXPECT_TRUE(
      ValidatePlan(Recurring(Monthly(Month(2000, 1), Month(2099, 12), 1))).ok());
}

TEST(ValidatePlanTest, RenewalUnits) {
  for (int unit = 1; unit <= 12; ++unit) {
    RecurringTerms m = GoodMonthly();
    m.renewal_unit_months = unit;
    EXPECT_TRUE(ValidatePlan(Recurring(m)).ok()) << unit;
  }
  for (int unit : {0, -1, 13, 24}) {
    SCOPED_TRACE(unit);
    RecurringTerms m = GoodMonthly();
    m.renewal_unit_months = unit;
    ExpectInvalid(ValidatePlan(Recurring(m)), "plan.recurring.renewal_unit_months",
                  "INVALID_RENEWAL_UNIT");
  }
  for (int unit : {0, 1, 6, 11, 13, 24}) {
    SCOPED_TRACE(unit);
    RecurringTerms y = GoodYearly();
    y.renewal_unit_months = unit;
    ExpectInvalid(ValidatePlan(Recurring(y)), "plan.recurring.renewal_unit_months",
                  "INVALID_RENEWAL_UNIT");
  }
  RecurringTerms split = GoodYearly();
  split.split_revenue = true;
  split.renewal_unit_months = 6;
  ExpectInvalid(ValidatePlan(Recurring(split)), "plan.recurring.renewal_unit_months",
                "INVALID_RENEWAL_UNIT");
}

TEST(ValidatePlanTest, RefusesEachBrokenRuleNamingItsField) {
  struct Case {
    std::string name;
    BillingPlan plan;
    std::string field;
    std::string reason;
  };
  std::vector<Case> cases;
  auto add = [&cases](std::string name, BillingPlan p, std::string field, std::string reason) {
    cases.push_back({std::move(name), std::move(p), std::move(field), std::move(reason)});
  };
  {
    BillingPlan p = LumpSum();
    p.project_id = 0;
    add("no case", p, "plan.project_id", "REQUIRED");
  }
  {
    BillingPlan p = LumpSum();
    p.tax_category = static_cast<tax::Category>(7);
    add("bad tax category", p, "plan.tax_category", "REQUIRED");
  }
  {
    BillingPlan p = LumpSum();
    p.timing = static_cast<Timing>(0);
    add("no timing", p, "plan.timing", "REQUIRED");
  }
  add("lump sum without entry", Split(0), "plan.planned_entries", "LUMP_SUM_ONE_ENTRY");
  cases.back().plan.timing = Timing::kLumpSum;
  add("lump sum with two entries", Split(2), "plan.planned_entries", "LUMP_SUM_ONE_ENTRY");
  cases.back().plan.timing = Timing::kLumpSum;
  {
    BillingPlan p = LumpSum();
    p.recurring = GoodMonthly();
    add("lump sum with terms", p, "plan.recurring", "RECURRING_NOT_ALLOWED");
  }
  {
    BillingPlan p = LumpSum();
    p.planned_entries[0].amount = 0;
    add("lump sum zero amount", p, "plan.planned_entries[0].amount", "AMOUNT_NOT_POSITIVE");
  }
  {
    BillingPlan p = LumpSum();
    p.planned_entries[0].amount = -1;
    add("lump sum negative amount", p, "plan.planned_entries[0].amount", "AMOUNT_NOT_POSITIVE");
  }
  {
    BillingPlan p = LumpSum();
    p.planned_entries[0].amount = 1'000'000'000'000;
    add("lump sum huge amount", p, "plan.planned_entries[0].amount", "AMOUNT_TOO_LARGE");
  }
  {
    BillingPlan p = Split(3);
    p.planned_entries[2].amount = -5;
    add("split negative amount", p, "plan.planned_entries[2].amount", "AMOUNT_NOT_POSITIVE");
  }
  {
    BillingPlan p = Split(3);
    p.planned_entries[1].description = std::string(501, 'x');
    add("split long description", p, "plan.planned_entries[1].description", "TOO_LONG");
  }
  {
    BillingPlan p = Split(2);
    p.recurring = GoodMonthly();
    add("split with terms", p, "plan.recurring", "RECURRING_NOT_ALLOWED");
  }
  {
    BillingPlan p = Recurring(GoodMonthly());
    p.recurring.reset();
    add("recurring without terms", p, "plan.recurring", "REQUIRED");
  }
  {
    BillingPlan p = Recurring(GoodMonthly());
    p.planned_entries = LumpSum().planned_entries;
    add("recurring with planned entries", p, "plan.planned_entries",
        "PLANNED_ENTRIES_NOT_ALLOWED");
  }
  {
    RecurringTerms t = GoodMonthly();
    t.interval = static_cast<Interval>(0);
    add("no interval", Recurring(t), "plan.recurring.interval", "REQUIRED");
  }
  for (int64_t amount : {int64_t{0}, int64_t{-100}}) {
    RecurringTerms t = GoodMonthly();
    t.amount = amount;
    add(absl::StrCat("recurring amount ", amount), Recurring(t), "plan.recurring.amount",
        "AMOUNT_NOT_POSITIVE");
  }
  {
    RecurringTerms t = GoodYearly();
    t.amount = 1'000'000'000'000;
    add("recurring huge amount", Recurring(t), "plan.recurring.amount", "AMOUNT_TOO_LARGE");
  }
  {
    RecurringTerms t = GoodMonthly();
    t.end_month = t.start_month - 1;
    add("monthly end before start", Recurring(t), "plan.recurring.end_month",
        "END_BEFORE_START");
  }
  {
    RecurringTerms t = GoodYearly();
    t.end_month = Month(2019, 5);
    add("yearly end before start", Recurring(t), "plan.recurring.end_month", "END_BEFORE_START");
  }
  for (absl::CivilMonth end : {Month(2019, 6), Month(2020, 4), Month(2020, 6), Month(2023, 4)}) {
    RecurringTerms t = GoodYearly();
    t.end_month = end;
    add(absl::StrCat("yearly to ", MonthKey(end)), Recurring(t), "plan.recurring.end_month",
        "NOT_WHOLE_YEARS");
    t.split_revenue = true;
    add(absl::StrCat("yearly split to ", MonthKey(end)), Recurring(t),
        "plan.recurring.end_month", "NOT_WHOLE_YEARS");
  }
  {
    RecurringTerms t = GoodMonthly();
    t.split_revenue = true;
    add("monthly split revenue", Recurring(t), "plan.recurring.split_revenue",
        "SPLIT_REVENUE_MONTHLY");
  }
  {
    RecurringTerms t = Monthly(Month(2000, 1), Month(2100, 1), 1);
    add("longer than 100 years", Recurring(t), "plan.recurring.end_month", "PERIOD_TOO_LONG");
  }
  {
    RecurringTerms t = GoodMonthly();
    t.start_month = Month(1899, 12);
    add("start out of range", Recurring(t), "plan.recurring.start_month", "MONTH_OUT_OF_RANGE");
  }
  {
    RecurringTerms t = GoodMonthly();
    t.end_month = Month(3000, 1);
    add("end out of range", Recurring(t), "plan.recurring.end_month", "MONTH_OUT_OF_RANGE");
  }

  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ExpectInvalid(ValidatePlan(c.plan), c.field, c.reason);
  }
}

// ---- CheckEntryTransition ----

TEST(EntryTransitionTest, EveryPairWithAndWithoutAccounting) {
  using S = EntryStatus;
  const std::vector<S> all = {S::kUnbilled, S::kReady, S::kBilled, S::kPaid, S::kUncollectible};
  // The only moves SetEntryStatus may make; BILLED is entered and left through invoices.
  const std::set<std::pair<S, S>> anyone = {{S::kUnbilled, S::kReady}, {S::kReady, S::kUnbilled}};
  const std::set<std::pair<S, S>> accounting_only = {{S::kBilled, S::kPaid},
                                                     {S::kBilled, S::kUncollectible}};
  int ok = 0;
  for (S from : all) {
    for (S to : all) {
      for (bool accounting : {false, true}) {
        SCOPED_TRACE(absl::StrCat(static_cast<int>(from), " -> ", static_cast<int>(to),
                                  accounting ? " (accounting)" : ""));
        absl::Status s = CheckEntryTransition(from, to, accounting);
        if (anyone.count({from, to}) || (accounting && accounting_only.count({from, to}))) {
          EXPECT_TRUE(s.ok()) << s;
          ++ok;
        } else if (accounting_only.count({from, to})) {
          EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
          EXPECT_EQ(ErrorReason(s), "ACCOUNTING_ONLY");
        } else {
          EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
          EXPECT_EQ(ErrorReason(s), "STATUS_TRANSITION_NOT_ALLOWED");
        }
      }
    }
  }
  EXPECT_EQ(ok, 6);  // 2 moves × 2 roles + 2 accounting moves
}

TEST(EntryTransitionTest, UnknownStatusIsInvalid) {
  absl::Status s =
      CheckEntryTransition(EntryStatus::kUnbilled, static_cast<EntryStatus>(0), true);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  ASSERT_EQ(FieldViolations(s).size(), 1u);
  EXPECT_EQ(FieldViolations(s)[0].field, "status");
}

}  // namespace
}  // namespace anken::billing
