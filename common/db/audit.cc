#include "common/db/audit.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "common/db/pg_status.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"

namespace anken::db {

absl::Status WriteAudit(pqxx::work& tx, absl::string_view schema, const AuditRecord& record) {
  RETURN_IF_ERROR(CheckSchemaName(schema));
  if (record.actor.empty()) return InvalidField("audit.actor", "required");
  if (record.method.empty()) return InvalidField("audit.method", "required");
  if (record.resource_type.empty()) return InvalidField("audit.resource_type", "required");
  if (record.resource_id.empty()) return InvalidField("audit.resource_id", "required");
  // The epoch is what a default-constructed absl::Time holds: a forgotten timestamp.
  if (record.event_time == absl::InfiniteFuture() || record.event_time == absl::InfinitePast() ||
      record.event_time == absl::UnixEpoch()) {
    return InvalidField("audit.event_time", "required");
  }
  const absl::optional<std::string> request_id =
      record.request_id.empty() ? absl::nullopt : absl::make_optional(record.request_id);
  try {
    tx.exec_params0(
        absl::StrCat("INSERT INTO ", tx.quote_name(std::string(schema)), ".audit_events "
                     "(event_time, actor, actor_role, method, resource_type, resource_id, "
                     "change_json, request_id) "
                     "VALUES ($1::timestamptz, $2, $3, $4, $5, $6, $7::jsonb, $8)"),
        absl::FormatTime(absl::RFC3339_full, record.event_time, absl::UTCTimeZone()),
        record.actor, record.actor_role, record.method, record.resource_type,
        record.resource_id, record.change_json,
        request_id.has_value() ? request_id->c_str() : nullptr);
    return absl::OkStatus();
  } catch (const std::exception& e) {
    return StatusFromException(e, "writing the audit event");
  }
}

absl::Status WriteAuditFor(pqxx::work& tx, absl::string_view schema, const WriteContext& ctx,
                           absl::Time now, absl::string_view resource_type,
                           std::string resource_id, std::string change_json) {
  AuditRecord record;
  record.actor = ctx.actor;
  record.actor_role = ctx.actor_role;
  record.method = ctx.method;
  record.resource_type = std::string(resource_type);
  record.resource_id = std::move(resource_id);
  record.change_json = std::move(change_json);
  record.request_id = ctx.request_id;
  record.event_time = now;
  return WriteAudit(tx, schema, record);
}

}  // namespace anken::db
