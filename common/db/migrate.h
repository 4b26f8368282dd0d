#pragma once
// The migration runner every service calls with --migrate (and the Kubernetes Job runs).
//
// Contract:
// - A service keeps forward-only files services/<name>/migrations/V###__snake_name.sql
//   (at least three digits, name [a-z0-9]+ joined by single underscores). Every file in the
//   folder must match (dot files are ignored), versions must be 1, 2, 3, ... with no gap or
//   duplicate: anything else is INVALID_ARGUMENT before the database is touched.
// - Runners serialize on a session-level pg_advisory_lock keyed by the schema name, so several
//   replicas may run at once: the first applies, the others then find nothing to do.
// - The schema is created when missing. Before the service's files, the runner applies the
//   built-in common migrations (idempotency_keys, audit_events), recorded apart in
//   <schema>.common_migrations so that the service's own numbering starts at 1 and the common
//   tables can evolve on their own.
// - Each file runs in its own transaction with search_path = the schema, together with its
//   row in <schema>.schema_migrations(version, name, checksum = SHA-256 hex, applied_at): a
//   failing file leaves nothing of itself behind, files before it stay applied (as Flyway
//   does). Files must not contain BEGIN/COMMIT or statements that cannot run in a transaction
//   (CREATE INDEX CONCURRENTLY).
// - Every applied file's checksum is compared before anything runs: a changed file is
//   FAILED_PRECONDITION naming it and both checksums, and nothing is applied. Versions in the
//   database beyond the newest file (a newer release ran) are accepted with a warning.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/db/pool.h"

namespace anken::db {

struct MigrateOptions {
  // Bound of each migration's statements; zero: none (big ALTERs can take long; the Job has
  // its own deadline).
  absl::Duration statement_timeout = absl::ZeroDuration();
  // How long to wait for another runner's lock before UNAVAILABLE; zero: forever.
  absl::Duration lock_timeout = absl::Minutes(10);
};

// Applies the common and then the service's pending migrations to `schema`. Uses one
// connection of `pool` for the whole run and closes it afterwards (the pool makes a new one),
// so no session state a file set can leak into the service's transactions.
absl::Status Migrate(Pool& pool, absl::string_view schema, const std::string& migrations_dir,
                     const MigrateOptions& options = MigrateOptions());
// The same over a one-connection pool of its own.
absl::Status Migrate(const std::string& url, absl::string_view schema,
                     const std::string& migrations_dir,
                     const MigrateOptions& options = MigrateOptions());

struct Migration {
  int version = 0;
  std::string name;       // "create_invoices"
  std::string file_name;  // "V002__create_invoices.sql" (common ones: "common:C001__...")
  std::string sql;
  std::string checksum;   // SHA-256 of sql, lower-case hex
};

// The folder's migrations in version order, checked as described above. A missing folder is
// NOT_FOUND; an empty one is an empty list.
absl::StatusOr<std::vector<Migration>> LoadMigrations(const std::string& migrations_dir);

// The built-in migrations that create <schema>.idempotency_keys and <schema>.audit_events.
const std::vector<Migration>& CommonMigrations();

// The pg_advisory_lock key runners of `schema` serialize on.
int64_t MigrationLockKey(absl::string_view schema);

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(absl::string_view data);

}  // namespace anken::db
