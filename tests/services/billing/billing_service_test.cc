// Integration tests of anken.billing.v1.BillingService through its gRPC API, against a real
// Postgres and the real project and customer services over gRPC (billing_fixture.h): plans of
// every timing and DESIGN.md's generation examples, plan validation, re-planning that never
// touches what is billed, entry lists, edits and status moves, the sales summary, automatic
// renewal (only for 受注済 cases, exactly once under retries and 20 concurrent runs over 500
// plans, previews that predict the run, failures set aside with their reason, the project
// service being down), invoices (DESIGN.md's tax example with floor and half-up rounding,
// allocation back to the entries, yearly numbers, due dates from the customer's terms,
// idempotent retries, the qualified-invoice check, cancellation), invoice-issue requests with
// their outbox row, and who may do what.

#include <algorithm>
#include <functional>
#include <limits>
#include <map>
#include <thread>
#include <tuple>
#include <utility>

#include "absl/synchronization/barrier.h"
#include "common/api/proto_time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/message_differencer.h"
#include "tests/services/billing/billing_fixture.h"

namespace anken::billing::testing {
namespace {

using ::google::protobuf::util::MessageDifferencer;

bool SameMessage(const google::protobuf::Message& a, const google::protobuf::Message& b) {
  return MessageDifferencer::Equals(a, b);
}

// (billing date, revenue date, amount) of each entry, in order.
using Row = std::tuple<std::string, std::string, int64_t>;
template <typename Entries>
std::vector<Row> Rows(const Entries& entries) {
  std::vector<Row> out;
  for (const auto& e : entries) {
    out.emplace_back(DateString(e.billing_date()), DateString(e.revenue_date()), e.amount());
  }
  return out;
}

template <typename Entries>
std::vector<int64_t> EntryIds(const Entries& entries) {
  std::vector<int64_t> ids;
  for (const auto& e : entries) ids.push_back(e.id());
  return ids;
}

template <typename Entries>
int64_t TaxSum(const Entries& entries) {
  int64_t sum = 0;
  for (const auto& e : entries) sum += e.tax();
  return sum;
}

const v1::BillingEntry* Find(const std::vector<v1::BillingEntry>& entries, int64_t id) {
  for (const auto& e : entries) {
    if (e.id() == id) return &e;
  }
  return nullptr;
}

// Month ends of [first, last] as "yyyy-mm-dd".
std::vector<std::string> MonthEnds(absl::CivilMonth first, absl::CivilMonth last) {
  std::vector<std::string> out;
  for (absl::CivilMonth m = first; m <= last; ++m) {
    const absl::CivilDay end = absl::CivilDay(m + 1) - 1;
    out.push_back(absl::StrFormat("%04d-%02d-%02d", end.year(), end.month(), end.day()));
  }
  return out;
}

template <typename Entries>
std::vector<std::string> RevenueDates(const Entries& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(DateString(e.revenue_date()));
  return out;
}

template <typename Entries>
std::vector<std::string> BillingDates(const Entries& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(DateString(e.billing_date()));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Plans of each timing, and DESIGN.md's generation examples
// ---------------------------------------------------------------------------------------------

TEST_F(BillingServiceTest, LumpSumPlanHasOneEntryWithItsDatesAmountAndTaxEstimate) {
  const project::v1::Project c = WonCase("一括案件", kita_);
  absl::StatusOr<v1::BillingPlan> plan =
      SetPlan(LumpSumPlan(c.id(), Planned(D(2019, 7, 31), D(2019, 7, 20), 1005, "システム導入一式"),
                          common::v1::TAX_CATEGORY_REDUCED));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->project_id(), c.id());
  EXPECT_EQ(plan->customer_id(), kita_.id());  // the case's customer, from the project service
  EXPECT_EQ(plan->timing(), v1::BILLING_TIMING_LUMP_SUM);
  EXPECT_FALSE(plan->has_recurring());
  EXPECT_FALSE(plan->etag().empty());
  EXPECT_EQ(plan->audit().created_by(), "staff-1");
  ASSERT_EQ(plan->entries_size(), 1);
  const v1::BillingEntry& e = plan->entries(0);
  EXPECT_GT(e.id(), 0);
  EXPECT_EQ(e.project_id(), c.id());
  EXPECT_EQ(e.customer_id(), kita_.id());
  EXPECT_EQ(DateString(e.billing_date()), "2019-07-31");
  EXPECT_EQ(DateString(e.revenue_date()), "2019-07-20");
  EXPECT_EQ(e.amount(), 1005);
  EXPECT_EQ(e.tax(), 80);  // 8% of 1,005 = 80.4, estimated with floor
  EXPECT_EQ(e.tax_category(), common::v1::TAX_CATEGORY_REDUCED);
  EXPECT_EQ(e.status(), v1::ENTRY_STATUS_UNBILLED);
  EXPECT_EQ(e.period(), "");
  EXPECT_EQ(e.description(), "システム導入一式");
  EXPECT_EQ(e.invoice_id(), 0);

  // What was set is what is read.
  absl::StatusOr<v1::BillingPlan> read = GetPlan(c.id());
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(SameMessage(*read, *plan)) << read->DebugString() << "\n" << plan->DebugString();
  EXPECT_EQ(EntryRows(), 1);
}

TEST_F(BillingServiceTest, SplitPlanKeepsEachEntryAsGiven) {
  const project::v1::Project c = WonCase("分割案件", acme_);
  const v1::BillingPlan plan =
      MustSetPlan(SplitPlan(c.id(),
                            {Planned(D(2019, 9, 30), D(2019, 9, 30), 200000, "残金"),
                             Planned(D(2019, 7, 31), D(2019, 7, 31), 100000, "着手金"),
                             Planned(D(2019, 8, 31), D(2019, 8, 15), 50000, "中間金")},
                            common::v1::TAX_CATEGORY_EXEMPT));
  EXPECT_EQ(plan.timing(), v1::BILLING_TIMING_SPLIT);
  ASSERT_EQ(plan.entries_size(), 3);
  // By billing date.
  EXPECT_EQ(Rows(plan.entries()), (std::vector<Row>{{"2019-07-31", "2019-07-31", 100000},
                                                    {"2019-08-31", "2019-08-15", 50000},
                                                    {"2019-09-30", "2019-09-30", 200000}}));
  for (const auto& e : plan.entries()) {
    EXPECT_EQ(e.tax(), 0) << "exempt";
    EXPECT_EQ(e.tax_category(), common::v1::TAX_CATEGORY_EXEMPT);
    EXPECT_EQ(e.status(), v1::ENTRY_STATUS_UNBILLED);
    EXPECT_EQ(e.customer_id(), acme_.id());
  }
  EXPECT_EQ(plan.entries(0).description(), "着手金");
  // A split plan without entries is valid: they can be added later.
  const project::v1::Project empty = WonCase("分割案件（後で追加）", acme_);
  const v1::BillingPlan none = MustSetPlan(SplitPlan(empty.id(), {}));
  EXPECT_EQ(none.entries_size(), 0);
  EXPECT_EQ(EntryRows(), 3);
}

TEST_F(BillingServiceTest, MonthlyPlanHasOneEntryPerMonthAtTheMonthEnd) {
  const project::v1::Project c = WonCase("月額保守", acme_);
  const v1::BillingPlan plan =
      MustSetPlan(RecurringPlan(c.id(), Monthly(YM(2019, 11), YM(2020, 3), 30000)));
  EXPECT_EQ(plan.timing(), v1::BILLING_TIMING_RECURRING);
  EXPECT_EQ(MonthString(plan.recurring().start_month()), "2019-11");
  EXPECT_EQ(MonthString(plan.recurring().end_month()), "2020-03");
  EXPECT_EQ(plan.recurring().amount(), 30000);
  EXPECT_EQ(plan.planned_entries_size(), 0);
  ASSERT_EQ(plan.entries_size(), 5);
  const std::vector<std::string> ends = {"2019-11-30", "2019-12-31", "2020-01-31", "2020-02-29",
                                         "2020-03-31"};
  EXPECT_EQ(BillingDates(plan.entries()), ends);  // 2020 is a leap year
  EXPECT_EQ(RevenueDates(plan.entries()), ends);
  for (const auto& e : plan.entries()) {
    EXPECT_EQ(e.amount(), 30000);
    EXPECT_EQ(e.tax(), 3000);
    EXPECT_EQ(e.tax_category(), common::v1::TAX_CATEGORY_STANDARD);
    EXPECT_EQ(e.status(), v1::ENTRY_STATUS_UNBILLED);
  }
}

// billing_service.proto, BillingEntry.period: "For generated entries: the month (recurring) the
// entry bills, "2019-07"". The store's key carries a kind prefix ("M2019-07", "Y2019-06",
// "S2019-07") that is an internal detail, not the API's format.
TEST_F(BillingServiceTest, GeneratedEntriesNameTheMonthTheyBill) {
  auto periods = [](const v1::BillingPlan& plan) {
    std::vector<std::string> out;
    for (const auto& e : plan.entries()) out.push_back(e.period());
    return out;
  };
  const v1::BillingPlan monthly = MustSetPlan(RecurringPlan(
      WonCase("期間表示（月額）", acme_).id(), Monthly(YM(2019, 11), YM(2020, 1), 1000)));
  EXPECT_EQ(periods(monthly), (std::vector<std::string>{"2019-11", "2019-12", "2020-01"}));
  const v1::BillingPlan yearly = MustSetPlan(RecurringPlan(
      WonCase("期間表示（年額）", acme_).id(), Yearly(YM(2019, 6), YM(2021, 5), 1000, false)));
  EXPECT_EQ(periods(yearly), (std::vector<std::string>{"2019-06", "2020-06"}));
  const v1::BillingPlan split = MustSetPlan(RecurringPlan(
      WonCase("期間表示（按分）", acme_).id(), Yearly(YM(2019, 6), YM(2020, 5), 1000, true)));
  std::vector<std::string> months;
  for (absl::CivilMonth m(2019, 6); m <= absl::CivilMonth(2020, 5); ++m) {
    months.push_back(absl::StrFormat("%04d-%02d", m.year(), m.month()));
  }
  EXPECT_EQ(periods(split), months);
  // Lump-sum and split entries have none.
  const v1::BillingPlan lump = MustSetPlan(LumpSumPlan(
      WonCase("期間表示（一括）", acme_).id(), Planned(D(2019, 7, 31), D(2019, 7, 31), 1000)));
  EXPECT_EQ(periods(lump), (std::vector<std::string>{""}));
}

TEST_F(BillingServiceTest, YearlyPlanHasOneEntryPerContractYear) {
  // DESIGN.md: start 2019-06, end 2023-05 → 4 entries, both dates at the end of each year's
  // first month, the yearly amount each.
  const project::v1::Project c = WonCase("年額ライセンス", acme_);
  const v1::BillingPlan plan =
      MustSetPlan(RecurringPlan(c.id(), Yearly(YM(2019, 6), YM(2023, 5), 360000, /*split=*/false)));
  EXPECT_EQ(Rows(plan.entries()), (std::vector<Row>{{"2019-06-30", "2019-06-30", 360000},
                                                    {"2020-06-30", "2020-06-30", 360000},
                                                    {"2021-06-30", "2021-06-30", 360000},
                                                    {"2022-06-30", "2022-06-30", 360000}}));
  for (const auto& e : plan.entries()) EXPECT_EQ(e.tax(), 36000);
  EXPECT_EQ(EntryRows(), 4);
}

TEST_F(BillingServiceTest, YearlySplitPlanHasTwelveEntriesPerYearSharingTheBillingDate) {
  const project::v1::Project c = WonCase("年額（売上按分）", acme_);
  const v1::BillingPlan plan =
      MustSetPlan(RecurringPlan(c.id(), Yearly(YM(2019, 6), YM(2021, 5), 10000, /*split=*/true)));
  ASSERT_EQ(plan.entries_size(), 24);
  // Each year's 12 entries are billed together at the end of the year's first month; their
  // revenue dates are the 12 month ends (2020-02-29 included).
  std::vector<std::string> billing(12, "2019-06-30");
  billing.resize(24, "2020-06-30");
  EXPECT_EQ(BillingDates(plan.entries()), billing);
  EXPECT_EQ(RevenueDates(plan.entries()),
            MonthEnds(absl::CivilMonth(2019, 6), absl::CivilMonth(2021, 5)));
  for (const auto& e : plan.entries()) {
    EXPECT_EQ(e.amount(), 10000);  // the monthly amount
    EXPECT_EQ(e.tax(), 1000);
  }
  // The first year alone (DESIGN.md: 12 per year).
  const project::v1::Project one = WonCase("年額（一年）", acme_);
  const v1::BillingPlan year =
      MustSetPlan(RecurringPlan(one.id(), Yearly(YM(2019, 6), YM(2020, 5), 10000, /*split=*/true)));
  ASSERT_EQ(year.entries_size(), 12);
  EXPECT_EQ(BillingDates(year.entries()), std::vector<std::string>(12, "2019-06-30"));
  EXPECT_EQ(EntryRows(), 36);
}

TEST_F(BillingServiceTest, PlanValidationNamesTheFieldAndWritesNothing) {
  const project::v1::Project c = WonCase("検証案件", acme_);
  const v1::BillingPlan monthly = RecurringPlan(c.id(), Monthly(YM(2019, 6), YM(2019, 12), 10000));

  struct Case {
    std::string name;
    std::function<void(v1::BillingPlan&)> change;
    std::string field;
    std::string reason;  // "" = any
  };
  const std::vector<Case> cases = {
      {"no case", [](v1::BillingPlan& p) { p.set_project_id(0); }, "plan.project_id", "REQUIRED"},
      {"no timing", [](v1::BillingPlan& p) { p.set_timing(v1::BILLING_TIMING_UNSPECIFIED); },
       "plan.timing", ""},
      {"no tax category",
       [](v1::BillingPlan& p) { p.set_tax_category(common::v1::TAX_CATEGORY_UNSPECIFIED); },
       "plan.tax_category", ""},
      {"recurring without terms", [](v1::BillingPlan& p) { p.clear_recurring(); }, "plan.recurring",
       "REQUIRED"},
      {"no interval",
       [](v1::BillingPlan& p) {
         p.mutable_recurring()->set_interval(v1::RECURRING_INTERVAL_UNSPECIFIED);
       },
       "plan.recurring.interval", ""},
      {"zero amount", [](v1::BillingPlan& p) { p.mutable_recurring()->set_amount(0); },
       "plan.recurring.amount", "AMOUNT_NOT_POSITIVE"},
      {"negative amount", [](v1::BillingPlan& p) { p.mutable_recurring()->set_amount(-100); },
       "plan.recurring.amount", "AMOUNT_NOT_POSITIVE"},
      {"month 13",
       [](v1::BillingPlan& p) { *p.mutable_recurring()->mutable_start_month() = YM(2019, 13); },
       "plan.recurring.start_month", ""},
      {"end before start",
       [](v1::BillingPlan& p) { *p.mutable_recurring()->mutable_end_month() = YM(2019, 5); },
       "plan.recurring.end_month", "END_BEFORE_START"},
      {"yearly not whole years",
       [](v1::BillingPlan& p) {
         *p.mutable_recurring() = Yearly(YM(2019, 6), YM(2020, 6), 120000, false);
       },
       "plan.recurring.end_month", "NOT_WHOLE_YEARS"},
      {"split revenue on a monthly plan",
       [](v1::BillingPlan& p) { p.mutable_recurring()->set_split_revenue(true); },
       "plan.recurring.split_revenue", "SPLIT_REVENUE_MONTHLY"},
      {"auto-renew without a unit",
       [](v1::BillingPlan& p) {
         p.mutable_recurring()->set_auto_renew(true);
         p.mutable_recurring()->set_renewal_unit_months(0);
       },
       "plan.recurring.renewal_unit_months", "INVALID_RENEWAL_UNIT"},
      {"monthly unit of 13",
       [](v1::BillingPlan& p) {
         p.mutable_recurring()->set_auto_renew(true);
         p.mutable_recurring()->set_renewal_unit_months(13);
       },
       "plan.recurring.renewal_unit_months", "INVALID_RENEWAL_UNIT"},
      {"yearly unit of 6",
       [](v1::BillingPlan& p) {
         *p.mutable_recurring() = Yearly(YM(2019, 6), YM(2020, 5), 120000, false, true);
         p.mutable_recurring()->set_renewal_unit_months(6);
       },
       "plan.recurring.renewal_unit_months", "INVALID_RENEWAL_UNIT"},
      {"recurring with planned entries",
       [](v1::BillingPlan& p) {
         *p.add_planned_entries() = Planned(D(2019, 7, 31), D(2019, 7, 31), 1);
       },
       "plan.planned_entries", ""},
      {"lump sum with two entries",
       [](v1::BillingPlan& p) {
         p = LumpSumPlan(p.project_id(), Planned(D(2019, 7, 31), D(2019, 7, 31), 1000));
         *p.add_planned_entries() = Planned(D(2019, 8, 31), D(2019, 8, 31), 1000);
       },
       "plan.planned_entries", "LUMP_SUM_ONE_ENTRY"},
      {"lump sum without an entry",
       [](v1::BillingPlan& p) {
         p = LumpSumPlan(p.project_id(), Planned(D(2019, 7, 31), D(2019, 7, 31), 1000));
         p.clear_planned_entries();
       },
       "plan.planned_entries", "LUMP_SUM_ONE_ENTRY"},
      {"lump sum with recurring terms",
       [](v1::BillingPlan& p) {
         const v1::RecurringTerms terms = p.recurring();
         p = LumpSumPlan(p.project_id(), Planned(D(2019, 7, 31), D(2019, 7, 31), 1000));
         *p.mutable_recurring() = terms;
       },
       "plan.recurring", ""},
      {"split entry of zero yen",
       [](v1::BillingPlan& p) {
         p = SplitPlan(p.project_id(), {Planned(D(2019, 7, 31), D(2019, 7, 31), 1000),
                                        Planned(D(2019, 8, 31), D(2019, 8, 31), 0)});
       },
       "plan.planned_entries[1].amount", "AMOUNT_NOT_POSITIVE"},
      {"split entry without a billing date",
       [](v1::BillingPlan& p) {
         p = SplitPlan(p.project_id(), {Planned(D(2019, 7, 31), D(2019, 7, 31), 1000)});
         p.mutable_planned_entries(0)->clear_billing_date();
       },
       "plan.planned_entries[0].billing_date", ""},
      {"split entry on 2019-02-29",
       [](v1::BillingPlan& p) {
         p = SplitPlan(p.project_id(), {Planned(D(2019, 2, 28), D(2019, 2, 29), 1000)});
       },
       "plan.planned_entries[0].revenue_date", ""},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.name);
    v1::BillingPlan p = monthly;
    k.change(p);
    EXPECT_TRUE(IsInvalidField(SetPlan(p).status(), k.field, k.reason));
  }
  EXPECT_EQ(Count("SELECT count(*) FROM billing.plans"), 0);
  EXPECT_EQ(EntryRows(), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM billing.audit_events"), 0);
  // The unmodified plan is valid.
  EXPECT_TRUE(SetPlan(monthly).ok());
}

TEST_F(BillingServiceTest, PlanOfAnUnknownCaseIsNotFound) {
  EXPECT_TRUE(
      IsError(SetPlan(RecurringPlan(kUnknownId, Monthly(YM(2019, 6), YM(2019, 6), 1000))).status(),
              absl::StatusCode::kNotFound, "PROJECT_NOT_FOUND"));
  EXPECT_EQ(Count("SELECT count(*) FROM billing.plans"), 0);
  // A case that exists but has no plan yet.
  const project::v1::Project c = ProspectCase("未計画", acme_);
  EXPECT_TRUE(IsError(GetPlan(c.id()).status(), absl::StatusCode::kNotFound, "PLAN_NOT_FOUND"));
  EXPECT_TRUE(IsError(GetPlan(kUnknownId).status(), absl::StatusCode::kNotFound));
  EXPECT_TRUE(IsInvalidField(GetPlan(0).status(), "project_id"));
  // A PROSPECT case may be planned: only renewal needs 受注済.
  EXPECT_TRUE(SetPlan(RecurringPlan(c.id(), Monthly(YM(2019, 6), YM(2019, 6), 1000))).ok());
}

TEST_F(BillingServiceTest, ReplanningKeepsReadyAndBilledEntriesAndReplacesUnbilledOnes) {
  const project::v1::Project c = WonCase("再計画", acme_);
  const v1::BillingPlan first =
      MustSetPlan(RecurringPlan(c.id(), Monthly(YM(2019, 4), YM(2019, 9), 10000)));
  ASSERT_EQ(first.entries_size(), 6);
  const v1::BillingEntry april = first.entries(0);
  const v1::BillingEntry may = first.entries(1);
  ASSERT_TRUE(SetStatus(april.id(), v1::ENTRY_STATUS_READY, staff_).ok());
  ASSERT_TRUE(SetStatus(may.id(), v1::ENTRY_STATUS_READY, staff_).ok());
  absl::StatusOr<v1::Invoice> invoice = Issue(acme_.id(), D(2019, 7, 10), {may.id()});
  ASSERT_TRUE(invoice.ok()) << invoice.status();
  std::set<int64_t> old_unbilled;
  for (int i = 2; i < 6; ++i) old_unbilled.insert(first.entries(i).id());

  const v1::BillingPlan current = MustGetPlan(c.id());
  // A stale etag is refused and changes nothing.
  EXPECT_TRUE(IsError(
      SetPlan(RecurringPlan(c.id(), Monthly(YM(2019, 4), YM(2019, 12), 20000)), "\"999\"").status(),
      absl::StatusCode::kAborted, "ETAG_MISMATCH"));
  EXPECT_EQ(EntryRows(), 6);

  // Longer and dearer: April (READY) and May (BILLED) stay as they were; June..December are
  // generated anew at the new amount.
  absl::StatusOr<v1::BillingPlan> longer =
      SetPlan(RecurringPlan(c.id(), Monthly(YM(2019, 4), YM(2019, 12), 20000)), current.etag());
  ASSERT_TRUE(longer.ok()) << longer.status();
  EXPECT_NE(longer->etag(), current.etag());
  EXPECT_EQ(MonthString(longer->recurring().end_month()), "2019-12");
  ASSERT_EQ(longer->entries_size(), 9);
  EXPECT_EQ(RevenueDates(longer->entries()),
            MonthEnds(absl::CivilMonth(2019, 4), absl::CivilMonth(2019, 12)));
  const v1::BillingEntry& kept_april = longer->entries(0);
  EXPECT_EQ(kept_april.id(), april.id());
  EXPECT_EQ(kept_april.status(), v1::ENTRY_STATUS_READY);
  EXPECT_EQ(kept_april.amount(), 10000);
  const v1::BillingEntry& kept_may = longer->entries(1);
  EXPECT_EQ(kept_may.id(), may.id());
  EXPECT_EQ(kept_may.status(), v1::ENTRY_STATUS_BILLED);
  EXPECT_EQ(kept_may.amount(), 10000);
  EXPECT_EQ(kept_may.invoice_id(), invoice->id());
  for (int i = 2; i < 9; ++i) {
    const v1::BillingEntry& e = longer->entries(i);
    EXPECT_EQ(old_unbilled.count(e.id()), 0u) << "UNBILLED entries are replaced";
    EXPECT_EQ(e.status(), v1::ENTRY_STATUS_UNBILLED);
    EXPECT_EQ(e.amount(), 20000);
    EXPECT_EQ(e.tax(), 2000);
  }
  EXPECT_EQ(EntryRows(), 9);

  // Shorter: June..December (UNBILLED) go; April and May stay.
  absl::StatusOr<v1::BillingPlan> shorter =
      SetPlan(RecurringPlan(c.id(), Monthly(YM(2019, 4), YM(2019, 5), 20000)));
  ASSERT_TRUE(shorter.ok()) << shorter.status();
  EXPECT_EQ(EntryIds(shorter->entries()), (std::vector<int64_t>{april.id(), may.id()}));
  EXPECT_EQ(EntryRows(), 2);

  // A different timing keeps them too.
  absl::StatusOr<v1::BillingPlan> lump =
      SetPlan(LumpSumPlan(c.id(), Planned(D(2019, 10, 31), D(2019, 10, 31), 50000, "追加作業")));
  ASSERT_TRUE(lump.ok()) << lump.status();
  ASSERT_EQ(lump->entries_size(), 3);
  EXPECT_EQ(lump->entries(0).id(), april.id());
  EXPECT_EQ(lump->entries(1).id(), may.id());
  EXPECT_EQ(lump->entries(1).status(), v1::ENTRY_STATUS_BILLED);
  EXPECT_EQ(lump->entries(2).amount(), 50000);
  EXPECT_FALSE(lump->has_recurring());
}

// ---------------------------------------------------------------------------------------------
// Entries: lists, edits, status moves, the sales summary
// ---------------------------------------------------------------------------------------------

TEST_F(BillingServiceTest, ListBillingEntriesFiltersAndPages) {
  const project::v1::Project a = WonCase("月額A", acme_);
  const project::v1::Project b = WonCase("一括B", kita_);
  const v1::BillingPlan pa =
      MustSetPlan(RecurringPlan(a.id(), Monthly(YM(2019, 6), YM(2019, 11), 10000)));
  const v1::BillingPlan pb =
      MustSetPlan(LumpSumPlan(b.id(), Planned(D(2019, 7, 15), D(2019, 7, 20), 5000)));
  ASSERT_EQ(pa.entries_size(), 6);
  ASSERT_EQ(pb.entries_size(), 1);
  ASSERT_TRUE(SetStatus(pa.entries(0).id(), v1::ENTRY_STATUS_READY, staff_).ok());
  ASSERT_TRUE(SetStatus(pa.entries(1).id(), v1::ENTRY_STATUS_READY, staff_).ok());
  const int64_t a06 = pa.entries(0).id(), a07 = pa.entries(1).id(), a08 = pa.entries(2).id();
  const int64_t bb = pb.entries(0).id();

  auto ids = [&](v1::ListBillingEntriesRequest f) { return EntryIds(AllEntries(std::move(f))); };
  v1::ListBillingEntriesRequest all;
  // Everything by billing date, then id.
  EXPECT_EQ(ids(all), (std::vector<int64_t>{a06, bb, a07, a08, pa.entries(3).id(),
                                            pa.entries(4).id(), pa.entries(5).id()}));
  v1::ListBillingEntriesRequest f;
  f.set_project_id(a.id());
  EXPECT_EQ(ids(f), EntryIds(pa.entries()));
  f = {};
  f.set_customer_id(kita_.id());
  EXPECT_EQ(ids(f), (std::vector<int64_t>{bb}));
  f = {};
  f.add_statuses(v1::ENTRY_STATUS_READY);
  EXPECT_EQ(ids(f), (std::vector<int64_t>{a06, a07}));
  f.add_statuses(v1::ENTRY_STATUS_UNBILLED);
  EXPECT_EQ(ids(f).size(), 7u);
  f = {};
  f.set_customer_id(acme_.id());
  f.add_statuses(v1::ENTRY_STATUS_UNBILLED);
  EXPECT_EQ(ids(f).size(), 4u);
  f = {};
  *f.mutable_billing_date_from() = D(2019, 7, 1);
  *f.mutable_billing_date_to() = D(2019, 8, 31);
  EXPECT_EQ(ids(f), (std::vector<int64_t>{bb, a07, a08}));
  f = {};
  *f.mutable_revenue_date_from() = D(2019, 7, 20);
  *f.mutable_revenue_date_to() = D(2019, 7, 20);
  EXPECT_EQ(ids(f), (std::vector<int64_t>{bb}));
  f = {};
  *f.mutable_revenue_date_from() = D(2019, 10, 1);
  EXPECT_EQ(ids(f), (std::vector<int64_t>{pa.entries(4).id(), pa.entries(5).id()}));
  f = {};
  f.set_project_id(kUnknownId);
  EXPECT_TRUE(ids(f).empty());

  // Pages of 3: 3 + 3 + 1, in the same order, the last without a token.
  std::vector<int64_t> paged;
  v1::ListBillingEntriesRequest page_req;
  page_req.set_page_size(3);
  std::vector<int> sizes;
  std::string second_token;
  for (int i = 0; i < 10; ++i) {
    absl::StatusOr<v1::ListBillingEntriesResponse> page = Call(&Stub::ListBillingEntries, page_req);
    ASSERT_TRUE(page.ok()) << page.status();
    sizes.push_back(page->entries_size());
    for (const auto& e : page->entries()) paged.push_back(e.id());
    if (page->next_page_token().empty()) break;
    if (second_token.empty()) second_token = page->next_page_token();
    page_req.set_page_token(page->next_page_token());
  }
  EXPECT_EQ(sizes, (std::vector<int>{3, 3, 1}));
  EXPECT_EQ(paged, ids(all));

  // A token belongs to its filter.
  v1::ListBillingEntriesRequest other;
  other.set_page_size(3);
  other.set_customer_id(acme_.id());
  other.set_page_token(second_token);
  EXPECT_TRUE(IsInvalidField(Call(&Stub::ListBillingEntries, other).status(), "page_token"));
  v1::ListBillingEntriesRequest big;
  big.set_page_size(1001);
  EXPECT_TRUE(IsInvalidField(Call(&Stub::ListBillingEntries, big).status(), "page_size"));
  v1::ListBillingEntriesRequest bad_status;
  bad_status.add_statuses(static_cast<v1::EntryStatus>(9));
  EXPECT_TRUE(IsInvalidField(Call(&Stub::ListBillingEntries, bad_status).status(), "statuses"));
  v1::ListBillingEntriesRequest bad_date;
  *bad_date.mutable_billing_date_from() = D(2019, 2, 30);
  EXPECT_TRUE(
      IsInvalidField(Call(&Stub::ListBillingEntries, bad_date).status(), "billing_date_from"));
}

TEST_F(BillingServiceTest, SplitEntriesCanBeAddedEditedAndRemovedWhileUnbilled) {
  const project::v1::Project c = WonCase("分割編集", acme_);
  const v1::BillingPlan plan =
      MustSetPlan(SplitPlan(c.id(), {Planned(D(2019, 7, 31), D(2019, 7, 31), 100000, "着手金"),
                                     Planned(D(2019, 9, 30), D(2019, 9, 30), 200000, "残金")}));

  v1::AddBillingEntryRequest add;
  add.set_request_id("add-1");
  add.set_project_id(c.id());
  *add.mutable_entry() = Planned(D(2019, 8, 31), D(2019, 8, 20), 50000, "中間金");
  absl::StatusOr<v1::BillingEntry> added = Call(&Stub::AddBillingEntry, add);
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_GT(added->id(), 0);
  EXPECT_EQ(added->project_id(), c.id());
  EXPECT_EQ(added->customer_id(), acme_.id());
  EXPECT_EQ(added->status(), v1::ENTRY_STATUS_UNBILLED);
  EXPECT_EQ(added->amount(), 50000);
  EXPECT_EQ(added->tax(), 5000);
  EXPECT_EQ(added->tax_category(), common::v1::TAX_CATEGORY_STANDARD);  // the plan's
  EXPECT_EQ(added->description(), "中間金");
  EXPECT_EQ(DateString(added->revenue_date()), "2019-08-20");
  // A retry answers the same entry and adds nothing.
  absl::StatusOr<v1::BillingEntry> retry = Call(&Stub::AddBillingEntry, add);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(SameMessage(*retry, *added));
  EXPECT_EQ(EntryRows(), 3);
  // The same request_id for another entry is the client's mistake.
  v1::AddBillingEntryRequest reused = add;
  reused.mutable_entry()->set_amount(1);
  EXPECT_TRUE(IsInvalidField(Call(&Stub::AddBillingEntry, reused).status(), "request_id",
                             "REQUEST_ID_REUSED"));
  // Bad adds write nothing.
  v1::AddBillingEntryRequest bad = add;
  bad.set_request_id("add-2");
  bad.mutable_entry()->set_amount(0);
  EXPECT_TRUE(IsInvalidField(Call(&Stub::AddBillingEntry, bad).status(), "entry.amount"));
  bad = add;
  bad.set_request_id("");
  EXPECT_TRUE(IsInvalidField(Call(&Stub::AddBillingEntry, bad).status(), "request_id"));
  bad = add;
  bad.set_request_id("add-3");
  bad.mutable_entry()->clear_billing_date();
  EXPECT_TRUE(IsInvalidField(Call(&Stub::AddBillingEntry, bad).status(), "entry.billing_date"));
  bad = add;
  bad.set_request_id("add-4");
  bad.set_project_id(kUnknownId);
  EXPECT_TRUE(IsError(Call(&Stub::AddBillingEntry, bad).status(), absl::StatusCode::kNotFound));
  EXPECT_EQ(EntryRows(), 3);
  ASSERT_EQ(MustGetPlan(c.id()).entries_size(), 3);
  EXPECT_EQ(MustGetPlan(c.id()).entries(1).id(), added->id());  // by billing date

  // Edit amount, dates and text: the tax estimate follows the amount.
  v1::UpdateBillingEntryRequest upd;
  upd.mutable_entry()->set_id(added->id());
  upd.mutable_entry()->set_etag(added->etag());
  upd.mutable_entry()->set_amount(60001);
  *upd.mutable_entry()->mutable_billing_date() = D(2019, 8, 30);
  upd.mutable_entry()->set_description("中間金（変更）");
  for (const char* p : {"amount", "billing_date", "description"})
    upd.mutable_update_mask()->add_paths(p);
  absl::StatusOr<v1::BillingEntry> updated = Call(&Stub::UpdateBillingEntry, upd);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->amount(), 60001);
  EXPECT_EQ(updated->tax(), 6000);
  EXPECT_EQ(DateString(updated->billing_date()), "2019-08-30");
  EXPECT_EQ(DateString(updated->revenue_date()), "2019-08-20");  // not in the mask
  EXPECT_EQ(updated->description(), "中間金（変更）");
  EXPECT_NE(updated->etag(), added->etag());
  // The old etag is stale now.
  v1::UpdateBillingEntryRequest stale = upd;
  stale.mutable_entry()->set_amount(70000);
  EXPECT_TRUE(IsError(Call(&Stub::UpdateBillingEntry, stale).status(), absl::StatusCode::kAborted,
                      "ETAG_MISMATCH"));
  v1::UpdateBillingEntryRequest bad_upd = upd;
  bad_upd.mutable_entry()->clear_etag();
  bad_upd.mutable_entry()->set_amount(-5);
  EXPECT_TRUE(IsInvalidField(Call(&Stub::UpdateBillingEntry, bad_upd).status(), "entry.amount"));
  bad_upd = upd;
  bad_upd.mutable_entry()->clear_etag();
  bad_upd.mutable_update_mask()->add_paths("status");
  EXPECT_TRUE(IsInvalidField(Call(&Stub::UpdateBillingEntry, bad_upd).status(), "update_mask"));
  bad_upd.mutable_entry()->set_id(kUnknownId);
  bad_upd.clear_update_mask();
  bad_upd.mutable_update_mask()->add_paths("amount");
  EXPECT_TRUE(
      IsError(Call(&Stub::UpdateBillingEntry, bad_upd).status(), absl::StatusCode::kNotFound));
  const std::vector<v1::BillingEntry> after_edits = EntriesOfCase(c.id());
  ASSERT_NE(Find(after_edits, added->id()), nullptr);
  EXPECT_EQ(Find(after_edits, added->id())->amount(), 60001);

