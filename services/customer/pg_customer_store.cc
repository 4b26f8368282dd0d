#include "services/customer/pg_customer_store.h"

#include <algorithm>
#include <map>
#include <pqxx/pqxx>

#include "common/db/pg_values.h"
#include "common/db/prepared.h"
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/types/optional.h"
#include "common/db/audit.h"
#include "common/db/idempotency.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "services/customer/customer_queries.h"
#include "services/customer/customer_rules.h"

namespace anken::customer {
namespace {

using db::TruncToMicros;
using db::TimeText;
using db::TimeFromMicros;
using db::TextArray;
using db::NumberArray;

constexpr absl::string_view kSchema("customer");  // == PgCustomerStore::kSchema
// Joins the parts of the search key; SearchKey never produces it from typed text, so a
// query cannot match across two fields.
constexpr char kSearchKeySeparator[] = "\x1f";

// ---- conversions ----






std::string CustomerSearchKey(const Customer& c) {
  return absl::StrJoin(
      {SearchKey(c.code), SearchKey(c.name), SearchKey(c.name_kana), SearchKey(c.phone)},
      kSearchKeySeparator);
}

std::string CustomerResource(int64_t id) { return absl::StrCat("customers/", id); }
std::string ContactResource(int64_t customer_id, int64_t id) {
  return absl::StrCat("customers/", customer_id, "/contacts/", id);
}
std::string InquiryResource(int64_t customer_id, int64_t id) {
  return absl::StrCat("customers/", customer_id, "/inquiries/", id);
}

Stamp StampFromRow(const pqxx::row& r) {
  Stamp s;
  s.create_time = TimeFromMicros(r["create_us"]);
  s.created_by = r["created_by"].as<std::string>();
  s.update_time = TimeFromMicros(r["update_us"]);
  s.updated_by = r["updated_by"].as<std::string>();
  return s;
}

// The column numbers of a customer row (ANKEN_CUSTOMER_COLUMNS), looked up once per result:
// by name per field, PQfnumber's string compares were most of a 50-row list's CPU.
struct CustomerColumns {
  explicit CustomerColumns(const pqxx::row& r)
      : id(r.column_number("id")),
        code(r.column_number("code")),
        name(r.column_number("name")),
        name_kana(r.column_number("name_kana")),
        kind(r.column_number("kind")),
        postal_code(r.column_number("postal_code")),
        prefecture(r.column_number("prefecture")),
        address_line1(r.column_number("address_line1")),
        address_line2(r.column_number("address_line2")),
        phone(r.column_number("phone")),
        email(r.column_number("email")),
        corporate_number(r.column_number("corporate_number")),
        invoice_registration_number(r.column_number("invoice_registration_number")),
        closing_day(r.column_number("closing_day")),
        payment_month_offset(r.column_number("payment_month_offset")),
        payment_day(r.column_number("payment_day")),
        lifecycle(r.column_number("lifecycle")),
        is_customer(r.column_number("is_customer")),
        is_partner(r.column_number("is_partner")),
        commission_rate_bp(r.column_number("commission_rate_bp")),
        partner_notification_email(r.column_number("partner_notification_email")),
        partner_report_contact_name(r.column_number("partner_report_contact_name")),
        partner_report_contact_email(r.column_number("partner_report_contact_email")),
        memo(r.column_number("memo")),
        convert_us(r.column_number("convert_us")),
        version(r.column_number("version")),
        create_us(r.column_number("create_us")),
        created_by(r.column_number("created_by")),
        update_us(r.column_number("update_us")),
        updated_by(r.column_number("updated_by")) {}

