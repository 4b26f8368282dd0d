// Products, quotes, the forecast, activities and ToDos (project_service.cc has the cases).

#include <set>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "common/api/etag.h"
#include "common/api/field_mask.h"
#include "common/api/proto_time.h"
#include "common/auth/auth_interceptor.h"
#include "common/db/idempotency.h"
#include "common/server/handler.h"
#include "common/server/handler_kit.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "services/project/project_rules.h"
#include "services/project/project_service.h"

namespace anken::project {
namespace {

using auth::Role;
using server::DeadlineOf;

grpc::Status Fail(const absl::Status& s) { return ToGrpcStatus(s); }

// Caps of the free-text fields checked here, in characters (project_rules.cc has the case's
// and the quote's). Sized for what a person types into one field of the UI.
constexpr size_t kMaxProductNameChars = 200;  // as a case name
constexpr size_t kMaxUnitChars = 20;          // 式, 個, 時間, ケース…; as a quote line's unit
constexpr size_t kMaxSummaryChars = 2000;
constexpr size_t kMaxNextActionChars = 500;
constexpr size_t kMaxTitleChars = 200;
constexpr size_t kMaxAssigneeChars = 100;  // a subject, as a case's owner
constexpr size_t kMaxRejectReasonChars = 500;

// The API's and the tax library's categories share their numbering (tax::CategoryCode).
bool ValidTax(int c) { return tax::CategoryFromCode(c).has_value(); }
tax::Category ToTax(common::v1::TaxCategory c) { return *tax::CategoryFromCode(c); }
common::v1::TaxCategory FromTax(tax::Category c) {
  return static_cast<common::v1::TaxCategory>(tax::CategoryCode(c));
}

v1::Product ToProto(const Product& p) {
  v1::Product out;
  out.set_id(p.id);
  out.set_code(p.code);
  out.set_name(p.name);
  out.set_unit(p.unit);
  out.set_unit_price(p.unit_price);
  out.set_tax_category(FromTax(p.tax_category));
  out.set_active(p.active);
  return out;
}

v1::Activity ToProto(const Activity& a) {
  v1::Activity out;
  out.set_id(a.id);
  out.set_project_id(a.project_id);
  out.set_kind(static_cast<v1::ActivityKind>(a.kind));
  api::ToTimestamp(a.occur_time, out.mutable_occur_time());
  out.set_summary(a.summary);
  out.set_next_action(a.next_action);
  out.set_recorded_by(a.recorded_by);
  return out;
}

v1::Todo ToProto(const Todo& t, absl::CivilDay today) {
  v1::Todo out;
  out.set_id(t.id);
  out.set_project_id(t.project_id);
  out.set_title(t.title);
  api::ToDate(t.due_date, out.mutable_due_date());
  out.set_assignee(t.assignee);
  out.set_done(t.done);
  if (t.done_time.has_value()) api::ToTimestamp(*t.done_time, out.mutable_done_time());
  out.set_overdue(!t.done && t.due_date < today);
  return out;
}

void CellToProto(const ForecastCellValue& c, v1::ForecastCell* out) {
  api::ToYearMonth(c.month, out->mutable_month());
  out->set_expected_amount(c.expected_amount);
  out->set_won_amount(c.won_amount);
  out->set_open_quotes(c.open_quotes);
}

}  // namespace

namespace convert {

v1::Quote ToProto(const Quote& q) {
  v1::Quote out;
  out.set_id(q.id);
  out.set_project_id(q.project_id);
  out.set_number(q.number);
  api::ToDate(q.issue_date, out.mutable_issue_date());
  api::ToDate(q.valid_until, out.mutable_valid_until());
  for (const auto& l : q.lines) {
    auto* pl = out.add_lines();
    pl->set_product_id(l.product_id);
    pl->set_description(l.description);
    pl->set_quantity_milli(l.quantity_milli);
    pl->set_unit(l.unit);
    pl->set_unit_price(l.unit_price);
    pl->set_tax_category(FromTax(l.tax_category));
    pl->set_amount(l.amount);
  }
  for (const auto& r : q.totals.per_rate) {
    auto* pr = out.add_rate_totals();
    pr->set_category(FromTax(r.category));
    pr->set_taxable_amount(r.taxable);
    pr->set_tax(r.tax);
  }
  out.set_subtotal(q.totals.subtotal);
  out.set_tax(q.totals.tax);
  out.set_total(q.totals.total);
  out.set_win_probability(q.win_probability);
  api::ToYearMonth(q.expected_order_month, out.mutable_expected_order_month());
  out.set_status(static_cast<v1::QuoteStatus>(q.status));
  out.set_note(q.note);
  out.set_etag(api::FormatEtag(q.version));
  server::StampToProto(q.stamp, out.mutable_audit());
  return out;
}

absl::StatusOr<Quote> FromProto(const v1::Quote& in, Quote q) {
  ASSIGN_OR_RETURN(q.issue_date, api::FromDate(in.issue_date(), "quote.issue_date"));
  ASSIGN_OR_RETURN(q.valid_until, api::FromDate(in.valid_until(), "quote.valid_until"));
  q.lines.clear();
  for (int i = 0; i < in.lines_size(); ++i) {
    const auto& pl = in.lines(i);
    QuoteLine l;
    l.product_id = pl.product_id();
    l.description = pl.description();
    l.quantity_milli = pl.quantity_milli();
    l.unit = pl.unit();
    l.unit_price = pl.unit_price();
    if (pl.tax_category() != common::v1::TAX_CATEGORY_UNSPECIFIED) {
      if (!ValidTax(pl.tax_category())) {
        return InvalidField(absl::StrCat("quote.lines[", i, "].tax_category"), "unknown category");
      }
      l.tax_category = ToTax(pl.tax_category());
    } else if (pl.product_id() == 0) {
      return InvalidField(absl::StrCat("quote.lines[", i, "].tax_category"), "is required",
                          "REQUIRED");
    }
    q.lines.push_back(std::move(l));
  }
  q.win_probability = in.win_probability();
  ASSIGN_OR_RETURN(q.expected_order_month,
                   api::FromYearMonth(in.expected_order_month(), "quote.expected_order_month"));
  q.note = in.note();
  return q;
}

}  // namespace convert

absl::StatusOr<ProductMap> ProjectServiceImpl::LoadProducts(
    const google::protobuf::RepeatedPtrField<v1::QuoteLine>& lines,
    const grpc::ServerContext& ctx) {
  std::vector<int64_t> ids;
  for (const auto& l : lines) {
    if (l.product_id() > 0) ids.push_back(l.product_id());
  }
  ProductMap out;
  if (ids.empty()) return out;
  ASSIGN_OR_RETURN(std::vector<Product> products, store_.GetProducts(ids, DeadlineOf(ctx)));
  for (auto& p : products) out.emplace(p.id, std::move(p));
  return out;
}

absl::Status FillFromProducts(Quote& quote,
                              const google::protobuf::RepeatedPtrField<v1::QuoteLine>& source,
                              const ProductMap& products) {
  for (size_t i = 0; i < quote.lines.size(); ++i) {
    QuoteLine& l = quote.lines[i];
    if (l.product_id <= 0) continue;
    auto it = products.find(l.product_id);
    if (it == products.end()) {
      return WithReason(absl::NotFoundError(absl::StrCat("product ", l.product_id, " not found")),
                        "PRODUCT_NOT_FOUND");
    }
    const Product& p = it->second;
    if (!p.active) {
      return WithReason(absl::FailedPreconditionError(
                            absl::StrCat("product ", p.code, " is no longer sold")),
                        "PRODUCT_INACTIVE");
    }
    // The product's values are defaults: what the line says wins.
    if (l.description.empty()) l.description = p.name;
    if (l.unit.empty()) l.unit = p.unit;
    if (l.unit_price == 0) l.unit_price = p.unit_price;
    if (static_cast<int>(i) < source.size() &&
        source[static_cast<int>(i)].tax_category() == common::v1::TAX_CATEGORY_UNSPECIFIED) {
      l.tax_category = p.tax_category;
    }
  }
  return absl::OkStatus();
}

// ---- products ----

grpc::Status ProjectServiceImpl::CreateProduct(grpc::ServerContext* ctx,
                                               const v1::CreateProductRequest* req,
                                               v1::Product* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  const v1::Product& in = req->product();
  static const auto* kCode = new std::string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
  if (in.code().empty() || in.code().size() > 30 ||
      in.code().find_first_not_of(*kCode) != std::string::npos) {
    return Fail(InvalidField("product.code", "must be 1..30 of A-Z a-z 0-9 - _", "INVALID_CODE"));
  }
  if (in.name().empty()) return Fail(InvalidField("product.name", "is required", "REQUIRED"));
  if (absl::Status s = CheckMaxChars(in.name(), kMaxProductNameChars, "product.name"); !s.ok()) {
    return Fail(s);
  }
  if (absl::Status s = CheckMaxChars(in.unit(), kMaxUnitChars, "product.unit"); !s.ok()) {
    return Fail(s);
  }
  if (in.unit_price() < 0) return Fail(InvalidField("product.unit_price", "must be ≥ 0"));
  if (!ValidTax(in.tax_category())) {
    return Fail(InvalidField("product.tax_category", "is required", "REQUIRED"));
  }
  Product p;
  p.code = in.code();
  p.name = in.name();
  p.unit = in.unit();
  p.unit_price = in.unit_price();
  p.tax_category = ToTax(in.tax_category());
  p.active = true;
  absl::StatusOr<Product> created =
      store_.CreateProduct(Write(*ctx, caller, "CreateProduct", "", *req), p);
  if (!created.ok()) return Fail(created.status());
  *resp = ToProto(*created);
  return grpc::Status::OK;
}

grpc::Status ProjectServiceImpl::ListProducts(grpc::ServerContext* ctx,
                                              const v1::ListProductsRequest* req,
                                              v1::ListProductsResponse* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  absl::StatusOr<int> size = api::PageSize(req->page_size());
  if (!size.ok()) return Fail(size.status());
  absl::StatusOr<int64_t> after = api::DecodeIdPosition(page_tokens_, *req, req->page_token());
  if (!after.ok()) return Fail(after.status());
  absl::StatusOr<std::vector<Product>> rows =
      store_.ListProducts(req->include_inactive(), *after, *size + 1, DeadlineOf(*ctx));
  if (!rows.ok()) return Fail(rows.status());
  const bool more = server::TrimPage(*rows, *size);
  for (const auto& p : *rows) *resp->add_products() = ToProto(p);
  if (more) resp->set_next_page_token(api::EncodeIdPosition(page_tokens_, *req, rows->back().id));
  return grpc::Status::OK;
}

// ---- quotes ----

grpc::Status ProjectServiceImpl::GetQuote(grpc::ServerContext* ctx, const v1::GetQuoteRequest* req,
                                          v1::Quote* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = server::RequireId(req->id(), "id"); !s.ok()) return Fail(s);
  absl::StatusOr<Quote> q = store_.GetQuote(req->id(), DeadlineOf(*ctx));
  if (!q.ok()) return Fail(q.status());
  *resp = convert::ToProto(*q);
  return grpc::Status::OK;
}

