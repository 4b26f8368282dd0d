#include "services/billing/peers.h"

#include "absl/strings/str_cat.h"
#include "common/server/client.h"
#include "common/status/errors.h"

namespace anken::billing {
namespace {

// A peer's answer as our status: its own client errors pass through; anything else means the
// peer is not usable now, which is UNAVAILABLE for our caller, never INTERNAL.
absl::Status PeerStatus(const grpc::Status& s, absl::string_view peer) {
  absl::Status status = FromGrpcStatus(s);
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kDeadlineExceeded:
      return status;
    default:
      return WithReason(absl::UnavailableError(absl::StrCat("the ", peer, " service is unavailable (",
                                                            s.error_message(), ")")),
                        "PEER_UNAVAILABLE");
  }
}

}  // namespace

GrpcPeers::GrpcPeers(std::shared_ptr<grpc::Channel> projects,
                     std::shared_ptr<grpc::Channel> customers, const server::PeerAuth& auth)
    : projects_(project::v1::ProjectService::NewStub(projects)),
      customers_(customer::v1::CustomerService::NewStub(customers)),
      auth_(auth) {}

absl::StatusOr<std::vector<CaseInfo>> GrpcPeers::Cases(const std::vector<int64_t>& ids,
                                                       const grpc::ServerContextBase& incoming) {
  std::vector<CaseInfo> out;
  for (size_t start = 0; start < ids.size(); start += 1000) {
    grpc::ClientContext ctx;
    server::PropagateCall(incoming, &ctx);
    if (absl::Status s = auth_.Apply(&ctx); !s.ok()) return s;
    project::v1::BatchGetProjectsRequest req;
    for (size_t i = start; i < ids.size() && i < start + 1000; ++i) req.add_ids(ids[i]);
    project::v1::BatchGetProjectsResponse resp;
    grpc::Status s = projects_->BatchGetProjects(&ctx, req, &resp);
    if (!s.ok()) return PeerStatus(s, "project");
    for (const auto& p : resp.projects()) {
      CaseInfo c;
      c.id = p.id();
      c.number = p.number();
      c.name = p.name();
      c.customer_id = p.customer_id();
      c.won = p.order_status() == project::v1::ORDER_STATUS_WON;
      out.push_back(std::move(c));
    }
  }
  return out;
}

absl::StatusOr<CustomerInfo> GrpcPeers::Customer(int64_t id,
                                                 const grpc::ServerContextBase& incoming) {
  grpc::ClientContext ctx;
  server::PropagateCall(incoming, &ctx);
  if (absl::Status s = auth_.Apply(&ctx); !s.ok()) return s;
  customer::v1::GetCustomerRequest req;
  req.set_id(id);
  customer::v1::Customer resp;
  grpc::Status s = customers_->GetCustomer(&ctx, req, &resp);
  if (!s.ok()) return PeerStatus(s, "customer");
  CustomerInfo c;
  c.id = resp.id();
  c.name = resp.name();
  c.terms.closing_day = resp.billing_terms().closing_day();
  c.terms.payment_month_offset = resp.billing_terms().payment_month_offset();
  c.terms.payment_day = resp.billing_terms().payment_day();
  return c;
}

}  // namespace anken::billing
