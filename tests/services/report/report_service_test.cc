// Integration tests of the report-intake service through its gRPC API (real auth interceptor and
// role table), on a real Postgres, with the real customer, project and billing services
// in-process (report_fixture.h) and the effect outbox run once at a time from the test. The
// clock stands at 2026-04-02 10:00 Asia/Tokyo; April 2026's deadline day is Monday 4/6.
//
// Covered: a period opened twice makes one set of reports; a partner sees only its own; the
// answer errors with the partner's texts; the .xlsx round trip (download, edit with openpyxl,
// upload dry-run and real, preview, submit, apply) changes the cases and charges the
// commissions, exactly once even when the outbox repeats itself; each of the five upload error
// kinds with nothing written; a submitted report refuses changes; reopening applies only what
// changed since; a case update between periods; whom the scheduler reminds.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "anken/report/v1/report_service.grpc.pb.h"
#include "services/report/effects.h"
#include "services/report/peers.h"
#include "services/report/pg_report_store.h"
#include "services/report/report_service.h"
#include "tests/fakes/fake_clock.h"
#include "tests/services/report/report_fixture.h"
#include "tests/support/subprocess.h"

namespace anken::report::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::SizeIs;
using Stub = v1::ReportIntakeService::Stub;

// The texts of DESIGN.md, spelled out here so that a change to them fails this test.
constexpr char kUploadFailedText[] =
    "アップロードに失敗しました。案件一覧ファイルを再度アップロードしてください。";
std::string CaseNumberText(const std::string& n) {
  return absl::StrCat("案件番号:", n, "|案件番号に不正な入力があります。");
}
std::string CombinationText(const std::string& n) {
  return absl::StrCat("案件番号:", n, "|案件状況と入力項目に不正な組み合わせがあります。");
}
std::string RemarksText(const std::string& n) {
  return absl::StrCat("案件番号:", n, "|報告備考欄に不正な入力「=」「+」「-」があります。");
}
std::string UnknownText(const std::string& n) {
  return absl::StrCat("案件番号:", n, "|不明なエラーがあります。");
}

absl::CivilDay D(int y, int m, int d) { return absl::CivilDay(y, m, d); }

common::v1::YearMonth April() {
  common::v1::YearMonth m;
  m.set_year(2026);
  m.set_month(4);
  return m;
}

// Where the clock stands (a Thursday).
struct ClockHolder {
  anken::testing::FakeClock fake_clock_{FromTokyo(absl::CivilSecond(2026, 4, 2, 10, 0, 0))};
};

class ReportServiceTest : protected ClockHolder, public ReportPeersTest {
 protected:
  ReportServiceTest()
      : ReportPeersTest(fake_clock_),
        report_pool_(PoolOptionsFor(db_.url(), 6)),
        store_(report_pool_),
        page_tokens_("report-service-test-page-token-secret-0123456789") {}

  ~ReportServiceTest() override {
    host_.reset();
    delivery_.reset();
  }

  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(ReportPeersTest::SetUp());
    report_peer_auth_ =
        server::PeerAuth::WithToken(customer_host_->Token(Role::kService, "anken-report"));
    peers_ = std::make_unique<GrpcPeers>(server::MakePeerChannel(Address(*project_host_)),
                                         server::MakePeerChannel(Address(*customer_host_)),
                                         server::MakePeerChannel(Address(*billing_host_)),
                                         *report_peer_auth_);
    service_ = std::make_unique<ReportServiceImpl>(store_, *peers_, fake_clock_, page_tokens_);
    host_ = std::make_unique<anken::testing::TestHost>(
        std::vector<grpc::Service*>{service_.get()}, ReportServiceImpl::Roles(), fake_clock_);
    stub_ = v1::ReportIntakeService::NewStub(host_->channel());
    EffectDeliveryOptions options;
    options.owner = "test";
    delivery_ = std::make_unique<EffectDelivery>(store_, *peers_, fake_clock_, options);

    staff_ = host_->Token(Role::kStaff, "staff-1");
    admin_ = host_->Token(Role::kAdmin, "admin-1");
    accounting_ = host_->Token(Role::kAccounting, "acct-1");
    scheduler_ = host_->Token(Role::kService, "anken-scheduler");

