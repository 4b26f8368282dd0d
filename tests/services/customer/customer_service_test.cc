// Integration tests of anken.customer.v1.CustomerService through its gRPC API, against a real
// Postgres (customer_fixture.h): every RPC's happy path, validation errors naming the field,
// NOT_FOUND, etags, request_id replay, keyset pagination under concurrent inserts, kana search,
// CP932 CSV import and the permission table.

#include <iconv.h>

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "common/api/proto_time.h"
#include "google/protobuf/util/message_differencer.h"
#include "tests/services/customer/customer_fixture.h"

namespace anken::customer::testing {
namespace {

using ::google::protobuf::util::MessageDifferencer;

std::vector<int64_t> Ids(const v1::ListCustomersResponse& page) {
  std::vector<int64_t> ids;
  for (const auto& c : page.customers()) ids.push_back(c.id());
  return ids;
}

std::vector<int64_t> Ids(const v1::ListInquiriesResponse& page) {
  std::vector<int64_t> ids;
  for (const auto& i : page.inquiries()) ids.push_back(i.id());
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

// ---------------------------------------------------------------------------------------------
// Customers: happy paths
// ---------------------------------------------------------------------------------------------

TEST_F(CustomerServiceTest, CreateCustomerNormalisesAndGeneratesCodes) {
  v1::Customer in = Corporation("株式会社ヤマダ商事");
  in.set_name_kana("ｶﾌﾞｼｷｶﾞｲｼｬﾔﾏﾀﾞｼｮｳｼﾞ");
  in.set_postal_code("1000001");
  in.set_prefecture("東京都");
  in.set_address_line1("千代田区千代田1-1");
  in.set_phone("03-1234-5678");
  in.set_email("info@yamada.example.jp");
  in.set_corporate_number("7000012050002");
  in.set_invoice_registration_number("T7000012050002");
  in.mutable_billing_terms()->set_closing_day(20);
  in.mutable_billing_terms()->set_payment_month_offset(2);
  in.mutable_billing_terms()->set_payment_day(10);
  in.set_memo("大口");
  absl::StatusOr<v1::Customer> created = Create(in);
  ASSERT_TRUE(created.ok()) << created.status();

  EXPECT_GT(created->id(), 0);
  EXPECT_EQ(created->code(), "C000001");
  EXPECT_EQ(created->name(), "株式会社ヤマダ商事");
  EXPECT_EQ(created->name_kana(), "カブシキガイシャヤマダショウジ");
  EXPECT_EQ(created->postal_code(), "100-0001");
  EXPECT_EQ(created->prefecture(), "東京都");
  EXPECT_EQ(created->phone(), "03-1234-5678");
  EXPECT_EQ(created->corporate_number(), "7000012050002");
  EXPECT_EQ(created->invoice_registration_number(), "T7000012050002");
  EXPECT_EQ(created->billing_terms().closing_day(), 20);
  EXPECT_EQ(created->billing_terms().payment_month_offset(), 2);
  EXPECT_EQ(created->billing_terms().payment_day(), 10);
  EXPECT_EQ(created->lifecycle(), v1::LIFECYCLE_ACTIVE);
  EXPECT_TRUE(created->is_customer());
  EXPECT_FALSE(created->is_partner());
  EXPECT_FALSE(created->has_convert_time());
  EXPECT_EQ(created->memo(), "大口");
  EXPECT_EQ(created->etag(), "\"1\"");
  EXPECT_EQ(created->audit().created_by(), "staff-1");
  EXPECT_EQ(created->audit().updated_by(), "staff-1");
  EXPECT_EQ(api::FromTimestamp(created->audit().create_time()), StartTime());
  EXPECT_EQ(api::FromTimestamp(created->audit().update_time()), StartTime());

  // Get answers what Create answered.
  absl::StatusOr<v1::Customer> got = Get(created->id());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(MessageDifferencer::Equals(*got, *created))
      << got->DebugString() << " vs " << created->DebugString();

  // The next generated code; default billing terms 月末締め翌月末払い; full-width postal code.
  v1::Customer minimal = Corporation("個人商店");
  minimal.set_kind(v1::CUSTOMER_KIND_SOLE_PROPRIETOR);
  minimal.set_postal_code("１５００００１");
  absl::StatusOr<v1::Customer> second = Create(minimal);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->code(), "C000002");
  EXPECT_EQ(second->kind(), v1::CUSTOMER_KIND_SOLE_PROPRIETOR);
  EXPECT_EQ(second->postal_code(), "150-0001");
  EXPECT_EQ(second->billing_terms().closing_day(), 0);
  EXPECT_EQ(second->billing_terms().payment_month_offset(), 1);
  EXPECT_EQ(second->billing_terms().payment_day(), 0);

  // A code given by hand is kept; the same code again is ALREADY_EXISTS and writes nothing.
  v1::Customer coded = Corporation("コード指定");
  coded.set_code("SHOP-01");
  absl::StatusOr<v1::Customer> third = Create(coded);
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_EQ(third->code(), "SHOP-01");
  absl::StatusOr<v1::Customer> dup = Create(coded);
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kAlreadyExists) << dup.status();
  EXPECT_EQ(CustomerRows(), 3);

  // A lead may be created as such.
  v1::Customer lead = Corporation("見込株式会社");
  lead.set_lifecycle(v1::LIFECYCLE_LEAD);
  absl::StatusOr<v1::Customer> fourth = Create(lead);
  ASSERT_TRUE(fourth.ok()) << fourth.status();
  EXPECT_EQ(fourth->lifecycle(), v1::LIFECYCLE_LEAD);
  // ... but not as INACTIVE.
  v1::Customer inactive = Corporation("休眠株式会社");
  inactive.set_lifecycle(v1::LIFECYCLE_INACTIVE);
  EXPECT_TRUE(IsInvalidField(Create(inactive).status(), "customer.lifecycle"));
  EXPECT_EQ(CustomerRows(), 4);
}

TEST_F(CustomerServiceTest, BatchGetKeepsRequestOrderAndNamesAnUnknownId) {
  const v1::Customer a = MustCreate(Corporation("A社"));
  const v1::Customer b = MustCreate(Corporation("B社"));
  const v1::Customer c = MustCreate(Corporation("C社"));

  v1::BatchGetCustomersRequest req;
  for (int64_t id : {c.id(), a.id(), b.id(), a.id()}) req.add_ids(id);
  absl::StatusOr<v1::BatchGetCustomersResponse> got =
      Call(&Stub::BatchGetCustomers, req, staff_);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->customers_size(), 4);
  EXPECT_EQ(got->customers(0).id(), c.id());
  EXPECT_EQ(got->customers(1).id(), a.id());
  EXPECT_EQ(got->customers(2).id(), b.id());
  EXPECT_EQ(got->customers(3).id(), a.id());
  EXPECT_TRUE(MessageDifferencer::Equals(got->customers(1), a));

  req.add_ids(kUnknownId);
  absl::StatusOr<v1::BatchGetCustomersResponse> missing =
      Call(&Stub::BatchGetCustomers, req, staff_);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound) << missing.status();
  EXPECT_TRUE(absl::StrContains(missing.status().message(), absl::StrCat(kUnknownId)))
      << missing.status();

  v1::BatchGetCustomersRequest empty;
  EXPECT_TRUE(IsInvalidField(Call(&Stub::BatchGetCustomers, empty, staff_).status(), "ids"));
  v1::BatchGetCustomersRequest too_many;
  for (int i = 0; i < 1001; ++i) too_many.add_ids(a.id());
  EXPECT_TRUE(IsInvalidField(Call(&Stub::BatchGetCustomers, too_many, staff_).status(), "ids"));
}

TEST_F(CustomerServiceTest, ListCustomersFilters) {
  v1::Customer a_in = Corporation("東京の顧客");
  a_in.set_prefecture("東京都");
  const v1::Customer a = MustCreate(a_in);
  clock_.Advance(absl::Minutes(1));
  v1::Customer b_in = Partner("大阪の加盟店");
  b_in.set_prefecture("大阪府");
  const v1::Customer b = MustCreate(b_in);
  clock_.Advance(absl::Minutes(1));
  v1::Customer c_in = Corporation("東京の見込");
  c_in.set_prefecture("東京都");
  c_in.set_lifecycle(v1::LIFECYCLE_LEAD);
  const v1::Customer c = MustCreate(c_in);

  auto ids = [&](const v1::ListCustomersRequest& req) {
    absl::StatusOr<v1::ListCustomersResponse> page = List(req);
    EXPECT_TRUE(page.ok()) << page.status();
    if (page.ok()) {
      EXPECT_EQ(page->next_page_token(), "");
    }
    return page.ok() ? Ids(*page) : std::vector<int64_t>{-1};
  };
  v1::ListCustomersRequest all;
  EXPECT_EQ(ids(all), (std::vector<int64_t>{a.id(), b.id(), c.id()}));
  v1::ListCustomersRequest customers;
  customers.set_role(v1::ROLE_FILTER_CUSTOMER);
  EXPECT_EQ(ids(customers), (std::vector<int64_t>{a.id(), c.id()}));
  v1::ListCustomersRequest partners;
  partners.set_role(v1::ROLE_FILTER_PARTNER);
  EXPECT_EQ(ids(partners), (std::vector<int64_t>{b.id()}));
  v1::ListCustomersRequest leads;
  leads.add_lifecycles(v1::LIFECYCLE_LEAD);
  EXPECT_EQ(ids(leads), (std::vector<int64_t>{c.id()}));
  v1::ListCustomersRequest tokyo;
  tokyo.set_prefecture("東京都");
  EXPECT_EQ(ids(tokyo), (std::vector<int64_t>{a.id(), c.id()}));
  v1::ListCustomersRequest tokyo_active = tokyo;
  tokyo_active.add_lifecycles(v1::LIFECYCLE_ACTIVE);
  EXPECT_EQ(ids(tokyo_active), (std::vector<int64_t>{a.id()}));
  v1::ListCustomersRequest recent;
  api::ToTimestamp(StartTime() + absl::Seconds(30), recent.mutable_updated_since());
  EXPECT_EQ(ids(recent), (std::vector<int64_t>{b.id(), c.id()}));
  // updated_since is inclusive.
  v1::ListCustomersRequest at_c;
  api::ToTimestamp(StartTime() + absl::Minutes(2), at_c.mutable_updated_since());
  EXPECT_EQ(ids(at_c), (std::vector<int64_t>{c.id()}));

  v1::ListCustomersRequest bad_prefecture;
  bad_prefecture.set_prefecture("東京");
  EXPECT_TRUE(IsInvalidField(List(bad_prefecture).status(), "prefecture"));
}

