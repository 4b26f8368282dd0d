#include "common/config/config.h"

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace anken {

Env Env::Process() {
  return Env([](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  });
}

Env Env::FromMap(std::map<std::string, std::string> vars) {
  return Env([vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  });
}

std::optional<std::string> Env::Get(const std::string& name) const { return lookup_(name); }

std::string ConfigReader::String(const std::string& name, const std::string& fallback) {
  auto v = env_.Get(name);
  return v.has_value() && !v->empty() ? *v : fallback;
}

std::string ConfigReader::RequiredString(const std::string& name) {
  auto v = env_.Get(name);
  if (!v.has_value() || v->empty()) {
    Fail(name, "is required but not set");
    return "";
  }
  return *v;
}

int64_t ConfigReader::Int(const std::string& name, int64_t fallback, int64_t min, int64_t max) {
  auto v = env_.Get(name);
  if (!v.has_value() || v->empty()) return fallback;
  int64_t out = 0;
  if (!absl::SimpleAtoi(*v, &out)) {
    Fail(name, absl::StrCat("\"", *v, "\" is not an integer"));
    return fallback;
  }
  if (out < min || out > max) {
    Fail(name, absl::StrCat(out, " is out of range ", min, "..", max));
    return fallback;
  }
  return out;
}

absl::Duration ConfigReader::Duration(const std::string& name, absl::Duration fallback) {
  auto v = env_.Get(name);
  if (!v.has_value() || v->empty()) return fallback;
  absl::Duration out;
  if (!absl::ParseDuration(*v, &out) || out < absl::ZeroDuration()) {
    Fail(name, absl::StrCat("\"", *v, "\" is not a duration such as 500ms, 5s or 2m"));
    return fallback;
  }
  return out;
}

bool ConfigReader::Bool(const std::string& name, bool fallback) {
  auto v = env_.Get(name);
  if (!v.has_value() || v->empty()) return fallback;
  std::string s = absl::AsciiStrToLower(*v);
  if (s == "true" || s == "1" || s == "yes") return true;
  if (s == "false" || s == "0" || s == "no") return false;
  Fail(name, absl::StrCat("\"", *v, "\" is not true or false"));
  return fallback;
}

std::string ConfigReader::OneOf(const std::string& name, const std::string& fallback,
                                const std::vector<std::string>& allowed) {
  std::string v = String(name, fallback);
  for (const auto& a : allowed) {
    if (v == a) return v;
  }
  Fail(name, absl::StrCat("\"", v, "\" is not one of ", absl::StrJoin(allowed, ", ")));
  return fallback;
}

void ConfigReader::Fail(const std::string& name, const std::string& problem) {
  errors_.push_back(absl::StrCat(name, " ", problem));
}

absl::Status ConfigReader::Finish() const {
  if (errors_.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("invalid configuration: ", absl::StrJoin(errors_, "; ")));
}

absl::StatusOr<CommonConfig> LoadCommonConfig(const Env& env, const std::string& service,
                                              int default_grpc_port, int default_metrics_port) {
  ConfigReader r(env);
  CommonConfig c;
  c.service = service;
  c.listen_host = r.String("ANKEN_LISTEN_HOST", "0.0.0.0");
  c.grpc_port = r.Port("ANKEN_GRPC_PORT", default_grpc_port);
  c.metrics_port = r.Port("ANKEN_METRICS_PORT", default_metrics_port);
  c.database_url = r.RequiredString("ANKEN_DATABASE_URL");
  c.db_pool_size = static_cast<int>(r.Int("ANKEN_DB_POOL_SIZE", 8, 1, 256));
  c.db_acquire_timeout = r.Duration("ANKEN_DB_ACQUIRE_TIMEOUT", absl::Seconds(2));
  c.db_statement_timeout = r.Duration("ANKEN_DB_STATEMENT_TIMEOUT", absl::Seconds(30));
  c.jwt_secret = r.String("ANKEN_JWT_SECRET", "");
  c.jwt_public_key_file = r.String("ANKEN_JWT_PUBLIC_KEY_FILE", "");
  c.jwt_issuer = r.String("ANKEN_JWT_ISSUER", "anken");
  c.jwt_audience = r.String("ANKEN_JWT_AUDIENCE", "anken");
  c.page_token_secret = r.String("ANKEN_PAGE_TOKEN_SECRET", "");
  c.log_level = r.OneOf("ANKEN_LOG_LEVEL", "info", {"debug", "info", "warn", "error"});
  c.max_message_bytes =
      static_cast<int>(r.Int("ANKEN_MAX_MESSAGE_BYTES", 16 << 20, 1 << 20, 1 << 30));
  c.shutdown_grace = r.Duration("ANKEN_SHUTDOWN_GRACE", absl::Seconds(10));
  c.keepalive_time = r.Duration("ANKEN_KEEPALIVE_TIME", absl::Minutes(1));
  c.health_interval = r.Duration("ANKEN_HEALTH_INTERVAL", absl::Seconds(5));
  if (c.health_interval < absl::Milliseconds(10)) {
    r.Fail("ANKEN_HEALTH_INTERVAL", "must be at least 10ms");
  }

  if (c.jwt_secret.empty() == c.jwt_public_key_file.empty()) {
    r.Fail("ANKEN_JWT_SECRET",
           "or ANKEN_JWT_PUBLIC_KEY_FILE must be set, exactly one of them (HS256 or RS256)");
  } else if (!c.jwt_secret.empty() && c.jwt_secret.size() < 32) {
    r.Fail("ANKEN_JWT_SECRET", "must be at least 32 bytes long");
  }
  if (!c.page_token_secret.empty() && c.page_token_secret.size() < 16) {
    r.Fail("ANKEN_PAGE_TOKEN_SECRET", "must be at least 16 bytes long");
  }
  if (c.page_token_secret.empty()) c.page_token_secret = c.jwt_secret;
  if (c.page_token_secret.empty() && !c.jwt_public_key_file.empty()) {
    r.Fail("ANKEN_PAGE_TOKEN_SECRET", "is required when RS256 (ANKEN_JWT_PUBLIC_KEY_FILE) is used");
  }
  if (c.shutdown_grace > absl::Minutes(5)) {
    r.Fail("ANKEN_SHUTDOWN_GRACE", "must be at most 5m");
  }
  if (absl::Status s = r.Finish(); !s.ok()) return s;
  return c;
}

}  // namespace anken
