#include "tests/reliability/security_world.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <mutex>
#include <pqxx/pqxx>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "anken/billing/v1/billing_service.pb.h"
#include "anken/customer/v1/customer_service.pb.h"
#include "anken/project/v1/project_service.pb.h"
#include "anken/report/v1/report_service.pb.h"
#include "anken/scheduler/v1/scheduler_service.pb.h"
#include "common/clock/clock.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "google/protobuf/text_format.h"
#include "grpcpp/impl/codegen/client_unary_call.h"
#include "grpcpp/support/byte_buffer.h"
#include "services/billing/billing_service.h"
#include "services/customer/customer_service.h"
#include "services/project/project_service.h"
#include "services/report/report_service.h"
#include "services/scheduler/scheduler_service.h"
#include "tests/support/grpc_probe.h"

namespace anken::reliability {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::MethodDescriptor;

struct ServiceSpec {
  const char* name;
  const char* bin;
  const char* full_name;
  int max_message_bytes;  // README: ANKEN_MAX_MESSAGE_BYTES defaults
  auth::MethodRoles (*roles)();
};

const ServiceSpec kSpecs[] = {
    {"customer", ANKEN_CUSTOMER_BIN, "anken.customer.v1.CustomerService", 16777216,
     &customer::CustomerServiceImpl::Roles},
    {"project", ANKEN_PROJECT_BIN, "anken.project.v1.ProjectService", 16777216,
     &project::ProjectServiceImpl::Roles},
    {"billing", ANKEN_BILLING_BIN, "anken.billing.v1.BillingService", 16777216,
     &billing::BillingServiceImpl::Roles},
    {"report", ANKEN_REPORT_BIN, "anken.report.v1.ReportIntakeService", 26214400,
     &report::ReportServiceImpl::Roles},
    {"scheduler", ANKEN_SCHEDULER_BIN, "anken.scheduler.v1.SchedulerService", 16777216,
     &scheduler::SchedulerServiceImpl::Roles},
};

// "/anken.customer.v1.CustomerService/CreateCustomer" from ("customer", "CreateCustomer").
std::string P(absl::string_view service, absl::string_view method) {
  for (const ServiceSpec& s : kSpecs) {
    if (service == s.name) return auth::FullMethodName(s.full_name, method);
  }
  return absl::StrCat("/unknown.", service, "/", method);
}

const MethodDescriptor* MethodOf(const std::string& path) {
  std::vector<std::string> parts = absl::StrSplit(path, '/');
  if (parts.size() != 3) return nullptr;
  return google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
      absl::StrCat(parts[1], ".", parts[2]));
}

std::unique_ptr<Message> NewOf(const Descriptor* d) {
  return std::unique_ptr<Message>(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(d)->New());
}

SecurityWorld* g_world = nullptr;

struct LeakTally {
  std::mutex mu;
  std::map<std::string, int> scanned;  // by kind
  int leaks = 0;
  std::vector<std::string> examples;
};
LeakTally& Tally() {
  static LeakTally* const tally = new LeakTally();
  return *tally;
}

class WorldEnvironment final : public ::testing::Environment {
 public:
  void TearDown() override {
    delete g_world;
    g_world = nullptr;
    LeakTally& t = Tally();
    std::lock_guard<std::mutex> lock(t.mu);
    if (t.scanned.empty()) return;
    int total = 0;
    std::vector<std::string> kinds;
    for (const auto& [kind, n] : t.scanned) {
      total += n;
      kinds.push_back(absl::StrCat(n, " ", kind));
    }
    for (const std::string& e : t.examples) std::cout << "  leak: " << e << "\n";
    const std::string scenario = "error-leak scan";
    const bool held = Check(
        scenario,
        absl::StrCat(total, " error statuses scanned (", absl::StrJoin(kinds, ", "),
                     ") for SQL, libpq text, paths, hosts, stack frames: ", t.leaks, " leaking"),
        t.leaks == 0);
    RecordScenario(scenario, held, absl::StrCat(total, " statuses, ", t.leaks, " leaks"));
    EXPECT_TRUE(held);
  }
};
::testing::Environment* const kWorldEnvironment =
    ::testing::AddGlobalTestEnvironment(new WorldEnvironment);

std::string HostName() {
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0) return "";
  return host;
}

// An absolute path of two or more segments ("/usr/lib", "/work/main/x.cc") as a token of
// `text`; gRPC method names ("/anken.x.v1.S/M") are not paths.
bool HasPath(const std::string& text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '/') continue;
    if (i > 0 && !absl::ascii_isspace(static_cast<unsigned char>(text[i - 1])) &&
        std::string("\"'(=:[").find(text[i - 1]) == std::string::npos) {
      continue;
    }
    size_t end = i + 1;
    int slashes = 1;
    while (end < text.size() && !absl::ascii_isspace(static_cast<unsigned char>(text[end])) &&
           std::string("\"')],;").find(text[end]) == std::string::npos) {
      if (text[end] == '/') ++slashes;
      ++end;
    }
    const std::string token = text.substr(i, end - i);
    if (slashes >= 2 && token.size() > 3 && !absl::StartsWith(token, "/anken.") &&
        !absl::StartsWith(token, "/grpc.")) {
      return true;
    }
  }
  return false;
}