TEST_F(CustomerServiceTest, UpdateCustomerAppliesOnlyTheMaskedFields) {
  v1::Customer in = Corporation("旧社名");
  in.set_memo("残すメモ");
  in.set_phone("03-0000-0000");
  const v1::Customer created = MustCreate(in);
  clock_.Advance(absl::Minutes(5));

  v1::Customer patch;
  patch.set_id(created.id());
  patch.set_etag(created.etag());
  patch.set_name("新社名");
  patch.set_postal_code("5300001");
  patch.set_name_kana("ｼﾝｼｬﾒｲ");
  patch.set_memo("無視されるメモ");  // not in the mask
  patch.set_phone("");             // not in the mask
  absl::StatusOr<v1::Customer> updated = Update(patch, {"name", "postal_code", "name_kana"});
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->id(), created.id());
  EXPECT_EQ(updated->code(), created.code());
  EXPECT_EQ(updated->name(), "新社名");
  EXPECT_EQ(updated->postal_code(), "530-0001");
  EXPECT_EQ(updated->name_kana(), "シンシャメイ");
  EXPECT_EQ(updated->memo(), "残すメモ");
  EXPECT_EQ(updated->phone(), "03-0000-0000");
  EXPECT_EQ(updated->etag(), "\"2\"");
  EXPECT_EQ(api::FromTimestamp(updated->audit().update_time()), StartTime() + absl::Minutes(5));
  EXPECT_EQ(api::FromTimestamp(updated->audit().create_time()), StartTime());

  // A masked field absent from the patch is cleared.
  v1::Customer clear;
  clear.set_id(created.id());
  absl::StatusOr<v1::Customer> cleared = Update(clear, {"memo"});
  ASSERT_TRUE(cleared.ok()) << cleared.status();
  EXPECT_EQ(cleared->memo(), "");
  EXPECT_EQ(cleared->name(), "新社名");
  EXPECT_EQ(cleared->etag(), "\"3\"");

  // The etag read before these updates is stale: ABORTED, and the row is untouched.
  v1::Customer stale;
  stale.set_id(created.id());
  stale.set_etag(updated->etag());
  stale.set_name("競合した変更");
  EXPECT_TRUE(IsError(Update(stale, {"name"}).status(), absl::StatusCode::kAborted,
                      "ETAG_MISMATCH"));

  // Paths the mask may not name.
  v1::Customer p;
  p.set_id(created.id());
  p.set_name("x");
  EXPECT_TRUE(IsInvalidField(Update(p, {"no_such_field"}).status(), "update_mask"));
  EXPECT_TRUE(IsInvalidField(Update(p, {"lifecycle"}).status(), "update_mask"));
  EXPECT_TRUE(IsInvalidField(Update(p, {"id"}).status(), "update_mask"));
  EXPECT_TRUE(IsInvalidField(Update(p, {}).status(), "update_mask"));

  // A validation error of the merged result names the field.
  v1::Customer bad;
  bad.set_id(created.id());
  bad.set_postal_code("12-345");
  EXPECT_TRUE(IsInvalidField(Update(bad, {"postal_code"}).status(), "customer.postal_code"));

  // A code taken by another customer.
  v1::Customer other_in = Corporation("別会社");
  other_in.set_code("TAKEN-1");
  ASSERT_TRUE(Create(other_in).ok());
  v1::Customer take;
  take.set_id(created.id());
  take.set_code("TAKEN-1");
  EXPECT_EQ(Update(take, {"code"}).status().code(), absl::StatusCode::kAlreadyExists);

  absl::StatusOr<v1::Customer> now = Get(created.id());
  ASSERT_TRUE(now.ok()) << now.status();
  EXPECT_EQ(now->name(), "新社名");
  EXPECT_EQ(now->code(), created.code());
  EXPECT_EQ(now->postal_code(), "530-0001");
  EXPECT_EQ(now->etag(), "\"3\"");
  EXPECT_EQ(Count(absl::StrCat("SELECT version FROM customer.customers WHERE id = ",
                               created.id())),
            3);
}

TEST_F(CustomerServiceTest, UpdateOfAnInactiveCustomerIsFailedPrecondition) {
  const v1::Customer created = MustCreate(Corporation("休止予定"));
  v1::DeactivateCustomerRequest deactivate;
  deactivate.set_id(created.id());
  ASSERT_TRUE(Call(&Stub::DeactivateCustomer, deactivate, staff_).ok());

  v1::Customer patch;
  patch.set_id(created.id());
  patch.set_name("変更不可");
  EXPECT_TRUE(IsError(Update(patch, {"name"}).status(), absl::StatusCode::kFailedPrecondition,
                      "CUSTOMER_INACTIVE"));
  absl::StatusOr<v1::Customer> got = Get(created.id());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->name(), "休止予定");
}

TEST_F(CustomerServiceTest, ConvertLeadKeepsIdAndHistory) {
  v1::Customer in = Corporation("見込客");
  in.set_lifecycle(v1::LIFECYCLE_LEAD);
  const v1::Customer lead = MustCreate(in);
  ASSERT_EQ(lead.lifecycle(), v1::LIFECYCLE_LEAD);
  EXPECT_FALSE(lead.has_convert_time());
  clock_.Advance(absl::Minutes(30));

  // A stale etag is ABORTED.
  v1::ConvertLeadRequest stale;
  stale.set_id(lead.id());
  stale.set_etag("\"7\"");
  EXPECT_TRUE(IsError(Call(&Stub::ConvertLead, stale, staff_).status(),
                      absl::StatusCode::kAborted, "ETAG_MISMATCH"));

  v1::ConvertLeadRequest req;
  req.set_id(lead.id());
  req.set_etag(lead.etag());
  absl::StatusOr<v1::Customer> converted = Call(&Stub::ConvertLead, req, staff_);
  ASSERT_TRUE(converted.ok()) << converted.status();
  EXPECT_EQ(converted->id(), lead.id());
  EXPECT_EQ(converted->code(), lead.code());
  EXPECT_EQ(converted->lifecycle(), v1::LIFECYCLE_ACTIVE);
  ASSERT_TRUE(converted->has_convert_time());
  EXPECT_EQ(api::FromTimestamp(converted->convert_time()), StartTime() + absl::Minutes(30));
  EXPECT_EQ(converted->etag(), "\"2\"");
  EXPECT_EQ(CustomerRows(), 1);

  // Not a lead any more.
  v1::ConvertLeadRequest again;
  again.set_id(lead.id());
  EXPECT_TRUE(IsError(Call(&Stub::ConvertLead, again, staff_).status(),
                      absl::StatusCode::kFailedPrecondition, "NOT_A_LEAD"));
  const v1::Customer active = MustCreate(Corporation("既存客"));
  again.set_id(active.id());
  EXPECT_TRUE(IsError(Call(&Stub::ConvertLead, again, staff_).status(),
                      absl::StatusCode::kFailedPrecondition, "NOT_A_LEAD"));

  // The lead's history stays with the customer.
  v1::ListAuditEventsRequest audit;
  audit.set_customer_id(lead.id());
  absl::StatusOr<v1::ListAuditEventsResponse> events =
      Call(&Stub::ListAuditEvents, audit, staff_);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->events_size(), 2);
  EXPECT_EQ(events->events(0).method(), "/anken.customer.v1.CustomerService/ConvertLead");
  EXPECT_EQ(events->events(1).method(), "/anken.customer.v1.CustomerService/CreateCustomer");
  for (const auto& e : events->events()) {
    EXPECT_EQ(e.resource_id(), absl::StrCat("customers/", lead.id()));
  }
}

