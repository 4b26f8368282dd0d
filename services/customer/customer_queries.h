#pragma once
// The SQL of PgCustomerStore, as named constants (STYLE.md): every statement is
// parameterized ($n, run with exec_params) and names its tables with the `customer.` schema.
//
// Conventions the store relies on:
// - Instants are written as RFC 3339 text cast to timestamptz and read back as microseconds
//   since the epoch (`*_us` columns), so no session setting (TimeZone, DateStyle) can change
//   what is read.
// - Arrays are passed as one text parameter in Postgres array syntax ("{1,2}") and cast.
// - Optional filters are "empty means any" parameters; exec_params plans with the values, so
//   the unused branches fold away.
// - The *_COLUMNS macros list the columns every read of that table returns (the store reads
//   them by name); they are literal fragments so that each statement stays one constant.

namespace anken::customer::sql {

#define ANKEN_CUSTOMER_COLUMNS                                                                \
  "c.id, c.code, c.name, c.name_kana, c.kind, c.postal_code, c.prefecture, "                  \
  "c.address_line1, c.address_line2, c.phone, c.email, c.corporate_number, "                  \
  "c.invoice_registration_number, c.closing_day, c.payment_month_offset, c.payment_day, "     \
  "c.lifecycle, c.is_customer, c.is_partner, c.commission_rate_bp, "                          \
  "c.partner_notification_email, c.partner_report_contact_name, "                             \
  "c.partner_report_contact_email, "                                                          \
  "c.memo, (extract(epoch FROM c.convert_time) * 1000000)::bigint AS convert_us, c.version, " \
  "(extract(epoch FROM c.create_time) * 1000000)::bigint AS create_us, c.created_by, "        \
  "(extract(epoch FROM c.update_time) * 1000000)::bigint AS update_us, c.updated_by"

#define ANKEN_CONTACT_COLUMNS                                                           \
  "t.id, t.customer_id, t.name, t.name_kana, t.department, t.title, t.email, t.phone, " \
  "t.is_primary, t.version, "                                                           \
  "(extract(epoch FROM t.create_time) * 1000000)::bigint AS create_us, t.created_by, "  \
  "(extract(epoch FROM t.update_time) * 1000000)::bigint AS update_us, t.updated_by"

#define ANKEN_INQUIRY_COLUMNS                                                          \
  "i.id, i.customer_id, i.contact_id, i.channel, i.subject, i.body, i.status, "        \
  "i.assignee, i.version, "                                                            \
  "(extract(epoch FROM i.create_time) * 1000000)::bigint AS create_us, i.created_by, " \
  "(extract(epoch FROM i.update_time) * 1000000)::bigint AS update_us, i.updated_by"

// ---- customers ----

// $1 id.
inline constexpr char kGetCustomer[] =
    "SELECT " ANKEN_CUSTOMER_COLUMNS " FROM customer.customers c WHERE c.id = $1";

// $1 id. Locks the row for a read-modify-write.
inline constexpr char kGetCustomerForUpdate[] =
    "SELECT " ANKEN_CUSTOMER_COLUMNS " FROM customer.customers c WHERE c.id = $1 FOR UPDATE";

// $1 id. Serializes the writes that change a customer's contacts (primary flag moves) without
// blocking the foreign-key checks of inserts that reference the customer.
inline constexpr char kLockCustomerForChildren[] =
    "SELECT c.id FROM customer.customers c WHERE c.id = $1 FOR NO KEY UPDATE";

// $1 id. Customers are never deleted, so an existence check needs no lock.
inline constexpr char kCustomerExists[] = "SELECT c.id FROM customer.customers c WHERE c.id = $1";

// $1 ids as a bigint[] literal.
inline constexpr char kGetCustomers[] =
    "SELECT " ANKEN_CUSTOMER_COLUMNS
    " FROM customer.customers c WHERE c.id = ANY($1::bigint[]) ORDER BY c.id";

// $1 after_id, $2 role ('partner', 'customer' or NULL for any), $3 lifecycles as a
// smallint[] literal ('{}' for any), $4 prefecture ('' for any), $5 updated_since (NULL for
// any), $6 search key ('' for none; substring of search_key), $7 limit.
inline constexpr char kListCustomers[] =
    "SELECT " ANKEN_CUSTOMER_COLUMNS R"sql( FROM customer.customers c
WHERE c.id > $1
  AND ($2::text IS NULL OR ($2 = 'partner' AND c.is_partner)
       OR ($2 = 'customer' AND c.is_customer))
  AND (cardinality($3::smallint[]) = 0 OR c.lifecycle = ANY($3::smallint[]))
  AND ($4::text = '' OR c.prefecture = $4)
  AND ($5::timestamptz IS NULL OR c.update_time >= $5::timestamptz)
  AND ($6::text = '' OR strpos(c.search_key, $6) > 0)
ORDER BY c.id
LIMIT $7)sql";

