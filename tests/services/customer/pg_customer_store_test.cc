// PgCustomerStore against a real Postgres: a fresh database per test, migrated with the
// service's own migrations. What the rows and audit events look like is checked through the
// store and, where the store cannot show it (row counts, idempotency keys), with plain SQL.

#include "services/customer/pg_customer_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/db/migrate.h"
#include "common/db/pool.h"
#include "common/status/errors.h"
#include "services/customer/customer_rules.h"
#include "tests/support/test_database.h"

namespace anken::customer {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

constexpr char kCreateCustomer[] = "/anken.customer.v1.CustomerService/CreateCustomer";
constexpr char kUpdateCustomer[] = "/anken.customer.v1.CustomerService/UpdateCustomer";
constexpr char kCreateContact[] = "/anken.customer.v1.CustomerService/CreateContact";
constexpr char kUpdateContact[] = "/anken.customer.v1.CustomerService/UpdateContact";
constexpr char kCreateInquiry[] = "/anken.customer.v1.CustomerService/CreateInquiry";
constexpr char kUpdateInquiry[] = "/anken.customer.v1.CustomerService/UpdateInquiry";
constexpr char kAddResponse[] = "/anken.customer.v1.CustomerService/AddInquiryResponse";
constexpr char kImport[] = "/anken.customer.v1.CustomerService/ImportCustomers";

// The encoders stand in for the handlers' protobuf serialization: enough of the row to tell
// one response from another, with the id first.
std::string EncodeCustomer(const Customer& c) {
  return absl::StrCat(c.id, "|", c.code, "|", c.name, "|v", c.version);
}
std::string EncodeContact(const Contact& c) {
  return absl::StrCat(c.id, "|", c.customer_id, "|", c.name, "|primary=", c.primary, "|v",
                      c.version);
}
std::string EncodeInquiry(const Inquiry& i) {
  return absl::StrCat(i.id, "|", i.customer_id, "|", i.subject, "|responses=", i.responses.size(),
                      "|v", i.version);
}
std::string EncodeImport(const CustomerStore::ImportResult& r) {
  return absl::StrCat(r.customers_created, "|", r.contacts_created);
}

int64_t IdOf(const std::string& bytes) {
  int64_t id = 0;
  EXPECT_TRUE(absl::SimpleAtoi(std::vector<std::string>(absl::StrSplit(bytes, '|'))[0], &id))
      << bytes;
  return id;
}

Customer NewCustomer(const std::string& name, const std::string& code = "") {
  Customer c;
  c.code = code;
  c.name = name;
  c.kind = Kind::kCorporation;
  c.lifecycle = Lifecycle::kActive;
  c.is_customer = true;
  return c;
}

class PgCustomerStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status migrated = db::Migrate(db_.url(), "customer", ANKEN_CUSTOMER_MIGRATIONS);
    ASSERT_TRUE(migrated.ok()) << migrated;
    db::PoolOptions options;
    options.url = db_.url();
    options.size = 4;
    pool_ = std::make_unique<db::Pool>(options);
    store_ = std::make_unique<PgCustomerStore>(*pool_);
  }

  // A context at the test's clock, which moves one second per write so that stamps differ.
  // The nanoseconds check that the store keeps microseconds consistently.
  WriteContext Ctx(const std::string& method, const std::string& request_id = "",
                   const std::string& request_hash = "hash") {
    now_ += absl::Seconds(1);
    WriteContext ctx;
    ctx.actor = "user-1";
    ctx.actor_role = "staff";
    ctx.method = method;
    ctx.request_id = request_id;
    ctx.request_hash = request_id.empty() ? "" : request_hash;
    ctx.now = now_;
    ctx.deadline = absl::Now() + absl::Seconds(30);
    return ctx;
  }
  absl::Time Micros(absl::Time t) { return absl::FromUnixMicros(absl::ToUnixMicros(t)); }
  absl::Time Deadline() { return absl::Now() + absl::Seconds(30); }

  int64_t CreateCustomer(Customer c) {
    absl::StatusOr<std::string> bytes =
        store_->CreateCustomer(Ctx(kCreateCustomer, NextRequestId()), std::move(c), EncodeCustomer);
    EXPECT_TRUE(bytes.ok()) << bytes.status();
    return bytes.ok() ? IdOf(*bytes) : 0;
  }
  int64_t CreateContact(int64_t customer_id, const std::string& name, bool primary = false) {
    Contact c;
    c.customer_id = customer_id;
    c.name = name;
    c.primary = primary;
    absl::StatusOr<std::string> bytes =
        store_->CreateContact(Ctx(kCreateContact, NextRequestId()), c, EncodeContact);
    EXPECT_TRUE(bytes.ok()) << bytes.status();
    return bytes.ok() ? IdOf(*bytes) : 0;
  }
  int64_t CreateInquiry(int64_t customer_id, const std::string& subject, int64_t contact_id = 0,
                        const std::string& assignee = "") {
    Inquiry i;
    i.customer_id = customer_id;
    i.contact_id = contact_id;
    i.subject = subject;
    i.channel = InquiryChannel::kMail;
    i.assignee = assignee;
    absl::StatusOr<std::string> bytes =
        store_->CreateInquiry(Ctx(kCreateInquiry, NextRequestId()), i, EncodeInquiry);
    EXPECT_TRUE(bytes.ok()) << bytes.status();
    return bytes.ok() ? IdOf(*bytes) : 0;
  }
  std::string NextRequestId() { return absl::StrCat("req-", ++request_counter_); }

  Customer Get(int64_t id) {
    absl::StatusOr<Customer> c = store_->GetCustomer(id, Deadline());
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *c : Customer();
  }
  std::vector<Contact> Contacts(int64_t customer_id) {
    absl::StatusOr<std::vector<Contact>> list = store_->ListContacts(customer_id, Deadline());
    EXPECT_TRUE(list.ok()) << list.status();
    return list.ok() ? *list : std::vector<Contact>();
  }
  std::vector<std::string> Codes(const CustomerFilter& filter, int64_t after_id = 0,
                                 int limit = 100) {
    absl::StatusOr<std::vector<Customer>> list =
        store_->ListCustomers(filter, after_id, limit, Deadline());
    EXPECT_TRUE(list.ok()) << list.status();
    std::vector<std::string> codes;
    if (list.ok()) {
      for (const Customer& c : *list) codes.push_back(c.code);
    }
    return codes;
  }

  int64_t Scalar(const std::string& sql) {
    pqxx::connection c(db_.url());
    pqxx::nontransaction tx(c);
    return tx.exec1(sql)[0].as<int64_t>();
  }
  int64_t Rows(const std::string& table) {
    return Scalar(absl::StrCat("SELECT count(*) FROM customer.", table));
  }

  testing::ScratchDatabase db_{"custstore"};
  std::unique_ptr<db::Pool> pool_;
  std::unique_ptr<PgCustomerStore> store_;
  absl::Time now_ = absl::FromUnixNanos(1767225600123456789);  // 2026-01-01, sub-microsecond
  int request_counter_ = 0;
};

