#include "services/project/project_rules.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "common/status/domain_error.h"
#include "common/text/char_count.h"

namespace anken::project {
namespace {

constexpr int64_t kMaxProjectNumber = 9'999'999;
constexpr size_t kMaxRemarksChars = 500;
constexpr size_t kMaxNoteChars = 500;
constexpr size_t kMaxNameChars = 200;
constexpr size_t kMaxOwnerChars = 100;
constexpr size_t kMaxDepartmentChars = 100;
constexpr size_t kMaxMemoChars = 2000;
constexpr size_t kMaxLineDescriptionChars = 500;
constexpr size_t kMaxUnitChars = 20;
constexpr size_t kMaxQuoteNoteChars = 500;
constexpr size_t kMaxQuoteLines = 200;
// A progress-status error lists the configured values only while the list stays readable.
constexpr size_t kMaxListedStatusChars = 200;

using ::anken::text::CharCount;

// Blank also when only the ideographic space (U+3000) is there: a name typed with a Japanese
// IME and nothing else is still no name.
bool IsBlank(absl::string_view text) {
  constexpr absl::string_view kIdeographicSpace = "\xE3\x80\x80";
  while (true) {
    text = absl::StripLeadingAsciiWhitespace(text);
    if (text.empty()) return true;
    if (text.substr(0, kIdeographicSpace.size()) != kIdeographicSpace) return false;
    text.remove_prefix(kIdeographicSpace.size());
  }
}

bool IsTaxCategory(tax::Category c) {
  return c == tax::Category::kStandard || c == tax::Category::kReduced ||
         c == tax::Category::kExempt;
}

std::string FormatDay(absl::CivilDay d) { return absl::FormatCivilTime(d); }

// A reported date: not after today (Asia/Tokyo, given by the caller) and not before the
// referral date.
absl::Status CheckReportedDate(absl::string_view field, absl::CivilDay date, absl::CivilDay today,
                               absl::CivilDay referral_date) {
  if (date > today) {
    return DomainInvalid(field, "DATE_IN_FUTURE",
                         absl::StrCat(FormatDay(date), " is in the future (today is ",
                                      FormatDay(today), ")"));
  }
  if (date < referral_date) {
    return DomainInvalid(field, "DATE_BEFORE_REFERRAL",
                         absl::StrCat(FormatDay(date), " is before the referral date ",
                                      FormatDay(referral_date)));
  }
  return absl::OkStatus();
}

absl::Status CheckOutcomeFields(const OutcomeReport& r) {
  switch (r.outcome) {
    case Outcome::kInProgress:
      if (r.completion_date) {
        return DomainInvalid("completion_date", "OUTCOME_FIELDS_MISMATCH",
                             "must be empty for IN_PROGRESS");
      }
      if (r.amount != 0) {
        return DomainInvalid("amount", "OUTCOME_FIELDS_MISMATCH", "must be 0 for IN_PROGRESS");
      }
      if (r.lost_date) {
        return DomainInvalid("lost_date", "OUTCOME_FIELDS_MISMATCH",
                             "must be empty for IN_PROGRESS");
      }
      return absl::OkStatus();
    case Outcome::kCompleted:
      if (!r.completion_date) {
        return DomainInvalid("completion_date", "DATE_REQUIRED", "is required for COMPLETED");
      }
      if (r.amount <= 0) {
        return DomainInvalid("amount", "AMOUNT_REQUIRED",
                             "must be the amount paid (> 0) for COMPLETED");
      }
      if (r.lost_date) {
        return DomainInvalid("lost_date", "OUTCOME_FIELDS_MISMATCH", "must be empty for COMPLETED");
      }
      return absl::OkStatus();
    case Outcome::kLost:
      if (r.completion_date) {
        return DomainInvalid("completion_date", "OUTCOME_FIELDS_MISMATCH",
                             "must be empty for LOST");
      }
      if (r.amount != 0) {
        return DomainInvalid("amount", "OUTCOME_FIELDS_MISMATCH", "must be 0 for LOST");
      }
      if (!r.lost_date) {
        return DomainInvalid("lost_date", "DATE_REQUIRED", "is required for LOST");
      }
      return absl::OkStatus();
  }
  return DomainInvalid("outcome", "INVALID_OUTCOME", "must be IN_PROGRESS, COMPLETED or LOST");
}

absl::Status CheckExtraOrder(const ExtraOrder& e, size_t i, absl::CivilDay today,
                             absl::CivilDay referral_date) {
  const std::string prefix = absl::StrCat("extra_orders[", i, "].");
  if (e.kind != ExtraKind::kAdditional && e.kind != ExtraKind::kRepeat) {
    return DomainInvalid(absl::StrCat(prefix, "kind"), "KIND_REQUIRED",
                         "must be ADDITIONAL or REPEAT");
  }
  absl::Status s = CheckReportedDate(absl::StrCat(prefix, "order_date"), e.order_date, today,
                                     referral_date);
  if (!s.ok()) return s;
  if (e.amount <= 0) {
    return DomainInvalid(absl::StrCat(prefix, "amount"), "AMOUNT_REQUIRED", "must be > 0");
  }
  return CheckMaxChars(e.note, kMaxNoteChars, absl::StrCat(prefix, "note"));
}

// floor(a / b) for b > 0 (C++ division truncates toward zero).
__int128 FloorDiv(__int128 a, __int128 b) {
  __int128 q = a / b;
  if (a % b != 0 && a < 0) --q;
  return q;
}

int64_t SaturatingAdd(int64_t a, __int128 b) {
  const __int128 sum = static_cast<__int128>(a) + b;
  if (sum > std::numeric_limits<int64_t>::max()) return std::numeric_limits<int64_t>::max();
  if (sum < std::numeric_limits<int64_t>::min()) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(sum);
}

// What an INVALID_PROGRESS_STATUS says: the allowed values, never the value received (it is
// the client's text, of any length, and would be echoed into logs and UIs).
std::string ProgressStatusHint(const std::vector<std::string>& statuses) {
  if (statuses.empty()) return "must be empty: no progress statuses are configured";
  std::string listed = absl::StrJoin(statuses, ", ");
  if (CharCount(listed) > kMaxListedStatusChars) {
    return "must be one of the configured progress statuses";
  }
  return absl::StrCat("must be one of: ", listed);
}

}  // namespace

absl::Status CheckMaxChars(absl::string_view value, size_t max_chars, absl::string_view field) {
  if (CharCount(value) <= max_chars) return absl::OkStatus();
  return DomainInvalid(field, "TOO_LONG", absl::StrCat("must be at most ", max_chars, " characters"));
}

std::string FormatProjectNumber(int64_t n) {
  if (n < 1 || n > kMaxProjectNumber) return "";
  return absl::StrFormat("%07d", n);
}

absl::Status ApplyOutcome(const OutcomeReport& report, absl::CivilDay today, Referral& referral) {
  // The report itself first: a malformed report is the caller's to fix whatever the state.
  absl::Status s = CheckOutcomeFields(report);
  if (!s.ok()) return s;
  if (report.completion_date) {
    s = CheckReportedDate("completion_date", *report.completion_date, today,
                          referral.referral_date);
    if (!s.ok()) return s;
  }
  if (report.lost_date) {
    s = CheckReportedDate("lost_date", *report.lost_date, today, referral.referral_date);
    if (!s.ok()) return s;
  }
  s = CheckMaxChars(report.remarks, kMaxRemarksChars, "remarks");
  if (!s.ok()) return s;
  for (size_t i = 0; i < report.extra_orders.size(); ++i) {
    s = CheckExtraOrder(report.extra_orders[i], i, today, referral.referral_date);
    if (!s.ok()) return s;
  }

  // The state rule: payment for a completed job has been reported (and commissioned), so it
  // cannot be taken back; a correction stays COMPLETED.
  if (referral.outcome == Outcome::kCompleted && report.outcome != Outcome::kCompleted) {
    return DomainPrecondition("COMPLETED_IS_FINAL",
                              "a completed (施工完了) case cannot go back to in progress or lost");
  }

  referral.outcome = report.outcome;
  referral.completion_date.reset();
  referral.amount = 0;
  referral.lost_date.reset();
  if (report.outcome == Outcome::kCompleted) {
    referral.completion_date = report.completion_date;
    referral.amount = report.amount;
  } else if (report.outcome == Outcome::kLost) {
    referral.lost_date = report.lost_date;
  }
  referral.remarks = report.remarks;
  for (ExtraOrder e : report.extra_orders) {
    e.id = 0;  // ids are the store's to assign; never trust the caller's
    referral.extra_orders.push_back(std::move(e));
  }
  return absl::OkStatus();
}

std::vector<ProjectViolation> ProjectViolations(const Project& p,
                                                const std::vector<std::string>& progress_statuses,
                                                absl::CivilDay today) {
  std::vector<ProjectViolation> v;
  auto add = [&v](absl::string_view field, absl::string_view reason, std::string description) {
    v.push_back(ProjectViolation{std::string(field), std::string(reason), std::move(description)});
  };
  auto cap = [&add](absl::string_view value, size_t max_chars, absl::string_view field) {
    if (CharCount(value) > max_chars) {
      add(field, "TOO_LONG", absl::StrCat("must be at most ", max_chars, " characters"));
    }
  };
  if (IsBlank(p.name)) {
    add("project.name", "REQUIRED", "is required");
  } else {
    cap(p.name, kMaxNameChars, "project.name");
  }
  if (p.customer_id <= 0) add("project.customer_id", "REQUIRED", "is required");
  if (p.category_id < 0) add("project.category_id", "INVALID_ID", "must be a category id or 0");
  if (p.order_status != OrderStatus::kProspect && p.order_status != OrderStatus::kWon &&
      p.order_status != OrderStatus::kLost) {
    add("project.order_status", "INVALID_ORDER_STATUS", "must be PROSPECT, WON or LOST");
  }
  if (!p.progress_status.empty() &&
      std::find(progress_statuses.begin(), progress_statuses.end(), p.progress_status) ==
          progress_statuses.end()) {
    add("project.progress_status", "INVALID_PROGRESS_STATUS", ProgressStatusHint(progress_statuses));
  }
  cap(p.owner, kMaxOwnerChars, "project.owner");
  cap(p.department, kMaxDepartmentChars, "project.department");
  cap(p.memo, kMaxMemoChars, "project.memo");
  if (p.referral) {
    if (p.referral->partner_id <= 0) add("project.referral.partner_id", "REQUIRED", "is required");
    if (p.referral->referral_date > today) {
      add("project.referral.referral_date", "DATE_IN_FUTURE",
          absl::StrCat(FormatDay(p.referral->referral_date), " is in the future (today is ",
                       FormatDay(today), ")"));
    }
  }
  return v;
}

absl::Status ValidateProject(const Project& project,
                             const std::vector<std::string>& progress_statuses,
                             absl::CivilDay today) {
  std::vector<ProjectViolation> v = ProjectViolations(project, progress_statuses, today);
  if (v.empty()) return absl::OkStatus();
  return DomainInvalid(v.front().field, v.front().reason, v.front().description);
}

absl::Status PriceQuote(Quote& quote, tax::Rounding rounding) {
  if (quote.lines.empty()) return DomainInvalid("quote.lines", "REQUIRED", "at least one line");
  if (quote.lines.size() > kMaxQuoteLines) {
    return DomainInvalid("quote.lines", "TOO_MANY_LINES",
                         absl::StrCat("at most ", kMaxQuoteLines, " lines"));
  }
  if (quote.valid_until < quote.issue_date) {
    return DomainInvalid("quote.valid_until", "VALID_UNTIL_BEFORE_ISSUE_DATE",
                         "must not be before issue_date");
  }
  if (quote.win_probability < 0 || quote.win_probability > 100) {
    return DomainInvalid("quote.win_probability", "OUT_OF_RANGE", "must be 0..100 (%)");
  }
  if (absl::Status s = CheckMaxChars(quote.note, kMaxQuoteNoteChars, "quote.note"); !s.ok()) {
    return s;
  }
  std::vector<int64_t> amounts;
  std::vector<tax::Line> tax_lines;
  amounts.reserve(quote.lines.size());
  tax_lines.reserve(quote.lines.size());
  for (size_t i = 0; i < quote.lines.size(); ++i) {
    const QuoteLine& line = quote.lines[i];
    const std::string prefix = absl::StrCat("quote.lines[", i, "].");
    if (line.product_id < 0) {
      return DomainInvalid(absl::StrCat(prefix, "product_id"), "INVALID_ID",
                           "must be a product id or 0");
    }
    if (line.product_id == 0 && IsBlank(line.description)) {
      return DomainInvalid(absl::StrCat(prefix, "description"), "REQUIRED",
                           "a line needs a product or a description");
    }
    if (absl::Status s = CheckMaxChars(line.description, kMaxLineDescriptionChars,
                                       absl::StrCat(prefix, "description"));
        !s.ok()) {
      return s;
    }
    if (absl::Status s = CheckMaxChars(line.unit, kMaxUnitChars, absl::StrCat(prefix, "unit"));
        !s.ok()) {
      return s;
    }
    if (line.quantity_milli <= 0) {
      return DomainInvalid(absl::StrCat(prefix, "quantity_milli"), "INVALID_QUANTITY",
                           "must be > 0");
    }
    if (line.unit_price < 0) {
      return DomainInvalid(absl::StrCat(prefix, "unit_price"), "INVALID_UNIT_PRICE",
                           "must be >= 0");
    }
    if (!IsTaxCategory(line.tax_category)) {
      return DomainInvalid(absl::StrCat(prefix, "tax_category"), "INVALID_TAX_CATEGORY",
                           "must be STANDARD, REDUCED or EXEMPT");
    }
    // Both factors are non-negative here, so truncating division is the floor; the product
    // of two int64 fits in 128 bits.
    const __int128 amount =
        static_cast<__int128>(line.quantity_milli) * static_cast<__int128>(line.unit_price) / 1000;
    if (amount > std::numeric_limits<int64_t>::max()) {
      return DomainInvalid(absl::StrCat(prefix, "amount"), "AMOUNT_TOO_LARGE",
                           "quantity × unit price is too large");
    }
    amounts.push_back(static_cast<int64_t>(amount));
    tax_lines.push_back(tax::Line{static_cast<int64_t>(amount), line.tax_category});
  }
  absl::StatusOr<tax::Totals> totals = tax::ComputeTotals(tax_lines, rounding);
  if (!totals.ok()) {
    if (totals.status().code() == absl::StatusCode::kOutOfRange) {
      return DomainInvalid("quote.lines", "AMOUNT_TOO_LARGE", "the quote total is too large");
    }
    return totals.status();  // an unknown rounding mode: the server's configuration
  }
  for (size_t i = 0; i < quote.lines.size(); ++i) quote.lines[i].amount = amounts[i];
  quote.totals = *std::move(totals);
  return absl::OkStatus();
}

absl::Status CheckQuoteTransition(QuoteStatus from, QuoteStatus to) {
  const bool to_known = to == QuoteStatus::kSent || to == QuoteStatus::kAccepted ||
                        to == QuoteStatus::kRejected;
  switch (from) {
    case QuoteStatus::kAccepted:
    case QuoteStatus::kRejected:
      return DomainPrecondition("QUOTE_FINAL", "an accepted or rejected quote is final");
    case QuoteStatus::kDraft:
      if (to_known) return absl::OkStatus();
      break;
    case QuoteStatus::kSent:
      if (to == QuoteStatus::kAccepted || to == QuoteStatus::kRejected) return absl::OkStatus();
      if (to == QuoteStatus::kSent) {
        return DomainPrecondition("QUOTE_NOT_DRAFT", "only a draft quote can be sent");
      }
      break;
  }
  return DomainPrecondition("INVALID_TRANSITION", "this quote status change is not possible");
}

ForecastTable ComputeForecast(const std::vector<ForecastInput>& quotes, absl::CivilMonth from,
                              absl::CivilMonth to) {
  ForecastTable table;
  if (to < from) return table;
  std::vector<ForecastCellValue> blank;
  for (absl::CivilMonth m = from; m <= to; ++m) {
    ForecastCellValue cell;
    cell.month = m;
    blank.push_back(cell);
  }
  table.totals = blank;
  for (const ForecastInput& in : quotes) {
    const Quote& q = in.quote;
    if (q.expected_order_month < from || q.expected_order_month > to) continue;
    const bool open = q.status == QuoteStatus::kDraft || q.status == QuoteStatus::kSent;
    const bool won = q.status == QuoteStatus::kAccepted;
    if (!open && !won) continue;
    const size_t k = static_cast<size_t>(q.expected_order_month - from);
    ForecastCellValue& cell = table.rows.try_emplace(in.group, blank).first->second[k];
    ForecastCellValue& total = table.totals[k];
    if (open) {
      // Floor per quote, then sum: the header's Σ floor(subtotal × p / 100).
      const __int128 expected =
          FloorDiv(static_cast<__int128>(q.totals.subtotal) * q.win_probability, 100);
      cell.expected_amount = SaturatingAdd(cell.expected_amount, expected);
      total.expected_amount = SaturatingAdd(total.expected_amount, expected);
      ++cell.open_quotes;
      ++total.open_quotes;
    } else {
      cell.won_amount = SaturatingAdd(cell.won_amount, q.totals.subtotal);
      total.won_amount = SaturatingAdd(total.won_amount, q.totals.subtotal);
    }
  }
  return table;
}

void SortTodosForDay(std::vector<Todo>& todos, absl::CivilDay today) {
  std::sort(todos.begin(), todos.end(), [today](const Todo& a, const Todo& b) {
    const bool a_overdue = a.due_date < today;
    const bool b_overdue = b.due_date < today;
    return std::make_tuple(!a_overdue, a.due_date, a.id) <
           std::make_tuple(!b_overdue, b.due_date, b.id);
  });
}

}  // namespace anken::project
