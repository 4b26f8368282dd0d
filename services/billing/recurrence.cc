#include "services/billing/recurrence.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "common/status/domain_error.h"
#include "common/tax/tax.h"
#include "common/text/char_count.h"

namespace anken::billing {
namespace {

// Far beyond any real fee, and small enough that a whole contract (≤ kMaxContractMonths
// entries), an invoice of thousands of such entries and their tax stay inside int64.
constexpr int64_t kMaxAmount = 999'999'999'999;
// 100 years: a bound on how many entries one plan can generate at once.
constexpr int64_t kMaxContractMonths = 1200;
// Years a contract month may name; keeps month arithmetic and the "yyyy-mm" keys sane.
constexpr int64_t kMinYear = 1900;
constexpr int64_t kMaxYear = 2999;
constexpr size_t kMaxDescriptionChars = 500;

bool IsTaxCategory(tax::Category c) {
  return c == tax::Category::kStandard || c == tax::Category::kReduced ||
         c == tax::Category::kExempt;
}

bool IsInterval(Interval i) { return i == Interval::kMonthly || i == Interval::kYearly; }

bool IsEntryStatus(EntryStatus s) {
  return s == EntryStatus::kUnbilled || s == EntryStatus::kReady || s == EntryStatus::kBilled ||
         s == EntryStatus::kPaid || s == EntryStatus::kUncollectible;
}

using ::anken::text::CharCount;

// The unit a renewing plan may use: 12 for every interval, 1..11 months for monthly only
// (the manual's 更新単位: 「年」, or 「月」 1〜11ヶ月 for 毎月).
bool IsValidUnit(Interval interval, int unit) {
  if (unit == 12) return true;
  return interval == Interval::kMonthly && unit >= 1 && unit <= 11;
}

absl::Status CheckAmount(absl::string_view field, int64_t amount) {
  if (amount <= 0) return DomainInvalid(field, "AMOUNT_NOT_POSITIVE", "must be > 0 yen");
  if (amount > kMaxAmount) {
    return DomainInvalid(field, "AMOUNT_TOO_LARGE",
                         absl::StrCat("must be at most ", kMaxAmount, " yen"));
  }
  return absl::OkStatus();
}

absl::Status CheckPlannedEntries(const std::vector<PlannedEntry>& entries) {
  for (size_t i = 0; i < entries.size(); ++i) {
    const std::string prefix = absl::StrCat("plan.planned_entries[", i, "].");
    if (absl::Status s = CheckAmount(absl::StrCat(prefix, "amount"), entries[i].amount);
        !s.ok()) {
      return s;
    }
    if (absl::Status s =
            CheckEntryDescription(absl::StrCat(prefix, "description"), entries[i].description);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status CheckMonth(absl::string_view field, absl::CivilMonth month) {
  if (month.year() < kMinYear || month.year() > kMaxYear) {
    return DomainInvalid(field, "MONTH_OUT_OF_RANGE",
                         absl::StrCat(MonthKey(month), " is outside ", kMinYear, "..", kMaxYear));
  }
  return absl::OkStatus();
}

absl::Status CheckRecurring(const RecurringTerms& r) {
  if (!IsInterval(r.interval)) {
    return DomainInvalid("plan.recurring.interval", "REQUIRED", "must be MONTHLY or YEARLY");
  }
  if (absl::Status s = CheckAmount("plan.recurring.amount", r.amount); !s.ok()) return s;
  if (absl::Status s = CheckMonth("plan.recurring.start_month", r.start_month); !s.ok()) return s;
  if (absl::Status s = CheckMonth("plan.recurring.end_month", r.end_month); !s.ok()) return s;
  if (r.end_month < r.start_month) {
    return DomainInvalid("plan.recurring.end_month", "END_BEFORE_START",
                         absl::StrCat(MonthKey(r.end_month), " is before the start month ",
                                      MonthKey(r.start_month)));
  }
  const int64_t months = (r.end_month - r.start_month) + 1;
  if (r.interval == Interval::kYearly && months % 12 != 0) {
    return DomainInvalid("plan.recurring.end_month", "NOT_WHOLE_YEARS",
                         absl::StrCat("a yearly contract covers whole years; ",
                                      MonthKey(r.start_month), "..", MonthKey(r.end_month),
                                      " is ", months, " months"));
  }
  if (months > kMaxContractMonths) {
    return DomainInvalid("plan.recurring.end_month", "PERIOD_TOO_LONG",
                         absl::StrCat("the contract period may cover at most ",
                                      kMaxContractMonths, " months"));
  }
  if (r.split_revenue && r.interval != Interval::kYearly) {
    return DomainInvalid("plan.recurring.split_revenue", "SPLIT_REVENUE_MONTHLY",
                         "splitting revenue into months is for a yearly interval only");
  }
  if (r.auto_renew && !IsValidUnit(r.interval, r.renewal_unit_months)) {
    return DomainInvalid("plan.recurring.renewal_unit_months", "INVALID_RENEWAL_UNIT",
                         r.interval == Interval::kYearly
                             ? "a yearly plan renews by 12 months"
                             : "a monthly plan renews by 12 months or by 1..11 months");
  }
  return absl::OkStatus();
}

PlannedEntry MakeEntry(std::string period, absl::CivilDay billing, absl::CivilDay revenue,
                       int64_t amount) {
  PlannedEntry e;
  e.period = std::move(period);
  e.billing_date = billing;
  e.revenue_date = revenue;
  e.amount = amount;
  return e;
}

// The first month of the contract year that holds `month` (month ≥ start).
absl::CivilMonth YearStartOf(absl::CivilMonth start, absl::CivilMonth month) {
  return start + ((month - start) / 12) * 12;
}

}  // namespace

absl::CivilDay MonthEnd(absl::CivilMonth month) {
  // The day before the next month's 1st: exact for every month, leap Februaries included.
  return absl::CivilDay(month + 1) - 1;
}

std::string MonthKey(absl::CivilMonth month) {
  return absl::StrFormat("%04d-%02d", month.year(), month.month());
}

absl::Status CheckEntryDescription(absl::string_view field, absl::string_view description) {
  if (CharCount(description) <= kMaxDescriptionChars) return absl::OkStatus();
  return DomainInvalid(field, "TOO_LONG",
                       absl::StrCat("must be at most ", kMaxDescriptionChars, " characters"));
}

absl::Status ValidatePlan(const BillingPlan& plan) {
  if (plan.project_id <= 0) {
    return DomainInvalid("plan.project_id", "REQUIRED", "the case (project_id) is required");
  }
  if (!IsTaxCategory(plan.tax_category)) {
    return DomainInvalid("plan.tax_category", "REQUIRED", "must be STANDARD, REDUCED or EXEMPT");
  }
  switch (plan.timing) {
    case Timing::kLumpSum:
      if (plan.recurring.has_value()) {
        return DomainInvalid("plan.recurring", "RECURRING_NOT_ALLOWED",
                             "only a RECURRING plan has recurring terms");
      }
      if (plan.planned_entries.size() != 1) {
        return DomainInvalid("plan.planned_entries", "LUMP_SUM_ONE_ENTRY",
                             absl::StrCat("a lump-sum plan has exactly one entry, not ",
                                          plan.planned_entries.size()));
      }
      return CheckPlannedEntries(plan.planned_entries);
    case Timing::kSplit:
      if (plan.recurring.has_value()) {
        return DomainInvalid("plan.recurring", "RECURRING_NOT_ALLOWED",
                             "only a RECURRING plan has recurring terms");
      }
      return CheckPlannedEntries(plan.planned_entries);
    case Timing::kRecurring:
      if (!plan.recurring.has_value()) {
        return DomainInvalid("plan.recurring", "REQUIRED",
                             "a RECURRING plan needs its recurring terms");
      }
      if (!plan.planned_entries.empty()) {
        return DomainInvalid("plan.planned_entries", "PLANNED_ENTRIES_NOT_ALLOWED",
                             "a RECURRING plan's entries are generated from its terms");
      }
      return CheckRecurring(*plan.recurring);
  }
  return DomainInvalid("plan.timing", "REQUIRED", "must be LUMP_SUM, SPLIT or RECURRING");
}

std::vector<PlannedEntry> GenerateEntries(const RecurringTerms& terms) {
  return GenerateEntriesBetween(terms, terms.start_month, terms.end_month);
}

std::vector<PlannedEntry> GenerateEntriesBetween(const RecurringTerms& terms,
                                                 absl::CivilMonth from, absl::CivilMonth to) {
  std::vector<PlannedEntry> out;
  // Months before the start are no contract months.
  from = std::max(from, terms.start_month);
  if (to < from) return out;
  switch (terms.interval) {
    case Interval::kMonthly:
      out.reserve(static_cast<size_t>(to - from + 1));
      for (absl::CivilMonth m = from; m <= to; ++m) {
        out.push_back(MakeEntry(absl::StrCat("M", MonthKey(m)), MonthEnd(m), MonthEnd(m),
                                terms.amount));
      }
      break;
    case Interval::kYearly:
      if (terms.split_revenue) {
        out.reserve(static_cast<size_t>(to - from + 1));
        for (absl::CivilMonth m = from; m <= to; ++m) {
          // Every revenue month of a year is billed together, on the year's first month end.
          const absl::CivilDay billing = MonthEnd(YearStartOf(terms.start_month, m));
          out.push_back(
              MakeEntry(absl::StrCat("S", MonthKey(m)), billing, MonthEnd(m), terms.amount));
        }
      } else {
        // A year belongs to the range through its first month: a range that starts mid-year
        // leaves that year to whoever generated its first month, so nothing is doubled.
        absl::CivilMonth year = YearStartOf(terms.start_month, from);
        if (year < from) year += 12;
        for (; year <= to; year += 12) {
          out.push_back(MakeEntry(absl::StrCat("Y", MonthKey(year)), MonthEnd(year),
                                  MonthEnd(year), terms.amount));
        }
      }
      break;
  }
  return out;
}

absl::optional<PlanRenewal> ComputeRenewal(const RecurringTerms& terms, absl::CivilDay as_of) {
  if (!terms.auto_renew || !IsInterval(terms.interval) ||
      !IsValidUnit(terms.interval, terms.renewal_unit_months)) {
    return absl::nullopt;
  }
  const absl::CivilMonth current(as_of);
  if (!(terms.end_month < current)) return absl::nullopt;
  // The number of whole units that bring the end to current or later, in one step rather
  // than a loop: a plan that missed years of runs costs the same as one that missed a day.
  const int64_t unit = terms.renewal_unit_months;
  const int64_t behind = current - terms.end_month;  // > 0
  const int64_t units = (behind + unit - 1) / unit;
  PlanRenewal renewal;
  renewal.old_end_month = terms.end_month;
  renewal.new_end_month = terms.end_month + units * unit;
  renewal.entries =
      GenerateEntriesBetween(terms, renewal.old_end_month + 1, renewal.new_end_month);
  return renewal;
}

absl::Status CheckEntryTransition(EntryStatus from, EntryStatus to, bool accounting) {
  if (!IsEntryStatus(from) || !IsEntryStatus(to)) {
    return DomainInvalid("status", "INVALID_STATUS",
                         "must be UNBILLED, READY, BILLED, PAID or UNCOLLECTIBLE");
  }
  const bool toggling_ready = (from == EntryStatus::kUnbilled && to == EntryStatus::kReady) ||
                              (from == EntryStatus::kReady && to == EntryStatus::kUnbilled);
  if (toggling_ready) return absl::OkStatus();
  const bool settling = from == EntryStatus::kBilled &&
                        (to == EntryStatus::kPaid || to == EntryStatus::kUncollectible);
  if (settling) {
    if (accounting) return absl::OkStatus();
    return DomainError(absl::StatusCode::kPermissionDenied, "", "ACCOUNTING_ONLY",
                       "only accounting may mark a billed entry paid or uncollectible");
  }
  if (to == EntryStatus::kBilled) {
    return DomainPrecondition("STATUS_TRANSITION_NOT_ALLOWED",
                              "an entry becomes BILLED only by issuing an invoice");
  }
  if (from == EntryStatus::kBilled) {
    return DomainPrecondition("STATUS_TRANSITION_NOT_ALLOWED",
                              "a BILLED entry returns to READY only by cancelling its invoice");
  }
  return DomainPrecondition("STATUS_TRANSITION_NOT_ALLOWED",
                            "this status change is not allowed");
}

}  // namespace anken::billing