std::string LeakInText(const std::string& text) {
  if (text.empty()) return "";
  if (LeaksInternals(text)) return "SQL/libpq/address";
  if (HasPath(text)) return "file path";
  for (const char* needle : {".cc:", ".h:", ".cpp", ".hpp", "#0 ", "#1 ", "backtrace",
                             "Stack trace", "stack trace", "std::", "anken::", "pqxx::", "__cxa",
                             "what():", "SIGSEGV", "Aborted", "core dumped", "??:"}) {
    if (absl::StrContains(text, needle))
      return absl::StrCat("stack frame or source (", needle, ")");
  }
  for (const char* needle :
       {"relation \"", "column \"", "constraint \"", "violates", "duplicate key", "syntax error",
        "SQLSTATE", "sqlstate", "FATAL:", "DETAIL:", "HINT:", "server closed the connection",
        "could not connect", "connection to server"}) {
    if (absl::StrContains(text, needle)) return absl::StrCat("database text (", needle, ")");
  }
  // The machine's name (when long enough not to be an ordinary word) and loopback forms.
  static const std::string* const host = new std::string(HostName());
  if (host->size() >= 6 && absl::StrContains(text, *host)) {
    return absl::StrCat("host name (", *host, ")");
  }
  for (const char* needle : {"localhost", "127.0.0.1", "ipv4:", "ipv6:", "unix:/"}) {
    if (absl::StrContains(text, needle)) return absl::StrCat("host address (", needle, ")");
  }
  return "";
}

std::string Q(const std::string& s) { return Quoted(s); }

}  // namespace

RawReply RawCall(const std::shared_ptr<grpc::Channel>& channel, const std::string& path,
                 const std::string& request, const std::string& authorization,
                 absl::Duration deadline) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  if (!authorization.empty()) ctx.AddMetadata("authorization", authorization);
  grpc::internal::RpcMethod rpc(path.c_str(), grpc::internal::RpcMethod::NORMAL_RPC);
  grpc::Slice slice(request);
  grpc::ByteBuffer req(&slice, 1);
  grpc::ByteBuffer resp;
  RawReply out;
  out.status = grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
      channel.get(), rpc, &ctx, req, &resp);
  if (out.status.ok()) {
    std::vector<grpc::Slice> slices;
    if (resp.Dump(&slices).ok()) {
      for (const grpc::Slice& s : slices) {
        out.bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
    }
  }
  return out;
}

std::string Bearer(const std::string& token) { return absl::StrCat("Bearer ", token); }

std::string Leak(const grpc::Status& status) {
  if (std::string leak = LeakInText(status.error_message()); !leak.empty()) return leak;
  const absl::Status s = FromGrpcStatus(status);
  for (const FieldViolation& v : FieldViolations(s)) {
    if (std::string leak = LeakInText(absl::StrCat(v.field, " ", v.description)); !leak.empty()) {
      return absl::StrCat(leak, " in a field violation");
    }
  }
  if (std::string leak = LeakInText(ErrorReason(s)); !leak.empty()) return leak;
  return "";
}

std::string ScanForLeaks(const std::string& kind, const std::string& what,
                         const grpc::Status& status) {
  if (status.ok()) return "";
  const std::string leak = Leak(status);
  LeakTally& t = Tally();
  std::lock_guard<std::mutex> lock(t.mu);
  ++t.scanned[kind];
  if (!leak.empty()) {
    ++t.leaks;
    if (t.examples.size() < 20) {
      t.examples.push_back(absl::StrCat(what, ": ", leak, ": ", status.error_message()));
    }
  }
  return leak;
}

std::string ReasonOf(const grpc::Status& status) { return ErrorReason(FromGrpcStatus(status)); }

std::vector<std::string> ViolatedFields(const grpc::Status& status) {
  std::vector<std::string> out;
  for (const FieldViolation& v : FieldViolations(FromGrpcStatus(status))) out.push_back(v.field);
  return out;
}

std::string RoleToken(auth::Role role, const std::string& partner_id) {
  const std::string pid =
      role == auth::Role::kPartner ? (partner_id.empty() ? "1" : partner_id) : std::string();
  return Token(role, absl::StrCat("sec-", auth::RoleName(role), pid), pid);
}

SecurityWorld* WorldForTest() {
  absl::StatusOr<SecurityWorld*> w = SecurityWorld::Shared();
  EXPECT_TRUE(w.ok()) << w.status();
  return w.ok() ? *w : nullptr;
}

void PrintFailures(const std::vector<std::string>& failures) {
  for (size_t i = 0; i < failures.size() && i < 40; ++i) std::cout << "  " << failures[i] << "\n";
  if (failures.size() > 40) std::cout << "  ... " << failures.size() - 40 << " more\n";
}

