// Pure tests of reconciliation (DESIGN.md "Payments (入金消込)"): payer-name normalisation and
// matching against real-looking bank strings, and the choice of invoices (exact amount,
// several oldest first, bank-fee tolerance, partial, overpayment).

#include "services/billing/payment_rules.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/status/errors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/billing/payments.h"

namespace anken::billing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::CivilDay Day(int y, int m, int d) { return absl::CivilDay(y, m, d); }

// ---------------------------------------------------------------------------------------------
// Customers as the customer service holds them.

std::vector<CustomerName> Customers() {
  return {
      {101, "株式会社山田商事", "ヤマダショウジ"},
      {102, "有限会社佐藤工業", "サトウコウギョウ"},
      {103, "鈴木建設株式会社", "スズキケンセツ"},
      {104, "合同会社ネクストワン", "ネクストワン"},
      {105, "一般社団法人日本住宅協会", "ニホンジュウタクキョウカイ"},
      {106, "医療法人社団健康会", "ケンコウカイ"},
      {107, "学校法人青葉学園", "アオバガクエン"},
      {108, "田中太郎", "タナカ タロウ"},
      {109, "株式会社キャッシュ・フロー", "キャッシュフロー"},
      {111, "株式会社ABC", "エービーシー"},
      {112, "有限会社山田商事", "ヤマダショウジ"},
      {113, "株式会社ショウエイ", "ショウエイ"},
      {114, "株式会社ヴィーナス", "カブシキガイシャヴィーナス"},
      {115, "社会福祉法人つばさ会", "ツバサカイ"},
      {116, "特定非営利活動法人みどりの森", "ミドリノモリ"},
      {117, "税理士法人中央会計", "チュウオウカイケイ"},
      {118, "株式会社三和", "サンワ"},
      {119, "三和株式会社", "サンワ"},
      {120, "合資会社丸八商店", "マルハチショウテン"},
      {121, "公益財団法人文化振興財団", "ブンカシンコウザイダン"},
  };
}

struct PayerCase {
  const char* payer;
  int64_t customer;  // 0: unmatched
  UnmatchedReason reason;
};

constexpr UnmatchedReason kOk = UnmatchedReason::kNone;
constexpr UnmatchedReason kUnknown = UnmatchedReason::kUnknownPayer;
constexpr UnmatchedReason kAmbiguous = UnmatchedReason::kAmbiguousPayer;
constexpr UnmatchedReason kNoName = UnmatchedReason::kNoPayerName;

