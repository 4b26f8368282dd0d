#include "services/scheduler/peers.h"

#include "absl/strings/str_cat.h"
#include "common/api/proto_time.h"
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
  grpc::ClientContext ctx;
  if (deadline != absl::InfiniteFuture()) ctx.set_deadline(absl::ToChronoTime(deadline));
  if (absl::Status s = auth_.Apply(&ctx); !s.ok()) return s;
  ctx.AddMetadata(server::kRequestIdHeader, request_id);
  ctx.AddMetadata(server::kTraceParentHeader, server::ChildTraceParent(server::NewTrace()));
  billing::v1::RunRenewalsRequest req;
  api::ToDate(as_of, req.mutable_as_of());
  req.set_request_id(request_id);
  billing::v1::RenewalRun resp;
  grpc::Status status;
  {
    Tracked tracked(calls_, &ctx);
    status = stub_->RunRenewals(&ctx, req, &resp);
  }
  if (!status.ok()) return FromGrpcStatus(status);
  int entries = 0;
  for (const auto& r : resp.renewals()) entries += r.entries_size();
  return absl::StrCat("renewal run ", resp.id(), ": ", resp.renewals_size(), " plans renewed, ",
                      entries, " entries created, ", resp.failures_size(), " failures");
}

// One read call of the billing service with the run's deadline, trace and service identity.
template <typename Request, typename Response, typename Method>
absl::Status GrpcBillingPeer::Read(Method method, const Request& req, Response* resp,
                                   absl::Time deadline) {
  grpc::ClientContext ctx;
  if (deadline != absl::InfiniteFuture()) ctx.set_deadline(absl::ToChronoTime(deadline));
  if (absl::Status s = auth_.Apply(&ctx); !s.ok()) return s;
  ctx.AddMetadata(server::kTraceParentHeader, server::ChildTraceParent(server::NewTrace()));
  grpc::Status status;
  {
    Tracked tracked(calls_, &ctx);
    status = (stub_.get()->*method)(&ctx, req, resp);
  }
  return status.ok() ? absl::OkStatus() : FromGrpcStatus(status);
}

absl::StatusOr<std::vector<OverdueInvoice>> GrpcBillingPeer::OverdueInvoices(absl::CivilDay as_of,
                                                                             absl::Time deadline) {
  std::vector<OverdueInvoice> out;
  billing::v1::ListOverdueInvoicesRequest req;
  api::ToDate(as_of, req.mutable_as_of());
  req.set_page_size(1000);
  do {
    billing::v1::ListOverdueInvoicesResponse resp;
    if (absl::Status s = Read(&billing::v1::BillingService::Stub::ListOverdueInvoices, req, &resp,
                              deadline);
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
  if (absl::Status s =
          Read(&billing::v1::BillingService::Stub::ListMissedBilling, req, &resp, deadline);
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
                      FormatYen(m.amount()), "）");
    }
    out.push_back(MissedBilling{std::move(project), std::move(description)});
  }
  return out;
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
