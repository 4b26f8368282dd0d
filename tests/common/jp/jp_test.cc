// The shared Japanese rules; the customer service's rules test covers them in more depth
// (real published corporate numbers, every terms combination).

#include <gtest/gtest.h>

#include "common/jp/billing_terms.h"
#include "common/jp/format.h"
#include "common/jp/registration_number.h"

namespace anken::jp {
namespace {

TEST(RegistrationNumber, CheckDigit) {
  EXPECT_TRUE(IsValidCorporateNumber("7000012050002"));  // 国税庁 (DESIGN.md)
  EXPECT_FALSE(IsValidCorporateNumber("8000012050002"));
  EXPECT_FALSE(IsValidCorporateNumber("700001205000"));
  EXPECT_FALSE(IsValidCorporateNumber("70000120500O2"));
  EXPECT_TRUE(IsValidInvoiceRegistrationNumber("T7000012050002"));
  EXPECT_FALSE(IsValidInvoiceRegistrationNumber("7000012050002"));
  EXPECT_FALSE(IsValidInvoiceRegistrationNumber("t7000012050002"));
}

TEST(BillingTerms, MonthEndCloseNextMonthEndPay) {
  BillingTerms t;  // 月末締め翌月末払い
  EXPECT_EQ(DescribeTerms(t), "月末締め翌月末払い");
  EXPECT_EQ(ClosingDateFor(t, absl::CivilDay(2024, 1, 15)), absl::CivilDay(2024, 1, 31));
  EXPECT_EQ(DueDateFor(t, absl::CivilDay(2024, 1, 31)), absl::CivilDay(2024, 2, 29));
  EXPECT_EQ(DueDateFor(t, absl::CivilDay(2023, 1, 31)), absl::CivilDay(2023, 2, 28));
}

TEST(BillingTerms, TwentiethCloseTenthPay) {
  BillingTerms t{20, 1, 10};
  EXPECT_EQ(DescribeTerms(t), "20日締め翌月10日払い");
  EXPECT_EQ(ClosingDateFor(t, absl::CivilDay(2024, 1, 20)), absl::CivilDay(2024, 1, 20));
  EXPECT_EQ(ClosingDateFor(t, absl::CivilDay(2024, 1, 21)), absl::CivilDay(2024, 2, 20));
  EXPECT_EQ(ClosingDateFor(t, absl::CivilDay(2024, 12, 25)), absl::CivilDay(2025, 1, 20));
  EXPECT_EQ(DueDateFor(t, absl::CivilDay(2024, 2, 20)), absl::CivilDay(2024, 3, 10));
}

TEST(FormatTest, YenHasThousandsSeparatorsAndTheYenSign) {
  EXPECT_EQ(FormatGrouped(0), "0");
  EXPECT_EQ(FormatGrouped(999), "999");
  EXPECT_EQ(FormatGrouped(1000), "1,000");
  EXPECT_EQ(FormatGrouped(-1234567), "-1,234,567");
  EXPECT_EQ(FormatGrouped(INT64_MIN), "-9,223,372,036,854,775,808");
  EXPECT_EQ(FormatYen(0), "¥0");
  EXPECT_EQ(FormatYen(385800), "¥385,800");
  EXPECT_EQ(FormatYen(-1000), "-¥1,000");
  EXPECT_EQ(FormatYen(INT64_MAX), "¥9,223,372,036,854,775,807");
  EXPECT_EQ(FormatYenSuffix(1000), "1,000円");
  EXPECT_EQ(FormatYenSuffix(-1234567), "-1,234,567円");
  EXPECT_EQ(FormatYenSuffix(INT64_MIN), "-9,223,372,036,854,775,808円");
}

TEST(FormatTest, QuantitiesDropTrailingZerosAndDatesAreJapanese) {
  EXPECT_EQ(FormatQuantity(1000), "1");
  EXPECT_EQ(FormatQuantity(1500), "1.5");
  EXPECT_EQ(FormatQuantity(250), "0.25");
  EXPECT_EQ(FormatQuantity(1234567), "1,234.567");
  EXPECT_EQ(FormatQuantity(-250), "-0.25");
  EXPECT_EQ(FormatQuantity(0), "0");
  EXPECT_EQ(FormatJapaneseDate(absl::CivilDay(2026, 4, 5)), "2026年4月5日");
}

}  // namespace
}  // namespace anken::jp
