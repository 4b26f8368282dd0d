#include "services/customer/customer_service.h"

#include <set>
#include <unordered_map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/api/etag.h"
#include "common/api/field_mask.h"
#include "common/api/proto_time.h"
#include "common/auth/auth_interceptor.h"
#include "common/db/idempotency.h"
#include "common/server/handler.h"
#include "common/server/handler_kit.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "services/customer/csv_import.h"
#include "services/customer/customer_rules.h"

namespace anken::customer {
namespace {

using auth::Role;
using server::DeadlineOf;

constexpr char kService[] = "/anken.customer.v1.CustomerService/";
constexpr int kMaxBatch = 1000;
constexpr size_t kMaxCsvBytes = 20 << 20;

std::string Method(absl::string_view name) { return absl::StrCat(kService, name); }

// ---- proto <-> domain ----

v1::Customer ToProto(const Customer& c) {
  v1::Customer p;
  p.set_id(c.id);
  p.set_code(c.code);
  p.set_name(c.name);
  p.set_name_kana(c.name_kana);
  p.set_kind(static_cast<v1::CustomerKind>(c.kind));
  p.set_postal_code(c.postal_code);
  p.set_prefecture(c.prefecture);
  p.set_address_line1(c.address_line1);
  p.set_address_line2(c.address_line2);
  p.set_phone(c.phone);
  p.set_email(c.email);
  p.set_corporate_number(c.corporate_number);
  p.set_invoice_registration_number(c.invoice_registration_number);
  p.mutable_billing_terms()->set_closing_day(c.billing_terms.closing_day);
  p.mutable_billing_terms()->set_payment_month_offset(c.billing_terms.payment_month_offset);
  p.mutable_billing_terms()->set_payment_day(c.billing_terms.payment_day);
  p.set_lifecycle(static_cast<v1::Lifecycle>(c.lifecycle));
  p.set_is_customer(c.is_customer);
  p.set_is_partner(c.is_partner);
  if (c.is_partner) {
    auto* partner = p.mutable_partner();
    partner->set_commission_rate_bp(c.partner.commission_rate_bp);
    partner->set_notification_email(c.partner.notification_email);
    partner->set_report_contact_name(c.partner.report_contact_name);
    partner->set_report_contact_email(c.partner.report_contact_email);
  }
  p.set_memo(c.memo);
  if (c.convert_time.has_value()) api::ToTimestamp(*c.convert_time, p.mutable_convert_time());
  p.set_etag(api::FormatEtag(c.version));
  server::StampToProto(c.stamp, p.mutable_audit());
  return p;
}

// The writable fields of a proto customer onto `c` (ids, lifecycle, stamps untouched).
void FromProto(const v1::Customer& p, Customer& c) {
  c.code = p.code();
  c.name = p.name();
  c.name_kana = p.name_kana();
  c.kind = static_cast<Kind>(p.kind());
  c.postal_code = p.postal_code();
  c.prefecture = p.prefecture();
  c.address_line1 = p.address_line1();
  c.address_line2 = p.address_line2();
  c.phone = p.phone();
  c.email = p.email();
  c.corporate_number = p.corporate_number();
  c.invoice_registration_number = p.invoice_registration_number();
  if (p.has_billing_terms()) {
    c.billing_terms.closing_day = p.billing_terms().closing_day();
    c.billing_terms.payment_month_offset = p.billing_terms().payment_month_offset();
    c.billing_terms.payment_day = p.billing_terms().payment_day();
  } else {
    c.billing_terms = BillingTerms();
  }
  c.is_customer = p.is_customer();
  c.is_partner = p.is_partner();
  c.partner.commission_rate_bp = p.partner().commission_rate_bp();
  c.partner.notification_email = p.partner().notification_email();
  c.partner.report_contact_name = p.partner().report_contact_name();
  c.partner.report_contact_email = p.partner().report_contact_email();
  c.memo = p.memo();
}

v1::Contact ToProto(const Contact& c) {
  v1::Contact p;
  p.set_id(c.id);
  p.set_customer_id(c.customer_id);
  p.set_name(c.name);
  p.set_name_kana(c.name_kana);
  p.set_department(c.department);
  p.set_title(c.title);
  p.set_email(c.email);
  p.set_phone(c.phone);
  p.set_primary(c.primary);
  p.set_etag(api::FormatEtag(c.version));
  server::StampToProto(c.stamp, p.mutable_audit());
  return p;
}

void FromProto(const v1::Contact& p, Contact& c) {
  c.name = p.name();
  c.name_kana = p.name_kana();
  c.department = p.department();
  c.title = p.title();
  c.email = p.email();
  c.phone = p.phone();
  c.primary = p.primary();
}

v1::Inquiry ToProto(const Inquiry& i) {
  v1::Inquiry p;
  p.set_id(i.id);
  p.set_customer_id(i.customer_id);
  p.set_contact_id(i.contact_id);
  p.set_channel(static_cast<v1::InquiryChannel>(i.channel));
  p.set_subject(i.subject);
  p.set_body(i.body);
  p.set_status(static_cast<v1::InquiryStatus>(i.status));
  p.set_assignee(i.assignee);
  for (const auto& r : i.responses) {
    auto* out = p.add_responses();
    out->set_id(r.id);
    out->set_responder(r.responder);
    api::ToTimestamp(r.response_time, out->mutable_response_time());
    out->set_body(r.body);
  }
  p.set_etag(api::FormatEtag(i.version));
  server::StampToProto(i.stamp, p.mutable_audit());
  return p;
}

void FromProto(const v1::Inquiry& p, Inquiry& i) {
  i.contact_id = p.contact_id();
  i.channel = static_cast<InquiryChannel>(p.channel());
  i.subject = p.subject();
  i.body = p.body();
  i.status = static_cast<InquiryStatus>(p.status());
  i.assignee = p.assignee();
}

// ---- errors ----

absl::Status FieldErrorsStatus(const std::vector<FieldError>& errors) {
  if (errors.empty()) return absl::OkStatus();
  std::vector<std::string> parts;
  for (const auto& e : errors) parts.push_back(absl::StrCat(e.field, ": ", e.description));
  absl::Status s = absl::InvalidArgumentError(absl::StrJoin(parts, "; "));
  for (const auto& e : errors) s = WithFieldViolation(std::move(s), e.field, e.description);
  return WithReason(std::move(s), errors.front().reason.empty() ? "INVALID_ARGUMENT"
                                                                : errors.front().reason);
}

grpc::Status Fail(const absl::Status& s) { return ToGrpcStatus(s); }

// The numeric partner id of a partner token.
int64_t PartnerIdOf(const auth::Principal& p) {
  int64_t id = 0;
  if (p.role != Role::kPartner || !absl::SimpleAtoi(p.partner_id, &id)) return 0;
  return id;
}

absl::Status CustomerNotFound(int64_t id) {
  return WithReason(absl::NotFoundError(absl::StrCat("customer ", id, " not found")),
                    "CUSTOMER_NOT_FOUND");
}

const std::set<std::string>& CustomerUpdatable() {
  static const auto* paths = new std::set<std::string>{
      "code", "name", "name_kana", "kind", "postal_code", "prefecture", "address_line1",
      "address_line2", "phone", "email", "corporate_number", "invoice_registration_number",
      "billing_terms", "is_customer", "is_partner", "partner", "memo"};
  return *paths;
}

}  // namespace

auth::MethodRoles CustomerServiceImpl::Roles() {
  const std::initializer_list<Role> write = {Role::kAdmin, Role::kStaff};
  const std::initializer_list<Role> read = {Role::kAdmin, Role::kStaff, Role::kAccounting};
  auth::MethodRoles r;
  r.Allow(Method("GetCustomer"),
          {Role::kAdmin, Role::kStaff, Role::kAccounting, Role::kPartner, Role::kService});
  r.Allow(Method("BatchGetCustomers"),
          {Role::kAdmin, Role::kStaff, Role::kAccounting, Role::kService});
  r.Allow(Method("ListCustomers"), {Role::kAdmin, Role::kStaff, Role::kAccounting, Role::kService});
  for (const char* m : {"CreateCustomer", "UpdateCustomer", "ConvertLead", "DeactivateCustomer",
                        "CreateContact", "UpdateContact", "CreateInquiry", "UpdateInquiry",
                        "AddInquiryResponse", "ImportCustomers"}) {
    r.Allow(Method(m), write);
  }
  for (const char* m : {"ListContacts", "ListInquiries", "ListAuditEvents"}) r.Allow(Method(m), read);
  return r;
}

WriteContext CustomerServiceImpl::Write(const grpc::ServerContext& ctx,
                                        const auth::Principal& caller, absl::string_view method,
                                        const std::string& request_id,
                                        const google::protobuf::Message& request) const {
  return server::MakeWriteContext(ctx, caller, Method(method), request_id, request, clock_);
}

// ---- customers ----

grpc::Status CustomerServiceImpl::GetCustomer(grpc::ServerContext* ctx,
                                              const v1::GetCustomerRequest* req,
                                              v1::Customer* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = server::RequireId(req->id(), "id"); !s.ok()) return Fail(s);
  // A partner sees only its own record; anything else does not exist for it.
  if (caller.role == Role::kPartner && PartnerIdOf(caller) != req->id()) {
    return Fail(CustomerNotFound(req->id()));
  }
  absl::StatusOr<Customer> c = store_.GetCustomer(req->id(), DeadlineOf(*ctx));
  if (!c.ok()) return Fail(c.status());
  *resp = ToProto(*c);
  return grpc::Status::OK;
}

