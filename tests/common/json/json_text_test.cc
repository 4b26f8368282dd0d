#include "common/json/json_text.h"

#include <gtest/gtest.h>

#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace anken::json {
namespace {

// Parses `{"k": <literal>}` and returns the string value, so escapes are checked by a real
// JSON parser rather than by comparing our own output with itself.
std::string RoundTrip(const std::string& literal) {
  google::protobuf::Struct s;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage("{\"k\":" + literal + "}", &s).ok())
      << literal;
  return s.fields().at("k").string_value();
}

TEST(JsonText, EscapesAndKeepsUtf8) {
  EXPECT_EQ(String("株式会社\"A\"\\B"), "\"株式会社\\\"A\\\"\\\\B\"");
  EXPECT_EQ(RoundTrip(String("tab\there\nnew \x01 ctl")), "tab\there\nnew \x01 ctl");
  EXPECT_EQ(RoundTrip(String("ｶﾌﾞｼｷ 😀")), "ｶﾌﾞｼｷ 😀");
}

TEST(JsonText, InvalidUtf8AndNulBecomeReplacementCharacters) {
  EXPECT_EQ(String(std::string("a\0b", 3)), "\"a\\ufffdb\"");
  EXPECT_EQ(String("\xff"), "\"\\ufffd\"");
  EXPECT_EQ(String("\xC0\xAF"), "\"\\ufffd\\ufffd\"");  // overlong
  EXPECT_EQ(String("\xED\xA0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");  // surrogate
  EXPECT_EQ(RoundTrip(String("x\xE6\xBC")), "x\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(JsonText, DaysAndTimes) {
  EXPECT_EQ(Day(absl::CivilDay(2024, 2, 29)), "\"2024-02-29\"");
  EXPECT_EQ(Time(absl::FromUnixSeconds(0)), "\"1970-01-01T00:00:00Z\"");
  EXPECT_EQ(Time(absl::FromUnixMicros(1500)), "\"1970-01-01T00:00:00.0015Z\"");
}

}  // namespace
}  // namespace anken::json
