#pragma once
// JSON text for audit change records, written once: a string literal that Postgres' jsonb
// always accepts (invalid UTF-8 and NUL become U+FFFD, control characters are escaped), and
// the forms of days and instants used in them. Pure; Abseil only.

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace anken::json {

// "text" with JSON escapes.
std::string String(absl::string_view text);
// "2026-04-05".
std::string Day(absl::CivilDay day);
// "2026-04-05T01:02:03.000456Z" (UTC, sub-seconds only when present).
std::string Time(absl::Time t);

}  // namespace anken::json
