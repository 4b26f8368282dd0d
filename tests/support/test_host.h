#pragma once
// An in-process gRPC server for service tests: a ServiceHost on 127.0.0.1:0 with the real auth
// interceptor (HS256, a test secret, the test's clock) in front of the services given, and
// tokens minted for any role. Services are tested through their real gRPC API.

#include <memory>
#include <string>
#include <vector>

#include "common/auth/auth.h"
#include "common/clock/clock.h"
#include "common/server/host.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"

namespace anken::testing {

inline constexpr char kTestJwtSecret[] = "anken-test-secret-0123456789abcdef0123";

class TestHost {
 public:
  // `clock` verifies token lifetimes and mints tokens; it must outlive the host.
  TestHost(std::vector<grpc::Service*> services, auth::MethodRoles roles, const Clock& clock);
  ~TestHost();

  int port() const { return host_->port(); }
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }

  // A token for `role` (partner tokens need partner_id), valid for an hour from clock.Now().
  std::string Token(auth::Role role, const std::string& subject = "tester",
                    const std::string& partner_id = "") const;
  // A client context carrying `token` (none when empty) and a 30 s deadline.
  static std::unique_ptr<grpc::ClientContext> Context(const std::string& token);

 private:
  const Clock& clock_;
  std::unique_ptr<server::ServiceHost> host_;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace anken::testing
