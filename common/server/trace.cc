#include "common/server/trace.h"

#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"

namespace anken::server {
namespace {

bool IsLowerHex(absl::string_view s, size_t len) {
  if (s.size() != len) return false;
  bool nonzero = false;
  for (char c : s) {
    if (!absl::ascii_isxdigit(c) || absl::ascii_isupper(c)) return false;
    nonzero |= c != '0';
  }
  return nonzero;
}

std::string RandomHex(int bytes) {
  static absl::Mutex mu(absl::kConstInit);
  static std::mt19937_64* rng = new std::mt19937_64(std::random_device{}());
  std::string out;
  absl::MutexLock lock(&mu);
  while (static_cast<int>(out.size()) < bytes * 2) {
    absl::StrAppend(&out, absl::StrFormat("%016x", (*rng)()));
  }
  out.resize(bytes * 2);
  return out;
}

}  // namespace

absl::optional<TraceParent> ParseTraceParent(absl::string_view header) {
  std::vector<absl::string_view> parts = absl::StrSplit(header, '-');
  if (parts.size() < 4 || parts[0].size() != 2 || parts[0] == "ff") return absl::nullopt;
  if (parts[0] == "00" && parts.size() != 4) return absl::nullopt;
  if (!IsLowerHex(parts[1], 32) || !IsLowerHex(parts[2], 16)) return absl::nullopt;
  if (parts[3].size() != 2 || !absl::ascii_isxdigit(parts[3][0]) ||
      !absl::ascii_isxdigit(parts[3][1])) {
    return absl::nullopt;
  }
  return TraceParent{std::string(parts[1]), std::string(parts[2]), std::string(parts[3])};
}

std::string ChildTraceParent(const TraceParent& parent) {
  return FormatTraceParent({parent.trace_id, RandomHex(8), parent.flags});
}

TraceParent NewTrace() { return {RandomHex(16), RandomHex(8), "00"}; }

std::string FormatTraceParent(const TraceParent& t) {
  return absl::StrCat("00-", t.trace_id, "-", t.parent_id, "-", t.flags);
}

}  // namespace anken::server
