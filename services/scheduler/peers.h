#pragma once
// The scheduler's peers over gRPC (jobs.h interfaces): billing (RunRenewals,
// ListOverdueInvoices, ListMissedBilling) and the report service (OpenPeriod,
// ListReportsNeedingReminder). A peer whose address is not set is
// "not configured" and its jobs are disabled.
//
// Calls authenticate as a service (PeerAuth), carry the run's request_id both in the request
// and as x-request-id metadata, and are bounded by the run's deadline. CallGroup lets the
// runner cancel the calls in flight when the process stops, so shutdown does not wait for a
// slow peer; the interrupted run is handed back and another replica repeats it (a replay for
// the peer).

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "anken/billing/v1/billing_service.grpc.pb.h"
#include "anken/report/v1/report_service.grpc.pb.h"
#include "common/server/peer_auth.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "services/scheduler/jobs.h"

namespace anken::scheduler {

// The client contexts in flight, to cancel them all at once.
class CallGroup {
 public:
  void Add(grpc::ClientContext* ctx);
  void Remove(grpc::ClientContext* ctx);
  // Cancels every call in flight and every later one.
  void CancelAll();
  bool cancelled() const;

 private:
  mutable absl::Mutex mu_;
  std::set<grpc::ClientContext*> calls_ ABSL_GUARDED_BY(mu_);
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

class GrpcBillingPeer final : public BillingPeer {
 public:
  // `auth` and `calls` must outlive the peer.
  GrpcBillingPeer(std::shared_ptr<grpc::Channel> channel, const server::PeerAuth& auth,
                  CallGroup& calls);
  std::string NotConfiguredReason() const override { return ""; }
  absl::StatusOr<std::string> RunRenewals(absl::CivilDay as_of, const std::string& request_id,
                                          absl::Time deadline) override;
  absl::StatusOr<std::vector<OverdueInvoice>> OverdueInvoices(absl::CivilDay as_of,
                                                              absl::Time deadline) override;
  absl::StatusOr<std::vector<MissedBilling>> MissedBillings(absl::CivilDay as_of,
                                                            absl::Time deadline) override;

 private:
  std::unique_ptr<billing::v1::BillingService::Stub> stub_;
  const server::PeerAuth& auth_;
  CallGroup& calls_;
};

class NotConfiguredBillingPeer final : public BillingPeer {
 public:
  explicit NotConfiguredBillingPeer(std::string reason) : reason_(std::move(reason)) {}
  std::string NotConfiguredReason() const override { return reason_; }
  absl::StatusOr<std::string> RunRenewals(absl::CivilDay, const std::string&,
                                          absl::Time) override;
  absl::StatusOr<std::vector<OverdueInvoice>> OverdueInvoices(absl::CivilDay,
                                                              absl::Time) override;
  absl::StatusOr<std::vector<MissedBilling>> MissedBillings(absl::CivilDay, absl::Time) override;

 private:
  std::string reason_;
};

class GrpcReportPeer final : public ReportPeer {
 public:
  // `auth` and `calls` must outlive the peer.
  GrpcReportPeer(std::shared_ptr<grpc::Channel> channel, const server::PeerAuth& auth,
                 CallGroup& calls);
  std::string NotConfiguredReason() const override { return ""; }
  absl::StatusOr<std::vector<PartnerReport>> OpenPeriod(absl::CivilMonth month,
                                                        const std::string& request_id,
                                                        absl::Time deadline) override;
  absl::StatusOr<std::vector<PartnerReport>> PendingReports(absl::CivilDay as_of,
                                                            absl::Time deadline) override;

 private:
  std::unique_ptr<report::v1::ReportIntakeService::Stub> stub_;
  const server::PeerAuth& auth_;
  CallGroup& calls_;
};

// Without ANKEN_REPORT_ADDR every report job is disabled with `reason`.
class NotConfiguredReportPeer final : public ReportPeer {
 public:
  explicit NotConfiguredReportPeer(std::string reason) : reason_(std::move(reason)) {}
  std::string NotConfiguredReason() const override { return reason_; }
  absl::StatusOr<std::vector<PartnerReport>> OpenPeriod(absl::CivilMonth, const std::string&,
                                                        absl::Time) override;
  absl::StatusOr<std::vector<PartnerReport>> PendingReports(absl::CivilDay, absl::Time) override;

 private:
  std::string reason_;
};

}  // namespace anken::scheduler
