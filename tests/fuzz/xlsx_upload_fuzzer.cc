// libFuzzer target: an uploaded .xlsx, whole, through the report's upload path and through the
// general reader (every sheet in memory). Crashes, sanitizer findings, leaks and inputs that
// take longer than the run's -timeout are failures; refusals are the expected outcome.

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "common/xlsx/reader.h"
#include "tests/fuzz/upload_path.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  anken::fuzz::RunUploadPath(bytes);
  (void)anken::xlsx::ReadXlsx(bytes);
  return 0;
}
