#include "common/xlsx/zip_input.h"

#include <zip.h>

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace anken::xlsx::internal {
namespace {

constexpr int64_t kChunk = 64 << 10;

absl::Status Refuse(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("xlsx refused: ", why));
}

// Zip entry names that could address something outside the archive's own tree when some
// tool extracts it, or that two tools would read differently, are refused outright.
absl::Status CheckEntryName(absl::string_view name) {
  if (name.empty()) return Refuse("a zip entry has an empty name");
  if (name.size() > 1024) return Refuse("a zip entry name is over 1024 bytes");
  const std::string shown(name.substr(0, 80));
  if (name[0] == '/') return Refuse(absl::StrCat("zip entry \"", shown, "\" is an absolute path"));
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) {
      return Refuse(absl::StrCat("zip entry \"", shown, "\" has a control character"));
    }
    if (c == '\\') return Refuse(absl::StrCat("zip entry \"", shown, "\" has a backslash"));
    if (c == ':') {
      return Refuse(absl::StrCat("zip entry \"", shown, "\" has a drive or stream colon"));
    }
  }
  for (absl::string_view segment : absl::StrSplit(name, '/')) {
    if (segment == ".." || segment == ".") {
      return Refuse(absl::StrCat("zip entry \"", shown, "\" has a \"", segment, "\" segment"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ZipInput>> ZipInput::Open(absl::string_view bytes,
                                                         const ReadLimits& limits,
                                                         ReadStats* stats) {
  stats->file_bytes = static_cast<int64_t>(bytes.size());
  if (stats->file_bytes > limits.max_file_bytes) {
    return Refuse(
        absl::StrCat("the file is ", bytes.size(), " bytes; the cap is ", limits.max_file_bytes));
  }
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (source == nullptr) {
    zip_error_fini(&error);
    return absl::ResourceExhaustedError("xlsx: cannot allocate a zip source");
  }
  // CHECKCONS compares every local header with the central directory, so the two cannot
  // tell different stories about an entry.
  zip_t* archive = zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error);
  if (archive == nullptr) {
    std::string why = zip_error_strerror(&error);
    zip_source_free(source);
    zip_error_fini(&error);
    return Refuse(absl::StrCat("not a readable zip archive (", why, ")"));
  }
  zip_error_fini(&error);
  std::unique_ptr<ZipInput> input(new ZipInput(archive, limits, stats));

  const zip_int64_t count = zip_get_num_entries(archive, 0);
  stats->entries = count;
  if (count < 0) return Refuse("unreadable zip directory");
  if (count > limits.max_entries) {
    return Refuse(absl::StrCat("the zip has ", count, " entries; the cap is ", limits.max_entries));
  }
  input->entries_.reserve(static_cast<size_t>(count));
  for (zip_int64_t i = 0; i < count; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(archive, static_cast<zip_uint64_t>(i), 0, &st) != 0 ||
        (st.valid & ZIP_STAT_NAME) == 0 || (st.valid & ZIP_STAT_SIZE) == 0 ||
        (st.valid & ZIP_STAT_COMP_SIZE) == 0 || (st.valid & ZIP_STAT_COMP_METHOD) == 0) {
      return Refuse("unreadable zip directory entry");
    }
    const absl::string_view name = st.name;
    if (absl::Status s = CheckEntryName(name); !s.ok()) return s;
    const std::string shown(name.substr(0, 80));
    if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) != 0 && st.encryption_method != ZIP_EM_NONE) {
      return Refuse(absl::StrCat("zip entry \"", shown, "\" is encrypted"));
    }
    if (st.comp_method != ZIP_CM_STORE && st.comp_method != ZIP_CM_DEFLATE) {
      return Refuse(absl::StrCat("zip entry \"", shown, "\" uses compression method ",
                                 st.comp_method, " (only stored and deflate are read)"));
    }
    // zip_uint64_t sizes: compare before converting so that 2^63+ cannot wrap negative.
    if (st.size > static_cast<zip_uint64_t>(limits.max_entry_bytes)) {
      return Refuse(absl::StrCat("zip entry \"", shown, "\" declares ", st.size,
                                 " uncompressed bytes; the cap is ", limits.max_entry_bytes));
    }
    const int64_t size = static_cast<int64_t>(st.size);
    const int64_t compressed = static_cast<int64_t>(
        std::min<zip_uint64_t>(st.comp_size, static_cast<zip_uint64_t>(bytes.size())));
    stats->declared_bytes += size;
    if (stats->declared_bytes > limits.max_total_bytes) {
      return Refuse(absl::StrCat("the zip declares over ", limits.max_total_bytes,
                                 " uncompressed bytes in all"));
    }
    if (size > limits.ratio_grace_bytes &&
        size > limits.max_inflate_ratio * std::max<int64_t>(compressed, 1)) {
      return Refuse(absl::StrCat("zip entry \"", shown, "\" declares an inflate ratio over ",
                                 limits.max_inflate_ratio));
    }
    if (absl::EndsWith(name, "/")) {  // a directory entry: nothing to read
      input->entries_.push_back(Entry{std::string(name), compressed});
      continue;
    }
    const bool fresh = input->by_name_.emplace(absl::AsciiStrToLower(name), i).second;
    if (!fresh) {
      return Refuse(absl::StrCat("zip entry \"", shown, "\" appears twice"));
    }
    input->entries_.push_back(Entry{std::string(name), compressed});
  }
  return input;
}

