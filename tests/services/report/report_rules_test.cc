// Pure rules of report intake: the exact error texts, every validation rule, reading the cells
// of an uploaded row, the upload plan, status, submission, the diff and the commission. Every
// expectation is hand-computed; the Japanese texts are copied byte for byte from DESIGN.md.

#include "services/report/report_rules.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/status/domain_error.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace anken::report {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// DESIGN.md, "Monthly performance report", with NNNNNNN = 0000123.
constexpr char kUploadFailedText[] =
    "アップロードに失敗しました。案件一覧ファイルを再度アップロードしてください。";
constexpr char kCaseNumberText[] = "案件番号:0000123|案件番号に不正な入力があります。";
constexpr char kCombinationText[] = "案件番号:0000123|案件状況と入力項目に不正な組み合わせがあります。";
constexpr char kRemarksText[] = "案件番号:0000123|報告備考欄に不正な入力「=」「+」「-」があります。";
constexpr char kUnknownText[] = "案件番号:0000123|不明なエラーがあります。";

const absl::CivilDay kToday(2026, 4, 20);
const absl::CivilDay kReferral(2026, 2, 10);

std::string Repeat(absl::string_view unit, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) absl::StrAppend(&s, unit);
  return s;
}

LineSnapshot Snapshot(std::string number = "0000123", Outcome outcome = Outcome::kInProgress) {
  LineSnapshot s;
  s.project_id = 77;
  s.case_number = std::move(number);
  s.customer_name = "山田太郎";
  s.referral_date = kReferral;
  s.outcome = outcome;
  return s;
}

Change InProgress() { return Change{}; }
Change Completed(absl::CivilDay day, int64_t amount) {
  Change c;
  c.outcome = Outcome::kCompleted;
  c.completion_date = day;
  c.amount = amount;
  return c;
}
Change Lost(absl::CivilDay day) {
  Change c;
  c.outcome = Outcome::kLost;
  c.lost_date = day;
  return c;
}

// "KIND field REASON" of each error, for compact expectations.
std::vector<std::string> Describe(const std::vector<LineError>& errors) {
  std::vector<std::string> out;
  for (const LineError& e : errors) {
    out.push_back(absl::StrCat(ErrorCode(e.kind), " ", e.field, " ", e.reason));
  }
  return out;
}

std::string PayloadOf(const absl::Status& s, const char* key) {
  absl::optional<absl::Cord> p = s.GetPayload(key);
  return p ? std::string(*p) : std::string();
}

// ---------------------------------------------------------------------------------------------
// Texts and codes

TEST(ErrorTextTest, EveryKindHasTheDesignText) {
  LineError e;
  e.case_number = "0000123";
  e.kind = ErrorKind::kInvalidCaseNumber;
  EXPECT_EQ(ErrorMessage(e), kCaseNumberText);
  e.kind = ErrorKind::kInvalidCombination;
  EXPECT_EQ(ErrorMessage(e), kCombinationText);
  e.kind = ErrorKind::kInvalidRemarks;
  EXPECT_EQ(ErrorMessage(e), kRemarksText);
  e.kind = ErrorKind::kUnknownError;
  EXPECT_EQ(ErrorMessage(e), kUnknownText);
  EXPECT_EQ(ErrorMessage(UploadFailed("NOT_XLSX")), kUploadFailedText);
}

TEST(ErrorTextTest, SeparatorsAreAscii) {
  LineError e{ErrorKind::kInvalidRemarks, "0000123", 0, "", ""};
  const std::string m = ErrorMessage(e);
  // ':' '|' and the three characters inside 「」 are ASCII, as on the seed page.
  EXPECT_NE(m.find("案件番号:0000123|"), std::string::npos);
  EXPECT_NE(m.find("「=」「+」「-」"), std::string::npos);
  EXPECT_EQ(m.find("："), std::string::npos);
  EXPECT_EQ(m.find("｜"), std::string::npos);
}

TEST(ErrorTextTest, StableCodes) {
  EXPECT_EQ(ErrorCode(ErrorKind::kUploadFailed), "UPLOAD_FAILED");
  EXPECT_EQ(ErrorCode(ErrorKind::kInvalidCaseNumber), "INVALID_CASE_NUMBER");
  EXPECT_EQ(ErrorCode(ErrorKind::kInvalidCombination), "INVALID_COMBINATION");
  EXPECT_EQ(ErrorCode(ErrorKind::kInvalidRemarks), "INVALID_REMARKS");
  EXPECT_EQ(ErrorCode(ErrorKind::kUnknownError), "UNKNOWN_ERROR");
}

TEST(ErrorTextTest, UploadFailedCarriesReasonAndNoCase) {
  LineError e = UploadFailed("TOO_LARGE");
  EXPECT_EQ(e.kind, ErrorKind::kUploadFailed);
  EXPECT_EQ(e.reason, "TOO_LARGE");
  EXPECT_EQ(e.case_number, "");
  EXPECT_EQ(e.row, 0);
}

TEST(LineErrorStatusTest, MessageIsThePartnerTextWithCodeAndField) {
  LineError e{ErrorKind::kInvalidCombination, "0000123", 4, "amount", "AMOUNT_REQUIRED"};
  absl::Status s = LineErrorStatus(e);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), kCombinationText);
  EXPECT_EQ(PayloadOf(s, kDomainReasonPayload), "INVALID_COMBINATION");
  EXPECT_EQ(PayloadOf(s, kDomainFieldPayload), "amount");
}

TEST(LineErrorStatusTest, CompletedIsFinalIsAPrecondition) {
  LineError e{ErrorKind::kInvalidCombination, "0000123", 0, "outcome", "COMPLETED_IS_FINAL"};
  absl::Status s = LineErrorStatus(e);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), kCombinationText);
  EXPECT_EQ(PayloadOf(s, kDomainReasonPayload), "INVALID_COMBINATION");
}

TEST(LineErrorStatusTest, NoFieldNoFieldPayload) {
  absl::Status s = LineErrorStatus(LineError{ErrorKind::kUnknownError, "0000123", 0, "", "X"});
  EXPECT_EQ(s.message(), kUnknownText);
  EXPECT_FALSE(s.GetPayload(kDomainFieldPayload).has_value());
  EXPECT_EQ(PayloadOf(s, kDomainReasonPayload), "UNKNOWN_ERROR");
}

// ---------------------------------------------------------------------------------------------
// Labels and remarks characters

TEST(OutcomeLabelTest, RoundTripsAndRejectsOthers) {
  EXPECT_EQ(OutcomeLabel(Outcome::kInProgress), "進行中");
  EXPECT_EQ(OutcomeLabel(Outcome::kCompleted), "施工完了");
  EXPECT_EQ(OutcomeLabel(Outcome::kLost), "失注");
  EXPECT_EQ(OutcomeLabel(static_cast<Outcome>(0)), "");
  EXPECT_EQ(ParseOutcomeLabel("進行中"), Outcome::kInProgress);
  EXPECT_EQ(ParseOutcomeLabel(" 施工完了\u3000"), Outcome::kCompleted);
  EXPECT_EQ(ParseOutcomeLabel("失注"), Outcome::kLost);
  EXPECT_EQ(ParseOutcomeLabel("完了"), absl::nullopt);
  EXPECT_EQ(ParseOutcomeLabel("変更なし"), absl::nullopt);
  EXPECT_EQ(ParseOutcomeLabel(""), absl::nullopt);
}

