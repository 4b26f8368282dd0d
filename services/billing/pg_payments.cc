// PgBillingStore: payments (入金), their allocations to invoices (消込), the payer names learnt
// from people's matches, write-offs (回収不能) and the receivables reads. Contract in
// billing_store.h; SQL in payment_queries.h.
//
// Every write is one transaction that locks what it changes in one order (payment, invoices by
// id, an invoice's entries by id) and re-reads the balances under those locks, so that two
// imports, or an import and a person, never allocate more than an invoice has open (the
// schema's CHECK on paid_amount is the last line of defence).

#include <algorithm>
#include <map>
#include <numeric>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/db/audit.h"
#include "common/db/idempotency.h"
#include "common/db/pg_values.h"
#include "common/json/json_text.h"
#include "common/status/domain_error.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "services/billing/audit_batch.h"
#include "services/billing/payment_queries.h"
#include "services/billing/pg_billing_store.h"

namespace anken::billing {
namespace {

using db::DayText;
using db::NumberArray;
using db::Param;
using db::TimeText;
using PaymentRecord = BillingStore::PaymentRecord;
using PaymentAllocation = BillingStore::PaymentAllocation;
using PaymentSource = BillingStore::PaymentSource;
using PaymentStatus = BillingStore::PaymentStatus;
using PaymentMatch = BillingStore::PaymentMatch;

constexpr absl::string_view kSchema("billing");  // == PgBillingStore::kSchema

// ---- names, for audit records and reasons ----

absl::string_view SourceName(PaymentSource s) {
  switch (s) {
    case PaymentSource::kManual: return "MANUAL";
    case PaymentSource::kZengin: return "ZENGIN";
    case PaymentSource::kCsv: return "CSV";
  }
  return "";
}

absl::string_view StatusName(PaymentStatus s) {
  switch (s) {
    case PaymentStatus::kUnmatched: return "UNMATCHED";
    case PaymentStatus::kPartiallyAllocated: return "PARTIALLY_ALLOCATED";
    case PaymentStatus::kAllocated: return "ALLOCATED";
  }
  return "";
}

absl::string_view MatchName(PaymentMatch m) {
  switch (m) {
    case PaymentMatch::kUnmatched: return "UNMATCHED";
    case PaymentMatch::kMatched: return "MATCHED";
    case PaymentMatch::kMatchedWithFee: return "MATCHED_WITH_FEE";
    case PaymentMatch::kPartial: return "PARTIAL";
    case PaymentMatch::kOverpayment: return "OVERPAYMENT";
    case PaymentMatch::kManual: return "MANUAL";
  }
  return "";
}

// The API's words for why a payment waits in the queue (Payment.unmatched_reason).
std::string ReasonName(UnmatchedReason r) {
  switch (r) {
    case UnmatchedReason::kNone: return "";
    case UnmatchedReason::kNoPayerName: return "NO_PAYER_NAME";
    case UnmatchedReason::kUnknownPayer: return "UNKNOWN_PAYER";
    case UnmatchedReason::kAmbiguousPayer: return "AMBIGUOUS_PAYER";
    case UnmatchedReason::kNoOpenInvoices: return "NO_OPEN_INVOICES";
  }
  return "";
}

PaymentMatch MatchFor(MatchKind k) {
  switch (k) {
    case MatchKind::kUnmatched: return PaymentMatch::kUnmatched;
    case MatchKind::kMatched: return PaymentMatch::kMatched;
    case MatchKind::kMatchedWithFee: return PaymentMatch::kMatchedWithFee;
    case MatchKind::kPartial: return PaymentMatch::kPartial;
    case MatchKind::kOverpayment: return PaymentMatch::kOverpayment;
  }
  return PaymentMatch::kUnmatched;
}

// The status follows from the amounts (the schema's payments_status_amounts_check).
PaymentStatus StatusFor(const PaymentRecord& p) {
  const int64_t used = p.allocated_amount + p.credit;
  if (used == 0) return PaymentStatus::kUnmatched;
  return used == p.payment.amount ? PaymentStatus::kAllocated : PaymentStatus::kPartiallyAllocated;
}

std::string PaymentResource(int64_t id) { return absl::StrCat("payments/", id); }
std::string InvoiceResource(int64_t id) { return absl::StrCat("invoices/", id); }

// ---- audit JSON: {"field":{"old":..,"new":..}}, only what changed (a creation: "new" only) --

using JsonFields = std::vector<std::pair<std::string, std::string>>;  // key, JSON value

JsonFields PaymentFields(const PaymentRecord& p) {
  std::vector<std::string> allocations;
  for (const PaymentAllocation& a : p.allocations) {
    allocations.push_back(absl::StrCat("{\"invoice_id\":", a.invoice_id, ",\"amount\":", a.amount,
                                       ",\"fee\":", a.fee,
                                       ",\"manual\":", a.manual ? "true" : "false", "}"));
  }
  return {
      {"payment_date", json::Day(p.payment.date)},
      {"amount", absl::StrCat(p.payment.amount)},
      {"payer_name", json::String(p.payment.payer_name)},
      {"reference", json::String(p.payment.reference)},
      {"memo", json::String(p.payment.memo)},
      {"source", json::String(SourceName(p.source))},
      {"source_key", json::String(p.payment.source_key)},
      {"customer_id", absl::StrCat(p.customer_id)},
      {"status", json::String(StatusName(p.status))},
      {"match_kind", json::String(MatchName(p.match))},
      {"unmatched_reason", json::String(p.unmatched_reason)},
      {"allocations", absl::StrCat("[", absl::StrJoin(allocations, ","), "]")},
      {"allocated_amount", absl::StrCat(p.allocated_amount)},
      {"credit", absl::StrCat(p.credit)},
  };
}

// `before` empty: a creation, whose empty values ("", 0, []) are left out.
std::string ChangeJson(const JsonFields& before, const JsonFields& after,
                       const JsonFields& extra = {}) {
  std::vector<std::string> parts;
  for (size_t k = 0; k < after.size(); ++k) {
    const std::string& value = after[k].second;
    if (before.empty()) {
      if (value == "\"\"" || value == "0" || value == "[]") continue;
      parts.push_back(absl::StrCat(json::String(after[k].first), ":{\"new\":", value, "}"));
    } else if (before[k].second != value) {
      parts.push_back(absl::StrCat(json::String(after[k].first), ":{\"old\":", before[k].second,
                                   ",\"new\":", value, "}"));
    }
  }
  for (const auto& [key, value] : extra) {
    parts.push_back(absl::StrCat(json::String(key), ":{\"new\":", value, "}"));
  }
  return absl::StrCat("{", absl::StrJoin(parts, ","), "}");
}

// ---- one write: now, audit ----

struct Write {
  const WriteContext& ctx;
  absl::Time now;
};

db::TransactOptions Options(absl::string_view what, bool read_only) {
  db::TransactOptions options;
  options.what = what;
  options.read_only = read_only;
  return options;
}

absl::Status EtagMismatch(absl::string_view what) {
  return WithReason(
      absl::AbortedError(absl::StrCat(what, " was changed by someone else; read it again")),
      "ETAG_MISMATCH");
}

// ---- payments ----

PaymentRecord PaymentFromRow(const pqxx::row& r) {
  PaymentRecord p;
  p.payment.id = r["id"].as<int64_t>();
  p.payment.date = db::DayFromField(r["payment_days"]);
  p.payment.amount = r["amount"].as<int64_t>();
  p.payment.payer_name = r["payer_name"].as<std::string>();
  p.payment.reference = r["reference"].as<std::string>();
  p.payment.memo = r["memo"].as<std::string>();
  p.payment.source_key = r["source_key"].as<std::string>();
  p.source = static_cast<PaymentSource>(r["source"].as<int>());
  p.customer_id = r["customer_id"].as<int64_t>();
  p.status = static_cast<PaymentStatus>(r["status"].as<int>());
  p.match = static_cast<PaymentMatch>(r["match_kind"].as<int>());
  p.unmatched_reason = r["unmatched_reason"].as<std::string>();
  p.match_detail = r["match_detail"].as<std::string>();
  for (absl::string_view id :
       absl::StrSplit(r["candidates"].as<std::string>(), ',', absl::SkipEmpty())) {
    int64_t n = 0;
    if (absl::SimpleAtoi(id, &n)) p.candidates.push_back(n);
  }
  p.allocated_amount = r["allocated_amount"].as<int64_t>();
  p.credit = r["credit"].as<int64_t>();
  p.version = r["version"].as<int64_t>();
  p.stamp.create_time = db::TimeFromMicros(r["create_us"]);
  p.stamp.created_by = r["created_by"].as<std::string>();
  p.stamp.update_time = db::TimeFromMicros(r["update_us"]);
  p.stamp.updated_by = r["updated_by"].as<std::string>();
  return p;
}

// Fills the allocations in force of `payments`.
void AttachAllocations(pqxx::work& tx, std::vector<PaymentRecord>& payments) {
  if (payments.empty()) return;
  std::vector<int64_t> ids;
  std::map<int64_t, PaymentRecord*> by_id;
  for (PaymentRecord& p : payments) {
    ids.push_back(p.payment.id);
    by_id[p.payment.id] = &p;
    p.allocations.clear();
  }
  for (const pqxx::row& r : tx.exec_params(sql::kPaymentAllocations, NumberArray(ids))) {
    PaymentAllocation a;
    a.id = r["id"].as<int64_t>();
    a.invoice_id = r["invoice_id"].as<int64_t>();
    a.invoice_number = r["number"].as<std::string>();
    a.amount = r["amount"].as<int64_t>();
    a.fee = r["fee"].as<int64_t>();
    a.manual = r["manual"].as<bool>();
    by_id.at(r["payment_id"].as<int64_t>())->allocations.push_back(std::move(a));
  }
}

absl::StatusOr<PaymentRecord> ReadPayment(pqxx::work& tx, int64_t id, bool lock) {
  pqxx::result rows = tx.exec_params(lock ? sql::kGetPaymentForUpdate : sql::kGetPayment, id);
  if (rows.empty()) {
    return WithReason(absl::NotFoundError(absl::StrCat("payment ", id, " not found")),
                      "PAYMENT_NOT_FOUND");
  }
  std::vector<PaymentRecord> one = {PaymentFromRow(rows[0])};
  AttachAllocations(tx, one);
  return std::move(one[0]);
}

void SavePayment(pqxx::work& tx, const Write& w, const PaymentRecord& p) {
  const Param customer = db::NonZero(p.customer_id);
  tx.exec_params0(sql::kSavePayment, p.payment.id, customer.get(), static_cast<int>(p.status),
                  static_cast<int>(p.match), p.unmatched_reason, p.match_detail,
                  NumberArray(p.candidates), p.allocated_amount, p.credit, p.version,
                  TimeText(w.now), w.ctx.actor);
}

// The reconciled state of payments as parallel arrays (kInsertPayments, kSavePayments).
struct PaymentStates {
  std::vector<int64_t> customers, allocated, credits;
  std::vector<int> statuses, matches;
  std::vector<std::string> reasons, details, candidates;

