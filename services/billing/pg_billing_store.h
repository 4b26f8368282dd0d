#pragma once
// BillingStore on Postgres (schema `billing`, migrations/V001__init.sql). Every method is one
// Pool::Transact bounded by the caller's deadline (ctx.deadline for writes; reads run READ
// ONLY); nothing throws, and libpqxx errors become statuses by db::StatusFromException (the
// mapping of pg_status.h: a row that breaks a CHECK of the schema is FAILED_PRECONDITION).
//
// Choices the interface leaves open, so handlers and the in-memory fake can match them:
// - Instants are stored with microsecond precision: ctx.now (and cancel times) are truncated
//   to the microsecond first, so what a write returns equals what a later read returns.
// - Writes with an empty ctx.request_id are not idempotent (nothing is recorded); with one,
//   db::BeginIdempotent / FinishIdempotent run in the write's transaction under ctx.method
//   and ctx.request_hash (AddEntry, IssueInvoice, RequestInvoiceIssue, FinishRenewalRun).
// - Plans: planned entries are not stored apart. A read plan's planned_entries are its
//   entries without a period (lump-sum and split entries) by billing date, id, so a plan read
//   and set again keeps them; recurring plans have none. RenewalCandidates returns plans
//   without entries (the renewal needs the terms only).
// - SetPlan always writes (version + 1) and regenerates, even when nothing changed: it is
//   the explicit "re-plan" command. expected_version is checked only when the plan exists
//   (the API's etag is optional for a first plan). Concurrent first SetPlans of one case both
//   succeed, one after the other.
// - Tax estimates are tax::TaxFor(amount, category, kFloor); exempt entries have tax 0.
// - UpdateEntry: the store keeps what is not the mutator's to change (id, project, customer,
//   period, invoice id, tax, version); the tax is re-estimated when the amount or category
//   changed. An entry on an invoice keeps its dates, amount, category and description:
//   changing them is FAILED_PRECONDITION ("ENTRY_BILLED"); its status may move (PAID,
//   UNCOLLECTIBLE) within the schema's rules (BILLED and later exactly when on an invoice).
//   An unchanged entry is not written (no version bump, no audit event).
// - RemoveEntry checks, in order: NOT_FOUND ("ENTRY_NOT_FOUND"), ABORTED ("ETAG_MISMATCH"),
//   FAILED_PRECONDITION ("NOT_SPLIT_PLAN", then "ENTRY_NOT_UNBILLED").
// - ApplyRenewal: NOT_FOUND ("PLAN_NOT_FOUND") without a plan; a plan that is no longer
//   recurring returns false like one renewed meanwhile. Renewal entries take the plan's
//   customer and tax category. One audit event on the plan lists the entries created.
//   ApplyRenewals writes exactly what ApplyRenewal would for each plan (the same rows and
//   audit events), with one statement per kind of row for the whole batch.
// - Renewal failures: a plan has at most one open failure; recording another one for it
//   updates that row (code, reason, time, as_of, run), which keeps its id and so its place
//   in the list. failure_time defaults to ctx.now when unset (the epoch). A successful
//   ApplyRenewal resolves it.
// - Lock order (no deadlocks): a plan before its entries (SetPlan and ApplyRenewal FOR
//   UPDATE, entry writes FOR SHARE); several plans (ApplyRenewals) in project id order; an
//   invoice before its entries; several entries in id order.
// - IssueInvoice: INVALID_ARGUMENT when the invoice has no lines, a line repeats an entry or
//   entry_versions does not match the lines; ABORTED ("ENTRIES_CHANGED") as the interface
//   says. The store writes invoice.totals and the lines' allocated_tax as given (priced by
//   the caller) and sets id, number ("YYYY-NNNNNN" of the issue year), status ISSUED,
//   version 1 and stamps. Each entry gets an audit event besides the invoice's.
// - CancelInvoice: `mutate` runs first (a stale etag wins over a state error), may change only
//   status, cancel_reason and cancel_time and must set CANCELLED (INTERNAL otherwise);
//   cancel_time defaults to ctx.now. An invoice already cancelled is FAILED_PRECONDITION
//   ("INVOICE_CANCELLED").
// - RequestInvoiceIssue: NOT_FOUND ("PLAN_NOT_FOUND") when the case has no plan, NOT_FOUND
//   ("ENTRY_NOT_FOUND") for an entry id not of the case. requested_by defaults to ctx.actor,
//   request_time is ctx.now. The outbox payload is {"request_id","project_id","entry_ids",
//   "note","requested_by","request_time"}.
// - Audit events: resource types "plan", "entry", "invoice", "renewal_run",
//   "renewal_failure" (resource "plans/<project_id>") and "invoice_request"; change_json holds
//   changed fields as {"field":{"old":..,"new":..}} (a creation: {"field":{"new":..}}), enums
//   by name. ListAuditEvents lists "plans/<project_id>" and everything below it, plus the
//   events of the invoices that billed the case's entries and of the case's invoice-issue
//   requests (the proto's "plan, entries, invoices of its entries"); NOT_FOUND
//   ("PLAN_NOT_FOUND") when the case has no plan.
// - Not-found reasons: "PLAN_NOT_FOUND", "ENTRY_NOT_FOUND", "INVOICE_NOT_FOUND".

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/db/pool.h"
#include "services/billing/billing_store.h"

