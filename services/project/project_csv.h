#pragma once
// Case CSV bulk register/update (案件CSV一括登録・更新), the pure part: decoding (UTF-8 with or
// without BOM, or CP932), RFC 4180 parsing, header → field mapping and per-row validation.
// A blank 案件番号 registers a new case; otherwise the row updates that case.
//
// Columns (Japanese or English header, any order):
//   案件番号 number | 顧客ID customer_id | 案件名 name | 案件区分ID category_id |
//   見積日 quote_date (YYYY-MM-DD or YYYY/MM/DD) | 検収日 acceptance_date |
//   受注状況 order_status (受注予定/受注済/失注 or PROSPECT/WON/LOST) |
//   進捗状況 progress_status | 担当者 owner | 部門 department | 社内メモ memo |
//   加盟店ID partner_id | 紹介日 referral_date
// 案件名 and 顧客ID are required columns. Headers match after width normalisation and trimming,
// English ones case-insensitively; trailing blank header cells are ignored. Dates also take
// zero-less parts (2024/1/5). A filled 案件番号 must be 7 digits. 加盟店ID and 紹介日 go together
// and make a referral (IN_PROGRESS). Blank rows are skipped; a row's number is the line its
// record starts on (the header is line 1). Row codes: REQUIRED, TOO_LONG, INVALID_DATE,
// INVALID_NUMBER, INVALID_ORDER_STATUS, INVALID_PROGRESS_STATUS, DATE_IN_FUTURE,
// DUPLICATE_NUMBER (on the second row naming a number), TOO_MANY_COLUMNS (row-wide, column
// ""). A row with errors is not planned.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "services/project/project.h"
#include "services/project/project_store.h"

namespace anken::project {

struct ImportRowError {
  int row = 0;          // 1-based line of the file; the header is line 1
  std::string column;   // the header as written; "" for row-wide problems
  std::string code;  // REQUIRED, INVALID_DATE, INVALID_NUMBER, INVALID_ORDER_STATUS, ...
  std::string message;
};

struct ProjectImportPlan {
  std::vector<ProjectImportRow> rows;  // validated (ValidateProject); numbers kept for updates
  std::vector<ImportRowError> errors;
};

// INVALID_ARGUMENT only for a file that cannot be read at all (encoding, header); row problems
// go to plan.errors. File-level errors name the field "csv" with the reason INVALID_ENCODING,
// INVALID_CSV, NO_HEADER, UNKNOWN_COLUMN, DUPLICATE_COLUMN, MISSING_COLUMN or TOO_MANY_ROWS. `progress_statuses` and `today` as for ValidateProject. ≤ 10,000 rows.
absl::StatusOr<ProjectImportPlan> PlanProjectImport(absl::string_view bytes,
                                                    const std::vector<std::string>& progress_statuses,
                                                    absl::CivilDay today);

}  // namespace anken::project
