// anken-project: wiring only (configuration, pool, store, customer-service client, handlers).

#include "absl/strings/str_split.h"
#include "common/jp/registration_number.h"
#include "common/server/client.h"
#include "common/server/service_main.h"
#include "services/project/customer_directory.h"
#include "services/project/pg_project_store.h"
#include "services/project/project_service.h"

int main(int argc, char** argv) {
  namespace project = anken::project;
  anken::server::ServiceDefinition def;
  def.name = "project";
  def.default_grpc_port = 50052;
  def.default_metrics_port = 9452;
  def.roles = project::ProjectServiceImpl::Roles();
  // Live until ServiceMain returns, after the server has stopped.
  static std::unique_ptr<project::PgProjectStore> store;
  static std::unique_ptr<project::GrpcCustomerDirectory> customers;
  def.make_services = [](anken::server::Runtime& rt)
      -> absl::StatusOr<std::vector<anken::server::RegisteredService>> {
    anken::ConfigReader r(rt.env);
    const std::string customer_addr = r.String("ANKEN_CUSTOMER_ADDR", "127.0.0.1:50051");
    project::ProjectServiceOptions options;
    const std::string statuses =
        r.String("ANKEN_PROJECT_PROGRESS_STATUSES", "未着手,進行中,保留,完了");
    options.progress_statuses = absl::StrSplit(statuses, ',', absl::SkipWhitespace());
    const std::string rounding =
        r.OneOf("ANKEN_TAX_ROUNDING", "floor", {"floor", "half_up", "ceiling"});
    options.rounding = rounding == "half_up"   ? anken::tax::Rounding::kHalfUp
                       : rounding == "ceiling" ? anken::tax::Rounding::kCeiling
                                               : anken::tax::Rounding::kFloor;
    // The company on quote PDFs: optional here (billing requires it), checked when set.
    options.issuer_name = r.String("ANKEN_ISSUER_NAME", "");
    options.issuer_registration_number = r.String("ANKEN_ISSUER_REGISTRATION_NUMBER", "");
    if (!options.issuer_registration_number.empty() &&
        !anken::jp::IsValidInvoiceRegistrationNumber(options.issuer_registration_number)) {
      r.Fail("ANKEN_ISSUER_REGISTRATION_NUMBER",
             "is not T + 13 digits with a valid check digit (適格請求書発行事業者登録番号)");
    }
    options.issuer_address = r.String("ANKEN_ISSUER_ADDRESS", "");
    if (absl::Status s = r.Finish(); !s.ok()) return s;
    store = std::make_unique<project::PgProjectStore>(rt.pool);
    customers = std::make_unique<project::GrpcCustomerDirectory>(
        anken::server::MakePeerChannel(customer_addr), rt.peer_auth);
    std::vector<anken::server::RegisteredService> out;
    out.push_back(anken::server::Register<project::v1::ProjectService>(
        std::make_unique<project::ProjectServiceImpl>(*store, *customers, rt.clock,
                                                      rt.page_tokens, std::move(options))));
    return out;
  };
  return anken::server::ServiceMain(argc, argv, std::move(def));
}
