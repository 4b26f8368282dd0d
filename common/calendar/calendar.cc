#include "common/calendar/calendar.h"

#include <cstdint>
#include <iterator>
#include <map>
#include <utility>

namespace anken {
namespace calendar {
namespace {

// Holiday names, stored in the day table as one byte each.
enum Name : uint8_t {
  kNone = 0,
  kGanjitsu,
  kSeijinNoHi,
  kKenkokuKinenNoHi,
  kTennoTanjobi,
  kShunbunNoHi,
  kShowaNoHi,
  kMidoriNoHi,
  kKenpoKinenbi,
  kKodomoNoHi,
  kUmiNoHi,
  kYamaNoHi,
  kKeiroNoHi,
  kShubunNoHi,
  kTaiikuNoHi,
  kSportsNoHi,
  kBunkaNoHi,
  kKinroKanshaNoHi,
  kFurikaeKyujitsu,
  kKokuminNoKyujitsu,
  kSokuiNoHi,
  kSokuireiSeidenNoGi,
  kTaisoNoRei,
  kKekkonNoGi,
  kNameCount,
};

constexpr const char* kNames[kNameCount] = {
    "",
    "元日",
    "成人の日",
    "建国記念の日",
    "天皇誕生日",
    "春分の日",
    "昭和の日",
    "みどりの日",
    "憲法記念日",
    "こどもの日",
    "海の日",
    "山の日",
    "敬老の日",
    "秋分の日",
    "体育の日",
    "スポーツの日",
    "文化の日",
    "勤労感謝の日",
    "振替休日",
    "国民の休日",
    "天皇の即位の日",
    "即位礼正殿の儀の行われる日",
    "昭和天皇の大喪の礼",
    "皇太子徳仁親王の結婚の儀",
};

// The n-th (1-based) `weekday` of the month.
absl::CivilDay NthWeekday(int year, int month, absl::Weekday weekday, int n) {
  const absl::CivilDay first(year, month, 1);
  return absl::NextWeekday(first - 1, weekday) + 7 * (n - 1);
}

// The standard approximation: day = floor(c + 0.242194 (Y - 1980) - floor((Y - 1980) / 4)),
// computed in millionths so that no floating-point rounding can move a day. The 2100-2150
// constants absorb 2100 not being a leap year.
int EquinoxDayOfMonth(int year, int64_t c_1980_2099, int64_t c_2100_2150) {
  const int64_t y = year - 1980;
  const int64_t c = year <= 2099 ? c_1980_2099 : c_2100_2150;
  return static_cast<int>((c + 242194 * y - 1000000 * (y / 4)) / 1000000);
}

absl::CivilDay VernalEquinox(int year) {
  return absl::CivilDay(year, 3, EquinoxDayOfMonth(year, 20843100, 21851000));
}

absl::CivilDay AutumnalEquinox(int year) {
  return absl::CivilDay(year, 9, EquinoxDayOfMonth(year, 23248800, 24248800));
}

bool IsSunday(absl::CivilDay day) { return absl::GetWeekday(day) == absl::Weekday::sunday; }

// The 国民の祝日 of one year (days named in article 2 of the law, as amended over time, plus
// the days special laws deem 国民の祝日). These are what the substitute and citizens' holiday
// rules look at.
std::map<absl::CivilDay, Name> NationalHolidays(int year) {
  std::map<absl::CivilDay, Name> h;
  auto add = [&h, year](int month, int day, Name name) {
    h[absl::CivilDay(year, month, day)] = name;
  };
  const auto mon = absl::Weekday::monday;

  add(1, 1, kGanjitsu);
  // Happy Monday system (平成10年法律第141号) from 2000.
  if (year >= 2000) {
    h[NthWeekday(year, 1, mon, 2)] = kSeijinNoHi;
  } else {
    add(1, 15, kSeijinNoHi);
  }
  add(2, 11, kKenkokuKinenNoHi);
  if (year >= 2020) add(2, 23, kTennoTanjobi);
  h[VernalEquinox(year)] = kShunbunNoHi;
  if (year <= 1988) {
    add(4, 29, kTennoTanjobi);
  } else if (year <= 2006) {
    add(4, 29, kMidoriNoHi);
  } else {
    add(4, 29, kShowaNoHi);
  }
  add(5, 3, kKenpoKinenbi);
  // Until 2006, 5/4 was a 国民の休日 by article 3(3); from 2007 it is みどりの日.
  if (year >= 2007) add(5, 4, kMidoriNoHi);
  add(5, 5, kKodomoNoHi);

  // 海の日: 7/20 from 1996, third Monday of July from 2003; moved for the Tokyo Olympics.
  if (year == 2020) {
    add(7, 23, kUmiNoHi);
  } else if (year == 2021) {
    add(7, 22, kUmiNoHi);
  } else if (year >= 2003) {
    h[NthWeekday(year, 7, mon, 3)] = kUmiNoHi;
  } else if (year >= 1996) {
    add(7, 20, kUmiNoHi);
  }

  // 山の日 from 2016, moved for the Tokyo Olympics.
  if (year == 2020) {
    add(8, 10, kYamaNoHi);
  } else if (year == 2021) {
    add(8, 8, kYamaNoHi);
  } else if (year >= 2016) {
    add(8, 11, kYamaNoHi);
  }

  if (year >= 2003) {
    h[NthWeekday(year, 9, mon, 3)] = kKeiroNoHi;
  } else {
    add(9, 15, kKeiroNoHi);
  }
  h[AutumnalEquinox(year)] = kShubunNoHi;

  // 体育の日 (10/10, second Monday of October from 2000), renamed スポーツの日 in 2020 and moved
  // for the Tokyo Olympics in 2020 and 2021.
  if (year == 2020) {
    add(7, 24, kSportsNoHi);
  } else if (year == 2021) {
    add(7, 23, kSportsNoHi);
  } else if (year >= 2022) {
    h[NthWeekday(year, 10, mon, 2)] = kSportsNoHi;
  } else if (year >= 2000) {
    h[NthWeekday(year, 10, mon, 2)] = kTaiikuNoHi;
  } else {
    add(10, 10, kTaiikuNoHi);
  }

  add(11, 3, kBunkaNoHi);
  add(11, 23, kKinroKanshaNoHi);
  if (year >= 1989 && year <= 2018) add(12, 23, kTennoTanjobi);

  // 平成31年法律第1号 deems these two days 国民の祝日, so articles 3(2) and 3(3) apply to them
  // (which is what makes 2019-04-30 and 2019-05-02 国民の休日).
  if (year == 2019) {
    add(5, 1, kSokuiNoHi);
    add(10, 22, kSokuireiSeidenNoGi);
  }
  return h;
}

// Every holiday of a supported year: the 国民の祝日, then article 3's 振替休日 and 国民の休日,
// then the one-off 休日 that special laws made without deeming them 国民の祝日.
std::map<absl::CivilDay, Name> ComputeYear(int year) {
  const std::map<absl::CivilDay, Name> national = NationalHolidays(year);
  std::map<absl::CivilDay, Name> all = national;
  auto is_national = [&national](absl::CivilDay d) { return national.count(d) > 0; };

  // Article 3(2). Until 2006 (昭和48年改正, in force 1973-04-12): the Monday after a Sunday
  // 国民の祝日, when that Monday is not one itself. From 2007: the first following day that is
  // not a 国民の祝日 (2008-05-06, 2026-05-06). None of these can leave the year: no 国民の祝日
  // falls on 12/31.
  const bool carry_over = year >= 2007;
  for (const auto& [day, name] : national) {
    if (!IsSunday(day)) continue;
    absl::CivilDay substitute = day + 1;
    if (carry_over) {
      while (is_national(substitute)) ++substitute;
    } else if (is_national(substitute)) {
      continue;
    }
    all.emplace(substitute, kFurikaeKyujitsu);
  }

  // Article 3(3), in force from 1985-12-27: a day between two 国民の祝日 that is not one
  // itself. Until 2006 the text also excluded Sundays and 振替休日.
  if (year >= 1986) {
    for (const auto& [day, name] : national) {
      const absl::CivilDay between = day + 1;
      if (is_national(between) || !is_national(between + 1)) continue;
      if (year <= 2006 && (IsSunday(between) || all.count(between) > 0)) continue;
      all.emplace(between, kKokuminNoKyujitsu);
    }
  }

  if (year == 1989) all.emplace(absl::CivilDay(1989, 2, 24), kTaisoNoRei);
  if (year == 1990) all.emplace(absl::CivilDay(1990, 11, 12), kSokuireiSeidenNoGi);
  if (year == 1993) all.emplace(absl::CivilDay(1993, 6, 9), kKekkonNoGi);
  return all;
}

// One byte per day of the supported range, built once. Function-local static initialisation
// is thread-safe, and the table is read-only afterwards.
class HolidayTable {
 public:
  static const HolidayTable& Get() {
    static const HolidayTable* table = new HolidayTable();
    return *table;
  }

