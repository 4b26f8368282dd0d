#pragma once
// How stores pass values to and read them from Postgres, written once: instants as
// microseconds (what Postgres keeps), civil days as ISO text in and days since 1970-01-01 out
// (independent of DateStyle), nullable parameters, array literals, and audit rows.

#include <cstdint>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "common/db/write_context.h"

namespace anken::db {

// Postgres keeps microseconds; truncating first makes what a write returns equal what a later
// read returns.
absl::Time TruncToMicros(absl::Time t);
// RFC 3339 in UTC, for timestamptz parameters.
std::string TimeText(absl::Time t);
// A bigint column of Unix microseconds (the SQL selects extract(epoch ...) * 1e6).
absl::Time TimeFromMicros(const pqxx::field& f);

// 'YYYY-MM-DD': ISO 8601 input, which Postgres reads the same under every DateStyle.
std::string DayText(absl::CivilDay d);
// A column of days since 1970-01-01 (the SQL selects date - '1970-01-01').
absl::CivilDay DayFromField(const pqxx::field& f);
absl::optional<absl::CivilDay> OptDayFromField(const pqxx::field& f);

// A nullable parameter: exec_params sends a null `const char*` as SQL NULL, and Postgres
// reads the text in the column's (or cast's) type.
class Param {
 public:
  Param() = default;  // NULL
  explicit Param(std::string value) : value_(std::move(value)), null_(false) {}
  const char* get() const { return null_ ? nullptr : value_.c_str(); }

 private:
  std::string value_;
  bool null_ = true;
};

// NULL for nullopt.
Param OptDay(const absl::optional<absl::CivilDay>& d);
// NULL when `value` is 0 (the domain's "none").
Param NonZero(int64_t value);

// A Postgres array literal of numbers, "{1,2,3}"; passed as one parameter.
template <typename T>
std::string NumberArray(const std::vector<T>& values) {
  std::vector<int64_t> numbers;
  numbers.reserve(values.size());
  for (const T& v : values) numbers.push_back(static_cast<int64_t>(v));
  return absl::StrCat("{", absl::StrJoin(numbers, ","), "}");
}

// A Postgres array literal of texts, each element double-quoted with " and \ escaped (the
// array input syntax), so no element can split or end the array.
std::string TextArray(const std::vector<std::string>& values);

// Reads one row's fields by column number through a single pqxx::field. row[i] builds a new
// field for each read, and every field holds a copy of the whole result (two atomic
// reference-count updates): for a 50-row list of 30 columns that was a tenth of the call's
// CPU. The reference returned is valid until the next read from the same reader.
//
//   db::RowReader f(row);
//   c.id = f[columns.id].as<int64_t>();
class RowReader {
 public:
  explicit RowReader(const pqxx::row& row) : field_(row.begin()) {}
  // `column` as row.column_number() numbers it.
  const pqxx::field& operator[](pqxx::row::size_type column) {
    field_ += static_cast<pqxx::row::difference_type>(column) -
              static_cast<pqxx::row::difference_type>(at_);
    at_ = column;
    return field_;
  }

 private:
  pqxx::const_row_iterator field_;  // a field that moves along the row
  pqxx::row::size_type at_ = 0;     // its column, counted as row.column_number() does
};

// An audit_events row selected as: id, event_us, actor, actor_role, method, resource_type,
// resource_id, change_json, request_id (NULL request ids read as "").
AuditEntry AuditEntryFromRow(const pqxx::row& r);

}  // namespace anken::db
