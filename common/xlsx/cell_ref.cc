#include "common/xlsx/cell_ref.h"

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace anken::xlsx {
namespace {

absl::Status BadRef(absl::string_view ref) {
  return absl::InvalidArgumentError(
      absl::StrCat("not a cell reference: \"", ref.substr(0, 32), "\""));
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

absl::StatusOr<int> ParseRowNumber(absl::string_view text) {
  // Seven digits hold kMaxRow; a longer run is out of range whatever it says.
  if (text.empty() || text.size() > 7 || text[0] == '0') {
    return absl::InvalidArgumentError(
        absl::StrCat("not a row number: \"", text.substr(0, 32), "\""));
  }
  int64_t row = 0;
  for (char c : text) {
    if (!IsDigit(c)) {
      return absl::InvalidArgumentError(
          absl::StrCat("not a row number: \"", text.substr(0, 32), "\""));
    }
    row = row * 10 + (c - '0');
  }
  if (row > kMaxRow) {
    return absl::InvalidArgumentError(absl::StrCat("row ", row, " is beyond Excel's last row"));
  }
  return static_cast<int>(row);
}

absl::StatusOr<CellRef> ParseCellRef(absl::string_view ref) {
  absl::string_view rest = ref;
  if (!rest.empty() && rest[0] == '$') rest.remove_prefix(1);
  int column = 0;
  size_t letters = 0;
  while (letters < rest.size() && letters < 4) {
    char c = rest[letters];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c < 'A' || c > 'Z') break;
    column = column * 26 + (c - 'A' + 1);
    ++letters;
  }
  if (letters == 0 || letters > 3 || column > kMaxColumn) return BadRef(ref);
  rest.remove_prefix(letters);
  if (!rest.empty() && rest[0] == '$') rest.remove_prefix(1);
  auto row = ParseRowNumber(rest);
  if (!row.ok()) return BadRef(ref);
  return CellRef{*row, column};
}

std::string ColumnName(int column) {
  if (column < 1 || column > kMaxColumn) return "";
  std::string name;
  while (column > 0) {
    int digit = (column - 1) % 26;
    name.insert(name.begin(), static_cast<char>('A' + digit));
    column = (column - 1) / 26;
  }
  return name;
}

std::string FormatCellRef(int row, int column) { return absl::StrCat(ColumnName(column), row); }

}  // namespace anken::xlsx
