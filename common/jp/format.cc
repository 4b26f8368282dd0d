#include "common/jp/format.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace anken::jp {
namespace {

// The magnitude as unsigned, so that INT64_MIN does not overflow.
uint64_t Magnitude(int64_t v) {
  return v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
}

std::string Grouped(uint64_t v) {
  const std::string digits = absl::StrCat(v);
  std::string out;
  out.reserve(digits.size() + digits.size() / 3);
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace

std::string FormatGrouped(int64_t value) {
  return absl::StrCat(value < 0 ? "-" : "", Grouped(Magnitude(value)));
}

std::string FormatYen(int64_t yen) {
  return absl::StrCat(yen < 0 ? "-" : "", "¥", Grouped(Magnitude(yen)));
}

std::string FormatYenSuffix(int64_t yen) { return absl::StrCat(FormatGrouped(yen), "円"); }

std::string FormatQuantity(int64_t milli) {
  const uint64_t m = Magnitude(milli);
  std::string out = absl::StrCat(milli < 0 ? "-" : "", Grouped(m / 1000));
  if (uint64_t frac = m % 1000; frac != 0) {
    std::string digits = absl::StrFormat("%03d", static_cast<int>(frac));
    while (digits.back() == '0') digits.pop_back();
    absl::StrAppend(&out, ".", digits);
  }
  return out;
}

std::string FormatJapaneseDate(absl::CivilDay day) {
  return absl::StrFormat("%d年%d月%d日", day.year(), day.month(), day.day());
}

}  // namespace anken::jp
