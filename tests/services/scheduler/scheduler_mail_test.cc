// Mail delivery end to end: real anken-scheduler processes deliver the outbox over SMTP (libcurl)
// to a real SMTP server (smtp_sink.py on Debian's python3-aiosmtpd), which decodes what it
// receives with Python's email package — an implementation independent of ours:
//   - each template arrives once per dedup key, with the Japanese subject decoded correctly,
//     the body intact and the Message-ID derived from the dedup key (two replicas delivering);
//   - a recipient the server refuses with 550 becomes a dead letter at once; one refused with
//     451 is retried with backoff and becomes a dead letter after ANKEN_MAIL_MAX_ATTEMPTS;
//   - with the server down, mail waits and is delivered once it is back;
//   - STARTTLS (required) with AUTH against the server's own certificate.

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "tests/services/scheduler/scheduler_process.h"

namespace anken::scheduler::testing {
namespace {

using Stub = v1::SchedulerService::Stub;

// A loopback port nothing listens on right now.
int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// One received message as the sink decoded it.
struct Received {
  std::string mail_from, rcpt, subject, message_id, content_type, charset, transfer_encoding,
      body, raw;
  bool tls = false;
  bool authenticated = false;
};

class MailTest : public SchedulerProcessTest {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/anken-sched-mail-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    out_dir_ = tmpl;
    smtp_port_ = FreePort();
    clock_.SetTokyo(2026, 11, 25, 9, 0);
    env_ = BaseEnv();
    env_["ANKEN_SMTP_URL"] = absl::StrCat("smtp://127.0.0.1:", smtp_port_);
    env_["ANKEN_MAIL_FROM"] = "noreply@anken.example.jp";
    env_["ANKEN_MAIL_FROM_NAME"] = "アンケン通知";
    env_["ANKEN_MAIL_MAX_ATTEMPTS"] = "3";
    env_["ANKEN_MAIL_RETRY_BASE"] = "1m";
    env_["ANKEN_SMTP_TIMEOUT"] = "5s";
    Migrate(env_);
    service_token_ = Token(auth::Role::kService, "anken-billing");
    staff_token_ = Token(auth::Role::kStaff, "staff-1");
  }

  void TearDown() override {
    replicas_.clear();
    sink_.reset();
    for (const std::string& f : Files("")) std::remove((out_dir_ + "/" + f).c_str());
    ::rmdir(out_dir_.c_str());
    SchedulerProcessTest::TearDown();
  }

  void StartSink(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {ANKEN_SMTP_SINK, "--listen",
                                     absl::StrCat("127.0.0.1:", smtp_port_), "--out", out_dir_};
    args.insert(args.end(), extra.begin(), extra.end());
    auto p = anken::testing::Subprocess::Start(ANKEN_SYSTEM_PYTHON, args, {});
    ASSERT_TRUE(p.ok()) << p.status();
    sink_ = std::move(*p);
    auto ready =
        sink_->WaitForLine([](const std::string& l) { return l == "ready"; }, absl::Seconds(20));
    ASSERT_TRUE(ready.ok()) << ready.status() << "\n" << sink_->output();
  }

  void StopSink() {
    sink_->Signal(SIGTERM);
    auto code = sink_->Wait(absl::Seconds(10));
    ASSERT_TRUE(code.ok()) << code.status();
    sink_.reset();
  }

  std::vector<std::string> Files(const std::string& suffix) const {
    std::vector<std::string> out;
    if (DIR* d = ::opendir(out_dir_.c_str())) {
      while (dirent* e = ::readdir(d)) {
        const std::string name = e->d_name;
        if (name == "." || name == "..") continue;
        if (suffix.empty() || absl::EndsWith(name, suffix)) out.push_back(name);
      }
      ::closedir(d);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::vector<Received> Messages() const {
    std::vector<Received> out;
    for (const std::string& name : Files(".json")) {
      google::protobuf::Struct s;
      const std::string json = ReadFile(out_dir_ + "/" + name);
      EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &s).ok()) << json;
      auto str = [&](const char* k) { return s.fields().at(k).string_value(); };
      Received r;
      r.mail_from = str("mail_from");
      r.rcpt = s.fields().at("rcpt_tos").list_value().values(0).string_value();
      r.subject = str("subject");
      r.message_id = str("message_id");
      r.content_type = str("content_type");
      r.charset = str("charset");
      r.transfer_encoding = str("transfer_encoding");
      r.body = absl::StrReplaceAll(str("body"), {{"\r\n", "\n"}});
      r.tls = s.fields().at("tls").bool_value();
      r.authenticated = s.fields().at("authenticated").bool_value();
      r.raw = ReadFile(out_dir_ + "/" + name.substr(0, name.size() - 5) + ".eml");
      out.push_back(std::move(r));
    }
    return out;
  }

