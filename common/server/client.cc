#include "common/server/client.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"

#include "common/server/call_log_interceptor.h"
#include "common/status/errors.h"
#include "common/server/trace.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace anken::server {

const char kDefaultServiceConfigJson[] = R"json({
  "methodConfig": [{
    "name": [{}],
    "timeout": "10s",
    "waitForReady": false,
    "retryPolicy": {
      "maxAttempts": 4,
      "initialBackoff": "0.1s",
      "maxBackoff": "2s",
      "backoffMultiplier": 2,
      "retryableStatusCodes": ["UNAVAILABLE"]
    }
  }]
})json";

std::shared_ptr<grpc::Channel> MakePeerChannel(const std::string& target, int max_message_bytes,
                                               absl::Duration timeout) {
  std::string config = kDefaultServiceConfigJson;
  const std::string kDefaultTimeout = "\"timeout\": \"10s\"";
  if (auto at = config.find(kDefaultTimeout); at != std::string::npos) {
    config.replace(at, kDefaultTimeout.size(),
                   absl::StrCat("\"timeout\": \"",
                                std::max<int64_t>(1, absl::ToInt64Seconds(timeout)), "s\""));
  }
  grpc::ChannelArguments args;
  args.SetServiceConfigJSON(config);
  args.SetMaxReceiveMessageSize(max_message_bytes);
  args.SetMaxSendMessageSize(max_message_bytes);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 1);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

void PropagateCall(const grpc::ServerContextBase& in, grpc::ClientContext* out,
                   absl::Duration fallback_timeout) {
  auto fallback = std::chrono::system_clock::now() + absl::ToChronoMilliseconds(fallback_timeout);
  auto caller = in.deadline();
  out->set_deadline(caller < fallback ? caller : fallback);
  const auto& md = in.client_metadata();
  auto tp = md.find(kTraceParentHeader);
  absl::optional<TraceParent> parent;
  if (tp != md.end()) {
    parent = ParseTraceParent(absl::string_view(tp->second.data(), tp->second.size()));
  }
  out->AddMetadata(kTraceParentHeader, ChildTraceParent(parent.value_or(NewTrace())));
  auto rid = md.find(kRequestIdHeader);
  if (rid != md.end()) {
    out->AddMetadata(kRequestIdHeader, std::string(rid->second.data(), rid->second.size()));
  }
}

absl::Status PeerStatus(const grpc::Status& status, absl::string_view peer,
                        absl::string_view reason) {
  absl::Status ours = FromGrpcStatus(status);
  switch (ours.code()) {
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kDeadlineExceeded:
      return ours;
    default:
      return WithReason(absl::UnavailableError(absl::StrCat("the ", peer,
                                                            " service is unavailable (",
                                                            status.error_message(), ")")),
                        reason);
  }
}

}  // namespace anken::server
