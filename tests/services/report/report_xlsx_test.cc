// The report's .xlsx: what the rendered file holds (strings never formulas, real dates, the
// drop-down, protection, the hidden identity), reading it back after a round trip and after
// edits by openpyxl and LibreOffice (committed fixtures, see scripts/make-report-xlsx-fixtures),
// and every refusal of the whole file, each asserted by its reason and, for the hostile ones,
// by the reader's counters (the work stayed bounded) rather than by the clock.

#include "services/report/report_xlsx.h"

#include <zip.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/civil_time.h"
#include "common/xlsx/reader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/report/report_rules.h"
#include "tests/common/xlsx/xlsx_test_util.h"

namespace anken::report {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using xlsx::testing::BuildZip;
using xlsx::testing::MinimalXlsx;
using xlsx::testing::PatchDeclaredSize;
using xlsx::testing::ReadTestdata;
using xlsx::testing::SheetXml;
using xlsx::testing::UnzipEntry;
using xlsx::testing::ZipEntry;

constexpr int64_t kMiB = 1 << 20;
constexpr int kFirstDataRow = 8;  // the table's header is row 7
const absl::CivilDay kToday(2026, 11, 5);

// ---- the fixed report (the fixtures are edits of its render: keep it as it is) ----

XlsxReportInfo FixedInfo() {
  XlsxReportInfo info;
  info.report_id = 4201;
  info.partner_id = 77;
  info.partner_name = "株式会社テスト工務店";
  info.month = absl::CivilMonth(2026, 11);
  info.deadline_day = absl::CivilDay(2026, 11, 6);
  return info;
}

ReportLine Line(int64_t id, std::string case_number, std::string customer,
                absl::CivilDay referral) {
  ReportLine line;
  line.id = id;
  line.report_id = 4201;
  line.snapshot.project_id = 900 + id;
  line.snapshot.case_number = std::move(case_number);
  line.snapshot.customer_name = std::move(customer);
  line.snapshot.referral_date = referral;
  line.snapshot.outcome = Outcome::kInProgress;
  return line;
}

// Customer names that start with = + - @ (spreadsheet formula starters) must stay text.
const char kFormulaName[] = "=HYPERLINK(\"http://example.com\",\"x\")";

std::vector<ReportLine> FixedLines() {
  std::vector<ReportLine> lines = {
      Line(1, "0001001", "山田 太郎", absl::CivilDay(2026, 8, 3)),
      Line(2, "0001002", kFormulaName, absl::CivilDay(2026, 9, 10)),
      Line(3, "0001003", "+81 佐藤商店", absl::CivilDay(2026, 9, 15)),
      Line(4, "0001004", "-鈴木 花子", absl::CivilDay(2026, 10, 1)),
      Line(5, "0001005", "@田中工業", absl::CivilDay(2026, 10, 5)),
  };
  lines[1].answer = Answer::kNoChange;
  // A draft answered on the web before the download: the file shows the draft.
  lines[4].answer = Answer::kChanged;
  lines[4].change.outcome = Outcome::kLost;
  lines[4].change.lost_date = absl::CivilDay(2026, 10, 28);
  lines[4].change.remarks = "お客様都合で中止";
  return lines;
}

std::string Render() {
  absl::StatusOr<std::string> bytes = RenderReportXlsx(FixedInfo(), FixedLines());
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.ok() ? *bytes : std::string();
}

// ---- helpers ----

std::string Serial(absl::CivilDay day) { return absl::StrCat(*DayToExcelSerial(day)); }

// The zip's entries, in order, to rebuild it with one part replaced.
std::vector<ZipEntry> Entries(const std::string& bytes) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  zip_t* archive = zip_open_from_source(source, ZIP_RDONLY, &error);
  if (archive == nullptr) throw std::runtime_error("zip_open_from_source");
  std::vector<ZipEntry> entries;
  const zip_int64_t count = zip_get_num_entries(archive, 0);
  for (zip_int64_t i = 0; i < count; ++i) {
    const std::string name = zip_get_name(archive, static_cast<zip_uint64_t>(i), 0);
    entries.push_back({name, UnzipEntry(bytes, name)});
  }
  zip_discard(archive);
  return entries;
}

std::string Replace(const std::string& bytes, const std::string& part, std::string data) {
  std::vector<ZipEntry> entries = Entries(bytes);
  bool found = false;
  for (ZipEntry& entry : entries) {
    if (entry.name == part) {
      entry.data = std::move(data);
      found = true;
    }
  }
  if (!found) throw std::runtime_error(absl::StrCat("no part ", part));
  return BuildZip(entries);
}

// The part (zip entry) of a sheet of the rendered file.
std::string PartOf(const std::string& bytes, absl::string_view sheet) {
  absl::StatusOr<xlsx::Workbook> book = xlsx::ReadXlsx(bytes);
  if (!book.ok()) throw std::runtime_error(std::string(book.status().message()));
  const xlsx::Sheet* found = book->FindSheet(sheet);
  if (found == nullptr) throw std::runtime_error("no such sheet");
  return found->info.part;
}

// The rendered file with the 案件一覧 sheet replaced by `sheet_xml`; the identity stays valid.
std::string WithReportSheet(const std::string& sheet_xml) {
  const std::string rendered = Render();
  return Replace(rendered, PartOf(rendered, kReportSheetName), sheet_xml);
}

std::string InlineCell(absl::string_view ref, absl::string_view text) {
  return absl::StrCat("<c r=\"", ref, "\" t=\"inlineStr\"><is><t>", text, "</t></is></c>");
}

// The table's header row (row 7) as our template writes it, as inline strings.
std::string HeaderRow(std::vector<std::string> labels = {"案件番号", "お客様名", "紹介日",
                                                         "現在の状況", "取次状況", "完了日",
                                                         "施工金額", "失注日", "報告備考"}) {
  std::string row = "<row r=\"7\">";
  for (size_t i = 0; i < labels.size(); ++i) {
    absl::StrAppend(&row, InlineCell(absl::StrCat(std::string(1, static_cast<char>('A' + i)), 7),
                                     labels[i]));
  }
  return absl::StrCat(row, "</row>");
}