grpc::Status ProjectServiceImpl::ListQuotes(grpc::ServerContext* ctx,
                                            const v1::ListQuotesRequest* req,
                                            v1::ListQuotesResponse* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  absl::StatusOr<int> size = api::PageSize(req->page_size());
  if (!size.ok()) return Fail(size.status());
  absl::StatusOr<int64_t> after = api::DecodeIdPosition(page_tokens_, *req, req->page_token());
  if (!after.ok()) return Fail(after.status());
  if (req->project_id() < 0) return Fail(InvalidField("project_id", "must be a positive id"));
  if (req->customer_id() < 0) return Fail(InvalidField("customer_id", "must be a positive id"));
  QuoteFilter f;
  f.project_id = req->project_id();
  f.customer_id = req->customer_id();
  for (int s : req->statuses()) {
    if (s == v1::QUOTE_STATUS_UNSPECIFIED || !v1::QuoteStatus_IsValid(s)) {
      return Fail(InvalidField("statuses", "unknown quote status"));
    }
    f.statuses.push_back(static_cast<QuoteStatus>(s));
  }
  absl::StatusOr<std::vector<Quote>> rows =
      store_.ListQuotes(f, *after, *size + 1, DeadlineOf(*ctx));
  if (!rows.ok()) return Fail(rows.status());
  const bool more = server::TrimPage(*rows, *size);
  for (const auto& q : *rows) *resp->add_quotes() = convert::ToProto(q);
  if (more) resp->set_next_page_token(api::EncodeIdPosition(page_tokens_, *req, rows->back().id));
  return grpc::Status::OK;
}

