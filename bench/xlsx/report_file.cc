#include "bench/xlsx/report_file.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace anken::bench {

report::XlsxReportInfo BenchReportInfo() {
  report::XlsxReportInfo info;
  info.report_id = 1;
  info.partner_id = 9001;
  info.partner_name = "株式会社ベンチ工務店";
  info.month = absl::CivilMonth(2025, 7);
  info.deadline_day = absl::CivilDay(2025, 7, 4);
  return info;
}

absl::CivilDay BenchUploadDay() { return absl::CivilDay(2025, 7, 2); }

std::vector<report::ReportLine> BenchReportLines(int n) {
  std::vector<report::ReportLine> lines;
  lines.reserve(static_cast<size_t>(n));
  for (int i = 1; i <= n; ++i) {
    report::ReportLine line;
    line.id = i;
    line.report_id = 1;
    line.snapshot.project_id = i;
    line.snapshot.case_number = absl::StrFormat("%07d", i);
    line.snapshot.customer_name = absl::StrCat("顧客", i, " 様邸リフォーム");
    line.snapshot.referral_date = absl::CivilDay(2025, 1, 1) + (i % 150);
    line.snapshot.outcome = report::Outcome::kInProgress;
    lines.push_back(std::move(line));
  }
  return lines;
}

absl::StatusOr<std::string> RenderBenchReport(int n) {
  std::vector<report::ReportLine> lines = BenchReportLines(n);
  for (report::ReportLine& line : lines) {
    if (line.id % 3 == 0) {
      line.answer = report::Answer::kChanged;
      line.change.outcome = report::Outcome::kCompleted;
      line.change.completion_date = absl::CivilDay(2025, 6, 1) + (line.id % 28);
      line.change.amount = 100'000 + line.id * 37;
      line.change.remarks = "施工完了しました";
    } else if (line.id % 10 == 0) {
      line.answer = report::Answer::kChanged;
      line.change.outcome = report::Outcome::kLost;
      line.change.lost_date = absl::CivilDay(2025, 6, 15);
      line.change.remarks = "お客様都合により失注";
    }
  }
  return report::RenderReportXlsx(BenchReportInfo(), lines);
}

}  // namespace anken::bench
