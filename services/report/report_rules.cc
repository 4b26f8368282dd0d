#include "services/report/report_rules.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/strings/string_view.h"
#include "common/calendar/calendar.h"
#include "common/status/domain_error.h"

namespace anken::report {
namespace {

constexpr size_t kMaxReopenReasonChars = 500;
constexpr size_t kMaxNoteChars = 500;
constexpr size_t kMaxShownCaseNumberChars = 20;
constexpr int64_t kMaxCaseNumber = 9'999'999;
constexpr int64_t kLastExcelSerial = 2'958'465;  // 9999-12-31

// ----- UTF-8 ---------------------------------------------------------------------------------

// Decodes `text` into code points; false when it is not well-formed UTF-8 (overlongs,
// surrogates and values above U+10FFFF included), so that a count or a search can trust it.
bool DecodeUtf8(absl::string_view text, std::vector<char32_t>* out) {
  out->clear();
  out->reserve(text.size());  // at most one code point per byte: no regrowth per cell
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    int len = 0;
    char32_t cp = 0;
    if (c < 0x80) {
      len = 1;
      cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > text.size()) return false;
    for (int k = 1; k < len; ++k) {
      const unsigned char cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr char32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    out->push_back(cp);
    i += len;
  }
  return true;
}

void AppendUtf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool IsSpace(char32_t cp) {
  return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\v' || cp == '\f' ||
         cp == 0x3000 || cp == 0xA0;
}

// Spaces a partner types, without the control characters the remarks rule refuses.
bool IsBlank(char32_t cp) { return cp == ' ' || cp == 0x3000 || cp == 0xA0; }

// Trims `trimmed` characters (by default spaces: ASCII whitespace, U+3000 ideographic,
// U+00A0) at both ends. Text that is not UTF-8 is returned as it is, for the caller's UTF-8
// check to refuse.
std::string TrimSpaces(absl::string_view text, bool (*trimmed)(char32_t) = IsSpace) {
  std::vector<char32_t> cps;
  if (!DecodeUtf8(text, &cps)) return std::string(text);
  size_t b = 0;
  size_t e = cps.size();
  while (b < e && trimmed(cps[b])) ++b;
  while (e > b && trimmed(cps[e - 1])) --e;
  std::string out;
  for (size_t i = b; i < e; ++i) AppendUtf8(cps[i], &out);
  return out;
}

// Fullwidth ASCII (U+FF01..U+FF5E) to ASCII, U+3000 to a space, ￥ (U+FFE5) to ¥ (U+00A5),
// then trimmed: what a Japanese IME in fullwidth mode types for digits and separators.
// nullopt when `text` is not UTF-8.
absl::optional<std::string> NarrowAndTrim(absl::string_view text) {
  std::vector<char32_t> cps;
  if (!DecodeUtf8(text, &cps)) return absl::nullopt;
  std::string out;
  for (char32_t cp : cps) {
    if (cp >= 0xFF01 && cp <= 0xFF5E) cp = cp - 0xFF01 + 0x21;
    if (cp == 0x3000) cp = ' ';
    if (cp == 0xFFE5) cp = 0xA5;
    AppendUtf8(cp, &out);
  }
  return TrimSpaces(out);
}

// ----- numbers -------------------------------------------------------------------------------

// An XML number ("46117", "1234567.0", "1.5E+3", "-0") split exactly into its integer part
// and whether a nonzero fraction follows, so that no value passes through a double.
struct ExactNumber {
  bool negative = false;
  absl::optional<int64_t> integer_part;  // nullopt when beyond int64
  bool has_fraction = false;
};

absl::optional<ExactNumber> ParseExactNumber(absl::string_view s) {
  ExactNumber n;
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    n.negative = s[i] == '-';
    ++i;
  }
  std::string digits;
  int64_t point = 0;  // digits before the decimal point
  bool any = false;
  while (i < s.size() && absl::ascii_isdigit(s[i])) {
    digits.push_back(s[i++]);
    ++point;
    any = true;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && absl::ascii_isdigit(s[i])) {
      digits.push_back(s[i++]);
      any = true;
    }
  }
  if (!any) return absl::nullopt;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
      exp_negative = s[i] == '-';
      ++i;
    }
    int64_t exp = 0;
    bool exp_any = false;
    while (i < s.size() && absl::ascii_isdigit(s[i])) {
      // Clamped: beyond that only the sign matters (the integer part overflows or is 0).
      exp = std::min<int64_t>(exp * 10 + (s[i++] - '0'), 100'000);
      exp_any = true;
    }
    if (!exp_any) return absl::nullopt;
    point += exp_negative ? -exp : exp;
  }
  if (i != s.size()) return absl::nullopt;

  // digits[0, point) is the integer part (zeros appended when point is past the end).
  __int128 value = 0;
  bool overflow = false;
  for (int64_t k = 0; k < point; ++k) {
    const int d = k < static_cast<int64_t>(digits.size()) ? digits[k] - '0' : 0;
    if (!overflow) {
      value = value * 10 + d;
      if (value > std::numeric_limits<int64_t>::max()) overflow = true;
    }
    if (overflow && k >= static_cast<int64_t>(digits.size())) break;
  }
  for (size_t k = static_cast<size_t>(std::max<int64_t>(point, 0)); k < digits.size(); ++k) {
    if (digits[k] != '0') n.has_fraction = true;
  }
  if (!overflow) n.integer_part = static_cast<int64_t>(value);
  return n;
}

