#pragma once
// Renders a Document (document.h) as an A4 PDF with cairo and pango, in Japanese.
//
// Contract:
// - Text is set in IPAexGothic (Debian package fonts-ipaexfont-gothic), found through
//   fontconfig and embedded as a subset. Only that one font file is used, whatever else the
//   machine has, so a document looks (and is) the same on every machine with that package;
//   without it RenderPdf fails with FAILED_PRECONDITION instead of falling back silently.
// - Deterministic: the same Document gives the same bytes, in any process, at any time. The
//   PDF's creation and modification dates are the document's issue date (00:00 Asia/Tokyo),
//   never the clock.
// - Layout: first page with title, number and date, recipient with 御中/様, the amount due,
//   terms, and the issuer block (name, address, 登録番号); then the lines table (No., item
//   with ※ on reduced-rate lines, quantity, unit price, amount), breaking onto as many pages
//   as needed with the table header repeated on each; then per-rate subtotals and tax, the
//   total, the ※ legend and the notes. Every page has a footer "n / N"; a cancelled document
//   has a 取消 stamp and notice on every page.
// - INVALID_ARGUMENT when a text is not valid UTF-8; FAILED_PRECONDITION when the font is
//   missing; INTERNAL when cairo fails.
// - Thread-safe: each call has its own pango font map; the font configuration is built once.

#include <string>

#include "absl/status/statusor.h"
#include "common/pdf/document.h"

namespace anken::pdf {

// The font family every document is set in.
inline constexpr char kFontFamily[] = "IPAexGothic";

absl::StatusOr<std::string> RenderPdf(const Document& document);

}  // namespace anken::pdf
