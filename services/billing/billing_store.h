#pragma once
// Storage of the billing service: one Postgres implementation (pg_billing_store.h); every
// method is one transaction (RunRenewals is many: one per batch of plans) and nothing throws.
// Conventions as in customer_store.h: creates are idempotent by WriteContext::request_id;
// updates lock the row and call `mutate`, then save with version + 1; every write records an
// audit event in the same transaction. Audit resource ids: "plans/<project_id>",
// "plans/<project_id>/entries/<id>", "invoices/<id>", "renewal_runs/<id>",
// "invoice_requests/<id>".

#include <cstdint>
#include <functional>
#include <map>
#include <utility>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "common/db/write_context.h"
#include "services/billing/billing.h"
#include "services/billing/payment_rules.h"
#include "services/billing/payments.h"

namespace anken::billing {

using db::AuditEntry;
using db::Encoder;
using db::Mutator;
using db::WriteContext;

struct EntryFilter {
  int64_t project_id = 0;
  int64_t customer_id = 0;
  std::vector<EntryStatus> statuses;
  absl::optional<absl::CivilDay> billing_from, billing_to;
  absl::optional<absl::CivilDay> revenue_from, revenue_to;
};

// Keyset position of entry lists: (billing_date, id).
struct EntryPosition {
  absl::optional<absl::CivilDay> billing_date;  // nullopt = first page
  int64_t id = 0;
};

struct InvoiceFilter {
  int64_t customer_id = 0;
  std::vector<InvoiceStatus> statuses;
  absl::optional<absl::CivilDay> issue_from, issue_to;
};

// A row of billing.notification_outbox not yet handed to the scheduler.
struct OutboxNotification {
  int64_t id = 0;
  std::string kind;     // "invoice_issue_request"
  std::string payload;  // JSON object text (see pg_billing_store.h for its fields)
  absl::Time created_at;
};

struct SalesMonthTotal {
  absl::CivilMonth month;
  tax::Category category = tax::Category::kStandard;
  int64_t amount = 0;
  int64_t invoiced_amount = 0;  // BILLED, PAID, UNCOLLECTIBLE
};

class BillingStore {
 public:
  virtual ~BillingStore() = default;

  // NOT_FOUND ("PLAN_NOT_FOUND") when the case has no plan. Entries by billing date, id.
  virtual absl::StatusOr<BillingPlan> GetPlan(int64_t project_id, absl::Time deadline) = 0;
  // Creates or replaces the plan of plan.project_id (expected_version, when set, must be the
  // current version: ABORTED "ETAG_MISMATCH"). Then regenerates: every UNBILLED entry of the
  // plan is deleted, and each of `entries` is inserted unless an entry of the same non-empty
  // period remains (READY, BILLED, PAID or UNCOLLECTIBLE entries are never touched). New
  // entries get tax = TaxFor(amount, plan.tax_category, floor) as the estimate. Returns the
  // plan with its entries.
  virtual absl::StatusOr<BillingPlan> SetPlan(const WriteContext& ctx, const BillingPlan& plan,
                                              const std::vector<PlannedEntry>& entries,
                                              absl::optional<int64_t> expected_version) = 0;

  virtual absl::StatusOr<std::vector<BillingEntry>> ListEntries(const EntryFilter& filter,
                                                                const EntryPosition& after,
                                                                int limit, absl::Time deadline) = 0;
  virtual absl::StatusOr<BillingEntry> GetEntry(int64_t id, absl::Time deadline) = 0;
  // Adds an UNBILLED entry to a SPLIT plan (FAILED_PRECONDITION "NOT_SPLIT_PLAN" otherwise;
  // NOT_FOUND without a plan). Idempotent by ctx.request_id.
  virtual absl::StatusOr<std::string> AddEntry(const WriteContext& ctx, int64_t project_id,
                                               const PlannedEntry& entry,
                                               const Encoder<BillingEntry>& encode) = 0;
  // `mutate` gets the locked entry and its plan's timing (kLumpSum for a commission entry,
  // which has no plan); tax is re-estimated when the amount changed.
  virtual absl::StatusOr<BillingEntry> UpdateEntry(
      const WriteContext& ctx, int64_t id,
      const std::function<absl::Status(BillingEntry&, Timing)>& mutate) = 0;
  // Deletes an UNBILLED entry of a SPLIT plan (FAILED_PRECONDITION otherwise); expected
  // version when set (ABORTED).
  virtual absl::Status RemoveEntry(const WriteContext& ctx, int64_t id,
                                   absl::optional<int64_t> expected_version) = 0;