TEST_F(CustomerServiceTest, DeactivatedCustomerStaysReadable) {
  const v1::Customer created = MustCreate(Corporation("取引終了"));
  v1::Contact contact;
  contact.set_customer_id(created.id());
  contact.set_name("担当者");
  ASSERT_TRUE(CreateContact(contact).ok());
  clock_.Advance(absl::Minutes(5));

  v1::DeactivateCustomerRequest stale;
  stale.set_id(created.id());
  stale.set_etag("\"9\"");
  EXPECT_TRUE(IsError(Call(&Stub::DeactivateCustomer, stale, staff_).status(),
                      absl::StatusCode::kAborted, "ETAG_MISMATCH"));

  v1::DeactivateCustomerRequest req;
  req.set_id(created.id());
  req.set_etag(created.etag());
  req.set_reason("倒産");
  absl::StatusOr<v1::Customer> deactivated = Call(&Stub::DeactivateCustomer, req, staff_);
  ASSERT_TRUE(deactivated.ok()) << deactivated.status();
  EXPECT_EQ(deactivated->lifecycle(), v1::LIFECYCLE_INACTIVE);
  EXPECT_EQ(deactivated->etag(), "\"2\"");

  absl::StatusOr<v1::Customer> got = Get(created.id());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->lifecycle(), v1::LIFECYCLE_INACTIVE);
  EXPECT_EQ(got->name(), "取引終了");
  v1::ListCustomersRequest inactive;
  inactive.add_lifecycles(v1::LIFECYCLE_INACTIVE);
  absl::StatusOr<v1::ListCustomersResponse> listed = List(inactive);
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(Ids(*listed), std::vector<int64_t>{created.id()});
  v1::ListContactsRequest contacts;
  contacts.set_customer_id(created.id());
  absl::StatusOr<v1::ListContactsResponse> still = Call(&Stub::ListContacts, contacts, staff_);
  ASSERT_TRUE(still.ok()) << still.status();
  EXPECT_EQ(still->contacts_size(), 1);

  v1::DeactivateCustomerRequest twice;
  twice.set_id(created.id());
  EXPECT_TRUE(IsError(Call(&Stub::DeactivateCustomer, twice, staff_).status(),
                      absl::StatusCode::kFailedPrecondition, "ALREADY_INACTIVE"));
  // Nothing is ever deleted.
  EXPECT_EQ(CustomerRows(), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM customer.contacts"), 1);
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

TEST_F(CustomerServiceTest, EachValidationErrorNamesItsField) {
  struct Case {
    const char* what;
    void (*mutate)(v1::Customer&);
    const char* field;
  };
  const Case cases[] = {
      {"name missing", [](v1::Customer& c) { c.set_name(""); }, "customer.name"},
      {"bad postal code", [](v1::Customer& c) { c.set_postal_code("12-3456"); },
       "customer.postal_code"},
      {"unknown prefecture", [](v1::Customer& c) { c.set_prefecture("東京"); },
       "customer.prefecture"},
      // 8000012050002: the valid 7000012050002 with a wrong check digit.
      {"bad corporate number check digit",
       [](v1::Customer& c) { c.set_corporate_number("8000012050002"); },
       "customer.corporate_number"},
      // T6000012050003 is itself valid (check digit 6) but not this corporation's number.
      {"registration number of another corporation",
       [](v1::Customer& c) {
         c.set_corporate_number("7000012050002");
         c.set_invoice_registration_number("T6000012050003");
       },
       "customer.invoice_registration_number"},
      {"partner without notification email",
       [](v1::Customer& c) {
         c.set_is_partner(true);
         c.mutable_partner()->set_commission_rate_bp(1000);
       },
       "customer.partner.notification_email"},
      {"bad email", [](v1::Customer& c) { c.set_email("yamada@@example"); }, "customer.email"},
      {"closing day 29", [](v1::Customer& c) { c.mutable_billing_terms()->set_closing_day(29); },
       "customer.billing_terms.closing_day"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    v1::Customer customer = Corporation("検証株式会社");
    c.mutate(customer);
    EXPECT_TRUE(IsInvalidField(Create(customer).status(), c.field));
  }
  EXPECT_EQ(CustomerRows(), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM customer.audit_events"), 0);

  // The matching pair is accepted.
  v1::Customer ok = Corporation("検証株式会社");
  ok.set_corporate_number("7000012050002");
  ok.set_invoice_registration_number("T7000012050002");
  ok.mutable_billing_terms()->set_closing_day(28);
  absl::StatusOr<v1::Customer> created = Create(ok);
  EXPECT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(CustomerRows(), 1);
}

// ---------------------------------------------------------------------------------------------
// NOT_FOUND and request_id
// ---------------------------------------------------------------------------------------------

TEST_F(CustomerServiceTest, UnknownIdsAreNotFound) {
  const v1::Customer known = MustCreate(Corporation("既知"));
  auto not_found = [](const absl::Status& s) { return s.code() == absl::StatusCode::kNotFound; };

  EXPECT_PRED1(not_found, Get(kUnknownId).status());
  v1::Customer patch;
  patch.set_id(kUnknownId);
  patch.set_name("x");
  EXPECT_PRED1(not_found, Update(patch, {"name"}).status());
  v1::ConvertLeadRequest convert;
  convert.set_id(kUnknownId);
  EXPECT_PRED1(not_found, Call(&Stub::ConvertLead, convert, staff_).status());
  v1::DeactivateCustomerRequest deactivate;
  deactivate.set_id(kUnknownId);
  EXPECT_PRED1(not_found, Call(&Stub::DeactivateCustomer, deactivate, staff_).status());

  v1::Contact contact;
  contact.set_customer_id(kUnknownId);
  contact.set_name("誰か");
  EXPECT_PRED1(not_found, CreateContact(contact).status());
  v1::UpdateContactRequest update_contact;
  update_contact.mutable_contact()->set_id(kUnknownId);
  update_contact.mutable_contact()->set_name("誰か");
  update_contact.mutable_update_mask()->add_paths("name");
  EXPECT_PRED1(not_found, Call(&Stub::UpdateContact, update_contact, staff_).status());
  v1::ListContactsRequest list_contacts;
  list_contacts.set_customer_id(kUnknownId);
  EXPECT_PRED1(not_found, Call(&Stub::ListContacts, list_contacts, staff_).status());

  v1::Inquiry inquiry;
  inquiry.set_customer_id(kUnknownId);
  inquiry.set_channel(v1::INQUIRY_CHANNEL_PHONE);
  inquiry.set_subject("件名");
  EXPECT_PRED1(not_found, CreateInquiry(inquiry).status());
  v1::Inquiry inquiry_patch;
  inquiry_patch.set_id(kUnknownId);
  inquiry_patch.set_subject("件名");
  EXPECT_PRED1(not_found, UpdateInquiry(inquiry_patch, {"subject"}).status());
  v1::AddInquiryResponseRequest respond;
  respond.set_request_id(NextRequestId());
  respond.set_inquiry_id(kUnknownId);
  respond.set_body("回答");
  EXPECT_PRED1(not_found, Call(&Stub::AddInquiryResponse, respond, staff_).status());

  v1::ListAuditEventsRequest audit;
  audit.set_customer_id(kUnknownId);
  EXPECT_PRED1(not_found, Call(&Stub::ListAuditEvents, audit, staff_).status());

  // Nothing was written by the failed calls.
  EXPECT_EQ(CustomerRows(), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM customer.contacts"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM customer.inquiries"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM customer.audit_events"), 1);
  absl::StatusOr<v1::Customer> unchanged = Get(known.id());
  ASSERT_TRUE(unchanged.ok());
  EXPECT_EQ(unchanged->etag(), "\"1\"");
}

TEST_F(CustomerServiceTest, RequestIdReplayAnswersTheFirstResponseAndWritesOnce) {
  v1::Customer in = Corporation("冪等株式会社");
  absl::StatusOr<v1::Customer> first = CreateAs(in, "create-once-1", staff_);
  ASSERT_TRUE(first.ok()) << first.status();
  clock_.Advance(absl::Minutes(2));  // a replay later answers the stored response, not a new one
  absl::StatusOr<v1::Customer> replay = CreateAs(in, "create-once-1", staff_);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_TRUE(MessageDifferencer::Equals(*first, *replay))
      << first->DebugString() << " vs " << replay->DebugString();
  EXPECT_EQ(Count("SELECT count(*) FROM customer.customers WHERE name = '冪等株式会社'"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM customer.audit_events"), 1);

  // The same id with another request: the client broke the contract.
  v1::Customer other = Corporation("別の会社");
  const absl::Status reused = CreateAs(other, "create-once-1", staff_).status();
  EXPECT_TRUE(IsError(reused, absl::StatusCode::kInvalidArgument, "REQUEST_ID_REUSED"));
  EXPECT_TRUE(ViolatedFields(reused).count("request_id")) << reused;
  EXPECT_EQ(CustomerRows(), 1);

  // request_id is required.
  EXPECT_TRUE(IsInvalidField(CreateAs(other, "", staff_).status(), "request_id"));
  EXPECT_EQ(CustomerRows(), 1);

  // Keys are per method: the same id for CreateContact is a new request.
  v1::CreateContactRequest contact;
  contact.set_request_id("create-once-1");
  contact.mutable_contact()->set_customer_id(first->id());
  contact.mutable_contact()->set_name("担当");
  absl::StatusOr<v1::Contact> c1 = Call(&Stub::CreateContact, contact, staff_);
  ASSERT_TRUE(c1.ok()) << c1.status();
  absl::StatusOr<v1::Contact> c2 = Call(&Stub::CreateContact, contact, staff_);
  ASSERT_TRUE(c2.ok()) << c2.status();
  EXPECT_TRUE(MessageDifferencer::Equals(*c1, *c2));
  EXPECT_EQ(Count("SELECT count(*) FROM customer.contacts"), 1);
  v1::CreateContactRequest no_id = contact;
  no_id.clear_request_id();
  EXPECT_TRUE(IsInvalidField(Call(&Stub::CreateContact, no_id, staff_).status(), "request_id"));

  // Inquiries too.
  v1::CreateInquiryRequest inquiry;
  inquiry.set_request_id("inquiry-once-1");
  inquiry.mutable_inquiry()->set_customer_id(first->id());
  inquiry.mutable_inquiry()->set_channel(v1::INQUIRY_CHANNEL_WEB);
  inquiry.mutable_inquiry()->set_subject("資料請求");
  absl::StatusOr<v1::Inquiry> i1 = Call(&Stub::CreateInquiry, inquiry, staff_);
  ASSERT_TRUE(i1.ok()) << i1.status();
  absl::StatusOr<v1::Inquiry> i2 = Call(&Stub::CreateInquiry, inquiry, staff_);
  ASSERT_TRUE(i2.ok()) << i2.status();
  EXPECT_TRUE(MessageDifferencer::Equals(*i1, *i2));
  EXPECT_EQ(Count("SELECT count(*) FROM customer.inquiries"), 1);
  inquiry.mutable_inquiry()->set_subject("別件");
  EXPECT_TRUE(IsError(Call(&Stub::CreateInquiry, inquiry, staff_).status(),
                      absl::StatusCode::kInvalidArgument, "REQUEST_ID_REUSED"));
}

// ---------------------------------------------------------------------------------------------
// Pagination
// ---------------------------------------------------------------------------------------------

TEST_F(CustomerServiceTest, PagesThrough2500CustomersExactlyOnceUnderConcurrentInserts) {
  constexpr int kBulk = 2500;
  std::string csv = "顧客名,区分,取引先\n";
  for (int i = 1; i <= kBulk; ++i) absl::StrAppend(&csv, "一括顧客", i, ",法人,1\n");
  absl::StatusOr<v1::ImportCustomersResponse> imported = Import(csv, false);
  ASSERT_TRUE(imported.ok()) << imported.status();
  ASSERT_EQ(imported->errors_size(), 0) << imported->errors(0).DebugString();
  ASSERT_EQ(imported->customers_created(), kBulk);
  ASSERT_TRUE(imported->written());

  std::set<int64_t> before;
  {
    pqxx::connection c(db_.url());
    pqxx::nontransaction tx(c);
    for (const auto& row : tx.exec("SELECT id FROM customer.customers")) {
      before.insert(row[0].as<int64_t>());
    }
  }
  ASSERT_EQ(before.size(), static_cast<size_t>(kBulk));

  // The writer creates customers (named to sort before the bulk) and touches existing ones
  // (moving their update_time), so a listing ordered by anything but id, or paged by offset
  // over such an order, would skip or repeat rows. The lister waits after each page until at
  // least one more write has landed, so writes provably interleave with the pages.
  const std::vector<int64_t> existing(before.begin(), before.end());
  std::mutex mu;
  std::condition_variable cv;
  int inserted = 0;
  bool inserter_done = false;
  bool stop = false;
  std::set<int64_t> inserted_ids;
  absl::Status inserter_error;
  std::thread inserter([&] {
    for (int n = 0; n < 2000; ++n) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (stop) break;
      }
      absl::StatusOr<v1::Customer> c = CreateAs(Corporation(absl::StrCat("あ並行顧客", n)),
                                                absl::StrCat("concurrent-", n), staff_);
      clock_.Advance(absl::Seconds(1));
      v1::Customer touch;
      touch.set_id(existing[(static_cast<size_t>(n) * 97) % existing.size()]);
      touch.set_memo(absl::StrCat("touched ", n));
      absl::StatusOr<v1::Customer> touched = Update(touch, {"memo"});
      std::lock_guard<std::mutex> lock(mu);
      if (!c.ok() || !touched.ok()) {
        inserter_error = !c.ok() ? c.status() : touched.status();
        break;
      }
      inserted_ids.insert(c->id());
      ++inserted;
      cv.notify_all();
    }
    std::lock_guard<std::mutex> lock(mu);
    inserter_done = true;
    cv.notify_all();
  });
  struct Joiner {
    std::function<void()> fn;
    ~Joiner() { fn(); }
  } joiner{[&] {
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
    }
    if (inserter.joinable()) inserter.join();
  }};

  std::vector<int64_t> seen;
  std::string token;
  int pages = 0;
  do {
    int target;
    {
      std::lock_guard<std::mutex> lock(mu);
      target = inserted + 1;
    }
    v1::ListCustomersRequest req;
    req.set_page_size(100);
    req.set_page_token(token);
    absl::StatusOr<v1::ListCustomersResponse> page = List(req);
    ASSERT_TRUE(page.ok()) << "page " << pages << ": " << page.status();
    ASSERT_LE(page->customers_size(), 100);
    for (const auto& c : page->customers()) seen.push_back(c.id());
    token = page->next_page_token();
    ++pages;
    ASSERT_LT(pages, 100) << "listing does not end";
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return inserted >= target || inserter_done; });
  } while (!token.empty());
  joiner.fn();
  joiner.fn = [] {};

  ASSERT_TRUE(inserter_error.ok()) << inserter_error;
  EXPECT_GE(inserted, pages) << "inserts did not interleave with the listing";
  EXPECT_GE(pages, kBulk / 100);
  // Ascending ids: no duplicates, and a stable order across pages.
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(std::adjacent_find(seen.begin(), seen.end()), seen.end()) << "a duplicate id";
  const std::set<int64_t> seen_set(seen.begin(), seen.end());
  EXPECT_EQ(seen_set.size(), seen.size());
  int missing = 0;
  for (int64_t id : before) missing += seen_set.count(id) == 0 ? 1 : 0;
  EXPECT_EQ(missing, 0) << "customers that existed before the listing were skipped";
  for (int64_t id : seen) {
    EXPECT_TRUE(before.count(id) || inserted_ids.count(id)) << "unknown id " << id;
  }
}

TEST_F(CustomerServiceTest, PageTokensAreBoundToTheFilterAndPageSizeIsLimited) {
  for (int i = 0; i < 5; ++i) {
    v1::Customer c = Corporation(absl::StrCat("ページ", i));
    c.set_prefecture("東京都");
    MustCreate(c);
  }
  v1::ListCustomersRequest req;
  req.set_page_size(2);
  absl::StatusOr<v1::ListCustomersResponse> first = List(req);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->customers_size(), 2);
  ASSERT_NE(first->next_page_token(), "");

  // Another filter with this token.
  v1::ListCustomersRequest other = req;
  other.set_page_token(first->next_page_token());
  other.set_prefecture("東京都");
  EXPECT_TRUE(IsInvalidField(List(other).status(), "page_token"));
  other.clear_prefecture();
  other.set_query("ページ");
  EXPECT_TRUE(IsInvalidField(List(other).status(), "page_token"));
  // An altered token.
  v1::ListCustomersRequest altered = req;
  std::string t = first->next_page_token();
  t[t.size() / 2] = t[t.size() / 2] == 'A' ? 'B' : 'A';
  altered.set_page_token(t);
  EXPECT_TRUE(IsInvalidField(List(altered).status(), "page_token"));

  // The same filter with another page size continues where the first page ended.
  v1::ListCustomersRequest next = req;
  next.set_page_token(first->next_page_token());
  next.set_page_size(10);
  absl::StatusOr<v1::ListCustomersResponse> rest = List(next);
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_EQ(rest->customers_size(), 3);
  EXPECT_EQ(rest->next_page_token(), "");
  EXPECT_GT(rest->customers(0).id(), first->customers(1).id());

  v1::ListCustomersRequest too_big;
  too_big.set_page_size(1001);
  EXPECT_TRUE(IsInvalidField(List(too_big).status(), "page_size"));
  v1::ListCustomersRequest negative;
  negative.set_page_size(-1);
  EXPECT_TRUE(IsInvalidField(List(negative).status(), "page_size"));
  v1::ListCustomersRequest max;
  max.set_page_size(1000);
  absl::StatusOr<v1::ListCustomersResponse> all = List(max);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->customers_size(), 5);
}

