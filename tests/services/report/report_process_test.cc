// The real anken-report binary as a child process, with its real peers in-process
// (report_fixture.h on the system clock, so that the tokens the process mints are valid for
// them): a partner submits, the process is killed with SIGKILL before its outbox runs, a new
// process applies every effect exactly once (one recorded outcome per case, one commission
// charge per completion and per order), and repeats none when all its marks are lost. The
// binary's own limits: a 21 MiB upload reaches the handler and is refused with the partner's
// upload-failed text, not a transport error.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "anken/report/v1/report_service.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "tests/services/report/report_fixture.h"
#include "tests/support/subprocess.h"

namespace anken::report::testing {
namespace {

using ::testing::SizeIs;
using Stub = v1::ReportIntakeService::Stub;

// The number after "port": in the host's "listening" log line.
int ListeningPort(const std::string& line) {
  const std::string key = "\"port\":";
  const size_t at = line.find(key);
  if (at == std::string::npos) return 0;
  size_t end = at + key.size();
  while (end < line.size() && line[end] >= '0' && line[end] <= '9') ++end;
  int port = 0;
  return absl::SimpleAtoi(line.substr(at + key.size(), end - at - key.size()), &port) ? port : 0;
}

class ReportProcessTest : public ReportPeersTest {
 protected:
  ReportProcessTest() : ReportPeersTest(SystemClock()) {}

  std::map<std::string, std::string> Env(const std::string& effect_interval) const {
    return {{"ANKEN_DATABASE_URL", db_.url()},
            {"ANKEN_JWT_SECRET", anken::testing::kTestJwtSecret},
            {"ANKEN_LISTEN_HOST", "127.0.0.1"},
            {"ANKEN_GRPC_PORT", "0"},
            {"ANKEN_METRICS_PORT", "0"},
            {"ANKEN_HEALTH_INTERVAL", "1s"},
            {"ANKEN_SHUTDOWN_GRACE", "2s"},
            {"ANKEN_DB_POOL_SIZE", "4"},
            {"ANKEN_CUSTOMER_ADDR", Address(*customer_host_)},
            {"ANKEN_PROJECT_ADDR", Address(*project_host_)},
            {"ANKEN_BILLING_ADDR", Address(*billing_host_)},
            {"ANKEN_REPORT_EFFECT_INTERVAL", effect_interval}};
  }

  // Starts anken-report and connects to it once it listens.
  void Start(const std::string& effect_interval) {
    auto p = anken::testing::Subprocess::Start(ANKEN_REPORT_BIN, {}, Env(effect_interval));
    ASSERT_TRUE(p.ok()) << p.status();
    process_ = std::move(*p);
    auto listening = process_->WaitForLine(
        [](const std::string& l) { return l.find("\"msg\":\"listening\"") != std::string::npos; },
        absl::Seconds(30));
    ASSERT_TRUE(listening.ok()) << listening.status() << "\n" << process_->output();
    const int port = ListeningPort(*listening);
    ASSERT_GT(port, 0) << *listening;
    stub_ = v1::ReportIntakeService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }

  template <typename Req, typename Resp>
  absl::StatusOr<Resp> Call(grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Req&, Resp*),
                            const Req& request, const std::string& token) {
    return CallOn(stub_.get(), rpc, request, token);
  }

  // Polls until no effect is left undone (reading the child's output meanwhile, so it never
  // blocks on a full pipe), within `timeout`.
  bool WaitForAllEffectsDone(absl::Duration timeout) {
    const absl::Time end = absl::Now() + timeout;
    while (absl::Now() < end) {
      if (Count("SELECT count(*) FROM report.effects WHERE done_at IS NULL") == 0) return true;
      (void)process_->WaitForLine([](const std::string&) { return false; },
                                  absl::Milliseconds(50));
    }
    return false;
  }

