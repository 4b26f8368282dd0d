#include "services/billing/peers.h"

#include "absl/strings/str_cat.h"
#include "common/api/proto_time.h"
#include "common/server/client.h"
#include "common/status/errors.h"

namespace anken::billing {
namespace {

CaseInfo CaseFromProto(const project::v1::Project& p) {
  CaseInfo c;
  c.id = p.id();
  c.number = p.number();
  c.name = p.name();
  c.customer_id = p.customer_id();
  c.won = p.order_status() == project::v1::ORDER_STATUS_WON;
  if (p.has_referral()) c.referral_partner_id = p.referral().partner_id();
  return c;
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
    if (!s.ok()) return server::PeerStatus(s, "project");
    for (const auto& p : resp.projects()) out.push_back(CaseFromProto(p));
  }
  return out;
}

absl::StatusOr<std::vector<CaseInfo>> GrpcPeers::WonCases(
    const grpc::ServerContextBase& incoming) {
  std::vector<CaseInfo> out;
  project::v1::ListProjectsRequest req;
  req.set_page_size(1000);
  req.add_order_statuses(project::v1::ORDER_STATUS_WON);
  do {
    grpc::ClientContext ctx;
    server::PropagateCall(incoming, &ctx);
    if (absl::Status s = auth_.Apply(&ctx); !s.ok()) return s;
    project::v1::ListProjectsResponse resp;
    grpc::Status s = projects_->ListProjects(&ctx, req, &resp);
    if (!s.ok()) return server::PeerStatus(s, "project");
    for (const auto& p : resp.projects()) out.push_back(CaseFromProto(p));
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  return out;
}

absl::StatusOr<customer::v1::Customer> GrpcPeers::GetCustomer(
    int64_t id, const grpc::ServerContextBase& incoming) {
  grpc::ClientContext ctx;
  server::PropagateCall(incoming, &ctx);
  if (absl::Status s = auth_.Apply(&ctx); !s.ok()) return s;
  customer::v1::GetCustomerRequest req;
  req.set_id(id);
  customer::v1::Customer resp;
  grpc::Status s = customers_->GetCustomer(&ctx, req, &resp);
  if (!s.ok()) return server::PeerStatus(s, "customer");
  return resp;
}

absl::StatusOr<PartnerInfo> GrpcPeers::Partner(int64_t id,
                                               const grpc::ServerContextBase& incoming) {
  absl::StatusOr<customer::v1::Customer> resp = GetCustomer(id, incoming);
  if (!resp.ok()) return resp.status();
  PartnerInfo p;
  p.id = resp->id();
  p.name = resp->name();
  p.is_partner = resp->is_partner();
  if (p.is_partner) p.commission_rate_bp = resp->partner().commission_rate_bp();
  return p;
}

absl::StatusOr<std::vector<DatedCustomerName>> GrpcPeers::CustomerNamesSince(
    absl::optional<absl::Time> since, const grpc::ServerContextBase& incoming) {
  std::vector<DatedCustomerName> out;
  customer::v1::ListCustomersRequest req;
  req.set_page_size(1000);
  if (since.has_value()) api::ToTimestamp(*since, req.mutable_updated_since());
  do {
    grpc::ClientContext ctx;
    server::PropagateCall(incoming, &ctx);
    if (absl::Status s = auth_.Apply(&ctx); !s.ok()) return s;
    customer::v1::ListCustomersResponse resp;
    grpc::Status s = customers_->ListCustomers(&ctx, req, &resp);
    if (!s.ok()) return server::PeerStatus(s, "customer");
    for (const auto& c : resp.customers()) {
      DatedCustomerName n;
      n.name.customer_id = c.id();
      n.name.name = c.name();
      n.name.name_kana = c.name_kana();
      n.update_time = api::FromTimestamp(c.audit().update_time());
      out.push_back(std::move(n));
    }
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  return out;
}

absl::StatusOr<CustomerInfo> GrpcPeers::Customer(int64_t id,
                                                 const grpc::ServerContextBase& incoming) {
  absl::StatusOr<customer::v1::Customer> found = GetCustomer(id, incoming);
  if (!found.ok()) return found.status();
  const customer::v1::Customer& resp = *found;
  CustomerInfo c;
  c.id = resp.id();
  c.name = resp.name();
  c.terms.closing_day = resp.billing_terms().closing_day();
  c.terms.payment_month_offset = resp.billing_terms().payment_month_offset();
  c.terms.payment_day = resp.billing_terms().payment_day();
  return c;
}

}  // namespace anken::billing