std::string DateText(absl::CivilDay d) {
  return absl::StrCat("{ year: ", d.year(), " month: ", d.month(), " day: ", d.day(), " }");
}
std::string MonthText(absl::CivilMonth m) {
  return absl::StrCat("{ year: ", m.year(), " month: ", m.month(), " }");
}
std::string Quoted(const std::string& s) { return absl::StrCat("\"", absl::CEscape(s), "\""); }

int64_t IntAt(const Message& m, const std::string& path) {
  const Message* cur = &m;
  std::vector<std::string> parts = absl::StrSplit(path, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    const FieldDescriptor* f = cur->GetDescriptor()->FindFieldByName(parts[i]);
    if (f == nullptr || f->is_repeated()) return 0;
    if (i + 1 == parts.size()) {
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_INT64)
        return cur->GetReflection()->GetInt64(*cur, f);
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_INT32)
        return cur->GetReflection()->GetInt32(*cur, f);
      return 0;
    }
    if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) return 0;
    cur = &cur->GetReflection()->GetMessage(*cur, f);
  }
  return 0;
}

absl::StatusOr<SecurityWorld*> SecurityWorld::Shared() {
  static absl::StatusOr<SecurityWorld*>* result = nullptr;
  if (result == nullptr) {
    std::unique_ptr<SecurityWorld> w(new SecurityWorld());
    const absl::Time start = absl::Now();
    absl::Status s = w->Start();
    if (s.ok()) {
      std::cout << "security world: 5 processes, " << w->rpcs_.size() << " RPCs, data ready in "
                << absl::FormatDuration(absl::Trunc(absl::Now() - start, absl::Milliseconds(100)))
                << std::endl;
      g_world = w.release();
      result = new absl::StatusOr<SecurityWorld*>(g_world);
    } else {
      result = new absl::StatusOr<SecurityWorld*>(s);
    }
  }
  if (result->ok() && g_world == nullptr) {
    return absl::FailedPreconditionError("the security world was already torn down");
  }
  return *result;
}

SecurityWorld::~SecurityWorld() {
  // Callers first, so that nothing is left calling a stopped peer.
  for (auto it = served_.rbegin(); it != served_.rend(); ++it) (void)(*it)->process->Stop();
}

const Served& SecurityWorld::service(const std::string& name) const {
  for (const auto& s : served_) {
    if (s->name == name) return *s;
  }
  std::cerr << "no service " << name << "\n";
  std::abort();
}

