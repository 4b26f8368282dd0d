#include "services/report/report_xlsx.h"

#include <xlsxwriter.h>

#include <array>
#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "common/status/status_macros.h"
#include "common/xlsx/cell_ref.h"
#include "common/xlsx/reader.h"
#include "common/xlsx/values.h"
#include "common/xlsx/writer.h"

namespace anken::report {
namespace {

// ---- the layout (1-based, as XlsxWriter and XlsxReader count) ----

constexpr int kTitleRow = 1;
constexpr int kPartnerRow = 2;
constexpr int kMonthRow = 3;
constexpr int kDeadlineRow = 4;
constexpr int kHintRow = 5;
constexpr int kHeaderRow = 7;

enum Column : int {
  kCaseNumberColumn = 1,
  kCustomerColumn,
  kReferralColumn,
  kCurrentColumn,
  kStatusColumn,
  kCompletionColumn,
  kAmountColumn,
  kLostColumn,
  kRemarksColumn,
};

struct ColumnSpec {
  int column;
  const char* label;
  double width;
  bool editable;
};

constexpr ColumnSpec kColumns[] = {
    {kCaseNumberColumn, "案件番号", 11, false}, {kCustomerColumn, "お客様名", 28, false},
    {kReferralColumn, "紹介日", 12, false},     {kCurrentColumn, "現在の状況", 12, false},
    {kStatusColumn, "取次状況", 12, true},      {kCompletionColumn, "完了日", 12, true},
    {kAmountColumn, "施工金額", 14, true},      {kLostColumn, "失注日", 12, true},
    {kRemarksColumn, "報告備考", 40, true},
};

// The identity sheet: column A the key, column B the value (always a string cell).
constexpr char kTemplateKey[] = "template";
constexpr char kReportIdKey[] = "report_id";
constexpr char kPartnerIdKey[] = "partner_id";
constexpr char kMonthKey[] = "month";

constexpr char kDateFormat[] = "yyyy/mm/dd";
constexpr lxw_color_t kHeaderFill = 0xD9D9D9;
constexpr lxw_color_t kEditableFill = 0xFFF2CC;

// ---- rendering ----

struct Formats {
  lxw_format* title = nullptr;
  lxw_format* label = nullptr;
  lxw_format* deadline = nullptr;
  lxw_format* header = nullptr;
  lxw_format* header_editable = nullptr;
  lxw_format* text = nullptr;
  lxw_format* date = nullptr;
  lxw_format* text_editable = nullptr;
  lxw_format* date_editable = nullptr;
  lxw_format* amount_editable = nullptr;
};

Formats MakeFormats(lxw_workbook* workbook) {
  Formats f;
  f.title = workbook_add_format(workbook);
  format_set_bold(f.title);
  format_set_font_size(f.title, 14);
  f.label = workbook_add_format(workbook);
  format_set_bold(f.label);
  f.deadline = workbook_add_format(workbook);
  format_set_num_format(f.deadline, kDateFormat);
  format_set_align(f.deadline, LXW_ALIGN_LEFT);

  const auto cell = [&](bool editable) {
    lxw_format* format = workbook_add_format(workbook);
    format_set_border(format, LXW_BORDER_THIN);
    if (editable) {
      format_set_unlocked(format);
      format_set_bg_color(format, kEditableFill);
    }
    return format;
  };
  f.header = cell(false);
  format_set_bold(f.header);
  format_set_bg_color(f.header, kHeaderFill);
  f.header_editable = cell(false);  // the label stays locked; only the cells below are open
  format_set_bold(f.header_editable);
  format_set_bg_color(f.header_editable, kEditableFill);
  f.text = cell(false);
  f.date = cell(false);
  format_set_num_format(f.date, kDateFormat);
  // Text format ("@") so that what a partner types stays as typed: "=..." in the remarks
  // remains text for PlanUpload to refuse rather than a formula Excel evaluates.
  f.text_editable = cell(true);
  format_set_num_format(f.text_editable, "@");
  f.date_editable = cell(true);
  format_set_num_format(f.date_editable, kDateFormat);
  f.amount_editable = cell(true);
  format_set_num_format(f.amount_editable, "#,##0");
  return f;
}

absl::Status FromLxw(lxw_error error, absl::string_view what) {
  if (error == LXW_NO_ERROR) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("report xlsx: ", what, ": ", lxw_strerror(error)));
}

absl::Status WriteBlank(lxw_worksheet* sheet, int row, int column, lxw_format* format) {
  return FromLxw(worksheet_write_blank(sheet, static_cast<lxw_row_t>(row - 1),
                                       static_cast<lxw_col_t>(column - 1), format),
                 "blank cell");
}

absl::Status WriteOptionalDate(xlsx::XlsxWriter& writer, lxw_worksheet* sheet, int row,
                               int column, const absl::optional<absl::CivilDay>& day,
                               lxw_format* format) {
  if (!day) return WriteBlank(sheet, row, column, format);
  return writer.WriteDate(sheet, row, column, *day, format);
}

// The values the editable cells start with: the draft answer when the line has changed,
// otherwise the case as it stands, which PlanUpload reads back as 変更なし. (Additional
// orders have no column: the file neither shows nor carries them.)
Change EditableOf(const ReportLine& line) {
  if (line.answer == Answer::kChanged) return line.change;
  Change current;
  current.outcome = line.snapshot.outcome;
  current.completion_date = line.snapshot.completion_date;
  current.amount = line.snapshot.amount;
  current.lost_date = line.snapshot.lost_date;
  return current;
}

absl::Status WriteLine(xlsx::XlsxWriter& writer, lxw_worksheet* sheet, const Formats& f, int row,
                       const ReportLine& line) {
  const LineSnapshot& s = line.snapshot;
  RETURN_IF_ERROR(writer.WriteText(sheet, row, kCaseNumberColumn, s.case_number, f.text));
  RETURN_IF_ERROR(writer.WriteText(sheet, row, kCustomerColumn, s.customer_name, f.text));
  RETURN_IF_ERROR(writer.WriteDate(sheet, row, kReferralColumn, s.referral_date, f.date));
  RETURN_IF_ERROR(writer.WriteText(sheet, row, kCurrentColumn, OutcomeLabel(s.outcome), f.text));

  const Change e = EditableOf(line);
  const absl::string_view status = OutcomeLabel(e.outcome);
  if (status.empty()) {
    RETURN_IF_ERROR(WriteBlank(sheet, row, kStatusColumn, f.text_editable));
  } else {
    RETURN_IF_ERROR(writer.WriteText(sheet, row, kStatusColumn, status, f.text_editable));
  }
  RETURN_IF_ERROR(
      WriteOptionalDate(writer, sheet, row, kCompletionColumn, e.completion_date, f.date_editable));
  if (e.amount > 0) {
    RETURN_IF_ERROR(writer.WriteInteger(sheet, row, kAmountColumn, e.amount, f.amount_editable));
  } else {
    RETURN_IF_ERROR(WriteBlank(sheet, row, kAmountColumn, f.amount_editable));
  }
  RETURN_IF_ERROR(WriteOptionalDate(writer, sheet, row, kLostColumn, e.lost_date, f.date_editable));
  if (e.remarks.empty()) return WriteBlank(sheet, row, kRemarksColumn, f.text_editable);
  return writer.WriteText(sheet, row, kRemarksColumn, e.remarks, f.text_editable);
}

absl::Status AddStatusDropDown(lxw_worksheet* sheet, int first_row, int last_row) {
  std::array<std::string, 3> labels = {std::string(OutcomeLabel(Outcome::kInProgress)),
                                       std::string(OutcomeLabel(Outcome::kCompleted)),
                                       std::string(OutcomeLabel(Outcome::kLost))};
  std::array<char*, 4> list = {labels[0].data(), labels[1].data(), labels[2].data(), nullptr};
  std::string error_title = "取次状況";
  std::string error_message = "進行中・施工完了・失注から選んでください。";
  lxw_data_validation validation = {};
  validation.validate = LXW_VALIDATION_TYPE_LIST;
  validation.value_list = list.data();
  validation.error_type = LXW_VALIDATION_ERROR_TYPE_STOP;
  validation.error_title = error_title.data();
  validation.error_message = error_message.data();
  const auto col = static_cast<lxw_col_t>(kStatusColumn - 1);
  return FromLxw(worksheet_data_validation_range(sheet, static_cast<lxw_row_t>(first_row - 1),
                                                 col, static_cast<lxw_row_t>(last_row - 1), col,
                                                 &validation),
                 "data validation");
}

absl::Status WriteReportSheet(xlsx::XlsxWriter& writer, lxw_worksheet* sheet, const Formats& f,
                              const XlsxReportInfo& info, const std::vector<ReportLine>& lines) {
  RETURN_IF_ERROR(writer.WriteText(
      sheet, kTitleRow, 1,
      absl::StrCat("実績報告 案件一覧（", info.month.year(), "年", info.month.month(), "月分）"),
      f.title));
  RETURN_IF_ERROR(writer.WriteText(sheet, kPartnerRow, 1, "加盟店", f.label));
  RETURN_IF_ERROR(writer.WriteText(sheet, kPartnerRow, 2, info.partner_name));
  RETURN_IF_ERROR(writer.WriteText(sheet, kMonthRow, 1, "対象月", f.label));
  RETURN_IF_ERROR(writer.WriteText(
      sheet, kMonthRow, 2, absl::StrCat(info.month.year(), "年", info.month.month(), "月")));
  RETURN_IF_ERROR(writer.WriteText(sheet, kDeadlineRow, 1, "回答期限", f.label));
  RETURN_IF_ERROR(writer.WriteDate(sheet, kDeadlineRow, 2, info.deadline_day, f.deadline));
  RETURN_IF_ERROR(writer.WriteText(
      sheet, kHintRow, 1,
      "変更がない案件は何もする必要はありません。施工完了は「完了日」と「施工金額」、"
      "失注は「失注日」を入力してください。"));

  for (const ColumnSpec& spec : kColumns) {
    const auto col = static_cast<lxw_col_t>(spec.column - 1);
    RETURN_IF_ERROR(FromLxw(worksheet_set_column(sheet, col, col, spec.width, nullptr), "column"));
    RETURN_IF_ERROR(writer.WriteText(sheet, kHeaderRow, spec.column, spec.label,
                                     spec.editable ? f.header_editable : f.header));
  }
  int row = kHeaderRow;
  for (const ReportLine& line : lines) RETURN_IF_ERROR(WriteLine(writer, sheet, f, ++row, line));
  if (!lines.empty()) RETURN_IF_ERROR(AddStatusDropDown(sheet, kHeaderRow + 1, row));

  worksheet_freeze_panes(sheet, static_cast<lxw_row_t>(kHeaderRow), 1);
  // No password: the protection keeps slips off the read-only columns; resizing is allowed.
  lxw_protection protection = {};
  protection.format_columns = 1;
  protection.format_rows = 1;
  worksheet_protect(sheet, nullptr, &protection);
  return absl::OkStatus();
}

absl::Status WriteIdentitySheet(xlsx::XlsxWriter& writer, lxw_worksheet* sheet,
                                const XlsxReportInfo& info) {
  const std::pair<const char*, std::string> entries[] = {
      {kTemplateKey, kReportTemplateVersion},
      {kReportIdKey, absl::StrCat(info.report_id)},
      {kPartnerIdKey, absl::StrCat(info.partner_id)},
      {kMonthKey, absl::FormatCivilTime(info.month)},
  };
  int row = 0;
  for (const auto& [key, value] : entries) {
    ++row;
    RETURN_IF_ERROR(writer.WriteText(sheet, row, 1, key));
    RETURN_IF_ERROR(writer.WriteText(sheet, row, 2, value));
  }
  // libxlsxwriter 1.1 can hide a sheet but not make it very hidden.
  worksheet_hide(sheet);
  worksheet_protect(sheet, nullptr, nullptr);
  return absl::OkStatus();
}

// ---- reading ----

struct Refusal {
  std::string reason;
  std::string field;
  std::string detail;
};

xlsx::ReadLimits UploadLimits() {
  xlsx::ReadLimits limits;
  limits.max_file_bytes = kMaxUploadBytes;
  // <row> elements over the two sheets read: the data rows plus room for the blank rows
  // that spreadsheet programs keep when they hold formatting.
  limits.max_rows = 2 * static_cast<int64_t>(kMaxUploadRows) + 1000;
  return limits;
}

Refusal ReaderRefusal(const absl::Status& status, const xlsx::ReadStats& stats,
                      const xlsx::ReadLimits& limits) {
  std::string detail(status.message());
  if (stats.rows > limits.max_rows) return {"TOO_MANY_ROWS", "", std::move(detail)};
  if (status.code() == absl::StatusCode::kInvalidArgument) {
    return {"UNREADABLE_FILE", "", std::move(detail)};
  }
  return {"READ_FAILED", "", std::move(detail)};
}

absl::string_view TrimLabel(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  // U+3000 (ideographic space), which a Japanese IME types for a space.
  while (absl::ConsumePrefix(&text, "\xE3\x80\x80")) {}
  while (absl::ConsumeSuffix(&text, "\xE3\x80\x80")) {}
  return absl::StripAsciiWhitespace(text);
}

// A reader cell as PlanUpload's Cell. Numbers keep their lexical text; in a workbook of the
// 1904 date system a date column's serial is restated in the 1900 system ReadDateCell reads
// (a serial that is no day in either becomes text, which it refuses).
Cell ToReportCell(const xlsx::Cell* cell, xlsx::DateSystem system, bool date_column) {
  Cell out;
  if (cell == nullptr) return out;
  out.formula = cell->formula;
  switch (cell->type) {
    case xlsx::CellType::kEmpty:
      break;
    case xlsx::CellType::kString:
      out.kind = Cell::Kind::kText;
      out.value = cell->text;
      break;
    case xlsx::CellType::kNumber:
      out.kind = Cell::Kind::kNumber;
      out.value = cell->text;
      if (date_column && system == xlsx::DateSystem::k1904) {
        absl::StatusOr<absl::CivilDay> day = xlsx::SerialToCivilDay(cell->number, system);
        absl::StatusOr<int64_t> serial =
            day.ok() ? xlsx::CivilDayToSerial(*day, xlsx::DateSystem::k1900) : day.status();
        if (serial.ok()) {
          out.value = absl::StrCat(*serial);
        } else {
          out.kind = Cell::Kind::kText;
        }
      }
      break;
    case xlsx::CellType::kBool:
      out.kind = Cell::Kind::kBool;
      out.value = cell->number != 0 ? "TRUE" : "FALSE";
      break;
    case xlsx::CellType::kError:
      out.kind = Cell::Kind::kError;
      out.value = cell->text;
      break;
  }
  return out;
}

bool IsEmpty(const Cell& cell) { return cell.kind == Cell::Kind::kEmpty && !cell.formula; }

// An id as the identity sheet holds it: digits in a string cell (as written), or a whole
// number should a program have turned it into one.
absl::optional<int64_t> ReadId(const absl::optional<xlsx::Cell>& cell) {
  if (!cell) return absl::nullopt;
  int64_t id = 0;
  if (cell->type == xlsx::CellType::kString) {
    const absl::string_view text = absl::StripAsciiWhitespace(cell->text);
    if (text.empty() || !absl::ascii_isdigit(static_cast<unsigned char>(text[0])) ||
        !absl::SimpleAtoi(text, &id)) {
      return absl::nullopt;
    }
    return id;
  }
  if (cell->type == xlsx::CellType::kNumber) {
    absl::StatusOr<int64_t> n = xlsx::ParseWholeNumber(cell->text);
    if (n.ok()) return *n;
  }
  return absl::nullopt;
}

struct Identity {
  absl::optional<xlsx::Cell> template_version;
  absl::optional<xlsx::Cell> report_id;
  absl::optional<xlsx::Cell> partner_id;
  absl::optional<xlsx::Cell> month;
};

absl::optional<Refusal> CheckIdentity(const Identity& identity, const XlsxReportInfo& expected) {
  if (!identity.template_version || identity.template_version->text != kReportTemplateVersion) {
    return Refusal{"NOT_OUR_TEMPLATE", kTemplateKey,
                   absl::StrCat("template marker is \"",
                                identity.template_version
                                    ? identity.template_version->text.substr(0, 64)
                                    : std::string(),
                                "\", not ", kReportTemplateVersion)};
  }
  const absl::optional<int64_t> partner = ReadId(identity.partner_id);
  if (!partner) return Refusal{"NOT_OUR_TEMPLATE", kPartnerIdKey, "no partner id"};
  if (*partner != expected.partner_id) {
    return Refusal{"OTHER_PARTNER", kPartnerIdKey,
                   absl::StrCat("the file is partner ", *partner, "'s, not ",
                                expected.partner_id, "'s")};
  }
  const absl::optional<int64_t> report = ReadId(identity.report_id);
  if (!report) return Refusal{"NOT_OUR_TEMPLATE", kReportIdKey, "no report id"};
  if (*report != expected.report_id) {
    return Refusal{"OTHER_REPORT", kReportIdKey,
                   absl::StrCat("the file is report ", *report, "'s, not ", expected.report_id,
                                "'s")};
  }
  absl::CivilMonth month;
  if (!identity.month || identity.month->type != xlsx::CellType::kString ||
      !absl::ParseCivilTime(identity.month->text, &month)) {
    return Refusal{"NOT_OUR_TEMPLATE", kMonthKey, "no month"};
  }
  if (month != expected.month) {
    return Refusal{"OTHER_REPORT", kMonthKey,
                   absl::StrCat("the file is for ", absl::FormatCivilTime(month), ", not ",
                                absl::FormatCivilTime(expected.month))};
  }
  return absl::nullopt;
}

// Where the columns PlanUpload needs are, by header label.
struct HeaderMap {
  int case_number = 0;
  int status = 0;
  int completion_date = 0;
  int amount = 0;
  int lost_date = 0;
  int remarks = 0;
};

// The header row: the first row holding both the 案件番号 and 取次状況 labels (the partner's
// name above the table could be anything, so one label is not enough).
bool LooksLikeHeader(const xlsx::Row& row) {
  bool case_number = false;
  bool status = false;
  for (const xlsx::Cell& cell : row.cells) {
    if (cell.type != xlsx::CellType::kString) continue;
    const absl::string_view label = TrimLabel(cell.text);
    case_number = case_number || label == kColumns[kCaseNumberColumn - 1].label;
    status = status || label == kColumns[kStatusColumn - 1].label;
  }
  return case_number && status;
}

// A formula cell anywhere but the remarks column of a data row refuses the whole file. Its
// cached value is whatever the program that saved the file wrote (openpyxl writes none, a
// crafted file any value at all), not what the partner saw, and our template holds no
// formula: the partner types values. A formula in the remarks is the remarks rule's row
// error instead (the partner typed = + or - first), so `remarks_column` is skipped; 0 checks
// every cell. The formula itself is never quoted back.
absl::optional<Refusal> FormulaRefusal(const xlsx::Row& row, absl::string_view sheet,
                                       int remarks_column) {
  for (const xlsx::Cell& cell : row.cells) {
    if (!cell.formula || cell.column == remarks_column) continue;
    return Refusal{"FORMULA_CELL", std::string(sheet),
                   absl::StrCat("cell ", xlsx::FormatCellRef(row.number, cell.column), " of ",
                                sheet, " holds a formula; the upload takes typed values only")};
  }
  return absl::nullopt;
}

absl::optional<Refusal> MapHeader(const xlsx::Row& row, HeaderMap* map) {
  struct Wanted {
    const char* label;
    const char* field;
    int* column;
  };
  const Wanted wanted[] = {
      {kColumns[kCaseNumberColumn - 1].label, "case_number", &map->case_number},
      {kColumns[kStatusColumn - 1].label, "status", &map->status},
      {kColumns[kCompletionColumn - 1].label, "completion_date", &map->completion_date},
      {kColumns[kAmountColumn - 1].label, "amount", &map->amount},
      {kColumns[kLostColumn - 1].label, "lost_date", &map->lost_date},
      {kColumns[kRemarksColumn - 1].label, "remarks", &map->remarks},
  };
  for (const xlsx::Cell& cell : row.cells) {
    if (cell.type != xlsx::CellType::kString) continue;
    const absl::string_view label = TrimLabel(cell.text);
    for (const Wanted& w : wanted) {
      if (label != w.label) continue;
      if (*w.column != 0) {
        return Refusal{"DUPLICATE_COLUMN", w.field,
                       absl::StrCat("two columns are labelled ", w.label, " in row ", row.number)};
      }
      *w.column = cell.column;
    }
  }
  for (const Wanted& w : wanted) {
    if (*w.column == 0) {
      return Refusal{"MISSING_COLUMN", w.field,
                     absl::StrCat("no column labelled ", w.label, " in row ", row.number)};
    }
  }
  return absl::nullopt;
}

class UploadReader {
 public:
  UploadReader(absl::string_view bytes, const XlsxReportInfo& expected)
      : bytes_(bytes), expected_(expected), limits_(UploadLimits()), reader_(limits_) {}

