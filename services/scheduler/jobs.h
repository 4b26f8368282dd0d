#pragma once
// The job kinds (code) and what each run does, behind small interfaces so that the logic is
// pure and testable with fakes: a JobAction per kind, the peers it calls (BillingPeer,
// ReportPeer) and the outbox it writes to (Outbox). gRPC implementations live in peers.h.
//
//   renewals            daily 00:00      billing RunRenewals(as_of = the slot's day)
//   open_report_period  monthly 1 00:00  report OpenPeriod(the slot's month); a
//                                        monthly_report_request to every partner listed
//   report_reminders    businessdays 09:00  for every report not submitted whose deadline is
//                                        today or past: a report_reminder to the partner; when
//                                        some are past their deadline, a report_overdue_summary
//                                        to staff
//   billing_alerts      daily 09:00      overdue invoices -> overdue_invoice_list, missed billing
//                                        -> missed_billing_alert, both to accounting
//
// Exactly once: every peer call carries ctx.request_id ("scheduler:<job>:<slot>"), and every
// notification a run enqueues has a dedup key derived from (job, slot, recipient), so a retried
// or taken-over run repeats nothing. Disabled: a kind whose peer is not configured reports why
// (DisabledReason) and never claims slots. A peer method that does not exist yet answers
// UNIMPLEMENTED; billing_alerts treats that as "nothing to report yet" (the billing RPCs for
// overdue invoices and missed billing are the next part), so adding them needs no change here.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/scheduler/schedule.h"

namespace anken::scheduler {

// Every job kind, in a fixed order (ListJobs shows them so).
struct JobKind {
  std::string name;             // "renewals"
  std::string description;      // for people
  std::string default_schedule;  // "daily 00:00"
  std::string env_name;          // "ANKEN_SCHEDULE_RENEWALS"
};
const std::vector<JobKind>& JobKinds();
const JobKind* FindJobKind(absl::string_view name);

// What one attempt of a run knows.
struct JobContext {
  std::string job;
  absl::CivilMinute slot;
  std::string request_id;  // RequestIdFor(job, slot)
  int attempt = 1;
  // Wall-clock bound of the peer calls (gRPC deadlines are real time, not the scheduler's Clock).
  absl::Time deadline = absl::InfiniteFuture();
  // The scheduler's "now" (the Clock), e.g. for the business date of alerts.
  absl::Time now;
};

class JobAction {
 public:
  virtual ~JobAction() = default;
  // Empty when the job can run; otherwise why not (e.g. "ANKEN_REPORT_ADDR is not set").
  virtual std::string DisabledReason() const = 0;
  // Does the slot's work; returns a summary for people. A non-OK status fails the attempt
  // (retried when IsRetryable(code)).
  virtual absl::StatusOr<std::string> Run(const JobContext& ctx) = 0;
};

// ---- what the actions need of the world ----

struct NotificationRequest {
  std::string dedup_key;
  std::string recipient;
  std::string template_name;
  std::map<std::string, std::string> parameters;
};

// The scheduler's own outbox. Enqueue is idempotent by dedup key (the same key and content
// again is OK and adds nothing).
class Outbox {
 public:
  virtual ~Outbox() = default;
  virtual absl::Status Enqueue(const NotificationRequest& request) = 0;
};

struct OverdueInvoice {
  std::string invoice_number;
  std::string customer_name;
  absl::CivilDay due_date;
  int64_t amount = 0;  // yen, tax included, still open
};

struct MissedBilling {
  std::string project;      // case number and name
  std::string description;  // e.g. "2026-10 月額 (請求日 2026-10-31, 請求OK)"
};

class BillingPeer {
 public:
  virtual ~BillingPeer() = default;
  // Empty when configured; otherwise why not.
  virtual std::string NotConfiguredReason() const = 0;
  // BillingService/RunRenewals; returns a summary ("renewed 3 plans, 0 failures").
  virtual absl::StatusOr<std::string> RunRenewals(absl::CivilDay as_of,
                                                  const std::string& request_id,
                                                  absl::Time deadline) = 0;
  // Invoices past their payment date and not paid, as of `as_of` (UNIMPLEMENTED from a billing
  // release older than the receivables RPCs: the job then says so and goes on).
  virtual absl::StatusOr<std::vector<OverdueInvoice>> OverdueInvoices(absl::CivilDay as_of,
                                                                      absl::Time deadline) = 0;
  // Missed billing (DESIGN.md), as of `as_of` (UNIMPLEMENTED from an older billing, as above).
  virtual absl::StatusOr<std::vector<MissedBilling>> MissedBillings(absl::CivilDay as_of,
                                                                    absl::Time deadline) = 0;
};

struct PartnerReport {
  std::string partner_id;
  std::string partner_name;
  std::string email;        // where requests and reminders go
  absl::CivilMonth period;  // the reporting month
  absl::CivilDay deadline;  // the last day to submit (calendar::ReportDeadlineDay)
};

class ReportPeer {
 public:
  virtual ~ReportPeer() = default;
  virtual std::string NotConfiguredReason() const = 0;
  // Opens the period of `month` (idempotent by request_id) and returns its reports.
  virtual absl::StatusOr<std::vector<PartnerReport>> OpenPeriod(absl::CivilMonth month,
                                                                const std::string& request_id,
                                                                absl::Time deadline) = 0;
  // Reports not yet submitted whose deadline is on or before `as_of`.
  virtual absl::StatusOr<std::vector<PartnerReport>> PendingReports(absl::CivilDay as_of,
                                                                    absl::Time deadline) = 0;
};

// Where alerts to people go (ANKEN_STAFF_EMAIL, ANKEN_ACCOUNTING_EMAIL); empty: not sent (the
// run's summary says so).
struct AlertRecipients {
  std::string staff;
  std::string accounting;
};

// ---- the actions ----

std::unique_ptr<JobAction> MakeRenewalsAction(BillingPeer* billing);
std::unique_ptr<JobAction> MakeOpenReportPeriodAction(ReportPeer* report, Outbox* outbox);
std::unique_ptr<JobAction> MakeReportRemindersAction(ReportPeer* report, Outbox* outbox,
                                                     AlertRecipients recipients);
std::unique_ptr<JobAction> MakeBillingAlertsAction(BillingPeer* billing, Outbox* outbox,
                                                   AlertRecipients recipients);

}  // namespace anken::scheduler
