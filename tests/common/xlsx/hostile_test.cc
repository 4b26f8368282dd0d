// Hostile uploads: each is refused with INVALID_ARGUMENT, and ReadStats shows the reader's
// own work stayed under the caps (bytes inflated, text buffered, rows, depth) — the memory
// and time bound, asserted by counters rather than by the clock.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/xlsx/reader.h"
#include "tests/common/xlsx/xlsx_test_util.h"

namespace anken::xlsx {
namespace {

using testing::BillionLaughsDoctype;
using testing::BuildZip;
using testing::FillerSheet;
using testing::MinimalParts;
using testing::MinimalXlsx;
using testing::PatchDeclaredSize;
using testing::PseudoRandomBytes;
using testing::ReadTestdata;
using testing::SheetXml;
using testing::ZipEntry;

constexpr int64_t kMiB = 1 << 20;
constexpr char kSheetPart[] = "xl/worksheets/sheet1.xml";

// Reads every sheet; returns the status and fills `stats`.
absl::Status ReadAll(const std::string& bytes, const ReadLimits& limits, ReadStats* stats) {
  return ReadXlsx(bytes, limits, stats).status();
}

void ExpectRefused(const absl::Status& status, absl::string_view why) {
  ASSERT_FALSE(status.ok()) << "accepted; wanted a refusal for: " << why;
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), why)) << status;
}

// ---- zip bombs ----

TEST(ZipBomb, HonestHugeEntryRefusedBeforeInflatingAnything) {
  const std::string bomb = MinimalXlsx(FillerSheet(100 * kMiB));
  ASSERT_LT(bomb.size(), static_cast<size_t>(kMiB));  // ~100 KiB on the wire
  ReadStats stats;
  ExpectRefused(ReadAll(bomb, ReadLimits(), &stats),
                absl::StrCat("the cap is ", ReadLimits().max_entry_bytes));
  EXPECT_EQ(stats.inflated_bytes, 0);
  EXPECT_EQ(stats.entries_inflated, 0);
}

TEST(ZipBomb, HonestHighRatioRefusedBeforeInflatingAnything) {
  const std::string bomb = MinimalXlsx(FillerSheet(20 * kMiB));  // under the size cap
  ReadStats stats;
  ExpectRefused(ReadAll(bomb, ReadLimits(), &stats), "declares an inflate ratio over 100");
  EXPECT_EQ(stats.inflated_bytes, 0);
}

TEST(ZipBomb, LyingSizeIsCaughtByThePerEntryByteCounter) {
  std::string bomb = MinimalXlsx(FillerSheet(64 * kMiB));
  PatchDeclaredSize(bomb, kSheetPart, 1000);
  ReadLimits limits;
  limits.max_entry_bytes = 8 * kMiB;
  limits.max_inflate_ratio = 1000000;  // isolate the per-entry counter
  ReadStats stats;
  ExpectRefused(ReadAll(bomb, limits, &stats), "inflates past the per-entry cap of 8388608");
  // It really inflated (the header said 1000 bytes) and stopped one byte past the cap.
  EXPECT_GT(stats.largest_inflated_entry, 8 * kMiB);
  EXPECT_LE(stats.largest_inflated_entry, 8 * kMiB + 1);
}

TEST(ZipBomb, LyingSizeIsCaughtByTheInflateRatioCounter) {
  std::string bomb = MinimalXlsx(FillerSheet(64 * kMiB));
  PatchDeclaredSize(bomb, kSheetPart, 1000);
  ReadStats stats;
  ExpectRefused(ReadAll(bomb, ReadLimits(), &stats), "inflates past an inflate ratio of 100");
  // The entry's compressed size is under the file's size: ratio x that bounds the work.
  EXPECT_LE(stats.largest_inflated_entry, 100 * static_cast<int64_t>(bomb.size()) + 1);
  EXPECT_LT(stats.inflated_bytes, 64 * kMiB / 4);
}

