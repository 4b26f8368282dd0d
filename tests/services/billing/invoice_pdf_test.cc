// GetInvoicePdf through the real billing service (real project and customer services,
// Postgres): an invoice issued through the API, fetched as PDF and read back with pdftotext.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/common/pdf/pdf_tools.h"
#include "tests/services/billing/billing_fixture.h"

namespace anken::billing::testing {
namespace {

using pdf::testing::CountLines;
using pdf::testing::PagesText;

constexpr char kAddress[] = "〒100-0005 東京都千代田区丸の内1-1-1";
constexpr char kBank[] = "みずほ銀行 本店 普通 1234567 カ)アンケン";
// After the company moved and changed bank.
constexpr char kNewAddress[] = "〒530-0001 大阪府大阪市北区梅田2-2-2";
constexpr char kNewBank[] = "三井住友銀行 梅田支店 普通 7654321 カ)アンケン";

class InvoicePdfTest : public BillingServiceTest {
 protected:
  // A billing instance configured with the issuer's address and bank account.
  BillingInstance& Printing() {
    BillingServiceOptions o = Options(tax::Rounding::kFloor);
    o.issuer_address = kAddress;
    o.issuer_bank_account = kBank;
    return StartBilling(std::move(o));
  }
  // One configured after the company moved and changed bank.
  BillingInstance& Moved() {
    BillingServiceOptions o = Options(tax::Rounding::kFloor);
    o.issuer_address = kNewAddress;
    o.issuer_bank_account = kNewBank;
    return StartBilling(std::move(o));
  }

  // acme_'s invoice of 2019-07-10: the design's 10% example (3 × ¥1,005: tax ¥301, not ¥300)
  // and two reduced-rate (8%) entries of ¥1,080 and ¥540 (tax floor(129.6) = ¥129).
  v1::Invoice MustIssueMixedInvoice(Stub* stub) {
    const project::v1::Project work = WonCase("保守作業", acme_);
    const v1::BillingPlan standard = MustSetPlan(
        SplitPlan(work.id(), {Planned(D(2019, 7, 1), D(2019, 7, 1), 1005, "作業費A"),
                              Planned(D(2019, 7, 2), D(2019, 7, 2), 1005, "作業費B"),
                              Planned(D(2019, 7, 3), D(2019, 7, 3), 1005, "作業費C")}));
    const project::v1::Project food = WonCase("会議用飲食", acme_);
    const v1::BillingPlan reduced = MustSetPlan(
        SplitPlan(food.id(), {Planned(D(2019, 7, 4), D(2019, 7, 4), 1080, "会議用弁当"),
                              Planned(D(2019, 7, 5), D(2019, 7, 5), 540, "打合せ用菓子")},
                  common::v1::TAX_CATEGORY_REDUCED));
    MakeReady(standard);
    MakeReady(reduced);
    absl::StatusOr<v1::Invoice> inv =
        IssueOn(stub, acme_.id(), D(2019, 7, 10), {}, NextRequestId(), accounting_);
    EXPECT_TRUE(inv.ok()) << inv.status();
    return inv.value_or(v1::Invoice());
  }

