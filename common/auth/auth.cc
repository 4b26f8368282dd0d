#include "common/auth/auth.h"

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "common/status/errors.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace anken::auth {
namespace {

// Longer headers are refused before any parsing: a real token is well under 2 KiB.
constexpr size_t kMaxHeaderBytes = 8192;
// Longer (accepted) tokens are not remembered, which bounds the cache's memory.
constexpr size_t kMaxCachedTokenBytes = 2048;
constexpr size_t kMaxSubjectBytes = 256;
// NumericDate values beyond this (year ~5138) are nonsense, and would overflow on conversion.
constexpr double kMaxNumericDate = 1e11;

struct JwtDeleter {
  void operator()(jwt_t* j) const { jwt_free(j); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtDeleter>;
struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

absl::Status Unauthenticated(absl::string_view message, absl::string_view reason) {
  return WithReason(absl::UnauthenticatedError(message), reason);
}
absl::Status Malformed(absl::string_view message) {
  return Unauthenticated(message, kReasonTokenMalformed);
}
absl::Status Invalid(absl::string_view message) {
  return Unauthenticated(message, kReasonTokenInvalid);
}

// Parses an RSA key PEM (public: SubjectPublicKeyInfo, as libjwt reads it; or private) and
// insists on >= 2048 bits.
absl::Status CheckRsaPem(absl::string_view pem, bool is_private, absl::string_view what) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) return absl::InternalError("BIO_new_mem_buf failed");
  PkeyPtr key(is_private ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
                         : PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": not a PEM ",
        is_private ? "private key" : "public key (-----BEGIN PUBLIC KEY-----)"));
  }
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": RS256 needs an RSA key"));
  }
  if (EVP_PKEY_get_bits(key.get()) < 2048) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": RSA key shorter than 2048 bits"));
  }
  return absl::OkStatus();
}

bool IsBase64UrlSegment(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

// Decodes one base64url segment and parses it as a JSON object.
std::optional<google::protobuf::Struct> DecodeJsonSegment(absl::string_view segment) {
  std::string json;
  if (!absl::WebSafeBase64Unescape(segment, &json)) return std::nullopt;
  google::protobuf::Struct out;
  if (!google::protobuf::util::JsonStringToMessage(json, &out).ok()) return std::nullopt;
  return out;
}

const google::protobuf::Value* Field(const google::protobuf::Struct& s, const char* name) {
  auto it = s.fields().find(name);
  return it == s.fields().end() ? nullptr : &it->second;
}

// A string claim: nullopt when absent or not a string.
std::optional<std::string> StringClaim(const google::protobuf::Struct& s, const char* name) {
  const google::protobuf::Value* v = Field(s, name);
  if (v == nullptr || v->kind_case() != google::protobuf::Value::kStringValue) return std::nullopt;
  return v->string_value();
}

// A NumericDate claim. Absent: nullopt with *ok true; present but not a sane number: *ok false.
std::optional<absl::Time> TimeClaim(const google::protobuf::Struct& s, const char* name,
                                    bool* ok) {
  *ok = true;
  const google::protobuf::Value* v = Field(s, name);
  if (v == nullptr) return std::nullopt;
  if (v->kind_case() != google::protobuf::Value::kNumberValue ||
      !std::isfinite(v->number_value()) || std::fabs(v->number_value()) > kMaxNumericDate) {
    *ok = false;
    return std::nullopt;
  }
  return absl::FromUnixSeconds(static_cast<int64_t>(std::floor(v->number_value())));
}

// exp and nbf (with the leeway) against `now`: TOKEN_EXPIRED, TOKEN_NOT_YET_VALID or OK.
absl::Status CheckValidityWindow(absl::Time now, absl::Time exp, std::optional<absl::Time> nbf,
                                 absl::Duration leeway) {
  if (now >= exp + leeway) {
    return Unauthenticated("token expired; obtain a new one", kReasonTokenExpired);
  }
  if (nbf.has_value() && now + leeway < *nbf) {
    return Unauthenticated("token not yet valid", kReasonTokenNotYetValid);
  }
  return absl::OkStatus();
}

bool AudienceMatches(const google::protobuf::Value& aud, const std::string& want) {
  if (aud.kind_case() == google::protobuf::Value::kStringValue) return aud.string_value() == want;
  if (aud.kind_case() != google::protobuf::Value::kListValue) return false;
  for (const auto& v : aud.list_value().values()) {
    if (v.kind_case() == google::protobuf::Value::kStringValue && v.string_value() == want) {
      return true;
    }
  }
  return false;
}

}  // namespace

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAdmin:
      return "admin";
    case Role::kStaff:
      return "staff";
    case Role::kAccounting:
      return "accounting";
    case Role::kPartner:
      return "partner";
    case Role::kService:
      return "service";
  }
  return "unknown";
}