  std::unique_ptr<anken::testing::Subprocess> process_;
  std::unique_ptr<Stub> stub_;
};

TEST_F(ReportProcessTest, EffectsSurviveAKillAndApplyExactlyOnce) {
  auto migrated = anken::testing::RunToExit(ANKEN_REPORT_BIN, {"--migrate"}, Env("1h"));
  ASSERT_TRUE(migrated.ok()) << migrated.status();
  ASSERT_EQ(migrated->first, 0) << migrated->second;

  const absl::CivilDay today = TokyoToday(SystemClock());
  const customer::v1::Customer partner = MustCreatePartner("株式会社エー工務店", 1000);
  const project::v1::Project completed =
      MustCreateReferredCase("外壁塗装", MustCreateEndCustomer("山田太郎"), partner, today - 40);
  const project::v1::Project lost =
      MustCreateReferredCase("浴室改修", MustCreateEndCustomer("鈴木花子"), partner, today - 40);
  const std::string service = customer_host_->Token(Role::kService, "anken-scheduler");
  const std::string partner_token = customer_host_->Token(
      Role::kPartner, absl::StrCat("partner-", partner.id()), absl::StrCat(partner.id()));

  // A first process whose outbox would run only in an hour.
  ASSERT_NO_FATAL_FAILURE(Start("1h"));
  v1::OpenPeriodRequest open;
  open.set_request_id("open-1");
  api::ToYearMonth(absl::CivilMonth(today), open.mutable_month());
  absl::StatusOr<v1::OpenPeriodResponse> opened = Call(&Stub::OpenPeriod, open, service);
  ASSERT_TRUE(opened.ok()) << opened.status();
  ASSERT_THAT(opened->reports(), SizeIs(1));
  const int64_t report_id = opened->reports(0).id();
  v1::ListReportLinesRequest list;
  list.set_report_id(report_id);
  absl::StatusOr<v1::ListReportLinesResponse> lines =
      Call(&Stub::ListReportLines, list, partner_token);
  ASSERT_TRUE(lines.ok()) << lines.status();
  ASSERT_THAT(lines->lines(), SizeIs(2));
  for (const v1::ReportLine& line : lines->lines()) {
    v1::ReportChangeRequest change;
    change.set_line_id(line.id());
    if (line.project_id() == completed.id()) {
      change.mutable_change()->set_outcome(v1::OUTCOME_COMPLETED);
      api::ToDate(today, change.mutable_change()->mutable_completion_date());
      change.mutable_change()->set_amount(2000000);
      v1::ExtraOrder* x = change.mutable_change()->add_extra_orders();
      x->set_kind(v1::EXTRA_ORDER_KIND_REPEAT);
      api::ToDate(today, x->mutable_order_date());
      x->set_amount(100000);
    } else {
      change.mutable_change()->set_outcome(v1::OUTCOME_LOST);
      api::ToDate(today, change.mutable_change()->mutable_lost_date());
    }
    absl::StatusOr<v1::ReportLine> answered = Call(&Stub::ReportChange, change, partner_token);
    ASSERT_TRUE(answered.ok()) << answered.status();
  }
  v1::SubmitReportRequest submit;
  submit.set_request_id("submit-1");
  submit.set_report_id(report_id);
  submit.set_attestation(true);
  absl::StatusOr<v1::SubmitReportResponse> submitted =
      Call(&Stub::SubmitReport, submit, partner_token);
  ASSERT_TRUE(submitted.ok()) << submitted.status();
  ASSERT_THAT(submitted->submission().effects(), SizeIs(4));

  // Killed before its outbox ran: the effects wait, nothing is applied.
  process_->Signal(SIGKILL);
  absl::StatusOr<int> killed = process_->Wait(absl::Seconds(10));
  ASSERT_TRUE(killed.ok()) << killed.status();
  EXPECT_EQ(*killed, 128 + SIGKILL);
  EXPECT_EQ(Count("SELECT count(*) FROM report.effects WHERE done_at IS NULL"), 4);
  EXPECT_EQ(OutcomesRecorded(completed.id()), 0);
  EXPECT_EQ(ChargesOf(completed.id()), 0);

  // A new process applies them.
  ASSERT_NO_FATAL_FAILURE(Start("100ms"));
  ASSERT_TRUE(WaitForAllEffectsDone(absl::Seconds(20))) << process_->output();
  const project::v1::Project p1 = MustGetProject(completed.id());
  EXPECT_EQ(p1.referral().outcome(), project::v1::REFERRAL_OUTCOME_COMPLETED);
  EXPECT_EQ(p1.referral().amount(), 2000000);
  EXPECT_THAT(p1.referral().extra_orders(), SizeIs(1));
  EXPECT_EQ(MustGetProject(lost.id()).referral().outcome(), project::v1::REFERRAL_OUTCOME_LOST);
  EXPECT_EQ(OutcomesRecorded(completed.id()), 1);
  EXPECT_EQ(OutcomesRecorded(lost.id()), 1);
  EXPECT_EQ(ChargesOf(completed.id()), 2);
  EXPECT_EQ(CommissionOf(completed.id()), 200000 + 10000);
  EXPECT_EQ(ChargesOf(lost.id()), 0);
  const int64_t entries = Count("SELECT count(*) FROM billing.entries WHERE kind = 2");
  EXPECT_EQ(entries, 2);

  // Every mark lost (as if the process died after each call): all repeated, none applied twice.
  Exec("UPDATE report.effects SET done_at = NULL");
  ASSERT_TRUE(WaitForAllEffectsDone(absl::Seconds(20))) << process_->output();
  EXPECT_EQ(OutcomesRecorded(completed.id()), 1);
  EXPECT_EQ(OutcomesRecorded(lost.id()), 1);
  EXPECT_THAT(MustGetProject(completed.id()).referral().extra_orders(), SizeIs(1));
  EXPECT_EQ(ChargesOf(completed.id()), 2);
  EXPECT_EQ(Count("SELECT count(*) FROM billing.entries WHERE kind = 2"), entries);
  v1::GetSubmissionStatusRequest status;
  status.set_report_id(report_id);
  absl::StatusOr<v1::SubmissionStatus> s = Call(&Stub::GetSubmissionStatus, status, partner_token);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->done_count(), 4);

  // Over the upload cap but under the server's message limit: the handler refuses it.
  v1::UploadReportXlsxRequest upload;
  upload.set_report_id(report_id);
  upload.set_content(std::string(21 << 20, 'x'));
  upload.set_dry_run(true);
  const absl::Time before = absl::Now();
  absl::StatusOr<v1::UploadReportXlsxResponse> big =
      Call(&Stub::UploadReportXlsx, upload, partner_token);
  ASSERT_TRUE(big.ok()) << big.status();
  EXPECT_LT(absl::Now() - before, absl::Seconds(10));
  ASSERT_THAT(big->errors(), SizeIs(1));
  EXPECT_EQ(big->errors(0).code(), "UPLOAD_FAILED");
  EXPECT_EQ(big->errors(0).message(),
            "アップロードに失敗しました。案件一覧ファイルを再度アップロードしてください。");

  process_->Signal(SIGTERM);
  absl::StatusOr<int> stopped = process_->Wait(absl::Seconds(15));
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_EQ(*stopped, 0) << process_->output();
}

}  // namespace
}  // namespace anken::report::testing