// ----- errors --------------------------------------------------------------------------------

// Collects at most one error per kind for one line; the first reason of a kind wins.
class Errors {
 public:
  Errors(std::string case_number, int row) : case_number_(std::move(case_number)), row_(row) {}

  void Add(ErrorKind kind, absl::string_view field, absl::string_view reason) {
    for (const LineError& e : errors_) {
      if (e.kind == kind) return;
    }
    errors_.push_back(LineError{kind, case_number_, row_, std::string(field), std::string(reason)});
  }
  bool Has(ErrorKind kind) const {
    for (const LineError& e : errors_) {
      if (e.kind == kind) return true;
    }
    return false;
  }
  // Ordered as the seed lists the texts (the enumerators are in that order).
  std::vector<LineError> Take() {
    std::stable_sort(errors_.begin(), errors_.end(), [](const LineError& a, const LineError& b) {
      return static_cast<int>(a.kind) < static_cast<int>(b.kind);
    });
    return std::move(errors_);
  }

 private:
  std::string case_number_;
  int row_;
  std::vector<LineError> errors_;
};

bool IsOutcome(Outcome o) {
  return o == Outcome::kInProgress || o == Outcome::kCompleted || o == Outcome::kLost;
}

void CheckDate(absl::string_view field, absl::CivilDay date, absl::CivilDay today,
               absl::CivilDay referral_date, Errors& errors) {
  if (date > today) {
    errors.Add(ErrorKind::kInvalidCombination, field, "DATE_IN_FUTURE");
  } else if (date < referral_date) {
    errors.Add(ErrorKind::kInvalidCombination, field, "DATE_BEFORE_REFERRAL");
  }
}

void CheckRemarks(absl::string_view remarks, Errors& errors) {
  std::vector<char32_t> cps;
  if (!DecodeUtf8(remarks, &cps)) {
    errors.Add(ErrorKind::kUnknownError, "remarks", "INVALID_UTF8");
    return;
  }
  if (const absl::string_view problem = RemarksProblem(remarks); !problem.empty()) {
    errors.Add(ErrorKind::kInvalidRemarks, "remarks", problem);
  }
  if (cps.size() > kMaxRemarksChars) {
    errors.Add(ErrorKind::kInvalidCombination, "remarks", "TOO_LONG");
  }
}

// The outcome's own fields, the dates against today and the referral date, the state rule and
// the additional orders: everything that is INVALID_COMBINATION or a snapshot problem.
void CheckChange(const LineSnapshot& line, const Change& c, absl::CivilDay today, Errors& errors) {
  constexpr ErrorKind kComb = ErrorKind::kInvalidCombination;
  if (!IsOutcome(line.outcome)) {
    errors.Add(ErrorKind::kUnknownError, "", "INVALID_SNAPSHOT");
    return;
  }
  switch (c.outcome) {
    case Outcome::kInProgress:
      if (c.completion_date) errors.Add(kComb, "completion_date", "FIELD_NOT_ALLOWED");
      if (c.amount != 0) errors.Add(kComb, "amount", "FIELD_NOT_ALLOWED");
      if (c.lost_date) errors.Add(kComb, "lost_date", "FIELD_NOT_ALLOWED");
      break;
    case Outcome::kCompleted:
      if (!c.completion_date) errors.Add(kComb, "completion_date", "DATE_REQUIRED");
      if (c.amount < 0) {
        errors.Add(kComb, "amount", "INVALID_AMOUNT");
      } else if (c.amount == 0) {
        errors.Add(kComb, "amount", "AMOUNT_REQUIRED");
      } else if (c.amount > kMaxAmount) {
        errors.Add(kComb, "amount", "AMOUNT_TOO_LARGE");
      }
      if (c.lost_date) errors.Add(kComb, "lost_date", "FIELD_NOT_ALLOWED");
      break;
    case Outcome::kLost:
      if (c.completion_date) errors.Add(kComb, "completion_date", "FIELD_NOT_ALLOWED");
      if (c.amount != 0) errors.Add(kComb, "amount", "FIELD_NOT_ALLOWED");
      if (!c.lost_date) errors.Add(kComb, "lost_date", "DATE_REQUIRED");
      break;
    default:
      errors.Add(kComb, "outcome", "INVALID_STATUS");
      break;
  }
  if (c.completion_date) {
    CheckDate("completion_date", *c.completion_date, today, line.referral_date, errors);
  }
  if (c.lost_date) CheckDate("lost_date", *c.lost_date, today, line.referral_date, errors);

  // Payment for a completed job has been reported and commissioned: it is never taken back.
  if (line.outcome == Outcome::kCompleted && IsOutcome(c.outcome) &&
      c.outcome != Outcome::kCompleted) {
    errors.Add(kComb, "outcome", "COMPLETED_IS_FINAL");
  }

  if (c.extra_orders.size() > kMaxExtraOrders) {
    errors.Add(kComb, "extra_orders", "TOO_MANY_EXTRA_ORDERS");
  } else {
    for (size_t i = 0; i < c.extra_orders.size(); ++i) {
      const ExtraOrder& e = c.extra_orders[i];
      const std::string prefix = absl::StrCat("extra_orders[", i, "].");
      if (e.kind != ExtraKind::kAdditional && e.kind != ExtraKind::kRepeat) {
        errors.Add(kComb, absl::StrCat(prefix, "kind"), "KIND_REQUIRED");
      }
      CheckDate(absl::StrCat(prefix, "order_date"), e.order_date, today, line.referral_date,
                errors);
      if (e.amount <= 0) {
        errors.Add(kComb, absl::StrCat(prefix, "amount"), "AMOUNT_REQUIRED");
      } else if (e.amount > kMaxAmount) {
        errors.Add(kComb, absl::StrCat(prefix, "amount"), "AMOUNT_TOO_LARGE");
      }
      std::vector<char32_t> cps;
      if (!DecodeUtf8(e.note, &cps)) {
        errors.Add(ErrorKind::kUnknownError, absl::StrCat(prefix, "note"), "INVALID_UTF8");
      } else if (cps.size() > kMaxNoteChars) {
        errors.Add(kComb, absl::StrCat(prefix, "note"), "TOO_LONG");
      }
    }
  }
}

