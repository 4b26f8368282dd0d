#include "services/scheduler/schedule.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/calendar/calendar.h"

namespace anken::scheduler {
namespace {

absl::Status Bad(absl::string_view text, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("schedule \"", text, "\": ", why,
                   " (expected \"daily HH:MM\", \"monthly D HH:MM\", \"businessdays HH:MM\" or "
                   "\"off\")"));
}

bool ParseClock(absl::string_view s, int* hour, int* minute) {
  std::vector<absl::string_view> parts = absl::StrSplit(s, ':');
  if (parts.size() != 2 || parts[0].size() != 2 || parts[1].size() != 2) return false;
  for (absl::string_view p : parts) {
    for (char c : p) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
    }
  }
  if (!absl::SimpleAtoi(parts[0], hour) || !absl::SimpleAtoi(parts[1], minute)) return false;
  return *hour >= 0 && *hour <= 23 && *minute >= 0 && *minute <= 59;
}

// The day a monthly schedule runs in `month`.
absl::CivilDay MonthlyDay(const Schedule& s, absl::CivilMonth month) {
  const absl::CivilDay end = calendar::MonthEnd(month);
  return absl::CivilDay(month.year(), month.month(), std::min(s.day_of_month, end.day()));
}

absl::CivilMinute At(absl::CivilDay day, const Schedule& s) {
  return absl::CivilMinute(day.year(), day.month(), day.day(), s.hour, s.minute);
}

// Whether `day` has a slot of a daily-granularity schedule.
bool RunsOn(const Schedule& s, absl::CivilDay day) {
  switch (s.kind) {
    case Schedule::Kind::kDaily:
      return true;
    case Schedule::Kind::kBusinessDays:
      return calendar::IsBusinessDay(day);
    case Schedule::Kind::kMonthly:
      return day == MonthlyDay(s, absl::CivilMonth(day));
    case Schedule::Kind::kOff:
      return false;
  }
  return false;
}

}  // namespace

absl::StatusOr<Schedule> ParseSchedule(absl::string_view text) {
  std::vector<absl::string_view> words =
      absl::StrSplit(absl::StripAsciiWhitespace(text), ' ', absl::SkipEmpty());
  if (words.empty()) return Bad(text, "empty");
  const std::string kind = absl::AsciiStrToLower(words[0]);
  Schedule s;
  if (kind == "off") {
    if (words.size() != 1) return Bad(text, "\"off\" takes nothing after it");
    return s;
  }
  if (kind == "daily" || kind == "businessdays") {
    if (words.size() != 2) return Bad(text, "expected one HH:MM after the kind");
    if (!ParseClock(words[1], &s.hour, &s.minute)) return Bad(text, "expected HH:MM, 00:00..23:59");
    s.kind = kind == "daily" ? Schedule::Kind::kDaily : Schedule::Kind::kBusinessDays;
    return s;
  }
  if (kind == "monthly") {
    if (words.size() != 3) return Bad(text, "expected a day of the month and HH:MM");
    if (!absl::SimpleAtoi(words[1], &s.day_of_month) || s.day_of_month < 1 ||
        s.day_of_month > 31) {
      return Bad(text, "the day of the month must be 1..31");
    }
    if (!ParseClock(words[2], &s.hour, &s.minute)) return Bad(text, "expected HH:MM, 00:00..23:59");
    s.kind = Schedule::Kind::kMonthly;
    return s;
  }
  return Bad(text, absl::StrCat("unknown schedule kind \"", words[0], "\""));
}

std::string FormatSchedule(const Schedule& s) {
  switch (s.kind) {
    case Schedule::Kind::kOff:
      return "off";
    case Schedule::Kind::kDaily:
      return absl::StrFormat("daily %02d:%02d", s.hour, s.minute);
    case Schedule::Kind::kBusinessDays:
      return absl::StrFormat("businessdays %02d:%02d", s.hour, s.minute);
    case Schedule::Kind::kMonthly:
      return absl::StrFormat("monthly %d %02d:%02d", s.day_of_month, s.hour, s.minute);
  }
  return "off";
}

