#pragma once
// The SQL of PgProjectStore, as named constants (STYLE.md): every statement is parameterized
// ($n, run with exec_params) and names its tables with the `project.` schema.
//
// Conventions the store relies on:
// - Instants are written as RFC 3339 text cast to timestamptz and read back as microseconds
//   since the epoch (`*_us` columns); civil dates are written as 'YYYY-MM-DD' text cast to
//   date and read back as days since 1970-01-01 (`*_days` columns). No session setting
//   (TimeZone, DateStyle) can change what is read.
// - Arrays are passed as one text parameter in Postgres array syntax ("{1,2}") and cast.
// - Optional filters are "empty means any" parameters; exec_params plans with the values, so
//   the unused branches fold away.
// - The *_COLUMNS macros list the columns every read of that table returns (the store reads
//   them by name); they are literal fragments so that each statement stays one constant.

namespace anken::project::sql {

#define ANKEN_DAYS(expr) "(" expr " - DATE '1970-01-01')"
#define ANKEN_MICROS(expr) "(extract(epoch FROM " expr ") * 1000000)::bigint"

#define ANKEN_PROJECT_COLUMNS                                                                  \
  "p.id, p.number, p.customer_id, p.name, coalesce(p.category_id, 0) AS category_id, "         \
  ANKEN_DAYS("p.quote_date") " AS quote_days, "                                                \
  ANKEN_DAYS("p.acceptance_date") " AS acceptance_days, "                                      \
  "p.order_status, p.progress_status, p.owner, p.department, p.memo, p.partner_id, "           \
  ANKEN_DAYS("p.referral_date") " AS referral_days, p.outcome, "                               \
  ANKEN_DAYS("p.completion_date") " AS completion_days, p.amount, "                            \
  ANKEN_DAYS("p.lost_date") " AS lost_days, p.referral_remarks, p.version, "                   \
  ANKEN_MICROS("p.create_time") " AS create_us, p.created_by, "                                \
  ANKEN_MICROS("p.update_time") " AS update_us, p.updated_by"

#define ANKEN_QUOTE_COLUMNS                                                                    \
  "q.id, q.project_id, q.number, " ANKEN_DAYS("q.issue_date") " AS issue_days, "               \
  ANKEN_DAYS("q.valid_until") " AS valid_until_days, q.win_probability, "                      \
  ANKEN_DAYS("q.expected_order_month") " AS expected_month_days, q.status, q.note, "           \
  "q.subtotal, q.tax, q.total, q.version, "                                                    \
  ANKEN_MICROS("q.create_time") " AS create_us, q.created_by, "                                \
  ANKEN_MICROS("q.update_time") " AS update_us, q.updated_by"

#define ANKEN_TODO_COLUMNS                                                                     \
  "t.id, t.project_id, t.title, " ANKEN_DAYS("t.due_date") " AS due_days, t.assignee, "        \
  "t.done, " ANKEN_MICROS("t.done_time") " AS done_us"

#define ANKEN_ACTIVITY_COLUMNS                                                                 \
  "a.id, a.project_id, a.kind, " ANKEN_MICROS("a.occur_time") " AS occur_us, a.summary, "      \
  "a.next_action, a.recorded_by"

#define ANKEN_PRODUCT_COLUMNS \
  "d.id, d.code, d.name, d.unit, d.unit_price, d.tax_category, d.active"

// The filters of ListProjects: $1 customer_id (0: any), $2 order statuses as a smallint[]
// literal ('{}': any), $3 owner ('': any), $4 department ('': any), $5 partner_id (0: any),
// $6 outcomes as a smallint[] literal ('{}': any), $7/$8 quote date from/to, $9/$10
// acceptance date from/to (NULL: open).
#define ANKEN_PROJECT_FILTER                                                            \
  " WHERE ($1::bigint = 0 OR p.customer_id = $1)"                                          \
  " AND (cardinality($2::smallint[]) = 0 OR p.order_status = ANY($2::smallint[]))"         \
  " AND ($3::text = '' OR p.owner = $3)"                                                   \
  " AND ($4::text = '' OR p.department = $4)"                                              \
  " AND ($5::bigint = 0 OR p.partner_id = $5)"                                             \
  " AND (cardinality($6::smallint[]) = 0 OR p.outcome = ANY($6::smallint[]))"              \
  " AND ($7::date IS NULL OR p.quote_date >= $7::date)"                                    \
  " AND ($8::date IS NULL OR p.quote_date <= $8::date)"                                    \
  " AND ($9::date IS NULL OR p.acceptance_date >= $9::date)"                               \
  " AND ($10::date IS NULL OR p.acceptance_date <= $10::date)"

// ---- projects ----

// $1 id.
inline constexpr char kGetProject[] =
    "SELECT " ANKEN_PROJECT_COLUMNS " FROM project.projects p WHERE p.id = $1";

// $1 id. Locks the row for a read-modify-write.
inline constexpr char kGetProjectForUpdate[] =
    "SELECT " ANKEN_PROJECT_COLUMNS " FROM project.projects p WHERE p.id = $1 FOR UPDATE";

// $1 id. Serializes the writes that number a case's quotes (and that accept one) without
// blocking inserts whose foreign keys reference the case.
inline constexpr char kLockProjectForChildren[] =
    "SELECT p.id FROM project.projects p WHERE p.id = $1 FOR NO KEY UPDATE";

// $1 id. Cases are never deleted, so an existence check needs no lock.
inline constexpr char kProjectExists[] = "SELECT p.id FROM project.projects p WHERE p.id = $1";

// $1 ids as a bigint[] literal.
inline constexpr char kGetProjects[] =
    "SELECT " ANKEN_PROJECT_COLUMNS
    " FROM project.projects p WHERE p.id = ANY($1::bigint[]) ORDER BY p.id";

// $1 numbers as a text[] literal: those cases, locked, in id order (the order every
// multi-case write locks in, so two imports cannot deadlock on each other).
inline constexpr char kGetProjectsByNumberForUpdate[] =
    "SELECT " ANKEN_PROJECT_COLUMNS
    " FROM project.projects p WHERE p.number = ANY($1::text[]) ORDER BY p.id FOR UPDATE";

// Filters $1..$10 as ANKEN_PROJECT_FILTER; $11 after_id (0: first page), $12 limit.
inline constexpr char kListProjectsByNumber[] =
    "SELECT " ANKEN_PROJECT_COLUMNS " FROM project.projects p" ANKEN_PROJECT_FILTER R"sql(
  AND p.id > $11
ORDER BY p.id
LIMIT $12)sql";

