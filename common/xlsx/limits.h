#pragma once
// The bounds an .xlsx read works within, and the counters that show it stayed inside them.
// Every cap is checked against what the reader actually did (bytes inflated, strings
// buffered), not only against what the file claims, so a lying zip header or a reference-
// amplifying sheet is refused when the counter reaches the cap.

#include <cstdint>

namespace anken::xlsx {

struct ReadLimits {
  int64_t max_file_bytes = 10 << 20;  // the .xlsx as uploaded (compressed)
  int64_t max_entries = 1000;         // zip entries
  // Uncompressed bytes: each entry and all entries together, declared and actually inflated.
  int64_t max_entry_bytes = 32 << 20;
  int64_t max_total_bytes = 64 << 20;
  // Uncompressed / compressed, once an entry passes `ratio_grace_bytes` (small parts of real
  // files compress far better than big ones; a zip bomb is big).
  int64_t max_inflate_ratio = 100;
  int64_t ratio_grace_bytes = 1 << 20;
  int64_t max_rows = 65536;                // <row> elements, all sheets read
  int64_t max_cells = 500000;              // <c> elements, all sheets read
  int64_t max_text_bytes = 128 << 10;      // one string, number text or formula (UTF-8 bytes)
  int64_t max_cell_text_bytes = 64 << 20;  // text handed out in cells, all sheets read
  int64_t max_shared_strings = 200000;     // <si> items
  int64_t max_shared_string_bytes = 16 << 20;
  int max_xml_depth = 64;
  // Bytes of XML between one '>' and the next. Expat holds a whole tag (or comment) in memory
  // before reporting it; this bounds that, so a multi-megabyte attribute cannot be buffered.
  // Real parts stay far below (a 32,767-character cell, fully escaped, is under 200 KiB).
  int64_t max_markup_gap_bytes = 1 << 20;
};

// Cumulative over one reader (Open and every ReadSheet), filled in also when a read fails.
struct ReadStats {
  int64_t file_bytes = 0;
  int64_t entries = 0;
  int64_t declared_bytes = 0;          // uncompressed sizes the zip directory claims, summed
  int64_t inflated_bytes = 0;          // bytes actually inflated, all entries
  int64_t largest_inflated_entry = 0;  // most bytes actually inflated from one entry
  int64_t entries_inflated = 0;
  int64_t rows = 0;
  int64_t cells = 0;
  int64_t cell_text_bytes = 0;
  int64_t shared_strings = 0;
  int64_t shared_string_bytes = 0;
  int64_t longest_text = 0;  // longest text buffered while parsing
  int deepest_xml = 0;
  int64_t longest_markup_gap = 0;  // most XML bytes seen between two '>'
};

}  // namespace anken::xlsx
