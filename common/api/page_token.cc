#include "common/api/page_token.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <cstdint>
#include <memory>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/status/errors.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace anken::api {
namespace {

// Token layout before base64url: kVersion, position bytes, 32-byte MAC. The version byte lets
// a future layout coexist with tokens already handed out.
constexpr char kVersion = 1;
constexpr std::size_t kMacSize = 32;  // SHA-256
// Longer tokens are rejected before any work; real positions are a few dozen bytes.
constexpr std::size_t kMaxTokenChars = 4096;
// Separates this MAC's purpose from any other use of the same secret.
constexpr absl::string_view kMacContext = "anken.page_token.v1";

constexpr absl::string_view kBadToken =
    "is not a page token returned for this request with these filters; repeat the request "
    "without page_token to start from the first page";

std::string BigEndian32(uint32_t n) {
  std::string out(4, '\0');
  for (int i = 3; i >= 0; --i) {
    out[i] = static_cast<char>(n & 0xff);
    n >>= 8;
  }
  return out;
}

}  // namespace

PageTokenCodec::PageTokenCodec(std::string secret) : secret_(std::move(secret)) {}

std::string PageTokenCodec::Mac(absl::string_view filter_fingerprint,
                                absl::string_view body) const {
  // The fingerprint is length-prefixed so that no (fingerprint, body) pair can be re-split
  // into another with the same MAC input.
  const std::string input =
      absl::StrCat(kMacContext, absl::string_view("\0", 1),
                   BigEndian32(static_cast<uint32_t>(filter_fingerprint.size())),
                   filter_fingerprint, body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len);
  return std::string(reinterpret_cast<const char*>(mac), mac_len);
}

std::string PageTokenCodec::Encode(absl::string_view filter_fingerprint,
                                   absl::string_view keyset_position) const {
  std::string body = absl::StrCat(absl::string_view(&kVersion, 1), keyset_position);
  return absl::WebSafeBase64Escape(absl::StrCat(body, Mac(filter_fingerprint, body)));
}

absl::StatusOr<std::string> PageTokenCodec::Decode(absl::string_view token,
                                                   absl::string_view filter_fingerprint) const {
  if (token.empty()) return InvalidField("page_token", "is empty");
  if (token.size() > kMaxTokenChars) return InvalidField("page_token", kBadToken);
  std::string raw;
  // Re-encoding must give the token back: rejects padding, stray characters and the
  // alternative spellings base64 allows in the last character.
  if (!absl::WebSafeBase64Unescape(token, &raw) || absl::WebSafeBase64Escape(raw) != token ||
      raw.size() < 1 + kMacSize || raw[0] != kVersion) {
    return InvalidField("page_token", kBadToken);
  }
  const absl::string_view body = absl::string_view(raw).substr(0, raw.size() - kMacSize);
  const absl::string_view mac = absl::string_view(raw).substr(raw.size() - kMacSize);
  const std::string expected = Mac(filter_fingerprint, body);
  if (expected.size() != kMacSize || CRYPTO_memcmp(expected.data(), mac.data(), kMacSize) != 0) {
    return InvalidField("page_token", kBadToken);
  }
  return std::string(body.substr(1));
}

std::string FilterFingerprint(const google::protobuf::Message& request) {
  std::unique_ptr<google::protobuf::Message> copy(request.New());
  copy->CopyFrom(request);
  const google::protobuf::Descriptor* descriptor = copy->GetDescriptor();
  for (const char* paging_field : {"page_token", "page_size"}) {
    if (const auto* field = descriptor->FindFieldByName(paging_field)) {
      copy->GetReflection()->ClearField(copy.get(), field);
    }
  }
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    copy->SerializeToCodedStream(&coded);
  }
  // The type name keeps two List methods with byte-identical filters apart.
  const std::string input =
      absl::StrCat(descriptor->full_name(), absl::string_view("\0", 1), bytes);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

absl::StatusOr<int> PageSize(int requested, int default_size, int max) {
  if (requested < 0) return InvalidField("page_size", "must not be negative");
  if (requested > max) {
    return InvalidField("page_size", absl::StrCat("must be at most ", max));
  }
  return requested == 0 ? default_size : requested;
}

absl::StatusOr<int64_t> DecodeIdPosition(const PageTokenCodec& codec,
                                         const google::protobuf::Message& request,
                                         absl::string_view token) {
  if (token.empty()) return int64_t{0};
  absl::StatusOr<std::string> pos = codec.Decode(token, FilterFingerprint(request));
  if (!pos.ok()) return pos.status();
  int64_t id = 0;
  if (!absl::SimpleAtoi(*pos, &id) || id < 0) {
    return InvalidField("page_token", "is not valid; repeat the request without page_token");
  }
  return id;
}

std::string EncodeIdPosition(const PageTokenCodec& codec, const google::protobuf::Message& request,
                             int64_t last_id) {
  return codec.Encode(FilterFingerprint(request), absl::StrCat(last_id));
}

}  // namespace anken::api
