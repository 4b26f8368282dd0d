#pragma once
// ServiceMain: everything a service's main.cc needs, so that main.cc only declares what is
// particular to the service (name, ports, role table, how to build its gRPC services).
//
//   anken-<name>              validate config, start metrics, pool, auth, the gRPC host;
//                             serve until SIGTERM/SIGINT, then shut down gracefully
//   anken-<name> --migrate    apply the migrations (under an advisory lock) and exit
//   anken-<name> --check-config   validate the configuration and exit
//
// Exit codes: 0 clean stop, 1 runtime failure, 2 bad configuration or usage.

#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/status/statusor.h"
#include "common/api/page_token.h"
#include "common/auth/auth.h"
#include "common/clock/clock.h"
#include "common/config/config.h"
#include "common/db/pool.h"
#include "common/server/peer_auth.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/impl/service_type.h"

namespace anken::server {

// What a service's handlers get to work with; lives for the whole run.
struct Runtime {
  const Env& env;
  const CommonConfig& config;
  db::Pool& pool;
  const Clock& clock;
  const api::PageTokenCodec& page_tokens;
  // Authenticates this service's calls to its peers (role service).
  const PeerAuth& peer_auth;
};

// A gRPC service implementation with the descriptor of the service it implements, so that
// the role table can be checked against every method before serving.
struct RegisteredService {
  std::unique_ptr<grpc::Service> service;
  const google::protobuf::ServiceDescriptor* descriptor;
};

// Wraps `impl`, an implementation of the generated service class `Generated` (e.g.
// Register<CustomerService>(std::make_unique<CustomerServer>(...))).
template <typename Generated, typename Impl>
RegisteredService Register(std::unique_ptr<Impl> impl) {
  static_assert(std::is_base_of_v<typename Generated::Service, Impl>,
                "Register<Generated>: impl must implement Generated::Service");
  const auto* descriptor = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
      Generated::service_full_name());
  return RegisteredService{std::move(impl), descriptor};
}

struct ServiceDefinition {
  std::string name;  // "customer": the schema, the log's service field, the binary's suffix
  int default_grpc_port = 0;
  int default_metrics_port = 0;
  auth::MethodRoles roles;
  // Builds the gRPC services. Called once, after configuration is valid and before serving.
  std::function<absl::StatusOr<std::vector<RegisteredService>>(Runtime&)> make_services;
};

// The migrations folder: ANKEN_MIGRATIONS_DIR, else "migrations" beside the executable
// (the build copies services/<name>/migrations there; the image installs it there too).
std::string MigrationsDir(const Env& env);

int ServiceMain(int argc, char** argv, ServiceDefinition definition);

}  // namespace anken::server