  // Per revenue month and tax category over [from, to].
  virtual absl::StatusOr<std::vector<SalesMonthTotal>> SalesSummary(absl::CivilMonth from,
                                                                    absl::CivilMonth to,
                                                                    absl::Time deadline) = 0;

  // ---- renewal ----
  // Plans that are RECURRING with auto_renew and whose end month is before `month`.
  virtual absl::StatusOr<std::vector<BillingPlan>> RenewalCandidates(absl::CivilMonth month,
                                                                     absl::Time deadline) = 0;
  // One plan's renewal in one transaction: locks the plan; when its end month is still
  // renewal.old_end_month, inserts the entries (ON CONFLICT (project_id, period) DO NOTHING —
  // a concurrent run's entries are never doubled), sets the new end month and resolves the
  // plan's open failures; otherwise (another run renewed it meanwhile) does nothing and
  // returns false.
  virtual absl::StatusOr<bool> ApplyRenewal(const WriteContext& ctx, int64_t run_id,
                                            const PlanRenewal& renewal) = 0;
  // ApplyRenewal for several plans in one transaction (RunRenewals' batches): locks the plans
  // in project id order, then, for each renewal whose plan still ends at old_end_month,
  // inserts its entries, sets the new end month and resolves the plan's open failure, with
  // the plan's audit event — all set-based. Returns, per renewal in order, true when applied
  // and false when renewed meanwhile. Any error (a plan gone: NOT_FOUND "PLAN_NOT_FOUND"; a
  // row the schema refuses) writes nothing at all: the caller then applies the batch's plans
  // one by one to tell the bad plan from the good ones. Renewals of one plan twice in a call
  // are INVALID_ARGUMENT.
  virtual absl::StatusOr<std::vector<bool>> ApplyRenewals(
      const WriteContext& ctx, int64_t run_id, const std::vector<PlanRenewal>& renewals) = 0;
  virtual absl::Status RecordRenewalFailure(const WriteContext& ctx, int64_t run_id,
                                            const RenewalFailure& failure) = 0;
  // Newest first, ids < before_id; only unresolved ones unless include_resolved.
  virtual absl::StatusOr<std::vector<std::pair<int64_t, RenewalFailure>>> ListRenewalFailures(
      bool include_resolved, int64_t before_id, int limit, absl::Time deadline) = 0;
  // A run record (as_of, who, when); its id ties renewals and failures together.
  virtual absl::StatusOr<int64_t> StartRenewalRun(const WriteContext& ctx,
                                                  absl::CivilDay as_of) = 0;
  // Stores the finished run's response under ctx.request_id (idempotency) and returns the
  // bytes stored — the earlier ones when another call with the same request_id finished
  // first.
  virtual absl::StatusOr<std::string> FinishRenewalRun(const WriteContext& ctx, int64_t run_id,
                                                       const std::string& response) = 0;
  // The stored response of a completed call with ctx's method and request_id (nullopt when
  // none); INVALID_ARGUMENT REQUEST_ID_REUSED for another request.
  virtual absl::StatusOr<absl::optional<std::string>> FindReplay(const WriteContext& ctx) = 0;

  // ---- invoices ----
  // The READY entries of `customer_id` (all, or those in `ids`), by billing date.
  virtual absl::StatusOr<std::vector<BillingEntry>> ReadyEntries(int64_t customer_id,
                                                                 const std::vector<int64_t>& ids,
                                                                 absl::Time deadline) = 0;
  // One transaction: locks the invoice's entries and checks each is still READY, of the
  // customer and at the version read (ABORTED "ENTRIES_CHANGED" otherwise); takes the next
  // number of the issue year (a per-year counter, gapless); inserts the invoice and its lines;
  // moves the entries to BILLED with their allocated tax and invoice id. Idempotent by
  // ctx.request_id. `entry_versions[i]` is the version of invoice.lines[i]'s entry as read.
  virtual absl::StatusOr<std::string> IssueInvoice(const WriteContext& ctx, const Invoice& invoice,
                                                   const std::vector<int64_t>& entry_versions,
                                                   const Encoder<Invoice>& encode) = 0;
  virtual absl::StatusOr<Invoice> GetInvoice(int64_t id, absl::Time deadline) = 0;
  // Newest first (id descending), ids < before_id.
  virtual absl::StatusOr<std::vector<Invoice>> ListInvoices(const InvoiceFilter& filter,
                                                            int64_t before_id, int limit,
                                                            absl::Time deadline) = 0;
  // Locks the invoice, calls `mutate` (which sets CANCELLED, reason, time), saves it, and
  // returns its entries to READY with invoice_id 0 and the tax estimate again; entries that
  // are PAID or UNCOLLECTIBLE make it FAILED_PRECONDITION ("INVOICE_PAID").
  virtual absl::StatusOr<Invoice> CancelInvoice(const WriteContext& ctx, int64_t id,
                                                const Mutator<Invoice>& mutate) = 0;