// What banks print (half-width, 法人略語, small kana printed large, '-' for ー) and what people
// type into net banking (full width, kanji, hiragana, (株)).
const PayerCase kPayerCases[] = {
    {"ｶ)ﾔﾏﾀﾞｼｮｳｼﾞ", 101, kOk},                      // 前株, small kana
    {"ｶ)ﾔﾏﾀﾞｼﾖｳｼﾞ", 101, kOk},                      // small kana printed large
    {"ﾔﾏﾀﾞｼﾖｳｼﾞ(ｶ", 101, kOk},                      // 後株 by mistake: still the one 株式会社
    {"ﾔﾏﾀﾞ ｼｮｳｼﾞ ｶﾌﾞｼｷｶﾞｲｼｬ", 101, kOk},            // the form spelled out at the end
    {"ｶﾌﾞｼｷｶｲｼﾔ ﾔﾏﾀﾞｼﾖｳｼﾞ", 101, kOk},              // spelled at the start, unvoiced カイシャ
    {"株式会社山田商事", 101, kOk},                 // kanji: via the customer's name
    {"(株)山田商事", 101, kOk},                     // kanji abbreviation
    {"㈱山田商事", 101, kOk},                       // enclosed ideograph
    {"カ)ヤマダショウジ", 101, kOk},                // full-width kana
    {"カ）ヤマダ　ショウジ", 101, kOk},             // full-width parenthesis and space
    {"カ)ヤマタ゛シヨウシ゛", 101, kOk},            // separate full-width voiced marks
    {"ｶ) ﾔﾏﾀﾞ ｼﾖｳｼﾞ", 101, kOk},                    // spaces
    {"かぶしきがいしゃ やまだしょうじ", 101, kOk},  // hiragana
    {"ﾕ)ﾔﾏﾀﾞｼｮｳｼﾞ", 112, kOk},                      // 有限会社 of the same name
    {"ﾔﾏﾀﾞｼｮｳｼﾞ", 0, kAmbiguous},                   // no form: 101 or 112
    {"ﾕ)ｻﾄｳｺｳｷﾞﾖｳ", 102, kOk},
    {"ｻﾄｳｺｳｷﾞｮｳ(ﾕ", 102, kOk},
    {"ｶ)ｻﾄｳｺｳｷﾞﾖｳ", 0, kUnknown},          // 株式会社 contradicts 有限会社
    {"ｽｽﾞｷｹﾝｾﾂ(ｶ", 103, kOk},              // 後株
    {"ｶ)ｽｽﾞｷｹﾝｾﾂ", 103, kOk},              // wrong position, the only candidate
    {"ｽｽﾞｷｹﾝｾﾂ(ｶ)ﾄｳｷﾖｳｼﾃﾝ", 0, kUnknown},  // a branch: needs a learnt mapping
    {"ﾄﾞ)ﾈｸｽﾄﾜﾝ", 104, kOk},               // 合同会社 is ﾄﾞ
    {"ﾈｸｽﾄﾜﾝ(ﾄﾞ", 104, kOk},
    {"ｼﾔ)ﾆﾎﾝｼﾞﾕｳﾀｸｷﾖｳｶｲ", 105, kOk},  // 一般社団法人 → ｼﾔ
    {"ｼｬ)ﾆﾎﾝｼﾞｭｳﾀｸｷｮｳｶｲ", 105, kOk},
    {"ｲ)ｹﾝｺｳｶｲ", 106, kOk},  // 医療法人社団 → ｲ
    {"ｶﾞｸ)ｱｵﾊﾞｶﾞｸｴﾝ", 107, kOk},
    {"ﾀﾅｶ ﾀﾛｳ", 108, kOk},  // a person
    {"ﾀﾅｶﾀﾛｳ", 108, kOk},
    {"ﾀﾅｶ ｼﾞﾛｳ", 0, kUnknown},
    {"ｶ)ｷﾔﾂｼﾕﾌﾛ-", 109, kOk},  // ー printed as '-', ッ ュ as large
    {"ｶ)ｷｬｯｼｭﾌﾛｰ", 109, kOk},
    {"ｶ)ABC", 111, kOk},      // via the name
    {"ｶ)ｴ-ﾋﾞ-ｼ-", 111, kOk},  // via the kana
    {"ｶ)ｼﾖｳｴｲ", 113, kOk},
    {"ｶ)ｳﾞｲ-ﾅｽ", 114, kOk},  // ｳﾞ → ヴ; kana holds the spelled form
    {"ﾌｸ)ﾂﾊﾞｻｶｲ", 115, kOk},
    {"社会福祉法人つばさ会", 115, kOk},
    {"ﾄｸﾋ)ﾐﾄﾞﾘﾉﾓﾘ", 116, kOk},
    {"ｾﾞｲ)ﾁﾕｳｵｳｶｲｹｲ", 117, kOk},
    {"ｶ)ｻﾝﾜ", 118, kOk},  // 株式会社三和 (前株)
    {"ｻﾝﾜ(ｶ", 119, kOk},  // 三和株式会社 (後株)
    {"ｻﾝﾜ", 0, kAmbiguous},
    {"(株)三和", 118, kOk},
    {"三和(株)", 119, kOk},
    {"ｼ)ﾏﾙﾊﾁｼﾖｳﾃﾝ", 120, kOk},         // 合資会社
    {"ｻﾞｲ)ﾌﾞﾝｶｼﾝｺｳｻﾞｲﾀﾞﾝ", 121, kOk},  // 公益財団法人 → ｻﾞｲ
    {"", 0, kNoName},
    {"ｶ)", 0, kNoName},
};

TEST(PayerMatcherTest, RealLookingPayerStrings) {
  static_assert(sizeof(kPayerCases) / sizeof(kPayerCases[0]) >= 30, "at least 30 payer strings");
  const PayerMatcher matcher(Customers(), {});
  for (const PayerCase& c : kPayerCases) {
    const PayerMatcher::Match m = matcher.MatchPayer(c.payer);
    EXPECT_EQ(m.customer_id, c.customer)
        << c.payer << " → " << PayerKey(c.payer) << ": " << m.detail;
    EXPECT_EQ(static_cast<int>(m.reason), static_cast<int>(c.reason))
        << c.payer << ": " << m.detail;
    EXPECT_EQ(m.source, c.customer != 0 ? CustomerMatchSource::kName : CustomerMatchSource::kNone)
        << c.payer;
  }
}