  void Add(const PaymentRecord& p) {
    customers.push_back(p.customer_id);
    statuses.push_back(static_cast<int>(p.status));
    matches.push_back(static_cast<int>(p.match));
    reasons.push_back(p.unmatched_reason);
    details.push_back(p.match_detail);
    candidates.push_back(NumberArray(p.candidates));
    allocated.push_back(p.allocated_amount);
    credits.push_back(p.credit);
  }
};

// SavePayment for many payments, with one statement.
void SavePayments(pqxx::work& tx, const Write& w, const std::vector<PaymentRecord>& payments) {
  if (payments.empty()) return;
  std::vector<int64_t> ids, versions;
  PaymentStates states;
  for (const PaymentRecord& p : payments) {
    ids.push_back(p.payment.id);
    versions.push_back(p.version);
    states.Add(p);
  }
  tx.exec_params0(sql::kSavePayments, NumberArray(ids), NumberArray(states.customers),
                  NumberArray(states.statuses), NumberArray(states.matches),
                  db::TextArray(states.reasons), db::TextArray(states.details),
                  db::TextArray(states.candidates), NumberArray(states.allocated),
                  NumberArray(states.credits), NumberArray(versions), TimeText(w.now),
                  w.ctx.actor);
}

// ---- the invoices a write locked, and what it does to their balances ----

class Ledger {
 public:
  // Locks the invoices `query` selects (ordered by id, FOR UPDATE) with `param`.
  void Lock(pqxx::work& tx, const char* query, const std::string& param) {
    for (const pqxx::row& r : tx.exec_params(query, param)) {
      Row row;
      row.open.id = r["id"].as<int64_t>();
      row.open.customer_id = r["customer_id"].as<int64_t>();
      row.open.issue_date = db::DayFromField(r["issue_days"]);
      row.open.due_date = db::DayFromField(r["due_days"]);
      row.open.total = r["total"].as<int64_t>();
      row.open.balance = r["balance"].as<int64_t>();
      row.number = r["number"].as<std::string>();
      row.issued = r["status"].as<int>() == 1;
      row.written_off = r["written_off_amount"].as<int64_t>();
      if (!row.issued) row.open.balance = 0;
      row.balance_before = row.open.balance;
      const int64_t id = row.open.id, customer = row.open.customer_id;
      if (rows_.emplace(id, std::move(row)).second) of_customer_[customer].push_back(id);
    }
  }