  absl::StatusOr<v1::Notification> Enqueue(const std::string& key, const std::string& recipient,
                                           const std::string& template_name,
                                           const std::map<std::string, std::string>& params) {
    v1::EnqueueNotificationRequest req;
    req.set_dedup_key(key);
    req.set_recipient(recipient);
    req.set_template_name(template_name);
    for (const auto& [k, v] : params) (*req.mutable_parameters())[k] = v;
    return Call(replicas_.front(), &Stub::EnqueueNotification, req, service_token_);
  }

  std::vector<v1::Notification> Notifications() {
    v1::ListNotificationsRequest req;
    req.set_page_size(1000);
    auto resp = Call(replicas_.back(), &Stub::ListNotifications, req, staff_token_);
    EXPECT_TRUE(resp.ok()) << resp.status();
    if (!resp.ok()) return {};
    return {resp->notifications().begin(), resp->notifications().end()};
  }

  // The notification with `key`, or an empty one (id 0) when it is not listed.
  v1::Notification ByKey(const std::string& key) {
    for (const auto& n : Notifications()) {
      if (n.dedup_key() == key) return n;
    }
    return v1::Notification();
  }

  int64_t InState(int state) {
    return Count(absl::StrCat("SELECT count(*) FROM scheduler.notifications WHERE state = ",
                              state));
  }

  void StartReplicas(int n) {
    for (int i = 0; i < n; ++i) {
      replicas_.emplace_back();
      ASSERT_NO_FATAL_FAILURE(Start(env_, &replicas_.back()));
    }
  }

  std::string out_dir_;
  int smtp_port_ = 0;
  std::map<std::string, std::string> env_;
  std::unique_ptr<anken::testing::Subprocess> sink_;
  std::vector<Replica> replicas_;
  std::string service_token_, staff_token_;
};

// One complete request per template.
std::map<std::string, std::map<std::string, std::string>> AllTemplates() {
  return {
      {"monthly_report_request",
       {{"partner_name", "株式会社サンプル"}, {"period", "2026年12月"},
        {"deadline", "2026年12月4日（金）"}}},
      {"report_reminder",
       {{"partner_name", "有限会社テスト工務店"}, {"period", "2026年11月"},
        {"deadline", "2026年11月6日（金）"}}},
      {"report_overdue_summary",
       {{"as_of", "2026年11月25日（水）"}, {"count", "2"},
        {"partners", "・有限会社テスト工務店（2026年11月分）\n・株式会社ヤマダ（2026年11月分）"}}},
      {"invoice_issue_request",
       {{"project", "P0000123 本社改装工事"}, {"requested_by", "営業 太郎"},
        {"entries", "・2026-11 月額 110,000円"}, {"note", "月末までにお願いします"}}},
      {"missed_billing_alert",
       {{"as_of", "2026年11月25日（水）"}, {"count", "1"},
        {"items", "・P0000045 保守契約 2026-10 月額（請求日 2026-10-31、請求OK）"}}},
      {"overdue_invoice_list",
       {{"as_of", "2026年11月25日（水）"}, {"count", "1"}, {"total", "1,234,567円"},
        {"items", "・INV-2026-0042 株式会社サンプル 1,234,567円（支払期日 2026年10月31日（土））"}}},
  };
}

TEST_F(MailTest, EachTemplateArrivesOncePerDedupKeyWithItsJapaneseSubject) {
  ASSERT_NO_FATAL_FAILURE(StartSink());
  ASSERT_NO_FATAL_FAILURE(StartReplicas(2));
  std::map<std::string, v1::Notification> sent;  // by dedup key
  for (const auto& [name, params] : AllTemplates()) {
    const std::string key = "test:" + name + ":1";
    auto first = Enqueue(key, "partner@example.co.jp", name, params);
    ASSERT_TRUE(first.ok()) << name << ": " << first.status();
    // Enqueued again (a caller's retry): the same notification, no second mail.
    auto again = Enqueue(key, "partner@example.co.jp", name, params);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->id(), first->id());
    sent[key] = *first;
  }
  auto reused = Enqueue("test:report_reminder:1", "other@example.co.jp", "report_reminder",
                        AllTemplates()["report_reminder"]);
  EXPECT_EQ(reused.status().code(), absl::StatusCode::kAlreadyExists);

