#pragma once
// How Japanese business documents spell numbers and dates: invoices and quotes (common/pdf),
// mail text (the scheduler) and ankenctl's tables. Pure; Abseil only.

#include <cstdint>
#include <string>

#include "absl/time/civil_time.h"

namespace anken::jp {

// Thousands separators: 1234567 → "1,234,567", -1000 → "-1,000". Exact for every int64.
std::string FormatGrouped(int64_t value);

// "¥1,234,567"; a negative amount (a discount or credit) as "-¥1,000".
std::string FormatYen(int64_t yen);

// "1,234,567円", as running text writes it (mail); "-1,000円".
std::string FormatYenSuffix(int64_t yen);

// A quantity in thousandths without trailing zeros: 1000 → "1", 1500 → "1.5",
// 1234567 → "1,234.567", -250 → "-0.25".
std::string FormatQuantity(int64_t milli);

// "2026年4月15日".
std::string FormatJapaneseDate(absl::CivilDay day);

}  // namespace anken::jp
