#include "services/customer/csv_import.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <iconv.h>

#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace anken::customer {

void PrintTo(const ImportRowError& e, std::ostream* os) {
  *os << "{row " << e.row << ", column \"" << e.column << "\", " << e.code << ", " << e.message
      << "}";
}

namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// UTF-8 -> CP932 with the C library's iconv, independently of the code under test, so the
// fixture really is what Excel writes.
std::string ToCp932(const std::string& utf8) {
  iconv_t cd = iconv_open("CP932", "UTF-8");
  EXPECT_NE(cd, reinterpret_cast<iconv_t>(-1));
  std::string in = utf8;
  std::string out(in.size() * 2 + 16, '\0');
  char* src = in.data();
  size_t src_left = in.size();
  char* dst = out.data();
  size_t dst_left = out.size();
  const size_t rc = iconv(cd, &src, &src_left, &dst, &dst_left);
  iconv_close(cd);
  EXPECT_NE(rc, static_cast<size_t>(-1)) << "not encodable in CP932: " << utf8;
  out.resize(out.size() - dst_left);
  return out;
}

// Lines joined with CRLF, as Excel saves them.
std::string Csv(const std::vector<std::string>& lines) {
  return absl::StrCat(absl::StrJoin(lines, "\r\n"), "\r\n");
}

ImportPlan MustPlan(const std::string& bytes) {
  absl::StatusOr<ImportPlan> plan = PlanImport(bytes);
  EXPECT_TRUE(plan.ok()) << plan.status();
  return plan.ok() ? *std::move(plan) : ImportPlan{};
}

MATCHER_P3(RowErr, row, column, code, "") {
  *result_listener << "row " << arg.row << " column \"" << arg.column << "\" code " << arg.code;
  return arg.row == row && arg.column == column && arg.code == code && !arg.message.empty();
}

const char kFullHeader[] =
    "顧客コード,顧客名,フリガナ,区分,郵便番号,都道府県,住所1,住所2,電話番号,メールアドレス,"
    "法人番号,登録番号,締め日,支払月,支払日,状態,取引先,加盟店,手数料率,通知メール,担当者名,"
    "担当者フリガナ,部署,役職,担当者メール,担当者電話";

