// The metrics endpoint end to end: a real gRPC server with the interceptor, a real HTTP
// scrape, the exposition parsed and its values asserted, and promtool's verdict on it.

#include "common/metrics/metrics.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "anken/testing/v1/echo.grpc.pb.h"
#include "common/metrics/grpc_metrics_interceptor.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/fakes/fake_clock.h"
#include "tests/support/metrics_scrape.h"

namespace anken::metrics {
namespace {

using ::testing::HasSubstr;

using anken::testing::CommandResult;
using anken::testing::Exposition;
using anken::testing::HttpGet;
using anken::testing::Labels;
using anken::testing::PromtoolCheckMetrics;

TEST(ExpositionParserTest, ReadsLabelsEscapesAndSkipsComments) {
  Exposition e = Exposition::Parse(
      "# HELP x_total help\n# TYPE x_total counter\n"
      "x_total{a=\"1\",b=\"q\\\"uote\"} 7\nplain 2.5\nh_bucket{le=\"+Inf\"} 3\n");
  EXPECT_EQ(e.size(), 3u);
  EXPECT_EQ(e.Get("x_total", {{"a", "1"}, {"b", "q\"uote"}}), 7);
  EXPECT_EQ(e.Get("plain"), 2.5);
  EXPECT_EQ(e.Get("h_bucket", {{"le", "+Inf"}}), 3);
  EXPECT_FALSE(e.Has("x_total", {{"a", "1"}}));
}

// ---- The echo service: Echo returns the message or fails with fail_with; delay_ms moves
// the fake clock instead of sleeping, so latencies are exact. ----

class EchoServiceImpl final : public anken::testing::v1::EchoService::Service {
 public:
  explicit EchoServiceImpl(anken::testing::FakeClock* clock) : clock_(clock) {}

  grpc::Status Echo(grpc::ServerContext*, const anken::testing::v1::EchoRequest* request,
                    anken::testing::v1::EchoResponse* response) override {
    clock_->Advance(absl::Milliseconds(request->delay_ms()));
    if (request->fail_with() != 0) {
      return grpc::Status(static_cast<grpc::StatusCode>(request->fail_with()),
                          "failed as asked");
    }
    response->set_message(request->message());
    return grpc::Status::OK;
  }

 private:
  anken::testing::FakeClock* clock_;
};

class MetricsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MetricsOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.service = "echo-test";
    options.version = "1.2.3";
    absl::StatusOr<std::unique_ptr<Metrics>> metrics = Metrics::Create(options);
    ASSERT_TRUE(metrics.ok()) << metrics.status();
    metrics_ = std::move(*metrics);
    ASSERT_GT(metrics_->port(), 0);

    grpc::ServerBuilder builder;
    int grpc_port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &grpc_port);
    builder.RegisterService(&service_);
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
        interceptors;
    interceptors.push_back(metrics_->NewServerInterceptorFactory(&clock_));
    builder.experimental().SetInterceptorCreators(std::move(interceptors));
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(grpc_port, 0);
    stub_ = anken::testing::v1::EchoService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", grpc_port), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  grpc::Status Echo(const std::string& message, grpc::StatusCode fail_with, int delay_ms) {
    anken::testing::v1::EchoRequest request;
    request.set_message(message);
    request.set_fail_with(static_cast<int>(fail_with));
    request.set_delay_ms(delay_ms);
    anken::testing::v1::EchoResponse response;
    grpc::ClientContext context;
    grpc::Status status = stub_->Echo(&context, request, &response);
    if (status.ok()) {
      EXPECT_EQ(response.message(), message);
    }
    return status;
  }

  anken::testing::FakeClock clock_;
  EchoServiceImpl service_{&clock_};
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<anken::testing::v1::EchoService::Stub> stub_;
};

const Labels kEcho = {{"grpc_type", "unary"},
                      {"grpc_service", "anken.testing.v1.EchoService"},
                      {"grpc_method", "Echo"}};