  pqxx::row::size_type id, code, name, name_kana, kind, postal_code, prefecture, address_line1,
      address_line2, phone, email, corporate_number, invoice_registration_number, closing_day,
      payment_month_offset, payment_day, lifecycle, is_customer, is_partner, commission_rate_bp,
      partner_notification_email, partner_report_contact_name, partner_report_contact_email,
      memo, convert_us, version, create_us, created_by, update_us, updated_by;
};

Customer CustomerFromRow(const pqxx::row& row, const CustomerColumns& k) {
  db::RowReader r(row);
  Customer c;
  c.id = r[k.id].as<int64_t>();
  c.code = r[k.code].as<std::string>();
  c.name = r[k.name].as<std::string>();
  c.name_kana = r[k.name_kana].as<std::string>();
  c.kind = static_cast<Kind>(r[k.kind].as<int>());
  c.postal_code = r[k.postal_code].as<std::string>();
  c.prefecture = r[k.prefecture].as<std::string>();
  c.address_line1 = r[k.address_line1].as<std::string>();
  c.address_line2 = r[k.address_line2].as<std::string>();
  c.phone = r[k.phone].as<std::string>();
  c.email = r[k.email].as<std::string>();
  c.corporate_number = r[k.corporate_number].as<std::string>();
  c.invoice_registration_number = r[k.invoice_registration_number].as<std::string>();
  c.billing_terms.closing_day = r[k.closing_day].as<int>();
  c.billing_terms.payment_month_offset = r[k.payment_month_offset].as<int>();
  c.billing_terms.payment_day = r[k.payment_day].as<int>();
  c.lifecycle = static_cast<Lifecycle>(r[k.lifecycle].as<int>());
  c.is_customer = r[k.is_customer].as<bool>();
  c.is_partner = r[k.is_partner].as<bool>();
  c.partner.commission_rate_bp = r[k.commission_rate_bp].as<int>();
  c.partner.notification_email = r[k.partner_notification_email].as<std::string>();
  c.partner.report_contact_name = r[k.partner_report_contact_name].as<std::string>();
  c.partner.report_contact_email = r[k.partner_report_contact_email].as<std::string>();
  c.memo = r[k.memo].as<std::string>();
  if (!r[k.convert_us].is_null()) c.convert_time = TimeFromMicros(r[k.convert_us]);
  c.version = r[k.version].as<int64_t>();
  c.stamp.create_time = TimeFromMicros(r[k.create_us]);
  c.stamp.created_by = r[k.created_by].as<std::string>();
  c.stamp.update_time = TimeFromMicros(r[k.update_us]);
  c.stamp.updated_by = r[k.updated_by].as<std::string>();
  return c;
}

// Every row of `rows` (customer rows) as customers.
std::vector<Customer> CustomersFrom(const pqxx::result& rows) {
  std::vector<Customer> out;
  if (rows.empty()) return out;
  out.reserve(rows.size());
  const CustomerColumns columns(rows[0]);
  for (const pqxx::row& r : rows) out.push_back(CustomerFromRow(r, columns));
  return out;
}

Contact ContactFromRow(const pqxx::row& r) {
  Contact c;
  c.id = r["id"].as<int64_t>();
  c.customer_id = r["customer_id"].as<int64_t>();
  c.name = r["name"].as<std::string>();
  c.name_kana = r["name_kana"].as<std::string>();
  c.department = r["department"].as<std::string>();
  c.title = r["title"].as<std::string>();
  c.email = r["email"].as<std::string>();
  c.phone = r["phone"].as<std::string>();
  c.primary = r["is_primary"].as<bool>();
  c.version = r["version"].as<int64_t>();
  c.stamp = StampFromRow(r);
  return c;
}

Inquiry InquiryFromRow(const pqxx::row& r) {
  Inquiry i;
  i.id = r["id"].as<int64_t>();
  i.customer_id = r["customer_id"].as<int64_t>();
  i.contact_id = r["contact_id"].is_null() ? 0 : r["contact_id"].as<int64_t>();
  i.channel = static_cast<InquiryChannel>(r["channel"].as<int>());
  i.subject = r["subject"].as<std::string>();
  i.body = r["body"].as<std::string>();
  i.status = static_cast<InquiryStatus>(r["status"].as<int>());
  i.assignee = r["assignee"].as<std::string>();
  i.version = r["version"].as<int64_t>();
  i.stamp = StampFromRow(r);
  return i;
}

// Whether two rows hold the same content (everything but ids, version and stamps): an
// update that changes nothing writes nothing.
bool SameContent(const Customer& a, const Customer& b) {
  return a.code == b.code && a.name == b.name && a.name_kana == b.name_kana && a.kind == b.kind &&
         a.postal_code == b.postal_code && a.prefecture == b.prefecture &&
         a.address_line1 == b.address_line1 && a.address_line2 == b.address_line2 &&
         a.phone == b.phone && a.email == b.email && a.corporate_number == b.corporate_number &&
         a.invoice_registration_number == b.invoice_registration_number &&
         a.billing_terms == b.billing_terms && a.lifecycle == b.lifecycle &&
         a.is_customer == b.is_customer && a.is_partner == b.is_partner &&
         a.partner.commission_rate_bp == b.partner.commission_rate_bp &&
         a.partner.notification_email == b.partner.notification_email &&
         a.partner.report_contact_name == b.partner.report_contact_name &&
         a.partner.report_contact_email == b.partner.report_contact_email && a.memo == b.memo &&
         a.convert_time == b.convert_time;
}

bool SameContent(const Contact& a, const Contact& b) {
  return a.name == b.name && a.name_kana == b.name_kana && a.department == b.department &&
         a.title == b.title && a.email == b.email && a.phone == b.phone && a.primary == b.primary;
}

bool SameContent(const Inquiry& a, const Inquiry& b) {
  return a.contact_id == b.contact_id && a.channel == b.channel && a.subject == b.subject &&
         a.body == b.body && a.status == b.status && a.assignee == b.assignee;
}

db::TransactOptions WriteOptions(absl::string_view what) {
  db::TransactOptions options;
  options.what = what;
  return options;
}

db::TransactOptions ReadOptions(absl::string_view what) {
  db::TransactOptions options;
  options.read_only = true;
  options.what = what;
  return options;
}

absl::Status CustomerNotFound(int64_t id) {
  return WithReason(absl::NotFoundError(absl::StrCat("customer ", id, " not found")),
                    "CUSTOMER_NOT_FOUND");
}

absl::Status CodeTaken(const std::string& code) {
  return WithReason(
      absl::AlreadyExistsError(absl::StrCat("customer code ", code, " is already taken")),
      "CUSTOMER_CODE_TAKEN");
}

// ---- one write: now, audit, idempotency ----

// What every write of one call shares: the caller's context and its instant, truncated.
struct Write {
  const WriteContext& ctx;
  absl::Time now;
};

absl::Status Audit(pqxx::work& tx, const Write& w, absl::string_view resource_type,
                   std::string resource_id, std::string change_json) {
  return db::WriteAuditFor(tx, kSchema, w.ctx, w.now, resource_type, std::move(resource_id),
                           std::move(change_json));
}

template <typename Fn>
absl::StatusOr<std::string> OncePerRequest(pqxx::work& tx, const WriteContext& ctx, Fn&& effect) {
  return db::OncePerRequest(tx, kSchema, ctx, std::forward<Fn>(effect));
}

// ---- customers ----

absl::StatusOr<Customer> ReadCustomer(pqxx::work& tx, int64_t id, bool lock) {
  pqxx::result rows = lock ? db::ExecPrepared(tx, sql::kGetCustomerForUpdate, id)
                           : db::ExecPrepared(tx, sql::kGetCustomer, id);
  if (rows.empty()) return CustomerNotFound(id);
  return CustomerFromRow(rows[0], CustomerColumns(rows[0]));
}

absl::Status CheckCustomerExists(pqxx::work& tx, int64_t id) {
  if (tx.exec_params(sql::kCustomerExists, id).empty()) return CustomerNotFound(id);
  return absl::OkStatus();
}

// Inserts c (code generated when empty) and returns whether it went in: false when the code
// is taken.
bool TryInsertCustomer(pqxx::work& tx, Customer& c) {
  const std::string convert_time = c.convert_time ? TimeText(*c.convert_time) : "";
  pqxx::result rows = db::ExecPrepared(
      tx, sql::kInsertCustomer, c.code, c.name, c.name_kana, CustomerSearchKey(c),
      static_cast<int>(c.kind), c.postal_code, c.prefecture, c.address_line1, c.address_line2,
      c.phone, c.email, c.corporate_number, c.invoice_registration_number,
      c.billing_terms.closing_day, c.billing_terms.payment_month_offset,
      c.billing_terms.payment_day, static_cast<int>(c.lifecycle), c.is_customer, c.is_partner,
      c.partner.commission_rate_bp, c.partner.notification_email, c.partner.report_contact_name,
      c.partner.report_contact_email, c.memo, c.convert_time ? convert_time.c_str() : nullptr,
      c.version, TimeText(c.stamp.create_time), c.stamp.created_by, TimeText(c.stamp.update_time),
      c.stamp.updated_by);
  if (rows.empty()) return false;
  c.id = rows[0][0].as<int64_t>();
  return true;
}

// Stamps and inserts a new customer and writes its audit event.
absl::StatusOr<Customer> InsertCustomer(pqxx::work& tx, const Write& w, Customer c) {
  c.id = 0;
  c.version = 1;
  if (c.convert_time) c.convert_time = TruncToMicros(*c.convert_time);
  c.stamp = Stamp{w.now, w.ctx.actor, w.now, w.ctx.actor};
  if (c.code.empty()) {
    // Numbers whose code someone entered by hand are skipped; the sequence never goes back.
    do {
      c.code = absl::StrFormat("C%06d",
                               db::ExecPrepared1(tx, sql::kNextCodeNumber)[0].as<int64_t>());
    } while (!TryInsertCustomer(tx, c));
  } else if (!TryInsertCustomer(tx, c)) {
    return CodeTaken(c.code);
  }
  RETURN_IF_ERROR(Audit(tx, w, "customer", CustomerResource(c.id), CreationJson(c)));
  return c;
}

void WriteCustomer(pqxx::work& tx, const Customer& c) {
  const std::string convert_time = c.convert_time ? TimeText(*c.convert_time) : "";
  tx.exec_params0(
      sql::kUpdateCustomer, c.id, c.code, c.name, c.name_kana, CustomerSearchKey(c),
      static_cast<int>(c.kind), c.postal_code, c.prefecture, c.address_line1, c.address_line2,
      c.phone, c.email, c.corporate_number, c.invoice_registration_number,
      c.billing_terms.closing_day, c.billing_terms.payment_month_offset,
      c.billing_terms.payment_day, static_cast<int>(c.lifecycle), c.is_customer, c.is_partner,
      c.partner.commission_rate_bp, c.partner.notification_email, c.partner.report_contact_name,
      c.partner.report_contact_email, c.memo, c.convert_time ? convert_time.c_str() : nullptr,
      c.version, TimeText(c.stamp.update_time), c.stamp.updated_by);
}

// ---- contacts ----

absl::StatusOr<Contact> ReadContact(pqxx::work& tx, int64_t id, bool lock) {
  pqxx::result rows = tx.exec_params(lock ? sql::kGetContactForUpdate : sql::kGetContact, id);
  if (rows.empty()) return absl::NotFoundError(absl::StrCat("contact ", id, " not found"));
  return ContactFromRow(rows[0]);
}

void WriteContact(pqxx::work& tx, const Contact& c) {
  tx.exec_params0(sql::kUpdateContact, c.id, c.name, c.name_kana, c.department, c.title, c.email,
                  c.phone, c.primary, c.version, TimeText(c.stamp.update_time), c.stamp.updated_by);
}

// Saves `after` over `before` as the next version and audits the difference.
absl::Status SaveContact(pqxx::work& tx, const Write& w, const Contact& before, Contact& after) {
  after.version = before.version + 1;
  after.stamp.update_time = w.now;
  after.stamp.updated_by = w.ctx.actor;
  WriteContact(tx, after);
  return Audit(tx, w, "contact", ContactResource(after.customer_id, after.id),
               ChangeJson(before, after));
}

// Takes the primary flag from the customer's current primary contact, if it has one other
// than `except_id`. The caller holds the customer lock and sets the new primary afterwards
// (the partial unique index allows one at a time).
absl::Status ClearPrimary(pqxx::work& tx, const Write& w, int64_t customer_id, int64_t except_id) {
  pqxx::result rows = tx.exec_params(sql::kGetPrimaryContactForUpdate, customer_id);
  if (rows.empty()) return absl::OkStatus();
  Contact before = ContactFromRow(rows[0]);
  if (before.id == except_id) return absl::OkStatus();
  Contact after = before;
  after.primary = false;
  return SaveContact(tx, w, before, after);
}

// Adds a contact to its customer (NOT_FOUND when absent) under the primary rules, with its
// audit event.
absl::StatusOr<Contact> InsertContact(pqxx::work& tx, const Write& w, Contact c) {
  if (tx.exec_params(sql::kLockCustomerForChildren, c.customer_id).empty()) {
    return CustomerNotFound(c.customer_id);
  }
  const bool has_primary = !tx.exec_params(sql::kGetPrimaryContactForUpdate, c.customer_id).empty();
  if (!has_primary) {
    c.primary = true;  // the first contact is the primary one
  } else if (c.primary) {
    RETURN_IF_ERROR(ClearPrimary(tx, w, c.customer_id, /*except_id=*/0));
  }
  c.version = 1;
  c.stamp = Stamp{w.now, w.ctx.actor, w.now, w.ctx.actor};
  c.id = tx.exec_params1(sql::kInsertContact, c.customer_id, c.name, c.name_kana, c.department,
                         c.title, c.email, c.phone, c.primary, c.version,
                         TimeText(c.stamp.create_time), c.stamp.created_by,
                         TimeText(c.stamp.update_time), c.stamp.updated_by)[0]
             .as<int64_t>();
  RETURN_IF_ERROR(Audit(tx, w, "contact", ContactResource(c.customer_id, c.id), CreationJson(c)));
  return c;
}

// ---- inquiries ----

// Fills the responses of `inquiries`, oldest first each.
void AttachResponses(pqxx::work& tx, std::vector<Inquiry>& inquiries) {
  if (inquiries.empty()) return;
  std::vector<int64_t> ids;
  std::map<int64_t, Inquiry*> by_id;
  for (Inquiry& i : inquiries) {
    ids.push_back(i.id);
    by_id[i.id] = &i;
    i.responses.clear();
  }
  for (const pqxx::row& r : tx.exec_params(sql::kListResponses, NumberArray(ids))) {
    InquiryResponse response;
    response.id = r["id"].as<int64_t>();
    response.responder = r["responder"].as<std::string>();
    response.response_time = TimeFromMicros(r["response_us"]);
    response.body = r["body"].as<std::string>();
    by_id.at(r["inquiry_id"].as<int64_t>())->responses.push_back(std::move(response));
  }
}

absl::StatusOr<Inquiry> ReadInquiry(pqxx::work& tx, int64_t id, bool lock) {
  pqxx::result rows = tx.exec_params(lock ? sql::kGetInquiryForUpdate : sql::kGetInquiry, id);
  if (rows.empty()) return absl::NotFoundError(absl::StrCat("inquiry ", id, " not found"));
  std::vector<Inquiry> one = {InquiryFromRow(rows[0])};
  AttachResponses(tx, one);
  return std::move(one[0]);
}

// INVALID_ARGUMENT on inquiry.contact_id unless it is 0 or one of the customer's contacts.
absl::Status CheckInquiryContact(pqxx::work& tx, const Inquiry& i) {
  if (i.contact_id == 0) return absl::OkStatus();
  if (tx.exec_params(sql::kContactOfCustomer, i.contact_id, i.customer_id).empty()) {
    return InvalidField(
        "inquiry.contact_id",
        absl::StrCat("contact ", i.contact_id, " is not a contact of customer ", i.customer_id),
        "CONTACT_NOT_OF_CUSTOMER");
  }
  return absl::OkStatus();
}

void WriteInquiry(pqxx::work& tx, const Inquiry& i) {
  const std::string contact_id = std::to_string(i.contact_id);
  tx.exec_params0(sql::kUpdateInquiry, i.id, i.contact_id == 0 ? nullptr : contact_id.c_str(),
                  static_cast<int>(i.channel), i.subject, i.body, static_cast<int>(i.status),
                  i.assignee, i.version, TimeText(i.stamp.update_time), i.stamp.updated_by);
}

}  // namespace

// ---- customers ----

absl::StatusOr<Customer> PgCustomerStore::GetCustomer(int64_t id, absl::Time deadline) {
  return pool_.Transact(
      deadline, [&](pqxx::work& tx) { return ReadCustomer(tx, id, /*lock=*/false); },
      ReadOptions("reading the customer"));
}

absl::StatusOr<std::vector<Customer>> PgCustomerStore::GetCustomers(const std::vector<int64_t>& ids,
                                                                    absl::Time deadline) {
  if (ids.empty()) return std::vector<Customer>();
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<Customer>> {
        return CustomersFrom(db::ExecPrepared(tx, sql::kGetCustomers, NumberArray(ids)));
      },
      ReadOptions("reading customers"));
}

