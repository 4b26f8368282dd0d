#pragma once
// Mail as bytes, pure: mail addresses, RFC 2047 encoded-words for Japanese headers, and the
// whole RFC 5322 / MIME message the SMTP client sends.
//
// The message is a single text/plain part in UTF-8 with base64 transfer encoding (safe for
// any Japanese text through any relay, and no line-length trouble), CRLF line ends, a Subject
// of RFC 2047 "B" encoded-words (each at most 75 characters and holding whole UTF-8
// characters, folded onto continuation lines), and a Message-ID derived from the
// notification's dedup key, so a message sent twice (a crash between the server's accept and
// our record of it) carries the same id and receivers can drop the copy.
//
// Header injection: every value that reaches a header is checked for CR, LF and NUL first
// (addresses by IsValidMailAddress, the subject by BuildMessage).

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace anken::scheduler {

// A plain addr-spec: local@domain, ASCII, 3..254 characters, no spaces, quotes, angle
// brackets, commas or control characters, exactly one '@', a dot-separated domain of
// letters, digits and hyphens. Deliberately stricter than RFC 5321: it is for addresses we
// put into SMTP commands and headers ourselves.
bool IsValidMailAddress(absl::string_view address);

// `text` as RFC 2047 encoded-words "=?UTF-8?B?...?=", split so that each word contains whole
// UTF-8 characters and no line is longer than 76 characters (the first line already holds
// `first_line_used` characters, e.g. 9 for "Subject: "), joined by CRLF + space (folding).
// Printable ASCII of at most 60 characters without "=?" is returned unchanged.
std::string EncodeHeaderWord(absl::string_view text, size_t first_line_used = 0);

// The RFC 5322 date in Asia/Tokyo: "Wed, 25 Nov 2026 09:00:00 +0900".
std::string MailDate(absl::Time t);

// "<hex@domain>": 32 hex digits of `digest_hex` (the caller's SHA-256 of the dedup key) at the
// sender's domain.
std::string MessageIdFrom(absl::string_view digest_hex, absl::string_view domain);
// The domain part of a mail address ("example.jp" of "noreply@example.jp").
std::string DomainOf(absl::string_view address);

struct MailMessage {
  std::string from_address;
  std::string from_name;  // optional display name (may be Japanese)
  std::string to_address;
  std::string subject;    // UTF-8, one line
  std::string body;       // UTF-8; '\n' or "\r\n" line ends
  std::string message_id;  // "<...>"
  absl::Time date;
};

// The whole message with CRLF line ends, ready for SMTP DATA. INVALID_ARGUMENT for an invalid
// address, a subject or name with CR/LF/NUL, a body that is not UTF-8, or a bad message id.
absl::StatusOr<std::string> BuildMessage(const MailMessage& message);

// True when `s` is well-formed UTF-8.
bool IsValidUtf8(absl::string_view s);

}  // namespace anken::scheduler
