#pragma once
// Reads .xlsx workbooks (Office Open XML spreadsheets) as written by Excel, LibreOffice,
// openpyxl and libxlsxwriter: cell values, sheet names and visibility, defined names and the
// date system. Formatting is not interpreted. Parts are found through the package's
// relationships, never by conventional names. Rows stream to a callback as the sheet XML is
// inflated, so memory holds one row (plus the shared strings), not the sheet.
//
// Every refusal of a file (not a zip, not an .xlsx, damaged, encrypted, over a ReadLimits
// cap, a DTD, a path trick) is INVALID_ARGUMENT with a message that says why, for logs; a
// service shows its own text to the user. Work is bounded by ReadLimits whatever the file
// claims; ReadStats shows what was actually done.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/xlsx/limits.h"
#include "common/xlsx/values.h"

namespace anken::xlsx {

enum class CellType { kEmpty, kString, kNumber, kBool, kError };

struct Cell {
  int row = 0;     // 1-based, from the file's reference (or position when it has none)
  int column = 0;  // 1-based: A = 1
  CellType type = CellType::kEmpty;
  // The value as the file spells it. kString: the text (rich-text runs joined, furigana
  // runs dropped, _xHHHH_ escapes decoded, _x0000_ too: text may hold control characters and
  // NUL, which a consumer that stores text must refuse); also t="d" ISO dates, which
  // ParseTextDate reads.
  // kNumber: the <v> text exactly ("1250000", "1E+020"): read money with ParseWholeNumber.
  // kBool: "0" / "1". kError: "#N/A" etc. kEmpty: "".
  std::string text;
  double number = 0;     // kNumber; kBool as 0 / 1. A date cell is a number (a serial).
  bool formula = false;  // the cell has a formula; the value is its cached result, if any
  int style = 0;         // the s attribute (an index into the workbook's cell formats)
};

struct Row {
  int number = 0;           // 1-based
  std::vector<Cell> cells;  // ascending columns; absent cells are simply missing
  const Cell* Find(int column) const;
};

enum class SheetVisibility { kVisible, kHidden, kVeryHidden };

struct SheetInfo {
  std::string name;
  SheetVisibility visibility = SheetVisibility::kVisible;
  std::string part;  // the zip entry holding it, e.g. "xl/worksheets/sheet1.xml"
};

struct DefinedName {
  std::string name;
  std::string formula;   // e.g. "_anken!$B$1"
  int local_sheet = -1;  // index into WorkbookInfo::sheets when scoped to a sheet
  bool hidden = false;
};

struct WorkbookInfo {
  std::vector<SheetInfo> sheets;  // in tab order
  std::vector<DefinedName> defined_names;
  DateSystem date_system = DateSystem::k1900;
  const SheetInfo* FindSheet(absl::string_view name) const;
  const DefinedName* FindDefinedName(absl::string_view name) const;  // workbook-scoped first
};

// A row handed to the callback; returning an error stops the read and is returned as is.
using RowCallback = std::function<absl::Status(const Row& row)>;

class XlsxReader {
 public:
  explicit XlsxReader(const ReadLimits& limits = ReadLimits());
  ~XlsxReader();
  XlsxReader(const XlsxReader&) = delete;
  XlsxReader& operator=(const XlsxReader&) = delete;

  // Checks the archive and reads the workbook, its relationships and the shared strings.
  // `bytes` must outlive the reader. Call once.
  absl::Status Open(absl::string_view bytes);

  // Valid after a successful Open.
  const WorkbookInfo& info() const { return info_; }

  // Streams the rows of the sheet called `name` (exact match) in file order. Rows and cells
  // ascend strictly (a file that repeats or reorders them is refused). NOT_FOUND for no such
  // sheet; FAILED_PRECONDITION before a successful Open.
  absl::Status ReadSheet(absl::string_view name, const RowCallback& on_row);

  const ReadStats& stats() const { return stats_; }

 private:
  struct Package;
  ReadLimits limits_;
  ReadStats stats_;
  WorkbookInfo info_;
  std::unique_ptr<Package> package_;
};

struct Sheet {
  SheetInfo info;
  std::vector<Row> rows;
  const Cell* Find(int row, int column) const;
};

struct Workbook {
  WorkbookInfo info;
  std::vector<Sheet> sheets;  // every sheet, hidden ones too, in tab order
  const Sheet* FindSheet(absl::string_view name) const;
};

// The whole workbook in memory (bounded by `limits`). `stats`, when given, is filled in
// whether or not the read succeeds.
absl::StatusOr<Workbook> ReadXlsx(absl::string_view bytes, const ReadLimits& limits = ReadLimits(),
                                  ReadStats* stats = nullptr);

}  // namespace anken::xlsx
