// Cell references, date serials (both systems, the 1900-02-29 bug), text dates and exact
// whole numbers.
#include "common/xlsx/values.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "common/xlsx/cell_ref.h"

namespace anken::xlsx {
namespace {

using absl::CivilDay;

TEST(CellRef, ParsesPlainAbsoluteAndLowercase) {
  auto a1 = ParseCellRef("A1");
  ASSERT_TRUE(a1.ok()) << a1.status();
  EXPECT_EQ(a1->row, 1);
  EXPECT_EQ(a1->column, 1);
  auto b12 = ParseCellRef("$B$12");
  ASSERT_TRUE(b12.ok());
  EXPECT_EQ(b12->row, 12);
  EXPECT_EQ(b12->column, 2);
  auto last = ParseCellRef("xfd1048576");
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->row, kMaxRow);
  EXPECT_EQ(last->column, kMaxColumn);
  EXPECT_EQ(ParseCellRef("AB7")->column, 28);
}

TEST(CellRef, RefusesOutsideTheGridAndMalformed) {
  for (const char* bad : {"", "A", "1", "A0", "A01", "XFE1", "A1048577", "AAAA1", "A1:B2", "A-1",
                          "$", "A$", "1A", "A1 "}) {
    EXPECT_EQ(ParseCellRef(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(CellRef, FormatsColumnNames) {
  EXPECT_EQ(ColumnName(1), "A");
  EXPECT_EQ(ColumnName(26), "Z");
  EXPECT_EQ(ColumnName(27), "AA");
  EXPECT_EQ(ColumnName(kMaxColumn), "XFD");
  EXPECT_EQ(ColumnName(0), "");
  EXPECT_EQ(FormatCellRef(12, 2), "B12");
  for (int column : {1, 25, 26, 27, 52, 53, 702, 703, 16384}) {
    EXPECT_EQ(ParseCellRef(FormatCellRef(3, column))->column, column);
  }
}

TEST(Serial, The1900SystemIncludingLotusLeapDay) {
  EXPECT_EQ(*SerialToCivilDay(1, DateSystem::k1900), CivilDay(1900, 1, 1));
  EXPECT_EQ(*SerialToCivilDay(59, DateSystem::k1900), CivilDay(1900, 2, 28));
  EXPECT_EQ(SerialToCivilDay(60, DateSystem::k1900).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*SerialToCivilDay(61, DateSystem::k1900), CivilDay(1900, 3, 1));
  EXPECT_EQ(*SerialToCivilDay(44927, DateSystem::k1900), CivilDay(2023, 1, 1));
  EXPECT_EQ(*SerialToCivilDay(46117, DateSystem::k1900), CivilDay(2026, 4, 5));
  EXPECT_EQ(*SerialToCivilDay(46117.75, DateSystem::k1900), CivilDay(2026, 4, 5));  // 18:00
  EXPECT_EQ(*SerialToCivilDay(2958465, DateSystem::k1900), CivilDay(9999, 12, 31));
}

TEST(Serial, The1904System) {
  EXPECT_EQ(*SerialToCivilDay(0, DateSystem::k1904), CivilDay(1904, 1, 1));
  EXPECT_EQ(*SerialToCivilDay(46117 - 1462, DateSystem::k1904), CivilDay(2026, 4, 5));
  EXPECT_EQ(*SerialToCivilDay(2957003, DateSystem::k1904), CivilDay(9999, 12, 31));
}

TEST(Serial, RefusesOutOfRange) {
  for (double bad :
       {0.0, -1.0, 2958466.0, 1e300, std::nan(""), std::numeric_limits<double>::infinity()}) {
    EXPECT_EQ(SerialToCivilDay(bad, DateSystem::k1900).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
  EXPECT_FALSE(SerialToCivilDay(-0.5, DateSystem::k1904).ok());
  EXPECT_FALSE(SerialToCivilDay(2957004, DateSystem::k1904).ok());
}

TEST(Serial, CivilDayToSerialInvertsBothSystems) {
  EXPECT_EQ(*CivilDayToSerial(CivilDay(1900, 1, 1), DateSystem::k1900), 1);
  EXPECT_EQ(*CivilDayToSerial(CivilDay(1900, 2, 28), DateSystem::k1900), 59);
  EXPECT_EQ(*CivilDayToSerial(CivilDay(1900, 3, 1), DateSystem::k1900), 61);
  EXPECT_EQ(*CivilDayToSerial(CivilDay(2026, 4, 5), DateSystem::k1900), 46117);
  EXPECT_EQ(*CivilDayToSerial(CivilDay(2026, 4, 5), DateSystem::k1904), 46117 - 1462);
  for (CivilDay day = CivilDay(1900, 1, 1); day < CivilDay(1901, 1, 1); ++day) {
    auto serial = CivilDayToSerial(day, DateSystem::k1900);
    ASSERT_TRUE(serial.ok());
    EXPECT_EQ(*SerialToCivilDay(static_cast<double>(*serial), DateSystem::k1900), day);
  }
  EXPECT_FALSE(CivilDayToSerial(CivilDay(1899, 12, 31), DateSystem::k1900).ok());
  EXPECT_FALSE(CivilDayToSerial(CivilDay(1903, 12, 31), DateSystem::k1904).ok());
  EXPECT_FALSE(CivilDayToSerial(CivilDay(10000, 1, 1), DateSystem::k1900).ok());
}

TEST(TextDate, AcceptsTheWaysPeopleTypeThem) {
  const CivilDay want(2026, 4, 5);
  for (const char* text : {"2026/4/5", "2026/04/05", "2026-04-05", "2026-4-5", "2026.4.5",
                           "2026年4月5日", "2026年04月05日", "  2026/4/5 ",
                           "\xE3\x80\x80"
                           "2026/4/5",
                           "２０２６／４／５", "２０２６年４月５日", "2026－04－05",
                           "2026-04-05T00:00:00", "2026-04-05T12:30:00.000Z"}) {
    auto day = ParseTextDate(text);
    ASSERT_TRUE(day.ok()) << text << ": " << day.status();
    EXPECT_EQ(*day, want) << text;
  }
}

TEST(TextDate, RefusesWhatIsNotADay) {
  for (const char* text :
       {"",          "2026",       "2026/4",           "2026/4/5/",      "26/4/5",
        "2026/13/1", "2026/2/30",  "2026/0/1",         "2026/4/31",      "2026-4/5",
        "2026/4-5",  "2026年4月5", "2026年4月5日です", "4/5/2026",       "2026/004/5",
        "20260405",  "1899/12/31", "2026/4/5T00:00",   "2026-04-05T12h", "令和8年4月5日"}) {
    EXPECT_EQ(ParseTextDate(text).status().code(), absl::StatusCode::kInvalidArgument) << text;
  }
  EXPECT_EQ(*ParseTextDate("2024/2/29"), CivilDay(2024, 2, 29));
  EXPECT_FALSE(ParseTextDate("2025/2/29").ok());
}

TEST(WholeNumber, ReadsEveryWriterSpelling) {
  EXPECT_EQ(*ParseWholeNumber("1250000"), 1250000);
  EXPECT_EQ(*ParseWholeNumber("1250000.0"), 1250000);
  EXPECT_EQ(*ParseWholeNumber("1.25E+6"), 1250000);
  EXPECT_EQ(*ParseWholeNumber("1.25e6"), 1250000);
  EXPECT_EQ(*ParseWholeNumber("125000000E-2"), 1250000);
  EXPECT_EQ(*ParseWholeNumber("1E+018"), 1000000000000000000);
  EXPECT_EQ(*ParseWholeNumber("-42"), -42);
  EXPECT_EQ(*ParseWholeNumber("+7"), 7);
  EXPECT_EQ(*ParseWholeNumber("0"), 0);
  EXPECT_EQ(*ParseWholeNumber("-0.000"), 0);
  EXPECT_EQ(*ParseWholeNumber("0E+99999"), 0);
  EXPECT_EQ(*ParseWholeNumber("0007"), 7);
  EXPECT_EQ(*ParseWholeNumber("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(*ParseWholeNumber("-9223372036854775808"), INT64_MIN);
  // Exact where a double is not: 2^53 + 1.
  EXPECT_EQ(*ParseWholeNumber("9007199254740993"), 9007199254740993);
}

TEST(WholeNumber, RefusesFractionsOverflowAndNonNumbers) {
  for (const char* text : {"0.5",
                           "1250000.01",
                           "1E-1",
                           "1.5",
                           "9223372036854775808",
                           "-9223372036854775809",
                           "1E+020",
                           "1E+19",
                           "",
                           "-",
                           ".",
                           "1,250,000",
                           "¥1250000",
                           "1e",
                           "1E+",
                           "0x10",
                           "1 2",
                           "inf",
                           "nan",
                           "1E+999999"}) {
    EXPECT_EQ(ParseWholeNumber(text).status().code(), absl::StatusCode::kInvalidArgument) << text;
  }
}

}  // namespace
}  // namespace anken::xlsx