TEST(ZipBomb, LyingSizesAreCaughtByTheTotalByteCounter) {
  std::string padding;
  while (padding.size() < static_cast<size_t>(3 * kMiB / 2)) padding += "<p/>";
  const std::string sst =
      absl::StrCat("<sst xmlns=\"", testing::kMainNs, "\"><si><t>x</t></si>", padding, "</sst>");
  std::string bytes = MinimalXlsx(FillerSheet(3 * kMiB / 2), sst);
  PatchDeclaredSize(bytes, "xl/sharedStrings.xml", 1000);
  PatchDeclaredSize(bytes, kSheetPart, 1000);
  ReadLimits limits;
  limits.max_total_bytes = 2 * kMiB;
  limits.max_inflate_ratio = 1000000;
  ReadStats stats;
  ExpectRefused(ReadAll(bytes, limits, &stats), "inflates past the total cap of 2097152");
  EXPECT_GT(stats.inflated_bytes, 2 * kMiB);
  EXPECT_LE(stats.inflated_bytes, 2 * kMiB + 1);
}

TEST(ZipBomb, HeadersThatDisagreeAreRefused) {
  // The central directory says 1000 bytes, the entry's own header the truth: two readers
  // could see two different files, so neither story is believed.
  std::string bytes = MinimalXlsx(FillerSheet(4 * kMiB));
  PatchDeclaredSize(bytes, kSheetPart, 1000, /*also_local_header=*/false);
  ReadStats stats;
  ExpectRefused(ReadAll(bytes, ReadLimits(), &stats), "not a readable zip archive");
  EXPECT_EQ(stats.inflated_bytes, 0);
}

TEST(ZipBomb, DeclaredTotalOverTheCapIsRefused) {
  std::vector<ZipEntry> parts = MinimalParts(SheetXml(""));
  for (int i = 0; i < 3; ++i) {
    parts.push_back({absl::StrCat("xl/media/image", i, ".bin"), std::string(900 * 1024, 'x')});
  }
  ReadLimits limits;
  limits.max_total_bytes = 2 * kMiB;
  ReadStats stats;
  ExpectRefused(ReadAll(BuildZip(parts), limits, &stats), "declares over 2097152");
  EXPECT_EQ(stats.inflated_bytes, 0);
}

TEST(ZipBomb, TooManyEntries) {
  std::vector<ZipEntry> parts = MinimalParts(SheetXml(""));
  for (int i = 0; i < 1000; ++i) parts.push_back({absl::StrCat("xl/pad/", i, ".xml"), "x"});
  ReadStats stats;
  ExpectRefused(ReadAll(BuildZip(parts), ReadLimits(), &stats), "entries; the cap is 1000");
  EXPECT_EQ(stats.entries, 1005);  // the 5 parts of the workbook and the padding
  EXPECT_EQ(stats.inflated_bytes, 0);
}

// ---- XML: DTDs, entities ----

constexpr char kXxeSheet[] =
    "<?xml version=\"1.0\"?><!DOCTYPE worksheet [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"
    "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>"
    "<row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>&xxe;</t></is></c></row></sheetData>"
    "</worksheet>";

std::string BillionLaughs() {
  return absl::StrCat("<?xml version=\"1.0\"?>", BillionLaughsDoctype("sst"), "<sst xmlns=\"",
                      testing::kMainNs, "\"><si><t>&l9;</t></si></sst>");
}

TEST(Xml, ExternalEntityInASheetIsRefusedAtTheDoctype) {
  ReadStats stats;
  ExpectRefused(ReadAll(MinimalXlsx(kXxeSheet), ReadLimits(), &stats), "has a DOCTYPE");
  EXPECT_EQ(stats.cells, 0);  // stopped before any cell
  EXPECT_EQ(stats.longest_text, 0);
}

TEST(Xml, BillionLaughsInSharedStringsIsRefusedAtTheDoctype) {
  ReadStats stats;
  ExpectRefused(ReadAll(MinimalXlsx(SheetXml(""), BillionLaughs()), ReadLimits(), &stats),
                "xl/sharedStrings.xml has a DOCTYPE");
  EXPECT_EQ(stats.shared_strings, 0);
  EXPECT_EQ(stats.longest_text, 0);
}

