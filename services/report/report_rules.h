#pragma once
// Pure rules of the report-intake service: the period and its deadline, the report status, the
// validation of a partner's answer (ReportChange, SubmitCaseUpdate and every uploaded .xlsx
// row), reading the editable cells of an uploaded row, submission and the commission. No I/O,
// no protobuf; links Abseil and the calendar only.
//
// Row errors carry the exact texts of DESIGN.md ("Monthly performance report"), which the
// partner help page this product replaces lists, so partners recognise every word. Each text
// belongs to exactly one stable ErrorKind code; a finer `reason` and the offending `field`
// say why, for logs and for a UI that highlights the cell.
//
// Decisions (also in DESIGN.md terms):
// - 施工完了 is final: reporting 進行中 or 失注 on a case whose current outcome is 施工完了 is
//   INVALID_COMBINATION with reason COMPLETED_IS_FINAL (the seed states the rule beside the
//   change form, and the combination text is what the partner must fix); LineErrorStatus maps
//   that reason to FAILED_PRECONDITION, everything else to INVALID_ARGUMENT. 施工完了 → 施工完了
//   (a correction), 失注 → 施工完了 and 失注 → 進行中 are allowed, as in the project service.
// - Everything the partner fixes by entering a field correctly is INVALID_COMBINATION, as the
//   seed's hints for that text say (完了日、施工金額を正しく入力してください): missing,
//   superfluous or unreadable dates and amounts, an unknown status label, dates in the future
//   or before the referral date, an amount above 999,999,999,999, remarks over 500 characters,
//   bad additional orders.
// - INVALID_REMARKS: remarks holding = + - in any width: ASCII, fullwidth ＝ ＋ －, the small
//   form variants ﹦ ﹢ ﹣, and U+2212 MINUS SIGN (what the macOS Japanese IME types for the
//   minus key; Windows types －). Not the long-vowel mark ー, dashes or 〜, which Japanese text
//   needs. Also an uploaded remarks cell that holds a formula (the partner typed "=..."). The
//   rest of the spreadsheet-injection set is refused the same way (issue #11's formula
//   matrix): @ ＠ ﹫ (reason FORBIDDEN_CHARACTER) and control characters, TAB, CR, LF and NUL
//   included, anywhere in the text (reason CONTROL_CHARACTER; an uploaded cell is trimmed of
//   spaces only, so a leading TAB is not trimmed away).
// - UNKNOWN_ERROR: what the partner cannot fix by typing — an Excel error value (#REF!, #N/A)
//   in an editable cell, text that is not UTF-8, a snapshot in no known state.
// - INVALID_CASE_NUMBER: a case-number cell that is not 1–7 digits, a number not in this
//   report, or a case listed twice. The text shows the 7-digit number when the cell holds
//   one, else the cell's text as typed (trimmed, at most 20 characters; empty when blank).
// - An amount of 0 counts as no amount (the data model stores "no amount" as 0), so a 0 left
//   in a 失注 row is not an error.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "services/report/report.h"

