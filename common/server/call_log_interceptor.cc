#include "common/server/call_log_interceptor.h"

#include <chrono>

#include "absl/status/status.h"
#include "common/log/log.h"
#include "common/server/trace.h"
#include "grpcpp/server_context.h"

namespace anken::server {
namespace {

absl::string_view Lookup(const std::multimap<grpc::string_ref, grpc::string_ref>& md,
                         absl::string_view key) {
  auto it = md.find(grpc::string_ref(key.data(), key.size()));
  if (it == md.end()) return {};
  return absl::string_view(it->second.data(), it->second.size());
}

log::Level LevelFor(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::DATA_LOSS:
      return log::Level::kError;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return log::Level::kWarn;
    default:
      return log::Level::kInfo;
  }
}

class CallLogInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit CallLogInterceptor(grpc::experimental::ServerRpcInfo* info) : info_(info) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      start_ = std::chrono::steady_clock::now();
      auto* md = methods->GetRecvInitialMetadata();
      if (auto tp = ParseTraceParent(Lookup(*md, kTraceParentHeader))) {
        trace_id_ = tp->trace_id;
      } else {
        TraceParent t = NewTrace();
        trace_id_ = t.trace_id;
        traceparent_ = FormatTraceParent(t);
        md->erase(kTraceParentHeader);
        md->emplace(kTraceParentHeader, traceparent_);
      }
      absl::string_view rid = Lookup(*md, kRequestIdHeader);
      if (rid.empty() || rid.size() > 128) {
        request_id_ = trace_id_.substr(0, 16);
        md->erase(kRequestIdHeader);
        md->emplace(kRequestIdHeader, request_id_);
      } else {
        request_id_ = std::string(rid);
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status status = methods->GetSendStatus();
      double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                            start_)
                      .count();
      log::Event(LevelFor(status.error_code()), "rpc")
          .Str("rpc", info_->method())
          .Str("code", absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())))
          .Num("latency_ms", ms)
          .Str("request_id", request_id_)
          .Str("trace_id", trace_id_)
          .Str("peer", info_->server_context()->peer());
    }
    methods->Proceed();
  }

 private:
  grpc::experimental::ServerRpcInfo* info_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  // Owned here: the metadata map holds string_refs into them for the call's lifetime.
  std::string traceparent_;
  std::string request_id_;
  std::string trace_id_;
};

class Factory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new CallLogInterceptor(info);
  }
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeCallLogInterceptorFactory() {
  return std::make_unique<Factory>();
}

}  // namespace anken::server
