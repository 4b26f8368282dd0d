#pragma once
// One JSON log line per RPC (level, ts, service, rpc, code, latency_ms, request_id,
// trace_id, peer) written when the status is sent.
//
// It also gives every call a trace: a valid incoming `traceparent` is kept, otherwise a new
// trace is started and inserted into the call's client metadata, so handlers (and the calls
// they make to other services, see client.h) always find one. Likewise `x-request-id`.

#include <memory>
#include <string>

#include "grpcpp/support/server_interceptor.h"

namespace anken::server {

inline constexpr char kTraceParentHeader[] = "traceparent";
inline constexpr char kRequestIdHeader[] = "x-request-id";

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeCallLogInterceptorFactory();

}  // namespace anken::server
