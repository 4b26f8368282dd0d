#include "services/customer/customer_rules.h"

#include "common/json/json_text.h"

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace anken::customer {
namespace {

// ---------------------------------------------------------------------------------------------
// UTF-8. Text arrives from gRPC, CSV files and people; a stray byte must survive normalisation
// unchanged rather than vanish or abort, so a byte that does not start a valid sequence is
// carried as a "code point" above Unicode (kRawByte + byte) and written back as that byte.

constexpr char32_t kRawByte = 0x110000;

bool IsCont(unsigned char c) { return (c & 0xC0) == 0x80; }

// Decodes the code point at text[*pos] and advances *pos past it. Overlong forms, surrogates
// and values above U+10FFFF are invalid and come back as one raw byte.
char32_t DecodeNext(absl::string_view text, size_t* pos) {
  const size_t i = *pos;
  const size_t n = text.size();
  const auto b = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c0 = b(i);
  if (c0 < 0x80) {
    *pos = i + 1;
    return c0;
  }
  if (c0 >= 0xC2 && c0 <= 0xDF && i + 1 < n && IsCont(b(i + 1))) {
    *pos = i + 2;
    return (char32_t{c0 & 0x1Fu} << 6) | (b(i + 1) & 0x3Fu);
  }
  if (c0 >= 0xE0 && c0 <= 0xEF && i + 2 < n && IsCont(b(i + 1)) && IsCont(b(i + 2))) {
    const unsigned char c1 = b(i + 1);
    const bool ok = (c0 == 0xE0) ? c1 >= 0xA0 : (c0 == 0xED) ? c1 <= 0x9F : true;
    if (ok) {
      *pos = i + 3;
      return (char32_t{c0 & 0x0Fu} << 12) | (char32_t{c1 & 0x3Fu} << 6) | (b(i + 2) & 0x3Fu);
    }
  }
  if (c0 >= 0xF0 && c0 <= 0xF4 && i + 3 < n && IsCont(b(i + 1)) && IsCont(b(i + 2)) &&
      IsCont(b(i + 3))) {
    const unsigned char c1 = b(i + 1);
    const bool ok = (c0 == 0xF0) ? c1 >= 0x90 : (c0 == 0xF4) ? c1 <= 0x8F : true;
    if (ok) {
      *pos = i + 4;
      return (char32_t{c0 & 0x07u} << 18) | (char32_t{c1 & 0x3Fu} << 12) |
             (char32_t{b(i + 2) & 0x3Fu} << 6) | (b(i + 3) & 0x3Fu);
    }
  }
  *pos = i + 1;
  return kRawByte + c0;
}

std::vector<char32_t> Decode(absl::string_view text) {
  std::vector<char32_t> out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) out.push_back(DecodeNext(text, &pos));
  return out;
}

void AppendUtf8(char32_t cp, std::string* out) {
  if (cp >= kRawByte) {
    out->push_back(static_cast<char>(cp - kRawByte));
  } else if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string Encode(const std::vector<char32_t>& cps) {
  std::string out;
  out.reserve(cps.size() * 3);
  for (char32_t cp : cps) AppendUtf8(cp, &out);
  return out;
}

// Characters, not bytes: limits are stated to people in characters.
size_t CharCount(absl::string_view text) {
  size_t count = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    DecodeNext(text, &pos);
    ++count;
  }
  return count;
}

bool IsSpace(char32_t cp) {
  return cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || cp == 0xA0 || cp == 0x3000;
}

// Leading and trailing white space, including the full-width space U+3000 that Japanese IMEs
// type, and the no-break space that copy-paste from web pages brings.
absl::string_view TrimSpace(absl::string_view text) {
  size_t begin = text.size();
  size_t end = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t start = pos;
    if (!IsSpace(DecodeNext(text, &pos))) {
      if (begin == text.size()) begin = start;
      end = pos;
    }
  }
  if (begin >= end) return text.substr(0, 0);
  return text.substr(begin, end - begin);
}

