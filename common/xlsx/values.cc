#include "common/xlsx/values.h"

#include <cmath>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"

namespace anken::xlsx {
namespace {

constexpr absl::CivilDay kLastDay(9999, 12, 31);

absl::Status NotADate(absl::string_view text) {
  return absl::InvalidArgumentError(absl::StrCat("not a date: \"", text.substr(0, 64), "\""));
}

// Full-width digits, ／ － ． and U+3000 -> ASCII, so one grammar covers both widths.
std::string NarrowDateText(absl::string_view text) {
  std::string out = absl::StrReplaceAll(text, {{"０", "0"},
                                               {"１", "1"},
                                               {"２", "2"},
                                               {"３", "3"},
                                               {"４", "4"},
                                               {"５", "5"},
                                               {"６", "6"},
                                               {"７", "7"},
                                               {"８", "8"},
                                               {"９", "9"},
                                               {"／", "/"},
                                               {"－", "-"},
                                               {"．", "."},
                                               {"\xE3\x80\x80", " "}});
  return std::string(absl::StripAsciiWhitespace(out));
}

// Consumes 1..max_digits ASCII digits from the front of `s`.
bool TakeNumber(absl::string_view& s, size_t min_digits, size_t max_digits, int* value) {
  size_t n = 0;
  int v = 0;
  while (n < s.size() && n < max_digits && absl::ascii_isdigit(static_cast<unsigned char>(s[n]))) {
    v = v * 10 + (s[n] - '0');
    ++n;
  }
  if (n < min_digits) return false;
  if (n < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[n]))) return false;
  s.remove_prefix(n);
  *value = v;
  return true;
}

}  // namespace

absl::StatusOr<absl::CivilDay> SerialToCivilDay(double serial, DateSystem system) {
  if (!std::isfinite(serial)) {
    return absl::InvalidArgumentError("date serial is not a finite number");
  }
  // Bounded before the cast so that a huge value cannot overflow int64.
  if (serial < 0 || serial >= 3e6) {
    return absl::InvalidArgumentError(absl::StrCat("date serial ", serial, " is out of range"));
  }
  const int64_t days = static_cast<int64_t>(std::floor(serial));
  absl::CivilDay day;
  if (system == DateSystem::k1904) {
    day = absl::CivilDay(1904, 1, 1) + days;
  } else if (days == 0) {
    return absl::InvalidArgumentError("date serial 0 is before 1900-01-01");
  } else if (days == 60) {
    // Excel (after Lotus 1-2-3) counts a 1900-02-29; a date there is a typing mistake.
    return absl::InvalidArgumentError("date serial 60 is 1900-02-29, which does not exist");
  } else if (days < 60) {
    day = absl::CivilDay(1899, 12, 31) + days;
  } else {
    day = absl::CivilDay(1899, 12, 30) + days;
  }
  if (day > kLastDay) {
    return absl::InvalidArgumentError(absl::StrCat("date serial ", serial, " is after 9999-12-31"));
  }
  return day;
}

absl::StatusOr<int64_t> CivilDayToSerial(absl::CivilDay day, DateSystem system) {
  const absl::CivilDay first =
      system == DateSystem::k1904 ? absl::CivilDay(1904, 1, 1) : absl::CivilDay(1900, 1, 1);
  if (day < first || day > kLastDay) {
    return absl::InvalidArgumentError(
        absl::StrCat("date ", absl::FormatCivilTime(day), " cannot be an Excel date"));
  }
  if (system == DateSystem::k1904) return day - first;
  if (day < absl::CivilDay(1900, 3, 1)) return day - absl::CivilDay(1899, 12, 31);
  return day - absl::CivilDay(1899, 12, 30);
}

absl::StatusOr<absl::CivilDay> ParseTextDate(absl::string_view text) {
  const std::string narrow = NarrowDateText(text);
  absl::string_view s = narrow;
  int year = 0, month = 0, day = 0;
  if (!TakeNumber(s, 4, 4, &year)) return NotADate(text);
  if (absl::ConsumePrefix(&s, "年")) {
    if (!TakeNumber(s, 1, 2, &month) || !absl::ConsumePrefix(&s, "月") ||
        !TakeNumber(s, 1, 2, &day) || !absl::ConsumePrefix(&s, "日") || !s.empty()) {
      return NotADate(text);
    }
  } else {
    if (s.empty() || (s[0] != '/' && s[0] != '-' && s[0] != '.')) return NotADate(text);
    const char sep = s[0];
    s.remove_prefix(1);
    if (!TakeNumber(s, 1, 2, &month) || s.empty() || s[0] != sep) return NotADate(text);
    s.remove_prefix(1);
    if (!TakeNumber(s, 1, 2, &day)) return NotADate(text);
    if (!s.empty()) {
      // Only the time part of an ISO 8601 date-time may follow.
      if (sep != '-' || s[0] != 'T' || s.size() < 2) return NotADate(text);
      for (char c : s.substr(1)) {
        if (!absl::ascii_isdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.' &&
            c != 'Z') {
          return NotADate(text);
        }
      }
    }
  }
  if (year < 1900) return NotADate(text);
  const absl::CivilDay civil(year, month, day);
  // CivilDay normalises 2/30 to 3/2; a date that does not round-trip did not exist.
  if (civil.year() != year || civil.month() != month || civil.day() != day) return NotADate(text);
  return civil;
}

absl::StatusOr<int64_t> ParseWholeNumber(absl::string_view text) {
  const auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text.substr(0, 64), "\" is not a whole number (", why, ")"));
  };
  absl::string_view s = absl::StripAsciiWhitespace(text);
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  std::string digits;  // mantissa digits, the decimal point removed
  int64_t exponent = 0;
  bool seen_digit = false;
  size_t i = 0;
  for (; i < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[i])); ++i) {
    digits.push_back(s[i]);
    seen_digit = true;
  }
  if (i < s.size() && s[i] == '.') {
    for (++i; i < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[i])); ++i) {
      digits.push_back(s[i]);
      --exponent;
      seen_digit = true;
    }
  }
  if (!seen_digit) return bad("no digits");
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    int64_t e = 0;
    // A few digits of exponent are plenty; more cannot give an int64 (or give 0 for "0E+999").
    if (!absl::SimpleAtoi(s.substr(i + 1), &e) || e > 100000 || e < -100000) {
      return bad("bad exponent");
    }
    exponent += e;
    i = s.size();
  }
  if (i != s.size()) return bad("unexpected characters");
  // Leading zeros carry nothing.
  size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return 0;
  digits.erase(0, first);
  if (exponent < 0) {
    // The dropped digits must all be zeros, or the number has a fraction.
    while (exponent < 0 && !digits.empty()) {
      if (digits.back() != '0') return bad("it has a fractional part");
      digits.pop_back();
      ++exponent;
    }
    if (digits.empty()) return bad("it has a fractional part");
    if (exponent < 0) return bad("it has a fractional part");
  }
  if (static_cast<int64_t>(digits.size()) + exponent > 19) return bad("out of range");
  digits.append(static_cast<size_t>(exponent), '0');
  if (negative) digits.insert(digits.begin(), '-');
  int64_t value = 0;
  if (!absl::SimpleAtoi(digits, &value)) return bad("out of range");
  return value;
}

}  // namespace anken::xlsx
