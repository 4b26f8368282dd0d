// Handlers of missed billing (請求漏れ) and partner commissions (紹介手数料): the won cases
// and the referral from the project service, the partner's rate from the customer service,
// the comparison and the arithmetic from receivables.h, the rest from the store.
#include <unordered_map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/api/proto_time.h"
#include "common/auth/auth_interceptor.h"
#include "common/db/idempotency.h"
#include "common/server/handler.h"
#include "common/server/handler_kit.h"
#include "common/status/errors.h"
#include "services/billing/billing_service.h"
#include "services/billing/receivables.h"

namespace anken::billing {
namespace {

using auth::Role;
using server::DeadlineOf;
using CommissionKind = BillingStore::CommissionKind;

constexpr char kServiceName[] = "anken.billing.v1.BillingService";

grpc::Status Fail(const absl::Status& s) { return ToGrpcStatus(s); }

// 1..100 of A-Z a-z 0-9 : _ - (the schema's CHECK, said to the client first).
bool ValidChargeKey(const std::string& key) {
  if (key.empty() || key.size() > 100) return false;
  for (char ch : key) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(ch)) && ch != ':' && ch != '_' &&
        ch != '-') {
      return false;
    }
  }
  return true;
}

// The invoice line text: "紹介手数料 案件0000123", "紹介手数料 追加工事 案件0000123", and for a
// correction "紹介手数料 追加工事 金額訂正 案件0000123".
std::string CommissionDescription(CommissionKind kind, const std::string& case_number,
                                  bool adjustment) {
  const char* what = kind == CommissionKind::kAdditionalOrder ? "追加工事 "
                     : kind == CommissionKind::kRepeatOrder   ? "リピート "
                                                              : "";
  return absl::StrCat("紹介手数料 ", what, adjustment ? "金額訂正 " : "", "案件", case_number);
}

v1::CommissionCharge ToProto(const BillingStore::CommissionCharge& c) {
  v1::CommissionCharge out;
  out.set_id(c.id);
  out.set_project_id(c.project_id);
  out.set_partner_id(c.partner_id);
  out.set_charge_key(c.charge_key);
  out.set_kind(static_cast<v1::CommissionKind>(c.kind));
  out.set_construction_amount(c.construction_amount);
  api::ToDate(c.completion_date, out.mutable_completion_date());
  api::ToYearMonth(c.report_month, out.mutable_report_month());
  out.set_rate_bp(static_cast<int32_t>(c.rate_bp));
  out.set_commission(c.commission);
  for (const BillingEntry& e : c.entries) {
    *out.add_entries() = BillingServiceImpl::EntryToProto(e);
  }
  server::StampToProto(c.stamp, out.mutable_audit());
  return out;
}

}  // namespace

void BillingServiceImpl::AddCommissionRoles(auth::MethodRoles& roles) {
  // The scheduler runs the daily check (service); accounting follows it up.
  roles.Allow(auth::FullMethodName(kServiceName, "ListMissedBilling"),
              {Role::kAdmin, Role::kStaff, Role::kAccounting, Role::kService});
  // Report intake charges what partners report (service); admin may correct by hand.
  roles.Allow(auth::FullMethodName(kServiceName, "CreateCommissionCharge"),
              {Role::kAdmin, Role::kService});
}

grpc::Status BillingServiceImpl::ListMissedBilling(grpc::ServerContext* ctx,
                                                   const v1::ListMissedBillingRequest* req,
                                                   v1::ListMissedBillingResponse* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  absl::StatusOr<absl::optional<absl::CivilDay>> given = api::OptionalDate(req->as_of(), "as_of");
  if (!given.ok()) return Fail(given.status());
  const absl::CivilDay as_of = given->value_or(TokyoToday(clock_));

  absl::StatusOr<std::vector<CaseInfo>> cases = peers_.WonCases(*ctx);
  if (!cases.ok()) return Fail(cases.status());
  std::vector<WonCase> won;
  std::vector<int64_t> ids;
  std::unordered_map<int64_t, std::string> numbers;
  for (const CaseInfo& c : *cases) {
    won.push_back(WonCase{c.id, c.customer_id});
    ids.push_back(c.id);
    numbers[c.id] = c.number;
  }
  absl::StatusOr<std::vector<BillingPlan>> plans = store_.PlansOfCases(ids, DeadlineOf(*ctx));
  if (!plans.ok()) return Fail(plans.status());

  api::ToDate(as_of, resp->mutable_as_of());
  for (const MissedBilling& m : FindMissedBilling(won, *plans, as_of)) {
    v1::MissedBilling* out = resp->add_items();
    out->set_kind(static_cast<v1::MissedBillingKind>(m.kind));
    out->set_project_id(m.project_id);
    out->set_project_number(numbers[m.project_id]);
    out->set_customer_id(m.customer_id);
    out->set_entry_id(m.entry_id);
    // As on entries: the store keys periods with their kind ("M2019-07"); clients see the month.
    out->set_period(m.period.empty() ? "" : m.period.substr(1));
    if (m.kind != MissedBillingKind::kNoPlan) {
      api::ToDate(m.billing_date, out->mutable_billing_date());
    }
    out->set_amount(m.amount);
    out->set_code(m.code);
    out->set_reason(m.reason);
  }
  return grpc::Status::OK;
}

