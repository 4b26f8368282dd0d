// Handlers of payments (入金), reconciliation (消込) and receivables (売掛金): request checks,
// proto <-> domain, the bank statement parsers (zengin.h), the payer matcher (payment_rules.h)
// over the customer service's names (kept between calls: payer_directory.h) and the learnt
// payer names, the aging rules (receivables.h), and the store, which reconciles under its locks.

#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/api/etag.h"
#include "common/api/page_token.h"
#include "common/api/proto_time.h"
#include "common/auth/auth_interceptor.h"
#include "common/db/idempotency.h"
#include "common/server/handler.h"
#include "common/server/handler_kit.h"
#include "common/status/domain_error.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "services/billing/billing_service.h"
#include "services/billing/payment_rules.h"
#include "services/billing/receivables.h"
#include "services/billing/zengin.h"

namespace anken::billing {
namespace {

using auth::Role;
using server::DeadlineOf;
using PaymentRecord = BillingStore::PaymentRecord;
using PaymentSource = BillingStore::PaymentSource;
using PaymentStatus = BillingStore::PaymentStatus;

constexpr char kService[] = "/anken.billing.v1.BillingService/";
constexpr int64_t kMaxPaymentAmount = 999'999'999'999;  // 1 兆円 − 1: no real transfer is near
constexpr size_t kMaxStatementBytes = 10 * 1024 * 1024;

std::string Method(absl::string_view name) { return absl::StrCat(kService, name); }
grpc::Status Fail(const absl::Status& s) { return ToGrpcStatus(s); }

void ToProto(const PaymentRecord& p, v1::Payment* out) {
  out->set_id(p.payment.id);
  api::ToDate(p.payment.date, out->mutable_payment_date());
  out->set_amount(p.payment.amount);
  out->set_payer_name(p.payment.payer_name);
  out->set_reference(p.payment.reference);
  out->set_memo(p.payment.memo);
  out->set_source(static_cast<v1::PaymentSource>(p.source));
  out->set_customer_id(p.customer_id);
  out->set_status(static_cast<v1::PaymentStatus>(p.status));
  out->set_match_kind(static_cast<v1::MatchKind>(p.match));
  out->set_unmatched_reason(p.unmatched_reason);
  out->set_match_detail(p.match_detail);
  for (int64_t c : p.candidates) out->add_candidate_customer_ids(c);
  for (const auto& a : p.allocations) {
    v1::PaymentAllocation* pa = out->add_allocations();
    pa->set_id(a.id);
    pa->set_invoice_id(a.invoice_id);
    pa->set_invoice_number(a.invoice_number);
    pa->set_amount(a.amount);
    pa->set_fee(a.fee);
    pa->set_manual(a.manual);
  }
  out->set_credit(p.credit);
  out->set_unallocated(p.Unallocated());
  out->set_etag(api::FormatEtag(p.version));
  server::StampToProto(p.stamp, out->mutable_audit());
}

v1::Payment ToProto(const PaymentRecord& p) {
  v1::Payment out;
  ToProto(p, &out);
  return out;
}

// nullopt for no etag; INVALID_ARGUMENT on "etag" for one we never issued.
absl::StatusOr<absl::optional<int64_t>> ExpectedVersion(const std::string& etag) {
  if (etag.empty()) return absl::optional<int64_t>();
  ASSIGN_OR_RETURN(int64_t version, api::ParseEtag(etag));
  return absl::optional<int64_t>(version);
}

// The parsers name the statement "file"; the request calls it `content`.
absl::Status OnContent(absl::Status s) {
  absl::optional<absl::Cord> field = s.GetPayload(kDomainFieldPayload);
  if (!field.has_value() || std::string(*field) != "file") return s;
  absl::optional<absl::Cord> reason = s.GetPayload(kDomainReasonPayload);
  absl::string_view message = s.message();
  absl::ConsumePrefix(&message, "file: ");
  return DomainError(s.code(), "content", reason ? std::string(*reason) : "", message);
}

// The matcher of one call: every customer's name and kana (the customer service, through the
// directory's cache) and the payer names people matched before (store).
absl::StatusOr<std::shared_ptr<const PayerMatcher>> MatcherFor(BillingStore& store,
                                                               PayerDirectory& payers,
                                                               const grpc::ServerContext& ctx) {
  using Learnt = std::map<std::string, int64_t>;
  ASSIGN_OR_RETURN(Learnt learnt, store.LearntPayers(DeadlineOf(ctx)));
  return payers.Matcher(learnt, ctx);
}

// as_of of the receivables reads: the given day, or today in Asia/Tokyo.
absl::StatusOr<absl::CivilDay> AsOf(const common::v1::Date& date, const Clock& clock) {
  ASSIGN_OR_RETURN(absl::optional<absl::CivilDay> d, api::OptionalDate(date, "as_of"));
  return d.has_value() ? *d : TokyoToday(clock);
}

void RowToProto(const AgingRow& r, v1::AgingRow* out) {
  out->set_customer_id(r.customer_id);
  out->set_not_due(r.amounts[static_cast<int>(AgingBucket::kNotDue)]);
  out->set_days_1_to_30(r.amounts[static_cast<int>(AgingBucket::kDays1To30)]);
  out->set_days_31_to_60(r.amounts[static_cast<int>(AgingBucket::kDays31To60)]);
  out->set_days_61_to_90(r.amounts[static_cast<int>(AgingBucket::kDays61To90)]);
  out->set_over_90_days(r.amounts[static_cast<int>(AgingBucket::kOver90)]);
  out->set_total(r.total);
  out->set_invoice_count(static_cast<int32_t>(r.invoice_count));
}

int64_t DaysSinceEpoch(absl::CivilDay d) { return d - absl::CivilDay(1970, 1, 1); }
absl::CivilDay DayFromEpoch(int64_t days) { return absl::CivilDay(1970, 1, 1) + days; }

// A page token position of numbers joined by ':'; INVALID_ARGUMENT on "page_token" otherwise.
absl::StatusOr<std::vector<int64_t>> DecodePosition(const api::PageTokenCodec& codec,
                                                    const google::protobuf::Message& request,
                                                    const std::string& token, size_t parts) {
  ASSIGN_OR_RETURN(std::string pos, codec.Decode(token, api::FilterFingerprint(request)));
  std::vector<int64_t> out;
  for (absl::string_view part : absl::StrSplit(pos, ':')) {
    int64_t n = 0;
    if (!absl::SimpleAtoi(part, &n)) break;
    out.push_back(n);
  }
  if (out.size() != parts) {
    return InvalidField("page_token", "is not valid; repeat the request without page_token");
  }
  return out;
}

}  // namespace

void BillingServiceImpl::AllowPaymentMethods(auth::MethodRoles& roles) {
  for (const char* m : {"RecordPayment", "ImportBankStatement", "AllocatePayment",
                        "UnallocatePayment", "WriteOffInvoice"}) {
    roles.Allow(Method(m), {Role::kAdmin, Role::kAccounting});
  }
  roles.Allow(Method("ListPayments"), {Role::kAdmin, Role::kAccounting, Role::kStaff});
  // The scheduler reads the receivables to alert accounting.
  for (const char* m : {"ListOverdueInvoices", "GetAgingSummary"}) {
    roles.Allow(Method(m), {Role::kAdmin, Role::kAccounting, Role::kStaff, Role::kService});
  }
}

// ---- payments ----

grpc::Status BillingServiceImpl::RecordPayment(grpc::ServerContext* ctx,
                                               const v1::RecordPaymentRequest* req,
                                               v1::Payment* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = db::CheckRequestId(req->request_id()); !s.ok()) return Fail(s);
  absl::StatusOr<absl::CivilDay> date = api::FromDate(req->payment_date(), "payment_date");
  if (!date.ok()) return Fail(date.status());
  if (*date > TokyoToday(clock_)) {
    return Fail(InvalidField("payment_date", "is after today", "DATE_IN_FUTURE"));
  }
  if (req->amount() <= 0) {
    return Fail(InvalidField("amount", "must be > 0 yen", "AMOUNT_NOT_POSITIVE"));
  }
  if (req->amount() > kMaxPaymentAmount) {
    return Fail(InvalidField("amount", absl::StrCat("must be at most ", kMaxPaymentAmount, " yen"),
                             "AMOUNT_TOO_LARGE"));
  }
  for (const auto& [value, field, max] : {std::make_tuple(&req->payer_name(), "payer_name", 200),
                                          std::make_tuple(&req->reference(), "reference", 200),
                                          std::make_tuple(&req->memo(), "memo", 500)}) {
    if (absl::Status s = CheckMaxChars(*value, field, max); !s.ok()) return Fail(s);
  }
  const WriteContext write = Write(*ctx, caller, "RecordPayment", req->request_id(), *req);
  // A retry answers what the first call answered, without asking the customer service.
  absl::StatusOr<absl::optional<std::string>> replay = store_.FindReplay(write);
  if (!replay.ok()) return Fail(replay.status());
  if (replay->has_value())
    return server::ReplyFromBytes(absl::StatusOr<std::string>(**replay), resp);