// ---- customers ----

TEST_F(PgCustomerStoreTest, CreateAndGetRoundTripEveryField) {
  Customer in;
  in.code = "K-001_a";
  in.name = "山田商事株式会社";
  in.name_kana = "ヤマダショウジ";
  in.kind = Kind::kCorporation;
  in.postal_code = "100-0001";
  in.prefecture = "東京都";
  in.address_line1 = "千代田区千代田1-1";
  in.address_line2 = "皇居ビル 3F";
  in.phone = "03-1234-5678";
  in.email = "info@yamada.example";
  in.corporate_number = "7000012050002";
  in.invoice_registration_number = "T7000012050002";
  in.billing_terms = BillingTerms{20, 2, 10};
  in.lifecycle = Lifecycle::kActive;
  in.is_customer = true;
  in.is_partner = true;
  in.partner = PartnerInfo{1250, "report@yamada.example", "山田 花子", "hanako@yamada.example"};
  in.memo = "memo \"quoted\"\nsecond line";
  in.convert_time = absl::FromUnixNanos(1700000000987654321);
  in.id = 999;      // ignored: assigned by the store
  in.version = 42;  // ignored

  WriteContext ctx = Ctx(kCreateCustomer, "create-1");
  absl::StatusOr<std::string> bytes = store_->CreateCustomer(ctx, in, EncodeCustomer);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  const int64_t id = IdOf(*bytes);
  EXPECT_NE(id, 999);
  EXPECT_EQ(*bytes, absl::StrCat(id, "|K-001_a|山田商事株式会社|v1"));

  Customer got = Get(id);
  EXPECT_EQ(got.id, id);
  EXPECT_EQ(got.code, in.code);
  EXPECT_EQ(got.name, in.name);
  EXPECT_EQ(got.name_kana, in.name_kana);
  EXPECT_EQ(got.kind, in.kind);
  EXPECT_EQ(got.postal_code, in.postal_code);
  EXPECT_EQ(got.prefecture, in.prefecture);
  EXPECT_EQ(got.address_line1, in.address_line1);
  EXPECT_EQ(got.address_line2, in.address_line2);
  EXPECT_EQ(got.phone, in.phone);
  EXPECT_EQ(got.email, in.email);
  EXPECT_EQ(got.corporate_number, in.corporate_number);
  EXPECT_EQ(got.invoice_registration_number, in.invoice_registration_number);
  EXPECT_EQ(got.billing_terms, in.billing_terms);
  EXPECT_EQ(got.lifecycle, in.lifecycle);
  EXPECT_TRUE(got.is_customer);
  EXPECT_TRUE(got.is_partner);
  EXPECT_EQ(got.partner.commission_rate_bp, 1250);
  EXPECT_EQ(got.partner.notification_email, in.partner.notification_email);
  EXPECT_EQ(got.partner.report_contact_name, in.partner.report_contact_name);
  EXPECT_EQ(got.partner.report_contact_email, in.partner.report_contact_email);
  EXPECT_EQ(got.memo, in.memo);
  ASSERT_TRUE(got.convert_time.has_value());
  EXPECT_EQ(*got.convert_time, absl::FromUnixMicros(1700000000987654));
  EXPECT_EQ(got.version, 1);
  EXPECT_EQ(got.stamp.create_time, Micros(ctx.now));
  EXPECT_EQ(got.stamp.update_time, Micros(ctx.now));
  EXPECT_EQ(got.stamp.created_by, "user-1");
  EXPECT_EQ(got.stamp.updated_by, "user-1");

  // A lead without a convert time, with defaults elsewhere.
  Customer lead = NewCustomer("見込 太郎");
  lead.kind = Kind::kIndividual;
  lead.lifecycle = Lifecycle::kLead;
  Customer got_lead = Get(CreateCustomer(lead));
  EXPECT_EQ(got_lead.lifecycle, Lifecycle::kLead);
  EXPECT_EQ(got_lead.kind, Kind::kIndividual);
  EXPECT_FALSE(got_lead.convert_time.has_value());
  EXPECT_FALSE(got_lead.is_partner);
  EXPECT_EQ(got_lead.billing_terms, BillingTerms());
}

