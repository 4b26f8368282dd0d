#pragma once
// anken.testing.v1.EchoService for the server tests: Echo answers with its message, can fail
// with a chosen code and can take a while (ending early when the call is cancelled).

#include <chrono>
#include <thread>

#include "anken/testing/v1/echo.grpc.pb.h"
#include "common/server/call_log_interceptor.h"

namespace anken::testing {

class PlainEchoService : public anken::testing::v1::EchoService::Service {
 public:
  grpc::Status Echo(grpc::ServerContext* ctx, const v1::EchoRequest* req,
                    v1::EchoResponse* resp) override {
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(req->delay_ms());
    while (std::chrono::steady_clock::now() < until) {
      if (ctx->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (req->fail_with() != 0) {
      return grpc::Status(static_cast<grpc::StatusCode>(req->fail_with()), "asked to fail");
    }
    resp->set_message(req->message());
    auto tp = ctx->client_metadata().find(server::kTraceParentHeader);
    if (tp != ctx->client_metadata().end()) {
      resp->set_trace_id(std::string(tp->second.data() + 3, 32));
    }
    return grpc::Status::OK;
  }
};

}  // namespace anken::testing