absl::StatusOr<std::vector<Customer>> PgCustomerStore::ListCustomers(const CustomerFilter& filter,
                                                                     int64_t after_id, int limit,
                                                                     absl::Time deadline) {
  const char* role = nullptr;
  if (filter.partner_role.has_value()) role = *filter.partner_role ? "partner" : "customer";
  const std::string updated_since =
      filter.updated_since ? TimeText(*filter.updated_since) : std::string();
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<Customer>> {
        // Not prepared: its "empty means any" filters need a plan made with the values.
        return CustomersFrom(tx.exec_params(
            sql::kListCustomers, after_id, role, NumberArray(filter.lifecycles),
            filter.prefecture, filter.updated_since ? updated_since.c_str() : nullptr,
            filter.query_key, std::max(limit, 0)));
      },
      ReadOptions("listing customers"));
}

absl::StatusOr<std::string> PgCustomerStore::CreateCustomer(const WriteContext& ctx,
                                                            Customer customer,
                                                            const Encoder<Customer>& encode) {
  const Write w{ctx, TruncToMicros(ctx.now)};
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) {
        return OncePerRequest(tx, ctx, [&]() -> absl::StatusOr<std::string> {
          ASSIGN_OR_RETURN(Customer created, InsertCustomer(tx, w, customer));
          return encode(created);
        });
      },
      WriteOptions("creating the customer"));
}

