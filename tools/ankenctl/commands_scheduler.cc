// jobs list|runs|trigger, notifications list (anken.scheduler.v1.SchedulerService).

#include "absl/strings/str_cat.h"
#include "tools/ankenctl/cells.h"
#include "tools/ankenctl/commands.h"
#include "tools/ankenctl/invoke.h"

namespace anken::ctl {
namespace {

using google::protobuf::Message;

constexpr char kService[] = "anken.scheduler.v1.SchedulerService/";

std::string Method(const char* name) { return absl::StrCat(kService, name); }

const std::vector<Column>& RunColumns() {
  static const auto* c = new std::vector<Column>{
      {"RUN", "id", Fmt::kId},
      {"JOB", "job"},
      {"SLOT", "slot"},
      {"STATE", "state", Fmt::kEnum},
      {"TRIGGER", "trigger", Fmt::kEnum},
      {"BY", "triggered_by"},
      {"ATTEMPTS", "attempts", Fmt::kNumber},
      {"FINISHED", "finish_time", Fmt::kTime},
      {"SUMMARY", "summary"},
      {"ERROR", "error"}};
  return *c;
}

int ListJobs(const Args& args) {
  std::unique_ptr<Message> resp;
  if (int code = Invoke(args, Method("ListJobs"), "{}", &resp)) return code;
  return Show(args, *resp, [&] {
    return RenderRows(*resp, "jobs",
                      {{"JOB", "name"},
                       {"SCHEDULE", "schedule"},
                       {"NEXT", "next_slot"},
                       {"ENABLED", "enabled", Fmt::kBool},
                       {"PAUSED", "paused", Fmt::kBool},
                       {"LAST_SLOT", "last_run.slot"},
                       {"LAST_STATE", "last_run.state", Fmt::kEnum},
                       {"DESCRIPTION", "description"}});
  });
}

int ListRuns(const Args& args) {
  if (args.words.size() != 1) return UsageProblem(args, "jobs runs needs a job name");
  JsonObject req;
  req.Str("job", args.words[0]);
  EnumFilter(args, "state", "states", "RUN_STATE", &req);
  std::unique_ptr<Message> resp;
  if (int code = InvokeList(args, Method("ListRuns"), req, &resp)) return code;
  return Show(args, *resp, [&] { return RenderRows(*resp, "runs", RunColumns()); });
}

int Trigger(const Args& args) {
  if (args.words.size() != 1) return UsageProblem(args, "jobs trigger needs a job name");
  if (!args.flags.count("slot")) return UsageProblem(args, "--slot 'YYYY-MM-DD HH:MM' is required");
  absl::StatusOr<std::string> slot = TokyoTimeJson(args.Flag("slot"), "--slot");
  if (!slot.ok()) return UsageProblem(args, std::string(slot.status().message()));
  std::unique_ptr<Message> resp;
  if (int code = Invoke(args, Method("TriggerJob"),
                        JsonObject().Str("job", args.words[0]).Raw("slot_time", *slot).str(),
                        &resp)) {
    return code;
  }
  return Show(args, *resp, [&] {
    const std::string created = Cell(*resp, "created", Fmt::kBool) == "yes"
                                    ? "triggered\n"
                                    : "already run for this slot\n";
    const auto* f = resp->GetDescriptor()->FindFieldByName("run");
    return absl::StrCat(created,
                        RenderMessages({&resp->GetReflection()->GetMessage(*resp, f)}, RunColumns()));
  });
}

int ListNotifications(const Args& args) {
  JsonObject req;
  EnumFilter(args, "state", "states", "NOTIFICATION_STATE", &req);
  if (args.flags.count("recipient")) req.Str("recipient", args.Flag("recipient"));
  if (args.flags.count("template")) req.Str("template_name", args.Flag("template"));
  std::unique_ptr<Message> resp;
  if (int code = InvokeList(args, Method("ListNotifications"), req, &resp)) return code;
  return Show(args, *resp, [&] {
    return RenderRows(*resp, "notifications",
                      {{"ID", "id", Fmt::kId},
                       {"CREATED", "create_time", Fmt::kTime},
                       {"RECIPIENT", "recipient"},
                       {"TEMPLATE", "template_name"},
                       {"STATE", "state", Fmt::kEnum},
                       {"ATTEMPTS", "attempts", Fmt::kNumber},
                       {"SENT", "sent_time", Fmt::kTime},
                       {"SUBJECT", "subject"}});
  });
}

}  // namespace

std::vector<Command> SchedulerCommands() {
  return {
      {"jobs list", "", "the scheduler's jobs: schedule, next slot, last run",
       "ankenctl jobs list", ListJobs},
      {"jobs runs", "JOB [--state running|queued|succeeded|failed|...] [--page-size N | --all]",
       "the runs of a job, newest first", "ankenctl jobs runs open_report_period", ListRuns},
      {"jobs trigger", "JOB --slot 'YYYY-MM-DD HH:MM'",
       "run a job for one slot now (the slot in Asia/Tokyo time); a slot runs once",
       "ankenctl jobs trigger open_report_period --slot '2026-04-01 00:00'", Trigger},
      {"notifications list",
       "[--state pending|sent|dead] [--recipient ADDR] [--template NAME] [--page-size N | --all]",
       "the mails the scheduler queued and sent", "ankenctl notifications list --state dead",
       ListNotifications},
  };
}

}  // namespace anken::ctl
