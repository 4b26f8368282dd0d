#pragma once
// Who is calling, and may they call this method.
//
// Authenticator turns an `authorization: Bearer <JWT>` header value into a Principal. The
// signature is checked by libjwt with ONE configured algorithm — HS256 with a shared secret,
// or RS256 with a PEM public key — and a token whose header names any other algorithm
// (`none`, or HS256 offered to an RS256 authenticator: the key-confusion attack) is refused
// before libjwt sees it. Claims are checked here, against the injected anken::Clock (libjwt
// 1.10 never looks at the time): `exp` is required, `nbf` is honoured when present, both with
// a small leeway (default 30 s) for clock skew between hosts; `iss` must equal the configured
// issuer; `aud` (a string or an array of strings) must contain the configured audience.
// Failures are UNAUTHENTICATED with an ErrorInfo reason from the kReason* list below; the
// message names what to fix but never echoes token contents or key material.
//
// MethodRoles is the per-method role table each service declares. A method missing from it
// is denied to everyone (safe default), and UndeclaredMethods() lets the server refuse to
// start when a service method was forgotten. Health and reflection are always open.
//
// MintToken issues tokens (dev tool `anken-token`, and the tests of every service).
//
// Every call presents its token, and verifying one (two JSON parses, libjwt, the HMAC or RSA
// check) cost more than the rest of a call's framework path together. So Authenticator
// remembers the tokens it accepted (at most kVerifiedTokenCacheSize, each at most 2 KiB,
// forgotten all at once when full): what their signature, iss, aud, sub, role and
// partner_id checks concluded cannot change for the same bytes under the same
// configuration, so a remembered token skips them; exp and nbf are checked against the
// clock on every call, as before. Refused tokens are never remembered.

#include <initializer_list>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/clock/clock.h"
#include "common/config/config.h"

namespace google::protobuf {
class ServiceDescriptor;
}  // namespace google::protobuf

namespace anken::auth {

enum class Role { kAdmin, kStaff, kAccounting, kPartner, kService };

// "admin", "staff", "accounting", "partner", "service" — the `role` claim's spelling.
absl::string_view RoleName(Role role);
// The inverse of RoleName (exact, lower case); INVALID_ARGUMENT for anything else.
absl::StatusOr<Role> ParseRole(absl::string_view name);

struct Principal {
  std::string subject;     // the `sub` claim; never empty
  Role role = Role::kStaff;
  std::string partner_id;  // non-empty exactly when role == kPartner
};
bool operator==(const Principal& a, const Principal& b);
inline bool operator!=(const Principal& a, const Principal& b) { return !(a == b); }

// ErrorInfo reasons (stable; clients switch on them).
inline constexpr absl::string_view kReasonTokenMissing = "TOKEN_MISSING";
inline constexpr absl::string_view kReasonTokenMalformed = "TOKEN_MALFORMED";
inline constexpr absl::string_view kReasonTokenInvalid = "TOKEN_INVALID";
inline constexpr absl::string_view kReasonTokenExpired = "TOKEN_EXPIRED";
inline constexpr absl::string_view kReasonTokenNotYetValid = "TOKEN_NOT_YET_VALID";
inline constexpr absl::string_view kReasonRoleNotAllowed = "ROLE_NOT_ALLOWED";
inline constexpr absl::string_view kReasonMethodNotDeclared = "METHOD_NOT_DECLARED";

// Clock skew tolerated on exp and nbf. Small on purpose: it lengthens every token's life.
inline constexpr absl::Duration kDefaultLeeway = absl::Seconds(30);
inline constexpr absl::Duration kMaxLeeway = absl::Minutes(5);
// HS256 keys shorter than the hash (RFC 7518 §3.2) are refused, here and in LoadCommonConfig.
inline constexpr size_t kMinHs256SecretBytes = 32;
// Accepted tokens an Authenticator remembers (see above).
inline constexpr size_t kVerifiedTokenCacheSize = 1024;

struct AuthConfig {
  // Exactly one of the two: HS256 shared secret (>= 32 bytes), or an RSA (>= 2048 bit)
  // public key as PEM ("-----BEGIN PUBLIC KEY-----", SubjectPublicKeyInfo) for RS256.
  std::string hs256_secret;
  std::string rs256_public_key_pem;
  std::string issuer;    // required; compared with `iss` exactly
  std::string audience;  // required; must appear in `aud`
  absl::Duration leeway = kDefaultLeeway;  // 0 .. kMaxLeeway
};

// AuthConfig from the shared service settings (ANKEN_JWT_SECRET, or the file named by
// ANKEN_JWT_PUBLIC_KEY_FILE, ANKEN_JWT_ISSUER, ANKEN_JWT_AUDIENCE). INVALID_ARGUMENT when the
// key file cannot be read.
absl::StatusOr<AuthConfig> AuthConfigFromCommon(const CommonConfig& common);

class Authenticator {
 public:
  // INVALID_ARGUMENT for a bad configuration (no key or both, short secret, unparsable or
  // weak public key, empty issuer/audience, leeway out of range). `clock` must outlive the
  // Authenticator.
  static absl::StatusOr<Authenticator> Create(AuthConfig config,
                                              const Clock& clock = SystemClock());

