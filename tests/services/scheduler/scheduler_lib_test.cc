// The scheduler's configuration, the test-only file clock, the SMTP outcome mapping and the
// preparation of outbox rows (no database, no network).

#include <curl/curl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "absl/strings/match.h"
#include "services/scheduler/file_clock.h"
#include "services/scheduler/outbox.h"
#include "services/scheduler/scheduler_config.h"
#include "services/scheduler/smtp_sender.h"

namespace anken::scheduler {
namespace {

TEST(SchedulerConfig, DefaultsFollowTheIssue) {
  absl::StatusOr<SchedulerConfig> c = LoadSchedulerConfig(Env::FromMap({}));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(FormatSchedule(c->schedules.at("renewals")), "daily 00:00");
  EXPECT_EQ(FormatSchedule(c->schedules.at("open_report_period")), "monthly 1 00:00");
  EXPECT_EQ(FormatSchedule(c->schedules.at("report_reminders")), "businessdays 09:00");
  EXPECT_EQ(FormatSchedule(c->schedules.at("billing_alerts")), "daily 09:00");
  EXPECT_EQ(c->tick, absl::Seconds(5));
  EXPECT_EQ(c->lease, absl::Minutes(1));
  EXPECT_EQ(c->horizon, absl::Hours(24 * 35));
  EXPECT_FALSE(c->mail_enabled);
  EXPECT_EQ(c->mail_max_attempts, 8);
  EXPECT_EQ(c->billing_addr, "");
  EXPECT_EQ(c->test_clock_file, "");
  EXPECT_EQ(MailDomain(*c), "anken.invalid");
}

TEST(SchedulerConfig, ReadsEverySetting) {
  absl::StatusOr<SchedulerConfig> c = LoadSchedulerConfig(Env::FromMap({
      {"ANKEN_SCHEDULE_RENEWALS", "daily 01:30"},
      {"ANKEN_SCHEDULE_BILLING_ALERTS", "off"},
      {"ANKEN_SCHEDULER_TICK", "50ms"},
      {"ANKEN_SCHEDULER_LEASE", "10s"},
      {"ANKEN_SCHEDULER_CATCHUP_HORIZON", "7d"},
      {"ANKEN_SMTP_URL", "smtp://127.0.0.1:2525"},
      {"ANKEN_SMTP_STARTTLS", "required"},
      {"ANKEN_MAIL_FROM", "noreply@anken.example.jp"},
      {"ANKEN_MAIL_MAX_ATTEMPTS", "3"},
      {"ANKEN_ACCOUNTING_EMAIL", "keiri@example.jp"},
  }));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(FormatSchedule(c->schedules.at("renewals")), "daily 01:30");
  EXPECT_EQ(c->schedules.at("billing_alerts").kind, Schedule::Kind::kOff);
  EXPECT_EQ(c->tick, absl::Milliseconds(50));
  EXPECT_EQ(c->horizon, absl::Hours(24 * 7));
  EXPECT_TRUE(c->mail_enabled);
  EXPECT_EQ(c->smtp.starttls, StartTls::kRequired);
  EXPECT_EQ(c->mail_max_attempts, 3);
  EXPECT_EQ(c->recipients.accounting, "keiri@example.jp");
  EXPECT_EQ(MailDomain(*c), "anken.example.jp");
  EXPECT_EQ(LoadSchedulerConfig(Env::FromMap({{"ANKEN_SCHEDULER_CATCHUP_HORIZON", "840h"}}))
                ->horizon,
            absl::Hours(840));
}

TEST(SchedulerConfig, NamesEveryBadVariableAtOnce) {
  absl::Status s = LoadSchedulerConfig(Env::FromMap({
                                           {"ANKEN_SCHEDULE_RENEWALS", "hourly"},
                                           {"ANKEN_SCHEDULER_TICK", "1ms"},
                                           {"ANKEN_SCHEDULER_CATCHUP_HORIZON", "xd"},
                                           {"ANKEN_SMTP_URL", "http://mail"},
                                           {"ANKEN_ACCOUNTING_EMAIL", "keiri"},
                                       }))
                       .status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  for (const char* name : {"ANKEN_SCHEDULE_RENEWALS", "ANKEN_SCHEDULER_TICK",
                           "ANKEN_SCHEDULER_CATCHUP_HORIZON", "ANKEN_SMTP_URL", "ANKEN_MAIL_FROM",
                           "ANKEN_ACCOUNTING_EMAIL"}) {
    EXPECT_TRUE(absl::StrContains(s.message(), name)) << name << " in " << s.message();
  }
  // A lease shorter than three ticks could lapse between renewals.
  EXPECT_FALSE(LoadSchedulerConfig(Env::FromMap({{"ANKEN_SCHEDULER_TICK", "5s"},
                                                 {"ANKEN_SCHEDULER_LEASE", "10s"}}))
                   .ok());
}

TEST(SchedulerConfig, TheTestClockNeedsItsExplicitPermission) {
  absl::Status refused =
      LoadSchedulerConfig(Env::FromMap({{"ANKEN_TEST_CLOCK_FILE", "/tmp/x"}})).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(refused.message(), "ANKEN_ALLOW_TEST_CLOCK=1"));
  absl::StatusOr<SchedulerConfig> allowed = LoadSchedulerConfig(
      Env::FromMap({{"ANKEN_TEST_CLOCK_FILE", "/tmp/x"}, {"ANKEN_ALLOW_TEST_CLOCK", "1"}}));
  ASSERT_TRUE(allowed.ok());
  EXPECT_EQ(allowed->test_clock_file, "/tmp/x");
}

TEST(FileClock, FollowsTheFileAndKeepsTheLastGoodTime) {
  char path[] = "/tmp/anken-file-clock-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  auto write = [&](const std::string& text) {
    std::ofstream out(path, std::ios::trunc);
    out << text;
  };
  write("garbage");
  EXPECT_EQ(FileClock::Open(path).status().code(), absl::StatusCode::kInvalidArgument);
  write("2026-04-25T23:00:00+09:00\n");
  absl::StatusOr<std::unique_ptr<FileClock>> clock = FileClock::Open(path);
  ASSERT_TRUE(clock.ok()) << clock.status();
  const absl::Time first = SlotInstant(absl::CivilMinute(2026, 4, 25, 23, 0));
  EXPECT_EQ((*clock)->Now(), first);
  write("2026-05-05T00:00:30+09:00");
  EXPECT_EQ((*clock)->Now(), SlotInstant(absl::CivilMinute(2026, 5, 5, 0, 0)) + absl::Seconds(30));
  write("");  // a writer mid-way: the last good instant holds
  EXPECT_EQ((*clock)->Now(), SlotInstant(absl::CivilMinute(2026, 5, 5, 0, 0)) + absl::Seconds(30));
  std::remove(path);
  EXPECT_EQ((*clock)->Now(), SlotInstant(absl::CivilMinute(2026, 5, 5, 0, 0)) + absl::Seconds(30));
}

