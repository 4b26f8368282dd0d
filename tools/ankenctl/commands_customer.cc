// customers list|get|create|update, partners list (anken.customer.v1.CustomerService).

#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/ankenctl/cells.h"
#include "tools/ankenctl/commands.h"
#include "tools/ankenctl/invoke.h"

namespace anken::ctl {
namespace {

using google::protobuf::Message;

constexpr char kService[] = "anken.customer.v1.CustomerService/";

const std::vector<Column>& CustomerColumns() {
  static const auto* c = new std::vector<Column>{
      {"ID", "id", Fmt::kId},          {"CODE", "code"},
      {"NAME", "name"},                {"KIND", "kind", Fmt::kEnum},
      {"LIFECYCLE", "lifecycle", Fmt::kEnum}, {"PREFECTURE", "prefecture"},
      {"PHONE", "phone"}};
  return *c;
}

const std::vector<Column>& CustomerDetail() {
  static const auto* c = new std::vector<Column>{
      {"id", "id", Fmt::kId},
      {"code", "code"},
      {"name", "name"},
      {"name_kana", "name_kana"},
      {"kind", "kind", Fmt::kEnum},
      {"lifecycle", "lifecycle", Fmt::kEnum},
      {"customer", "is_customer", Fmt::kBool},
      {"partner", "is_partner", Fmt::kBool},
      {"postal_code", "postal_code"},
      {"prefecture", "prefecture"},
      {"address", "address_line1"},
      {"address2", "address_line2"},
      {"phone", "phone"},
      {"email", "email"},
      {"invoice_registration", "invoice_registration_number"},
      {"closing_day", "billing_terms.closing_day", Fmt::kNumber},
      {"commission_bp", "partner.commission_rate_bp", Fmt::kNumber},
      {"memo", "memo"},
      {"updated", "audit.update_time", Fmt::kTime}};
  return *c;
}

// The editable fields a command line can set: flag → Customer JSON field.
const std::vector<std::pair<std::string, std::string>>& TextFields() {
  static const auto* f = new std::vector<std::pair<std::string, std::string>>{
      {"name", "name"},         {"kana", "name_kana"},     {"postal-code", "postal_code"},
      {"prefecture", "prefecture"}, {"address", "address_line1"}, {"address2", "address_line2"},
      {"phone", "phone"},       {"email", "email"},         {"memo", "memo"},
      {"registration-number", "invoice_registration_number"}};
  return *f;
}

// The Customer JSON of the flags given; the JSON names set go to *paths (for update_mask).
void CustomerJson(const Args& args, JsonObject* customer, std::vector<std::string>* paths) {
  for (const auto& [flag, field] : TextFields()) {
    if (args.flags.count(flag)) {
      customer->Str(field, args.Flag(flag));
      paths->push_back(field);
    }
  }
  if (args.flags.count("kind")) {
    customer->Str("kind", EnumName("CUSTOMER_KIND", args.Flag("kind")));
    paths->push_back("kind");
  }
}

int List(const Args& args, const char* role) {
  JsonObject req;
  req.Str("role", role);
  if (args.flags.count("query")) req.Str("query", args.Flag("query"));
  if (args.flags.count("prefecture")) req.Str("prefecture", args.Flag("prefecture"));
  std::unique_ptr<Message> resp;
  if (int code = InvokeList(args, absl::StrCat(kService, "ListCustomers"), req, &resp); code) {
    return code;
  }
  return Show(args, *resp, [&] { return RenderRows(*resp, "customers", CustomerColumns()); });
}

int ListPartners(const Args& args) {
  JsonObject req;
  req.Str("role", "ROLE_FILTER_PARTNER");
  if (args.flags.count("query")) req.Str("query", args.Flag("query"));
  std::unique_ptr<Message> resp;
  if (int code = InvokeList(args, absl::StrCat(kService, "ListCustomers"), req, &resp); code) {
    return code;
  }
  return Show(args, *resp, [&] {
    return RenderRows(*resp, "customers",
                      {{"ID", "id", Fmt::kId},
                       {"CODE", "code"},
                       {"NAME", "name"},
                       {"COMMISSION_BP", "partner.commission_rate_bp", Fmt::kNumber},
                       {"REPORT_EMAIL", "partner.report_contact_email"},
                       {"LIFECYCLE", "lifecycle", Fmt::kEnum}});
  });
}

int Get(const Args& args) {
  int64_t id = 0;
  if (int code = IdOperand(args, "the customer id", 1, &id)) return code;
  std::unique_ptr<Message> resp;
  if (int code = Invoke(args, absl::StrCat(kService, "GetCustomer"),
                        JsonObject().Int("id", id).str(), &resp)) {
    return code;
  }
  return Show(args, *resp, [&] { return RenderRecord(*resp, CustomerDetail()); });
}

int Create(const Args& args) {
  if (!args.words.empty()) return UsageProblem(args, "customers create takes flags only");
  if (args.Flag("name").empty()) return UsageProblem(args, "--name is required");
  JsonObject customer;
  std::vector<std::string> paths;
  CustomerJson(args, &customer, &paths);
  if (!args.flags.count("kind")) customer.Str("kind", "CUSTOMER_KIND_CORPORATION");
  const std::string role = args.Flag("role", "customer");
  if (role != "customer" && role != "partner" && role != "both" && role != "lead") {
    return UsageProblem(args, "--role is customer, partner, both or lead");
  }
  customer.Bool("is_customer", role != "partner");
  customer.Bool("is_partner", role == "partner" || role == "both");
  if (role == "lead") customer.Str("lifecycle", "LIFECYCLE_LEAD");
  if (role == "partner" || role == "both") {
    JsonObject partner;
    if (args.flags.count("commission-bp")) {
      int bp = 0;
      if (!absl::SimpleAtoi(args.Flag("commission-bp"), &bp) || bp < 0) {
        return UsageProblem(args, "--commission-bp is a rate in basis points (1000 = 10%)");
      }
      partner.Raw("commission_rate_bp", absl::StrCat(bp));
    }
    if (args.flags.count("notify-email")) partner.Str("notification_email", args.Flag("notify-email"));
    if (args.flags.count("report-email")) partner.Str("report_contact_email", args.Flag("report-email"));
    customer.Obj("partner", partner);
  }
  JsonObject req;
  req.Str("request_id", RequestIdFor(args)).Obj("customer", customer);
  std::unique_ptr<Message> resp;
  if (int code = Invoke(args, absl::StrCat(kService, "CreateCustomer"), req.str(), &resp)) {
    return code;
  }
  return Show(args, *resp, [&] { return RenderMessages({resp.get()}, CustomerColumns()); });
}

int Update(const Args& args) {
  int64_t id = 0;
  if (int code = IdOperand(args, "the customer id", 1, &id)) return code;
  JsonObject customer;
  std::vector<std::string> paths;
  CustomerJson(args, &customer, &paths);
  if (paths.empty()) return UsageProblem(args, "name at least one field to change (--name, ...)");
  std::string etag = args.Flag("etag");
  if (etag.empty()) {  // the current version: the change applies to what was just read
    std::unique_ptr<Message> current;
    if (int code = Invoke(args, absl::StrCat(kService, "GetCustomer"),
                          JsonObject().Int("id", id).str(), &current)) {
      return code;
    }
    etag = Cell(*current, "etag", Fmt::kText);
  }
  customer.Int("id", id).Str("etag", etag);
  JsonObject req;
  // FieldMask's JSON form names the paths in lowerCamelCase.
  std::vector<std::string> camel;
  for (const std::string& p : paths) {
    std::string c;
    for (size_t i = 0; i < p.size(); ++i) {
      if (p[i] == '_' && i + 1 < p.size()) {
        c += absl::ascii_toupper(p[++i]);
      } else {
        c += p[i];
      }
    }
    camel.push_back(c);
  }
  req.Obj("customer", customer).Str("update_mask", absl::StrJoin(camel, ","));
  std::unique_ptr<Message> resp;
  if (int code = Invoke(args, absl::StrCat(kService, "UpdateCustomer"), req.str(), &resp)) {
    return code;
  }
  return Show(args, *resp, [&] { return RenderRecord(*resp, CustomerDetail()); });
}

constexpr char kCustomerFlags[] =
    "[--kana KANA] [--kind corporation|sole-proprietor|individual] [--postal-code N]\n"
    "    [--prefecture P] [--address A] [--address2 A] [--phone N] [--email E] [--memo M]\n"
    "    [--registration-number T...]";

}  // namespace

std::vector<Command> CustomerCommands() {
  return {
      {"customers list", "[--query TEXT] [--prefecture P] [--page-size N | --all]",
       "list customers (ID, code, name, kind, lifecycle, prefecture, phone)",
       "ankenctl customers list --query サンプル --all",
       [](const Args& a) { return List(a, "ROLE_FILTER_CUSTOMER"); }},
      {"customers get", "ID", "show one customer", "ankenctl customers get 1", Get},
      {"customers create",
       absl::StrCat("--name NAME ", kCustomerFlags,
                    "\n    [--role customer|partner|both|lead] [--commission-bp N --notify-email E\n    --report-email E]"
                    " [--request-id ID]"),
       "create a customer (or partner store); prints the new row",
       "ankenctl customers create --name 株式会社サンプル --kana ｶﾌﾞｼｷｶﾞｲｼｬｻﾝﾌﾟﾙ "
       "--postal-code 1000001 --prefecture 東京都 --request-id new-sample-1",
       Create},
      {"customers update", absl::StrCat("ID [--name NAME] ", kCustomerFlags, " [--etag E]"),
       "change the named fields of a customer (the others stay)",
       "ankenctl customers update 1 --phone 03-1234-5678", Update},
      {"partners list", "[--query TEXT] [--page-size N | --all]",
       "list partner stores (commission rate, report contact)", "ankenctl partners list",
       ListPartners},
  };
}

}  // namespace anken::ctl
