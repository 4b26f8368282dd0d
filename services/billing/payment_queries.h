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

// A batch's payments at once, each already reconciled (its final state): $1 payment dates,
// $2 amounts, $3 payer names, $4 payer keys, $5 references, $6 memos, $7 source keys ('' for
// a manual payment: NULL), $8 customer ids (0: none), $9 statuses, $10 match kinds, $11
// unmatched reasons, $12 match details, $13 candidate ids (each a bigint[] literal), $14
// allocated amounts, $15 credits, as array literals of one length in source-key order (the
// order they are inserted in, so that two imports of overlapping statements meet on the
// unique index in one order); $16 source, $17 import_id (NULL: none), $18 create_time,
// $19 created_by. Version 1. Returns the id and source key ('' for none) of each row inserted:
// a key stored before, or earlier in the arrays, inserts nothing (a concurrent import of the
// same line waits here for the first to commit or roll back).
inline constexpr char kInsertPayments[] = R"sql(INSERT INTO billing.payments (
  payment_date, amount, payer_name, payer_key, reference, memo, source, source_key, import_id,
  customer_id, status, match_kind, unmatched_reason, match_detail, candidate_customer_ids,
  allocated_amount, credit, version, create_time, created_by, update_time, updated_by)
SELECT u.payment_date, u.amount, u.payer_name, u.payer_key, u.reference, u.memo, $16,
  nullif(u.source_key, ''), $17, nullif(u.customer_id, 0), u.status, u.match_kind,
  u.unmatched_reason, u.match_detail, u.candidates::bigint[], u.allocated_amount, u.credit, 1,
  $18::timestamptz, $19, $18::timestamptz, $19
FROM unnest($1::date[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[],
  $7::text[], $8::bigint[], $9::smallint[], $10::smallint[], $11::text[], $12::text[],
  $13::text[], $14::bigint[], $15::bigint[]) WITH ORDINALITY
  AS u(payment_date, amount, payer_name, payer_key, reference, memo, source_key, customer_id,
       status, match_kind, unmatched_reason, match_detail, candidates, allocated_amount, credit,
       n)
ORDER BY u.n
ON CONFLICT (source_key) WHERE source_key IS NOT NULL DO NOTHING
RETURNING id, coalesce(source_key, '') AS source_key)sql";

// $1 source keys as a text[] literal: those already stored (lines imported before).
inline constexpr char kStoredSourceKeys[] =
    "SELECT p.source_key FROM billing.payments p WHERE p.source_key = ANY($1::text[])";

// kSavePayment for many payments: $1 ids, $2 customer ids (0: none), $3 statuses, $4 match
// kinds, $5 unmatched reasons, $6 match details, $7 candidate ids (each a bigint[] literal),
// $8 allocated amounts, $9 credits, $10 versions, as array literals of one length;
// $11 update_time, $12 updated_by.
inline constexpr char kSavePayments[] = R"sql(UPDATE billing.payments p SET
  customer_id = nullif(u.customer_id, 0), status = u.status, match_kind = u.match_kind,
  unmatched_reason = u.unmatched_reason, match_detail = u.match_detail,
  candidate_customer_ids = u.candidates::bigint[], allocated_amount = u.allocated_amount,
  credit = u.credit, version = u.version, update_time = $11::timestamptz, updated_by = $12
FROM unnest($1::bigint[], $2::bigint[], $3::smallint[], $4::smallint[], $5::text[], $6::text[],
  $7::text[], $8::bigint[], $9::bigint[], $10::bigint[])
  AS u(id, customer_id, status, match_kind, unmatched_reason, match_detail, candidates,
       allocated_amount, credit, version)
WHERE p.id = u.id)sql";

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

// Allocations: $1 payment ids, $2 invoice ids, $3 amounts, $4 fees, $5 manual flags, as array
// literals of one length; $6 create_time, $7 created_by. Inserted (and so numbered) in the
// arrays' order.
inline constexpr char kInsertAllocations[] = R"sql(INSERT INTO billing.payment_allocations (
  payment_id, invoice_id, amount, fee, manual, create_time, created_by)
SELECT u.payment_id, u.invoice_id, u.amount, u.fee, u.manual, $6::timestamptz, $7
FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::boolean[])
  WITH ORDINALITY AS u(payment_id, invoice_id, amount, fee, manual, n)
ORDER BY u.n
RETURNING id, payment_id, invoice_id)sql";

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

// kLockOpenInvoicesOf without the lock: what an import reconciles on before it has inserted
// its payments (it locks afterwards, and checks nothing changed meanwhile).
inline constexpr char kOpenInvoicesOfCustomers[] =
    "SELECT " ANKEN_OPEN_INVOICE_COLUMNS
    " FROM billing.invoices i WHERE "
    "i.customer_id = ANY($1::bigint[]) AND " ANKEN_INVOICE_IS_OPEN " ORDER BY i.id";

// $1 invoice ids as a bigint[] literal. Those that exist, locked in id order.
inline constexpr char kLockInvoicesById[] =
    "SELECT " ANKEN_OPEN_INVOICE_COLUMNS
    " FROM billing.invoices i WHERE i.id = ANY($1::bigint[]) ORDER BY i.id FOR UPDATE";

// $1 invoice ids, $2 yen added to each one's paid_amount (negative: taken back), as array
// literals of one length (each id once); $3 update_time, $4 updated_by. Returns each id's new
// paid_amount. The schema's CHECKs refuse a paid amount below 0 or above what is open.
inline constexpr char kAddInvoicesPaid[] = R"sql(UPDATE billing.invoices i SET
  paid_amount = i.paid_amount + u.delta, version = i.version + 1,
  update_time = $3::timestamptz, updated_by = $4
FROM unnest($1::bigint[], $2::bigint[]) AS u(id, delta)
WHERE i.id = u.id
RETURNING i.id, i.paid_amount)sql";

// $1 id, $2 written_off_amount, $3 write_off_reason, $4 write_off_time (also the update
// time), $5 updated_by.
inline constexpr char kWriteOffInvoice[] = R"sql(UPDATE billing.invoices SET
  written_off_amount = $2, write_off_reason = $3, write_off_time = $4::timestamptz,
  version = version + 1, update_time = $4::timestamptz, updated_by = $5
WHERE id = $1)sql";

// $1 invoice ids as a bigint[] literal, $2 from status, $3 to status. Moves those invoices'
// entries in one status to another, locking them in id order first; returns those moved with
// their invoice.
inline constexpr char kMoveEntriesOfInvoices[] = R"sql(WITH locked AS (
  SELECT e.id FROM billing.entries e
  WHERE e.invoice_id = ANY($1::bigint[]) AND e.status = $2
  ORDER BY e.id
  FOR UPDATE)
UPDATE billing.entries e SET status = $3, version = e.version + 1
FROM locked
WHERE e.id = locked.id
RETURNING e.id, e.project_id, e.invoice_id)sql";

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