  // Remove: a stale etag is refused, then it goes.
  v1::RemoveBillingEntryRequest rm;
  rm.set_id(added->id());
  rm.set_etag(added->etag());
  EXPECT_TRUE(IsError(Call(&Stub::RemoveBillingEntry, rm).status(), absl::StatusCode::kAborted));
  rm.set_etag(updated->etag());
  ASSERT_TRUE(Call(&Stub::RemoveBillingEntry, rm).ok());
  EXPECT_EQ(EntryIds(EntriesOfCase(c.id())), EntryIds(plan.entries()));
  rm.clear_etag();
  EXPECT_TRUE(IsError(Call(&Stub::RemoveBillingEntry, rm).status(), absl::StatusCode::kNotFound,
                      "ENTRY_NOT_FOUND"));
  // Only UNBILLED split entries can be removed.
  ASSERT_TRUE(SetStatus(plan.entries(0).id(), v1::ENTRY_STATUS_READY, staff_).ok());
  rm.set_id(plan.entries(0).id());
  EXPECT_TRUE(IsError(Call(&Stub::RemoveBillingEntry, rm).status(),
                      absl::StatusCode::kFailedPrecondition, "ENTRY_NOT_UNBILLED"));
  EXPECT_EQ(EntryRows(), 2);
}

TEST_F(BillingServiceTest, RecurringAndLumpSumPlansTakeNoAddedOrRemovedEntries) {
  const project::v1::Project r = WonCase("定期", acme_);
  const project::v1::Project l = WonCase("一括", acme_);
  const v1::BillingPlan rp =
      MustSetPlan(RecurringPlan(r.id(), Monthly(YM(2019, 7), YM(2019, 8), 10000)));
  const v1::BillingPlan lp =
      MustSetPlan(LumpSumPlan(l.id(), Planned(D(2019, 7, 31), D(2019, 7, 31), 80000)));

  for (const int64_t project_id : {r.id(), l.id()}) {
    v1::AddBillingEntryRequest add;
    add.set_request_id(NextRequestId());
    add.set_project_id(project_id);
    *add.mutable_entry() = Planned(D(2019, 8, 31), D(2019, 8, 31), 1000);
    EXPECT_TRUE(IsError(Call(&Stub::AddBillingEntry, add).status(),
                        absl::StatusCode::kFailedPrecondition, "NOT_SPLIT_PLAN"));
  }
  for (const int64_t id : {rp.entries(0).id(), lp.entries(0).id()}) {
    v1::RemoveBillingEntryRequest rm;
    rm.set_id(id);
    EXPECT_TRUE(IsError(Call(&Stub::RemoveBillingEntry, rm).status(),
                        absl::StatusCode::kFailedPrecondition, "NOT_SPLIT_PLAN"));
  }
  EXPECT_EQ(EntryRows(), 3);

  // A recurring entry's amount comes from its plan; its dates are defaults a user may change.
  v1::UpdateBillingEntryRequest amount;
  amount.mutable_entry()->set_id(rp.entries(0).id());
  amount.mutable_entry()->set_amount(99999);
  amount.mutable_update_mask()->add_paths("amount");
  EXPECT_TRUE(IsError(Call(&Stub::UpdateBillingEntry, amount).status(),
                      absl::StatusCode::kFailedPrecondition, "AMOUNT_FROM_PLAN"));
  v1::UpdateBillingEntryRequest dates;
  dates.mutable_entry()->set_id(rp.entries(0).id());
  *dates.mutable_entry()->mutable_billing_date() = D(2019, 8, 5);
  dates.mutable_update_mask()->add_paths("billing_date");
  absl::StatusOr<v1::BillingEntry> moved = Call(&Stub::UpdateBillingEntry, dates);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(DateString(moved->billing_date()), "2019-08-05");
  EXPECT_EQ(DateString(moved->revenue_date()), "2019-07-31");
  EXPECT_EQ(moved->amount(), 10000);
  // A lump-sum entry's amount may change.
  v1::UpdateBillingEntryRequest lump;
  lump.mutable_entry()->set_id(lp.entries(0).id());
  lump.mutable_entry()->set_amount(90000);
  lump.mutable_update_mask()->add_paths("amount");
  absl::StatusOr<v1::BillingEntry> changed = Call(&Stub::UpdateBillingEntry, lump);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_EQ(changed->amount(), 90000);
  EXPECT_EQ(changed->tax(), 9000);
}

TEST_F(BillingServiceTest, BilledEntriesAreFrozen) {
  const project::v1::Project c = WonCase("請求済凍結", acme_);
  const v1::BillingPlan plan =
      MustSetPlan(SplitPlan(c.id(), {Planned(D(2019, 7, 5), D(2019, 7, 5), 10000, "第1回"),
                                     Planned(D(2019, 7, 6), D(2019, 7, 6), 20000, "第2回")}));
  ASSERT_NO_FATAL_FAILURE(MakeReady(plan));
  absl::StatusOr<v1::Invoice> inv = Issue(acme_.id(), D(2019, 7, 10));
  ASSERT_TRUE(inv.ok()) << inv.status();
  const std::vector<v1::BillingEntry> billed = EntriesOfCase(c.id());
  ASSERT_EQ(billed.size(), 2u);
  const v1::BillingEntry& e = billed[0];
  ASSERT_EQ(e.status(), v1::ENTRY_STATUS_BILLED);

  for (const char* path : {"billing_date", "revenue_date", "amount", "description"}) {
    SCOPED_TRACE(path);
    v1::UpdateBillingEntryRequest upd;
    upd.mutable_entry()->set_id(e.id());
    *upd.mutable_entry()->mutable_billing_date() = D(2019, 7, 20);
    *upd.mutable_entry()->mutable_revenue_date() = D(2019, 7, 20);
    upd.mutable_entry()->set_amount(1);
    upd.mutable_entry()->set_description("改ざん");
    upd.mutable_update_mask()->add_paths(path);
    EXPECT_TRUE(IsError(Call(&Stub::UpdateBillingEntry, upd).status(),
                        absl::StatusCode::kFailedPrecondition, "ENTRY_FROZEN"));
  }
  v1::RemoveBillingEntryRequest rm;
  rm.set_id(e.id());
  EXPECT_TRUE(
      IsError(Call(&Stub::RemoveBillingEntry, rm).status(), absl::StatusCode::kFailedPrecondition));
  EXPECT_TRUE(IsError(SetStatus(e.id(), v1::ENTRY_STATUS_READY, accounting_).status(),
                      absl::StatusCode::kFailedPrecondition, "STATUS_TRANSITION_NOT_ALLOWED"));
  EXPECT_TRUE(IsError(SetStatus(e.id(), v1::ENTRY_STATUS_UNBILLED, admin_).status(),
                      absl::StatusCode::kFailedPrecondition, "STATUS_TRANSITION_NOT_ALLOWED"));
  // Unchanged, entry and invoice alike.
  const std::vector<v1::BillingEntry> after = EntriesOfCase(c.id());
  ASSERT_EQ(after.size(), 2u);
  EXPECT_TRUE(SameMessage(after[0], e)) << after[0].DebugString();
  absl::StatusOr<v1::Invoice> read = GetInvoice(inv->id());
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(SameMessage(*read, *inv));
}

TEST_F(BillingServiceTest, EntryStatusTransitions) {
  const project::v1::Project c = WonCase("ステータス", acme_);
  const v1::BillingPlan plan =
      MustSetPlan(SplitPlan(c.id(), {Planned(D(2019, 7, 1), D(2019, 7, 1), 10000, "A"),
                                     Planned(D(2019, 7, 2), D(2019, 7, 2), 20000, "B")}));
  const int64_t a = plan.entries(0).id(), b = plan.entries(1).id();

  // UNBILLED <-> READY for staff.
  absl::StatusOr<v1::BillingEntry> ready = SetStatus(a, v1::ENTRY_STATUS_READY, staff_);
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_EQ(ready->status(), v1::ENTRY_STATUS_READY);
  absl::StatusOr<v1::BillingEntry> back =
      SetStatus(a, v1::ENTRY_STATUS_UNBILLED, staff_, ready->etag());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->status(), v1::ENTRY_STATUS_UNBILLED);
  // A stale etag.
  EXPECT_TRUE(IsError(SetStatus(a, v1::ENTRY_STATUS_READY, staff_, ready->etag()).status(),
                      absl::StatusCode::kAborted, "ETAG_MISMATCH"));
  // BILLED only through an invoice; PAID only from BILLED.
  for (const auto to :
       {v1::ENTRY_STATUS_BILLED, v1::ENTRY_STATUS_PAID, v1::ENTRY_STATUS_UNCOLLECTIBLE}) {
    EXPECT_TRUE(IsError(SetStatus(a, to, accounting_).status(),
                        absl::StatusCode::kFailedPrecondition, "STATUS_TRANSITION_NOT_ALLOWED"))
        << v1::EntryStatus_Name(to);
  }
  EXPECT_TRUE(
      IsInvalidField(SetStatus(a, v1::ENTRY_STATUS_UNSPECIFIED, staff_).status(), "status"));
  EXPECT_TRUE(IsError(SetStatus(kUnknownId, v1::ENTRY_STATUS_READY, staff_).status(),
                      absl::StatusCode::kNotFound));