  bool Has(int64_t invoice_id) const { return rows_.count(invoice_id) > 0; }
  int64_t WrittenOff(int64_t invoice_id) const { return rows_.at(invoice_id).written_off; }

  // The open invoices of `customer_id` with their balances as this write left them, by id.
  // (Looked up by customer: an import asks once per payment, over thousands of invoices.)
  std::vector<OpenInvoice> OpenOf(int64_t customer_id) const {
    std::vector<OpenInvoice> out;
    auto ids = of_customer_.find(customer_id);
    if (ids == of_customer_.end()) return out;
    for (int64_t id : ids->second) {
      const Row& row = rows_.at(id);
      if (row.issued && row.open.balance > 0) out.push_back(row.open);
    }
    return out;
  }

  // Books `a` of payment `payment_id` on its (locked) invoice.
  absl::StatusOr<PaymentAllocation> Allocate(pqxx::work& tx, const Write& w, int64_t payment_id,
                                             const Allocation& a, bool manual) {
    if (!booked_.empty()) return absl::InternalError("an allocation while others are booked");
    ASSIGN_OR_RETURN(PaymentAllocation out, Book(0, a, manual));
    out.id = InsertBooked(tx, w, {payment_id}).front();
    return out;
  }

  // True when `other` read the same invoices (ids, totals, balances as read, dates, status):
  // what was reconciled on `other` holds on these.
  bool SameOpenInvoicesAs(const Ledger& other) const {
    if (rows_.size() != other.rows_.size()) return false;
    for (const auto& [id, row] : rows_) {
      auto it = other.rows_.find(id);
      if (it == other.rows_.end()) return false;
      const Row& o = it->second;
      if (row.balance_before != o.balance_before || row.issued != o.issued ||
          row.written_off != o.written_off || row.open.total != o.open.total ||
          row.open.customer_id != o.open.customer_id || row.open.due_date != o.open.due_date ||
          row.open.issue_date != o.open.issue_date) {
        return false;
      }
    }
    return true;
  }

  // Allocate without its INSERT: the allocation is booked on the balance and kept until
  // InsertBooked writes every booked one with one statement. Its id is 0 until then.
  absl::StatusOr<PaymentAllocation> Book(int64_t payment, const Allocation& a, bool manual) {
    auto it = rows_.find(a.invoice_id);
    if (it == rows_.end() || a.amount + a.fee > it->second.open.balance) {
      return absl::InternalError("an allocation exceeds what its invoice has open");
    }
    PaymentAllocation out;
    out.invoice_id = a.invoice_id;
    out.invoice_number = it->second.number;
    out.amount = a.amount;
    out.fee = a.fee;
    out.manual = manual;
    it->second.open.balance -= a.amount + a.fee;
    booked_.push_back({payment, out});
    return out;
  }

