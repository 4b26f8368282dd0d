#include "services/billing/audit_batch.h"

#include <utility>

#include "common/db/pg_values.h"
#include "common/status/errors.h"
#include "services/billing/billing_queries.h"

namespace anken::billing {

void AuditBatch::Add(absl::string_view resource_type, std::string resource_id,
                     std::string change_json) {
  resource_types_.emplace_back(resource_type);
  resource_ids_.push_back(std::move(resource_id));
  changes_.push_back(std::move(change_json));
}

absl::Status AuditBatch::Write(pqxx::work& tx) {
  if (resource_ids_.empty()) return absl::OkStatus();
  // db::WriteAudit's checks, once for the batch.
  if (ctx_.actor.empty()) return InvalidField("audit.actor", "required");
  if (ctx_.method.empty()) return InvalidField("audit.method", "required");
  if (now_ == absl::InfiniteFuture() || now_ == absl::InfinitePast() || now_ == absl::UnixEpoch()) {
    return InvalidField("audit.event_time", "required");
  }
  for (size_t i = 0; i < resource_ids_.size(); ++i) {
    if (resource_types_[i].empty()) return InvalidField("audit.resource_type", "required");
    if (resource_ids_[i].empty()) return InvalidField("audit.resource_id", "required");
  }
  const db::Param request_id =
      ctx_.request_id.empty() ? db::Param() : db::Param(ctx_.request_id);
  tx.exec_params0(sql::kInsertAuditEvents, db::TimeText(now_), ctx_.actor, ctx_.actor_role,
                  ctx_.method, request_id.get(), db::TextArray(resource_types_),
                  db::TextArray(resource_ids_), db::TextArray(changes_));
  resource_types_.clear();
  resource_ids_.clear();
  changes_.clear();
  return absl::OkStatus();
}

}  // namespace anken::billing
