#pragma once
// The customer service as a client sees it, for integration tests: a fresh Postgres database
// (ScratchDatabase) migrated with the service's migrations, the real PgCustomerStore and
// CustomerServiceImpl behind an in-process TestHost with the real auth interceptor and the
// service's own role table, a FakeClock standing at a fixed Tokyo time, and a stub.
//
// Every test gets its own database, so tests see only their own rows and row counts taken
// with Count() are exact. Helpers call RPCs with a token and return absl::StatusOr, keeping
// the rich error details (FromGrpcStatus), so tests assert codes, ErrorInfo reasons and
// BadRequest field violations.

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
#include "common/api/page_token.h"
#include "common/auth/auth.h"
#include "common/clock/clock.h"
#include "common/db/migrate.h"
#include "common/db/pool.h"
#include "common/status/errors.h"
#include "services/customer/customer_service.h"
#include "services/customer/pg_customer_store.h"
#include "tests/fakes/fake_clock.h"
#include "tests/support/test_database.h"
#include "tests/support/test_host.h"

namespace anken::customer::testing {

using Stub = v1::CustomerService::Stub;
using auth::Role;

// 2026-04-01 10:00:00 in Asia/Tokyo (a Wednesday), where every test starts.
inline absl::Time StartTime() { return FromTokyo(absl::CivilSecond(2026, 4, 1, 10, 0, 0)); }

// An id no test creates.
inline constexpr int64_t kUnknownId = 987654321;

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

class CustomerServiceTest : public ::testing::Test {
 protected:
  CustomerServiceTest()
      : clock_(StartTime()),
        pool_(PoolOptionsFor(db_.url())),
        store_(pool_),
        page_tokens_("customer-service-test-page-token-secret-0123456789"),
        service_(store_, clock_, page_tokens_) {}

  void SetUp() override {
    absl::Status migrated = db::Migrate(db_.url(), "customer", ANKEN_CUSTOMER_MIGRATIONS);
    ASSERT_TRUE(migrated.ok()) << migrated;
    host_ = std::make_unique<anken::testing::TestHost>(std::vector<grpc::Service*>{&service_},
                                                       CustomerServiceImpl::Roles(), clock_);
    stub_ = v1::CustomerService::NewStub(host_->channel());
    staff_ = host_->Token(Role::kStaff, "staff-1");
  }

  // ---- calling ----

  // Calls `rpc` on the stub with `token` (none when empty).
  template <typename Req, typename Resp>
  absl::StatusOr<Resp> Call(grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Req&, Resp*),
                            const Req& request, const std::string& token) const {
    auto ctx = anken::testing::TestHost::Context(token);
    Resp response;
    grpc::Status status = (stub_.get()->*rpc)(ctx.get(), request, &response);
    if (!status.ok()) return FromGrpcStatus(status);
    return response;
  }

  std::string Token(Role role, const std::string& subject, const std::string& partner_id = "") {
    return host_->Token(role, subject, partner_id);
  }

  // A fresh request_id per call.
  std::string NextRequestId() { return absl::StrCat("req-", next_request_.fetch_add(1)); }

