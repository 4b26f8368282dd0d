#pragma once
// The SQL of PgBillingStore's payments, reconciliation and receivables (pg_payments.cc), as
// named constants with the conventions of billing_queries.h: parameterized ($n, exec_params),
// `billing.`-qualified, civil days read as days since 1970-01-01 (`*_days`), instants as
// microseconds (`*_us`), arrays passed as one literal parameter.
//
// Lock order (with billing_queries.h's): a payment, then invoices in id order, then an
// invoice's entries in id order. Nothing that holds an invoice or entry lock ever waits for
// a payment, so reconciliation cannot deadlock with issuing, cancelling or writing off.

namespace anken::billing::sql {

#define ANKEN_DAYS(expr) "(" expr " - DATE '1970-01-01')"
#define ANKEN_MICROS(expr) "(extract(epoch FROM " expr ") * 1000000)::bigint"

#define ANKEN_PAYMENT_COLUMNS \
  "p.id, " ANKEN_DAYS("p.payment_date") " AS payment_days, p.amount, p.payer_name, "           \
  "p.reference, p.memo, p.source, coalesce(p.source_key, '') AS source_key, "                 \
  "coalesce(p.customer_id, 0) AS customer_id, p.status, p.match_kind, p.unmatched_reason, "   \
  "p.match_detail, array_to_string(p.candidate_customer_ids, ',') AS candidates, "            \
  "p.allocated_amount, p.credit, p.version, " ANKEN_MICROS("p.create_time") " AS create_us, " \
  "p.created_by, " ANKEN_MICROS("p.update_time") " AS update_us, p.updated_by"

// What reconciliation and the receivables reports read of an invoice.
#define ANKEN_OPEN_INVOICE_COLUMNS \
  "i.id, i.customer_id, " ANKEN_DAYS("i.issue_date") " AS issue_days, "                       \
  ANKEN_DAYS("i.due_date") " AS due_days, i.total, "                                          \
  "(i.total - i.paid_amount - i.written_off_amount) AS balance, i.number, i.recipient_name, " \
  "i.status, i.paid_amount, i.written_off_amount"

// Issued and something left: the predicate of the partial index invoices_open.
#define ANKEN_INVOICE_IS_OPEN "i.status = 1 AND i.paid_amount + i.written_off_amount < i.total"

// ---- imports and payments ----

// $1 source, $2 account, $3 line_count, $4 create_time, $5 created_by. The counts of what
// was imported are set by kFinishBankImport once known.
inline constexpr char kInsertBankImport[] = R"sql(INSERT INTO billing.bank_imports (
  source, account, line_count, imported_count, duplicate_count, create_time, created_by)
VALUES ($1, $2, $3, 0, 0, $4::timestamptz, $5)
RETURNING id)sql";

// $1 id, $2 imported_count, $3 duplicate_count.
inline constexpr char kFinishBankImport[] = R"sql(UPDATE billing.bank_imports
SET imported_count = $2, duplicate_count = $3
WHERE id = $1)sql";

// $1 payment_date, $2 amount, $3 payer_name, $4 payer_key, $5 reference, $6 memo, $7 source,
// $8 source_key (NULL: manual), $9 import_id (NULL: none), $10 create_time, $11 created_by.
// A new payment is UNMATCHED at version 1 until reconciled in the same transaction. No row
// comes back for a line imported before (the unique index payments_source_key); a
// concurrent import of the same line waits here for the first to commit or roll back.
inline constexpr char kInsertPayment[] = R"sql(INSERT INTO billing.payments (
  payment_date, amount, payer_name, payer_key, reference, memo, source, source_key, import_id,
  status, match_kind, version, create_time, created_by, update_time, updated_by)
VALUES ($1::date, $2, $3, $4, $5, $6, $7, $8, $9, 1, 1, 1, $10::timestamptz, $11,
  $10::timestamptz, $11)
ON CONFLICT (source_key) WHERE source_key IS NOT NULL DO NOTHING
RETURNING id)sql";

