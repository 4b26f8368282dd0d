#include "services/billing/billing_service.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/api/etag.h"
#include "common/api/field_mask.h"
#include "common/api/proto_time.h"
#include "common/auth/auth_interceptor.h"
#include "common/db/idempotency.h"
#include "common/jp/billing_terms.h"
#include "common/server/handler.h"
#include "common/server/handler_kit.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "services/billing/invoice_rules.h"
#include "services/billing/recurrence.h"

namespace anken::billing {
namespace {

using auth::Role;
using server::DeadlineOf;

constexpr char kService[] = "/anken.billing.v1.BillingService/";
// Plans per renewal transaction: large enough that a 10,000-plan run is a few dozen
// statements, small enough that a batch's locks and rows stay modest (about 5,000 entries).
constexpr size_t kRenewalBatch = 500;

std::string Method(absl::string_view name) { return absl::StrCat(kService, name); }
grpc::Status Fail(const absl::Status& s) { return ToGrpcStatus(s); }

// The API's and the tax library's categories share their numbering (tax::CategoryCode).
bool ValidTax(int c) { return tax::CategoryFromCode(c).has_value(); }
tax::Category ToTax(common::v1::TaxCategory c) { return *tax::CategoryFromCode(c); }
common::v1::TaxCategory FromTax(tax::Category c) {
  return static_cast<common::v1::TaxCategory>(tax::CategoryCode(c));
}
v1::RoundingMode FromRounding(tax::Rounding r) {
  return static_cast<v1::RoundingMode>(static_cast<int>(r) + 1);
}

// "M2019-07" -> "2019年7月分"; "Y2019-06" -> "2019年6月から1年分"; "S2019-07" -> "2019年7月分".
std::string PeriodLabel(const std::string& period) {
  if (period.size() != 8) return "";
  int year = 0, month = 0;
  if (!absl::SimpleAtoi(period.substr(1, 4), &year) || !absl::SimpleAtoi(period.substr(6, 2), &month)) {
    return "";
  }
  if (period[0] == 'Y') return absl::StrCat(year, "年", month, "月から1年分");
  return absl::StrCat(year, "年", month, "月分");
}

v1::BillingEntry ToProto(const BillingEntry& e) {
  v1::BillingEntry out;
  out.set_id(e.id);
  out.set_project_id(e.project_id);
  out.set_customer_id(e.customer_id);
  api::ToDate(e.billing_date, out.mutable_billing_date());
  api::ToDate(e.revenue_date, out.mutable_revenue_date());
  out.set_amount(e.amount);
  out.set_tax(e.tax);
  out.set_tax_category(FromTax(e.tax_category));
  out.set_status(static_cast<v1::EntryStatus>(e.status));
  // The store keys periods with the generation kind ("M2019-07"); clients see the month.
  out.set_period(e.period.empty() ? "" : e.period.substr(1));
  out.set_description(e.description);
  out.set_invoice_id(e.invoice_id);
  out.set_etag(api::FormatEtag(e.version));
  out.set_kind(static_cast<v1::EntryKind>(e.kind));
  out.set_commission_charge_id(e.commission_charge_id);
  return out;
}

void PlannedToProto(const PlannedEntry& p, v1::PlannedEntry* out) {
  api::ToDate(p.billing_date, out->mutable_billing_date());
  api::ToDate(p.revenue_date, out->mutable_revenue_date());
  out->set_amount(p.amount);
  out->set_description(p.description);
}

v1::BillingPlan ToProto(const BillingPlan& p) {
  v1::BillingPlan out;
  out.set_project_id(p.project_id);
  out.set_customer_id(p.customer_id);
  out.set_timing(static_cast<v1::BillingTiming>(p.timing));
  out.set_tax_category(FromTax(p.tax_category));
  if (p.recurring.has_value()) {
    const RecurringTerms& r = *p.recurring;
    auto* pr = out.mutable_recurring();
    pr->set_interval(static_cast<v1::RecurringInterval>(r.interval));
    pr->set_split_revenue(r.split_revenue);
    pr->set_amount(r.amount);
    api::ToYearMonth(r.start_month, pr->mutable_start_month());
    api::ToYearMonth(r.end_month, pr->mutable_end_month());
    pr->set_auto_renew(r.auto_renew);
    pr->set_renewal_unit_months(r.renewal_unit_months);
  }
  for (const auto& e : p.planned_entries) PlannedToProto(e, out.add_planned_entries());
  for (const auto& e : p.entries) *out.add_entries() = ToProto(e);
  out.set_etag(api::FormatEtag(p.version));
  server::StampToProto(p.stamp, out.mutable_audit());
  return out;
}

absl::StatusOr<PlannedEntry> FromProto(const v1::PlannedEntry& in, absl::string_view field) {
  PlannedEntry p;
  ASSIGN_OR_RETURN(p.billing_date, api::FromDate(in.billing_date(), absl::StrCat(field, ".billing_date")));
  ASSIGN_OR_RETURN(p.revenue_date, api::FromDate(in.revenue_date(), absl::StrCat(field, ".revenue_date")));
  p.amount = in.amount();
  p.description = in.description();
  return p;
}

absl::StatusOr<BillingPlan> FromProto(const v1::BillingPlan& in) {
  BillingPlan p;
  p.project_id = in.project_id();
  if (in.timing() < 1 || in.timing() > 3) {
    return InvalidField("plan.timing", "must be LUMP_SUM, SPLIT or RECURRING", "REQUIRED");
  }
  p.timing = static_cast<Timing>(in.timing());
  if (!ValidTax(in.tax_category())) {
    return InvalidField("plan.tax_category", "is required", "REQUIRED");
  }
  p.tax_category = ToTax(in.tax_category());
  if (in.has_recurring()) {
    const v1::RecurringTerms& r = in.recurring();
    RecurringTerms t;
    if (r.interval() < 1 || r.interval() > 2) {
      return InvalidField("plan.recurring.interval", "must be MONTHLY or YEARLY", "REQUIRED");
    }
    t.interval = static_cast<Interval>(r.interval());
    t.split_revenue = r.split_revenue();
    t.amount = r.amount();
    ASSIGN_OR_RETURN(t.start_month, api::FromYearMonth(r.start_month(), "plan.recurring.start_month"));
    ASSIGN_OR_RETURN(t.end_month, api::FromYearMonth(r.end_month(), "plan.recurring.end_month"));
    t.auto_renew = r.auto_renew();
    t.renewal_unit_months = r.renewal_unit_months();
    p.recurring = t;
  }
  for (int i = 0; i < in.planned_entries_size(); ++i) {
    ASSIGN_OR_RETURN(PlannedEntry e,
                     FromProto(in.planned_entries(i), absl::StrCat("plan.planned_entries[", i, "]")));
    p.planned_entries.push_back(std::move(e));
  }
  return p;
}

v1::Invoice ToProto(const Invoice& inv) {
  v1::Invoice out;
  out.set_id(inv.id);
  out.set_number(inv.number);
  out.set_customer_id(inv.customer_id);
  out.set_recipient_name(inv.recipient_name);
  out.set_issuer_name(inv.issuer_name);
  out.set_issuer_registration_number(inv.issuer_registration_number);
  out.set_issuer_address(inv.issuer_address.value_or(""));
  out.set_issuer_bank_account(inv.issuer_bank_account.value_or(""));
  api::ToDate(inv.issue_date, out.mutable_issue_date());
  api::ToDate(inv.due_date, out.mutable_due_date());
  for (const auto& l : inv.lines) {
    auto* pl = out.add_lines();
    pl->set_entry_id(l.entry_id);
    pl->set_description(l.description);
    pl->set_amount(l.amount);
    pl->set_tax_category(FromTax(l.tax_category));
    pl->set_reduced_rate(l.tax_category == tax::Category::kReduced);
    pl->set_allocated_tax(l.allocated_tax);
    api::ToDate(l.revenue_date, pl->mutable_revenue_date());
  }
  for (const auto& r : inv.totals.per_rate) {
    auto* pr = out.add_rate_totals();
    pr->set_category(FromTax(r.category));
    pr->set_taxable_amount(r.taxable);
    pr->set_tax(r.tax);
  }
  out.set_subtotal(inv.totals.subtotal);
  out.set_tax(inv.totals.tax);
  out.set_total(inv.totals.total);
  out.set_rounding(FromRounding(inv.rounding));
  out.set_status(static_cast<v1::InvoiceStatus>(inv.status));
  out.set_cancel_reason(inv.cancel_reason);
  if (inv.cancel_time.has_value()) api::ToTimestamp(*inv.cancel_time, out.mutable_cancel_time());
  if (inv.status == InvoiceStatus::kIssued) {
    out.set_payment_status(inv.written_off_amount > 0 ? v1::INVOICE_PAYMENT_STATUS_WRITTEN_OFF
                           : inv.Balance() == 0       ? v1::INVOICE_PAYMENT_STATUS_PAID
                           : inv.paid_amount > 0      ? v1::INVOICE_PAYMENT_STATUS_PARTIALLY_PAID
                                                      : v1::INVOICE_PAYMENT_STATUS_UNPAID);
  }
  out.set_paid_amount(inv.paid_amount);
  out.set_written_off_amount(inv.written_off_amount);
  out.set_balance(inv.Balance());
  out.set_write_off_reason(inv.write_off_reason);
  if (inv.write_off_time.has_value()) {
    api::ToTimestamp(*inv.write_off_time, out.mutable_write_off_time());
  }
  out.set_etag(api::FormatEtag(inv.version));
  server::StampToProto(inv.stamp, out.mutable_audit());
  return out;
}

v1::InvoiceIssueRequest ToProto(const InvoiceIssueRequest& r) {
  v1::InvoiceIssueRequest out;
  out.set_id(r.id);
  out.set_project_id(r.project_id);
  for (int64_t id : r.entry_ids) out.add_entry_ids(id);
  out.set_note(r.note);
  out.set_requested_by(r.requested_by);
  api::ToTimestamp(r.request_time, out.mutable_request_time());
  return out;
}

void FailureToProto(const RenewalFailure& f, v1::RenewalFailure* out) {
  out->set_project_id(f.project_id);
  out->set_reason(f.reason);
  out->set_code(f.code);
  api::ToTimestamp(f.failure_time, out->mutable_failure_time());
  api::ToDate(f.as_of, out->mutable_as_of());
}

absl::optional<int64_t> ExpectedVersion(const std::string& etag) {
  if (etag.empty()) return absl::nullopt;
  absl::StatusOr<int64_t> v = api::ParseEtag(etag);
  if (!v.ok()) return int64_t{-1};  // never matches: the store answers ABORTED
  return *v;
}

}  // namespace

absl::Status CheckMaxChars(const std::string& value, absl::string_view field, size_t max_chars) {
  if (server::CharCount(value) <= max_chars) return absl::OkStatus();
  return InvalidField(field, absl::StrCat("must be at most ", max_chars, " characters"),
                      "TOO_LONG");
}

v1::Invoice BillingServiceImpl::InvoiceToProto(const Invoice& invoice) { return ToProto(invoice); }

auth::MethodRoles BillingServiceImpl::Roles() {
  auth::MethodRoles r;
  const std::initializer_list<Role> plan = {Role::kAdmin, Role::kStaff, Role::kAccounting};
  const std::initializer_list<Role> read = {Role::kAdmin, Role::kStaff, Role::kAccounting,
                                            Role::kService};
  for (const char* m : {"SetBillingPlan", "AddBillingEntry", "UpdateBillingEntry",
                        "RemoveBillingEntry", "SetEntryStatus", "RequestInvoiceIssue"}) {
    r.Allow(Method(m), plan);
  }
  for (const char* m : {"GetBillingPlan", "ListBillingEntries", "GetSalesSummary",
                        "PreviewRenewals", "ListRenewalFailures", "GetInvoice", "ListInvoices",
                        "ListAuditEvents"}) {
    r.Allow(Method(m), read);
  }
  r.Allow(Method("RunRenewals"), {Role::kAdmin, Role::kService});
  r.Allow(Method("IssueInvoice"), {Role::kAdmin, Role::kAccounting});
  r.Allow(Method("CancelInvoice"), {Role::kAdmin, Role::kAccounting});
  r.Allow(Method("GetInvoicePdf"), {Role::kAdmin, Role::kStaff, Role::kAccounting});
  AllowPaymentMethods(r);
  AddCommissionRoles(r);
  return r;
}

v1::BillingEntry BillingServiceImpl::EntryToProto(const BillingEntry& entry) {
  return ToProto(entry);
}

WriteContext BillingServiceImpl::Write(const grpc::ServerContext& ctx,
                                       const auth::Principal& caller, absl::string_view method,
                                       const std::string& request_id,
                                       const google::protobuf::Message& request) const {
  return server::MakeWriteContext(ctx, caller, Method(method), request_id, request, clock_);
}

// ---- plans and entries ----

grpc::Status BillingServiceImpl::SetBillingPlan(grpc::ServerContext* ctx,
                                                const v1::SetBillingPlanRequest* req,
                                                v1::BillingPlan* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = server::RequireId(req->plan().project_id(), "plan.project_id"); !s.ok()) return Fail(s);
  absl::StatusOr<BillingPlan> plan = FromProto(req->plan());
  if (!plan.ok()) return Fail(plan.status());
  if (absl::Status s = ValidatePlan(*plan); !s.ok()) return Fail(s);
  // The case must exist; its customer is the one invoiced.
  absl::StatusOr<std::vector<CaseInfo>> cases = peers_.Cases({plan->project_id}, *ctx);
  if (!cases.ok()) return Fail(cases.status());
  plan->customer_id = cases->front().customer_id;
  std::vector<PlannedEntry> entries = plan->timing == Timing::kRecurring
                                          ? GenerateEntries(*plan->recurring)
                                          : plan->planned_entries;
  absl::StatusOr<BillingPlan> saved = store_.SetPlan(
      Write(*ctx, caller, "SetBillingPlan", "", *req), *plan, entries, ExpectedVersion(req->etag()));
  if (!saved.ok()) return Fail(saved.status());
  *resp = ToProto(*saved);
  return grpc::Status::OK;
}

