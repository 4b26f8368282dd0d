#include "common/metrics/grpc_metrics_interceptor.h"

#include <array>
#include <chrono>
#include <string>
#include <utility>

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

class MetricsInterceptor final : public Interceptor {
 public:
  MetricsInterceptor(std::shared_ptr<const Instruments> instruments, const Clock& clock,
                     prometheus::Labels labels)
      : instruments_(std::move(instruments)),
        clock_(clock),
        start_(clock.Now()),
        labels_(std::move(labels)),
        msg_received_(instruments_->msg_received->Add(labels_)),
        msg_sent_(instruments_->msg_sent->Add(labels_)) {
    instruments_->started->Add(labels_).Increment();
  }

  void Intercept(InterceptorBatchMethods* methods) override {
    // An end-of-stream read also passes POST_RECV_MESSAGE, with no message.
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() != nullptr) {
      msg_received_.Increment();
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      msg_sent_.Increment();
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS) &&
        !handled_) {
      handled_ = true;
      const double seconds = absl::ToDoubleSeconds(clock_.Now() - start_);
      prometheus::Labels with_code = labels_;
      const grpc::StatusCode code = methods->GetSendStatus().error_code();
      with_code.emplace("grpc_code", std::string(GrpcCodeName(code)));
      instruments_->handled->Add(with_code).Increment();
      instruments_->handling_seconds->Add(labels_, HandlingSecondsBuckets()).Observe(seconds);
    }
    methods->Proceed();
  }

 private:
  const std::shared_ptr<const Instruments> instruments_;
  const Clock& clock_;
  const absl::Time start_;
  const prometheus::Labels labels_;
  prometheus::Counter& msg_received_;
  prometheus::Counter& msg_sent_;
  bool handled_ = false;  // hooks of one call never run concurrently
};

class MetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  MetricsInterceptorFactory(std::shared_ptr<const Instruments> instruments, const Clock& clock)
      : instruments_(std::move(instruments)), clock_(clock) {}

  Interceptor* CreateServerInterceptor(ServerRpcInfo* info) override {
    absl::string_view service;
    absl::string_view method;
    if (info->method() == nullptr || !SplitFullMethodName(info->method(), &service, &method)) {
      return nullptr;
    }
    prometheus::Labels labels{{"grpc_type", std::string(GrpcTypeName(info->type()))},
                              {"grpc_service", std::string(service)},
                              {"grpc_method", std::string(method)}};
    return new MetricsInterceptor(instruments_, clock_, std::move(labels));
  }

 private:
  const std::shared_ptr<const Instruments> instruments_;
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
  auto instruments = std::make_shared<Instruments>();
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
      std::move(instruments), clock != nullptr ? *clock : DefaultSteadyClock());
}

}  // namespace anken::metrics
