#pragma once
// Internal to anken_xlsx: a zip archive held in memory, read with libzip under ReadLimits.
// Open checks the directory (entry count, names, encryption, methods, declared sizes and
// ratios) before anything is inflated; Inflate streams one entry in chunks and counts the
// bytes it really produced, so a header that lies about sizes is caught by the counters.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/xlsx/limits.h"

struct zip;

namespace anken::xlsx::internal {

class ZipInput {
 public:
  // `bytes` must outlive the ZipInput; `stats` too (it is updated as work is done).
  static absl::StatusOr<std::unique_ptr<ZipInput>> Open(absl::string_view bytes,
                                                        const ReadLimits& limits, ReadStats* stats);
  ~ZipInput();
  ZipInput(const ZipInput&) = delete;
  ZipInput& operator=(const ZipInput&) = delete;

  // The entry called `part` (a part name without the leading '/', compared ignoring ASCII
  // case as OPC does), or -1.
  int64_t Find(absl::string_view part) const;

  // The entry's name as the archive spells it.
  const std::string& Name(int64_t index) const {
    return entries_.at(static_cast<size_t>(index)).name;
  }

  // Streams entry `index` to `sink` in chunks of at most 64 KiB. A sink error stops the
  // read and is returned as is.
  absl::Status Inflate(int64_t index, const std::function<absl::Status(absl::string_view)>& sink);

 private:
  struct Entry {
    std::string name;
    int64_t compressed = 0;
  };
  ZipInput(zip* archive, const ReadLimits& limits, ReadStats* stats)
      : archive_(archive), limits_(limits), stats_(stats) {}

  zip* archive_;
  const ReadLimits& limits_;
  ReadStats* stats_;
  std::vector<Entry> entries_;
  absl::flat_hash_map<std::string, int64_t> by_name_;  // lower-cased name -> index
  std::vector<char> buffer_;  // one inflate chunk, allocated once for all entries
};

}  // namespace anken::xlsx::internal
