// anken-customer: wiring only (configuration, pool, store, handlers, server).

#include "common/server/service_main.h"
#include "services/customer/customer_service.h"
#include "services/customer/pg_customer_store.h"

int main(int argc, char** argv) {
  namespace customer = anken::customer;
  anken::server::ServiceDefinition def;
  def.name = "customer";
  def.default_grpc_port = 50051;
  def.default_metrics_port = 9451;
  def.roles = customer::CustomerServiceImpl::Roles();
  // The store outlives the services: both live until ServiceMain returns.
  static std::unique_ptr<customer::PgCustomerStore> store;
  def.make_services = [](anken::server::Runtime& rt)
      -> absl::StatusOr<std::vector<anken::server::RegisteredService>> {
    store = std::make_unique<customer::PgCustomerStore>(rt.pool);
    std::vector<anken::server::RegisteredService> out;
    out.push_back(anken::server::Register<customer::v1::CustomerService>(
        std::make_unique<customer::CustomerServiceImpl>(*store, rt.clock, rt.page_tokens)));
    return out;
  };
  return anken::server::ServiceMain(argc, argv, std::move(def));
}
