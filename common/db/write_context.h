#pragma once
// The vocabulary every service's store interface shares (no pqxx here, so interfaces and fakes
// stay free of it): who is writing and why, the audit entries read back, and the callbacks
// stores take for idempotent creates (Encoder: the response bytes kept for replays) and
// read-modify-write updates (Mutator: validates and changes the locked row).

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace anken::db {

struct WriteContext {
  std::string actor;       // JWT sub
  std::string actor_role;  // admin | staff | accounting | partner | service
  std::string method;      // full gRPC method name
  std::string request_id;  // empty for writes guarded by etags instead
  std::string request_hash;
  absl::Time now;
  absl::Time deadline = absl::InfiniteFuture();
};

struct AuditEntry {
  int64_t id = 0;
  absl::Time event_time;
  std::string actor;
  std::string actor_role;
  std::string method;
  std::string resource_type;
  std::string resource_id;
  std::string change_json;
  std::string request_id;
};

template <typename T>
using Encoder = std::function<std::string(const T&)>;
template <typename T>
using Mutator = std::function<absl::Status(T&)>;

}  // namespace anken::db
