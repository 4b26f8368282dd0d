// Pure tests of bank statement parsing: the 全銀協 入出金取引明細 fixed-length format (built
// here byte by byte, half-width kana as CP932 single bytes) and the simple payments CSV.

#include "services/billing/zengin.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "common/csv/csv.h"
#include "common/status/errors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/billing/payments.h"

namespace anken::billing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::CivilDay Day(int y, int m, int d) { return absl::CivilDay(y, m, d); }

std::string Cp932(const std::string& utf8) {
  absl::StatusOr<std::string> bytes = csv::EncodeCp932(utf8);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.ok() ? *bytes : std::string();
}

// A 200-byte record: spaces, with fields put at their 0-based positions.
class Rec {
 public:
  explicit Rec(char type) : bytes_(200, ' ') { bytes_[0] = type; }
  // N field: right-aligned, zero-padded.
  Rec& Num(size_t pos, size_t len, int64_t value) {
    return Put(pos, len, absl::StrFormat("%0*d", static_cast<int>(len), value));
  }
  // Raw bytes (already the field's width or shorter, left-aligned).
  Rec& Raw(size_t pos, size_t len, const std::string& value) { return Put(pos, len, value); }
  // C field: UTF-8 half-width kana → CP932 single bytes, left-aligned, space-padded.
  Rec& Text(size_t pos, size_t len, const std::string& utf8) { return Put(pos, len, Cp932(utf8)); }
  const std::string& bytes() const { return bytes_; }

 private:
  Rec& Put(size_t pos, size_t len, const std::string& value) {
    EXPECT_LE(value.size(), len) << value;
    bytes_.replace(pos, std::min(value.size(), len), value.substr(0, len));
    return *this;
  }
  std::string bytes_;
};

std::string Header(const std::string& from = "080401", const std::string& to = "080430",
                   const std::string& account = "0001234567", int type = 1) {
  return Rec('1')
      .Raw(1, 2, "03")
      .Raw(3, 1, "0")
      .Raw(4, 6, "080501")
      .Raw(10, 6, from)
      .Raw(16, 6, to)
      .Raw(22, 4, "0001")
      .Text(26, 15, "ﾐｽﾞﾎ")
      .Raw(41, 3, "123")
      .Text(44, 15, "ﾄｳｷﾖｳ")
      .Raw(59, 3, "000")
      .Num(62, 1, type)
      .Raw(63, 10, account)
      .Text(73, 40, "ｶ)ｱﾝｹﾝ")
      .Num(115, 14, 5'000'000)
      .bytes();
}

struct Line {
  int64_t reference;
  std::string date;  // YYMMDD
  int direction;     // 1 入金, 2 出金
  std::string kind;  // 取引区分
  int64_t amount;
  std::string payer;
  std::string summary = "ﾌﾘｺﾐ";
  std::string edi = "";
};

std::string Data(const Line& l) {
  return Rec('2')
      .Num(1, 8, l.reference)
      .Raw(9, 6, l.date)
      .Raw(15, 6, l.date)
      .Num(21, 1, l.direction)
      .Raw(22, 2, l.kind)
      .Num(24, 12, l.amount)
      .Num(36, 12, 0)
      .Text(81, 48, l.payer)
      .Text(129, 15, "ﾐﾂｲｽﾐﾄﾓ")
      .Text(159, 20, l.summary)
      .Text(179, 20, l.edi)
      .bytes();
}

std::string Trailer(const std::vector<Line>& lines) {
  int64_t in = 0, in_sum = 0, out = 0, out_sum = 0;
  for (const Line& l : lines) {
    if (l.direction == 1) {
      ++in;
      in_sum += l.amount;
    } else {
      ++out;
      out_sum += l.amount;
    }
  }
  return Rec('8')
      .Num(1, 6, in)
      .Num(7, 13, in_sum)
      .Num(20, 6, out)
      .Num(26, 13, out_sum)
      .Raw(39, 1, "1")
      .Num(40, 14, 5'000'000 + in_sum - out_sum)
      .Num(54, 7, static_cast<int64_t>(lines.size()))
      .bytes();
}

