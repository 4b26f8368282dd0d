#pragma once
// The SQL of PgBillingStore, as named constants (STYLE.md): every statement is parameterized
// ($n, run with exec_params) and names its tables with the `billing.` schema.
//
// Conventions the store relies on:
// - Instants are written as RFC 3339 text cast to timestamptz and read back as microseconds
//   since the epoch (`*_us` columns); civil dates (and months, stored as their first day) are
//   written as 'YYYY-MM-DD' text cast to date and read back as days since 1970-01-01
//   (`*_days` columns). No session setting (TimeZone, DateStyle) can change what is read.
// - Arrays are passed as one text parameter in Postgres array syntax ("{1,2}") and cast.
// - Optional filters are "empty means any" parameters; exec_params plans with the values, so
//   the unused branches fold away.
// - The *_COLUMNS macros list the columns every read of that table returns (the store reads
//   them by name); they are literal fragments so that each statement stays one constant.

namespace anken::billing::sql {

#define ANKEN_DAYS(expr) "(" expr " - DATE '1970-01-01')"
#define ANKEN_MICROS(expr) "(extract(epoch FROM " expr ") * 1000000)::bigint"

#define ANKEN_PLAN_COLUMNS                                                                    \
  "p.project_id, p.customer_id, p.timing, p.tax_category, p.recurring_interval, "             \
  "p.split_revenue, p.amount, " ANKEN_DAYS("p.start_month") " AS start_days, "                \
  ANKEN_DAYS("p.end_month") " AS end_days, p.auto_renew, p.renewal_unit_months, p.version, "  \
  ANKEN_MICROS("p.create_time") " AS create_us, p.created_by, "                               \
  ANKEN_MICROS("p.update_time") " AS update_us, p.updated_by"

#define ANKEN_ENTRY_COLUMNS                                                                   \
  "e.id, e.project_id, e.customer_id, " ANKEN_DAYS("e.billing_date") " AS billing_days, "     \
  ANKEN_DAYS("e.revenue_date") " AS revenue_days, e.amount, e.tax, e.tax_category, e.status, " \
  "coalesce(e.period, '') AS period, e.description, coalesce(e.invoice_id, 0) AS invoice_id, " \
  "e.version, e.kind, coalesce(e.commission_charge_id, 0) AS commission_charge_id"

#define ANKEN_INVOICE_COLUMNS                                                                 \
  "i.id, i.number, i.customer_id, i.recipient_name, i.issuer_name, "                          \
  "i.issuer_registration_number, i.issuer_address, i.issuer_bank_account, "                   \
  ANKEN_DAYS("i.issue_date") " AS issue_days, "                                               \
  ANKEN_DAYS("i.due_date") " AS due_days, i.subtotal, i.tax, i.total, i.rounding, i.status, " \
  "i.cancel_reason, " ANKEN_MICROS("i.cancel_time") " AS cancel_us, i.paid_amount, "         \
  "i.written_off_amount, i.write_off_reason, " ANKEN_MICROS("i.write_off_time")                \
  " AS write_off_us, i.version, "                                                             \
  ANKEN_MICROS("i.create_time") " AS create_us, i.created_by, "                               \
  ANKEN_MICROS("i.update_time") " AS update_us, i.updated_by"

#define ANKEN_FAILURE_COLUMNS                                                                 \
  "f.id, f.project_id, f.code, f.reason, " ANKEN_MICROS("f.failure_time") " AS failure_us, "  \
  ANKEN_DAYS("f.as_of") " AS as_of_days"

// ---- plans ----

// $1 project_id.
inline constexpr char kGetPlan[] =
    "SELECT " ANKEN_PLAN_COLUMNS " FROM billing.plans p WHERE p.project_id = $1";

// $1 project_id. Locks the plan: the writes that change the plan itself (SetPlan, a
// renewal) take this lock first, so they serialize per plan and exclude the entry writes
// below.
inline constexpr char kGetPlanForUpdate[] =
    "SELECT " ANKEN_PLAN_COLUMNS " FROM billing.plans p WHERE p.project_id = $1 FOR UPDATE";

// $1 project_id. What entry writes (add, update, remove) take first: the plan (its timing,
// the set of its entries) stays as it is until they commit, while they do not block one
// another.
inline constexpr char kGetPlanForShare[] =
    "SELECT " ANKEN_PLAN_COLUMNS " FROM billing.plans p WHERE p.project_id = $1 FOR SHARE";

// $1 project_id, $2 customer_id, $3 timing, $4 tax_category, $5 interval, $6 split_revenue,
// $7 amount, $8 start_month, $9 end_month, $10 auto_renew, $11 renewal_unit_months (the
// recurring ones NULL together), $12 version, $13 create_time, $14 created_by,
// $15 update_time, $16 updated_by. No row comes back when a concurrent call created the
// plan first.
inline constexpr char kInsertPlan[] = R"sql(INSERT INTO billing.plans (
  project_id, customer_id, timing, tax_category, recurring_interval, split_revenue, amount,
  start_month, end_month, auto_renew, renewal_unit_months, version, create_time, created_by,
  update_time, updated_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8::date, $9::date, $10, $11, $12, $13::timestamptz, $14,
  $15::timestamptz, $16)
