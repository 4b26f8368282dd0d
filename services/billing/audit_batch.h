#pragma once
// Many audit events of one call written with one statement into billing.audit_events: what
// db::WriteAuditFor writes per event, for the writes that touch hundreds of rows at once
// (renewal batches, bank statement imports), where a statement per event would cost more
// than the change itself. Same record (the call's actor, role, method, request_id and
// instant), same checks; the events keep the order they were added in (ids ascending).

#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/db/write_context.h"

namespace anken::billing {

class AuditBatch {
 public:
  // `ctx` must outlive the batch; `now` is the call's instant (already truncated).
  AuditBatch(const db::WriteContext& ctx, absl::Time now) : ctx_(ctx), now_(now) {}

  void Add(absl::string_view resource_type, std::string resource_id, std::string change_json);
  size_t size() const { return resource_ids_.size(); }

  // Inserts the events added since the last Write (none: no statement) and empties the batch.
  // INVALID_ARGUMENT as db::WriteAudit for an empty actor or method or an unset instant, or an
  // event without resource type or id.
  absl::Status Write(pqxx::work& tx);

 private:
  const db::WriteContext& ctx_;
  absl::Time now_;
  std::vector<std::string> resource_types_, resource_ids_, changes_;
};

}  // namespace anken::billing