grpc::Status BillingServiceImpl::GetBillingPlan(grpc::ServerContext* ctx,
                                                const v1::GetBillingPlanRequest* req,
                                                v1::BillingPlan* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = server::RequireId(req->project_id(), "project_id"); !s.ok()) return Fail(s);
  absl::StatusOr<BillingPlan> plan = store_.GetPlan(req->project_id(), DeadlineOf(*ctx));
  if (!plan.ok()) return Fail(plan.status());
  *resp = ToProto(*plan);
  return grpc::Status::OK;
}

grpc::Status BillingServiceImpl::ListBillingEntries(grpc::ServerContext* ctx,
                                                    const v1::ListBillingEntriesRequest* req,
                                                    v1::ListBillingEntriesResponse* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  absl::StatusOr<int> size = api::PageSize(req->page_size());
  if (!size.ok()) return Fail(size.status());
  EntryPosition after;
  if (!req->page_token().empty()) {
    absl::StatusOr<std::string> pos = page_tokens_.Decode(req->page_token(), api::FilterFingerprint(*req));
    if (!pos.ok()) return Fail(pos.status());
    // "<days since epoch>:<id>"
    std::vector<std::string> parts = absl::StrSplit(*pos, ':');
    int64_t days = 0;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &days) ||
        !absl::SimpleAtoi(parts[1], &after.id)) {
      return Fail(InvalidField("page_token", "is not valid; repeat the request without page_token"));
    }
    after.billing_date = absl::CivilDay(1970, 1, 1) + days;
  }
  EntryFilter f;
  f.project_id = req->project_id();
  f.customer_id = req->customer_id();
  for (int s : req->statuses()) {
    if (s < 1 || s > 5) return Fail(InvalidField("statuses", "unknown status"));
    f.statuses.push_back(static_cast<EntryStatus>(s));
  }
  struct Range {
    const common::v1::Date& date;
    const char* name;
    absl::optional<absl::CivilDay>* out;
  };
  for (const Range& r : {Range{req->billing_date_from(), "billing_date_from", &f.billing_from},
                         Range{req->billing_date_to(), "billing_date_to", &f.billing_to},
                         Range{req->revenue_date_from(), "revenue_date_from", &f.revenue_from},
                         Range{req->revenue_date_to(), "revenue_date_to", &f.revenue_to}}) {
    absl::StatusOr<absl::optional<absl::CivilDay>> d = api::OptionalDate(r.date, r.name);
    if (!d.ok()) return Fail(d.status());
    *r.out = *d;
  }
  absl::StatusOr<std::vector<BillingEntry>> rows =
      store_.ListEntries(f, after, *size + 1, DeadlineOf(*ctx));
  if (!rows.ok()) return Fail(rows.status());
  const bool more = server::TrimPage(*rows, *size);
  for (const auto& e : *rows) *resp->add_entries() = ToProto(e);
  if (more) {
    const BillingEntry& last = rows->back();
    resp->set_next_page_token(page_tokens_.Encode(
        api::FilterFingerprint(*req),
        absl::StrCat(last.billing_date - absl::CivilDay(1970, 1, 1), ":", last.id)));
  }
  return grpc::Status::OK;
}

