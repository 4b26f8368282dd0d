#include "services/billing/pg_billing_store.h"

#include <algorithm>
#include <map>
#include <pqxx/pqxx>

#include "common/db/pg_values.h"
#include "common/json/json_text.h"
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/types/optional.h"
#include "common/db/audit.h"
#include "common/db/idempotency.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "common/tax/tax.h"
#include "services/billing/audit_batch.h"
#include "services/billing/billing_queries.h"

namespace anken::billing {
namespace {

using db::TruncToMicros;
using db::TimeText;
using db::TimeFromMicros;
using db::DayText;
using db::DayFromField;
using db::OptDay;
using db::NonZero;
using db::Param;
using db::NumberArray;

constexpr absl::string_view kSchema("billing");  // == PgBillingStore::kSchema
constexpr char kOutboxKindIssueRequest[] = "invoice_issue_request";

// ---- conversions ----




// A month is stored as its first day.
std::string MonthText(absl::CivilMonth m) { return DayText(absl::CivilDay(m)); }

absl::CivilMonth MonthFromField(const pqxx::field& f) { return absl::CivilMonth(DayFromField(f)); }


// NULL when empty (an entry without a period).
Param NonEmpty(const std::string& value) { return value.empty() ? Param() : Param(value); }

// NULL for nullopt (an invoice's issuer details from before V003).
Param OptText(const absl::optional<std::string>& value) {
  return value.has_value() ? Param(*value) : Param();
}
absl::optional<std::string> OptTextFromField(const pqxx::field& f) {
  if (f.is_null()) return absl::nullopt;
  return f.as<std::string>();
}


// An unknown code cannot be stored (the CHECK admits 1..3).
tax::Category TaxFromCode(int code) {
  return tax::CategoryFromCode(code).value_or(tax::Category::kStandard);
}

// Rounding modes are stored as 1 FLOOR, 2 HALF_UP, 3 CEILING (the API's numbering).
int RoundingCode(tax::Rounding r) {
  switch (r) {
    case tax::Rounding::kFloor: return 1;
    case tax::Rounding::kHalfUp: return 2;
    case tax::Rounding::kCeiling: return 3;
  }
  return 0;  // breaks the CHECK
}

tax::Rounding RoundingFromCode(int code) {
  switch (code) {
    case 2: return tax::Rounding::kHalfUp;
    case 3: return tax::Rounding::kCeiling;
    default: return tax::Rounding::kFloor;
  }
}

absl::string_view TimingName(Timing t) {
  switch (t) {
    case Timing::kLumpSum: return "LUMP_SUM";
    case Timing::kSplit: return "SPLIT";
    case Timing::kRecurring: return "RECURRING";
  }
  return "";
}

absl::string_view IntervalName(Interval i) {
  switch (i) {
    case Interval::kMonthly: return "MONTHLY";
    case Interval::kYearly: return "YEARLY";
  }
  return "";
}

absl::string_view EntryStatusName(EntryStatus s) {
  switch (s) {
    case EntryStatus::kUnbilled: return "UNBILLED";
    case EntryStatus::kReady: return "READY";
    case EntryStatus::kBilled: return "BILLED";
    case EntryStatus::kPaid: return "PAID";
    case EntryStatus::kUncollectible: return "UNCOLLECTIBLE";
  }
  return "";
}

absl::string_view InvoiceStatusName(InvoiceStatus s) {
  switch (s) {
    case InvoiceStatus::kIssued: return "ISSUED";
    case InvoiceStatus::kCancelled: return "CANCELLED";
  }
  return "";
}

// The estimate an entry carries until it is invoiced.
int64_t EstimateTax(int64_t amount, tax::Category category) {
  return tax::TaxFor(amount, category, tax::Rounding::kFloor);
}

// ---- JSON for audit events and the outbox ----



std::string JsonMonth(absl::CivilMonth m) { return json::String(absl::FormatCivilTime(m)); }
std::string JsonIds(const std::vector<int64_t>& ids) {
  return absl::StrCat("[", absl::StrJoin(ids, ","), "]");
}

// One audited field: its name, its value as JSON text, and whether a creation record leaves
// it out as empty.
struct JsonField {
  std::string key;
  std::string value;
  bool empty;
};

JsonField Str(absl::string_view key, const std::string& value) {
  return {std::string(key), json::String(value), value.empty()};
}
JsonField Int(absl::string_view key, int64_t value) {
  return {std::string(key), absl::StrCat(value), value == 0};
}
JsonField Enum(absl::string_view key, absl::string_view name) {
  return {std::string(key), json::String(name), false};
}
JsonField Raw(absl::string_view key, std::string json, bool empty) {
  return {std::string(key), std::move(json), empty};
}

class JsonObject {
 public:
  void Add(absl::string_view key, absl::string_view value) {
    if (out_.size() > 1) out_ += ',';
    absl::StrAppend(&out_, json::String(key), ":", value);
  }
  std::string Finish() const { return out_ + "}"; }