ZipInput::~ZipInput() { zip_discard(archive_); }

int64_t ZipInput::Find(absl::string_view part) const {
  auto it = by_name_.find(absl::AsciiStrToLower(part));
  return it == by_name_.end() ? -1 : it->second;
}

absl::Status ZipInput::Inflate(int64_t index,
                               const std::function<absl::Status(absl::string_view)>& sink) {
  const Entry& entry = entries_.at(static_cast<size_t>(index));
  const std::string shown = entry.name.substr(0, 80);
  // The most this entry may produce, and which cap that is, for the refusal message.
  int64_t allowed = limits_.max_entry_bytes;
  std::string cap = absl::StrCat("the per-entry cap of ", limits_.max_entry_bytes, " bytes");
  const int64_t total_left = std::max<int64_t>(limits_.max_total_bytes - stats_->inflated_bytes, 0);
  if (total_left < allowed) {
    allowed = total_left;
    cap = absl::StrCat("the total cap of ", limits_.max_total_bytes, " bytes");
  }
  const int64_t by_ratio =
      std::max(limits_.ratio_grace_bytes,
               limits_.max_inflate_ratio * std::max<int64_t>(entry.compressed, 1));
  if (by_ratio < allowed) {
    allowed = by_ratio;
    cap = absl::StrCat("an inflate ratio of ", limits_.max_inflate_ratio);
  }

  zip_file_t* file = zip_fopen_index(archive_, static_cast<zip_uint64_t>(index), 0);
  if (file == nullptr) {
    return Refuse(
        absl::StrCat("zip entry \"", shown, "\" cannot be opened (", zip_strerror(archive_), ")"));
  }
  ++stats_->entries_inflated;
  if (buffer_.empty()) buffer_.resize(static_cast<size_t>(kChunk));
  int64_t produced = 0;
  absl::Status status;
  while (status.ok()) {
    // Never ask for more than one byte past the cap: that byte is how we learn it is passed.
    const int64_t want = std::min<int64_t>(kChunk, allowed - produced + 1);
    const zip_int64_t n = zip_fread(file, buffer_.data(), static_cast<zip_uint64_t>(want));
    if (n < 0) {
      status = Refuse(
          absl::StrCat("zip entry \"", shown, "\" is damaged (", zip_file_strerror(file), ")"));
      break;
    }
    if (n == 0) break;
    produced += n;
    stats_->inflated_bytes += n;
    stats_->largest_inflated_entry = std::max(stats_->largest_inflated_entry, produced);
    if (produced > allowed) {
      status = Refuse(absl::StrCat("zip entry \"", shown, "\" inflates past ", cap));
      break;
    }
    status = sink(absl::string_view(buffer_.data(), static_cast<size_t>(n)));
  }
  // libzip may report a CRC mismatch only when the file is closed.
  const int closed = zip_fclose(file);
  if (status.ok() && closed != 0) {
    status =
        Refuse(absl::StrCat("zip entry \"", shown, "\" is damaged (libzip error ", closed, ")"));
  }
  return status;
}

}  // namespace anken::xlsx::internal
