#pragma once
// gRPC handlers of anken.report.v1.ReportIntakeService: scope checks (a partner sees only its
// own reports and cases: anything else is NOT_FOUND), proto <-> domain, the pure rules
// (report_rules.h), the effect planning (effects.h), the .xlsx file (report_xlsx.h, handlers in
// xlsx_handlers.cc), the store and the peers. "Today" for the date rules is the clock's day in
// Asia/Tokyo.

#include <functional>
#include <string>
#include <vector>

#include "anken/report/v1/report_service.grpc.pb.h"
#include "common/api/page_token.h"
#include "common/auth/auth.h"
#include "common/clock/clock.h"
#include "services/report/peers.h"
#include "services/report/report_store.h"

namespace anken::report {

class ReportServiceImpl final : public v1::ReportIntakeService::Service {
 public:
  ReportServiceImpl(ReportStore& store, Peers& peers, const Clock& clock,
                    const api::PageTokenCodec& page_tokens)
      : store_(store), peers_(peers), clock_(clock), page_tokens_(page_tokens) {}

  // Partners use their own reports; staff and admin everything (answering on a partner's
  // behalf included), only they reopen; accounting reads; the service role (scheduler) opens
  // periods and asks whom to remind.
  static auth::MethodRoles Roles();

  grpc::Status OpenPeriod(grpc::ServerContext*, const v1::OpenPeriodRequest*,
                          v1::OpenPeriodResponse*) override;
  grpc::Status GetPeriod(grpc::ServerContext*, const v1::GetPeriodRequest*, v1::Period*) override;
  grpc::Status ListReports(grpc::ServerContext*, const v1::ListReportsRequest*,
                           v1::ListReportsResponse*) override;
  grpc::Status GetReport(grpc::ServerContext*, const v1::GetReportRequest*, v1::Report*) override;
  grpc::Status ListReportLines(grpc::ServerContext*, const v1::ListReportLinesRequest*,
                               v1::ListReportLinesResponse*) override;
  grpc::Status MarkNoChange(grpc::ServerContext*, const v1::MarkNoChangeRequest*,
                            v1::ReportLine*) override;
  grpc::Status ReportChange(grpc::ServerContext*, const v1::ReportChangeRequest*,
                            v1::ReportLine*) override;
  grpc::Status PreviewSubmission(grpc::ServerContext*, const v1::PreviewSubmissionRequest*,
                                 v1::PreviewSubmissionResponse*) override;
  grpc::Status SubmitReport(grpc::ServerContext*, const v1::SubmitReportRequest*,
                            v1::SubmitReportResponse*) override;
  grpc::Status ReopenReport(grpc::ServerContext*, const v1::ReopenReportRequest*,
                            v1::Report*) override;
  grpc::Status GetSubmissionStatus(grpc::ServerContext*, const v1::GetSubmissionStatusRequest*,
                                   v1::SubmissionStatus*) override;
  grpc::Status SubmitCaseUpdate(grpc::ServerContext*, const v1::SubmitCaseUpdateRequest*,
                                v1::CaseUpdate*) override;
  grpc::Status ListReportsNeedingReminder(grpc::ServerContext*,
                                          const v1::ListReportsNeedingReminderRequest*,
                                          v1::ListReportsNeedingReminderResponse*) override;

  // ---- the .xlsx round trip: defined in xlsx_handlers.cc ----
  grpc::Status DownloadReportXlsx(grpc::ServerContext*, const v1::DownloadReportXlsxRequest*,
                                  v1::DownloadReportXlsxResponse*) override;
  grpc::Status UploadReportXlsx(grpc::ServerContext*, const v1::UploadReportXlsxRequest*,
                                v1::UploadReportXlsxResponse*) override;

 private:
  WriteContext Write(const grpc::ServerContext& ctx, const auth::Principal& caller,
                     absl::string_view method, const std::string& request_id,
                     const google::protobuf::Message& request) const;
  // The report, or NOT_FOUND when absent or another partner's.
  absl::StatusOr<ReportView> VisibleReport(int64_t id, const auth::Principal& caller,
                                           const grpc::ServerContext& ctx);
  // A report line (not a case update) the caller may see, else NOT_FOUND.
  absl::StatusOr<StoredLine> VisibleLine(int64_t id, const auth::Principal& caller,
                                         const grpc::ServerContext& ctx);
  // Writes one line's answer, built by `answer` from the locked report's line; shared by
  // MarkNoChange and ReportChange.
  grpc::Status AnswerLine(grpc::ServerContext* ctx, const auth::Principal& caller,
                          absl::string_view method, const google::protobuf::Message& request,
                          int64_t line_id, const std::string& etag,
                          const std::function<absl::StatusOr<AnswerWrite>(const StoredLine&)>& answer,
                          v1::ReportLine* resp);

  ReportStore& store_;
  Peers& peers_;
  const Clock& clock_;
  const api::PageTokenCodec& page_tokens_;
};

// ---- shared by the handler files ----
namespace internal {

// The numeric partner id of a partner token; 0 for every other role.
int64_t PartnerIdOf(const auth::Principal& caller);
// True when the caller may see what belongs to `partner_id`.
bool CanSee(const auth::Principal& caller, int64_t partner_id);
std::vector<ReportLine> Lines(const std::vector<StoredLine>& stored);
v1::Report ReportProto(const ReportView& report, absl::Time now);
v1::ReportLine LineProto(const StoredLine& line);

}  // namespace internal

}  // namespace anken::report
