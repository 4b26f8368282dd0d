// Handlers of the .xlsx round trip (DownloadReportXlsx, UploadReportXlsx): the file itself is
// report_xlsx.h's, the row rules PlanUpload's (report_rules.h).
#include <map>
#include <utility>

#include "absl/strings/str_format.h"
#include "common/auth/auth_interceptor.h"
#include "common/server/handler.h"
#include "common/server/handler_kit.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "services/report/report_rules.h"
#include "services/report/report_service.h"
#include "services/report/report_xlsx.h"

namespace anken::report {
namespace {

using server::DeadlineOf;

constexpr char kXlsxContentType[] =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

XlsxReportInfo InfoOf(const ReportView& v) {
  XlsxReportInfo info;
  info.report_id = v.report.id;
  info.partner_id = v.report.partner_id;
  info.partner_name = v.partner_name;
  info.month = v.period.month;
  info.deadline_day = v.period.deadline_day;
  return info;
}

void AddError(const LineError& e, v1::UploadReportXlsxResponse* resp) {
  v1::RowError* out = resp->add_errors();
  out->set_row(e.row);
  out->set_case_number(e.case_number);
  out->set_code(std::string(ErrorCode(e.kind)));
  out->set_message(ErrorMessage(e));
  out->set_field(e.field);
  out->set_reason(e.reason);
}

// The answers of an accepted upload. The sheet has no column for additional / repeat orders,
// so those already entered on a line (ReportChange) stay with it: a 変更なし row of such a line
// keeps the case's current state with its orders.
std::vector<AnswerWrite> MergeAnswers(const std::vector<RowAnswer>& answers,
                                      const std::vector<StoredLine>& lines) {
  std::map<int64_t, const StoredLine*> by_id;
  for (const StoredLine& l : lines) by_id[l.line.id] = &l;
  std::vector<AnswerWrite> out;
  for (const RowAnswer& a : answers) {
    AnswerWrite w{a.line_id, a.answer, a.change};
    auto it = by_id.find(a.line_id);
    const std::vector<ExtraOrder> kept = it != by_id.end() && it->second->line.answer ==
                                                                  Answer::kChanged
                                             ? it->second->line.change.extra_orders
                                             : std::vector<ExtraOrder>();
    if (!kept.empty()) {
      if (w.answer == Answer::kNoChange) {
        const LineSnapshot& s = it->second->line.snapshot;
        w.answer = Answer::kChanged;
        w.change = Change();
        w.change.outcome = s.outcome;
        w.change.completion_date = s.completion_date;
        w.change.amount = s.amount;
        w.change.lost_date = s.lost_date;
      }
      w.change.extra_orders = kept;
    }
    out.push_back(std::move(w));
  }
  return out;
}

}  // namespace

grpc::Status ReportServiceImpl::DownloadReportXlsx(grpc::ServerContext* ctx,
                                                   const v1::DownloadReportXlsxRequest* req,
                                                   v1::DownloadReportXlsxResponse* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  absl::StatusOr<ReportView> v = VisibleReport(req->report_id(), caller, *ctx);
  if (!v.ok()) return ToGrpcStatus(v.status());
  absl::StatusOr<std::vector<StoredLine>> lines =
      store_.ListLines(v->report.id, 0, 0, DeadlineOf(*ctx));
  if (!lines.ok()) return ToGrpcStatus(lines.status());
  absl::StatusOr<std::string> file = RenderReportXlsx(InfoOf(*v), internal::Lines(*lines));
  if (!file.ok()) return ToGrpcStatus(file.status());
  resp->set_content(*std::move(file));
  resp->set_file_name(absl::StrFormat("実績報告_%s_%07d.xlsx", absl::FormatCivilTime(v->period.month),
                                      v->report.id));
  resp->set_content_type(kXlsxContentType);
  return grpc::Status::OK;
}

grpc::Status ReportServiceImpl::UploadReportXlsx(grpc::ServerContext* ctx,
                                                 const v1::UploadReportXlsxRequest* req,
                                                 v1::UploadReportXlsxResponse* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  absl::StatusOr<ReportView> v = VisibleReport(req->report_id(), caller, *ctx);
  if (!v.ok()) return ToGrpcStatus(v.status());
  const absl::Time now = clock_.Now();
  if (!req->dry_run()) {
    // Before reading the file: a submitted report takes no answers, whatever the file holds.
    if (absl::Status s = CheckEditable(v->report); !s.ok()) return ToGrpcStatus(s);
  }
  *resp->mutable_report() = internal::ReportProto(*v, now);
  const XlsxUpload upload = ReadReportXlsx(req->content(), InfoOf(*v));
  if (upload.failure) {
    AddError(*upload.failure, resp);
    return grpc::Status::OK;
  }
  const absl::CivilDay today = TokyoToday(clock_);
  auto plan_upload = [&](const std::vector<StoredLine>& lines) {
    UploadPlan plan = PlanUpload(internal::Lines(lines), upload.rows, today);
    for (const LineError& e : plan.errors) AddError(e, resp);
    for (const RowAnswer& a : plan.answers) {
      if (a.answer == Answer::kChanged) {
        resp->set_changed_count(resp->changed_count() + 1);
      } else {
        resp->set_no_change_count(resp->no_change_count() + 1);
      }
    }
    return plan;
  };
  if (req->dry_run()) {
    absl::StatusOr<std::vector<StoredLine>> lines =
        store_.ListLines(v->report.id, 0, 0, DeadlineOf(*ctx));
    if (!lines.ok()) return ToGrpcStatus(lines.status());
    resp->set_accepted(plan_upload(*lines).errors.empty());
    return grpc::Status::OK;
  }
  const WriteContext w = Write(*ctx, caller, "UploadReportXlsx", "", *req);
  absl::StatusOr<std::vector<StoredLine>> written = store_.WriteAnswers(
      w, v->report.id,
      [&](const ReportView& report, const std::vector<StoredLine>& lines)
          -> absl::StatusOr<std::vector<AnswerWrite>> {
        if (!internal::CanSee(caller, report.report.partner_id)) {
          return ReportNotFound(report.report.id);
        }
        RETURN_IF_ERROR(CheckEditable(report.report));
        // The planner may run again (a retried transaction): start the response afresh.
        resp->clear_errors();
        resp->set_changed_count(0);
        resp->set_no_change_count(0);
        UploadPlan plan = plan_upload(lines);
        if (!plan.errors.empty()) return std::vector<AnswerWrite>();  // all or nothing
        return MergeAnswers(plan.answers, lines);
      });
  if (!written.ok()) return ToGrpcStatus(written.status());
  resp->set_accepted(resp->errors().empty());
  if (resp->accepted()) {
    absl::StatusOr<ReportView> after = store_.GetReport(v->report.id, DeadlineOf(*ctx));
    if (!after.ok()) return ToGrpcStatus(after.status());
    *resp->mutable_report() = internal::ReportProto(*after, clock_.Now());
  }
  return grpc::Status::OK;
}

}  // namespace anken::report