// About `bytes` of well-formed sheet XML after the header, nearly all empty <p/> elements
// (deflates ~1000:1), so that only a byte or ratio cap can stop it.
std::string FillerSheet(int64_t bytes) {
  std::string filler;
  filler.reserve(static_cast<size_t>(bytes));
  while (static_cast<int64_t>(filler.size()) < bytes) filler += "<p/>";
  return SheetXml(absl::StrCat(HeaderRow(), filler));
}

void ExpectFailure(const XlsxUpload& upload, absl::string_view reason) {
  ASSERT_TRUE(upload.failure.has_value()) << "accepted; wanted " << reason;
  EXPECT_EQ(upload.failure->kind, ErrorKind::kUploadFailed);
  EXPECT_EQ(upload.failure->reason, reason) << upload.detail;
  EXPECT_EQ(ErrorMessage(*upload.failure),
            "アップロードに失敗しました。案件一覧ファイルを再度アップロードしてください。");
  EXPECT_THAT(upload.rows, IsEmpty());
}

Cell Empty() { return Cell{}; }

MATCHER_P3(IsCell, kind, value, formula, "") {
  return arg.kind == kind && arg.value == value && arg.formula == formula;
}
MATCHER(IsEmptyCell, "") { return arg.kind == Cell::Kind::kEmpty && !arg.formula; }
MATCHER_P(IsText, value, "") {
  return arg.kind == Cell::Kind::kText && arg.value == value && !arg.formula;
}
MATCHER_P(IsDate, day, "") {
  absl::StatusOr<absl::optional<absl::CivilDay>> read = ReadDateCell(arg);
  return arg.kind == Cell::Kind::kNumber && !arg.formula && read.ok() && *read == day;
}
MATCHER_P(IsAmount, yen, "") {
  absl::StatusOr<int64_t> read = ReadAmountCell(arg);
  return arg.kind == Cell::Kind::kNumber && !arg.formula && read.ok() && *read == yen;
}

// The n-th <xf> of styles.xml's <cellXfs> (what a cell's s attribute indexes), as text.
std::string CellXf(const std::string& styles, int index) {
  size_t at = styles.find("<cellXfs");
  for (int i = 0; i <= index && at != std::string::npos; ++i) at = styles.find("<xf ", at + 1);
  if (at == std::string::npos) return "";
  const size_t close = styles.find('>', at);
  if (styles[close - 1] == '/') return styles.substr(at, close + 1 - at);
  return styles.substr(at, styles.find("</xf>", at) + 5 - at);
}

// ---- the rendered file ----

TEST(RenderReportXlsx, TextsAreStringsNeverFormulas) {
  const std::string bytes = Render();
  const std::string sheet = UnzipEntry(bytes, PartOf(bytes, kReportSheetName));
  EXPECT_THAT(sheet, Not(HasSubstr("<f>")));
  EXPECT_THAT(sheet, Not(HasSubstr("<f ")));
  absl::StatusOr<xlsx::Workbook> book = xlsx::ReadXlsx(bytes);
  ASSERT_TRUE(book.ok()) << book.status();
  const xlsx::Sheet* cases = book->FindSheet(kReportSheetName);
  ASSERT_NE(cases, nullptr);
  const std::string names[] = {"山田 太郎", kFormulaName, "+81 佐藤商店", "-鈴木 花子",
                               "@田中工業"};
  for (int i = 0; i < 5; ++i) {
    const xlsx::Cell* name = cases->Find(kFirstDataRow + i, 2);
    ASSERT_NE(name, nullptr) << i;
    EXPECT_EQ(name->type, xlsx::CellType::kString);
    EXPECT_EQ(name->text, names[i]);
    EXPECT_FALSE(name->formula);
    const xlsx::Cell* number = cases->Find(kFirstDataRow + i, 1);
    ASSERT_NE(number, nullptr);
    EXPECT_EQ(number->type, xlsx::CellType::kString);  // leading zeros kept
    EXPECT_EQ(number->text, absl::StrCat("000100", i + 1));
  }
}

TEST(RenderReportXlsx, ShowsThePartnerMonthDeadlineAndTheHeader) {
  absl::StatusOr<xlsx::Workbook> book = xlsx::ReadXlsx(Render());
  ASSERT_TRUE(book.ok()) << book.status();
  const xlsx::Sheet* cases = book->FindSheet(kReportSheetName);
  ASSERT_NE(cases, nullptr);
  EXPECT_EQ(book->info.sheets[0].name, kReportSheetName);  // the sheet a partner sees first
  EXPECT_EQ(cases->Find(1, 1)->text, "実績報告 案件一覧（2026年11月分）");
  EXPECT_EQ(cases->Find(2, 2)->text, "株式会社テスト工務店");
  EXPECT_EQ(cases->Find(3, 2)->text, "2026年11月");
  const xlsx::Cell* deadline = cases->Find(4, 2);
  ASSERT_NE(deadline, nullptr);
  EXPECT_EQ(deadline->type, xlsx::CellType::kNumber);
  EXPECT_EQ(deadline->text, Serial(absl::CivilDay(2026, 11, 6)));
  std::vector<std::string> header;
  for (int c = 1; c <= 9; ++c) header.push_back(cases->Find(7, c)->text);
  EXPECT_THAT(header, ElementsAre("案件番号", "お客様名", "紹介日", "現在の状況", "取次状況",
                                  "完了日", "施工金額", "失注日", "報告備考"));
  EXPECT_EQ(cases->Find(kFirstDataRow, 4)->text, "進行中");  // 現在の状況
  EXPECT_EQ(cases->rows.back().number, kFirstDataRow + 4);
}