grpc::Status CustomerServiceImpl::BatchGetCustomers(grpc::ServerContext* ctx,
                                                    const v1::BatchGetCustomersRequest* req,
                                                    v1::BatchGetCustomersResponse* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (req->ids_size() == 0) return Fail(InvalidField("ids", "must list at least one id", "REQUIRED"));
  if (req->ids_size() > kMaxBatch) {
    return Fail(InvalidField("ids", absl::StrCat("at most ", kMaxBatch, " ids per call")));
  }
  std::vector<int64_t> ids(req->ids().begin(), req->ids().end());
  for (int64_t id : ids) {
    if (id <= 0) return Fail(InvalidField("ids", "ids are positive"));
  }
  absl::StatusOr<std::vector<Customer>> found = store_.GetCustomers(ids, DeadlineOf(*ctx));
  if (!found.ok()) return Fail(found.status());
  std::unordered_map<int64_t, const Customer*> by_id;
  for (const auto& c : *found) by_id[c.id] = &c;
  for (int64_t id : ids) {
    auto it = by_id.find(id);
    if (it == by_id.end()) return Fail(CustomerNotFound(id));
    *resp->add_customers() = ToProto(*it->second);
  }
  return grpc::Status::OK;
}

grpc::Status CustomerServiceImpl::ListCustomers(grpc::ServerContext* ctx,
                                                const v1::ListCustomersRequest* req,
                                                v1::ListCustomersResponse* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  absl::StatusOr<int> size = api::PageSize(req->page_size());
  if (!size.ok()) return Fail(size.status());
  absl::StatusOr<int64_t> after = api::DecodeIdPosition(page_tokens_, *req, req->page_token());
  if (!after.ok()) return Fail(after.status());
  CustomerFilter f;
  if (req->role() == v1::ROLE_FILTER_CUSTOMER) f.partner_role = false;
  if (req->role() == v1::ROLE_FILTER_PARTNER) f.partner_role = true;
  for (int l : req->lifecycles()) {
    if (l < 1 || l > 3) return Fail(InvalidField("lifecycles", "unknown lifecycle"));
    f.lifecycles.push_back(static_cast<Lifecycle>(l));
  }
  if (!req->prefecture().empty()) {
    if (!IsPrefecture(req->prefecture())) {
      return Fail(InvalidField("prefecture", "is not one of the 47 prefectures", "INVALID_PREFECTURE"));
    }
    f.prefecture = req->prefecture();
  }
  if (req->has_updated_since()) f.updated_since = api::FromTimestamp(req->updated_since());
  f.query_key = SearchKey(req->query());
  // One more than asked tells whether another page exists.
  absl::StatusOr<std::vector<Customer>> rows =
      store_.ListCustomers(f, *after, *size + 1, DeadlineOf(*ctx));
  if (!rows.ok()) return Fail(rows.status());
  const bool more = server::TrimPage(*rows, *size);
  for (const auto& c : *rows) *resp->add_customers() = ToProto(c);
  if (more) {
    resp->set_next_page_token(
        api::EncodeIdPosition(page_tokens_, *req, rows->back().id));
  }
  return grpc::Status::OK;
}