TEST(PlanImport, Utf8WithBomAndEveryColumn) {
  const std::string file = absl::StrCat(
      "\xEF\xBB\xBF",
      Csv({kFullHeader,
           "C001,国税庁,ｺｸｾﾞｲﾁｮｳ,法人,1008978,東京都,千代田区霞が関3-1-1,中央合同庁舎,"
           "03-3581-4161,info@example.go.jp,7000012050002,T7000012050002,末,翌月,末,有効,1,0,,,"
           "山田 太郎,ﾔﾏﾀﾞ ﾀﾛｳ,総務課,課長,yamada@example.go.jp,03-3581-4162",
           "C002,佐藤商店,サトウショウテン,個人事業主,060-8588,北海道,札幌市,,011-231-4111,,,"
           "T1180301018771,20日,2,10,見込,○,○,1500,report@sato.example.jp,,,,,,"}));
  const ImportPlan plan = MustPlan(file);
  EXPECT_THAT(plan.errors, IsEmpty());
  ASSERT_EQ(plan.customers.size(), 2u);
  EXPECT_EQ(plan.customer_rows, (std::vector<int>{2, 3}));

  const Customer& a = plan.customers[0];
  EXPECT_EQ(a.code, "C001");
  EXPECT_EQ(a.name, "国税庁");
  EXPECT_EQ(a.name_kana, "コクゼイチョウ");
  EXPECT_EQ(a.kind, Kind::kCorporation);
  EXPECT_EQ(a.postal_code, "100-8978");
  EXPECT_EQ(a.prefecture, "東京都");
  EXPECT_EQ(a.address_line1, "千代田区霞が関3-1-1");
  EXPECT_EQ(a.address_line2, "中央合同庁舎");
  EXPECT_EQ(a.phone, "03-3581-4161");
  EXPECT_EQ(a.email, "info@example.go.jp");
  EXPECT_EQ(a.corporate_number, "7000012050002");
  EXPECT_EQ(a.invoice_registration_number, "T7000012050002");
  EXPECT_EQ(a.billing_terms, (BillingTerms{0, 1, 0}));
  EXPECT_EQ(a.lifecycle, Lifecycle::kActive);
  EXPECT_TRUE(a.is_customer);
  EXPECT_FALSE(a.is_partner);

  const Customer& b = plan.customers[1];
  EXPECT_EQ(b.kind, Kind::kSoleProprietor);
  EXPECT_EQ(b.postal_code, "060-8588");
  EXPECT_EQ(b.billing_terms, (BillingTerms{20, 2, 10}));
  EXPECT_EQ(b.lifecycle, Lifecycle::kLead);
  EXPECT_TRUE(b.is_customer);
  EXPECT_TRUE(b.is_partner);
  EXPECT_EQ(b.partner.commission_rate_bp, 1500);
  EXPECT_EQ(b.partner.notification_email, "report@sato.example.jp");

  ASSERT_EQ(plan.contacts.size(), 1u);
  EXPECT_EQ(plan.contact_rows, (std::vector<int>{2}));
  EXPECT_EQ(plan.contacts[0].customer_code, "C001");
  const Contact& c = plan.contacts[0].contact;
  EXPECT_EQ(c.name, "山田 太郎");
  EXPECT_EQ(c.name_kana, "ヤマダ タロウ");
  EXPECT_EQ(c.department, "総務課");
  EXPECT_EQ(c.title, "課長");
  EXPECT_EQ(c.email, "yamada@example.go.jp");
  EXPECT_EQ(c.phone, "03-3581-4162");
  EXPECT_THAT(plan.referenced_codes, IsEmpty());
}

TEST(PlanImport, EnglishHeadersInAnyOrderCaseAndWidth) {
  const ImportPlan plan = MustPlan(Csv({" Postal_Code ,NAME,ｋｉｎｄ,　code　,is_partner,"
                                        "commission_rate_bp,notification_email,closing_day",
                                        "100-0001,Acme,individual,A-1,1,250,n@acme.example,15",
                                        "1000002,Beta,SOLE_PROPRIETOR,,0,,,月末"}));
  EXPECT_THAT(plan.errors, IsEmpty());
  ASSERT_EQ(plan.customers.size(), 2u);
  EXPECT_EQ(plan.customers[0].code, "A-1");
  EXPECT_EQ(plan.customers[0].kind, Kind::kIndividual);
  EXPECT_EQ(plan.customers[0].postal_code, "100-0001");
  EXPECT_TRUE(plan.customers[0].is_partner);
  EXPECT_TRUE(plan.customers[0].is_customer);  // no 取引先 column: the default
  EXPECT_EQ(plan.customers[0].partner.commission_rate_bp, 250);
  EXPECT_EQ(plan.customers[0].billing_terms.closing_day, 15);
  // A customer without a code is fine: the store generates one.
  EXPECT_EQ(plan.customers[1].code, "");
  EXPECT_EQ(plan.customers[1].kind, Kind::kSoleProprietor);
  EXPECT_EQ(plan.customers[1].postal_code, "100-0002");
  EXPECT_FALSE(plan.customers[1].is_partner);
  EXPECT_EQ(plan.customers[1].billing_terms.closing_day, 0);
}

