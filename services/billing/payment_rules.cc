#include "services/billing/payment_rules.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "common/status/domain_error.h"

namespace anken::billing {
namespace {

// Far beyond any real payment or invoice, and small enough that thousands of balances add up
// inside int64.
constexpr int64_t kMaxAmount = 999'999'999'999'999;

// ---------------------------------------------------------------------------------------------
// UTF-8 in and out. Payer names come from our own decoders, so a broken byte is rare; it
// becomes U+FFFD rather than stopping a whole import.

constexpr char32_t kReplacement = 0xFFFD;

char32_t DecodeNext(absl::string_view s, size_t* pos) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const size_t i = *pos;
  const unsigned char c0 = b(i);
  const auto cont = [&](size_t k) { return k < s.size() && (b(k) & 0xC0) == 0x80; };
  if (c0 < 0x80) {
    *pos = i + 1;
    return c0;
  }
  if (c0 >= 0xC2 && c0 <= 0xDF && cont(i + 1)) {
    *pos = i + 2;
    return (char32_t{c0 & 0x1Fu} << 6) | (b(i + 1) & 0x3Fu);
  }
  if (c0 >= 0xE0 && c0 <= 0xEF && cont(i + 1) && cont(i + 2)) {
    const char32_t cp =
        (char32_t{c0 & 0x0Fu} << 12) | (char32_t{b(i + 1) & 0x3Fu} << 6) | (b(i + 2) & 0x3Fu);
    if (cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF)) {
      *pos = i + 3;
      return cp;
    }
  }
  if (c0 >= 0xF0 && c0 <= 0xF4 && cont(i + 1) && cont(i + 2) && cont(i + 3)) {
    const char32_t cp = (char32_t{c0 & 0x07u} << 18) | (char32_t{b(i + 1) & 0x3Fu} << 12) |
                        (char32_t{b(i + 2) & 0x3Fu} << 6) | (b(i + 3) & 0x3Fu);
    if (cp >= 0x10000 && cp <= 0x10FFFF) {
      *pos = i + 4;
      return cp;
    }
  }
  *pos = i + 1;
  return kReplacement;
}

void AppendUtf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
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

