// Reliability: the authorization matrix and bad input, against the real anken-customer,
// anken-project and anken-billing processes. The methods come from server reflection (what
// each process really serves) and their descriptors, the roles from each service's own
// method-role table, so a new RPC cannot be left out:
// - every RPC without a token, with a garbage token and with a token signed by another key →
//   UNAUTHENTICATED;
// - every RPC a partner may not call, with a partner token → PERMISSION_DENIED;
// - every Create* RPC with each of its string fields (and those of its nested messages)
//   oversized → INVALID_ARGUMENT, never INTERNAL;
// - no message of any of these answers carries SQL, libpq/libpqxx text or addresses.

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "anken/billing/v1/billing_service.grpc.pb.h"
#include "anken/customer/v1/customer_service.grpc.pb.h"
#include "anken/project/v1/project_service.grpc.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/impl/codegen/client_unary_call.h"
#include "grpcpp/support/byte_buffer.h"
#include "services/billing/billing_service.h"
#include "services/customer/customer_service.h"
#include "services/project/project_service.h"
#include "tests/reliability/reliability_support.h"
#include "tests/support/grpc_probe.h"
#include "tests/support/test_database.h"

namespace anken::reliability {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::MethodDescriptor;

// One raw unary call: `bytes` as the request, the status back.
grpc::Status RawCall(const std::shared_ptr<grpc::Channel>& channel, const std::string& path,
                     const std::string& bytes, const std::string& authorization) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  if (!authorization.empty()) ctx.AddMetadata("authorization", authorization);
  grpc::internal::RpcMethod rpc(path.c_str(), grpc::internal::RpcMethod::NORMAL_RPC);
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  return grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
      channel.get(), rpc, &ctx, request, &response);
}

// Sets every singular string field of `m` (and, down to `depth`, of its message fields) to
// `value`, except request_id, which gets a valid id. Returns the paths it set.
void FillStrings(Message* m, const std::string& value, const std::string& prefix, int depth,
                 std::vector<std::string>* paths) {
  const Descriptor* d = m->GetDescriptor();
  const auto* r = m->GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f->is_repeated() || f->containing_oneof() != nullptr) continue;
    if (f->type() == FieldDescriptor::TYPE_STRING) {
      if (f->name() == "request_id") {
        r->SetString(m, f, "oversize-1");
      } else if (f->name() != "etag" && f->name() != "page_token") {
        r->SetString(m, f, value);
        paths->push_back(prefix + f->name());
      }
    } else if (f->type() == FieldDescriptor::TYPE_MESSAGE && depth > 0 &&
               !absl::StartsWith(f->message_type()->full_name(), "google.protobuf.") &&
               !absl::StartsWith(f->message_type()->full_name(), "anken.common.")) {
      FillStrings(r->MutableMessage(m, f), value, absl::StrCat(prefix, f->name(), "."),
                  depth - 1, paths);
    }
  }
}

struct Served {
  std::string name;
  std::unique_ptr<ServiceProcess> process;
  auth::MethodRoles roles;
};

