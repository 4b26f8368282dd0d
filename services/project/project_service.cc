// Cases, categories, referrals, CSV import and audit (quote_service.cc has the rest).

#include "services/project/project_service.h"

#include <set>
#include <unordered_map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/api/etag.h"
#include "common/api/field_mask.h"
#include "common/api/proto_time.h"
#include "common/auth/auth_interceptor.h"
#include "common/db/idempotency.h"
#include "common/server/handler.h"
#include "common/server/handler_kit.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "services/project/project_csv.h"
#include "services/project/project_rules.h"

namespace anken::project {
namespace {

using auth::Role;
using server::DeadlineOf;

constexpr char kService[] = "/anken.project.v1.ProjectService/";
constexpr int kMaxBatch = 1000;
constexpr size_t kMaxCsvBytes = 20 << 20;
constexpr size_t kMaxCategoryNameChars = 100;  // the proto's "unique, up to 100 characters"

std::string Method(absl::string_view name) { return absl::StrCat(kService, name); }

grpc::Status Fail(const absl::Status& s) { return ToGrpcStatus(s); }

absl::Status ProjectNotFound(int64_t id) {
  return WithReason(absl::NotFoundError(absl::StrCat("case ", id, " not found")),
                    "PROJECT_NOT_FOUND");
}

int64_t PartnerIdOf(const auth::Principal& p) {
  int64_t id = 0;
  if (p.role != Role::kPartner || !absl::SimpleAtoi(p.partner_id, &id)) return 0;
  return id;
}

// A partner may see a case only when it was referred to that partner.
bool Visible(const Project& p, const auth::Principal& caller) {
  if (caller.role != Role::kPartner) return true;
  return p.referral.has_value() && p.referral->partner_id == PartnerIdOf(caller) &&
         PartnerIdOf(caller) != 0;
}

// Keyset position for ListProjects: "<id>" or, by update time, "<unix micros>:<id>".
std::string EncodeProjectPosition(const Project& last, ProjectOrder order) {
  if (order == ProjectOrder::kNumber) return absl::StrCat(last.id);
  return absl::StrCat(absl::ToUnixMicros(last.stamp.update_time), ":", last.id);
}

absl::StatusOr<ProjectPosition> DecodeProjectPosition(absl::string_view pos, ProjectOrder order) {
  ProjectPosition p;
  if (pos.empty()) return p;
  std::vector<absl::string_view> parts = absl::StrSplit(pos, ':');
  int64_t micros = 0;
  const bool ok = order == ProjectOrder::kNumber
                      ? parts.size() == 1 && absl::SimpleAtoi(parts[0], &p.id)
                      : parts.size() == 2 && absl::SimpleAtoi(parts[0], &micros) &&
                            absl::SimpleAtoi(parts[1], &p.id);
  if (!ok) return InvalidField("page_token", "is not valid; repeat the request without page_token");
  p.update_time = absl::FromUnixMicros(micros);
  return p;
}

}  // namespace

namespace convert {

v1::Project ToProto(const Project& p, bool for_partner) {
  v1::Project out;
  out.set_id(p.id);
  out.set_number(p.number);
  out.set_customer_id(p.customer_id);
  out.set_name(p.name);
  out.set_category_id(p.category_id);
  if (p.quote_date.has_value()) api::ToDate(*p.quote_date, out.mutable_quote_date());
  if (p.acceptance_date.has_value()) api::ToDate(*p.acceptance_date, out.mutable_acceptance_date());
  out.set_order_status(static_cast<v1::OrderStatus>(p.order_status));
  out.set_progress_status(p.progress_status);
  out.set_owner(p.owner);
  out.set_department(p.department);
  if (!for_partner) out.set_memo(p.memo);
  if (p.referral.has_value()) {
    const Referral& r = *p.referral;
    auto* pr = out.mutable_referral();
    pr->set_partner_id(r.partner_id);
    api::ToDate(r.referral_date, pr->mutable_referral_date());
    pr->set_outcome(static_cast<v1::ReferralOutcome>(r.outcome));
    if (r.completion_date.has_value()) api::ToDate(*r.completion_date, pr->mutable_completion_date());
    pr->set_amount(r.amount);
    if (r.lost_date.has_value()) api::ToDate(*r.lost_date, pr->mutable_lost_date());
    pr->set_remarks(r.remarks);
    for (const auto& e : r.extra_orders) {
      auto* pe = pr->add_extra_orders();
      pe->set_id(e.id);
      pe->set_kind(static_cast<v1::ExtraOrderKind>(e.kind));
      api::ToDate(e.order_date, pe->mutable_order_date());
      pe->set_amount(e.amount);
      pe->set_note(e.note);
    }
  }
  out.set_etag(api::FormatEtag(p.version));
  server::StampToProto(p.stamp, out.mutable_audit());
  return out;
}

absl::StatusOr<Project> FromProto(const v1::Project& in, Project p) {
  p.customer_id = in.customer_id();
  p.name = in.name();
  p.category_id = in.category_id();
  ASSIGN_OR_RETURN(p.quote_date, api::OptionalDate(in.quote_date(), "project.quote_date"));
  ASSIGN_OR_RETURN(p.acceptance_date, api::OptionalDate(in.acceptance_date(), "project.acceptance_date"));
  if (in.order_status() != v1::ORDER_STATUS_UNSPECIFIED) {
    if (!v1::OrderStatus_IsValid(in.order_status())) {
      return InvalidField("project.order_status", "unknown order status");
    }
    p.order_status = static_cast<OrderStatus>(in.order_status());
  }
  p.progress_status = in.progress_status();
  p.owner = in.owner();
  p.department = in.department();
  p.memo = in.memo();
  if (in.has_referral()) {
    Referral r = p.referral.value_or(Referral());
    r.partner_id = in.referral().partner_id();
    if (!api::IsDateSet(in.referral().referral_date())) {
      return InvalidField("project.referral.referral_date", "is required for a referral", "REQUIRED");
    }
    ASSIGN_OR_RETURN(r.referral_date,
                     api::FromDate(in.referral().referral_date(), "project.referral.referral_date"));
    p.referral = std::move(r);
  } else {
    p.referral.reset();
  }
  return p;
}

}  // namespace convert

auth::MethodRoles ProjectServiceImpl::Roles() {
  const std::initializer_list<Role> write = {Role::kAdmin, Role::kStaff};
  const std::initializer_list<Role> read = {Role::kAdmin, Role::kStaff, Role::kAccounting,
                                            Role::kService};
  auth::MethodRoles r;
  for (const char* m : {"GetProject", "BatchGetProjects", "ListProjects", "ListReferrals"}) {
    r.Allow(Method(m), {Role::kAdmin, Role::kStaff, Role::kAccounting, Role::kService,
                        Role::kPartner});
  }
  for (const char* m : {"ListCategories", "ListProducts", "GetForecast", "ListActivities",
                        "ListAuditEvents"}) {
    r.Allow(Method(m), read);
  }
  for (const char* m : {"CreateProject", "UpdateProject", "CreateCategory", "CreateProduct",
                        "CreateQuote", "UpdateQuote", "SendQuote", "AcceptQuote", "RejectQuote",
                        "CreateActivity", "CreateTodo", "CompleteTodo", "ImportProjects"}) {
    r.Allow(Method(m), write);
  }
  r.Allow(Method("ListMyTodos"), {Role::kAdmin, Role::kStaff, Role::kAccounting});
  // Quotes are internal: read by the people who price and bill, never by partners.
  for (const char* m : {"GetQuote", "ListQuotes", "GetQuotePdf"}) {
    r.Allow(Method(m), {Role::kAdmin, Role::kStaff, Role::kAccounting});
  }
  // Report intake records what partners report; staff may correct.
  r.Allow(Method("RecordReferralOutcome"), {Role::kAdmin, Role::kStaff, Role::kService});
  return r;
}

WriteContext ProjectServiceImpl::Write(const grpc::ServerContext& ctx,
                                       const auth::Principal& caller, absl::string_view method,
                                       const std::string& request_id,
                                       const google::protobuf::Message& request) const {
  return server::MakeWriteContext(ctx, caller, Method(method), request_id, request, clock_);
}

absl::CivilDay ProjectServiceImpl::Today() const { return TokyoToday(clock_); }

absl::Status ProjectServiceImpl::CheckParties(const Project& p, const grpc::ServerContext& ctx) {
  std::vector<int64_t> ids = {p.customer_id};
  if (p.referral.has_value()) ids.push_back(p.referral->partner_id);
  ASSIGN_OR_RETURN(std::vector<CustomerInfo> infos, customers_.Lookup(ids, ctx));
  if (infos.empty() || !infos[0].active) {
    return WithReason(
        absl::FailedPreconditionError(absl::StrCat(
            "customer ", p.customer_id, " is not active (a lead must be converted first)")),
        "CUSTOMER_NOT_ACTIVE");
  }
  if (p.referral.has_value() && (infos.size() < 2 || !infos[1].is_partner)) {
    return WithReason(absl::FailedPreconditionError(absl::StrCat(
                          "customer ", p.referral->partner_id, " is not a partner store")),
                      "NOT_A_PARTNER");
  }
  return absl::OkStatus();
}

// ---- cases ----

grpc::Status ProjectServiceImpl::GetProject(grpc::ServerContext* ctx,
                                            const v1::GetProjectRequest* req, v1::Project* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = server::RequireId(req->id(), "id"); !s.ok()) return Fail(s);
  absl::StatusOr<Project> p = store_.GetProject(req->id(), DeadlineOf(*ctx));
  if (!p.ok()) return Fail(p.status());
  if (!Visible(*p, caller)) return Fail(ProjectNotFound(req->id()));
  *resp = convert::ToProto(*p, caller.role == Role::kPartner);
  return grpc::Status::OK;
}

