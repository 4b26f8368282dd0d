#pragma once
// libpqxx 6.4 exceptions -> absl::Status: the one place the project maps database errors.
//
// Code choice (what the client should do next, STYLE.md rule 5):
//   unique_violation (23505)                              -> ALREADY_EXISTS
//   serialization_failure (40001), deadlock (40P01), other
//   transaction_rollback (40xxx), lock_not_available (55P03) -> ABORTED, marked retryable
//   broken_connection (incl. too_many_connections), in_doubt_error, SQLSTATE classes 08
//   (connection), 53 (insufficient resources), 57P0x (server shutting down)  -> UNAVAILABLE
//   query_canceled (57014, i.e. statement_timeout)          -> DEADLINE_EXCEEDED
//   foreign_key / check / not_null / restrict violation      -> FAILED_PRECONDITION: the row
//     breaks a rule about the stored state (a referenced row is gone, a state check); the
//     request itself was validated before SQL ran, so INVALID_ARGUMENT would blame the client
//     for something it cannot see.
//   anything else (syntax errors, bad casts, non-pqxx exceptions) -> INTERNAL
//
// The message is "<what_we_were_doing>: <generic text>" and NEVER carries SQL text or the
// server's message; those go to the log (anken::log, error level; warn for the retryable
// ones) together with the SQLSTATE, so that an operator can find them.

#include <exception>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace anken::db {

// Converts a caught exception. `what_we_were_doing` is our own wording ("creating customer"),
// never SQL; it starts the message and the log line.
absl::Status StatusFromException(const std::exception& e, absl::string_view what_we_were_doing);

// True for the ABORTED statuses StatusFromException made from a serialization failure,
// deadlock or lock timeout: running the whole transaction again may succeed. An ABORTED that
// a service returns itself (a stale etag, say) is not retryable by this test.
bool IsRetryableDbError(const absl::Status& status);

}  // namespace anken::db
