// The PDF renderer, read back the way a person or another program would: the text through
// pdftotext, the fonts through pdffonts, the first page as a picture through pdftoppm.

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/jp/format.h"
#include "common/pdf/document.h"
#include "common/pdf/render.h"
#include "tests/common/pdf/pdf_tools.h"
#include "tests/common/pdf/sample_documents.h"

namespace anken::pdf {
namespace {

using jp::FormatQuantity;
using jp::FormatYen;

using testing::CountLines;
using testing::PagesText;
using testing::Squeeze;

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

std::string MustRender(const Document& d) {
  absl::StatusOr<std::string> pdf = RenderPdf(d);
  EXPECT_TRUE(pdf.ok()) << pdf.status();
  return pdf.value_or("");
}

std::string AllText(const std::vector<std::string>& pages) {
  std::string all;
  for (const auto& p : pages) absl::StrAppend(&all, p, "\n");
  return all;
}

// The table row of line i (0-based) as one squeezed text line: No., item (with ※ when
// reduced), quantity and unit, unit price, amount.
std::string RowText(const Line& l, size_t i) {
  return Squeeze(absl::StrCat(i + 1, l.description,
                              l.tax_category == tax::Category::kReduced ? "※" : "",
                              FormatQuantity(l.quantity_milli), l.unit, FormatYen(l.unit_price),
                              FormatYen(l.amount)));
}

// Everything a qualified invoice must show, checked on the extracted text of `pdf`.
void ExpectQualifiedInvoice(const Document& d, const std::vector<std::string>& pages) {
  ASSERT_FALSE(pages.empty());
  const std::string first = pages.front();
  const std::string last = pages.back();
  // Title, number, issue date, recipient with 御中, issuer with address and 登録番号.
  EXPECT_EQ(CountLines(first, "請求書"), 2) << first;  // the title and the footer
  EXPECT_EQ(CountLines(first, "No. 2026-000042"), 2) << first;
  EXPECT_EQ(CountLines(first, "発行日 2026年4月30日"), 1) << first;
  EXPECT_EQ(CountLines(first, "株式会社アクメ 御中"), 1) << first;
  EXPECT_EQ(CountLines(first, "株式会社アンケン"), 1) << first;
  EXPECT_EQ(CountLines(first, "東京都千代田区丸の内1-1-1"), 1) << first;
  EXPECT_EQ(CountLines(first, "登録番号：T7000012050002"), 1) << first;
  EXPECT_EQ(CountLines(first, "お支払期限 2026年5月31日"), 1) << first;
  EXPECT_EQ(CountLines(first, "お振込先 みずほ銀行 本店 普通 1234567 カ)アンケン"), 1) << first;
  EXPECT_EQ(CountLines(first, absl::StrCat("ご請求金額（税込）", FormatYen(d.totals.total))), 1)
      << first;

  // Every line exactly once, in order, each on its own text line with its ※ mark.
  const std::string all = AllText(pages);
  std::vector<std::string> lines = testing::SqueezedLines(all);
  size_t at = 0;
  for (size_t i = 0; i < d.lines.size(); ++i) {
    const std::string row = RowText(d.lines[i], i);
    size_t found = at;
    while (found < lines.size() && lines[found] != row) ++found;
    ASSERT_LT(found, lines.size()) << "line " << i + 1 << " missing or out of order: " << row;
    at = found + 1;
  }
  int reduced = 0;
  for (const Line& l : d.lines) reduced += l.tax_category == tax::Category::kReduced ? 1 : 0;
  int marked = 0;
  for (const std::string& p : pages) marked += CountLines(p, "※") - CountLines(p, "8%対象※");
  // The legend line carries ※ too.
  EXPECT_EQ(marked, reduced + (reduced > 0 ? 1 : 0)) << all;

  // The totals, on the last page only: per rate (taxable and tax), subtotal, tax, total.
  for (const tax::RateTotal& r : d.totals.per_rate) {
    const std::string label = r.category == tax::Category::kReduced  ? "8%対象※"
                              : r.category == tax::Category::kExempt ? "非課税"
                                                                     : "10%対象";
    const std::string row = absl::StrCat(label, FormatYen(r.taxable), FormatYen(r.tax));
    EXPECT_EQ(CountLines(last, row), 1) << row << "\n" << last;
    EXPECT_EQ(CountLines(all, row), 1) << row;
  }
  EXPECT_EQ(CountLines(last, absl::StrCat("小計（税抜）", FormatYen(d.totals.subtotal))), 1) << last;
  EXPECT_EQ(CountLines(last, absl::StrCat("消費税", FormatYen(d.totals.tax))), 1) << last;
  EXPECT_EQ(CountLines(last, absl::StrCat("合計（税込）", FormatYen(d.totals.total))), 1) << last;
  EXPECT_EQ(CountLines(all, "※は軽減税率対象"), reduced > 0 ? 1 : 0) << all;
  EXPECT_EQ(CountLines(last, "お振込手数料は貴社にてご負担ください。"), 1) << last;
  EXPECT_FALSE(absl::StrContains(all, "取消"));
}

TEST(HonorificTest, OrganisationsGetOnchuAndPeopleSama) {
  for (const char* org : {"株式会社アクメ", "北商事株式会社", "㈱サンプル", "（有）山田商会",
                          "一般社団法人日本協会", "加盟店A工務店", "山田税理士事務所", "Acme Inc.",
                          "Example Co., Ltd."}) {
    EXPECT_EQ(GuessHonorific(org), Honorific::kOnchu) << org;
  }
  for (const char* person : {"山田 太郎", "阿部省吾", "John Smith"}) {
    EXPECT_EQ(GuessHonorific(person), Honorific::kSama) << person;
  }
  EXPECT_EQ(Title(DocumentKind::kInvoice), "請求書");
  EXPECT_EQ(Title(DocumentKind::kQuote), "御見積書");
}

TEST(RenderPdfTest, OneLineInvoiceShowsEveryQualifiedInvoiceItem) {
  Document d = testing::SampleInvoice(1);
  const std::string pdf = MustRender(d);
  ASSERT_TRUE(absl::StartsWith(pdf, "%PDF-"));
  EXPECT_EQ(testing::PageCount(pdf), 1);
  EXPECT_EQ(testing::PdfInfo(pdf, "Page size"), "595.276 x 841.89 pts (A4)");
  const std::vector<std::string> pages = PagesText(pdf);
  ASSERT_EQ(pages.size(), 1u);
  ASSERT_NO_FATAL_FAILURE(ExpectQualifiedInvoice(d, pages));
  // 1 × ¥1,250 at 10%: tax ¥125, total ¥1,375; no reduced line, so no legend.
  EXPECT_EQ(CountLines(pages[0], "1システム保守作業1月次点検・障害対応・報告書作成1式¥1,250¥1,250"), 1)
      << pages[0];
  EXPECT_EQ(CountLines(pages[0], "10%対象¥1,250¥125"), 1) << pages[0];
  EXPECT_EQ(CountLines(pages[0], "合計（税込）¥1,375"), 1) << pages[0];
  EXPECT_EQ(CountLines(pages[0], "1 / 1"), 1) << pages[0];
}

TEST(RenderPdfTest, ThirtyLinesWithThreeRatesShowPerRateSubtotalsTaxesAndTheLegend) {
  Document d = testing::SampleInvoice(30);
  ASSERT_EQ(d.totals.per_rate.size(), 3u);
  const std::vector<std::string> pages = PagesText(MustRender(d));
  ASSERT_NO_FATAL_FAILURE(ExpectQualifiedInvoice(d, pages));
  // The tax library's numbers, spelled out once so that a formatting slip cannot hide.
  const std::string all = AllText(pages);
  EXPECT_EQ(CountLines(all, "10%対象¥214,500¥21,450"), 1) << all;
  EXPECT_EQ(CountLines(all, "8%対象※¥101,250¥8,100"), 1) << all;
  EXPECT_EQ(CountLines(all, "非課税¥40,500¥0"), 1) << all;
  EXPECT_EQ(CountLines(all, "合計（税込）¥385,800"), 1) << all;
}

TEST(RenderPdfTest, TwoHundredLinesBreakOntoPagesThatEachRepeatTheTableHeader) {
  Document d = testing::SampleInvoice(200);
  const std::string pdf = MustRender(d);
  const std::vector<std::string> pages = PagesText(pdf);
  const int count = testing::PageCount(pdf);
  ASSERT_GT(count, 1);
  ASSERT_EQ(pages.size(), static_cast<size_t>(count));
  ASSERT_NO_FATAL_FAILURE(ExpectQualifiedInvoice(d, pages));
  for (int p = 0; p < count; ++p) {
    const std::string& page = pages[p];
    const bool has_rows = CountLines(page, "システム保守作業") > 0;
    // Each page with rows starts its table with the header; each page says which document
    // it belongs to, to whom, and where it stands.
    if (has_rows) {
      EXPECT_EQ(CountLines(page, "No.品目・内容数量単価金額"), 1) << "page " << p + 1;
    }
    EXPECT_EQ(CountLines(page, absl::StrCat(p + 1, " / ", count)), 1) << "page " << p + 1;
    EXPECT_EQ(CountLines(page, "株式会社アクメ 御中"), 1) << "page " << p + 1;
    if (p > 0) {
      EXPECT_EQ(CountLines(page, "請求書（続き）"), 1) << "page " << p + 1;
    }
    // The totals only once, on the last page.
    EXPECT_EQ(CountLines(page, "合計（税込）"), p + 1 == count ? 1 : 0) << "page " << p + 1;
  }
  EXPECT_EQ(CountLines(pages[1], "No.品目・内容数量単価金額"), 1);
}

TEST(RenderPdfTest, ACancelledInvoiceShowsTorikeshiOnEveryPage) {
  Document d = testing::SampleInvoice(80);
  d.cancelled = true;
  d.cancel_date = absl::CivilDay(2026, 5, 2);
  d.notes.push_back("取消理由：金額誤り");
  const std::string pdf = MustRender(d);
  const std::vector<std::string> pages = PagesText(pdf);
  ASSERT_GT(pages.size(), 1u);
  EXPECT_EQ(CountLines(pages[0], "【取消】この請求書は取り消されました（取消日 2026年5月2日）"), 1)
      << pages[0];
  for (size_t p = 0; p < pages.size(); ++p) {
    EXPECT_TRUE(absl::StrContains(pages[p], "取消")) << "page " << p + 1 << "\n" << pages[p];
  }
  EXPECT_EQ(CountLines(pages.back(), "取消理由：金額誤り"), 1);
  // The same invoice not cancelled says nothing of it.
  d.cancelled = false;
  d.notes.pop_back();
  EXPECT_FALSE(absl::StrContains(AllText(PagesText(MustRender(d))), "取消"));
}

TEST(RenderPdfTest, AQuoteHasItsTitleValidityAndSama) {
  Document d = testing::SampleQuote();
  const std::vector<std::string> pages = PagesText(MustRender(d));
  ASSERT_EQ(pages.size(), 1u);
  const std::string& p = pages[0];
  EXPECT_EQ(CountLines(p, "御見積書"), 2) << p;
  EXPECT_EQ(CountLines(p, "見積日 2026年4月15日"), 1) << p;
  EXPECT_EQ(CountLines(p, "山田 太郎 様"), 1) << p;
  EXPECT_EQ(CountLines(p, "件名：基幹システム更改"), 1) << p;
  EXPECT_EQ(CountLines(p, "有効期限 2026年5月15日"), 1) << p;
  EXPECT_EQ(CountLines(p, "御見積金額（税込）¥2,203,499"), 1) << p;
  EXPECT_EQ(CountLines(p, "1要件定義2.5人月¥800,000¥2,000,000"), 1) << p;
  EXPECT_EQ(CountLines(p, "2打合せ用菓子※3箱¥1,080¥3,240"), 1) << p;
  EXPECT_EQ(CountLines(p, "8%対象※¥3,240¥259"), 1) << p;
  EXPECT_EQ(CountLines(p, "※は軽減税率対象"), 1) << p;
  EXPECT_FALSE(absl::StrContains(p, "お支払期限")) << p;
  EXPECT_FALSE(absl::StrContains(p, "御中")) << p;
}

TEST(RenderPdfTest, TheSameDocumentGivesTheSameBytesInThisAndAnotherProcess) {
  for (int lines : {1, 30, 200}) {
    Document d = testing::SampleInvoice(lines);
    const std::string first = MustRender(d);
    const std::string second = MustRender(d);
    ASSERT_FALSE(first.empty());
    EXPECT_TRUE(first == second) << lines << " lines: two renderings differ";
    // Another process has other addresses (ASLR) and a cold font cache.
    const std::string path = testing::WriteTemp("", "other.pdf");
    testing::Run(absl::StrCat("'", ANKEN_PDF_SAMPLE, "' invoice ", lines, " '", path, "'"));
    EXPECT_TRUE(ReadFile(path) == first) << lines << " lines: another process rendered other bytes";
    std::remove(path.c_str());
  }
  // The creation date is the issue date, not the clock.
  Document d = testing::SampleInvoice(1);
  const std::string pdf = MustRender(d);
  EXPECT_EQ(testing::PdfInfo(pdf, "CreationDate"), "2026-04-30T00:00:00+09");
  EXPECT_EQ(testing::PdfInfo(pdf, "ModDate"), "2026-04-30T00:00:00+09");
  // And it is the only thing a later issue date changes in the document's info.
  d.issue_date = absl::CivilDay(2027, 1, 4);
  EXPECT_EQ(testing::PdfInfo(MustRender(d), "CreationDate"), "2027-01-04T00:00:00+09");
}

TEST(RenderPdfTest, ConcurrentRenderingsGiveTheSameBytes) {
  // The service renders on several gRPC threads at once.
  const Document d = testing::SampleInvoice(60);
  const std::string expected = MustRender(d);
  std::vector<std::string> results(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 3; ++i) {
        absl::StatusOr<std::string> pdf = RenderPdf(d);
        results[t] = pdf.ok() ? *pdf : "";
        if (results[t] != expected) return;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (size_t t = 0; t < results.size(); ++t) {
    EXPECT_TRUE(results[t] == expected) << "thread " << t;
  }
}

TEST(RenderPdfTest, TheJapaneseFontIsEmbedded) {
  const std::vector<testing::FontRow> fonts =
      testing::Fonts(MustRender(testing::SampleInvoice(30)));
  ASSERT_FALSE(fonts.empty());
  for (const testing::FontRow& f : fonts) {
    EXPECT_TRUE(absl::EndsWith(f.name, "+IPAexGothic")) << f.name;  // a subset
    EXPECT_TRUE(f.embedded) << f.name;
  }
  bool cid = false;
  for (const testing::FontRow& f : fonts) cid = cid || f.type == "CID TrueType";
  EXPECT_TRUE(cid) << "no CID font: the Japanese glyphs are not in the file";
}

TEST(RenderPdfTest, TextThatIsNotUtf8IsRefused) {
  Document d = testing::SampleInvoice(2);
  d.lines[1].description = "\xff\xfe";
  absl::StatusOr<std::string> pdf = RenderPdf(d);
  EXPECT_EQ(pdf.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(pdf.status().message(), "lines[1]")) << pdf.status();
}

// The first page as a person sees it (pdftoppm at 60 dpi), kept as
// testdata/invoice_page1.png for review: after a layout change, rewrite it with
// ANKEN_UPDATE_PDF_REFERENCE=1 ctest -R pdf_test and look at it. The pixels are not compared
// (rasterizing depends on the poppler and freetype builds of the machine, which a security
// update may change); the PDF's own bytes are (TheSameDocumentGivesTheSameBytesInThisAndAnotherProcess and the
// text checks), and the picture must stay an A4 page.
TEST(RenderPdfTest, TheReviewedReferenceImageIsAnA4Page) {
  Document d = testing::SampleInvoice(12);
  const std::string pdf_path = testing::WriteTemp(MustRender(d), "page.pdf");
  const std::string prefix = absl::StrCat(pdf_path, "-page1");
  testing::Run(absl::StrCat("pdftoppm -r 60 -png -f 1 -l 1 -singlefile '", pdf_path, "' '",
                            prefix, "'"));
  const std::string png = ReadFile(prefix + ".png");
  std::remove(pdf_path.c_str());
  std::remove((prefix + ".png").c_str());
  ASSERT_GT(png.size(), 24u);
  ASSERT_EQ(png.substr(1, 3), "PNG");
  // IHDR: width and height, big-endian, at offsets 16 and 20. A4 at 60 dpi is 497 × 702
  // (rounded up).
  auto be32 = [&](size_t at) {
    return (static_cast<uint32_t>(static_cast<unsigned char>(png[at])) << 24) |
           (static_cast<uint32_t>(static_cast<unsigned char>(png[at + 1])) << 16) |
           (static_cast<uint32_t>(static_cast<unsigned char>(png[at + 2])) << 8) |
           static_cast<uint32_t>(static_cast<unsigned char>(png[at + 3]));
  };
  EXPECT_EQ(be32(16), 497u);
  EXPECT_EQ(be32(20), 702u);
  const std::string reference = std::string(ANKEN_PDF_TESTDATA) + "/invoice_page1.png";
  if (const char* update = std::getenv("ANKEN_UPDATE_PDF_REFERENCE");
      update != nullptr && std::string(update) == "1") {
    std::ofstream(reference, std::ios::binary) << png;
  }
  const std::string kept = ReadFile(reference);
  ASSERT_GT(kept.size(), 24u) << reference;
  EXPECT_EQ(kept.substr(1, 3), "PNG");
  EXPECT_EQ(kept.substr(16, 8), png.substr(16, 8)) << reference << " is not an A4 page at 60 dpi";
}

}  // namespace
}  // namespace anken::pdf
