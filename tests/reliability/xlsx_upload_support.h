#pragma once
// Shared by the suite's .xlsx scenarios (xlsx_formula_matrix_test, xlsx_hostile_test) and the
// report upload fuzz targets (tests/fuzz): a report of N open lines, its real rendered
// 案件一覧ファイル, that file with the table sheet (and extra shared strings) swapped for
// crafted XML, and the upload path the service runs on it — ReadReportXlsx, then PlanUpload —
// without gRPC or a database. No reliability_support dependency, so the fuzz build can
// compile it with clang.
//
// The report is the one the committed report fixtures (tests/services/report/testdata) were
// rendered for — report 4201 of partner 77, November 2026, cases from 0001001 — so that those
// files, and the fuzz inputs grown from them, read as uploads of it too.

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/types/optional.h"
#include "common/xlsx/limits.h"
#include "services/report/report.h"
#include "services/report/report_rules.h"
#include "services/report/report_xlsx.h"

namespace anken::reliability {

// DESIGN.md's file-level error, word for word.
inline constexpr char kUploadFailedText[] =
    "アップロードに失敗しました。案件一覧ファイルを再度アップロードしてください。";

// The day PlanUpload takes as today (every line was referred before it).
inline constexpr absl::CivilDay kUploadToday(2026, 11, 20);

// The report the uploads are for (see above).
report::XlsxReportInfo UploadReportInfo();

// `count` open lines (進行中, referred 2026-08-01) numbered 0001001, 0001002, ...; line i
// (from 1) has id i.
std::vector<report::ReportLine> UploadLines(int count);

// The 7-digit case number of line `i` ("0001012" for 12).
std::string CaseNumber(int i);

// RenderReportXlsx of UploadReportInfo() and `lines`; aborts the test binary on failure.
std::string RenderUploadFile(const std::vector<report::ReportLine>& lines);

// The zip entry of the rendered file's 案件一覧 sheet and of its shared strings.
std::string ReportSheetPart(const std::string& rendered);
inline constexpr char kSharedStringsPart[] = "xl/sharedStrings.xml";

// How many <si> items the rendered file's shared strings hold: the index the first item
// appended by WithReportSheet gets.
int SharedStringCount(const std::string& rendered);

// The table's header row (row 7) as the template writes its labels, as inline strings.
std::string HeaderRowXml();

// `rendered` with the 案件一覧 sheet replaced by `sheet_xml` and `extra_items` (<si>...</si>
// XML) appended to the shared strings the identity sheet also uses.
std::string WithReportSheet(const std::string& rendered, const std::string& sheet_xml,
                            const std::string& extra_items = "");

// What the upload path decided about a file.
struct UploadOutcome {
  absl::optional<report::LineError> failure;  // the whole file refused (UPLOAD_FAILED)
  std::string detail;                         // why, for logs
  xlsx::ReadStats stats;                      // the reader's work
  report::UploadPlan plan;                    // when not refused: row errors or answers
};

// ReadReportXlsx(bytes, UploadReportInfo()), then PlanUpload(lines, rows, kUploadToday) when
// the file was read — the order the report service's UploadReportXlsx handler runs them in.
UploadOutcome Upload(absl::string_view bytes, const std::vector<report::ReportLine>& lines);

}  // namespace anken::reliability
