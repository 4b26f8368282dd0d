// PgBillingStore against a real Postgres: a fresh database per test, migrated with the
// service's migrations. Row and audit counts are read with a separate connection, so every
// "nothing was written" claim is checked against what the database really holds. Entries are
// built by hand here: the store must not depend on the recurrence rules.

#include "services/billing/pg_billing_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/db/migrate.h"
#include "common/db/pool.h"
#include "common/status/errors.h"
#include "common/tax/tax.h"
#include "tests/support/test_database.h"

namespace anken::billing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kService[] = "/anken.billing.v1.BillingService/";
constexpr int64_t kCustomerA = 501;
constexpr int64_t kCustomerB = 502;
constexpr char kIssuerNumber[] = "T7000012050002";

std::string Method(const std::string& name) { return absl::StrCat(kService, name); }

absl::CivilDay D(int y, int m, int d) { return absl::CivilDay(y, m, d); }
absl::CivilMonth M(int y, int m) { return absl::CivilMonth(y, m); }
absl::CivilDay MonthEndOf(absl::CivilMonth m) { return absl::CivilDay(m + 1) - 1; }

// Deterministic response bytes: what a handler's encoder would keep for a replay.
std::string EncodeEntry(const BillingEntry& e) {
  return absl::StrCat(e.id, "|", e.project_id, "|", e.amount, "|", e.tax, "|", e.version);
}
std::string EncodeInvoice(const Invoice& i) {
  std::vector<std::string> lines;
  for (const InvoiceLine& l : i.lines)
    lines.push_back(absl::StrCat(l.entry_id, ":", l.allocated_tax));
  return absl::StrCat(i.id, "|", i.number, "|", i.totals.tax, "|", i.totals.total, "|",
                      absl::StrJoin(lines, ","), "|", absl::ToUnixMicros(i.stamp.create_time));
}
std::string EncodeRequest(const InvoiceIssueRequest& r) {
  return absl::StrCat(r.id, "|", r.project_id, "|", absl::StrJoin(r.entry_ids, ","), "|",
                      r.requested_by);
}

// The leading id of bytes made by the encoders above.
int64_t IdOf(const std::string& bytes) {
  int64_t id = 0;
  EXPECT_TRUE(absl::SimpleAtoi(bytes.substr(0, bytes.find('|')), &id)) << bytes;
  return id;
}
// The second field of EncodeInvoice bytes: the number.
std::string NumberOf(const std::string& bytes) {
  std::vector<std::string> parts = absl::StrSplit(bytes, '|');
  return parts.size() > 1 ? parts[1] : "";
}

::testing::AssertionResult IsError(const absl::Status& status, absl::StatusCode code,
                                   const std::string& reason) {
  if (status.code() != code || ErrorReason(status) != reason) {
    return ::testing::AssertionFailure()
           << "expected " << absl::StatusCodeToString(code) << " with reason " << reason
           << ", got " << status << " (reason '" << ErrorReason(status) << "')";
  }
  return ::testing::AssertionSuccess();
}

PlannedEntry Planned(const std::string& period, absl::CivilDay billing, absl::CivilDay revenue,
                     int64_t amount, const std::string& description = "") {
  PlannedEntry p;
  p.period = period;
  p.billing_date = billing;
  p.revenue_date = revenue;
  p.amount = amount;
  p.description = description;
  return p;
}

// Monthly entries "M<yyyy-mm>" for [from, to], both dates at the month end.
std::vector<PlannedEntry> MonthlyEntries(absl::CivilMonth from, absl::CivilMonth to,
                                         int64_t amount) {
  std::vector<PlannedEntry> out;
  for (absl::CivilMonth m = from; m <= to; ++m) {
    out.push_back(Planned(absl::StrCat("M", absl::FormatCivilTime(m)), MonthEndOf(m),
                          MonthEndOf(m), amount));
  }
  return out;
}

BillingPlan MonthlyPlan(int64_t project_id, int64_t customer_id, absl::CivilMonth start,
                        absl::CivilMonth end, int64_t amount, bool auto_renew = true,
                        int unit = 1) {
  BillingPlan p;
  p.project_id = project_id;
  p.customer_id = customer_id;
  p.timing = Timing::kRecurring;
  p.tax_category = tax::Category::kStandard;
  RecurringTerms t;
  t.interval = Interval::kMonthly;
  t.amount = amount;
  t.start_month = start;
  t.end_month = end;
  t.auto_renew = auto_renew;
  t.renewal_unit_months = auto_renew ? unit : 0;
  p.recurring = t;
  return p;
}

BillingPlan SimplePlan(int64_t project_id, int64_t customer_id, Timing timing,
                       tax::Category category = tax::Category::kStandard) {
  BillingPlan p;
  p.project_id = project_id;
  p.customer_id = customer_id;
  p.timing = timing;
  p.tax_category = category;
  return p;
}

std::vector<int64_t> EntryIds(const std::vector<BillingEntry>& entries) {
  std::vector<int64_t> ids;
  for (const BillingEntry& e : entries) ids.push_back(e.id);
  return ids;
}

class PgBillingStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status migrated = db::Migrate(db_.url(), "billing", ANKEN_BILLING_MIGRATIONS);
    ASSERT_TRUE(migrated.ok()) << migrated;
    db::PoolOptions options;
    options.url = db_.url();
    options.size = 8;
    options.acquire_timeout = absl::Seconds(30);
    pool_ = std::make_unique<db::Pool>(options);
    store_ = std::make_unique<PgBillingStore>(*pool_);
  }

  static absl::Time Deadline() { return absl::Now() + absl::Seconds(60); }

  // A write context one second after the previous one, with a sub-microsecond part the store
  // must truncate.
  WriteContext Ctx(const std::string& method, const std::string& request_id = "",
                   const std::string& hash = "hash-1") {
    now_ += absl::Seconds(1);
    WriteContext ctx;
    ctx.actor = "staff-1";
    ctx.actor_role = "staff";
    ctx.method = Method(method);
    ctx.request_id = request_id;
    ctx.request_hash = hash;
    ctx.now = now_ + absl::Nanoseconds(789);
    ctx.deadline = Deadline();
    return ctx;
  }

  int64_t Scalar(const std::string& sql) {
    pqxx::connection c(db_.url());
    pqxx::nontransaction tx(c);
    return tx.exec1(sql)[0].as<int64_t>();
  }
  int64_t Count(const std::string& table) {
    return Scalar(absl::StrCat("SELECT count(*) FROM billing.", table));
  }
  std::string Text(const std::string& sql) {
    pqxx::connection c(db_.url());
    pqxx::nontransaction tx(c);
    return tx.exec1(sql)[0].as<std::string>();
  }

  BillingPlan Set(const BillingPlan& plan, const std::vector<PlannedEntry>& entries,
                  absl::optional<int64_t> expected_version = absl::nullopt) {
    absl::StatusOr<BillingPlan> set =
        store_->SetPlan(Ctx("SetBillingPlan"), plan, entries, expected_version);
    EXPECT_TRUE(set.ok()) << set.status();
    return set.ok() ? *set : BillingPlan();
  }

  BillingPlan GetPlan(int64_t project_id) {
    absl::StatusOr<BillingPlan> got = store_->GetPlan(project_id, Deadline());
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? *got : BillingPlan();
  }

  BillingEntry GetEntry(int64_t id) {
    absl::StatusOr<BillingEntry> got = store_->GetEntry(id, Deadline());
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? *got : BillingEntry();
  }

  BillingEntry SetStatus(int64_t id, EntryStatus status) {
    absl::StatusOr<BillingEntry> updated =
        store_->UpdateEntry(Ctx("SetEntryStatus"), id, [status](BillingEntry& e, Timing) {
          e.status = status;
          return absl::OkStatus();
        });
    EXPECT_TRUE(updated.ok()) << updated.status();
    return updated.ok() ? *updated : BillingEntry();
  }

  // An invoice of `entries` (as read), priced once per rate with `rounding`.
  static Invoice MakeInvoice(int64_t customer_id, const std::vector<BillingEntry>& entries,
                             absl::CivilDay issue_date,
                             tax::Rounding rounding = tax::Rounding::kFloor) {
    Invoice inv;
    inv.customer_id = customer_id;
    inv.recipient_name = "株式会社テスト";
    inv.issuer_name = "案件商事株式会社";
    inv.issuer_registration_number = kIssuerNumber;
    inv.issue_date = issue_date;
    inv.due_date = issue_date + 30;
    inv.rounding = rounding;
    std::vector<tax::Line> lines;
    for (const BillingEntry& e : entries) {
      InvoiceLine l;
      l.entry_id = e.id;
      l.description = e.description.empty() ? absl::StrCat("entry ", e.id) : e.description;
      l.amount = e.amount;
      l.tax_category = e.tax_category;
      l.revenue_date = e.revenue_date;
      inv.lines.push_back(l);
      lines.push_back({e.amount, e.tax_category});
    }
    absl::StatusOr<tax::Totals> totals = tax::ComputeTotals(lines, rounding);
    absl::StatusOr<std::vector<int64_t>> allocated = tax::AllocateTax(lines, rounding);
    EXPECT_TRUE(totals.ok() && allocated.ok());
    if (totals.ok()) inv.totals = *totals;
    if (allocated.ok()) {
      for (size_t k = 0; k < inv.lines.size(); ++k) inv.lines[k].allocated_tax = (*allocated)[k];
    }
    return inv;
  }

  static std::vector<int64_t> Versions(const std::vector<BillingEntry>& entries) {
    std::vector<int64_t> v;
    for (const BillingEntry& e : entries) v.push_back(e.version);
    return v;
  }

  absl::StatusOr<std::string> Issue(const std::vector<BillingEntry>& entries,
                                    absl::CivilDay issue_date,
                                    const std::string& request_id = "",
                                    tax::Rounding rounding = tax::Rounding::kFloor,
                                    int64_t customer_id = kCustomerA) {
    return store_->IssueInvoice(Ctx("IssueInvoice", request_id),
                                MakeInvoice(customer_id, entries, issue_date, rounding),
                                Versions(entries), EncodeInvoice);
  }

  // A SPLIT plan of `customer` with READY entries of the given amounts.
  std::vector<BillingEntry> ReadyEntriesOf(int64_t project_id, int64_t customer,
                                           const std::vector<int64_t>& amounts,
                                           tax::Category category = tax::Category::kStandard) {
    std::vector<PlannedEntry> planned;
    for (size_t k = 0; k < amounts.size(); ++k) {
      planned.push_back(Planned("", D(2026, 4, 30), D(2026, 4, 1) + static_cast<int>(k),
                                amounts[k], absl::StrCat("作業 ", k + 1)));
    }
    BillingPlan plan = Set(SimplePlan(project_id, customer, Timing::kSplit, category), planned);
    std::vector<BillingEntry> out;
    for (const BillingEntry& e : plan.entries) out.push_back(SetStatus(e.id, EntryStatus::kReady));
    std::sort(out.begin(), out.end(),
              [](const BillingEntry& a, const BillingEntry& b) { return a.id < b.id; });
    return out;
  }

  testing::ScratchDatabase db_{"billing"};
  std::unique_ptr<db::Pool> pool_;
  std::unique_ptr<PgBillingStore> store_;
  absl::Time now_ = absl::FromCivil(absl::CivilSecond(2026, 4, 1, 9, 0, 0), absl::UTCTimeZone());
};

