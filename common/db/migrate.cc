#include "common/db/migrate.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <pqxx/pqxx>
#include <sstream>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/db/pg_status.h"
#include "common/log/log.h"
#include "common/status/status_macros.h"

namespace anken::db {
namespace {

namespace fs = std::filesystem;

constexpr absl::string_view kServiceTable = "schema_migrations";
constexpr absl::string_view kCommonTable = "common_migrations";

// "V###__snake_name.sql" -> version and name; false when the name does not match.
bool ParseFileName(absl::string_view file, int* version, std::string* name) {
  if (!absl::ConsumePrefix(&file, "V") || !absl::ConsumeSuffix(&file, ".sql")) return false;
  size_t sep = file.find("__");
  if (sep == absl::string_view::npos) return false;
  absl::string_view digits = file.substr(0, sep);
  absl::string_view snake = file.substr(sep + 2);
  if (digits.size() < 3 || digits.size() > 9) return false;
  for (char c : digits) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  if (!absl::SimpleAtoi(digits, version)) return false;
  // [a-z0-9]+ joined by single underscores.
  if (snake.empty() || snake.front() == '_' || snake.back() == '_' ||
      snake.find("__") != absl::string_view::npos) {
    return false;
  }
  for (char c : snake) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '_') return false;
  }
  *name = std::string(snake);
  return true;
}

Migration MakeMigration(int version, std::string name, std::string file_name, std::string sql) {
  Migration m;
  m.version = version;
  m.name = std::move(name);
  m.file_name = std::move(file_name);
  m.checksum = Sha256Hex(sql);
  m.sql = std::move(sql);
  return m;
}

}  // namespace

// The first 8 bytes of SHA-256("anken.migrate:" + schema): every replica of a service derives
// the same key, and different schemas do not block each other.
int64_t MigrationLockKey(absl::string_view schema) {
  std::string hex = Sha256Hex(absl::StrCat("anken.migrate:", schema));
  uint64_t key = 0;
  for (int i = 0; i < 16; ++i) {
    key = key << 4 | static_cast<uint64_t>(absl::ascii_isdigit(hex[i]) ? hex[i] - '0'
                                                                       : hex[i] - 'a' + 10);
  }
  int64_t signed_key;
  std::memcpy(&signed_key, &key, sizeof key);
  return signed_key;
}

namespace {

std::string TimeoutSetting(absl::Duration d) {
  return absl::StrCat(std::max<int64_t>(
      1, absl::ToInt64Milliseconds(absl::Ceil(d, absl::Milliseconds(1)))));
}

struct Applied {
  std::string name;
  std::string checksum;
};

class Runner {
 public:
  Runner(pqxx::connection& conn, absl::string_view schema, const MigrateOptions& options)
      : conn_(conn), schema_(schema), options_(options) {}

  absl::Status Lock() {
    try {
      pqxx::work tx(conn_);
      if (options_.lock_timeout > absl::ZeroDuration()) {
        tx.exec_params("SELECT set_config('statement_timeout', $1, true)",
                       TimeoutSetting(options_.lock_timeout));
      }
      // A session-level lock outlives this transaction; it is released by Unlock or by the
      // session's end.
      tx.exec_params("SELECT pg_advisory_lock($1)", MigrationLockKey(schema_));
      tx.commit();
      return absl::OkStatus();
    } catch (const std::exception& e) {
      absl::Status s = StatusFromException(e, "taking the migration lock");
      if (s.code() == absl::StatusCode::kDeadlineExceeded) {
        return absl::UnavailableError(
            absl::StrCat("another migration runner held the lock of schema ", schema_,
                         " for longer than ", absl::FormatDuration(options_.lock_timeout)));
      }
      return s;
    }
  }

  absl::Status Unlock() {
    try {
      pqxx::nontransaction tx(conn_);
      tx.exec_params("SELECT pg_advisory_unlock($1)", MigrationLockKey(schema_));
      return absl::OkStatus();
    } catch (const std::exception& e) {
      return StatusFromException(e, "releasing the migration lock");
    }
  }

  absl::Status Run(const std::vector<Migration>& common, const std::vector<Migration>& files) {
    RETURN_IF_ERROR(Prepare());
    std::map<int, Applied> applied_common;
    std::map<int, Applied> applied_files;
    RETURN_IF_ERROR(ReadApplied(kCommonTable, &applied_common));
    RETURN_IF_ERROR(ReadApplied(kServiceTable, &applied_files));
    // Everything is checked before anything runs.
    RETURN_IF_ERROR(Verify(common, applied_common));
    RETURN_IF_ERROR(Verify(files, applied_files));
    RETURN_IF_ERROR(ApplyPending(kCommonTable, common, applied_common));
    RETURN_IF_ERROR(ApplyPending(kServiceTable, files, applied_files));
    return absl::OkStatus();
  }