  ASSERT_NO_FATAL_FAILURE(MakeReady(MustGetPlan(c.id())));
  ASSERT_TRUE(Issue(acme_.id(), D(2019, 7, 10)).ok());
  // Staff cannot settle a billed entry.
  EXPECT_TRUE(IsError(SetStatus(a, v1::ENTRY_STATUS_UNCOLLECTIBLE, staff_).status(),
                      absl::StatusCode::kPermissionDenied, "ACCOUNTING_ONLY"));
  EXPECT_TRUE(IsError(SetStatus(a, v1::ENTRY_STATUS_PAID, staff_).status(),
                      absl::StatusCode::kPermissionDenied, "ACCOUNTING_ONLY"));
  const std::vector<v1::BillingEntry> still = EntriesOfCase(c.id());
  ASSERT_NE(Find(still, a), nullptr);
  EXPECT_EQ(Find(still, a)->status(), v1::ENTRY_STATUS_BILLED);
  // Accounting (and admin) can.
  absl::StatusOr<v1::BillingEntry> lost = SetStatus(a, v1::ENTRY_STATUS_UNCOLLECTIBLE, accounting_);
  ASSERT_TRUE(lost.ok()) << lost.status();
  EXPECT_EQ(lost->status(), v1::ENTRY_STATUS_UNCOLLECTIBLE);
  EXPECT_NE(lost->invoice_id(), 0);
  absl::StatusOr<v1::BillingEntry> paid = SetStatus(b, v1::ENTRY_STATUS_PAID, admin_);
  ASSERT_TRUE(paid.ok()) << paid.status();
  EXPECT_EQ(paid->status(), v1::ENTRY_STATUS_PAID);
  // Final states stay final.
  for (const auto to : {v1::ENTRY_STATUS_PAID, v1::ENTRY_STATUS_READY, v1::ENTRY_STATUS_BILLED}) {
    EXPECT_TRUE(IsError(SetStatus(a, to, accounting_).status(),
                        absl::StatusCode::kFailedPrecondition, "STATUS_TRANSITION_NOT_ALLOWED"))
        << v1::EntryStatus_Name(to);
  }
  EXPECT_TRUE(IsError(SetStatus(b, v1::ENTRY_STATUS_UNCOLLECTIBLE, accounting_).status(),
                      absl::StatusCode::kFailedPrecondition, "STATUS_TRANSITION_NOT_ALLOWED"));
}

