#include "services/scheduler/pg_scheduler_store.h"

#include <algorithm>
#include <pqxx/pqxx>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/db/audit.h"
#include "common/log/log.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "services/scheduler/scheduler_queries.h"

namespace anken::scheduler {
namespace {

// A pointer, not a string_view: sanitizer builds cannot take strlen at compile time.
constexpr const char* kSchema = PgSchedulerStore::kSchema;
constexpr int kMaxSlotsPerAdvance = 1000;

// ---- conversions ----

absl::Time TruncToMicros(absl::Time t) { return absl::FromUnixMicros(absl::ToUnixMicros(t)); }

std::string TimeText(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone());
}

std::string SlotText(absl::CivilMinute slot) { return TimeText(SlotInstant(slot)); }

absl::Time TimeFromMicros(const pqxx::field& f) { return absl::FromUnixMicros(f.as<int64_t>()); }

absl::optional<absl::Time> OptionalTime(const pqxx::field& f) {
  if (f.is_null()) return absl::nullopt;
  return TimeFromMicros(f);
}

template <typename T>
std::string NumberArray(const std::vector<T>& values) {
  std::vector<int> numbers;
  numbers.reserve(values.size());
  for (const T& v : values) numbers.push_back(static_cast<int>(v));
  return absl::StrCat("{", absl::StrJoin(numbers, ","), "}");
}

JobRow JobFromRow(const pqxx::row& r) {
  JobRow j;
  j.name = r["name"].as<std::string>();
  j.cursor = MinuteOf(TimeFromMicros(r["cursor_us"]));
  j.paused = r["paused"].as<bool>();
  j.paused_by = r["paused_by"].as<std::string>();
  j.pause_reason = r["pause_reason"].as<std::string>();
  j.pause_time = OptionalTime(r["pause_us"]);
  return j;
}

Run RunFromRow(const pqxx::row& r) {
  Run run;
  run.id = r["id"].as<int64_t>();
  run.job = r["job"].as<std::string>();
  run.slot = MinuteOf(TimeFromMicros(r["slot_us"]));
  run.state = static_cast<RunState>(r["state"].as<int>());
  run.trigger = static_cast<RunTrigger>(r["trigger"].as<int>());
  run.triggered_by = r["triggered_by"].as<std::string>();
  run.attempts = r["attempts"].as<int>();
  run.takeovers = r["takeovers"].as<int>();
  run.owner = r["owner"].as<std::string>();
  run.lease_until = OptionalTime(r["lease_us"]);
  run.next_attempt_time = OptionalTime(r["next_attempt_us"]);
  run.create_time = TimeFromMicros(r["create_us"]);
  run.start_time = OptionalTime(r["start_us"]);
  run.finish_time = OptionalTime(r["finish_us"]);
  run.duration_ms = r["duration_ms"].as<int64_t>();
  run.summary = r["summary"].as<std::string>();
  run.error = r["error"].as<std::string>();
  run.error_code = r["error_code"].as<std::string>();
  return run;
}

std::string ParametersJson(const std::map<std::string, std::string>& parameters) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : parameters) {
    parts.push_back(absl::StrCat("\"", log::JsonEscape(k), "\":\"", log::JsonEscape(v), "\""));
  }
  return absl::StrCat("{", absl::StrJoin(parts, ","), "}");
}

std::map<std::string, std::string> ParametersFromJson(const std::string& json) {
  std::map<std::string, std::string> out;
  google::protobuf::Struct s;
  if (!google::protobuf::util::JsonStringToMessage(json, &s).ok()) return out;
  for (const auto& [k, v] : s.fields()) out[k] = v.string_value();
  return out;
}

Notification NotificationFromRow(const pqxx::row& r) {
  Notification n;
  n.id = r["id"].as<int64_t>();
  n.dedup_key = r["dedup_key"].as<std::string>();
  n.recipient = r["recipient"].as<std::string>();
  n.template_name = r["template_name"].as<std::string>();
  n.parameters = ParametersFromJson(r["parameters"].as<std::string>());
  n.subject = r["subject"].as<std::string>();
  n.body = r["body"].as<std::string>();
  n.message_id = r["message_id"].as<std::string>();
  n.state = static_cast<NotificationState>(r["state"].as<int>());
  n.attempts = r["attempts"].as<int>();
  n.last_error = r["last_error"].as<std::string>();
  n.next_attempt_time = TimeFromMicros(r["next_attempt_us"]);
  n.created_by = r["created_by"].as<std::string>();
  n.create_time = TimeFromMicros(r["create_us"]);
  n.sent_time = OptionalTime(r["sent_us"]);
  n.dead_time = OptionalTime(r["dead_us"]);
  return n;
}

