#pragma once
// Plain-text tables for a terminal: columns padded to the widest cell by display width, where
// East Asian wide and fullwidth characters (漢字, かな, 全角英数) take two columns and half-width
// katakana one, so Japanese names line up. Pure.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace anken::ctl {

// Terminal columns `utf8` takes: 2 for East Asian Wide/Fullwidth code points, 0 for combining
// marks, 1 for everything else (an invalid byte counts 1).
int DisplayWidth(absl::string_view utf8);

// "¥1,234,567" (the documents' form, common/pdf); negative "-¥1,000".
std::string Yen(int64_t yen);

class Table {
 public:
  explicit Table(std::vector<std::string> headers);

  // Numbers read better right-aligned (amounts, counts).
  void AlignRight(size_t column);
  // A row shorter than the headers is padded with empty cells.
  void AddRow(std::vector<std::string> cells);
  size_t size() const { return rows_.size(); }

  // Header line, then one line per row; columns two spaces apart, no trailing spaces. With no
  // rows, the header line and "(none)".
  std::string Render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

// One record as "label  value" lines, labels padded to the widest (for `get` commands).
std::string RenderDetail(const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace anken::ctl