TEST_F(BillingServiceTest, SalesSummaryPerRevenueMonth) {
  const project::v1::Project a = WonCase("月額", acme_);
  const project::v1::Project b = WonCase("軽減", kita_);
  const project::v1::Project c = WonCase("非課税", acme_);
  const v1::BillingPlan pa =
      MustSetPlan(RecurringPlan(a.id(), Monthly(YM(2019, 6), YM(2019, 8), 10000)));
  MustSetPlan(LumpSumPlan(b.id(), Planned(D(2019, 7, 31), D(2019, 7, 15), 50000),
                          common::v1::TAX_CATEGORY_REDUCED));
  MustSetPlan(SplitPlan(c.id(), {Planned(D(2019, 8, 31), D(2019, 7, 20), 7000, "非課税分")},
                        common::v1::TAX_CATEGORY_EXEMPT));
  // June's entry is invoiced.
  ASSERT_TRUE(SetStatus(pa.entries(0).id(), v1::ENTRY_STATUS_READY, staff_).ok());
  ASSERT_TRUE(Issue(acme_.id(), D(2019, 7, 10), {pa.entries(0).id()}).ok());

  v1::GetSalesSummaryRequest req;
  *req.mutable_from_month() = YM(2019, 5);
  *req.mutable_to_month() = YM(2019, 9);
  absl::StatusOr<v1::SalesSummary> sum = Call(&Stub::GetSalesSummary, req, accounting_);
  ASSERT_TRUE(sum.ok()) << sum.status();
  ASSERT_EQ(sum->months_size(), 5);
  struct Want {
    std::string month;
    int64_t amount;
    int64_t invoiced;
    std::map<int, int64_t> by_rate;
  };
  const std::vector<Want> want = {
      {"2019-05", 0, 0, {}},
      {"2019-06", 10000, 10000, {{common::v1::TAX_CATEGORY_STANDARD, 10000}}},
      {"2019-07",
       67000,
       0,
       {{common::v1::TAX_CATEGORY_STANDARD, 10000},
        {common::v1::TAX_CATEGORY_REDUCED, 50000},
        {common::v1::TAX_CATEGORY_EXEMPT, 7000}}},
      {"2019-08", 10000, 0, {{common::v1::TAX_CATEGORY_STANDARD, 10000}}},
      {"2019-09", 0, 0, {}},
  };
  for (int i = 0; i < 5; ++i) {
    const v1::SalesMonth& m = sum->months(i);
    SCOPED_TRACE(want[i].month);
    EXPECT_EQ(MonthString(m.month()), want[i].month);
    EXPECT_EQ(m.amount(), want[i].amount);
    EXPECT_EQ(m.invoiced_amount(), want[i].invoiced);
    std::map<int, int64_t> by_rate;
    for (const auto& r : m.by_rate()) by_rate[r.category()] += r.taxable_amount();
    EXPECT_EQ(by_rate, want[i].by_rate);
    EXPECT_EQ(m.by_rate_size(), static_cast<int>(want[i].by_rate.size()));
  }

  v1::GetSalesSummaryRequest bad = req;
  *bad.mutable_to_month() = YM(2019, 4);
  EXPECT_TRUE(IsInvalidField(Call(&Stub::GetSalesSummary, bad).status(), "to_month"));
  *bad.mutable_to_month() = YM(2022, 6);  // 37 months after
  EXPECT_TRUE(IsInvalidField(Call(&Stub::GetSalesSummary, bad).status(), "to_month"));
  *bad.mutable_from_month() = YM(2019, 0);
  EXPECT_TRUE(IsInvalidField(Call(&Stub::GetSalesSummary, bad).status(), "from_month"));
  v1::GetSalesSummaryRequest wide = req;
  *wide.mutable_to_month() = YM(2022, 4);  // 35 months after: 36 months, allowed
  absl::StatusOr<v1::SalesSummary> w = Call(&Stub::GetSalesSummary, wide);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->months_size(), 36);
}

// ---------------------------------------------------------------------------------------------
// Renewals
// ---------------------------------------------------------------------------------------------

TEST_F(BillingServiceTest, RenewsOnlyWonCasesAsInTheDesignExample) {
  // DESIGN.md: monthly, 2019-06..2019-06, unit 1 month: on 2019-07-01 an entry for July appears
  // and the end becomes 2019-07; on 08-01 the same for August.
  const project::v1::Project won = WonByQuote("自動更新（受注済）", acme_);
  const project::v1::Project prospect = ProspectCase("自動更新（受注予定）", acme_);
  const project::v1::Project lost = WonCase("自動更新（失注）", acme_);
  SetOrderStatus(lost.id(), project::v1::ORDER_STATUS_LOST);
  const project::v1::Project manual = WonCase("更新なし", acme_);
  for (const auto* p : {&won, &prospect, &lost}) {
    MustSetPlan(RecurringPlan(p->id(), Monthly(YM(2019, 6), YM(2019, 6), 30000, /*unit=*/1)));
  }
  MustSetPlan(RecurringPlan(manual.id(), Monthly(YM(2019, 6), YM(2019, 6), 30000)));
  ASSERT_EQ(EntryRows(), 4);

  absl::StatusOr<v1::RenewalRun> july = RunRenewals(D(2019, 7, 1), "renew-2019-07-01");
  ASSERT_TRUE(july.ok()) << july.status();
  EXPECT_GT(july->id(), 0);
  EXPECT_EQ(DateString(july->as_of()), "2019-07-01");
  EXPECT_EQ(july->plans_considered(), 3);  // the three auto-renewing plans
  EXPECT_EQ(july->plans_not_won(), 2);     // PROSPECT and LOST
  EXPECT_EQ(july->failures_size(), 0);
  ASSERT_EQ(july->renewals_size(), 1);
  const v1::PlanRenewal& r = july->renewals(0);
  EXPECT_EQ(r.project_id(), won.id());
  EXPECT_EQ(MonthString(r.old_end_month()), "2019-06");
  EXPECT_EQ(MonthString(r.new_end_month()), "2019-07");
  ASSERT_EQ(r.entries_size(), 1);
  EXPECT_EQ(Rows(r.entries()), (std::vector<Row>{{"2019-07-31", "2019-07-31", 30000}}));
  EXPECT_EQ(r.entries(0).tax(), 3000);
  EXPECT_EQ(r.entries(0).customer_id(), acme_.id());

  const v1::BillingPlan after_july = MustGetPlan(won.id());
  EXPECT_EQ(MonthString(after_july.recurring().end_month()), "2019-07");
  EXPECT_EQ(Rows(after_july.entries()), (std::vector<Row>{{"2019-06-30", "2019-06-30", 30000},
                                                          {"2019-07-31", "2019-07-31", 30000}}));
  EXPECT_EQ(after_july.entries(1).status(), v1::ENTRY_STATUS_UNBILLED);
  for (const auto* p : {&prospect, &lost, &manual}) {
    const v1::BillingPlan untouched = MustGetPlan(p->id());
    EXPECT_EQ(MonthString(untouched.recurring().end_month()), "2019-06") << p->name();
    EXPECT_EQ(untouched.entries_size(), 1) << p->name();
  }
  EXPECT_EQ(EntryRows(), 5);

  absl::StatusOr<v1::RenewalRun> august = RunRenewals(D(2019, 8, 1), "renew-2019-08-01");
  ASSERT_TRUE(august.ok()) << august.status();
  ASSERT_EQ(august->renewals_size(), 1);
  EXPECT_EQ(august->renewals(0).project_id(), won.id());
  EXPECT_EQ(MonthString(august->renewals(0).old_end_month()), "2019-07");
  EXPECT_EQ(MonthString(august->renewals(0).new_end_month()), "2019-08");
  EXPECT_EQ(Rows(august->renewals(0).entries()),
            (std::vector<Row>{{"2019-08-31", "2019-08-31", 30000}}));
  EXPECT_EQ(MonthString(MustGetPlan(won.id()).recurring().end_month()), "2019-08");
  EXPECT_EQ(EntryRows(), 6);

  // Once the prospect is won, the next run catches it up (July and August at once).
  SetOrderStatus(prospect.id(), project::v1::ORDER_STATUS_WON);
  absl::StatusOr<v1::RenewalRun> again = RunRenewals(D(2019, 8, 1), "renew-2019-08-01-b");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->plans_considered(), 2);  // the prospect's and the lost case's
  EXPECT_EQ(again->plans_not_won(), 1);
  ASSERT_EQ(again->renewals_size(), 1);
  EXPECT_EQ(again->renewals(0).project_id(), prospect.id());
  EXPECT_EQ(MonthString(again->renewals(0).new_end_month()), "2019-08");
  EXPECT_EQ(
      Rows(again->renewals(0).entries()),
      (std::vector<Row>{{"2019-07-31", "2019-07-31", 30000}, {"2019-08-31", "2019-08-31", 30000}}));
  EXPECT_EQ(EntryRows(), 8);
  EXPECT_EQ(MustGetPlan(lost.id()).entries_size(), 1);
}

TEST_F(BillingServiceTest, ASecondRunForTheSameDayWritesNothingAndTheSameRequestReplays) {
  const project::v1::Project won = WonCase("二重実行", acme_);
  MustSetPlan(RecurringPlan(won.id(), Monthly(YM(2019, 6), YM(2019, 6), 30000, 1)));
  absl::StatusOr<v1::RenewalRun> first = RunRenewals(D(2019, 7, 1), "run-a");
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->renewals_size(), 1);
  const int64_t entries = EntryRows();
  const std::string plan_etag = MustGetPlan(won.id()).etag();
  ASSERT_EQ(entries, 2);

  // Another run for the same day: nothing is due any more.
  absl::StatusOr<v1::RenewalRun> second = RunRenewals(D(2019, 7, 1), "run-b");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_NE(second->id(), first->id());
  EXPECT_EQ(second->renewals_size(), 0);
  EXPECT_EQ(second->failures_size(), 0);
  EXPECT_EQ(second->plans_considered(), 0);
  EXPECT_EQ(EntryRows(), entries);
  EXPECT_EQ(MustGetPlan(won.id()).etag(), plan_etag);

  // The first request again: its stored answer, nothing written.
  absl::StatusOr<v1::RenewalRun> replay = RunRenewals(D(2019, 7, 1), "run-a");
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_TRUE(SameMessage(*replay, *first)) << replay->DebugString();
  EXPECT_EQ(EntryRows(), entries);
  EXPECT_EQ(MustGetPlan(won.id()).etag(), plan_etag);
  // The same request_id for another day is refused.
  EXPECT_TRUE(IsInvalidField(RunRenewals(D(2019, 7, 2), "run-a").status(), "request_id",
                             "REQUEST_ID_REUSED"));
  EXPECT_EQ(EntryRows(), entries);
}

TEST_F(BillingServiceTest, RunRenewalsValidatesItsRequest) {
  EXPECT_TRUE(IsInvalidField(RunRenewals(D(2019, 7, 1), "").status(), "request_id"));
  v1::RunRenewalsRequest no_date;
  no_date.set_request_id("no-date");
  EXPECT_TRUE(IsInvalidField(Call(&Stub::RunRenewals, no_date, service_token_).status(), "as_of"));
  EXPECT_TRUE(IsInvalidField(RunRenewals(D(2019, 2, 29), "bad-date").status(), "as_of"));
  EXPECT_TRUE(IsInvalidField(PreviewRenewals(D(2019, 6, 31)).status(), "as_of"));
  // Nothing to renew is a run with nothing in it.
  absl::StatusOr<v1::RenewalRun> empty = RunRenewals(D(2019, 7, 1), "empty");
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->plans_considered(), 0);
  EXPECT_EQ(empty->renewals_size(), 0);
}

TEST_F(BillingServiceTest, RenewalCatchesUpMissedRunsByWholeUnits) {
  // Monthly, unit 3, ended 2018-04: by 2019-07 five units (15 months) are due.
  const project::v1::Project m3 = WonCase("3ヶ月更新", acme_);
  MustSetPlan(RecurringPlan(m3.id(), Monthly(YM(2018, 3), YM(2018, 4), 20000, 3)));
  // Monthly, unit 12 (a year), ended 2019-06.
  const project::v1::Project m12 = WonCase("年単位更新（月額）", acme_);
  MustSetPlan(RecurringPlan(m12.id(), Monthly(YM(2019, 1), YM(2019, 6), 5000, 12)));
  // Yearly, ended 2018-06: two years are due (2018-07.. and 2019-07..).
  const project::v1::Project y = WonCase("年額更新", acme_);
  MustSetPlan(RecurringPlan(y.id(), Yearly(YM(2017, 7), YM(2018, 6), 120000, false, true)));
  // Yearly split, ended 2019-06: one year of 12 revenue months billed together.
  const project::v1::Project s = WonCase("年額按分更新", acme_);
  MustSetPlan(RecurringPlan(s.id(), Yearly(YM(2018, 7), YM(2019, 6), 10000, true, true)));
  const int64_t before = EntryRows();
  ASSERT_EQ(before, 2 + 6 + 1 + 12);

  absl::StatusOr<v1::RenewalRun> run = RunRenewals(D(2019, 7, 1), "catch-up");
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->failures_size(), 0);
  ASSERT_EQ(run->renewals_size(), 4);
  std::map<int64_t, v1::PlanRenewal> by_case;
  for (const auto& r : run->renewals()) by_case[r.project_id()] = r;

  const v1::PlanRenewal& r3 = by_case[m3.id()];
  EXPECT_EQ(MonthString(r3.old_end_month()), "2018-04");
  EXPECT_EQ(MonthString(r3.new_end_month()), "2019-07");
  EXPECT_EQ(RevenueDates(r3.entries()),
            MonthEnds(absl::CivilMonth(2018, 5), absl::CivilMonth(2019, 7)));
  EXPECT_EQ(BillingDates(r3.entries()),
            MonthEnds(absl::CivilMonth(2018, 5), absl::CivilMonth(2019, 7)));

  const v1::PlanRenewal& r12 = by_case[m12.id()];
  EXPECT_EQ(MonthString(r12.new_end_month()), "2020-06");
  EXPECT_EQ(RevenueDates(r12.entries()),
            MonthEnds(absl::CivilMonth(2019, 7), absl::CivilMonth(2020, 6)));

  const v1::PlanRenewal& ry = by_case[y.id()];
  EXPECT_EQ(MonthString(ry.old_end_month()), "2018-06");
  EXPECT_EQ(MonthString(ry.new_end_month()), "2020-06");
  EXPECT_EQ(Rows(ry.entries()), (std::vector<Row>{{"2018-07-31", "2018-07-31", 120000},
                                                  {"2019-07-31", "2019-07-31", 120000}}));

  const v1::PlanRenewal& rs = by_case[s.id()];
  EXPECT_EQ(MonthString(rs.new_end_month()), "2020-06");
  EXPECT_EQ(BillingDates(rs.entries()), std::vector<std::string>(12, "2019-07-31"));
  EXPECT_EQ(RevenueDates(rs.entries()),
            MonthEnds(absl::CivilMonth(2019, 7), absl::CivilMonth(2020, 6)));

  EXPECT_EQ(EntryRows(), before + 15 + 12 + 2 + 12);
  // What the run reports is what is stored.
  EXPECT_EQ(RevenueDates(MustGetPlan(m3.id()).entries()),
            MonthEnds(absl::CivilMonth(2018, 3), absl::CivilMonth(2019, 7)));
  EXPECT_EQ(MonthString(MustGetPlan(y.id()).recurring().end_month()), "2020-06");
  EXPECT_EQ(MustGetPlan(s.id()).entries_size(), 24);
}

