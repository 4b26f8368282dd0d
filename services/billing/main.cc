// anken-billing: wiring only (configuration, pool, store, peer clients, handlers).

#include "common/jp/registration_number.h"
#include "common/server/client.h"
#include "common/server/service_main.h"
#include "services/billing/billing_service.h"
#include "services/billing/peers.h"
#include "services/billing/pg_billing_store.h"

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
    if (!options.issuer_registration_number.empty() &&
        !anken::jp::IsValidInvoiceRegistrationNumber(options.issuer_registration_number)) {
      r.Fail("ANKEN_ISSUER_REGISTRATION_NUMBER",
             "is not T + 13 digits with a valid check digit (適格請求書発行事業者登録番号)");
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
    return out;
  };
  return anken::server::ServiceMain(argc, argv, std::move(def));
}