TEST(PayerMatcherTest, AmbiguousNamesListTheCandidates) {
  const PayerMatcher matcher(Customers(), {});
  EXPECT_THAT(matcher.MatchPayer("ﾔﾏﾀﾞｼｮｳｼﾞ").candidates, ElementsAre(101, 112));
  EXPECT_THAT(matcher.MatchPayer("ｻﾝﾜ").candidates, ElementsAre(118, 119));
  EXPECT_TRUE(matcher.MatchPayer("ｶ)ｻﾝﾜ").candidates.empty());
}

TEST(PayerMatcherTest, PositionDecidesOnlyBetweenSeveralCandidates) {
  // With one 三和 only, either position finds it; with both, the position picks.
  const PayerMatcher only_front({{118, "株式会社三和", "サンワ"}}, {});
  EXPECT_EQ(only_front.MatchPayer("ｻﾝﾜ(ｶ").customer_id, 118);
  EXPECT_EQ(only_front.MatchPayer("ｻﾝﾜ").customer_id, 118);
  const PayerMatcher both(Customers(), {});
  EXPECT_EQ(both.MatchPayer("ｻﾝﾜ(ｶ").customer_id, 119);
  EXPECT_EQ(both.MatchPayer("ｶ)ｻﾝﾜ").customer_id, 118);
}

TEST(PayerMatcherTest, LearntMappingWinsAndIsNormalised) {
  // Learnt from a person matching "ｽｽﾞｷｹﾝｾﾂ(ｶ)ﾄｳｷﾖｳｼﾃﾝ" to 103, and "ﾀﾅｶﾀﾛｳ" to 555 (the
  // payer is not the customer of the same name).
  const std::map<std::string, int64_t> learnt = {
      {"ｽｽﾞｷｹﾝｾﾂ(ｶ)ﾄｳｷﾖｳｼﾃﾝ", 103},
      {PayerKey("ﾀﾅｶﾀﾛｳ"), 555},
  };
  const PayerMatcher matcher(Customers(), learnt);
  for (const char* payer :
       {"ｽｽﾞｷｹﾝｾﾂ(ｶ)ﾄｳｷﾖｳｼﾃﾝ", "スズキケンセツ（カ）トウキョウシテン", "ｽｽﾞｷ ｹﾝｾﾂ(ｶ)ﾄｳｷｮｳ ｼﾃﾝ"}) {
    const PayerMatcher::Match m = matcher.MatchPayer(payer);
    EXPECT_EQ(m.customer_id, 103) << payer;
    EXPECT_EQ(m.source, CustomerMatchSource::kLearnt) << payer;
  }
  EXPECT_EQ(matcher.MatchPayer("ﾀﾅｶ ﾀﾛｳ").customer_id, 555);
  EXPECT_EQ(matcher.MatchPayer("ﾀﾅｶ ﾀﾛｳ").source, CustomerMatchSource::kLearnt);
  // Not learnt: still by name.
  EXPECT_EQ(matcher.MatchPayer("ｶ)ｻﾝﾜ").source, CustomerMatchSource::kName);
}

TEST(PayerMatcherTest, ConflictingLearntKeysAreAmbiguous) {
  const PayerMatcher matcher(Customers(), {{"ﾀﾅｶﾀﾛｳ", 1}, {"ﾀﾅｶ ﾀﾛｳ", 2}});
  const PayerMatcher::Match m = matcher.MatchPayer("ﾀﾅｶﾀﾛｳ");
  EXPECT_EQ(m.customer_id, 0);
  EXPECT_EQ(m.reason, UnmatchedReason::kAmbiguousPayer);
  EXPECT_THAT(m.candidates, ElementsAre(1, 2));
}