// What the message shows for a case-number cell that is not a case number: the cell as typed,
// trimmed and cut to 20 characters; nothing when it is not UTF-8.
std::string ShownCaseNumber(const Cell& cell) {
  std::vector<char32_t> cps;
  const std::string trimmed = TrimSpaces(cell.value);
  if (!DecodeUtf8(trimmed, &cps)) return "";
  std::string out;
  for (size_t i = 0; i < cps.size() && i < kMaxShownCaseNumberChars; ++i) AppendUtf8(cps[i], &out);
  return out;
}

bool IsBlankCell(const Cell& cell) {
  if (cell.kind == Cell::Kind::kEmpty) return true;
  return cell.kind == Cell::Kind::kText && !cell.formula && TrimSpaces(cell.value).empty();
}

absl::Status InvalidCell(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("not a valid ", what));
}
absl::Status UnreadableCell() { return absl::DataLossError("the cell holds an Excel error value"); }

// Maps a cell-read failure to the row's errors.
void AddCellError(const absl::Status& s, absl::string_view field, Errors& errors) {
  if (absl::IsDataLoss(s)) {
    errors.Add(ErrorKind::kUnknownError, field, "UNREADABLE_CELL");
  } else {
    errors.Add(ErrorKind::kInvalidCombination, field,
               field == "status" ? "INVALID_STATUS"
               : field == "amount" ? "INVALID_AMOUNT"
                                   : "INVALID_DATE");
  }
}

// The remarks cell as text; a formula means the partner typed = + or - first. Only spaces are
// trimmed: a TAB, CR or LF at either end stays for the remarks rule to refuse (trimmed away,
// "\t=1" would pass as "=1"'s harmless cousin in one file and not in another).
absl::StatusOr<std::string> ReadRemarksCell(const Cell& cell) {
  switch (cell.kind) {
    case Cell::Kind::kEmpty:
      return std::string();
    case Cell::Kind::kError:
      return UnreadableCell();
    case Cell::Kind::kText:
    case Cell::Kind::kNumber:
    case Cell::Kind::kBool:
      return TrimSpaces(cell.value, IsBlank);
  }
  return UnreadableCell();
}

}  // namespace

// ----- period and status ---------------------------------------------------------------------

absl::StatusOr<Period> MakePeriod(absl::CivilMonth month) {
  if (month.year() < calendar::kFirstSupportedYear || month.year() > calendar::kLastSupportedYear) {
    return DomainInvalid("month", "OUT_OF_RANGE",
                         absl::StrCat("must be within ", calendar::kFirstSupportedYear, "..",
                                      calendar::kLastSupportedYear));
  }
  return Period{month, calendar::ReportDeadlineDay(month), calendar::ReportDeadline(month)};
}

bool IsPastDeadline(const Period& period, absl::Time t) { return t >= period.deadline; }

size_t CountChecked(const std::vector<ReportLine>& lines) {
  return static_cast<size_t>(std::count_if(lines.begin(), lines.end(), IsChecked));
}

bool AllLinesChecked(const std::vector<ReportLine>& lines) {
  return std::all_of(lines.begin(), lines.end(), IsChecked);
}

ReportStatus DeriveReportStatus(bool submitted, size_t checked_lines, absl::Time deadline,
                                absl::Time now) {
  if (submitted) return ReportStatus::kSubmitted;
  if (now >= deadline) return ReportStatus::kOverdue;
  return checked_lines == 0 ? ReportStatus::kNotStarted : ReportStatus::kInProgress;
}

