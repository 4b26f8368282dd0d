// Pure tests of invoice rules: tax once per rate with the frozen rounding, allocation back to
// the entries, the six qualified-invoice items and invoice numbers (DESIGN.md "Consumption
// tax").

#include "services/billing/invoice_rules.h"

#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/status/errors.h"
#include "common/tax/tax.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/billing/billing.h"

namespace anken::billing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using tax::Category;
using tax::Rounding;

InvoiceLine Line(int64_t amount, Category category, std::string description = "保守料") {
  InvoiceLine l;
  l.amount = amount;
  l.tax_category = category;
  l.description = std::move(description);
  return l;
}

std::vector<int64_t> Allocated(const Invoice& inv) {
  std::vector<int64_t> out;
  for (const InvoiceLine& l : inv.lines) out.push_back(l.allocated_tax);
  return out;
}

Invoice ThreeLinesOf1005(Rounding rounding) {
  Invoice inv;
  inv.rounding = rounding;
  for (int i = 0; i < 3; ++i) inv.lines.push_back(Line(1'005, Category::kStandard));
  return inv;
}

// ---- PriceInvoice ----

TEST(PriceInvoiceTest, DesignExampleTaxOncePerRate) {
  // 10% of 3,015 is 301.5: rounded once, never 100 + 100 + 100 = 300.
  struct Case {
    Rounding rounding;
    int64_t tax;
    std::vector<int64_t> allocated;
  };
  for (const Case& c : {Case{Rounding::kFloor, 301, {100, 100, 101}},
                        Case{Rounding::kHalfUp, 302, {101, 101, 100}},
                        Case{Rounding::kCeiling, 302, {101, 101, 100}}}) {
    SCOPED_TRACE(std::string(tax::RoundingName(c.rounding)));
    Invoice inv = ThreeLinesOf1005(c.rounding);
    ASSERT_TRUE(PriceInvoice(inv).ok());
    ASSERT_EQ(inv.totals.per_rate.size(), 1u);
    EXPECT_EQ(inv.totals.per_rate[0].category, Category::kStandard);
    EXPECT_EQ(inv.totals.per_rate[0].taxable, 3'015);
    EXPECT_EQ(inv.totals.per_rate[0].tax, c.tax);
    EXPECT_EQ(inv.totals.subtotal, 3'015);
    EXPECT_EQ(inv.totals.tax, c.tax);
    EXPECT_EQ(inv.totals.total, 3'015 + c.tax);
    // Each entry its own rounded tax, the remainder on the last.
    EXPECT_EQ(Allocated(inv), c.allocated);
  }
}

TEST(PriceInvoiceTest, MixedRatesEachTaxedOnceAndAllocatedWithinTheRate) {
  Invoice inv;
  inv.lines = {Line(1'005, Category::kStandard), Line(1'234, Category::kReduced, "お茶"),
               Line(5'000, Category::kExempt, "印紙代"), Line(2'000, Category::kStandard),
               Line(999, Category::kReduced, "菓子")};
  ASSERT_TRUE(PriceInvoice(inv).ok());
  // 10%: 3,005 → 300.5 → 300; 8%: 2,233 → 178.64 → 178; exempt: 0.
  ASSERT_EQ(inv.totals.per_rate.size(), 3u);
  EXPECT_EQ(inv.totals.per_rate[0].category, Category::kStandard);
  EXPECT_EQ(inv.totals.per_rate[0].taxable, 3'005);
  EXPECT_EQ(inv.totals.per_rate[0].tax, 300);
  EXPECT_EQ(inv.totals.per_rate[1].category, Category::kReduced);
  EXPECT_EQ(inv.totals.per_rate[1].taxable, 2'233);
  EXPECT_EQ(inv.totals.per_rate[1].tax, 178);
  EXPECT_EQ(inv.totals.per_rate[2].category, Category::kExempt);
  EXPECT_EQ(inv.totals.per_rate[2].taxable, 5'000);
  EXPECT_EQ(inv.totals.per_rate[2].tax, 0);
  EXPECT_EQ(inv.totals.subtotal, 10'238);
  EXPECT_EQ(inv.totals.tax, 478);
  EXPECT_EQ(inv.totals.total, 10'716);
  // 10%: 100, then 300 − 100 on the rate's last line; 8%: 98 (98.72), then 178 − 98.
  EXPECT_THAT(Allocated(inv), ElementsAre(100, 98, 0, 200, 80));

  inv.rounding = Rounding::kHalfUp;
  ASSERT_TRUE(PriceInvoice(inv).ok());
  EXPECT_EQ(inv.totals.per_rate[0].tax, 301);
  EXPECT_EQ(inv.totals.per_rate[1].tax, 179);
  EXPECT_EQ(inv.totals.tax, 480);
  EXPECT_THAT(Allocated(inv), ElementsAre(101, 99, 0, 200, 80));
}

TEST(PriceInvoiceTest, RefusesNoLinesAndOverflow) {
  Invoice empty;
  absl::Status s = PriceInvoice(empty);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;

  Invoice huge;
  const int64_t half = std::numeric_limits<int64_t>::max() / 2 + 1;
  huge.lines = {Line(half, Category::kStandard), Line(half, Category::kStandard)};
  s = PriceInvoice(huge);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(ErrorReason(s), "AMOUNT_TOO_LARGE");
}

TEST(PriceInvoicePropertyTest, AllocationSumsToTheTaxOfEachRate) {
  std::mt19937_64 rng(42'000'042);
  auto uniform = [&rng](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  const Category categories[] = {Category::kStandard, Category::kReduced, Category::kExempt};
  const Rounding roundings[] = {Rounding::kFloor, Rounding::kHalfUp, Rounding::kCeiling};
  for (int iter = 0; iter < 3000; ++iter) {
    SCOPED_TRACE(absl::StrCat("iteration ", iter));
    Invoice inv;
    inv.rounding = roundings[uniform(0, 2)];
    const int n = static_cast<int>(uniform(1, 30));
    for (int i = 0; i < n; ++i) {
      // Mostly positive fees; now and then a discount line.
      const int64_t amount = uniform(0, 9) == 0 ? -uniform(1, 50'000) : uniform(1, 100'000'000);
      inv.lines.push_back(Line(amount, categories[uniform(0, 2)]));
    }
    ASSERT_TRUE(PriceInvoice(inv).ok());

    std::map<Category, int64_t> taxable, allocated;
    std::map<Category, size_t> last;
    for (size_t i = 0; i < inv.lines.size(); ++i) {
      taxable[inv.lines[i].tax_category] += inv.lines[i].amount;
      allocated[inv.lines[i].tax_category] += inv.lines[i].allocated_tax;
      last[inv.lines[i].tax_category] = i;
    }
    ASSERT_EQ(inv.totals.per_rate.size(), taxable.size());
    int64_t tax_sum = 0, subtotal = 0;
    for (const tax::RateTotal& r : inv.totals.per_rate) {
      EXPECT_EQ(r.taxable, taxable[r.category]);
      // Once per rate, on the rate's sum.
      EXPECT_EQ(r.tax, tax::TaxFor(taxable[r.category], r.category, inv.rounding));
      // The entries' shares add up to it exactly.
      EXPECT_EQ(allocated[r.category], r.tax);
      tax_sum += r.tax;
      subtotal += r.taxable;
    }
    EXPECT_EQ(inv.totals.tax, tax_sum);
    EXPECT_EQ(inv.totals.subtotal, subtotal);
    EXPECT_EQ(inv.totals.total, subtotal + tax_sum);
    // Every line but its rate's last keeps its own rounded tax; the last takes the rest.
    for (size_t i = 0; i < inv.lines.size(); ++i) {
      const InvoiceLine& l = inv.lines[i];
      if (last[l.tax_category] != i) {
        EXPECT_EQ(l.allocated_tax, tax::TaxFor(l.amount, l.tax_category, inv.rounding)) << i;
      }
    }
    if (::testing::Test::HasFailure()) return;
  }
}

// ---- CheckQualifiedInvoice ----

Invoice Complete() {
  Invoice inv;
  inv.issuer_name = "株式会社アンケン";
  inv.issuer_registration_number = "T7000012050002";  // DESIGN.md's valid 法人番号
  inv.recipient_name = "株式会社サンプル";
  inv.issue_date = absl::CivilDay(2026, 4, 30);
  inv.due_date = absl::CivilDay(2026, 5, 31);
  inv.lines = {Line(1'005, Category::kStandard, "保守料 2026年4月分"),
               Line(2'000, Category::kReduced, "飲料")};
  EXPECT_TRUE(PriceInvoice(inv).ok());
  return inv;
}

void ExpectMissing(const Invoice& inv, const std::string& item) {
  absl::Status s = CheckQualifiedInvoice(inv);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_EQ(ErrorReason(s), "QUALIFIED_INVOICE_ITEM_MISSING") << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr(item));
}

TEST(QualifiedInvoiceTest, CompleteInvoicePasses) {
  absl::Status s = CheckQualifiedInvoice(Complete());
  EXPECT_TRUE(s.ok()) << s;
}

TEST(QualifiedInvoiceTest, EachMissingItemIsNamed) {
  {
    SCOPED_TRACE("issuer name");
    for (std::string blank : {"", "  ", "\xE3\x80\x80"}) {
      Invoice inv = Complete();
      inv.issuer_name = blank;
      ExpectMissing(inv, "(1) issuer name");
    }
  }
  {
    SCOPED_TRACE("registration number");
    for (std::string bad : {"", "7000012050002", "T7000012050003", "T1000012050002",
                            "T700001205000", "T70000120500021", "t7000012050002"}) {
      SCOPED_TRACE(bad);
      Invoice inv = Complete();
      inv.issuer_registration_number = bad;
      ExpectMissing(inv, "(1) issuer registration number");
    }
  }
  {
    SCOPED_TRACE("issue date");
    Invoice inv = Complete();
    inv.issue_date = absl::CivilDay();
    ExpectMissing(inv, "(2) issue date");
  }
  {
    SCOPED_TRACE("contents");
    Invoice inv = Complete();
    inv.lines[1].description = "　";
    ExpectMissing(inv, "(3) transaction contents");
    Invoice none = Complete();
    none.lines.clear();
    ExpectMissing(none, "(3) transaction contents");
  }
  {
    SCOPED_TRACE("totals per rate");
    Invoice inv = Complete();
    inv.totals.per_rate.clear();
    ExpectMissing(inv, "(4) totals per rate");
    Invoice stale = Complete();
    stale.lines[0].amount += 1;  // edited after pricing
    ExpectMissing(stale, "(4) totals per rate");
  }
  {
    SCOPED_TRACE("tax per rate");
    Invoice inv = Complete();
    inv.totals.per_rate[1].tax += 1;
    ExpectMissing(inv, "(5) tax per rate");
    Invoice other_rounding = Complete();
    other_rounding.rounding = Rounding::kCeiling;  // 100.5 → 101, not the frozen floor's 100
    ExpectMissing(other_rounding, "(5) tax per rate");
  }
  {
    SCOPED_TRACE("recipient");
    Invoice inv = Complete();
    inv.recipient_name = "";
    ExpectMissing(inv, "(6) recipient name");
  }
}

TEST(QualifiedInvoiceTest, TheFirstMissingItemIsReported) {
  Invoice inv = Complete();
  inv.recipient_name = "";
  inv.lines[0].description = "";
  ExpectMissing(inv, "(3) transaction contents");
  inv.issuer_registration_number = "T0000000000000";
  ExpectMissing(inv, "(1) issuer registration number");
}

// ---- numbers ----

TEST(InvoiceNumberTest, YearAndSixDigitSequence) {
  EXPECT_EQ(FormatInvoiceNumber(2026, 42), "2026-000042");
  EXPECT_EQ(FormatInvoiceNumber(2026, 1), "2026-000001");
  EXPECT_EQ(FormatInvoiceNumber(2027, 999'999), "2027-999999");
}

}  // namespace
}  // namespace anken::billing