absl::Status SecurityWorld::Start() {
  db_ = std::make_unique<anken::testing::ScratchDatabase>("rel_sec");
  std::map<std::string, std::string> env = ServiceEnv(db_->url());
  env["ANKEN_ISSUER_NAME"] = "株式会社アンケン";
  env["ANKEN_ISSUER_REGISTRATION_NUMBER"] = "T7000012050002";
  env["ANKEN_DB_POOL_SIZE"] = "4";
  // Nothing in the background: what the tests count changes only through their own calls.
  env["ANKEN_REPORT_EFFECT_INTERVAL"] = "1h";
  for (const char* job : {"RENEWALS", "OPEN_REPORT_PERIOD", "REPORT_REMINDERS", "BILLING_ALERTS"}) {
    env[absl::StrCat("ANKEN_SCHEDULE_", job)] = "off";
  }
  for (const ServiceSpec& spec : kSpecs) RETURN_IF_ERROR(Migrate(spec.bin, env));
  for (const ServiceSpec& spec : kSpecs) {
    ASSIGN_OR_RETURN(std::unique_ptr<ServiceProcess> p, ServiceProcess::Start(spec.bin, env));
    env[absl::StrCat("ANKEN_", absl::AsciiStrToUpper(spec.name), "_ADDR")] = p->address();
    auto served = std::make_unique<Served>();
    served->name = spec.name;
    served->channel = p->Channel();
    served->process = std::move(p);
    served->roles = spec.roles();
    served->max_message_bytes = spec.max_message_bytes;
    served_.push_back(std::move(served));
  }
  RETURN_IF_ERROR(LoadRpcs());
  {
    pqxx::connection c(db_->url());
    pqxx::nontransaction tx(c);
    pqxx::row r = tx.exec1(
        "SELECT count(*), string_agg(format('(SELECT count(*) FROM %I.%I)', table_schema, "
        "table_name), ' + ') FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND "
        "table_schema IN ('customer', 'project', 'billing', 'report', 'scheduler')");
    if (r[0].as<int64_t>() < 10) return absl::InternalError("the schemas hold too few tables");
    count_sql_ = absl::StrCat("SELECT ", r[1].as<std::string>());
  }
  today_ = TokyoToday(SystemClock());
  admin_ = RoleToken(auth::Role::kAdmin);
  RETURN_IF_ERROR(MakePartner(false, &a_));
  RETURN_IF_ERROR(MakePartner(true, &b_));
  RETURN_IF_ERROR(OpenReports());
  {
    ASSIGN_OR_RETURN(int64_t customer, NewCustomer("問合せ元"));
    ASSIGN_OR_RETURN(
        auto inquiry,
        Call(P("customer", "CreateInquiry"),
             absl::StrCat("request_id: ", Q("world-inquiry"), " inquiry { customer_id: ", customer,
                          " channel: INQUIRY_CHANNEL_MAIL subject: \"見積依頼\" }"),
             admin_));
    inquiry_id_ = IntAt(*inquiry, "id");
  }

  // A fresh partner with a case of a fresh end customer referred to it ten days ago.
  struct Referred {
    int64_t partner, project;
  };
  auto referred_case = [=](const std::string& label) -> absl::StatusOr<Referred> {
    ASSIGN_OR_RETURN(int64_t partner, NewPartner(absl::StrCat(label, "の加盟店")));
    ASSIGN_OR_RETURN(int64_t customer, NewCustomer(absl::StrCat(label, "の顧客")));
    ASSIGN_OR_RETURN(int64_t project,
                     NewCase(customer, absl::StrCat(label, "の案件"), partner, today_ - 10));
    return Referred{partner, project};
  };

  // ---- every create, with a fresh valid request ----
  auto rid = [this] { return Q(absl::StrCat("sec-", Unique())); };
  const std::string today = DateText(today_);
  const std::string month = MonthText(absl::CivilMonth(today_));
  creates_[P("customer", "CreateCustomer")] = [=]() -> absl::StatusOr<std::string> {
    return absl::StrCat(
        "request_id: ", rid(), " customer { name: ", Q(absl::StrCat("株式会社作成", Unique())),
        " name_kana: \"カブシキガイシャサクセイ\" kind: CUSTOMER_KIND_CORPORATION"
        " postal_code: \"1000001\" prefecture: \"東京都\" address_line1: \"千代田区千代田1-1\""
        " address_line2: \"アンケンビル3階\" phone: \"03-1234-5678\" email: \"info@example.jp\""
        " is_customer: true is_partner: true partner { commission_rate_bp: 1000"
        " notification_email: \"report@example.jp\" report_contact_name: \"佐藤\""
        " report_contact_email: \"sato@example.jp\" } memo: \"メモ\" }");
  };
  creates_[P("customer", "CreateContact")] = [=]() -> absl::StatusOr<std::string> {
    ASSIGN_OR_RETURN(int64_t customer, NewCustomer("連絡先の会社"));
    return absl::StrCat("request_id: ", rid(), " contact { customer_id: ", customer,
                        " name: \"山田太郎\" name_kana: \"ヤマダタロウ\" department: \"営業部\""
                        " title: \"部長\" email: \"yamada@example.jp\" phone: \"090-1234-5678\""
                        " primary: true }");
  };
  creates_[P("customer", "CreateInquiry")] = [=]() -> absl::StatusOr<std::string> {
    ASSIGN_OR_RETURN(int64_t customer, NewCustomer("問合せの会社"));
    return absl::StrCat("request_id: ", rid(), " inquiry { customer_id: ", customer,
                        " channel: INQUIRY_CHANNEL_PHONE subject: \"見積の依頼\""
                        " body: \"外壁塗装の見積をお願いします。\" assignee: \"staff-1\" }");
  };
  creates_[P("customer", "AddInquiryResponse")] = [=]() -> absl::StatusOr<std::string> {
    return absl::StrCat("request_id: ", rid(), " inquiry_id: ", inquiry_id_,
                        " body: \"お見積をお送りします。\"");
  };
  creates_[P("customer", "ImportCustomers")] = [=]() -> absl::StatusOr<std::string> {
    return absl::StrCat(
        "request_id: ", rid(),
        " csv: ", Q(absl::StrCat("顧客名,区分,取引先\nインポート商事", Unique(), ",法人,1\n")));
  };
  creates_[P("project", "CreateProject")] = [=]() -> absl::StatusOr<std::string> {
    ASSIGN_OR_RETURN(int64_t customer, NewCustomer("案件の会社"));
    return absl::StrCat("request_id: ", rid(), " project { customer_id: ", customer,
                        " name: \"Webサイト制作\" progress_status: \"未着手\" owner: \"staff-1\""
                        " department: \"営業一部\" memo: \"社内メモ\" }");
  };
  creates_[P("project", "CreateCategory")] = [=]() -> absl::StatusOr<std::string> {
    return absl::StrCat("category { name: ", Q(absl::StrCat("区分", Unique())), " }");
  };
  creates_[P("project", "CreateProduct")] = [=]() -> absl::StatusOr<std::string> {
    return absl::StrCat("product { code: ", Q(absl::StrCat("P-", Unique())),
                        " name: \"設計費\" unit: \"式\" unit_price: 10000"
                        " tax_category: TAX_CATEGORY_STANDARD }");
  };
  creates_[P("project", "CreateQuote")] = [=]() -> absl::StatusOr<std::string> {
    ASSIGN_OR_RETURN(int64_t customer, NewCustomer("見積の会社"));
    ASSIGN_OR_RETURN(int64_t project, NewCase(customer, "見積の案件"));
    return absl::StrCat("request_id: ", rid(), " quote { project_id: ", project,
                        " issue_date: ", today, " valid_until: ", DateText(today_ + 30),
                        " lines { description: \"設計費\" quantity_milli: 1000 unit: \"式\""
                        " unit_price: 100000 tax_category: TAX_CATEGORY_STANDARD }"
                        " win_probability: 50 expected_order_month: ",
                        month, " note: \"備考\" }");
  };
  creates_[P("project", "CreateActivity")] = [=]() -> absl::StatusOr<std::string> {
    ASSIGN_OR_RETURN(int64_t customer, NewCustomer("活動の会社"));
    ASSIGN_OR_RETURN(int64_t project, NewCase(customer, "活動の案件"));
    return absl::StrCat(
        "request_id: ", rid(), " activity { project_id: ", project,
        " kind: ACTIVITY_KIND_CALL occur_time { seconds: ", absl::ToUnixSeconds(absl::Now()) - 60,
        " } summary: \"電話で要望を確認\" next_action: \"訪問\" }");
  };
  creates_[P("project", "CreateTodo")] = [=]() -> absl::StatusOr<std::string> {
    ASSIGN_OR_RETURN(int64_t customer, NewCustomer("ToDoの会社"));
    ASSIGN_OR_RETURN(int64_t project, NewCase(customer, "ToDoの案件"));
    return absl::StrCat("request_id: ", rid(), " todo { project_id: ", project,
                        " title: \"見積送付\" due_date: ", DateText(today_ + 7),
                        " assignee: \"staff-1\" }");
  };
  creates_[P("project", "RecordReferralOutcome")] = [=]() -> absl::StatusOr<std::string> {
    ASSIGN_OR_RETURN(Referred r, referred_case("結果"));
    return absl::StrCat("request_id: ", rid(), " project_id: ", r.project,
                        " outcome: REFERRAL_OUTCOME_LOST lost_date: ", today,
                        " remarks: \"他社に決定\"");
  };
  creates_[P("project", "ImportProjects")] = [=]() -> absl::StatusOr<std::string> {
    ASSIGN_OR_RETURN(int64_t customer, NewCustomer("取込の会社"));
    return absl::StrCat("request_id: ", rid(), " csv: ",
                        Q(absl::StrCat("顧客ID,案件名\n", customer, ",取込案件", Unique(), "\n")));
  };
  // A split billing plan (entries are added one by one) for the case.
  auto new_plan = [=](int64_t project) -> absl::Status {
    return Call(P("billing", "SetBillingPlan"),
                absl::StrCat("plan { project_id: ", project,
                             " timing: BILLING_TIMING_SPLIT tax_category: TAX_CATEGORY_STANDARD }"),
                admin_)
        .status();
  };
  auto new_entry = [=](int64_t project) -> absl::StatusOr<int64_t> {
    RETURN_IF_ERROR(new_plan(project));
    ASSIGN_OR_RETURN(auto entry,
                     Call(P("billing", "AddBillingEntry"),
                          absl::StrCat("request_id: ", rid(), " project_id: ", project,
                                       " entry { billing_date: ", today, " revenue_date: ", today,
                                       " amount: 10000 description: \"月額保守\" }"),
                          admin_));
    return IntAt(*entry, "id");
  };
  // An issued invoice of a fresh customer: (customer, invoice, total).
  auto new_invoice = [=]() -> absl::StatusOr<std::vector<int64_t>> {
    ASSIGN_OR_RETURN(int64_t customer, NewCustomer("請求先"));
    ASSIGN_OR_RETURN(int64_t project, NewCase(customer, "請求の案件"));
    ASSIGN_OR_RETURN(int64_t entry, new_entry(project));
    RETURN_IF_ERROR(Call(P("billing", "SetEntryStatus"),
                         absl::StrCat("id: ", entry, " status: ENTRY_STATUS_READY"), admin_)
                        .status());
    ASSIGN_OR_RETURN(auto invoice,
                     Call(P("billing", "IssueInvoice"),
                          absl::StrCat("request_id: ", rid(), " customer_id: ", customer,
                                       " entry_ids: ", entry, " issue_date: ", today),
                          admin_));
    return std::vector<int64_t>{customer, IntAt(*invoice, "id"), IntAt(*invoice, "total")};
  };
  creates_[P("billing", "AddBillingEntry")] = [=]() -> absl::StatusOr<std::string> {
    ASSIGN_OR_RETURN(int64_t customer, NewCustomer("明細の会社"));
    ASSIGN_OR_RETURN(int64_t project, NewCase(customer, "明細の案件"));
    RETURN_IF_ERROR(new_plan(project));
    return absl::StrCat("request_id: ", rid(), " project_id: ", project,
                        " entry { billing_date: ", today, " revenue_date: ", today,
                        " amount: 10000 description: \"月額保守\" }");
  };
  creates_[P("billing", "RunRenewals")] = [=]() -> absl::StatusOr<std::string> {
    return absl::StrCat("request_id: ", rid(), " as_of: ", today);
  };
  creates_[P("billing", "IssueInvoice")] = [=]() -> absl::StatusOr<std::string> {
    ASSIGN_OR_RETURN(int64_t customer, NewCustomer("発行先"));
    ASSIGN_OR_RETURN(int64_t project, NewCase(customer, "発行の案件"));
    ASSIGN_OR_RETURN(int64_t entry, new_entry(project));
    RETURN_IF_ERROR(Call(P("billing", "SetEntryStatus"),
                         absl::StrCat("id: ", entry, " status: ENTRY_STATUS_READY"), admin_)
                        .status());
    return absl::StrCat("request_id: ", rid(), " customer_id: ", customer, " entry_ids: ", entry,
                        " issue_date: ", today);
  };
  creates_[P("billing", "RequestInvoiceIssue")] = [=]() -> absl::StatusOr<std::string> {
    ASSIGN_OR_RETURN(int64_t customer, NewCustomer("依頼の会社"));
    ASSIGN_OR_RETURN(int64_t project, NewCase(customer, "依頼の案件"));
    RETURN_IF_ERROR(new_entry(project).status());
    return absl::StrCat("request_id: ", rid(), " project_id: ", project,
                        " note: \"月末までにお願いします\"");
  };
  creates_[P("billing", "RecordPayment")] = [=]() -> absl::StatusOr<std::string> {
    return absl::StrCat("request_id: ", rid(), " payment_date: ", today,
                        " amount: 11000 payer_name: \"ｶ)ﾆｭｳｷﾝ\" reference: ",
                        Q(absl::StrCat("REF-", Unique())), " memo: \"振込\"");
  };
  creates_[P("billing", "ImportBankStatement")] = [=]() -> absl::StatusOr<std::string> {
    return absl::StrCat("request_id: ", rid(), " format: BANK_STATEMENT_FORMAT_CSV content: ",
                        Q(absl::StrCat("日付,金額,振込依頼人\n", absl::FormatCivilTime(today_),
                                       ",5000,ﾃｽﾄ", Unique(), "\n")),
                        " account: \"0001-001-1234567\"");
  };
  creates_[P("billing", "AllocatePayment")] = [=]() -> absl::StatusOr<std::string> {
    ASSIGN_OR_RETURN(std::vector<int64_t> invoice, new_invoice());
    ASSIGN_OR_RETURN(auto payment,
                     Call(P("billing", "RecordPayment"),
                          absl::StrCat("request_id: ", rid(), " payment_date: ", today,
                                       " amount: ", invoice[2], " payer_name: \"ｶ)ｾｲｷｭｳｻｷ\""),
                          admin_));
    return absl::StrCat("request_id: ", rid(), " payment_id: ", IntAt(*payment, "id"),
                        " customer_id: ", invoice[0], " allocations { invoice_id: ", invoice[1],
                        " amount: ", invoice[2], " }");
  };
  creates_[P("billing", "CreateCommissionCharge")] = [=]() -> absl::StatusOr<std::string> {
    ASSIGN_OR_RETURN(Referred r, referred_case("手数料"));
    return absl::StrCat("request_id: ", rid(), " project_id: ", r.project,
                        " partner_id: ", r.partner,
                        " charge_key: \"completion\" kind: COMMISSION_KIND_COMPLETION"
                        " construction_amount: 1000000 completion_date: ",
                        today, " report_month: ", month);
  };
  creates_[P("report", "OpenPeriod")] = [=]() -> absl::StatusOr<std::string> {
    return absl::StrCat("request_id: ", rid(), " month: ", month);
  };
  creates_[P("report", "SubmitReport")] = [=]() -> absl::StatusOr<std::string> {
    // A partner of its own with one case, and a past month opened for it.
    const absl::CivilMonth m = absl::CivilMonth(today_) - (2 + past_month_++);
    ASSIGN_OR_RETURN(int64_t partner, NewPartner("提出の加盟店"));
    ASSIGN_OR_RETURN(int64_t customer, NewCustomer("提出の顧客"));
    RETURN_IF_ERROR(NewCase(customer, "提出の案件", partner, absl::CivilDay(m - 1)).status());
    ASSIGN_OR_RETURN(auto opened,
                     Call(P("report", "OpenPeriod"),
                          absl::StrCat("request_id: ", rid(), " month: ", MonthText(m)),
                          RoleToken(auth::Role::kService)));
    const int64_t report = ReportOf(*opened, partner);
    if (report == 0) return absl::InternalError("OpenPeriod made no report for the partner");
    ASSIGN_OR_RETURN(std::vector<int64_t> lines, LinesOf(report, admin_));
    for (int64_t line : lines) {
      RETURN_IF_ERROR(
          Call(P("report", "MarkNoChange"), absl::StrCat("line_id: ", line), admin_).status());
    }
    return absl::StrCat("request_id: ", rid(), " report_id: ", report, " attestation: true");
  };
  creates_[P("report", "SubmitCaseUpdate")] = [=]() -> absl::StatusOr<std::string> {
    ASSIGN_OR_RETURN(Referred r, referred_case("更新"));
    return absl::StrCat("request_id: ", rid(), " project_id: ", r.project,
                        " change { outcome: OUTCOME_LOST lost_date: ", today,
                        " remarks: \"他社で施工\" }");
  };
  creates_[P("scheduler", "EnqueueNotification")] = [=]() -> absl::StatusOr<std::string> {
    return absl::StrCat("dedup_key: ", Q(absl::StrCat("sec-", Unique())),
                        " recipient: \"partner@example.jp\" template_name: \"report_reminder\""
                        " parameters { key: \"partner_name\" value: \"加盟店\" }"
                        " parameters { key: \"period\" value: \"2026年11月\" }"
                        " parameters { key: \"deadline\" value: \"12月4日\" }");
  };
  return absl::OkStatus();
}

