#include "common/tax/tax.h"

#include <array>
#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace anken::tax {
namespace {

constexpr std::array<Category, 3> kCategories = {Category::kStandard, Category::kReduced,
                                                 Category::kExempt};

bool IsValid(Category c) {
  return c == Category::kStandard || c == Category::kReduced || c == Category::kExempt;
}
bool IsValid(Rounding r) {
  return r == Rounding::kFloor || r == Rounding::kHalfUp || r == Rounding::kCeiling;
}

std::size_t Index(Category c) { return static_cast<std::size_t>(c); }

absl::Status Overflow(absl::string_view what) {
  return absl::OutOfRangeError(
      absl::StrCat("amounts are too large: ", what, " does not fit in 64-bit yen"));
}

absl::Status ValidateLines(const std::vector<Line>& lines, Rounding rounding) {
  if (!IsValid(rounding)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown rounding mode ", static_cast<int>(rounding)));
  }
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (!IsValid(lines[i].category)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "line ", i, ": unknown tax category ", static_cast<int>(lines[i].category)));
    }
  }
  return absl::OkStatus();
}

}  // namespace

int RatePercent(Category category) {
  switch (category) {
    case Category::kStandard:
      return 10;
    case Category::kReduced:
      return 8;
    case Category::kExempt:
      return 0;
  }
  return 0;
}

int64_t TaxFor(int64_t amount, Category category, Rounding rounding) {
  // amount * rate / 100 without forming amount * rate (which overflows near the int64
  // limits): split amount = q*100 + r. C++ division truncates, so q, r and the fraction
  // below all carry amount's sign and truncation is rounding toward zero on the magnitude.
  const int64_t rate = RatePercent(category);
  const int64_t q = amount / 100;
  const int64_t r = amount % 100;
  const int64_t rr = r * rate;  // |rr| <= 990
  int64_t tax = q * rate + rr / 100;
  const int64_t fraction = rr % 100;  // hundredths of a yen, same sign as amount
  const int64_t away = amount < 0 ? -1 : 1;
  switch (rounding) {
    case Rounding::kFloor:
      break;
    case Rounding::kHalfUp:
      if (fraction >= 50 || fraction <= -50) tax += away;
      break;
    case Rounding::kCeiling:
      if (fraction != 0) tax += away;
      break;
  }
  return tax;
}

absl::StatusOr<Totals> ComputeTotals(const std::vector<Line>& lines, Rounding rounding) {
  if (absl::Status s = ValidateLines(lines, rounding); !s.ok()) return s;
  std::array<int64_t, kCategories.size()> taxable{};
  std::array<bool, kCategories.size()> present{};
  for (const Line& line : lines) {
    const std::size_t i = Index(line.category);
    present[i] = true;
    if (__builtin_add_overflow(taxable[i], line.amount, &taxable[i])) {
      return Overflow(absl::StrCat("the sum of the ", CategoryName(line.category), " lines"));
    }
  }
  Totals totals;
  for (Category c : kCategories) {
    const std::size_t i = Index(c);
    if (!present[i]) continue;
    const int64_t tax = TaxFor(taxable[i], c, rounding);
    totals.per_rate.push_back(RateTotal{c, taxable[i], tax});
    if (__builtin_add_overflow(totals.subtotal, taxable[i], &totals.subtotal)) {
      return Overflow("the subtotal");
    }
    if (__builtin_add_overflow(totals.tax, tax, &totals.tax)) return Overflow("the tax");
  }
  if (__builtin_add_overflow(totals.subtotal, totals.tax, &totals.total)) {
    return Overflow("the total");
  }
  return totals;
}

absl::StatusOr<std::vector<int64_t>> AllocateTax(const std::vector<Line>& entries,
                                                 Rounding rounding) {
  absl::StatusOr<Totals> totals = ComputeTotals(entries, rounding);
  if (!totals.ok()) return totals.status();

  // Each present rate has at least one entry, so last[] is meaningful for it.
  std::array<std::size_t, kCategories.size()> last{};
  for (std::size_t k = 0; k < entries.size(); ++k) last[Index(entries[k].category)] = k;

  std::vector<int64_t> out(entries.size());
  std::array<int64_t, kCategories.size()> allocated{};
  for (std::size_t k = 0; k < entries.size(); ++k) {
    const std::size_t i = Index(entries[k].category);
    if (k == last[i]) continue;
    out[k] = TaxFor(entries[k].amount, entries[k].category, rounding);
    if (__builtin_add_overflow(allocated[i], out[k], &allocated[i])) {
      return Overflow("the allocated tax");
    }
  }
  for (const RateTotal& rt : totals->per_rate) {
    const std::size_t i = Index(rt.category);
    if (__builtin_sub_overflow(rt.tax, allocated[i], &out[last[i]])) {
      return Overflow("the remainder of the allocated tax");
    }
  }
  return out;
}

absl::string_view CategoryName(Category category) {
  switch (category) {
    case Category::kStandard:
      return "STANDARD";
    case Category::kReduced:
      return "REDUCED";
    case Category::kExempt:
      return "EXEMPT";
  }
  return "UNKNOWN";
}

absl::StatusOr<Category> ParseCategory(absl::string_view name) {
  for (Category c : kCategories) {
    if (name == CategoryName(c)) return c;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown tax category \"", name, "\"; expected STANDARD, REDUCED or EXEMPT"));
}

absl::string_view RoundingName(Rounding rounding) {
  switch (rounding) {
    case Rounding::kFloor:
      return "FLOOR";
    case Rounding::kHalfUp:
      return "HALF_UP";
    case Rounding::kCeiling:
      return "CEILING";
  }
  return "UNKNOWN";
}

absl::StatusOr<Rounding> ParseRounding(absl::string_view name) {
  for (Rounding r : {Rounding::kFloor, Rounding::kHalfUp, Rounding::kCeiling}) {
    if (name == RoundingName(r)) return r;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown rounding mode \"", name, "\"; expected FLOOR, HALF_UP or CEILING"));
}

int CategoryCode(Category category) {
  switch (category) {
    case Category::kStandard: return 1;
    case Category::kReduced: return 2;
    case Category::kExempt: return 3;
  }
  return 0;
}

absl::optional<Category> CategoryFromCode(int code) {
  switch (code) {
    case 1: return Category::kStandard;
    case 2: return Category::kReduced;
    case 3: return Category::kExempt;
    default: return absl::nullopt;
  }
}

}  // namespace anken::tax
