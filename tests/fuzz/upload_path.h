#pragma once
// For the .xlsx fuzz targets: the report upload path (tests/reliability/xlsx_upload_support.h:
// ReadReportXlsx, then PlanUpload) for the report the committed report fixtures belong to, so
// that inputs grown from them pass the identity check and reach the table and PlanUpload. Its
// five lines hold one of each outcome, so that the state rules (施工完了 is final) run too.

#include <vector>

#include "absl/strings/string_view.h"
#include "services/report/report_rules.h"
#include "tests/reliability/xlsx_upload_support.h"

namespace anken::fuzz {

inline const std::vector<report::ReportLine>& FuzzLines() {
  static const std::vector<report::ReportLine> lines = [] {
    std::vector<report::ReportLine> out = reliability::UploadLines(5);
    out[3].snapshot.outcome = report::Outcome::kCompleted;
    out[4].snapshot.outcome = report::Outcome::kLost;
    return out;
  }();
  return lines;
}

inline void RunUploadPath(absl::string_view bytes) {
  const reliability::UploadOutcome outcome = reliability::Upload(bytes, FuzzLines());
  // Every error must render to the text partners see.
  for (const report::LineError& e : outcome.plan.errors) (void)report::ErrorMessage(e);
}

}  // namespace anken::fuzz