TEST_F(BillingServiceTest, PreviewWritesNothingAndPredictsTheRun) {
  const project::v1::Project w = WonCase("月額（予測）", acme_);
  const project::v1::Project y = WonCase("年額（予測）", kita_);
  const project::v1::Project p = ProspectCase("受注予定（予測）", acme_);
  const project::v1::Project later = WonCase("まだ先", acme_);
  MustSetPlan(RecurringPlan(w.id(), Monthly(YM(2019, 5), YM(2019, 5), 30000, 1)));
  MustSetPlan(RecurringPlan(y.id(), Yearly(YM(2018, 7), YM(2019, 6), 240000, false, true),
                            common::v1::TAX_CATEGORY_REDUCED));
  MustSetPlan(RecurringPlan(p.id(), Monthly(YM(2019, 6), YM(2019, 6), 30000, 1)));
  MustSetPlan(RecurringPlan(later.id(), Monthly(YM(2019, 6), YM(2019, 7), 30000, 1)));
  const int64_t entries = EntryRows();
  const int64_t audits = Count("SELECT count(*) FROM billing.audit_events");
  const int64_t runs = Count("SELECT count(*) FROM billing.renewal_runs");

  absl::StatusOr<v1::RenewalRun> preview = PreviewRenewals(D(2019, 7, 1));
  ASSERT_TRUE(preview.ok()) << preview.status();
  EXPECT_EQ(preview->id(), 0);
  EXPECT_EQ(preview->plans_considered(), 3);
  EXPECT_EQ(preview->plans_not_won(), 1);
  ASSERT_EQ(preview->renewals_size(), 2);
  // Nothing written, and asking again answers the same.
  EXPECT_EQ(EntryRows(), entries);
  EXPECT_EQ(Count("SELECT count(*) FROM billing.audit_events"), audits);
  EXPECT_EQ(Count("SELECT count(*) FROM billing.renewal_runs"), runs);
  EXPECT_EQ(MonthString(MustGetPlan(w.id()).recurring().end_month()), "2019-05");
  absl::StatusOr<v1::RenewalRun> preview2 = PreviewRenewals(D(2019, 7, 1));
  ASSERT_TRUE(preview2.ok());
  EXPECT_TRUE(SameMessage(*preview2, *preview));

  std::map<int64_t, v1::PlanRenewal> predicted;
  int64_t predicted_entries = 0;
  for (const auto& r : preview->renewals()) {
    predicted[r.project_id()] = r;
    predicted_entries += r.entries_size();
  }
  ASSERT_EQ(predicted.count(w.id()), 1u);
  EXPECT_EQ(
      Rows(predicted[w.id()].entries()),
      (std::vector<Row>{{"2019-06-30", "2019-06-30", 30000}, {"2019-07-31", "2019-07-31", 30000}}));
  ASSERT_EQ(predicted.count(y.id()), 1u);
  EXPECT_EQ(Rows(predicted[y.id()].entries()),
            (std::vector<Row>{{"2019-07-31", "2019-07-31", 240000}}));
  EXPECT_EQ(predicted[y.id()].entries(0).tax(), 19200);
  EXPECT_EQ(predicted[y.id()].entries(0).tax_category(), common::v1::TAX_CATEGORY_REDUCED);

  absl::StatusOr<v1::RenewalRun> run = RunRenewals(D(2019, 7, 1), "after-preview");
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->plans_considered(), preview->plans_considered());
  EXPECT_EQ(run->plans_not_won(), preview->plans_not_won());
  ASSERT_EQ(run->renewals_size(), preview->renewals_size());
  for (const auto& r : run->renewals()) {
    SCOPED_TRACE(r.project_id());
    ASSERT_EQ(predicted.count(r.project_id()), 1u);
    EXPECT_TRUE(SameMessage(r, predicted[r.project_id()]))
        << r.DebugString() << "\npredicted:\n"
        << predicted[r.project_id()].DebugString();
    // And the run's entries are stored, as predicted.
    const v1::BillingPlan stored = MustGetPlan(r.project_id());
    EXPECT_EQ(MonthString(stored.recurring().end_month()), MonthString(r.new_end_month()));
    std::vector<Row> tail = Rows(stored.entries());
    tail.erase(tail.begin(), tail.end() - r.entries_size());
    EXPECT_EQ(tail, Rows(r.entries()));
  }
  EXPECT_EQ(EntryRows(), entries + predicted_entries);
  // Tonight's run done, the preview has nothing left.
  absl::StatusOr<v1::RenewalRun> done = PreviewRenewals(D(2019, 7, 1));
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->renewals_size(), 0);
  EXPECT_EQ(done->plans_not_won(), 1);
}

TEST_F(BillingServiceTest, TwentyConcurrentRunsOverFiveHundredPlansCreateEachEntryOnce) {
  constexpr int kPlans = 500;
  constexpr int kRuns = 20;
  // 500 受注済 cases in one CSV import through the project service.
  std::string csv = "顧客ID,案件名,受注状況\r\n";
  for (int i = 0; i < kPlans; ++i) {
    absl::StrAppend(&csv, acme_.id(), ",定期案件", absl::StrFormat("%03d", i), ",受注済\r\n");
  }
  project::v1::ImportProjectsRequest import;
  import.set_csv(csv);
  import.set_request_id("import-500");
  absl::StatusOr<project::v1::ImportProjectsResponse> imported =
      CallOn(project_stub_.get(), &ProjectStub::ImportProjects, import, project_staff_);
  ASSERT_TRUE(imported.ok()) << imported.status();
  ASSERT_TRUE(imported->written()) << imported->DebugString();
  ASSERT_EQ(imported->projects_created(), kPlans);
  project::v1::ListProjectsRequest list;
  list.set_page_size(1000);
  list.set_customer_id(acme_.id());
  list.add_order_statuses(project::v1::ORDER_STATUS_WON);
  absl::StatusOr<project::v1::ListProjectsResponse> cases =
      CallOn(project_stub_.get(), &ProjectStub::ListProjects, list, project_staff_);
  ASSERT_TRUE(cases.ok()) << cases.status();
  ASSERT_EQ(cases->projects_size(), kPlans);
  std::vector<int64_t> ids;
  for (const auto& p : cases->projects()) ids.push_back(p.id());

  // Three kinds of plan, all due on 2019-08-01:
  //  0: monthly 2019-06..06, unit 1 → +Jul, Aug (1 entry before, 3 after)
  //  1: monthly 2019-05..06, unit 3 → +Jul, Aug, Sep (2 before, 5 after)
  //  2: yearly split 2018-07..2019-06 → +12 (12 before, 24 after)
  auto plan_for = [&](int i) {
    switch (i % 3) {
      case 0:
        return RecurringPlan(ids[i], Monthly(YM(2019, 6), YM(2019, 6), 10000, 1));
      case 1:
        return RecurringPlan(ids[i], Monthly(YM(2019, 5), YM(2019, 6), 20000, 3));
      default:
        return RecurringPlan(ids[i], Yearly(YM(2018, 7), YM(2019, 6), 3000, true, true));
    }
  };
  const int before_per_kind[3] = {1, 2, 12};
  const int after_per_kind[3] = {3, 5, 24};
  int64_t expected_before = 0, expected_after = 0;
  int per_kind[3] = {0, 0, 0};
  for (int i = 0; i < kPlans; ++i) {
    expected_before += before_per_kind[i % 3];
    expected_after += after_per_kind[i % 3];
    ++per_kind[i % 3];
  }
  {
    constexpr int kWriters = 4;
    std::atomic<int> failed{0};
    std::vector<std::thread> writers;
    for (int t = 0; t < kWriters; ++t) {
      writers.emplace_back([&, t] {
        for (int i = t; i < kPlans; i += kWriters) {
          if (!SetPlanAs(plan_for(i), staff_).ok()) failed.fetch_add(1);
        }
      });
    }
    for (auto& w : writers) w.join();
    ASSERT_EQ(failed.load(), 0);
  }
  ASSERT_EQ(EntryRows(), expected_before);

  // 20 runs at once, each with its own request_id (as if 20 scheduler replicas fired).
  absl::Barrier* start = new absl::Barrier(kRuns);
  std::vector<absl::StatusOr<v1::RenewalRun>> results(kRuns, absl::UnknownError("not run"));
  {
    std::vector<std::thread> runners;
    for (int t = 0; t < kRuns; ++t) {
      runners.emplace_back([&, t] {
        if (start->Block()) delete start;
        results[t] = RunRenewals(D(2019, 8, 1), absl::StrCat("concurrent-", t));
      });
    }
    for (auto& r : runners) r.join();
  }

  std::map<int64_t, int> renewed;  // case → how many runs reported renewing it
  int64_t reported_entries = 0;
  for (int t = 0; t < kRuns; ++t) {
    ASSERT_TRUE(results[t].ok()) << "run " << t << ": " << results[t].status();
    EXPECT_EQ(results[t]->failures_size(), 0) << results[t]->failures(0).DebugString();
    for (const auto& r : results[t]->renewals()) {
      ++renewed[r.project_id()];
      reported_entries += r.entries_size();
    }
  }
  EXPECT_EQ(renewed.size(), static_cast<size_t>(kPlans));
  for (const auto& [id, n] : renewed)
    EXPECT_EQ(n, 1) << "case " << id << " renewed " << n << " times";
  EXPECT_EQ(reported_entries, expected_after - expected_before);

  EXPECT_EQ(Count("SELECT count(*) FROM (SELECT project_id, period FROM billing.entries "
                  "GROUP BY project_id, period HAVING count(*) > 1) AS doubled"),
            0);
  EXPECT_EQ(EntryRows(), expected_after);
  for (int k = 0; k < 3; ++k) {
    EXPECT_EQ(Count(absl::StrCat("SELECT count(*) FROM (SELECT project_id FROM billing.entries "
                                 "GROUP BY project_id HAVING count(*) = ",
                                 after_per_kind[k], ") AS plans")),
              per_kind[k])
        << "kind " << k;
  }
  EXPECT_EQ(MonthString(MustGetPlan(ids[0]).recurring().end_month()), "2019-08");
  EXPECT_EQ(MonthString(MustGetPlan(ids[1]).recurring().end_month()), "2019-09");
  EXPECT_EQ(MonthString(MustGetPlan(ids[2]).recurring().end_month()), "2020-06");
  v1::ListRenewalFailuresRequest failures;
  failures.set_include_resolved(true);
  absl::StatusOr<v1::ListRenewalFailuresResponse> listed =
      Call(&Stub::ListRenewalFailures, failures, service_token_);
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(listed->failures_size(), 0);

  // And one more, later the same day: nothing.
  absl::StatusOr<v1::RenewalRun> late = RunRenewals(D(2019, 8, 1), "late");
  ASSERT_TRUE(late.ok()) << late.status();
  EXPECT_EQ(late->renewals_size(), 0);
  EXPECT_EQ(EntryRows(), expected_after);
}

TEST_F(BillingServiceTest, APlanWhoseCaseIsGoneIsSetAsideWithItsReason) {
  const project::v1::Project won = WonCase("通常更新", acme_);
  MustSetPlan(RecurringPlan(won.id(), Monthly(YM(2019, 6), YM(2019, 6), 30000, 1)));
  // A plan whose case the project service does not know (cases cannot be deleted through the
  // API, so the plan is written into billing's own table as if its case had gone).
  Exec(absl::StrCat(
      "INSERT INTO billing.plans (project_id, customer_id, timing, tax_category, "
      "recurring_interval, split_revenue, amount, start_month, end_month, auto_renew, "
      "renewal_unit_months, version, create_time, created_by, update_time, updated_by) VALUES (",
      kUnknownId, ", ", acme_.id(),
      ", 3, 1, 1, false, 1000, '2019-06-01', '2019-06-01', true, 1, 1, now(), 'x', now(), 'x')"));
  const int64_t entries = EntryRows();

  absl::StatusOr<v1::RenewalRun> run = RunRenewals(D(2019, 7, 1), "with-a-gone-case");
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->plans_considered(), 2);
  // The good plan is renewed all the same...
  ASSERT_EQ(run->renewals_size(), 1);
  EXPECT_EQ(run->renewals(0).project_id(), won.id());
  // ...and the other is set aside, visibly.
  ASSERT_EQ(run->failures_size(), 1);
  EXPECT_EQ(run->failures(0).project_id(), kUnknownId);
  EXPECT_EQ(run->failures(0).code(), "PROJECT_NOT_FOUND");
  EXPECT_FALSE(run->failures(0).reason().empty());
  EXPECT_EQ(DateString(run->failures(0).as_of()), "2019-07-01");
  EXPECT_EQ(EntryRows(), entries + 1);

  v1::ListRenewalFailuresRequest list;
  absl::StatusOr<v1::ListRenewalFailuresResponse> open =
      Call(&Stub::ListRenewalFailures, list, service_token_);
  ASSERT_TRUE(open.ok()) << open.status();
  ASSERT_EQ(open->failures_size(), 1);
  EXPECT_EQ(open->failures(0).project_id(), kUnknownId);
  EXPECT_EQ(open->failures(0).code(), "PROJECT_NOT_FOUND");
  EXPECT_EQ(api::FromTimestamp(open->failures(0).failure_time()), StartTime());

  // The next day's run fails it again: still one open failure for the plan, now as of 07-02.
  absl::StatusOr<v1::RenewalRun> next = RunRenewals(D(2019, 7, 2), "next-day");
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->renewals_size(), 0);
  ASSERT_EQ(next->failures_size(), 1);
  open = Call(&Stub::ListRenewalFailures, list, staff_);
  ASSERT_TRUE(open.ok()) << open.status();
  ASSERT_EQ(open->failures_size(), 1);
  EXPECT_EQ(DateString(open->failures(0).as_of()), "2019-07-02");
  EXPECT_EQ(EntryRows(), entries + 1);
  // A preview shows the failure without recording anything.
  absl::StatusOr<v1::RenewalRun> preview = PreviewRenewals(D(2019, 7, 3));
  ASSERT_TRUE(preview.ok()) << preview.status();
  ASSERT_EQ(preview->failures_size(), 1);
  EXPECT_EQ(preview->failures(0).code(), "PROJECT_NOT_FOUND");
  EXPECT_EQ(Count("SELECT count(*) FROM billing.renewal_failures"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM billing.renewal_failures WHERE as_of = '2019-07-02' "
                  "AND NOT resolved"),
            1);
}

