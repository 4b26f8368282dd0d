#pragma once
// gRPC handlers of anken.billing.v1.BillingService: scope checks, proto <-> domain, the pure
// rules (recurrence.h, invoice_rules.h), the store and the peers (cases from the project
// service, the invoiced customer from the customer service).

#include <cstddef>
#include <string>

#include "anken/billing/v1/billing_service.grpc.pb.h"
#include "common/api/page_token.h"
#include "common/auth/auth.h"
#include "common/clock/clock.h"
#include "common/tax/tax.h"
#include "services/billing/billing_store.h"
#include "services/billing/payer_directory.h"
#include "services/billing/peers.h"

namespace anken::billing {

struct BillingServiceOptions {
  // ANKEN_TAX_ROUNDING: frozen onto each issued invoice.
  tax::Rounding rounding = tax::Rounding::kFloor;
  // ANKEN_ISSUER_NAME / ANKEN_ISSUER_REGISTRATION_NUMBER: the qualified-invoice issuer.
  std::string issuer_name;
  std::string issuer_registration_number;
  // ANKEN_ISSUER_ADDRESS / ANKEN_ISSUER_BANK_ACCOUNT: printed on invoice PDFs when set.
  std::string issuer_address;
  std::string issuer_bank_account;
  // ANKEN_BANK_FEE_TOLERANCE: the largest shortfall (yen) of a payment that reconciliation
  // books as the bank's transfer fee (振込手数料) instead of leaving it open.
  int64_t bank_fee_tolerance = 880;
};

// INVALID_ARGUMENT "TOO_LONG" on `field` when `value` has more than `max_chars` characters
// (code points, as customer_rules counts them: a cap of 2,000 admits 2,000 kanji). The cap of
// the free-text fields of billing's write requests (reasons, notes, payment texts).
absl::Status CheckMaxChars(const std::string& value, absl::string_view field, size_t max_chars);

class BillingServiceImpl final : public v1::BillingService::Service {
 public:
  BillingServiceImpl(BillingStore& store, Peers& peers, const Clock& clock,
                     const api::PageTokenCodec& page_tokens, BillingServiceOptions options)
      : store_(store), peers_(peers), clock_(clock), page_tokens_(page_tokens),
        options_(std::move(options)), payers_(peers, clock) {}

  static auth::MethodRoles Roles();

  grpc::Status SetBillingPlan(grpc::ServerContext*, const v1::SetBillingPlanRequest*,
                              v1::BillingPlan*) override;
  grpc::Status GetBillingPlan(grpc::ServerContext*, const v1::GetBillingPlanRequest*,
                              v1::BillingPlan*) override;
  grpc::Status ListBillingEntries(grpc::ServerContext*, const v1::ListBillingEntriesRequest*,
                                  v1::ListBillingEntriesResponse*) override;
  grpc::Status AddBillingEntry(grpc::ServerContext*, const v1::AddBillingEntryRequest*,
                               v1::BillingEntry*) override;
  grpc::Status UpdateBillingEntry(grpc::ServerContext*, const v1::UpdateBillingEntryRequest*,
                                  v1::BillingEntry*) override;
  grpc::Status RemoveBillingEntry(grpc::ServerContext*, const v1::RemoveBillingEntryRequest*,
                                  v1::RemoveBillingEntryResponse*) override;
  grpc::Status SetEntryStatus(grpc::ServerContext*, const v1::SetEntryStatusRequest*,
                              v1::BillingEntry*) override;
  grpc::Status GetSalesSummary(grpc::ServerContext*, const v1::GetSalesSummaryRequest*,
                               v1::SalesSummary*) override;
  grpc::Status RunRenewals(grpc::ServerContext*, const v1::RunRenewalsRequest*,
                           v1::RenewalRun*) override;
  grpc::Status PreviewRenewals(grpc::ServerContext*, const v1::PreviewRenewalsRequest*,
                               v1::RenewalRun*) override;
  grpc::Status ListRenewalFailures(grpc::ServerContext*, const v1::ListRenewalFailuresRequest*,
                                   v1::ListRenewalFailuresResponse*) override;
  grpc::Status IssueInvoice(grpc::ServerContext*, const v1::IssueInvoiceRequest*,
                            v1::Invoice*) override;
  grpc::Status GetInvoice(grpc::ServerContext*, const v1::GetInvoiceRequest*, v1::Invoice*) override;
  grpc::Status ListInvoices(grpc::ServerContext*, const v1::ListInvoicesRequest*,
                            v1::ListInvoicesResponse*) override;
  grpc::Status CancelInvoice(grpc::ServerContext*, const v1::CancelInvoiceRequest*,
                             v1::Invoice*) override;
  grpc::Status RequestInvoiceIssue(grpc::ServerContext*, const v1::RequestInvoiceIssueRequest*,
                                   v1::InvoiceIssueRequest*) override;
  grpc::Status ListAuditEvents(grpc::ServerContext*, const v1::ListAuditEventsRequest*,
                               v1::ListAuditEventsResponse*) override;