TEST_F(PgCustomerStoreTest, GetUnknownIsNotFound) {
  EXPECT_EQ(store_->GetCustomer(12345, Deadline()).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PgCustomerStoreTest, GetCustomersReturnsThoseThatExist) {
  const int64_t a = CreateCustomer(NewCustomer("A"));
  const int64_t b = CreateCustomer(NewCustomer("B"));
  CreateCustomer(NewCustomer("C"));
  absl::StatusOr<std::vector<Customer>> got = store_->GetCustomers({b, 9999, a, b}, Deadline());
  ASSERT_TRUE(got.ok()) << got.status();
  std::vector<std::string> names;
  for (const Customer& c : *got) names.push_back(c.name);
  EXPECT_THAT(names, UnorderedElementsAre("A", "B"));
  absl::StatusOr<std::vector<Customer>> none = store_->GetCustomers({}, Deadline());
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(PgCustomerStoreTest, GeneratedCodesSkipOnesTakenByHand) {
  EXPECT_EQ(Get(CreateCustomer(NewCustomer("one"))).code, "C000001");
  EXPECT_EQ(Get(CreateCustomer(NewCustomer("two"))).code, "C000002");
  EXPECT_EQ(Get(CreateCustomer(NewCustomer("by hand", "C000003"))).code, "C000003");
  EXPECT_EQ(Get(CreateCustomer(NewCustomer("three"))).code, "C000004");
  EXPECT_EQ(Rows("customers"), 4);
}

TEST_F(PgCustomerStoreTest, TakenCodeIsAlreadyExistsAndWritesNothing) {
  CreateCustomer(NewCustomer("first", "ABC"));
  absl::StatusOr<std::string> second = store_->CreateCustomer(
      Ctx(kCreateCustomer, "other-request"), NewCustomer("second", "ABC"), EncodeCustomer);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(second.status().message(), HasSubstr("ABC"));
  EXPECT_EQ(ErrorReason(second.status()), "CUSTOMER_CODE_TAKEN");
  EXPECT_EQ(Rows("customers"), 1);
  EXPECT_EQ(Rows("audit_events"), 1);
  // The failed call left no idempotency key: a retry runs again (and fails again).
  EXPECT_EQ(Scalar("SELECT count(*) FROM customer.idempotency_keys "
                   "WHERE request_id = 'other-request'"),
            0);
}

TEST_F(PgCustomerStoreTest, ReplayReturnsTheFirstResponseBytesAndWritesOnce) {
  int encodes = 0;
  Encoder<Customer> counting = [&](const Customer& c) {
    ++encodes;
    return EncodeCustomer(c);
  };
  absl::StatusOr<std::string> first = store_->CreateCustomer(
      Ctx(kCreateCustomer, "same-id", "hash-a"), NewCustomer("Acme"), counting);
  ASSERT_TRUE(first.ok()) << first.status();
  const int64_t id = IdOf(*first);

  // The customer changes afterwards; a replay still answers what the first call answered.
  ASSERT_TRUE(store_
                  ->UpdateCustomer(Ctx(kUpdateCustomer), id,
                                   [](Customer& c) {
                                     c.name = "Acme Renamed";
                                     return absl::OkStatus();
                                   })
                  .ok());
  absl::StatusOr<std::string> replay = store_->CreateCustomer(
      Ctx(kCreateCustomer, "same-id", "hash-a"), NewCustomer("Acme"), counting);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(*replay, *first);
  EXPECT_EQ(encodes, 1);
  EXPECT_EQ(Rows("customers"), 1);
  EXPECT_EQ(Scalar("SELECT count(*) FROM customer.audit_events WHERE method = "
                   "'/anken.customer.v1.CustomerService/CreateCustomer'"),
            1);
}

TEST_F(PgCustomerStoreTest, SameRequestIdWithAnotherRequestIsInvalidArgument) {
  ASSERT_TRUE(
      store_
          ->CreateCustomer(Ctx(kCreateCustomer, "rid", "hash-a"), NewCustomer("A"), EncodeCustomer)
          .ok());
  absl::StatusOr<std::string> reused = store_->CreateCustomer(Ctx(kCreateCustomer, "rid", "hash-b"),
                                                              NewCustomer("B"), EncodeCustomer);
  EXPECT_EQ(reused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorReason(reused.status()), "REQUEST_ID_REUSED");
  EXPECT_EQ(Rows("customers"), 1);
}

TEST_F(PgCustomerStoreTest, UpdateSavesTheMutationAsTheNextVersionWithAnAuditEvent) {
  const int64_t id = CreateCustomer(NewCustomer("Before"));
  const Customer before = Get(id);
  WriteContext ctx = Ctx(kUpdateCustomer);
  ctx.actor = "user-2";
  absl::StatusOr<Customer> updated = store_->UpdateCustomer(ctx, id, [](Customer& c) {
    c.name = "After";
    c.lifecycle = Lifecycle::kInactive;
    c.id = 777;       // not the mutator's to change
    c.version = 100;  // nor this
    return absl::OkStatus();
  });
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->id, id);
  EXPECT_EQ(updated->version, 2);
  EXPECT_EQ(updated->stamp.update_time, Micros(ctx.now));
  EXPECT_EQ(updated->stamp.updated_by, "user-2");
  EXPECT_EQ(updated->stamp.create_time, before.stamp.create_time);
  EXPECT_EQ(updated->stamp.created_by, "user-1");

  const Customer got = Get(id);
  EXPECT_EQ(got.name, "After");
  EXPECT_EQ(got.lifecycle, Lifecycle::kInactive);
  EXPECT_EQ(got.version, 2);
  EXPECT_EQ(got.stamp.update_time, Micros(ctx.now));

  absl::StatusOr<std::vector<AuditEntry>> events = store_->ListAuditEvents(id, 0, 10, Deadline());
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 2u);
  const AuditEntry& e = events->front();  // newest first
  EXPECT_EQ(e.resource_type, "customer");
  EXPECT_EQ(e.resource_id, absl::StrCat("customers/", id));
  EXPECT_EQ(e.method, kUpdateCustomer);
  EXPECT_EQ(e.actor, "user-2");
  EXPECT_EQ(e.actor_role, "staff");
  EXPECT_EQ(e.event_time, Micros(ctx.now));
  EXPECT_THAT(e.change_json, HasSubstr("\"name\""));
  EXPECT_THAT(e.change_json, HasSubstr("After"));
  EXPECT_THAT(e.change_json, ::testing::Not(HasSubstr("memo")));
}

TEST_F(PgCustomerStoreTest, UpdateWhoseMutatorRefusesWritesNothing) {
  const int64_t id = CreateCustomer(NewCustomer("Kept"));
  absl::StatusOr<Customer> refused =
      store_->UpdateCustomer(Ctx(kUpdateCustomer), id, [](Customer& c) {
        c.name = "Changed";  // then refused: the change must not be saved
        return absl::AbortedError("stale etag");
      });
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(refused.status().message(), "stale etag");
  const Customer got = Get(id);
  EXPECT_EQ(got.name, "Kept");
  EXPECT_EQ(got.version, 1);
  EXPECT_EQ(Rows("audit_events"), 1);
}

TEST_F(PgCustomerStoreTest, UpdateThatChangesNothingWritesNothing) {
  const int64_t id = CreateCustomer(NewCustomer("Same"));
  const Customer before = Get(id);
  absl::StatusOr<Customer> same = store_->UpdateCustomer(
      Ctx(kUpdateCustomer), id, [](Customer& c) { return absl::OkStatus(); });
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ(same->version, 1);
  EXPECT_EQ(same->stamp.update_time, before.stamp.update_time);
  EXPECT_EQ(Get(id).version, 1);
  EXPECT_EQ(Rows("audit_events"), 1);
}

