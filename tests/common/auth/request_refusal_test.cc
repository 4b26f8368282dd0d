// CallerOf() reports the server's request check (common/server/request_check.h): on a real
// in-process ServiceHost (port 0, no Postgres) with the auth interceptor, a NUL in any string
// field stops the handler at AUTHORIZE_OR_RETURN with INVALID_ARGUMENT naming the field, a
// request protobuf cannot parse (invalid UTF-8, a lone surrogate, cut-off bytes) is
// INVALID_ARGUMENT instead of gRPC's INTERNAL — also for the interceptors that log and count —
// an unauthenticated caller still learns only UNAUTHENTICATED, a client cannot forge a
// refusal, and a status quoting a huge value is cut so that it still reaches the client.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "anken/testing/v1/echo.grpc.pb.h"
#include "common/auth/auth.h"
#include "common/auth/auth_interceptor.h"
#include "common/server/host.h"
#include "common/server/request_check.h"
#include "common/status/errors.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/impl/codegen/client_unary_call.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/byte_buffer.h"

namespace anken::auth {
namespace {

namespace pb = ::anken::testing::v1;

constexpr char kSecret[] = "0123456789abcdef0123456789abcdef-test";
constexpr char kEcho[] = "/anken.testing.v1.EchoService/Echo";
constexpr char kCreateNote[] = "/anken.testing.v1.EchoService/CreateNote";

class EchoImpl final : public pb::EchoService::Service {
 public:
  grpc::Status Echo(grpc::ServerContext* context, const pb::EchoRequest* request,
                    pb::EchoResponse* response) override {
    AUTHORIZE_OR_RETURN(const Principal caller, context);
    bodies_.fetch_add(1);
    response->set_message(request->message());
    return grpc::Status::OK;
  }
  grpc::Status CreateNote(grpc::ServerContext* context, const pb::CreateNoteRequest* request,
                          pb::Note* note) override {
    AUTHORIZE_OR_RETURN(const Principal caller, context);
    bodies_.fetch_add(1);
    // Quotes the value back, as a careless handler might.
    if (request->text().size() > 1000) {
      return ToGrpcStatus(InvalidField("text", "is too long: " + request->text()));
    }
    note->set_id(1);
    note->set_text(request->text());
    return grpc::Status::OK;
  }
  grpc::Status AdminEcho(grpc::ServerContext* context, const pb::EchoRequest*,
                         pb::EchoResponse*) override {
    AUTHORIZE_OR_RETURN(const Principal caller, context);
    return grpc::Status::OK;
  }
  int bodies() const { return bodies_.load(); }

 private:
  std::atomic<int> bodies_{0};
};

// The status each call sends, as an interceptor after auth (metrics, the call log) sees it.
class Recorder final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo*) override {
    return new Hook(this);
  }
  std::vector<grpc::StatusCode> codes() const {
    absl::MutexLock lock(&mu_);
    return codes_;
  }

 private:
  class Hook final : public grpc::experimental::Interceptor {
   public:
    explicit Hook(Recorder* r) : r_(r) {}
    void Intercept(grpc::experimental::InterceptorBatchMethods* m) override {
      if (m->QueryInterceptionHookPoint(
              grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
        absl::MutexLock lock(&r_->mu_);
        r_->codes_.push_back(m->GetSendStatus().error_code());
      }
      m->Proceed();
    }

   private:
    Recorder* r_;
  };
  mutable absl::Mutex mu_;
  std::vector<grpc::StatusCode> codes_;
};

class RequestRefusalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AuthConfig config;
    config.hs256_secret = kSecret;
    config.issuer = "anken";
    config.audience = "anken";
    absl::StatusOr<Authenticator> auth = Authenticator::Create(config);
    ASSERT_TRUE(auth.ok()) << auth.status();
    MethodRoles roles;
    roles.Allow(kEcho, {Role::kStaff}).Allow(kCreateNote, {Role::kStaff});
    server::HostOptions options;
    options.service_name = "request-refusal-test";
    host_ = std::make_unique<server::ServiceHost>(options);
    host_->AddService(&service_);
    host_->AddInterceptorFactory(
        MakeAuthInterceptorFactory(std::make_shared<const Authenticator>(*std::move(auth)),
                                   std::make_shared<const MethodRoles>(std::move(roles))));
    auto recorder = std::make_unique<Recorder>();
    recorder_ = recorder.get();
    host_->AddInterceptorFactory(std::move(recorder));
    ASSERT_TRUE(host_->Start().ok());
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(host_->port()),
                                   grpc::InsecureChannelCredentials());
    MintOptions o;
    o.subject = "staff-1";
    o.role = Role::kStaff;
    o.hs256_secret = kSecret;
    absl::StatusOr<std::string> t = MintToken(o);
    ASSERT_TRUE(t.ok()) << t.status();
    token_ = *t;
  }
  void TearDown() override {
    host_->Shutdown();
    host_->Wait();
  }

  // `request` as raw bytes to `method`; the answer's status.
  grpc::Status Raw(const char* method, const std::string& request, bool with_token = true,
                   const std::string& forged_refusal = "") {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (with_token) ctx.AddMetadata("authorization", "Bearer " + token_);
    if (!forged_refusal.empty()) ctx.AddMetadata(server::kRefusedFieldHeader, forged_refusal);
    grpc::internal::RpcMethod rpc(method, grpc::internal::RpcMethod::NORMAL_RPC);
    grpc::Slice slice(request);
    grpc::ByteBuffer req(&slice, 1);
    grpc::ByteBuffer resp;
    return grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
        channel_.get(), rpc, &ctx, req, &resp);
  }

  // A CreateNote request whose text is `text`, serialized by hand: protobuf would complain
  // about serializing invalid UTF-8.
  static std::string NoteBytes(const std::string& request_id, const std::string& text) {
    std::string out;
    out += '\x0a';
    out += static_cast<char>(request_id.size());
    out += request_id;
    out += '\x12';
    out += static_cast<char>(text.size());
    out += text;
    return out;
  }

  EchoImpl service_;
  Recorder* recorder_ = nullptr;
  std::unique_ptr<server::ServiceHost> host_;
  std::shared_ptr<grpc::Channel> channel_;
  std::string token_;
};

