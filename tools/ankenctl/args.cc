#include "tools/ankenctl/args.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace anken::ctl {

std::string Args::Flag(const std::string& name, const std::string& fallback) const {
  auto it = flags.find(name);
  return it == flags.end() ? fallback : it->second;
}

const std::set<std::string>& Switches() {
  static const auto* switches = new std::set<std::string>{
      "json", "all", "dry-run", "attest", "queue", "help"};
  return *switches;
}

absl::StatusOr<Args> ParseArgs(const std::vector<std::string>& argv) {
  Args args;
  for (size_t i = 0; i < argv.size(); ++i) {
    std::string a = argv[i];
    if (a == "-o") a = "--output";
    if (a == "-h") a = "--help";
    if (a.size() > 2 && a.rfind("--", 0) == 0) {
      std::string key = a.substr(2);
      std::string value;
      const size_t eq = key.find('=');
      if (eq != std::string::npos) {
        value = key.substr(eq + 1);
        key = key.substr(0, eq);
      }
      if (Switches().count(key)) {
        if (eq != std::string::npos) {
          return absl::InvalidArgumentError(absl::StrCat("--", key, " takes no value"));
        }
        args.switches.insert(key);
        continue;
      }
      if (eq == std::string::npos) {
        if (i + 1 >= argv.size()) {
          return absl::InvalidArgumentError(absl::StrCat("--", key, " needs a value"));
        }
        value = argv[++i];
      }
      args.flags[key] = value;
    } else {
      args.words.push_back(a);
    }
  }
  return args;
}

}  // namespace anken::ctl
