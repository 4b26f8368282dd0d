#include "common/metrics/grpc_metrics_interceptor.h"

#include <array>
#include <atomic>
#include <chrono>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock/clock.h"
#include "grpcpp/support/interceptor.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"

namespace anken::metrics {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::Interceptor;
using grpc::experimental::InterceptorBatchMethods;
using grpc::experimental::ServerRpcInfo;

// A Clock over std::chrono::steady_clock: its Now() is not wall time, only differences
// mean anything, which is all latency needs (and wall-clock steps must not show up as
// negative or huge latencies).
class SteadyClock final : public Clock {
 public:
  absl::Time Now() const override {
    return absl::UnixEpoch() +
           absl::FromChrono(std::chrono::steady_clock::now().time_since_epoch());
  }
};

const Clock& DefaultSteadyClock() {
  static const SteadyClock* const clock = new SteadyClock();
  return *clock;
}

// The families, shared by the factory and every live interceptor. Holding the registry
// keeps the family references valid however the server and Metrics are torn down.
struct Instruments {
  std::shared_ptr<prometheus::Registry> registry;
  prometheus::Family<prometheus::Counter>* started;
  prometheus::Family<prometheus::Counter>* handled;
  prometheus::Family<prometheus::Histogram>* handling_seconds;
  prometheus::Family<prometheus::Counter>* msg_received;
  prometheus::Family<prometheus::Counter>* msg_sent;
};

constexpr int kCodeCount = 17;  // grpc::StatusCode 0..16; GrpcCodeName's table
constexpr int kUnknownCode = static_cast<int>(grpc::StatusCode::UNKNOWN);

// The series of one method, found once: Family::Add locks the family, looks the labels up
// in an ordered map and builds a throw-away metric (a histogram's every bucket) on each
// call, which cost more than the rest of the interceptor. Series keep the lifetimes they
// had: started and the message counters exist from the method's first call, the histogram
// and each grpc_code's counter from the first call that ends (with that code).
class MethodSeries {
 public:
  MethodSeries(const Instruments& instruments, prometheus::Labels labels)
      : labels_(std::move(labels)),
        started_(instruments.started->Add(labels_)),
        msg_received_(instruments.msg_received->Add(labels_)),
        msg_sent_(instruments.msg_sent->Add(labels_)) {}

  prometheus::Counter& started() const { return started_; }
  prometheus::Counter& msg_received() const { return msg_received_; }
  prometheus::Counter& msg_sent() const { return msg_sent_; }

  prometheus::Counter& Handled(const Instruments& instruments, grpc::StatusCode code) {
    int n = static_cast<int>(code);
    if (n < 0 || n >= kCodeCount) n = kUnknownCode;  // the series GrpcCodeName names
    prometheus::Counter* counter = handled_[n].load(std::memory_order_acquire);
    if (counter == nullptr) {
      // Two first calls may race here; Add returns the same series to both.
      prometheus::Labels with_code = labels_;
      with_code.emplace("grpc_code", std::string(GrpcCodeName(static_cast<grpc::StatusCode>(n))));
      counter = &instruments.handled->Add(with_code);
      handled_[n].store(counter, std::memory_order_release);
    }
    return *counter;
  }

  prometheus::Histogram& HandlingSeconds(const Instruments& instruments) {
    prometheus::Histogram* histogram = handling_seconds_.load(std::memory_order_acquire);
    if (histogram == nullptr) {
      histogram = &instruments.handling_seconds->Add(labels_, HandlingSecondsBuckets());
      handling_seconds_.store(histogram, std::memory_order_release);
    }
    return *histogram;
  }

 private:
  const prometheus::Labels labels_;
  prometheus::Counter& started_;
  prometheus::Counter& msg_received_;
  prometheus::Counter& msg_sent_;
  std::array<std::atomic<prometheus::Counter*>, kCodeCount> handled_{};
  std::atomic<prometheus::Histogram*> handling_seconds_{nullptr};
};

// The series of every method seen, made on its first call.
class SeriesCache {
 public:
  // nullptr when the name is not "/service/method" shaped. A method's type never changes,
  // so the name alone is the key.
  MethodSeries* Of(const Instruments& instruments, absl::string_view full_method,
                   ServerRpcInfo::Type type) {
    {
      absl::ReaderMutexLock lock(&mu_);
      auto it = series_.find(full_method);
      if (it != series_.end()) return it->second.get();
    }
    absl::string_view service;
    absl::string_view method;
    if (!SplitFullMethodName(full_method, &service, &method)) return nullptr;
    prometheus::Labels labels{{"grpc_type", std::string(GrpcTypeName(type))},
                              {"grpc_service", std::string(service)},
                              {"grpc_method", std::string(method)}};
    absl::MutexLock lock(&mu_);
    std::unique_ptr<MethodSeries>& slot = series_[full_method];
    if (slot == nullptr) slot = std::make_unique<MethodSeries>(instruments, std::move(labels));
    return slot.get();
  }

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<MethodSeries>> series_ ABSL_GUARDED_BY(mu_);
};

// What the factory and its interceptors share; an interceptor's reference keeps its series
// alive however the server and Metrics are torn down.
struct Shared {
  Instruments instruments;
  SeriesCache cache;
};

class MetricsInterceptor final : public Interceptor {
 public:
  MetricsInterceptor(std::shared_ptr<Shared> shared, const Clock& clock, MethodSeries& series)
      : shared_(std::move(shared)), clock_(clock), start_(clock.Now()), series_(series) {
    series_.started().Increment();
  }