grpc::Status BillingServiceImpl::AddBillingEntry(grpc::ServerContext* ctx,
                                                 const v1::AddBillingEntryRequest* req,
                                                 v1::BillingEntry* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = db::CheckRequestId(req->request_id()); !s.ok()) return Fail(s);
  if (absl::Status s = server::RequireId(req->project_id(), "project_id"); !s.ok()) return Fail(s);
  absl::StatusOr<PlannedEntry> e = FromProto(req->entry(), "entry");
  if (!e.ok()) return Fail(e.status());
  if (e->amount <= 0) return Fail(InvalidField("entry.amount", "must be > 0", "AMOUNT_NOT_POSITIVE"));
  if (absl::Status s = CheckEntryDescription("entry.description", e->description); !s.ok()) {
    return Fail(s);
  }
  return server::ReplyFromBytes(store_.AddEntry(Write(*ctx, caller, "AddBillingEntry", req->request_id(), *req),
                                   req->project_id(), *e,
                                   [](const BillingEntry& x) { return ToProto(x).SerializeAsString(); }),
                   resp);
}

grpc::Status BillingServiceImpl::UpdateBillingEntry(grpc::ServerContext* ctx,
                                                    const v1::UpdateBillingEntryRequest* req,
                                                    v1::BillingEntry* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = server::RequireId(req->entry().id(), "entry.id"); !s.ok()) return Fail(s);
  static const auto* updatable =
      new std::set<std::string>{"billing_date", "revenue_date", "amount", "description"};
  if (absl::Status s =
          api::ValidateUpdateMask(req->update_mask(), v1::BillingEntry::descriptor(), *updatable);
      !s.ok()) {
    return Fail(s);
  }
  const std::set<std::string> paths(req->update_mask().paths().begin(),
                                    req->update_mask().paths().end());
  absl::StatusOr<BillingEntry> updated = store_.UpdateEntry(
      Write(*ctx, caller, "UpdateBillingEntry", "", *req), req->entry().id(),
      [&](BillingEntry& row, Timing timing) -> absl::Status {
        RETURN_IF_ERROR(api::CheckEtag(req->entry().etag(), row.version));
        if (row.status != EntryStatus::kUnbilled && row.status != EntryStatus::kReady) {
          return WithReason(absl::FailedPreconditionError(
                                "an invoiced entry cannot be edited; cancel the invoice first"),
                            "ENTRY_FROZEN");
        }
        if (paths.count("amount") && row.kind == EntryKind::kCommission) {
          return WithReason(
              absl::FailedPreconditionError(
                  "a commission's amount comes from its charge; a corrected construction amount "
                  "(CreateCommissionCharge) adds an adjusting entry"),
              "AMOUNT_FROM_COMMISSION");
        }
        if (paths.count("amount") && timing == Timing::kRecurring) {
          return WithReason(absl::FailedPreconditionError(
                                "a recurring entry's amount comes from its plan; change the plan"),
                            "AMOUNT_FROM_PLAN");
        }
        if (paths.count("billing_date")) {
          ASSIGN_OR_RETURN(row.billing_date, api::FromDate(req->entry().billing_date(), "entry.billing_date"));
        }
        if (paths.count("revenue_date")) {
          ASSIGN_OR_RETURN(row.revenue_date, api::FromDate(req->entry().revenue_date(), "entry.revenue_date"));
        }
        if (paths.count("amount")) {
          if (req->entry().amount() <= 0) {
            return InvalidField("entry.amount", "must be > 0", "AMOUNT_NOT_POSITIVE");
          }
          row.amount = req->entry().amount();
        }
        if (paths.count("description")) {
          RETURN_IF_ERROR(CheckEntryDescription("entry.description", req->entry().description()));
          row.description = req->entry().description();
        }
        return absl::OkStatus();
      });
  if (!updated.ok()) return Fail(updated.status());
  *resp = ToProto(*updated);
  return grpc::Status::OK;
}