  ASSERT_TRUE(WaitUntil([&] { return InState(2) == 6; })) << InState(1) << " pending";
  // Nothing arrives twice, even with both replicas delivering.
  ASSERT_TRUE(WaitUntil([&] { return Files(".json").size() >= 6; }));
  std::vector<Received> received = Messages();
  ASSERT_EQ(received.size(), 6u);
  std::map<std::string, int> by_message_id;
  for (const Received& r : received) ++by_message_id[r.message_id];
  for (const auto& [key, n] : sent) {
    SCOPED_TRACE(key);
    ASSERT_EQ(by_message_id[n.message_id()], 1);
    const Received* r = nullptr;
    for (const Received& x : received) {
      if (x.message_id == n.message_id()) r = &x;
    }
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->subject, n.subject());  // decoded by Python from RFC 2047 encoded-words
    EXPECT_EQ(r->body, n.body());
    EXPECT_EQ(r->mail_from, "noreply@anken.example.jp");
    EXPECT_EQ(r->rcpt, "partner@example.co.jp");
    EXPECT_EQ(r->content_type, "text/plain");
    EXPECT_EQ(r->charset, "utf-8");
    EXPECT_EQ(r->transfer_encoding, "base64");
    // On the wire the subject is ASCII only: encoded-words.
    EXPECT_TRUE(absl::StrContains(r->raw, "Subject: =?UTF-8?B?"));
    for (char c : r->raw) ASSERT_EQ(static_cast<unsigned char>(c) & 0x80, 0) << "8-bit byte";
  }
  // The subjects as people read them.
  const v1::Notification& request = sent["test:monthly_report_request:1"];
  EXPECT_EQ(request.subject(),
            "【実績報告のお願い】2026年12月分 実績報告のご提出（期限：2026年12月4日（金））");
  EXPECT_EQ(sent["test:overdue_invoice_list:1"].subject(),
            "【入金遅延】支払期日を過ぎた請求書 1件（2026年11月25日（水）時点）");
  for (const auto& n : Notifications()) {
    EXPECT_EQ(n.state(), v1::NOTIFICATION_STATE_SENT) << n.dedup_key();
    EXPECT_EQ(n.attempts(), 1) << n.dedup_key();
    EXPECT_TRUE(n.has_sent_time());
  }
}

TEST_F(MailTest, RefusedRecipientsBecomeDeadLettersVisibleInListNotifications) {
  ASSERT_NO_FATAL_FAILURE(StartSink());
  ASSERT_NO_FATAL_FAILURE(StartReplicas(1));
  const auto params = AllTemplates()["report_reminder"];
  ASSERT_TRUE(Enqueue("dead:550", "reject-me@partner.example.jp", "report_reminder", params).ok());
  ASSERT_TRUE(Enqueue("dead:451", "tempfail@partner.example.jp", "report_reminder", params).ok());
  ASSERT_TRUE(Enqueue("ok:1", "partner@example.co.jp", "report_reminder", params).ok());

  // 550: permanent, a dead letter after one attempt.
  ASSERT_TRUE(WaitUntil([&] {
    auto n = ByKey("dead:550");
    return n.state() == v1::NOTIFICATION_STATE_DEAD;
  }));
  v1::Notification dead = ByKey("dead:550");
  EXPECT_EQ(dead.attempts(), 1);
  EXPECT_TRUE(absl::StrContains(dead.last_error(), "550")) << dead.last_error();
  EXPECT_TRUE(dead.has_dead_time());

  // 451: transient, retried after 1m, then 2m, dead after the third attempt.
  ASSERT_TRUE(WaitUntil([&] {
    auto n = ByKey("dead:451");
    return n.attempts() == 1 && !n.last_error().empty();
  }));
  v1::Notification waiting = ByKey("dead:451");
  EXPECT_EQ(waiting.state(), v1::NOTIFICATION_STATE_PENDING);
  EXPECT_TRUE(absl::StrContains(waiting.last_error(), "451")) << waiting.last_error();
  EXPECT_EQ(waiting.next_attempt_time().seconds(),
            absl::ToUnixSeconds(clock_.now() + absl::Minutes(1)));
  clock_.Advance(absl::Minutes(1));
  // The attempt count rises when a delivery is claimed, before the SMTP exchange: wait for the
  // failure itself to be recorded (its next attempt scheduled after now) before moving time,
  // or the retry would be scheduled from the moved clock.
  ASSERT_TRUE(WaitUntil([&] {
    auto n = ByKey("dead:451");
    return n.attempts() == 2 &&
           n.next_attempt_time().seconds() > absl::ToUnixSeconds(clock_.now());
  }));
  EXPECT_EQ(ByKey("dead:451").state(), v1::NOTIFICATION_STATE_PENDING);
  EXPECT_EQ(ByKey("dead:451").next_attempt_time().seconds(),
            absl::ToUnixSeconds(clock_.now() + absl::Minutes(2)));
  clock_.Advance(absl::Minutes(2));
  ASSERT_TRUE(
      WaitUntil([&] { return ByKey("dead:451").state() == v1::NOTIFICATION_STATE_DEAD; }));
  EXPECT_EQ(ByKey("dead:451").attempts(), 3);

  // The dead letters, listed by state; the good one went out.
  v1::ListNotificationsRequest req;
  req.add_states(v1::NOTIFICATION_STATE_DEAD);
  auto listed = Call(replicas_.front(), &Stub::ListNotifications, req, staff_token_);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->notifications_size(), 2);
  EXPECT_EQ(ByKey("ok:1").state(), v1::NOTIFICATION_STATE_SENT);
  std::vector<Received> received = Messages();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].rcpt, "partner@example.co.jp");
}

