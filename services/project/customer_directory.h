#pragma once
// What the project service needs to know about customers, asked of the customer service
// (no service reads another's tables). An interface, so handler tests can use a fake.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "anken/customer/v1/customer_service.grpc.pb.h"
#include "common/server/peer_auth.h"
#include "grpcpp/server_context.h"

namespace anken::project {

struct CustomerInfo {
  int64_t id = 0;
  std::string code;
  std::string name;
  bool active = false;  // lifecycle ACTIVE (not a lead, not inactive)
  bool corporation = false;  // kind CORPORATION (addressed 御中; people 様)
  bool is_partner = false;
  int32_t commission_rate_bp = 0;
};

class CustomerDirectory {
 public:
  virtual ~CustomerDirectory() = default;
  // The customers with `ids`, in order. NOT_FOUND (reason CUSTOMER_NOT_FOUND) naming the first
  // unknown id; UNAVAILABLE when the customer service cannot be reached (never INTERNAL).
  virtual absl::StatusOr<std::vector<CustomerInfo>> Lookup(
      const std::vector<int64_t>& ids, const grpc::ServerContextBase& incoming) = 0;
};

// Over gRPC (BatchGetCustomers), with the caller's deadline and trace and a service token.
class GrpcCustomerDirectory final : public CustomerDirectory {
 public:
  GrpcCustomerDirectory(std::shared_ptr<grpc::Channel> channel, const server::PeerAuth& auth);
  absl::StatusOr<std::vector<CustomerInfo>> Lookup(
      const std::vector<int64_t>& ids, const grpc::ServerContextBase& incoming) override;

 private:
  std::unique_ptr<customer::v1::CustomerService::Stub> stub_;
  const server::PeerAuth& auth_;
};

}  // namespace anken::project