grpc::Status ProjectServiceImpl::CreateQuote(grpc::ServerContext* ctx,
                                             const v1::CreateQuoteRequest* req, v1::Quote* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = db::CheckRequestId(req->request_id()); !s.ok()) return Fail(s);
  if (absl::Status s = server::RequireId(req->quote().project_id(), "quote.project_id"); !s.ok()) {
    return Fail(s);
  }
  Quote base;
  base.project_id = req->quote().project_id();
  base.status = QuoteStatus::kDraft;
  absl::StatusOr<Quote> q = convert::FromProto(req->quote(), base);
  if (!q.ok()) return Fail(q.status());
  absl::StatusOr<ProductMap> products = LoadProducts(req->quote().lines(), *ctx);
  if (!products.ok()) return Fail(products.status());
  if (absl::Status s = FillFromProducts(*q, req->quote().lines(), *products); !s.ok()) {
    return Fail(s);
  }
  if (absl::Status s = PriceQuote(*q, options_.rounding); !s.ok()) return Fail(s);
  return server::ReplyFromBytes(store_.CreateQuote(Write(*ctx, caller, "CreateQuote", req->request_id(), *req),
                                      std::move(*q),
                                      [](const Quote& x) { return convert::ToProto(x).SerializeAsString(); }),
                   resp);
}

