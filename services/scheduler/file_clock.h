#pragma once
// TEST ONLY: a Clock that reads the current instant from a file, so that a test can move
// several real scheduler processes through weeks of schedule in seconds (it rewrites the
// file; every process sees the new time on its next tick).
//
// Wired only when ANKEN_TEST_CLOCK_FILE is set AND ANKEN_ALLOW_TEST_CLOCK=1 (otherwise the
// scheduler refuses to start: a stray variable must never let a file decide when renewals
// run in production). The file holds one RFC 3339 instant, e.g. "2026-04-25T23:00:00+09:00";
// writers should replace it atomically (write a temporary file, rename). A read that fails
// or does not parse keeps the last good instant. Only the scheduler's business time comes
// from it; tokens, gRPC deadlines and the database keep real time.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock/clock.h"

namespace anken::scheduler {

class FileClock final : public Clock {
 public:
  // INVALID_ARGUMENT when the file cannot be read or parsed now.
  static absl::StatusOr<std::unique_ptr<FileClock>> Open(std::string path);
  absl::Time Now() const override;

 private:
  FileClock(std::string path, absl::Time initial) : path_(std::move(path)), last_(initial) {}

  std::string path_;
  mutable absl::Mutex mu_;
  mutable absl::Time last_ ABSL_GUARDED_BY(mu_);
};

// Reads the instant in `path` (exposed for tests).
absl::StatusOr<absl::Time> ReadClockFile(const std::string& path);

}  // namespace anken::scheduler