    // Partner A (10%): two cases in progress and one lost before the period; partner B (5%):
    // one case; partner C: none.
    ASSERT_NO_FATAL_FAILURE(partner_a_ = MustCreatePartner("株式会社エー工務店", 1000));
    ASSERT_NO_FATAL_FAILURE(partner_b_ = MustCreatePartner("ビー住設株式会社", 500));
    ASSERT_NO_FATAL_FAILURE(partner_c_ = MustCreatePartner("シー設備", 800));
    const customer::v1::Customer yamada = MustCreateEndCustomer("山田太郎");
    const customer::v1::Customer suzuki = MustCreateEndCustomer("鈴木花子");
    const customer::v1::Customer sato = MustCreateEndCustomer("佐藤一郎");
    const customer::v1::Customer tanaka = MustCreateEndCustomer("田中次郎");
    a1_ = MustCreateReferredCase("外壁塗装", yamada, partner_a_, D(2026, 1, 10));
    a2_ = MustCreateReferredCase("浴室改修", suzuki, partner_a_, D(2026, 2, 1));
    a3_ = MustCreateReferredCase("屋根修理", sato, partner_a_, D(2026, 1, 5));
    b1_ = MustCreateReferredCase("キッチン交換", tanaka, partner_b_, D(2026, 1, 20));
    project::v1::RecordReferralOutcomeRequest lost;
    lost.set_request_id("fixture-lost-a3");
    lost.set_project_id(a3_.id());
    lost.set_outcome(project::v1::REFERRAL_OUTCOME_LOST);
    *lost.mutable_lost_date() = ToDateProto(D(2026, 3, 1));
    ASSERT_NO_FATAL_FAILURE(MustRecordOutcome(lost));
    partner_a_token_ = PartnerToken(partner_a_);
    partner_b_token_ = PartnerToken(partner_b_);
  }

  std::string PartnerToken(const customer::v1::Customer& partner) const {
    return host_->Token(Role::kPartner, absl::StrCat("partner-", partner.id()),
                        absl::StrCat(partner.id()));
  }

  template <typename Req, typename Resp>
  absl::StatusOr<Resp> Call(grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Req&, Resp*),
                            const Req& request, const std::string& token) const {
    return CallOn(stub_.get(), rpc, request, token);
  }

  // ---- the report API ----

  absl::StatusOr<v1::OpenPeriodResponse> Open(const std::string& request_id,
                                              const std::string& token = "") {
    v1::OpenPeriodRequest req;
    req.set_request_id(request_id);
    *req.mutable_month() = April();
    return Call(&Stub::OpenPeriod, req, token.empty() ? scheduler_ : token);
  }
  // Opens April and keeps the reports of A, B (and C when it has cases).
  void MustOpenApril() {
    absl::StatusOr<v1::OpenPeriodResponse> opened = Open("open-april");
    ASSERT_TRUE(opened.ok()) << opened.status();
    for (const v1::Report& r : opened->reports()) {
      if (r.partner_id() == partner_a_.id()) report_a_ = r;
      if (r.partner_id() == partner_b_.id()) report_b_ = r;
      if (r.partner_id() == partner_c_.id()) report_c_ = r;
    }
    ASSERT_GT(report_a_.id(), 0);
    ASSERT_GT(report_b_.id(), 0);
  }
  absl::StatusOr<v1::Report> GetReport(int64_t id, const std::string& token) {
    v1::GetReportRequest req;
    req.set_id(id);
    return Call(&Stub::GetReport, req, token);
  }
  absl::StatusOr<std::vector<v1::ReportLine>> Lines(int64_t report_id, const std::string& token) {
    v1::ListReportLinesRequest req;
    req.set_report_id(report_id);
    absl::StatusOr<v1::ListReportLinesResponse> got = Call(&Stub::ListReportLines, req, token);
    if (!got.ok()) return got.status();
    return std::vector<v1::ReportLine>(got->lines().begin(), got->lines().end());
  }
  std::vector<v1::ReportLine> MustLines(int64_t report_id) {
    absl::StatusOr<std::vector<v1::ReportLine>> lines = Lines(report_id, staff_);
    EXPECT_TRUE(lines.ok()) << lines.status();
    return lines.value_or(std::vector<v1::ReportLine>());
  }
  // The line of `project_id` in a report.
  v1::ReportLine LineOf(int64_t report_id, int64_t project_id) {
    for (const v1::ReportLine& l : MustLines(report_id)) {
      if (l.project_id() == project_id) return l;
    }
    ADD_FAILURE() << "no line for project " << project_id;
    return v1::ReportLine();
  }
  absl::StatusOr<v1::ReportLine> NoChange(int64_t line_id, const std::string& token,
                                          const std::string& etag = "") {
    v1::MarkNoChangeRequest req;
    req.set_line_id(line_id);
    req.set_etag(etag);
    return Call(&Stub::MarkNoChange, req, token);
  }
  absl::StatusOr<v1::ReportLine> Change(int64_t line_id, const v1::CaseChange& change,
                                        const std::string& token, const std::string& etag = "") {
    v1::ReportChangeRequest req;
    req.set_line_id(line_id);
    *req.mutable_change() = change;
    req.set_etag(etag);
    return Call(&Stub::ReportChange, req, token);
  }
  static v1::CaseChange Completed(absl::CivilDay date, int64_t amount,
                                  const std::string& remarks = "") {
    v1::CaseChange c;
    c.set_outcome(v1::OUTCOME_COMPLETED);
    *c.mutable_completion_date() = ToDateProto(date);
    c.set_amount(amount);
    c.set_remarks(remarks);
    return c;
  }
  static v1::CaseChange Lost(absl::CivilDay date) {
    v1::CaseChange c;
    c.set_outcome(v1::OUTCOME_LOST);
    *c.mutable_lost_date() = ToDateProto(date);
    return c;
  }
  static void AddExtra(v1::CaseChange* c, absl::CivilDay date, int64_t amount) {
    v1::ExtraOrder* x = c->add_extra_orders();
    x->set_kind(v1::EXTRA_ORDER_KIND_ADDITIONAL);
    *x->mutable_order_date() = ToDateProto(date);
    x->set_amount(amount);
    x->set_note("追加工事");
  }
  absl::StatusOr<v1::SubmitReportResponse> Submit(int64_t report_id, const std::string& request_id,
                                                  const std::string& token,
                                                  bool attestation = true) {
    v1::SubmitReportRequest req;
    req.set_request_id(request_id);
    req.set_report_id(report_id);
    req.set_attestation(attestation);
    return Call(&Stub::SubmitReport, req, token);
  }
  absl::StatusOr<std::string> Download(int64_t report_id, const std::string& token) {
    v1::DownloadReportXlsxRequest req;
    req.set_report_id(report_id);
    absl::StatusOr<v1::DownloadReportXlsxResponse> got =
        Call(&Stub::DownloadReportXlsx, req, token);
    if (!got.ok()) return got.status();
    return got->content();
  }
  absl::StatusOr<v1::UploadReportXlsxResponse> Upload(int64_t report_id, const std::string& bytes,
                                                      bool dry_run, const std::string& token) {
    v1::UploadReportXlsxRequest req;
    req.set_report_id(report_id);
    req.set_content(bytes);
    req.set_dry_run(dry_run);
    return Call(&Stub::UploadReportXlsx, req, token);
  }
  absl::StatusOr<v1::SubmissionStatus> Status(int64_t report_id) {
    v1::GetSubmissionStatusRequest req;
    req.set_report_id(report_id);
    return Call(&Stub::GetSubmissionStatus, req, staff_);
  }

  // Edits `xlsx` with openpyxl (edit_report_xlsx.py) and returns the saved file.
  std::string EditWithOpenpyxl(const std::string& xlsx, const std::string& edits_json) {
    char tmpl[] = "/tmp/anken-report-xlsx-XXXXXX";
    const char* dir = ::mkdtemp(tmpl);
    EXPECT_NE(dir, nullptr);
    if (dir == nullptr) return "";
    const std::string in = absl::StrCat(dir, "/in.xlsx");
    const std::string out = absl::StrCat(dir, "/out.xlsx");
    const std::string edits = absl::StrCat(dir, "/edits.json");
    std::ofstream(in, std::ios::binary) << xlsx;
    std::ofstream(edits, std::ios::binary) << edits_json;
    absl::StatusOr<std::pair<int, std::string>> run = anken::testing::RunToExit(
        ANKEN_SYSTEM_PYTHON, {ANKEN_EDIT_XLSX, in, out, edits}, {}, absl::Seconds(30));
    EXPECT_TRUE(run.ok()) << run.status();
    std::string saved;
    if (run.ok()) {
      EXPECT_EQ(run->first, 0) << run->second;
      std::ifstream f(out, std::ios::binary);
      saved.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    }
    for (const std::string& p : {in, out, edits}) ::unlink(p.c_str());
    ::rmdir(dir);
    return saved;
  }

  int64_t AnsweredLines() const { return Count("SELECT count(*) FROM report.lines WHERE answer <> 0"); }
  int64_t AuditEvents() const { return Count("SELECT count(*) FROM report.audit_events"); }

  db::Pool report_pool_;
  PgReportStore store_;
  api::PageTokenCodec page_tokens_;
  std::unique_ptr<server::PeerAuth> report_peer_auth_;
  std::unique_ptr<GrpcPeers> peers_;
  std::unique_ptr<ReportServiceImpl> service_;
  std::unique_ptr<EffectDelivery> delivery_;
  std::unique_ptr<anken::testing::TestHost> host_;
  std::unique_ptr<Stub> stub_;

  std::string staff_, admin_, accounting_, scheduler_;
  std::string partner_a_token_, partner_b_token_;
  customer::v1::Customer partner_a_, partner_b_, partner_c_;
  project::v1::Project a1_, a2_, a3_, b1_;
  v1::Report report_a_, report_b_, report_c_;
};

