#include "tests/support/test_host.h"

#include <gtest/gtest.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/auth/auth_interceptor.h"
#include "grpcpp/create_channel.h"

namespace anken::testing {

TestHost::TestHost(std::vector<grpc::Service*> services, auth::MethodRoles roles,
                   const Clock& clock)
    : clock_(clock) {
  auth::AuthConfig config;
  config.hs256_secret = kTestJwtSecret;
  config.issuer = "anken";
  config.audience = "anken";
  auto authenticator = auth::Authenticator::Create(config, clock);
  EXPECT_TRUE(authenticator.ok()) << authenticator.status();
  server::HostOptions options;
  options.service_name = "test";
  host_ = std::make_unique<server::ServiceHost>(options);
  for (grpc::Service* s : services) host_->AddService(s);
  host_->AddInterceptorFactory(auth::MakeAuthInterceptorFactory(
      std::make_shared<const auth::Authenticator>(std::move(*authenticator)),
      std::make_shared<const auth::MethodRoles>(std::move(roles))));
  absl::Status started = host_->Start();
  EXPECT_TRUE(started.ok()) << started;
  channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", host_->port()),
                                 grpc::InsecureChannelCredentials());
}

TestHost::~TestHost() { host_->Shutdown(); }

std::string TestHost::Token(auth::Role role, const std::string& subject,
                            const std::string& partner_id) const {
  auth::MintOptions o;
  o.subject = subject;
  o.role = role;
  o.partner_id = partner_id;
  o.hs256_secret = kTestJwtSecret;
  o.ttl = absl::Hours(1);
  o.clock = &clock_;
  auto token = auth::MintToken(o);
  EXPECT_TRUE(token.ok()) << token.status();
  return token.value_or("");
}

std::unique_ptr<grpc::ClientContext> TestHost::Context(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return ctx;
}

}  // namespace anken::testing
