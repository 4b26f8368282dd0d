#include "services/customer/customer_rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace anken::customer {

// Readable failures (found by argument-dependent lookup, so outside the unnamed namespace).
void PrintTo(const FieldError& e, std::ostream* os) {
  *os << "{" << e.field << ", " << e.reason << ", " << e.description << "}";
}

namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// ---------------------------------------------------------------------------------------------
// Width normalisation and search keys.

TEST(NormalizeWidth, EveryPlainHalfWidthKanaBecomesFullWidth) {
  EXPECT_EQ(NormalizeWidth("ｦｧｨｩｪｫｬｭｮｯｰｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜﾝ"),
            "ヲァィゥェォャュョッーアイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホ"
            "マミムメモヤユヨラリルレロワン");
}

TEST(NormalizeWidth, VoicedAndSemiVoicedMarksCombine) {
  EXPECT_EQ(NormalizeWidth("ｶﾞｷﾞｸﾞｹﾞｺﾞｻﾞｼﾞｽﾞｾﾞｿﾞﾀﾞﾁﾞﾂﾞﾃﾞﾄﾞﾊﾞﾋﾞﾌﾞﾍﾞﾎﾞ"),
            "ガギグゲゴザジズゼゾダヂヅデドバビブベボ");
  EXPECT_EQ(NormalizeWidth("ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ"), "パピプペポ");
  EXPECT_EQ(NormalizeWidth("ｳﾞｧｲｵﾘﾝ"), "ヴァイオリン");
  EXPECT_EQ(NormalizeWidth("ﾜﾞｦﾞ"), "ヷヺ");
  EXPECT_EQ(NormalizeWidth("ｶﾌﾞｼｷｶﾞｲｼｬ"), "カブシキガイシャ");
}

TEST(NormalizeWidth, MarksThatCannotCombineStayAsSpacingMarks) {
  EXPECT_EQ(NormalizeWidth("ﾞ"), "゛");
  EXPECT_EQ(NormalizeWidth("ｱﾞ"), "ア゛");    // ア has no voiced form
  EXPECT_EQ(NormalizeWidth("ｶﾟ"), "カ゜");    // only the ハ row takes ﾟ
  EXPECT_EQ(NormalizeWidth("ｯﾞ"), "ッ゛");    // small ッ is not ツ
  EXPECT_EQ(NormalizeWidth("Aﾞ"), "A゛");
  EXPECT_EQ(NormalizeWidth("ｶﾞﾞ"), "ガ゛");  // ガ is voiced already
}

TEST(NormalizeWidth, HalfWidthPunctuation) {
  EXPECT_EQ(NormalizeWidth("｡｢｣､･"), "。「」、・");
}

TEST(NormalizeWidth, FullWidthAsciiAndSpaceBecomeHalfWidth) {
  EXPECT_EQ(NormalizeWidth("ＡＢＣ　ａｂｃ　０１２３４５６７８９"), "ABC abc 0123456789");
  EXPECT_EQ(NormalizeWidth("！＂＃＄％＆＇（）＊＋，－．／：；＜＝＞？＠［＼］＾＿｀｛｜｝～"),
            "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~");
}

TEST(NormalizeWidth, OtherCharactersAreKept) {
  const std::string text = "漢字 ひらがな カタカナ ー 〒 ￥ ① 髙 😀 é";
  EXPECT_EQ(NormalizeWidth(text), text);
  EXPECT_EQ(NormalizeWidth(""), "");
}

TEST(NormalizeWidth, InvalidUtf8BytesAreKeptAsTheyAre) {
  const std::string broken = std::string("ｱ\xFF") + "ｲ\xE3\x81" + "\xC0\xAF" + "\xED\xA0\x80";
  EXPECT_EQ(NormalizeWidth(broken),
            std::string("ア\xFF") + "イ\xE3\x81" + "\xC0\xAF" + "\xED\xA0\x80");
  // A stray byte between a kana and its mark keeps them apart.
  EXPECT_EQ(NormalizeWidth("ｶ\xFFﾞ"), "カ\xFF゛");
}

TEST(NormalizeWidth, IsIdempotent) {
  for (const std::string text :
       {"ｶﾞｷﾞ ﾊﾟ ｳﾞ ｰ ｧ ｯ ｡｢｣､･", "ＡＢＣ　１２３", "ﾞﾟｱﾞ", "カﾞ", "a\xFF\xFEｶ", "ガ゛"}) {
    const std::string once = NormalizeWidth(text);
    EXPECT_EQ(NormalizeWidth(once), once) << text;
  }
}

TEST(SearchKey, MatchesKanaInEitherWidthAndScript) {
  const std::string full = SearchKey("カブシキガイシャ");
  EXPECT_EQ(full, "カブシキガイシャ");
  EXPECT_EQ(SearchKey("ｶﾌﾞｼｷｶﾞｲｼｬ"), full);
  EXPECT_EQ(SearchKey("かぶしきがいしゃ"), full);
  EXPECT_EQ(SearchKey("ぁゖ"), "ァヶ");  // the whole hiragana range U+3041..U+3096
}

TEST(SearchKey, IgnoresCaseWidthSpacesAndHyphensButNotTheLongVowel) {
  EXPECT_EQ(SearchKey("03-1234-5678"), "0312345678");
  EXPECT_EQ(SearchKey("０３－１２３４－５６７８"), "0312345678");
  EXPECT_EQ(SearchKey("03‐1234−5678"), "0312345678");  // U+2010, U+2212
  EXPECT_EQ(SearchKey("ＡＢＣ　Trading Co"), "abctradingco");
  EXPECT_EQ(SearchKey("コーヒー"), "コーヒー");
  EXPECT_EQ(SearchKey("ｺｰﾋｰ"), "コーヒー");
  EXPECT_NE(SearchKey("コーヒー"), SearchKey("コヒ"));
}

TEST(IsKatakana, AcceptsKatakanaLongVowelSpacesAndMiddleDot) {
  EXPECT_TRUE(IsKatakana("カブシキガイシャ"));
  EXPECT_TRUE(IsKatakana("ｶﾌﾞｼｷｶﾞｲｼｬ"));  // judged after NormalizeWidth
  EXPECT_TRUE(IsKatakana("ヤマダ　タロウ"));
  EXPECT_TRUE(IsKatakana("ヤマダ タロウ"));
  EXPECT_TRUE(IsKatakana("エヌ・ティ・ティ"));
  EXPECT_TRUE(IsKatakana("ｺｰﾋｰ"));
  EXPECT_TRUE(IsKatakana("ヴァヵヶ"));
  EXPECT_TRUE(IsKatakana(""));
}