  // Inserts the allocations Book booked, in booking order, and returns their ids in that
  // order. Book was given an index into `payment_ids` for each payment, not its id.
  std::vector<int64_t> InsertBooked(pqxx::work& tx, const Write& w,
                                    const std::vector<int64_t>& payment_ids) {
    std::vector<int64_t> out;
    if (booked_.empty()) return out;
    for (auto& [payment, a] : booked_) payment = payment_ids.at(static_cast<size_t>(payment));
    std::vector<int64_t> payments, invoices, amounts, fees;
    std::vector<std::string> manual;
    for (const auto& [payment_id, a] : booked_) {
      payments.push_back(payment_id);
      invoices.push_back(a.invoice_id);
      amounts.push_back(a.amount);
      fees.push_back(a.fee);
      manual.push_back(a.manual ? "true" : "false");
    }
    // Ids grow in insert order: a (payment, invoice) pair booked twice gets its ids in order.
    std::map<std::pair<int64_t, int64_t>, std::vector<int64_t>> ids;
    for (const pqxx::row& r :
         tx.exec_params(sql::kInsertAllocations, NumberArray(payments), NumberArray(invoices),
                        NumberArray(amounts), NumberArray(fees), db::TextArray(manual),
                        TimeText(w.now), w.ctx.actor)) {
      ids[{r[1].as<int64_t>(), r[2].as<int64_t>()}].push_back(r[0].as<int64_t>());
    }
    std::map<std::pair<int64_t, int64_t>, size_t> used;
    for (auto& [key, list] : ids) std::sort(list.begin(), list.end());
    for (const auto& [payment_id, a] : booked_) {
      const std::pair<int64_t, int64_t> key{payment_id, a.invoice_id};
      out.push_back(ids[key].at(used[key]++));
    }
    booked_.clear();
    return out;
  }

  // Gives `amount` (cash and fee of a reversed allocation) back to the invoice's balance.
  absl::Status TakeBack(int64_t invoice_id, int64_t amount) {
    auto it = rows_.find(invoice_id);
    if (it == rows_.end())
      return absl::InternalError("a reversed allocation's invoice is not locked");
    it->second.open.balance += amount;
    return absl::OkStatus();
  }

  // Writes the paid amounts that changed, with their audit events, and moves the entries of
  // an invoice that became settled to PAID (or, reopened, back to BILLED): one statement per
  // kind of change for all the invoices, the events in the order of a write per invoice
  // (each invoice's, then its entries').
  absl::Status Flush(pqxx::work& tx, const Write& w) {
    std::vector<int64_t> ids, deltas, settled, reopened;
    for (const auto& [id, row] : rows_) {
      const int64_t delta = row.balance_before - row.open.balance;
      if (delta == 0) continue;
      ids.push_back(id);
      deltas.push_back(delta);
      if (row.balance_before > 0 && row.open.balance == 0) {
        settled.push_back(id);
      } else if (row.balance_before == 0 && row.open.balance > 0) {
        reopened.push_back(id);
      }
    }
    if (ids.empty()) return absl::OkStatus();
    std::map<int64_t, int64_t> paid;
    for (const pqxx::row& r : tx.exec_params(sql::kAddInvoicesPaid, NumberArray(ids),
                                             NumberArray(deltas), TimeText(w.now), w.ctx.actor)) {
      paid[r[0].as<int64_t>()] = r[1].as<int64_t>();
    }
    Moved moved;  // invoice → its entries moved
    std::map<int64_t, const EntryMove*> move_of;
    for (const auto& [which, move] : {std::make_pair(&settled, &kSettled),
                                      std::make_pair(&reopened, &kReopened)}) {
      if (which->empty()) continue;
      for (int64_t id : *which) move_of[id] = move;
      MoveEntriesOf(tx, *which, *move, moved);
    }
    AuditBatch audit(w.ctx, w.now);
    for (size_t k = 0; k < ids.size(); ++k) {
      const int64_t id = ids[k];
      const int64_t now_paid = paid.at(id);
      audit.Add("invoice", InvoiceResource(id),
                absl::StrCat("{\"paid_amount\":{\"old\":", now_paid - deltas[k],
                             ",\"new\":", now_paid, "}}"));
      if (move_of.count(id)) AuditMoves(moved[id], *move_of.at(id), audit);
    }
    RETURN_IF_ERROR(audit.Write(tx));
    for (auto& [id, row] : rows_) row.balance_before = row.open.balance;
    return absl::OkStatus();
  }

  // A move of an invoice's entries from one status to another, with the names audited.
  struct EntryMove {
    EntryStatus from, to;
    const char* from_name;
    const char* to_name;
  };
  static constexpr EntryMove kSettled{EntryStatus::kBilled, EntryStatus::kPaid, "BILLED", "PAID"};
  static constexpr EntryMove kReopened{EntryStatus::kPaid, EntryStatus::kBilled, "PAID", "BILLED"};
  static constexpr EntryMove kWrittenOff{EntryStatus::kBilled, EntryStatus::kUncollectible,
                                         "BILLED", "UNCOLLECTIBLE"};

  // Moves the invoice's entries as `move` says, each audited as an entry change.
  static absl::Status MoveEntries(pqxx::work& tx, const Write& w, int64_t invoice_id,
                                  const EntryMove& move) {
    Moved moved;
    MoveEntriesOf(tx, {invoice_id}, move, moved);
    AuditBatch audit(w.ctx, w.now);
    AuditMoves(moved[invoice_id], move, audit);
    return audit.Write(tx);
  }

 private:
  // Entries moved, by invoice: (entry id, project id), ascending.
  using Moved = std::map<int64_t, std::vector<std::pair<int64_t, int64_t>>>;