// ---------------------------------------------------------------------------------------------
// Search
// ---------------------------------------------------------------------------------------------

TEST_F(CustomerServiceTest, SearchMatchesKanaInEitherWidthAndPhoneWithoutHyphens) {
  v1::Customer yamada_in = Corporation("株式会社山田");
  yamada_in.set_name_kana("カブシキガイシャヤマダ");
  yamada_in.set_phone("03-1234-5678");
  const v1::Customer yamada = MustCreate(yamada_in);
  v1::Customer tanaka_in = Corporation("株式会社田中");
  tanaka_in.set_name_kana("ｶﾌﾞｼｷｶﾞｲｼｬﾀﾅｶ");  // stored as full width
  tanaka_in.set_phone("06-9876-5432");
  const v1::Customer tanaka = MustCreate(tanaka_in);
  EXPECT_EQ(tanaka.name_kana(), "カブシキガイシャタナカ");

  auto search = [&](const std::string& query) {
    v1::ListCustomersRequest req;
    req.set_query(query);
    absl::StatusOr<v1::ListCustomersResponse> page = List(req);
    EXPECT_TRUE(page.ok()) << query << ": " << page.status();
    return page.ok() ? Ids(*page) : std::vector<int64_t>{-1};
  };
  const std::vector<int64_t> only_yamada{yamada.id()};
  const std::vector<int64_t> only_tanaka{tanaka.id()};
  EXPECT_EQ(search("ﾔﾏﾀﾞ"), only_yamada);
  EXPECT_EQ(search("やまだ"), only_yamada);
  EXPECT_EQ(search("ヤマダ"), only_yamada);
  EXPECT_EQ(search("たなか"), only_tanaka);
  EXPECT_EQ(search("ﾀﾅｶ"), only_tanaka);
  EXPECT_EQ(search("0312345678"), only_yamada);
  EXPECT_EQ(search("1234-5678"), only_yamada);
  EXPECT_EQ(search("98765432"), only_tanaka);
  EXPECT_EQ(search("山田"), only_yamada);
  EXPECT_EQ(search(tanaka.code()), only_tanaka);
  EXPECT_EQ(search("ｶﾌﾞｼｷｶﾞｲｼｬ"), (std::vector<int64_t>{yamada.id(), tanaka.id()}));
  EXPECT_EQ(search("スズキ"), std::vector<int64_t>{});
}

// ---------------------------------------------------------------------------------------------
// Contacts
// ---------------------------------------------------------------------------------------------