// $1 id, $2 customer_id (NULL: none), $3 status, $4 match_kind, $5 unmatched_reason,
// $6 match_detail, $7 candidate ids as a bigint[] literal, $8 allocated_amount, $9 credit,
// $10 version, $11 update_time, $12 updated_by.
inline constexpr char kSavePayment[] = R"sql(UPDATE billing.payments SET
  customer_id = $2, status = $3, match_kind = $4, unmatched_reason = $5, match_detail = $6,
  candidate_customer_ids = $7::bigint[], allocated_amount = $8, credit = $9, version = $10,
  update_time = $11::timestamptz, updated_by = $12
WHERE id = $1)sql";

// $1 id.
inline constexpr char kGetPayment[] =
    "SELECT " ANKEN_PAYMENT_COLUMNS " FROM billing.payments p WHERE p.id = $1";

// $1 id. Locks the payment: every write to it (allocate, unallocate) takes this first.
inline constexpr char kGetPaymentForUpdate[] =
    "SELECT " ANKEN_PAYMENT_COLUMNS " FROM billing.payments p WHERE p.id = $1 FOR UPDATE";

// $1 statuses as a smallint[] literal ('{}': any), $2 customer_id (0: any), $3/$4 payment
// date from/to (NULL: open), $5 the payment_date of the last row of the previous page (NULL:
// first page), $6 its id, $7 limit. Newest first.
inline constexpr char kListPayments[] =
    "SELECT " ANKEN_PAYMENT_COLUMNS R"sql( FROM billing.payments p
WHERE (cardinality($1::smallint[]) = 0 OR p.status = ANY($1::smallint[]))
  AND ($2::bigint = 0 OR p.customer_id = $2)
  AND ($3::date IS NULL OR p.payment_date >= $3::date)
  AND ($4::date IS NULL OR p.payment_date <= $4::date)
  AND ($5::date IS NULL OR (p.payment_date, p.id) < ($5::date, $6::bigint))
ORDER BY p.payment_date DESC, p.id DESC
LIMIT $7)sql";

// $1 payment ids as a bigint[] literal. Their allocations in force, with the invoice number.
inline constexpr char kPaymentAllocations[] = R"sql(SELECT a.id, a.payment_id, a.invoice_id,
  i.number, a.amount, a.fee, a.manual
FROM billing.payment_allocations a
JOIN billing.invoices i ON i.id = a.invoice_id
WHERE a.payment_id = ANY($1::bigint[]) AND NOT a.reversed
ORDER BY a.payment_id, a.id)sql";

// $1 payment_id, $2 invoice_id, $3 amount, $4 fee, $5 manual, $6 create_time, $7 created_by.
inline constexpr char kInsertAllocation[] = R"sql(INSERT INTO billing.payment_allocations (
  payment_id, invoice_id, amount, fee, manual, create_time, created_by)
VALUES ($1, $2, $3, $4, $5, $6::timestamptz, $7)
RETURNING id)sql";

// $1 payment_id, $2 reverse_time, $3 reversed_by, $4 reverse_reason. Marks the payment's
// allocations in force reversed; the rows stay.
inline constexpr char kReverseAllocations[] = R"sql(UPDATE billing.payment_allocations SET
  reversed = true, reverse_time = $2::timestamptz, reversed_by = $3, reverse_reason = $4
WHERE payment_id = $1 AND NOT reversed
RETURNING id, invoice_id, amount, fee)sql";

// ---- learnt payer names ----

inline constexpr char kLearntPayers[] =
    "SELECT m.payer_key, m.customer_id FROM billing.payer_mappings m";

// $1 payer_key, $2 customer_id, $3 payer_name, $4 payment_id, $5 update_time, $6 updated_by.
// The latest manual match wins.
inline constexpr char kUpsertPayerMapping[] = R"sql(INSERT INTO billing.payer_mappings (
  payer_key, customer_id, payer_name, payment_id, update_time, updated_by)
VALUES ($1, $2, $3, $4, $5::timestamptz, $6)
ON CONFLICT (payer_key) DO UPDATE SET
  customer_id = excluded.customer_id, payer_name = excluded.payer_name,
  payment_id = excluded.payment_id, update_time = excluded.update_time,
  updated_by = excluded.updated_by
