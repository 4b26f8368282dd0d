#include "tools/ankenctl/request.h"

#include <random>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/clock/clock.h"
#include "common/json/json_text.h"

namespace anken::ctl {
namespace {

absl::Status Bad(absl::string_view what, absl::string_view text, absl::string_view form) {
  return absl::InvalidArgumentError(
      absl::StrCat(what, " must be ", form, " (got \"", text, "\")"));
}

}  // namespace

JsonObject& JsonObject::Raw(absl::string_view key, absl::string_view json) {
  if (!body_.empty()) body_ += ",";
  absl::StrAppend(&body_, json::String(key), ":", json);
  return *this;
}

JsonObject& JsonObject::Str(absl::string_view key, absl::string_view value) {
  return Raw(key, json::String(value));
}

JsonObject& JsonObject::Int(absl::string_view key, int64_t value) {
  return Raw(key, absl::StrCat("\"", value, "\""));  // int64 travels as a JSON string
}

JsonObject& JsonObject::Bool(absl::string_view key, bool value) {
  return Raw(key, value ? "true" : "false");
}

absl::StatusOr<int64_t> ParseId(absl::string_view text, absl::string_view what) {
  int64_t id = 0;
  if (!absl::SimpleAtoi(text, &id) || id <= 0) return Bad(what, text, "a positive number");
  return id;
}

absl::StatusOr<std::vector<int64_t>> ParseIds(absl::string_view text, absl::string_view what) {
  std::vector<int64_t> ids;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    int64_t id = 0;
    if (!absl::SimpleAtoi(part, &id) || id <= 0) {
      return Bad(what, text, "positive numbers separated by commas");
    }
    ids.push_back(id);
  }
  if (ids.empty()) return Bad(what, text, "positive numbers separated by commas");
  return ids;
}

absl::StatusOr<int64_t> ParseYen(absl::string_view text, absl::string_view what) {
  std::string digits = absl::StrReplaceAll(text, {{",", ""}, {"¥", ""}, {"円", ""}});
  int64_t yen = 0;
  if (!absl::SimpleAtoi(digits, &yen)) return Bad(what, text, "an amount in yen such as 1,200");
  return yen;
}

absl::StatusOr<std::string> DateJson(absl::string_view text, absl::string_view what) {
  absl::CivilDay day;
  if (text.size() != 10 || !absl::ParseCivilTime(text, &day) ||
      absl::FormatCivilTime(day) != text) {
    return Bad(what, text, "a date YYYY-MM-DD");
  }
  return absl::StrFormat(R"({"year":%d,"month":%d,"day":%d})", day.year(), day.month(),
                         day.day());
}

absl::StatusOr<std::string> MonthJson(absl::string_view text, absl::string_view what) {
  absl::CivilMonth month;
  if (text.size() != 7 || !absl::ParseCivilTime(text, &month) ||
      absl::FormatCivilTime(month) != text) {
    return Bad(what, text, "a month YYYY-MM");
  }
  return absl::StrFormat(R"({"year":%d,"month":%d})", month.year(), month.month());
}

absl::StatusOr<std::string> TokyoTimeJson(absl::string_view text, absl::string_view what) {
  absl::CivilMinute minute;
  std::string iso(text);
  if (iso.size() == 16 && iso[10] == ' ') iso[10] = 'T';
  if (iso.size() != 16 || !absl::ParseCivilTime(iso, &minute) ||
      absl::FormatCivilTime(minute) != iso) {
    return Bad(what, text, "a Tokyo time 'YYYY-MM-DD HH:MM'");
  }
  const absl::Time t = absl::FromCivil(minute, TokyoTimeZone());
  return absl::StrCat("\"", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone()), "\"");
}

std::string EnumName(absl::string_view prefix, absl::string_view word) {
  std::string name = absl::AsciiStrToUpper(word);
  absl::StrReplaceAll({{"-", "_"}}, &name);
  return absl::StrCat(prefix, "_", name);
}

std::string NewRequestId() {
  std::random_device device;
  std::mt19937_64 gen((static_cast<uint64_t>(device()) << 32) ^ device());
  const uint64_t a = gen();
  const uint64_t b = gen();
  return absl::StrFormat("%08x-%04x-4%03x-%04x-%012x", a >> 32, (a >> 16) & 0xFFFF, a & 0xFFF,
                         0x8000 | ((b >> 48) & 0x3FFF), b & 0xFFFFFFFFFFFFULL);
}

}  // namespace anken::ctl