// Filters $1..$10 as ANKEN_PROJECT_FILTER; $11 after_id (0: first page), $12 the after
// row's update_time, $13 limit. Newest update first, ties by id descending.
inline constexpr char kListProjectsByUpdateTime[] =
    "SELECT " ANKEN_PROJECT_COLUMNS " FROM project.projects p" ANKEN_PROJECT_FILTER R"sql(
  AND ($11::bigint = 0 OR (p.update_time, p.id) < ($12::timestamptz, $11::bigint))
ORDER BY p.update_time DESC, p.id DESC
LIMIT $13)sql";

// The next case number (formatted as 7 digits by the store).
inline constexpr char kNextProjectNumber[] = "SELECT nextval('project.project_number_seq')";

// $1 number, $2 customer_id, $3 name, $4 category_id (NULL: none), $5 quote_date,
// $6 acceptance_date, $7 order_status, $8 progress_status, $9 owner, $10 department, $11 memo,
// $12 partner_id, $13 referral_date, $14 outcome, $15 completion_date, $16 amount,
// $17 lost_date, $18 referral_remarks (the referral ones NULL together when not referred),
// $19 version, $20 create_time, $21 created_by, $22 update_time, $23 updated_by.
inline constexpr char kInsertProject[] = R"sql(INSERT INTO project.projects (
  number, customer_id, name, category_id, quote_date, acceptance_date, order_status,
  progress_status, owner, department, memo, partner_id, referral_date, outcome,
  completion_date, amount, lost_date, referral_remarks, version, create_time, created_by,
  update_time, updated_by)
VALUES ($1, $2, $3, $4, $5::date, $6::date, $7, $8, $9, $10, $11, $12, $13::date, $14,
  $15::date, $16, $17::date, $18, $19, $20::timestamptz, $21, $22::timestamptz, $23)