  // Records the request and, in the same transaction, a notification for the scheduler
  // (billing.notification_outbox, kind "invoice_issue_request"). Idempotent by request_id.
  virtual absl::StatusOr<std::string> RequestInvoiceIssue(
      const WriteContext& ctx, const InvoiceIssueRequest& request,
      const Encoder<InvoiceIssueRequest>& encode) = 0;

  // ---- notification outbox (read by the relay, outbox_relay.h) ----
  // Up to `limit` undelivered notifications, oldest (lowest id) first. A plain read: no lock
  // is held after it returns, so replicas may read the same rows (the scheduler dedups).
  virtual absl::StatusOr<std::vector<OutboxNotification>> PendingNotifications(
      int limit, absl::Time deadline) = 0;
  // Sets delivered_at = now when the row is still undelivered; true when this call set it,
  // false when it was already delivered. NOT_FOUND ("NOTIFICATION_NOT_FOUND") for an unknown id.
  virtual absl::StatusOr<bool> MarkNotificationDelivered(int64_t id, absl::Time now,
                                                         absl::Time deadline) = 0;

  // Newest first: "plans/<project_id>" and everything below it.
  // ---- payments, reconciliation and receivables (pg_payments.cc) ----
  // PAYMENTS-SECTION: declarations go here.
  // Numbering as in the API and the schema (V002): source 1 MANUAL, 2 ZENGIN, 3 CSV; status
  // 1 UNMATCHED, 2 PARTIALLY_ALLOCATED, 3 ALLOCATED; match 1 UNMATCHED .. 5 OVERPAYMENT as
  // ChooseInvoices decides (MatchKind + 1), 6 MANUAL.
  enum class PaymentSource { kManual = 1, kZengin = 2, kCsv = 3 };
  enum class PaymentStatus { kUnmatched = 1, kPartiallyAllocated = 2, kAllocated = 3 };
  enum class PaymentMatch {
    kUnmatched = 1, kMatched = 2, kMatchedWithFee = 3, kPartial = 4, kOverpayment = 5,
    kManual = 6,
  };

  // An allocation in force (reversed ones are kept in the table, never listed).
  struct PaymentAllocation {
    int64_t id = 0;
    int64_t invoice_id = 0;
    std::string invoice_number;
    int64_t amount = 0;  // cash of the payment
    int64_t fee = 0;     // booked as a bank fee
    bool manual = false;
  };

  struct PaymentRecord {
    Payment payment;  // id, date, amount, payer name, reference, memo, source_key
    PaymentSource source = PaymentSource::kManual;
    int64_t customer_id = 0;
    PaymentStatus status = PaymentStatus::kUnmatched;
    PaymentMatch match = PaymentMatch::kUnmatched;
    std::string unmatched_reason;  // NO_PAYER_NAME, UNKNOWN_PAYER, ... (v1 Payment)
    std::string match_detail;
    std::vector<int64_t> candidates;
    std::vector<PaymentAllocation> allocations;  // by id
    int64_t allocated_amount = 0;  // cash allocated (fees are not cash)
    int64_t credit = 0;
    int64_t version = 0;
    Stamp stamp;

    int64_t Unallocated() const { return payment.amount - allocated_amount - credit; }
  };