  // Moves the entries of `invoice_ids` as `move` says (one statement), into `moved`.
  static void MoveEntriesOf(pqxx::work& tx, const std::vector<int64_t>& invoice_ids,
                            const EntryMove& move, Moved& moved) {
    for (const pqxx::row& r :
         tx.exec_params(sql::kMoveEntriesOfInvoices, NumberArray(invoice_ids),
                        static_cast<int>(move.from), static_cast<int>(move.to))) {
      moved[r["invoice_id"].as<int64_t>()].emplace_back(r["id"].as<int64_t>(),
                                                        r["project_id"].as<int64_t>());
    }
    for (auto& [invoice, entries] : moved) std::sort(entries.begin(), entries.end());
  }

  // An entry change event per moved entry.
  static void AuditMoves(const std::vector<std::pair<int64_t, int64_t>>& entries,
                         const EntryMove& move, AuditBatch& audit) {
    for (const auto& [entry_id, project_id] : entries) {
      audit.Add("entry", absl::StrCat("plans/", project_id, "/entries/", entry_id),
                absl::StrCat("{\"status\":{\"old\":\"", move.from_name, "\",\"new\":\"",
                             move.to_name, "\"}}"));
    }
  }

  struct Row {
    OpenInvoice open;  // balance: as this write leaves it (0 for a cancelled invoice)
    std::string number;
    bool issued = false;
    int64_t written_off = 0;
    int64_t balance_before = 0;  // as locked (or last flushed)
  };
  std::map<int64_t, Row> rows_;  // by id
  std::map<int64_t, std::vector<int64_t>> of_customer_;  // customer → invoice ids, ascending
  std::vector<std::pair<int64_t, PaymentAllocation>> booked_;  // payment, allocation
};

BillingStore::ReceivableInvoice ReceivableFromRow(const pqxx::row& r) {
  BillingStore::ReceivableInvoice out;
  out.open.id = r["id"].as<int64_t>();
  out.open.customer_id = r["customer_id"].as<int64_t>();
  out.open.issue_date = db::DayFromField(r["issue_days"]);
  out.open.due_date = db::DayFromField(r["due_days"]);
  out.open.total = r["total"].as<int64_t>();
  out.open.balance = r["balance"].as<int64_t>();
  out.number = r["number"].as<std::string>();
  out.recipient_name = r["recipient_name"].as<std::string>();
  return out;
}

}  // namespace

// ---- recording and reconciling ----

absl::StatusOr<std::map<std::string, int64_t>> PgBillingStore::LearntPayers(absl::Time deadline) {
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::map<std::string, int64_t>> {
        std::map<std::string, int64_t> out;
        for (const pqxx::row& r : tx.exec(sql::kLearntPayers)) {
          out[r[0].as<std::string>()] = r[1].as<int64_t>();
        }
        return out;
      },
      Options("reading learnt payer names", /*read_only=*/true));
}