grpc::Status BillingServiceImpl::RemoveBillingEntry(grpc::ServerContext* ctx,
                                                    const v1::RemoveBillingEntryRequest* req,
                                                    v1::RemoveBillingEntryResponse*) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = server::RequireId(req->id(), "id"); !s.ok()) return Fail(s);
  return Fail(store_.RemoveEntry(Write(*ctx, caller, "RemoveBillingEntry", "", *req), req->id(),
                                 ExpectedVersion(req->etag())));
}

grpc::Status BillingServiceImpl::SetEntryStatus(grpc::ServerContext* ctx,
                                                const v1::SetEntryStatusRequest* req,
                                                v1::BillingEntry* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = server::RequireId(req->id(), "id"); !s.ok()) return Fail(s);
  if (req->status() < 1 || req->status() > 5) {
    return Fail(InvalidField("status", "is required", "REQUIRED"));
  }
  const auto to = static_cast<EntryStatus>(req->status());
  const bool accounting = caller.role == Role::kAccounting || caller.role == Role::kAdmin;
  absl::StatusOr<BillingEntry> updated = store_.UpdateEntry(
      Write(*ctx, caller, "SetEntryStatus", "", *req), req->id(),
      [&](BillingEntry& row, Timing) -> absl::Status {
        RETURN_IF_ERROR(api::CheckEtag(req->etag(), row.version));
        RETURN_IF_ERROR(CheckEntryTransition(row.status, to, accounting));
        row.status = to;
        return absl::OkStatus();
      });
  if (!updated.ok()) return Fail(updated.status());
  *resp = ToProto(*updated);
  return grpc::Status::OK;
}

