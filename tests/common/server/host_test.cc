#include "common/server/host.h"

#include <gtest/gtest.h>

#include <atomic>
#include <sstream>
#include <thread>

#include "common/log/log.h"
#include "common/server/call_log_interceptor.h"
#include "common/server/client.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/create_channel.h"
#include "tests/common/server/echo_service.h"
#include "tests/support/grpc_probe.h"

namespace anken::server {
namespace {

using anken::testing::v1::EchoRequest;
using anken::testing::v1::EchoResponse;
using anken::testing::v1::EchoService;

// Polls `cond` until it holds or 5 s pass (the health loop runs on its own timer).
template <typename F>
bool Eventually(F cond) {
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

class HostTest : public ::testing::Test {
 protected:
  void StartHost(HostOptions opts) {
    opts.service_name = "echo";
    host_ = std::make_unique<ServiceHost>(opts);
    host_->AddService(&service_);
    host_->AddInterceptorFactory(MakeCallLogInterceptorFactory());
    host_->SetHealthProbe([this] {
      return db_up_.load() ? absl::OkStatus() : absl::UnavailableError("db down");
    });
    ASSERT_TRUE(host_->Start().ok());
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", host_->port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = EchoService::NewStub(channel_);
  }

  grpc::Status Call(const EchoRequest& req, EchoResponse* resp, int timeout_ms = 5000) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
    return stub_->Echo(&ctx, req, resp);
  }

  anken::testing::PlainEchoService service_;
  std::atomic<bool> db_up_{true};
  std::unique_ptr<ServiceHost> host_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<EchoService::Stub> stub_;
};

TEST_F(HostTest, HealthFollowsTheProbe) {
  HostOptions opts;
  opts.health_interval = absl::Milliseconds(20);
  StartHost(opts);
  EXPECT_EQ(*anken::testing::HealthServing(channel_), true);
  db_up_ = false;
  EXPECT_TRUE(Eventually([&] { return !*anken::testing::HealthServing(channel_); }));
  db_up_ = true;
  EXPECT_TRUE(Eventually([&] { return *anken::testing::HealthServing(channel_); }));
}

TEST_F(HostTest, ReflectionListsServices) {
  StartHost({});
  auto names = anken::testing::ReflectionServices(channel_);
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_NE(std::find(names->begin(), names->end(), "anken.testing.v1.EchoService"), names->end());
  EXPECT_NE(std::find(names->begin(), names->end(), "grpc.health.v1.Health"), names->end());
}

TEST_F(HostTest, MessageSizeLimitEnforced) {
  HostOptions opts;
  opts.max_message_bytes = 1 << 20;
  StartHost(opts);
  EchoRequest req;
  req.set_message(std::string(2 << 20, 'x'));
  EchoResponse resp;
  EXPECT_EQ(Call(req, &resp).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  req.set_message("small");
  EXPECT_TRUE(Call(req, &resp).ok());
}

TEST_F(HostTest, ShutdownLetsCallsInFlightFinishThenRefuses) {
  HostOptions opts;
  opts.shutdown_grace = absl::Seconds(5);
  StartHost(opts);
  EchoRequest slow;
  slow.set_message("slow");
  slow.set_delay_ms(300);
  grpc::Status slow_status;
  EchoResponse slow_resp;
  std::thread t([&] { slow_status = Call(slow, &slow_resp); });
  // Let the slow call reach the handler before shutting down.
  ASSERT_TRUE(Eventually([&] { return host_->serving(); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  host_->Shutdown();
  t.join();
  EXPECT_TRUE(slow_status.ok()) << slow_status.error_message();
  EXPECT_EQ(slow_resp.message(), "slow");
  EchoResponse resp;
  EXPECT_EQ(Call(EchoRequest(), &resp, 500).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(HostTest, ShutdownCancelsCallsAfterTheGrace) {
  HostOptions opts;
  opts.shutdown_grace = absl::Milliseconds(100);
  StartHost(opts);
  EchoRequest slow;
  slow.set_delay_ms(20000);
  grpc::Status slow_status;
  EchoResponse resp;
  std::thread t([&] { slow_status = Call(slow, &resp, 30000); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto start = std::chrono::steady_clock::now();
  host_->Shutdown();
  t.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_FALSE(slow_status.ok());
}

TEST_F(HostTest, OneLogLinePerRpcWithTraceAndCode) {
  std::ostringstream out;
  log::Init("echo", log::Level::kInfo, &out);
  StartHost({});
  EchoRequest req;
  req.set_message("hi");
  EchoResponse resp;
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    ctx.AddMetadata("x-request-id", "req-123");
    ASSERT_TRUE(stub_->Echo(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
  }
  req.set_fail_with(static_cast<int>(grpc::StatusCode::NOT_FOUND));
  EXPECT_EQ(Call(req, &resp).error_code(), grpc::StatusCode::NOT_FOUND);
  host_->Shutdown();
  log::Init("anken", log::Level::kInfo, nullptr);

  std::vector<google::protobuf::Struct> rpcs;
  std::istringstream lines(out.str());
  std::string line;
  while (std::getline(lines, line)) {
    google::protobuf::Struct s;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &s).ok()) << line;
    if (s.fields().at("msg").string_value() == "rpc") rpcs.push_back(s);
  }
  ASSERT_EQ(rpcs.size(), 2u);
  const auto& ok = rpcs[0].fields();
  EXPECT_EQ(ok.at("rpc").string_value(), "/anken.testing.v1.EchoService/Echo");
  EXPECT_EQ(ok.at("code").string_value(), "OK");
  EXPECT_EQ(ok.at("trace_id").string_value(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(ok.at("request_id").string_value(), "req-123");
  EXPECT_GE(ok.at("latency_ms").number_value(), 0);
  EXPECT_EQ(rpcs[1].fields().at("code").string_value(), "NOT_FOUND");
  EXPECT_EQ(rpcs[1].fields().at("trace_id").string_value().size(), 32u);
}

TEST_F(HostTest, PeerCallsCarryTheCallersDeadlineAndTrace) {
  StartHost({});
  // The handler calls the server again through a peer channel (default service config).
  service_.set_peer(
      EchoService::NewStub(MakePeerChannel(absl::StrCat("127.0.0.1:", host_->port()))));
  grpc::ClientContext ctx;
  ctx.AddMetadata("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
  EchoRequest req;
  req.set_message("hop");
  EchoResponse resp;
  ASSERT_TRUE(stub_->Echo(&ctx, req, &resp).ok());
  // The second hop saw the same trace, and the caller's 3 s deadline (not the 30 s fallback;
  // gRPC sends deadlines as timeouts, so a few milliseconds of skew are normal).
  EXPECT_EQ(resp.trace_id(), "0af7651916cd43dd8448eb211c80319c");
  int64_t left_ms = std::stoll(resp.message());
  EXPECT_GT(left_ms, 1000);
  EXPECT_LE(left_ms, 3500);
}

TEST(HostStart, PortInUseIsUnavailable) {
  anken::testing::PlainEchoService svc;
  ServiceHost a({});
  a.AddService(&svc);
  ASSERT_TRUE(a.Start().ok());
  HostOptions opts;
  opts.address = absl::StrCat("127.0.0.1:", a.port());
  ServiceHost b(opts);
  b.AddService(&svc);
  EXPECT_EQ(b.Start().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace anken::server
