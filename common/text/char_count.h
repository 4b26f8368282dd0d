#pragma once
// Length limits are stated to people in characters: 500 kanji are 1,500 UTF-8 bytes and must
// still pass. Header-only, so that the services' domain libraries (no gRPC, no protobuf) and
// the handlers count the same way.

#include <cstddef>

#include "absl/strings/string_view.h"

namespace anken::text {

// Code points of UTF-8 text: every byte but a continuation byte (10xxxxxx) starts one. The
// text is well-formed by then (the request check refuses a string field that is not).
inline size_t CharCount(absl::string_view text) {
  size_t n = 0;
  for (char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

}  // namespace anken::text