  void Intercept(InterceptorBatchMethods* methods) override {
    // An end-of-stream read also passes POST_RECV_MESSAGE, with no message.
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() != nullptr) {
      series_.msg_received().Increment();
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      series_.msg_sent().Increment();
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS) &&
        !handled_) {
      handled_ = true;
      const double seconds = absl::ToDoubleSeconds(clock_.Now() - start_);
      const Instruments& instruments = shared_->instruments;
      series_.Handled(instruments, methods->GetSendStatus().error_code()).Increment();
      series_.HandlingSeconds(instruments).Observe(seconds);
    }
    methods->Proceed();
  }

 private:
  const std::shared_ptr<Shared> shared_;
  const Clock& clock_;
  const absl::Time start_;
  MethodSeries& series_;  // in shared_->cache
  bool handled_ = false;  // hooks of one call never run concurrently
};

class MetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  MetricsInterceptorFactory(std::shared_ptr<Shared> shared, const Clock& clock)
      : shared_(std::move(shared)), clock_(clock) {}

  Interceptor* CreateServerInterceptor(ServerRpcInfo* info) override {
    if (info->method() == nullptr) return nullptr;
    MethodSeries* series = shared_->cache.Of(shared_->instruments, info->method(), info->type());
    if (series == nullptr) return nullptr;
    return new MetricsInterceptor(shared_, clock_, *series);
  }

 private:
  const std::shared_ptr<Shared> shared_;
  const Clock& clock_;
};

}  // namespace

const std::vector<double>& HandlingSecondsBuckets() {
  static const std::vector<double>* const buckets =
      new std::vector<double>{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
  return *buckets;
}

absl::string_view GrpcCodeName(grpc::StatusCode code) {
  static constexpr std::array<absl::string_view, 17> kNames = {
      "OK",
      "CANCELLED",
      "UNKNOWN",
      "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED",
      "NOT_FOUND",
      "ALREADY_EXISTS",
      "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION",
      "ABORTED",
      "OUT_OF_RANGE",
      "UNIMPLEMENTED",
      "INTERNAL",
      "UNAVAILABLE",
      "DATA_LOSS",
      "UNAUTHENTICATED",
  };
  const int n = static_cast<int>(code);
  if (n < 0 || n >= static_cast<int>(kNames.size())) return "UNKNOWN";
  return kNames[n];
}

absl::string_view GrpcTypeName(ServerRpcInfo::Type type) {
  switch (type) {
    case ServerRpcInfo::Type::UNARY:
      return "unary";
    case ServerRpcInfo::Type::CLIENT_STREAMING:
      return "client_stream";
    case ServerRpcInfo::Type::SERVER_STREAMING:
      return "server_stream";
    case ServerRpcInfo::Type::BIDI_STREAMING:
      return "bidi_stream";
  }
  return "unknown";
}

bool SplitFullMethodName(absl::string_view full, absl::string_view* service,
                         absl::string_view* method) {
  if (full.size() < 4 || full[0] != '/') return false;
  const size_t slash = full.find('/', 1);
  if (slash == absl::string_view::npos || slash == 1 || slash + 1 == full.size() ||
      full.find('/', slash + 1) != absl::string_view::npos) {
    return false;
  }
  *service = full.substr(1, slash - 1);
  *method = full.substr(slash + 1);
  return true;
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewGrpcMetricsInterceptorFactory(std::shared_ptr<prometheus::Registry> registry,
                                 const Clock* clock) {
  auto shared = std::make_shared<Shared>();
  Instruments* instruments = &shared->instruments;
  prometheus::Registry& r = *registry;
  instruments->started = &prometheus::BuildCounter()
                              .Name("grpc_server_started_total")
                              .Help("Total number of RPCs started on the server.")
                              .Register(r);
  instruments->handled = &prometheus::BuildCounter()
                              .Name("grpc_server_handled_total")
                              .Help("Total number of RPCs completed on the server, regardless "
                                    "of success or failure.")
                              .Register(r);
  instruments->handling_seconds =
      &prometheus::BuildHistogram()
           .Name("grpc_server_handling_seconds")
           .Help("Histogram of response latency (seconds) of gRPC that had been application-"
                 "level handled by the server.")
           .Register(r);
  instruments->msg_received = &prometheus::BuildCounter()
                                   .Name("grpc_server_msg_received_total")
                                   .Help("Total number of RPC stream messages received on the "
                                         "server.")
                                   .Register(r);
  instruments->msg_sent = &prometheus::BuildCounter()
                               .Name("grpc_server_msg_sent_total")
                               .Help("Total number of gRPC stream messages sent by the server.")
                               .Register(r);
  instruments->registry = std::move(registry);
  return std::make_unique<MetricsInterceptorFactory>(
      std::move(shared), clock != nullptr ? *clock : DefaultSteadyClock());
}

}  // namespace anken::metrics