grpc::Status CustomerServiceImpl::CreateCustomer(grpc::ServerContext* ctx,
                                                 const v1::CreateCustomerRequest* req,
                                                 v1::Customer* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = db::CheckRequestId(req->request_id()); !s.ok()) return Fail(s);
  Customer c;
  FromProto(req->customer(), c);
  switch (req->customer().lifecycle()) {
    case v1::LIFECYCLE_UNSPECIFIED:
    case v1::LIFECYCLE_ACTIVE:
      c.lifecycle = Lifecycle::kActive;
      break;
    case v1::LIFECYCLE_LEAD:
      c.lifecycle = Lifecycle::kLead;
      break;
    default:
      return Fail(InvalidField("customer.lifecycle", "a new customer is LEAD or ACTIVE"));
  }
  if (absl::Status s = FieldErrorsStatus(NormalizeAndValidate(c, "customer")); !s.ok()) {
    return Fail(s);
  }
  return server::ReplyFromBytes(store_.CreateCustomer(Write(*ctx, caller, "CreateCustomer", req->request_id(), *req),
                                         std::move(c),
                                         [](const Customer& x) { return ToProto(x).SerializeAsString(); }),
                   resp);
}

grpc::Status CustomerServiceImpl::UpdateCustomer(grpc::ServerContext* ctx,
                                                 const v1::UpdateCustomerRequest* req,
                                                 v1::Customer* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = server::RequireId(req->customer().id(), "customer.id"); !s.ok()) return Fail(s);
  if (absl::Status s = api::ValidateUpdateMask(req->update_mask(), v1::Customer::descriptor(),
                                               CustomerUpdatable());
      !s.ok()) {
    return Fail(s);
  }
  absl::StatusOr<Customer> updated = store_.UpdateCustomer(
      Write(*ctx, caller, "UpdateCustomer", "", *req), req->customer().id(),
      [&](Customer& row) -> absl::Status {
        RETURN_IF_ERROR(api::CheckEtag(req->customer().etag(), row.version));
        if (row.lifecycle == Lifecycle::kInactive) {
          return WithReason(absl::FailedPreconditionError(
                                "customer is inactive; inactive customers are read-only"),
                            "CUSTOMER_INACTIVE");
        }
        v1::Customer merged = ToProto(row);
        api::ApplyUpdateMask(req->update_mask(), req->customer(), &merged);
        FromProto(merged, row);
        return FieldErrorsStatus(NormalizeAndValidate(row, "customer"));
      });
  if (!updated.ok()) return Fail(updated.status());
  *resp = ToProto(*updated);
  return grpc::Status::OK;
}