 private:
  std::string out_ = "{";
};

// {"new":value} and {"old":value}: the shape of one field's change.
std::string New(absl::string_view value) { return absl::StrCat("{\"new\":", value, "}"); }
std::string Old(absl::string_view value) { return absl::StrCat("{\"old\":", value, "}"); }

// {"field":{"new":..}} for every non-empty field.
void AddCreated(const std::vector<JsonField>& fields, JsonObject& out) {
  for (const JsonField& f : fields) {
    if (!f.empty) out.Add(f.key, New(f.value));
  }
}

// {"field":{"old":..}} for every non-empty field of something deleted.
void AddDeleted(const std::vector<JsonField>& fields, JsonObject& out) {
  for (const JsonField& f : fields) {
    if (!f.empty) out.Add(f.key, Old(f.value));
  }
}

// {"field":{"old":..,"new":..}} for every field whose value differs. `before` and `after`
// come from the same Fields() function, so they list the same keys in the same order.
void AddChanged(const std::vector<JsonField>& before, const std::vector<JsonField>& after,
                JsonObject& out) {
  for (size_t k = 0; k < before.size() && k < after.size(); ++k) {
    if (before[k].value != after[k].value) {
      out.Add(before[k].key,
              absl::StrCat("{\"old\":", before[k].value, ",\"new\":", after[k].value, "}"));
    }
  }
}

// Every stored field of a plan but its entries, version and stamps. Two plans with equal
// Fields() have the same content.
std::vector<JsonField> Fields(const BillingPlan& p) {
  std::vector<JsonField> f = {
      Int("project_id", p.project_id),
      Int("customer_id", p.customer_id),
      Enum("timing", TimingName(p.timing)),
      Enum("tax_category", tax::CategoryName(p.tax_category)),
  };
  if (p.recurring.has_value()) {
    const RecurringTerms& r = *p.recurring;
    f.push_back(Enum("recurring.interval", IntervalName(r.interval)));
    f.push_back(Raw("recurring.split_revenue", r.split_revenue ? "true" : "false", false));
    f.push_back(Int("recurring.amount", r.amount));
    f.push_back(Raw("recurring.start_month", JsonMonth(r.start_month), false));
    f.push_back(Raw("recurring.end_month", JsonMonth(r.end_month), false));
    f.push_back(Raw("recurring.auto_renew", r.auto_renew ? "true" : "false", false));
    f.push_back(Int("recurring.renewal_unit_months", r.renewal_unit_months));
  } else {
    for (absl::string_view key :
         {"recurring.interval", "recurring.split_revenue", "recurring.amount",
          "recurring.start_month", "recurring.end_month", "recurring.auto_renew",
          "recurring.renewal_unit_months"}) {
      f.push_back(Raw(key, "null", true));
    }
  }
  return f;
}

// Every stored field of an entry but version. Two entries with equal Fields() have the same
// content.
std::vector<JsonField> Fields(const BillingEntry& e) {
  return {
      Int("id", e.id),
      Int("project_id", e.project_id),
      Int("customer_id", e.customer_id),
      Raw("billing_date", json::Day(e.billing_date), false),
      Raw("revenue_date", json::Day(e.revenue_date), false),
      Int("amount", e.amount),
      Int("tax", e.tax),
      Enum("tax_category", tax::CategoryName(e.tax_category)),
      Enum("status", EntryStatusName(e.status)),
      Str("period", e.period),
      Str("description", e.description),
      Int("invoice_id", e.invoice_id),
  };
}

std::string LinesJson(const std::vector<InvoiceLine>& lines) {
  std::vector<std::string> items;
  for (const InvoiceLine& l : lines) {
    items.push_back(absl::StrCat(
        "{\"entry_id\":", l.entry_id, ",\"description\":", json::String(l.description),
        ",\"amount\":", l.amount, ",\"tax_category\":",
        json::String(tax::CategoryName(l.tax_category)), ",\"allocated_tax\":", l.allocated_tax,
        ",\"revenue_date\":", json::Day(l.revenue_date), "}"));
  }
  return absl::StrCat("[", absl::StrJoin(items, ","), "]");
}

std::string RateTotalsJson(const std::vector<tax::RateTotal>& totals) {
  std::vector<std::string> items;
  for (const tax::RateTotal& t : totals) {
    items.push_back(absl::StrCat("{\"tax_category\":", json::String(tax::CategoryName(t.category)),
                                 ",\"taxable\":", t.taxable, ",\"tax\":", t.tax, "}"));
  }
  return absl::StrCat("[", absl::StrJoin(items, ","), "]");
}

// Every stored field of an invoice but version and stamps.
std::vector<JsonField> Fields(const Invoice& i) {
  return {
      Int("id", i.id),
      Str("number", i.number),
      Int("customer_id", i.customer_id),
      Str("recipient_name", i.recipient_name),
      Str("issuer_name", i.issuer_name),
      Str("issuer_registration_number", i.issuer_registration_number),
      Raw("issuer_address", i.issuer_address ? json::String(*i.issuer_address) : "null",
          !i.issuer_address || i.issuer_address->empty()),
      Raw("issuer_bank_account",
          i.issuer_bank_account ? json::String(*i.issuer_bank_account) : "null",
          !i.issuer_bank_account || i.issuer_bank_account->empty()),
      Raw("issue_date", json::Day(i.issue_date), false),
      Raw("due_date", json::Day(i.due_date), false),
      Raw("lines", LinesJson(i.lines), i.lines.empty()),
      Raw("rate_totals", RateTotalsJson(i.totals.per_rate), i.totals.per_rate.empty()),
      Int("subtotal", i.totals.subtotal),
      Int("tax", i.totals.tax),
      Int("total", i.totals.total),
      Enum("rounding", tax::RoundingName(i.rounding)),
      Enum("status", InvoiceStatusName(i.status)),
      Str("cancel_reason", i.cancel_reason),
      Raw("cancel_time", i.cancel_time ? json::Time(*i.cancel_time) : "null", !i.cancel_time),
  };
}

template <typename T>
std::string CreationJson(const T& created) {
  JsonObject out;
  AddCreated(Fields(created), out);
  return out.Finish();
}

template <typename T>
std::string ChangeJson(const T& before, const T& after) {
  JsonObject out;
  AddChanged(Fields(before), Fields(after), out);
  return out.Finish();
}

// ---- errors and options ----

db::TransactOptions WriteOptions(absl::string_view what) {
  db::TransactOptions options;
  options.what = what;
  return options;
}

db::TransactOptions ReadOptions(absl::string_view what) {
  db::TransactOptions options;
  options.read_only = true;
  options.what = what;
  return options;
}

absl::Status PlanNotFound(int64_t project_id) {
  return WithReason(
      absl::NotFoundError(absl::StrCat("case ", project_id, " has no billing plan")),
      "PLAN_NOT_FOUND");
}

absl::Status EntryNotFound(int64_t id) {
  return WithReason(absl::NotFoundError(absl::StrCat("billing entry ", id, " not found")),
                    "ENTRY_NOT_FOUND");
}

absl::Status InvoiceNotFound(int64_t id) {
  return WithReason(absl::NotFoundError(absl::StrCat("invoice ", id, " not found")),
                    "INVOICE_NOT_FOUND");
}

absl::Status EtagMismatch(absl::string_view what) {
  return WithReason(
      absl::AbortedError(absl::StrCat(what, " was changed by someone else; read it again")),
      "ETAG_MISMATCH");
}

absl::Status EntriesChanged(int64_t entry_id) {
  return WithReason(
      absl::AbortedError(absl::StrCat("billing entry ", entry_id,
                                      " changed since it was read (status, customer, amount or "
                                      "version); read the READY entries again")),
      "ENTRIES_CHANGED");
}

// ---- one write: now, audit, idempotency ----

// What every write of one call shares: the caller's context and its instant, truncated.
struct Write {
  const WriteContext& ctx;
  absl::Time now;
};

absl::Status Audit(pqxx::work& tx, const Write& w, absl::string_view resource_type,
                   std::string resource_id, std::string change_json) {
  return db::WriteAuditFor(tx, kSchema, w.ctx, w.now, resource_type, std::move(resource_id),
                           std::move(change_json));
}

template <typename Fn>
absl::StatusOr<std::string> OncePerRequest(pqxx::work& tx, const WriteContext& ctx, Fn&& effect) {
  return db::OncePerRequest(tx, kSchema, ctx, std::forward<Fn>(effect));
}

std::string PlanResource(int64_t project_id) { return absl::StrCat("plans/", project_id); }
std::string EntryResource(int64_t project_id, int64_t id) {
  return absl::StrCat("plans/", project_id, "/entries/", id);
}
std::string InvoiceResource(int64_t id) { return absl::StrCat("invoices/", id); }

Stamp StampFromRow(const pqxx::row& r) {
  Stamp s;
  s.create_time = TimeFromMicros(r["create_us"]);
  s.created_by = r["created_by"].as<std::string>();
  s.update_time = TimeFromMicros(r["update_us"]);
  s.updated_by = r["updated_by"].as<std::string>();
  return s;
}

// ---- plans and entries ----

BillingPlan PlanFromRow(const pqxx::row& r) {
  BillingPlan p;
  p.project_id = r["project_id"].as<int64_t>();
  p.customer_id = r["customer_id"].as<int64_t>();
  p.timing = static_cast<Timing>(r["timing"].as<int>());
  p.tax_category = TaxFromCode(r["tax_category"].as<int>());
  if (!r["recurring_interval"].is_null()) {
    RecurringTerms t;
    t.interval = static_cast<Interval>(r["recurring_interval"].as<int>());
    t.split_revenue = r["split_revenue"].as<bool>();
    t.amount = r["amount"].as<int64_t>();
    t.start_month = MonthFromField(r["start_days"]);
    t.end_month = MonthFromField(r["end_days"]);
    t.auto_renew = r["auto_renew"].as<bool>();
    t.renewal_unit_months = r["renewal_unit_months"].as<int>();
    p.recurring = t;
  }
  p.version = r["version"].as<int64_t>();
  p.stamp = StampFromRow(r);
  return p;
}

BillingEntry EntryFromRow(const pqxx::row& r) {
  BillingEntry e;
  e.id = r["id"].as<int64_t>();
  e.project_id = r["project_id"].as<int64_t>();
  e.customer_id = r["customer_id"].as<int64_t>();
  e.billing_date = DayFromField(r["billing_days"]);
  e.revenue_date = DayFromField(r["revenue_days"]);
  e.amount = r["amount"].as<int64_t>();
  e.tax = r["tax"].as<int64_t>();
  e.tax_category = TaxFromCode(r["tax_category"].as<int>());
  e.status = static_cast<EntryStatus>(r["status"].as<int>());
  e.period = r["period"].as<std::string>();
  e.description = r["description"].as<std::string>();
  e.invoice_id = r["invoice_id"].as<int64_t>();
  e.version = r["version"].as<int64_t>();
  e.kind = static_cast<EntryKind>(r["kind"].as<int>());
  e.commission_charge_id = r["commission_charge_id"].as<int64_t>();
  return e;
}

std::vector<BillingEntry> EntriesFromResult(const pqxx::result& rows) {
  std::vector<BillingEntry> out;
  out.reserve(rows.size());
  for (const pqxx::row& r : rows) out.push_back(EntryFromRow(r));
  return out;
}

// Fills the plan's entries (by billing date, id) and, for lump-sum and split plans, the
// planned entries they stand for (those without a period).
void AttachEntries(pqxx::work& tx, BillingPlan& plan) {
  plan.entries = EntriesFromResult(tx.exec_params(sql::kPlanEntries, plan.project_id));
  plan.planned_entries.clear();
  if (plan.timing == Timing::kRecurring) return;
  for (const BillingEntry& e : plan.entries) {
    if (!e.period.empty()) continue;
    PlannedEntry p;
    p.billing_date = e.billing_date;
    p.revenue_date = e.revenue_date;
    p.amount = e.amount;
    p.description = e.description;
    plan.planned_entries.push_back(std::move(p));
  }
}

enum class Lock { kNone, kShare, kUpdate };

// The plan row only (no entries); NOT_FOUND without one.
absl::StatusOr<BillingPlan> ReadPlanRow(pqxx::work& tx, int64_t project_id, Lock lock) {
  const char* query = lock == Lock::kUpdate  ? sql::kGetPlanForUpdate
                      : lock == Lock::kShare ? sql::kGetPlanForShare
                                             : sql::kGetPlan;
  pqxx::result rows = tx.exec_params(query, project_id);
  if (rows.empty()) return PlanNotFound(project_id);
  return PlanFromRow(rows[0]);
}

absl::StatusOr<BillingEntry> ReadEntry(pqxx::work& tx, int64_t id, bool lock) {
  pqxx::result rows = tx.exec_params(lock ? sql::kGetEntryForUpdate : sql::kGetEntry, id);
  if (rows.empty()) return EntryNotFound(id);
  return EntryFromRow(rows[0]);
}

// The recurring columns of a plan as parameters (NULL together when not recurring).
struct RecurringParams {
  explicit RecurringParams(const BillingPlan& p) {
    if (!p.recurring) return;
    const RecurringTerms& r = *p.recurring;
    interval = Param(absl::StrCat(static_cast<int>(r.interval)));
    split_revenue = Param(r.split_revenue ? "true" : "false");
    amount = Param(absl::StrCat(r.amount));
    start_month = Param(MonthText(r.start_month));
    end_month = Param(MonthText(r.end_month));
    auto_renew = Param(r.auto_renew ? "true" : "false");
    renewal_unit_months = Param(absl::StrCat(r.renewal_unit_months));
  }