grpc::Status ProjectServiceImpl::BatchGetProjects(grpc::ServerContext* ctx,
                                                  const v1::BatchGetProjectsRequest* req,
                                                  v1::BatchGetProjectsResponse* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (req->ids_size() == 0) return Fail(InvalidField("ids", "must list at least one id", "REQUIRED"));
  if (req->ids_size() > kMaxBatch) {
    return Fail(InvalidField("ids", absl::StrCat("at most ", kMaxBatch, " ids per call")));
  }
  std::vector<int64_t> ids(req->ids().begin(), req->ids().end());
  absl::StatusOr<std::vector<Project>> found = store_.GetProjects(ids, DeadlineOf(*ctx));
  if (!found.ok()) return Fail(found.status());
  std::unordered_map<int64_t, const Project*> by_id;
  for (const auto& p : *found) by_id[p.id] = &p;
  for (int64_t id : ids) {
    auto it = by_id.find(id);
    if (it == by_id.end() || !Visible(*it->second, caller)) return Fail(ProjectNotFound(id));
    *resp->add_projects() = convert::ToProto(*it->second, caller.role == Role::kPartner);
  }
  return grpc::Status::OK;
}

grpc::Status ProjectServiceImpl::ListProjects(grpc::ServerContext* ctx,
                                              const v1::ListProjectsRequest* req,
                                              v1::ListProjectsResponse* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  absl::StatusOr<int> size = api::PageSize(req->page_size());
  if (!size.ok()) return Fail(size.status());
  ProjectFilter f;
  f.order = req->order_by() == v1::PROJECT_ORDER_BY_UPDATE_TIME_DESC ? ProjectOrder::kUpdateTimeDesc
                                                                     : ProjectOrder::kNumber;
  std::string pos_text;
  if (!req->page_token().empty()) {
    absl::StatusOr<std::string> pos =
        page_tokens_.Decode(req->page_token(), api::FilterFingerprint(*req));
    if (!pos.ok()) return Fail(pos.status());
    pos_text = *pos;
  }
  absl::StatusOr<ProjectPosition> after = DecodeProjectPosition(pos_text, f.order);
  if (!after.ok()) return Fail(after.status());
  f.customer_id = req->customer_id();
  for (int s : req->order_statuses()) {
    if (s < 1 || s > 3) return Fail(InvalidField("order_statuses", "unknown order status"));
    f.order_statuses.push_back(static_cast<OrderStatus>(s));
  }
  f.owner = req->owner();
  f.department = req->department();
  f.partner_id = caller.role == Role::kPartner ? PartnerIdOf(caller) : req->partner_id();
  if (caller.role == Role::kPartner && f.partner_id == 0) return grpc::Status::OK;
  struct RangeField {
    const common::v1::Date& date;
    const char* name;
    absl::optional<absl::CivilDay>* out;
  };
  for (const RangeField& r : {RangeField{req->quote_date_from(), "quote_date_from", &f.quote_date_from},
                              RangeField{req->quote_date_to(), "quote_date_to", &f.quote_date_to},
                              RangeField{req->acceptance_date_from(), "acceptance_date_from",
                                         &f.acceptance_date_from},
                              RangeField{req->acceptance_date_to(), "acceptance_date_to",
                                         &f.acceptance_date_to}}) {
    absl::StatusOr<absl::optional<absl::CivilDay>> d = api::OptionalDate(r.date, r.name);
    if (!d.ok()) return Fail(d.status());
    *r.out = *d;
  }
  absl::StatusOr<std::vector<Project>> rows =
      store_.ListProjects(f, *after, *size + 1, DeadlineOf(*ctx));
  if (!rows.ok()) return Fail(rows.status());
  const bool more = server::TrimPage(*rows, *size);
  for (const auto& p : *rows) *resp->add_projects() = convert::ToProto(p, caller.role == Role::kPartner);
  if (more) {
    resp->set_next_page_token(page_tokens_.Encode(api::FilterFingerprint(*req),
                                                  EncodeProjectPosition(rows->back(), f.order)));
  }
  return grpc::Status::OK;
}