TEST_F(CustomerServiceTest, ContactsKeepExactlyOnePrimary) {
  const v1::Customer customer = MustCreate(Corporation("担当者テスト"));
  auto contact = [&](const std::string& name, bool primary) {
    v1::Contact c;
    c.set_customer_id(customer.id());
    c.set_name(name);
    c.set_primary(primary);
    return c;
  };
  v1::Contact first_in = contact("山田太郎", false);
  first_in.set_name_kana("ﾔﾏﾀﾞﾀﾛｳ");
  first_in.set_department("総務部");
  first_in.set_email("taro@example.jp");
  absl::StatusOr<v1::Contact> c1 = CreateContact(first_in);
  ASSERT_TRUE(c1.ok()) << c1.status();
  EXPECT_TRUE(c1->primary()) << "the first contact becomes primary";
  EXPECT_EQ(c1->customer_id(), customer.id());
  EXPECT_EQ(c1->name_kana(), "ヤマダタロウ");
  EXPECT_EQ(c1->department(), "総務部");
  EXPECT_EQ(c1->etag(), "\"1\"");
  EXPECT_EQ(c1->audit().created_by(), "staff-1");

  absl::StatusOr<v1::Contact> c2 = CreateContact(contact("佐藤花子", false));
  ASSERT_TRUE(c2.ok()) << c2.status();
  EXPECT_FALSE(c2->primary());
  absl::StatusOr<v1::Contact> c3 = CreateContact(contact("鈴木一郎", true));
  ASSERT_TRUE(c3.ok()) << c3.status();
  EXPECT_TRUE(c3->primary()) << "a new primary takes the flag";

  const std::string primaries = absl::StrCat(
      "SELECT count(*) FROM customer.contacts WHERE is_primary AND customer_id = ",
      customer.id());
  auto list = [&]() {
    v1::ListContactsRequest req;
    req.set_customer_id(customer.id());
    absl::StatusOr<v1::ListContactsResponse> r = Call(&Stub::ListContacts, req, staff_);
    EXPECT_TRUE(r.ok()) << r.status();
    std::vector<std::pair<int64_t, bool>> out;
    if (r.ok()) {
      for (const auto& c : r->contacts()) out.emplace_back(c.id(), c.primary());
    }
    return out;
  };
  using Row = std::pair<int64_t, bool>;
  EXPECT_EQ(list(), (std::vector<Row>{{c3->id(), true}, {c1->id(), false}, {c2->id(), false}}));
  EXPECT_EQ(Count(primaries), 1);

  // Unsetting the only primary is refused: make another one primary instead.
  v1::UpdateContactRequest unset;
  unset.mutable_contact()->set_id(c3->id());
  unset.mutable_contact()->set_primary(false);
  unset.mutable_update_mask()->add_paths("primary");
  EXPECT_EQ(Call(&Stub::UpdateContact, unset, staff_).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(list(), (std::vector<Row>{{c3->id(), true}, {c1->id(), false}, {c2->id(), false}}));

  v1::UpdateContactRequest promote;
  promote.mutable_contact()->set_id(c2->id());
  promote.mutable_contact()->set_etag(c2->etag());
  promote.mutable_contact()->set_primary(true);
  promote.mutable_contact()->set_title("部長");  // not in the mask
  promote.mutable_update_mask()->add_paths("primary");
  absl::StatusOr<v1::Contact> promoted = Call(&Stub::UpdateContact, promote, staff_);
  ASSERT_TRUE(promoted.ok()) << promoted.status();
  EXPECT_TRUE(promoted->primary());
  EXPECT_EQ(promoted->title(), "");
  EXPECT_EQ(promoted->etag(), "\"2\"");
  EXPECT_EQ(list(), (std::vector<Row>{{c2->id(), true}, {c1->id(), false}, {c3->id(), false}}));
  EXPECT_EQ(Count(primaries), 1);

  // A stale etag, a path that may not change, a bad e-mail.
  v1::UpdateContactRequest stale = promote;
  stale.mutable_contact()->set_title("課長");
  stale.mutable_update_mask()->clear_paths();
  stale.mutable_update_mask()->add_paths("title");
  EXPECT_TRUE(IsError(Call(&Stub::UpdateContact, stale, staff_).status(),
                      absl::StatusCode::kAborted, "ETAG_MISMATCH"));
  v1::UpdateContactRequest move;
  move.mutable_contact()->set_id(c1->id());
  move.mutable_contact()->set_customer_id(customer.id() + 1);
  move.mutable_update_mask()->add_paths("customer_id");
  EXPECT_TRUE(IsInvalidField(Call(&Stub::UpdateContact, move, staff_).status(), "update_mask"));
  v1::UpdateContactRequest email;
  email.mutable_contact()->set_id(c1->id());
  email.mutable_contact()->set_email("not an email");
  email.mutable_update_mask()->add_paths("email");
  EXPECT_TRUE(
      IsInvalidField(Call(&Stub::UpdateContact, email, staff_).status(), "contact.email"));
  v1::Contact nameless = contact("", false);
  EXPECT_TRUE(IsInvalidField(CreateContact(nameless).status(), "contact.name"));
  EXPECT_EQ(Count("SELECT count(*) FROM customer.contacts"), 3);

  // Another customer's list is its own (empty here).
  const v1::Customer other = MustCreate(Corporation("別会社"));
  v1::ListContactsRequest others;
  others.set_customer_id(other.id());
  absl::StatusOr<v1::ListContactsResponse> none = Call(&Stub::ListContacts, others, staff_);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->contacts_size(), 0);
}

// ---------------------------------------------------------------------------------------------
// Inquiries
// ---------------------------------------------------------------------------------------------

class InquiryTest : public CustomerServiceTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(CustomerServiceTest::SetUp());
    customer_ = MustCreate(Corporation("問合せ元"));
    v1::Contact c;
    c.set_customer_id(customer_.id());
    c.set_name("窓口");
    absl::StatusOr<v1::Contact> contact = CreateContact(c);
    ASSERT_TRUE(contact.ok()) << contact.status();
    contact_ = *contact;
  }

  v1::Inquiry NewInquiry(const std::string& subject) const {
    v1::Inquiry i;
    i.set_customer_id(customer_.id());
    i.set_contact_id(contact_.id());
    i.set_channel(v1::INQUIRY_CHANNEL_MAIL);
    i.set_subject(subject);
    i.set_body("見積をお願いします。");
    return i;
  }

  absl::StatusOr<v1::Inquiry> SetStatus(const v1::Inquiry& current, v1::InquiryStatus status) {
    v1::Inquiry patch;
    patch.set_id(current.id());
    patch.set_etag(current.etag());
    patch.set_status(status);
    return UpdateInquiry(patch, {"status"});
  }

  v1::Customer customer_;
  v1::Contact contact_;
};

TEST_F(InquiryTest, StatusMovesForwardReopensAndRefusesOtherTransitions) {
  absl::StatusOr<v1::Inquiry> created = CreateInquiry(NewInquiry("見積依頼"));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_GT(created->id(), 0);
  EXPECT_EQ(created->status(), v1::INQUIRY_STATUS_OPEN);
  EXPECT_EQ(created->customer_id(), customer_.id());
  EXPECT_EQ(created->contact_id(), contact_.id());
  EXPECT_EQ(created->channel(), v1::INQUIRY_CHANNEL_MAIL);
  EXPECT_EQ(created->subject(), "見積依頼");
  EXPECT_EQ(created->responses_size(), 0);
  EXPECT_EQ(created->etag(), "\"1\"");

  v1::Inquiry assign;
  assign.set_id(created->id());
  assign.set_status(v1::INQUIRY_STATUS_IN_PROGRESS);
  assign.set_assignee("staff-2");
  assign.set_subject("無視される件名");
  absl::StatusOr<v1::Inquiry> in_progress = UpdateInquiry(assign, {"status", "assignee"});
  ASSERT_TRUE(in_progress.ok()) << in_progress.status();
  EXPECT_EQ(in_progress->status(), v1::INQUIRY_STATUS_IN_PROGRESS);
  EXPECT_EQ(in_progress->assignee(), "staff-2");
  EXPECT_EQ(in_progress->subject(), "見積依頼");

  absl::StatusOr<v1::Inquiry> resolved = SetStatus(*in_progress, v1::INQUIRY_STATUS_RESOLVED);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->status(), v1::INQUIRY_STATUS_RESOLVED);
  // Reopening a resolved inquiry is allowed.
  absl::StatusOr<v1::Inquiry> reopened = SetStatus(*resolved, v1::INQUIRY_STATUS_OPEN);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ(reopened->status(), v1::INQUIRY_STATUS_OPEN);
  // Skipping forward is allowed.
  absl::StatusOr<v1::Inquiry> closed = SetStatus(*reopened, v1::INQUIRY_STATUS_CLOSED);
  ASSERT_TRUE(closed.ok()) << closed.status();
  EXPECT_EQ(closed->status(), v1::INQUIRY_STATUS_CLOSED);

  // CLOSED -> IN_PROGRESS is not a move the rules allow.
  EXPECT_TRUE(IsError(SetStatus(*closed, v1::INQUIRY_STATUS_IN_PROGRESS).status(),
                      absl::StatusCode::kFailedPrecondition, "INQUIRY_TRANSITION_NOT_ALLOWED"));
  EXPECT_EQ(Count(absl::StrCat("SELECT status FROM customer.inquiries WHERE id = ",
                               created->id())),
            4);
  // A stale etag.
  EXPECT_TRUE(IsError(SetStatus(*resolved, v1::INQUIRY_STATUS_OPEN).status(),
                      absl::StatusCode::kAborted, "ETAG_MISMATCH"));
  // CLOSED may be reopened too.
  absl::StatusOr<v1::Inquiry> reopened_closed = SetStatus(*closed, v1::INQUIRY_STATUS_OPEN);
  ASSERT_TRUE(reopened_closed.ok()) << reopened_closed.status();
  EXPECT_EQ(reopened_closed->status(), v1::INQUIRY_STATUS_OPEN);

  v1::Inquiry bad_path;
  bad_path.set_id(created->id());
  EXPECT_TRUE(IsInvalidField(UpdateInquiry(bad_path, {"customer_id"}).status(), "update_mask"));
}