  Param interval, split_revenue, amount, start_month, end_month, auto_renew, renewal_unit_months;
};

// Inserts an UNBILLED entry of `plan` with the tax estimate; nullopt when the plan already
// has an entry of the same (non-empty) period.
absl::optional<BillingEntry> InsertEntry(pqxx::work& tx, const BillingPlan& plan,
                                         const PlannedEntry& planned) {
  BillingEntry e;
  e.project_id = plan.project_id;
  e.customer_id = plan.customer_id;
  e.billing_date = planned.billing_date;
  e.revenue_date = planned.revenue_date;
  e.amount = planned.amount;
  e.tax_category = plan.tax_category;
  e.tax = EstimateTax(e.amount, e.tax_category);
  e.status = EntryStatus::kUnbilled;
  e.period = planned.period;
  e.description = planned.description;
  e.version = 1;
  const Param period = NonEmpty(e.period);
  pqxx::result rows = tx.exec_params(sql::kInsertEntry, e.project_id, e.customer_id,
                                     DayText(e.billing_date), DayText(e.revenue_date), e.amount,
                                     e.tax, tax::CategoryCode(e.tax_category), period.get(), e.description);
  if (rows.empty()) return absl::nullopt;
  e.id = rows[0][0].as<int64_t>();
  return e;
}

void WriteEntry(pqxx::work& tx, const BillingEntry& e) {
  const Param invoice_id = NonZero(e.invoice_id);
  tx.exec_params0(sql::kUpdateEntry, e.id, DayText(e.billing_date), DayText(e.revenue_date),
                  e.amount, e.tax, tax::CategoryCode(e.tax_category), static_cast<int>(e.status),
                  e.description, invoice_id.get(), e.version);
}

// Saves `after` over `before` as the next version and audits the difference.
absl::Status SaveEntry(pqxx::work& tx, const Write& w, const BillingEntry& before,
                       BillingEntry& after) {
  after.version = before.version + 1;
  WriteEntry(tx, after);
  return Audit(tx, w, "entry", EntryResource(after.project_id, after.id),
               ChangeJson(before, after));
}

bool SameContent(const BillingEntry& a, const BillingEntry& b) {
  return a.billing_date == b.billing_date && a.revenue_date == b.revenue_date &&
         a.amount == b.amount && a.tax == b.tax && a.tax_category == b.tax_category &&
         a.status == b.status && a.description == b.description;
}

// ---- invoices ----

Invoice InvoiceFromRow(const pqxx::row& r) {
  Invoice i;
  i.id = r["id"].as<int64_t>();
  i.number = r["number"].as<std::string>();
  i.customer_id = r["customer_id"].as<int64_t>();
  i.recipient_name = r["recipient_name"].as<std::string>();
  i.issuer_name = r["issuer_name"].as<std::string>();
  i.issuer_registration_number = r["issuer_registration_number"].as<std::string>();
  i.issuer_address = OptTextFromField(r["issuer_address"]);
  i.issuer_bank_account = OptTextFromField(r["issuer_bank_account"]);
  i.issue_date = DayFromField(r["issue_days"]);
  i.due_date = DayFromField(r["due_days"]);
  i.totals.subtotal = r["subtotal"].as<int64_t>();
  i.totals.tax = r["tax"].as<int64_t>();
  i.totals.total = r["total"].as<int64_t>();
  i.rounding = RoundingFromCode(r["rounding"].as<int>());
  i.status = static_cast<InvoiceStatus>(r["status"].as<int>());
  i.cancel_reason = r["cancel_reason"].as<std::string>();
  if (!r["cancel_us"].is_null()) i.cancel_time = TimeFromMicros(r["cancel_us"]);
  i.paid_amount = r["paid_amount"].as<int64_t>();
  i.written_off_amount = r["written_off_amount"].as<int64_t>();
  i.write_off_reason = r["write_off_reason"].as<std::string>();
  if (!r["write_off_us"].is_null()) i.write_off_time = TimeFromMicros(r["write_off_us"]);
  i.version = r["version"].as<int64_t>();
  i.stamp = StampFromRow(r);
  return i;
}

// Fills the lines and per-rate totals of `invoices`.
void AttachInvoiceDetails(pqxx::work& tx, std::vector<Invoice>& invoices) {
  if (invoices.empty()) return;
  std::vector<int64_t> ids;
  std::map<int64_t, Invoice*> by_id;
  for (Invoice& i : invoices) {
    ids.push_back(i.id);
    by_id[i.id] = &i;
    i.lines.clear();
    i.totals.per_rate.clear();
  }
  const std::string id_array = NumberArray(ids);
  for (const pqxx::row& r : tx.exec_params(sql::kInvoiceLines, id_array)) {
    InvoiceLine l;
    l.entry_id = r["entry_id"].as<int64_t>();
    l.description = r["description"].as<std::string>();
    l.amount = r["amount"].as<int64_t>();
    l.tax_category = TaxFromCode(r["tax_category"].as<int>());
    l.allocated_tax = r["allocated_tax"].as<int64_t>();
    l.revenue_date = DayFromField(r["revenue_days"]);
    by_id.at(r["invoice_id"].as<int64_t>())->lines.push_back(std::move(l));
  }
  for (const pqxx::row& r : tx.exec_params(sql::kInvoiceRateTotals, id_array)) {
    tax::RateTotal t;
    t.category = TaxFromCode(r["tax_category"].as<int>());
    t.taxable = r["taxable_amount"].as<int64_t>();
    t.tax = r["tax"].as<int64_t>();
    by_id.at(r["invoice_id"].as<int64_t>())->totals.per_rate.push_back(t);
  }
}

absl::StatusOr<Invoice> ReadInvoice(pqxx::work& tx, int64_t id, bool lock) {
  pqxx::result rows = tx.exec_params(lock ? sql::kGetInvoiceForUpdate : sql::kGetInvoice, id);
  if (rows.empty()) return InvoiceNotFound(id);
  std::vector<Invoice> one = {InvoiceFromRow(rows[0])};
  AttachInvoiceDetails(tx, one);
  return std::move(one[0]);
}


}  // namespace

// ---- row readers shared with pg_commissions.cc ----

BillingPlan PgBillingStore::PlanRow(const pqxx::row& r) { return PlanFromRow(r); }

std::vector<BillingEntry> PgBillingStore::EntryRows(const pqxx::result& rows) {
  return EntriesFromResult(rows);
}

absl::StatusOr<Invoice> PgBillingStore::InvoiceRow(pqxx::work& tx, int64_t id, bool lock) {
  return ReadInvoice(tx, id, lock);
}

// ---- plans ----

absl::StatusOr<BillingPlan> PgBillingStore::GetPlan(int64_t project_id, absl::Time deadline) {
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<BillingPlan> {
        ASSIGN_OR_RETURN(BillingPlan plan, ReadPlanRow(tx, project_id, Lock::kNone));
        AttachEntries(tx, plan);
        return plan;
      },
      ReadOptions("reading the billing plan"));
}

