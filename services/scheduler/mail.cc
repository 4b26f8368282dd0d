#include "services/scheduler/mail.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "services/scheduler/schedule.h"

namespace anken::scheduler {
namespace {

constexpr absl::string_view kWordPrefix = "=?UTF-8?B?";
constexpr absl::string_view kWordSuffix = "?=";
// RFC 2047: an encoded-word is at most 75 characters, a line holding one at most 76.
constexpr size_t kMaxWordLength = 75;
constexpr size_t kMaxLineLength = 76;
constexpr size_t kBodyLineLength = 76;

bool HasControl(absl::string_view s) {
  for (char c : s) {
    if (c == '\r' || c == '\n' || c == '\0') return true;
  }
  return false;
}

// Length of the UTF-8 sequence starting with `lead`, or 0 when it cannot start one.
size_t SequenceLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0 && lead >= 0xC2) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

bool IsPrintableAscii(absl::string_view s) {
  for (char c : s) {
    if (c < 0x20 || c > 0x7E) return false;
  }
  return true;
}

bool IsDomainLabelChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-';
}

}  // namespace

bool IsValidUtf8(absl::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char lead = static_cast<unsigned char>(s[i]);
    const size_t n = SequenceLength(lead);
    if (n == 0 || i + n > s.size()) return false;
    uint32_t cp = n == 1 ? lead : lead & (0x7F >> n);
    for (size_t k = 1; k < n; ++k) {
      const unsigned char c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    // Overlong forms, surrogates and values beyond U+10FFFF.
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n;
  }
  return true;
}

bool IsValidMailAddress(absl::string_view address) {
  if (address.size() < 3 || address.size() > 254) return false;
  const size_t at = address.find('@');
  if (at == absl::string_view::npos || at == 0 || at + 1 >= address.size()) return false;
  if (address.find('@', at + 1) != absl::string_view::npos) return false;
  const absl::string_view local = address.substr(0, at);
  const absl::string_view domain = address.substr(at + 1);
  if (local.size() > 64) return false;
  for (char c : local) {
    const bool ok = absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
                    absl::string_view("!#$%&'*+-/=?^_`{|}~.").find(c) != absl::string_view::npos;
    if (!ok) return false;
  }
  if (local.front() == '.' || local.back() == '.' || absl::StrContains(local, "..")) return false;
  std::vector<absl::string_view> labels = absl::StrSplit(domain, '.');
  if (labels.size() < 2) return false;
  for (absl::string_view label : labels) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!IsDomainLabelChar(c)) return false;
    }
  }
  return true;
}

std::string EncodeHeaderWord(absl::string_view text, size_t first_line_used) {
  if (IsPrintableAscii(text) && text.size() <= 60 && !absl::StrContains(text, "=?")) {
    return std::string(text);
  }
  std::vector<std::string> words;
  size_t start = 0;
  while (start < text.size()) {
    // Room on this line: the first continues after `first_line_used`, the others after the
    // folding space. Base64 comes in groups of 4 characters per 3 bytes.
    const size_t used = words.empty() ? first_line_used : 1;
    const size_t room = std::min(kMaxWordLength, kMaxLineLength - std::min(used, size_t{40}));
    const size_t max_raw = (room - kWordPrefix.size() - kWordSuffix.size()) / 4 * 3;
    size_t end = start;
    // Take whole characters while they fit; a malformed byte counts as one character.
    while (end < text.size()) {
      size_t n = SequenceLength(static_cast<unsigned char>(text[end]));
      if (n == 0 || end + n > text.size()) n = 1;
      if (end + n - start > max_raw) break;
      end += n;
    }
    words.push_back(absl::StrCat(kWordPrefix, absl::Base64Escape(text.substr(start, end - start)),
                                 kWordSuffix));
    start = end;
  }
  return absl::StrJoin(words, "\r\n ");
}

std::string MailDate(absl::Time t) {
  return absl::FormatTime("%a, %d %b %Y %H:%M:%S %z", t, TokyoZone());
}

std::string MessageIdFrom(absl::string_view digest_hex, absl::string_view domain) {
  return absl::StrCat("<", digest_hex.substr(0, 32), "@", domain, ">");
}

std::string DomainOf(absl::string_view address) {
  const size_t at = address.rfind('@');
  if (at == absl::string_view::npos) return std::string(address);
  return std::string(address.substr(at + 1));
}

absl::StatusOr<std::string> BuildMessage(const MailMessage& m) {
  if (!IsValidMailAddress(m.from_address)) {
    return absl::InvalidArgumentError("the sender address is not a valid mail address");
  }
  if (!IsValidMailAddress(m.to_address)) {
    return absl::InvalidArgumentError("the recipient is not a valid mail address");
  }
  if (HasControl(m.subject) || HasControl(m.from_name)) {
    return absl::InvalidArgumentError("the subject and sender name must be one line");
  }
  if (!IsValidUtf8(m.subject) || !IsValidUtf8(m.from_name) || !IsValidUtf8(m.body)) {
    return absl::InvalidArgumentError("the subject, sender name and body must be UTF-8");
  }
  if (m.message_id.size() < 5 || m.message_id.front() != '<' || m.message_id.back() != '>' ||
      HasControl(m.message_id) || !IsPrintableAscii(m.message_id) ||
      absl::StrContains(m.message_id, " ")) {
    return absl::InvalidArgumentError("the message id must be <...> without spaces");
  }
  std::string out;
  absl::StrAppend(&out, "Date: ", MailDate(m.date), "\r\n");
  if (m.from_name.empty()) {
    absl::StrAppend(&out, "From: <", m.from_address, ">\r\n");
  } else {
    // The address goes on its own folded line, so no line outgrows the limit.
    absl::StrAppend(&out, "From: ", EncodeHeaderWord(m.from_name, 6), "\r\n <", m.from_address,
                    ">\r\n");
  }
  absl::StrAppend(&out, "To: <", m.to_address, ">\r\n");
  absl::StrAppend(&out, "Subject: ", EncodeHeaderWord(m.subject, 9), "\r\n");
  absl::StrAppend(&out, "Message-ID: ", m.message_id, "\r\n");
  absl::StrAppend(&out, "MIME-Version: 1.0\r\n");
  absl::StrAppend(&out, "Content-Type: text/plain; charset=UTF-8\r\n");
  absl::StrAppend(&out, "Content-Transfer-Encoding: base64\r\n");
  absl::StrAppend(&out, "\r\n");
  // Canonical text: CRLF line ends before encoding (RFC 2046 4.1.1).
  std::string body = absl::StrReplaceAll(m.body, {{"\r\n", "\n"}});
  body = absl::StrReplaceAll(body, {{"\n", "\r\n"}});
  const std::string encoded = absl::Base64Escape(body);
  for (size_t i = 0; i < encoded.size(); i += kBodyLineLength) {
    absl::StrAppend(&out, encoded.substr(i, kBodyLineLength), "\r\n");
  }
  return out;
}

}  // namespace anken::scheduler
