#pragma once
// The report service's real peers for integration tests: one fresh Postgres database
// (ScratchDatabase) holding the `customer`, `project`, `billing` and `report` schemas, each
// migrated by its own service's migrations, and the real customer, project (asking customer)
// and billing (asking project and customer) services in-process, each behind its own TestHost
// with the real auth interceptor and role table. Every host shares the test JWT secret, so a
// service token minted by any of them (or by an anken-report process configured with
// kTestJwtSecret) is accepted by all. The clock is the test's: a FakeClock for the in-process
// report service, the system clock when a real anken-report process mints the tokens.
//
// Partners, end customers and referred cases are made through the customer and project APIs;
// Count() reads the database directly where "nothing was written" or "exactly once" must be
// proved.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "anken/billing/v1/billing_service.grpc.pb.h"
#include "anken/customer/v1/customer_service.grpc.pb.h"
#include "anken/project/v1/project_service.grpc.pb.h"
#include "common/api/page_token.h"
#include "common/api/proto_time.h"
#include "common/auth/auth.h"
#include "common/clock/clock.h"
#include "common/db/migrate.h"
#include "common/db/pool.h"
#include "common/server/client.h"
#include "common/server/peer_auth.h"
#include "common/status/errors.h"
#include "services/billing/billing_service.h"
#include "services/billing/peers.h"
#include "services/billing/pg_billing_store.h"
#include "services/customer/customer_service.h"
#include "services/customer/pg_customer_store.h"
#include "services/project/customer_directory.h"
#include "services/project/pg_project_store.h"
#include "services/project/project_service.h"
#include "tests/support/test_database.h"
#include "tests/support/test_host.h"

namespace anken::report::testing {

using CustomerStub = customer::v1::CustomerService::Stub;
using ProjectStub = project::v1::ProjectService::Stub;
using auth::Role;

inline common::v1::Date ToDateProto(absl::CivilDay d) {
  common::v1::Date out;
  api::ToDate(d, &out);
  return out;
}

// `status` has `code` and (when given) the ErrorInfo `reason`.
inline ::testing::AssertionResult IsError(const absl::Status& status, absl::StatusCode code,
                                          const std::string& reason = "") {
  if (status.code() != code || (!reason.empty() && ErrorReason(status) != reason)) {
    return ::testing::AssertionFailure()
           << "expected " << absl::StatusCodeToString(code)
           << (reason.empty() ? "" : " with reason " + reason) << ", got " << status
           << " (reason '" << ErrorReason(status) << "')";
  }
  return ::testing::AssertionSuccess();
}

class ReportPeersTest : public ::testing::Test {
 protected:
  explicit ReportPeersTest(const Clock& clock)
      : peer_clock_(clock),
        customer_pool_(PoolOptionsFor(db_.url(), 4)),
        project_pool_(PoolOptionsFor(db_.url(), 4)),
        billing_pool_(PoolOptionsFor(db_.url(), 4)),
        customer_store_(customer_pool_),
        project_store_(project_pool_),
        billing_store_(billing_pool_),
        customer_page_tokens_("customer-page-token-secret-for-report-tests-0123456789"),
        project_page_tokens_("project-page-token-secret-for-report-tests-0123456789"),
        billing_page_tokens_("billing-page-token-secret-for-report-tests-0123456789"),
        customer_service_(customer_store_, clock, customer_page_tokens_) {}

  ~ReportPeersTest() override { StopPeers(); }

  // Callers first: billing asks project and customer, project asks customer.
  void StopPeers() {
    billing_host_.reset();
    project_host_.reset();
    customer_host_.reset();
  }

