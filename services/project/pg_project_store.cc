#include "services/project/pg_project_store.h"

#include <algorithm>
#include <map>
#include <pqxx/pqxx>

#include "common/db/pg_values.h"
#include "common/json/json_text.h"
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/types/optional.h"
#include "common/db/audit.h"
#include "common/db/idempotency.h"
#include "common/db/prepared.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "services/project/project_queries.h"

namespace anken::project {
namespace {

using db::TruncToMicros;
using db::TimeText;
using db::TimeFromMicros;
using db::DayText;
using db::DayFromField;
using db::OptDayFromField;
using db::OptDay;
using db::NonZero;
using db::TextArray;
using db::Param;
using db::NumberArray;

constexpr absl::string_view kSchema("project");  // == PgProjectStore::kSchema

// ---- conversions ----











// An unknown code cannot be stored (the CHECK admits 1..3).
tax::Category TaxFromCode(int code) {
  return tax::CategoryFromCode(code).value_or(tax::Category::kStandard);
}

absl::string_view OrderStatusName(OrderStatus s) {
  switch (s) {
    case OrderStatus::kProspect: return "PROSPECT";
    case OrderStatus::kWon: return "WON";
    case OrderStatus::kLost: return "LOST";
  }
  return "";
}

absl::string_view OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kInProgress: return "IN_PROGRESS";
    case Outcome::kCompleted: return "COMPLETED";
    case Outcome::kLost: return "LOST";
  }
  return "";
}

absl::string_view ExtraKindName(ExtraKind k) {
  switch (k) {
    case ExtraKind::kAdditional: return "ADDITIONAL";
    case ExtraKind::kRepeat: return "REPEAT";
  }
  return "";
}

absl::string_view QuoteStatusName(QuoteStatus s) {
  switch (s) {
    case QuoteStatus::kDraft: return "DRAFT";
    case QuoteStatus::kSent: return "SENT";
    case QuoteStatus::kAccepted: return "ACCEPTED";
    case QuoteStatus::kRejected: return "REJECTED";
  }
  return "";
}

absl::string_view ActivityKindName(ActivityKind k) {
  switch (k) {
    case ActivityKind::kVisit: return "VISIT";
    case ActivityKind::kCall: return "CALL";
    case ActivityKind::kMail: return "MAIL";
    case ActivityKind::kMeeting: return "MEETING";
    case ActivityKind::kOther: return "OTHER";
  }
  return "";
}

// ---- JSON for audit events ----



std::string JsonOptDay(const absl::optional<absl::CivilDay>& d) {
  return d ? json::Day(*d) : "null";
}

// One audited field: its API name, its value as JSON text, and whether a creation record
// leaves it out as empty.
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
JsonField Bool(absl::string_view key, bool value) {
  return {std::string(key), value ? "true" : "false", !value};
}
JsonField Enum(absl::string_view key, absl::string_view name) {
  return {std::string(key), json::String(name), false};
}
JsonField Day(absl::string_view key, const absl::optional<absl::CivilDay>& d) {
  return {std::string(key), JsonOptDay(d), !d.has_value()};
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
  bool empty() const { return out_.size() == 1; }
  std::string Finish() const { return out_ + "}"; }

 private:
  std::string out_ = "{";
};

