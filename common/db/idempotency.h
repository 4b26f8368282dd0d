#pragma once
// Idempotent mutations by request_id (AIP-155): the stored response commits atomically with
// the mutation's effect, because both are written in the same transaction.
//
// Contract:
// - BeginIdempotent inserts a placeholder row into <schema>.idempotency_keys (ON CONFLICT DO
//   NOTHING). A concurrent transaction with the same (method, request_id) blocks on the
//   primary key until the first commits (then it sees the stored response) or rolls back
//   (then it goes first itself). nullopt: this call is first; perform the effect, then call
//   FinishIdempotent in the same transaction. A value: a replay; return those bytes.
// - The same request_id with a different request (by RequestHash) is INVALID_ARGUMENT with
//   ErrorInfo reason "REQUEST_ID_REUSED" and the field "request_id": the client broke the
//   contract, and no state change would make the call succeed (so not FAILED_PRECONDITION),
//   nor does the request collide with a resource (so not ALREADY_EXISTS).
// - request_id must be 1..100 characters of [A-Za-z0-9._:-] (UUIDs fit): INVALID_ARGUMENT on
//   "request_id" otherwise. Keys are per method, so one id may be used by different methods.
// - Only successful responses are stored: a failed effect rolls the placeholder back too, so
//   a retry after a failure runs the effect again.
// - Database errors come back as statuses (pg_status.h); nothing throws.

#include <cstdint>
#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "common/db/pool.h"
#include "common/db/write_context.h"
#include "common/status/status_macros.h"
#include "google/protobuf/message.h"

namespace anken::db {

// OK when `request_id` is acceptable (see above).
absl::Status CheckRequestId(absl::string_view request_id);

// Lower-case hex SHA-256 over the message's type name and its deterministic serialization
// with a top-level `request_id` field cleared, so a retry with the same content matches.
std::string RequestHash(const google::protobuf::Message& request);

absl::StatusOr<absl::optional<std::string>> BeginIdempotent(pqxx::work& tx,
                                                            absl::string_view schema,
                                                            absl::string_view method,
                                                            absl::string_view request_id,
                                                            absl::string_view request_hash);

// Looks without claiming: the stored response of a COMPLETED earlier call with this
// (method, request_id), nullopt when there is none (or it is still in flight), and
// INVALID_ARGUMENT REQUEST_ID_REUSED when it was made with another request. For handlers that
// must answer a replay before running checks that the first call's own effect would fail.
absl::StatusOr<absl::optional<std::string>> FindIdempotent(pqxx::work& tx,
                                                           absl::string_view schema,
                                                           absl::string_view method,
                                                           absl::string_view request_id,
                                                           absl::string_view request_hash);

// Stores the response of the call BeginIdempotent let through. INTERNAL when there is no
// placeholder of this transaction's (Begin not called, or already finished).
absl::Status FinishIdempotent(pqxx::work& tx, absl::string_view schema, absl::string_view method,
                              absl::string_view request_id, absl::string_view response_bytes);

// Deletes keys created before `before` (run daily; clients retry within minutes, not days).
// Returns how many were deleted.
absl::StatusOr<int64_t> PurgeIdempotencyKeys(pqxx::work& tx, absl::string_view schema,
                                             absl::Time before);

namespace internal {
std::string SerializeResponse(const google::protobuf::Message& response);
absl::Status ParseStoredResponse(absl::string_view bytes, google::protobuf::Message* response);
}  // namespace internal

// One whole idempotent mutation in one transaction: Begin, then either the stored response
// (parsed as Resp) or effect(tx) -> absl::StatusOr<Resp> followed by Finish. As with
// Pool::Transact, effect may run more than once (retried serialization failures).
template <typename Resp, typename Fn>
absl::StatusOr<Resp> Idempotent(Pool& pool, absl::Time deadline, absl::string_view schema,
                                absl::string_view method, absl::string_view request_id,
                                const google::protobuf::Message& request, Fn&& effect,
                                TransactOptions options = TransactOptions()) {
  static_assert(std::is_base_of_v<google::protobuf::Message, Resp>,
                "Idempotent: Resp must be a protobuf message");
  RETURN_IF_ERROR(CheckRequestId(request_id));
  const std::string hash = RequestHash(request);
  return pool.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<Resp> {
        ASSIGN_OR_RETURN(absl::optional<std::string> stored,
                         BeginIdempotent(tx, schema, method, request_id, hash));
        Resp response;
        if (stored.has_value()) {
          RETURN_IF_ERROR(internal::ParseStoredResponse(*stored, &response));
          return response;
        }
        ASSIGN_OR_RETURN(response, effect(tx));
        RETURN_IF_ERROR(FinishIdempotent(tx, schema, method, request_id,
                                         internal::SerializeResponse(response)));
        return response;
      },
      options);
}

// Runs `effect` (-> absl::StatusOr<std::string>, the response bytes) once per
// ctx.request_id inside `tx`: a replay answers the stored bytes without running it. Without a
// request_id the effect just runs. The stores' creates are written with it.
template <typename Fn>
absl::StatusOr<std::string> OncePerRequest(pqxx::work& tx, absl::string_view schema,
                                           const WriteContext& ctx, Fn&& effect) {
  if (!ctx.request_id.empty()) {
    ASSIGN_OR_RETURN(absl::optional<std::string> stored,
                     BeginIdempotent(tx, schema, ctx.method, ctx.request_id, ctx.request_hash));
    if (stored.has_value()) return *std::move(stored);
  }
  ASSIGN_OR_RETURN(std::string bytes, effect());
  if (!ctx.request_id.empty()) {
    RETURN_IF_ERROR(FinishIdempotent(tx, schema, ctx.method, ctx.request_id, bytes));
  }
  return bytes;
}

}  // namespace anken::db
