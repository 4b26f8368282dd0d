// ankenctl's pure parts: display width and table rendering (Japanese text aligned by terminal
// columns, yen, empty lists), argument parsing, request values and cells read from messages.

#include <gtest/gtest.h>

#include "anken/billing/v1/billing_service.pb.h"
#include "anken/customer/v1/customer_service.pb.h"
#include "anken/project/v1/project_service.pb.h"
#include "tools/ankenctl/args.h"
#include "tools/ankenctl/cells.h"
#include "tools/ankenctl/request.h"
#include "tools/ankenctl/table.h"

namespace anken::ctl {
namespace {

TEST(DisplayWidthTest, WideCharactersTakeTwoColumns) {
  EXPECT_EQ(DisplayWidth(""), 0);
  EXPECT_EQ(DisplayWidth("abc"), 3);
  EXPECT_EQ(DisplayWidth("東京都"), 6);
  EXPECT_EQ(DisplayWidth("株式会社サンプル"), 16);
  EXPECT_EQ(DisplayWidth("ＡＢＣ"), 6);         // fullwidth Latin
  EXPECT_EQ(DisplayWidth("ｶﾌﾞｼｷ"), 5);          // half-width katakana stay narrow
  EXPECT_EQ(DisplayWidth("Webサイト制作"), 3 + 10);
  EXPECT_EQ(DisplayWidth("¥1,000"), 6);          // U+00A5 is narrow
  EXPECT_EQ(DisplayWidth("\xff" "a"), 2);        // an invalid byte counts one
}

TEST(YenTest, ThousandsSeparators) {
  EXPECT_EQ(Yen(0), "¥0");
  EXPECT_EQ(Yen(999), "¥999");
  EXPECT_EQ(Yen(1234567), "¥1,234,567");
  EXPECT_EQ(Yen(-1000), "-¥1,000");
}

TEST(TableTest, AlignsJapaneseByDisplayWidth) {
  Table t({"ID", "NAME", "AMOUNT"});
  t.AlignRight(2);
  t.AddRow({"1", "株式会社サンプル", Yen(330000)});
  t.AddRow({"12", "ABC", Yen(5)});
  // NAME is 16 columns wide (8 wide characters), AMOUNT 8 ("¥330,000"), right-aligned.
  EXPECT_EQ(t.Render(),
            "ID  NAME" + std::string(12 + 2, ' ') + "  AMOUNT\n"
            "1   株式会社サンプル  ¥330,000\n"
            "12  ABC" + std::string(13 + 2 + 6, ' ') + "¥5\n");
}

TEST(TableTest, EmptyListPrintsHeaderAndNone) {
  Table t({"ID", "NAME"});
  EXPECT_EQ(t.Render(), "ID  NAME\n(none)\n");
}

TEST(TableTest, ShortRowsArePaddedAndNoTrailingSpaces) {
  Table t({"A", "B"});
  t.AddRow({"長い名前"});
  EXPECT_EQ(t.Render(), "A         B\n長い名前\n");
}

TEST(TableTest, DetailPadsLabels) {
  EXPECT_EQ(RenderDetail({{"id", "1"}, {"name", "東京"}, {"memo", ""}}),
            "id    1\nname  東京\nmemo\n");
}

TEST(ParseArgsTest, WordsFlagsAndSwitches) {
  auto a = ParseArgs({"customers", "list", "--query", "ｻﾝﾌﾟﾙ", "--json", "--page-size=5", "-o",
                      "out.xlsx", "--all"});
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->words, (std::vector<std::string>{"customers", "list"}));
  EXPECT_EQ(a->Flag("query"), "ｻﾝﾌﾟﾙ");
  EXPECT_EQ(a->Flag("page-size"), "5");
  EXPECT_EQ(a->Flag("output"), "out.xlsx");
  EXPECT_TRUE(a->Has("json"));
  EXPECT_TRUE(a->Has("all"));
  EXPECT_FALSE(a->Has("dry-run"));
  EXPECT_EQ(a->Flag("missing", "fallback"), "fallback");
}

TEST(ParseArgsTest, SwitchesTakeNoValueSoOperandsFollow) {
  auto a = ParseArgs({"reports", "upload", "--dry-run", "7", "file.xlsx"});
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->words, (std::vector<std::string>{"reports", "upload", "7", "file.xlsx"}));
  EXPECT_TRUE(a->Has("dry-run"));
}

TEST(ParseArgsTest, JsonArgumentAndStdinDashAreWords) {
  auto a = ParseArgs({"call", "pkg.S/M", "-", "--addr", "h:1"});
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->words, (std::vector<std::string>{"call", "pkg.S/M", "-"}));
  EXPECT_EQ(a->Flag("addr"), "h:1");
}

TEST(ParseArgsTest, Errors) {
  EXPECT_FALSE(ParseArgs({"customers", "list", "--query"}).ok());  // value missing
  EXPECT_FALSE(ParseArgs({"--json=yes"}).ok());                     // a switch with a value
}

TEST(RequestTest, JsonObjectEscapesAndTypes) {
  JsonObject o;
  o.Str("name", "株式会社\"A\"").Int("id", 42).Bool("ok", true).Raw("list", "[1,2]");
  EXPECT_EQ(o.str(), R"({"name":"株式会社\"A\"","id":"42","ok":true,"list":[1,2]})");
  EXPECT_EQ(JsonObject().str(), "{}");
}