RETURNING id)sql";

// $1 id, then kInsertProject's $2..$18 as $2..$18, $19 version, $20 update_time,
// $21 updated_by. The number and the creation stamp never change.
inline constexpr char kUpdateProject[] = R"sql(UPDATE project.projects SET
  customer_id = $2, name = $3, category_id = $4, quote_date = $5::date,
  acceptance_date = $6::date, order_status = $7, progress_status = $8, owner = $9,
  department = $10, memo = $11, partner_id = $12, referral_date = $13::date, outcome = $14,
  completion_date = $15::date, amount = $16, lost_date = $17::date, referral_remarks = $18,
  version = $19, update_time = $20::timestamptz, updated_by = $21
WHERE id = $1)sql";

// $1 numbers as a text[] literal.
inline constexpr char kExistingNumbers[] =
    "SELECT p.number FROM project.projects p WHERE p.number = ANY($1::text[]) ORDER BY p.number";

// ---- extra orders ----

// $1 project ids as a bigint[] literal: their extra orders, oldest first per case.
inline constexpr char kListExtraOrders[] = "SELECT e.id, e.project_id, e.kind, " ANKEN_DAYS(
    "e.order_date") R"sql( AS order_days, e.amount, e.note
FROM project.extra_orders e
WHERE e.project_id = ANY($1::bigint[])
ORDER BY e.project_id, e.id)sql";

// $1 project_id, $2 kind, $3 order_date, $4 amount, $5 note, $6 create_time, $7 created_by.
inline constexpr char kInsertExtraOrder[] = R"sql(INSERT INTO project.extra_orders (
  project_id, kind, order_date, amount, note, create_time, created_by)
VALUES ($1, $2, $3::date, $4, $5, $6::timestamptz, $7)
RETURNING id)sql";

// ---- categories ----

// $1 id. Categories are never deleted; KEY SHARE keeps the row while a case references it.
inline constexpr char kCategoryExists[] =
    "SELECT c.id FROM project.categories c WHERE c.id = $1 FOR KEY SHARE";

// $1 id.
inline constexpr char kGetCategory[] =
    "SELECT c.id, c.name FROM project.categories c WHERE c.id = $1";

// By name (the order people look for them in).
inline constexpr char kListCategories[] =
    "SELECT c.id, c.name FROM project.categories c ORDER BY c.name, c.id";

// $1 name, $2 create_time, $3 created_by; no row comes back when the name is taken.
inline constexpr char kInsertCategory[] = R"sql(INSERT INTO project.categories (
  name, create_time, created_by)
VALUES ($1, $2::timestamptz, $3)
ON CONFLICT (name) DO NOTHING
RETURNING id)sql";

// ---- products ----

// $1 id.
inline constexpr char kGetProduct[] =
    "SELECT " ANKEN_PRODUCT_COLUMNS " FROM project.products d WHERE d.id = $1";

// $1 ids as a bigint[] literal.
inline constexpr char kGetProducts[] =
    "SELECT " ANKEN_PRODUCT_COLUMNS
    " FROM project.products d WHERE d.id = ANY($1::bigint[]) ORDER BY d.id";

// $1 include_inactive, $2 after_id, $3 limit.
inline constexpr char kListProducts[] =
    "SELECT " ANKEN_PRODUCT_COLUMNS R"sql( FROM project.products d
WHERE ($1::boolean OR d.active) AND d.id > $2
ORDER BY d.id
LIMIT $3)sql";

// $1 code, $2 name, $3 unit, $4 unit_price, $5 tax_category, $6 active, $7 create_time,
// $8 created_by; no row comes back when the code is taken.
inline constexpr char kInsertProduct[] = R"sql(INSERT INTO project.products (
  code, name, unit, unit_price, tax_category, active, create_time, created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz, $8)
ON CONFLICT (code) DO NOTHING
RETURNING id)sql";

// ---- quotes ----

// $1 id.
inline constexpr char kGetQuote[] =
    "SELECT " ANKEN_QUOTE_COLUMNS " FROM project.quotes q WHERE q.id = $1";