grpc::Status CustomerServiceImpl::ConvertLead(grpc::ServerContext* ctx,
                                              const v1::ConvertLeadRequest* req,
                                              v1::Customer* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = server::RequireId(req->id(), "id"); !s.ok()) return Fail(s);
  const absl::Time now = clock_.Now();
  absl::StatusOr<Customer> updated = store_.UpdateCustomer(
      Write(*ctx, caller, "ConvertLead", "", *req), req->id(), [&](Customer& row) -> absl::Status {
        RETURN_IF_ERROR(api::CheckEtag(req->etag(), row.version));
        if (row.lifecycle != Lifecycle::kLead) {
          return WithReason(absl::FailedPreconditionError("customer is not a lead"), "NOT_A_LEAD");
        }
        row.lifecycle = Lifecycle::kActive;
        row.convert_time = now;
        return absl::OkStatus();
      });
  if (!updated.ok()) return Fail(updated.status());
  *resp = ToProto(*updated);
  return grpc::Status::OK;
}

grpc::Status CustomerServiceImpl::DeactivateCustomer(grpc::ServerContext* ctx,
                                                     const v1::DeactivateCustomerRequest* req,
                                                     v1::Customer* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = server::RequireId(req->id(), "id"); !s.ok()) return Fail(s);
  absl::StatusOr<Customer> updated = store_.UpdateCustomer(
      Write(*ctx, caller, "DeactivateCustomer", "", *req), req->id(),
      [&](Customer& row) -> absl::Status {
        RETURN_IF_ERROR(api::CheckEtag(req->etag(), row.version));
        if (row.lifecycle == Lifecycle::kInactive) {
          return WithReason(absl::FailedPreconditionError("customer is already inactive"),
                            "ALREADY_INACTIVE");
        }
        row.lifecycle = Lifecycle::kInactive;
        if (!req->reason().empty()) {
          row.memo = row.memo.empty() ? absl::StrCat("[deactivated] ", req->reason())
                                      : absl::StrCat(row.memo, "\n[deactivated] ", req->reason());
        }
        return absl::OkStatus();
      });
  if (!updated.ok()) return Fail(updated.status());
  *resp = ToProto(*updated);
  return grpc::Status::OK;
}