TEST(RequestTest, ValuesUsersType) {
  EXPECT_EQ(*ParseId("12", "id"), 12);
  EXPECT_FALSE(ParseId("0", "id").ok());
  EXPECT_FALSE(ParseId("x", "id").ok());
  EXPECT_EQ(*ParseIds("4, 5,6", "--entries"), (std::vector<int64_t>{4, 5, 6}));
  EXPECT_FALSE(ParseIds("4,x", "--entries").ok());
  EXPECT_EQ(*ParseYen("330,000", "--amount"), 330000);
  EXPECT_EQ(*ParseYen("¥1,200", "--amount"), 1200);
  EXPECT_FALSE(ParseYen("1.5", "--amount").ok());
  EXPECT_EQ(*DateJson("2026-04-05", "d"), R"({"year":2026,"month":4,"day":5})");
  EXPECT_FALSE(DateJson("2026-02-30", "d").ok());
  EXPECT_FALSE(DateJson("2026/04/05", "d").ok());
  EXPECT_EQ(*MonthJson("2026-04", "m"), R"({"year":2026,"month":4})");
  EXPECT_FALSE(MonthJson("2026-13", "m").ok());
  // 09:00 in Tokyo is midnight UTC.
  EXPECT_EQ(*TokyoTimeJson("2026-04-01 09:00", "--slot"), "\"2026-04-01T00:00:00Z\"");
  EXPECT_FALSE(TokyoTimeJson("2026-04-01", "--slot").ok());
  EXPECT_EQ(EnumName("ORDER_STATUS", "won"), "ORDER_STATUS_WON");
  EXPECT_EQ(EnumName("REFERRAL_OUTCOME", "in-progress"), "REFERRAL_OUTCOME_IN_PROGRESS");
}

TEST(RequestTest, RequestIdsAreFreshAndUuidShaped) {
  const std::string a = NewRequestId();
  const std::string b = NewRequestId();
  EXPECT_NE(a, b);
  ASSERT_EQ(a.size(), 36u);
  EXPECT_EQ(a[8], '-');
  EXPECT_EQ(a[14], '4');
}

TEST(CellsTest, FormatsFieldsOfAnyMessage) {
  billing::v1::Invoice inv;
  inv.set_id(7);
  inv.set_number("INV-0007");
  inv.set_total(1234567);
  inv.mutable_issue_date()->set_year(2026);
  inv.mutable_issue_date()->set_month(4);
  inv.mutable_issue_date()->set_day(5);
  inv.set_status(billing::v1::INVOICE_STATUS_ISSUED);
  inv.set_payment_status(billing::v1::INVOICE_PAYMENT_STATUS_PARTIALLY_PAID);
  EXPECT_EQ(Cell(inv, "total", Fmt::kYen), "¥1,234,567");
  EXPECT_EQ(Cell(inv, "issue_date", Fmt::kDate), "2026-04-05");
  EXPECT_EQ(Cell(inv, "due_date", Fmt::kDate), "");  // unset
  EXPECT_EQ(Cell(inv, "status", Fmt::kEnum), "issued");
  EXPECT_EQ(Cell(inv, "payment_status", Fmt::kEnum), "partially_paid");
  EXPECT_EQ(Cell(inv, "customer_id", Fmt::kId), "");  // zero id
  EXPECT_EQ(Cell(inv, "no_such_field", Fmt::kText), "?");

  customer::v1::Customer c;
  c.mutable_partner()->set_commission_rate_bp(1000);
  c.mutable_audit()->mutable_update_time()->set_seconds(1775001600);  // 2026-04-01T00:00Z
  EXPECT_EQ(Cell(c, "partner.commission_rate_bp", Fmt::kNumber), "1000");
  EXPECT_EQ(Cell(c, "audit.update_time", Fmt::kTime), "2026-04-01 09:00");  // Tokyo
  EXPECT_EQ(Cell(c, "billing_terms.closing_day", Fmt::kNumber), "");        // unset message

  project::v1::QuoteLine line;  // quantities are thousandths
  line.set_quantity_milli(1500);
  EXPECT_EQ(Cell(line, "quantity_milli", Fmt::kQuantity), "1.5");
  line.set_quantity_milli(1'234'000);
  EXPECT_EQ(Cell(line, "quantity_milli", Fmt::kQuantity), "1,234");
}

TEST(CellsTest, RenderRowsOfAListResponse) {
  customer::v1::ListCustomersResponse resp;
  auto* a = resp.add_customers();
  a->set_id(1);
  a->set_code("C000001");
  a->set_name("株式会社サンプル");
  a->set_kind(customer::v1::CUSTOMER_KIND_CORPORATION);
  auto* b = resp.add_customers();
  b->set_id(2);
  b->set_code("C000002");
  b->set_name("山田太郎");
  b->set_kind(customer::v1::CUSTOMER_KIND_INDIVIDUAL);
  const std::vector<Column> cols = {
      {"ID", "id", Fmt::kId}, {"CODE", "code"}, {"NAME", "name"}, {"KIND", "kind", Fmt::kEnum}};
  EXPECT_EQ(RenderRows(resp, "customers", cols),
            "ID  CODE     NAME              KIND\n"
            " 1  C000001  株式会社サンプル  corporation\n"
            " 2  C000002  山田太郎          individual\n");
  EXPECT_EQ(RenderRows(customer::v1::ListCustomersResponse(), "customers", cols),
            "ID  CODE  NAME  KIND\n(none)\n");
}

}  // namespace
}  // namespace anken::ctl
