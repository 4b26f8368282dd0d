#pragma once
// The report's 案件一覧ファイル (.xlsx): rendered for download and read back on upload. Pure (no
// gRPC, no database); the writer and the bounded reader are common/xlsx.
//
// The file: sheet 案件一覧 shows the partner, month and deadline above a table with one row per
// line: 案件番号, お客様名, 紹介日, 現在の状況 (locked) and the editable 取次状況 (a drop-down of
// 進行中 / 施工完了 / 失注), 完了日, 施工金額, 失注日, 報告備考 (unlocked), prefilled with the
// line's draft answer when it has changed, else with the case as it stands, so that an
// untouched row reads back as 変更なし. The sheet is protected without a password: it
// guards against slips, not against a partner who means to unprotect it. A hidden sheet
// _anken holds the identity (template version, report id, partner id, month); it refuses
// the file of another report, not a forgery (the caller authorises the partner anyway).
// Every text is written as a string cell, never a formula.
//
// Reading finds the table by its header labels, not by position, so re-ordered or added
// columns, re-saves by Excel / LibreOffice / openpyxl (shared or inline strings, rich text,
// extra sheets) still read. The whole file is refused (XlsxUpload::failure, UPLOAD_FAILED)
// when it is too large, unreadable or hostile (common/xlsx refuses it within ReadLimits),
// not our template, or another report's; row-level checks are PlanUpload's.
//
// Failure reasons: FILE_TOO_LARGE, UNREADABLE_FILE (the reader refused it: not a zip,
// damaged, zip bomb, DTD, path tricks, over a cap), NOT_OUR_TEMPLATE (no identity sheet,
// unknown template version, no 案件一覧 sheet; `field` names what is missing), NO_HEADER_ROW,
// MISSING_COLUMN / DUPLICATE_COLUMN (`field` is the column's label), OTHER_PARTNER,
// OTHER_REPORT, TOO_MANY_ROWS (over kMaxUploadRows non-blank rows), READ_FAILED (the reader
// failed for a reason that is not the file's, e.g. memory).

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/types/optional.h"
#include "common/xlsx/limits.h"
#include "services/report/report.h"
#include "services/report/report_rules.h"

namespace anken::report {

// What the sheet shows above the table and hides for identity.
struct XlsxReportInfo {
  int64_t report_id = 0;
  int64_t partner_id = 0;
  std::string partner_name;
  absl::CivilMonth month;
  absl::CivilDay deadline_day;
};

inline constexpr int64_t kMaxUploadBytes = 20 << 20;
inline constexpr char kReportSheetName[] = "案件一覧";
inline constexpr char kIdentitySheetName[] = "_anken";
// Changes whenever a file of the old layout could no longer be read correctly.
inline constexpr char kReportTemplateVersion[] = "anken-report-xlsx/1";

// The .xlsx of the report's lines, in the order given. INVALID_ARGUMENT for a value the file
// cannot hold (text that is not UTF-8, a date outside Excel's range, an amount past 2^53);
// INTERNAL when the writer fails.
absl::StatusOr<std::string> RenderReportXlsx(const XlsxReportInfo& info,
                                             const std::vector<ReportLine>& lines);

struct XlsxUpload {
  absl::optional<LineError> failure;  // set: the whole file is refused (UPLOAD_FAILED, reason)
  std::vector<UploadRow> rows;        // otherwise: the non-blank data rows, in sheet order
  std::string detail;                 // why it was refused, for logs (never shown to partners)
  xlsx::ReadStats stats;              // the reader's work, also when refused
};

// Reads an upload back and checks it is our template of `expected`'s report and partner
// (report_id, partner_id and month; the name and deadline are display only). Never fails
// otherwise than through `failure`.
XlsxUpload ReadReportXlsx(absl::string_view bytes, const XlsxReportInfo& expected);

}  // namespace anken::report