grpc::Status ProjectServiceImpl::CreateProject(grpc::ServerContext* ctx,
                                               const v1::CreateProjectRequest* req,
                                               v1::Project* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = db::CheckRequestId(req->request_id()); !s.ok()) return Fail(s);
  absl::StatusOr<Project> p = convert::FromProto(req->project(), Project());
  if (!p.ok()) return Fail(p.status());
  if (p->referral.has_value()) p->referral->outcome = Outcome::kInProgress;
  if (absl::Status s = ValidateProject(*p, options_.progress_statuses, Today()); !s.ok()) {
    return Fail(s);
  }
  if (absl::Status s = CheckParties(*p, *ctx); !s.ok()) return Fail(s);
  return server::ReplyFromBytes(store_.CreateProject(Write(*ctx, caller, "CreateProject", req->request_id(), *req),
                                        std::move(*p),
                                        [](const Project& x) {
                                          return convert::ToProto(x, false).SerializeAsString();
                                        }),
                   resp);
}

grpc::Status ProjectServiceImpl::UpdateProject(grpc::ServerContext* ctx,
                                               const v1::UpdateProjectRequest* req,
                                               v1::Project* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = server::RequireId(req->project().id(), "project.id"); !s.ok()) return Fail(s);
  static const auto* updatable = new std::set<std::string>{
      "customer_id", "name", "category_id", "quote_date", "acceptance_date", "order_status",
      "progress_status", "owner", "department", "memo", "referral.partner_id",
      "referral.referral_date"};
  if (absl::Status s =
          api::ValidateUpdateMask(req->update_mask(), v1::Project::descriptor(), *updatable);
      !s.ok()) {
    return Fail(s);
  }
  const absl::CivilDay today = Today();
  // Parties changed by the update are checked against the customer service first, outside
  // the row lock (a peer call must not hold a database lock).
  absl::StatusOr<Project> current = store_.GetProject(req->project().id(), DeadlineOf(*ctx));
  if (!current.ok()) return Fail(current.status());
  auto merge = [&](Project& row) -> absl::Status {
    v1::Project merged = convert::ToProto(row, false);
    api::ApplyUpdateMask(req->update_mask(), req->project(), &merged);
    ASSIGN_OR_RETURN(row, convert::FromProto(merged, row));
    return ValidateProject(row, options_.progress_statuses, today);
  };
  Project preview = *current;
  if (absl::Status s = merge(preview); !s.ok()) return Fail(s);
  const bool parties_changed =
      preview.customer_id != current->customer_id ||
      (preview.referral.has_value() &&
       (!current->referral.has_value() || preview.referral->partner_id != current->referral->partner_id));
  if (parties_changed) {
    if (absl::Status s = CheckParties(preview, *ctx); !s.ok()) return Fail(s);
  }
  absl::StatusOr<Project> updated = store_.UpdateProject(
      Write(*ctx, caller, "UpdateProject", "", *req), req->project().id(),
      [&](Project& row) -> absl::Status {
        RETURN_IF_ERROR(api::CheckEtag(req->project().etag(), row.version));
        RETURN_IF_ERROR(merge(row));
        // The parties checked above must be the ones written; they differ only when the case
        // changed between the check and the lock.
        auto partner = [](const Project& p) { return p.referral ? p.referral->partner_id : 0; };
        if (row.customer_id != preview.customer_id || partner(row) != partner(preview)) {
          return WithReason(absl::AbortedError("the case changed meanwhile; read it again"),
                            "CONCURRENT_CHANGE");
        }
        return absl::OkStatus();
      });
  if (!updated.ok()) return Fail(updated.status());
  *resp = convert::ToProto(*updated, false);
  return grpc::Status::OK;
}