std::string Reason(const grpc::Status& s) { return ErrorReason(FromGrpcStatus(s)); }

std::vector<std::string> Fields(const grpc::Status& s) {
  std::vector<std::string> out;
  for (const FieldViolation& v : FieldViolations(FromGrpcStatus(s))) out.push_back(v.field);
  return out;
}

TEST_F(RequestRefusalTest, ValidTextReachesTheHandler) {
  grpc::Status s = Raw(kCreateNote, NoteBytes("r-1", "株式会社アンケン\t備考"));
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(service_.bodies(), 1);
}

TEST_F(RequestRefusalTest, NulInAnyStringFieldIsInvalidArgumentNamingTheField) {
  grpc::Status text = Raw(kCreateNote, NoteBytes("r-1", std::string("a\0b", 3)));
  EXPECT_EQ(text.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << text.error_message();
  EXPECT_EQ(Reason(text), "INVALID_CHARACTER");
  EXPECT_EQ(Fields(text), std::vector<std::string>{"text"});
  grpc::Status id = Raw(kCreateNote, NoteBytes(std::string("r\0", 2), "ok"));
  EXPECT_EQ(id.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Fields(id), std::vector<std::string>{"request_id"});
  EXPECT_EQ(service_.bodies(), 0) << "the handler went past AUTHORIZE_OR_RETURN";
}

TEST_F(RequestRefusalTest, UnparsableRequestsAreInvalidArgumentNotInternal) {
  for (const std::string& bad : {std::string("\xC3\x28"), std::string("\xED\xA0\x80"),
                                 std::string("\xED\xBF\xBF"), std::string("\xE3\x81")}) {
    grpc::Status s = Raw(kCreateNote, NoteBytes("r-1", bad));
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
    EXPECT_EQ(Reason(s), "MALFORMED_REQUEST");
  }
  grpc::Status cut = Raw(kEcho, std::string("\x0a\x7f"
                                            "abc",
                                            5));  // length beyond the end
  EXPECT_EQ(cut.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << cut.error_message();
  EXPECT_EQ(service_.bodies(), 0);
  // What the call log and the metrics see after auth: no INTERNAL.
  for (grpc::StatusCode c : recorder_->codes()) EXPECT_EQ(c, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(recorder_->codes().size(), 5u);
}

TEST_F(RequestRefusalTest, AnUnauthenticatedCallerLearnsOnlyThat) {
  grpc::Status nul = Raw(kCreateNote, NoteBytes("r-1", std::string("a\0b", 3)), false);
  EXPECT_EQ(nul.error_code(), grpc::StatusCode::UNAUTHENTICATED) << nul.error_message();
  grpc::Status bad = Raw(kCreateNote, NoteBytes("r-1", "\xED\xA0\x80"), false);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::UNAUTHENTICATED) << bad.error_message();
  EXPECT_EQ(service_.bodies(), 0);
}

TEST_F(RequestRefusalTest, AStatusQuotingAHugeValueIsCutAndStillArrives) {
  std::string huge;
  for (int i = 0; i < 20000; ++i) huge += "あ";
  pb::CreateNoteRequest request;
  request.set_request_id("r-1");
  request.set_text(huge);
  grpc::Status s = Raw(kCreateNote, request.SerializeAsString());
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message().size();
  EXPECT_LE(s.error_message().size(), 1024u + 3);
  EXPECT_TRUE(absl::StartsWith(s.error_message(), "text: is too long: あああ"));
  EXPECT_TRUE(absl::EndsWith(s.error_message(), "あ\u2026")) << "cut inside a character";
  const std::vector<FieldViolation> v = FieldViolations(FromGrpcStatus(s));
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].field, "text");
  EXPECT_LE(v[0].description.size(), 256u + 3);
}

TEST_F(RequestRefusalTest, AClientCannotForgeARefusal) {
  grpc::Status s = Raw(kCreateNote, NoteBytes("r-1", "fine"), true, "text");
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(service_.bodies(), 1);
}

}  // namespace
}  // namespace anken::auth
