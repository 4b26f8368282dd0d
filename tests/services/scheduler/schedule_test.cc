// Schedules, slots and catch-up selection (pure).

#include "services/scheduler/schedule.h"

#include <gtest/gtest.h>

#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace anken::scheduler {
namespace {

using absl::CivilMinute;

Schedule Parse(const char* text) {
  absl::StatusOr<Schedule> s = ParseSchedule(text);
  EXPECT_TRUE(s.ok()) << text << ": " << s.status();
  return s.value_or(Schedule());
}

absl::Time Tokyo(int y, int m, int d, int hh, int mm) {
  return SlotInstant(CivilMinute(y, m, d, hh, mm));
}

std::vector<CivilMinute> SlotsBetween(const Schedule& s, CivilMinute from, CivilMinute to) {
  std::vector<CivilMinute> out;
  for (auto next = NextSlotAfter(s, from); next.has_value() && *next <= to;
       next = NextSlotAfter(s, *next)) {
    out.push_back(*next);
  }
  return out;
}

TEST(ScheduleParse, AcceptsEveryKindAndFormatsCanonically) {
  EXPECT_EQ(FormatSchedule(Parse("daily 00:00")), "daily 00:00");
  EXPECT_EQ(FormatSchedule(Parse("  DAILY   23:59 ")), "daily 23:59");
  EXPECT_EQ(FormatSchedule(Parse("monthly 1 00:00")), "monthly 1 00:00");
  EXPECT_EQ(FormatSchedule(Parse("Monthly 31 06:30")), "monthly 31 06:30");
  EXPECT_EQ(FormatSchedule(Parse("businessdays 09:00")), "businessdays 09:00");
  EXPECT_EQ(Parse("off").kind, Schedule::Kind::kOff);
  Schedule m = Parse("monthly 15 07:05");
  EXPECT_EQ(m.kind, Schedule::Kind::kMonthly);
  EXPECT_EQ(m.day_of_month, 15);
  EXPECT_EQ(m.hour, 7);
  EXPECT_EQ(m.minute, 5);
}

TEST(ScheduleParse, RejectsMalformedTextWithAReason) {
  for (const char* bad : {"", "hourly 00:00", "daily", "daily 24:00", "daily 9:00", "daily 09:60",
                          "daily 09:00 extra", "monthly 0 00:00", "monthly 32 00:00",
                          "monthly x 00:00", "monthly 1", "businessdays", "off now",
                          "daily 0a:00", "daily -1:00"}) {
    absl::StatusOr<Schedule> s = ParseSchedule(bad);
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << "\"" << bad << "\"";
  }
  EXPECT_NE(ParseSchedule("hourly 00:00").status().message().find("unknown schedule kind"),
            absl::string_view::npos);
}

TEST(Slots, KeysAndRequestIds) {
  const CivilMinute slot(2026, 11, 25, 0, 0);
  EXPECT_EQ(SlotKey(slot), "2026-11-25T00:00");
  EXPECT_EQ(RequestIdFor("renewals", slot), "scheduler:renewals:2026-11-25T00:00");
  EXPECT_EQ(*ParseSlotKey("2026-11-25T00:00"), slot);
  EXPECT_FALSE(ParseSlotKey("2026-11-25 00:00").ok());
  EXPECT_FALSE(ParseSlotKey("2026-02-30T00:00").ok());  // normalizes to March: refused
  EXPECT_FALSE(ParseSlotKey("2026-11-25T00:00:00").ok());
  // Asia/Tokyo is UTC+9: 00:00 in Tokyo is 15:00 UTC the day before.
  EXPECT_EQ(SlotInstant(slot), absl::FromCivil(absl::CivilSecond(2026, 11, 24, 15, 0, 0),
                                               absl::UTCTimeZone()));
  EXPECT_EQ(MinuteOf(SlotInstant(slot) + absl::Seconds(59)), slot);
}

TEST(Slots, DailyRunsEveryDayAtItsTime) {
  const Schedule s = Parse("daily 00:00");
  EXPECT_EQ(*NextSlotAfter(s, CivilMinute(2026, 4, 25, 23, 0)), CivilMinute(2026, 4, 26, 0, 0));
  EXPECT_EQ(*NextSlotAfter(s, CivilMinute(2026, 4, 26, 0, 0)), CivilMinute(2026, 4, 27, 0, 0));
  EXPECT_EQ(*NextSlotAfter(s, CivilMinute(2026, 12, 31, 0, 1)), CivilMinute(2027, 1, 1, 0, 0));
  EXPECT_EQ(*LastSlotAtOrBefore(s, CivilMinute(2026, 4, 26, 0, 0)),
            CivilMinute(2026, 4, 26, 0, 0));
  EXPECT_EQ(*LastSlotAtOrBefore(s, CivilMinute(2026, 4, 25, 23, 59)),
            CivilMinute(2026, 4, 25, 0, 0));
  const Schedule nine = Parse("daily 09:00");
  EXPECT_EQ(*NextSlotAfter(nine, CivilMinute(2026, 4, 26, 8, 59)), CivilMinute(2026, 4, 26, 9, 0));
  EXPECT_TRUE(IsSlot(nine, CivilMinute(2026, 5, 3, 9, 0)));  // holidays too
  EXPECT_FALSE(IsSlot(nine, CivilMinute(2026, 5, 3, 9, 1)));
}

TEST(Slots, MonthlyRunsOnItsDayOrTheMonthEnd) {
  const Schedule first = Parse("monthly 1 00:00");
  EXPECT_EQ(SlotsBetween(first, CivilMinute(2026, 4, 25, 0, 0), CivilMinute(2026, 7, 1, 0, 0)),
            (std::vector<CivilMinute>{CivilMinute(2026, 5, 1, 0, 0), CivilMinute(2026, 6, 1, 0, 0),
                                      CivilMinute(2026, 7, 1, 0, 0)}));
  EXPECT_EQ(*NextSlotAfter(first, CivilMinute(2026, 12, 1, 0, 0)), CivilMinute(2027, 1, 1, 0, 0));
  EXPECT_EQ(*LastSlotAtOrBefore(first, CivilMinute(2026, 4, 30, 23, 59)),
            CivilMinute(2026, 4, 1, 0, 0));
  const Schedule last = Parse("monthly 31 00:00");
  EXPECT_EQ(SlotsBetween(last, CivilMinute(2027, 1, 31, 0, 0), CivilMinute(2027, 5, 1, 0, 0)),
            (std::vector<CivilMinute>{CivilMinute(2027, 2, 28, 0, 0), CivilMinute(2027, 3, 31, 0, 0),
                                      CivilMinute(2027, 4, 30, 0, 0)}));
  EXPECT_EQ(*NextSlotAfter(last, CivilMinute(2028, 1, 31, 0, 0)), CivilMinute(2028, 2, 29, 0, 0));
  EXPECT_TRUE(IsSlot(last, CivilMinute(2027, 2, 28, 0, 0)));
  EXPECT_FALSE(IsSlot(last, CivilMinute(2027, 3, 28, 0, 0)));
}

TEST(Slots, BusinessDaysSkipWeekendsGoldenWeekAndYearEnd) {
  const Schedule s = Parse("businessdays 09:00");
  // Golden Week 2026: 4/29 (Wed) 昭和の日, 5/3 (Sun), 5/4, 5/5 and 5/6 (振替休日).
  EXPECT_EQ(SlotsBetween(s, CivilMinute(2026, 4, 27, 9, 0), CivilMinute(2026, 5, 8, 9, 0)),
            (std::vector<CivilMinute>{
                CivilMinute(2026, 4, 28, 9, 0), CivilMinute(2026, 4, 30, 9, 0),
                CivilMinute(2026, 5, 1, 9, 0), CivilMinute(2026, 5, 7, 9, 0),
                CivilMinute(2026, 5, 8, 9, 0)}));
  // Year end: 12/29–1/3 closed; 2027-01-04 is a Monday.
  EXPECT_EQ(*NextSlotAfter(s, CivilMinute(2026, 12, 28, 9, 0)), CivilMinute(2027, 1, 4, 9, 0));
  EXPECT_EQ(*NextSlotAfter(s, CivilMinute(2026, 12, 28, 8, 59)), CivilMinute(2026, 12, 28, 9, 0));
  // 成人の日 2027: the second Monday of January.
  EXPECT_EQ(*NextSlotAfter(s, CivilMinute(2027, 1, 8, 9, 0)), CivilMinute(2027, 1, 12, 9, 0));
  EXPECT_EQ(*LastSlotAtOrBefore(s, CivilMinute(2027, 1, 4, 8, 59)), CivilMinute(2026, 12, 28, 9, 0));
  EXPECT_EQ(*LastSlotAtOrBefore(s, CivilMinute(2026, 5, 6, 23, 0)), CivilMinute(2026, 5, 1, 9, 0));
  EXPECT_FALSE(IsSlot(s, CivilMinute(2026, 5, 6, 9, 0)));
  EXPECT_TRUE(IsSlot(s, CivilMinute(2026, 5, 7, 9, 0)));
}

TEST(Slots, OffHasNone) {
  const Schedule off = Parse("off");
  EXPECT_FALSE(NextSlotAfter(off, CivilMinute(2026, 1, 1, 0, 0)).has_value());
  EXPECT_FALSE(LastSlotAtOrBefore(off, CivilMinute(2026, 1, 1, 0, 0)).has_value());
  EXPECT_FALSE(IsSlot(off, CivilMinute(2026, 1, 1, 0, 0)));
  const SlotPlan plan =
      PlanSlots(off, CivilMinute(2026, 1, 1, 0, 0), Tokyo(2026, 3, 1, 0, 0), absl::Hours(24));
  EXPECT_TRUE(plan.due.empty());
  EXPECT_TRUE(plan.skipped.empty());
}

TEST(CatchUp, TenDaysOfDowntimeGiveTenSlotsInOrder) {
  const Schedule s = Parse("daily 00:00");
  const SlotPlan plan = PlanSlots(s, CivilMinute(2026, 5, 10, 0, 0), Tokyo(2026, 5, 20, 0, 30),
                                  absl::Hours(24 * 35));
  ASSERT_EQ(plan.due.size(), 10u);
  EXPECT_TRUE(plan.skipped.empty());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(plan.due[i], CivilMinute(2026, 5, 11 + i, 0, 0));
  EXPECT_EQ(plan.new_cursor, CivilMinute(2026, 5, 20, 0, 0));
}

TEST(CatchUp, SlotsBeyondTheHorizonAreSkippedNotDropped) {
  const Schedule s = Parse("daily 00:00");
  // 40 slots missed (4/2..5/11) with a 35-day horizon: the 4 older than 35 days are skipped,
  // 36 run (a slot exactly 35 days old still runs), all in order.
  const SlotPlan plan = PlanSlots(s, CivilMinute(2026, 4, 1, 0, 0), Tokyo(2026, 5, 11, 0, 0),
                                  absl::Hours(24 * 35));
  ASSERT_EQ(plan.skipped.size(), 4u);
  ASSERT_EQ(plan.due.size(), 36u);
  EXPECT_EQ(plan.skipped.front(), CivilMinute(2026, 4, 2, 0, 0));
  EXPECT_EQ(plan.skipped.back(), CivilMinute(2026, 4, 5, 0, 0));
  EXPECT_EQ(plan.due.front(), CivilMinute(2026, 4, 6, 0, 0));
  EXPECT_EQ(SlotInstant(plan.due.front()), Tokyo(2026, 5, 11, 0, 0) - absl::Hours(24 * 35));
  for (size_t i = 1; i < plan.due.size(); ++i) EXPECT_LT(plan.due[i - 1], plan.due[i]);
  EXPECT_EQ(plan.due.back(), CivilMinute(2026, 5, 11, 0, 0));
  EXPECT_EQ(plan.new_cursor, CivilMinute(2026, 5, 11, 0, 0));
}

TEST(CatchUp, NothingDueBeforeTheNextSlotAndTheLimitIsHonoured) {
  const Schedule s = Parse("daily 00:00");
  const SlotPlan none = PlanSlots(s, CivilMinute(2026, 5, 10, 0, 0), Tokyo(2026, 5, 10, 23, 59),
                                  absl::Hours(24 * 35));
  EXPECT_TRUE(none.due.empty());
  EXPECT_EQ(none.new_cursor, CivilMinute(2026, 5, 10, 0, 0));
  const SlotPlan limited = PlanSlots(s, CivilMinute(2026, 5, 10, 0, 0), Tokyo(2026, 5, 20, 0, 0),
                                     absl::Hours(24 * 35), 3);
  ASSERT_EQ(limited.due.size(), 3u);
  EXPECT_EQ(limited.new_cursor, CivilMinute(2026, 5, 13, 0, 0));
}

TEST(CatchUp, BusinessDaySlotsAcrossGoldenWeek) {
  const Schedule s = Parse("businessdays 09:00");
  const SlotPlan plan = PlanSlots(s, CivilMinute(2026, 4, 28, 9, 0), Tokyo(2026, 5, 7, 10, 0),
                                  absl::Hours(24 * 35));
  EXPECT_EQ(plan.due, (std::vector<CivilMinute>{CivilMinute(2026, 4, 30, 9, 0),
                                                CivilMinute(2026, 5, 1, 9, 0),
                                                CivilMinute(2026, 5, 7, 9, 0)}));
}

TEST(JapaneseText, MonthAndDateWithWeekday) {
  EXPECT_EQ(JapaneseMonth(absl::CivilMonth(2026, 11)), "2026年11月");
  EXPECT_EQ(JapaneseDate(absl::CivilDay(2026, 12, 4)), "2026年12月4日（金）");
  EXPECT_EQ(JapaneseDate(absl::CivilDay(2026, 5, 3)), "2026年5月3日（日）");
}

}  // namespace
}  // namespace anken::scheduler
