#include "services/scheduler/jobs.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/jp/format.h"

namespace anken::scheduler {
namespace {

std::string DayKey(absl::CivilDay day) {
  return absl::StrFormat("%04d-%02d-%02d", day.year(), day.month(), day.day());
}
std::string MonthKey(absl::CivilMonth month) {
  return absl::StrFormat("%04d-%02d", month.year(), month.month());
}

// Enqueues each request; stops at the first failure (the run is retried, and the ones already
// enqueued are no-ops then, by their dedup keys).
absl::Status EnqueueAll(Outbox& outbox, const std::vector<NotificationRequest>& requests) {
  for (const NotificationRequest& r : requests) {
    if (absl::Status s = outbox.Enqueue(r); !s.ok()) return s;
  }
  return absl::OkStatus();
}

class RenewalsAction final : public JobAction {
 public:
  explicit RenewalsAction(BillingPeer* billing) : billing_(billing) {}
  std::string DisabledReason() const override { return billing_->NotConfiguredReason(); }
  absl::StatusOr<std::string> Run(const JobContext& ctx) override {
    return billing_->RunRenewals(absl::CivilDay(ctx.slot), ctx.request_id, ctx.deadline);
  }

 private:
  BillingPeer* billing_;
};

class OpenReportPeriodAction final : public JobAction {
 public:
  OpenReportPeriodAction(ReportPeer* report, Outbox* outbox) : report_(report), outbox_(outbox) {}
  std::string DisabledReason() const override { return report_->NotConfiguredReason(); }
  absl::StatusOr<std::string> Run(const JobContext& ctx) override {
    const absl::CivilMonth month(ctx.slot);
    absl::StatusOr<std::vector<PartnerReport>> reports =
        report_->OpenPeriod(month, ctx.request_id, ctx.deadline);
    if (!reports.ok()) return reports.status();
    std::vector<NotificationRequest> mail;
    for (const PartnerReport& r : *reports) {
      if (r.email.empty()) continue;
      mail.push_back(NotificationRequest{
          absl::StrCat("scheduler:report_request:", MonthKey(r.period), ":", r.partner_id),
          r.email,
          "monthly_report_request",
          {{"partner_name", r.partner_name},
           {"period", JapaneseMonth(r.period)},
           {"deadline", JapaneseDate(r.deadline)}}});
    }
    if (absl::Status s = EnqueueAll(*outbox_, mail); !s.ok()) return s;
    return absl::StrCat("opened ", JapaneseMonth(month), " with ", reports->size(),
                        " reports; ", mail.size(), " requests queued");
  }

 private:
  ReportPeer* report_;
  Outbox* outbox_;
};

class ReportRemindersAction final : public JobAction {
 public:
  ReportRemindersAction(ReportPeer* report, Outbox* outbox, AlertRecipients recipients)
      : report_(report), outbox_(outbox), recipients_(std::move(recipients)) {}
  std::string DisabledReason() const override { return report_->NotConfiguredReason(); }
  absl::StatusOr<std::string> Run(const JobContext& ctx) override {
    const absl::CivilDay today(ctx.slot);
    absl::StatusOr<std::vector<PartnerReport>> pending =
        report_->PendingReports(today, ctx.deadline);
    if (!pending.ok()) return pending.status();
    std::vector<NotificationRequest> mail;
    std::vector<std::string> overdue_lines;
    for (const PartnerReport& r : *pending) {
      if (r.deadline > today) continue;  // not due yet: the peer should not list it anyway
      if (r.deadline < today) {
        overdue_lines.push_back(absl::StrCat("・", r.partner_name, "（", JapaneseMonth(r.period),
                                             "分、期限 ", JapaneseDate(r.deadline), "）"));
      }
      if (r.email.empty()) continue;
      mail.push_back(NotificationRequest{
          absl::StrCat("scheduler:report_reminder:", MonthKey(r.period), ":", r.partner_id, ":",
                       DayKey(today)),
          r.email,
          "report_reminder",
          {{"partner_name", r.partner_name},
           {"period", JapaneseMonth(r.period)},
           {"deadline", JapaneseDate(r.deadline)}}});
    }
    std::string summary = absl::StrCat(mail.size(), " reminders queued");
    if (!overdue_lines.empty()) {
      if (recipients_.staff.empty()) {
        absl::StrAppend(&summary, "; ", overdue_lines.size(),
                        " overdue, no summary sent (ANKEN_STAFF_EMAIL is not set)");
      } else {
        mail.push_back(NotificationRequest{
            absl::StrCat("scheduler:report_overdue_summary:", DayKey(today)),
            recipients_.staff,
            "report_overdue_summary",
            {{"as_of", JapaneseDate(today)},
             {"count", absl::StrCat(overdue_lines.size())},
             {"partners", absl::StrJoin(overdue_lines, "\n")}}});
        absl::StrAppend(&summary, "; overdue summary of ", overdue_lines.size(), " sent to staff");
      }
    }
    if (absl::Status s = EnqueueAll(*outbox_, mail); !s.ok()) return s;
    return summary;
  }

