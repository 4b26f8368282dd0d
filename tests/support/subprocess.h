#pragma once
// Runs a program (a service binary) as a real child process for end-to-end style tests:
// extra environment, combined stdout+stderr captured line by line, signals, bounded waits.

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace anken::testing {

class Subprocess {
 public:
  // Starts `path` with `args` (argv[1..]); the child's environment is this process's plus
  // `env` (which wins).
  static absl::StatusOr<std::unique_ptr<Subprocess>> Start(
      const std::string& path, const std::vector<std::string>& args,
      const std::map<std::string, std::string>& env);
  ~Subprocess();  // kills the child if it still runs

  // Reads output until a line satisfies `match` (returned) or `timeout` passes
  // (DEADLINE_EXCEEDED) or the child closes its output (NOT_FOUND).
  absl::StatusOr<std::string> WaitForLine(const std::function<bool(const std::string&)>& match,
                                          absl::Duration timeout);
  void Signal(int sig);
  // Waits for the exit and returns the exit code (128 + signal when killed by one);
  // DEADLINE_EXCEEDED when it is still running after `timeout`.
  absl::StatusOr<int> Wait(absl::Duration timeout);
  // Everything the child printed so far.
  const std::string& output() const { return output_; }

 private:
  Subprocess(pid_t pid, int fd) : pid_(pid), fd_(fd) {}
  // Reads what is available within `timeout`; false at end of output.
  bool ReadSome(absl::Duration timeout);

  pid_t pid_;
  int fd_;
  bool eof_ = false;
  bool exited_ = false;
  int exit_code_ = 0;
  std::string output_;
  size_t scanned_ = 0;  // lines before this offset were already offered to WaitForLine
};

// Runs to completion (bounded by `timeout`) and returns {exit code, output}.
absl::StatusOr<std::pair<int, std::string>> RunToExit(
    const std::string& path, const std::vector<std::string>& args,
    const std::map<std::string, std::string>& env, absl::Duration timeout = absl::Seconds(60));

}  // namespace anken::testing
