#include "services/report/report_service.h"

#include <algorithm>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/api/etag.h"
#include "common/api/proto_time.h"
#include "common/auth/auth_interceptor.h"
#include "common/db/idempotency.h"
#include "common/server/handler.h"
#include "common/server/handler_kit.h"
#include "common/status/domain_error.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "services/report/effects.h"
#include "services/report/report_rules.h"

namespace anken::report {
namespace {

using auth::Role;
using server::DeadlineOf;

constexpr char kService[] = "/anken.report.v1.ReportIntakeService/";

std::string Method(absl::string_view name) { return absl::StrCat(kService, name); }

grpc::Status Fail(const absl::Status& s) { return ToGrpcStatus(s); }

// ---- proto <-> domain ----

void ToProto(const PeriodView& p, v1::Period* out) {
  api::ToYearMonth(p.period.month, out->mutable_month());
  api::ToDate(p.period.deadline_day, out->mutable_deadline_day());
  api::ToTimestamp(p.period.deadline, out->mutable_deadline());
  api::ToTimestamp(p.open_time, out->mutable_open_time());
  out->set_report_count(static_cast<int32_t>(p.report_count));
  out->set_submitted_count(static_cast<int32_t>(p.submitted_count));
}

void StateToProto(Outcome outcome, const absl::optional<absl::CivilDay>& completion,
                  int64_t amount, const absl::optional<absl::CivilDay>& lost,
                  v1::CaseState* out) {
  out->set_outcome(static_cast<v1::Outcome>(outcome));
  if (completion) api::ToDate(*completion, out->mutable_completion_date());
  out->set_amount(amount);
  if (lost) api::ToDate(*lost, out->mutable_lost_date());
}

void ToProto(const LineSnapshot& s, v1::CaseState* out) {
  StateToProto(s.outcome, s.completion_date, s.amount, s.lost_date, out);
}

void ToProto(const Change& c, int applied_extra_orders, v1::CaseChange* out) {
  out->set_outcome(static_cast<v1::Outcome>(c.outcome));
  if (c.completion_date) api::ToDate(*c.completion_date, out->mutable_completion_date());
  out->set_amount(c.amount);
  if (c.lost_date) api::ToDate(*c.lost_date, out->mutable_lost_date());
  out->set_remarks(c.remarks);
  for (size_t i = 0; i < c.extra_orders.size(); ++i) {
    const ExtraOrder& x = c.extra_orders[i];
    v1::ExtraOrder* p = out->add_extra_orders();
    p->set_kind(static_cast<v1::ExtraOrderKind>(x.kind));
    api::ToDate(x.order_date, p->mutable_order_date());
    p->set_amount(x.amount);
    p->set_note(x.note);
    p->set_applied(static_cast<int>(i) < applied_extra_orders);
  }
}

// A client's change. Malformed dates are INVALID_ARGUMENT on the field; everything else (an
// unset outcome or kind included) is ValidateChange's to judge, with the partner's texts.
absl::StatusOr<Change> FromProto(const v1::CaseChange& p, absl::string_view prefix) {
  Change c;
  c.outcome = static_cast<Outcome>(p.outcome());
  ASSIGN_OR_RETURN(c.completion_date,
                   api::OptionalDate(p.completion_date(), absl::StrCat(prefix, ".completion_date")));
  c.amount = p.amount();
  ASSIGN_OR_RETURN(c.lost_date, api::OptionalDate(p.lost_date(), absl::StrCat(prefix, ".lost_date")));
  c.remarks = p.remarks();
  for (int i = 0; i < p.extra_orders_size(); ++i) {
    const v1::ExtraOrder& e = p.extra_orders(i);
    ExtraOrder x;
    x.kind = static_cast<ExtraKind>(e.kind());
    ASSIGN_OR_RETURN(x.order_date,
                     api::FromDate(e.order_date(),
                                   absl::StrCat(prefix, ".extra_orders[", i, "].order_date")));
    x.amount = e.amount();
    x.note = e.note();
    c.extra_orders.push_back(std::move(x));
  }
  return c;
}

void ToProto(const Effect& e, v1::Effect* out) {
  out->set_id(e.id);
  out->set_kind(static_cast<v1::EffectKind>(e.kind));
  out->set_line_id(e.line_id);
  out->set_project_id(e.project_id);
  out->set_case_number(e.case_number);
  out->set_request_id(e.request_id);
  out->set_description(e.description);
  out->set_state(e.done_time.has_value() ? v1::EFFECT_STATE_DONE
                 : e.last_error.empty()  ? v1::EFFECT_STATE_PENDING
                                         : v1::EFFECT_STATE_RETRYING);
  out->set_attempts(e.attempts);
  out->set_last_error(e.last_error);
  if (!e.done_time) api::ToTimestamp(e.next_attempt_time, out->mutable_next_attempt_time());
  if (e.done_time) api::ToTimestamp(*e.done_time, out->mutable_done_time());
}

void ToProto(const Submission& s, v1::Submission* out) {
  out->set_id(s.id);
  out->set_report_id(s.report_id);
  out->set_case_update_id(s.case_update_id);
  out->set_sequence(s.sequence);
  api::ToTimestamp(s.submit_time, out->mutable_submit_time());
  out->set_submitted_by(s.submitted_by);
  for (const Effect& e : s.effects) ToProto(e, out->add_effects());
}

const StoredLine* FindLine(const std::vector<StoredLine>& lines, int64_t id) {
  for (const StoredLine& l : lines) {
    if (l.line.id == id) return &l;
  }
  return nullptr;
}

absl::Status ProjectNotFound(int64_t id) {
  return WithReason(absl::NotFoundError(absl::StrCat("project ", id, " not found")),
                    "PROJECT_NOT_FOUND");
}

bool SameExtraOrder(const ExtraOrder& a, const ExtraOrder& b) {
  return a.kind == b.kind && a.order_date == b.order_date && a.amount == b.amount &&
         a.note == b.note;
}

// Orders applied by an earlier submission were recorded by the project service and charged:
// they can no longer be changed or dropped from the line's answer.
absl::Status CheckAppliedExtraOrders(const StoredLine& line, const Change* change) {
  const std::vector<ExtraOrder>& applied = line.line.change.extra_orders;
  for (int i = 0; i < line.applied_extra_orders && i < static_cast<int>(applied.size()); ++i) {
    if (change == nullptr || static_cast<int>(change->extra_orders.size()) <= i ||
        !SameExtraOrder(change->extra_orders[i], applied[i])) {
      return DomainPrecondition(
          "EXTRA_ORDER_APPLIED",
          absl::StrCat("extra order ", i + 1,
                       " was applied by an earlier submission and cannot be changed or dropped"));
    }
  }
  return absl::OkStatus();
}

// The first error of ValidateChange as the RPC's status (the partner's text).
absl::Status ValidationStatus(const std::vector<LineError>& errors) {
  if (errors.empty()) return absl::OkStatus();
  return LineErrorStatus(errors.front());
}

// A change that repeats the snapshot, without remarks or orders, is 変更なし (as an upload
// row that repeats it).
bool RepeatsSnapshot(const LineSnapshot& s, const Change& c) {
  return c.outcome == s.outcome && c.completion_date == s.completion_date &&
         c.amount == s.amount && c.lost_date == s.lost_date && c.remarks.empty() &&
         c.extra_orders.empty();
}

std::vector<ReportStatus> NotSubmitted() {
  return {ReportStatus::kNotStarted, ReportStatus::kInProgress, ReportStatus::kOverdue};
}

}  // namespace

namespace internal {

int64_t PartnerIdOf(const auth::Principal& caller) {
  int64_t id = 0;
  if (caller.role != Role::kPartner || !absl::SimpleAtoi(caller.partner_id, &id)) return 0;
  return id;
}

bool CanSee(const auth::Principal& caller, int64_t partner_id) {
  return caller.role != Role::kPartner || PartnerIdOf(caller) == partner_id;
}

std::vector<ReportLine> Lines(const std::vector<StoredLine>& stored) {
  std::vector<ReportLine> out;
  out.reserve(stored.size());
  for (const StoredLine& s : stored) out.push_back(s.line);
  return out;
}

v1::Report ReportProto(const ReportView& v, absl::Time now) {
  v1::Report p;
  p.set_id(v.report.id);
  p.set_partner_id(v.report.partner_id);
  p.set_partner_name(v.partner_name);
  p.set_partner_email(v.partner_email);
  api::ToYearMonth(v.period.month, p.mutable_month());
  api::ToDate(v.period.deadline_day, p.mutable_deadline_day());
  api::ToTimestamp(v.period.deadline, p.mutable_deadline());
  p.set_status(static_cast<v1::ReportStatus>(
      DeriveReportStatus(v.report.submit_time.has_value(), static_cast<size_t>(v.checked_count),
                         v.period.deadline, now)));
  p.set_line_count(static_cast<int32_t>(v.line_count));
  p.set_checked_count(static_cast<int32_t>(v.checked_count));
  if (v.report.submit_time) api::ToTimestamp(*v.report.submit_time, p.mutable_submit_time());
  p.set_submitted_by(v.report.submitted_by);
  p.set_submission_count(v.submission_count);
  p.set_etag(api::FormatEtag(v.report.version));
  server::StampToProto(v.stamp, p.mutable_audit());
  return p;
}

v1::ReportLine LineProto(const StoredLine& s) {
  const ReportLine& l = s.line;
  v1::ReportLine p;
  p.set_id(l.id);
  p.set_report_id(l.report_id);
  p.set_project_id(l.snapshot.project_id);
  p.set_case_number(l.snapshot.case_number);
  p.set_customer_name(l.snapshot.customer_name);
  api::ToDate(l.snapshot.referral_date, p.mutable_referral_date());
  ToProto(l.snapshot, p.mutable_snapshot());
  p.set_answer(static_cast<v1::LineAnswer>(l.answer));
  p.set_checked(IsChecked(l));
  if (l.answer == Answer::kChanged) ToProto(l.change, s.applied_extra_orders, p.mutable_change());
  p.set_answered_by(s.answered_by);
  if (s.answer_time) api::ToTimestamp(*s.answer_time, p.mutable_answer_time());
  p.set_etag(api::FormatEtag(s.version));
  return p;
}

}  // namespace internal

using internal::CanSee;
using internal::Lines;
using internal::PartnerIdOf;

auth::MethodRoles ReportServiceImpl::Roles() {
  const std::initializer_list<Role> read = {Role::kAdmin, Role::kStaff, Role::kAccounting,
                                            Role::kPartner};
  const std::initializer_list<Role> answer = {Role::kAdmin, Role::kStaff, Role::kPartner};
  auth::MethodRoles r;
  r.Allow(Method("OpenPeriod"), {Role::kAdmin, Role::kService});
  r.Allow(Method("GetPeriod"),
          {Role::kAdmin, Role::kStaff, Role::kAccounting, Role::kPartner, Role::kService});
  for (const char* m : {"ListReports", "GetReport", "ListReportLines", "DownloadReportXlsx",
                        "PreviewSubmission", "GetSubmissionStatus"}) {
    r.Allow(Method(m), read);
  }
  for (const char* m : {"MarkNoChange", "ReportChange", "UploadReportXlsx", "SubmitReport",
                        "SubmitCaseUpdate"}) {
    r.Allow(Method(m), answer);
  }
  r.Allow(Method("ReopenReport"), {Role::kAdmin, Role::kStaff});
  r.Allow(Method("ListReportsNeedingReminder"), {Role::kAdmin, Role::kStaff, Role::kService});
  return r;
}

WriteContext ReportServiceImpl::Write(const grpc::ServerContext& ctx,
                                      const auth::Principal& caller, absl::string_view method,
                                      const std::string& request_id,
                                      const google::protobuf::Message& request) const {
  return server::MakeWriteContext(ctx, caller, Method(method), request_id, request, clock_);
}

absl::StatusOr<ReportView> ReportServiceImpl::VisibleReport(int64_t id,
                                                            const auth::Principal& caller,
                                                            const grpc::ServerContext& ctx) {
  RETURN_IF_ERROR(server::RequireId(id, "report_id"));
  ASSIGN_OR_RETURN(ReportView v, store_.GetReport(id, DeadlineOf(ctx)));
  if (!CanSee(caller, v.report.partner_id)) return ReportNotFound(id);
  return v;
}

absl::StatusOr<StoredLine> ReportServiceImpl::VisibleLine(int64_t id,
                                                          const auth::Principal& caller,
                                                          const grpc::ServerContext& ctx) {
  RETURN_IF_ERROR(server::RequireId(id, "line_id"));
  ASSIGN_OR_RETURN(StoredLine l, store_.GetLine(id, DeadlineOf(ctx)));
  if (l.line.report_id == 0 || !CanSee(caller, l.partner_id)) return LineNotFound(id);
  return l;
}

// ---- periods ----

grpc::Status ReportServiceImpl::OpenPeriod(grpc::ServerContext* ctx,
                                           const v1::OpenPeriodRequest* req,
                                           v1::OpenPeriodResponse* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = db::CheckRequestId(req->request_id()); !s.ok()) return Fail(s);
  absl::StatusOr<absl::CivilMonth> month = api::FromYearMonth(req->month(), "month");
  if (!month.ok()) return Fail(month.status());
  absl::StatusOr<Period> period = MakePeriod(*month);
  if (!period.ok()) return Fail(period.status());
  const WriteContext w = Write(*ctx, caller, "OpenPeriod", req->request_id(), *req);