// $1 project_id (0: any), $2 customer_id of the case (0: any), $3 statuses as a smallint[]
// literal ('{}': any), $4 after_id (0: first page), $5 limit. By id.
inline constexpr char kListQuotes[] =
    "SELECT " ANKEN_QUOTE_COLUMNS R"sql( FROM project.quotes q
WHERE ($1::bigint = 0 OR q.project_id = $1)
  AND ($2::bigint = 0 OR q.project_id IN (
    SELECT p.id FROM project.projects p WHERE p.customer_id = $2))
  AND (cardinality($3::smallint[]) = 0 OR q.status = ANY($3::smallint[]))
  AND q.id > $4
ORDER BY q.id
LIMIT $5)sql";

// $1 id.
inline constexpr char kGetQuoteForUpdate[] =
    "SELECT " ANKEN_QUOTE_COLUMNS " FROM project.quotes q WHERE q.id = $1 FOR UPDATE";

// $1 project_id: the next quote number of the case (the caller holds the case's lock).
inline constexpr char kNextQuoteNumber[] =
    "SELECT coalesce(max(q.number), 0) + 1 FROM project.quotes q WHERE q.project_id = $1";

// $1 project_id, $2 quote id: another ACCEPTED quote of the case?
inline constexpr char kOtherAcceptedQuote[] = R"sql(SELECT q.id FROM project.quotes q
WHERE q.project_id = $1 AND q.status = 3 AND q.id <> $2)sql";

// $1 project_id, $2 number, $3 issue_date, $4 valid_until, $5 win_probability,
// $6 expected_order_month (first day), $7 status, $8 note, $9 subtotal, $10 tax, $11 total,
// $12 version, $13 create_time, $14 created_by, $15 update_time, $16 updated_by.
inline constexpr char kInsertQuote[] = R"sql(INSERT INTO project.quotes (
  project_id, number, issue_date, valid_until, win_probability, expected_order_month, status,
  note, subtotal, tax, total, version, create_time, created_by, update_time, updated_by)
VALUES ($1, $2, $3::date, $4::date, $5, $6::date, $7, $8, $9, $10, $11, $12,
  $13::timestamptz, $14, $15::timestamptz, $16)
RETURNING id)sql";

// $1 id, $2 issue_date, $3 valid_until, $4 win_probability, $5 expected_order_month,
// $6 status, $7 note, $8 subtotal, $9 tax, $10 total, $11 version, $12 update_time,
// $13 updated_by.
inline constexpr char kUpdateQuote[] = R"sql(UPDATE project.quotes SET
  issue_date = $2::date, valid_until = $3::date, win_probability = $4,
  expected_order_month = $5::date, status = $6, note = $7, subtotal = $8, tax = $9,
  total = $10, version = $11, update_time = $12::timestamptz, updated_by = $13
WHERE id = $1)sql";

// $1 quote ids as a bigint[] literal: their lines in order.
inline constexpr char kListQuoteLines[] = R"sql(SELECT l.quote_id, l.line_no,
  coalesce(l.product_id, 0) AS product_id, l.description, l.quantity_milli, l.unit,
  l.unit_price, l.tax_category, l.amount
FROM project.quote_lines l
WHERE l.quote_id = ANY($1::bigint[])
ORDER BY l.quote_id, l.line_no)sql";

// $1 quote_id, $2 line_no, $3 product_id (NULL: free text), $4 description,
// $5 quantity_milli, $6 unit, $7 unit_price, $8 tax_category, $9 amount.
inline constexpr char kInsertQuoteLine[] = R"sql(INSERT INTO project.quote_lines (
  quote_id, line_no, product_id, description, quantity_milli, unit, unit_price, tax_category,
  amount)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9))sql";

// $1 quote_id.
inline constexpr char kDeleteQuoteLines[] =
    "DELETE FROM project.quote_lines WHERE quote_id = $1";

// $1 quote ids as a bigint[] literal: their per-rate totals, in the order of the categories
// (STANDARD, REDUCED, EXEMPT, as tax::Totals keeps them).
inline constexpr char kListQuoteRateTotals[] = R"sql(SELECT r.quote_id, r.tax_category,
  r.taxable, r.tax
FROM project.quote_rate_totals r
WHERE r.quote_id = ANY($1::bigint[])
ORDER BY r.quote_id, r.tax_category)sql";

