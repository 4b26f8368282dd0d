#pragma once
// The audit trail every mutation writes into <schema>.audit_events (DESIGN.md: who, when,
// what changed), inside the mutation's own transaction so that an effect and its audit
// event commit or vanish together. The table is created by the common migrations
// (migrate.h).

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/db/pool.h"
#include "common/db/write_context.h"

namespace anken::db {

struct AuditRecord {
  std::string actor;          // the caller's subject (JWT sub)
  std::string actor_role;     // admin | staff | accounting | partner | service
  std::string method;         // full gRPC method, "/anken.billing.v1.BillingService/IssueInvoice"
  std::string resource_type;  // "invoice"
  std::string resource_id;
  std::string change_json = "{}";  // valid JSON text, e.g. {"status":["READY","BILLED"]}
  std::string request_id;     // optional; stored as NULL when empty
  absl::Time event_time;      // from the caller's Clock
};

// Inserts one event. INVALID_ARGUMENT (naming the field) when actor, method, resource_type,
// resource_id are empty or event_time is unset (the epoch) or infinite; change_json that is not valid JSON is
// INTERNAL (the service built it, not the client). Nothing throws.
absl::Status WriteAudit(pqxx::work& tx, absl::string_view schema, const AuditRecord& record);

// The audit event of one write of the call described by `ctx`, at `now` (the call's instant,
// the same for all of its writes).
absl::Status WriteAuditFor(pqxx::work& tx, absl::string_view schema, const WriteContext& ctx,
                           absl::Time now, absl::string_view resource_type,
                           std::string resource_id, std::string change_json);

}  // namespace anken::db
