#pragma once
// Errors from pure domain code, which links Abseil only (no protobuf): the field and the
// stable reason ride on the absl::Status as plain payloads, and ToGrpcStatus (errors.h) turns
// them into a BadRequest field violation and an ErrorInfo reason.

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace anken {

inline constexpr char kDomainFieldPayload[] = "anken/field";
inline constexpr char kDomainReasonPayload[] = "anken/reason";

// `code` with message "<field>: <description>" (or just the description when field is
// empty), the field and the reason attached.
inline absl::Status DomainError(absl::StatusCode code, absl::string_view field,
                                absl::string_view reason, absl::string_view description) {
  absl::Status s(code, field.empty() ? std::string(description)
                                     : absl::StrCat(field, ": ", description));
  if (!field.empty()) s.SetPayload(kDomainFieldPayload, absl::Cord(field));
  if (!reason.empty()) s.SetPayload(kDomainReasonPayload, absl::Cord(reason));
  return s;
}

// INVALID_ARGUMENT on a field.
inline absl::Status DomainInvalid(absl::string_view field, absl::string_view reason,
                                  absl::string_view description) {
  return DomainError(absl::StatusCode::kInvalidArgument, field, reason, description);
}

// FAILED_PRECONDITION: a state rule.
inline absl::Status DomainPrecondition(absl::string_view reason, absl::string_view description) {
  return DomainError(absl::StatusCode::kFailedPrecondition, "", reason, description);
}

}  // namespace anken
