// ankenctl end to end: the real binary against real anken-customer and anken-project
// processes (one scratch database, both migrated with --migrate, ports read from their
// "listening" log lines). Checks what a user of the tool sees: the token it mints, JSON in and
// out, the address from --addr or ANKEN_<SERVICE>_ADDR, errors on stderr, and the exit codes
// 0 ok / 1 refused / 2 usage / 3 server or network.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "anken/customer/v1/customer_service.pb.h"
#include "anken/project/v1/project_service.pb.h"
#include "common/auth/auth.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "tests/support/subprocess.h"
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
  int customer_port = 0;
  int project_port = 0;
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
  }

  static void TearDownTestSuite() {
    delete services_;  // kills the processes, then drops the database
    services_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(services_->customer_port, 0) << "anken-customer did not start";
    ASSERT_NE(services_->project_port, 0) << "anken-project did not start";
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

}  // namespace
}  // namespace anken::testing
