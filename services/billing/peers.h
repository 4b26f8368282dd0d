#pragma once
// What billing asks of its peers over gRPC: cases (order status, customer, name, referral
// partner) from the project service, and the invoiced customer (name, billing terms) and
// partner stores (commission rate) from the customer service.
// Interfaces, so handler tests can use fakes; the gRPC implementations pass the caller's
// deadline and trace and authenticate as a service.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "anken/customer/v1/customer_service.grpc.pb.h"
#include "anken/project/v1/project_service.grpc.pb.h"
#include "common/jp/billing_terms.h"
#include "common/server/peer_auth.h"
#include "grpcpp/server_context.h"
#include "services/billing/payments.h"

namespace anken::billing {

struct CaseInfo {
  int64_t id = 0;
  std::string number;
  std::string name;
  int64_t customer_id = 0;
  bool won = false;  // order status 受注済
  int64_t referral_partner_id = 0;  // the partner store it is referred to; 0 when none
};

// A customer as a partner store (加盟店).
struct PartnerInfo {
  int64_t id = 0;
  std::string name;
  bool is_partner = false;         // has the partner role
  int64_t commission_rate_bp = 0;  // 1% = 100; 0 when not a partner
};

struct CustomerInfo {
  int64_t id = 0;
  std::string name;
  jp::BillingTerms terms;
};

// A customer's names with the time the customer service last changed it.
struct DatedCustomerName {
  CustomerName name;
  absl::Time update_time;
};

class Peers {
 public:
  virtual ~Peers() = default;
  // The cases with `ids`, in order; NOT_FOUND (PROJECT_NOT_FOUND) naming the first unknown;
  // UNAVAILABLE when the project service cannot be reached.
  virtual absl::StatusOr<std::vector<CaseInfo>> Cases(const std::vector<int64_t>& ids,
                                                      const grpc::ServerContextBase& incoming) = 0;
  // NOT_FOUND, UNAVAILABLE as above.
  virtual absl::StatusOr<CustomerInfo> Customer(int64_t id,
                                                const grpc::ServerContextBase& incoming) = 0;
  // Every case whose order status is 受注済 (WON), by case number; UNAVAILABLE as above.
  virtual absl::StatusOr<std::vector<CaseInfo>> WonCases(
      const grpc::ServerContextBase& incoming) = 0;
  // The customer `id` as a partner store (is_partner false when it lacks the role);
  // NOT_FOUND, UNAVAILABLE as above.
  virtual absl::StatusOr<PartnerInfo> Partner(int64_t id,
                                              const grpc::ServerContextBase& incoming) = 0;
  // Every customer's id, name and kana (any role or lifecycle: a lead or an inactive customer
  // may still pay), for payer matching (payment_rules.h), with its update time; only those
  // changed at or after `since` when given. UNAVAILABLE as above.
  virtual absl::StatusOr<std::vector<DatedCustomerName>> CustomerNamesSince(
      absl::optional<absl::Time> since, const grpc::ServerContextBase& incoming) = 0;
};

class GrpcPeers final : public Peers {
 public:
  GrpcPeers(std::shared_ptr<grpc::Channel> projects, std::shared_ptr<grpc::Channel> customers,
            const server::PeerAuth& auth);
  absl::StatusOr<std::vector<CaseInfo>> Cases(const std::vector<int64_t>& ids,
                                              const grpc::ServerContextBase& incoming) override;
  absl::StatusOr<CustomerInfo> Customer(int64_t id,
                                        const grpc::ServerContextBase& incoming) override;
  absl::StatusOr<std::vector<CaseInfo>> WonCases(const grpc::ServerContextBase& incoming) override;
  absl::StatusOr<PartnerInfo> Partner(int64_t id,
                                      const grpc::ServerContextBase& incoming) override;
  absl::StatusOr<std::vector<DatedCustomerName>> CustomerNamesSince(
      absl::optional<absl::Time> since, const grpc::ServerContextBase& incoming) override;

 private:
  // GetCustomer with the caller's deadline and trace.
  absl::StatusOr<customer::v1::Customer> GetCustomer(int64_t id,
                                                     const grpc::ServerContextBase& incoming);

  std::unique_ptr<project::v1::ProjectService::Stub> projects_;
  std::unique_ptr<customer::v1::CustomerService::Stub> customers_;
  const server::PeerAuth& auth_;
};

}  // namespace anken::billing