  absl::StatusOr<std::shared_ptr<const PayerMatcher>> matcher = MatcherFor(store_, payers_, *ctx);
  if (!matcher.ok()) return Fail(matcher.status());
  BillingStore::PaymentBatch batch;
  batch.source = PaymentSource::kManual;
  batch.fee_tolerance = options_.bank_fee_tolerance;
  Payment p;
  p.date = *date;
  p.amount = req->amount();
  p.payer_name = req->payer_name();
  p.reference = req->reference();
  p.memo = req->memo();
  batch.payments.push_back(std::move(p));
  return server::ReplyFromBytes(
      store_.RecordPayments(write, batch, **matcher,
                            [](const BillingStore::PaymentBatchResult& r) {
                              return r.created.empty()
                                         ? std::string()
                                         : ToProto(r.created.front()).SerializeAsString();
                            }),
      resp);
}

grpc::Status BillingServiceImpl::ImportBankStatement(grpc::ServerContext* ctx,
                                                     const v1::ImportBankStatementRequest* req,
                                                     v1::ImportBankStatementResponse* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = db::CheckRequestId(req->request_id()); !s.ok()) return Fail(s);
  const bool zengin = req->format() == v1::BANK_STATEMENT_FORMAT_ZENGIN;
  if (!zengin && req->format() != v1::BANK_STATEMENT_FORMAT_CSV) {
    return Fail(InvalidField("format", "must be ZENGIN or CSV", "REQUIRED"));
  }
  if (req->content().empty()) return Fail(InvalidField("content", "is required", "REQUIRED"));
  if (req->content().size() > kMaxStatementBytes) {
    return Fail(InvalidField("content", "is larger than 10 MB", "TOO_LARGE"));
  }
  if (!zengin && req->account().empty()) {
    return Fail(InvalidField("account", "is required for a CSV statement", "REQUIRED"));
  }
  if (absl::Status s = CheckMaxChars(req->account(), "account", 100); !s.ok()) return Fail(s);
  const WriteContext write = Write(*ctx, caller, "ImportBankStatement", req->request_id(), *req);
  absl::StatusOr<absl::optional<std::string>> replay = store_.FindReplay(write);
  if (!replay.ok()) return Fail(replay.status());
  if (replay->has_value())
    return server::ReplyFromBytes(absl::StatusOr<std::string>(**replay), resp);

  absl::StatusOr<BankStatement> statement = zengin
                                                ? ParseZenginStatement(req->content())
                                                : ParsePaymentCsv(req->content(), req->account());
  if (!statement.ok()) return Fail(OnContent(statement.status()));
  // A 西暦 file read as 和暦 (zengin.h) gives dates decades ahead: refuse what is not yet.
  const absl::CivilDay today = TokyoToday(clock_);
  for (const Payment& p : statement->payments) {
    if (p.date > today) {
      return Fail(DomainInvalid(
          "content", "DATE_IN_FUTURE",
          absl::StrCat("the deposit of ", p.amount, " yen from '", p.payer_name, "' is dated ",
                       absl::FormatCivilTime(p.date), ", after today",
                       zengin ? " (全銀 dates are read as 和暦; is the file in 西暦?)" : "")));
    }
  }
  absl::StatusOr<std::shared_ptr<const PayerMatcher>> matcher = MatcherFor(store_, payers_, *ctx);
  if (!matcher.ok()) return Fail(matcher.status());
  BillingStore::PaymentBatch batch;
  batch.source = zengin ? PaymentSource::kZengin : PaymentSource::kCsv;
  if (zengin) {
    std::vector<std::string> accounts;
    for (const BankAccount& a : statement->accounts) accounts.push_back(a.Key());
    batch.account = absl::StrJoin(accounts, ",");
  } else {
    batch.account = req->account();
  }
  batch.payments = std::move(statement->payments);
  batch.fee_tolerance = options_.bank_fee_tolerance;
  const int32_t lines = static_cast<int32_t>(batch.payments.size());
  return server::ReplyFromBytes(
      store_.RecordPayments(write, batch, **matcher,
                            [lines](const BillingStore::PaymentBatchResult& r) {
                              v1::ImportBankStatementResponse out;
                              out.set_line_count(lines);
                              out.set_imported_count(static_cast<int32_t>(r.created.size()));
                              out.set_duplicate_count(r.duplicate_count);
                              for (const PaymentRecord& p : r.created) {
                                switch (p.match) {
                                  case BillingStore::PaymentMatch::kMatched:
                                    out.set_matched_count(out.matched_count() + 1);
                                    break;
                                  case BillingStore::PaymentMatch::kMatchedWithFee:
                                    out.set_matched_with_fee_count(out.matched_with_fee_count() +
                                                                   1);
                                    break;
                                  case BillingStore::PaymentMatch::kPartial:
                                    out.set_partial_count(out.partial_count() + 1);
                                    break;
                                  case BillingStore::PaymentMatch::kOverpayment:
                                    out.set_overpayment_count(out.overpayment_count() + 1);
                                    break;
                                  case BillingStore::PaymentMatch::kUnmatched:
                                  case BillingStore::PaymentMatch::kManual:
                                    out.set_unmatched_count(out.unmatched_count() + 1);
                                    break;
                                }
                                ToProto(p, out.add_payments());
                              }
                              return out.SerializeAsString();
                            }),
      resp);
}

