#include "services/report/peers.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/api/proto_time.h"
#include "common/server/client.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"

namespace anken::report {
namespace {

constexpr int kPage = 1000;


// The case's referral as a line snapshot (customer_name left empty).
absl::StatusOr<LineSnapshot> SnapshotOf(const project::v1::Project& p) {
  const project::v1::Referral& r = p.referral();
  LineSnapshot s;
  s.project_id = p.id();
  s.case_number = p.number();
  ASSIGN_OR_RETURN(s.referral_date, api::FromDate(r.referral_date(), "referral.referral_date"));
  s.outcome = static_cast<Outcome>(r.outcome());
  ASSIGN_OR_RETURN(s.completion_date,
                   api::OptionalDate(r.completion_date(), "referral.completion_date"));
  s.amount = r.amount();
  ASSIGN_OR_RETURN(s.lost_date, api::OptionalDate(r.lost_date(), "referral.lost_date"));
  return s;
}

}  // namespace

GrpcPeers::GrpcPeers(std::shared_ptr<grpc::Channel> projects,
                     std::shared_ptr<grpc::Channel> customers,
                     std::shared_ptr<grpc::Channel> billing, const server::PeerAuth& auth)
    : projects_(project::v1::ProjectService::NewStub(projects)),
      customers_(customer::v1::CustomerService::NewStub(customers)),
      billing_(billing ? billing::v1::BillingService::NewStub(billing) : nullptr),
      auth_(auth) {}

absl::StatusOr<std::vector<PartnerInfo>> GrpcPeers::Partners(
    const grpc::ServerContextBase& incoming) {
  std::vector<PartnerInfo> out;
  customer::v1::ListCustomersRequest req;
  req.set_page_size(kPage);
  req.set_role(customer::v1::ROLE_FILTER_PARTNER);
  for (;;) {
    grpc::ClientContext ctx;
    server::PropagateCall(incoming, &ctx);
    RETURN_IF_ERROR(auth_.Apply(&ctx));
    customer::v1::ListCustomersResponse resp;
    grpc::Status s = customers_->ListCustomers(&ctx, req, &resp);
    if (!s.ok()) return server::PeerStatus(s, "customer");
    for (const customer::v1::Customer& c : resp.customers()) {
      PartnerInfo p;
      p.id = c.id();
      p.name = c.name();
      p.email = !c.partner().report_contact_email().empty() ? c.partner().report_contact_email()
                : !c.partner().notification_email().empty() ? c.partner().notification_email()
                                                             : c.email();
      out.push_back(std::move(p));
    }
    if (resp.next_page_token().empty()) break;
    req.set_page_token(resp.next_page_token());
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> GrpcPeers::CustomerNames(
    const std::vector<int64_t>& ids, const grpc::ServerContextBase& incoming) {
  std::vector<std::string> out;
  for (size_t start = 0; start < ids.size(); start += kPage) {
    grpc::ClientContext ctx;
    server::PropagateCall(incoming, &ctx);
    RETURN_IF_ERROR(auth_.Apply(&ctx));
    customer::v1::BatchGetCustomersRequest req;
    for (size_t i = start; i < ids.size() && i < start + kPage; ++i) req.add_ids(ids[i]);
    customer::v1::BatchGetCustomersResponse resp;
    grpc::Status s = customers_->BatchGetCustomers(&ctx, req, &resp);
    if (!s.ok()) return server::PeerStatus(s, "customer");
    for (const customer::v1::Customer& c : resp.customers()) out.push_back(c.name());
  }
  if (out.size() != ids.size()) {
    return WithReason(absl::UnavailableError("the customer service answered another number of "
                                             "customers than asked"),
                      "PEER_UNAVAILABLE");
  }
  return out;
}

absl::StatusOr<std::vector<ReferredCase>> GrpcPeers::InProgressReferrals(
    const grpc::ServerContextBase& incoming) {
  std::vector<ReferredCase> out;
  std::vector<int64_t> customer_ids;
  project::v1::ListReferralsRequest req;
  req.set_page_size(kPage);
  req.set_all_partners(true);
  req.add_outcomes(project::v1::REFERRAL_OUTCOME_IN_PROGRESS);
  for (;;) {
    grpc::ClientContext ctx;
    server::PropagateCall(incoming, &ctx);
    RETURN_IF_ERROR(auth_.Apply(&ctx));
    project::v1::ListReferralsResponse resp;
    grpc::Status s = projects_->ListReferrals(&ctx, req, &resp);
    if (!s.ok()) return server::PeerStatus(s, "project");
    for (const project::v1::Project& p : resp.projects()) {
      ReferredCase c;
      c.partner_id = p.referral().partner_id();
      ASSIGN_OR_RETURN(c.snapshot, SnapshotOf(p));
      out.push_back(std::move(c));
      customer_ids.push_back(p.customer_id());
    }
    if (resp.next_page_token().empty()) break;
    req.set_page_token(resp.next_page_token());
  }
  ASSIGN_OR_RETURN(std::vector<std::string> names, CustomerNames(customer_ids, incoming));
  for (size_t i = 0; i < out.size(); ++i) out[i].snapshot.customer_name = std::move(names[i]);
  return out;
}

absl::StatusOr<ReferredCase> GrpcPeers::Case(int64_t project_id,
                                             const grpc::ServerContextBase& incoming) {
  project::v1::Project p;
  {
    grpc::ClientContext ctx;
    server::PropagateCall(incoming, &ctx);
    RETURN_IF_ERROR(auth_.Apply(&ctx));
    project::v1::GetProjectRequest req;
    req.set_id(project_id);
    grpc::Status s = projects_->GetProject(&ctx, req, &p);
    if (!s.ok()) return server::PeerStatus(s, "project");
  }
  if (!p.has_referral() || p.referral().partner_id() == 0) {
    return WithReason(absl::FailedPreconditionError(absl::StrCat(
                          "case ", p.number(), " is not referred to a partner store")),
                      "NOT_REFERRED");
  }
  ReferredCase out;
  out.partner_id = p.referral().partner_id();
  ASSIGN_OR_RETURN(out.snapshot, SnapshotOf(p));
  ASSIGN_OR_RETURN(std::vector<std::string> names, CustomerNames({p.customer_id()}, incoming));
  out.snapshot.customer_name = std::move(names[0]);
  return out;
}

absl::Status GrpcPeers::RecordReferralOutcome(
    const project::v1::RecordReferralOutcomeRequest& request, absl::Time deadline) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(deadline));
  RETURN_IF_ERROR(auth_.Apply(&ctx));
  project::v1::Project reply;
  return FromGrpcStatus(projects_->RecordReferralOutcome(&ctx, request, &reply));
}

absl::Status GrpcPeers::CreateCommissionCharge(
    const billing::v1::CreateCommissionChargeRequest& request, absl::Time deadline) {
  if (billing_ == nullptr) {
    return absl::FailedPreconditionError("no billing service is configured");
  }
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(deadline));
  RETURN_IF_ERROR(auth_.Apply(&ctx));
  billing::v1::CommissionCharge reply;
  return FromGrpcStatus(billing_->CreateCommissionCharge(&ctx, request, &reply));
}

}  // namespace anken::report