TEST_F(BillingServiceTest, APlanTheDatabaseRefusesIsSetAsideAndTheRestOfItsBatchRenews) {
  // Three plans of one renewal batch; the database refuses every entry of the middle one (a
  // trigger standing in for a row the schema refuses), so the batch cannot be written at once.
  const project::v1::Project a = WonCase("一括更新A", acme_);
  const project::v1::Project b = WonCase("一括更新B", acme_);
  const project::v1::Project c = WonCase("一括更新C", acme_);
  for (const auto* p : {&a, &b, &c}) {
    MustSetPlan(RecurringPlan(p->id(), Monthly(YM(2019, 6), YM(2019, 6), 30000, 1)));
  }
  Exec("CREATE FUNCTION billing.refuse_entry() RETURNS trigger LANGUAGE plpgsql AS "
       "$$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$");
  Exec(absl::StrCat("CREATE TRIGGER refuse_entry BEFORE INSERT ON billing.entries FOR EACH ROW "
                    "WHEN (NEW.project_id = ", b.id(), ") EXECUTE FUNCTION billing.refuse_entry()"));
  const int64_t entries = EntryRows();

  absl::StatusOr<v1::RenewalRun> run = RunRenewals(D(2019, 7, 1), "with-a-refused-plan");
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->plans_considered(), 3);
  ASSERT_EQ(run->renewals_size(), 2);
  EXPECT_EQ(run->renewals(0).project_id(), a.id());
  EXPECT_EQ(run->renewals(1).project_id(), c.id());
  ASSERT_EQ(run->failures_size(), 1);
  EXPECT_EQ(run->failures(0).project_id(), b.id());
  EXPECT_EQ(run->failures(0).code(), "RENEWAL_FAILED");
  EXPECT_FALSE(run->failures(0).reason().empty());
  EXPECT_EQ(EntryRows(), entries + 2);
  EXPECT_EQ(MonthString(MustGetPlan(a.id()).recurring().end_month()), "2019-07");
  EXPECT_EQ(MonthString(MustGetPlan(b.id()).recurring().end_month()), "2019-06");
  EXPECT_EQ(Count("SELECT count(*) FROM billing.renewal_failures WHERE NOT resolved"), 1);

  // The database takes it again: the next run renews it alone and resolves its failure.
  Exec("DROP TRIGGER refuse_entry ON billing.entries");
  absl::StatusOr<v1::RenewalRun> next = RunRenewals(D(2019, 7, 2), "after-the-fix");
  ASSERT_TRUE(next.ok()) << next.status();
  ASSERT_EQ(next->renewals_size(), 1);
  EXPECT_EQ(next->renewals(0).project_id(), b.id());
  EXPECT_EQ(next->failures_size(), 0);
  EXPECT_EQ(EntryRows(), entries + 3);
  EXPECT_EQ(Count("SELECT count(*) FROM billing.renewal_failures WHERE NOT resolved"), 0);
}

TEST_F(BillingServiceTest, ProjectServiceDownMakesRenewalUnavailableAndWritesNothing) {
  const project::v1::Project won = WonCase("停止中", acme_);
  MustSetPlan(RecurringPlan(won.id(), Monthly(YM(2019, 6), YM(2019, 6), 30000, 1)));
  const v1::BillingPlan before = MustGetPlan(won.id());
  const int64_t entries = EntryRows();
  const int64_t audits = Count("SELECT count(*) FROM billing.audit_events");
  const int64_t runs = Count("SELECT count(*) FROM billing.renewal_runs");

  StopProjectService();
  EXPECT_TRUE(
      IsError(RunRenewals(D(2019, 7, 1), "while-down").status(), absl::StatusCode::kUnavailable));
  EXPECT_TRUE(IsError(PreviewRenewals(D(2019, 7, 1)).status(), absl::StatusCode::kUnavailable));
  // No entry, no plan change, no failure set aside (the plan did not fail: the run did), and
  // the request_id is not used up: a retry runs again (and fails again while still down).
  EXPECT_EQ(EntryRows(), entries);
  const v1::BillingPlan after = MustGetPlan(won.id());
  EXPECT_TRUE(SameMessage(after, before)) << after.DebugString();
  EXPECT_EQ(Count("SELECT count(*) FROM billing.renewal_failures"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM billing.idempotency_keys"), 0);
  // Not even a run record: the run did not happen (the scheduler retries it; a record per
  // failed attempt would pile up while the project service is down).
  EXPECT_EQ(Count("SELECT count(*) FROM billing.renewal_runs"), runs);
  EXPECT_EQ(Count("SELECT count(*) FROM billing.audit_events"), audits);
  EXPECT_TRUE(
      IsError(RunRenewals(D(2019, 7, 1), "while-down").status(), absl::StatusCode::kUnavailable));
  EXPECT_EQ(EntryRows(), entries);
  // Planning needs the case too.
  EXPECT_TRUE(
      IsError(SetPlan(RecurringPlan(won.id(), Monthly(YM(2019, 6), YM(2019, 9), 1000))).status(),
              absl::StatusCode::kUnavailable));
  EXPECT_EQ(EntryRows(), entries);
}

// ---------------------------------------------------------------------------------------------
// Invoices
// ---------------------------------------------------------------------------------------------

// DESIGN.md's tax example: three 10% entries of 1,005 yen on one invoice.
v1::BillingPlan TaxExamplePlan(int64_t project_id) {
  return SplitPlan(project_id, {Planned(D(2019, 7, 1), D(2019, 7, 1), 1005, "作業費A"),
                                Planned(D(2019, 7, 2), D(2019, 7, 2), 1005, "作業費B"),
                                Planned(D(2019, 7, 3), D(2019, 7, 3), 1005, "作業費C")});
}

TEST_F(BillingServiceTest, InvoiceOfTheDesignTaxExampleHasTax301WithFloor) {
  const project::v1::Project c = WonCase("保守作業", acme_);
  const v1::BillingPlan plan = MustSetPlan(TaxExamplePlan(c.id()));
  ASSERT_NO_FATAL_FAILURE(MakeReady(plan));

  absl::StatusOr<v1::Invoice> inv = Issue(acme_.id(), D(2019, 7, 10));
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_GT(inv->id(), 0);
  EXPECT_EQ(inv->number(), "2019-000001");
  EXPECT_EQ(inv->customer_id(), acme_.id());
  EXPECT_EQ(inv->recipient_name(), "株式会社アクメ");
  EXPECT_EQ(inv->issuer_name(), kIssuerName);
  EXPECT_EQ(inv->issuer_registration_number(), kIssuerNumber);
  EXPECT_EQ(DateString(inv->issue_date()), "2019-07-10");
  EXPECT_EQ(DateString(inv->due_date()), "2019-08-31");  // 月末締め翌月末払い
  EXPECT_EQ(inv->subtotal(), 3015);
  EXPECT_EQ(inv->tax(), 301);  // once per rate: floor(301.5); not 3 × 100
  EXPECT_EQ(inv->total(), 3316);
  EXPECT_EQ(inv->rounding(), v1::ROUNDING_MODE_FLOOR);
  EXPECT_EQ(inv->status(), v1::INVOICE_STATUS_ISSUED);
  EXPECT_EQ(inv->cancel_reason(), "");
  EXPECT_FALSE(inv->has_cancel_time());
  EXPECT_FALSE(inv->etag().empty());
  EXPECT_EQ(inv->audit().created_by(), "acct-1");
  ASSERT_EQ(inv->rate_totals_size(), 1);
  EXPECT_EQ(inv->rate_totals(0).category(), common::v1::TAX_CATEGORY_STANDARD);
  EXPECT_EQ(inv->rate_totals(0).taxable_amount(), 3015);
  EXPECT_EQ(inv->rate_totals(0).tax(), 301);
  ASSERT_EQ(inv->lines_size(), 3);
  const std::vector<std::string> texts = {"作業費A", "作業費B", "作業費C"};
  const std::vector<int64_t> allocated = {100, 100, 101};  // the remainder to the last
  int64_t line_tax = 0;
  for (int i = 0; i < 3; ++i) {
    const v1::InvoiceLine& l = inv->lines(i);
    EXPECT_EQ(l.entry_id(), plan.entries(i).id());
    EXPECT_EQ(l.description(), texts[i]);
    EXPECT_EQ(l.amount(), 1005);
    EXPECT_EQ(l.tax_category(), common::v1::TAX_CATEGORY_STANDARD);
    EXPECT_FALSE(l.reduced_rate());
    EXPECT_EQ(l.allocated_tax(), allocated[i]);
    EXPECT_EQ(DateString(l.revenue_date()), DateString(plan.entries(i).revenue_date()));
    line_tax += l.allocated_tax();
  }
  EXPECT_EQ(line_tax, inv->tax());

  // The entries, read back: BILLED on this invoice, their taxes summing to the invoice's.
  const std::vector<v1::BillingEntry> entries = EntriesOfCase(c.id());
  ASSERT_EQ(entries.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(entries[i].status(), v1::ENTRY_STATUS_BILLED);
    EXPECT_EQ(entries[i].invoice_id(), inv->id());
    EXPECT_EQ(entries[i].tax(), allocated[i]);
  }
  EXPECT_EQ(TaxSum(entries), 301);

  // Readable as issued.
  absl::StatusOr<v1::Invoice> read = GetInvoice(inv->id());
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(SameMessage(*read, *inv)) << read->DebugString() << "\n" << inv->DebugString();
  v1::ListInvoicesRequest list;
  list.set_customer_id(acme_.id());
  absl::StatusOr<v1::ListInvoicesResponse> listed = Call(&Stub::ListInvoices, list);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->invoices_size(), 1);
  EXPECT_TRUE(SameMessage(listed->invoices(0), *inv));
  EXPECT_TRUE(IsError(GetInvoice(kUnknownId).status(), absl::StatusCode::kNotFound));
}

TEST_F(BillingServiceTest, InvoiceOfTheDesignTaxExampleHasTax302WithHalfUp) {
  BillingInstance& half_up = StartBilling(Options(tax::Rounding::kHalfUp));
  const project::v1::Project c = WonCase("保守作業（四捨五入）", kita_);
  const v1::BillingPlan plan = MustSetPlan(TaxExamplePlan(c.id()));
  ASSERT_NO_FATAL_FAILURE(MakeReady(plan));

  absl::StatusOr<v1::Invoice> inv =
      IssueOn(half_up.stub.get(), kita_.id(), D(2019, 7, 10), {}, "half-up-1", accounting_);
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->number(), "2019-000001");
  EXPECT_EQ(inv->recipient_name(), "北商事株式会社");
  EXPECT_EQ(DateString(inv->due_date()), "2019-09-10");  // 20日締め翌々月10日払い
  EXPECT_EQ(inv->subtotal(), 3015);
  EXPECT_EQ(inv->tax(), 302);
  EXPECT_EQ(inv->total(), 3317);
  EXPECT_EQ(inv->rounding(), v1::ROUNDING_MODE_HALF_UP);
  ASSERT_EQ(inv->rate_totals_size(), 1);
  EXPECT_EQ(inv->rate_totals(0).tax(), 302);
  ASSERT_EQ(inv->lines_size(), 3);
  // Each but the last rounded half-up (100.5 → 101), the last takes the rest.
  EXPECT_EQ(inv->lines(0).allocated_tax(), 101);
  EXPECT_EQ(inv->lines(1).allocated_tax(), 101);
  EXPECT_EQ(inv->lines(2).allocated_tax(), 100);

  const std::vector<v1::BillingEntry> entries = EntriesOfCase(c.id());
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(TaxSum(entries), 302);
  for (const auto& e : entries) {
    EXPECT_EQ(e.status(), v1::ENTRY_STATUS_BILLED);
    EXPECT_EQ(e.invoice_id(), inv->id());
  }
  // The rounding is frozen on the invoice: the floor-configured instance reads it unchanged.
  absl::StatusOr<v1::Invoice> read = GetInvoice(inv->id());
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(SameMessage(*read, *inv));
}

TEST_F(BillingServiceTest, InvoiceNumbersAreSequentialPerYearAndDueDatesFollowTheTerms) {
  const project::v1::Project a = WonCase("番号A", acme_);
  const project::v1::Project k = WonCase("番号K", kita_);
  std::vector<v1::PlannedEntry> many;
  for (int i = 1; i <= 6; ++i)
    many.push_back(Planned(D(2019, 7, i), D(2019, 7, i), 1000 * i, absl::StrCat("第", i, "回")));
  const v1::BillingPlan pa = MustSetPlan(SplitPlan(a.id(), many));
  const v1::BillingPlan pk = MustSetPlan(SplitPlan(k.id(), many));
  ASSERT_NO_FATAL_FAILURE(MakeReady(pa));
  ASSERT_NO_FATAL_FAILURE(MakeReady(pk));

  struct Want {
    const customer::v1::Customer* customer;
    const v1::BillingEntry* entry;
    common::v1::Date issue;
    std::string number;
    std::string due;
  };
  const std::vector<Want> wants = {
      {&acme_, &pa.entries(0), D(2019, 7, 10), "2019-000001", "2019-08-31"},
      {&kita_, &pk.entries(0), D(2019, 7, 10), "2019-000002", "2019-09-10"},  // closes 07-20
      {&kita_, &pk.entries(1), D(2019, 7, 25), "2019-000003", "2019-10-10"},  // closes 08-20
      {&acme_, &pa.entries(1), D(2019, 12, 31), "2019-000004", "2020-01-31"},
      {&acme_, &pa.entries(2), D(2020, 1, 6), "2020-000001", "2020-02-29"},   // leap February
      {&kita_, &pk.entries(2), D(2019, 7, 20), "2019-000005", "2019-09-10"},  // the closing day
      {&acme_, &pa.entries(3), D(2020, 1, 31), "2020-000002", "2020-02-29"},
  };
  for (const Want& w : wants) {
    SCOPED_TRACE(w.number);
    absl::StatusOr<v1::Invoice> inv = Issue(w.customer->id(), w.issue, {w.entry->id()});
    ASSERT_TRUE(inv.ok()) << inv.status();
    EXPECT_EQ(inv->number(), w.number);
    EXPECT_EQ(DateString(inv->due_date()), w.due);
    ASSERT_EQ(inv->lines_size(), 1);
    EXPECT_EQ(inv->lines(0).entry_id(), w.entry->id());
  }
  EXPECT_EQ(InvoiceRows(), static_cast<int64_t>(wants.size()));

  // Newest first, filtered by customer and issue dates.
  v1::ListInvoicesRequest list;
  list.set_customer_id(kita_.id());
  absl::StatusOr<v1::ListInvoicesResponse> kita_list = Call(&Stub::ListInvoices, list);
  ASSERT_TRUE(kita_list.ok()) << kita_list.status();
  std::vector<std::string> numbers;
  for (const auto& i : kita_list->invoices()) numbers.push_back(i.number());
  EXPECT_EQ(numbers, (std::vector<std::string>{"2019-000005", "2019-000003", "2019-000002"}));
  v1::ListInvoicesRequest in2020;
  *in2020.mutable_issue_date_from() = D(2020, 1, 1);
  in2020.set_page_size(1);
  absl::StatusOr<v1::ListInvoicesResponse> p1 = Call(&Stub::ListInvoices, in2020);
  ASSERT_TRUE(p1.ok()) << p1.status();
  ASSERT_EQ(p1->invoices_size(), 1);
  EXPECT_EQ(p1->invoices(0).number(), "2020-000002");
  ASSERT_FALSE(p1->next_page_token().empty());
  in2020.set_page_token(p1->next_page_token());
  absl::StatusOr<v1::ListInvoicesResponse> p2 = Call(&Stub::ListInvoices, in2020);
  ASSERT_TRUE(p2.ok()) << p2.status();
  ASSERT_EQ(p2->invoices_size(), 1);
  EXPECT_EQ(p2->invoices(0).number(), "2020-000001");
  EXPECT_TRUE(p2->next_page_token().empty());
}