grpc::Status BillingServiceImpl::ListPayments(grpc::ServerContext* ctx,
                                              const v1::ListPaymentsRequest* req,
                                              v1::ListPaymentsResponse* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  absl::StatusOr<int> size = api::PageSize(req->page_size());
  if (!size.ok()) return Fail(size.status());
  BillingStore::PaymentPosition after;
  if (!req->page_token().empty()) {
    absl::StatusOr<std::vector<int64_t>> pos =
        DecodePosition(page_tokens_, *req, req->page_token(), 2);
    if (!pos.ok()) return Fail(pos.status());
    after.date = DayFromEpoch((*pos)[0]);
    after.id = (*pos)[1];
  }
  BillingStore::PaymentFilter f;
  for (int s : req->statuses()) {
    if (s < 1 || s > 3) return Fail(InvalidField("statuses", "unknown status"));
    f.statuses.push_back(static_cast<PaymentStatus>(s));
  }
  if (req->customer_id() < 0) return Fail(InvalidField("customer_id", "must be > 0"));
  f.customer_id = req->customer_id();
  absl::StatusOr<absl::optional<absl::CivilDay>> from =
      api::OptionalDate(req->payment_date_from(), "payment_date_from");
  if (!from.ok()) return Fail(from.status());
  absl::StatusOr<absl::optional<absl::CivilDay>> to =
      api::OptionalDate(req->payment_date_to(), "payment_date_to");
  if (!to.ok()) return Fail(to.status());
  f.from = *from;
  f.to = *to;
  absl::StatusOr<std::vector<PaymentRecord>> rows =
      store_.ListPayments(f, after, *size + 1, DeadlineOf(*ctx));
  if (!rows.ok()) return Fail(rows.status());
  const bool more = server::TrimPage(*rows, *size);
  for (const PaymentRecord& p : *rows) ToProto(p, resp->add_payments());
  if (more) {
    const PaymentRecord& last = rows->back();
    resp->set_next_page_token(
        page_tokens_.Encode(api::FilterFingerprint(*req),
                            absl::StrCat(DaysSinceEpoch(last.payment.date), ":", last.payment.id)));
  }
  return grpc::Status::OK;
}