absl::StatusOr<Customer> PgCustomerStore::UpdateCustomer(const WriteContext& ctx, int64_t id,
                                                         const Mutator<Customer>& mutate) {
  const Write w{ctx, TruncToMicros(ctx.now)};
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<Customer> {
        ASSIGN_OR_RETURN(Customer before, ReadCustomer(tx, id, /*lock=*/true));
        Customer after = before;
        RETURN_IF_ERROR(mutate(after));
        // Not the mutator's to change.
        after.id = before.id;
        after.version = before.version;
        after.stamp = before.stamp;
        if (after.convert_time) after.convert_time = TruncToMicros(*after.convert_time);
        if (SameContent(before, after)) return before;
        if (after.code != before.code &&
            !tx.exec_params(sql::kCodeTakenByOther, after.code, after.id).empty()) {
          return CodeTaken(after.code);
        }
        after.version = before.version + 1;
        after.stamp.update_time = w.now;
        after.stamp.updated_by = ctx.actor;
        WriteCustomer(tx, after);
        RETURN_IF_ERROR(
            Audit(tx, w, "customer", CustomerResource(after.id), ChangeJson(before, after)));
        return after;
      },
      WriteOptions("updating the customer"));
}

// ---- contacts ----

absl::StatusOr<std::string> PgCustomerStore::CreateContact(const WriteContext& ctx, Contact contact,
                                                           const Encoder<Contact>& encode) {
  const Write w{ctx, TruncToMicros(ctx.now)};
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) {
        return OncePerRequest(tx, ctx, [&]() -> absl::StatusOr<std::string> {
          ASSIGN_OR_RETURN(Contact created, InsertContact(tx, w, contact));
          return encode(created);
        });
      },
      WriteOptions("creating the contact"));
}