// ---- categories ----

grpc::Status ProjectServiceImpl::CreateCategory(grpc::ServerContext* ctx,
                                                const v1::CreateCategoryRequest* req,
                                                v1::Category* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  const std::string& name = req->category().name();
  if (name.empty()) return Fail(InvalidField("category.name", "is required", "REQUIRED"));
  if (absl::Status s = CheckMaxChars(name, kMaxCategoryNameChars, "category.name"); !s.ok()) {
    return Fail(s);
  }
  Category c;
  c.name = name;
  absl::StatusOr<Category> created =
      store_.CreateCategory(Write(*ctx, caller, "CreateCategory", "", *req), c);
  if (!created.ok()) return Fail(created.status());
  resp->set_id(created->id);
  resp->set_name(created->name);
  return grpc::Status::OK;
}

grpc::Status ProjectServiceImpl::ListCategories(grpc::ServerContext* ctx,
                                                const v1::ListCategoriesRequest*,
                                                v1::ListCategoriesResponse* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  absl::StatusOr<std::vector<Category>> rows = store_.ListCategories(DeadlineOf(*ctx));
  if (!rows.ok()) return Fail(rows.status());
  for (const auto& c : *rows) {
    auto* out = resp->add_categories();
    out->set_id(c.id);
    out->set_name(c.name);
  }
  return grpc::Status::OK;
}