  // ---- documents: defined in invoice_pdf_service.cc ----
  grpc::Status GetInvoicePdf(grpc::ServerContext*, const v1::GetInvoicePdfRequest*,
                             v1::GetInvoicePdfResponse*) override;

  // ---- payments, reconciliation and receivables: defined in payment_service.cc ----
  grpc::Status RecordPayment(grpc::ServerContext*, const v1::RecordPaymentRequest*,
                             v1::Payment*) override;
  grpc::Status ImportBankStatement(grpc::ServerContext*, const v1::ImportBankStatementRequest*,
                                   v1::ImportBankStatementResponse*) override;
  grpc::Status ListPayments(grpc::ServerContext*, const v1::ListPaymentsRequest*,
                            v1::ListPaymentsResponse*) override;
  grpc::Status AllocatePayment(grpc::ServerContext*, const v1::AllocatePaymentRequest*,
                               v1::Payment*) override;
  grpc::Status UnallocatePayment(grpc::ServerContext*, const v1::UnallocatePaymentRequest*,
                                 v1::Payment*) override;
  grpc::Status ListOverdueInvoices(grpc::ServerContext*, const v1::ListOverdueInvoicesRequest*,
                                   v1::ListOverdueInvoicesResponse*) override;
  grpc::Status GetAgingSummary(grpc::ServerContext*, const v1::GetAgingSummaryRequest*,
                               v1::AgingSummary*) override;
  grpc::Status WriteOffInvoice(grpc::ServerContext*, const v1::WriteOffInvoiceRequest*,
                               v1::Invoice*) override;
  // PAYMENTS-SECTION: more declarations go here.
  // The role table rows of the methods above; Roles() adds them.
  static void AllowPaymentMethods(auth::MethodRoles& roles);
  // An invoice as the API shows it (billing_service.cc), for WriteOffInvoice.
  static v1::Invoice InvoiceToProto(const Invoice& invoice);

  // ---- missed billing and partner commissions: defined in commission_service.cc ----
  grpc::Status ListMissedBilling(grpc::ServerContext*, const v1::ListMissedBillingRequest*,
                                 v1::ListMissedBillingResponse*) override;
  grpc::Status CreateCommissionCharge(grpc::ServerContext*,
                                      const v1::CreateCommissionChargeRequest*,
                                      v1::CommissionCharge*) override;
  // COMMISSIONS-SECTION: more declarations go here.
  // Adds the roles of the two methods above to Roles()' table.
  static void AddCommissionRoles(auth::MethodRoles& roles);
  // The API form of an entry (billing_service.cc's conversion), for the charge's entries.
  static v1::BillingEntry EntryToProto(const BillingEntry& entry);

 private:
  WriteContext Write(const grpc::ServerContext& ctx, const auth::Principal& caller,
                     absl::string_view method, const std::string& request_id,
                     const google::protobuf::Message& request) const;
  // The renewals due on as_of and (when `write`) their application; shared by RunRenewals and
  // PreviewRenewals.
  absl::StatusOr<v1::RenewalRun> Renew(const grpc::ServerContext& ctx, const WriteContext* write,
                                       absl::CivilDay as_of);

  BillingStore& store_;
  Peers& peers_;
  const Clock& clock_;
  const api::PageTokenCodec& page_tokens_;
  const BillingServiceOptions options_;
  // The customers' names for payer matching, kept between payment calls.
  PayerDirectory payers_;
};

}  // namespace anken::billing
