// ankenctl end to end: the real binary against real anken-customer, anken-project,
// anken-billing, anken-report and anken-scheduler processes (one scratch database, each
// migrated with --migrate, ports read from their "listening" log lines). Checks what a user of the tool sees: the token it mints, JSON in and
// out, the address from --addr or ANKEN_<SERVICE>_ADDR, errors on stderr, and the exit codes
// 0 ok / 1 refused / 2 usage / 3 server or network.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "anken/billing/v1/billing_service.pb.h"
#include "anken/customer/v1/customer_service.pb.h"
#include "anken/project/v1/project_service.pb.h"
#include "anken/report/v1/report_service.pb.h"
#include "common/auth/auth.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "tests/support/subprocess.h"
#include "tools/ankenctl/table.h"
#include "tests/support/test_database.h"

namespace anken::testing {
namespace {

const std::string kSecret = "ankenctl-e2e-secret-0123456789abcdef-0123";

// The value of `key` in a JSON log line, or "" when the line is not JSON or lacks it.
std::string LogField(const std::string& line, const std::string& key) {
  google::protobuf::Struct s;
  if (!google::protobuf::util::JsonStringToMessage(line, &s).ok()) return "";
  auto it = s.fields().find(key);
  if (it == s.fields().end()) return "";
  if (it->second.has_number_value()) return absl::StrCat(it->second.number_value());
  return it->second.string_value();
}

// A loopback port nothing listens on: bound by the kernel's choice, then released.
int ClosedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

struct CtlResult {
  int exit_code = -1;
  std::string out;  // stdout only
  std::string err;  // stderr only
};

// The pair of running services every test talks to (started once: each start migrates).
struct Services {
  ScratchDatabase db{"ankenctl"};
  std::unique_ptr<Subprocess> customer;
  std::unique_ptr<Subprocess> project;
  std::unique_ptr<Subprocess> billing;
  std::unique_ptr<Subprocess> report;
  std::unique_ptr<Subprocess> scheduler;
  int customer_port = 0;
  int project_port = 0;
  int billing_port = 0;
  int report_port = 0;
  int scheduler_port = 0;
};

class AnkenctlTest : public ::testing::Test {
 protected:
  static std::map<std::string, std::string> ServiceEnv(const std::string& db_url) {
    return {{"ANKEN_DATABASE_URL", db_url},  {"ANKEN_JWT_SECRET", kSecret},
            {"ANKEN_LISTEN_HOST", "127.0.0.1"}, {"ANKEN_GRPC_PORT", "0"},
            {"ANKEN_METRICS_PORT", "0"}};
  }

  // Migrates and starts `bin`; returns its gRPC port (0 after a failed assertion).
  static void Start(const std::string& bin, const std::map<std::string, std::string>& env,
                    std::unique_ptr<Subprocess>* proc, int* port) {
    auto m = RunToExit(bin, {"--migrate"}, env, absl::Seconds(30));
    ASSERT_TRUE(m.ok()) << m.status();
    ASSERT_EQ(m->first, 0) << m->second;
    auto p = Subprocess::Start(bin, {}, env);
    ASSERT_TRUE(p.ok()) << p.status();
    *proc = std::move(*p);
    auto listening = (*proc)->WaitForLine(
        [](const std::string& l) { return LogField(l, "msg") == "listening"; },
        absl::Seconds(20));
    ASSERT_TRUE(listening.ok()) << listening.status() << "\n" << (*proc)->output();
    ASSERT_TRUE(absl::SimpleAtoi(LogField(*listening, "port"), port)) << *listening;
  }

  static void SetUpTestSuite() {
    services_ = new Services;
    Start(ANKEN_CUSTOMER_BIN, ServiceEnv(services_->db.url()), &services_->customer,
          &services_->customer_port);
    if (::testing::Test::HasFatalFailure()) return;
    auto env = ServiceEnv(services_->db.url());
    env["ANKEN_CUSTOMER_ADDR"] = absl::StrCat("127.0.0.1:", services_->customer_port);
    Start(ANKEN_PROJECT_BIN, env, &services_->project, &services_->project_port);
    if (::testing::Test::HasFatalFailure()) return;
    env["ANKEN_PROJECT_ADDR"] = absl::StrCat("127.0.0.1:", services_->project_port);
    env["ANKEN_ISSUER_NAME"] = "アンケン株式会社";
    env["ANKEN_ISSUER_REGISTRATION_NUMBER"] = "T7000012050002";
    env["ANKEN_ISSUER_ADDRESS"] = "東京都千代田区丸の内1-1-1";
    env["ANKEN_ISSUER_BANK_ACCOUNT"] = "みずほ銀行 本店 普通 1234567";
    Start(ANKEN_BILLING_BIN, env, &services_->billing, &services_->billing_port);
    if (::testing::Test::HasFatalFailure()) return;
    env["ANKEN_BILLING_ADDR"] = absl::StrCat("127.0.0.1:", services_->billing_port);
    Start(ANKEN_REPORT_BIN, env, &services_->report, &services_->report_port);
    if (::testing::Test::HasFatalFailure()) return;
    env["ANKEN_REPORT_ADDR"] = absl::StrCat("127.0.0.1:", services_->report_port);
    Start(ANKEN_SCHEDULER_BIN, env, &services_->scheduler, &services_->scheduler_port);
  }

  static void TearDownTestSuite() {
    delete services_;  // kills the processes, then drops the database
    services_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(services_->customer_port, 0) << "anken-customer did not start";
    ASSERT_NE(services_->project_port, 0) << "anken-project did not start";
    ASSERT_NE(services_->billing_port, 0) << "anken-billing did not start";
    ASSERT_NE(services_->report_port, 0) << "anken-report did not start";
    ASSERT_NE(services_->scheduler_port, 0) << "anken-scheduler did not start";
  }

  static std::string CustomerAddr() { return absl::StrCat("127.0.0.1:", services_->customer_port); }
  static std::string ProjectAddr() { return absl::StrCat("127.0.0.1:", services_->project_port); }

  // Runs ankenctl with `args`, stdout and stderr kept apart (a shell sends stderr to a file).
  // The tool sees ANKEN_JWT_SECRET and no ANKEN_TOKEN / service addresses from this process
  // unless `env` sets them.
  static CtlResult Ctl(const std::vector<std::string>& args,
                       std::map<std::string, std::string> env = {}) {
    char tmpl[] = "/tmp/ankenctl-err-XXXXXX";
    const int fd = ::mkstemp(tmpl);
    EXPECT_GE(fd, 0);
    if (fd >= 0) ::close(fd);
    env.emplace("ANKEN_JWT_SECRET", kSecret);
    env.emplace("ANKEN_TOKEN", "");
    env.emplace("ANKEN_CUSTOMER_ADDR", "");
    env.emplace("ANKEN_PROJECT_ADDR", "");
    env.emplace("ANKEN_BILLING_ADDR", "");
    env.emplace("ANKEN_REPORT_ADDR", "");
    env.emplace("ANKEN_SCHEDULER_ADDR", "");
    env["ANKENCTL_ERR_FILE"] = tmpl;
    std::vector<std::string> sh = {"-c", "exec \"$@\" 2>\"$ANKENCTL_ERR_FILE\"", "sh",
                                   ANKENCTL_BIN};
    sh.insert(sh.end(), args.begin(), args.end());
    CtlResult r;
    auto run = RunToExit("/bin/sh", sh, env, absl::Seconds(20));
    EXPECT_TRUE(run.ok()) << run.status();
    if (run.ok()) {
      r.exit_code = run->first;
      r.out = run->second;
    }
    std::ifstream in(tmpl);
    r.err.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    std::remove(tmpl);
    return r;
  }