absl::StatusOr<BillingPlan> PgBillingStore::SetPlan(const WriteContext& ctx,
                                                    const BillingPlan& plan,
                                                    const std::vector<PlannedEntry>& entries,
                                                    absl::optional<int64_t> expected_version) {
  const Write w{ctx, TruncToMicros(ctx.now)};
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<BillingPlan> {
        BillingPlan after = plan;
        after.entries.clear();
        after.planned_entries.clear();
        const RecurringParams recurring(after);
        absl::optional<BillingPlan> before;
        pqxx::result rows = tx.exec_params(sql::kGetPlanForUpdate, after.project_id);
        if (rows.empty()) {
          after.version = 1;
          after.stamp = Stamp{w.now, ctx.actor, w.now, ctx.actor};
          pqxx::result inserted = tx.exec_params(
              sql::kInsertPlan, after.project_id, after.customer_id,
              static_cast<int>(after.timing), tax::CategoryCode(after.tax_category), recurring.interval.get(),
              recurring.split_revenue.get(), recurring.amount.get(), recurring.start_month.get(),
              recurring.end_month.get(), recurring.auto_renew.get(),
              recurring.renewal_unit_months.get(), after.version, TimeText(after.stamp.create_time),
              after.stamp.created_by, TimeText(after.stamp.update_time), after.stamp.updated_by);
          if (inserted.empty()) {
            // A concurrent first SetPlan of the case committed in between: replace its plan.
            rows = tx.exec_params(sql::kGetPlanForUpdate, after.project_id);
            if (rows.empty()) return absl::AbortedError("billing plan changed concurrently");
          }
        }
        if (!rows.empty()) {
          before = PlanFromRow(rows[0]);
          if (expected_version.has_value() && *expected_version != before->version) {
            return EtagMismatch("the billing plan");
          }
          after.version = before->version + 1;
          after.stamp = before->stamp;
          after.stamp.update_time = w.now;
          after.stamp.updated_by = ctx.actor;
          tx.exec_params0(sql::kUpdatePlan, after.project_id, after.customer_id,
                          static_cast<int>(after.timing), tax::CategoryCode(after.tax_category),
                          recurring.interval.get(), recurring.split_revenue.get(),
                          recurring.amount.get(), recurring.start_month.get(),
                          recurring.end_month.get(), recurring.auto_renew.get(),
                          recurring.renewal_unit_months.get(), after.version,
                          TimeText(after.stamp.update_time), after.stamp.updated_by);
        }

        // Regeneration: UNBILLED entries go; the others stay, and a planned period they still
        // hold is not inserted again (the unique key skips it).
        std::vector<int64_t> removed;
        for (const pqxx::row& r : tx.exec_params(sql::kDeleteUnbilledEntries, after.project_id)) {
          removed.push_back(r[0].as<int64_t>());
        }
        std::sort(removed.begin(), removed.end());
        std::vector<int64_t> added;
        for (const PlannedEntry& planned : entries) {
          absl::optional<BillingEntry> e = InsertEntry(tx, after, planned);
          if (e.has_value()) added.push_back(e->id);
        }

        JsonObject change;
        if (before.has_value()) {
          AddChanged(Fields(*before), Fields(after), change);
        } else {
          AddCreated(Fields(after), change);
        }
        if (!removed.empty()) change.Add("entries.removed", Old(JsonIds(removed)));
        if (!added.empty()) change.Add("entries.added", New(JsonIds(added)));
        RETURN_IF_ERROR(Audit(tx, w, "plan", PlanResource(after.project_id), change.Finish()));

        AttachEntries(tx, after);
        return after;
      },
      WriteOptions("setting the billing plan"));
}

// ---- entries ----

absl::StatusOr<std::vector<BillingEntry>> PgBillingStore::ListEntries(const EntryFilter& filter,
                                                                      const EntryPosition& after,
                                                                      int limit,
                                                                      absl::Time deadline) {
  const Param billing_from = OptDay(filter.billing_from);
  const Param billing_to = OptDay(filter.billing_to);
  const Param revenue_from = OptDay(filter.revenue_from);
  const Param revenue_to = OptDay(filter.revenue_to);
  const Param after_date = OptDay(after.billing_date);
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<BillingEntry>> {
        return EntriesFromResult(tx.exec_params(
            sql::kListEntries, filter.project_id, filter.customer_id,
            NumberArray(filter.statuses), billing_from.get(), billing_to.get(),
            revenue_from.get(), revenue_to.get(), after_date.get(), after.id,
            std::max(limit, 0)));
      },
      ReadOptions("listing billing entries"));
}

absl::StatusOr<BillingEntry> PgBillingStore::GetEntry(int64_t id, absl::Time deadline) {
  return pool_.Transact(
      deadline, [&](pqxx::work& tx) { return ReadEntry(tx, id, /*lock=*/false); },
      ReadOptions("reading the billing entry"));
}

