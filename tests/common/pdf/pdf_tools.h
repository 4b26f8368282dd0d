#pragma once
// Reading a PDF back in tests with poppler-utils (Debian package poppler-utils): text with
// `pdftotext -layout`, the page count with `pdfinfo`, fonts with `pdffonts`. Shared by the
// renderer's tests and the billing and project services' PDF tests.

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace anken::pdf::testing {

// The standard output of `command`; fails the test when it exits non-zero.
inline std::string Run(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) {
    ADD_FAILURE() << "cannot run " << command;
    return out;
  }
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  EXPECT_EQ(status, 0) << command << " failed";
  return out;
}

// Writes `bytes` to a fresh file under the test temp folder and returns its path.
inline std::string WriteTemp(const std::string& bytes, const std::string& name) {
  static int counter = 0;
  const std::string path =
      absl::StrCat(::testing::TempDir(), "anken_pdf_", getpid(), "_", ++counter, "_", name);
  std::ofstream f(path, std::ios::binary);
  f << bytes;
  EXPECT_TRUE(f.good()) << path;
  return path;
}

// The document's text as `pdftotext -layout` reads it, one entry per page.
inline std::vector<std::string> PagesText(const std::string& pdf) {
  const std::string path = WriteTemp(pdf, "text.pdf");
  std::string text = Run(absl::StrCat("pdftotext -enc UTF-8 -layout '", path, "' -"));
  std::remove(path.c_str());
  std::vector<std::string> pages = absl::StrSplit(text, '\f');
  if (!pages.empty() && absl::StripAsciiWhitespace(pages.back()).empty()) pages.pop_back();
  return pages;
}

// `s` without any white space (ASCII or U+3000), so that column gaps and the spacing
// pdftotext chooses do not matter: "1 式   ¥1,250" and "1式 ¥1,250" both become "1式¥1,250".
inline std::string Squeeze(absl::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (absl::ascii_isspace(static_cast<unsigned char>(s[i]))) continue;
    if (s.substr(i, 3) == "\u3000") {
      i += 2;
      continue;
    }
    out += s[i];
  }
  return out;
}

// The squeezed text lines of a page (empty lines dropped).
inline std::vector<std::string> SqueezedLines(const std::string& page) {
  std::vector<std::string> out;
  for (absl::string_view line : absl::StrSplit(page, '\n')) {
    std::string s = Squeeze(line);
    if (!s.empty()) out.push_back(std::move(s));
  }
  return out;
}

// How many squeezed lines of `page` contain `needle` (itself squeezed).
inline int CountLines(const std::string& page, const std::string& needle) {
  const std::string n = Squeeze(needle);
  int count = 0;
  for (const std::string& line : SqueezedLines(page)) count += absl::StrContains(line, n) ? 1 : 0;
  return count;
}

// A field of `pdfinfo`, e.g. "Pages" or "CreationDate".
inline std::string PdfInfo(const std::string& pdf, const std::string& field) {
  const std::string path = WriteTemp(pdf, "info.pdf");
  const std::string info = Run(absl::StrCat("pdfinfo -isodates '", path, "'"));
  std::remove(path.c_str());
  for (absl::string_view line : absl::StrSplit(info, '\n')) {
    if (absl::ConsumePrefix(&line, field + ":")) {
      return std::string(absl::StripAsciiWhitespace(line));
    }
  }
  ADD_FAILURE() << "pdfinfo has no " << field << " in\n" << info;
  return "";
}

inline int PageCount(const std::string& pdf) {
  int pages = 0;
  EXPECT_TRUE(absl::SimpleAtoi(PdfInfo(pdf, "Pages"), &pages));
  return pages;
}

struct FontRow {
  std::string name;
  std::string type;
  bool embedded = false;
};

// The fonts `pdffonts` lists.
inline std::vector<FontRow> Fonts(const std::string& pdf) {
  const std::string path = WriteTemp(pdf, "fonts.pdf");
  const std::string listing = Run(absl::StrCat("pdffonts '", path, "'"));
  std::remove(path.c_str());
  std::vector<FontRow> out;
  std::vector<std::string> lines = absl::StrSplit(listing, '\n', absl::SkipEmpty());
  // Two header lines ("name type ..." and "-----"), then one row per font: name, type (which
  // may have a space, e.g. "CID TrueType"), encoding, emb, sub, uni, object, ID.
  for (size_t i = 2; i < lines.size(); ++i) {
    std::vector<std::string> w = absl::StrSplit(lines[i], ' ', absl::SkipEmpty());
    if (w.size() < 7) continue;
    FontRow row;
    row.name = w[0];
    row.embedded = w[w.size() - 5] == "yes";
    row.type = absl::StrJoin(std::vector<std::string>(w.begin() + 1, w.end() - 6), " ");
    out.push_back(row);
  }
  return out;
}

}  // namespace anken::pdf::testing