absl::StatusOr<Contact> PgCustomerStore::UpdateContact(const WriteContext& ctx, int64_t id,
                                                       const Mutator<Contact>& mutate) {
  const Write w{ctx, TruncToMicros(ctx.now)};
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<Contact> {
        // Customer first, then contact: the order every contact write locks in.
        ASSIGN_OR_RETURN(const Contact unlocked, ReadContact(tx, id, /*lock=*/false));
        tx.exec_params(sql::kLockCustomerForChildren, unlocked.customer_id);
        ASSIGN_OR_RETURN(Contact before, ReadContact(tx, id, /*lock=*/true));
        Contact after = before;
        RETURN_IF_ERROR(mutate(after));
        after.id = before.id;
        after.customer_id = before.customer_id;
        after.version = before.version;
        after.stamp = before.stamp;
        if (SameContent(before, after)) return before;
        if (before.primary && !after.primary) {
          return WithReason(
              absl::FailedPreconditionError(absl::StrCat(
                  "contact ", id,
                  " is the primary contact of its customer; make another contact primary "
                  "instead")),
              "PRIMARY_CONTACT_REQUIRED");
        }
        if (!before.primary && after.primary) {
          RETURN_IF_ERROR(ClearPrimary(tx, w, after.customer_id, after.id));
        }
        RETURN_IF_ERROR(SaveContact(tx, w, before, after));
        return after;
      },
      WriteOptions("updating the contact"));
}