  // The snapshot is taken only for a month not open yet: opening again asks no peer.
  std::vector<NewReport> reports;
  absl::StatusOr<PeriodView> existing = store_.GetPeriod(*month, w.deadline);
  if (!existing.ok() && existing.status().code() != absl::StatusCode::kNotFound) {
    return Fail(existing.status());
  }
  if (!existing.ok()) {
    absl::StatusOr<std::vector<PartnerInfo>> partners = peers_.Partners(*ctx);
    if (!partners.ok()) return Fail(partners.status());
    // Every partner's open cases in a few pages, then grouped: a call per partner made a
    // 1,000-partner month take seconds of round trips.
    absl::StatusOr<std::vector<ReferredCase>> referred = peers_.InProgressReferrals(*ctx);
    if (!referred.ok()) return Fail(referred.status());
    std::unordered_map<int64_t, std::vector<LineSnapshot>> cases_of;
    for (ReferredCase& c : *referred) cases_of[c.partner_id].push_back(std::move(c.snapshot));
    for (const PartnerInfo& partner : *partners) {
      auto cases = cases_of.find(partner.id);
      if (cases == cases_of.end() || cases->second.empty()) continue;
      NewReport r;
      r.partner_id = partner.id;
      r.partner_name = partner.name;
      r.partner_email = partner.email;
      r.lines = std::move(cases->second);
      std::stable_sort(r.lines.begin(), r.lines.end(),
                       [](const LineSnapshot& a, const LineSnapshot& b) {
                         return a.case_number < b.case_number;
                       });
      reports.push_back(std::move(r));
    }
  }
  const absl::Time now = clock_.Now();
  return server::ReplyFromBytes(
      store_.OpenPeriod(w, *period, reports,
                        [now](const OpenedPeriod& o) {
                          v1::OpenPeriodResponse out;
                          ToProto(o.period, out.mutable_period());
                          for (const ReportView& r : o.reports) {
                            *out.add_reports() = internal::ReportProto(r, now);
                          }
                          out.set_created(o.created);
                          return out.SerializeAsString();
                        }),
      resp);
}

