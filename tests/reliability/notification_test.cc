// Reliability: the notification relay killed after the SMTP server accepted a message but
// before it marked the message sent.
//
// Real processes on loopback: anken-customer, anken-project and anken-report (two partner
// stores with a case in progress, the month's period opened) and anken-scheduler, which runs
// the report_reminders job and delivers its mail to smtp_trap. The trap is armed: at the end of
// the first message's DATA it stops the scheduler (SIGSTOP), replies 250 and kills it
// (SIGKILL), so the server has the message and the outbox still says PENDING. A new scheduler
// process (once the dead one's delivery lease lapses on the test clock) delivers the outbox
// again: the duplicate carries the same Message-ID as the first copy, and each partner's
// reminder is one outbox row (one dedup key). A second run of the reminder job for the same day
// queues no second reminder.

#include <gtest/gtest.h>

#include <signal.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "anken/customer/v1/customer_service.grpc.pb.h"
#include "anken/project/v1/project_service.grpc.pb.h"
#include "anken/report/v1/report_service.grpc.pb.h"
#include "anken/scheduler/v1/scheduler_service.grpc.pb.h"
#include "common/clock/clock.h"
#include "tests/reliability/fault_support.h"
#include "tests/reliability/reliability_support.h"
#include "tests/reliability/smtp_trap.h"
#include "tests/services/scheduler/scheduler_process.h"
#include "tests/support/test_database.h"