RETURNING payer_key)sql";

// $1 payment_id. A mapping learnt from this payment, taken back with its allocation.
inline constexpr char kForgetPayerMapping[] = R"sql(DELETE FROM billing.payer_mappings
WHERE payment_id = $1
RETURNING payer_key, customer_id)sql";

// ---- invoice balances ----

// $1 customer ids as a bigint[] literal. Their open invoices, locked in id order; a row
// another transaction changed meanwhile is re-read (and left out when no longer open).
inline constexpr char kLockOpenInvoicesOf[] =
    "SELECT " ANKEN_OPEN_INVOICE_COLUMNS
    " FROM billing.invoices i WHERE "
    "i.customer_id = ANY($1::bigint[]) AND " ANKEN_INVOICE_IS_OPEN " ORDER BY i.id FOR UPDATE";

// $1 invoice ids as a bigint[] literal. Those that exist, locked in id order.
inline constexpr char kLockInvoicesById[] =
    "SELECT " ANKEN_OPEN_INVOICE_COLUMNS
    " FROM billing.invoices i WHERE i.id = ANY($1::bigint[]) ORDER BY i.id FOR UPDATE";

// $1 id, $2 yen added to paid_amount (negative: taken back), $3 update_time, $4 updated_by.
// The schema's CHECKs refuse a paid amount below 0 or above what is open.
inline constexpr char kAddInvoicePaid[] = R"sql(UPDATE billing.invoices SET
  paid_amount = paid_amount + $2, version = version + 1, update_time = $3::timestamptz,
  updated_by = $4
WHERE id = $1
RETURNING paid_amount)sql";

// $1 id, $2 written_off_amount, $3 write_off_reason, $4 write_off_time (also the update
// time), $5 updated_by.
inline constexpr char kWriteOffInvoice[] = R"sql(UPDATE billing.invoices SET
  written_off_amount = $2, write_off_reason = $3, write_off_time = $4::timestamptz,
  version = version + 1, update_time = $4::timestamptz, updated_by = $5
WHERE id = $1)sql";

// $1 invoice_id, $2 from status, $3 to status. Moves the invoice's entries in one status to
// another, locking them in id order first; returns those moved.
inline constexpr char kMoveInvoiceEntries[] = R"sql(WITH locked AS (
  SELECT e.id FROM billing.entries e
  WHERE e.invoice_id = $1 AND e.status = $2
  ORDER BY e.id
  FOR UPDATE)
UPDATE billing.entries e SET status = $3, version = e.version + 1
FROM locked
WHERE e.id = locked.id
RETURNING e.id, e.project_id)sql";

// ---- receivables ----

// $1 customer_id (0: any). Open invoices by customer, due date, id.
inline constexpr char kOpenInvoices[] =
    "SELECT " ANKEN_OPEN_INVOICE_COLUMNS " FROM billing.invoices i WHERE " ANKEN_INVOICE_IS_OPEN
    " AND ($1::bigint = 0 OR i.customer_id = $1) ORDER BY i.customer_id, i.due_date, i.id";

// $1 as_of, $2 customer_id (0: any), $3 due_date of the last row of the previous page (NULL:
// first page), $4 its issue_date, $5 its id, $6 limit. Open invoices due before as_of,
// longest overdue first.
inline constexpr char kOverdueInvoices[] =
    "SELECT " ANKEN_OPEN_INVOICE_COLUMNS " FROM billing.invoices i WHERE " ANKEN_INVOICE_IS_OPEN
    R"sql( AND i.due_date < $1::date
  AND ($2::bigint = 0 OR i.customer_id = $2)
  AND ($3::date IS NULL OR (i.due_date, i.issue_date, i.id) > ($3::date, $4::date, $5::bigint))
ORDER BY i.due_date, i.issue_date, i.id
LIMIT $6)sql";

#undef ANKEN_INVOICE_IS_OPEN
#undef ANKEN_OPEN_INVOICE_COLUMNS
#undef ANKEN_PAYMENT_COLUMNS
#undef ANKEN_MICROS
#undef ANKEN_DAYS

}  // namespace anken::billing::sql