namespace anken::billing {

class PgBillingStore final : public BillingStore {
 public:
  // The schema every statement and the idempotency / audit tables use.
  static constexpr char kSchema[] = "billing";

  // `pool` must outlive the store.
  explicit PgBillingStore(db::Pool& pool) : pool_(pool) {}

  absl::StatusOr<BillingPlan> GetPlan(int64_t project_id, absl::Time deadline) override;
  absl::StatusOr<BillingPlan> SetPlan(const WriteContext& ctx, const BillingPlan& plan,
                                      const std::vector<PlannedEntry>& entries,
                                      absl::optional<int64_t> expected_version) override;

  absl::StatusOr<std::vector<BillingEntry>> ListEntries(const EntryFilter& filter,
                                                        const EntryPosition& after, int limit,
                                                        absl::Time deadline) override;
  absl::StatusOr<BillingEntry> GetEntry(int64_t id, absl::Time deadline) override;
  absl::StatusOr<std::string> AddEntry(const WriteContext& ctx, int64_t project_id,
                                       const PlannedEntry& entry,
                                       const Encoder<BillingEntry>& encode) override;
  absl::StatusOr<BillingEntry> UpdateEntry(
      const WriteContext& ctx, int64_t id,
      const std::function<absl::Status(BillingEntry&, Timing)>& mutate) override;
  absl::Status RemoveEntry(const WriteContext& ctx, int64_t id,
                           absl::optional<int64_t> expected_version) override;

  absl::StatusOr<std::vector<SalesMonthTotal>> SalesSummary(absl::CivilMonth from,
                                                            absl::CivilMonth to,
                                                            absl::Time deadline) override;

  absl::StatusOr<std::vector<BillingPlan>> RenewalCandidates(absl::CivilMonth month,
                                                             absl::Time deadline) override;
  absl::StatusOr<bool> ApplyRenewal(const WriteContext& ctx, int64_t run_id,
                                    const PlanRenewal& renewal) override;
  absl::StatusOr<std::vector<bool>> ApplyRenewals(const WriteContext& ctx, int64_t run_id,
                                                  const std::vector<PlanRenewal>& renewals) override;
  absl::Status RecordRenewalFailure(const WriteContext& ctx, int64_t run_id,
                                    const RenewalFailure& failure) override;
  absl::StatusOr<std::vector<std::pair<int64_t, RenewalFailure>>> ListRenewalFailures(
      bool include_resolved, int64_t before_id, int limit, absl::Time deadline) override;
  absl::StatusOr<int64_t> StartRenewalRun(const WriteContext& ctx, absl::CivilDay as_of) override;
  absl::StatusOr<std::string> FinishRenewalRun(const WriteContext& ctx, int64_t run_id,
                                               const std::string& response) override;
  absl::StatusOr<absl::optional<std::string>> FindReplay(const WriteContext& ctx) override;

