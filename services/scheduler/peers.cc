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

absl::StatusOr<std::vector<OverdueInvoice>> GrpcBillingPeer::OverdueInvoices(absl::CivilDay,
                                                                             absl::Time) {
  return absl::UnimplementedError("billing does not offer overdue invoices yet");
}

absl::StatusOr<std::vector<MissedBilling>> GrpcBillingPeer::MissedBillings(absl::CivilDay,
                                                                           absl::Time) {
  return absl::UnimplementedError("billing does not offer missed billing yet");
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
