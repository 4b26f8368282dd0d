// anken-micro: Google Benchmark micro-benchmarks of the pure hot paths — recurring plan
// generation and renewal, consumption tax, the business calendar, payer-name (kana)
// normalisation and the .xlsx readers. Absolute numbers for regressions; bench/run records
// them (--benchmark_format=json) but gates nothing on them.
//
//   anken-micro [--benchmark_filter=Tax] [--benchmark_min_time=0.1]

#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "benchmark/benchmark.h"
#include "common/calendar/calendar.h"
#include "common/tax/tax.h"
#include "services/billing/payment_rules.h"
#include "services/billing/recurrence.h"
#ifdef ANKEN_BENCH_HAVE_REPORT_XLSX
#include "bench/xlsx/floor_reader.h"
#include "bench/xlsx/report_file.h"
#include "common/xlsx/reader.h"
#include "services/report/report_rules.h"
#include "services/report/report_xlsx.h"
#endif

namespace anken::bench {
namespace {

// ---- plan generation (services/billing/recurrence.h) ----

billing::RecurringTerms Terms(billing::Interval interval, bool split, int years) {
  billing::RecurringTerms t;
  t.interval = interval;
  t.split_revenue = split;
  t.amount = 55'000;
  t.start_month = absl::CivilMonth(2019, 6);
  t.end_month = absl::CivilMonth(2019 + years, 5);
  t.auto_renew = true;
  t.renewal_unit_months = 12;
  return t;
}

void BM_GenerateEntries_Monthly5y(benchmark::State& state) {
  const billing::RecurringTerms t = Terms(billing::Interval::kMonthly, false, 5);
  for (auto _ : state) {
    std::vector<billing::PlannedEntry> e = billing::GenerateEntries(t);
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(state.iterations() * 60);
}
BENCHMARK(BM_GenerateEntries_Monthly5y);

void BM_GenerateEntries_YearlySplit5y(benchmark::State& state) {
  const billing::RecurringTerms t = Terms(billing::Interval::kYearly, true, 5);
  for (auto _ : state) {
    std::vector<billing::PlannedEntry> e = billing::GenerateEntries(t);
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(state.iterations() * 60);
}
BENCHMARK(BM_GenerateEntries_YearlySplit5y);

// A monthly plan three years behind: one run catches up 36 months.
void BM_ComputeRenewal_CatchUp3y(benchmark::State& state) {
  billing::RecurringTerms t = Terms(billing::Interval::kMonthly, false, 1);
  t.renewal_unit_months = 1;
  const absl::CivilDay as_of(2023, 6, 1);
  for (auto _ : state) {
    absl::optional<billing::PlanRenewal> r = billing::ComputeRenewal(t, as_of);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_ComputeRenewal_CatchUp3y);

// ---- tax (common/tax) ----

void BM_TaxFor(benchmark::State& state) {
  int64_t amount = 1'005;
  for (auto _ : state) {
    benchmark::DoNotOptimize(tax::TaxFor(amount, tax::Category::kStandard, tax::Rounding::kHalfUp));
    ++amount;
  }
}
BENCHMARK(BM_TaxFor);

std::vector<tax::Line> InvoiceLines(int n) {
  std::vector<tax::Line> lines;
  for (int i = 0; i < n; ++i) {
    lines.push_back({1'005 + i * 13, i % 3 == 0 ? tax::Category::kReduced : tax::Category::kStandard});
  }
  return lines;
}

void BM_ComputeTotals(benchmark::State& state) {
  const std::vector<tax::Line> lines = InvoiceLines(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    absl::StatusOr<tax::Totals> t = tax::ComputeTotals(lines);
    benchmark::DoNotOptimize(t);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ComputeTotals)->Arg(12)->Arg(1000);

void BM_AllocateTax(benchmark::State& state) {
  const std::vector<tax::Line> lines = InvoiceLines(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    absl::StatusOr<std::vector<int64_t>> t = tax::AllocateTax(lines);
    benchmark::DoNotOptimize(t);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_AllocateTax)->Arg(12)->Arg(1000);

// ---- calendar (common/calendar) ----

void BM_IsBusinessDay_Year(benchmark::State& state) {
  for (auto _ : state) {
    int n = 0;
    for (absl::CivilDay d(2025, 1, 1); d < absl::CivilDay(2026, 1, 1); ++d) {
      n += calendar::IsBusinessDay(d) ? 1 : 0;
    }
    benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(state.iterations() * 365);
}
BENCHMARK(BM_IsBusinessDay_Year);

void BM_AddBusinessDays_20(benchmark::State& state) {
  absl::CivilDay d(2025, 4, 25);  // across Golden Week
  for (auto _ : state) benchmark::DoNotOptimize(calendar::AddBusinessDays(d, 20));
}
BENCHMARK(BM_AddBusinessDays_20);

void BM_ReportDeadlineDay(benchmark::State& state) {
  absl::CivilMonth m(2025, 1);
  for (auto _ : state) {
    benchmark::DoNotOptimize(calendar::ReportDeadlineDay(m));
    m = m == absl::CivilMonth(2035, 12) ? absl::CivilMonth(2025, 1) : m + 1;
  }
}
BENCHMARK(BM_ReportDeadlineDay);

void BM_HolidaysIn(benchmark::State& state) {
  int year = 2000;
  for (auto _ : state) {
    benchmark::DoNotOptimize(calendar::HolidaysIn(year));
    year = year == 2050 ? 2000 : year + 1;
  }
}
BENCHMARK(BM_HolidaysIn);

// ---- kana normalisation (services/billing/payment_rules.h) ----

void BM_PayerKey(benchmark::State& state) {
  const std::vector<std::string> names = {
      "ｶ)ﾔﾏﾀﾞｼﾖｳｼﾞ", "ﾔﾏﾀﾞｼﾖｳｼﾞ(ｶ", "ﾕ)ｽｽﾞｷｺｳﾑﾃﾝ ﾄｳｷﾖｳｼﾃﾝ", "ｲﾘﾖｳﾎｳｼﾞﾝ ｻｸﾗｶｲ",
      "ヤマダ　タロウ", "ｻﾄｳ ﾊﾅｺ", "ｶﾌﾞｼｷｶﾞｲｼﾔ ABC ｼﾖｳｼﾞ", "ｼﾔ)ﾆﾎﾝｷﾖｳｶｲ"};
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(billing::PayerKey(names[i]));
    i = (i + 1) % names.size();
  }
}
BENCHMARK(BM_PayerKey);

#ifdef ANKEN_BENCH_HAVE_REPORT_XLSX
// ---- the .xlsx upload (1,000 rows here; bench/run reads the 10,000-row file) ----

const std::string& ReportFile() {
  static const std::string* const bytes = new std::string(*RenderBenchReport(1000));
  return *bytes;
}

void BM_XlsxFloorReader_1000(benchmark::State& state) {
  xlsx::XlsxReader probe;
  (void)probe.Open(ReportFile());
  const std::string part = probe.info().FindSheet(report::kReportSheetName)->part;
  for (auto _ : state) benchmark::DoNotOptimize(FloorReadSheet(ReportFile(), part));
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_XlsxFloorReader_1000);

void BM_XlsxCommonReader_1000(benchmark::State& state) {
  for (auto _ : state) {
    xlsx::XlsxReader reader;
    absl::Status s = reader.Open(ReportFile());
    int64_t cells = 0;
    if (s.ok()) {
      s = reader.ReadSheet(report::kReportSheetName, [&cells](const xlsx::Row& row) {
        cells += static_cast<int64_t>(row.cells.size());
        return absl::OkStatus();
      });
    }
    benchmark::DoNotOptimize(cells);
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_XlsxCommonReader_1000);

void BM_ReportUploadParseValidate_1000(benchmark::State& state) {
  const std::vector<report::ReportLine> lines = BenchReportLines(1000);
  for (auto _ : state) {
    report::XlsxUpload upload = report::ReadReportXlsx(ReportFile(), BenchReportInfo());
    report::UploadPlan plan = report::PlanUpload(lines, upload.rows, BenchUploadDay());
    benchmark::DoNotOptimize(plan);
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_ReportUploadParseValidate_1000);
#endif

}  // namespace
}  // namespace anken::bench

BENCHMARK_MAIN();