TEST(AuthMatrixTest, EveryRpcRefusesBadCredentialsAndBadInput) {
  const std::string scenario = "auth-and-input matrix";
  anken::testing::ScratchDatabase db("rel_auth");
  std::map<std::string, std::string> env = ServiceEnv(db.url());
  env["ANKEN_ISSUER_NAME"] = "株式会社アンケン";
  env["ANKEN_ISSUER_REGISTRATION_NUMBER"] = "T7000012050002";
  for (const char* bin : {ANKEN_CUSTOMER_BIN, ANKEN_PROJECT_BIN, ANKEN_BILLING_BIN}) {
    absl::Status m = Migrate(bin, env);
    ASSERT_TRUE(m.ok()) << m;
  }
  std::vector<Served> served;
  auto start = [&](const std::string& name, const char* bin, auth::MethodRoles roles) {
    auto p = ServiceProcess::Start(bin, env);
    ASSERT_TRUE(p.ok()) << p.status();
    env[absl::StrCat("ANKEN_", name, "_ADDR")] = (*p)->address();
    served.push_back(Served{name, std::move(*p), std::move(roles)});
  };
  ASSERT_NO_FATAL_FAILURE(start("CUSTOMER", ANKEN_CUSTOMER_BIN, customer::CustomerServiceImpl::Roles()));
  ASSERT_NO_FATAL_FAILURE(start("PROJECT", ANKEN_PROJECT_BIN, project::ProjectServiceImpl::Roles()));
  ASSERT_NO_FATAL_FAILURE(start("BILLING", ANKEN_BILLING_BIN, billing::BillingServiceImpl::Roles()));

  auth::MintOptions wrong_key;
  wrong_key.subject = "intruder";
  wrong_key.role = auth::Role::kAdmin;
  wrong_key.hs256_secret = "some-other-secret-0123456789abcdef-0123";
  const std::string forged = *auth::MintToken(wrong_key);
  const std::string partner = Token(auth::Role::kPartner, "partner-9", "999999");
  const std::string admin = Token(auth::Role::kAdmin, "reliability-admin");
  const auth::Principal partner_principal{"partner-9", auth::Role::kPartner, "999999"};
  const std::string huge(20000, 'x');

  int methods = 0, cells = 0, bad_cells = 0, leaks = 0, partner_denied = 0, oversized = 0;
  std::vector<std::string> failures;
  auto cell = [&](const std::string& what, const grpc::Status& s, grpc::StatusCode want) {
    ++cells;
    if (LeaksInternals(s.error_message())) {
      ++leaks;
      failures.push_back(absl::StrCat(what, ": message leaks internals: ", s.error_message()));
    }
    if (s.error_code() != want) {
      ++bad_cells;
      failures.push_back(absl::StrCat(what, ": code ", s.error_code(), " (want ", want, ") ",
                                      s.error_message()));
    }
  };
  for (Served& svc : served) {
    auto channel = svc.process->Channel();
    absl::StatusOr<std::vector<std::string>> names = anken::testing::ReflectionServices(channel);
    ASSERT_TRUE(names.ok()) << names.status();
    for (const std::string& name : *names) {
      if (!absl::StartsWith(name, "anken.")) continue;  // health, reflection
      const auto* service =
          google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
      ASSERT_NE(service, nullptr) << name << " is served but not linked into the test";
      for (int i = 0; i < service->method_count(); ++i) {
        const MethodDescriptor* m = service->method(i);
        if (m->client_streaming() || m->server_streaming()) continue;
        ++methods;
        const std::string path = auth::FullMethodName(name, m->name());
        if (svc.roles.IsOpen(path)) continue;
        cell(path + " without a token", RawCall(channel, path, "", ""),
             grpc::StatusCode::UNAUTHENTICATED);
        cell(path + " with a garbage token",
             RawCall(channel, path, "", "Bearer not.a.jwt"), grpc::StatusCode::UNAUTHENTICATED);
        cell(path + " with a token signed by another key",
             RawCall(channel, path, "", absl::StrCat("Bearer ", forged)),
             grpc::StatusCode::UNAUTHENTICATED);
        if (!svc.roles.Check(path, partner_principal).ok()) {
          ++partner_denied;
          cell(path + " with a partner token",
               RawCall(channel, path, "", absl::StrCat("Bearer ", partner)),
               grpc::StatusCode::PERMISSION_DENIED);
        }
        if (absl::StartsWith(m->name(), "Create")) {
          google::protobuf::DynamicMessageFactory factory;
          std::unique_ptr<Message> req(factory.GetPrototype(m->input_type())->New());
          std::vector<std::string> paths;
          FillStrings(req.get(), huge, "", 2, &paths);
          if (paths.empty()) continue;
          ++oversized;
          cell(absl::StrCat(path, " with ", paths.size(), " string fields of ", huge.size(),
                            " bytes (", absl::StrJoin(paths, ","), ")"),
               RawCall(channel, path, req->SerializeAsString(), absl::StrCat("Bearer ", admin)),
               grpc::StatusCode::INVALID_ARGUMENT);
        }
      }
    }
  }
  // Sharper: a valid CreateCustomer with one string field at a time oversized.
  {
    auto channel = served[0].process->Channel();
    const Descriptor* d = customer::v1::Customer::descriptor();
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* f = d->field(i);
      if (f->type() != FieldDescriptor::TYPE_STRING || f->is_repeated() || f->name() == "etag") {
        continue;
      }
      customer::v1::CreateCustomerRequest req =
          CustomerRequest(absl::StrCat("oversize-one-", f->name()), "株式会社オーバー");
      req.mutable_customer()->GetReflection()->SetString(req.mutable_customer(), f, huge);
      ++oversized;
      cell(absl::StrCat("CreateCustomer with customer.", f->name(), " of ", huge.size(),
                        " bytes"),
           RawCall(channel, "/anken.customer.v1.CustomerService/CreateCustomer",
                   req.SerializeAsString(), absl::StrCat("Bearer ", admin)),
           grpc::StatusCode::INVALID_ARGUMENT);
    }
  }
  for (const std::string& f : failures) std::cout << "  " << f << "\n";
  bool held = true;
  held &= Check(scenario, absl::StrCat(methods, " RPCs, ", cells, " cells (no token, garbage, "
                                       "forged, ", partner_denied, " partner-denied, ",
                                       oversized, " oversized-string creates): ", bad_cells,
                                       " wrong codes"),
                bad_cells == 0 && methods > 0);
  held &= Check(scenario, absl::StrCat(leaks, " messages leaking internals"), leaks == 0);
  RecordScenario(scenario, held,
                 absl::StrCat(methods, " RPCs, ", cells, " cells, ", bad_cells, " wrong, ", leaks,
                              " leaks"));
  EXPECT_TRUE(held);
}

}  // namespace
}  // namespace anken::reliability
