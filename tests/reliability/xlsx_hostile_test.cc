// Reliability: hostile .xlsx uploads (issue #11, "Bad input"). Each file goes through the
// upload path the report service runs (ReadReportXlsx, then PlanUpload) against a real
// rendered template, and must be refused:
// - zip bombs (an honest 100 MiB entry, an honest ratio over 100, a directory that lies about
//   the size), more than 1,000 entries, zip-slip entry names, XXE naming a file and naming a
//   loopback URL (a listener on 127.0.0.1 must see no connection), billion laughs, the
//   quadratic blowup, 1M shared strings, out-of-range shared-string indexes, a 1 MB cell,
//   truncated and random bytes, 20 MB + 1, real formula cells outside the remarks column →
//   the whole file, with DESIGN.md's upload-failed text word for word (UPLOAD_FAILED; the
//   reason and the reader's detail say which guard acted): a formula's cached value is what
//   the saving program wrote, not what the partner saw, and the rendered file holds none;
// - real formula cells in the remarks column → that row, INVALID_REMARKS (reason FORMULA): the
//   partner typed = + or - first, and DESIGN.md's remarks error tells them how to fix the row.
// The work is bounded by the reader's counters (ReadStats against ReadLimits: bytes inflated,
// text buffered, shared strings, markup, depth), not by the clock; no refusal may crash.

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "services/report/report_rules.h"
#include "tests/common/xlsx/xlsx_test_util.h"
#include "tests/reliability/loopback.h"
#include "tests/reliability/reliability_support.h"
#include "tests/reliability/xlsx_upload_support.h"

