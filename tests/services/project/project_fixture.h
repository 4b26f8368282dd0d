#pragma once
// The project service as a client sees it, for integration tests, with its real peer: one
// fresh Postgres database (ScratchDatabase) holding the `customer` and the `project` schema,
// each migrated by its own service's migrations; the real customer service (PgCustomerStore +
// CustomerServiceImpl) behind one TestHost, and the real project service (PgProjectStore +
// ProjectServiceImpl) behind a second TestHost, asking the customer service over gRPC
// (GrpcCustomerDirectory on its own peer channel, with a service token). Both hosts run the
// real auth interceptor with their service's role table and share one FakeClock standing at
// 2026-04-15 10:00 Asia/Tokyo, so "today" is 2026-04-15.
//
// Each test starts with four customers made through the customer gRPC API: an ACTIVE
// customer, a LEAD and two partner stores. Helpers call RPCs with a token and return
// absl::StatusOr with the rich error details kept (FromGrpcStatus), so tests assert codes,
// ErrorInfo reasons and BadRequest field names; Count() reads the database directly where
// "nothing was written" must be proved.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "anken/customer/v1/customer_service.grpc.pb.h"
#include "anken/project/v1/project_service.grpc.pb.h"
#include "common/api/page_token.h"
#include "common/auth/auth.h"
#include "common/clock/clock.h"
#include "common/db/migrate.h"
#include "common/db/pool.h"
#include "common/server/client.h"
#include "common/server/peer_auth.h"
#include "common/status/errors.h"
#include "services/customer/customer_service.h"
#include "services/customer/pg_customer_store.h"
#include "services/project/customer_directory.h"
#include "services/project/pg_project_store.h"
#include "services/project/project_service.h"
#include "tests/fakes/fake_clock.h"
#include "tests/support/test_database.h"
#include "tests/support/test_host.h"

namespace anken::project::testing {

using Stub = v1::ProjectService::Stub;
using CustomerStub = customer::v1::CustomerService::Stub;
using auth::Role;

// 2026-04-15 10:00:00 in Asia/Tokyo (a Wednesday), where every test starts.
inline absl::Time StartTime() { return FromTokyo(absl::CivilSecond(2026, 4, 15, 10, 0, 0)); }
inline absl::CivilDay Today() { return absl::CivilDay(2026, 4, 15); }

// An id no test creates.
inline constexpr int64_t kUnknownId = 987654321;

inline common::v1::Date D(int y, int m, int d) {
  common::v1::Date out;
  out.set_year(y);
  out.set_month(m);
  out.set_day(d);
  return out;
}

inline common::v1::YearMonth YM(int y, int m) {
  common::v1::YearMonth out;
  out.set_year(y);
  out.set_month(m);
  return out;
}

// The BadRequest field names of `status`, as a set.
inline std::set<std::string> ViolatedFields(const absl::Status& status) {
  std::set<std::string> fields;
  for (const auto& v : FieldViolations(status)) fields.insert(v.field);
  return fields;
}

// INVALID_ARGUMENT whose field violations name exactly `field`.
inline ::testing::AssertionResult IsInvalidField(const absl::Status& status,
                                                 const std::string& field) {
  if (status.code() != absl::StatusCode::kInvalidArgument) {
    return ::testing::AssertionFailure() << "expected INVALID_ARGUMENT on " << field << ", got "
                                         << status;
  }
  const std::set<std::string> fields = ViolatedFields(status);
  if (fields != std::set<std::string>{field}) {
    return ::testing::AssertionFailure()
           << "expected exactly the field violation " << field << ", got {"
           << absl::StrJoin(fields, ", ") << "} in " << status;
  }
  return ::testing::AssertionSuccess();
}

// INVALID_ARGUMENT on exactly `field` with the ErrorInfo `reason`.
inline ::testing::AssertionResult IsInvalidField(const absl::Status& status,
                                                 const std::string& field,
                                                 const std::string& reason) {
  ::testing::AssertionResult r = IsInvalidField(status, field);
  if (!r) return r;
  if (ErrorReason(status) != reason) {
    return ::testing::AssertionFailure() << "expected reason " << reason << " on " << field
                                         << ", got '" << ErrorReason(status) << "' in " << status;
  }
  return ::testing::AssertionSuccess();
}

// `status` has `code` and the ErrorInfo `reason`.
inline ::testing::AssertionResult IsError(const absl::Status& status, absl::StatusCode code,
                                          const std::string& reason) {
  if (status.code() != code || ErrorReason(status) != reason) {
    return ::testing::AssertionFailure()
           << "expected " << absl::StatusCodeToString(code) << " with reason " << reason
           << ", got " << status << " (reason '" << ErrorReason(status) << "')";
  }
  return ::testing::AssertionSuccess();
}

class ProjectServiceTest : public ::testing::Test {
 protected:
  ProjectServiceTest()
      : clock_(StartTime()),
        customer_pool_(PoolOptionsFor(db_.url())),
        project_pool_(PoolOptionsFor(db_.url())),
        customer_store_(customer_pool_),
        project_store_(project_pool_),
        customer_page_tokens_("customer-page-token-secret-for-project-tests-0123456789"),
        page_tokens_("project-service-test-page-token-secret-0123456789"),
        customer_service_(customer_store_, clock_, customer_page_tokens_) {}