absl::StatusOr<std::vector<Contact>> PgCustomerStore::ListContacts(int64_t customer_id,
                                                                   absl::Time deadline) {
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<Contact>> {
        RETURN_IF_ERROR(CheckCustomerExists(tx, customer_id));
        std::vector<Contact> out;
        for (const pqxx::row& r : tx.exec_params(sql::kListContacts, customer_id)) {
          out.push_back(ContactFromRow(r));
        }
        return out;
      },
      ReadOptions("listing contacts"));
}

// ---- inquiries ----

absl::StatusOr<std::string> PgCustomerStore::CreateInquiry(const WriteContext& ctx, Inquiry inquiry,
                                                           const Encoder<Inquiry>& encode) {
  const Write w{ctx, TruncToMicros(ctx.now)};
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) {
        return OncePerRequest(tx, ctx, [&]() -> absl::StatusOr<std::string> {
          Inquiry i = inquiry;
          RETURN_IF_ERROR(CheckCustomerExists(tx, i.customer_id));
          RETURN_IF_ERROR(CheckInquiryContact(tx, i));
          i.responses.clear();  // responses only come through AddInquiryResponse
          i.version = 1;
          i.stamp = Stamp{w.now, ctx.actor, w.now, ctx.actor};
          const std::string contact_id = std::to_string(i.contact_id);
          i.id = tx.exec_params1(sql::kInsertInquiry, i.customer_id,
                                 i.contact_id == 0 ? nullptr : contact_id.c_str(),
                                 static_cast<int>(i.channel), i.subject, i.body,
                                 static_cast<int>(i.status), i.assignee, i.version,
                                 TimeText(i.stamp.create_time), i.stamp.created_by,
                                 TimeText(i.stamp.update_time), i.stamp.updated_by)[0]
                     .as<int64_t>();
          RETURN_IF_ERROR(
              Audit(tx, w, "inquiry", InquiryResource(i.customer_id, i.id), CreationJson(i)));
          return encode(i);
        });
      },
      WriteOptions("creating the inquiry"));
}

