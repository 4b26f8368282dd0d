// Lists every running service of the suite by server reflection, as grpcurl or a generated
// client's tooling would, and checks each offers its API service, health and reflection.
// Addresses from ANKEN_<SERVICE>_ADDR (tests/interop/run sets them). Exit 0 when all hold.

#include <cstdlib>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "tests/support/grpc_probe.h"

int main() {
  struct Expected {
    const char* env;
    const char* service;
  };
  const std::vector<Expected> expected = {
      {"ANKEN_CUSTOMER_ADDR", "anken.customer.v1.CustomerService"},
      {"ANKEN_PROJECT_ADDR", "anken.project.v1.ProjectService"},
      {"ANKEN_BILLING_ADDR", "anken.billing.v1.BillingService"},
      {"ANKEN_REPORT_ADDR", "anken.report.v1.ReportIntakeService"},
      {"ANKEN_SCHEDULER_ADDR", "anken.scheduler.v1.SchedulerService"},
  };
  int failures = 0;
  for (const Expected& e : expected) {
    const char* addr = std::getenv(e.env);
    if (addr == nullptr || *addr == '\0') {
      std::cout << "FAIL " << e.env << " is not set\n";
      ++failures;
      continue;
    }
    auto channel = grpc::CreateChannel(addr, grpc::InsecureChannelCredentials());
    auto services = anken::testing::ReflectionServices(channel);
    if (!services.ok()) {
      std::cout << "FAIL " << addr << ": " << services.status() << "\n";
      ++failures;
      continue;
    }
    const std::set<std::string> listed(services->begin(), services->end());
    for (const char* want : {e.service, "grpc.health.v1.Health",
                             "grpc.reflection.v1alpha.ServerReflection"}) {
      if (listed.count(want) == 0) {
        std::cout << "FAIL " << addr << " does not list " << want << " (it lists "
                  << absl::StrJoin(listed, ", ") << ")\n";
        ++failures;
      }
    }
    auto serving = anken::testing::HealthServing(channel);
    if (!serving.ok() || !*serving) {
      std::cout << "FAIL " << addr << " is not SERVING\n";
      ++failures;
      continue;
    }
    std::cout << "ok   " << addr << ": " << absl::StrJoin(listed, ", ") << "\n";
  }
  std::cout << "reflection: " << expected.size() - failures << "/" << expected.size()
            << " services listed as expected\n";
  return failures == 0 ? 0 : 1;
}