// {"field":{"new":..}} for every non-empty field.
void AddCreated(const std::vector<JsonField>& fields, JsonObject& out) {
  for (const JsonField& f : fields) {
    if (!f.empty) out.Add(f.key, absl::StrCat("{\"new\":", f.value, "}"));
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

std::string ExtraOrdersJson(const std::vector<ExtraOrder>& orders) {
  std::vector<std::string> items;
  for (const ExtraOrder& e : orders) {
    items.push_back(absl::StrCat("{\"id\":", e.id, ",\"kind\":", json::String(ExtraKindName(e.kind)),
                                 ",\"order_date\":", json::Day(e.order_date),
                                 ",\"amount\":", e.amount, ",\"note\":", json::String(e.note),
                                 "}"));
  }
  return absl::StrCat("[", absl::StrJoin(items, ","), "]");
}

// Every stored field of a case but its extra orders (append-only, audited as they are added)
// and version / stamps. Two cases with equal Fields() have the same content.
std::vector<JsonField> Fields(const Project& p) {
  std::vector<JsonField> f = {
      Int("id", p.id),
      Str("number", p.number),
      Int("customer_id", p.customer_id),
      Str("name", p.name),
      Int("category_id", p.category_id),
      Day("quote_date", p.quote_date),
      Day("acceptance_date", p.acceptance_date),
      Enum("order_status", OrderStatusName(p.order_status)),
      Str("progress_status", p.progress_status),
      Str("owner", p.owner),
      Str("department", p.department),
      Str("memo", p.memo),
  };
  if (p.referral.has_value()) {
    const Referral& r = *p.referral;
    f.push_back(Int("referral.partner_id", r.partner_id));
    f.push_back(Day("referral.referral_date", r.referral_date));
    f.push_back(Enum("referral.outcome", OutcomeName(r.outcome)));
    f.push_back(Day("referral.completion_date", r.completion_date));
    f.push_back(Int("referral.amount", r.amount));
    f.push_back(Day("referral.lost_date", r.lost_date));
    f.push_back(Str("referral.remarks", r.remarks));
  } else {
    for (absl::string_view key :
         {"referral.partner_id", "referral.referral_date", "referral.outcome",
          "referral.completion_date", "referral.amount", "referral.lost_date",
          "referral.remarks"}) {
      f.push_back(Raw(key, "null", true));
    }
  }
  return f;
}

std::string LinesJson(const std::vector<QuoteLine>& lines) {
  std::vector<std::string> items;
  for (const QuoteLine& l : lines) {
    items.push_back(absl::StrCat(
        "{\"product_id\":", l.product_id, ",\"description\":", json::String(l.description),
        ",\"quantity_milli\":", l.quantity_milli, ",\"unit\":", json::String(l.unit),
        ",\"unit_price\":", l.unit_price,
        ",\"tax_category\":", json::String(tax::CategoryName(l.tax_category)),
        ",\"amount\":", l.amount, "}"));
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

// Every stored field of a quote but version and stamps.
std::vector<JsonField> Fields(const Quote& q) {
  return {
      Int("id", q.id),
      Int("project_id", q.project_id),
      Int("number", q.number),
      Day("issue_date", q.issue_date),
      Day("valid_until", q.valid_until),
      Raw("lines", LinesJson(q.lines), q.lines.empty()),
      Raw("rate_totals", RateTotalsJson(q.totals.per_rate), q.totals.per_rate.empty()),
      Int("subtotal", q.totals.subtotal),
      Int("tax", q.totals.tax),
      Int("total", q.totals.total),
      Raw("win_probability", absl::StrCat(q.win_probability), false),
      Raw("expected_order_month", json::String(absl::FormatCivilTime(q.expected_order_month)),
          false),
      Enum("status", QuoteStatusName(q.status)),
      Str("note", q.note),
  };
}

std::vector<JsonField> Fields(const Activity& a) {
  return {
      Int("id", a.id),
      Int("project_id", a.project_id),
      Enum("kind", ActivityKindName(a.kind)),
      Raw("occur_time", json::Time(a.occur_time), false),
      Str("summary", a.summary),
      Str("next_action", a.next_action),
      Str("recorded_by", a.recorded_by),
  };
}

std::vector<JsonField> Fields(const Todo& t) {
  return {
      Int("id", t.id),
      Int("project_id", t.project_id),
      Str("title", t.title),
      Day("due_date", t.due_date),
      Str("assignee", t.assignee),
      Bool("done", t.done),
      Raw("done_time", t.done_time ? json::Time(*t.done_time) : "null", !t.done_time),
  };
}

std::vector<JsonField> Fields(const Category& c) {
  return {Int("id", c.id), Str("name", c.name)};
}

std::vector<JsonField> Fields(const Product& p) {
  return {
      Int("id", p.id),
      Str("code", p.code),
      Str("name", p.name),
      Str("unit", p.unit),
      Raw("unit_price", absl::StrCat(p.unit_price), false),
      Enum("tax_category", tax::CategoryName(p.tax_category)),
      Raw("active", p.active ? "true" : "false", false),
  };
}

template <typename T>
std::string CreationJson(const T& created) {
  JsonObject out;
  AddCreated(Fields(created), out);
  return out.Finish();
}

std::string ProjectCreationJson(const Project& p) {
  JsonObject out;
  AddCreated(Fields(p), out);
  if (p.referral && !p.referral->extra_orders.empty()) {
    out.Add("referral.extra_orders",
            absl::StrCat("{\"new\":", ExtraOrdersJson(p.referral->extra_orders), "}"));
  }
  return out.Finish();
}

// The change from `before` to `after` ("{}" when the content is the same), with `added`
// extra orders.
std::string ProjectChangeJson(const Project& before, const Project& after,
                              const std::vector<ExtraOrder>& added) {
  JsonObject out;
  AddChanged(Fields(before), Fields(after), out);
  if (!added.empty()) {
    out.Add("referral.extra_orders", absl::StrCat("{\"new\":", ExtraOrdersJson(added), "}"));
  }
  return out.Finish();
}

template <typename T>
std::string ChangeJson(const T& before, const T& after) {
  JsonObject out;
  AddChanged(Fields(before), Fields(after), out);
  return out.Finish();
}

constexpr char kNoChange[] = "{}";

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

absl::Status ProjectNotFound(int64_t id) {
  return WithReason(absl::NotFoundError(absl::StrCat("case ", id, " not found")),
                    "PROJECT_NOT_FOUND");
}

absl::Status CategoryNotFound(int64_t id) {
  return WithReason(absl::NotFoundError(absl::StrCat("category ", id, " not found")),
                    "CATEGORY_NOT_FOUND");
}

// `status` with "row N: " before its message, keeping its code and details.
absl::Status WithRow(const absl::Status& status, int row) {
  if (status.ok()) return status;
  absl::Status out(status.code(), absl::StrCat("row ", row, ": ", status.message()));
  status.ForEachPayload(
      [&out](absl::string_view url, const absl::Cord& payload) { out.SetPayload(url, payload); });
  return out;
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

// For creates that return the row: the response kept for a request_id is the new row's id,
// and a replay reads that row again with `read(id)`.
template <typename T, typename Effect, typename Read>
absl::StatusOr<T> OncePerRequestById(pqxx::work& tx, const WriteContext& ctx, Effect&& effect,
                                     Read&& read) {
  if (!ctx.request_id.empty()) {
    ASSIGN_OR_RETURN(
        absl::optional<std::string> stored,
        db::BeginIdempotent(tx, kSchema, ctx.method, ctx.request_id, ctx.request_hash));
    if (stored.has_value()) {
      int64_t id = 0;
      if (!absl::SimpleAtoi(*stored, &id)) {
        return absl::InternalError("stored response is not an id");
      }
      return read(id);
    }
  }
  ASSIGN_OR_RETURN(T created, effect());
  if (!ctx.request_id.empty()) {
    RETURN_IF_ERROR(
        db::FinishIdempotent(tx, kSchema, ctx.method, ctx.request_id, absl::StrCat(created.id)));
  }
  return created;
}

std::string ProjectResource(int64_t id) { return absl::StrCat("projects/", id); }
std::string QuoteResource(int64_t project_id, int64_t id) {
  return absl::StrCat("projects/", project_id, "/quotes/", id);
}
std::string ActivityResource(int64_t project_id, int64_t id) {
  return absl::StrCat("projects/", project_id, "/activities/", id);
}
std::string TodoResource(int64_t project_id, int64_t id) {
  return absl::StrCat("projects/", project_id, "/todos/", id);
}

Stamp StampFromRow(const pqxx::row& r) {
  Stamp s;
  s.create_time = TimeFromMicros(r["create_us"]);
  s.created_by = r["created_by"].as<std::string>();
  s.update_time = TimeFromMicros(r["update_us"]);
  s.updated_by = r["updated_by"].as<std::string>();
  return s;
}

// ---- cases ----

// The column numbers of a case row, looked up once per result: by name per field,
// PQfnumber's string compares were most of a 50-row list's CPU.
struct ProjectColumns {
  explicit ProjectColumns(const pqxx::row& r)
      : id(r.column_number("id")),
        number(r.column_number("number")),
        customer_id(r.column_number("customer_id")),
        name(r.column_number("name")),
        category_id(r.column_number("category_id")),
        quote_days(r.column_number("quote_days")),
        acceptance_days(r.column_number("acceptance_days")),
        order_status(r.column_number("order_status")),
        progress_status(r.column_number("progress_status")),
        owner(r.column_number("owner")),
        department(r.column_number("department")),
        memo(r.column_number("memo")),
        partner_id(r.column_number("partner_id")),
        referral_days(r.column_number("referral_days")),
        outcome(r.column_number("outcome")),
        completion_days(r.column_number("completion_days")),
        amount(r.column_number("amount")),
        lost_days(r.column_number("lost_days")),
        referral_remarks(r.column_number("referral_remarks")),
        version(r.column_number("version")),
        create_us(r.column_number("create_us")),
        created_by(r.column_number("created_by")),
        update_us(r.column_number("update_us")),
        updated_by(r.column_number("updated_by")) {}

  pqxx::row::size_type id, number, customer_id, name, category_id, quote_days, acceptance_days,
      order_status, progress_status, owner, department, memo, partner_id, referral_days,
      outcome, completion_days, amount, lost_days, referral_remarks, version, create_us,
      created_by, update_us, updated_by;
};

Project ProjectFromRow(const pqxx::row& row, const ProjectColumns& k) {
  db::RowReader r(row);
  Project p;
  p.id = r[k.id].as<int64_t>();
  p.number = r[k.number].as<std::string>();
  p.customer_id = r[k.customer_id].as<int64_t>();
  p.name = r[k.name].as<std::string>();
  p.category_id = r[k.category_id].as<int64_t>();
  p.quote_date = OptDayFromField(r[k.quote_days]);
  p.acceptance_date = OptDayFromField(r[k.acceptance_days]);
  p.order_status = static_cast<OrderStatus>(r[k.order_status].as<int>());
  p.progress_status = r[k.progress_status].as<std::string>();
  p.owner = r[k.owner].as<std::string>();
  p.department = r[k.department].as<std::string>();
  p.memo = r[k.memo].as<std::string>();
  if (!r[k.partner_id].is_null()) {
    Referral ref;
    ref.partner_id = r[k.partner_id].as<int64_t>();
    ref.referral_date = DayFromField(r[k.referral_days]);
    ref.outcome = static_cast<Outcome>(r[k.outcome].as<int>());
    ref.completion_date = OptDayFromField(r[k.completion_days]);
    ref.amount = r[k.amount].is_null() ? 0 : r[k.amount].as<int64_t>();
    ref.lost_date = OptDayFromField(r[k.lost_days]);
    ref.remarks = r[k.referral_remarks].as<std::string>();
    p.referral = std::move(ref);
  }
  p.version = r[k.version].as<int64_t>();
  p.stamp.create_time = TimeFromMicros(r[k.create_us]);
  p.stamp.created_by = r[k.created_by].as<std::string>();
  p.stamp.update_time = TimeFromMicros(r[k.update_us]);
  p.stamp.updated_by = r[k.updated_by].as<std::string>();
  return p;
}

// Fills the extra orders of the referred cases among `projects`, oldest first each.
void AttachExtraOrders(pqxx::work& tx, std::vector<Project>& projects) {
  std::vector<int64_t> ids;
  std::map<int64_t, Project*> by_id;
  for (Project& p : projects) {
    if (!p.referral) continue;
    p.referral->extra_orders.clear();
    ids.push_back(p.id);
    by_id[p.id] = &p;
  }
  if (ids.empty()) return;
  for (const pqxx::row& r : tx.exec_params(sql::kListExtraOrders, NumberArray(ids))) {
    auto it = by_id.find(r["project_id"].as<int64_t>());
    if (it == by_id.end()) continue;  // the CHECK keeps referral-less cases without them
    ExtraOrder e;
    e.id = r["id"].as<int64_t>();
    e.kind = static_cast<ExtraKind>(r["kind"].as<int>());
    e.order_date = DayFromField(r["order_days"]);
    e.amount = r["amount"].as<int64_t>();
    e.note = r["note"].as<std::string>();
    it->second->referral->extra_orders.push_back(std::move(e));
  }
}

std::vector<Project> ProjectsFromResult(pqxx::work& tx, const pqxx::result& rows) {
  std::vector<Project> out;
  out.reserve(rows.size());
  if (!rows.empty()) {
    const ProjectColumns columns(rows[0]);
    for (const pqxx::row& r : rows) out.push_back(ProjectFromRow(r, columns));
  }
  AttachExtraOrders(tx, out);
  return out;
}

absl::StatusOr<Project> ReadProject(pqxx::work& tx, int64_t id, bool lock) {
  pqxx::result rows = lock ? db::ExecPrepared(tx, sql::kGetProjectForUpdate, id)
                           : db::ExecPrepared(tx, sql::kGetProject, id);
  if (rows.empty()) return ProjectNotFound(id);
  return std::move(ProjectsFromResult(tx, rows)[0]);
}

absl::Status CheckProjectExists(pqxx::work& tx, int64_t id) {
  if (tx.exec_params(sql::kProjectExists, id).empty()) return ProjectNotFound(id);
  return absl::OkStatus();
}

absl::Status CheckCategoryExists(pqxx::work& tx, int64_t category_id) {
  if (category_id == 0) return absl::OkStatus();
  if (tx.exec_params(sql::kCategoryExists, category_id).empty()) {
    return CategoryNotFound(category_id);
  }
  return absl::OkStatus();
}

// The nullable columns of a case, as parameters (the referral ones NULL together).
struct ProjectParams {
  explicit ProjectParams(const Project& p)
      : category_id(NonZero(p.category_id)),
        quote_date(OptDay(p.quote_date)),
        acceptance_date(OptDay(p.acceptance_date)) {
    if (!p.referral) return;
    const Referral& r = *p.referral;
    partner_id = Param(absl::StrCat(r.partner_id));
    referral_date = Param(DayText(r.referral_date));
    outcome = Param(absl::StrCat(static_cast<int>(r.outcome)));
    completion_date = OptDay(r.completion_date);
    // 0 is the domain's "no amount"; anything else is stored, so that an amount on a case
    // that must not have one breaks the CHECK instead of vanishing.
    amount = NonZero(r.amount);
    lost_date = OptDay(r.lost_date);
    remarks = Param(r.remarks);
  }

  Param category_id, quote_date, acceptance_date;
  Param partner_id, referral_date, outcome, completion_date, amount, lost_date, remarks;
};

// Inserts the extra orders of `orders` that have no id yet, setting their ids.
void InsertExtraOrders(pqxx::work& tx, const Write& w, int64_t project_id,
                       std::vector<ExtraOrder>& orders) {
  for (ExtraOrder& e : orders) {
    if (e.id != 0) continue;
    e.id = tx.exec_params1(sql::kInsertExtraOrder, project_id, static_cast<int>(e.kind),
                           DayText(e.order_date), e.amount, e.note, TimeText(w.now),
                           w.ctx.actor)[0]
               .as<int64_t>();
  }
}

// Numbers, stamps and inserts a new case (and its extra orders) and writes its audit event.
absl::StatusOr<Project> InsertProject(pqxx::work& tx, const Write& w, Project p) {
  // Before the number is drawn: a client's mistake should not cost a case number.
  RETURN_IF_ERROR(CheckCategoryExists(tx, p.category_id));
  p.number =
      absl::StrFormat("%07d", db::ExecPrepared1(tx, sql::kNextProjectNumber)[0].as<int64_t>());
  p.version = 1;
  p.stamp = Stamp{w.now, w.ctx.actor, w.now, w.ctx.actor};
  if (p.referral) {
    for (ExtraOrder& e : p.referral->extra_orders) e.id = 0;
  }
  const ProjectParams pp(p);
  p.id = db::ExecPrepared1(tx, sql::kInsertProject, p.number, p.customer_id, p.name,
                         pp.category_id.get(), pp.quote_date.get(), pp.acceptance_date.get(),
                         static_cast<int>(p.order_status), p.progress_status, p.owner,
                         p.department, p.memo, pp.partner_id.get(), pp.referral_date.get(),
                         pp.outcome.get(), pp.completion_date.get(), pp.amount.get(),
                         pp.lost_date.get(), pp.remarks.get(), p.version,
                         TimeText(p.stamp.create_time), p.stamp.created_by,
                         TimeText(p.stamp.update_time), p.stamp.updated_by)[0]
             .as<int64_t>();
  if (p.referral) InsertExtraOrders(tx, w, p.id, p.referral->extra_orders);
  RETURN_IF_ERROR(Audit(tx, w, "project", ProjectResource(p.id), ProjectCreationJson(p)));
  return p;
}

// Saves the mutated `after` over the locked `before` (see pg_project_store.h for what the
// store keeps) as the next version, appends new extra orders and audits the difference.
// Returns the stored case: `before` itself when nothing changed.
absl::StatusOr<Project> SaveProject(pqxx::work& tx, const Write& w, const Project& before,
                                    Project after) {
  after.id = before.id;
  after.number = before.number;
  after.version = before.version;
  after.stamp = before.stamp;
  std::vector<ExtraOrder> added;
  if (after.referral) {
    for (const ExtraOrder& e : after.referral->extra_orders) {
      if (e.id == 0) added.push_back(e);
    }
    after.referral->extra_orders =
        before.referral ? before.referral->extra_orders : std::vector<ExtraOrder>();
  } else if (before.referral && !before.referral->extra_orders.empty()) {
    return WithReason(absl::FailedPreconditionError(absl::StrCat(
                          "case ", before.number,
                          " has additional or repeat orders; its referral cannot be removed")),
                      "REFERRAL_HAS_EXTRA_ORDERS");
  }
  std::string change = ProjectChangeJson(before, after, added);
  if (change == kNoChange) return before;
  if (after.category_id != before.category_id) {
    RETURN_IF_ERROR(CheckCategoryExists(tx, after.category_id));
  }
  after.version = before.version + 1;
  after.stamp.update_time = w.now;
  after.stamp.updated_by = w.ctx.actor;
  const ProjectParams pp(after);
  tx.exec_params0(sql::kUpdateProject, after.id, after.customer_id, after.name,
                  pp.category_id.get(), pp.quote_date.get(), pp.acceptance_date.get(),
                  static_cast<int>(after.order_status), after.progress_status, after.owner,
                  after.department, after.memo, pp.partner_id.get(), pp.referral_date.get(),
                  pp.outcome.get(), pp.completion_date.get(), pp.amount.get(),
                  pp.lost_date.get(), pp.remarks.get(), after.version,
                  TimeText(after.stamp.update_time), after.stamp.updated_by);
  if (!added.empty()) {
    InsertExtraOrders(tx, w, after.id, added);
    for (const ExtraOrder& e : added) after.referral->extra_orders.push_back(e);
    // The ids are known now; the audit record names them.
    change = ProjectChangeJson(before, after, added);
  }
  RETURN_IF_ERROR(Audit(tx, w, "project", ProjectResource(after.id), std::move(change)));
  return after;
}

// ---- categories and products ----

Product ProductFromRow(const pqxx::row& r) {
  Product p;
  p.id = r["id"].as<int64_t>();
  p.code = r["code"].as<std::string>();
  p.name = r["name"].as<std::string>();
  p.unit = r["unit"].as<std::string>();
  p.unit_price = r["unit_price"].as<int64_t>();
  p.tax_category = TaxFromCode(r["tax_category"].as<int>());
  p.active = r["active"].as<bool>();
  return p;
}

// ---- quotes ----

Quote QuoteFromRow(const pqxx::row& r) {
  Quote q;
  q.id = r["id"].as<int64_t>();
  q.project_id = r["project_id"].as<int64_t>();
  q.number = r["number"].as<int>();
  q.issue_date = DayFromField(r["issue_days"]);
  q.valid_until = DayFromField(r["valid_until_days"]);
  q.win_probability = r["win_probability"].as<int>();
  q.expected_order_month = absl::CivilMonth(DayFromField(r["expected_month_days"]));
  q.status = static_cast<QuoteStatus>(r["status"].as<int>());
  q.note = r["note"].as<std::string>();
  q.totals.subtotal = r["subtotal"].as<int64_t>();
  q.totals.tax = r["tax"].as<int64_t>();
  q.totals.total = r["total"].as<int64_t>();
  q.version = r["version"].as<int64_t>();
  q.stamp = StampFromRow(r);
  return q;
}

// Fills the per-rate totals (and, when `lines`, the lines) of `quotes`.
void AttachQuoteParts(pqxx::work& tx, std::vector<Quote>& quotes, bool lines) {
  if (quotes.empty()) return;
  std::vector<int64_t> ids;
  std::map<int64_t, Quote*> by_id;
  for (Quote& q : quotes) {
    ids.push_back(q.id);
    by_id[q.id] = &q;
    q.totals.per_rate.clear();
    q.lines.clear();
  }
  const std::string id_array = NumberArray(ids);
  for (const pqxx::row& r : tx.exec_params(sql::kListQuoteRateTotals, id_array)) {
    tax::RateTotal t;
    t.category = TaxFromCode(r["tax_category"].as<int>());
    t.taxable = r["taxable"].as<int64_t>();
    t.tax = r["tax"].as<int64_t>();
    by_id.at(r["quote_id"].as<int64_t>())->totals.per_rate.push_back(t);
  }
  if (!lines) return;
  for (const pqxx::row& r : tx.exec_params(sql::kListQuoteLines, id_array)) {
    QuoteLine l;
    l.product_id = r["product_id"].as<int64_t>();
    l.description = r["description"].as<std::string>();
    l.quantity_milli = r["quantity_milli"].as<int64_t>();
    l.unit = r["unit"].as<std::string>();
    l.unit_price = r["unit_price"].as<int64_t>();
    l.tax_category = TaxFromCode(r["tax_category"].as<int>());
    l.amount = r["amount"].as<int64_t>();
    by_id.at(r["quote_id"].as<int64_t>())->lines.push_back(std::move(l));
  }
}

absl::StatusOr<Quote> ReadQuote(pqxx::work& tx, int64_t id, bool lock) {
  pqxx::result rows = tx.exec_params(lock ? sql::kGetQuoteForUpdate : sql::kGetQuote, id);
  if (rows.empty()) {
    return WithReason(absl::NotFoundError(absl::StrCat("quote ", id, " not found")),
                      "QUOTE_NOT_FOUND");
  }
  std::vector<Quote> one = {QuoteFromRow(rows[0])};
  AttachQuoteParts(tx, one, /*lines=*/true);
  return std::move(one[0]);
}

// Writes the lines and per-rate totals of `q` (whose old ones are gone or never were).
void InsertQuoteParts(pqxx::work& tx, const Quote& q) {
  for (size_t i = 0; i < q.lines.size(); ++i) {
    const QuoteLine& l = q.lines[i];
    const Param product_id = NonZero(l.product_id);
    tx.exec_params0(sql::kInsertQuoteLine, q.id, static_cast<int>(i), product_id.get(),
                    l.description, l.quantity_milli, l.unit, l.unit_price,
                    tax::CategoryCode(l.tax_category), l.amount);
  }
  for (const tax::RateTotal& t : q.totals.per_rate) {
    tx.exec_params0(sql::kInsertQuoteRateTotal, q.id, tax::CategoryCode(t.category), t.taxable, t.tax);
  }
}

void WriteQuoteRow(pqxx::work& tx, const Quote& q) {
  tx.exec_params0(sql::kUpdateQuote, q.id, DayText(q.issue_date), DayText(q.valid_until),
                  q.win_probability, DayText(absl::CivilDay(q.expected_order_month)),
                  static_cast<int>(q.status), q.note, q.totals.subtotal, q.totals.tax,
                  q.totals.total, q.version, TimeText(q.stamp.update_time), q.stamp.updated_by);
}

bool SameLines(const std::vector<QuoteLine>& a, const std::vector<QuoteLine>& b) {
  return LinesJson(a) == LinesJson(b);
}

bool SameRateTotals(const tax::Totals& a, const tax::Totals& b) {
  return RateTotalsJson(a.per_rate) == RateTotalsJson(b.per_rate);
}

// Saves the mutated `after` over the locked `before` as the next version (lines and per-rate
// totals replaced as a whole when they changed) and audits the difference. Returns the stored
// quote: `before` itself when nothing changed.
absl::StatusOr<Quote> SaveQuote(pqxx::work& tx, const Write& w, const Quote& before,
                                Quote after) {
  after.id = before.id;
  after.project_id = before.project_id;
  after.number = before.number;
  after.version = before.version;
  after.stamp = before.stamp;
  std::string change = ChangeJson(before, after);
  if (change == kNoChange) return before;
  after.version = before.version + 1;
  after.stamp.update_time = w.now;
  after.stamp.updated_by = w.ctx.actor;
  WriteQuoteRow(tx, after);
  if (!SameLines(before.lines, after.lines) || !SameRateTotals(before.totals, after.totals)) {
    tx.exec_params0(sql::kDeleteQuoteLines, after.id);
    tx.exec_params0(sql::kDeleteQuoteRateTotals, after.id);
    InsertQuoteParts(tx, after);
  }
  RETURN_IF_ERROR(Audit(tx, w, "quote", QuoteResource(after.project_id, after.id),
                        std::move(change)));
  return after;
}

// ---- activities and todos ----

Activity ActivityFromRow(const pqxx::row& r) {
  Activity a;
  a.id = r["id"].as<int64_t>();
  a.project_id = r["project_id"].as<int64_t>();
  a.kind = static_cast<ActivityKind>(r["kind"].as<int>());
  a.occur_time = TimeFromMicros(r["occur_us"]);
  a.summary = r["summary"].as<std::string>();
  a.next_action = r["next_action"].as<std::string>();
  a.recorded_by = r["recorded_by"].as<std::string>();
  return a;
}

Todo TodoFromRow(const pqxx::row& r) {
  Todo t;
  t.id = r["id"].as<int64_t>();
  t.project_id = r["project_id"].as<int64_t>();
  t.title = r["title"].as<std::string>();
  t.due_date = DayFromField(r["due_days"]);
  t.assignee = r["assignee"].as<std::string>();
  t.done = r["done"].as<bool>();
  if (!r["done_us"].is_null()) t.done_time = TimeFromMicros(r["done_us"]);
  return t;
}

}  // namespace

// ---- cases ----

absl::StatusOr<Project> PgProjectStore::GetProject(int64_t id, absl::Time deadline) {
  return pool_.Transact(
      deadline, [&](pqxx::work& tx) { return ReadProject(tx, id, /*lock=*/false); },
      ReadOptions("reading the case"));
}

absl::StatusOr<std::vector<Project>> PgProjectStore::GetProjects(const std::vector<int64_t>& ids,
                                                                 absl::Time deadline) {
  if (ids.empty()) return std::vector<Project>();
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<Project>> {
        return ProjectsFromResult(tx, tx.exec_params(sql::kGetProjects, NumberArray(ids)));
      },
      ReadOptions("reading cases"));
}

absl::StatusOr<std::vector<Project>> PgProjectStore::ListProjects(const ProjectFilter& filter,
                                                                  const ProjectPosition& after,
                                                                  int limit,
                                                                  absl::Time deadline) {
  const std::string statuses = NumberArray(filter.order_statuses);
  const std::string outcomes = NumberArray(filter.outcomes);
  const Param quote_from = OptDay(filter.quote_date_from);
  const Param quote_to = OptDay(filter.quote_date_to);
  const Param acceptance_from = OptDay(filter.acceptance_date_from);
  const Param acceptance_to = OptDay(filter.acceptance_date_to);
  const int n = std::max(limit, 0);
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<Project>> {
        pqxx::result rows;
        if (filter.order == ProjectOrder::kUpdateTimeDesc) {
          rows = tx.exec_params(sql::kListProjectsByUpdateTime, filter.customer_id, statuses,
                                filter.owner, filter.department, filter.partner_id, outcomes,
                                quote_from.get(), quote_to.get(), acceptance_from.get(),
                                acceptance_to.get(), after.id,
                                TimeText(TruncToMicros(after.update_time)), n);
        } else {
          rows = tx.exec_params(sql::kListProjectsByNumber, filter.customer_id, statuses,
                                filter.owner, filter.department, filter.partner_id, outcomes,
                                quote_from.get(), quote_to.get(), acceptance_from.get(),
                                acceptance_to.get(), after.id, n);
        }
        return ProjectsFromResult(tx, rows);
      },
      ReadOptions("listing cases"));
}

absl::StatusOr<std::string> PgProjectStore::CreateProject(const WriteContext& ctx,
                                                          Project project,
                                                          const Encoder<Project>& encode) {
  const Write w{ctx, TruncToMicros(ctx.now)};
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) {
        return OncePerRequest(tx, ctx, [&]() -> absl::StatusOr<std::string> {
          ASSIGN_OR_RETURN(Project created, InsertProject(tx, w, project));
          return encode(created);
        });
      },
      WriteOptions("creating the case"));
}