absl::StatusOr<std::string> PgBillingStore::AddEntry(const WriteContext& ctx, int64_t project_id,
                                                     const PlannedEntry& entry,
                                                     const Encoder<BillingEntry>& encode) {
  const Write w{ctx, TruncToMicros(ctx.now)};
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) {
        return OncePerRequest(tx, ctx, [&]() -> absl::StatusOr<std::string> {
          ASSIGN_OR_RETURN(const BillingPlan plan, ReadPlanRow(tx, project_id, Lock::kShare));
          if (plan.timing != Timing::kSplit) {
            return WithReason(
                absl::FailedPreconditionError(absl::StrCat(
                    "entries can be added only to a SPLIT plan; case ", project_id, "'s is ",
                    TimingName(plan.timing))),
                "NOT_SPLIT_PLAN");
          }
          PlannedEntry planned = entry;
          planned.period.clear();  // split entries have none
          absl::optional<BillingEntry> e = InsertEntry(tx, plan, planned);
          if (!e.has_value()) return absl::InternalError("split entry was not inserted");
          RETURN_IF_ERROR(
              Audit(tx, w, "entry", EntryResource(e->project_id, e->id), CreationJson(*e)));
          return encode(*e);
        });
      },
      WriteOptions("adding the billing entry"));
}

absl::StatusOr<BillingEntry> PgBillingStore::UpdateEntry(
    const WriteContext& ctx, int64_t id,
    const std::function<absl::Status(BillingEntry&, Timing)>& mutate) {
  const Write w{ctx, TruncToMicros(ctx.now)};
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<BillingEntry> {
        // Plan first, then entry: the order every entry write locks in. A commission entry
        // belongs to no plan (its case may have none); the mutator sees it by its kind.
        ASSIGN_OR_RETURN(const BillingEntry unlocked, ReadEntry(tx, id, /*lock=*/false));
        Timing timing = Timing::kLumpSum;
        if (unlocked.kind == EntryKind::kPlan) {
          ASSIGN_OR_RETURN(const BillingPlan plan,
                           ReadPlanRow(tx, unlocked.project_id, Lock::kShare));
          timing = plan.timing;
        }
        ASSIGN_OR_RETURN(const BillingEntry before, ReadEntry(tx, id, /*lock=*/true));
        BillingEntry after = before;
        RETURN_IF_ERROR(mutate(after, timing));
        // Not the mutator's to change.
        after.id = before.id;
        after.project_id = before.project_id;
        after.customer_id = before.customer_id;
        after.period = before.period;
        after.invoice_id = before.invoice_id;
        after.tax = before.tax;
        after.version = before.version;
        if (before.invoice_id != 0 &&
            (after.billing_date != before.billing_date ||
             after.revenue_date != before.revenue_date || after.amount != before.amount ||
             after.tax_category != before.tax_category ||
             after.description != before.description)) {
          return WithReason(
              absl::FailedPreconditionError(absl::StrCat(
                  "billing entry ", id, " is on invoice ", before.invoice_id,
                  " and cannot be edited; cancel the invoice first")),
              "ENTRY_BILLED");
        }
        if (after.amount != before.amount || after.tax_category != before.tax_category) {
          after.tax = EstimateTax(after.amount, after.tax_category);
        }
        if (SameContent(before, after)) return before;
        RETURN_IF_ERROR(SaveEntry(tx, w, before, after));
        return after;
      },
      WriteOptions("updating the billing entry"));
}

absl::Status PgBillingStore::RemoveEntry(const WriteContext& ctx, int64_t id,
                                         absl::optional<int64_t> expected_version) {
  const Write w{ctx, TruncToMicros(ctx.now)};
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) -> absl::Status {
        ASSIGN_OR_RETURN(const BillingEntry unlocked, ReadEntry(tx, id, /*lock=*/false));
        ASSIGN_OR_RETURN(const BillingPlan plan,
                         ReadPlanRow(tx, unlocked.project_id, Lock::kShare));
        ASSIGN_OR_RETURN(const BillingEntry entry, ReadEntry(tx, id, /*lock=*/true));
        if (expected_version.has_value() && *expected_version != entry.version) {
          return EtagMismatch("the billing entry");
        }
        if (plan.timing != Timing::kSplit) {
          return WithReason(absl::FailedPreconditionError(absl::StrCat(
                                "only entries of a SPLIT plan can be removed; case ",
                                plan.project_id, "'s is ", TimingName(plan.timing))),
                            "NOT_SPLIT_PLAN");
        }
        if (entry.status != EntryStatus::kUnbilled) {
          return WithReason(absl::FailedPreconditionError(absl::StrCat(
                                "billing entry ", id, " is ", EntryStatusName(entry.status),
                                "; only UNBILLED entries can be removed")),
                            "ENTRY_NOT_UNBILLED");
        }
        tx.exec_params0(sql::kDeleteEntry, id);
        JsonObject change;
        AddDeleted(Fields(entry), change);
        return Audit(tx, w, "entry", EntryResource(entry.project_id, entry.id), change.Finish());
      },
      WriteOptions("removing the billing entry"));
}

absl::StatusOr<std::vector<SalesMonthTotal>> PgBillingStore::SalesSummary(absl::CivilMonth from,
                                                                          absl::CivilMonth to,
                                                                          absl::Time deadline) {
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<SalesMonthTotal>> {
        std::vector<SalesMonthTotal> out;
        for (const pqxx::row& r :
             tx.exec_params(sql::kSalesSummary, MonthText(from), MonthText(to + 1))) {
          SalesMonthTotal t;
          t.month = MonthFromField(r["month_days"]);
          t.category = TaxFromCode(r["tax_category"].as<int>());
          t.amount = r["amount"].as<int64_t>();
          t.invoiced_amount = r["invoiced_amount"].as<int64_t>();
          out.push_back(t);
        }
        return out;
      },
      ReadOptions("summing sales"));
}

// ---- renewal ----

absl::StatusOr<std::vector<BillingPlan>> PgBillingStore::RenewalCandidates(absl::CivilMonth month,
                                                                           absl::Time deadline) {
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<BillingPlan>> {
        std::vector<BillingPlan> out;
        for (const pqxx::row& r : tx.exec_params(sql::kRenewalCandidates, MonthText(month))) {
          out.push_back(PlanFromRow(r));
        }
        return out;
      },
      ReadOptions("listing plans due for renewal"));
}

namespace {

// A renewed plan: `before` with the new end month, the next version and the call's stamp.
BillingPlan Renewed(const BillingPlan& before, const PlanRenewal& renewal, const Write& w) {
  BillingPlan after = before;
  after.recurring->end_month = renewal.new_end_month;
  after.version = before.version + 1;
  after.stamp.update_time = w.now;
  after.stamp.updated_by = w.ctx.actor;
  return after;
}

// The plan's audit event of a renewal: the fields changed, the run, the entries added and the
// failures resolved.
std::string RenewalChangeJson(const BillingPlan& before, const BillingPlan& after,
                              int64_t run_id, const std::vector<int64_t>& added,
                              const std::vector<int64_t>& resolved) {
  JsonObject change;
  AddChanged(Fields(before), Fields(after), change);
  change.Add("renewal_run_id", New(absl::StrCat(run_id)));
  change.Add("entries.added", New(JsonIds(added)));
  if (!resolved.empty()) change.Add("renewal_failures.resolved", New(JsonIds(resolved)));
  return change.Finish();
}

// True when `plan` still ends where the renewal was computed from (a plan renewed meanwhile,
// re-planned or no longer recurring is left alone).
bool StillDue(const BillingPlan& plan, const PlanRenewal& renewal) {
  return plan.timing == Timing::kRecurring && plan.recurring.has_value() &&
         plan.recurring->end_month == renewal.old_end_month;
}

}  // namespace