TEST(IsKatakana, RejectsEverythingElse) {
  EXPECT_FALSE(IsKatakana("かぶしき"));
  EXPECT_FALSE(IsKatakana("山田"));
  EXPECT_FALSE(IsKatakana("ヤマダ1"));
  EXPECT_FALSE(IsKatakana("ABC"));
  EXPECT_FALSE(IsKatakana("ヤマダ-タロウ"));
  EXPECT_FALSE(IsKatakana("ア゛"));
  EXPECT_FALSE(IsKatakana("ヤマダ\xFF"));
}

// ---------------------------------------------------------------------------------------------
// Postal codes and prefectures.

TEST(NormalizePostalCode, AcceptedForms) {
  EXPECT_EQ(NormalizePostalCode("1000001"), "100-0001");
  EXPECT_EQ(NormalizePostalCode("100-0001"), "100-0001");
  EXPECT_EQ(NormalizePostalCode("１００－０００１"), "100-0001");
  EXPECT_EQ(NormalizePostalCode("１０００００１"), "100-0001");
  EXPECT_EQ(NormalizePostalCode(" 100-0001　"), "100-0001");
  EXPECT_EQ(NormalizePostalCode("〒100-0001"), "100-0001");
  EXPECT_EQ(NormalizePostalCode("〒 060-8588"), "060-8588");
  EXPECT_EQ(NormalizePostalCode("100ー0001"), "100-0001");  // IME long vowel for a hyphen
}

TEST(NormalizePostalCode, RejectedForms) {
  for (const char* bad : {"", "100", "100000", "10000011", "100-00011", "10-00001", "1000-001",
                          "100--0001", "100 0001", "abc-defg", "100-000a", "-1000001",
                          "1000001-", "〒", "100-0001〒", "1,000,001", "+1000001"}) {
    EXPECT_EQ(NormalizePostalCode(bad), absl::nullopt) << bad;
  }
}

TEST(IsPrefecture, AllFortySevenWrittenInFull) {
  const std::vector<std::string> all = {
      "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県",
      "栃木県", "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県",
      "石川県", "福井県", "山梨県", "長野県", "岐阜県", "静岡県", "愛知県", "三重県",
      "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県", "鳥取県", "島根県",
      "岡山県", "広島県", "山口県", "徳島県", "香川県", "愛媛県", "高知県", "福岡県",
      "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県"};
  ASSERT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 47u);
  for (const std::string& p : all) EXPECT_TRUE(IsPrefecture(p)) << p;
}

TEST(IsPrefecture, ShortFormsAndOthersAreRejected) {
  for (const char* bad : {"", "東京", "大阪", "北海道庁", "東京県", "大阪県", "京都都", "Tokyo",
                          " 東京都", "東京都 ", "東京都港区", "神奈川"}) {
    EXPECT_FALSE(IsPrefecture(bad)) << bad;
  }
}

// ---------------------------------------------------------------------------------------------
// Corporate and registration numbers.

// Published corporate numbers (国税庁法人番号公表サイト).
const char* const kRealCorporateNumbers[] = {
    "7000012050002",  // 国税庁
    "1180301018771",  // トヨタ自動車株式会社
    "5010401067252",  // ソニーグループ株式会社
    "7010001064648",  // 日本電信電話株式会社
};

TEST(CorporateNumber, RealPublishedNumbersAreValid) {
  for (const char* n : kRealCorporateNumbers) EXPECT_TRUE(IsValidCorporateNumber(n)) << n;
}

TEST(CorporateNumber, CheckDigitFollowsTheRule) {
  // 000012050002 from the right: 2·1 + 0·2 + 0·1 + 0·2 + 5·1 + 0·2 + 2·1 + 1·2 = 11;
  // 9 - 11 mod 9 = 7.
  EXPECT_TRUE(IsValidCorporateNumber("7000012050002"));
  // All zeros: 9 - 0 = 9.
  EXPECT_TRUE(IsValidCorporateNumber("9000000000000"));
  EXPECT_FALSE(IsValidCorporateNumber("0000000000000"));
  // Weights alternate starting with 1 at the right: 1 in the last place gives 8, 1 in the one
  // before gives 7.
  EXPECT_TRUE(IsValidCorporateNumber("8000000000001"));
  EXPECT_TRUE(IsValidCorporateNumber("7000000000010"));
  EXPECT_FALSE(IsValidCorporateNumber("8000000000010"));
}

TEST(CorporateNumber, EverySingleDigitCorruptionIsRejectedUnlessItShiftsTheSumByNine) {
  // The rule works modulo 9 with weights 1 and 2, so changing a base digit by ±9 (0 <-> 9)
  // keeps the sum's residue: that is the one blind spot of the published algorithm. Every
  // other single-digit change, and every change of the check digit, must be rejected.
  for (const std::string original : {"7000012050002", "1180301018771"}) {
    int rejected = 0;
    for (size_t pos = 0; pos < original.size(); ++pos) {
      for (char d = '0'; d <= '9'; ++d) {
        if (d == original[pos]) continue;
        std::string corrupted = original;
        corrupted[pos] = d;
        const bool blind_spot = pos > 0 && (d - original[pos] == 9 || original[pos] - d == 9);
        EXPECT_EQ(IsValidCorporateNumber(corrupted), blind_spot) << corrupted;
        if (!blind_spot) ++rejected;
      }
    }
    EXPECT_GE(rejected, 13 * 9 - 12) << original;
  }
}

TEST(CorporateNumber, FormatIsStrict) {
  for (const char* bad : {"", "700001205000", "70000120500020", "7000012050002 ", " 7000012050002",
                          "7000-012050002", "７００００１２０５０００２", "T7000012050002",
                          "700001205000a"}) {
    EXPECT_FALSE(IsValidCorporateNumber(bad)) << bad;
  }
}

TEST(RegistrationNumber, TAndThirteenDigitsWithCheckDigit) {
  for (const char* n : kRealCorporateNumbers) {
    EXPECT_TRUE(IsValidInvoiceRegistrationNumber(absl::StrCat("T", n))) << n;
    EXPECT_FALSE(IsValidInvoiceRegistrationNumber(n)) << n;
  }
  for (const char* bad : {"T", "T700001205000", "T70000120500021", "T7000012050003",
                          "t7000012050002", "T 7000012050002", "TT7000012050002",
                          "T7000012050002 ", "S7000012050002"}) {
    EXPECT_FALSE(IsValidInvoiceRegistrationNumber(bad)) << bad;
  }
}

// ---------------------------------------------------------------------------------------------
// Phone, e-mail, code.

TEST(IsValidPhone, Forms) {
  for (const char* ok : {"03-1234-5678", "0312345678", "(03) 1234-5678", "+81-3-1234-5678",
                         "090 1234 5678", "123456", "12345678901234567890"}) {
    EXPECT_TRUE(IsValidPhone(ok)) << ok;
  }
  for (const char* bad : {"", "12345", "123456789012345678901", "03-1234-567x", "03.1234.5678",
                          "++81312345678", "81+312345678", "03-1234-5678 内線12", "------",
                          "０３１２３４５６７８"}) {
    EXPECT_FALSE(IsValidPhone(bad)) << bad;
  }
}