ReportStatus DeriveReportStatus(const Report& report, const std::vector<ReportLine>& lines,
                                const Period& period, absl::Time now) {
  return DeriveReportStatus(report.submit_time.has_value(), CountChecked(lines), period.deadline,
                            now);
}

absl::Status CheckEditable(const Report& report) {
  if (report.submit_time) {
    return DomainPrecondition("REPORT_SUBMITTED",
                              "the report has been submitted; only staff can reopen it");
  }
  return absl::OkStatus();
}

absl::Status CheckSubmittable(const Report& report, const std::vector<ReportLine>& lines,
                              bool attested) {
  if (!attested) {
    return DomainInvalid("attestation", "ATTESTATION_REQUIRED",
                         "the partner must confirm the report (ご確認事項) before submitting");
  }
  if (report.submit_time) {
    return DomainPrecondition("REPORT_SUBMITTED", "the report has already been submitted");
  }
  const size_t unchecked = lines.size() - CountChecked(lines);
  if (unchecked > 0) {
    return DomainPrecondition("LINES_UNCHECKED",
                              absl::StrCat(unchecked, " of ", lines.size(),
                                           " cases are not checked yet"));
  }
  return absl::OkStatus();
}

absl::Status CheckReopen(const Report& report, absl::string_view reason) {
  std::vector<char32_t> cps;
  if (!DecodeUtf8(reason, &cps)) {
    return DomainInvalid("reason", "INVALID_UTF8", "must be UTF-8 text");
  }
  if (TrimSpaces(reason).empty()) return DomainInvalid("reason", "REQUIRED", "is required");
  if (cps.size() > kMaxReopenReasonChars) {
    return DomainInvalid("reason", "TOO_LONG",
                         absl::StrCat("must be at most ", kMaxReopenReasonChars, " characters"));
  }
  if (!report.submit_time) {
    return DomainPrecondition("NOT_SUBMITTED", "only a submitted report can be reopened");
  }
  return absl::OkStatus();
}

// ----- errors --------------------------------------------------------------------------------

absl::string_view ErrorCode(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kUploadFailed:
      return "UPLOAD_FAILED";
    case ErrorKind::kInvalidCaseNumber:
      return "INVALID_CASE_NUMBER";
    case ErrorKind::kInvalidCombination:
      return "INVALID_COMBINATION";
    case ErrorKind::kInvalidRemarks:
      return "INVALID_REMARKS";
    case ErrorKind::kUnknownError:
      return "UNKNOWN_ERROR";
  }
  return "UNKNOWN_ERROR";
}

std::string ErrorMessage(const LineError& error) {
  // The texts of the partner help page, byte for byte (ASCII ':' '|' '=' '+' '-').
  switch (error.kind) {
    case ErrorKind::kUploadFailed:
      return "アップロードに失敗しました。案件一覧ファイルを再度アップロードしてください。";
    case ErrorKind::kInvalidCaseNumber:
      return absl::StrCat("案件番号:", error.case_number, "|案件番号に不正な入力があります。");
    case ErrorKind::kInvalidCombination:
      return absl::StrCat("案件番号:", error.case_number,
                          "|案件状況と入力項目に不正な組み合わせがあります。");
    case ErrorKind::kInvalidRemarks:
      return absl::StrCat("案件番号:", error.case_number,
                          "|報告備考欄に不正な入力「=」「+」「-」があります。");
    case ErrorKind::kUnknownError:
      break;
  }
  return absl::StrCat("案件番号:", error.case_number, "|不明なエラーがあります。");
}

LineError UploadFailed(absl::string_view reason) {
  LineError e;
  e.kind = ErrorKind::kUploadFailed;
  e.reason = std::string(reason);
  return e;
}

absl::Status LineErrorStatus(const LineError& error) {
  const absl::StatusCode code = error.reason == "COMPLETED_IS_FINAL"
                                    ? absl::StatusCode::kFailedPrecondition
                                    : absl::StatusCode::kInvalidArgument;
  // Not DomainError: the message must be the partner's text alone, without a field prefix.
  absl::Status s(code, ErrorMessage(error));
  if (!error.field.empty()) s.SetPayload(kDomainFieldPayload, absl::Cord(error.field));
  s.SetPayload(kDomainReasonPayload, absl::Cord(ErrorCode(error.kind)));
  return s;
}

// ----- validating an answer ------------------------------------------------------------------

absl::string_view OutcomeLabel(Outcome outcome) {
  switch (outcome) {
    case Outcome::kInProgress:
      return "進行中";
    case Outcome::kCompleted:
      return "施工完了";
    case Outcome::kLost:
      return "失注";
  }
  return "";
}

absl::optional<Outcome> ParseOutcomeLabel(absl::string_view label) {
  const std::string t = TrimSpaces(label);
  for (Outcome o : {Outcome::kInProgress, Outcome::kCompleted, Outcome::kLost}) {
    if (t == OutcomeLabel(o)) return o;
  }
  return absl::nullopt;
}

