#include "common/pdf/document.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace anken::pdf {

absl::string_view Title(DocumentKind kind) {
  return kind == DocumentKind::kQuote ? "御見積書" : "請求書";
}

Honorific GuessHonorific(absl::string_view name) {
  // Words that only an organisation's name contains. Bare single kanji (店, 部, 省) are left
  // out: they occur in personal names (阿部, 省吾).
  static constexpr absl::string_view kOrganisation[] = {
      "会社", "法人", "㈱", "㈲", "㈾", "㈴", "(株)", "（株）", "(有)", "（有）", "(同)", "（同）",
      "(合)", "（合）", "組合", "協会", "連合会", "事務所", "役所", "役場", "大学", "学校", "学園",
      "病院", "医院", "商店", "工務店", "商事", "産業", "工業", "建設", "興業", "不動産", "銀行",
      "ホールディングス", "グループ", "センター"};
  for (absl::string_view w : kOrganisation) {
    if (absl::StrContains(name, w)) return Honorific::kOnchu;
  }
  const std::string lower = absl::AsciiStrToLower(name);
  static constexpr absl::string_view kLatin[] = {"inc.", "inc ", "ltd", "llc", "corp",
                                                 "co.,", "k.k.", "gmbh"};
  for (absl::string_view w : kLatin) {
    if (absl::StrContains(lower, w) || absl::EndsWith(lower, "inc")) return Honorific::kOnchu;
  }
  return Honorific::kSama;
}

}  // namespace anken::pdf
