#pragma once
// Pure reconciliation rules (入金消込): payer-name normalisation, matching a payment to a
// customer, and choosing the invoices it pays. No I/O; Abseil only. Errors are DomainError
// statuses (common/status/domain_error.h).
//
// Payer names (振込依頼人名) arrive as the bank prints them: half-width kana, small kana
// printed large (ｼﾖｳｼﾞ for ｼｮｳｼﾞ), no long-vowel mark (ｺ-ﾋ-), and the legal form as a 全銀協
// 法人略語 whose punctuation tells its position: "ｶ)ﾔﾏﾀﾞ" 株式会社山田 (前株), "ﾔﾏﾀﾞ(ｶ"
// 山田株式会社 (後株), "ﾔﾏﾀﾞ(ｶ)ﾄｳｷﾖｳｼﾃﾝ" (in the middle). Normalisation folds every such
// spelling, and the customer's own name and kana, into one comparable form:
//  - half-width kana → full width, ﾞ/ﾟ (and a separate ゛/゜, combining or spacing) joined to
//    the kana before them (ｶﾞ → ガ); hiragana → katakana; small kana → large (ァィゥェォッャュョ
//    ヮヵヶ → アイウエオツヤユヨワカケ); full-width ASCII → ASCII, letters upper-case;
//    ㈱ ㈲ ㈳ ㈴ ㈶ ㈻ ㈾ → (株) (有) (社) (名) (財) (学) (資);
//  - spaces, the long-vowel mark and dashes, 。、・ and ASCII punctuation other than ( ) are
//    dropped (the bank has no ー and may or may not keep spaces);
//  - one legal form is recognised and taken out of the name: a 全銀協 kana abbreviation (ｶ ﾕ
//    ﾒ ｼ ﾄﾞ ｲ ｻﾞｲ ｼﾔ ｼﾕｳ ｶﾞｸ ﾌｸ ｿ ﾎｺﾞ ﾄｸﾋ ﾄﾞｸ ﾁﾄﾞｸ ﾍﾞﾝ ﾁﾕｳ ｷﾞﾖ ｼﾎｳ ｾﾞｲ ﾀﾞｲ ﾉｳ ﾛｳﾑ ｶﾝﾘ) or a
//    kanji one ((株) (有) (同) ...) as "X)" or "(X)" at the start (leading), "(X" or "(X)" at
//    the end (trailing), "(X)" inside (middle); or the form spelled out at the start or the
//    end, in kanji (株式会社, 一般社団法人, ...) or kana (ｶﾌﾞｼｷｶﾞｲｼﾔ, ｶﾌﾞｼｷｶｲｼﾔ, ...). 合同会社
//    is ﾄﾞ as in the 全銀協 table. 一般/公益 社団・財団 and 医療法人社団/財団 count as their
//    family (社団法人, 財団法人, 医療法人), as the bank abbreviation does.

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/billing/payments.h"

namespace anken::billing {

enum class FormPosition { kNone = 0, kLeading = 1, kTrailing = 2, kMiddle = 3 };

struct PayerName {
  // The name without its legal form: full-width katakana, ASCII upper-case, kanji as is; no
  // spaces or punctuation. Empty when nothing but a form (or nothing) was there.
  std::string body;
  std::string legal_form;  // the form's family, "株式会社", "社団法人", ...; empty when none
  FormPosition position = FormPosition::kNone;
  // The canonical spelling: "株式会社ヤマダシヨウジ" (leading), "ヤマダシヨウジ株式会社"
  // (trailing), "ヤマダ(株式会社)トウキヨウシテン" (middle), or the body. Normalising a key
  // gives the key back, so it can be stored and compared later (the learnt mapping).
  std::string key;
};

PayerName NormalizePayerName(absl::string_view text);

// NormalizePayerName(text).key.
std::string PayerKey(absl::string_view text);

// Matches bank payer names to customers. Built once per import from the customers and the
// name→customer mapping learnt from manual matches (keys are payer names as the bank showed
// them, or their PayerKey: both are normalised here). Thread-compatible; cheap lookups.
class PayerMatcher {
 public:
  struct Match {
    int64_t customer_id = 0;  // 0 when unmatched
    CustomerMatchSource source = CustomerMatchSource::kNone;
    UnmatchedReason reason = UnmatchedReason::kNone;
    std::vector<int64_t> candidates;  // kAmbiguousPayer, ascending
    std::string detail;
    std::string payer_key;  // PayerKey(payer_name), computed on the way
  };

