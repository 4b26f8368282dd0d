#include "services/scheduler/file_clock.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace anken::scheduler {

absl::StatusOr<absl::Time> ReadClockFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read the clock file ", path));
  std::stringstream text;
  text << in.rdbuf();
  const std::string value(absl::StripAsciiWhitespace(text.str()));
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, value, &t, &error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the clock file ", path, " does not hold an RFC 3339 instant: ", error));
  }
  return t;
}

absl::StatusOr<std::unique_ptr<FileClock>> FileClock::Open(std::string path) {
  absl::StatusOr<absl::Time> t = ReadClockFile(path);
  if (!t.ok()) return t.status();
  return std::unique_ptr<FileClock>(new FileClock(std::move(path), *t));
}

absl::Time FileClock::Now() const {
  absl::StatusOr<absl::Time> t = ReadClockFile(path_);
  absl::MutexLock lock(&mu_);
  if (t.ok()) last_ = *t;
  return last_;
}

}  // namespace anken::scheduler
