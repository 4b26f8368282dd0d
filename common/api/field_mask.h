#pragma once
// Update methods with a field mask (AIP-134): which paths a caller may name, and applying a
// patch along them.
//
// Contract:
// - A mask must name at least one path; "*" (full replacement) is not supported, so clients
//   say what they change and a field added later is never cleared by an old client.
// - A path is updatable when it, or one of its parent paths, is in `updatable_paths`
//   ("address" allows "address.city"; "address.city" does NOT allow "address", which would
//   also replace the address's other fields). Output-only and immutable fields are simply
//   left out of the set.
// - Applying replaces what the mask names: a named repeated field becomes the patch's list
//   (not appended), a named message field becomes the patch's message (not merged), and a
//   named field absent or default in the patch is cleared in the target.

#include <set>
#include <string>

#include "absl/status/status.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/field_mask.pb.h"
#include "google/protobuf/message.h"

namespace anken::api {

// OK, or INVALID_ARGUMENT on "update_mask": the mask is empty ("update_mask: must list the
// fields to change"), or names a path that does not exist in `descriptor` or is not
// updatable; every bad path is named in the message and gets its own field violation.
absl::Status ValidateUpdateMask(const google::protobuf::FieldMask& mask,
                                const google::protobuf::Descriptor* descriptor,
                                const std::set<std::string>& updatable_paths);

// Copies the masked fields of `patch` onto `target` with replace semantics (see above).
// Preconditions: `patch` and `target` are of the same message type (otherwise the protobuf
// library aborts), and the mask passed ValidateUpdateMask (unknown paths are ignored).
void ApplyUpdateMask(const google::protobuf::FieldMask& mask,
                     const google::protobuf::Message& patch, google::protobuf::Message* target);

}  // namespace anken::api