TEST_F(BillingServiceTest, IssueInvoiceRetryReturnsTheSameInvoice) {
  const project::v1::Project c = WonCase("再送", acme_);
  const v1::BillingPlan plan = MustSetPlan(TaxExamplePlan(c.id()));
  ASSERT_NO_FATAL_FAILURE(MakeReady(plan));
  absl::StatusOr<v1::Invoice> first =
      Issue(acme_.id(), D(2019, 7, 10), {plan.entries(0).id(), plan.entries(1).id()}, "issue-1");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->number(), "2019-000001");
  absl::StatusOr<v1::Invoice> retry =
      Issue(acme_.id(), D(2019, 7, 10), {plan.entries(0).id(), plan.entries(1).id()}, "issue-1");
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(SameMessage(*retry, *first)) << retry->DebugString();
  EXPECT_EQ(InvoiceRows(), 1);
  // The same request_id for another invoice is the client's mistake.
  EXPECT_TRUE(
      IsInvalidField(Issue(acme_.id(), D(2019, 7, 11), {plan.entries(2).id()}, "issue-1").status(),
                     "request_id", "REQUEST_ID_REUSED"));
  // The retry took no number: the next invoice is 000002.
  absl::StatusOr<v1::Invoice> next = Issue(acme_.id(), D(2019, 7, 11), {}, "issue-2");
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->number(), "2019-000002");
  ASSERT_EQ(next->lines_size(), 1);
  EXPECT_EQ(next->lines(0).entry_id(), plan.entries(2).id());
  EXPECT_EQ(InvoiceRows(), 2);
}

TEST_F(BillingServiceTest, AnIssuerWithoutAValidRegistrationNumberCannotIssue) {
  const project::v1::Project c = WonCase("登録番号なし", acme_);
  const v1::BillingPlan plan = MustSetPlan(TaxExamplePlan(c.id()));
  ASSERT_NO_FATAL_FAILURE(MakeReady(plan));
  BillingInstance& none = StartBilling(Options(tax::Rounding::kFloor, ""));
  BillingInstance& bad_digit = StartBilling(Options(tax::Rounding::kFloor, "T7000012050003"));
  BillingInstance& no_t = StartBilling(Options(tax::Rounding::kFloor, "7000012050002"));
  for (BillingInstance* b : {&none, &bad_digit, &no_t}) {
    EXPECT_TRUE(
        IsError(IssueOn(b->stub.get(), acme_.id(), D(2019, 7, 10), {}, NextRequestId(), accounting_)
                    .status(),
                absl::StatusCode::kFailedPrecondition, "QUALIFIED_INVOICE_ITEM_MISSING"));
  }
  EXPECT_EQ(InvoiceRows(), 0);
  for (const auto& e : EntriesOfCase(c.id())) EXPECT_EQ(e.status(), v1::ENTRY_STATUS_READY);
  // Properly configured, the same entries are invoiced, and the refusals took no number.
  absl::StatusOr<v1::Invoice> inv = Issue(acme_.id(), D(2019, 7, 10));
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->number(), "2019-000001");
}

// n characters of 3 UTF-8 bytes each: caps count characters, so n = cap passes although its
// bytes are three times the cap.
std::string Kana(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += "あ";
  return out;
}

// Every free-text field of billing's writes is capped in characters (TOO_LONG on the field):
// entry descriptions 500 (however written), invoice cancel reasons and issue-request notes
// 2,000. The cap itself is accepted; one more is refused and writes nothing.
TEST_F(BillingServiceTest, FreeTextFieldsAreCappedInCharacters) {
  const project::v1::Project c = WonCase("文字数上限", acme_);
  const v1::BillingPlan plan =
      MustSetPlan(SplitPlan(c.id(), {Planned(D(2019, 7, 1), D(2019, 7, 1), 1000, Kana(500))}));
  ASSERT_EQ(plan.entries(0).description(), Kana(500));

  v1::AddBillingEntryRequest add;
  add.set_request_id("long-1");
  add.set_project_id(c.id());
  *add.mutable_entry() = Planned(D(2019, 8, 31), D(2019, 8, 31), 2000, Kana(501));
  EXPECT_TRUE(IsInvalidField(Call(&Stub::AddBillingEntry, add).status(), "entry.description",
                             "TOO_LONG"));
  EXPECT_EQ(EntryRows(), 1);
  add.set_request_id("long-2");
  add.mutable_entry()->set_description(Kana(500));
  absl::StatusOr<v1::BillingEntry> added = Call(&Stub::AddBillingEntry, add);
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(added->description(), Kana(500));

  v1::UpdateBillingEntryRequest upd;
  upd.mutable_entry()->set_id(added->id());
  upd.mutable_entry()->set_description(Kana(501));
  upd.mutable_update_mask()->add_paths("description");
  EXPECT_TRUE(IsInvalidField(Call(&Stub::UpdateBillingEntry, upd).status(), "entry.description",
                             "TOO_LONG"));
  upd.mutable_entry()->set_description(std::string(500, 'x'));
  absl::StatusOr<v1::BillingEntry> updated = Call(&Stub::UpdateBillingEntry, upd);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->description(), std::string(500, 'x'));

  v1::RequestInvoiceIssueRequest ask;
  ask.set_request_id("ask-long-1");
  ask.set_project_id(c.id());
  ask.add_entry_ids(plan.entries(0).id());
  ask.set_note(Kana(2001));
  EXPECT_TRUE(IsInvalidField(Call(&Stub::RequestInvoiceIssue, ask).status(), "note", "TOO_LONG"));
  EXPECT_EQ(Count("SELECT count(*) FROM billing.invoice_issue_requests"), 0);
  ask.set_note(Kana(2000));
  EXPECT_TRUE(Call(&Stub::RequestInvoiceIssue, ask).ok());

  ASSERT_NO_FATAL_FAILURE(MakeReady(plan));
  absl::StatusOr<v1::Invoice> issued = Issue(acme_.id(), D(2019, 7, 10));
  ASSERT_TRUE(issued.ok()) << issued.status();
  EXPECT_TRUE(IsInvalidField(Cancel(issued->id(), Kana(2001), accounting_).status(), "reason",
                             "TOO_LONG"));
  absl::StatusOr<v1::Invoice> cancelled = Cancel(issued->id(), Kana(2000), accounting_);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->cancel_reason(), Kana(2000));
}

TEST_F(BillingServiceTest, ACancelledInvoiceStaysReadableAndItsEntriesAreBillableAgain) {
  const project::v1::Project c = WonCase("取消", acme_);
  const v1::BillingPlan plan = MustSetPlan(TaxExamplePlan(c.id()));
  ASSERT_NO_FATAL_FAILURE(MakeReady(plan));
  absl::StatusOr<v1::Invoice> issued = Issue(acme_.id(), D(2019, 7, 10));
  ASSERT_TRUE(issued.ok()) << issued.status();

  EXPECT_TRUE(IsInvalidField(Cancel(issued->id(), "", accounting_).status(), "reason"));
  EXPECT_TRUE(IsError(Cancel(issued->id(), "宛名誤り", accounting_, "\"999\"").status(),
                      absl::StatusCode::kAborted, "ETAG_MISMATCH"));
  EXPECT_TRUE(
      IsError(Cancel(kUnknownId, "宛名誤り", accounting_).status(), absl::StatusCode::kNotFound));
  absl::StatusOr<v1::Invoice> cancelled =
      Cancel(issued->id(), "宛名誤り", accounting_, issued->etag());
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->status(), v1::INVOICE_STATUS_CANCELLED);
  EXPECT_EQ(cancelled->cancel_reason(), "宛名誤り");
  ASSERT_TRUE(cancelled->has_cancel_time());
  EXPECT_EQ(api::FromTimestamp(cancelled->cancel_time()), StartTime());
  EXPECT_NE(cancelled->etag(), issued->etag());
  // Everything issued is kept as it was.
  EXPECT_EQ(cancelled->number(), issued->number());
  EXPECT_EQ(cancelled->tax(), 301);
  ASSERT_EQ(cancelled->lines_size(), 3);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(SameMessage(cancelled->lines(i), issued->lines(i)));

  // Its entries are READY again, off the invoice, with their estimates back.
  std::vector<v1::BillingEntry> entries = EntriesOfCase(c.id());
  ASSERT_EQ(entries.size(), 3u);
  for (const auto& e : entries) {
    EXPECT_EQ(e.status(), v1::ENTRY_STATUS_READY);
    EXPECT_EQ(e.invoice_id(), 0);
    EXPECT_EQ(e.tax(), 100);
  }
  // Readable, and listed as cancelled.
  absl::StatusOr<v1::Invoice> read = GetInvoice(issued->id());
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(SameMessage(*read, *cancelled)) << read->DebugString();
  v1::ListInvoicesRequest list;
  list.add_statuses(v1::INVOICE_STATUS_CANCELLED);
  absl::StatusOr<v1::ListInvoicesResponse> listed = Call(&Stub::ListInvoices, list);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->invoices_size(), 1);
  EXPECT_EQ(listed->invoices(0).id(), issued->id());

  // Cancelling twice is refused.
  EXPECT_TRUE(IsError(Cancel(issued->id(), "再取消", accounting_).status(),
                      absl::StatusCode::kFailedPrecondition));
  // The entries are billable again: a new invoice with the next number.
  absl::StatusOr<v1::Invoice> reissued = Issue(acme_.id(), D(2019, 7, 12));
  ASSERT_TRUE(reissued.ok()) << reissued.status();
  EXPECT_NE(reissued->id(), issued->id());
  EXPECT_EQ(reissued->number(), "2019-000002");
  EXPECT_EQ(reissued->tax(), 301);
  std::vector<int64_t> reissued_entries;
  for (const auto& l : reissued->lines()) reissued_entries.push_back(l.entry_id());
  EXPECT_EQ(reissued_entries, EntryIds(plan.entries()));
  entries = EntriesOfCase(c.id());
  for (const auto& e : entries) {
    EXPECT_EQ(e.status(), v1::ENTRY_STATUS_BILLED);
    EXPECT_EQ(e.invoice_id(), reissued->id());
  }
  EXPECT_EQ(TaxSum(entries), 301);
  EXPECT_EQ(InvoiceRows(), 2);
  // The cancelled one is unchanged by the new issue.
  absl::StatusOr<v1::Invoice> still = GetInvoice(issued->id());
  ASSERT_TRUE(still.ok());
  EXPECT_TRUE(SameMessage(*still, *cancelled));
}

TEST_F(BillingServiceTest, AnInvoiceWithAPaidEntryCannotBeCancelled) {
  const project::v1::Project c = WonCase("入金済", acme_);
  const v1::BillingPlan plan = MustSetPlan(TaxExamplePlan(c.id()));
  ASSERT_NO_FATAL_FAILURE(MakeReady(plan));
  absl::StatusOr<v1::Invoice> inv = Issue(acme_.id(), D(2019, 7, 10));
  ASSERT_TRUE(inv.ok()) << inv.status();
  ASSERT_TRUE(SetStatus(plan.entries(1).id(), v1::ENTRY_STATUS_PAID, accounting_).ok());
  EXPECT_TRUE(IsError(Cancel(inv->id(), "誤発行", accounting_).status(),
                      absl::StatusCode::kFailedPrecondition, "INVOICE_PAID"));
  absl::StatusOr<v1::Invoice> read = GetInvoice(inv->id());
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->status(), v1::INVOICE_STATUS_ISSUED);
  for (const auto& e : EntriesOfCase(c.id())) EXPECT_NE(e.status(), v1::ENTRY_STATUS_READY);
}