// $1 quote_id, $2 tax_category, $3 taxable, $4 tax.
inline constexpr char kInsertQuoteRateTotal[] = R"sql(INSERT INTO project.quote_rate_totals (
  quote_id, tax_category, taxable, tax)
VALUES ($1, $2, $3, $4))sql";

// $1 quote_id.
inline constexpr char kDeleteQuoteRateTotals[] =
    "DELETE FROM project.quote_rate_totals WHERE quote_id = $1";

// $1 first day of the first month, $2 first day of the last month, $3 true: group by owner
// (else by department). Quotes of every status; the forecast decides what counts.
inline constexpr char kForecastQuotes[] =
    "SELECT " ANKEN_QUOTE_COLUMNS R"sql(,
  CASE WHEN $3::boolean THEN p.owner ELSE p.department END AS group_name
FROM project.quotes q JOIN project.projects p ON p.id = q.project_id
WHERE q.expected_order_month BETWEEN $1::date AND $2::date
ORDER BY q.expected_order_month, q.id)sql";

// ---- activities ----

// $1 project_id: newest first.
inline constexpr char kListActivities[] =
    "SELECT " ANKEN_ACTIVITY_COLUMNS R"sql( FROM project.activities a
WHERE a.project_id = $1
ORDER BY a.occur_time DESC, a.id DESC)sql";

// $1 project_id, $2 kind, $3 occur_time, $4 summary, $5 next_action, $6 recorded_by,
// $7 create_time.
inline constexpr char kInsertActivity[] = R"sql(INSERT INTO project.activities (
  project_id, kind, occur_time, summary, next_action, recorded_by, create_time)
VALUES ($1, $2, $3::timestamptz, $4, $5, $6, $7::timestamptz)
RETURNING id)sql";

// ---- todos ----

// $1 id.
inline constexpr char kGetTodoForUpdate[] =
    "SELECT " ANKEN_TODO_COLUMNS " FROM project.todos t WHERE t.id = $1 FOR UPDATE";

// $1 assignee: open ToDos, by due date.
inline constexpr char kOpenTodos[] =
    "SELECT " ANKEN_TODO_COLUMNS R"sql( FROM project.todos t
WHERE t.assignee = $1 AND NOT t.done
ORDER BY t.due_date, t.id)sql";

// $1 project_id, $2 title, $3 due_date, $4 assignee, $5 create_time, $6 created_by,
// $7 update_time, $8 updated_by. Always open.
inline constexpr char kInsertTodo[] = R"sql(INSERT INTO project.todos (
  project_id, title, due_date, assignee, done, done_time, create_time, created_by,
  update_time, updated_by)
VALUES ($1, $2, $3::date, $4, false, NULL, $5::timestamptz, $6, $7::timestamptz, $8)
RETURNING id)sql";

// $1 id, $2 done_time, $3 updated_by.
inline constexpr char kCompleteTodo[] = R"sql(UPDATE project.todos SET
  done = true, done_time = $2::timestamptz, update_time = $2::timestamptz, updated_by = $3
WHERE id = $1)sql";

// ---- audit ----

// $1 'projects/<id>', $2 'projects/<id>/%', $3 before_id (0: from the newest), $4 limit.
inline constexpr char kListAuditEvents[] = R"sql(SELECT e.id,
  (extract(epoch FROM e.event_time) * 1000000)::bigint AS event_us, e.actor, e.actor_role,
  e.method, e.resource_type, e.resource_id, e.change_json::text AS change_json,
  coalesce(e.request_id, '') AS request_id
FROM project.audit_events e
WHERE (e.resource_id = $1 OR e.resource_id LIKE $2)
  AND ($3::bigint = 0 OR e.id < $3)
ORDER BY e.id DESC
LIMIT $4)sql";

#undef ANKEN_PROJECT_FILTER
#undef ANKEN_PRODUCT_COLUMNS
#undef ANKEN_ACTIVITY_COLUMNS
#undef ANKEN_TODO_COLUMNS
#undef ANKEN_QUOTE_COLUMNS
#undef ANKEN_PROJECT_COLUMNS
#undef ANKEN_MICROS
#undef ANKEN_DAYS

}  // namespace anken::project::sql
