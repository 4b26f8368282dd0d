#include "services/billing/zengin.h"

#include <cctype>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "common/csv/csv.h"
#include "common/status/domain_error.h"

namespace anken::billing {
namespace {

constexpr size_t kRecordSize = 200;
constexpr char kMalformed[] = "MALFORMED_RECORD";
constexpr char kMalformedLine[] = "MALFORMED_LINE";

absl::Status BadRecord(int record, absl::string_view what) {
  return DomainInvalid("file", kMalformed, absl::StrCat("record ", record, ": ", what));
}

absl::Status BadLine(int line, absl::string_view what) {
  return DomainInvalid("file", kMalformedLine, absl::StrCat("line ", line, ": ", what));
}

std::string FormatDay(absl::CivilDay day) {
  return absl::StrFormat("%04d-%02d-%02d", day.year(), day.month(), day.day());
}

// The day, if y-m-d names a real one (CivilDay would silently roll 02-30 over to 03-02).
bool MakeDay(int64_t y, int m, int d, absl::CivilDay* out) {
  if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1 || d > 31) return false;
  const absl::CivilDay day(y, m, d);
  if (day.year() != y || day.month() != m || day.day() != d) return false;
  *out = day;
  return true;
}

bool AllDigits(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// ≤ 18 digits, checked by the caller.
int64_t ToInt(absl::string_view digits) {
  int64_t v = 0;
  for (char c : digits) v = v * 10 + (c - '0');
  return v;
}

// ---------------------------------------------------------------------------------------------
// 全銀 records.

class Record {
 public:
  Record(absl::string_view bytes, int number) : bytes_(bytes), number_(number) {}
  int number() const { return number_; }
  char type() const { return bytes_[0]; }

  // A numeric (N) field at 0-based `pos`: digits only.
  absl::StatusOr<std::string> Digits(size_t pos, size_t len, absl::string_view name) const {
    absl::string_view v = bytes_.substr(pos, len);
    if (!AllDigits(v)) {
      return BadRecord(number_,
                       absl::StrCat(name, " \"", Printable(v), "\" is not ", len, " digits"));
    }
    return std::string(v);
  }

  // A text (C) field: JIS X 0201 single bytes → UTF-8 (half-width kana stay half-width),
  // trimmed.
  absl::StatusOr<std::string> Text(size_t pos, size_t len, absl::string_view name) const {
    absl::string_view v = absl::StripAsciiWhitespace(bytes_.substr(pos, len));
    std::string out;
    out.reserve(v.size() * 3);
    for (char ch : v) {
      const auto b = static_cast<unsigned char>(ch);
      if (b >= 0x20 && b <= 0x7E) {
        out.push_back(ch);
      } else if (b >= 0xA1 && b <= 0xDF) {
        const char32_t cp = 0xFF61 + (b - 0xA1);  // U+FF61..U+FF9F
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      } else {
        return BadRecord(number_, absl::StrFormat("%s holds byte 0x%02X, which is no half-width "
                                                  "(JIS X 0201) character",
                                                  std::string(name), b));
      }
    }
    return out;
  }

  absl::StatusOr<absl::CivilDay> Date(size_t pos, absl::string_view name, ZenginEra era) const {
    absl::StatusOr<absl::CivilDay> day = ParseZenginDate(bytes_.substr(pos, 6), era);
    if (!day.ok()) {
      return BadRecord(number_,
                       absl::StrCat(name, " \"", Printable(bytes_.substr(pos, 6)), "\" is no ",
                                    era == ZenginEra::kWareki ? "和暦" : "西暦", " YYMMDD date"));
    }
    return day;
  }

 private:
  // Field contents for a message: ASCII as is, other bytes as '?'.
  static std::string Printable(absl::string_view v) {
    std::string out(v);
    for (char& c : out) {
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7E) c = '?';
    }
    return out;
  }

  absl::string_view bytes_;
  int number_;
};

// Splits the file into records, each exactly 200 bytes, optionally followed by CR LF / LF.
absl::StatusOr<std::vector<Record>> SplitRecords(absl::string_view bytes) {
  std::vector<Record> out;
  size_t pos = 0;
  int number = 0;
  while (pos < bytes.size()) {
    absl::string_view rest = bytes.substr(pos);
    if (rest.find_first_not_of("\r\n\x1a") == absl::string_view::npos) break;  // trailing EOF
    ++number;
    absl::string_view rec = rest.substr(0, kRecordSize);
    const size_t newline = rec.find_first_of("\r\n");
    if (rec.size() < kRecordSize || newline != absl::string_view::npos) {
      const size_t length = newline != absl::string_view::npos ? newline : rec.size();
      return BadRecord(number,
                       absl::StrCat("is ", length, " bytes long; a record has ", kRecordSize));
    }
    out.emplace_back(rec, number);
    pos += kRecordSize;
    if (bytes.substr(pos, 2) == "\r\n") {
      pos += 2;
    } else if (pos < bytes.size() && (bytes[pos] == '\n' || bytes[pos] == '\r')) {
      pos += 1;
    }
  }
  return out;
}

struct GroupTotals {
  int64_t deposits = 0;
  int64_t deposit_sum = 0;
  int64_t withdrawals = 0;
  int64_t withdrawal_sum = 0;
  int64_t records = 0;
};

absl::StatusOr<BankAccount> ParseHeader(const Record& r, ZenginEra era) {
  absl::StatusOr<std::string> kind = r.Digits(1, 2, "種別コード");
  if (!kind.ok()) return kind.status();
  if (*kind != "03") {
    return BadRecord(r.number(), absl::StrCat("種別コード ", *kind, " is not 03 (入出金取引明細)"));
  }
  absl::StatusOr<std::string> code = r.Digits(3, 1, "コード区分");
  if (!code.ok()) return code.status();
  if (*code != "0") {
    return BadRecord(r.number(),
                     absl::StrCat("コード区分 ", *code, " is not supported; only 0 (JIS) is"));
  }
  BankAccount a;
  absl::StatusOr<absl::CivilDay> from = r.Date(10, "勘定日(自)", era);
  if (!from.ok()) return from.status();
  absl::StatusOr<absl::CivilDay> to = r.Date(16, "勘定日(至)", era);
  if (!to.ok()) return to.status();
  a.from = *from;
  a.to = *to;
  struct Field {
    size_t pos;
    size_t len;
    const char* name;
    bool digits;
    std::string* out;
  };
  const Field fields[] = {
      {22, 4, "銀行コード", true, &a.bank_code},   {26, 15, "銀行名", false, &a.bank_name},
      {41, 3, "支店コード", true, &a.branch_code}, {44, 15, "支店名", false, &a.branch_name},
      {62, 1, "預金種目", true, &a.account_type},  {63, 10, "口座番号", true, &a.account_number},
      {73, 40, "口座名", false, &a.account_name},
  };
  for (const Field& f : fields) {
    absl::StatusOr<std::string> v =
        f.digits ? r.Digits(f.pos, f.len, f.name) : r.Text(f.pos, f.len, f.name);
    if (!v.ok()) return v.status();
    *f.out = *std::move(v);
  }
  if (a.account_type != "1" && a.account_type != "2" && a.account_type != "4") {
    return BadRecord(r.number(),
                     absl::StrCat("預金種目 ", a.account_type,
                                  " is not supported; only 1 普通, 2 当座 and 4 貯蓄 are"));
  }
  return a;
}

absl::Status CheckTrailer(const Record& r, const GroupTotals& t) {
  struct Field {
    size_t pos;
    size_t len;
    const char* name;
    int64_t expected;
  };
  const Field fields[] = {
      {1, 6, "入金件数", t.deposits},
      {7, 13, "入金額合計", t.deposit_sum},
      {20, 6, "出金件数", t.withdrawals},
      {26, 13, "出金額合計", t.withdrawal_sum},
      {54, 7, "データ・レコード件数", t.records},
  };
  for (const Field& f : fields) {
    absl::StatusOr<std::string> v = r.Digits(f.pos, f.len, f.name);
    if (!v.ok()) return v.status();
    if (ToInt(*v) != f.expected) {
      return BadRecord(r.number(), absl::StrCat(f.name, " says ", ToInt(*v),
                                                " but the data "
                                                "records of its account add up to ",
                                                f.expected));
    }
  }
  return absl::OkStatus();
}

// Assigns each payment its source key, counting payments alike within the statement.
class KeyAssigner {
 public:
  void Assign(absl::string_view account, Payment& p) {
    const int n = ++seen_[PaymentSourceKey(account, p.date, p.amount, p.payer_name, 0)];
    p.source_key = PaymentSourceKey(account, p.date, p.amount, p.payer_name, n);
  }

