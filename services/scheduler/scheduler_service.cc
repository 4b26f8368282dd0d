#include "services/scheduler/scheduler_service.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/api/proto_time.h"
#include "common/auth/auth_interceptor.h"
#include "common/server/handler.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "services/scheduler/outbox.h"
#include "services/scheduler/schedule.h"

namespace anken::scheduler {
namespace {

using auth::Role;
using server::DeadlineOf;

constexpr char kService[] = "/anken.scheduler.v1.SchedulerService/";
constexpr size_t kMaxPauseReason = 500;

std::string Method(absl::string_view name) { return absl::StrCat(kService, name); }

grpc::Status Fail(const absl::Status& s) { return ToGrpcStatus(s); }

// The message names the configured jobs, never the name the client sent (it may be long or
// hostile, and messages end up in logs and UIs).
absl::Status JobNotFound(const std::vector<ScheduledJob>& jobs) {
  std::vector<std::string> names;
  for (const ScheduledJob& j : jobs) names.push_back(j.name());
  return WithReason(absl::NotFoundError(absl::StrCat("no such job; the jobs are ",
                                                     absl::StrJoin(names, ", "))),
                    "JOB_NOT_FOUND");
}

void SetTime(absl::optional<absl::Time> t, google::protobuf::Timestamp* out) {
  if (t.has_value()) api::ToTimestamp(*t, out);
}

v1::Run RunProto(const Run& r) {
  v1::Run p;
  p.set_id(r.id);
  p.set_job(r.job);
  p.set_slot(SlotKey(r.slot));
  api::ToTimestamp(SlotInstant(r.slot), p.mutable_slot_time());
  p.set_state(static_cast<v1::RunState>(r.state));
  p.set_trigger(static_cast<v1::RunTrigger>(r.trigger));
  p.set_triggered_by(r.triggered_by);
  p.set_request_id(RequestIdFor(r.job, r.slot));
  p.set_attempts(r.attempts);
  p.set_takeovers(r.takeovers);
  p.set_owner(r.owner);
  SetTime(r.lease_until, p.mutable_lease_expire_time());
  SetTime(r.next_attempt_time, p.mutable_next_attempt_time());
  api::ToTimestamp(r.create_time, p.mutable_create_time());
  SetTime(r.start_time, p.mutable_start_time());
  SetTime(r.finish_time, p.mutable_finish_time());
  p.mutable_duration()->set_seconds(r.duration_ms / 1000);
  p.mutable_duration()->set_nanos(static_cast<int32_t>(r.duration_ms % 1000) * 1000000);
  p.set_summary(r.summary);
  p.set_error(r.error);
  p.set_error_code(r.error_code);
  return p;
}

v1::Notification NotificationProto(const Notification& n) {
  v1::Notification p;
  p.set_id(n.id);
  p.set_dedup_key(n.dedup_key);
  p.set_recipient(n.recipient);
  p.set_template_name(n.template_name);
  for (const auto& [k, v] : n.parameters) (*p.mutable_parameters())[k] = v;
  p.set_subject(n.subject);
  p.set_body(n.body);
  p.set_message_id(n.message_id);
  p.set_state(static_cast<v1::NotificationState>(n.state));
  p.set_attempts(n.attempts);
  p.set_last_error(n.last_error);
  if (n.state == NotificationState::kPending) {
    api::ToTimestamp(n.next_attempt_time, p.mutable_next_attempt_time());
  }
  p.set_created_by(n.created_by);
  api::ToTimestamp(n.create_time, p.mutable_create_time());
  SetTime(n.sent_time, p.mutable_sent_time());
  SetTime(n.dead_time, p.mutable_dead_time());
  return p;
}

WriteContext Write(const grpc::ServerContext& ctx, const auth::Principal& caller,
                   absl::string_view method, const Clock& clock) {
  WriteContext w;
  w.actor = caller.subject;
  w.actor_role = std::string(auth::RoleName(caller.role));
  w.method = Method(method);
  w.now = clock.Now();
  w.deadline = DeadlineOf(ctx);
  return w;
}

}  // namespace

SchedulerServiceImpl::~SchedulerServiceImpl() { background_.reset(); }

auth::MethodRoles SchedulerServiceImpl::Roles() {
  auth::MethodRoles r;
  r.Allow(Method("ListJobs"), {Role::kAdmin, Role::kStaff});
  r.Allow(Method("ListRuns"), {Role::kAdmin, Role::kStaff});
  r.Allow(Method("TriggerJob"), {Role::kAdmin});
  r.Allow(Method("PauseJob"), {Role::kAdmin});
  r.Allow(Method("ResumeJob"), {Role::kAdmin});
  r.Allow(Method("EnqueueNotification"), {Role::kService, Role::kAdmin});
  r.Allow(Method("ListNotifications"), {Role::kAdmin, Role::kStaff});
  return r;
}

const ScheduledJob* SchedulerServiceImpl::FindJob(const std::string& name) const {
  for (const ScheduledJob& j : jobs_) {
    if (j.name() == name) return &j;
  }
  return nullptr;
}

absl::StatusOr<v1::Job> SchedulerServiceImpl::JobProto(const ScheduledJob& job, const JobRow* row,
                                                       absl::Time deadline) const {
  v1::Job p;
  p.set_name(job.name());
  p.set_description(job.kind->description);
  p.set_schedule(FormatSchedule(job.schedule));
  const std::string reason = job.action->DisabledReason();
  p.set_enabled(reason.empty());
  p.set_disabled_reason(reason);
  if (row != nullptr) {
    p.set_paused(row->paused);
    p.set_paused_by(row->paused_by);
    p.set_pause_reason(row->pause_reason);
    SetTime(row->pause_time, p.mutable_pause_time());
    absl::optional<absl::CivilMinute> next = NextSlotAfter(job.schedule, row->cursor);
    if (next.has_value() && reason.empty()) {
      api::ToTimestamp(SlotInstant(*next), p.mutable_next_slot_time());
      p.set_next_slot(SlotKey(*next));
    }
  }
  ASSIGN_OR_RETURN(absl::optional<Run> last, store_.LatestRun(job.name(), deadline));
  if (last.has_value()) *p.mutable_last_run() = RunProto(*last);
  return p;
}

grpc::Status SchedulerServiceImpl::ListJobs(grpc::ServerContext* ctx,
                                            const v1::ListJobsRequest* req,
                                            v1::ListJobsResponse* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  absl::StatusOr<std::vector<JobRow>> rows = store_.ListJobs(DeadlineOf(*ctx));
  if (!rows.ok()) return Fail(rows.status());
  std::map<std::string, const JobRow*> by_name;
  for (const JobRow& r : *rows) by_name[r.name] = &r;
  for (const ScheduledJob& job : jobs_) {
    auto it = by_name.find(job.name());
    absl::StatusOr<v1::Job> p =
        JobProto(job, it == by_name.end() ? nullptr : it->second, DeadlineOf(*ctx));
    if (!p.ok()) return Fail(p.status());
    *resp->add_jobs() = std::move(*p);
  }
  return grpc::Status::OK;
}

grpc::Status SchedulerServiceImpl::ListRuns(grpc::ServerContext* ctx,
                                            const v1::ListRunsRequest* req,
                                            v1::ListRunsResponse* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (req->job().empty()) return Fail(InvalidField("job", "is required", "REQUIRED"));
  if (FindJob(req->job()) == nullptr) return Fail(JobNotFound(jobs_));
  absl::StatusOr<int> size = api::PageSize(req->page_size());
  if (!size.ok()) return Fail(size.status());
  std::vector<RunState> states;
  for (int s : req->states()) {
    if (s < 1 || s > 5) return Fail(InvalidField("states", "unknown run state"));
    states.push_back(static_cast<RunState>(s));
  }
  absl::optional<absl::CivilMinute> before;
  if (!req->page_token().empty()) {
    absl::StatusOr<std::string> position =
        page_tokens_.Decode(req->page_token(), api::FilterFingerprint(*req));
    if (!position.ok()) return Fail(position.status());
    absl::StatusOr<absl::CivilMinute> slot = ParseSlotKey(*position);
    if (!slot.ok()) return Fail(InvalidField("page_token", "is not a token of this listing"));
    before = *slot;
  }
  absl::StatusOr<std::vector<Run>> runs =
      store_.ListRuns(req->job(), states, before, *size + 1, DeadlineOf(*ctx));
  if (!runs.ok()) return Fail(runs.status());
  const bool more = static_cast<int>(runs->size()) > *size;
  if (more) runs->resize(*size);
  for (const Run& r : *runs) *resp->add_runs() = RunProto(r);
  if (more) {
    resp->set_next_page_token(
        page_tokens_.Encode(api::FilterFingerprint(*req), SlotKey(runs->back().slot)));
  }
  return grpc::Status::OK;
}

grpc::Status SchedulerServiceImpl::TriggerJob(grpc::ServerContext* ctx,
                                              const v1::TriggerJobRequest* req,
                                              v1::TriggerJobResponse* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (req->job().empty()) return Fail(InvalidField("job", "is required", "REQUIRED"));
  const ScheduledJob* job = FindJob(req->job());
  if (job == nullptr) return Fail(JobNotFound(jobs_));
  if (!req->has_slot_time()) return Fail(InvalidField("slot_time", "is required", "REQUIRED"));
  const absl::Time at = api::FromTimestamp(req->slot_time());
  const absl::CivilMinute slot = MinuteOf(at);
  if (SlotInstant(slot) != at) {
    return Fail(InvalidField("slot_time", "must be a whole minute", "INVALID_SLOT"));
  }
  const absl::Time now = clock_.Now();
  if (at > now) {
    return Fail(InvalidField("slot_time", "is in the future; a slot runs at or after its time",
                             "SLOT_IN_FUTURE"));
  }
  if (job->schedule.kind != Schedule::Kind::kOff && !IsSlot(job->schedule, slot)) {
    return Fail(InvalidField(
        "slot_time",
        absl::StrCat(SlotKey(slot), " (Asia/Tokyo) is not a slot of the schedule \"",
                     FormatSchedule(job->schedule), "\""),
        "SLOT_NOT_IN_SCHEDULE"));
  }
  if (const std::string reason = job->action->DisabledReason(); !reason.empty()) {
    return Fail(WithReason(absl::FailedPreconditionError(
                               absl::StrCat("job ", job->name(), " is disabled: ", reason)),
                           "JOB_DISABLED"));
  }
  absl::StatusOr<std::vector<JobRow>> rows = store_.ListJobs(DeadlineOf(*ctx));
  if (!rows.ok()) return Fail(rows.status());
  for (const JobRow& r : *rows) {
    if (r.name == job->name() && r.paused) {
      return Fail(WithReason(absl::FailedPreconditionError(absl::StrCat(
                                 "job ", job->name(), " is paused; resume it first")),
                             "JOB_PAUSED"));
    }
  }
  absl::StatusOr<std::pair<Run, bool>> triggered =
      store_.TriggerRun(Write(*ctx, caller, "TriggerJob", clock_), job->name(), slot);
  if (!triggered.ok()) return Fail(triggered.status());
  *resp->mutable_run() = RunProto(triggered->first);
  resp->set_created(triggered->second);
  if (triggered->second && wake_) wake_();
  return grpc::Status::OK;
}

grpc::Status SchedulerServiceImpl::PauseJob(grpc::ServerContext* ctx,
                                            const v1::PauseJobRequest* req, v1::Job* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (req->job().empty()) return Fail(InvalidField("job", "is required", "REQUIRED"));
  const ScheduledJob* job = FindJob(req->job());
  if (job == nullptr) return Fail(JobNotFound(jobs_));
  size_t chars = 0;
  for (char c : req->reason()) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  if (chars > kMaxPauseReason) {
    return Fail(InvalidField("reason", "must be at most 500 characters"));
  }
  absl::StatusOr<JobRow> row =
      store_.SetPaused(Write(*ctx, caller, "PauseJob", clock_), job->name(), true, req->reason());
  if (!row.ok()) return Fail(row.status());
  absl::StatusOr<v1::Job> p = JobProto(*job, &*row, DeadlineOf(*ctx));
  if (!p.ok()) return Fail(p.status());
  *resp = std::move(*p);
  return grpc::Status::OK;
}

grpc::Status SchedulerServiceImpl::ResumeJob(grpc::ServerContext* ctx,
                                             const v1::ResumeJobRequest* req, v1::Job* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (req->job().empty()) return Fail(InvalidField("job", "is required", "REQUIRED"));
  const ScheduledJob* job = FindJob(req->job());
  if (job == nullptr) return Fail(JobNotFound(jobs_));
  absl::StatusOr<JobRow> row =
      store_.SetPaused(Write(*ctx, caller, "ResumeJob", clock_), job->name(), false, "");
  if (!row.ok()) return Fail(row.status());
  if (wake_) wake_();
  absl::StatusOr<v1::Job> p = JobProto(*job, &*row, DeadlineOf(*ctx));
  if (!p.ok()) return Fail(p.status());
  *resp = std::move(*p);
  return grpc::Status::OK;
}

grpc::Status SchedulerServiceImpl::EnqueueNotification(grpc::ServerContext* ctx,
                                                       const v1::EnqueueNotificationRequest* req,
                                                       v1::Notification* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  NotificationRequest request;
  request.dedup_key = req->dedup_key();
  request.recipient = req->recipient();
  request.template_name = req->template_name();
  for (const auto& [k, v] : req->parameters()) request.parameters[k] = v;
  absl::StatusOr<NewNotification> prepared = PrepareNotification(request, mail_domain_);
  if (!prepared.ok()) return Fail(prepared.status());
  absl::StatusOr<std::pair<Notification, bool>> stored = store_.EnqueueNotification(
      Write(*ctx, caller, "EnqueueNotification", clock_), *prepared);
  if (!stored.ok()) return Fail(stored.status());
  *resp = NotificationProto(stored->first);
  return grpc::Status::OK;
}

grpc::Status SchedulerServiceImpl::ListNotifications(grpc::ServerContext* ctx,
                                                     const v1::ListNotificationsRequest* req,
                                                     v1::ListNotificationsResponse* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  absl::StatusOr<int> size = api::PageSize(req->page_size());
  if (!size.ok()) return Fail(size.status());
  absl::StatusOr<int64_t> before = api::DecodeIdPosition(page_tokens_, *req, req->page_token());
  if (!before.ok()) return Fail(before.status());
  NotificationFilter filter;
  for (int s : req->states()) {
    if (s < 1 || s > 3) return Fail(InvalidField("states", "unknown notification state"));
    filter.states.push_back(static_cast<NotificationState>(s));
  }
  filter.recipient = req->recipient();
  filter.template_name = req->template_name();
  absl::StatusOr<std::vector<Notification>> rows =
      store_.ListNotifications(filter, *before, *size + 1, DeadlineOf(*ctx));
  if (!rows.ok()) return Fail(rows.status());
  const bool more = static_cast<int>(rows->size()) > *size;
  if (more) rows->resize(*size);
  for (const Notification& n : *rows) *resp->add_notifications() = NotificationProto(n);
  if (more) resp->set_next_page_token(api::EncodeIdPosition(page_tokens_, *req, rows->back().id));
  return grpc::Status::OK;
}

}  // namespace anken::scheduler