absl::StatusOr<Role> ParseRole(absl::string_view name) {
  for (Role r : {Role::kAdmin, Role::kStaff, Role::kAccounting, Role::kPartner, Role::kService}) {
    if (name == RoleName(r)) return r;
  }
  return absl::InvalidArgumentError(
      "unknown role; expected admin, staff, accounting, partner or service");
}

bool operator==(const Principal& a, const Principal& b) {
  return a.subject == b.subject && a.role == b.role && a.partner_id == b.partner_id;
}

absl::StatusOr<AuthConfig> AuthConfigFromCommon(const CommonConfig& common) {
  AuthConfig config;
  config.hs256_secret = common.jwt_secret;
  config.issuer = common.jwt_issuer;
  config.audience = common.jwt_audience;
  if (!common.jwt_public_key_file.empty()) {
    std::ifstream in(common.jwt_public_key_file, std::ios::binary);
    std::string pem;
    if (in) pem.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (!in || in.bad() || pem.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ANKEN_JWT_PUBLIC_KEY_FILE: cannot read ", common.jwt_public_key_file));
    }
    config.rs256_public_key_pem = std::move(pem);
  }
  return config;
}

// What a fully verified token concluded, apart from its validity window.
struct Authenticator::Verified {
  Principal principal;
  absl::Time exp;
  std::optional<absl::Time> nbf;
};

// The accepted tokens, by their exact bytes.
class Authenticator::TokenCache {
 public:
  std::optional<Verified> Find(absl::string_view token) const {
    absl::ReaderMutexLock lock(&mu_);
    auto it = tokens_.find(token);
    if (it == tokens_.end()) return std::nullopt;
    return it->second;
  }
  void Insert(absl::string_view token, Verified verified) {
    if (token.size() > kMaxCachedTokenBytes) return;
    absl::MutexLock lock(&mu_);
    if (tokens_.size() >= kVerifiedTokenCacheSize) tokens_.clear();
    tokens_.insert_or_assign(std::string(token), std::move(verified));
  }

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Verified> tokens_ ABSL_GUARDED_BY(mu_);
};

Authenticator::Authenticator(AuthConfig config, const Clock* clock, bool rs256)
    : config_(std::move(config)),
      clock_(clock),
      rs256_(rs256),
      cache_(std::make_shared<TokenCache>()) {}

absl::StatusOr<Principal> Authenticator::CheckTimes(const Verified& verified) const {
  absl::Status window =
      CheckValidityWindow(clock_->Now(), verified.exp, verified.nbf, config_.leeway);
  if (!window.ok()) return window;
  return verified.principal;
}

absl::StatusOr<Authenticator> Authenticator::Create(AuthConfig config, const Clock& clock) {
  const bool has_secret = !config.hs256_secret.empty();
  const bool has_key = !config.rs256_public_key_pem.empty();
  if (has_secret == has_key) {
    return absl::InvalidArgumentError(
        "auth config: set exactly one of hs256_secret (HS256) and rs256_public_key_pem (RS256)");
  }
  if (has_secret && config.hs256_secret.size() < kMinHs256SecretBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "auth config: hs256_secret must be at least ", kMinHs256SecretBytes, " bytes"));
  }
  if (has_key) {
    absl::Status s = CheckRsaPem(config.rs256_public_key_pem, /*is_private=*/false,
                                 "auth config: rs256_public_key_pem");
    if (!s.ok()) return s;
  }
  if (config.issuer.empty()) return absl::InvalidArgumentError("auth config: issuer is required");
  if (config.audience.empty()) {
    return absl::InvalidArgumentError("auth config: audience is required");
  }
  if (config.leeway < absl::ZeroDuration() || config.leeway > kMaxLeeway) {
    return absl::InvalidArgumentError(absl::StrCat(
        "auth config: leeway must be between 0 and ", absl::FormatDuration(kMaxLeeway)));
  }
  return Authenticator(std::move(config), &clock, has_key);
}

