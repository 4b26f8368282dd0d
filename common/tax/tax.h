#pragma once
// Consumption tax (消費税) on integer yen, per DESIGN.md "Consumption tax".
//
// Contract:
// - Rates: STANDARD 10%, REDUCED 8%, EXEMPT 0%.
// - On an invoice or quote, tax is computed ONCE PER RATE on the sum of that rate's lines
//   (ComputeTotals); per-line rounded taxes are never summed into an invoice total.
// - When several billing entries share an invoice, AllocateTax gives each entry its own
//   rounded tax and the LAST entry of each rate absorbs the remainder, so that per rate the
//   entries' taxes add up to the invoice's tax exactly.
// - Negative amounts (discount and credit lines) are taxed symmetrically: rounding applies to
//   the magnitude, so TaxFor(-x) == -TaxFor(x). kFloor rounds toward zero, kHalfUp rounds a
//   half away from zero, kCeiling rounds away from zero.
// - Integer arithmetic only. TaxFor is exact for every int64 amount (it never overflows);
//   sums that would overflow int64 are rejected with OUT_OF_RANGE, and a Category or Rounding
//   outside its enumerators with INVALID_ARGUMENT.

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/optional.h"
#include "absl/strings/string_view.h"

namespace anken::tax {

enum class Category { kStandard, kReduced, kExempt };

// The company's rounding mode for the fraction of a yen. Floor is the default; the mode used
// is frozen onto each issued invoice (store it by RoundingName).
enum class Rounding { kFloor, kHalfUp, kCeiling };

// 10, 8 or 0. Precondition: `category` is one of the enumerators (0 otherwise; the StatusOr
// functions below reject such values instead).
int RatePercent(Category category);

// Tax on `amount` yen at the category's rate, rounded per `rounding` on the magnitude.
// Exact for every int64 amount. Same precondition as RatePercent.
int64_t TaxFor(int64_t amount, Category category, Rounding rounding = Rounding::kFloor);

struct Line {
  int64_t amount;  // yen, excluding tax; negative for a discount or credit
  Category category;
};

struct RateTotal {
  Category category;
  int64_t taxable;  // sum of the rate's line amounts
  int64_t tax;      // TaxFor(taxable, category, rounding)
};

struct Totals {
  // Only rates that have at least one line, ordered STANDARD, REDUCED, EXEMPT.
  std::vector<RateTotal> per_rate;
  int64_t subtotal = 0;  // sum of all line amounts
  int64_t tax = 0;       // sum of per_rate[].tax
  int64_t total = 0;     // subtotal + tax
};

// Totals of an invoice or quote. An empty list gives all zeros and no per_rate entries.
// OUT_OF_RANGE when a sum overflows int64; INVALID_ARGUMENT for an unknown category/rounding.
absl::StatusOr<Totals> ComputeTotals(const std::vector<Line>& lines,
                                     Rounding rounding = Rounding::kFloor);

// The invoice's tax per rate (as ComputeTotals computes it) allocated back to `entries`,
// returned in the same order. Within a rate, every entry but the last gets TaxFor(its amount)
// and the last gets the rate's tax minus the others', so per rate the result sums exactly to
// ComputeTotals(entries, rounding)->per_rate[...].tax. Errors as ComputeTotals.
absl::StatusOr<std::vector<int64_t>> AllocateTax(const std::vector<Line>& entries,
                                                 Rounding rounding = Rounding::kFloor);

// "STANDARD", "REDUCED", "EXEMPT" (exact, upper case: the stored and wire spelling).
absl::string_view CategoryName(Category category);
// The numbering shared by the API (anken.common.v1.TaxCategory) and storage: 1 STANDARD,
// 2 REDUCED, 3 EXEMPT. nullopt for any other code.
int CategoryCode(Category category);
absl::optional<Category> CategoryFromCode(int code);
absl::StatusOr<Category> ParseCategory(absl::string_view name);

// "FLOOR", "HALF_UP", "CEILING".
absl::string_view RoundingName(Rounding rounding);
absl::StatusOr<Rounding> ParseRounding(absl::string_view name);

}  // namespace anken::tax