namespace anken::reliability {
namespace {

using report::ErrorKind;
using report::ErrorMessage;
using xlsx::ReadLimits;
using xlsx::ReadStats;
using xlsx::testing::BuildZip;
using xlsx::testing::PatchDeclaredSize;
using xlsx::testing::PseudoRandomBytes;
using xlsx::testing::ZipEntries;
using xlsx::testing::ZipEntry;

constexpr char kScenario[] = "hostile .xlsx";
constexpr int64_t kMiB = 1 << 20;

// The rendered template of three lines, once per test binary (rendering writes files).
const std::vector<report::ReportLine>& Lines() {
  static const std::vector<report::ReportLine> lines = UploadLines(3);
  return lines;
}
const std::string& Rendered() {
  static const std::string rendered = RenderUploadFile(Lines());
  return rendered;
}

// A sheet whose XML starts with `prolog` (a DOCTYPE, say) and holds the header and `rows`.
std::string Sheet(const std::string& rows, const std::string& prolog = "") {
  return absl::StrCat("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", prolog, "<worksheet xmlns=\"",
                      xlsx::testing::kMainNs, "\"><sheetData>", HeaderRowXml(), rows,
                      "</sheetData></worksheet>");
}

std::string RemarksRow(const std::string& remarks_cell, int row = 8) {
  return absl::StrCat("<row r=\"", row, "\"><c r=\"A", row, "\" t=\"inlineStr\"><is><t>",
                      CaseNumber(1), "</t></is></c>", remarks_cell, "</row>");
}

// The bounds every read stays inside, whatever the file (the default caps; the upload only
// raises the file size and the row count).
bool WithinCaps(const ReadStats& s, std::string* why) {
  const ReadLimits caps;
  const struct {
    const char* what;
    int64_t value;
    int64_t bound;
  } checks[] = {
      {"inflated bytes", s.inflated_bytes, caps.max_total_bytes + 1},
      {"largest entry", s.largest_inflated_entry, caps.max_entry_bytes + 1},
      {"longest text", s.longest_text, caps.max_text_bytes},
      {"shared strings", s.shared_strings, caps.max_shared_strings},
      {"shared string bytes", s.shared_string_bytes,
       caps.max_shared_string_bytes + caps.max_text_bytes},
      {"cell text bytes", s.cell_text_bytes, caps.max_cell_text_bytes + caps.max_text_bytes},
      {"markup gap", s.longest_markup_gap, caps.max_markup_gap_bytes + (64 << 10)},
      {"xml depth", s.deepest_xml, caps.max_xml_depth + 1},
  };
  for (const auto& c : checks) {
    if (c.value > c.bound) {
      *why = absl::StrCat(c.what, " ", c.value, " > ", c.bound);
      return false;
    }
  }
  return true;
}

struct HostileFile {
  std::string name;
  std::function<std::string()> bytes;
  std::string reason;  // UNREADABLE_FILE / FILE_TOO_LARGE
  std::string detail;  // a piece of the reader's refusal: which guard acted
  // Case-specific bounds on the work done (empty: only the common caps).
  std::function<bool(const ReadStats&, std::string*)> bounded = nullptr;
};

// Adds `extra` entries to the rendered template.
std::string WithEntries(const std::vector<ZipEntry>& extra) {
  std::vector<ZipEntry> entries = ZipEntries(Rendered());
  entries.insert(entries.end(), extra.begin(), extra.end());
  return BuildZip(entries);
}

std::string SheetPart() { return ReportSheetPart(Rendered()); }

// A 20 MiB (or so) sheet of empty elements after the header: deflates ~1000:1.
std::string Filler(int64_t bytes) { return xlsx::testing::FillerSheet(bytes, HeaderRowXml()); }

// Text that deflates only about 2:1, so that no ratio cap refuses it before a text cap can.
std::string Letters(int64_t bytes) {
  return PseudoRandomBytes(static_cast<size_t>(bytes), 5, "abcdefghijklmnopqrstuvwxyz");
}

std::function<bool(const ReadStats&, std::string*)> NothingInflated() {
  return [](const ReadStats& s, std::string* why) {
    *why = absl::StrCat(s.inflated_bytes, " bytes inflated");
    return s.inflated_bytes == 0;
  };
}

// A listener on loopback that never accepts: any connection attempt made while a file is
// read stays queued, so one non-blocking accept afterwards sees it.
class LoopbackListener {
 public:
  LoopbackListener() {
    absl::StatusOr<LoopbackSocket> listening = ListenOnLoopback(16, "loopback listener");
    if (!listening.ok() || ::fcntl(listening->fd, F_SETFL, O_NONBLOCK) != 0) {
      ADD_FAILURE() << (listening.ok() ? absl::StrCat("O_NONBLOCK: errno ", errno)
                                       : std::string(listening.status().message()));
      if (listening.ok()) ::close(listening->fd);
      return;
    }
    fd_ = listening->fd;
    port_ = listening->port;
  }
  ~LoopbackListener() {
    if (fd_ >= 0) ::close(fd_);
  }
  int port() const { return port_; }
  std::string Url(absl::string_view path) const {
    return absl::StrCat("http://127.0.0.1:", port_, "/", path);
  }
  // Connections made so far (accepted and closed here).
  int Connections() {
    int n = 0;
    for (int c; (c = ::accept(fd_, nullptr, nullptr)) >= 0; ++n) ::close(c);
    return n;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

std::vector<HostileFile> HostileFiles(const LoopbackListener& listener) {
  const ReadLimits caps;
  std::vector<HostileFile> files;

  // ---- zip bombs ----
  files.push_back(
      {"zip bomb: an entry declaring 100 MiB (absolute size)",
       [] { return xlsx::testing::ReplaceEntry(Rendered(), SheetPart(), Filler(100 * kMiB)); },
       "UNREADABLE_FILE", "uncompressed bytes; the cap is 33554432", NothingInflated()});
  files.push_back(
      {"zip bomb: 20 MiB declared at a ratio over 100",
       [] { return xlsx::testing::ReplaceEntry(Rendered(), SheetPart(), Filler(20 * kMiB)); },
       "UNREADABLE_FILE", "declares an inflate ratio over 100", NothingInflated()});
  files.push_back(
      {"zip bomb: 64 MiB behind a directory that declares 1,000 bytes",
       [] {
         std::string bomb = xlsx::testing::ReplaceEntry(Rendered(), SheetPart(), Filler(64 * kMiB));
         PatchDeclaredSize(bomb, SheetPart(), 1000);
         return bomb;
       },
       "UNREADABLE_FILE", "inflates past an inflate ratio of 100",
       [](const ReadStats& s, std::string* why) {
         // Stopped at ratio x compressed size, far below what the entry holds.
         *why = absl::StrCat("largest entry inflated ", s.largest_inflated_entry);
         return s.largest_inflated_entry <= 100 * kMiB / 10 && s.inflated_bytes < 64 * kMiB / 4;
       }});
  files.push_back({"1,001 zip entries",
                   [] {
                     std::vector<ZipEntry> pad;
                     const int have = static_cast<int>(ZipEntries(Rendered()).size());
                     for (int i = have; i <= 1000; ++i) {
                       pad.push_back({absl::StrCat("xl/pad/", i, ".xml"), "x"});
                     }
                     return WithEntries(pad);
                   },
                   "UNREADABLE_FILE", "entries; the cap is 1000", NothingInflated()});

  // ---- zip-slip names ----
  for (const auto& [name, why] : std::vector<std::pair<std::string, std::string>>{
           {"../../etc/cron.d/anken", "\"..\" segment"},
           {"xl/../../../tmp/evil.xml", "\"..\" segment"},
           {"/etc/passwd", "absolute path"},
           {"..\\..\\Windows\\evil.xml", "backslash"},
           {"C:/Windows/evil.xml", "colon"},
           {"xl/worksheets/\tsheet1.xml", "control character"}}) {
    files.push_back({absl::StrCat("zip-slip name ", absl::CEscape(name)),
                     [name = name] {
                       return WithEntries({{name, "x"}});
                     },
                     "UNREADABLE_FILE", why, NothingInflated()});
  }

  // ---- XML: DTDs and entities ----
  const auto no_cells = [](const ReadStats& s, std::string* why) {
    *why = absl::StrCat(s.cells, " cells, longest text ", s.longest_text);
    return s.longest_text < 1000;
  };
  files.push_back({"XXE naming a file",
                   [] {
                     return WithReportSheet(
                         Rendered(),
                         Sheet(RemarksRow("<c r=\"I8\" t=\"inlineStr\"><is><t>&x;</t></is></c>"),
                               "<!DOCTYPE worksheet [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"));
                   },
                   "UNREADABLE_FILE", "has a DOCTYPE", no_cells});
  const std::string entity_url = listener.Url("entity");
  files.push_back(
      {"XXE naming a loopback URL (general entity)",
       [entity_url] {
         return WithReportSheet(
             Rendered(),
             Sheet(RemarksRow("<c r=\"I8\" t=\"inlineStr\"><is><t>&x;</t></is></c>"),
                   absl::StrCat("<!DOCTYPE worksheet [<!ENTITY x SYSTEM \"", entity_url, "\">]>")));
       },
       "UNREADABLE_FILE", "has a DOCTYPE", no_cells});
  const std::string param_url = listener.Url("param");
  files.push_back(
      {"XXE naming a loopback URL (parameter entity, in the shared strings)",
       [param_url] {
         std::string sst = xlsx::testing::UnzipEntry(Rendered(), kSharedStringsPart);
         sst.insert(sst.find("<sst"),
                    absl::StrCat("<!DOCTYPE sst [<!ENTITY % p SYSTEM \"", param_url, "\"> %p;]>"));
         return xlsx::testing::ReplaceEntry(Rendered(), kSharedStringsPart, sst);
       },
       "UNREADABLE_FILE", "has a DOCTYPE", no_cells});
  const std::string dtd_url = listener.Url("external.dtd");
  files.push_back({"XXE naming a loopback URL (external DTD)",
                   [dtd_url] {
                     return WithReportSheet(
                         Rendered(),
                         Sheet("", absl::StrCat("<!DOCTYPE worksheet SYSTEM \"", dtd_url, "\">")));
                   },
                   "UNREADABLE_FILE", "has a DOCTYPE", no_cells});
  const std::string rel_url = listener.Url("sheet1.xml");
  files.push_back({"the table sheet as an external relationship to a loopback URL",
                   [rel_url] {
                     const std::string rels_part = "xl/_rels/workbook.xml.rels";
                     std::string rels = xlsx::testing::UnzipEntry(Rendered(), rels_part);
                     const std::string part = SheetPart();
                     const std::string target = part.substr(part.find('/') + 1);  // worksheets/..
                     const size_t at = rels.find(absl::StrCat("Target=\"", target, "\""));
                     if (at == std::string::npos) return std::string("not found");
                     rels.replace(at, target.size() + 9,
                                  absl::StrCat("Target=\"", rel_url, "\" TargetMode=\"External\""));
                     return xlsx::testing::ReplaceEntry(Rendered(), rels_part, rels);
                   },
                   "UNREADABLE_FILE", "has no relationship", nullptr});
  files.push_back({"billion laughs (sheet)",
                   [] {
                     return WithReportSheet(
                         Rendered(),
                         Sheet(RemarksRow("<c r=\"I8\" t=\"inlineStr\"><is><t>&l9;</t></is></c>"),
                               xlsx::testing::BillionLaughsDoctype("worksheet")));
                   },
                   "UNREADABLE_FILE", "has a DOCTYPE", no_cells});
  files.push_back({"billion laughs (shared strings)",
                   [] {
                     std::string sst = xlsx::testing::UnzipEntry(Rendered(), kSharedStringsPart);
                     sst.insert(sst.find("<sst"), xlsx::testing::BillionLaughsDoctype("sst"));
                     sst.insert(sst.rfind("</sst>"), "<si><t>&l9;</t></si>");
                     return xlsx::testing::ReplaceEntry(Rendered(), kSharedStringsPart, sst);
                   },
                   "UNREADABLE_FILE", "has a DOCTYPE", no_cells});
  files.push_back({"quadratic blowup (a 100 KB entity referenced 10,000 times)",
                   [] {
                     return WithReportSheet(
                         Rendered(),
                         Sheet(RemarksRow(absl::StrCat("<c r=\"I8\" t=\"inlineStr\"><is><t>",
                                                       xlsx::testing::QuadraticBlowupRefs(10000),
                                                       "</t></is></c>")),
                               xlsx::testing::QuadraticBlowupDoctype("worksheet", 100000)));
                   },
                   "UNREADABLE_FILE", "has a DOCTYPE", no_cells});

  // ---- shared strings ----
  files.push_back({"1,000,000 shared strings",
                   [] {
                     std::string items;
                     items.reserve(26 * 1000000);
                     for (int i = 0; i < 1000000; ++i)
                       absl::StrAppend(&items, "<si><t>s", i, "</t></si>");
                     return WithReportSheet(Rendered(), Sheet(""), items);
                   },
                   "UNREADABLE_FILE", "more than 200000 shared strings",
                   [caps](const ReadStats& s, std::string* why) {
                     // Stopped at the cap: the rest was never buffered.
                     *why = absl::StrCat(s.shared_strings, " shared strings kept");
                     return s.shared_strings == caps.max_shared_strings;
                   }});
  for (const std::string& index :
       {std::string("COUNT"), std::string("2147483648"), std::string("-1"),
        std::string("99999999999999999999999"), std::string("x")}) {
    files.push_back({absl::StrCat("shared-string index ", index, " out of range"),
                     [index] {
                       const std::string v =
                           index == "COUNT" ? absl::StrCat(SharedStringCount(Rendered())) : index;
                       return WithReportSheet(
                           Rendered(), Sheet(RemarksRow(absl::StrCat("<c r=\"I8\" t=\"s\"><v>", v,
                                                                     "</v></c>"))));
                     },
                     "UNREADABLE_FILE", "points at a missing shared string", nullptr});
  }

  // ---- big cells ----
  const auto text_capped = [caps](const ReadStats& s, std::string* why) {
    *why = absl::StrCat("longest text buffered ", s.longest_text);
    return s.longest_text <= caps.max_text_bytes;
  };
  files.push_back({"a 1 MB remarks cell (inline string)",
                   [] {
                     return WithReportSheet(
                         Rendered(),
                         Sheet(RemarksRow(absl::StrCat("<c r=\"I8\" t=\"inlineStr\"><is><t>",
                                                       Letters(kMiB), "</t></is></c>"))));
                   },
                   "UNREADABLE_FILE", "is longer than 131072 bytes", text_capped});
  files.push_back({"a 1 MB remarks cell (shared string)",
                   [] {
                     return WithReportSheet(
                         Rendered(),
                         Sheet(RemarksRow(absl::StrCat("<c r=\"I8\" t=\"s\"><v>",
                                                       SharedStringCount(Rendered()), "</v></c>"))),
                         absl::StrCat("<si><t>", Letters(kMiB), "</t></si>"));
                   },
                   "UNREADABLE_FILE", "is longer than 131072 bytes", text_capped});

  // ---- broken and random bytes ----
  const std::string& whole = Rendered();
  for (size_t keep : {whole.size() - 1, whole.size() - 22, whole.size() - 100, whole.size() / 2,
                      whole.size() / 3, size_t{1000}, size_t{30}, size_t{4}, size_t{0}}) {
    files.push_back({absl::StrCat("truncated to ", keep, " of ", whole.size(), " bytes"),
                     [keep] { return Rendered().substr(0, keep); }, "UNREADABLE_FILE",
                     "xlsx refused", nullptr});
  }
  for (uint32_t seed : {1u, 2u, 3u}) {
    for (size_t size : {size_t{1}, size_t{512}, size_t{65536}, size_t{3 * kMiB}}) {
      files.push_back({absl::StrCat("random bytes (", size, ", seed ", seed, ")"),
                       [seed, size] { return PseudoRandomBytes(size, seed); }, "UNREADABLE_FILE",
                       "xlsx refused", nullptr});
    }
    files.push_back(
        {absl::StrCat("random bytes after a zip signature (seed ", seed, ")"),
         [seed] { return std::string("PK\x03\x04", 4) + PseudoRandomBytes(8192, seed); },
         "UNREADABLE_FILE", "xlsx refused", nullptr});
  }
  // ---- real formula cells outside the remarks column ----
  const struct {
    const char* name;
    const char* cell;
    const char* where;
  } formulas[] = {
      {"a formula in the status column", "<c r=\"E8\" t=\"str\"><f>\"施工\"&amp;\"完了\"</f>"
       "<v>施工完了</v></c>", "E8"},
      {"a formula in the completion date", "<c r=\"F8\"><f>TODAY()</f><v>46315</v></c>", "F8"},
      {"a formula in the amount, cached value stale", "<c r=\"G8\"><f>1000*1.1</f><v>999999</v>"
       "</c>", "G8"},
      {"a formula in the amount, no cached value", "<c r=\"G8\"><f>SUM(J1:J9)</f></c>", "G8"},
      {"a DDE formula in the lost date", "<c r=\"H8\"><f>cmd|' /C calc'!A0</f></c>", "H8"},
      {"a WEBSERVICE formula beside the table",
       "<c r=\"K8\" t=\"e\"><f>WEBSERVICE(\"http://127.0.0.1/\")</f><v>#VALUE!</v></c>", "K8"},
  };
  for (const auto& f : formulas) {
    const std::string cell = f.cell;
    files.push_back({f.name,
                     [cell] { return WithReportSheet(Rendered(), Sheet(RemarksRow(cell))); },
                     "FORMULA_CELL", absl::StrCat("cell ", f.where, " of "), nullptr});
  }
  files.push_back({"20 MB + 1 byte",
                   [] { return PseudoRandomBytes(report::kMaxUploadBytes + 1, 9); },
                   "FILE_TOO_LARGE", "the cap is 20971520", NothingInflated()});
  return files;
}

TEST(HostileXlsx, EveryFileIsRefusedWithTheUploadFailedTextWithinTheCaps) {
  LoopbackListener listener;
  ASSERT_GT(listener.port(), 0);
  int refused = 0;
  int64_t most_inflated = 0;
  const std::vector<HostileFile> files = HostileFiles(listener);
  for (const HostileFile& file : files) {
    SCOPED_TRACE(file.name);
    const std::string bytes = file.bytes();
    const UploadOutcome outcome = Upload(bytes, Lines());
    std::string why;
    bool held = outcome.failure.has_value();
    if (!held) {
      why = absl::StrCat("accepted (", outcome.plan.errors.size(), " row errors)");
    } else if (outcome.failure->kind != ErrorKind::kUploadFailed ||
               ErrorMessage(*outcome.failure) != kUploadFailedText) {
      why = absl::StrCat("refused as \"", ErrorMessage(*outcome.failure), "\"");
      held = false;
    } else if (outcome.failure->reason != file.reason ||
               !absl::StrContains(outcome.detail, file.detail)) {
      why = absl::StrCat("reason ", outcome.failure->reason, ": ", outcome.detail);
      held = false;
    } else if (!WithinCaps(outcome.stats, &why)) {
      held = false;
    } else if (file.bounded && !file.bounded(outcome.stats, &why)) {
      held = false;
    }
    EXPECT_TRUE(held) << why << " (detail: " << outcome.detail << ")";
    Check(kScenario,
          absl::StrCat(file.name, ": ", held ? "refused (" : "NOT refused as expected (",
                       held ? outcome.failure->reason : why, ")"),
          held);
    refused += held;
    most_inflated = std::max(most_inflated, outcome.stats.inflated_bytes);
  }
  const int connections = listener.Connections();
  const bool quiet =
      Check(kScenario, absl::StrCat("the loopback listener saw ", connections, " connections"),
            connections == 0);
  EXPECT_EQ(connections, 0);

  // Real formula cells in the remarks column: the row is refused (INVALID_REMARKS, FORMULA),
  // whatever the cached value says; nothing is accepted.
  const std::vector<std::string> formulas = {
      "<c r=\"I8\"><f>1+2</f><v>3</v></c>",
      "<c r=\"I8\" t=\"str\"><f>HYPERLINK(\"http://127.0.0.1/\",\"詳細\")</f><v>詳細</v></c>",
      "<c r=\"I8\" t=\"str\"><f>\"連絡\"&amp;\"なし\"</f><v>連絡なし</v></c>",
      "<c r=\"I8\"><f>cmd|' /C calc'!A0</f></c>",  // DDE, no cached value
      "<c r=\"I8\" t=\"e\"><f>WEBSERVICE(\"http://127.0.0.1/\")</f><v>#VALUE!</v></c>",
  };
  int formulas_refused = 0;
  for (const std::string& cell : formulas) {
    SCOPED_TRACE(cell);
    const UploadOutcome outcome =
        Upload(WithReportSheet(Rendered(), Sheet(RemarksRow(cell))), Lines());
    ASSERT_FALSE(outcome.failure) << outcome.detail;
    const bool held = outcome.plan.errors.size() == 1 && outcome.plan.answers.empty() &&
                      outcome.plan.errors[0].kind == ErrorKind::kInvalidRemarks &&
                      outcome.plan.errors[0].reason == "FORMULA" &&
                      outcome.plan.errors[0].row == 8 &&
                      ErrorMessage(outcome.plan.errors[0]) ==
                          absl::StrCat("案件番号:", CaseNumber(1),
                                       "|報告備考欄に不正な入力「=」「+」「-」があります。");
    EXPECT_TRUE(held);
    formulas_refused += held;
  }
  const bool formulas_held =
      Check(kScenario,
            absl::StrCat("real formula cells in the remarks: ", formulas_refused, "/",
                         formulas.size(), " rows refused as INVALID_REMARKS (FORMULA)"),
            formulas_refused == static_cast<int>(formulas.size()));

  RecordScenario(
      kScenario, refused == static_cast<int>(files.size()) && quiet && formulas_held,
      absl::StrCat(refused, "/", files.size(),
                   " files refused with the upload-failed "
                   "text, ",
                   formulas_refused, "/", formulas.size(), " formula rows refused, at most ",
                   most_inflated / 1024, " KiB inflated, ", connections, " loopback connections"));
}

}  // namespace
}  // namespace anken::reliability