// ---- referrals ----

grpc::Status ProjectServiceImpl::RecordReferralOutcome(grpc::ServerContext* ctx,
                                                       const v1::RecordReferralOutcomeRequest* req,
                                                       v1::Project* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = db::CheckRequestId(req->request_id()); !s.ok()) return Fail(s);
  if (absl::Status s = server::RequireId(req->project_id(), "project_id"); !s.ok()) return Fail(s);
  if (req->outcome() < 1 || req->outcome() > 3) {
    return Fail(InvalidField("outcome", "must be IN_PROGRESS, COMPLETED or LOST", "REQUIRED"));
  }
  OutcomeReport report;
  report.outcome = static_cast<Outcome>(req->outcome());
  report.amount = req->amount();
  report.remarks = req->remarks();
  absl::StatusOr<absl::optional<absl::CivilDay>> completion =
      api::OptionalDate(req->completion_date(), "completion_date");
  if (!completion.ok()) return Fail(completion.status());
  report.completion_date = *completion;
  absl::StatusOr<absl::optional<absl::CivilDay>> lost = api::OptionalDate(req->lost_date(), "lost_date");
  if (!lost.ok()) return Fail(lost.status());
  report.lost_date = *lost;
  for (int i = 0; i < req->extra_orders_size(); ++i) {
    const auto& e = req->extra_orders(i);
    ExtraOrder x;
    x.kind = static_cast<ExtraKind>(e.kind());
    if (e.kind() < 1 || e.kind() > 2) {
      return Fail(InvalidField(absl::StrCat("extra_orders[", i, "].kind"), "is required", "REQUIRED"));
    }
    absl::StatusOr<absl::CivilDay> d =
        api::FromDate(e.order_date(), absl::StrCat("extra_orders[", i, "].order_date"));
    if (!d.ok()) return Fail(d.status());
    x.order_date = *d;
    x.amount = e.amount();
    x.note = e.note();
    report.extra_orders.push_back(std::move(x));
  }
  const absl::CivilDay today = Today();
  return server::ReplyFromBytes(
      store_.RecordOutcome(
          Write(*ctx, caller, "RecordReferralOutcome", req->request_id(), *req), req->project_id(),
          [&](Project& row) -> absl::Status {
            if (!row.referral.has_value()) {
              return WithReason(absl::FailedPreconditionError(absl::StrCat(
                                    "case ", row.number, " was not referred to a partner")),
                                "NOT_REFERRED");
            }
            return ApplyOutcome(report, today, *row.referral);
          },
          [](const Project& x) { return convert::ToProto(x, false).SerializeAsString(); }),
      resp);
}