ON CONFLICT (project_id) DO NOTHING
RETURNING project_id)sql";

// kInsertPlan's $1..$12, then $13 update_time, $14 updated_by.
inline constexpr char kUpdatePlan[] = R"sql(UPDATE billing.plans SET
  customer_id = $2, timing = $3, tax_category = $4, recurring_interval = $5,
  split_revenue = $6, amount = $7, start_month = $8::date, end_month = $9::date,
  auto_renew = $10, renewal_unit_months = $11, version = $12,
  update_time = $13::timestamptz, updated_by = $14
WHERE project_id = $1)sql";

// $1 project_id, $2 new end month, $3 version, $4 update_time, $5 updated_by.
inline constexpr char kSetPlanEndMonth[] = R"sql(UPDATE billing.plans SET
  end_month = $2::date, version = $3, update_time = $4::timestamptz, updated_by = $5
WHERE project_id = $1)sql";

// $1 project ids as a bigint[] literal. A renewal batch's plans, locked in project id order
// (the order every multi-plan write locks in, so concurrent runs queue instead of deadlocking).
inline constexpr char kLockPlans[] =
    "SELECT " ANKEN_PLAN_COLUMNS
    " FROM billing.plans p WHERE p.project_id = ANY($1::bigint[]) ORDER BY p.project_id FOR UPDATE";

// $1 project ids, $2 new end months (date[]), $3 versions, as array literals of one length;
// $4 update_time, $5 updated_by. kSetPlanEndMonth for many plans at once.
inline constexpr char kSetPlanEndMonths[] = R"sql(UPDATE billing.plans p SET
  end_month = u.end_month, version = u.version, update_time = $4::timestamptz, updated_by = $5
FROM unnest($1::bigint[], $2::date[], $3::bigint[]) AS u(project_id, end_month, version)
WHERE p.project_id = u.project_id)sql";

// $1 first day of the month. Recurring, auto-renewing plans whose end month is before it.
inline constexpr char kRenewalCandidates[] =
    "SELECT " ANKEN_PLAN_COLUMNS R"sql( FROM billing.plans p
WHERE p.timing = 3 AND p.auto_renew AND p.end_month < $1::date
ORDER BY p.project_id)sql";

// ---- entries ----

// $1 id.
inline constexpr char kGetEntry[] =
    "SELECT " ANKEN_ENTRY_COLUMNS " FROM billing.entries e WHERE e.id = $1";

// $1 id. Locks the row for a read-modify-write.
inline constexpr char kGetEntryForUpdate[] =
    "SELECT " ANKEN_ENTRY_COLUMNS " FROM billing.entries e WHERE e.id = $1 FOR UPDATE";

// $1 project_id. The plan's entries by billing date, then id. Only PLAN entries (kind 1):
// the commission entries of a referred case bill its partner and are no part of its plan.
inline constexpr char kPlanEntries[] =
    "SELECT " ANKEN_ENTRY_COLUMNS
    " FROM billing.entries e WHERE e.project_id = $1 AND e.kind = 1"
    " ORDER BY e.billing_date, e.id";

// $1 project ids as a bigint[] literal. Their plans, by project id (missed billing).
inline constexpr char kPlansOfCases[] =
    "SELECT " ANKEN_PLAN_COLUMNS
    " FROM billing.plans p WHERE p.project_id = ANY($1::bigint[]) ORDER BY p.project_id";

