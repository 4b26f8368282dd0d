#include "common/api/field_mask.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status/errors.h"
#include "google/protobuf/util/field_mask_util.h"

namespace anken::api {
namespace {

using google::protobuf::util::FieldMaskUtil;

constexpr absl::string_view kField = "update_mask";

bool PathExists(const google::protobuf::Descriptor* descriptor, const std::string& path) {
  // FieldMaskUtil skips empty segments, so "" and "a..b" would pass it; they are malformed.
  for (absl::string_view segment : absl::StrSplit(path, '.')) {
    if (segment.empty()) return false;
  }
  return FieldMaskUtil::GetFieldDescriptors(descriptor, path, nullptr);
}

bool PathUpdatable(const std::string& path, const std::set<std::string>& updatable_paths) {
  // The path itself or any parent ("a.b.c" -> "a.b", "a").
  std::string prefix = path;
  while (true) {
    if (updatable_paths.count(prefix) > 0) return true;
    const std::size_t dot = prefix.rfind('.');
    if (dot == std::string::npos) return false;
    prefix.resize(dot);
  }
}

}  // namespace

absl::Status ValidateUpdateMask(const google::protobuf::FieldMask& mask,
                                const google::protobuf::Descriptor* descriptor,
                                const std::set<std::string>& updatable_paths) {
  if (mask.paths_size() == 0) return InvalidField(kField, "must list the fields to change");
  std::vector<std::string> problems;
  for (const std::string& path : mask.paths()) {
    if (!PathExists(descriptor, path)) {
      problems.push_back(
          absl::StrCat("unknown field \"", path, "\" in ", descriptor->full_name()));
    } else if (!PathUpdatable(path, updatable_paths)) {
      problems.push_back(absl::StrCat("field \"", path,
                                      "\" cannot be changed (output only or immutable)"));
    }
  }
  if (problems.empty()) return absl::OkStatus();
  absl::Status status = absl::InvalidArgumentError(
      absl::StrCat(kField, ": ", absl::StrJoin(problems, "; ")));
  for (const std::string& problem : problems) {
    status = WithFieldViolation(std::move(status), kField, problem);
  }
  return WithReason(std::move(status), "INVALID_ARGUMENT");
}

void ApplyUpdateMask(const google::protobuf::FieldMask& mask,
                     const google::protobuf::Message& patch, google::protobuf::Message* target) {
  FieldMaskUtil::MergeOptions options;
  options.set_replace_message_fields(true);
  options.set_replace_repeated_fields(true);
  FieldMaskUtil::MergeMessageTo(patch, mask, options, target);
}

}  // namespace anken::api
