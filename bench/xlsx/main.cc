// anken-bench-xlsx: the .xlsx upload benchmark's C++ readers, one per process run so that
// bench/run can alternate them with openpyxl (bench/xlsx/openpyxl_read.py).
//
//   anken-bench-xlsx make --rows=10000 --out=report.xlsx
//   anken-bench-xlsx read --reader=floor|common|report --file=report.xlsx --iterations=5
//                         [--json_out=results.jsonl] [--label=run=1]
//
// Readers: floor = bench/xlsx/floor_reader (libzip + expat, nothing else); common =
// common/xlsx's bounded reader streaming the report sheet; report = what the report service
// does with an upload before touching the database: ReadReportXlsx (template and identity
// checks) + PlanUpload (row validation). Prints the median and best time of the iterations,
// rows/s and the process' peak RSS. Exit 0, 1 when a reader failed, 2 on bad usage.

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "bench/xlsx/floor_reader.h"
#include "bench/xlsx/report_file.h"
#include "common/json/json_text.h"
#include "common/xlsx/reader.h"
#include "services/report/report_rules.h"
#include "services/report/report_xlsx.h"

ABSL_FLAG(int, rows, 10000, "make: report lines");
ABSL_FLAG(std::string, out, "", "make: where to write the file");
ABSL_FLAG(std::string, reader, "floor", "read: floor, common or report");
ABSL_FLAG(std::string, file, "", "read: the .xlsx");
ABSL_FLAG(int, iterations, 5, "read: reads of the file (the median is reported)");
ABSL_FLAG(std::string, label, "", "free text copied into the JSON line");
ABSL_FLAG(std::string, json_out, "", "append the JSON line to this file ('-': stdout)");

