#pragma once
// Documents for the PDF tests: an invoice of N lines mixing standard (10%), reduced (8%, ※)
// and exempt lines, with its totals computed by the tax library the services use, and a
// quote. Shared by pdf_test.cc and pdf_sample.cc (the separate process of the
// cross-process determinism test).

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/pdf/document.h"
#include "common/tax/tax.h"

namespace anken::pdf::testing {

// DESIGN.md's issuer: 7000012050002 has a valid check digit.
inline constexpr char kIssuerName[] = "株式会社アンケン";
inline constexpr char kIssuerNumber[] = "T7000012050002";
inline constexpr char kIssuerAddress[] = "〒100-0005 東京都千代田区丸の内1-1-1 アンケンビル5階";
inline constexpr char kBank[] = "みずほ銀行 本店 普通 1234567 カ)アンケン";

// Line i (0-based): every third line is reduced (食品 ※), every seventh exempt, the rest
// standard; quantities and prices vary so that amounts have several digits.
inline Line SampleLine(int i) {
  Line l;
  l.quantity_milli = 1000 * (1 + i % 4);
  l.unit_price = 1250 + 1000 * (i % 9);
  l.amount = l.quantity_milli * l.unit_price / 1000;
  if (i % 7 == 6) {
    l.tax_category = tax::Category::kExempt;
    l.description = absl::StrCat("収入印紙代 ", i + 1);
  } else if (i % 3 == 1) {
    l.tax_category = tax::Category::kReduced;
    l.description = absl::StrCat("会議用弁当（軽減税率） ", i + 1);
    l.unit = "個";
  } else {
    l.tax_category = tax::Category::kStandard;
    l.description = absl::StrCat("システム保守作業 ", i + 1, " 月次点検・障害対応・報告書作成");
    l.unit = "式";
  }
  return l;
}

inline tax::Totals TotalsOf(const std::vector<Line>& lines) {
  std::vector<tax::Line> t;
  for (const Line& l : lines) t.push_back({l.amount, l.tax_category});
  return *tax::ComputeTotals(t, tax::Rounding::kFloor);
}

inline Document SampleInvoice(int line_count) {
  Document d;
  d.kind = DocumentKind::kInvoice;
  d.number = "2026-000042";
  d.issue_date = absl::CivilDay(2026, 4, 30);
  d.due_date = absl::CivilDay(2026, 5, 31);
  d.bank_account = kBank;
  d.issuer = {kIssuerName, kIssuerAddress, kIssuerNumber};
  d.recipient = {"株式会社アクメ", Honorific::kOnchu};
  for (int i = 0; i < line_count; ++i) d.lines.push_back(SampleLine(i));
  d.totals = TotalsOf(d.lines);
  d.notes = {"お振込手数料は貴社にてご負担ください。"};
  return d;
}

inline Document SampleQuote() {
  Document d;
  d.kind = DocumentKind::kQuote;
  d.number = "0000123-2";
  d.issue_date = absl::CivilDay(2026, 4, 15);
  d.valid_until = absl::CivilDay(2026, 5, 15);
  d.subject = "基幹システム更改";
  d.issuer = {kIssuerName, kIssuerAddress, kIssuerNumber};
  d.recipient = {"山田 太郎", Honorific::kSama};
  Line work;
  work.description = "要件定義";
  work.quantity_milli = 2500;
  work.unit = "人月";
  work.unit_price = 800000;
  work.amount = 2000000;
  Line food;
  food.description = "打合せ用菓子";
  food.quantity_milli = 3000;
  food.unit = "箱";
  food.unit_price = 1080;
  food.amount = 3240;
  food.tax_category = tax::Category::kReduced;
  d.lines = {work, food};
  d.totals = TotalsOf(d.lines);
  d.notes = {"納期はご発注後2か月を予定しております。"};
  return d;
}

}  // namespace anken::pdf::testing