TEST(RemarksCharacterTest, EqualsPlusMinusInEveryWidth) {
  for (const char* bad : {"a=b", "+81", "-", "＝", "＋", "－", "﹦", "﹢", "﹣", "5−3",
                          "良好です。-以上"}) {
    EXPECT_TRUE(HasForbiddenRemarksCharacter(bad)) << bad;
  }
  // Japanese text needs the long-vowel mark, dashes and the wave dash.
  for (const char* ok : {"", "メーカー対応待ち", "ｰ", "工事中―来月", "4月〜5月", "（株）", "100%"}) {
    EXPECT_FALSE(HasForbiddenRemarksCharacter(ok)) << ok;
  }
}

// ---------------------------------------------------------------------------------------------
// ValidateChange: combinations

TEST(ValidateChangeTest, ValidAnswersOfEachOutcome) {
  EXPECT_THAT(ValidateChange(Snapshot(), InProgress(), kToday), IsEmpty());
  EXPECT_THAT(ValidateChange(Snapshot(), Completed(kToday, 1), kToday), IsEmpty());
  EXPECT_THAT(ValidateChange(Snapshot(), Completed(kReferral, kMaxAmount), kToday), IsEmpty());
  EXPECT_THAT(ValidateChange(Snapshot(), Lost(kReferral), kToday), IsEmpty());
  Change remarks = InProgress();
  remarks.remarks = "来月着工予定";
  EXPECT_THAT(ValidateChange(Snapshot(), remarks, kToday), IsEmpty());
}

TEST(ValidateChangeTest, InProgressTakesNoDatesAndNoAmount) {
  Change c = InProgress();
  c.completion_date = kToday;
  EXPECT_THAT(Describe(ValidateChange(Snapshot(), c, kToday)),
              ElementsAre("INVALID_COMBINATION completion_date FIELD_NOT_ALLOWED"));
  c = InProgress();
  c.amount = 1000;
  EXPECT_THAT(Describe(ValidateChange(Snapshot(), c, kToday)),
              ElementsAre("INVALID_COMBINATION amount FIELD_NOT_ALLOWED"));
  c = InProgress();
  c.lost_date = kToday;
  std::vector<LineError> errors = ValidateChange(Snapshot(), c, kToday);
  ASSERT_THAT(Describe(errors), ElementsAre("INVALID_COMBINATION lost_date FIELD_NOT_ALLOWED"));
  EXPECT_EQ(ErrorMessage(errors[0]), kCombinationText);
}

TEST(ValidateChangeTest, CompletedNeedsDateAndPositiveAmountAndNoLostDate) {
  Change c = Completed(kToday, 0);
  c.completion_date.reset();
  c.amount = 5000;
  EXPECT_THAT(Describe(ValidateChange(Snapshot(), c, kToday)),
              ElementsAre("INVALID_COMBINATION completion_date DATE_REQUIRED"));
  EXPECT_THAT(Describe(ValidateChange(Snapshot(), Completed(kToday, 0), kToday)),
              ElementsAre("INVALID_COMBINATION amount AMOUNT_REQUIRED"));
  EXPECT_THAT(Describe(ValidateChange(Snapshot(), Completed(kToday, -1), kToday)),
              ElementsAre("INVALID_COMBINATION amount INVALID_AMOUNT"));
  EXPECT_THAT(Describe(ValidateChange(Snapshot(), Completed(kToday, kMaxAmount + 1), kToday)),
              ElementsAre("INVALID_COMBINATION amount AMOUNT_TOO_LARGE"));
  c = Completed(kToday, 5000);
  c.lost_date = kToday;
  EXPECT_THAT(Describe(ValidateChange(Snapshot(), c, kToday)),
              ElementsAre("INVALID_COMBINATION lost_date FIELD_NOT_ALLOWED"));
}

TEST(ValidateChangeTest, LostNeedsLostDateAndNoAmountOrCompletionDate) {
  Change c = Lost(kToday);
  c.lost_date.reset();
  EXPECT_THAT(Describe(ValidateChange(Snapshot(), c, kToday)),
              ElementsAre("INVALID_COMBINATION lost_date DATE_REQUIRED"));
  c = Lost(kToday);
  c.amount = 1;
  EXPECT_THAT(Describe(ValidateChange(Snapshot(), c, kToday)),
              ElementsAre("INVALID_COMBINATION amount FIELD_NOT_ALLOWED"));
  c = Lost(kToday);
  c.completion_date = kToday;
  EXPECT_THAT(Describe(ValidateChange(Snapshot(), c, kToday)),
              ElementsAre("INVALID_COMBINATION completion_date FIELD_NOT_ALLOWED"));
}

TEST(ValidateChangeTest, UnknownOutcomeIsAnInvalidStatus) {
  Change c = InProgress();
  c.outcome = static_cast<Outcome>(9);
  EXPECT_THAT(Describe(ValidateChange(Snapshot(), c, kToday)),
              ElementsAre("INVALID_COMBINATION outcome INVALID_STATUS"));
}

TEST(ValidateChangeTest, OneErrorPerKindFirstReasonWins) {
  Change c = Lost(kToday);
  c.amount = 1;
  c.completion_date = kToday;
  c.lost_date.reset();
  std::vector<LineError> errors = ValidateChange(Snapshot(), c, kToday);
  EXPECT_THAT(Describe(errors),
              ElementsAre("INVALID_COMBINATION completion_date FIELD_NOT_ALLOWED"));
}

// ---------------------------------------------------------------------------------------------
// ValidateChange: dates

TEST(ValidateChangeTest, DatesNotInTheFutureAndNotBeforeReferral) {
  const absl::CivilDay tomorrow = kToday + 1;
  const absl::CivilDay before = kReferral - 1;
  EXPECT_THAT(Describe(ValidateChange(Snapshot(), Completed(tomorrow, 100), kToday)),
              ElementsAre("INVALID_COMBINATION completion_date DATE_IN_FUTURE"));
  EXPECT_THAT(Describe(ValidateChange(Snapshot(), Completed(before, 100), kToday)),
              ElementsAre("INVALID_COMBINATION completion_date DATE_BEFORE_REFERRAL"));
  EXPECT_THAT(Describe(ValidateChange(Snapshot(), Lost(tomorrow), kToday)),
              ElementsAre("INVALID_COMBINATION lost_date DATE_IN_FUTURE"));
  EXPECT_THAT(Describe(ValidateChange(Snapshot(), Lost(before), kToday)),
              ElementsAre("INVALID_COMBINATION lost_date DATE_BEFORE_REFERRAL"));
  // Both bounds are inclusive.
  EXPECT_THAT(ValidateChange(Snapshot(), Lost(kToday), kToday), IsEmpty());
  EXPECT_THAT(ValidateChange(Snapshot(), Lost(kReferral), kToday), IsEmpty());
}

