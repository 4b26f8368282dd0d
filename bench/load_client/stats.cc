#include "bench/load_client/stats.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/json/json_text.h"

namespace anken::bench {
namespace {

double Ms(uint32_t us) { return static_cast<double>(us) / 1000.0; }

// Nearest rank: the smallest sample with at least q * n samples at or below it.
uint32_t Rank(std::vector<uint32_t>& v, double q) {
  const size_t n = v.size();
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(n)));
  if (rank < 1) rank = 1;
  if (rank > n) rank = n;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(rank - 1), v.end());
  return v[rank - 1];
}

}  // namespace

LatencySummary Summarise(std::vector<uint32_t>& latencies_us) {
  LatencySummary s;
  if (latencies_us.empty()) return s;
  s.count = static_cast<int64_t>(latencies_us.size());
  double sum = 0;
  uint32_t max = 0;
  for (uint32_t v : latencies_us) {
    sum += v;
    max = std::max(max, v);
  }
  s.mean_ms = sum / static_cast<double>(latencies_us.size()) / 1000.0;
  s.max_ms = Ms(max);
  s.p50_ms = Ms(Rank(latencies_us, 0.50));
  s.p90_ms = Ms(Rank(latencies_us, 0.90));
  s.p99_ms = Ms(Rank(latencies_us, 0.99));
  return s;
}

int64_t RunResult::error_count() const {
  int64_t n = 0;
  for (const auto& [code, count] : errors) n += count;
  return n;
}

std::string ToJsonLine(const RunResult& r) {
  std::string errors = "{";
  for (const auto& [code, count] : r.errors) {
    if (errors.size() > 1) errors += ",";
    absl::StrAppend(&errors, json::String(code), ":", count);
  }
  errors += "}";
  return absl::StrFormat(
      "{\"kind\":\"load\",\"scenario\":%s,\"target\":%s,\"label\":%s,\"concurrency\":%d,"
      "\"seconds\":%.3f,\"ok\":%d,\"error_count\":%d,\"errors\":%s,\"items\":%d,"
      "\"qps\":%.1f,\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,"
      "\"mean_ms\":%.3f}",
      json::String(r.scenario), json::String(r.target), json::String(r.label), r.concurrency,
      r.seconds, r.ok, r.error_count(), errors, r.items, r.qps(), r.latency.p50_ms,
      r.latency.p90_ms, r.latency.p99_ms, r.latency.max_ms, r.latency.mean_ms);
}

std::string ToHumanLine(const RunResult& r) {
  std::string errors;
  for (const auto& [code, count] : r.errors) absl::StrAppend(&errors, " ", code, "=", count);
  return absl::StrFormat(
      "%-16s c=%-3d %9.1f qps  p50 %7.3f ms  p90 %7.3f ms  p99 %7.3f ms  max %8.3f ms  "
      "ok %d  errors %d%s  items %d",
      r.scenario, r.concurrency, r.qps(), r.latency.p50_ms, r.latency.p90_ms, r.latency.p99_ms,
      r.latency.max_ms, r.ok, r.error_count(), errors, r.items);
}

}  // namespace anken::bench
