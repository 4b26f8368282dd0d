#pragma once
// A1 cell references as .xlsx files spell them ("B12", "$B$12"). Rows and columns are 1-based
// like Excel shows them (A = 1), within Excel's grid: 1,048,576 rows by 16,384 columns (XFD).

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace anken::xlsx {

inline constexpr int kMaxRow = 1048576;
inline constexpr int kMaxColumn = 16384;

struct CellRef {
  int row = 0;
  int column = 0;
};

// "B12" / "$B$12" / "b12" -> {12, 2}. INVALID_ARGUMENT for anything else, including "A0",
// "A01", "XFE1", "A1048577" and ranges.
absl::StatusOr<CellRef> ParseCellRef(absl::string_view ref);

// A row number as in <row r="12">: 1..kMaxRow, no sign, no leading zero.
absl::StatusOr<int> ParseRowNumber(absl::string_view text);

// 1 -> "A", 28 -> "AB", 16384 -> "XFD". Empty for a column outside 1..kMaxColumn.
std::string ColumnName(int column);

// {12, 2} -> "B12".
std::string FormatCellRef(int row, int column);

}  // namespace anken::xlsx