absl::StatusOr<Principal> Authenticator::Authenticate(absl::string_view header) const {
  header = absl::StripAsciiWhitespace(header);
  if (header.empty()) {
    return Unauthenticated("authentication required: send 'authorization: Bearer <token>'",
                           kReasonTokenMissing);
  }
  if (header.size() > kMaxHeaderBytes) return Malformed("authorization header too long");
  const size_t space = header.find_first_of(" \t");
  if (space == absl::string_view::npos ||
      !absl::EqualsIgnoreCase(header.substr(0, space), "bearer")) {
    return Malformed("authorization header must be 'Bearer <token>'");
  }
  return VerifyToken(absl::StripAsciiWhitespace(header.substr(space + 1)));
}

absl::StatusOr<Principal> Authenticator::VerifyToken(absl::string_view token) const {
  if (token.empty()) return Malformed("authorization header must be 'Bearer <token>'");
  if (std::optional<Verified> known = cache_->Find(token)) return CheckTimes(*known);
  if (token.size() > kMaxHeaderBytes) return Malformed("token too long");
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty() ||
      !IsBase64UrlSegment(parts[0]) || !IsBase64UrlSegment(parts[1]) ||
      !IsBase64UrlSegment(parts[2])) {
    return Malformed("malformed token: expected a compact JWS (three base64url parts)");
  }

  // Pin the algorithm before libjwt sees the token: libjwt 1.10 verifies with whatever the
  // header says, so an RS256 public key offered as an HS256 secret would "verify".
  const char* const expected_alg = rs256_ ? "RS256" : "HS256";
  std::optional<google::protobuf::Struct> header = DecodeJsonSegment(parts[0]);
  if (!header.has_value()) return Malformed("malformed token: header is not base64url JSON");
  std::optional<std::string> alg = StringClaim(*header, "alg");
  if (!alg.has_value() || *alg != expected_alg) {
    return Invalid(absl::StrCat("invalid token: algorithm must be ", expected_alg));
  }
  // No JWS extension is understood here, so one marked critical must be refused (RFC 7515).
  if (Field(*header, "crit") != nullptr) return Invalid("invalid token: unsupported header");
  if (parts[2].empty()) return Invalid("invalid token: signature missing");

  const std::string& key = rs256_ ? config_.rs256_public_key_pem : config_.hs256_secret;
  jwt_t* raw = nullptr;
  const std::string token_copy(token);  // libjwt wants a NUL-terminated string
  int rc = jwt_decode(&raw, token_copy.c_str(), reinterpret_cast<const unsigned char*>(key.data()),
                      static_cast<int>(key.size()));
  JwtPtr jwt(raw);
  if (rc != 0 || jwt == nullptr) return Invalid("invalid token: signature verification failed");
  if (jwt_get_alg(jwt.get()) != (rs256_ ? JWT_ALG_RS256 : JWT_ALG_HS256)) {
    return Invalid(absl::StrCat("invalid token: algorithm must be ", expected_alg));
  }

  // The signature is good, so the claims are the issuer's; read them from the same bytes.
  std::optional<google::protobuf::Struct> claims = DecodeJsonSegment(parts[1]);
  if (!claims.has_value()) return Malformed("malformed token: payload is not base64url JSON");

  const absl::Time now = clock_->Now();
  bool ok = true;
  std::optional<absl::Time> exp = TimeClaim(*claims, "exp", &ok);
  if (!ok || !exp.has_value()) return Invalid("invalid token: exp claim missing or not a number");
  std::optional<absl::Time> nbf = TimeClaim(*claims, "nbf", &ok);
  if (!ok) return Invalid("invalid token: nbf claim is not a number");
  TimeClaim(*claims, "iat", &ok);
  if (!ok) return Invalid("invalid token: iat claim is not a number");
  absl::Status window = CheckValidityWindow(now, *exp, nbf, config_.leeway);
  if (!window.ok()) return window;

  std::optional<std::string> iss = StringClaim(*claims, "iss");
  if (!iss.has_value() || *iss != config_.issuer) {
    return Invalid("invalid token: issuer not accepted by this service");
  }
  const google::protobuf::Value* aud = Field(*claims, "aud");
  if (aud == nullptr || !AudienceMatches(*aud, config_.audience)) {
    return Invalid("invalid token: not issued for this service (aud)");
  }

  Principal p;
  std::optional<std::string> sub = StringClaim(*claims, "sub");
  if (!sub.has_value() || sub->empty() || sub->size() > kMaxSubjectBytes) {
    return Invalid("invalid token: sub claim missing or invalid");
  }
  p.subject = *std::move(sub);
  std::optional<std::string> role_name = StringClaim(*claims, "role");
  if (!role_name.has_value()) return Invalid("invalid token: role claim missing");
  absl::StatusOr<Role> role = ParseRole(*role_name);
  if (!role.ok()) return Invalid("invalid token: unknown role");
  p.role = *role;
  const google::protobuf::Value* pid = Field(*claims, "partner_id");
  if (pid != nullptr && pid->kind_case() != google::protobuf::Value::kStringValue) {
    return Invalid("invalid token: partner_id claim is not a string");
  }
  std::string partner_id = pid != nullptr ? pid->string_value() : std::string();
  if (p.role == Role::kPartner && partner_id.empty()) {
    return Invalid("invalid token: role partner needs a partner_id claim");
  }
  // Scoping code keys on partner_id; a staff token carrying one is a minting mistake.
  if (p.role != Role::kPartner && !partner_id.empty()) {
    return Invalid("invalid token: partner_id is only allowed with role partner");
  }
  p.partner_id = std::move(partner_id);
  cache_->Insert(token, Verified{p, *exp, nbf});
  return p;
}