TEST_F(ReportServiceTest, APeriodOpenedTwiceMakesOneSetOfReports) {
  absl::StatusOr<v1::OpenPeriodResponse> first = Open("open-1");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->created());
  EXPECT_EQ(first->period().deadline_day().day(), 6);
  // A's two cases in progress (not the lost one), B's one; C has none and gets no report.
  ASSERT_THAT(first->reports(), SizeIs(2));
  const v1::Report& a = first->reports(0);
  EXPECT_EQ(a.partner_id(), partner_a_.id());
  EXPECT_EQ(a.partner_name(), "株式会社エー工務店");
  EXPECT_EQ(a.partner_email(), "report@partner.example.jp");
  EXPECT_EQ(a.line_count(), 2);
  EXPECT_EQ(a.status(), v1::REPORT_STATUS_NOT_STARTED);
  EXPECT_EQ(first->reports(1).partner_id(), partner_b_.id());
  std::vector<v1::ReportLine> lines = MustLines(a.id());
  ASSERT_THAT(lines, SizeIs(2));
  EXPECT_EQ(lines[0].case_number(), a1_.number());
  EXPECT_EQ(lines[0].customer_name(), "山田太郎");
  EXPECT_EQ(lines[0].referral_date().month(), 1);
  EXPECT_EQ(lines[0].snapshot().outcome(), v1::OUTCOME_IN_PROGRESS);
  EXPECT_FALSE(lines[0].checked());
  EXPECT_EQ(lines[1].case_number(), a2_.number());

  // A new case afterwards, and a second opening with another request_id: nothing changes.
  MustCreateReferredCase("追加案件", MustCreateEndCustomer("後藤"), partner_c_, D(2026, 4, 1));
  absl::StatusOr<v1::OpenPeriodResponse> second = Open("open-2");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(second->created());
  ASSERT_THAT(second->reports(), SizeIs(2));
  EXPECT_EQ(second->reports(0).id(), a.id());
  EXPECT_EQ(Count("SELECT count(*) FROM report.reports"), 2);
  EXPECT_EQ(Count("SELECT count(*) FROM report.lines"), 3);
  // The first request_id replays its own answer.
  absl::StatusOr<v1::OpenPeriodResponse> replay = Open("open-1");
  ASSERT_TRUE(replay.ok());
  EXPECT_TRUE(replay->created());

  // Only the scheduler (service) and admin open periods.
  EXPECT_TRUE(IsError(Open("open-3", staff_).status(), absl::StatusCode::kPermissionDenied));
  EXPECT_TRUE(IsError(Open("open-4", partner_a_token_).status(),
                      absl::StatusCode::kPermissionDenied));
  v1::GetPeriodRequest get;
  *get.mutable_month() = April();
  absl::StatusOr<v1::Period> period = Call(&Stub::GetPeriod, get, partner_a_token_);
  ASSERT_TRUE(period.ok()) << period.status();
  EXPECT_EQ(period->report_count(), 2);
  get.mutable_month()->set_month(5);
  EXPECT_TRUE(IsError(Call(&Stub::GetPeriod, get, staff_).status(), absl::StatusCode::kNotFound,
                      "PERIOD_NOT_FOUND"));
}