Labels With(Labels labels, const std::string& key, const std::string& value) {
  labels[key] = value;
  return labels;
}

TEST_F(MetricsServerTest, RecordsRpcsAndPassesPromtool) {
  ASSERT_TRUE(Echo("one", grpc::StatusCode::OK, 30).ok());
  EXPECT_EQ(Echo("two", grpc::StatusCode::NOT_FOUND, 0).error_code(),
            grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(Echo("three", grpc::StatusCode::OK, 2000).ok());

  const std::string text = HttpGet(metrics_->port(), "/metrics");
  const Exposition e = Exposition::Parse(text);

  EXPECT_EQ(e.Get("grpc_server_started_total", kEcho), 3);
  EXPECT_EQ(e.Get("grpc_server_handled_total", With(kEcho, "grpc_code", "OK")), 2);
  EXPECT_EQ(e.Get("grpc_server_handled_total", With(kEcho, "grpc_code", "NOT_FOUND")), 1);
  EXPECT_FALSE(e.Has("grpc_server_handled_total", With(kEcho, "grpc_code", "UNKNOWN")));
  EXPECT_EQ(e.Get("grpc_server_msg_received_total", kEcho), 3);
  EXPECT_EQ(e.Get("grpc_server_msg_sent_total", kEcho), 2);  // a failed call sends none

  // Latencies 0.03 s, 0 s and 2 s, from the fake clock.
  EXPECT_EQ(e.Get("grpc_server_handling_seconds_count", kEcho), 3);
  EXPECT_NEAR(e.Get("grpc_server_handling_seconds_sum", kEcho), 2.03, 1e-9);
  const std::vector<std::pair<std::string, double>> buckets = {
      {"0.005", 1}, {"0.025", 1}, {"0.05", 2}, {"1", 2}, {"2", 2}, {"2.5", 3}, {"+Inf", 3}};
  for (const auto& [le, count] : buckets) {
    if (le == "2") {
      EXPECT_FALSE(e.Has("grpc_server_handling_seconds_bucket", With(kEcho, "le", le)));
      continue;
    }
    EXPECT_EQ(e.Get("grpc_server_handling_seconds_bucket", With(kEcho, "le", le)), count)
        << "le=" << le;
  }

  EXPECT_EQ(e.Get("anken_build_info", {{"service", "echo-test"}, {"version", "1.2.3"}}), 1);

  EXPECT_GT(e.Get("process_resident_memory_bytes"), 0);
  EXPECT_GT(e.Get("process_virtual_memory_bytes"), 0);
  EXPECT_GT(e.Get("process_open_fds"), 0);
  EXPECT_GT(e.Get("process_max_fds"), 0);
  EXPECT_GE(e.Get("process_cpu_seconds_total"), 0);
  // Started after 2023-01-01 and not in the future.
  EXPECT_GT(e.Get("process_start_time_seconds"), 1672531200);
  EXPECT_LE(e.Get("process_start_time_seconds"), absl::ToUnixSeconds(absl::Now()) + 1);

  const CommandResult check = PromtoolCheckMetrics(text);
  EXPECT_EQ(check.exit_code, 0) << check.output << "\n--- scraped ---\n" << text;
}

TEST_F(MetricsServerTest, PoolMetricsAppearWithTheValuesThePoolSets) {
  PoolMetrics pool = metrics_->CreatePoolMetrics();
  pool.size->Set(8);
  pool.idle->Set(3);
  pool.in_use->Set(5);
  pool.waiters->Set(2);
  pool.acquire_timeouts->Increment();
  pool.reconnects->Increment(2);
  // A second registration hands back the same metrics rather than new ones.
  PoolMetrics again = metrics_->CreatePoolMetrics();
  EXPECT_EQ(again.idle, pool.idle);
  EXPECT_EQ(again.acquire_timeouts, pool.acquire_timeouts);

  const std::string text = HttpGet(metrics_->port(), "/metrics");
  const Exposition e = Exposition::Parse(text);
  EXPECT_EQ(e.Get("anken_db_pool_size"), 8);
  EXPECT_EQ(e.Get("anken_db_pool_connections", {{"state", "idle"}}), 3);
  EXPECT_EQ(e.Get("anken_db_pool_connections", {{"state", "in_use"}}), 5);
  EXPECT_EQ(e.Get("anken_db_pool_waiters"), 2);
  EXPECT_EQ(e.Get("anken_db_pool_acquire_timeouts_total"), 1);
  EXPECT_EQ(e.Get("anken_db_pool_reconnects_total"), 2);

  const CommandResult check = PromtoolCheckMetrics(text);
  EXPECT_EQ(check.exit_code, 0) << check.output << "\n--- scraped ---\n" << text;
}

TEST_F(MetricsServerTest, PoolSamplerIsReadAtEachScrapeUntilUnregistered) {
  std::atomic<int> scrapes{0};
  SamplerRegistration registration = metrics_->SamplePoolOnScrape([&scrapes] {
    const int n = ++scrapes;
    PoolSample s;
    s.size = 8;
    s.idle = 8 - n;
    s.in_use = n;
    s.waiters = 10 * n;
    s.acquire_timeouts_total = 100 * n;
    s.reconnects_total = 7;
    return s;
  });

  const std::string first_text = HttpGet(metrics_->port(), "/metrics");
  const Exposition first = Exposition::Parse(first_text);
  EXPECT_EQ(first.Get("anken_db_pool_size"), 8);
  EXPECT_EQ(first.Get("anken_db_pool_connections", {{"state", "idle"}}), 7);
  EXPECT_EQ(first.Get("anken_db_pool_connections", {{"state", "in_use"}}), 1);
  EXPECT_EQ(first.Get("anken_db_pool_waiters"), 10);
  EXPECT_EQ(first.Get("anken_db_pool_acquire_timeouts_total"), 100);
  EXPECT_EQ(first.Get("anken_db_pool_reconnects_total"), 7);
  const CommandResult check = PromtoolCheckMetrics(first_text);
  EXPECT_EQ(check.exit_code, 0) << check.output << "\n--- scraped ---\n" << first_text;

  // Read again on the next scrape, not cached.
  const Exposition second = Exposition::Parse(HttpGet(metrics_->port(), "/metrics"));
  EXPECT_EQ(second.Get("anken_db_pool_connections", {{"state", "in_use"}}), 2);
  EXPECT_EQ(second.Get("anken_db_pool_acquire_timeouts_total"), 200);

  // Once unregistered the sampler is never called again (the pool may be gone).
  registration.Reset();
  const int calls = scrapes.load();
  const Exposition third = Exposition::Parse(HttpGet(metrics_->port(), "/metrics"));
  EXPECT_EQ(scrapes.load(), calls);
  EXPECT_FALSE(third.HasName("anken_db_pool_size"));
  EXPECT_TRUE(third.HasName("anken_build_info"));
}

TEST_F(MetricsServerTest, AReplacedSamplerStaysWhenTheOldRegistrationEnds) {
  SamplerRegistration old_registration = metrics_->SamplePoolOnScrape([] {
    PoolSample s;
    s.size = 1;
    return s;
  });
  SamplerRegistration new_registration = metrics_->SamplePoolOnScrape([] {
    PoolSample s;
    s.size = 2;
    return s;
  });
  old_registration.Reset();
  const Exposition e = Exposition::Parse(HttpGet(metrics_->port(), "/metrics"));
  EXPECT_EQ(e.Get("anken_db_pool_size"), 2);
}

TEST_F(MetricsServerTest, ServicesAddTheirOwnMetricsToTheRegistry) {
  prometheus::BuildCounter()
      .Name("anken_invoices_issued_total")
      .Help("Invoices issued.")
      .Register(metrics_->registry())
      .Add({})
      .Increment(4);
  const Exposition e = Exposition::Parse(HttpGet(metrics_->port(), "/metrics"));
  EXPECT_EQ(e.Get("anken_invoices_issued_total"), 4);
}

TEST(MetricsTest, PortInUseIsUnavailable) {
  MetricsOptions options;
  options.host = "127.0.0.1";
  absl::StatusOr<std::unique_ptr<Metrics>> first = Metrics::Create(options);
  ASSERT_TRUE(first.ok()) << first.status();
  options.port = (*first)->port();
  absl::StatusOr<std::unique_ptr<Metrics>> second = Metrics::Create(options);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(second.status().message()),
              HasSubstr(absl::StrCat("127.0.0.1:", options.port)));
  // The first endpoint still serves.
  EXPECT_THAT(HttpGet((*first)->port(), "/metrics"), HasSubstr("anken_build_info"));
}

