#pragma once
// Customer/contact CSV import, the pure part: decoding (UTF-8 with or without BOM, or CP932
// as Excel writes it), RFC 4180 parsing, the header → field mapping, and per-row validation
// into a plan. The service then checks codes against the database and writes the plan in one
// transaction, or reports the errors and writes nothing.
//
// Columns (Japanese or English header, any order; unknown headers are an error):
//   顧客コード code | 顧客名 name | フリガナ name_kana | 区分 kind (法人/個人事業主/個人 or
//   corporation/sole_proprietor/individual) | 郵便番号 postal_code | 都道府県 prefecture |
//   住所1 address_line1 | 住所2 address_line2 | 電話番号 phone | メールアドレス email |
//   法人番号 corporate_number | 登録番号 invoice_registration_number |
//   締め日 closing_day (1..28 or 末/月末/0) | 支払月 payment_month_offset (0..12) |
//   支払日 payment_day (1..28 or 末/月末/0) | 状態 lifecycle (見込/有効 or lead/active) |
//   取引先 is_customer (1/0, ○/空) | 加盟店 is_partner | 手数料率 commission_rate_bp |
//   通知メール notification_email | 担当者名 contact_name | 担当者フリガナ contact_name_kana |
//   部署 contact_department | 役職 contact_title | 担当者メール contact_email |
//   担当者電話 contact_phone
// A row with 顧客名 creates a customer (and, with 担当者名, its first contact). A row with only
// 顧客コード and contact columns adds a contact to that customer (existing, or earlier in the
// file). Contacts attach by code, so a row carrying both a new customer and a contact needs
// its 顧客コード (REQUIRED otherwise). Rows whose cells are all blank are skipped; a row's number
// is the line its record starts on.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/csv/csv.h"
#include "services/customer/customer.h"
#include "services/customer/customer_store.h"

namespace anken::customer {

struct ImportRowError {
  int row = 0;          // 1-based line of the file; the header is row 1
  std::string column;   // header text as written in the file; empty for row-wide problems
  std::string code;     // e.g. INVALID_POSTAL_CODE, REQUIRED, DUPLICATE_CODE, UNKNOWN_CUSTOMER_CODE
  std::string message;  // for people (Japanese is fine)
};

struct ImportPlan {
  std::vector<Customer> customers;   // normalised and validated
  std::vector<int> customer_rows;    // row of each customer
  std::vector<ContactImport> contacts;
  std::vector<int> contact_rows;
  // Codes that contacts refer to without a customer in the file: the service checks that
  // they exist (UNKNOWN_CUSTOMER_CODE otherwise) and that new codes are not taken.
  std::vector<std::string> referenced_codes;  // distinct, in order of first use
  std::vector<ImportRowError> errors;         // row order
};

// Decoding (UTF-8 / CP932) and RFC 4180 parsing are shared: common/csv/csv.h.
using csv::DecodeCsvBytes;
using csv::ParseCsv;
using csv::ParseCsvTable;

// Decode + parse + map + validate. INVALID_ARGUMENT only for a file that cannot be read at
// all (encoding, no header, unknown or duplicate header, no name/code column); row problems
// go into plan.errors. Limits: 10,000 data rows.
absl::StatusOr<ImportPlan> PlanImport(absl::string_view bytes);

}  // namespace anken::customer