 private:
  std::string Table(pqxx::transaction_base& tx, absl::string_view table) const {
    return absl::StrCat(tx.quote_name(schema_), ".", table);
  }

  // The schema and the two bookkeeping tables.
  absl::Status Prepare() {
    try {
      pqxx::work tx(conn_);
      // Checked first: CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the
      // schema exists, which a service's own role usually lacks.
      if (tx.exec_params("SELECT 1 FROM pg_namespace WHERE nspname = $1", schema_).empty()) {
        tx.exec0(absl::StrCat("CREATE SCHEMA ", tx.quote_name(schema_)));
        log::Info("created schema").Str("schema", schema_);
      }
      for (absl::string_view table : {kCommonTable, kServiceTable}) {
        tx.exec0(absl::StrCat("CREATE TABLE IF NOT EXISTS ", Table(tx, table), R"sql( (
              version integer PRIMARY KEY,
              name text NOT NULL,
              checksum text NOT NULL,
              applied_at timestamptz NOT NULL DEFAULT now()))sql"));
      }
      tx.commit();
      return absl::OkStatus();
    } catch (const std::exception& e) {
      return StatusFromException(e, "preparing the migration tables");
    }
  }

  absl::Status ReadApplied(absl::string_view table, std::map<int, Applied>* out) {
    try {
      pqxx::read_transaction tx(conn_);
      pqxx::result rows = tx.exec(
          absl::StrCat("SELECT version, name, checksum FROM ", Table(tx, table)));
      for (const pqxx::row& row : rows) {
        (*out)[row[0].as<int>()] = Applied{row[1].as<std::string>(), row[2].as<std::string>()};
      }
      return absl::OkStatus();
    } catch (const std::exception& e) {
      return StatusFromException(e, "reading applied migrations");
    }
  }

  absl::Status Verify(const std::vector<Migration>& migrations,
                      const std::map<int, Applied>& applied) {
    for (const Migration& m : migrations) {
      auto it = applied.find(m.version);
      if (it == applied.end()) continue;
      if (it->second.checksum != m.checksum) {
        log::Error("applied migration changed")
            .Str("schema", schema_)
            .Str("file", m.file_name)
            .Str("applied_checksum", it->second.checksum)
            .Str("file_checksum", m.checksum);
        return absl::FailedPreconditionError(absl::StrCat(
            "migration ", m.file_name, " was applied to schema ", schema_,
            " with checksum ", it->second.checksum, " but the file now has checksum ",
            m.checksum, "; applied migrations must never change (add a new file instead); "
            "nothing was applied"));
      }
      if (it->second.name != m.name) {
        log::Warn("applied migration renamed")
            .Str("schema", schema_)
            .Str("file", m.file_name)
            .Str("applied_name", it->second.name);
      }
    }
    if (!applied.empty() &&
        (migrations.empty() || applied.rbegin()->first > migrations.back().version)) {
      log::Warn("database has migrations newer than this binary")
          .Str("schema", schema_)
          .Int("database_version", applied.rbegin()->first)
          .Int("binary_version", migrations.empty() ? 0 : migrations.back().version);
    }
    return absl::OkStatus();
  }

  absl::Status ApplyPending(absl::string_view table, const std::vector<Migration>& migrations,
                            const std::map<int, Applied>& applied) {
    for (const Migration& m : migrations) {
      if (applied.count(m.version) > 0) continue;
      absl::Time start = absl::Now();
      try {
        pqxx::work tx(conn_);
        tx.exec0(absl::StrCat("SET LOCAL search_path TO ", tx.quote_name(schema_)));
        if (options_.statement_timeout > absl::ZeroDuration()) {
          tx.exec_params("SELECT set_config('statement_timeout', $1, true)",
                         TimeoutSetting(options_.statement_timeout));
        }
        // A file holds several statements: the simple query protocol runs them all.
        if (!absl::StripAsciiWhitespace(m.sql).empty()) tx.exec(m.sql);
        tx.exec_params0(absl::StrCat("INSERT INTO ", Table(tx, table),
                                     " (version, name, checksum) VALUES ($1, $2, $3)"),
                        m.version, m.name, m.checksum);
        tx.commit();
      } catch (const std::exception& e) {
        return StatusFromException(e, absl::StrCat("applying migration ", m.file_name, " to ",
                                                   schema_));
      }
      log::Info("applied migration")
          .Str("schema", schema_)
          .Str("file", m.file_name)
          .Str("checksum", m.checksum)
          .Int("ms", absl::ToInt64Milliseconds(absl::Now() - start));
    }
    return absl::OkStatus();
  }

  pqxx::connection& conn_;
  const std::string schema_;
  const MigrateOptions& options_;
};

}  // namespace

std::string Sha256Hex(absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), len));
}