std::string ToUtf8(const std::u32string& s) {
  std::string out;
  out.reserve(s.size() * 3);
  for (char32_t cp : s) AppendUtf8(cp, &out);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Folding: every way of writing the same kana name becomes one string of code points.

// U+FF61..U+FF9F in order: ｡｢｣､･ｦｧｨｩｪｫｬｭｮｯｰｱ…ﾝﾞﾟ as full width.
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

bool IsHaRow(char32_t cp) {
  return cp == 0x30CF || cp == 0x30D2 || cp == 0x30D5 || cp == 0x30D8 || cp == 0x30DB;
}

// The voiced form (カ → ガ) of a full-width katakana, or 0 when it has none.
char32_t Voiced(char32_t cp) {
  // カ..チ: the voiceable ones sit on odd code points (カ30AB ガ30AC ...); ッ (30C3) shifts
  // ツ テ ト to even ones.
  if (cp >= 0x30AB && cp <= 0x30C1 && (cp - 0x30AB) % 2 == 0) return cp + 1;
  if (cp == 0x30C4 || cp == 0x30C6 || cp == 0x30C8) return cp + 1;
  if (IsHaRow(cp)) return cp + 1;
  if (cp == 0x30A6) return 0x30F4;  // ウ → ヴ
  return 0;
}

char32_t SemiVoiced(char32_t cp) { return IsHaRow(cp) ? cp + 2 : 0; }

bool IsVoicedMark(char32_t cp) { return cp == 0xFF9E || cp == 0x309B || cp == 0x3099; }
bool IsSemiVoicedMark(char32_t cp) { return cp == 0xFF9F || cp == 0x309C || cp == 0x309A; }

// Small kana as the large ones banks print.
char32_t Enlarge(char32_t cp) {
  switch (cp) {
    case 0x30A1:
    case 0x30A3:
    case 0x30A5:
    case 0x30A7:
    case 0x30A9:  // ァィゥェォ
    case 0x30E3:
    case 0x30E5:
    case 0x30E7:  // ャュョ
      return cp + 1;
    case 0x30C3:
      return 0x30C4;  // ッ → ツ
    case 0x30EE:
      return 0x30EF;  // ヮ → ワ
    case 0x30F5:
      return 0x30AB;  // ヵ → カ
    case 0x30F6:
      return 0x30B1;  // ヶ → ケ
    default:
      return cp;
  }
}

// Dropped: they differ between the bank's print and what people type, and carry no name.
bool IsIgnorable(char32_t cp) {
  if (cp < 0x80) {
    const bool alnum = (cp >= '0' && cp <= '9') || (cp >= 'A' && cp <= 'Z');
    return !alnum && cp != '(' && cp != ')';
  }
  return cp == 0x00A0 || (cp >= 0x2010 && cp <= 0x2015) || cp == 0x2212 ||
         (cp >= 0x3000 && cp <= 0x3004) || (cp >= 0x3008 && cp <= 0x303F) || cp == 0x30FB ||
         cp == 0x30FC || cp == 0x309B || cp == 0x309C || cp == 0x3099 || cp == 0x309A ||
         cp == 0xFF70 || cp == kReplacement;
}

// The enclosed ideographs people paste for a legal form.
const char32_t* EnclosedForm(char32_t cp) {
  switch (cp) {
    case 0x3231:
      return U"(株)";
    case 0x3232:
      return U"(有)";
    case 0x3233:
      return U"(社)";
    case 0x3234:
      return U"(名)";
    case 0x3236:
      return U"(財)";
    case 0x323B:
      return U"(学)";
    case 0x323E:
      return U"(資)";
    default:
      return nullptr;
  }
}

std::u32string Fold(absl::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    char32_t cp = DecodeNext(text, &pos);
    if (IsVoicedMark(cp) || IsSemiVoicedMark(cp)) {
      if (!out.empty()) {
        const char32_t joined = IsVoicedMark(cp) ? Voiced(out.back()) : SemiVoiced(out.back());
        if (joined != 0) {
          out.back() = joined;
          continue;
        }
      }
      continue;  // a mark on nothing voiceable is noise
    }
    if (const char32_t* form = EnclosedForm(cp)) {
      out.append(form);
      continue;
    }
    if (cp >= 0xFF61 && cp <= 0xFF9F) {
      cp = kHalfWidthKana[cp - 0xFF61];
    } else if (cp >= 0xFF01 && cp <= 0xFF5E) {
      cp -= 0xFEE0;  // full-width ASCII
    } else if (cp >= 0x3041 && cp <= 0x3096) {
      cp += 0x60;  // hiragana → katakana
    }
    if (cp >= 'a' && cp <= 'z') cp -= 'a' - 'A';
    cp = Enlarge(cp);
    if (IsIgnorable(cp)) continue;
    out.push_back(cp);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Legal forms.

struct FormSpelling {
  std::u32string text;  // folded
  std::string family;   // "株式会社"
  bool bare = false;    // may stand without parentheses (spelled out, never an abbreviation)
};

struct FormSource {
  const char* family;
  std::vector<const char*> abbreviations;  // kana (全銀協 法人略語) and kanji, only with ( )
  std::vector<const char*> spelled;        // kanji and kana, also bare at the start or end
};

const std::vector<FormSpelling>& FormSpellings() {
  static const std::vector<FormSpelling>* const spellings = [] {
    const std::vector<FormSource> sources = {
        {"株式会社", {"カ", "株"}, {"株式会社", "カブシキガイシャ", "カブシキカイシャ"}},
        {"有限会社", {"ユ", "有"}, {"有限会社", "ユウゲンガイシャ", "ユウゲンカイシャ"}},
        {"合名会社", {"メ", "名"}, {"合名会社", "ゴウメイガイシャ", "ゴウメイカイシャ"}},
        {"合資会社", {"シ", "資"}, {"合資会社", "ゴウシガイシャ", "ゴウシカイシャ"}},
        {"合同会社", {"ド", "同"}, {"合同会社", "ゴウドウガイシャ", "ゴウドウカイシャ"}},
        {"医療法人",
         {"イ", "医"},
         {"医療法人社団", "医療法人財団", "社会医療法人", "医療法人", "イリョウホウジンシャダン",
          "イリョウホウジンザイダン", "イリョウホウジン"}},
        {"財団法人",
         {"ザイ", "財", "一財", "公財"},
         {"一般財団法人", "公益財団法人", "財団法人", "イッパンザイダンホウジン",
          "コウエキザイダンホウジン", "ザイダンホウジン"}},
        {"社団法人",
         {"シャ", "社", "一社", "公社"},
         {"一般社団法人", "公益社団法人", "社団法人", "イッパンシャダンホウジン",
          "コウエキシャダンホウジン", "シャダンホウジン"}},
        {"宗教法人", {"シュウ", "宗"}, {"宗教法人", "シュウキョウホウジン"}},
        {"学校法人", {"ガク", "学"}, {"学校法人", "ガッコウホウジン"}},
        {"社会福祉法人", {"フク", "福"}, {"社会福祉法人", "シャカイフクシホウジン"}},
        {"相互会社", {"ソ", "相"}, {"相互会社", "ソウゴガイシャ"}},
        {"更生保護法人", {"ホゴ"}, {"更生保護法人"}},
        {"特定非営利活動法人",
         {"トクヒ", "特非"},
         {"特定非営利活動法人", "NPO法人", "トクテイヒエイリカツドウホウジン"}},
        {"独立行政法人", {"ドク", "独"}, {"独立行政法人"}},
        {"地方独立行政法人", {"チドク", "地独"}, {"地方独立行政法人"}},
        {"弁護士法人", {"ベン", "弁"}, {"弁護士法人"}},
        {"中間法人", {"チュウ"}, {"有限責任中間法人", "無限責任中間法人"}},
        {"行政書士法人", {"ギョ"}, {"行政書士法人"}},
        {"司法書士法人", {"シホウ"}, {"司法書士法人"}},
        {"税理士法人", {"ゼイ", "税"}, {"税理士法人"}},
        {"大学法人", {"ダイ"}, {"国立大学法人", "公立大学法人"}},
        {"農事組合法人", {"ノウ"}, {"農事組合法人"}},
        {"社会保険労務士法人", {"ロウム"}, {"社会保険労務士法人"}},
        {"管理組合法人", {"カンリ"}, {"管理組合法人"}},
    };
    auto* out = new std::vector<FormSpelling>();
    for (const FormSource& s : sources) {
      for (const char* a : s.abbreviations) out->push_back({Fold(a), s.family, false});
      for (const char* a : s.spelled) out->push_back({Fold(a), s.family, true});
    }
    // Longest first: 一般社団法人 before 社団法人, ｼﾔ before ｼ.
    std::stable_sort(out->begin(), out->end(), [](const FormSpelling& a, const FormSpelling& b) {
      return a.text.size() > b.text.size();
    });
    return out;
  }();
  return *spellings;
}

bool StartsWith(const std::u32string& s, const std::u32string& p) {
  return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
}
bool EndsWith(const std::u32string& s, const std::u32string& p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}

struct Split {
  std::u32string before;  // the name before the form (empty when leading)
  std::u32string after;   // the name after the form (empty when trailing)
  std::string family;
  FormPosition position = FormPosition::kNone;
};

// Finds one legal form: leading first, then trailing, then middle; the longest spelling wins
// at each place. Nothing but a form (e.g. "ｶ)") comes back as a form with an empty name.
Split FindForm(const std::u32string& s) {
  const auto& spellings = FormSpellings();
  for (const FormSpelling& f : spellings) {
    const std::u32string paren = U"(" + f.text + U")";
    for (const std::u32string& p : {paren, f.text + U")"}) {
      if (StartsWith(s, p)) return {U"", s.substr(p.size()), f.family, FormPosition::kLeading};
    }
    if (f.bare && StartsWith(s, f.text)) {
      return {U"", s.substr(f.text.size()), f.family, FormPosition::kLeading};
    }
  }
  for (const FormSpelling& f : spellings) {
    const std::u32string paren = U"(" + f.text + U")";
    for (const std::u32string& p : {paren, U"(" + f.text}) {
      if (EndsWith(s, p) && s.size() > p.size()) {
        return {s.substr(0, s.size() - p.size()), U"", f.family, FormPosition::kTrailing};
      }
    }
    if (f.bare && EndsWith(s, f.text) && s.size() > f.text.size()) {
      return {s.substr(0, s.size() - f.text.size()), U"", f.family, FormPosition::kTrailing};
    }
  }
  for (const FormSpelling& f : spellings) {
    const std::u32string paren = U"(" + f.text + U")";
    const size_t at = s.find(paren);
    if (at != std::u32string::npos && at > 0 && at + paren.size() < s.size()) {
      return {s.substr(0, at), s.substr(at + paren.size()), f.family, FormPosition::kMiddle};
    }
  }
  return {s, U"", "", FormPosition::kNone};
}

std::string Unparenthesised(const std::u32string& s) {
  std::u32string out;
  out.reserve(s.size());
  for (char32_t cp : s) {
    if (cp != '(' && cp != ')') out.push_back(cp);
  }
  return ToUtf8(out);
}

std::string DescribeCandidates(const std::vector<int64_t>& ids) { return absl::StrJoin(ids, ", "); }

// ---------------------------------------------------------------------------------------------
// Invoice choice.

MatchResult Settle(const std::vector<OpenInvoice>& invoices, size_t count, int64_t fee) {
  MatchResult r;
  r.kind = fee > 0 ? MatchKind::kMatchedWithFee : MatchKind::kMatched;
  for (size_t i = 0; i < count; ++i) {
    Allocation a;
    a.invoice_id = invoices[i].id;
    a.amount = invoices[i].balance;
    a.settles = true;
    if (i + 1 == count) {
      a.fee = fee;
      a.amount -= fee;
    }
    r.allocations.push_back(a);
  }
  r.fee = fee;
  return r;
}

}  // namespace

PayerName NormalizePayerName(absl::string_view text) {
  const std::u32string folded = Fold(text);
  const Split split = FindForm(folded);
  PayerName out;
  out.body = Unparenthesised(split.before + split.after);
  if (out.body.empty()) {
    // A bare form ("ｶ)") names nobody; keep what was there as the key.
    out.key = Unparenthesised(folded);
    return out;
  }
  out.legal_form = split.family;
  out.position = split.position;
  const std::string before = Unparenthesised(split.before);
  const std::string after = Unparenthesised(split.after);
  switch (split.position) {
    case FormPosition::kLeading:
      out.key = absl::StrCat(split.family, after);
      break;
    case FormPosition::kTrailing:
      out.key = absl::StrCat(before, split.family);
      break;
    case FormPosition::kMiddle:
      out.key = absl::StrCat(before, "(", split.family, ")", after);
      break;
    case FormPosition::kNone:
      out.key = out.body;
      break;
  }
  return out;
}

std::string PayerKey(absl::string_view text) { return NormalizePayerName(text).key; }

PayerMatcher::PayerMatcher(const std::vector<CustomerName>& customers,
                           const std::map<std::string, int64_t>& learnt) {
  for (const CustomerName& c : customers) {
    const PayerName name = NormalizePayerName(c.name);
    const PayerName kana = NormalizePayerName(c.name_kana);
    // The registered name is authoritative for the form; the kana often leaves it out.
    const PayerName& form_source = name.legal_form.empty() ? kana : name;
    std::set<std::string> bodies;
    if (!name.body.empty()) bodies.insert(name.body);
    if (!kana.body.empty()) bodies.insert(kana.body);
    for (const std::string& body : bodies) {
      by_body_[body].push_back(Entry{c.customer_id, form_source.legal_form, form_source.position});
    }
  }
  for (const auto& [payer, customer_id] : learnt) {
    const std::string key = PayerKey(payer);
    if (key.empty() || customer_id <= 0) continue;
    std::vector<int64_t>& ids = learnt_[key];
    if (std::find(ids.begin(), ids.end(), customer_id) == ids.end()) ids.push_back(customer_id);
    std::sort(ids.begin(), ids.end());
  }
}

PayerMatcher::Match PayerMatcher::MatchPayer(absl::string_view payer_name) const {
  Match m;
  const PayerName payer = NormalizePayerName(payer_name);
  m.payer_key = payer.key;
  if (payer.body.empty()) {
    m.reason = UnmatchedReason::kNoPayerName;
    m.detail = "the payment carries no payer name";
    return m;
  }
  if (auto it = learnt_.find(payer.key); it != learnt_.end()) {
    if (it->second.size() == 1) {
      m.customer_id = it->second.front();
      m.source = CustomerMatchSource::kLearnt;
      m.detail = absl::StrCat("learnt mapping ", payer.key);
      return m;
    }
    m.reason = UnmatchedReason::kAmbiguousPayer;
    m.candidates = it->second;
    m.detail = absl::StrCat("the learnt mapping of ", payer.key,
                            " names several customers: ", DescribeCandidates(m.candidates));
    return m;
  }
  std::vector<const Entry*> fitting;
  if (auto it = by_body_.find(payer.body); it != by_body_.end()) {
    for (const Entry& e : it->second) {
      const bool contradicts =
          !payer.legal_form.empty() && !e.legal_form.empty() && payer.legal_form != e.legal_form;
      if (!contradicts) fitting.push_back(&e);
    }
  }
  const auto ids_of = [](const std::vector<const Entry*>& entries) {
    std::vector<int64_t> ids;
    for (const Entry* e : entries) ids.push_back(e->customer_id);
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    return ids;
  };
  std::vector<int64_t> ids = ids_of(fitting);
  if (ids.size() > 1 && !payer.legal_form.empty()) {
    // The form's position tells 株式会社山田 (ｶ)ﾔﾏﾀﾞ) from 山田株式会社 (ﾔﾏﾀﾞ(ｶ).
    std::vector<const Entry*> exact;
    for (const Entry* e : fitting) {
      if (e->legal_form == payer.legal_form && e->position == payer.position) exact.push_back(e);
    }
    std::vector<int64_t> exact_ids = ids_of(exact);
    if (exact_ids.size() == 1) ids = exact_ids;
  }
  if (ids.size() == 1) {
    m.customer_id = ids.front();
    m.source = CustomerMatchSource::kName;
    m.detail = absl::StrCat("name ", payer.key);
    return m;
  }
  if (ids.empty()) {
    m.reason = UnmatchedReason::kUnknownPayer;
    m.detail = absl::StrCat("no customer's name or kana fits ", payer.key);
    return m;
  }
  m.reason = UnmatchedReason::kAmbiguousPayer;
  m.candidates = ids;
  m.detail = absl::StrCat(payer.key, " fits several customers: ", DescribeCandidates(ids));
  return m;
}

void SortOldestFirst(std::vector<OpenInvoice>& invoices) {
  std::sort(invoices.begin(), invoices.end(), [](const OpenInvoice& a, const OpenInvoice& b) {
    return std::tie(a.due_date, a.issue_date, a.id) < std::tie(b.due_date, b.issue_date, b.id);
  });
}

absl::StatusOr<MatchResult> ChooseInvoices(int64_t amount, std::vector<OpenInvoice> invoices,
                                           int64_t fee_tolerance) {
  if (amount <= 0) return DomainInvalid("amount", "AMOUNT_NOT_POSITIVE", "must be > 0 yen");
  if (amount > kMaxAmount) {
    return DomainInvalid("amount", "AMOUNT_TOO_LARGE",
                         absl::StrCat("must be at most ", kMaxAmount, " yen"));
  }
  if (fee_tolerance < 0 || fee_tolerance > kMaxAmount) {
    return DomainInvalid("fee_tolerance", "INVALID_FEE_TOLERANCE",
                         "must be between 0 and the largest amount");
  }
  invoices.erase(std::remove_if(invoices.begin(), invoices.end(),
                                [](const OpenInvoice& i) { return i.balance <= 0; }),
                 invoices.end());
  int64_t total = 0;
  for (const OpenInvoice& inv : invoices) {
    if (inv.balance > kMaxAmount || __builtin_add_overflow(total, inv.balance, &total)) {
      return DomainInvalid("invoices", "AMOUNT_TOO_LARGE", "the open balances are too large");
    }
  }
  if (invoices.empty()) {
    MatchResult r;
    r.reason = UnmatchedReason::kNoOpenInvoices;
    r.detail = "the customer has no open invoice";
    return r;
  }
  SortOldestFirst(invoices);

  // 1. One invoice, exact.
  for (size_t i = 0; i < invoices.size(); ++i) {
    if (invoices[i].balance == amount) {
      std::vector<OpenInvoice> one = {invoices[i]};
      MatchResult r = Settle(one, 1, 0);
      r.detail = absl::StrCat("exact amount: invoice ", invoices[i].id);
      return r;
    }
  }
  // 2 and 4 share the prefix sums (balances are > 0, so they only grow).
  size_t exact_prefix = 0;
  size_t fee_prefix = 0;
  {
    int64_t cum = 0;
    for (size_t k = 1; k <= invoices.size(); ++k) {
      cum += invoices[k - 1].balance;  // no overflow: total fitted
      if (k < 2) continue;
      if (cum == amount && exact_prefix == 0) exact_prefix = k;
      if (cum > amount && cum - amount <= fee_tolerance && fee_prefix == 0) fee_prefix = k;
      if (cum > amount && cum - amount > fee_tolerance) break;
    }
  }
  if (exact_prefix != 0) {
    MatchResult r = Settle(invoices, exact_prefix, 0);
    r.detail = absl::StrCat(exact_prefix, " invoices oldest first, exact amount");
    return r;
  }
  // 3. One invoice, the shortfall a fee.
  for (size_t i = 0; i < invoices.size(); ++i) {
    const int64_t shortfall = invoices[i].balance - amount;
    if (shortfall > 0 && shortfall <= fee_tolerance) {
      std::vector<OpenInvoice> one = {invoices[i]};
      MatchResult r = Settle(one, 1, shortfall);
      r.detail = absl::StrCat("invoice ", invoices[i].id, " less a fee of ", shortfall,
                              " yen (tolerance ", fee_tolerance, ")");
      return r;
    }
  }
  // 4. Several invoices, the shortfall a fee on the newest of them.
  if (fee_prefix != 0) {
    int64_t cum = 0;
    for (size_t k = 0; k < fee_prefix; ++k) cum += invoices[k].balance;
    MatchResult r = Settle(invoices, fee_prefix, cum - amount);
    r.detail = absl::StrCat(fee_prefix, " invoices oldest first less a fee of ", cum - amount,
                            " yen (tolerance ", fee_tolerance, ")");
    return r;
  }
  // 5. More than everything open.
  if (amount > total) {
    MatchResult r = Settle(invoices, invoices.size(), 0);
    r.kind = MatchKind::kOverpayment;
    r.credit = amount - total;
    r.detail = absl::StrCat("every open invoice settled; ", r.credit, " yen credited");
    return r;
  }
  // 6. Oldest first until the money runs out.
  MatchResult r;
  r.kind = MatchKind::kPartial;
  int64_t left = amount;
  for (const OpenInvoice& inv : invoices) {
    if (left == 0) break;
    Allocation a;
    a.invoice_id = inv.id;
    a.amount = std::min(left, inv.balance);
    a.settles = a.amount == inv.balance;
    left -= a.amount;
    r.allocations.push_back(a);
  }
  r.detail = absl::StrCat("partial: ", r.allocations.size(),
                          " invoice(s) oldest first, the last keeps a balance");
  return r;
}

absl::StatusOr<MatchResult> ReconcilePayment(const Payment& payment, const PayerMatcher& matcher,
                                             const std::vector<OpenInvoice>& open_invoices,
                                             int64_t fee_tolerance) {
  if (payment.amount <= 0) {
    return DomainInvalid("amount", "AMOUNT_NOT_POSITIVE", "must be > 0 yen");
  }
  return ReconcilePayment(payment, matcher.MatchPayer(payment.payer_name), open_invoices,
                          fee_tolerance);
}

absl::StatusOr<MatchResult> ReconcilePayment(const Payment& payment,
                                             const PayerMatcher::Match& who,
                                             const std::vector<OpenInvoice>& open_invoices,
                                             int64_t fee_tolerance) {
  if (payment.amount <= 0) {
    return DomainInvalid("amount", "AMOUNT_NOT_POSITIVE", "must be > 0 yen");
  }
  if (who.customer_id == 0) {
    MatchResult r;
    r.reason = who.reason;
    r.candidates = who.candidates;
    r.detail = who.detail;
    return r;
  }
  std::vector<OpenInvoice> mine;
  for (const OpenInvoice& inv : open_invoices) {
    if (inv.customer_id == who.customer_id) mine.push_back(inv);
  }
  absl::StatusOr<MatchResult> r = ChooseInvoices(payment.amount, std::move(mine), fee_tolerance);
  if (!r.ok()) return r.status();
  r->customer_id = who.customer_id;
  r->source = who.source;
  r->detail = absl::StrCat(who.detail, "; ", r->detail);
  return r;
}

absl::Status CheckManualAllocation(int64_t available, const std::vector<Allocation>& allocations,
                                   const std::vector<OpenInvoice>& open_invoices) {
  if (allocations.empty()) {
    return DomainInvalid("allocations", "REQUIRED", "name at least one invoice");
  }
  std::map<int64_t, const OpenInvoice*> by_id;
  for (const OpenInvoice& inv : open_invoices) {
    if (inv.balance > 0) by_id[inv.id] = &inv;
  }
  std::set<int64_t> seen;
  int64_t sum = 0;
  for (size_t i = 0; i < allocations.size(); ++i) {
    const Allocation& a = allocations[i];
    const std::string field = absl::StrCat("allocations[", i, "]");
    auto it = by_id.find(a.invoice_id);
    if (it == by_id.end()) {
      return DomainError(absl::StatusCode::kFailedPrecondition, absl::StrCat(field, ".invoice_id"),
                         "INVOICE_NOT_OPEN",
                         absl::StrCat("invoice ", a.invoice_id, " has nothing open to pay"));
    }
    if (!seen.insert(a.invoice_id).second) {
      return DomainInvalid(absl::StrCat(field, ".invoice_id"), "DUPLICATE_INVOICE",
                           absl::StrCat("invoice ", a.invoice_id, " is named twice"));
    }
    if (a.amount < 0 || a.fee < 0 || (a.amount == 0 && a.fee == 0) || a.amount > kMaxAmount ||
        a.fee > kMaxAmount) {
      return DomainInvalid(absl::StrCat(field, ".amount"), "AMOUNT_NOT_POSITIVE",
                           "amount and fee must be ≥ 0 yen and not both 0");
    }
    if (a.amount + a.fee > it->second->balance) {
      return DomainInvalid(absl::StrCat(field, ".amount"), "EXCEEDS_BALANCE",
                           absl::StrCat("amount + fee ", a.amount + a.fee, " exceeds invoice ",
                                        a.invoice_id, "'s balance ", it->second->balance));
    }
    sum += a.amount;  // sum ≤ available before, amount ≤ kMaxAmount: no overflow
    if (sum > available) {
      return DomainInvalid(absl::StrCat(field, ".amount"), "EXCEEDS_PAYMENT",
                           absl::StrCat("the allocations exceed the ", available,
                                        " yen of the payment not yet allocated"));
    }
  }
  return absl::OkStatus();
}

}  // namespace anken::billing