TEST_F(PgCustomerStoreTest, UpdateToATakenCodeIsAlreadyExistsAndUnknownIsNotFound) {
  CreateCustomer(NewCustomer("A", "TAKEN"));
  const int64_t b = CreateCustomer(NewCustomer("B", "FREE"));
  absl::StatusOr<Customer> taken = store_->UpdateCustomer(Ctx(kUpdateCustomer), b, [](Customer& c) {
    c.code = "TAKEN";
    return absl::OkStatus();
  });
  EXPECT_EQ(taken.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Get(b).code, "FREE");

  int calls = 0;
  absl::StatusOr<Customer> missing =
      store_->UpdateCustomer(Ctx(kUpdateCustomer), 4242, [&](Customer& c) {
        ++calls;
        return absl::OkStatus();
      });
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(calls, 0);
}

TEST_F(PgCustomerStoreTest, SchemaRefusesRowsThatBreakTheRules) {
  // The handlers validate first; the CHECK constraints stop a handler bug from storing such
  // a row. Postgres reports them as FAILED_PRECONDITION (pg_status.h).
  Customer no_role = NewCustomer("nobody");
  no_role.is_customer = false;
  no_role.is_partner = false;
  EXPECT_EQ(store_->CreateCustomer(Ctx(kCreateCustomer), no_role, EncodeCustomer).status().code(),
            absl::StatusCode::kFailedPrecondition);
  Customer partner_without_email = NewCustomer("partner");
  partner_without_email.is_partner = true;
  EXPECT_EQ(store_->CreateCustomer(Ctx(kCreateCustomer), partner_without_email, EncodeCustomer)
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Rows("customers"), 0);
}

