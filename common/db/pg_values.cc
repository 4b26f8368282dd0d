#include "common/db/pg_values.h"

namespace anken::db {

absl::Time TruncToMicros(absl::Time t) { return absl::FromUnixMicros(absl::ToUnixMicros(t)); }

std::string TimeText(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone());
}

absl::Time TimeFromMicros(const pqxx::field& f) { return absl::FromUnixMicros(f.as<int64_t>()); }

std::string DayText(absl::CivilDay d) { return absl::FormatCivilTime(d); }

absl::CivilDay DayFromField(const pqxx::field& f) {
  return absl::CivilDay(1970, 1, 1) + f.as<int64_t>();
}

absl::optional<absl::CivilDay> OptDayFromField(const pqxx::field& f) {
  if (f.is_null()) return absl::nullopt;
  return DayFromField(f);
}

Param OptDay(const absl::optional<absl::CivilDay>& d) { return d ? Param(DayText(*d)) : Param(); }

Param NonZero(int64_t value) { return value == 0 ? Param() : Param(absl::StrCat(value)); }

std::string TextArray(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char ch : values[i]) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    out += '"';
  }
  out += '}';
  return out;
}

AuditEntry AuditEntryFromRow(const pqxx::row& r) {
  AuditEntry e;
  e.id = r["id"].as<int64_t>();
  e.event_time = TimeFromMicros(r["event_us"]);
  e.actor = r["actor"].as<std::string>();
  e.actor_role = r["actor_role"].as<std::string>();
  e.method = r["method"].as<std::string>();
  e.resource_type = r["resource_type"].as<std::string>();
  e.resource_id = r["resource_id"].as<std::string>();
  e.change_json = r["change_json"].as<std::string>();
  e.request_id = r["request_id"].is_null() ? "" : r["request_id"].as<std::string>();
  return e;
}

}  // namespace anken::db
