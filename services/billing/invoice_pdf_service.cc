// GetInvoicePdf: the stored invoice as a printable A4 PDF (common/pdf). Everything printed
// comes from the invoice as issued (issuer and T-number, lines, per-rate totals frozen at
// issue, and since V003 the issuer's address and bank account too), so the same invoice
// renders to the same bytes even after the configuration changes.

#include "absl/strings/str_cat.h"
#include "common/auth/auth_interceptor.h"
#include "common/clock/clock.h"
#include "common/log/log.h"
#include "common/pdf/document.h"
#include "common/pdf/render.h"
#include "common/server/handler.h"
#include "common/server/handler_kit.h"
#include "common/status/errors.h"
#include "services/billing/billing_service.h"

namespace anken::billing {
namespace {

pdf::Document InvoiceDocument(const Invoice& inv, const BillingServiceOptions& options) {
  pdf::Document d;
  d.kind = pdf::DocumentKind::kInvoice;
  d.number = inv.number;
  d.issue_date = inv.issue_date;
  d.due_date = inv.due_date;
  // The address and bank account frozen on the invoice at issue. The rule for invoices issued
  // before V003 stored them (NULL, nullopt here): the configured ones (ANKEN_ISSUER_ADDRESS /
  // ANKEN_ISSUER_BANK_ACCOUNT), the only record there is of what was printed then.
  d.bank_account = inv.issuer_bank_account.value_or(options.issuer_bank_account);
  d.issuer.name = inv.issuer_name;
  d.issuer.registration_number = inv.issuer_registration_number;
  d.issuer.address = inv.issuer_address.value_or(options.issuer_address);
  // The invoice keeps the recipient's name only; its form tells a company from a person.
  d.recipient.name = inv.recipient_name;
  d.recipient.honorific = pdf::GuessHonorific(inv.recipient_name);
  for (const InvoiceLine& l : inv.lines) {
    // A billing entry is one amount: quantity 1 at that price.
    pdf::Line line;
    line.description = l.description;
    line.quantity_milli = 1000;
    line.unit_price = l.amount;
    line.amount = l.amount;
    line.tax_category = l.tax_category;
    d.lines.push_back(std::move(line));
  }
  d.totals = inv.totals;
  if (inv.status == InvoiceStatus::kCancelled) {
    d.cancelled = true;
    if (inv.cancel_time.has_value()) {
      d.cancel_date = absl::ToCivilDay(*inv.cancel_time, TokyoTimeZone());
    }
    d.cancel_reason = inv.cancel_reason;
    if (!inv.cancel_reason.empty()) d.notes.push_back(absl::StrCat("取消理由：", inv.cancel_reason));
  }
  return d;
}

}  // namespace

grpc::Status BillingServiceImpl::GetInvoicePdf(grpc::ServerContext* ctx,
                                               const v1::GetInvoicePdfRequest* req,
                                               v1::GetInvoicePdfResponse* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = server::RequireId(req->id(), "id"); !s.ok()) return ToGrpcStatus(s);
  absl::StatusOr<Invoice> inv = store_.GetInvoice(req->id(), server::DeadlineOf(*ctx));
  if (!inv.ok()) return ToGrpcStatus(inv.status());
  absl::StatusOr<std::string> pdf = pdf::RenderPdf(InvoiceDocument(*inv, options_));
  if (!pdf.ok()) {
    // The server's own problem (the font missing, cairo failing): logged, not shown.
    log::Error("invoice pdf failed")
        .Int("invoice_id", inv->id)
        .Str("error", pdf.status().ToString());
    return grpc::Status(grpc::StatusCode::INTERNAL, "the invoice PDF could not be rendered");
  }
  resp->set_pdf(*std::move(pdf));
  resp->set_filename(absl::StrCat("請求書_", inv->number, ".pdf"));
  return grpc::Status::OK;
}

}  // namespace anken::billing