// The next number for a generated code ("C" + at least 6 digits).
inline constexpr char kNextCodeNumber[] = "SELECT nextval('customer.customer_code_seq')";

// $1..$30 as in the column list; no row comes back when the code is taken.
inline constexpr char kInsertCustomer[] = R"sql(INSERT INTO customer.customers (
  code, name, name_kana, search_key, kind, postal_code, prefecture, address_line1,
  address_line2, phone, email, corporate_number, invoice_registration_number, closing_day,
  payment_month_offset, payment_day, lifecycle, is_customer, is_partner, commission_rate_bp,
  partner_notification_email, partner_report_contact_name, partner_report_contact_email, memo,
  convert_time, version, create_time, created_by, update_time, updated_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
  $20, $21, $22, $23, $24, $25::timestamptz, $26, $27::timestamptz, $28, $29::timestamptz,
  $30)
ON CONFLICT (code) DO NOTHING
RETURNING id)sql";

// $1 code, $2 id: is the code used by another customer?
inline constexpr char kCodeTakenByOther[] =
    "SELECT 1 FROM customer.customers c WHERE c.code = $1 AND c.id <> $2";

// $1 id, then the columns in kInsertCustomer's order without the create_* pair: $2 code ..
// $26 convert_time, $27 version, $28 update_time, $29 updated_by.
inline constexpr char kUpdateCustomer[] = R"sql(UPDATE customer.customers SET
  code = $2, name = $3, name_kana = $4, search_key = $5, kind = $6, postal_code = $7,
  prefecture = $8, address_line1 = $9, address_line2 = $10, phone = $11, email = $12,
  corporate_number = $13, invoice_registration_number = $14, closing_day = $15,
  payment_month_offset = $16, payment_day = $17, lifecycle = $18, is_customer = $19,
  is_partner = $20, commission_rate_bp = $21, partner_notification_email = $22,
  partner_report_contact_name = $23, partner_report_contact_email = $24, memo = $25,
  convert_time = $26::timestamptz, version = $27, update_time = $28::timestamptz,
  updated_by = $29
WHERE id = $1)sql";

// $1 codes as a text[] literal.
inline constexpr char kExistingCodes[] =
    "SELECT c.code FROM customer.customers c WHERE c.code = ANY($1::text[]) ORDER BY c.code";

// $1 code.
inline constexpr char kCustomerIdByCode[] =
    "SELECT c.id FROM customer.customers c WHERE c.code = $1";

// ---- contacts ----

// $1 id.
inline constexpr char kGetContact[] =
    "SELECT " ANKEN_CONTACT_COLUMNS " FROM customer.contacts t WHERE t.id = $1";

// $1 id.
inline constexpr char kGetContactForUpdate[] =
    "SELECT " ANKEN_CONTACT_COLUMNS " FROM customer.contacts t WHERE t.id = $1 FOR UPDATE";

// $1 customer_id: its primary contact, locked (the flag is about to move).
inline constexpr char kGetPrimaryContactForUpdate[] =
    "SELECT " ANKEN_CONTACT_COLUMNS
    " FROM customer.contacts t WHERE t.customer_id = $1 AND t.is_primary FOR UPDATE";

// $1 customer_id.
inline constexpr char kListContacts[] =
    "SELECT " ANKEN_CONTACT_COLUMNS
    " FROM customer.contacts t WHERE t.customer_id = $1 ORDER BY t.is_primary DESC, t.id";

// $1 customer_id .. $9 is_primary, $10 version, $11 create_time, $12 created_by,
// $13 update_time, $14 updated_by.
inline constexpr char kInsertContact[] = R"sql(INSERT INTO customer.contacts (
  customer_id, name, name_kana, department, title, email, phone, is_primary, version,
  create_time, created_by, update_time, updated_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::timestamptz, $11, $12::timestamptz, $13)
RETURNING id)sql";