TEST(NormalizePayerNameTest, SplitsTheLegalFormByPosition) {
  PayerName n = NormalizePayerName("ｶ)ﾔﾏﾀﾞｼｮｳｼﾞ");
  EXPECT_EQ(n.body, "ヤマダシヨウジ");
  EXPECT_EQ(n.legal_form, "株式会社");
  EXPECT_EQ(n.position, FormPosition::kLeading);
  EXPECT_EQ(n.key, "株式会社ヤマダシヨウジ");

  n = NormalizePayerName("ﾔﾏﾀﾞｼﾖｳｼﾞ(ｶ");
  EXPECT_EQ(n.body, "ヤマダシヨウジ");
  EXPECT_EQ(n.position, FormPosition::kTrailing);
  EXPECT_EQ(n.key, "ヤマダシヨウジ株式会社");

  n = NormalizePayerName("ﾛｳﾄﾞｳｼｮｳｼﾞ(ｶ)ｶｽﾐｶﾞｾｷｼｼｬ");
  EXPECT_EQ(n.body, "ロウドウシヨウジカスミガセキシシヤ");
  EXPECT_EQ(n.position, FormPosition::kMiddle);
  EXPECT_EQ(n.key, "ロウドウシヨウジ(株式会社)カスミガセキシシヤ");

  n = NormalizePayerName("ﾆﾎﾝｼﾞﾕｳﾀｸｷﾖｳｶｲ(ｼﾔ");
  EXPECT_EQ(n.legal_form, "社団法人");
  EXPECT_EQ(n.body, "ニホンジユウタクキヨウカイ");

  // A name that merely starts with ｶ is no 株式会社.
  n = NormalizePayerName("ｶﾜｻｷ ｼﾖｳﾃﾝ");
  EXPECT_EQ(n.legal_form, "");
  EXPECT_EQ(n.body, "カワサキシヨウテン");
  // ｼ) is 合資会社, ｼﾔ) 社団法人: the longer abbreviation wins.
  EXPECT_EQ(NormalizePayerName("ｼ)ﾏﾙﾊﾁ").legal_form, "合資会社");
  EXPECT_EQ(NormalizePayerName("ｼﾔ)ﾏﾙﾊﾁ").legal_form, "社団法人");
  EXPECT_EQ(NormalizePayerName("ﾄﾞｸ)ｺｸﾐﾝｾｲｶﾂｾﾝﾀ-").legal_form, "独立行政法人");
  EXPECT_EQ(NormalizePayerName("ﾄﾞ)ｺｸﾐﾝｾｲｶﾂｾﾝﾀ-").legal_form, "合同会社");
}

TEST(NormalizePayerNameTest, KeysAreIdempotent) {
  for (const PayerCase& c : kPayerCases) {
    const std::string key = PayerKey(c.payer);
    EXPECT_EQ(PayerKey(key), key) << c.payer;
  }
  EXPECT_EQ(PayerKey("ﾛｳﾄﾞｳｼｮｳｼﾞ(ｶ)ｶｽﾐｶﾞｾｷｼｼｬ"), PayerKey(PayerKey("ﾛｳﾄﾞｳｼｮｳｼﾞ(ｶ)ｶｽﾐｶﾞｾｷｼｼｬ")));
}

// ---------------------------------------------------------------------------------------------
// Choosing invoices.

OpenInvoice Inv(int64_t id, absl::CivilDay due, int64_t balance, int64_t customer = 101,
                absl::CivilDay issue = Day(2026, 1, 1)) {
  OpenInvoice i;
  i.id = id;
  i.customer_id = customer;
  i.issue_date = issue;
  i.due_date = due;
  i.total = balance;
  i.balance = balance;
  return i;
}

MatchResult Choose(int64_t amount, std::vector<OpenInvoice> invoices, int64_t tolerance) {
  absl::StatusOr<MatchResult> r = ChooseInvoices(amount, std::move(invoices), tolerance);
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return MatchResult{};
  // Every matched kind accounts for the whole payment.
  if (r->kind != MatchKind::kUnmatched) {
    int64_t sum = r->credit;
    int64_t fees = 0;
    for (const Allocation& a : r->allocations) {
      sum += a.amount;
      fees += a.fee;
    }
    EXPECT_EQ(sum, amount);
    EXPECT_EQ(fees, r->fee);
  }
  return *r;
}

// "id:amount+fee[settled]" per allocation, for compact expectations.
std::vector<std::string> Describe(const MatchResult& r) {
  std::vector<std::string> out;
  for (const Allocation& a : r.allocations) {
    out.push_back(absl::StrCat(a.invoice_id, ":", a.amount, "+", a.fee, a.settles ? "" : " open"));
  }
  return out;
}