// $1 project ids as a bigint[] literal. Their PLAN entries by project, billing date, id.
inline constexpr char kPlanEntriesOfCases[] =
    "SELECT " ANKEN_ENTRY_COLUMNS
    " FROM billing.entries e WHERE e.project_id = ANY($1::bigint[]) AND e.kind = 1"
    " ORDER BY e.project_id, e.billing_date, e.id";

// $1 commission_charge_id. The charge's entries (the first, then adjustments), oldest first.
inline constexpr char kChargeEntries[] =
    "SELECT " ANKEN_ENTRY_COLUMNS
    " FROM billing.entries e WHERE e.commission_charge_id = $1 ORDER BY e.id";

// $1 project_id. A re-plan drops the PLAN entries that are still UNBILLED; the others (and
// every commission entry of the case) stay.
inline constexpr char kDeleteUnbilledEntries[] =
    "DELETE FROM billing.entries WHERE project_id = $1 AND kind = 1 AND status = 1 RETURNING id";

// $1 project_id, $2 customer_id, $3 billing_date, $4 revenue_date, $5 amount, $6 tax,
// $7 tax_category, $8 period (NULL: none), $9 description. New entries are UNBILLED at
// version 1, of kind PLAN. No row comes back when the plan already has an entry of that period
// (a second or concurrent generation or renewal); commission entries have no period, so they
// never conflict.
inline constexpr char kInsertEntry[] = R"sql(INSERT INTO billing.entries (
  project_id, customer_id, billing_date, revenue_date, amount, tax, tax_category, status,
  period, description, version, kind)
VALUES ($1, $2, $3::date, $4::date, $5, $6, $7, 1, $8, $9, 1, 1)
ON CONFLICT (project_id, period) DO NOTHING
RETURNING id)sql";

// Many UNBILLED plan entries at once, as kInsertEntry: $1 project ids, $2 customer ids,
// $3 billing dates, $4 revenue dates, $5 amounts, $6 taxes, $7 tax categories, $8 periods
// ('' for none), $9 descriptions, as array literals of one length. Rows are inserted (and so
// numbered) in the arrays' order; a period the plan has already is skipped. Returns the
// inserted rows' id and project_id.
inline constexpr char kInsertEntries[] = R"sql(INSERT INTO billing.entries (
  project_id, customer_id, billing_date, revenue_date, amount, tax, tax_category, status,
  period, description, version, kind)
SELECT u.project_id, u.customer_id, u.billing_date, u.revenue_date, u.amount, u.tax,
  u.tax_category, 1, nullif(u.period, ''), u.description, 1, 1
FROM unnest($1::bigint[], $2::bigint[], $3::date[], $4::date[], $5::bigint[], $6::bigint[],
  $7::smallint[], $8::text[], $9::text[])
  AS u(project_id, customer_id, billing_date, revenue_date, amount, tax, tax_category, period,
       description)
ON CONFLICT (project_id, period) DO NOTHING
RETURNING id, project_id)sql";

// $1 id, $2 billing_date, $3 revenue_date, $4 amount, $5 tax, $6 tax_category, $7 status,
// $8 description, $9 invoice_id (NULL: none), $10 version.
inline constexpr char kUpdateEntry[] = R"sql(UPDATE billing.entries SET
  billing_date = $2::date, revenue_date = $3::date, amount = $4, tax = $5, tax_category = $6,
  status = $7, description = $8, invoice_id = $9, version = $10
WHERE id = $1)sql";

// $1 id.
inline constexpr char kDeleteEntry[] = "DELETE FROM billing.entries WHERE id = $1";

// $1 project_id (0: any), $2 customer_id (0: any), $3 statuses as a smallint[] literal
// ('{}': any), $4/$5 billing date from/to, $6/$7 revenue date from/to (NULL: open), $8 the
// billing_date of the last row of the previous page (NULL: first page), $9 its id, $10 limit.
inline constexpr char kListEntries[] =
    "SELECT " ANKEN_ENTRY_COLUMNS R"sql( FROM billing.entries e
WHERE ($1::bigint = 0 OR e.project_id = $1)
  AND ($2::bigint = 0 OR e.customer_id = $2)
  AND (cardinality($3::smallint[]) = 0 OR e.status = ANY($3::smallint[]))
  AND ($4::date IS NULL OR e.billing_date >= $4::date)
  AND ($5::date IS NULL OR e.billing_date <= $5::date)
  AND ($6::date IS NULL OR e.revenue_date >= $6::date)
  AND ($7::date IS NULL OR e.revenue_date <= $7::date)
  AND ($8::date IS NULL OR (e.billing_date, e.id) > ($8::date, $9::bigint))
