// The runtime as a real process: anken-echo (a service made only of common/) is started
// against the harness's Postgres and checked from outside the way ops and clients see it —
// configuration errors, migrations, health, reflection, auth rejections, idempotent replay,
// the deadline bounding SQL, /metrics parsed and checked by promtool, and SIGTERM.

#include <signal.h>

#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "anken/testing/v1/echo.grpc.pb.h"
#include "common/auth/auth.h"
#include "common/status/errors.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/create_channel.h"
#include "tests/fakes/fake_clock.h"
#include "tests/support/grpc_probe.h"
#include "tests/support/metrics_scrape.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_database.h"

namespace anken::testing {
namespace {

using v1::EchoService;

const std::string kSecret = "test-secret-0123456789abcdef-0123456789";

// The value of `key` in a JSON log line, or "" when the line is not JSON or lacks it.
std::string LogField(const std::string& line, const std::string& key) {
  google::protobuf::Struct s;
  if (!google::protobuf::util::JsonStringToMessage(line, &s).ok()) return "";
  auto it = s.fields().find(key);
  if (it == s.fields().end()) return "";
  if (it->second.has_number_value()) return absl::StrCat(it->second.number_value());
  return it->second.string_value();
}

// A token minted `age` ago (so a short ttl makes it expired).
std::string Token(auth::Role role, const std::string& sub, absl::Duration ttl = absl::Hours(1),
                  const std::string& secret = kSecret, const std::string& partner_id = "",
                  absl::Duration age = absl::ZeroDuration()) {
  FakeClock minted_at(absl::Now() - age);
  auth::MintOptions o;
  o.clock = &minted_at;
  o.subject = sub;
  o.role = role;
  o.partner_id = partner_id;
  o.ttl = ttl;
  o.hs256_secret = secret;
  auto t = auth::MintToken(o);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.value_or("");
}

class EchoProcessTest : public ::testing::Test {
 protected:
  std::map<std::string, std::string> Env() const {
    return {{"ANKEN_DATABASE_URL", db_.url()},
            {"ANKEN_JWT_SECRET", kSecret},
            {"ANKEN_LISTEN_HOST", "127.0.0.1"},
            {"ANKEN_GRPC_PORT", "0"},
            {"ANKEN_METRICS_PORT", "0"},
            {"ANKEN_HEALTH_INTERVAL", "50ms"},
            {"ANKEN_SHUTDOWN_GRACE", "3s"}};
  }

  void StartServer() {
    auto m = RunToExit(ANKEN_ECHO_BIN, {"--migrate"}, Env());
    ASSERT_TRUE(m.ok()) << m.status();
    ASSERT_EQ(m->first, 0) << m->second;
    auto p = Subprocess::Start(ANKEN_ECHO_BIN, {}, Env());
    ASSERT_TRUE(p.ok()) << p.status();
    proc_ = std::move(*p);
    auto metrics = proc_->WaitForLine(
        [](const std::string& l) { return LogField(l, "msg") == "metrics listening"; },
        absl::Seconds(30));
    ASSERT_TRUE(metrics.ok()) << metrics.status();
    ASSERT_TRUE(absl::SimpleAtoi(LogField(*metrics, "port"), &metrics_port_));
    auto listening = proc_->WaitForLine(
        [](const std::string& l) { return LogField(l, "msg") == "listening"; },
        absl::Seconds(30));
    ASSERT_TRUE(listening.ok()) << listening.status();
    int port = 0;
    ASSERT_TRUE(absl::SimpleAtoi(LogField(*listening, "port"), &port));
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                   grpc::InsecureChannelCredentials());
    stub_ = EchoService::NewStub(channel_);
  }

  grpc::Status Echo(const std::string& token, v1::EchoResponse* resp,
                    const std::string& message = "hello", int delay_ms = 0,
                    int timeout_ms = 10000) {
    grpc::ClientContext ctx;
    if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
    v1::EchoRequest req;
    req.set_message(message);
    req.set_delay_ms(delay_ms);
    return stub_->Echo(&ctx, req, resp);
  }