TEST(SmtpStatus, PermanentOnlyFor5xxRepliesAboutTheMessage) {
  EXPECT_TRUE(SmtpStatus(CURLE_OK, 250, "").ok());
  absl::Status rejected = SmtpStatus(CURLE_SEND_ERROR, 550, "RCPT failed: 550");
  EXPECT_EQ(rejected.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(rejected.message(), "550"));
  EXPECT_EQ(SmtpStatus(CURLE_SEND_ERROR, 451, "RCPT failed: 451").code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(SmtpStatus(CURLE_COULDNT_CONNECT, 0, "").code(), absl::StatusCode::kUnavailable);
  // After the message: permanent too.
  EXPECT_EQ(SmtpStatus(CURLE_WEIRD_SERVER_REPLY, 554, "").code(),
            absl::StatusCode::kFailedPrecondition);
  // A refused login is our configuration: every message would fail alike, so it waits.
  EXPECT_EQ(SmtpStatus(CURLE_LOGIN_DENIED, 535, "").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(SmtpStatus(CURLE_USE_SSL_FAILED, 0, "").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(SmtpStatus(CURLE_OPERATION_TIMEDOUT, 0, "").code(), absl::StatusCode::kUnavailable);
}

TEST(PrepareNotification, RendersAndDerivesTheMessageIdFromTheKey) {
  NotificationRequest r;
  r.dedup_key = "billing:invoice_issue_request:42";
  r.recipient = "keiri@example.jp";
  r.template_name = "invoice_issue_request";
  r.parameters = {{"project", "P0000042 サンプル"}, {"requested_by", "営業 太郎"}};
  absl::StatusOr<NewNotification> n = PrepareNotification(r, "anken.example.jp");
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(n->subject, "【請求書発行依頼】P0000042 サンプル");
  EXPECT_EQ(n->message_id, MessageIdFor(r.dedup_key, "anken.example.jp"));
  EXPECT_EQ(n->message_id.size(), 1 + 32 + 1 + 16 + 1);
  EXPECT_EQ(MessageIdFor(r.dedup_key, "anken.example.jp"),
            MessageIdFor(r.dedup_key, "anken.example.jp"));
  EXPECT_NE(MessageIdFor("k1", "d.jp"), MessageIdFor("k2", "d.jp"));
  r.recipient = "keiri@example.jp\r\nBcc: x@example.jp";
  EXPECT_EQ(PrepareNotification(r, "d.jp").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace anken::scheduler