// Hyphens and dashes people use in numbers (but not the long vowel mark ー, which is part of
// words such as コーヒー).
bool IsDash(char32_t cp) {
  return cp == '-' || (cp >= 0x2010 && cp <= 0x2015) || cp == 0x2043 || cp == 0x2212 ||
         cp == 0xFE63 || cp == 0xFF0D;
}

// ---------------------------------------------------------------------------------------------
// Kana width.

// U+FF61..U+FF9F in order: ｡｢｣､･ｦｧｨｩｪｫｬｭｮｯｰｱ…ﾝﾞﾟ.
constexpr char16_t kHalfWidthKana[] = {
    0x3002, 0x300C, 0x300D, 0x3001, 0x30FB,  // ｡｢｣､･
    0x30F2,                                  // ｦ
    0x30A1, 0x30A3, 0x30A5, 0x30A7, 0x30A9,  // ｧｨｩｪｫ
    0x30E3, 0x30E5, 0x30E7, 0x30C3,          // ｬｭｮｯ
    0x30FC,                                  // ｰ
    0x30A2, 0x30A4, 0x30A6, 0x30A8, 0x30AA,  // ｱｲｳｴｵ
    0x30AB, 0x30AD, 0x30AF, 0x30B1, 0x30B3,  // ｶｷｸｹｺ
    0x30B5, 0x30B7, 0x30B9, 0x30BB, 0x30BD,  // ｻｼｽｾｿ
    0x30BF, 0x30C1, 0x30C4, 0x30C6, 0x30C8,  // ﾀﾁﾂﾃﾄ
    0x30CA, 0x30CB, 0x30CC, 0x30CD, 0x30CE,  // ﾅﾆﾇﾈﾉ
    0x30CF, 0x30D2, 0x30D5, 0x30D8, 0x30DB,  // ﾊﾋﾌﾍﾎ
    0x30DE, 0x30DF, 0x30E0, 0x30E1, 0x30E2,  // ﾏﾐﾑﾒﾓ
    0x30E4, 0x30E6, 0x30E8,                  // ﾔﾕﾖ
    0x30E9, 0x30EA, 0x30EB, 0x30EC, 0x30ED,  // ﾗﾘﾙﾚﾛ
    0x30EF, 0x30F3,                          // ﾜﾝ
    0x309B, 0x309C,                          // ﾞﾟ (alone: the spacing marks ゛゜)
};
static_assert(sizeof(kHalfWidthKana) / sizeof(kHalfWidthKana[0]) == 0xFF9F - 0xFF61 + 1,
              "one entry per half-width katakana code point");

constexpr char32_t kHalfVoicedMark = 0xFF9E;      // ﾞ
constexpr char32_t kHalfSemiVoicedMark = 0xFF9F;  // ﾟ

bool IsHaRow(char32_t cp) {
  return cp == 0x30CF || cp == 0x30D2 || cp == 0x30D5 || cp == 0x30D8 || cp == 0x30DB;
}

// The voiced form (カ -> ガ) of a full-width katakana, or 0 when it has none.
char32_t Voiced(char32_t cp) {
  // カ..ト: the voiceable ones sit on odd offsets (カ30AB ガ30AC キ30AD ...), except that ッ
  // (30C3) shifts ツ テ ト to even code points.
  if (cp >= 0x30AB && cp <= 0x30C1 && (cp - 0x30AB) % 2 == 0) return cp + 1;
  if (cp == 0x30C4 || cp == 0x30C6 || cp == 0x30C8) return cp + 1;
  if (IsHaRow(cp)) return cp + 1;
  if (cp == 0x30A6) return 0x30F4;  // ウ -> ヴ
  if (cp == 0x30EF) return 0x30F7;  // ワ -> ヷ
  if (cp == 0x30F2) return 0x30FA;  // ヲ -> ヺ
  return 0;
}

char32_t SemiVoiced(char32_t cp) { return IsHaRow(cp) ? cp + 2 : 0; }

