#pragma once
// Storage of the billing service: one Postgres implementation (pg_billing_store.h); every
// method is one transaction (RunRenewals is many: one per plan) and nothing throws.
// Conventions as in customer_store.h: creates are idempotent by WriteContext::request_id;
// updates lock the row and call `mutate`, then save with version + 1; every write records an
// audit event in the same transaction. Audit resource ids: "plans/<project_id>",
// "plans/<project_id>/entries/<id>", "invoices/<id>", "renewal_runs/<id>",
// "invoice_requests/<id>".

#include <cstdint>
#include <functional>
#include <utility>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "common/db/write_context.h"
#include "services/billing/billing.h"

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
  // `mutate` gets the locked entry and its plan's timing; tax is re-estimated when the amount
  // changed.
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
  virtual absl::StatusOr<std::vector<AuditEntry>> ListAuditEvents(int64_t project_id,
                                                                  int64_t before_id, int limit,
                                                                  absl::Time deadline) = 0;
};

}  // namespace anken::billing