  absl::optional<Refusal> Read(std::vector<UploadRow>* rows) {
    if (static_cast<int64_t>(bytes_.size()) > kMaxUploadBytes) {
      return Refusal{"FILE_TOO_LARGE", "",
                     absl::StrCat("the file has ", bytes_.size(), " bytes; the cap is ",
                                  kMaxUploadBytes)};
    }
    if (absl::Status opened = reader_.Open(bytes_); !opened.ok()) {
      return ReaderRefusal(opened, reader_.stats(), limits_);
    }
    if (reader_.info().FindSheet(kIdentitySheetName) == nullptr) {
      return Refusal{"NOT_OUR_TEMPLATE", kIdentitySheetName, "no identity sheet"};
    }
    Identity identity;
    absl::optional<Refusal> stopped;
    absl::Status read = reader_.ReadSheet(kIdentitySheetName, [&](const xlsx::Row& row) {
      if (!stopped) stopped = FormulaRefusal(row, kIdentitySheetName, 0);
      const xlsx::Cell* key = row.Find(1);
      const xlsx::Cell* value = row.Find(2);
      if (key == nullptr || value == nullptr || key->type != xlsx::CellType::kString) {
        return absl::OkStatus();
      }
      absl::optional<xlsx::Cell>* slot = key->text == kTemplateKey    ? &identity.template_version
                                         : key->text == kReportIdKey  ? &identity.report_id
                                         : key->text == kPartnerIdKey ? &identity.partner_id
                                         : key->text == kMonthKey     ? &identity.month
                                                                      : nullptr;
      if (slot != nullptr && !slot->has_value()) *slot = *value;
      return absl::OkStatus();
    });
    if (!read.ok()) return ReaderRefusal(read, reader_.stats(), limits_);
    if (absl::optional<Refusal> refused = CheckIdentity(identity, expected_)) return refused;
    if (stopped) return stopped;  // a formula on the identity sheet, once it is ours

    if (reader_.info().FindSheet(kReportSheetName) == nullptr) {
      return Refusal{"NOT_OUR_TEMPLATE", "sheet", absl::StrCat("no sheet ", kReportSheetName)};
    }
    const xlsx::DateSystem system = reader_.info().date_system;
    absl::optional<HeaderMap> header;
    read = reader_.ReadSheet(kReportSheetName, [&](const xlsx::Row& row) {
      stopped = FormulaRefusal(row, kReportSheetName, header ? header->remarks : 0);
      if (stopped) return absl::CancelledError();
      if (!header) {
        if (!LooksLikeHeader(row)) return absl::OkStatus();
        header.emplace();
        stopped = MapHeader(row, &*header);
        return stopped ? absl::CancelledError() : absl::OkStatus();
      }
      UploadRow out;
      out.row = row.number;
      out.case_number = ToReportCell(row.Find(header->case_number), system, false);
      out.status = ToReportCell(row.Find(header->status), system, false);
      out.completion_date = ToReportCell(row.Find(header->completion_date), system, true);
      out.amount = ToReportCell(row.Find(header->amount), system, false);
      out.lost_date = ToReportCell(row.Find(header->lost_date), system, true);
      out.remarks = ToReportCell(row.Find(header->remarks), system, false);
      if (IsEmpty(out.case_number) && IsEmpty(out.status) && IsEmpty(out.completion_date) &&
          IsEmpty(out.amount) && IsEmpty(out.lost_date) && IsEmpty(out.remarks)) {
        return absl::OkStatus();  // a blank (perhaps formatted) row: nothing to read
      }
      if (rows->size() >= kMaxUploadRows) {
        stopped = Refusal{"TOO_MANY_ROWS", "",
                          absl::StrCat("more than ", kMaxUploadRows, " rows with values")};
        return absl::CancelledError();
      }
      rows->push_back(std::move(out));
      return absl::OkStatus();
    });
    if (stopped) return stopped;
    if (!read.ok()) return ReaderRefusal(read, reader_.stats(), limits_);
    if (!header) {
      return Refusal{"NO_HEADER_ROW", "", absl::StrCat("no header row in ", kReportSheetName)};
    }
    return absl::nullopt;
  }