grpc::Status ReportServiceImpl::GetPeriod(grpc::ServerContext* ctx,
                                          const v1::GetPeriodRequest* req, v1::Period* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  absl::StatusOr<absl::CivilMonth> month = api::FromYearMonth(req->month(), "month");
  if (!month.ok()) return Fail(month.status());
  absl::StatusOr<PeriodView> p = store_.GetPeriod(*month, DeadlineOf(*ctx));
  if (!p.ok()) return Fail(p.status());
  ToProto(*p, resp);
  return grpc::Status::OK;
}

// ---- reports and lines ----

grpc::Status ReportServiceImpl::ListReports(grpc::ServerContext* ctx,
                                            const v1::ListReportsRequest* req,
                                            v1::ListReportsResponse* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  absl::StatusOr<int> size = api::PageSize(req->page_size());
  if (!size.ok()) return Fail(size.status());
  absl::StatusOr<int64_t> after = api::DecodeIdPosition(page_tokens_, *req, req->page_token());
  if (!after.ok()) return Fail(after.status());
  ReportFilter f;
  f.now = clock_.Now();
  if (req->has_month()) {
    absl::StatusOr<absl::CivilMonth> month = api::FromYearMonth(req->month(), "month");
    if (!month.ok()) return Fail(month.status());
    f.month = *month;
  }
  for (int s : req->statuses()) {
    if (s < 1 || s > 4) return Fail(InvalidField("statuses", "unknown status"));
    f.statuses.push_back(static_cast<ReportStatus>(s));
  }
  f.partner_id = req->partner_id();
  if (caller.role == Role::kPartner) {
    if (f.partner_id != 0 && f.partner_id != PartnerIdOf(caller)) return grpc::Status::OK;
    f.partner_id = PartnerIdOf(caller);
  }
  absl::StatusOr<std::vector<ReportView>> rows =
      store_.ListReports(f, *after, *size + 1, DeadlineOf(*ctx));
  if (!rows.ok()) return Fail(rows.status());
  const bool more = server::TrimPage(*rows, *size);
  for (const ReportView& r : *rows) *resp->add_reports() = internal::ReportProto(r, f.now);
  if (more) {
    resp->set_next_page_token(api::EncodeIdPosition(page_tokens_, *req, rows->back().report.id));
  }
  return grpc::Status::OK;
}