grpc::Status BillingServiceImpl::GetSalesSummary(grpc::ServerContext* ctx,
                                                 const v1::GetSalesSummaryRequest* req,
                                                 v1::SalesSummary* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  absl::StatusOr<absl::CivilMonth> from = api::FromYearMonth(req->from_month(), "from_month");
  if (!from.ok()) return Fail(from.status());
  absl::StatusOr<absl::CivilMonth> to = api::FromYearMonth(req->to_month(), "to_month");
  if (!to.ok()) return Fail(to.status());
  if (*to < *from) return Fail(InvalidField("to_month", "is before from_month"));
  if (*to - *from > 36) return Fail(InvalidField("to_month", "is more than 36 months after from_month"));
  absl::StatusOr<std::vector<SalesMonthTotal>> rows = store_.SalesSummary(*from, *to, DeadlineOf(*ctx));
  if (!rows.ok()) return Fail(rows.status());
  std::map<absl::CivilMonth, std::vector<const SalesMonthTotal*>> by_month;
  for (const auto& r : *rows) by_month[r.month].push_back(&r);
  for (absl::CivilMonth m = *from; m <= *to; ++m) {
    auto* out = resp->add_months();
    api::ToYearMonth(m, out->mutable_month());
    for (const SalesMonthTotal* r : by_month[m]) {
      out->set_amount(out->amount() + r->amount);
      out->set_invoiced_amount(out->invoiced_amount() + r->invoiced_amount);
      auto* rate = out->add_by_rate();
      rate->set_category(FromTax(r->category));
      rate->set_taxable_amount(r->amount);
      // Tax once per rate on the month's sum, as an invoice would compute it.
      rate->set_tax(tax::TaxFor(r->amount, r->category, options_.rounding));
    }
  }
  return grpc::Status::OK;
}

// ---- renewals ----

