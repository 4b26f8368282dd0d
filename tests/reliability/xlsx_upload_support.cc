#include "tests/reliability/xlsx_upload_support.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/xlsx/reader.h"
#include "tests/common/xlsx/xlsx_test_util.h"

namespace anken::reliability {

report::XlsxReportInfo UploadReportInfo() {
  report::XlsxReportInfo info;
  info.report_id = 4201;
  info.partner_id = 77;
  info.partner_name = "株式会社テスト工務店";
  info.month = absl::CivilMonth(2026, 11);
  info.deadline_day = absl::CivilDay(2026, 11, 6);
  return info;
}

std::string CaseNumber(int i) { return absl::StrFormat("%07d", 1000 + i); }

std::vector<report::ReportLine> UploadLines(int count) {
  std::vector<report::ReportLine> lines;
  for (int i = 1; i <= count; ++i) {
    report::ReportLine line;
    line.id = i;
    line.report_id = UploadReportInfo().report_id;
    line.snapshot.project_id = 900 + i;
    line.snapshot.case_number = CaseNumber(i);
    line.snapshot.customer_name = absl::StrCat("顧客", i);
    line.snapshot.referral_date = absl::CivilDay(2026, 8, 1);
    line.snapshot.outcome = report::Outcome::kInProgress;
    lines.push_back(std::move(line));
  }
  return lines;
}

std::string RenderUploadFile(const std::vector<report::ReportLine>& lines) {
  absl::StatusOr<std::string> bytes = report::RenderReportXlsx(UploadReportInfo(), lines);
  if (!bytes.ok()) {
    std::fprintf(stderr, "RenderReportXlsx: %s\n", bytes.status().ToString().c_str());
    std::abort();
  }
  return *std::move(bytes);
}

std::string ReportSheetPart(const std::string& rendered) {
  xlsx::XlsxReader reader;
  if (!reader.Open(rendered).ok()) std::abort();
  const xlsx::SheetInfo* sheet = reader.info().FindSheet(report::kReportSheetName);
  if (sheet == nullptr) std::abort();
  return sheet->part;
}

int SharedStringCount(const std::string& rendered) {
  const std::string sst = xlsx::testing::UnzipEntry(rendered, kSharedStringsPart);
  int count = 0;
  for (size_t at = sst.find("<si>"); at != std::string::npos; at = sst.find("<si>", at + 1)) {
    ++count;
  }
  return count;
}

std::string HeaderRowXml() {
  const char* labels[] = {"案件番号", "お客様名", "紹介日", "現在の状況", "取次状況",
                          "完了日",   "施工金額", "失注日", "報告備考"};
  std::string row = "<row r=\"7\">";
  char column = 'A';
  for (const char* label : labels) {
    absl::StrAppend(&row, "<c r=\"", std::string(1, column++), "7\" t=\"inlineStr\"><is><t>", label,
                    "</t></is></c>");
  }
  return absl::StrCat(row, "</row>");
}

std::string WithReportSheet(const std::string& rendered, const std::string& sheet_xml,
                            const std::string& extra_items) {
  std::vector<xlsx::testing::ZipEntry> entries = xlsx::testing::ZipEntries(rendered);
  const std::string sheet_part = ReportSheetPart(rendered);
  for (xlsx::testing::ZipEntry& entry : entries) {
    if (entry.name == sheet_part) entry.data = sheet_xml;
    if (entry.name == kSharedStringsPart && !extra_items.empty()) {
      const size_t end = entry.data.rfind("</sst>");
      if (end == std::string::npos) std::abort();
      entry.data.insert(end, extra_items);
    }
  }
  return xlsx::testing::BuildZip(entries);
}

UploadOutcome Upload(absl::string_view bytes, const std::vector<report::ReportLine>& lines) {
  UploadOutcome out;
  report::XlsxUpload upload = report::ReadReportXlsx(bytes, UploadReportInfo());
  out.stats = upload.stats;
  out.detail = std::move(upload.detail);
  if (upload.failure) {
    out.failure = std::move(upload.failure);
    return out;
  }
  out.plan = report::PlanUpload(lines, upload.rows, kUploadToday);
  return out;
}

}  // namespace anken::reliability