  // Payments to record and reconcile in one transaction (RecordPayment: one; an import: a
  // statement's deposits in file order, each with its source_key).
  struct PaymentBatch {
    PaymentSource source = PaymentSource::kManual;
    std::string account;  // imports: the statement's account(s), kept on bank_imports
    std::vector<Payment> payments;
    int64_t fee_tolerance = 0;  // yen; ChooseInvoices's tolerance
  };
  struct PaymentBatchResult {
    std::vector<PaymentRecord> created;  // in the batch's order; duplicates left out
    int duplicate_count = 0;
  };

  // A person's allocation (AllocatePayment).
  struct ManualAllocation {
    int64_t payment_id = 0;
    int64_t customer_id = 0;
    std::vector<Allocation> lines;  // invoice_id, amount, fee
    int64_t credit = 0;
    absl::optional<int64_t> expected_version;
  };

  struct PaymentFilter {
    std::vector<PaymentStatus> statuses;
    int64_t customer_id = 0;
    absl::optional<absl::CivilDay> from, to;
  };
  // Keyset position of payment lists: (payment_date, id), newest first.
  struct PaymentPosition {
    absl::optional<absl::CivilDay> date;  // nullopt = first page
    int64_t id = 0;
  };

  // An open invoice with what the overdue list shows of it.
  struct ReceivableInvoice {
    OpenInvoice open;
    std::string number;
    std::string recipient_name;
  };
  // Keyset position of the overdue list: (due_date, issue_date, id), oldest due first.
  struct OverduePosition {
    absl::optional<absl::CivilDay> due_date;  // nullopt = first page
    absl::CivilDay issue_date;
    int64_t id = 0;
  };

  // The payer keys (PayerKey) a person matched by hand, and their customers.
  virtual absl::StatusOr<std::map<std::string, int64_t>> LearntPayers(absl::Time deadline) = 0;
  // One transaction, idempotent by ctx.request_id. Inserts the payments (a line whose
  // source_key is already stored is a duplicate: counted, not inserted, nothing changed);
  // matches each new one's payer with `matcher`; locks the open invoices of the customers
  // matched (in id order) and reconciles the payments in order with ReconcilePayment on the
  // balances as locked, each seeing what the ones before it took; writes the allocations,
  // the invoices' paid amounts and, for an invoice settled, its BILLED entries → PAID. An
  // import (source not MANUAL) also records a bank_imports row. Audited ("payments/<id>",
  // "invoices/<id>", the entries). Set-based: a statement per kind of row for the whole
  // batch (the payments are reconciled on the balances read just before and inserted in
  // their final state; when the locked balances differ from those read, they are reconciled
  // again and rewritten). A MANUAL batch holds one payment (INVALID_ARGUMENT otherwise).
  virtual absl::StatusOr<std::string> RecordPayments(
      const WriteContext& ctx, const PaymentBatch& batch, const PayerMatcher& matcher,
      const Encoder<PaymentBatchResult>& encode) = 0;
  // Newest payment date first, then id descending.
  virtual absl::StatusOr<std::vector<PaymentRecord>> ListPayments(const PaymentFilter& filter,
                                                                  const PaymentPosition& after,
                                                                  int limit,
                                                                  absl::Time deadline) = 0;
  // One transaction, idempotent by ctx.request_id: locks the payment (NOT_FOUND
  // "PAYMENT_NOT_FOUND"; ABORTED "ETAG_MISMATCH"), then the named invoices in id order
  // (NOT_FOUND "INVOICE_NOT_FOUND"), checks the lines with CheckManualAllocation against the
  // customer's open ones and the payment's unallocated amount less the credit, and books
  // them as by RecordPayments (manual, match MANUAL). The payer's key is remembered for the
  // customer (payer_mappings). A payment already allocated to another customer is
  // FAILED_PRECONDITION "OTHER_CUSTOMER".
  virtual absl::StatusOr<std::string> AllocatePayment(const WriteContext& ctx,
                                                      const ManualAllocation& allocation,
                                                      const Encoder<PaymentRecord>& encode) = 0;
  // Marks every allocation in force of the payment reversed (with the reason), gives the
  // invoices their balances back (their PAID entries → BILLED), drops the credit, forgets a
  // payer mapping learnt from this payment, and puts the payment back in the queue
  // (UNMATCHED, no customer). NOT_FOUND, ABORTED as above; FAILED_PRECONDITION
  // "NOTHING_ALLOCATED", "INVOICE_WRITTEN_OFF".
  virtual absl::StatusOr<PaymentRecord> UnallocatePayment(
      const WriteContext& ctx, int64_t payment_id, const std::string& reason,
      absl::optional<int64_t> expected_version) = 0;
  // Issued invoices with a balance, of one customer (0: all), by customer, due date, id.
  virtual absl::StatusOr<std::vector<OpenInvoice>> OpenInvoices(int64_t customer_id,
                                                                absl::Time deadline) = 0;
  // Issued invoices with a balance whose due date is before as_of (customer 0: all), after
  // `after` in (due_date, issue_date, id) order.
  virtual absl::StatusOr<std::vector<ReceivableInvoice>> OverdueInvoices(
      absl::CivilDay as_of, int64_t customer_id, const OverduePosition& after, int limit,
      absl::Time deadline) = 0;
  // Writes the open balance of an issued invoice off (回収不能) with the reason: its BILLED
  // entries → UNCOLLECTIBLE. NOT_FOUND "INVOICE_NOT_FOUND"; ABORTED "ETAG_MISMATCH";
  // FAILED_PRECONDITION "INVOICE_CANCELLED", "ALREADY_WRITTEN_OFF", "NOTHING_OPEN".
  virtual absl::StatusOr<Invoice> WriteOffInvoice(const WriteContext& ctx, int64_t id,
                                                  const std::string& reason,
                                                  absl::optional<int64_t> expected_version) = 0;

