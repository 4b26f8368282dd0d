#pragma once
// The 10,000-row report upload the .xlsx benchmarks read: a deterministic report (lines,
// identity) and, when the report service's .xlsx code is built, its real download rendered
// with a third of the lines answered as changes, so that reading it back validates real work.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "services/report/report.h"
#include "services/report/report_xlsx.h"

namespace anken::bench {

// The report's identity (what ReadReportXlsx expects) and the day the upload is planned on.
report::XlsxReportInfo BenchReportInfo();
absl::CivilDay BenchUploadDay();

// `n` lines, unanswered (the report as stored before the upload).
std::vector<report::ReportLine> BenchReportLines(int n);

// The file a partner would upload: the download of BenchReportLines(n) with every third line
// answered 施工完了 and every tenth 失注 (the rest read back as 変更なし).
absl::StatusOr<std::string> RenderBenchReport(int n);

}  // namespace anken::bench
