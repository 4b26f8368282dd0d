#pragma once
// W3C trace context (`traceparent`) and request ids: read from incoming metadata, passed on
// to calls to other services so that one trace id follows a request through the suite.

#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"

namespace anken::server {

struct TraceParent {
  std::string trace_id;   // 32 lower-case hex digits, not all zero
  std::string parent_id;  // 16 lower-case hex digits, not all zero
  std::string flags;      // 2 hex digits
};

// Parses "00-<trace_id>-<parent_id>-<flags>"; nullopt when malformed (then a new trace starts).
absl::optional<TraceParent> ParseTraceParent(absl::string_view header);

// A new span in the same trace: same trace id, fresh random parent id.
std::string ChildTraceParent(const TraceParent& parent);

// A fresh trace (random ids, sampled flag off).
TraceParent NewTrace();

std::string FormatTraceParent(const TraceParent& t);

}  // namespace anken::server
