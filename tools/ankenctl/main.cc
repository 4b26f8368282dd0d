// ankenctl: a command-line client for every Anken service.
//
//   ankenctl call <pkg.Service/Method> ['<json request>' | -]   call any RPC with a JSON request
//   ankenctl token --role staff --sub alice [--partner-id N] [--ttl 12h]   mint a dev token
//   ankenctl methods [service]                                  list the RPCs it knows
//   ankenctl invoice pdf <id> [-o FILE]    save an invoice (請求書) as PDF
//   ankenctl quote pdf <id> [-o FILE]      save a quote (御見積書) as PDF
//
// The address comes from --addr, else ANKEN_<SERVICE>_ADDR (e.g. ANKEN_CUSTOMER_ADDR), else
// the service's default local port; the token from --token, else ANKEN_TOKEN. Responses print
// as JSON. Exit codes: 0 success, 1 the request was refused (a user error: INVALID_ARGUMENT,
// NOT_FOUND, PERMISSION_DENIED, ...), 2 bad usage, 3 server or network error (UNAVAILABLE,
// INTERNAL, DEADLINE_EXCEEDED, ...).

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "anken/billing/v1/billing_service.grpc.pb.h"
#include "anken/customer/v1/customer_service.grpc.pb.h"
#include "anken/project/v1/project_service.grpc.pb.h"
#include "anken/report/v1/report_service.grpc.pb.h"
#include "anken/scheduler/v1/scheduler_service.grpc.pb.h"
#include "common/auth/auth.h"
#include "common/server/client.h"
#include "common/status/errors.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/client_context.h"
#include "grpcpp/impl/codegen/client_unary_call.h"
#include "grpcpp/impl/codegen/rpc_method.h"
#include "grpcpp/support/byte_buffer.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitRefused = 1;
constexpr int kExitUsage = 2;
constexpr int kExitServer = 3;

// Every service this binary can talk to (linking their descriptors in).
const std::vector<const google::protobuf::ServiceDescriptor*>& Services() {
  static const auto* services = new std::vector<const google::protobuf::ServiceDescriptor*>{
      anken::customer::v1::Customer::descriptor()->file()->FindServiceByName("CustomerService"),
      anken::project::v1::Project::descriptor()->file()->FindServiceByName("ProjectService"),
      anken::billing::v1::BillingPlan::descriptor()->file()->FindServiceByName("BillingService"),
      anken::report::v1::Report::descriptor()->file()->FindServiceByName("ReportIntakeService"),
      anken::scheduler::v1::Job::descriptor()->file()->FindServiceByName("SchedulerService"),
  };
  return *services;
}

// Default local ports (DESIGN.md "Running it").
const std::map<std::string, int>& DefaultPorts() {
  static const auto* ports = new std::map<std::string, int>{
      {"customer", 50051}, {"project", 50052}, {"billing", 50053}, {"report", 50054},
      {"scheduler", 50055}};
  return *ports;
}

int Usage(const std::string& problem = "") {
  if (!problem.empty()) std::cerr << "ankenctl: " << problem << "\n\n";
  std::cerr << "usage:\n"
               "  ankenctl [--addr HOST:PORT] [--token JWT] [--timeout 10s] call "
               "<pkg.Service/Method> ['<json>' | -]\n"
               "  ankenctl token --role ROLE --sub SUBJECT [--partner-id N] [--ttl 12h]\n"
               "  ankenctl methods [SERVICE]\n"
               "  ankenctl invoice pdf ID [-o FILE]\n"
               "  ankenctl quote pdf ID [-o FILE]     (FILE by default: the name the server suggests)\n"
               "examples:\n"
               "  export ANKEN_TOKEN=$(ankenctl token --role staff --sub alice)\n"
               "  ankenctl call anken.customer.v1.CustomerService/GetCustomer '{\"id\": 1}'\n";
  return kExitUsage;
}

int ExitCodeFor(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return kExitOk;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::OUT_OF_RANGE:
      return kExitRefused;
    default:
      return kExitServer;
  }
}

std::string ReadSecret() {
  if (const char* s = std::getenv("ANKEN_JWT_SECRET"); s != nullptr && *s != '\0') return s;
  // scripts/run-local keeps the development secret here.
  std::ifstream in(".local/jwt-secret");
  std::string secret;
  std::getline(in, secret);
  return secret;
}

