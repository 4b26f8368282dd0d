#include "common/csv/csv.h"

#include <errno.h>
#include <iconv.h>

#include "absl/strings/str_cat.h"

namespace anken::csv {
namespace {

// Converts with iconv; false on any invalid or unconvertible sequence.
bool Convert(const char* from, const char* to, absl::string_view in, std::string* out) {
  iconv_t cd = iconv_open(to, from);
  if (cd == reinterpret_cast<iconv_t>(-1)) return false;
  out->clear();
  std::string buf(in.size() * 4 + 16, '\0');
  char* src = const_cast<char*>(in.data());
  size_t src_left = in.size();
  char* dst = buf.data();
  size_t dst_left = buf.size();
  const size_t r = iconv(cd, &src, &src_left, &dst, &dst_left);
  const bool ok = r != static_cast<size_t>(-1) && src_left == 0;
  iconv_close(cd);
  if (!ok) return false;
  out->assign(buf.data(), buf.size() - dst_left);
  return true;
}

}  // namespace

bool IsValidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    int n;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + static_cast<size_t>(n) >= s.size()) return false;  // truncated sequence
    for (int k = 1; k <= n; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

absl::StatusOr<std::string> DecodeCsvBytes(absl::string_view bytes) {
  if (bytes.size() >= 3 && bytes.substr(0, 3) == "\xEF\xBB\xBF") {
    bytes.remove_prefix(3);
    if (!IsValidUtf8(bytes)) {
      return absl::InvalidArgumentError("the file starts with a UTF-8 BOM but is not UTF-8");
    }
    return std::string(bytes);
  }
  if (IsValidUtf8(bytes)) return std::string(bytes);
  std::string out;
  if (Convert("CP932", "UTF-8", bytes, &out)) return out;
  return absl::InvalidArgumentError(
      "the file is neither UTF-8 nor Shift_JIS (CP932); save it as CSV (UTF-8) or CSV from Excel");
}

absl::StatusOr<std::string> EncodeCp932(absl::string_view utf8) {
  std::string out;
  if (Convert("UTF-8", "CP932", utf8, &out)) return out;
  return absl::InvalidArgumentError("text has characters that CP932 cannot hold");
}

absl::StatusOr<Table> ParseCsvTable(absl::string_view s) {
  Table t;
  std::vector<std::string> record;
  std::string field;
  int line = 1;
  int record_line = 1;
  bool in_quotes = false;
  bool after_quote = false;  // a quoted field just closed
  bool field_started = false;
  auto end_field = [&] {
    record.push_back(std::move(field));
    field.clear();
    after_quote = false;
    field_started = false;
  };
  auto end_record = [&] {
    end_field();
    // A blank line is no record.
    if (!(record.size() == 1 && record[0].empty())) {
      t.records.push_back(std::move(record));
      t.lines.push_back(record_line);
    }
    record.clear();
  };
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < s.size() && s[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          in_quotes = false;
          after_quote = true;
        }
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
      continue;
    }
    if (c == ',') {
      end_field();
    } else if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
      end_record();
      ++line;
      record_line = line;
    } else if (after_quote) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", line, ": unexpected character after a closing quote"));
    } else if (c == '"' && !field_started) {
      in_quotes = true;
      field_started = true;
    } else {
      field.push_back(c);
      field_started = true;
    }
  }
  if (in_quotes) {
    return absl::InvalidArgumentError(
        absl::StrCat("line ", record_line, ": a quoted field is not closed"));
  }
  if (!field.empty() || !record.empty() || after_quote) end_record();
  return t;
}

absl::StatusOr<std::vector<std::vector<std::string>>> ParseCsv(absl::string_view utf8) {
  absl::StatusOr<Table> t = ParseCsvTable(utf8);
  if (!t.ok()) return t.status();
  return std::move(t->records);
}

}  // namespace anken::csv
