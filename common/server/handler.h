#pragma once
// Small things every gRPC handler uses.

#include "absl/time/time.h"
#include "grpcpp/server_context.h"

namespace anken::server {

// The caller's deadline as an absl::Time (InfiniteFuture when the caller set none), for
// db::Pool::Transact, which turns it into the transaction's statement_timeout.
inline absl::Time DeadlineOf(const grpc::ServerContextBase& ctx) {
  auto d = ctx.deadline();
  if (d == std::chrono::system_clock::time_point::max()) return absl::InfiniteFuture();
  return absl::FromChrono(d);
}

}  // namespace anken::server