absl::StatusOr<Project> PgProjectStore::UpdateProject(const WriteContext& ctx, int64_t id,
                                                      const Mutator<Project>& mutate) {
  const Write w{ctx, TruncToMicros(ctx.now)};
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<Project> {
        ASSIGN_OR_RETURN(const Project before, ReadProject(tx, id, /*lock=*/true));
        Project after = before;
        RETURN_IF_ERROR(mutate(after));
        return SaveProject(tx, w, before, std::move(after));
      },
      WriteOptions("updating the case"));
}

absl::StatusOr<std::string> PgProjectStore::RecordOutcome(const WriteContext& ctx,
                                                          int64_t project_id,
                                                          const Mutator<Project>& mutate,
                                                          const Encoder<Project>& encode) {
  const Write w{ctx, TruncToMicros(ctx.now)};
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) {
        return OncePerRequest(tx, ctx, [&]() -> absl::StatusOr<std::string> {
          ASSIGN_OR_RETURN(const Project before, ReadProject(tx, project_id, /*lock=*/true));
          Project after = before;
          RETURN_IF_ERROR(mutate(after));
          ASSIGN_OR_RETURN(const Project saved, SaveProject(tx, w, before, std::move(after)));
          return encode(saved);
        });
      },
      WriteOptions("recording the referral outcome"));
}

