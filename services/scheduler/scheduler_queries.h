#pragma once
// The SQL of PgSchedulerStore, as named constants (STYLE.md): every statement is
// parameterized ($n, run with exec_params) and names its tables with the `scheduler.` schema.
//
// Conventions (as in the other services): instants are written as RFC 3339 text cast to
// timestamptz and read back as microseconds since the epoch (`*_us` columns), so no session
// setting can change what is read; a NULL instant parameter is passed as a null pointer;
// arrays are one text parameter in Postgres array syntax ("{1,2}").

namespace anken::scheduler::sql {

#define ANKEN_SCHEDULER_US(col) "(extract(epoch FROM " col ") * 1000000)::bigint"

#define ANKEN_JOB_COLUMNS                                                            \
  "j.name, " ANKEN_SCHEDULER_US("j.cursor_time") " AS cursor_us, j.paused, j.paused_by, " \
  "j.pause_reason, " ANKEN_SCHEDULER_US("j.pause_time") " AS pause_us"

#define ANKEN_RUN_COLUMNS                                                                    \
  "r.id, r.job, " ANKEN_SCHEDULER_US("r.slot_time") " AS slot_us, r.state, r.trigger, "      \
  "r.triggered_by, r.attempts, r.takeovers, coalesce(r.owner, '') AS owner, "                 \
  ANKEN_SCHEDULER_US("r.lease_until") " AS lease_us, "                                        \
  ANKEN_SCHEDULER_US("r.next_attempt_time") " AS next_attempt_us, "                           \
  ANKEN_SCHEDULER_US("r.create_time") " AS create_us, "                                       \
  ANKEN_SCHEDULER_US("r.start_time") " AS start_us, "                                         \
  ANKEN_SCHEDULER_US("r.finish_time") " AS finish_us, r.duration_ms, r.summary, r.error, "    \
  "r.error_code"

#define ANKEN_NOTIFICATION_COLUMNS                                                           \
  "n.id, n.dedup_key, n.recipient, n.template_name, n.parameters::text AS parameters, "       \
  "n.subject, n.body, n.message_id, n.state, n.attempts, n.last_error, "                      \
  ANKEN_SCHEDULER_US("n.next_attempt_time") " AS next_attempt_us, n.created_by, "             \
  ANKEN_SCHEDULER_US("n.create_time") " AS create_us, "                                       \
  ANKEN_SCHEDULER_US("n.sent_time") " AS sent_us, "                                           \
  ANKEN_SCHEDULER_US("n.dead_time") " AS dead_us"

// ---- jobs ----

// $1 name, $2 cursor, $3 now.
inline constexpr char kInsertJob[] =
    "INSERT INTO scheduler.jobs (name, cursor_time, create_time, update_time) "
    "VALUES ($1, $2::timestamptz, $3::timestamptz, $3::timestamptz) "
    "ON CONFLICT (name) DO NOTHING";

// $1 name. The claim step's lock: a replica that finds it held skips the job this tick.
inline constexpr char kLockJobSkipLocked[] =
    "SELECT " ANKEN_JOB_COLUMNS " FROM scheduler.jobs j WHERE j.name = $1 FOR UPDATE SKIP LOCKED";

// $1 name. The API's writes wait for the lock instead.
inline constexpr char kLockJob[] =
    "SELECT " ANKEN_JOB_COLUMNS " FROM scheduler.jobs j WHERE j.name = $1 FOR UPDATE";

inline constexpr char kListJobs[] =
    "SELECT " ANKEN_JOB_COLUMNS " FROM scheduler.jobs j ORDER BY j.name";

// $1 name, $2 cursor, $3 now.
inline constexpr char kSetCursor[] =
    "UPDATE scheduler.jobs SET cursor_time = $2::timestamptz, update_time = $3::timestamptz "
    "WHERE name = $1";

// $1 name, $2 paused, $3 paused_by, $4 pause_reason, $5 pause_time (NULL when resuming),
// $6 now.
inline constexpr char kSetPaused[] =
    "UPDATE scheduler.jobs SET paused = $2, paused_by = $3, pause_reason = $4, "
    "pause_time = $5::timestamptz, update_time = $6::timestamptz WHERE name = $1";

// ---- runs ----

// $1 job. Locks them: the claim decides on what it sees.
inline constexpr char kActiveRuns[] =
    "SELECT " ANKEN_RUN_COLUMNS " FROM scheduler.runs r "
    "WHERE r.job = $1 AND r.state IN (1, 2) ORDER BY r.slot_time FOR UPDATE";

// $1 job, $2 slot, $3 now, $4 error (the reason), $5 error_code.
inline constexpr char kInsertSkipped[] =
    "INSERT INTO scheduler.runs (job, slot_time, state, trigger, create_time, error, error_code) "
    "VALUES ($1, $2::timestamptz, 5, 1, $3::timestamptz, $4, $5) "
    "ON CONFLICT (job, slot_time) DO NOTHING";

// $1 job, $2 slot, $3 owner, $4 lease_until, $5 now. The claim: whoever inserts owns the slot.
inline constexpr char kInsertClaimed[] =
    "INSERT INTO scheduler.runs AS r (job, slot_time, state, trigger, owner, lease_until, "
    "attempts, create_time, start_time) "
    "VALUES ($1, $2::timestamptz, 1, 1, $3, $4::timestamptz, 1, $5::timestamptz, "
    "$5::timestamptz) "
    "ON CONFLICT (job, slot_time) DO NOTHING RETURNING " ANKEN_RUN_COLUMNS;

// $1 id, $2 owner, $3 lease_until, $4 now. Only a lapsed lease can be taken over.
inline constexpr char kTakeOver[] =
    "UPDATE scheduler.runs AS r SET owner = $2, lease_until = $3::timestamptz, "
    "attempts = r.attempts + 1, takeovers = r.takeovers + 1 "
    "WHERE r.id = $1 AND r.state = 1 AND r.lease_until <= $4::timestamptz "
    "RETURNING " ANKEN_RUN_COLUMNS;

// $1 id, $2 owner, $3 lease_until, $4 now.
inline constexpr char kClaimQueued[] =
    "UPDATE scheduler.runs AS r SET state = 1, owner = $2, lease_until = $3::timestamptz, "
    "attempts = r.attempts + 1, next_attempt_time = NULL, "
    "start_time = coalesce(r.start_time, $4::timestamptz) "
    "WHERE r.id = $1 AND r.state = 2 AND r.next_attempt_time <= $4::timestamptz "
    "RETURNING " ANKEN_RUN_COLUMNS;

// $1 id, $2 now, $3 error.
inline constexpr char kGiveUp[] =
    "UPDATE scheduler.runs AS r SET state = 4, owner = NULL, lease_until = NULL, "
    "next_attempt_time = NULL, finish_time = $2::timestamptz, error = $3, "
    "error_code = 'ATTEMPTS_EXHAUSTED' "
    "WHERE r.id = $1 AND r.state IN (1, 2) RETURNING " ANKEN_RUN_COLUMNS;

// $1 owner, $2 lease_until.
inline constexpr char kRenewLeases[] =
    "UPDATE scheduler.runs SET lease_until = $2::timestamptz WHERE owner = $1 AND state = 1";

// $1 id, $2 owner, $3 state, $4 next_attempt_time (NULL unless QUEUED), $5 finish_time (NULL
// when QUEUED), $6 duration_ms to add, $7 summary, $8 error, $9 error_code.
inline constexpr char kFinishRun[] =
    "UPDATE scheduler.runs SET state = $3, owner = NULL, lease_until = NULL, "
    "next_attempt_time = $4::timestamptz, finish_time = $5::timestamptz, "
    "duration_ms = duration_ms + $6, summary = $7, error = $8, error_code = $9 "
    "WHERE id = $1 AND owner = $2 AND state = 1";

// $1 owner, $2 now.
inline constexpr char kReleaseRuns[] =
    "UPDATE scheduler.runs SET state = 2, owner = NULL, lease_until = NULL, "
    "next_attempt_time = $2::timestamptz WHERE owner = $1 AND state = 1";

// $1 job.
inline constexpr char kLatestRun[] =
    "SELECT " ANKEN_RUN_COLUMNS " FROM scheduler.runs r WHERE r.job = $1 "
    "ORDER BY r.slot_time DESC LIMIT 1";

// $1 job, $2 states as a smallint[] literal ('{}' = any), $3 before (NULL = none), $4 limit.
inline constexpr char kListRuns[] =
    "SELECT " ANKEN_RUN_COLUMNS " FROM scheduler.runs r WHERE r.job = $1 "
    "AND ($2::smallint[] = '{}' OR r.state = ANY ($2::smallint[])) "
    "AND ($3::timestamptz IS NULL OR r.slot_time < $3::timestamptz) "
    "ORDER BY r.slot_time DESC LIMIT $4";

// $1 job, $2 slot.
inline constexpr char kRunForSlot[] =
    "SELECT " ANKEN_RUN_COLUMNS " FROM scheduler.runs r "
    "WHERE r.job = $1 AND r.slot_time = $2::timestamptz FOR UPDATE";

// $1 job, $2 slot, $3 triggered_by, $4 now.
inline constexpr char kInsertManual[] =
    "INSERT INTO scheduler.runs AS r (job, slot_time, state, trigger, triggered_by, "
    "next_attempt_time, create_time) "
    "VALUES ($1, $2::timestamptz, 2, 2, $3, $4::timestamptz, $4::timestamptz) "
    "RETURNING " ANKEN_RUN_COLUMNS;

// $1 id, $2 triggered_by, $3 now. A FAILED or SKIPPED run queued again by TriggerJob.
inline constexpr char kRequeue[] =
    "UPDATE scheduler.runs AS r SET state = 2, trigger = 2, triggered_by = $2, attempts = 0, "
    "next_attempt_time = $3::timestamptz, finish_time = NULL, error = '', error_code = '' "
    "WHERE r.id = $1 AND r.state IN (4, 5) RETURNING " ANKEN_RUN_COLUMNS;

// ---- notifications ----

// $1 dedup_key, $2 recipient, $3 template_name, $4 parameters (JSON), $5 subject, $6 body,
// $7 message_id, $8 created_by, $9 now.
inline constexpr char kInsertNotification[] =
    "INSERT INTO scheduler.notifications AS n (dedup_key, recipient, template_name, parameters, "
    "subject, body, message_id, state, next_attempt_time, created_by, create_time) "
    "VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, 1, $9::timestamptz, $8, $9::timestamptz) "
    "ON CONFLICT (dedup_key) DO NOTHING RETURNING " ANKEN_NOTIFICATION_COLUMNS;

// $1 dedup_key.
inline constexpr char kNotificationByKey[] =
    "SELECT " ANKEN_NOTIFICATION_COLUMNS " FROM scheduler.notifications n WHERE n.dedup_key = $1";

// $1 states as a smallint[] literal ('{}' = any), $2 recipient ('' = any), $3 template_name
// ('' = any), $4 before_id (0 = from the newest), $5 limit.
inline constexpr char kListNotifications[] =
    "SELECT " ANKEN_NOTIFICATION_COLUMNS " FROM scheduler.notifications n "
    "WHERE ($1::smallint[] = '{}' OR n.state = ANY ($1::smallint[])) "
    "AND ($2 = '' OR n.recipient = $2) AND ($3 = '' OR n.template_name = $3) "
    "AND ($4::bigint = 0 OR n.id < $4) ORDER BY n.id DESC LIMIT $5";

// $1 owner, $2 lease_until, $3 now. One due notification, leased and its attempt counted;
// SKIP LOCKED so replicas pick different ones.
inline constexpr char kClaimDelivery[] =
    "UPDATE scheduler.notifications AS n SET lease_owner = $1, lease_until = $2::timestamptz, "
    "attempts = n.attempts + 1 "
    "WHERE n.id = (SELECT c.id FROM scheduler.notifications c "
    "  WHERE c.state = 1 AND c.next_attempt_time <= $3::timestamptz "
    "  AND (c.lease_until IS NULL OR c.lease_until <= $3::timestamptz) "
    "  ORDER BY c.next_attempt_time, c.id LIMIT 1 FOR UPDATE SKIP LOCKED) "
    "RETURNING " ANKEN_NOTIFICATION_COLUMNS;

// $1 id, $2 owner, $3 now.
inline constexpr char kMarkSent[] =
    "UPDATE scheduler.notifications SET state = 2, sent_time = $3::timestamptz, "
    "lease_owner = NULL, lease_until = NULL, last_error = '' "
    "WHERE id = $1 AND lease_owner = $2 AND state = 1";

// $1 id, $2 owner, $3 state (1 or 3), $4 next_attempt_time, $5 last_error, $6 dead_time (NULL
// unless DEAD).
inline constexpr char kMarkFailed[] =
    "UPDATE scheduler.notifications SET state = $3, next_attempt_time = $4::timestamptz, "
    "last_error = $5, dead_time = $6::timestamptz, lease_owner = NULL, lease_until = NULL "
    "WHERE id = $1 AND lease_owner = $2 AND state = 1";

}  // namespace anken::scheduler::sql