grpc::Status ReportServiceImpl::GetReport(grpc::ServerContext* ctx,
                                          const v1::GetReportRequest* req, v1::Report* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = server::RequireId(req->id(), "id"); !s.ok()) return Fail(s);
  absl::StatusOr<ReportView> v = VisibleReport(req->id(), caller, *ctx);
  if (!v.ok()) return Fail(v.status());
  *resp = internal::ReportProto(*v, clock_.Now());
  return grpc::Status::OK;
}

grpc::Status ReportServiceImpl::ListReportLines(grpc::ServerContext* ctx,
                                                const v1::ListReportLinesRequest* req,
                                                v1::ListReportLinesResponse* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  absl::StatusOr<int> size = api::PageSize(req->page_size());
  if (!size.ok()) return Fail(size.status());
  absl::StatusOr<int64_t> after = api::DecodeIdPosition(page_tokens_, *req, req->page_token());
  if (!after.ok()) return Fail(after.status());
  absl::StatusOr<ReportView> v = VisibleReport(req->report_id(), caller, *ctx);
  if (!v.ok()) return Fail(v.status());
  absl::StatusOr<std::vector<StoredLine>> lines =
      store_.ListLines(req->report_id(), *after, *size + 1, DeadlineOf(*ctx));
  if (!lines.ok()) return Fail(lines.status());
  const bool more = server::TrimPage(*lines, *size);
  for (const StoredLine& l : *lines) *resp->add_lines() = internal::LineProto(l);
  if (more) {
    resp->set_next_page_token(api::EncodeIdPosition(page_tokens_, *req, lines->back().line.id));
  }
  return grpc::Status::OK;
}