absl::StatusOr<std::string> PgBillingStore::RecordPayments(
    const WriteContext& ctx, const PaymentBatch& batch, const PayerMatcher& matcher,
    const Encoder<PaymentBatchResult>& encode) {
  const bool imported = batch.source != PaymentSource::kManual;
  for (const Payment& p : batch.payments) {
    if (p.amount <= 0) return absl::InvalidArgumentError("a payment's amount must be > 0");
    if (imported == p.source_key.empty()) {
      return absl::InvalidArgumentError("imported payments, and only they, have a source key");
    }
  }
  if (!imported && batch.payments.size() != 1) {
    return absl::InvalidArgumentError("a manual payment is recorded one at a time");
  }
  const Write w{ctx, db::TruncToMicros(ctx.now)};
  const size_t n = batch.payments.size();
  // Each payer matched once (the matcher is pure): the match and the payer key it computed.
  std::vector<PayerMatcher::Match> who;
  who.reserve(n);
  for (const Payment& p : batch.payments) who.push_back(matcher.MatchPayer(p.payer_name));
  // Lines in source-key order (stable): the order they are inserted in, so two imports of
  // overlapping statements meet on the unique index in one order and one waits for the other.
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return batch.payments[a].source_key < batch.payments[b].source_key;
  });
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) {
        return db::OncePerRequest(tx, kSchema, ctx, [&]() -> absl::StatusOr<std::string> {
          Param import_id;
          if (imported) {
            import_id =
                Param(tx.exec_params1(sql::kInsertBankImport, static_cast<int>(batch.source),
                                      batch.account, static_cast<int64_t>(n), TimeText(w.now),
                                      ctx.actor)[0]
                          .as<std::string>());
          }
          // The lines expected to be new: not stored before, and the first of their key.
          std::vector<bool> fresh(n, true);
          if (imported) {
            std::vector<std::string> keys;
            for (const Payment& p : batch.payments) keys.push_back(p.source_key);
            std::set<std::string> seen;
            for (const pqxx::row& r : tx.exec_params(sql::kStoredSourceKeys, db::TextArray(keys))) {
              seen.insert(r[0].as<std::string>());
            }
            for (size_t k : order) fresh[k] = seen.insert(batch.payments[k].source_key).second;
          }
          std::set<int64_t> customers;
          for (size_t k = 0; k < n; ++k) {
            if (fresh[k] && who[k].customer_id != 0) customers.insert(who[k].customer_id);
          }
          const std::string customer_ids =
              NumberArray(std::vector<int64_t>(customers.begin(), customers.end()));

          // Reconciles the lines marked in `include`, in file order, each on the balances the
          // ones before it left in `ledger` (allocations booked, not written). The payments'
          // ids are not known yet: bookings name the line's index.
          auto reconcile = [&](const std::vector<bool>& include,
                               Ledger& ledger) -> absl::StatusOr<std::vector<PaymentRecord>> {
            std::vector<PaymentRecord> out(n);
            for (size_t k = 0; k < n; ++k) {
              if (!include[k]) continue;
              PaymentRecord& rec = out[k];
              rec.payment = batch.payments[k];
              rec.source = batch.source;
              rec.version = 1;
              rec.stamp = Stamp{w.now, ctx.actor, w.now, ctx.actor};
              ASSIGN_OR_RETURN(MatchResult m,
                               ReconcilePayment(rec.payment, who[k],
                                                ledger.OpenOf(who[k].customer_id),
                                                batch.fee_tolerance));
              rec.customer_id = m.customer_id;
              rec.match = MatchFor(m.kind);
              rec.unmatched_reason = ReasonName(m.reason);
              rec.match_detail = m.detail;
              rec.candidates = m.candidates;
              for (const Allocation& a : m.allocations) {
                ASSIGN_OR_RETURN(PaymentAllocation booked,
                                 ledger.Book(static_cast<int64_t>(k), a, /*manual=*/false));
                rec.allocated_amount += a.amount;
                rec.allocations.push_back(std::move(booked));
              }
              rec.credit = m.credit;
              rec.status = StatusFor(rec);
            }
            return out;
          };

          // Reconciled on the open invoices as they are now, then inserted in their final
          // state: one write per payment. The invoices are locked only after the payments
          // are in (the lock order: payments, then invoices by id).
          Ledger read;
          if (!customers.empty()) read.Lock(tx, sql::kOpenInvoicesOfCustomers, customer_ids);
          ASSIGN_OR_RETURN(std::vector<PaymentRecord> records, reconcile(fresh, read));
          std::vector<int64_t> ids(n, 0);
          {
            std::vector<std::string> dates, names, keys, references, memos, source_keys;
            std::vector<int64_t> amounts;
            PaymentStates states;
            for (size_t k : order) {
              if (!fresh[k]) continue;
              const PaymentRecord& rec = records[k];
              const Payment& p = rec.payment;
              dates.push_back(DayText(p.date));
              amounts.push_back(p.amount);
              names.push_back(p.payer_name);
              keys.push_back(who[k].payer_key);
              references.push_back(p.reference);
              memos.push_back(p.memo);
              source_keys.push_back(p.source_key);
              states.Add(rec);
            }
            std::map<std::string, int64_t> inserted;  // source key ('' manual) → id
            if (!dates.empty()) {
              for (const pqxx::row& r : tx.exec_params(
                       sql::kInsertPayments, db::TextArray(dates), NumberArray(amounts),
                       db::TextArray(names), db::TextArray(keys), db::TextArray(references),
                       db::TextArray(memos), db::TextArray(source_keys),
                       NumberArray(states.customers), NumberArray(states.statuses),
                       NumberArray(states.matches), db::TextArray(states.reasons),
                       db::TextArray(states.details), db::TextArray(states.candidates),
                       NumberArray(states.allocated), NumberArray(states.credits),
                       static_cast<int>(batch.source), import_id.get(), TimeText(w.now),
                       ctx.actor)) {
                inserted.emplace(r[1].as<std::string>(), r[0].as<int64_t>());
              }
            }
            for (size_t k = 0; k < n; ++k) {
              if (!fresh[k]) continue;
              auto it = inserted.find(batch.payments[k].source_key);
              if (it != inserted.end()) ids[k] = it->second;
            }
          }
          Ledger locked;
          if (!customers.empty()) locked.Lock(tx, sql::kLockOpenInvoicesOf, customer_ids);
          std::vector<bool> created(n, false);
          bool as_read = true;
          for (size_t k = 0; k < n; ++k) {
            created[k] = ids[k] != 0;
            if (created[k] != fresh[k]) as_read = false;  // a concurrent import took the line
          }
          Ledger* ledger = &read;
          if (!as_read || !locked.SameOpenInvoicesAs(read)) {
            // Something changed between the read and the lock (a concurrent import, payment
            // or write-off): reconciled again on the balances as locked, the payments written
            // again with that outcome.
            ASSIGN_OR_RETURN(records, reconcile(created, locked));
            ledger = &locked;
          }

          PaymentBatchResult result;
          for (size_t k = 0; k < n; ++k) {
            if (!created[k]) {
              ++result.duplicate_count;
              continue;
            }
            records[k].payment.id = ids[k];
            result.created.push_back(std::move(records[k]));
          }
          if (ledger == &locked) SavePayments(tx, w, result.created);
          const std::vector<int64_t> allocation_ids = ledger->InsertBooked(tx, w, ids);
          size_t next_allocation = 0;
          AuditBatch audit(w.ctx, w.now);
          for (PaymentRecord& rec : result.created) {
            for (PaymentAllocation& a : rec.allocations) a.id = allocation_ids.at(next_allocation++);
            audit.Add("payment", PaymentResource(rec.payment.id),
                      ChangeJson({}, PaymentFields(rec)));
          }
          RETURN_IF_ERROR(audit.Write(tx));
          RETURN_IF_ERROR(ledger->Flush(tx, w));
          if (imported) {
            tx.exec_params0(sql::kFinishBankImport, import_id.get(),
                            static_cast<int64_t>(result.created.size()),
                            static_cast<int64_t>(result.duplicate_count));
          }
          return encode(result);
        });
      },
      Options(imported ? "importing the bank statement" : "recording the payment", false));
}

