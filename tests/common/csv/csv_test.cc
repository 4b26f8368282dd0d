#include "common/csv/csv.h"

#include <gtest/gtest.h>

namespace anken::csv {
namespace {

using Rows = std::vector<std::vector<std::string>>;

TEST(Decode, Utf8WithAndWithoutBom) {
  EXPECT_EQ(*DecodeCsvBytes("\xEF\xBB\xBF顧客名\n山田"), "顧客名\n山田");
  EXPECT_EQ(*DecodeCsvBytes("顧客名\n山田"), "顧客名\n山田");
}

TEST(Decode, Cp932AsExcelWritesIt) {
  const std::string utf8 = "顧客名,フリガナ\n髙橋商店,ｶﾌﾞｼｷｶﾞｲｼｬ①\n";
  auto sjis = EncodeCp932(utf8);
  ASSERT_TRUE(sjis.ok());
  EXPECT_FALSE(IsValidUtf8(*sjis));
  auto back = DecodeCsvBytes(*sjis);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, utf8);
}

TEST(Decode, GarbageIsInvalidArgument) {
  EXPECT_EQ(DecodeCsvBytes(std::string("\x81\x20\xff\xfe\x80", 5)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeCsvBytes("\xEF\xBB\xBF\xff").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Utf8, RejectsOverlongsSurrogatesAndTruncation) {
  EXPECT_TRUE(IsValidUtf8("abc ｱ 漢字 😀"));
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xE6\xBC"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // > U+10FFFF
}

TEST(Parse, QuotesEscapesNewlinesAndLineEnds) {
  auto t = ParseCsvTable("a,b,c\r\n\"x, y\",\"he said \"\"hi\"\"\",\"two\nlines\"\n\nlast,,\n");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->records, (Rows{{"a", "b", "c"}, {"x, y", "he said \"hi\"", "two\nlines"},
                              {"last", "", ""}}));
  EXPECT_EQ(t->lines, (std::vector<int>{1, 2, 5}));
}

TEST(Parse, NoFinalNewlineAndEmptyQuoted) {
  EXPECT_EQ(*ParseCsv("a,\"\"\nb,c"), (Rows{{"a", ""}, {"b", "c"}}));
}

TEST(Parse, Errors) {
  EXPECT_EQ(ParseCsv("a,\"open\nb").status().code(), absl::StatusCode::kInvalidArgument);
  auto bad = ParseCsv("a,\"q\"x\n");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("line 1"), std::string::npos);
}

}  // namespace
}  // namespace anken::csv