  // A staff token minted by `ankenctl token` itself.
  static std::string StaffToken() {
    CtlResult t = Ctl({"token", "--role", "staff", "--sub", "e2e"});
    EXPECT_EQ(t.exit_code, 0) << t.err;
    return std::string(absl::StripAsciiWhitespace(t.out));
  }

  // ankenctl with every service's address and an admin token in its environment.
  static CtlResult Admin(const std::vector<std::string>& args) {
    static const std::string* token = new std::string([] {
      CtlResult t = Ctl({"token", "--role", "admin", "--sub", "e2e-admin"});
      EXPECT_EQ(t.exit_code, 0) << t.err;
      return std::string(absl::StripAsciiWhitespace(t.out));
    }());
    return Ctl(args, {{"ANKEN_TOKEN", *token},
                      {"ANKEN_CUSTOMER_ADDR", CustomerAddr()},
                      {"ANKEN_PROJECT_ADDR", ProjectAddr()},
                      {"ANKEN_BILLING_ADDR", absl::StrCat("127.0.0.1:", services_->billing_port)},
                      {"ANKEN_REPORT_ADDR", absl::StrCat("127.0.0.1:", services_->report_port)},
                      {"ANKEN_SCHEDULER_ADDR",
                       absl::StrCat("127.0.0.1:", services_->scheduler_port)}});
  }

  // Runs Admin(args) expecting exit 0 and --json output of type T.
  template <typename T>
  static T AdminJson(std::vector<std::string> args) {
    args.push_back("--json");
    CtlResult r = Admin(args);
    EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
    T message;
    auto parsed = google::protobuf::util::JsonStringToMessage(r.out, &message);
    EXPECT_TRUE(parsed.ok()) << parsed.message() << "\n" << r.out;
    return message;
  }

  // A partner store with a 10% commission, through `customers create --role partner`.
  static customer::v1::Customer CreatePartner(const std::string& name,
                                              const std::string& request_id) {
    return AdminJson<customer::v1::Customer>(
        {"customers", "create", "--name", name, "--role", "partner", "--commission-bp", "1000",
         "--notify-email", "partner@example.com", "--request-id", request_id});
  }

  static Services* services_;
};

Services* AnkenctlTest::services_ = nullptr;

TEST_F(AnkenctlTest, TokenMintsAStaffTokenTheServicesAccept) {
  CtlResult t = Ctl({"token", "--role", "staff", "--sub", "e2e"});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_EQ(t.err, "");
  const std::string token(absl::StripAsciiWhitespace(t.out));

  auth::AuthConfig config;
  config.hs256_secret = kSecret;
  config.issuer = "anken";
  config.audience = "anken";
  auto authenticator = auth::Authenticator::Create(config);
  ASSERT_TRUE(authenticator.ok()) << authenticator.status();
  auto principal = authenticator->VerifyToken(token);
  ASSERT_TRUE(principal.ok()) << principal.status() << " token: " << token;
  EXPECT_EQ(principal->subject, "e2e");
  EXPECT_EQ(principal->role, auth::Role::kStaff);

  // Signed with another secret, the same claims do not verify.
  config.hs256_secret = "some-other-secret-0123456789abcdef-0123";
  auto other = auth::Authenticator::Create(config);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->VerifyToken(token).ok());
}

TEST_F(AnkenctlTest, CreateCustomerThenProjectThroughBothProcesses) {
  const std::string token = StaffToken();
  ASSERT_FALSE(token.empty());

  CtlResult created = Ctl({"--addr", CustomerAddr(), "--token", token, "call",
                           "anken.customer.v1.CustomerService/CreateCustomer",
                           R"json({"request_id": "ctl-e2e-1",
                                   "customer": {"name": "株式会社サンプル",
                                                "name_kana": "ｶﾌﾞｼｷｶﾞｲｼｬｻﾝﾌﾟﾙ",
                                                "kind": "CUSTOMER_KIND_CORPORATION",
                                                "is_customer": true,
                                                "postal_code": "1000001",
                                                "prefecture": "東京都"}})json"});
  ASSERT_EQ(created.exit_code, 0) << created.err << created.out;
  customer::v1::Customer customer;
  auto parsed = google::protobuf::util::JsonStringToMessage(created.out, &customer);
  ASSERT_TRUE(parsed.ok()) << parsed.message() << "\n" << created.out;
  EXPECT_GT(customer.id(), 0);
  EXPECT_EQ(customer.code(), "C000001");
  EXPECT_EQ(customer.name(), "株式会社サンプル");
  EXPECT_EQ(customer.name_kana(), "カブシキガイシャサンプル");  // half width stored as full width
  EXPECT_EQ(customer.postal_code(), "100-0001");
  EXPECT_EQ(customer.kind(), customer::v1::CUSTOMER_KIND_CORPORATION);

  // No --addr: ANKEN_CUSTOMER_ADDR names the server (and ANKEN_TOKEN the token).
  CtlResult got = Ctl({"call", "anken.customer.v1.CustomerService/GetCustomer",
                       absl::StrCat(R"({"id": )", customer.id(), "}")},
                      {{"ANKEN_CUSTOMER_ADDR", CustomerAddr()}, {"ANKEN_TOKEN", token}});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  customer::v1::Customer fetched;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(got.out, &fetched).ok()) << got.out;
  EXPECT_EQ(fetched.id(), customer.id());
  EXPECT_EQ(fetched.code(), "C000001");

  // The project process checks the customer with the customer process (its own service token).
  CtlResult project = Ctl({"--addr", ProjectAddr(), "--token", token, "call",
                           "anken.project.v1.ProjectService/CreateProject",
                           absl::StrCat(R"({"request_id": "ctl-e2e-p1", "project": {"customer_id": )",
                                        customer.id(), R"(, "name": "Webサイト制作"}})")});
  ASSERT_EQ(project.exit_code, 0) << project.err << project.out;
  project::v1::Project p;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(project.out, &p).ok()) << project.out;
  EXPECT_EQ(p.number(), "0000001");
  EXPECT_EQ(p.customer_id(), customer.id());
  EXPECT_EQ(p.name(), "Webサイト制作");
}

TEST_F(AnkenctlTest, RefusedRequestExits1WithCodeAndReasonOnStderr) {
  const std::string get_999 = R"({"id": 999})";
  CtlResult r = Ctl({"--addr", CustomerAddr(), "--token", StaffToken(), "call",
                     "anken.customer.v1.CustomerService/GetCustomer", get_999});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("error: NOT_FOUND: customer 999 not found"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("reason: CUSTOMER_NOT_FOUND"), std::string::npos) << r.err;

  // The same refusal through the partner path, which carries its ErrorInfo reason (a partner
  // token minted by ankenctl with --partner-id).
  CtlResult partner_token = Ctl({"token", "--role", "partner", "--sub", "p1", "--partner-id", "1"});
  ASSERT_EQ(partner_token.exit_code, 0) << partner_token.err;
  CtlResult partner = Ctl({"--addr", CustomerAddr(), "call",
                           "anken.customer.v1.CustomerService/GetCustomer", get_999},
                          {{"ANKEN_TOKEN", std::string(absl::StripAsciiWhitespace(partner_token.out))}});
  EXPECT_EQ(partner.exit_code, 1);
  EXPECT_EQ(partner.out, "");
  EXPECT_NE(partner.err.find("error: NOT_FOUND"), std::string::npos) << partner.err;
  EXPECT_NE(partner.err.find("reason: CUSTOMER_NOT_FOUND"), std::string::npos) << partner.err;

  // A validation refusal: reason and field violations on stderr.
  CtlResult invalid = Ctl({"--addr", CustomerAddr(), "--token", StaffToken(), "call",
                           "anken.customer.v1.CustomerService/CreateCustomer",
                           R"({"request_id": "ctl-e2e-bad", "customer": {"name": "",)"
                           R"( "kind": "CUSTOMER_KIND_CORPORATION", "is_customer": true}})"});
  EXPECT_EQ(invalid.exit_code, 1);
  EXPECT_EQ(invalid.out, "");
  EXPECT_NE(invalid.err.find("error: INVALID_ARGUMENT"), std::string::npos) << invalid.err;
  EXPECT_NE(invalid.err.find("reason: REQUIRED"), std::string::npos) << invalid.err;
  EXPECT_NE(invalid.err.find("name: is required"), std::string::npos) << invalid.err;

  // No token at all: refused by the server's auth, also exit 1.
  CtlResult anonymous = Ctl({"--addr", CustomerAddr(), "call",
                             "anken.customer.v1.CustomerService/GetCustomer", R"({"id": 1})"});
  EXPECT_EQ(anonymous.exit_code, 1);
  EXPECT_NE(anonymous.err.find("UNAUTHENTICATED"), std::string::npos) << anonymous.err;
  EXPECT_NE(anonymous.err.find("reason: TOKEN_MISSING"), std::string::npos) << anonymous.err;
}

