#include "common/jp/registration_number.h"

namespace anken::jp {

bool IsValidCorporateNumber(absl::string_view digits) {
  if (digits.size() != 13) return false;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
  }
  int sum = 0;
  for (int n = 1; n <= 12; ++n) {
    const int p = digits[13 - n] - '0';
    sum += p * (n % 2 == 1 ? 1 : 2);
  }
  return digits[0] - '0' == 9 - sum % 9;
}

bool IsValidInvoiceRegistrationNumber(absl::string_view text) {
  return text.size() == 14 && text[0] == 'T' && IsValidCorporateNumber(text.substr(1));
}

}  // namespace anken::jp