absl::StatusOr<std::vector<PaymentRecord>> PgBillingStore::ListPayments(
    const PaymentFilter& filter, const PaymentPosition& after, int limit, absl::Time deadline) {
  const Param from = db::OptDay(filter.from);
  const Param to = db::OptDay(filter.to);
  const Param after_date = db::OptDay(after.date);
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<PaymentRecord>> {
        std::vector<PaymentRecord> out;
        for (const pqxx::row& r :
             tx.exec_params(sql::kListPayments, NumberArray(filter.statuses), filter.customer_id,
                            from.get(), to.get(), after_date.get(), after.id, std::max(limit, 0))) {
          out.push_back(PaymentFromRow(r));
        }
        AttachAllocations(tx, out);
        return out;
      },
      Options("listing payments", /*read_only=*/true));
}

absl::StatusOr<std::string> PgBillingStore::AllocatePayment(const WriteContext& ctx,
                                                            const ManualAllocation& allocation,
                                                            const Encoder<PaymentRecord>& encode) {
  const Write w{ctx, db::TruncToMicros(ctx.now)};
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) {
        return db::OncePerRequest(tx, kSchema, ctx, [&]() -> absl::StatusOr<std::string> {
          ASSIGN_OR_RETURN(PaymentRecord rec, ReadPayment(tx, allocation.payment_id, true));
          if (allocation.expected_version && *allocation.expected_version != rec.version) {
            return EtagMismatch(absl::StrCat("payment ", rec.payment.id));
          }
          if (rec.allocated_amount + rec.credit > 0 && rec.customer_id != allocation.customer_id) {
            return WithReason(
                absl::FailedPreconditionError(absl::StrCat(
                    "payment ", rec.payment.id, " is already allocated to customer ",
                    rec.customer_id, "; unallocate it first to give it to another customer")),
                "OTHER_CUSTOMER");
          }
          const int64_t available = rec.Unallocated();
          if (allocation.credit > available) {
            return DomainInvalid("credit", "EXCEEDS_PAYMENT",
                                 absl::StrCat("the credit exceeds the ", available,
                                              " yen of the payment not yet allocated"));
          }
          std::set<int64_t> ids;
          for (const Allocation& a : allocation.lines) ids.insert(a.invoice_id);
          Ledger ledger;
          if (!ids.empty()) {
            ledger.Lock(tx, sql::kLockInvoicesById,
                        NumberArray(std::vector<int64_t>(ids.begin(), ids.end())));
          }
          for (size_t i = 0; i < allocation.lines.size(); ++i) {
            if (!ledger.Has(allocation.lines[i].invoice_id)) {
              return DomainError(
                  absl::StatusCode::kNotFound, absl::StrCat("allocations[", i, "].invoice_id"),
                  "INVOICE_NOT_FOUND",
                  absl::StrCat("invoice ", allocation.lines[i].invoice_id, " not found"));
            }
          }
          if (!allocation.lines.empty() || allocation.credit == 0) {
            RETURN_IF_ERROR(CheckManualAllocation(available - allocation.credit, allocation.lines,
                                                  ledger.OpenOf(allocation.customer_id)));
          }
          const PaymentRecord before = rec;
          for (const Allocation& a : allocation.lines) {
            ASSIGN_OR_RETURN(PaymentAllocation booked,
                             ledger.Allocate(tx, w, rec.payment.id, a, /*manual=*/true));
            rec.allocated_amount += a.amount;
            rec.allocations.push_back(std::move(booked));
          }
          rec.credit += allocation.credit;
          rec.customer_id = allocation.customer_id;
          rec.match = PaymentMatch::kManual;
          rec.unmatched_reason.clear();
          rec.candidates.clear();
          rec.match_detail = absl::StrCat("allocated by ", ctx.actor);
          rec.status = StatusFor(rec);
          rec.version = before.version + 1;
          rec.stamp.update_time = w.now;
          rec.stamp.updated_by = ctx.actor;
          SavePayment(tx, w, rec);
          JsonFields extra;
          const std::string key = PayerKey(rec.payment.payer_name);
          if (!key.empty()) {
            tx.exec_params1(sql::kUpsertPayerMapping, key, rec.customer_id, rec.payment.payer_name,
                            rec.payment.id, TimeText(w.now), ctx.actor);
            extra.emplace_back("learnt_payer_key", json::String(key));
          }
          RETURN_IF_ERROR(db::WriteAuditFor(
              tx, kSchema, w.ctx, w.now, "payment", PaymentResource(rec.payment.id),
              ChangeJson(PaymentFields(before), PaymentFields(rec), extra)));
          RETURN_IF_ERROR(ledger.Flush(tx, w));
          ASSIGN_OR_RETURN(PaymentRecord saved, ReadPayment(tx, rec.payment.id, false));
          return encode(saved);
        });
      },
      Options("allocating the payment", false));
}