  PayerMatcher(const std::vector<CustomerName>& customers,
               const std::map<std::string, int64_t>& learnt);

  // In order:
  //  1. the learnt mapping by PayerKey (a person decided; it wins). Learnt keys that
  //     normalise alike but name different customers are ambiguous.
  //  2. customers whose normalised name or kana body equals the payer's body, leaving out
  //     those whose legal form differs from a form the payer shows (株式会社 vs 有限会社);
  //     a form missing on either side does not rule a customer out. One left: matched.
  //     Several: those with the payer's form at the payer's position; one left: matched;
  //     otherwise kAmbiguousPayer with the candidates.
  //  3. kNoPayerName for an empty body, kUnknownPayer when nobody fits.
  Match MatchPayer(absl::string_view payer_name) const;

 private:
  struct Entry {
    int64_t customer_id = 0;
    std::string legal_form;
    FormPosition position = FormPosition::kNone;
  };
  std::unordered_map<std::string, std::vector<Entry>> by_body_;
  std::unordered_map<std::string, std::vector<int64_t>> learnt_;  // sorted, unique
};

// The order invoices are settled in: due date, then issue date, then id, oldest first.
void SortOldestFirst(std::vector<OpenInvoice>& invoices);

// Chooses what a payment of `amount` yen pays among one customer's open invoices (those with
// balance ≤ 0 are ignored), trying in order:
//  1. one invoice whose balance equals the amount (the oldest such)          → kMatched
//  2. the k ≥ 2 oldest invoices whose balances sum to the amount             → kMatched
//  3. one invoice whose balance exceeds the amount by 1..fee_tolerance yen
//     (the oldest such): settled, the shortfall booked as its fee            → kMatchedWithFee
//  4. the k ≥ 2 oldest invoices whose sum exceeds the amount by
//     1..fee_tolerance yen: settled, the fee on the last (newest) of them    → kMatchedWithFee
//  5. more than every open balance together: all settled, the rest credit   → kOverpayment
//  6. otherwise oldest first, the last one reached keeping a balance         → kPartial
// No open invoice: kUnmatched with kNoOpenInvoices. The fee tolerance is inclusive (880 →
// a shortfall of 880 is a fee, 881 is not); 0 books no fees. INVALID_ARGUMENT for amount ≤ 0
// or too large, a negative tolerance, or balances too large to add up.
absl::StatusOr<MatchResult> ChooseInvoices(int64_t amount, std::vector<OpenInvoice> invoices,
                                           int64_t fee_tolerance);

// Matches the payer to a customer and chooses among that customer's invoices in
// `open_invoices` (other customers' invoices are ignored). An unmatched payer gives
// kUnmatched with its reason; the result's customer_id and source say who and how.
absl::StatusOr<MatchResult> ReconcilePayment(const Payment& payment, const PayerMatcher& matcher,
                                             const std::vector<OpenInvoice>& open_invoices,
                                             int64_t fee_tolerance);
// The same with the payer already matched (`who` = matcher.MatchPayer(payment.payer_name)), for
// a statement import, which needs the match before it reconciles.
absl::StatusOr<MatchResult> ReconcilePayment(const Payment& payment,
                                             const PayerMatcher::Match& who,
                                             const std::vector<OpenInvoice>& open_invoices,
                                             int64_t fee_tolerance);

// A person's allocation of a payment (AllocatePayment), `available` yen of it not yet
// allocated: every line names an invoice of `open_invoices` (FAILED_PRECONDITION
// "INVOICE_NOT_OPEN" otherwise) at most once ("DUPLICATE_INVOICE"), with amount ≥ 0, fee ≥ 0
// and amount + fee > 0 ("AMOUNT_NOT_POSITIVE") and ≤ the invoice's balance
// ("EXCEEDS_BALANCE"); the amounts together at most `available` ("EXCEEDS_PAYMENT"). At least
// one line ("REQUIRED"). Fields are named "allocations[i].amount" and so on.
absl::Status CheckManualAllocation(int64_t available, const std::vector<Allocation>& allocations,
                                   const std::vector<OpenInvoice>& open_invoices);

}  // namespace anken::billing