// ---- plans ----

TEST_F(PgBillingStoreTest, SetPlanCreatesThePlanWithItsEntries) {
  const BillingPlan plan = Set(MonthlyPlan(10, kCustomerA, M(2026, 1), M(2026, 3), 10000),
                               MonthlyEntries(M(2026, 1), M(2026, 3), 10000));
  EXPECT_EQ(plan.version, 1);
  EXPECT_EQ(plan.customer_id, kCustomerA);
  EXPECT_EQ(plan.stamp.created_by, "staff-1");
  ASSERT_EQ(plan.entries.size(), 3u);
  EXPECT_TRUE(plan.planned_entries.empty());
  for (const BillingEntry& e : plan.entries) {
    EXPECT_EQ(e.status, EntryStatus::kUnbilled);
    EXPECT_EQ(e.tax, 1000);  // 10% of 10,000, the estimate
    EXPECT_EQ(e.customer_id, kCustomerA);
    EXPECT_EQ(e.version, 1);
  }
  EXPECT_EQ(plan.entries[0].period, "M2026-01");
  EXPECT_EQ(plan.entries[2].billing_date, D(2026, 3, 31));

  const BillingPlan got = GetPlan(10);
  EXPECT_EQ(got.version, 1);
  ASSERT_TRUE(got.recurring.has_value());
  EXPECT_EQ(got.recurring->start_month, M(2026, 1));
  EXPECT_EQ(got.recurring->end_month, M(2026, 3));
  EXPECT_EQ(got.recurring->amount, 10000);
  EXPECT_TRUE(got.recurring->auto_renew);
  EXPECT_EQ(got.recurring->renewal_unit_months, 1);
  EXPECT_EQ(got.stamp.create_time, plan.stamp.create_time);
  EXPECT_EQ(absl::ToUnixNanos(got.stamp.create_time) % 1000, 0);  // truncated to micros
  EXPECT_EQ(EntryIds(got.entries), EntryIds(plan.entries));

  EXPECT_TRUE(IsError(store_->GetPlan(11, Deadline()).status(), absl::StatusCode::kNotFound,
                      "PLAN_NOT_FOUND"));
}

TEST_F(PgBillingStoreTest, ReplanReplacesOnlyUnbilledEntriesAndNeverDuplicatesAPeriod) {
  const BillingPlan first = Set(MonthlyPlan(10, kCustomerA, M(2026, 1), M(2026, 3), 10000),
                                MonthlyEntries(M(2026, 1), M(2026, 3), 10000));
  ASSERT_EQ(first.entries.size(), 3u);
  const int64_t jan = first.entries[0].id, feb = first.entries[1].id, mar = first.entries[2].id;
  SetStatus(jan, EntryStatus::kReady);
  const BillingEntry feb_ready = SetStatus(feb, EntryStatus::kReady);
  ASSERT_TRUE(Issue({feb_ready}, D(2026, 3, 1)).ok());
  ASSERT_EQ(GetEntry(feb).status, EntryStatus::kBilled);

  // The amount goes up and a month is added.
  const BillingPlan second =
      Set(MonthlyPlan(10, kCustomerA, M(2026, 1), M(2026, 4), 12000),
          MonthlyEntries(M(2026, 1), M(2026, 4), 12000), /*expected_version=*/1);
  EXPECT_EQ(second.version, 2);
  ASSERT_EQ(second.entries.size(), 4u);
  std::map<std::string, BillingEntry> by_period;
  for (const BillingEntry& e : second.entries) by_period[e.period] = e;
  ASSERT_EQ(by_period.size(), 4u);  // one entry per period
  // The READY and BILLED entries are untouched.
  EXPECT_EQ(by_period["M2026-01"].id, jan);
  EXPECT_EQ(by_period["M2026-01"].amount, 10000);
  EXPECT_EQ(by_period["M2026-01"].status, EntryStatus::kReady);
  EXPECT_EQ(by_period["M2026-02"].id, feb);
  EXPECT_EQ(by_period["M2026-02"].amount, 10000);
  EXPECT_EQ(by_period["M2026-02"].status, EntryStatus::kBilled);
  // The UNBILLED one is replaced, and the new month is there.
  EXPECT_NE(by_period["M2026-03"].id, mar);
  EXPECT_EQ(by_period["M2026-03"].amount, 12000);
  EXPECT_EQ(by_period["M2026-03"].tax, 1200);
  EXPECT_EQ(by_period["M2026-04"].amount, 12000);
  EXPECT_TRUE(IsError(store_->GetEntry(mar, Deadline()).status(), absl::StatusCode::kNotFound,
                      "ENTRY_NOT_FOUND"));
  EXPECT_EQ(Count("entries"), 4);
  EXPECT_EQ(GetPlan(10).recurring->amount, 12000);
}

TEST_F(PgBillingStoreTest, SetPlanWithAStaleVersionIsAbortedAndWritesNothing) {
  Set(MonthlyPlan(10, kCustomerA, M(2026, 1), M(2026, 2), 10000),
      MonthlyEntries(M(2026, 1), M(2026, 2), 10000));
  Set(MonthlyPlan(10, kCustomerA, M(2026, 1), M(2026, 2), 10000),
      MonthlyEntries(M(2026, 1), M(2026, 2), 10000));  // version 2
  const int64_t audits = Count("audit_events");
  const std::vector<int64_t> ids = EntryIds(GetPlan(10).entries);

  absl::StatusOr<BillingPlan> stale =
      store_->SetPlan(Ctx("SetBillingPlan"), SimplePlan(10, kCustomerA, Timing::kSplit), {},
                      /*expected_version=*/1);
  EXPECT_TRUE(IsError(stale.status(), absl::StatusCode::kAborted, "ETAG_MISMATCH"));
  const BillingPlan after = GetPlan(10);
  EXPECT_EQ(after.version, 2);
  EXPECT_EQ(after.timing, Timing::kRecurring);
  EXPECT_EQ(EntryIds(after.entries), ids);
  EXPECT_EQ(Count("audit_events"), audits);

  // A version on a first plan is not checked: there is nothing to be stale against.
  EXPECT_TRUE(store_
                  ->SetPlan(Ctx("SetBillingPlan"), SimplePlan(20, kCustomerA, Timing::kSplit), {},
                            /*expected_version=*/7)
                  .ok());
}

