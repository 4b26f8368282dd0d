#pragma once
// The billing service as a client sees it, for integration tests, with its real peers: one fresh
// Postgres database (ScratchDatabase) holding the `customer`, `project` and `billing` schemas,
// each migrated by its own service's migrations; the real customer service, the real project
// service (asking the customer service over gRPC) and the real billing service (PgBillingStore,
// asking both over gRPC through GrpcPeers with a service token), each behind its own TestHost
// with the real auth interceptor and its service's role table. All share one FakeClock standing
// at 2019-07-10 10:00 Asia/Tokyo; it never moves, so the tokens minted in SetUp (valid an hour)
// stay valid, and the days a test is about are passed explicitly (as_of, issue_date).
//
// The billing service is configured as DESIGN.md's company: issuer 株式会社アンケン with the valid
// registration number T7000012050002 and floor rounding. StartBilling() starts more instances
// over the same store and peers with other options (half-up rounding, a missing T-number).
//
// Each test starts with two ACTIVE customers made through the customer API: acme_ with the
// billing terms 月末締め翌月末払い and kita_ with 20日締め翌々月10日払い. Cases are made through
// the project API (WonCase / ProspectCase). Helpers return absl::StatusOr with the rich error
// details kept (FromGrpcStatus), so tests assert codes, ErrorInfo reasons and BadRequest field
// names; Count() reads the database directly where "nothing was written" must be proved.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "anken/billing/v1/billing_service.grpc.pb.h"
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
#include "common/tax/tax.h"
#include "services/billing/billing_service.h"
#include "services/billing/peers.h"
#include "services/billing/pg_billing_store.h"
#include "services/customer/customer_service.h"
#include "services/customer/pg_customer_store.h"
#include "services/project/customer_directory.h"
#include "services/project/pg_project_store.h"
#include "services/project/project_service.h"
#include "tests/fakes/fake_clock.h"
#include "tests/support/test_database.h"
#include "tests/support/test_host.h"

