// Integration tests of anken.project.v1.ProjectService through its gRPC API, against a real
// Postgres and the real customer service over gRPC (project_fixture.h): every RPC's happy path
// and errors, the referral state rules (forbidden transitions write nothing), quote tax per
// rate as DESIGN.md states it, the forecast against a hand-computed table, the all-or-nothing
// CSV import of 2,000 cases, the customer service being down, and what a partner token may
// see and do (every RPC).

#include <iconv.h>

#include <algorithm>
#include <functional>
#include <tuple>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "common/api/proto_time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/message_differencer.h"
#include "tests/services/project/project_fixture.h"

namespace anken::project::testing {
namespace {

using ::google::protobuf::util::MessageDifferencer;

std::vector<int64_t> Ids(const v1::ListProjectsResponse& page) {
  std::vector<int64_t> ids;
  for (const auto& p : page.projects()) ids.push_back(p.id());
  return ids;
}

std::vector<int64_t> Ids(const v1::ListReferralsResponse& page) {
  std::vector<int64_t> ids;
  for (const auto& p : page.projects()) ids.push_back(p.id());
  return ids;
}

std::vector<int64_t> Ids(const v1::BatchGetProjectsResponse& resp) {
  std::vector<int64_t> ids;
  for (const auto& p : resp.projects()) ids.push_back(p.id());
  return ids;
}

std::vector<int64_t> IdsOf(std::initializer_list<const v1::Project*> projects) {
  std::vector<int64_t> ids;
  for (const v1::Project* p : projects) ids.push_back(p->id());
  return ids;
}

// UTF-8 -> CP932 (Shift_JIS as Excel writes it) with the C library's iconv.
std::string ToCp932(const std::string& utf8) {
  iconv_t cd = iconv_open("CP932", "UTF-8");
  EXPECT_NE(cd, reinterpret_cast<iconv_t>(-1)) << "iconv has no CP932";
  if (cd == reinterpret_cast<iconv_t>(-1)) return "";
  std::string in = utf8;
  std::string out(in.size() * 2 + 16, '\0');
  char* inp = in.data();
  size_t inleft = in.size();
  char* outp = out.data();
  size_t outleft = out.size();
  const size_t rc = iconv(cd, &inp, &inleft, &outp, &outleft);
  iconv_close(cd);
  EXPECT_NE(rc, static_cast<size_t>(-1)) << "text not representable in CP932";
  out.resize(out.size() - outleft);
  return out;
}

std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

bool SameMessage(const google::protobuf::Message& a, const google::protobuf::Message& b) {
  return MessageDifferencer::Equals(a, b);
}

// ---------------------------------------------------------------------------------------------
// Cases: create, get, batch get
// ---------------------------------------------------------------------------------------------

TEST_F(ProjectServiceTest, CreateProjectNumbersCasesAndReadsThemBack) {
  v1::Project in = NewProject("山田邸 外壁塗装");
  *in.mutable_quote_date() = D(2026, 4, 1);
  *in.mutable_acceptance_date() = D(2026, 4, 10);
  in.set_progress_status("進行中");
  in.set_owner("sato");
  in.set_department("営業1部");
  in.set_memo("社内向け: 値引き余地あり");
  in.set_id(555);           // output only: ignored
  in.set_number("1234567");  // output only: ignored
  absl::StatusOr<v1::Project> first = CreateProject(in);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_GT(first->id(), 0);
  EXPECT_NE(first->id(), 555);
  EXPECT_EQ(first->number(), "0000001");
  EXPECT_EQ(first->customer_id(), active_.id());
  EXPECT_EQ(first->name(), "山田邸 外壁塗装");
  EXPECT_EQ(first->category_id(), 0);
  EXPECT_TRUE(SameMessage(first->quote_date(), D(2026, 4, 1)));
  EXPECT_TRUE(SameMessage(first->acceptance_date(), D(2026, 4, 10)));
  EXPECT_EQ(first->order_status(), v1::ORDER_STATUS_PROSPECT);
  EXPECT_EQ(first->progress_status(), "進行中");
  EXPECT_EQ(first->owner(), "sato");
  EXPECT_EQ(first->department(), "営業1部");
  EXPECT_EQ(first->memo(), "社内向け: 値引き余地あり");
  EXPECT_FALSE(first->has_referral());
  EXPECT_EQ(first->etag(), "\"1\"");
  EXPECT_EQ(first->audit().created_by(), "staff-1");
  EXPECT_EQ(first->audit().updated_by(), "staff-1");
  EXPECT_EQ(api::FromTimestamp(first->audit().create_time()), StartTime());
  EXPECT_EQ(api::FromTimestamp(first->audit().update_time()), StartTime());

  // Get answers what Create answered.
  absl::StatusOr<v1::Project> got = GetProject(first->id());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(SameMessage(*got, *first)) << got->DebugString() << " vs " << first->DebugString();

  // Numbers follow a sequence; a referral starts IN_PROGRESS whatever the request says, and
  // its output-only fields are ignored.
  v1::Project referred = Referred("紹介案件", partner_a_, D(2026, 4, 1));
  referred.set_order_status(v1::ORDER_STATUS_WON);
  referred.mutable_referral()->set_outcome(v1::REFERRAL_OUTCOME_COMPLETED);
  referred.mutable_referral()->set_amount(99999);
  *referred.mutable_referral()->mutable_completion_date() = D(2026, 4, 2);
  referred.mutable_referral()->set_remarks("ignored");
  absl::StatusOr<v1::Project> second = CreateProject(referred);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->number(), "0000002");
  EXPECT_EQ(second->order_status(), v1::ORDER_STATUS_WON);
  ASSERT_TRUE(second->has_referral());
  EXPECT_EQ(second->referral().partner_id(), partner_a_.id());
  EXPECT_TRUE(SameMessage(second->referral().referral_date(), D(2026, 4, 1)));
  EXPECT_EQ(second->referral().outcome(), v1::REFERRAL_OUTCOME_IN_PROGRESS);
  EXPECT_EQ(second->referral().amount(), 0);
  EXPECT_FALSE(second->referral().has_completion_date())
      << "completion_date present: " << second->referral().completion_date().ShortDebugString();
  EXPECT_FALSE(second->referral().has_lost_date())
      << "lost_date present: " << second->referral().lost_date().ShortDebugString();
  EXPECT_EQ(second->referral().remarks(), "");
  EXPECT_EQ(second->referral().extra_orders_size(), 0);

  // A name of 200 kanji is 200 characters, not 600 bytes.
  absl::StatusOr<v1::Project> third = CreateProject(NewProject(Repeat("案", 200)));
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_EQ(third->number(), "0000003");
  // Admin may create too.
  absl::StatusOr<v1::Project> fourth = CreateProject(NewProject("管理者の案件"), NextRequestId(), admin_);
  ASSERT_TRUE(fourth.ok()) << fourth.status();
  EXPECT_EQ(fourth->number(), "0000004");
  EXPECT_EQ(fourth->audit().created_by(), "admin-1");

  EXPECT_EQ(ProjectRows(), 4);
  // One audit event per case.
  EXPECT_EQ(AuditRows(), 4);
}

TEST_F(ProjectServiceTest, CreateProjectRefusesInvalidInputAndWritesNothing) {
  auto create = [&](const v1::Project& p) { return CreateProject(p).status(); };
  EXPECT_TRUE(IsInvalidField(create(NewProject("")), "project.name", "REQUIRED"));
  EXPECT_TRUE(IsInvalidField(create(NewProject("\xE3\x80\x80 ")), "project.name", "REQUIRED"));
  EXPECT_TRUE(IsInvalidField(create(NewProject(Repeat("案", 201))), "project.name", "TOO_LONG"));
  v1::Project no_customer = NewProject("顧客なし");
  no_customer.set_customer_id(0);
  EXPECT_TRUE(IsInvalidField(create(no_customer), "project.customer_id", "REQUIRED"));
  v1::Project bad_progress = NewProject("進捗不明");
  bad_progress.set_progress_status("謎");
  EXPECT_TRUE(IsInvalidField(create(bad_progress), "project.progress_status",
                             "INVALID_PROGRESS_STATUS"));
  v1::Project long_owner = NewProject("担当者長すぎ");
  long_owner.set_owner(Repeat("a", 101));
  EXPECT_TRUE(IsInvalidField(create(long_owner), "project.owner", "TOO_LONG"));
  v1::Project bad_category = NewProject("区分負");
  bad_category.set_category_id(-1);
  EXPECT_TRUE(IsInvalidField(create(bad_category), "project.category_id", "INVALID_ID"));
  v1::Project bad_status = NewProject("受注状況不明");
  bad_status.set_order_status(static_cast<v1::OrderStatus>(9));
  EXPECT_TRUE(IsInvalidField(create(bad_status), "project.order_status"));
  v1::Project bad_date = NewProject("日付不正");
  *bad_date.mutable_quote_date() = D(2026, 2, 30);
  EXPECT_TRUE(IsInvalidField(create(bad_date), "project.quote_date"));
  v1::Project no_partner = Referred("加盟店なし", partner_a_, D(2026, 4, 1));
  no_partner.mutable_referral()->set_partner_id(0);
  EXPECT_TRUE(IsInvalidField(create(no_partner), "project.referral.partner_id", "REQUIRED"));
  v1::Project no_referral_date = Referred("紹介日なし", partner_a_, D(2026, 4, 1));
  no_referral_date.mutable_referral()->clear_referral_date();
  EXPECT_TRUE(IsInvalidField(create(no_referral_date), "project.referral.referral_date",
                             "REQUIRED"));
  EXPECT_TRUE(IsInvalidField(create(Referred("未来の紹介", partner_a_, D(2026, 4, 16))),
                             "project.referral.referral_date", "DATE_IN_FUTURE"));
  EXPECT_TRUE(IsInvalidField(CreateProject(NewProject("ID なし"), "", staff_).status(),
                             "request_id"));
  EXPECT_TRUE(IsInvalidField(CreateProject(NewProject("ID 不正"), "req id with spaces", staff_)
                                 .status(),
                             "request_id"));
  // An unknown category is NOT_FOUND and costs no case number.
  v1::Project unknown_category = NewProject("未知の区分");
  unknown_category.set_category_id(kUnknownId);
  EXPECT_TRUE(IsError(create(unknown_category), absl::StatusCode::kNotFound,
                      "CATEGORY_NOT_FOUND"));

  EXPECT_EQ(ProjectRows(), 0);
  EXPECT_EQ(AuditRows(), 0);
  // None of the refusals drew a number: the first case is 0000001.
  absl::StatusOr<v1::Project> ok = CreateProject(NewProject("最初の案件"));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->number(), "0000001");
  // Today is not in the future.
  absl::StatusOr<v1::Project> today = CreateProject(Referred("本日紹介", partner_a_, D(2026, 4, 15)));
  ASSERT_TRUE(today.ok()) << today.status();
}

TEST_F(ProjectServiceTest, CreateProjectAsksTheCustomerServiceAboutThePartiesAndWritesNothing) {
  // A lead must be converted first.
  v1::Project for_lead = NewProject("見込客の案件");
  for_lead.set_customer_id(lead_.id());
  EXPECT_TRUE(IsError(CreateProject(for_lead).status(), absl::StatusCode::kFailedPrecondition,
                      "CUSTOMER_NOT_ACTIVE"));
  // An unknown customer is NOT_FOUND (the customer service's answer, passed on).
  v1::Project for_unknown = NewProject("未知の顧客");
  for_unknown.set_customer_id(kUnknownId);
  EXPECT_TRUE(IsError(CreateProject(for_unknown).status(), absl::StatusCode::kNotFound,
                      "CUSTOMER_NOT_FOUND"));
  // An inactive customer.
  customer::v1::Customer dormant = MustCreateCustomer(Corporation("休眠株式会社"));
  customer::v1::DeactivateCustomerRequest deactivate;
  deactivate.set_id(dormant.id());
  deactivate.set_reason("取引終了");
  absl::StatusOr<customer::v1::Customer> deactivated = CallOn(
      customer_stub_.get(), &CustomerStub::DeactivateCustomer, deactivate, customer_staff_);
  ASSERT_TRUE(deactivated.ok()) << deactivated.status();
  ASSERT_EQ(deactivated->lifecycle(), customer::v1::LIFECYCLE_INACTIVE);
  v1::Project for_dormant = NewProject("休眠顧客の案件");
  for_dormant.set_customer_id(dormant.id());
  EXPECT_TRUE(IsError(CreateProject(for_dormant).status(), absl::StatusCode::kFailedPrecondition,
                      "CUSTOMER_NOT_ACTIVE"));
  // The referral's partner must have the partner role.
  EXPECT_TRUE(IsError(CreateProject(Referred("加盟店でない", active_, D(2026, 4, 1))).status(),
                      absl::StatusCode::kFailedPrecondition, "NOT_A_PARTNER"));
  EXPECT_TRUE(IsError(CreateProject(Referred("見込客に紹介", lead_, D(2026, 4, 1))).status(),
                      absl::StatusCode::kFailedPrecondition, "NOT_A_PARTNER"));
  v1::Project unknown_partner = Referred("未知の加盟店", partner_a_, D(2026, 4, 1));
  unknown_partner.mutable_referral()->set_partner_id(kUnknownId);
  EXPECT_TRUE(IsError(CreateProject(unknown_partner).status(), absl::StatusCode::kNotFound,
                      "CUSTOMER_NOT_FOUND"));
  EXPECT_EQ(ProjectRows(), 0);
  EXPECT_EQ(AuditRows(), 0);

  // After ConvertLead the same case is accepted.
  customer::v1::ConvertLeadRequest convert;
  convert.set_id(lead_.id());
  absl::StatusOr<customer::v1::Customer> converted =
      CallOn(customer_stub_.get(), &CustomerStub::ConvertLead, convert, customer_staff_);
  ASSERT_TRUE(converted.ok()) << converted.status();
  absl::StatusOr<v1::Project> created = CreateProject(for_lead);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->customer_id(), lead_.id());
  EXPECT_EQ(created->number(), "0000001");
  EXPECT_EQ(ProjectRows(), 1);
}

TEST_F(ProjectServiceTest, CreateProjectIsIdempotentByRequestId) {
  const v1::Project in = Referred("再送される案件", partner_b_, D(2026, 3, 31));
  absl::StatusOr<v1::Project> first = CreateProject(in, "create-1", staff_);
  ASSERT_TRUE(first.ok()) << first.status();
  clock_.Advance(absl::Minutes(3));
  absl::StatusOr<v1::Project> again = CreateProject(in, "create-1", staff_);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(SameMessage(*again, *first)) << again->DebugString() << " vs " << first->DebugString();
  EXPECT_EQ(ProjectRows(), 1);
  EXPECT_EQ(AuditRows(), 1);
  // The same id with another request is the client's bug.
  absl::Status reused = CreateProject(NewProject("別の案件"), "create-1", staff_).status();
  EXPECT_TRUE(IsInvalidField(reused, "request_id", "REQUEST_ID_REUSED")) << reused;
  EXPECT_EQ(ProjectRows(), 1);
  // A new id makes a new case with the next number.
  absl::StatusOr<v1::Project> other = CreateProject(in, "create-2", staff_);
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(other->number(), "0000002");
  EXPECT_EQ(ProjectRows(), 2);
}