TEST_F(ReportServiceTest, OpeningAPeriodPagesThroughEveryPartnersReferralsAtOnce) {
  // What OpenPeriod asks the project service for: every partner's cases in progress, in
  // pages, by case number (ListReferrals with all_partners), never a call per partner.
  const std::string service = project_host_->Token(Role::kService, "anken-report");
  project::v1::ListReferralsRequest req;
  req.set_all_partners(true);
  req.set_page_size(1);
  req.add_outcomes(project::v1::REFERRAL_OUTCOME_IN_PROGRESS);
  std::vector<int64_t> seen;
  for (int page = 0; page < 10; ++page) {
    absl::StatusOr<project::v1::ListReferralsResponse> resp =
        CallOn(project_stub_.get(), &ProjectStub::ListReferrals, req, service);
    ASSERT_TRUE(resp.ok()) << resp.status();
    for (const auto& p : resp->projects()) seen.push_back(p.id());
    if (resp->next_page_token().empty()) break;
    req.set_page_token(resp->next_page_token());
  }
  EXPECT_EQ(seen, (std::vector<int64_t>{a1_.id(), a2_.id(), b1_.id()}));
  // Without outcomes: every referred case (the lost one too), and no case that is not
  // referred.
  MustCreateEndCustomer("紹介なし");
  project::v1::ListReferralsRequest any;
  any.set_all_partners(true);
  absl::StatusOr<project::v1::ListReferralsResponse> all =
      CallOn(project_stub_.get(), &ProjectStub::ListReferrals, any, service);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->projects_size(), 4);
  // all_partners with a partner, or neither, is refused; a partner token sees its own only.
  any.set_partner_id(partner_a_.id());
  EXPECT_TRUE(IsError(CallOn(project_stub_.get(), &ProjectStub::ListReferrals, any, service)
                          .status(),
                      absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(IsError(CallOn(project_stub_.get(), &ProjectStub::ListReferrals,
                             project::v1::ListReferralsRequest(), service)
                          .status(),
                      absl::StatusCode::kInvalidArgument));
  project::v1::ListReferralsRequest own;
  own.set_all_partners(true);
  absl::StatusOr<project::v1::ListReferralsResponse> b_only = CallOn(
      project_stub_.get(), &ProjectStub::ListReferrals, own,
      project_host_->Token(Role::kPartner, "partner-b", absl::StrCat(partner_b_.id())));
  ASSERT_TRUE(b_only.ok()) << b_only.status();
  ASSERT_EQ(b_only->projects_size(), 1);
  EXPECT_EQ(b_only->projects(0).id(), b1_.id());

  // The period opened from those pages: each partner's report holds its own cases in order.
  absl::StatusOr<v1::OpenPeriodResponse> opened = Open("open-paged");
  ASSERT_TRUE(opened.ok()) << opened.status();
  ASSERT_THAT(opened->reports(), SizeIs(2));
  EXPECT_EQ(opened->reports(0).line_count(), 2);
  EXPECT_EQ(opened->reports(1).line_count(), 1);
  EXPECT_EQ(MustLines(opened->reports(1).id())[0].case_number(), b1_.number());
}

TEST_F(ReportServiceTest, APartnerSeesAndChangesOnlyItsOwnReport) {
  ASSERT_NO_FATAL_FAILURE(MustOpenApril());
  v1::ListReportsRequest list;
  absl::StatusOr<v1::ListReportsResponse> mine = Call(&Stub::ListReports, list, partner_a_token_);
  ASSERT_TRUE(mine.ok()) << mine.status();
  ASSERT_THAT(mine->reports(), SizeIs(1));
  EXPECT_EQ(mine->reports(0).id(), report_a_.id());
  list.set_partner_id(partner_b_.id());
  absl::StatusOr<v1::ListReportsResponse> theirs =
      Call(&Stub::ListReports, list, partner_a_token_);
  ASSERT_TRUE(theirs.ok());
  EXPECT_THAT(theirs->reports(), SizeIs(0));
  list.set_partner_id(0);
  absl::StatusOr<v1::ListReportsResponse> all = Call(&Stub::ListReports, list, staff_);
  ASSERT_TRUE(all.ok());
  EXPECT_THAT(all->reports(), SizeIs(2));

  // B's report, its lines and its file do not exist for A.
  const v1::ReportLine b_line = LineOf(report_b_.id(), b1_.id());
  EXPECT_TRUE(IsError(GetReport(report_b_.id(), partner_a_token_).status(),
                      absl::StatusCode::kNotFound, "REPORT_NOT_FOUND"));
  EXPECT_TRUE(IsError(Lines(report_b_.id(), partner_a_token_).status(),
                      absl::StatusCode::kNotFound));
  EXPECT_TRUE(IsError(Download(report_b_.id(), partner_a_token_).status(),
                      absl::StatusCode::kNotFound));
  EXPECT_TRUE(IsError(NoChange(b_line.id(), partner_a_token_).status(),
                      absl::StatusCode::kNotFound, "LINE_NOT_FOUND"));
  EXPECT_TRUE(IsError(Change(b_line.id(), Lost(D(2026, 3, 1)), partner_a_token_).status(),
                      absl::StatusCode::kNotFound));
  EXPECT_TRUE(IsError(Submit(report_b_.id(), "a-submits-b", partner_a_token_).status(),
                      absl::StatusCode::kNotFound));
  EXPECT_EQ(AnsweredLines(), 0);

  // B answers its own; accounting reads but cannot answer.
  ASSERT_TRUE(NoChange(b_line.id(), partner_b_token_).ok());
  EXPECT_TRUE(GetReport(report_b_.id(), accounting_).ok());
  EXPECT_TRUE(IsError(NoChange(b_line.id(), accounting_).status(),
                      absl::StatusCode::kPermissionDenied));
  absl::StatusOr<v1::Report> b = GetReport(report_b_.id(), partner_b_token_);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->checked_count(), 1);
  EXPECT_EQ(b->status(), v1::REPORT_STATUS_IN_PROGRESS);
}

TEST_F(ReportServiceTest, AnswersAreValidatedWithThePartnersTexts) {
  ASSERT_NO_FATAL_FAILURE(MustOpenApril());
  const v1::ReportLine line = LineOf(report_a_.id(), a1_.id());
  const std::string number = a1_.number();
  const int64_t events = AuditEvents();

  // 施工完了 without an amount.
  absl::StatusOr<v1::ReportLine> r = Change(line.id(), Completed(D(2026, 3, 20), 0), partner_a_token_);
  ASSERT_TRUE(IsError(r.status(), absl::StatusCode::kInvalidArgument, "INVALID_COMBINATION"));
  EXPECT_EQ(r.status().message(), CombinationText(number));
  // A date in the future (today is 4/2).
  r = Change(line.id(), Lost(D(2026, 4, 10)), partner_a_token_);
  ASSERT_TRUE(IsError(r.status(), absl::StatusCode::kInvalidArgument, "INVALID_COMBINATION"));
  EXPECT_EQ(r.status().message(), CombinationText(number));
  // Remarks with a fullwidth minus.
  r = Change(line.id(), Completed(D(2026, 3, 20), 1000, "値引き－500円"), partner_a_token_);
  ASSERT_TRUE(IsError(r.status(), absl::StatusCode::kInvalidArgument, "INVALID_REMARKS"));
  EXPECT_EQ(r.status().message(), RemarksText(number));
  // An impossible date is the API's own error, naming the field.
  v1::CaseChange bad = Completed(D(2026, 3, 20), 1000);
  bad.mutable_completion_date()->set_day(31);
  bad.mutable_completion_date()->set_month(2);
  EXPECT_TRUE(IsError(Change(line.id(), bad, partner_a_token_).status(),
                      absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(AnsweredLines(), 0);
  EXPECT_EQ(AuditEvents(), events);

  // Valid: checked, with a new etag; a stale etag is refused.
  absl::StatusOr<v1::ReportLine> ok =
      Change(line.id(), Completed(D(2026, 3, 20), 1500000, "引き渡し済み"), partner_a_token_,
             line.etag());
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_TRUE(ok->checked());
  EXPECT_EQ(ok->answer(), v1::LINE_ANSWER_CHANGED);
  EXPECT_EQ(ok->change().amount(), 1500000);
  EXPECT_EQ(ok->answered_by(), absl::StrCat("partner-", partner_a_.id()));
  EXPECT_NE(ok->etag(), line.etag());
  EXPECT_TRUE(IsError(NoChange(line.id(), partner_a_token_, line.etag()).status(),
                      absl::StatusCode::kAborted));
  // Repeating the snapshot is 変更なし.
  v1::CaseChange same;
  same.set_outcome(v1::OUTCOME_IN_PROGRESS);
  absl::StatusOr<v1::ReportLine> none = Change(line.id(), same, partner_a_token_, ok->etag());
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->answer(), v1::LINE_ANSWER_NO_CHANGE);
  EXPECT_EQ(AuditEvents(), events + 2);

  absl::StatusOr<v1::Report> report = GetReport(report_a_.id(), partner_a_token_);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->checked_count(), 1);
  EXPECT_EQ(report->status(), v1::REPORT_STATUS_IN_PROGRESS);
  // Not every line is checked: no submission.
  EXPECT_TRUE(IsError(Submit(report_a_.id(), "too-early", partner_a_token_).status(),
                      absl::StatusCode::kFailedPrecondition, "LINES_UNCHECKED"));
}

