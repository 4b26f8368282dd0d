// SchedulerService through its real gRPC API (in-process host with the real auth interceptor
// and role table) on a real Postgres: roles, ListJobs, TriggerJob's rules, Pause/Resume,
// ListRuns paging with skipped slots, EnqueueNotification's checks and idempotency, and
// ListNotifications.

#include <gtest/gtest.h>

#include <atomic>
#include <set>

#include "absl/strings/match.h"
#include "common/api/proto_time.h"
#include "common/status/errors.h"
#include "services/scheduler/scheduler_service.h"
#include "tests/services/scheduler/scheduler_fixture.h"
#include "tests/support/test_host.h"

namespace anken::scheduler::testing {
namespace {

using auth::Role;
using Stub = v1::SchedulerService::Stub;

class SchedulerServiceTest : public SchedulerDbTest {
 protected:
  SchedulerServiceTest() : page_tokens_("scheduler-service-test-page-token-secret-0123456789") {}

  void SetUp() override {
    SchedulerDbTest::SetUp();
    report_.Disable("ANKEN_REPORT_ADDR is not set");
    reminders_.Disable("ANKEN_REPORT_ADDR is not set");
    jobs_ = {ScheduledJob{FindJobKind("renewals"), MustParse("daily 00:00"), &renewals_},
             ScheduledJob{FindJobKind("open_report_period"), MustParse("monthly 1 00:00"),
                          &report_},
             ScheduledJob{FindJobKind("report_reminders"), MustParse("businessdays 09:00"),
                          &reminders_},
             ScheduledJob{FindJobKind("billing_alerts"), MustParse("daily 09:00"), &alerts_}};
    std::vector<JobSpec> specs;
    for (const auto& j : jobs_) specs.push_back(j.Spec());
    ASSERT_TRUE(store_.EnsureJobs(specs, clock_.Now()).ok());
    service_ = std::make_unique<SchedulerServiceImpl>(store_, clock_, page_tokens_, jobs_,
                                                      "anken.example.jp", [this] { ++wakes_; });
    // Tokens live on their own clock: the tests move the scheduler's clock by days.
    host_ = std::make_unique<anken::testing::TestHost>(
        std::vector<grpc::Service*>{service_.get()}, SchedulerServiceImpl::Roles(), auth_clock_);
    stub_ = v1::SchedulerService::NewStub(host_->channel());
    admin_ = host_->Token(Role::kAdmin, "admin-1");
    staff_ = host_->Token(Role::kStaff, "staff-1");
    service_token_ = host_->Token(Role::kService, "anken-billing");
  }

  void TearDown() override { host_.reset(); }

  template <typename Req, typename Resp>
  absl::StatusOr<Resp> Call(grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Req&, Resp*),
                            const Req& request, const std::string& token) const {
    auto ctx = anken::testing::TestHost::Context(token);
    Resp response;
    grpc::Status status = (stub_.get()->*rpc)(ctx.get(), request, &response);
    if (!status.ok()) return FromGrpcStatus(status);
    return response;
  }

  absl::StatusOr<v1::TriggerJobResponse> Trigger(const std::string& job, absl::Time at,
                                                 const std::string& token) {
    v1::TriggerJobRequest req;
    req.set_job(job);
    api::ToTimestamp(at, req.mutable_slot_time());
    return Call(&Stub::TriggerJob, req, token);
  }

  v1::EnqueueNotificationRequest Reminder(const std::string& key,
                                          const std::string& recipient = "a@example.jp") {
    v1::EnqueueNotificationRequest req;
    req.set_dedup_key(key);
    req.set_recipient(recipient);
    req.set_template_name("report_reminder");
    (*req.mutable_parameters())["partner_name"] = "株式会社A";
    (*req.mutable_parameters())["period"] = "2026年11月";
    (*req.mutable_parameters())["deadline"] = "2026年12月4日（金）";
    return req;
  }

  static std::string Field(const absl::Status& s) {
    std::vector<FieldViolation> v = FieldViolations(s);
    return v.empty() ? "" : v.front().field;
  }

