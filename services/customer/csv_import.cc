#include "services/customer/csv_import.h"

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/customer/customer_rules.h"

namespace anken::customer {
namespace {

constexpr int kMaxDataRows = 10000;

// ---------------------------------------------------------------------------------------------
// Columns.

enum Col {
  kCode,
  kName,
  kNameKana,
  kKind,
  kPostalCode,
  kPrefecture,
  kAddress1,
  kAddress2,
  kPhone,
  kEmail,
  kCorporateNumber,
  kRegistrationNumber,
  kClosingDay,
  kPaymentMonth,
  kPaymentDay,
  kLifecycle,
  kIsCustomer,
  kIsPartner,
  kCommissionRate,
  kNotificationEmail,
  kContactName,
  kContactKana,
  kContactDepartment,
  kContactTitle,
  kContactEmail,
  kContactPhone,
  kColumnCount,
};

struct ColumnSpec {
  Col col;
  absl::string_view japanese;
  absl::string_view english;
  // The FieldError path that this column feeds (after "customer." or "contact.").
  absl::string_view field;
  bool contact;
};

constexpr ColumnSpec kColumns[kColumnCount] = {
    {kCode, "顧客コード", "code", "code", false},
    {kName, "顧客名", "name", "name", false},
    {kNameKana, "フリガナ", "name_kana", "name_kana", false},
    {kKind, "区分", "kind", "kind", false},
    {kPostalCode, "郵便番号", "postal_code", "postal_code", false},
    {kPrefecture, "都道府県", "prefecture", "prefecture", false},
    {kAddress1, "住所1", "address_line1", "address_line1", false},
    {kAddress2, "住所2", "address_line2", "address_line2", false},
    {kPhone, "電話番号", "phone", "phone", false},
    {kEmail, "メールアドレス", "email", "email", false},
    {kCorporateNumber, "法人番号", "corporate_number", "corporate_number", false},
    {kRegistrationNumber, "登録番号", "invoice_registration_number",
     "invoice_registration_number", false},
    {kClosingDay, "締め日", "closing_day", "billing_terms.closing_day", false},
    {kPaymentMonth, "支払月", "payment_month_offset", "billing_terms.payment_month_offset",
     false},
    {kPaymentDay, "支払日", "payment_day", "billing_terms.payment_day", false},
    {kLifecycle, "状態", "lifecycle", "lifecycle", false},
    {kIsCustomer, "取引先", "is_customer", "is_customer", false},
    {kIsPartner, "加盟店", "is_partner", "is_partner", false},
    {kCommissionRate, "手数料率", "commission_rate_bp", "partner.commission_rate_bp", false},
    {kNotificationEmail, "通知メール", "notification_email", "partner.notification_email",
     false},
    {kContactName, "担当者名", "contact_name", "name", true},
    {kContactKana, "担当者フリガナ", "contact_name_kana", "name_kana", true},
    {kContactDepartment, "部署", "contact_department", "department", true},
    {kContactTitle, "役職", "contact_title", "title", true},
    {kContactEmail, "担当者メール", "contact_email", "email", true},
    {kContactPhone, "担当者電話", "contact_phone", "phone", true},
};

// Header cells and values are compared after width normalisation and trimming, so that
// "ｃｏｄｅ" or "　顧客名 " still match.
std::string Clean(absl::string_view text) {
  return std::string(absl::StripAsciiWhitespace(NormalizeWidth(text)));
}

bool IsBlank(absl::string_view text) { return Clean(text).empty(); }

// Surrounding white space, including the full-width space, off text that is otherwise kept
// as written.
std::string TrimAsWritten(absl::string_view text) {
  constexpr absl::string_view kIdeographicSpace = "\xE3\x80\x80";
  while (true) {
    text = absl::StripAsciiWhitespace(text);
    if (absl::ConsumePrefix(&text, kIdeographicSpace)) continue;
    if (absl::ConsumeSuffix(&text, kIdeographicSpace)) continue;
    return std::string(text);
  }
}

bool RowIsBlank(const std::vector<std::string>& row) {
  for (const std::string& cell : row) {
    if (!IsBlank(cell)) return false;
  }
  return true;
}

int FindColumn(absl::string_view header) {
  const std::string h = Clean(header);
  const std::string lower = absl::AsciiStrToLower(h);
  for (const ColumnSpec& spec : kColumns) {
    if (h == spec.japanese || lower == spec.english) return spec.col;
  }
  return -1;
}

// People read these; the stable part is the code.
std::string JapaneseMessage(absl::string_view code, absl::string_view label,
                            absl::string_view fallback) {
  static const auto* const kMessages = new std::map<std::string, std::string, std::less<>>{
      {"REQUIRED", "入力が必要です"},
      {"TOO_LONG", "長すぎます"},
      {"INVALID_CUSTOMER_CODE", "英数字・ハイフン・アンダースコア20文字以内で入力してください"},
      {"INVALID_KANA", "カタカナで入力してください"},
      {"INVALID_KIND", "法人・個人事業主・個人のいずれかを入力してください"},
      {"INVALID_POSTAL_CODE", "123-4567 の形式で入力してください"},
      {"INVALID_PREFECTURE", "都道府県名を正しく入力してください（例: 東京都）"},
      {"INVALID_PHONE", "電話番号を正しく入力してください"},
      {"INVALID_EMAIL", "メールアドレスを正しく入力してください"},
      {"INVALID_CORPORATE_NUMBER", "13桁の法人番号を正しく入力してください（チェックデジット不一致）"},
      {"CORPORATE_NUMBER_NOT_CORPORATION", "法人番号は区分が法人の顧客にだけ入力できます"},
      {"INVALID_REGISTRATION_NUMBER", "T＋13桁の登録番号を正しく入力してください"},
      {"REGISTRATION_NUMBER_MISMATCH", "法人の登録番号は T＋法人番号 です"},
      {"INVALID_NUMBER", "数値で入力してください"},
      {"OUT_OF_RANGE", "範囲外の値です"},
      {"PAYMENT_BEFORE_CLOSING", "当月払いの支払日は締め日以降にしてください"},
      {"INVALID_LIFECYCLE", "見込・有効のいずれかを入力してください"},
      {"INVALID_FLAG", "1 または 0（○ または空欄）で入力してください"},
      {"ROLE_REQUIRED", "取引先・加盟店の少なくとも一方が必要です"},
  };
  auto it = kMessages->find(code);
  std::string text = it == kMessages->end() ? std::string(fallback) : it->second;
  // The limits themselves are in the rule's own description.
  if ((code == "OUT_OF_RANGE" || code == "TOO_LONG") && !fallback.empty()) {
    absl::StrAppend(&text, "（", fallback, "）");
  }
  return label.empty() ? text : absl::StrCat(label, ": ", text);
}

// ---------------------------------------------------------------------------------------------
// One data row.

class RowReader {
 public:
  RowReader(int row, const std::vector<std::string>& cells, const std::vector<int>& index,
            const std::vector<std::string>& headers)
      : row_(row), cells_(cells), index_(index), headers_(headers) {}

