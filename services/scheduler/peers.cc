#include "services/scheduler/peers.h"

#include "absl/strings/str_cat.h"
#include "common/api/proto_time.h"
#include "common/jp/format.h"
#include "common/server/call_log_interceptor.h"
#include "common/server/trace.h"
#include "common/status/errors.h"

namespace anken::scheduler {
namespace {

// Registers a context with the group for the duration of one call.
class Tracked {
 public:
  Tracked(CallGroup& group, grpc::ClientContext* ctx) : group_(group), ctx_(ctx) {
    group_.Add(ctx_);
  }
  ~Tracked() { group_.Remove(ctx_); }

 private:
  CallGroup& group_;
  grpc::ClientContext* ctx_;
};

struct CallOptions {
  const server::PeerAuth& auth;
  CallGroup& calls;
  absl::Time deadline;
  std::string request_id;  // also sent as x-request-id when set
};

// One unary call with the run's deadline, a new trace, the service identity, and tracked so
// that CallGroup::CancelAll interrupts it.
template <typename Stub, typename Request, typename Response>
absl::Status Call(Stub& stub,
                  grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
                  const Request& req, Response* resp, const CallOptions& options) {
  grpc::ClientContext ctx;
  if (options.deadline != absl::InfiniteFuture()) {
    ctx.set_deadline(absl::ToChronoTime(options.deadline));
  }
  if (absl::Status s = options.auth.Apply(&ctx); !s.ok()) return s;
  if (!options.request_id.empty()) ctx.AddMetadata(server::kRequestIdHeader, options.request_id);
  ctx.AddMetadata(server::kTraceParentHeader, server::ChildTraceParent(server::NewTrace()));
  grpc::Status status;
  {
    Tracked tracked(options.calls, &ctx);
    status = (stub.*method)(&ctx, req, resp);
  }
  return status.ok() ? absl::OkStatus() : FromGrpcStatus(status);
}

absl::StatusOr<PartnerReport> ToPartnerReport(const report::v1::Report& r) {
  PartnerReport out;
  out.partner_id = absl::StrCat(r.partner_id());
  out.partner_name = r.partner_name();
  out.email = r.partner_email();
  absl::StatusOr<absl::CivilMonth> month = api::FromYearMonth(r.month(), "month");
  if (!month.ok()) return month.status();
  out.period = *month;
  absl::StatusOr<absl::CivilDay> deadline = api::FromDate(r.deadline_day(), "deadline_day");
  if (!deadline.ok()) return deadline.status();
  out.deadline = *deadline;
  return out;
}

absl::StatusOr<std::vector<PartnerReport>> ToPartnerReports(
    const google::protobuf::RepeatedPtrField<report::v1::Report>& reports) {
  std::vector<PartnerReport> out;
  out.reserve(reports.size());
  for (const report::v1::Report& r : reports) {
    absl::StatusOr<PartnerReport> p = ToPartnerReport(r);
    if (!p.ok()) return p.status();
    out.push_back(*std::move(p));
  }
  return out;
}

absl::Status NotConfigured(const std::string& reason) {
  return WithReason(absl::FailedPreconditionError(reason), "PEER_NOT_CONFIGURED");
}

}  // namespace

void CallGroup::Add(grpc::ClientContext* ctx) {
  absl::MutexLock lock(&mu_);
  calls_.insert(ctx);
  if (cancelled_) ctx->TryCancel();
}

void CallGroup::Remove(grpc::ClientContext* ctx) {
  absl::MutexLock lock(&mu_);
  calls_.erase(ctx);
}

void CallGroup::CancelAll() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
  for (grpc::ClientContext* ctx : calls_) ctx->TryCancel();
}

bool CallGroup::cancelled() const {
  absl::MutexLock lock(&mu_);
  return cancelled_;
}

GrpcBillingPeer::GrpcBillingPeer(std::shared_ptr<grpc::Channel> channel,
                                 const server::PeerAuth& auth, CallGroup& calls)
    : stub_(billing::v1::BillingService::NewStub(std::move(channel))), auth_(auth), calls_(calls) {}

absl::StatusOr<std::string> GrpcBillingPeer::RunRenewals(absl::CivilDay as_of,
                                                         const std::string& request_id,
                                                         absl::Time deadline) {
  billing::v1::RunRenewalsRequest req;
  api::ToDate(as_of, req.mutable_as_of());
  req.set_request_id(request_id);
  billing::v1::RenewalRun resp;
  if (absl::Status s = Call(*stub_, &billing::v1::BillingService::Stub::RunRenewals, req, &resp,
                            {auth_, calls_, deadline, request_id});
      !s.ok()) {
    return s;
  }
  int entries = 0;
  for (const auto& r : resp.renewals()) entries += r.entries_size();
  return absl::StrCat("renewal run ", resp.id(), ": ", resp.renewals_size(), " plans renewed, ",
                      entries, " entries created, ", resp.failures_size(), " failures");
}

