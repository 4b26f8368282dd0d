// The auth interceptor on a real in-process gRPC server (port 0, no Postgres): tokens and
// roles reach handlers through CallerOf(), rejections get the right code and ErrorInfo
// reason, the safety net covers a handler that forgot to check, and health stays open.

#include "common/auth/auth_interceptor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "anken/testing/v1/echo.grpc.pb.h"
#include "common/auth/auth.h"
#include "common/status/errors.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/support/byte_buffer.h"
#include "tests/fakes/fake_clock.h"

namespace anken::auth {
namespace {

using ::anken::testing::FakeClock;
namespace pb = ::anken::testing::v1;

constexpr char kSecret[] = "0123456789abcdef0123456789abcdef-test";
constexpr char kEcho[] = "/anken.testing.v1.EchoService/Echo";
constexpr char kAdminEcho[] = "/anken.testing.v1.EchoService/AdminEcho";
constexpr char kCreateNote[] = "/anken.testing.v1.EchoService/CreateNote";

// Echo and AdminEcho check the caller as every handler must; CreateNote deliberately does
// not, to prove the interceptor's safety net.
class EchoImpl final : public pb::EchoService::Service {
 public:
  grpc::Status Echo(grpc::ServerContext* context, const pb::EchoRequest* request,
                    pb::EchoResponse* response) override {
    AUTHORIZE_OR_RETURN(const Principal caller, context);
    response->set_message(request->message());
    response->set_subject(caller.subject);
    response->set_role(std::string(RoleName(caller.role)));
    return grpc::Status::OK;
  }
  grpc::Status AdminEcho(grpc::ServerContext* context, const pb::EchoRequest* request,
                         pb::EchoResponse* response) override {
    AUTHORIZE_OR_RETURN(const Principal caller, context);
    response->set_message("admin:" + request->message());
    response->set_subject(caller.subject);
    response->set_role(std::string(RoleName(caller.role)));
    return grpc::Status::OK;
  }
  grpc::Status CreateNote(grpc::ServerContext*, const pb::CreateNoteRequest* request,
                          pb::Note* note) override {
    notes_created_.fetch_add(1);
    note->set_id(42);
    note->set_text(request->text());
    return grpc::Status::OK;
  }
  int notes_created() const { return notes_created_.load(); }

 private:
  std::atomic<int> notes_created_{0};
};

// Records the status each call sends as seen at its position in the interceptor chain.
class StatusRecorder {
 public:
  void Add(grpc::StatusCode code) {
    absl::MutexLock lock(&mu_);
    codes_.push_back(code);
  }
  std::vector<grpc::StatusCode> codes() const {
    absl::MutexLock lock(&mu_);
    return codes_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<grpc::StatusCode> codes_;
};

class RecordingInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit RecordingInterceptor(StatusRecorder* recorder) : recorder_(recorder) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      recorder_->Add(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  StatusRecorder* recorder_;
};

class RecordingFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RecordingFactory(StatusRecorder* recorder) : recorder_(recorder) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo*) override {
    return new RecordingInterceptor(recorder_);
  }

 private:
  StatusRecorder* recorder_;
};

MethodRoles DefaultRoles() {
  MethodRoles roles;
  roles.Allow(kEcho, {Role::kStaff, Role::kAdmin})
      .Allow(kAdminEcho, {Role::kAdmin})
      .Allow(kCreateNote, {Role::kStaff});
  return roles;
}

// A server with the auth interceptor between two status recorders.
class TestServer {
 public:
  TestServer(MethodRoles roles, FakeClock* clock) {
    AuthConfig config;
    config.hs256_secret = kSecret;
    config.issuer = "anken";
    config.audience = "anken";
    auto auth = Authenticator::Create(config, *clock);
    EXPECT_TRUE(auth.ok()) << auth.status();
    grpc::EnableDefaultHealthCheckService(true);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> chain;
    chain.push_back(std::make_unique<RecordingFactory>(&before_));
    chain.push_back(MakeAuthInterceptorFactory(std::make_shared<const Authenticator>(*auth),
                                               std::make_shared<const MethodRoles>(roles)));
    chain.push_back(std::make_unique<RecordingFactory>(&after_));
    builder.experimental().SetInterceptorCreators(std::move(chain));
    server_ = builder.BuildAndStart();
    EXPECT_NE(server_, nullptr);
    EXPECT_GT(port_, 0);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port_),
                                   grpc::InsecureChannelCredentials());
    stub_ = pb::EchoService::NewStub(channel_);
  }
  ~TestServer() { Shutdown(); }

  void Shutdown() {
    if (server_ != nullptr) {
      server_->Shutdown(std::chrono::system_clock::now());
      server_->Wait();
      server_.reset();
    }
  }

  pb::EchoService::Stub& stub() { return *stub_; }
  grpc::Channel& channel() { return *channel_; }
  std::shared_ptr<grpc::Channel> channel_ptr() { return channel_; }
  EchoImpl& service() { return service_; }
  const StatusRecorder& before() const { return before_; }
  const StatusRecorder& after() const { return after_; }

 private:
  EchoImpl service_;
  StatusRecorder before_;
  StatusRecorder after_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<pb::EchoService::Stub> stub_;
};