ORDER BY e.billing_date, e.id
LIMIT $10)sql";

// $1 customer_id, $2 ids as a bigint[] literal ('{}': all). READY entries by billing date.
inline constexpr char kReadyEntries[] =
    "SELECT " ANKEN_ENTRY_COLUMNS R"sql( FROM billing.entries e
WHERE e.customer_id = $1 AND e.status = 2
  AND (cardinality($2::bigint[]) = 0 OR e.id = ANY($2::bigint[]))
ORDER BY e.billing_date, e.id)sql";

// $1 ids as a bigint[] literal. Locks them in id order, the order every multi-entry write
// takes, so two such writes never deadlock.
inline constexpr char kLockEntries[] =
    "SELECT " ANKEN_ENTRY_COLUMNS
    " FROM billing.entries e WHERE e.id = ANY($1::bigint[]) ORDER BY e.id FOR UPDATE";

// $1 invoice_id. Its entries, locked in id order.
inline constexpr char kLockInvoiceEntries[] =
    "SELECT " ANKEN_ENTRY_COLUMNS
    " FROM billing.entries e WHERE e.invoice_id = $1 ORDER BY e.id FOR UPDATE";

// $1 project_id, $2 ids as a bigint[] literal: those that are (PLAN) entries of the plan.
inline constexpr char kEntriesOfPlan[] =
    "SELECT e.id FROM billing.entries e"
    " WHERE e.project_id = $1 AND e.kind = 1 AND e.id = ANY($2::bigint[])";

// $1 first day of the first month, $2 first day of the month after the last. Per revenue
// month (as days since the epoch) and tax category; invoiced = BILLED, PAID, UNCOLLECTIBLE.
inline constexpr char kSalesSummary[] = R"sql(SELECT
  (date_trunc('month', e.revenue_date)::date - DATE '1970-01-01') AS month_days,
  e.tax_category,
  sum(e.amount)::bigint AS amount,
  coalesce(sum(e.amount) FILTER (WHERE e.status >= 3), 0)::bigint AS invoiced_amount
FROM billing.entries e
WHERE e.revenue_date >= $1::date AND e.revenue_date < $2::date
GROUP BY 1, 2
ORDER BY 1, 2)sql";

// ---- renewals ----

// $1 as_of, $2 started_by, $3 start_time.
inline constexpr char kInsertRenewalRun[] = R"sql(INSERT INTO billing.renewal_runs (
  as_of, started_by, start_time)
VALUES ($1::date, $2, $3::timestamptz)
RETURNING id)sql";

// $1 run_id, $2 project_id, $3 code, $4 reason, $5 failure_time, $6 as_of. A plan's open
// failure is updated instead of a second one being added.
inline constexpr char kUpsertRenewalFailure[] = R"sql(INSERT INTO billing.renewal_failures (
  run_id, project_id, code, reason, failure_time, as_of)
VALUES ($1, $2, $3, $4, $5::timestamptz, $6::date)
ON CONFLICT (project_id) WHERE NOT resolved DO UPDATE SET
  run_id = excluded.run_id, code = excluded.code, reason = excluded.reason,
  failure_time = excluded.failure_time, as_of = excluded.as_of
RETURNING id)sql";

// $1 project_id, $2 resolve_time, $3 resolve_run_id. Resolves the plan's open failure.
inline constexpr char kResolveRenewalFailures[] = R"sql(UPDATE billing.renewal_failures SET
  resolved = true, resolve_time = $2::timestamptz, resolve_run_id = $3
WHERE project_id = $1 AND NOT resolved
RETURNING id)sql";

// $1 project ids as a bigint[] literal, $2 resolve_time, $3 resolve_run_id.
// kResolveRenewalFailures for many plans at once.
inline constexpr char kResolveRenewalFailuresOf[] = R"sql(UPDATE billing.renewal_failures SET
  resolved = true, resolve_time = $2::timestamptz, resolve_run_id = $3
WHERE project_id = ANY($1::bigint[]) AND NOT resolved
RETURNING id, project_id)sql";

// $1 include_resolved, $2 before_id (0: from the newest), $3 limit. Newest first.
inline constexpr char kListRenewalFailures[] =
    "SELECT " ANKEN_FAILURE_COLUMNS R"sql( FROM billing.renewal_failures f