TEST_F(ProjectServiceTest, GetAndBatchGetProjects) {
  const v1::Project a = MustCreateProject(NewProject("A"));
  const v1::Project b = MustCreateProject(NewProject("B"));
  const v1::Project c = MustCreateProject(Referred("C", partner_a_, D(2026, 4, 1)));

  EXPECT_EQ(GetProject(kUnknownId).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(IsInvalidField(GetProject(0).status(), "id", "REQUIRED"));
  // Accounting and services read.
  EXPECT_TRUE(GetProject(a.id(), accounting_).ok());
  EXPECT_TRUE(GetProject(a.id(), service_token_).ok());

  v1::BatchGetProjectsRequest req;
  for (int64_t id : {c.id(), a.id(), b.id(), a.id()}) req.add_ids(id);
  absl::StatusOr<v1::BatchGetProjectsResponse> got = Call(&Stub::BatchGetProjects, req);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(Ids(*got), (std::vector<int64_t>{c.id(), a.id(), b.id(), a.id()}));
  EXPECT_TRUE(SameMessage(got->projects(0), c));
  EXPECT_TRUE(SameMessage(got->projects(1), a));

  // NOT_FOUND names the first unknown id.
  v1::BatchGetProjectsRequest unknown;
  for (int64_t id : {a.id(), kUnknownId, kUnknownId + 1}) unknown.add_ids(id);
  absl::Status missing = Call(&Stub::BatchGetProjects, unknown).status();
  EXPECT_TRUE(IsError(missing, absl::StatusCode::kNotFound, "PROJECT_NOT_FOUND"));
  EXPECT_TRUE(absl::StrContains(missing.message(), absl::StrCat(kUnknownId))) << missing;
  EXPECT_FALSE(absl::StrContains(missing.message(), absl::StrCat(kUnknownId + 1))) << missing;

  EXPECT_TRUE(IsInvalidField(Call(&Stub::BatchGetProjects, v1::BatchGetProjectsRequest()).status(),
                             "ids"));
  v1::BatchGetProjectsRequest too_many;
  for (int i = 0; i < 1001; ++i) too_many.add_ids(a.id());
  EXPECT_TRUE(IsInvalidField(Call(&Stub::BatchGetProjects, too_many).status(), "ids"));
  v1::BatchGetProjectsRequest thousand;
  for (int i = 0; i < 1000; ++i) thousand.add_ids(b.id());
  absl::StatusOr<v1::BatchGetProjectsResponse> max = Call(&Stub::BatchGetProjects, thousand);
  ASSERT_TRUE(max.ok()) << max.status();
  EXPECT_EQ(max->projects_size(), 1000);
}

// ---------------------------------------------------------------------------------------------
// ListProjects
// ---------------------------------------------------------------------------------------------

TEST_F(ProjectServiceTest, ListProjectsAppliesEveryFilter) {
  const customer::v1::Customer other = MustCreateCustomer(Corporation("株式会社ほか"));
  auto make = [&](const std::string& name, int64_t customer_id, const std::string& owner,
                  const std::string& dept, v1::OrderStatus status) {
    v1::Project p = NewProject(name);
    p.set_customer_id(customer_id);
    p.set_owner(owner);
    p.set_department(dept);
    p.set_order_status(status);
    return p;
  };
  v1::Project in1 = make("p1", active_.id(), "sato", "営業1部", v1::ORDER_STATUS_PROSPECT);
  *in1.mutable_quote_date() = D(2026, 1, 10);
  *in1.mutable_acceptance_date() = D(2026, 2, 1);
  const v1::Project p1 = MustCreateProject(in1);
  v1::Project in2 = make("p2", other.id(), "suzuki", "営業2部", v1::ORDER_STATUS_WON);
  *in2.mutable_quote_date() = D(2026, 2, 10);
  *in2.mutable_acceptance_date() = D(2026, 3, 15);
  const v1::Project p2 = MustCreateProject(in2);
  const v1::Project p3 =
      MustCreateProject(make("p3", active_.id(), "sato", "営業2部", v1::ORDER_STATUS_LOST));
  v1::Project in4 = make("p4", active_.id(), "", "", v1::ORDER_STATUS_PROSPECT);
  *in4.mutable_referral() = Referred("", partner_a_, D(2026, 4, 1)).referral();
  const v1::Project p4 = MustCreateProject(in4);
  v1::Project in5 = make("p5", other.id(), "suzuki", "営業1部", v1::ORDER_STATUS_PROSPECT);
  *in5.mutable_referral() = Referred("", partner_b_, D(2026, 3, 1)).referral();
  *in5.mutable_quote_date() = D(2026, 3, 31);
  const v1::Project p5 = MustCreateProject(in5);
  v1::Project in6 = make("p6", active_.id(), "", "", v1::ORDER_STATUS_WON);
  *in6.mutable_referral() = Referred("", partner_a_, D(2026, 4, 10)).referral();
  *in6.mutable_quote_date() = D(2026, 4, 15);
  const v1::Project p6 = MustCreateProject(in6);

  auto list = [&](const std::function<void(v1::ListProjectsRequest&)>& set) {
    v1::ListProjectsRequest req;
    set(req);
    absl::StatusOr<v1::ListProjectsResponse> page = ListProjects(req);
    EXPECT_TRUE(page.ok()) << page.status();
    if (page.ok()) {
      EXPECT_EQ(page->next_page_token(), "");
    }
    return page.ok() ? Ids(*page) : std::vector<int64_t>{-1};
  };
  EXPECT_EQ(list([](auto&) {}), IdsOf({&p1, &p2, &p3, &p4, &p5, &p6}));
  EXPECT_EQ(list([&](auto& r) { r.set_customer_id(other.id()); }), IdsOf({&p2, &p5}));
  EXPECT_EQ(list([&](auto& r) { r.set_customer_id(kUnknownId); }), std::vector<int64_t>{});
  EXPECT_EQ(list([](auto& r) { r.add_order_statuses(v1::ORDER_STATUS_WON); }), IdsOf({&p2, &p6}));
  EXPECT_EQ(list([](auto& r) {
              r.add_order_statuses(v1::ORDER_STATUS_WON);
              r.add_order_statuses(v1::ORDER_STATUS_LOST);
            }),
            IdsOf({&p2, &p3, &p6}));
  EXPECT_EQ(list([](auto& r) { r.add_order_statuses(v1::ORDER_STATUS_PROSPECT); }),
            IdsOf({&p1, &p4, &p5}));
  EXPECT_EQ(list([](auto& r) { r.set_owner("sato"); }), IdsOf({&p1, &p3}));
  EXPECT_EQ(list([](auto& r) { r.set_owner("suzuki"); }), IdsOf({&p2, &p5}));
  EXPECT_EQ(list([](auto& r) { r.set_department("営業2部"); }), IdsOf({&p2, &p3}));
  EXPECT_EQ(list([](auto& r) { r.set_department("営業1部"); }), IdsOf({&p1, &p5}));
  EXPECT_EQ(list([&](auto& r) { r.set_partner_id(partner_a_.id()); }), IdsOf({&p4, &p6}));
  EXPECT_EQ(list([&](auto& r) { r.set_partner_id(partner_b_.id()); }), IdsOf({&p5}));
  // Date ranges are inclusive; cases without the date are outside any range.
  EXPECT_EQ(list([](auto& r) { *r.mutable_quote_date_from() = D(2026, 2, 10); }),
            IdsOf({&p2, &p5, &p6}));
  EXPECT_EQ(list([](auto& r) { *r.mutable_quote_date_to() = D(2026, 3, 31); }),
            IdsOf({&p1, &p2, &p5}));
  EXPECT_EQ(list([](auto& r) {
              *r.mutable_quote_date_from() = D(2026, 2, 10);
              *r.mutable_quote_date_to() = D(2026, 3, 31);
            }),
            IdsOf({&p2, &p5}));
  EXPECT_EQ(list([](auto& r) { *r.mutable_acceptance_date_from() = D(2026, 2, 2); }), IdsOf({&p2}));
  EXPECT_EQ(list([](auto& r) { *r.mutable_acceptance_date_to() = D(2026, 2, 1); }), IdsOf({&p1}));
  EXPECT_EQ(list([](auto& r) {
              *r.mutable_acceptance_date_from() = D(2026, 2, 1);
              *r.mutable_acceptance_date_to() = D(2026, 3, 15);
            }),
            IdsOf({&p1, &p2}));
  // Filters combine with AND.
  EXPECT_EQ(list([&](auto& r) {
              r.set_customer_id(active_.id());
              r.set_owner("sato");
              r.add_order_statuses(v1::ORDER_STATUS_LOST);
            }),
            IdsOf({&p3}));
  EXPECT_EQ(list([&](auto& r) {
              r.set_partner_id(partner_a_.id());
              r.add_order_statuses(v1::ORDER_STATUS_WON);
            }),
            IdsOf({&p6}));
  // The newest-first order applies the same filters.
  EXPECT_EQ(list([](auto& r) {
              r.set_owner("sato");
              r.set_order_by(v1::PROJECT_ORDER_BY_UPDATE_TIME_DESC);
            }),
            IdsOf({&p3, &p1}));

  v1::ListProjectsRequest bad_status;
  bad_status.add_order_statuses(static_cast<v1::OrderStatus>(7));
  EXPECT_TRUE(IsInvalidField(ListProjects(bad_status).status(), "order_statuses"));
  v1::ListProjectsRequest bad_date;
  *bad_date.mutable_quote_date_from() = D(2026, 13, 1);
  EXPECT_TRUE(IsInvalidField(ListProjects(bad_date).status(), "quote_date_from"));
  v1::ListProjectsRequest too_big;
  too_big.set_page_size(1001);
  EXPECT_TRUE(IsInvalidField(ListProjects(too_big).status(), "page_size"));
  v1::ListProjectsRequest negative;
  negative.set_page_size(-1);
  EXPECT_TRUE(IsInvalidField(ListProjects(negative).status(), "page_size"));
}

TEST_F(ProjectServiceTest, ListProjectsPagesWithoutGapsInBothOrders) {
  std::vector<v1::Project> cases;
  for (int i = 1; i <= 7; ++i) cases.push_back(MustCreateProject(NewProject(absl::StrCat("案件", i))));

  auto all_pages = [&](v1::ListProjectsRequest req,
                       const std::function<void(int page)>& between = nullptr) {
    std::vector<int64_t> ids;
    std::vector<int> sizes;
    for (int page = 0; page < 20; ++page) {
      absl::StatusOr<v1::ListProjectsResponse> resp = ListProjects(req);
      EXPECT_TRUE(resp.ok()) << resp.status();
      if (!resp.ok()) break;
      for (int64_t id : Ids(*resp)) ids.push_back(id);
      sizes.push_back(resp->projects_size());
      if (resp->next_page_token().empty()) break;
      req.set_page_token(resp->next_page_token());
      if (between) between(page);
    }
    return std::make_pair(ids, sizes);
  };

  // By number: 3 + 3 + 1, in number order.
  v1::ListProjectsRequest by_number;
  by_number.set_page_size(3);
  const auto [numbered, sizes] = all_pages(by_number);
  EXPECT_EQ(sizes, (std::vector<int>{3, 3, 1}));
  std::vector<int64_t> expected;
  for (const auto& c : cases) expected.push_back(c.id());
  EXPECT_EQ(numbered, expected);

  // A case created between pages appears once, at the end; nothing is skipped or repeated.
  v1::Project late;
  const std::vector<int64_t> with_insert = all_pages(by_number, [&](int page) {
    if (page == 0) late = MustCreateProject(NewProject("途中で登録"));
  }).first;
  std::vector<int64_t> expected_with_late = expected;
  expected_with_late.push_back(late.id());
  EXPECT_EQ(with_insert, expected_with_late);

  // By update time, newest first; equal times fall back to id, newest first.
  clock_.Advance(absl::Minutes(1));
  v1::Project patch3;
  patch3.set_id(cases[2].id());
  patch3.set_name("更新3");
  ASSERT_TRUE(UpdateProject(patch3, {"name"}).ok());
  clock_.Advance(absl::Minutes(1));
  v1::Project patch1;
  patch1.set_id(cases[0].id());
  patch1.set_name("更新1");
  ASSERT_TRUE(UpdateProject(patch1, {"name"}).ok());
  v1::ListProjectsRequest by_update;
  by_update.set_order_by(v1::PROJECT_ORDER_BY_UPDATE_TIME_DESC);
  by_update.set_page_size(2);
  const auto [updated, sizes3] = all_pages(by_update);
  EXPECT_EQ(sizes3, (std::vector<int>{2, 2, 2, 2}));
  EXPECT_EQ(updated, (std::vector<int64_t>{cases[0].id(), cases[2].id(), late.id(), cases[6].id(),
                                           cases[5].id(), cases[4].id(), cases[3].id(),
                                           cases[1].id()}));
  // The explicit NUMBER order is the default order.
  v1::ListProjectsRequest explicit_number;
  explicit_number.set_order_by(v1::PROJECT_ORDER_BY_NUMBER);
  const std::vector<int64_t> numbered_again = all_pages(explicit_number).first;
  EXPECT_EQ(numbered_again, expected_with_late);

  // A token is bound to its filters.
  absl::StatusOr<v1::ListProjectsResponse> first = ListProjects(by_number);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_FALSE(first->next_page_token().empty());
  v1::ListProjectsRequest changed = by_number;
  changed.set_page_token(first->next_page_token());
  changed.set_owner("sato");
  EXPECT_TRUE(IsInvalidField(ListProjects(changed).status(), "page_token"));
  v1::ListProjectsRequest forged = by_number;
  forged.set_page_token("not-a-token");
  EXPECT_TRUE(IsInvalidField(ListProjects(forged).status(), "page_token"));
}

// ---------------------------------------------------------------------------------------------
// UpdateProject
// ---------------------------------------------------------------------------------------------

TEST_F(ProjectServiceTest, UpdateProjectAppliesTheMaskAndChecksTheEtag) {
  v1::Project in = NewProject("旧名");
  in.set_owner("sato");
  in.set_department("営業1部");
  in.set_memo("メモ");
  *in.mutable_quote_date() = D(2026, 4, 1);
  const v1::Project p = MustCreateProject(in);

  clock_.Advance(absl::Minutes(5));
  v1::Project patch;
  patch.set_id(p.id());
  patch.set_etag(p.etag());
  patch.set_name("新名");
  patch.set_owner("ignored: not in the mask");
  // memo and quote_date are in the mask but absent in the patch: they are cleared.
  absl::StatusOr<v1::Project> updated =
      UpdateProject(patch, {"name", "memo", "quote_date"}, admin_);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->name(), "新名");
  EXPECT_EQ(updated->owner(), "sato");
  EXPECT_EQ(updated->department(), "営業1部");
  EXPECT_EQ(updated->memo(), "");
  EXPECT_FALSE(updated->has_quote_date())
      << "quote_date present: " << updated->quote_date().ShortDebugString();
  EXPECT_EQ(updated->order_status(), v1::ORDER_STATUS_PROSPECT);
  EXPECT_EQ(updated->number(), p.number());
  EXPECT_EQ(updated->etag(), "\"2\"");
  EXPECT_EQ(updated->audit().created_by(), "staff-1");
  EXPECT_EQ(updated->audit().updated_by(), "admin-1");
  EXPECT_EQ(api::FromTimestamp(updated->audit().create_time()), StartTime());
  EXPECT_EQ(api::FromTimestamp(updated->audit().update_time()), StartTime() + absl::Minutes(5));
  absl::StatusOr<v1::Project> read = GetProject(p.id());
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(SameMessage(*read, *updated));
  EXPECT_EQ(AuditRows(), 2);

  // A stale etag is ABORTED and writes nothing.
  v1::Project stale = patch;
  stale.set_etag(p.etag());
  stale.set_name("競合");
  EXPECT_TRUE(IsError(UpdateProject(stale, {"name"}).status(), absl::StatusCode::kAborted,
                      "ETAG_MISMATCH"));
  read = GetProject(p.id());
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(SameMessage(*read, *updated));
  EXPECT_EQ(AuditRows(), 2);
  v1::Project malformed = patch;
  malformed.set_etag("W/\"2\"");
  EXPECT_TRUE(IsInvalidField(UpdateProject(malformed, {"name"}).status(), "etag"));

  // Every writable field, with the current etag.
  v1::Project all;
  all.set_id(p.id());
  all.set_etag("\"2\"");
  all.set_name("全項目");
  all.set_progress_status("保留");
  all.set_owner("suzuki");
  all.set_department("営業2部");
  all.set_memo("新メモ");
  all.set_order_status(v1::ORDER_STATUS_LOST);
  *all.mutable_quote_date() = D(2026, 3, 1);
  *all.mutable_acceptance_date() = D(2026, 3, 20);
  absl::StatusOr<v1::Project> all_done =
      UpdateProject(all, {"name", "progress_status", "owner", "department", "memo",
                          "order_status", "quote_date", "acceptance_date"});
  ASSERT_TRUE(all_done.ok()) << all_done.status();
  EXPECT_EQ(all_done->progress_status(), "保留");
  EXPECT_EQ(all_done->owner(), "suzuki");
  EXPECT_EQ(all_done->department(), "営業2部");
  EXPECT_EQ(all_done->memo(), "新メモ");
  EXPECT_EQ(all_done->order_status(), v1::ORDER_STATUS_LOST);
  EXPECT_TRUE(SameMessage(all_done->quote_date(), D(2026, 3, 1)));
  EXPECT_TRUE(SameMessage(all_done->acceptance_date(), D(2026, 3, 20)));
  EXPECT_EQ(all_done->etag(), "\"3\"");

  // The same content again writes nothing.
  const int64_t audits = AuditRows();
  v1::Project same_owner = all;
  same_owner.clear_etag();
  absl::StatusOr<v1::Project> same = UpdateProject(same_owner, {"owner"});
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ(same->etag(), "\"3\"");
  EXPECT_EQ(AuditRows(), audits);

  // Mask and field errors.
  v1::Project plain;
  plain.set_id(p.id());
  plain.set_name("x");
  EXPECT_TRUE(IsInvalidField(UpdateProject(plain, {}).status(), "update_mask"));
  EXPECT_TRUE(IsInvalidField(UpdateProject(plain, {"number"}).status(), "update_mask"));
  EXPECT_TRUE(IsInvalidField(UpdateProject(plain, {"etag"}).status(), "update_mask"));
  EXPECT_TRUE(IsInvalidField(UpdateProject(plain, {"referral.outcome"}).status(), "update_mask"));
  EXPECT_TRUE(IsInvalidField(UpdateProject(plain, {"referral"}).status(), "update_mask"));
  EXPECT_TRUE(IsInvalidField(UpdateProject(plain, {"referral.amount"}).status(), "update_mask"));
  EXPECT_TRUE(IsInvalidField(UpdateProject(plain, {"no_such_field"}).status(), "update_mask"));
  v1::Project blank_name;
  blank_name.set_id(p.id());
  EXPECT_TRUE(IsInvalidField(UpdateProject(blank_name, {"name"}).status(), "project.name",
                             "REQUIRED"));
  v1::Project bad_progress;
  bad_progress.set_id(p.id());
  bad_progress.set_progress_status("謎");
  EXPECT_TRUE(IsInvalidField(UpdateProject(bad_progress, {"progress_status"}).status(),
                             "project.progress_status", "INVALID_PROGRESS_STATUS"));
  v1::Project unknown;
  unknown.set_id(kUnknownId);
  unknown.set_name("x");
  EXPECT_EQ(UpdateProject(unknown, {"name"}).status().code(), absl::StatusCode::kNotFound);
  v1::Project no_id;
  no_id.set_name("x");
  EXPECT_TRUE(IsInvalidField(UpdateProject(no_id, {"name"}).status(), "project.id"));
  v1::Project unknown_category;
  unknown_category.set_id(p.id());
  unknown_category.set_category_id(kUnknownId);
  EXPECT_EQ(UpdateProject(unknown_category, {"category_id"}).status().code(),
            absl::StatusCode::kNotFound);
  // Accounting reads but does not write.
  EXPECT_TRUE(IsError(UpdateProject(plain, {"name"}, accounting_).status(),
                      absl::StatusCode::kPermissionDenied, "ROLE_NOT_ALLOWED"));
  EXPECT_EQ(AuditRows(), audits);
  read = GetProject(p.id());
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(SameMessage(*read, *all_done));
}

TEST_F(ProjectServiceTest, UpdateProjectChecksChangedPartiesWithTheCustomerService) {
  const v1::Project p = MustCreateProject(NewProject("当事者変更"));
  const int64_t audits = AuditRows();

  v1::Project to_lead;
  to_lead.set_id(p.id());
  to_lead.set_customer_id(lead_.id());
  EXPECT_TRUE(IsError(UpdateProject(to_lead, {"customer_id"}).status(),
                      absl::StatusCode::kFailedPrecondition, "CUSTOMER_NOT_ACTIVE"));
  v1::Project to_unknown;
  to_unknown.set_id(p.id());
  to_unknown.set_customer_id(kUnknownId);
  EXPECT_TRUE(IsError(UpdateProject(to_unknown, {"customer_id"}).status(),
                      absl::StatusCode::kNotFound, "CUSTOMER_NOT_FOUND"));
  v1::Project refer_to_customer;
  refer_to_customer.set_id(p.id());
  refer_to_customer.mutable_referral()->set_partner_id(active_.id());
  *refer_to_customer.mutable_referral()->mutable_referral_date() = D(2026, 4, 1);
  EXPECT_TRUE(IsError(
      UpdateProject(refer_to_customer, {"referral.partner_id", "referral.referral_date"}).status(),
      absl::StatusCode::kFailedPrecondition, "NOT_A_PARTNER"));
  EXPECT_EQ(AuditRows(), audits);

  // A referral may be added by update; it starts IN_PROGRESS.
  v1::Project refer = refer_to_customer;
  refer.mutable_referral()->set_partner_id(partner_a_.id());
  absl::StatusOr<v1::Project> referred =
      UpdateProject(refer, {"referral.partner_id", "referral.referral_date"});
  ASSERT_TRUE(referred.ok()) << referred.status();
  ASSERT_TRUE(referred->has_referral());
  EXPECT_EQ(referred->referral().partner_id(), partner_a_.id());
  EXPECT_EQ(referred->referral().outcome(), v1::REFERRAL_OUTCOME_IN_PROGRESS);
  // ... and moved to another partner.
  v1::Project move;
  move.set_id(p.id());
  move.mutable_referral()->set_partner_id(partner_b_.id());
  absl::StatusOr<v1::Project> moved = UpdateProject(move, {"referral.partner_id"});
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->referral().partner_id(), partner_b_.id());
  EXPECT_TRUE(SameMessage(moved->referral().referral_date(), D(2026, 4, 1)));
  // A referral date in the future is refused.
  v1::Project future;
  future.set_id(p.id());
  *future.mutable_referral()->mutable_referral_date() = D(2026, 4, 16);
  EXPECT_TRUE(IsInvalidField(UpdateProject(future, {"referral.referral_date"}).status(),
                             "project.referral.referral_date", "DATE_IN_FUTURE"));
  // Another active customer is accepted.
  const customer::v1::Customer other = MustCreateCustomer(Corporation("移管先株式会社"));
  v1::Project to_other;
  to_other.set_id(p.id());
  to_other.set_customer_id(other.id());
  absl::StatusOr<v1::Project> changed = UpdateProject(to_other, {"customer_id"});
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_EQ(changed->customer_id(), other.id());
  EXPECT_EQ(changed->etag(), "\"4\"");
}

// ---------------------------------------------------------------------------------------------
// Categories
// ---------------------------------------------------------------------------------------------