namespace anken::billing::testing {

using Stub = v1::BillingService::Stub;
using ProjectStub = project::v1::ProjectService::Stub;
using CustomerStub = customer::v1::CustomerService::Stub;
using auth::Role;

// 2019-07-10 10:00:00 in Asia/Tokyo, where the clock stands.
inline absl::Time StartTime() { return FromTokyo(absl::CivilSecond(2019, 7, 10, 10, 0, 0)); }

// The issuer as configured (DESIGN.md: 7000012050002 has a valid check digit).
inline constexpr char kIssuerName[] = "株式会社アンケン";
inline constexpr char kIssuerNumber[] = "T7000012050002";

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

inline std::string DateString(const common::v1::Date& d) {
  return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
}
inline std::string MonthString(const common::v1::YearMonth& m) {
  return absl::StrFormat("%04d-%02d", m.year(), m.month());
}

// The BadRequest field names of `status`, as a set.
inline std::set<std::string> ViolatedFields(const absl::Status& status) {
  std::set<std::string> fields;
  for (const auto& v : FieldViolations(status)) fields.insert(v.field);
  return fields;
}

// INVALID_ARGUMENT whose field violations name exactly `field` (and, when given, with the
// ErrorInfo `reason`).
inline ::testing::AssertionResult IsInvalidField(const absl::Status& status,
                                                 const std::string& field,
                                                 const std::string& reason = "") {
  if (status.code() != absl::StatusCode::kInvalidArgument) {
    return ::testing::AssertionFailure()
           << "expected INVALID_ARGUMENT on " << field << ", got " << status;
  }
  const std::set<std::string> fields = ViolatedFields(status);
  if (fields != std::set<std::string>{field}) {
    return ::testing::AssertionFailure()
           << "expected exactly the field violation " << field << ", got {"
           << absl::StrJoin(fields, ", ") << "} in " << status;
  }
  if (!reason.empty() && ErrorReason(status) != reason) {
    return ::testing::AssertionFailure() << "expected reason " << reason << " on " << field
                                         << ", got '" << ErrorReason(status) << "' in " << status;
  }
  return ::testing::AssertionSuccess();
}

// `status` has `code` and (when given) the ErrorInfo `reason`.
inline ::testing::AssertionResult IsError(const absl::Status& status, absl::StatusCode code,
                                          const std::string& reason = "") {
  if (status.code() != code || (!reason.empty() && ErrorReason(status) != reason)) {
    return ::testing::AssertionFailure()
           << "expected " << absl::StatusCodeToString(code)
           << (reason.empty() ? "" : " with reason " + reason) << ", got " << status << " (reason '"
           << ErrorReason(status) << "')";
  }
  return ::testing::AssertionSuccess();
}

// ---- plan builders (requests as a client writes them) ----

inline v1::RecurringTerms Monthly(common::v1::YearMonth start, common::v1::YearMonth end,
                                  int64_t amount, int renewal_unit_months = 0) {
  v1::RecurringTerms t;
  t.set_interval(v1::RECURRING_INTERVAL_MONTHLY);
  t.set_amount(amount);
  *t.mutable_start_month() = start;
  *t.mutable_end_month() = end;
  t.set_auto_renew(renewal_unit_months > 0);
  t.set_renewal_unit_months(renewal_unit_months);
  return t;
}

inline v1::RecurringTerms Yearly(common::v1::YearMonth start, common::v1::YearMonth end,
                                 int64_t amount, bool split, bool auto_renew = false) {
  v1::RecurringTerms t;
  t.set_interval(v1::RECURRING_INTERVAL_YEARLY);
  t.set_split_revenue(split);
  t.set_amount(amount);
  *t.mutable_start_month() = start;
  *t.mutable_end_month() = end;
  t.set_auto_renew(auto_renew);
  t.set_renewal_unit_months(auto_renew ? 12 : 0);
  return t;
}

inline v1::BillingPlan RecurringPlan(
    int64_t project_id, const v1::RecurringTerms& terms,
    common::v1::TaxCategory tax = common::v1::TAX_CATEGORY_STANDARD) {
  v1::BillingPlan p;
  p.set_project_id(project_id);
  p.set_timing(v1::BILLING_TIMING_RECURRING);
  p.set_tax_category(tax);
  *p.mutable_recurring() = terms;
  return p;
}

inline v1::PlannedEntry Planned(common::v1::Date billing, common::v1::Date revenue, int64_t amount,
                                const std::string& description = "") {
  v1::PlannedEntry e;
  *e.mutable_billing_date() = billing;
  *e.mutable_revenue_date() = revenue;
  e.set_amount(amount);
  e.set_description(description);
  return e;
}

inline v1::BillingPlan LumpSumPlan(
    int64_t project_id, const v1::PlannedEntry& entry,
    common::v1::TaxCategory tax = common::v1::TAX_CATEGORY_STANDARD) {
  v1::BillingPlan p;
  p.set_project_id(project_id);
  p.set_timing(v1::BILLING_TIMING_LUMP_SUM);
  p.set_tax_category(tax);
  *p.add_planned_entries() = entry;
  return p;
}

inline v1::BillingPlan SplitPlan(int64_t project_id, const std::vector<v1::PlannedEntry>& entries,
                                 common::v1::TaxCategory tax = common::v1::TAX_CATEGORY_STANDARD) {
  v1::BillingPlan p;
  p.set_project_id(project_id);
  p.set_timing(v1::BILLING_TIMING_SPLIT);
  p.set_tax_category(tax);
  for (const auto& e : entries) *p.add_planned_entries() = e;
  return p;
}

class BillingServiceTest : public ::testing::Test {
 protected:
  // Another billing service over the same store and peers, with its own options and host.
  struct BillingInstance {
    std::unique_ptr<BillingServiceImpl> service;
    std::unique_ptr<anken::testing::TestHost> host;
    std::unique_ptr<Stub> stub;
  };

  BillingServiceTest()
      : clock_(StartTime()),
        customer_pool_(PoolOptionsFor(db_.url(), 4)),
        project_pool_(PoolOptionsFor(db_.url(), 4)),
        billing_pool_(PoolOptionsFor(db_.url(), 10)),
        customer_store_(customer_pool_),
        project_store_(project_pool_),
        store_(billing_pool_),
        customer_page_tokens_("customer-page-token-secret-for-billing-tests-0123456789"),
        project_page_tokens_("project-page-token-secret-for-billing-tests-0123456789"),
        page_tokens_("billing-service-test-page-token-secret-0123456789"),
        customer_service_(customer_store_, clock_, customer_page_tokens_) {}