  void SetUp() override {
    for (const auto& [schema, dir] : std::vector<std::pair<const char*, const char*>>{
             {"customer", ANKEN_CUSTOMER_MIGRATIONS},
             {"project", ANKEN_PROJECT_MIGRATIONS},
             {"billing", ANKEN_BILLING_MIGRATIONS},
             {"report", ANKEN_REPORT_MIGRATIONS}}) {
      absl::Status migrated = db::Migrate(db_.url(), schema, dir);
      ASSERT_TRUE(migrated.ok()) << schema << ": " << migrated;
    }
    customer_host_ = std::make_unique<anken::testing::TestHost>(
        std::vector<grpc::Service*>{&customer_service_}, customer::CustomerServiceImpl::Roles(),
        peer_clock_);
    customer_stub_ = customer::v1::CustomerService::NewStub(customer_host_->channel());

    project_peer_auth_ =
        server::PeerAuth::WithToken(customer_host_->Token(Role::kService, "anken-project"));
    directory_ = std::make_unique<project::GrpcCustomerDirectory>(
        server::MakePeerChannel(Address(*customer_host_)), *project_peer_auth_);
    project_service_ = std::make_unique<project::ProjectServiceImpl>(
        project_store_, *directory_, peer_clock_, project_page_tokens_,
        project::ProjectServiceOptions());
    project_host_ = std::make_unique<anken::testing::TestHost>(
        std::vector<grpc::Service*>{project_service_.get()}, project::ProjectServiceImpl::Roles(),
        peer_clock_);
    project_stub_ = project::v1::ProjectService::NewStub(project_host_->channel());

    billing_peer_auth_ =
        server::PeerAuth::WithToken(customer_host_->Token(Role::kService, "anken-billing"));
    billing_peers_ = std::make_unique<billing::GrpcPeers>(
        server::MakePeerChannel(Address(*project_host_)),
        server::MakePeerChannel(Address(*customer_host_)), *billing_peer_auth_);
    billing::BillingServiceOptions options;
    options.issuer_name = "株式会社アンケン";
    options.issuer_registration_number = "T7000012050002";
    billing_service_ = std::make_unique<billing::BillingServiceImpl>(
        billing_store_, *billing_peers_, peer_clock_, billing_page_tokens_, options);
    billing_host_ = std::make_unique<anken::testing::TestHost>(
        std::vector<grpc::Service*>{billing_service_.get()}, billing::BillingServiceImpl::Roles(),
        peer_clock_);

    customer_staff_ = customer_host_->Token(Role::kStaff, "staff-1");
    project_staff_ = project_host_->Token(Role::kStaff, "staff-1");
  }

  static std::string Address(const anken::testing::TestHost& host) {
    return absl::StrCat("127.0.0.1:", host.port());
  }

  template <typename S, typename Req, typename Resp>
  static absl::StatusOr<Resp> CallOn(S* stub,
                                     grpc::Status (S::*rpc)(grpc::ClientContext*, const Req&,
                                                            Resp*),
                                     const Req& request, const std::string& token) {
    auto ctx = anken::testing::TestHost::Context(token);
    Resp response;
    grpc::Status status = (stub->*rpc)(ctx.get(), request, &response);
    if (!status.ok()) return FromGrpcStatus(status);
    return response;
  }

  std::string NextRequestId() { return absl::StrCat("fixture-", next_request_.fetch_add(1)); }

  // ---- customers and cases, through their services ----