namespace {

// The characters a spreadsheet or a CSV export reads as the start of a formula (OWASP's CSV
// injection list: = + - @, and TAB / CR / LF that some programs skip before one), in every
// width an IME types them, and the other control characters (NUL cannot even be stored).
absl::string_view RemarksCharacterProblem(char32_t cp) {
  switch (cp) {
    case U'=':
    case U'+':
    case U'-':
    case U'@':
    case 0xFF1D:  // ＝
    case 0xFF0B:  // ＋
    case 0xFF0D:  // －
    case 0xFF20:  // ＠
    case 0xFE66:  // ﹦
    case 0xFE62:  // ﹢
    case 0xFE63:  // ﹣
    case 0xFE6B:  // ﹫
    case 0x2212:  // − MINUS SIGN
      return "FORBIDDEN_CHARACTER";
    default:
      break;
  }
  // C0 (TAB, LF, CR, NUL...), DEL and C1 (NEL...).
  if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) return "CONTROL_CHARACTER";
  return "";
}

}  // namespace

absl::string_view RemarksProblem(absl::string_view text) {
  std::vector<char32_t> cps;
  if (!DecodeUtf8(text, &cps)) {
    // Text that is not UTF-8 is refused anyway; still name its ASCII offenders.
    for (unsigned char c : text) {
      if (c < 0x80) {
        if (absl::string_view problem = RemarksCharacterProblem(c); !problem.empty()) {
          return problem;
        }
      }
    }
    return "";
  }
  for (char32_t cp : cps) {
    if (absl::string_view problem = RemarksCharacterProblem(cp); !problem.empty()) return problem;
  }
  return "";
}

bool HasForbiddenRemarksCharacter(absl::string_view text) { return !RemarksProblem(text).empty(); }

std::vector<LineError> ValidateChange(const LineSnapshot& line, const Change& change,
                                      absl::CivilDay today, int row) {
  Errors errors(line.case_number, row);
  CheckChange(line, change, today, errors);
  CheckRemarks(change.remarks, errors);
  return errors.Take();
}

// ----- reading an uploaded row ---------------------------------------------------------------

absl::optional<absl::CivilDay> ExcelSerialToDay(int64_t serial) {
  if (serial >= 1 && serial <= 59) return absl::CivilDay(1899, 12, 31) + serial;
  if (serial >= 61 && serial <= kLastExcelSerial) return absl::CivilDay(1899, 12, 30) + serial;
  return absl::nullopt;  // 0 ("1900-01-00"), 60 (1900-02-29), negative, beyond 9999-12-31
}

absl::optional<int64_t> DayToExcelSerial(absl::CivilDay day) {
  if (day < absl::CivilDay(1900, 1, 1) || day > absl::CivilDay(9999, 12, 31)) return absl::nullopt;
  if (day < absl::CivilDay(1900, 3, 1)) return day - absl::CivilDay(1899, 12, 31);
  return day - absl::CivilDay(1899, 12, 30);
}

namespace {

// Reads 1..max_len ASCII digits at s[*i].
absl::optional<int> ReadDigits(absl::string_view s, size_t* i, size_t max_len) {
  size_t n = 0;
  int v = 0;
  while (*i < s.size() && n < max_len && absl::ascii_isdigit(s[*i])) {
    v = v * 10 + (s[*i] - '0');
    ++*i;
    ++n;
  }
  if (n == 0 || (*i < s.size() && absl::ascii_isdigit(s[*i]))) return absl::nullopt;
  return v;
}

bool Consume(absl::string_view s, size_t* i, absl::string_view token) {
  if (s.substr(*i, token.size()) != token) return false;
  *i += token.size();
  return true;
}

// An optional time after a date: [T or spaces] H:MM[:SS[.fff]][Z]; the day is what counts.
bool IsTimeSuffix(absl::string_view rest) {
  if (rest.empty()) return true;
  size_t i = 0;
  if (rest[0] == 'T') {
    i = 1;
  } else {
    while (i < rest.size() && rest[i] == ' ') ++i;
    if (i == 0) return false;
  }
  absl::optional<int> h = ReadDigits(rest, &i, 2);
  if (!h || *h > 23 || !Consume(rest, &i, ":")) return false;
  absl::optional<int> m = ReadDigits(rest, &i, 2);
  if (!m || *m > 59) return false;
  if (Consume(rest, &i, ":")) {
    absl::optional<int> sec = ReadDigits(rest, &i, 2);
    if (!sec || *sec > 59) return false;
    if (Consume(rest, &i, ".")) {
      size_t digits = 0;
      while (i < rest.size() && absl::ascii_isdigit(rest[i])) ++i, ++digits;
      if (digits == 0) return false;
    }
  }
  Consume(rest, &i, "Z");
  return i == rest.size();
}

}  // namespace