namespace anken::reliability {
namespace {

using scheduler::testing::TestClockFile;
using scheduler::testing::WaitUntil;

constexpr char kScenario[] = "notification relay killed after SMTP accept";
constexpr char kMailFrom[] = "noreply@reliability.example.jp";

common::v1::Date DateProto(absl::CivilDay d) {
  common::v1::Date out;
  out.set_year(static_cast<int32_t>(d.year()));
  out.set_month(d.month());
  out.set_day(d.day());
  return out;
}

struct OutboxRow {
  std::string dedup_key, recipient, message_id, lease_owner;
  int state = 0;
  int attempts = 0;
  bool sent_time = false;
};

// The report reminders in the outbox, by dedup key.
std::map<std::string, OutboxRow> Reminders(pqxx::connection& c) {
  std::map<std::string, OutboxRow> out;
  pqxx::nontransaction tx(c);
  for (const pqxx::row& r : tx.exec(
           "SELECT dedup_key, recipient, message_id, coalesce(lease_owner, ''), state, "
           "attempts, sent_time IS NOT NULL FROM scheduler.notifications "
           "WHERE template_name = 'report_reminder'")) {
    OutboxRow row;
    row.dedup_key = r[0].as<std::string>();
    row.recipient = r[1].as<std::string>();
    row.message_id = r[2].as<std::string>();
    row.lease_owner = r[3].as<std::string>();
    row.state = r[4].as<int>();
    row.attempts = r[5].as<int>();
    row.sent_time = r[6].as<bool>();
    out[row.dedup_key] = row;
  }
  return out;
}

TEST(NotificationRelayTest, KilledAfterSmtpAcceptResendsWithTheSameMessageIdAndRemindsOnce) {
  anken::testing::ScratchDatabase db("rel_notify");
  std::map<std::string, std::string> env = ServiceEnv(db.url());
  absl::StatusOr<PeerServices> peers =
      MigrateAndStartPeers({ANKEN_REPORT_BIN, ANKEN_SCHEDULER_BIN}, &env);
  ASSERT_TRUE(peers.ok()) << peers.status();
  std::map<std::string, std::string> report_env = env;
  report_env["ANKEN_BILLING_ADDR"] = "127.0.0.1:1";  // nothing is submitted: no effects
  report_env["ANKEN_REPORT_EFFECT_INTERVAL"] = "1h";
  auto report = ServiceProcess::Start(ANKEN_REPORT_BIN, report_env);
  ASSERT_TRUE(report.ok()) << report.status();

  // Two partner stores, each with one referred case in progress, through the APIs.
  const std::string staff = Token(auth::Role::kStaff, "reliability-staff");
  auto customers = customer::v1::CustomerService::NewStub(peers->customer->Channel());
  auto projects = project::v1::ProjectService::NewStub(peers->project->Channel());
  const absl::CivilDay today = TokyoToday(SystemClock());
  customer::v1::Customer end_customer;
  {
    grpc::ClientContext ctx;
    Authorize(&ctx, staff);
    grpc::Status s = customers->CreateCustomer(
        &ctx, CustomerRequest("notify-end-customer", "株式会社エンド"), &end_customer);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  std::map<int64_t, std::string> partner_email;  // partner id -> its address
  for (const char* letter : {"a", "b"}) {
    customer::v1::CreateCustomerRequest req =
        CustomerRequest(absl::StrCat("notify-partner-", letter),
                        absl::StrCat("株式会社加盟店", letter));
    req.mutable_customer()->set_is_customer(false);
    req.mutable_customer()->set_is_partner(true);
    req.mutable_customer()->mutable_partner()->set_commission_rate_bp(1000);
    req.mutable_customer()->mutable_partner()->set_notification_email(
        absl::StrCat("partner-", letter, "@reliability.example.jp"));
    customer::v1::Customer partner;
    grpc::ClientContext ctx;
    Authorize(&ctx, staff);
    grpc::Status s = customers->CreateCustomer(&ctx, req, &partner);
    ASSERT_TRUE(s.ok()) << s.error_message();
    partner_email[partner.id()] = req.customer().partner().notification_email();

    project::v1::CreateProjectRequest p;
    p.set_request_id(absl::StrCat("notify-case-", letter));
    p.mutable_project()->set_customer_id(end_customer.id());
    p.mutable_project()->set_name(absl::StrCat("外壁塗装 ", letter));
    p.mutable_project()->mutable_referral()->set_partner_id(partner.id());
    *p.mutable_project()->mutable_referral()->mutable_referral_date() = DateProto(today - 40);
    project::v1::Project created;
    grpc::ClientContext pctx;
    Authorize(&pctx, staff);
    s = projects->CreateProject(&pctx, p, &created);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  // The month's period, opened as the scheduler's open_report_period would.
  auto reports = report::v1::ReportIntakeService::NewStub((*report)->Channel());
  report::v1::OpenPeriodResponse opened;
  {
    report::v1::OpenPeriodRequest req;
    req.set_request_id("notify-open");
    req.mutable_month()->set_year(static_cast<int32_t>(today.year()));
    req.mutable_month()->set_month(today.month());
    grpc::ClientContext ctx;
    Authorize(&ctx, Token(auth::Role::kService, "anken-scheduler"));
    grpc::Status s = reports->OpenPeriod(&ctx, req, &opened);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  const common::v1::Date& dl = opened.period().deadline_day();
  const absl::CivilDay deadline(dl.year(), dl.month(), dl.day());
  bool held = true;
  held &= Check(kScenario,
                absl::StrCat("period ", absl::FormatCivilTime(absl::CivilMonth(today)),
                             " opened with ", opened.reports_size(),
                             " reports for 2 partners, deadline ",
                             absl::FormatCivilTime(deadline)),
                opened.reports_size() == 2 && absl::CivilMonth(deadline) == absl::CivilMonth(today));
  ASSERT_EQ(opened.reports_size(), 2);
  std::set<std::string> expected_keys;
  for (const auto& [id, email] : partner_email) {
    expected_keys.insert(absl::StrFormat("scheduler:report_reminder:%04d-%02d:%d:%04d-%02d-%02d",
                                         today.year(), today.month(), id, deadline.year(),
                                         deadline.month(), deadline.day()));
  }

  // The trap: greetings held until the reminder run has finished (so the kill can only hit
  // the delivery), armed for the first message.
  auto trap_or = SmtpTrap::Start();
  ASSERT_TRUE(trap_or.ok()) << trap_or.status();
  SmtpTrap& trap = **trap_or;
  trap.HoldGreetings();
  trap.ArmKill();

  // The scheduler on a test clock at 09:00:30 of the deadline day. The reminder schedule is
  // off: its runs are triggered, so that two runs can fall on the same day.
  TestClockFile clock;
  clock.SetTokyo(deadline.year(), deadline.month(), deadline.day(), 9, 0, 30);
  std::map<std::string, std::string> sched_env = env;
  sched_env["ANKEN_REPORT_ADDR"] = (*report)->address();
  sched_env["ANKEN_SCHEDULE_REPORT_REMINDERS"] = "off";
  sched_env["ANKEN_SCHEDULE_OPEN_REPORT_PERIOD"] = "off";
  sched_env["ANKEN_SMTP_URL"] = trap.url();
  sched_env["ANKEN_SMTP_STARTTLS"] = "off";
  sched_env["ANKEN_SMTP_TIMEOUT"] = "30s";
  sched_env["ANKEN_MAIL_FROM"] = kMailFrom;
  sched_env["ANKEN_SCHEDULER_TICK"] = "50ms";
  sched_env["ANKEN_SCHEDULER_LEASE"] = "10s";
  sched_env["ANKEN_DB_POOL_SIZE"] = "4";
  sched_env["ANKEN_TEST_CLOCK_FILE"] = clock.path();
  sched_env["ANKEN_ALLOW_TEST_CLOCK"] = "1";
  auto first = ServiceProcess::Start(ANKEN_SCHEDULER_BIN, sched_env);
  ASSERT_TRUE(first.ok()) << first.status();

  pqxx::connection conn(db.url());
  const std::string admin = Token(auth::Role::kAdmin, "reliability-admin");
  // Triggers report_reminders for `minute` of the deadline day and waits for the run's end.
  auto run_reminders = [&](ServiceProcess& replica, int minute) -> std::string {
    auto stub = scheduler::v1::SchedulerService::NewStub(replica.Channel());
    scheduler::v1::TriggerJobRequest req;
    req.set_job("report_reminders");
    req.mutable_slot_time()->set_seconds(absl::ToUnixSeconds(scheduler::SlotInstant(
        absl::CivilMinute(deadline.year(), deadline.month(), deadline.day(), 9, minute))));
    scheduler::v1::TriggerJobResponse resp;
    grpc::ClientContext ctx;
    Authorize(&ctx, admin);
    grpc::Status s = stub->TriggerJob(&ctx, req, &resp);
    if (!s.ok()) return absl::StrCat("TriggerJob: ", s.error_message());
    const std::string state_sql = absl::StrFormat(
        "SELECT state FROM scheduler.runs WHERE job = 'report_reminders' AND slot_time = "
        "'%04d-%02d-%02d 09:%02d:00+09'",
        deadline.year(), deadline.month(), deadline.day(), minute);
    if (!WaitUntil([&] { return QueryInt(conn, state_sql) == 3; }, absl::Seconds(60))) {
      return absl::StrCat("run state ", QueryInt(conn, state_sql), ":\n", replica.LogTail());
    }
    return "";
  };

  // 1. The reminder run queues one reminder per partner.
  const std::string run1 = run_reminders(**first, 0);
  held &= Check(kScenario, absl::StrCat("reminder run for 09:00 of the deadline day ",
                                        run1.empty() ? "succeeded" : run1),
                run1.empty());
  ASSERT_TRUE(run1.empty()) << run1;
  std::map<std::string, OutboxRow> rows = Reminders(conn);
  std::set<std::string> keys;
  bool recipients_ok = true;
  for (const auto& [key, row] : rows) {
    keys.insert(key);
    bool known = false;
    for (const auto& [id, email] : partner_email) known |= row.recipient == email;
    recipients_ok &= known;
  }
  held &= Check(kScenario, absl::StrCat(rows.size(), " reminders queued, one per partner's "
                                        "dedup key, to the partners' addresses"),
                keys == expected_keys && recipients_ok);

  // 2. Delivery: the trap stops the sender at the end of DATA, answers 250, kills it.
  trap.ReleaseGreetings();
  const bool trapped_one = trap.WaitForMessages(1, absl::Seconds(90));
  ASSERT_TRUE(trapped_one) << "trap: " << trap.trap_error() << "\n" << (*first)->LogTail();
  const SmtpTrap::Message killed_copy = trap.Messages().front();
  absl::StatusOr<int> exit_code = (*first)->Kill9();
  const std::string killed_id = killed_copy.Header("Message-ID");
  held &= Check(kScenario,
                absl::StrCat("the trap stopped the sender (pid ", killed_copy.sender,
                             ") at the end of DATA, answered 250 and killed it (exit ",
                             exit_code.ok() ? absl::StrCat(*exit_code) : "unknown", ")"),
                killed_copy.trapped && trap.trap_error().empty() && exit_code.ok() &&
                    *exit_code == 128 + SIGKILL);
  rows = Reminders(conn);
  const OutboxRow* accepted = nullptr;
  for (const auto& [key, row] : rows) {
    if (row.message_id == killed_id) accepted = &row;
  }
  held &= Check(kScenario,
                absl::StrCat("the accepted message ", killed_id, " is still PENDING in the "
                             "outbox (state ", accepted ? accepted->state : 0, ", attempts ",
                             accepted ? accepted->attempts : 0, "), leased by pid ",
                             accepted ? ReplicaPid(accepted->lease_owner) : 0),
                accepted != nullptr && accepted->state == 1 && !accepted->sent_time &&
                    accepted->attempts == 1 &&
                    ReplicaPid(accepted->lease_owner) == killed_copy.sender);
  ASSERT_NE(accepted, nullptr);
  const std::string duplicated_key = accepted->dedup_key;

  // 3. A new process, once the dead one's delivery lease (2 x the SMTP timeout) has lapsed.
  clock.Advance(absl::Minutes(5));
  auto second = ServiceProcess::Start(ANKEN_SCHEDULER_BIN, sched_env);
  ASSERT_TRUE(second.ok()) << second.status();
  const bool all_sent = WaitUntil(
      [&] {
        return QueryInt(conn, "SELECT count(*) FROM scheduler.notifications WHERE state = 2") == 2;
      },
      absl::Seconds(90));
  const bool three = trap.WaitForMessages(3, absl::Seconds(30));
  held &= Check(kScenario,
                absl::StrCat("a new scheduler process delivered the outbox: ",
                             trap.Messages().size(), " messages received, every reminder SENT"),
                all_sent && three);
  ASSERT_TRUE(all_sent && three) << (*second)->LogTail();

  std::map<std::string, int> copies;  // Message-ID -> messages received
  for (const SmtpTrap::Message& m : trap.Messages()) ++copies[m.Header("Message-ID")];
  rows = Reminders(conn);
  const OutboxRow& dup = rows[duplicated_key];
  const SmtpTrap::Message resent = trap.Messages()[1].Header("Message-ID") == killed_id
                                       ? trap.Messages()[1]
                                       : trap.Messages()[2];
  held &= Check(kScenario,
                absl::StrCat("the duplicate carries the same Message-ID as the first copy: ",
                             resent.Header("Message-ID"), " == ", killed_id,
                             " (the outbox's, for ", duplicated_key, "), sent by pid ",
                             resent.sender),
                copies[killed_id] == 2 && resent.Header("Message-ID") == killed_id &&
                    dup.message_id == killed_id && dup.state == 2 && dup.attempts == 2 &&
                    resent.sender != killed_copy.sender && resent.sender > 0);
  bool others_once = true;
  for (const auto& [key, row] : rows) {
    if (key != duplicated_key) others_once &= copies[row.message_id] == 1 && row.state == 2;
  }
  std::vector<std::string> counts;
  for (const auto& [id, n] : copies) counts.push_back(absl::StrCat(n));
  held &= Check(kScenario,
                absl::StrCat(copies.size(), " distinct Message-IDs received (copies: ",
                             absl::StrJoin(counts, ", "), ") for ", rows.size(),
                             " dedup keys; the other reminder arrived once"),
                copies.size() == rows.size() && rows.size() == 2 && others_once);

  // 4. A second reminder run the same day: the same dedup keys, nothing new queued or sent.
  const std::string run2 = run_reminders(**second, 1);
  const std::map<std::string, OutboxRow> after = Reminders(conn);
  const int64_t pending =
      QueryInt(conn, "SELECT count(*) FROM scheduler.notifications WHERE state <> 2");
  const int64_t all = QueryInt(conn, "SELECT count(*) FROM scheduler.notifications");
  std::set<std::string> after_keys;
  for (const auto& [key, row] : after) after_keys.insert(key);
  held &= Check(kScenario,
                absl::StrCat("a second reminder run for the same day (09:01) ",
                             run2.empty() ? "succeeded" : run2, " and queued nothing: ", all,
                             " notifications, ", after.size(), " reminders, ", pending,
                             " not sent"),
                run2.empty() && after_keys == expected_keys && all == 2 && pending == 0);
  held &= Check(kScenario, absl::StrCat(trap.Messages().size(), " messages received in all (",
                                        "2 reminders + 1 duplicate)"),
                trap.Messages().size() == 3);

  RecordScenario(kScenario, held,
                 absl::StrCat("1 kill between the 250 and the mark, 2 reminder runs, ",
                              rows.size(), " dedup keys, ", trap.Messages().size(),
                              " messages, 1 duplicate with the same Message-ID"));
  EXPECT_TRUE(held);
}

}  // namespace
}  // namespace anken::reliability