int64_t SecurityWorld::ReportOf(const Message& opened, int64_t partner) {
  const FieldDescriptor* reports = opened.GetDescriptor()->FindFieldByName("reports");
  for (int i = 0; i < opened.GetReflection()->FieldSize(opened, reports); ++i) {
    const Message& r = opened.GetReflection()->GetRepeatedMessage(opened, reports, i);
    if (IntAt(r, "partner_id") == partner) return IntAt(r, "id");
  }
  return 0;
}

absl::StatusOr<std::vector<int64_t>> SecurityWorld::LinesOf(int64_t report,
                                                            const std::string& token) {
  ASSIGN_OR_RETURN(
      auto lines, Call(P("report", "ListReportLines"), absl::StrCat("report_id: ", report), token));
  const FieldDescriptor* f = lines->GetDescriptor()->FindFieldByName("lines");
  std::vector<int64_t> out;
  for (int i = 0; i < lines->GetReflection()->FieldSize(*lines, f); ++i) {
    out.push_back(IntAt(lines->GetReflection()->GetRepeatedMessage(*lines, f, i), "id"));
  }
  return out;
}

absl::Status SecurityWorld::LoadRpcs() {
  for (const auto& served : served_) {
    ASSIGN_OR_RETURN(std::vector<std::string> names,
                     anken::testing::ReflectionServices(served->channel));
    int mine = 0;
    for (const std::string& name : names) {
      if (!absl::StartsWith(name, "anken.")) continue;  // health, reflection
      const auto* service =
          google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
      if (service == nullptr) {
        return absl::InternalError(absl::StrCat(name, " is served but not linked into the test"));
      }
      ++mine;
      for (int i = 0; i < service->method_count(); ++i) {
        const MethodDescriptor* m = service->method(i);
        if (m->client_streaming() || m->server_streaming()) continue;
        rpcs_.push_back(Rpc{served.get(), auth::FullMethodName(name, m->name()), m});
      }
    }
    if (mine == 0) return absl::InternalError(absl::StrCat(served->name, " serves no anken RPC"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Message>> SecurityWorld::Call(const std::string& path,
                                                             const std::string& text,
                                                             const std::string& token) {
  const MethodDescriptor* m = MethodOf(path);
  if (m == nullptr) return absl::NotFoundError(absl::StrCat("no method ", path));
  const Served* target = nullptr;
  for (const auto& s : served_) {
    for (const ServiceSpec& spec : kSpecs) {
      if (s->name == spec.name && m->service()->full_name() == spec.full_name) target = s.get();
    }
  }
  if (target == nullptr) return absl::NotFoundError(absl::StrCat("nobody serves ", path));
  std::unique_ptr<Message> req = NewOf(m->input_type());
  if (!google::protobuf::TextFormat::ParseFromString(text, req.get())) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": bad text request: ", text));
  }
  RawReply reply = RawCall(target->channel, path, req->SerializeAsString(), Bearer(token));
  if (!reply.status.ok()) {
    absl::Status s = FromGrpcStatus(reply.status);
    return absl::Status(
        s.code(), absl::StrCat(path, ": ", s.message(), " [", ErrorReason(s), "] for ", text));
  }
  std::unique_ptr<Message> resp = NewOf(m->output_type());
  if (!resp->ParseFromString(reply.bytes)) return absl::InternalError("unparsable reply");
  return resp;
}

absl::StatusOr<std::unique_ptr<Message>> SecurityWorld::Request(const Rpc& rpc,
                                                                const std::string& text) const {
  std::unique_ptr<Message> req = NewOf(rpc.method->input_type());
  if (!google::protobuf::TextFormat::ParseFromString(text, req.get())) {
    return absl::InvalidArgumentError(absl::StrCat(rpc.path, ": bad text request: ", text));
  }
  return req;
}

std::unique_ptr<Message> SecurityWorld::Response(const Rpc& rpc) const {
  return NewOf(rpc.method->output_type());
}

bool SecurityWorld::IsCreate(const MethodDescriptor& method) {
  return absl::StartsWith(method.name(), "Create") ||
         method.input_type()->FindFieldByName("request_id") != nullptr ||
         method.input_type()->FindFieldByName("dedup_key") != nullptr;
}

absl::StatusOr<std::string> SecurityWorld::CreateRequest(const std::string& path) {
  auto it = creates_.find(path);
  if (it == creates_.end()) {
    return absl::NotFoundError(
        absl::StrCat(path, " is a create without a request factory: add one to security_world.cc"));
  }
  return it->second();
}

absl::StatusOr<int64_t> SecurityWorld::CountRows() const {
  try {
    pqxx::connection c(db_->url());
    pqxx::nontransaction tx(c);
    return tx.exec1(count_sql_)[0].as<int64_t>();
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("counting rows: ", e.what()));
  }
}

