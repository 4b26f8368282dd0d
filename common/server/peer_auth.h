#pragma once
// How a service authenticates to its peers: every call carries `authorization: Bearer <token>`
// with role `service`. With HS256 the service mints its own short-lived token from
// ANKEN_JWT_SECRET (subject "anken-<service>"), renewed well before it expires; with RS256
// (no signing key in the services) the token is read from ANKEN_SERVICE_TOKEN_FILE, re-read
// when the file changes, as a mounted, rotated secret would.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock/clock.h"
#include "common/config/config.h"
#include "grpcpp/client_context.h"

namespace anken::server {

class PeerAuth {
 public:
  static absl::StatusOr<std::unique_ptr<PeerAuth>> Create(const CommonConfig& config,
                                                          const Env& env, const Clock& clock);
  // A fixed token (tests).
  static std::unique_ptr<PeerAuth> WithToken(std::string token);

  // The current bearer token; UNAVAILABLE when it cannot be made or read.
  absl::StatusOr<std::string> Token() const;
  // Adds the authorization header to `ctx`.
  absl::Status Apply(grpc::ClientContext* ctx) const;

 private:
  PeerAuth(const Clock* clock, std::string service, std::string secret, std::string issuer,
           std::string audience, std::string token_file, std::string fixed)
      : clock_(clock), service_(std::move(service)), secret_(std::move(secret)),
        issuer_(std::move(issuer)), audience_(std::move(audience)),
        token_file_(std::move(token_file)), fixed_(std::move(fixed)) {}

  const Clock* clock_;
  std::string service_, secret_, issuer_, audience_, token_file_, fixed_;
  mutable absl::Mutex mu_;
  mutable std::string cached_ ABSL_GUARDED_BY(mu_);
  mutable absl::Time cached_until_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace anken::server