TEST_F(PgBillingStoreTest, LumpSumAndSplitPlansReadBackTheirPlannedEntries) {
  BillingPlan lump = SimplePlan(30, kCustomerB, Timing::kLumpSum, tax::Category::kReduced);
  const BillingPlan set =
      Set(lump, {Planned("", D(2026, 5, 31), D(2026, 5, 15), 50000, "一括")});
  ASSERT_EQ(set.entries.size(), 1u);
  EXPECT_EQ(set.entries[0].tax, 4000);  // 8%
  EXPECT_EQ(set.entries[0].tax_category, tax::Category::kReduced);
  EXPECT_EQ(set.entries[0].period, "");
  const BillingPlan got = GetPlan(30);
  EXPECT_EQ(got.timing, Timing::kLumpSum);
  EXPECT_EQ(got.tax_category, tax::Category::kReduced);
  EXPECT_FALSE(got.recurring.has_value());
  ASSERT_EQ(got.planned_entries.size(), 1u);
  EXPECT_EQ(got.planned_entries[0].billing_date, D(2026, 5, 31));
  EXPECT_EQ(got.planned_entries[0].revenue_date, D(2026, 5, 15));
  EXPECT_EQ(got.planned_entries[0].amount, 50000);
  EXPECT_EQ(got.planned_entries[0].description, "一括");
}

TEST_F(PgBillingStoreTest, ABrokenPlanIsRefusedByTheSchema) {
  BillingPlan broken = SimplePlan(40, kCustomerA, Timing::kRecurring);  // no terms
  absl::StatusOr<BillingPlan> set = store_->SetPlan(Ctx("SetBillingPlan"), broken, {}, {});
  EXPECT_EQ(set.status().code(), absl::StatusCode::kFailedPrecondition) << set.status();
  EXPECT_EQ(Count("plans"), 0);
  EXPECT_EQ(Count("audit_events"), 0);
}

// ---- entries ----

TEST_F(PgBillingStoreTest, ListEntriesFiltersAndPagesByBillingDateAndIdWithoutGaps) {
  // Two customers, entries sharing billing dates (yearly-split style) so pages split ties.
  std::vector<PlannedEntry> a_entries, b_entries;
  for (int k = 0; k < 12; ++k) {
    const absl::CivilMonth m = M(2026, 1) + k;
    a_entries.push_back(Planned(absl::StrCat("S", absl::FormatCivilTime(m)), D(2026, 1, 31),
                                MonthEndOf(m), 1000 + k));
  }
  for (int k = 0; k < 5; ++k) {
    b_entries.push_back(Planned("", D(2026, 1, 31) + 10 * k, D(2026, 2, 1) + k, 7000));
  }
  BillingPlan a = MonthlyPlan(1, kCustomerA, M(2026, 1), M(2026, 12), 1000);
  a.recurring->interval = Interval::kYearly;
  a.recurring->split_revenue = true;
  a.recurring->renewal_unit_months = 12;
  Set(a, a_entries);
  const BillingPlan b = Set(SimplePlan(2, kCustomerB, Timing::kSplit), b_entries);
  SetStatus(b.entries[1].id, EntryStatus::kReady);
  SetStatus(b.entries[3].id, EntryStatus::kReady);

  // Every entry, in (billing_date, id) order, page by page.
  std::vector<BillingEntry> all;
  EntryPosition pos;
  for (int page = 0; page < 20; ++page) {
    absl::StatusOr<std::vector<BillingEntry>> got =
        store_->ListEntries(EntryFilter(), pos, 5, Deadline());
    ASSERT_TRUE(got.ok()) << got.status();
    if (got->empty()) break;
    all.insert(all.end(), got->begin(), got->end());
    pos.billing_date = got->back().billing_date;
    pos.id = got->back().id;
  }
  ASSERT_EQ(all.size(), 17u);
  const std::vector<int64_t> all_ids = EntryIds(all);
  EXPECT_EQ(std::set<int64_t>(all_ids.begin(), all_ids.end()).size(), 17u);
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end(),
                             [](const BillingEntry& x, const BillingEntry& y) {
                               return std::make_pair(x.billing_date, x.id) <
                                      std::make_pair(y.billing_date, y.id);
                             }));
  EXPECT_LT(all.front().billing_date, all.back().billing_date);

  auto list = [&](EntryFilter f) {
    absl::StatusOr<std::vector<BillingEntry>> got =
        store_->ListEntries(f, EntryPosition(), 100, Deadline());
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? *got : std::vector<BillingEntry>();
  };
  EntryFilter by_customer;
  by_customer.customer_id = kCustomerB;
  EXPECT_EQ(list(by_customer).size(), 5u);
  EntryFilter by_project;
  by_project.project_id = 1;
  EXPECT_EQ(list(by_project).size(), 12u);
  EntryFilter ready;
  ready.customer_id = kCustomerB;
  ready.statuses = {EntryStatus::kReady};
  EXPECT_EQ(EntryIds(list(ready)), (std::vector<int64_t>{b.entries[1].id, b.entries[3].id}));
  EntryFilter billing_range;
  billing_range.billing_from = D(2026, 2, 1);
  billing_range.billing_to = D(2026, 2, 20);  // b's 2026-02-10 and 2026-02-20
  EXPECT_EQ(EntryIds(list(billing_range)),
            (std::vector<int64_t>{b.entries[1].id, b.entries[2].id}));
  EntryFilter revenue_range;
  revenue_range.revenue_from = D(2026, 3, 1);
  revenue_range.revenue_to = D(2026, 5, 31);  // a's March..May
  const std::vector<BillingEntry> spring = list(revenue_range);
  ASSERT_EQ(spring.size(), 3u);
  EXPECT_EQ(spring[0].period, "S2026-03");
  EXPECT_EQ(spring[2].period, "S2026-05");
}

TEST_F(PgBillingStoreTest, AddEntryOnlyToSplitPlansAndReplaysByRequestId) {
  Set(SimplePlan(5, kCustomerA, Timing::kSplit), {});
  Set(SimplePlan(6, kCustomerA, Timing::kLumpSum),
      {Planned("", D(2026, 5, 31), D(2026, 5, 31), 1)});

  const PlannedEntry planned = Planned("ignored", D(2026, 6, 30), D(2026, 6, 15), 33333, "第1回");
  absl::StatusOr<std::string> added =
      store_->AddEntry(Ctx("AddBillingEntry", "add-1"), 5, planned, EncodeEntry);
  ASSERT_TRUE(added.ok()) << added.status();
  const BillingEntry e = GetEntry(IdOf(*added));
  EXPECT_EQ(e.project_id, 5);
  EXPECT_EQ(e.customer_id, kCustomerA);
  EXPECT_EQ(e.amount, 33333);
  EXPECT_EQ(e.tax, 3333);
  EXPECT_EQ(e.period, "");  // split entries have no period
  EXPECT_EQ(e.status, EntryStatus::kUnbilled);
  EXPECT_EQ(e.description, "第1回");

  absl::StatusOr<std::string> replay =
      store_->AddEntry(Ctx("AddBillingEntry", "add-1"), 5, planned, EncodeEntry);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(*replay, *added);
  EXPECT_EQ(Count("entries"), 2);  // the lump sum's and this one

  EXPECT_TRUE(IsError(
      store_->AddEntry(Ctx("AddBillingEntry", "add-2"), 6, planned, EncodeEntry).status(),
      absl::StatusCode::kFailedPrecondition, "NOT_SPLIT_PLAN"));
  EXPECT_TRUE(IsError(
      store_->AddEntry(Ctx("AddBillingEntry", "add-3"), 7, planned, EncodeEntry).status(),
      absl::StatusCode::kNotFound, "PLAN_NOT_FOUND"));
  EXPECT_EQ(Count("entries"), 2);
  // A failed call stores no response: the same request_id runs again.
  absl::StatusOr<absl::optional<std::string>> stored =
      store_->FindReplay(Ctx("AddBillingEntry", "add-2"));
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_FALSE(stored->has_value());
}