  grpc::Status CreateNote(const std::string& token, const std::string& request_id,
                          const std::string& text, v1::Note* note) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + token);
    v1::CreateNoteRequest req;
    req.set_request_id(request_id);
    req.set_text(text);
    return stub_->CreateNote(&ctx, req, note);
  }

  int64_t Count(const std::string& sql) {
    pqxx::connection c(db_.url());
    pqxx::work tx(c);
    return tx.exec1(sql)[0].as<int64_t>();
  }

  ScratchDatabase db_{"echo"};
  std::unique_ptr<Subprocess> proc_;
  int metrics_port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<EchoService::Stub> stub_;
};

TEST_F(EchoProcessTest, BadConfigurationStopsWithOneMessageNamingEveryProblem) {
  auto env = Env();
  env["ANKEN_GRPC_PORT"] = "abc";
  env["ANKEN_DB_POOL_SIZE"] = "0";
  auto r = RunToExit(ANKEN_ECHO_BIN, {}, env);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->first, 2);
  EXPECT_NE(r->second.find("ANKEN_GRPC_PORT"), std::string::npos) << r->second;
  EXPECT_NE(r->second.find("ANKEN_DB_POOL_SIZE"), std::string::npos) << r->second;
  auto usage = RunToExit(ANKEN_ECHO_BIN, {"--frobnicate"}, Env());
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->first, 2);
}

