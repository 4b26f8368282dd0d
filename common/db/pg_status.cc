#include "common/db/pg_status.h"

#include <pqxx/except>
#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/log/log.h"

namespace anken::db {
namespace {

// A private payload (no type.googleapis.com/ prefix, so ToGrpcStatus never forwards it).
constexpr absl::string_view kRetryablePayload = "anken.db/retryable";

// Enough of a query to recognise it in the log without flooding it.
constexpr size_t kMaxLoggedQuery = 2000;

struct Mapped {
  absl::StatusCode code;
  absl::string_view text;
  bool retryable = false;
};

Mapped FromSqlState(absl::string_view state) {
  if (state == "23505") return {absl::StatusCode::kAlreadyExists, "a conflicting record already exists"};
  if (state == "23503" || state == "23514" || state == "23502" || state == "23001") {
    return {absl::StatusCode::kFailedPrecondition, "the change conflicts with the stored data"};
  }
  if (state == "57014") return {absl::StatusCode::kDeadlineExceeded, "the database statement timed out"};
  if (absl::StartsWith(state, "40") || state == "55P03") {
    return {absl::StatusCode::kAborted, "concurrent transaction conflict; retry", true};
  }
  if (absl::StartsWith(state, "08") || absl::StartsWith(state, "53") ||
      absl::StartsWith(state, "57P")) {
    return {absl::StatusCode::kUnavailable, "the database is unavailable"};
  }
  return {absl::StatusCode::kInternal, "database error"};
}

Mapped Classify(const std::exception& e, std::string* sqlstate, std::string* query) {
  if (const auto* s = dynamic_cast<const pqxx::sql_error*>(&e)) {
    *sqlstate = s->sqlstate();
    *query = s->query();
    // Subclasses carry their SQLSTATE, but libpqxx also throws a plain sql_error for states
    // it has no class for (57014 among them), so the state decides.
    if (dynamic_cast<const pqxx::unique_violation*>(&e) != nullptr) return FromSqlState("23505");
    if (dynamic_cast<const pqxx::foreign_key_violation*>(&e) != nullptr ||
        dynamic_cast<const pqxx::check_violation*>(&e) != nullptr ||
        dynamic_cast<const pqxx::not_null_violation*>(&e) != nullptr ||
        dynamic_cast<const pqxx::restrict_violation*>(&e) != nullptr) {
      return FromSqlState("23503");
    }
    if (dynamic_cast<const pqxx::insufficient_resources*>(&e) != nullptr) {
      return FromSqlState("53000");
    }
    return FromSqlState(*sqlstate);
  }
  // libpqxx 6.4's transaction_rollback family derives from failure, not sql_error, and so
  // carries no SQLSTATE.
  if (dynamic_cast<const pqxx::serialization_failure*>(&e) != nullptr) {
    *sqlstate = "40001";
    return FromSqlState(*sqlstate);
  }
  if (dynamic_cast<const pqxx::deadlock_detected*>(&e) != nullptr) {
    *sqlstate = "40P01";
    return FromSqlState(*sqlstate);
  }
  if (dynamic_cast<const pqxx::transaction_rollback*>(&e) != nullptr) {
    *sqlstate = "40000";
    return FromSqlState(*sqlstate);
  }
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
    return {absl::StatusCode::kUnavailable, "the database is unavailable"};
  }
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr) {
    // The commit may or may not have happened; the client must check before retrying.
    return {absl::StatusCode::kUnavailable,
            "the database connection was lost while committing; the outcome is unknown"};
  }
  return {absl::StatusCode::kInternal, "database error"};
}

}  // namespace

absl::Status StatusFromException(const std::exception& e, absl::string_view what_we_were_doing) {
  std::string sqlstate;
  std::string query;
  Mapped m = Classify(e, &sqlstate, &query);
  {
    log::Event event = m.retryable ? log::Warn("database error") : log::Error("database error");
    event.Str("during", what_we_were_doing)
        .Str("code", absl::StatusCodeToString(m.code))
        .Str("exception", e.what());
    if (!sqlstate.empty()) event.Str("sqlstate", sqlstate);
    if (!query.empty()) event.Str("query", absl::string_view(query).substr(0, kMaxLoggedQuery));
  }
  absl::Status status(m.code, absl::StrCat(what_we_were_doing, ": ", m.text));
  if (m.retryable) status.SetPayload(kRetryablePayload, absl::Cord("1"));
  return status;
}

bool IsRetryableDbError(const absl::Status& status) {
  return status.code() == absl::StatusCode::kAborted &&
         status.GetPayload(kRetryablePayload).has_value();
}

}  // namespace anken::db
