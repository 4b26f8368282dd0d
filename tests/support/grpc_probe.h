#pragma once
// Talks to the standard services every Anken server carries — grpc.health.v1 and server
// reflection (v1alpha, what gRPC 1.51 serves) — over raw bytes, since Debian installs no C++
// stubs for them. Used by tests to check a server the way a probe or grpcurl would.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"

namespace anken::testing {

// grpc.health.v1.Health/Check for `service` ("" = the whole server): true when SERVING,
// false when NOT_SERVING; a failed call is returned as its status.
absl::StatusOr<bool> HealthServing(const std::shared_ptr<grpc::Channel>& channel,
                                   const std::string& service = "");

// The service names listed by server reflection (ListServices).
absl::StatusOr<std::vector<std::string>> ReflectionServices(
    const std::shared_ptr<grpc::Channel>& channel);

}  // namespace anken::testing