  absl::StatusOr<v1::GetInvoicePdfResponse> Pdf(Stub* stub, int64_t id,
                                                const std::string& token) {
    v1::GetInvoicePdfRequest req;
    req.set_id(id);
    return CallOn(stub, &Stub::GetInvoicePdf, req, token);
  }
};

TEST_F(InvoicePdfTest, AnIssuedInvoicePrintsEveryQualifiedInvoiceItem) {
  BillingInstance& printing = Printing();
  const v1::Invoice inv = MustIssueMixedInvoice(printing.stub.get());
  ASSERT_EQ(inv.number(), "2019-000001");
  ASSERT_EQ(inv.total(), 5065);  // 4,635 + 301 + 129

  absl::StatusOr<v1::GetInvoicePdfResponse> pdf = Pdf(printing.stub.get(), inv.id(), staff_);
  ASSERT_TRUE(pdf.ok()) << pdf.status();
  EXPECT_EQ(pdf->filename(), "請求書_2019-000001.pdf");
  ASSERT_TRUE(absl::StartsWith(pdf->pdf(), "%PDF-"));
  const std::vector<std::string> pages = PagesText(pdf->pdf());
  ASSERT_EQ(pages.size(), 1u);
  const std::string& p = pages[0];
  for (const std::string& item : std::vector<std::string>{
           "請求書",
           "No. 2019-000001",
           "発行日 2019年7月10日",
           "株式会社アクメ 御中",  // recipient with 御中
           kIssuerName,
           kAddress,
           "登録番号：T7000012050002",
           "お支払期限 2019年8月31日",  // 月末締め翌月末払い
           std::string("お振込先 ") + kBank,
           "ご請求金額（税込）¥5,065",
           // lines: quantity 1 at the entry's amount; ※ on the reduced ones
           "作業費A1¥1,005¥1,005",
           "作業費B1¥1,005¥1,005",
           "作業費C1¥1,005¥1,005",
           "会議用弁当※1¥1,080¥1,080",
           "打合せ用菓子※1¥540¥540",
           // per rate: taxable amount and tax, computed once per rate
           "10%対象¥3,015¥301",
           "8%対象※¥1,620¥129",
           "小計（税抜）¥4,635",
           "消費税¥430",
           "合計（税込）¥5,065",
           "※は軽減税率対象",
       }) {
    EXPECT_GE(CountLines(p, item), 1) << item << "\n" << p;
  }
  // Two marked lines, the 8% row of the totals and the legend.
  EXPECT_EQ(CountLines(p, "※"), 4) << p;
  EXPECT_FALSE(absl::StrContains(p, "取消")) << p;

  // The same invoice renders to the same bytes (it can be archived and compared).
  absl::StatusOr<v1::GetInvoicePdfResponse> again = Pdf(printing.stub.get(), inv.id(), accounting_);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->pdf() == pdf->pdf());
  EXPECT_EQ(pdf::testing::PdfInfo(pdf->pdf(), "CreationDate"), "2019-07-10T00:00:00+09");
}

// The address and bank account are frozen on the invoice at issue: an instance configured
// with others (the company moved, changed bank) still prints the issued ones, byte for byte.
TEST_F(InvoicePdfTest, TheIssuersAddressAndBankAccountAreThoseOfTheIssue) {
  BillingInstance& printing = Printing();
  const v1::Invoice inv = MustIssueMixedInvoice(printing.stub.get());
  EXPECT_EQ(inv.issuer_address(), kAddress);  // the API shows what the PDF prints
  EXPECT_EQ(inv.issuer_bank_account(), kBank);
  absl::StatusOr<v1::Invoice> read = GetInvoice(inv.id());  // an instance configured with none
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->issuer_address(), kAddress);
  EXPECT_EQ(read->issuer_bank_account(), kBank);
  absl::StatusOr<v1::GetInvoicePdfResponse> issued = Pdf(printing.stub.get(), inv.id(), staff_);
  ASSERT_TRUE(issued.ok()) << issued.status();

  BillingInstance& moved = Moved();
  absl::StatusOr<v1::GetInvoicePdfResponse> later = Pdf(moved.stub.get(), inv.id(), staff_);
  ASSERT_TRUE(later.ok()) << later.status();
  const std::string p = PagesText(later->pdf()).at(0);
  EXPECT_EQ(CountLines(p, kAddress), 1) << p;
  EXPECT_EQ(CountLines(p, std::string("お振込先 ") + kBank), 1) << p;
  EXPECT_EQ(CountLines(p, kNewAddress), 0) << p;
  EXPECT_EQ(CountLines(p, kNewBank), 0) << p;
  EXPECT_TRUE(later->pdf() == issued->pdf());

  // Issued without ANKEN_ISSUER_BANK_ACCOUNT / _ADDRESS: no bank line and no address, and a
  // configuration set later does not add them.
  const project::v1::Project extra = WonCase("追加作業", acme_);
  MakeReady(MustSetPlan(
      SplitPlan(extra.id(), {Planned(D(2019, 7, 6), D(2019, 7, 6), 2000, "追加作業費")})));
  absl::StatusOr<v1::Invoice> plain = IssueOn(stub_.get(), acme_.id(), D(2019, 7, 10), {},
                                              NextRequestId(), accounting_);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->issuer_address(), "");
  EXPECT_EQ(plain->issuer_bank_account(), "");
  for (Stub* stub : {stub_.get(), moved.stub.get()}) {
    absl::StatusOr<v1::GetInvoicePdfResponse> pdf = Pdf(stub, plain->id(), admin_);
    ASSERT_TRUE(pdf.ok()) << pdf.status();
    const std::string text = PagesText(pdf->pdf()).at(0);
    EXPECT_EQ(CountLines(text, "お振込先"), 0) << text;
    EXPECT_EQ(CountLines(text, kNewAddress), 0) << text;
    EXPECT_EQ(CountLines(text, "登録番号：T7000012050002"), 1) << text;
  }
}