void Prepare(grpc::ClientContext* ctx, const std::string& token) {
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
}

::testing::AssertionResult Failed(const grpc::Status& status, grpc::StatusCode code,
                                  absl::string_view reason) {
  if (status.error_code() != code) {
    return ::testing::AssertionFailure()
           << "code " << status.error_code() << " (" << status.error_message() << "), want "
           << code;
  }
  std::string got = ErrorReason(FromGrpcStatus(status));
  if (got != reason) {
    return ::testing::AssertionFailure() << "reason " << got << ", want " << reason;
  }
  return ::testing::AssertionSuccess();
}

class AuthInterceptorTest : public ::testing::Test {
 protected:
  std::string Token(Role role, const std::string& sub, const std::string& partner_id = "",
                    const std::string& secret = kSecret) {
    MintOptions o;
    o.subject = sub;
    o.role = role;
    o.partner_id = partner_id;
    o.hs256_secret = secret;
    o.clock = &clock_;
    auto t = MintToken(o);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? *t : std::string();
  }

  grpc::Status Echo(TestServer& server, const std::string& token, pb::EchoResponse* response,
                    const char* message = "hi") {
    grpc::ClientContext ctx;
    Prepare(&ctx, token);
    pb::EchoRequest request;
    request.set_message(message);
    return server.stub().Echo(&ctx, request, response);
  }

  FakeClock clock_;
};

TEST_F(AuthInterceptorTest, NoTokenIsUnauthenticated) {
  TestServer server(DefaultRoles(), &clock_);
  pb::EchoResponse response;
  grpc::Status s = Echo(server, "", &response);
  EXPECT_TRUE(Failed(s, grpc::StatusCode::UNAUTHENTICATED, kReasonTokenMissing));
  EXPECT_EQ(response.subject(), "");
}

TEST_F(AuthInterceptorTest, BadSignatureIsUnauthenticated) {
  TestServer server(DefaultRoles(), &clock_);
  pb::EchoResponse response;
  grpc::Status s = Echo(server, Token(Role::kAdmin, "mallory", "",
                                      "not-the-secret-not-the-secret-not-the-secret"),
                        &response);
  EXPECT_TRUE(Failed(s, grpc::StatusCode::UNAUTHENTICATED, kReasonTokenInvalid));
  EXPECT_EQ(response.subject(), "");
}

TEST_F(AuthInterceptorTest, ExpiredTokenIsUnauthenticated) {
  TestServer server(DefaultRoles(), &clock_);
  const std::string token = Token(Role::kStaff, "alice");
  pb::EchoResponse response;
  ASSERT_TRUE(Echo(server, token, &response).ok());
  clock_.Advance(absl::Hours(2));  // ttl is 1 h
  pb::EchoResponse later;
  EXPECT_TRUE(Failed(Echo(server, token, &later), grpc::StatusCode::UNAUTHENTICATED,
                     kReasonTokenExpired));
}