TEST_F(ProjectServiceTest, CategoriesAreCreatedListedByNameAndUnique) {
  auto create = [&](const std::string& name, const std::string& token) {
    v1::CreateCategoryRequest req;
    req.mutable_category()->set_name(name);
    return Call(&Stub::CreateCategory, req, token);
  };
  absl::StatusOr<v1::Category> c = create("C-リフォーム", staff_);
  absl::StatusOr<v1::Category> a = create("A-外構", admin_);
  absl::StatusOr<v1::Category> b = create("B-新築", staff_);
  ASSERT_TRUE(c.ok() && a.ok() && b.ok()) << c.status() << a.status() << b.status();
  EXPECT_GT(c->id(), 0);
  EXPECT_EQ(c->name(), "C-リフォーム");
  EXPECT_EQ(create("A-外構", staff_).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(IsInvalidField(create("", staff_).status(), "category.name", "REQUIRED"));
  EXPECT_EQ(create("D-設備", accounting_).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Count("SELECT count(*) FROM project.categories"), 3);

  for (const std::string& token : {staff_, accounting_, service_token_}) {
    absl::StatusOr<v1::ListCategoriesResponse> list =
        Call(&Stub::ListCategories, v1::ListCategoriesRequest(), token);
    ASSERT_TRUE(list.ok()) << list.status();
    ASSERT_EQ(list->categories_size(), 3);
    EXPECT_TRUE(SameMessage(list->categories(0), *a));
    EXPECT_TRUE(SameMessage(list->categories(1), *b));
    EXPECT_TRUE(SameMessage(list->categories(2), *c));
  }

  // A case may name a category, by update too.
  v1::Project in = NewProject("区分つき");
  in.set_category_id(b->id());
  const v1::Project p = MustCreateProject(in);
  EXPECT_EQ(p.category_id(), b->id());
  v1::Project patch;
  patch.set_id(p.id());
  patch.set_category_id(c->id());
  absl::StatusOr<v1::Project> updated = UpdateProject(patch, {"category_id"});
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->category_id(), c->id());
  patch.set_category_id(0);
  updated = UpdateProject(patch, {"category_id"});
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->category_id(), 0);
}

// ---------------------------------------------------------------------------------------------
// Referrals
// ---------------------------------------------------------------------------------------------