// ---------------------------------------------------------------------------------------------
// ValidateChange: 施工完了 is final

TEST(ValidateChangeTest, CompletedNeverGoesBack) {
  LineSnapshot done = Snapshot("0000123", Outcome::kCompleted);
  done.completion_date = absl::CivilDay(2026, 3, 1);
  done.amount = 500000;
  std::vector<LineError> errors = ValidateChange(done, InProgress(), kToday);
  ASSERT_THAT(Describe(errors), ElementsAre("INVALID_COMBINATION outcome COMPLETED_IS_FINAL"));
  EXPECT_EQ(ErrorMessage(errors[0]), kCombinationText);
  EXPECT_THAT(Describe(ValidateChange(done, Lost(kToday), kToday)),
              ElementsAre("INVALID_COMBINATION outcome COMPLETED_IS_FINAL"));
  // A correction stays 施工完了; 失注 may still complete or resume.
  EXPECT_THAT(ValidateChange(done, Completed(kToday, 600000), kToday), IsEmpty());
  const LineSnapshot lost = Snapshot("0000123", Outcome::kLost);
  EXPECT_THAT(ValidateChange(lost, Completed(kToday, 1), kToday), IsEmpty());
  EXPECT_THAT(ValidateChange(lost, InProgress(), kToday), IsEmpty());
}

TEST(ValidateChangeTest, SnapshotInNoKnownStateIsUnknownError) {
  LineSnapshot s = Snapshot();
  s.outcome = static_cast<Outcome>(0);
  std::vector<LineError> errors = ValidateChange(s, InProgress(), kToday);
  ASSERT_THAT(Describe(errors), ElementsAre("UNKNOWN_ERROR  INVALID_SNAPSHOT"));
  EXPECT_EQ(ErrorMessage(errors[0]), kUnknownText);
}

// ---------------------------------------------------------------------------------------------
// ValidateChange: remarks

TEST(ValidateChangeTest, RemarksWithEqualsPlusMinusAreRefused) {
  for (const char* bad : {"=SUM(A1)", "+81-90", "－５", "＝", "＋", "5−3"}) {
    Change c = InProgress();
    c.remarks = bad;
    std::vector<LineError> errors = ValidateChange(Snapshot(), c, kToday);
    ASSERT_THAT(Describe(errors), ElementsAre("INVALID_REMARKS remarks FORBIDDEN_CHARACTER"))
        << bad;
    EXPECT_EQ(ErrorMessage(errors[0]), kRemarksText);
  }
}

TEST(ValidateChangeTest, RemarksUpTo500CharactersNotBytes) {
  Change c = InProgress();
  c.remarks = Repeat("あ", 500);  // 1,500 bytes
  EXPECT_THAT(ValidateChange(Snapshot(), c, kToday), IsEmpty());
  c.remarks = Repeat("あ", 501);
  EXPECT_THAT(Describe(ValidateChange(Snapshot(), c, kToday)),
              ElementsAre("INVALID_COMBINATION remarks TOO_LONG"));
}

TEST(ValidateChangeTest, RemarksNotUtf8IsUnknownError) {
  Change c = InProgress();
  c.remarks = std::string("abc\xFF", 4);
  EXPECT_THAT(Describe(ValidateChange(Snapshot(), c, kToday)),
              ElementsAre("UNKNOWN_ERROR remarks INVALID_UTF8"));
  c.remarks = std::string("\xC0\xAF", 2);  // overlong '/'
  EXPECT_THAT(Describe(ValidateChange(Snapshot(), c, kToday)),
              ElementsAre("UNKNOWN_ERROR remarks INVALID_UTF8"));
  c.remarks = std::string("\xED\xA0\x80", 3);  // a surrogate
  EXPECT_THAT(Describe(ValidateChange(Snapshot(), c, kToday)),
              ElementsAre("UNKNOWN_ERROR remarks INVALID_UTF8"));
}

TEST(ValidateChangeTest, SeveralKindsComeInTheSeedOrderWithTheRow) {
  Change c = Completed(kToday, 0);
  c.remarks = "-";
  std::vector<LineError> errors = ValidateChange(Snapshot(), c, kToday, 7);
  ASSERT_THAT(Describe(errors), ElementsAre("INVALID_COMBINATION amount AMOUNT_REQUIRED",
                                            "INVALID_REMARKS remarks FORBIDDEN_CHARACTER"));
  EXPECT_EQ(errors[0].row, 7);
  EXPECT_EQ(errors[1].row, 7);
  EXPECT_EQ(errors[0].case_number, "0000123");
}

// ---------------------------------------------------------------------------------------------
// ValidateChange: additional and repeat orders

ExtraOrder Extra(int64_t amount, absl::CivilDay day = kToday) {
  ExtraOrder e;
  e.kind = ExtraKind::kRepeat;
  e.order_date = day;
  e.amount = amount;
  return e;
}

TEST(ValidateChangeTest, ExtraOrders) {
  Change c = InProgress();
  c.extra_orders = {Extra(1000), Extra(kMaxAmount, kReferral)};
  EXPECT_THAT(ValidateChange(Snapshot(), c, kToday), IsEmpty());

  c.extra_orders = {Extra(1000), Extra(0)};
  EXPECT_THAT(Describe(ValidateChange(Snapshot(), c, kToday)),
              ElementsAre("INVALID_COMBINATION extra_orders[1].amount AMOUNT_REQUIRED"));
  c.extra_orders = {Extra(kMaxAmount + 1)};
  EXPECT_THAT(Describe(ValidateChange(Snapshot(), c, kToday)),
              ElementsAre("INVALID_COMBINATION extra_orders[0].amount AMOUNT_TOO_LARGE"));
  c.extra_orders = {Extra(1000, kToday + 1)};
  EXPECT_THAT(Describe(ValidateChange(Snapshot(), c, kToday)),
              ElementsAre("INVALID_COMBINATION extra_orders[0].order_date DATE_IN_FUTURE"));
  c.extra_orders = {Extra(1000, kReferral - 1)};
  EXPECT_THAT(Describe(ValidateChange(Snapshot(), c, kToday)),
              ElementsAre("INVALID_COMBINATION extra_orders[0].order_date DATE_BEFORE_REFERRAL"));
  c.extra_orders = {Extra(1000)};
  c.extra_orders[0].kind = static_cast<ExtraKind>(0);
  EXPECT_THAT(Describe(ValidateChange(Snapshot(), c, kToday)),
              ElementsAre("INVALID_COMBINATION extra_orders[0].kind KIND_REQUIRED"));
  c.extra_orders = {Extra(1000)};
  c.extra_orders[0].note = Repeat("追", 500);
  EXPECT_THAT(ValidateChange(Snapshot(), c, kToday), IsEmpty());
  c.extra_orders[0].note = Repeat("追", 501);
  EXPECT_THAT(Describe(ValidateChange(Snapshot(), c, kToday)),
              ElementsAre("INVALID_COMBINATION extra_orders[0].note TOO_LONG"));
  c.extra_orders = std::vector<ExtraOrder>(kMaxExtraOrders, Extra(1));
  EXPECT_THAT(ValidateChange(Snapshot(), c, kToday), IsEmpty());
  c.extra_orders.push_back(Extra(1));
  EXPECT_THAT(Describe(ValidateChange(Snapshot(), c, kToday)),
              ElementsAre("INVALID_COMBINATION extra_orders TOO_MANY_EXTRA_ORDERS"));
}

