#include "common/server/peer_auth.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "common/auth/auth.h"

namespace anken::server {
namespace {

constexpr absl::Duration kTokenLifetime = absl::Hours(1);
// Renew when less than this is left, so a token never expires in flight.
constexpr absl::Duration kRenewBefore = absl::Minutes(10);
// How long a token read from a file is used before the file is read again.
constexpr absl::Duration kFileRecheck = absl::Minutes(1);

}  // namespace

absl::StatusOr<std::unique_ptr<PeerAuth>> PeerAuth::Create(const CommonConfig& config,
                                                           const Env& env, const Clock& clock) {
  std::string file = env.Get("ANKEN_SERVICE_TOKEN_FILE").value_or("");
  if (config.jwt_secret.empty() && file.empty()) {
    return absl::InvalidArgumentError(
        "invalid configuration: ANKEN_SERVICE_TOKEN_FILE is required with RS256 "
        "(ANKEN_JWT_PUBLIC_KEY_FILE), since services cannot sign their own tokens");
  }
  return std::unique_ptr<PeerAuth>(new PeerAuth(&clock, "anken-" + config.service,
                                                config.jwt_secret, config.jwt_issuer,
                                                config.jwt_audience, file, ""));
}

std::unique_ptr<PeerAuth> PeerAuth::WithToken(std::string token) {
  return std::unique_ptr<PeerAuth>(new PeerAuth(nullptr, "", "", "", "", "", std::move(token)));
}

absl::StatusOr<std::string> PeerAuth::Token() const {
  if (!fixed_.empty()) return fixed_;
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  if (!cached_.empty() && now < cached_until_) return cached_;
  if (!token_file_.empty()) {
    std::ifstream in(token_file_);
    std::stringstream buf;
    buf << in.rdbuf();
    std::string token(absl::StripAsciiWhitespace(buf.str()));
    if (!in.good() && token.empty()) {
      return absl::UnavailableError("service token file cannot be read");
    }
    cached_ = token;
    cached_until_ = now + kFileRecheck;
    return cached_;
  }
  auth::MintOptions o;
  o.subject = service_;
  o.role = auth::Role::kService;
  o.issuer = issuer_;
  o.audience = audience_;
  o.ttl = kTokenLifetime;
  o.hs256_secret = secret_;
  o.clock = clock_;
  absl::StatusOr<std::string> token = auth::MintToken(o);
  if (!token.ok()) return absl::UnavailableError("cannot mint the service token");
  cached_ = *token;
  cached_until_ = now + kTokenLifetime - kRenewBefore;
  return cached_;
}

absl::Status PeerAuth::Apply(grpc::ClientContext* ctx) const {
  absl::StatusOr<std::string> token = Token();
  if (!token.ok()) return token.status();
  ctx->AddMetadata("authorization", "Bearer " + *token);
  return absl::OkStatus();
}

}  // namespace anken::server
