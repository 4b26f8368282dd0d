#include "common/xlsx/writer.h"

#include <stdlib.h>
#include <xlsxwriter.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "common/csv/csv.h"
#include "common/status/status_macros.h"
#include "common/xlsx/cell_ref.h"
#include "common/xlsx/values.h"

namespace anken::xlsx {
namespace {

constexpr char kFileName[] = "book.xlsx";
constexpr int64_t kMaxExactInteger = int64_t{1} << 53;

absl::Status FromLxw(lxw_error error, absl::string_view what) {
  if (error == LXW_NO_ERROR) return absl::OkStatus();
  const std::string message = absl::StrCat("xlsx writer: ", what, ": ", lxw_strerror(error));
  switch (error) {
    case LXW_ERROR_MAX_STRING_LENGTH_EXCEEDED:
    case LXW_ERROR_WORKSHEET_INDEX_OUT_OF_RANGE:
    case LXW_ERROR_SHEETNAME_LENGTH_EXCEEDED:
    case LXW_ERROR_INVALID_SHEETNAME_CHARACTER:
    case LXW_ERROR_SHEETNAME_START_END_APOSTROPHE:
    case LXW_ERROR_SHEETNAME_ALREADY_USED:
    case LXW_ERROR_NULL_PARAMETER_IGNORED:
      return absl::InvalidArgumentError(message);
    default:
      return absl::InternalError(message);
  }
}

absl::Status CheckCell(int row, int column) {
  if (row < 1 || row > kMaxRow || column < 1 || column > kMaxColumn) {
    return absl::InvalidArgumentError(
        absl::StrCat("xlsx writer: cell (", row, ", ", column, ") is outside the grid"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<XlsxWriter>> XlsxWriter::Create(const WriterOptions& options) {
  std::error_code ec;
  const std::filesystem::path base = std::filesystem::temp_directory_path(ec);
  if (ec) return absl::InternalError("xlsx writer: no temporary directory");
  std::string pattern = (base / "anken-xlsx-XXXXXX").string();
  // mkdtemp creates the folder 0700, so other users cannot read the partner's data.
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError("xlsx writer: cannot create a temporary folder");
  }
  std::unique_ptr<XlsxWriter> writer(new XlsxWriter());
  writer->folder_ = pattern;
  const std::string path = (std::filesystem::path(pattern) / kFileName).string();
  lxw_workbook_options lxw_options = {};
  lxw_options.constant_memory = options.constant_memory ? LXW_TRUE : LXW_FALSE;
  lxw_options.tmpdir = writer->folder_.data();
  writer->workbook_ = workbook_new_opt(path.c_str(), &lxw_options);
  if (writer->workbook_ == nullptr) {
    return absl::InternalError("xlsx writer: cannot create the workbook");
  }
  return writer;
}

XlsxWriter::~XlsxWriter() {
  if (workbook_ != nullptr) workbook_close(workbook_);  // also frees it
  Cleanup();
}

void XlsxWriter::Cleanup() {
  if (folder_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(folder_, ec);  // best effort: nothing useful to do on failure
  folder_.clear();
}

absl::Status XlsxWriter::CheckOpen() const {
  if (workbook_ == nullptr) return absl::FailedPreconditionError("xlsx writer: already finished");
  return absl::OkStatus();
}

absl::StatusOr<lxw_worksheet*> XlsxWriter::AddSheet(absl::string_view name) {
  RETURN_IF_ERROR(CheckOpen());
  if (!csv::IsValidUtf8(name)) {
    return absl::InvalidArgumentError("xlsx writer: sheet name is not UTF-8");
  }
  const std::string owned(name);
  // workbook_add_worksheet only says NULL; ask the validator for the reason first.
  RETURN_IF_ERROR(FromLxw(workbook_validate_sheet_name(workbook_, owned.c_str()),
                          absl::StrCat("sheet name \"", owned, "\"")));
  lxw_worksheet* sheet = workbook_add_worksheet(workbook_, owned.c_str());
  if (sheet == nullptr) return absl::InternalError("xlsx writer: cannot add a worksheet");
  return sheet;
}

absl::Status XlsxWriter::WriteText(lxw_worksheet* sheet, int row, int column,
                                   absl::string_view text, lxw_format* format) {
  RETURN_IF_ERROR(CheckOpen());
  RETURN_IF_ERROR(CheckCell(row, column));
  if (!csv::IsValidUtf8(text)) {
    return absl::InvalidArgumentError(
        absl::StrCat("xlsx writer: text for ", FormatCellRef(row, column), " is not UTF-8"));
  }
  if (text.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("xlsx writer: text for ", FormatCellRef(row, column), " holds a NUL"));
  }
  const std::string owned(text);
  return FromLxw(worksheet_write_string(sheet, static_cast<lxw_row_t>(row - 1),
                                        static_cast<lxw_col_t>(column - 1), owned.c_str(), format),
                 FormatCellRef(row, column));
}

absl::Status XlsxWriter::WriteNumber(lxw_worksheet* sheet, int row, int column, double value,
                                     lxw_format* format) {
  RETURN_IF_ERROR(CheckOpen());
  RETURN_IF_ERROR(CheckCell(row, column));
  return FromLxw(worksheet_write_number(sheet, static_cast<lxw_row_t>(row - 1),
                                        static_cast<lxw_col_t>(column - 1), value, format),
                 FormatCellRef(row, column));
}

absl::Status XlsxWriter::WriteInteger(lxw_worksheet* sheet, int row, int column, int64_t value,
                                      lxw_format* format) {
  if (value > kMaxExactInteger || value < -kMaxExactInteger) {
    return absl::InvalidArgumentError(
        absl::StrCat("xlsx writer: ", value, " does not fit a spreadsheet number exactly"));
  }
  return WriteNumber(sheet, row, column, static_cast<double>(value), format);
}

absl::Status XlsxWriter::WriteDate(lxw_worksheet* sheet, int row, int column, absl::CivilDay day,
                                   lxw_format* format) {
  ASSIGN_OR_RETURN(int64_t serial, CivilDayToSerial(day, DateSystem::k1900));
  return WriteNumber(sheet, row, column, static_cast<double>(serial), format);
}

absl::StatusOr<std::string> XlsxWriter::Finish() {
  RETURN_IF_ERROR(CheckOpen());
  const lxw_error closed = workbook_close(workbook_);
  workbook_ = nullptr;
  absl::Status status = FromLxw(closed, "closing the workbook");
  std::string bytes;
  if (status.ok()) {
    std::ifstream in(std::filesystem::path(folder_) / kFileName, std::ios::binary);
    if (!in) {
      status = absl::InternalError("xlsx writer: cannot open the file it wrote");
    } else {
      bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      if (in.bad()) status = absl::InternalError("xlsx writer: cannot read the file back");
    }
  }
  Cleanup();
  if (!status.ok()) return status;
  return bytes;
}

}  // namespace anken::xlsx