grpc::Status ProjectServiceImpl::ListReferrals(grpc::ServerContext* ctx,
                                               const v1::ListReferralsRequest* req,
                                               v1::ListReferralsResponse* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  absl::StatusOr<int> size = api::PageSize(req->page_size());
  if (!size.ok()) return Fail(size.status());
  absl::StatusOr<int64_t> after = api::DecodeIdPosition(page_tokens_, *req, req->page_token());
  if (!after.ok()) return Fail(after.status());
  ProjectFilter f;
  f.partner_id = caller.role == Role::kPartner ? PartnerIdOf(caller) : req->partner_id();
  const bool all_partners = caller.role != Role::kPartner && req->all_partners();
  if (all_partners && f.partner_id != 0) {
    return Fail(InvalidField("all_partners", "cannot be combined with partner_id"));
  }
  if (f.partner_id <= 0 && !all_partners) {
    if (caller.role == Role::kPartner) return grpc::Status::OK;
    return Fail(InvalidField("partner_id", "is required", "REQUIRED"));
  }
  for (int o : req->outcomes()) {
    if (o < 1 || o > 3) return Fail(InvalidField("outcomes", "unknown outcome"));
    f.outcomes.push_back(static_cast<Outcome>(o));
  }
  // Only referred cases have an outcome: without a partner, "any outcome" keeps the list to them.
  if (all_partners && f.outcomes.empty()) {
    f.outcomes = {Outcome::kInProgress, Outcome::kCompleted, Outcome::kLost};
  }
  ProjectPosition pos;
  pos.id = *after;
  absl::StatusOr<std::vector<Project>> rows = store_.ListProjects(f, pos, *size + 1, DeadlineOf(*ctx));
  if (!rows.ok()) return Fail(rows.status());
  const bool more = server::TrimPage(*rows, *size);
  for (const auto& p : *rows) *resp->add_projects() = convert::ToProto(p, caller.role == Role::kPartner);
  if (more) resp->set_next_page_token(api::EncodeIdPosition(page_tokens_, *req, rows->back().id));
  return grpc::Status::OK;
}

// ---- import ----