std::vector<char32_t> NormalizeWidthCps(absl::string_view text) {
  std::vector<char32_t> out;
  out.reserve(text.size());
  for (char32_t cp : Decode(text)) {
    if (cp >= 0xFF61 && cp <= 0xFF9F) {
      if ((cp == kHalfVoicedMark || cp == kHalfSemiVoicedMark) && !out.empty()) {
        const char32_t combined =
            cp == kHalfVoicedMark ? Voiced(out.back()) : SemiVoiced(out.back());
        if (combined != 0) {
          out.back() = combined;
          continue;
        }
      }
      out.push_back(kHalfWidthKana[cp - 0xFF61]);
    } else if (cp >= 0xFF01 && cp <= 0xFF5E) {
      out.push_back(cp - 0xFEE0);
    } else if (cp == 0x3000) {
      out.push_back(' ');
    } else {
      out.push_back(cp);
    }
  }
  return out;
}

bool IsKatakanaCp(char32_t cp) { return cp >= 0x30A1 && cp <= 0x30FE; }

constexpr std::array<absl::string_view, 47> kPrefectures = {
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県",
    "茨城県", "栃木県", "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県",
    "新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県", "岐阜県",
    "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府", "兵庫県",
    "奈良県", "和歌山県", "鳥取県", "島根県", "岡山県", "広島県", "山口県",
    "徳島県", "香川県", "愛媛県", "高知県", "福岡県", "佐賀県", "長崎県",
    "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県",
};

// ---------------------------------------------------------------------------------------------
// Validation helpers.

constexpr size_t kMaxNameChars = 200;
constexpr size_t kMaxLineChars = 200;
constexpr size_t kMaxSubjectChars = 200;
constexpr size_t kMaxBodyChars = 10000;

class Errors {
 public:
  explicit Errors(absl::string_view prefix) : prefix_(prefix) {}
  void Add(absl::string_view field, absl::string_view description, absl::string_view reason) {
    errors_.push_back(FieldError{absl::StrCat(prefix_, ".", field), std::string(description),
                                 std::string(reason)});
  }
  std::vector<FieldError> Take() { return std::move(errors_); }

 private:
  std::string prefix_;
  std::vector<FieldError> errors_;
};

void Trim(std::string* s) { *s = std::string(TrimSpace(*s)); }

void TrimAndNormalize(std::string* s) {
  const std::string normalized = NormalizeWidth(*s);
  *s = std::string(TrimSpace(normalized));
}

void CheckLength(const std::string& value, size_t max, absl::string_view field, Errors* errors) {
  if (CharCount(value) > max) {
    errors->Add(field, absl::StrCat("must be at most ", max, " characters"), "TOO_LONG");
  }
}

void CheckRequiredName(const std::string& value, absl::string_view field, Errors* errors) {
  if (value.empty()) {
    errors->Add(field, "is required", "REQUIRED");
  } else {
    CheckLength(value, kMaxNameChars, field, errors);
  }
}

void CheckKana(std::string* kana, absl::string_view field, Errors* errors) {
  TrimAndNormalize(kana);
  if (!kana->empty() && !IsKatakana(*kana)) {
    errors->Add(field, "must be katakana", "INVALID_KANA");
  } else {
    CheckLength(*kana, kMaxNameChars, field, errors);
  }
}

void CheckPhone(std::string* phone, absl::string_view field, Errors* errors) {
  TrimAndNormalize(phone);
  if (!phone->empty() && !IsValidPhone(*phone)) {
    errors->Add(field, "must be a phone number (6 to 20 digits, hyphens allowed)",
                "INVALID_PHONE");
  }
}

void CheckEmail(std::string* email, absl::string_view field, Errors* errors) {
  TrimAndNormalize(email);
  if (!email->empty() && !IsValidEmail(*email)) {
    errors->Add(field, "must be an e-mail address", "INVALID_EMAIL");
  }
}

void CheckRange(int value, int lo, int hi, absl::string_view field, Errors* errors) {
  if (value < lo || value > hi) {
    errors->Add(field, absl::StrCat("must be between ", lo, " and ", hi), "OUT_OF_RANGE");
  }
}

// ---------------------------------------------------------------------------------------------
// JSON for audit records.