WHERE ($1::boolean OR NOT f.resolved)
  AND ($2::bigint = 0 OR f.id < $2)
ORDER BY f.id DESC
LIMIT $3)sql";

// ---- invoices ----

// $1 year. The year's next invoice number; the row lock it takes is held until commit, so
// numbers are gapless (a rollback returns the number) and concurrent issues queue.
inline constexpr char kNextInvoiceNumber[] = R"sql(INSERT INTO billing.invoice_counters AS c (
  year, last_number)
VALUES ($1, 1)
ON CONFLICT (year) DO UPDATE SET last_number = c.last_number + 1
RETURNING c.last_number)sql";

// $1 number, $2 customer_id, $3 recipient_name, $4 issuer_name,
// $5 issuer_registration_number, $6 issue_date, $7 due_date, $8 subtotal, $9 tax, $10 total,
// $11 rounding, $12 status, $13 version, $14 create_time, $15 created_by, $16 update_time,
// $17 updated_by, $18 issuer_address, $19 issuer_bank_account (NULL only for invoices issued
// before V003).
inline constexpr char kInsertInvoice[] = R"sql(INSERT INTO billing.invoices (
  number, customer_id, recipient_name, issuer_name, issuer_registration_number, issue_date,
  due_date, subtotal, tax, total, rounding, status, version, create_time, created_by,
  update_time, updated_by, issuer_address, issuer_bank_account)
VALUES ($1, $2, $3, $4, $5, $6::date, $7::date, $8, $9, $10, $11, $12, $13, $14::timestamptz,
  $15, $16::timestamptz, $17, $18, $19)
RETURNING id)sql";

// $1 invoice_id, $2 position (1-based), $3 entry_id, $4 the entry's project_id,
// $5 description, $6 amount, $7 tax_category, $8 allocated_tax, $9 revenue_date.
inline constexpr char kInsertInvoiceLine[] = R"sql(INSERT INTO billing.invoice_lines (
  invoice_id, position, entry_id, project_id, description, amount, tax_category,
  allocated_tax, revenue_date)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::date))sql";

// $1 invoice_id, $2 tax_category, $3 taxable_amount, $4 tax.
inline constexpr char kInsertRateTotal[] = R"sql(INSERT INTO billing.invoice_rate_totals (
  invoice_id, tax_category, taxable_amount, tax)
VALUES ($1, $2, $3, $4))sql";

// $1 id.
inline constexpr char kGetInvoice[] =
    "SELECT " ANKEN_INVOICE_COLUMNS " FROM billing.invoices i WHERE i.id = $1";

// $1 id. Locks the row for a cancellation.
inline constexpr char kGetInvoiceForUpdate[] =
    "SELECT " ANKEN_INVOICE_COLUMNS " FROM billing.invoices i WHERE i.id = $1 FOR UPDATE";

// $1 customer_id (0: any), $2 statuses as a smallint[] literal ('{}': any), $3/$4 issue date
// from/to (NULL: open), $5 before_id (0: from the newest), $6 limit. Newest first.
inline constexpr char kListInvoices[] =
    "SELECT " ANKEN_INVOICE_COLUMNS R"sql( FROM billing.invoices i
WHERE ($1::bigint = 0 OR i.customer_id = $1)
  AND (cardinality($2::smallint[]) = 0 OR i.status = ANY($2::smallint[]))
  AND ($3::date IS NULL OR i.issue_date >= $3::date)
  AND ($4::date IS NULL OR i.issue_date <= $4::date)
  AND ($5::bigint = 0 OR i.id < $5)
ORDER BY i.id DESC
LIMIT $6)sql";

// $1 invoice ids as a bigint[] literal.
inline constexpr char kInvoiceLines[] = R"sql(SELECT l.invoice_id, l.position, l.entry_id,
  l.description, l.amount, l.tax_category, l.allocated_tax,
  (l.revenue_date - DATE '1970-01-01') AS revenue_days
FROM billing.invoice_lines l
WHERE l.invoice_id = ANY($1::bigint[])
ORDER BY l.invoice_id, l.position)sql";

// $1 invoice ids as a bigint[] literal. Per invoice in category order (STANDARD, REDUCED,
// EXEMPT), as tax::Totals orders them.
inline constexpr char kInvoiceRateTotals[] = R"sql(SELECT t.invoice_id, t.tax_category,
  t.taxable_amount, t.tax
