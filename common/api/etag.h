#pragma once
// Etags for optimistic concurrency (AIP-154) on top of a row version.
//
// Contract:
// - Every row carries an int64 version, bumped by each write. Its etag is the version in
//   double quotes, e.g. "7" (an HTTP strong etag: the version changes with every change, so
//   equal etags mean identical resources). We never emit weak (W/"...") etags and reject them.
// - An update may send the etag it read: an empty etag means "unconditional" unless the
//   method requires one; a string that is not an etag we issue is INVALID_ARGUMENT on
//   "etag"; a well-formed but different etag is ABORTED with reason ETAG_MISMATCH, telling
//   the client to read the resource again and reapply its change.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace anken::api {

inline constexpr absl::string_view kEtagMismatchReason = "ETAG_MISMATCH";

// "\"7\"" for version 7.
std::string FormatEtag(int64_t version);

// The version in an etag FormatEtag made (canonical form only: no sign, spaces or leading
// zeros); INVALID_ARGUMENT on "etag" otherwise.
absl::StatusOr<int64_t> ParseEtag(absl::string_view etag);

// OK when `supplied` is empty (and not `required`) or names `current_version`.
absl::Status CheckEtag(absl::string_view supplied, int64_t current_version,
                       bool required = false);

}  // namespace anken::api
