#include "tools/ankenctl/table.h"

#include <algorithm>

#include "common/jp/format.h"

namespace anken::ctl {
namespace {

bool IsWide(uint32_t c) {
  return (c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0x303E) ||
         (c >= 0x3041 && c <= 0x33FF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xA000 && c <= 0xA4CF) ||
         (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) ||
         (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
         (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1F64F) ||
         (c >= 0x20000 && c <= 0x3FFFD);
}

bool IsCombining(uint32_t c) {
  return (c >= 0x0300 && c <= 0x036F) || c == 0x3099 || c == 0x309A || c == 0x200B ||
         (c >= 0xFE00 && c <= 0xFE0F);
}

std::string Pad(const std::string& cell, int width, bool right) {
  const std::string fill(static_cast<size_t>(std::max(0, width - DisplayWidth(cell))), ' ');
  return right ? fill + cell : cell + fill;
}

void TrimRight(std::string* line) {
  while (!line->empty() && line->back() == ' ') line->pop_back();
}

}  // namespace

int DisplayWidth(absl::string_view s) {
  int width = 0;
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > s.size()) {  // not UTF-8: one column per byte
      ++width;
      ++i;
      continue;
    }
    uint32_t c = len == 1 ? b : (b & (0x7F >> len));
    bool valid = true;
    for (size_t k = 1; k < len; ++k) {
      const auto cont = static_cast<unsigned char>(s[i + k]);
      if ((cont & 0xC0) != 0x80) valid = false;
      c = (c << 6) | (cont & 0x3F);
    }
    if (!valid) {
      ++width;
      ++i;
      continue;
    }
    width += IsCombining(c) ? 0 : IsWide(c) ? 2 : 1;
    i += len;
  }
  return width;
}

std::string Yen(int64_t yen) { return jp::FormatYen(yen); }

Table::Table(std::vector<std::string> headers)
    : headers_(std::move(headers)), right_(headers_.size(), false) {}

void Table::AlignRight(size_t column) {
  if (column < right_.size()) right_[column] = true;
}

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(std::max(cells.size(), headers_.size()));
  rows_.push_back(std::move(cells));
}

std::string Table::Render() const {
  std::vector<int> widths(headers_.size(), 0);
  for (size_t c = 0; c < headers_.size(); ++c) {
    widths[c] = DisplayWidth(headers_[c]);
    for (const auto& row : rows_) widths[c] = std::max(widths[c], DisplayWidth(row[c]));
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t c = 0; c < headers_.size(); ++c) {
      if (c > 0) out += "  ";
      out += Pad(cells[c], widths[c], right_[c]);
    }
    TrimRight(&out);
    return out + "\n";
  };
  std::string out = line(headers_);
  for (const auto& row : rows_) out += line(row);
  if (rows_.empty()) out += "(none)\n";
  return out;
}

std::string RenderDetail(const std::vector<std::pair<std::string, std::string>>& fields) {
  int width = 0;
  for (const auto& f : fields) width = std::max(width, DisplayWidth(f.first));
  std::string out;
  for (const auto& f : fields) {
    std::string l = Pad(f.first, width, false) + "  " + f.second;
    TrimRight(&l);
    out += l + "\n";
  }
  return out;
}

}  // namespace anken::ctl