TEST_F(AuthInterceptorTest, GoodTokenEchoesTheCaller) {
  TestServer server(DefaultRoles(), &clock_);
  pb::EchoResponse response;
  grpc::Status s = Echo(server, Token(Role::kStaff, "alice"), &response, "hello");
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.message(), "hello");
  EXPECT_EQ(response.subject(), "alice");
  EXPECT_EQ(response.role(), "staff");

  // info->method() is known when the metadata arrives: the same admin token is judged per
  // method, and the admin-only method works for it.
  grpc::ClientContext ctx;
  Prepare(&ctx, Token(Role::kAdmin, "root"));
  pb::EchoRequest request;
  request.set_message("x");
  pb::EchoResponse admin;
  ASSERT_TRUE(server.stub().AdminEcho(&ctx, request, &admin).ok());
  EXPECT_EQ(admin.message(), "admin:x");
  EXPECT_EQ(admin.subject(), "root");
  EXPECT_EQ(admin.role(), "admin");
}

TEST_F(AuthInterceptorTest, WrongRoleIsPermissionDenied) {
  TestServer server(DefaultRoles(), &clock_);
  grpc::ClientContext ctx;
  Prepare(&ctx, Token(Role::kStaff, "alice"));
  pb::EchoRequest request;
  pb::EchoResponse response;
  EXPECT_TRUE(Failed(server.stub().AdminEcho(&ctx, request, &response),
                     grpc::StatusCode::PERMISSION_DENIED, kReasonRoleNotAllowed));
  EXPECT_EQ(response.subject(), "");

  pb::EchoResponse partner;
  EXPECT_TRUE(Failed(Echo(server, Token(Role::kPartner, "shop", "P1"), &partner),
                     grpc::StatusCode::PERMISSION_DENIED, kReasonRoleNotAllowed));
}

TEST_F(AuthInterceptorTest, UndeclaredMethodIsDeniedEvenToAdmin) {
  MethodRoles roles;
  roles.Allow(kEcho, {Role::kStaff});
  TestServer server(roles, &clock_);
  grpc::ClientContext ctx;
  Prepare(&ctx, Token(Role::kAdmin, "root"));
  pb::EchoRequest request;
  pb::EchoResponse response;
  EXPECT_TRUE(Failed(server.stub().AdminEcho(&ctx, request, &response),
                     grpc::StatusCode::PERMISSION_DENIED, kReasonMethodNotDeclared));
}

TEST_F(AuthInterceptorTest, SafetyNetCoversAHandlerThatForgotToCheck) {
  TestServer server(DefaultRoles(), &clock_);
  auto create = [&](const std::string& token, pb::Note* note) {
    grpc::ClientContext ctx;
    Prepare(&ctx, token);
    pb::CreateNoteRequest request;
    request.set_text("secret note");
    return server.stub().CreateNote(&ctx, request, note);
  };
  pb::Note anonymous;
  EXPECT_TRUE(Failed(create("", &anonymous), grpc::StatusCode::UNAUTHENTICATED,
                     kReasonTokenMissing));
  // The handler's answer did not travel: the response stays empty.
  EXPECT_EQ(anonymous.id(), 0);
  EXPECT_EQ(anonymous.text(), "");

  pb::Note partner;
  EXPECT_TRUE(Failed(create(Token(Role::kPartner, "shop", "P1"), &partner),
                     grpc::StatusCode::PERMISSION_DENIED, kReasonRoleNotAllowed));
  EXPECT_EQ(partner.text(), "");

  // ... but the forgetful handler did run (why handlers must check): side effects happen.
  EXPECT_EQ(server.service().notes_created(), 2);

  pb::Note staff;
  ASSERT_TRUE(create(Token(Role::kStaff, "alice"), &staff).ok());
  EXPECT_EQ(staff.id(), 42);
  EXPECT_EQ(staff.text(), "secret note");
}

TEST_F(AuthInterceptorTest, OpenMethodsNeedNoTokenAndCallerOfStillTellsTheTruth) {
  MethodRoles roles;
  roles.Open(kCreateNote).Open(kEcho).Allow(kAdminEcho, {Role::kAdmin});
  TestServer server(roles, &clock_);
  // Open and unchecked: served without a token, and with a bad one.
  for (const std::string& token : {std::string(), std::string("not-a-jwt")}) {
    grpc::ClientContext ctx;
    Prepare(&ctx, token);
    pb::CreateNoteRequest request;
    request.set_text("t");
    pb::Note note;
    ASSERT_TRUE(server.stub().CreateNote(&ctx, request, &note).ok());
    EXPECT_EQ(note.id(), 42);
  }
  // Open, and the handler asks for the caller: no token means no Principal.
  pb::EchoResponse anonymous;
  EXPECT_TRUE(Failed(Echo(server, "", &anonymous), grpc::StatusCode::UNAUTHENTICATED,
                     kReasonTokenMissing));
  pb::EchoResponse with_token;
  ASSERT_TRUE(Echo(server, Token(Role::kPartner, "shop", "P7"), &with_token).ok());
  EXPECT_EQ(with_token.subject(), "shop");
  EXPECT_EQ(with_token.role(), "partner");
}