TEST_F(MailTest, MailWaitsWhileTheServerIsDownAndGoesOutOnceItReturns) {
  ASSERT_NO_FATAL_FAILURE(StartSink());
  ASSERT_NO_FATAL_FAILURE(StartReplicas(2));
  const auto params = AllTemplates()["invoice_issue_request"];
  ASSERT_TRUE(Enqueue("before", "keiri@example.co.jp", "invoice_issue_request", params).ok());
  ASSERT_TRUE(WaitUntil([&] { return InState(2) == 1; }));

  ASSERT_NO_FATAL_FAILURE(StopSink());
  ASSERT_TRUE(Enqueue("during:1", "keiri@example.co.jp", "invoice_issue_request", params).ok());
  ASSERT_TRUE(Enqueue("during:2", "keiri@example.co.jp", "invoice_issue_request", params).ok());
  ASSERT_TRUE(WaitUntil([&] {
    auto a = ByKey("during:1");
    auto b = ByKey("during:2");
    return a.attempts() == 1 && !a.last_error().empty() && b.attempts() == 1 &&
           !b.last_error().empty();
  }));
  EXPECT_EQ(ByKey("during:1").state(), v1::NOTIFICATION_STATE_PENDING);
  // Not retried before the backoff has passed.
  EXPECT_FALSE(WaitUntil([&] { return ByKey("during:1").attempts() > 1; },
                         absl::Milliseconds(300)));

  ASSERT_NO_FATAL_FAILURE(StartSink());
  clock_.Advance(absl::Minutes(1));
  ASSERT_TRUE(WaitUntil([&] { return InState(2) == 3; }));
  EXPECT_EQ(ByKey("during:1").attempts(), 2);
  ASSERT_TRUE(WaitUntil([&] { return Files(".json").size() >= 3; }));
  std::map<std::string, int> by_message_id;
  for (const Received& r : Messages()) ++by_message_id[r.message_id];
  EXPECT_EQ(by_message_id.size(), 3u);
  for (const auto& [id, n] : by_message_id) EXPECT_EQ(n, 1) << id;
}

TEST_F(MailTest, StartTlsRequiredWithAuth) {
  const std::string cert = out_dir_ + "/cert.pem";
  const std::string key = out_dir_ + "/key.pem";
  auto made = anken::testing::RunToExit(
      "/usr/bin/openssl",
      {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
       "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert},
      {});
  ASSERT_TRUE(made.ok()) << made.status();
  ASSERT_EQ(made->first, 0) << made->second;
  ASSERT_NO_FATAL_FAILURE(
      StartSink({"--tls-cert", cert, "--tls-key", key, "--auth", "anken:s3cret-パス"}));
  env_["ANKEN_SMTP_STARTTLS"] = "required";
  env_["ANKEN_SMTP_CA_FILE"] = cert;
  env_["ANKEN_SMTP_USERNAME"] = "anken";
  env_["ANKEN_SMTP_PASSWORD"] = "s3cret-パス";
  ASSERT_NO_FATAL_FAILURE(StartReplicas(1));
  ASSERT_TRUE(Enqueue("tls:1", "partner@example.co.jp", "report_reminder",
                      AllTemplates()["report_reminder"])
                  .ok());
  ASSERT_TRUE(WaitUntil([&] { return InState(2) == 1; })) << ByKey("tls:1").last_error();
  std::vector<Received> received = Messages();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_TRUE(received[0].tls);
  EXPECT_TRUE(received[0].authenticated);
  EXPECT_EQ(received[0].subject, ByKey("tls:1").subject());
}

}  // namespace
}  // namespace anken::scheduler::testing
