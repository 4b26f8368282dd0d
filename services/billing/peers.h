#pragma once
// What billing asks of its peers over gRPC: cases (order status, customer, name) from the
// project service, and the invoiced customer (name, billing terms) from the customer service.
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

namespace anken::billing {

struct CaseInfo {
  int64_t id = 0;
  std::string number;
  std::string name;
  int64_t customer_id = 0;
  bool won = false;  // order status 受注済
};

struct CustomerInfo {
  int64_t id = 0;
  std::string name;
  jp::BillingTerms terms;
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
};

class GrpcPeers final : public Peers {
 public:
  GrpcPeers(std::shared_ptr<grpc::Channel> projects, std::shared_ptr<grpc::Channel> customers,
            const server::PeerAuth& auth);
  absl::StatusOr<std::vector<CaseInfo>> Cases(const std::vector<int64_t>& ids,
                                              const grpc::ServerContextBase& incoming) override;
  absl::StatusOr<CustomerInfo> Customer(int64_t id,
                                        const grpc::ServerContextBase& incoming) override;

 private:
  std::unique_ptr<project::v1::ProjectService::Stub> projects_;
  std::unique_ptr<customer::v1::CustomerService::Stub> customers_;
  const server::PeerAuth& auth_;
};

}  // namespace anken::billing