// One audited field: its API name, its value as JSON, and whether a creation record leaves it
// out as empty.
struct JsonField {
  std::string key;
  std::string value;
  bool empty;
};

JsonField Str(absl::string_view key, const std::string& value) {
  return {std::string(key), json::String(value), value.empty()};
}
JsonField Int(absl::string_view key, int64_t value) {
  return {std::string(key), absl::StrCat(value), value == 0};
}
JsonField Bool(absl::string_view key, bool value) {
  return {std::string(key), value ? "true" : "false", false};
}
JsonField Enum(absl::string_view key, absl::string_view name, int value) {
  return {std::string(key), name.empty() ? absl::StrCat(value) : json::String(name), false};
}

absl::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kCorporation: return "CORPORATION";
    case Kind::kSoleProprietor: return "SOLE_PROPRIETOR";
    case Kind::kIndividual: return "INDIVIDUAL";
  }
  return "";
}

absl::string_view LifecycleName(Lifecycle lifecycle) {
  switch (lifecycle) {
    case Lifecycle::kLead: return "LEAD";
    case Lifecycle::kActive: return "ACTIVE";
    case Lifecycle::kInactive: return "INACTIVE";
  }
  return "";
}

absl::string_view ChannelName(InquiryChannel channel) {
  switch (channel) {
    case InquiryChannel::kPhone: return "PHONE";
    case InquiryChannel::kMail: return "MAIL";
    case InquiryChannel::kWeb: return "WEB";
    case InquiryChannel::kVisit: return "VISIT";
  }
  return "";
}

absl::string_view StatusName(InquiryStatus status) {
  switch (status) {
    case InquiryStatus::kOpen: return "OPEN";
    case InquiryStatus::kInProgress: return "IN_PROGRESS";
    case InquiryStatus::kResolved: return "RESOLVED";
    case InquiryStatus::kClosed: return "CLOSED";
  }
  return "";
}

std::vector<JsonField> Fields(const Customer& c) {
  const BillingTerms& t = c.billing_terms;
  return {
      Int("id", c.id),
      Str("code", c.code),
      Str("name", c.name),
      Str("name_kana", c.name_kana),
      Enum("kind", KindName(c.kind), static_cast<int>(c.kind)),
      Str("postal_code", c.postal_code),
      Str("prefecture", c.prefecture),
      Str("address_line1", c.address_line1),
      Str("address_line2", c.address_line2),
      Str("phone", c.phone),
      Str("email", c.email),
      Str("corporate_number", c.corporate_number),
      Str("invoice_registration_number", c.invoice_registration_number),
      {"billing_terms",
       absl::StrCat("{\"closing_day\":", t.closing_day,
                    ",\"payment_month_offset\":", t.payment_month_offset,
                    ",\"payment_day\":", t.payment_day, "}"),
       false},
      Enum("lifecycle", LifecycleName(c.lifecycle), static_cast<int>(c.lifecycle)),
      Bool("is_customer", c.is_customer),
      Bool("is_partner", c.is_partner),
      // A partner's rate of 0 is a real value; a non-partner's is just the default.
      {"partner.commission_rate_bp", absl::StrCat(c.partner.commission_rate_bp),
       c.partner.commission_rate_bp == 0 && !c.is_partner},
      Str("partner.notification_email", c.partner.notification_email),
      Str("partner.report_contact_name", c.partner.report_contact_name),
      Str("partner.report_contact_email", c.partner.report_contact_email),
      Str("memo", c.memo),
      {"convert_time", c.convert_time ? json::Time(*c.convert_time) : "null",
       !c.convert_time.has_value()},
  };
}

std::vector<JsonField> Fields(const Contact& c) {
  return {
      Int("id", c.id),
      Int("customer_id", c.customer_id),
      Str("name", c.name),
      Str("name_kana", c.name_kana),
      Str("department", c.department),
      Str("title", c.title),
      Str("email", c.email),
      Str("phone", c.phone),
      Bool("primary", c.primary),
  };
}