// $1 id, $2 name .. $8 is_primary, $9 version, $10 update_time, $11 updated_by.
inline constexpr char kUpdateContact[] = R"sql(UPDATE customer.contacts SET
  name = $2, name_kana = $3, department = $4, title = $5, email = $6, phone = $7,
  is_primary = $8, version = $9, update_time = $10::timestamptz, updated_by = $11
WHERE id = $1)sql";

// $1 contact id, $2 customer id: is it one of that customer's contacts?
inline constexpr char kContactOfCustomer[] =
    "SELECT 1 FROM customer.contacts t WHERE t.id = $1 AND t.customer_id = $2";

// ---- inquiries ----

// $1 id.
inline constexpr char kGetInquiry[] =
    "SELECT " ANKEN_INQUIRY_COLUMNS " FROM customer.inquiries i WHERE i.id = $1";

// $1 id.
inline constexpr char kGetInquiryForUpdate[] =
    "SELECT " ANKEN_INQUIRY_COLUMNS " FROM customer.inquiries i WHERE i.id = $1 FOR UPDATE";

// $1 before_id (0: from the newest), $2 customer_id (0: any), $3 statuses as a smallint[]
// literal ('{}': any), $4 assignee ('': any), $5 limit.
inline constexpr char kListInquiries[] =
    "SELECT " ANKEN_INQUIRY_COLUMNS R"sql( FROM customer.inquiries i
WHERE ($1::bigint = 0 OR i.id < $1)
  AND ($2::bigint = 0 OR i.customer_id = $2)
  AND (cardinality($3::smallint[]) = 0 OR i.status = ANY($3::smallint[]))
  AND ($4::text = '' OR i.assignee = $4)
ORDER BY i.id DESC
LIMIT $5)sql";

// $1 customer_id, $2 contact_id (NULL: none), $3 channel, $4 subject, $5 body, $6 status,
// $7 assignee, $8 version, $9 create_time, $10 created_by, $11 update_time, $12 updated_by.
inline constexpr char kInsertInquiry[] = R"sql(INSERT INTO customer.inquiries (
  customer_id, contact_id, channel, subject, body, status, assignee, version, create_time,
  created_by, update_time, updated_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::timestamptz, $10, $11::timestamptz, $12)
RETURNING id)sql";

// $1 id, $2 contact_id (NULL: none) .. $7 assignee, $8 version, $9 update_time,
// $10 updated_by.
inline constexpr char kUpdateInquiry[] = R"sql(UPDATE customer.inquiries SET
  contact_id = $2, channel = $3, subject = $4, body = $5, status = $6, assignee = $7,
  version = $8, update_time = $9::timestamptz, updated_by = $10
WHERE id = $1)sql";

// $1 inquiry ids as a bigint[] literal: their responses, oldest first per inquiry.
inline constexpr char kListResponses[] = R"sql(SELECT r.id, r.inquiry_id, r.responder,
  (extract(epoch FROM r.response_time) * 1000000)::bigint AS response_us, r.body
FROM customer.inquiry_responses r
WHERE r.inquiry_id = ANY($1::bigint[])
ORDER BY r.inquiry_id, r.id)sql";

// $1 inquiry_id, $2 responder, $3 response_time, $4 body.
inline constexpr char kInsertResponse[] = R"sql(INSERT INTO customer.inquiry_responses (
  inquiry_id, responder, response_time, body)
VALUES ($1, $2, $3::timestamptz, $4)
RETURNING id)sql";

// ---- audit ----

// $1 'customers/<id>', $2 'customers/<id>/%', $3 before_id (0: from the newest), $4 limit.
inline constexpr char kListAuditEvents[] = R"sql(SELECT a.id,
  (extract(epoch FROM a.event_time) * 1000000)::bigint AS event_us, a.actor, a.actor_role,
  a.method, a.resource_type, a.resource_id, a.change_json::text AS change_json,
  coalesce(a.request_id, '') AS request_id
FROM customer.audit_events a
WHERE (a.resource_id = $1 OR a.resource_id LIKE $2)
  AND ($3::bigint = 0 OR a.id < $3)
ORDER BY a.id DESC
LIMIT $4)sql";

#undef ANKEN_CUSTOMER_COLUMNS
#undef ANKEN_CONTACT_COLUMNS
#undef ANKEN_INQUIRY_COLUMNS

}  // namespace anken::customer::sql
