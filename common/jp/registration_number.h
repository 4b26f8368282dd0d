#pragma once
// 法人番号 and 適格請求書発行事業者登録番号 (T-number) check digits. Pure; Abseil only.

#include "absl/strings/string_view.h"

namespace anken::jp {

// 法人番号: 13 ASCII digits whose first digit is the check digit
// 9 − (Σ Pn·Qn mod 9) over the other 12 (Pn the n-th digit from the right, Qn = 1 odd, 2 even).
bool IsValidCorporateNumber(absl::string_view digits);

// 適格請求書発行事業者登録番号: "T" + 13 digits with a valid check digit (same rule).
bool IsValidInvoiceRegistrationNumber(absl::string_view text);

}  // namespace anken::jp