  // ---- missed billing and partner commissions (pg_commissions.cc) ----
  // COMMISSIONS-SECTION: declarations go here.
  enum class CommissionKind { kCompletion = 1, kAdditionalOrder = 2, kRepeatOrder = 3 };

  // A partner commission charge (紹介手数料): one per (project_id, charge_key).
  struct CommissionCharge {
    int64_t id = 0;
    int64_t project_id = 0;  // the referred case
    int64_t partner_id = 0;  // the partner store billed
    std::string charge_key;  // "completion", "extra:<n>"
    CommissionKind kind = CommissionKind::kCompletion;
    int64_t construction_amount = 0;  // the latest
    absl::CivilDay completion_date;
    absl::CivilMonth report_month;
    int64_t rate_bp = 0;     // the partner's rate when first charged
    int64_t commission = 0;  // Commission(construction_amount, rate_bp) = Σ entries' amounts
    std::vector<BillingEntry> entries;  // oldest first
    int64_t version = 0;
    Stamp stamp;
  };

  // What a partner is charged (CreateCommissionCharge), the peers already consulted.
  struct CommissionRequest {
    int64_t project_id = 0;
    int64_t partner_id = 0;
    std::string charge_key;
    CommissionKind kind = CommissionKind::kCompletion;
    int64_t construction_amount = 0;
    absl::CivilDay completion_date;
    absl::CivilMonth report_month;
    int64_t rate_bp = 0;  // the partner's current rate; used when the charge is new
    std::string description;             // of the first entry
    std::string adjustment_description;  // of an adjusting entry
  };

  // The plans of `project_ids` with their PLAN entries (no planned_entries), by project id;
  // cases without a plan are left out.
  virtual absl::StatusOr<std::vector<BillingPlan>> PlansOfCases(
      const std::vector<int64_t>& project_ids, absl::Time deadline) = 0;
  // One transaction, idempotent by ctx.request_id. The first charge of (project_id,
  // charge_key) stores the request with commission = Commission(construction_amount,
  // rate_bp) and, when that is not 0, a READY COMMISSION entry billed to the partner (both
  // dates CommissionBillingDate(report_month), tax category STANDARD with the usual
  // estimate). Again with the same construction amount: the charge as it is, nothing
  // written. With another amount: the charge takes the new amount, dates and version + 1,
  // keeps its first rate, and gains an adjusting entry of CommissionAdjustment (none when
  // 0) dated at the new report month's end; no existing entry is changed. A charge of the
  // key for another partner or of another kind is FAILED_PRECONDITION
  // ("COMMISSION_CHARGE_CONFLICT"). Audited as "commissions/<id>".
  virtual absl::StatusOr<std::string> ChargeCommission(
      const WriteContext& ctx, const CommissionRequest& request,
      const Encoder<CommissionCharge>& encode) = 0;

  virtual absl::StatusOr<std::vector<AuditEntry>> ListAuditEvents(int64_t project_id,
                                                                  int64_t before_id, int limit,
                                                                  absl::Time deadline) = 0;
};

}  // namespace anken::billing