std::string SecurityWorld::Unique() { return absl::StrCat(++unique_); }

absl::StatusOr<int64_t> SecurityWorld::NewCustomer(const std::string& name) {
  ASSIGN_OR_RETURN(auto c, Call(P("customer", "CreateCustomer"),
                                absl::StrCat("request_id: ", Q(absl::StrCat("sec-", Unique())),
                                             " customer { name: ", Q(absl::StrCat(name, Unique())),
                                             " kind: CUSTOMER_KIND_INDIVIDUAL is_customer: true }"),
                                admin_));
  return IntAt(*c, "id");
}

absl::StatusOr<int64_t> SecurityWorld::NewPartner(const std::string& name) {
  ASSIGN_OR_RETURN(
      auto c,
      Call(P("customer", "CreateCustomer"),
           absl::StrCat(
               "request_id: ", Q(absl::StrCat("sec-", Unique())),
               " customer { name: ", Q(absl::StrCat(name, Unique())),
               " kind: CUSTOMER_KIND_CORPORATION is_partner: true partner {"
               " commission_rate_bp: 1000 notification_email: \"p@partner.example.jp\" } }"),
           admin_));
  return IntAt(*c, "id");
}

absl::StatusOr<int64_t> SecurityWorld::NewCase(int64_t customer_id, const std::string& name,
                                               int64_t partner_id, absl::CivilDay referral_date) {
  std::string referral;
  if (partner_id != 0) {
    referral = absl::StrCat(" referral { partner_id: ", partner_id,
                            " referral_date: ", DateText(referral_date), " }");
  }
  ASSIGN_OR_RETURN(auto p, Call(P("project", "CreateProject"),
                                absl::StrCat("request_id: ", Q(absl::StrCat("sec-", Unique())),
                                             " project { customer_id: ", customer_id,
                                             " name: ", Q(name), referral, " }"),
                                admin_));
  return IntAt(*p, "id");
}

