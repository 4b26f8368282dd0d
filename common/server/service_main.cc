#include "common/server/service_main.h"

#include <unistd.h>

#include <cstring>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/auth/auth_interceptor.h"
#include "common/db/migrate.h"
#include "common/log/log.h"
#include "common/metrics/metrics.h"
#include "common/server/call_log_interceptor.h"
#include "common/server/host.h"

namespace anken::server {
namespace {

constexpr int kExitRuntime = 1;
constexpr int kExitUsage = 2;

std::string ExecutableDir() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return ".";
  std::string path(buf, static_cast<size_t>(n));
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

}  // namespace

namespace {

int Fail(int code, absl::string_view what, const absl::Status& status) {
  log::Error(what).Str("error", status.ToString());
  return code;
}

}  // namespace

std::string MigrationsDir(const Env& env) {
  auto dir = env.Get("ANKEN_MIGRATIONS_DIR");
  if (dir.has_value() && !dir->empty()) return *dir;
  return ExecutableDir() + "/migrations";
}

int ServiceMain(int argc, char** argv, ServiceDefinition def) {
  PrepareServingProcess();
  // Before any thread exists, so that only WaitForShutdownSignal() sees SIGTERM/SIGINT.
  BlockShutdownSignals();

  enum class Mode { kServe, kMigrate, kCheckConfig } mode = Mode::kServe;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--migrate") == 0) {
      mode = Mode::kMigrate;
    } else if (std::strcmp(argv[i], "--check-config") == 0) {
      mode = Mode::kCheckConfig;
    } else {
      std::cerr << "usage: anken-" << def.name << " [--migrate | --check-config]\n"
                << "Configuration comes from ANKEN_* environment variables (see README.md).\n";
      return kExitUsage;
    }
  }

  const Env env = Env::Process();
  log::Init(def.name, log::Level::kInfo);
  absl::StatusOr<CommonConfig> config =
      LoadCommonConfig(env, def.name, def.default_grpc_port, def.default_metrics_port);
  if (!config.ok()) return Fail(kExitUsage, "invalid configuration", config.status());
  log::Init(def.name, log::ParseLevel(config->log_level));
  absl::StatusOr<auth::AuthConfig> auth_config = auth::AuthConfigFromCommon(*config);
  if (!auth_config.ok()) return Fail(kExitUsage, "invalid configuration", auth_config.status());
  if (mode == Mode::kCheckConfig) {
    log::Info("configuration is valid");
    return 0;
  }

  db::PoolOptions pool_options;
  pool_options.url = config->database_url;
  pool_options.size = config->db_pool_size;
  pool_options.acquire_timeout = config->db_acquire_timeout;
  pool_options.statement_timeout = config->db_statement_timeout;
  db::Pool pool(pool_options);

  if (mode == Mode::kMigrate) {
    const std::string dir = MigrationsDir(env);
    absl::Status s = db::Migrate(pool, def.name, dir);
    if (!s.ok()) return Fail(kExitRuntime, "migration failed", s);
    log::Info("migrations applied").Str("dir", dir);
    return 0;
  }

  absl::StatusOr<auth::Authenticator> authenticator =
      auth::Authenticator::Create(*auth_config, SystemClock());
  if (!authenticator.ok()) return Fail(kExitUsage, "invalid configuration", authenticator.status());

  metrics::MetricsOptions metrics_options;
  metrics_options.host = config->listen_host;
  metrics_options.port = config->metrics_port;
  metrics_options.service = def.name;
  absl::StatusOr<std::unique_ptr<metrics::Metrics>> metrics = metrics::Metrics::Create(metrics_options);
  if (!metrics.ok()) return Fail(kExitRuntime, "cannot start metrics", metrics.status());
  log::Info("metrics listening").Int("port", (*metrics)->port());
  auto pool_sampler = (*metrics)->SamplePoolOnScrape([&pool] {
    db::PoolStats s = pool.Stats();
    return metrics::PoolSample{s.size, s.idle, s.in_use, s.waiters, s.acquire_timeouts_total,
                               s.reconnects_total};
  });

  api::PageTokenCodec page_tokens(config->page_token_secret);
  absl::StatusOr<std::unique_ptr<PeerAuth>> peer_auth = PeerAuth::Create(*config, env, SystemClock());
  if (!peer_auth.ok()) return Fail(kExitUsage, "invalid configuration", peer_auth.status());
  Runtime runtime{env, *config, pool, SystemClock(), page_tokens, **peer_auth};
  absl::StatusOr<std::vector<RegisteredService>> services = def.make_services(runtime);
  if (!services.ok()) return Fail(kExitRuntime, "cannot build services", services.status());

  HostOptions host_options;
  host_options.service_name = def.name;
  host_options.address = absl::StrCat(config->listen_host, ":", config->grpc_port);
  host_options.max_message_bytes = config->max_message_bytes;
  host_options.keepalive_time = config->keepalive_time;
  host_options.shutdown_grace = config->shutdown_grace;
  host_options.health_interval = config->health_interval;
  ServiceHost host(host_options);
  for (auto& s : *services) {
    if (s.descriptor == nullptr) {
      return Fail(kExitRuntime, "cannot build services",
                  absl::InternalError("service descriptor not found"));
    }
    // Refuse to serve a method nobody decided the roles of.
    std::vector<std::string> undeclared = def.roles.UndeclaredMethods(*s.descriptor);
    if (!undeclared.empty()) {
      return Fail(kExitRuntime, "methods missing from the role table",
                  absl::FailedPreconditionError(absl::StrJoin(undeclared, ", ")));
    }
    host.AddService(s.service.get());
  }
  auto roles = std::make_shared<const auth::MethodRoles>(std::move(def.roles));
  auto shared_auth = std::make_shared<const auth::Authenticator>(std::move(*authenticator));
  // Order matters: interceptors see the outgoing status in registration order, and auth may
  // replace it (rejected calls), so metrics and the call log come after it.
  host.AddInterceptorFactory(auth::MakeAuthInterceptorFactory(shared_auth, roles));
  host.AddInterceptorFactory((*metrics)->NewServerInterceptorFactory());
  host.AddInterceptorFactory(MakeCallLogInterceptorFactory());
  host.SetHealthProbe([&pool] { return pool.Ping(); });
  if (absl::Status s = host.Start(); !s.ok()) return Fail(kExitRuntime, "cannot start", s);

  int sig = WaitForShutdownSignal();
  log::Info("signal received").Int("signal", sig);
  host.Shutdown();
  host.Wait();
  return 0;
}

}  // namespace anken::server