TEST(PlanImport, Cp932FileAsExcelWritesIt) {
  const std::string utf8 = Csv({"顧客コード,顧客名,フリガナ,住所1,メールアドレス",
                                "K1,髙橋商店,ｶﾌﾞｼｷｶﾞｲｼｬ,渋谷区①番地～,info@takahashi.example.jp"});
  const std::string sjis = ToCp932(utf8);
  // Really CP932: single-byte half-width kana, and 髙 and ① from the Microsoft extensions.
  EXPECT_NE(sjis.find("\xB6\xCC\xDE\xBC\xB7\xB6\xDE\xB2\xBC\xAC"), std::string::npos);  // ｶﾌﾞｼｷｶﾞｲｼｬ
  EXPECT_NE(sjis.find("\xFB\xFC"), std::string::npos);  // 髙
  EXPECT_NE(sjis.find("\x87\x40"), std::string::npos);  // ①
  ASSERT_NE(sjis, utf8);

  const ImportPlan plan = MustPlan(sjis);
  EXPECT_THAT(plan.errors, IsEmpty());
  ASSERT_EQ(plan.customers.size(), 1u);
  EXPECT_EQ(plan.customers[0].code, "K1");
  EXPECT_EQ(plan.customers[0].name, "髙橋商店");
  EXPECT_EQ(plan.customers[0].name_kana, "カブシキガイシャ");
  EXPECT_EQ(plan.customers[0].address_line1, "渋谷区①番地～");  // addresses keep their width
  EXPECT_EQ(plan.customers[0].email, "info@takahashi.example.jp");
}

TEST(PlanImport, Cp932ThousandRowsWithOneBadRow) {
  std::vector<std::string> lines = {"顧客コード,顧客名,フリガナ,区分,郵便番号,都道府県,電話番号"};
  const char* const prefectures[] = {"東京都", "大阪府", "北海道", "沖縄県", "京都府"};
  constexpr int kBadDataRow = 537;
  for (int i = 1; i <= 1000; ++i) {
    const std::string postal = i == kBadDataRow ? "123-45678" : absl::StrCat(100 + i % 900, "-0001");
    lines.push_back(absl::StrCat("C", 100000 + i, ",株式会社髙木", i, ",ｶﾌﾞｼｷｶﾞｲｼｬﾀｶｷﾞ,",
                                 i % 3 == 0 ? "個人" : "法人", ",", postal, ",",
                                 prefectures[i % 5], ",03-1234-", 1000 + i));
  }
  const std::string sjis = ToCp932(Csv(lines));
  const ImportPlan plan = MustPlan(sjis);
  ASSERT_EQ(plan.errors.size(), 1u);
  // The header is line 1, so data row 537 is line 538.
  EXPECT_THAT(plan.errors[0], RowErr(kBadDataRow + 1, "郵便番号", "INVALID_POSTAL_CODE"));
  EXPECT_THAT(plan.errors[0].message, HasSubstr("郵便番号"));
  ASSERT_EQ(plan.customers.size(), 999u);
  ASSERT_EQ(plan.customer_rows.size(), 999u);
  EXPECT_EQ(plan.customer_rows.front(), 2);
  EXPECT_EQ(plan.customer_rows.back(), 1001);
  for (size_t k = 0; k < plan.customers.size(); ++k) {
    EXPECT_NE(plan.customer_rows[k], kBadDataRow + 1);
    EXPECT_EQ(plan.customers[k].name_kana, "カブシキガイシャタカギ");
  }
  EXPECT_EQ(plan.customers[0].name, "株式会社髙木1");
  EXPECT_EQ(plan.customers[2].kind, Kind::kIndividual);
  EXPECT_EQ(plan.customers[998].code, "C101000");
}

TEST(PlanImport, QuotedFieldsWithCommasNewlinesAndQuotes) {
  const std::string file =
      "顧客コード,顧客名,住所1,住所2,電話番号\r\n"
      "Q1,\"株式会社\"\"エー, ビー\"\"\",\"東京都港区\n芝公園\",\"3F, 301\",03-1111-2222\r\n"
      "Q2,\"普通\",,,\"03-xxxx\"\r\n";
  const ImportPlan plan = MustPlan(file);
  ASSERT_EQ(plan.customers.size(), 1u);
  EXPECT_EQ(plan.customers[0].name, "株式会社\"エー, ビー\"");
  EXPECT_EQ(plan.customers[0].address_line1, "東京都港区\n芝公園");
  EXPECT_EQ(plan.customers[0].address_line2, "3F, 301");
  EXPECT_EQ(plan.customer_rows, (std::vector<int>{2}));
  // The first record spans lines 2 and 3, so the second starts on line 4.
  EXPECT_THAT(plan.errors, ElementsAre(RowErr(4, "電話番号", "INVALID_PHONE")));
}