// ---- categories ----

absl::StatusOr<Category> PgProjectStore::CreateCategory(const WriteContext& ctx,
                                                        Category category) {
  const Write w{ctx, TruncToMicros(ctx.now)};
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) {
        return OncePerRequestById<Category>(
            tx, ctx,
            [&]() -> absl::StatusOr<Category> {
              Category c = category;
              pqxx::result rows =
                  tx.exec_params(sql::kInsertCategory, c.name, TimeText(w.now), ctx.actor);
              if (rows.empty()) {
                return WithReason(absl::AlreadyExistsError(absl::StrCat(
                                      "category name ", c.name, " is already taken")),
                                  "CATEGORY_NAME_TAKEN");
              }
              c.id = rows[0][0].as<int64_t>();
              RETURN_IF_ERROR(
                  Audit(tx, w, "category", absl::StrCat("categories/", c.id), CreationJson(c)));
              return c;
            },
            [&](int64_t id) -> absl::StatusOr<Category> {
              pqxx::result rows = tx.exec_params(sql::kGetCategory, id);
              if (rows.empty()) return CategoryNotFound(id);
              return Category{rows[0]["id"].as<int64_t>(), rows[0]["name"].as<std::string>()};
            });
      },
      WriteOptions("creating the category"));
}

absl::StatusOr<std::vector<Category>> PgProjectStore::ListCategories(absl::Time deadline) {
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<Category>> {
        std::vector<Category> out;
        for (const pqxx::row& r : tx.exec(sql::kListCategories)) {
          out.push_back(Category{r["id"].as<int64_t>(), r["name"].as<std::string>()});
        }
        return out;
      },
      ReadOptions("listing categories"));
}