TEST_F(AnkenctlTest, BadUsageExits2) {
  CtlResult unknown = Ctl({"frobnicate"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("unknown command frobnicate"), std::string::npos) << unknown.err;

  CtlResult bad_json = Ctl({"--addr", CustomerAddr(), "--token", StaffToken(), "call",
                            "anken.customer.v1.CustomerService/GetCustomer", "{not json"});
  EXPECT_EQ(bad_json.exit_code, 2);
  EXPECT_NE(bad_json.err.find("not valid JSON"), std::string::npos) << bad_json.err;

  CtlResult bad_method = Ctl({"--addr", CustomerAddr(), "call",
                              "anken.customer.v1.CustomerService/NoSuchMethod", "{}"});
  EXPECT_EQ(bad_method.exit_code, 2);
  EXPECT_NE(bad_method.err.find("unknown method"), std::string::npos) << bad_method.err;

  CtlResult bad_role = Ctl({"token", "--role", "wizard", "--sub", "e2e"});
  EXPECT_EQ(bad_role.exit_code, 2);
  EXPECT_EQ(bad_role.out, "");

  // A flag (or switch) the command does not take is bad usage, never silently ignored: the
  // command's synopsis is the list of what it takes, besides the global flags.
  CtlResult unknown_flag = Ctl({"--addr", ProjectAddr(), "--token", StaffToken(), "quotes",
                                "list", "--limit", "5"});
  EXPECT_EQ(unknown_flag.exit_code, 2);
  EXPECT_EQ(unknown_flag.out, "");
  EXPECT_NE(unknown_flag.err.find("quotes list takes no --limit"), std::string::npos)
      << unknown_flag.err;
  CtlResult unknown_switch = Ctl({"--addr", CustomerAddr(), "--token", StaffToken(), "customers",
                                  "get", "1", "--dry-run"});
  EXPECT_EQ(unknown_switch.exit_code, 2);
  EXPECT_NE(unknown_switch.err.find("customers get takes no --dry-run"), std::string::npos)
      << unknown_switch.err;
  // The same commands with only the flags they take reach the server.
  EXPECT_EQ(Ctl({"--addr", ProjectAddr(), "--token", StaffToken(), "quotes", "list",
                 "--page-size", "5", "--json"}).exit_code, 0);
}

TEST_F(AnkenctlTest, ServerDownExits3) {
  CtlResult r = Ctl({"--addr", absl::StrCat("127.0.0.1:", ClosedPort()), "--token", StaffToken(),
                     "--timeout", "5s", "call", "anken.customer.v1.CustomerService/GetCustomer",
                     R"({"id": 1})"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("UNAVAILABLE"), std::string::npos) << r.err;
}

TEST_F(AnkenctlTest, MethodsListsEveryServicesRpcs) {
  CtlResult all = Ctl({"methods"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_NE(all.out.find("anken.customer.v1.CustomerService/GetCustomer\n"), std::string::npos)
      << all.out;
  EXPECT_NE(all.out.find("anken.project.v1.ProjectService/CreateProject\n"), std::string::npos)
      << all.out;

  CtlResult filtered = Ctl({"methods", "ProjectService"});
  ASSERT_EQ(filtered.exit_code, 0);
  EXPECT_NE(filtered.out.find("anken.project.v1.ProjectService/CreateProject"), std::string::npos);
  EXPECT_EQ(filtered.out.find("CustomerService"), std::string::npos) << filtered.out;
}


// ---- the human-level commands ----

// A lump-sum billing plan as `plans set` reads it: one entry billed and earned on the last
// day of `month`.
std::string LumpSumPlan(int year, int month, int64_t amount, const std::string& description) {
  const int last_day = (absl::CivilDay(absl::CivilMonth(year, month) + 1) - 1).day();
  return absl::StrCat(
      R"({"timing": "BILLING_TIMING_LUMP_SUM", "tax_category": "TAX_CATEGORY_STANDARD",)",
      R"( "planned_entries": [{"billing_date": {"year": )", year, R"(, "month": )", month,
      R"(, "day": )", last_day, R"(}, "revenue_date": {"year": )", year, R"(, "month": )", month,
      R"(, "day": )", last_day, R"(}, "amount": ")", amount, R"(", "description": ")",
      description, R"("}]})");
}

