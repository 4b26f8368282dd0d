#pragma once
// Test helpers for the .xlsx tests (tests/common/xlsx, the report's, tests/reliability and the
// fuzz targets): zips built and rebuilt in memory with libzip (so hostile archives are crafted
// in the test itself), the hostile generators (filler for zip bombs, entity bombs, noise), a
// minimal valid .xlsx around a given sheet, and the committed fixtures under testdata/.

#include <zip.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace anken::xlsx::testing {

struct ZipEntry {
  std::string name;
  std::string data;
  zip_int32_t method = ZIP_CM_DEFLATE;
  const char* password = nullptr;  // traditional PKWARE encryption when set
  zip_uint32_t level = 0;          // deflate level 1-9; 0 for libzip's default
};

// An archive holding `entries`, in order. Throws on a libzip failure (tests only).
inline std::string BuildZip(const std::vector<ZipEntry>& entries) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* buffer = zip_source_buffer_create(nullptr, 0, 0, &error);
  zip_t* archive = zip_open_from_source(buffer, ZIP_TRUNCATE, &error);
  if (archive == nullptr) throw std::runtime_error("zip_open_from_source");
  zip_source_keep(buffer);
  for (const ZipEntry& entry : entries) {
    zip_source_t* data = zip_source_buffer(archive, entry.data.data(), entry.data.size(), 0);
    const zip_int64_t index = zip_file_add(archive, entry.name.c_str(), data, ZIP_FL_ENC_UTF_8);
    if (index < 0) throw std::runtime_error(absl::StrCat("zip_file_add ", entry.name));
    zip_set_file_compression(archive, static_cast<zip_uint64_t>(index), entry.method, entry.level);
    if (entry.password != nullptr &&
        zip_file_set_encryption(archive, static_cast<zip_uint64_t>(index), ZIP_EM_TRAD_PKWARE,
                                entry.password) != 0) {
      throw std::runtime_error("zip_file_set_encryption");
    }
  }
  if (zip_close(archive) != 0) throw std::runtime_error("zip_close");
  zip_source_open(buffer);
  zip_source_seek(buffer, 0, SEEK_END);
  const zip_int64_t size = zip_source_tell(buffer);
  zip_source_seek(buffer, 0, SEEK_SET);
  std::string bytes(static_cast<size_t>(size), '\0');
  zip_source_read(buffer, bytes.data(), static_cast<zip_uint64_t>(size));
  zip_source_close(buffer);
  zip_source_free(buffer);
  zip_error_fini(&error);
  return bytes;
}

// Archive bytes opened read-only with plain libzip; throws when they are no zip. The caller
// zip_discard()s it.
inline zip_t* OpenZip(const std::string& archive_bytes) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source =
      zip_source_buffer_create(archive_bytes.data(), archive_bytes.size(), 0, &error);
  zip_t* archive = zip_open_from_source(source, ZIP_RDONLY, &error);
  zip_error_fini(&error);
  if (archive == nullptr) {
    zip_source_free(source);
    throw std::runtime_error("zip_open_from_source");
  }
  return archive;
}

// The whole of an opened entry (closed after).
inline std::string ReadZipFile(zip_file_t* file) {
  std::string out;
  char buffer[8192];
  zip_int64_t n;
  while ((n = zip_fread(file, buffer, sizeof buffer)) > 0)
    out.append(buffer, static_cast<size_t>(n));
  zip_fclose(file);
  return out;
}

// One entry's bytes, read back with plain libzip (to look at what a writer produced).
inline std::string UnzipEntry(const std::string& archive_bytes, const std::string& name) {
  zip_t* archive = OpenZip(archive_bytes);
  zip_file_t* file = zip_fopen(archive, name.c_str(), 0);
  if (file == nullptr) {
    zip_discard(archive);
    throw std::runtime_error(absl::StrCat("no entry ", name));
  }
  std::string out = ReadZipFile(file);
  zip_discard(archive);
  return out;
}