// ---- contacts ----

grpc::Status CustomerServiceImpl::CreateContact(grpc::ServerContext* ctx,
                                                const v1::CreateContactRequest* req,
                                                v1::Contact* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = db::CheckRequestId(req->request_id()); !s.ok()) return Fail(s);
  if (absl::Status s = server::RequireId(req->contact().customer_id(), "contact.customer_id"); !s.ok()) {
    return Fail(s);
  }
  Contact c;
  c.customer_id = req->contact().customer_id();
  FromProto(req->contact(), c);
  if (absl::Status s = FieldErrorsStatus(NormalizeAndValidate(c, "contact")); !s.ok()) {
    return Fail(s);
  }
  return server::ReplyFromBytes(store_.CreateContact(Write(*ctx, caller, "CreateContact", req->request_id(), *req),
                                        std::move(c),
                                        [](const Contact& x) { return ToProto(x).SerializeAsString(); }),
                   resp);
}

grpc::Status CustomerServiceImpl::UpdateContact(grpc::ServerContext* ctx,
                                                const v1::UpdateContactRequest* req,
                                                v1::Contact* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = server::RequireId(req->contact().id(), "contact.id"); !s.ok()) return Fail(s);
  static const auto* updatable = new std::set<std::string>{
      "name", "name_kana", "department", "title", "email", "phone", "primary"};
  if (absl::Status s =
          api::ValidateUpdateMask(req->update_mask(), v1::Contact::descriptor(), *updatable);
      !s.ok()) {
    return Fail(s);
  }
  absl::StatusOr<Contact> updated = store_.UpdateContact(
      Write(*ctx, caller, "UpdateContact", "", *req), req->contact().id(),
      [&](Contact& row) -> absl::Status {
        RETURN_IF_ERROR(api::CheckEtag(req->contact().etag(), row.version));
        v1::Contact merged = ToProto(row);
        api::ApplyUpdateMask(req->update_mask(), req->contact(), &merged);
        FromProto(merged, row);
        return FieldErrorsStatus(NormalizeAndValidate(row, "contact"));
      });
  if (!updated.ok()) return Fail(updated.status());
  *resp = ToProto(*updated);
  return grpc::Status::OK;
}