absl::StatusOr<v1::RenewalRun> BillingServiceImpl::Renew(const grpc::ServerContext& ctx,
                                                        const WriteContext* write,
                                                        absl::CivilDay as_of) {
  v1::RenewalRun run;
  api::ToDate(as_of, run.mutable_as_of());
  ASSIGN_OR_RETURN(std::vector<BillingPlan> plans,
                   store_.RenewalCandidates(absl::CivilMonth(as_of), write ? write->deadline
                                                                           : DeadlineOf(ctx)));
  run.set_plans_considered(static_cast<int32_t>(plans.size()));

  // Order status of every candidate's case, in batches; a case the project service does not
  // know is that plan's failure, not the run's. Asked before the run is recorded, so that a
  // project service outage writes nothing at all (the scheduler retries the slot).
  std::vector<int64_t> ids;
  for (const auto& p : plans) ids.push_back(p.project_id);
  std::unordered_map<int64_t, CaseInfo> cases;
  absl::StatusOr<std::vector<CaseInfo>> all =
      ids.empty() ? absl::StatusOr<std::vector<CaseInfo>>(std::vector<CaseInfo>())
                  : peers_.Cases(ids, ctx);
  if (all.ok()) {
    for (auto& c : *all) cases[c.id] = c;
  } else if (all.status().code() == absl::StatusCode::kNotFound) {
    for (int64_t id : ids) {
      absl::StatusOr<std::vector<CaseInfo>> one = peers_.Cases({id}, ctx);
      if (one.ok()) {
        cases[id] = one->front();
      } else if (one.status().code() != absl::StatusCode::kNotFound) {
        return one.status();
      }
    }
  } else {
    return all.status();  // the project service is down: renew nothing now, retry later
  }

  int64_t run_id = 0;
  if (write != nullptr) {
    ASSIGN_OR_RETURN(run_id, store_.StartRenewalRun(*write, as_of));
    run.set_id(run_id);
  }

  // The plans in batches (kRenewalBatch plans per transaction): each batch's renewals are
  // written set-based by ApplyRenewals; a batch the store refuses is applied again plan by
  // plan, so that one bad plan is set aside with its reason and the others still renew. The
  // response lists renewals and failures in plan order, as a run one plan at a time would.
  auto fail = [&](const BillingPlan& plan, absl::string_view code,
                  absl::string_view reason) -> absl::Status {
    RenewalFailure f;
    f.project_id = plan.project_id;
    f.code = std::string(code);
    f.reason = std::string(reason);
    f.failure_time = clock_.Now();
    f.as_of = as_of;
    FailureToProto(f, run.add_failures());
    if (write == nullptr) return absl::OkStatus();
    return store_.RecordRenewalFailure(*write, run_id, f);
  };
  auto transient = [](const absl::Status& s) {
    return s.code() == absl::StatusCode::kUnavailable ||
           s.code() == absl::StatusCode::kDeadlineExceeded;
  };
  for (size_t start = 0; start < plans.size(); start += kRenewalBatch) {
    const size_t end = std::min(plans.size(), start + kRenewalBatch);
    // What each plan of the batch comes to, before anything is written.
    struct Outcome {
      absl::optional<PlanRenewal> renewal;
      std::string code, reason;  // a failure when code is set
      bool applied = true;       // false: another run renewed it meanwhile
    };
    std::vector<Outcome> outcomes(end - start);
    std::vector<PlanRenewal> due;
    std::vector<size_t> due_at;  // index into outcomes
    for (size_t i = start; i < end; ++i) {
      const BillingPlan& plan = plans[i];
      Outcome& o = outcomes[i - start];
      auto c = cases.find(plan.project_id);
      if (c == cases.end()) {
        o.code = "PROJECT_NOT_FOUND";
        o.reason = "the case no longer exists in the project service";
        continue;
      }
      if (!c->second.won) {
        run.set_plans_not_won(run.plans_not_won() + 1);
        continue;
      }
      if (!plan.recurring.has_value()) continue;
      o.renewal = ComputeRenewal(*plan.recurring, as_of);
      if (!o.renewal.has_value()) {
        o.code = "NO_RENEWAL_UNIT";
        o.reason = "auto-renew is on but the plan has no renewal unit";
        continue;
      }
      o.renewal->project_id = plan.project_id;
      due.push_back(*o.renewal);
      due_at.push_back(i - start);
    }
    if (write != nullptr && !due.empty()) {
      absl::StatusOr<std::vector<bool>> applied = store_.ApplyRenewals(*write, run_id, due);
      if (applied.ok()) {
        for (size_t k = 0; k < due.size(); ++k) outcomes[due_at[k]].applied = (*applied)[k];
      } else if (transient(applied.status())) {
        return applied.status();
      } else {
        for (size_t k = 0; k < due.size(); ++k) {
          Outcome& o = outcomes[due_at[k]];
          absl::StatusOr<bool> one = store_.ApplyRenewal(*write, run_id, due[k]);
          if (one.ok()) {
            o.applied = *one;
          } else if (transient(one.status())) {
            return one.status();
          } else {
            o.code = "RENEWAL_FAILED";
            o.reason = std::string(one.status().message());
          }
        }
      }
    }
    for (size_t i = start; i < end; ++i) {
      const BillingPlan& plan = plans[i];
      const Outcome& o = outcomes[i - start];
      if (!o.code.empty()) {
        RETURN_IF_ERROR(fail(plan, o.code, o.reason));
        continue;
      }
      if (!o.renewal.has_value() || !o.applied) continue;
      const PlanRenewal& renewal = *o.renewal;
      auto* out = run.add_renewals();
      out->set_project_id(plan.project_id);
      api::ToYearMonth(renewal.old_end_month, out->mutable_old_end_month());
      api::ToYearMonth(renewal.new_end_month, out->mutable_new_end_month());
      for (const PlannedEntry& e : renewal.entries) {
        BillingEntry be;
        be.project_id = plan.project_id;
        be.customer_id = plan.customer_id;
        be.billing_date = e.billing_date;
        be.revenue_date = e.revenue_date;
        be.amount = e.amount;
        be.tax_category = plan.tax_category;
        be.tax = tax::TaxFor(e.amount, plan.tax_category, tax::Rounding::kFloor);
        be.period = e.period;
        be.description = e.description;
        *out->add_entries() = ToProto(be);
      }
    }
  }
  return run;
}

grpc::Status BillingServiceImpl::RunRenewals(grpc::ServerContext* ctx,
                                             const v1::RunRenewalsRequest* req,
                                             v1::RenewalRun* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = db::CheckRequestId(req->request_id()); !s.ok()) return Fail(s);
  absl::StatusOr<absl::CivilDay> as_of = api::FromDate(req->as_of(), "as_of");
  if (!as_of.ok()) return Fail(as_of.status());
  const WriteContext write = Write(*ctx, caller, "RunRenewals", req->request_id(), *req);
  absl::StatusOr<absl::optional<std::string>> replay = store_.FindReplay(write);
  if (!replay.ok()) return Fail(replay.status());
  if (replay->has_value()) return server::ReplyFromBytes(absl::StatusOr<std::string>(**replay), resp);
  absl::StatusOr<v1::RenewalRun> run = Renew(*ctx, &write, *as_of);
  if (!run.ok()) return Fail(run.status());
  return server::ReplyFromBytes(store_.FinishRenewalRun(write, run->id(), run->SerializeAsString()), resp);
}

grpc::Status BillingServiceImpl::PreviewRenewals(grpc::ServerContext* ctx,
                                                 const v1::PreviewRenewalsRequest* req,
                                                 v1::RenewalRun* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  absl::StatusOr<absl::CivilDay> as_of = api::FromDate(req->as_of(), "as_of");
  if (!as_of.ok()) return Fail(as_of.status());
  absl::StatusOr<v1::RenewalRun> run = Renew(*ctx, nullptr, *as_of);
  if (!run.ok()) return Fail(run.status());
  *resp = std::move(*run);
  return grpc::Status::OK;
}

grpc::Status BillingServiceImpl::ListRenewalFailures(grpc::ServerContext* ctx,
                                                     const v1::ListRenewalFailuresRequest* req,
                                                     v1::ListRenewalFailuresResponse* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  absl::StatusOr<int> size = api::PageSize(req->page_size());
  if (!size.ok()) return Fail(size.status());
  absl::StatusOr<int64_t> before = api::DecodeIdPosition(page_tokens_, *req, req->page_token());
  if (!before.ok()) return Fail(before.status());
  auto rows = store_.ListRenewalFailures(req->include_resolved(), *before, *size + 1, DeadlineOf(*ctx));
  if (!rows.ok()) return Fail(rows.status());
  const bool more = server::TrimPage(*rows, *size);
  for (const auto& [id, f] : *rows) FailureToProto(f, resp->add_failures());
  if (more) resp->set_next_page_token(api::EncodeIdPosition(page_tokens_, *req, rows->back().first));
  return grpc::Status::OK;
}