  ~BillingServiceTest() override {
    // Callers first: billing asks project and customer, project asks customer.
    extra_.clear();
    host_.reset();
    project_host_.reset();
    customer_host_.reset();
  }

  void SetUp() override {
    for (const auto& [schema, dir] :
         std::vector<std::pair<const char*, const char*>>{{"customer", ANKEN_CUSTOMER_MIGRATIONS},
                                                          {"project", ANKEN_PROJECT_MIGRATIONS},
                                                          {"billing", ANKEN_BILLING_MIGRATIONS}}) {
      absl::Status migrated = db::Migrate(db_.url(), schema, dir);
      ASSERT_TRUE(migrated.ok()) << schema << ": " << migrated;
    }

    customer_host_ =
        std::make_unique<anken::testing::TestHost>(std::vector<grpc::Service*>{&customer_service_},
                                                   customer::CustomerServiceImpl::Roles(), clock_);
    customer_stub_ = customer::v1::CustomerService::NewStub(customer_host_->channel());

    project_peer_auth_ =
        server::PeerAuth::WithToken(customer_host_->Token(Role::kService, "anken-project"));
    directory_ = std::make_unique<project::GrpcCustomerDirectory>(
        server::MakePeerChannel(absl::StrCat("127.0.0.1:", customer_host_->port())),
        *project_peer_auth_);
    project_service_ = std::make_unique<project::ProjectServiceImpl>(
        project_store_, *directory_, clock_, project_page_tokens_,
        project::ProjectServiceOptions());
    project_host_ = std::make_unique<anken::testing::TestHost>(
        std::vector<grpc::Service*>{project_service_.get()}, project::ProjectServiceImpl::Roles(),
        clock_);
    project_stub_ = project::v1::ProjectService::NewStub(project_host_->channel());

    billing_peer_auth_ =
        server::PeerAuth::WithToken(project_host_->Token(Role::kService, "anken-billing"));
    peers_ = std::make_unique<GrpcPeers>(
        server::MakePeerChannel(absl::StrCat("127.0.0.1:", project_host_->port())),
        server::MakePeerChannel(absl::StrCat("127.0.0.1:", customer_host_->port())),
        *billing_peer_auth_);
    service_ = std::make_unique<BillingServiceImpl>(store_, *peers_, clock_, page_tokens_,
                                                    Options(tax::Rounding::kFloor));
    host_ = std::make_unique<anken::testing::TestHost>(std::vector<grpc::Service*>{service_.get()},
                                                       BillingServiceImpl::Roles(), clock_);
    stub_ = v1::BillingService::NewStub(host_->channel());

    staff_ = host_->Token(Role::kStaff, "staff-1");
    admin_ = host_->Token(Role::kAdmin, "admin-1");
    accounting_ = host_->Token(Role::kAccounting, "acct-1");
    service_token_ = host_->Token(Role::kService, "anken-scheduler");
    customer_staff_ = customer_host_->Token(Role::kStaff, "staff-1");
    project_staff_ = project_host_->Token(Role::kStaff, "staff-1");

    ASSERT_NO_FATAL_FAILURE(acme_ = MustCreateCustomer(Corporation("株式会社アクメ", 0, 1, 0)));
    ASSERT_NO_FATAL_FAILURE(kita_ = MustCreateCustomer(Corporation("北商事株式会社", 20, 2, 10)));
    ASSERT_GT(acme_.id(), 0);
    ASSERT_GT(kita_.id(), 0);
  }

  static BillingServiceOptions Options(tax::Rounding rounding,
                                       const std::string& registration_number = kIssuerNumber) {
    BillingServiceOptions o;
    o.rounding = rounding;
    o.issuer_name = kIssuerName;
    o.issuer_registration_number = registration_number;
    return o;
  }

  // Starts another billing instance (same store, peers and clock) with `options`.
  BillingInstance& StartBilling(BillingServiceOptions options) {
    auto b = std::make_unique<BillingInstance>();
    b->service = std::make_unique<BillingServiceImpl>(store_, *peers_, clock_, page_tokens_,
                                                      std::move(options));
    b->host = std::make_unique<anken::testing::TestHost>(
        std::vector<grpc::Service*>{b->service.get()}, BillingServiceImpl::Roles(), clock_);
    b->stub = v1::BillingService::NewStub(b->host->channel());
    extra_.push_back(std::move(b));
    return *extra_.back();
  }