absl::StatusOr<PaymentRecord> PgBillingStore::UnallocatePayment(
    const WriteContext& ctx, int64_t payment_id, const std::string& reason,
    absl::optional<int64_t> expected_version) {
  const Write w{ctx, db::TruncToMicros(ctx.now)};
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<PaymentRecord> {
        ASSIGN_OR_RETURN(PaymentRecord rec, ReadPayment(tx, payment_id, true));
        if (expected_version && *expected_version != rec.version) {
          return EtagMismatch(absl::StrCat("payment ", payment_id));
        }
        if (rec.allocated_amount + rec.credit == 0) {
          return WithReason(absl::FailedPreconditionError(absl::StrCat(
                                "payment ", payment_id, " has nothing allocated to reverse")),
                            "NOTHING_ALLOCATED");
        }
        std::set<int64_t> ids;
        for (const PaymentAllocation& a : rec.allocations) ids.insert(a.invoice_id);
        Ledger ledger;
        if (!ids.empty()) {
          ledger.Lock(tx, sql::kLockInvoicesById,
                      NumberArray(std::vector<int64_t>(ids.begin(), ids.end())));
        }
        for (int64_t id : ids) {
          if (ledger.Has(id) && ledger.WrittenOff(id) > 0) {
            return WithReason(absl::FailedPreconditionError(absl::StrCat(
                                  "invoice ", id,
                                  " was written off after this payment was allocated to it; "
                                  "its allocations stay")),
                              "INVOICE_WRITTEN_OFF");
          }
        }
        for (const pqxx::row& r : tx.exec_params(sql::kReverseAllocations, payment_id,
                                                 TimeText(w.now), ctx.actor, reason)) {
          RETURN_IF_ERROR(ledger.TakeBack(r["invoice_id"].as<int64_t>(),
                                          r["amount"].as<int64_t>() + r["fee"].as<int64_t>()));
        }
        const PaymentRecord before = rec;
        rec.allocations.clear();
        rec.allocated_amount = 0;
        rec.credit = 0;
        rec.customer_id = 0;
        rec.match = PaymentMatch::kUnmatched;
        rec.unmatched_reason = "UNALLOCATED";
        rec.candidates.clear();
        rec.match_detail = absl::StrCat("allocations reversed by ", ctx.actor, ": ", reason);
        rec.status = StatusFor(rec);
        rec.version = before.version + 1;
        rec.stamp.update_time = w.now;
        rec.stamp.updated_by = ctx.actor;
        SavePayment(tx, w, rec);
        JsonFields extra = {{"reverse_reason", json::String(reason)}};
        for (const pqxx::row& r : tx.exec_params(sql::kForgetPayerMapping, payment_id)) {
          extra.emplace_back("forgot_payer_key", json::String(r["payer_key"].as<std::string>()));
        }
        RETURN_IF_ERROR(
            db::WriteAuditFor(tx, kSchema, w.ctx, w.now, "payment", PaymentResource(payment_id),
                              ChangeJson(PaymentFields(before), PaymentFields(rec), extra)));
        RETURN_IF_ERROR(ledger.Flush(tx, w));
        return rec;
      },
      Options("unallocating the payment", false));
}

// ---- receivables ----

absl::StatusOr<std::vector<OpenInvoice>> PgBillingStore::OpenInvoices(int64_t customer_id,
                                                                      absl::Time deadline) {
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<OpenInvoice>> {
        std::vector<OpenInvoice> out;
        for (const pqxx::row& r : tx.exec_params(sql::kOpenInvoices, customer_id)) {
          out.push_back(ReceivableFromRow(r).open);
        }
        return out;
      },
      Options("reading open invoices", /*read_only=*/true));
}

absl::StatusOr<std::vector<BillingStore::ReceivableInvoice>> PgBillingStore::OverdueInvoices(
    absl::CivilDay as_of, int64_t customer_id, const OverduePosition& after, int limit,
    absl::Time deadline) {
  const Param after_due = db::OptDay(after.due_date);
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<ReceivableInvoice>> {
        std::vector<ReceivableInvoice> out;
        for (const pqxx::row& r :
             tx.exec_params(sql::kOverdueInvoices, DayText(as_of), customer_id, after_due.get(),
                            DayText(after.issue_date), after.id, std::max(limit, 0))) {
          out.push_back(ReceivableFromRow(r));
        }
        return out;
      },
      Options("listing overdue invoices", /*read_only=*/true));
}

absl::StatusOr<Invoice> PgBillingStore::WriteOffInvoice(const WriteContext& ctx, int64_t id,
                                                        const std::string& reason,
                                                        absl::optional<int64_t> expected_version) {
  const Write w{ctx, db::TruncToMicros(ctx.now)};
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<Invoice> {
        ASSIGN_OR_RETURN(const Invoice inv, InvoiceRow(tx, id, /*lock=*/true));
        if (expected_version && *expected_version != inv.version) {
          return EtagMismatch(absl::StrCat("invoice ", inv.number));
        }
        auto refuse = [&](absl::string_view reason_code, absl::string_view why) {
          return WithReason(
              absl::FailedPreconditionError(absl::StrCat("invoice ", inv.number, " ", why)),
              reason_code);
        };
        if (inv.status == InvoiceStatus::kCancelled)
          return refuse("INVOICE_CANCELLED", "is cancelled");
        if (inv.written_off_amount > 0)
          return refuse("ALREADY_WRITTEN_OFF", "is already written off");
        const int64_t open = inv.Balance();
        if (open <= 0) return refuse("NOTHING_OPEN", "has nothing open to write off");
        tx.exec_params0(sql::kWriteOffInvoice, id, open, reason, TimeText(w.now), ctx.actor);
        RETURN_IF_ERROR(db::WriteAuditFor(
            tx, kSchema, w.ctx, w.now, "invoice", InvoiceResource(id),
            absl::StrCat("{\"written_off_amount\":{\"old\":0,\"new\":", open,
                         "},\"write_off_reason\":{\"new\":", json::String(reason), "}}")));
        RETURN_IF_ERROR(Ledger::MoveEntries(tx, w, id, Ledger::kWrittenOff));
        return InvoiceRow(tx, id, /*lock=*/false);
      },
      Options("writing the invoice off", false));
}

}  // namespace anken::billing