TEST(ChooseInvoicesTest, ExactAmountFirstEvenIfNotOldest) {
  const MatchResult r =
      Choose(20'000, {Inv(1, Day(2026, 1, 31), 10'000), Inv(2, Day(2026, 2, 28), 20'000)}, 880);
  EXPECT_EQ(r.kind, MatchKind::kMatched);
  EXPECT_THAT(Describe(r), ElementsAre("2:20000+0"));
}

TEST(ChooseInvoicesTest, ExactAmountPrefersTheOldestOfEqualBalances) {
  const MatchResult r =
      Choose(5'000, {Inv(7, Day(2026, 3, 31), 5'000), Inv(8, Day(2026, 2, 28), 5'000)}, 0);
  EXPECT_THAT(Describe(r), ElementsAre("8:5000+0"));
}

TEST(ChooseInvoicesTest, OnePaymentOverSeveralInvoicesOldestFirst) {
  // Given out of order; the oldest by due date, then issue date, then id come first.
  std::vector<OpenInvoice> invoices = {
      Inv(30, Day(2026, 3, 31), 25'000),
      Inv(12, Day(2026, 2, 28), 20'000, 101, Day(2026, 1, 20)),
      Inv(11, Day(2026, 2, 28), 10'000, 101, Day(2026, 1, 31)),
      Inv(10, Day(2026, 2, 28), 7'000, 101, Day(2026, 1, 31)),
  };
  // Oldest first: 12 (issued 01-20), 10, 11 (same issue date, lower id first), 30.
  MatchResult r = Choose(27'000, invoices, 0);
  EXPECT_EQ(r.kind, MatchKind::kMatched);
  EXPECT_THAT(Describe(r), ElementsAre("12:20000+0", "10:7000+0"));
  r = Choose(37'000, invoices, 0);
  EXPECT_THAT(Describe(r), ElementsAre("12:20000+0", "10:7000+0", "11:10000+0"));
  r = Choose(62'000, invoices, 0);
  EXPECT_EQ(r.kind, MatchKind::kMatched);
  EXPECT_THAT(Describe(r), ElementsAre("12:20000+0", "10:7000+0", "11:10000+0", "30:25000+0"));
}

TEST(ChooseInvoicesTest, FeeToleranceIsInclusive) {
  const std::vector<OpenInvoice> one = {Inv(1, Day(2026, 1, 31), 110'000)};
  // Exactly at the tolerance: settled, 880 yen booked as the fee.
  MatchResult r = Choose(109'120, one, 880);
  EXPECT_EQ(r.kind, MatchKind::kMatchedWithFee);
  EXPECT_EQ(r.fee, 880);
  EXPECT_THAT(Describe(r), ElementsAre("1:109120+880"));
  // One yen over: no fee, a partial payment leaving 881 open.
  r = Choose(109'119, one, 880);
  EXPECT_EQ(r.kind, MatchKind::kPartial);
  EXPECT_EQ(r.fee, 0);
  EXPECT_THAT(Describe(r), ElementsAre("1:109119+0 open"));
  // One yen short with no tolerance: partial.
  r = Choose(109'999, one, 0);
  EXPECT_EQ(r.kind, MatchKind::kPartial);
  // A common 440 yen fee.
  r = Choose(109'560, one, 880);
  EXPECT_EQ(r.kind, MatchKind::kMatchedWithFee);
  EXPECT_EQ(r.fee, 440);
}

TEST(ChooseInvoicesTest, FeeOnSeveralInvoicesIsBookedOnTheNewest) {
  const MatchResult r =
      Choose(29'560, {Inv(2, Day(2026, 2, 28), 20'000), Inv(1, Day(2026, 1, 31), 10'000)}, 880);
  EXPECT_EQ(r.kind, MatchKind::kMatchedWithFee);
  EXPECT_EQ(r.fee, 440);
  EXPECT_THAT(Describe(r), ElementsAre("1:10000+0", "2:19560+440"));
}

TEST(ChooseInvoicesTest, ExactBeatsFee) {
  // Invoice 1 (older) would take the payment with a 440 yen fee; invoice 2 is exact.
  MatchResult r =
      Choose(10'000, {Inv(1, Day(2026, 1, 31), 10'440), Inv(2, Day(2026, 2, 28), 10'000)}, 880);
  EXPECT_EQ(r.kind, MatchKind::kMatched);
  EXPECT_THAT(Describe(r), ElementsAre("2:10000+0"));
  // The two oldest add up exactly; the third would take it with a fee.
  r = Choose(10'440,
             {Inv(1, Day(2026, 1, 31), 5'000), Inv(2, Day(2026, 2, 28), 5'440),
              Inv(3, Day(2026, 3, 31), 10'880)},
             880);
  EXPECT_EQ(r.kind, MatchKind::kMatched);
  EXPECT_THAT(Describe(r), ElementsAre("1:5000+0", "2:5440+0"));
}

TEST(ChooseInvoicesTest, PartialPaymentLeavesABalanceOnTheLastReached) {
  const MatchResult r =
      Choose(15'000, {Inv(1, Day(2026, 1, 31), 10'000), Inv(2, Day(2026, 2, 28), 20'000)}, 880);
  EXPECT_EQ(r.kind, MatchKind::kPartial);
  EXPECT_EQ(r.credit, 0);
  EXPECT_THAT(Describe(r), ElementsAre("1:10000+0", "2:5000+0 open"));
}

TEST(ChooseInvoicesTest, OverpaymentBecomesACredit) {
  const MatchResult r =
      Choose(35'000, {Inv(1, Day(2026, 1, 31), 10'000), Inv(2, Day(2026, 2, 28), 20'000)}, 880);
  EXPECT_EQ(r.kind, MatchKind::kOverpayment);
  EXPECT_EQ(r.credit, 5'000);
  EXPECT_THAT(Describe(r), ElementsAre("1:10000+0", "2:20000+0"));
}

TEST(ChooseInvoicesTest, NothingOpen) {
  MatchResult r = Choose(1'000, {}, 880);
  EXPECT_EQ(r.kind, MatchKind::kUnmatched);
  EXPECT_EQ(r.reason, UnmatchedReason::kNoOpenInvoices);
  // Settled invoices (balance 0) are not open.
  r = Choose(1'000, {Inv(1, Day(2026, 1, 31), 0)}, 880);
  EXPECT_EQ(r.reason, UnmatchedReason::kNoOpenInvoices);
}

TEST(ChooseInvoicesTest, RefusesBadInput) {
  absl::StatusOr<MatchResult> r = ChooseInvoices(0, {Inv(1, Day(2026, 1, 31), 1)}, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorReason(r.status()), "AMOUNT_NOT_POSITIVE");
  r = ChooseInvoices(100, {Inv(1, Day(2026, 1, 31), 1)}, -1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(ErrorReason(r.status()), "INVALID_FEE_TOLERANCE");
  // Balances that could not be added up safely.
  r = ChooseInvoices(100, {Inv(1, Day(2026, 1, 31), INT64_MAX), Inv(2, Day(2026, 1, 31), 1)}, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(ErrorReason(r.status()), "AMOUNT_TOO_LARGE");
  r = ChooseInvoices(INT64_MAX, {Inv(1, Day(2026, 1, 31), 1)}, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(ErrorReason(r.status()), "AMOUNT_TOO_LARGE");
}

// ---------------------------------------------------------------------------------------------
// Reconciling a payment end to end.

Payment Pay(const char* payer, int64_t amount) {
  Payment p;
  p.date = Day(2026, 4, 15);
  p.amount = amount;
  p.payer_name = payer;
  return p;
}

TEST(ReconcilePaymentTest, UsesOnlyThePayersInvoices) {
  const PayerMatcher matcher(Customers(), {});
  // Customer 103 has an invoice of exactly the amount; 101's own are older and add up.
  const std::vector<OpenInvoice> open = {
      Inv(1, Day(2026, 1, 31), 30'000, 103),
      Inv(2, Day(2026, 2, 28), 10'000, 101),
      Inv(3, Day(2026, 3, 31), 20'000, 101),
  };
  absl::StatusOr<MatchResult> r = ReconcilePayment(Pay("ｶ)ﾔﾏﾀﾞｼﾖｳｼﾞ", 30'000), matcher, open, 880);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->customer_id, 101);
  EXPECT_EQ(r->source, CustomerMatchSource::kName);
  EXPECT_EQ(r->kind, MatchKind::kMatched);
  EXPECT_THAT(Describe(*r), ElementsAre("2:10000+0", "3:20000+0"));
}

TEST(ReconcilePaymentTest, UnmatchedPayersWaitWithTheirReason) {
  const PayerMatcher matcher(Customers(), {});
  const std::vector<OpenInvoice> open = {Inv(1, Day(2026, 1, 31), 30'000, 103)};
  absl::StatusOr<MatchResult> r = ReconcilePayment(Pay("ﾀﾅｶ ｼﾞﾛｳ", 30'000), matcher, open, 880);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, MatchKind::kUnmatched);
  EXPECT_EQ(r->reason, UnmatchedReason::kUnknownPayer);
  EXPECT_EQ(r->customer_id, 0);
  EXPECT_TRUE(r->allocations.empty());

  r = ReconcilePayment(Pay("ｻﾝﾜ", 30'000), matcher, open, 880);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->reason, UnmatchedReason::kAmbiguousPayer);
  EXPECT_THAT(r->candidates, ElementsAre(118, 119));

  // Known payer, nothing open: a person decides (refund? advance?).
  r = ReconcilePayment(Pay("ﾀﾅｶ ﾀﾛｳ", 30'000), matcher, open, 880);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, MatchKind::kUnmatched);
  EXPECT_EQ(r->reason, UnmatchedReason::kNoOpenInvoices);
  EXPECT_EQ(r->customer_id, 108);
  EXPECT_THAT(r->detail, HasSubstr("no open invoice"));
}

// ---------------------------------------------------------------------------------------------
// Manual allocation.

void ExpectRefused(const absl::Status& s, absl::StatusCode code, const std::string& field,
                   const std::string& reason) {
  EXPECT_EQ(s.code(), code) << s;
  EXPECT_EQ(ErrorReason(s), reason) << s;
  std::vector<FieldViolation> v = FieldViolations(s);
  ASSERT_EQ(v.size(), 1u) << s;
  EXPECT_EQ(v[0].field, field) << s;
}

TEST(CheckManualAllocationTest, AcceptsAndRefuses) {
  const std::vector<OpenInvoice> open = {Inv(1, Day(2026, 1, 31), 10'000),
                                         Inv(2, Day(2026, 2, 28), 20'000)};
  EXPECT_TRUE(
      CheckManualAllocation(30'000, {{1, 9'560, 440, true}, {2, 20'000, 0, true}}, open).ok());
  EXPECT_TRUE(CheckManualAllocation(5'000, {{2, 5'000, 0, false}}, open).ok());
  ExpectRefused(CheckManualAllocation(5'000, {}, open), absl::StatusCode::kInvalidArgument,
                "allocations", "REQUIRED");
  ExpectRefused(CheckManualAllocation(5'000, {{3, 5'000, 0, false}}, open),
                absl::StatusCode::kFailedPrecondition, "allocations[0].invoice_id",
                "INVOICE_NOT_OPEN");
  ExpectRefused(CheckManualAllocation(5'000, {{1, 1'000, 0, false}, {1, 1'000, 0, false}}, open),
                absl::StatusCode::kInvalidArgument, "allocations[1].invoice_id",
                "DUPLICATE_INVOICE");
  ExpectRefused(CheckManualAllocation(50'000, {{1, 10'000, 1, false}}, open),
                absl::StatusCode::kInvalidArgument, "allocations[0].amount", "EXCEEDS_BALANCE");
  ExpectRefused(CheckManualAllocation(25'000, {{1, 10'000, 0, true}, {2, 15'001, 0, false}}, open),
                absl::StatusCode::kInvalidArgument, "allocations[1].amount", "EXCEEDS_PAYMENT");
  ExpectRefused(CheckManualAllocation(25'000, {{1, 0, 0, false}}, open),
                absl::StatusCode::kInvalidArgument, "allocations[0].amount", "AMOUNT_NOT_POSITIVE");
  ExpectRefused(CheckManualAllocation(25'000, {{1, -5, 10, false}}, open),
                absl::StatusCode::kInvalidArgument, "allocations[0].amount", "AMOUNT_NOT_POSITIVE");
}

}  // namespace
}  // namespace anken::billing
