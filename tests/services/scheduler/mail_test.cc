// Mail addresses, RFC 2047 subjects and the MIME message (pure).

#include "services/scheduler/mail.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "services/scheduler/schedule.h"

namespace anken::scheduler {
namespace {

// Decodes a header value made of "=?UTF-8?B?...?=" words folded with CRLF + space; fails the
// test on anything else. Returns the words' raw bytes per word.
std::vector<std::string> DecodeWords(const std::string& value) {
  std::vector<std::string> out;
  for (absl::string_view word : absl::StrSplit(value, "\r\n ")) {
    EXPECT_TRUE(absl::ConsumePrefix(&word, "=?UTF-8?B?")) << word;
    EXPECT_TRUE(absl::ConsumeSuffix(&word, "?=")) << word;
    std::string raw;
    EXPECT_TRUE(absl::Base64Unescape(word, &raw)) << word;
    out.push_back(raw);
  }
  return out;
}

std::string Joined(const std::vector<std::string>& parts) {
  std::string s;
  for (const auto& p : parts) s += p;
  return s;
}

TEST(MailAddress, AcceptsPlainAddressesOnly) {
  for (const char* ok : {"keiri@example.co.jp", "a.b+tag@sub.example.jp", "x_y-z@a-b.example",
                         "o'brien@example.com"}) {
    EXPECT_TRUE(IsValidMailAddress(ok)) << ok;
  }
  for (const char* bad :
       {"", "a@b", "@example.jp", "a@", "a@@example.jp", "a b@example.jp", "a@example..jp",
        "<a@example.jp>", "a@example.jp\r\nBcc: evil@example.jp", "a@example.jp,b@example.jp",
        ".a@example.jp", "a.@example.jp", "a..b@example.jp", "a@-example.jp", "経理@example.jp",
        "a\"b@example.jp"}) {
    EXPECT_FALSE(IsValidMailAddress(bad)) << bad;
  }
}

TEST(EncodedWords, KnownVectorAndAsciiPassThrough) {
  EXPECT_EQ(EncodeHeaderWord("テスト"), "=?UTF-8?B?44OG44K544OI?=");
  EXPECT_EQ(EncodeHeaderWord("Monthly report"), "Monthly report");
  // "=?" in plain text would look like an encoded word to a reader: encoded instead.
  EXPECT_TRUE(absl::StartsWith(EncodeHeaderWord("a =?b"), "=?UTF-8?B?"));
}

TEST(EncodedWords, LongJapaneseSplitsAtCharacterBoundariesWithinLineLimits) {
  const std::string subject =
      "【実績報告のお願い】2026年11月分 実績報告のご提出（期限：2026年12月4日（金））"
      "株式会社サンプル商事 御中 よろしくお願いいたします";
  const std::string encoded = EncodeHeaderWord(subject, 9);
  const std::vector<std::string> words = DecodeWords(encoded);
  ASSERT_GT(words.size(), 2u);
  EXPECT_EQ(Joined(words), subject);
  for (const std::string& w : words) EXPECT_TRUE(IsValidUtf8(w)) << "a word splits a character";
  const std::vector<std::string> lines = absl::StrSplit(encoded, "\r\n");
  for (size_t i = 0; i < lines.size(); ++i) {
    const size_t length = lines[i].size() + (i == 0 ? 9 : 0);
    EXPECT_LE(length, 76u) << lines[i];
    if (i > 0) {
      EXPECT_TRUE(absl::StartsWith(lines[i], " "));
    }
    // Each word alone is at most 75 characters.
    EXPECT_LE(absl::StripLeadingAsciiWhitespace(lines[i]).size(), 75u);
  }
}

TEST(Utf8, Validation) {
  EXPECT_TRUE(IsValidUtf8("ascii and 日本語 and 𠮷"));
  EXPECT_FALSE(IsValidUtf8("\xE3\x81"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xFF"));
}

MailMessage Sample() {
  MailMessage m;
  m.from_address = "noreply@anken.example.jp";
  m.from_name = "アンケン通知";
  m.to_address = "partner@example.co.jp";
  m.subject = "【リマインド】2026年11月分 実績報告のご提出のお願い";
  m.body = "株式会社サンプル ご担当者様\n\n提出期限は2026年12月4日（金）です。\n.\n以上";
  m.message_id = "<0123456789abcdef0123456789abcdef@anken.example.jp>";
  m.date = SlotInstant(absl::CivilMinute(2026, 11, 25, 9, 0));
  return m;
}

TEST(BuildMessage, HeadersAndBase64BodyWithCrlf) {
  absl::StatusOr<std::string> built = BuildMessage(Sample());
  ASSERT_TRUE(built.ok()) << built.status();
  const std::string& msg = *built;
  // No bare LF anywhere.
  for (size_t i = 0; i < msg.size(); ++i) {
    if (msg[i] == '\n') {
      ASSERT_TRUE(i > 0 && msg[i - 1] == '\r') << "bare LF at " << i;
    }
  }
  const size_t split = msg.find("\r\n\r\n");
  ASSERT_NE(split, std::string::npos);
  const std::string headers = msg.substr(0, split + 2);
  const std::string body = msg.substr(split + 4);
  EXPECT_TRUE(absl::StrContains(headers, "Date: Wed, 25 Nov 2026 09:00:00 +0900\r\n")) << headers;
  EXPECT_TRUE(absl::StrContains(headers, "To: <partner@example.co.jp>\r\n"));
  EXPECT_TRUE(absl::StrContains(headers, " <noreply@anken.example.jp>\r\n"));
  EXPECT_TRUE(absl::StrContains(
      headers, "Message-ID: <0123456789abcdef0123456789abcdef@anken.example.jp>\r\n"));
  EXPECT_TRUE(absl::StrContains(headers, "MIME-Version: 1.0\r\n"));
  EXPECT_TRUE(absl::StrContains(headers, "Content-Type: text/plain; charset=UTF-8\r\n"));
  EXPECT_TRUE(absl::StrContains(headers, "Content-Transfer-Encoding: base64\r\n"));
  // The subject decodes back to the Japanese text.
  const size_t s = headers.find("Subject: ");
  ASSERT_NE(s, std::string::npos);
  size_t end = headers.find("\r\n", s);
  while (headers.compare(end + 2, 1, " ") == 0) end = headers.find("\r\n", end + 2);
  EXPECT_EQ(Joined(DecodeWords(headers.substr(s + 9, end - s - 9))), Sample().subject);
  // The body is base64 in lines of at most 76, decoding to the text with CRLF line ends.
  std::string joined;
  for (absl::string_view line : absl::StrSplit(body, "\r\n", absl::SkipEmpty())) {
    EXPECT_LE(line.size(), 76u);
    joined.append(line.data(), line.size());
  }
  std::string decoded;
  ASSERT_TRUE(absl::Base64Unescape(joined, &decoded));
  EXPECT_EQ(decoded,
            "株式会社サンプル ご担当者様\r\n\r\n提出期限は2026年12月4日（金）です。\r\n.\r\n以上");
}

TEST(BuildMessage, RefusesHeaderInjectionAndBadInput) {
  MailMessage m = Sample();
  m.subject = "件名\r\nBcc: evil@example.jp";
  EXPECT_EQ(BuildMessage(m).status().code(), absl::StatusCode::kInvalidArgument);
  m = Sample();
  m.to_address = "partner@example.co.jp\r\nBcc: evil@example.jp";
  EXPECT_EQ(BuildMessage(m).status().code(), absl::StatusCode::kInvalidArgument);
  m = Sample();
  m.from_name = "名前\n";
  EXPECT_EQ(BuildMessage(m).status().code(), absl::StatusCode::kInvalidArgument);
  m = Sample();
  m.body = "\xFF\xFE";
  EXPECT_EQ(BuildMessage(m).status().code(), absl::StatusCode::kInvalidArgument);
  m = Sample();
  m.message_id = "no-brackets@x";
  EXPECT_EQ(BuildMessage(m).status().code(), absl::StatusCode::kInvalidArgument);
  m = Sample();
  m.from_name.clear();
  absl::StatusOr<std::string> plain = BuildMessage(m);
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(absl::StrContains(*plain, "From: <noreply@anken.example.jp>\r\n"));
}

TEST(MessageId, FromDigestAndDomain) {
  EXPECT_EQ(MessageIdFrom("00112233445566778899aabbccddeeff0011", "example.jp"),
            "<00112233445566778899aabbccddeeff@example.jp>");
  EXPECT_EQ(DomainOf("noreply@anken.example.jp"), "anken.example.jp");
}

}  // namespace
}  // namespace anken::scheduler