db::TransactOptions WriteOptions(absl::string_view what) {
  db::TransactOptions o;
  o.what = what;
  return o;
}

db::TransactOptions ReadOptions(absl::string_view what) {
  db::TransactOptions o;
  o.read_only = true;
  o.what = what;
  return o;
}

// Without the name: it may come from a client, and messages end up in logs and UIs.
absl::Status JobNotFound() {
  return WithReason(absl::NotFoundError("no such job"), "JOB_NOT_FOUND");
}

absl::Status Audit(pqxx::work& tx, const WriteContext& ctx, absl::string_view type,
                   std::string id, std::string change_json) {
  db::AuditRecord record;
  record.actor = ctx.actor;
  record.actor_role = ctx.actor_role;
  record.method = ctx.method;
  record.resource_type = std::string(type);
  record.resource_id = std::move(id);
  record.change_json = std::move(change_json);
  record.request_id = ctx.request_id;
  record.event_time = ctx.now;
  return db::WriteAudit(tx, kSchema, record);
}

std::string RunResource(const std::string& job, absl::CivilMinute slot) {
  return absl::StrCat("jobs/", job, "/runs/", SlotKey(slot));
}

absl::optional<Run> FirstRun(const pqxx::result& rows) {
  if (rows.empty()) return absl::nullopt;
  return RunFromRow(rows[0]);
}

// The cursor a job not running (disabled, or its schedule off) keeps: the latest slot that
// passed (for off: now), so that enabling it later starts from the next slot.
absl::CivilMinute IdleCursor(const JobSpec& job, absl::CivilMinute cursor, absl::Time now) {
  absl::optional<absl::CivilMinute> last = LastSlotAtOrBefore(job.schedule, MinuteOf(now));
  const absl::CivilMinute target = last.value_or(MinuteOf(now));
  return target > cursor ? target : cursor;
}

absl::StatusOr<AdvanceResult> AdvanceIn(pqxx::work& tx, const AdvanceRequest& req) {
  AdvanceResult result;
  const std::string& name = req.job.name;
  const absl::Time now = TruncToMicros(req.now);
  pqxx::result job_rows = tx.exec_params(sql::kLockJobSkipLocked, name);
  if (job_rows.empty()) return result;  // another replica is at it, or the job is unknown
  const JobRow job = JobFromRow(job_rows[0]);

  const bool runs_on_schedule = req.job.enabled && req.job.schedule.kind != Schedule::Kind::kOff;
  if (!req.job.enabled) {
    const absl::CivilMinute cursor = IdleCursor(req.job, job.cursor, now);
    if (cursor != job.cursor) tx.exec_params0(sql::kSetCursor, name, SlotText(cursor), TimeText(now));
    return result;
  }

  std::vector<ActiveRun> active;
  std::vector<Run> active_runs;
  for (const pqxx::row& r : tx.exec_params(sql::kActiveRuns, name)) {
    Run run = RunFromRow(r);
    ActiveRun a;
    a.id = run.id;
    a.slot = run.slot;
    a.state = run.state;
    a.lease_until = run.lease_until.value_or(absl::InfinitePast());
    a.next_attempt_time = run.next_attempt_time.value_or(absl::InfinitePast());
    a.attempts = run.attempts;
    active.push_back(a);
    active_runs.push_back(std::move(run));
  }
  const ClaimDecision decision = DecideClaim(active, now, job.paused, req.max_attempts);
  const std::string lease_until = TimeText(TruncToMicros(now + req.lease));
  switch (decision.action) {
    case ClaimDecision::Action::kNone:
      return result;
    case ClaimDecision::Action::kTakeOver:
      result.claimed = FirstRun(
          tx.exec_params(sql::kTakeOver, decision.run_id, req.owner, lease_until, TimeText(now)));
      result.took_over = result.claimed.has_value();
      return result;
    case ClaimDecision::Action::kClaimQueued:
      result.claimed = FirstRun(tx.exec_params(sql::kClaimQueued, decision.run_id, req.owner,
                                               lease_until, TimeText(now)));
      return result;
    case ClaimDecision::Action::kGiveUp:
      result.gave_up = FirstRun(
          tx.exec_params(sql::kGiveUp, decision.run_id, TimeText(now),
                         absl::StrCat("gave up after ", req.max_attempts, " attempts")));
      return result;
    case ClaimDecision::Action::kMaterialize:
      break;
  }

  if (!runs_on_schedule) {
    const absl::CivilMinute cursor = IdleCursor(req.job, job.cursor, now);
    if (cursor != job.cursor) tx.exec_params0(sql::kSetCursor, name, SlotText(cursor), TimeText(now));
    return result;
  }
  SlotPlan plan = PlanSlots(req.job.schedule, job.cursor, now, req.horizon, kMaxSlotsPerAdvance);
  absl::CivilMinute cursor = job.cursor;
  if (job.paused) {
    // Nothing runs while paused; what came due is recorded, not dropped silently.
    result.skip_reason = "due while the job was paused";
    for (const auto* list : {&plan.skipped, &plan.due}) {
      for (absl::CivilMinute slot : *list) {
        tx.exec_params0(sql::kInsertSkipped, name, SlotText(slot), TimeText(now),
                        result.skip_reason, "JOB_PAUSED");
        result.skipped.push_back(slot);
      }
    }
    cursor = plan.new_cursor;
  } else {
    result.skip_reason = absl::StrCat("older than the catch-up horizon of ",
                                      absl::FormatDuration(req.horizon));
    for (absl::CivilMinute slot : plan.skipped) {
      tx.exec_params0(sql::kInsertSkipped, name, SlotText(slot), TimeText(now), result.skip_reason,
                      "BEYOND_CATCHUP_HORIZON");
      result.skipped.push_back(slot);
      cursor = slot;
    }
    for (absl::CivilMinute slot : plan.due) {
      cursor = slot;
      // The claim: the insert under the unique (job, slot) key. A conflict means the slot
      // already has a run (a manual trigger that finished); it is accounted for.
      result.claimed = FirstRun(tx.exec_params(sql::kInsertClaimed, name, SlotText(slot),
                                               req.owner, lease_until, TimeText(now)));
      if (result.claimed.has_value()) break;
    }
  }
  if (cursor != job.cursor) tx.exec_params0(sql::kSetCursor, name, SlotText(cursor), TimeText(now));
  return result;
}

}  // namespace

