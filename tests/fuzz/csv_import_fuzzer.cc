// libFuzzer target: every CSV importer's pure parsing, the input's first byte choosing which
// (one target for all keeps the test command's fuzzing time to one minute for them):
//   0 common/csv: DecodeCsvBytes then ParseCsvTable
//   1 billing: ParseZenginStatement, 和暦 years     2 the same, 西暦 years
//   3 billing: ParsePaymentCsv (a bank statement as CSV)
//   4 customer: PlanImport                          5 project: PlanProjectImport
// The rest of the input is the file's bytes.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "common/csv/csv.h"
#include "services/billing/zengin.h"
#include "services/customer/csv_import.h"
#include "services/project/project_csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const absl::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 6) {
    case 0: {
      absl::StatusOr<std::string> utf8 = anken::csv::DecodeCsvBytes(bytes);
      if (utf8.ok()) {
        (void)anken::csv::ParseCsvTable(*utf8);
        (void)anken::csv::EncodeCp932(*utf8);
      }
      (void)anken::csv::IsValidUtf8(bytes);
      break;
    }
    case 1:
    case 2: {
      anken::billing::ZenginOptions options;
      options.era = data[0] % 6 == 1 ? anken::billing::ZenginEra::kWareki
                                     : anken::billing::ZenginEra::kSeireki;
      (void)anken::billing::LooksLikeZengin(bytes);
      (void)anken::billing::ParseZenginStatement(bytes, options);
      break;
    }
    case 3:
      (void)anken::billing::ParsePaymentCsv(bytes, "csv:0001-123-1-1234567");
      break;
    case 4:
      (void)anken::customer::PlanImport(bytes);
      break;
    case 5: {
      static const std::vector<std::string> statuses = {"未着手", "進行中", "保留", "完了"};
      (void)anken::project::PlanProjectImport(bytes, statuses, absl::CivilDay(2024, 6, 15));
      break;
    }
  }
  return 0;
}