TEST(MetricsTest, PortOutOfRangeIsInvalidArgument) {
  MetricsOptions options;
  options.port = 65536;
  EXPECT_EQ(Metrics::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.port = -1;
  EXPECT_EQ(Metrics::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseProcStatTest, CountsFieldsFromTheLastParenthesis) {
  // A command name with spaces and a ')' must not shift the fields.
  const std::string line =
      "4242 (my (odd) prog) S 1 4242 4242 0 -1 4194560 1000 0 0 0 "
      "150 50 0 0 20 0 4 0 98765 123456789 2500 18446744073709551615 1 1 0 0 0 0 0 0 0 0 "
      "0 0 17 1 0 0 0 0 0\n";
  absl::StatusOr<ProcStat> stat = ParseProcStat(line);
  ASSERT_TRUE(stat.ok()) << stat.status();
  EXPECT_EQ(stat->utime_ticks, 150u);
  EXPECT_EQ(stat->stime_ticks, 50u);
  EXPECT_EQ(stat->start_time_ticks, 98765u);
  EXPECT_EQ(stat->vsize_bytes, 123456789u);
  EXPECT_EQ(stat->rss_pages, 2500);
}

TEST(ParseProcStatTest, RejectsTruncatedText) {
  EXPECT_EQ(ParseProcStat("4242 (prog) S 1 2 3").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseProcStat("no parenthesis").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(GrpcNamesTest, CodeNamesAreUpperCase) {
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::OK), "OK");
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::NOT_FOUND), "NOT_FOUND");
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::UNAUTHENTICATED), "UNAUTHENTICATED");
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::DATA_LOSS), "DATA_LOSS");
  EXPECT_EQ(GrpcCodeName(static_cast<grpc::StatusCode>(99)), "UNKNOWN");
}