grpc::Status CustomerServiceImpl::ListContacts(grpc::ServerContext* ctx,
                                               const v1::ListContactsRequest* req,
                                               v1::ListContactsResponse* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = server::RequireId(req->customer_id(), "customer_id"); !s.ok()) return Fail(s);
  absl::StatusOr<std::vector<Contact>> rows = store_.ListContacts(req->customer_id(), DeadlineOf(*ctx));
  if (!rows.ok()) return Fail(rows.status());
  for (const auto& c : *rows) *resp->add_contacts() = ToProto(c);
  return grpc::Status::OK;
}

// ---- inquiries ----

grpc::Status CustomerServiceImpl::CreateInquiry(grpc::ServerContext* ctx,
                                                const v1::CreateInquiryRequest* req,
                                                v1::Inquiry* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = db::CheckRequestId(req->request_id()); !s.ok()) return Fail(s);
  Inquiry i;
  i.customer_id = req->inquiry().customer_id();
  FromProto(req->inquiry(), i);
  i.status = InquiryStatus::kOpen;
  if (absl::Status s = FieldErrorsStatus(NormalizeAndValidate(i, "inquiry")); !s.ok()) {
    return Fail(s);
  }
  return server::ReplyFromBytes(store_.CreateInquiry(Write(*ctx, caller, "CreateInquiry", req->request_id(), *req),
                                        std::move(i),
                                        [](const Inquiry& x) { return ToProto(x).SerializeAsString(); }),
                   resp);
}

grpc::Status CustomerServiceImpl::UpdateInquiry(grpc::ServerContext* ctx,
                                                const v1::UpdateInquiryRequest* req,
                                                v1::Inquiry* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = server::RequireId(req->inquiry().id(), "inquiry.id"); !s.ok()) return Fail(s);
  static const auto* updatable = new std::set<std::string>{"contact_id", "channel", "subject",
                                                           "body", "status", "assignee"};
  if (absl::Status s =
          api::ValidateUpdateMask(req->update_mask(), v1::Inquiry::descriptor(), *updatable);
      !s.ok()) {
    return Fail(s);
  }
  absl::StatusOr<Inquiry> updated = store_.UpdateInquiry(
      Write(*ctx, caller, "UpdateInquiry", "", *req), req->inquiry().id(),
      [&](Inquiry& row) -> absl::Status {
        RETURN_IF_ERROR(api::CheckEtag(req->inquiry().etag(), row.version));
        const InquiryStatus from = row.status;
        v1::Inquiry merged = ToProto(row);
        api::ApplyUpdateMask(req->update_mask(), req->inquiry(), &merged);
        FromProto(merged, row);
        RETURN_IF_ERROR(FieldErrorsStatus(NormalizeAndValidate(row, "inquiry")));
        if (!IsAllowedInquiryTransition(from, row.status)) {
          return WithReason(absl::FailedPreconditionError(absl::StrCat(
                                "inquiry status cannot move from ", v1::InquiryStatus_Name(
                                    static_cast<v1::InquiryStatus>(from)),
                                " to ",
                                v1::InquiryStatus_Name(static_cast<v1::InquiryStatus>(row.status)))),
                            "INQUIRY_TRANSITION_NOT_ALLOWED");
        }
        return absl::OkStatus();
      });
  if (!updated.ok()) return Fail(updated.status());
  *resp = ToProto(*updated);
  return grpc::Status::OK;
}

