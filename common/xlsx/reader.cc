#include "common/xlsx/reader.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status/status_macros.h"
#include "common/xlsx/cell_ref.h"
#include "common/xlsx/xml_stream.h"
#include "common/xlsx/zip_input.h"

namespace anken::xlsx {

using internal::FindAttribute;
using internal::XmlHandler;
using internal::XmlStream;
using internal::ZipInput;

namespace {

// SpreadsheetML in its transitional (what everyone writes) and strict forms.
constexpr absl::string_view kMainNs = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
constexpr absl::string_view kStrictMainNs = "http://purl.oclc.org/ooxml/spreadsheetml/main";
constexpr absl::string_view kRelsNs =
    "http://schemas.openxmlformats.org/package/2006/relationships";

bool IsMain(absl::string_view ns) { return ns.empty() || ns == kMainNs || ns == kStrictMainNs; }

absl::Status Refuse(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("xlsx refused: ", why));
}

bool IsTrue(absl::string_view value) { return value == "1" || value == "true"; }

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool HexDigit(char c, int* value) {
  if (c >= '0' && c <= '9') {
    *value = c - '0';
  } else if (c >= 'a' && c <= 'f') {
    *value = c - 'a' + 10;
  } else if (c >= 'A' && c <= 'F') {
    *value = c - 'A' + 10;
  } else {
    return false;
  }
  return true;
}

// "_xHHHH_" at s[i], as Excel escapes characters XML cannot hold (and "_" itself as _x005F_).
bool EscapeAt(absl::string_view s, size_t i, uint32_t* cp) {
  if (i + 7 > s.size() || s[i] != '_' || s[i + 1] != 'x' || s[i + 6] != '_') return false;
  uint32_t v = 0;
  for (size_t k = i + 2; k < i + 6; ++k) {
    int digit = 0;
    if (!HexDigit(s[k], &digit)) return false;
    v = (v << 4) | static_cast<uint32_t>(digit);
  }
  *cp = v;
  return true;
}

// Decodes the _xHHHH_ escapes as Excel does on reading (surrogate pairs joined; a lone
// surrogate stays literal text). _x0000_ decodes to a NUL character: XML cannot hold one any
// other way, and a service must see it to refuse it (a NUL kept as the literal "_x0000_" would
// pass every check and reach storage as seven harmless-looking characters).
std::string DecodeEscapes(std::string text) {
  if (text.find("_x") == std::string::npos) return text;
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    uint32_t cp = 0;
    if (EscapeAt(text, i, &cp)) {
      uint32_t low = 0;
      if (cp >= 0xD800 && cp <= 0xDBFF && EscapeAt(text, i + 7, &low) && low >= 0xDC00 &&
          low <= 0xDFFF) {
        AppendUtf8(0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00), &out);
        i += 14;
        continue;
      }
      if (cp < 0xD800 || cp > 0xDFFF) {
        AppendUtf8(cp, &out);
        i += 7;
        continue;
      }
    }
    out.push_back(text[i]);
    ++i;
  }
  return out;
}

// Appends parsed text to a buffer, refusing past the per-text cap.
absl::Status AppendText(absl::string_view text, std::string* buffer, absl::string_view what,
                        const ReadLimits& limits, ReadStats* stats) {
  if (static_cast<int64_t>(buffer->size() + text.size()) > limits.max_text_bytes) {
    return Refuse(absl::StrCat("a ", what, " is longer than ", limits.max_text_bytes, " bytes"));
  }
  buffer->append(text.data(), text.size());
  stats->longest_text = std::max(stats->longest_text, static_cast<int64_t>(buffer->size()));
  return absl::OkStatus();
}

// Streams one part through `handler`.
absl::Status ParsePart(ZipInput& zip, int64_t index, absl::string_view part, XmlHandler* handler,
                       const ReadLimits& limits, ReadStats* stats) {
  XmlStream xml(handler, part, limits, stats);
  RETURN_IF_ERROR(zip.Inflate(index, [&](absl::string_view chunk) { return xml.Feed(chunk); }));
  return xml.Finish();
}

