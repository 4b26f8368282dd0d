// libFuzzer target: one XML part of a real report file, chosen by the input's first byte (the
// table sheet, the shared strings, the workbook, the identity sheet), replaced by the rest of
// the input and zipped back (stored, so no deflate stands between the mutation and the parsers)
// around the other parts of tests/services/report/testdata/report_v1.xlsx; then the report's
// upload path, as in xlsx_upload_fuzzer.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "tests/common/xlsx/xlsx_test_util.h"
#include "tests/fuzz/upload_path.h"

namespace {

const char* const kParts[] = {"xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/workbook.xml",
                              "xl/worksheets/sheet2.xml"};

std::vector<anken::xlsx::testing::ZipEntry>* base = nullptr;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const std::string file = anken::xlsx::testing::ReadFileBytes(ANKEN_FUZZ_BASE_XLSX);
  base = new std::vector<anken::xlsx::testing::ZipEntry>(anken::xlsx::testing::ZipEntries(file));
  for (anken::xlsx::testing::ZipEntry& entry : *base) entry.method = ZIP_CM_STORE;
  for (const char* part : kParts) {
    bool found = false;
    for (const auto& entry : *base) found = found || entry.name == part;
    if (!found) {
      std::fprintf(stderr, "%s has no %s\n", ANKEN_FUZZ_BASE_XLSX, part);
      std::abort();
    }
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const char* part = kParts[data[0] % (sizeof kParts / sizeof kParts[0])];
  std::vector<anken::xlsx::testing::ZipEntry> entries = *base;
  for (anken::xlsx::testing::ZipEntry& entry : entries) {
    if (entry.name == part) entry.data.assign(reinterpret_cast<const char*>(data) + 1, size - 1);
  }
  const std::string bytes = anken::xlsx::testing::BuildZip(entries);
  anken::fuzz::RunUploadPath(bytes);  // reads both sheets: the general reader is covered
  return 0;
}