TEST(PlanImport, FilesThatCannotBeReadAreInvalidArgument) {
  const struct {
    std::string bytes;
    std::string in_message;
  } cases[] = {
      {Csv({"顧客名,ふりがな", "山田,やまだ"}), "ふりがな"},  // unknown header, named
      {Csv({"顧客名,name", "山田,山田"}), "name"},            // the same column twice
      {Csv({"顧客名,電話番号,顧客名", "a,1,b"}), "顧客名"},
      {Csv({"郵便番号,電話番号", "100-0001,03-1234-5678"}), "顧客名"},  // no name or code
      {Csv({"顧客名,,電話番号", "a,,1"}), ""},                          // a blank header cell
      {"", ""},
      {"\r\n\r\n", ""},
      {Csv({"顧客名", "\"unterminated"}), "line 2"},
      {std::string("\x81\x20\xFF\xFE", 4), ""},  // neither UTF-8 nor CP932
      {std::string("\xEF\xBB\xBF顧客名\n") + "\xFF", "BOM"},  // a BOM, then not UTF-8
  };
  for (const auto& c : cases) {
    absl::StatusOr<ImportPlan> plan = PlanImport(c.bytes);
    EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument) << c.bytes;
    EXPECT_THAT(std::string(plan.status().message()), HasSubstr(c.in_message)) << c.bytes;
  }
}

TEST(PlanImport, HeaderOnlyAndTrailingBlankHeaderCellsAreFine) {
  EXPECT_THAT(MustPlan(Csv({"顧客名,電話番号"})).customers, IsEmpty());
  const ImportPlan plan = MustPlan(Csv({"顧客名,電話番号,,", "山田,03-1234-5678,,"}));
  EXPECT_THAT(plan.errors, IsEmpty());
  EXPECT_EQ(plan.customers.size(), 1u);
}

TEST(PlanImport, BlankLinesAreSkippedButCounted) {
  const ImportPlan plan = MustPlan(Csv({"顧客名,郵便番号", "", "a,100-0001", ",", " , 　",
                                        "b,bad", ""}));
  ASSERT_EQ(plan.customers.size(), 1u);
  EXPECT_EQ(plan.customer_rows, (std::vector<int>{3}));
  EXPECT_THAT(plan.errors, ElementsAre(RowErr(6, "郵便番号", "INVALID_POSTAL_CODE")));
}

TEST(PlanImport, AtMostTenThousandDataRows) {
  std::vector<std::string> lines = {"顧客名"};
  for (int i = 0; i < 10000; ++i) lines.push_back(absl::StrCat("顧客", i));
  const ImportPlan plan = MustPlan(Csv(lines));
  EXPECT_EQ(plan.customers.size(), 10000u);
  EXPECT_THAT(plan.errors, IsEmpty());

  lines.push_back("one too many");
  absl::StatusOr<ImportPlan> too_many = PlanImport(Csv(lines));
  EXPECT_EQ(too_many.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(too_many.status().message()), HasSubstr("10000"));
}