grpc::Status BillingServiceImpl::AllocatePayment(grpc::ServerContext* ctx,
                                                 const v1::AllocatePaymentRequest* req,
                                                 v1::Payment* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = db::CheckRequestId(req->request_id()); !s.ok()) return Fail(s);
  if (absl::Status s = server::RequireId(req->payment_id(), "payment_id"); !s.ok()) return Fail(s);
  if (absl::Status s = server::RequireId(req->customer_id(), "customer_id"); !s.ok())
    return Fail(s);
  if (req->credit() < 0 || req->credit() > kMaxPaymentAmount) {
    return Fail(
        InvalidField("credit", "must be ≥ 0 yen and within the payment", "AMOUNT_NOT_POSITIVE"));
  }
  if (req->allocations().empty() && req->credit() == 0) {
    return Fail(InvalidField("allocations", "name at least one invoice, or a credit", "REQUIRED"));
  }
  BillingStore::ManualAllocation a;
  a.payment_id = req->payment_id();
  a.customer_id = req->customer_id();
  a.credit = req->credit();
  for (int i = 0; i < req->allocations_size(); ++i) {
    const v1::AllocationLine& line = req->allocations(i);
    if (absl::Status s =
            server::RequireId(line.invoice_id(), absl::StrCat("allocations[", i, "].invoice_id"));
        !s.ok()) {
      return Fail(s);
    }
    Allocation l;
    l.invoice_id = line.invoice_id();
    l.amount = line.amount();
    l.fee = line.fee();
    a.lines.push_back(l);
  }
  absl::StatusOr<absl::optional<int64_t>> version = ExpectedVersion(req->etag());
  if (!version.ok()) return Fail(version.status());
  a.expected_version = *version;
  const WriteContext write = Write(*ctx, caller, "AllocatePayment", req->request_id(), *req);
  absl::StatusOr<absl::optional<std::string>> replay = store_.FindReplay(write);
  if (!replay.ok()) return Fail(replay.status());
  if (replay->has_value())
    return server::ReplyFromBytes(absl::StatusOr<std::string>(**replay), resp);
  // The customer must exist (its invoices are checked by the store; a credit alone is not).
  if (absl::StatusOr<CustomerInfo> c = peers_.Customer(req->customer_id(), *ctx); !c.ok()) {
    return Fail(c.status());
  }
  return server::ReplyFromBytes(
      store_.AllocatePayment(write, a,
                             [](const PaymentRecord& p) { return ToProto(p).SerializeAsString(); }),
      resp);
}

