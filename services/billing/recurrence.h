#pragma once
// Pure billing-plan rules: validation, generation of recurring entries, automatic renewal.
// No I/O; links Abseil and the tax library only. Errors are DomainError statuses
// (common/status/domain_error.h) naming the API field and a stable reason.
//
// Generation (DESIGN.md, from the product's manual):
//  - monthly: one entry per month of the contract period; billing and revenue date at that
//    month's end; amount = the monthly amount; period "M<yyyy-mm>".
//  - yearly, not split: one entry per contract year (years counted from the start month),
//    both dates at the end of the year's first month; amount = the yearly amount; period
//    "Y<yyyy-mm>" of the year's first month (start 2019-06, end 2023-05 → 4 entries).
//  - yearly, split: per contract year, 12 entries sharing the year's billing date (end of the
//    year's first month) whose revenue dates are the 12 month ends; amount = the monthly
//    amount; period "S<yyyy-mm>" of the revenue month.
// Month arithmetic works on (year, month), the day last: never step from a 31st by a month.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/types/optional.h"
#include "services/billing/billing.h"

namespace anken::billing {

// The last day of `month`.
absl::CivilDay MonthEnd(absl::CivilMonth month);
// "2019-07".
std::string MonthKey(absl::CivilMonth month);

// Checks the combination (field names of SetBillingPlanRequest, e.g.
// "plan.recurring.renewal_unit_months", "plan.planned_entries[0].amount"; reasons such as
// "REQUIRED", "END_BEFORE_START", "NOT_WHOLE_YEARS", "INVALID_RENEWAL_UNIT",
// "SPLIT_REVENUE_MONTHLY", "LUMP_SUM_ONE_ENTRY", "AMOUNT_NOT_POSITIVE"):
//  - LUMP_SUM: exactly one planned entry, no recurring terms;
//  - SPLIT: any number of planned entries (amount > 0 each), no recurring terms;
//  - RECURRING: terms required, no planned entries; amount > 0; end ≥ start; yearly: the
//    period is a whole number of years; split_revenue only with yearly; auto_renew needs a
//    unit: 12 for yearly, 12 or 1..11 for monthly; without auto_renew the unit is ignored.
absl::Status ValidatePlan(const BillingPlan& plan);

// An entry's description (the invoice line's text) is at most 500 characters (code points: 500
// kanji pass), however it is written (a planned entry, AddBillingEntry, UpdateBillingEntry):
// INVALID_ARGUMENT "TOO_LONG" on `field` otherwise.
absl::Status CheckEntryDescription(absl::string_view field, absl::string_view description);

// Every entry of the contract period, in period order.
std::vector<PlannedEntry> GenerateEntries(const RecurringTerms& terms);

// Entries for the contract months in [from, to] only (a renewal's added months), aligned to
// the contract years of the terms' start month for yearly plans.
std::vector<PlannedEntry> GenerateEntriesBetween(const RecurringTerms& terms,
                                                 absl::CivilMonth from, absl::CivilMonth to);

// The renewal due on `as_of` (Asia/Tokyo): while the end month is before as_of's month, the end
// moves forward by the renewal unit (catching up several units after missed runs); the entries
// are those of all added months. nullopt when nothing is due or the plan does not renew
// (not auto-renew, or no unit). Example: monthly 2019-06..2019-06, unit 1: on 2019-07-01 →
// end 2019-07 with the July entry; on 2019-08-01 (from end 2019-07) → end 2019-08, August.
// A unit the interval does not allow (ValidatePlan refuses it) also gives nullopt, so run
// ValidatePlan on a stored plan first to set such a plan aside with its reason. The result's
// project_id is left 0 for the caller to fill.
absl::optional<PlanRenewal> ComputeRenewal(const RecurringTerms& terms, absl::CivilDay as_of);

// Entry status moves: UNBILLED ↔ READY (anyone who may edit billing); BILLED → PAID and BILLED
// → UNCOLLECTIBLE (accounting only: `accounting` true); BILLED is reached only through
// invoicing and left only through cancelling an invoice. FAILED_PRECONDITION
// ("STATUS_TRANSITION_NOT_ALLOWED") or PERMISSION_DENIED ("ACCOUNTING_ONLY") otherwise.
absl::Status CheckEntryTransition(EntryStatus from, EntryStatus to, bool accounting);

}  // namespace anken::billing