// ---- products ----

absl::StatusOr<Product> PgProjectStore::CreateProduct(const WriteContext& ctx,
                                                      Product product) {
  const Write w{ctx, TruncToMicros(ctx.now)};
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) {
        return OncePerRequestById<Product>(
            tx, ctx,
            [&]() -> absl::StatusOr<Product> {
              Product p = product;
              pqxx::result rows = tx.exec_params(sql::kInsertProduct, p.code, p.name, p.unit,
                                                 p.unit_price, tax::CategoryCode(p.tax_category),
                                                 p.active, TimeText(w.now), ctx.actor);
              if (rows.empty()) {
                return WithReason(absl::AlreadyExistsError(absl::StrCat(
                                      "product code ", p.code, " is already taken")),
                                  "PRODUCT_CODE_TAKEN");
              }
              p.id = rows[0][0].as<int64_t>();
              RETURN_IF_ERROR(
                  Audit(tx, w, "product", absl::StrCat("products/", p.id), CreationJson(p)));
              return p;
            },
            [&](int64_t id) -> absl::StatusOr<Product> {
              pqxx::result rows = tx.exec_params(sql::kGetProduct, id);
              if (rows.empty()) {
                return absl::NotFoundError(absl::StrCat("product ", id, " not found"));
              }
              return ProductFromRow(rows[0]);
            });
      },
      WriteOptions("creating the product"));
}