TEST(RenderReportXlsx, DatesAreRealDatesWithADateFormat) {
  const std::string bytes = Render();
  absl::StatusOr<xlsx::Workbook> book = xlsx::ReadXlsx(bytes);
  ASSERT_TRUE(book.ok()) << book.status();
  const xlsx::Sheet* cases = book->FindSheet(kReportSheetName);
  const std::string styles = UnzipEntry(bytes, "xl/styles.xml");
  ASSERT_THAT(styles, HasSubstr("formatCode=\"yyyy/mm/dd\""));
  const xlsx::Cell* referral = cases->Find(kFirstDataRow, 3);
  ASSERT_NE(referral, nullptr);
  EXPECT_EQ(referral->type, xlsx::CellType::kNumber);
  EXPECT_EQ(referral->text, Serial(absl::CivilDay(2026, 8, 3)));
  // Its style's number format is the custom date format (libxlsxwriter numbers it 164+).
  EXPECT_THAT(CellXf(styles, referral->style), HasSubstr("numFmtId=\"16"));
  const xlsx::Cell* lost = cases->Find(kFirstDataRow + 4, 8);
  ASSERT_NE(lost, nullptr);
  EXPECT_EQ(lost->text, Serial(absl::CivilDay(2026, 10, 28)));
  EXPECT_EQ(CellXf(styles, lost->style).find("numFmtId=\"0\""), std::string::npos);
}

TEST(RenderReportXlsx, StatusDropDownAndProtectionWithOnlyTheAnswerCellsUnlocked) {
  const std::string bytes = Render();
  const std::string sheet = UnzipEntry(bytes, PartOf(bytes, kReportSheetName));
  EXPECT_THAT(sheet, HasSubstr("<dataValidation type=\"list\""));
  EXPECT_THAT(sheet, HasSubstr("sqref=\"E8:E12\""));
  EXPECT_THAT(sheet, HasSubstr("<formula1>\"進行中,施工完了,失注\"</formula1>"));
  EXPECT_THAT(sheet, HasSubstr("<sheetProtection "));
  EXPECT_THAT(sheet, Not(HasSubstr("password=")));

  absl::StatusOr<xlsx::Workbook> book = xlsx::ReadXlsx(bytes);
  ASSERT_TRUE(book.ok()) << book.status();
  const xlsx::Sheet* cases = book->FindSheet(kReportSheetName);
  const std::string styles = UnzipEntry(bytes, "xl/styles.xml");
  for (int row = kFirstDataRow; row < kFirstDataRow + 5; ++row) {
    for (int column = 1; column <= 9; ++column) {
      const xlsx::Cell* cell = cases->Find(row, column);
      ASSERT_NE(cell, nullptr) << row << "," << column;  // blanks are written, for the style
      const bool unlocked = absl::StrContains(CellXf(styles, cell->style), "locked=\"0\"");
      EXPECT_EQ(unlocked, column >= 5) << row << "," << column;
    }
  }
  for (int column = 1; column <= 9; ++column) {
    EXPECT_THAT(CellXf(styles, cases->Find(7, column)->style), Not(HasSubstr("locked=\"0\"")));
  }
}

TEST(RenderReportXlsx, IdentityIsAHiddenProtectedSheet) {
  const std::string bytes = Render();
  absl::StatusOr<xlsx::Workbook> book = xlsx::ReadXlsx(bytes);
  ASSERT_TRUE(book.ok()) << book.status();
  ASSERT_EQ(book->info.sheets.size(), 2u);
  EXPECT_EQ(book->info.sheets[1].name, kIdentitySheetName);
  EXPECT_EQ(book->info.sheets[1].visibility, xlsx::SheetVisibility::kHidden);
  const xlsx::Sheet* identity = book->FindSheet(kIdentitySheetName);
  std::vector<std::pair<std::string, std::string>> entries;
  for (const xlsx::Row& row : identity->rows) {
    ASSERT_EQ(row.cells.size(), 2u);
    EXPECT_EQ(row.cells[1].type, xlsx::CellType::kString);
    entries.emplace_back(row.cells[0].text, row.cells[1].text);
  }
  EXPECT_THAT(entries, ElementsAre(std::make_pair("template", "anken-report-xlsx/1"),
                                   std::make_pair("report_id", "4201"),
                                   std::make_pair("partner_id", "77"),
                                   std::make_pair("month", "2026-11")));
  EXPECT_THAT(UnzipEntry(bytes, identity->info.part), HasSubstr("<sheetProtection "));
}

TEST(RenderReportXlsx, SameInputSameBytes) { EXPECT_EQ(Render(), Render()); }