absl::StatusOr<std::string> MintToken(const MintOptions& o) {
  if (o.subject.empty()) return absl::InvalidArgumentError("mint: subject is required");
  if (o.role == Role::kPartner && o.partner_id.empty()) {
    return absl::InvalidArgumentError("mint: role partner needs a partner_id");
  }
  if (o.role != Role::kPartner && !o.partner_id.empty()) {
    return absl::InvalidArgumentError("mint: partner_id is only allowed with role partner");
  }
  if (o.issuer.empty() || o.audience.empty()) {
    return absl::InvalidArgumentError("mint: issuer and audience are required");
  }
  if (o.ttl <= absl::ZeroDuration()) return absl::InvalidArgumentError("mint: ttl must be > 0");
  const bool has_secret = !o.hs256_secret.empty();
  const bool has_key = !o.rs256_private_key_pem.empty();
  if (has_secret == has_key) {
    return absl::InvalidArgumentError(
        "mint: set exactly one of hs256_secret (HS256) and rs256_private_key_pem (RS256)");
  }
  if (has_secret && o.hs256_secret.size() < kMinHs256SecretBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("mint: hs256_secret must be at least ", kMinHs256SecretBytes, " bytes"));
  }
  if (has_key) {
    absl::Status s = CheckRsaPem(o.rs256_private_key_pem, /*is_private=*/true,
                                 "mint: rs256_private_key_pem");
    if (!s.ok()) return s;
  }

  const absl::Time now = (o.clock != nullptr ? *o.clock : SystemClock()).Now();
  const int64_t iat = absl::ToUnixSeconds(now);
  const int64_t exp = absl::ToUnixSeconds(now + o.ttl);

  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) return absl::InternalError("jwt_new failed");
  JwtPtr jwt(raw);
  int rc = 0;
  rc |= jwt_add_grant(jwt.get(), "sub", o.subject.c_str());
  rc |= jwt_add_grant(jwt.get(), "role", std::string(RoleName(o.role)).c_str());
  if (!o.partner_id.empty()) rc |= jwt_add_grant(jwt.get(), "partner_id", o.partner_id.c_str());
  rc |= jwt_add_grant(jwt.get(), "iss", o.issuer.c_str());
  rc |= jwt_add_grant(jwt.get(), "aud", o.audience.c_str());
  rc |= jwt_add_grant_int(jwt.get(), "iat", static_cast<long>(iat));
  rc |= jwt_add_grant_int(jwt.get(), "nbf", static_cast<long>(iat));
  rc |= jwt_add_grant_int(jwt.get(), "exp", static_cast<long>(exp));
  if (rc != 0) return absl::InternalError("jwt_add_grant failed");
  const std::string& key = has_key ? o.rs256_private_key_pem : o.hs256_secret;
  if (jwt_set_alg(jwt.get(), has_key ? JWT_ALG_RS256 : JWT_ALG_HS256,
                  reinterpret_cast<const unsigned char*>(key.data()),
                  static_cast<int>(key.size())) != 0) {
    return absl::InternalError("jwt_set_alg failed");
  }
  char* encoded = jwt_encode_str(jwt.get());
  if (encoded == nullptr) return absl::InternalError("jwt_encode_str failed");
  std::string out(encoded);
  std::free(encoded);
  return out;
}