std::string End() { return Rec('9').bytes(); }

std::string Group(const std::vector<Line>& lines, const std::string& account = "0001234567") {
  std::string out = Header("080401", "080430", account);
  for (const Line& l : lines) out += Data(l);
  out += Trailer(lines);
  return out;
}

const std::vector<Line> kApril = {
    {10001, "080415", 1, "11", 110'000, "ｶ)ﾔﾏﾀﾞｼｮｳｼﾞ"},
    {10002, "080415", 2, "14", 55'000, "", "ﾃﾞﾝｷﾀﾞｲ"},
    {10003, "080415", 1, "11", 33'000, "ﾀﾅｶ ﾀﾛｳ", "ﾌﾘｺﾐ", "INV2026000042"},
    {10004, "080415", 1, "11", 33'000, "ﾀﾅｶ ﾀﾛｳ"},  // the same again, the same day
    {10005, "080420", 1, "11", 33'000, "ﾀﾅｶ ﾀﾛｳ"},
    {10006, "080421", 1, "19", 1'000, "ｻﾄｳ"},  // 訂正
    {10007, "080422", 1, "10", 0, ""},         // zero
};

std::vector<std::string> Keys(const BankStatement& s) {
  std::vector<std::string> out;
  for (const Payment& p : s.payments) out.push_back(p.source_key);
  return out;
}

void ExpectMalformed(const absl::StatusOr<BankStatement>& r, const std::string& where,
                     const std::string& what) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(where)) << r.status();
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(what)) << r.status();
  std::vector<FieldViolation> v = FieldViolations(r.status());
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].field, "file");
}

TEST(ZenginTest, ParsesDepositsWithStableKeys) {
  const std::string file = Group(kApril) + End();
  absl::StatusOr<BankStatement> s = ParseZenginStatement(file);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->accounts.size(), 1u);
  EXPECT_EQ(s->accounts[0].Key(), "0001-123-1-0001234567");
  EXPECT_EQ(s->accounts[0].bank_name, "ﾐｽﾞﾎ");
  EXPECT_EQ(s->accounts[0].account_name, "ｶ)ｱﾝｹﾝ");
  EXPECT_EQ(s->accounts[0].from, Day(2026, 4, 1));
  EXPECT_EQ(s->accounts[0].to, Day(2026, 4, 30));

  ASSERT_EQ(s->payments.size(), 4u);
  const Payment& first = s->payments[0];
  EXPECT_EQ(first.date, Day(2026, 4, 15));  // 令和8年
  EXPECT_EQ(first.amount, 110'000);
  EXPECT_EQ(first.payer_name, "ｶ)ﾔﾏﾀﾞｼｮｳｼﾞ");  // half-width kept, trailing spaces gone
  EXPECT_EQ(first.reference, "00010001");
  EXPECT_EQ(first.memo, "ﾌﾘｺﾐ");
  EXPECT_EQ(s->payments[1].memo, "ﾌﾘｺﾐ EDI:INV2026000042");
  EXPECT_THAT(Keys(*s), ElementsAre("0001-123-1-0001234567|2026-04-15|110000|ｶ)ﾔﾏﾀﾞｼｮｳｼﾞ|1",
                                    "0001-123-1-0001234567|2026-04-15|33000|ﾀﾅｶ ﾀﾛｳ|1",
                                    "0001-123-1-0001234567|2026-04-15|33000|ﾀﾅｶ ﾀﾛｳ|2",
                                    "0001-123-1-0001234567|2026-04-20|33000|ﾀﾅｶ ﾀﾛｳ|1"));
  // The withdrawal, the correction and the zero line are no payments, and say why.
  ASSERT_EQ(s->skipped.size(), 3u);
  EXPECT_EQ(s->skipped[0].record, 3);
  EXPECT_THAT(s->skipped[0].reason, HasSubstr("出金"));
  EXPECT_EQ(s->skipped[1].record, 7);
  EXPECT_THAT(s->skipped[1].reason, HasSubstr("訂正"));
  EXPECT_EQ(s->skipped[2].record, 8);
  EXPECT_THAT(s->skipped[2].reason, HasSubstr("zero"));
}

TEST(ZenginTest, TheSameLinesGiveTheSameKeysAcrossDownloads) {
  absl::StatusOr<BankStatement> once = ParseZenginStatement(Group(kApril) + End());
  ASSERT_TRUE(once.ok());
  // With CR LF after every record and an EOF byte: the same payments.
  std::string crlf;
  const std::string plain = Group(kApril) + End();
  for (size_t i = 0; i < plain.size(); i += 200) crlf += plain.substr(i, 200) + "\r\n";
  crlf += "\x1a";
  absl::StatusOr<BankStatement> again = ParseZenginStatement(crlf);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(Keys(*again), Keys(*once));
  // A later download covering 04-15 and one more day: the 04-15 lines keep their keys.
  std::vector<Line> later = {
      kApril[0], kApril[2], kApril[3], {20001, "080424", 1, "11", 33'000, "ﾀﾅｶ ﾀﾛｳ"}};
  absl::StatusOr<BankStatement> overlap = ParseZenginStatement(Group(later) + End());
  ASSERT_TRUE(overlap.ok()) << overlap.status();
  EXPECT_THAT(Keys(*overlap), ElementsAre(Keys(*once)[0], Keys(*once)[1], Keys(*once)[2],
                                          "0001-123-1-0001234567|2026-04-24|33000|ﾀﾅｶ ﾀﾛｳ|1"));
}

TEST(ZenginTest, SeveralAccountsInOneFile) {
  const std::vector<Line> a = {{1, "080415", 1, "11", 33'000, "ﾀﾅｶ ﾀﾛｳ"}};
  absl::StatusOr<BankStatement> s =
      ParseZenginStatement(Group(a, "0001234567") + Group(a, "0007654321") + End());
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->accounts.size(), 2u);
  EXPECT_THAT(Keys(*s), ElementsAre("0001-123-1-0001234567|2026-04-15|33000|ﾀﾅｶ ﾀﾛｳ|1",
                                    "0001-123-1-0007654321|2026-04-15|33000|ﾀﾅｶ ﾀﾛｳ|1"));
}

TEST(ZenginTest, WesternYearsWhenTheBankWritesThem) {
  std::string file = Header("260401", "260430");
  const Line l = {1, "260415", 1, "11", 1'000, "ﾀﾅｶ"};
  file += Data(l) + Trailer({l}) + End();
  absl::StatusOr<BankStatement> s = ParseZenginStatement(file, {ZenginEra::kSeireki});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->payments[0].date, Day(2026, 4, 15));
  // Read as 和暦 the same bytes are 令和26 = 2044.
  s = ParseZenginStatement(file);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->payments[0].date, Day(2044, 4, 15));
}

TEST(ZenginTest, EraDates) {
  const auto wareki = [](const char* s) { return ParseZenginDate(s, ZenginEra::kWareki); };
  EXPECT_EQ(*wareki("080415"), Day(2026, 4, 15));
  EXPECT_EQ(*wareki("010501"), Day(2019, 5, 1));   // 令和元年 first day
  EXPECT_EQ(*wareki("310430"), Day(2019, 4, 30));  // 平成31年 last day
  EXPECT_EQ(*wareki("310101"), Day(2019, 1, 1));
  EXPECT_EQ(*wareki("310501"), Day(2049, 5, 1));   // only 令和31 can be in May
  EXPECT_EQ(*wareki("060229"), Day(2024, 2, 29));  // leap day
  EXPECT_FALSE(wareki("010430").ok());             // 令和 had not begun
  EXPECT_FALSE(wareki("070229").ok());             // 2025 is no leap year
  EXPECT_FALSE(wareki("000101").ok());
  EXPECT_FALSE(wareki("08041").ok());
  EXPECT_FALSE(wareki("0804l5").ok());
  EXPECT_EQ(*ParseZenginDate("991231", ZenginEra::kSeireki), Day(2099, 12, 31));
  EXPECT_FALSE(ParseZenginDate("261301", ZenginEra::kSeireki).ok());
}

TEST(ZenginTest, MalformedRecordsAreRefusedNamingTheRecord) {
  const std::vector<Line> two = {kApril[0], kApril[2]};
  const std::string header = Header();
  const std::string d1 = Data(two[0]);
  const std::string d2 = Data(two[1]);
  const std::string trailer = Trailer(two);

  // Record 3 one byte short (with CR LF separators, the newline shows up inside it).
  ExpectMalformed(ParseZenginStatement(header + "\r\n" + d1 + "\r\n" + d2.substr(0, 199) + "\r\n" +
                                       trailer + "\r\n" + End()),
                  "record 3", "199 bytes");
  // The file cut in the middle of record 4.
  ExpectMalformed(ParseZenginStatement(header + d1 + d2 + trailer.substr(0, 100)), "record 4",
                  "100 bytes");
  // A letter in 取引金額 of record 2.
  std::string bad = d1;
  bad[30] = 'X';
  ExpectMalformed(ParseZenginStatement(header + bad + d2 + trailer + End()), "record 2",
                  "取引金額");
  // 入払区分 neither 1 nor 2.
  bad = d1;
  bad[21] = '3';
  ExpectMalformed(ParseZenginStatement(header + bad + d2 + trailer + End()), "record 2",
                  "入払区分");
  // A double-byte (kanji) payer where half-width kana belong.
  bad = d1;
  bad.replace(81, 4, Cp932("山田"));
  ExpectMalformed(ParseZenginStatement(header + bad + d2 + trailer + End()), "record 2",
                  "振込依頼人名");
  // No such date.
  bad = d2;
  bad.replace(9, 6, "080231");
  ExpectMalformed(ParseZenginStatement(header + d1 + bad + trailer + End()), "record 3", "勘定日");
  // The trailer's counts disagree with the data.
  ExpectMalformed(ParseZenginStatement(header + d1 + trailer + End()), "record 3", "入金件数");
  std::string wrong_sum = trailer;
  wrong_sum.replace(7, 13, "0000000000001");
  ExpectMalformed(ParseZenginStatement(header + d1 + d2 + wrong_sum + End()), "record 4",
                  "入金額合計");
  // Missing end record.
  ExpectMalformed(ParseZenginStatement(header + d1 + d2 + trailer), "record 5", "end record");
  // A data record before any header.
  ExpectMalformed(ParseZenginStatement(d1 + header + d2 + trailer + End()), "record 1", "outside");
  // A header inside a group.
  ExpectMalformed(ParseZenginStatement(header + d1 + header + d2 + trailer + End()), "record 3",
                  "header");
  // Something after the end record.
  ExpectMalformed(ParseZenginStatement(header + d1 + d2 + trailer + End() + d1), "record 6",
                  "after the end");
  // An unknown record type.
  bad = d1;
  bad[0] = '7';
  ExpectMalformed(ParseZenginStatement(header + bad + d2 + trailer + End()), "record 2",
                  "データ区分");
  // EBCDIC, another 種別コード (振込入金通知 01), 定期預金.
  bad = header;
  bad[3] = '1';
  ExpectMalformed(ParseZenginStatement(bad + d1 + d2 + trailer + End()), "record 1", "コード区分");
  bad = header;
  bad.replace(1, 2, "01");
  ExpectMalformed(ParseZenginStatement(bad + d1 + d2 + trailer + End()), "record 1", "種別コード");
  ExpectMalformed(
      ParseZenginStatement(Header("080401", "080430", "0001234567", 6) + d1 + d2 + trailer + End()),
      "record 1", "預金種目");
  // Empty.
  ExpectMalformed(ParseZenginStatement(""), "", "no records");
}

TEST(ZenginTest, LooksLikeZengin) {
  EXPECT_TRUE(LooksLikeZengin(Group(kApril) + End()));
  EXPECT_FALSE(LooksLikeZengin("2026-04-15,1000,ﾀﾅｶ\n"));
  EXPECT_FALSE(LooksLikeZengin(Header().substr(0, 100)));
}

// ---------------------------------------------------------------------------------------------
// CSV.

TEST(PaymentCsvTest, Cp932WithHeaderAndJapaneseAmounts) {
  const std::string utf8 =
      "日付,金額,振込依頼人名,照会番号\r\n"
      "2026/04/15,\"110,000\",ｶ)ﾔﾏﾀﾞｼｮｳｼﾞ,A-1\r\n"
      "2026-04-15,33000,ﾀﾅｶ ﾀﾛｳ\r\n"
      "20260415,\"￥33,000\",ﾀﾅｶ ﾀﾛｳ\r\n"
      ",,,\r\n"
      "２０２６/４/２０,３３０００円, ﾀﾅｶ ﾀﾛｳ \r\n";
  const std::string bytes = Cp932(utf8);
  ASSERT_FALSE(csv::IsValidUtf8(bytes));  // really CP932
  absl::StatusOr<BankStatement> s = ParsePaymentCsv(bytes, "csv:main");
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->payments.size(), 4u);
  EXPECT_EQ(s->payments[0].date, Day(2026, 4, 15));
  EXPECT_EQ(s->payments[0].amount, 110'000);
  EXPECT_EQ(s->payments[0].payer_name, "ｶ)ﾔﾏﾀﾞｼｮｳｼﾞ");
  EXPECT_EQ(s->payments[0].reference, "A-1");
  EXPECT_EQ(s->payments[3].date, Day(2026, 4, 20));
  EXPECT_EQ(s->payments[3].amount, 33'000);
  EXPECT_EQ(s->payments[3].payer_name, "ﾀﾅｶ ﾀﾛｳ");
  EXPECT_THAT(
      Keys(*s),
      ElementsAre("csv:main|2026-04-15|110000|ｶ)ﾔﾏﾀﾞｼｮｳｼﾞ|1", "csv:main|2026-04-15|33000|ﾀﾅｶ ﾀﾛｳ|1",
                  "csv:main|2026-04-15|33000|ﾀﾅｶ ﾀﾛｳ|2", "csv:main|2026-04-20|33000|ﾀﾅｶ ﾀﾛｳ|1"));
  // The same content in UTF-8 with a BOM: the same payments and keys.
  absl::StatusOr<BankStatement> u = ParsePaymentCsv("\xEF\xBB\xBF" + utf8, "csv:main");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(Keys(*u), Keys(*s));
}

TEST(PaymentCsvTest, BadLinesAreRefusedNamingTheLine) {
  const auto parse = [](const std::string& utf8) {
    return ParsePaymentCsv(Cp932(utf8), "csv:main");
  };
  ExpectMalformed(parse("2026-04-15,1000,ﾀﾅｶ\n2026-02-30,1000,ﾀﾅｶ\n"), "line 2", "date");
  ExpectMalformed(parse("2026-04-15,1000,ﾀﾅｶ\n2026-04-15,1O00,ﾀﾅｶ\n"), "line 2", "amount");
  ExpectMalformed(parse("2026-04-15,1000,ﾀﾅｶ\n\n2026-04-15,0,ﾀﾅｶ\n"), "line 3", "> 0");
  ExpectMalformed(parse("2026-04-15,-1000,ﾀﾅｶ\n"), "line 1", "amount");
  ExpectMalformed(parse("2026-04-15,1000\n"), "line 1", "expected date, amount, payer");
  // Only the first line may be a header.
  ExpectMalformed(parse("2026-04-15,1000,ﾀﾅｶ\n日付,金額,名前\n"), "line 2", "date");
  absl::StatusOr<BankStatement> r = ParsePaymentCsv("\x82\xA0\xFF\xFF", "csv:main");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(ErrorReason(r.status()), "ENCODING");
}

}  // namespace
}  // namespace anken::billing
