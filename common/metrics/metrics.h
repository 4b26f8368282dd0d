#pragma once
// Prometheus metrics for one service process: a registry that services add their own
// metrics to, and an HTTP endpoint (GET /metrics, text format) on its own port
// (ANKEN_METRICS_PORT; 0 picks a free port, port() tells which).
//
// Always present in the output: anken_build_info{service,version} 1 and the process_*
// gauges the standard client libraries export (read from /proc at scrape time).
// grpc_server_* comes from the interceptor (NewServerInterceptorFactory), anken_db_pool_*
// from CreatePoolMetrics or SamplePoolOnScrape. Metric pointers handed out stay valid while
// the Metrics lives.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/server_interceptor.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace prometheus {
class Exposer;
}  // namespace prometheus

namespace anken {
class Clock;
}  // namespace anken

namespace anken::metrics {

// What the connection pool updates; it never sees the registry. Every pointer is non-null.
struct PoolMetrics {
  prometheus::Gauge* idle = nullptr;      // anken_db_pool_connections{state="idle"}
  prometheus::Gauge* in_use = nullptr;    // anken_db_pool_connections{state="in_use"}
  prometheus::Gauge* size = nullptr;      // anken_db_pool_size: the configured maximum
  prometheus::Gauge* waiters = nullptr;   // anken_db_pool_waiters: callers blocked in acquire
  prometheus::Counter* acquire_timeouts = nullptr;  // anken_db_pool_acquire_timeouts_total
  prometheus::Counter* reconnects = nullptr;        // anken_db_pool_reconnects_total
};

// Registers the pool metrics in `registry` (idempotent: a second call returns the same
// metrics). For tests of the pool that need no HTTP endpoint.
PoolMetrics CreatePoolMetrics(prometheus::Registry& registry);

// The same metrics read from the pool at scrape time instead (db::Pool::Stats() maps onto
// it; this library does not depend on the pool). Counters are the pool's running totals.
struct PoolSample {
  int64_t size = 0;
  int64_t idle = 0;
  int64_t in_use = 0;
  int64_t waiters = 0;
  int64_t acquire_timeouts_total = 0;
  int64_t reconnects_total = 0;
};

class PoolSampler;

// Keeps a scrape-time sampler installed. Destroying (or Reset()ting) it uninstalls the
// sampler, waiting for a scrape that is running it, so the sampled pool may be destroyed
// right after. It may outlive the Metrics that made it. Move-only.
class SamplerRegistration {
 public:
  SamplerRegistration() = default;
  SamplerRegistration(SamplerRegistration&& other) noexcept = default;
  SamplerRegistration& operator=(SamplerRegistration&& other) noexcept;
  SamplerRegistration(const SamplerRegistration&) = delete;
  SamplerRegistration& operator=(const SamplerRegistration&) = delete;
  ~SamplerRegistration() { Reset(); }
  void Reset();

 private:
  friend class Metrics;
  SamplerRegistration(std::shared_ptr<PoolSampler> sampler, uint64_t generation)
      : sampler_(std::move(sampler)), generation_(generation) {}
  std::shared_ptr<PoolSampler> sampler_;
  uint64_t generation_ = 0;
};

struct MetricsOptions {
  // IPv4 address or host name to listen on; empty means every interface. (Debian's civetweb
  // cannot bind IPv6 addresses.)
  std::string host = "0.0.0.0";
  int port = 0;                  // 0 = any free port
  std::string service;           // anken_build_info labels
  std::string version;
};

class Metrics {
 public:
  // Starts the endpoint. INVALID_ARGUMENT for a port outside 0..65535; UNAVAILABLE when
  // the address cannot be bound (port in use, no such interface). Destruction stops it,
  // which takes up to 2 s (civetweb's accept loop polls with that timeout).
  static absl::StatusOr<std::unique_ptr<Metrics>> Create(const MetricsOptions& options);

  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;
  ~Metrics();

  // The port actually bound (the chosen one when the options said 0).
  int port() const { return port_; }

  // Where services add their own metrics. Thread-safe, like all of prometheus-cpp.
  prometheus::Registry& registry() { return *registry_; }
  std::shared_ptr<prometheus::Registry> shared_registry() { return registry_; }

  // Two ways to export the anken_db_pool_* metrics; use one, not both (the names would be
  // exported twice). Push: the pool updates the returned metrics itself.
  PoolMetrics CreatePoolMetrics() { return metrics::CreatePoolMetrics(*registry_); }
  // Pull: `sample` runs on every scrape, on the HTTP server's threads, so it must be
  // thread-safe and quick. A later call replaces the earlier sampler.
  [[nodiscard]] SamplerRegistration SamplePoolOnScrape(std::function<PoolSample()> sample);

  // For ServerBuilder::experimental().SetInterceptorCreators. The factory shares the
  // registry, so it may outlive this object. `clock` (for latency; only differences of
  // Now() are used) defaults to a monotonic clock and must outlive the server if given.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
  NewServerInterceptorFactory(const Clock* clock = nullptr);

 private:
  Metrics() = default;

  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<prometheus::Collectable> process_collector_;
  std::shared_ptr<PoolSampler> pool_sampler_;
  int port_ = 0;
  // Last, so that it stops serving before the collectables above go away.
  std::unique_ptr<prometheus::Exposer> exposer_;
};

// The fields of /proc/<pid>/stat the process gauges need. Exposed for tests.
struct ProcStat {
  uint64_t utime_ticks = 0;
  uint64_t stime_ticks = 0;
  uint64_t start_time_ticks = 0;  // since boot
  uint64_t vsize_bytes = 0;
  int64_t rss_pages = 0;
};

// Parses the text of /proc/<pid>/stat. The command name may hold spaces and parentheses,
// so fields are counted from the last ')'. INVALID_ARGUMENT when malformed.
absl::StatusOr<ProcStat> ParseProcStat(absl::string_view text);

}  // namespace anken::metrics
