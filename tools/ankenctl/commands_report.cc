// reports list|lines|download|upload|preview|submit (anken.report.v1.ReportIntakeService): the
// monthly 案件一覧 report of a partner store, as a table or as the .xlsx file.

#include <iostream>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tools/ankenctl/cells.h"
#include "tools/ankenctl/commands.h"
#include "tools/ankenctl/invoke.h"

namespace anken::ctl {
namespace {

using google::protobuf::Message;

constexpr char kService[] = "anken.report.v1.ReportIntakeService/";

std::string Method(const char* name) { return absl::StrCat(kService, name); }

const std::vector<Column>& ReportColumns() {
  static const auto* c = new std::vector<Column>{
      {"ID", "id", Fmt::kId},
      {"PARTNER", "partner_id", Fmt::kId},
      {"PARTNER_NAME", "partner_name"},
      {"MONTH", "month", Fmt::kMonth},
      {"DEADLINE", "deadline_day", Fmt::kDate},  // the last day to submit
      {"STATUS", "status", Fmt::kEnum},
      {"LINES", "line_count", Fmt::kNumber},
      {"CHECKED", "checked_count", Fmt::kNumber},
      {"SUBMITTED", "submit_time", Fmt::kTime}};
  return *c;
}

int ListReports(const Args& args) {
  JsonObject req;
  if (int code = MonthFlag(args, "month", "month", &req)) return code;
  if (int code = IdFlag(args, "partner", "partner_id", &req)) return code;
  EnumFilter(args, "status", "statuses", "REPORT_STATUS", &req);
  std::unique_ptr<Message> resp;
  if (int code = InvokeList(args, Method("ListReports"), req, &resp)) return code;
  return Show(args, *resp, [&] { return RenderRows(*resp, "reports", ReportColumns()); });
}

int Lines(const Args& args) {
  int64_t id = 0;
  if (int code = IdOperand(args, "the report id", 1, &id)) return code;
  std::unique_ptr<Message> resp;
  if (int code = InvokeList(args, Method("ListReportLines"), JsonObject().Int("report_id", id),
                            &resp)) {
    return code;
  }
  return Show(args, *resp, [&] {
    return RenderRows(*resp, "lines",
                      {{"LINE", "id", Fmt::kId},
                       {"CASE", "case_number"},
                       {"CUSTOMER", "customer_name"},
                       {"REFERRED", "referral_date", Fmt::kDate},
                       {"OUTCOME", "snapshot.outcome", Fmt::kEnum},
                       {"CHECKED", "checked", Fmt::kBool},
                       {"ANSWER", "answer", Fmt::kEnum},
                       {"NEW_OUTCOME", "change.outcome", Fmt::kEnum},
                       {"COMPLETED", "change.completion_date", Fmt::kDate},
                       {"AMOUNT", "change.amount", Fmt::kYen},
                       {"LOST", "change.lost_date", Fmt::kDate}});
  });
}

int Download(const Args& args) {
  int64_t id = 0;
  if (int code = IdOperand(args, "the report id", 1, &id)) return code;
  std::unique_ptr<Message> resp;
  if (int code = Invoke(args, Method("DownloadReportXlsx"), JsonObject().Int("report_id", id).str(),
                        &resp)) {
    return code;
  }
  return SaveDownload(args, Cell(*resp, "content", Fmt::kText), Cell(*resp, "file_name", Fmt::kText),
                      absl::StrCat("report_", id, ".xlsx"));
}

int Upload(const Args& args) {
  int64_t id = 0;
  if (int code = IdOperand(args, "the report id", 2, &id)) return code;
  std::string content;
  if (!ReadFileBytes(args.words[1], &content)) return kExitUsage;
  const bool dry_run = args.Has("dry-run");
  Progress(absl::StrCat("uploading ", args.words[1], " (", content.size(), " bytes)",
                        dry_run ? ", dry run" : ""));
  JsonObject req;
  req.Int("report_id", id).Str("content", absl::Base64Escape(content)).Bool("dry_run", dry_run);
  std::unique_ptr<Message> resp;
  if (int code = Invoke(args, Method("UploadReportXlsx"), req.str(), &resp)) return code;
  Progress(absl::StrCat("sent ", content.size(), " bytes"));
  const auto* errors = resp->GetDescriptor()->FindFieldByName("errors");
  const int error_count = resp->GetReflection()->FieldSize(*resp, errors);
  if (error_count > 0) {
    // The server's texts, one per line, exactly as it words them (the partner help page's).
    for (int i = 0; i < error_count; ++i) {
      std::cerr << Cell(resp->GetReflection()->GetRepeatedMessage(*resp, errors, i), "message",
                        Fmt::kText)
                << "\n";
    }
    if (args.Has("json")) std::cout << ToJson(*resp);
    return kExitRefused;
  }
  int no_change = 0;
  int changed = 0;
  (void)absl::SimpleAtoi(Cell(*resp, "no_change_count", Fmt::kNumber), &no_change);
  (void)absl::SimpleAtoi(Cell(*resp, "changed_count", Fmt::kNumber), &changed);
  Progress(absl::StrCat(no_change + changed, " rows checked (", no_change, " no change, ", changed,
                        " changed)"));
  return Show(args, *resp, [&] {
    return absl::StrCat(dry_run ? "dry run: the file is valid, nothing was written\n"
                                : "accepted\n",
                        RenderRecord(*resp, {{"no_change", "no_change_count", Fmt::kNumber},
                                             {"changed", "changed_count", Fmt::kNumber},
                                             {"report_status", "report.status", Fmt::kEnum},
                                             {"checked", "report.checked_count", Fmt::kNumber},
                                             {"lines", "report.line_count", Fmt::kNumber}}));
  });
}

int Preview(const Args& args) {
  int64_t id = 0;
  if (int code = IdOperand(args, "the report id", 1, &id)) return code;
  std::unique_ptr<Message> resp;
  if (int code = Invoke(args, Method("PreviewSubmission"), JsonObject().Int("report_id", id).str(),
                        &resp)) {
    return code;
  }
  return Show(args, *resp, [&] {
    return absl::StrCat(
        RenderRows(*resp, "changes",
                   {{"CASE", "case_number"},
                    {"CUSTOMER", "customer_name"},
                    {"BEFORE", "before.outcome", Fmt::kEnum},
                    {"AFTER", "after.outcome", Fmt::kEnum},
                    {"COMPLETED", "after.completion_date", Fmt::kDate},
                    {"AMOUNT", "after.amount", Fmt::kYen},
                    {"CHANGED", "changed_fields"},
                    {"NEWLY_COMPLETED", "newly_completed", Fmt::kBool}}),
        "\n",
        RenderRecord(*resp, {{"no_change", "no_change_count", Fmt::kNumber},
                             {"unchecked", "unchecked_count", Fmt::kNumber}}));
  });
}

int Submit(const Args& args) {
  int64_t id = 0;
  if (int code = IdOperand(args, "the report id", 1, &id)) return code;
  if (!args.Has("attest")) {
    return UsageProblem(args, "--attest is required: it states the report is true and complete");
  }
  JsonObject req;
  req.Str("request_id", RequestIdFor(args)).Int("report_id", id).Bool("attestation", true);
  std::unique_ptr<Message> resp;
  if (int code = Invoke(args, Method("SubmitReport"), req.str(), &resp)) return code;
  return Show(args, *resp, [&] {
    return absl::StrCat(
        RenderRecord(*resp, {{"report", "report.id", Fmt::kId},
                             {"status", "report.status", Fmt::kEnum},
                             {"submitted", "report.submit_time", Fmt::kTime},
                             {"submission", "submission.sequence", Fmt::kNumber}}),
        "\n",
        [&] {
          const auto* sub = resp->GetDescriptor()->FindFieldByName("submission");
          const Message& s = resp->GetReflection()->GetMessage(*resp, sub);
          return RenderRows(s, "effects",
                            {{"EFFECT", "id", Fmt::kId},
                             {"KIND", "kind", Fmt::kEnum},
                             {"CASE", "case_number"},
                             {"STATE", "state", Fmt::kEnum},
                             {"DESCRIPTION", "description"}});
        }());
  });
}

}  // namespace

std::vector<Command> ReportCommands() {
  return {
      {"reports list", "[--month YYYY-MM] [--partner ID] [--status not-started|in-progress|submitted]",
       "the partner reports of a month with their progress", "ankenctl reports list --month 2026-04",
       ListReports},
      {"reports lines", "REPORT [--page-size N | --all]",
       "a report's lines: case, end customer, current outcome, answer",
       "ankenctl reports lines 1 --all", Lines},
      {"reports download", "REPORT [-o FILE]",
       "save a report as its .xlsx file (案件一覧ファイル); FILE by default the server's name",
       "ankenctl reports download 1 -o report.xlsx", Download},
      {"reports upload", "REPORT FILE [--dry-run]",
       "upload an edited .xlsx; every row error is printed as the server words it (exit 1)",
       "ankenctl reports upload 1 report.xlsx --dry-run", Upload},
      {"reports preview", "REPORT", "what submitting would change, and the commissions it causes",
       "ankenctl reports preview 1", Preview},
      {"reports submit", "REPORT --attest [--request-id ID]",
       "submit a fully checked report (--attest: it is true and complete)",
       "ankenctl reports submit 1 --attest --request-id submit-2026-04-p2", Submit},
  };
}

}  // namespace anken::ctl