TEST_F(PgBillingStoreTest, UpdateEntryReestimatesTaxAndKeepsWhatIsNotTheMutators) {
  const BillingPlan plan = Set(SimplePlan(5, kCustomerA, Timing::kSplit),
                               {Planned("", D(2026, 6, 30), D(2026, 6, 30), 10000)});
  const int64_t id = plan.entries[0].id;

  Timing seen = Timing::kLumpSum;
  absl::StatusOr<BillingEntry> updated =
      store_->UpdateEntry(Ctx("UpdateBillingEntry"), id, [&](BillingEntry& e, Timing timing) {
        seen = timing;
        e.amount = 20005;
        e.tax_category = tax::Category::kReduced;
        e.billing_date = D(2026, 7, 31);
        e.project_id = 999;  // not the mutator's to change
        e.tax = 1;           // nor this
        return absl::OkStatus();
      });
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(seen, Timing::kSplit);
  EXPECT_EQ(updated->version, 2);
  EXPECT_EQ(updated->project_id, 5);
  EXPECT_EQ(updated->tax, 1600);  // floor(20005 × 8%)
  const BillingEntry got = GetEntry(id);
  EXPECT_EQ(got.amount, 20005);
  EXPECT_EQ(got.tax, 1600);
  EXPECT_EQ(got.billing_date, D(2026, 7, 31));
  EXPECT_EQ(got.version, 2);

  // Nothing changed: nothing written.
  const int64_t audits = Count("audit_events");
  absl::StatusOr<BillingEntry> same = store_->UpdateEntry(
      Ctx("UpdateBillingEntry"), id, [](BillingEntry&, Timing) { return absl::OkStatus(); });
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->version, 2);
  EXPECT_EQ(Count("audit_events"), audits);

  // A failing mutator writes nothing.
  absl::StatusOr<BillingEntry> refused =
      store_->UpdateEntry(Ctx("UpdateBillingEntry"), id, [](BillingEntry& e, Timing) {
        e.amount = 1;
        return absl::AbortedError("stale etag");
      });
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(GetEntry(id).amount, 20005);

  // An invoiced entry is frozen, but its status may still move on.
  const BillingEntry ready = SetStatus(id, EntryStatus::kReady);
  ASSERT_TRUE(Issue({ready}, D(2026, 7, 31)).ok());
  EXPECT_TRUE(IsError(store_
                          ->UpdateEntry(Ctx("UpdateBillingEntry"), id,
                                        [](BillingEntry& e, Timing) {
                                          e.amount = 5;
                                          return absl::OkStatus();
                                        })
                          .status(),
                      absl::StatusCode::kFailedPrecondition, "ENTRY_BILLED"));
  const BillingEntry paid = SetStatus(id, EntryStatus::kPaid);
  EXPECT_EQ(paid.status, EntryStatus::kPaid);
  EXPECT_NE(paid.invoice_id, 0);
  // Back to READY while on an invoice breaks the schema's rule.
  EXPECT_EQ(store_
                ->UpdateEntry(Ctx("SetEntryStatus"), id,
                              [](BillingEntry& e, Timing) {
                                e.status = EntryStatus::kReady;
                                return absl::OkStatus();
                              })
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(IsError(store_
                          ->UpdateEntry(Ctx("UpdateBillingEntry"), 123456,
                                        [](BillingEntry&, Timing) { return absl::OkStatus(); })
                          .status(),
                      absl::StatusCode::kNotFound, "ENTRY_NOT_FOUND"));
}

TEST_F(PgBillingStoreTest, RemoveEntryOnlyUnbilledEntriesOfSplitPlans) {
  const BillingPlan split = Set(SimplePlan(5, kCustomerA, Timing::kSplit),
                                {Planned("", D(2026, 6, 30), D(2026, 6, 30), 100),
                                 Planned("", D(2026, 7, 31), D(2026, 7, 31), 200)});
  const BillingPlan monthly = Set(MonthlyPlan(6, kCustomerA, M(2026, 1), M(2026, 1), 10000),
                                  MonthlyEntries(M(2026, 1), M(2026, 1), 10000));
  const int64_t first = split.entries[0].id, second = split.entries[1].id;

  EXPECT_TRUE(IsError(store_->RemoveEntry(Ctx("RemoveBillingEntry"), first, 5),
                      absl::StatusCode::kAborted, "ETAG_MISMATCH"));
  EXPECT_TRUE(IsError(store_->RemoveEntry(Ctx("RemoveBillingEntry"), monthly.entries[0].id, {}),
                      absl::StatusCode::kFailedPrecondition, "NOT_SPLIT_PLAN"));
  SetStatus(second, EntryStatus::kReady);
  EXPECT_TRUE(IsError(store_->RemoveEntry(Ctx("RemoveBillingEntry"), second, {}),
                      absl::StatusCode::kFailedPrecondition, "ENTRY_NOT_UNBILLED"));
  EXPECT_TRUE(IsError(store_->RemoveEntry(Ctx("RemoveBillingEntry"), 98765, {}),
                      absl::StatusCode::kNotFound, "ENTRY_NOT_FOUND"));
  EXPECT_EQ(Count("entries"), 3);

  ASSERT_TRUE(store_->RemoveEntry(Ctx("RemoveBillingEntry"), first, 1).ok());
  EXPECT_EQ(Count("entries"), 2);
  EXPECT_TRUE(IsError(store_->GetEntry(first, Deadline()).status(), absl::StatusCode::kNotFound,
                      "ENTRY_NOT_FOUND"));
  EXPECT_EQ(Text("SELECT resource_id FROM billing.audit_events ORDER BY id DESC LIMIT 1"),
            absl::StrCat("plans/5/entries/", first));
}

TEST_F(PgBillingStoreTest, SalesSummarySumsPerRevenueMonthAndCategory) {
  Set(SimplePlan(5, kCustomerA, Timing::kSplit),
      {Planned("", D(2026, 1, 31), D(2026, 1, 10), 1000),
       Planned("", D(2026, 1, 31), D(2026, 1, 31), 2000),
       Planned("", D(2026, 2, 28), D(2026, 2, 1), 4000),
       Planned("", D(2026, 5, 31), D(2026, 5, 1), 8000)});  // outside the range
  const BillingPlan reduced =
      Set(SimplePlan(6, kCustomerA, Timing::kSplit, tax::Category::kReduced),
          {Planned("", D(2026, 1, 31), D(2026, 1, 20), 300)});
  const BillingEntry ready = SetStatus(reduced.entries[0].id, EntryStatus::kReady);
  ASSERT_TRUE(Issue({ready}, D(2026, 2, 1)).ok());

  absl::StatusOr<std::vector<SalesMonthTotal>> got =
      store_->SalesSummary(M(2026, 1), M(2026, 3), Deadline());
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[0].month, M(2026, 1));
  EXPECT_EQ((*got)[0].category, tax::Category::kStandard);
  EXPECT_EQ((*got)[0].amount, 3000);
  EXPECT_EQ((*got)[0].invoiced_amount, 0);
  EXPECT_EQ((*got)[1].month, M(2026, 1));
  EXPECT_EQ((*got)[1].category, tax::Category::kReduced);
  EXPECT_EQ((*got)[1].amount, 300);
  EXPECT_EQ((*got)[1].invoiced_amount, 300);
  EXPECT_EQ((*got)[2].month, M(2026, 2));
  EXPECT_EQ((*got)[2].amount, 4000);
}

// ---- renewal ----

TEST_F(PgBillingStoreTest, RenewalCandidatesAreAutoRenewingRecurringPlansThatEnded) {
  Set(MonthlyPlan(1, kCustomerA, M(2019, 6), M(2019, 6), 1000),
      MonthlyEntries(M(2019, 6), M(2019, 6), 1000));
  Set(MonthlyPlan(2, kCustomerA, M(2019, 6), M(2019, 7), 1000),
      MonthlyEntries(M(2019, 6), M(2019, 7), 1000));
  Set(MonthlyPlan(3, kCustomerA, M(2019, 1), M(2019, 1), 1000, /*auto_renew=*/false),
      MonthlyEntries(M(2019, 1), M(2019, 1), 1000));
  Set(SimplePlan(4, kCustomerA, Timing::kSplit), {});
  absl::StatusOr<std::vector<BillingPlan>> due = store_->RenewalCandidates(M(2019, 7), Deadline());
  ASSERT_TRUE(due.ok()) << due.status();
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].project_id, 1);
  EXPECT_EQ((*due)[0].recurring->end_month, M(2019, 6));
  absl::StatusOr<std::vector<BillingPlan>> later =
      store_->RenewalCandidates(M(2019, 8), Deadline());
  ASSERT_TRUE(later.ok());
  ASSERT_EQ(later->size(), 2u);
  EXPECT_EQ((*later)[1].project_id, 2);
}

TEST_F(PgBillingStoreTest, ApplyRenewalAppliesOnceAndResolvesTheOpenFailure) {
  Set(MonthlyPlan(1, kCustomerA, M(2019, 6), M(2019, 6), 5000),
      MonthlyEntries(M(2019, 6), M(2019, 6), 5000));
  absl::StatusOr<int64_t> run = store_->StartRenewalRun(Ctx("RunRenewals"), D(2019, 7, 1));
  ASSERT_TRUE(run.ok()) << run.status();
  RenewalFailure failure;
  failure.project_id = 1;
  failure.code = "PROJECT_UNAVAILABLE";
  failure.reason = "project service down";
  failure.as_of = D(2019, 7, 1);
  ASSERT_TRUE(store_->RecordRenewalFailure(Ctx("RunRenewals"), *run, failure).ok());

  PlanRenewal renewal;
  renewal.project_id = 1;
  renewal.old_end_month = M(2019, 6);
  renewal.new_end_month = M(2019, 7);
  renewal.entries = MonthlyEntries(M(2019, 7), M(2019, 7), 5000);
  absl::StatusOr<bool> applied = store_->ApplyRenewal(Ctx("RunRenewals"), *run, renewal);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_TRUE(*applied);
  BillingPlan plan = GetPlan(1);
  EXPECT_EQ(plan.recurring->end_month, M(2019, 7));
  EXPECT_EQ(plan.version, 2);
  ASSERT_EQ(plan.entries.size(), 2u);
  EXPECT_EQ(plan.entries[1].period, "M2019-07");
  EXPECT_EQ(plan.entries[1].billing_date, D(2019, 7, 31));
  EXPECT_EQ(plan.entries[1].tax, 500);
  EXPECT_EQ(Scalar("SELECT count(*) FROM billing.renewal_failures WHERE NOT resolved"), 0);

  // The same renewal again (a second run of the day): nothing at all is written.
  const int64_t audits = Count("audit_events");
  applied = store_->ApplyRenewal(Ctx("RunRenewals"), *run, renewal);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_FALSE(*applied);
  EXPECT_EQ(Count("entries"), 2);
  EXPECT_EQ(Count("audit_events"), audits);
  EXPECT_EQ(GetPlan(1).version, 2);

  // The next month's run renews from the new end.
  renewal.old_end_month = M(2019, 7);
  renewal.new_end_month = M(2019, 8);
  renewal.entries = MonthlyEntries(M(2019, 8), M(2019, 8), 5000);
  applied = store_->ApplyRenewal(Ctx("RunRenewals"), *run, renewal);
  ASSERT_TRUE(applied.ok() && *applied);
  EXPECT_EQ(GetPlan(1).recurring->end_month, M(2019, 8));
  EXPECT_EQ(Count("entries"), 3);

  PlanRenewal unknown = renewal;
  unknown.project_id = 77;
  EXPECT_TRUE(IsError(store_->ApplyRenewal(Ctx("RunRenewals"), *run, unknown).status(),
                      absl::StatusCode::kNotFound, "PLAN_NOT_FOUND"));
}