// The archive's entries in order, each read back whole (to rebuild it with a part changed).
inline std::vector<ZipEntry> ZipEntries(const std::string& archive_bytes) {
  zip_t* archive = OpenZip(archive_bytes);
  std::vector<ZipEntry> entries;
  const zip_int64_t count = zip_get_num_entries(archive, 0);
  for (zip_int64_t i = 0; i < count; ++i) {
    const auto index = static_cast<zip_uint64_t>(i);
    zip_file_t* file = zip_fopen_index(archive, index, 0);
    if (file == nullptr) {
      zip_discard(archive);
      throw std::runtime_error("zip_fopen_index");
    }
    entries.push_back({zip_get_name(archive, index, 0), ReadZipFile(file)});
  }
  zip_discard(archive);
  return entries;
}

// `archive_bytes` rebuilt with the entry called `name` holding `data` (it must exist).
inline std::string ReplaceEntry(const std::string& archive_bytes, const std::string& name,
                                std::string data) {
  std::vector<ZipEntry> entries = ZipEntries(archive_bytes);
  bool found = false;
  for (ZipEntry& entry : entries) {
    if (entry.name == name) {
      entry.data = std::move(data);
      found = true;
    }
  }
  if (!found) throw std::runtime_error(absl::StrCat("no entry ", name));
  return BuildZip(entries);
}

// Rewrites the uncompressed size an entry declares, in its local header and in the central
// directory (so that they agree: a consistent lie), or in the central directory only.
inline void PatchDeclaredSize(std::string& zip_bytes, const std::string& name, uint32_t size,
                              bool also_local_header = true) {
  int patched = 0;
  const auto put32 = [&](size_t at) {
    std::memcpy(&zip_bytes[at], &size, 4);
  };  // little endian host
  for (size_t at = 0; at + 46 <= zip_bytes.size(); ++at) {
    if (zip_bytes.compare(at, 4, "PK\x03\x04", 4) == 0) {
      uint16_t name_len;
      std::memcpy(&name_len, &zip_bytes[at + 26], 2);
      if (zip_bytes.compare(at + 30, name_len, name) == 0 && name_len == name.size()) {
        if (also_local_header) put32(at + 22);
        ++patched;
      }
    } else if (zip_bytes.compare(at, 4, "PK\x01\x02", 4) == 0) {
      uint16_t name_len;
      std::memcpy(&name_len, &zip_bytes[at + 28], 2);
      if (zip_bytes.compare(at + 46, name_len, name) == 0 && name_len == name.size()) {
        put32(at + 24);
        ++patched;
      }
    }
  }
  if (patched != 2) throw std::runtime_error(absl::StrCat("patched ", patched, " headers"));
}

inline constexpr absl::string_view kMainNs =
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
inline constexpr absl::string_view kRelNs =
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
inline constexpr absl::string_view kPkgNs =
    "http://schemas.openxmlformats.org/package/2006/relationships";

// <worksheet><sheetData>rows</sheetData></worksheet>
inline std::string SheetXml(absl::string_view rows) {
  return absl::StrCat("<?xml version=\"1.0\" encoding=\"UTF-8\"?><worksheet xmlns=\"", kMainNs,
                      "\"><sheetData>", rows, "</sheetData></worksheet>");
}

// About `bytes` of well-formed sheet XML: `rows` and then nearly all empty <p/> elements
// (deflates ~1000:1, and no token is long), so that only a byte or ratio cap can stop it.
inline std::string FillerSheet(
    int64_t bytes, absl::string_view rows = "<row r=\"1\"><c r=\"A1\"><v>1</v></c></row>") {
  std::string filler;
  filler.reserve(static_cast<size_t>(bytes));
  while (static_cast<int64_t>(filler.size()) < bytes) filler += "<p/>";
  return SheetXml(absl::StrCat(rows, filler));
}

// A DOCTYPE for `root` declaring the billion laughs: entity l9 expands to 10^9 "lol"s.
// Reference it as "&l9;".
inline std::string BillionLaughsDoctype(absl::string_view root) {
  std::string dtd = absl::StrCat("<!DOCTYPE ", root, " [<!ENTITY l0 \"lol\">");
  for (int i = 1; i < 10; ++i) {
    absl::StrAppend(&dtd, "<!ENTITY l", i, " \"");
    for (int k = 0; k < 10; ++k) absl::StrAppend(&dtd, "&l", i - 1, ";");
    absl::StrAppend(&dtd, "\">");
  }
  return absl::StrCat(dtd, "]>");
}