TEST_F(InquiryTest, CreateValidatesSubjectAndContact) {
  v1::Inquiry no_subject = NewInquiry("");
  EXPECT_TRUE(IsInvalidField(CreateInquiry(no_subject).status(), "inquiry.subject"));

  const v1::Customer other = MustCreate(Corporation("他社"));
  v1::Contact theirs_in;
  theirs_in.set_customer_id(other.id());
  theirs_in.set_name("他社の担当");
  absl::StatusOr<v1::Contact> theirs = CreateContact(theirs_in);
  ASSERT_TRUE(theirs.ok()) << theirs.status();
  v1::Inquiry foreign_contact = NewInquiry("他社の担当で");
  foreign_contact.set_contact_id(theirs->id());
  EXPECT_TRUE(IsInvalidField(CreateInquiry(foreign_contact).status(), "inquiry.contact_id"));
  EXPECT_EQ(Count("SELECT count(*) FROM customer.inquiries"), 0);

  // Without a contact is fine.
  v1::Inquiry anonymous = NewInquiry("電話で問合せ");
  anonymous.set_contact_id(0);
  anonymous.set_channel(v1::INQUIRY_CHANNEL_PHONE);
  absl::StatusOr<v1::Inquiry> created = CreateInquiry(anonymous);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->contact_id(), 0);
}

TEST_F(InquiryTest, ResponsesAreAppendedInOrder) {
  absl::StatusOr<v1::Inquiry> inquiry = CreateInquiry(NewInquiry("不具合の連絡"));
  ASSERT_TRUE(inquiry.ok()) << inquiry.status();

  clock_.Advance(absl::Minutes(10));
  v1::AddInquiryResponseRequest r1;
  r1.set_request_id("respond-1");
  r1.set_inquiry_id(inquiry->id());
  r1.set_body("一次回答: 確認中です。");
  absl::StatusOr<v1::Inquiry> after1 = Call(&Stub::AddInquiryResponse, r1, staff_);
  ASSERT_TRUE(after1.ok()) << after1.status();
  ASSERT_EQ(after1->responses_size(), 1);

  clock_.Advance(absl::Minutes(20));
  const std::string staff2 = Token(Role::kStaff, "staff-2");
  v1::AddInquiryResponseRequest r2;
  r2.set_request_id("respond-2");
  r2.set_inquiry_id(inquiry->id());
  r2.set_body("二次回答: 修正しました。");
  absl::StatusOr<v1::Inquiry> after2 = Call(&Stub::AddInquiryResponse, r2, staff2);
  ASSERT_TRUE(after2.ok()) << after2.status();
  ASSERT_EQ(after2->responses_size(), 2);
  EXPECT_EQ(after2->responses(0).body(), "一次回答: 確認中です。");
  EXPECT_EQ(after2->responses(0).responder(), "staff-1");
  EXPECT_EQ(api::FromTimestamp(after2->responses(0).response_time()),
            StartTime() + absl::Minutes(10));
  EXPECT_EQ(after2->responses(1).body(), "二次回答: 修正しました。");
  EXPECT_EQ(after2->responses(1).responder(), "staff-2");
  EXPECT_EQ(api::FromTimestamp(after2->responses(1).response_time()),
            StartTime() + absl::Minutes(30));
  EXPECT_LT(after2->responses(0).id(), after2->responses(1).id());
  // The earlier entry is unchanged by the later append.
  EXPECT_TRUE(MessageDifferencer::Equals(after1->responses(0), after2->responses(0)));

  // A retry of the second append answers the same and appends nothing.
  clock_.Advance(absl::Minutes(1));
  absl::StatusOr<v1::Inquiry> retry = Call(&Stub::AddInquiryResponse, r2, staff2);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(MessageDifferencer::Equals(*retry, *after2));
  EXPECT_EQ(Count("SELECT count(*) FROM customer.inquiry_responses"), 2);

  v1::AddInquiryResponseRequest empty;
  empty.set_request_id("respond-3");
  empty.set_inquiry_id(inquiry->id());
  EXPECT_TRUE(IsInvalidField(Call(&Stub::AddInquiryResponse, empty, staff_).status(), "body"));
  EXPECT_EQ(Count("SELECT count(*) FROM customer.inquiry_responses"), 2);

  // Reads carry the history, oldest first.
  v1::ListInquiriesRequest list;
  list.set_customer_id(customer_.id());
  absl::StatusOr<v1::ListInquiriesResponse> listed = Call(&Stub::ListInquiries, list, staff_);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->inquiries_size(), 1);
  ASSERT_EQ(listed->inquiries(0).responses_size(), 2);
  EXPECT_EQ(listed->inquiries(0).responses(1).responder(), "staff-2");
}

TEST_F(InquiryTest, ListInquiriesNewestFirstWithFiltersAndPages) {
  absl::StatusOr<v1::Inquiry> i1 = CreateInquiry(NewInquiry("一件目"));
  ASSERT_TRUE(i1.ok()) << i1.status();
  absl::StatusOr<v1::Inquiry> i2 = CreateInquiry(NewInquiry("二件目"));
  ASSERT_TRUE(i2.ok()) << i2.status();
  v1::Inquiry assign;
  assign.set_id(i2->id());
  assign.set_status(v1::INQUIRY_STATUS_IN_PROGRESS);
  assign.set_assignee("staff-2");
  ASSERT_TRUE(UpdateInquiry(assign, {"status", "assignee"}).ok());
  const v1::Customer other = MustCreate(Corporation("他社"));
  v1::Inquiry theirs;
  theirs.set_customer_id(other.id());
  theirs.set_channel(v1::INQUIRY_CHANNEL_VISIT);
  theirs.set_subject("来訪");
  absl::StatusOr<v1::Inquiry> i3 = CreateInquiry(theirs);
  ASSERT_TRUE(i3.ok()) << i3.status();

  auto ids = [&](const v1::ListInquiriesRequest& req) {
    absl::StatusOr<v1::ListInquiriesResponse> r = Call(&Stub::ListInquiries, req, staff_);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? Ids(*r) : std::vector<int64_t>{-1};
  };
  v1::ListInquiriesRequest all;
  EXPECT_EQ(ids(all), (std::vector<int64_t>{i3->id(), i2->id(), i1->id()}));
  v1::ListInquiriesRequest mine;
  mine.set_customer_id(customer_.id());
  EXPECT_EQ(ids(mine), (std::vector<int64_t>{i2->id(), i1->id()}));
  v1::ListInquiriesRequest working;
  working.add_statuses(v1::INQUIRY_STATUS_IN_PROGRESS);
  EXPECT_EQ(ids(working), (std::vector<int64_t>{i2->id()}));
  v1::ListInquiriesRequest open;
  open.add_statuses(v1::INQUIRY_STATUS_OPEN);
  EXPECT_EQ(ids(open), (std::vector<int64_t>{i3->id(), i1->id()}));
  v1::ListInquiriesRequest assigned;
  assigned.set_assignee("staff-2");
  EXPECT_EQ(ids(assigned), (std::vector<int64_t>{i2->id()}));

  v1::ListInquiriesRequest paged;
  paged.set_page_size(2);
  absl::StatusOr<v1::ListInquiriesResponse> p1 = Call(&Stub::ListInquiries, paged, staff_);
  ASSERT_TRUE(p1.ok()) << p1.status();
  EXPECT_EQ(Ids(*p1), (std::vector<int64_t>{i3->id(), i2->id()}));
  ASSERT_NE(p1->next_page_token(), "");
  paged.set_page_token(p1->next_page_token());
  absl::StatusOr<v1::ListInquiriesResponse> p2 = Call(&Stub::ListInquiries, paged, staff_);
  ASSERT_TRUE(p2.ok()) << p2.status();
  EXPECT_EQ(Ids(*p2), (std::vector<int64_t>{i1->id()}));
  EXPECT_EQ(p2->next_page_token(), "");
  paged.set_customer_id(customer_.id());
  EXPECT_TRUE(
      IsInvalidField(Call(&Stub::ListInquiries, paged, staff_).status(), "page_token"));
  v1::ListInquiriesRequest too_big;
  too_big.set_page_size(1001);
  EXPECT_TRUE(
      IsInvalidField(Call(&Stub::ListInquiries, too_big, staff_).status(), "page_size"));
}

// ---------------------------------------------------------------------------------------------
// Audit
// ---------------------------------------------------------------------------------------------

