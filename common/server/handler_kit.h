#pragma once
// What every service's gRPC handlers share, so each handler reads as its own rules only:
// the write context of a mutation, replies from stored (idempotent) responses, required ids,
// the paging trim, and the proto forms of stamps and audit events.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "anken/common/v1/audit.pb.h"
#include "common/api/proto_time.h"
#include "common/auth/auth.h"
#include "common/clock/clock.h"
#include "common/clock/stamp.h"
#include "common/db/idempotency.h"
#include "common/db/write_context.h"
#include "common/server/handler.h"
#include "common/status/errors.h"
#include "common/text/char_count.h"
#include "google/protobuf/message.h"
#include "google/protobuf/repeated_field.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/status.h"

namespace anken::server {

// Who writes what, for the store: the caller, the full method name, the request_id (empty
// for writes guarded by etags instead) with the request's hash, now and the caller's deadline.
inline db::WriteContext MakeWriteContext(const grpc::ServerContext& ctx,
                                         const auth::Principal& caller, std::string method,
                                         const std::string& request_id,
                                         const google::protobuf::Message& request,
                                         const Clock& clock) {
  db::WriteContext w;
  w.actor = caller.subject;
  w.actor_role = std::string(auth::RoleName(caller.role));
  w.method = std::move(method);
  w.request_id = request_id;
  if (!request_id.empty()) w.request_hash = db::RequestHash(request);
  w.now = clock.Now();
  w.deadline = DeadlineOf(ctx);
  return w;
}

// The reply of a write whose store returned response bytes (fresh or replayed).
template <typename Msg>
grpc::Status ReplyFromBytes(const absl::StatusOr<std::string>& bytes, Msg* out) {
  if (!bytes.ok()) return ToGrpcStatus(bytes.status());
  if (!out->ParseFromString(*bytes)) {
    return ToGrpcStatus(absl::InternalError("stored response unreadable"));
  }
  return grpc::Status::OK;
}

// INVALID_ARGUMENT (REQUIRED) naming `field` unless `id` > 0.
inline absl::Status RequireId(int64_t id, absl::string_view field) {
  if (id <= 0) return InvalidField(field, "is required", "REQUIRED");
  return absl::OkStatus();
}

// Lists fetch one row more than the page size to learn whether another page exists: drops
// it and says so.
template <typename T>
bool TrimPage(std::vector<T>& rows, int page_size) {
  if (static_cast<int>(rows.size()) <= page_size) return false;
  rows.resize(static_cast<size_t>(page_size));
  return true;
}

inline void StampToProto(const Stamp& s, common::v1::AuditInfo* out) {
  api::ToTimestamp(s.create_time, out->mutable_create_time());
  out->set_created_by(s.created_by);
  api::ToTimestamp(s.update_time, out->mutable_update_time());
  out->set_updated_by(s.updated_by);
}

inline void AuditEntriesToProto(const std::vector<db::AuditEntry>& entries,
                                google::protobuf::RepeatedPtrField<common::v1::AuditEvent>* out) {
  for (const auto& e : entries) {
    auto* p = out->Add();
    p->set_id(e.id);
    api::ToTimestamp(e.event_time, p->mutable_event_time());
    p->set_actor(e.actor);
    p->set_actor_role(e.actor_role);
    p->set_method(e.method);
    p->set_resource_type(e.resource_type);
    p->set_resource_id(e.resource_id);
    p->set_change_json(e.change_json);
    p->set_request_id(e.request_id);
  }
}

// Code points of UTF-8 text: limits are in characters, not bytes.
using ::anken::text::CharCount;

}  // namespace anken::server