TEST(Xml, AnyDoctypeInAnyPartIsRefused) {
  const std::string doctype = "<!DOCTYPE x SYSTEM \"http://example.com/x.dtd\">";
  for (const std::string& part : std::vector<std::string>{
           "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", kSheetPart}) {
    SCOPED_TRACE(part);
    std::vector<ZipEntry> parts = MinimalParts(SheetXml(""));
    for (ZipEntry& entry : parts) {
      if (entry.name == part) {
        const size_t at = entry.data.find("?>");
        entry.data.insert(at == std::string::npos ? 0 : at + 2, doctype);
      }
    }
    ExpectRefused(ReadAll(BuildZip(parts), ReadLimits(), nullptr), "has a DOCTYPE");
  }
}

TEST(Xml, AnUndeclaredEntityIsNotWellFormed) {
  ExpectRefused(ReadAll(MinimalXlsx(SheetXml("<row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>"
                                             "&xxe;</t></is></c></row>")),
                        ReadLimits(), nullptr),
                "not well-formed XML");
}

TEST(Xml, LongTokensAreRefusedBeforeExpatBuffersThem) {
  // A 2 MiB attribute value, a 2 MiB comment and 2 MiB of text between tags: expat would
  // hold each whole in memory (the two first) or it is no spreadsheet (the last).
  // Noise, so that the declared inflate ratio is unremarkable and only the gap cap can act.
  const auto noise = [](absl::string_view alphabet) {
    return PseudoRandomBytes(2 * kMiB, 7, alphabet);
  };
  const std::string letters = noise("abcdefghijklmnopqrstuvwxyz0123456789");
  for (const std::string& rows :
       {absl::StrCat("<row r=\"1\" x=\"", letters, "\"/>"), absl::StrCat("<!--", letters, "-->"),
        absl::StrCat("<row r=\"1\"/>", noise(" \t\r\n"), "<row r=\"2\"/>")}) {
    std::vector<ZipEntry> parts = MinimalParts(SheetXml(rows));
    parts.back().level = 1;  // noise deflates slowly at the default level
    ReadStats stats;
    ExpectRefused(ReadAll(BuildZip(parts), ReadLimits(), &stats),
                  "has over 1048576 bytes without markup");
    // Counted a chunk at a time, before expat is given the chunk: expat held at most the cap.
    EXPECT_GT(stats.longest_markup_gap, kMiB);
    EXPECT_LE(stats.longest_markup_gap, kMiB + 64 * 1024);
    EXPECT_LT(stats.inflated_bytes, 2 * kMiB);  // stopped at the cap, not at the end
  }
}

TEST(Xml, DeepNestingIsCapped) {
  std::string deep;
  for (int i = 0; i < 200; ++i) deep += "<a>";
  for (int i = 0; i < 200; ++i) deep += "</a>";
  ReadStats stats;
  ExpectRefused(ReadAll(MinimalXlsx(SheetXml(deep)), ReadLimits(), &stats),
                "nests elements deeper than 64");
  EXPECT_EQ(stats.deepest_xml, 65);
}

// ---- entry names ----

TEST(Paths, TrickEntryNamesAreRefused) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"../evil.xml", "\"..\" segment"},     {"xl/../../evil.xml", "\"..\" segment"},
      {"xl/./x.xml", "\".\" segment"},       {"/etc/cron.d/x", "absolute path"},
      {"xl\\..\\..\\evil.xml", "backslash"}, {"C:/Windows/x.xml", "colon"},
      {"xl/a\tb.xml", "control character"},
  };
  for (const auto& [name, why] : cases) {
    SCOPED_TRACE(name);
    std::vector<ZipEntry> parts = MinimalParts(SheetXml(""));
    parts.push_back({name, "x"});
    ReadStats stats;
    ExpectRefused(ReadAll(BuildZip(parts), ReadLimits(), &stats), why);
    EXPECT_EQ(stats.inflated_bytes, 0);
  }
}

TEST(Paths, NamesThatDifferOnlyInCaseAreAmbiguous) {
  std::vector<ZipEntry> parts = MinimalParts(SheetXml(""));
  parts.push_back({"XL/Worksheets/Sheet1.xml", SheetXml("<row r=\"1\"/>")});
  ExpectRefused(ReadAll(BuildZip(parts), ReadLimits(), nullptr), "appears twice");
}