TEST(PlanImport, ContactRowsReferToCodesInTheFileOrExisting) {
  const ImportPlan plan = MustPlan(Csv({
      "顧客コード,顧客名,担当者名,担当者フリガナ,担当者メール",
      "N1,新規商事,一郎,ｲﾁﾛｳ,ichiro@n1.example.jp",  // customer and its first contact
      "N1,,二郎,ｼﾞﾛｳ,jiro@n1.example.jp",             // another contact of N1
      "OLD7,,三郎,,",                                   // a customer already in the database
      "LATER,,四郎,,",                                  // a customer further down the file
      "OLD7,,五郎,,",
      "LATER,後から商事,,,",
  }));
  EXPECT_THAT(plan.errors, IsEmpty());
  ASSERT_EQ(plan.customers.size(), 2u);
  EXPECT_EQ(plan.customers[0].code, "N1");
  EXPECT_EQ(plan.customers[1].code, "LATER");
  EXPECT_EQ(plan.customer_rows, (std::vector<int>{2, 7}));
  ASSERT_EQ(plan.contacts.size(), 5u);
  EXPECT_EQ(plan.contact_rows, (std::vector<int>{2, 3, 4, 5, 6}));
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"N1", "一郎"}, {"N1", "二郎"}, {"OLD7", "三郎"}, {"LATER", "四郎"}, {"OLD7", "五郎"}};
  for (size_t k = 0; k < expected.size(); ++k) {
    EXPECT_EQ(plan.contacts[k].customer_code, expected[k].first);
    EXPECT_EQ(plan.contacts[k].contact.name, expected[k].second);
  }
  EXPECT_EQ(plan.contacts[1].contact.name_kana, "ジロウ");
  // Only OLD7 needs checking against the database.
  EXPECT_EQ(plan.referenced_codes, (std::vector<std::string>{"OLD7"}));
}

TEST(PlanImport, ContactRowProblems) {
  const ImportPlan plan = MustPlan(Csv({
      "顧客コード,顧客名,担当者名,担当者メール,担当者電話,郵便番号",
      ",新規商事,一郎,,,",         // contact on a customer row without a code
      "N2,,,bad@,,",               // contact without a name, bad e-mail
      ",,六郎,,,",                 // contact for no customer
      "N3,,七郎,,12,100-0001",     // customer columns without a name; bad phone
      "N4,,,,,",                   // just a code
      "bad code,,八郎,,,",         // a contact for an impossible code
  }));
  EXPECT_THAT(plan.customers, IsEmpty());
  EXPECT_THAT(plan.contacts, IsEmpty());
  EXPECT_THAT(plan.referenced_codes, IsEmpty());
  EXPECT_THAT(plan.errors, ElementsAre(RowErr(2, "顧客コード", "REQUIRED"),
                                       RowErr(3, "担当者名", "REQUIRED"),
                                       RowErr(3, "担当者メール", "INVALID_EMAIL"),
                                       RowErr(4, "顧客コード", "REQUIRED"),
                                       RowErr(5, "顧客名", "REQUIRED"),
                                       RowErr(6, "顧客名", "REQUIRED"),
                                       RowErr(7, "顧客コード", "INVALID_CUSTOMER_CODE")));
}

TEST(PlanImport, DuplicateCodesInTheFile) {
  const ImportPlan plan =
      MustPlan(Csv({"顧客コード,顧客名", "D1,一番", "D2,二番", "D1,三番", "Ｄ１,四番"}));
  ASSERT_EQ(plan.customers.size(), 2u);
  EXPECT_EQ(plan.customers[0].name, "一番");
  EXPECT_EQ(plan.customers[1].name, "二番");
  // Ｄ１ is D1 once normalised.
  EXPECT_THAT(plan.errors, ElementsAre(RowErr(4, "顧客コード", "DUPLICATE_CODE"),
                                       RowErr(5, "顧客コード", "DUPLICATE_CODE")));
  EXPECT_THAT(plan.errors[0].message, HasSubstr("2"));  // names the first row
}

TEST(PlanImport, TooManyColumns) {
  const ImportPlan plan = MustPlan(Csv({"顧客名,電話番号", "a,03-1234-5678,,", "b,03-1234-5678,x"}));
  ASSERT_EQ(plan.customers.size(), 1u);
  EXPECT_EQ(plan.customers[0].name, "a");
  EXPECT_THAT(plan.errors, ElementsAre(RowErr(3, "", "TOO_MANY_COLUMNS")));
}

