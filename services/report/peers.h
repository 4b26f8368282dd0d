#pragma once
// What report intake asks of its peers over gRPC: the partner stores (customer service), their
// referred cases (project service) with the end customers' names (customer service), and,
// for the effect outbox, RecordReferralOutcome (project) and CreateCommissionCharge (billing).
// Interfaces, so tests can stand a peer in; the gRPC implementation authenticates as a service
// and passes on the caller's deadline and trace.
//
// Errors: a peer's NOT_FOUND, INVALID_ARGUMENT and DEADLINE_EXCEEDED pass through (with their
// reasons); anything else means the peer cannot be used now and is UNAVAILABLE
// (PEER_UNAVAILABLE) for the handlers. EffectPeers returns the peer's own status unchanged, for
// the outbox to record.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "anken/billing/v1/billing_service.grpc.pb.h"
#include "anken/customer/v1/customer_service.grpc.pb.h"
#include "anken/project/v1/project_service.grpc.pb.h"
#include "common/server/peer_auth.h"
#include "grpcpp/server_context.h"
#include "services/report/report.h"

namespace anken::report {

struct PartnerInfo {
  int64_t id = 0;
  std::string name;
  // The partner's report contact, else its notification address, else its e-mail.
  std::string email;
};

// A referred case as it stands now, with its partner.
struct ReferredCase {
  int64_t partner_id = 0;
  LineSnapshot snapshot;  // customer_name filled
};

class Peers {
 public:
  virtual ~Peers() = default;
  // Every customer with the partner role, by id.
  virtual absl::StatusOr<std::vector<PartnerInfo>> Partners(
      const grpc::ServerContextBase& incoming) = 0;
  // Every partner's referred cases whose outcome is 進行中, by case number: a few pages
  // across all partners (ListReferrals with all_partners), not a call per partner.
  virtual absl::StatusOr<std::vector<ReferredCase>> InProgressReferrals(
      const grpc::ServerContextBase& incoming) = 0;
  // One case; NOT_FOUND (PROJECT_NOT_FOUND) when absent, FAILED_PRECONDITION (NOT_REFERRED)
  // when it is not referred to a partner.
  virtual absl::StatusOr<ReferredCase> Case(int64_t project_id,
                                            const grpc::ServerContextBase& incoming) = 0;
};

// The calls of the effect outbox, made outside any incoming call.
class EffectPeers {
 public:
  virtual ~EffectPeers() = default;
  virtual absl::Status RecordReferralOutcome(
      const project::v1::RecordReferralOutcomeRequest& request, absl::Time deadline) = 0;
  virtual absl::Status CreateCommissionCharge(
      const billing::v1::CreateCommissionChargeRequest& request, absl::Time deadline) = 0;
};

class GrpcPeers final : public Peers, public EffectPeers {
 public:
  // `billing` may be null for a GrpcPeers used only as Peers. `auth` must outlive this.
  GrpcPeers(std::shared_ptr<grpc::Channel> projects, std::shared_ptr<grpc::Channel> customers,
            std::shared_ptr<grpc::Channel> billing, const server::PeerAuth& auth);

  absl::StatusOr<std::vector<PartnerInfo>> Partners(
      const grpc::ServerContextBase& incoming) override;
  absl::StatusOr<std::vector<ReferredCase>> InProgressReferrals(
      const grpc::ServerContextBase& incoming) override;
  absl::StatusOr<ReferredCase> Case(int64_t project_id,
                                    const grpc::ServerContextBase& incoming) override;

  absl::Status RecordReferralOutcome(const project::v1::RecordReferralOutcomeRequest& request,
                                     absl::Time deadline) override;
  absl::Status CreateCommissionCharge(const billing::v1::CreateCommissionChargeRequest& request,
                                      absl::Time deadline) override;

 private:
  // The names of `ids` (end customers), in order.
  absl::StatusOr<std::vector<std::string>> CustomerNames(const std::vector<int64_t>& ids,
                                                         const grpc::ServerContextBase& incoming);

  std::unique_ptr<project::v1::ProjectService::Stub> projects_;
  std::unique_ptr<customer::v1::CustomerService::Stub> customers_;
  std::unique_ptr<billing::v1::BillingService::Stub> billing_;
  const server::PeerAuth& auth_;
};

}  // namespace anken::report