TEST_F(PgCustomerStoreTest, PassedDeadlineWritesNothing) {
  WriteContext ctx = Ctx(kCreateCustomer);
  ctx.deadline = absl::Now() - absl::Seconds(1);
  EXPECT_EQ(store_->CreateCustomer(ctx, NewCustomer("late"), EncodeCustomer).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(Rows("customers"), 0);
}

// ---- listing ----

TEST_F(PgCustomerStoreTest, ListFiltersByRoleLifecyclePrefectureUpdateTimeAndSearch) {
  Customer tokyo = NewCustomer("山田商事", "T1");
  tokyo.name_kana = "ヤマダショウジ";
  tokyo.prefecture = "東京都";
  tokyo.phone = "03-1111-2222";
  CreateCustomer(tokyo);

  Customer osaka_partner = NewCustomer("大阪工務店", "O1");
  osaka_partner.name_kana = "オオサカコウムテン";
  osaka_partner.prefecture = "大阪府";
  osaka_partner.is_customer = false;
  osaka_partner.is_partner = true;
  osaka_partner.partner.notification_email = "p@osaka.example";
  CreateCustomer(osaka_partner);

  Customer lead = NewCustomer("やまだ屋", "L1");
  lead.name_kana = "ヤマダヤ";
  lead.prefecture = "東京都";
  lead.lifecycle = Lifecycle::kLead;
  const int64_t lead_id = CreateCustomer(lead);

  Customer both = NewCustomer("Both Roles", "B1");
  both.is_partner = true;
  both.partner.notification_email = "b@both.example";
  both.lifecycle = Lifecycle::kInactive;
  CreateCustomer(both);

  CustomerFilter any;
  EXPECT_THAT(Codes(any), ElementsAre("T1", "O1", "L1", "B1"));

  CustomerFilter partners;
  partners.partner_role = true;
  EXPECT_THAT(Codes(partners), ElementsAre("O1", "B1"));
  CustomerFilter customers;
  customers.partner_role = false;
  EXPECT_THAT(Codes(customers), ElementsAre("T1", "L1", "B1"));

  CustomerFilter lifecycles;
  lifecycles.lifecycles = {Lifecycle::kLead, Lifecycle::kInactive};
  EXPECT_THAT(Codes(lifecycles), ElementsAre("L1", "B1"));

  CustomerFilter in_tokyo;
  in_tokyo.prefecture = "東京都";
  EXPECT_THAT(Codes(in_tokyo), ElementsAre("T1", "L1"));

  // Touch the lead later than everything else.
  ASSERT_TRUE(store_
                  ->UpdateCustomer(Ctx(kUpdateCustomer), lead_id,
                                   [](Customer& c) {
                                     c.memo = "called back";
                                     return absl::OkStatus();
                                   })
                  .ok());
  CustomerFilter recent;
  recent.updated_since = Get(lead_id).stamp.update_time;  // inclusive
  EXPECT_THAT(Codes(recent), ElementsAre("L1"));
  recent.updated_since = Get(lead_id).stamp.update_time + absl::Microseconds(1);
  EXPECT_THAT(Codes(recent), ElementsAre());

  // Half-width kana finds full-width kana; hiragana in the name matches katakana too.
  CustomerFilter kana;
  kana.query_key = SearchKey("ﾔﾏﾀﾞ");
  EXPECT_THAT(Codes(kana), ElementsAre("T1", "L1"));
  // Phone without hyphens; code in another case; nothing across two fields.
  CustomerFilter phone;
  phone.query_key = SearchKey("0311112222");
  EXPECT_THAT(Codes(phone), ElementsAre("T1"));
  CustomerFilter code;
  code.query_key = SearchKey("o1");
  EXPECT_THAT(Codes(code), ElementsAre("O1"));
  CustomerFilter across;
  across.query_key = SearchKey("T1山田");
  EXPECT_THAT(Codes(across), ElementsAre());

  // Filters combine.
  CustomerFilter combined;
  combined.prefecture = "東京都";
  combined.lifecycles = {Lifecycle::kActive};
  combined.query_key = SearchKey("ヤマダ");
  EXPECT_THAT(Codes(combined), ElementsAre("T1"));
}

TEST_F(PgCustomerStoreTest, SearchKeyFollowsUpdates) {
  Customer c = NewCustomer("旧名", "S1");
  c.name_kana = "キュウメイ";
  const int64_t id = CreateCustomer(c);
  ASSERT_TRUE(store_
                  ->UpdateCustomer(Ctx(kUpdateCustomer), id,
                                   [](Customer& c) {
                                     c.name_kana = "シンメイ";
                                     return absl::OkStatus();
                                   })
                  .ok());
  CustomerFilter old_name;
  old_name.query_key = SearchKey("ｷｭｳﾒｲ");
  EXPECT_THAT(Codes(old_name), ElementsAre());
  CustomerFilter new_name;
  new_name.query_key = SearchKey("ｼﾝﾒｲ");
  EXPECT_THAT(Codes(new_name), ElementsAre("S1"));
}

TEST_F(PgCustomerStoreTest, KeysetPagingVisitsEveryMatchOnce) {
  for (int i = 0; i < 25; ++i) {
    Customer c = NewCustomer(absl::StrCat("n", i));
    c.prefecture = i % 2 == 0 ? "北海道" : "沖縄県";
    CreateCustomer(c);
  }
  CustomerFilter hokkaido;
  hokkaido.prefecture = "北海道";
  std::vector<int64_t> seen;
  int64_t after = 0;
  int pages = 0;
  while (true) {
    absl::StatusOr<std::vector<Customer>> page =
        store_->ListCustomers(hokkaido, after, 5, Deadline());
    ASSERT_TRUE(page.ok()) << page.status();
    ASSERT_LE(page->size(), 5u);
    if (page->empty()) break;
    ++pages;
    for (const Customer& c : *page) {
      EXPECT_EQ(c.prefecture, "北海道");
      EXPECT_GT(c.id, after);
      seen.push_back(c.id);
    }
    after = page->back().id;
  }
  EXPECT_EQ(pages, 3);  // 13 matches: 5 + 5 + 3
  EXPECT_EQ(seen.size(), 13u);
  EXPECT_EQ(std::set<int64_t>(seen.begin(), seen.end()).size(), 13u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
}

// ---- contacts ----

TEST_F(PgCustomerStoreTest, ContactPrimaryFlagRules) {
  const int64_t customer = CreateCustomer(NewCustomer("C"));
  const int64_t first = CreateContact(customer, "first", /*primary=*/false);
  const int64_t second = CreateContact(customer, "second");
  EXPECT_THAT(Contacts(customer), ::testing::Truly([&](const std::vector<Contact>& list) {
                return list.size() == 2 && list[0].id == first && list[0].primary &&
                       list[1].id == second && !list[1].primary;
              }));

  // A new primary takes the flag; the old one is saved as its next version.
  const int64_t third = CreateContact(customer, "third", /*primary=*/true);
  std::vector<Contact> list = Contacts(customer);
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].id, third);  // primary first, then by id
  EXPECT_TRUE(list[0].primary);
  EXPECT_EQ(list[1].id, first);
  EXPECT_FALSE(list[1].primary);
  EXPECT_EQ(list[1].version, 2);
  EXPECT_EQ(list[2].id, second);

  // Unsetting the primary's flag is refused and changes nothing.
  absl::StatusOr<Contact> unset = store_->UpdateContact(Ctx(kUpdateContact), third, [](Contact& c) {
    c.primary = false;
    c.name = "renamed";
    return absl::OkStatus();
  });
  EXPECT_EQ(unset.status().code(), absl::StatusCode::kFailedPrecondition);
  list = Contacts(customer);
  EXPECT_EQ(list[0].id, third);
  EXPECT_EQ(list[0].name, "third");
  EXPECT_EQ(list[0].version, 1);

  // Making another contact primary moves the flag.
  absl::StatusOr<Contact> moved =
      store_->UpdateContact(Ctx(kUpdateContact), second, [](Contact& c) {
        c.primary = true;
        c.customer_id = 999;  // immutable: ignored
        return absl::OkStatus();
      });
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_TRUE(moved->primary);
  EXPECT_EQ(moved->customer_id, customer);
  EXPECT_EQ(moved->version, 2);
  list = Contacts(customer);
  EXPECT_EQ(list[0].id, second);
  EXPECT_TRUE(list[0].primary);
  EXPECT_FALSE(list[1].primary);
  EXPECT_FALSE(list[2].primary);
  EXPECT_EQ(Scalar(absl::StrCat("SELECT count(*) FROM customer.contacts WHERE is_primary AND "
                                "customer_id = ",
                                customer)),
            1);

  // Every change above is audited on the contacts: 3 creations, 1 flag taken from `first`, 1
  // from `third`, and the update of `second`.
  EXPECT_EQ(Scalar("SELECT count(*) FROM customer.audit_events WHERE resource_type = 'contact'"),
            6);
}

TEST_F(PgCustomerStoreTest, ContactUpdateAndErrors) {
  const int64_t customer = CreateCustomer(NewCustomer("C"));
  Contact c;
  c.customer_id = 4242;
  c.name = "orphan";
  EXPECT_EQ(store_->CreateContact(Ctx(kCreateContact), c, EncodeContact).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->ListContacts(4242, Deadline()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(
      store_->UpdateContact(Ctx(kUpdateContact), 4242, [](Contact&) { return absl::OkStatus(); })
          .status()
          .code(),
      absl::StatusCode::kNotFound);

  const int64_t id = CreateContact(customer, "佐藤");
  WriteContext ctx = Ctx(kUpdateContact);
  absl::StatusOr<Contact> updated = store_->UpdateContact(ctx, id, [](Contact& c) {
    c.department = "経理部";
    c.title = "部長";
    c.email = "sato@example.jp";
    c.phone = "090-0000-0000";
    c.name_kana = "サトウ";
    return absl::OkStatus();
  });
  ASSERT_TRUE(updated.ok()) << updated.status();
  const Contact got = Contacts(customer)[0];
  EXPECT_EQ(got.department, "経理部");
  EXPECT_EQ(got.title, "部長");
  EXPECT_EQ(got.email, "sato@example.jp");
  EXPECT_EQ(got.phone, "090-0000-0000");
  EXPECT_EQ(got.name_kana, "サトウ");
  EXPECT_EQ(got.version, 2);
  EXPECT_EQ(got.stamp.update_time, Micros(ctx.now));
  EXPECT_TRUE(got.primary);
}

TEST_F(PgCustomerStoreTest, ConcurrentContactCreatesLeaveExactlyOnePrimary) {
  const int64_t customer = CreateCustomer(NewCustomer("busy"));
  std::vector<WriteContext> contexts;
  for (int i = 0; i < 8; ++i) contexts.push_back(Ctx(kCreateContact, NextRequestId()));
  std::vector<std::thread> threads;
  std::vector<absl::Status> results(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      Contact c;
      c.customer_id = customer;
      c.name = absl::StrCat("c", i);
      c.primary = i % 2 == 0;
      results[i] = store_->CreateContact(contexts[i], c, EncodeContact).status();
    });
  }
  for (std::thread& t : threads) t.join();
  for (const absl::Status& s : results) EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(Rows("contacts"), 8);
  EXPECT_EQ(Scalar("SELECT count(*) FROM customer.contacts WHERE is_primary"), 1);
}

