// ankenctl: a command-line client for every Anken service. `ankenctl help` lists the commands,
// `ankenctl help <command>` shows one with an example. Tables for people by default, --json
// for scripts. The address comes from --addr, else ANKEN_<SERVICE>_ADDR, else the service's
// default local port; the token from --token, else ANKEN_TOKEN. Exit codes: 0 success, 1 the
// request was refused (a user error), 2 bad usage, 3 server or network error (invoke.h).

#include <algorithm>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tools/ankenctl/args.h"
#include "tools/ankenctl/commands.h"
#include "tools/ankenctl/invoke.h"
#include "tools/ankenctl/table.h"

namespace anken::ctl {
namespace {

constexpr char kGlobalFlags[] =
    "global flags: --addr HOST:PORT (else ANKEN_<SERVICE>_ADDR), --token JWT (else ANKEN_TOKEN),\n"
    "  --timeout 30s, --json (the proto JSON instead of a table); lists: --page-size N,\n"
    "  --page-token T, --all (every page); creates: --request-id ID (a retry with the same id\n"
    "  does not create twice)\n"
    "exit codes: 0 ok, 1 refused (user error), 2 bad usage, 3 server or network error\n";

std::vector<Command> AllCommands() {
  std::vector<Command> all;
  for (auto group : {CoreCommands, CustomerCommands, ProjectCommands, BillingCommands,
                     ReportCommands, SchedulerCommands}) {
    for (Command& c : group()) all.push_back(std::move(c));
  }
  return all;
}

// The command whose words start `words`, the longest such; nullptr when none.
const Command* Find(const std::vector<Command>& commands, const std::vector<std::string>& words,
                    size_t* used) {
  const Command* best = nullptr;
  for (const Command& c : commands) {
    std::vector<std::string> name = absl::StrSplit(c.name, ' ');
    if (name.size() > words.size() || (best != nullptr && name.size() <= *used)) continue;
    if (std::equal(name.begin(), name.end(), words.begin())) {
      best = &c;
      *used = name.size();
    }
  }
  return best;
}

std::string CommandUsage(const Command& c) {
  return absl::StrCat("usage: ankenctl ", c.name, " ", c.synopsis, "\n\n", c.summary,
                      "\n\nexample:\n  ", c.example, "\n\n", kGlobalFlags);
}

// The flags every command takes (kGlobalFlags), besides those its synopsis names.
const std::set<std::string>& GlobalFlags() {
  static const auto* flags = new std::set<std::string>{
      "addr", "token", "timeout", "json", "help", "page-size", "page-token", "all", "request-id"};
  return *flags;
}

// The first flag `args` carries that `c` does not take ("" when none): its synopsis is the one
// list of what it takes (`--name` words, and `-o` for --output), so a mistyped or unsupported
// flag is a usage error rather than silently ignored.
std::string UnknownFlag(const Command& c, const Args& args) {
  std::set<std::string> allowed = GlobalFlags();
  for (absl::string_view word : absl::StrSplit(c.synopsis, absl::ByAnyChar(" []|="))) {
    if (absl::ConsumePrefix(&word, "--")) allowed.insert(std::string(word));
    if (word == "-o") allowed.insert("output");
  }
  for (const auto& [name, value] : args.flags) {
    if (allowed.count(name) == 0) return name;
  }
  for (const std::string& name : args.switches) {
    if (allowed.count(name) == 0) return name;
  }
  return "";
}

int Help(const std::vector<Command>& commands, const std::vector<std::string>& words,
         std::ostream& out) {
  if (!words.empty()) {
    size_t used = 0;
    const Command* c = Find(commands, words, &used);
    if (c == nullptr || used != words.size()) {
      // "help customers" lists that group.
      bool any = false;
      for (const Command& cmd : commands) {
        if (cmd.name.rfind(absl::StrJoin(words, " ") + " ", 0) == 0) {
          if (!any) out << "usage:\n";
          out << "  ankenctl " << cmd.name << " " << cmd.synopsis << "\n";
          any = true;
        }
      }
      if (any) return kExitOk;
      std::cerr << "ankenctl: no command " << absl::StrJoin(words, " ") << " (see ankenctl help)\n";
      return kExitUsage;
    }
    out << CommandUsage(*c);
    return kExitOk;
  }
  out << "usage: ankenctl [global flags] COMMAND ...\n\ncommands:\n";
  Table table({"", ""});
  for (const Command& c : commands) table.AddRow({"  " + c.name, c.summary});
  std::string rendered = table.Render();
  out << rendered.substr(rendered.find('\n') + 1);  // no header line
  out << "\n`ankenctl help COMMAND` shows its usage with an example.\n" << kGlobalFlags;
  return kExitOk;
}

int Main(int argc, char** argv) {
  const std::vector<Command> commands = AllCommands();
  absl::StatusOr<Args> parsed = ParseArgs(std::vector<std::string>(argv + 1, argv + argc));
  if (!parsed.ok()) return UsageProblem(Args(), std::string(parsed.status().message()));
  Args args = *std::move(parsed);
  if (args.words.empty()) {
    Help(commands, {}, std::cerr);
    return kExitUsage;
  }
  if (args.words[0] == "help") {
    return Help(commands, std::vector<std::string>(args.words.begin() + 1, args.words.end()),
                std::cout);
  }
  size_t used = 0;
  const Command* c = Find(commands, args.words, &used);
  if (c == nullptr) {
    // A group name alone ("ankenctl customers") lists its commands.
    for (const Command& cmd : commands) {
      if (cmd.name.rfind(args.words[0] + " ", 0) == 0) {
        Help(commands, {args.words[0]}, std::cerr);
        return kExitUsage;
      }
    }
    return UsageProblem(args, absl::StrCat("unknown command ", absl::StrJoin(args.words, " ")));
  }
  if (args.Has("help")) {
    std::cout << CommandUsage(*c);
    return kExitOk;
  }
  args.command = c->name;
  if (std::string flag = UnknownFlag(*c, args); !flag.empty()) {
    return UsageProblem(args, absl::StrCat(c->name, " takes no --", flag));
  }
  args.words.erase(args.words.begin(), args.words.begin() + static_cast<long>(used));
  return c->run(args);
}

}  // namespace
}  // namespace anken::ctl

int main(int argc, char** argv) { return anken::ctl::Main(argc, argv); }