  anken::testing::FakeClock auth_clock_{absl::Now()};
  ScriptedAction renewals_, report_, reminders_, alerts_;
  std::vector<ScheduledJob> jobs_;
  api::PageTokenCodec page_tokens_;
  std::atomic<int> wakes_{0};
  std::unique_ptr<SchedulerServiceImpl> service_;
  std::unique_ptr<anken::testing::TestHost> host_;
  std::unique_ptr<Stub> stub_;
  std::string admin_, staff_, service_token_;
};

TEST_F(SchedulerServiceTest, RolesPerMethod) {
  EXPECT_TRUE(Call(&Stub::ListJobs, v1::ListJobsRequest(), staff_).ok());
  EXPECT_EQ(Call(&Stub::ListJobs, v1::ListJobsRequest(), "").status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(Call(&Stub::ListJobs, v1::ListJobsRequest(),
                 host_->Token(Role::kPartner, "p", "12"))
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Trigger("renewals", Tokyo(2026, 4, 25, 0, 0), staff_).status().code(),
            absl::StatusCode::kPermissionDenied);
  v1::PauseJobRequest pause;
  pause.set_job("renewals");
  EXPECT_EQ(Call(&Stub::PauseJob, pause, staff_).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Call(&Stub::EnqueueNotification, Reminder("k"), staff_).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(Call(&Stub::EnqueueNotification, Reminder("k"), service_token_).ok());
  EXPECT_EQ(Call(&Stub::ListNotifications, v1::ListNotificationsRequest(),
                 host_->Token(Role::kAccounting, "keiri"))
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(Call(&Stub::ListNotifications, v1::ListNotificationsRequest(), staff_).ok());
  // Nothing the refused calls asked for happened.
  EXPECT_EQ(Count("SELECT count(*) FROM scheduler.runs"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM scheduler.jobs WHERE paused"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM scheduler.notifications"), 1);
}

TEST_F(SchedulerServiceTest, ListJobsShowsSchedulesStateNextSlotAndLastRun) {
  auto jobs = Call(&Stub::ListJobs, v1::ListJobsRequest(), staff_);
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  ASSERT_EQ(jobs->jobs_size(), 4);
  const v1::Job& renewals = jobs->jobs(0);
  EXPECT_EQ(renewals.name(), "renewals");
  EXPECT_EQ(renewals.schedule(), "daily 00:00");
  EXPECT_TRUE(renewals.enabled());
  EXPECT_FALSE(renewals.paused());
  EXPECT_EQ(renewals.next_slot(), "2026-04-26T00:00");
  EXPECT_EQ(api::FromTimestamp(renewals.next_slot_time()), Tokyo(2026, 4, 26, 0, 0));
  EXPECT_FALSE(renewals.has_last_run());
  const v1::Job& report = jobs->jobs(1);
  EXPECT_EQ(report.name(), "open_report_period");
  EXPECT_FALSE(report.enabled());
  EXPECT_EQ(report.disabled_reason(), "ANKEN_REPORT_ADDR is not set");
  EXPECT_EQ(report.next_slot(), "");
  EXPECT_EQ(jobs->jobs(2).schedule(), "businessdays 09:00");
  EXPECT_EQ(jobs->jobs(3).name(), "billing_alerts");

  // After a run, the job shows it.
  RunnerOptions options;
  options.owner = "r1";
  JobRunner runner(store_, clock_, jobs_, options, nullptr);
  clock_.Set(Tokyo(2026, 4, 26, 0, 1));
  ASSERT_TRUE(*runner.Step(jobs_[0]));
  jobs = Call(&Stub::ListJobs, v1::ListJobsRequest(), staff_);
  ASSERT_TRUE(jobs.ok());
  const v1::Run& last = jobs->jobs(0).last_run();
  EXPECT_EQ(last.slot(), "2026-04-26T00:00");
  EXPECT_EQ(last.state(), v1::RUN_STATE_SUCCEEDED);
  EXPECT_EQ(last.request_id(), "scheduler:renewals:2026-04-26T00:00");
  EXPECT_EQ(last.summary(), "done 2026-04-26T00:00");
  EXPECT_EQ(jobs->jobs(0).next_slot(), "2026-04-27T00:00");
}

TEST_F(SchedulerServiceTest, TriggerJobRules) {
  clock_.Set(Tokyo(2026, 4, 27, 12, 0));
  EXPECT_EQ(Trigger("nope", Tokyo(2026, 4, 27, 0, 0), admin_).status().code(),
            absl::StatusCode::kNotFound);
  v1::TriggerJobRequest no_slot;
  no_slot.set_job("renewals");
  EXPECT_EQ(Field(Call(&Stub::TriggerJob, no_slot, admin_).status()), "slot_time");
  absl::Status s = Trigger("renewals", Tokyo(2026, 4, 27, 0, 0, 30), admin_).status();
  EXPECT_EQ(ErrorReason(s), "INVALID_SLOT");
  s = Trigger("renewals", Tokyo(2026, 4, 28, 0, 0), admin_).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorReason(s), "SLOT_IN_FUTURE");
  s = Trigger("renewals", Tokyo(2026, 4, 27, 1, 0), admin_).status();
  EXPECT_EQ(ErrorReason(s), "SLOT_NOT_IN_SCHEDULE");
  EXPECT_EQ(Field(s), "slot_time");
  s = Trigger("open_report_period", Tokyo(2026, 4, 1, 0, 0), admin_).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorReason(s), "JOB_DISABLED");
  EXPECT_EQ(wakes_.load(), 0);

  auto first = Trigger("renewals", Tokyo(2026, 4, 20, 0, 0), admin_);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->created());
  EXPECT_EQ(first->run().state(), v1::RUN_STATE_QUEUED);
  EXPECT_EQ(first->run().trigger(), v1::RUN_TRIGGER_MANUAL);
  EXPECT_EQ(first->run().triggered_by(), "admin-1");
  EXPECT_EQ(first->run().request_id(), "scheduler:renewals:2026-04-20T00:00");
  EXPECT_EQ(wakes_.load(), 1);
  auto again = Trigger("renewals", Tokyo(2026, 4, 20, 0, 0), admin_);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created());
  EXPECT_EQ(again->run().id(), first->run().id());
  EXPECT_EQ(Count("SELECT count(*) FROM scheduler.runs"), 1);

