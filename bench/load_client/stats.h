#pragma once
// Latency statistics of one load run: percentiles over every recorded latency (exact, by
// nth_element, not a histogram: a run holds at most a few million samples) and the JSON line
// bench/run collects. Pure; no gRPC.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace anken::bench {

struct LatencySummary {
  int64_t count = 0;
  double p50_ms = 0;
  double p90_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
  double mean_ms = 0;
};

// Summarises latencies in microseconds (the vector is reordered). Percentile q is the sample
// at rank ceil(q * n) (nearest rank), so p99 of 100 samples is the 99th smallest, and p50 of
// one sample is that sample. An empty input gives all zeros.
LatencySummary Summarise(std::vector<uint32_t>& latencies_us);

struct RunResult {
  std::string scenario;
  std::string target;
  std::string label;  // free text from the caller (e.g. "run=2 variant=bare")
  int concurrency = 0;
  double seconds = 0;  // measured window (after warm-up)
  int64_t ok = 0;
  std::map<std::string, int64_t> errors;  // gRPC code name -> count
  int64_t items = 0;  // rows returned / entries created, summed over OK calls
  LatencySummary latency;  // of OK and failed calls alike
  double qps() const { return seconds > 0 ? static_cast<double>(ok) / seconds : 0; }
  int64_t error_count() const;
};

// One line of JSON (no trailing newline) with every field of `r`.
std::string ToJsonLine(const RunResult& r);
// A short human line: "GetCustomer c=8  12345 qps  p50 0.61 ms  p90 ...  errors 0  items 9".
std::string ToHumanLine(const RunResult& r);

}  // namespace anken::bench