std::vector<JsonField> Fields(const Inquiry& i) {
  return {
      Int("id", i.id),
      Int("customer_id", i.customer_id),
      Int("contact_id", i.contact_id),
      Enum("channel", ChannelName(i.channel), static_cast<int>(i.channel)),
      Str("subject", i.subject),
      Str("body", i.body),
      Enum("status", StatusName(i.status), static_cast<int>(i.status)),
      Str("assignee", i.assignee),
  };
}

std::string ResponsesJson(const std::vector<InquiryResponse>& responses, size_t from) {
  std::string out = "[";
  for (size_t k = from; k < responses.size(); ++k) {
    const InquiryResponse& r = responses[k];
    if (k > from) out.push_back(',');
    absl::StrAppend(&out, "{\"id\":", r.id, ",\"responder\":", json::String(r.responder),
                    ",\"response_time\":", json::Time(r.response_time),
                    ",\"body\":", json::String(r.body), "}");
  }
  out.push_back(']');
  return out;
}

bool SameResponse(const InquiryResponse& a, const InquiryResponse& b) {
  return a.id == b.id && a.responder == b.responder && a.response_time == b.response_time &&
         a.body == b.body;
}

class JsonObjectWriter {
 public:
  void Add(absl::string_view key, absl::string_view value) {
    if (out_.size() > 1) out_.push_back(',');
    out_ += json::String(key);
    out_.push_back(':');
    out_.append(value.data(), value.size());
  }
  std::string Finish() { return out_ + "}"; }

 private:
  std::string out_ = "{";
};

void Diff(const std::vector<JsonField>& before, const std::vector<JsonField>& after,
          JsonObjectWriter* writer) {
  for (size_t k = 0; k < before.size(); ++k) {
    if (before[k].value != after[k].value) {
      writer->Add(before[k].key,
                  absl::StrCat("{\"old\":", before[k].value, ",\"new\":", after[k].value, "}"));
    }
  }
}