// ---- invoices ----

grpc::Status BillingServiceImpl::IssueInvoice(grpc::ServerContext* ctx,
                                              const v1::IssueInvoiceRequest* req,
                                              v1::Invoice* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = db::CheckRequestId(req->request_id()); !s.ok()) return Fail(s);
  if (absl::Status s = server::RequireId(req->customer_id(), "customer_id"); !s.ok()) return Fail(s);
  absl::StatusOr<absl::CivilDay> issue_date = api::FromDate(req->issue_date(), "issue_date");
  if (!issue_date.ok()) return Fail(issue_date.status());
  const WriteContext write = Write(*ctx, caller, "IssueInvoice", req->request_id(), *req);
  // A retry answers what the first call answered (its entries are no longer READY).
  absl::StatusOr<absl::optional<std::string>> replay = store_.FindReplay(write);
  if (!replay.ok()) return Fail(replay.status());
  if (replay->has_value()) return server::ReplyFromBytes(absl::StatusOr<std::string>(**replay), resp);

  std::vector<int64_t> wanted(req->entry_ids().begin(), req->entry_ids().end());
  absl::StatusOr<std::vector<BillingEntry>> entries =
      store_.ReadyEntries(req->customer_id(), wanted, DeadlineOf(*ctx));
  if (!entries.ok()) return Fail(entries.status());
  if (entries->empty()) {
    return Fail(WithReason(absl::FailedPreconditionError("the customer has no READY entries to invoice"),
                           "NO_READY_ENTRIES"));
  }
  if (!wanted.empty() && entries->size() != std::set<int64_t>(wanted.begin(), wanted.end()).size()) {
    std::set<int64_t> found;
    for (const auto& e : *entries) found.insert(e.id);
    for (int64_t id : wanted) {
      if (!found.count(id)) {
        return Fail(WithReason(absl::FailedPreconditionError(absl::StrCat(
                                   "entry ", id, " is not a READY entry of customer ",
                                   req->customer_id())),
                               "ENTRY_NOT_READY"));
      }
    }
  }
  absl::StatusOr<CustomerInfo> customer = peers_.Customer(req->customer_id(), *ctx);
  if (!customer.ok()) return Fail(customer.status());
  std::vector<int64_t> project_ids;
  for (const auto& e : *entries) project_ids.push_back(e.project_id);
  std::sort(project_ids.begin(), project_ids.end());
  project_ids.erase(std::unique(project_ids.begin(), project_ids.end()), project_ids.end());
  absl::StatusOr<std::vector<CaseInfo>> cases = peers_.Cases(project_ids, *ctx);
  if (!cases.ok()) return Fail(cases.status());
  std::unordered_map<int64_t, std::string> case_names;
  for (const auto& c : *cases) case_names[c.id] = c.name;

  Invoice inv;
  inv.customer_id = req->customer_id();
  inv.recipient_name = customer->name;
  inv.issuer_name = options_.issuer_name;
  inv.issuer_registration_number = options_.issuer_registration_number;
  // Frozen with the name: the PDF of this invoice prints these even after the configuration
  // changes (an empty one stays empty).
  inv.issuer_address = options_.issuer_address;
  inv.issuer_bank_account = options_.issuer_bank_account;
  inv.issue_date = *issue_date;
  inv.due_date = jp::DueDateFor(customer->terms, jp::ClosingDateFor(customer->terms, *issue_date));
  inv.rounding = options_.rounding;
  std::vector<int64_t> versions;
  for (const auto& e : *entries) {
    InvoiceLine l;
    l.entry_id = e.id;
    l.description = !e.description.empty()
                        ? e.description
                        : absl::StrCat(case_names[e.project_id],
                                       e.period.empty() ? "" : " ", PeriodLabel(e.period));
    l.amount = e.amount;
    l.tax_category = e.tax_category;
    l.revenue_date = e.revenue_date;
    inv.lines.push_back(std::move(l));
    versions.push_back(e.version);
  }
  if (absl::Status s = PriceInvoice(inv); !s.ok()) return Fail(s);
  // Commission adjustments may be negative: alone (or outweighing the rest) they make no
  // invoice; they wait for the partner's next charge.
  if (inv.totals.total <= 0) {
    return Fail(WithReason(
        absl::FailedPreconditionError(absl::StrCat(
            "the invoice total would be ", inv.totals.total,
            " yen; an invoice must total more than 0 (negative adjustments need other entries)")),
        "INVOICE_TOTAL_NOT_POSITIVE"));
  }
  if (absl::Status s = CheckQualifiedInvoice(inv); !s.ok()) return Fail(s);
  return server::ReplyFromBytes(store_.IssueInvoice(write, inv, versions,
                                       [](const Invoice& x) { return ToProto(x).SerializeAsString(); }),
                   resp);
}

grpc::Status BillingServiceImpl::GetInvoice(grpc::ServerContext* ctx,
                                            const v1::GetInvoiceRequest* req, v1::Invoice* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = server::RequireId(req->id(), "id"); !s.ok()) return Fail(s);
  absl::StatusOr<Invoice> inv = store_.GetInvoice(req->id(), DeadlineOf(*ctx));
  if (!inv.ok()) return Fail(inv.status());
  *resp = ToProto(*inv);
  return grpc::Status::OK;
}

