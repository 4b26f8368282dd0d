#pragma once
// The ankenctl command table: each command has its words ("customers list"), a synopsis, a
// one-line summary, a concrete example, and a function run with the parsed Args (args.words
// then holds only the operands after the command's words). main.cc dispatches on the longest
// matching words; `ankenctl help [command]` prints from the same table.

#include <functional>
#include <string>
#include <vector>

#include "tools/ankenctl/args.h"

namespace anken::ctl {

struct Command {
  std::string name;      // "customers list"
  std::string synopsis;  // the operands and flags after the name
  std::string summary;
  std::string example;   // a full command line
  std::function<int(const Args&)> run;
};

std::vector<Command> CoreCommands();       // call, token, methods, invoice/quote pdf
std::vector<Command> CustomerCommands();   // customers, partners
std::vector<Command> ProjectCommands();    // cases, referrals
std::vector<Command> BillingCommands();    // plans, entries, invoices, payments, receivables, ...
std::vector<Command> ReportCommands();     // reports
std::vector<Command> SchedulerCommands();  // jobs, notifications

}  // namespace anken::ctl