grpc::Status ProjectServiceImpl::UpdateQuote(grpc::ServerContext* ctx,
                                             const v1::UpdateQuoteRequest* req, v1::Quote* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = server::RequireId(req->quote().id(), "quote.id"); !s.ok()) return Fail(s);
  static const auto* updatable = new std::set<std::string>{
      "issue_date", "valid_until", "lines", "win_probability", "expected_order_month", "note"};
  if (absl::Status s =
          api::ValidateUpdateMask(req->update_mask(), v1::Quote::descriptor(), *updatable);
      !s.ok()) {
    return Fail(s);
  }
  // Products are read before the quote is locked: no second connection while holding a lock.
  absl::StatusOr<ProductMap> products = LoadProducts(req->quote().lines(), *ctx);
  if (!products.ok()) return Fail(products.status());
  absl::StatusOr<Quote> updated = store_.UpdateQuote(
      Write(*ctx, caller, "UpdateQuote", "", *req), req->quote().id(),
      [&](Quote& row) -> absl::Status {
        RETURN_IF_ERROR(api::CheckEtag(req->quote().etag(), row.version));
        if (row.status == QuoteStatus::kAccepted || row.status == QuoteStatus::kRejected) {
          return WithReason(absl::FailedPreconditionError("accepted and rejected quotes are final"),
                            "QUOTE_FINAL");
        }
        v1::Quote merged = convert::ToProto(row);
        api::ApplyUpdateMask(req->update_mask(), req->quote(), &merged);
        ASSIGN_OR_RETURN(row, convert::FromProto(merged, row));
        RETURN_IF_ERROR(FillFromProducts(row, merged.lines(), *products));
        return PriceQuote(row, options_.rounding);
      });
  if (!updated.ok()) return Fail(updated.status());
  *resp = convert::ToProto(*updated);
  return grpc::Status::OK;
}

namespace {

// A named quote state change: etag, transition rule, new status.
Mutator<Quote> Transition(const std::string& etag, QuoteStatus to) {
  return [etag, to](Quote& row) -> absl::Status {
    RETURN_IF_ERROR(api::CheckEtag(etag, row.version));
    RETURN_IF_ERROR(CheckQuoteTransition(row.status, to));
    row.status = to;
    return absl::OkStatus();
  };
}

}  // namespace

grpc::Status ProjectServiceImpl::SendQuote(grpc::ServerContext* ctx,
                                           const v1::SendQuoteRequest* req, v1::Quote* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = server::RequireId(req->quote_id(), "quote_id"); !s.ok()) return Fail(s);
  absl::StatusOr<Quote> q = store_.UpdateQuote(Write(*ctx, caller, "SendQuote", "", *req),
                                               req->quote_id(),
                                               Transition(req->etag(), QuoteStatus::kSent));
  if (!q.ok()) return Fail(q.status());
  *resp = convert::ToProto(*q);
  return grpc::Status::OK;
}

