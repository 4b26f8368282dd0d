#include "tools/ankenctl/invoke.h"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>

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
#include "common/json/json_text.h"
#include "common/server/client.h"
#include "common/status/errors.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/client_context.h"
#include "grpcpp/impl/codegen/client_unary_call.h"
#include "grpcpp/impl/codegen/rpc_method.h"
#include "grpcpp/support/byte_buffer.h"

namespace anken::ctl {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// Default local ports (DESIGN.md "Running it").
const std::map<std::string, int>& DefaultPorts() {
  static const auto* ports = new std::map<std::string, int>{
      {"customer", 50051}, {"project", 50052}, {"billing", 50053}, {"report", 50054},
      {"scheduler", 50055}};
  return *ports;
}

std::string StringField(const Message& m, const char* name) {
  const FieldDescriptor* f = m.GetDescriptor()->FindFieldByName(name);
  return f == nullptr ? "" : m.GetReflection()->GetString(m, f);
}

}  // namespace

const std::vector<const google::protobuf::ServiceDescriptor*>& Services() {
  static const auto* services = new std::vector<const google::protobuf::ServiceDescriptor*>{
      customer::v1::Customer::descriptor()->file()->FindServiceByName("CustomerService"),
      project::v1::Project::descriptor()->file()->FindServiceByName("ProjectService"),
      billing::v1::BillingPlan::descriptor()->file()->FindServiceByName("BillingService"),
      report::v1::Report::descriptor()->file()->FindServiceByName("ReportIntakeService"),
      scheduler::v1::Job::descriptor()->file()->FindServiceByName("SchedulerService"),
  };
  return *services;
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

int UsageProblem(const Args& args, const std::string& problem) {
  std::cerr << "ankenctl: " << problem << "\n";
  if (!args.command.empty()) {
    std::cerr << "(usage and an example: ankenctl help " << args.command << ")\n";
  } else {
    std::cerr << "(commands: ankenctl help)\n";
  }
  return kExitUsage;
}

int Invoke(const Args& args, const std::string& target, const std::string& json_in,
           std::unique_ptr<Message>* response_out) {
  std::vector<std::string> parts = absl::StrSplit(target, '/');
  if (parts.size() != 2) return UsageProblem(args, "name the method as pkg.Service/Method");
  const google::protobuf::MethodDescriptor* method = nullptr;
  for (const auto* s : Services()) {
    if (s->full_name() == parts[0]) method = s->FindMethodByName(parts[1]);
  }
  if (method == nullptr) {
    return UsageProblem(args, absl::StrCat("unknown method ", target, " (see ankenctl methods)"));
  }
  // anken.customer.v1 → customer.
  std::vector<std::string> pkg = absl::StrSplit(method->service()->file()->package(), '.');
  const std::string service = pkg.size() >= 2 ? pkg[1] : "";
  std::string addr = args.Flag("addr");
  if (addr.empty()) {
    const std::string env = absl::StrCat("ANKEN_", absl::AsciiStrToUpper(service), "_ADDR");
    if (const char* a = std::getenv(env.c_str()); a != nullptr && *a != '\0') addr = a;
  }
  if (addr.empty() && DefaultPorts().count(service)) {
    addr = absl::StrCat("127.0.0.1:", DefaultPorts().at(service));
  }
  std::string token = args.Flag("token");
  if (token.empty()) {
    if (const char* t = std::getenv("ANKEN_TOKEN"); t != nullptr) token = t;
  }
  absl::Duration timeout = absl::Seconds(30);
  if (args.flags.count("timeout") && !absl::ParseDuration(args.Flag("timeout"), &timeout)) {
    return UsageProblem(args, "--timeout is a duration such as 10s");
  }

  // The generated types (every descriptor here is from the generated pool).
  google::protobuf::MessageFactory* factory = google::protobuf::MessageFactory::generated_factory();
  std::unique_ptr<Message> request(factory->GetPrototype(method->input_type())->New());
  std::unique_ptr<Message> response(factory->GetPrototype(method->output_type())->New());
  const std::string json = json_in.empty() ? "{}" : json_in;
  google::protobuf::util::Status parsed =
      google::protobuf::util::JsonStringToMessage(json, request.get());
  if (!parsed.ok()) {
    return UsageProblem(args, absl::StrCat("the request is not valid JSON for ",
                                           method->input_type()->full_name(), ": ",
                                           std::string(parsed.message())));
  }

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
  auto channel = server::MakePeerChannel(addr);
  grpc::Status s = grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
      channel.get(), rpc, &ctx, req_buf, &resp_buf);
  if (!s.ok()) {
    absl::Status status = FromGrpcStatus(s);
    std::cerr << "error: " << absl::StatusCodeToString(status.code()) << ": " << s.error_message()
              << "\n";
    if (std::string reason = ErrorReason(status); !reason.empty()) {
      std::cerr << "  reason: " << reason << "\n";
    }
    for (const auto& v : FieldViolations(status)) {
      std::cerr << "  field " << v.field << ": " << v.description << "\n";
    }
    return ExitCodeFor(s.error_code());
  }
  std::vector<grpc::Slice> slices;
  (void)resp_buf.Dump(&slices);
  std::string out_bytes;
  for (const auto& sl : slices) {
    out_bytes.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
  }
  if (!response->ParseFromString(out_bytes)) {
    std::cerr << "error: the response of " << target << " does not parse\n";
    return kExitServer;
  }
  *response_out = std::move(response);
  return kExitOk;
}