  bool Has(Col col) const { return index_[col] >= 0; }
  // The cell as written (empty when the column is absent or the row is short).
  std::string Raw(Col col) const {
    const int i = index_[col];
    return i >= 0 && static_cast<size_t>(i) < cells_.size() ? cells_[i] : std::string();
  }
  std::string Value(Col col) const { return Clean(Raw(col)); }
  // The header text as written, or "" when the file has no such column.
  std::string Label(Col col) const { return Has(col) ? headers_[index_[col]] : std::string(); }

  // An error on one column; `message` replaces the standard text for the code.
  void Error(Col col, absl::string_view code, absl::string_view fallback,
             absl::string_view message = "") {
    const std::string label = Label(col);
    // A column missing from the file still deserves its name in the message.
    const std::string message_label = label.empty() ? std::string(kColumns[col].japanese) : label;
    errors_.push_back(ImportRowError{
        row_, label, std::string(code),
        message.empty() ? JapaneseMessage(code, message_label, fallback) : std::string(message)});
  }
  void RowError(absl::string_view code, absl::string_view message) {
    errors_.push_back(ImportRowError{row_, "", std::string(code), std::string(message)});
  }

  // Maps FieldErrors of NormalizeAndValidate back to the columns that carried the fields.
  void AddFieldErrors(const std::vector<FieldError>& field_errors, absl::string_view prefix,
                      bool contact) {
    for (const FieldError& fe : field_errors) {
      absl::string_view field = fe.field;
      if (absl::StartsWith(field, prefix)) field.remove_prefix(prefix.size());
      Col col = kColumnCount;
      for (const ColumnSpec& spec : kColumns) {
        if (spec.contact == contact && spec.field == field) col = spec.col;
      }
      if (col == kColumnCount) {
        RowError(fe.reason, absl::StrCat(field, ": ", fe.description));
      } else {
        Error(col, fe.reason, fe.description);
      }
    }
  }