absl::StatusOr<bool> PgBillingStore::ApplyRenewal(const WriteContext& ctx, int64_t run_id,
                                                  const PlanRenewal& renewal) {
  const Write w{ctx, TruncToMicros(ctx.now)};
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<bool> {
        ASSIGN_OR_RETURN(const BillingPlan before,
                         ReadPlanRow(tx, renewal.project_id, Lock::kUpdate));
        // Renewed meanwhile (or re-planned): this renewal was computed from a stale end.
        if (!StillDue(before, renewal)) return false;
        std::vector<int64_t> added;
        for (const PlannedEntry& planned : renewal.entries) {
          absl::optional<BillingEntry> e = InsertEntry(tx, before, planned);
          if (e.has_value()) added.push_back(e->id);
        }
        const BillingPlan after = Renewed(before, renewal, w);
        tx.exec_params0(sql::kSetPlanEndMonth, after.project_id,
                        MonthText(after.recurring->end_month), after.version,
                        TimeText(after.stamp.update_time), after.stamp.updated_by);
        const Param run = NonZero(run_id);
        std::vector<int64_t> resolved;
        for (const pqxx::row& r : tx.exec_params(sql::kResolveRenewalFailures, after.project_id,
                                                 TimeText(w.now), run.get())) {
          resolved.push_back(r[0].as<int64_t>());
        }
        RETURN_IF_ERROR(Audit(tx, w, "plan", PlanResource(after.project_id),
                              RenewalChangeJson(before, after, run_id, added, resolved)));
        return true;
      },
      WriteOptions("renewing the billing plan"));
}

absl::StatusOr<std::vector<bool>> PgBillingStore::ApplyRenewals(
    const WriteContext& ctx, int64_t run_id, const std::vector<PlanRenewal>& renewals) {
  std::vector<int64_t> ids;
  ids.reserve(renewals.size());
  for (const PlanRenewal& r : renewals) ids.push_back(r.project_id);
  std::sort(ids.begin(), ids.end());
  if (std::adjacent_find(ids.begin(), ids.end()) != ids.end()) {
    return absl::InvalidArgumentError("a renewal batch names a plan twice");
  }
  const Write w{ctx, TruncToMicros(ctx.now)};
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<bool>> {
        std::vector<bool> applied(renewals.size(), false);
        if (renewals.empty()) return applied;
        std::map<int64_t, BillingPlan> locked;
        for (const pqxx::row& r : tx.exec_params(sql::kLockPlans, NumberArray(ids))) {
          BillingPlan p = PlanFromRow(r);
          locked.emplace(p.project_id, std::move(p));
        }
        for (int64_t id : ids) {
          if (!locked.count(id)) return PlanNotFound(id);
        }

        // The entries of every plan still due, as arrays (one row per entry, in plan order).
        std::vector<int64_t> e_project, e_customer, e_amount, e_tax;
        std::vector<int> e_category;
        std::vector<std::string> e_billing, e_revenue, e_period, e_description;
        std::vector<int64_t> p_id, p_version;
        std::vector<std::string> p_end;
        for (size_t i = 0; i < renewals.size(); ++i) {
          const PlanRenewal& renewal = renewals[i];
          const BillingPlan& plan = locked.at(renewal.project_id);
          if (!StillDue(plan, renewal)) continue;
          applied[i] = true;
          for (const PlannedEntry& e : renewal.entries) {
            e_project.push_back(plan.project_id);
            e_customer.push_back(plan.customer_id);
            e_billing.push_back(DayText(e.billing_date));
            e_revenue.push_back(DayText(e.revenue_date));
            e_amount.push_back(e.amount);
            e_tax.push_back(EstimateTax(e.amount, plan.tax_category));
            e_category.push_back(tax::CategoryCode(plan.tax_category));
            e_period.push_back(e.period);
            e_description.push_back(e.description);
          }
          p_id.push_back(plan.project_id);
          p_end.push_back(MonthText(renewal.new_end_month));
          p_version.push_back(plan.version + 1);
        }
        if (p_id.empty()) return applied;

        std::map<int64_t, std::vector<int64_t>> added;  // by plan, ids ascending = insert order
        if (!e_project.empty()) {
          for (const pqxx::row& r :
               tx.exec_params(sql::kInsertEntries, NumberArray(e_project), NumberArray(e_customer),
                              db::TextArray(e_billing), db::TextArray(e_revenue),
                              NumberArray(e_amount), NumberArray(e_tax), NumberArray(e_category),
                              db::TextArray(e_period), db::TextArray(e_description))) {
            added[r[1].as<int64_t>()].push_back(r[0].as<int64_t>());
          }
        }
        tx.exec_params0(sql::kSetPlanEndMonths, NumberArray(p_id), db::TextArray(p_end),
                        NumberArray(p_version), TimeText(w.now), ctx.actor);
        const Param run = NonZero(run_id);
        std::map<int64_t, std::vector<int64_t>> resolved;
        for (const pqxx::row& r : tx.exec_params(sql::kResolveRenewalFailuresOf, NumberArray(p_id),
                                                 TimeText(w.now), run.get())) {
          resolved[r[1].as<int64_t>()].push_back(r[0].as<int64_t>());
        }
        AuditBatch audit(ctx, w.now);
        for (size_t i = 0; i < renewals.size(); ++i) {
          if (!applied[i]) continue;
          const BillingPlan& before = locked.at(renewals[i].project_id);
          const BillingPlan after = Renewed(before, renewals[i], w);
          std::vector<int64_t>& ids_added = added[before.project_id];
          std::vector<int64_t>& ids_resolved = resolved[before.project_id];
          std::sort(ids_added.begin(), ids_added.end());
          std::sort(ids_resolved.begin(), ids_resolved.end());
          audit.Add("plan", PlanResource(before.project_id),
                    RenewalChangeJson(before, after, run_id, ids_added, ids_resolved));
        }
        RETURN_IF_ERROR(audit.Write(tx));
        return applied;
      },
      WriteOptions("renewing billing plans"));
}

absl::Status PgBillingStore::RecordRenewalFailure(const WriteContext& ctx, int64_t run_id,
                                                  const RenewalFailure& failure) {
  const Write w{ctx, TruncToMicros(ctx.now)};
  const absl::Time failure_time =
      failure.failure_time == absl::UnixEpoch() ? w.now : TruncToMicros(failure.failure_time);
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) -> absl::Status {
        const int64_t id =
            tx.exec_params1(sql::kUpsertRenewalFailure, run_id, failure.project_id, failure.code,
                            failure.reason, TimeText(failure_time), DayText(failure.as_of))[0]
                .as<int64_t>();
        JsonObject change;
        change.Add("id", New(absl::StrCat(id)));
        change.Add("renewal_run_id", New(absl::StrCat(run_id)));
        change.Add("code", New(json::String(failure.code)));
        change.Add("reason", New(json::String(failure.reason)));
        change.Add("as_of", New(json::Day(failure.as_of)));
        return Audit(tx, w, "renewal_failure", PlanResource(failure.project_id),
                     change.Finish());
      },
      WriteOptions("recording the renewal failure"));
}

absl::StatusOr<std::vector<std::pair<int64_t, RenewalFailure>>>
PgBillingStore::ListRenewalFailures(bool include_resolved, int64_t before_id, int limit,
                                    absl::Time deadline) {
  using Item = std::pair<int64_t, RenewalFailure>;
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<Item>> {
        std::vector<Item> out;
        for (const pqxx::row& r : tx.exec_params(sql::kListRenewalFailures, include_resolved,
                                                 before_id, std::max(limit, 0))) {
          RenewalFailure f;
          f.project_id = r["project_id"].as<int64_t>();
          f.code = r["code"].as<std::string>();
          f.reason = r["reason"].as<std::string>();
          f.failure_time = TimeFromMicros(r["failure_us"]);
          f.as_of = DayFromField(r["as_of_days"]);
          out.emplace_back(r["id"].as<int64_t>(), std::move(f));
        }
        return out;
      },
      ReadOptions("listing renewal failures"));
}