absl::StatusOr<Inquiry> PgCustomerStore::UpdateInquiry(const WriteContext& ctx, int64_t id,
                                                       const Mutator<Inquiry>& mutate) {
  const Write w{ctx, TruncToMicros(ctx.now)};
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<Inquiry> {
        ASSIGN_OR_RETURN(Inquiry before, ReadInquiry(tx, id, /*lock=*/true));
        Inquiry after = before;
        RETURN_IF_ERROR(mutate(after));
        after.id = before.id;
        after.customer_id = before.customer_id;
        after.responses = before.responses;
        after.version = before.version;
        after.stamp = before.stamp;
        if (SameContent(before, after)) return before;
        if (after.contact_id != before.contact_id) RETURN_IF_ERROR(CheckInquiryContact(tx, after));
        after.version = before.version + 1;
        after.stamp.update_time = w.now;
        after.stamp.updated_by = ctx.actor;
        WriteInquiry(tx, after);
        RETURN_IF_ERROR(Audit(tx, w, "inquiry", InquiryResource(after.customer_id, after.id),
                              ChangeJson(before, after)));
        return after;
      },
      WriteOptions("updating the inquiry"));
}

absl::StatusOr<std::string> PgCustomerStore::AddInquiryResponse(const WriteContext& ctx,
                                                                int64_t inquiry_id,
                                                                const std::string& body,
                                                                const Encoder<Inquiry>& encode) {
  const Write w{ctx, TruncToMicros(ctx.now)};
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) {
        return OncePerRequest(tx, ctx, [&]() -> absl::StatusOr<std::string> {
          // The lock orders concurrent responses to one inquiry and guards its version.
          ASSIGN_OR_RETURN(const Inquiry before, ReadInquiry(tx, inquiry_id, /*lock=*/true));
          Inquiry i = before;
          InquiryResponse response;
          response.responder = ctx.actor;
          response.response_time = w.now;
          response.body = body;
          response.id = tx.exec_params1(sql::kInsertResponse, i.id, response.responder,
                                        TimeText(response.response_time), response.body)[0]
                            .as<int64_t>();
          i.responses.push_back(response);
          i.version += 1;
          i.stamp.update_time = w.now;
          i.stamp.updated_by = ctx.actor;
          WriteInquiry(tx, i);
          RETURN_IF_ERROR(
              Audit(tx, w, "inquiry_response",
                    absl::StrCat(InquiryResource(i.customer_id, i.id), "/responses/", response.id),
                    ChangeJson(before, i)));
          return encode(i);
        });
      },
      WriteOptions("adding the inquiry response"));
}