  int row() const { return row_; }
  bool ok() const { return errors_.empty(); }
  std::vector<ImportRowError>& errors() { return errors_; }

 private:
  int row_;
  const std::vector<std::string>& cells_;
  const std::vector<int>& index_;
  const std::vector<std::string>& headers_;
  std::vector<ImportRowError> errors_;
};

bool ParseInt(absl::string_view text, int* out) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c)) && c != '-' && c != '+') {
      return false;
    }
  }
  return absl::SimpleAtoi(text, out);
}

// 締め日 / 支払日: "20", "20日", or 末 / 月末 / 0 for the month end.
void ReadDay(RowReader& r, Col col, int* out) {
  std::string v = r.Value(col);
  if (v.empty()) return;
  if (v == "末" || v == "月末") {
    *out = 0;
    return;
  }
  if (absl::EndsWith(v, "日")) v.resize(v.size() - std::string("日").size());
  if (!ParseInt(v, out)) r.Error(col, "INVALID_NUMBER", "must be a day 1..28, or 末 / 0");
}

// 支払月: months after the closing month, or 当月 / 翌月 / 翌々月.
void ReadMonthOffset(RowReader& r, Col col, int* out) {
  const std::string v = r.Value(col);
  if (v.empty()) return;
  if (v == "当月") {
    *out = 0;
  } else if (v == "翌月") {
    *out = 1;
  } else if (v == "翌々月" || v == "翌翌月") {
    *out = 2;
  } else if (!ParseInt(v, out)) {
    r.Error(col, "INVALID_NUMBER", "must be a number of months 0..12");
  }
}

// 取引先 / 加盟店 flags: 1 / ○ for yes, 0 / blank for no.
void ReadFlag(RowReader& r, Col col, bool* out) {
  if (!r.Has(col)) return;  // absent column: keep the default
  const std::string v = absl::AsciiStrToLower(r.Value(col));
  if (v == "1" || v == "○" || v == "〇" || v == "◯" || v == "true" || v == "yes") {
    *out = true;
  } else if (v.empty() || v == "0" || v == "×" || v == "false" || v == "no") {
    *out = false;
  } else {
    r.Error(col, "INVALID_FLAG", "must be 1 or 0");
  }
}

void ReadKind(RowReader& r, Kind* out) {
  const std::string v = absl::AsciiStrToLower(r.Value(kKind));
  if (v.empty()) return;  // the default: corporation
  if (v == "法人" || v == "corporation") {
    *out = Kind::kCorporation;
  } else if (v == "個人事業主" || v == "sole_proprietor") {
    *out = Kind::kSoleProprietor;
  } else if (v == "個人" || v == "individual") {
    *out = Kind::kIndividual;
  } else {
    r.Error(kKind, "INVALID_KIND", "must be 法人, 個人事業主 or 個人");
  }
}

void ReadLifecycle(RowReader& r, Lifecycle* out) {
  const std::string v = absl::AsciiStrToLower(r.Value(kLifecycle));
  if (v.empty()) return;  // the default: active
  if (v == "見込" || v == "見込み" || v == "見込顧客" || v == "lead") {
    *out = Lifecycle::kLead;
  } else if (v == "有効" || v == "active") {
    *out = Lifecycle::kActive;
  } else {
    r.Error(kLifecycle, "INVALID_LIFECYCLE", "must be 見込 or 有効");
  }
}