TEST(PlanImport, EachFieldErrorLandsOnTheColumnAsWritten) {
  struct Case {
    const char* header;  // as written, after the name column
    const char* value;
    const char* code;
  };
  const Case cases[] = {
      {"郵便番号", "12-34567", "INVALID_POSTAL_CODE"},
      {"prefecture", "東京", "INVALID_PREFECTURE"},
      {"都道府県", "Tokyo", "INVALID_PREFECTURE"},
      {"phone", "phone me", "INVALID_PHONE"},
      {"メールアドレス", "a@b", "INVALID_EMAIL"},
      {"フリガナ", "ふりがな", "INVALID_KANA"},
      {"区分", "会社", "INVALID_KIND"},
      {"法人番号", "7000012050003", "INVALID_CORPORATE_NUMBER"},
      {"登録番号", "T7000012050003", "INVALID_REGISTRATION_NUMBER"},
      {"invoice_registration_number", "7000012050002", "INVALID_REGISTRATION_NUMBER"},
      {"締め日", "二十日", "INVALID_NUMBER"},
      {"締め日", "31", "OUT_OF_RANGE"},
      {"支払月", "来月", "INVALID_NUMBER"},
      {"payment_month_offset", "13", "OUT_OF_RANGE"},
      {"支払日", "-1", "OUT_OF_RANGE"},
      {"状態", "休止", "INVALID_LIFECYCLE"},
      {"状態", "inactive", "INVALID_LIFECYCLE"},  // only leads and active customers import
      {"取引先", "はい", "INVALID_FLAG"},
      {"取引先", "0", "ROLE_REQUIRED"},
      {"顧客コード", "C 1", "INVALID_CUSTOMER_CODE"},
      {"担当者メール", "x@", "INVALID_EMAIL"},
      {"担当者電話", "1", "INVALID_PHONE"},
      {"担当者フリガナ", "タロウ1", "INVALID_KANA"},
  };
  for (const Case& c : cases) {
    std::string extra;
    // Contact columns need a contact name and (for a new customer) a code to be valid rows.
    const bool contact = absl::string_view(c.header).rfind("担当者", 0) == 0;
    const std::string header =
        contact ? absl::StrCat("顧客名,顧客コード,担当者名,", c.header)
                : absl::StrCat("顧客名,", c.header);
    const std::string row =
        contact ? absl::StrCat("テスト,T1,担当,", c.value) : absl::StrCat("テスト,", c.value);
    const ImportPlan plan = MustPlan(Csv({header, row}));
    EXPECT_THAT(plan.errors, ElementsAre(RowErr(2, c.header, c.code))) << c.header << "=" << c.value;
    EXPECT_THAT(plan.customers, IsEmpty()) << c.header;
    EXPECT_THAT(plan.contacts, IsEmpty()) << c.header;
  }
}

TEST(PlanImport, CrossFieldErrorsNameTheRightColumn) {
  const ImportPlan plan = MustPlan(Csv({
      "顧客名,区分,法人番号,登録番号,加盟店,手数料率,通知メール,支払月,支払日",
      "a,個人,7000012050002,,,,,,",                      // corporate number on a person
      "b,法人,7000012050002,T1180301018771,,,,,",         // someone else's registration no.
      "c,法人,,,1,10001,,,",                              // partner: rate, missing e-mail
      "d,法人,,,1,abc,p@d.example.jp,,",                   // rate not a number
      "e,法人,,,,,,当月,5",                                // due before the month-end close
  }));
  EXPECT_THAT(plan.errors,
              ElementsAre(RowErr(2, "法人番号", "CORPORATE_NUMBER_NOT_CORPORATION"),
                          RowErr(3, "登録番号", "REGISTRATION_NUMBER_MISMATCH"),
                          RowErr(4, "手数料率", "OUT_OF_RANGE"),
                          RowErr(4, "通知メール", "REQUIRED"),
                          RowErr(5, "手数料率", "INVALID_NUMBER"),
                          RowErr(6, "支払日", "PAYMENT_BEFORE_CLOSING")));
  EXPECT_THAT(plan.customers, IsEmpty());
}

