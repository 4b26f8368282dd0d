#pragma once
// A Clock that stands still until a test moves it. Thread-safe.

#include "absl/synchronization/mutex.h"
#include "common/clock/clock.h"

namespace anken::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time now = absl::FromUnixSeconds(1767225600)) : now_(now) {}

  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Set(absl::Time now) {
    absl::MutexLock lock(&mu_);
    now_ = now;
  }
  // Sets the clock to a wall-clock time in Asia/Tokyo.
  void SetTokyo(absl::CivilSecond civil) { Set(FromTokyo(civil)); }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_;
};

}  // namespace anken::testing