TEST_F(ProjectServiceTest, RecordReferralOutcomeCompletesAndReplaysByRequestId) {
  const v1::Project r = MustCreateProject(Referred("紹介: 浴室改修", partner_a_, D(2026, 3, 1)));
  const int64_t audits = AuditRows();

  v1::RecordReferralOutcomeRequest done = Completed(r.id(), D(2026, 4, 10), 1'500'000);
  done.set_request_id("report-1");
  done.set_remarks("施工完了しました");
  v1::ExtraOrder* extra = done.add_extra_orders();
  extra->set_id(777);  // ignored
  extra->set_kind(v1::EXTRA_ORDER_KIND_ADDITIONAL);
  *extra->mutable_order_date() = D(2026, 4, 12);
  extra->set_amount(200'000);
  extra->set_note("追加工事");
  absl::StatusOr<v1::Project> completed = Record(done);
  ASSERT_TRUE(completed.ok()) << completed.status();
  const v1::Referral& ref = completed->referral();
  EXPECT_EQ(ref.outcome(), v1::REFERRAL_OUTCOME_COMPLETED);
  EXPECT_TRUE(SameMessage(ref.completion_date(), D(2026, 4, 10)));
  EXPECT_EQ(ref.amount(), 1'500'000);
  EXPECT_FALSE(ref.has_lost_date())
      << "lost_date present: " << ref.lost_date().ShortDebugString();
  EXPECT_EQ(ref.remarks(), "施工完了しました");
  ASSERT_EQ(ref.extra_orders_size(), 1);
  EXPECT_GT(ref.extra_orders(0).id(), 0);
  EXPECT_NE(ref.extra_orders(0).id(), 777);
  EXPECT_EQ(ref.extra_orders(0).kind(), v1::EXTRA_ORDER_KIND_ADDITIONAL);
  EXPECT_TRUE(SameMessage(ref.extra_orders(0).order_date(), D(2026, 4, 12)));
  EXPECT_EQ(ref.extra_orders(0).amount(), 200'000);
  EXPECT_EQ(ref.extra_orders(0).note(), "追加工事");
  EXPECT_EQ(completed->etag(), "\"2\"");
  EXPECT_EQ(completed->audit().updated_by(), "anken-report-intake");
  EXPECT_EQ(completed->memo(), r.memo());
  absl::StatusOr<v1::Project> read = GetProject(r.id());
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(SameMessage(*read, *completed)) << read->DebugString() << completed->DebugString();
  EXPECT_EQ(AuditRows(), audits + 1);
  EXPECT_EQ(ExtraOrderRows(), 1);

  // Report intake retries: the same answer, written once.
  clock_.Advance(absl::Minutes(1));
  absl::StatusOr<v1::Project> replay = Record(done);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_TRUE(SameMessage(*replay, *completed));
  EXPECT_EQ(AuditRows(), audits + 1);
  EXPECT_EQ(ExtraOrderRows(), 1);
  read = GetProject(r.id());
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(SameMessage(*read, *completed));
  // The same id with another report is refused.
  v1::RecordReferralOutcomeRequest other = done;
  other.set_amount(1'400'000);
  EXPECT_TRUE(IsInvalidField(Record(other).status(), "request_id", "REQUEST_ID_REUSED"));

  // COMPLETED -> COMPLETED corrects date and amount; extra orders are kept and appended.
  v1::RecordReferralOutcomeRequest fix = Completed(r.id(), D(2026, 4, 11), 1'600'000);
  v1::ExtraOrder* repeat = fix.add_extra_orders();
  repeat->set_kind(v1::EXTRA_ORDER_KIND_REPEAT);
  *repeat->mutable_order_date() = D(2026, 4, 15);
  repeat->set_amount(50'000);
  absl::StatusOr<v1::Project> fixed = Record(fix, staff_);
  ASSERT_TRUE(fixed.ok()) << fixed.status();
  EXPECT_EQ(fixed->referral().outcome(), v1::REFERRAL_OUTCOME_COMPLETED);
  EXPECT_EQ(fixed->referral().amount(), 1'600'000);
  EXPECT_TRUE(SameMessage(fixed->referral().completion_date(), D(2026, 4, 11)));
  EXPECT_EQ(fixed->referral().remarks(), "");
  ASSERT_EQ(fixed->referral().extra_orders_size(), 2);
  EXPECT_TRUE(SameMessage(fixed->referral().extra_orders(0), ref.extra_orders(0)));
  EXPECT_EQ(fixed->referral().extra_orders(1).kind(), v1::EXTRA_ORDER_KIND_REPEAT);
  EXPECT_EQ(fixed->referral().extra_orders(1).amount(), 50'000);
  EXPECT_EQ(fixed->etag(), "\"3\"");
  EXPECT_EQ(ExtraOrderRows(), 2);
  EXPECT_EQ(AuditRows(), audits + 2);
}

TEST_F(ProjectServiceTest, CompletedReferralNeverGoesBackAndARefusalWritesNothing) {
  const v1::Project r = MustCreateProject(Referred("完了済み紹介", partner_a_, D(2026, 3, 1)));
  absl::StatusOr<v1::Project> completed = Record(Completed(r.id(), D(2026, 4, 1), 900'000));
  ASSERT_TRUE(completed.ok()) << completed.status();
  const int64_t audits = AuditRows();
  const int64_t extras = ExtraOrderRows();
  const int64_t keys = Count("SELECT count(*) FROM project.idempotency_keys");

  // Each forbidden move carries an extra order too: none of it may be written.
  v1::ExtraOrder extra;
  extra.set_kind(v1::EXTRA_ORDER_KIND_REPEAT);
  *extra.mutable_order_date() = D(2026, 4, 5);
  extra.set_amount(10'000);
  v1::RecordReferralOutcomeRequest back = InProgress(r.id());
  *back.add_extra_orders() = extra;
  v1::RecordReferralOutcomeRequest lost = Lost(r.id(), D(2026, 4, 2));
  *lost.add_extra_orders() = extra;
  lost.set_remarks("失注に変更");
  for (const v1::RecordReferralOutcomeRequest& req : {back, lost}) {
    for (const std::string& token : {service_token_, staff_, admin_}) {
      EXPECT_TRUE(IsError(Record(req, token).status(), absl::StatusCode::kFailedPrecondition,
                          "COMPLETED_IS_FINAL"))
          << req.DebugString();
    }
  }
  absl::StatusOr<v1::Project> after = GetProject(r.id());
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(SameMessage(*after, *completed)) << after->DebugString();
  EXPECT_EQ(AuditRows(), audits);
  EXPECT_EQ(ExtraOrderRows(), extras);
  EXPECT_EQ(Count("SELECT count(*) FROM project.idempotency_keys"), keys);

  // A refused request keeps being refused on retry (no answer was stored for its id).
  back.set_request_id("refused-1");
  EXPECT_EQ(Record(back).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Record(back).status().code(), absl::StatusCode::kFailedPrecondition);
  after = GetProject(r.id());
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(SameMessage(*after, *completed));
  EXPECT_EQ(AuditRows(), audits);
}

TEST_F(ProjectServiceTest, LostReferralMayLaterComplete) {
  const v1::Project r = MustCreateProject(Referred("失注からの復活", partner_b_, D(2026, 3, 1)));
  v1::RecordReferralOutcomeRequest lost_req = Lost(r.id(), D(2026, 3, 20));
  lost_req.set_remarks("他社に決定");
  absl::StatusOr<v1::Project> lost = Record(lost_req);
  ASSERT_TRUE(lost.ok()) << lost.status();
  EXPECT_EQ(lost->referral().outcome(), v1::REFERRAL_OUTCOME_LOST);
  EXPECT_TRUE(SameMessage(lost->referral().lost_date(), D(2026, 3, 20)));
  EXPECT_EQ(lost->referral().amount(), 0);
  EXPECT_FALSE(lost->referral().has_completion_date())
      << "completion_date present: " << lost->referral().completion_date().ShortDebugString();
  EXPECT_EQ(lost->referral().remarks(), "他社に決定");

  absl::StatusOr<v1::Project> completed = Record(Completed(r.id(), D(2026, 4, 1), 800'000));
  ASSERT_TRUE(completed.ok()) << completed.status();
  EXPECT_EQ(completed->referral().outcome(), v1::REFERRAL_OUTCOME_COMPLETED);
  EXPECT_TRUE(SameMessage(completed->referral().completion_date(), D(2026, 4, 1)));
  EXPECT_EQ(completed->referral().amount(), 800'000);
  EXPECT_FALSE(completed->referral().has_lost_date())
      << "lost_date present: " << completed->referral().lost_date().ShortDebugString();
  EXPECT_EQ(completed->etag(), "\"3\"");

  // LOST -> IN_PROGRESS is not forbidden either (only a completed case is final).
  const v1::Project r2 = MustCreateProject(Referred("再開", partner_b_, D(2026, 3, 1)));
  ASSERT_TRUE(Record(Lost(r2.id(), D(2026, 3, 2))).ok());
  absl::StatusOr<v1::Project> reopened = Record(InProgress(r2.id()));
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ(reopened->referral().outcome(), v1::REFERRAL_OUTCOME_IN_PROGRESS);
  EXPECT_FALSE(reopened->referral().has_lost_date())
      << "lost_date present: " << reopened->referral().lost_date().ShortDebugString();
  // IN_PROGRESS -> LOST directly.
  absl::StatusOr<v1::Project> lost_again = Record(Lost(r2.id(), D(2026, 4, 15)));
  ASSERT_TRUE(lost_again.ok()) << lost_again.status();
  EXPECT_EQ(lost_again->referral().outcome(), v1::REFERRAL_OUTCOME_LOST);
}

TEST_F(ProjectServiceTest, RecordReferralOutcomeRefusesBadFieldsAndDatesAndWritesNothing) {
  const v1::Project r = MustCreateProject(Referred("検証用紹介", partner_a_, D(2026, 3, 1)));
  const int64_t audits = AuditRows();
  const int64_t id = r.id();
  auto with = [](v1::RecordReferralOutcomeRequest req,
                 const std::function<void(v1::RecordReferralOutcomeRequest&)>& change) {
    change(req);
    return req;
  };
  auto extra = [](const common::v1::Date& date, int64_t amount) {
    v1::ExtraOrder e;
    e.set_kind(v1::EXTRA_ORDER_KIND_ADDITIONAL);
    *e.mutable_order_date() = date;
    e.set_amount(amount);
    return e;
  };
  struct Case {
    v1::RecordReferralOutcomeRequest req;
    std::string field;
    std::string reason;  // "" = any
  };
  const std::vector<Case> cases = {
      // Field combinations (DESIGN.md).
      {Completed(id, D(2026, 4, 1), 0), "amount", "AMOUNT_REQUIRED"},
      {Completed(id, D(2026, 4, 1), -5), "amount", "AMOUNT_REQUIRED"},
      {with(Completed(id, D(2026, 4, 1), 1000), [](auto& q) { q.clear_completion_date(); }),
       "completion_date", "DATE_REQUIRED"},
      {with(Completed(id, D(2026, 4, 1), 1000), [](auto& q) { *q.mutable_lost_date() = D(2026, 4, 1); }),
       "lost_date", "OUTCOME_FIELDS_MISMATCH"},
      {with(Lost(id, D(2026, 4, 1)), [](auto& q) { q.set_amount(1000); }), "amount",
       "OUTCOME_FIELDS_MISMATCH"},
      {with(Lost(id, D(2026, 4, 1)), [](auto& q) { q.clear_lost_date(); }), "lost_date",
       "DATE_REQUIRED"},
      {with(Lost(id, D(2026, 4, 1)),
            [](auto& q) { *q.mutable_completion_date() = D(2026, 4, 1); }),
       "completion_date", "OUTCOME_FIELDS_MISMATCH"},
      {with(InProgress(id), [](auto& q) { *q.mutable_completion_date() = D(2026, 4, 1); }),
       "completion_date", "OUTCOME_FIELDS_MISMATCH"},
      {with(InProgress(id), [](auto& q) { *q.mutable_lost_date() = D(2026, 4, 1); }),
       "lost_date", "OUTCOME_FIELDS_MISMATCH"},
      {with(InProgress(id), [](auto& q) { q.set_amount(1); }), "amount",
       "OUTCOME_FIELDS_MISMATCH"},
      // Dates: not in the future (today is 2026-04-15), not before the referral date.
      {Completed(id, D(2026, 4, 16), 1000), "completion_date", "DATE_IN_FUTURE"},
      {Completed(id, D(2026, 2, 28), 1000), "completion_date", "DATE_BEFORE_REFERRAL"},
      {Lost(id, D(2027, 1, 1)), "lost_date", "DATE_IN_FUTURE"},
      {Lost(id, D(2026, 2, 1)), "lost_date", "DATE_BEFORE_REFERRAL"},
      {Completed(id, D(2026, 2, 30), 1000), "completion_date", ""},
      {with(InProgress(id), [&](auto& q) { *q.add_extra_orders() = extra(D(2026, 4, 16), 100); }),
       "extra_orders[0].order_date", "DATE_IN_FUTURE"},
      {with(InProgress(id), [&](auto& q) { *q.add_extra_orders() = extra(D(2026, 2, 27), 100); }),
       "extra_orders[0].order_date", "DATE_BEFORE_REFERRAL"},
      {with(InProgress(id),
            [&](auto& q) {
              *q.add_extra_orders() = extra(D(2026, 4, 1), 100);
              *q.add_extra_orders() = extra(D(2026, 4, 1), 0);
            }),
       "extra_orders[1].amount", "AMOUNT_REQUIRED"},
      {with(InProgress(id),
            [&](auto& q) {
              v1::ExtraOrder e = extra(D(2026, 4, 1), 100);
              e.clear_kind();
              *q.add_extra_orders() = e;
            }),
       "extra_orders[0].kind", ""},
      {with(InProgress(id),
            [&](auto& q) {
              v1::ExtraOrder e = extra(D(2026, 4, 1), 100);
              e.set_note(Repeat("注", 501));
              *q.add_extra_orders() = e;
            }),
       "extra_orders[0].note", "TOO_LONG"},
      {with(InProgress(id), [](auto& q) { q.set_remarks(Repeat("備", 501)); }), "remarks",
       "TOO_LONG"},
      {with(InProgress(id), [](auto& q) { q.set_outcome(v1::REFERRAL_OUTCOME_UNSPECIFIED); }),
       "outcome", ""},
      {with(InProgress(id), [](auto& q) { q.set_project_id(0); }), "project_id", "REQUIRED"},
  };
  for (const Case& c : cases) {
    absl::Status s = Record(c.req).status();
    EXPECT_TRUE(IsInvalidField(s, c.field)) << c.req.ShortDebugString();
    if (!c.reason.empty()) {
      EXPECT_EQ(ErrorReason(s), c.reason) << c.req.ShortDebugString() << s;
    }
  }
  v1::RecordReferralOutcomeRequest no_id = InProgress(id);
  EXPECT_TRUE(IsInvalidField(Call(&Stub::RecordReferralOutcome, no_id, service_token_).status(),
                             "request_id"));

  // Nothing of any of them was written.
  absl::StatusOr<v1::Project> after = GetProject(id);
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(SameMessage(*after, r)) << after->DebugString();
  EXPECT_EQ(AuditRows(), audits);
  EXPECT_EQ(ExtraOrderRows(), 0);

  // The edges are allowed: today, the referral date itself, 500 characters.
  v1::RecordReferralOutcomeRequest edge = Completed(id, D(2026, 4, 15), 1);
  edge.set_remarks(Repeat("備", 500));
  *edge.add_extra_orders() = extra(D(2026, 3, 1), 1);
  absl::StatusOr<v1::Project> ok = Record(edge);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->referral().amount(), 1);
  EXPECT_EQ(ok->referral().extra_orders_size(), 1);
}

TEST_F(ProjectServiceTest, RecordReferralOutcomeOnOtherCasesAndByOtherRoles) {
  const v1::Project plain = MustCreateProject(NewProject("紹介なし"));
  EXPECT_TRUE(IsError(Record(InProgress(plain.id())).status(),
                      absl::StatusCode::kFailedPrecondition, "NOT_REFERRED"));
  EXPECT_EQ(Record(InProgress(kUnknownId)).status().code(), absl::StatusCode::kNotFound);
  const v1::Project r = MustCreateProject(Referred("紹介", partner_a_, D(2026, 4, 1)));
  const int64_t audits = AuditRows();
  // Accounting and partners do not record outcomes (partners report through report intake).
  EXPECT_TRUE(IsError(Record(Lost(r.id(), D(2026, 4, 2)), accounting_).status(),
                      absl::StatusCode::kPermissionDenied, "ROLE_NOT_ALLOWED"));
  EXPECT_TRUE(IsError(Record(Lost(r.id(), D(2026, 4, 2)), PartnerToken(partner_a_)).status(),
                      absl::StatusCode::kPermissionDenied, "ROLE_NOT_ALLOWED"));
  EXPECT_EQ(AuditRows(), audits);
  // Admin may.
  absl::StatusOr<v1::Project> by_admin = Record(Lost(r.id(), D(2026, 4, 2)), admin_);
  ASSERT_TRUE(by_admin.ok()) << by_admin.status();
  EXPECT_EQ(by_admin->audit().updated_by(), "admin-1");
}

TEST_F(ProjectServiceTest, ListReferralsByPartnerAndOutcome) {
  v1::Project with_memo = Referred("A1", partner_a_, D(2026, 3, 1));
  with_memo.set_memo("社内メモ");
  const v1::Project a1 = MustCreateProject(with_memo);
  const v1::Project a2 = MustCreateProject(Referred("A2", partner_a_, D(2026, 3, 2)));
  const v1::Project b1 = MustCreateProject(Referred("B1", partner_b_, D(2026, 3, 3)));
  const v1::Project a3 = MustCreateProject(Referred("A3", partner_a_, D(2026, 3, 4)));
  MustCreateProject(NewProject("紹介なし"));
  ASSERT_TRUE(Record(Completed(a2.id(), D(2026, 4, 1), 100'000)).ok());
  ASSERT_TRUE(Record(Lost(a3.id(), D(2026, 4, 1))).ok());

  auto list = [&](int64_t partner, std::vector<v1::ReferralOutcome> outcomes,
                  const std::string& token) {
    v1::ListReferralsRequest req;
    req.set_partner_id(partner);
    for (auto o : outcomes) req.add_outcomes(o);
    return Call(&Stub::ListReferrals, req, token);
  };
  absl::StatusOr<v1::ListReferralsResponse> all = list(partner_a_.id(), {}, staff_);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(Ids(*all), IdsOf({&a1, &a2, &a3}));
  EXPECT_EQ(all->projects(0).memo(), "社内メモ");  // staff see the memo
  EXPECT_EQ(all->projects(1).referral().outcome(), v1::REFERRAL_OUTCOME_COMPLETED);
  EXPECT_EQ(all->projects(1).referral().amount(), 100'000);
  for (const std::string& token : {service_token_, accounting_, admin_}) {
    absl::StatusOr<v1::ListReferralsResponse> again = list(partner_a_.id(), {}, token);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(Ids(*again), IdsOf({&a1, &a2, &a3}));
  }
  absl::StatusOr<v1::ListReferralsResponse> open =
      list(partner_a_.id(), {v1::REFERRAL_OUTCOME_IN_PROGRESS}, service_token_);
  ASSERT_TRUE(open.ok()) << open.status();
  EXPECT_EQ(Ids(*open), IdsOf({&a1}));
  absl::StatusOr<v1::ListReferralsResponse> closed = list(
      partner_a_.id(), {v1::REFERRAL_OUTCOME_COMPLETED, v1::REFERRAL_OUTCOME_LOST}, staff_);
  ASSERT_TRUE(closed.ok()) << closed.status();
  EXPECT_EQ(Ids(*closed), IdsOf({&a2, &a3}));
  absl::StatusOr<v1::ListReferralsResponse> of_b = list(partner_b_.id(), {}, staff_);
  ASSERT_TRUE(of_b.ok()) << of_b.status();
  EXPECT_EQ(Ids(*of_b), IdsOf({&b1}));
  absl::StatusOr<v1::ListReferralsResponse> of_none = list(active_.id(), {}, staff_);
  ASSERT_TRUE(of_none.ok()) << of_none.status();
  EXPECT_EQ(of_none->projects_size(), 0);

  // Pages of 2 without gaps.
  v1::ListReferralsRequest paged;
  paged.set_partner_id(partner_a_.id());
  paged.set_page_size(2);
  absl::StatusOr<v1::ListReferralsResponse> page1 = Call(&Stub::ListReferrals, paged);
  ASSERT_TRUE(page1.ok()) << page1.status();
  EXPECT_EQ(Ids(*page1), IdsOf({&a1, &a2}));
  ASSERT_FALSE(page1->next_page_token().empty());
  paged.set_page_token(page1->next_page_token());
  absl::StatusOr<v1::ListReferralsResponse> page2 = Call(&Stub::ListReferrals, paged);
  ASSERT_TRUE(page2.ok()) << page2.status();
  EXPECT_EQ(Ids(*page2), IdsOf({&a3}));
  EXPECT_EQ(page2->next_page_token(), "");
  // ... bound to the partner asked for.
  paged.set_partner_id(partner_b_.id());
  EXPECT_TRUE(IsInvalidField(Call(&Stub::ListReferrals, paged).status(), "page_token"));

  EXPECT_TRUE(IsInvalidField(list(0, {}, staff_).status(), "partner_id", "REQUIRED"));
  EXPECT_TRUE(IsInvalidField(
      list(partner_a_.id(), {static_cast<v1::ReferralOutcome>(9)}, staff_).status(), "outcomes"));
}

// ---------------------------------------------------------------------------------------------
// Products
// ---------------------------------------------------------------------------------------------

v1::Product MakeProduct(const std::string& code, const std::string& name, int64_t price,
                        common::v1::TaxCategory tax, const std::string& unit = "式") {
  v1::Product p;
  p.set_code(code);
  p.set_name(name);
  p.set_unit(unit);
  p.set_unit_price(price);
  p.set_tax_category(tax);
  return p;
}

TEST_F(ProjectServiceTest, CreateAndListProducts) {
  auto create = [&](const v1::Product& p, const std::string& token) {
    v1::CreateProductRequest req;
    *req.mutable_product() = p;
    return Call(&Stub::CreateProduct, req, token);
  };
  absl::StatusOr<v1::Product> design =
      create(MakeProduct("A-001", "設計費", 100'000, common::v1::TAX_CATEGORY_STANDARD), staff_);
  ASSERT_TRUE(design.ok()) << design.status();
  EXPECT_GT(design->id(), 0);
  EXPECT_EQ(design->code(), "A-001");
  EXPECT_EQ(design->name(), "設計費");
  EXPECT_EQ(design->unit(), "式");
  EXPECT_EQ(design->unit_price(), 100'000);
  EXPECT_EQ(design->tax_category(), common::v1::TAX_CATEGORY_STANDARD);
  EXPECT_TRUE(design->active());
  absl::StatusOr<v1::Product> bento =
      create(MakeProduct("B_002", "弁当", 1'080, common::v1::TAX_CATEGORY_REDUCED, "個"), admin_);
  ASSERT_TRUE(bento.ok()) << bento.status();
  absl::StatusOr<v1::Product> stamp =
      create(MakeProduct("C003", "収入印紙", 200, common::v1::TAX_CATEGORY_EXEMPT, "枚"), staff_);
  ASSERT_TRUE(stamp.ok()) << stamp.status();

  EXPECT_EQ(create(MakeProduct("A-001", "重複", 1, common::v1::TAX_CATEGORY_STANDARD), staff_)
                .status()
                .code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(IsInvalidField(
      create(MakeProduct("", "x", 1, common::v1::TAX_CATEGORY_STANDARD), staff_).status(),
      "product.code"));
  EXPECT_TRUE(IsInvalidField(
      create(MakeProduct("a b", "x", 1, common::v1::TAX_CATEGORY_STANDARD), staff_).status(),
      "product.code"));
  EXPECT_TRUE(IsInvalidField(
      create(MakeProduct(Repeat("X", 31), "x", 1, common::v1::TAX_CATEGORY_STANDARD), staff_)
          .status(),
      "product.code"));
  EXPECT_TRUE(IsInvalidField(
      create(MakeProduct("N-1", "", 1, common::v1::TAX_CATEGORY_STANDARD), staff_).status(),
      "product.name"));
  EXPECT_TRUE(IsInvalidField(
      create(MakeProduct("N-2", "x", -1, common::v1::TAX_CATEGORY_STANDARD), staff_).status(),
      "product.unit_price"));
  EXPECT_TRUE(IsInvalidField(
      create(MakeProduct("N-3", "x", 1, common::v1::TAX_CATEGORY_UNSPECIFIED), staff_).status(),
      "product.tax_category"));
  EXPECT_EQ(create(MakeProduct("N-4", "x", 1, common::v1::TAX_CATEGORY_STANDARD), accounting_)
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Count("SELECT count(*) FROM project.products"), 3);

  // Pages of 2, without gaps; accounting and services read.
  v1::ListProductsRequest req;
  req.set_page_size(2);
  absl::StatusOr<v1::ListProductsResponse> page1 = Call(&Stub::ListProducts, req, accounting_);
  ASSERT_TRUE(page1.ok()) << page1.status();
  ASSERT_EQ(page1->products_size(), 2);
  EXPECT_TRUE(SameMessage(page1->products(0), *design));
  EXPECT_TRUE(SameMessage(page1->products(1), *bento));
  ASSERT_FALSE(page1->next_page_token().empty());
  req.set_page_token(page1->next_page_token());
  absl::StatusOr<v1::ListProductsResponse> page2 = Call(&Stub::ListProducts, req, service_token_);
  ASSERT_TRUE(page2.ok()) << page2.status();
  ASSERT_EQ(page2->products_size(), 1);
  EXPECT_TRUE(SameMessage(page2->products(0), *stamp));
  EXPECT_EQ(page2->next_page_token(), "");

  // No RPC retires a product; the master's owner does it in the table. Inactive products are
  // listed only when asked for.
  Exec(absl::StrCat("UPDATE project.products SET active = false WHERE id = ", bento->id()));
  absl::StatusOr<v1::ListProductsResponse> active_only =
      Call(&Stub::ListProducts, v1::ListProductsRequest());
  ASSERT_TRUE(active_only.ok()) << active_only.status();
  ASSERT_EQ(active_only->products_size(), 2);
  EXPECT_EQ(active_only->products(0).code(), "A-001");
  EXPECT_EQ(active_only->products(1).code(), "C003");
  v1::ListProductsRequest with_inactive;
  with_inactive.set_include_inactive(true);
  absl::StatusOr<v1::ListProductsResponse> everything = Call(&Stub::ListProducts, with_inactive);
  ASSERT_TRUE(everything.ok()) << everything.status();
  ASSERT_EQ(everything->products_size(), 3);
  EXPECT_EQ(everything->products(1).code(), "B_002");
  EXPECT_FALSE(everything->products(1).active());
}

// The proto promises "Lists products by code": the order must not depend on creation order.
// The product master lists in the order products were added (the proto's contract), which
// keyset paging by id keeps stable while products are added.
TEST_F(ProjectServiceTest, ListProductsIsInCreationOrder) {
  for (const char* code : {"Z-9", "A-1", "M-5"}) {
    v1::CreateProductRequest req;
    *req.mutable_product() = MakeProduct(code, code, 100, common::v1::TAX_CATEGORY_STANDARD);
    ASSERT_TRUE(Call(&Stub::CreateProduct, req).ok());
  }
  absl::StatusOr<v1::ListProductsResponse> list =
      Call(&Stub::ListProducts, v1::ListProductsRequest());
  ASSERT_TRUE(list.ok()) << list.status();
  std::vector<std::string> codes;
  for (const auto& p : list->products()) codes.push_back(p.code());
  EXPECT_EQ(codes, (std::vector<std::string>{"Z-9", "A-1", "M-5"}));
}

// ---------------------------------------------------------------------------------------------
// Quotes
// ---------------------------------------------------------------------------------------------

common::v1::TaxRateTotal RateTotal(common::v1::TaxCategory c, int64_t taxable, int64_t tax) {
  common::v1::TaxRateTotal t;
  t.set_category(c);
  t.set_taxable_amount(taxable);
  t.set_tax(tax);
  return t;
}

::testing::AssertionResult HasRateTotals(const v1::Quote& q,
                                         const std::vector<common::v1::TaxRateTotal>& want) {
  if (q.rate_totals_size() != static_cast<int>(want.size())) {
    return ::testing::AssertionFailure() << "rate totals: " << q.ShortDebugString();
  }
  for (size_t i = 0; i < want.size(); ++i) {
    if (!SameMessage(q.rate_totals(static_cast<int>(i)), want[i])) {
      return ::testing::AssertionFailure() << "rate total " << i << ": want "
                                           << want[i].ShortDebugString() << " in "
                                           << q.ShortDebugString();
    }
  }
  return ::testing::AssertionSuccess();
}

TEST_F(ProjectServiceTest, QuoteTaxIsComputedOncePerRateAsDesignSays) {
  const v1::Project p = MustCreateProject(NewProject("見積の税"));
  const auto std10 = common::v1::TAX_CATEGORY_STANDARD;
  // DESIGN.md: 10% lines 1,005 + 1,005 + 1,005 give tax 301 (floor), not 300.
  absl::StatusOr<v1::Quote> q = CreateQuote(NewQuote(
      p.id(), {FreeLine("部材A", 1000, 1005, std10), FreeLine("部材B", 1000, 1005, std10),
               FreeLine("部材C", 1000, 1005, std10)}));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_GT(q->id(), 0);
  EXPECT_EQ(q->project_id(), p.id());
  EXPECT_EQ(q->number(), 1);
  EXPECT_EQ(q->status(), v1::QUOTE_STATUS_DRAFT);
  ASSERT_EQ(q->lines_size(), 3);
  for (const auto& l : q->lines()) EXPECT_EQ(l.amount(), 1005);
  EXPECT_EQ(q->subtotal(), 3015);
  EXPECT_EQ(q->tax(), 301);
  EXPECT_EQ(q->total(), 3316);
  EXPECT_TRUE(HasRateTotals(*q, {RateTotal(std10, 3015, 301)}));
  EXPECT_EQ(q->etag(), "\"1\"");
  EXPECT_EQ(q->win_probability(), 50);
  EXPECT_TRUE(SameMessage(q->expected_order_month(), YM(2026, 5)));
  EXPECT_TRUE(SameMessage(q->issue_date(), D(2026, 4, 15)));
  EXPECT_TRUE(SameMessage(q->valid_until(), D(2026, 5, 15)));
  EXPECT_EQ(q->audit().created_by(), "staff-1");

  // Mixed rates, lines in any order: per rate, tax on the rate's sum, floored once.
  //   10%: 1,005 + 1,005 + floor(1.5 × 999 = 1,498.5) = 3,508 → 350 (per line it would be 349)
  //    8%: 1,010 + 1,010 = 2,020 → 161 (per line it would be 160)
  //    0%: 2 × 500 = 1,000 → 0
  const auto red8 = common::v1::TAX_CATEGORY_REDUCED;
  const auto exempt = common::v1::TAX_CATEGORY_EXEMPT;
  absl::StatusOr<v1::Quote> mixed = CreateQuote(NewQuote(
      p.id(), {FreeLine("食品1", 1000, 1010, red8), FreeLine("工事1", 1000, 1005, std10),
               FreeLine("印紙", 2000, 500, exempt), FreeLine("工事2", 1000, 1005, std10),
               FreeLine("食品2", 1000, 1010, red8), FreeLine("作業 1.5時間", 1500, 999, std10)}));
  ASSERT_TRUE(mixed.ok()) << mixed.status();
  EXPECT_EQ(mixed->number(), 2);
  ASSERT_EQ(mixed->lines_size(), 6);
  EXPECT_EQ(mixed->lines(0).description(), "食品1");
  EXPECT_EQ(mixed->lines(2).amount(), 1000);
  EXPECT_EQ(mixed->lines(5).amount(), 1498);
  EXPECT_EQ(mixed->lines(5).quantity_milli(), 1500);
  EXPECT_TRUE(HasRateTotals(
      *mixed, {RateTotal(std10, 3508, 350), RateTotal(red8, 2020, 161), RateTotal(exempt, 1000, 0)}));
  EXPECT_EQ(mixed->subtotal(), 6528);
  EXPECT_EQ(mixed->tax(), 511);
  EXPECT_EQ(mixed->total(), 7039);
}

TEST_F(ProjectServiceTest, QuoteLinesTakeProductDefaults) {
  const v1::Project p = MustCreateProject(NewProject("商品から見積"));
  v1::CreateProductRequest preq;
  *preq.mutable_product() =
      MakeProduct("BENTO", "弁当", 1'080, common::v1::TAX_CATEGORY_REDUCED, "個");
  absl::StatusOr<v1::Product> bento = Call(&Stub::CreateProduct, preq);
  ASSERT_TRUE(bento.ok()) << bento.status();

  v1::QuoteLine from_product;
  from_product.set_product_id(bento->id());
  from_product.set_quantity_milli(3000);
  v1::QuoteLine priced;  // the line's own price and description win
  priced.set_product_id(bento->id());
  priced.set_quantity_milli(2000);
  priced.set_unit_price(1'000);
  priced.set_description("特製弁当");
  absl::StatusOr<v1::Quote> q = CreateQuote(NewQuote(
      p.id(), {from_product, priced,
               FreeLine("配送", 1000, 10'000, common::v1::TAX_CATEGORY_STANDARD)}));
  ASSERT_TRUE(q.ok()) << q.status();
  ASSERT_EQ(q->lines_size(), 3);
  EXPECT_EQ(q->lines(0).product_id(), bento->id());
  EXPECT_EQ(q->lines(0).description(), "弁当");
  EXPECT_EQ(q->lines(0).unit(), "個");
  EXPECT_EQ(q->lines(0).unit_price(), 1'080);
  EXPECT_EQ(q->lines(0).tax_category(), common::v1::TAX_CATEGORY_REDUCED);
  EXPECT_EQ(q->lines(0).amount(), 3'240);
  EXPECT_EQ(q->lines(1).description(), "特製弁当");
  EXPECT_EQ(q->lines(1).unit_price(), 1'000);
  EXPECT_EQ(q->lines(1).tax_category(), common::v1::TAX_CATEGORY_REDUCED);
  EXPECT_EQ(q->lines(1).amount(), 2'000);
  // 8%: 5,240 → 419 (419.2); 10%: 10,000 → 1,000.
  EXPECT_TRUE(HasRateTotals(*q, {RateTotal(common::v1::TAX_CATEGORY_STANDARD, 10'000, 1'000),
                                 RateTotal(common::v1::TAX_CATEGORY_REDUCED, 5'240, 419)}));
  EXPECT_EQ(q->subtotal(), 15'240);
  EXPECT_EQ(q->tax(), 1'419);
  EXPECT_EQ(q->total(), 16'659);
}

TEST_F(ProjectServiceTest, CreateQuoteRefusesInvalidQuotesAndWritesNothing) {
  const v1::Project p = MustCreateProject(NewProject("見積検証"));
  v1::CreateProductRequest preq;
  *preq.mutable_product() = MakeProduct("OLD", "廃番品", 500, common::v1::TAX_CATEGORY_STANDARD);
  absl::StatusOr<v1::Product> old = Call(&Stub::CreateProduct, preq);
  ASSERT_TRUE(old.ok()) << old.status();
  Exec(absl::StrCat("UPDATE project.products SET active = false WHERE id = ", old->id()));
  const v1::QuoteLine line = FreeLine("作業", 1000, 1000, common::v1::TAX_CATEGORY_STANDARD);
  auto with = [&](const std::function<void(v1::Quote&)>& change) {
    v1::Quote q = NewQuote(p.id(), {line});
    change(q);
    return CreateQuote(q).status();
  };
  const int64_t audits = AuditRows();

  EXPECT_EQ(with([](v1::Quote& q) { q.set_project_id(kUnknownId); }).code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(IsInvalidField(with([](v1::Quote& q) { q.set_project_id(0); }), "quote.project_id"));
  EXPECT_TRUE(IsInvalidField(with([](v1::Quote& q) { q.clear_lines(); }), "quote.lines",
                             "REQUIRED"));
  EXPECT_TRUE(IsInvalidField(with([](v1::Quote& q) {
                               for (int i = 0; i < 200; ++i) *q.add_lines() = q.lines(0);
                             }),
                             "quote.lines", "TOO_MANY_LINES"));
  EXPECT_TRUE(IsInvalidField(with([](v1::Quote& q) { *q.mutable_valid_until() = D(2026, 4, 14); }),
                             "quote.valid_until", "VALID_UNTIL_BEFORE_ISSUE_DATE"));
  EXPECT_TRUE(IsInvalidField(with([](v1::Quote& q) { q.clear_issue_date(); }), "quote.issue_date"));
  EXPECT_TRUE(IsInvalidField(with([](v1::Quote& q) { q.set_win_probability(101); }),
                             "quote.win_probability", "OUT_OF_RANGE"));
  EXPECT_TRUE(IsInvalidField(with([](v1::Quote& q) { q.set_win_probability(-1); }),
                             "quote.win_probability", "OUT_OF_RANGE"));
  EXPECT_TRUE(IsInvalidField(with([](v1::Quote& q) { *q.mutable_expected_order_month() = YM(2026, 13); }),
                             "quote.expected_order_month"));
  EXPECT_TRUE(IsInvalidField(with([](v1::Quote& q) { q.mutable_lines(0)->set_quantity_milli(0); }),
                             "quote.lines[0].quantity_milli", "INVALID_QUANTITY"));
  EXPECT_TRUE(IsInvalidField(with([](v1::Quote& q) { q.mutable_lines(0)->set_unit_price(-1); }),
                             "quote.lines[0].unit_price", "INVALID_UNIT_PRICE"));
  EXPECT_TRUE(IsInvalidField(with([&](v1::Quote& q) {
                               *q.add_lines() = line;
                               q.mutable_lines(1)->set_description("");
                             }),
                             "quote.lines[1].description", "REQUIRED"));
  EXPECT_TRUE(IsInvalidField(
      with([](v1::Quote& q) { q.mutable_lines(0)->clear_tax_category(); }),
      "quote.lines[0].tax_category", "REQUIRED"));
  EXPECT_TRUE(IsError(with([](v1::Quote& q) {
                        q.mutable_lines(0)->set_product_id(kUnknownId);
                      }),
                      absl::StatusCode::kNotFound, "PRODUCT_NOT_FOUND"));
  EXPECT_TRUE(IsError(with([&](v1::Quote& q) { q.mutable_lines(0)->set_product_id(old->id()); }),
                      absl::StatusCode::kFailedPrecondition, "PRODUCT_INACTIVE"));
  v1::CreateQuoteRequest no_id;
  *no_id.mutable_quote() = NewQuote(p.id(), {line});
  EXPECT_TRUE(IsInvalidField(Call(&Stub::CreateQuote, no_id).status(), "request_id"));
  EXPECT_EQ(CreateQuote(NewQuote(p.id(), {line}), accounting_).status().code(),
            absl::StatusCode::kPermissionDenied);

  EXPECT_EQ(Count("SELECT count(*) FROM project.quotes"), 0);
  EXPECT_EQ(AuditRows(), audits);
  // Probability 0 and 100 are fine, as is a quote valid only on its issue day.
  absl::StatusOr<v1::Quote> edge = CreateQuote(NewQuote(p.id(), {line}, 0));
  ASSERT_TRUE(edge.ok()) << edge.status();
  v1::Quote same_day = NewQuote(p.id(), {line}, 100);
  *same_day.mutable_valid_until() = D(2026, 4, 15);
  ASSERT_TRUE(CreateQuote(same_day).ok());
}

TEST_F(ProjectServiceTest, QuotesAreNumberedPerCaseAndIdempotentByRequestId) {
  const v1::Project a = MustCreateProject(NewProject("A"));
  const v1::Project b = MustCreateProject(NewProject("B"));
  const v1::QuoteLine line = FreeLine("作業", 1000, 1000, common::v1::TAX_CATEGORY_STANDARD);
  v1::CreateQuoteRequest req;
  req.set_request_id("quote-a-1");
  *req.mutable_quote() = NewQuote(a.id(), {line});
  absl::StatusOr<v1::Quote> a1 = Call(&Stub::CreateQuote, req);
  ASSERT_TRUE(a1.ok()) << a1.status();
  absl::StatusOr<v1::Quote> a1_again = Call(&Stub::CreateQuote, req);
  ASSERT_TRUE(a1_again.ok()) << a1_again.status();
  EXPECT_TRUE(SameMessage(*a1_again, *a1));
  req.mutable_quote()->set_note("別の内容");
  EXPECT_TRUE(IsInvalidField(Call(&Stub::CreateQuote, req).status(), "request_id",
                             "REQUEST_ID_REUSED"));
  EXPECT_EQ(Count("SELECT count(*) FROM project.quotes"), 1);

  const v1::Quote b1 = MustCreateQuote(NewQuote(b.id(), {line}));
  const v1::Quote a2 = MustCreateQuote(NewQuote(a.id(), {line}));
  const v1::Quote a3 = MustCreateQuote(NewQuote(a.id(), {line}));
  EXPECT_EQ(a1->number(), 1);
  EXPECT_EQ(b1.number(), 1);
  EXPECT_EQ(a2.number(), 2);
  EXPECT_EQ(a3.number(), 3);
}

TEST_F(ProjectServiceTest, UpdateQuoteRepricesAndGuardsItsState) {
  const v1::Project p = MustCreateProject(NewProject("見積変更"));
  const auto std10 = common::v1::TAX_CATEGORY_STANDARD;
  const v1::Quote q = MustCreateQuote(NewQuote(p.id(), {FreeLine("作業", 1000, 10'000, std10)}));
  ASSERT_EQ(q.total(), 11'000);

  clock_.Advance(absl::Minutes(2));
  v1::Quote patch;
  patch.set_id(q.id());
  patch.set_etag(q.etag());
  *patch.add_lines() = FreeLine("部材A", 1000, 1005, std10);
  *patch.add_lines() = FreeLine("部材B", 1000, 1005, std10);
  *patch.add_lines() = FreeLine("部材C", 1000, 1005, std10);
  patch.set_win_probability(80);
  patch.set_note("値引き後");
  v1::UpdateQuoteRequest req;
  *req.mutable_quote() = patch;
  for (const char* path : {"lines", "win_probability", "note"}) req.mutable_update_mask()->add_paths(path);
  absl::StatusOr<v1::Quote> updated = Call(&Stub::UpdateQuote, req);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->lines_size(), 3);
  EXPECT_EQ(updated->subtotal(), 3015);
  EXPECT_EQ(updated->tax(), 301);
  EXPECT_EQ(updated->total(), 3316);
  EXPECT_EQ(updated->win_probability(), 80);
  EXPECT_EQ(updated->note(), "値引き後");
  EXPECT_EQ(updated->number(), 1);
  EXPECT_TRUE(SameMessage(updated->issue_date(), q.issue_date()));
  EXPECT_EQ(updated->etag(), "\"2\"");
  EXPECT_EQ(api::FromTimestamp(updated->audit().update_time()), StartTime() + absl::Minutes(2));

  // A stale etag writes nothing.
  EXPECT_TRUE(IsError(Call(&Stub::UpdateQuote, req).status(), absl::StatusCode::kAborted,
                      "ETAG_MISMATCH"));
  auto update = [&](const v1::Quote& patch2, std::vector<std::string> paths) {
    v1::UpdateQuoteRequest r;
    *r.mutable_quote() = patch2;
    for (const auto& path : paths) r.mutable_update_mask()->add_paths(path);
    return Call(&Stub::UpdateQuote, r).status();
  };
  v1::Quote bad;
  bad.set_id(q.id());
  bad.set_win_probability(150);
  EXPECT_TRUE(IsInvalidField(update(bad, {"win_probability"}), "quote.win_probability"));
  EXPECT_TRUE(IsInvalidField(update(bad, {"status"}), "update_mask"));
  EXPECT_TRUE(IsInvalidField(update(bad, {"project_id"}), "update_mask"));
  EXPECT_TRUE(IsInvalidField(update(bad, {"subtotal"}), "update_mask"));
  EXPECT_TRUE(IsInvalidField(update(bad, {}), "update_mask"));
  EXPECT_TRUE(IsInvalidField(update(bad, {"lines"}), "quote.lines", "REQUIRED"));
  v1::Quote unknown;
  unknown.set_id(kUnknownId);
  unknown.set_note("x");
  EXPECT_EQ(update(unknown, {"note"}).code(), absl::StatusCode::kNotFound);

  // A SENT quote may still change; an accepted one is final.
  ASSERT_TRUE(SendQuote(q.id()).ok());
  v1::Quote note;
  note.set_id(q.id());
  note.set_note("送付後の修正");
  EXPECT_TRUE(update(note, {"note"}).ok());
  ASSERT_TRUE(AcceptQuote(q.id()).ok());
  const int64_t audits = AuditRows();
  EXPECT_TRUE(IsError(update(note, {"note"}), absl::StatusCode::kFailedPrecondition,
                      "QUOTE_FINAL"));
  EXPECT_EQ(AuditRows(), audits);
}

TEST_F(ProjectServiceTest, QuoteLifecycleAndAcceptingWinsTheCase) {
  const v1::Project p = MustCreateProject(NewProject("受注へ"));
  const v1::QuoteLine line = FreeLine("作業", 1000, 50'000, common::v1::TAX_CATEGORY_STANDARD);
  const v1::Quote q1 = MustCreateQuote(NewQuote(p.id(), {line}));
  const v1::Quote q2 = MustCreateQuote(NewQuote(p.id(), {line}));
  const v1::Quote q3 = MustCreateQuote(NewQuote(p.id(), {line}));

  absl::StatusOr<v1::Quote> sent = SendQuote(q1.id(), q1.etag());
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(sent->status(), v1::QUOTE_STATUS_SENT);
  EXPECT_EQ(sent->etag(), "\"2\"");
  EXPECT_TRUE(IsError(SendQuote(q1.id()).status(), absl::StatusCode::kFailedPrecondition,
                      "QUOTE_NOT_DRAFT"));
  EXPECT_TRUE(IsError(AcceptQuote(q1.id(), "\"1\"").status(), absl::StatusCode::kAborted,
                      "ETAG_MISMATCH"));
  EXPECT_EQ(SendQuote(kUnknownId).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(IsInvalidField(SendQuote(0).status(), "quote_id"));

  clock_.Advance(absl::Minutes(10));
  absl::StatusOr<v1::Quote> accepted = AcceptQuote(q1.id(), "\"2\"");
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_EQ(accepted->status(), v1::QUOTE_STATUS_ACCEPTED);
  EXPECT_EQ(accepted->etag(), "\"3\"");
  EXPECT_EQ(accepted->total(), 55'000);
  absl::StatusOr<v1::Project> won = GetProject(p.id());
  ASSERT_TRUE(won.ok());
  EXPECT_EQ(won->order_status(), v1::ORDER_STATUS_WON);
  EXPECT_EQ(won->etag(), "\"2\"");
  EXPECT_EQ(api::FromTimestamp(won->audit().update_time()), StartTime() + absl::Minutes(10));

  // One accepted quote per case.
  EXPECT_TRUE(IsError(AcceptQuote(q2.id()).status(), absl::StatusCode::kFailedPrecondition,
                      "ANOTHER_QUOTE_ACCEPTED"));
  EXPECT_EQ(Count(absl::StrCat("SELECT status FROM project.quotes WHERE id = ", q2.id())), 1);
  won = GetProject(p.id());
  ASSERT_TRUE(won.ok());
  EXPECT_EQ(won->etag(), "\"2\"");
  // Final quotes stay final.
  EXPECT_TRUE(IsError(RejectQuote(q1.id()).status(), absl::StatusCode::kFailedPrecondition,
                      "QUOTE_FINAL"));
  EXPECT_TRUE(IsError(SendQuote(q1.id()).status(), absl::StatusCode::kFailedPrecondition,
                      "QUOTE_FINAL"));
  EXPECT_TRUE(IsError(AcceptQuote(q1.id()).status(), absl::StatusCode::kFailedPrecondition,
                      "QUOTE_FINAL"));
  // DRAFT -> REJECTED, with the reason kept.
  absl::StatusOr<v1::Quote> rejected = RejectQuote(q2.id(), "予算超過");
  ASSERT_TRUE(rejected.ok()) << rejected.status();
  EXPECT_EQ(rejected->status(), v1::QUOTE_STATUS_REJECTED);
  EXPECT_TRUE(absl::StrContains(rejected->note(), "予算超過")) << rejected->note();
  EXPECT_TRUE(IsError(RejectQuote(q2.id()).status(), absl::StatusCode::kFailedPrecondition,
                      "QUOTE_FINAL"));
  // SENT -> REJECTED.
  ASSERT_TRUE(SendQuote(q3.id()).ok());
  absl::StatusOr<v1::Quote> rejected3 = RejectQuote(q3.id());
  ASSERT_TRUE(rejected3.ok()) << rejected3.status();
  EXPECT_EQ(rejected3->status(), v1::QUOTE_STATUS_REJECTED);

  // DRAFT -> ACCEPTED directly on another case.
  const v1::Project other = MustCreateProject(NewProject("即決"));
  const v1::Quote direct = MustCreateQuote(NewQuote(other.id(), {line}));
  absl::StatusOr<v1::Quote> direct_ok = AcceptQuote(direct.id());
  ASSERT_TRUE(direct_ok.ok()) << direct_ok.status();
  absl::StatusOr<v1::Project> other_won = GetProject(other.id());
  ASSERT_TRUE(other_won.ok());
  EXPECT_EQ(other_won->order_status(), v1::ORDER_STATUS_WON);
}

// ---------------------------------------------------------------------------------------------
// Forecast
// ---------------------------------------------------------------------------------------------

struct CellWant {
  int64_t expected;
  int64_t won;
  int open;
};

::testing::AssertionResult HasCells(const google::protobuf::RepeatedPtrField<v1::ForecastCell>& cells,
                                    int year, int first_month, const std::vector<CellWant>& want) {
  if (cells.size() != static_cast<int>(want.size())) {
    return ::testing::AssertionFailure() << "want " << want.size() << " cells, got " << cells.size();
  }
  for (size_t i = 0; i < want.size(); ++i) {
    const v1::ForecastCell& c = cells[static_cast<int>(i)];
    if (c.month().year() != year || c.month().month() != first_month + static_cast<int>(i) ||
        c.expected_amount() != want[i].expected || c.won_amount() != want[i].won ||
        c.open_quotes() != want[i].open) {
      return ::testing::AssertionFailure()
             << "cell " << i << ": want " << year << "-" << first_month + static_cast<int>(i)
             << " expected=" << want[i].expected << " won=" << want[i].won
             << " open=" << want[i].open << ", got " << c.ShortDebugString();
    }
  }
  return ::testing::AssertionSuccess();
}

TEST_F(ProjectServiceTest, ForecastMatchesAHandComputedTable) {
  auto make_case = [&](const std::string& name, const std::string& dept, const std::string& owner) {
    v1::Project p = NewProject(name);
    p.set_department(dept);
    p.set_owner(owner);
    return MustCreateProject(p);
  };
  const v1::Project p1 = make_case("P1", "営業1部", "sato");
  const v1::Project p2 = make_case("P2", "営業1部", "suzuki");
  const v1::Project p3 = make_case("P3", "営業2部", "sato");
  const v1::Project p4 = make_case("P4", "", "");
  const v1::Project p5 = make_case("P5", "営業2部", "tanaka");
  const v1::Project p6 = make_case("P6", "営業3部", "sato");
  // One 10% line each: the forecast works on the subtotal (excluding tax), never the total.
  auto quote = [&](const v1::Project& p, int64_t subtotal, int probability, int month) {
    const v1::Quote q = MustCreateQuote(NewQuote(
        p.id(), {FreeLine("一式", 1000, subtotal, common::v1::TAX_CATEGORY_STANDARD)}, probability,
        YM(2026, month)));
    EXPECT_EQ(q.subtotal(), subtotal);
    EXPECT_EQ(q.total(), subtotal + subtotal / 10);
    return q;
  };
  quote(p1, 1'000'000, 30, 4);                                  // DRAFT
  ASSERT_TRUE(SendQuote(quote(p1, 333'333, 33, 5).id()).ok());  // SENT
  ASSERT_TRUE(SendQuote(quote(p2, 250'000, 50, 4).id()).ok());  // SENT
  quote(p3, 800'000, 70, 6);                                    // DRAFT
  quote(p4, 99'999, 10, 5);                                     // DRAFT, no department
  ASSERT_TRUE(AcceptQuote(quote(p5, 1'200'000, 80, 5).id()).ok());  // ACCEPTED: won
  ASSERT_TRUE(RejectQuote(quote(p6, 500'000, 90, 4).id()).ok());    // REJECTED: ignored
  quote(p1, 700'000, 40, 7);                                    // outside the range
  quote(p3, 400'000, 20, 3);                                    // outside the range
  quote(p2, 10'001, 0, 6);                                      // counted, worth 0

  // Hand-computed, 2026-04..2026-06, expected = floor(subtotal × probability / 100):
  //  group     | 2026-04                  | 2026-05                         | 2026-06
  //  ""        | 0                        | 99,999×10% = 9,999 (1)          | 0
  //  営業1部   | 300,000 + 125,000 (2)    | 333,333×33% = 109,999 (1)       | 0 (1)
  //  営業2部   | 0                        | won 1,200,000                   | 560,000 (1)
  //  (営業3部 has only a rejected quote: no row)
  //  totals    | 425,000 (2)              | 119,998, won 1,200,000 (2)      | 560,000 (2)
  v1::GetForecastRequest req;
  *req.mutable_from_month() = YM(2026, 4);
  *req.mutable_to_month() = YM(2026, 6);
  absl::StatusOr<v1::Forecast> f = Call(&Stub::GetForecast, req, accounting_);
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_EQ(f->rows_size(), 3) << f->DebugString();
  EXPECT_EQ(f->rows(0).group(), "");
  EXPECT_TRUE(HasCells(f->rows(0).cells(), 2026, 4, {{0, 0, 0}, {9'999, 0, 1}, {0, 0, 0}}));
  EXPECT_EQ(f->rows(1).group(), "営業1部");
  EXPECT_TRUE(HasCells(f->rows(1).cells(), 2026, 4,
                       {{425'000, 0, 2}, {109'999, 0, 1}, {0, 0, 1}}));
  EXPECT_EQ(f->rows(2).group(), "営業2部");
  EXPECT_TRUE(HasCells(f->rows(2).cells(), 2026, 4,
                       {{0, 0, 0}, {0, 1'200'000, 0}, {560'000, 0, 1}}));
  EXPECT_TRUE(HasCells(f->totals(), 2026, 4,
                       {{425'000, 0, 2}, {119'998, 1'200'000, 2}, {560'000, 0, 2}}));

  // The same quotes by owner:
  //  ""      | 0           | 9,999 (1)        | 0
  //  sato    | 300,000 (1) | 109,999 (1)      | 560,000 (1)
  //  suzuki  | 125,000 (1) | 0                | 0 (1)
  //  tanaka  | 0           | won 1,200,000    | 0
  req.set_group_by(v1::FORECAST_GROUP_BY_OWNER);
  absl::StatusOr<v1::Forecast> by_owner = Call(&Stub::GetForecast, req);
  ASSERT_TRUE(by_owner.ok()) << by_owner.status();
  ASSERT_EQ(by_owner->rows_size(), 4) << by_owner->DebugString();
  EXPECT_EQ(by_owner->rows(0).group(), "");
  EXPECT_TRUE(HasCells(by_owner->rows(0).cells(), 2026, 4, {{0, 0, 0}, {9'999, 0, 1}, {0, 0, 0}}));
  EXPECT_EQ(by_owner->rows(1).group(), "sato");
  EXPECT_TRUE(HasCells(by_owner->rows(1).cells(), 2026, 4,
                       {{300'000, 0, 1}, {109'999, 0, 1}, {560'000, 0, 1}}));
  EXPECT_EQ(by_owner->rows(2).group(), "suzuki");
  EXPECT_TRUE(HasCells(by_owner->rows(2).cells(), 2026, 4,
                       {{125'000, 0, 1}, {0, 0, 0}, {0, 0, 1}}));
  EXPECT_EQ(by_owner->rows(3).group(), "tanaka");
  EXPECT_TRUE(HasCells(by_owner->rows(3).cells(), 2026, 4,
                       {{0, 0, 0}, {0, 1'200'000, 0}, {0, 0, 0}}));
  EXPECT_TRUE(HasCells(by_owner->totals(), 2026, 4,
                       {{425'000, 0, 2}, {119'998, 1'200'000, 2}, {560'000, 0, 2}}));

  // July alone: a quote outside the earlier range.
  *req.mutable_from_month() = YM(2026, 7);
  *req.mutable_to_month() = YM(2026, 7);
  req.set_group_by(v1::FORECAST_GROUP_BY_DEPARTMENT);
  absl::StatusOr<v1::Forecast> july = Call(&Stub::GetForecast, req);
  ASSERT_TRUE(july.ok()) << july.status();
  ASSERT_EQ(july->rows_size(), 1);
  EXPECT_EQ(july->rows(0).group(), "営業1部");
  EXPECT_TRUE(HasCells(july->rows(0).cells(), 2026, 7, {{280'000, 0, 1}}));
  EXPECT_TRUE(HasCells(july->totals(), 2026, 7, {{280'000, 0, 1}}));
  // A range with no quotes: no rows, zero totals.
  *req.mutable_from_month() = YM(2027, 1);
  *req.mutable_to_month() = YM(2027, 2);
  absl::StatusOr<v1::Forecast> empty = Call(&Stub::GetForecast, req);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->rows_size(), 0);
  EXPECT_TRUE(HasCells(empty->totals(), 2027, 1, {{0, 0, 0}, {0, 0, 0}}));
}

TEST_F(ProjectServiceTest, ForecastRangeErrors) {
  auto forecast = [&](common::v1::YearMonth from, common::v1::YearMonth to) {
    v1::GetForecastRequest req;
    *req.mutable_from_month() = from;
    *req.mutable_to_month() = to;
    return Call(&Stub::GetForecast, req);
  };
  EXPECT_TRUE(IsInvalidField(forecast(YM(2026, 6), YM(2026, 5)).status(), "to_month"));
  EXPECT_TRUE(IsInvalidField(forecast(YM(2026, 1), YM(2028, 6)).status(), "to_month"));
  EXPECT_TRUE(IsInvalidField(forecast(YM(2026, 13), YM(2027, 1)).status(), "from_month"));
  EXPECT_TRUE(IsInvalidField(forecast(common::v1::YearMonth(), YM(2027, 1)).status(), "from_month"));
  EXPECT_TRUE(IsInvalidField(forecast(YM(2026, 1), common::v1::YearMonth()).status(), "to_month"));
  absl::StatusOr<v1::Forecast> two_years = forecast(YM(2026, 1), YM(2027, 12));
  ASSERT_TRUE(two_years.ok()) << two_years.status();
  EXPECT_EQ(two_years->totals_size(), 24);
}

// ---------------------------------------------------------------------------------------------
// Activities and ToDos
// ---------------------------------------------------------------------------------------------

TEST_F(ProjectServiceTest, ActivitiesAreRecordedAndListedNewestFirst) {
  const v1::Project p = MustCreateProject(NewProject("商談履歴"));
  auto activity = [&](v1::ActivityKind kind, absl::CivilSecond when, const std::string& summary) {
    v1::Activity a;
    a.set_project_id(p.id());
    a.set_kind(kind);
    api::ToTimestamp(FromTokyo(when), a.mutable_occur_time());
    a.set_summary(summary);
    return a;
  };
  v1::CreateActivityRequest req;
  req.set_request_id("act-1");
  *req.mutable_activity() = activity(v1::ACTIVITY_KIND_VISIT, absl::CivilSecond(2026, 4, 10, 9, 0, 0), "初回訪問");
  req.mutable_activity()->set_next_action("見積提出");
  req.mutable_activity()->set_recorded_by("someone-else");  // output only
  absl::StatusOr<v1::Activity> visit = Call(&Stub::CreateActivity, req);
  ASSERT_TRUE(visit.ok()) << visit.status();
  EXPECT_GT(visit->id(), 0);
  EXPECT_EQ(visit->project_id(), p.id());
  EXPECT_EQ(visit->kind(), v1::ACTIVITY_KIND_VISIT);
  EXPECT_EQ(api::FromTimestamp(visit->occur_time()), FromTokyo(absl::CivilSecond(2026, 4, 10, 9, 0, 0)));
  EXPECT_EQ(visit->summary(), "初回訪問");
  EXPECT_EQ(visit->next_action(), "見積提出");
  EXPECT_EQ(visit->recorded_by(), "staff-1");
  absl::StatusOr<v1::Activity> replay = Call(&Stub::CreateActivity, req);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_TRUE(SameMessage(*replay, *visit));

  v1::CreateActivityRequest call;
  call.set_request_id("act-2");
  *call.mutable_activity() = activity(v1::ACTIVITY_KIND_CALL, absl::CivilSecond(2026, 4, 14, 15, 30, 0), "電話");
  ASSERT_TRUE(Call(&Stub::CreateActivity, call, admin_).ok());
  v1::CreateActivityRequest mail;
  mail.set_request_id("act-3");
  *mail.mutable_activity() = activity(v1::ACTIVITY_KIND_MAIL, absl::CivilSecond(2026, 4, 12, 8, 0, 0), "メール");
  ASSERT_TRUE(Call(&Stub::CreateActivity, mail).ok());
  EXPECT_EQ(Count("SELECT count(*) FROM project.activities"), 3);

  v1::ListActivitiesRequest list;
  list.set_project_id(p.id());
  absl::StatusOr<v1::ListActivitiesResponse> got = Call(&Stub::ListActivities, list, accounting_);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->activities_size(), 3);
  EXPECT_EQ(got->activities(0).summary(), "電話");
  EXPECT_EQ(got->activities(0).recorded_by(), "admin-1");
  EXPECT_EQ(got->activities(1).summary(), "メール");
  EXPECT_TRUE(SameMessage(got->activities(2), *visit));

  // Errors.
  auto create = [&](const v1::Activity& a) {
    v1::CreateActivityRequest r;
    r.set_request_id(NextRequestId());
    *r.mutable_activity() = a;
    return Call(&Stub::CreateActivity, r).status();
  };
  v1::Activity good = activity(v1::ACTIVITY_KIND_OTHER, absl::CivilSecond(2026, 4, 15, 9, 0, 0), "x");
  v1::Activity a = good;
  a.set_project_id(kUnknownId);
  EXPECT_EQ(create(a).code(), absl::StatusCode::kNotFound);
  a = good;
  a.clear_kind();
  EXPECT_TRUE(IsInvalidField(create(a), "activity.kind"));
  a = good;
  a.clear_occur_time();
  EXPECT_TRUE(IsInvalidField(create(a), "activity.occur_time"));
  a = good;
  a.set_summary("");
  EXPECT_TRUE(IsInvalidField(create(a), "activity.summary"));
  a = good;
  a.set_project_id(0);
  EXPECT_TRUE(IsInvalidField(create(a), "activity.project_id"));
  v1::CreateActivityRequest no_id;
  *no_id.mutable_activity() = good;
  EXPECT_TRUE(IsInvalidField(Call(&Stub::CreateActivity, no_id).status(), "request_id"));
  EXPECT_EQ(Count("SELECT count(*) FROM project.activities"), 3);
  v1::ListActivitiesRequest unknown;
  unknown.set_project_id(kUnknownId);
  EXPECT_EQ(Call(&Stub::ListActivities, unknown).status().code(), absl::StatusCode::kNotFound);
  // A case without activities has an empty list.
  const v1::Project quiet = MustCreateProject(NewProject("静か"));
  list.set_project_id(quiet.id());
  absl::StatusOr<v1::ListActivitiesResponse> none = Call(&Stub::ListActivities, list);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->activities_size(), 0);
}

TEST_F(ProjectServiceTest, TodosListOverdueFirstAndComplete) {
  const v1::Project p = MustCreateProject(NewProject("ToDo"));
  auto todo = [&](const std::string& title, const common::v1::Date& due,
                  const std::string& assignee = "", const std::string& token = "") {
    v1::CreateTodoRequest req;
    req.set_request_id(NextRequestId());
    req.mutable_todo()->set_project_id(p.id());
    req.mutable_todo()->set_title(title);
    *req.mutable_todo()->mutable_due_date() = due;
    req.mutable_todo()->set_assignee(assignee);
    absl::StatusOr<v1::Todo> t = Call(&Stub::CreateTodo, req, token.empty() ? staff_ : token);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.value_or(v1::Todo());
  };
  const v1::Todo future1 = todo("来週の件", D(2026, 4, 20));
  const v1::Todo overdue2 = todo("先週の件", D(2026, 4, 10));
  const v1::Todo today3 = todo("今日の件", D(2026, 4, 15));
  const v1::Todo overdue4 = todo("先月末の件", D(2026, 3, 31));
  const v1::Todo future5 = todo("来週の件2", D(2026, 4, 20));
  const v1::Todo others = todo("他人の件", D(2026, 4, 1), "staff-2");
  const v1::Todo done = todo("済", D(2026, 4, 1));
  EXPECT_EQ(future1.assignee(), "staff-1");
  EXPECT_EQ(future1.title(), "来週の件");
  EXPECT_FALSE(future1.done());
  EXPECT_FALSE(future1.overdue());
  EXPECT_TRUE(overdue2.overdue());
  EXPECT_FALSE(today3.overdue());  // due today is not overdue yet
  EXPECT_EQ(others.assignee(), "staff-2");

  clock_.Advance(absl::Minutes(7));
  v1::CompleteTodoRequest complete;
  complete.set_id(done.id());
  absl::StatusOr<v1::Todo> completed = Call(&Stub::CompleteTodo, complete);
  ASSERT_TRUE(completed.ok()) << completed.status();
  EXPECT_TRUE(completed->done());
  EXPECT_FALSE(completed->overdue());
  EXPECT_EQ(api::FromTimestamp(completed->done_time()), StartTime() + absl::Minutes(7));
  // Completing again returns it unchanged.
  clock_.Advance(absl::Minutes(1));
  absl::StatusOr<v1::Todo> again = Call(&Stub::CompleteTodo, complete);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(SameMessage(*again, *completed));
  complete.set_id(kUnknownId);
  EXPECT_EQ(Call(&Stub::CompleteTodo, complete).status().code(), absl::StatusCode::kNotFound);

  // Mine: overdue first, then by due date, then id; done ones are gone.
  absl::StatusOr<v1::ListMyTodosResponse> mine = Call(&Stub::ListMyTodos, v1::ListMyTodosRequest());
  ASSERT_TRUE(mine.ok()) << mine.status();
  std::vector<int64_t> ids;
  std::vector<bool> overdue;
  for (const auto& t : mine->todos()) {
    ids.push_back(t.id());
    overdue.push_back(t.overdue());
  }
  EXPECT_EQ(ids, (std::vector<int64_t>{overdue4.id(), overdue2.id(), today3.id(), future1.id(),
                                       future5.id()}));
  EXPECT_EQ(overdue, (std::vector<bool>{true, true, false, false, false}));
  // Staff and admin may look at someone else's list; accounting only at its own.
  v1::ListMyTodosRequest of_staff2;
  of_staff2.set_assignee("staff-2");
  for (const std::string& token : {staff_, admin_}) {
    absl::StatusOr<v1::ListMyTodosResponse> theirs = Call(&Stub::ListMyTodos, of_staff2, token);
    ASSERT_TRUE(theirs.ok()) << theirs.status();
    ASSERT_EQ(theirs->todos_size(), 1);
    EXPECT_TRUE(SameMessage(theirs->todos(0), others));
  }
  EXPECT_EQ(Call(&Stub::ListMyTodos, of_staff2, accounting_).status().code(),
            absl::StatusCode::kPermissionDenied);
  absl::StatusOr<v1::ListMyTodosResponse> own = Call(&Stub::ListMyTodos, v1::ListMyTodosRequest(), accounting_);
  ASSERT_TRUE(own.ok()) << own.status();
  EXPECT_EQ(own->todos_size(), 0);
  // Tomorrow, today's ToDo is overdue too.
  clock_.SetTokyo(absl::CivilSecond(2026, 4, 16, 0, 30, 0));
  const std::string tomorrow_staff = Token(Role::kStaff, "staff-1");
  absl::StatusOr<v1::ListMyTodosResponse> tomorrow =
      Call(&Stub::ListMyTodos, v1::ListMyTodosRequest(), tomorrow_staff);
  ASSERT_TRUE(tomorrow.ok()) << tomorrow.status();
  ASSERT_EQ(tomorrow->todos_size(), 5);
  EXPECT_EQ(tomorrow->todos(2).id(), today3.id());
  EXPECT_TRUE(tomorrow->todos(2).overdue());
  EXPECT_FALSE(tomorrow->todos(3).overdue());

  // Errors.
  auto create = [&](const std::function<void(v1::Todo&)>& change) {
    v1::CreateTodoRequest req;
    req.set_request_id(NextRequestId());
    req.mutable_todo()->set_project_id(p.id());
    req.mutable_todo()->set_title("x");
    *req.mutable_todo()->mutable_due_date() = D(2026, 5, 1);
    change(*req.mutable_todo());
    return Call(&Stub::CreateTodo, req, tomorrow_staff).status();
  };
  const int64_t todos = Count("SELECT count(*) FROM project.todos");
  EXPECT_EQ(create([](v1::Todo& t) { t.set_project_id(kUnknownId); }).code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(IsInvalidField(create([](v1::Todo& t) { t.set_title(""); }), "todo.title"));
  EXPECT_TRUE(IsInvalidField(create([](v1::Todo& t) { t.clear_due_date(); }), "todo.due_date"));
  EXPECT_TRUE(IsInvalidField(create([](v1::Todo& t) { t.set_project_id(0); }), "todo.project_id"));
  EXPECT_EQ(Count("SELECT count(*) FROM project.todos"), todos);
}

// ---------------------------------------------------------------------------------------------
// Input hygiene: free-text caps (in characters: "あ" is three UTF-8 bytes) and messages that
// never quote the client's value.
// ---------------------------------------------------------------------------------------------

std::string Chars(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += "あ";
  return s;
}

// At the limit accepted, one more refused as TOO_LONG on the field, with "at most N characters".
::testing::AssertionResult CapHolds(const absl::Status& at_limit, const absl::Status& over,
                                    const std::string& field, int limit) {
  if (!at_limit.ok()) return ::testing::AssertionFailure() << "at the limit: " << at_limit;
  ::testing::AssertionResult r = IsInvalidField(over, field, "TOO_LONG");
  if (!r) return r;
  const std::string want = absl::StrCat("at most ", limit, " characters");
  if (!absl::StrContains(over.message(), want)) {
    return ::testing::AssertionFailure() << "message lacks '" << want << "': " << over;
  }
  if (absl::StrContains(over.message(), "あ")) {
    return ::testing::AssertionFailure() << "message quotes the value: " << over;
  }
  return ::testing::AssertionSuccess();
}

TEST_F(ProjectServiceTest, FreeTextCapsCountCharactersOnCreateAndUpdate) {
  // Case memo: create and update.
  auto with_memo = [&](int n) {
    v1::Project p = NewProject(absl::StrCat("メモ", n));
    p.set_memo(Chars(n));
    return CreateProject(p);
  };
  const absl::StatusOr<v1::Project> memo_case = with_memo(2000);
  EXPECT_TRUE(CapHolds(memo_case.status(), with_memo(2001).status(), "project.memo", 2000));
  ASSERT_TRUE(memo_case.ok());
  v1::Project patch;
  patch.set_id(memo_case->id());
  patch.set_memo(Chars(2001));
  const absl::Status memo_over = UpdateProject(patch, {"memo"}).status();
  patch.set_memo(Chars(1999));
  EXPECT_TRUE(CapHolds(UpdateProject(patch, {"memo"}).status(), memo_over, "project.memo", 2000));
  EXPECT_EQ(GetProject(memo_case->id())->memo(), Chars(1999));

  // Products (created only; there is no UpdateProduct).
  auto product = [&](const std::string& code, int name_chars, int unit_chars) {
    v1::CreateProductRequest req;
    *req.mutable_product() = MakeProduct(code, Chars(name_chars), 100,
                                          common::v1::TAX_CATEGORY_STANDARD, Chars(unit_chars));
    return Call(&Stub::CreateProduct, req).status();
  };
  EXPECT_TRUE(CapHolds(product("N-1", 200, 1), product("N-2", 201, 1), "product.name", 200));
  EXPECT_TRUE(CapHolds(product("U-1", 1, 20), product("U-2", 1, 21), "product.unit", 20));

  // Quote lines and note: create and update.
  const v1::Project p = MustCreateProject(NewProject("見積の長さ"));
  const auto std10 = common::v1::TAX_CATEGORY_STANDARD;
  auto line = [&](int description_chars, int unit_chars) {
    v1::QuoteLine l = FreeLine(Chars(description_chars), 1000, 100, std10);
    l.set_unit(Chars(unit_chars));
    return l;
  };
  auto quote = [&](int description_chars, int unit_chars, int note_chars) {
    v1::Quote q = NewQuote(p.id(), {FreeLine("作業", 1000, 100, std10),
                                    line(description_chars, unit_chars)});
    q.set_note(Chars(note_chars));
    return q;
  };
  const absl::StatusOr<v1::Quote> q = CreateQuote(quote(500, 20, 500));
  EXPECT_TRUE(CapHolds(q.status(), CreateQuote(quote(501, 1, 1)).status(),
                       "quote.lines[1].description", 500));
  EXPECT_TRUE(CapHolds(q.status(), CreateQuote(quote(1, 21, 1)).status(), "quote.lines[1].unit", 20));
  EXPECT_TRUE(CapHolds(q.status(), CreateQuote(quote(1, 1, 501)).status(), "quote.note", 500));
  ASSERT_TRUE(q.ok());
  auto update = [&](const v1::Quote& patch_q, const std::vector<std::string>& paths) {
    v1::UpdateQuoteRequest r;
    *r.mutable_quote() = patch_q;
    r.mutable_quote()->set_id(q->id());
    for (const auto& path : paths) r.mutable_update_mask()->add_paths(path);
    return Call(&Stub::UpdateQuote, r).status();
  };
  // Refusals first: each leaves the quote (and its etag) as it was.
  const absl::Status desc_over = update(quote(501, 1, 1), {"lines"});
  const absl::Status unit_over = update(quote(1, 21, 1), {"lines"});
  const absl::Status note_over = update(quote(1, 1, 501), {"note"});
  EXPECT_TRUE(CapHolds(update(quote(500, 20, 1), {"lines"}), desc_over,
                       "quote.lines[1].description", 500));
  EXPECT_TRUE(CapHolds(absl::OkStatus(), unit_over, "quote.lines[1].unit", 20));
  EXPECT_TRUE(CapHolds(update(quote(1, 1, 500), {"note"}), note_over, "quote.note", 500));

  // The rejection reason is appended to the note.
  EXPECT_TRUE(IsInvalidField(RejectQuote(q->id(), Chars(501)).status(), "reason", "TOO_LONG"));
  EXPECT_TRUE(RejectQuote(q->id(), Chars(500)).ok());

  // Activities (created only).
  auto activity = [&](int summary_chars, int next_action_chars) {
    v1::CreateActivityRequest r;
    r.set_request_id(NextRequestId());
    v1::Activity* a = r.mutable_activity();
    a->set_project_id(p.id());
    a->set_kind(v1::ACTIVITY_KIND_CALL);
    api::ToTimestamp(StartTime(), a->mutable_occur_time());
    a->set_summary(Chars(summary_chars));
    a->set_next_action(Chars(next_action_chars));
    return Call(&Stub::CreateActivity, r).status();
  };
  EXPECT_TRUE(CapHolds(activity(1, 500), activity(1, 501), "activity.next_action", 500));
  EXPECT_TRUE(CapHolds(activity(2000, 1), activity(2001, 1), "activity.summary", 2000));

  // ToDos (created only).
  auto todo = [&](int title_chars, int assignee_chars) {
    v1::CreateTodoRequest r;
    r.set_request_id(NextRequestId());
    r.mutable_todo()->set_project_id(p.id());
    r.mutable_todo()->set_title(Chars(title_chars));
    r.mutable_todo()->set_assignee(Chars(assignee_chars));
    *r.mutable_todo()->mutable_due_date() = D(2026, 5, 1);
    return Call(&Stub::CreateTodo, r).status();
  };
  EXPECT_TRUE(CapHolds(todo(1, 100), todo(1, 101), "todo.assignee", 100));
  EXPECT_TRUE(CapHolds(todo(200, 1), todo(201, 1), "todo.title", 200));

  // Categories.
  auto category = [&](int n) {
    v1::CreateCategoryRequest r;
    r.mutable_category()->set_name(Chars(n));
    return Call(&Stub::CreateCategory, r).status();
  };
  EXPECT_TRUE(CapHolds(category(100), category(101), "category.name", 100));
}

TEST_F(ProjectServiceTest, ProgressStatusErrorDoesNotQuoteTheValue) {
  v1::Project p = NewProject("進捗");
  p.set_progress_status("CLIENT-TEXT-" + Chars(300));
  const absl::Status s = CreateProject(p).status();
  EXPECT_TRUE(IsInvalidField(s, "project.progress_status", "INVALID_PROGRESS_STATUS"));
  EXPECT_FALSE(absl::StrContains(s.message(), "CLIENT-TEXT")) << s;
  for (const auto& v : FieldViolations(s)) {
    EXPECT_FALSE(absl::StrContains(v.description, "CLIENT-TEXT")) << v.description;
  }
  EXPECT_EQ(ProjectRows(), 0);
}

// ---------------------------------------------------------------------------------------------
// CSV import
// ---------------------------------------------------------------------------------------------

TEST_F(ProjectServiceTest, ImportOfTwoThousandCasesIsAllOrNothing) {
  constexpr int kRows = 2000;
  constexpr int kBad = 1233;  // 0-based data row: line 1235 of the file
  auto file = [&](bool with_bad_row) {
    std::string csv = "顧客ID,案件名,担当者,部門,見積日,受注状況\r\n";
    for (int i = 0; i < kRows; ++i) {
      const std::string date = with_bad_row && i == kBad ? "2026-02-30" : "2026/3/1";
      absl::StrAppend(&csv, active_.id(), ",一括案件", absl::StrFormat("%04d", i + 1),
                      ",sato,営業1部,", date, ",受注予定\r\n");
    }
    return csv;
  };
  auto import = [&](const std::string& csv, bool validate_only, const std::string& request_id) {
    v1::ImportProjectsRequest req;
    req.set_csv(csv);
    req.set_validate_only(validate_only);
    req.set_request_id(request_id);
    return Call(&Stub::ImportProjects, req);
  };

  absl::StatusOr<v1::ImportProjectsResponse> bad = import(file(true), false, "import-bad");
  ASSERT_TRUE(bad.ok()) << bad.status();
  EXPECT_FALSE(bad->written());
  EXPECT_EQ(bad->projects_created(), 0);
  EXPECT_EQ(bad->projects_updated(), 0);
  ASSERT_EQ(bad->errors_size(), 1) << bad->DebugString();
  EXPECT_EQ(bad->errors(0).row(), kBad + 2);
  EXPECT_EQ(bad->errors(0).column(), "見積日");
  EXPECT_EQ(bad->errors(0).code(), "INVALID_DATE");
  EXPECT_FALSE(bad->errors(0).message().empty());
  EXPECT_EQ(ProjectRows(), 0);
  EXPECT_EQ(AuditRows(), 0);

  // Dry run of the fixed file: counts, nothing written.
  absl::StatusOr<v1::ImportProjectsResponse> dry = import(file(false), true, "");
  ASSERT_TRUE(dry.ok()) << dry.status();
  EXPECT_FALSE(dry->written());
  EXPECT_EQ(dry->errors_size(), 0);
  EXPECT_EQ(dry->projects_created(), kRows);
  EXPECT_EQ(ProjectRows(), 0);
  EXPECT_EQ(AuditRows(), 0);

  absl::StatusOr<v1::ImportProjectsResponse> good = import(file(false), false, "import-good");
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_TRUE(good->written());
  EXPECT_EQ(good->errors_size(), 0) << good->DebugString();
  EXPECT_EQ(good->projects_created(), kRows);
  EXPECT_EQ(good->projects_updated(), 0);
  EXPECT_EQ(ProjectRows(), kRows);
  EXPECT_EQ(Count("SELECT count(DISTINCT number) FROM project.projects"), kRows);
  EXPECT_EQ(Count("SELECT count(*) FROM project.projects WHERE owner = 'sato' AND "
                  "department = '営業1部' AND quote_date = '2026-03-01' AND order_status = 1 AND "
                  "name LIKE '一括案件%'"),
            kRows);
  EXPECT_EQ(Count("SELECT min(number)::bigint FROM project.projects"), 1);
  EXPECT_EQ(Count("SELECT max(number)::bigint FROM project.projects"), kRows);
  EXPECT_EQ(AuditRows(), kRows);

  // A retry answers the same and writes nothing more.
  absl::StatusOr<v1::ImportProjectsResponse> retry = import(file(false), false, "import-good");
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(SameMessage(*retry, *good));
  EXPECT_EQ(ProjectRows(), kRows);
  EXPECT_EQ(AuditRows(), kRows);
}

TEST_F(ProjectServiceTest, ImportUpdatesByNumberValidatesOnlyAndReportsRowErrors) {
  v1::Project in = NewProject("更新前");
  in.set_memo("残るメモ");
  const v1::Project existing = MustCreateProject(in);
  ASSERT_EQ(existing.number(), "0000001");
  auto import = [&](const std::string& csv, bool validate_only) {
    v1::ImportProjectsRequest req;
    req.set_csv(csv);
    req.set_validate_only(validate_only);
    if (!validate_only) req.set_request_id(NextRequestId());
    return Call(&Stub::ImportProjects, req);
  };
  const std::string csv = absl::StrCat(
      "案件番号,顧客ID,案件名,受注状況,社内メモ,加盟店ID,紹介日\n",
      "0000001,", active_.id(), ",更新後,受注済,新メモ,,\n",
      ",", active_.id(), ",新規1,,,,\n",
      "\n",  // blank lines are skipped
      ",", active_.id(), ",新規2,失注,,", partner_a_.id(), ",2026/4/1\n");
  const int64_t audits = AuditRows();

  absl::StatusOr<v1::ImportProjectsResponse> dry = import(csv, true);
  ASSERT_TRUE(dry.ok()) << dry.status();
  EXPECT_FALSE(dry->written());
  EXPECT_EQ(dry->errors_size(), 0) << dry->DebugString();
  EXPECT_EQ(dry->projects_created(), 2);
  EXPECT_EQ(dry->projects_updated(), 1);
  EXPECT_EQ(ProjectRows(), 1);
  EXPECT_EQ(AuditRows(), audits);
  absl::StatusOr<v1::Project> unchanged = GetProject(existing.id());
  ASSERT_TRUE(unchanged.ok());
  EXPECT_TRUE(SameMessage(*unchanged, existing));

  absl::StatusOr<v1::ImportProjectsResponse> done = import(csv, false);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_TRUE(done->written());
  EXPECT_EQ(done->errors_size(), 0) << done->DebugString();
  EXPECT_EQ(done->projects_created(), 2);
  EXPECT_EQ(done->projects_updated(), 1);
  EXPECT_EQ(ProjectRows(), 3);
  absl::StatusOr<v1::Project> updated = GetProject(existing.id());
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->name(), "更新後");
  EXPECT_EQ(updated->order_status(), v1::ORDER_STATUS_WON);
  EXPECT_EQ(updated->memo(), "新メモ");
  EXPECT_EQ(updated->etag(), "\"2\"");
  v1::ListProjectsRequest referred;
  referred.set_partner_id(partner_a_.id());
  absl::StatusOr<v1::ListProjectsResponse> with_referral = ListProjects(referred);
  ASSERT_TRUE(with_referral.ok()) << with_referral.status();
  ASSERT_EQ(with_referral->projects_size(), 1);
  const v1::Project& p3 = with_referral->projects(0);
  EXPECT_EQ(p3.name(), "新規2");
  EXPECT_EQ(p3.number(), "0000003");
  EXPECT_EQ(p3.order_status(), v1::ORDER_STATUS_LOST);
  EXPECT_EQ(p3.referral().outcome(), v1::REFERRAL_OUTCOME_IN_PROGRESS);
  EXPECT_TRUE(SameMessage(p3.referral().referral_date(), D(2026, 4, 1)));
  EXPECT_EQ(AuditRows(), audits + 3);

  // Row errors, each on its row (and column when it has one); nothing is written.
  const std::string errors_csv = absl::StrCat(
      "案件番号,顧客ID,案件名,受注状況,加盟店ID,紹介日\n",
      "0009999,", active_.id(), ",存在しない番号,,,\n",     // 2: UNKNOWN_NUMBER
      ",", lead_.id(), ",見込客,,,\n",                       // 3: CUSTOMER_NOT_ACTIVE
      ",", active_.id(), ",加盟店違い,,", active_.id(), ",2026-04-01\n",  // 4: NOT_A_PARTNER
      ",", active_.id(), ",,,,\n",                           // 5: REQUIRED 案件名
      ",", active_.id(), ",未来紹介,,", partner_a_.id(), ",2026-05-01\n",  // 6: DATE_IN_FUTURE
      ",", active_.id(), ",状況不明,謎,,\n",                 // 7: INVALID_ORDER_STATUS
      ",", kUnknownId, ",不明顧客,,,\n",                     // 8: CUSTOMER_NOT_ACTIVE
      "123,", active_.id(), ",番号不正,,,\n",                // 9: INVALID_NUMBER 案件番号
      ",abc,", "顧客ID不正,,,\n",                            // 10: INVALID_NUMBER 顧客ID
      ",", active_.id(), ",正しい行,,,\n");                  // 11: fine
  absl::StatusOr<v1::ImportProjectsResponse> errs = import(errors_csv, false);
  ASSERT_TRUE(errs.ok()) << errs.status();
  EXPECT_FALSE(errs->written());
  std::vector<std::tuple<int, std::string, std::string>> got;
  for (const auto& e : errs->errors()) got.emplace_back(e.row(), e.column(), e.code());
  const std::vector<std::tuple<int, std::string, std::string>> want = {
      {2, "", "UNKNOWN_NUMBER"},
      {3, "", "CUSTOMER_NOT_ACTIVE"},
      {4, "", "NOT_A_PARTNER"},
      {5, "案件名", "REQUIRED"},
      {6, "紹介日", "DATE_IN_FUTURE"},
      {7, "受注状況", "INVALID_ORDER_STATUS"},
      {8, "", "CUSTOMER_NOT_ACTIVE"},
      {9, "案件番号", "INVALID_NUMBER"},
      {10, "顧客ID", "INVALID_NUMBER"},
  };
  EXPECT_EQ(got, want) << errs->DebugString();
  EXPECT_EQ(ProjectRows(), 3);
  EXPECT_EQ(AuditRows(), audits + 3);

  // Unreadable files are INVALID_ARGUMENT on "csv".
  EXPECT_TRUE(IsInvalidField(import("顧客ID,案件名,色\n1,x,赤\n", false).status(), "csv",
                             "UNKNOWN_COLUMN"));
  EXPECT_TRUE(IsInvalidField(import("案件名\nx\n", false).status(), "csv", "MISSING_COLUMN"));
  EXPECT_TRUE(IsInvalidField(import("", false).status(), "csv"));
  EXPECT_TRUE(IsInvalidField(import("\x80\xff\xfd", false).status(), "csv"));
  v1::ImportProjectsRequest no_id;
  no_id.set_csv(csv);
  EXPECT_TRUE(IsInvalidField(Call(&Stub::ImportProjects, no_id).status(), "request_id"));
  EXPECT_EQ(ProjectRows(), 3);
}

TEST_F(ProjectServiceTest, ImportReadsCp932) {
  const std::string utf8 = absl::StrCat(
      "顧客ID,案件名,担当者,部門,社内メモ,受注状況,見積日\r\n", active_.id(),
      ",髙橋様邸 ①期工事,佐藤,営業部,\"カンマ, と \"\"引用符\"\"\",受注済,２０２６／４／１\r\n");
  const std::string cp932 = ToCp932(utf8);
  ASSERT_FALSE(cp932.empty());
  ASSERT_NE(cp932, utf8);
  v1::ImportProjectsRequest req;
  req.set_csv(cp932);
  req.set_request_id("cp932-1");
  absl::StatusOr<v1::ImportProjectsResponse> resp = Call(&Stub::ImportProjects, req);
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->errors_size(), 0) << resp->DebugString();
  EXPECT_TRUE(resp->written());
  EXPECT_EQ(resp->projects_created(), 1);
  absl::StatusOr<v1::ListProjectsResponse> list = ListProjects(v1::ListProjectsRequest());
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->projects_size(), 1);
  const v1::Project& p = list->projects(0);
  EXPECT_EQ(p.name(), "髙橋様邸 ①期工事");
  EXPECT_EQ(p.owner(), "佐藤");
  EXPECT_EQ(p.department(), "営業部");
  EXPECT_EQ(p.memo(), "カンマ, と \"引用符\"");
  EXPECT_EQ(p.order_status(), v1::ORDER_STATUS_WON);
  EXPECT_TRUE(SameMessage(p.quote_date(), D(2026, 4, 1)));
  EXPECT_EQ(p.customer_id(), active_.id());
}

// ---------------------------------------------------------------------------------------------
// The customer service down
// ---------------------------------------------------------------------------------------------

TEST_F(ProjectServiceTest, CustomerServiceDownIsUnavailableNotInternal) {
  const v1::Project p = MustCreateProject(NewProject("停止前"));
  const int64_t audits = AuditRows();
  customer_host_.reset();  // the customer service goes away

  absl::Status created = CreateProject(NewProject("停止中")).status();
  EXPECT_EQ(created.code(), absl::StatusCode::kUnavailable) << created;
  EXPECT_EQ(ErrorReason(created), "CUSTOMER_SERVICE_UNAVAILABLE") << created;
  absl::Status referred = CreateProject(Referred("停止中の紹介", partner_a_, D(2026, 4, 1))).status();
  EXPECT_EQ(referred.code(), absl::StatusCode::kUnavailable) << referred;
  v1::Project move;
  move.set_id(p.id());
  move.set_customer_id(lead_.id());
  absl::Status moved = UpdateProject(move, {"customer_id"}).status();
  EXPECT_EQ(moved.code(), absl::StatusCode::kUnavailable) << moved;
  v1::ImportProjectsRequest import;
  import.set_csv(absl::StrCat("顧客ID,案件名\n", active_.id(), ",停止中の一括\n"));
  import.set_request_id("import-down");
  absl::Status imported = Call(&Stub::ImportProjects, import).status();
  EXPECT_EQ(imported.code(), absl::StatusCode::kUnavailable) << imported;
  EXPECT_EQ(ProjectRows(), 1);
  EXPECT_EQ(AuditRows(), audits);

  // What does not need the peer still works.
  EXPECT_TRUE(GetProject(p.id()).ok());
  v1::Project rename;
  rename.set_id(p.id());
  rename.set_name("停止中に改名");
  absl::StatusOr<v1::Project> renamed = UpdateProject(rename, {"name"});
  ASSERT_TRUE(renamed.ok()) << renamed.status();
  EXPECT_EQ(renamed->name(), "停止中に改名");
}

// ---------------------------------------------------------------------------------------------
// Partner tokens
// ---------------------------------------------------------------------------------------------

class PartnerScopeTest : public ProjectServiceTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(ProjectServiceTest::SetUp());
    v1::Project mine_in = Referred("A社紹介", partner_a_, D(2026, 3, 1));
    mine_in.set_memo("社内: 値引き余地あり");
    mine_in.set_owner("sato");
    ASSERT_NO_FATAL_FAILURE(mine_ = MustCreateProject(mine_in));
    v1::Project theirs_in = Referred("B社紹介", partner_b_, D(2026, 3, 1));
    theirs_in.set_memo("社内: B社");
    ASSERT_NO_FATAL_FAILURE(theirs_ = MustCreateProject(theirs_in));
    v1::Project internal_in = NewProject("社内案件");
    internal_in.set_memo("社内のみ");
    ASSERT_NO_FATAL_FAILURE(internal_ = MustCreateProject(internal_in));
    ASSERT_NO_FATAL_FAILURE(
        mine_done_ = MustCreateProject(Referred("A社紹介2", partner_a_, D(2026, 3, 2))));
    ASSERT_TRUE(Record(Completed(mine_done_.id(), D(2026, 4, 1), 300'000)).ok());
    absl::StatusOr<v1::Project> reread = GetProject(mine_done_.id());
    ASSERT_TRUE(reread.ok());
    mine_done_ = *reread;
    const v1::QuoteLine line = FreeLine("作業", 1000, 1000, common::v1::TAX_CATEGORY_STANDARD);
    ASSERT_NO_FATAL_FAILURE(my_quote_ = MustCreateQuote(NewQuote(mine_.id(), {line})));
    ASSERT_NO_FATAL_FAILURE(their_quote_ = MustCreateQuote(NewQuote(theirs_.id(), {line})));
    v1::CreateTodoRequest todo;
    todo.set_request_id(NextRequestId());
    todo.mutable_todo()->set_project_id(mine_.id());
    todo.mutable_todo()->set_title("連絡");
    *todo.mutable_todo()->mutable_due_date() = D(2026, 4, 20);
    absl::StatusOr<v1::Todo> t = Call(&Stub::CreateTodo, todo);
    ASSERT_TRUE(t.ok()) << t.status();
    my_todo_ = *t;
    partner_a_token_ = PartnerToken(partner_a_);
  }

  // What a partner should see of `p`: everything but the internal memo.
  static v1::Project AsPartnerSees(v1::Project p) {
    p.clear_memo();
    return p;
  }

  v1::Project mine_, theirs_, internal_, mine_done_;
  v1::Quote my_quote_, their_quote_;
  v1::Todo my_todo_;
  std::string partner_a_token_;
};

TEST_F(PartnerScopeTest, PartnerReadsOnlyItsReferralsWithoutTheMemo) {
  const std::string& pa = partner_a_token_;
  absl::StatusOr<v1::Project> got = GetProject(mine_.id(), pa);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->memo(), "");
  EXPECT_TRUE(SameMessage(*got, AsPartnerSees(mine_))) << got->DebugString();
  for (int64_t id : {theirs_.id(), internal_.id(), kUnknownId}) {
    EXPECT_EQ(GetProject(id, pa).status().code(), absl::StatusCode::kNotFound) << id;
  }

  v1::BatchGetProjectsRequest batch;
  batch.add_ids(mine_done_.id());
  batch.add_ids(mine_.id());
  absl::StatusOr<v1::BatchGetProjectsResponse> both = Call(&Stub::BatchGetProjects, batch, pa);
  ASSERT_TRUE(both.ok()) << both.status();
  ASSERT_EQ(both->projects_size(), 2);
  EXPECT_TRUE(SameMessage(both->projects(0), AsPartnerSees(mine_done_)));
  EXPECT_TRUE(SameMessage(both->projects(1), AsPartnerSees(mine_)));
  for (int64_t other : {theirs_.id(), internal_.id()}) {
    v1::BatchGetProjectsRequest mixed;
    mixed.add_ids(mine_.id());
    mixed.add_ids(other);
    EXPECT_EQ(Call(&Stub::BatchGetProjects, mixed, pa).status().code(),
              absl::StatusCode::kNotFound);
  }

  // Lists are limited to its own, whatever it asks for.
  const std::vector<int64_t> own = {mine_.id(), mine_done_.id()};
  std::vector<v1::ListProjectsRequest> list_requests(5);
  list_requests[1].set_partner_id(partner_b_.id());
  list_requests[2].set_customer_id(active_.id());
  list_requests[3].set_order_by(v1::PROJECT_ORDER_BY_UPDATE_TIME_DESC);
  list_requests[4].set_page_size(1000);
  for (const auto& req : list_requests) {
    absl::StatusOr<v1::ListProjectsResponse> list = ListProjects(req, pa);
    ASSERT_TRUE(list.ok()) << list.status();
    std::vector<int64_t> ids = Ids(*list);
    std::sort(ids.begin(), ids.end());
    EXPECT_EQ(ids, own) << req.ShortDebugString();
    for (const auto& p : list->projects()) EXPECT_EQ(p.memo(), "") << p.id();
  }
  // Paging works within its scope.
  v1::ListProjectsRequest paged;
  paged.set_page_size(1);
  absl::StatusOr<v1::ListProjectsResponse> page1 = ListProjects(paged, pa);
  ASSERT_TRUE(page1.ok()) << page1.status();
  EXPECT_EQ(Ids(*page1), std::vector<int64_t>{mine_.id()});
  paged.set_page_token(page1->next_page_token());
  absl::StatusOr<v1::ListProjectsResponse> page2 = ListProjects(paged, pa);
  ASSERT_TRUE(page2.ok()) << page2.status();
  EXPECT_EQ(Ids(*page2), std::vector<int64_t>{mine_done_.id()});
  EXPECT_EQ(page2->next_page_token(), "");

  std::vector<v1::ListReferralsRequest> referral_requests(3);
  referral_requests[1].set_partner_id(partner_b_.id());
  referral_requests[2].set_partner_id(partner_a_.id());
  for (const auto& req : referral_requests) {
    absl::StatusOr<v1::ListReferralsResponse> list = Call(&Stub::ListReferrals, req, pa);
    ASSERT_TRUE(list.ok()) << list.status();
    EXPECT_EQ(Ids(*list), own) << req.ShortDebugString();
    for (const auto& p : list->projects()) EXPECT_EQ(p.memo(), "") << p.id();
  }
  v1::ListReferralsRequest completed_only;
  completed_only.set_partner_id(partner_b_.id());
  completed_only.add_outcomes(v1::REFERRAL_OUTCOME_COMPLETED);
  absl::StatusOr<v1::ListReferralsResponse> done = Call(&Stub::ListReferrals, completed_only, pa);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(Ids(*done), std::vector<int64_t>{mine_done_.id()});

  // The other partner sees only its case; a partner without referrals sees nothing.
  const std::string pb = PartnerToken(partner_b_);
  absl::StatusOr<v1::ListProjectsResponse> of_b = ListProjects(v1::ListProjectsRequest(), pb);
  ASSERT_TRUE(of_b.ok()) << of_b.status();
  EXPECT_EQ(Ids(*of_b), std::vector<int64_t>{theirs_.id()});
  EXPECT_EQ(GetProject(mine_.id(), pb).status().code(), absl::StatusCode::kNotFound);
  const customer::v1::Customer c = MustCreateCustomer(PartnerStore("加盟店C", 500));
  const std::string pc = PartnerToken(c);
  absl::StatusOr<v1::ListProjectsResponse> of_c = ListProjects(v1::ListProjectsRequest(), pc);
  ASSERT_TRUE(of_c.ok()) << of_c.status();
  EXPECT_EQ(of_c->projects_size(), 0);
  v1::ListReferralsRequest ask_for_a;
  ask_for_a.set_partner_id(partner_a_.id());
  absl::StatusOr<v1::ListReferralsResponse> c_refs = Call(&Stub::ListReferrals, ask_for_a, pc);
  ASSERT_TRUE(c_refs.ok()) << c_refs.status();
  EXPECT_EQ(c_refs->projects_size(), 0);
}

TEST_F(PartnerScopeTest, PartnerIsDeniedEveryOtherRpcAndChangesNothing) {
  const std::string& pa = partner_a_token_;
  const int64_t projects = ProjectRows();
  const int64_t audits = AuditRows();
  const int64_t quotes = Count("SELECT count(*) FROM project.quotes");
  const int64_t extras = ExtraOrderRows();

  std::vector<std::pair<std::string, absl::Status>> calls;
  auto add = [&](const std::string& name, const absl::Status& s) { calls.emplace_back(name, s); };
  for (const v1::Project* target : {&mine_, &theirs_}) {
    const std::string suffix = target == &mine_ ? " (own case)" : " (other's case)";
    v1::Project create = Referred("partner's own case", partner_a_, D(2026, 4, 1));
    add("CreateProject" + suffix, CreateProject(create, NextRequestId(), pa).status());
    v1::Project patch;
    patch.set_id(target->id());
    patch.set_name("partner renamed");
    add("UpdateProject" + suffix, UpdateProject(patch, {"name"}, pa).status());
    add("RecordReferralOutcome" + suffix,
        Record(Completed(target->id(), D(2026, 4, 1), 1), pa).status());
    const v1::Quote& quote = target == &mine_ ? my_quote_ : their_quote_;
    v1::CreateQuoteRequest cq;
    cq.set_request_id(NextRequestId());
    *cq.mutable_quote() = NewQuote(
        target->id(), {FreeLine("x", 1000, 1, common::v1::TAX_CATEGORY_STANDARD)});
    add("CreateQuote" + suffix, Call(&Stub::CreateQuote, cq, pa).status());
    v1::UpdateQuoteRequest uq;
    uq.mutable_quote()->set_id(quote.id());
    uq.mutable_quote()->set_note("x");
    uq.mutable_update_mask()->add_paths("note");
    add("UpdateQuote" + suffix, Call(&Stub::UpdateQuote, uq, pa).status());
    v1::SendQuoteRequest sq;
    sq.set_quote_id(quote.id());
    add("SendQuote" + suffix, Call(&Stub::SendQuote, sq, pa).status());
    v1::AcceptQuoteRequest aq;
    aq.set_quote_id(quote.id());
    add("AcceptQuote" + suffix, Call(&Stub::AcceptQuote, aq, pa).status());
    v1::RejectQuoteRequest rq;
    rq.set_quote_id(quote.id());
    add("RejectQuote" + suffix, Call(&Stub::RejectQuote, rq, pa).status());
    v1::GetQuotePdfRequest pdf;
    pdf.set_id(quote.id());
    add("GetQuotePdf" + suffix, Call(&Stub::GetQuotePdf, pdf, pa).status());
    v1::GetQuoteRequest gq;
    gq.set_id(quote.id());
    add("GetQuote" + suffix, Call(&Stub::GetQuote, gq, pa).status());
    v1::ListQuotesRequest lq;
    lq.set_project_id(target->id());
    add("ListQuotes" + suffix, Call(&Stub::ListQuotes, lq, pa).status());
    v1::CreateActivityRequest ca;
    ca.set_request_id(NextRequestId());
    ca.mutable_activity()->set_project_id(target->id());
    ca.mutable_activity()->set_kind(v1::ACTIVITY_KIND_CALL);
    api::ToTimestamp(StartTime(), ca.mutable_activity()->mutable_occur_time());
    ca.mutable_activity()->set_summary("x");
    add("CreateActivity" + suffix, Call(&Stub::CreateActivity, ca, pa).status());
    v1::ListActivitiesRequest la;
    la.set_project_id(target->id());
    add("ListActivities" + suffix, Call(&Stub::ListActivities, la, pa).status());
    v1::CreateTodoRequest ct;
    ct.set_request_id(NextRequestId());
    ct.mutable_todo()->set_project_id(target->id());
    ct.mutable_todo()->set_title("x");
    *ct.mutable_todo()->mutable_due_date() = D(2026, 5, 1);
    add("CreateTodo" + suffix, Call(&Stub::CreateTodo, ct, pa).status());
    v1::ListAuditEventsRequest lae;
    lae.set_project_id(target->id());
    add("ListAuditEvents" + suffix, Call(&Stub::ListAuditEvents, lae, pa).status());
  }
  v1::CreateCategoryRequest cc;
  cc.mutable_category()->set_name("partner category");
  add("CreateCategory", Call(&Stub::CreateCategory, cc, pa).status());
  add("ListCategories", Call(&Stub::ListCategories, v1::ListCategoriesRequest(), pa).status());
  v1::CreateProductRequest cp;
  *cp.mutable_product() = MakeProduct("PARTNER", "x", 1, common::v1::TAX_CATEGORY_STANDARD);
  add("CreateProduct", Call(&Stub::CreateProduct, cp, pa).status());
  add("ListProducts", Call(&Stub::ListProducts, v1::ListProductsRequest(), pa).status());
  v1::GetForecastRequest gf;
  *gf.mutable_from_month() = YM(2026, 4);
  *gf.mutable_to_month() = YM(2026, 6);
  add("GetForecast", Call(&Stub::GetForecast, gf, pa).status());
  v1::CompleteTodoRequest ctd;
  ctd.set_id(my_todo_.id());
  add("CompleteTodo", Call(&Stub::CompleteTodo, ctd, pa).status());
  add("ListMyTodos", Call(&Stub::ListMyTodos, v1::ListMyTodosRequest(), pa).status());
  v1::ListMyTodosRequest staff_todos;
  staff_todos.set_assignee("staff-1");
  add("ListMyTodos (staff-1)", Call(&Stub::ListMyTodos, staff_todos, pa).status());
  v1::ImportProjectsRequest ip;
  ip.set_csv(absl::StrCat("顧客ID,案件名\n", active_.id(), ",x\n"));
  ip.set_request_id(NextRequestId());
  add("ImportProjects", Call(&Stub::ImportProjects, ip, pa).status());
  ip.set_validate_only(true);
  add("ImportProjects (validate_only)", Call(&Stub::ImportProjects, ip, pa).status());
  // ListQuotes without a filter, as a partner might try to see everything.
  add("ListQuotes (no filter)", Call(&Stub::ListQuotes, v1::ListQuotesRequest(), pa).status());

  for (const auto& [name, status] : calls) {
    EXPECT_TRUE(IsError(status, absl::StatusCode::kPermissionDenied, "ROLE_NOT_ALLOWED")) << name;
  }
  // 27 RPCs in all: 4 readable ones (tested above) and these 23.
  std::set<std::string> methods;
  for (const auto& [name, status] : calls) methods.insert(name.substr(0, name.find(' ')));
  EXPECT_EQ(methods.size(), 23u);
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          "anken.project.v1.ProjectService");
  ASSERT_NE(service, nullptr);
  EXPECT_EQ(service->method_count(), 27);

  // Nothing changed anywhere.
  EXPECT_EQ(ProjectRows(), projects);
  EXPECT_EQ(AuditRows(), audits);
  EXPECT_EQ(Count("SELECT count(*) FROM project.quotes"), quotes);
  EXPECT_EQ(ExtraOrderRows(), extras);
  EXPECT_EQ(Count("SELECT count(*) FROM project.categories"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM project.products"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM project.activities"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM project.todos WHERE done"), 0);
  for (const v1::Project* p : {&mine_, &theirs_}) {
    absl::StatusOr<v1::Project> now = GetProject(p->id());
    ASSERT_TRUE(now.ok());
    EXPECT_TRUE(SameMessage(*now, *p)) << now->DebugString();
  }
}

// ---------------------------------------------------------------------------------------------
// Audit events and authentication
// ---------------------------------------------------------------------------------------------

TEST_F(ProjectServiceTest, ListAuditEventsShowsACaseAndItsPartsNewestFirst) {
  std::vector<v1::Project> cases;
  for (int i = 1; i <= 10; ++i) cases.push_back(MustCreateProject(NewProject(absl::StrCat("案件", i))));
  const v1::Project& p1 = cases[0];
  const v1::Project& p10 = cases[9];
  ASSERT_EQ(p1.id(), 1);  // a fresh database: "projects/1" is a prefix of "projects/10"
  ASSERT_EQ(p10.id(), 10);
  v1::Project patch;
  patch.set_id(p10.id());
  patch.set_name("十番目の改名");
  ASSERT_TRUE(UpdateProject(patch, {"name"}).ok());

  clock_.Advance(absl::Minutes(1));
  patch.set_id(p1.id());
  patch.set_name("renamed-1");
  ASSERT_TRUE(UpdateProject(patch, {"name"}).ok());
  const v1::Quote q = MustCreateQuote(
      NewQuote(p1.id(), {FreeLine("x", 1000, 100, common::v1::TAX_CATEGORY_STANDARD)}));
  ASSERT_TRUE(SendQuote(q.id()).ok());
  v1::CreateActivityRequest ca;
  ca.set_request_id("audit-activity");
  ca.mutable_activity()->set_project_id(p1.id());
  ca.mutable_activity()->set_kind(v1::ACTIVITY_KIND_MEETING);
  api::ToTimestamp(StartTime(), ca.mutable_activity()->mutable_occur_time());
  ca.mutable_activity()->set_summary("打合せ");
  absl::StatusOr<v1::Activity> activity = Call(&Stub::CreateActivity, ca);
  ASSERT_TRUE(activity.ok()) << activity.status();
  v1::CreateTodoRequest ct;
  ct.set_request_id("audit-todo");
  ct.mutable_todo()->set_project_id(p1.id());
  ct.mutable_todo()->set_title("宿題");
  *ct.mutable_todo()->mutable_due_date() = D(2026, 4, 30);
  absl::StatusOr<v1::Todo> todo = Call(&Stub::CreateTodo, ct);
  ASSERT_TRUE(todo.ok()) << todo.status();
  v1::CompleteTodoRequest done;
  done.set_id(todo->id());
  ASSERT_TRUE(Call(&Stub::CompleteTodo, done, admin_).ok());

  v1::ListAuditEventsRequest req;
  req.set_project_id(p1.id());
  absl::StatusOr<v1::ListAuditEventsResponse> all = Call(&Stub::ListAuditEvents, req, accounting_);
  ASSERT_TRUE(all.ok()) << all.status();
  const std::string svc = "/anken.project.v1.ProjectService/";
  const std::string case_id = absl::StrCat("projects/", p1.id());
  const std::string quote_id = absl::StrCat(case_id, "/quotes/", q.id());
  const std::vector<std::tuple<std::string, std::string, std::string>> want = {
      {svc + "CompleteTodo", "todo", absl::StrCat(case_id, "/todos/", todo->id())},
      {svc + "CreateTodo", "todo", absl::StrCat(case_id, "/todos/", todo->id())},
      {svc + "CreateActivity", "activity", absl::StrCat(case_id, "/activities/", activity->id())},
      {svc + "SendQuote", "quote", quote_id},
      {svc + "CreateQuote", "quote", quote_id},
      {svc + "UpdateProject", "project", case_id},
      {svc + "CreateProject", "project", case_id},
  };
  std::vector<std::tuple<std::string, std::string, std::string>> got;
  for (const auto& e : all->events()) got.emplace_back(e.method(), e.resource_type(), e.resource_id());
  EXPECT_EQ(got, want) << all->DebugString();
  ASSERT_EQ(all->events_size(), 7);
  for (int i = 1; i < all->events_size(); ++i) {
    EXPECT_LT(all->events(i).id(), all->events(i - 1).id());
  }
  EXPECT_EQ(all->events(0).actor(), "admin-1");
  EXPECT_EQ(all->events(0).actor_role(), "admin");
  EXPECT_EQ(all->events(1).actor(), "staff-1");
  EXPECT_EQ(all->events(1).actor_role(), "staff");
  EXPECT_EQ(all->events(1).request_id(), "audit-todo");
  EXPECT_EQ(all->events(2).request_id(), "audit-activity");
  EXPECT_EQ(api::FromTimestamp(all->events(0).event_time()), StartTime() + absl::Minutes(1));
  EXPECT_TRUE(absl::StrContains(all->events(5).change_json(), "\"name\"")) << all->events(5).change_json();
  EXPECT_TRUE(absl::StrContains(all->events(5).change_json(), "renamed-1")) << all->events(5).change_json();
  EXPECT_EQ(all->next_page_token(), "");

  // Pages of 3 without gaps.
  req.set_page_size(3);
  std::vector<int64_t> paged;
  for (int page = 0; page < 5; ++page) {
    absl::StatusOr<v1::ListAuditEventsResponse> resp = Call(&Stub::ListAuditEvents, req);
    ASSERT_TRUE(resp.ok()) << resp.status();
    for (const auto& e : resp->events()) paged.push_back(e.id());
    if (resp->next_page_token().empty()) break;
    req.set_page_token(resp->next_page_token());
  }
  std::vector<int64_t> ids;
  for (const auto& e : all->events()) ids.push_back(e.id());
  EXPECT_EQ(paged, ids);

  // Case 10: only its own two events.
  v1::ListAuditEventsRequest ten;
  ten.set_project_id(p10.id());
  absl::StatusOr<v1::ListAuditEventsResponse> of_ten = Call(&Stub::ListAuditEvents, ten);
  ASSERT_TRUE(of_ten.ok()) << of_ten.status();
  ASSERT_EQ(of_ten->events_size(), 2);
  EXPECT_EQ(of_ten->events(0).resource_id(), absl::StrCat("projects/", p10.id()));

  v1::ListAuditEventsRequest unknown;
  unknown.set_project_id(kUnknownId);
  EXPECT_EQ(Call(&Stub::ListAuditEvents, unknown).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(IsInvalidField(Call(&Stub::ListAuditEvents, v1::ListAuditEventsRequest()).status(),
                             "project_id"));
}

TEST_F(ProjectServiceTest, CallersMustAuthenticateAndActInTheirRole) {
  const v1::Project p = MustCreateProject(NewProject("認証"));
  v1::GetProjectRequest get;
  get.set_id(p.id());
  EXPECT_EQ(Call(&Stub::GetProject, get, "").status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(Call(&Stub::GetProject, get, "not-a-jwt").status().code(),
            absl::StatusCode::kUnauthenticated);
  // Roles still apply to authenticated callers.
  EXPECT_TRUE(Call(&Stub::GetProject, get, service_token_).ok());
  for (const std::string& token : {accounting_, service_token_}) {
    EXPECT_TRUE(IsError(CreateProject(NewProject("x"), NextRequestId(), token).status(),
                        absl::StatusCode::kPermissionDenied, "ROLE_NOT_ALLOWED"));
  }
  EXPECT_EQ(ProjectRows(), 1);
}

}  // namespace
}  // namespace anken::project::testing