void LimitIdleInTransaction(pqxx::work& tx, absl::Duration limit) {
  if (limit <= absl::ZeroDuration()) return;
  const int64_t ms = std::max<int64_t>(1, absl::ToInt64Milliseconds(limit));
  tx.exec_params("SELECT set_config('idle_in_transaction_session_timeout', $1, true)",
                 absl::StrCat(ms, "ms"));
}

// ---- jobs and runs: the runner ----

absl::Status PgSchedulerStore::EnsureJobs(const std::vector<JobSpec>& jobs, absl::Time now) {
  now = TruncToMicros(now);
  return Transact(
      absl::InfiniteFuture(),
      [&](pqxx::work& tx) -> absl::Status {
        for (const JobSpec& job : jobs) {
          const absl::CivilMinute cursor =
              LastSlotAtOrBefore(job.schedule, MinuteOf(now)).value_or(MinuteOf(now));
          tx.exec_params0(sql::kInsertJob, job.name, SlotText(cursor), TimeText(now));
        }
        return absl::OkStatus();
      },
      WriteOptions("registering the jobs"));
}

absl::StatusOr<AdvanceResult> PgSchedulerStore::Advance(const AdvanceRequest& request) {
  return Transact(
      request.deadline, [&](pqxx::work& tx) { return AdvanceIn(tx, request); },
      WriteOptions("claiming a job's slot"));
}

absl::StatusOr<int> PgSchedulerStore::RenewLeases(const std::string& owner,
                                                  absl::Time lease_until) {
  return Transact(
      absl::InfiniteFuture(),
      [&](pqxx::work& tx) -> absl::StatusOr<int> {
        return static_cast<int>(
            tx.exec_params(sql::kRenewLeases, owner, TimeText(TruncToMicros(lease_until)))
                .affected_rows());
      },
      WriteOptions("renewing leases"));
}

absl::StatusOr<bool> PgSchedulerStore::FinishRun(int64_t run_id, const std::string& owner,
                                                 const RunOutcome& o) {
  const std::string next =
      o.next_attempt_time.has_value() ? TimeText(TruncToMicros(*o.next_attempt_time)) : "";
  const std::string finish = TimeText(TruncToMicros(o.now));
  const bool final = o.state != RunState::kQueued;
  return Transact(
      absl::InfiniteFuture(),
      [&](pqxx::work& tx) -> absl::StatusOr<bool> {
        pqxx::result r = tx.exec_params(
            sql::kFinishRun, run_id, owner, static_cast<int>(o.state),
            o.state == RunState::kQueued ? next.c_str() : nullptr,
            final ? finish.c_str() : nullptr, o.duration_ms, o.summary, o.error, o.error_code);
        return r.affected_rows() == 1;
      },
      WriteOptions("recording a run's outcome"));
}

