#pragma once
// Configuration comes only from ANKEN_* environment variables, read once at start and
// validated as a whole: every bad value is reported in one message, so an operator fixes
// them in one go. The README's configuration table lists every variable read here.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace anken {

// Where variables come from: the process environment, or a map in tests.
class Env {
 public:
  static Env Process();
  static Env FromMap(std::map<std::string, std::string> vars);
  std::optional<std::string> Get(const std::string& name) const;

 private:
  explicit Env(std::function<std::optional<std::string>(const std::string&)> lookup)
      : lookup_(std::move(lookup)) {}
  std::function<std::optional<std::string>(const std::string&)> lookup_;
};

// Reads typed values and collects every problem; Finish() reports them all.
class ConfigReader {
 public:
  explicit ConfigReader(const Env& env) : env_(env) {}

  std::string String(const std::string& name, const std::string& fallback);
  // An empty or unset required variable is an error.
  std::string RequiredString(const std::string& name);
  int64_t Int(const std::string& name, int64_t fallback, int64_t min, int64_t max);
  int Port(const std::string& name, int fallback) {
    return static_cast<int>(Int(name, fallback, 0, 65535));
  }
  // A Go-style duration: "250ms", "5s", "2m", "1h30m".
  absl::Duration Duration(const std::string& name, absl::Duration fallback);
  // true/false/1/0/yes/no.
  bool Bool(const std::string& name, bool fallback);
  // One of `allowed`.
  std::string OneOf(const std::string& name, const std::string& fallback,
                    const std::vector<std::string>& allowed);
  // Records a problem found by the caller's own cross-field checks.
  void Fail(const std::string& name, const std::string& problem);

  // OK, or INVALID_ARGUMENT: "invalid configuration: ANKEN_X: ...; ANKEN_Y: ...".
  absl::Status Finish() const;

 private:
  const Env& env_;
  std::vector<std::string> errors_;
};

// The settings every service shares. Each service adds its own with a ConfigReader.
struct CommonConfig {
  std::string service;         // e.g. "customer"; also the schema name
  std::string listen_host;     // ANKEN_LISTEN_HOST
  int grpc_port = 0;           // ANKEN_GRPC_PORT
  int metrics_port = 0;        // ANKEN_METRICS_PORT (0 = any free port)
  std::string database_url;    // ANKEN_DATABASE_URL (libpq URI)
  int db_pool_size = 8;        // ANKEN_DB_POOL_SIZE
  absl::Duration db_acquire_timeout;    // ANKEN_DB_ACQUIRE_TIMEOUT
  absl::Duration db_statement_timeout;  // ANKEN_DB_STATEMENT_TIMEOUT (when no deadline)
  std::string jwt_secret;               // ANKEN_JWT_SECRET (HS256)
  std::string jwt_public_key_file;      // ANKEN_JWT_PUBLIC_KEY_FILE (RS256 instead)
  std::string jwt_issuer;               // ANKEN_JWT_ISSUER
  std::string jwt_audience;             // ANKEN_JWT_AUDIENCE
  std::string page_token_secret;        // ANKEN_PAGE_TOKEN_SECRET
  std::string log_level;                // ANKEN_LOG_LEVEL
  int max_message_bytes = 0;            // ANKEN_MAX_MESSAGE_BYTES
  absl::Duration shutdown_grace;        // ANKEN_SHUTDOWN_GRACE
  absl::Duration keepalive_time;        // ANKEN_KEEPALIVE_TIME
  absl::Duration health_interval;       // ANKEN_HEALTH_INTERVAL
};

// Reads the common settings for `service` with its default ports (DESIGN.md "Running it").
absl::StatusOr<CommonConfig> LoadCommonConfig(const Env& env, const std::string& service,
                                              int default_grpc_port, int default_metrics_port);

}  // namespace anken