absl::Status SecurityWorld::MakePartner(bool partner_b, PartnerData* p) {
  const std::string marker = Marker(partner_b);
  p->name = absl::StrCat("加盟店", marker, "株式会社");
  ASSIGN_OR_RETURN(p->id, NewPartner(p->name));
  p->token = Token(auth::Role::kPartner, absl::StrCat("partner-", marker), absl::StrCat(p->id));
  for (int i = 1; i <= 3; ++i) {
    ASSIGN_OR_RETURN(int64_t customer, NewCustomer(absl::StrCat("顧客", marker, i, "様")));
    p->end_customers.push_back(customer);
    ASSIGN_OR_RETURN(int64_t project,
                     NewCase(customer, absl::StrCat("案件", marker, i), p->id, today_ - 40));
    p->cases.push_back(project);
  }
  return Call(P("project", "RecordReferralOutcome"),
              absl::StrCat("request_id: ", Q(absl::StrCat("lost-", marker)),
                           " project_id: ", p->cases[2], " outcome: REFERRAL_OUTCOME_LOST",
                           " lost_date: ", DateText(today_ - 1)),
              admin_)
      .status();
}

absl::Status SecurityWorld::OpenReports() {
  ASSIGN_OR_RETURN(auto opened, Call(P("report", "OpenPeriod"),
                                     absl::StrCat("request_id: \"world-open\" month: ",
                                                  MonthText(absl::CivilMonth(today_))),
                                     RoleToken(auth::Role::kService)));
  a_.report_id = ReportOf(*opened, a_.id);
  b_.report_id = ReportOf(*opened, b_.id);
  for (PartnerData* p : {&a_, &b_}) {
    if (p->report_id == 0) return absl::InternalError("the period has no report for a partner");
    ASSIGN_OR_RETURN(p->lines, LinesOf(p->report_id, p->token));
    if (p->lines.size() != 2) {
      return absl::InternalError(absl::StrCat("a report has ", p->lines.size(), " lines, not 2"));
    }
    ASSIGN_OR_RETURN(auto update,
                     Call(P("report", "SubmitCaseUpdate"),
                          absl::StrCat("request_id: ", Q(absl::StrCat("update-", p->id)),
                                       " project_id: ", p->cases[2],
                                       " change { outcome: OUTCOME_COMPLETED completion_date: ",
                                       DateText(today_), " amount: 500000 }"),
                          p->token));
    p->case_update_id = IntAt(*update, "id");
  }
  return absl::OkStatus();
}

}  // namespace anken::reliability