TEST_F(ReportServiceTest, AnXlsxRoundTripUpdatesTheCasesAndChargesTheCommissionsOnce) {
  ASSERT_NO_FATAL_FAILURE(MustOpenApril());
  absl::StatusOr<std::string> file = Download(report_a_.id(), partner_a_token_);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_GT(file->size(), 1000u);
  const std::string edited = EditWithOpenpyxl(
      *file, absl::StrCat(R"([{"case":")", a1_.number(), R"(","column":"取次状況","value":"施工完了"},)",
                          R"({"case":")", a1_.number(), R"(","column":"完了日","value":{"date":"2026-03-20"}},)",
                          R"({"case":")", a1_.number(), R"(","column":"施工金額","value":1234567},)",
                          R"({"case":")", a1_.number(), R"(","column":"報告備考","value":"3月末に引き渡し済み"},)",
                          R"({"case":")", a2_.number(), R"(","column":"取次状況","value":"失注"},)",
                          R"({"case":")", a2_.number(), R"(","column":"失注日","value":"2026/3/25"}])"));
  ASSERT_FALSE(edited.empty());

  // A dry run says what would happen and writes nothing.
  absl::StatusOr<v1::UploadReportXlsxResponse> dry = Upload(report_a_.id(), edited, true, partner_a_token_);
  ASSERT_TRUE(dry.ok()) << dry.status();
  EXPECT_TRUE(dry->accepted()) << dry->DebugString();
  EXPECT_EQ(dry->changed_count(), 2);
  EXPECT_EQ(AnsweredLines(), 0);

  absl::StatusOr<v1::UploadReportXlsxResponse> up = Upload(report_a_.id(), edited, false, partner_a_token_);
  ASSERT_TRUE(up.ok()) << up.status();
  ASSERT_TRUE(up->accepted()) << up->DebugString();
  EXPECT_EQ(up->report().checked_count(), 2);
  v1::ReportLine l1 = LineOf(report_a_.id(), a1_.id());
  EXPECT_EQ(l1.change().outcome(), v1::OUTCOME_COMPLETED);
  EXPECT_EQ(l1.change().amount(), 1234567);
  EXPECT_EQ(l1.change().completion_date().day(), 20);
  EXPECT_EQ(l1.change().remarks(), "3月末に引き渡し済み");
  const v1::ReportLine l2 = LineOf(report_a_.id(), a2_.id());
  EXPECT_EQ(l2.change().outcome(), v1::OUTCOME_LOST);
  EXPECT_EQ(l2.change().lost_date().day(), 25);

  // An additional order on the completed case, reported on its line.
  v1::CaseChange with_extra = l1.change();
  AddExtra(&with_extra, D(2026, 3, 28), 200000);
  absl::StatusOr<v1::ReportLine> extra = Change(l1.id(), with_extra, partner_a_token_, l1.etag());
  ASSERT_TRUE(extra.ok()) << extra.status();

  // The confirm page: both changes, and the commissions billing will charge.
  v1::PreviewSubmissionRequest preview_req;
  preview_req.set_report_id(report_a_.id());
  absl::StatusOr<v1::PreviewSubmissionResponse> preview =
      Call(&Stub::PreviewSubmission, preview_req, partner_a_token_);
  ASSERT_TRUE(preview.ok()) << preview.status();
  ASSERT_THAT(preview->changes(), SizeIs(2));
  EXPECT_EQ(preview->unchecked_count(), 0);
  const v1::LineChange& c1 = preview->changes(0);
  EXPECT_EQ(c1.case_number(), a1_.number());
  EXPECT_TRUE(c1.newly_completed());
  ASSERT_THAT(c1.commissions(), SizeIs(2));
  EXPECT_EQ(c1.commissions(0).source(), "completion");
  EXPECT_EQ(c1.commissions(0).construction_amount(), 1234567);
  EXPECT_EQ(c1.commissions(1).construction_amount(), 200000);
  EXPECT_THAT(preview->changes(1).commissions(), SizeIs(0));

  // Submitting needs the attestation; then the report and its effects are stored at once.
  EXPECT_TRUE(IsError(Submit(report_a_.id(), "submit-0", partner_a_token_, false).status(),
                      absl::StatusCode::kInvalidArgument, "ATTESTATION_REQUIRED"));
  absl::StatusOr<v1::SubmitReportResponse> submitted =
      Submit(report_a_.id(), "submit-1", partner_a_token_);
  ASSERT_TRUE(submitted.ok()) << submitted.status();
  EXPECT_EQ(submitted->report().status(), v1::REPORT_STATUS_SUBMITTED);
  ASSERT_THAT(submitted->submission().effects(), SizeIs(4));
  EXPECT_EQ(submitted->submission().effects(0).request_id(),
            absl::StrCat("report-line-", l1.id(), "-outcome"));
  // Nothing is applied before the outbox runs.
  EXPECT_EQ(MustGetProject(a1_.id()).referral().outcome(), project::v1::REFERRAL_OUTCOME_IN_PROGRESS);
  absl::StatusOr<v1::SubmissionStatus> pending = Status(report_a_.id());
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(pending->pending_count(), 4);
  EXPECT_EQ(pending->submissions(0).effects(0).state(), v1::EFFECT_STATE_PENDING);

  DeliveryRound round = delivery_->RunOnce();
  ASSERT_TRUE(round.status.ok()) << round.status;
  EXPECT_EQ(round.done, 4);
  EXPECT_EQ(round.failed, 0);
  const project::v1::Project p1 = MustGetProject(a1_.id());
  EXPECT_EQ(p1.referral().outcome(), project::v1::REFERRAL_OUTCOME_COMPLETED);
  EXPECT_EQ(p1.referral().amount(), 1234567);
  EXPECT_EQ(p1.referral().remarks(), "3月末に引き渡し済み");
  ASSERT_THAT(p1.referral().extra_orders(), SizeIs(1));
  EXPECT_EQ(p1.referral().extra_orders(0).amount(), 200000);
  const project::v1::Project p2 = MustGetProject(a2_.id());
  EXPECT_EQ(p2.referral().outcome(), project::v1::REFERRAL_OUTCOME_LOST);
  EXPECT_EQ(p2.referral().lost_date().day(), 25);
  // 10%: floor(1,234,567 × 0.1) + 20,000.
  EXPECT_EQ(ChargesOf(a1_.id()), 2);
  EXPECT_EQ(CommissionOf(a1_.id()), 123456 + 20000);
  EXPECT_EQ(ChargesOf(a2_.id()), 0);
  absl::StatusOr<v1::SubmissionStatus> done = Status(report_a_.id());
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->done_count(), 4);
  EXPECT_EQ(done->pending_count(), 0);

  // Nothing is due any more; and when every mark is lost (a crash after the calls), the outbox
  // repeats all of them and the peers apply none twice.
  EXPECT_EQ(delivery_->RunOnce().claimed, 0);
  const int64_t commission_entries = Count("SELECT count(*) FROM billing.entries WHERE kind = 2");
  Exec("UPDATE report.effects SET done_at = NULL");
  round = delivery_->RunOnce();
  EXPECT_EQ(round.done, 4);
  EXPECT_EQ(OutcomesRecorded(a1_.id()), 1);
  EXPECT_EQ(OutcomesRecorded(a2_.id()), 1);
  EXPECT_THAT(MustGetProject(a1_.id()).referral().extra_orders(), SizeIs(1));
  EXPECT_EQ(ChargesOf(a1_.id()), 2);
  EXPECT_EQ(Count("SELECT count(*) FROM billing.entries WHERE kind = 2"), commission_entries);
}