absl::StatusOr<int> PgSchedulerStore::ReleaseRuns(const std::string& owner, absl::Time now) {
  return Transact(
      absl::InfiniteFuture(),
      [&](pqxx::work& tx) -> absl::StatusOr<int> {
        return static_cast<int>(
            tx.exec_params(sql::kReleaseRuns, owner, TimeText(TruncToMicros(now))).affected_rows());
      },
      WriteOptions("releasing runs"));
}

// ---- jobs and runs: the API ----

absl::StatusOr<std::vector<JobRow>> PgSchedulerStore::ListJobs(absl::Time deadline) {
  return Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<JobRow>> {
        std::vector<JobRow> out;
        for (const pqxx::row& r : tx.exec(sql::kListJobs)) out.push_back(JobFromRow(r));
        return out;
      },
      ReadOptions("listing jobs"));
}

absl::StatusOr<absl::optional<Run>> PgSchedulerStore::LatestRun(const std::string& job,
                                                                absl::Time deadline) {
  return Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<absl::optional<Run>> {
        return FirstRun(tx.exec_params(sql::kLatestRun, job));
      },
      ReadOptions("reading the latest run"));
}

absl::StatusOr<std::vector<Run>> PgSchedulerStore::ListRuns(
    const std::string& job, const std::vector<RunState>& states,
    absl::optional<absl::CivilMinute> before, int limit, absl::Time deadline) {
  const std::string before_text = before.has_value() ? SlotText(*before) : "";
  return Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<Run>> {
        std::vector<Run> out;
        for (const pqxx::row& r :
             tx.exec_params(sql::kListRuns, job, NumberArray(states),
                            before.has_value() ? before_text.c_str() : nullptr, limit)) {
          out.push_back(RunFromRow(r));
        }
        return out;
      },
      ReadOptions("listing runs"));
}

absl::StatusOr<std::pair<Run, bool>> PgSchedulerStore::TriggerRun(const WriteContext& ctx,
                                                                  const std::string& job,
                                                                  absl::CivilMinute slot) {
  WriteContext w = ctx;
  w.now = TruncToMicros(ctx.now);
  return Transact(
      ctx.deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::pair<Run, bool>> {
        if (tx.exec_params(sql::kLockJob, job).empty()) return JobNotFound();
        pqxx::result existing = tx.exec_params(sql::kRunForSlot, job, SlotText(slot));
        Run run;
        if (!existing.empty()) {
          run = RunFromRow(existing[0]);
          if (run.state != RunState::kFailed && run.state != RunState::kSkipped) {
            return std::make_pair(run, false);
          }
          run = RunFromRow(tx.exec_params(sql::kRequeue, run.id, w.actor, TimeText(w.now))[0]);
        } else {
          run = RunFromRow(tx.exec_params(sql::kInsertManual, job, SlotText(slot), w.actor,
                                          TimeText(w.now))[0]);
        }
        RETURN_IF_ERROR(Audit(tx, w, "run", RunResource(job, slot),
                              R"({"state":{"new":"QUEUED"},"trigger":{"new":"MANUAL"}})"));
        return std::make_pair(run, true);
      },
      WriteOptions("triggering a job"));
}

absl::StatusOr<JobRow> PgSchedulerStore::SetPaused(const WriteContext& ctx, const std::string& job,
                                                   bool paused, const std::string& reason) {
  WriteContext w = ctx;
  w.now = TruncToMicros(ctx.now);
  return Transact(
      ctx.deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<JobRow> {
        pqxx::result rows = tx.exec_params(sql::kLockJob, job);
        if (rows.empty()) return JobNotFound();
        JobRow row = JobFromRow(rows[0]);
        if (row.paused == paused) return row;
        const std::string when = TimeText(w.now);
        tx.exec_params0(sql::kSetPaused, job, paused, paused ? w.actor : "",
                        paused ? reason : "", paused ? when.c_str() : nullptr, when);
        RETURN_IF_ERROR(Audit(
            tx, w, "job", absl::StrCat("jobs/", job),
            absl::StrCat(R"({"paused":{"old":)", row.paused ? "true" : "false", R"(,"new":)",
                         paused ? "true" : "false", R"(},"reason":{"new":")",
                         log::JsonEscape(reason), "\"}}")));
        row.paused = paused;
        row.paused_by = paused ? w.actor : "";
        row.pause_reason = paused ? reason : "";
        row.pause_time = paused ? absl::optional<absl::Time>(w.now) : absl::nullopt;
        return row;
      },
      WriteOptions("pausing or resuming a job"));
}