absl::StatusOr<std::vector<Product>> PgProjectStore::ListProducts(bool include_inactive,
                                                                  int64_t after_id, int limit,
                                                                  absl::Time deadline) {
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<Product>> {
        std::vector<Product> out;
        for (const pqxx::row& r : tx.exec_params(sql::kListProducts, include_inactive, after_id,
                                                 std::max(limit, 0))) {
          out.push_back(ProductFromRow(r));
        }
        return out;
      },
      ReadOptions("listing products"));
}

absl::StatusOr<std::vector<Product>> PgProjectStore::GetProducts(const std::vector<int64_t>& ids,
                                                                 absl::Time deadline) {
  if (ids.empty()) return std::vector<Product>();
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<Product>> {
        std::vector<Product> out;
        for (const pqxx::row& r : tx.exec_params(sql::kGetProducts, NumberArray(ids))) {
          out.push_back(ProductFromRow(r));
        }
        return out;
      },
      ReadOptions("reading products"));
}

// ---- quotes ----

absl::StatusOr<std::string> PgProjectStore::CreateQuote(const WriteContext& ctx, Quote quote,
                                                        const Encoder<Quote>& encode) {
  const Write w{ctx, TruncToMicros(ctx.now)};
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) {
        return OncePerRequest(tx, ctx, [&]() -> absl::StatusOr<std::string> {
          Quote q = quote;
          // The case's lock serializes numbering: two creates cannot both take max + 1.
          if (tx.exec_params(sql::kLockProjectForChildren, q.project_id).empty()) {
            return ProjectNotFound(q.project_id);
          }
          q.number = tx.exec_params1(sql::kNextQuoteNumber, q.project_id)[0].as<int>();
          q.version = 1;
          q.stamp = Stamp{w.now, ctx.actor, w.now, ctx.actor};
          q.id = tx.exec_params1(sql::kInsertQuote, q.project_id, q.number,
                                 DayText(q.issue_date), DayText(q.valid_until),
                                 q.win_probability,
                                 DayText(absl::CivilDay(q.expected_order_month)),
                                 static_cast<int>(q.status), q.note, q.totals.subtotal,
                                 q.totals.tax, q.totals.total, q.version,
                                 TimeText(q.stamp.create_time), q.stamp.created_by,
                                 TimeText(q.stamp.update_time), q.stamp.updated_by)[0]
                     .as<int64_t>();
          InsertQuoteParts(tx, q);
          RETURN_IF_ERROR(
              Audit(tx, w, "quote", QuoteResource(q.project_id, q.id), CreationJson(q)));
          return encode(q);
        });
      },
      WriteOptions("creating the quote"));
}

