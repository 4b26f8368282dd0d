// What each job kind does, with fake peers and a fake outbox (pure).

#include "services/scheduler/jobs.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "common/calendar/calendar.h"

namespace anken::scheduler {
namespace {

class FakeOutbox final : public Outbox {
 public:
  absl::Status Enqueue(const NotificationRequest& r) override {
    if (fail_next) {
      fail_next = false;
      return absl::UnavailableError("database down");
    }
    auto it = by_key.find(r.dedup_key);
    if (it == by_key.end()) {
      by_key[r.dedup_key] = r;
      order.push_back(r.dedup_key);
    }
    return absl::OkStatus();
  }
  bool fail_next = false;
  std::map<std::string, NotificationRequest> by_key;
  std::vector<std::string> order;
};

class FakeBilling final : public BillingPeer {
 public:
  std::string NotConfiguredReason() const override { return reason; }
  absl::StatusOr<std::string> RunRenewals(absl::CivilDay as_of, const std::string& request_id,
                                          absl::Time) override {
    calls.emplace_back(as_of, request_id);
    if (!renewals_status.ok()) return renewals_status;
    return std::string("renewed 2 plans");
  }
  absl::StatusOr<std::vector<OverdueInvoice>> OverdueInvoices(absl::CivilDay,
                                                              absl::Time) override {
    if (!alerts_available) return absl::UnimplementedError("not yet");
    return overdue;
  }
  absl::StatusOr<std::vector<MissedBilling>> MissedBillings(absl::CivilDay, absl::Time) override {
    if (!alerts_available) return absl::UnimplementedError("not yet");
    return missed;
  }
  std::string reason;
  absl::Status renewals_status;
  bool alerts_available = false;
  std::vector<OverdueInvoice> overdue;
  std::vector<MissedBilling> missed;
  std::vector<std::pair<absl::CivilDay, std::string>> calls;
};

class FakeReport final : public ReportPeer {
 public:
  std::string NotConfiguredReason() const override { return ""; }
  absl::StatusOr<std::vector<PartnerReport>> OpenPeriod(absl::CivilMonth month,
                                                        const std::string& request_id,
                                                        absl::Time) override {
    opened.emplace_back(month, request_id);
    std::vector<PartnerReport> out = reports;
    for (auto& r : out) {
      r.period = month;
      r.deadline = calendar::ReportDeadlineDay(month);
    }
    return out;
  }
  absl::StatusOr<std::vector<PartnerReport>> PendingReports(absl::CivilDay as_of,
                                                            absl::Time) override {
    std::vector<PartnerReport> out;
    for (const auto& r : pending) {
      if (r.deadline <= as_of) out.push_back(r);
    }
    return out;
  }
  std::vector<PartnerReport> reports;
  std::vector<PartnerReport> pending;
  std::vector<std::pair<absl::CivilMonth, std::string>> opened;
};

JobContext Context(const std::string& job, absl::CivilMinute slot) {
  JobContext ctx;
  ctx.job = job;
  ctx.slot = slot;
  ctx.request_id = RequestIdFor(job, slot);
  ctx.now = SlotInstant(slot);
  return ctx;
}

PartnerReport Partner(const std::string& id, const std::string& name, const std::string& email) {
  PartnerReport r;
  r.partner_id = id;
  r.partner_name = name;
  r.email = email;
  return r;
}

TEST(JobKinds, DefaultsAndEnvNames) {
  ASSERT_EQ(JobKinds().size(), 4u);
  EXPECT_EQ(FindJobKind("renewals")->default_schedule, "daily 00:00");
  EXPECT_EQ(FindJobKind("open_report_period")->default_schedule, "monthly 1 00:00");
  EXPECT_EQ(FindJobKind("report_reminders")->default_schedule, "businessdays 09:00");
  EXPECT_EQ(FindJobKind("billing_alerts")->default_schedule, "daily 09:00");
  EXPECT_EQ(FindJobKind("billing_alerts")->env_name, "ANKEN_SCHEDULE_BILLING_ALERTS");
  EXPECT_EQ(FindJobKind("nope"), nullptr);
  for (const JobKind& k : JobKinds()) EXPECT_TRUE(ParseSchedule(k.default_schedule).ok());
}

TEST(Renewals, CallsBillingWithTheSlotsDayAndRequestId) {
  FakeBilling billing;
  auto action = MakeRenewalsAction(&billing);
  EXPECT_EQ(action->DisabledReason(), "");
  absl::StatusOr<std::string> out =
      action->Run(Context("renewals", absl::CivilMinute(2026, 11, 25, 0, 0)));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, "renewed 2 plans");
  ASSERT_EQ(billing.calls.size(), 1u);
  EXPECT_EQ(billing.calls[0].first, absl::CivilDay(2026, 11, 25));
  EXPECT_EQ(billing.calls[0].second, "scheduler:renewals:2026-11-25T00:00");
  billing.renewals_status = absl::UnavailableError("billing down");
  EXPECT_EQ(action->Run(Context("renewals", absl::CivilMinute(2026, 11, 26, 0, 0))).status().code(),
            absl::StatusCode::kUnavailable);
  billing.reason = "ANKEN_BILLING_ADDR is not set";
  EXPECT_EQ(action->DisabledReason(), "ANKEN_BILLING_ADDR is not set");
}

TEST(OpenReportPeriod, OpensTheMonthAndAsksEveryPartnerOnce) {
  FakeReport report;
  FakeOutbox outbox;
  report.reports = {Partner("11", "株式会社A", "a@example.jp"), Partner("12", "B商店", ""),
                    Partner("13", "C工務店", "c@example.jp")};
  auto action = MakeOpenReportPeriodAction(&report, &outbox);
  const JobContext ctx = Context("open_report_period", absl::CivilMinute(2026, 12, 1, 0, 0));
  ASSERT_TRUE(action->Run(ctx).ok());
  ASSERT_EQ(report.opened.size(), 1u);
  EXPECT_EQ(report.opened[0].first, absl::CivilMonth(2026, 12));
  EXPECT_EQ(report.opened[0].second, "scheduler:open_report_period:2026-12-01T00:00");
  ASSERT_EQ(outbox.order.size(), 2u);  // B has no address
  const NotificationRequest& a = outbox.by_key.at("scheduler:report_request:2026-12:11");
  EXPECT_EQ(a.recipient, "a@example.jp");
  EXPECT_EQ(a.template_name, "monthly_report_request");
  EXPECT_EQ(a.parameters.at("period"), "2026年12月");
  // The 4th business day of December 2026: 1 (Tue), 2, 3, 4 (Fri).
  EXPECT_EQ(a.parameters.at("deadline"), "2026年12月4日（金）");
  // A takeover repeats the run: same keys, nothing new.
  ASSERT_TRUE(action->Run(ctx).ok());
  EXPECT_EQ(outbox.order.size(), 2u);
}

TEST(ReportReminders, OnTheDeadlineDayAndAfterWithASummaryToStaff) {
  FakeReport report;
  FakeOutbox outbox;
  PartnerReport a = Partner("11", "株式会社A", "a@example.jp");
  a.period = absl::CivilMonth(2026, 12);
  a.deadline = absl::CivilDay(2026, 12, 4);
  PartnerReport b = Partner("12", "B商店", "b@example.jp");
  b.period = absl::CivilMonth(2026, 12);
  b.deadline = absl::CivilDay(2026, 12, 4);
  report.pending = {a, b};
  auto action = MakeReportRemindersAction(&report, &outbox, {"staff@example.jp", ""});

  // Before the deadline: nothing.
  absl::StatusOr<std::string> before =
      action->Run(Context("report_reminders", absl::CivilMinute(2026, 12, 3, 9, 0)));
  ASSERT_TRUE(before.ok());
  EXPECT_TRUE(outbox.order.empty());

  // On the deadline day: reminders, no overdue summary yet.
  ASSERT_TRUE(action->Run(Context("report_reminders", absl::CivilMinute(2026, 12, 4, 9, 0))).ok());
  EXPECT_EQ(outbox.order,
            (std::vector<std::string>{"scheduler:report_reminder:2026-12:11:2026-12-04",
                                      "scheduler:report_reminder:2026-12:12:2026-12-04"}));

  // The next business day: reminders again, and the summary to staff.
  absl::StatusOr<std::string> after =
      action->Run(Context("report_reminders", absl::CivilMinute(2026, 12, 7, 9, 0)));
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(outbox.order.size(), 5u);
  const NotificationRequest& summary =
      outbox.by_key.at("scheduler:report_overdue_summary:2026-12-07");
  EXPECT_EQ(summary.recipient, "staff@example.jp");
  EXPECT_EQ(summary.template_name, "report_overdue_summary");
  EXPECT_EQ(summary.parameters.at("count"), "2");
  EXPECT_TRUE(absl::StrContains(summary.parameters.at("partners"), "株式会社A"));
  EXPECT_TRUE(absl::StrContains(summary.parameters.at("partners"), "B商店"));
  EXPECT_TRUE(absl::StrContains(*after, "overdue summary of 2"));
}

TEST(ReportReminders, AFailedEnqueueFailsTheAttemptAndARetryAddsNothingTwice) {
  FakeReport report;
  FakeOutbox outbox;
  PartnerReport a = Partner("11", "株式会社A", "a@example.jp");
  a.period = absl::CivilMonth(2026, 12);
  a.deadline = absl::CivilDay(2026, 12, 4);
  report.pending = {a};
  auto action = MakeReportRemindersAction(&report, &outbox, {"", ""});
  const JobContext ctx = Context("report_reminders", absl::CivilMinute(2026, 12, 7, 9, 0));
  outbox.fail_next = true;
  EXPECT_EQ(action->Run(ctx).status().code(), absl::StatusCode::kUnavailable);
  absl::StatusOr<std::string> retried = action->Run(ctx);
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(outbox.order.size(), 1u);
  EXPECT_TRUE(absl::StrContains(*retried, "ANKEN_STAFF_EMAIL is not set"));
}

TEST(BillingAlerts, NothingToReportWhileBillingLacksTheRpcs) {
  FakeBilling billing;
  FakeOutbox outbox;
  auto action = MakeBillingAlertsAction(&billing, &outbox, {"", "keiri@example.jp"});
  absl::StatusOr<std::string> out =
      action->Run(Context("billing_alerts", absl::CivilMinute(2026, 12, 7, 9, 0)));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(outbox.order.empty());
  EXPECT_TRUE(absl::StrContains(*out, "not offered by this billing release"));
}

TEST(BillingAlerts, OverdueAndMissedGoToAccounting) {
  FakeBilling billing;
  FakeOutbox outbox;
  billing.alerts_available = true;
  billing.overdue = {{"INV-2026-0001", "株式会社A", absl::CivilDay(2026, 11, 30), 110000},
                     {"INV-2026-0002", "B商店", absl::CivilDay(2026, 11, 30), 1234567}};
  billing.missed = {{"P0000001 サンプル", "2026-10 月額 (請求日 2026-10-31, 請求OK)"}};
  auto action = MakeBillingAlertsAction(&billing, &outbox, {"", "keiri@example.jp"});
  ASSERT_TRUE(action->Run(Context("billing_alerts", absl::CivilMinute(2026, 12, 7, 9, 0))).ok());
  ASSERT_EQ(outbox.order.size(), 2u);
  const NotificationRequest& overdue = outbox.by_key.at("scheduler:overdue_invoice_list:2026-12-07");
  EXPECT_EQ(overdue.recipient, "keiri@example.jp");
  EXPECT_EQ(overdue.parameters.at("count"), "2");
  EXPECT_EQ(overdue.parameters.at("total"), "1,344,567円");
  EXPECT_TRUE(absl::StrContains(overdue.parameters.at("items"), "INV-2026-0002 B商店 1,234,567円"));
  const NotificationRequest& missed = outbox.by_key.at("scheduler:missed_billing_alert:2026-12-07");
  EXPECT_EQ(missed.template_name, "missed_billing_alert");
  EXPECT_EQ(missed.parameters.at("count"), "1");
}

}  // namespace
}  // namespace anken::scheduler