grpc::Status BillingServiceImpl::UnallocatePayment(grpc::ServerContext* ctx,
                                                   const v1::UnallocatePaymentRequest* req,
                                                   v1::Payment* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = server::RequireId(req->payment_id(), "payment_id"); !s.ok()) return Fail(s);
  if (req->reason().empty()) return Fail(InvalidField("reason", "is required", "REQUIRED"));
  if (absl::Status s = CheckMaxChars(req->reason(), "reason", 2000); !s.ok()) return Fail(s);
  absl::StatusOr<absl::optional<int64_t>> version = ExpectedVersion(req->etag());
  if (!version.ok()) return Fail(version.status());
  absl::StatusOr<PaymentRecord> p =
      store_.UnallocatePayment(Write(*ctx, caller, "UnallocatePayment", "", *req),
                               req->payment_id(), req->reason(), *version);
  if (!p.ok()) return Fail(p.status());
  ToProto(*p, resp);
  return grpc::Status::OK;
}

// ---- receivables ----

grpc::Status BillingServiceImpl::ListOverdueInvoices(grpc::ServerContext* ctx,
                                                     const v1::ListOverdueInvoicesRequest* req,
                                                     v1::ListOverdueInvoicesResponse* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  absl::StatusOr<absl::CivilDay> as_of = AsOf(req->as_of(), clock_);
  if (!as_of.ok()) return Fail(as_of.status());
  if (req->customer_id() < 0) return Fail(InvalidField("customer_id", "must be > 0"));
  absl::StatusOr<int> size = api::PageSize(req->page_size());
  if (!size.ok()) return Fail(size.status());
  BillingStore::OverduePosition after;
  if (!req->page_token().empty()) {
    absl::StatusOr<std::vector<int64_t>> pos =
        DecodePosition(page_tokens_, *req, req->page_token(), 3);
    if (!pos.ok()) return Fail(pos.status());
    after.due_date = DayFromEpoch((*pos)[0]);
    after.issue_date = DayFromEpoch((*pos)[1]);
    after.id = (*pos)[2];
  }
  absl::StatusOr<std::vector<BillingStore::ReceivableInvoice>> rows =
      store_.OverdueInvoices(*as_of, req->customer_id(), after, *size + 1, DeadlineOf(*ctx));
  if (!rows.ok()) return Fail(rows.status());
  const bool more = server::TrimPage(*rows, *size);
  std::map<int64_t, const BillingStore::ReceivableInvoice*> by_id;
  std::vector<OpenInvoice> open;
  for (const auto& r : *rows) {
    by_id[r.open.id] = &r;
    open.push_back(r.open);
  }
  for (const OpenInvoice& inv : OverdueInvoices(open, *as_of)) {
    const BillingStore::ReceivableInvoice& r = *by_id.at(inv.id);
    v1::OverdueInvoice* out = resp->add_invoices();
    out->set_invoice_id(inv.id);
    out->set_number(r.number);
    out->set_customer_id(inv.customer_id);
    out->set_recipient_name(r.recipient_name);
    api::ToDate(inv.issue_date, out->mutable_issue_date());
    api::ToDate(inv.due_date, out->mutable_due_date());
    out->set_total(inv.total);
    out->set_balance(inv.balance);
    out->set_days_past_due(static_cast<int32_t>(DaysPastDue(inv.due_date, *as_of)));
  }
  if (more) {
    const OpenInvoice& last = rows->back().open;
    resp->set_next_page_token(page_tokens_.Encode(
        api::FilterFingerprint(*req), absl::StrCat(DaysSinceEpoch(last.due_date), ":",
                                                   DaysSinceEpoch(last.issue_date), ":", last.id)));
  }
  api::ToDate(*as_of, resp->mutable_as_of());
  return grpc::Status::OK;
}