absl::StatusOr<Inquiry> PgCustomerStore::GetInquiry(int64_t id, absl::Time deadline) {
  return pool_.Transact(
      deadline, [&](pqxx::work& tx) { return ReadInquiry(tx, id, /*lock=*/false); },
      ReadOptions("reading the inquiry"));
}

absl::StatusOr<std::vector<Inquiry>> PgCustomerStore::ListInquiries(const InquiryFilter& filter,
                                                                    int64_t before_id, int limit,
                                                                    absl::Time deadline) {
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<Inquiry>> {
        std::vector<Inquiry> out;
        for (const pqxx::row& r :
             tx.exec_params(sql::kListInquiries, before_id, filter.customer_id,
                            NumberArray(filter.statuses), filter.assignee, std::max(limit, 0))) {
          out.push_back(InquiryFromRow(r));
        }
        AttachResponses(tx, out);
        return out;
      },
      ReadOptions("listing inquiries"));
}

// ---- import ----

absl::StatusOr<std::string> PgCustomerStore::ImportCustomers(const WriteContext& ctx,
                                                             std::vector<Customer> customers,
                                                             std::vector<ContactImport> contacts,
                                                             const Encoder<ImportResult>& encode) {
  const Write w{ctx, TruncToMicros(ctx.now)};
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) {
        return OncePerRequest(tx, ctx, [&]() -> absl::StatusOr<std::string> {
          ImportResult result;
          std::map<std::string, int64_t> id_by_code;  // this file's customers
          // Rows with a code first, so that a generated code skips the codes the file
          // itself names instead of taking one and failing the row that names it.
          for (bool with_code : {true, false}) {
            for (const Customer& c : customers) {
              if (c.code.empty() == with_code) continue;
              ASSIGN_OR_RETURN(Customer created, InsertCustomer(tx, w, c));
              id_by_code[created.code] = created.id;
              ++result.customers_created;
            }
          }
          for (const ContactImport& row : contacts) {
            Contact contact = row.contact;
            auto it = id_by_code.find(row.customer_code);
            if (it != id_by_code.end()) {
              contact.customer_id = it->second;
            } else {
              pqxx::result found = tx.exec_params(sql::kCustomerIdByCode, row.customer_code);
              if (found.empty()) {
                return absl::NotFoundError(
                    absl::StrCat("customer code ", row.customer_code, " not found"));
              }
              contact.customer_id = found[0][0].as<int64_t>();
            }
            RETURN_IF_ERROR(InsertContact(tx, w, std::move(contact)).status());
            ++result.contacts_created;
          }
          return encode(result);
        });
      },
      WriteOptions("importing customers"));
}

absl::StatusOr<absl::optional<std::string>> PgCustomerStore::FindReplay(const WriteContext& ctx) {
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<absl::optional<std::string>> {
        return db::FindIdempotent(tx, kSchema, ctx.method, ctx.request_id, ctx.request_hash);
      },
      ReadOptions("looking up request_id"));
}

absl::StatusOr<std::vector<std::string>> PgCustomerStore::ExistingCodes(
    const std::vector<std::string>& codes, absl::Time deadline) {
  if (codes.empty()) return std::vector<std::string>();
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<std::string>> {
        std::vector<std::string> out;
        for (const pqxx::row& r : tx.exec_params(sql::kExistingCodes, TextArray(codes))) {
          out.push_back(r[0].as<std::string>());
        }
        return out;
      },
      ReadOptions("looking up customer codes"));
}

// ---- audit ----

absl::StatusOr<std::vector<AuditEntry>> PgCustomerStore::ListAuditEvents(int64_t customer_id,
                                                                         int64_t before_id,
                                                                         int limit,
                                                                         absl::Time deadline) {
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<AuditEntry>> {
        RETURN_IF_ERROR(CheckCustomerExists(tx, customer_id));
        const std::string resource = CustomerResource(customer_id);
        std::vector<AuditEntry> out;
        for (const pqxx::row& r :
             tx.exec_params(sql::kListAuditEvents, resource, absl::StrCat(resource, "/%"),
                            before_id, std::max(limit, 0))) {
          out.push_back(db::AuditEntryFromRow(r));
        }
        return out;
      },
      ReadOptions("listing audit events"));
}

}  // namespace anken::customer