int InvokeList(const Args& args, const std::string& target, JsonObject request,
               std::unique_ptr<Message>* response_out) {
  if (args.flags.count("page-size")) {
    int size = 0;
    if (!absl::SimpleAtoi(args.Flag("page-size"), &size) || size <= 0) {
      return UsageProblem(args, "--page-size is a positive number");
    }
    request.Raw("page_size", absl::StrCat(size));
  }
  std::string token = args.Flag("page-token");
  std::unique_ptr<Message> all;
  for (int page = 1;; ++page) {
    JsonObject paged = request;
    if (!token.empty()) paged.Str("page_token", token);
    std::unique_ptr<Message> response;
    if (int code = Invoke(args, target, paged.str(), &response); code != kExitOk) return code;
    token = StringField(*response, "next_page_token");
    if (all == nullptr) {
      all = std::move(response);
    } else {
      all->MergeFrom(*response);
    }
    if (!args.Has("all") || token.empty()) break;
    if (page % 10 == 0) Progress(absl::StrCat(page, " pages read"));
  }
  const FieldDescriptor* next = all->GetDescriptor()->FindFieldByName("next_page_token");
  if (next != nullptr) {
    all->GetReflection()->SetString(all.get(), next, token);
    if (!token.empty() && !args.Has("json")) {
      std::cerr << "ankenctl: more rows: --all, or --page-token " << token << "\n";
    }
  }
  *response_out = std::move(all);
  return kExitOk;
}

std::string ToJson(const Message& m) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(m, &out, options);
  return out;
}

int Show(const Args& args, const Message& m, const std::function<std::string()>& render) {
  std::cout << (args.Has("json") ? ToJson(m) : render());
  return kExitOk;
}

std::string RequestIdFor(const Args& args) {
  std::string id = args.Flag("request-id");
  return id.empty() ? NewRequestId() : id;
}

void Progress(const std::string& line) { std::cerr << "ankenctl: " << line << "\n"; }

int IdOperand(const Args& args, const std::string& what, size_t count, int64_t* id) {
  if (args.words.size() != count) {
    return UsageProblem(args, absl::StrCat(args.command, " needs ", count, count == 1 ? " operand" : " operands",
                                           " (see its usage)"));
  }
  absl::StatusOr<int64_t> parsed = ParseId(args.words[0], what);
  if (!parsed.ok()) return UsageProblem(args, std::string(parsed.status().message()));
  *id = *parsed;
  return kExitOk;
}

int IdFlag(const Args& args, const std::string& flag, const std::string& field, JsonObject* req) {
  if (!args.flags.count(flag)) return kExitOk;
  absl::StatusOr<int64_t> id = ParseId(args.Flag(flag), absl::StrCat("--", flag));
  if (!id.ok()) return UsageProblem(args, std::string(id.status().message()));
  req->Int(field, *id);
  return kExitOk;
}

namespace {

// --flag TEXT as `field` of *req, the JSON made by `parse` (DateJson, MonthJson).
int ParsedFlag(const Args& args, const std::string& flag, const std::string& field,
               absl::StatusOr<std::string> (*parse)(absl::string_view, absl::string_view),
               JsonObject* req) {
  if (!args.flags.count(flag)) return kExitOk;
  absl::StatusOr<std::string> json = parse(args.Flag(flag), absl::StrCat("--", flag));
  if (!json.ok()) return UsageProblem(args, std::string(json.status().message()));
  req->Raw(field, *json);
  return kExitOk;
}

}  // namespace

int DateFlag(const Args& args, const std::string& flag, const std::string& field,
             JsonObject* req) {
  return ParsedFlag(args, flag, field, DateJson, req);
}

int MonthFlag(const Args& args, const std::string& flag, const std::string& field,
              JsonObject* req) {
  return ParsedFlag(args, flag, field, MonthJson, req);
}

void EnumFilter(const Args& args, const std::string& flag, const std::string& field,
                const std::string& prefix, JsonObject* req) {
  if (!args.flags.count(flag)) return;
  req->Raw(field, absl::StrCat("[", json::String(EnumName(prefix, args.Flag(flag))), "]"));
}

int SaveDownload(const Args& args, const std::string& content, std::string suggested,
                 const std::string& fallback) {
  std::string path = args.Flag("output");
  if (path.empty()) {
    if (size_t slash = suggested.find_last_of('/'); slash != std::string::npos) {
      suggested.erase(0, slash + 1);
    }
    path = suggested.empty() || suggested == "." || suggested == ".." ? fallback : suggested;
  }
  if (!WriteFileBytes(path, content)) return kExitServer;
  std::cout << path << " (" << content.size() << " bytes)\n";
  return kExitOk;
}

bool ReadFileBytes(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "ankenctl: cannot read " << path << "\n";
    return false;
  }
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

bool WriteFileBytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f << bytes;
  f.close();
  if (!f) {
    std::cerr << "ankenctl: cannot write " << path << "\n";
    return false;
  }
  return true;
}

}  // namespace anken::ctl
