#pragma once
// 締め日・支払日: when an amount billed on a day is closed and when it is due, by a customer's
// billing terms such as 月末締め翌月末払い or 20日締め翌々月10日払い. Pure; Abseil only.

#include <string>

#include "absl/time/civil_time.h"

namespace anken::jp {

struct BillingTerms {
  int closing_day = 0;           // 1..28, 0 = 月末締め
  int payment_month_offset = 1;  // 0..12 months after the closing month (翌月 = 1)
  int payment_day = 0;           // 1..28, 0 = 月末払い
  bool operator==(const BillingTerms& o) const {
    return closing_day == o.closing_day && payment_month_offset == o.payment_month_offset &&
           payment_day == o.payment_day;
  }
};

// The closing date (締め日) that a transaction on `day` falls into: the first closing date on
// or after `day` (closing_day, or the month end when 0).
absl::CivilDay ClosingDateFor(const BillingTerms& terms, absl::CivilDay day);
// When the amount closed on `closing_date` is due: payment_month_offset months after the
// closing month, on payment_day (or that month's end when 0, or when the month is shorter).
absl::CivilDay DueDateFor(const BillingTerms& terms, absl::CivilDay closing_date);
// "月末締め翌月末払い", "20日締め翌々月10日払い", "15日締め当月末払い", "月末締め3ヶ月後5日払い".
std::string DescribeTerms(const BillingTerms& terms);

}  // namespace anken::jp