// ---------------------------------------------------------------------------------------------
// Excel serials and text

TEST(ExcelSerialTest, The1900SystemWithItsLeapDay) {
  EXPECT_EQ(ExcelSerialToDay(1), absl::CivilDay(1900, 1, 1));
  EXPECT_EQ(ExcelSerialToDay(59), absl::CivilDay(1900, 2, 28));
  EXPECT_EQ(ExcelSerialToDay(60), absl::nullopt);  // 1900-02-29, which never was
  EXPECT_EQ(ExcelSerialToDay(61), absl::CivilDay(1900, 3, 1));
  EXPECT_EQ(ExcelSerialToDay(43831), absl::CivilDay(2020, 1, 1));
  EXPECT_EQ(ExcelSerialToDay(45658), absl::CivilDay(2025, 1, 1));
  EXPECT_EQ(ExcelSerialToDay(46117), absl::CivilDay(2026, 4, 5));
  EXPECT_EQ(ExcelSerialToDay(2958465), absl::CivilDay(9999, 12, 31));
  EXPECT_EQ(ExcelSerialToDay(2958466), absl::nullopt);
  EXPECT_EQ(ExcelSerialToDay(0), absl::nullopt);
  EXPECT_EQ(ExcelSerialToDay(-1), absl::nullopt);
}

TEST(ExcelSerialTest, InverseRoundTrips) {
  EXPECT_EQ(DayToExcelSerial(absl::CivilDay(1900, 1, 1)), 1);
  EXPECT_EQ(DayToExcelSerial(absl::CivilDay(1900, 2, 28)), 59);
  EXPECT_EQ(DayToExcelSerial(absl::CivilDay(1900, 3, 1)), 61);
  EXPECT_EQ(DayToExcelSerial(absl::CivilDay(2026, 4, 5)), 46117);
  EXPECT_EQ(DayToExcelSerial(absl::CivilDay(1899, 12, 31)), absl::nullopt);
  EXPECT_EQ(DayToExcelSerial(absl::CivilDay(10000, 1, 1)), absl::nullopt);
  for (absl::CivilDay d(1900, 1, 1); d < absl::CivilDay(1901, 1, 1); ++d) {
    absl::optional<int64_t> serial = DayToExcelSerial(d);
    ASSERT_TRUE(serial.has_value()) << d;
    EXPECT_EQ(ExcelSerialToDay(*serial), d);
  }
}

TEST(ParseDateTextTest, AcceptedForms) {
  const absl::CivilDay want(2026, 4, 5);
  for (const char* text :
       {"2026/4/5", "2026/04/05", "2026-04-05", "2026-4-5", "2026.4.5", "2026年4月5日",
        "2026年04月05日", "２０２６／４／５", "２０２６年４月５日", "２０２６－０４－０５",
        " 2026/4/5\u3000", "2026-04-05T00:00:00", "2026-04-05T00:00:00.000Z",
        "2026-04-05 13:45", "2026/4/5 9:05:30"}) {
    EXPECT_EQ(ParseDateText(text), want) << text;
  }
}

TEST(ParseDateTextTest, RefusedForms) {
  for (const char* text :
       {"", "abc", "2026/02/30", "2026/13/01", "2026/0/1", "2026/4-5", "26/4/5", "20260405",
        "2026年4月5", "2026/4/5x", "2026/4/5 25:00", "2026-04-05T", "1899/12/31",
        "2026/4/５日", "46117", "2026/004/05", "令和8年4月5日"}) {
    EXPECT_EQ(ParseDateText(text), absl::nullopt) << text;
  }
  EXPECT_EQ(ParseDateText(std::string("2026/4/5\xFF", 9)), absl::nullopt);
}

TEST(ParseAmountTextTest, AcceptedForms) {
  struct Case {
    const char* text;
    int64_t want;
  } cases[] = {
      {"1234567", 1234567},      {"1,234,567", 1234567},    {"¥1,234,567", 1234567},
      {"￥1,234,567", 1234567},  {"1,234,567円", 1234567},  {"１，２３４，５６７円", 1234567},
      {"¥ 1,000 円", 1000},      {"\\1,000", 1000},         {"1000.00", 1000},
      {" 500 ", 500},            {"0", 0},                  {"007", 7},
      {"999,999,999,999", kMaxAmount}, {"１２３", 123},
  };
  for (const Case& c : cases) EXPECT_EQ(ParseAmountText(c.text), c.want) << c.text;
}

TEST(ParseAmountTextTest, RefusedForms) {
  for (const char* text :
       {"", "1,23", "12,3456", ",123", "1,234,", "1,,234", "1234,567", "-100", "1000.5",
        "1000.", "abc", "1e3", "1,000,000,000,000", "1000000000000", "¥", "円", "¥-5",
        "1 000", "100ドル", "$100"}) {
    EXPECT_EQ(ParseAmountText(text), absl::nullopt) << text;
  }
}

// ---------------------------------------------------------------------------------------------
// Reading cells

Cell Text(std::string v) { return Cell{Cell::Kind::kText, std::move(v), false}; }
Cell Number(std::string v) { return Cell{Cell::Kind::kNumber, std::move(v), false}; }
Cell Bool(std::string v) { return Cell{Cell::Kind::kBool, std::move(v), false}; }
Cell ErrorValue(std::string v) { return Cell{Cell::Kind::kError, std::move(v), false}; }
Cell Empty() { return Cell{}; }

