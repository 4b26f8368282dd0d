// GetQuotePdf through the real project service (real customer service, Postgres): a quote
// made through the API, fetched as PDF and read back with pdftotext.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "tests/common/pdf/pdf_tools.h"
#include "tests/services/project/project_fixture.h"

namespace anken::project::testing {
namespace {

using pdf::testing::CountLines;
using pdf::testing::PagesText;

constexpr char kIssuerName[] = "株式会社アンケン";
constexpr char kIssuerNumber[] = "T7000012050002";
constexpr char kIssuerAddress[] = "〒100-0005 東京都千代田区丸の内1-1-1";

class QuotePdfTest : public ProjectServiceTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(ProjectServiceTest::SetUp());
    // A second project service over the same store and directory, configured with the
    // company as main.cc reads it from ANKEN_ISSUER_*.
    ProjectServiceOptions o;
    o.issuer_name = kIssuerName;
    o.issuer_registration_number = kIssuerNumber;
    o.issuer_address = kIssuerAddress;
    printing_ = std::make_unique<ProjectServiceImpl>(project_store_, *directory_, clock_,
                                                     page_tokens_, std::move(o));
    printing_host_ = std::make_unique<anken::testing::TestHost>(
        std::vector<grpc::Service*>{printing_.get()}, ProjectServiceImpl::Roles(), clock_);
    printing_stub_ = v1::ProjectService::NewStub(printing_host_->channel());
  }

  // A quote with a 10% line (2.5 人月 × ¥800,000) and a reduced 8% one (3 箱 × ¥1,080).
  v1::Quote MustCreateMixedQuote(int64_t project_id) {
    v1::QuoteLine work = FreeLine("要件定義", 2500, 800000, common::v1::TAX_CATEGORY_STANDARD);
    work.set_unit("人月");
    v1::QuoteLine food = FreeLine("打合せ用菓子", 3000, 1080, common::v1::TAX_CATEGORY_REDUCED);
    food.set_unit("箱");
    v1::Quote q = NewQuote(project_id, {work, food});
    q.set_note("納期はご発注後2か月を予定しております。");
    return MustCreateQuote(q);
  }

  absl::StatusOr<v1::GetQuotePdfResponse> Pdf(Stub* stub, int64_t id, const std::string& token) {
    v1::GetQuotePdfRequest req;
    req.set_id(id);
    return CallOn(stub, &Stub::GetQuotePdf, req, token);
  }

  std::unique_ptr<ProjectServiceImpl> printing_;
  std::unique_ptr<anken::testing::TestHost> printing_host_;
  std::unique_ptr<Stub> printing_stub_;
};

TEST_F(QuotePdfTest, AQuotePrintsTitleRecipientLinesTotalsAndValidity) {
  const v1::Project p = MustCreateProject(NewProject("基幹システム更改"));
  const v1::Quote q = MustCreateMixedQuote(p.id());
  ASSERT_EQ(q.total(), 2203499);  // 2,003,240 + 200,000 + floor(259.2)

  absl::StatusOr<v1::GetQuotePdfResponse> pdf = Pdf(printing_stub_.get(), q.id(), staff_);
  ASSERT_TRUE(pdf.ok()) << pdf.status();
  const std::string number = absl::StrCat(p.number(), "-", q.number());
  EXPECT_EQ(pdf->filename(), absl::StrCat("見積書_", number, ".pdf"));
  const std::vector<std::string> pages = PagesText(pdf->pdf());
  ASSERT_EQ(pages.size(), 1u);
  const std::string& text = pages[0];
  for (const std::string& item : std::vector<std::string>{
           "御見積書",
           absl::StrCat("No. ", number),
           "見積日 2026年4月15日",
           "株式会社アクティブ 御中",
           "件名：基幹システム更改",
           kIssuerName,
           kIssuerAddress,
           "登録番号：T7000012050002",
           "有効期限 2026年5月15日",
           "御見積金額（税込）¥2,203,499",
           "要件定義2.5人月¥800,000¥2,000,000",
           "打合せ用菓子※3箱¥1,080¥3,240",
           "10%対象¥2,000,000¥200,000",
           "8%対象※¥3,240¥259",
           "小計（税抜）¥2,003,240",
           "消費税¥200,259",
           "合計（税込）¥2,203,499",
           "※は軽減税率対象",
           "納期はご発注後2か月を予定しております。",
       }) {
    EXPECT_GE(CountLines(text, item), 1) << item << "\n" << text;
  }
  EXPECT_FALSE(absl::StrContains(text, "お支払期限")) << text;

  // Deterministic: the same quote, the same bytes.
  absl::StatusOr<v1::GetQuotePdfResponse> again = Pdf(printing_stub_.get(), q.id(), accounting_);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->pdf() == pdf->pdf());

  // Without ANKEN_ISSUER_* the company block is left off, the rest stays.
  absl::StatusOr<v1::GetQuotePdfResponse> plain = Pdf(stub_.get(), q.id(), admin_);
  ASSERT_TRUE(plain.ok()) << plain.status();
  const std::string plain_text = PagesText(plain->pdf()).at(0);
  EXPECT_EQ(CountLines(plain_text, "登録番号"), 0) << plain_text;
  EXPECT_EQ(CountLines(plain_text, "合計（税込）¥2,203,499"), 1) << plain_text;
}

TEST_F(QuotePdfTest, APersonIsAddressedSama) {
  customer::v1::Customer person = Corporation("山田 太郎");
  person.set_kind(customer::v1::CUSTOMER_KIND_INDIVIDUAL);
  const customer::v1::Customer created = MustCreateCustomer(person);
  ASSERT_GT(created.id(), 0);
  v1::Project p = NewProject("自宅リフォーム");
  p.set_customer_id(created.id());
  const v1::Quote q = MustCreateMixedQuote(MustCreateProject(p).id());
  absl::StatusOr<v1::GetQuotePdfResponse> pdf = Pdf(printing_stub_.get(), q.id(), staff_);
  ASSERT_TRUE(pdf.ok()) << pdf.status();
  const std::string text = PagesText(pdf->pdf()).at(0);
  EXPECT_EQ(CountLines(text, "山田 太郎 様"), 1) << text;
  EXPECT_FALSE(absl::StrContains(text, "御中")) << text;
}

TEST_F(QuotePdfTest, ScopeAndErrors) {
  const v1::Quote q = MustCreateMixedQuote(MustCreateProject(NewProject("範囲")).id());
  EXPECT_EQ(Pdf(printing_stub_.get(), q.id(), PartnerToken(partner_a_)).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Pdf(printing_stub_.get(), q.id(), service_token_).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Pdf(printing_stub_.get(), kUnknownId, staff_).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(IsInvalidField(Pdf(printing_stub_.get(), 0, staff_).status(), "id"));
}

}  // namespace
}  // namespace anken::project::testing
