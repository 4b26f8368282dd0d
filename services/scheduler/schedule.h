#pragma once
// Schedules and slots, in Asia/Tokyo civil time (pure: Abseil and the business calendar).
//
// A schedule is one line of configuration (ANKEN_SCHEDULE_<JOB>):
//   "daily HH:MM"          every day
//   "monthly D HH:MM"      day D (1..31) of every month; a month shorter than D runs on its
//                          last day, so "monthly 31 00:00" is "every month end"
//   "businessdays HH:MM"   every business day of calendar::IsBusinessDay (no weekends,
//                          national holidays or the 12/29–1/3 closure)
//   "off"                  never
// Words are case-insensitive and separated by spaces; HH is 00..23, MM 00..59.
//
// A slot is one scheduled minute of a job (absl::CivilMinute in Asia/Tokyo); its key is
// "YYYY-MM-DDTHH:MM" and the request_id of every peer call of its run is
// "scheduler:<job>:<key>" (RequestIdFor). Japan has no daylight saving, so every civil minute
// is exactly one instant (SlotInstant).
//
// Catch-up: each job keeps a cursor, the latest slot the scheduler has accounted for (run,
// queued or recorded as skipped). PlanSlots lists the slots after the cursor that are due at
// `now`, oldest first, split into those within the catch-up horizon (to run, in order) and
// older ones (to record as skipped and report, never to drop silently).

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"

namespace anken::scheduler {

struct Schedule {
  enum class Kind { kOff, kDaily, kMonthly, kBusinessDays };
  Kind kind = Kind::kOff;
  int day_of_month = 0;  // kMonthly: 1..31
  int hour = 0;
  int minute = 0;

  friend bool operator==(const Schedule& a, const Schedule& b) {
    return a.kind == b.kind && a.day_of_month == b.day_of_month && a.hour == b.hour &&
           a.minute == b.minute;
  }
};

// INVALID_ARGUMENT naming what is wrong ("expected HH:MM", "unknown schedule kind ...").
absl::StatusOr<Schedule> ParseSchedule(absl::string_view text);
// The canonical text ParseSchedule accepts: "daily 00:00", "monthly 1 00:00",
// "businessdays 09:00", "off".
std::string FormatSchedule(const Schedule& schedule);

// Asia/Tokyo (UTC+9, no daylight saving), as a fixed zone.
absl::TimeZone TokyoZone();
// The instant of a slot, and the slot (civil minute, seconds dropped) of an instant.
absl::Time SlotInstant(absl::CivilMinute slot);
absl::CivilMinute MinuteOf(absl::Time t);

// "2026-11-25T00:00".
std::string SlotKey(absl::CivilMinute slot);
// The inverse of SlotKey; INVALID_ARGUMENT otherwise.
absl::StatusOr<absl::CivilMinute> ParseSlotKey(absl::string_view key);
// "scheduler:<job>:<SlotKey>": what every peer call of the run carries, so that a retried or
// taken-over run is a replay for the peer.
std::string RequestIdFor(absl::string_view job, absl::CivilMinute slot);

// True when `slot` is one of the schedule's minutes (never for kOff).
bool IsSlot(const Schedule& schedule, absl::CivilMinute slot);
// The first slot strictly after `after`; nullopt for kOff.
absl::optional<absl::CivilMinute> NextSlotAfter(const Schedule& schedule, absl::CivilMinute after);
// The latest slot at or before `at`; nullopt for kOff.
absl::optional<absl::CivilMinute> LastSlotAtOrBefore(const Schedule& schedule,
                                                     absl::CivilMinute at);

struct SlotPlan {
  std::vector<absl::CivilMinute> skipped;  // due, but older than the horizon; oldest first
  std::vector<absl::CivilMinute> due;      // within the horizon, oldest first
  // Where the cursor stands once all of the above are accounted for (the cursor itself when
  // nothing is due).
  absl::CivilMinute new_cursor;
};

// The slots in (cursor, MinuteOf(now)], oldest first and at most `max_slots` of them (the
// rest waits for the next call). A slot is skipped when its instant is more than `horizon`
// before now; a slot exactly `horizon` old still runs.
SlotPlan PlanSlots(const Schedule& schedule, absl::CivilMinute cursor, absl::Time now,
                   absl::Duration horizon, int max_slots = 1000);

// Japanese renderings used in mail: "2026年11月" and "2026年12月4日（金）".
std::string JapaneseMonth(absl::CivilMonth month);
std::string JapaneseDate(absl::CivilDay day);

}  // namespace anken::scheduler