std::string PercentDecode(absl::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    int hi = 0, lo = 0;
    if (s[i] == '%' && i + 2 < s.size() && HexDigit(s[i + 1], &hi) && HexDigit(s[i + 2], &lo)) {
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// The folder of a part ("xl/" for "xl/workbook.xml", "" for "book.xml").
absl::string_view FolderOf(absl::string_view part) {
  const size_t slash = part.rfind('/');
  return slash == absl::string_view::npos ? absl::string_view() : part.substr(0, slash + 1);
}

// Where a part's relationships live: "xl/_rels/workbook.xml.rels".
std::string RelsPartOf(absl::string_view part) {
  const absl::string_view folder = FolderOf(part);
  return absl::StrCat(folder, "_rels/", part.substr(folder.size()), ".rels");
}

// A relationship target, relative to the source part's folder or absolute ("/xl/..."), as
// a normalised part name. ".." may step up inside the package, never out of it.
absl::StatusOr<std::string> ResolveTarget(absl::string_view source_part, absl::string_view target) {
  const std::string decoded = PercentDecode(target);
  std::string joined = absl::StartsWith(decoded, "/")
                           ? decoded.substr(1)
                           : absl::StrCat(FolderOf(source_part), decoded);
  std::vector<absl::string_view> segments;
  for (absl::string_view segment : absl::StrSplit(joined, '/')) {
    if (segment.empty() || segment == ".") continue;
    if (segment == "..") {
      if (segments.empty()) {
        return Refuse(
            absl::StrCat("relationship target \"", target.substr(0, 80), "\" leaves the package"));
      }
      segments.pop_back();
      continue;
    }
    segments.push_back(segment);
  }
  if (segments.empty()) return Refuse("an empty relationship target");
  return absl::StrJoin(segments, "/");
}

// ---- _rels/*.rels ----

struct Relationship {
  std::string id;
  std::string type;
  std::string target;
  bool external = false;
};

class RelsHandler : public XmlHandler {
 public:
  explicit RelsHandler(std::vector<Relationship>* out) : out_(out) {}
  absl::Status Start(absl::string_view ns, absl::string_view name, const char** attrs) override {
    ++depth_;
    const bool known_ns = ns.empty() || ns == kRelsNs;
    if (depth_ == 2 && known_ns && name == "Relationship") {
      Relationship rel;
      rel.id = std::string(FindAttribute(attrs, "Id").value_or(""));
      rel.type = std::string(FindAttribute(attrs, "Type").value_or(""));
      rel.target = std::string(FindAttribute(attrs, "Target").value_or(""));
      rel.external = FindAttribute(attrs, "TargetMode").value_or("") == "External";
      if (out_->size() >= 10000) return Refuse("too many relationships");
      out_->push_back(std::move(rel));
    }
    return absl::OkStatus();
  }
  absl::Status End(absl::string_view, absl::string_view) override {
    --depth_;
    return absl::OkStatus();
  }
  absl::Status Text(absl::string_view) override { return absl::OkStatus(); }

 private:
  std::vector<Relationship>* out_;
  int depth_ = 0;
};

// ---- xl/workbook.xml ----

struct SheetEntry {
  SheetInfo info;
  std::string relationship_id;
};

class WorkbookHandler : public XmlHandler {
 public:
  WorkbookHandler(const ReadLimits& limits, ReadStats* stats, std::vector<SheetEntry>* sheets,
                  WorkbookInfo* info)
      : limits_(limits), stats_(stats), sheets_(sheets), info_(info) {}

  absl::Status Start(absl::string_view ns, absl::string_view name, const char** attrs) override {
    const Tag parent = stack_.empty() ? Tag::kNone : stack_.back();
    Tag tag = Tag::kOther;
    if (IsMain(ns)) {
      if (parent == Tag::kNone && name == "workbook") {
        tag = Tag::kWorkbook;
      } else if (parent == Tag::kWorkbook && name == "workbookPr") {
        ReadWorkbookPr(attrs);
      } else if (parent == Tag::kWorkbook && name == "sheets") {
        tag = Tag::kSheets;
      } else if (parent == Tag::kWorkbook && name == "definedNames") {
        tag = Tag::kDefinedNames;
      } else if (parent == Tag::kSheets && name == "sheet") {
        RETURN_IF_ERROR(AddSheet(attrs));
      } else if (parent == Tag::kDefinedNames && name == "definedName") {
        tag = Tag::kDefinedName;
        RETURN_IF_ERROR(StartDefinedName(attrs));
      }
    }
    if (parent == Tag::kNone && tag != Tag::kWorkbook) {
      return Refuse("the workbook part is not a SpreadsheetML workbook");
    }
    stack_.push_back(tag);
    return absl::OkStatus();
  }

  absl::Status End(absl::string_view, absl::string_view) override {
    stack_.pop_back();
    return absl::OkStatus();
  }

  absl::Status Text(absl::string_view text) override {
    if (!stack_.empty() && stack_.back() == Tag::kDefinedName) {
      return AppendText(text, &info_->defined_names.back().formula, "defined name", limits_,
                        stats_);
    }
    return absl::OkStatus();
  }

 private:
  enum class Tag { kNone, kWorkbook, kSheets, kDefinedNames, kDefinedName, kOther };

  void ReadWorkbookPr(const char** attrs) {
    if (IsTrue(FindAttribute(attrs, "date1904").value_or(""))) {
      info_->date_system = DateSystem::k1904;
    }
  }

  absl::Status AddSheet(const char** attrs) {
    SheetEntry entry;
    auto name = FindAttribute(attrs, "name");
    auto id = FindAttribute(attrs, "id");  // r:id
    if (!name || name->empty() || !id) return Refuse("a sheet without a name or r:id");
    entry.info.name = std::string(*name);
    const absl::string_view state = FindAttribute(attrs, "state").value_or("visible");
    if (state == "hidden") {
      entry.info.visibility = SheetVisibility::kHidden;
    } else if (state == "veryHidden") {
      entry.info.visibility = SheetVisibility::kVeryHidden;
    }
    entry.relationship_id = std::string(*id);
    if (static_cast<int64_t>(sheets_->size()) >= limits_.max_entries) {
      return Refuse("more sheets than zip entries allow");
    }
    sheets_->push_back(std::move(entry));
    return absl::OkStatus();
  }

  absl::Status StartDefinedName(const char** attrs) {
    if (static_cast<int64_t>(info_->defined_names.size()) >= 10000) {
      return Refuse("too many defined names");
    }
    DefinedName defined;
    defined.name = std::string(FindAttribute(attrs, "name").value_or(""));
    if (auto local = FindAttribute(attrs, "localSheetId")) {
      if (!absl::SimpleAtoi(*local, &defined.local_sheet) || defined.local_sheet < 0) {
        return Refuse("a defined name with a bad localSheetId");
      }
    }
    defined.hidden = IsTrue(FindAttribute(attrs, "hidden").value_or(""));
    info_->defined_names.push_back(std::move(defined));
    return absl::OkStatus();
  }

  const ReadLimits& limits_;
  ReadStats* stats_;
  std::vector<SheetEntry>* sheets_;
  WorkbookInfo* info_;
  std::vector<Tag> stack_;
};

// ---- rich text, shared by <si> (shared strings) and <is> (inline strings) ----
//
// The value is the <t> directly inside the item plus the <t> of each <r> run; <t> inside
// <rPh> is furigana (reading aid), not part of the value.
enum class TextTag { kOther, kItem, kRun, kT };

TextTag ClassifyTextTag(TextTag parent, absl::string_view ns, absl::string_view name) {
  if (!IsMain(ns)) return TextTag::kOther;
  if (parent == TextTag::kItem && name == "r") return TextTag::kRun;
  if ((parent == TextTag::kItem || parent == TextTag::kRun) && name == "t") return TextTag::kT;
  return TextTag::kOther;
}

// ---- sharedStrings.xml ----

class SharedStringsHandler : public XmlHandler {
 public:
  SharedStringsHandler(const ReadLimits& limits, ReadStats* stats, std::vector<std::string>* out)
      : limits_(limits), stats_(stats), out_(out) {}

  absl::Status Start(absl::string_view ns, absl::string_view name, const char**) override {
    ++depth_;
    if (depth_ == 1) {
      if (!IsMain(ns) || name != "sst") return Refuse("the shared strings part is not an <sst>");
      return absl::OkStatus();
    }
    if (depth_ == 2) {
      in_item_ = IsMain(ns) && name == "si";
      if (in_item_) {
        if (stats_->shared_strings >= limits_.max_shared_strings) {
          return Refuse(absl::StrCat("more than ", limits_.max_shared_strings, " shared strings"));
        }
        current_.clear();
        stack_.assign(1, TextTag::kItem);
      }
      return absl::OkStatus();
    }
    if (in_item_) stack_.push_back(ClassifyTextTag(stack_.back(), ns, name));
    return absl::OkStatus();
  }

  absl::Status End(absl::string_view, absl::string_view) override {
    if (depth_ == 2 && in_item_) {
      in_item_ = false;
      std::string value = DecodeEscapes(std::move(current_));
      stats_->shared_string_bytes += static_cast<int64_t>(value.size());
      if (stats_->shared_string_bytes > limits_.max_shared_string_bytes) {
        return Refuse(absl::StrCat("the shared strings hold over ", limits_.max_shared_string_bytes,
                                   " bytes"));
      }
      ++stats_->shared_strings;
      out_->push_back(std::move(value));
      current_.clear();
    } else if (depth_ > 2 && in_item_) {
      stack_.pop_back();
    }
    --depth_;
    return absl::OkStatus();
  }

  absl::Status Text(absl::string_view text) override {
    if (in_item_ && stack_.back() == TextTag::kT) {
      return AppendText(text, &current_, "shared string", limits_, stats_);
    }
    return absl::OkStatus();
  }

 private:
  const ReadLimits& limits_;
  ReadStats* stats_;
  std::vector<std::string>* out_;
  int depth_ = 0;
  bool in_item_ = false;
  std::vector<TextTag> stack_;
  std::string current_;
};

// ---- a worksheet ----

class SheetHandler : public XmlHandler {
 public:
  SheetHandler(const ReadLimits& limits, ReadStats* stats,
               const std::vector<std::string>& shared_strings, const RowCallback& on_row)
      : limits_(limits), stats_(stats), shared_strings_(shared_strings), on_row_(on_row) {}

  absl::Status Start(absl::string_view ns, absl::string_view name, const char** attrs) override {
    const Tag parent = stack_.empty() ? Tag::kNone : stack_.back();
    Tag tag = Tag::kOther;
    if (parent == Tag::kIs || parent == Tag::kRun) {
      // Inline rich text: same rules as shared strings.
      const TextTag t =
          ClassifyTextTag(parent == Tag::kIs ? TextTag::kItem : TextTag::kRun, ns, name);
      tag = t == TextTag::kRun ? Tag::kRun : t == TextTag::kT ? Tag::kT : Tag::kOther;
    } else if (IsMain(ns)) {
      if (parent == Tag::kNone && name == "worksheet") {
        tag = Tag::kWorksheet;
      } else if (parent == Tag::kWorksheet && name == "sheetData") {
        tag = Tag::kSheetData;
      } else if (parent == Tag::kSheetData && name == "row") {
        tag = Tag::kRow;
        RETURN_IF_ERROR(StartRow(attrs));
      } else if (parent == Tag::kRow && name == "c") {
        tag = Tag::kC;
        RETURN_IF_ERROR(StartCell(attrs));
      } else if (parent == Tag::kC && name == "v") {
        tag = Tag::kV;
        has_v_ = true;
      } else if (parent == Tag::kC && name == "f") {
        tag = Tag::kOther;
        cell_.formula = true;
      } else if (parent == Tag::kC && name == "is") {
        tag = Tag::kIs;
        has_is_ = true;
      }
    }
    stack_.push_back(tag);
    return absl::OkStatus();
  }

  absl::Status End(absl::string_view, absl::string_view) override {
    const Tag tag = stack_.back();
    stack_.pop_back();
    if (tag == Tag::kC) return EndCell();
    if (tag == Tag::kRow) return EndRow();
    return absl::OkStatus();
  }

  absl::Status Text(absl::string_view text) override {
    if (stack_.empty()) return absl::OkStatus();
    if (stack_.back() == Tag::kV) return AppendText(text, &v_, "cell value", limits_, stats_);
    if (stack_.back() == Tag::kT) return AppendText(text, &is_, "cell text", limits_, stats_);
    return absl::OkStatus();
  }

 private:
  enum class Tag { kNone, kWorksheet, kSheetData, kRow, kC, kV, kIs, kRun, kT, kOther };

  absl::Status StartRow(const char** attrs) {
    if (++stats_->rows > limits_.max_rows) {
      return Refuse(absl::StrCat("more than ", limits_.max_rows, " rows"));
    }
    int number = row_.number + 1;
    if (auto r = FindAttribute(attrs, "r")) {
      auto parsed = ParseRowNumber(*r);
      if (!parsed.ok()) return Refuse(parsed.status().message());
      number = *parsed;
    }
    if (number <= row_.number || number > kMaxRow) {
      return Refuse(absl::StrCat("row ", number, " comes after row ", row_.number));
    }
    row_.number = number;
    row_.cells.clear();
    return absl::OkStatus();
  }

  absl::Status StartCell(const char** attrs) {
    if (++stats_->cells > limits_.max_cells) {
      return Refuse(absl::StrCat("more than ", limits_.max_cells, " cells"));
    }
    const int previous = row_.cells.empty() ? 0 : row_.cells.back().column;
    int column = previous + 1;
    if (auto r = FindAttribute(attrs, "r")) {
      auto ref = ParseCellRef(*r);
      if (!ref.ok()) return Refuse(ref.status().message());
      if (ref->row != row_.number) {
        return Refuse(absl::StrCat("cell ", *r, " is inside row ", row_.number));
      }
      column = ref->column;
    }
    if (column <= previous || column > kMaxColumn) {
      return Refuse(absl::StrCat("row ", row_.number, " repeats or reorders its cells"));
    }
    cell_ = Cell();
    cell_.row = row_.number;
    cell_.column = column;
    type_ = std::string(FindAttribute(attrs, "t").value_or("n"));
    int style = 0;
    if (absl::SimpleAtoi(FindAttribute(attrs, "s").value_or("0"), &style) && style >= 0) {
      cell_.style = style;  // formatting is not interpreted, so a bad index is not an error
    }
    has_v_ = has_is_ = false;
    v_.clear();
    is_.clear();
    return absl::OkStatus();
  }

  absl::Status EndCell() {
    // Only a refusal names the cell: formatting it for every cell cost an allocation each.
    const auto where = [this] { return FormatCellRef(cell_.row, cell_.column); };
    if (type_ == "s") {
      if (has_v_) {
        int64_t index = -1;
        if (!absl::SimpleAtoi(v_, &index) || index < 0 ||
            index >= static_cast<int64_t>(shared_strings_.size())) {
          return Refuse(absl::StrCat("cell ", where(), " points at a missing shared string"));
        }
        cell_.type = CellType::kString;
        cell_.text = shared_strings_[static_cast<size_t>(index)];
      }
    } else if (type_ == "inlineStr") {
      if (has_is_) {
        cell_.type = CellType::kString;
        cell_.text = DecodeEscapes(std::move(is_));
      }
    } else if (type_ == "str") {
      if (has_v_) {
        cell_.type = CellType::kString;
        cell_.text = DecodeEscapes(std::move(v_));
      }
    } else if (type_ == "d") {
      if (has_v_ && !v_.empty()) {
        cell_.type = CellType::kString;
        cell_.text = std::move(v_);
      }
    } else if (type_ == "b") {
      if (has_v_) {
        const absl::string_view v = absl::StripAsciiWhitespace(v_);
        if (v != "0" && v != "1" && v != "true" && v != "false") {
          return Refuse(absl::StrCat("cell ", where(), " is a boolean that is neither 0 nor 1"));
        }
        cell_.type = CellType::kBool;
        cell_.number = (v == "1" || v == "true") ? 1 : 0;
        cell_.text = cell_.number == 1 ? "1" : "0";
      }
    } else if (type_ == "e") {
      if (has_v_) {
        cell_.type = CellType::kError;
        cell_.text = std::move(v_);
      }
    } else if (type_ == "n") {
      if (has_v_ && !absl::StripAsciiWhitespace(v_).empty()) {
        double number = 0;
        if (!absl::SimpleAtod(v_, &number) || !std::isfinite(number)) {
          return Refuse(absl::StrCat("cell ", where(), " is a number that does not parse"));
        }
        cell_.type = CellType::kNumber;
        cell_.number = number;
        cell_.text = std::move(v_);
      }
    } else {
      return Refuse(
          absl::StrCat("cell ", where(), " has unknown type \"", type_.substr(0, 16), "\""));
    }
    // Shared strings can be referenced any number of times; this counter is what bounds
    // the text a small sheet can make the reader hand out.
    stats_->cell_text_bytes += static_cast<int64_t>(cell_.text.size());
    if (stats_->cell_text_bytes > limits_.max_cell_text_bytes) {
      return Refuse(
          absl::StrCat("the cells hold over ", limits_.max_cell_text_bytes, " bytes of text"));
    }
    row_.cells.push_back(std::move(cell_));
    return absl::OkStatus();
  }

  absl::Status EndRow() { return on_row_(row_); }

  const ReadLimits& limits_;
  ReadStats* stats_;
  const std::vector<std::string>& shared_strings_;
  const RowCallback& on_row_;
  std::vector<Tag> stack_;
  Row row_;
  Cell cell_;
  std::string type_;
  bool has_v_ = false;
  bool has_is_ = false;
  std::string v_;
  std::string is_;
};

}  // namespace

struct XlsxReader::Package {
  std::unique_ptr<ZipInput> zip;
  std::vector<SheetEntry> sheets;  // parallel to info_.sheets
  std::vector<std::string> shared_strings;
};

XlsxReader::XlsxReader(const ReadLimits& limits) : limits_(limits) {}
XlsxReader::~XlsxReader() = default;

absl::Status XlsxReader::Open(absl::string_view bytes) {
  if (package_ != nullptr) return absl::FailedPreconditionError("XlsxReader::Open called twice");
  auto package = std::make_unique<Package>();
  ASSIGN_OR_RETURN(package->zip, ZipInput::Open(bytes, limits_, &stats_));
  ZipInput& zip = *package->zip;

  const auto read_rels = [&](absl::string_view part,
                             std::vector<Relationship>* rels) -> absl::Status {
    const int64_t index = zip.Find(part);
    if (index < 0) return absl::OkStatus();
    RelsHandler handler(rels);
    return ParsePart(zip, index, part, &handler, limits_, &stats_);
  };

  std::vector<Relationship> root_rels;
  RETURN_IF_ERROR(read_rels("_rels/.rels", &root_rels));
  std::string workbook_part;
  for (const Relationship& rel : root_rels) {
    if (!rel.external && absl::EndsWith(rel.type, "/officeDocument")) {
      ASSIGN_OR_RETURN(workbook_part, ResolveTarget("", rel.target));
      break;
    }
  }
  if (workbook_part.empty()) return Refuse("not an .xlsx (no office document relationship)");
  const int64_t workbook_index = zip.Find(workbook_part);
  if (workbook_index < 0) {
    return Refuse(absl::StrCat("not an .xlsx (", workbook_part.substr(0, 80), " is missing)"));
  }

  std::vector<Relationship> rels;
  RETURN_IF_ERROR(read_rels(RelsPartOf(workbook_part), &rels));
  WorkbookInfo info;
  WorkbookHandler workbook_handler(limits_, &stats_, &package->sheets, &info);
  RETURN_IF_ERROR(
      ParsePart(zip, workbook_index, workbook_part, &workbook_handler, limits_, &stats_));
  if (package->sheets.empty()) return Refuse("the workbook has no sheets");

  absl::flat_hash_set<std::string> names;
  for (SheetEntry& sheet : package->sheets) {
    if (!names.insert(sheet.info.name).second) {
      return Refuse(absl::StrCat("two sheets are called \"", sheet.info.name.substr(0, 64), "\""));
    }
    const Relationship* rel = nullptr;
    for (const Relationship& r : rels) {
      if (r.id == sheet.relationship_id && !r.external) rel = &r;
    }
    if (rel == nullptr) {
      return Refuse(
          absl::StrCat("sheet \"", sheet.info.name.substr(0, 64), "\" has no relationship"));
    }
    ASSIGN_OR_RETURN(std::string part, ResolveTarget(workbook_part, rel->target));
    const int64_t index = zip.Find(part);
    if (index < 0) {
      return Refuse(absl::StrCat("sheet \"", sheet.info.name.substr(0, 64), "\" is missing (",
                                 part.substr(0, 80), ")"));
    }
    sheet.info.part = zip.Name(index);
    info.sheets.push_back(sheet.info);
  }

  for (const Relationship& rel : rels) {
    if (rel.external || !absl::EndsWith(rel.type, "/sharedStrings")) continue;
    ASSIGN_OR_RETURN(std::string part, ResolveTarget(workbook_part, rel.target));
    const int64_t index = zip.Find(part);
    if (index < 0) {
      return Refuse(absl::StrCat("shared strings part ", part.substr(0, 80), " is missing"));
    }
    SharedStringsHandler handler(limits_, &stats_, &package->shared_strings);
    RETURN_IF_ERROR(ParsePart(zip, index, part, &handler, limits_, &stats_));
    break;
  }

  info_ = std::move(info);
  package_ = std::move(package);
  return absl::OkStatus();
}

absl::Status XlsxReader::ReadSheet(absl::string_view name, const RowCallback& on_row) {
  if (package_ == nullptr) return absl::FailedPreconditionError("XlsxReader is not open");
  const SheetInfo* sheet = info_.FindSheet(name);
  if (sheet == nullptr) {
    return absl::NotFoundError(absl::StrCat("no sheet called \"", name.substr(0, 64), "\""));
  }
  SheetHandler handler(limits_, &stats_, package_->shared_strings, on_row);
  return ParsePart(*package_->zip, package_->zip->Find(sheet->part), sheet->part, &handler, limits_,
                   &stats_);
}

const Cell* Row::Find(int column) const {
  auto it = std::lower_bound(cells.begin(), cells.end(), column,
                             [](const Cell& c, int col) { return c.column < col; });
  return it != cells.end() && it->column == column ? &*it : nullptr;
}

const SheetInfo* WorkbookInfo::FindSheet(absl::string_view name) const {
  for (const SheetInfo& sheet : sheets) {
    if (sheet.name == name) return &sheet;
  }
  return nullptr;
}

const DefinedName* WorkbookInfo::FindDefinedName(absl::string_view name) const {
  const DefinedName* scoped = nullptr;
  for (const DefinedName& defined : defined_names) {
    if (defined.name != name) continue;
    if (defined.local_sheet < 0) return &defined;
    if (scoped == nullptr) scoped = &defined;
  }
  return scoped;
}

const Cell* Sheet::Find(int row, int column) const {
  auto it = std::lower_bound(rows.begin(), rows.end(), row,
                             [](const Row& r, int number) { return r.number < number; });
  return it != rows.end() && it->number == row ? it->Find(column) : nullptr;
}

const Sheet* Workbook::FindSheet(absl::string_view name) const {
  for (const Sheet& sheet : sheets) {
    if (sheet.info.name == name) return &sheet;
  }
  return nullptr;
}

absl::StatusOr<Workbook> ReadXlsx(absl::string_view bytes, const ReadLimits& limits,
                                  ReadStats* stats) {
  XlsxReader reader(limits);
  Workbook workbook;
  absl::Status status = reader.Open(bytes);
  if (status.ok()) {
    workbook.info = reader.info();
    for (const SheetInfo& info : reader.info().sheets) {
      Sheet sheet;
      sheet.info = info;
      status = reader.ReadSheet(info.name, [&sheet](const Row& row) {
        sheet.rows.push_back(row);
        return absl::OkStatus();
      });
      if (!status.ok()) break;
      workbook.sheets.push_back(std::move(sheet));
    }
  }
  if (stats != nullptr) *stats = reader.stats();
  if (!status.ok()) return status;
  return workbook;
}

}  // namespace anken::xlsx