TEST_F(PgBillingStoreTest, ApplyRenewalsWritesWhatApplyRenewalWouldForEachPlanOfTheBatch) {
  // Plans 1 and 2 renew alike, one by one and in a batch: the rows and audit events must be
  // the same. Plan 3 of the batch was renewed meanwhile, plan 4 has an open failure.
  for (int p = 1; p <= 4; ++p) {
    Set(MonthlyPlan(p, kCustomerA, M(2019, 6), M(2019, 6), 1000 * p),
        MonthlyEntries(M(2019, 6), M(2019, 6), 1000 * p));
  }
  absl::StatusOr<int64_t> run = store_->StartRenewalRun(Ctx("RunRenewals"), D(2019, 9, 1));
  ASSERT_TRUE(run.ok()) << run.status();
  RenewalFailure failure;
  failure.project_id = 4;
  failure.code = "RENEWAL_FAILED";
  failure.reason = "earlier";
  failure.as_of = D(2019, 8, 1);
  ASSERT_TRUE(store_->RecordRenewalFailure(Ctx("RunRenewals"), *run, failure).ok());
  auto renewal = [](int64_t p, absl::CivilMonth old_end) {
    PlanRenewal r;
    r.project_id = p;
    r.old_end_month = old_end;
    r.new_end_month = M(2019, 8);
    r.entries = MonthlyEntries(old_end + 1, M(2019, 8), 1000 * p);
    return r;
  };
  absl::StatusOr<bool> one = store_->ApplyRenewal(Ctx("RunRenewals"), *run, renewal(1, M(2019, 6)));
  ASSERT_TRUE(one.ok() && *one) << one.status();
  const std::string one_audit = Text(
      "SELECT change_json::text FROM billing.audit_events WHERE resource_id = 'plans/1' "
      "ORDER BY id DESC LIMIT 1");

  // The batch in another order than the plans' ids; plan 3's renewal was computed from an
  // end that is no longer its end.
  absl::StatusOr<std::vector<bool>> batch = store_->ApplyRenewals(
      Ctx("RunRenewals"), *run,
      {renewal(4, M(2019, 6)), renewal(2, M(2019, 6)), renewal(3, M(2019, 5))});
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_EQ(*batch, (std::vector<bool>{true, true, false}));
  for (int p : {2, 4}) {
    const BillingPlan plan = GetPlan(p);
    EXPECT_EQ(plan.recurring->end_month, M(2019, 8)) << p;
    EXPECT_EQ(plan.version, 2) << p;
    ASSERT_EQ(plan.entries.size(), 3u) << p;
    EXPECT_EQ(plan.entries[1].period, "M2019-07");
    EXPECT_EQ(plan.entries[2].period, "M2019-08");
    EXPECT_EQ(plan.entries[2].tax, 100 * p);
    EXPECT_EQ(plan.entries[2].status, EntryStatus::kUnbilled);
    EXPECT_LT(plan.entries[1].id, plan.entries[2].id);
  }
  EXPECT_EQ(GetPlan(3).version, 1);
  EXPECT_EQ(GetPlan(3).entries.size(), 1u);
  EXPECT_EQ(Scalar("SELECT count(*) FROM billing.renewal_failures WHERE NOT resolved"), 0);
  // Plan 2's audit event reads as plan 1's, but for its own entries; plan 4's also names the
  // failure resolved; plan 3 has none.
  const std::vector<int64_t> two = {GetPlan(2).entries[1].id, GetPlan(2).entries[2].id};
  const std::vector<int64_t> first = {GetPlan(1).entries[1].id, GetPlan(1).entries[2].id};
  std::string expected = one_audit;
  expected.replace(expected.find(absl::StrCat(first[0], ", ", first[1])),
                   absl::StrCat(first[0], ", ", first[1]).size(),
                   absl::StrCat(two[0], ", ", two[1]));
  EXPECT_EQ(Text("SELECT change_json::text FROM billing.audit_events WHERE resource_id = "
                 "'plans/2' ORDER BY id DESC LIMIT 1"),
            expected);
  EXPECT_NE(Text("SELECT change_json::text FROM billing.audit_events WHERE resource_id = "
                 "'plans/4' ORDER BY id DESC LIMIT 1")
                .find("renewal_failures.resolved"),
            std::string::npos);
  EXPECT_EQ(Scalar("SELECT count(*) FROM billing.audit_events WHERE resource_id = 'plans/3' "
                   "AND resource_type = 'plan' AND change_json ? 'renewal_run_id'"),
            0);

  // Again: renewed already, nothing is written.
  const int64_t entries = Count("entries"), audits = Count("audit_events");
  batch = store_->ApplyRenewals(Ctx("RunRenewals"), *run,
                                {renewal(2, M(2019, 6)), renewal(4, M(2019, 6))});
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_EQ(*batch, (std::vector<bool>{false, false}));
  EXPECT_EQ(Count("entries"), entries);
  EXPECT_EQ(Count("audit_events"), audits);

  // A plan that is gone fails the whole batch, which writes nothing; a plan named twice is
  // refused.
  EXPECT_TRUE(IsError(store_->ApplyRenewals(Ctx("RunRenewals"), *run,
                                            {renewal(3, M(2019, 6)), renewal(77, M(2019, 6))})
                          .status(),
                      absl::StatusCode::kNotFound, "PLAN_NOT_FOUND"));
  EXPECT_EQ(GetPlan(3).version, 1);
  EXPECT_EQ(Count("entries"), entries);
  EXPECT_EQ(Count("audit_events"), audits);
  EXPECT_EQ(store_->ApplyRenewals(Ctx("RunRenewals"), *run,
                                  {renewal(3, M(2019, 6)), renewal(3, M(2019, 6))})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetPlan(3).version, 1);
}

