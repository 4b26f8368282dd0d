// GetQuotePdf: a quote as a printable A4 御見積書 (common/pdf): the case's name as the subject,
// its customer (from the customer service) with 御中 or 様 by the customer's kind, the stored
// lines and per-rate totals, validity, and the company from ANKEN_ISSUER_*.

#include "absl/strings/str_cat.h"
#include "common/auth/auth_interceptor.h"
#include "common/log/log.h"
#include "common/pdf/document.h"
#include "common/pdf/render.h"
#include "common/server/handler.h"
#include "common/server/handler_kit.h"
#include "common/status/errors.h"
#include "services/project/project_service.h"

namespace anken::project {
namespace {

// "0000123-2": the case's number and the quote's number within the case.
std::string QuoteNumber(const Project& p, const Quote& q) {
  return absl::StrCat(p.number, "-", q.number);
}

pdf::Document QuoteDocument(const Project& p, const Quote& q, const CustomerInfo& customer,
                            const ProjectServiceOptions& options) {
  pdf::Document d;
  d.kind = pdf::DocumentKind::kQuote;
  d.number = QuoteNumber(p, q);
  d.issue_date = q.issue_date;
  d.valid_until = q.valid_until;
  d.subject = p.name;
  d.issuer.name = options.issuer_name;
  d.issuer.registration_number = options.issuer_registration_number;
  d.issuer.address = options.issuer_address;
  d.recipient.name = customer.name;
  d.recipient.honorific = customer.corporation ? pdf::Honorific::kOnchu : pdf::Honorific::kSama;
  for (const QuoteLine& l : q.lines) {
    pdf::Line line;
    line.description = l.description;
    line.quantity_milli = l.quantity_milli;
    line.unit = l.unit;
    line.unit_price = l.unit_price;
    line.amount = l.amount;
    line.tax_category = l.tax_category;
    d.lines.push_back(std::move(line));
  }
  d.totals = q.totals;
  if (!q.note.empty()) d.notes.push_back(q.note);
  return d;
}

}  // namespace

grpc::Status ProjectServiceImpl::GetQuotePdf(grpc::ServerContext* ctx,
                                             const v1::GetQuotePdfRequest* req,
                                             v1::GetQuotePdfResponse* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = server::RequireId(req->id(), "id"); !s.ok()) return ToGrpcStatus(s);
  const absl::Time deadline = server::DeadlineOf(*ctx);
  absl::StatusOr<Quote> quote = store_.GetQuote(req->id(), deadline);
  if (!quote.ok()) return ToGrpcStatus(quote.status());
  absl::StatusOr<Project> project = store_.GetProject(quote->project_id, deadline);
  if (!project.ok()) return ToGrpcStatus(project.status());
  absl::StatusOr<std::vector<CustomerInfo>> customer =
      customers_.Lookup({project->customer_id}, *ctx);
  if (!customer.ok()) return ToGrpcStatus(customer.status());
  if (customer->empty()) {
    return ToGrpcStatus(absl::UnavailableError("the customer service returned no customer"));
  }
  absl::StatusOr<std::string> pdf =
      pdf::RenderPdf(QuoteDocument(*project, *quote, customer->front(), options_));
  if (!pdf.ok()) {
    // The server's own problem (the font missing, cairo failing): logged, not shown.
    log::Error("quote pdf failed")
        .Int("quote_id", quote->id)
        .Str("error", pdf.status().ToString());
    return grpc::Status(grpc::StatusCode::INTERNAL, "the quote PDF could not be rendered");
  }
  resp->set_pdf(*std::move(pdf));
  resp->set_filename(absl::StrCat("見積書_", QuoteNumber(*project, *quote), ".pdf"));
  return grpc::Status::OK;
}

}  // namespace anken::project