  ~ProjectServiceTest() override {
    // The project host first: its handlers use the directory and the customer host.
    host_.reset();
    customer_host_.reset();
  }

  void SetUp() override {
    absl::Status migrated = db::Migrate(db_.url(), "customer", ANKEN_CUSTOMER_MIGRATIONS);
    ASSERT_TRUE(migrated.ok()) << migrated;
    migrated = db::Migrate(db_.url(), "project", ANKEN_PROJECT_MIGRATIONS);
    ASSERT_TRUE(migrated.ok()) << migrated;

    customer_host_ = std::make_unique<anken::testing::TestHost>(
        std::vector<grpc::Service*>{&customer_service_}, customer::CustomerServiceImpl::Roles(),
        clock_);
    customer_stub_ = customer::v1::CustomerService::NewStub(customer_host_->channel());
    peer_auth_ = server::PeerAuth::WithToken(
        customer_host_->Token(Role::kService, "anken-project"));
    directory_ = std::make_unique<GrpcCustomerDirectory>(
        server::MakePeerChannel(absl::StrCat("127.0.0.1:", customer_host_->port())),
        *peer_auth_);
    service_ = std::make_unique<ProjectServiceImpl>(project_store_, *directory_, clock_,
                                                    page_tokens_, ProjectServiceOptions());
    host_ = std::make_unique<anken::testing::TestHost>(std::vector<grpc::Service*>{service_.get()},
                                                       ProjectServiceImpl::Roles(), clock_);
    stub_ = v1::ProjectService::NewStub(host_->channel());

    staff_ = host_->Token(Role::kStaff, "staff-1");
    admin_ = host_->Token(Role::kAdmin, "admin-1");
    accounting_ = host_->Token(Role::kAccounting, "acct-1");
    service_token_ = host_->Token(Role::kService, "anken-report-intake");
    customer_staff_ = customer_host_->Token(Role::kStaff, "staff-1");

    ASSERT_NO_FATAL_FAILURE(active_ = MustCreateCustomer(Corporation("株式会社アクティブ")));
    customer::v1::Customer lead = Corporation("見込株式会社");
    lead.set_lifecycle(customer::v1::LIFECYCLE_LEAD);
    ASSERT_NO_FATAL_FAILURE(lead_ = MustCreateCustomer(lead));
    ASSERT_EQ(lead_.lifecycle(), customer::v1::LIFECYCLE_LEAD);
    ASSERT_NO_FATAL_FAILURE(partner_a_ = MustCreateCustomer(PartnerStore("加盟店A工務店", 1500)));
    ASSERT_NO_FATAL_FAILURE(partner_b_ = MustCreateCustomer(PartnerStore("加盟店Bリフォーム", 1000)));
    ASSERT_TRUE(partner_a_.is_partner());
  }