TEST_F(PgBillingStoreTest, ConcurrentRenewalsLeaveExactlyOneEntryPerPeriod) {
  constexpr int kPlans = 25;
  constexpr int kThreads = 20;
  std::vector<PlanRenewal> renewals;
  for (int p = 1; p <= kPlans; ++p) {
    Set(MonthlyPlan(p, kCustomerA, M(2019, 6), M(2019, 6), 1000 + p),
        MonthlyEntries(M(2019, 6), M(2019, 6), 1000 + p));
    PlanRenewal r;
    r.project_id = p;
    r.old_end_month = M(2019, 6);
    r.new_end_month = M(2019, 8);  // two missed months caught up at once
    r.entries = MonthlyEntries(M(2019, 7), M(2019, 8), 1000 + p);
    renewals.push_back(r);
  }
  absl::StatusOr<int64_t> run = store_->StartRenewalRun(Ctx("RunRenewals"), D(2019, 9, 1));
  ASSERT_TRUE(run.ok());
  std::vector<WriteContext> contexts;
  for (int t = 0; t < kThreads; ++t) contexts.push_back(Ctx("RunRenewals"));

  std::atomic<int> applied{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<PlanRenewal> mine = renewals;
      std::shuffle(mine.begin(), mine.end(), std::mt19937(t));
      for (const PlanRenewal& r : mine) {
        absl::StatusOr<bool> done = store_->ApplyRenewal(contexts[t], *run, r);
        if (!done.ok()) {
          ++failed;
        } else if (*done) {
          ++applied;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(applied.load(), kPlans);  // each plan renewed by exactly one thread
  EXPECT_EQ(Count("entries"), kPlans * 3);
  EXPECT_EQ(Scalar("SELECT count(*) FROM (SELECT project_id, period FROM billing.entries "
                   "GROUP BY 1, 2 HAVING count(*) > 1) d"),
            0);
  EXPECT_EQ(Scalar("SELECT count(*) FROM billing.plans WHERE end_month = DATE '2019-08-01' "
                   "AND version = 2"),
            kPlans);
}

TEST_F(PgBillingStoreTest, FailuresAreListedNewestFirstOnePerPlanAndResolved) {
  for (int p = 1; p <= 3; ++p) {
    Set(MonthlyPlan(p, kCustomerA, M(2019, 6), M(2019, 6), 1000),
        MonthlyEntries(M(2019, 6), M(2019, 6), 1000));
  }
  absl::StatusOr<int64_t> run1 = store_->StartRenewalRun(Ctx("RunRenewals"), D(2019, 7, 1));
  ASSERT_TRUE(run1.ok());
  auto fail = [&](int64_t run, int64_t project, const std::string& code, absl::CivilDay as_of) {
    RenewalFailure f;
    f.project_id = project;
    f.code = code;
    f.reason = absl::StrCat("reason ", code);
    f.as_of = as_of;
    ASSERT_TRUE(store_->RecordRenewalFailure(Ctx("RunRenewals"), run, f).ok());
  };
  fail(*run1, 1, "A", D(2019, 7, 1));
  fail(*run1, 2, "B", D(2019, 7, 1));
  absl::StatusOr<int64_t> run2 = store_->StartRenewalRun(Ctx("RunRenewals"), D(2019, 7, 2));
  ASSERT_TRUE(run2.ok());
  fail(*run2, 1, "C", D(2019, 7, 2));  // plan 1 fails again: its open failure is updated
  fail(*run2, 3, "D", D(2019, 7, 2));
  EXPECT_EQ(Count("renewal_failures"), 3);

  auto list = [&](bool include_resolved, int64_t before, int limit) {
    absl::StatusOr<std::vector<std::pair<int64_t, RenewalFailure>>> got =
        store_->ListRenewalFailures(include_resolved, before, limit, Deadline());
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? *got : std::vector<std::pair<int64_t, RenewalFailure>>();
  };
  std::vector<std::pair<int64_t, RenewalFailure>> open = list(false, 0, 10);
  ASSERT_EQ(open.size(), 3u);
  EXPECT_EQ(open[0].second.project_id, 3);
  EXPECT_EQ(open[2].second.project_id, 1);
  EXPECT_EQ(open[2].second.code, "C");
  EXPECT_EQ(open[2].second.reason, "reason C");
  EXPECT_EQ(open[2].second.as_of, D(2019, 7, 2));
  EXPECT_GT(open[0].first, open[1].first);
  // Paging by id.
  std::vector<std::pair<int64_t, RenewalFailure>> page = list(false, open[0].first, 1);
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].first, open[1].first);

  PlanRenewal renewal;
  renewal.project_id = 2;
  renewal.old_end_month = M(2019, 6);
  renewal.new_end_month = M(2019, 7);
  renewal.entries = MonthlyEntries(M(2019, 7), M(2019, 7), 1000);
  ASSERT_TRUE(*store_->ApplyRenewal(Ctx("RunRenewals"), *run2, renewal));
  open = list(false, 0, 10);
  ASSERT_EQ(open.size(), 2u);
  EXPECT_EQ(open[0].second.project_id, 3);
  EXPECT_EQ(open[1].second.project_id, 1);
  EXPECT_EQ(list(true, 0, 10).size(), 3u);
}

TEST_F(PgBillingStoreTest, FinishRenewalRunKeepsTheFirstResponseAndFindReplayReadsIt) {
  WriteContext ctx = Ctx("RunRenewals", "renewals-2019-07-01", "hash-run");
  absl::StatusOr<absl::optional<std::string>> none = store_->FindReplay(ctx);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_value());

  absl::StatusOr<int64_t> run = store_->StartRenewalRun(ctx, D(2019, 7, 1));
  ASSERT_TRUE(run.ok());
  absl::StatusOr<std::string> first = store_->FinishRenewalRun(ctx, *run, "first-bytes");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, "first-bytes");
  absl::StatusOr<std::string> second = store_->FinishRenewalRun(ctx, *run, "second-bytes");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(*second, "first-bytes");

  absl::StatusOr<absl::optional<std::string>> replay = store_->FindReplay(ctx);
  ASSERT_TRUE(replay.ok());
  ASSERT_TRUE(replay->has_value());
  EXPECT_EQ(**replay, "first-bytes");
  WriteContext other = ctx;
  other.request_hash = "hash-other";
  EXPECT_TRUE(IsError(store_->FindReplay(other).status(), absl::StatusCode::kInvalidArgument,
                      "REQUEST_ID_REUSED"));
  EXPECT_EQ(Count("renewal_runs"), 1);
}

// ---- invoices ----

TEST_F(PgBillingStoreTest, IssueInvoiceNumbersGaplesslyPerYearAndBillsTheEntries) {
  // DESIGN.md's example: three 10% lines of 1,005 yen: tax 301 once per rate, not 300.
  const std::vector<BillingEntry> entries = ReadyEntriesOf(5, kCustomerA, {1005, 1005, 1005});
  absl::StatusOr<std::string> bytes = Issue(entries, D(2026, 4, 30));
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(NumberOf(*bytes), "2026-000001");
  absl::StatusOr<Invoice> inv = store_->GetInvoice(IdOf(*bytes), Deadline());
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->number, "2026-000001");
  EXPECT_EQ(inv->status, InvoiceStatus::kIssued);
  EXPECT_EQ(inv->totals.subtotal, 3015);
  EXPECT_EQ(inv->totals.tax, 301);
  EXPECT_EQ(inv->totals.total, 3316);
  ASSERT_EQ(inv->totals.per_rate.size(), 1u);
  EXPECT_EQ(inv->totals.per_rate[0].taxable, 3015);
  EXPECT_EQ(inv->totals.per_rate[0].tax, 301);
  EXPECT_EQ(inv->rounding, tax::Rounding::kFloor);
  EXPECT_EQ(inv->issuer_registration_number, kIssuerNumber);
  EXPECT_EQ(inv->recipient_name, "株式会社テスト");
  EXPECT_EQ(inv->due_date, D(2026, 5, 30));
  EXPECT_EQ(inv->version, 1);
  EXPECT_FALSE(inv->cancel_time.has_value());
  ASSERT_EQ(inv->lines.size(), 3u);
  EXPECT_EQ(inv->lines[0].entry_id, entries[0].id);
  EXPECT_EQ(inv->lines[0].description, "作業 1");
  EXPECT_EQ(inv->lines[2].revenue_date, entries[2].revenue_date);

  // Entries are BILLED with their allocated tax, which sums to the invoice's.
  int64_t allocated = 0;
  for (size_t k = 0; k < entries.size(); ++k) {
    const BillingEntry e = GetEntry(entries[k].id);
    EXPECT_EQ(e.status, EntryStatus::kBilled);
    EXPECT_EQ(e.invoice_id, inv->id);
    EXPECT_EQ(e.tax, inv->lines[k].allocated_tax);
    EXPECT_EQ(e.version, entries[k].version + 1);
    allocated += e.tax;
  }
  EXPECT_EQ(allocated, 301);
  EXPECT_EQ(GetEntry(entries[2].id).tax, 101);  // the remainder goes to the last

  // Half-up rounding on the same amounts: 302.
  const std::vector<BillingEntry> more = ReadyEntriesOf(6, kCustomerA, {1005, 1005, 1005});
  absl::StatusOr<std::string> half_up =
      Issue(more, D(2026, 5, 1), "", tax::Rounding::kHalfUp);
  ASSERT_TRUE(half_up.ok()) << half_up.status();
  EXPECT_EQ(NumberOf(*half_up), "2026-000002");
  absl::StatusOr<Invoice> second = store_->GetInvoice(IdOf(*half_up), Deadline());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->totals.tax, 302);
  EXPECT_EQ(second->rounding, tax::Rounding::kHalfUp);

  // A new year starts again at 1.
  const std::vector<BillingEntry> next_year = ReadyEntriesOf(7, kCustomerA, {500});
  absl::StatusOr<std::string> january = Issue(next_year, D(2027, 1, 4));
  ASSERT_TRUE(january.ok()) << january.status();
  EXPECT_EQ(NumberOf(*january), "2027-000001");

  EXPECT_TRUE(IsError(store_->GetInvoice(4242, Deadline()).status(), absl::StatusCode::kNotFound,
                      "INVOICE_NOT_FOUND"));
}