// An invoice issued before migration V003 stored nothing (NULL): its PDF prints the
// configured address and bank account, as every PDF did then.
TEST_F(InvoicePdfTest, AnInvoiceIssuedBeforeV003PrintsTheConfiguredOnes) {
  BillingInstance& printing = Printing();
  const v1::Invoice inv = MustIssueMixedInvoice(printing.stub.get());
  EXPECT_EQ(Count(absl::StrCat("SELECT count(*) FROM billing.invoices WHERE id = ", inv.id(),
                               " AND issuer_address IS NOT NULL"
                               " AND issuer_bank_account IS NOT NULL")),
            1);
  Exec(absl::StrCat("UPDATE billing.invoices SET issuer_address = NULL, "
                    "issuer_bank_account = NULL WHERE id = ", inv.id()));

  BillingInstance& moved = Moved();
  absl::StatusOr<v1::GetInvoicePdfResponse> pdf = Pdf(moved.stub.get(), inv.id(), staff_);
  ASSERT_TRUE(pdf.ok()) << pdf.status();
  const std::string p = PagesText(pdf->pdf()).at(0);
  EXPECT_EQ(CountLines(p, kNewAddress), 1) << p;
  EXPECT_EQ(CountLines(p, std::string("お振込先 ") + kNewBank), 1) << p;
  EXPECT_EQ(CountLines(p, kAddress), 0) << p;

  // Unconfigured, such an invoice has neither.
  absl::StatusOr<v1::GetInvoicePdfResponse> plain = Pdf(stub_.get(), inv.id(), staff_);
  ASSERT_TRUE(plain.ok()) << plain.status();
  const std::string plain_text = PagesText(plain->pdf()).at(0);
  EXPECT_EQ(CountLines(plain_text, "お振込先"), 0) << plain_text;
  EXPECT_EQ(CountLines(plain_text, kAddress), 0) << plain_text;
}

TEST_F(InvoicePdfTest, ACancelledInvoicePrintsTorikeshiAndTheReason) {
  BillingInstance& printing = Printing();
  const v1::Invoice inv = MustIssueMixedInvoice(printing.stub.get());
  absl::StatusOr<v1::GetInvoicePdfResponse> before = Pdf(printing.stub.get(), inv.id(), staff_);
  ASSERT_TRUE(before.ok()) << before.status();

  absl::StatusOr<v1::Invoice> cancelled = Cancel(inv.id(), "金額誤りのため再発行", accounting_);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  absl::StatusOr<v1::GetInvoicePdfResponse> after = Pdf(printing.stub.get(), inv.id(), staff_);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_FALSE(after->pdf() == before->pdf());
  const std::string p = PagesText(after->pdf()).at(0);
  // The clock stands at 2019-07-10 (Asia/Tokyo), when it was cancelled.
  EXPECT_EQ(CountLines(p, "【取消】この請求書は取り消されました（取消日 2019年7月10日）"), 1) << p;
  EXPECT_EQ(CountLines(p, "取消理由：金額誤りのため再発行"), 1) << p;
  // Still the full invoice underneath.
  EXPECT_EQ(CountLines(p, "合計（税込）¥5,065"), 1) << p;
}

TEST_F(InvoicePdfTest, ScopeAndErrors) {
  const v1::Invoice inv = MustIssueMixedInvoice(stub_.get());
  EXPECT_TRUE(Pdf(stub_.get(), inv.id(), staff_).ok());
  EXPECT_TRUE(Pdf(stub_.get(), inv.id(), accounting_).ok());
  EXPECT_TRUE(IsError(Pdf(stub_.get(), inv.id(), service_token_).status(),
                      absl::StatusCode::kPermissionDenied));
  EXPECT_TRUE(IsError(Pdf(stub_.get(), inv.id(), "").status(),
                      absl::StatusCode::kUnauthenticated));
  EXPECT_TRUE(IsError(Pdf(stub_.get(), kUnknownId, staff_).status(), absl::StatusCode::kNotFound));
  EXPECT_TRUE(IsInvalidField(Pdf(stub_.get(), 0, staff_).status(), "id"));
}

}  // namespace
}  // namespace anken::billing::testing