// ---- inquiries ----

TEST_F(PgCustomerStoreTest, InquiryContactMustBelongToItsCustomer) {
  const int64_t mine = CreateCustomer(NewCustomer("mine"));
  const int64_t other = CreateCustomer(NewCustomer("other"));
  const int64_t my_contact = CreateContact(mine, "me");
  const int64_t other_contact = CreateContact(other, "them");

  Inquiry wrong;
  wrong.customer_id = mine;
  wrong.contact_id = other_contact;
  wrong.subject = "question";
  absl::StatusOr<std::string> refused =
      store_->CreateInquiry(Ctx(kCreateInquiry, "inq-1"), wrong, EncodeInquiry);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_EQ(FieldViolations(refused.status()).size(), 1u);
  EXPECT_EQ(FieldViolations(refused.status())[0].field, "inquiry.contact_id");
  EXPECT_EQ(Rows("inquiries"), 0);

  Inquiry no_customer;
  no_customer.customer_id = 4242;
  no_customer.subject = "question";
  EXPECT_EQ(store_->CreateInquiry(Ctx(kCreateInquiry), no_customer, EncodeInquiry).status().code(),
            absl::StatusCode::kNotFound);

  const int64_t id = CreateInquiry(mine, "question", my_contact);
  absl::StatusOr<Inquiry> got = store_->GetInquiry(id, Deadline());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->contact_id, my_contact);

  absl::StatusOr<Inquiry> moved = store_->UpdateInquiry(Ctx(kUpdateInquiry), id, [&](Inquiry& i) {
    i.contact_id = other_contact;
    return absl::OkStatus();
  });
  EXPECT_EQ(moved.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->GetInquiry(id, Deadline())->contact_id, my_contact);

  absl::StatusOr<Inquiry> cleared = store_->UpdateInquiry(Ctx(kUpdateInquiry), id, [](Inquiry& i) {
    i.contact_id = 0;
    return absl::OkStatus();
  });
  ASSERT_TRUE(cleared.ok()) << cleared.status();
  EXPECT_EQ(store_->GetInquiry(id, Deadline())->contact_id, 0);
}

TEST_F(PgCustomerStoreTest, InquiryCreateAndUpdateRoundTrip) {
  const int64_t customer = CreateCustomer(NewCustomer("c"));
  Inquiry in;
  in.customer_id = customer;
  in.channel = InquiryChannel::kVisit;
  in.subject = "見積依頼";
  in.body = "詳細は後日";
  in.assignee = "staff-7";
  in.responses.push_back(InquiryResponse{1, "x", now_, "ignored"});
  WriteContext ctx = Ctx(kCreateInquiry, "inq");
  absl::StatusOr<std::string> bytes = store_->CreateInquiry(ctx, in, EncodeInquiry);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  const int64_t id = IdOf(*bytes);
  absl::StatusOr<Inquiry> got = store_->GetInquiry(id, Deadline());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->customer_id, customer);
  EXPECT_EQ(got->channel, InquiryChannel::kVisit);
  EXPECT_EQ(got->subject, "見積依頼");
  EXPECT_EQ(got->body, "詳細は後日");
  EXPECT_EQ(got->status, InquiryStatus::kOpen);
  EXPECT_EQ(got->assignee, "staff-7");
  EXPECT_TRUE(got->responses.empty());
  EXPECT_EQ(got->version, 1);
  EXPECT_EQ(got->stamp.create_time, Micros(ctx.now));

  absl::StatusOr<Inquiry> updated = store_->UpdateInquiry(Ctx(kUpdateInquiry), id, [](Inquiry& i) {
    i.status = InquiryStatus::kInProgress;
    i.subject = "見積依頼(至急)";
    return absl::OkStatus();
  });
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->version, 2);
  got = store_->GetInquiry(id, Deadline());
  EXPECT_EQ(got->status, InquiryStatus::kInProgress);
  EXPECT_EQ(got->subject, "見積依頼(至急)");
  EXPECT_EQ(got->version, 2);

  EXPECT_EQ(store_->GetInquiry(4242, Deadline()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(
      store_->UpdateInquiry(Ctx(kUpdateInquiry), 4242, [](Inquiry&) { return absl::OkStatus(); })
          .status()
          .code(),
      absl::StatusCode::kNotFound);
}

TEST_F(PgCustomerStoreTest, ResponsesAreAppendedInOrderAndOncePerRequest) {
  const int64_t customer = CreateCustomer(NewCustomer("c"));
  const int64_t id = CreateInquiry(customer, "subject");
  std::vector<absl::Time> times;
  std::string last;
  for (const char* body : {"電話で回答", "資料を送付", "解決"}) {
    WriteContext ctx = Ctx(kAddResponse, absl::StrCat("resp-", times.size()));
    ctx.actor = absl::StrCat("responder-", times.size());
    times.push_back(Micros(ctx.now));
    absl::StatusOr<std::string> bytes = store_->AddInquiryResponse(ctx, id, body, EncodeInquiry);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    last = *bytes;
  }
  EXPECT_EQ(last, absl::StrCat(id, "|", customer, "|subject|responses=3|v4"));

  absl::StatusOr<Inquiry> got = store_->GetInquiry(id, Deadline());
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->responses.size(), 3u);
  EXPECT_EQ(got->responses[0].body, "電話で回答");
  EXPECT_EQ(got->responses[1].body, "資料を送付");
  EXPECT_EQ(got->responses[2].body, "解決");
  for (size_t k = 0; k < 3; ++k) {
    EXPECT_EQ(got->responses[k].responder, absl::StrCat("responder-", k));
    EXPECT_EQ(got->responses[k].response_time, times[k]);
  }
  EXPECT_LT(got->responses[0].id, got->responses[1].id);
  EXPECT_EQ(got->version, 4);
  EXPECT_EQ(got->stamp.update_time, times[2]);

  // A replay of the last one answers the same and appends nothing.
  WriteContext replay = Ctx(kAddResponse, "resp-2");
  absl::StatusOr<std::string> again = store_->AddInquiryResponse(replay, id, "解決", EncodeInquiry);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, last);
  EXPECT_EQ(Rows("inquiry_responses"), 3);

  EXPECT_EQ(store_->AddInquiryResponse(Ctx(kAddResponse), 4242, "x", EncodeInquiry).status().code(),
            absl::StatusCode::kNotFound);

  // The history cannot be rewritten, not even with SQL.
  pqxx::connection c(db_.url());
  pqxx::work tx(c);
  EXPECT_THROW(tx.exec0("UPDATE customer.inquiry_responses SET body = 'rewritten'"),
               pqxx::sql_error);
}

