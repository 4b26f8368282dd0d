#pragma once
// Prepared statements for constant SQL: ExecPrepared(tx, sql::kGetCustomer, id) runs the
// statement as a server-side prepared statement of tx's connection, so Postgres parses and
// analyses it once per connection instead of on every call (exec_params re-parses each time).
//
// Contract:
// - `sql` must be a constant character array (a string literal or a constexpr char[]): the
//   template takes nothing else, so the statements a process prepares are the constants in
//   its code, never a string built at run time (which could prepare without bound).
// - A statement's name is derived from its text (PreparedName), so one SQL is one statement
//   per connection whichever code runs it. It is defined on the connection on every call
//   (cheap: libpqxx keeps the definitions in a map) and registered with the server on its
//   first use there (libpqxx defers it), so a fresh connection after a reconnect prepares
//   its statements again by itself.
// - Plans: Postgres plans a prepared statement with its values for the first five runs and
//   may then keep a generic plan. Prepare statements whose best plan does not depend on the
//   values (lookups by key, inserts, updates by key); statements with "empty means any"
//   filters (the list queries) stay with exec_params, which plans with the values each time.
// - Errors are libpqxx's exceptions, as with exec_params: Pool::Transact turns them into
//   statuses.

#include <cstddef>
#include <cstdint>
#include <pqxx/pqxx>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"

namespace anken::db {

// "anken_" and 16 hex digits of the 64-bit FNV-1a hash of `sql`: stable across processes, so
// the statement log and pg_prepared_statements name a statement the same way in every run.
inline std::string PreparedName(absl::string_view sql) {
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : sql) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string name = "anken_";
  for (int shift = 60; shift >= 0; shift -= 4) name += kHex[(h >> shift) & 0xf];
  return name;
}

// Runs the constant `sql` with `args` (as exec_params would) through its prepared statement.
template <size_t N, typename... Args>
pqxx::result ExecPrepared(pqxx::transaction_base& tx, const char (&sql)[N], Args&&... args) {
  const absl::string_view text(sql, N - 1);  // without the terminating NUL
  const std::string name = PreparedName(text);
  tx.conn().prepare(name, std::string(text));
  return tx.exec_prepared(name, std::forward<Args>(args)...);
}

// The same, expecting exactly one row (pqxx::unexpected_rows otherwise), like exec_params1.
template <size_t N, typename... Args>
pqxx::row ExecPrepared1(pqxx::transaction_base& tx, const char (&sql)[N], Args&&... args) {
  const absl::string_view text(sql, N - 1);
  const std::string name = PreparedName(text);
  tx.conn().prepare(name, std::string(text));
  return tx.exec_prepared1(name, std::forward<Args>(args)...);
}

}  // namespace anken::db