// Fails every call while `down`, then passes them on: a peer outage.
class FlakyPeers final : public EffectPeers {
 public:
  explicit FlakyPeers(EffectPeers& real) : real_(real) {}
  absl::Status RecordReferralOutcome(const project::v1::RecordReferralOutcomeRequest& r,
                                     absl::Time deadline) override {
    if (down) return absl::UnavailableError("project service down");
    return real_.RecordReferralOutcome(r, deadline);
  }
  absl::Status CreateCommissionCharge(const billing::v1::CreateCommissionChargeRequest& r,
                                      absl::Time deadline) override {
    if (down) return absl::UnavailableError("billing service down");
    return real_.CreateCommissionCharge(r, deadline);
  }
  bool down = true;

 private:
  EffectPeers& real_;
};

TEST_F(ReportServiceTest, AnUnavailablePeerDelaysEffectsWithBackoffAndLosesNone) {
  ASSERT_NO_FATAL_FAILURE(MustOpenApril());
  ASSERT_TRUE(Change(LineOf(report_a_.id(), a1_.id()).id(), Completed(D(2026, 3, 20), 900000),
                     partner_a_token_)
                  .ok());
  ASSERT_TRUE(NoChange(LineOf(report_a_.id(), a2_.id()).id(), partner_a_token_).ok());
  ASSERT_TRUE(Submit(report_a_.id(), "s-1", partner_a_token_).ok());
  FlakyPeers flaky(*peers_);
  EffectDeliveryOptions options;
  options.owner = "flaky";
  options.retry_base = absl::Seconds(10);
  EffectDelivery delivery(store_, flaky, fake_clock_, options);

  // The outcome fails; its charge waits for it.
  DeliveryRound round = delivery.RunOnce();
  EXPECT_EQ(round.claimed, 1);
  EXPECT_EQ(round.failed, 1);
  absl::StatusOr<v1::SubmissionStatus> s = Status(report_a_.id());
  ASSERT_TRUE(s.ok());
  ASSERT_THAT(s->submissions(0).effects(), SizeIs(2));
  const v1::Effect& outcome = s->submissions(0).effects(0);
  EXPECT_EQ(outcome.state(), v1::EFFECT_STATE_RETRYING);
  EXPECT_EQ(outcome.attempts(), 1);
  EXPECT_NE(outcome.last_error().find("project service down"), std::string::npos);
  EXPECT_EQ(api::FromTimestamp(outcome.next_attempt_time()), fake_clock_.Now() + absl::Seconds(10));
  EXPECT_EQ(s->submissions(0).effects(1).state(), v1::EFFECT_STATE_PENDING);

  // Not before the backoff; then again failing, twice as long.
  EXPECT_EQ(delivery.RunOnce().claimed, 0);
  fake_clock_.Advance(absl::Seconds(10));
  EXPECT_EQ(delivery.RunOnce().failed, 1);
  s = Status(report_a_.id());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->submissions(0).effects(0).attempts(), 2);
  EXPECT_EQ(api::FromTimestamp(s->submissions(0).effects(0).next_attempt_time()),
            fake_clock_.Now() + absl::Seconds(20));
  EXPECT_EQ(OutcomesRecorded(a1_.id()), 0);

  // The peers are back: both effects apply, once.
  flaky.down = false;
  fake_clock_.Advance(absl::Seconds(20));
  round = delivery.RunOnce();
  EXPECT_EQ(round.done, 2);
  EXPECT_EQ(OutcomesRecorded(a1_.id()), 1);
  EXPECT_EQ(ChargesOf(a1_.id()), 1);
  EXPECT_EQ(CommissionOf(a1_.id()), 90000);
  s = Status(report_a_.id());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->done_count(), 2);
  EXPECT_EQ(s->submissions(0).effects(0).state(), v1::EFFECT_STATE_DONE);
  EXPECT_EQ(s->submissions(0).effects(0).last_error(), "");
}