 private:
  ReportPeer* report_;
  Outbox* outbox_;
  AlertRecipients recipients_;
};

class BillingAlertsAction final : public JobAction {
 public:
  BillingAlertsAction(BillingPeer* billing, Outbox* outbox, AlertRecipients recipients)
      : billing_(billing), outbox_(outbox), recipients_(std::move(recipients)) {}
  std::string DisabledReason() const override { return billing_->NotConfiguredReason(); }
  absl::StatusOr<std::string> Run(const JobContext& ctx) override {
    const absl::CivilDay today(ctx.slot);
    std::vector<NotificationRequest> mail;
    std::vector<std::string> summary;

    absl::StatusOr<std::vector<OverdueInvoice>> overdue =
        billing_->OverdueInvoices(today, ctx.deadline);
    if (overdue.status().code() == absl::StatusCode::kUnimplemented) {
      summary.push_back("overdue invoices: not offered by this billing release");
    } else if (!overdue.ok()) {
      return overdue.status();
    } else if (!overdue->empty()) {
      int64_t total = 0;
      std::vector<std::string> lines;
      for (const OverdueInvoice& i : *overdue) {
        total += i.amount;
        lines.push_back(absl::StrCat("・", i.invoice_number, " ", i.customer_name, " ",
                                     jp::FormatYenSuffix(i.amount), "（支払期日 ", JapaneseDate(i.due_date),
                                     "）"));
      }
      summary.push_back(absl::StrCat("overdue invoices: ", overdue->size()));
      if (!recipients_.accounting.empty()) {
        mail.push_back(NotificationRequest{
            absl::StrCat("scheduler:overdue_invoice_list:", DayKey(today)),
            recipients_.accounting,
            "overdue_invoice_list",
            {{"as_of", JapaneseDate(today)},
             {"count", absl::StrCat(overdue->size())},
             {"total", jp::FormatYenSuffix(total)},
             {"items", absl::StrJoin(lines, "\n")}}});
      }
    } else {
      summary.push_back("overdue invoices: none");
    }

    absl::StatusOr<std::vector<MissedBilling>> missed =
        billing_->MissedBillings(today, ctx.deadline);
    if (missed.status().code() == absl::StatusCode::kUnimplemented) {
      summary.push_back("missed billing: not offered by this billing release");
    } else if (!missed.ok()) {
      return missed.status();
    } else if (!missed->empty()) {
      std::vector<std::string> lines;
      for (const MissedBilling& m : *missed) {
        lines.push_back(absl::StrCat("・", m.project, " ", m.description));
      }
      summary.push_back(absl::StrCat("missed billing: ", missed->size()));
      if (!recipients_.accounting.empty()) {
        mail.push_back(NotificationRequest{
            absl::StrCat("scheduler:missed_billing_alert:", DayKey(today)),
            recipients_.accounting,
            "missed_billing_alert",
            {{"as_of", JapaneseDate(today)},
             {"count", absl::StrCat(missed->size())},
             {"items", absl::StrJoin(lines, "\n")}}});
      }
    } else {
      summary.push_back("missed billing: none");
    }

    const bool found = (overdue.ok() && !overdue->empty()) || (missed.ok() && !missed->empty());
    if (found && recipients_.accounting.empty()) {
      summary.push_back("no alert sent (ANKEN_ACCOUNTING_EMAIL is not set)");
    }
    if (absl::Status s = EnqueueAll(*outbox_, mail); !s.ok()) return s;
    return absl::StrJoin(summary, "; ");
  }

 private:
  BillingPeer* billing_;
  Outbox* outbox_;
  AlertRecipients recipients_;
};

}  // namespace

const std::vector<JobKind>& JobKinds() {
  static const auto* kinds = new std::vector<JobKind>{
      {"renewals", "自動更新: billing RunRenewals for the day", "daily 00:00",
       "ANKEN_SCHEDULE_RENEWALS"},
      {"open_report_period", "実績報告の受付開始: report OpenPeriod and requests to partners",
       "monthly 1 00:00", "ANKEN_SCHEDULE_OPEN_REPORT_PERIOD"},
      {"report_reminders",
       "実績報告のリマインド: partners not submitted on and after the deadline, summary to staff",
       "businessdays 09:00", "ANKEN_SCHEDULE_REPORT_REMINDERS"},
      {"billing_alerts", "入金遅延・請求漏れのアラート to accounting", "daily 09:00",
       "ANKEN_SCHEDULE_BILLING_ALERTS"},
  };
  return *kinds;
}

const JobKind* FindJobKind(absl::string_view name) {
  for (const JobKind& k : JobKinds()) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

std::unique_ptr<JobAction> MakeRenewalsAction(BillingPeer* billing) {
  return std::make_unique<RenewalsAction>(billing);
}
std::unique_ptr<JobAction> MakeOpenReportPeriodAction(ReportPeer* report, Outbox* outbox) {
  return std::make_unique<OpenReportPeriodAction>(report, outbox);
}
std::unique_ptr<JobAction> MakeReportRemindersAction(ReportPeer* report, Outbox* outbox,
                                                     AlertRecipients recipients) {
  return std::make_unique<ReportRemindersAction>(report, outbox, std::move(recipients));
}
std::unique_ptr<JobAction> MakeBillingAlertsAction(BillingPeer* billing, Outbox* outbox,
                                                   AlertRecipients recipients) {
  return std::make_unique<BillingAlertsAction>(billing, outbox, std::move(recipients));
}

}  // namespace anken::scheduler