  customer::v1::Customer MustCreateCustomer(const customer::v1::Customer& c) {
    customer::v1::CreateCustomerRequest req;
    req.set_request_id(NextRequestId());
    *req.mutable_customer() = c;
    absl::StatusOr<customer::v1::Customer> created =
        CallOn(customer_stub_.get(), &CustomerStub::CreateCustomer, req, customer_staff_);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.value_or(customer::v1::Customer());
  }
  customer::v1::Customer MustCreateEndCustomer(const std::string& name) {
    customer::v1::Customer c;
    c.set_name(name);
    c.set_kind(customer::v1::CUSTOMER_KIND_INDIVIDUAL);
    c.set_is_customer(true);
    return MustCreateCustomer(c);
  }
  // A partner store (加盟店) with `rate_bp`.
  customer::v1::Customer MustCreatePartner(const std::string& name, int rate_bp) {
    customer::v1::Customer c;
    c.set_name(name);
    c.set_kind(customer::v1::CUSTOMER_KIND_CORPORATION);
    c.set_is_partner(true);
    c.mutable_partner()->set_commission_rate_bp(rate_bp);
    c.mutable_partner()->set_notification_email("report@partner.example.jp");
    return MustCreateCustomer(c);
  }
  // A case of `customer` referred to `partner` on `referral_date` (進行中).
  project::v1::Project MustCreateReferredCase(const std::string& name,
                                              const customer::v1::Customer& customer,
                                              const customer::v1::Customer& partner,
                                              absl::CivilDay referral_date) {
    project::v1::CreateProjectRequest req;
    req.set_request_id(NextRequestId());
    req.mutable_project()->set_customer_id(customer.id());
    req.mutable_project()->set_name(name);
    req.mutable_project()->mutable_referral()->set_partner_id(partner.id());
    *req.mutable_project()->mutable_referral()->mutable_referral_date() =
        ToDateProto(referral_date);
    absl::StatusOr<project::v1::Project> created =
        CallOn(project_stub_.get(), &ProjectStub::CreateProject, req, project_staff_);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.value_or(project::v1::Project());
  }
  // Staff records an outcome directly (a case that was lost or completed before the period).
  void MustRecordOutcome(const project::v1::RecordReferralOutcomeRequest& req) {
    absl::StatusOr<project::v1::Project> p =
        CallOn(project_stub_.get(), &ProjectStub::RecordReferralOutcome, req, project_staff_);
    ASSERT_TRUE(p.ok()) << p.status();
  }
  project::v1::Project MustGetProject(int64_t id) {
    project::v1::GetProjectRequest req;
    req.set_id(id);
    absl::StatusOr<project::v1::Project> p =
        CallOn(project_stub_.get(), &ProjectStub::GetProject, req, project_staff_);
    EXPECT_TRUE(p.ok()) << p.status();
    return p.value_or(project::v1::Project());
  }

  // ---- the database, directly ----

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
  // Commission charges billing holds for a case, and the sum of their commissions.
  int64_t ChargesOf(int64_t project_id) const {
    return Count(absl::StrCat("SELECT count(*) FROM billing.commission_charges WHERE project_id = ",
                              project_id));
  }
  int64_t CommissionOf(int64_t project_id) const {
    return Count(absl::StrCat("SELECT coalesce(sum(commission), 0) FROM "
                              "billing.commission_charges WHERE project_id = ",
                              project_id));
  }
  // Outcomes the project service recorded for a case (one audit event per applied
  // RecordReferralOutcome; a replayed request_id records none).
  int64_t OutcomesRecorded(int64_t project_id) const {
    return Count(absl::StrCat(
        "SELECT count(*) FROM project.audit_events WHERE method LIKE '%/RecordReferralOutcome' "
        "AND resource_id = 'projects/",
        project_id, "'"));
  }

  static db::PoolOptions PoolOptionsFor(const std::string& url, int size) {
    db::PoolOptions o;
    o.url = url;
    o.size = size;
    return o;
  }

  const Clock& peer_clock_;
  anken::testing::ScratchDatabase db_{"report"};
  db::Pool customer_pool_;
  db::Pool project_pool_;
  db::Pool billing_pool_;
  customer::PgCustomerStore customer_store_;
  project::PgProjectStore project_store_;
  billing::PgBillingStore billing_store_;
  api::PageTokenCodec customer_page_tokens_;
  api::PageTokenCodec project_page_tokens_;
  api::PageTokenCodec billing_page_tokens_;
  customer::CustomerServiceImpl customer_service_;
  std::unique_ptr<server::PeerAuth> project_peer_auth_;
  std::unique_ptr<project::GrpcCustomerDirectory> directory_;
  std::unique_ptr<project::ProjectServiceImpl> project_service_;
  std::unique_ptr<server::PeerAuth> billing_peer_auth_;
  std::unique_ptr<billing::GrpcPeers> billing_peers_;
  std::unique_ptr<billing::BillingServiceImpl> billing_service_;
  std::unique_ptr<anken::testing::TestHost> customer_host_;
  std::unique_ptr<anken::testing::TestHost> project_host_;
  std::unique_ptr<anken::testing::TestHost> billing_host_;
  std::unique_ptr<CustomerStub> customer_stub_;
  std::unique_ptr<ProjectStub> project_stub_;
  std::string customer_staff_;
  std::string project_staff_;

 private:
  std::atomic<int> next_request_{1};
};

}  // namespace anken::report::testing
