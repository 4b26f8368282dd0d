#pragma once
// A thin layer over libxlsxwriter that produces the .xlsx in memory. libxlsxwriter only
// writes to a path, so each XlsxWriter owns a private mkdtemp folder (under $TMPDIR, mode
// 0700) that holds the file and libxlsxwriter's own temporary files, and removes it when
// finished or destroyed.
//
// Text is only ever written with worksheet_write_string: a value that starts with '=' stays
// text and never becomes a formula. Rows and columns are 1-based, as XlsxReader reports
// them. For anything else (formats, data validation, protection, hiding sheets, defined
// names) use workbook() and the libxlsxwriter API directly, which counts from 0.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"

struct lxw_workbook;
struct lxw_worksheet;
struct lxw_format;

namespace anken::xlsx {

struct WriterOptions {
  // libxlsxwriter's constant-memory mode: rows must be written in order (a cell in an
  // earlier row is silently dropped) and strings are stored inline (t="inlineStr").
  bool constant_memory = false;
};

class XlsxWriter {
 public:
  // INTERNAL when the temporary folder or the workbook cannot be created.
  static absl::StatusOr<std::unique_ptr<XlsxWriter>> Create(const WriterOptions& options = {});
  ~XlsxWriter();
  XlsxWriter(const XlsxWriter&) = delete;
  XlsxWriter& operator=(const XlsxWriter&) = delete;

  lxw_workbook* workbook() { return workbook_; }

  // INVALID_ARGUMENT for a name Excel refuses (over 31 characters, []:*?/\, a duplicate).
  absl::StatusOr<lxw_worksheet*> AddSheet(absl::string_view name);

  // Always a string cell. INVALID_ARGUMENT for text that is not UTF-8 or is longer than
  // Excel's 32,767 characters, or a cell outside the grid.
  absl::Status WriteText(lxw_worksheet* sheet, int row, int column, absl::string_view text,
                         lxw_format* format = nullptr);
  absl::Status WriteNumber(lxw_worksheet* sheet, int row, int column, double value,
                           lxw_format* format = nullptr);
  // An integer (yen) as a number cell. INVALID_ARGUMENT beyond ±2^53, which a double (and so
  // Excel) cannot hold exactly.
  absl::Status WriteInteger(lxw_worksheet* sheet, int row, int column, int64_t value,
                            lxw_format* format = nullptr);
  // A date as its 1900-system serial; give a format with a date number format so that it
  // shows as a date.
  absl::Status WriteDate(lxw_worksheet* sheet, int row, int column, absl::CivilDay day,
                         lxw_format* format);

  // Closes the workbook and returns the file's bytes. The writer is spent afterwards.
  absl::StatusOr<std::string> Finish();

 private:
  XlsxWriter() = default;
  absl::Status CheckOpen() const;
  void Cleanup();

  std::string folder_;
  lxw_workbook* workbook_ = nullptr;
};

}  // namespace anken::xlsx