MethodRoles& MethodRoles::Allow(absl::string_view full_method, std::initializer_list<Role> roles) {
  Entry& e = methods_[std::string(full_method)];
  e.restricted = true;
  e.roles.insert(roles.begin(), roles.end());
  return *this;
}

MethodRoles& MethodRoles::Open(absl::string_view full_method) {
  methods_[std::string(full_method)].open = true;
  return *this;
}

bool MethodRoles::IsOpen(absl::string_view full_method) const {
  // Probes and tooling must work without a token; neither exposes business data.
  for (absl::string_view prefix : {"/grpc.health.v1.Health/",
                                   "/grpc.reflection.v1alpha.ServerReflection/",
                                   "/grpc.reflection.v1.ServerReflection/"}) {
    if (absl::StartsWith(full_method, prefix)) return true;
  }
  auto it = methods_.find(full_method);
  return it != methods_.end() && it->second.open && !it->second.restricted;
}

bool MethodRoles::IsDeclared(absl::string_view full_method) const {
  return IsOpen(full_method) || methods_.contains(full_method);
}

absl::Status MethodRoles::Check(absl::string_view method, const Principal& principal) const {
  if (IsOpen(method)) return absl::OkStatus();
  auto it = methods_.find(method);
  if (it == methods_.end()) {
    return WithReason(absl::PermissionDeniedError("method is not available to any caller"),
                      kReasonMethodNotDeclared);
  }
  if (it->second.roles.count(principal.role) == 0) {
    return WithReason(absl::PermissionDeniedError(absl::StrCat(
                          "role ", RoleName(principal.role), " may not call this method")),
                      kReasonRoleNotAllowed);
  }
  return absl::OkStatus();
}

std::vector<std::string> MethodRoles::UndeclaredMethods(
    const google::protobuf::ServiceDescriptor& service) const {
  std::vector<std::string> names;
  for (int i = 0; i < service.method_count(); ++i) {
    names.push_back(FullMethodName(service.full_name(), service.method(i)->name()));
  }
  return UndeclaredMethods(names);
}

std::vector<std::string> MethodRoles::UndeclaredMethods(
    const std::vector<std::string>& methods) const {
  std::vector<std::string> out;
  for (const std::string& m : methods) {
    if (!IsDeclared(m)) out.push_back(m);
  }
  return out;
}

std::string FullMethodName(absl::string_view service_full_name, absl::string_view method) {
  return absl::StrCat("/", service_full_name, "/", method);
}

}  // namespace anken::auth