TEST_F(AuthInterceptorTest, TwoAuthorizationHeadersAreRefused) {
  TestServer server(DefaultRoles(), &clock_);
  grpc::ClientContext ctx;
  Prepare(&ctx, Token(Role::kStaff, "alice"));
  ctx.AddMetadata("authorization", "Bearer " + Token(Role::kAdmin, "root"));
  pb::EchoRequest request;
  pb::EchoResponse response;
  EXPECT_TRUE(Failed(server.stub().Echo(&ctx, request, &response),
                     grpc::StatusCode::UNAUTHENTICATED, kReasonTokenMalformed));
}

TEST_F(AuthInterceptorTest, HealthCheckIsOpenWithoutAToken) {
  TestServer server(DefaultRoles(), &clock_);
  grpc::GenericStub generic(server.channel_ptr());
  for (const std::string& token : {std::string(), std::string("garbage")}) {
    grpc::ClientContext ctx;
    Prepare(&ctx, token);
    grpc::CompletionQueue cq;
    grpc::ByteBuffer request;  // HealthCheckRequest{} (service "" = the server) is empty
    grpc::Slice empty;
    request = grpc::ByteBuffer(&empty, 1);
    auto call = generic.PrepareUnaryCall(&ctx, "/grpc.health.v1.Health/Check", request, &cq);
    call->StartCall();
    grpc::ByteBuffer response;
    grpc::Status status;
    int tag = 1;
    call->Finish(&response, &status, &tag);
    void* got = nullptr;
    bool ok = false;
    ASSERT_TRUE(cq.Next(&got, &ok));
    ASSERT_EQ(got, &tag);
    ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
    std::vector<grpc::Slice> slices;
    ASSERT_TRUE(response.Dump(&slices).ok());
    std::string bytes;
    for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    EXPECT_EQ(bytes, std::string("\x08\x01", 2));  // HealthCheckResponse{status: SERVING}
    cq.Shutdown();
    while (cq.Next(&got, &ok)) {
    }
  }
}

TEST_F(AuthInterceptorTest, InterceptorsAfterAuthSeeTheFinalStatus) {
  // On the server, send hooks run in registration order: an interceptor registered before
  // auth sees the handler's own status, one registered after sees the auth failure. A call
  // logger must therefore come after auth.
  TestServer server(DefaultRoles(), &clock_);
  grpc::ClientContext ctx;
  Prepare(&ctx, "");
  pb::CreateNoteRequest request;
  pb::Note note;
  ASSERT_EQ(server.stub().CreateNote(&ctx, request, &note).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  server.Shutdown();  // every call has finished and its interceptors are gone
  EXPECT_EQ(server.before().codes(), std::vector<grpc::StatusCode>{grpc::StatusCode::OK});
  EXPECT_EQ(server.after().codes(),
            std::vector<grpc::StatusCode>{grpc::StatusCode::UNAUTHENTICATED});
}

TEST_F(AuthInterceptorTest, OutcomesAreForgottenWhenCallsEnd) {
  const size_t before = TrackedCallsForTesting();
  {
    TestServer server(DefaultRoles(), &clock_);
    for (int i = 0; i < 5; ++i) {
      pb::EchoResponse response;
      (void)Echo(server, i % 2 == 0 ? Token(Role::kStaff, "alice") : "", &response);
    }
    server.Shutdown();  // joins the server's threads: every call object is destroyed
  }
  EXPECT_EQ(TrackedCallsForTesting(), before);
}

TEST(CallerOfTest, WithoutTheInterceptorItFailsClosed) {
  grpc::ServerContext ctx;
  auto caller = CallerOf(&ctx);
  ASSERT_FALSE(caller.ok());
  EXPECT_EQ(caller.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(ErrorReason(caller.status()), "AUTH_NOT_CONFIGURED");
}

}  // namespace
}  // namespace anken::auth