// ---- answers ----

grpc::Status ReportServiceImpl::AnswerLine(
    grpc::ServerContext* ctx, const auth::Principal& caller, absl::string_view method,
    const google::protobuf::Message& request, int64_t line_id, const std::string& etag,
    const std::function<absl::StatusOr<AnswerWrite>(const StoredLine&)>& answer,
    v1::ReportLine* resp) {
  absl::StatusOr<StoredLine> line = VisibleLine(line_id, caller, *ctx);
  if (!line.ok()) return Fail(line.status());
  const WriteContext w = Write(*ctx, caller, method, "", request);
  absl::StatusOr<std::vector<StoredLine>> written = store_.WriteAnswers(
      w, line->line.report_id,
      [&](const ReportView& report, const std::vector<StoredLine>& lines)
          -> absl::StatusOr<std::vector<AnswerWrite>> {
        const StoredLine* current = FindLine(lines, line_id);
        if (!CanSee(caller, report.report.partner_id) || current == nullptr) {
          return LineNotFound(line_id);
        }
        RETURN_IF_ERROR(CheckEditable(report.report));
        RETURN_IF_ERROR(api::CheckEtag(etag, current->version));
        ASSIGN_OR_RETURN(AnswerWrite write, answer(*current));
        return std::vector<AnswerWrite>{std::move(write)};
      });
  if (!written.ok()) return Fail(written.status());
  *resp = internal::LineProto(written->front());
  return grpc::Status::OK;
}

