#pragma once
// The gRPC side of auth: one server interceptor that authenticates and authorizes every
// call, and CallerOf() for handlers to learn the outcome.
//
// gRPC 1.51's sync-server interceptors cannot refuse a call before its handler runs, so:
//  1. At POST_RECV_INITIAL_METADATA (before the handler) the interceptor reads the method
//     name and the `authorization` metadata, runs Authenticator + MethodRoles, and records
//     the outcome for the call, keyed by its ServerContext, until the call ends.
//  2. Every handler starts with AUTHORIZE_OR_RETURN(const Principal caller, context), which
//     returns the recorded UNAUTHENTICATED / PERMISSION_DENIED status (with its ErrorInfo
//     reason) or yields the caller for per-resource scoping.
//  3. Safety net for a handler that forgot step 2: for a rejected call the interceptor
//     replaces any outgoing message with an empty one (PRE_SEND_MESSAGE) and the outgoing
//     status with the auth failure (PRE_SEND_STATUS). The client then sees the right code
//     and no data — but the forgetful handler did run, so its side effects happened: step 2
//     is not optional for methods that write.
//
// Open methods (MethodRoles::Open, health, reflection) are never rejected. A valid token on
// an open method still yields its Principal; without one (or with a bad one) CallerOf()
// returns UNAUTHENTICATED for the handler to decide — there is no "anonymous" Principal,
// so no code can mistake an anonymous caller for a role.
//
// Register this interceptor AFTER (i.e. at a higher index than) an interceptor that logs the
// final status: on the server, send hooks run in registration order, so an earlier
// interceptor sees the handler's status before this one replaces it.

#include <memory>
#include <utility>

#include "absl/status/statusor.h"
#include "common/auth/auth.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_interceptor.h"

namespace anken::auth {

// The interceptor factory for grpc::ServerBuilder::experimental().SetInterceptorCreators.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeAuthInterceptorFactory(
    std::shared_ptr<const Authenticator> authenticator, std::shared_ptr<const MethodRoles> roles);

// The caller of the call running on `ctx`: its Principal, or the recorded UNAUTHENTICATED /
// PERMISSION_DENIED status. INTERNAL (reason AUTH_NOT_CONFIGURED) when no auth interceptor
// saw the call — a wiring bug, and it fails closed.
absl::StatusOr<Principal> CallerOf(const grpc::ServerContextBase* ctx);

// Calls currently tracked (for tests: proves entries are dropped when calls end).
size_t TrackedCallsForTesting();

}  // namespace anken::auth

// In a grpc::Status handler:  AUTHORIZE_OR_RETURN(const auth::Principal caller, context);
// Returns anken::ToGrpcStatus(failure) when the call was not authenticated or authorized.
#define AUTHORIZE_OR_RETURN(lhs, ctx) \
  ANKEN_AUTHORIZE_OR_RETURN_IMPL(ANKEN_STATUS_CONCAT(anken_caller_, __LINE__), lhs, ctx)

#define ANKEN_AUTHORIZE_OR_RETURN_IMPL(caller, lhs, ctx)                         \
  auto caller = ::anken::auth::CallerOf(ctx);                                    \
  if (!caller.ok()) return ::anken::ToGrpcStatus(caller.status());               \
  lhs = std::move(caller).value()
