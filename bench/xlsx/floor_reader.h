#pragma once
// The floor of reading an .xlsx: the least work any reader must do to hand out a sheet's cell
// values — open the zip (libzip, from memory), inflate the shared strings and one sheet part
// and stream them through expat, resolving shared-string indices — and nothing else: no
// relationships, no limits, no checks, no types, no escapes. A file it does not understand
// gives garbage or an error, never a crash. Only a benchmark yardstick: never for uploads.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace anken::bench {

struct FloorCounts {
  int64_t rows = 0;
  int64_t cells = 0;
  int64_t text_bytes = 0;  // of every value handed out
};

// Reads the sheet stored at `sheet_part` (e.g. "xl/worksheets/sheet1.xml") of the .xlsx in
// `bytes`, calling `on_row` with each row's cell values in file order (when set).
absl::StatusOr<FloorCounts> FloorReadSheet(
    absl::string_view bytes, const std::string& sheet_part,
    const std::function<void(const std::vector<std::string>&)>& on_row = nullptr);

}  // namespace anken::bench