// A fresh file holding `content`, named /tmp/ankenctl-<what>-XXXXXX (the caller removes it).
std::string TempFile(const std::string& what, const std::string& content) {
  std::string path = absl::StrCat("/tmp/ankenctl-", what, "-XXXXXX");
  const int fd = ::mkstemp(&path[0]);
  EXPECT_GE(fd, 0);
  if (fd >= 0) ::close(fd);
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

// The first line of `text` that contains `needle` ("" when none).
std::string LineWith(const std::string& text, const std::string& needle) {
  size_t at = text.find(needle);
  if (at == std::string::npos) return "";
  size_t begin = text.rfind('\n', at);
  begin = begin == std::string::npos ? 0 : begin + 1;
  return text.substr(begin, text.find('\n', at) - begin);
}

TEST_F(AnkenctlTest, CustomersCreateThenListAsTableAndAsJson) {
  CtlResult created = Admin({"customers", "create", "--name", "株式会社表示幅テスト", "--kana",
                             "ﾋｮｳｼﾞﾊﾊﾞﾃｽﾄ", "--prefecture", "大阪府", "--request-id",
                             "ctl-e2e-width-1"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  // The same command line again (a retry): the same customer, not a second one.
  CtlResult retried = Admin({"customers", "create", "--name", "株式会社表示幅テスト", "--kana",
                             "ﾋｮｳｼﾞﾊﾊﾞﾃｽﾄ", "--prefecture", "大阪府", "--request-id",
                             "ctl-e2e-width-1"});
  ASSERT_EQ(retried.exit_code, 0) << retried.err;
  EXPECT_EQ(retried.out, created.out);
  ASSERT_EQ(Admin({"customers", "create", "--name", "AB商店", "--kind", "sole-proprietor",
                   "--prefecture", "大阪府", "--request-id", "ctl-e2e-width-2"})
                .exit_code,
            0);

  auto listed = AdminJson<customer::v1::ListCustomersResponse>(
      {"customers", "list", "--prefecture", "大阪府"});
  ASSERT_EQ(listed.customers_size(), 2) << listed.DebugString();
  const customer::v1::Customer& wide = listed.customers(0).name() == "AB商店"
                                           ? listed.customers(1) : listed.customers(0);
  const customer::v1::Customer& narrow = listed.customers(0).name() == "AB商店"
                                             ? listed.customers(0) : listed.customers(1);
  EXPECT_EQ(wide.name(), "株式会社表示幅テスト");
  EXPECT_EQ(wide.name_kana(), "ヒョウジハバテスト");
  EXPECT_EQ(wide.kind(), customer::v1::CUSTOMER_KIND_CORPORATION);
  EXPECT_EQ(narrow.kind(), customer::v1::CUSTOMER_KIND_SOLE_PROPRIETOR);

  // The table: columns aligned by display width (株式会社表示幅テスト is 20 columns, AB商店 6).
  CtlResult table = Admin({"customers", "list", "--prefecture", "大阪府"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_EQ(table.err, "");
  auto row = [](const customer::v1::Customer& c, const std::string& name_cell,
                const std::string& kind_cell) {
    return absl::StrCat(std::string(2 - absl::StrCat(c.id()).size(), ' '), c.id(), "  ",
                        c.code(), "  ", name_cell, "  ", kind_cell, "  active     大阪府\n");
  };
  ASSERT_LT(wide.id(), 100);  // two-digit ids keep the expected text simple
  const std::string expected_first =
      "ID  CODE     NAME                  KIND             LIFECYCLE  PREFECTURE  PHONE\n";
  std::string expected = expected_first;
  for (const auto& c : listed.customers()) {
    expected += &c == &wide || c.id() == wide.id()
                    ? row(c, "株式会社表示幅テスト", "corporation    ")
                    : row(c, "AB商店              ", "sole_proprietor");
  }
  EXPECT_EQ(table.out, expected);

  // get: one record, label and value.
  CtlResult got = Admin({"customers", "get", absl::StrCat(wide.id())});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_NE(got.out.find("name_kana             ヒョウジハバテスト\n"), std::string::npos) << got.out;

  // update: only the named field changes.
  CtlResult updated = Admin({"customers", "update", absl::StrCat(wide.id()), "--phone",
                             "06-1234-5678"});
  ASSERT_EQ(updated.exit_code, 0) << updated.err;
  EXPECT_NE(updated.out.find("phone                 06-1234-5678\n"), std::string::npos)
      << updated.out;
  EXPECT_NE(updated.out.find("name                  株式会社表示幅テスト\n"), std::string::npos);

  // Nothing matches: the header and (none).
  CtlResult none = Admin({"customers", "list", "--query", "存在しない名前xyz"});
  ASSERT_EQ(none.exit_code, 0) << none.err;
  EXPECT_EQ(none.out, "ID  CODE  NAME  KIND  LIFECYCLE  PREFECTURE  PHONE\n(none)\n");
}

TEST_F(AnkenctlTest, ListsPageWithPageSizeAndAll) {
  for (int i = 1; i <= 3; ++i) {
    ASSERT_EQ(Admin({"customers", "create", "--name", absl::StrCat("頁送り", i), "--prefecture",
                     "沖縄県", "--request-id", absl::StrCat("ctl-e2e-page-", i)})
                  .exit_code,
              0);
  }
  CtlResult first = Admin({"customers", "list", "--prefecture", "沖縄県", "--page-size", "2"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(std::count(first.out.begin(), first.out.end(), '\n'), 3) << first.out;  // header + 2
  EXPECT_NE(first.err.find("more rows: --all, or --page-token "), std::string::npos) << first.err;

  auto all = AdminJson<customer::v1::ListCustomersResponse>(
      {"customers", "list", "--prefecture", "沖縄県", "--page-size", "2", "--all"});
  EXPECT_EQ(all.customers_size(), 3);
  EXPECT_EQ(all.next_page_token(), "");
}

TEST_F(AnkenctlTest, CasesCreateListAndReferrals) {
  auto customer = AdminJson<customer::v1::Customer>(
      {"customers", "create", "--name", "案件テスト株式会社", "--request-id", "ctl-e2e-case-c"});
  auto partner = CreatePartner("案件テスト工務店", "ctl-e2e-case-p");
  ASSERT_GT(customer.id(), 0);
  ASSERT_TRUE(partner.is_partner());
  EXPECT_EQ(partner.partner().commission_rate_bp(), 1000);

  CtlResult plain = Admin({"cases", "create", "--customer", absl::StrCat(customer.id()), "--name",
                           "Webサイト制作", "--owner", "alice", "--quote-date", "2026-03-02",
                           "--request-id", "ctl-e2e-case-1"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  auto referred = AdminJson<project::v1::Project>(
      {"cases", "create", "--customer", absl::StrCat(customer.id()), "--name", "外壁塗装",
       "--partner", absl::StrCat(partner.id()), "--referral-date", "2026-03-05",
       "--request-id", "ctl-e2e-case-2"});
  EXPECT_EQ(referred.referral().partner_id(), partner.id());
  EXPECT_EQ(referred.referral().outcome(), project::v1::REFERRAL_OUTCOME_IN_PROGRESS);

  CtlResult list = Admin({"cases", "list", "--customer", absl::StrCat(customer.id())});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(list.out.substr(0, list.out.find('\n')),
            "ID  NUMBER   CUSTOMER  NAME           STATUS    QUOTE_DATE  OWNER  PARTNER");
  const std::string web = LineWith(list.out, "Webサイト制作");
  EXPECT_NE(web.find("Webサイト制作  prospect  2026-03-02  alice"), std::string::npos) << list.out;
  const std::string paint = LineWith(list.out, "外壁塗装");
  EXPECT_NE(paint.find("外壁塗装       prospect  "), std::string::npos) << list.out;
  // PARTNER is right-aligned: the row ends where the header does, by display width.
  EXPECT_TRUE(absl::EndsWith(paint, absl::StrCat(" ", partner.id()))) << list.out;
  EXPECT_EQ(ctl::DisplayWidth(paint), ctl::DisplayWidth(list.out.substr(0, list.out.find('\n'))))
      << list.out;

  CtlResult got = Admin({"cases", "get", absl::StrCat(referred.id())});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_NE(got.out.find("referral_date     2026-03-05\n"), std::string::npos) << got.out;
  EXPECT_NE(got.out.find("referral_outcome  in_progress\n"), std::string::npos) << got.out;

  CtlResult referrals = Admin({"referrals", "list", "--partner", absl::StrCat(partner.id())});
  ASSERT_EQ(referrals.exit_code, 0) << referrals.err;
  EXPECT_NE(referrals.out.find("外壁塗装  2026-03-05  in_progress"), std::string::npos)
      << referrals.out;
  EXPECT_EQ(referrals.out.find("Webサイト制作"), std::string::npos) << referrals.out;

  CtlResult partners = Admin({"partners", "list", "--query", "案件テスト工務店"});
  ASSERT_EQ(partners.exit_code, 0) << partners.err;
  EXPECT_NE(partners.out.find("案件テスト工務店           1000"), std::string::npos)
      << partners.out;

  // referrals list without --partner is bad usage.
  CtlResult no_partner = Admin({"referrals", "list"});
  EXPECT_EQ(no_partner.exit_code, 2);
  EXPECT_NE(no_partner.err.find("--partner is required"), std::string::npos);
}

// A quote as CreateQuote's JSON takes it: `lines` is a JSON array of QuoteLine objects.
std::string QuoteRequest(const std::string& request_id, int64_t project_id,
                         const std::string& issue, const std::string& valid_until,
                         const std::string& lines, int probability, int order_month) {
  auto date = [](const std::string& ymd) {  // "2026-04-15"
    return absl::StrCat(R"({"year": )", ymd.substr(0, 4), R"(, "month": )",
                        std::stoi(ymd.substr(5, 2)), R"(, "day": )", std::stoi(ymd.substr(8, 2)),
                        "}");
  };
  return absl::StrCat(R"({"request_id": ")", request_id, R"(", "quote": {"project_id": )",
                      project_id, R"(, "issue_date": )", date(issue), R"(, "valid_until": )",
                      date(valid_until), R"(, "lines": )", lines, R"(, "win_probability": )",
                      probability, R"(, "expected_order_month": {"year": 2026, "month": )",
                      order_month, "}}}");
}

TEST_F(AnkenctlTest, QuotesListAndGetAsTablesAndJson) {
  auto customer = AdminJson<customer::v1::Customer>(
      {"customers", "create", "--name", "見積テスト株式会社", "--request-id", "ctl-e2e-quote-c"});
  auto project = AdminJson<project::v1::Project>(
      {"cases", "create", "--customer", absl::StrCat(customer.id()), "--name", "見積テスト案件",
       "--request-id", "ctl-e2e-quote-p"});
  ASSERT_GT(project.id(), 0);
  ASSERT_LT(project.id(), 10000);  // fits the CASE column's header width

  // Two quotes through `call` (ankenctl has no quote-writing command): the first sent.
  auto create = [&](const std::string& json) {
    CtlResult r = Admin({"call", "anken.project.v1.ProjectService/CreateQuote", json});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    project::v1::Quote q;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &q).ok()) << r.out;
    return q;
  };
  const project::v1::Quote q1 = create(QuoteRequest(
      "ctl-e2e-quote-1", project.id(), "2026-04-15", "2026-05-15",
      R"([{"description": "設計作業", "quantity_milli": 1500, "unit_price": 10000,)"
      R"(  "tax_category": "TAX_CATEGORY_STANDARD"},)"
      R"( {"description": "弁当", "quantity_milli": 2000, "unit_price": 1234,)"
      R"(  "tax_category": "TAX_CATEGORY_REDUCED"}])",
      70, 6));
  const project::v1::Quote q2 = create(QuoteRequest(
      "ctl-e2e-quote-2", project.id(), "2026-04-20", "2026-05-20",
      R"([{"description": "保守", "quantity_milli": 1000, "unit_price": 50000,)"
      R"(  "tax_category": "TAX_CATEGORY_STANDARD"}])",
      30, 7));
  ASSERT_GT(q1.id(), 0);
  ASSERT_LT(q2.id(), 100);  // two-digit ids keep the expected text simple
  CtlResult sent = Admin({"call", "anken.project.v1.ProjectService/SendQuote",
                          absl::StrCat(R"({"quote_id": )", q1.id(), "}")});
  ASSERT_EQ(sent.exit_code, 0) << sent.err;

  // The table: yen and months formatted, numbers right-aligned, by id.
  CtlResult table = Admin({"quotes", "list", "--case", absl::StrCat(project.id())});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_EQ(table.err, "");
  auto row = [](const project::v1::Quote& q, const std::string& rest) {
    return absl::StrCat(absl::StrFormat("%2d  %4d  %2d  ", q.id(), q.project_id(), q.number()),
                        rest, "\n");
  };
  EXPECT_EQ(table.out,
            absl::StrCat(
                "ID  CASE  NO  ISSUED      VALID_UNTIL  STATUS  SUBTOTAL    TOTAL  WIN%  "
                "ORDER_MONTH\n",
                row(q1, "2026-04-15  2026-05-15   sent     ¥17,468  ¥19,165    70  2026-06"),
                row(q2, "2026-04-20  2026-05-20   draft    ¥50,000  ¥55,000    30  2026-07")));

  // Filters: by customer and status; --json is the ListQuotesResponse.
  auto drafts = AdminJson<project::v1::ListQuotesResponse>(
      {"quotes", "list", "--customer", absl::StrCat(customer.id()), "--status", "draft"});
  ASSERT_EQ(drafts.quotes_size(), 1) << drafts.DebugString();
  EXPECT_EQ(drafts.quotes(0).id(), q2.id());
  EXPECT_EQ(drafts.quotes(0).total(), 55'000);
  auto all = AdminJson<project::v1::ListQuotesResponse>(
      {"quotes", "list", "--customer", absl::StrCat(customer.id()), "--page-size", "1", "--all"});
  ASSERT_EQ(all.quotes_size(), 2);
  EXPECT_EQ(all.quotes(0).id(), q1.id());
  EXPECT_EQ(all.quotes(1).id(), q2.id());
  EXPECT_EQ(all.next_page_token(), "");
  CtlResult first = Admin({"quotes", "list", "--case", absl::StrCat(project.id()), "--page-size",
                           "1"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(std::count(first.out.begin(), first.out.end(), '\n'), 2) << first.out;
  EXPECT_NE(first.err.find("more rows: --all, or --page-token "), std::string::npos) << first.err;

  // get: the record, then the lines (quantities as decimals), then the tax per rate.
  CtlResult got = Admin({"quotes", "get", absl::StrCat(q1.id())});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  for (const std::string& want :
       {absl::StrCat("case             ", project.id(), "\n"), std::string("status           sent\n"),
        std::string("issued           2026-04-15\n"), std::string("win_probability  70\n"),
        std::string("order_month      2026-06\n"), std::string("subtotal         ¥17,468\n"),
        std::string("tax              ¥1,697\n"), std::string("total            ¥19,165\n"),
        std::string("PRODUCT  DESCRIPTION  QTY  UNIT  UNIT_PRICE  TAX        AMOUNT\n"),
        absl::StrCat("設計作業", std::string(5, ' '), "1.5", std::string(11, ' '),
                     "¥10,000  standard  ¥15,000\n"),
        absl::StrCat("弁当", std::string(11, ' '), "2", std::string(12, ' '),
                     "¥1,234  reduced    ¥2,468\n"),
        std::string("RATE      TAXABLE     TAX\nstandard  ¥15,000  ¥1,500\n"
                    "reduced    ¥2,468    ¥197\n")}) {
    EXPECT_NE(got.out.find(want), std::string::npos) << want << "\nin:\n" << got.out;
  }
  auto got_json = AdminJson<project::v1::Quote>({"quotes", "get", absl::StrCat(q2.id())});
  EXPECT_EQ(got_json.status(), project::v1::QUOTE_STATUS_DRAFT);
  ASSERT_EQ(got_json.lines_size(), 1);
  EXPECT_EQ(got_json.lines(0).description(), "保守");

  // A missing quote is refused (1); bad operands and flags are usage errors (2).
  CtlResult missing = Admin({"quotes", "get", "999999"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.out, "");
  EXPECT_NE(missing.err.find("error: NOT_FOUND: quote 999999 not found"), std::string::npos)
      << missing.err;
  EXPECT_NE(missing.err.find("reason: QUOTE_NOT_FOUND"), std::string::npos) << missing.err;
  for (const std::vector<std::string>& bad : std::vector<std::vector<std::string>>{
           {"quotes", "get"},
           {"quotes", "get", "abc"},
           {"quotes", "list", "7"},
           {"quotes", "list", "--case", "x"},
           {"quotes", "list", "--status", "bogus"}}) {
    CtlResult r = Admin(bad);
    EXPECT_EQ(r.exit_code, 2) << absl::StrJoin(bad, " ") << "\n" << r.err;
    EXPECT_EQ(r.out, "") << absl::StrJoin(bad, " ");
  }
  // A partner token may not read quotes at all: refused, 1.
  CtlResult partner_token = Ctl({"token", "--role", "partner", "--sub", "p1", "--partner-id", "1"});
  ASSERT_EQ(partner_token.exit_code, 0) << partner_token.err;
  CtlResult partner = Ctl({"quotes", "list"},
                          {{"ANKEN_TOKEN", std::string(absl::StripAsciiWhitespace(partner_token.out))},
                           {"ANKEN_PROJECT_ADDR", ProjectAddr()}});
  EXPECT_EQ(partner.exit_code, 1);
  EXPECT_NE(partner.err.find("PERMISSION_DENIED"), std::string::npos) << partner.err;
}

TEST_F(AnkenctlTest, BillingFromPlanToInvoiceAndPayment) {
  auto customer = AdminJson<customer::v1::Customer>(
      {"customers", "create", "--name", "請求テスト株式会社", "--kana", "ｾｲｷｭｳﾃｽﾄ",
       "--request-id", "ctl-e2e-bill-c"});
  auto project = AdminJson<project::v1::Project>(
      {"cases", "create", "--customer", absl::StrCat(customer.id()), "--name", "請求テスト案件",
       "--request-id", "ctl-e2e-bill-p"});
  const std::string tmpl = TempFile("plan", LumpSumPlan(2026, 3, 1200000, "制作一式"));
  CtlResult set = Admin({"plans", "set", absl::StrCat(project.id()), tmpl});
  std::remove(tmpl.c_str());
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_NE(set.out.find("timing      lump_sum\n"), std::string::npos) << set.out;

  auto plan = AdminJson<billing::v1::BillingPlan>({"plans", "get", absl::StrCat(project.id())});
  ASSERT_EQ(plan.entries_size(), 1) << plan.DebugString();
  const int64_t entry = plan.entries(0).id();
  CtlResult entries = Admin({"entries", "list", "--case", absl::StrCat(project.id())});
  ASSERT_EQ(entries.exit_code, 0) << entries.err;
  EXPECT_NE(entries.out.find("2026-03-31  2026-03-31  ¥1,200,000  ¥120,000  unbilled  plan"),
            std::string::npos)
      << entries.out;

  // Not READY yet: refused (exit 1), then marked and issued.
  CtlResult early = Admin({"invoices", "issue", "--customer", absl::StrCat(customer.id()),
                           "--issue-date", "2026-03-31", "--request-id", "ctl-e2e-inv-0"});
  EXPECT_EQ(early.exit_code, 1);
  EXPECT_NE(early.err.find("reason: NO_READY_ENTRIES"), std::string::npos) << early.err;
  CtlResult marked = Admin({"entries", "mark", absl::StrCat(entry), "--status", "ready"});
  ASSERT_EQ(marked.exit_code, 0) << marked.err;
  EXPECT_NE(marked.out.find("ready"), std::string::npos) << marked.out;
  auto invoice = AdminJson<billing::v1::Invoice>(
      {"invoices", "issue", "--customer", absl::StrCat(customer.id()), "--entries",
       absl::StrCat(entry), "--issue-date", "2026-03-31", "--request-id", "ctl-e2e-inv-1"});
  EXPECT_EQ(invoice.total(), 1320000);

  CtlResult invoices = Admin({"invoices", "list", "--customer", absl::StrCat(customer.id())});
  ASSERT_EQ(invoices.exit_code, 0) << invoices.err;
  EXPECT_NE(invoices.out.find(absl::StrCat(invoice.number(), "  ")), std::string::npos);
  EXPECT_NE(invoices.out.find("請求テスト株式会社  2026-03-31"), std::string::npos) << invoices.out;
  EXPECT_NE(invoices.out.find("¥1,320,000  ¥1,320,000  issued  unpaid"), std::string::npos)
      << invoices.out;
  CtlResult got = Admin({"invoices", "get", absl::StrCat(invoice.id())});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_NE(got.out.find("total          ¥1,320,000\n"), std::string::npos) << got.out;
  EXPECT_NE(got.out.find("address        東京都千代田区丸の内1-1-1\n"), std::string::npos) << got.out;
  EXPECT_NE(got.out.find("bank           みずほ銀行 本店 普通 1234567\n"), std::string::npos)
      << got.out;
  EXPECT_NE(got.out.find("制作一式"), std::string::npos) << got.out;

  // Receivables as of long after the due date: overdue and in the aging buckets.
  CtlResult overdue = Admin({"receivables", "overdue", "--as-of", "2026-09-30", "--customer",
                             absl::StrCat(customer.id())});
  ASSERT_EQ(overdue.exit_code, 0) << overdue.err;
  EXPECT_NE(overdue.out.find("as of 2026-09-30\n"), std::string::npos) << overdue.out;
  EXPECT_NE(overdue.out.find(invoice.number()), std::string::npos) << overdue.out;
  CtlResult aging = Admin({"receivables", "aging", "--as-of", "2026-09-30", "--customer",
                           absl::StrCat(customer.id())});
  ASSERT_EQ(aging.exit_code, 0) << aging.err;
  EXPECT_NE(aging.out.find("¥1,320,000"), std::string::npos) << aging.out;
  EXPECT_NE(aging.out.find("totals:\n"), std::string::npos) << aging.out;

  // A payment by hand, and a bank CSV that pays the invoice.
  CtlResult recorded = Admin({"payments", "record", "--date", "2026-04-10", "--amount", "5,000",
                              "--payer", "ﾅｿﾞﾉﾌﾘｺﾐ", "--request-id", "ctl-e2e-pay-1"});
  ASSERT_EQ(recorded.exit_code, 0) << recorded.err;
  EXPECT_NE(recorded.out.find("2026-04-10  ¥5,000  ﾅｿﾞﾉﾌﾘｺﾐ"), std::string::npos)
      << recorded.out;
  CtlResult queue = Admin({"payments", "list", "--queue"});
  ASSERT_EQ(queue.exit_code, 0) << queue.err;
  EXPECT_NE(queue.out.find("ﾅｿﾞﾉﾌﾘｺﾐ"), std::string::npos) << queue.out;

  const std::string csv =
      TempFile("bank", "取引日,金額,振込依頼人名\n2026/04/30,1320000,ｾｲｷｭｳﾃｽﾄ(ｶ\n");
  CtlResult imported = Admin({"payments", "import", csv, "--format", "csv", "--account",
                              "e2e-0001-1234567", "--request-id", "ctl-e2e-bank-1"});
  std::remove(csv.c_str());
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_NE(imported.err.find("2 lines"), std::string::npos) << imported.err;  // progress
  EXPECT_NE(imported.out.find("imported          1\n"), std::string::npos) << imported.out;
  auto paid = AdminJson<billing::v1::Invoice>({"invoices", "get", absl::StrCat(invoice.id())});
  EXPECT_EQ(paid.balance(), 0) << imported.out;

  CtlResult bad_format = Admin({"payments", "import", "x.csv", "--format", "xml"});
  EXPECT_EQ(bad_format.exit_code, 2);

  // The issued invoice as PDF.
  const std::string pdf = TempFile("pdf", "");
  CtlResult saved = Admin({"invoice", "pdf", absl::StrCat(invoice.id()), "-o", pdf});
  ASSERT_EQ(saved.exit_code, 0) << saved.err;
  std::ifstream pdf_in(pdf, std::ios::binary);
  std::string pdf_head(5, '\0');
  pdf_in.read(&pdf_head[0], 5);
  std::remove(pdf.c_str());
  EXPECT_EQ(pdf_head, "%PDF-");
  EXPECT_EQ(Admin({"quote", "pdf", "999999"}).exit_code, 1);

  // A paid invoice cannot be cancelled (refused: 1); cancelling needs a reason (usage: 2).
  EXPECT_EQ(Admin({"invoices", "cancel", absl::StrCat(invoice.id())}).exit_code, 2);
  CtlResult paid_cancel = Admin({"invoices", "cancel", absl::StrCat(invoice.id()), "--reason",
                                 "誤り"});
  EXPECT_EQ(paid_cancel.exit_code, 1) << paid_cancel.out;
  // A second, unpaid invoice is cancelled.
  auto second = AdminJson<project::v1::Project>(
      {"cases", "create", "--customer", absl::StrCat(customer.id()), "--name", "取消テスト案件",
       "--request-id", "ctl-e2e-bill-p2"});
  const std::string plan2 = TempFile("plan", LumpSumPlan(2026, 4, 50000, "取消テスト"));
  auto plan_two = AdminJson<billing::v1::BillingPlan>(
      {"plans", "set", absl::StrCat(second.id()), plan2});
  std::remove(plan2.c_str());
  ASSERT_EQ(plan_two.entries_size(), 1);
  ASSERT_EQ(Admin({"entries", "mark", absl::StrCat(plan_two.entries(0).id()), "--status", "ready"})
                .exit_code,
            0);
  auto to_cancel = AdminJson<billing::v1::Invoice>(
      {"invoices", "issue", "--customer", absl::StrCat(customer.id()), "--issue-date",
       "2026-04-30", "--request-id", "ctl-e2e-inv-2"});
  CtlResult cancelled = Admin({"invoices", "cancel", absl::StrCat(to_cancel.id()), "--reason",
                               "金額誤り"});
  ASSERT_EQ(cancelled.exit_code, 0) << cancelled.err;
  EXPECT_NE(cancelled.out.find("¥55,000       ¥0  cancelled"), std::string::npos) << cancelled.out;

  CtlResult missed = Admin({"missed-billing", "--as-of", "2026-04-30"});
  ASSERT_EQ(missed.exit_code, 0) << missed.err;
  EXPECT_NE(missed.out.find("as of 2026-04-30\nKIND  CASE"), std::string::npos) << missed.out;

  CtlResult preview = Admin({"renewals", "preview", "--as-of", "2026-04-01"});
  ASSERT_EQ(preview.exit_code, 0) << preview.err;
  EXPECT_NE(preview.out.find("as_of             2026-04-01\n"), std::string::npos) << preview.out;
  EXPECT_NE(preview.err.find("plans would renew"), std::string::npos) << preview.err;
  CtlResult run = Admin({"renewals", "run", "--as-of", "2026-04-01", "--request-id",
                         "ctl-e2e-renew-1"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("0 plans renewed, 0 failed"), std::string::npos) << run.err;
}

TEST_F(AnkenctlTest, ReportDownloadUploadDryRunAndRowErrors) {
  auto end_customer = AdminJson<customer::v1::Customer>(
      {"customers", "create", "--name", "報告テスト様", "--request-id", "ctl-e2e-rep-c"});
  auto partner = CreatePartner("報告テスト工務店", "ctl-e2e-rep-p");
  std::vector<project::v1::Project> cases;
  for (int i = 1; i <= 2; ++i) {
    cases.push_back(AdminJson<project::v1::Project>(
        {"cases", "create", "--customer", absl::StrCat(end_customer.id()), "--name",
         absl::StrCat("報告案件", i), "--partner", absl::StrCat(partner.id()), "--referral-date",
         absl::StrCat("2026-05-0", i), "--request-id", absl::StrCat("ctl-e2e-rep-", i)}));
  }
  CtlResult opened = Admin({"call", "anken.report.v1.ReportIntakeService/OpenPeriod",
                            R"({"request_id": "ctl-e2e-open", "month": {"year": 2026, "month": 5}})"});
  ASSERT_EQ(opened.exit_code, 0) << opened.err;

  auto reports = AdminJson<report::v1::ListReportsResponse>(
      {"reports", "list", "--month", "2026-05", "--partner", absl::StrCat(partner.id())});
  ASSERT_EQ(reports.reports_size(), 1) << reports.DebugString();
  const std::string report_id = absl::StrCat(reports.reports(0).id());
  CtlResult table = Admin({"reports", "list", "--month", "2026-05"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(LineWith(table.out, "報告テスト工務店").find("2026-05"), std::string::npos) << table.out;

  CtlResult lines = Admin({"reports", "lines", report_id});
  ASSERT_EQ(lines.exit_code, 0) << lines.err;
  EXPECT_NE(lines.out.find(absl::StrCat(cases[0].number(), "  報告テスト様  2026-05-01  in_progress  no")),
            std::string::npos)
      << lines.out;

  char dir_tmpl[] = "/tmp/ankenctl-report-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_tmpl), nullptr);
  const std::string dir = dir_tmpl;
  const std::string file = dir + "/report.xlsx";
  CtlResult downloaded = Admin({"reports", "download", report_id, "-o", file});
  ASSERT_EQ(downloaded.exit_code, 0) << downloaded.err;
  EXPECT_EQ(downloaded.out.rfind(file + " (", 0), 0u) << downloaded.out;

  // Uploaded back unchanged, as a dry run: valid, both rows checked, nothing written.
  CtlResult dry = Admin({"reports", "upload", report_id, file, "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("dry run: the file is valid, nothing was written\n"), std::string::npos)
      << dry.out;
  EXPECT_NE(dry.err.find("ankenctl: sent "), std::string::npos) << dry.err;
  EXPECT_NE(dry.err.find("ankenctl: 2 rows checked (2 no change, 0 changed)"), std::string::npos)
      << dry.err;
  auto after_dry = AdminJson<report::v1::Report>({"call", "anken.report.v1.ReportIntakeService/GetReport",
                                                  absl::StrCat(R"({"id": )", report_id, "}")});
  EXPECT_EQ(after_dry.checked_count(), 0);

  // A remark with a forbidden character, edited as a spreadsheet program would: the server's
  // row error text, exactly, and exit 1.
  const std::string edited = dir + "/edited.xlsx";
  const std::string edits = dir + "/edits.json";
  std::ofstream(edits) << absl::StrCat(R"([{"case": ")", cases[1].number(),
                                       R"(", "column": "報告備考", "value": "A-B"}])");
  auto edit = RunToExit(ANKEN_SYSTEM_PYTHON, {ANKEN_EDIT_XLSX, file, edited, edits}, {},
                        absl::Seconds(30));
  ASSERT_TRUE(edit.ok()) << edit.status();
  ASSERT_EQ(edit->first, 0) << edit->second;
  CtlResult rejected = Admin({"reports", "upload", report_id, edited});
  EXPECT_EQ(rejected.exit_code, 1);
  EXPECT_NE(rejected.err.find(absl::StrCat("\n案件番号:", cases[1].number(),
                                           "|報告備考欄に不正な入力「=」「+」「-」があります。\n")),
            std::string::npos)
      << rejected.err;
  EXPECT_EQ(rejected.out, "");

  // The unchanged file for real, then preview and submit (which needs --attest).
  CtlResult accepted = Admin({"reports", "upload", report_id, file});
  ASSERT_EQ(accepted.exit_code, 0) << accepted.err;
  EXPECT_NE(accepted.out.find("accepted\n"), std::string::npos) << accepted.out;
  CtlResult preview = Admin({"reports", "preview", report_id});
  ASSERT_EQ(preview.exit_code, 0) << preview.err;
  EXPECT_NE(preview.out.find("no_change  2\nunchecked  0\n"), std::string::npos) << preview.out;
  CtlResult unattested = Admin({"reports", "submit", report_id});
  EXPECT_EQ(unattested.exit_code, 2);
  EXPECT_NE(unattested.err.find("--attest is required"), std::string::npos) << unattested.err;
  CtlResult submitted = Admin({"reports", "submit", report_id, "--attest", "--request-id",
                               "ctl-e2e-submit"});
  ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
  EXPECT_NE(submitted.out.find("status      submitted\n"), std::string::npos) << submitted.out;

  for (const std::string& p : {file, edited, edits}) std::remove(p.c_str());
  ::rmdir(dir.c_str());
}

TEST_F(AnkenctlTest, SchedulerJobsTriggerAndNotifications) {
  CtlResult jobs = Admin({"jobs", "list"});
  ASSERT_EQ(jobs.exit_code, 0) << jobs.err;
  EXPECT_EQ(jobs.out.rfind("JOB                 SCHEDULE ", 0), 0u) << jobs.out;
  EXPECT_NE(jobs.out.find("open_report_period  monthly 1 00:00"), std::string::npos) << jobs.out;

  // A time that is not a slot of the schedule is refused; a bad time is bad usage.
  CtlResult off_slot = Admin({"jobs", "trigger", "billing_alerts", "--slot", "2026-04-01 10:30"});
  EXPECT_EQ(off_slot.exit_code, 1);
  EXPECT_NE(off_slot.err.find("SLOT_NOT_IN_SCHEDULE"), std::string::npos) << off_slot.err;
  EXPECT_EQ(Admin({"jobs", "trigger", "billing_alerts", "--slot", "2026-04-01"}).exit_code, 2);

  // 09:00 Tokyo is a slot of "daily 09:00"; triggering it twice runs it once.
  CtlResult triggered = Admin({"jobs", "trigger", "billing_alerts", "--slot", "2026-04-01 09:00"});
  ASSERT_EQ(triggered.exit_code, 0) << triggered.err;
  EXPECT_EQ(triggered.out.rfind("triggered\n", 0), 0u) << triggered.out;
  EXPECT_NE(triggered.out.find("billing_alerts  2026-04-01T09:00"), std::string::npos)
      << triggered.out;
  CtlResult again = Admin({"jobs", "trigger", "billing_alerts", "--slot", "2026-04-01 09:00"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out.rfind("already run for this slot\n", 0), 0u) << again.out;

  CtlResult runs = Admin({"jobs", "runs", "billing_alerts"});
  ASSERT_EQ(runs.exit_code, 0) << runs.err;
  EXPECT_NE(runs.out.find("billing_alerts  2026-04-01T09:00"), std::string::npos) << runs.out;

  CtlResult notifications = Admin({"notifications", "list", "--state", "dead"});
  ASSERT_EQ(notifications.exit_code, 0) << notifications.err;
  EXPECT_EQ(notifications.out.rfind("ID  CREATED  RECIPIENT  TEMPLATE  STATE", 0), 0u)
      << notifications.out;
}

TEST_F(AnkenctlTest, HelpListsEveryCommandAndShowsUsageWithAnExample) {
  CtlResult help = Ctl({"help"});
  ASSERT_EQ(help.exit_code, 0) << help.err;
  std::vector<std::string> commands;
  for (absl::string_view line : absl::StrSplit(help.out, '\n')) {
    if (!absl::ConsumePrefix(&line, "  ") || line.empty() || line[0] == ' ') continue;
    const size_t gap = line.find("  ");
    if (gap == absl::string_view::npos) continue;
    commands.emplace_back(line.substr(0, gap));
  }
  for (const char* c :
       {"customers list", "customers get", "customers create", "customers update",
        "partners list", "cases list", "cases get", "cases create", "referrals list", "plans get",
        "plans set", "entries list", "invoices list", "invoices get", "invoices issue",
        "invoices cancel", "payments list", "payments record", "payments import",
        "receivables overdue", "receivables aging", "missed-billing", "reports list",
        "reports lines", "reports download", "reports upload", "reports preview",
        "reports submit", "jobs list", "jobs runs", "jobs trigger", "notifications list",
        "quotes list", "quotes get",
        "renewals run", "renewals preview", "call", "token", "methods"}) {
    EXPECT_NE(std::find(commands.begin(), commands.end(), c), commands.end()) << c << "\n"
                                                                              << help.out;
  }
  // Every command's help has its usage and a concrete example.
  for (const std::string& c : commands) {
    std::vector<std::string> args = {"help"};
    for (absl::string_view w : absl::StrSplit(c, ' ')) args.emplace_back(w);
    CtlResult one = Ctl(args);
    EXPECT_EQ(one.exit_code, 0) << c;
    EXPECT_EQ(one.out.rfind(absl::StrCat("usage: ankenctl ", c), 0), 0u) << one.out;
    EXPECT_NE(one.out.find(absl::StrCat("example:\n  ")), std::string::npos) << one.out;
    EXPECT_NE(one.out.find("ankenctl " + c), one.out.rfind("ankenctl " + c)) << one.out;
  }
  CtlResult create = Ctl({"help", "customers", "create"});
  EXPECT_NE(create.out.find("example:\n  ankenctl customers create --name 株式会社サンプル"),
            std::string::npos)
      << create.out;
  // --help after a command is the same text.
  CtlResult flag = Ctl({"customers", "create", "--help"});
  EXPECT_EQ(flag.exit_code, 0);
  EXPECT_EQ(flag.out, create.out);
  EXPECT_EQ(Ctl({"help", "no-such-command"}).exit_code, 2);
}

TEST_F(AnkenctlTest, HumanCommandsExit1WhenRefusedAnd2OnBadUsage) {
  CtlResult missing = Admin({"customers", "get", "999999"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.out, "");
  EXPECT_NE(missing.err.find("error: NOT_FOUND"), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find("reason: CUSTOMER_NOT_FOUND"), std::string::npos) << missing.err;

  CtlResult invalid = Admin({"customers", "create", "--name", "株式会社メール", "--email",
                             "not-an-email", "--request-id", "ctl-e2e-bad-mail"});
  EXPECT_EQ(invalid.exit_code, 1);
  EXPECT_NE(invalid.err.find("error: INVALID_ARGUMENT"), std::string::npos) << invalid.err;

  for (const std::vector<std::string>& bad : std::vector<std::vector<std::string>>{
           {"customers", "get", "abc"},
           {"customers", "get"},
           {"customers", "create"},
           {"customers", "update", "1"},
           {"cases", "create", "--name", "x"},
           {"entries", "list", "--status", "ready", "--page-size", "0"},
           {"reports", "list", "--month", "2026-13"},
           {"reports", "upload", "1"},
           {"customers", "list", "--query"},
           {"customers"}}) {
    CtlResult r = Admin(bad);
    EXPECT_EQ(r.exit_code, 2) << absl::StrJoin(bad, " ") << "\n" << r.err;
    EXPECT_EQ(r.out, "") << absl::StrJoin(bad, " ");
  }
  // A human command against a server that is not there: 3.
  CtlResult down = Admin({"customers", "list", "--addr", absl::StrCat("127.0.0.1:", ClosedPort()),
                          "--timeout", "5s"});
  EXPECT_EQ(down.exit_code, 3);
  EXPECT_NE(down.err.find("UNAVAILABLE"), std::string::npos) << down.err;

  CtlResult hint = Admin({"customers", "get", "abc"});
  EXPECT_NE(hint.err.find("ankenctl help customers get"), std::string::npos) << hint.err;
}

}  // namespace
}  // namespace anken::testing
