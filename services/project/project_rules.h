#pragma once
// Pure rules of the project service. No I/O; links Abseil and the tax library only. Errors are
// DomainError statuses (common/status/domain_error.h) naming the API field and a stable reason.

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "services/project/project.h"

namespace anken::project {

// The length cap of a free-text field, in characters (code points, not bytes: 500 kanji pass a
// 500 cap): INVALID_ARGUMENT on `field`, reason "TOO_LONG", "must be at most N characters".
// The message never quotes the value. Handlers use it for the fields they check themselves.
absl::Status CheckMaxChars(absl::string_view value, size_t max_chars, absl::string_view field);

// "0000123" for 123; numbers run 1..9,999,999 (an empty string for any other n).
std::string FormatProjectNumber(int64_t n);

// Checks a reported outcome against the current referral and applies it to `referral`:
//  - field combinations (DESIGN.md): IN_PROGRESS has no dates and no amount; COMPLETED needs
//    completion_date and amount > 0 and no lost_date; LOST needs lost_date, no amount, no
//    completion_date → INVALID_ARGUMENT on the offending field (reason
//    "OUTCOME_FIELDS_MISMATCH", or "AMOUNT_REQUIRED", "DATE_REQUIRED");
//  - dates (completion, lost, each extra order) not after `today` ("DATE_IN_FUTURE") and not
//    before the referral date ("DATE_BEFORE_REFERRAL") → INVALID_ARGUMENT;
//  - extra orders: amount > 0, note ≤ 500 chars, kind set → INVALID_ARGUMENT;
//  - remarks ≤ 500 characters → INVALID_ARGUMENT;
//  - a COMPLETED referral never goes back to IN_PROGRESS or LOST → FAILED_PRECONDITION
//    ("COMPLETED_IS_FINAL"); COMPLETED → COMPLETED may correct date and amount; LOST →
//    COMPLETED is allowed, and so is LOST → IN_PROGRESS (the issue forbids neither).
// Further reasons: "INVALID_OUTCOME" (outcome not an enumerator), "TOO_LONG" (remarks, note),
// "KIND_REQUIRED" (extra order kind). The report's own fields are checked before the state
// rule, so a malformed report is INVALID_ARGUMENT whatever the current outcome. On success the
// outcome's fields replace the old ones (the others are cleared), remarks are replaced and the
// extra orders are appended with id 0 (the store assigns ids).
// Field names are those of RecordReferralOutcomeRequest ("completion_date", "amount",
// "lost_date", "remarks", "extra_orders[2].amount"). On error `referral` is unchanged.
absl::Status ApplyOutcome(const OutcomeReport& report, absl::CivilDay today, Referral& referral);

// Validates a case for create/update (name required ≤ 200 chars, customer_id > 0, owner and
// department ≤ 100 chars, memo ≤ 2,000 chars, progress_status one of `progress_statuses` when
// non-empty (the message lists the allowed values, never the one received), referral
// partner_id > 0 and referral_date not in the future when a referral is set). Field names are
// "project.<field>".
// Reasons: REQUIRED, TOO_LONG, INVALID_ID (negative category_id), INVALID_ORDER_STATUS,
// INVALID_PROGRESS_STATUS (a non-empty value not in the list: with an empty list only a blank
// status passes), DATE_IN_FUTURE. Lengths count characters (code points), not bytes.
absl::Status ValidateProject(const Project& project, const std::vector<std::string>& progress_statuses,
                             absl::CivilDay today);

// Every problem ValidateProject checks, in the same order (ValidateProject reports the first):
// for callers that report them all at once, such as the CSV import.
struct ProjectViolation {
  std::string field;  // "project.<field>"
  std::string reason;
  std::string description;
};
std::vector<ProjectViolation> ProjectViolations(const Project& project,
                                                const std::vector<std::string>& progress_statuses,
                                                absl::CivilDay today);

// Line amounts (floor(quantity_milli × unit_price / 1000), overflow → INVALID_ARGUMENT) and the
// totals per tax rate (tax once per rate, DESIGN.md) with `rounding`; validates the quote:
// 1..200 lines, quantity > 0, unit price ≥ 0, description or product set, line description
// ≤ 500 and unit ≤ 20 characters, note ≤ 500 characters, issue_date ≤ valid_until, win
// probability 0..100. Field names are "quote.<field>" / "quote.lines[i].<f>"
// (i from 0). Reasons: REQUIRED, TOO_LONG, TOO_MANY_LINES, INVALID_QUANTITY, INVALID_UNIT_PRICE,
// INVALID_TAX_CATEGORY, VALID_UNTIL_BEFORE_ISSUE_DATE, OUT_OF_RANGE (win probability),
// AMOUNT_TOO_LARGE (a line amount or a sum beyond int64). On error `quote` is unchanged.
absl::Status PriceQuote(Quote& quote, tax::Rounding rounding);

// Quote status moves: DRAFT → SENT, DRAFT|SENT → ACCEPTED|REJECTED; accepted and rejected are
// final. FAILED_PRECONDITION ("QUOTE_FINAL" / "QUOTE_NOT_DRAFT") otherwise; a move to DRAFT,
// or from or to a value outside the enumerators, is "INVALID_TRANSITION".
absl::Status CheckQuoteTransition(QuoteStatus from, QuoteStatus to);

// The forecast (見込集計) over [from, to] months. Input: each quote with the group (department or
// owner) of its case. expected = Σ floor(subtotal × win_probability / 100) of DRAFT and SENT
// quotes by expected order month; won = Σ subtotal of ACCEPTED quotes by expected order month.
// Quotes outside [from, to] and REJECTED quotes are ignored; a group has a row only when one of
// its DRAFT, SENT or ACCEPTED quotes falls in the range. Each row and `totals` hold one cell
// per month of the range, in order, zero cells included; totals are the column sums. A
// reversed range gives an empty table. Sums saturate at the int64 limits.
struct ForecastInput {
  std::string group;
  Quote quote;
};
struct ForecastCellValue {
  absl::CivilMonth month;
  int64_t expected_amount = 0;
  int64_t won_amount = 0;
  int open_quotes = 0;
};
struct ForecastTable {
  std::map<std::string, std::vector<ForecastCellValue>> rows;  // group → one cell per month
  std::vector<ForecastCellValue> totals;
};
ForecastTable ComputeForecast(const std::vector<ForecastInput>& quotes, absl::CivilMonth from,
                              absl::CivilMonth to);

// Open ToDos ordered for a person's day: overdue (due < today) first, then by due date, id.
void SortTodosForDay(std::vector<Todo>& todos, absl::CivilDay today);

}  // namespace anken::project
