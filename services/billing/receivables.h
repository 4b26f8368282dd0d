#pragma once
// Pure receivables rules: overdue invoices and aging (売掛金年齢), partner commissions, and
// missed billing (請求漏れ). No I/O; "today" is the `as_of` parameter (a civil day in
// Asia/Tokyo). Abseil and the billing domain only.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "services/billing/billing.h"
#include "services/billing/payments.h"

namespace anken::billing {

// ---------------------------------------------------------------------------------------------
// Overdue and aging.

// By days past the due date (as_of − due_date): ≤ 0 not due (the due day itself included),
// 1–30, 31–60, 61–90, 91 and more.
enum class AgingBucket {
  kNotDue = 0,
  kDays1To30 = 1,
  kDays31To60 = 2,
  kDays61To90 = 3,
  kOver90 = 4,
};
inline constexpr int kAgingBucketCount = 5;

// as_of − due_date in days; ≤ 0 when not yet due.
int64_t DaysPastDue(absl::CivilDay due_date, absl::CivilDay as_of);
AgingBucket AgingBucketFor(absl::CivilDay due_date, absl::CivilDay as_of);

// The due date has passed (as_of is after it) and something is still open (balance > 0).
bool IsOverdue(const OpenInvoice& invoice, absl::CivilDay as_of);

// The overdue ones, longest overdue first (due date, issue date, id).
std::vector<OpenInvoice> OverdueInvoices(const std::vector<OpenInvoice>& invoices,
                                         absl::CivilDay as_of);

struct AgingRow {
  int64_t customer_id = 0;                           // 0 in the totals row
  std::array<int64_t, kAgingBucketCount> amounts{};  // open balances by AgingBucket
  int64_t total = 0;
  int64_t invoice_count = 0;
};

struct AgingSummary {
  std::vector<AgingRow> rows;  // one per customer with an open balance, by customer id
  AgingRow totals;
};

// Open balances (balance > 0) per customer and bucket. A sum that would leave int64 (no
// real book comes near) stays at INT64_MAX rather than wrapping to a negative amount.
AgingSummary SummarizeAging(const std::vector<OpenInvoice>& invoices, absl::CivilDay as_of);

// ---------------------------------------------------------------------------------------------
// Partner commissions.

// floor(amount × rate_bp / 10000), exact for every int64 amount (no intermediate overflow).
// INVALID_ARGUMENT for amount < 0 ("amount") or a rate outside 0..10000 basis points
// ("rate_bp").
absl::StatusOr<int64_t> Commission(int64_t amount, int64_t rate_bp);

// What a corrected construction amount adds to (or, negative, takes from) the commission
// already charged: Commission(new) − Commission(old). Billed entries are never edited; the
// difference becomes an adjusting entry.
absl::StatusOr<int64_t> CommissionAdjustment(int64_t old_amount, int64_t new_amount,
                                             int64_t rate_bp);

// A commission is billed on the last day of the report month.
absl::CivilDay CommissionBillingDate(absl::CivilMonth report_month);

// ---------------------------------------------------------------------------------------------
// Missed billing (請求漏れ).

// A case whose order status is 受注済 (from the project service).
struct WonCase {
  int64_t project_id = 0;
  int64_t customer_id = 0;
};

enum class MissedBillingKind {
  kEntryNotBilled = 1,  // billing date passed, still 未請求 / 請求OK
  kNoPlan = 2,          // a won case without a billing plan
  kPeriodMissing = 3,   // a recurring plan's period due by as_of has no entry
};

struct MissedBilling {
  MissedBillingKind kind = MissedBillingKind::kEntryNotBilled;
  int64_t project_id = 0;
  int64_t customer_id = 0;
  int64_t entry_id = 0;         // kEntryNotBilled
  std::string period;           // kPeriodMissing (and kEntryNotBilled when generated)
  absl::CivilDay billing_date;  // kEntryNotBilled, kPeriodMissing
  int64_t amount = 0;           // kEntryNotBilled, kPeriodMissing
  std::string code;             // "ENTRY_NOT_BILLED", "NO_PLAN", "PERIOD_MISSING"
  std::string reason;           // for people
};

// What should have been billed by `as_of` and was not, for the won cases only (DESIGN.md:
// "for every 受注済 case"; plans of other cases are not looked at):
//  - every entry whose billing date is before as_of and whose status is UNBILLED or READY;
//  - every won case with no plan in `plans` (matched by project_id);
//  - for a recurring plan, every period its terms generate (GenerateEntriesBetween over the
//    contract months up to as_of's month) whose generated billing date is before as_of and
//    for which no entry with that period exists. Entries are matched by period, not date, so
//    an entry whose date a person moved still counts.
// Sorted by project id, then kind, then billing date and period.
std::vector<MissedBilling> FindMissedBilling(const std::vector<WonCase>& won_cases,
                                             const std::vector<BillingPlan>& plans,
                                             absl::CivilDay as_of);

}  // namespace anken::billing