TEST_F(EchoProcessTest, MigrateIsRepeatableAndRecorded) {
  for (int i = 0; i < 2; ++i) {
    auto m = RunToExit(ANKEN_ECHO_BIN, {"--migrate"}, Env());
    ASSERT_TRUE(m.ok()) << m.status();
    ASSERT_EQ(m->first, 0) << m->second;
  }
  EXPECT_EQ(Count("SELECT count(*) FROM echo.schema_migrations WHERE version = 1"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM echo.notes"), 0);
}

TEST_F(EchoProcessTest, HealthAndReflection) {
  StartServer();
  EXPECT_EQ(*HealthServing(channel_), true);
  auto names = ReflectionServices(channel_);
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_NE(std::find(names->begin(), names->end(), "anken.testing.v1.EchoService"), names->end());
}

TEST_F(EchoProcessTest, HealthIsNotServingWhileTheDatabaseIsUnreachable) {
  StartServer();
  ASSERT_EQ(*HealthServing(channel_), true);
  auto admin = [&](const std::string& sql) {
    pqxx::connection c(HarnessDatabaseUrl());
    pqxx::nontransaction tx(c);
    tx.exec(sql);
  };
  admin(absl::StrCat("ALTER DATABASE ", db_.name(), " ALLOW_CONNECTIONS false"));
  admin(absl::StrCat("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '",
                     db_.name(), "'"));
  auto wait_for = [&](bool want) {
    for (int i = 0; i < 500; ++i) {
      auto s = HealthServing(channel_);
      if (s.ok() && *s == want) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  };
  EXPECT_TRUE(wait_for(false));
  admin(absl::StrCat("ALTER DATABASE ", db_.name(), " ALLOW_CONNECTIONS true"));
  EXPECT_TRUE(wait_for(true));
}

TEST_F(EchoProcessTest, AuthRejections) {
  StartServer();
  v1::EchoResponse resp;
  grpc::Status s = Echo("", &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(ErrorReason(FromGrpcStatus(s)), "TOKEN_MISSING");
  EXPECT_EQ(Echo(Token(auth::Role::kStaff, "mallory", absl::Hours(1),
                       "another-secret-0123456789abcdef-012345"),
                 &resp)
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  s = Echo(Token(auth::Role::kStaff, "alice", absl::Minutes(5), kSecret, "", absl::Hours(1)),
           &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(ErrorReason(FromGrpcStatus(s)), "TOKEN_EXPIRED");
  EXPECT_EQ(Echo("not.a.jwt", &resp).error_code(), grpc::StatusCode::UNAUTHENTICATED);

  v1::Note note;
  s = CreateNote(Token(auth::Role::kPartner, "p1", absl::Hours(1), kSecret, "P001"), "r-1", "x",
                 &note);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Count("SELECT count(*) FROM echo.notes"), 0);

  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + Token(auth::Role::kStaff, "alice"));
  EXPECT_EQ(stub_->AdminEcho(&ctx, v1::EchoRequest(), &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  ASSERT_TRUE(Echo(Token(auth::Role::kStaff, "alice"), &resp).ok());
  EXPECT_EQ(resp.subject(), "alice");
  EXPECT_EQ(resp.role(), "staff");
}

TEST_F(EchoProcessTest, IdempotentReplayReturnsTheStoredResponse) {
  StartServer();
  const std::string staff = Token(auth::Role::kStaff, "alice");
  v1::Note first, again;
  ASSERT_TRUE(CreateNote(staff, "req-1", "first note", &first).ok());
  ASSERT_TRUE(CreateNote(staff, "req-1", "first note", &again).ok());
  EXPECT_EQ(again.id(), first.id());
  EXPECT_EQ(Count("SELECT count(*) FROM echo.notes"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM echo.audit_events WHERE resource_type = 'note'"), 1);

  v1::Note other;
  grpc::Status s = CreateNote(staff, "req-1", "a different note", &other);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ErrorReason(FromGrpcStatus(s)), "REQUEST_ID_REUSED");
  ASSERT_TRUE(CreateNote(staff, "req-2", "second note", &other).ok());
  EXPECT_NE(other.id(), first.id());
  EXPECT_EQ(Count("SELECT count(*) FROM echo.notes"), 2);
}

TEST_F(EchoProcessTest, CallerDeadlineBoundsTheSql) {
  StartServer();
  v1::EchoResponse resp;
  auto start = std::chrono::steady_clock::now();
  grpc::Status s = Echo(Token(auth::Role::kStaff, "alice"), &resp, "sql", 20000, 500);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  // The statement was cancelled by statement_timeout, not left running in the database.
  int64_t sleeping = 0;
  for (int i = 0; i < 100; ++i) {
    sleeping = Count(absl::StrCat("SELECT count(*) FROM pg_stat_activity WHERE datname = '",
                                  db_.name(), "' AND query LIKE '%pg_sleep%' AND state = 'active'"
                                  " AND pid <> pg_backend_pid()"));
    if (sleeping == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(sleeping, 0);
}

TEST_F(EchoProcessTest, MetricsEndpointCountsRpcsAndPassesPromtool) {
  StartServer();
  v1::EchoResponse resp;
  ASSERT_TRUE(Echo(Token(auth::Role::kStaff, "alice"), &resp).ok());
  ASSERT_TRUE(Echo(Token(auth::Role::kStaff, "alice"), &resp).ok());
  ASSERT_EQ(Echo("", &resp).error_code(), grpc::StatusCode::UNAUTHENTICATED);

  const std::string text = HttpGet(metrics_port_, "/metrics");
  Exposition e = Exposition::Parse(text);
  const Labels echo = {{"grpc_type", "unary"},
                       {"grpc_service", "anken.testing.v1.EchoService"},
                       {"grpc_method", "Echo"}};
  auto with_code = [&](const std::string& code) {
    Labels l = echo;
    l["grpc_code"] = code;
    return l;
  };
  EXPECT_EQ(e.Get("grpc_server_started_total", echo), 3);
  EXPECT_EQ(e.Get("grpc_server_handled_total", with_code("OK")), 2);
  EXPECT_EQ(e.Get("grpc_server_handled_total", with_code("UNAUTHENTICATED")), 1);
  EXPECT_EQ(e.Get("grpc_server_handling_seconds_count", echo), 3);
  EXPECT_EQ(e.Get("anken_db_pool_size"), 8);
  EXPECT_GT(e.Get("process_resident_memory_bytes"), 0);
  CommandResult check = PromtoolCheckMetrics(text);
  EXPECT_EQ(check.exit_code, 0) << check.output;
}

TEST_F(EchoProcessTest, SigtermShutsDownCleanly) {
  StartServer();
  v1::EchoResponse resp;
  // A call in flight when SIGTERM arrives still completes within the grace.
  grpc::Status slow;
  std::thread t([&] {
    v1::EchoResponse r;
    slow = Echo(Token(auth::Role::kStaff, "alice"), &r, "sql", 500, 10000);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  proc_->Signal(SIGTERM);
  auto code = proc_->Wait(absl::Seconds(15));
  t.join();
  ASSERT_TRUE(code.ok()) << code.status() << proc_->output();
  EXPECT_EQ(*code, 0) << proc_->output();
  EXPECT_TRUE(slow.ok()) << slow.error_message();
  EXPECT_NE(proc_->output().find("\"msg\":\"stopped\""), std::string::npos) << proc_->output();
  EXPECT_EQ(Echo(Token(auth::Role::kStaff, "alice"), &resp, "x", 0, 500).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace anken::testing