absl::optional<absl::CivilDay> ParseDateText(absl::string_view text) {
  absl::optional<std::string> narrowed = NarrowAndTrim(text);
  if (!narrowed) return absl::nullopt;
  const absl::string_view s = *narrowed;
  size_t i = 0;
  absl::optional<int> y = ReadDigits(s, &i, 4);
  if (!y || i != 4) return absl::nullopt;
  absl::optional<int> m;
  absl::optional<int> d;
  if (Consume(s, &i, "年")) {
    m = ReadDigits(s, &i, 2);
    if (!m || !Consume(s, &i, "月")) return absl::nullopt;
    d = ReadDigits(s, &i, 2);
    if (!d || !Consume(s, &i, "日")) return absl::nullopt;
  } else {
    if (i >= s.size() || (s[i] != '/' && s[i] != '-' && s[i] != '.')) return absl::nullopt;
    const char sep = s[i++];
    m = ReadDigits(s, &i, 2);
    if (!m || i >= s.size() || s[i] != sep) return absl::nullopt;
    ++i;
    d = ReadDigits(s, &i, 2);
    if (!d) return absl::nullopt;
  }
  if (!IsTimeSuffix(s.substr(i))) return absl::nullopt;
  if (*y < 1900) return absl::nullopt;
  const absl::CivilDay day(*y, *m, *d);
  // CivilDay normalizes 2026-02-30 to 03-02: the day exists only if it round-trips.
  if (day.year() != *y || day.month() != *m || day.day() != *d) return absl::nullopt;
  return day;
}


absl::optional<int64_t> ParseAmountText(absl::string_view text) {
  absl::optional<std::string> narrowed = NarrowAndTrim(text);
  if (!narrowed) return absl::nullopt;
  absl::string_view s = *narrowed;
  // The yen sign before: ¥ (￥ was narrowed to it), or the backslash that Japanese Windows
  // fonts draw as ¥ and that survives copy and paste.
  if (absl::ConsumePrefix(&s, "\xC2\xA5") || absl::ConsumePrefix(&s, "\\")) {
    s = absl::StripLeadingAsciiWhitespace(s);
  }
  if (absl::ConsumeSuffix(&s, "円")) s = absl::StripTrailingAsciiWhitespace(s);

  std::string digits;
  size_t i = 0;
  size_t group = 0;  // digits in the current group
  bool grouped = false;
  while (i < s.size() && (absl::ascii_isdigit(s[i]) || s[i] == ',')) {
    if (s[i] == ',') {
      // Commas only as thousands separators: 1–3 digits first, then groups of exactly 3.
      if (group == 0 || (grouped ? group != 3 : group > 3)) return absl::nullopt;
      grouped = true;
      group = 0;
    } else {
      digits.push_back(s[i]);
      ++group;
    }
    ++i;
  }
  if (digits.empty() || group == 0 || (grouped && group != 3)) return absl::nullopt;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t zeros = 0;
    while (i < s.size() && s[i] == '0') ++i, ++zeros;
    if (zeros == 0) return absl::nullopt;  // "1000." and "1000.5" are not whole yen
  }
  if (i != s.size()) return absl::nullopt;
  const size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return 0;
  if (digits.size() - first > 12) return absl::nullopt;  // kMaxAmount has 12 digits
  int64_t v = 0;
  for (size_t k = first; k < digits.size(); ++k) v = v * 10 + (digits[k] - '0');
  if (v > kMaxAmount) return absl::nullopt;
  return v;
}

absl::StatusOr<absl::optional<Outcome>> ReadStatusCell(const Cell& cell) {
  switch (cell.kind) {
    case Cell::Kind::kEmpty:
      return absl::optional<Outcome>();
    case Cell::Kind::kError:
      return UnreadableCell();
    case Cell::Kind::kText: {
      if (TrimSpaces(cell.value).empty()) return absl::optional<Outcome>();
      absl::optional<Outcome> o = ParseOutcomeLabel(cell.value);
      if (!o) return InvalidCell("status (進行中 / 施工完了 / 失注)");
      return o;
    }
    case Cell::Kind::kNumber:
    case Cell::Kind::kBool:
      break;
  }
  return InvalidCell("status (進行中 / 施工完了 / 失注)");
}

absl::StatusOr<absl::optional<absl::CivilDay>> ReadDateCell(const Cell& cell) {
  switch (cell.kind) {
    case Cell::Kind::kEmpty:
      return absl::optional<absl::CivilDay>();
    case Cell::Kind::kError:
      return UnreadableCell();
    case Cell::Kind::kText: {
      if (TrimSpaces(cell.value).empty()) return absl::optional<absl::CivilDay>();
      absl::optional<absl::CivilDay> d = ParseDateText(cell.value);
      if (!d) return InvalidCell("date");
      return d;
    }
    case Cell::Kind::kNumber: {
      absl::optional<ExactNumber> n = ParseExactNumber(TrimSpaces(cell.value));
      if (!n || n->negative || !n->integer_part) return InvalidCell("date");
      // A fraction is a time of day: the serial's integer part is the day.
      absl::optional<absl::CivilDay> d = ExcelSerialToDay(*n->integer_part);
      if (!d) return InvalidCell("date");
      return d;
    }
    case Cell::Kind::kBool:
      break;
  }
  return InvalidCell("date");
}

