// plans, entries, invoices, payments, receivables, missed-billing, renewals
// (anken.billing.v1.BillingService).

#include <iostream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "anken/billing/v1/billing_service.pb.h"
#include "google/protobuf/util/json_util.h"
#include "tools/ankenctl/cells.h"
#include "tools/ankenctl/commands.h"
#include "tools/ankenctl/invoke.h"
#include "tools/ankenctl/table.h"

namespace anken::ctl {
namespace {

using google::protobuf::Message;

constexpr char kService[] = "anken.billing.v1.BillingService/";

std::string Method(const char* name) { return absl::StrCat(kService, name); }

const std::vector<Column>& EntryColumns() {
  static const auto* c = new std::vector<Column>{
      {"ID", "id", Fmt::kId},
      {"CASE", "project_id", Fmt::kId},
      {"CUSTOMER", "customer_id", Fmt::kId},
      {"BILLING", "billing_date", Fmt::kDate},
      {"REVENUE", "revenue_date", Fmt::kDate},
      {"AMOUNT", "amount", Fmt::kYen},
      {"TAX", "tax", Fmt::kYen},
      {"STATUS", "status", Fmt::kEnum},
      {"KIND", "kind", Fmt::kEnum},
      {"INVOICE", "invoice_id", Fmt::kId},
      {"DESCRIPTION", "description"}};
  return *c;
}

const std::vector<Column>& InvoiceColumns() {
  static const auto* c = new std::vector<Column>{
      {"ID", "id", Fmt::kId},
      {"NUMBER", "number"},
      {"CUSTOMER", "customer_id", Fmt::kId},
      {"RECIPIENT", "recipient_name"},
      {"ISSUED", "issue_date", Fmt::kDate},
      {"DUE", "due_date", Fmt::kDate},
      {"TOTAL", "total", Fmt::kYen},
      {"BALANCE", "balance", Fmt::kYen},
      {"STATUS", "status", Fmt::kEnum},
      {"PAYMENT", "payment_status", Fmt::kEnum}};
  return *c;
}

const std::vector<Column>& PaymentColumns() {
  static const auto* c = new std::vector<Column>{
      {"ID", "id", Fmt::kId},
      {"DATE", "payment_date", Fmt::kDate},
      {"AMOUNT", "amount", Fmt::kYen},
      {"PAYER", "payer_name"},
      {"CUSTOMER", "customer_id", Fmt::kId},
      {"STATUS", "status", Fmt::kEnum},
      {"MATCH", "match_kind", Fmt::kEnum},
      {"UNALLOCATED", "unallocated", Fmt::kYen},
      {"NOTE", "unmatched_reason"}};
  return *c;
}

// plans get CASE

std::string RenderPlan(const Message& plan) {
  std::string out = RenderRecord(plan, {{"case", "project_id", Fmt::kId},
                                        {"customer", "customer_id", Fmt::kId},
                                        {"timing", "timing", Fmt::kEnum},
                                        {"tax", "tax_category", Fmt::kEnum},
                                        {"interval", "recurring.interval", Fmt::kEnum},
                                        {"amount", "recurring.amount", Fmt::kYen},
                                        {"start", "recurring.start_month", Fmt::kMonth},
                                        {"end", "recurring.end_month", Fmt::kMonth},
                                        {"auto_renew", "recurring.auto_renew", Fmt::kBool},
                                        {"etag", "etag"}});
  return absl::StrCat(out, "\n", RenderRows(plan, "entries", EntryColumns()));
}

int GetPlan(const Args& args) {
  int64_t id = 0;
  if (int code = IdOperand(args, "the case id", 1, &id)) return code;
  std::unique_ptr<Message> resp;
  if (int code = Invoke(args, Method("GetBillingPlan"),
                        JsonObject().Int("project_id", id).str(), &resp)) {
    return code;
  }
  return Show(args, *resp, [&] { return RenderPlan(*resp); });
}

// plans set CASE FILE: the plan as BillingPlan JSON (project_id taken from CASE).
int SetPlan(const Args& args) {
  int64_t id = 0;
  if (int code = IdOperand(args, "the case id", 2, &id)) return code;
  std::string plan;
  if (!ReadFileBytes(args.words[1], &plan)) return kExitUsage;
  // The file's plan with project_id from the command line.
  billing::v1::BillingPlan parsed;
  if (auto st = google::protobuf::util::JsonStringToMessage(plan, &parsed); !st.ok()) {
    return UsageProblem(args, absl::StrCat(args.words[1], " is not a billing plan in JSON: ",
                                           std::string(st.message())));
  }
  parsed.set_project_id(id);
  plan = ToJson(parsed);
  const std::string etag = args.Flag("etag");  // only to guard against a concurrent change
  JsonObject req;
  req.Raw("plan", plan);
  if (!etag.empty()) req.Str("etag", etag);
  std::unique_ptr<Message> resp;
  if (int code = Invoke(args, Method("SetBillingPlan"), req.str(), &resp)) return code;
  return Show(args, *resp, [&] { return RenderPlan(*resp); });
}

int ListEntries(const Args& args) {
  JsonObject req;
  if (int code = IdFlag(args, "case", "project_id", &req)) return code;
  if (int code = IdFlag(args, "customer", "customer_id", &req)) return code;
  EnumFilter(args, "status", "statuses", "ENTRY_STATUS", &req);
  std::unique_ptr<Message> resp;
  if (int code = InvokeList(args, Method("ListBillingEntries"), req, &resp)) return code;
  return Show(args, *resp, [&] { return RenderRows(*resp, "entries", EntryColumns()); });
}

// entries mark ID --status ready: an entry's status by hand (READY entries can be invoiced).
int MarkEntry(const Args& args) {
  int64_t id = 0;
  if (int code = IdOperand(args, "the entry id", 1, &id)) return code;
  if (args.Flag("status").empty()) return UsageProblem(args, "--status is required");
  JsonObject req;
  req.Int("id", id).Str("status", EnumName("ENTRY_STATUS", args.Flag("status")));
  if (args.flags.count("etag")) req.Str("etag", args.Flag("etag"));
  std::unique_ptr<Message> resp;
  if (int code = Invoke(args, Method("SetEntryStatus"), req.str(), &resp)) return code;
  return Show(args, *resp, [&] { return RenderMessages({resp.get()}, EntryColumns()); });
}

int ListInvoices(const Args& args) {
  JsonObject req;
  if (int code = IdFlag(args, "customer", "customer_id", &req)) return code;
  EnumFilter(args, "status", "statuses", "INVOICE_STATUS", &req);
  std::unique_ptr<Message> resp;
  if (int code = InvokeList(args, Method("ListInvoices"), req, &resp)) return code;
  return Show(args, *resp, [&] { return RenderRows(*resp, "invoices", InvoiceColumns()); });
}

std::string RenderInvoice(const Message& inv) {
  return absl::StrCat(
      RenderRecord(inv, {{"id", "id", Fmt::kId},
                         {"number", "number"},
                         {"customer", "customer_id", Fmt::kId},
                         {"recipient", "recipient_name"},
                         {"issuer", "issuer_name"},
                         {"registration", "issuer_registration_number"},
                         {"address", "issuer_address"},
                         {"bank", "issuer_bank_account"},
                         {"issued", "issue_date", Fmt::kDate},
                         {"due", "due_date", Fmt::kDate},
                         {"subtotal", "subtotal", Fmt::kYen},
                         {"tax", "tax", Fmt::kYen},
                         {"total", "total", Fmt::kYen},
                         {"paid", "paid_amount", Fmt::kYen},
                         {"balance", "balance", Fmt::kYen},
                         {"status", "status", Fmt::kEnum},
                         {"payment", "payment_status", Fmt::kEnum},
                         {"cancel_reason", "cancel_reason"}}),
      "\n",
      RenderRows(inv, "lines",
                 {{"ENTRY", "entry_id", Fmt::kId},
                  {"DESCRIPTION", "description"},
                  {"REVENUE", "revenue_date", Fmt::kDate},
                  {"TAX", "tax_category", Fmt::kEnum},
                  {"AMOUNT", "amount", Fmt::kYen},
                  {"ALLOCATED_TAX", "allocated_tax", Fmt::kYen}}));
}

int GetInvoice(const Args& args) {
  int64_t id = 0;
  if (int code = IdOperand(args, "the invoice id", 1, &id)) return code;
  std::unique_ptr<Message> resp;
  if (int code = Invoke(args, Method("GetInvoice"), JsonObject().Int("id", id).str(), &resp)) {
    return code;
  }
  return Show(args, *resp, [&] { return RenderInvoice(*resp); });
}

int IssueInvoice(const Args& args) {
  if (!args.flags.count("customer")) return UsageProblem(args, "--customer is required");
  JsonObject req;
  req.Str("request_id", RequestIdFor(args));
  if (int code = IdFlag(args, "customer", "customer_id", &req)) return code;
  if (args.flags.count("entries")) {  // else every READY entry of the customer
    absl::StatusOr<std::vector<int64_t>> ids = ParseIds(args.Flag("entries"), "--entries");
    if (!ids.ok()) return UsageProblem(args, std::string(ids.status().message()));
    req.Raw("entry_ids", absl::StrCat("[", absl::StrJoin(*ids, ","), "]"));
  }
  if (int code = DateFlag(args, "issue-date", "issue_date", &req)) return code;
  std::unique_ptr<Message> resp;
  if (int code = Invoke(args, Method("IssueInvoice"), req.str(), &resp)) return code;
  return Show(args, *resp, [&] { return RenderInvoice(*resp); });
}

int CancelInvoice(const Args& args) {
  int64_t id = 0;
  if (int code = IdOperand(args, "the invoice id", 1, &id)) return code;
  if (args.Flag("reason").empty()) return UsageProblem(args, "--reason is required");
  std::string etag = args.Flag("etag");
  if (etag.empty()) {
    std::unique_ptr<Message> current;
    if (int code = Invoke(args, Method("GetInvoice"), JsonObject().Int("id", id).str(), &current)) {
      return code;
    }
    etag = Cell(*current, "etag", Fmt::kText);
  }
  std::unique_ptr<Message> resp;
  if (int code = Invoke(args, Method("CancelInvoice"),
                        JsonObject().Int("id", id).Str("reason", args.Flag("reason"))
                            .Str("etag", etag).str(),
                        &resp)) {
    return code;
  }
  return Show(args, *resp, [&] { return RenderMessages({resp.get()}, InvoiceColumns()); });
}

int ListPayments(const Args& args) {
  JsonObject req;
  if (args.Has("queue")) {  // the reconciliation queue: what still needs a person
    req.Raw("statuses", R"(["PAYMENT_STATUS_UNMATCHED","PAYMENT_STATUS_PARTIALLY_ALLOCATED"])");
  }
  if (int code = IdFlag(args, "customer", "customer_id", &req)) return code;
  std::unique_ptr<Message> resp;
  if (int code = InvokeList(args, Method("ListPayments"), req, &resp)) return code;
  return Show(args, *resp, [&] { return RenderRows(*resp, "payments", PaymentColumns()); });
}

int RecordPayment(const Args& args) {
  if (!args.flags.count("date") || !args.flags.count("amount") || args.Flag("payer").empty()) {
    return UsageProblem(args, "--date, --amount and --payer are required");
  }
  JsonObject req;
  req.Str("request_id", RequestIdFor(args));
  if (int code = DateFlag(args, "date", "payment_date", &req)) return code;
  absl::StatusOr<int64_t> amount = ParseYen(args.Flag("amount"), "--amount");
  if (!amount.ok()) return UsageProblem(args, std::string(amount.status().message()));
  req.Int("amount", *amount).Str("payer_name", args.Flag("payer"));
  if (args.flags.count("reference")) req.Str("reference", args.Flag("reference"));
  if (args.flags.count("memo")) req.Str("memo", args.Flag("memo"));
  std::unique_ptr<Message> resp;
  if (int code = Invoke(args, Method("RecordPayment"), req.str(), &resp)) return code;
  return Show(args, *resp, [&] { return RenderMessages({resp.get()}, PaymentColumns()); });
}

int ImportPayments(const Args& args) {
  if (args.words.size() != 1) return UsageProblem(args, "payments import needs one file");
  const std::string format = args.Flag("format");
  if (format != "zengin" && format != "csv") {
    return UsageProblem(args, "--format is zengin or csv");
  }
  std::string content;
  if (!ReadFileBytes(args.words[0], &content)) return kExitUsage;
  size_t lines = 0;
  for (char c : content) lines += c == '\n';
  if (!content.empty() && content.back() != '\n') ++lines;
  Progress(absl::StrCat("importing ", args.words[0], ": ", lines, " lines, ", content.size(),
                        " bytes"));
  JsonObject req;
  req.Str("request_id", RequestIdFor(args))
      .Str("format", EnumName("BANK_STATEMENT_FORMAT", format))
      .Str("content", absl::Base64Escape(content));
  if (args.flags.count("account")) req.Str("account", args.Flag("account"));
  std::unique_ptr<Message> resp;
  if (int code = Invoke(args, Method("ImportBankStatement"), req.str(), &resp)) return code;
  Progress(absl::StrCat(Cell(*resp, "line_count", Fmt::kNumber), " lines read by the server"));
  return Show(args, *resp, [&] {
    std::string out = RenderRecord(*resp, {{"lines", "line_count", Fmt::kNumber},
                                           {"imported", "imported_count", Fmt::kNumber},
                                           {"duplicates", "duplicate_count", Fmt::kNumber},
                                           {"matched", "matched_count", Fmt::kNumber},
                                           {"matched_with_fee", "matched_with_fee_count", Fmt::kNumber},
                                           {"partial", "partial_count", Fmt::kNumber},
                                           {"overpayment", "overpayment_count", Fmt::kNumber},
                                           {"unmatched", "unmatched_count", Fmt::kNumber}});
    return absl::StrCat(out, "\n", RenderRows(*resp, "payments", PaymentColumns()));
  });
}

int Overdue(const Args& args) {
  JsonObject req;
  if (int code = DateFlag(args, "as-of", "as_of", &req)) return code;
  if (int code = IdFlag(args, "customer", "customer_id", &req)) return code;
  std::unique_ptr<Message> resp;
  if (int code = InvokeList(args, Method("ListOverdueInvoices"), req, &resp)) return code;
  return Show(args, *resp, [&] {
    return absl::StrCat("as of ", Cell(*resp, "as_of", Fmt::kDate), "\n",
                        RenderRows(*resp, "invoices",
                                   {{"INVOICE", "invoice_id", Fmt::kId},
                                    {"NUMBER", "number"},
                                    {"CUSTOMER", "customer_id", Fmt::kId},
                                    {"RECIPIENT", "recipient_name"},
                                    {"DUE", "due_date", Fmt::kDate},
                                    {"TOTAL", "total", Fmt::kYen},
                                    {"BALANCE", "balance", Fmt::kYen},
                                    {"DAYS", "days_past_due", Fmt::kNumber}}));
  });
}

int Aging(const Args& args) {
  JsonObject req;
  if (int code = DateFlag(args, "as-of", "as_of", &req)) return code;
  if (int code = IdFlag(args, "customer", "customer_id", &req)) return code;
  std::unique_ptr<Message> resp;
  if (int code = Invoke(args, Method("GetAgingSummary"), req.str(), &resp)) return code;
  return Show(args, *resp, [&] {
    const std::vector<Column> cols = {{"CUSTOMER", "customer_id", Fmt::kId},
                                      {"NOT_DUE", "not_due", Fmt::kYen},
                                      {"1-30", "days_1_to_30", Fmt::kYen},
                                      {"31-60", "days_31_to_60", Fmt::kYen},
                                      {"61-90", "days_61_to_90", Fmt::kYen},
                                      {"OVER_90", "over_90_days", Fmt::kYen},
                                      {"TOTAL", "total", Fmt::kYen},
                                      {"INVOICES", "invoice_count", Fmt::kNumber}};
    std::vector<const Message*> rows;
    const auto* f = resp->GetDescriptor()->FindFieldByName("rows");
    const auto* r = resp->GetReflection();
    for (int i = 0; i < r->FieldSize(*resp, f); ++i) rows.push_back(&r->GetRepeatedMessage(*resp, f, i));
    const Message& totals = r->GetMessage(*resp, resp->GetDescriptor()->FindFieldByName("totals"));
    std::string table = RenderMessages(rows, cols);
    std::string total_line = RenderMessages({&totals}, cols);
    return absl::StrCat("as of ", Cell(*resp, "as_of", Fmt::kDate), "\n", table, "totals:\n",
                        total_line.substr(total_line.find('\n') + 1));
  });
}

int MissedBilling(const Args& args) {
  JsonObject req;
  if (int code = DateFlag(args, "as-of", "as_of", &req)) return code;
  std::unique_ptr<Message> resp;
  if (int code = Invoke(args, Method("ListMissedBilling"), req.str(), &resp)) return code;
  return Show(args, *resp, [&] {
    return absl::StrCat("as of ", Cell(*resp, "as_of", Fmt::kDate), "\n",
                        RenderRows(*resp, "items",
                                   {{"KIND", "kind", Fmt::kEnum},
                                    {"CASE", "project_id", Fmt::kId},
                                    {"NUMBER", "project_number"},
                                    {"CUSTOMER", "customer_id", Fmt::kId},
                                    {"ENTRY", "entry_id", Fmt::kId},
                                    {"PERIOD", "period"},
                                    {"BILLING", "billing_date", Fmt::kDate},
                                    {"AMOUNT", "amount", Fmt::kYen},
                                    {"REASON", "reason"}}));
  });
}

std::string RenderRenewals(const Message& run) {
  std::string out = RenderRecord(run, {{"as_of", "as_of", Fmt::kDate},
                                       {"plans_considered", "plans_considered", Fmt::kNumber},
                                       {"plans_not_won", "plans_not_won", Fmt::kNumber}});
  absl::StrAppend(&out, "\nrenewed:\n",
                  RenderRows(run, "renewals",
                             {{"CASE", "project_id", Fmt::kId},
                              {"OLD_END", "old_end_month", Fmt::kMonth},
                              {"NEW_END", "new_end_month", Fmt::kMonth}}));
  const auto* f = run.GetDescriptor()->FindFieldByName("failures");
  if (run.GetReflection()->FieldSize(run, f) > 0) {
    absl::StrAppend(&out, "\nfailed:\n",
                    RenderRows(run, "failures",
                               {{"CASE", "project_id", Fmt::kId},
                                {"CODE", "code"},
                                {"REASON", "reason"}}));
  }
  return out;
}

int Renewals(const Args& args, bool run) {
  JsonObject req;
  if (int code = DateFlag(args, "as-of", "as_of", &req)) return code;
  if (run) req.Str("request_id", RequestIdFor(args));
  if (run) Progress("running renewals...");
  std::unique_ptr<Message> resp;
  if (int code = Invoke(args, Method(run ? "RunRenewals" : "PreviewRenewals"), req.str(), &resp)) {
    return code;
  }
  const auto* d = resp->GetDescriptor();
  const auto* r = resp->GetReflection();
  Progress(absl::StrCat(r->FieldSize(*resp, d->FindFieldByName("renewals")), " plans ",
                        run ? "renewed" : "would renew", ", ",
                        r->FieldSize(*resp, d->FindFieldByName("failures")), " failed"));
  return Show(args, *resp, [&] { return RenderRenewals(*resp); });
}

}  // namespace

std::vector<Command> BillingCommands() {
  return {
      {"plans get", "CASE", "a case's billing plan and its entries", "ankenctl plans get 3",
       GetPlan},
      {"plans set", "CASE FILE [--etag E]",
       "set a case's billing plan from a JSON file (anken.billing.v1.BillingPlan fields)",
       "echo '{\"timing\": \"BILLING_TIMING_LUMP_SUM\", \"tax_category\": \"TAX_CATEGORY_STANDARD\", "
       "\"planned_entries\": [{\"billing_date\": {\"year\": 2026, \"month\": 4, \"day\": 30}, "
       "\"amount\": \"300000\"}]}' > plan.json; ankenctl plans set 3 plan.json",
       SetPlan},
      {"entries list",
       "[--case ID] [--customer ID] [--status unbilled|ready|billed|paid|uncollectible] "
       "[--page-size N | --all]",
       "billing entries (請求予定) with amounts, dates and status",
       "ankenctl entries list --customer 1 --status ready", ListEntries},
      {"entries mark", "ID --status unbilled|ready|... [--etag E]",
       "set a billing entry's status (ready: it can be invoiced)",
       "ankenctl entries mark 4 --status ready", MarkEntry},
      {"invoices list", "[--customer ID] [--status issued|cancelled] [--page-size N | --all]",
       "invoices with totals and balances", "ankenctl invoices list --customer 1", ListInvoices},
      {"invoices get", "ID", "one invoice with its lines", "ankenctl invoices get 12", GetInvoice},
      {"invoices issue", "--customer ID [--entries ID,ID,...] [--issue-date DATE] [--request-id ID]",
       "issue an invoice for a customer's READY billing entries (all, or those named)",
       "ankenctl invoices issue --customer 1 --entries 4,5 --issue-date 2026-04-30", IssueInvoice},
      {"invoices cancel", "ID --reason TEXT [--etag E]", "cancel an issued invoice",
       "ankenctl invoices cancel 12 --reason '金額誤り'", CancelInvoice},
      {"payments list", "[--queue] [--customer ID] [--page-size N | --all]",
       "payments (--queue: the unmatched and partially allocated ones)",
       "ankenctl payments list --queue", ListPayments},
      {"payments record",
       "--date YYYY-MM-DD --amount YEN --payer NAME [--reference R] [--memo M] [--request-id ID]",
       "record a payment by hand (it is matched to open invoices)",
       "ankenctl payments record --date 2026-05-31 --amount 330,000 --payer 'ｶ)ｻﾝﾌﾟﾙ'", RecordPayment},
      {"payments import", "FILE --format zengin|csv [--account A] [--request-id ID]",
       "import a bank statement and reconcile it",
       "ankenctl payments import statement.csv --format csv --request-id stmt-2026-05",
       ImportPayments},
      {"receivables overdue", "[--as-of DATE] [--customer ID] [--page-size N | --all]",
       "invoices past their due date with their balance",
       "ankenctl receivables overdue --as-of 2026-06-30", Overdue},
      {"receivables aging", "[--as-of DATE] [--customer ID]",
       "open balances by customer and age (not due, 1-30, 31-60, 61-90, over 90 days)",
       "ankenctl receivables aging --as-of 2026-06-30", Aging},
      {"missed-billing", "[--as-of DATE]",
       "entries not billed in time, won cases without a plan, missing periods",
       "ankenctl missed-billing --as-of 2026-06-30", MissedBilling},
      {"renewals run", "[--as-of DATE] [--request-id ID]",
       "renew the recurring plans that end (auto-renew)",
       "ankenctl renewals run --as-of 2026-04-01", [](const Args& a) { return Renewals(a, true); }},
      {"renewals preview", "[--as-of DATE]", "what renewals run would renew, changing nothing",
       "ankenctl renewals preview --as-of 2026-04-01",
       [](const Args& a) { return Renewals(a, false); }},
  };
}

}  // namespace anken::ctl
