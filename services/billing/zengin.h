#pragma once
// Bank statements → payments. Pure; Abseil and common/csv only. Errors are INVALID_ARGUMENT
// DomainError statuses on the field "file" that name the record (全銀) or line (CSV).
//
// 全銀協 入出金取引明細 (種別コード 03), what Japanese internet banking offers as 「全銀協規定
// 形式」. Supported:
//  - 200-byte records: header 1, data 2, trailer 8, end 9; one or more header…trailer
//    groups (one per account), then one end record. Records may be back to back or each
//    followed by CR LF / LF; a trailing EOF byte (0x1A) is ignored.
//  - コード区分 0 (JIS: single bytes, half-width kana as CP932 bytes 0xA1–0xDF); EBCDIC
//    (コード区分 1) is refused.
//  - 預金種目 1 普通, 2 当座, 4 貯蓄 (the layout of their data records); 通知・定期 預金 use
//    another data layout and are refused.
//  - Dates YYMMDD. ZenginEra::kWareki (the specification's 和暦, the default): 令和 years
//    (令和元年 = 01 from 2019-05-01), except that 31MMDD up to 04-30 is 平成31 (2019-01-01 to
//    2019-04-30). So 2019-01-01 onwards; 平成 dates before 2019 and 令和31年1〜4月 (2049)
//    cannot be read. The era is not in the file: a 西暦 file read as 和暦 gives dates decades
//    ahead, so the importer should refuse statements dated after today.
//    ZenginEra::kSeireki (banks that write 西暦): 20YY.
//  - Text fields read (names, 振込依頼人名, 摘要, EDI) may hold bytes 0x20–0x7E and
//    0xA1–0xDF only; numeric fields read must be digits (取引区分 may be blank).
//  - Each 入金 (入払区分 1) data record becomes a Payment: date = 勘定日, amount = 取引金額,
//    payer = 振込依頼人名 (trailing spaces trimmed, kept half-width), reference = 照会番号,
//    memo = 摘要内容 and EDI情報. 出金 records, 訂正 (取引区分 19) and zero amounts are listed
//    as skipped. The trailer's counts and sums must agree with the group's data records.
//
// Simple CSV: date, amount, payer [, reference] per line; UTF-8 (BOM or not) or CP932;
// RFC 4180 quoting (common/csv). An optional header line (its date and amount both not
// parseable) is skipped. Dates 2026-04-15, 2026/4/15, 2026.4.15 or 20260415; amounts in yen
// with optional ¥/￥, thousands commas, a trailing 円, half- or full-width digits; > 0.
//
// Stable line keys: "<account>|<yyyy-mm-dd>|<amount>|<payer>|<n>", n counting the lines of
// the file with the same account, date, amount and payer (1, 2, ...). Importing the same file
// again — or another download covering the same whole days — gives the same keys, so a line
// is never imported twice, while two real payments alike on one day stay two. The account is
// "<bank>-<branch>-<type>-<number>" for 全銀 files and the caller's label for CSV files.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "services/billing/payments.h"

namespace anken::billing {

enum class ZenginEra { kWareki = 0, kSeireki = 1 };

struct ZenginOptions {
  ZenginEra era = ZenginEra::kWareki;
};

// The account a header record describes.
struct BankAccount {
  std::string bank_code;    // 4 digits
  std::string bank_name;    // half-width kana, trimmed
  std::string branch_code;  // 3 digits
  std::string branch_name;
  std::string account_type;    // "1" 普通, "2" 当座, "4" 貯蓄
  std::string account_number;  // 10 digits as in the file
  std::string account_name;
  absl::CivilDay from;      // 勘定日(自)
  absl::CivilDay to;        // 勘定日(至)
  std::string Key() const;  // "0001-123-1-0001234567"
};

// A data record that is no payment, and why.
struct SkippedLine {
  int record = 0;  // 1-based record (全銀) or line (CSV) number
  std::string reason;
};

struct BankStatement {
  std::vector<BankAccount> accounts;  // one per header (全銀); empty for CSV
  std::vector<Payment> payments;      // in file order, each with its source_key
  std::vector<SkippedLine> skipped;
};

absl::StatusOr<BankStatement> ParseZenginStatement(absl::string_view bytes,
                                                   const ZenginOptions& options = {});

// `account` labels the bank account the CSV came from (e.g. "csv:0001-123-1-1234567"); it
// goes into every key.
absl::StatusOr<BankStatement> ParsePaymentCsv(absl::string_view bytes, absl::string_view account);

// True when the bytes start like a 全銀 入出金取引明細 file (header "103"), so an import
// can tell it from a CSV.
bool LooksLikeZengin(absl::string_view bytes);

// A YYMMDD date of a 全銀 file; INVALID_ARGUMENT when not six digits or no such day.
absl::StatusOr<absl::CivilDay> ParseZenginDate(absl::string_view yymmdd, ZenginEra era);

// The stable key of a line (see above).
std::string PaymentSourceKey(absl::string_view account, absl::CivilDay date, int64_t amount,
                             absl::string_view payer, int occurrence);

}  // namespace anken::billing
