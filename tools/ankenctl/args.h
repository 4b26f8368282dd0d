#pragma once
// ankenctl's command line, parsed once: the words (command and operands) apart from the flags.
// A flag is `--name value` or `--name=value`, except the switches listed in kSwitches, which
// take no value (`--json`). `-o` is short for `--output`, `-h` for `--help`. Pure.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace anken::ctl {

struct Args {
  std::string command;                       // the matched command ("customers list"), once known
  std::vector<std::string> words;            // positional words, in order
  std::map<std::string, std::string> flags;  // --name value
  std::set<std::string> switches;            // --json, --all, ...

  bool Has(const std::string& name) const { return switches.count(name) > 0 || flags.count(name) > 0; }
  // The flag's value, or `fallback` when it was not given.
  std::string Flag(const std::string& name, const std::string& fallback = "") const;
};

// The flags that never take a value.
const std::set<std::string>& Switches();

// INVALID_ARGUMENT for a value flag at the end without its value.
absl::StatusOr<Args> ParseArgs(const std::vector<std::string>& argv);

}  // namespace anken::ctl
