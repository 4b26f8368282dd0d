#pragma once
// Test helpers for tests/common/xlsx: zips built in memory with libzip (so hostile archives
// are crafted in the test itself), a minimal valid .xlsx around a given sheet, and the
// committed fixtures under testdata/.

#include <zip.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
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

// One entry's bytes, read back with plain libzip (to look at what a writer produced).
inline std::string UnzipEntry(const std::string& archive_bytes, const std::string& name) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source =
      zip_source_buffer_create(archive_bytes.data(), archive_bytes.size(), 0, &error);
  zip_t* archive = zip_open_from_source(source, ZIP_RDONLY, &error);
  if (archive == nullptr) throw std::runtime_error("zip_open_from_source");
  zip_file_t* file = zip_fopen(archive, name.c_str(), 0);
  if (file == nullptr) throw std::runtime_error(absl::StrCat("no entry ", name));
  std::string out;
  char buffer[8192];
  zip_int64_t n;
  while ((n = zip_fread(file, buffer, sizeof buffer)) > 0)
    out.append(buffer, static_cast<size_t>(n));
  zip_fclose(file);
  zip_discard(archive);
  return out;
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

inline std::string ReadTestdata(absl::string_view name) {
  const std::string path = absl::StrCat(ANKEN_XLSX_TESTDATA, "/", name);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(absl::StrCat("cannot open ", path));
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace anken::xlsx::testing
