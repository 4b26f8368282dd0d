#pragma once
// Requests the server refuses before any handler logic, whatever the method: the client's
// mistake is INVALID_ARGUMENT, never INTERNAL, and nothing is read or written. And answers
// that always reach the client.
//
// 1. Unparsable requests. proto3 string fields must hold valid UTF-8, so protobuf refuses a
//    request with invalid UTF-8 (UTF-8-encoded surrogates such as ED A0 80 included) in any
//    string field, as it refuses truncated or foreign bytes. gRPC 1.51's sync server then
//    skips the handler and answers INTERNAL with an empty message, which reads (and is logged
//    and counted) as a server bug. The interceptor sees the request come without a message
//    (POST_RECV_MESSAGE) and rewrites that INTERNAL to INVALID_ARGUMENT, reason
//    MALFORMED_REQUEST. Other answers to a message-less call (RESOURCE_EXHAUSTED when no
//    thread was free, an auth rejection) are left alone.
// 2. NUL characters. U+0000 is valid UTF-8, but PostgreSQL text cannot hold it and libpq
//    passes parameters as C strings, so it would be cut off silently at the NUL. No string
//    field of any request may contain one (bytes fields may). Sync interceptors cannot refuse
//    a call, so the interceptor records the refusal in the call's client metadata (where the
//    call log already puts traceparent for handlers) and auth::CallerOf() — the first thing
//    every handler does, AUTHORIZE_OR_RETURN — returns RequestRefusal() for an authorized
//    caller: INVALID_ARGUMENT naming the field, reason INVALID_CHARACTER. An unauthenticated
//    or unauthorized caller still gets UNAUTHENTICATED / PERMISSION_DENIED first.
// 3. Statuses that fit. A handler that quotes a huge value back ("not <the 60 KB it was
//    sent>") would make a status the client cannot read: it refuses response metadata over
//    8 KiB and reports RESOURCE_EXHAUSTED instead. Every outgoing status message is cut to
//    1024 bytes and the texts of its details (field violations, ErrorInfo metadata) to 256,
//    at a character boundary, marked with "…"; details still over 2 KiB are dropped.
//
// Only methods of the anken.* services are scanned: their generated sync handlers hand the
// interceptor a protobuf message (as MessageLite*); health and reflection are not touched.
// ServiceHost registers the interceptor first, so auth, metrics and the call log after it see
// the rewritten status.

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/status/errors.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_interceptor.h"

namespace anken::server {

inline constexpr absl::string_view kReasonMalformedRequest = "MALFORMED_REQUEST";
inline constexpr absl::string_view kReasonInvalidCharacter = "INVALID_CHARACTER";
// The client metadata entry carrying the refused field's path (a client's own is dropped).
inline constexpr char kRefusedFieldHeader[] = "anken-refused-field";

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeRequestCheckInterceptorFactory();

// The refusal the interceptor recorded for the call on `ctx`; OK when there is none.
inline absl::Status RequestRefusal(const grpc::ServerContextBase& ctx) {
  const auto& md = ctx.client_metadata();
  auto it = md.find(kRefusedFieldHeader);
  if (it == md.end()) return absl::OkStatus();
  return InvalidField(absl::string_view(it->second.data(), it->second.size()),
                      "must not contain the NUL character (U+0000)", kReasonInvalidCharacter);
}

}  // namespace anken::server