  v1::PauseJobRequest pause;
  pause.set_job("renewals");
  pause.set_reason("メンテナンス");
  auto paused = Call(&Stub::PauseJob, pause, admin_);
  ASSERT_TRUE(paused.ok()) << paused.status();
  EXPECT_TRUE(paused->paused());
  EXPECT_EQ(paused->paused_by(), "admin-1");
  EXPECT_EQ(paused->pause_reason(), "メンテナンス");
  EXPECT_EQ(ErrorReason(Trigger("renewals", Tokyo(2026, 4, 21, 0, 0), admin_).status()),
            "JOB_PAUSED");
  v1::ResumeJobRequest resume;
  resume.set_job("renewals");
  auto resumed = Call(&Stub::ResumeJob, resume, admin_);
  ASSERT_TRUE(resumed.ok());
  EXPECT_FALSE(resumed->paused());
  EXPECT_EQ(resumed->pause_reason(), "");
  EXPECT_EQ(wakes_.load(), 2);
  EXPECT_EQ(Count("SELECT count(*) FROM scheduler.audit_events WHERE actor = 'admin-1'"), 3);
}

TEST_F(SchedulerServiceTest, ListRunsPagesLatestFirstAndShowsSkippedSlots) {
  RunnerOptions options;
  options.owner = "r1";
  options.horizon = absl::Hours(24 * 3);
  JobRunner runner(store_, clock_, jobs_, options, nullptr);
  // Six slots missed with a three-day horizon: the two older than 3 days are skipped, four
  // run in order.
  clock_.Set(Tokyo(2026, 5, 1, 0, 0));
  while (*runner.Step(jobs_[0])) {
  }
  v1::ListRunsRequest req;
  req.set_job("renewals");
  req.set_page_size(4);
  auto page1 = Call(&Stub::ListRuns, req, staff_);
  ASSERT_TRUE(page1.ok()) << page1.status();
  ASSERT_EQ(page1->runs_size(), 4);
  EXPECT_EQ(page1->runs(0).slot(), "2026-05-01T00:00");
  EXPECT_EQ(page1->runs(0).state(), v1::RUN_STATE_SUCCEEDED);
  EXPECT_EQ(page1->runs(3).slot(), "2026-04-28T00:00");
  EXPECT_EQ(page1->runs(3).state(), v1::RUN_STATE_SUCCEEDED);
  ASSERT_FALSE(page1->next_page_token().empty());
  req.set_page_token(page1->next_page_token());
  auto page2 = Call(&Stub::ListRuns, req, staff_);
  ASSERT_TRUE(page2.ok()) << page2.status();
  ASSERT_EQ(page2->runs_size(), 2);
  EXPECT_EQ(page2->runs(0).slot(), "2026-04-27T00:00");
  EXPECT_EQ(page2->runs(0).state(), v1::RUN_STATE_SKIPPED);
  EXPECT_EQ(page2->runs(0).error_code(), "BEYOND_CATCHUP_HORIZON");
  EXPECT_TRUE(absl::StrContains(page2->runs(0).error(), "catch-up horizon"));
  EXPECT_TRUE(page2->next_page_token().empty());
  // The run order the action saw: oldest first.
  std::vector<std::string> seen;
  for (const JobContext& c : renewals_.calls()) seen.push_back(SlotKey(c.slot));
  EXPECT_EQ(seen, (std::vector<std::string>{"2026-04-28T00:00", "2026-04-29T00:00",
                                            "2026-04-30T00:00", "2026-05-01T00:00"}));

  v1::ListRunsRequest skipped;
  skipped.set_job("renewals");
  skipped.add_states(v1::RUN_STATE_SKIPPED);
  auto only = Call(&Stub::ListRuns, skipped, staff_);
  ASSERT_TRUE(only.ok());
  EXPECT_EQ(only->runs_size(), 2);  // 4/26 and 4/27

  // A token of another filter, an unknown job, a missing job.
  skipped.set_page_token(page1->next_page_token());
  EXPECT_EQ(Field(Call(&Stub::ListRuns, skipped, staff_).status()), "page_token");
  v1::ListRunsRequest unknown;
  unknown.set_job("nope");
  EXPECT_EQ(Call(&Stub::ListRuns, unknown, staff_).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Field(Call(&Stub::ListRuns, v1::ListRunsRequest(), staff_).status()), "job");
}

