#include "common/metrics/metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "common/metrics/grpc_metrics_interceptor.h"
#include "prometheus/client_metric.h"
#include "prometheus/collectable.h"
#include "prometheus/exposer.h"
#include "prometheus/family.h"
#include "prometheus/metric_family.h"

namespace anken::metrics {
namespace {

std::optional<std::string> ReadFile(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Seconds since the epoch at which the machine booted ("btime" in /proc/stat).
std::optional<int64_t> BootTimeSeconds() {
  std::optional<std::string> stat = ReadFile("/proc/stat");
  if (!stat) return std::nullopt;
  for (absl::string_view line : absl::StrSplit(*stat, '\n')) {
    if (absl::ConsumePrefix(&line, "btime ")) {
      int64_t btime = 0;
      if (absl::SimpleAtoi(line, &btime)) return btime;
    }
  }
  return std::nullopt;
}

std::optional<int64_t> OpenFileDescriptors() {
  std::error_code ec;
  std::filesystem::directory_iterator it("/proc/self/fd", ec);
  if (ec) return std::nullopt;
  int64_t n = 0;
  for (const auto& entry : it) {
    (void)entry;
    ++n;
  }
  // The iterator's own descriptor is among them; the standard clients count it too, but
  // it is not the process's: leave it out.
  return n > 0 ? n - 1 : 0;
}

prometheus::MetricFamily Single(std::string name, std::string help, prometheus::MetricType type,
                                double value) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
  return family;
}

// The process_* metrics of the official client libraries, read when scraped. A value that
// cannot be read (not Linux, /proc hidden) is left out rather than reported as 0.
class ProcessCollector final : public prometheus::Collectable {
 public:
  ProcessCollector()
      : ticks_per_second_(static_cast<double>(sysconf(_SC_CLK_TCK))),
        page_size_(static_cast<double>(sysconf(_SC_PAGESIZE))) {
    // The start time never changes: compute it once.
    std::optional<std::string> text = ReadFile("/proc/self/stat");
    std::optional<int64_t> boot = BootTimeSeconds();
    if (text && boot && ticks_per_second_ > 0) {
      absl::StatusOr<ProcStat> stat = ParseProcStat(*text);
      if (stat.ok()) {
        start_time_seconds_ =
            static_cast<double>(*boot) +
            static_cast<double>(stat->start_time_ticks) / ticks_per_second_;
      }
    }
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    using prometheus::MetricType;
    std::vector<prometheus::MetricFamily> out;
    std::optional<std::string> text = ReadFile("/proc/self/stat");
    absl::StatusOr<ProcStat> stat =
        text ? ParseProcStat(*text) : absl::StatusOr<ProcStat>(absl::NotFoundError(""));
    if (stat.ok() && ticks_per_second_ > 0) {
      out.push_back(Single("process_cpu_seconds_total",
                           "Total user and system CPU time spent in seconds.",
                           MetricType::Counter,
                           static_cast<double>(stat->utime_ticks + stat->stime_ticks) /
                               ticks_per_second_));
      out.push_back(Single("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                           MetricType::Gauge, static_cast<double>(stat->vsize_bytes)));
      out.push_back(Single("process_resident_memory_bytes", "Resident memory size in bytes.",
                           MetricType::Gauge,
                           static_cast<double>(stat->rss_pages) * page_size_));
    }
    if (std::optional<int64_t> fds = OpenFileDescriptors()) {
      out.push_back(Single("process_open_fds", "Number of open file descriptors.",
                           MetricType::Gauge, static_cast<double>(*fds)));
    }
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
      out.push_back(Single("process_max_fds", "Maximum number of open file descriptors.",
                           MetricType::Gauge, static_cast<double>(limit.rlim_cur)));
    }
    if (start_time_seconds_) {
      out.push_back(Single("process_start_time_seconds",
                           "Start time of the process since unix epoch in seconds.",
                           MetricType::Gauge, *start_time_seconds_));
    }
    return out;
  }

 private:
  const double ticks_per_second_;
  const double page_size_;
  std::optional<double> start_time_seconds_;
};

prometheus::MetricFamily Labelled(std::string name, std::string help,
                                  std::vector<std::pair<std::string, double>> by_state) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = prometheus::MetricType::Gauge;
  for (auto& [state, value] : by_state) {
    prometheus::ClientMetric metric;
    metric.label.push_back({"state", state});
    metric.gauge.value = value;
    family.metric.push_back(std::move(metric));
  }
  return family;
}

// civetweb's "listening_ports": a bare port binds every interface; IPv6 literals would need
// brackets.
std::string ListenAddress(const std::string& host, int port) {
  if (host.empty()) return absl::StrCat(port);
  if (host.find(':') != std::string::npos) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

}  // namespace

// The scrape-time pool sampler: emits nothing until one is installed. The mutex is held
// while the sampler runs, so uninstalling waits for a scrape in progress.
class PoolSampler final : public prometheus::Collectable {
 public:
  uint64_t Install(std::function<PoolSample()> sample) {
    absl::MutexLock lock(&mu_);
    sample_ = std::move(sample);
    return ++generation_;
  }
  void Uninstall(uint64_t generation) {
    absl::MutexLock lock(&mu_);
    if (generation == generation_) sample_ = nullptr;  // not a later replacement
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    using prometheus::MetricType;
    absl::MutexLock lock(&mu_);
    if (!sample_) return {};
    const PoolSample s = sample_();
    std::vector<prometheus::MetricFamily> out;
    out.push_back(Labelled("anken_db_pool_connections",
                           "Open database connections of the pool, by state.",
                           {{"idle", static_cast<double>(s.idle)},
                            {"in_use", static_cast<double>(s.in_use)}}));
    out.push_back(Single("anken_db_pool_size", "Maximum number of connections the pool may open.",
                         MetricType::Gauge, static_cast<double>(s.size)));
    out.push_back(Single("anken_db_pool_waiters", "Callers currently waiting for a connection.",
                         MetricType::Gauge, static_cast<double>(s.waiters)));
    out.push_back(Single("anken_db_pool_acquire_timeouts_total",
                         "Connection acquisitions that gave up after the acquire timeout.",
                         MetricType::Counter, static_cast<double>(s.acquire_timeouts_total)));
    out.push_back(Single("anken_db_pool_reconnects_total",
                         "Broken connections the pool replaced with new ones.",
                         MetricType::Counter, static_cast<double>(s.reconnects_total)));
    return out;
  }