// ---- not an .xlsx at all ----

TEST(NotXlsx, TwentyMegabyteFileIsRefusedUnread) {
  // A well-formed zip, so that only the size cap can refuse it.
  const std::string noise = PseudoRandomBytes(20 * kMiB, 12345);
  std::vector<ZipEntry> parts = MinimalParts(SheetXml(""));
  parts.push_back({"xl/media/noise.bin", noise, ZIP_CM_STORE});
  const std::string big = BuildZip(parts);
  ASSERT_GT(big.size(), static_cast<size_t>(20 * kMiB));
  ReadStats stats;
  ExpectRefused(ReadAll(big, ReadLimits(), &stats), "the cap is 10485760");
  EXPECT_EQ(stats.entries, 0);
  EXPECT_EQ(stats.inflated_bytes, 0);
}

TEST(NotXlsx, GarbageAndPasswordProtectedWorkbooks) {
  std::string garbage(4096, '\0');
  for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>(i * 7 + 3);
  // Excel saves a password-protected workbook as an OLE2 compound file, not a zip.
  const std::string ole2 = std::string("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8) + garbage;
  for (const std::string& bytes : {garbage, ole2, std::string("PK\x03\x04", 4) + garbage,
                                   std::string("案件番号,顧客名\n0001234,山田\n")}) {
    ExpectRefused(ReadAll(bytes, ReadLimits(), nullptr), "not a readable zip archive");
  }
  // libzip takes zero bytes for an empty archive; it has no workbook either way.
  ExpectRefused(ReadAll("", ReadLimits(), nullptr), "not an .xlsx");
}

TEST(NotXlsx, EncryptedEntryIsRefused) {
  std::vector<ZipEntry> parts = MinimalParts(SheetXml(""));
  for (ZipEntry& part : parts) {
    if (part.name == kSheetPart) part.password = "secret";
  }
  ReadStats stats;
  ExpectRefused(ReadAll(BuildZip(parts), ReadLimits(), &stats), "is encrypted");
  EXPECT_EQ(stats.inflated_bytes, 0);
}

TEST(NotXlsx, OtherCompressionMethodsAreRefused) {
  std::vector<ZipEntry> parts = MinimalParts(SheetXml(""));
  for (ZipEntry& part : parts) {
    if (part.name == kSheetPart) part.method = ZIP_CM_BZIP2;
  }
  ExpectRefused(ReadAll(BuildZip(parts), ReadLimits(), nullptr), "compression method 12");
}

TEST(NotXlsx, TruncatedFilesAreRefused) {
  const std::string whole = ReadTestdata("libxlsxwriter.xlsx");
  ASSERT_TRUE(ReadAll(whole, ReadLimits(), nullptr).ok());
  for (size_t keep :
       {whole.size() - 1, whole.size() - 22, whole.size() / 2, size_t{100}, size_t{4}}) {
    SCOPED_TRACE(keep);
    ExpectRefused(ReadAll(whole.substr(0, keep), ReadLimits(), nullptr), "xlsx refused");
  }
}

TEST(NotXlsx, CorruptDataIsCaughtByTheCrc) {
  // Stored, so the flipped byte reaches the parser as still well-formed XML (a space turned
  // into a tab): only the CRC can tell.
  std::vector<ZipEntry> parts = MinimalParts(SheetXml(std::string(1000, ' ')));
  for (ZipEntry& part : parts) {
    if (part.name == kSheetPart) part.method = ZIP_CM_STORE;
  }
  std::string bytes = BuildZip(parts);
  ASSERT_TRUE(ReadAll(bytes, ReadLimits(), nullptr).ok());
  const size_t spaces = bytes.find(std::string(500, ' '));
  ASSERT_NE(spaces, std::string::npos);
  bytes[spaces + 100] = '\t';
  ExpectRefused(ReadAll(bytes, ReadLimits(), nullptr), "is damaged");
}

// ---- caps on what the parts hold ----

TEST(Caps, SharedStringReferencesCannotAmplifyText) {
  // One 100 KiB string referenced 2,000 times would hand out 200 MiB of text from a file of
  // a few KiB.
  const std::string sst = absl::StrCat("<sst xmlns=\"", testing::kMainNs, "\"><si><t>",
                                       std::string(100 * 1024, 'x'), "</t></si></sst>");
  std::string rows;
  for (int r = 1; r <= 20; ++r) {
    absl::StrAppend(&rows, "<row r=\"", r, "\">");
    for (int c = 0; c < 100; ++c) absl::StrAppend(&rows, "<c t=\"s\"><v>0</v></c>");
    absl::StrAppend(&rows, "</row>");
  }
  ReadStats stats;
  ExpectRefused(ReadAll(MinimalXlsx(SheetXml(rows), sst), ReadLimits(), &stats), "bytes of text");
  EXPECT_LE(stats.cell_text_bytes, ReadLimits().max_cell_text_bytes + 100 * 1024);
  EXPECT_GT(stats.cell_text_bytes, ReadLimits().max_cell_text_bytes);
}

TEST(Caps, RowsCellsAndText) {
  std::string rows;
  for (int r = 1; r <= 11; ++r) absl::StrAppend(&rows, "<row r=\"", r, "\"><c><v>1</v></c></row>");
  ReadLimits limits;
  limits.max_rows = 10;
  ReadStats stats;
  ExpectRefused(ReadAll(MinimalXlsx(SheetXml(rows)), limits, &stats), "more than 10 rows");
  EXPECT_EQ(stats.rows, 11);

  limits = ReadLimits();
  limits.max_cells = 10;
  stats = ReadStats();
  ExpectRefused(ReadAll(MinimalXlsx(SheetXml(rows)), limits, &stats), "more than 10 cells");
  EXPECT_EQ(stats.cells, 11);

  limits = ReadLimits();
  limits.max_text_bytes = 1000;
  stats = ReadStats();
  const std::string long_text = SheetXml(absl::StrCat(
      "<row r=\"1\"><c t=\"inlineStr\"><is><t>", std::string(5000, 'y'), "</t></is></c></row>"));
  ExpectRefused(ReadAll(MinimalXlsx(long_text), limits, &stats), "longer than 1000 bytes");
  EXPECT_LE(stats.longest_text, 1000);
}

TEST(Caps, SharedStringCountAndBytes) {
  std::string items;
  for (int i = 0; i < 6; ++i)
    absl::StrAppend(&items, "<si><t>", std::string(100, 'a' + i), "</t></si>");
  const std::string sst = absl::StrCat("<sst xmlns=\"", testing::kMainNs, "\">", items, "</sst>");
  ReadLimits limits;
  limits.max_shared_strings = 5;
  ReadStats stats;
  ExpectRefused(ReadAll(MinimalXlsx(SheetXml(""), sst), limits, &stats),
                "more than 5 shared strings");
  EXPECT_EQ(stats.shared_strings, 5);

  limits = ReadLimits();
  limits.max_shared_string_bytes = 450;
  stats = ReadStats();
  ExpectRefused(ReadAll(MinimalXlsx(SheetXml(""), sst), limits, &stats),
                "shared strings hold over 450 bytes");
  EXPECT_LE(stats.shared_string_bytes, 500);
}

TEST(Caps, DefaultsAcceptARealisticReport) {
  // 2,000 case rows of 8 columns: far inside every default cap.
  std::string rows;
  for (int r = 1; r <= 2000; ++r) {
    absl::StrAppend(&rows, "<row r=\"", r, "\">");
    for (int c = 0; c < 8; ++c) {
      absl::StrAppend(&rows, "<c t=\"inlineStr\"><is><t>案件", r, "-", c, "</t></is></c>");
    }
    absl::StrAppend(&rows, "</row>");
  }
  ReadStats stats;
  auto book = ReadXlsx(MinimalXlsx(SheetXml(rows)), ReadLimits(), &stats);
  ASSERT_TRUE(book.ok()) << book.status();
  EXPECT_EQ(book->sheets[0].rows.size(), 2000u);
  EXPECT_EQ(stats.cells, 16000);
  EXPECT_EQ(book->sheets[0].Find(2000, 8)->text, "案件2000-7");
}

}  // namespace
}  // namespace anken::xlsx
