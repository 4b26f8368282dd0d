// call, token, methods and the PDF downloads: the commands ankenctl had before the per-service
// ones (their behaviour is relied on by scripts/demo and tests/tools/ankenctl_test.cc).

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/auth/auth.h"
#include "tools/ankenctl/commands.h"
#include "tools/ankenctl/invoke.h"

namespace anken::ctl {
namespace {

std::string ReadSecret() {
  if (const char* s = std::getenv("ANKEN_JWT_SECRET"); s != nullptr && *s != '\0') return s;
  // scripts/run-local keeps the development secret here.
  std::ifstream in(".local/jwt-secret");
  std::string secret;
  std::getline(in, secret);
  return secret;
}

int Token(const Args& args) {
  absl::StatusOr<auth::Role> role = auth::ParseRole(args.Flag("role"));
  if (!role.ok()) return UsageProblem(args, "--role must be admin, staff, accounting, partner or service");
  if (args.Flag("sub").empty()) return UsageProblem(args, "--sub is required");
  auth::MintOptions o;
  o.subject = args.Flag("sub");
  o.role = *role;
  o.partner_id = args.Flag("partner-id");
  o.hs256_secret = ReadSecret();
  if (o.hs256_secret.empty()) {
    return UsageProblem(args, "no signing secret: set ANKEN_JWT_SECRET (or run from a checkout "
                              "started with ./scripts/run-local)");
  }
  o.ttl = absl::Hours(12);
  if (args.flags.count("ttl") && !absl::ParseDuration(args.Flag("ttl"), &o.ttl)) {
    return UsageProblem(args, "--ttl is a duration such as 12h");
  }
  absl::StatusOr<std::string> token = auth::MintToken(o);
  if (!token.ok()) {
    std::cerr << "ankenctl: " << token.status().message() << "\n";
    return kExitRefused;
  }
  std::cout << *token << "\n";
  return kExitOk;
}

int Methods(const Args& args) {
  const std::string filter = args.words.empty() ? "" : args.words[0];
  for (const auto* s : Services()) {
    if (!filter.empty() && s->full_name().find(filter) == std::string::npos) continue;
    for (int i = 0; i < s->method_count(); ++i) {
      std::cout << s->full_name() << "/" << s->method(i)->name() << "\n";
    }
  }
  return kExitOk;
}

int Call(const Args& args) {
  if (args.words.empty()) return UsageProblem(args, "call needs a method");
  std::string json = args.words.size() > 1 ? args.words[1] : "";
  if (json == "-") {
    json.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  std::unique_ptr<google::protobuf::Message> response;
  if (int code = Invoke(args, args.words[0], json, &response); code != kExitOk) return code;
  std::cout << ToJson(*response);
  return kExitOk;
}

// GetInvoicePdf / GetQuotePdf, the PDF saved to -o FILE (default: the file name the server
// suggests, in the current folder).
int SavePdf(const Args& args, const std::string& kind) {
  int64_t id = 0;
  if (int code = IdOperand(args, "the id", 1, &id)) return code;
  const std::string target = kind == "invoice" ? "anken.billing.v1.BillingService/GetInvoicePdf"
                                               : "anken.project.v1.ProjectService/GetQuotePdf";
  std::unique_ptr<google::protobuf::Message> response;
  if (int code = Invoke(args, target, JsonObject().Int("id", id).str(), &response);
      code != kExitOk) {
    return code;
  }
  const google::protobuf::Descriptor* d = response->GetDescriptor();
  const google::protobuf::Reflection* r = response->GetReflection();
  return SaveDownload(args, r->GetString(*response, d->FindFieldByName("pdf")),
                      r->GetString(*response, d->FindFieldByName("filename")),
                      absl::StrCat(kind, "_", id, ".pdf"));
}

}  // namespace

std::vector<Command> CoreCommands() {
  return {
      {"call", "<pkg.Service/Method> ['<json request>' | -]",
       "call any RPC with a JSON request; prints the JSON response",
       "ankenctl call anken.customer.v1.CustomerService/GetCustomer '{\"id\": 1}'", Call},
      {"token", "--role ROLE --sub SUBJECT [--partner-id N] [--ttl 12h]",
       "mint a development token (ANKEN_JWT_SECRET or .local/jwt-secret)",
       "export ANKEN_TOKEN=$(ankenctl token --role staff --sub alice)", Token},
      {"methods", "[SERVICE]", "list the RPCs ankenctl can call", "ankenctl methods BillingService",
       Methods},
      {"invoice pdf", "ID [-o FILE]", "save an invoice (請求書) as PDF",
       "ankenctl invoice pdf 12 -o invoice.pdf", [](const Args& a) { return SavePdf(a, "invoice"); }},
      {"quote pdf", "ID [-o FILE]", "save a quote (御見積書) as PDF",
       "ankenctl quote pdf 3 -o quote.pdf", [](const Args& a) { return SavePdf(a, "quote"); }},
  };
}

}  // namespace anken::ctl