absl::StatusOr<int64_t> PgBillingStore::StartRenewalRun(const WriteContext& ctx,
                                                        absl::CivilDay as_of) {
  const Write w{ctx, TruncToMicros(ctx.now)};
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<int64_t> {
        const int64_t id =
            tx.exec_params1(sql::kInsertRenewalRun, DayText(as_of), ctx.actor, TimeText(w.now))[0]
                .as<int64_t>();
        JsonObject change;
        change.Add("id", New(absl::StrCat(id)));
        change.Add("as_of", New(json::Day(as_of)));
        RETURN_IF_ERROR(
            Audit(tx, w, "renewal_run", absl::StrCat("renewal_runs/", id), change.Finish()));
        return id;
      },
      WriteOptions("starting the renewal run"));
}

absl::StatusOr<std::string> PgBillingStore::FinishRenewalRun(const WriteContext& ctx,
                                                             int64_t run_id,
                                                             const std::string& response) {
  const Write w{ctx, TruncToMicros(ctx.now)};
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) {
        return OncePerRequest(tx, ctx, [&]() -> absl::StatusOr<std::string> {
          RETURN_IF_ERROR(Audit(tx, w, "renewal_run", absl::StrCat("renewal_runs/", run_id),
                                "{\"finished\":{\"new\":true}}"));
          return response;
        });
      },
      WriteOptions("finishing the renewal run"));
}

absl::StatusOr<absl::optional<std::string>> PgBillingStore::FindReplay(const WriteContext& ctx) {
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<absl::optional<std::string>> {
        return db::FindIdempotent(tx, kSchema, ctx.method, ctx.request_id, ctx.request_hash);
      },
      ReadOptions("looking up request_id"));
}

// ---- invoices ----

absl::StatusOr<std::vector<BillingEntry>> PgBillingStore::ReadyEntries(
    int64_t customer_id, const std::vector<int64_t>& ids, absl::Time deadline) {
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<BillingEntry>> {
        return EntriesFromResult(tx.exec_params(sql::kReadyEntries, customer_id, NumberArray(ids)));
      },
      ReadOptions("reading READY entries"));
}

absl::StatusOr<std::string> PgBillingStore::IssueInvoice(const WriteContext& ctx,
                                                         const Invoice& invoice,
                                                         const std::vector<int64_t>& entry_versions,
                                                         const Encoder<Invoice>& encode) {
  if (invoice.lines.empty()) {
    return absl::InvalidArgumentError("an invoice needs at least one line");
  }
  // Negative commission adjustments may be on an invoice, but only with more to bill.
  if (invoice.totals.total <= 0) {
    return WithReason(absl::FailedPreconditionError("an invoice's total must be more than 0 yen"),
                      "INVOICE_TOTAL_NOT_POSITIVE");
  }
  if (entry_versions.size() != invoice.lines.size()) {
    return absl::InvalidArgumentError("one entry version per invoice line is needed");
  }
  std::vector<int64_t> entry_ids;
  for (const InvoiceLine& l : invoice.lines) entry_ids.push_back(l.entry_id);
  if (std::set<int64_t>(entry_ids.begin(), entry_ids.end()).size() != entry_ids.size()) {
    return absl::InvalidArgumentError("an entry appears on two lines of the invoice");
  }
  const Write w{ctx, TruncToMicros(ctx.now)};
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) {
        return OncePerRequest(tx, ctx, [&]() -> absl::StatusOr<std::string> {
          // Locked in id order (kLockEntries), so concurrent issues cannot deadlock.
          std::map<int64_t, BillingEntry> locked;
          for (const pqxx::row& r : tx.exec_params(sql::kLockEntries, NumberArray(entry_ids))) {
            BillingEntry e = EntryFromRow(r);
            locked.emplace(e.id, std::move(e));
          }
          for (size_t k = 0; k < invoice.lines.size(); ++k) {
            const InvoiceLine& line = invoice.lines[k];
            auto it = locked.find(line.entry_id);
            if (it == locked.end()) return EntriesChanged(line.entry_id);
            const BillingEntry& e = it->second;
            if (e.status != EntryStatus::kReady || e.customer_id != invoice.customer_id ||
                e.version != entry_versions[k] || e.amount != line.amount ||
                e.tax_category != line.tax_category) {
              return EntriesChanged(e.id);
            }
          }

          Invoice out = invoice;
          out.status = InvoiceStatus::kIssued;
          out.cancel_reason.clear();
          out.cancel_time.reset();
          out.version = 1;
          out.stamp = Stamp{w.now, ctx.actor, w.now, ctx.actor};
          const int year = static_cast<int>(out.issue_date.year());
          const int64_t sequence =
              tx.exec_params1(sql::kNextInvoiceNumber, year)[0].as<int64_t>();
          out.number = absl::StrFormat("%04d-%06d", year, sequence);
          const Param address = OptText(out.issuer_address);
          const Param bank_account = OptText(out.issuer_bank_account);
          out.id = tx.exec_params1(
                         sql::kInsertInvoice, out.number, out.customer_id, out.recipient_name,
                         out.issuer_name, out.issuer_registration_number, DayText(out.issue_date),
                         DayText(out.due_date), out.totals.subtotal, out.totals.tax,
                         out.totals.total, RoundingCode(out.rounding),
                         static_cast<int>(out.status), out.version,
                         TimeText(out.stamp.create_time), out.stamp.created_by,
                         TimeText(out.stamp.update_time), out.stamp.updated_by,
                         address.get(), bank_account.get())[0]
                       .as<int64_t>();
          for (size_t k = 0; k < out.lines.size(); ++k) {
            const InvoiceLine& l = out.lines[k];
            tx.exec_params0(sql::kInsertInvoiceLine, out.id, static_cast<int>(k + 1), l.entry_id,
                            locked.at(l.entry_id).project_id, l.description, l.amount,
                            tax::CategoryCode(l.tax_category), l.allocated_tax, DayText(l.revenue_date));
          }
          for (const tax::RateTotal& t : out.totals.per_rate) {
            tx.exec_params0(sql::kInsertRateTotal, out.id, tax::CategoryCode(t.category), t.taxable, t.tax);
          }
          RETURN_IF_ERROR(Audit(tx, w, "invoice", InvoiceResource(out.id), CreationJson(out)));

          for (const InvoiceLine& l : out.lines) {
            const BillingEntry& before = locked.at(l.entry_id);
            BillingEntry after = before;
            after.status = EntryStatus::kBilled;
            after.tax = l.allocated_tax;
            after.invoice_id = out.id;
            RETURN_IF_ERROR(SaveEntry(tx, w, before, after));
          }
          return encode(out);
        });
      },
      WriteOptions("issuing the invoice"));
}

absl::StatusOr<Invoice> PgBillingStore::GetInvoice(int64_t id, absl::Time deadline) {
  return pool_.Transact(
      deadline, [&](pqxx::work& tx) { return ReadInvoice(tx, id, /*lock=*/false); },
      ReadOptions("reading the invoice"));
}

absl::StatusOr<std::vector<Invoice>> PgBillingStore::ListInvoices(const InvoiceFilter& filter,
                                                                  int64_t before_id, int limit,
                                                                  absl::Time deadline) {
  const Param issue_from = OptDay(filter.issue_from);
  const Param issue_to = OptDay(filter.issue_to);
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<Invoice>> {
        std::vector<Invoice> out;
        for (const pqxx::row& r :
             tx.exec_params(sql::kListInvoices, filter.customer_id, NumberArray(filter.statuses),
                            issue_from.get(), issue_to.get(), before_id, std::max(limit, 0))) {
          out.push_back(InvoiceFromRow(r));
        }
        AttachInvoiceDetails(tx, out);
        return out;
      },
      ReadOptions("listing invoices"));
}