// The issuer's address and bank account are written with the invoice and read back as
// written: a value (even "") is a value, nullopt is NULL (an invoice from before V003).
TEST_F(PgBillingStoreTest, IssueInvoiceStoresTheIssuersAddressAndBankAccount) {
  const std::vector<BillingEntry> first = ReadyEntriesOf(5, kCustomerA, {1000});
  const std::vector<BillingEntry> second = ReadyEntriesOf(6, kCustomerA, {2000});
  Invoice with = MakeInvoice(kCustomerA, first, D(2026, 4, 30));
  with.issuer_address = "東京都千代田区丸の内1-1-1";
  with.issuer_bank_account = "";
  absl::StatusOr<std::string> a =
      store_->IssueInvoice(Ctx("IssueInvoice", ""), with, Versions(first), EncodeInvoice);
  ASSERT_TRUE(a.ok()) << a.status();
  const Invoice without = MakeInvoice(kCustomerA, second, D(2026, 4, 30));
  absl::StatusOr<std::string> b =
      store_->IssueInvoice(Ctx("IssueInvoice", ""), without, Versions(second), EncodeInvoice);
  ASSERT_TRUE(b.ok()) << b.status();

  absl::StatusOr<Invoice> got_a = store_->GetInvoice(IdOf(*a), Deadline());
  ASSERT_TRUE(got_a.ok()) << got_a.status();
  EXPECT_EQ(got_a->issuer_address, absl::optional<std::string>("東京都千代田区丸の内1-1-1"));
  EXPECT_EQ(got_a->issuer_bank_account, absl::optional<std::string>(""));
  absl::StatusOr<Invoice> got_b = store_->GetInvoice(IdOf(*b), Deadline());
  ASSERT_TRUE(got_b.ok()) << got_b.status();
  EXPECT_FALSE(got_b->issuer_address.has_value());
  EXPECT_FALSE(got_b->issuer_bank_account.has_value());
  EXPECT_EQ(Scalar(absl::StrCat("SELECT count(*) FROM billing.invoices WHERE id = ", IdOf(*b),
                                " AND issuer_address IS NULL AND issuer_bank_account IS NULL")),
            1);
}

TEST_F(PgBillingStoreTest, IssueInvoiceReplaysIdenticalBytesWithoutTakingANumber) {
  const std::vector<BillingEntry> entries = ReadyEntriesOf(5, kCustomerA, {1000, 2000});
  absl::StatusOr<std::string> first = Issue(entries, D(2026, 4, 30), "issue-1");
  ASSERT_TRUE(first.ok()) << first.status();
  // The retry carries the versions as first read; the entries are BILLED by now.
  absl::StatusOr<std::string> replay = Issue(entries, D(2026, 4, 30), "issue-1");
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(*replay, *first);
  EXPECT_EQ(Count("invoices"), 1);
  EXPECT_EQ(Count("invoice_lines"), 2);

  const std::vector<BillingEntry> more = ReadyEntriesOf(6, kCustomerA, {3000});
  absl::StatusOr<std::string> next = Issue(more, D(2026, 4, 30), "issue-2");
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(NumberOf(*next), "2026-000002");
}

TEST_F(PgBillingStoreTest, IssueInvoiceWithAChangedEntryIsAbortedAndWritesNothing) {
  std::vector<BillingEntry> entries = ReadyEntriesOf(5, kCustomerA, {1000, 2000, 3000});
  // Someone edits the second entry after it was read.
  ASSERT_TRUE(store_
                  ->UpdateEntry(Ctx("UpdateBillingEntry"), entries[1].id,
                                [](BillingEntry& e, Timing) {
                                  e.description = "changed";
                                  return absl::OkStatus();
                                })
                  .ok());
  const int64_t audits = Count("audit_events");
  EXPECT_TRUE(IsError(Issue(entries, D(2026, 4, 30), "issue-x").status(),
                      absl::StatusCode::kAborted, "ENTRIES_CHANGED"));
  EXPECT_EQ(Count("invoices"), 0);
  EXPECT_EQ(Count("invoice_lines"), 0);
  EXPECT_EQ(Count("invoice_rate_totals"), 0);
  EXPECT_EQ(Count("invoice_counters"), 0);
  EXPECT_EQ(Count("audit_events"), audits);
  EXPECT_EQ(Scalar("SELECT count(*) FROM billing.entries WHERE status = 2"), 3);

  // An entry of another customer, or one that is not READY, is refused the same way.
  const std::vector<BillingEntry> other = ReadyEntriesOf(6, kCustomerB, {700});
  EXPECT_TRUE(IsError(Issue({entries[0], other[0]}, D(2026, 4, 30)).status(),
                      absl::StatusCode::kAborted, "ENTRIES_CHANGED"));
  const BillingEntry back = SetStatus(entries[2].id, EntryStatus::kUnbilled);
  EXPECT_TRUE(IsError(Issue({back}, D(2026, 4, 30)).status(), absl::StatusCode::kAborted,
                      "ENTRIES_CHANGED"));
  EXPECT_EQ(Count("invoices"), 0);

  // Read again, the issue succeeds, and takes number 1: the refusals used none.
  absl::StatusOr<std::string> ok = Issue({GetEntry(entries[0].id), GetEntry(entries[1].id)},
                                         D(2026, 4, 30), "issue-x");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(NumberOf(*ok), "2026-000001");
}

TEST_F(PgBillingStoreTest, ConcurrentIssuesGetDistinctGaplessNumbers) {
  constexpr int kInvoices = 12;
  std::vector<std::vector<BillingEntry>> batches;
  for (int k = 0; k < kInvoices; ++k)
    batches.push_back(ReadyEntriesOf(100 + k, kCustomerA, {1000}));
  std::vector<WriteContext> contexts;
  for (int k = 0; k < kInvoices; ++k) contexts.push_back(Ctx("IssueInvoice"));
  std::vector<std::string> numbers(kInvoices);
  std::vector<std::thread> threads;
  for (int k = 0; k < kInvoices; ++k) {
    threads.emplace_back([&, k] {
      absl::StatusOr<std::string> bytes = store_->IssueInvoice(
          contexts[k], MakeInvoice(kCustomerA, batches[k], D(2026, 6, 1)), Versions(batches[k]),
          EncodeInvoice);
      if (bytes.ok()) numbers[k] = NumberOf(*bytes);
    });
  }
  for (std::thread& t : threads) t.join();
  std::set<std::string> distinct(numbers.begin(), numbers.end());
  std::set<std::string> expected;
  for (int k = 1; k <= kInvoices; ++k) expected.insert(absl::StrFormat("2026-%06d", k));
  EXPECT_EQ(distinct, expected);
}

TEST_F(PgBillingStoreTest, CancelInvoiceReturnsEntriesToReadyAndKeepsTheInvoice) {
  const std::vector<BillingEntry> entries = ReadyEntriesOf(5, kCustomerA, {1005, 1005, 1005});
  absl::StatusOr<std::string> bytes = Issue(entries, D(2026, 4, 30));
  ASSERT_TRUE(bytes.ok());
  const int64_t id = IdOf(*bytes);

  absl::StatusOr<Invoice> cancelled =
      store_->CancelInvoice(Ctx("CancelInvoice"), id, [](Invoice& inv) {
        inv.status = InvoiceStatus::kCancelled;
        inv.cancel_reason = "宛名誤り";
        inv.totals.tax = 0;  // not the mutator's to change
        return absl::OkStatus();
      });
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->status, InvoiceStatus::kCancelled);
  EXPECT_EQ(cancelled->version, 2);
  ASSERT_TRUE(cancelled->cancel_time.has_value());

  absl::StatusOr<Invoice> got = store_->GetInvoice(id, Deadline());
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, InvoiceStatus::kCancelled);
  EXPECT_EQ(got->cancel_reason, "宛名誤り");
  EXPECT_EQ(got->cancel_time, cancelled->cancel_time);
  EXPECT_EQ(got->totals.tax, 301);
  EXPECT_EQ(got->lines.size(), 3u);
  EXPECT_EQ(got->number, "2026-000001");

  for (const BillingEntry& before : entries) {
    const BillingEntry e = GetEntry(before.id);
    EXPECT_EQ(e.status, EntryStatus::kReady);
    EXPECT_EQ(e.invoice_id, 0);
    EXPECT_EQ(e.tax, 100);  // the estimate again
  }

  // Cancelling twice is refused.
  EXPECT_TRUE(IsError(store_
                          ->CancelInvoice(Ctx("CancelInvoice"), id,
                                          [](Invoice& inv) {
                                            inv.status = InvoiceStatus::kCancelled;
                                            return absl::OkStatus();
                                          })
                          .status(),
                      absl::StatusCode::kFailedPrecondition, "INVOICE_CANCELLED"));

  // The entries are billable again: the next invoice takes the next number.
  std::vector<BillingEntry> again;
  for (const BillingEntry& e : entries) again.push_back(GetEntry(e.id));
  absl::StatusOr<std::string> reissued = Issue(again, D(2026, 5, 1));
  ASSERT_TRUE(reissued.ok()) << reissued.status();
  EXPECT_EQ(NumberOf(*reissued), "2026-000002");
  EXPECT_EQ(GetEntry(entries[0].id).invoice_id, IdOf(*reissued));
}