TEST_F(CustomerServiceTest, AuditEventsCoverTheCustomerAndItsContactsAndInquiriesOnly) {
  const v1::Customer a = MustCreate(Corporation("監査対象"));
  // Another customer whose id starts with the same digits ("customers/1" vs "customers/1x"),
  // so a prefix match on the resource id would leak its events.
  v1::Customer b;
  const std::string a_id = absl::StrCat(a.id());
  for (int i = 0; i < 30; ++i) {
    b = MustCreate(Corporation(absl::StrCat("他社", i)));
    const std::string b_id = absl::StrCat(b.id());
    if (b_id.size() > a_id.size() && absl::StartsWith(b_id, a_id)) break;
  }
  ASSERT_TRUE(absl::StartsWith(absl::StrCat(b.id()), a_id) && b.id() != a.id());
  v1::Contact b_contact;
  b_contact.set_customer_id(b.id());
  b_contact.set_name("他社担当");
  ASSERT_TRUE(CreateContact(b_contact).ok());

  clock_.Advance(absl::Minutes(1));
  v1::Customer patch;
  patch.set_id(a.id());
  patch.set_name("監査対象(改)");
  ASSERT_TRUE(Update(patch, {"name"}).ok());
  clock_.Advance(absl::Minutes(1));
  v1::CreateContactRequest contact;
  contact.set_request_id("audit-contact");
  contact.mutable_contact()->set_customer_id(a.id());
  contact.mutable_contact()->set_name("監査担当");
  absl::StatusOr<v1::Contact> c = Call(&Stub::CreateContact, contact, staff_);
  ASSERT_TRUE(c.ok()) << c.status();
  clock_.Advance(absl::Minutes(1));
  v1::CreateInquiryRequest inquiry;
  inquiry.set_request_id("audit-inquiry");
  inquiry.mutable_inquiry()->set_customer_id(a.id());
  inquiry.mutable_inquiry()->set_channel(v1::INQUIRY_CHANNEL_PHONE);
  inquiry.mutable_inquiry()->set_subject("監査の問合せ");
  absl::StatusOr<v1::Inquiry> i = Call(&Stub::CreateInquiry, inquiry, staff_);
  ASSERT_TRUE(i.ok()) << i.status();
  clock_.Advance(absl::Minutes(1));
  v1::AddInquiryResponseRequest respond;
  respond.set_request_id("audit-response");
  respond.set_inquiry_id(i->id());
  respond.set_body("回答");
  ASSERT_TRUE(Call(&Stub::AddInquiryResponse, respond, Token(Role::kAdmin, "admin-1")).ok());

  v1::ListAuditEventsRequest req;
  req.set_customer_id(a.id());
  absl::StatusOr<v1::ListAuditEventsResponse> events = Call(&Stub::ListAuditEvents, req, staff_);
  ASSERT_TRUE(events.ok()) << events.status();
  const std::string customer = absl::StrCat("customers/", a.id());
  const std::string contact_res = absl::StrCat(customer, "/contacts/", c->id());
  const std::string inquiry_res = absl::StrCat(customer, "/inquiries/", i->id());
  const std::string m = "/anken.customer.v1.CustomerService/";
  struct Want {
    std::string method, resource, request_id, actor, role;
    absl::Time time;
  };
  const std::vector<Want> want = {
      {m + "AddInquiryResponse", inquiry_res, "audit-response", "admin-1", "admin",
       StartTime() + absl::Minutes(4)},
      {m + "CreateInquiry", inquiry_res, "audit-inquiry", "staff-1", "staff",
       StartTime() + absl::Minutes(3)},
      {m + "CreateContact", contact_res, "audit-contact", "staff-1", "staff",
       StartTime() + absl::Minutes(2)},
      {m + "UpdateCustomer", customer, "", "staff-1", "staff", StartTime() + absl::Minutes(1)},
      {m + "CreateCustomer", customer, "req-1", "staff-1", "staff", StartTime()},
  };
  ASSERT_EQ(events->events_size(), static_cast<int>(want.size())) << events->DebugString();
  for (size_t k = 0; k < want.size(); ++k) {
    SCOPED_TRACE(want[k].method);
    const auto& e = events->events(static_cast<int>(k));
    EXPECT_EQ(e.method(), want[k].method);
    // A response is its own resource below its inquiry.
    if (want[k].method == m + "AddInquiryResponse") {
      EXPECT_TRUE(absl::StartsWith(e.resource_id(), want[k].resource + "/responses/"))
          << e.resource_id();
    } else {
      EXPECT_EQ(e.resource_id(), want[k].resource);
    }
    EXPECT_EQ(e.request_id(), want[k].request_id);
    EXPECT_EQ(e.actor(), want[k].actor);
    EXPECT_EQ(e.actor_role(), want[k].role);
    EXPECT_EQ(api::FromTimestamp(e.event_time()), want[k].time);
    if (k > 0) {
      EXPECT_LT(e.id(), events->events(static_cast<int>(k - 1)).id());
    }
  }
  // The update records what changed.
  EXPECT_TRUE(absl::StrContains(events->events(3).change_json(), "監査対象(改)"))
      << events->events(3).change_json();
  EXPECT_TRUE(absl::StrContains(events->events(3).change_json(), "\"name\""));
  EXPECT_EQ(events->events(3).resource_type(), "customer");

  // Paging through the same events.
  v1::ListAuditEventsRequest paged = req;
  paged.set_page_size(2);
  std::vector<int64_t> paged_ids;
  for (int guard = 0; guard < 10; ++guard) {
    absl::StatusOr<v1::ListAuditEventsResponse> p = Call(&Stub::ListAuditEvents, paged, staff_);
    ASSERT_TRUE(p.ok()) << p.status();
    for (const auto& e : p->events()) paged_ids.push_back(e.id());
    if (p->next_page_token().empty()) break;
    paged.set_page_token(p->next_page_token());
  }
  std::vector<int64_t> all_ids;
  for (const auto& e : events->events()) all_ids.push_back(e.id());
  EXPECT_EQ(paged_ids, all_ids);

  // The other customer's history is its own: its create and its contact.
  req.set_customer_id(b.id());
  absl::StatusOr<v1::ListAuditEventsResponse> theirs = Call(&Stub::ListAuditEvents, req, staff_);
  ASSERT_TRUE(theirs.ok()) << theirs.status();
  ASSERT_EQ(theirs->events_size(), 2);
  for (const auto& e : theirs->events()) {
    EXPECT_TRUE(e.resource_id() == absl::StrCat("customers/", b.id()) ||
                absl::StartsWith(e.resource_id(), absl::StrCat("customers/", b.id(), "/")))
        << e.resource_id();
  }
}

// ---------------------------------------------------------------------------------------------
// CSV import
// ---------------------------------------------------------------------------------------------

TEST_F(CustomerServiceTest, ImportUtf8WithBomCreatesCustomersAndContacts) {
  v1::Customer existing_in = Corporation("既存顧客");
  existing_in.set_code("EXIST-1");
  const v1::Customer existing = MustCreate(existing_in);

  const std::string csv =
      "\xEF\xBB\xBF"
      "顧客コード,顧客名,フリガナ,区分,郵便番号,都道府県,取引先,担当者名\r\n"
      "IMP-001,株式会社インポート,ｲﾝﾎﾟｰﾄ,法人,1500001,東京都,1,山田太郎\r\n"
      "EXIST-1,,,,,,,佐藤花子\r\n"
      "IMP-002,\"有限会社 \"\"引用\"\"\",,法人,,大阪府,1,\r\n";
  v1::ImportCustomersRequest req;
  req.set_csv(csv);
  req.set_request_id("import-1");
  absl::StatusOr<v1::ImportCustomersResponse> r = Call(&Stub::ImportCustomers, req, staff_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->errors_size(), 0) << r->DebugString();
  EXPECT_EQ(r->customers_created(), 2);
  EXPECT_EQ(r->contacts_created(), 2);
  EXPECT_TRUE(r->written());
  EXPECT_EQ(CustomerRows(), 3);

  v1::ListCustomersRequest find;
  find.set_query("IMP-001");
  absl::StatusOr<v1::ListCustomersResponse> found = List(find);
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_EQ(found->customers_size(), 1);
  EXPECT_EQ(found->customers(0).name(), "株式会社インポート");
  EXPECT_EQ(found->customers(0).name_kana(), "インポート");
  EXPECT_EQ(found->customers(0).postal_code(), "150-0001");
  find.set_query("IMP-002");
  found = List(find);
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_EQ(found->customers_size(), 1);
  EXPECT_EQ(found->customers(0).name(), "有限会社 \"引用\"");

  v1::ListContactsRequest contacts;
  contacts.set_customer_id(existing.id());
  absl::StatusOr<v1::ListContactsResponse> listed = Call(&Stub::ListContacts, contacts, staff_);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->contacts_size(), 1);
  EXPECT_EQ(listed->contacts(0).name(), "佐藤花子");
  EXPECT_TRUE(listed->contacts(0).primary());

  // Taken codes and unknown customer codes are row errors; nothing is written.
  const std::string clash =
      "顧客コード,顧客名,担当者名\n"
      "IMP-001,重複,\n"
      "NOPE-9,,誰か\n";
  absl::StatusOr<v1::ImportCustomersResponse> clashed = Import(clash, false);
  ASSERT_TRUE(clashed.ok()) << clashed.status();
  ASSERT_EQ(clashed->errors_size(), 2) << clashed->DebugString();
  EXPECT_EQ(clashed->errors(0).row(), 2);
  EXPECT_EQ(clashed->errors(0).code(), "CODE_TAKEN");
  EXPECT_EQ(clashed->errors(1).row(), 3);
  EXPECT_EQ(clashed->errors(1).code(), "UNKNOWN_CUSTOMER_CODE");
  EXPECT_FALSE(clashed->written());
  EXPECT_EQ(CustomerRows(), 3);
  EXPECT_EQ(Count("SELECT count(*) FROM customer.contacts"), 2);

  // An unknown header makes the file unreadable.
  absl::StatusOr<v1::ImportCustomersResponse> unknown = Import("顧客名,好きな色\nA社,青\n", false);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument) << unknown.status();
  EXPECT_EQ(CustomerRows(), 3);
}

