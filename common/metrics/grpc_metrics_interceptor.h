#pragma once
// A gRPC server interceptor that records the conventional go-grpc-prometheus metrics, so
// the dashboards and alerts written for them work unchanged:
//   grpc_server_started_total{grpc_type,grpc_service,grpc_method}
//   grpc_server_handled_total{grpc_type,grpc_service,grpc_method,grpc_code}
//   grpc_server_handling_seconds{grpc_type,grpc_service,grpc_method} (histogram)
//   grpc_server_msg_received_total / grpc_server_msg_sent_total
// grpc_code is the upper-case code name (OK, NOT_FOUND, ...), the final status the server
// sends, so it includes codes set by interceptors that run after this one.
// Latency runs from the call's start (interceptor creation) to PRE_SEND_STATUS.

#include <memory>
#include <vector>

#include "absl/strings/string_view.h"
#include "grpcpp/support/server_interceptor.h"
#include "grpcpp/support/status.h"
#include "prometheus/registry.h"

namespace anken {
class Clock;
}  // namespace anken

namespace anken::metrics {

// Upper bounds of grpc_server_handling_seconds, in seconds.
const std::vector<double>& HandlingSecondsBuckets();

// "NOT_FOUND" for grpc::StatusCode::NOT_FOUND; "UNKNOWN" for numbers outside the enum.
absl::string_view GrpcCodeName(grpc::StatusCode code);

// "unary" | "client_stream" | "server_stream" | "bidi_stream".
absl::string_view GrpcTypeName(grpc::experimental::ServerRpcInfo::Type type);

// Splits "/pkg.Service/Method" into {"pkg.Service", "Method"}; false when not that shape.
bool SplitFullMethodName(absl::string_view full, absl::string_view* service,
                         absl::string_view* method);

// Registers the metric families in `registry` and returns the factory. `clock` measures
// latency (only differences of Now() are used); nullptr means a monotonic clock. A given
// clock must outlive every server built with the factory. Calls whose method name is not
// "/service/method" shaped (gRPC's internal unknown-method handler) are not recorded.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewGrpcMetricsInterceptorFactory(std::shared_ptr<prometheus::Registry> registry,
                                 const Clock* clock = nullptr);

}  // namespace anken::metrics