  absl::StatusOr<v1::Customer> Create(const v1::Customer& customer) {
    return CreateAs(customer, NextRequestId(), staff_);
  }
  absl::StatusOr<v1::Customer> CreateAs(const v1::Customer& customer,
                                        const std::string& request_id, const std::string& token) {
    v1::CreateCustomerRequest req;
    req.set_request_id(request_id);
    *req.mutable_customer() = customer;
    return Call(&Stub::CreateCustomer, req, token);
  }
  // Creates or fails the test (use with ASSERT_NO_FATAL_FAILURE when the id matters).
  v1::Customer MustCreate(const v1::Customer& customer) {
    absl::StatusOr<v1::Customer> c = Create(customer);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.value_or(v1::Customer());
  }
  absl::StatusOr<v1::Customer> Get(int64_t id, const std::string& token) {
    v1::GetCustomerRequest req;
    req.set_id(id);
    return Call(&Stub::GetCustomer, req, token);
  }
  absl::StatusOr<v1::Customer> Get(int64_t id) { return Get(id, staff_); }
  absl::StatusOr<v1::Customer> Update(const v1::Customer& patch,
                                      const std::vector<std::string>& paths) {
    v1::UpdateCustomerRequest req;
    *req.mutable_customer() = patch;
    for (const auto& p : paths) req.mutable_update_mask()->add_paths(p);
    return Call(&Stub::UpdateCustomer, req, staff_);
  }
  absl::StatusOr<v1::ListCustomersResponse> List(const v1::ListCustomersRequest& req) {
    return Call(&Stub::ListCustomers, req, staff_);
  }
  absl::StatusOr<v1::Contact> CreateContact(const v1::Contact& contact) {
    v1::CreateContactRequest req;
    req.set_request_id(NextRequestId());
    *req.mutable_contact() = contact;
    return Call(&Stub::CreateContact, req, staff_);
  }
  absl::StatusOr<v1::Inquiry> CreateInquiry(const v1::Inquiry& inquiry) {
    v1::CreateInquiryRequest req;
    req.set_request_id(NextRequestId());
    *req.mutable_inquiry() = inquiry;
    return Call(&Stub::CreateInquiry, req, staff_);
  }
  absl::StatusOr<v1::Inquiry> UpdateInquiry(const v1::Inquiry& patch,
                                            const std::vector<std::string>& paths) {
    v1::UpdateInquiryRequest req;
    *req.mutable_inquiry() = patch;
    for (const auto& p : paths) req.mutable_update_mask()->add_paths(p);
    return Call(&Stub::UpdateInquiry, req, staff_);
  }
  absl::StatusOr<v1::ImportCustomersResponse> Import(const std::string& csv, bool validate_only) {
    v1::ImportCustomersRequest req;
    req.set_csv(csv);
    req.set_validate_only(validate_only);
    if (!validate_only) req.set_request_id(NextRequestId());
    return Call(&Stub::ImportCustomers, req, staff_);
  }

  // ---- the database, directly ----

  // The single integer `sql` selects, run on the scratch database as superuser.
  int64_t Count(const std::string& sql) const {
    pqxx::connection c(db_.url());
    pqxx::nontransaction tx(c);
    return tx.exec1(sql)[0].as<int64_t>();
  }
  int64_t CustomerRows() const { return Count("SELECT count(*) FROM customer.customers"); }

  // ---- data ----

  // A minimal valid corporation with the customer role.
  static v1::Customer Corporation(const std::string& name) {
    v1::Customer c;
    c.set_name(name);
    c.set_kind(v1::CUSTOMER_KIND_CORPORATION);
    c.set_is_customer(true);
    return c;
  }
  // A valid partner store (加盟店).
  static v1::Customer Partner(const std::string& name) {
    v1::Customer c = Corporation(name);
    c.set_is_customer(false);
    c.set_is_partner(true);
    c.mutable_partner()->set_commission_rate_bp(1500);
    c.mutable_partner()->set_notification_email("report@partner.example.jp");
    return c;
  }

  anken::testing::FakeClock clock_;
  anken::testing::ScratchDatabase db_{"custsvc"};
  db::Pool pool_;
  PgCustomerStore store_;
  api::PageTokenCodec page_tokens_;
  CustomerServiceImpl service_;
  // Declared last: shut down before the service, store and pool it serves from.
  std::unique_ptr<anken::testing::TestHost> host_;
  std::unique_ptr<Stub> stub_;
  std::string staff_;  // a staff token, subject "staff-1"

 private:
  static db::PoolOptions PoolOptionsFor(const std::string& url) {
    db::PoolOptions o;
    o.url = url;
    o.size = 8;
    return o;
  }

  std::atomic<int> next_request_{1};
};

}  // namespace anken::customer::testing