TEST(IsValidEmail, Forms) {
  for (const char* ok : {"taro@example.co.jp", "a.b+c_d-e@sub-domain.example.com", "x@ab.cd",
                         "USER@EXAMPLE.JP"}) {
    EXPECT_TRUE(IsValidEmail(ok)) << ok;
  }
  for (const char* bad : {"", "taro", "taro@", "@example.com", "taro@example", "taro@@example.com",
                          "ta ro@example.com", "taro@exa mple.com", "taro@example..com",
                          "taro@.example.com", "taro@example.com.", ".taro@example.com",
                          "taro.@example.com", "ta..ro@example.com", "taro@-example.com",
                          "taro@example-.com", "taro@example.c", "taro@example.123",
                          "a@b@example.com", "taro@exam_ple.com", "太郎@example.com",
                          "taro@例え.jp", "ta(ro)@example.com"}) {
    EXPECT_FALSE(IsValidEmail(bad)) << bad;
  }
  const std::string domain = "@example.com";
  EXPECT_TRUE(IsValidEmail(std::string(64, 'a') + domain));
  EXPECT_FALSE(IsValidEmail(std::string(65, 'a') + domain));  // local part ≤ 64
  std::string long_domain = "a@";
  while (long_domain.size() < 260) long_domain += "abcdefghi.";
  long_domain += "jp";
  EXPECT_GT(long_domain.size(), 254u);
  EXPECT_FALSE(IsValidEmail(long_domain));
}

TEST(IsValidCustomerCode, Forms) {
  for (const char* ok : {"C000001", "a", "ABC-123_x", "12345678901234567890"}) {
    EXPECT_TRUE(IsValidCustomerCode(ok)) << ok;
  }
  for (const char* bad : {"", "123456789012345678901", "C 1", "C.1", "顧客1", "Ｃ１", "C/1"}) {
    EXPECT_FALSE(IsValidCustomerCode(bad)) << bad;
  }
}

// ---------------------------------------------------------------------------------------------
// NormalizeAndValidate.

MATCHER_P2(FieldErr, field, reason, "") {
  *result_listener << "field " << arg.field << " reason " << arg.reason;
  return arg.field == field && arg.reason == reason && !arg.description.empty();
}

Customer GoodCorporation() {
  Customer c;
  c.code = "C000123";
  c.name = "国税庁";
  c.name_kana = "コクゼイチョウ";
  c.kind = Kind::kCorporation;
  c.postal_code = "100-8978";
  c.prefecture = "東京都";
  c.address_line1 = "千代田区霞が関3-1-1";
  c.phone = "03-3581-4161";
  c.email = "info@example.go.jp";
  c.corporate_number = "7000012050002";
  c.invoice_registration_number = "T7000012050002";
  return c;
}

TEST(ValidateCustomer, AGoodCustomerPassesUnchanged) {
  Customer c = GoodCorporation();
  const Customer before = c;
  EXPECT_THAT(NormalizeAndValidate(c, "customer"), IsEmpty());
  EXPECT_EQ(c.name, before.name);
  EXPECT_EQ(c.postal_code, before.postal_code);
  EXPECT_EQ(c.invoice_registration_number, before.invoice_registration_number);
}

TEST(ValidateCustomer, NormalisesWhatPeopleType) {
  Customer c = GoodCorporation();
  c.code = " ＣＸ－１ ";
  c.name = "　国税庁 \t";
  c.name_kana = " ｺｸｾﾞｲﾁｮｳ　";
  c.postal_code = "１００８９７８";
  c.prefecture = " 東京都　";
  c.address_line1 = "　千代田区霞が関3-1-1　";
  c.address_line2 = "  ";
  c.phone = "０３－３５８１－４１６１";
  c.email = " ｉｎｆｏ＠ｅｘａｍｐｌｅ．ｇｏ．ｊｐ ";
  c.corporate_number = "７００００１２０５０００２";
  c.invoice_registration_number = "ｔ７００００１２０５０００２";
  c.memo = "\n 覚え書き \n";
  EXPECT_THAT(NormalizeAndValidate(c, "customer"), IsEmpty());
  EXPECT_EQ(c.code, "CX-1");
  EXPECT_EQ(c.name, "国税庁");
  EXPECT_EQ(c.name_kana, "コクゼイチョウ");
  EXPECT_EQ(c.postal_code, "100-8978");
  EXPECT_EQ(c.prefecture, "東京都");
  EXPECT_EQ(c.address_line1, "千代田区霞が関3-1-1");
  EXPECT_EQ(c.address_line2, "");
  EXPECT_EQ(c.phone, "03-3581-4161");
  EXPECT_EQ(c.email, "info@example.go.jp");
  EXPECT_EQ(c.corporate_number, "7000012050002");
  EXPECT_EQ(c.invoice_registration_number, "T7000012050002");
  EXPECT_EQ(c.memo, "覚え書き");
}

TEST(ValidateCustomer, NameIsRequiredAndAtMost200Characters) {
  Customer c = GoodCorporation();
  c.name = " 　 ";
  EXPECT_THAT(NormalizeAndValidate(c, "customer"), ElementsAre(FieldErr("customer.name", "REQUIRED")));

  // 200 three-byte characters (600 bytes) is fine: characters are counted, not bytes.
  std::string name;
  for (int i = 0; i < 200; ++i) name += "髙";
  c.name = name;
  EXPECT_THAT(NormalizeAndValidate(c, "customer"), IsEmpty());
  c.name = name + "a";
  EXPECT_THAT(NormalizeAndValidate(c, "customer"), ElementsAre(FieldErr("customer.name", "TOO_LONG")));
}

TEST(ValidateCustomer, KanaMustBeKatakana) {
  Customer c = GoodCorporation();
  c.name_kana = "こくぜいちょう";
  EXPECT_THAT(NormalizeAndValidate(c, "customer"),
              ElementsAre(FieldErr("customer.name_kana", "INVALID_KANA")));
  c.name_kana = "国税庁";
  EXPECT_THAT(NormalizeAndValidate(c, "customer"),
              ElementsAre(FieldErr("customer.name_kana", "INVALID_KANA")));
}