  absl::StatusOr<std::vector<BillingEntry>> ReadyEntries(int64_t customer_id,
                                                         const std::vector<int64_t>& ids,
                                                         absl::Time deadline) override;
  absl::StatusOr<std::string> IssueInvoice(const WriteContext& ctx, const Invoice& invoice,
                                           const std::vector<int64_t>& entry_versions,
                                           const Encoder<Invoice>& encode) override;
  absl::StatusOr<Invoice> GetInvoice(int64_t id, absl::Time deadline) override;
  absl::StatusOr<std::vector<Invoice>> ListInvoices(const InvoiceFilter& filter,
                                                    int64_t before_id, int limit,
                                                    absl::Time deadline) override;
  absl::StatusOr<Invoice> CancelInvoice(const WriteContext& ctx, int64_t id,
                                        const Mutator<Invoice>& mutate) override;

  absl::StatusOr<std::string> RequestInvoiceIssue(
      const WriteContext& ctx, const InvoiceIssueRequest& request,
      const Encoder<InvoiceIssueRequest>& encode) override;

  absl::StatusOr<std::vector<OutboxNotification>> PendingNotifications(
      int limit, absl::Time deadline) override;
  absl::StatusOr<bool> MarkNotificationDelivered(int64_t id, absl::Time now,
                                                 absl::Time deadline) override;

  // ---- payments, reconciliation and receivables: defined in pg_payments.cc ----
  // PAYMENTS-SECTION: declarations go here.
  absl::StatusOr<std::map<std::string, int64_t>> LearntPayers(absl::Time deadline) override;
  absl::StatusOr<std::string> RecordPayments(const WriteContext& ctx, const PaymentBatch& batch,
                                             const PayerMatcher& matcher,
                                             const Encoder<PaymentBatchResult>& encode) override;
  absl::StatusOr<std::vector<PaymentRecord>> ListPayments(const PaymentFilter& filter,
                                                          const PaymentPosition& after, int limit,
                                                          absl::Time deadline) override;
  absl::StatusOr<std::string> AllocatePayment(const WriteContext& ctx,
                                              const ManualAllocation& allocation,
                                              const Encoder<PaymentRecord>& encode) override;
  absl::StatusOr<PaymentRecord> UnallocatePayment(
      const WriteContext& ctx, int64_t payment_id, const std::string& reason,
      absl::optional<int64_t> expected_version) override;
  absl::StatusOr<std::vector<OpenInvoice>> OpenInvoices(int64_t customer_id,
                                                        absl::Time deadline) override;
  absl::StatusOr<std::vector<ReceivableInvoice>> OverdueInvoices(
      absl::CivilDay as_of, int64_t customer_id, const OverduePosition& after, int limit,
      absl::Time deadline) override;
  absl::StatusOr<Invoice> WriteOffInvoice(const WriteContext& ctx, int64_t id,
                                          const std::string& reason,
                                          absl::optional<int64_t> expected_version) override;
  // The invoice reader of pg_billing_store.cc (row, lines and rate totals), for pg_payments.cc.
  static absl::StatusOr<Invoice> InvoiceRow(pqxx::work& tx, int64_t id, bool lock);

  // ---- missed billing and partner commissions: defined in pg_commissions.cc ----
  // COMMISSIONS-SECTION: declarations go here.
  absl::StatusOr<std::vector<BillingPlan>> PlansOfCases(const std::vector<int64_t>& project_ids,
                                                        absl::Time deadline) override;
  absl::StatusOr<std::string> ChargeCommission(const WriteContext& ctx,
                                               const CommissionRequest& request,
                                               const Encoder<CommissionCharge>& encode) override;
  // The row readers of pg_billing_store.cc (ANKEN_PLAN_COLUMNS / ANKEN_ENTRY_COLUMNS rows),
  // so that the store's other files read plans and entries the same way.
  static BillingPlan PlanRow(const pqxx::row& r);
  static std::vector<BillingEntry> EntryRows(const pqxx::result& rows);

  absl::StatusOr<std::vector<AuditEntry>> ListAuditEvents(int64_t project_id, int64_t before_id,
                                                          int limit, absl::Time deadline) override;

 private:
  db::Pool& pool_;
};

}  // namespace anken::billing