namespace anken::report {

inline constexpr int64_t kMaxAmount = 999'999'999'999;  // yen; billing's limit
inline constexpr size_t kMaxRemarksChars = 500;         // code points
inline constexpr size_t kMaxExtraOrders = 50;            // per change
inline constexpr size_t kMaxUploadRows = 10'000;

// ---------------------------------------------------------------------------------------------
// Period and status

// The period of `month`: deadline the end of its 4th business day (calendar::ReportDeadline).
// INVALID_ARGUMENT ("month", OUT_OF_RANGE) outside the calendar's supported years.
absl::StatusOr<Period> MakePeriod(absl::CivilMonth month);

// True when `t` is at or after the deadline.
bool IsPastDeadline(const Period& period, absl::Time t);

size_t CountChecked(const std::vector<ReportLine>& lines);
// True when every line is checked (vacuously for a report without lines).
bool AllLinesChecked(const std::vector<ReportLine>& lines);

// SUBMITTED when submitted (even late); otherwise OVERDUE at or after the deadline; otherwise
// NOT_STARTED with no line checked, IN_PROGRESS with some.
ReportStatus DeriveReportStatus(bool submitted, size_t checked_lines, absl::Time deadline,
                                absl::Time now);
ReportStatus DeriveReportStatus(const Report& report, const std::vector<ReportLine>& lines,
                                const Period& period, absl::Time now);

// A partner may change answers only while the report is not submitted: FAILED_PRECONDITION
// (REPORT_SUBMITTED) otherwise.
absl::Status CheckEditable(const Report& report);

// SubmitReport: INVALID_ARGUMENT ("attestation", ATTESTATION_REQUIRED) without the attestation
// flag; FAILED_PRECONDITION REPORT_SUBMITTED when already submitted, LINES_UNCHECKED (the
// message counts them) while a line is unchecked. Checked in that order.
absl::Status CheckSubmittable(const Report& report, const std::vector<ReportLine>& lines,
                              bool attested);

// ReopenReport (staff): INVALID_ARGUMENT ("reason", REQUIRED / TOO_LONG over 500 characters);
// FAILED_PRECONDITION (NOT_SUBMITTED) when the report is open.
absl::Status CheckReopen(const Report& report, absl::string_view reason);

// ---------------------------------------------------------------------------------------------
// Errors

enum class ErrorKind {
  kUploadFailed = 1,       // UPLOAD_FAILED
  kInvalidCaseNumber = 2,  // INVALID_CASE_NUMBER
  kInvalidCombination = 3, // INVALID_COMBINATION
  kInvalidRemarks = 4,     // INVALID_REMARKS
  kUnknownError = 5,       // UNKNOWN_ERROR
};

struct LineError {
  ErrorKind kind = ErrorKind::kUnknownError;
  std::string case_number;  // what follows 案件番号: (empty for UPLOAD_FAILED)
  int row = 0;              // sheet row as Excel numbers it; 0 when not from an upload
  // The offending field ("completion_date", "remarks", "extra_orders[0].amount"); may be empty.
  std::string field;
  std::string reason;       // finer and stable: DATE_IN_FUTURE, COMPLETED_IS_FINAL, ...
};

// "UPLOAD_FAILED", "INVALID_CASE_NUMBER", "INVALID_COMBINATION", "INVALID_REMARKS",
// "UNKNOWN_ERROR".
absl::string_view ErrorCode(ErrorKind kind);

// The exact text for the partner, e.g. "案件番号:0000123|案件番号に不正な入力があります。".
std::string ErrorMessage(const LineError& error);

// The file-level error (not an .xlsx, not our template, another report's file, too large...).
LineError UploadFailed(absl::string_view reason);

// As a status for an RPC: message = ErrorMessage, the code as the ErrorInfo reason and the
// field as a BadRequest violation (common/status/domain_error.h payloads, which ToGrpcStatus
// enriches). FAILED_PRECONDITION for COMPLETED_IS_FINAL, else INVALID_ARGUMENT.
absl::Status LineErrorStatus(const LineError& error);

// ---------------------------------------------------------------------------------------------
// Validating an answer

// "進行中", "施工完了", "失注" (empty for a value outside the enumerators).
absl::string_view OutcomeLabel(Outcome outcome);
// The inverse, exact labels only (after trimming spaces); nullopt otherwise.
absl::optional<Outcome> ParseOutcomeLabel(absl::string_view label);

// Why remarks text is INVALID_REMARKS: "FORBIDDEN_CHARACTER" (= + - @ in any width, U+2212),
// "CONTROL_CHARACTER" (C0, DEL, C1), for the first offending character; "" when it is fine.
absl::string_view RemarksProblem(absl::string_view text);
// True when RemarksProblem finds one (see the decisions above).
bool HasForbiddenRemarksCharacter(absl::string_view text);

// Checks a reported change against the case (`line`: case number, referral date, current
// outcome) with `today` the civil date in Asia/Tokyo. Returns no error when valid, else at most
// one error per kind, ordered as the seed lists them (combination, remarks, unknown), each with
// the first reason found:
//  - combination: 進行中 without dates and amount; 施工完了 with completion date and amount
//    (> 0, ≤ kMaxAmount) and no lost date; 失注 with lost date and no completion date or amount
//    (FIELD_NOT_ALLOWED, DATE_REQUIRED, AMOUNT_REQUIRED, INVALID_AMOUNT for < 0,
//    AMOUNT_TOO_LARGE, INVALID_STATUS); every date not after today (DATE_IN_FUTURE) and not
//    before the referral date (DATE_BEFORE_REFERRAL); COMPLETED_IS_FINAL; additional orders
//    (TOO_MANY_EXTRA_ORDERS, KIND_REQUIRED, the date rules, AMOUNT_REQUIRED / AMOUNT_TOO_LARGE,
//    note TOO_LONG); remarks TOO_LONG (> 500 code points);
//  - remarks: FORBIDDEN_CHARACTER;
//  - unknown: INVALID_UTF8 (remarks or a note), INVALID_SNAPSHOT (current outcome unknown).
// `row` is copied into each error.
std::vector<LineError> ValidateChange(const LineSnapshot& line, const Change& change,
                                      absl::CivilDay today, int row = 0);

// ---------------------------------------------------------------------------------------------
// Reading an uploaded row

// A cell as the .xlsx reader found it. Numbers stay in their XML text form ("46117",
// "1234567", "1.5E+3"), so no amount ever passes through floating point.
struct Cell {
  enum class Kind { kEmpty, kText, kNumber, kBool, kError };
  Kind kind = Kind::kEmpty;
  // kText: UTF-8; kNumber: the lexical number; kBool: "TRUE"/"FALSE"; kError: "#N/A" and such.
  std::string value;
  bool formula = false;  // the cell held a formula (value is its cached result)
};

// Excel's 1900 date system: serial 1 = 1900-01-01 ... 59 = 1900-02-28, 60 = the 1900-02-29
// Excel pretends existed (nullopt), 61 = 1900-03-01 ... 2958465 = 9999-12-31.
absl::optional<absl::CivilDay> ExcelSerialToDay(int64_t serial);
// The inverse, for writers; nullopt before 1900-01-01 or after 9999-12-31.
absl::optional<int64_t> DayToExcelSerial(absl::CivilDay day);

// Date text: 2026/4/5, 2026-04-05, 2026.4.5, 2026年4月5日 (fullwidth digits and separators
// too), optionally followed by a time ("2026-04-05T00:00:00", "2026/4/5 10:30") which is
// ignored. The day must exist. nullopt otherwise.
absl::optional<absl::CivilDay> ParseDateText(absl::string_view text);

// Amount text: digits with optional 3-digit comma grouping (, or ，), an optional yen sign
// before (¥, ￥, or the backslash Japanese Windows fonts draw as ¥) and 円 after, fullwidth
// digits, surrounding spaces, a fraction of zeros ("1,000.00"). Non-negative integers only;
// nullopt otherwise (also above kMaxAmount).
absl::optional<int64_t> ParseAmountText(absl::string_view text);

// The editable cells read one by one. Blank → nullopt (0 for the amount). An unreadable value
// is INVALID_ARGUMENT (→ INVALID_COMBINATION); an Excel error value is DATA_LOSS
// (→ UNKNOWN_ERROR). Dates: a number is a serial (its fraction, a time of day, is dropped),
// text as ParseDateText. Amounts: an integral number or text as ParseAmountText.
absl::StatusOr<absl::optional<Outcome>> ReadStatusCell(const Cell& cell);
absl::StatusOr<absl::optional<absl::CivilDay>> ReadDateCell(const Cell& cell);
absl::StatusOr<int64_t> ReadAmountCell(const Cell& cell);
// The 7-digit case number of a text or numeric cell holding 1–7 digits ("123" → "0000123");
// nullopt for anything else.
absl::optional<std::string> ReadCaseNumberCell(const Cell& cell);

// One data row of the uploaded sheet: its number and the cells the reader found by header.
struct UploadRow {
  int row = 0;
  Cell case_number;
  Cell status;           // 取次状況
  Cell completion_date;  // 完了日
  Cell amount;           // 施工金額
  Cell lost_date;        // 失注日
  Cell remarks;          // 報告備考
};

struct RowAnswer {
  int64_t line_id = 0;
  int row = 0;
  Answer answer = Answer::kNoChange;
  Change change;  // when kChanged
};

struct UploadPlan {
  std::vector<LineError> errors;     // row order; non-empty means the upload is refused
  std::vector<RowAnswer> answers;    // empty whenever errors is not (all or nothing)
  std::vector<int64_t> missing_line_ids;  // report lines no row named: left as they are
};

// Matches rows to the report's lines by case number and turns each into an answer:
// - a row whose cells are all blank is skipped (Excel keeps formatted empty rows);
// - no row at all (report with lines), or more than kMaxUploadRows → one UPLOAD_FAILED;
// - the status cell blank means the line's current outcome; a row whose editable cells are
//   blank, or repeat the current outcome, its dates and amount with blank remarks, is
//   変更なし; anything else is a change, validated with ValidateChange;
// - text cells are trimmed of spaces (also U+3000) at both ends.
// - a formula in the remarks cell is INVALID_REMARKS (ReadReportXlsx refuses a file with a
//   formula anywhere else: FORMULA_CELL, the upload-failed error).
UploadPlan PlanUpload(const std::vector<ReportLine>& lines, const std::vector<UploadRow>& rows,
                      absl::CivilDay today);

// ---------------------------------------------------------------------------------------------
// Submission

// A checked-as-changed line whose change differs from its snapshot.
struct LineDiff {
  int64_t line_id = 0;
  LineSnapshot before;
  Change after;
  // Among "outcome", "completion_date", "amount", "lost_date", "remarks", "extra_orders", in
  // that order. Remarks count when non-empty (the snapshot holds none).
  std::vector<std::string> changed_fields;
  bool newly_completed = false;  // before not 施工完了, after 施工完了: a commission is due
};

// The confirm page (PreviewSubmission): one diff per changed line, by case number then line
// id. 変更なし lines, unchecked lines and changes that repeat the snapshot are left out.
std::vector<LineDiff> SubmissionDiff(const std::vector<ReportLine>& lines);

// floor(amount × rate_bp / 10000), computed in 128 bits. INVALID_ARGUMENT for amount < 0 or
// rate_bp outside 0..10000 (basis points, 1% = 100).
absl::StatusOr<int64_t> Commission(int64_t amount, int32_t rate_bp);

struct CommissionItem {
  std::string source;  // "completion" or "extra_orders[i]"
  int64_t base_amount = 0;
  int64_t commission = 0;
};
// The commissions a submitted diff causes: the completion when newly completed, and each
// additional or repeat order. A correction of an already completed amount causes none here
// (billing decides how to adjust).
absl::StatusOr<std::vector<CommissionItem>> CommissionsFor(const LineDiff& diff, int32_t rate_bp);

}  // namespace anken::report