grpc::Status BillingServiceImpl::CreateCommissionCharge(
    grpc::ServerContext* ctx, const v1::CreateCommissionChargeRequest* req,
    v1::CommissionCharge* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = db::CheckRequestId(req->request_id()); !s.ok()) return Fail(s);
  if (absl::Status s = server::RequireId(req->project_id(), "project_id"); !s.ok()) return Fail(s);
  if (absl::Status s = server::RequireId(req->partner_id(), "partner_id"); !s.ok()) return Fail(s);
  if (!ValidChargeKey(req->charge_key())) {
    return Fail(InvalidField("charge_key", "must be 1 to 100 characters of A-Z a-z 0-9 : _ -",
                             "INVALID_CHARGE_KEY"));
  }
  if (req->kind() < 1 || req->kind() > 3) {
    return Fail(InvalidField("kind", "must be COMPLETION, ADDITIONAL_ORDER or REPEAT_ORDER",
                             "REQUIRED"));
  }
  if (req->construction_amount() <= 0) {
    return Fail(InvalidField("construction_amount", "must be > 0 yen", "AMOUNT_NOT_POSITIVE"));
  }
  absl::StatusOr<absl::CivilDay> completion =
      api::FromDate(req->completion_date(), "completion_date");
  if (!completion.ok()) return Fail(completion.status());
  absl::StatusOr<absl::CivilMonth> report_month =
      api::FromYearMonth(req->report_month(), "report_month");
  if (!report_month.ok()) return Fail(report_month.status());

  const WriteContext write =
      Write(*ctx, caller, "CreateCommissionCharge", req->request_id(), *req);
  // A retry answers what the first call answered, whatever the peers say by now.
  absl::StatusOr<absl::optional<std::string>> replay = store_.FindReplay(write);
  if (!replay.ok()) return Fail(replay.status());
  if (replay->has_value()) {
    return server::ReplyFromBytes(absl::StatusOr<std::string>(**replay), resp);
  }

  // NOT_FOUND (case, partner) before the state rules.
  absl::StatusOr<std::vector<CaseInfo>> cases = peers_.Cases({req->project_id()}, *ctx);
  if (!cases.ok()) return Fail(cases.status());
  const CaseInfo& referred = cases->front();
  absl::StatusOr<PartnerInfo> partner = peers_.Partner(req->partner_id(), *ctx);
  if (!partner.ok()) return Fail(partner.status());
  if (!partner->is_partner) {
    return Fail(WithReason(absl::FailedPreconditionError(absl::StrCat(
                               "customer ", req->partner_id(), " (", partner->name,
                               ") is not a partner store")),
                           "NOT_A_PARTNER"));
  }
  if (referred.referral_partner_id != req->partner_id()) {
    return Fail(WithReason(absl::FailedPreconditionError(absl::StrCat(
                               "case ", referred.number, " is not referred to partner ",
                               req->partner_id())),
                           "NOT_REFERRED_TO_PARTNER"));
  }

  BillingStore::CommissionRequest charge;
  charge.project_id = req->project_id();
  charge.partner_id = req->partner_id();
  charge.charge_key = req->charge_key();
  charge.kind = static_cast<CommissionKind>(req->kind());
  charge.construction_amount = req->construction_amount();
  charge.completion_date = *completion;
  charge.report_month = *report_month;
  charge.rate_bp = partner->commission_rate_bp;
  charge.description = CommissionDescription(charge.kind, referred.number, false);
  charge.adjustment_description = CommissionDescription(charge.kind, referred.number, true);
  return server::ReplyFromBytes(
      store_.ChargeCommission(write, charge,
                              [](const BillingStore::CommissionCharge& c) {
                                return ToProto(c).SerializeAsString();
                              }),
      resp);
}

}  // namespace anken::billing