int Token(const std::map<std::string, std::string>& flags) {
  auto get = [&](const std::string& k) {
    auto it = flags.find(k);
    return it == flags.end() ? std::string() : it->second;
  };
  absl::StatusOr<anken::auth::Role> role = anken::auth::ParseRole(get("role"));
  if (!role.ok()) return Usage("--role must be admin, staff, accounting, partner or service");
  if (get("sub").empty()) return Usage("--sub is required");
  anken::auth::MintOptions o;
  o.subject = get("sub");
  o.role = *role;
  o.partner_id = get("partner-id");
  o.hs256_secret = ReadSecret();
  if (o.hs256_secret.empty()) {
    return Usage("no signing secret: set ANKEN_JWT_SECRET (or run from a checkout started "
                 "with ./scripts/run-local)");
  }
  o.ttl = absl::Hours(12);
  if (!get("ttl").empty() && !absl::ParseDuration(get("ttl"), &o.ttl)) {
    return Usage("--ttl is a duration such as 12h");
  }
  absl::StatusOr<std::string> token = anken::auth::MintToken(o);
  if (!token.ok()) {
    std::cerr << "ankenctl: " << token.status().message() << "\n";
    return kExitRefused;
  }
  std::cout << *token << "\n";
  return kExitOk;
}

int Methods(const std::string& filter) {
  for (const auto* s : Services()) {
    if (!filter.empty() && s->full_name().find(filter) == std::string::npos) continue;
    for (int i = 0; i < s->method_count(); ++i) {
      std::cout << s->full_name() << "/" << s->method(i)->name() << "\n";
    }
  }
  return kExitOk;
}

// Calls `target` with the JSON request. On success sets *response (a message of the method's
// output type, made by `factory`, which must outlive it) and returns kExitOk; otherwise prints
// the error and returns the exit code.
int Invoke(const std::map<std::string, std::string>& flags, const std::string& target,
           std::string json, google::protobuf::DynamicMessageFactory& factory,
           std::unique_ptr<google::protobuf::Message>* response_out) {
  std::vector<std::string> parts = absl::StrSplit(target, '/');
  if (parts.size() != 2) return Usage("name the method as pkg.Service/Method");
  const google::protobuf::MethodDescriptor* method = nullptr;
  for (const auto* s : Services()) {
    if (s->full_name() == parts[0]) method = s->FindMethodByName(parts[1]);
  }
  if (method == nullptr) return Usage(absl::StrCat("unknown method ", target, " (see ankenctl methods)"));
  // anken.customer.v1 → customer.
  std::vector<std::string> pkg = absl::StrSplit(method->service()->file()->package(), '.');
  const std::string service = pkg.size() >= 2 ? pkg[1] : "";
  std::string addr = flags.count("addr") ? flags.at("addr") : "";
  if (addr.empty()) {
    const std::string env = absl::StrCat("ANKEN_", absl::AsciiStrToUpper(service), "_ADDR");
    if (const char* a = std::getenv(env.c_str()); a != nullptr && *a != '\0') addr = a;
  }
  if (addr.empty() && DefaultPorts().count(service)) {
    addr = absl::StrCat("127.0.0.1:", DefaultPorts().at(service));
  }
  std::string token = flags.count("token") ? flags.at("token") : "";
  if (token.empty()) {
    if (const char* t = std::getenv("ANKEN_TOKEN"); t != nullptr) token = t;
  }
  absl::Duration timeout = absl::Seconds(30);
  if (flags.count("timeout") && !absl::ParseDuration(flags.at("timeout"), &timeout)) {
    return Usage("--timeout is a duration such as 10s");
  }

  std::unique_ptr<google::protobuf::Message> request(
      factory.GetPrototype(method->input_type())->New());
  std::unique_ptr<google::protobuf::Message> response(
      factory.GetPrototype(method->output_type())->New());
  if (json.empty()) json = "{}";
  google::protobuf::util::Status parsed = google::protobuf::util::JsonStringToMessage(json, request.get());
  if (!parsed.ok()) return Usage(absl::StrCat("the request is not valid JSON for ",
                                              method->input_type()->full_name(), ": ",
                                              std::string(parsed.message())));

  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
  if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
  // RpcMethod keeps the pointer: the name must outlive the call.
  const std::string path = absl::StrCat("/", method->service()->full_name(), "/", method->name());
  grpc::internal::RpcMethod rpc(path.c_str(), grpc::internal::RpcMethod::NORMAL_RPC);
  std::string bytes = request->SerializeAsString();
  grpc::Slice slice(bytes);
  grpc::ByteBuffer req_buf(&slice, 1);
  grpc::ByteBuffer resp_buf;
  auto channel = anken::server::MakePeerChannel(addr);
  grpc::Status s = grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
      channel.get(), rpc, &ctx, req_buf, &resp_buf);
  if (!s.ok()) {
    absl::Status status = anken::FromGrpcStatus(s);
    std::cerr << "error: " << absl::StatusCodeToString(status.code()) << ": " << s.error_message()
              << "\n";
    if (std::string reason = anken::ErrorReason(status); !reason.empty()) {
      std::cerr << "  reason: " << reason << "\n";
    }
    for (const auto& v : anken::FieldViolations(status)) {
      std::cerr << "  field " << v.field << ": " << v.description << "\n";
    }
    return ExitCodeFor(s.error_code());
  }
  std::vector<grpc::Slice> slices;
  (void)resp_buf.Dump(&slices);
  std::string out_bytes;
  for (const auto& sl : slices) out_bytes.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
  response->ParseFromString(out_bytes);
  *response_out = std::move(response);
  return kExitOk;
}