absl::StatusOr<Invoice> PgBillingStore::CancelInvoice(const WriteContext& ctx, int64_t id,
                                                      const Mutator<Invoice>& mutate) {
  const Write w{ctx, TruncToMicros(ctx.now)};
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<Invoice> {
        // Invoice first, then its entries in id order.
        ASSIGN_OR_RETURN(const Invoice before, ReadInvoice(tx, id, /*lock=*/true));
        Invoice after = before;
        RETURN_IF_ERROR(mutate(after));
        if (before.status == InvoiceStatus::kCancelled) {
          return WithReason(absl::FailedPreconditionError(
                                absl::StrCat("invoice ", before.number, " is already cancelled")),
                            "INVOICE_CANCELLED");
        }
        if (after.status != InvoiceStatus::kCancelled) {
          return absl::InternalError("cancelling mutator did not set CANCELLED");
        }
        // Money received or written off stays booked on the invoice: unallocate it first.
        if (before.paid_amount > 0 || before.written_off_amount > 0) {
          return WithReason(
              absl::FailedPreconditionError(absl::StrCat(
                  "invoice ", before.number, " has ", before.paid_amount, " yen paid and ",
                  before.written_off_amount,
                  " yen written off; unallocate its payments before cancelling it")),
              "INVOICE_PAID");
        }
        // Only the cancellation is the mutator's to change: an issued invoice is immutable.
        Invoice saved = before;
        saved.status = InvoiceStatus::kCancelled;
        saved.cancel_reason = after.cancel_reason;
        saved.cancel_time = after.cancel_time ? TruncToMicros(*after.cancel_time) : w.now;
        saved.version = before.version + 1;
        saved.stamp.update_time = w.now;
        saved.stamp.updated_by = ctx.actor;

        const std::vector<BillingEntry> entries =
            EntriesFromResult(tx.exec_params(sql::kLockInvoiceEntries, id));
        for (const BillingEntry& e : entries) {
          if (e.status == EntryStatus::kPaid || e.status == EntryStatus::kUncollectible) {
            return WithReason(
                absl::FailedPreconditionError(absl::StrCat(
                    "invoice ", before.number, " has entry ", e.id, " marked ",
                    EntryStatusName(e.status), "; it cannot be cancelled")),
                "INVOICE_PAID");
          }
        }
        tx.exec_params0(sql::kUpdateInvoiceStatus, saved.id, static_cast<int>(saved.status),
                        saved.cancel_reason, TimeText(*saved.cancel_time), saved.version,
                        TimeText(saved.stamp.update_time), saved.stamp.updated_by);
        RETURN_IF_ERROR(
            Audit(tx, w, "invoice", InvoiceResource(saved.id), ChangeJson(before, saved)));
        for (const BillingEntry& e : entries) {
          BillingEntry back = e;
          back.status = EntryStatus::kReady;
          back.invoice_id = 0;
          back.tax = EstimateTax(back.amount, back.tax_category);
          RETURN_IF_ERROR(SaveEntry(tx, w, e, back));
        }
        return saved;
      },
      WriteOptions("cancelling the invoice"));
}

// ---- invoice issue requests ----

absl::StatusOr<std::string> PgBillingStore::RequestInvoiceIssue(
    const WriteContext& ctx, const InvoiceIssueRequest& request,
    const Encoder<InvoiceIssueRequest>& encode) {
  const Write w{ctx, TruncToMicros(ctx.now)};
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) {
        return OncePerRequest(tx, ctx, [&]() -> absl::StatusOr<std::string> {
          RETURN_IF_ERROR(ReadPlanRow(tx, request.project_id, Lock::kShare).status());
          if (!request.entry_ids.empty()) {
            std::set<int64_t> found;
            for (const pqxx::row& r : tx.exec_params(sql::kEntriesOfPlan, request.project_id,
                                                     NumberArray(request.entry_ids))) {
              found.insert(r[0].as<int64_t>());
            }
            for (int64_t entry_id : request.entry_ids) {
              if (found.count(entry_id) == 0) {
                return WithReason(absl::NotFoundError(absl::StrCat(
                                      "billing entry ", entry_id, " is not an entry of case ",
                                      request.project_id)),
                                  "ENTRY_NOT_FOUND");
              }
            }
          }
          InvoiceIssueRequest r = request;
          if (r.requested_by.empty()) r.requested_by = ctx.actor;
          r.request_time = w.now;
          r.id = tx.exec_params1(sql::kInsertIssueRequest, r.project_id, NumberArray(r.entry_ids),
                                 r.note, r.requested_by, TimeText(r.request_time))[0]
                     .as<int64_t>();
          const std::string payload = absl::StrCat(
              "{\"request_id\":", r.id, ",\"project_id\":", r.project_id,
              ",\"entry_ids\":", JsonIds(r.entry_ids), ",\"note\":", json::String(r.note),
              ",\"requested_by\":", json::String(r.requested_by),
              ",\"request_time\":", json::Time(r.request_time), "}");
          tx.exec_params1(sql::kInsertOutbox, kOutboxKindIssueRequest, payload,
                          TimeText(w.now));
          JsonObject change;
          change.Add("id", New(absl::StrCat(r.id)));
          change.Add("project_id", New(absl::StrCat(r.project_id)));
          if (!r.entry_ids.empty()) {
            change.Add("entry_ids", New(JsonIds(r.entry_ids)));
          }
          if (!r.note.empty()) change.Add("note", New(json::String(r.note)));
          change.Add("requested_by",
                     New(json::String(r.requested_by)));
          RETURN_IF_ERROR(Audit(tx, w, "invoice_request", absl::StrCat("invoice_requests/", r.id),
                                change.Finish()));
          return encode(r);
        });
      },
      WriteOptions("requesting an invoice"));
}

// ---- notification outbox ----

absl::StatusOr<std::vector<OutboxNotification>> PgBillingStore::PendingNotifications(
    int limit, absl::Time deadline) {
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<OutboxNotification>> {
        std::vector<OutboxNotification> out;
        for (const pqxx::row& r : tx.exec_params(sql::kPendingNotifications, std::max(limit, 0))) {
          OutboxNotification n;
          n.id = r["id"].as<int64_t>();
          n.kind = r["kind"].as<std::string>();
          n.payload = r["payload"].as<std::string>();
          n.created_at = TimeFromMicros(r["created_us"]);
          out.push_back(std::move(n));
        }
        return out;
      },
      ReadOptions("reading pending notifications"));
}

absl::StatusOr<bool> PgBillingStore::MarkNotificationDelivered(int64_t id, absl::Time now,
                                                               absl::Time deadline) {
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<bool> {
        if (!tx.exec_params(sql::kMarkNotificationDelivered, id, TimeText(TruncToMicros(now)))
                 .empty()) {
          return true;
        }
        if (tx.exec_params(sql::kNotificationExists, id).empty()) {
          return WithReason(absl::NotFoundError(absl::StrCat("notification ", id, " not found")),
                            "NOTIFICATION_NOT_FOUND");
        }
        return false;
      },
      WriteOptions("marking a notification delivered"));
}

// ---- audit ----

absl::StatusOr<std::vector<AuditEntry>> PgBillingStore::ListAuditEvents(int64_t project_id,
                                                                        int64_t before_id,
                                                                        int limit,
                                                                        absl::Time deadline) {
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<AuditEntry>> {
        RETURN_IF_ERROR(ReadPlanRow(tx, project_id, Lock::kNone).status());
        const std::string resource = PlanResource(project_id);
        std::vector<AuditEntry> out;
        for (const pqxx::row& r :
             tx.exec_params(sql::kListAuditEvents, resource, absl::StrCat(resource, "/%"),
                            project_id, before_id, std::max(limit, 0))) {
          out.push_back(db::AuditEntryFromRow(r));
        }
        return out;
      },
      ReadOptions("listing audit events"));
}

}  // namespace anken::billing