grpc::Status ReportServiceImpl::MarkNoChange(grpc::ServerContext* ctx,
                                             const v1::MarkNoChangeRequest* req,
                                             v1::ReportLine* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  return AnswerLine(
      ctx, caller, "MarkNoChange", *req, req->line_id(), req->etag(),
      [](const StoredLine& line) -> absl::StatusOr<AnswerWrite> {
        RETURN_IF_ERROR(CheckAppliedExtraOrders(line, nullptr));
        return AnswerWrite{line.line.id, Answer::kNoChange, Change()};
      },
      resp);
}

grpc::Status ReportServiceImpl::ReportChange(grpc::ServerContext* ctx,
                                             const v1::ReportChangeRequest* req,
                                             v1::ReportLine* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (!req->has_change()) return Fail(InvalidField("change", "is required", "REQUIRED"));
  absl::StatusOr<Change> change = FromProto(req->change(), "change");
  if (!change.ok()) return Fail(change.status());
  const absl::CivilDay today = TokyoToday(clock_);
  return AnswerLine(
      ctx, caller, "ReportChange", *req, req->line_id(), req->etag(),
      [&](const StoredLine& line) -> absl::StatusOr<AnswerWrite> {
        RETURN_IF_ERROR(ValidationStatus(ValidateChange(line.line.snapshot, *change, today)));
        RETURN_IF_ERROR(CheckAppliedExtraOrders(line, &*change));
        if (RepeatsSnapshot(line.line.snapshot, *change)) {
          return AnswerWrite{line.line.id, Answer::kNoChange, Change()};
        }
        return AnswerWrite{line.line.id, Answer::kChanged, *change};
      },
      resp);
}

// ---- submission ----

grpc::Status ReportServiceImpl::PreviewSubmission(grpc::ServerContext* ctx,
                                                  const v1::PreviewSubmissionRequest* req,
                                                  v1::PreviewSubmissionResponse* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  absl::StatusOr<ReportView> v = VisibleReport(req->report_id(), caller, *ctx);
  if (!v.ok()) return Fail(v.status());
  absl::StatusOr<std::vector<StoredLine>> lines =
      store_.ListLines(v->report.id, 0, 0, DeadlineOf(*ctx));
  if (!lines.ok()) return Fail(lines.status());
  std::vector<std::pair<LinePlan, const StoredLine*>> plans;
  for (const StoredLine& l : *lines) {
    if (l.line.answer == Answer::kUnanswered) resp->set_unchecked_count(resp->unchecked_count() + 1);
    if (l.line.answer == Answer::kNoChange) resp->set_no_change_count(resp->no_change_count() + 1);
    absl::StatusOr<LinePlan> p =
        PlanLine(l, v->report.partner_id, v->submission_count + 1, v->period.month);
    if (!p.ok()) return Fail(p.status());
    if (p->apply) plans.emplace_back(*std::move(p), &l);
  }
  // SubmissionDiff's order: case number, then line id.
  std::stable_sort(plans.begin(), plans.end(), [](const auto& a, const auto& b) {
    return std::tie(a.first.diff.before.case_number, a.first.diff.line_id) <
           std::tie(b.first.diff.before.case_number, b.first.diff.line_id);
  });
  for (const auto& [plan, line] : plans) {
    v1::LineChange* c = resp->add_changes();
    c->set_line_id(plan.diff.line_id);
    c->set_case_number(plan.diff.before.case_number);
    c->set_customer_name(plan.diff.before.customer_name);
    ToProto(plan.diff.before, c->mutable_before());
    ToProto(plan.diff.after, line->applied_extra_orders, c->mutable_after());
    for (const std::string& f : plan.diff.changed_fields) c->add_changed_fields(f);
    c->set_newly_completed(plan.diff.newly_completed);
    for (const CommissionItem& item : plan.commissions) {
      v1::PlannedCommission* pc = c->add_commissions();
      pc->set_source(item.source);
      pc->set_construction_amount(item.base_amount);
    }
  }
  return grpc::Status::OK;
}

