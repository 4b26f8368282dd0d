#pragma once
// CSV files as Japanese offices make them: UTF-8 (with or without BOM) or CP932 (Shift_JIS as
// Excel writes it), RFC 4180 quoting. Pure; links Abseil (and iconv from the C library).

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace anken::csv {

// Bytes → UTF-8: a UTF-8 BOM is dropped; valid UTF-8 is taken as is; otherwise the bytes are
// decoded as CP932. INVALID_ARGUMENT when they are neither.
absl::StatusOr<std::string> DecodeCsvBytes(absl::string_view bytes);

// RFC 4180: comma-separated, "quoted" fields with "" escapes and embedded newlines, CRLF or
// LF line ends, a final newline optional. Each record keeps its 1-based starting line number
// in `lines` (a quoted newline makes a record span lines). INVALID_ARGUMENT (naming the line)
// on an unterminated quote or a character after a closing quote.
struct Table {
  std::vector<std::vector<std::string>> records;
  std::vector<int> lines;
};
absl::StatusOr<Table> ParseCsvTable(absl::string_view utf8);

// ParseCsvTable without the line numbers.
absl::StatusOr<std::vector<std::vector<std::string>>> ParseCsv(absl::string_view utf8);

// UTF-8 → CP932 (for tests and for files users download to open in Excel). INVALID_ARGUMENT
// for characters CP932 cannot hold.
absl::StatusOr<std::string> EncodeCp932(absl::string_view utf8);

// True when `bytes` is well-formed UTF-8 (no overlongs, no surrogates).
bool IsValidUtf8(absl::string_view bytes);

}  // namespace anken::csv
