#include "services/scheduler/templates.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "common/status/domain_error.h"
#include "common/text/char_count.h"
#include "services/scheduler/mail.h"

namespace anken::scheduler {
namespace {

constexpr size_t kMaxParameterBytes = 10000 * 3;  // 10000 characters of up to 3 bytes
constexpr size_t kMaxParameterChars = 10000;

const char kSignature[] =
    "\n\n--\n"
    "このメールは Anken から自動送信されています。\n"
    "お心当たりのない場合は、お手数ですが破棄してください。\n";

std::vector<MailTemplate> BuildTemplates() {
  std::vector<MailTemplate> t;
  t.push_back(MailTemplate{
      "monthly_report_request",
      "実績報告のお願い (to a partner when the period opens)",
      "【実績報告のお願い】{period}分 実績報告のご提出（期限：{deadline}）",
      "{partner_name} ご担当者様\n\n"
      "いつもお世話になっております。\n"
      "{period}分の実績報告の受付を開始しました。\n\n"
      "ご紹介案件それぞれについて「変更なし」または変更内容（進行中・施工完了・失注）を"
      "ご入力のうえ、{deadline}までにご提出ください。\n"
      "Excel でのダウンロード・一括アップロードもご利用いただけます。\n\n"
      "報告画面：{portal_url}\n\n"
      "ご不明な点がございましたら担当までお問い合わせください。\n"
      "よろしくお願いいたします。",
      {"partner_name", "period", "deadline"},
      {{"portal_url", "加盟店ポータルの「実績報告」メニューからご利用ください"}}});
  t.push_back(MailTemplate{
      "report_reminder",
      "実績報告のリマインド (to a partner that has not submitted by the deadline)",
      "【リマインド】{period}分 実績報告のご提出のお願い（期限：{deadline}）",
      "{partner_name} ご担当者様\n\n"
      "いつもお世話になっております。\n"
      "{period}分の実績報告のご提出がまだ確認できておりません。\n"
      "提出期限は{deadline}です。期限を過ぎている場合は、至急ご提出くださいますよう"
      "お願いいたします。\n\n"
      "報告画面：{portal_url}\n\n"
      "本メールと行き違いでご提出いただいている場合は、ご容赦ください。",
      {"partner_name", "period", "deadline"},
      {{"portal_url", "加盟店ポータルの「実績報告」メニューからご利用ください"}}});
  t.push_back(MailTemplate{
      "report_overdue_summary",
      "実績報告 未提出一覧 (to staff, daily after the deadline)",
      "【実績報告】期限超過の未提出 {count}件（{as_of}時点）",
      "営業管理ご担当者様\n\n"
      "{as_of}時点で、提出期限を過ぎても実績報告が提出されていない加盟店は"
      "次の{count}件です。\n\n"
      "{partners}\n\n"
      "必要に応じて各加盟店へご連絡ください。",
      {"as_of", "count", "partners"},
      {}});
  t.push_back(MailTemplate{
      "invoice_issue_request",
      "請求書発行依頼 (to accounting, from billing)",
      "【請求書発行依頼】{project}",
      "経理ご担当者様\n\n"
      "{requested_by} さんから請求書の発行依頼がありました。\n\n"
      "案件：{project}\n"
      "対象の請求：\n{entries}\n\n"
      "備考：{note}\n\n"
      "内容をご確認のうえ、請求書の発行をお願いいたします。",
      {"project", "requested_by"},
      {{"entries", "請求OKの請求すべて"}, {"note", "（なし）"}}});
  t.push_back(MailTemplate{
      "missed_billing_alert",
      "請求漏れアラート (to accounting, daily)",
      "【請求漏れ】請求日を過ぎた未請求 {count}件（{as_of}時点）",
      "経理ご担当者様\n\n"
      "{as_of}時点で、請求日を過ぎても請求されていない請求、または請求計画のない受注済案件が"
      "{count}件あります。\n\n"
      "{items}\n\n"
      "ご確認のうえ、請求処理をお願いいたします。",
      {"as_of", "count", "items"},
      {}});
  t.push_back(MailTemplate{
      "overdue_invoice_list",
      "入金遅延の請求書一覧 (to accounting, daily)",
      "【入金遅延】支払期日を過ぎた請求書 {count}件（{as_of}時点）",
      "経理ご担当者様\n\n"
      "{as_of}時点で、支払期日を過ぎても入金が確認できていない請求書は次の{count}件、"
      "合計{total}です。\n\n"
      "{items}\n\n"
      "入金状況をご確認のうえ、必要に応じて督促をお願いいたします。",
      {"as_of", "count", "total", "items"},
      {}});
  for (MailTemplate& m : t) m.body += kSignature;
  return t;
}

using ::anken::text::CharCount;

std::string Field(absl::string_view name) { return absl::StrCat("parameters[", name, "]"); }

}  // namespace

const std::vector<MailTemplate>& MailTemplates() {
  static const auto* templates = new std::vector<MailTemplate>(BuildTemplates());
  return *templates;
}

const MailTemplate* FindTemplate(absl::string_view name) {
  for (const MailTemplate& t : MailTemplates()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

absl::StatusOr<RenderedMail> RenderTemplate(absl::string_view template_name,
                                            const std::map<std::string, std::string>& parameters) {
  const MailTemplate* t = FindTemplate(template_name);
  // Messages never quote what the client sent (a name may be long or hostile and messages
  // end up in logs and UIs); they name the allowed values instead, a short fixed list.
  if (t == nullptr) {
    std::vector<std::string> names;
    for (const MailTemplate& m : MailTemplates()) names.push_back(m.name);
    return DomainInvalid("template_name", "UNKNOWN_TEMPLATE",
                         absl::StrCat("is not a known template; one of ",
                                      absl::StrJoin(names, ", ")));
  }
  std::set<std::string> known(t->required.begin(), t->required.end());
  for (const auto& [name, unused] : t->optional) known.insert(name);
  for (const auto& [name, value] : parameters) {
    if (known.count(name) == 0) {
      // The field is "parameters", not parameters[name]: the field is part of the message.
      return DomainInvalid("parameters", "UNKNOWN_PARAMETER",
                           absl::StrCat("template ", t->name, " takes only ",
                                        absl::StrJoin(known, ", ")));
    }
    if (!IsValidUtf8(value) || value.size() > kMaxParameterBytes ||
        CharCount(value) > kMaxParameterChars) {
      return DomainInvalid(Field(name), "INVALID_PARAMETER",
                           "must be UTF-8 text of at most 10000 characters");
    }
    if (absl::StrContains(t->subject, absl::StrCat("{", name, "}")) &&
        (absl::StrContains(value, "\n") || absl::StrContains(value, "\r") ||
         absl::StrContains(value, std::string(1, '\0')))) {
      return DomainInvalid(Field(name), "INVALID_PARAMETER",
                           "is used in the subject and must be one line");
    }
  }
  std::vector<std::pair<std::string, std::string>> replacements;
  for (const std::string& name : t->required) {
    auto it = parameters.find(name);
    if (it == parameters.end() || absl::StripAsciiWhitespace(it->second).empty()) {
      return DomainInvalid(Field(name), "REQUIRED",
                           absl::StrCat("template ", t->name, " needs \"", name, "\""));
    }
    replacements.emplace_back(absl::StrCat("{", name, "}"), it->second);
  }
  for (const auto& [name, fallback] : t->optional) {
    auto it = parameters.find(name);
    const bool given = it != parameters.end() && !absl::StripAsciiWhitespace(it->second).empty();
    replacements.emplace_back(absl::StrCat("{", name, "}"), given ? it->second : fallback);
  }
  // One pass over the template: a value containing "{x}" is never expanded again.
  RenderedMail out;
  out.subject = absl::StrReplaceAll(t->subject, replacements);
  out.body = absl::StrReplaceAll(t->body, replacements);
  return out;
}

absl::Status CheckDedupKey(absl::string_view key) {
  if (key.empty() || key.size() > 200) {
    return DomainInvalid("dedup_key", "INVALID_DEDUP_KEY", "must be 1..200 characters");
  }
  for (char c : key) {
    const bool ok = absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
                    absl::string_view("._:@/+=-").find(c) != absl::string_view::npos;
    if (!ok) {
      return DomainInvalid("dedup_key", "INVALID_DEDUP_KEY",
                           "may hold only letters, digits and . _ : @ / + = -");
    }
  }
  return absl::OkStatus();
}

}  // namespace anken::scheduler