grpc::Status CustomerServiceImpl::AddInquiryResponse(grpc::ServerContext* ctx,
                                                     const v1::AddInquiryResponseRequest* req,
                                                     v1::Inquiry* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = db::CheckRequestId(req->request_id()); !s.ok()) return Fail(s);
  if (absl::Status s = server::RequireId(req->inquiry_id(), "inquiry_id"); !s.ok()) return Fail(s);
  if (req->body().empty()) return Fail(InvalidField("body", "is required", "REQUIRED"));
  if (server::CharCount(req->body()) > 10000) {
    return Fail(InvalidField("body", "is longer than 10,000 characters"));
  }
  return server::ReplyFromBytes(
      store_.AddInquiryResponse(Write(*ctx, caller, "AddInquiryResponse", req->request_id(), *req),
                                req->inquiry_id(), req->body(),
                                [](const Inquiry& x) { return ToProto(x).SerializeAsString(); }),
      resp);
}

grpc::Status CustomerServiceImpl::ListInquiries(grpc::ServerContext* ctx,
                                                const v1::ListInquiriesRequest* req,
                                                v1::ListInquiriesResponse* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  absl::StatusOr<int> size = api::PageSize(req->page_size());
  if (!size.ok()) return Fail(size.status());
  absl::StatusOr<int64_t> before = api::DecodeIdPosition(page_tokens_, *req, req->page_token());
  if (!before.ok()) return Fail(before.status());
  InquiryFilter f;
  f.customer_id = req->customer_id();
  for (int s : req->statuses()) {
    if (s < 1 || s > 4) return Fail(InvalidField("statuses", "unknown status"));
    f.statuses.push_back(static_cast<InquiryStatus>(s));
  }
  f.assignee = req->assignee();
  absl::StatusOr<std::vector<Inquiry>> rows =
      store_.ListInquiries(f, *before, *size + 1, DeadlineOf(*ctx));
  if (!rows.ok()) return Fail(rows.status());
  const bool more = server::TrimPage(*rows, *size);
  for (const auto& i : *rows) *resp->add_inquiries() = ToProto(i);
  if (more) {
    resp->set_next_page_token(
        api::EncodeIdPosition(page_tokens_, *req, rows->back().id));
  }
  return grpc::Status::OK;
}

// ---- import ----

