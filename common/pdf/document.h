#pragma once
// The printable business document (請求書 / 御見積書) as the PDF renderer sees it: plain data,
// no protobuf, no I/O. Services map their Invoice / Quote to it; render.h turns it into an A4
// PDF. Money is integer yen; dates are civil days in Asia/Tokyo.
//
// Contract: the renderer prints what is here and computes nothing: per-rate totals, tax and
// total come from the caller's tax::Totals (tax once per rate, DESIGN.md), so a document
// always shows the numbers that were stored. Optional text that is empty is left off.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/types/optional.h"
#include "common/tax/tax.h"

namespace anken::pdf {

enum class DocumentKind {
  kInvoice,  // 請求書: due date and bank account
  kQuote,    // 御見積書: validity
};

// 御中 for a company or other organisation, 様 for a person.
enum class Honorific { kOnchu, kSama };

struct Issuer {
  std::string name;
  std::string address;              // optional
  std::string registration_number;  // optional; "T" + 13 digits on a qualified invoice
};

struct Recipient {
  std::string name;
  Honorific honorific = Honorific::kOnchu;
};

struct Line {
  std::string description;
  int64_t quantity_milli = 1000;  // thousandths: 1500 prints as 1.5
  std::string unit;               // optional: 式, 個, 時間 ...
  int64_t unit_price = 0;
  int64_t amount = 0;
  // REDUCED lines carry the ※ mark (軽減税率対象).
  tax::Category tax_category = tax::Category::kStandard;
};

struct Document {
  DocumentKind kind = DocumentKind::kInvoice;
  std::string number;  // 請求書番号 / 見積番号
  absl::CivilDay issue_date;
  absl::optional<absl::CivilDay> due_date;     // invoices: お支払期限
  std::string bank_account;                    // invoices: お振込先 (optional)
  absl::optional<absl::CivilDay> valid_until;  // quotes: 有効期限
  std::string subject;                         // optional 件名
  Issuer issuer;
  Recipient recipient;
  std::vector<Line> lines;
  tax::Totals totals;
  std::vector<std::string> notes;  // 備考, one paragraph each
  // A cancelled (取消) document is printed with a 取消 stamp on every page and the notice.
  bool cancelled = false;
  absl::optional<absl::CivilDay> cancel_date;
  std::string cancel_reason;
};

// 請求書 or 御見積書.
absl::string_view Title(DocumentKind kind);

// The honorific a name suggests when nothing better is known: 御中 when it names an
// organisation (a legal-entity designator such as 株式会社, ㈱, (有), 合同会社, 一般社団法人, or a
// word such as 事務所, 組合, 協会, 役所, 大学, 病院), else 様. Prefer the customer's kind
// (corporation or person) where the caller has it.
Honorific GuessHonorific(absl::string_view name);

}  // namespace anken::pdf
