// The expected dates below are written out by hand from the holiday law's rules and a printed
// calendar (the equinoxes from the published dates); none of them is produced by the code
// under test.

#include "common/calendar/calendar.h"

#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace anken {
namespace calendar {
namespace {

using absl::CivilDay;
using absl::CivilMonth;

struct Expected {
  int y, m, d;
  const char* name;
};

struct Ymd {
  int y, m, d;
  CivilDay day() const { return CivilDay(y, m, d); }
};

// Every holiday of 2016-2030.
constexpr Expected kHolidays2016To2030[] = {
    // 2016
    {2016, 1, 1, "元日"}, {2016, 1, 11, "成人の日"}, {2016, 2, 11, "建国記念の日"},
    {2016, 3, 20, "春分の日"}, {2016, 3, 21, "振替休日"}, {2016, 4, 29, "昭和の日"},
    {2016, 5, 3, "憲法記念日"}, {2016, 5, 4, "みどりの日"}, {2016, 5, 5, "こどもの日"},
    {2016, 7, 18, "海の日"}, {2016, 8, 11, "山の日"}, {2016, 9, 19, "敬老の日"},
    {2016, 9, 22, "秋分の日"}, {2016, 10, 10, "体育の日"}, {2016, 11, 3, "文化の日"},
    {2016, 11, 23, "勤労感謝の日"}, {2016, 12, 23, "天皇誕生日"},
    // 2017
    {2017, 1, 1, "元日"}, {2017, 1, 2, "振替休日"}, {2017, 1, 9, "成人の日"},
    {2017, 2, 11, "建国記念の日"}, {2017, 3, 20, "春分の日"}, {2017, 4, 29, "昭和の日"},
    {2017, 5, 3, "憲法記念日"}, {2017, 5, 4, "みどりの日"}, {2017, 5, 5, "こどもの日"},
    {2017, 7, 17, "海の日"}, {2017, 8, 11, "山の日"}, {2017, 9, 18, "敬老の日"},
    {2017, 9, 23, "秋分の日"}, {2017, 10, 9, "体育の日"}, {2017, 11, 3, "文化の日"},
    {2017, 11, 23, "勤労感謝の日"}, {2017, 12, 23, "天皇誕生日"},
    // 2018
    {2018, 1, 1, "元日"}, {2018, 1, 8, "成人の日"}, {2018, 2, 11, "建国記念の日"},
    {2018, 2, 12, "振替休日"}, {2018, 3, 21, "春分の日"}, {2018, 4, 29, "昭和の日"},
    {2018, 4, 30, "振替休日"}, {2018, 5, 3, "憲法記念日"}, {2018, 5, 4, "みどりの日"},
    {2018, 5, 5, "こどもの日"}, {2018, 7, 16, "海の日"}, {2018, 8, 11, "山の日"},
    {2018, 9, 17, "敬老の日"}, {2018, 9, 23, "秋分の日"}, {2018, 9, 24, "振替休日"},
    {2018, 10, 8, "体育の日"}, {2018, 11, 3, "文化の日"}, {2018, 11, 23, "勤労感謝の日"},
    {2018, 12, 23, "天皇誕生日"}, {2018, 12, 24, "振替休日"},
    // 2019: the enthronement; 4/30 and 5/2 are sandwiched between deemed 祝日.
    {2019, 1, 1, "元日"}, {2019, 1, 14, "成人の日"}, {2019, 2, 11, "建国記念の日"},
    {2019, 3, 21, "春分の日"}, {2019, 4, 29, "昭和の日"}, {2019, 4, 30, "国民の休日"},
    {2019, 5, 1, "天皇の即位の日"}, {2019, 5, 2, "国民の休日"}, {2019, 5, 3, "憲法記念日"},
    {2019, 5, 4, "みどりの日"}, {2019, 5, 5, "こどもの日"}, {2019, 5, 6, "振替休日"},
    {2019, 7, 15, "海の日"}, {2019, 8, 11, "山の日"}, {2019, 8, 12, "振替休日"},
    {2019, 9, 16, "敬老の日"}, {2019, 9, 23, "秋分の日"}, {2019, 10, 14, "体育の日"},
    {2019, 10, 22, "即位礼正殿の儀の行われる日"}, {2019, 11, 3, "文化の日"},
    {2019, 11, 4, "振替休日"}, {2019, 11, 23, "勤労感謝の日"},
    // 2020: Olympic moves; 5/3 (Sun) substitutes onto 5/6 past 5/4 and 5/5.
    {2020, 1, 1, "元日"}, {2020, 1, 13, "成人の日"}, {2020, 2, 11, "建国記念の日"},
    {2020, 2, 23, "天皇誕生日"}, {2020, 2, 24, "振替休日"}, {2020, 3, 20, "春分の日"},
    {2020, 4, 29, "昭和の日"}, {2020, 5, 3, "憲法記念日"}, {2020, 5, 4, "みどりの日"},
    {2020, 5, 5, "こどもの日"}, {2020, 5, 6, "振替休日"}, {2020, 7, 23, "海の日"},
    {2020, 7, 24, "スポーツの日"}, {2020, 8, 10, "山の日"}, {2020, 9, 21, "敬老の日"},
    {2020, 9, 22, "秋分の日"}, {2020, 11, 3, "文化の日"}, {2020, 11, 23, "勤労感謝の日"},
    // 2021: Olympic moves; 山の日 8/8 is a Sunday.
    {2021, 1, 1, "元日"}, {2021, 1, 11, "成人の日"}, {2021, 2, 11, "建国記念の日"},
    {2021, 2, 23, "天皇誕生日"}, {2021, 3, 20, "春分の日"}, {2021, 4, 29, "昭和の日"},
    {2021, 5, 3, "憲法記念日"}, {2021, 5, 4, "みどりの日"}, {2021, 5, 5, "こどもの日"},
    {2021, 7, 22, "海の日"}, {2021, 7, 23, "スポーツの日"}, {2021, 8, 8, "山の日"},
    {2021, 8, 9, "振替休日"}, {2021, 9, 20, "敬老の日"}, {2021, 9, 23, "秋分の日"},
    {2021, 11, 3, "文化の日"}, {2021, 11, 23, "勤労感謝の日"},
    // 2022
    {2022, 1, 1, "元日"}, {2022, 1, 10, "成人の日"}, {2022, 2, 11, "建国記念の日"},
    {2022, 2, 23, "天皇誕生日"}, {2022, 3, 21, "春分の日"}, {2022, 4, 29, "昭和の日"},
    {2022, 5, 3, "憲法記念日"}, {2022, 5, 4, "みどりの日"}, {2022, 5, 5, "こどもの日"},
    {2022, 7, 18, "海の日"}, {2022, 8, 11, "山の日"}, {2022, 9, 19, "敬老の日"},
    {2022, 9, 23, "秋分の日"}, {2022, 10, 10, "スポーツの日"}, {2022, 11, 3, "文化の日"},
    {2022, 11, 23, "勤労感謝の日"},
    // 2023
    {2023, 1, 1, "元日"}, {2023, 1, 2, "振替休日"}, {2023, 1, 9, "成人の日"},
    {2023, 2, 11, "建国記念の日"}, {2023, 2, 23, "天皇誕生日"}, {2023, 3, 21, "春分の日"},
    {2023, 4, 29, "昭和の日"}, {2023, 5, 3, "憲法記念日"}, {2023, 5, 4, "みどりの日"},
    {2023, 5, 5, "こどもの日"}, {2023, 7, 17, "海の日"}, {2023, 8, 11, "山の日"},
    {2023, 9, 18, "敬老の日"}, {2023, 9, 23, "秋分の日"}, {2023, 10, 9, "スポーツの日"},
    {2023, 11, 3, "文化の日"}, {2023, 11, 23, "勤労感謝の日"},
    // 2024
    {2024, 1, 1, "元日"}, {2024, 1, 8, "成人の日"}, {2024, 2, 11, "建国記念の日"},
    {2024, 2, 12, "振替休日"}, {2024, 2, 23, "天皇誕生日"}, {2024, 3, 20, "春分の日"},
    {2024, 4, 29, "昭和の日"}, {2024, 5, 3, "憲法記念日"}, {2024, 5, 4, "みどりの日"},
    {2024, 5, 5, "こどもの日"}, {2024, 5, 6, "振替休日"}, {2024, 7, 15, "海の日"},
    {2024, 8, 11, "山の日"}, {2024, 8, 12, "振替休日"}, {2024, 9, 16, "敬老の日"},
    {2024, 9, 22, "秋分の日"}, {2024, 9, 23, "振替休日"}, {2024, 10, 14, "スポーツの日"},
    {2024, 11, 3, "文化の日"}, {2024, 11, 4, "振替休日"}, {2024, 11, 23, "勤労感謝の日"},
    // 2025: みどりの日 5/4 (Sun) substitutes onto 5/6 past こどもの日.
    {2025, 1, 1, "元日"}, {2025, 1, 13, "成人の日"}, {2025, 2, 11, "建国記念の日"},
    {2025, 2, 23, "天皇誕生日"}, {2025, 2, 24, "振替休日"}, {2025, 3, 20, "春分の日"},
    {2025, 4, 29, "昭和の日"}, {2025, 5, 3, "憲法記念日"}, {2025, 5, 4, "みどりの日"},
    {2025, 5, 5, "こどもの日"}, {2025, 5, 6, "振替休日"}, {2025, 7, 21, "海の日"},
    {2025, 8, 11, "山の日"}, {2025, 9, 15, "敬老の日"}, {2025, 9, 23, "秋分の日"},
    {2025, 10, 13, "スポーツの日"}, {2025, 11, 3, "文化の日"}, {2025, 11, 23, "勤労感謝の日"},
    {2025, 11, 24, "振替休日"},
    // 2026: 9/22 sits between 敬老の日 9/21 and 秋分の日 9/23.
    {2026, 1, 1, "元日"}, {2026, 1, 12, "成人の日"}, {2026, 2, 11, "建国記念の日"},
    {2026, 2, 23, "天皇誕生日"}, {2026, 3, 20, "春分の日"}, {2026, 4, 29, "昭和の日"},
    {2026, 5, 3, "憲法記念日"}, {2026, 5, 4, "みどりの日"}, {2026, 5, 5, "こどもの日"},
    {2026, 5, 6, "振替休日"}, {2026, 7, 20, "海の日"}, {2026, 8, 11, "山の日"},
    {2026, 9, 21, "敬老の日"}, {2026, 9, 22, "国民の休日"}, {2026, 9, 23, "秋分の日"},
    {2026, 10, 12, "スポーツの日"}, {2026, 11, 3, "文化の日"}, {2026, 11, 23, "勤労感謝の日"},
    // 2027
    {2027, 1, 1, "元日"}, {2027, 1, 11, "成人の日"}, {2027, 2, 11, "建国記念の日"},
    {2027, 2, 23, "天皇誕生日"}, {2027, 3, 21, "春分の日"}, {2027, 3, 22, "振替休日"},
    {2027, 4, 29, "昭和の日"}, {2027, 5, 3, "憲法記念日"}, {2027, 5, 4, "みどりの日"},
    {2027, 5, 5, "こどもの日"}, {2027, 7, 19, "海の日"}, {2027, 8, 11, "山の日"},
    {2027, 9, 20, "敬老の日"}, {2027, 9, 23, "秋分の日"}, {2027, 10, 11, "スポーツの日"},
    {2027, 11, 3, "文化の日"}, {2027, 11, 23, "勤労感謝の日"},
    // 2028
    {2028, 1, 1, "元日"}, {2028, 1, 10, "成人の日"}, {2028, 2, 11, "建国記念の日"},
    {2028, 2, 23, "天皇誕生日"}, {2028, 3, 20, "春分の日"}, {2028, 4, 29, "昭和の日"},
    {2028, 5, 3, "憲法記念日"}, {2028, 5, 4, "みどりの日"}, {2028, 5, 5, "こどもの日"},
    {2028, 7, 17, "海の日"}, {2028, 8, 11, "山の日"}, {2028, 9, 18, "敬老の日"},
    {2028, 9, 22, "秋分の日"}, {2028, 10, 9, "スポーツの日"}, {2028, 11, 3, "文化の日"},
    {2028, 11, 23, "勤労感謝の日"},
    // 2029
    {2029, 1, 1, "元日"}, {2029, 1, 8, "成人の日"}, {2029, 2, 11, "建国記念の日"},
    {2029, 2, 12, "振替休日"}, {2029, 2, 23, "天皇誕生日"}, {2029, 3, 20, "春分の日"},
    {2029, 4, 29, "昭和の日"}, {2029, 4, 30, "振替休日"}, {2029, 5, 3, "憲法記念日"},
    {2029, 5, 4, "みどりの日"}, {2029, 5, 5, "こどもの日"}, {2029, 7, 16, "海の日"},
    {2029, 8, 11, "山の日"}, {2029, 9, 17, "敬老の日"}, {2029, 9, 23, "秋分の日"},
    {2029, 9, 24, "振替休日"}, {2029, 10, 8, "スポーツの日"}, {2029, 11, 3, "文化の日"},
    {2029, 11, 23, "勤労感謝の日"},
    // 2030
    {2030, 1, 1, "元日"}, {2030, 1, 14, "成人の日"}, {2030, 2, 11, "建国記念の日"},
    {2030, 2, 23, "天皇誕生日"}, {2030, 3, 20, "春分の日"}, {2030, 4, 29, "昭和の日"},
    {2030, 5, 3, "憲法記念日"}, {2030, 5, 4, "みどりの日"}, {2030, 5, 5, "こどもの日"},
    {2030, 5, 6, "振替休日"}, {2030, 7, 15, "海の日"}, {2030, 8, 11, "山の日"},
    {2030, 8, 12, "振替休日"}, {2030, 9, 16, "敬老の日"}, {2030, 9, 23, "秋分の日"},
    {2030, 10, 14, "スポーツの日"}, {2030, 11, 3, "文化の日"}, {2030, 11, 4, "振替休日"},
    {2030, 11, 23, "勤労感謝の日"},
};

CivilDay Day(const Expected& e) { return CivilDay(e.y, e.m, e.d); }

std::map<CivilDay, std::string> ExpectedHolidays() {
  std::map<CivilDay, std::string> out;
  for (const Expected& e : kHolidays2016To2030) out.emplace(Day(e), e.name);
  return out;
}

TEST(HolidaysTest, FullListPerYear2016To2030) {
  // Guards the table itself: counts per year as tallied by hand.
  const std::map<int, size_t> kCounts = {
      {2016, 17}, {2017, 17}, {2018, 20}, {2019, 22}, {2020, 18}, {2021, 17}, {2022, 16},
      {2023, 17}, {2024, 21}, {2025, 19}, {2026, 18}, {2027, 17}, {2028, 16}, {2029, 19},
      {2030, 19}};
  const std::map<CivilDay, std::string> expected = ExpectedHolidays();
  for (int year = 2016; year <= 2030; ++year) {
    std::vector<Holiday> want;
    for (const auto& [day, name] : expected) {
      if (day.year() == year) want.push_back(Holiday{day, name});
    }
    ASSERT_EQ(want.size(), kCounts.at(year)) << "hand-written table, year " << year;
    const std::vector<Holiday> got = HolidaysIn(year);
    ASSERT_EQ(got.size(), want.size()) << year;
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(got[i].day, want[i].day) << year << " #" << i;
      EXPECT_EQ(got[i].name, want[i].name) << got[i].day;
    }
  }
}

TEST(HolidaysTest, EveryDayOf2016To2030AgreesWithTheTable) {
  const std::map<CivilDay, std::string> expected = ExpectedHolidays();
  for (CivilDay day(2016, 1, 1); day <= CivilDay(2030, 12, 31); ++day) {
    const auto it = expected.find(day);
    const bool want = it != expected.end();
    EXPECT_EQ(IsHoliday(day), want) << day;
    const absl::optional<std::string> name = HolidayName(day);
    ASSERT_EQ(name.has_value(), want) << day;
    if (want) {
      EXPECT_EQ(*name, it->second) << day;
    }
  }
}

TEST(HolidaysTest, OneOffDaysOf2019To2021) {
  for (const CivilDay day :
       {CivilDay(2019, 4, 30), CivilDay(2019, 5, 1), CivilDay(2019, 5, 2), CivilDay(2019, 10, 22),
        CivilDay(2020, 7, 23), CivilDay(2020, 7, 24), CivilDay(2020, 8, 10),
        CivilDay(2021, 7, 22), CivilDay(2021, 7, 23), CivilDay(2021, 8, 8), CivilDay(2021, 8, 9),
        CivilDay(2026, 9, 22)}) {
    EXPECT_TRUE(IsHoliday(day)) << day;
  }
  // The usual dates of the moved days, and 2019's missing 天皇誕生日.
  for (const CivilDay day : {CivilDay(2020, 7, 20), CivilDay(2020, 10, 12), CivilDay(2020, 8, 11),
                             CivilDay(2021, 7, 19), CivilDay(2021, 10, 11),
                             CivilDay(2021, 8, 11), CivilDay(2019, 12, 23)}) {
    EXPECT_FALSE(IsHoliday(day)) << day;
    EXPECT_TRUE(IsBusinessDay(day)) << day;
  }
  EXPECT_EQ(HolidayName(CivilDay(2019, 5, 1)), "天皇の即位の日");
  EXPECT_EQ(HolidayName(CivilDay(2021, 8, 9)), "振替休日");
  EXPECT_EQ(HolidayName(CivilDay(2026, 9, 22)), "国民の休日");
  EXPECT_EQ(HolidayName(CivilDay(2026, 9, 24)), absl::nullopt);
}

TEST(HolidaysTest, EquinoxesMatchThePublishedDates) {
  const Ymd kVernal[] = {
      {2016, 3, 20}, {2017, 3, 20}, {2018, 3, 21}, {2019, 3, 21}, {2020, 3, 20},
      {2021, 3, 20}, {2022, 3, 21}, {2023, 3, 21}, {2024, 3, 20}, {2025, 3, 20},
      {2026, 3, 20}, {2027, 3, 21}, {2028, 3, 20}, {2029, 3, 20}, {2030, 3, 20}};
  const Ymd kAutumnal[] = {
      {2016, 9, 22}, {2017, 9, 23}, {2018, 9, 23}, {2019, 9, 23}, {2020, 9, 22},
      {2021, 9, 23}, {2022, 9, 23}, {2023, 9, 23}, {2024, 9, 22}, {2025, 9, 23},
      {2026, 9, 23}, {2027, 9, 23}, {2028, 9, 22}, {2029, 9, 23}, {2030, 9, 23}};
  for (const Ymd& e : kVernal) EXPECT_EQ(HolidayName(e.day()), "春分の日") << e.day();
  for (const Ymd& e : kAutumnal) EXPECT_EQ(HolidayName(e.day()), "秋分の日") << e.day();
  // And on no other day of those years.
  for (int year = 2016; year <= 2030; ++year) {
    int vernal = 0, autumnal = 0;
    for (const Holiday& h : HolidaysIn(year)) {
      vernal += h.name == "春分の日";
      autumnal += h.name == "秋分の日";
    }
    EXPECT_EQ(vernal, 1) << year;
    EXPECT_EQ(autumnal, 1) << year;
  }
}

// Days from 1980-2015 where the law's rules differed from today's.
TEST(HolidaysTest, EarlierRulesOfTheLaw) {
  const std::vector<std::pair<CivilDay, std::string>> kHolidays = {
      {CivilDay(1987, 5, 4), "振替休日"},        // 5/3 was a Sunday
      {CivilDay(1988, 4, 29), "天皇誕生日"},
      {CivilDay(1988, 5, 4), "国民の休日"},      // first year of article 3(3)
      {CivilDay(1989, 2, 24), "昭和天皇の大喪の礼"},
      {CivilDay(1989, 4, 29), "みどりの日"},
      {CivilDay(1990, 11, 12), "即位礼正殿の儀の行われる日"},
      {CivilDay(1993, 6, 9), "皇太子徳仁親王の結婚の儀"},
      {CivilDay(1998, 1, 15), "成人の日"},
      {CivilDay(1999, 10, 10), "体育の日"},
      {CivilDay(1999, 10, 11), "振替休日"},
      {CivilDay(2000, 1, 10), "成人の日"},       // Happy Monday from 2000
      {CivilDay(2000, 10, 9), "体育の日"},
      {CivilDay(2001, 12, 24), "振替休日"},
      {CivilDay(2002, 7, 20), "海の日"},
      {CivilDay(2002, 9, 15), "敬老の日"},
      {CivilDay(2002, 9, 16), "振替休日"},
      {CivilDay(2003, 7, 21), "海の日"},         // Happy Monday from 2003
      {CivilDay(2003, 9, 15), "敬老の日"},
      {CivilDay(2006, 4, 29), "みどりの日"},
      {CivilDay(2006, 5, 4), "国民の休日"},
      {CivilDay(2007, 4, 29), "昭和の日"},
      {CivilDay(2007, 4, 30), "振替休日"},
      {CivilDay(2008, 5, 6), "振替休日"},        // 2007 rule: carries past 5/5
      {CivilDay(2009, 9, 22), "国民の休日"},
      {CivilDay(2012, 12, 24), "振替休日"},
      {CivilDay(2015, 9, 22), "国民の休日"},
  };
  for (const auto& [day, name] : kHolidays) EXPECT_EQ(HolidayName(day), name) << day;

  // Until 2006 a Sunday 5/4 was no holiday and had no substitute; the rule had not started
  // in 1985; and before 2000 the Happy Monday days did not move.
  for (const CivilDay day : {CivilDay(2003, 5, 4), CivilDay(2003, 5, 6), CivilDay(1985, 5, 4),
                             CivilDay(1999, 1, 11), CivilDay(2000, 1, 15),
                             CivilDay(2000, 10, 10), CivilDay(2002, 7, 15),
                             CivilDay(2003, 7, 20)}) {
    EXPECT_FALSE(IsHoliday(day)) << day;
  }
}

TEST(HolidaysTest, NoHolidaysOutsideTheSupportedRange) {
  EXPECT_THAT(HolidaysIn(kFirstSupportedYear - 1), ::testing::IsEmpty());
  EXPECT_THAT(HolidaysIn(kLastSupportedYear + 1), ::testing::IsEmpty());
  EXPECT_FALSE(IsHoliday(CivilDay(kLastSupportedYear + 1, 2, 11)));
  EXPECT_FALSE(IsHoliday(CivilDay(kFirstSupportedYear - 1, 2, 11)));
  EXPECT_TRUE(IsHoliday(CivilDay(kLastSupportedYear, 2, 11)));
  EXPECT_TRUE(IsHoliday(CivilDay(kFirstSupportedYear, 2, 11)));
  // The closure and weekends still apply.
  EXPECT_FALSE(IsBusinessDay(CivilDay(3000, 12, 30)));
  EXPECT_TRUE(IsBusinessDay(CivilDay(3000, 2, 11)));  // a Tuesday
}

TEST(HolidaysTest, InvariantsOverTheSupportedRange) {
  for (int year = kFirstSupportedYear; year <= kLastSupportedYear; ++year) {
    const std::vector<Holiday> holidays = HolidaysIn(year);
    int vernal = 0, autumnal = 0;
    for (size_t i = 0; i < holidays.size(); ++i) {
      const Holiday& h = holidays[i];
      EXPECT_EQ(h.day.year(), year);
      if (i > 0) {
        EXPECT_LT(holidays[i - 1].day, h.day);
      }
      if (h.name == "春分の日") {
        ++vernal;
        EXPECT_EQ(h.day.month(), 3);
        EXPECT_GE(h.day.day(), 19);
        EXPECT_LE(h.day.day(), 22);
      }
      if (h.name == "秋分の日") {
        ++autumnal;
        EXPECT_EQ(h.day.month(), 9);
        EXPECT_GE(h.day.day(), 21);
        EXPECT_LE(h.day.day(), 24);
      }
      if (h.name == "振替休日") {
        EXPECT_NE(absl::GetWeekday(h.day), absl::Weekday::sunday);
      }
    }
    EXPECT_EQ(vernal, 1) << year;
    EXPECT_EQ(autumnal, 1) << year;
    // The header promises every month at least 15 business days.
    for (int month = 1; month <= 12; ++month) {
      const CivilMonth m(year, month);
      EXPECT_LE(NthBusinessDayOfMonth(m, 15), MonthEnd(m)) << m;
    }
  }
}

TEST(BusinessDayTest, WeekendsAreNotBusinessDays) {
  EXPECT_TRUE(IsBusinessDay(CivilDay(2025, 6, 6)));    // Friday
  EXPECT_FALSE(IsBusinessDay(CivilDay(2025, 6, 7)));   // Saturday
  EXPECT_FALSE(IsBusinessDay(CivilDay(2025, 6, 8)));   // Sunday
  EXPECT_TRUE(IsBusinessDay(CivilDay(2025, 6, 9)));    // Monday
  EXPECT_FALSE(IsBusinessDay(CivilDay(2025, 5, 6)));   // 振替休日, a Tuesday
  EXPECT_FALSE(IsBusinessDay(CivilDay(2026, 9, 22)));  // 国民の休日
  EXPECT_EQ(NextBusinessDay(CivilDay(2025, 6, 6)), CivilDay(2025, 6, 9));
  EXPECT_EQ(NextBusinessDay(CivilDay(2025, 6, 9)), CivilDay(2025, 6, 10));
  EXPECT_EQ(NextBusinessDay(CivilDay(2025, 5, 2)), CivilDay(2025, 5, 7));
}

TEST(BusinessDayTest, YearEndClosure) {
  EXPECT_FALSE(IsYearEndClosure(CivilDay(2025, 12, 28)));
  EXPECT_TRUE(IsYearEndClosure(CivilDay(2025, 12, 29)));
  EXPECT_TRUE(IsYearEndClosure(CivilDay(2025, 12, 31)));
  EXPECT_TRUE(IsYearEndClosure(CivilDay(2026, 1, 1)));
  EXPECT_TRUE(IsYearEndClosure(CivilDay(2026, 1, 3)));
  EXPECT_FALSE(IsYearEndClosure(CivilDay(2026, 1, 4)));
  EXPECT_TRUE(IsBusinessDay(CivilDay(2025, 12, 26)));   // Friday
  for (const CivilDay day : {CivilDay(2025, 12, 29), CivilDay(2025, 12, 30),
                             CivilDay(2025, 12, 31), CivilDay(2026, 1, 2),
                             CivilDay(2024, 1, 2), CivilDay(2024, 1, 3)}) {
    EXPECT_FALSE(IsYearEndClosure(day) && IsBusinessDay(day)) << day;
    EXPECT_FALSE(IsBusinessDay(day)) << day;  // weekdays, closed all the same
    EXPECT_FALSE(IsHoliday(day)) << day;      // but not national holidays
  }
  EXPECT_TRUE(IsBusinessDay(CivilDay(2024, 1, 4)));
  EXPECT_EQ(NextBusinessDay(CivilDay(2025, 12, 26)), CivilDay(2026, 1, 5));
}

TEST(BusinessDayTest, AddBusinessDaysAcrossTheNewYear) {
  EXPECT_EQ(AddBusinessDays(CivilDay(2024, 12, 27), 1), CivilDay(2025, 1, 6));
  EXPECT_EQ(AddBusinessDays(CivilDay(2024, 12, 27), 5), CivilDay(2025, 1, 10));
  EXPECT_EQ(AddBusinessDays(CivilDay(2024, 12, 27), 6), CivilDay(2025, 1, 14));  // 1/13 成人の日
  EXPECT_EQ(AddBusinessDays(CivilDay(2025, 1, 6), -1), CivilDay(2024, 12, 27));
  EXPECT_EQ(AddBusinessDays(CivilDay(2025, 1, 1), -1), CivilDay(2024, 12, 27));
  EXPECT_EQ(AddBusinessDays(CivilDay(2025, 12, 26), 1), CivilDay(2026, 1, 5));
  EXPECT_EQ(AddBusinessDays(CivilDay(2026, 1, 5), -2), CivilDay(2025, 12, 25));
}

TEST(BusinessDayTest, AddBusinessDaysZeroRollsForward) {
  EXPECT_EQ(AddBusinessDays(CivilDay(2025, 6, 9), 0), CivilDay(2025, 6, 9));
  EXPECT_EQ(AddBusinessDays(CivilDay(2025, 6, 7), 0), CivilDay(2025, 6, 9));
  EXPECT_EQ(AddBusinessDays(CivilDay(2025, 6, 7), 1), CivilDay(2025, 6, 9));
  EXPECT_EQ(AddBusinessDays(CivilDay(2025, 6, 7), -1), CivilDay(2025, 6, 6));
}

TEST(BusinessDayTest, AddBusinessDaysOverGoldenWeek) {
  EXPECT_EQ(AddBusinessDays(CivilDay(2026, 5, 7), -1), CivilDay(2026, 5, 1));
  EXPECT_EQ(AddBusinessDays(CivilDay(2026, 4, 28), 3), CivilDay(2026, 5, 7));  // 4/29 昭和の日
  EXPECT_EQ(AddBusinessDays(CivilDay(2019, 4, 26), 1), CivilDay(2019, 5, 7));  // ten days off
}

TEST(BusinessDayTest, NthBusinessDayOfMonth) {
  EXPECT_EQ(NthBusinessDayOfMonth(CivilMonth(2026, 5), 1), CivilDay(2026, 5, 1));
  EXPECT_EQ(NthBusinessDayOfMonth(CivilMonth(2026, 5), 2), CivilDay(2026, 5, 7));
  EXPECT_EQ(NthBusinessDayOfMonth(CivilMonth(2025, 11), 1), CivilDay(2025, 11, 4));
  EXPECT_EQ(NthBusinessDayOfMonth(CivilMonth(2025, 11), 0), CivilDay(2025, 11, 4));
  EXPECT_EQ(NthBusinessDayOfMonth(CivilMonth(2025, 1), 1), CivilDay(2025, 1, 6));
}

TEST(ReportDeadlineTest, FourthBusinessDayOfEveryMonth2024To2027) {
  const Ymd kDeadlines[] = {
      // 2024
      {2024, 1, 10}, {2024, 2, 6}, {2024, 3, 6}, {2024, 4, 4}, {2024, 5, 8}, {2024, 6, 6},
      {2024, 7, 4}, {2024, 8, 6}, {2024, 9, 5}, {2024, 10, 4}, {2024, 11, 7}, {2024, 12, 5},
      // 2025
      {2025, 1, 9}, {2025, 2, 6}, {2025, 3, 6}, {2025, 4, 4}, {2025, 5, 8}, {2025, 6, 5},
      {2025, 7, 4}, {2025, 8, 6}, {2025, 9, 4}, {2025, 10, 6}, {2025, 11, 7}, {2025, 12, 4},
      // 2026
      {2026, 1, 8}, {2026, 2, 5}, {2026, 3, 5}, {2026, 4, 6}, {2026, 5, 11}, {2026, 6, 4},
      {2026, 7, 6}, {2026, 8, 6}, {2026, 9, 4}, {2026, 10, 6}, {2026, 11, 6}, {2026, 12, 4},
      // 2027
      {2027, 1, 7}, {2027, 2, 4}, {2027, 3, 4}, {2027, 4, 6}, {2027, 5, 11}, {2027, 6, 4},
      {2027, 7, 6}, {2027, 8, 5}, {2027, 9, 6}, {2027, 10, 6}, {2027, 11, 5}, {2027, 12, 6},
  };
  ASSERT_EQ(std::size(kDeadlines), 48u);
  for (const Ymd& e : kDeadlines) {
    const CivilDay want = e.day();
    const CivilMonth month(want);
    EXPECT_EQ(ReportDeadlineDay(month), want) << month;
    EXPECT_EQ(NthBusinessDayOfMonth(month, 4), want) << month;
  }
}

TEST(ReportDeadlineTest, InstantIsMidnightTokyoAfterTheDeadlineDay) {
  // 2025-01-09 24:00 JST = 2025-01-09 15:00 UTC.
  const absl::Time want =
      absl::FromCivil(absl::CivilSecond(2025, 1, 9, 15, 0, 0), absl::UTCTimeZone());
  EXPECT_EQ(ReportDeadline(CivilMonth(2025, 1)), want);
  EXPECT_EQ(ReportDeadline(CivilMonth(2026, 5)),
            absl::FromCivil(absl::CivilSecond(2026, 5, 11, 15, 0, 0), absl::UTCTimeZone()));
}

TEST(MonthTest, MonthEnd) {
  EXPECT_EQ(MonthEnd(CivilMonth(2024, 2)), CivilDay(2024, 2, 29));
  EXPECT_EQ(MonthEnd(CivilMonth(2023, 2)), CivilDay(2023, 2, 28));
  EXPECT_EQ(MonthEnd(CivilMonth(2000, 2)), CivilDay(2000, 2, 29));
  EXPECT_EQ(MonthEnd(CivilMonth(2100, 2)), CivilDay(2100, 2, 28));
  EXPECT_EQ(MonthEnd(CivilMonth(2025, 4)), CivilDay(2025, 4, 30));
  EXPECT_EQ(MonthEnd(CivilMonth(2025, 12)), CivilDay(2025, 12, 31));
  EXPECT_EQ(MonthEnd(CivilMonth(2025, 1)), CivilDay(2025, 1, 31));
}

TEST(MonthTest, AddMonths) {
  EXPECT_EQ(AddMonths(CivilMonth(2025, 1), 1), CivilMonth(2025, 2));
  EXPECT_EQ(MonthEnd(AddMonths(CivilMonth(2025, 1), 1)), CivilDay(2025, 2, 28));
  EXPECT_EQ(MonthEnd(AddMonths(CivilMonth(2024, 1), 1)), CivilDay(2024, 2, 29));
  EXPECT_EQ(AddMonths(CivilMonth(2024, 11), 3), CivilMonth(2025, 2));
  EXPECT_EQ(AddMonths(CivilMonth(2025, 12), 1), CivilMonth(2026, 1));
  EXPECT_EQ(AddMonths(CivilMonth(2025, 1), -1), CivilMonth(2024, 12));
  EXPECT_EQ(AddMonths(CivilMonth(2019, 6), 48), CivilMonth(2023, 6));
  EXPECT_EQ(AddMonths(CivilMonth(2019, 6), 0), CivilMonth(2019, 6));
  EXPECT_EQ(AddMonths(CivilMonth(2025, 3), -13), CivilMonth(2024, 2));
}

}  // namespace
}  // namespace calendar
}  // namespace anken