TEST(ValidateCustomer, EachFieldErrorNamesItsApiPath) {
  struct Case {
    void (*breaker)(Customer&);
    const char* field;
    const char* reason;
  };
  const Case cases[] = {
      {[](Customer& c) { c.code = "C 1"; }, "customer.code", "INVALID_CUSTOMER_CODE"},
      {[](Customer& c) { c.kind = static_cast<Kind>(9); }, "customer.kind", "INVALID_KIND"},
      {[](Customer& c) { c.postal_code = "100-89780"; }, "customer.postal_code",
       "INVALID_POSTAL_CODE"},
      {[](Customer& c) { c.prefecture = "東京"; }, "customer.prefecture", "INVALID_PREFECTURE"},
      {[](Customer& c) { c.phone = "03-xxxx"; }, "customer.phone", "INVALID_PHONE"},
      {[](Customer& c) { c.email = "info@"; }, "customer.email", "INVALID_EMAIL"},
      {[](Customer& c) { c.address_line1 = std::string(201, 'x'); }, "customer.address_line1",
       "TOO_LONG"},
      {[](Customer& c) { c.address_line2 = std::string(201, 'x'); }, "customer.address_line2",
       "TOO_LONG"},
      {[](Customer& c) { c.memo = std::string(10001, 'x'); }, "customer.memo", "TOO_LONG"},
      {[](Customer& c) { c.lifecycle = static_cast<Lifecycle>(0); }, "customer.lifecycle",
       "INVALID_LIFECYCLE"},
      {[](Customer& c) { c.billing_terms.closing_day = 29; }, "customer.billing_terms.closing_day",
       "OUT_OF_RANGE"},
      {[](Customer& c) { c.billing_terms.closing_day = -1; }, "customer.billing_terms.closing_day",
       "OUT_OF_RANGE"},
      {[](Customer& c) { c.billing_terms.payment_month_offset = 13; },
       "customer.billing_terms.payment_month_offset", "OUT_OF_RANGE"},
      {[](Customer& c) { c.billing_terms.payment_month_offset = -1; },
       "customer.billing_terms.payment_month_offset", "OUT_OF_RANGE"},
      {[](Customer& c) { c.billing_terms.payment_day = 31; }, "customer.billing_terms.payment_day",
       "OUT_OF_RANGE"},
      {[](Customer& c) {
         c.is_customer = false;
         c.is_partner = false;
       },
       "customer.is_customer", "ROLE_REQUIRED"},
  };
  for (const Case& k : cases) {
    Customer c = GoodCorporation();
    k.breaker(c);
    EXPECT_THAT(NormalizeAndValidate(c, "customer"), ElementsAre(FieldErr(k.field, k.reason)))
        << k.field;
  }
}

TEST(ValidateCustomer, PrefixIsUsedVerbatim) {
  Customer c = GoodCorporation();
  c.postal_code = "x";
  EXPECT_THAT(NormalizeAndValidate(c, "request.customer"),
              ElementsAre(FieldErr("request.customer.postal_code", "INVALID_POSTAL_CODE")));
}

TEST(ValidateCustomer, CorporateNumber) {
  Customer c = GoodCorporation();
  c.corporate_number = "7000012050003";
  c.invoice_registration_number = "";
  EXPECT_THAT(NormalizeAndValidate(c, "customer"),
              ElementsAre(FieldErr("customer.corporate_number", "INVALID_CORPORATE_NUMBER")));

  for (Kind kind : {Kind::kSoleProprietor, Kind::kIndividual}) {
    Customer p = GoodCorporation();
    p.kind = kind;
    p.invoice_registration_number = "";
    EXPECT_THAT(NormalizeAndValidate(p, "customer"),
                ElementsAre(FieldErr("customer.corporate_number",
                                     "CORPORATE_NUMBER_NOT_CORPORATION")));
  }
}

TEST(ValidateCustomer, RegistrationNumber) {
  Customer c = GoodCorporation();
  c.invoice_registration_number = "T7000012050003";  // bad check digit
  EXPECT_THAT(NormalizeAndValidate(c, "customer"),
              ElementsAre(FieldErr("customer.invoice_registration_number",
                                   "INVALID_REGISTRATION_NUMBER")));

  c = GoodCorporation();
  c.invoice_registration_number = "T1180301018771";  // valid, but Toyota's, not 国税庁's
  EXPECT_THAT(NormalizeAndValidate(c, "customer"),
              ElementsAre(FieldErr("customer.invoice_registration_number",
                                   "REGISTRATION_NUMBER_MISMATCH")));

  // A corporation without a corporate number may carry any valid registration number.
  c = GoodCorporation();
  c.corporate_number = "";
  c.invoice_registration_number = "T1180301018771";
  EXPECT_THAT(NormalizeAndValidate(c, "customer"), IsEmpty());

  // A sole proprietor's registration number is not a corporate number: only the check digit
  // is verified.
  c = GoodCorporation();
  c.kind = Kind::kSoleProprietor;
  c.corporate_number = "";
  c.invoice_registration_number = "T5010401067252";
  EXPECT_THAT(NormalizeAndValidate(c, "customer"), IsEmpty());
}

TEST(ValidateCustomer, BillingTermsMayNotFallDueBeforeTheyClose) {
  Customer c = GoodCorporation();
  c.billing_terms = {20, 0, 10};  // 20日締め当月10日払い
  EXPECT_THAT(NormalizeAndValidate(c, "customer"),
              ElementsAre(FieldErr("customer.billing_terms.payment_day",
                                   "PAYMENT_BEFORE_CLOSING")));
  c.billing_terms = {0, 0, 25};  // 月末締め当月25日払い
  EXPECT_THAT(NormalizeAndValidate(c, "customer"),
              ElementsAre(FieldErr("customer.billing_terms.payment_day",
                                   "PAYMENT_BEFORE_CLOSING")));
  for (BillingTerms ok : {BillingTerms{15, 0, 0}, BillingTerms{15, 0, 15}, BillingTerms{15, 0, 25},
                          BillingTerms{0, 0, 0}, BillingTerms{28, 12, 28}, BillingTerms{}}) {
    c.billing_terms = ok;
    EXPECT_THAT(NormalizeAndValidate(c, "customer"), IsEmpty()) << DescribeTerms(ok);
  }
}

TEST(ValidateCustomer, PartnerFieldsAreCheckedOnlyForPartners) {
  Customer c = GoodCorporation();
  c.partner.commission_rate_bp = -5;
  c.partner.notification_email = "not an address";
  EXPECT_THAT(NormalizeAndValidate(c, "customer"), IsEmpty());

  c.is_partner = true;
  EXPECT_THAT(NormalizeAndValidate(c, "customer"),
              ElementsAre(FieldErr("customer.partner.commission_rate_bp", "OUT_OF_RANGE"),
                          FieldErr("customer.partner.notification_email", "INVALID_EMAIL")));
  c.partner.commission_rate_bp = 10001;
  c.partner.notification_email = " ";
  c.partner.report_contact_email = "x@";
  EXPECT_THAT(NormalizeAndValidate(c, "customer"),
              ElementsAre(FieldErr("customer.partner.commission_rate_bp", "OUT_OF_RANGE"),
                          FieldErr("customer.partner.notification_email", "REQUIRED"),
                          FieldErr("customer.partner.report_contact_email", "INVALID_EMAIL")));
  c.partner = PartnerInfo{10000, " reports@partner.example.jp ", " 佐藤 ", ""};
  EXPECT_THAT(NormalizeAndValidate(c, "customer"), IsEmpty());
  EXPECT_EQ(c.partner.notification_email, "reports@partner.example.jp");
  EXPECT_EQ(c.partner.report_contact_name, "佐藤");
  c.partner.commission_rate_bp = 0;
  c.is_customer = false;  // a partner only is fine
  EXPECT_THAT(NormalizeAndValidate(c, "customer"), IsEmpty());
}

