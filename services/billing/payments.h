#pragma once
// Domain types of payments (入金) and reconciliation (消込). Plain structs: no protobuf, no
// pqxx. Money is integer yen; dates are civil days in Asia/Tokyo. The rules that fill them
// live in payment_rules.h (matching), zengin.h (bank files) and receivables.h (aging).

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"

namespace anken::billing {

// One incoming payment as the bank reports it (or as a person typed it).
struct Payment {
  int64_t id = 0;
  absl::CivilDay date;     // the bank's 勘定日 (posting date)
  int64_t amount = 0;      // yen, > 0
  std::string payer_name;  // as the bank shows it (UTF-8; half-width kana stay half-width)
  std::string reference;   // the bank's 照会番号, a CSV reference column, or typed text
  std::string memo;        // 摘要 / EDI information from the bank, when any
  // Stable key of an imported line (zengin.h): the same line imported twice has the same key,
  // so the store refuses the second. Empty for a payment a person records by hand.
  std::string source_key;
};

// An issued invoice that still has something to pay (balance > 0), as reconciliation and
// the receivables reports see it.
struct OpenInvoice {
  int64_t id = 0;
  int64_t customer_id = 0;
  absl::CivilDay issue_date;
  absl::CivilDay due_date;
  int64_t total = 0;    // the invoice total incl. tax
  int64_t balance = 0;  // what is still open: total − payments − fees − write-offs
};

// What one payment does to one invoice. amount + fee is taken off the invoice's balance.
struct Allocation {
  int64_t invoice_id = 0;
  int64_t amount = 0;    // cash from the payment
  int64_t fee = 0;       // shortfall booked as a bank transfer fee (振込手数料)
  bool settles = false;  // the invoice's balance reaches 0
};

enum class MatchKind {
  kUnmatched = 0,       // waits in the queue for a person; see UnmatchedReason
  kMatched = 1,         // settles one or several invoices exactly
  kMatchedWithFee = 2,  // settles them, the shortfall (≤ tolerance) booked as a fee
  kPartial = 3,         // the last invoice allocated keeps a balance
  kOverpayment = 4,     // every open invoice settled; the rest is a customer credit
};

enum class UnmatchedReason {
  kNone = 0,
  kNoPayerName = 1,     // the bank line carries no payer name (e.g. a cash deposit)
  kUnknownPayer = 2,    // no customer's name, kana or learnt mapping fits the payer
  kAmbiguousPayer = 3,  // several customers fit equally well (see candidates)
  kNoOpenInvoices = 4,  // the customer is known but owes nothing: a person decides
};

enum class CustomerMatchSource {
  kNone = 0,
  kLearnt = 1,  // the name→customer mapping learnt from manual matches
  kName = 2,    // the normalised name or kana of the customer
};

// The outcome of reconciling one payment. For every kind but kUnmatched the allocations'
// amounts plus credit equal the payment amount exactly.
struct MatchResult {
  MatchKind kind = MatchKind::kUnmatched;
  int64_t customer_id = 0;  // also set for kNoOpenInvoices
  CustomerMatchSource source = CustomerMatchSource::kNone;
  std::vector<Allocation> allocations;  // oldest invoice first
  int64_t fee = 0;                      // total booked as fees
  int64_t credit = 0;                   // overpayment left as a credit to the customer
  UnmatchedReason reason = UnmatchedReason::kNone;
  std::string detail;               // for people: the rule applied, or why nothing matched
  std::vector<int64_t> candidates;  // kAmbiguousPayer: the customers that fit, ascending
};

// A customer as payer matching needs it (from the customer service).
struct CustomerName {
  int64_t customer_id = 0;
  std::string name;  // e.g. "株式会社山田商事"
  std::string name_kana;  // e.g. "ヤマダショウジ" or "カブシキガイシャヤマダショウジ"
};

}  // namespace anken::billing