  // Shuts the project service down: the billing service's calls to it fail from now on.
  void StopProjectService() { project_host_.reset(); }

  // ---- calling ----

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

  // Calls `rpc` of the billing service with `token` (staff by default; none when empty).
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

  // A fresh request_id per call.
  std::string NextRequestId() { return absl::StrCat("req-", next_request_.fetch_add(1)); }

  // ---- customers and cases (through their services) ----

  static customer::v1::Customer Corporation(const std::string& name, int closing_day,
                                            int payment_month_offset, int payment_day) {
    customer::v1::Customer c;
    c.set_name(name);
    c.set_kind(customer::v1::CUSTOMER_KIND_CORPORATION);
    c.set_is_customer(true);
    c.mutable_billing_terms()->set_closing_day(closing_day);
    c.mutable_billing_terms()->set_payment_month_offset(payment_month_offset);
    c.mutable_billing_terms()->set_payment_day(payment_day);
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

  // A PROSPECT (受注予定) case of `customer`.
  project::v1::Project ProspectCase(const std::string& name,
                                    const customer::v1::Customer& customer) {
    project::v1::CreateProjectRequest req;
    req.set_request_id(NextRequestId());
    req.mutable_project()->set_customer_id(customer.id());
    req.mutable_project()->set_name(name);
    absl::StatusOr<project::v1::Project> created =
        CallOn(project_stub_.get(), &ProjectStub::CreateProject, req, project_staff_);
    EXPECT_TRUE(created.ok()) << created.status();
    if (created.ok()) {
      EXPECT_EQ(created->order_status(), project::v1::ORDER_STATUS_PROSPECT);
    }
    return created.value_or(project::v1::Project());
  }
  // A case made WON (受注済) by UpdateProject order_status.
  project::v1::Project WonCase(const std::string& name, const customer::v1::Customer& customer) {
    project::v1::Project p = ProspectCase(name, customer);
    return SetOrderStatus(p.id(), project::v1::ORDER_STATUS_WON);
  }
  project::v1::Project SetOrderStatus(int64_t project_id, project::v1::OrderStatus status) {
    project::v1::UpdateProjectRequest req;
    req.mutable_project()->set_id(project_id);
    req.mutable_project()->set_order_status(status);
    req.mutable_update_mask()->add_paths("order_status");
    absl::StatusOr<project::v1::Project> updated =
        CallOn(project_stub_.get(), &ProjectStub::UpdateProject, req, project_staff_);
    EXPECT_TRUE(updated.ok()) << updated.status();
    if (updated.ok()) {
      EXPECT_EQ(updated->order_status(), status);
    }
    return updated.value_or(project::v1::Project());
  }
  // A case made WON the way sales does it: a quote on it is accepted.
  project::v1::Project WonByQuote(const std::string& name, const customer::v1::Customer& customer) {
    project::v1::Project p = ProspectCase(name, customer);
    project::v1::CreateQuoteRequest create;
    create.set_request_id(NextRequestId());
    project::v1::Quote* q = create.mutable_quote();
    q->set_project_id(p.id());
    *q->mutable_issue_date() = D(2019, 7, 1);
    *q->mutable_valid_until() = D(2019, 7, 31);
    project::v1::QuoteLine* line = q->add_lines();
    line->set_description("月額保守");
    line->set_quantity_milli(1000);
    line->set_unit_price(30000);
    line->set_tax_category(common::v1::TAX_CATEGORY_STANDARD);
    q->set_win_probability(80);
    *q->mutable_expected_order_month() = YM(2019, 7);
    absl::StatusOr<project::v1::Quote> quote =
        CallOn(project_stub_.get(), &ProjectStub::CreateQuote, create, project_staff_);
    EXPECT_TRUE(quote.ok()) << quote.status();
    if (!quote.ok()) return p;
    project::v1::AcceptQuoteRequest accept;
    accept.set_quote_id(quote->id());
    absl::StatusOr<project::v1::Quote> accepted =
        CallOn(project_stub_.get(), &ProjectStub::AcceptQuote, accept, project_staff_);
    EXPECT_TRUE(accepted.ok()) << accepted.status();
    project::v1::GetProjectRequest get;
    get.set_id(p.id());
    absl::StatusOr<project::v1::Project> won =
        CallOn(project_stub_.get(), &ProjectStub::GetProject, get, project_staff_);
    EXPECT_TRUE(won.ok()) << won.status();
    if (won.ok()) {
      EXPECT_EQ(won->order_status(), project::v1::ORDER_STATUS_WON);
    }
    return won.value_or(p);
  }

  // ---- billing ----

  absl::StatusOr<v1::BillingPlan> SetPlan(const v1::BillingPlan& plan,
                                          const std::string& etag = "") {
    return SetPlanAs(plan, staff_, etag);
  }
  absl::StatusOr<v1::BillingPlan> SetPlanAs(const v1::BillingPlan& plan, const std::string& token,
                                            const std::string& etag = "") {
    v1::SetBillingPlanRequest req;
    *req.mutable_plan() = plan;
    req.set_etag(etag);
    return Call(&Stub::SetBillingPlan, req, token);
  }
  v1::BillingPlan MustSetPlan(const v1::BillingPlan& plan) {
    absl::StatusOr<v1::BillingPlan> saved = SetPlan(plan);
    EXPECT_TRUE(saved.ok()) << saved.status();
    return saved.value_or(v1::BillingPlan());
  }
  absl::StatusOr<v1::BillingPlan> GetPlan(int64_t project_id) {
    v1::GetBillingPlanRequest req;
    req.set_project_id(project_id);
    return Call(&Stub::GetBillingPlan, req);
  }
  v1::BillingPlan MustGetPlan(int64_t project_id) {
    absl::StatusOr<v1::BillingPlan> plan = GetPlan(project_id);
    EXPECT_TRUE(plan.ok()) << plan.status();
    return plan.value_or(v1::BillingPlan());
  }
  absl::StatusOr<v1::BillingEntry> SetStatus(int64_t entry_id, v1::EntryStatus status,
                                             const std::string& token,
                                             const std::string& etag = "") {
    v1::SetEntryStatusRequest req;
    req.set_id(entry_id);
    req.set_status(status);
    req.set_etag(etag);
    return Call(&Stub::SetEntryStatus, req, token);
  }
  // Moves every entry of `plan` to READY (staff).
  void MakeReady(const v1::BillingPlan& plan) {
    for (const auto& e : plan.entries()) {
      absl::StatusOr<v1::BillingEntry> ready = SetStatus(e.id(), v1::ENTRY_STATUS_READY, staff_);
      ASSERT_TRUE(ready.ok()) << ready.status();
      ASSERT_EQ(ready->status(), v1::ENTRY_STATUS_READY);
    }
  }
  absl::StatusOr<v1::Invoice> IssueOn(Stub* stub, int64_t customer_id, common::v1::Date issue_date,
                                      const std::vector<int64_t>& entry_ids,
                                      const std::string& request_id, const std::string& token) {
    v1::IssueInvoiceRequest req;
    req.set_request_id(request_id);
    req.set_customer_id(customer_id);
    *req.mutable_issue_date() = issue_date;
    for (int64_t id : entry_ids) req.add_entry_ids(id);
    return CallOn(stub, &Stub::IssueInvoice, req, token);
  }
  absl::StatusOr<v1::Invoice> Issue(int64_t customer_id, common::v1::Date issue_date,
                                    const std::vector<int64_t>& entry_ids = {},
                                    const std::string& request_id = "") {
    return IssueOn(stub_.get(), customer_id, issue_date, entry_ids,
                   request_id.empty() ? NextRequestId() : request_id, accounting_);
  }
  absl::StatusOr<v1::Invoice> GetInvoice(int64_t id) {
    v1::GetInvoiceRequest req;
    req.set_id(id);
    return Call(&Stub::GetInvoice, req);
  }
  absl::StatusOr<v1::Invoice> Cancel(int64_t id, const std::string& reason,
                                     const std::string& token, const std::string& etag = "") {
    v1::CancelInvoiceRequest req;
    req.set_id(id);
    req.set_reason(reason);
    req.set_etag(etag);
    return Call(&Stub::CancelInvoice, req, token);
  }
  absl::StatusOr<v1::RenewalRun> RunRenewalsOn(Stub* stub, common::v1::Date as_of,
                                               const std::string& request_id) const {
    v1::RunRenewalsRequest req;
    *req.mutable_as_of() = as_of;
    req.set_request_id(request_id);
    return CallOn(stub, &Stub::RunRenewals, req, service_token_);
  }
  absl::StatusOr<v1::RenewalRun> RunRenewals(common::v1::Date as_of,
                                             const std::string& request_id) const {
    return RunRenewalsOn(stub_.get(), as_of, request_id);
  }
  absl::StatusOr<v1::RenewalRun> PreviewRenewals(common::v1::Date as_of) {
    v1::PreviewRenewalsRequest req;
    *req.mutable_as_of() = as_of;
    return Call(&Stub::PreviewRenewals, req, service_token_);
  }
  // Every entry matching `filter` (all pages, 1,000 at a time).
  std::vector<v1::BillingEntry> AllEntries(v1::ListBillingEntriesRequest filter) {
    std::vector<v1::BillingEntry> out;
    filter.set_page_size(1000);
    for (int pages = 0; pages < 100; ++pages) {
      absl::StatusOr<v1::ListBillingEntriesResponse> page = Call(&Stub::ListBillingEntries, filter);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      out.insert(out.end(), page->entries().begin(), page->entries().end());
      if (page->next_page_token().empty()) break;
      filter.set_page_token(page->next_page_token());
    }
    return out;
  }
  std::vector<v1::BillingEntry> EntriesOfCase(int64_t project_id) {
    v1::ListBillingEntriesRequest f;
    f.set_project_id(project_id);
    return AllEntries(f);
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
  int64_t EntryRows() const { return Count("SELECT count(*) FROM billing.entries"); }
  int64_t InvoiceRows() const { return Count("SELECT count(*) FROM billing.invoices"); }

  anken::testing::FakeClock clock_;
  anken::testing::ScratchDatabase db_{"billsvc"};
  db::Pool customer_pool_;
  db::Pool project_pool_;
  db::Pool billing_pool_;
  customer::PgCustomerStore customer_store_;
  project::PgProjectStore project_store_;
  PgBillingStore store_;
  api::PageTokenCodec customer_page_tokens_;
  api::PageTokenCodec project_page_tokens_;
  api::PageTokenCodec page_tokens_;
  customer::CustomerServiceImpl customer_service_;
  std::unique_ptr<server::PeerAuth> project_peer_auth_;
  std::unique_ptr<project::GrpcCustomerDirectory> directory_;
  std::unique_ptr<project::ProjectServiceImpl> project_service_;
  std::unique_ptr<server::PeerAuth> billing_peer_auth_;
  std::unique_ptr<GrpcPeers> peers_;
  std::unique_ptr<BillingServiceImpl> service_;
  // Shut down (in the destructor) callers first, before everything above that they serve from.
  std::unique_ptr<anken::testing::TestHost> customer_host_;
  std::unique_ptr<anken::testing::TestHost> project_host_;
  std::unique_ptr<anken::testing::TestHost> host_;
  std::vector<std::unique_ptr<BillingInstance>> extra_;
  std::unique_ptr<CustomerStub> customer_stub_;
  std::unique_ptr<ProjectStub> project_stub_;
  std::unique_ptr<Stub> stub_;

  std::string staff_;           // staff, subject "staff-1"
  std::string admin_;           // admin, subject "admin-1"
  std::string accounting_;      // accounting, subject "acct-1"
  std::string service_token_;   // service, subject "anken-scheduler"
  std::string customer_staff_;  // staff on the customer host
  std::string project_staff_;   // staff on the project host

  customer::v1::Customer acme_;  // ACTIVE, 月末締め翌月末払い
  customer::v1::Customer kita_;  // ACTIVE, 20日締め翌々月10日払い

 private:
  static db::PoolOptions PoolOptionsFor(const std::string& url, int size) {
    db::PoolOptions o;
    o.url = url;
    o.size = size;
    return o;
  }

  std::atomic<int> next_request_{1};
};

}  // namespace anken::billing::testing