// Error messages never quote a client's value (a name may be long or hostile and messages
// end up in logs and UIs): they name the allowed values instead.
TEST_F(SchedulerServiceTest, ErrorMessagesNameTheAllowedValuesNotTheClientsValue) {
  clock_.Set(Tokyo(2026, 4, 27, 12, 0));
  const std::string jobs_message =
      "no such job; the jobs are renewals, open_report_period, report_reminders, billing_alerts";
  for (const std::string& hostile :
       {std::string(1000, 'x'), std::string("<script>alert(1)</script>")}) {
    SCOPED_TRACE(hostile.substr(0, 20));
    v1::ListRunsRequest list;
    list.set_job(hostile);
    v1::PauseJobRequest pause;
    pause.set_job(hostile);
    v1::ResumeJobRequest resume;
    resume.set_job(hostile);
    for (const absl::Status& s : {Trigger(hostile, Tokyo(2026, 4, 27, 0, 0), admin_).status(),
                                  Call(&Stub::ListRuns, list, staff_).status(),
                                  Call(&Stub::PauseJob, pause, admin_).status(),
                                  Call(&Stub::ResumeJob, resume, admin_).status()}) {
      EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
      EXPECT_EQ(ErrorReason(s), "JOB_NOT_FOUND");
      EXPECT_EQ(std::string(s.message()), jobs_message);
    }

    auto bad_template = Reminder("k1");
    bad_template.set_template_name(hostile);
    absl::Status s = Call(&Stub::EnqueueNotification, bad_template, service_token_).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(ErrorReason(s), "UNKNOWN_TEMPLATE");
    EXPECT_EQ(Field(s), "template_name");
    // templates_test has the whole message; here: it reaches the client without the value.
    EXPECT_TRUE(absl::StartsWith(s.message(), "template_name: is not a known template; one of "))
        << s.message();
    EXPECT_FALSE(absl::StrContains(s.message(), hostile));

    auto bad_parameter = Reminder("k1");
    (*bad_parameter.mutable_parameters())[hostile] = "x";
    s = Call(&Stub::EnqueueNotification, bad_parameter, service_token_).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(ErrorReason(s), "UNKNOWN_PARAMETER");
    EXPECT_EQ(Field(s), "parameters");
    EXPECT_EQ(std::string(s.message()),
              "parameters: template report_reminder takes only deadline, partner_name, period, "
              "portal_url");
    EXPECT_FALSE(absl::StrContains(s.message(), "<script>"));
  }
  EXPECT_EQ(Count("SELECT count(*) FROM scheduler.notifications"), 0);
  EXPECT_EQ(wakes_.load(), 0);
}

