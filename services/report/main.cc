// anken-report: wiring only (configuration, pool, store, peer clients, handlers, and the
// delivery loop of the effect outbox).

#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/db/pool.h"
#include "common/log/log.h"
#include "common/server/client.h"
#include "common/server/service_main.h"
#include "services/report/effects.h"
#include "services/report/peers.h"
#include "services/report/pg_report_store.h"
#include "services/report/report_service.h"

namespace {

// Uploads of the 案件一覧ファイル up to report_xlsx.h's cap (20 MiB), and a bit beyond, must
// reach the handler, which refuses an oversized file with the partner's upload-failed text;
// the common default limit (16 MiB) would turn them into a transport error. An explicit
// ANKEN_MAX_MESSAGE_BYTES still wins.
constexpr char kDefaultMaxMessageBytes[] = "26214400";  // 25 MiB

// The delivery loop with everything it uses, owned apart from ServiceMain's Runtime (as
// billing's relay): ServiceMain has no shutdown hook, so the loop is stopped just after
// ServiceMain returns, when its pool and peer auth are already gone. Members are destroyed in
// reverse order: the loop (joining its thread) first.
struct EffectsRuntime {
  std::unique_ptr<anken::db::Pool> pool;
  std::unique_ptr<anken::report::PgReportStore> store;
  std::unique_ptr<anken::server::PeerAuth> auth;
  std::unique_ptr<anken::report::GrpcPeers> peers;
  std::unique_ptr<anken::report::EffectDelivery> delivery;
};

// This replica's name on the leases it takes.
std::string ReplicaName() {
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return absl::StrCat(host[0] != '\0' ? host : "report", "-", ::getpid());
}

}  // namespace

int main(int argc, char** argv) {
  namespace report = anken::report;
  ::setenv("ANKEN_MAX_MESSAGE_BYTES", kDefaultMaxMessageBytes, /*overwrite=*/0);
  anken::server::ServiceDefinition def;
  def.name = "report";
  def.default_grpc_port = 50054;
  def.default_metrics_port = 9454;
  def.roles = report::ReportServiceImpl::Roles();
  // Live until ServiceMain returns, after the server has stopped.
  static std::unique_ptr<report::PgReportStore> store;
  static std::unique_ptr<report::GrpcPeers> peers;
  static std::unique_ptr<EffectsRuntime> effects;
  def.make_services = [](anken::server::Runtime& rt)
      -> absl::StatusOr<std::vector<anken::server::RegisteredService>> {
    anken::ConfigReader r(rt.env);
    const std::string project_addr = r.String("ANKEN_PROJECT_ADDR", "127.0.0.1:50052");
    const std::string customer_addr = r.String("ANKEN_CUSTOMER_ADDR", "127.0.0.1:50051");
    const std::string billing_addr = r.String("ANKEN_BILLING_ADDR", "127.0.0.1:50053");
    report::EffectDeliveryOptions delivery_options;
    delivery_options.owner = ReplicaName();
    delivery_options.interval = r.Duration("ANKEN_REPORT_EFFECT_INTERVAL", absl::Seconds(5));
    if (delivery_options.interval <= absl::ZeroDuration()) {
      r.Fail("ANKEN_REPORT_EFFECT_INTERVAL", "must be positive");
    }
    if (absl::Status s = r.Finish(); !s.ok()) return s;

    store = std::make_unique<report::PgReportStore>(rt.pool);
    peers = std::make_unique<report::GrpcPeers>(
        anken::server::MakePeerChannel(project_addr), anken::server::MakePeerChannel(customer_addr),
        nullptr, rt.peer_auth);
    std::vector<anken::server::RegisteredService> out;
    out.push_back(anken::server::Register<report::v1::ReportIntakeService>(
        std::make_unique<report::ReportServiceImpl>(*store, *peers, rt.clock, rt.page_tokens)));

    auto auth = anken::server::PeerAuth::Create(rt.config, rt.env, anken::SystemClock());
    if (!auth.ok()) return auth.status();
    anken::db::PoolOptions pool_options;
    pool_options.url = rt.config.database_url;
    pool_options.size = 1;
    pool_options.acquire_timeout = rt.config.db_acquire_timeout;
    pool_options.statement_timeout = rt.config.db_statement_timeout;
    effects = std::make_unique<EffectsRuntime>();
    effects->pool = std::make_unique<anken::db::Pool>(pool_options);
    effects->store = std::make_unique<report::PgReportStore>(*effects->pool);
    effects->auth = *std::move(auth);
    effects->peers = std::make_unique<report::GrpcPeers>(
        anken::server::MakePeerChannel(project_addr), anken::server::MakePeerChannel(customer_addr),
        anken::server::MakePeerChannel(billing_addr), *effects->auth);
    effects->delivery = std::make_unique<report::EffectDelivery>(
        *effects->store, *effects->peers, anken::SystemClock(), delivery_options);
    effects->delivery->Start();
    anken::log::Info("effect delivery on")
        .Str("owner", delivery_options.owner)
        .Int("interval_ms", absl::ToInt64Milliseconds(delivery_options.interval));
    return out;
  };
  const int code = anken::server::ServiceMain(argc, argv, std::move(def));
  effects.reset();  // stops and joins the delivery loop (no-op when it never started)
  return code;
}