TEST(ReadCellTest, Status) {
  EXPECT_EQ(*ReadStatusCell(Text("施工完了")), Outcome::kCompleted);
  EXPECT_EQ(*ReadStatusCell(Text(" 失注 ")), Outcome::kLost);
  EXPECT_EQ(*ReadStatusCell(Empty()), absl::nullopt);
  EXPECT_EQ(*ReadStatusCell(Text("  ")), absl::nullopt);
  EXPECT_TRUE(absl::IsInvalidArgument(ReadStatusCell(Text("完工")).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(ReadStatusCell(Number("1")).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(ReadStatusCell(Bool("TRUE")).status()));
  EXPECT_TRUE(absl::IsDataLoss(ReadStatusCell(ErrorValue("#N/A")).status()));
}

TEST(ReadCellTest, DateFromSerialOrText) {
  const absl::CivilDay want(2026, 4, 5);
  EXPECT_EQ(*ReadDateCell(Number("46117")), want);
  EXPECT_EQ(*ReadDateCell(Number("46117.0")), want);
  EXPECT_EQ(*ReadDateCell(Number("46117.99999")), want);  // a time of day
  EXPECT_EQ(*ReadDateCell(Number("4.6117E4")), want);
  EXPECT_EQ(*ReadDateCell(Text("2026/4/5")), want);
  EXPECT_EQ(*ReadDateCell(Empty()), absl::nullopt);
  EXPECT_EQ(*ReadDateCell(Text(" ")), absl::nullopt);
  for (const char* bad : {"60", "0", "-1", "0.5", "1E+100", "2958466", "x", ""}) {
    EXPECT_TRUE(absl::IsInvalidArgument(ReadDateCell(Number(bad)).status())) << bad;
  }
  EXPECT_TRUE(absl::IsInvalidArgument(ReadDateCell(Text("2026/2/30")).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(ReadDateCell(Bool("TRUE")).status()));
  EXPECT_TRUE(absl::IsDataLoss(ReadDateCell(ErrorValue("#REF!")).status()));
}

TEST(ReadCellTest, AmountFromNumberOrText) {
  EXPECT_EQ(*ReadAmountCell(Number("1234567")), 1234567);
  EXPECT_EQ(*ReadAmountCell(Number("1234567.0")), 1234567);
  EXPECT_EQ(*ReadAmountCell(Number("1.5E+3")), 1500);
  EXPECT_EQ(*ReadAmountCell(Number("999999999999")), kMaxAmount);
  EXPECT_EQ(*ReadAmountCell(Number("-0")), 0);
  EXPECT_EQ(*ReadAmountCell(Number("0")), 0);
  EXPECT_EQ(*ReadAmountCell(Text("¥1,000円")), 1000);
  EXPECT_EQ(*ReadAmountCell(Empty()), 0);
  EXPECT_EQ(*ReadAmountCell(Text("")), 0);
  for (const char* bad : {"1234.5", "-5", "1E+12", "9223372036854775808", "0.1", "abc"}) {
    EXPECT_TRUE(absl::IsInvalidArgument(ReadAmountCell(Number(bad)).status())) << bad;
  }
  EXPECT_TRUE(absl::IsInvalidArgument(ReadAmountCell(Text("1,23")).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(ReadAmountCell(Bool("FALSE")).status()));
  EXPECT_TRUE(absl::IsDataLoss(ReadAmountCell(ErrorValue("#VALUE!")).status()));
}

TEST(ReadCellTest, CaseNumber) {
  EXPECT_EQ(ReadCaseNumberCell(Text("0000123")), "0000123");
  EXPECT_EQ(ReadCaseNumberCell(Text(" 123 ")), "0000123");
  EXPECT_EQ(ReadCaseNumberCell(Text("１２３")), "0000123");
  EXPECT_EQ(ReadCaseNumberCell(Number("123")), "0000123");
  EXPECT_EQ(ReadCaseNumberCell(Number("123.0")), "0000123");
  EXPECT_EQ(ReadCaseNumberCell(Number("9999999")), "9999999");
  for (const Cell& bad : {Text("12345678"), Text("0"), Text("0000000"), Text("abc"), Text(""),
                          Text("12-3"), Number("123.5"), Number("-123"), Number("10000000"),
                          Bool("TRUE"), ErrorValue("#N/A"), Empty()}) {
    EXPECT_EQ(ReadCaseNumberCell(bad), absl::nullopt) << bad.value;
  }
}

// ---------------------------------------------------------------------------------------------
// PlanUpload

ReportLine Line(int64_t id, std::string number, Outcome outcome = Outcome::kInProgress) {
  ReportLine l;
  l.id = id;
  l.report_id = 5;
  l.snapshot = Snapshot(std::move(number), outcome);
  return l;
}

UploadRow Row(int row, Cell case_number) {
  UploadRow r;
  r.row = row;
  r.case_number = std::move(case_number);
  return r;
}

std::vector<ReportLine> ThreeLines() {
  return {Line(1, "0000123"), Line(2, "0000456"), Line(3, "0000789")};
}

TEST(PlanUploadTest, UntouchedRowsAreNoChangeAndMissingLinesAreListed) {
  std::vector<UploadRow> rows = {Row(2, Text("0000123")), Row(3, Text("0000456"))};
  rows[1].status = Text("進行中");  // the current outcome, repeated
  rows.push_back(UploadRow{});      // a formatted empty row
  rows.back().row = 4;
  UploadPlan plan = PlanUpload(ThreeLines(), rows, kToday);
  EXPECT_THAT(plan.errors, IsEmpty());
  ASSERT_EQ(plan.answers.size(), 2u);
  EXPECT_EQ(plan.answers[0].line_id, 1);
  EXPECT_EQ(plan.answers[0].row, 2);
  EXPECT_EQ(plan.answers[0].answer, Answer::kNoChange);
  EXPECT_EQ(plan.answers[1].line_id, 2);
  EXPECT_EQ(plan.answers[1].answer, Answer::kNoChange);
  EXPECT_THAT(plan.missing_line_ids, ElementsAre(3));
}

TEST(PlanUploadTest, CompletedLostAndRemarksBecomeChanges) {
  std::vector<UploadRow> rows = {Row(2, Text("0000123")), Row(3, Number("456")),
                                 Row(4, Text("0000789"))};
  rows[0].status = Text("施工完了");
  rows[0].completion_date = Number("46117");  // 2026-04-05
  rows[0].amount = Text("¥1,234,567");
  rows[1].status = Text("失注");
  rows[1].lost_date = Text("2026年4月1日");
  rows[1].amount = Number("0");
  rows[2].remarks = Text("  来月着工  ");
  UploadPlan plan = PlanUpload(ThreeLines(), rows, kToday);
  ASSERT_THAT(Describe(plan.errors), IsEmpty());
  ASSERT_EQ(plan.answers.size(), 3u);
  const Change& done = plan.answers[0].change;
  EXPECT_EQ(plan.answers[0].answer, Answer::kChanged);
  EXPECT_EQ(done.outcome, Outcome::kCompleted);
  EXPECT_EQ(done.completion_date, absl::CivilDay(2026, 4, 5));
  EXPECT_EQ(done.amount, 1234567);
  EXPECT_EQ(done.lost_date, absl::nullopt);
  EXPECT_EQ(plan.answers[1].change.outcome, Outcome::kLost);
  EXPECT_EQ(plan.answers[1].change.lost_date, absl::CivilDay(2026, 4, 1));
  EXPECT_EQ(plan.answers[1].change.amount, 0);
  EXPECT_EQ(plan.answers[2].answer, Answer::kChanged);
  EXPECT_EQ(plan.answers[2].change.outcome, Outcome::kInProgress);
  EXPECT_EQ(plan.answers[2].change.remarks, "来月着工");
  EXPECT_THAT(plan.missing_line_ids, IsEmpty());
}

TEST(PlanUploadTest, UnknownCaseNumberRefusesTheWholeUpload) {
  std::vector<UploadRow> rows = {Row(2, Text("0000123")), Row(3, Text("0000999"))};
  rows[0].status = Text("失注");
  rows[0].lost_date = Text("2026/4/1");
  UploadPlan plan = PlanUpload(ThreeLines(), rows, kToday);
  ASSERT_EQ(plan.errors.size(), 1u);
  EXPECT_EQ(plan.errors[0].kind, ErrorKind::kInvalidCaseNumber);
  EXPECT_EQ(plan.errors[0].row, 3);
  EXPECT_EQ(plan.errors[0].reason, "UNKNOWN_CASE_NUMBER");
  EXPECT_EQ(ErrorMessage(plan.errors[0]), "案件番号:0000999|案件番号に不正な入力があります。");
  EXPECT_THAT(plan.answers, IsEmpty());  // all or nothing
}

TEST(PlanUploadTest, MalformedAndDuplicateCaseNumbers) {
  std::vector<UploadRow> rows = {Row(2, Text("abc")), Row(3, Empty()),
                                 Row(4, Text("0000123")), Row(5, Number("123")),
                                 Row(6, Text(Repeat("あ", 30)))};
  rows[1].remarks = Text("番号を消してしまった");
  UploadPlan plan = PlanUpload(ThreeLines(), rows, kToday);
  ASSERT_EQ(plan.errors.size(), 4u);
  EXPECT_EQ(ErrorMessage(plan.errors[0]), "案件番号:abc|案件番号に不正な入力があります。");
  EXPECT_EQ(plan.errors[0].reason, "MALFORMED_CASE_NUMBER");
  EXPECT_EQ(ErrorMessage(plan.errors[1]), "案件番号:|案件番号に不正な入力があります。");
  EXPECT_EQ(plan.errors[1].row, 3);
  EXPECT_EQ(ErrorMessage(plan.errors[2]), kCaseNumberText);
  EXPECT_EQ(plan.errors[2].row, 5);
  EXPECT_EQ(plan.errors[2].reason, "DUPLICATE_CASE_NUMBER");
  EXPECT_EQ(plan.errors[3].case_number, Repeat("あ", 20));
  EXPECT_THAT(plan.answers, IsEmpty());
}

TEST(PlanUploadTest, CombinationErrorsFromCells) {
  std::vector<ReportLine> lines = ThreeLines();
  std::vector<UploadRow> rows = {Row(2, Text("0000123")), Row(3, Text("0000456")),
                                 Row(4, Text("0000789"))};
  // Status left blank on a 進行中 case but a completion date entered.
  rows[0].completion_date = Text("2026/4/5");
  // 施工完了 with an unreadable date.
  rows[1].status = Text("施工完了");
  rows[1].completion_date = Text("4月5日");
  rows[1].amount = Number("1000");
  // A label not in the drop-down.
  rows[2].status = Text("完工");
  UploadPlan plan = PlanUpload(lines, rows, kToday);
  ASSERT_THAT(Describe(plan.errors),
              ElementsAre("INVALID_COMBINATION completion_date FIELD_NOT_ALLOWED",
                          "INVALID_COMBINATION completion_date INVALID_DATE",
                          "INVALID_COMBINATION status INVALID_STATUS"));
  for (const LineError& e : plan.errors) {
    EXPECT_EQ(ErrorMessage(e),
              absl::StrCat("案件番号:", e.case_number,
                           "|案件状況と入力項目に不正な組み合わせがあります。"));
  }
  EXPECT_EQ(plan.errors[1].case_number, "0000456");
  EXPECT_EQ(plan.errors[1].row, 3);
}

TEST(PlanUploadTest, AmountDatesInTheFutureAndCompletedIsFinal) {
  std::vector<ReportLine> lines = {Line(1, "0000123"), Line(2, "0000456", Outcome::kCompleted)};
  lines[1].snapshot.completion_date = absl::CivilDay(2026, 3, 1);
  lines[1].snapshot.amount = 300000;
  std::vector<UploadRow> rows = {Row(2, Text("0000123")), Row(3, Text("0000456"))};
  rows[0].status = Text("施工完了");
  rows[0].completion_date = Text("2026/4/21");  // tomorrow
  rows[0].amount = Text("1,000");
  rows[1].status = Text("失注");
  rows[1].lost_date = Text("2026/4/1");
  UploadPlan plan = PlanUpload(lines, rows, kToday);
  ASSERT_THAT(Describe(plan.errors),
              ElementsAre("INVALID_COMBINATION completion_date DATE_IN_FUTURE",
                          "INVALID_COMBINATION outcome COMPLETED_IS_FINAL"));
}

TEST(PlanUploadTest, CompletedLineLeftAsItWasIsNoChange) {
  std::vector<ReportLine> lines = {Line(1, "0000123", Outcome::kCompleted)};
  lines[0].snapshot.completion_date = absl::CivilDay(2026, 3, 1);
  lines[0].snapshot.amount = 300000;
  std::vector<UploadRow> rows = {Row(2, Text("0000123"))};
  UploadPlan blank = PlanUpload(lines, rows, kToday);
  ASSERT_EQ(blank.answers.size(), 1u);
  EXPECT_EQ(blank.answers[0].answer, Answer::kNoChange);
  // The same values written back are no change either.
  rows[0].status = Text("施工完了");
  rows[0].completion_date = Number("46082");  // 2026-03-01
  rows[0].amount = Number("300000");
  UploadPlan same = PlanUpload(lines, rows, kToday);
  ASSERT_THAT(same.errors, IsEmpty());
  ASSERT_EQ(same.answers.size(), 1u);
  EXPECT_EQ(same.answers[0].answer, Answer::kNoChange);
  // Only the amount differs: a correction, which stays 施工完了.
  rows[0].amount = Number("350000");
  UploadPlan corrected = PlanUpload(lines, rows, kToday);
  ASSERT_THAT(corrected.errors, IsEmpty());
  ASSERT_EQ(corrected.answers.size(), 1u);
  EXPECT_EQ(corrected.answers[0].answer, Answer::kChanged);
  EXPECT_EQ(corrected.answers[0].change.amount, 350000);
  EXPECT_EQ(corrected.answers[0].change.completion_date, absl::CivilDay(2026, 3, 1));
}

TEST(PlanUploadTest, RemarksRules) {
  std::vector<UploadRow> rows = {Row(2, Text("0000123")), Row(3, Text("0000456")),
                                 Row(4, Text("0000789"))};
  rows[0].remarks = Text("＋追加工事あり");
  rows[1].remarks = Cell{Cell::Kind::kError, "#NAME?", true};  // typed "+81 90 ..."
  rows[2].remarks = Number("-5");
  UploadPlan plan = PlanUpload(ThreeLines(), rows, kToday);
  ASSERT_THAT(Describe(plan.errors),
              ElementsAre("INVALID_REMARKS remarks FORBIDDEN_CHARACTER",
                          "INVALID_REMARKS remarks FORMULA",
                          "INVALID_REMARKS remarks FORBIDDEN_CHARACTER"));
  EXPECT_EQ(ErrorMessage(plan.errors[0]), kRemarksText);
  EXPECT_EQ(plan.errors[1].row, 3);
}

TEST(PlanUploadTest, ExcelErrorValuesAreUnknownErrors) {
  std::vector<UploadRow> rows = {Row(2, Text("0000123")), Row(3, Text("0000456"))};
  rows[0].status = Text("施工完了");
  rows[0].completion_date = ErrorValue("#REF!");
  rows[0].amount = Number("1000");
  rows[1].remarks = ErrorValue("#DIV/0!");
  UploadPlan plan = PlanUpload(ThreeLines(), rows, kToday);
  ASSERT_THAT(Describe(plan.errors), ElementsAre("UNKNOWN_ERROR completion_date UNREADABLE_CELL",
                                                 "UNKNOWN_ERROR remarks UNREADABLE_CELL"));
  EXPECT_EQ(ErrorMessage(plan.errors[0]), kUnknownText);
}

TEST(PlanUploadTest, OneRowCanCarrySeveralKindsInSeedOrder) {
  std::vector<UploadRow> rows = {Row(9, Text("0000123"))};
  rows[0].status = Text("失注");
  rows[0].amount = Text("5,000");
  rows[0].lost_date = Text("2026/4/1");
  rows[0].remarks = Text("=HYPERLINK(\"x\")");
  UploadPlan plan = PlanUpload(ThreeLines(), rows, kToday);
  ASSERT_THAT(Describe(plan.errors), ElementsAre("INVALID_COMBINATION amount FIELD_NOT_ALLOWED",
                                                 "INVALID_REMARKS remarks FORBIDDEN_CHARACTER"));
  EXPECT_EQ(ErrorMessage(plan.errors[0]), kCombinationText);
  EXPECT_EQ(ErrorMessage(plan.errors[1]), kRemarksText);
  EXPECT_EQ(plan.errors[0].row, 9);
  EXPECT_EQ(plan.errors[1].row, 9);
}

TEST(PlanUploadTest, FileLevelFailures) {
  UploadPlan none = PlanUpload(ThreeLines(), {UploadRow{}, UploadRow{}}, kToday);
  ASSERT_EQ(none.errors.size(), 1u);
  EXPECT_EQ(none.errors[0].kind, ErrorKind::kUploadFailed);
  EXPECT_EQ(none.errors[0].reason, "NO_ROWS");
  EXPECT_EQ(ErrorMessage(none.errors[0]), kUploadFailedText);

  std::vector<UploadRow> many(kMaxUploadRows + 1, Row(2, Text("0000123")));
  UploadPlan too_many = PlanUpload(ThreeLines(), many, kToday);
  ASSERT_EQ(too_many.errors.size(), 1u);
  EXPECT_EQ(too_many.errors[0].reason, "TOO_MANY_ROWS");
  EXPECT_THAT(too_many.answers, IsEmpty());

  // A report without lines and a file without rows: nothing to do, nothing wrong.
  UploadPlan empty = PlanUpload({}, {}, kToday);
  EXPECT_THAT(empty.errors, IsEmpty());
  EXPECT_THAT(empty.answers, IsEmpty());
}

// ---------------------------------------------------------------------------------------------
// Period and status

TEST(PeriodTest, DeadlineIsTheEndOfTheFourthBusinessDay) {
  // 2026-05: 1 (Fri), then Golden Week 3–6 (6 = 振替休日), so 7, 8, 11.
  absl::StatusOr<Period> may = MakePeriod(absl::CivilMonth(2026, 5));
  ASSERT_TRUE(may.ok()) << may.status();
  EXPECT_EQ(may->month, absl::CivilMonth(2026, 5));
  EXPECT_EQ(may->deadline_day, absl::CivilDay(2026, 5, 11));
  EXPECT_EQ(may->deadline, absl::FromCivil(absl::CivilSecond(2026, 5, 11, 15, 0, 0),
                                           absl::UTCTimeZone()));
  // 2026-01: 1–3 closed, 4 is Sunday: 5, 6, 7, 8.
  absl::StatusOr<Period> jan = MakePeriod(absl::CivilMonth(2026, 1));
  ASSERT_TRUE(jan.ok());
  EXPECT_EQ(jan->deadline_day, absl::CivilDay(2026, 1, 8));
}

TEST(PeriodTest, MonthsOutsideTheCalendarAreRefused) {
  EXPECT_TRUE(absl::IsInvalidArgument(MakePeriod(absl::CivilMonth(1979, 12)).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(MakePeriod(absl::CivilMonth(2151, 1)).status()));
  EXPECT_TRUE(MakePeriod(absl::CivilMonth(1980, 1)).ok());
  EXPECT_TRUE(MakePeriod(absl::CivilMonth(2150, 12)).ok());
}

TEST(PeriodTest, PastDeadlineAtTheDeadlineItself) {
  const Period p = *MakePeriod(absl::CivilMonth(2026, 4));
  EXPECT_FALSE(IsPastDeadline(p, p.deadline - absl::Nanoseconds(1)));
  EXPECT_TRUE(IsPastDeadline(p, p.deadline));
  // 23:59:59 Tokyo on the deadline day is still on time.
  const absl::Time last_second = absl::FromCivil(absl::CivilSecond(2026, 4, 6, 23, 59, 59),
                                                 absl::FixedTimeZone(9 * 3600));
  EXPECT_FALSE(IsPastDeadline(p, last_second));
}

TEST(ReportStatusTest, Derivation) {
  const Period p = *MakePeriod(absl::CivilMonth(2026, 4));
  const absl::Time before = p.deadline - absl::Hours(1);
  const absl::Time after = p.deadline;
  std::vector<ReportLine> lines = ThreeLines();
  Report r;
  EXPECT_EQ(DeriveReportStatus(r, lines, p, before), ReportStatus::kNotStarted);
  lines[1].answer = Answer::kNoChange;
  EXPECT_EQ(DeriveReportStatus(r, lines, p, before), ReportStatus::kInProgress);
  EXPECT_EQ(DeriveReportStatus(r, lines, p, after), ReportStatus::kOverdue);
  r.submit_time = after + absl::Hours(5);  // late, but submitted
  EXPECT_EQ(DeriveReportStatus(r, lines, p, after + absl::Hours(6)), ReportStatus::kSubmitted);
  EXPECT_EQ(DeriveReportStatus(false, 0, p.deadline, after), ReportStatus::kOverdue);
  EXPECT_EQ(DeriveReportStatus(true, 0, p.deadline, before), ReportStatus::kSubmitted);
}

TEST(ReportStatusTest, CheckedCounting) {
  std::vector<ReportLine> lines = ThreeLines();
  EXPECT_EQ(CountChecked(lines), 0u);
  EXPECT_FALSE(AllLinesChecked(lines));
  lines[0].answer = Answer::kNoChange;
  lines[1].answer = Answer::kChanged;
  EXPECT_EQ(CountChecked(lines), 2u);
  EXPECT_FALSE(AllLinesChecked(lines));
  lines[2].answer = Answer::kNoChange;
  EXPECT_TRUE(AllLinesChecked(lines));
  EXPECT_TRUE(AllLinesChecked({}));
}

// ---------------------------------------------------------------------------------------------
// Submit, edit, reopen

TEST(SubmitTest, AttestationThenStateThenEveryLineChecked) {
  std::vector<ReportLine> lines = ThreeLines();
  Report r;
  absl::Status s = CheckSubmittable(r, lines, false);
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_EQ(PayloadOf(s, kDomainReasonPayload), "ATTESTATION_REQUIRED");
  EXPECT_EQ(PayloadOf(s, kDomainFieldPayload), "attestation");

  lines[0].answer = Answer::kNoChange;
  s = CheckSubmittable(r, lines, true);
  EXPECT_TRUE(absl::IsFailedPrecondition(s));
  EXPECT_EQ(PayloadOf(s, kDomainReasonPayload), "LINES_UNCHECKED");
  EXPECT_NE(s.message().find("2 of 3"), absl::string_view::npos) << s;

  lines[1].answer = Answer::kChanged;
  lines[2].answer = Answer::kNoChange;
  EXPECT_TRUE(CheckSubmittable(r, lines, true).ok());
  EXPECT_TRUE(CheckSubmittable(r, {}, true).ok());

  r.submit_time = absl::UnixEpoch();
  s = CheckSubmittable(r, lines, true);
  EXPECT_TRUE(absl::IsFailedPrecondition(s));
  EXPECT_EQ(PayloadOf(s, kDomainReasonPayload), "REPORT_SUBMITTED");
}

TEST(SubmitTest, SubmittedReportIsNotEditable) {
  Report r;
  EXPECT_TRUE(CheckEditable(r).ok());
  r.submit_time = absl::UnixEpoch();
  absl::Status s = CheckEditable(r);
  EXPECT_TRUE(absl::IsFailedPrecondition(s));
  EXPECT_EQ(PayloadOf(s, kDomainReasonPayload), "REPORT_SUBMITTED");
}

TEST(SubmitTest, ReopenNeedsASubmittedReportAndAReason) {
  Report r;
  r.submit_time = absl::UnixEpoch();
  EXPECT_TRUE(CheckReopen(r, "金額の訂正依頼").ok());
  EXPECT_EQ(PayloadOf(CheckReopen(r, " \u3000"), kDomainReasonPayload), "REQUIRED");
  EXPECT_TRUE(CheckReopen(r, Repeat("理", 500)).ok());
  EXPECT_EQ(PayloadOf(CheckReopen(r, Repeat("理", 501)), kDomainReasonPayload), "TOO_LONG");
  r.submit_time.reset();
  absl::Status s = CheckReopen(r, "訂正");
  EXPECT_TRUE(absl::IsFailedPrecondition(s));
  EXPECT_EQ(PayloadOf(s, kDomainReasonPayload), "NOT_SUBMITTED");
}

// ---------------------------------------------------------------------------------------------
// Diff and commission

TEST(SubmissionDiffTest, OnlyRealChangesByCaseNumber) {
  std::vector<ReportLine> lines = {Line(1, "0000900"), Line(2, "0000123"), Line(3, "0000456"),
                                   Line(4, "0000789"), Line(5, "0000001")};
  lines[0].answer = Answer::kChanged;  // completed
  lines[0].change = Completed(kToday, 200000);
  lines[1].answer = Answer::kChanged;  // only remarks
  lines[1].change.remarks = "来月着工";
  lines[2].answer = Answer::kChanged;  // repeats the snapshot: nothing to do
  lines[3].answer = Answer::kNoChange;
  // lines[4] unanswered
  std::vector<LineDiff> diff = SubmissionDiff(lines);
  ASSERT_EQ(diff.size(), 2u);
  EXPECT_EQ(diff[0].line_id, 2);
  EXPECT_EQ(diff[0].before.case_number, "0000123");
  EXPECT_THAT(diff[0].changed_fields, ElementsAre("remarks"));
  EXPECT_FALSE(diff[0].newly_completed);
  EXPECT_EQ(diff[1].line_id, 1);
  EXPECT_THAT(diff[1].changed_fields, ElementsAre("outcome", "completion_date", "amount"));
  EXPECT_TRUE(diff[1].newly_completed);
  EXPECT_EQ(diff[1].after.amount, 200000);
}

TEST(SubmissionDiffTest, LostAndExtraOrdersAndCorrections) {
  std::vector<ReportLine> lines = {Line(1, "0000123"), Line(2, "0000456", Outcome::kCompleted)};
  lines[0].answer = Answer::kChanged;
  lines[0].change = Lost(kToday);
  lines[1].snapshot.completion_date = absl::CivilDay(2026, 3, 1);
  lines[1].snapshot.amount = 100;
  lines[1].answer = Answer::kChanged;
  lines[1].change = Completed(absl::CivilDay(2026, 3, 1), 150);
  lines[1].change.extra_orders = {Extra(50)};
  std::vector<LineDiff> diff = SubmissionDiff(lines);
  ASSERT_EQ(diff.size(), 2u);
  EXPECT_THAT(diff[0].changed_fields, ElementsAre("outcome", "lost_date"));
  EXPECT_FALSE(diff[0].newly_completed);
  EXPECT_THAT(diff[1].changed_fields, ElementsAre("amount", "extra_orders"));
  EXPECT_FALSE(diff[1].newly_completed);
}

TEST(CommissionTest, FloorOfAmountTimesRate) {
  EXPECT_EQ(*Commission(1005, 1000), 100);  // 100.5 → 100
  EXPECT_EQ(*Commission(999, 333), 33);     // 33.2667 → 33
  EXPECT_EQ(*Commission(10000, 1), 1);
  EXPECT_EQ(*Commission(9999, 1), 0);
  EXPECT_EQ(*Commission(1234567, 10000), 1234567);
  EXPECT_EQ(*Commission(1234567, 0), 0);
  EXPECT_EQ(*Commission(0, 1500), 0);
  // amount × rate overflows int64 but not the 128-bit product.
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(*Commission(kMax, 10000), kMax);
  EXPECT_EQ(*Commission(kMax, 5000), kMax / 2);
  EXPECT_EQ(*Commission(kMaxAmount, 1234), 123'399'999'999);  // 123,399,999,999.8766
}

TEST(CommissionTest, OutOfRangeInputs) {
  EXPECT_TRUE(absl::IsInvalidArgument(Commission(-1, 100).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(Commission(100, -1).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(Commission(100, 10001).status()));
}

TEST(CommissionTest, ItemsForADiff) {
  LineDiff d;
  d.newly_completed = true;
  d.after = Completed(kToday, 1005);
  d.after.extra_orders = {Extra(2000), Extra(333)};
  absl::StatusOr<std::vector<CommissionItem>> items = CommissionsFor(d, 1000);
  ASSERT_TRUE(items.ok()) << items.status();
  ASSERT_EQ(items->size(), 3u);
  EXPECT_EQ((*items)[0].source, "completion");
  EXPECT_EQ((*items)[0].base_amount, 1005);
  EXPECT_EQ((*items)[0].commission, 100);
  EXPECT_EQ((*items)[1].source, "extra_orders[0]");
  EXPECT_EQ((*items)[1].commission, 200);
  EXPECT_EQ((*items)[2].source, "extra_orders[1]");
  EXPECT_EQ((*items)[2].commission, 33);

  d.newly_completed = false;  // a correction of an already completed amount
  items = CommissionsFor(d, 1000);
  ASSERT_TRUE(items.ok());
  ASSERT_EQ(items->size(), 2u);
  EXPECT_EQ((*items)[0].source, "extra_orders[0]");

  EXPECT_TRUE(absl::IsInvalidArgument(CommissionsFor(d, 20000).status()));
}

}  // namespace
}  // namespace anken::report