Customer ReadCustomer(RowReader& r) {
  Customer c;
  c.code = r.Raw(kCode);
  c.name = r.Raw(kName);
  c.name_kana = r.Raw(kNameKana);
  ReadKind(r, &c.kind);
  c.postal_code = r.Raw(kPostalCode);
  c.prefecture = r.Raw(kPrefecture);
  c.address_line1 = r.Raw(kAddress1);
  c.address_line2 = r.Raw(kAddress2);
  c.phone = r.Raw(kPhone);
  c.email = r.Raw(kEmail);
  c.corporate_number = r.Raw(kCorporateNumber);
  c.invoice_registration_number = r.Raw(kRegistrationNumber);
  ReadDay(r, kClosingDay, &c.billing_terms.closing_day);
  ReadMonthOffset(r, kPaymentMonth, &c.billing_terms.payment_month_offset);
  ReadDay(r, kPaymentDay, &c.billing_terms.payment_day);
  ReadLifecycle(r, &c.lifecycle);
  ReadFlag(r, kIsCustomer, &c.is_customer);
  ReadFlag(r, kIsPartner, &c.is_partner);
  const std::string rate = r.Value(kCommissionRate);
  if (!rate.empty() && !ParseInt(rate, &c.partner.commission_rate_bp)) {
    r.Error(kCommissionRate, "INVALID_NUMBER", "must be a whole number of basis points");
  }
  c.partner.notification_email = r.Raw(kNotificationEmail);
  return c;
}

Contact ReadContact(const RowReader& r) {
  Contact c;
  c.name = r.Raw(kContactName);
  c.name_kana = r.Raw(kContactKana);
  c.department = r.Raw(kContactDepartment);
  c.title = r.Raw(kContactTitle);
  c.email = r.Raw(kContactEmail);
  c.phone = r.Raw(kContactPhone);
  return c;
}