FROM billing.invoice_rate_totals t
WHERE t.invoice_id = ANY($1::bigint[])
ORDER BY t.invoice_id, t.tax_category)sql";

// $1 id, $2 status, $3 cancel_reason, $4 cancel_time (NULL: none), $5 version,
// $6 update_time, $7 updated_by. Only the cancellation changes an issued invoice.
inline constexpr char kUpdateInvoiceStatus[] = R"sql(UPDATE billing.invoices SET
  status = $2, cancel_reason = $3, cancel_time = $4::timestamptz, version = $5,
  update_time = $6::timestamptz, updated_by = $7
WHERE id = $1)sql";

// ---- invoice issue requests and the outbox ----

// $1 project_id, $2 entry_ids as a bigint[] literal, $3 note, $4 requested_by,
// $5 request_time.
inline constexpr char kInsertIssueRequest[] = R"sql(INSERT INTO billing.invoice_issue_requests (
  project_id, entry_ids, note, requested_by, request_time)
VALUES ($1, $2::bigint[], $3, $4, $5::timestamptz)
RETURNING id)sql";

// $1 kind, $2 payload (JSON text), $3 created_at.
inline constexpr char kInsertOutbox[] = R"sql(INSERT INTO billing.notification_outbox (
  kind, payload, created_at)
VALUES ($1, $2::jsonb, $3::timestamptz)
RETURNING id)sql";

// $1 limit. Undelivered notifications, oldest first (the partial index
// notification_outbox_undelivered serves it).
inline constexpr char kPendingNotifications[] = R"sql(SELECT id, kind, payload::text AS payload,
  )sql" ANKEN_MICROS("created_at") R"sql( AS created_us
FROM billing.notification_outbox
WHERE delivered_at IS NULL
ORDER BY id
LIMIT $1)sql";

// $1 id, $2 delivered_at. No row when the notification was already delivered.
inline constexpr char kMarkNotificationDelivered[] = R"sql(UPDATE billing.notification_outbox
SET delivered_at = $2::timestamptz
WHERE id = $1 AND delivered_at IS NULL
RETURNING id)sql";

// $1 id.
inline constexpr char kNotificationExists[] = R"sql(SELECT 1 FROM billing.notification_outbox
WHERE id = $1)sql";

// ---- audit ----

// $1 event_time, $2 actor, $3 actor_role, $4 method, $5 request_id (NULL: none), then $6
// resource types, $7 resource ids, $8 change JSON texts as text[] literals of one length: one
// call's events (db::WriteAuditFor's record), inserted in the arrays' order.
inline constexpr char kInsertAuditEvents[] = R"sql(INSERT INTO billing.audit_events (
  event_time, actor, actor_role, method, resource_type, resource_id, change_json, request_id)
SELECT $1::timestamptz, $2, $3, $4, u.resource_type, u.resource_id, u.change_json::jsonb, $5
FROM unnest($6::text[], $7::text[], $8::text[]) AS u(resource_type, resource_id, change_json))sql";

// $1 "plans/<id>", $2 "plans/<id>/%", $3 project_id, $4 before_id (0: from the newest),
// $5 limit. The case's plan and entries, the invoices that billed its entries and its
// invoice-issue requests; newest first.
inline constexpr char kListAuditEvents[] = R"sql(SELECT e.id,
  (extract(epoch FROM e.event_time) * 1000000)::bigint AS event_us, e.actor, e.actor_role,
  e.method, e.resource_type, e.resource_id, e.change_json::text AS change_json,
  coalesce(e.request_id, '') AS request_id
FROM billing.audit_events e
WHERE (e.resource_id = $1 OR e.resource_id LIKE $2
       OR e.resource_id IN (
         SELECT 'invoices/' || l.invoice_id FROM billing.invoice_lines l
         WHERE l.project_id = $3
         UNION
         SELECT 'invoice_requests/' || r.id FROM billing.invoice_issue_requests r
         WHERE r.project_id = $3))
  AND ($4::bigint = 0 OR e.id < $4)
ORDER BY e.id DESC
LIMIT $5)sql";

#undef ANKEN_FAILURE_COLUMNS
#undef ANKEN_INVOICE_COLUMNS
#undef ANKEN_ENTRY_COLUMNS
#undef ANKEN_PLAN_COLUMNS
#undef ANKEN_MICROS
#undef ANKEN_DAYS

}  // namespace anken::billing::sql