TEST_F(PgCustomerStoreTest, ListInquiriesNewestFirstWithFiltersAndPaging) {
  const int64_t a = CreateCustomer(NewCustomer("a"));
  const int64_t b = CreateCustomer(NewCustomer("b"));
  const int64_t a1 = CreateInquiry(a, "a1", 0, "alice");
  const int64_t b1 = CreateInquiry(b, "b1", 0, "bob");
  const int64_t a2 = CreateInquiry(a, "a2", 0, "bob");
  const int64_t a3 = CreateInquiry(a, "a3");
  ASSERT_TRUE(store_
                  ->UpdateInquiry(Ctx(kUpdateInquiry), a2,
                                  [](Inquiry& i) {
                                    i.status = InquiryStatus::kResolved;
                                    return absl::OkStatus();
                                  })
                  .ok());
  ASSERT_TRUE(store_->AddInquiryResponse(Ctx(kAddResponse), a1, "r", EncodeInquiry).ok());

  auto ids = [&](const InquiryFilter& f, int64_t before = 0, int limit = 100) {
    absl::StatusOr<std::vector<Inquiry>> list = store_->ListInquiries(f, before, limit, Deadline());
    EXPECT_TRUE(list.ok()) << list.status();
    std::vector<int64_t> out;
    if (list.ok()) {
      for (const Inquiry& i : *list) out.push_back(i.id);
    }
    return out;
  };
  EXPECT_THAT(ids({}), ElementsAre(a3, a2, b1, a1));
  EXPECT_THAT(ids({}, 0, 2), ElementsAre(a3, a2));
  EXPECT_THAT(ids({}, a2, 2), ElementsAre(b1, a1));
  EXPECT_THAT(ids({a, {}, ""}), ElementsAre(a3, a2, a1));
  EXPECT_THAT(ids({0, {InquiryStatus::kResolved, InquiryStatus::kClosed}, ""}), ElementsAre(a2));
  EXPECT_THAT(ids({0, {}, "bob"}), ElementsAre(a2, b1));
  EXPECT_THAT(ids({a, {InquiryStatus::kOpen}, "alice"}), ElementsAre(a1));

  absl::StatusOr<std::vector<Inquiry>> with_responses =
      store_->ListInquiries({a, {}, "alice"}, 0, 10, Deadline());
  ASSERT_TRUE(with_responses.ok());
  ASSERT_EQ(with_responses->size(), 1u);
  ASSERT_EQ((*with_responses)[0].responses.size(), 1u);
  EXPECT_EQ((*with_responses)[0].responses[0].body, "r");
}

// ---- audit ----

TEST_F(PgCustomerStoreTest, AuditEventsOfACustomerIncludeItsContactsAndInquiriesOnly) {
  const int64_t a = CreateCustomer(NewCustomer("a"));
  // Customers 2..10, so that "customers/10" shares the prefix "customers/1" with a's id.
  int64_t ten = 0;
  for (int i = 0; i < 9; ++i) ten = CreateCustomer(NewCustomer(absl::StrCat("x", i)));
  ASSERT_EQ(a, 1);
  ASSERT_EQ(ten, 10);
  CreateContact(ten, "not a's");
  CreateInquiry(ten, "not a's");

  const int64_t contact = CreateContact(a, "contact");
  const int64_t inquiry = CreateInquiry(a, "inquiry", contact);
  ASSERT_TRUE(
      store_->AddInquiryResponse(Ctx(kAddResponse), inquiry, "answered", EncodeInquiry).ok());
  ASSERT_TRUE(store_
                  ->UpdateCustomer(Ctx(kUpdateCustomer), a,
                                   [](Customer& c) {
                                     c.memo = "m";
                                     return absl::OkStatus();
                                   })
                  .ok());

  absl::StatusOr<std::vector<AuditEntry>> events = store_->ListAuditEvents(a, 0, 100, Deadline());
  ASSERT_TRUE(events.ok()) << events.status();
  std::vector<std::string> resources;
  std::vector<std::string> types;
  for (const AuditEntry& e : *events) {
    resources.push_back(e.resource_id);
    types.push_back(e.resource_type);
  }
  const std::string c = absl::StrCat("customers/", a, "/contacts/", contact);
  const std::string i = absl::StrCat("customers/", a, "/inquiries/", inquiry);
  ASSERT_EQ(resources.size(), 5u);
  EXPECT_EQ(resources[0], "customers/1");  // the update, newest first
  EXPECT_THAT(resources[1], ::testing::StartsWith(i + "/responses/"));
  EXPECT_EQ(resources[2], i);
  EXPECT_EQ(resources[3], c);
  EXPECT_EQ(resources[4], "customers/1");  // the creation
  EXPECT_THAT(types, ElementsAre("customer", "inquiry_response", "inquiry", "contact", "customer"));
  for (size_t k = 1; k < events->size(); ++k) EXPECT_GT((*events)[k - 1].id, (*events)[k].id);
  EXPECT_EQ((*events)[4].method, kCreateCustomer);
  EXPECT_FALSE((*events)[4].request_id.empty());
  EXPECT_EQ((*events)[0].request_id, "");  // the update had none
  EXPECT_THAT((*events)[1].change_json, HasSubstr("answered"));

  // Paging: before the third newest.
  absl::StatusOr<std::vector<AuditEntry>> older =
      store_->ListAuditEvents(a, (*events)[2].id, 1, Deadline());
  ASSERT_TRUE(older.ok());
  ASSERT_EQ(older->size(), 1u);
  EXPECT_EQ((*older)[0].resource_id, c);

  // Customer 10 sees its own three events, none of customer 1's.
  absl::StatusOr<std::vector<AuditEntry>> tens = store_->ListAuditEvents(ten, 0, 100, Deadline());
  ASSERT_TRUE(tens.ok());
  EXPECT_EQ(tens->size(), 3u);
  for (const AuditEntry& e : *tens)
    EXPECT_THAT(e.resource_id, ::testing::StartsWith("customers/10"));

  EXPECT_EQ(store_->ListAuditEvents(4242, 0, 10, Deadline()).status().code(),
            absl::StatusCode::kNotFound);
}