grpc::Status CustomerServiceImpl::ImportCustomers(grpc::ServerContext* ctx,
                                                  const v1::ImportCustomersRequest* req,
                                                  v1::ImportCustomersResponse* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (!req->validate_only()) {
    if (absl::Status s = db::CheckRequestId(req->request_id()); !s.ok()) return Fail(s);
  }
  if (req->csv().empty()) return Fail(InvalidField("csv", "is empty", "REQUIRED"));
  if (req->csv().size() > kMaxCsvBytes) return Fail(InvalidField("csv", "is larger than 20 MB"));
  absl::StatusOr<ImportPlan> plan = PlanImport(req->csv());
  if (!plan.ok()) return Fail(plan.status());
  const WriteContext write = Write(*ctx, caller, "ImportCustomers", req->request_id(), *req);
  // A retry of a import that went through answers what the first call answered; it must not
  // be checked again, since its own customers now hold the codes.
  auto replay = [&]() -> absl::StatusOr<absl::optional<std::string>> {
    if (req->validate_only()) return absl::optional<std::string>();
    return store_.FindReplay(write);
  };
  if (absl::StatusOr<absl::optional<std::string>> r = replay(); !r.ok() || r->has_value()) {
    return r.ok() ? server::ReplyFromBytes(absl::StatusOr<std::string>(**r), resp) : Fail(r.status());
  }

  // What only the database knows: codes already taken, contact rows for unknown customers.
  std::vector<std::string> codes;
  std::set<std::string> in_file;
  for (const auto& c : plan->customers) {
    if (!c.code.empty()) {
      codes.push_back(c.code);
      in_file.insert(c.code);
    }
  }
  for (const auto& ci : plan->contacts) {
    if (!in_file.count(ci.customer_code)) codes.push_back(ci.customer_code);
  }
  absl::StatusOr<std::vector<std::string>> existing =
      codes.empty() ? absl::StatusOr<std::vector<std::string>>(std::vector<std::string>())
                    : store_.ExistingCodes(codes, DeadlineOf(*ctx));
  if (!existing.ok()) return Fail(existing.status());
  const std::set<std::string> taken(existing->begin(), existing->end());
  std::vector<ImportRowError> errors = plan->errors;
  for (size_t i = 0; i < plan->customers.size(); ++i) {
    const auto& code = plan->customers[i].code;
    if (!code.empty() && taken.count(code)) {
      errors.push_back({plan->customer_rows[i], "", "CODE_TAKEN",
                        absl::StrCat("顧客コード ", code, " は既に使われています")});
    }
  }
  for (size_t i = 0; i < plan->contacts.size(); ++i) {
    const auto& code = plan->contacts[i].customer_code;
    if (!in_file.count(code) && !taken.count(code)) {
      errors.push_back({plan->contact_rows[i], "", "UNKNOWN_CUSTOMER_CODE",
                        absl::StrCat("顧客コード ", code, " の顧客がありません")});
    }
  }
  std::sort(errors.begin(), errors.end(),
            [](const ImportRowError& a, const ImportRowError& b) { return a.row < b.row; });
  auto fill = [&](v1::ImportCustomersResponse* out) {
    out->set_customers_created(static_cast<int32_t>(plan->customers.size()));
    out->set_contacts_created(static_cast<int32_t>(plan->contacts.size()));
    for (const auto& e : errors) {
      auto* pe = out->add_errors();
      pe->set_row(e.row);
      pe->set_column(e.column);
      pe->set_code(e.code);
      pe->set_message(e.message);
    }
  };
  if (!errors.empty() && !req->validate_only()) {
    // The first call may have committed between the replay check and the code check.
    absl::StatusOr<absl::optional<std::string>> r = replay();
    if (!r.ok()) return Fail(r.status());
    if (r->has_value()) return server::ReplyFromBytes(absl::StatusOr<std::string>(**r), resp);
  }
  if (!errors.empty() || req->validate_only()) {
    fill(resp);
    if (!errors.empty()) {
      resp->set_customers_created(0);
      resp->set_contacts_created(0);
    }
    resp->set_written(false);
    return grpc::Status::OK;
  }
  return server::ReplyFromBytes(
      store_.ImportCustomers(write, std::move(plan->customers), std::move(plan->contacts),
                             [](const CustomerStore::ImportResult& r) {
                               v1::ImportCustomersResponse out;
                               out.set_customers_created(r.customers_created);
                               out.set_contacts_created(r.contacts_created);
                               out.set_written(true);
                               return out.SerializeAsString();
                             }),
      resp);
}

// ---- audit ----

grpc::Status CustomerServiceImpl::ListAuditEvents(grpc::ServerContext* ctx,
                                                  const v1::ListAuditEventsRequest* req,
                                                  v1::ListAuditEventsResponse* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = server::RequireId(req->customer_id(), "customer_id"); !s.ok()) return Fail(s);
  absl::StatusOr<int> size = api::PageSize(req->page_size());
  if (!size.ok()) return Fail(size.status());
  absl::StatusOr<int64_t> before = api::DecodeIdPosition(page_tokens_, *req, req->page_token());
  if (!before.ok()) return Fail(before.status());
  // NOT_FOUND for an unknown customer rather than an empty history.
  if (absl::StatusOr<Customer> c = store_.GetCustomer(req->customer_id(), DeadlineOf(*ctx)); !c.ok()) {
    return Fail(c.status());
  }
  absl::StatusOr<std::vector<AuditEntry>> rows =
      store_.ListAuditEvents(req->customer_id(), *before, *size + 1, DeadlineOf(*ctx));
  if (!rows.ok()) return Fail(rows.status());
  const bool more = server::TrimPage(*rows, *size);
  server::AuditEntriesToProto(*rows, resp->mutable_events());
  if (more) {
    resp->set_next_page_token(
        api::EncodeIdPosition(page_tokens_, *req, rows->back().id));
  }
  return grpc::Status::OK;
}

}  // namespace anken::customer