grpc::Status ProjectServiceImpl::ImportProjects(grpc::ServerContext* ctx,
                                                const v1::ImportProjectsRequest* req,
                                                v1::ImportProjectsResponse* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (!req->validate_only()) {
    if (absl::Status s = db::CheckRequestId(req->request_id()); !s.ok()) return Fail(s);
  }
  if (req->csv().empty()) return Fail(InvalidField("csv", "is empty", "REQUIRED"));
  if (req->csv().size() > kMaxCsvBytes) return Fail(InvalidField("csv", "is larger than 20 MB"));
  absl::StatusOr<ProjectImportPlan> plan =
      PlanProjectImport(req->csv(), options_.progress_statuses, Today());
  if (!plan.ok()) return Fail(plan.status());
  std::vector<ImportRowError> errors = plan->errors;

  // Case numbers to update must exist.
  std::vector<std::string> numbers;
  for (const auto& r : plan->rows) {
    if (!r.project.number.empty()) numbers.push_back(r.project.number);
  }
  if (!numbers.empty()) {
    absl::StatusOr<std::vector<std::string>> existing = store_.ExistingNumbers(numbers, DeadlineOf(*ctx));
    if (!existing.ok()) return Fail(existing.status());
    const std::set<std::string> known(existing->begin(), existing->end());
    for (const auto& r : plan->rows) {
      if (!r.project.number.empty() && !known.count(r.project.number)) {
        errors.push_back({r.row, "", "UNKNOWN_NUMBER",
                          absl::StrCat("案件番号 ", r.project.number, " の案件がありません")});
      }
    }
  }
  // Customers must be active and partners partners: one lookup per distinct id.
  std::set<int64_t> ids;
  for (const auto& r : plan->rows) {
    ids.insert(r.project.customer_id);
    if (r.project.referral.has_value()) ids.insert(r.project.referral->partner_id);
  }
  std::unordered_map<int64_t, CustomerInfo> info;
  for (int64_t id : ids) {
    if (id <= 0) continue;
    absl::StatusOr<std::vector<CustomerInfo>> one = customers_.Lookup({id}, *ctx);
    if (one.ok() && !one->empty()) {
      info[id] = one->front();
    } else if (!one.ok() && one.status().code() != absl::StatusCode::kNotFound) {
      return Fail(one.status());
    }
  }
  for (const auto& r : plan->rows) {
    auto c = info.find(r.project.customer_id);
    if (c == info.end() || !c->second.active) {
      errors.push_back({r.row, "", "CUSTOMER_NOT_ACTIVE",
                        absl::StrCat("顧客ID ", r.project.customer_id, " は有効な顧客ではありません")});
    }
    if (r.project.referral.has_value()) {
      auto pt = info.find(r.project.referral->partner_id);
      if (pt == info.end() || !pt->second.is_partner) {
        errors.push_back({r.row, "", "NOT_A_PARTNER",
                          absl::StrCat("加盟店ID ", r.project.referral->partner_id,
                                       " は加盟店ではありません")});
      }
    }
  }
  std::sort(errors.begin(), errors.end(),
            [](const ImportRowError& a, const ImportRowError& b) { return a.row < b.row; });
  if (!errors.empty() || req->validate_only()) {
    for (const auto& e : errors) {
      auto* pe = resp->add_errors();
      pe->set_row(e.row);
      pe->set_column(e.column);
      pe->set_code(e.code);
      pe->set_message(e.message);
    }
    if (errors.empty()) {
      for (const auto& r : plan->rows) {
        if (r.project.number.empty()) {
          resp->set_projects_created(resp->projects_created() + 1);
        } else {
          resp->set_projects_updated(resp->projects_updated() + 1);
        }
      }
    }
    resp->set_written(false);
    return grpc::Status::OK;
  }
  return server::ReplyFromBytes(
      store_.ImportProjects(Write(*ctx, caller, "ImportProjects", req->request_id(), *req),
                            std::move(plan->rows),
                            [](const ProjectStore::ImportResult& r) {
                              v1::ImportProjectsResponse out;
                              out.set_projects_created(r.created);
                              out.set_projects_updated(r.updated);
                              out.set_written(true);
                              return out.SerializeAsString();
                            }),
      resp);
}

// ---- audit ----

grpc::Status ProjectServiceImpl::ListAuditEvents(grpc::ServerContext* ctx,
                                                 const v1::ListAuditEventsRequest* req,
                                                 v1::ListAuditEventsResponse* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = server::RequireId(req->project_id(), "project_id"); !s.ok()) return Fail(s);
  absl::StatusOr<int> size = api::PageSize(req->page_size());
  if (!size.ok()) return Fail(size.status());
  absl::StatusOr<int64_t> before = api::DecodeIdPosition(page_tokens_, *req, req->page_token());
  if (!before.ok()) return Fail(before.status());
  if (absl::StatusOr<Project> p = store_.GetProject(req->project_id(), DeadlineOf(*ctx)); !p.ok()) {
    return Fail(p.status());
  }
  absl::StatusOr<std::vector<AuditEntry>> rows =
      store_.ListAuditEvents(req->project_id(), *before, *size + 1, DeadlineOf(*ctx));
  if (!rows.ok()) return Fail(rows.status());
  const bool more = server::TrimPage(*rows, *size);
  server::AuditEntriesToProto(*rows, resp->mutable_events());
  if (more) resp->set_next_page_token(api::EncodeIdPosition(page_tokens_, *req, rows->back().id));
  return grpc::Status::OK;
}

}  // namespace anken::project
