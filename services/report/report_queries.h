#pragma once
// The SQL of PgReportStore, as named constants (STYLE.md): every statement is parameterized
// ($n, run with exec_params) and names its tables with the `report.` schema.
//
// Conventions (as in the other stores): instants are written as RFC 3339 text cast to
// timestamptz and read back as microseconds since the epoch (`*_us`); civil dates, and months
// stored as their first day, are written as 'YYYY-MM-DD' and read back as days since
// 1970-01-01 (`*_days`); arrays are one text parameter in Postgres array syntax; "empty means
// any" filters fold away when planned with their values.

namespace anken::report::sql {

#define ANKEN_REPORT_DAYS(expr) "(" expr " - DATE '1970-01-01')"
#define ANKEN_REPORT_MICROS(expr) "(extract(epoch FROM " expr ") * 1000000)::bigint"

// A report with its period and its line counts: select ANKEN_REPORT_COLUMNS ANKEN_REPORT_FROM.
#define ANKEN_REPORT_COLUMNS                                                                    \
  "r.id, r.partner_id, " ANKEN_REPORT_DAYS("r.month") " AS month_days, "                         \
  ANKEN_REPORT_DAYS("p.deadline_day") " AS deadline_days, "                                      \
  ANKEN_REPORT_MICROS("p.deadline") " AS deadline_us, r.partner_name, r.partner_email, "         \
  ANKEN_REPORT_MICROS("r.submit_time") " AS submit_us, r.submitted_by, r.submission_count, "     \
  "r.version, " ANKEN_REPORT_MICROS("r.create_time") " AS create_us, r.created_by, "             \
  ANKEN_REPORT_MICROS("r.update_time") " AS update_us, r.updated_by, c.line_count, "             \
  "c.checked_count"
#define ANKEN_REPORT_FROM                                                                       \
  " FROM report.reports r JOIN report.periods p ON p.month = r.month "                          \
  "CROSS JOIN LATERAL (SELECT count(*) AS line_count, "                                         \
  "count(*) FILTER (WHERE l.answer <> 0) AS checked_count "                                     \
  "FROM report.lines l WHERE l.report_id = r.id) c "

#define ANKEN_LINE_COLUMNS                                                                      \
  "l.id, coalesce(l.report_id, 0) AS report_id, l.partner_id, l.project_id, l.case_number, "    \
  "l.customer_name, " ANKEN_REPORT_DAYS("l.referral_date") " AS referral_days, l.outcome, "      \
  ANKEN_REPORT_DAYS("l.completion_date") " AS completion_days, l.amount, "                       \
  ANKEN_REPORT_DAYS("l.lost_date") " AS lost_days, l.answer, l.new_outcome, "                    \
  ANKEN_REPORT_DAYS("l.new_completion_date") " AS new_completion_days, l.new_amount, "           \
  ANKEN_REPORT_DAYS("l.new_lost_date") " AS new_lost_days, l.remarks, l.applied_extra_orders, "  \
  "l.submitted_answer, l.answered_by, " ANKEN_REPORT_MICROS("l.answer_time") " AS answer_us, "   \
  "l.version"

#define ANKEN_EFFECT_COLUMNS                                                                    \
  "e.id, e.submission_id, e.line_id, l.project_id, l.case_number, e.kind, e.request_id, "       \
  "e.payload::text AS payload, e.description, coalesce(e.depends_on, 0) AS depends_on, "        \
  "e.attempts, " ANKEN_REPORT_MICROS("e.next_attempt_at") " AS next_attempt_us, "               \
  ANKEN_REPORT_MICROS("e.done_at") " AS done_us, e.last_error"

// ---- periods ----

// $1 month.
inline constexpr char kGetPeriod[] =
    "SELECT " ANKEN_REPORT_DAYS("p.month") " AS month_days, "
    ANKEN_REPORT_DAYS("p.deadline_day") " AS deadline_days, "
    ANKEN_REPORT_MICROS("p.deadline") " AS deadline_us, "
    ANKEN_REPORT_MICROS("p.open_time") " AS open_us, p.opened_by, "
    "(SELECT count(*) FROM report.reports r WHERE r.month = p.month) AS report_count, "
    "(SELECT count(*) FROM report.reports r WHERE r.month = p.month "
    " AND r.submit_time IS NOT NULL) AS submitted_count "
    "FROM report.periods p WHERE p.month = $1::date";

// $1 month, $2 deadline_day, $3 deadline, $4 now, $5 actor. No row back when already open (a
// concurrent opener waits on the key, then finds it taken).
inline constexpr char kInsertPeriod[] =
    "INSERT INTO report.periods (month, deadline_day, deadline, open_time, opened_by) "
    "VALUES ($1::date, $2::date, $3::timestamptz, $4::timestamptz, $5) "
    "ON CONFLICT (month) DO NOTHING RETURNING month";

// $1 month, $2 partner ids, $3 partner names, $4 partner e-mails (array literals of one
// length), $5 now, $6 actor. A period's reports, numbered in the arrays' order.
inline constexpr char kInsertReports[] =
    "INSERT INTO report.reports (month, partner_id, partner_name, partner_email, version, "
    "create_time, created_by, update_time, updated_by) "
    "SELECT $1::date, u.partner_id, u.partner_name, u.partner_email, 1, $5::timestamptz, $6, "
    "$5::timestamptz, $6 FROM unnest($2::bigint[], $3::text[], $4::text[]) WITH ORDINALITY "
    "AS u(partner_id, partner_name, partner_email, n) ORDER BY u.n RETURNING id, partner_id";

// ---- reports ----

// $1 month.
inline constexpr char kReportsOfPeriod[] =
    "SELECT " ANKEN_REPORT_COLUMNS ANKEN_REPORT_FROM
    "WHERE r.month = $1::date ORDER BY r.partner_id";

// $1 id.
inline constexpr char kGetReport[] =
    "SELECT " ANKEN_REPORT_COLUMNS ANKEN_REPORT_FROM "WHERE r.id = $1";

// $1 id. What every write on a report (its answers, submission, reopening) takes first, so
// they serialize per report and each sees the report as it writes.
inline constexpr char kLockReport[] =
    "SELECT r.id FROM report.reports r WHERE r.id = $1 FOR UPDATE";

// $1 month (NULL = any), $2 partner_id (0 = any), $3 statuses as a smallint[] literal ('{}' =
// any), $4 now, $5 after_id, $6 limit. The status is DeriveReportStatus (report_rules.h) in
// SQL, so that a filtered page is as full as an unfiltered one.
inline constexpr char kListReports[] =
    "SELECT " ANKEN_REPORT_COLUMNS ANKEN_REPORT_FROM
    "WHERE ($1::date IS NULL OR r.month = $1::date) AND ($2::bigint = 0 OR r.partner_id = $2) "
    "AND ($3::smallint[] = '{}' OR (CASE WHEN r.submit_time IS NOT NULL THEN 3 "
    "  WHEN $4::timestamptz >= p.deadline THEN 4 WHEN c.checked_count = 0 THEN 1 ELSE 2 END) "
    "  = ANY ($3::smallint[])) "
    "AND r.id > $5 ORDER BY r.id LIMIT $6";

// $1 id, $2 now, $3 actor.
inline constexpr char kMarkSubmitted[] =
    "UPDATE report.reports SET submit_time = $2::timestamptz, submitted_by = $3, "
    "submission_count = submission_count + 1, version = version + 1, "
    "update_time = $2::timestamptz, updated_by = $3 WHERE id = $1";

// $1 id, $2 now, $3 actor.
inline constexpr char kReopen[] =
    "UPDATE report.reports SET submit_time = NULL, submitted_by = '', version = version + 1, "
    "update_time = $2::timestamptz, updated_by = $3 WHERE id = $1";

// ---- lines ----

// $1 report_id (NULL for a case update), $2 partner_id, $3 project_id, $4 case_number,
// $5 customer_name, $6 referral_date, $7 outcome, $8 completion_date, $9 amount, $10
// lost_date, $11 now.
inline constexpr char kInsertLine[] =
    "INSERT INTO report.lines (report_id, partner_id, project_id, case_number, customer_name, "
    "referral_date, outcome, completion_date, amount, lost_date, answer, new_outcome, version, "
    "create_time) VALUES ($1::bigint, $2, $3, $4, $5, $6::date, $7::smallint, $8::date, $9, "
    "$10::date, CASE WHEN $1::bigint IS NULL THEN 2 ELSE 0 END, "
    "CASE WHEN $1::bigint IS NULL THEN $7::smallint END, "
    "1, $11::timestamptz) RETURNING id";

// Report lines of a period's reports at once (kInsertLine with a report): $1 report ids,
// $2 partner ids, $3 project ids, $4 case numbers, $5 customer names, $6 referral dates,
// $7 outcomes, $8 completion dates ('' = none), $9 amounts, $10 lost dates ('' = none), as
// array literals of one length; $11 now. Numbered in the arrays' order.
inline constexpr char kInsertLines[] =
    "INSERT INTO report.lines (report_id, partner_id, project_id, case_number, customer_name, "
    "referral_date, outcome, completion_date, amount, lost_date, answer, version, create_time) "
    "SELECT u.report_id, u.partner_id, u.project_id, u.case_number, u.customer_name, "
    "u.referral_date, u.outcome, nullif(u.completion_date, '')::date, u.amount, "
    "nullif(u.lost_date, '')::date, 0, 1, $11::timestamptz "
    "FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::date[], "
    "$7::smallint[], $8::text[], $9::bigint[], $10::text[]) WITH ORDINALITY AS u(report_id, "
    "partner_id, project_id, case_number, customer_name, referral_date, outcome, "
    "completion_date, amount, lost_date, n) ORDER BY u.n";

// $1 id.
inline constexpr char kGetLine[] =
    "SELECT " ANKEN_LINE_COLUMNS " FROM report.lines l WHERE l.id = $1";

// $1 report_id, $2 after_id, $3 limit (NULL = all).
inline constexpr char kListLines[] =
    "SELECT " ANKEN_LINE_COLUMNS " FROM report.lines l WHERE l.report_id = $1 AND l.id > $2 "
    "ORDER BY l.id LIMIT $3::bigint";

// $1 line ids as a bigint[] literal.
inline constexpr char kExtraOrdersOfLines[] =
    "SELECT x.id, x.line_id, x.position, x.kind, " ANKEN_REPORT_DAYS("x.order_date")
    " AS order_days, x.amount, x.note FROM report.line_extra_orders x "
    "WHERE x.line_id = ANY ($1::bigint[]) ORDER BY x.line_id, x.position";

// $1 id, $2 answer, $3 new_outcome, $4 new_completion_date, $5 new_amount, $6 new_lost_date,
// $7 remarks, $8 actor, $9 now.
inline constexpr char kUpdateAnswer[] =
    "UPDATE report.lines SET answer = $2, new_outcome = $3, new_completion_date = $4::date, "
    "new_amount = $5, new_lost_date = $6::date, remarks = $7, answered_by = $8, "
    "answer_time = $9::timestamptz, version = version + 1 WHERE id = $1";

// $1 line_id, $2 first position to remove (the applied ones stay).
inline constexpr char kDeleteExtraOrdersFrom[] =
    "DELETE FROM report.line_extra_orders WHERE line_id = $1 AND position >= $2";

// $1 line_id, $2 position, $3 kind, $4 order_date, $5 amount, $6 note.
inline constexpr char kInsertExtraOrder[] =
    "INSERT INTO report.line_extra_orders (line_id, position, kind, order_date, amount, note) "
    "VALUES ($1, $2, $3, $4::date, $5, $6)";

// kUpdateAnswer for many lines at once: $1 ids, $2 answers, $3 new outcomes (0 = NULL),
// $4 new completion dates ('' = NULL), $5 new amounts, $6 new lost dates ('' = NULL), $7
// remarks, as array literals of one length (each id once); $8 actor, $9 now.
inline constexpr char kUpdateAnswers[] =
    "UPDATE report.lines l SET answer = u.answer, new_outcome = nullif(u.new_outcome, 0), "
    "new_completion_date = nullif(u.new_completion_date, '')::date, new_amount = u.new_amount, "
    "new_lost_date = nullif(u.new_lost_date, '')::date, remarks = u.remarks, answered_by = $8, "
    "answer_time = $9::timestamptz, version = l.version + 1 "
    "FROM unnest($1::bigint[], $2::smallint[], $3::smallint[], $4::text[], $5::bigint[], "
    "$6::text[], $7::text[]) AS u(id, answer, new_outcome, new_completion_date, new_amount, "
    "new_lost_date, remarks) WHERE l.id = u.id";

// kDeleteExtraOrdersFrom for many lines: $1 line ids, $2 first position to remove of each.
inline constexpr char kDeleteExtraOrdersOf[] =
    "DELETE FROM report.line_extra_orders x USING unnest($1::bigint[], $2::integer[]) "
    "AS u(line_id, keep) WHERE x.line_id = u.line_id AND x.position >= u.keep";

// kInsertExtraOrder for many: $1 line ids, $2 positions, $3 kinds, $4 order dates, $5
// amounts, $6 notes, as array literals of one length. Returns each row's id, line and
// position.
inline constexpr char kInsertExtraOrders[] =
    "INSERT INTO report.line_extra_orders (line_id, position, kind, order_date, amount, note) "
    "SELECT * FROM unnest($1::bigint[], $2::integer[], $3::smallint[], $4::date[], "
    "$5::bigint[], $6::text[]) RETURNING id, line_id, position";

// $1 ids as a bigint[] literal. Those lines (or case updates), by id.
inline constexpr char kGetLines[] =
    "SELECT " ANKEN_LINE_COLUMNS " FROM report.lines l WHERE l.id = ANY ($1::bigint[]) "
    "ORDER BY l.id";

// $1 event_time, $2 actor, $3 actor_role, $4 method, $5 request_id (NULL: none), then $6
// resource types, $7 resource ids, $8 change JSON texts as text[] literals of one length: one
// call's audit events (db::WriteAuditFor's record) in one statement, in the arrays' order.
inline constexpr char kInsertAuditEvents[] =
    "INSERT INTO report.audit_events (event_time, actor, actor_role, method, resource_type, "
    "resource_id, change_json, request_id) SELECT $1::timestamptz, $2, $3, $4, u.resource_type, "
    "u.resource_id, u.change_json::jsonb, $5 FROM unnest($6::text[], $7::text[], $8::text[]) "
    "AS u(resource_type, resource_id, change_json)";

// $1 id, $2 submitted_answer, $3 applied_extra_orders.
inline constexpr char kMarkLineApplied[] =
    "UPDATE report.lines SET submitted_answer = $2, applied_extra_orders = $3 WHERE id = $1";

// ---- submissions and effects ----

// $1 report_id (NULL for a case update), $2 line_id (NULL for a report), $3 sequence, $4 now,
// $5 actor.
inline constexpr char kInsertSubmission[] =
    "INSERT INTO report.submissions (report_id, line_id, sequence, submit_time, submitted_by) "
    "VALUES ($1, $2, $3, $4::timestamptz, $5) RETURNING id";

// $1 submission_id, $2 line_id, $3 kind, $4 request_id, $5 depends_on (NULL: none),
// $6 payload, $7 description, $8 now. A request_id stored before is never stored twice.
inline constexpr char kInsertEffect[] =
    "INSERT INTO report.effects (submission_id, line_id, kind, request_id, depends_on, payload, "
    "description, next_attempt_at, create_time) "
    "VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8::timestamptz, $8::timestamptz) "
    "ON CONFLICT (request_id) DO NOTHING RETURNING id";

// $1 request_id.
inline constexpr char kEffectIdByRequestId[] =
    "SELECT id FROM report.effects WHERE request_id = $1";

// $1 report_id (0 = none), $2 case update line_id (0 = none).
inline constexpr char kListSubmissions[] =
    "SELECT s.id, coalesce(s.report_id, 0) AS report_id, coalesce(s.line_id, 0) AS line_id, "
    "s.sequence, " ANKEN_REPORT_MICROS("s.submit_time") " AS submit_us, s.submitted_by "
    "FROM report.submissions s "
    "WHERE ($1::bigint <> 0 AND s.report_id = $1) OR ($2::bigint <> 0 AND s.line_id = $2) "
    "ORDER BY s.id";

// $1 submission ids as a bigint[] literal.
inline constexpr char kEffectsOfSubmissions[] =
    "SELECT " ANKEN_EFFECT_COLUMNS " FROM report.effects e JOIN report.lines l ON l.id = e.line_id "
    "WHERE e.submission_id = ANY ($1::bigint[]) ORDER BY e.id";

// $1 owner, $2 lease_until, $3 now, $4 limit. Due effects, leased and their attempt counted;
// SKIP LOCKED so that replicas claiming at once take different rows, and the lease so that no
// row lock is held while the peer is called. An effect whose dependency is not done waits.
inline constexpr char kClaimEffects[] =
    "UPDATE report.effects AS e SET lease_owner = $1, lease_until = $2::timestamptz, "
    "attempts = e.attempts + 1 FROM report.lines l "
    "WHERE l.id = e.line_id AND e.id IN (SELECT c.id FROM report.effects c "
    "  WHERE c.done_at IS NULL AND c.next_attempt_at <= $3::timestamptz "
    "  AND (c.lease_until IS NULL OR c.lease_until <= $3::timestamptz) "
    "  AND (c.depends_on IS NULL OR EXISTS (SELECT 1 FROM report.effects d "
    "       WHERE d.id = c.depends_on AND d.done_at IS NOT NULL)) "
    "  ORDER BY c.next_attempt_at, c.id LIMIT $4 FOR UPDATE SKIP LOCKED) "
    "RETURNING " ANKEN_EFFECT_COLUMNS;

// $1 id, $2 now.
inline constexpr char kMarkEffectDone[] =
    "UPDATE report.effects SET done_at = $2::timestamptz, lease_owner = NULL, "
    "lease_until = NULL, last_error = '' WHERE id = $1 AND done_at IS NULL";

// $1 id, $2 owner, $3 next_attempt_at, $4 last_error.
inline constexpr char kMarkEffectFailed[] =
    "UPDATE report.effects SET next_attempt_at = $3::timestamptz, last_error = $4, "
    "lease_owner = NULL, lease_until = NULL "
    "WHERE id = $1 AND lease_owner = $2 AND done_at IS NULL";

}  // namespace anken::report::sql
