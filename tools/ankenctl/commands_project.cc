// cases list|get|create, referrals list, quotes list|get (anken.project.v1.ProjectService; a
// 案件 is a project, a 見積 a quote).

#include "absl/strings/str_cat.h"
#include "tools/ankenctl/cells.h"
#include "tools/ankenctl/commands.h"
#include "tools/ankenctl/invoke.h"

namespace anken::ctl {
namespace {

using google::protobuf::Message;

constexpr char kService[] = "anken.project.v1.ProjectService/";

const std::vector<Column>& CaseColumns() {
  static const auto* c = new std::vector<Column>{
      {"ID", "id", Fmt::kId},
      {"NUMBER", "number"},
      {"CUSTOMER", "customer_id", Fmt::kId},
      {"NAME", "name"},
      {"STATUS", "order_status", Fmt::kEnum},
      {"QUOTE_DATE", "quote_date", Fmt::kDate},
      {"OWNER", "owner"},
      {"PARTNER", "referral.partner_id", Fmt::kId}};
  return *c;
}

int ListCases(const Args& args) {
  JsonObject req;
  if (int code = IdFlag(args, "customer", "customer_id", &req)) return code;
  if (int code = IdFlag(args, "partner", "partner_id", &req)) return code;
  if (args.flags.count("owner")) req.Str("owner", args.Flag("owner"));
  EnumFilter(args, "status", "order_statuses", "ORDER_STATUS", &req);
  std::unique_ptr<Message> resp;
  if (int code = InvokeList(args, absl::StrCat(kService, "ListProjects"), req, &resp)) return code;
  return Show(args, *resp, [&] { return RenderRows(*resp, "projects", CaseColumns()); });
}

int GetCase(const Args& args) {
  int64_t id = 0;
  if (int code = IdOperand(args, "the case id", 1, &id)) return code;
  std::unique_ptr<Message> resp;
  if (int code = Invoke(args, absl::StrCat(kService, "GetProject"),
                        JsonObject().Int("id", id).str(), &resp)) {
    return code;
  }
  return Show(args, *resp, [&] {
    return RenderRecord(*resp, {{"id", "id", Fmt::kId},
                                {"number", "number"},
                                {"customer", "customer_id", Fmt::kId},
                                {"name", "name"},
                                {"status", "order_status", Fmt::kEnum},
                                {"progress", "progress_status"},
                                {"quote_date", "quote_date", Fmt::kDate},
                                {"acceptance_date", "acceptance_date", Fmt::kDate},
                                {"owner", "owner"},
                                {"department", "department"},
                                {"partner", "referral.partner_id", Fmt::kId},
                                {"referral_date", "referral.referral_date", Fmt::kDate},
                                {"referral_outcome", "referral.outcome", Fmt::kEnum},
                                {"completion_date", "referral.completion_date", Fmt::kDate},
                                {"construction", "referral.amount", Fmt::kYen},
                                {"memo", "memo"},
                                {"updated", "audit.update_time", Fmt::kTime}});
  });
}

int CreateCase(const Args& args) {
  if (!args.words.empty()) return UsageProblem(args, "cases create takes flags only");
  if (args.Flag("name").empty()) return UsageProblem(args, "--name is required");
  if (!args.flags.count("customer")) return UsageProblem(args, "--customer is required");
  JsonObject project;
  if (int code = IdFlag(args, "customer", "customer_id", &project)) return code;
  project.Str("name", args.Flag("name"));
  for (const char* f : {"owner", "department", "memo"}) {
    if (args.flags.count(f)) project.Str(f, args.Flag(f));
  }
  if (int code = DateFlag(args, "quote-date", "quote_date", &project)) return code;
  if (args.flags.count("partner")) {
    JsonObject referral;
    if (int code = IdFlag(args, "partner", "partner_id", &referral)) return code;
    absl::StatusOr<std::string> d =
        DateJson(args.Flag("referral-date"), "--referral-date (with --partner)");
    if (!d.ok()) return UsageProblem(args, std::string(d.status().message()));
    referral.Raw("referral_date", *d);
    project.Obj("referral", referral);
  }
  JsonObject req;
  req.Str("request_id", RequestIdFor(args)).Obj("project", project);
  std::unique_ptr<Message> resp;
  if (int code = Invoke(args, absl::StrCat(kService, "CreateProject"), req.str(), &resp)) {
    return code;
  }
  return Show(args, *resp, [&] { return RenderMessages({resp.get()}, CaseColumns()); });
}

int ListReferrals(const Args& args) {
  if (!args.flags.count("partner")) return UsageProblem(args, "--partner is required");
  JsonObject req;
  if (int code = IdFlag(args, "partner", "partner_id", &req)) return code;
  EnumFilter(args, "outcome", "outcomes", "REFERRAL_OUTCOME", &req);
  std::unique_ptr<Message> resp;
  if (int code = InvokeList(args, absl::StrCat(kService, "ListReferrals"), req, &resp)) {
    return code;
  }
  return Show(args, *resp, [&] {
    return RenderRows(*resp, "projects",
                      {{"ID", "id", Fmt::kId},
                       {"NUMBER", "number"},
                       {"CUSTOMER", "customer_id", Fmt::kId},
                       {"NAME", "name"},
                       {"REFERRED", "referral.referral_date", Fmt::kDate},
                       {"OUTCOME", "referral.outcome", Fmt::kEnum},
                       {"COMPLETED", "referral.completion_date", Fmt::kDate},
                       {"AMOUNT", "referral.amount", Fmt::kYen},
                       {"LOST", "referral.lost_date", Fmt::kDate}});
  });
}

const std::vector<Column>& QuoteColumns() {
  static const auto* c = new std::vector<Column>{
      {"ID", "id", Fmt::kId},
      {"CASE", "project_id", Fmt::kId},
      {"NO", "number", Fmt::kNumber},
      {"ISSUED", "issue_date", Fmt::kDate},
      {"VALID_UNTIL", "valid_until", Fmt::kDate},
      {"STATUS", "status", Fmt::kEnum},
      {"SUBTOTAL", "subtotal", Fmt::kYen},
      {"TOTAL", "total", Fmt::kYen},
      {"WIN%", "win_probability", Fmt::kNumber},
      {"ORDER_MONTH", "expected_order_month", Fmt::kMonth}};
  return *c;
}

int ListQuotes(const Args& args) {
  if (!args.words.empty()) return UsageProblem(args, "quotes list takes flags only");
  JsonObject req;
  if (int code = IdFlag(args, "case", "project_id", &req)) return code;
  if (int code = IdFlag(args, "customer", "customer_id", &req)) return code;
  EnumFilter(args, "status", "statuses", "QUOTE_STATUS", &req);
  std::unique_ptr<Message> resp;
  if (int code = InvokeList(args, absl::StrCat(kService, "ListQuotes"), req, &resp)) return code;
  return Show(args, *resp, [&] { return RenderRows(*resp, "quotes", QuoteColumns()); });
}

int GetQuote(const Args& args) {
  int64_t id = 0;
  if (int code = IdOperand(args, "the quote id", 1, &id)) return code;
  std::unique_ptr<Message> resp;
  if (int code = Invoke(args, absl::StrCat(kService, "GetQuote"),
                        JsonObject().Int("id", id).str(), &resp)) {
    return code;
  }
  return Show(args, *resp, [&] {
    return absl::StrCat(
        RenderRecord(*resp, {{"id", "id", Fmt::kId},
                             {"case", "project_id", Fmt::kId},
                             {"number", "number", Fmt::kNumber},
                             {"status", "status", Fmt::kEnum},
                             {"issued", "issue_date", Fmt::kDate},
                             {"valid_until", "valid_until", Fmt::kDate},
                             {"win_probability", "win_probability", Fmt::kNumber},
                             {"order_month", "expected_order_month", Fmt::kMonth},
                             {"subtotal", "subtotal", Fmt::kYen},
                             {"tax", "tax", Fmt::kYen},
                             {"total", "total", Fmt::kYen},
                             {"note", "note"},
                             {"updated", "audit.update_time", Fmt::kTime}}),
        "\n",
        RenderRows(*resp, "lines",
                   {{"PRODUCT", "product_id", Fmt::kId},
                    {"DESCRIPTION", "description"},
                    {"QTY", "quantity_milli", Fmt::kQuantity},
                    {"UNIT", "unit"},
                    {"UNIT_PRICE", "unit_price", Fmt::kYen},
                    {"TAX", "tax_category", Fmt::kEnum},
                    {"AMOUNT", "amount", Fmt::kYen}}),
        "\n",
        RenderRows(*resp, "rate_totals",
                   {{"RATE", "category", Fmt::kEnum},
                    {"TAXABLE", "taxable_amount", Fmt::kYen},
                    {"TAX", "tax", Fmt::kYen}}));
  });
}

}  // namespace

std::vector<Command> ProjectCommands() {
  return {
      {"cases list",
       "[--customer ID] [--partner ID] [--owner NAME] [--status prospect|won|lost] "
       "[--page-size N | --all]",
       "list cases (案件): number, customer, name, order status, quote date",
       "ankenctl cases list --customer 1 --status won", ListCases},
      {"cases get", "ID", "show one case with its referral", "ankenctl cases get 3", GetCase},
      {"cases create",
       "--customer ID --name NAME [--owner O] [--department D] [--memo M] [--quote-date DATE]\n"
       "    [--partner ID --referral-date YYYY-MM-DD] [--request-id ID]",
       "create a case (referred by a partner store with --partner)",
       "ankenctl cases create --customer 1 --name 'Webサイト制作' --owner alice --request-id web-1",
       CreateCase},
      {"referrals list", "--partner ID [--outcome in-progress|completed|lost] [--page-size N | --all]",
       "a partner store's referred cases with their outcome",
       "ankenctl referrals list --partner 2 --outcome in-progress", ListReferrals},
      {"quotes list",
       "[--case ID] [--customer ID] [--status draft|sent|accepted|rejected] "
       "[--page-size N | --all]",
       "quotes (見積) by id: case, number, dates, status, totals, win probability",
       "ankenctl quotes list --customer 1 --status sent", ListQuotes},
      {"quotes get", "ID", "show one quote with its lines and the tax per rate",
       "ankenctl quotes get 4", GetQuote},
  };
}

}  // namespace anken::ctl