grpc::Status ReportServiceImpl::SubmitReport(grpc::ServerContext* ctx,
                                             const v1::SubmitReportRequest* req,
                                             v1::SubmitReportResponse* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = db::CheckRequestId(req->request_id()); !s.ok()) return Fail(s);
  absl::StatusOr<ReportView> v = VisibleReport(req->report_id(), caller, *ctx);
  if (!v.ok()) return Fail(v.status());
  const WriteContext w = Write(*ctx, caller, "SubmitReport", req->request_id(), *req);
  const absl::Time now = clock_.Now();
  const bool attested = req->attestation();
  return server::ReplyFromBytes(
      store_.SubmitReport(
          w, req->report_id(),
          [&](const ReportView& report, const std::vector<StoredLine>& lines,
              int sequence) -> absl::StatusOr<SubmissionPlan> {
            if (!CanSee(caller, report.report.partner_id)) return ReportNotFound(report.report.id);
            RETURN_IF_ERROR(CheckSubmittable(report.report, Lines(lines), attested));
            return PlanSubmission(lines, report.report.partner_id, sequence, report.period.month);
          },
          [now](const Submitted& s) {
            v1::SubmitReportResponse out;
            *out.mutable_report() = internal::ReportProto(s.report, now);
            ToProto(s.submission, out.mutable_submission());
            return out.SerializeAsString();
          }),
      resp);
}

grpc::Status ReportServiceImpl::ReopenReport(grpc::ServerContext* ctx,
                                             const v1::ReopenReportRequest* req,
                                             v1::Report* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = server::RequireId(req->report_id(), "report_id"); !s.ok()) return Fail(s);
  const WriteContext w = Write(*ctx, caller, "ReopenReport", "", *req);
  absl::StatusOr<ReportView> v = store_.ReopenReport(
      w, req->report_id(),
      [&](const ReportView& report) -> absl::Status {
        RETURN_IF_ERROR(api::CheckEtag(req->etag(), report.report.version));
        return CheckReopen(report.report, req->reason());
      },
      req->reason());
  if (!v.ok()) return Fail(v.status());
  *resp = internal::ReportProto(*v, clock_.Now());
  return grpc::Status::OK;
}

grpc::Status ReportServiceImpl::GetSubmissionStatus(grpc::ServerContext* ctx,
                                                    const v1::GetSubmissionStatusRequest* req,
                                                    v1::SubmissionStatus* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if ((req->report_id() != 0) == (req->case_update_id() != 0)) {
    return Fail(InvalidField("report_id", "exactly one of report_id and case_update_id is needed",
                             "REQUIRED"));
  }
  if (req->report_id() != 0) {
    absl::StatusOr<ReportView> v = VisibleReport(req->report_id(), caller, *ctx);
    if (!v.ok()) return Fail(v.status());
  } else {
    absl::StatusOr<StoredLine> l = store_.GetLine(req->case_update_id(), DeadlineOf(*ctx));
    if (!l.ok() && l.status().code() != absl::StatusCode::kNotFound) return Fail(l.status());
    if (!l.ok() || l->line.report_id != 0 || !CanSee(caller, l->partner_id)) {
      return Fail(WithReason(absl::NotFoundError(absl::StrCat("case update ",
                                                              req->case_update_id(),
                                                              " not found")),
                             "CASE_UPDATE_NOT_FOUND"));
    }
  }
  absl::StatusOr<std::vector<Submission>> subs =
      store_.ListSubmissions(req->report_id(), req->case_update_id(), DeadlineOf(*ctx));
  if (!subs.ok()) return Fail(subs.status());
  for (const Submission& s : *subs) {
    ToProto(s, resp->add_submissions());
    for (const Effect& e : s.effects) {
      if (e.done_time) {
        resp->set_done_count(resp->done_count() + 1);
      } else {
        resp->set_pending_count(resp->pending_count() + 1);
      }
    }
  }
  return grpc::Status::OK;
}

// ---- between periods ----

