#include "common/api/etag.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status/errors.h"

namespace anken::api {

std::string FormatEtag(int64_t version) { return absl::StrCat("\"", version, "\""); }

absl::StatusOr<int64_t> ParseEtag(absl::string_view etag) {
  int64_t version = 0;
  if (etag.size() < 3 || etag.front() != '"' || etag.back() != '"' ||
      !absl::SimpleAtoi(etag.substr(1, etag.size() - 2), &version) ||
      FormatEtag(version) != etag) {  // canonical spelling only
    return InvalidField("etag",
                        "is not an etag of this service; send the etag from the resource as "
                        "read, or leave it empty");
  }
  return version;
}

absl::Status CheckEtag(absl::string_view supplied, int64_t current_version, bool required) {
  if (supplied.empty()) {
    if (!required) return absl::OkStatus();
    return InvalidField("etag", "is required; read the resource and send its etag");
  }
  absl::StatusOr<int64_t> version = ParseEtag(supplied);
  if (!version.ok()) return version.status();
  if (*version == current_version) return absl::OkStatus();
  return WithReason(
      absl::AbortedError(absl::StrCat(
          "etag: the resource has changed since it was read (sent ", supplied, ", now ",
          FormatEtag(current_version), "); read it again and reapply the change")),
      kEtagMismatchReason);
}

}  // namespace anken::api
