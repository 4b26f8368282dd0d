#pragma once
// anken.testing.v1.EchoService for the server tests: Echo answers with its message, can fail
// with a chosen code and can take a while (ending early when the call is cancelled).

#include <chrono>
#include <thread>

#include "anken/testing/v1/echo.grpc.pb.h"
#include "common/server/call_log_interceptor.h"
#include "common/server/client.h"

namespace anken::testing {

class PlainEchoService : public anken::testing::v1::EchoService::Service {
 public:
  // For the "hop" message: where to send the second call.
  void set_peer(std::unique_ptr<v1::EchoService::Stub> peer) { peer_ = std::move(peer); }

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
    if (req->message() == "hop" && peer_ != nullptr) {
      // Calls the same server again the way a service calls a peer, and reports what the
      // second hop saw: its trace id, and the deadline it was given (ms left, in message).
      grpc::ClientContext out;
      server::PropagateCall(*ctx, &out, absl::Seconds(30));
      v1::EchoRequest leaf;
      leaf.set_message("leaf");
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          out.deadline() - std::chrono::system_clock::now());
      grpc::Status s = peer_->Echo(&out, leaf, resp);
      if (!s.ok()) return s;
      resp->set_message(std::to_string(left.count()));
      return grpc::Status::OK;
    }
    resp->set_message(req->message());
    auto tp = ctx->client_metadata().find(server::kTraceParentHeader);
    if (tp != ctx->client_metadata().end()) {
      resp->set_trace_id(std::string(tp->second.data() + 3, 32));
    }
    return grpc::Status::OK;
  }

 private:
  std::unique_ptr<v1::EchoService::Stub> peer_;
};

}  // namespace anken::testing
