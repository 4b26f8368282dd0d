#pragma once
// Rich errors (AIP-193) on top of absl::Status, and the absl <-> gRPC status mapping.
//
// Details travel inside the absl::Status as payloads keyed by their type URL
// ("type.googleapis.com/google.rpc.ErrorInfo", ".../google.rpc.BadRequest"), so domain code
// can attach them without protobuf, and ToGrpcStatus packs them into a google.rpc.Status in
// the `grpc-status-details-bin` trailer. absl::StatusCode and grpc::StatusCode share their
// numbers, so the code maps by a cast.

#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace anken {

// The ErrorInfo domain every Anken service reports.
inline constexpr absl::string_view kErrorDomain = "anken";

// Returns `status` with a google.rpc.ErrorInfo carrying `reason` (UPPER_SNAKE_CASE, stable:
// clients switch on it). Replaces an earlier reason.
absl::Status WithReason(absl::Status status, absl::string_view reason);

// Returns `status` with one more google.rpc.BadRequest field violation.
absl::Status WithFieldViolation(absl::Status status, absl::string_view field,
                                absl::string_view description);

// INVALID_ARGUMENT naming the field: message "<field>: <description>", a BadRequest field
// violation and the ErrorInfo reason (INVALID_ARGUMENT unless given).
absl::Status InvalidField(absl::string_view field, absl::string_view description,
                          absl::string_view reason = "INVALID_ARGUMENT");

// The ErrorInfo reason of `status`, or "" when it has none.
std::string ErrorReason(const absl::Status& status);

struct FieldViolation {
  std::string field;
  std::string description;
};
// The BadRequest field violations of `status`, in order.
std::vector<FieldViolation> FieldViolations(const absl::Status& status);

// absl -> gRPC, with details packed into google.rpc.Status. An UNKNOWN or INTERNAL status
// keeps its code but its message is replaced by a generic one, so that no internal text
// (SQL, exception messages) can reach a client.
grpc::Status ToGrpcStatus(const absl::Status& status);

// gRPC -> absl (for answers from peer services), keeping ErrorInfo / BadRequest details.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace anken
