#include "common/clock/clock.h"

#include "absl/time/clock.h"

namespace anken {
namespace {

class RealClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

}  // namespace

Clock& SystemClock() {
  static RealClock* clock = new RealClock();
  return *clock;
}

absl::TimeZone TokyoTimeZone() {
  static const absl::TimeZone tz = absl::FixedTimeZone(9 * 60 * 60);
  return tz;
}

absl::CivilDay TokyoToday(const Clock& clock) {
  return absl::ToCivilDay(clock.Now(), TokyoTimeZone());
}

absl::Time FromTokyo(absl::CivilSecond civil) { return absl::FromCivil(civil, TokyoTimeZone()); }

}  // namespace anken