// A retry of a successful import must answer the stored first response, not re-check the
// file against the database (where its own codes are now taken).
TEST_F(CustomerServiceTest, ImportRetryWithTheSameRequestIdAnswersTheFirstResponse) {
  const std::string csv =
      "顧客コード,顧客名,担当者名\n"
      "RETRY-1,再送株式会社,再送担当\n";
  v1::ImportCustomersRequest req;
  req.set_csv(csv);
  req.set_request_id("import-retry-1");
  absl::StatusOr<v1::ImportCustomersResponse> first = Call(&Stub::ImportCustomers, req, staff_);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(first->written()) << first->DebugString();
  EXPECT_EQ(first->customers_created(), 1);
  EXPECT_EQ(first->contacts_created(), 1);

  absl::StatusOr<v1::ImportCustomersResponse> retry = Call(&Stub::ImportCustomers, req, staff_);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(MessageDifferencer::Equals(*retry, *first))
      << "retry answered: " << retry->DebugString();
  EXPECT_EQ(CustomerRows(), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM customer.contacts"), 1);

  // The same request_id with another file is still refused.
  req.set_csv("顧客名\n別の会社\n");
  EXPECT_TRUE(IsError(Call(&Stub::ImportCustomers, req, staff_).status(),
                      absl::StatusCode::kInvalidArgument, "REQUEST_ID_REUSED"));
  EXPECT_EQ(CustomerRows(), 1);
}

TEST_F(CustomerServiceTest, Cp932ImportOfAThousandRowsIsAllOrNothing) {
  MustCreate(Corporation("既存の一社"));
  constexpr int kRows = 1000;
  constexpr int kBadRow = 637;  // data row; file line kBadRow + 1
  auto make_csv = [&](bool broken) {
    // Contacts attach by code, so rows carrying a contact carry a code (csv_import.h).
    std::string csv =
        "顧客コード,顧客名,フリガナ,区分,郵便番号,都道府県,住所1,電話番号,取引先,担当者名\r\n";
    for (int i = 1; i <= kRows; ++i) {
      const std::string postal = broken && i == kBadRow ? "12345" : "1000001";
      absl::StrAppend(&csv, i % 10 == 0 ? absl::StrFormat("CP-%04d", i) : "", ",",
                      absl::StrFormat("株式会社テスト%04d", i), ",ｶﾌﾞｼｷｶﾞｲｼｬﾃｽﾄ,法人,",
                      postal, ",東京都,千代田区千代田1-", i, ",",
                      absl::StrFormat("03-1234-%04d", i), ",1,",
                      i % 10 == 0 ? absl::StrCat("担当者", i) : "", "\r\n");
    }
    return ToCp932(csv);
  };
  const std::string bad = make_csv(true);
  ASSERT_FALSE(bad.empty());
  const int64_t customers_before = CustomerRows();
  const int64_t audit_before = Count("SELECT count(*) FROM customer.audit_events");

  absl::StatusOr<v1::ImportCustomersResponse> refused = Import(bad, false);
  ASSERT_TRUE(refused.ok()) << refused.status();
  ASSERT_EQ(refused->errors_size(), 1) << refused->DebugString();
  EXPECT_EQ(refused->errors(0).row(), kBadRow + 1);
  EXPECT_EQ(refused->errors(0).column(), "郵便番号");
  EXPECT_EQ(refused->errors(0).code(), "INVALID_POSTAL_CODE");
  EXPECT_NE(refused->errors(0).message(), "");
  EXPECT_FALSE(refused->written());
  EXPECT_EQ(refused->customers_created(), 0);
  EXPECT_EQ(CustomerRows(), customers_before);
  EXPECT_EQ(Count("SELECT count(*) FROM customer.contacts"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM customer.audit_events"), audit_before);

  const std::string fixed = make_csv(false);
  absl::StatusOr<v1::ImportCustomersResponse> dry = Import(fixed, true);
  ASSERT_TRUE(dry.ok()) << dry.status();
  EXPECT_EQ(dry->errors_size(), 0) << dry->DebugString();
  EXPECT_EQ(dry->customers_created(), kRows);
  EXPECT_EQ(dry->contacts_created(), kRows / 10);
  EXPECT_FALSE(dry->written());
  EXPECT_EQ(CustomerRows(), customers_before);
  EXPECT_EQ(Count("SELECT count(*) FROM customer.contacts"), 0);

  absl::StatusOr<v1::ImportCustomersResponse> done = Import(fixed, false);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->errors_size(), 0) << done->DebugString();
  EXPECT_EQ(done->customers_created(), kRows);
  EXPECT_EQ(done->contacts_created(), kRows / 10);
  EXPECT_TRUE(done->written());
  EXPECT_EQ(CustomerRows(), customers_before + kRows);
  EXPECT_EQ(Count("SELECT count(*) FROM customer.contacts"), kRows / 10);

  // Decoded from CP932 and normalised like any other customer.
  v1::ListCustomersRequest find;
  find.set_query(absl::StrFormat("テスト%04d", kBadRow));
  absl::StatusOr<v1::ListCustomersResponse> found = List(find);
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_EQ(found->customers_size(), 1);
  const v1::Customer& c = found->customers(0);
  EXPECT_EQ(c.name(), absl::StrFormat("株式会社テスト%04d", kBadRow));
  EXPECT_EQ(c.name_kana(), "カブシキガイシャテスト");
  EXPECT_EQ(c.postal_code(), "100-0001");
  EXPECT_EQ(c.prefecture(), "東京都");
  EXPECT_EQ(c.address_line1(), absl::StrCat("千代田区千代田1-", kBadRow));
  EXPECT_EQ(c.kind(), v1::CUSTOMER_KIND_CORPORATION);
  EXPECT_TRUE(c.is_customer());

  // A row with a contact created it as the customer's (primary) contact.
  find.set_query("CP-0010");
  found = List(find);
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_EQ(found->customers_size(), 1);
  EXPECT_EQ(found->customers(0).code(), "CP-0010");
  v1::ListContactsRequest contacts;
  contacts.set_customer_id(found->customers(0).id());
  absl::StatusOr<v1::ListContactsResponse> listed = Call(&Stub::ListContacts, contacts, staff_);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->contacts_size(), 1);
  EXPECT_EQ(listed->contacts(0).name(), "担当者10");
  EXPECT_TRUE(listed->contacts(0).primary());
}

// ---------------------------------------------------------------------------------------------
// Permissions
// ---------------------------------------------------------------------------------------------

TEST_F(CustomerServiceTest, PermissionTable) {
  const v1::Customer p1 = MustCreate(Partner("加盟店その1"));
  const v1::Customer p2 = MustCreate(Partner("加盟店その2"));
  const int64_t rows = CustomerRows();
  const absl::StatusCode denied = absl::StatusCode::kPermissionDenied;

  // A partner reads its own record, and nothing else exists for it.
  const std::string partner = Token(Role::kPartner, "partner-user", absl::StrCat(p1.id()));
  absl::StatusOr<v1::Customer> own = Get(p1.id(), partner);
  ASSERT_TRUE(own.ok()) << own.status();
  EXPECT_TRUE(MessageDifferencer::Equals(*own, p1));
  EXPECT_EQ(own->partner().notification_email(), "report@partner.example.jp");
  EXPECT_EQ(Get(p2.id(), partner).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Get(kUnknownId, partner).status().code(), absl::StatusCode::kNotFound);
  v1::ListCustomersRequest list;
  EXPECT_TRUE(IsError(Call(&Stub::ListCustomers, list, partner).status(), denied,
                      "ROLE_NOT_ALLOWED"));
  v1::BatchGetCustomersRequest batch;
  batch.add_ids(p1.id());
  batch.add_ids(p2.id());
  EXPECT_TRUE(IsError(Call(&Stub::BatchGetCustomers, batch, partner).status(), denied,
                      "ROLE_NOT_ALLOWED"));
  EXPECT_TRUE(IsError(CreateAs(Corporation("不正"), NextRequestId(), partner).status(), denied,
                      "ROLE_NOT_ALLOWED"));
  v1::UpdateCustomerRequest self_update;
  self_update.mutable_customer()->set_id(p1.id());
  self_update.mutable_customer()->set_name("自称変更");
  self_update.mutable_update_mask()->add_paths("name");
  EXPECT_TRUE(IsError(Call(&Stub::UpdateCustomer, self_update, partner).status(), denied,
                      "ROLE_NOT_ALLOWED"));

  // Accounting reads but does not write.
  const std::string accounting = Token(Role::kAccounting, "accounting-1");
  EXPECT_TRUE(Get(p2.id(), accounting).ok());
  absl::StatusOr<v1::ListCustomersResponse> acc_list =
      Call(&Stub::ListCustomers, list, accounting);
  ASSERT_TRUE(acc_list.ok()) << acc_list.status();
  EXPECT_EQ(acc_list->customers_size(), 2);
  EXPECT_TRUE(Call(&Stub::BatchGetCustomers, batch, accounting).ok());
  EXPECT_TRUE(IsError(CreateAs(Corporation("経理作成"), NextRequestId(), accounting).status(),
                      denied, "ROLE_NOT_ALLOWED"));
  EXPECT_TRUE(IsError(Call(&Stub::UpdateCustomer, self_update, accounting).status(), denied,
                      "ROLE_NOT_ALLOWED"));

  // Other services read in bulk but do not write.
  const std::string service = Token(Role::kService, "billing");
  absl::StatusOr<v1::BatchGetCustomersResponse> svc_batch =
      Call(&Stub::BatchGetCustomers, batch, service);
  ASSERT_TRUE(svc_batch.ok()) << svc_batch.status();
  ASSERT_EQ(svc_batch->customers_size(), 2);
  EXPECT_EQ(svc_batch->customers(0).id(), p1.id());
  EXPECT_TRUE(IsError(CreateAs(Corporation("サービス作成"), NextRequestId(), service).status(),
                      denied, "ROLE_NOT_ALLOWED"));
  v1::DeactivateCustomerRequest deactivate;
  deactivate.set_id(p2.id());
  EXPECT_TRUE(IsError(Call(&Stub::DeactivateCustomer, deactivate, service).status(), denied,
                      "ROLE_NOT_ALLOWED"));

  // No token at all.
  EXPECT_TRUE(IsError(Get(p1.id(), "").status(), absl::StatusCode::kUnauthenticated,
                      "TOKEN_MISSING"));
  EXPECT_TRUE(IsError(CreateAs(Corporation("匿名"), NextRequestId(), "").status(),
                      absl::StatusCode::kUnauthenticated, "TOKEN_MISSING"));

  // None of the refused writes happened.
  EXPECT_EQ(CustomerRows(), rows);
  absl::StatusOr<v1::Customer> p1_now = Get(p1.id());
  ASSERT_TRUE(p1_now.ok());
  EXPECT_EQ(p1_now->name(), "加盟店その1");
  absl::StatusOr<v1::Customer> p2_now = Get(p2.id());
  ASSERT_TRUE(p2_now.ok());
  EXPECT_EQ(p2_now->lifecycle(), v1::LIFECYCLE_ACTIVE);

  // Admin writes.
  EXPECT_TRUE(CreateAs(Corporation("管理者作成"), NextRequestId(), Token(Role::kAdmin, "admin-1"))
                  .ok());
  EXPECT_EQ(CustomerRows(), rows + 1);
}

}  // namespace
}  // namespace anken::customer::testing
