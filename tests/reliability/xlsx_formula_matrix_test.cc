// Reliability: the formula matrix (issue #11, "Bad input"). Remarks are the one free-text
// field a partner fills in; a spreadsheet or a CSV export later opened by staff reads text
// that starts with = + - @ (or TAB / CR / LF before one) as a formula. Every such character —
// ASCII, fullwidth ＝ ＋ － ＠, small form ﹦ ﹢ ﹣ ﹫, U+2212 — and the control characters TAB,
// CR, LF, NUL, first in the cell, inside it, or after a leading space, a BOM or a zero-width
// space, stored as a shared string, an inline string or split over rich-text runs (shared and
// inline), is uploaded in a real .xlsx built here from the rendered template: each row is
// refused with its row number, its case number, the code INVALID_REMARKS and DESIGN.md's text,
// and nothing is accepted (all or nothing). The same texts through ValidateChange (what
// ReportChange runs) are refused too. Benign Japanese text — long-vowel marks, dashes, wave
// dashes, fullwidth digits, spaces to trim, a furigana run holding ＝ (not part of the value) —
// is accepted and reads back exactly. DESIGN.md refuses remarks *containing* - , so "2-3日後"
// is refused and "2〜3日後" is the accepted spelling.

#include <gtest/gtest.h>

#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "services/report/report_rules.h"
#include "tests/common/xlsx/xlsx_test_util.h"
#include "tests/reliability/reliability_support.h"
#include "tests/reliability/xlsx_upload_support.h"