grpc::Status BillingServiceImpl::GetAgingSummary(grpc::ServerContext* ctx,
                                                 const v1::GetAgingSummaryRequest* req,
                                                 v1::AgingSummary* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  absl::StatusOr<absl::CivilDay> as_of = AsOf(req->as_of(), clock_);
  if (!as_of.ok()) return Fail(as_of.status());
  if (req->customer_id() < 0) return Fail(InvalidField("customer_id", "must be > 0"));
  absl::StatusOr<std::vector<OpenInvoice>> open =
      store_.OpenInvoices(req->customer_id(), DeadlineOf(*ctx));
  if (!open.ok()) return Fail(open.status());
  const AgingSummary summary = SummarizeAging(*open, *as_of);
  api::ToDate(*as_of, resp->mutable_as_of());
  for (const AgingRow& r : summary.rows) RowToProto(r, resp->add_rows());
  RowToProto(summary.totals, resp->mutable_totals());
  return grpc::Status::OK;
}

grpc::Status BillingServiceImpl::WriteOffInvoice(grpc::ServerContext* ctx,
                                                 const v1::WriteOffInvoiceRequest* req,
                                                 v1::Invoice* resp) {
  AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
  if (absl::Status s = server::RequireId(req->id(), "id"); !s.ok()) return Fail(s);
  if (req->reason().empty()) return Fail(InvalidField("reason", "is required", "REQUIRED"));
  if (absl::Status s = CheckMaxChars(req->reason(), "reason", 2000); !s.ok()) return Fail(s);
  absl::StatusOr<absl::optional<int64_t>> version = ExpectedVersion(req->etag());
  if (!version.ok()) return Fail(version.status());
  absl::StatusOr<Invoice> inv = store_.WriteOffInvoice(
      Write(*ctx, caller, "WriteOffInvoice", "", *req), req->id(), req->reason(), *version);
  if (!inv.ok()) return Fail(inv.status());
  *resp = InvoiceToProto(*inv);
  return grpc::Status::OK;
}

}  // namespace anken::billing
