// anken-bench-echo: the yardsticks for the framework's own cost. It serves
// anken.testing.v1.EchoService on the same common/ bootstrap as every service — ServiceHost
// (health, reflection, limits, keepalive) with the request check, auth, metrics and call-log
// interceptors in ServiceMain's order, and a handler that authorizes like every real handler — but with no
// database, so what it costs is what the framework costs. --bare serves the same handler with
// every interceptor off (no authorization: nothing would record the caller).
//
//   ANKEN_JWT_SECRET=... anken-bench-echo --port=50090 [--bare] [--metrics_port=0]
//
// Serves until SIGTERM or SIGINT; exit 0 on a clean stop, 1 when it cannot start, 2 on bad
// configuration.

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "anken/testing/v1/echo.grpc.pb.h"
#include "common/auth/auth.h"
#include "common/auth/auth_interceptor.h"
#include "common/log/log.h"
#include "common/metrics/metrics.h"
#include "common/server/call_log_interceptor.h"
#include "common/server/host.h"

ABSL_FLAG(int, port, 0, "gRPC port on 127.0.0.1 (0: any free port, logged)");
ABSL_FLAG(int, metrics_port, 0, "Prometheus port (0: any free port)");
ABSL_FLAG(bool, bare, false, "no interceptors: the bare gRPC server");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warn or error");

namespace anken::bench {
namespace {

using testing::v1::EchoRequest;
using testing::v1::EchoResponse;
using testing::v1::EchoService;

constexpr char kService[] = "anken.testing.v1.EchoService";

class InstrumentedEcho final : public EchoService::Service {
 public:
  grpc::Status Echo(grpc::ServerContext* ctx, const EchoRequest* req,
                    EchoResponse* resp) override {
    AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
    resp->set_message(req->message());
    resp->set_subject(caller.subject);
    resp->set_role(std::string(auth::RoleName(caller.role)));
    return grpc::Status::OK;
  }
  grpc::Status AdminEcho(grpc::ServerContext* ctx, const EchoRequest* req,
                         EchoResponse* resp) override {
    return Echo(ctx, req, resp);
  }
};

class BareEcho final : public EchoService::Service {
 public:
  grpc::Status Echo(grpc::ServerContext*, const EchoRequest* req, EchoResponse* resp) override {
    resp->set_message(req->message());
    return grpc::Status::OK;
  }
};

int Main(int argc, char** argv) {
  server::PrepareServingProcess();  // as ServiceMain does, for both variants
  server::BlockShutdownSignals();
  absl::ParseCommandLine(argc, argv);
  const bool bare = absl::GetFlag(FLAGS_bare);
  log::Init(bare ? "bench-echo-bare" : "bench-echo", log::ParseLevel(absl::GetFlag(FLAGS_log_level)));

  server::HostOptions host_options;
  host_options.service_name = "bench-echo";
  host_options.address = absl::StrCat("127.0.0.1:", absl::GetFlag(FLAGS_port));
  host_options.request_check = !bare;
  server::ServiceHost host(host_options);

  std::unique_ptr<EchoService::Service> service;
  std::unique_ptr<metrics::Metrics> metrics;
  if (bare) {
    service = std::make_unique<BareEcho>();
  } else {
    const char* secret = std::getenv("ANKEN_JWT_SECRET");
    auth::AuthConfig config;
    config.hs256_secret = secret != nullptr ? secret : "";
    config.issuer = "anken";
    config.audience = "anken";
    absl::StatusOr<auth::Authenticator> authenticator = auth::Authenticator::Create(config);
    if (!authenticator.ok()) {
      log::Error("invalid configuration (ANKEN_JWT_SECRET)")
          .Str("error", authenticator.status().ToString());
      return 2;
    }
    metrics::MetricsOptions metrics_options;
    metrics_options.host = "127.0.0.1";
    metrics_options.port = absl::GetFlag(FLAGS_metrics_port);
    metrics_options.service = "bench-echo";
    absl::StatusOr<std::unique_ptr<metrics::Metrics>> m = metrics::Metrics::Create(metrics_options);
    if (!m.ok()) {
      log::Error("cannot start metrics").Str("error", m.status().ToString());
      return 1;
    }
    metrics = std::move(*m);
    auth::MethodRoles roles;
    roles.Allow(auth::FullMethodName(kService, "Echo"),
                {auth::Role::kAdmin, auth::Role::kStaff, auth::Role::kAccounting,
                 auth::Role::kService})
        .Allow(auth::FullMethodName(kService, "CreateNote"), {auth::Role::kAdmin})
        .Allow(auth::FullMethodName(kService, "AdminEcho"), {auth::Role::kAdmin});
    // ServiceMain's order: auth first (it may replace the status), then metrics, call log.
    host.AddInterceptorFactory(auth::MakeAuthInterceptorFactory(
        std::make_shared<const auth::Authenticator>(std::move(*authenticator)),
        std::make_shared<const auth::MethodRoles>(std::move(roles))));
    host.AddInterceptorFactory(metrics->NewServerInterceptorFactory());
    host.AddInterceptorFactory(server::MakeCallLogInterceptorFactory());
    service = std::make_unique<InstrumentedEcho>();
  }
  host.AddService(service.get());
  if (absl::Status s = host.Start(); !s.ok()) {
    log::Error("cannot start").Str("error", s.ToString());
    return 1;
  }
  const int sig = server::WaitForShutdownSignal();
  log::Info("signal received").Int("signal", sig);
  host.Shutdown();
  host.Wait();
  return 0;
}

}  // namespace
}  // namespace anken::bench

int main(int argc, char** argv) { return anken::bench::Main(argc, argv); }
