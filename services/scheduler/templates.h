#pragma once
// The Japanese mail templates of the notification outbox, and the checks of an enqueue
// request (pure).
//
// A template names its required and optional parameters; "{name}" in its subject or body is
// replaced by the parameter's value (an optional one left out renders as its default). Unknown
// parameter names are refused rather than ignored, so a caller's typo shows up at once.
// Parameters used in the subject must be one line. Rendering happens when a notification is
// enqueued: the stored subject and body are what is sent, whatever later releases change.
//
// Templates (parameters; * = optional):
//   monthly_report_request   partner_name, period, deadline, portal_url*
//   report_reminder          partner_name, period, deadline, portal_url*
//   report_overdue_summary   as_of, count, partners
//   invoice_issue_request    project, requested_by, entries*, note*
//   missed_billing_alert     as_of, count, items
//   overdue_invoice_list     as_of, count, total, items
// Dates and months are passed already written in Japanese (schedule.h JapaneseDate), lists as
// multi-line text (one item per line).

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace anken::scheduler {

struct MailTemplate {
  std::string name;
  std::string description;
  std::string subject;  // with {placeholders}
  std::string body;
  std::vector<std::string> required;
  std::map<std::string, std::string> optional;  // name -> default text
};

// Every template, in a fixed order.
const std::vector<MailTemplate>& MailTemplates();
// nullptr when unknown.
const MailTemplate* FindTemplate(absl::string_view name);

struct RenderedMail {
  std::string subject;
  std::string body;
};

// INVALID_ARGUMENT naming the field ("template_name", "parameters[deadline]") for an unknown
// template, a missing required or unknown parameter, a parameter that is not UTF-8, longer
// than 10000 characters, or a line break in a parameter used in the subject.
absl::StatusOr<RenderedMail> RenderTemplate(absl::string_view template_name,
                                            const std::map<std::string, std::string>& parameters);

// OK when `key` is 1..200 characters of [A-Za-z0-9._:@/+=-]; INVALID_ARGUMENT on "dedup_key".
absl::Status CheckDedupKey(absl::string_view key);

}  // namespace anken::scheduler
