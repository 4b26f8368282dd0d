#pragma once
// Time is injected: code that needs "now" takes a Clock, so tests can travel in time with
// tests/fakes/fake_clock.h. Business dates are civil dates in Asia/Tokyo.

#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace anken {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// The real clock. Process-wide and thread-safe.
Clock& SystemClock();

// Asia/Tokyo. Japan has kept UTC+9 without daylight saving since 1951, so a fixed zone is
// exact and does not depend on tzdata being installed.
absl::TimeZone TokyoTimeZone();

// Today's civil date in Asia/Tokyo.
absl::CivilDay TokyoToday(const Clock& clock);

// The instant a civil time in Asia/Tokyo denotes.
absl::Time FromTokyo(absl::CivilSecond civil);

}  // namespace anken