void Created(const std::vector<JsonField>& fields, JsonObjectWriter* writer) {
  for (const JsonField& f : fields) {
    if (!f.empty) writer->Add(f.key, absl::StrCat("{\"new\":", f.value, "}"));
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------

std::string NormalizeWidth(absl::string_view text) { return Encode(NormalizeWidthCps(text)); }

std::string SearchKey(absl::string_view text) {
  std::vector<char32_t> out;
  for (char32_t cp : NormalizeWidthCps(text)) {
    if (IsSpace(cp) || IsDash(cp)) continue;
    if (cp >= 0x3041 && cp <= 0x3096) {
      cp += 0x60;  // hiragana -> katakana
    } else if (cp >= 'A' && cp <= 'Z') {
      cp += 'a' - 'A';
    }
    out.push_back(cp);
  }
  return Encode(out);
}

bool IsKatakana(absl::string_view text) {
  for (char32_t cp : NormalizeWidthCps(text)) {
    if (!IsKatakanaCp(cp) && cp != ' ') return false;
  }
  return true;
}

absl::optional<std::string> NormalizePostalCode(absl::string_view text) {
  std::vector<char32_t> cps = Decode(TrimSpace(NormalizeWidth(text)));
  size_t k = 0;
  if (k < cps.size() && cps[k] == 0x3012) {  // 〒
    ++k;
    while (k < cps.size() && IsSpace(cps[k])) ++k;
  }
  std::string digits;
  bool dash_seen = false;
  for (; k < cps.size(); ++k) {
    const char32_t cp = cps[k];
    if (cp >= '0' && cp <= '9') {
      digits.push_back(static_cast<char>(cp));
    } else if ((IsDash(cp) || cp == 0x30FC) && digits.size() == 3 && !dash_seen) {
      dash_seen = true;  // ー: an IME slip for the hyphen, common enough to accept
    } else {
      return absl::nullopt;
    }
  }
  if (digits.size() != 7) return absl::nullopt;
  return absl::StrCat(digits.substr(0, 3), "-", digits.substr(3));
}

bool IsPrefecture(absl::string_view text) {
  for (absl::string_view p : kPrefectures) {
    if (p == text) return true;
  }
  return false;
}

bool IsValidPhone(absl::string_view text) {
  if (!text.empty() && text[0] == '+') text.remove_prefix(1);
  int digits = 0;
  for (char c : text) {
    if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      ++digits;
    } else if (c != '-' && c != ' ' && c != '(' && c != ')') {
      return false;
    }
  }
  return digits >= 6 && digits <= 20;
}

bool IsValidEmail(absl::string_view text) {
  if (text.empty() || text.size() > 254) return false;
  const size_t at = text.find('@');
  if (at == absl::string_view::npos || text.find('@', at + 1) != absl::string_view::npos) {
    return false;
  }
  const absl::string_view local = text.substr(0, at);
  const absl::string_view domain = text.substr(at + 1);
  if (local.empty() || local.size() > 64 || local.front() == '.' || local.back() == '.' ||
      local.find("..") != absl::string_view::npos) {
    return false;
  }
  for (char c : local) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F || absl::string_view("(),:;<>[\\]\"").find(c) !=
                                      absl::string_view::npos) {
      return false;
    }
  }
  // Host names only: at least two labels, letters/digits/hyphens, a letter-only TLD.
  int labels = 0;
  absl::string_view rest = domain;
  absl::string_view label;
  while (true) {
    const size_t dot = rest.find('.');
    label = rest.substr(0, dot);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
    ++labels;
    if (dot == absl::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  if (labels < 2 || label.size() < 2) return false;
  for (char c : label) {
    if (!absl::ascii_isalpha(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool IsValidCustomerCode(absl::string_view text) {
  if (text.empty() || text.size() > 20) return false;
  for (char c : text) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
      return false;
    }
  }
  return true;
}

std::vector<FieldError> NormalizeAndValidate(Customer& customer, absl::string_view prefix) {
  Errors errors(prefix);
  Customer& c = customer;

  TrimAndNormalize(&c.code);
  if (!c.code.empty() && !IsValidCustomerCode(c.code)) {
    errors.Add("code", "must be 1 to 20 of A-Z a-z 0-9 - _", "INVALID_CUSTOMER_CODE");
  }
  Trim(&c.name);
  CheckRequiredName(c.name, "name", &errors);
  CheckKana(&c.name_kana, "name_kana", &errors);
  const bool kind_valid = c.kind == Kind::kCorporation || c.kind == Kind::kSoleProprietor ||
                          c.kind == Kind::kIndividual;
  if (!kind_valid) {
    errors.Add("kind", "must be CORPORATION, SOLE_PROPRIETOR or INDIVIDUAL", "INVALID_KIND");
  }
  Trim(&c.postal_code);
  if (!c.postal_code.empty()) {
    if (absl::optional<std::string> postal = NormalizePostalCode(c.postal_code)) {
      c.postal_code = *postal;
    } else {
      errors.Add("postal_code", "must be a postal code such as 100-0001", "INVALID_POSTAL_CODE");
    }
  }
  Trim(&c.prefecture);
  if (!c.prefecture.empty() && !IsPrefecture(c.prefecture)) {
    errors.Add("prefecture", "must be one of the 47 prefectures written in full, e.g. 東京都",
               "INVALID_PREFECTURE");
  }
  Trim(&c.address_line1);
  CheckLength(c.address_line1, kMaxLineChars, "address_line1", &errors);
  Trim(&c.address_line2);
  CheckLength(c.address_line2, kMaxLineChars, "address_line2", &errors);
  CheckPhone(&c.phone, "phone", &errors);
  CheckEmail(&c.email, "email", &errors);

  TrimAndNormalize(&c.corporate_number);
  const bool corporation = c.kind == Kind::kCorporation;
  bool corporate_number_ok = false;
  if (!c.corporate_number.empty()) {
    if (!corporation && kind_valid) {  // with an unknown kind, the kind error says enough
      errors.Add("corporate_number", "only a corporation has a corporate number",
                 "CORPORATE_NUMBER_NOT_CORPORATION");
    } else if (!IsValidCorporateNumber(c.corporate_number)) {
      errors.Add("corporate_number", "must be 13 digits with a valid check digit",
                 "INVALID_CORPORATE_NUMBER");
    } else {
      corporate_number_ok = corporation;
    }
  }
  TrimAndNormalize(&c.invoice_registration_number);
  if (!c.invoice_registration_number.empty() && c.invoice_registration_number[0] == 't') {
    c.invoice_registration_number[0] = 'T';
  }
  if (!c.invoice_registration_number.empty()) {
    if (!IsValidInvoiceRegistrationNumber(c.invoice_registration_number)) {
      errors.Add("invoice_registration_number",
                 "must be T followed by 13 digits with a valid check digit",
                 "INVALID_REGISTRATION_NUMBER");
    } else if (corporation && corporate_number_ok &&
               c.invoice_registration_number != absl::StrCat("T", c.corporate_number)) {
      errors.Add("invoice_registration_number",
                 "a corporation's registration number is T followed by its corporate number",
                 "REGISTRATION_NUMBER_MISMATCH");
    }
  }

  const BillingTerms& t = c.billing_terms;
  CheckRange(t.closing_day, 0, 28, "billing_terms.closing_day", &errors);
  CheckRange(t.payment_month_offset, 0, 12, "billing_terms.payment_month_offset", &errors);
  CheckRange(t.payment_day, 0, 28, "billing_terms.payment_day", &errors);
  // Paying in the closing month itself only makes sense on or after the closing day.
  if (t.payment_month_offset == 0 && t.payment_day != 0 &&
      (t.closing_day == 0 || t.payment_day < t.closing_day)) {
    errors.Add("billing_terms.payment_day",
               "in the closing month the payment day must not precede the closing day",
               "PAYMENT_BEFORE_CLOSING");
  }

  if (c.lifecycle != Lifecycle::kLead && c.lifecycle != Lifecycle::kActive &&
      c.lifecycle != Lifecycle::kInactive) {
    errors.Add("lifecycle", "must be LEAD, ACTIVE or INACTIVE", "INVALID_LIFECYCLE");
  }
  if (!c.is_customer && !c.is_partner) {
    errors.Add("is_customer", "a customer needs at least one role (customer or partner)",
               "ROLE_REQUIRED");
  }

  PartnerInfo& p = c.partner;
  Trim(&p.report_contact_name);
  TrimAndNormalize(&p.notification_email);
  TrimAndNormalize(&p.report_contact_email);
  if (c.is_partner) {
    CheckRange(p.commission_rate_bp, 0, 10000, "partner.commission_rate_bp", &errors);
    if (p.notification_email.empty()) {
      errors.Add("partner.notification_email", "is required for a partner", "REQUIRED");
    } else if (!IsValidEmail(p.notification_email)) {
      errors.Add("partner.notification_email", "must be an e-mail address", "INVALID_EMAIL");
    }
    CheckLength(p.report_contact_name, kMaxNameChars, "partner.report_contact_name", &errors);
    if (!p.report_contact_email.empty() && !IsValidEmail(p.report_contact_email)) {
      errors.Add("partner.report_contact_email", "must be an e-mail address", "INVALID_EMAIL");
    }
  }
  Trim(&c.memo);
  CheckLength(c.memo, kMaxBodyChars, "memo", &errors);
  return errors.Take();
}

std::vector<FieldError> NormalizeAndValidate(Contact& contact, absl::string_view prefix) {
  Errors errors(prefix);
  Trim(&contact.name);
  CheckRequiredName(contact.name, "name", &errors);
  CheckKana(&contact.name_kana, "name_kana", &errors);
  Trim(&contact.department);
  CheckLength(contact.department, kMaxLineChars, "department", &errors);
  Trim(&contact.title);
  CheckLength(contact.title, kMaxLineChars, "title", &errors);
  CheckEmail(&contact.email, "email", &errors);
  CheckPhone(&contact.phone, "phone", &errors);
  return errors.Take();
}

std::vector<FieldError> NormalizeAndValidate(Inquiry& inquiry, absl::string_view prefix) {
  Errors errors(prefix);
  if (inquiry.customer_id <= 0) errors.Add("customer_id", "is required", "REQUIRED");
  if (inquiry.contact_id < 0) {
    errors.Add("contact_id", "must be a contact id or 0 for none", "INVALID_CONTACT");
  }
  const InquiryChannel ch = inquiry.channel;
  if (ch != InquiryChannel::kPhone && ch != InquiryChannel::kMail && ch != InquiryChannel::kWeb &&
      ch != InquiryChannel::kVisit) {
    errors.Add("channel", "must be PHONE, MAIL, WEB or VISIT", "INVALID_CHANNEL");
  }
  Trim(&inquiry.subject);
  if (inquiry.subject.empty()) {
    errors.Add("subject", "is required", "REQUIRED");
  } else {
    CheckLength(inquiry.subject, kMaxSubjectChars, "subject", &errors);
  }
  Trim(&inquiry.body);
  CheckLength(inquiry.body, kMaxBodyChars, "body", &errors);
  const InquiryStatus st = inquiry.status;
  if (st != InquiryStatus::kOpen && st != InquiryStatus::kInProgress &&
      st != InquiryStatus::kResolved && st != InquiryStatus::kClosed) {
    errors.Add("status", "must be OPEN, IN_PROGRESS, RESOLVED or CLOSED", "INVALID_STATUS");
  }
  Trim(&inquiry.assignee);
  CheckLength(inquiry.assignee, kMaxNameChars, "assignee", &errors);
  return errors.Take();
}

bool IsAllowedInquiryTransition(InquiryStatus from, InquiryStatus to) {
  const auto valid = [](InquiryStatus s) {
    return s == InquiryStatus::kOpen || s == InquiryStatus::kInProgress ||
           s == InquiryStatus::kResolved || s == InquiryStatus::kClosed;
  };
  if (!valid(from) || !valid(to)) return false;
  if (static_cast<int>(to) >= static_cast<int>(from)) return true;  // stay or move forward
  return to == InquiryStatus::kOpen &&
         (from == InquiryStatus::kResolved || from == InquiryStatus::kClosed);
}

std::string ChangeJson(const Customer& before, const Customer& after) {
  JsonObjectWriter writer;
  Diff(Fields(before), Fields(after), &writer);
  return writer.Finish();
}

std::string ChangeJson(const Contact& before, const Contact& after) {
  JsonObjectWriter writer;
  Diff(Fields(before), Fields(after), &writer);
  return writer.Finish();
}

std::string ChangeJson(const Inquiry& before, const Inquiry& after) {
  JsonObjectWriter writer;
  Diff(Fields(before), Fields(after), &writer);
  const auto& old_r = before.responses;
  const auto& new_r = after.responses;
  bool appended = new_r.size() >= old_r.size();
  for (size_t k = 0; appended && k < old_r.size(); ++k) {
    appended = SameResponse(old_r[k], new_r[k]);
  }
  if (appended) {
    if (new_r.size() > old_r.size()) {
      writer.Add("responses", absl::StrCat("{\"new\":", ResponsesJson(new_r, old_r.size()), "}"));
    }
  } else {
    // Responses are append-only, so this only shows up if a caller broke that rule.
    writer.Add("responses", absl::StrCat("{\"old\":", ResponsesJson(old_r, 0),
                                         ",\"new\":", ResponsesJson(new_r, 0), "}"));
  }
  return writer.Finish();
}

std::string CreationJson(const Customer& created) {
  JsonObjectWriter writer;
  Created(Fields(created), &writer);
  return writer.Finish();
}

std::string CreationJson(const Contact& created) {
  JsonObjectWriter writer;
  Created(Fields(created), &writer);
  return writer.Finish();
}

std::string CreationJson(const Inquiry& created) {
  JsonObjectWriter writer;
  Created(Fields(created), &writer);
  if (!created.responses.empty()) {
    writer.Add("responses", absl::StrCat("{\"new\":", ResponsesJson(created.responses, 0), "}"));
  }
  return writer.Finish();
}

}  // namespace anken::customer