TEST_F(ReportServiceTest, EachUploadErrorKindIsReportedAndNothingIsWritten) {
  // Four cases for partner C, so that each row error has its own row.
  std::vector<project::v1::Project> cases;
  for (int i = 0; i < 4; ++i) {
    cases.push_back(MustCreateReferredCase(absl::StrCat("案件", i),
                                           MustCreateEndCustomer(absl::StrCat("顧客", i)),
                                           partner_c_, D(2026, 2, 1)));
  }
  ASSERT_NO_FATAL_FAILURE(MustOpenApril());
  const int64_t report_c = report_c_.id();
  ASSERT_GT(report_c, 0);
  ASSERT_EQ(report_c_.line_count(), 4);
  const std::string token_c = PartnerToken(partner_c_);
  absl::StatusOr<std::string> file = Download(report_c, token_c);
  ASSERT_TRUE(file.ok()) << file.status();
  const int64_t events = AuditEvents();

  const std::string edited = EditWithOpenpyxl(
      *file,
      absl::StrCat(
          R"([{"case":")", cases[0].number(), R"(","column":"案件番号","value":"ABC"},)",
          R"({"case":")", cases[1].number(), R"(","column":"取次状況","value":"施工完了"},)",
          R"({"case":")", cases[2].number(), R"(","column":"報告備考","value":"値引き－500円"},)",
          R"({"case":")", cases[3].number(), R"(","column":"完了日","value":"#N/A"}])"));
  ASSERT_FALSE(edited.empty());
  for (bool dry_run : {true, false}) {
    absl::StatusOr<v1::UploadReportXlsxResponse> up = Upload(report_c, edited, dry_run, token_c);
    ASSERT_TRUE(up.ok()) << up.status();
    EXPECT_FALSE(up->accepted());
    ASSERT_THAT(up->errors(), SizeIs(4)) << up->DebugString();
    EXPECT_EQ(up->errors(0).code(), "INVALID_CASE_NUMBER");
    EXPECT_EQ(up->errors(0).message(), CaseNumberText("ABC"));
    EXPECT_EQ(up->errors(1).code(), "INVALID_COMBINATION");
    EXPECT_EQ(up->errors(1).message(), CombinationText(cases[1].number()));
    EXPECT_EQ(up->errors(2).code(), "INVALID_REMARKS");
    EXPECT_EQ(up->errors(2).message(), RemarksText(cases[2].number()));
    EXPECT_EQ(up->errors(2).field(), "remarks");
    EXPECT_EQ(up->errors(3).code(), "UNKNOWN_ERROR");
    EXPECT_EQ(up->errors(3).message(), UnknownText(cases[3].number()));
    // The rows as Excel numbers them, one after the other.
    EXPECT_GT(up->errors(0).row(), 1);
    for (int i = 1; i < 4; ++i) EXPECT_EQ(up->errors(i).row(), up->errors(0).row() + i);
    EXPECT_EQ(up->report().checked_count(), 0);
  }

  // The fifth kind: a file that is not ours, and another report's file.
  absl::StatusOr<v1::UploadReportXlsxResponse> junk =
      Upload(report_c, "PK\x03\x04 this is not a spreadsheet", false, token_c);
  ASSERT_TRUE(junk.ok()) << junk.status();
  ASSERT_THAT(junk->errors(), SizeIs(1));
  EXPECT_EQ(junk->errors(0).code(), "UPLOAD_FAILED");
  EXPECT_EQ(junk->errors(0).message(), kUploadFailedText);
  EXPECT_EQ(junk->errors(0).row(), 0);
  absl::StatusOr<std::string> a_file = Download(report_a_.id(), staff_);
  ASSERT_TRUE(a_file.ok());
  absl::StatusOr<v1::UploadReportXlsxResponse> other = Upload(report_c, *a_file, false, token_c);
  ASSERT_TRUE(other.ok()) << other.status();
  ASSERT_THAT(other->errors(), SizeIs(1));
  EXPECT_EQ(other->errors(0).code(), "UPLOAD_FAILED");
  EXPECT_EQ(other->errors(0).message(), kUploadFailedText);

  EXPECT_EQ(AnsweredLines(), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM report.line_extra_orders"), 0);
  EXPECT_EQ(AuditEvents(), events);
}

TEST_F(ReportServiceTest, ASubmittedReportRefusesChangesUntilStaffReopensIt) {
  ASSERT_NO_FATAL_FAILURE(MustOpenApril());
  const v1::ReportLine l1 = LineOf(report_a_.id(), a1_.id());
  const v1::ReportLine l2 = LineOf(report_a_.id(), a2_.id());
  ASSERT_TRUE(Change(l1.id(), Completed(D(2026, 3, 20), 1000000), partner_a_token_).ok());
  ASSERT_TRUE(NoChange(l2.id(), partner_a_token_).ok());
  absl::StatusOr<v1::SubmitReportResponse> first = Submit(report_a_.id(), "s-1", partner_a_token_);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_THAT(first->submission().effects(), SizeIs(2));  // a1: outcome and completion charge
  ASSERT_EQ(delivery_->RunOnce().done, 2);

  // Refused for the partner, in every form; a retry of the submission replays.
  EXPECT_TRUE(IsError(NoChange(l1.id(), partner_a_token_).status(),
                      absl::StatusCode::kFailedPrecondition, "REPORT_SUBMITTED"));
  EXPECT_TRUE(IsError(Change(l2.id(), Lost(D(2026, 3, 1)), partner_a_token_).status(),
                      absl::StatusCode::kFailedPrecondition, "REPORT_SUBMITTED"));
  absl::StatusOr<std::string> file = Download(report_a_.id(), partner_a_token_);
  ASSERT_TRUE(file.ok());
  EXPECT_TRUE(IsError(Upload(report_a_.id(), *file, false, partner_a_token_).status(),
                      absl::StatusCode::kFailedPrecondition, "REPORT_SUBMITTED"));
  EXPECT_TRUE(IsError(Submit(report_a_.id(), "s-2", partner_a_token_).status(),
                      absl::StatusCode::kFailedPrecondition, "REPORT_SUBMITTED"));
  absl::StatusOr<v1::SubmitReportResponse> replay = Submit(report_a_.id(), "s-1", partner_a_token_);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(replay->submission().id(), first->submission().id());

  // Only staff reopen, with a reason.
  v1::ReopenReportRequest reopen;
  reopen.set_report_id(report_a_.id());
  reopen.set_reason("金額の訂正依頼（電話）");
  EXPECT_TRUE(IsError(Call(&Stub::ReopenReport, reopen, partner_a_token_).status(),
                      absl::StatusCode::kPermissionDenied));
  reopen.set_reason("");
  EXPECT_TRUE(IsError(Call(&Stub::ReopenReport, reopen, staff_).status(),
                      absl::StatusCode::kInvalidArgument));
  reopen.set_reason("金額の訂正依頼（電話）");
  absl::StatusOr<v1::Report> reopened = Call(&Stub::ReopenReport, reopen, staff_);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ(reopened->status(), v1::REPORT_STATUS_IN_PROGRESS);
  EXPECT_EQ(Count("SELECT count(*) FROM report.audit_events WHERE actor = 'staff-1' AND "
                  "change_json->'reason'->>'new' = '金額の訂正依頼（電話）'"),
            1);
  EXPECT_TRUE(IsError(Call(&Stub::ReopenReport, reopen, staff_).status(),
                      absl::StatusCode::kFailedPrecondition, "NOT_SUBMITTED"));

  // The corrected amount and a new order: the second submission applies only a1, with new
  // request_ids; billing adjusts the completion charge instead of adding one.
  v1::CaseChange corrected = Completed(D(2026, 3, 20), 1200000);
  AddExtra(&corrected, D(2026, 3, 28), 300000);
  ASSERT_TRUE(Change(l1.id(), corrected, partner_a_token_).ok());
  absl::StatusOr<v1::SubmitReportResponse> second = Submit(report_a_.id(), "s-3", partner_a_token_);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->submission().sequence(), 2);
  ASSERT_THAT(second->submission().effects(), SizeIs(3));
  EXPECT_EQ(second->submission().effects(0).request_id(),
            absl::StrCat("report-line-", l1.id(), "-outcome-2"));
  ASSERT_EQ(delivery_->RunOnce().done, 3);
  const project::v1::Project p1 = MustGetProject(a1_.id());
  EXPECT_EQ(p1.referral().amount(), 1200000);
  EXPECT_THAT(p1.referral().extra_orders(), SizeIs(1));
  EXPECT_EQ(ChargesOf(a1_.id()), 2);
  EXPECT_EQ(CommissionOf(a1_.id()), 120000 + 30000);
  EXPECT_EQ(OutcomesRecorded(a2_.id()), 0);  // 変更なし: never sent

  // Reopened again, the applied order can no longer be dropped.
  reopen.set_reason("再確認");
  ASSERT_TRUE(Call(&Stub::ReopenReport, reopen, staff_).ok());
  EXPECT_TRUE(IsError(Change(l1.id(), Completed(D(2026, 3, 20), 1200000), partner_a_token_).status(),
                      absl::StatusCode::kFailedPrecondition, "EXTRA_ORDER_APPLIED"));
  EXPECT_TRUE(IsError(NoChange(l1.id(), partner_a_token_).status(),
                      absl::StatusCode::kFailedPrecondition, "EXTRA_ORDER_APPLIED"));
}

TEST_F(ReportServiceTest, ACaseUpdateBetweenPeriodsGoesThroughTheSameOutbox) {
  // a3 was lost before the period; the partner later completed it.
  v1::SubmitCaseUpdateRequest req;
  req.set_request_id("cu-1");
  req.set_project_id(a3_.id());
  *req.mutable_change() = Completed(D(2026, 3, 30), 500000);
  EXPECT_TRUE(IsError(Call(&Stub::SubmitCaseUpdate, req, partner_b_token_).status(),
                      absl::StatusCode::kNotFound, "PROJECT_NOT_FOUND"));
  absl::StatusOr<v1::CaseUpdate> update = Call(&Stub::SubmitCaseUpdate, req, partner_a_token_);
  ASSERT_TRUE(update.ok()) << update.status();
  EXPECT_EQ(update->partner_id(), partner_a_.id());
  EXPECT_EQ(update->before().outcome(), v1::OUTCOME_LOST);
  ASSERT_THAT(update->submission().effects(), SizeIs(2));
  ASSERT_EQ(delivery_->RunOnce().done, 2);
  EXPECT_EQ(MustGetProject(a3_.id()).referral().outcome(), project::v1::REFERRAL_OUTCOME_COMPLETED);
  EXPECT_EQ(CommissionOf(a3_.id()), 50000);

  // A retry answers the same, though the case has changed since.
  absl::StatusOr<v1::CaseUpdate> replay = Call(&Stub::SubmitCaseUpdate, req, partner_a_token_);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(replay->id(), update->id());
  v1::GetSubmissionStatusRequest status;
  status.set_case_update_id(update->id());
  absl::StatusOr<v1::SubmissionStatus> s = Call(&Stub::GetSubmissionStatus, status, partner_a_token_);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->done_count(), 2);
  EXPECT_TRUE(IsError(Call(&Stub::GetSubmissionStatus, status, partner_b_token_).status(),
                      absl::StatusCode::kNotFound));

  // 施工完了 is final (the combination text); repeating the case is nothing to report.
  req.set_request_id("cu-2");
  *req.mutable_change() = Lost(D(2026, 3, 31));
  absl::StatusOr<v1::CaseUpdate> back = Call(&Stub::SubmitCaseUpdate, req, partner_a_token_);
  ASSERT_TRUE(IsError(back.status(), absl::StatusCode::kFailedPrecondition, "INVALID_COMBINATION"));
  EXPECT_EQ(back.status().message(), CombinationText(a3_.number()));
  req.set_request_id("cu-3");
  *req.mutable_change() = Completed(D(2026, 3, 30), 500000);
  EXPECT_TRUE(IsError(Call(&Stub::SubmitCaseUpdate, req, partner_a_token_).status(),
                      absl::StatusCode::kInvalidArgument, "NO_CHANGE"));
  // A repeat order on it later: charged on its own.
  req.set_request_id("cu-4");
  AddExtra(req.mutable_change(), D(2026, 4, 1), 80000);
  ASSERT_TRUE(Call(&Stub::SubmitCaseUpdate, req, partner_a_token_).ok());
  ASSERT_EQ(delivery_->RunOnce().done, 2);
  EXPECT_EQ(ChargesOf(a3_.id()), 2);
  EXPECT_EQ(CommissionOf(a3_.id()), 50000 + 8000);
}

TEST_F(ReportServiceTest, TheSchedulerIsToldWhomToRemindFromTheDeadlineDayOn) {
  auto reminders = [&](absl::CivilDay as_of, const std::string& token) {
    v1::ListReportsNeedingReminderRequest req;
    *req.mutable_as_of() = ToDateProto(as_of);
    return Call(&Stub::ListReportsNeedingReminder, req, token);
  };
  absl::StatusOr<v1::ListReportsNeedingReminderResponse> none = reminders(D(2026, 4, 6), scheduler_);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_period());  // not open yet
  ASSERT_NO_FATAL_FAILURE(MustOpenApril());
  absl::StatusOr<v1::ListReportsNeedingReminderResponse> early = reminders(D(2026, 4, 3), scheduler_);
  ASSERT_TRUE(early.ok());
  EXPECT_TRUE(early->has_period());
  EXPECT_THAT(early->reports(), SizeIs(0));
  absl::StatusOr<v1::ListReportsNeedingReminderResponse> due = reminders(D(2026, 4, 6), scheduler_);
  ASSERT_TRUE(due.ok());
  ASSERT_THAT(due->reports(), SizeIs(2));
  EXPECT_FALSE(due->past_deadline());
  EXPECT_EQ(due->reports(0).partner_email(), "report@partner.example.jp");

  // B submits; on 4/7 only A is left, overdue.
  ASSERT_TRUE(NoChange(LineOf(report_b_.id(), b1_.id()).id(), partner_b_token_).ok());
  ASSERT_TRUE(Submit(report_b_.id(), "b-1", partner_b_token_).ok());
  fake_clock_.SetTokyo(absl::CivilSecond(2026, 4, 7, 9, 0, 0));
  absl::StatusOr<v1::ListReportsNeedingReminderResponse> late =
      reminders(D(2026, 4, 7), host_->Token(Role::kService, "anken-scheduler"));
  ASSERT_TRUE(late.ok()) << late.status();
  ASSERT_THAT(late->reports(), SizeIs(1));
  EXPECT_EQ(late->reports(0).partner_id(), partner_a_.id());
  EXPECT_EQ(late->reports(0).status(), v1::REPORT_STATUS_OVERDUE);
  EXPECT_TRUE(late->past_deadline());
  EXPECT_TRUE(IsError(reminders(D(2026, 4, 7), PartnerToken(partner_a_)).status(),
                      absl::StatusCode::kPermissionDenied));

  v1::ListReportsRequest list;
  list.add_statuses(v1::REPORT_STATUS_OVERDUE);
  absl::StatusOr<v1::ListReportsResponse> overdue =
      Call(&Stub::ListReports, list, host_->Token(Role::kStaff, "staff-1"));
  ASSERT_TRUE(overdue.ok());
  ASSERT_THAT(overdue->reports(), SizeIs(1));
  EXPECT_EQ(overdue->reports(0).id(), report_a_.id());
}

}  // namespace
}  // namespace anken::report::testing