TEST(RenderReportXlsx, RefusesWhatTheFileCannotHold) {
  std::vector<ReportLine> lines = FixedLines();
  lines[0].snapshot.customer_name = "\xff\xfe";
  EXPECT_EQ(RenderReportXlsx(FixedInfo(), lines).status().code(),
            absl::StatusCode::kInvalidArgument);
  lines = FixedLines();
  lines[0].snapshot.referral_date = absl::CivilDay(1899, 12, 31);
  EXPECT_EQ(RenderReportXlsx(FixedInfo(), lines).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// ---- reading back ----

TEST(ReadReportXlsx, RoundTripGivesBackEveryRowUnchanged) {
  const XlsxUpload upload = ReadReportXlsx(Render(), FixedInfo());
  ASSERT_FALSE(upload.failure) << upload.failure->reason << ": " << upload.detail;
  ASSERT_EQ(upload.rows.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    const UploadRow& row = upload.rows[static_cast<size_t>(i)];
    EXPECT_EQ(row.row, kFirstDataRow + i);
    EXPECT_THAT(row.case_number, IsText(absl::StrCat("000100", i + 1)));
    EXPECT_THAT(row.status, IsText(i == 4 ? "失注" : "進行中"));
    EXPECT_THAT(row.completion_date, IsEmptyCell());
    EXPECT_THAT(row.amount, IsEmptyCell());
    if (i < 4) {
      EXPECT_THAT(row.remarks, IsEmptyCell());
    }
  }
  EXPECT_THAT(upload.rows[4].lost_date, IsDate(absl::CivilDay(2026, 10, 28)));
  EXPECT_THAT(upload.rows[4].remarks, IsText("お客様都合で中止"));

  // Untouched, the file confirms every line: 変更なし, and the web draft as it was.
  const UploadPlan plan = PlanUpload(FixedLines(), upload.rows, kToday);
  ASSERT_THAT(plan.errors, IsEmpty());
  ASSERT_EQ(plan.answers.size(), 5u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(plan.answers[static_cast<size_t>(i)].answer, Answer::kNoChange);
  EXPECT_EQ(plan.answers[4].answer, Answer::kChanged);
  EXPECT_EQ(plan.answers[4].change.outcome, Outcome::kLost);
  EXPECT_EQ(plan.answers[4].change.lost_date, absl::CivilDay(2026, 10, 28));
  EXPECT_EQ(plan.answers[4].change.remarks, "お客様都合で中止");
}

TEST(ReadReportXlsx, ChangedLineRoundTripsItsAmountAndDate) {
  std::vector<ReportLine> lines = FixedLines();
  lines[0].answer = Answer::kChanged;
  lines[0].change.outcome = Outcome::kCompleted;
  lines[0].change.completion_date = absl::CivilDay(2026, 10, 20);
  lines[0].change.amount = 999'999'999'999;  // kMaxAmount: exact through the file
  absl::StatusOr<std::string> bytes = RenderReportXlsx(FixedInfo(), lines);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  const XlsxUpload upload = ReadReportXlsx(*bytes, FixedInfo());
  ASSERT_FALSE(upload.failure) << upload.detail;
  EXPECT_THAT(upload.rows[0].status, IsText("施工完了"));
  EXPECT_THAT(upload.rows[0].completion_date, IsDate(absl::CivilDay(2026, 10, 20)));
  EXPECT_THAT(upload.rows[0].amount, IsCell(Cell::Kind::kNumber, "999999999999", false));
}

TEST(ReadReportXlsx, ReportWithoutLinesReadsNoRows) {
  absl::StatusOr<std::string> bytes = RenderReportXlsx(FixedInfo(), {});
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  const XlsxUpload upload = ReadReportXlsx(*bytes, FixedInfo());
  EXPECT_FALSE(upload.failure) << upload.detail;
  EXPECT_THAT(upload.rows, IsEmpty());
}

// A file handed out by template version 1 (committed) still reads after the renderer changes.
TEST(ReadReportXlsx, CommittedVersion1RenderReads) {
  const XlsxUpload upload = ReadReportXlsx(ReadTestdata("report_v1.xlsx"), FixedInfo());
  ASSERT_FALSE(upload.failure) << upload.detail;
  ASSERT_EQ(upload.rows.size(), 5u);
  EXPECT_THAT(upload.rows[2].case_number, IsText("0001003"));
  EXPECT_THAT(upload.rows[4].lost_date, IsDate(absl::CivilDay(2026, 10, 28)));
}

// The edits scripts/make-report-xlsx-fixtures makes, as both programs save them.
void ExpectEditedRows(const XlsxUpload& upload, bool cached_formula_value) {
  ASSERT_FALSE(upload.failure) << upload.failure->reason << ": " << upload.detail;
  ASSERT_EQ(upload.rows.size(), 5u);
  const std::vector<UploadRow>& r = upload.rows;
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(r[static_cast<size_t>(i)].row, kFirstDataRow + i);
    EXPECT_THAT(r[static_cast<size_t>(i)].case_number, IsText(absl::StrCat("000100", i + 1)));
  }
  // 施工完了 with the date as a date cell and the amount as a number.
  EXPECT_THAT(r[0].status, IsText("施工完了"));
  EXPECT_THAT(r[0].completion_date, IsDate(absl::CivilDay(2026, 10, 20)));
  EXPECT_THAT(r[0].amount, IsAmount(1'250'000));
  EXPECT_THAT(r[0].lost_date, IsEmptyCell());
  EXPECT_THAT(r[0].remarks, IsEmptyCell());
  // The date and the amount typed as text.
  EXPECT_THAT(r[1].status, IsText("施工完了"));
  EXPECT_THAT(r[1].completion_date, IsText("2026/11/05"));
  EXPECT_THAT(r[1].amount, IsText("¥1,234,000"));
  // 失注 with a formula in the remarks.
  EXPECT_THAT(r[2].status, IsText("失注"));
  EXPECT_THAT(r[2].lost_date, IsDate(absl::CivilDay(2026, 10, 31)));
  EXPECT_TRUE(r[2].remarks.formula);
  if (cached_formula_value) {
    EXPECT_THAT(r[2].remarks, IsCell(Cell::Kind::kText, "連絡なし", true));
  }
  // Untouched rows, the draft among them.
  EXPECT_THAT(r[3].status, IsText("進行中"));
  EXPECT_THAT(r[3].completion_date, IsEmptyCell());
  EXPECT_THAT(r[3].amount, IsEmptyCell());
  EXPECT_THAT(r[4].status, IsText("失注"));
  EXPECT_THAT(r[4].lost_date, IsDate(absl::CivilDay(2026, 10, 28)));
  EXPECT_THAT(r[4].remarks, IsText("お客様都合で中止"));

  // What the service makes of it: the formula is refused, the rest reads as typed.
  const UploadPlan plan = PlanUpload(FixedLines(), r, kToday);
  ASSERT_EQ(plan.errors.size(), 1u);
  EXPECT_EQ(plan.errors[0].kind, ErrorKind::kInvalidRemarks);
  EXPECT_EQ(plan.errors[0].case_number, "0001003");
  EXPECT_EQ(plan.errors[0].row, kFirstDataRow + 2);
  std::vector<UploadRow> without_formula = r;
  without_formula[2].remarks = Empty();
  const UploadPlan accepted = PlanUpload(FixedLines(), without_formula, kToday);
  ASSERT_THAT(accepted.errors, IsEmpty());
  ASSERT_EQ(accepted.answers.size(), 5u);
  EXPECT_EQ(accepted.answers[0].change.amount, 1'250'000);
  EXPECT_EQ(accepted.answers[1].change.completion_date, absl::CivilDay(2026, 11, 5));
  EXPECT_EQ(accepted.answers[1].change.amount, 1'234'000);
  EXPECT_EQ(accepted.answers[2].change.outcome, Outcome::kLost);
  EXPECT_EQ(accepted.answers[3].answer, Answer::kNoChange);
}

TEST(ReadReportXlsx, EditedByOpenpyxl) {
  ExpectEditedRows(ReadReportXlsx(ReadTestdata("edited_openpyxl.xlsx"), FixedInfo()),
                   /*cached_formula_value=*/false);  // openpyxl computes no formula values
}

TEST(ReadReportXlsx, EditedByOpenpyxlThenResavedByLibreOffice) {
  ExpectEditedRows(ReadReportXlsx(ReadTestdata("edited_libreoffice.xlsx"), FixedInfo()),
                   /*cached_formula_value=*/true);
}

// A column inserted before the table and an extra sheet in front: found by labels and name.
TEST(ReadReportXlsx, ColumnsAreFoundByTheirLabels) {
  const std::string bytes = ReadTestdata("reordered_openpyxl.xlsx");
  absl::StatusOr<xlsx::Workbook> book = xlsx::ReadXlsx(bytes);
  ASSERT_TRUE(book.ok()) << book.status();
  ASSERT_EQ(book->info.sheets[0].name, "メモ");
  ASSERT_EQ(book->FindSheet(kReportSheetName)->Find(7, 1)->text, "社内メモ");
  const XlsxUpload upload = ReadReportXlsx(bytes, FixedInfo());
  ASSERT_FALSE(upload.failure) << upload.detail;
  ASSERT_EQ(upload.rows.size(), 5u);
  EXPECT_THAT(upload.rows[0].case_number, IsText("0001001"));
  EXPECT_THAT(upload.rows[0].status, IsText("施工完了"));
  EXPECT_THAT(upload.rows[0].completion_date, IsDate(absl::CivilDay(2026, 10, 20)));
  EXPECT_THAT(upload.rows[0].amount, IsAmount(1'250'000));
  EXPECT_THAT(upload.rows[4].remarks, IsText("お客様都合で中止"));
}

TEST(ReadReportXlsx, CellsComeBackAsTheFileHoldsThem) {
  const std::string bytes = WithReportSheet(SheetXml(absl::StrCat(
      HeaderRow(),
      "<row r=\"8\">", InlineCell("A8", "0001001"),
      "<c r=\"E8\" t=\"s\"><v>0</v></c>",  // one of the rendered file's shared strings
      "<c r=\"F8\"><v>46315.75</v></c><c r=\"G8\"><v>1.25E+6</v></c>"
      "<c r=\"H8\" t=\"e\"><v>#REF!</v></c><c r=\"I8\"><f>1+2</f><v>3</v></c></row>",
      "<row r=\"9\"><c r=\"A9\"><v>1002</v></c><c r=\"E9\" t=\"b\"><v>1</v></c>"
      "<c r=\"I9\" t=\"str\"><f>\"連絡\"&amp;\"なし\"</f><v>連絡なし</v></c></row>",
      "<row r=\"10\"><c r=\"J10\" t=\"inlineStr\"><is><t>only a note</t></is></c></row>"
      "<row r=\"11\"><c r=\"I11\" t=\"inlineStr\"><is><r><t>rich</t></r><r><t> text</t></r>"
      "</is></c></row>")));
  const XlsxUpload upload = ReadReportXlsx(bytes, FixedInfo());
  ASSERT_FALSE(upload.failure) << upload.detail;
  ASSERT_EQ(upload.rows.size(), 3u);  // row 10 holds nothing in the table's columns
  const UploadRow& a = upload.rows[0];
  EXPECT_EQ(a.row, 8);
  EXPECT_THAT(a.status.kind, Cell::Kind::kText);
  EXPECT_THAT(a.completion_date, IsCell(Cell::Kind::kNumber, "46315.75", false));
  EXPECT_THAT(a.amount, IsCell(Cell::Kind::kNumber, "1.25E+6", false));
  EXPECT_THAT(a.lost_date, IsCell(Cell::Kind::kError, "#REF!", false));
  EXPECT_THAT(a.remarks, IsCell(Cell::Kind::kNumber, "3", true));
  const UploadRow& b = upload.rows[1];
  EXPECT_THAT(b.case_number, IsCell(Cell::Kind::kNumber, "1002", false));
  EXPECT_THAT(b.status, IsCell(Cell::Kind::kBool, "TRUE", false));
  EXPECT_THAT(b.remarks, IsCell(Cell::Kind::kText, "連絡なし", true));
  EXPECT_EQ(upload.rows[2].row, 11);
  EXPECT_THAT(upload.rows[2].remarks, IsText("rich text"));
}

// A formula anywhere but the remarks column refuses the whole file (issue #11): its cached
// value is what the saving program wrote, not what the partner saw. In the remarks it stays
// the row's INVALID_REMARKS (CellsComeBackAsTheFileHoldsThem, ExpectEditedRows).
TEST(ReadReportXlsx, AFormulaOutsideTheRemarksRefusesTheFile) {
  const auto row_with = [](absl::string_view cells) {
    return WithReportSheet(SheetXml(absl::StrCat(
        HeaderRow(), "<row r=\"8\">", InlineCell("A8", "0001001"), cells, "</row>")));
  };
  struct Case {
    const char* cells;
    const char* where;
  };
  const Case cases[] = {
      {"<c r=\"E8\" t=\"str\"><f>\"施工\"&amp;\"完了\"</f><v>施工完了</v></c>"
       "<c r=\"F8\"><v>46315</v></c><c r=\"G8\"><v>1000</v></c>",
       "E8"},
      {"<c r=\"E8\" t=\"inlineStr\"><is><t>施工完了</t></is></c><c r=\"F8\"><f>TODAY()</f>"
       "<v>46315</v></c><c r=\"G8\"><v>1000</v></c>",
       "F8"},
      {"<c r=\"E8\" t=\"inlineStr\"><is><t>施工完了</t></is></c><c r=\"F8\"><v>46315</v></c>"
       "<c r=\"G8\"><f>1000*1.1</f><v>1100</v></c>",
       "G8"},
      {"<c r=\"G8\"><f>SUM(J1:J9)</f></c>", "G8"},  // no cached value at all
      {"<c r=\"H8\" t=\"e\"><f>WEBSERVICE(\"http://127.0.0.1/\")</f><v>#VALUE!</v></c>", "H8"},
      {"<c r=\"K8\"><f>1+1</f><v>2</v></c>", "K8"},  // a scratch cell beside the table
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.where);
    const XlsxUpload upload = ReadReportXlsx(row_with(c.cells), FixedInfo());
    ExpectFailure(upload, "FORMULA_CELL");
    EXPECT_EQ(upload.failure->field, kReportSheetName);
    EXPECT_THAT(upload.detail, HasSubstr(absl::StrCat("cell ", c.where, " ")));
    EXPECT_THAT(upload.detail, Not(HasSubstr("127.0.0.1")));  // never quoted back
  }
  // Above the table (the header row included).
  ExpectFailure(ReadReportXlsx(WithReportSheet(SheetXml(absl::StrCat(
                                   "<row r=\"1\"><c r=\"A1\"><f>NOW()</f><v>1</v></c></row>",
                                   HeaderRow()))),
                               FixedInfo()),
                "FORMULA_CELL");
  // On the identity sheet.
  const std::string rendered = Render();
  const std::string identity = UnzipEntry(rendered, PartOf(rendered, kIdentitySheetName));
  ASSERT_THAT(identity, HasSubstr("</sheetData>"));
  const std::string with_formula = absl::StrReplaceAll(
      identity,
      {{"</sheetData>", "<row r=\"20\"><c r=\"B20\"><f>1+1</f><v>2</v></c></row></sheetData>"}});
  const XlsxUpload upload =
      ReadReportXlsx(Replace(rendered, PartOf(rendered, kIdentitySheetName), with_formula),
                     FixedInfo());
  ExpectFailure(upload, "FORMULA_CELL");
  EXPECT_EQ(upload.failure->field, kIdentitySheetName);
  // The same row with typed values reads.
  const XlsxUpload typed = ReadReportXlsx(
      row_with("<c r=\"E8\" t=\"inlineStr\"><is><t>施工完了</t></is></c><c r=\"F8\"><v>46315</v>"
               "</c><c r=\"G8\"><v>1100</v></c>"),
      FixedInfo());
  ASSERT_FALSE(typed.failure) << typed.detail;
  ASSERT_EQ(typed.rows.size(), 1u);
  EXPECT_THAT(typed.rows[0].amount, IsAmount(1100));
}

TEST(ReadReportXlsx, DatesOfThe1904SystemAreRestatedIn1900Serials) {
  const std::string rendered = Render();
  const std::string sheet = SheetXml(absl::StrCat(
      HeaderRow(), "<row r=\"8\">", InlineCell("A8", "0001001"), "<c r=\"F8\"><v>",
      *DayToExcelSerial(absl::CivilDay(2026, 10, 20)) - 1462, "</v></c><c r=\"G8\"><v>1462</v>",
      "</c><c r=\"H8\"><v>-5</v></c></row>"));
  std::string workbook = UnzipEntry(rendered, "xl/workbook.xml");
  ASSERT_THAT(workbook, HasSubstr("<workbookPr "));
  workbook = absl::StrReplaceAll(workbook, {{"<workbookPr ", "<workbookPr date1904=\"1\" "}});
  const std::string bytes = Replace(Replace(rendered, PartOf(rendered, kReportSheetName), sheet),
                                    "xl/workbook.xml", workbook);
  const XlsxUpload upload = ReadReportXlsx(bytes, FixedInfo());
  ASSERT_FALSE(upload.failure) << upload.detail;
  ASSERT_EQ(upload.rows.size(), 1u);
  EXPECT_THAT(upload.rows[0].completion_date, IsDate(absl::CivilDay(2026, 10, 20)));
  EXPECT_THAT(upload.rows[0].amount, IsCell(Cell::Kind::kNumber, "1462", false));  // not a date
  // No day in the 1904 system: text, which ReadDateCell refuses (INVALID_COMBINATION).
  EXPECT_EQ(upload.rows[0].lost_date.kind, Cell::Kind::kText);
  EXPECT_FALSE(ReadDateCell(upload.rows[0].lost_date).ok());
}

// ---- refusals: not this report ----

TEST(ReadReportXlsx, AnotherReportOrPartnerIsRefused) {
  const std::string bytes = Render();
  XlsxReportInfo other = FixedInfo();
  other.report_id = 4202;
  ExpectFailure(ReadReportXlsx(bytes, other), "OTHER_REPORT");
  other = FixedInfo();
  other.partner_id = 78;
  ExpectFailure(ReadReportXlsx(bytes, other), "OTHER_PARTNER");
  other = FixedInfo();
  other.month = absl::CivilMonth(2026, 12);
  ExpectFailure(ReadReportXlsx(bytes, other), "OTHER_REPORT");
  // The name and the deadline are display only.
  other = FixedInfo();
  other.partner_name = "改名後の工務店";
  other.deadline_day = absl::CivilDay(2026, 11, 9);
  EXPECT_FALSE(ReadReportXlsx(bytes, other).failure);
}

TEST(ReadReportXlsx, AFileThatIsNotOurTemplateIsRefused) {
  const std::string plain =
      MinimalXlsx(SheetXml(absl::StrCat(HeaderRow(), "<row r=\"8\">",
                                        InlineCell("A8", "0001001"), "</row>")));
  XlsxUpload upload = ReadReportXlsx(plain, FixedInfo());
  ExpectFailure(upload, "NOT_OUR_TEMPLATE");
  EXPECT_EQ(upload.failure->field, kIdentitySheetName);

  const std::string rendered = Render();
  const std::string identity_part = PartOf(rendered, kIdentitySheetName);
  const auto with_identity = [&](absl::string_view rows) {
    return Replace(rendered, identity_part, SheetXml(rows));
  };
  upload = ReadReportXlsx(with_identity(absl::StrCat(
                              "<row r=\"1\">", InlineCell("A1", "template"),
                              InlineCell("B1", "anken-report-xlsx/0"), "</row>")),
                          FixedInfo());
  ExpectFailure(upload, "NOT_OUR_TEMPLATE");
  EXPECT_EQ(upload.failure->field, "template");
  upload = ReadReportXlsx(
      with_identity(absl::StrCat("<row r=\"1\">", InlineCell("A1", "template"),
                                 InlineCell("B1", "anken-report-xlsx/1"), "</row><row r=\"2\">",
                                 InlineCell("A2", "partner_id"), InlineCell("B2", "77"),
                                 "</row><row r=\"3\">", InlineCell("A3", "report_id"),
                                 InlineCell("B3", "-4201"), "</row>")),
      FixedInfo());
  ExpectFailure(upload, "NOT_OUR_TEMPLATE");
  EXPECT_EQ(upload.failure->field, "report_id");
  // Ids that a program turned into numbers still identify the report.
  upload = ReadReportXlsx(
      with_identity(absl::StrCat(
          "<row r=\"1\">", InlineCell("A1", "template"), InlineCell("B1", "anken-report-xlsx/1"),
          "</row><row r=\"2\">", InlineCell("A2", "report_id"), "<c r=\"B2\"><v>4201</v></c>",
          "</row><row r=\"3\">", InlineCell("A3", "partner_id"), "<c r=\"B3\"><v>77</v></c>",
          "</row><row r=\"4\">", InlineCell("A4", "month"), InlineCell("B4", "2026-11"),
          "</row>")),
      FixedInfo());
  EXPECT_FALSE(upload.failure) << upload.detail;
  EXPECT_EQ(upload.rows.size(), 5u);
}

TEST(ReadReportXlsx, ATableWithoutItsColumnsIsRefused) {
  XlsxUpload upload = ReadReportXlsx(
      WithReportSheet(SheetXml(absl::StrCat(
          HeaderRow({"案件番号", "お客様名", "紹介日", "現在の状況", "取次状況", "完了日",
                     "金額", "失注日", "報告備考"})))),
      FixedInfo());
  ExpectFailure(upload, "MISSING_COLUMN");
  EXPECT_EQ(upload.failure->field, "amount");
  upload = ReadReportXlsx(
      WithReportSheet(SheetXml(HeaderRow({"案件番号", "取次状況", "完了日", "施工金額",
                                          "失注日", "報告備考", "完了日"}))),
      FixedInfo());
  ExpectFailure(upload, "DUPLICATE_COLUMN");
  EXPECT_EQ(upload.failure->field, "completion_date");
  ExpectFailure(ReadReportXlsx(WithReportSheet(SheetXml(absl::StrCat(
                                   "<row r=\"1\">", InlineCell("A1", "案件番号"), "</row>"))),
                               FixedInfo()),
                "NO_HEADER_ROW");
  // The report sheet renamed.
  const std::string rendered = Render();
  std::string workbook = UnzipEntry(rendered, "xl/workbook.xml");
  workbook = absl::StrReplaceAll(workbook, {{"name=\"案件一覧\"", "name=\"Sheet1\""}});
  upload = ReadReportXlsx(Replace(rendered, "xl/workbook.xml", workbook), FixedInfo());
  ExpectFailure(upload, "NOT_OUR_TEMPLATE");
  EXPECT_EQ(upload.failure->field, "sheet");
}

// ---- refusals: broken and hostile files, with bounded work ----

TEST(ReadReportXlsx, NotAnXlsxIsRefused) {
  XlsxUpload upload = ReadReportXlsx("案件番号,取次状況\n0001001,施工完了\n", FixedInfo());
  ExpectFailure(upload, "UNREADABLE_FILE");
  EXPECT_THAT(upload.detail, HasSubstr("not a readable zip archive"));
  ExpectFailure(ReadReportXlsx("", FixedInfo()), "UNREADABLE_FILE");
  // A zip, but no workbook in it.
  upload = ReadReportXlsx(BuildZip({{"hello.txt", "hello"}}), FixedInfo());
  ExpectFailure(upload, "UNREADABLE_FILE");
  EXPECT_THAT(upload.detail, HasSubstr("not an .xlsx"));
}

TEST(ReadReportXlsx, TruncatedZipIsRefused) {
  const std::string bytes = Render();
  for (size_t keep : {bytes.size() / 2, bytes.size() - 10, size_t{30}}) {
    const XlsxUpload upload = ReadReportXlsx(bytes.substr(0, keep), FixedInfo());
    ExpectFailure(upload, "UNREADABLE_FILE");
  }
}

TEST(ReadReportXlsx, OverTheSizeCapIsRefusedUnread) {
  const XlsxUpload upload = ReadReportXlsx(std::string(kMaxUploadBytes + 1, 'P'), FixedInfo());
  ExpectFailure(upload, "FILE_TOO_LARGE");
  EXPECT_EQ(kMaxUploadBytes, 20 * kMiB);
  EXPECT_EQ(upload.stats.entries, 0);
  EXPECT_EQ(upload.stats.inflated_bytes, 0);
}

TEST(ReadReportXlsx, HonestZipBombIsRefusedBeforeInflating) {
  const std::string bomb = WithReportSheet(FillerSheet(100 * kMiB));
  ASSERT_LT(bomb.size(), static_cast<size_t>(kMiB));
  const XlsxUpload upload = ReadReportXlsx(bomb, FixedInfo());
  ExpectFailure(upload, "UNREADABLE_FILE");
  EXPECT_EQ(upload.stats.inflated_bytes, 0);
}

TEST(ReadReportXlsx, LyingZipBombIsStoppedWhileInflating) {
  // Declares 1000 bytes, so the directory passes; the inflate counters stop it.
  const std::string rendered = Render();
  const std::string part = PartOf(rendered, kReportSheetName);
  std::string bomb = Replace(rendered, part, FillerSheet(64 * kMiB));
  PatchDeclaredSize(bomb, part, 1000);
  const XlsxUpload upload = ReadReportXlsx(bomb, FixedInfo());
  ExpectFailure(upload, "UNREADABLE_FILE");
  EXPECT_THAT(upload.detail, HasSubstr("inflates past"));
  EXPECT_LE(upload.stats.largest_inflated_entry, 100 * static_cast<int64_t>(bomb.size()) + 1);
  EXPECT_LT(upload.stats.inflated_bytes, 64 * kMiB / 4);
}

TEST(ReadReportXlsx, DtdEntitiesAreRefused) {
  const std::string xxe = absl::StrCat(
      "<?xml version=\"1.0\"?><!DOCTYPE worksheet [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
      "<worksheet xmlns=\"",
      xlsx::testing::kMainNs, "\"><sheetData>", HeaderRow(),
      "<row r=\"8\"><c r=\"I8\" t=\"inlineStr\"><is><t>&x;</t></is></c></row>"
      "</sheetData></worksheet>");
  XlsxUpload upload = ReadReportXlsx(WithReportSheet(xxe), FixedInfo());
  ExpectFailure(upload, "UNREADABLE_FILE");
  EXPECT_THAT(upload.detail, HasSubstr("DOCTYPE"));

  std::string laughs = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol0 \"lol\">";
  for (int i = 1; i < 10; ++i) {
    absl::StrAppend(&laughs, "<!ENTITY lol", i, " \"");
    for (int k = 0; k < 10; ++k) absl::StrAppend(&laughs, "&lol", i - 1, ";");
    absl::StrAppend(&laughs, "\">");
  }
  absl::StrAppend(&laughs, "]><worksheet xmlns=\"", xlsx::testing::kMainNs, "\"><sheetData>",
                  HeaderRow(),
                  "<row r=\"8\"><c r=\"I8\" t=\"inlineStr\"><is><t>&lol9;</t></is></c></row>"
                  "</sheetData></worksheet>");
  upload = ReadReportXlsx(WithReportSheet(laughs), FixedInfo());
  ExpectFailure(upload, "UNREADABLE_FILE");
  EXPECT_LT(upload.stats.longest_text, 1000);  // nothing was expanded
  // In the shared strings, read at open, too.
  const std::string rendered = Render();
  const std::string sst = absl::StrCat(
      "<?xml version=\"1.0\"?><!DOCTYPE sst [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><sst "
      "xmlns=\"",
      xlsx::testing::kMainNs, "\"><si><t>&x;</t></si></sst>");
  ExpectFailure(ReadReportXlsx(Replace(rendered, "xl/sharedStrings.xml", sst), FixedInfo()),
                "UNREADABLE_FILE");
}

TEST(ReadReportXlsx, PathTricksAreRefused) {
  std::vector<ZipEntry> entries = Entries(Render());
  entries.push_back({"../../etc/cron.d/x", "x"});
  const XlsxUpload upload = ReadReportXlsx(BuildZip(entries), FixedInfo());
  ExpectFailure(upload, "UNREADABLE_FILE");
  EXPECT_THAT(upload.detail, HasSubstr("segment"));
}

TEST(ReadReportXlsx, TooManyRowsStopsTheRead) {
  std::string rows;
  const int count = static_cast<int>(kMaxUploadRows) + 1;
  for (int i = 0; i < count; ++i) {
    const int r = kFirstDataRow + i;
    absl::StrAppend(&rows, "<row r=\"", r, "\"><c r=\"A", r, "\"><v>", 1000 + i, "</v></c></row>");
  }
  XlsxUpload upload = ReadReportXlsx(WithReportSheet(SheetXml(absl::StrCat(HeaderRow(), rows))),
                                     FixedInfo());
  ExpectFailure(upload, "TOO_MANY_ROWS");
  EXPECT_LE(upload.stats.rows, count + 10);  // stopped at the first row past the cap

  // Blank rows do not count towards the cap, but <row> elements are bounded by the reader.
  std::string blank;
  for (int i = 0; i < 2 * count + 1000; ++i) {
    absl::StrAppend(&blank, "<row r=\"", kFirstDataRow + i, "\"/>");
  }
  upload = ReadReportXlsx(WithReportSheet(SheetXml(absl::StrCat(HeaderRow(), blank))),
                          FixedInfo());
  ExpectFailure(upload, "TOO_MANY_ROWS");
}

// scripts/make-report-xlsx-fixtures runs this with ANKEN_REPORT_XLSX_RENDER_TO set, to get the
// render its fixtures edit; otherwise it only checks that the fixed report renders.
TEST(Fixtures, FixedReportRenders) {
  const std::string bytes = Render();
  ASSERT_FALSE(bytes.empty());
  if (const char* path = std::getenv("ANKEN_REPORT_XLSX_RENDER_TO")) {
    std::ofstream out(path, std::ios::binary);
    out << bytes;
    ASSERT_TRUE(out.good()) << path;
  }
}

}  // namespace
}  // namespace anken::report
