#include "services/project/project_csv.h"

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/csv/csv.h"
#include "common/status/domain_error.h"
#include "services/project/project_rules.h"

namespace anken::project {
namespace {

constexpr int kMaxDataRows = 10000;
// The request field that carries the file: file-level errors name it.
constexpr absl::string_view kFileField = "csv";

enum Col {
  kNumber,
  kCustomerId,
  kName,
  kCategoryId,
  kQuoteDate,
  kAcceptanceDate,
  kOrderStatus,
  kProgressStatus,
  kOwner,
  kDepartment,
  kMemo,
  kPartnerId,
  kReferralDate,
  kColumnCount,
};

struct ColumnSpec {
  Col col;
  absl::string_view japanese;
  absl::string_view english;
  absl::string_view field;  // as ValidateProject names it
};

constexpr ColumnSpec kColumns[kColumnCount] = {
    {kNumber, "案件番号", "number", "project.number"},
    {kCustomerId, "顧客ID", "customer_id", "project.customer_id"},
    {kName, "案件名", "name", "project.name"},
    {kCategoryId, "案件区分ID", "category_id", "project.category_id"},
    {kQuoteDate, "見積日", "quote_date", "project.quote_date"},
    {kAcceptanceDate, "検収日", "acceptance_date", "project.acceptance_date"},
    {kOrderStatus, "受注状況", "order_status", "project.order_status"},
    {kProgressStatus, "進捗状況", "progress_status", "project.progress_status"},
    {kOwner, "担当者", "owner", "project.owner"},
    {kDepartment, "部門", "department", "project.department"},
    {kMemo, "社内メモ", "memo", "project.memo"},
    {kPartnerId, "加盟店ID", "partner_id", "project.referral.partner_id"},
    {kReferralDate, "紹介日", "referral_date", "project.referral.referral_date"},
};

// Full-width ASCII (Ｕ+FF01..FF5E, what a Japanese IME types for digits, letters and "／")
// becomes ASCII and the ideographic space a space, so that "２０２４／１／５" or "ＩＤ" read as
// meant. The input is valid UTF-8 (DecodeCsvBytes guarantees it).
std::string NormalizeWidth(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char b0 = static_cast<unsigned char>(text[i]);
    if (i + 2 < text.size()) {
      const unsigned char b1 = static_cast<unsigned char>(text[i + 1]);
      const unsigned char b2 = static_cast<unsigned char>(text[i + 2]);
      if (b0 == 0xEF && b1 == 0xBC && b2 >= 0x81 && b2 <= 0xBF) {  // U+FF01..FF3F
        out.push_back(static_cast<char>(b2 - 0x60));
        i += 2;
        continue;
      }
      if (b0 == 0xEF && b1 == 0xBD && b2 >= 0x80 && b2 <= 0x9E) {  // U+FF40..FF5E
        out.push_back(static_cast<char>(b2 - 0x20));
        i += 2;
        continue;
      }
      if (b0 == 0xE3 && b1 == 0x80 && b2 == 0x80) {  // U+3000
        out.push_back(' ');
        i += 2;
        continue;
      }
    }
    out.push_back(static_cast<char>(b0));
  }
  return out;
}

// For codes, numbers, dates and header names.
std::string Clean(absl::string_view text) {
  return std::string(absl::StripAsciiWhitespace(NormalizeWidth(text)));
}

// For free text: surrounding white space (the ideographic space too) goes, the rest is kept
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

bool IsBlank(absl::string_view text) { return Clean(text).empty(); }

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

bool AllDigits(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// YYYY-MM-DD or YYYY/MM/DD, month and day with or without a leading zero (Excel writes
// 2024/1/5); the day must exist.
bool ParseDate(absl::string_view text, absl::CivilDay* out) {
  const char sep = text.find('/') != absl::string_view::npos ? '/' : '-';
  std::vector<absl::string_view> parts = absl::StrSplit(text, sep);
  if (parts.size() != 3 || parts[0].size() != 4 || parts[1].empty() || parts[1].size() > 2 ||
      parts[2].empty() || parts[2].size() > 2) {
    return false;
  }
  int y = 0, m = 0, d = 0;
  if (!AllDigits(parts[0]) || !AllDigits(parts[1]) || !AllDigits(parts[2]) ||
      !absl::SimpleAtoi(parts[0], &y) || !absl::SimpleAtoi(parts[1], &m) ||
      !absl::SimpleAtoi(parts[2], &d)) {
    return false;
  }
  if (y < 1900) return false;
  const absl::CivilDay day(y, m, d);
  // CivilDay normalises 2024-02-30 to 2024-03-01: a changed field means no such day.
  if (day.year() != y || day.month() != m || day.day() != d) return false;
  *out = day;
  return true;
}

bool ParseId(absl::string_view text, int64_t* out) {
  return AllDigits(text) && absl::SimpleAtoi(text, out);
}

// People read these; the stable part is the code.
std::string Message(absl::string_view code, absl::string_view label) {
  static const auto* const kMessages = new std::map<std::string, std::string, std::less<>>{
      {"REQUIRED", "入力が必要です"},
      {"TOO_LONG", "長すぎます"},
      {"INVALID_DATE", "日付は YYYY-MM-DD または YYYY/MM/DD の形式で入力してください"},
      {"INVALID_NUMBER", "数値で入力してください"},
      {"INVALID_ID", "0 以上の数値で入力してください"},
      {"INVALID_ORDER_STATUS", "受注予定・受注済・失注のいずれかを入力してください"},
      {"INVALID_PROGRESS_STATUS", "登録されている進捗状況を入力してください"},
      {"DATE_IN_FUTURE", "未来の日付は入力できません"},
  };
  auto it = kMessages->find(code);
  const absl::string_view text =
      it == kMessages->end() ? absl::string_view("不正な入力があります") : it->second;
  return absl::StrCat(label, ": ", text);
}

class RowReader {
 public:
  RowReader(int row, const std::vector<std::string>& cells, const std::vector<int>& index,
            const std::vector<std::string>& headers)
      : row_(row), cells_(cells), index_(index), headers_(headers) {}

  bool Has(Col col) const { return index_[col] >= 0; }
  std::string Raw(Col col) const {
    const int i = index_[col];
    return i >= 0 && static_cast<size_t>(i) < cells_.size() ? cells_[i] : std::string();
  }
  std::string Value(Col col) const { return Clean(Raw(col)); }
  std::string Text(Col col) const { return TrimAsWritten(Raw(col)); }
  // The header as written; a column the file lacks is named by its Japanese header, so that
  // the person knows which column to add.
  std::string Label(Col col) const {
    return Has(col) ? headers_[index_[col]] : std::string(kColumns[col].japanese);
  }

  void Error(Col col, absl::string_view code, std::string message = "") {
    if (!failed_.insert(col).second) return;  // one error per cell
    const std::string label = Label(col);
    errors_.push_back(ImportRowError{row_, label, std::string(code),
                                     message.empty() ? Message(code, label) : std::move(message)});
  }
  void RowError(absl::string_view code, std::string message) {
    errors_.push_back(ImportRowError{row_, "", std::string(code), std::move(message)});
  }

  // ValidateProject's findings, each on the column that carried its field; a cell that did
  // not parse has been reported already.
  void AddViolations(const std::vector<ProjectViolation>& violations) {
    for (const ProjectViolation& v : violations) {
      int col = -1;
      for (const ColumnSpec& spec : kColumns) {
        if (spec.field == v.field) col = spec.col;
      }
      if (col < 0) {
        RowError(v.reason, absl::StrCat(v.field, ": ", v.description));
      } else {
        Error(static_cast<Col>(col), v.reason);
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
  std::set<Col> failed_;
};

absl::optional<absl::CivilDay> ReadDate(RowReader& r, Col col) {
  const std::string v = r.Value(col);
  if (v.empty()) return absl::nullopt;
  absl::CivilDay day;
  if (!ParseDate(v, &day)) {
    r.Error(col, "INVALID_DATE");
    return absl::nullopt;
  }
  return day;
}

// Blank → 0. Otherwise digits only (no sign, no separators).
int64_t ReadId(RowReader& r, Col col) {
  const std::string v = r.Value(col);
  int64_t id = 0;
  if (!v.empty() && !ParseId(v, &id)) r.Error(col, "INVALID_NUMBER");
  return id;
}

OrderStatus ReadOrderStatus(RowReader& r) {
  const std::string v = absl::AsciiStrToLower(r.Value(kOrderStatus));
  if (v.empty() || v == "受注予定" || v == "prospect") return OrderStatus::kProspect;
  if (v == "受注済" || v == "受注済み" || v == "won") return OrderStatus::kWon;
  if (v == "失注" || v == "lost") return OrderStatus::kLost;
  r.Error(kOrderStatus, "INVALID_ORDER_STATUS");
  return OrderStatus::kProspect;
}

// Blank → a new case. Otherwise the 7-digit number of an existing case.
std::string ReadNumber(RowReader& r) {
  const std::string v = r.Value(kNumber);
  if (v.empty()) return v;
  if (v.size() != 7 || !AllDigits(v) || v == "0000000") {
    r.Error(kNumber, "INVALID_NUMBER",
            absl::StrCat(r.Label(kNumber), ": 案件番号は7桁の数字で入力してください（例: 0000123）"));
    return "";
  }
  return v;
}

}  // namespace

absl::StatusOr<ProjectImportPlan> PlanProjectImport(absl::string_view bytes,
                                                    const std::vector<std::string>& progress_statuses,
                                                    absl::CivilDay today) {
  absl::StatusOr<std::string> text = csv::DecodeCsvBytes(bytes);
  if (!text.ok()) {
    return DomainInvalid(kFileField, "INVALID_ENCODING", text.status().message());
  }
  absl::StatusOr<csv::Table> table = csv::ParseCsvTable(*text);
  if (!table.ok()) return DomainInvalid(kFileField, "INVALID_CSV", table.status().message());
  const std::vector<std::vector<std::string>>& rows = table->records;
  const std::vector<int>& lines = table->lines;
  if (rows.empty() || RowIsBlank(rows[0])) {
    return DomainInvalid(kFileField, "NO_HEADER", "the file has no header row");
  }

  // Header: trailing blank cells (Excel leaves them) are ignored; every other cell must name a
  // known column, once.
  std::vector<std::string> headers;
  for (const std::string& h : rows[0]) headers.push_back(TrimAsWritten(h));
  while (!headers.empty() && IsBlank(headers.back())) headers.pop_back();
  std::vector<int> index(kColumnCount, -1);
  for (size_t k = 0; k < headers.size(); ++k) {
    const int col = FindColumn(headers[k]);
    if (col < 0) {
      // Named by position, never quoted: the header cell is the client's text, of any length.
      return DomainInvalid(kFileField, "UNKNOWN_COLUMN",
                           absl::StrCat("column ", k + 1, " of the header row is not a known column"));
    }
    if (index[col] >= 0) {
      return DomainInvalid(kFileField, "DUPLICATE_COLUMN",
                           absl::StrCat("columns ", index[col] + 1, " and ", k + 1,
                                        " of the header row are both ", kColumns[col].japanese,
                                        " (", kColumns[col].english, ")"));
    }
    index[col] = static_cast<int>(k);
  }
  for (Col required : {kName, kCustomerId}) {
    if (index[required] < 0) {
      return DomainInvalid(kFileField, "MISSING_COLUMN",
                           absl::StrCat("the header needs the column ",
                                        kColumns[required].japanese, " (",
                                        kColumns[required].english, ")"));
    }
  }
  int data_rows = 0;
  for (size_t r = 1; r < rows.size(); ++r) {
    if (!RowIsBlank(rows[r])) ++data_rows;
  }
  if (data_rows > kMaxDataRows) {
    return DomainInvalid(kFileField, "TOO_MANY_ROWS",
                         absl::StrCat("the file has ", data_rows, " data rows; at most ",
                                      kMaxDataRows, " can be imported at once"));
  }

  ProjectImportPlan plan;
  std::map<std::string, int> number_rows;  // case number → first row naming it
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

    Project p;
    p.number = ReadNumber(reader);
    if (!p.number.empty()) {
      auto [it, inserted] = number_rows.emplace(p.number, reader.row());
      if (!inserted) {
        reader.Error(kNumber, "DUPLICATE_NUMBER",
                     absl::StrCat(reader.Label(kNumber), ": 案件番号 ", p.number, " は ",
                                  it->second, " 行目と重複しています"));
      }
    }
    p.customer_id = ReadId(reader, kCustomerId);
    p.name = reader.Text(kName);
    p.category_id = ReadId(reader, kCategoryId);
    p.quote_date = ReadDate(reader, kQuoteDate);
    p.acceptance_date = ReadDate(reader, kAcceptanceDate);
    p.order_status = ReadOrderStatus(reader);
    p.progress_status = reader.Text(kProgressStatus);
    p.owner = reader.Text(kOwner);
    p.department = reader.Text(kDepartment);
    p.memo = reader.Text(kMemo);

    // A referral needs both its partner and its date.
    const int64_t partner_id = ReadId(reader, kPartnerId);
    const absl::optional<absl::CivilDay> referral_date = ReadDate(reader, kReferralDate);
    const bool has_partner = !reader.Value(kPartnerId).empty();
    const bool has_referral_date = !reader.Value(kReferralDate).empty();
    if (has_partner && !has_referral_date) {
      reader.Error(kReferralDate, "REQUIRED",
                   absl::StrCat(reader.Label(kReferralDate), ": 加盟店IDを入力した行には紹介日が必要です"));
    } else if (has_referral_date && !has_partner) {
      reader.Error(kPartnerId, "REQUIRED",
                   absl::StrCat(reader.Label(kPartnerId), ": 紹介日を入力した行には加盟店IDが必要です"));
    } else if (has_partner && referral_date) {
      Referral referral;
      referral.partner_id = partner_id;
      referral.referral_date = *referral_date;
      referral.outcome = Outcome::kInProgress;
      p.referral = std::move(referral);
    }

    reader.AddViolations(ProjectViolations(p, progress_statuses, today));
    if (reader.ok()) plan.rows.push_back(ProjectImportRow{reader.row(), std::move(p)});
    for (ImportRowError& e : reader.errors()) plan.errors.push_back(std::move(e));
  }
  return plan;
}

}  // namespace anken::project