grpc::Status ProjectServiceImpl::AcceptQuote(grpc::ServerContext* ctx,
                                             const v1::AcceptQuoteRequest* req, v1::Quote* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = server::RequireId(req->quote_id(), "quote_id"); !s.ok()) return Fail(s);
  absl::StatusOr<Quote> q = store_.AcceptQuote(Write(*ctx, caller, "AcceptQuote", "", *req),
                                               req->quote_id(),
                                               Transition(req->etag(), QuoteStatus::kAccepted));
  if (!q.ok()) return Fail(q.status());
  *resp = convert::ToProto(*q);
  return grpc::Status::OK;
}

grpc::Status ProjectServiceImpl::RejectQuote(grpc::ServerContext* ctx,
                                             const v1::RejectQuoteRequest* req, v1::Quote* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = server::RequireId(req->quote_id(), "quote_id"); !s.ok()) return Fail(s);
  // The reason is appended to the note, so it is capped as the note is.
  if (absl::Status s = CheckMaxChars(req->reason(), kMaxRejectReasonChars, "reason"); !s.ok()) {
    return Fail(s);
  }
  absl::StatusOr<Quote> q = store_.UpdateQuote(
      Write(*ctx, caller, "RejectQuote", "", *req), req->quote_id(),
      [&, mutate = Transition(req->etag(), QuoteStatus::kRejected)](Quote& row) -> absl::Status {
        RETURN_IF_ERROR(mutate(row));
        if (!req->reason().empty()) {
          row.note = row.note.empty() ? absl::StrCat("[rejected] ", req->reason())
                                      : absl::StrCat(row.note, "\n[rejected] ", req->reason());
        }
        return absl::OkStatus();
      });
  if (!q.ok()) return Fail(q.status());
  *resp = convert::ToProto(*q);
  return grpc::Status::OK;
}

// ---- forecast ----

grpc::Status ProjectServiceImpl::GetForecast(grpc::ServerContext* ctx,
                                             const v1::GetForecastRequest* req,
                                             v1::Forecast* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  absl::StatusOr<absl::CivilMonth> from = api::FromYearMonth(req->from_month(), "from_month");
  if (!from.ok()) return Fail(from.status());
  absl::StatusOr<absl::CivilMonth> to = api::FromYearMonth(req->to_month(), "to_month");
  if (!to.ok()) return Fail(to.status());
  if (*to < *from) return Fail(InvalidField("to_month", "is before from_month"));
  if (*to - *from >= 24) return Fail(InvalidField("to_month", "the range is longer than 24 months"));
  const bool by_owner = req->group_by() == v1::FORECAST_GROUP_BY_OWNER;
  absl::StatusOr<std::vector<ForecastInput>> quotes =
      store_.ForecastQuotes(*from, *to, by_owner, DeadlineOf(*ctx));
  if (!quotes.ok()) return Fail(quotes.status());
  ForecastTable table = ComputeForecast(*quotes, *from, *to);
  for (const auto& [group, cells] : table.rows) {
    auto* row = resp->add_rows();
    row->set_group(group);
    for (const auto& c : cells) CellToProto(c, row->add_cells());
  }
  for (const auto& c : table.totals) CellToProto(c, resp->add_totals());
  return grpc::Status::OK;
}

// ---- activities and ToDos ----

grpc::Status ProjectServiceImpl::CreateActivity(grpc::ServerContext* ctx,
                                                const v1::CreateActivityRequest* req,
                                                v1::Activity* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = db::CheckRequestId(req->request_id()); !s.ok()) return Fail(s);
  const v1::Activity& in = req->activity();
  if (absl::Status s = server::RequireId(in.project_id(), "activity.project_id"); !s.ok()) return Fail(s);
  if (in.kind() < 1 || in.kind() > 5) {
    return Fail(InvalidField("activity.kind", "is required", "REQUIRED"));
  }
  if (!in.has_occur_time()) return Fail(InvalidField("activity.occur_time", "is required", "REQUIRED"));
  if (in.summary().empty()) return Fail(InvalidField("activity.summary", "is required", "REQUIRED"));
  if (absl::Status s = CheckMaxChars(in.summary(), kMaxSummaryChars, "activity.summary"); !s.ok()) {
    return Fail(s);
  }
  if (absl::Status s = CheckMaxChars(in.next_action(), kMaxNextActionChars, "activity.next_action");
      !s.ok()) {
    return Fail(s);
  }
  Activity a;
  a.project_id = in.project_id();
  a.kind = static_cast<ActivityKind>(in.kind());
  a.occur_time = api::FromTimestamp(in.occur_time());
  a.summary = in.summary();
  a.next_action = in.next_action();
  a.recorded_by = caller.subject;
  return server::ReplyFromBytes(store_.CreateActivity(Write(*ctx, caller, "CreateActivity", req->request_id(), *req),
                                         std::move(a),
                                         [](const Activity& x) { return ToProto(x).SerializeAsString(); }),
                   resp);
}