 private:
  std::map<std::string, int> seen_;
};

// ---------------------------------------------------------------------------------------------
// CSV fields.

// Full-width digits and the separators people type with them, as ASCII.
std::string FoldAsciiWidth(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    // U+FF01..U+FF5E is EF BC 81..EF BD 9E.
    if (i + 2 < s.size() && static_cast<unsigned char>(s[i]) == 0xEF) {
      const auto b1 = static_cast<unsigned char>(s[i + 1]);
      const auto b2 = static_cast<unsigned char>(s[i + 2]);
      const char32_t cp = 0xF000 | (char32_t{b1 & 0x3Fu} << 6) | (b2 & 0x3Fu);
      if (cp >= 0xFF01 && cp <= 0xFF5E) {
        out.push_back(static_cast<char>(cp - 0xFEE0));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

absl::string_view TrimSpaces(absl::string_view s) {
  constexpr absl::string_view kIdeographicSpace = "\xE3\x80\x80";
  while (true) {
    s = absl::StripAsciiWhitespace(s);
    if (absl::ConsumePrefix(&s, kIdeographicSpace)) continue;
    if (absl::ConsumeSuffix(&s, kIdeographicSpace)) continue;
    return s;
  }
}

bool ParseCsvDate(absl::string_view raw, absl::CivilDay* out) {
  const std::string s = FoldAsciiWidth(TrimSpaces(raw));
  if (s.size() == 8 && AllDigits(s)) {
    return MakeDay(ToInt(s.substr(0, 4)), static_cast<int>(ToInt(s.substr(4, 2))),
                   static_cast<int>(ToInt(s.substr(6, 2))), out);
  }
  for (char sep : {'-', '/', '.'}) {
    const size_t a = s.find(sep);
    if (a == std::string::npos) continue;
    const size_t b = s.find(sep, a + 1);
    if (b == std::string::npos || s.find(sep, b + 1) != std::string::npos) return false;
    const absl::string_view y = absl::string_view(s).substr(0, a);
    const absl::string_view m = absl::string_view(s).substr(a + 1, b - a - 1);
    const absl::string_view d = absl::string_view(s).substr(b + 1);
    if (y.size() != 4 || !AllDigits(y) || m.empty() || m.size() > 2 || !AllDigits(m) || d.empty() ||
        d.size() > 2 || !AllDigits(d)) {
      return false;
    }
    return MakeDay(ToInt(y), static_cast<int>(ToInt(m)), static_cast<int>(ToInt(d)), out);
  }
  return false;
}

// Yen: optional ¥ / ￥ / \ before, 円 after, thousands commas; digits only otherwise.
// Returns -1 when not a number (0 is a number, refused by the caller).
int64_t ParseCsvAmount(absl::string_view raw) {
  std::string s = FoldAsciiWidth(TrimSpaces(raw));
  absl::string_view v = s;
  if (!absl::ConsumePrefix(&v, "\xC2\xA5") && !absl::ConsumePrefix(&v, "\xEF\xBF\xA5")) {
    absl::ConsumePrefix(&v, "\\");
  }
  absl::ConsumeSuffix(&v, "\xE5\x86\x86");  // 円
  v = absl::StripAsciiWhitespace(v);
  std::string digits;
  for (char c : v) {
    if (c == ',') continue;
    digits.push_back(c);
  }
  if (digits.empty() || digits.size() > 15 || !AllDigits(digits)) return -1;
  return ToInt(digits);
}

}  // namespace

std::string BankAccount::Key() const {
  return absl::StrCat(bank_code, "-", branch_code, "-", account_type, "-", account_number);
}

std::string PaymentSourceKey(absl::string_view account, absl::CivilDay date, int64_t amount,
                             absl::string_view payer, int occurrence) {
  return absl::StrCat(account, "|", FormatDay(date), "|", amount, "|", payer, "|", occurrence);
}

absl::StatusOr<absl::CivilDay> ParseZenginDate(absl::string_view yymmdd, ZenginEra era) {
  if (yymmdd.size() != 6 || !AllDigits(yymmdd)) {
    return DomainInvalid("date", "INVALID_DATE", "must be six digits YYMMDD");
  }
  const int yy = static_cast<int>(ToInt(yymmdd.substr(0, 2)));
  const int mm = static_cast<int>(ToInt(yymmdd.substr(2, 2)));
  const int dd = static_cast<int>(ToInt(yymmdd.substr(4, 2)));
  int64_t year = 0;
  if (era == ZenginEra::kSeireki) {
    year = 2000 + yy;
  } else {
    if (yy == 0) return DomainInvalid("date", "INVALID_DATE", "there is no era year 00");
    if (yy == 31 && mm <= 4) {
      year = 2019;  // 平成31年 (until 04-30)
    } else {
      year = 2018 + yy;  // 令和
      if (year == 2019 && mm < 5) {
        return DomainInvalid("date", "INVALID_DATE", "令和 begins on 2019-05-01");
      }
    }
  }
  absl::CivilDay day;
  if (!MakeDay(year, mm, dd, &day)) {
    return DomainInvalid("date", "INVALID_DATE", "no such day");
  }
  return day;
}

bool LooksLikeZengin(absl::string_view bytes) {
  return bytes.size() >= kRecordSize && bytes.substr(0, 3) == "103";
}

absl::StatusOr<BankStatement> ParseZenginStatement(absl::string_view bytes,
                                                   const ZenginOptions& options) {
  absl::StatusOr<std::vector<Record>> records = SplitRecords(bytes);
  if (!records.ok()) return records.status();
  if (records->empty()) {
    return DomainInvalid("file", kMalformed, "the file holds no records");
  }
  BankStatement out;
  KeyAssigner keys;
  enum class State { kExpectHeader, kInGroup, kEnded };
  State state = State::kExpectHeader;
  GroupTotals totals;
  for (const Record& r : *records) {
    const char type = r.type();
    if (state == State::kEnded) {
      return BadRecord(r.number(), "comes after the end record (9)");
    }
    switch (type) {
      case '1': {
        if (state != State::kExpectHeader) {
          return BadRecord(r.number(),
                           "a header record (1) before the trailer (8) of the "
                           "previous account");
        }
        absl::StatusOr<BankAccount> account = ParseHeader(r, options.era);
        if (!account.ok()) return account.status();
        out.accounts.push_back(*std::move(account));
        totals = GroupTotals{};
        state = State::kInGroup;
        break;
      }
      case '2': {
        if (state != State::kInGroup) {
          return BadRecord(r.number(), "a data record (2) outside a header…trailer group");
        }
        absl::StatusOr<std::string> reference = r.Digits(1, 8, "照会番号");
        if (!reference.ok()) return reference.status();
        absl::StatusOr<absl::CivilDay> date = r.Date(9, "勘定日", options.era);
        if (!date.ok()) return date.status();
        absl::StatusOr<std::string> direction = r.Digits(21, 1, "入払区分");
        if (!direction.ok()) return direction.status();
        if (*direction != "1" && *direction != "2") {
          return BadRecord(r.number(), absl::StrCat("入払区分 ", *direction,
                                                    " is neither 1 (入金) nor 2 (出金)"));
        }
        absl::StatusOr<std::string> amount = r.Digits(24, 12, "取引金額");
        if (!amount.ok()) return amount.status();
        absl::StatusOr<std::string> payer = r.Text(81, 48, "振込依頼人名");
        if (!payer.ok()) return payer.status();
        absl::StatusOr<std::string> summary = r.Text(159, 20, "摘要内容");
        if (!summary.ok()) return summary.status();
        absl::StatusOr<std::string> edi = r.Text(179, 20, "EDI情報");
        if (!edi.ok()) return edi.status();
        const int64_t value = ToInt(*amount);
        ++totals.records;
        if (*direction == "2") {
          ++totals.withdrawals;
          totals.withdrawal_sum += value;
          out.skipped.push_back({r.number(), "withdrawal (出金)"});
          break;
        }
        ++totals.deposits;
        totals.deposit_sum += value;
        // 取引区分 is optional: digits or spaces.
        absl::StatusOr<std::string> transaction = r.Text(22, 2, "取引区分");
        if (!transaction.ok()) return transaction.status();
        if (*transaction == "19") {
          out.skipped.push_back({r.number(), "correction (訂正, 取引区分 19)"});
          break;
        }
        if (value == 0) {
          out.skipped.push_back({r.number(), "zero amount"});
          break;
        }
        Payment p;
        p.date = *date;
        p.amount = value;
        p.payer_name = *std::move(payer);
        p.reference = *std::move(reference);
        if (!summary->empty() && !edi->empty()) {
          p.memo = absl::StrCat(*summary, " EDI:", *edi);
        } else if (!edi->empty()) {
          p.memo = absl::StrCat("EDI:", *edi);
        } else {
          p.memo = *std::move(summary);
        }
        keys.Assign(out.accounts.back().Key(), p);
        out.payments.push_back(std::move(p));
        break;
      }
      case '8': {
        if (state != State::kInGroup) {
          return BadRecord(r.number(), "a trailer record (8) without its header (1)");
        }
        if (absl::Status s = CheckTrailer(r, totals); !s.ok()) return s;
        state = State::kExpectHeader;
        break;
      }
      case '9': {
        if (state != State::kExpectHeader || out.accounts.empty()) {
          return BadRecord(r.number(), out.accounts.empty()
                                           ? "the end record (9) comes before any header (1)"
                                           : "the end record (9) comes before the trailer (8)");
        }
        state = State::kEnded;
        break;
      }
      default:
        return BadRecord(
            r.number(),
            absl::StrFormat("データ区分 \"%c\" is none of 1, 2, 8, 9",
                            std::isprint(static_cast<unsigned char>(type)) ? type : '?'));
    }
  }
  if (state != State::kEnded) {
    return BadRecord(static_cast<int>(records->size()) + 1,
                     "the end record (9) is missing: the file is cut short");
  }
  return out;
}

absl::StatusOr<BankStatement> ParsePaymentCsv(absl::string_view bytes, absl::string_view account) {
  absl::StatusOr<std::string> text = csv::DecodeCsvBytes(bytes);
  if (!text.ok()) {
    return DomainInvalid("file", "ENCODING", "the file is neither UTF-8 nor CP932 (Shift_JIS)");
  }
  absl::StatusOr<csv::Table> table = csv::ParseCsvTable(*text);
  if (!table.ok()) {
    return DomainInvalid("file", kMalformedLine, table.status().message());
  }
  BankStatement out;
  KeyAssigner keys;
  for (size_t i = 0; i < table->records.size(); ++i) {
    const std::vector<std::string>& f = table->records[i];
    const int line = table->lines[i];
    bool blank = true;
    for (const std::string& v : f) blank = blank && TrimSpaces(v).empty();
    if (blank) continue;  // Excel leaves ",,," rows behind
    absl::CivilDay date;
    const bool date_ok = !f.empty() && ParseCsvDate(f[0], &date);
    const int64_t amount = f.size() > 1 ? ParseCsvAmount(f[1]) : -1;
    if (i == 0 && !date_ok && amount < 0) continue;  // a header line
    if (f.size() < 3) {
      return BadLine(line,
                     absl::StrCat("has ", f.size(), " column(s); expected date, amount, payer"));
    }
    if (!date_ok) {
      return BadLine(line, absl::StrCat("date \"", f[0], "\" is not a date such as 2026-04-15"));
    }
    if (amount < 0) {
      return BadLine(line, absl::StrCat("amount \"", f[1], "\" is not a yen amount"));
    }
    if (amount == 0) return BadLine(line, "amount must be > 0 yen");
    Payment p;
    p.date = date;
    p.amount = amount;
    p.payer_name = std::string(TrimSpaces(f[2]));
    if (f.size() > 3) p.reference = std::string(TrimSpaces(f[3]));
    keys.Assign(account, p);
    out.payments.push_back(std::move(p));
  }
  return out;
}

}  // namespace anken::billing