absl::StatusOr<std::vector<OverdueInvoice>> GrpcBillingPeer::OverdueInvoices(absl::CivilDay as_of,
                                                                             absl::Time deadline) {
  std::vector<OverdueInvoice> out;
  billing::v1::ListOverdueInvoicesRequest req;
  api::ToDate(as_of, req.mutable_as_of());
  req.set_page_size(1000);
  do {
    billing::v1::ListOverdueInvoicesResponse resp;
    if (absl::Status s = Call(*stub_, &billing::v1::BillingService::Stub::ListOverdueInvoices,
                              req, &resp, {auth_, calls_, deadline, ""});
        !s.ok()) {
      return s;
    }
    for (const billing::v1::OverdueInvoice& i : resp.invoices()) {
      absl::StatusOr<absl::CivilDay> due = api::FromDate(i.due_date(), "due_date");
      if (!due.ok()) return due.status();
      out.push_back(OverdueInvoice{i.number(), i.recipient_name(), *due, i.balance()});
    }
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  return out;
}

absl::StatusOr<std::vector<MissedBilling>> GrpcBillingPeer::MissedBillings(absl::CivilDay as_of,
                                                                           absl::Time deadline) {
  billing::v1::ListMissedBillingRequest req;
  api::ToDate(as_of, req.mutable_as_of());
  billing::v1::ListMissedBillingResponse resp;
  if (absl::Status s = Call(*stub_, &billing::v1::BillingService::Stub::ListMissedBilling, req,
                            &resp, {auth_, calls_, deadline, ""});
      !s.ok()) {
    return s;
  }
  std::vector<MissedBilling> out;
  for (const billing::v1::MissedBilling& m : resp.items()) {
    std::string project = absl::StrCat("案件", m.project_number());
    std::string description = m.reason();
    if (api::IsDateSet(m.billing_date())) {
      absl::StatusOr<absl::CivilDay> day = api::FromDate(m.billing_date(), "billing_date");
      if (!day.ok()) return day.status();
      absl::StrAppend(&description, "（請求日 ", absl::FormatCivilTime(*day), "、",
                      jp::FormatYenSuffix(m.amount()), "）");
    }
    out.push_back(MissedBilling{std::move(project), std::move(description)});
  }
  return out;
}

GrpcReportPeer::GrpcReportPeer(std::shared_ptr<grpc::Channel> channel,
                               const server::PeerAuth& auth, CallGroup& calls)
    : stub_(report::v1::ReportIntakeService::NewStub(std::move(channel))), auth_(auth),
      calls_(calls) {}

absl::StatusOr<std::vector<PartnerReport>> GrpcReportPeer::OpenPeriod(
    absl::CivilMonth month, const std::string& request_id, absl::Time deadline) {
  report::v1::OpenPeriodRequest req;
  req.set_request_id(request_id);
  api::ToYearMonth(month, req.mutable_month());
  report::v1::OpenPeriodResponse resp;
  if (absl::Status s = Call(*stub_, &report::v1::ReportIntakeService::Stub::OpenPeriod, req,
                            &resp, {auth_, calls_, deadline, request_id});
      !s.ok()) {
    return s;
  }
  return ToPartnerReports(resp.reports());
}

absl::StatusOr<std::vector<PartnerReport>> GrpcReportPeer::PendingReports(absl::CivilDay as_of,
                                                                          absl::Time deadline) {
  report::v1::ListReportsNeedingReminderRequest req;
  api::ToDate(as_of, req.mutable_as_of());
  report::v1::ListReportsNeedingReminderResponse resp;
  if (absl::Status s =
          Call(*stub_, &report::v1::ReportIntakeService::Stub::ListReportsNeedingReminder, req,
               &resp, {auth_, calls_, deadline, ""});
      !s.ok()) {
    return s;
  }
  return ToPartnerReports(resp.reports());
}

absl::StatusOr<std::string> NotConfiguredBillingPeer::RunRenewals(absl::CivilDay,
                                                                  const std::string&, absl::Time) {
  return NotConfigured(reason_);
}
absl::StatusOr<std::vector<OverdueInvoice>> NotConfiguredBillingPeer::OverdueInvoices(
    absl::CivilDay, absl::Time) {
  return NotConfigured(reason_);
}
absl::StatusOr<std::vector<MissedBilling>> NotConfiguredBillingPeer::MissedBillings(
    absl::CivilDay, absl::Time) {
  return NotConfigured(reason_);
}

absl::StatusOr<std::vector<PartnerReport>> NotConfiguredReportPeer::OpenPeriod(
    absl::CivilMonth, const std::string&, absl::Time) {
  return NotConfigured(reason_);
}
absl::StatusOr<std::vector<PartnerReport>> NotConfiguredReportPeer::PendingReports(
    absl::CivilDay, absl::Time) {
  return NotConfigured(reason_);
}

}  // namespace anken::scheduler