TEST(GrpcNamesTest, TypeNames) {
  using Type = grpc::experimental::ServerRpcInfo::Type;
  EXPECT_EQ(GrpcTypeName(Type::UNARY), "unary");
  EXPECT_EQ(GrpcTypeName(Type::CLIENT_STREAMING), "client_stream");
  EXPECT_EQ(GrpcTypeName(Type::SERVER_STREAMING), "server_stream");
  EXPECT_EQ(GrpcTypeName(Type::BIDI_STREAMING), "bidi_stream");
}

TEST(GrpcNamesTest, SplitsFullMethodNames) {
  absl::string_view service, method;
  ASSERT_TRUE(SplitFullMethodName("/anken.billing.v1.BillingService/IssueInvoice", &service,
                                  &method));
  EXPECT_EQ(service, "anken.billing.v1.BillingService");
  EXPECT_EQ(method, "IssueInvoice");
  EXPECT_FALSE(SplitFullMethodName("", &service, &method));
  EXPECT_FALSE(SplitFullMethodName("unknown", &service, &method));
  EXPECT_FALSE(SplitFullMethodName("/svc/", &service, &method));
  EXPECT_FALSE(SplitFullMethodName("//m", &service, &method));
  EXPECT_FALSE(SplitFullMethodName("/a/b/c", &service, &method));
}

}  // namespace
}  // namespace anken::metrics