absl::StatusOr<int64_t> ReadAmountCell(const Cell& cell) {
  switch (cell.kind) {
    case Cell::Kind::kEmpty:
      return 0;
    case Cell::Kind::kError:
      return UnreadableCell();
    case Cell::Kind::kText: {
      if (TrimSpaces(cell.value).empty()) return 0;
      absl::optional<int64_t> a = ParseAmountText(cell.value);
      if (!a) return InvalidCell("amount");
      return *a;
    }
    case Cell::Kind::kNumber: {
      absl::optional<ExactNumber> n = ParseExactNumber(TrimSpaces(cell.value));
      if (!n || !n->integer_part || n->has_fraction) return InvalidCell("amount");
      if (*n->integer_part == 0) return 0;  // "-0" too
      if (n->negative || *n->integer_part > kMaxAmount) return InvalidCell("amount");
      return *n->integer_part;
    }
    case Cell::Kind::kBool:
      break;
  }
  return InvalidCell("amount");
}

absl::optional<std::string> ReadCaseNumberCell(const Cell& cell) {
  int64_t n = 0;
  if (cell.kind == Cell::Kind::kText) {
    absl::optional<std::string> t = NarrowAndTrim(cell.value);
    if (!t || t->empty() || t->size() > 7) return absl::nullopt;
    for (char c : *t) {
      if (!absl::ascii_isdigit(c)) return absl::nullopt;
      n = n * 10 + (c - '0');
    }
  } else if (cell.kind == Cell::Kind::kNumber) {
    // Excel turns a retyped "0000123" into the number 123.
    absl::optional<ExactNumber> e = ParseExactNumber(TrimSpaces(cell.value));
    if (!e || e->negative || e->has_fraction || !e->integer_part) return absl::nullopt;
    n = *e->integer_part;
  } else {
    return absl::nullopt;
  }
  if (n < 1 || n > kMaxCaseNumber) return absl::nullopt;
  return absl::StrFormat("%07d", n);
}

UploadPlan PlanUpload(const std::vector<ReportLine>& lines, const std::vector<UploadRow>& rows,
                      absl::CivilDay today) {
  UploadPlan plan;
  std::vector<const UploadRow*> data;
  for (const UploadRow& r : rows) {
    if (IsBlankCell(r.case_number) && IsBlankCell(r.status) && IsBlankCell(r.completion_date) &&
        IsBlankCell(r.amount) && IsBlankCell(r.lost_date) && IsBlankCell(r.remarks)) {
      continue;
    }
    data.push_back(&r);
  }
  if (data.size() > kMaxUploadRows) {
    plan.errors.push_back(UploadFailed("TOO_MANY_ROWS"));
    return plan;
  }
  if (data.empty() && !lines.empty()) {
    plan.errors.push_back(UploadFailed("NO_ROWS"));
    return plan;
  }

  std::map<std::string, const ReportLine*> by_number;
  for (const ReportLine& l : lines) by_number.emplace(l.snapshot.case_number, &l);
  std::set<std::string> seen;

  for (const UploadRow* r : data) {
    absl::optional<std::string> number = ReadCaseNumberCell(r->case_number);
    if (!number) {
      plan.errors.push_back(LineError{ErrorKind::kInvalidCaseNumber,
                                      ShownCaseNumber(r->case_number), r->row, "case_number",
                                      "MALFORMED_CASE_NUMBER"});
      continue;
    }
    auto it = by_number.find(*number);
    if (it == by_number.end()) {
      plan.errors.push_back(LineError{ErrorKind::kInvalidCaseNumber, *number, r->row,
                                      "case_number", "UNKNOWN_CASE_NUMBER"});
      continue;
    }
    if (!seen.insert(*number).second) {
      plan.errors.push_back(LineError{ErrorKind::kInvalidCaseNumber, *number, r->row,
                                      "case_number", "DUPLICATE_CASE_NUMBER"});
      continue;
    }
    const ReportLine& line = *it->second;
    const LineSnapshot& snap = line.snapshot;
    Errors errors(*number, r->row);

    // Excel makes a formula of text typed with = + or - first: that is the remarks rule.
    std::string remarks;
    bool remarks_ok = true;
    if (r->remarks.formula) {
      errors.Add(ErrorKind::kInvalidRemarks, "remarks", "FORMULA");
      remarks_ok = false;
    } else {
      absl::StatusOr<std::string> rm = ReadRemarksCell(r->remarks);
      if (rm.ok()) {
        remarks = *std::move(rm);
      } else {
        AddCellError(rm.status(), "remarks", errors);
        remarks_ok = false;
      }
    }
    absl::StatusOr<absl::optional<Outcome>> status = ReadStatusCell(r->status);
    absl::StatusOr<absl::optional<absl::CivilDay>> completion = ReadDateCell(r->completion_date);
    absl::StatusOr<int64_t> amount = ReadAmountCell(r->amount);
    absl::StatusOr<absl::optional<absl::CivilDay>> lost = ReadDateCell(r->lost_date);
    if (!status.ok()) AddCellError(status.status(), "status", errors);
    if (!completion.ok()) AddCellError(completion.status(), "completion_date", errors);
    if (!amount.ok()) AddCellError(amount.status(), "amount", errors);
    if (!lost.ok()) AddCellError(lost.status(), "lost_date", errors);

    if (status.ok() && completion.ok() && amount.ok() && lost.ok()) {
      Change c;
      c.outcome = status->value_or(snap.outcome);
      c.completion_date = *completion;
      c.amount = *amount;
      c.lost_date = *lost;
      c.remarks = remarks;
      const bool blank = !status->has_value() && !c.completion_date && c.amount == 0 &&
                         !c.lost_date && remarks.empty();
      const bool same = c.outcome == snap.outcome && c.completion_date == snap.completion_date &&
                        c.amount == snap.amount && c.lost_date == snap.lost_date &&
                        remarks.empty();
      if (remarks_ok && (blank || same)) {
        plan.answers.push_back(RowAnswer{line.id, r->row, Answer::kNoChange, Change()});
        continue;
      }
      CheckChange(snap, c, today, errors);
      if (remarks_ok) CheckRemarks(c.remarks, errors);
      std::vector<LineError> found = errors.Take();
      if (found.empty()) {
        plan.answers.push_back(RowAnswer{line.id, r->row, Answer::kChanged, std::move(c)});
      } else {
        for (LineError& e : found) plan.errors.push_back(std::move(e));
      }
      continue;
    }
    if (remarks_ok) CheckRemarks(remarks, errors);
    for (LineError& e : errors.Take()) plan.errors.push_back(std::move(e));
  }

  for (const ReportLine& l : lines) {
    if (seen.count(l.snapshot.case_number) == 0) plan.missing_line_ids.push_back(l.id);
  }
  if (!plan.errors.empty()) plan.answers.clear();  // all or nothing
  return plan;
}