namespace anken::reliability {
namespace {

using report::ErrorCode;
using report::ErrorKind;
using report::ErrorMessage;
using report::LineError;

constexpr char kScenario[] = "formula matrix";
constexpr int kFirstDataRow = 8;  // the template's header is row 7

// A character of the matrix: as the value holds it, as the sheet XML spells it, and the reason
// the rule gives.
struct Offender {
  std::string name;
  std::string value;
  std::string xml;
  std::string reason;
};

std::vector<Offender> Offenders() {
  const std::string kForbidden = "FORBIDDEN_CHARACTER";
  const std::string kControl = "CONTROL_CHARACTER";
  std::vector<Offender> out;
  for (const char* c : {"=", "+", "-", "@", "＝", "＋", "－", "＠", "﹦", "﹢", "﹣", "﹫",
                        "\xE2\x88\x92" /* U+2212 − */}) {
    out.push_back({c, c, c, kForbidden});
  }
  // XML keeps TAB and LF as they are, turns a raw CR into LF and cannot hold NUL at all:
  // spreadsheets write those two as _xHHHH_ escapes.
  out.push_back({"TAB", "\t", "\t", kControl});
  out.push_back({"LF", "\n", "\n", kControl});
  out.push_back({"CR", "\r", "_x000D_", kControl});
  out.push_back({"NUL", std::string(1, '\0'), "_x0000_", kControl});
  return out;
}

// Where the offender stands: before it (`lead`) and after it.
struct Position {
  std::string name;
  std::string lead;
  std::string tail;
};

const std::vector<Position>& Positions() {
  static const std::vector<Position> positions = {
      {"first", "", "来月着工予定"},
      {"inside", "来月", "着工予定"},
      {"after a space", " ", "来月着工予定"},
      {"after a BOM", "\xEF\xBB\xBF", "来月着工予定"},
      {"after a zero-width space", "\xE2\x80\x8B", "来月着工予定"},
  };
  return positions;
}

// A remarks text as the sheet stores it: `runs` are the rich-text runs (one for plain text),
// each already in XML (escapes applied).
struct Remarks {
  std::string label;  // for messages
  std::vector<std::string> runs;
  std::string reading = "";  // a furigana run (<rPh>): shown above the text, not part of it
};

enum class Storage { kShared, kInline, kRichShared, kRichInline };

const char* StorageName(Storage s) {
  switch (s) {
    case Storage::kShared:
      return "shared string";
    case Storage::kInline:
      return "inline string";
    case Storage::kRichShared:
      return "rich-text runs (shared)";
    case Storage::kRichInline:
      return "rich-text runs (inline)";
  }
  return "";
}

std::string TextXml(const std::string& xml) {
  return absl::StrCat("<t xml:space=\"preserve\">", xml, "</t>");
}

// The item body (<si> or <is> content) of `remarks` in `storage`. Rich storage puts each run
// in <r> with some formatting on the second; plain storage joins the runs into one <t>.
std::string ItemBody(const Remarks& remarks, Storage storage) {
  std::string body;
  if (storage == Storage::kShared || storage == Storage::kInline) {
    std::string joined;
    for (const std::string& run : remarks.runs) joined += run;
    body = TextXml(joined);
  } else {
    for (size_t i = 0; i < remarks.runs.size(); ++i) {
      absl::StrAppend(&body, "<r>", i == 1 ? "<rPr><b/><sz val=\"11\"/></rPr>" : "",
                      TextXml(remarks.runs[i]), "</r>");
    }
  }
  if (!remarks.reading.empty()) {
    absl::StrAppend(&body, "<rPh sb=\"0\" eb=\"2\">", TextXml(remarks.reading), "</rPh>");
  }
  return body;
}

// A real upload: the rendered template of `lines` whose table holds one row per remarks text
// (row 8 + i names line i + 1), the remarks in column I stored as `storage`.
std::string MatrixFile(const std::string& rendered, const std::vector<Remarks>& remarks,
                       Storage storage) {
  const bool shared = storage == Storage::kShared || storage == Storage::kRichShared;
  int next_index = SharedStringCount(rendered);
  std::string items;
  std::string rows;
  for (size_t i = 0; i < remarks.size(); ++i) {
    const int row = kFirstDataRow + static_cast<int>(i);
    const std::string body = ItemBody(remarks[i], storage);
    std::string cell;
    if (shared) {
      absl::StrAppend(&items, "<si>", body, "</si>");
      cell = absl::StrCat("<c r=\"I", row, "\" t=\"s\"><v>", next_index++, "</v></c>");
    } else {
      cell = absl::StrCat("<c r=\"I", row, "\" t=\"inlineStr\"><is>", body, "</is></c>");
    }
    absl::StrAppend(&rows, "<row r=\"", row, "\"><c r=\"A", row, "\" t=\"inlineStr\"><is><t>",
                    CaseNumber(static_cast<int>(i) + 1), "</t></is></c>", cell, "</row>");
  }
  return WithReportSheet(rendered, xlsx::testing::SheetXml(absl::StrCat(HeaderRowXml(), rows)),
                         items);
}

// The matrix: every offender at every position, then DESIGN.md's hyphen inside a word.
struct Cell {
  Remarks remarks;
  std::string value;   // as typed (what ReportChange would be given)
  std::string reason;  // FORBIDDEN_CHARACTER / CONTROL_CHARACTER
};

std::vector<Cell> MatrixCells() {
  std::vector<Cell> cells;
  for (const Offender& o : Offenders()) {
    for (const Position& p : Positions()) {
      Cell c;
      c.remarks.label = absl::StrCat(o.name, " ", p.name);
      // Split over runs so that the offender starts a run that is not the first (or, with
      // nothing before it, ends the first): the joined value is what a rule must see.
      if (p.lead.empty()) {
        c.remarks.runs = {o.xml, p.tail};
      } else {
        c.remarks.runs = {p.lead, absl::StrCat(o.xml, p.tail)};
      }
      c.value = absl::StrCat(p.lead, o.value, p.tail);
      c.reason = o.reason;
      cells.push_back(std::move(c));
    }
  }
  cells.push_back({{"hyphen inside a word", {"2", "-3日後に再訪問"}},
                   "2-3日後に再訪問",
                   "FORBIDDEN_CHARACTER"});
  cells.push_back(
      {{"=HYPERLINK typed as text", {"=HYPERLINK(\"http://example.com\",", "\"詳細\")"}},
       "=HYPERLINK(\"http://example.com\",\"詳細\")",
       "FORBIDDEN_CHARACTER"});
  return cells;
}

// Benign remarks: accepted, and read back as `value` (spaces at the ends trimmed).
struct Benign {
  Remarks remarks;
  std::string value;
};

std::vector<Benign> BenignCells() {
  return {
      {{"plain", {"来月着工予定です。"}}, "来月着工予定です。"},
      {{"wave dash and fullwidth digits", {"お客様都合で延期（２〜３日後に再連絡）"}},
       "お客様都合で延期（２〜３日後に再連絡）"},
      {{"wave dash between digits", {"2〜3日後に", "再訪問"}}, "2〜3日後に再訪問"},
      {{"long-vowel marks", {"メーカー対応待ち・部材入荷は", "11月末"}},
       "メーカー対応待ち・部材入荷は11月末"},
      {{"halfwidth long-vowel mark", {"ﾒｰｶｰ確認中"}}, "ﾒｰｶｰ確認中"},
      {{"horizontal bar", {"工事中―来月完了見込み"}}, "工事中―来月完了見込み"},
      {{"brackets, percent, colon", {"（株）山田工務店様より連絡：進捗", "５０％"}},
       "（株）山田工務店様より連絡：進捗５０％"},
      {{"spaces to trim", {"  　来月着工", "　  "}}, "来月着工"},
      {{"emoji", {"完了報告済み", "😀"}}, "完了報告済み😀"},
      {{"escaped underscore", {"型番_x005F_A1"}}, "型番_A1"},
      {{"furigana holding ＝ and ＋", {"山田様に", "確認済み"}, "＝ヤマダ＋"}, "山田様に確認済み"},
  };
}

std::string Shown(const std::string& s) {
  return absl::StrReplaceAll(
      s, {{std::string(1, '\0'), "\\0"}, {"\t", "\\t"}, {"\r", "\\r"}, {"\n", "\\n"}});
}

// One error, exactly as the partner must see it, for each matrix row.
bool RowRefusedAsExpected(const std::vector<LineError>& errors, size_t i, const Cell& cell,
                          std::string* why) {
  const int row = kFirstDataRow + static_cast<int>(i);
  const std::string number = CaseNumber(static_cast<int>(i) + 1);
  std::vector<const LineError*> mine;
  for (const LineError& e : errors) {
    if (e.row == row) mine.push_back(&e);
  }
  if (mine.size() != 1) {
    *why = absl::StrCat("row ", row, " (", cell.remarks.label, "): ", mine.size(), " errors");
    return false;
  }
  const LineError& e = *mine[0];
  const std::string text =
      absl::StrCat("案件番号:", number, "|報告備考欄に不正な入力「=」「+」「-」があります。");
  if (e.kind != ErrorKind::kInvalidRemarks || ErrorCode(e.kind) != "INVALID_REMARKS" ||
      e.case_number != number || e.field != "remarks" || e.reason != cell.reason ||
      ErrorMessage(e) != text) {
    *why = absl::StrCat("row ", row, " (", cell.remarks.label, "): ", ErrorCode(e.kind), " ",
                        e.case_number, " ", e.field, " ", e.reason, " \"", ErrorMessage(e), "\"");
    return false;
  }
  return true;
}

const Storage kStorages[] = {Storage::kShared, Storage::kInline, Storage::kRichShared,
                             Storage::kRichInline};

TEST(FormulaMatrix, EveryOffendingRemarksCellIsRefusedWithItsRowAndCode) {
  const std::vector<Cell> cells = MatrixCells();
  const std::vector<report::ReportLine> lines = UploadLines(static_cast<int>(cells.size()));
  const std::string rendered = RenderUploadFile(lines);
  int refused = 0;
  int tried = 0;
  bool held_all = true;

  for (Storage storage : kStorages) {
    std::vector<Remarks> remarks;
    for (const Cell& c : cells) remarks.push_back(c.remarks);
    const UploadOutcome outcome = Upload(MatrixFile(rendered, remarks, storage), lines);
    ASSERT_FALSE(outcome.failure) << outcome.detail;
    int refused_here = 0;
    for (size_t i = 0; i < cells.size(); ++i) {
      std::string why;
      const bool ok = RowRefusedAsExpected(outcome.plan.errors, i, cells[i], &why);
      EXPECT_TRUE(ok) << StorageName(storage) << ": " << why;
      refused_here += ok;
    }
    tried += static_cast<int>(cells.size());
    refused += refused_here;
    const bool held =
        Check(kScenario,
              absl::StrCat(StorageName(storage), ": ", refused_here, "/", cells.size(),
                           " remarks cells refused with row and "
                           "INVALID_REMARKS, none accepted"),
              refused_here == static_cast<int>(cells.size()) &&
                  outcome.plan.errors.size() == cells.size() && outcome.plan.answers.empty());
    EXPECT_TRUE(held);
    EXPECT_EQ(outcome.plan.errors.size(), cells.size());
    EXPECT_TRUE(outcome.plan.answers.empty());  // all or nothing
    held_all = held_all && held;
  }

  // The same texts answered on the web (ReportChange runs ValidateChange on them as typed).
  int refused_direct = 0;
  for (const Cell& c : cells) {
    report::Change change;
    change.outcome = report::Outcome::kInProgress;
    change.remarks = c.value;
    const std::vector<LineError> errors =
        report::ValidateChange(lines[0].snapshot, change, kUploadToday);
    const bool ok = errors.size() == 1 && errors[0].kind == ErrorKind::kInvalidRemarks &&
                    errors[0].reason == c.reason;
    EXPECT_TRUE(ok) << c.remarks.label << ": \"" << Shown(c.value) << "\"";
    refused_direct += ok;
  }
  const bool direct_held = Check(kScenario,
                                 absl::StrCat("ValidateChange: ", refused_direct, "/", cells.size(),
                                              " remarks texts refused as INVALID_REMARKS"),
                                 refused_direct == static_cast<int>(cells.size()));
  held_all = held_all && direct_held;
  tried += static_cast<int>(cells.size());
  refused += refused_direct;

  // Benign text: accepted, every row a change whose remarks read back exactly.
  const std::vector<Benign> benign = BenignCells();
  int accepted = 0;
  for (Storage storage : kStorages) {
    std::vector<Remarks> remarks;
    std::vector<std::string> expected;
    for (const Benign& b : benign) {
      remarks.push_back(b.remarks);
      expected.push_back(b.value);
    }
    const std::string bytes = MatrixFile(rendered, remarks, storage);
    const UploadOutcome outcome = Upload(bytes, lines);
    ASSERT_FALSE(outcome.failure) << outcome.detail;
    EXPECT_TRUE(outcome.plan.errors.empty())
        << StorageName(storage) << ": " << ErrorMessage(outcome.plan.errors[0]) << " row "
        << outcome.plan.errors[0].row << " " << outcome.plan.errors[0].reason;
    int accepted_here = 0;
    for (size_t i = 0; i < expected.size() && i < outcome.plan.answers.size(); ++i) {
      const report::RowAnswer& a = outcome.plan.answers[i];
      const bool ok = a.row == kFirstDataRow + static_cast<int>(i) &&
                      a.answer == report::Answer::kChanged && a.change.remarks == expected[i];
      EXPECT_TRUE(ok) << StorageName(storage) << " row " << a.row << ": \""
                      << Shown(a.change.remarks) << "\" wanted \"" << expected[i] << "\"";
      accepted_here += ok;
    }
    const bool held =
        Check(kScenario,
              absl::StrCat(StorageName(storage), ": ", accepted_here, "/", expected.size(),
                           " benign remarks accepted as written"),
              outcome.plan.errors.empty() && accepted_here == static_cast<int>(expected.size()) &&
                  outcome.plan.answers.size() == expected.size());
    EXPECT_TRUE(held);
    held_all = held_all && held;
    accepted += accepted_here;
  }

  RecordScenario(
      kScenario, held_all && refused == tried,
      absl::StrCat(refused, "/", tried, " cells refused (", Offenders().size(), " characters x ",
                   Positions().size(), " positions + 2, as ", std::size(kStorages),
                   " storages in .xlsx and as typed), ", accepted, " benign cells accepted"));
}

}  // namespace
}  // namespace anken::reliability