absl::TimeZone TokyoZone() {
  static const absl::TimeZone tz = absl::FixedTimeZone(9 * 60 * 60);
  return tz;
}

absl::Time SlotInstant(absl::CivilMinute slot) { return absl::FromCivil(slot, TokyoZone()); }

absl::CivilMinute MinuteOf(absl::Time t) { return absl::ToCivilMinute(t, TokyoZone()); }

std::string SlotKey(absl::CivilMinute slot) {
  return absl::StrFormat("%04d-%02d-%02dT%02d:%02d", slot.year(), slot.month(), slot.day(),
                         slot.hour(), slot.minute());
}

absl::StatusOr<absl::CivilMinute> ParseSlotKey(absl::string_view key) {
  absl::CivilMinute slot;
  if (key.size() != 16 || !absl::ParseCivilTime(key, &slot) || SlotKey(slot) != key) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", key, "\" is not a slot key YYYY-MM-DDTHH:MM"));
  }
  return slot;
}

std::string RequestIdFor(absl::string_view job, absl::CivilMinute slot) {
  return absl::StrCat("scheduler:", job, ":", SlotKey(slot));
}

bool IsSlot(const Schedule& s, absl::CivilMinute slot) {
  if (s.kind == Schedule::Kind::kOff) return false;
  return slot.hour() == s.hour && slot.minute() == s.minute && RunsOn(s, absl::CivilDay(slot));
}

absl::optional<absl::CivilMinute> NextSlotAfter(const Schedule& s, absl::CivilMinute after) {
  if (s.kind == Schedule::Kind::kOff) return absl::nullopt;
  if (s.kind == Schedule::Kind::kMonthly) {
    for (absl::CivilMonth m(after);; ++m) {
      absl::CivilMinute candidate = At(MonthlyDay(s, m), s);
      if (candidate > after) return candidate;
    }
  }
  absl::CivilDay day(after);
  if (!RunsOn(s, day) || At(day, s) <= after) {
    day = s.kind == Schedule::Kind::kBusinessDays ? calendar::NextBusinessDay(day) : day + 1;
  }
  return At(day, s);
}

absl::optional<absl::CivilMinute> LastSlotAtOrBefore(const Schedule& s, absl::CivilMinute at) {
  if (s.kind == Schedule::Kind::kOff) return absl::nullopt;
  if (s.kind == Schedule::Kind::kMonthly) {
    for (absl::CivilMonth m(at);; --m) {
      absl::CivilMinute candidate = At(MonthlyDay(s, m), s);
      if (candidate <= at) return candidate;
    }
  }
  absl::CivilDay day(at);
  if (!RunsOn(s, day) || At(day, s) > at) {
    day = s.kind == Schedule::Kind::kBusinessDays ? calendar::AddBusinessDays(day, -1) : day - 1;
  }
  return At(day, s);
}

SlotPlan PlanSlots(const Schedule& schedule, absl::CivilMinute cursor, absl::Time now,
                   absl::Duration horizon, int max_slots) {
  SlotPlan plan;
  plan.new_cursor = cursor;
  const absl::CivilMinute now_minute = MinuteOf(now);
  absl::CivilMinute at = cursor;
  while (static_cast<int>(plan.skipped.size() + plan.due.size()) < max_slots) {
    absl::optional<absl::CivilMinute> next = NextSlotAfter(schedule, at);
    if (!next.has_value() || *next > now_minute) break;
    if (now - SlotInstant(*next) > horizon) {
      plan.skipped.push_back(*next);
    } else {
      plan.due.push_back(*next);
    }
    at = plan.new_cursor = *next;
  }
  return plan;
}

std::string JapaneseMonth(absl::CivilMonth month) {
  return absl::StrFormat("%d年%d月", month.year(), month.month());
}

std::string JapaneseDate(absl::CivilDay day) {
  static constexpr const char* kWeekdays[] = {"月", "火", "水", "木", "金", "土", "日"};
  const int weekday = static_cast<int>(absl::GetWeekday(day));  // Monday = 0
  return absl::StrFormat("%d年%d月%d日（%s）", day.year(), day.month(), day.day(),
                         kWeekdays[weekday]);
}

}  // namespace anken::scheduler