// ----- submission ----------------------------------------------------------------------------

std::vector<LineDiff> SubmissionDiff(const std::vector<ReportLine>& lines) {
  std::vector<LineDiff> out;
  for (const ReportLine& l : lines) {
    if (l.answer != Answer::kChanged) continue;
    const LineSnapshot& b = l.snapshot;
    const Change& a = l.change;
    LineDiff d;
    if (a.outcome != b.outcome) d.changed_fields.push_back("outcome");
    if (a.completion_date != b.completion_date) d.changed_fields.push_back("completion_date");
    if (a.amount != b.amount) d.changed_fields.push_back("amount");
    if (a.lost_date != b.lost_date) d.changed_fields.push_back("lost_date");
    if (!a.remarks.empty()) d.changed_fields.push_back("remarks");
    if (!a.extra_orders.empty()) d.changed_fields.push_back("extra_orders");
    if (d.changed_fields.empty()) continue;
    d.line_id = l.id;
    d.before = b;
    d.after = a;
    d.newly_completed = b.outcome != Outcome::kCompleted && a.outcome == Outcome::kCompleted;
    out.push_back(std::move(d));
  }
  std::sort(out.begin(), out.end(), [](const LineDiff& x, const LineDiff& y) {
    return std::tie(x.before.case_number, x.line_id) < std::tie(y.before.case_number, y.line_id);
  });
  return out;
}

absl::StatusOr<int64_t> Commission(int64_t amount, int32_t rate_bp) {
  if (amount < 0) return DomainInvalid("amount", "OUT_OF_RANGE", "must be >= 0");
  if (rate_bp < 0 || rate_bp > 10'000) {
    return DomainInvalid("commission_rate_bp", "OUT_OF_RANGE", "must be within 0..10000");
  }
  // Both factors are non-negative, so truncation is the floor; 128 bits hold the product of any
  // int64 and 10,000, and the quotient is at most `amount`.
  const __int128 product = static_cast<__int128>(amount) * rate_bp;
  return static_cast<int64_t>(product / 10'000);
}

absl::StatusOr<std::vector<CommissionItem>> CommissionsFor(const LineDiff& diff, int32_t rate_bp) {
  std::vector<CommissionItem> items;
  if (diff.newly_completed) {
    absl::StatusOr<int64_t> c = Commission(diff.after.amount, rate_bp);
    if (!c.ok()) return c.status();
    items.push_back(CommissionItem{"completion", diff.after.amount, *c});
  }
  for (size_t i = 0; i < diff.after.extra_orders.size(); ++i) {
    const int64_t base = diff.after.extra_orders[i].amount;
    absl::StatusOr<int64_t> c = Commission(base, rate_bp);
    if (!c.ok()) return c.status();
    items.push_back(CommissionItem{absl::StrCat("extra_orders[", i, "]"), base, *c});
  }
  return items;
}

}  // namespace anken::report
