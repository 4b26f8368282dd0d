#pragma once
// The Japanese business calendar: national holidays (国民の祝日 and the other 休日 of the
// holiday law), business days, and the month arithmetic billing and report-intake share.
//
// Contract:
// - Holidays follow the 国民の祝日に関する法律 as in force in each year of
//   [kFirstSupportedYear, kLastSupportedYear], including Happy Monday days, the equinox days by
//   the standard approximation formula, 振替休日 (substitute holiday), 国民の休日 (citizens'
//   holiday) and the enacted one-off changes (1989, 1990, 1993, 2019, the 2020/2021 Olympic
//   moves). Outside that range no day is a national holiday: the equinoxes cannot be predicted
//   there and nothing in Anken has such dates, so callers that accept arbitrary dates should
//   reject years outside the range. Weekends and the year-end closure apply to every year.
// - The equinox days are the formula's prediction; the National Astronomical Observatory of
//   Japan publishes the official dates each February for the following year (the tests pin the
//   published dates of 2016-2030).
// - A business day is a weekday that is neither a holiday nor in the company's year-end
//   closure 12/29–1/3.
// - Every function is pure, cheap (holidays are tabulated once, on first use) and safe to call
//   from any thread.

#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"

namespace anken {
namespace calendar {

inline constexpr int kFirstSupportedYear = 1980;
inline constexpr int kLastSupportedYear = 2150;

struct Holiday {
  absl::CivilDay day;
  std::string name;  // Japanese, e.g. "春分の日", "振替休日", "国民の休日".

  friend bool operator==(const Holiday& a, const Holiday& b) {
    return a.day == b.day && a.name == b.name;
  }
};

// True when `day` is a national holiday or another 休日 of the holiday law (振替休日,
// 国民の休日, the one-off days). Weekends and the year-end closure are not holidays.
bool IsHoliday(absl::CivilDay day);

// The holiday's Japanese name, or nullopt when `day` is not a holiday.
absl::optional<std::string> HolidayName(absl::CivilDay day);

// Every holiday of `year` in date order; empty outside the supported range.
std::vector<Holiday> HolidaysIn(int year);

// True for 12/29–1/3, when the company is closed whatever the weekday.
bool IsYearEndClosure(absl::CivilDay day);

// Not Saturday or Sunday, not a holiday, not in the year-end closure.
bool IsBusinessDay(absl::CivilDay day);

// The first business day strictly after `day`.
absl::CivilDay NextBusinessDay(absl::CivilDay day);

// n > 0: the n-th business day strictly after `day`; n < 0: the |n|-th business day strictly
// before it. n == 0 rolls forward: `day` itself when it is a business day, otherwise the next
// business day (so a due date "0 business days from a Saturday" is the following Monday).
// Costs O(|n|).
absl::CivilDay AddBusinessDays(absl::CivilDay day, int n);

// The n-th business day of `month`, counting the 1st when it is a business day. n < 1 is
// taken as 1. For an n larger than the month's business days the result lies in a later
// month (every month has at least 15 business days).
absl::CivilDay NthBusinessDayOfMonth(absl::CivilMonth month, int n);

// The last calendar day of `month` (2024-02 -> 2024-02-29, 2100-02 -> 2100-02-28).
absl::CivilDay MonthEnd(absl::CivilMonth month);

// `month` moved by n months (negative allowed). Works on (year, month), so it never steps
// from a 31st; take MonthEnd of the result for "the same month end n months later".
absl::CivilMonth AddMonths(absl::CivilMonth month, int n);

// The monthly performance report's deadline day: the 4th business day of `month`.
absl::CivilDay ReportDeadlineDay(absl::CivilMonth month);

// The end of ReportDeadlineDay(month) in Asia/Tokyo, as an exclusive bound: the instant of
// 00:00 Asia/Tokyo (UTC+9, no daylight saving) on the following day. A report is on time
// when submitted at t < ReportDeadline(month).
absl::Time ReportDeadline(absl::CivilMonth month);

}  // namespace calendar
}  // namespace anken