TEST(PlanImport, ErrorsOnColumnsMissingFromTheFileStillSayWhich) {
  // 加盟店 without 通知メール: the e-mail is required, but there is no column to point at.
  const ImportPlan plan = MustPlan(Csv({"顧客名,加盟店", "a,1"}));
  ASSERT_EQ(plan.errors.size(), 1u);
  EXPECT_THAT(plan.errors[0], RowErr(2, "", "REQUIRED"));
  EXPECT_THAT(plan.errors[0].message, HasSubstr("通知メール"));
}

TEST(PlanImport, FlagsKindsLifecyclesAndDays) {
  const ImportPlan plan = MustPlan(Csv({
      "顧客名,区分,状態,取引先,加盟店,通知メール,締め日,支払月,支払日",
      "a,corporation,lead,1,,,0,0,0",
      "b,個人,有効,○,〇,x@b.example.jp,20,翌々月,末",
      "c,Individual,見込,,1,x@c.example.jp,月末,当月,月末",
      "d,,,true,false,,25日,12,28日",
  }));
  EXPECT_THAT(plan.errors, IsEmpty());
  ASSERT_EQ(plan.customers.size(), 4u);
  EXPECT_EQ(plan.customers[0].kind, Kind::kCorporation);
  EXPECT_EQ(plan.customers[0].lifecycle, Lifecycle::kLead);
  EXPECT_EQ(plan.customers[0].billing_terms, (BillingTerms{0, 0, 0}));
  EXPECT_TRUE(plan.customers[0].is_customer);
  EXPECT_FALSE(plan.customers[0].is_partner);
  EXPECT_EQ(plan.customers[1].kind, Kind::kIndividual);
  EXPECT_EQ(plan.customers[1].lifecycle, Lifecycle::kActive);
  EXPECT_TRUE(plan.customers[1].is_customer);
  EXPECT_TRUE(plan.customers[1].is_partner);
  EXPECT_EQ(plan.customers[1].billing_terms, (BillingTerms{20, 2, 0}));
  EXPECT_EQ(plan.customers[2].kind, Kind::kIndividual);
  EXPECT_EQ(plan.customers[2].lifecycle, Lifecycle::kLead);
  EXPECT_FALSE(plan.customers[2].is_customer);  // the column is there and blank: no
  EXPECT_TRUE(plan.customers[2].is_partner);
  EXPECT_EQ(plan.customers[2].billing_terms, (BillingTerms{0, 0, 0}));
  EXPECT_EQ(plan.customers[3].kind, Kind::kCorporation);  // blank: the default
  EXPECT_EQ(plan.customers[3].lifecycle, Lifecycle::kActive);
  EXPECT_EQ(plan.customers[3].billing_terms, (BillingTerms{25, 12, 28}));
}

TEST(PlanImport, AnUnparsableCellIsReportedOnce) {
  // An unknown 区分 must not also trigger the corporate-number rules on a guessed kind.
  const ImportPlan plan =
      MustPlan(Csv({"顧客名,区分,法人番号,締め日", "a,会社,7000012050002,x", "b,個人,,"}));
  EXPECT_THAT(plan.errors, ElementsAre(RowErr(2, "区分", "INVALID_KIND"),
                                       RowErr(2, "締め日", "INVALID_NUMBER")));
  ASSERT_EQ(plan.customers.size(), 1u);
  EXPECT_EQ(plan.customers[0].name, "b");
}

}  // namespace
}  // namespace anken::customer