 private:
  mutable absl::Mutex mu_;
  std::function<PoolSample()> sample_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
};

SamplerRegistration& SamplerRegistration::operator=(SamplerRegistration&& other) noexcept {
  if (this != &other) {
    Reset();
    sampler_ = std::move(other.sampler_);
    generation_ = other.generation_;
  }
  return *this;
}

void SamplerRegistration::Reset() {
  if (sampler_ == nullptr) return;
  sampler_->Uninstall(generation_);
  sampler_.reset();
}

SamplerRegistration Metrics::SamplePoolOnScrape(std::function<PoolSample()> sample) {
  const uint64_t generation = pool_sampler_->Install(std::move(sample));
  return SamplerRegistration(pool_sampler_, generation);
}

absl::StatusOr<ProcStat> ParseProcStat(absl::string_view text) {
  const size_t close = text.rfind(')');
  if (close == absl::string_view::npos) {
    return absl::InvalidArgumentError("proc stat: no command name");
  }
  // Fields after the command name, starting with field 3 (state).
  std::vector<absl::string_view> fields =
      absl::StrSplit(text.substr(close + 1), ' ', absl::SkipWhitespace());
  // Field n (1-based, as in proc(5)) is fields[n - 3].
  constexpr size_t kUtime = 14 - 3, kStime = 15 - 3, kStartTime = 22 - 3, kVsize = 23 - 3,
                   kRss = 24 - 3;
  if (fields.size() <= kRss) return absl::InvalidArgumentError("proc stat: too few fields");
  ProcStat stat;
  if (!absl::SimpleAtoi(fields[kUtime], &stat.utime_ticks) ||
      !absl::SimpleAtoi(fields[kStime], &stat.stime_ticks) ||
      !absl::SimpleAtoi(fields[kStartTime], &stat.start_time_ticks) ||
      !absl::SimpleAtoi(fields[kVsize], &stat.vsize_bytes) ||
      !absl::SimpleAtoi(absl::StripAsciiWhitespace(fields[kRss]), &stat.rss_pages)) {
    return absl::InvalidArgumentError("proc stat: a field is not a number");
  }
  return stat;
}

PoolMetrics CreatePoolMetrics(prometheus::Registry& registry) {
  auto& connections = prometheus::BuildGauge()
                          .Name("anken_db_pool_connections")
                          .Help("Open database connections of the pool, by state.")
                          .Register(registry);
  PoolMetrics m;
  m.idle = &connections.Add({{"state", "idle"}});
  m.in_use = &connections.Add({{"state", "in_use"}});
  m.size = &prometheus::BuildGauge()
                .Name("anken_db_pool_size")
                .Help("Maximum number of connections the pool may open.")
                .Register(registry)
                .Add({});
  m.waiters = &prometheus::BuildGauge()
                   .Name("anken_db_pool_waiters")
                   .Help("Callers currently waiting for a connection.")
                   .Register(registry)
                   .Add({});
  m.acquire_timeouts = &prometheus::BuildCounter()
                            .Name("anken_db_pool_acquire_timeouts_total")
                            .Help("Connection acquisitions that gave up after the acquire "
                                  "timeout.")
                            .Register(registry)
                            .Add({});
  m.reconnects = &prometheus::BuildCounter()
                      .Name("anken_db_pool_reconnects_total")
                      .Help("Broken connections the pool replaced with new ones.")
                      .Register(registry)
                      .Add({});
  return m;
}

absl::StatusOr<std::unique_ptr<Metrics>> Metrics::Create(const MetricsOptions& options) {
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics port must be within 0..65535, got ", options.port));
  }
  std::unique_ptr<Metrics> metrics(new Metrics());
  metrics->registry_ = std::make_shared<prometheus::Registry>();
  prometheus::BuildGauge()
      .Name("anken_build_info")
      .Help("Always 1; labels name the service and its version.")
      .Register(*metrics->registry_)
      .Add({{"service", options.service}, {"version", options.version}})
      .Set(1);
  metrics->process_collector_ = std::make_shared<ProcessCollector>();
  metrics->pool_sampler_ = std::make_shared<PoolSampler>();

  const std::string address = ListenAddress(options.host, options.port);
  try {
    // civetweb reports a failed bind by throwing from the constructor.
    metrics->exposer_ = std::make_unique<prometheus::Exposer>(address, /*num_threads=*/2);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("metrics endpoint cannot listen on ", address, ": ", e.what()));
  } catch (...) {
    return absl::UnavailableError(
        absl::StrCat("metrics endpoint cannot listen on ", address));
  }
  const std::vector<int> ports = metrics->exposer_->GetListeningPorts();
  if (ports.empty() || ports.front() <= 0) {
    return absl::InternalError(
        absl::StrCat("metrics endpoint on ", address, " reports no listening port"));
  }
  metrics->port_ = ports.front();
  metrics->exposer_->RegisterCollectable(metrics->registry_);
  metrics->exposer_->RegisterCollectable(metrics->process_collector_);
  metrics->exposer_->RegisterCollectable(metrics->pool_sampler_);
  return metrics;
}

Metrics::~Metrics() = default;

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
Metrics::NewServerInterceptorFactory(const Clock* clock) {
  return NewGrpcMetricsInterceptorFactory(registry_, clock);
}

}  // namespace anken::metrics
