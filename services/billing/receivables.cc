#include "services/billing/receivables.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "common/status/domain_error.h"
#include "services/billing/recurrence.h"

namespace anken::billing {
namespace {

constexpr int64_t kMaxRateBp = 10000;

std::string FormatDay(absl::CivilDay day) {
  return absl::StrFormat("%04d-%02d-%02d", day.year(), day.month(), day.day());
}

void SaturatingAdd(int64_t& sum, int64_t value) {
  if (__builtin_add_overflow(sum, value, &sum)) sum = std::numeric_limits<int64_t>::max();
}

void AddTo(AgingRow& row, AgingBucket bucket, int64_t balance) {
  SaturatingAdd(row.amounts[static_cast<int>(bucket)], balance);
  SaturatingAdd(row.total, balance);
  ++row.invoice_count;
}

bool IsOpenStatus(EntryStatus s) { return s == EntryStatus::kUnbilled || s == EntryStatus::kReady; }

const char* StatusName(EntryStatus s) {
  return s == EntryStatus::kUnbilled ? "UNBILLED (未請求)" : "READY (請求OK)";
}

}  // namespace

int64_t DaysPastDue(absl::CivilDay due_date, absl::CivilDay as_of) { return as_of - due_date; }

AgingBucket AgingBucketFor(absl::CivilDay due_date, absl::CivilDay as_of) {
  const int64_t days = DaysPastDue(due_date, as_of);
  if (days <= 0) return AgingBucket::kNotDue;
  if (days <= 30) return AgingBucket::kDays1To30;
  if (days <= 60) return AgingBucket::kDays31To60;
  if (days <= 90) return AgingBucket::kDays61To90;
  return AgingBucket::kOver90;
}

bool IsOverdue(const OpenInvoice& invoice, absl::CivilDay as_of) {
  return invoice.balance > 0 && as_of > invoice.due_date;
}

std::vector<OpenInvoice> OverdueInvoices(const std::vector<OpenInvoice>& invoices,
                                         absl::CivilDay as_of) {
  std::vector<OpenInvoice> out;
  for (const OpenInvoice& inv : invoices) {
    if (IsOverdue(inv, as_of)) out.push_back(inv);
  }
  std::sort(out.begin(), out.end(), [](const OpenInvoice& a, const OpenInvoice& b) {
    return std::tie(a.due_date, a.issue_date, a.id) < std::tie(b.due_date, b.issue_date, b.id);
  });
  return out;
}

AgingSummary SummarizeAging(const std::vector<OpenInvoice>& invoices, absl::CivilDay as_of) {
  std::map<int64_t, AgingRow> by_customer;
  AgingSummary out;
  for (const OpenInvoice& inv : invoices) {
    if (inv.balance <= 0) continue;
    const AgingBucket bucket = AgingBucketFor(inv.due_date, as_of);
    AgingRow& row = by_customer[inv.customer_id];
    row.customer_id = inv.customer_id;
    AddTo(row, bucket, inv.balance);
    AddTo(out.totals, bucket, inv.balance);
  }
  out.rows.reserve(by_customer.size());
  for (auto& [id, row] : by_customer) out.rows.push_back(row);
  return out;
}

absl::StatusOr<int64_t> Commission(int64_t amount, int64_t rate_bp) {
  if (amount < 0) return DomainInvalid("amount", "AMOUNT_NEGATIVE", "must be ≥ 0 yen");
  if (rate_bp < 0 || rate_bp > kMaxRateBp) {
    return DomainInvalid("rate_bp", "INVALID_RATE",
                         "must be between 0 and 10000 basis points (0–100%)");
  }
  // amount = q·10000 + r, so amount·rate/10000 = q·rate + r·rate/10000 and the floor falls on
  // the second term only. q·rate ≤ amount and r·rate < 10^8: nothing overflows.
  const int64_t q = amount / 10000;
  const int64_t r = amount % 10000;
  return q * rate_bp + (r * rate_bp) / 10000;
}

absl::StatusOr<int64_t> CommissionAdjustment(int64_t old_amount, int64_t new_amount,
                                             int64_t rate_bp) {
  absl::StatusOr<int64_t> before = Commission(old_amount, rate_bp);
  if (!before.ok()) return before.status();
  absl::StatusOr<int64_t> after = Commission(new_amount, rate_bp);
  if (!after.ok()) return after.status();
  return *after - *before;  // both in [0, INT64_MAX]: the difference fits
}

absl::CivilDay CommissionBillingDate(absl::CivilMonth report_month) {
  return MonthEnd(report_month);
}

std::vector<MissedBilling> FindMissedBilling(const std::vector<WonCase>& won_cases,
                                             const std::vector<BillingPlan>& plans,
                                             absl::CivilDay as_of) {
  std::map<int64_t, std::vector<const BillingPlan*>> plans_by_case;
  for (const BillingPlan& p : plans) plans_by_case[p.project_id].push_back(&p);
  std::map<int64_t, int64_t> won;  // project → customer; duplicates collapse
  for (const WonCase& c : won_cases) won.emplace(c.project_id, c.customer_id);

  std::vector<MissedBilling> out;
  for (const auto& [project_id, won_customer] : won) {
    auto it = plans_by_case.find(project_id);
    if (it == plans_by_case.end()) {
      MissedBilling m;
      m.kind = MissedBillingKind::kNoPlan;
      m.project_id = project_id;
      m.customer_id = won_customer;
      m.code = "NO_PLAN";
      m.reason = "the case is 受注済 (won) but has no billing plan";
      out.push_back(std::move(m));
      continue;
    }
    for (const BillingPlan* plan : it->second) {
      const int64_t customer = plan->customer_id != 0 ? plan->customer_id : won_customer;
      std::set<std::string> periods;
      for (const BillingEntry& e : plan->entries) {
        if (!e.period.empty()) periods.insert(e.period);
        if (e.billing_date < as_of && IsOpenStatus(e.status)) {
          MissedBilling m;
          m.kind = MissedBillingKind::kEntryNotBilled;
          m.project_id = project_id;
          m.customer_id = customer;
          m.entry_id = e.id;
          m.period = e.period;
          m.billing_date = e.billing_date;
          m.amount = e.amount;
          m.code = "ENTRY_NOT_BILLED";
          m.reason = absl::StrCat("entry ", e.id, " (billing date ", FormatDay(e.billing_date),
                                  ", ", e.amount, " yen) is still ", StatusName(e.status),
                                  " after its billing date");
          out.push_back(std::move(m));
        }
      }
      if (plan->timing != Timing::kRecurring || !plan->recurring.has_value()) continue;
      const RecurringTerms& terms = *plan->recurring;
      // A contract month's billing date is never later than that month's end, nor earlier
      // than 11 months before it (a split year bills every month on its first month's end):
      // months beyond as_of + 11 cannot be due yet, so the generation stays small.
      const absl::CivilMonth to = std::min(terms.end_month, absl::CivilMonth(as_of) + 11);
      for (const PlannedEntry& expected : GenerateEntriesBetween(terms, terms.start_month, to)) {
        if (!(expected.billing_date < as_of) || periods.count(expected.period) != 0) continue;
        MissedBilling m;
        m.kind = MissedBillingKind::kPeriodMissing;
        m.project_id = project_id;
        m.customer_id = customer;
        m.period = expected.period;
        m.billing_date = expected.billing_date;
        m.amount = expected.amount;
        m.code = "PERIOD_MISSING";
        m.reason = absl::StrCat("period ", expected.period, " (billing date ",
                                FormatDay(expected.billing_date), ", ", expected.amount,
                                " yen) of the recurring plan has no entry");
        out.push_back(std::move(m));
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const MissedBilling& a, const MissedBilling& b) {
    return std::tie(a.project_id, a.kind, a.billing_date, a.period, a.entry_id) <
           std::tie(b.project_id, b.kind, b.billing_date, b.period, b.entry_id);
  });
  return out;
}

}  // namespace anken::billing