TEST(ValidateCustomer, ReportsEveryProblemAtOnce) {
  Customer c;
  c.kind = Kind::kIndividual;
  c.postal_code = "1";
  c.prefecture = "Tokyo";
  c.corporate_number = "7000012050002";
  EXPECT_THAT(NormalizeAndValidate(c, "customer"),
              ElementsAre(FieldErr("customer.name", "REQUIRED"),
                          FieldErr("customer.postal_code", "INVALID_POSTAL_CODE"),
                          FieldErr("customer.prefecture", "INVALID_PREFECTURE"),
                          FieldErr("customer.corporate_number",
                                   "CORPORATE_NUMBER_NOT_CORPORATION")));
}

TEST(ValidateContact, RulesAndNormalisation) {
  Contact c;
  c.name = " 山田 太郎　";
  c.name_kana = "ﾔﾏﾀﾞ ﾀﾛｳ";
  c.department = " 総務部 ";
  c.title = " 部長 ";
  c.email = "ｙａｍａｄａ＠ｅｘａｍｐｌｅ．ｊｐ";
  c.phone = " 090-1234-5678 ";
  EXPECT_THAT(NormalizeAndValidate(c, "contact"), IsEmpty());
  EXPECT_EQ(c.name, "山田 太郎");
  EXPECT_EQ(c.name_kana, "ヤマダ タロウ");
  EXPECT_EQ(c.department, "総務部");
  EXPECT_EQ(c.title, "部長");
  EXPECT_EQ(c.email, "yamada@example.jp");
  EXPECT_EQ(c.phone, "090-1234-5678");

  Contact bad;
  bad.name_kana = "やまだ";
  bad.email = "yamada";
  bad.phone = "12";
  bad.department = std::string(201, 'x');
  EXPECT_THAT(NormalizeAndValidate(bad, "contact"),
              ElementsAre(FieldErr("contact.name", "REQUIRED"),
                          FieldErr("contact.name_kana", "INVALID_KANA"),
                          FieldErr("contact.department", "TOO_LONG"),
                          FieldErr("contact.email", "INVALID_EMAIL"),
                          FieldErr("contact.phone", "INVALID_PHONE")));
}

TEST(ValidateInquiry, RulesAndNormalisation) {
  Inquiry i;
  i.customer_id = 12;
  i.channel = InquiryChannel::kWeb;
  i.subject = "  請求書の再発行  ";
  i.body = "\n先月分をもう一度送ってください。\n";
  EXPECT_THAT(NormalizeAndValidate(i, "inquiry"), IsEmpty());
  EXPECT_EQ(i.subject, "請求書の再発行");
  EXPECT_EQ(i.body, "先月分をもう一度送ってください。");

  std::string subject;
  for (int k = 0; k < 200; ++k) subject += "問";
  i.subject = subject;
  i.body = std::string(10000, 'x');
  EXPECT_THAT(NormalizeAndValidate(i, "inquiry"), IsEmpty());

  i.subject = subject + "問";
  i.body = std::string(10001, 'x');
  EXPECT_THAT(NormalizeAndValidate(i, "inquiry"),
              ElementsAre(FieldErr("inquiry.subject", "TOO_LONG"),
                          FieldErr("inquiry.body", "TOO_LONG")));

  Inquiry bad;
  bad.customer_id = 0;
  bad.channel = static_cast<InquiryChannel>(0);
  bad.subject = "　";
  EXPECT_THAT(NormalizeAndValidate(bad, "inquiry"),
              ElementsAre(FieldErr("inquiry.customer_id", "REQUIRED"),
                          FieldErr("inquiry.channel", "INVALID_CHANNEL"),
                          FieldErr("inquiry.subject", "REQUIRED")));
  bad = Inquiry{};
  bad.customer_id = -3;
  bad.subject = "x";
  bad.channel = static_cast<InquiryChannel>(5);
  EXPECT_THAT(NormalizeAndValidate(bad, "inquiry"),
              ElementsAre(FieldErr("inquiry.customer_id", "REQUIRED"),
                          FieldErr("inquiry.channel", "INVALID_CHANNEL")));
}

// ---------------------------------------------------------------------------------------------
// Billing terms.

using absl::CivilDay;

TEST(BillingTerms, MonthEndCloseNextMonthEndPay) {
  const BillingTerms t{0, 1, 0};  // 月末締め翌月末払い (the default)
  EXPECT_EQ(t, BillingTerms{});
  EXPECT_EQ(ClosingDateFor(t, CivilDay(2024, 1, 15)), CivilDay(2024, 1, 31));
  EXPECT_EQ(DueDateFor(t, CivilDay(2024, 1, 31)), CivilDay(2024, 2, 29));  // leap year
  EXPECT_EQ(ClosingDateFor(t, CivilDay(2023, 1, 31)), CivilDay(2023, 1, 31));
  EXPECT_EQ(DueDateFor(t, CivilDay(2023, 1, 31)), CivilDay(2023, 2, 28));
  EXPECT_EQ(ClosingDateFor(t, CivilDay(2024, 2, 1)), CivilDay(2024, 2, 29));
  EXPECT_EQ(DueDateFor(t, CivilDay(2024, 2, 29)), CivilDay(2024, 3, 31));
  EXPECT_EQ(ClosingDateFor(t, CivilDay(2023, 2, 28)), CivilDay(2023, 2, 28));
  EXPECT_EQ(DueDateFor(t, CivilDay(2024, 3, 31)), CivilDay(2024, 4, 30));
  EXPECT_EQ(ClosingDateFor(t, CivilDay(2024, 12, 1)), CivilDay(2024, 12, 31));
  EXPECT_EQ(DueDateFor(t, CivilDay(2024, 12, 31)), CivilDay(2025, 1, 31));  // over the year
  EXPECT_EQ(DueDateFor(t, CivilDay(2100, 1, 31)), CivilDay(2100, 2, 28));   // not a leap year
  EXPECT_EQ(DueDateFor(t, CivilDay(2000, 1, 31)), CivilDay(2000, 2, 29));   // a leap year
}

