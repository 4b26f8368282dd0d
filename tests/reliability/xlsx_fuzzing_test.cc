// Reliability: fuzzing (issue #11, "Bad input"). Runs tests/fuzz/run, which runs each libFuzzer
// target (built with clang, AddressSanitizer and UndefinedBehaviorSanitizer by the fuzz_build
// test) for ANKEN_FUZZ_SECONDS (default 60) on a copy of its seed corpus: the .xlsx upload path
// on whole files and on single XML parts, and every CSV importer. Held when each target ran,
// executed inputs, and ended without a crash, a sanitizer finding, a leak or a slow input; the
// executions per target are the scenario's figures.

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tests/reliability/reliability_support.h"
#include "tests/support/subprocess.h"

namespace anken::reliability {
namespace {

constexpr char kScenario[] = "fuzzing";
const char* const kTargets[] = {"xlsx_upload", "xlsx_parts", "csv_import"};

// "fuzz-result target=xlsx_upload executions=123 ..." → {target: xlsx_upload, executions: 123}
std::map<std::string, std::string> Fields(absl::string_view line) {
  std::map<std::string, std::string> out;
  for (absl::string_view word : absl::StrSplit(line, ' ', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(word, absl::MaxSplits('=', 1));
    if (!kv.second.empty()) out[kv.first] = kv.second;
  }
  return out;
}

TEST(Fuzzing, EveryTargetRunsCleanOnItsCorpus) {
  int64_t seconds = 60;
  if (const char* s = std::getenv("ANKEN_FUZZ_SECONDS"); s != nullptr && *s != '\0') {
    ASSERT_TRUE(absl::SimpleAtoi(s, &seconds) && seconds > 0) << "ANKEN_FUZZ_SECONDS=" << s;
  }
  const std::vector<std::string> args = {ANKEN_FUZZ_RUN, "--build-dir", ANKEN_FUZZ_BUILD_DIR,
                                         "--seconds", absl::StrCat(seconds)};
  // Each target stops itself after `seconds`; the rest covers an incremental build and the
  // corpus copies on a loaded machine.
  const absl::Duration bound =
      absl::Seconds(seconds * static_cast<int64_t>(std::size(kTargets)) + 900);
  absl::StatusOr<std::pair<int, std::string>> run =
      testing::RunToExit("/bin/bash", args, {}, bound);
  ASSERT_TRUE(run.ok()) << run.status();
  std::cout << run->second << std::flush;

  std::map<std::string, std::map<std::string, std::string>> results;
  for (absl::string_view line : absl::StrSplit(run->second, '\n')) {
    if (absl::ConsumePrefix(&line, "fuzz-result ")) {
      std::map<std::string, std::string> f = Fields(line);
      results[f["target"]] = f;
    }
  }
  bool held_all = run->first == 0;
  std::string figures;
  int64_t total = 0;
  for (const char* target : kTargets) {
    const auto it = results.find(target);
    std::map<std::string, std::string> f;
    if (it != results.end()) f = it->second;
    int64_t executions = 0;
    const bool ran = absl::SimpleAtoi(f["executions"], &executions) && executions > 0;
    const bool held = ran && f["status"] == "clean";
    EXPECT_TRUE(held) << target << ": " << (f.empty() ? "no result" : f["status"]);
    Check(kScenario,
          absl::StrCat(target, ": ", executions, " executions in ", f["seconds"], " s, corpus ",
                       f["corpus"], ", ", f.empty() ? "no result" : f["status"]),
          held);
    held_all = held_all && held;
    total += executions;
    absl::StrAppend(&figures, figures.empty() ? "" : ", ", target, " ", executions);
  }
  EXPECT_EQ(run->first, 0) << "tests/fuzz/run exited " << run->first;
  RecordScenario(
      kScenario, held_all,
      absl::StrCat(total, " executions (", figures, ") in ", seconds,
                   " s per target; crashes, leaks and timeouts: ", held_all ? "0" : "see the log"));
}

}  // namespace
}  // namespace anken::reliability
