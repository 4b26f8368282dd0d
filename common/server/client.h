#pragma once
// Calls from one Anken service to another: channels with the default client service config
// (a timeout and retries on UNAVAILABLE only — every Anken write is idempotent by request_id,
// yet only UNAVAILABLE means "the request did not arrive"), and the caller's deadline and
// trace passed on.

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/server_context.h"

namespace anken::server {

// The service config every Anken client uses by default; also shipped as
// deploy/grpc/service_config.json for other company systems.
extern const char kDefaultServiceConfigJson[];

// An insecure channel (TLS is the mesh's job inside the cluster) with the default service
// config, keepalive and the message size limit. `timeout` replaces the config's 10 s per-call
// bound for peers whose calls legitimately run long (the scheduler's renewal runs).
std::shared_ptr<grpc::Channel> MakePeerChannel(const std::string& target,
                                               int max_message_bytes = 16 << 20,
                                               absl::Duration timeout = absl::Seconds(10));

// Prepares `out` for a call made while serving `in`: the deadline is the caller's deadline
// (or now + fallback when the caller set none, never later than the caller's), the trace
// continues with a child `traceparent`, and `x-request-id` is passed on.
void PropagateCall(const grpc::ServerContextBase& in, grpc::ClientContext* out,
                   absl::Duration fallback_timeout = absl::Seconds(10));

// A peer's answer as our status: its client errors (NOT_FOUND, INVALID_ARGUMENT) and
// DEADLINE_EXCEEDED pass through; anything else means the peer is not usable now, which is
// UNAVAILABLE ("the <peer> service is unavailable (...)", ErrorInfo `reason`) for our caller,
// never INTERNAL: the caller may retry later.
absl::Status PeerStatus(const grpc::Status& status, absl::string_view peer,
                        absl::string_view reason = "PEER_UNAVAILABLE");

}  // namespace anken::server
