// The writer: files libxlsxwriter produces in memory read back through XlsxReader (shared
// strings, and inline strings in constant-memory mode); text is never a formula; bad input
// is refused; the private temporary folder never outlives the writer.
#include "common/xlsx/writer.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <xlsxwriter.h>

#include <filesystem>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/xlsx/reader.h"
#include "common/xlsx/values.h"
#include "tests/common/xlsx/xlsx_test_util.h"

namespace anken::xlsx {
namespace {

using absl::CivilDay;
using testing::UnzipEntry;

// What a formula-injection attempt in a remark looks like; each must stay text.
const char* const kFormulaLike[] = {
    "=1+1", "=HYPERLINK(\"http://example.com\",\"x\")", "+81-3-1234", "-5", "@SUM(A1)", "＝１＋１"};

std::string WriteCaseBook(const WriterOptions& options) {
  auto writer = XlsxWriter::Create(options);
  EXPECT_TRUE(writer.ok()) << writer.status();
  XlsxWriter& w = **writer;
  auto sheet = w.AddSheet("案件一覧");
  EXPECT_TRUE(sheet.ok()) << sheet.status();
  lxw_format* date = workbook_add_format(w.workbook());
  format_set_num_format(date, "yyyy/mm/dd");
  EXPECT_TRUE(w.WriteText(*sheet, 1, 1, "案件番号").ok());
  EXPECT_TRUE(w.WriteText(*sheet, 1, 2, "施工金額").ok());
  EXPECT_TRUE(w.WriteText(*sheet, 2, 1, "0001234").ok());
  EXPECT_TRUE(w.WriteInteger(*sheet, 2, 2, 1250000).ok());
  EXPECT_TRUE(w.WriteDate(*sheet, 2, 3, CivilDay(2026, 4, 5), date).ok());
  EXPECT_TRUE(w.WriteNumber(*sheet, 2, 4, 0.5).ok());
  int column = 1;
  for (const char* text : kFormulaLike) EXPECT_TRUE(w.WriteText(*sheet, 3, column++, text).ok());
  auto meta = w.AddSheet("_anken");
  EXPECT_TRUE(meta.ok());
  worksheet_hide(*meta);
  EXPECT_TRUE(w.WriteText(*meta, 1, 1, "R-2026-04-000123").ok());
  EXPECT_EQ(workbook_define_name(w.workbook(), "anken_report", "=_anken!$A$1"), LXW_NO_ERROR);
  auto bytes = w.Finish();
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.ok() ? *bytes : "";
}

void ExpectCaseBook(const std::string& bytes) {
  auto book = ReadXlsx(bytes);
  ASSERT_TRUE(book.ok()) << book.status();
  ASSERT_EQ(book->sheets.size(), 2u);
  const Sheet& cases = book->sheets[0];
  EXPECT_EQ(cases.Find(1, 1)->text, "案件番号");
  EXPECT_EQ(cases.Find(2, 1)->type, CellType::kString);
  EXPECT_EQ(cases.Find(2, 1)->text, "0001234");
  EXPECT_EQ(*ParseWholeNumber(cases.Find(2, 2)->text), 1250000);
  EXPECT_EQ(*SerialToCivilDay(cases.Find(2, 3)->number, book->info.date_system),
            CivilDay(2026, 4, 5));
  EXPECT_NE(cases.Find(2, 3)->style, 0);
  EXPECT_EQ(cases.Find(2, 4)->number, 0.5);
  int column = 1;
  for (const char* text : kFormulaLike) {
    const Cell* cell = cases.Find(3, column++);
    ASSERT_NE(cell, nullptr) << text;
    EXPECT_EQ(cell->type, CellType::kString) << text;
    EXPECT_EQ(cell->text, text);
    EXPECT_FALSE(cell->formula) << text;
  }
  EXPECT_EQ(book->sheets[1].info.visibility, SheetVisibility::kHidden);
  EXPECT_EQ(book->sheets[1].Find(1, 1)->text, "R-2026-04-000123");
  EXPECT_EQ(book->info.FindDefinedName("anken_report")->formula, "_anken!$A$1");
}

TEST(Writer, RoundTripWithSharedStrings) {
  const std::string bytes = WriteCaseBook(WriterOptions());
  const std::string sheet_xml = UnzipEntry(bytes, "xl/worksheets/sheet1.xml");
  EXPECT_TRUE(absl::StrContains(sheet_xml, "t=\"s\""));
  EXPECT_FALSE(absl::StrContains(sheet_xml, "<f>"));  // no formula anywhere
  ExpectCaseBook(bytes);
}

TEST(Writer, ConstantMemoryWritesInlineStrings) {
  WriterOptions options;
  options.constant_memory = true;
  const std::string bytes = WriteCaseBook(options);
  const std::string sheet_xml = UnzipEntry(bytes, "xl/worksheets/sheet1.xml");
  EXPECT_TRUE(absl::StrContains(sheet_xml, "inlineStr"));
  EXPECT_FALSE(absl::StrContains(sheet_xml, "<f>"));
  ExpectCaseBook(bytes);
}

TEST(Writer, RefusesWhatExcelCannotHold) {
  auto writer = XlsxWriter::Create();
  ASSERT_TRUE(writer.ok());
  XlsxWriter& w = **writer;
  auto sheet = w.AddSheet("S");
  ASSERT_TRUE(sheet.ok());
  EXPECT_EQ(w.WriteText(*sheet, 1, 1, "\xff\xfe").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(w.WriteText(*sheet, 1, 1, std::string("a\0b", 3)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(w.WriteText(*sheet, 1, 1, std::string(32768, 'x')).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(w.WriteText(*sheet, 1, 1, std::string(32767, 'x')).ok());
  EXPECT_EQ(w.WriteText(*sheet, 0, 1, "x").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(w.WriteText(*sheet, 1, 16385, "x").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(w.WriteInteger(*sheet, 2, 1, (int64_t{1} << 53) + 1).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(w.WriteInteger(*sheet, 2, 1, int64_t{1} << 53).ok());
  EXPECT_EQ(w.WriteDate(*sheet, 3, 1, CivilDay(1899, 12, 31), nullptr).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(w.AddSheet("a/b").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(w.AddSheet(std::string(32, 'n')).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(w.AddSheet("S").status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(w.Finish().ok());
  EXPECT_EQ(w.WriteText(*sheet, 1, 1, "late").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(w.Finish().status().code(), absl::StatusCode::kFailedPrecondition);
}

// Runs with TMPDIR pointed at a folder of its own, to see what the writer leaves behind.
class WriterTempFolder : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/xlsx-writer-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    root_ = pattern;
    const char* old = getenv("TMPDIR");
    had_tmpdir_ = old != nullptr;
    if (had_tmpdir_) old_tmpdir_ = old;
    setenv("TMPDIR", root_.c_str(), 1);
  }
  void TearDown() override {
    if (had_tmpdir_) {
      setenv("TMPDIR", old_tmpdir_.c_str(), 1);
    } else {
      unsetenv("TMPDIR");
    }
    std::filesystem::remove_all(root_);
  }
  int Leftovers() const {
    int n = 0;
    for (const auto& entry : std::filesystem::directory_iterator(root_)) {
      (void)entry;
      ++n;
    }
    return n;
  }
  std::string root_;
  bool had_tmpdir_ = false;
  std::string old_tmpdir_;
};

TEST_F(WriterTempFolder, RemovedAfterFinishAndWhenAbandoned) {
  {
    auto writer = XlsxWriter::Create();
    ASSERT_TRUE(writer.ok());
    EXPECT_EQ(Leftovers(), 1);  // its private folder, inside TMPDIR
    for (const auto& entry : std::filesystem::directory_iterator(root_)) {
      const auto perms = std::filesystem::status(entry.path()).permissions();
      EXPECT_EQ(perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all),
                std::filesystem::perms::none);
    }
    auto sheet = (*writer)->AddSheet("S");
    ASSERT_TRUE(sheet.ok());
    ASSERT_TRUE((*writer)->WriteText(*sheet, 1, 1, "x").ok());
    ASSERT_TRUE((*writer)->Finish().ok());
    EXPECT_EQ(Leftovers(), 0);
  }
  {
    auto writer = XlsxWriter::Create(WriterOptions{true});
    ASSERT_TRUE(writer.ok());
    auto sheet = (*writer)->AddSheet("S");
    ASSERT_TRUE((*writer)->WriteText(*sheet, 1, 1, "x").ok());
    EXPECT_EQ(Leftovers(), 1);
  }  // destroyed without Finish
  EXPECT_EQ(Leftovers(), 0);
}

}  // namespace
}  // namespace anken::xlsx
