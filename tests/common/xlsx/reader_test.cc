// The reader on real files: the committed fixtures from libxlsxwriter, openpyxl, a file
// shaped like Excel's own output, and LibreOffice re-saves of all three
// (scripts/make-xlsx-fixtures), plus small crafted files for the edge cases of the format.
#include "common/xlsx/reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/xlsx/values.h"
#include "tests/common/xlsx/xlsx_test_util.h"

namespace anken::xlsx {
namespace {

using absl::CivilDay;
using testing::BuildZip;
using testing::MinimalParts;
using testing::MinimalXlsx;
using testing::ReadTestdata;
using testing::SheetXml;
using testing::UnzipEntry;

const Cell& At(const Sheet& sheet, int row, int column) {
  const Cell* cell = sheet.Find(row, column);
  if (cell == nullptr) {
    ADD_FAILURE() << "no cell " << row << "," << column << " in " << sheet.info.name;
    static const Cell kNone;
    return kNone;
  }
  return *cell;
}

void ExpectText(const Sheet& sheet, int row, int column, const std::string& text) {
  const Cell& cell = At(sheet, row, column);
  EXPECT_EQ(cell.type, CellType::kString) << sheet.info.name << " " << row << "," << column;
  EXPECT_EQ(cell.text, text) << sheet.info.name << " " << row << "," << column;
}

CivilDay SerialDay(const Sheet& sheet, int row, int column, DateSystem system) {
  const Cell& cell = At(sheet, row, column);
  EXPECT_EQ(cell.type, CellType::kNumber) << row << "," << column;
  auto day = SerialToCivilDay(cell.number, system);
  EXPECT_TRUE(day.ok()) << day.status();
  return day.ok() ? *day : CivilDay();
}

CivilDay TextDay(const Sheet& sheet, int row, int column) {
  const Cell& cell = At(sheet, row, column);
  EXPECT_EQ(cell.type, CellType::kString) << row << "," << column;
  auto day = ParseTextDate(cell.text);
  EXPECT_TRUE(day.ok()) << day.status();
  return day.ok() ? *day : CivilDay();
}

Workbook MustRead(const std::string& bytes, ReadStats* stats = nullptr) {
  auto workbook = ReadXlsx(bytes, ReadLimits(), stats);
  EXPECT_TRUE(workbook.ok()) << workbook.status();
  return workbook.ok() ? *std::move(workbook) : Workbook();
}

// The logical workbook every generator in scripts/make-xlsx-fixtures writes.
void ExpectCaseWorkbook(const Workbook& book, DateSystem system) {
  ASSERT_EQ(book.sheets.size(), 3u);
  EXPECT_EQ(book.info.date_system, system);
  EXPECT_EQ(book.sheets[0].info.name, "案件一覧");
  EXPECT_EQ(book.sheets[1].info.name, "メモ");
  EXPECT_EQ(book.sheets[2].info.name, "_anken");
  EXPECT_EQ(book.sheets[0].info.visibility, SheetVisibility::kVisible);
  EXPECT_EQ(book.sheets[1].info.visibility, SheetVisibility::kVisible);
  EXPECT_EQ(book.sheets[2].info.visibility, SheetVisibility::kHidden);
  const DefinedName* report = book.info.FindDefinedName("anken_report");
  ASSERT_NE(report, nullptr);
  EXPECT_EQ(report->formula, "_anken!$B$1");
  EXPECT_EQ(report->local_sheet, -1);

  const Sheet& cases = book.sheets[0];
  ASSERT_EQ(cases.rows.size(), 4u);
  const char* headers[] = {"案件番号", "顧客名",   "紹介日", "取次状況",
                           "完了日",   "施工金額", "失注日", "報告備考"};
  for (int c = 1; c <= 8; ++c) ExpectText(cases, 1, c, headers[c - 1]);
  // Row 2: dates and the amount as numbers (with number formats), a remark that looks like
  // a formula but was written as text.
  ExpectText(cases, 2, 1, "0001234");
  ExpectText(cases, 2, 2, "山田工務店");
  EXPECT_EQ(SerialDay(cases, 2, 3, system), CivilDay(2026, 3, 10));
  EXPECT_NE(At(cases, 2, 3).style, 0);
  ExpectText(cases, 2, 4, "施工完了");
  EXPECT_EQ(SerialDay(cases, 2, 5, system), CivilDay(2026, 4, 5));
  EXPECT_EQ(At(cases, 2, 6).type, CellType::kNumber);
  EXPECT_EQ(*ParseWholeNumber(At(cases, 2, 6).text), 1250000);
  EXPECT_NE(At(cases, 2, 6).style, 0);
  EXPECT_EQ(cases.Find(2, 7), nullptr);
  ExpectText(cases, 2, 8, "=SUM(A1)");
  EXPECT_FALSE(At(cases, 2, 8).formula);
  // Row 3: a date typed as Japanese text, a remark starting with a full-width minus.
  ExpectText(cases, 3, 2, "佐藤 花子");
  EXPECT_EQ(SerialDay(cases, 3, 3, system), CivilDay(2026, 2, 1));
  ExpectText(cases, 3, 4, "失注");
  EXPECT_EQ(cases.Find(3, 5), nullptr);
  EXPECT_EQ(TextDay(cases, 3, 7), CivilDay(2026, 4, 5));
  ExpectText(cases, 3, 8, "－連絡なし");
  // Row 4: dates and the amount typed as text.
  ExpectText(cases, 4, 1, "0001236");
  EXPECT_EQ(TextDay(cases, 4, 3), CivilDay(2026, 4, 5));
  ExpectText(cases, 4, 4, "進行中");
  EXPECT_EQ(TextDay(cases, 4, 5), CivilDay(2026, 4, 5));
  ExpectText(cases, 4, 6, "1,250,000");

  const Sheet& memo = book.sheets[1];
  ExpectText(memo, 1, 1, "メモ");
  EXPECT_TRUE(At(memo, 1, 2).formula);
  EXPECT_EQ(At(memo, 2, 1).type, CellType::kBool);
  EXPECT_EQ(At(memo, 2, 1).number, 1);
  EXPECT_EQ(At(memo, 3, 1).type, CellType::kNumber);
  EXPECT_DOUBLE_EQ(At(memo, 3, 1).number, 0.1);
  EXPECT_DOUBLE_EQ(At(memo, 3, 2).number, 1e20);
  EXPECT_EQ(ParseWholeNumber(At(memo, 3, 2).text).status().code(),
            absl::StatusCode::kInvalidArgument);  // beyond int64
  EXPECT_EQ(*ParseWholeNumber(At(memo, 3, 3).text), -42);

  const Sheet& meta = book.sheets[2];
  ExpectText(meta, 1, 1, "report_id");
  ExpectText(meta, 1, 2, "R-2026-04-000123");
}

TEST(Fixtures, Libxlsxwriter) {
  const std::string bytes = ReadTestdata("libxlsxwriter.xlsx");
  // The fixture covers the shared-string path.
  ASSERT_TRUE(absl::StrContains(UnzipEntry(bytes, "xl/worksheets/sheet1.xml"), "t=\"s\""));
  ReadStats stats;
  const Workbook book = MustRead(bytes, &stats);
  ExpectCaseWorkbook(book, DateSystem::k1900);
  EXPECT_GT(stats.shared_strings, 20);
  const Sheet& memo = book.sheets[1];
  EXPECT_EQ(At(memo, 1, 2).type, CellType::kNumber);  // cached formula result
  EXPECT_EQ(At(memo, 1, 2).number, 3);
  EXPECT_EQ(At(memo, 3, 2).text, "1E+20");
}

TEST(Fixtures, Openpyxl) {
  const std::string bytes = ReadTestdata("openpyxl.xlsx");
  // openpyxl 3.0 writes every string inline: the fixture covers that path.
  ASSERT_TRUE(absl::StrContains(UnzipEntry(bytes, "xl/worksheets/sheet1.xml"), "inlineStr"));
  ReadStats stats;
  const Workbook book = MustRead(bytes, &stats);
  ExpectCaseWorkbook(book, DateSystem::k1900);
  EXPECT_EQ(stats.shared_strings, 0);
  const Sheet& memo = book.sheets[1];
  EXPECT_EQ(At(memo, 1, 2).type, CellType::kEmpty);  // openpyxl stores no cached result
  EXPECT_EQ(At(memo, 2, 2).type, CellType::kError);
  EXPECT_EQ(At(memo, 2, 2).text, "#N/A");
}

TEST(Fixtures, Openpyxl1904DateSystem) {
  const Workbook book = MustRead(ReadTestdata("openpyxl_1904.xlsx"));
  ExpectCaseWorkbook(book, DateSystem::k1904);
  EXPECT_EQ(At(book.sheets[0], 2, 5).number, 46117 - 1462);  // 2026-04-05 counted from 1904
}

TEST(Fixtures, LibreOfficeResaves) {
  for (const char* name :
       {"libreoffice_from_libxlsxwriter.xlsx", "libreoffice_from_openpyxl.xlsx"}) {
    SCOPED_TRACE(name);
    const std::string bytes = ReadTestdata(name);
    ASSERT_TRUE(absl::StrContains(UnzipEntry(bytes, "xl/workbook.xml"), "Calc"));
    ReadStats stats;
    const Workbook book = MustRead(bytes, &stats);
    ExpectCaseWorkbook(book, DateSystem::k1900);
    EXPECT_GT(stats.shared_strings, 20);
    const Sheet& memo = book.sheets[1];
    EXPECT_EQ(At(memo, 1, 2).number, 3);  // LibreOffice recalculates and caches 1+2
    EXPECT_EQ(At(memo, 3, 2).text, "1E+020");
    EXPECT_TRUE(At(memo, 2, 1).formula);  // LibreOffice turns TRUE into =TRUE()
  }
}

// Excel's shape: rich-text runs with furigana, parts with custom names in a custom order,
// absolute and ".." relationship targets, a very hidden sheet, cells without references.
TEST(Fixtures, HandmadeExcelStyle) {
  const Workbook book = MustRead(ReadTestdata("handmade_excel_style.xlsx"));
  ASSERT_EQ(book.sheets.size(), 3u);
  EXPECT_EQ(book.sheets[0].info.name, "一覧");
  EXPECT_EQ(book.sheets[0].info.part, "xl/worksheets/data2.xml");
  EXPECT_EQ(book.sheets[1].info.name, "その他");
  EXPECT_EQ(book.sheets[1].info.part, "xl/worksheets/data1.xml");
  EXPECT_EQ(book.sheets[2].info.name, "秘密");
  EXPECT_EQ(book.sheets[2].info.part, "xl/worksheets/secret.xml");
  EXPECT_EQ(book.sheets[2].info.visibility, SheetVisibility::kVeryHidden);
  ASSERT_EQ(book.info.defined_names.size(), 2u);
  EXPECT_EQ(book.info.defined_names[0].name, "_xlnm._FilterDatabase");
  EXPECT_EQ(book.info.defined_names[0].local_sheet, 0);
  EXPECT_TRUE(book.info.defined_names[0].hidden);
  EXPECT_EQ(book.info.FindDefinedName("anken_report")->formula, "秘密!$B$1");

  const Sheet& list = book.sheets[0];
  ExpectText(list, 1, 1, "案件番号");
  ExpectText(list, 1, 2, "山田 工務店");  // two runs, the furigana ヤマダ dropped
  EXPECT_EQ(At(list, 1, 2).style, 1);
  ExpectText(list, 2, 1, "佐藤花子");  // inline rich text
  EXPECT_EQ(SerialDay(list, 2, 2, DateSystem::k1900), CivilDay(2026, 4, 5));
  ExpectText(list, 2, 3, "施工完了");
  ExpectText(list, 2, 4, "佐藤花子様");
  EXPECT_TRUE(At(list, 2, 4).formula);
  ASSERT_EQ(list.rows.size(), 4u);
  EXPECT_EQ(list.rows[2].number, 4);
  ExpectText(list, 4, 1, "1行目\r\n2行目");
  EXPECT_EQ(*ParseWholeNumber(At(list, 4, 2).text), 1250000);
  EXPECT_EQ(At(list, 4, 3).type, CellType::kBool);
  EXPECT_EQ(At(list, 4, 3).number, 0);
  EXPECT_EQ(At(list, 4, 4).type, CellType::kError);
  EXPECT_EQ(At(list, 4, 4).text, "#DIV/0!");
  EXPECT_EQ(At(list, 4, 6).type, CellType::kEmpty);
  EXPECT_EQ(At(list, 4, 6).style, 3);
  EXPECT_EQ(list.Find(4, 5), nullptr);
  EXPECT_EQ(list.rows[3].number, 5);
  ExpectText(list, 5, 1, "_x0041_");  // Excel's escape of a literal "_x0041_"
  ExpectText(book.sheets[1], 1, 1, "その他シート");
  ExpectText(book.sheets[2], 1, 2, "R-2026-04-000123");
}

TEST(Fixtures, LibreOfficeResaveOfExcelStyle) {
  const Workbook book = MustRead(ReadTestdata("libreoffice_from_handmade_excel_style.xlsx"));
  ASSERT_EQ(book.sheets.size(), 3u);
  EXPECT_EQ(book.sheets[0].info.name, "一覧");
  EXPECT_EQ(book.sheets[2].info.visibility, SheetVisibility::kHidden);  // LO has no "very"
  const Sheet& list = book.sheets[0];
  ExpectText(list, 1, 2, "山田 工務店");  // still rich text runs, now in sharedStrings
  ExpectText(list, 2, 1, "佐藤花子");
  ExpectText(list, 2, 4, "佐藤花子様");
  ExpectText(list, 4, 1, "1行目\n2行目");
  EXPECT_EQ(At(list, 4, 4).text, "#DIV/0!");
  ExpectText(list, 5, 1, "_x0041_");
  ExpectText(book.sheets[2], 1, 2, "R-2026-04-000123");
}

TEST(Streaming, RowsArriveInOrderAndTheCallbackCanStop) {
  XlsxReader reader;
  const std::string bytes = ReadTestdata("libxlsxwriter.xlsx");
  ASSERT_TRUE(reader.Open(bytes).ok());
  std::vector<int> rows;
  EXPECT_TRUE(reader
                  .ReadSheet("案件一覧",
                             [&](const Row& row) {
                               rows.push_back(row.number);
                               return absl::OkStatus();
                             })
                  .ok());
  EXPECT_EQ(rows, (std::vector<int>{1, 2, 3, 4}));
  rows.clear();
  absl::Status stopped = reader.ReadSheet("案件一覧", [&](const Row& row) {
    rows.push_back(row.number);
    return absl::CancelledError("enough");
  });
  EXPECT_EQ(stopped, absl::CancelledError("enough"));
  EXPECT_EQ(rows, (std::vector<int>{1}));
  EXPECT_EQ(reader.ReadSheet("nope", [](const Row&) { return absl::OkStatus(); }).code(),
            absl::StatusCode::kNotFound);
}

TEST(Streaming, ReadSheetBeforeOpenIsAPreconditionError) {
  XlsxReader reader;
  EXPECT_EQ(reader.ReadSheet("x", [](const Row&) { return absl::OkStatus(); }).code(),
            absl::StatusCode::kFailedPrecondition);
}

// ---- crafted files: the corners of the format ----

TEST(Crafted, PrefixedAndStrictNamespaces) {
  const std::string prefixed = absl::StrCat(
      "<x:worksheet xmlns:x=\"", testing::kMainNs,
      "\"><x:sheetData><x:row r=\"1\">"
      "<x:c r=\"A1\" t=\"inlineStr\"><x:is><x:t>ok</x:t></x:is></x:c></x:row></x:sheetData>"
      "</x:worksheet>");
  auto book = ReadXlsx(MinimalXlsx(prefixed));
  ASSERT_TRUE(book.ok()) << book.status();
  EXPECT_EQ(book->sheets[0].Find(1, 1)->text, "ok");

  const std::string strict =
      "<worksheet xmlns=\"http://purl.oclc.org/ooxml/spreadsheetml/main\"><sheetData>"
      "<row r=\"1\"><c r=\"B1\"><v>7</v></c></row></sheetData></worksheet>";
  book = ReadXlsx(MinimalXlsx(strict));
  ASSERT_TRUE(book.ok()) << book.status();
  EXPECT_EQ(book->sheets[0].Find(1, 2)->number, 7);

  // Elements of another namespace are not spreadsheet cells, even with the same names.
  const std::string foreign = absl::StrCat(
      "<worksheet xmlns=\"", testing::kMainNs,
      "\" xmlns:o=\"urn:other\"><sheetData>"
      "<o:row r=\"1\"><c r=\"A1\"><v>1</v></c></o:row><row r=\"2\"><c r=\"A2\"><v>2</v></c>"
      "</row></sheetData></worksheet>");
  book = ReadXlsx(MinimalXlsx(foreign));
  ASSERT_TRUE(book.ok()) << book.status();
  ASSERT_EQ(book->sheets[0].rows.size(), 1u);
  EXPECT_EQ(book->sheets[0].rows[0].number, 2);
}

TEST(Crafted, CellTypesAndEscapes) {
  const std::string sheet = SheetXml(
      "<row r=\"1\"><c r=\"A1\" t=\"d\"><v>2026-04-05T00:00:00</v></c>"
      "<c r=\"B1\"><f>SUM(A1)</f></c>"
      "<c r=\"C1\" t=\"str\"><f>A1</f><v>_xD83D__xDE00_ and _x0009_</v></c>"
      "<c r=\"D1\" t=\"b\"><v>true</v></c>"
      "<c r=\"E1\"><v> 12 </v></c>"
      "<c r=\"F1\" t=\"inlineStr\"><is><t>_xD800_ lone</t></is></c>"
      "<c r=\"G1\" t=\"s\"/></row>");
  auto book = ReadXlsx(MinimalXlsx(sheet));
  ASSERT_TRUE(book.ok()) << book.status();
  const Sheet& s = book->sheets[0];
  EXPECT_EQ(TextDay(s, 1, 1), CivilDay(2026, 4, 5));
  EXPECT_EQ(At(s, 1, 2).type, CellType::kEmpty);
  EXPECT_TRUE(At(s, 1, 2).formula);
  ExpectText(s, 1, 3, "😀 and \t");
  EXPECT_EQ(At(s, 1, 4).type, CellType::kBool);
  EXPECT_EQ(At(s, 1, 4).number, 1);
  EXPECT_EQ(At(s, 1, 5).number, 12);
  EXPECT_EQ(*ParseWholeNumber(At(s, 1, 5).text), 12);
  ExpectText(s, 1, 6, "_xD800_ lone");
  EXPECT_EQ(At(s, 1, 7).type, CellType::kEmpty);
}

TEST(Crafted, ControlCharacterEscapesReachTheCallerAsCharacters) {
  // XML 1.0 cannot hold NUL (not even as &#0;) and turns a raw CR into LF: _xHHHH_ is how a
  // spreadsheet carries them, so a consumer that must refuse them has to see them decoded.
  const std::string sst = absl::StrCat("<sst xmlns=\"", testing::kMainNs,
                                       "\"><si><r><t>a</t></r><r><t>_x0000_b</t></r></si></sst>");
  const std::string sheet = SheetXml(
      "<row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>x_x0000_y</t></is></c>"
      "<c r=\"B1\" t=\"inlineStr\"><is><t>_x000D_=1</t></is></c>"
      "<c r=\"C1\" t=\"s\"><v>0</v></c>"
      "<c r=\"D1\" t=\"inlineStr\"><is><t>_x0000</t></is></c></row>");
  auto book = ReadXlsx(MinimalXlsx(sheet, sst));
  ASSERT_TRUE(book.ok()) << book.status();
  const Sheet& s = book->sheets[0];
  ExpectText(s, 1, 1, std::string("x\0y", 3));
  ExpectText(s, 1, 2, "\r=1");
  ExpectText(s, 1, 3, std::string("a\0b", 3));
  ExpectText(s, 1, 4, "_x0000");  // not an escape: no closing underscore
  // A raw NUL or a NUL character reference is not XML at all.
  for (const std::string& t : {std::string("a\0b", 3), std::string("a&#0;b")}) {
    const std::string bad =
        SheetXml(absl::StrCat("<row r=\"1\"><c t=\"inlineStr\"><is><t>", t, "</t></is></c></row>"));
    absl::StatusOr<Workbook> refused = ReadXlsx(MinimalXlsx(bad));
    ASSERT_FALSE(refused.ok());
    EXPECT_TRUE(absl::StrContains(refused.status().message(), "not well-formed XML"))
        << refused.status();
  }
}

TEST(Crafted, Utf16Document) {
  const std::string ascii = absl::StrCat(
      "<?xml version=\"1.0\" encoding=\"UTF-16\"?><worksheet xmlns=\"", testing::kMainNs,
      "\"><sheetData><row r=\"1\"><c r=\"A1\"><v>5</v></c></row></sheetData></worksheet>");
  std::string utf16 = "\xFF\xFE";
  for (char c : ascii) {
    utf16.push_back(c);
    utf16.push_back('\0');
  }
  auto book = ReadXlsx(MinimalXlsx(utf16));
  ASSERT_TRUE(book.ok()) << book.status();
  EXPECT_EQ(book->sheets[0].Find(1, 1)->number, 5);
}

TEST(Crafted, PartsAreFoundThroughRelationshipsIgnoringCaseAndPercentEscapes) {
  std::vector<testing::ZipEntry> parts = MinimalParts(SheetXml(""));
  for (testing::ZipEntry& part : parts) {
    if (part.name == "xl/worksheets/sheet1.xml") {
      part.name = "xl/Data Sheets/One.xml";
      part.data = SheetXml("<row r=\"3\"><c r=\"C3\"><v>1</v></c></row>");
    }
    if (part.name == "xl/_rels/workbook.xml.rels") {
      part.data = absl::StrCat("<Relationships xmlns=\"", testing::kPkgNs,
                               "\"><Relationship Id=\"rId1\" Type=\"", testing::kRelNs,
                               "/worksheet\" Target=\"data%20sheets/one.XML\"/></Relationships>");
    }
  }
  auto book = ReadXlsx(BuildZip(parts));
  ASSERT_TRUE(book.ok()) << book.status();
  EXPECT_EQ(book->sheets[0].info.part, "xl/Data Sheets/One.xml");
  EXPECT_EQ(book->sheets[0].Find(3, 3)->number, 1);
}

void ExpectRefused(const std::string& bytes, absl::string_view why) {
  auto book = ReadXlsx(bytes);
  ASSERT_FALSE(book.ok()) << "accepted; wanted refusal for: " << why;
  EXPECT_EQ(book.status().code(), absl::StatusCode::kInvalidArgument) << book.status();
  EXPECT_TRUE(absl::StrContains(book.status().message(), why)) << book.status();
}

TEST(Crafted, MalformedSheetsAreRefused) {
  ExpectRefused(MinimalXlsx(SheetXml("<row r=\"2\"/><row r=\"1\"/>")), "comes after row 2");
  ExpectRefused(MinimalXlsx(SheetXml("<row r=\"2\"/><row r=\"2\"/>")), "comes after row 2");
  ExpectRefused(MinimalXlsx(SheetXml("<row r=\"1\"><c r=\"A2\"><v>1</v></c></row>")),
                "inside row 1");
  ExpectRefused(MinimalXlsx(SheetXml("<row r=\"1\"><c r=\"B1\"/><c r=\"A1\"/></row>")),
                "reorders its cells");
  ExpectRefused(MinimalXlsx(SheetXml("<row r=\"1\"><c r=\"B1\"/><c r=\"B1\"/></row>")),
                "reorders its cells");
  ExpectRefused(MinimalXlsx(SheetXml("<row r=\"0\"/>")), "not a row number");
  ExpectRefused(MinimalXlsx(SheetXml("<row r=\"1\"><c r=\"1A\"/></row>")), "not a cell reference");
  ExpectRefused(MinimalXlsx(SheetXml("<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c></row>")),
                "missing shared string");
  ExpectRefused(MinimalXlsx(SheetXml("<row r=\"1\"><c r=\"A1\" t=\"zz\"><v>0</v></c></row>")),
                "unknown type");
  ExpectRefused(MinimalXlsx(SheetXml("<row r=\"1\"><c r=\"A1\"><v>12abc</v></c></row>")),
                "does not parse");
  ExpectRefused(MinimalXlsx(SheetXml("<row r=\"1\"><c r=\"A1\"><v>inf</v></c></row>")),
                "does not parse");
  ExpectRefused(MinimalXlsx(SheetXml("<row r=\"1\"><c r=\"A1\" t=\"b\"><v>2</v></c></row>")),
                "neither 0 nor 1");
  ExpectRefused(MinimalXlsx(SheetXml("<row r=\"1\"><c r=\"A1\"><v>1</v></row>")),
                "not well-formed XML");
}

TEST(Crafted, BrokenPackagesAreRefused) {
  // No package relationships: an OpenDocument file, say.
  ExpectRefused(BuildZip({{"mimetype", "application/vnd.oasis.opendocument.spreadsheet"},
                          {"content.xml", "<office:document-content/>"}}),
                "no office document relationship");
  std::vector<testing::ZipEntry> parts = MinimalParts(SheetXml(""));
  parts.pop_back();  // the sheet part
  ExpectRefused(BuildZip(parts), "sheet \"Sheet1\" is missing");

  parts = MinimalParts(SheetXml(""));
  for (testing::ZipEntry& part : parts) {
    if (part.name == "xl/_rels/workbook.xml.rels") {
      part.data = absl::StrCat("<Relationships xmlns=\"", testing::kPkgNs,
                               "\"><Relationship Id=\"rId1\" Type=\"", testing::kRelNs,
                               "/worksheet\" Target=\"../../../etc/passwd\"/></Relationships>");
    }
  }
  ExpectRefused(BuildZip(parts), "leaves the package");

  parts = MinimalParts(SheetXml(""));
  for (testing::ZipEntry& part : parts) {
    if (part.name == "xl/workbook.xml") {
      part.data =
          absl::StrCat("<workbook xmlns=\"", testing::kMainNs, "\" xmlns:r=\"", testing::kRelNs,
                       "\"><sheets><sheet name=\"A\" sheetId=\"1\" r:id=\"rId1\"/>"
                       "<sheet name=\"A\" sheetId=\"2\" r:id=\"rId1\"/></sheets></workbook>");
    }
  }
  ExpectRefused(BuildZip(parts), "two sheets are called \"A\"");

  parts = MinimalParts(SheetXml(""));
  for (testing::ZipEntry& part : parts) {
    if (part.name == "xl/workbook.xml") part.data = "<notaworkbook/>";
  }
  ExpectRefused(BuildZip(parts), "not a SpreadsheetML workbook");
}

}  // namespace
}  // namespace anken::xlsx
