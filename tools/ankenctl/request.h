#pragma once
// Building request JSON from command-line values: a small JSON object writer (proto JSON names,
// values escaped), and parsers for what users type — ids, dates (YYYY-MM-DD), months
// (YYYY-MM), Tokyo wall-clock times ('YYYY-MM-DD HH:MM') and enum words ("corporation" →
// CUSTOMER_KIND_CORPORATION). Request ids: --request-id, else a fresh uuid-like id. Pure
// except NewRequestId (random).

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace anken::ctl {

class JsonObject {
 public:
  JsonObject& Str(absl::string_view key, absl::string_view value);
  JsonObject& Int(absl::string_view key, int64_t value);
  JsonObject& Bool(absl::string_view key, bool value);
  // `json` must already be JSON text (an object, array or literal).
  JsonObject& Raw(absl::string_view key, absl::string_view json);
  JsonObject& Obj(absl::string_view key, const JsonObject& value) { return Raw(key, value.str()); }
  bool empty() const { return body_.empty(); }
  std::string str() const { return "{" + body_ + "}"; }

 private:
  std::string body_;
};

// A positive id; INVALID_ARGUMENT naming `what` otherwise.
absl::StatusOr<int64_t> ParseId(absl::string_view text, absl::string_view what);
// "1,2,3" → ids.
absl::StatusOr<std::vector<int64_t>> ParseIds(absl::string_view text, absl::string_view what);
// A yen amount: digits, optionally with thousands commas or a leading ¥ ("1,200" → 1200).
absl::StatusOr<int64_t> ParseYen(absl::string_view text, absl::string_view what);
// "2026-04-05" → {"year":2026,"month":4,"day":5} (anken.common.v1.Date JSON).
absl::StatusOr<std::string> DateJson(absl::string_view text, absl::string_view what);
// "2026-04" → {"year":2026,"month":4} (anken.common.v1.YearMonth JSON).
absl::StatusOr<std::string> MonthJson(absl::string_view text, absl::string_view what);
// "2026-04-01 09:00" in Asia/Tokyo → "2026-04-01T00:00:00Z" (google.protobuf.Timestamp JSON).
absl::StatusOr<std::string> TokyoTimeJson(absl::string_view text, absl::string_view what);
// "in-progress" with prefix "ORDER_STATUS" → "ORDER_STATUS_IN_PROGRESS" (the server's JSON
// parser rejects unknown names).
std::string EnumName(absl::string_view prefix, absl::string_view word);

// A random id in the 8-4-4-4-12 hex form of a version 4 UUID.
std::string NewRequestId();

}  // namespace anken::ctl
