#pragma once
// Turning cell values into domain values without guesswork: Excel date serials (both date
// systems, with Lotus 1-2-3's 1900-02-29), dates typed as text the ways Japanese users type
// them, and whole numbers read exactly from a numeric cell's text (money is int64 yen, so an
// amount never passes through a double). Pure; Abseil only.

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"

namespace anken::xlsx {

// Which day serial 0/1 is: WorkbookInfo::date_system says which one a file uses.
enum class DateSystem {
  k1900,  // Windows Excel: 1 = 1900-01-01, and 60 = 1900-02-29, a day that never was
  k1904,  // old Mac Excel: 0 = 1904-01-01
};

// Serial -> day; a fraction (the time of day) is dropped. INVALID_ARGUMENT for NaN/inf,
// serials before the system's first day, 60 in the 1900 system (1900-02-29 does not exist),
// and days after 9999-12-31.
absl::StatusOr<absl::CivilDay> SerialToCivilDay(double serial, DateSystem system);

// Day -> serial (what a date cell stores). INVALID_ARGUMENT outside the system's range
// (1900-01-01 or 1904-01-01 to 9999-12-31).
absl::StatusOr<int64_t> CivilDayToSerial(absl::CivilDay day, DateSystem system);

// A date typed as text: "2026/4/5", "2026-04-05", "2026.4.5" (one separator kind),
// "2026年4月5日"; full-width digits and separators (２０２６／４／５) and surrounding spaces
// (also U+3000) are accepted; an ISO time part ("2026-04-05T00:00:00", as t="d" cells hold)
// is ignored. Years 1900-9999. INVALID_ARGUMENT for anything else, including 2026/2/30.
absl::StatusOr<absl::CivilDay> ParseTextDate(absl::string_view text);

// A numeric cell's text (Cell::text: "1250000", "1.25E+6", "1E+020", "-42", "3.0") as an
// exact int64. INVALID_ARGUMENT when it has a fractional part, overflows int64 or is not a
// decimal number.
absl::StatusOr<int64_t> ParseWholeNumber(absl::string_view text);

}  // namespace anken::xlsx