absl::StatusOr<Quote> PgProjectStore::GetQuote(int64_t id, absl::Time deadline) {
  return pool_.Transact(
      deadline, [&](pqxx::work& tx) { return ReadQuote(tx, id, /*lock=*/false); },
      ReadOptions("reading the quote"));
}

absl::StatusOr<std::vector<Quote>> PgProjectStore::ListQuotes(const QuoteFilter& filter,
                                                              int64_t after_id, int limit,
                                                              absl::Time deadline) {
  const std::string statuses = NumberArray(filter.statuses);
  const int n = std::max(limit, 0);
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<Quote>> {
        std::vector<Quote> quotes;
        for (const pqxx::row& r : tx.exec_params(sql::kListQuotes, filter.project_id,
                                                 filter.customer_id, statuses, after_id, n)) {
          quotes.push_back(QuoteFromRow(r));
        }
        AttachQuoteParts(tx, quotes, /*lines=*/true);
        return quotes;
      },
      ReadOptions("listing quotes"));
}

absl::StatusOr<Quote> PgProjectStore::UpdateQuote(const WriteContext& ctx, int64_t id,
                                                  const Mutator<Quote>& mutate) {
  const Write w{ctx, TruncToMicros(ctx.now)};
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<Quote> {
        ASSIGN_OR_RETURN(const Quote before, ReadQuote(tx, id, /*lock=*/true));
        Quote after = before;
        RETURN_IF_ERROR(mutate(after));
        if (after.status == QuoteStatus::kAccepted && before.status != QuoteStatus::kAccepted) {
          // Accepting also wins the case; only AcceptQuote does both.
          return absl::InternalError("a quote is accepted through AcceptQuote only");
        }
        return SaveQuote(tx, w, before, std::move(after));
      },
      WriteOptions("updating the quote"));
}

absl::StatusOr<Quote> PgProjectStore::AcceptQuote(const WriteContext& ctx, int64_t id,
                                                  const Mutator<Quote>& mutate) {
  const Write w{ctx, TruncToMicros(ctx.now)};
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<Quote> {
        // Case first, then quote: the order CreateQuote locks in. A quote never changes case.
        ASSIGN_OR_RETURN(const Quote unlocked, ReadQuote(tx, id, /*lock=*/false));
        ASSIGN_OR_RETURN(const Project case_before,
                         ReadProject(tx, unlocked.project_id, /*lock=*/true));
        ASSIGN_OR_RETURN(const Quote before, ReadQuote(tx, id, /*lock=*/true));
        Quote after = before;
        RETURN_IF_ERROR(mutate(after));
        if (after.status != QuoteStatus::kAccepted) {
          return absl::InternalError("the accept mutator did not accept the quote");
        }
        if (!tx.exec_params(sql::kOtherAcceptedQuote, before.project_id, before.id).empty()) {
          return WithReason(absl::FailedPreconditionError(absl::StrCat(
                                "another quote of case ", case_before.number,
                                " is already accepted")),
                            "ANOTHER_QUOTE_ACCEPTED");
        }
        ASSIGN_OR_RETURN(Quote saved, SaveQuote(tx, w, before, std::move(after)));
        Project case_after = case_before;
        case_after.order_status = OrderStatus::kWon;
        RETURN_IF_ERROR(SaveProject(tx, w, case_before, std::move(case_after)).status());
        return saved;
      },
      WriteOptions("accepting the quote"));
}

absl::StatusOr<std::vector<ForecastInput>> PgProjectStore::ForecastQuotes(absl::CivilMonth from,
                                                                          absl::CivilMonth to,
                                                                          bool by_owner,
                                                                          absl::Time deadline) {
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<ForecastInput>> {
        std::vector<Quote> quotes;
        std::vector<std::string> groups;
        for (const pqxx::row& r :
             tx.exec_params(sql::kForecastQuotes, DayText(absl::CivilDay(from)),
                            DayText(absl::CivilDay(to)), by_owner)) {
          quotes.push_back(QuoteFromRow(r));
          groups.push_back(r["group_name"].as<std::string>());
        }
        AttachQuoteParts(tx, quotes, /*lines=*/false);
        std::vector<ForecastInput> out;
        out.reserve(quotes.size());
        for (size_t i = 0; i < quotes.size(); ++i) {
          out.push_back(ForecastInput{std::move(groups[i]), std::move(quotes[i])});
        }
        return out;
      },
      ReadOptions("reading the forecast quotes"));
}

// ---- activities ----

absl::StatusOr<std::string> PgProjectStore::CreateActivity(const WriteContext& ctx,
                                                           Activity activity,
                                                           const Encoder<Activity>& encode) {
  const Write w{ctx, TruncToMicros(ctx.now)};
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) {
        return OncePerRequest(tx, ctx, [&]() -> absl::StatusOr<std::string> {
          Activity a = activity;
          RETURN_IF_ERROR(CheckProjectExists(tx, a.project_id));
          a.occur_time = TruncToMicros(a.occur_time);
          if (a.recorded_by.empty()) a.recorded_by = ctx.actor;
          a.id = tx.exec_params1(sql::kInsertActivity, a.project_id, static_cast<int>(a.kind),
                                 TimeText(a.occur_time), a.summary, a.next_action,
                                 a.recorded_by, TimeText(w.now))[0]
                     .as<int64_t>();
          RETURN_IF_ERROR(Audit(tx, w, "activity", ActivityResource(a.project_id, a.id),
                                CreationJson(a)));
          return encode(a);
        });
      },
      WriteOptions("creating the activity"));
}

absl::StatusOr<std::vector<Activity>> PgProjectStore::ListActivities(int64_t project_id,
                                                                     absl::Time deadline) {
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<Activity>> {
        RETURN_IF_ERROR(CheckProjectExists(tx, project_id));
        std::vector<Activity> out;
        for (const pqxx::row& r : tx.exec_params(sql::kListActivities, project_id)) {
          out.push_back(ActivityFromRow(r));
        }
        return out;
      },
      ReadOptions("listing activities"));
}