grpc::Status BillingServiceImpl::ListInvoices(grpc::ServerContext* ctx,
                                              const v1::ListInvoicesRequest* req,
                                              v1::ListInvoicesResponse* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  absl::StatusOr<int> size = api::PageSize(req->page_size());
  if (!size.ok()) return Fail(size.status());
  absl::StatusOr<int64_t> before = api::DecodeIdPosition(page_tokens_, *req, req->page_token());
  if (!before.ok()) return Fail(before.status());
  InvoiceFilter f;
  f.customer_id = req->customer_id();
  for (int s : req->statuses()) {
    if (s < 1 || s > 2) return Fail(InvalidField("statuses", "unknown status"));
    f.statuses.push_back(static_cast<InvoiceStatus>(s));
  }
  absl::StatusOr<absl::optional<absl::CivilDay>> from = api::OptionalDate(req->issue_date_from(), "issue_date_from");
  if (!from.ok()) return Fail(from.status());
  absl::StatusOr<absl::optional<absl::CivilDay>> to = api::OptionalDate(req->issue_date_to(), "issue_date_to");
  if (!to.ok()) return Fail(to.status());
  f.issue_from = *from;
  f.issue_to = *to;
  absl::StatusOr<std::vector<Invoice>> rows = store_.ListInvoices(f, *before, *size + 1, DeadlineOf(*ctx));
  if (!rows.ok()) return Fail(rows.status());
  const bool more = server::TrimPage(*rows, *size);
  for (const auto& i : *rows) *resp->add_invoices() = ToProto(i);
  if (more) resp->set_next_page_token(api::EncodeIdPosition(page_tokens_, *req, rows->back().id));
  return grpc::Status::OK;
}

grpc::Status BillingServiceImpl::CancelInvoice(grpc::ServerContext* ctx,
                                               const v1::CancelInvoiceRequest* req,
                                               v1::Invoice* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = server::RequireId(req->id(), "id"); !s.ok()) return Fail(s);
  if (req->reason().empty()) return Fail(InvalidField("reason", "is required", "REQUIRED"));
  // The same cap as the other reasons (WriteOffInvoice, UnallocatePayment).
  if (absl::Status s = CheckMaxChars(req->reason(), "reason", 2000); !s.ok()) return Fail(s);
  const absl::Time now = clock_.Now();
  absl::StatusOr<Invoice> inv = store_.CancelInvoice(
      Write(*ctx, caller, "CancelInvoice", "", *req), req->id(), [&](Invoice& row) -> absl::Status {
        RETURN_IF_ERROR(api::CheckEtag(req->etag(), row.version));
        if (row.status == InvoiceStatus::kCancelled) {
          return WithReason(absl::FailedPreconditionError("the invoice is already cancelled"),
                            "ALREADY_CANCELLED");
        }
        row.status = InvoiceStatus::kCancelled;
        row.cancel_reason = req->reason();
        row.cancel_time = now;
        return absl::OkStatus();
      });
  if (!inv.ok()) return Fail(inv.status());
  *resp = ToProto(*inv);
  return grpc::Status::OK;
}

grpc::Status BillingServiceImpl::RequestInvoiceIssue(grpc::ServerContext* ctx,
                                                     const v1::RequestInvoiceIssueRequest* req,
                                                     v1::InvoiceIssueRequest* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = db::CheckRequestId(req->request_id()); !s.ok()) return Fail(s);
  if (absl::Status s = server::RequireId(req->project_id(), "project_id"); !s.ok()) return Fail(s);
  if (absl::Status s = CheckMaxChars(req->note(), "note", 2000); !s.ok()) return Fail(s);
  // The case must have a plan: there is nothing to invoice otherwise.
  if (absl::StatusOr<BillingPlan> plan = store_.GetPlan(req->project_id(), DeadlineOf(*ctx)); !plan.ok()) {
    return Fail(plan.status());
  }
  InvoiceIssueRequest r;
  r.project_id = req->project_id();
  r.entry_ids.assign(req->entry_ids().begin(), req->entry_ids().end());
  r.note = req->note();
  r.requested_by = caller.subject;
  r.request_time = clock_.Now();
  return server::ReplyFromBytes(store_.RequestInvoiceIssue(Write(*ctx, caller, "RequestInvoiceIssue", req->request_id(), *req),
                                              r,
                                              [](const InvoiceIssueRequest& x) { return ToProto(x).SerializeAsString(); }),
                   resp);
}

grpc::Status BillingServiceImpl::ListAuditEvents(grpc::ServerContext* ctx,
                                                 const v1::ListAuditEventsRequest* req,
                                                 v1::ListAuditEventsResponse* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = server::RequireId(req->project_id(), "project_id"); !s.ok()) return Fail(s);
  absl::StatusOr<int> size = api::PageSize(req->page_size());
  if (!size.ok()) return Fail(size.status());
  absl::StatusOr<int64_t> before = api::DecodeIdPosition(page_tokens_, *req, req->page_token());
  if (!before.ok()) return Fail(before.status());
  absl::StatusOr<std::vector<AuditEntry>> rows =
      store_.ListAuditEvents(req->project_id(), *before, *size + 1, DeadlineOf(*ctx));
  if (!rows.ok()) return Fail(rows.status());
  const bool more = server::TrimPage(*rows, *size);
  server::AuditEntriesToProto(*rows, resp->mutable_events());
  if (more) resp->set_next_page_token(api::EncodeIdPosition(page_tokens_, *req, rows->back().id));
  return grpc::Status::OK;
}

}  // namespace anken::billing