absl::StatusOr<std::vector<Migration>> LoadMigrations(const std::string& migrations_dir) {
  std::error_code ec;
  if (!fs::is_directory(migrations_dir, ec)) {
    return absl::NotFoundError(
        absl::StrCat("migrations folder ", migrations_dir, " does not exist"));
  }
  std::vector<Migration> out;
  std::vector<std::string> refused;
  for (fs::directory_iterator it(migrations_dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    std::string file = it->path().filename().string();
    if (file.empty() || file[0] == '.') continue;
    int version = 0;
    std::string name;
    if (!it->is_regular_file(ec) || !ParseFileName(file, &version, &name)) {
      refused.push_back(file);
      continue;
    }
    std::ifstream in(it->path(), std::ios::binary);
    std::stringstream sql;
    sql << in.rdbuf();
    if (!in) {
      return absl::FailedPreconditionError(absl::StrCat("cannot read migration ", file));
    }
    out.push_back(MakeMigration(version, std::move(name), file, sql.str()));
  }
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot list migrations folder ", migrations_dir, ": ", ec.message()));
  }
  if (!refused.empty()) {
    std::sort(refused.begin(), refused.end());
    return absl::InvalidArgumentError(absl::StrCat(
        "migration file names must look like V001__snake_name.sql; refused: ",
        absl::StrJoin(refused, ", ")));
  }
  std::sort(out.begin(), out.end(), [](const Migration& a, const Migration& b) {
    return a.version != b.version ? a.version < b.version : a.file_name < b.file_name;
  });
  for (size_t i = 0; i < out.size(); ++i) {
    if (i > 0 && out[i].version == out[i - 1].version) {
      return absl::InvalidArgumentError(absl::StrCat("migrations ", out[i - 1].file_name,
                                                     " and ", out[i].file_name,
                                                     " have the same version"));
    }
    if (out[i].version != static_cast<int>(i) + 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "migration versions must be 1, 2, 3, ... without gaps; expected version ", i + 1,
          " but found ", out[i].file_name));
    }
  }
  return out;
}

const std::vector<Migration>& CommonMigrations() {
  // Applied in every service schema, with search_path set to it. Forward-only like a
  // service's files: change them only by appending.
  static const std::vector<Migration>* migrations = new std::vector<Migration>{
      MakeMigration(1, "idempotency_keys", "common:C001__idempotency_keys", R"sql(
-- One row per (method, request_id) of an idempotent mutation, written in the mutation's own
-- transaction: response is NULL only inside that transaction, never once committed.
CREATE TABLE idempotency_keys (
  method text NOT NULL,
  request_id text NOT NULL,
  request_hash text NOT NULL,
  response bytea,
  status_code integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (method, request_id)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
)sql"),
      MakeMigration(2, "audit_events", "common:C002__audit_events", R"sql(
-- Every mutation's audit trail (who, when, what changed). Append-only.
CREATE TABLE audit_events (
  id bigserial PRIMARY KEY,
  event_time timestamptz NOT NULL,
  actor text NOT NULL,
  actor_role text NOT NULL,
  method text NOT NULL,
  resource_type text NOT NULL,
  resource_id text NOT NULL,
  change_json jsonb NOT NULL,
  request_id text
);
CREATE INDEX audit_events_resource ON audit_events (resource_type, resource_id, event_time);
CREATE INDEX audit_events_event_time ON audit_events (event_time);
)sql"),
  };
  return *migrations;
}

absl::Status Migrate(Pool& pool, absl::string_view schema, const std::string& migrations_dir,
                     const MigrateOptions& options) {
  RETURN_IF_ERROR(CheckSchemaName(schema));
  ASSIGN_OR_RETURN(std::vector<Migration> files, LoadMigrations(migrations_dir));
  ASSIGN_OR_RETURN(Pool::Lease lease, pool.Acquire());
  Runner runner(lease.conn(), schema, options);
  absl::Status status = runner.Lock();
  if (!status.ok()) {
    lease.MarkBroken();
    return status;
  }
  status = runner.Run(CommonMigrations(), files);
  // Released explicitly, so the next runner goes on at once; the connection is then closed
  // anyway: a migration file may have changed session settings (a plain SET) that must not
  // leak into the service's transactions, and closing frees the lock should the unlock fail.
  absl::Status unlocked = runner.Unlock();
  lease.MarkBroken();
  return status.ok() ? unlocked : status;
}

absl::Status Migrate(const std::string& url, absl::string_view schema,
                     const std::string& migrations_dir, const MigrateOptions& options) {
  PoolOptions pool_options;
  pool_options.url = url;
  pool_options.size = 1;
  pool_options.acquire_timeout = absl::Minutes(1);
  Pool pool(pool_options);
  return Migrate(pool, schema, migrations_dir, options);
}

}  // namespace anken::db