TEST_F(SchedulerServiceTest, EnqueueNotificationValidatesRendersAndIsIdempotent) {
  auto bad_recipient = Reminder("k1", "not an address");
  EXPECT_EQ(Field(Call(&Stub::EnqueueNotification, bad_recipient, service_token_).status()),
            "recipient");
  auto bad_template = Reminder("k1");
  bad_template.set_template_name("nope");
  EXPECT_EQ(Field(Call(&Stub::EnqueueNotification, bad_template, service_token_).status()),
            "template_name");
  auto missing = Reminder("k1");
  missing.mutable_parameters()->erase("deadline");
  absl::Status s = Call(&Stub::EnqueueNotification, missing, service_token_).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Field(s), "parameters[deadline]");
  auto bad_key = Reminder("has space");
  EXPECT_EQ(Field(Call(&Stub::EnqueueNotification, bad_key, service_token_).status()),
            "dedup_key");
  EXPECT_EQ(Count("SELECT count(*) FROM scheduler.notifications"), 0);

  auto created = Call(&Stub::EnqueueNotification, Reminder("k1"), service_token_);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->state(), v1::NOTIFICATION_STATE_PENDING);
  EXPECT_EQ(created->subject(),
            "【リマインド】2026年11月分 実績報告のご提出のお願い（期限：2026年12月4日（金））");
  EXPECT_TRUE(absl::StrContains(created->body(), "株式会社A ご担当者様"));
  EXPECT_TRUE(absl::StartsWith(created->message_id(), "<"));
  EXPECT_TRUE(absl::EndsWith(created->message_id(), "@anken.example.jp>"));
  EXPECT_EQ(created->created_by(), "anken-billing");
  EXPECT_EQ(created->parameters().at("period"), "2026年11月");

  auto replay = Call(&Stub::EnqueueNotification, Reminder("k1"), service_token_);
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(replay->id(), created->id());
  EXPECT_EQ(replay->message_id(), created->message_id());
  auto reused = Call(&Stub::EnqueueNotification, Reminder("k1", "b@example.jp"), service_token_);
  EXPECT_EQ(reused.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ErrorReason(reused.status()), "DEDUP_KEY_REUSED");
  // Another key: another Message-ID.
  auto other = Call(&Stub::EnqueueNotification, Reminder("k2"), service_token_);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->message_id(), created->message_id());
  EXPECT_EQ(Count("SELECT count(*) FROM scheduler.notifications"), 2);
}

TEST_F(SchedulerServiceTest, ListNotificationsFiltersAndPagesNewestFirst) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(
        Call(&Stub::EnqueueNotification, Reminder("r" + std::to_string(i)), service_token_).ok());
  }
  v1::EnqueueNotificationRequest issue;
  issue.set_dedup_key("billing:invoice_issue_request:1");
  issue.set_recipient("keiri@example.jp");
  issue.set_template_name("invoice_issue_request");
  (*issue.mutable_parameters())["project"] = "P0000001 サンプル";
  (*issue.mutable_parameters())["requested_by"] = "営業 太郎";
  ASSERT_TRUE(Call(&Stub::EnqueueNotification, issue, admin_).ok());

  v1::ListNotificationsRequest req;
  req.set_page_size(4);
  auto page1 = Call(&Stub::ListNotifications, req, staff_);
  ASSERT_TRUE(page1.ok()) << page1.status();
  ASSERT_EQ(page1->notifications_size(), 4);
  EXPECT_EQ(page1->notifications(0).template_name(), "invoice_issue_request");
  req.set_page_token(page1->next_page_token());
  auto page2 = Call(&Stub::ListNotifications, req, staff_);
  ASSERT_TRUE(page2.ok());
  EXPECT_EQ(page2->notifications_size(), 2);
  EXPECT_TRUE(page2->next_page_token().empty());
  std::set<int64_t> ids;
  for (const auto& n : page1->notifications()) ids.insert(n.id());
  for (const auto& n : page2->notifications()) ids.insert(n.id());
  EXPECT_EQ(ids.size(), 6u);

  v1::ListNotificationsRequest by_template;
  by_template.set_template_name("invoice_issue_request");
  auto one = Call(&Stub::ListNotifications, by_template, staff_);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->notifications_size(), 1);
  EXPECT_EQ(one->notifications(0).recipient(), "keiri@example.jp");
  v1::ListNotificationsRequest sent;
  sent.add_states(v1::NOTIFICATION_STATE_SENT);
  EXPECT_EQ(Call(&Stub::ListNotifications, sent, staff_)->notifications_size(), 0);
  v1::ListNotificationsRequest bad;
  bad.add_states(static_cast<v1::NotificationState>(9));
  EXPECT_EQ(Field(Call(&Stub::ListNotifications, bad, staff_).status()), "states");
}

}  // namespace
}  // namespace anken::scheduler::testing