  // ---- calling ----

  template <typename S, typename Req, typename Resp>
  static absl::StatusOr<Resp> CallOn(S* stub,
                                     grpc::Status (S::*rpc)(grpc::ClientContext*, const Req&, Resp*),
                                     const Req& request, const std::string& token) {
    auto ctx = anken::testing::TestHost::Context(token);
    Resp response;
    grpc::Status status = (stub->*rpc)(ctx.get(), request, &response);
    if (!status.ok()) return FromGrpcStatus(status);
    return response;
  }

  // Calls `rpc` of the project service with `token` (none when empty).
  template <typename Req, typename Resp>
  absl::StatusOr<Resp> Call(grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Req&, Resp*),
                            const Req& request, const std::string& token) const {
    return CallOn(stub_.get(), rpc, request, token);
  }
  template <typename Req, typename Resp>
  absl::StatusOr<Resp> Call(grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Req&, Resp*),
                            const Req& request) const {
    return CallOn(stub_.get(), rpc, request, staff_);
  }

  std::string Token(Role role, const std::string& subject, const std::string& partner_id = "") {
    return host_->Token(role, subject, partner_id);
  }
  // A partner store's token: partner_id is its customer id in decimal.
  std::string PartnerToken(const customer::v1::Customer& partner) {
    return host_->Token(Role::kPartner, absl::StrCat("partner-", partner.id()),
                        absl::StrCat(partner.id()));
  }

  // A fresh request_id per call.
  std::string NextRequestId() { return absl::StrCat("req-", next_request_.fetch_add(1)); }

  // ---- customers (through the customer service) ----

  static customer::v1::Customer Corporation(const std::string& name) {
    customer::v1::Customer c;
    c.set_name(name);
    c.set_kind(customer::v1::CUSTOMER_KIND_CORPORATION);
    c.set_is_customer(true);
    return c;
  }
  static customer::v1::Customer PartnerStore(const std::string& name, int rate_bp) {
    customer::v1::Customer c = Corporation(name);
    c.set_is_customer(false);
    c.set_is_partner(true);
    c.mutable_partner()->set_commission_rate_bp(rate_bp);
    c.mutable_partner()->set_notification_email("report@partner.example.jp");
    return c;
  }
  customer::v1::Customer MustCreateCustomer(const customer::v1::Customer& c) {
    customer::v1::CreateCustomerRequest req;
    req.set_request_id(NextRequestId());
    *req.mutable_customer() = c;
    absl::StatusOr<customer::v1::Customer> created =
        CallOn(customer_stub_.get(), &CustomerStub::CreateCustomer, req, customer_staff_);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.value_or(customer::v1::Customer());
  }

  // ---- cases ----

  // A minimal valid case of the ACTIVE customer.
  v1::Project NewProject(const std::string& name) const {
    v1::Project p;
    p.set_customer_id(active_.id());
    p.set_name(name);
    return p;
  }
  // A case referred to `partner` on `date`.
  v1::Project Referred(const std::string& name, const customer::v1::Customer& partner,
                       const common::v1::Date& date) const {
    v1::Project p = NewProject(name);
    p.mutable_referral()->set_partner_id(partner.id());
    *p.mutable_referral()->mutable_referral_date() = date;
    return p;
  }

  absl::StatusOr<v1::Project> CreateProject(const v1::Project& p, const std::string& request_id,
                                            const std::string& token) {
    v1::CreateProjectRequest req;
    req.set_request_id(request_id);
    *req.mutable_project() = p;
    return Call(&Stub::CreateProject, req, token);
  }
  absl::StatusOr<v1::Project> CreateProject(const v1::Project& p) {
    return CreateProject(p, NextRequestId(), staff_);
  }
  v1::Project MustCreateProject(const v1::Project& p) {
    absl::StatusOr<v1::Project> created = CreateProject(p);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.value_or(v1::Project());
  }
  absl::StatusOr<v1::Project> GetProject(int64_t id, const std::string& token) {
    v1::GetProjectRequest req;
    req.set_id(id);
    return Call(&Stub::GetProject, req, token);
  }
  absl::StatusOr<v1::Project> GetProject(int64_t id) { return GetProject(id, staff_); }
  absl::StatusOr<v1::Project> UpdateProject(const v1::Project& patch,
                                            const std::vector<std::string>& paths,
                                            const std::string& token) {
    v1::UpdateProjectRequest req;
    *req.mutable_project() = patch;
    for (const auto& p : paths) req.mutable_update_mask()->add_paths(p);
    return Call(&Stub::UpdateProject, req, token);
  }
  absl::StatusOr<v1::Project> UpdateProject(const v1::Project& patch,
                                            const std::vector<std::string>& paths) {
    return UpdateProject(patch, paths, staff_);
  }
  absl::StatusOr<v1::ListProjectsResponse> ListProjects(const v1::ListProjectsRequest& req,
                                                        const std::string& token) {
    return Call(&Stub::ListProjects, req, token);
  }
  absl::StatusOr<v1::ListProjectsResponse> ListProjects(const v1::ListProjectsRequest& req) {
    return ListProjects(req, staff_);
  }

  // ---- referrals ----

  static v1::RecordReferralOutcomeRequest Completed(int64_t project_id,
                                                    const common::v1::Date& date, int64_t amount) {
    v1::RecordReferralOutcomeRequest r;
    r.set_project_id(project_id);
    r.set_outcome(v1::REFERRAL_OUTCOME_COMPLETED);
    *r.mutable_completion_date() = date;
    r.set_amount(amount);
    return r;
  }
  static v1::RecordReferralOutcomeRequest Lost(int64_t project_id, const common::v1::Date& date) {
    v1::RecordReferralOutcomeRequest r;
    r.set_project_id(project_id);
    r.set_outcome(v1::REFERRAL_OUTCOME_LOST);
    *r.mutable_lost_date() = date;
    return r;
  }
  static v1::RecordReferralOutcomeRequest InProgress(int64_t project_id) {
    v1::RecordReferralOutcomeRequest r;
    r.set_project_id(project_id);
    r.set_outcome(v1::REFERRAL_OUTCOME_IN_PROGRESS);
    return r;
  }
  // Sends `req` with a fresh request_id unless it carries one.
  absl::StatusOr<v1::Project> Record(v1::RecordReferralOutcomeRequest req,
                                     const std::string& token) {
    if (req.request_id().empty()) req.set_request_id(NextRequestId());
    return Call(&Stub::RecordReferralOutcome, req, token);
  }
  absl::StatusOr<v1::Project> Record(const v1::RecordReferralOutcomeRequest& req) {
    return Record(req, service_token_);
  }

  // ---- products and quotes ----

  static v1::QuoteLine FreeLine(const std::string& description, int64_t quantity_milli,
                                int64_t unit_price, common::v1::TaxCategory tax) {
    v1::QuoteLine l;
    l.set_description(description);
    l.set_quantity_milli(quantity_milli);
    l.set_unit_price(unit_price);
    l.set_tax_category(tax);
    return l;
  }
  // A quote on `project_id` issued today, valid a month, with `lines`.
  static v1::Quote NewQuote(int64_t project_id, const std::vector<v1::QuoteLine>& lines,
                            int probability = 50, common::v1::YearMonth month = YM(2026, 5)) {
    v1::Quote q;
    q.set_project_id(project_id);
    *q.mutable_issue_date() = D(2026, 4, 15);
    *q.mutable_valid_until() = D(2026, 5, 15);
    for (const auto& l : lines) *q.add_lines() = l;
    q.set_win_probability(probability);
    *q.mutable_expected_order_month() = month;
    return q;
  }
  absl::StatusOr<v1::Quote> CreateQuote(const v1::Quote& q, const std::string& token) {
    v1::CreateQuoteRequest req;
    req.set_request_id(NextRequestId());
    *req.mutable_quote() = q;
    return Call(&Stub::CreateQuote, req, token);
  }
  absl::StatusOr<v1::Quote> CreateQuote(const v1::Quote& q) { return CreateQuote(q, staff_); }
  v1::Quote MustCreateQuote(const v1::Quote& q) {
    absl::StatusOr<v1::Quote> created = CreateQuote(q);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.value_or(v1::Quote());
  }
  absl::StatusOr<v1::Quote> SendQuote(int64_t id, const std::string& etag = "") {
    v1::SendQuoteRequest req;
    req.set_quote_id(id);
    req.set_etag(etag);
    return Call(&Stub::SendQuote, req, staff_);
  }
  absl::StatusOr<v1::Quote> AcceptQuote(int64_t id, const std::string& etag = "") {
    v1::AcceptQuoteRequest req;
    req.set_quote_id(id);
    req.set_etag(etag);
    return Call(&Stub::AcceptQuote, req, staff_);
  }
  absl::StatusOr<v1::Quote> RejectQuote(int64_t id, const std::string& reason = "",
                                        const std::string& etag = "") {
    v1::RejectQuoteRequest req;
    req.set_quote_id(id);
    req.set_etag(etag);
    req.set_reason(reason);
    return Call(&Stub::RejectQuote, req, staff_);
  }

  // ---- the database, directly ----

  // The single integer `sql` selects, run on the scratch database as superuser.
  int64_t Count(const std::string& sql) const {
    pqxx::connection c(db_.url());
    pqxx::nontransaction tx(c);
    return tx.exec1(sql)[0].as<int64_t>();
  }
  void Exec(const std::string& sql) const {
    pqxx::connection c(db_.url());
    pqxx::nontransaction tx(c);
    tx.exec0(sql);
  }
  int64_t ProjectRows() const { return Count("SELECT count(*) FROM project.projects"); }
  int64_t AuditRows() const { return Count("SELECT count(*) FROM project.audit_events"); }
  int64_t ExtraOrderRows() const { return Count("SELECT count(*) FROM project.extra_orders"); }

  anken::testing::FakeClock clock_;
  anken::testing::ScratchDatabase db_{"projsvc"};
  db::Pool customer_pool_;
  db::Pool project_pool_;
  customer::PgCustomerStore customer_store_;
  PgProjectStore project_store_;
  api::PageTokenCodec customer_page_tokens_;
  api::PageTokenCodec page_tokens_;
  customer::CustomerServiceImpl customer_service_;
  std::unique_ptr<server::PeerAuth> peer_auth_;
  std::unique_ptr<GrpcCustomerDirectory> directory_;
  std::unique_ptr<ProjectServiceImpl> service_;
  // Shut down (in the destructor) before everything above that they serve from.
  std::unique_ptr<anken::testing::TestHost> customer_host_;
  std::unique_ptr<anken::testing::TestHost> host_;
  std::unique_ptr<CustomerStub> customer_stub_;
  std::unique_ptr<Stub> stub_;

  std::string staff_;          // staff, subject "staff-1"
  std::string admin_;          // admin, subject "admin-1"
  std::string accounting_;     // accounting, subject "acct-1"
  std::string service_token_;  // service, subject "anken-report-intake"
  std::string customer_staff_;  // staff on the customer host

  customer::v1::Customer active_;     // ACTIVE customer
  customer::v1::Customer lead_;       // LEAD (見込顧客)
  customer::v1::Customer partner_a_;  // partner store (加盟店)
  customer::v1::Customer partner_b_;  // another partner store

 private:
  static db::PoolOptions PoolOptionsFor(const std::string& url) {
    db::PoolOptions o;
    o.url = url;
    o.size = 4;
    return o;
  }

  std::atomic<int> next_request_{1};
};

}  // namespace anken::project::testing
