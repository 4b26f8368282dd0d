// anken-billing: wiring only (configuration, pool, store, peer clients, handlers, and the
// outbox relay to the scheduler).

#include "common/db/pool.h"
#include "common/jp/registration_number.h"
#include "common/log/log.h"
#include "common/server/client.h"
#include "common/server/service_main.h"
#include "services/billing/billing_service.h"
#include "services/billing/outbox_relay.h"
#include "services/billing/peers.h"
#include "services/billing/pg_billing_store.h"

namespace {

// The relay with everything it uses, owned apart from ServiceMain's Runtime: ServiceMain has
// no shutdown hook, so the relay is stopped just after ServiceMain returns, when its pool,
// peer auth and the server are already gone. Its own pool (one connection) and PeerAuth keep
// it off them. Members are destroyed in reverse order: the relay (joining its thread) first.
struct RelayRuntime {
  std::unique_ptr<anken::db::Pool> pool;
  std::unique_ptr<anken::billing::PgBillingStore> store;
  std::unique_ptr<anken::server::PeerAuth> auth;
  std::unique_ptr<anken::billing::OutboxRelay> relay;
};

}  // namespace

int main(int argc, char** argv) {
  namespace billing = anken::billing;
  anken::server::ServiceDefinition def;
  def.name = "billing";
  def.default_grpc_port = 50053;
  def.default_metrics_port = 9453;
  def.roles = billing::BillingServiceImpl::Roles();
  // Live until ServiceMain returns, after the server has stopped.
  static std::unique_ptr<billing::PgBillingStore> store;
  static std::unique_ptr<billing::GrpcPeers> peers;
  static std::unique_ptr<RelayRuntime> relay;
  def.make_services = [](anken::server::Runtime& rt)
      -> absl::StatusOr<std::vector<anken::server::RegisteredService>> {
    anken::ConfigReader r(rt.env);
    const std::string project_addr = r.String("ANKEN_PROJECT_ADDR", "127.0.0.1:50052");
    const std::string customer_addr = r.String("ANKEN_CUSTOMER_ADDR", "127.0.0.1:50051");
    billing::BillingServiceOptions options;
    const std::string rounding =
        r.OneOf("ANKEN_TAX_ROUNDING", "floor", {"floor", "half_up", "ceiling"});
    options.rounding = rounding == "half_up"   ? anken::tax::Rounding::kHalfUp
                       : rounding == "ceiling" ? anken::tax::Rounding::kCeiling
                                               : anken::tax::Rounding::kFloor;
    options.issuer_name = r.RequiredString("ANKEN_ISSUER_NAME");
    options.issuer_registration_number = r.RequiredString("ANKEN_ISSUER_REGISTRATION_NUMBER");
    options.issuer_address = r.String("ANKEN_ISSUER_ADDRESS", "");
    options.issuer_bank_account = r.String("ANKEN_ISSUER_BANK_ACCOUNT", "");
    options.bank_fee_tolerance = r.Int("ANKEN_BANK_FEE_TOLERANCE", 880, 0, 100000);
    if (!options.issuer_registration_number.empty() &&
        !anken::jp::IsValidInvoiceRegistrationNumber(options.issuer_registration_number)) {
      r.Fail("ANKEN_ISSUER_REGISTRATION_NUMBER",
             "is not T + 13 digits with a valid check digit (適格請求書発行事業者登録番号)");
    }
    // The relay to the scheduler: off (logged once) without a scheduler address or recipient.
    const std::string scheduler_addr = r.String("ANKEN_SCHEDULER_ADDR", "");
    billing::OutboxRelayOptions relay_options;
    relay_options.recipient = r.String("ANKEN_ACCOUNTING_EMAIL", "");
    relay_options.interval = r.Duration("ANKEN_BILLING_RELAY_INTERVAL", absl::Seconds(5));
    if (relay_options.interval <= absl::ZeroDuration()) {
      r.Fail("ANKEN_BILLING_RELAY_INTERVAL", "must be positive");
    }
    if (absl::Status s = r.Finish(); !s.ok()) return s;
    store = std::make_unique<billing::PgBillingStore>(rt.pool);
    peers = std::make_unique<billing::GrpcPeers>(anken::server::MakePeerChannel(project_addr),
                                                 anken::server::MakePeerChannel(customer_addr),
                                                 rt.peer_auth);
    std::vector<anken::server::RegisteredService> out;
    out.push_back(anken::server::Register<billing::v1::BillingService>(
        std::make_unique<billing::BillingServiceImpl>(*store, *peers, rt.clock, rt.page_tokens,
                                                      std::move(options))));
    if (scheduler_addr.empty() || relay_options.recipient.empty()) {
      anken::log::Warn("notification relay off: ANKEN_SCHEDULER_ADDR or ANKEN_ACCOUNTING_EMAIL "
                       "unset; invoice-issue requests stay in billing.notification_outbox");
    } else {
      auto auth = anken::server::PeerAuth::Create(rt.config, rt.env, anken::SystemClock());
      if (!auth.ok()) return auth.status();
      anken::db::PoolOptions pool_options;
      pool_options.url = rt.config.database_url;
      pool_options.size = 1;
      pool_options.acquire_timeout = rt.config.db_acquire_timeout;
      pool_options.statement_timeout = rt.config.db_statement_timeout;
      relay = std::make_unique<RelayRuntime>();
      relay->pool = std::make_unique<anken::db::Pool>(pool_options);
      relay->store = std::make_unique<billing::PgBillingStore>(*relay->pool);
      relay->auth = *std::move(auth);
      relay->relay = std::make_unique<billing::OutboxRelay>(
          *relay->store, anken::server::MakePeerChannel(scheduler_addr), *relay->auth,
          anken::SystemClock(), relay_options);
      relay->relay->Start();
      anken::log::Info("notification relay on").Str("scheduler", scheduler_addr)
          .Int("interval_ms", absl::ToInt64Milliseconds(relay_options.interval));
    }
    return out;
  };
  const int code = anken::server::ServiceMain(argc, argv, std::move(def));
  relay.reset();  // stops and joins the relay thread (no-op when it never started)
  return code;
}