TEST_F(PgBillingStoreTest, CancelInvoiceIsRefusedWhenAnEntryIsPaid) {
  const std::vector<BillingEntry> entries = ReadyEntriesOf(5, kCustomerA, {1000, 2000});
  absl::StatusOr<std::string> bytes = Issue(entries, D(2026, 4, 30));
  ASSERT_TRUE(bytes.ok());
  const int64_t id = IdOf(*bytes);
  const auto cancel = [](Invoice& inv) {
    inv.status = InvoiceStatus::kCancelled;
    inv.cancel_reason = "x";
    return absl::OkStatus();
  };
  // A mutator that does not cancel is a bug of the caller.
  EXPECT_EQ(
      store_->CancelInvoice(Ctx("CancelInvoice"), id, [](Invoice&) { return absl::OkStatus(); })
          .status()
          .code(),
      absl::StatusCode::kInternal);
  SetStatus(entries[1].id, EntryStatus::kPaid);
  EXPECT_TRUE(IsError(store_->CancelInvoice(Ctx("CancelInvoice"), id, cancel).status(),
                      absl::StatusCode::kFailedPrecondition, "INVOICE_PAID"));
  absl::StatusOr<Invoice> got = store_->GetInvoice(id, Deadline());
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, InvoiceStatus::kIssued);
  EXPECT_EQ(GetEntry(entries[0].id).status, EntryStatus::kBilled);
  EXPECT_TRUE(IsError(store_->CancelInvoice(Ctx("CancelInvoice"), 999, cancel).status(),
                      absl::StatusCode::kNotFound, "INVOICE_NOT_FOUND"));
}

TEST_F(PgBillingStoreTest, ReadyEntriesAndListInvoicesFilter) {
  const std::vector<BillingEntry> a = ReadyEntriesOf(5, kCustomerA, {100, 200, 300});
  const std::vector<BillingEntry> b = ReadyEntriesOf(6, kCustomerB, {400});
  absl::StatusOr<std::vector<BillingEntry>> ready =
      store_->ReadyEntries(kCustomerA, {}, Deadline());
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(ready->size(), 3u);
  ready = store_->ReadyEntries(kCustomerA, {a[1].id, b[0].id}, Deadline());
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(EntryIds(*ready), std::vector<int64_t>{a[1].id});

  ASSERT_TRUE(Issue({a[0]}, D(2026, 4, 1)).ok());
  ASSERT_TRUE(Issue({a[1]}, D(2026, 5, 1)).ok());
  absl::StatusOr<std::string> third = Issue({b[0]}, D(2026, 5, 2), "", tax::Rounding::kFloor,
                                            kCustomerB);
  ASSERT_TRUE(third.ok()) << third.status();

  auto list = [&](InvoiceFilter f, int64_t before, int limit) {
    absl::StatusOr<std::vector<Invoice>> got = store_->ListInvoices(f, before, limit, Deadline());
    EXPECT_TRUE(got.ok()) << got.status();
    std::vector<std::string> numbers;
    if (got.ok()) {
      for (const Invoice& i : *got) {
        EXPECT_FALSE(i.lines.empty());
        numbers.push_back(i.number);
      }
    }
    return numbers;
  };
  EXPECT_THAT(list(InvoiceFilter(), 0, 10),
              ElementsAre("2026-000003", "2026-000002", "2026-000001"));
  InvoiceFilter of_a;
  of_a.customer_id = kCustomerA;
  EXPECT_THAT(list(of_a, 0, 10), ElementsAre("2026-000002", "2026-000001"));
  InvoiceFilter may;
  may.issue_from = D(2026, 5, 1);
  may.issue_to = D(2026, 5, 1);
  EXPECT_THAT(list(may, 0, 10), ElementsAre("2026-000002"));
  InvoiceFilter cancelled;
  cancelled.statuses = {InvoiceStatus::kCancelled};
  EXPECT_TRUE(list(cancelled, 0, 10).empty());
  EXPECT_THAT(list(InvoiceFilter(), IdOf(*third), 1), ElementsAre("2026-000002"));
}

// ---- invoice issue requests ----

TEST_F(PgBillingStoreTest, RequestInvoiceIssueWritesTheRequestAndOneNotification) {
  const BillingPlan plan = Set(SimplePlan(5, kCustomerA, Timing::kSplit),
                               {Planned("", D(2026, 6, 30), D(2026, 6, 30), 100)});
  Set(SimplePlan(6, kCustomerA, Timing::kSplit),
      {Planned("", D(2026, 6, 30), D(2026, 6, 30), 100)});
  InvoiceIssueRequest request;
  request.project_id = 5;
  request.entry_ids = {plan.entries[0].id};
  request.note = "月末締めでお願いします \"至急\"";
  absl::StatusOr<std::string> bytes =
      store_->RequestInvoiceIssue(Ctx("RequestInvoiceIssue", "req-1"), request, EncodeRequest);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_THAT(*bytes, HasSubstr("|staff-1"));  // requested_by defaults to the caller
  EXPECT_EQ(Count("invoice_issue_requests"), 1);
  EXPECT_EQ(Count("notification_outbox"), 1);
  EXPECT_EQ(Text("SELECT kind FROM billing.notification_outbox"), "invoice_issue_request");
  EXPECT_EQ(Scalar("SELECT (payload->>'request_id')::bigint FROM billing.notification_outbox"),
            IdOf(*bytes));
  EXPECT_EQ(Text("SELECT payload->>'note' FROM billing.notification_outbox"), request.note);
  EXPECT_EQ(Scalar("SELECT (payload->'entry_ids'->>0)::bigint FROM billing.notification_outbox"),
            plan.entries[0].id);
  EXPECT_EQ(Scalar("SELECT count(*) FROM billing.notification_outbox WHERE delivered_at IS NULL"),
            1);

  absl::StatusOr<std::string> replay =
      store_->RequestInvoiceIssue(Ctx("RequestInvoiceIssue", "req-1"), request, EncodeRequest);
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(*replay, *bytes);
  EXPECT_EQ(Count("invoice_issue_requests"), 1);
  EXPECT_EQ(Count("notification_outbox"), 1);

  InvoiceIssueRequest foreign = request;
  foreign.project_id = 6;  // the entry is plan 5's
  EXPECT_TRUE(IsError(
      store_->RequestInvoiceIssue(Ctx("RequestInvoiceIssue", "req-2"), foreign, EncodeRequest)
          .status(),
      absl::StatusCode::kNotFound, "ENTRY_NOT_FOUND"));
  InvoiceIssueRequest no_plan;
  no_plan.project_id = 77;
  EXPECT_TRUE(IsError(
      store_->RequestInvoiceIssue(Ctx("RequestInvoiceIssue", "req-3"), no_plan, EncodeRequest)
          .status(),
      absl::StatusCode::kNotFound, "PLAN_NOT_FOUND"));
  EXPECT_EQ(Count("notification_outbox"), 1);
}

// ---- audit ----

TEST_F(PgBillingStoreTest, ListAuditEventsCoversThePlanItsEntriesInvoicesAndRequests) {
  const std::vector<BillingEntry> entries = ReadyEntriesOf(5, kCustomerA, {1000});
  ReadyEntriesOf(6, kCustomerA, {2000});  // another case's events stay out
  absl::StatusOr<std::string> bytes = Issue(entries, D(2026, 4, 30));
  ASSERT_TRUE(bytes.ok());
  InvoiceIssueRequest request;
  request.project_id = 5;
  ASSERT_TRUE(
      store_->RequestInvoiceIssue(Ctx("RequestInvoiceIssue", "r"), request, EncodeRequest).ok());

  absl::StatusOr<std::vector<AuditEntry>> events = store_->ListAuditEvents(5, 0, 100, Deadline());
  ASSERT_TRUE(events.ok()) << events.status();
  std::vector<std::string> resources;
  for (const AuditEntry& e : *events) resources.push_back(e.resource_id);
  const std::string entry = absl::StrCat("plans/5/entries/", entries[0].id);
  // Newest first: request, entry billed, invoice, entry ready, plan.
  ASSERT_EQ(resources.size(), 5u);
  EXPECT_THAT(resources[0], HasSubstr("invoice_requests/"));
  EXPECT_EQ(resources[1], entry);
  EXPECT_EQ(resources[2], absl::StrCat("invoices/", IdOf(*bytes)));
  EXPECT_EQ(resources[3], entry);
  EXPECT_EQ(resources[4], "plans/5");
  EXPECT_EQ((*events)[4].resource_type, "plan");
  EXPECT_EQ((*events)[4].actor, "staff-1");
  EXPECT_EQ((*events)[4].method, Method("SetBillingPlan"));
  EXPECT_THAT((*events)[4].change_json, HasSubstr("\"SPLIT\""));
  EXPECT_THAT((*events)[1].change_json, HasSubstr("\"BILLED\""));
  EXPECT_EQ((*events)[0].request_id, "r");

  absl::StatusOr<std::vector<AuditEntry>> page =
      store_->ListAuditEvents(5, (*events)[1].id, 2, Deadline());
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].id, (*events)[2].id);

  EXPECT_TRUE(IsError(store_->ListAuditEvents(77, 0, 10, Deadline()).status(),
                      absl::StatusCode::kNotFound, "PLAN_NOT_FOUND"));
}

TEST_F(PgBillingStoreTest, APassedDeadlineTouchesNothing) {
  WriteContext ctx = Ctx("SetBillingPlan");
  ctx.deadline = absl::Now() - absl::Seconds(1);
  EXPECT_EQ(store_->SetPlan(ctx, SimplePlan(5, kCustomerA, Timing::kSplit), {}, {}).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(Count("plans"), 0);
}

}  // namespace
}  // namespace anken::billing