grpc::Status ReportServiceImpl::SubmitCaseUpdate(grpc::ServerContext* ctx,
                                                 const v1::SubmitCaseUpdateRequest* req,
                                                 v1::CaseUpdate* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = db::CheckRequestId(req->request_id()); !s.ok()) return Fail(s);
  if (absl::Status s = server::RequireId(req->project_id(), "project_id"); !s.ok()) return Fail(s);
  if (!req->has_change()) return Fail(InvalidField("change", "is required", "REQUIRED"));
  absl::StatusOr<Change> change = FromProto(req->change(), "change");
  if (!change.ok()) return Fail(change.status());
  const WriteContext w = Write(*ctx, caller, "SubmitCaseUpdate", req->request_id(), *req);
  // A retry answers what the first call answered: once applied, the case no longer differs.
  absl::StatusOr<absl::optional<std::string>> replay = store_.FindReplay(w);
  if (!replay.ok()) return Fail(replay.status());
  if (replay->has_value()) return server::ReplyFromBytes(**replay, resp);

  absl::StatusOr<ReferredCase> found = peers_.Case(req->project_id(), *ctx);
  if (!found.ok()) {
    // No case, and a case referred to nobody, are the same to a partner as another's case.
    const absl::StatusCode code = found.status().code();
    if (caller.role == Role::kPartner && (code == absl::StatusCode::kNotFound ||
                                          code == absl::StatusCode::kFailedPrecondition)) {
      return Fail(ProjectNotFound(req->project_id()));
    }
    return Fail(found.status());
  }
  if (!CanSee(caller, found->partner_id)) return Fail(ProjectNotFound(req->project_id()));
  const absl::CivilDay today = TokyoToday(clock_);
  if (absl::Status s = ValidationStatus(ValidateChange(found->snapshot, *change, today)); !s.ok()) {
    return Fail(s);
  }
  ReportLine probe;
  probe.snapshot = found->snapshot;
  probe.answer = Answer::kChanged;
  probe.change = *change;
  if (SubmissionDiff({probe}).empty()) {
    return Fail(DomainInvalid("change", "NO_CHANGE",
                              "the change repeats the case as it stands; nothing to report"));
  }
  const int64_t partner_id = found->partner_id;
  const absl::CivilMonth month(today);
  return server::ReplyFromBytes(
      store_.SubmitCaseUpdate(
          w, NewCaseUpdate{partner_id, found->snapshot, *change},
          [&](const StoredLine& line) { return PlanSubmission({line}, partner_id, 1, month); },
          [](const CaseUpdateResult& r) {
            v1::CaseUpdate out;
            const ReportLine& l = r.line.line;
            out.set_id(l.id);
            out.set_partner_id(r.line.partner_id);
            out.set_project_id(l.snapshot.project_id);
            out.set_case_number(l.snapshot.case_number);
            out.set_customer_name(l.snapshot.customer_name);
            ToProto(l.snapshot, out.mutable_before());
            ToProto(l.change, r.line.applied_extra_orders, out.mutable_change());
            ToProto(r.submission, out.mutable_submission());
            return out.SerializeAsString();
          }),
      resp);
}

// ---- the scheduler ----

grpc::Status ReportServiceImpl::ListReportsNeedingReminder(
    grpc::ServerContext* ctx, const v1::ListReportsNeedingReminderRequest* req,
    v1::ListReportsNeedingReminderResponse* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  absl::StatusOr<absl::CivilDay> as_of = api::FromDate(req->as_of(), "as_of");
  if (!as_of.ok()) return Fail(as_of.status());
  absl::StatusOr<PeriodView> period = store_.GetPeriod(absl::CivilMonth(*as_of), DeadlineOf(*ctx));
  if (!period.ok()) {
    if (period.status().code() == absl::StatusCode::kNotFound) return grpc::Status::OK;
    return Fail(period.status());
  }
  ToProto(*period, resp->mutable_period());
  if (*as_of < period->period.deadline_day) return grpc::Status::OK;
  resp->set_past_deadline(*as_of > period->period.deadline_day);
  ReportFilter f;
  f.month = period->period.month;
  f.statuses = NotSubmitted();
  f.now = clock_.Now();
  for (int64_t after = 0;;) {
    absl::StatusOr<std::vector<ReportView>> page =
        store_.ListReports(f, after, 1000, DeadlineOf(*ctx));
    if (!page.ok()) return Fail(page.status());
    for (const ReportView& r : *page) *resp->add_reports() = internal::ReportProto(r, f.now);
    if (page->size() < 1000) break;
    after = page->back().report.id;
  }
  std::sort(resp->mutable_reports()->begin(), resp->mutable_reports()->end(),
            [](const v1::Report& a, const v1::Report& b) { return a.partner_id() < b.partner_id(); });
  return grpc::Status::OK;
}

}  // namespace anken::report