grpc::Status ProjectServiceImpl::ListActivities(grpc::ServerContext* ctx,
                                                const v1::ListActivitiesRequest* req,
                                                v1::ListActivitiesResponse* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = server::RequireId(req->project_id(), "project_id"); !s.ok()) return Fail(s);
  absl::StatusOr<std::vector<Activity>> rows = store_.ListActivities(req->project_id(), DeadlineOf(*ctx));
  if (!rows.ok()) return Fail(rows.status());
  for (const auto& a : *rows) *resp->add_activities() = ToProto(a);
  return grpc::Status::OK;
}

grpc::Status ProjectServiceImpl::CreateTodo(grpc::ServerContext* ctx,
                                            const v1::CreateTodoRequest* req, v1::Todo* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = db::CheckRequestId(req->request_id()); !s.ok()) return Fail(s);
  const v1::Todo& in = req->todo();
  if (absl::Status s = server::RequireId(in.project_id(), "todo.project_id"); !s.ok()) return Fail(s);
  if (in.title().empty()) return Fail(InvalidField("todo.title", "is required", "REQUIRED"));
  if (absl::Status s = CheckMaxChars(in.title(), kMaxTitleChars, "todo.title"); !s.ok()) {
    return Fail(s);
  }
  if (absl::Status s = CheckMaxChars(in.assignee(), kMaxAssigneeChars, "todo.assignee"); !s.ok()) {
    return Fail(s);
  }
  absl::StatusOr<absl::CivilDay> due = api::FromDate(in.due_date(), "todo.due_date");
  if (!due.ok()) return Fail(due.status());
  Todo t;
  t.project_id = in.project_id();
  t.title = in.title();
  t.due_date = *due;
  t.assignee = in.assignee().empty() ? caller.subject : in.assignee();
  const absl::CivilDay today = Today();
  return server::ReplyFromBytes(store_.CreateTodo(Write(*ctx, caller, "CreateTodo", req->request_id(), *req),
                                     std::move(t),
                                     [today](const Todo& x) { return ToProto(x, today).SerializeAsString(); }),
                   resp);
}

grpc::Status ProjectServiceImpl::CompleteTodo(grpc::ServerContext* ctx,
                                              const v1::CompleteTodoRequest* req, v1::Todo* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = server::RequireId(req->id(), "id"); !s.ok()) return Fail(s);
  absl::StatusOr<Todo> t = store_.CompleteTodo(Write(*ctx, caller, "CompleteTodo", "", *req), req->id());
  if (!t.ok()) return Fail(t.status());
  *resp = ToProto(*t, Today());
  return grpc::Status::OK;
}

grpc::Status ProjectServiceImpl::ListMyTodos(grpc::ServerContext* ctx,
                                             const v1::ListMyTodosRequest* req,
                                             v1::ListMyTodosResponse* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  std::string assignee = req->assignee().empty() ? caller.subject : req->assignee();
  // Accounting sees only its own list; staff and admin organise others' work.
  if (assignee != caller.subject && caller.role == Role::kAccounting) {
    return Fail(WithReason(absl::PermissionDeniedError("only your own ToDos"), "ROLE_NOT_ALLOWED"));
  }
  absl::StatusOr<std::vector<Todo>> rows = store_.OpenTodos(assignee, DeadlineOf(*ctx));
  if (!rows.ok()) return Fail(rows.status());
  const absl::CivilDay today = Today();
  SortTodosForDay(*rows, today);
  for (const auto& t : *rows) *resp->add_todos() = ToProto(t, today);
  return grpc::Status::OK;
}

}  // namespace anken::project
