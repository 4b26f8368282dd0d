// pdf_sample: writes a sample document's PDF to a file, so that pdf_test can compare the
// bytes another process renders with its own (pointers and hash orders differ per process).
//
//   pdf_sample invoice LINES OUT.pdf [cancelled]
//   pdf_sample quote OUT.pdf

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "common/pdf/render.h"
#include "tests/common/pdf/sample_documents.h"

int main(int argc, char** argv) {
  namespace pdf = anken::pdf;
  const std::string kind = argc > 1 ? argv[1] : "";
  pdf::Document doc;
  std::string out;
  if (kind == "invoice" && argc >= 4) {
    doc = pdf::testing::SampleInvoice(std::atoi(argv[2]));
    doc.cancelled = argc > 4 && std::string(argv[4]) == "cancelled";
    out = argv[3];
  } else if (kind == "quote" && argc == 3) {
    doc = pdf::testing::SampleQuote();
    out = argv[2];
  } else {
    std::cerr << "usage: pdf_sample invoice LINES OUT.pdf [cancelled] | quote OUT.pdf\n";
    return 2;
  }
  absl::StatusOr<std::string> bytes = pdf::RenderPdf(doc);
  if (!bytes.ok()) {
    std::cerr << "pdf_sample: " << bytes.status() << "\n";
    return 1;
  }
  std::ofstream f(out, std::ios::binary);
  f << *bytes;
  return f.good() ? 0 : 1;
}