  const xlsx::ReadStats& stats() const { return reader_.stats(); }

 private:
  absl::string_view bytes_;
  const XlsxReportInfo& expected_;
  xlsx::ReadLimits limits_;
  xlsx::XlsxReader reader_;
};

}  // namespace

absl::StatusOr<std::string> RenderReportXlsx(const XlsxReportInfo& info,
                                             const std::vector<ReportLine>& lines) {
  ASSIGN_OR_RETURN(std::unique_ptr<xlsx::XlsxWriter> writer, xlsx::XlsxWriter::Create());
  lxw_workbook* workbook = writer->workbook();

  // The creation time is the report month's first day (UTC), not the clock: a pure function
  // of its input, and the same report renders the same properties.
  std::string title = absl::StrCat("実績報告 ", kReportSheetName);
  lxw_doc_properties properties = {};
  properties.title = title.data();
  properties.created = absl::ToTimeT(
      absl::FromCivil(absl::CivilSecond(info.month), absl::UTCTimeZone()));
  RETURN_IF_ERROR(FromLxw(workbook_set_properties(workbook, &properties), "properties"));

  const Formats formats = MakeFormats(workbook);
  ASSIGN_OR_RETURN(lxw_worksheet * sheet, writer->AddSheet(kReportSheetName));
  ASSIGN_OR_RETURN(lxw_worksheet * identity, writer->AddSheet(kIdentitySheetName));
  RETURN_IF_ERROR(WriteReportSheet(*writer, sheet, formats, info, lines));
  RETURN_IF_ERROR(WriteIdentitySheet(*writer, identity, info));
  return writer->Finish();
}

XlsxUpload ReadReportXlsx(absl::string_view bytes, const XlsxReportInfo& expected) {
  XlsxUpload upload;
  UploadReader reader(bytes, expected);
  absl::optional<Refusal> refused = reader.Read(&upload.rows);
  upload.stats = reader.stats();
  if (refused) {
    upload.rows.clear();
    upload.failure = UploadFailed(refused->reason);
    upload.failure->field = std::move(refused->field);
    upload.detail = std::move(refused->detail);
  }
  return upload;
}

}  // namespace anken::report