  // `authorization_header_value` is the whole header value, "Bearer <jwt>" (scheme is
  // case-insensitive). UNAUTHENTICATED with reason TOKEN_MISSING (empty), TOKEN_MALFORMED
  // (not "Bearer <three base64url parts>"), TOKEN_INVALID (algorithm, signature, iss, aud or
  // sub/role/partner_id claims), TOKEN_EXPIRED or TOKEN_NOT_YET_VALID. Thread-safe.
  absl::StatusOr<Principal> Authenticate(absl::string_view authorization_header_value) const;

  // The same for a bare token (no "Bearer ").
  absl::StatusOr<Principal> VerifyToken(absl::string_view token) const;

 private:
  class TokenCache;
  struct Verified;
  Authenticator(AuthConfig config, const Clock* clock, bool rs256);

  // Verified's time claims against the clock: expired / not yet valid, else the principal.
  absl::StatusOr<Principal> CheckTimes(const Verified& verified) const;

  AuthConfig config_;
  const Clock* clock_;
  bool rs256_;
  // Shared by copies, which verify alike.
  std::shared_ptr<TokenCache> cache_;
};

struct MintOptions {
  std::string subject;
  Role role = Role::kStaff;
  std::string partner_id;  // required for kPartner, refused for the other roles
  std::string issuer = "anken";
  std::string audience = "anken";
  absl::Duration ttl = absl::Hours(1);  // exp = now + ttl; must be > 0
  // Exactly one: HS256 secret (>= 32 bytes) or an RSA private key PEM for RS256.
  std::string hs256_secret;
  std::string rs256_private_key_pem;
  // iat and nbf are "now" on this clock; SystemClock() when null.
  const Clock* clock = nullptr;
};

// A signed compact JWT carrying sub, role, partner_id (partners only), iss, aud, iat, nbf
// and exp. INVALID_ARGUMENT for bad options.
absl::StatusOr<std::string> MintToken(const MintOptions& options);

// The per-method role table of one server.
//
//   MethodRoles roles;
//   roles.Allow("/anken.billing.v1.BillingService/IssueInvoice", {Role::kAccounting})
//        .Open("/anken.billing.v1.BillingService/GetVersion");
//
// Allow() on the same method twice adds roles. When a method is both Open()ed and
// Allow()ed, the restriction wins: a contradiction in the table must not open a door.
class MethodRoles {
 public:
  MethodRoles& Allow(absl::string_view full_method, std::initializer_list<Role> roles);
  MethodRoles& Open(absl::string_view full_method);

  // True for Open() methods and for health and reflection.
  bool IsOpen(absl::string_view full_method) const;
  // True when the method is Allow()ed or open (incl. health and reflection).
  bool IsDeclared(absl::string_view full_method) const;

  // OK when `principal` may call `method` (always for open methods); PERMISSION_DENIED
  // with reason ROLE_NOT_ALLOWED or, for a method missing from the table, METHOD_NOT_DECLARED.
  absl::Status Check(absl::string_view method, const Principal& principal) const;

  // The methods ("/pkg.Service/Method") of `service` missing from the table, in declaration
  // order. The server bootstrap refuses to start while this is non-empty.
  std::vector<std::string> UndeclaredMethods(
      const google::protobuf::ServiceDescriptor& service) const;
  // The same for a plain list of full method names.
  std::vector<std::string> UndeclaredMethods(const std::vector<std::string>& methods) const;

 private:
  struct Entry {
    bool open = false;
    std::set<Role> roles;
    bool restricted = false;  // Allow() was called
  };
  absl::flat_hash_map<std::string, Entry> methods_;
};

// The full method name gRPC uses: "/" + service full name + "/" + method name.
std::string FullMethodName(absl::string_view service_full_name, absl::string_view method);

}  // namespace anken::auth
