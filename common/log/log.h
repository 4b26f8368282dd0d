#pragma once
// One JSON object per line on stdout: {"level":..,"ts":..,"service":..,"msg":.., fields...}.
// Thread-safe; lines never interleave. Abseil 20220623 has no absl/log, hence this.
//
//   log::Info("rpc").Str("rpc", method).Int("latency_ms", 3);   // written when it goes out of scope

#include <cstdint>
#include <ostream>
#include <string>
#include "absl/strings/string_view.h"

namespace anken::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Sets the service name stamped on every line, the minimum level and the sink (stdout by
// default; tests pass a stringstream). Call once at start, before other threads log.
void Init(std::string service, Level min_level, std::ostream* sink = nullptr);
// "debug" | "info" | "warn" | "error"; anything else is kInfo.
Level ParseLevel(absl::string_view name);

// JSON string escaping (quotes not included).
std::string JsonEscape(absl::string_view s);

class Event {
 public:
  Event(Level level, absl::string_view msg);
  Event(Event&& other) noexcept;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  ~Event();

  Event& Str(absl::string_view key, absl::string_view value);
  Event& Int(absl::string_view key, int64_t value);
  Event& Num(absl::string_view key, double value);
  Event& Bool(absl::string_view key, bool value);

 private:
  bool enabled_;
  std::string line_;
};

inline Event Debug(absl::string_view msg) { return Event(Level::kDebug, msg); }
inline Event Info(absl::string_view msg) { return Event(Level::kInfo, msg); }
inline Event Warn(absl::string_view msg) { return Event(Level::kWarn, msg); }
inline Event Error(absl::string_view msg) { return Event(Level::kError, msg); }

}  // namespace anken::log