TEST_F(BillingServiceTest, IssueInvoiceTakesOnlyTheCustomersReadyEntries) {
  const project::v1::Project a = WonCase("選択A", acme_);
  const project::v1::Project k = WonCase("選択K", kita_);
  const v1::BillingPlan pa = MustSetPlan(TaxExamplePlan(a.id()));
  const v1::BillingPlan pk = MustSetPlan(TaxExamplePlan(k.id()));
  ASSERT_NO_FATAL_FAILURE(MakeReady(pa));
  // kita has only UNBILLED entries.
  EXPECT_TRUE(IsError(Issue(kita_.id(), D(2019, 7, 10)).status(),
                      absl::StatusCode::kFailedPrecondition, "NO_READY_ENTRIES"));
  // Another customer's entry, or one not READY, cannot be chosen.
  EXPECT_TRUE(
      IsError(Issue(acme_.id(), D(2019, 7, 10), {pa.entries(0).id(), pk.entries(0).id()}).status(),
              absl::StatusCode::kFailedPrecondition, "ENTRY_NOT_READY"));
  ASSERT_TRUE(SetStatus(pa.entries(2).id(), v1::ENTRY_STATUS_UNBILLED, staff_).ok());
  EXPECT_TRUE(
      IsError(Issue(acme_.id(), D(2019, 7, 10), {pa.entries(0).id(), pa.entries(2).id()}).status(),
              absl::StatusCode::kFailedPrecondition, "ENTRY_NOT_READY"));
  // Only entries that are not READY (or do not exist) chosen: nothing to invoice (the reason
  // may be NO_READY_ENTRIES or ENTRY_NOT_READY; the contract fixes the code).
  EXPECT_TRUE(IsError(Issue(acme_.id(), D(2019, 7, 10), {pa.entries(2).id()}).status(),
                      absl::StatusCode::kFailedPrecondition));
  EXPECT_TRUE(IsError(Issue(acme_.id(), D(2019, 7, 10), {kUnknownId}).status(),
                      absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(InvoiceRows(), 0);
  // Request validation.
  EXPECT_TRUE(
      IsInvalidField(IssueOn(stub_.get(), acme_.id(), D(2019, 7, 10), {}, "", accounting_).status(),
                     "request_id"));
  EXPECT_TRUE(IsInvalidField(Issue(0, D(2019, 7, 10)).status(), "customer_id"));
  EXPECT_TRUE(IsInvalidField(Issue(acme_.id(), D(2019, 13, 1)).status(), "issue_date"));
  EXPECT_TRUE(IsInvalidField(Issue(acme_.id(), common::v1::Date()).status(), "issue_date"));

  // Only the chosen one.
  absl::StatusOr<v1::Invoice> one = Issue(acme_.id(), D(2019, 7, 10), {pa.entries(1).id()});
  ASSERT_TRUE(one.ok()) << one.status();
  ASSERT_EQ(one->lines_size(), 1);
  EXPECT_EQ(one->subtotal(), 1005);
  EXPECT_EQ(one->tax(), 100);
  std::vector<v1::BillingEntry> entries = EntriesOfCase(a.id());
  EXPECT_EQ(entries[0].status(), v1::ENTRY_STATUS_READY);
  EXPECT_EQ(entries[1].status(), v1::ENTRY_STATUS_BILLED);
  EXPECT_EQ(entries[2].status(), v1::ENTRY_STATUS_UNBILLED);
  // All the rest that is READY: just the first.
  absl::StatusOr<v1::Invoice> rest = Issue(acme_.id(), D(2019, 7, 10));
  ASSERT_TRUE(rest.ok()) << rest.status();
  ASSERT_EQ(rest->lines_size(), 1);
  EXPECT_EQ(rest->lines(0).entry_id(), pa.entries(0).id());
  EXPECT_EQ(rest->number(), "2019-000002");
}

TEST_F(BillingServiceTest, RecurringLinesAreNamedByCaseAndPeriodAndReducedRatesMarked) {
  const project::v1::Project c = WonCase("定期配送", acme_);
  const v1::BillingPlan plan = MustSetPlan(RecurringPlan(
      c.id(), Monthly(YM(2019, 6), YM(2019, 7), 1080), common::v1::TAX_CATEGORY_REDUCED));
  ASSERT_NO_FATAL_FAILURE(MakeReady(plan));
  absl::StatusOr<v1::Invoice> inv = Issue(acme_.id(), D(2019, 7, 31));
  ASSERT_TRUE(inv.ok()) << inv.status();
  ASSERT_EQ(inv->lines_size(), 2);
  EXPECT_EQ(inv->lines(0).description(), "定期配送 2019年6月分");
  EXPECT_EQ(inv->lines(1).description(), "定期配送 2019年7月分");
  for (const auto& l : inv->lines()) {
    EXPECT_TRUE(l.reduced_rate());
    EXPECT_EQ(l.tax_category(), common::v1::TAX_CATEGORY_REDUCED);
  }
  ASSERT_EQ(inv->rate_totals_size(), 1);
  EXPECT_EQ(inv->rate_totals(0).category(), common::v1::TAX_CATEGORY_REDUCED);
  EXPECT_EQ(inv->rate_totals(0).taxable_amount(), 2160);
  EXPECT_EQ(inv->tax(), 172);  // 8% of 2,160 = 172.8
  EXPECT_EQ(inv->lines(0).allocated_tax() + inv->lines(1).allocated_tax(), 172);
}

// ---------------------------------------------------------------------------------------------
// 請求書発行依頼
// ---------------------------------------------------------------------------------------------

TEST_F(BillingServiceTest, RequestInvoiceIssueWritesOneRequestAndOneNotification) {
  const project::v1::Project c = WonCase("発行依頼", acme_);
  const v1::BillingPlan plan = MustSetPlan(TaxExamplePlan(c.id()));
  v1::RequestInvoiceIssueRequest req;
  req.set_request_id("ask-1");
  req.set_project_id(c.id());
  req.add_entry_ids(plan.entries(0).id());
  req.add_entry_ids(plan.entries(2).id());
  req.set_note("7月分の請求書をお願いします");
  absl::StatusOr<v1::InvoiceIssueRequest> asked = Call(&Stub::RequestInvoiceIssue, req);
  ASSERT_TRUE(asked.ok()) << asked.status();
  EXPECT_GT(asked->id(), 0);
  EXPECT_EQ(asked->project_id(), c.id());
  EXPECT_EQ(std::vector<int64_t>(asked->entry_ids().begin(), asked->entry_ids().end()),
            (std::vector<int64_t>{plan.entries(0).id(), plan.entries(2).id()}));
  EXPECT_EQ(asked->note(), "7月分の請求書をお願いします");
  EXPECT_EQ(asked->requested_by(), "staff-1");
  EXPECT_EQ(api::FromTimestamp(asked->request_time()), StartTime());
  EXPECT_EQ(Count("SELECT count(*) FROM billing.invoice_issue_requests"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM billing.notification_outbox"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM billing.notification_outbox WHERE kind = "
                  "'invoice_issue_request' AND delivered_at IS NULL AND "
                  "(payload->>'project_id')::bigint = " +
                  std::to_string(c.id())),
            1);

  // A replay: the same answer, nothing more written.
  absl::StatusOr<v1::InvoiceIssueRequest> replay = Call(&Stub::RequestInvoiceIssue, req);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_TRUE(SameMessage(*replay, *asked));
  EXPECT_EQ(Count("SELECT count(*) FROM billing.invoice_issue_requests"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM billing.notification_outbox"), 1);

  // Errors write nothing.
  v1::RequestInvoiceIssueRequest bad = req;
  bad.set_request_id("");
  EXPECT_TRUE(IsInvalidField(Call(&Stub::RequestInvoiceIssue, bad).status(), "request_id"));
  bad = req;
  bad.set_request_id("ask-2");
  bad.set_project_id(ProspectCase("計画なし", acme_).id());
  EXPECT_TRUE(IsError(Call(&Stub::RequestInvoiceIssue, bad).status(), absl::StatusCode::kNotFound,
                      "PLAN_NOT_FOUND"));
  bad = req;
  bad.set_request_id("ask-3");
  bad.set_project_id(0);
  EXPECT_TRUE(IsInvalidField(Call(&Stub::RequestInvoiceIssue, bad).status(), "project_id"));
  EXPECT_EQ(Count("SELECT count(*) FROM billing.invoice_issue_requests"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM billing.notification_outbox"), 1);
  // A second, different request is its own row and notification.
  v1::RequestInvoiceIssueRequest all = req;
  all.set_request_id("ask-4");
  all.clear_entry_ids();
  all.clear_note();
  absl::StatusOr<v1::InvoiceIssueRequest> second = Call(&Stub::RequestInvoiceIssue, all);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_NE(second->id(), asked->id());
  EXPECT_EQ(Count("SELECT count(*) FROM billing.invoice_issue_requests"), 2);
  EXPECT_EQ(Count("SELECT count(*) FROM billing.notification_outbox"), 2);
}

// ---------------------------------------------------------------------------------------------
// Roles and audit
// ---------------------------------------------------------------------------------------------

TEST_F(BillingServiceTest, StaffCannotIssueCancelOrRunRenewals) {
  const project::v1::Project c = WonCase("権限", acme_);
  const v1::BillingPlan plan = MustSetPlan(TaxExamplePlan(c.id()));
  ASSERT_NO_FATAL_FAILURE(MakeReady(plan));
  EXPECT_TRUE(
      IsError(IssueOn(stub_.get(), acme_.id(), D(2019, 7, 10), {}, "staff-issue", staff_).status(),
              absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(InvoiceRows(), 0);
  // Accounting can issue, and admin can too.
  absl::StatusOr<v1::Invoice> inv = IssueOn(stub_.get(), acme_.id(), D(2019, 7, 10),
                                            {plan.entries(0).id()}, "acct-issue", accounting_);
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_TRUE(IssueOn(stub_.get(), acme_.id(), D(2019, 7, 10), {plan.entries(1).id()},
                      "admin-issue", admin_)
                  .ok());
  EXPECT_TRUE(IsError(Cancel(inv->id(), "スタッフ取消", staff_).status(),
                      absl::StatusCode::kPermissionDenied));
  absl::StatusOr<v1::Invoice> read = GetInvoice(inv->id());
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->status(), v1::INVOICE_STATUS_ISSUED);

  MustSetPlan(
      RecurringPlan(WonCase("更新権限", acme_).id(), Monthly(YM(2019, 6), YM(2019, 6), 1000, 1)));
  const int64_t entries = EntryRows();
  for (const std::string* token : {&staff_, &accounting_}) {
    v1::RunRenewalsRequest run;
    *run.mutable_as_of() = D(2019, 7, 1);
    run.set_request_id(NextRequestId());
    EXPECT_TRUE(IsError(Call(&Stub::RunRenewals, run, *token).status(),
                        absl::StatusCode::kPermissionDenied));
  }
  EXPECT_EQ(EntryRows(), entries);
  EXPECT_EQ(Count("SELECT count(*) FROM billing.renewal_runs"), 0);
  // Staff may preview (authorised: the missing date is what is wrong here).
  EXPECT_TRUE(IsInvalidField(
      Call(&Stub::PreviewRenewals, v1::PreviewRenewalsRequest(), staff_).status(), "as_of"));
}

TEST_F(BillingServiceTest, PartnerTokensAreDeniedEverythingAndNoTokenIsUnauthenticated) {
  const project::v1::Project c = WonCase("加盟店不可", acme_);
  const v1::BillingPlan plan = MustSetPlan(TaxExamplePlan(c.id()));
  const std::string partner = host_->Token(Role::kPartner, "partner-1", absl::StrCat(acme_.id()));
  const int64_t id = plan.entries(0).id();
  v1::SetBillingPlanRequest set_plan;
  *set_plan.mutable_plan() = TaxExamplePlan(c.id());
  v1::GetBillingPlanRequest get_plan;
  get_plan.set_project_id(c.id());
  v1::ListBillingEntriesRequest list_entries;
  v1::AddBillingEntryRequest add;
  add.set_request_id("p-add");
  add.set_project_id(c.id());
  *add.mutable_entry() = Planned(D(2019, 7, 31), D(2019, 7, 31), 1);
  v1::UpdateBillingEntryRequest update;
  update.mutable_entry()->set_id(id);
  update.mutable_entry()->set_amount(1);
  update.mutable_update_mask()->add_paths("amount");
  v1::RemoveBillingEntryRequest remove;
  remove.set_id(id);
  v1::SetEntryStatusRequest status;
  status.set_id(id);
  status.set_status(v1::ENTRY_STATUS_READY);
  v1::GetSalesSummaryRequest summary;
  *summary.mutable_from_month() = YM(2019, 7);
  *summary.mutable_to_month() = YM(2019, 7);
  v1::RunRenewalsRequest run;
  *run.mutable_as_of() = D(2019, 7, 1);
  run.set_request_id("p-run");
  v1::PreviewRenewalsRequest preview;
  *preview.mutable_as_of() = D(2019, 7, 1);
  v1::IssueInvoiceRequest issue;
  issue.set_request_id("p-issue");
  issue.set_customer_id(acme_.id());
  *issue.mutable_issue_date() = D(2019, 7, 10);
  v1::GetInvoiceRequest get_invoice;
  get_invoice.set_id(1);
  v1::CancelInvoiceRequest cancel;
  cancel.set_id(1);
  cancel.set_reason("x");
  v1::RequestInvoiceIssueRequest ask;
  ask.set_request_id("p-ask");
  ask.set_project_id(c.id());
  v1::ListAuditEventsRequest audit;
  audit.set_project_id(c.id());

  std::vector<std::pair<std::string, std::function<absl::Status(const std::string&)>>> calls =
      {
          {"SetBillingPlan",
           [&](const std::string& t) { return Call(&Stub::SetBillingPlan, set_plan, t).status(); }},
          {"GetBillingPlan",
           [&](const std::string& t) { return Call(&Stub::GetBillingPlan, get_plan, t).status(); }},
          {"ListBillingEntries",
           [&](const std::string& t) {
             return Call(&Stub::ListBillingEntries, list_entries, t).status();
           }},
          {"AddBillingEntry",
           [&](const std::string& t) { return Call(&Stub::AddBillingEntry, add, t).status(); }},
          {"UpdateBillingEntry",
           [&](const std::string& t) {
             return Call(&Stub::UpdateBillingEntry, update, t).status();
           }},
          {"RemoveBillingEntry",
           [&](const std::string& t) {
             return Call(&Stub::RemoveBillingEntry, remove, t).status();
           }},
          {"SetEntryStatus",
           [&](const std::string& t) { return Call(&Stub::SetEntryStatus, status, t).status(); }},
          {"GetSalesSummary",
           [&](const std::string& t) { return Call(&Stub::GetSalesSummary, summary, t).status(); }},
          {"RunRenewals",
           [&](const std::string& t) { return Call(&Stub::RunRenewals, run, t).status(); }},
          {"PreviewRenewals",
           [&](const std::string& t) { return Call(&Stub::PreviewRenewals, preview, t).status(); }},
          {"ListRenewalFailures",
           [&](const std::string& t) {
             return Call(&Stub::ListRenewalFailures, v1::ListRenewalFailuresRequest(), t).status();
           }},
          {"IssueInvoice",
           [&](const std::string& t) { return Call(&Stub::IssueInvoice, issue, t).status(); }},
          {"GetInvoice",
           [&](const std::string& t) { return Call(&Stub::GetInvoice, get_invoice, t).status(); }},
          {"ListInvoices",
           [&](const std::string& t) {
             return Call(&Stub::ListInvoices, v1::ListInvoicesRequest(), t).status();
           }},
          {"CancelInvoice",
           [&](const std::string& t) { return Call(&Stub::CancelInvoice, cancel, t).status(); }},
          {"RequestInvoiceIssue",
           [&](const std::string& t) { return Call(&Stub::RequestInvoiceIssue, ask, t).status(); }},
          {"ListAuditEvents",
           [&](const std::string& t) { return Call(&Stub::ListAuditEvents, audit, t).status(); }},
      };
  // Part 2 and documents: the role table refuses before any handler runs, so empty requests
  // do (their handlers' own checks are tested in payments_test, commissions_test and
  // invoice_pdf_test).
#define ANKEN_EMPTY_CALL(M, Req)                                                      \
  calls.push_back({#M, [&](const std::string& t) {                                    \
                     return Call(&Stub::M, v1::Req(), t).status();                    \
                   }})
  ANKEN_EMPTY_CALL(RecordPayment, RecordPaymentRequest);
  ANKEN_EMPTY_CALL(ImportBankStatement, ImportBankStatementRequest);
  ANKEN_EMPTY_CALL(ListPayments, ListPaymentsRequest);
  ANKEN_EMPTY_CALL(AllocatePayment, AllocatePaymentRequest);
  ANKEN_EMPTY_CALL(UnallocatePayment, UnallocatePaymentRequest);
  ANKEN_EMPTY_CALL(ListOverdueInvoices, ListOverdueInvoicesRequest);
  ANKEN_EMPTY_CALL(GetAgingSummary, GetAgingSummaryRequest);
  ANKEN_EMPTY_CALL(WriteOffInvoice, WriteOffInvoiceRequest);
  ANKEN_EMPTY_CALL(ListMissedBilling, ListMissedBillingRequest);
  ANKEN_EMPTY_CALL(CreateCommissionCharge, CreateCommissionChargeRequest);
  ANKEN_EMPTY_CALL(GetInvoicePdf, GetInvoicePdfRequest);
#undef ANKEN_EMPTY_CALL
  // Every method of the service is covered.
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          "anken.billing.v1.BillingService");
  ASSERT_NE(service, nullptr);
  std::set<std::string> covered, declared;
  for (const auto& call : calls) covered.insert(call.first);
  for (int i = 0; i < service->method_count(); ++i) declared.insert(service->method(i)->name());
  ASSERT_EQ(covered, declared);
  const int64_t audits = Count("SELECT count(*) FROM billing.audit_events");
  for (const auto& [name, call] : calls) {
    EXPECT_TRUE(IsError(call(partner), absl::StatusCode::kPermissionDenied)) << name;
    EXPECT_TRUE(IsError(call(""), absl::StatusCode::kUnauthenticated)) << name;
  }
  EXPECT_EQ(Count("SELECT count(*) FROM billing.audit_events"), audits);
  EXPECT_EQ(EntryRows(), 3);
  EXPECT_EQ(InvoiceRows(), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM billing.invoice_issue_requests"), 0);
}

TEST_F(BillingServiceTest, ChangesAreAuditedOnTheCase) {
  const project::v1::Project c = WonCase("監査", acme_);
  const v1::BillingPlan plan = MustSetPlan(TaxExamplePlan(c.id()));
  ASSERT_TRUE(SetStatus(plan.entries(0).id(), v1::ENTRY_STATUS_READY, staff_).ok());
  absl::StatusOr<v1::Invoice> inv = Issue(acme_.id(), D(2019, 7, 10), {plan.entries(0).id()});
  ASSERT_TRUE(inv.ok()) << inv.status();
  ASSERT_TRUE(Cancel(inv->id(), "監査テスト", accounting_).ok());

  v1::ListAuditEventsRequest req;
  req.set_project_id(c.id());
  absl::StatusOr<v1::ListAuditEventsResponse> events =
      Call(&Stub::ListAuditEvents, req, accounting_);
  ASSERT_TRUE(events.ok()) << events.status();
  std::set<std::string> methods;
  std::set<std::string> actors;
  int64_t last_id = std::numeric_limits<int64_t>::max();
  for (const auto& e : events->events()) {
    methods.insert(e.method().substr(e.method().rfind('/') + 1));
    actors.insert(e.actor());
    EXPECT_LT(e.id(), last_id) << "newest first";
    last_id = e.id();
  }
  for (const char* m : {"SetBillingPlan", "SetEntryStatus", "IssueInvoice", "CancelInvoice"}) {
    EXPECT_EQ(methods.count(m), 1u) << m;
  }
  EXPECT_EQ(actors, (std::set<std::string>{"staff-1", "acct-1"}));
  EXPECT_TRUE(IsError(Call(&Stub::ListAuditEvents,
                           [] {
                             v1::ListAuditEventsRequest r;
                             r.set_project_id(kUnknownId);
                             return r;
                           }())
                          .status(),
                      absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace anken::billing::testing