TEST(BillingTerms, TwentiethCloseNextMonthTenthPay) {
  const BillingTerms t{20, 1, 10};  // 20日締め翌月10日払い
  EXPECT_EQ(ClosingDateFor(t, CivilDay(2024, 1, 20)), CivilDay(2024, 1, 20));
  EXPECT_EQ(DueDateFor(t, CivilDay(2024, 1, 20)), CivilDay(2024, 2, 10));
  EXPECT_EQ(ClosingDateFor(t, CivilDay(2024, 1, 21)), CivilDay(2024, 2, 20));
  EXPECT_EQ(DueDateFor(t, CivilDay(2024, 2, 20)), CivilDay(2024, 3, 10));
  EXPECT_EQ(ClosingDateFor(t, CivilDay(2024, 1, 1)), CivilDay(2024, 1, 20));
  EXPECT_EQ(ClosingDateFor(t, CivilDay(2024, 12, 25)), CivilDay(2025, 1, 20));
  EXPECT_EQ(DueDateFor(t, CivilDay(2025, 1, 20)), CivilDay(2025, 2, 10));
  EXPECT_EQ(ClosingDateFor(t, CivilDay(2024, 1, 31)), CivilDay(2024, 2, 20));
}

TEST(BillingTerms, FifteenthCloseSameMonthEndPay) {
  const BillingTerms t{15, 0, 0};  // 15日締め当月末払い
  EXPECT_EQ(ClosingDateFor(t, CivilDay(2024, 2, 10)), CivilDay(2024, 2, 15));
  EXPECT_EQ(DueDateFor(t, CivilDay(2024, 2, 15)), CivilDay(2024, 2, 29));
  EXPECT_EQ(ClosingDateFor(t, CivilDay(2023, 2, 16)), CivilDay(2023, 3, 15));
  EXPECT_EQ(DueDateFor(t, CivilDay(2023, 3, 15)), CivilDay(2023, 3, 31));
  EXPECT_EQ(DueDateFor(t, CivilDay(2023, 4, 15)), CivilDay(2023, 4, 30));
}

TEST(BillingTerms, TwentyFifthCloseMonthAfterNextEndPay) {
  const BillingTerms t{25, 2, 0};  // 25日締め翌々月末払い
  EXPECT_EQ(ClosingDateFor(t, CivilDay(2023, 12, 26)), CivilDay(2024, 1, 25));
  EXPECT_EQ(DueDateFor(t, CivilDay(2024, 1, 25)), CivilDay(2024, 3, 31));
  EXPECT_EQ(DueDateFor(t, CivilDay(2023, 12, 25)), CivilDay(2024, 2, 29));
  EXPECT_EQ(DueDateFor(t, CivilDay(2022, 12, 25)), CivilDay(2023, 2, 28));
  EXPECT_EQ(DueDateFor(t, CivilDay(2024, 11, 25)), CivilDay(2025, 1, 31));
}

TEST(BillingTerms, FixedPaymentDayAndLongOffsets) {
  const BillingTerms t{0, 3, 5};  // 月末締め3ヶ月後5日払い
  EXPECT_EQ(DueDateFor(t, CivilDay(2024, 11, 30)), CivilDay(2025, 2, 5));
  const BillingTerms year{10, 12, 28};
  EXPECT_EQ(ClosingDateFor(year, CivilDay(2024, 2, 29)), CivilDay(2024, 3, 10));
  EXPECT_EQ(DueDateFor(year, CivilDay(2024, 3, 10)), CivilDay(2025, 3, 28));
  const BillingTerms d28{28, 1, 28};
  EXPECT_EQ(ClosingDateFor(d28, CivilDay(2023, 2, 28)), CivilDay(2023, 2, 28));
  EXPECT_EQ(ClosingDateFor(d28, CivilDay(2024, 2, 29)), CivilDay(2024, 3, 28));
  EXPECT_EQ(DueDateFor(d28, CivilDay(2024, 1, 28)), CivilDay(2024, 2, 28));
}

TEST(BillingTerms, ADayBeyondAShortMonthMeansItsEnd) {
  // Validation keeps days within 1..28, but the date rules hold for any day: "or that month's
  // end when the month is shorter".
  EXPECT_EQ(DueDateFor({0, 1, 31}, CivilDay(2024, 1, 31)), CivilDay(2024, 2, 29));
  EXPECT_EQ(DueDateFor({0, 1, 30}, CivilDay(2023, 1, 31)), CivilDay(2023, 2, 28));
  EXPECT_EQ(DueDateFor({0, 2, 30}, CivilDay(2023, 1, 31)), CivilDay(2023, 3, 30));
  EXPECT_EQ(ClosingDateFor({30, 1, 0}, CivilDay(2024, 2, 10)), CivilDay(2024, 2, 29));
  EXPECT_EQ(ClosingDateFor({30, 1, 0}, CivilDay(2024, 3, 10)), CivilDay(2024, 3, 30));
}

TEST(BillingTerms, EveryDayOfALeapYearClosesOnOrAfterItselfAndIsDueOnOrAfterClosing) {
  for (const BillingTerms t : {BillingTerms{0, 1, 0}, BillingTerms{20, 1, 10},
                               BillingTerms{15, 0, 0}, BillingTerms{25, 2, 0},
                               BillingTerms{1, 0, 1}}) {
    for (CivilDay d(2024, 1, 1); d <= CivilDay(2024, 12, 31); ++d) {
      const CivilDay closing = ClosingDateFor(t, d);
      EXPECT_GE(closing, d);
      EXPECT_LT(closing - d, 31) << d;
      EXPECT_EQ(ClosingDateFor(t, closing), closing) << d;  // a closing date closes itself
      EXPECT_GE(DueDateFor(t, closing), closing) << d;
    }
  }
}

TEST(DescribeTerms, Wording) {
  EXPECT_EQ(DescribeTerms({0, 1, 0}), "月末締め翌月末払い");
  EXPECT_EQ(DescribeTerms({20, 2, 10}), "20日締め翌々月10日払い");
  EXPECT_EQ(DescribeTerms({15, 0, 0}), "15日締め当月末払い");
  EXPECT_EQ(DescribeTerms({0, 3, 5}), "月末締め3ヶ月後5日払い");
  EXPECT_EQ(DescribeTerms({20, 1, 10}), "20日締め翌月10日払い");
  EXPECT_EQ(DescribeTerms({25, 2, 0}), "25日締め翌々月末払い");
  EXPECT_EQ(DescribeTerms({5, 12, 28}), "5日締め12ヶ月後28日払い");
}

// ---------------------------------------------------------------------------------------------
// Inquiry transitions.

TEST(InquiryTransition, EveryPair) {
  using S = InquiryStatus;
  const S all[] = {S::kOpen, S::kInProgress, S::kResolved, S::kClosed};
  // allowed[from][to], in the order above.
  const bool allowed[4][4] = {
      /* OPEN        -> */ {true, true, true, true},
      /* IN_PROGRESS -> */ {false, true, true, true},
      /* RESOLVED    -> */ {true, false, true, true},
      /* CLOSED      -> */ {true, false, false, true},
  };
  for (int f = 0; f < 4; ++f) {
    for (int t = 0; t < 4; ++t) {
      EXPECT_EQ(IsAllowedInquiryTransition(all[f], all[t]), allowed[f][t]) << f << " -> " << t;
    }
  }
  EXPECT_FALSE(IsAllowedInquiryTransition(static_cast<S>(0), S::kOpen));
  EXPECT_FALSE(IsAllowedInquiryTransition(S::kOpen, static_cast<S>(5)));
}

