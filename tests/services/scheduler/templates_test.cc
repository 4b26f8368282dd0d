// The Japanese templates and the checks of an enqueue request (pure).

#include "services/scheduler/templates.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "common/status/domain_error.h"

namespace anken::scheduler {
namespace {

using Params = std::map<std::string, std::string>;

std::string FieldOf(const absl::Status& s) {
  auto field = s.GetPayload(kDomainFieldPayload);
  return field.has_value() ? std::string(*field) : "";
}

// A complete parameter set for each template.
Params Complete(const std::string& name) {
  if (name == "monthly_report_request" || name == "report_reminder") {
    return {{"partner_name", "株式会社サンプル"},
            {"period", "2026年11月"},
            {"deadline", "2026年12月4日（金）"}};
  }
  if (name == "report_overdue_summary") {
    return {{"as_of", "2026年12月7日（月）"}, {"count", "2"}, {"partners", "・A\n・B"}};
  }
  if (name == "invoice_issue_request") {
    return {{"project", "P0000123 サンプル案件"}, {"requested_by", "営業 太郎"}};
  }
  if (name == "missed_billing_alert") {
    return {{"as_of", "2026年12月7日（月）"}, {"count", "1"}, {"items", "・P1 2026-10 月額"}};
  }
  return {{"as_of", "2026年12月7日（月）"},
          {"count", "1"},
          {"total", "110,000円"},
          {"items", "・INV-1"}};
}

TEST(Templates, TheSixTemplatesExistAndRenderInJapanese) {
  std::set<std::string> names;
  for (const MailTemplate& t : MailTemplates()) names.insert(t.name);
  EXPECT_EQ(names, (std::set<std::string>{"monthly_report_request", "report_reminder",
                                          "report_overdue_summary", "invoice_issue_request",
                                          "missed_billing_alert", "overdue_invoice_list"}));
  for (const std::string& name : names) {
    absl::StatusOr<RenderedMail> m = RenderTemplate(name, Complete(name));
    ASSERT_TRUE(m.ok()) << name << ": " << m.status();
    EXPECT_FALSE(absl::StrContains(m->subject, "{")) << name << ": " << m->subject;
    EXPECT_FALSE(absl::StrContains(m->body, "{")) << name << ": " << m->body;
    EXPECT_FALSE(absl::StrContains(m->subject, "\n"));
    EXPECT_TRUE(absl::StrContains(m->body, "Anken から自動送信")) << name;
  }
}

TEST(Templates, MonthlyReportRequestCarriesTheDeadline) {
  absl::StatusOr<RenderedMail> m =
      RenderTemplate("monthly_report_request", Complete("monthly_report_request"));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->subject, "【実績報告のお願い】2026年11月分 実績報告のご提出（期限：2026年12月4日（金））");
  EXPECT_TRUE(absl::StrContains(m->body, "株式会社サンプル ご担当者様"));
  EXPECT_TRUE(absl::StrContains(m->body, "2026年12月4日（金）までにご提出ください"));
  // The optional portal_url falls back to its default text.
  EXPECT_TRUE(absl::StrContains(m->body, "加盟店ポータル"));
}

TEST(Templates, OptionalParametersAndNoReExpansion) {
  Params p = Complete("invoice_issue_request");
  p["note"] = "至急 {project} でお願いします";
  absl::StatusOr<RenderedMail> m = RenderTemplate("invoice_issue_request", p);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->subject, "【請求書発行依頼】P0000123 サンプル案件");
  EXPECT_TRUE(absl::StrContains(m->body, "備考：至急 {project} でお願いします"));
  EXPECT_TRUE(absl::StrContains(m->body, "請求OKの請求すべて"));  // entries' default
}

TEST(Templates, ErrorsNameTheField) {
  absl::Status unknown = RenderTemplate("no_such", {}).status();
  EXPECT_EQ(unknown.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(unknown), "template_name");
  EXPECT_EQ(std::string(unknown.message()),
            "template_name: is not a known template; one of monthly_report_request, "
            "report_reminder, report_overdue_summary, invoice_issue_request, "
            "missed_billing_alert, overdue_invoice_list");

  Params missing = Complete("report_reminder");
  missing.erase("deadline");
  absl::Status s = RenderTemplate("report_reminder", missing).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(s), "parameters[deadline]");

  Params blank = Complete("report_reminder");
  blank["partner_name"] = "  ";
  EXPECT_EQ(FieldOf(RenderTemplate("report_reminder", blank).status()),
            "parameters[partner_name]");

  Params extra = Complete("report_reminder");
  extra["dead_line"] = "x";
  absl::Status unknown_parameter = RenderTemplate("report_reminder", extra).status();
  EXPECT_EQ(FieldOf(unknown_parameter), "parameters");
  EXPECT_EQ(std::string(unknown_parameter.message()),
            "parameters: template report_reminder takes only deadline, partner_name, period, "
            "portal_url");

  Params multiline_subject = Complete("report_reminder");
  multiline_subject["period"] = "2026年11月\nBcc: evil@example.jp";
  EXPECT_EQ(FieldOf(RenderTemplate("report_reminder", multiline_subject).status()),
            "parameters[period]");

  // Line breaks are fine where only the body uses the parameter.
  Params multiline_body = Complete("report_overdue_summary");
  multiline_body["partners"] = "・A\n・B\n・C";
  EXPECT_TRUE(RenderTemplate("report_overdue_summary", multiline_body).ok());

  Params not_utf8 = Complete("report_reminder");
  not_utf8["partner_name"] = "\xFF";
  EXPECT_EQ(FieldOf(RenderTemplate("report_reminder", not_utf8).status()),
            "parameters[partner_name]");
}

TEST(DedupKey, Rules) {
  EXPECT_TRUE(CheckDedupKey("billing:invoice_issue_request:42").ok());
  EXPECT_TRUE(CheckDedupKey("scheduler:report_reminder:2026-11:p1@example.jp/2026-12-07+=").ok());
  EXPECT_FALSE(CheckDedupKey("").ok());
  EXPECT_FALSE(CheckDedupKey(std::string(201, 'a')).ok());
  EXPECT_FALSE(CheckDedupKey("has space").ok());
  EXPECT_FALSE(CheckDedupKey("日本語").ok());
  EXPECT_EQ(FieldOf(CheckDedupKey("a\nb")), "dedup_key");
}

}  // namespace
}  // namespace anken::scheduler