// The quadratic blowup: one entity "q" of `entity_bytes` bytes, referenced `refs` times by
// the returned text (no nesting, so a parser that only caps nesting lets it through).
inline std::string QuadraticBlowupDoctype(absl::string_view root, size_t entity_bytes) {
  return absl::StrCat("<!DOCTYPE ", root, " [<!ENTITY q \"", std::string(entity_bytes, 'q'),
                      "\">]>");
}
inline std::string QuadraticBlowupRefs(size_t refs) {
  std::string out;
  out.reserve(refs * 3);
  for (size_t i = 0; i < refs; ++i) out += "&q;";
  return out;
}

// `n` reproducible pseudo-random bytes (a linear congruential generator seeded with `seed`),
// drawn from `alphabet` when it is given. Noise does not deflate, so no ratio cap acts on it.
inline std::string PseudoRandomBytes(size_t n, uint32_t seed, absl::string_view alphabet = "") {
  std::string out(n, '\0');
  uint32_t x = seed;
  for (char& c : out) {
    x = x * 1664525u + 1013904223u;
    c = alphabet.empty() ? static_cast<char>(x >> 24) : alphabet[(x >> 24) % alphabet.size()];
  }
  return out;
}

// The parts of a one-sheet workbook ("Sheet1"), with the sheet's XML and optional shared
// strings XML; the sheet is the last part. More entries may be appended before BuildZip.
inline std::vector<ZipEntry> MinimalParts(const std::string& sheet_xml,
                                          const std::string& shared_strings_xml = "") {
  std::vector<ZipEntry> parts;
  parts.push_back({"[Content_Types].xml",
                   "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/"
                   "package/2006/content-types\"/>"});
  parts.push_back({"_rels/.rels",
                   absl::StrCat("<?xml version=\"1.0\"?><Relationships xmlns=\"", kPkgNs,
                                "\"><Relationship Id=\"rId1\" Type=\"", kRelNs,
                                "/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>")});
  parts.push_back(
      {"xl/workbook.xml",
       absl::StrCat("<?xml version=\"1.0\"?><workbook xmlns=\"", kMainNs, "\" xmlns:r=\"", kRelNs,
                    "\"><sheets><sheet name=\"Sheet1\" sheetId=\"1\" r:id=\"rId1\"/>"
                    "</sheets></workbook>")});
  std::string rels = absl::StrCat("<?xml version=\"1.0\"?><Relationships xmlns=\"", kPkgNs,
                                  "\"><Relationship Id=\"rId1\" Type=\"", kRelNs,
                                  "/worksheet\" Target=\"worksheets/sheet1.xml\"/>");
  if (!shared_strings_xml.empty()) {
    absl::StrAppend(&rels, "<Relationship Id=\"rId2\" Type=\"", kRelNs,
                    "/sharedStrings\" Target=\"sharedStrings.xml\"/>");
    parts.push_back({"xl/sharedStrings.xml", shared_strings_xml});
  }
  absl::StrAppend(&rels, "</Relationships>");
  parts.push_back({"xl/_rels/workbook.xml.rels", rels});
  parts.push_back({"xl/worksheets/sheet1.xml", sheet_xml});
  return parts;
}

inline std::string MinimalXlsx(const std::string& sheet_xml,
                               const std::string& shared_strings_xml = "") {
  return BuildZip(MinimalParts(sheet_xml, shared_strings_xml));
}

// A whole file. Throws when it cannot be read (tests only).
inline std::string ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(absl::StrCat("cannot open ", path));
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

#ifdef ANKEN_XLSX_TESTDATA
// A committed fixture of the including test's testdata/ folder.
inline std::string ReadTestdata(absl::string_view name) {
  return ReadFileBytes(absl::StrCat(ANKEN_XLSX_TESTDATA, "/", name));
}
#endif

}  // namespace anken::xlsx::testing
