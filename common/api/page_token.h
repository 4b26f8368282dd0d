#pragma once
// List paging (AIP-158): page sizes and opaque, signed keyset page tokens.
//
// Contract:
// - A token carries the keyset position where the next page starts (e.g. the sort key and id
//   of the last row returned) and an HMAC-SHA256 over it and the request's filter
//   fingerprint, base64url without padding. It is SIGNED, NOT ENCRYPTED: a client cannot forge
//   or alter it, but can decode it, so put only what the client has already seen in the
//   position.
// - Decode rejects, as INVALID_ARGUMENT with a field violation on "page_token", a token that
//   was altered or truncated, signed with another secret, or used with another filter
//   (FilterFingerprint of a different request). All four get the same message: the client's
//   remedy is the same (start again without page_token), and a tamperer learns nothing.
// - An empty page_token means "first page"; callers test for it before calling Decode, which
//   rejects an empty token.
// - Tokens do not expire: keyset positions stay meaningful as rows come and go. Rotating the
//   secret invalidates outstanding tokens (clients restart their listing).

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace anken::api {

class PageTokenCodec {
 public:
  // `secret` is the HMAC key shared by all replicas of a service (from configuration); it
  // must be non-empty and should be at least 32 random bytes.
  explicit PageTokenCodec(std::string secret);

  std::string Encode(absl::string_view filter_fingerprint,
                     absl::string_view keyset_position) const;

  // The keyset position Encode was given, when `token` is intact, was made with this secret
  // and `filter_fingerprint` equals the one it was encoded with.
  absl::StatusOr<std::string> Decode(absl::string_view token,
                                     absl::string_view filter_fingerprint) const;

 private:
  std::string Mac(absl::string_view filter_fingerprint, absl::string_view body) const;

  std::string secret_;
};

// A digest (64 lower-case hex characters) of the request's type and of every field except
// top-level `page_token` and `page_size`, so that a token is bound to the filter, ordering and
// any other parameter that shapes the result, yet survives a change of page size. Uses
// deterministic serialization; stable across replicas running the same proto schema.
std::string FilterFingerprint(const google::protobuf::Message& request);

// The effective page size: 0 means `default_size`; negative or above `max` is INVALID_ARGUMENT
// on "page_size".
absl::StatusOr<int> PageSize(int requested, int default_size = 100, int max = 1000);

// Keyset paging by a single int64 position (an id), the common case: the position of
// `token` for `request` (0 when the token is empty, i.e. the first page) ...
absl::StatusOr<int64_t> DecodeIdPosition(const PageTokenCodec& codec,
                                         const google::protobuf::Message& request,
                                         absl::string_view token);
// ... and the token that continues after `last_id`.
std::string EncodeIdPosition(const PageTokenCodec& codec, const google::protobuf::Message& request,
                             int64_t last_id);

}  // namespace anken::api
