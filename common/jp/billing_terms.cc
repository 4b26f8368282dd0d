#include "common/jp/billing_terms.h"

#include "absl/strings/str_cat.h"

namespace anken::jp {
namespace {

int DaysInMonth(absl::CivilMonth month) {
  return static_cast<int>(absl::CivilDay(month + 1) - absl::CivilDay(month));
}

// `day` of `month`, where 0 (and anything past the month's end) means the month end.
absl::CivilDay DayOrMonthEnd(absl::CivilMonth month, int day) {
  const int last = DaysInMonth(month);
  const int d = (day <= 0 || day > last) ? last : day;
  return absl::CivilDay(month.year(), month.month(), d);
}

}  // namespace

absl::CivilDay ClosingDateFor(const BillingTerms& terms, absl::CivilDay day) {
  const absl::CivilMonth month(day);
  const absl::CivilDay this_month = DayOrMonthEnd(month, terms.closing_day);
  if (day <= this_month) return this_month;
  return DayOrMonthEnd(month + 1, terms.closing_day);
}

absl::CivilDay DueDateFor(const BillingTerms& terms, absl::CivilDay closing_date) {
  return DayOrMonthEnd(absl::CivilMonth(closing_date) + terms.payment_month_offset,
                       terms.payment_day);
}

std::string DescribeTerms(const BillingTerms& terms) {
  std::string out =
      terms.closing_day == 0 ? "月末締め" : absl::StrCat(terms.closing_day, "日締め");
  switch (terms.payment_month_offset) {
    case 0: out += "当月"; break;
    case 1: out += "翌月"; break;
    case 2: out += "翌々月"; break;
    default: absl::StrAppend(&out, terms.payment_month_offset, "ヶ月後");
  }
  if (terms.payment_day == 0) {
    out += "末払い";
  } else {
    absl::StrAppend(&out, terms.payment_day, "日払い");
  }
  return out;
}

}  // namespace anken::jp