bool AnyValue(const RowReader& r, bool contact, bool skip_name_and_code) {
  for (const ColumnSpec& spec : kColumns) {
    if (spec.contact != contact) continue;
    if (skip_name_and_code && (spec.col == kCode || spec.col == kName)) continue;
    if (!r.Value(spec.col).empty()) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<ImportPlan> PlanImport(absl::string_view bytes) {
  absl::StatusOr<std::string> text = DecodeCsvBytes(bytes);
  if (!text.ok()) return text.status();
  absl::StatusOr<csv::Table> table = csv::ParseCsvTable(*text);
  if (!table.ok()) return table.status();
  const std::vector<std::vector<std::string>>& rows = table->records;
  const std::vector<int>& lines = table->lines;
  if (rows.empty() || RowIsBlank(rows[0])) {
    return absl::InvalidArgumentError("the file has no header row");
  }

  // Header: trailing blank cells (Excel leaves them) are ignored; anything else must name a
  // known column exactly once. Errors quote the header text as written.
  std::vector<std::string> headers;
  for (const std::string& h : rows[0]) headers.push_back(TrimAsWritten(h));
  while (!headers.empty() && IsBlank(headers.back())) headers.pop_back();
  std::vector<int> index(kColumnCount, -1);
  for (size_t k = 0; k < headers.size(); ++k) {
    const int col = FindColumn(headers[k]);
    if (col < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown column \"", headers[k], "\" (column ", k + 1, " of the header row)"));
    }
    if (index[col] >= 0) {
      return absl::InvalidArgumentError(absl::StrCat("column \"", headers[k],
                                                     "\" appears twice in the header row"));
    }
    index[col] = static_cast<int>(k);
  }
  if (index[kName] < 0 && index[kCode] < 0) {
    return absl::InvalidArgumentError("the header needs 顧客名 (name) or 顧客コード (code)");
  }
  int data_rows = 0;
  for (size_t r = 1; r < rows.size(); ++r) {
    if (!RowIsBlank(rows[r])) ++data_rows;
  }
  if (data_rows > kMaxDataRows) {
    return absl::InvalidArgumentError(absl::StrCat("the file has ", data_rows,
                                                   " data rows; at most ", kMaxDataRows,
                                                   " can be imported at once"));
  }

  // Codes of customer rows (valid or not), so that contact rows may refer to them in any order
  // and a repeated code is reported on its second row.
  std::map<std::string, int> customer_code_rows;
  for (size_t r = 1; r < rows.size(); ++r) {
    RowReader reader(lines[r], rows[r], index, headers);
    const std::string code = reader.Value(kCode);
    if (!reader.Value(kName).empty() && !code.empty()) {
      customer_code_rows.emplace(code, reader.row());
    }
  }

  ImportPlan plan;
  std::set<std::string> referenced;
  for (size_t r = 1; r < rows.size(); ++r) {
    const std::vector<std::string>& cells = rows[r];
    if (RowIsBlank(cells)) continue;
    RowReader reader(lines[r], cells, index, headers);
    for (size_t k = headers.size(); k < cells.size(); ++k) {
      if (!IsBlank(cells[k])) {
        reader.RowError("TOO_MANY_COLUMNS",
                        absl::StrCat("見出しより列が多くなっています（", k + 1, "列目）"));
        break;
      }
    }
    const std::string code = reader.Value(kCode);
    const bool has_name = !reader.Value(kName).empty();
    const bool has_contact = AnyValue(reader, /*contact=*/true, false);

    if (has_name) {
      Customer customer = ReadCustomer(reader);
      reader.AddFieldErrors(NormalizeAndValidate(customer, "customer"), "customer.", false);
      if (!code.empty()) {
        const int first = customer_code_rows.at(code);
        if (first != reader.row()) {
          reader.Error(kCode, "DUPLICATE_CODE", "",
                       absl::StrCat(reader.Label(kCode), ": 顧客コード ", code, " は ", first,
                                    " 行目と重複しています"));
        }
      }
      absl::optional<Contact> contact;
      if (has_contact) {
        contact = ReadContact(reader);
        reader.AddFieldErrors(NormalizeAndValidate(*contact, "contact"), "contact.", true);
        if (code.empty()) {
          reader.Error(kCode, "REQUIRED", "",
                       "担当者を同じ行で登録するには顧客コードが必要です"
                       "（担当者は顧客コードで顧客に結び付けます）");
        }
      }
      if (reader.ok()) {
        plan.customers.push_back(std::move(customer));
        plan.customer_rows.push_back(reader.row());
        if (contact) {
          plan.contacts.push_back(ContactImport{plan.customers.back().code, *std::move(contact)});
          plan.contact_rows.push_back(reader.row());
        }
      }
    } else if (!code.empty() && has_contact && !AnyValue(reader, false, true)) {
      // A contact for a customer that exists already or is created elsewhere in the file.
      if (!IsValidCustomerCode(code)) {
        reader.Error(kCode, "INVALID_CUSTOMER_CODE", "must be 1 to 20 of A-Z a-z 0-9 - _");
      }
      Contact contact = ReadContact(reader);
      reader.AddFieldErrors(NormalizeAndValidate(contact, "contact"), "contact.", true);
      if (reader.ok()) {
        if (customer_code_rows.count(code) == 0 && referenced.insert(code).second) {
          plan.referenced_codes.push_back(code);
        }
        plan.contacts.push_back(ContactImport{code, std::move(contact)});
        plan.contact_rows.push_back(reader.row());
      }
    } else if (code.empty() && has_contact && !AnyValue(reader, false, true)) {
      reader.Error(reader.Has(kCode) ? kCode : kName, "REQUIRED", "",
                   "担当者を登録する顧客の顧客コード（新しい顧客なら顧客名）が必要です");
    } else {
      reader.Error(kName, "REQUIRED", "");
    }
    for (ImportRowError& e : reader.errors()) plan.errors.push_back(std::move(e));
  }
  return plan;
}

}  // namespace anken::customer