// ---- todos ----

absl::StatusOr<std::string> PgProjectStore::CreateTodo(const WriteContext& ctx, Todo todo,
                                                       const Encoder<Todo>& encode) {
  const Write w{ctx, TruncToMicros(ctx.now)};
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) {
        return OncePerRequest(tx, ctx, [&]() -> absl::StatusOr<std::string> {
          Todo t = todo;
          RETURN_IF_ERROR(CheckProjectExists(tx, t.project_id));
          t.done = false;
          t.done_time.reset();
          t.id = tx.exec_params1(sql::kInsertTodo, t.project_id, t.title, DayText(t.due_date),
                                 t.assignee, TimeText(w.now), ctx.actor, TimeText(w.now),
                                 ctx.actor)[0]
                     .as<int64_t>();
          RETURN_IF_ERROR(
              Audit(tx, w, "todo", TodoResource(t.project_id, t.id), CreationJson(t)));
          return encode(t);
        });
      },
      WriteOptions("creating the ToDo"));
}

absl::StatusOr<Todo> PgProjectStore::CompleteTodo(const WriteContext& ctx, int64_t id) {
  const Write w{ctx, TruncToMicros(ctx.now)};
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<Todo> {
        pqxx::result rows = tx.exec_params(sql::kGetTodoForUpdate, id);
        if (rows.empty()) {
          return WithReason(absl::NotFoundError(absl::StrCat("ToDo ", id, " not found")),
                            "TODO_NOT_FOUND");
        }
        const Todo before = TodoFromRow(rows[0]);
        if (before.done) return before;
        Todo after = before;
        after.done = true;
        after.done_time = w.now;
        tx.exec_params0(sql::kCompleteTodo, id, TimeText(w.now), ctx.actor);
        RETURN_IF_ERROR(Audit(tx, w, "todo", TodoResource(after.project_id, after.id),
                              ChangeJson(before, after)));
        return after;
      },
      WriteOptions("completing the ToDo"));
}

absl::StatusOr<std::vector<Todo>> PgProjectStore::OpenTodos(const std::string& assignee,
                                                            absl::Time deadline) {
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<Todo>> {
        std::vector<Todo> out;
        for (const pqxx::row& r : tx.exec_params(sql::kOpenTodos, assignee)) {
          out.push_back(TodoFromRow(r));
        }
        return out;
      },
      ReadOptions("listing open ToDos"));
}

// ---- import ----

absl::StatusOr<std::string> PgProjectStore::ImportProjects(const WriteContext& ctx,
                                                           std::vector<ProjectImportRow> rows,
                                                           const Encoder<ImportResult>& encode) {
  const Write w{ctx, TruncToMicros(ctx.now)};
  std::vector<std::string> numbers;
  for (const ProjectImportRow& row : rows) {
    if (!row.project.number.empty()) numbers.push_back(row.project.number);
  }
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) {
        return OncePerRequest(tx, ctx, [&]() -> absl::StatusOr<std::string> {
          // Every case the file updates, locked at once in id order.
          std::map<std::string, Project> stored;
          if (!numbers.empty()) {
            for (Project& p : ProjectsFromResult(
                     tx, tx.exec_params(sql::kGetProjectsByNumberForUpdate,
                                        TextArray(numbers)))) {
              stored.emplace(p.number, std::move(p));
            }
          }
          ImportResult result;
          for (const ProjectImportRow& row : rows) {
            const Project& in = row.project;
            if (in.number.empty()) {
              absl::StatusOr<Project> created = InsertProject(tx, w, in);
              if (!created.ok()) return WithRow(created.status(), row.row);
              ++result.created;
              continue;
            }
            auto it = stored.find(in.number);
            if (it == stored.end()) {
              return WithRow(
                  WithReason(absl::NotFoundError(absl::StrCat("case number ", in.number,
                                                              " not found")),
                             "PROJECT_NOT_FOUND"),
                  row.row);
            }
            const Project& before = it->second;
            if (in.version != 0 && in.version != before.version) {
              return WithRow(
                  WithReason(absl::AbortedError(absl::StrCat(
                                 "case ", in.number, " changed since version ", in.version,
                                 " (now ", before.version, "); export it again")),
                             "VERSION_MISMATCH"),
                  row.row);
            }
            Project after = before;
            after.customer_id = in.customer_id;
            after.name = in.name;
            after.category_id = in.category_id;
            after.quote_date = in.quote_date;
            after.acceptance_date = in.acceptance_date;
            after.order_status = in.order_status;
            after.progress_status = in.progress_status;
            after.owner = in.owner;
            after.department = in.department;
            after.memo = in.memo;
            if (in.referral) {
              if (!after.referral) after.referral = Referral();  // IN_PROGRESS
              after.referral->partner_id = in.referral->partner_id;
              after.referral->referral_date = in.referral->referral_date;
            }
            absl::StatusOr<Project> saved = SaveProject(tx, w, before, std::move(after));
            if (!saved.ok()) return WithRow(saved.status(), row.row);
            it->second = *std::move(saved);  // a later row of the same case sees this one
            ++result.updated;
          }
          return encode(result);
        });
      },
      WriteOptions("importing cases"));
}

absl::StatusOr<std::vector<std::string>> PgProjectStore::ExistingNumbers(
    const std::vector<std::string>& numbers, absl::Time deadline) {
  if (numbers.empty()) return std::vector<std::string>();
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<std::string>> {
        std::vector<std::string> out;
        for (const pqxx::row& r : tx.exec_params(sql::kExistingNumbers, TextArray(numbers))) {
          out.push_back(r[0].as<std::string>());
        }
        return out;
      },
      ReadOptions("looking up case numbers"));
}

// ---- audit ----

absl::StatusOr<std::vector<AuditEntry>> PgProjectStore::ListAuditEvents(int64_t project_id,
                                                                        int64_t before_id,
                                                                        int limit,
                                                                        absl::Time deadline) {
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<AuditEntry>> {
        RETURN_IF_ERROR(CheckProjectExists(tx, project_id));
        const std::string resource = ProjectResource(project_id);
        std::vector<AuditEntry> out;
        for (const pqxx::row& r :
             tx.exec_params(sql::kListAuditEvents, resource, absl::StrCat(resource, "/%"),
                            before_id, std::max(limit, 0))) {
          out.push_back(db::AuditEntryFromRow(r));
        }
        return out;
      },
      ReadOptions("listing audit events"));
}

}  // namespace anken::project
