#include "common/log/log.h"

#include <iostream>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace anken::log {
namespace {

struct Sink {
  std::mutex mu;
  std::string service = "anken";
  Level min_level = Level::kInfo;
  std::ostream* out = &std::cout;
};

Sink& TheSink() {
  static Sink* sink = new Sink();
  return *sink;
}

const char* LevelName(Level l) {
  switch (l) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

}  // namespace

void Init(std::string service, Level min_level, std::ostream* sink) {
  Sink& s = TheSink();
  std::lock_guard<std::mutex> lock(s.mu);
  s.service = std::move(service);
  s.min_level = min_level;
  s.out = sink != nullptr ? sink : &std::cout;
}

Level ParseLevel(absl::string_view name) {
  if (name == "debug") return Level::kDebug;
  if (name == "warn") return Level::kWarn;
  if (name == "error") return Level::kError;
  return Level::kInfo;
}

std::string JsonEscape(absl::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

Event::Event(Level level, absl::string_view msg) {
  Sink& s = TheSink();
  {
    std::lock_guard<std::mutex> lock(s.mu);
    enabled_ = level >= s.min_level;
    if (!enabled_) return;
    line_ = absl::StrCat("{\"level\":\"", LevelName(level), "\",\"ts\":\"",
                         absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()),
                         "\",\"service\":\"", JsonEscape(s.service), "\"");
  }
  absl::StrAppend(&line_, ",\"msg\":\"", JsonEscape(msg), "\"");
}

Event::Event(Event&& other) noexcept : enabled_(other.enabled_), line_(std::move(other.line_)) {
  other.enabled_ = false;
}

Event::~Event() {
  if (!enabled_) return;
  line_ += "}\n";
  Sink& s = TheSink();
  std::lock_guard<std::mutex> lock(s.mu);
  *s.out << line_;
  s.out->flush();
}

Event& Event::Str(absl::string_view key, absl::string_view value) {
  if (enabled_) absl::StrAppend(&line_, ",\"", JsonEscape(key), "\":\"", JsonEscape(value), "\"");
  return *this;
}

Event& Event::Int(absl::string_view key, int64_t value) {
  if (enabled_) absl::StrAppend(&line_, ",\"", JsonEscape(key), "\":", value);
  return *this;
}

Event& Event::Num(absl::string_view key, double value) {
  if (enabled_) absl::StrAppend(&line_, ",\"", JsonEscape(key), "\":", absl::StrFormat("%.3f", value));
  return *this;
}

Event& Event::Bool(absl::string_view key, bool value) {
  if (enabled_) absl::StrAppend(&line_, ",\"", JsonEscape(key), "\":", value ? "true" : "false");
  return *this;
}

}  // namespace anken::log