int Call(const std::map<std::string, std::string>& flags, const std::string& target,
         std::string json) {
  google::protobuf::DynamicMessageFactory factory;
  std::unique_ptr<google::protobuf::Message> response;
  if (int code = Invoke(flags, target, std::move(json), factory, &response); code != kExitOk) {
    return code;
  }
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(*response, &out, options);
  std::cout << out;
  return kExitOk;
}

// `ankenctl invoice pdf ID` / `ankenctl quote pdf ID`: GetInvoicePdf / GetQuotePdf, the PDF
// saved to -o FILE (default: the file name the server suggests, in the current folder).
int SavePdf(const std::map<std::string, std::string>& flags, const std::string& kind,
            const std::string& id_text) {
  int64_t id = 0;
  if (!absl::SimpleAtoi(id_text, &id) || id <= 0) return Usage("the id is a positive number");
  const std::string target = kind == "invoice"
                                 ? "anken.billing.v1.BillingService/GetInvoicePdf"
                                 : "anken.project.v1.ProjectService/GetQuotePdf";
  google::protobuf::DynamicMessageFactory factory;
  std::unique_ptr<google::protobuf::Message> response;
  const std::string request = absl::StrCat("{\"id\": \"", id, "\"}");
  if (int code = Invoke(flags, target, request, factory, &response); code != kExitOk) {
    return code;
  }
  const google::protobuf::Descriptor* d = response->GetDescriptor();
  const google::protobuf::Reflection* r = response->GetReflection();
  const std::string pdf = r->GetString(*response, d->FindFieldByName("pdf"));
  std::string path = flags.count("output") ? flags.at("output") : "";
  if (path.empty()) {
    // The server's suggestion, as a plain name in the current folder (never a path).
    path = r->GetString(*response, d->FindFieldByName("filename"));
    if (size_t slash = path.find_last_of('/'); slash != std::string::npos) path.erase(0, slash + 1);
    if (path.empty() || path == "." || path == "..") path = absl::StrCat(kind, "_", id, ".pdf");
  }
  std::ofstream f(path, std::ios::binary);
  f << pdf;
  f.close();
  if (!f) {
    std::cerr << "ankenctl: cannot write " << path << "\n";
    return kExitServer;
  }
  std::cout << path << " (" << pdf.size() << " bytes)\n";
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") return Usage();
    if (a == "-o") a = "--output";
    if (a.rfind("--", 0) == 0) {
      std::string key = a.substr(2), value;
      if (auto eq = key.find('='); eq != std::string::npos) {
        value = key.substr(eq + 1);
        key = key.substr(0, eq);
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        return Usage(absl::StrCat("--", key, " needs a value"));
      }
      flags[key] = value;
    } else {
      args.push_back(a);
    }
  }
  if (args.empty()) return Usage();
  if (args[0] == "token") return Token(flags);
  if (args[0] == "methods") return Methods(args.size() > 1 ? args[1] : "");
  if (args[0] == "call") {
    if (args.size() < 2) return Usage("call needs a method");
    std::string json = args.size() > 2 ? args[2] : "";
    if (json == "-") {
      json.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    }
    return Call(flags, args[1], json);
  }
  if ((args[0] == "invoice" || args[0] == "quote") && args.size() >= 2 && args[1] == "pdf") {
    if (args.size() != 3) return Usage(absl::StrCat(args[0], " pdf needs one id"));
    return SavePdf(flags, args[0], args[2]);
  }
  if (args[0] == "help") return Usage();
  return Usage(absl::StrCat("unknown command ", args[0]));
}