// ---- the outbox ----

absl::StatusOr<std::pair<Notification, bool>> PgSchedulerStore::EnqueueNotification(
    const WriteContext& ctx, const NewNotification& n) {
  WriteContext w = ctx;
  w.now = TruncToMicros(ctx.now);
  const std::string json = ParametersJson(n.parameters);
  return Transact(
      ctx.deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::pair<Notification, bool>> {
        pqxx::result inserted =
            tx.exec_params(sql::kInsertNotification, n.dedup_key, n.recipient, n.template_name,
                           json, n.subject, n.body, n.message_id, w.actor, TimeText(w.now));
        if (!inserted.empty()) {
          Notification stored = NotificationFromRow(inserted[0]);
          RETURN_IF_ERROR(Audit(
              tx, w, "notification", absl::StrCat("notifications/", stored.id),
              absl::StrCat(R"({"dedup_key":{"new":")", log::JsonEscape(n.dedup_key),
                           R"("},"recipient":{"new":")", log::JsonEscape(n.recipient),
                           R"("},"template_name":{"new":")", log::JsonEscape(n.template_name),
                           "\"}}")));
          return std::make_pair(std::move(stored), true);
        }
        // The key exists (perhaps committed by a concurrent call just now: the insert waited
        // for it). The same content is a replay; anything else reuses the key.
        pqxx::result rows = tx.exec_params(sql::kNotificationByKey, n.dedup_key);
        if (rows.empty()) {
          return absl::AbortedError("the notification's dedup key changed under us; retry");
        }
        Notification stored = NotificationFromRow(rows[0]);
        if (stored.recipient != n.recipient || stored.template_name != n.template_name ||
            stored.parameters != n.parameters) {
          return WithReason(
              absl::AlreadyExistsError(absl::StrCat(
                  "dedup_key ", n.dedup_key,
                  " was already used for another notification (recipient, template or "
                  "parameters differ)")),
              "DEDUP_KEY_REUSED");
        }
        return std::make_pair(std::move(stored), false);
      },
      WriteOptions("enqueuing a notification"));
}

absl::StatusOr<std::vector<Notification>> PgSchedulerStore::ListNotifications(
    const NotificationFilter& filter, int64_t before_id, int limit, absl::Time deadline) {
  return Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<Notification>> {
        std::vector<Notification> out;
        for (const pqxx::row& r :
             tx.exec_params(sql::kListNotifications, NumberArray(filter.states), filter.recipient,
                            filter.template_name, before_id, limit)) {
          out.push_back(NotificationFromRow(r));
        }
        return out;
      },
      ReadOptions("listing notifications"));
}

absl::StatusOr<absl::optional<Notification>> PgSchedulerStore::ClaimDelivery(
    const std::string& owner, absl::Time now, absl::Time lease_until) {
  return Transact(
      absl::InfiniteFuture(),
      [&](pqxx::work& tx) -> absl::StatusOr<absl::optional<Notification>> {
        pqxx::result rows =
            tx.exec_params(sql::kClaimDelivery, owner, TimeText(TruncToMicros(lease_until)),
                           TimeText(TruncToMicros(now)));
        if (rows.empty()) return absl::optional<Notification>();
        return absl::optional<Notification>(NotificationFromRow(rows[0]));
      },
      WriteOptions("claiming a notification"));
}

absl::StatusOr<bool> PgSchedulerStore::MarkSent(int64_t id, const std::string& owner,
                                                absl::Time now) {
  return Transact(
      absl::InfiniteFuture(),
      [&](pqxx::work& tx) -> absl::StatusOr<bool> {
        return tx.exec_params(sql::kMarkSent, id, owner, TimeText(TruncToMicros(now)))
                   .affected_rows() == 1;
      },
      WriteOptions("recording a sent notification"));
}

absl::StatusOr<bool> PgSchedulerStore::MarkDeliveryFailed(int64_t id, const std::string& owner,
                                                          const std::string& error, bool dead,
                                                          absl::Time next_attempt,
                                                          absl::Time now) {
  const std::string dead_time = TimeText(TruncToMicros(now));
  return Transact(
      absl::InfiniteFuture(),
      [&](pqxx::work& tx) -> absl::StatusOr<bool> {
        return tx.exec_params(sql::kMarkFailed, id, owner, dead ? 3 : 1,
                              TimeText(TruncToMicros(next_attempt)), error,
                              dead ? dead_time.c_str() : nullptr)
                   .affected_rows() == 1;
      },
      WriteOptions("recording a failed delivery"));
}

}  // namespace anken::scheduler