// ---------------------------------------------------------------------------------------------
// Audit JSON.

google::protobuf::Struct ParseJson(const std::string& json) {
  google::protobuf::Struct s;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &s);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << json;
  return s;
}

std::set<std::string> Keys(const google::protobuf::Struct& s) {
  std::set<std::string> keys;
  for (const auto& kv : s.fields()) keys.insert(kv.first);
  return keys;
}

const google::protobuf::Value& At(const google::protobuf::Struct& s, const std::string& key,
                                  const std::string& side) {
  static const google::protobuf::Value kMissing;
  auto it = s.fields().find(key);
  if (it == s.fields().end() || !it->second.has_struct_value()) {
    ADD_FAILURE() << "no object at " << key;
    return kMissing;
  }
  auto inner = it->second.struct_value().fields().find(side);
  if (inner == it->second.struct_value().fields().end()) {
    ADD_FAILURE() << "no " << side << " at " << key;
    return kMissing;
  }
  return inner->second;
}

TEST(ChangeJson, NoChangeIsAnEmptyObject) {
  const Customer c = GoodCorporation();
  EXPECT_EQ(ChangeJson(c, c), "{}");
  Customer versioned = c;
  versioned.version = 7;
  versioned.stamp.updated_by = "bob";
  versioned.stamp.update_time = absl::FromUnixSeconds(1700000000);
  EXPECT_EQ(ChangeJson(c, versioned), "{}");  // version and stamps are not audited fields
  EXPECT_EQ(ChangeJson(Contact{}, Contact{}), "{}");
  EXPECT_EQ(ChangeJson(Inquiry{}, Inquiry{}), "{}");
}

TEST(ChangeJson, CustomerFieldsUseApiNamesAndEnumNames) {
  Customer before = GoodCorporation();
  Customer after = before;
  after.name = "国税庁 \"本庁\"";
  after.kind = Kind::kSoleProprietor;
  after.lifecycle = Lifecycle::kInactive;
  after.billing_terms = {20, 2, 10};
  after.is_partner = true;
  after.partner.commission_rate_bp = 1250;
  after.partner.notification_email = "p@example.jp";
  after.convert_time = absl::FromUnixSeconds(1704067200);  // 2024-01-01T00:00:00Z

  const auto json = ParseJson(ChangeJson(before, after));
  EXPECT_EQ(Keys(json),
            (std::set<std::string>{"name", "kind", "lifecycle", "billing_terms", "is_partner",
                                   "partner.commission_rate_bp", "partner.notification_email",
                                   "convert_time"}));
  EXPECT_EQ(At(json, "name", "old").string_value(), "国税庁");
  EXPECT_EQ(At(json, "name", "new").string_value(), "国税庁 \"本庁\"");
  EXPECT_EQ(At(json, "kind", "old").string_value(), "CORPORATION");
  EXPECT_EQ(At(json, "kind", "new").string_value(), "SOLE_PROPRIETOR");
  EXPECT_EQ(At(json, "lifecycle", "old").string_value(), "ACTIVE");
  EXPECT_EQ(At(json, "lifecycle", "new").string_value(), "INACTIVE");
  const auto& terms = At(json, "billing_terms", "new").struct_value().fields();
  EXPECT_EQ(terms.at("closing_day").number_value(), 20);
  EXPECT_EQ(terms.at("payment_month_offset").number_value(), 2);
  EXPECT_EQ(terms.at("payment_day").number_value(), 10);
  EXPECT_EQ(At(json, "billing_terms", "old").struct_value().fields().at("payment_month_offset")
                .number_value(),
            1);
  EXPECT_FALSE(At(json, "is_partner", "old").bool_value());
  EXPECT_TRUE(At(json, "is_partner", "new").bool_value());
  EXPECT_EQ(At(json, "partner.commission_rate_bp", "old").number_value(), 0);
  EXPECT_EQ(At(json, "partner.commission_rate_bp", "new").number_value(), 1250);
  EXPECT_EQ(At(json, "partner.notification_email", "new").string_value(), "p@example.jp");
  EXPECT_EQ(At(json, "convert_time", "old").kind_case(), google::protobuf::Value::kNullValue);
  EXPECT_EQ(At(json, "convert_time", "new").string_value(), "2024-01-01T00:00:00Z");
}

TEST(ChangeJson, EveryCustomerFieldIsAudited) {
  const Customer a;
  Customer b;
  b.id = 1;
  b.code = "x";
  b.name = "x";
  b.name_kana = "x";
  b.kind = Kind::kIndividual;
  b.postal_code = "x";
  b.prefecture = "x";
  b.address_line1 = "x";
  b.address_line2 = "x";
  b.phone = "x";
  b.email = "x";
  b.corporate_number = "x";
  b.invoice_registration_number = "x";
  b.billing_terms.payment_day = 5;
  b.lifecycle = Lifecycle::kLead;
  b.is_customer = false;
  b.is_partner = true;
  b.partner = {1, "x", "x", "x"};
  b.memo = "x";
  b.convert_time = absl::UnixEpoch();
  EXPECT_EQ(Keys(ParseJson(ChangeJson(a, b))),
            (std::set<std::string>{
                "id", "code", "name", "name_kana", "kind", "postal_code", "prefecture",
                "address_line1", "address_line2", "phone", "email", "corporate_number",
                "invoice_registration_number", "billing_terms", "lifecycle", "is_customer",
                "is_partner", "partner.commission_rate_bp", "partner.notification_email",
                "partner.report_contact_name", "partner.report_contact_email", "memo",
                "convert_time"}));
}

TEST(ChangeJson, EscapesEverythingJsonNeeds) {
  Customer before;
  Customer after;
  after.memo = std::string("quote\" backslash\\ newline\n tab\t cr\r ctrl\x01\x1f del\x7f ") +
               "日本語 😀 bad\xFF\xC0 end";
  const std::string json = ChangeJson(before, after);
  const auto parsed = ParseJson(json);
  EXPECT_EQ(At(parsed, "memo", "new").string_value(),
            std::string("quote\" backslash\\ newline\n tab\t cr\r ctrl\x01\x1f del\x7f ") +
                "日本語 😀 bad\uFFFD\uFFFD end");
  EXPECT_EQ(json.find('\n'), std::string::npos);
}

