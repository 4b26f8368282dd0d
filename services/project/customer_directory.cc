#include "services/project/customer_directory.h"

#include "absl/strings/str_cat.h"
#include "common/server/client.h"
#include "common/status/errors.h"

namespace anken::project {

GrpcCustomerDirectory::GrpcCustomerDirectory(std::shared_ptr<grpc::Channel> channel,
                                             const server::PeerAuth& auth)
    : stub_(customer::v1::CustomerService::NewStub(channel)), auth_(auth) {}

absl::StatusOr<std::vector<CustomerInfo>> GrpcCustomerDirectory::Lookup(
    const std::vector<int64_t>& ids, const grpc::ServerContextBase& incoming) {
  std::vector<CustomerInfo> out;
  // BatchGetCustomers takes at most 1000 ids per call.
  for (size_t start = 0; start < ids.size(); start += 1000) {
    grpc::ClientContext ctx;
    server::PropagateCall(incoming, &ctx);
    if (absl::Status s = auth_.Apply(&ctx); !s.ok()) return s;
    customer::v1::BatchGetCustomersRequest req;
    for (size_t i = start; i < ids.size() && i < start + 1000; ++i) req.add_ids(ids[i]);
    customer::v1::BatchGetCustomersResponse resp;
    grpc::Status s = stub_->BatchGetCustomers(&ctx, req, &resp);
    if (!s.ok()) return server::PeerStatus(s, "customer", "CUSTOMER_SERVICE_UNAVAILABLE");
    for (const auto& c : resp.customers()) {
      CustomerInfo info;
      info.id = c.id();
      info.code = c.code();
      info.name = c.name();
      info.active = c.lifecycle() == customer::v1::LIFECYCLE_ACTIVE;
      info.corporation = c.kind() == customer::v1::CUSTOMER_KIND_CORPORATION;
      info.is_partner = c.is_partner();
      info.commission_rate_bp = c.partner().commission_rate_bp();
      out.push_back(std::move(info));
    }
  }
  return out;
}

}  // namespace anken::project