namespace anken::bench {
namespace {

struct Outcome {
  int64_t rows = 0;
  int64_t cells = 0;
  int64_t items = 0;   // report: answers planned
  int64_t errors = 0;  // report: row errors (the file is valid: must be 0)
};

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot open " + path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

absl::StatusOr<std::string> ReportSheetPart(absl::string_view bytes) {
  xlsx::XlsxReader reader;
  if (absl::Status s = reader.Open(bytes); !s.ok()) return s;
  const xlsx::SheetInfo* sheet = reader.info().FindSheet(report::kReportSheetName);
  if (sheet == nullptr) return absl::NotFoundError("no report sheet");
  return sheet->part;
}

absl::StatusOr<Outcome> ReadOnce(const std::string& reader, absl::string_view bytes,
                                 const std::string& sheet_part,
                                 const std::vector<report::ReportLine>& lines) {
  Outcome o;
  if (reader == "floor") {
    absl::StatusOr<FloorCounts> c = FloorReadSheet(bytes, sheet_part);
    if (!c.ok()) return c.status();
    o.rows = c->rows;
    o.cells = c->cells;
  } else if (reader == "common") {
    xlsx::XlsxReader r;
    if (absl::Status s = r.Open(bytes); !s.ok()) return s;
    absl::Status s = r.ReadSheet(report::kReportSheetName, [&o](const xlsx::Row& row) {
      ++o.rows;
      o.cells += static_cast<int64_t>(row.cells.size());
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
  } else if (reader == "report") {
    report::XlsxUpload upload = report::ReadReportXlsx(bytes, BenchReportInfo());
    if (upload.failure.has_value()) {
      return absl::InvalidArgumentError("upload refused: " + upload.detail);
    }
    report::UploadPlan plan = report::PlanUpload(lines, upload.rows, BenchUploadDay());
    o.rows = upload.stats.rows;
    o.cells = upload.stats.cells;
    o.items = static_cast<int64_t>(plan.answers.size());
    o.errors = static_cast<int64_t>(plan.errors.size());
  } else {
    return absl::InvalidArgumentError("unknown --reader " + reader);
  }
  return o;
}

double PeakRssMb() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // kB on Linux
}

int Make() {
  const std::string out = absl::GetFlag(FLAGS_out);
  if (out.empty()) {
    std::cerr << "anken-bench-xlsx make: --out is required\n";
    return 2;
  }
  absl::StatusOr<std::string> bytes = RenderBenchReport(absl::GetFlag(FLAGS_rows));
  if (!bytes.ok()) {
    std::cerr << "anken-bench-xlsx make: " << bytes.status() << "\n";
    return 1;
  }
  std::ofstream file(out, std::ios::binary);
  file << *bytes;
  if (!file) {
    std::cerr << "anken-bench-xlsx make: cannot write " << out << "\n";
    return 1;
  }
  std::cout << "wrote " << out << " (" << bytes->size() << " bytes, "
            << absl::GetFlag(FLAGS_rows) << " lines)\n";
  return 0;
}

int Read() {
  const std::string reader = absl::GetFlag(FLAGS_reader);
  absl::StatusOr<std::string> bytes = ReadFile(absl::GetFlag(FLAGS_file));
  if (!bytes.ok()) {
    std::cerr << "anken-bench-xlsx read: " << bytes.status() << "\n";
    return 2;
  }
  // Outside the timed reads: where the sheet is (the floor does not look for it) and the
  // report's lines (loaded from the database in the service).
  absl::StatusOr<std::string> part = ReportSheetPart(*bytes);
  if (!part.ok()) {
    std::cerr << "anken-bench-xlsx read: " << part.status() << "\n";
    return 1;
  }
  const std::vector<report::ReportLine> lines =
      reader == "report" ? BenchReportLines(absl::GetFlag(FLAGS_rows))
                         : std::vector<report::ReportLine>();
  const int iterations = std::max(1, absl::GetFlag(FLAGS_iterations));
  std::vector<double> ms;
  Outcome outcome;
  for (int i = 0; i < iterations; ++i) {
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<Outcome> o = ReadOnce(reader, *bytes, *part, lines);
    const auto end = std::chrono::steady_clock::now();
    if (!o.ok()) {
      std::cerr << "anken-bench-xlsx read --reader=" << reader << ": " << o.status() << "\n";
      return 1;
    }
    outcome = *o;
    ms.push_back(std::chrono::duration<double, std::milli>(end - start).count());
  }
  std::vector<double> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted[sorted.size() / 2];
  const double best = sorted.front();
  const double rows_per_s = median > 0 ? static_cast<double>(outcome.rows) / (median / 1000) : 0;
  std::cout << absl::StrFormat(
      "xlsx %-7s %6d rows  median %8.2f ms  best %8.2f ms  %9.0f rows/s  peak RSS %.1f MB%s\n",
      reader, outcome.rows, median, best, rows_per_s, PeakRssMb(),
      reader == "report" ? absl::StrFormat("  answers %d errors %d", outcome.items, outcome.errors)
                         : std::string());
  const std::string line = absl::StrFormat(
      "{\"kind\":\"xlsx\",\"reader\":%s,\"label\":%s,\"file_bytes\":%d,\"rows\":%d,"
      "\"cells\":%d,\"items\":%d,\"error_count\":%d,\"iterations\":%d,\"median_ms\":%.3f,"
      "\"best_ms\":%.3f,\"rows_per_s\":%.1f,\"peak_rss_mb\":%.1f}",
      json::String(reader), json::String(absl::GetFlag(FLAGS_label)), bytes->size(),
      outcome.rows, outcome.cells, outcome.items, outcome.errors, iterations, median, best,
      rows_per_s, PeakRssMb());
  const std::string json_out = absl::GetFlag(FLAGS_json_out);
  if (json_out == "-") {
    std::cout << line << "\n";
  } else if (!json_out.empty()) {
    std::ofstream out(json_out, std::ios::app);
    out << line << "\n";
  }
  return outcome.errors > 0 ? 1 : 0;
}

int Main(int argc, char** argv) {
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  const std::string command = args.size() > 1 ? args[1] : "";
  if (command == "make") return Make();
  if (command == "read") return Read();
  std::cerr << "usage: anken-bench-xlsx make|read [flags] (--help)\n";
  return 2;
}

}  // namespace
}  // namespace anken::bench

int main(int argc, char** argv) { return anken::bench::Main(argc, argv); }