TEST(ChangeJson, ContactAndInquiry) {
  Contact c0;
  c0.customer_id = 12;
  c0.name = "山田";
  Contact c1 = c0;
  c1.name = "山田 太郎";
  c1.primary = true;
  c1.email = "t@example.jp";
  const auto cj = ParseJson(ChangeJson(c0, c1));
  EXPECT_EQ(Keys(cj), (std::set<std::string>{"name", "primary", "email"}));
  EXPECT_EQ(At(cj, "name", "new").string_value(), "山田 太郎");
  EXPECT_TRUE(At(cj, "primary", "new").bool_value());
  EXPECT_EQ(At(cj, "email", "old").string_value(), "");

  Inquiry i0;
  i0.customer_id = 12;
  i0.subject = "件名";
  Inquiry i1 = i0;
  i1.status = InquiryStatus::kInProgress;
  i1.channel = InquiryChannel::kVisit;
  i1.assignee = "alice";
  i1.contact_id = 5;
  const auto ij = ParseJson(ChangeJson(i0, i1));
  EXPECT_EQ(Keys(ij), (std::set<std::string>{"status", "channel", "assignee", "contact_id"}));
  EXPECT_EQ(At(ij, "status", "old").string_value(), "OPEN");
  EXPECT_EQ(At(ij, "status", "new").string_value(), "IN_PROGRESS");
  EXPECT_EQ(At(ij, "channel", "old").string_value(), "PHONE");
  EXPECT_EQ(At(ij, "channel", "new").string_value(), "VISIT");
  EXPECT_EQ(At(ij, "contact_id", "new").number_value(), 5);
}

TEST(ChangeJson, InquiryResponsesShowWhatWasAppended) {
  Inquiry before;
  before.customer_id = 1;
  before.responses.push_back({1, "alice", absl::FromUnixSeconds(1704067200), "最初の対応"});
  Inquiry after = before;
  after.responses.push_back({2, "bob", absl::FromUnixSeconds(1704070800), "折り返し済み"});
  const auto json = ParseJson(ChangeJson(before, after));
  EXPECT_EQ(Keys(json), (std::set<std::string>{"responses"}));
  const auto& added = At(json, "responses", "new").list_value();
  ASSERT_EQ(added.values_size(), 1);
  const auto& r = added.values(0).struct_value().fields();
  EXPECT_EQ(r.at("id").number_value(), 2);
  EXPECT_EQ(r.at("responder").string_value(), "bob");
  EXPECT_EQ(r.at("response_time").string_value(), "2024-01-01T01:00:00Z");
  EXPECT_EQ(r.at("body").string_value(), "折り返し済み");
}

TEST(CreationJson, NonEmptyFieldsOnly) {
  Customer c = GoodCorporation();
  c.id = 42;
  const auto json = ParseJson(CreationJson(c));
  EXPECT_EQ(Keys(json),
            (std::set<std::string>{"id", "code", "name", "name_kana", "kind", "postal_code",
                                   "prefecture", "address_line1", "phone", "email",
                                   "corporate_number", "invoice_registration_number",
                                   "billing_terms", "lifecycle", "is_customer", "is_partner"}));
  EXPECT_EQ(At(json, "id", "new").number_value(), 42);
  EXPECT_EQ(At(json, "name", "new").string_value(), "国税庁");
  EXPECT_EQ(At(json, "kind", "new").string_value(), "CORPORATION");
  EXPECT_EQ(At(json, "lifecycle", "new").string_value(), "ACTIVE");
  EXPECT_TRUE(At(json, "is_customer", "new").bool_value());
  EXPECT_EQ(json.fields().at("name").struct_value().fields().count("old"), 0u);

  c.is_partner = true;  // a partner's rate is recorded even when 0
  c.lifecycle = Lifecycle::kLead;
  const auto partner = ParseJson(CreationJson(c));
  EXPECT_EQ(At(partner, "partner.commission_rate_bp", "new").number_value(), 0);
  EXPECT_EQ(At(partner, "lifecycle", "new").string_value(), "LEAD");

  Contact contact;
  contact.id = 3;
  contact.customer_id = 42;
  contact.name = "担当";
  const auto cj = ParseJson(CreationJson(contact));
  EXPECT_EQ(Keys(cj), (std::set<std::string>{"id", "customer_id", "name", "primary"}));

  Inquiry inquiry;
  inquiry.customer_id = 42;
  inquiry.subject = "件名";
  inquiry.channel = InquiryChannel::kMail;
  inquiry.status = InquiryStatus::kClosed;
  const auto ij = ParseJson(CreationJson(inquiry));
  EXPECT_EQ(Keys(ij), (std::set<std::string>{"customer_id", "subject", "channel", "status"}));
  EXPECT_EQ(At(ij, "channel", "new").string_value(), "MAIL");
  EXPECT_EQ(At(ij, "status", "new").string_value(), "CLOSED");
}

TEST(CreationJson, EveryEnumValueHasItsName) {
  const std::vector<std::pair<Kind, std::string>> kinds = {
      {Kind::kCorporation, "CORPORATION"},
      {Kind::kSoleProprietor, "SOLE_PROPRIETOR"},
      {Kind::kIndividual, "INDIVIDUAL"}};
  for (const auto& [kind, name] : kinds) {
    Customer c;
    c.kind = kind;
    EXPECT_EQ(At(ParseJson(CreationJson(c)), "kind", "new").string_value(), name);
  }
  const std::vector<std::pair<Lifecycle, std::string>> lifecycles = {
      {Lifecycle::kLead, "LEAD"}, {Lifecycle::kActive, "ACTIVE"},
      {Lifecycle::kInactive, "INACTIVE"}};
  for (const auto& [lifecycle, name] : lifecycles) {
    Customer c;
    c.lifecycle = lifecycle;
    EXPECT_EQ(At(ParseJson(CreationJson(c)), "lifecycle", "new").string_value(), name);
  }
  const std::vector<std::pair<InquiryChannel, std::string>> channels = {
      {InquiryChannel::kPhone, "PHONE"}, {InquiryChannel::kMail, "MAIL"},
      {InquiryChannel::kWeb, "WEB"}, {InquiryChannel::kVisit, "VISIT"}};
  for (const auto& [channel, name] : channels) {
    Inquiry i;
    i.channel = channel;
    EXPECT_EQ(At(ParseJson(CreationJson(i)), "channel", "new").string_value(), name);
  }
  const std::vector<std::pair<InquiryStatus, std::string>> statuses = {
      {InquiryStatus::kOpen, "OPEN"}, {InquiryStatus::kInProgress, "IN_PROGRESS"},
      {InquiryStatus::kResolved, "RESOLVED"}, {InquiryStatus::kClosed, "CLOSED"}};
  for (const auto& [status, name] : statuses) {
    Inquiry i;
    i.status = status;
    EXPECT_EQ(At(ParseJson(CreationJson(i)), "status", "new").string_value(), name);
  }
}

}  // namespace
}  // namespace anken::customer
