#include "services/billing/invoice_rules.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "common/jp/registration_number.h"
#include "common/status/domain_error.h"
#include "common/tax/tax.h"

namespace anken::billing {
namespace {

constexpr char kItemMissing[] = "QUALIFIED_INVOICE_ITEM_MISSING";

// Blank also when only ideographic spaces (U+3000) are there: a name typed with a Japanese
// IME and nothing else is still no name.
bool IsBlank(absl::string_view text) {
  constexpr absl::string_view kIdeographicSpace = "\xE3\x80\x80";
  while (true) {
    text = absl::StripLeadingAsciiWhitespace(text);
    if (text.empty()) return true;
    if (text.substr(0, kIdeographicSpace.size()) != kIdeographicSpace) return false;
    text.remove_prefix(kIdeographicSpace.size());
  }
}

absl::Status Missing(absl::string_view item, absl::string_view what) {
  return DomainPrecondition(kItemMissing,
                            absl::StrCat("qualified-invoice item ", item, " is missing: ", what));
}

std::vector<tax::Line> TaxLines(const Invoice& invoice) {
  std::vector<tax::Line> lines;
  lines.reserve(invoice.lines.size());
  for (const InvoiceLine& l : invoice.lines) lines.push_back(tax::Line{l.amount, l.tax_category});
  return lines;
}

}  // namespace

absl::Status PriceInvoice(Invoice& invoice) {
  if (invoice.lines.empty()) {
    return DomainInvalid("entry_ids", "NO_ENTRIES", "an invoice needs at least one entry");
  }
  const std::vector<tax::Line> lines = TaxLines(invoice);
  absl::StatusOr<tax::Totals> totals = tax::ComputeTotals(lines, invoice.rounding);
  absl::StatusOr<std::vector<int64_t>> allocated =
      totals.ok() ? tax::AllocateTax(lines, invoice.rounding)
                  : absl::StatusOr<std::vector<int64_t>>(totals.status());
  if (!allocated.ok()) {
    const absl::Status& s = allocated.status();
    if (s.code() == absl::StatusCode::kOutOfRange) {
      return DomainInvalid("entry_ids", "AMOUNT_TOO_LARGE", "the invoice total is too large");
    }
    return s;  // INVALID_ARGUMENT: an unknown category or rounding mode
  }
  for (size_t i = 0; i < invoice.lines.size(); ++i) {
    invoice.lines[i].allocated_tax = (*allocated)[i];
  }
  invoice.totals = *std::move(totals);
  return absl::OkStatus();
}

absl::Status CheckQualifiedInvoice(const Invoice& invoice) {
  // (1) 適格請求書発行事業者の氏名又は名称及び登録番号.
  if (IsBlank(invoice.issuer_name)) {
    return Missing("(1) issuer name", "the issuer's name (適格請求書発行事業者の名称) is empty");
  }
  if (!jp::IsValidInvoiceRegistrationNumber(invoice.issuer_registration_number)) {
    return Missing("(1) issuer registration number",
                   absl::StrCat("\"", invoice.issuer_registration_number,
                                "\" is not T + 13 digits with a valid check digit"));
  }
  // (2) 取引年月日. A default CivilDay (1970-01-01) is what an unset date decodes to.
  if (invoice.issue_date == absl::CivilDay()) {
    return Missing("(2) issue date", "the issue date (取引年月日) is not set");
  }
  // (3) 取引内容: every line says what it is for (the reduced-rate mark comes from its
  // category, which must therefore be a known one).
  if (invoice.lines.empty()) {
    return Missing("(3) transaction contents", "the invoice has no lines");
  }
  for (size_t i = 0; i < invoice.lines.size(); ++i) {
    if (IsBlank(invoice.lines[i].description)) {
      return Missing("(3) transaction contents",
                     absl::StrCat("line ", i + 1, " has no description (取引内容)"));
    }
  }
  // (4) 税率ごとに区分して合計した対価の額 and (5) 税率ごとの消費税額: compared with what the lines
  // give, so a stale or hand-edited total counts as missing.
  absl::StatusOr<tax::Totals> expected = tax::ComputeTotals(TaxLines(invoice), invoice.rounding);
  if (!expected.ok()) {
    return Missing("(3) transaction contents",
                   absl::StrCat("the lines cannot be totalled: ", expected.status().message()));
  }
  const std::vector<tax::RateTotal>& want = expected->per_rate;
  const std::vector<tax::RateTotal>& got = invoice.totals.per_rate;
  bool taxable_ok = want.size() == got.size();
  for (size_t i = 0; taxable_ok && i < want.size(); ++i) {
    taxable_ok = want[i].category == got[i].category && want[i].taxable == got[i].taxable;
  }
  if (!taxable_ok || invoice.totals.subtotal != expected->subtotal) {
    return Missing("(4) totals per rate",
                   "the totals per tax rate (税率ごとの対価の額) do not match the lines");
  }
  bool tax_ok = true;
  for (size_t i = 0; i < want.size(); ++i) tax_ok = tax_ok && want[i].tax == got[i].tax;
  if (!tax_ok || invoice.totals.tax != expected->tax ||
      invoice.totals.total != expected->total) {
    return Missing("(5) tax per rate",
                   "the tax per tax rate (税率ごとの消費税額) does not match the lines");
  }
  // (6) 書類の交付を受ける事業者の氏名又は名称.
  if (IsBlank(invoice.recipient_name)) {
    return Missing("(6) recipient name", "the recipient's name is empty");
  }
  return absl::OkStatus();
}

std::string FormatInvoiceNumber(int year, int64_t sequence) {
  return absl::StrFormat("%04d-%06d", year, sequence);
}

}  // namespace anken::billing