// ---- import ----

TEST_F(PgCustomerStoreTest, ImportCreatesCustomersThenContactsOnce) {
  const int64_t existing = CreateCustomer(NewCustomer("existing", "E1"));
  // The generated code skips C000001, which a later row of the file names.
  std::vector<Customer> customers = {NewCustomer("new one", "N1"), NewCustomer("generated"),
                                     NewCustomer("named", "C000001")};
  Contact c1;
  c1.name = "new one's contact";
  Contact c2;
  c2.name = "existing's contact";
  Contact c3;
  c3.name = "new one's second";
  c3.primary = true;
  std::vector<ContactImport> contacts = {{"N1", c1}, {"E1", c2}, {"N1", c3}};

  const int64_t audit_before = Rows("audit_events");
  absl::StatusOr<std::string> bytes =
      store_->ImportCustomers(Ctx(kImport, "import-1"), customers, contacts, EncodeImport);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(*bytes, "3|3");
  EXPECT_EQ(Rows("customers"), 4);
  EXPECT_EQ(Rows("contacts"), 3);
  EXPECT_EQ(Rows("audit_events"), audit_before + 3 + 3 + 1);  // + the flag moving in N1

  absl::StatusOr<std::vector<std::string>> codes =
      store_->ExistingCodes({"N1", "C000001", "C000002", "E1", "ZZ"}, Deadline());
  ASSERT_TRUE(codes.ok()) << codes.status();
  EXPECT_THAT(*codes, UnorderedElementsAre("N1", "C000001", "C000002", "E1"));
  CustomerFilter generated;
  generated.query_key = SearchKey("C000002");
  absl::StatusOr<std::vector<Customer>> gen = store_->ListCustomers(generated, 0, 10, Deadline());
  ASSERT_TRUE(gen.ok());
  ASSERT_EQ(gen->size(), 1u);
  EXPECT_EQ((*gen)[0].name, "generated");

  const std::vector<Contact> of_existing = Contacts(existing);
  ASSERT_EQ(of_existing.size(), 1u);
  EXPECT_TRUE(of_existing[0].primary);
  CustomerFilter n1;
  n1.query_key = SearchKey("N1");
  absl::StatusOr<std::vector<Customer>> found = store_->ListCustomers(n1, 0, 10, Deadline());
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 1u);
  const std::vector<Contact> of_new = Contacts((*found)[0].id);
  ASSERT_EQ(of_new.size(), 2u);
  EXPECT_EQ(of_new[0].name, "new one's second");
  EXPECT_TRUE(of_new[0].primary);
  EXPECT_FALSE(of_new[1].primary);

  // A replay answers the same and writes nothing.
  absl::StatusOr<std::string> again =
      store_->ImportCustomers(Ctx(kImport, "import-1"), customers, contacts, EncodeImport);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, "3|3");
  EXPECT_EQ(Rows("customers"), 4);
  EXPECT_EQ(Rows("contacts"), 3);
}

TEST_F(PgCustomerStoreTest, ImportIsAllOrNothing) {
  CreateCustomer(NewCustomer("taken", "TAKEN"));
  const int64_t customers_before = Rows("customers");
  const int64_t audit_before = Rows("audit_events");
  Contact contact;
  contact.name = "p";
  std::vector<Customer> customers = {NewCustomer("ok 1", "OK1"), NewCustomer("dup", "TAKEN"),
                                     NewCustomer("ok 2", "OK2")};
  absl::StatusOr<std::string> failed = store_->ImportCustomers(
      Ctx(kImport, "import-bad"), customers, {{"OK1", contact}}, EncodeImport);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(failed.status().message(), HasSubstr("TAKEN"));
  EXPECT_EQ(Rows("customers"), customers_before);
  EXPECT_EQ(Rows("contacts"), 0);
  EXPECT_EQ(Rows("audit_events"), audit_before);
  EXPECT_EQ(Scalar("SELECT count(*) FROM customer.idempotency_keys WHERE request_id = "
                   "'import-bad'"),
            0);

  // A duplicate inside the file, and a contact for a code that exists nowhere, fail alike.
  EXPECT_EQ(store_
                ->ImportCustomers(Ctx(kImport), {NewCustomer("x", "D1"), NewCustomer("y", "D1")},
                                  {}, EncodeImport)
                .status()
                .code(),
            absl::StatusCode::kAlreadyExists);
  absl::StatusOr<std::string> unknown = store_->ImportCustomers(
      Ctx(kImport), {NewCustomer("z", "Z1")}, {{"NOPE", contact}}, EncodeImport);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(unknown.status().message(), HasSubstr("NOPE"));
  EXPECT_EQ(Rows("customers"), customers_before);
  EXPECT_EQ(Rows("contacts"), 0);
}

TEST_F(PgCustomerStoreTest, ExistingCodesTakesAnyText) {
  CreateCustomer(NewCustomer("a", "A1"));
  absl::StatusOr<std::vector<std::string>> codes =
      store_->ExistingCodes({"A1", "a\"b", "c\\d", "{e,f}", ""}, Deadline());
  ASSERT_TRUE(codes.ok()) << codes.status();
  EXPECT_THAT(*codes, ElementsAre("A1"));
  absl::StatusOr<std::vector<std::string>> none = store_->ExistingCodes({}, Deadline());
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

}  // namespace
}  // namespace anken::customer