  Name At(absl::CivilDay day) const {
    if (day < first_ || day > last_) return kNone;
    return static_cast<Name>(names_[static_cast<size_t>(day - first_)]);
  }

 private:
  HolidayTable()
      : first_(kFirstSupportedYear, 1, 1),
        last_(kLastSupportedYear, 12, 31),
        names_(static_cast<size_t>(last_ - first_ + 1), kNone) {
    for (int year = kFirstSupportedYear; year <= kLastSupportedYear; ++year) {
      for (const auto& [day, name] : ComputeYear(year)) {
        names_[static_cast<size_t>(day - first_)] = name;
      }
    }
  }

  const absl::CivilDay first_;
  const absl::CivilDay last_;
  std::vector<uint8_t> names_;
};

}  // namespace

bool IsHoliday(absl::CivilDay day) { return HolidayTable::Get().At(day) != kNone; }

absl::optional<std::string> HolidayName(absl::CivilDay day) {
  const Name name = HolidayTable::Get().At(day);
  if (name == kNone) return absl::nullopt;
  return std::string(kNames[name]);
}

std::vector<Holiday> HolidaysIn(int year) {
  std::vector<Holiday> out;
  if (year < kFirstSupportedYear || year > kLastSupportedYear) return out;
  const HolidayTable& table = HolidayTable::Get();
  const absl::CivilDay end(year + 1, 1, 1);
  for (absl::CivilDay day(year, 1, 1); day < end; ++day) {
    const Name name = table.At(day);
    if (name != kNone) out.push_back(Holiday{day, kNames[name]});
  }
  return out;
}

bool IsYearEndClosure(absl::CivilDay day) {
  return (day.month() == 12 && day.day() >= 29) || (day.month() == 1 && day.day() <= 3);
}

bool IsBusinessDay(absl::CivilDay day) {
  const absl::Weekday weekday = absl::GetWeekday(day);
  if (weekday == absl::Weekday::saturday || weekday == absl::Weekday::sunday) return false;
  return !IsYearEndClosure(day) && !IsHoliday(day);
}

absl::CivilDay NextBusinessDay(absl::CivilDay day) {
  do {
    ++day;
  } while (!IsBusinessDay(day));
  return day;
}

absl::CivilDay AddBusinessDays(absl::CivilDay day, int n) {
  if (n == 0) return IsBusinessDay(day) ? day : NextBusinessDay(day);
  const int step = n > 0 ? 1 : -1;
  // Count in int64: -n overflows for INT_MIN.
  for (int64_t left = n > 0 ? int64_t{n} : -int64_t{n}; left > 0; --left) {
    do {
      day += step;
    } while (!IsBusinessDay(day));
  }
  return day;
}

absl::CivilDay NthBusinessDayOfMonth(absl::CivilMonth month, int n) {
  return AddBusinessDays(absl::CivilDay(month) - 1, n < 1 ? 1 : n);
}

absl::CivilDay MonthEnd(absl::CivilMonth month) { return absl::CivilDay(month + 1) - 1; }

absl::CivilMonth AddMonths(absl::CivilMonth month, int n) { return month + n; }

absl::CivilDay ReportDeadlineDay(absl::CivilMonth month) {
  return NthBusinessDayOfMonth(month, 4);
}

absl::Time ReportDeadline(absl::CivilMonth month) {
  // Japan has kept UTC+9 without daylight saving since 1951; a fixed zone is exact and needs
  // no tzdata (the same choice as anken::TokyoTimeZone, which this pure library cannot link).
  static const absl::TimeZone tokyo = absl::FixedTimeZone(9 * 60 * 60);
  return absl::FromCivil(absl::CivilSecond(ReportDeadlineDay(month) + 1), tokyo);
}

}  // namespace calendar
}  // namespace anken
