// Pure rules of the project service: referral outcomes, case validation, quote pricing,
// quote transitions, the forecast and the ToDo order. Every expectation is hand-computed.

#include "services/project/project_rules.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status/domain_error.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace anken::project {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

std::string FieldOf(const absl::Status& s) {
  absl::optional<absl::Cord> p = s.GetPayload(kDomainFieldPayload);
  return p ? std::string(*p) : std::string();
}
std::string ReasonOf(const absl::Status& s) {
  absl::optional<absl::Cord> p = s.GetPayload(kDomainReasonPayload);
  return p ? std::string(*p) : std::string();
}

std::string Repeat(absl::string_view unit, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) absl::StrAppend(&s, unit);
  return s;
}

// ---------------------------------------------------------------------------------------------
// FormatProjectNumber

TEST(FormatProjectNumberTest, SevenDigitsWithinRangeAndEmptyOutside) {
  EXPECT_EQ(FormatProjectNumber(1), "0000001");
  EXPECT_EQ(FormatProjectNumber(123), "0000123");
  EXPECT_EQ(FormatProjectNumber(1234567), "1234567");
  EXPECT_EQ(FormatProjectNumber(9999999), "9999999");
  EXPECT_EQ(FormatProjectNumber(0), "");
  EXPECT_EQ(FormatProjectNumber(-1), "");
  EXPECT_EQ(FormatProjectNumber(10000000), "");
  EXPECT_EQ(FormatProjectNumber(std::numeric_limits<int64_t>::max()), "");
}

// ---------------------------------------------------------------------------------------------
// ApplyOutcome

const absl::CivilDay kToday(2024, 6, 15);
const absl::CivilDay kReferralDate(2024, 4, 10);

std::string Dump(const absl::optional<absl::CivilDay>& d) {
  return d ? absl::FormatCivilTime(*d) : "-";
}
// Every field, so that "unchanged" means unchanged.
std::string Dump(const Referral& r) {
  std::string s = absl::StrCat("partner=", r.partner_id, " ref=", absl::FormatCivilTime(r.referral_date),
                               " outcome=", static_cast<int>(r.outcome),
                               " completion=", Dump(r.completion_date), " amount=", r.amount,
                               " lost=", Dump(r.lost_date), " remarks=", r.remarks, " extras=[");
  for (const ExtraOrder& e : r.extra_orders) {
    absl::StrAppend(&s, "{", e.id, ",", static_cast<int>(e.kind), ",",
                    absl::FormatCivilTime(e.order_date), ",", e.amount, ",", e.note, "}");
  }
  return s + "]";
}

Referral ReferralIn(Outcome outcome) {
  Referral r;
  r.partner_id = 7;
  r.referral_date = kReferralDate;
  r.outcome = outcome;
  r.remarks = "前回の備考";
  r.extra_orders.push_back(ExtraOrder{5, ExtraKind::kRepeat, absl::CivilDay(2024, 5, 1), 30000, "既存"});
  if (outcome == Outcome::kCompleted) {
    r.completion_date = absl::CivilDay(2024, 5, 20);
    r.amount = 800000;
  } else if (outcome == Outcome::kLost) {
    r.lost_date = absl::CivilDay(2024, 5, 2);
  }
  return r;
}

OutcomeReport ValidReport(Outcome outcome) {
  OutcomeReport r;
  r.outcome = outcome;
  r.remarks = "今月の報告";
  if (outcome == Outcome::kCompleted) {
    r.completion_date = absl::CivilDay(2024, 6, 1);
    r.amount = 1200000;
  } else if (outcome == Outcome::kLost) {
    r.lost_date = absl::CivilDay(2024, 6, 3);
  }
  return r;
}

const char* Name(Outcome o) {
  switch (o) {
    case Outcome::kInProgress:
      return "IN_PROGRESS";
    case Outcome::kCompleted:
      return "COMPLETED";
    case Outcome::kLost:
      return "LOST";
  }
  return "?";
}

TEST(ApplyOutcomeTest, EveryCurrentTimesReportedOutcomePair) {
  struct Case {
    Outcome current;
    Outcome reported;
    bool allowed;
  };
  const Case kCases[] = {
      {Outcome::kInProgress, Outcome::kInProgress, true},
      {Outcome::kInProgress, Outcome::kCompleted, true},
      {Outcome::kInProgress, Outcome::kLost, true},
      // LOST may later become COMPLETED; going back to IN_PROGRESS is not forbidden either.
      {Outcome::kLost, Outcome::kInProgress, true},
      {Outcome::kLost, Outcome::kCompleted, true},
      {Outcome::kLost, Outcome::kLost, true},
      // COMPLETED is final, except for a correction that stays COMPLETED.
      {Outcome::kCompleted, Outcome::kInProgress, false},
      {Outcome::kCompleted, Outcome::kCompleted, true},
      {Outcome::kCompleted, Outcome::kLost, false},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(absl::StrCat(Name(c.current), " -> ", Name(c.reported)));
    Referral referral = ReferralIn(c.current);
    const Referral before = referral;
    const OutcomeReport report = ValidReport(c.reported);
    absl::Status s = ApplyOutcome(report, kToday, referral);
    if (!c.allowed) {
      EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
      EXPECT_EQ(ReasonOf(s), "COMPLETED_IS_FINAL");
      EXPECT_EQ(Dump(referral), Dump(before));
      continue;
    }
    ASSERT_TRUE(s.ok()) << s;
    EXPECT_EQ(referral.outcome, c.reported);
    EXPECT_EQ(referral.partner_id, 7);
    EXPECT_EQ(referral.referral_date, kReferralDate);
    EXPECT_EQ(referral.remarks, "今月の報告");
    switch (c.reported) {
      case Outcome::kInProgress:
        EXPECT_EQ(referral.completion_date, absl::nullopt);
        EXPECT_EQ(referral.amount, 0);
        EXPECT_EQ(referral.lost_date, absl::nullopt);
        break;
      case Outcome::kCompleted:
        EXPECT_EQ(referral.completion_date, absl::CivilDay(2024, 6, 1));
        EXPECT_EQ(referral.amount, 1200000);
        EXPECT_EQ(referral.lost_date, absl::nullopt);
        break;
      case Outcome::kLost:
        EXPECT_EQ(referral.completion_date, absl::nullopt);
        EXPECT_EQ(referral.amount, 0);
        EXPECT_EQ(referral.lost_date, absl::CivilDay(2024, 6, 3));
        break;
    }
    ASSERT_EQ(referral.extra_orders.size(), 1u);  // the existing one stays
    EXPECT_EQ(referral.extra_orders[0].id, 5);
  }
}

TEST(ApplyOutcomeTest, CompletedToCompletedCorrectsDateAndAmount) {
  Referral referral = ReferralIn(Outcome::kCompleted);
  OutcomeReport report = ValidReport(Outcome::kCompleted);
  report.completion_date = absl::CivilDay(2024, 5, 21);
  report.amount = 810000;
  ASSERT_TRUE(ApplyOutcome(report, kToday, referral).ok());
  EXPECT_EQ(referral.outcome, Outcome::kCompleted);
  EXPECT_EQ(referral.completion_date, absl::CivilDay(2024, 5, 21));
  EXPECT_EQ(referral.amount, 810000);
}

TEST(ApplyOutcomeTest, ForbiddenTransitionKeepsEverythingIncludingExtraOrders) {
  Referral referral = ReferralIn(Outcome::kCompleted);
  const Referral before = referral;
  OutcomeReport report = ValidReport(Outcome::kLost);
  report.extra_orders.push_back(
      ExtraOrder{0, ExtraKind::kAdditional, absl::CivilDay(2024, 6, 10), 5000, "追加"});
  absl::Status s = ApplyOutcome(report, kToday, referral);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReasonOf(s), "COMPLETED_IS_FINAL");
  EXPECT_EQ(FieldOf(s), "");
  EXPECT_EQ(Dump(referral), Dump(before));
}

TEST(ApplyOutcomeTest, FieldCombinationsNameTheField) {
  struct Case {
    const char* name;
    Outcome outcome;
    bool completion;
    int64_t amount;
    bool lost;
    const char* field;
    const char* reason;
  };
  const Case kCases[] = {
      {"in progress with completion date", Outcome::kInProgress, true, 0, false,
       "completion_date", "OUTCOME_FIELDS_MISMATCH"},
      {"in progress with amount", Outcome::kInProgress, false, 100, false, "amount",
       "OUTCOME_FIELDS_MISMATCH"},
      {"in progress with lost date", Outcome::kInProgress, false, 0, true, "lost_date",
       "OUTCOME_FIELDS_MISMATCH"},
      {"completed without date", Outcome::kCompleted, false, 100, false, "completion_date",
       "DATE_REQUIRED"},
      {"completed with zero amount", Outcome::kCompleted, true, 0, false, "amount",
       "AMOUNT_REQUIRED"},
      {"completed with negative amount", Outcome::kCompleted, true, -5, false, "amount",
       "AMOUNT_REQUIRED"},
      {"completed with lost date", Outcome::kCompleted, true, 100, true, "lost_date",
       "OUTCOME_FIELDS_MISMATCH"},
      {"lost without date", Outcome::kLost, false, 0, false, "lost_date", "DATE_REQUIRED"},
      {"lost with amount", Outcome::kLost, false, 100, true, "amount", "OUTCOME_FIELDS_MISMATCH"},
      {"lost with completion date", Outcome::kLost, true, 0, true, "completion_date",
       "OUTCOME_FIELDS_MISMATCH"},
      {"unknown outcome", static_cast<Outcome>(0), false, 0, false, "outcome", "INVALID_OUTCOME"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    // From IN_PROGRESS (every outcome allowed) and from COMPLETED (the field error comes first).
    for (Outcome current : {Outcome::kInProgress, Outcome::kCompleted}) {
      Referral referral = ReferralIn(current);
      const Referral before = referral;
      OutcomeReport r;
      r.outcome = c.outcome;
      if (c.completion) r.completion_date = absl::CivilDay(2024, 6, 1);
      r.amount = c.amount;
      if (c.lost) r.lost_date = absl::CivilDay(2024, 6, 2);
      absl::Status s = ApplyOutcome(r, kToday, referral);
      EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
      EXPECT_EQ(FieldOf(s), c.field);
      EXPECT_EQ(ReasonOf(s), c.reason);
      EXPECT_THAT(std::string(s.message()), HasSubstr(c.field));
      EXPECT_EQ(Dump(referral), Dump(before));
    }
  }
}

TEST(ApplyOutcomeTest, DatesNotInTheFutureAndNotBeforeTheReferral) {
  struct Case {
    Outcome outcome;
    absl::CivilDay date;
    const char* field;
    const char* reason;  // "" = accepted
  };
  const Case kCases[] = {
      {Outcome::kCompleted, kToday, "completion_date", ""},
      {Outcome::kCompleted, kToday + 1, "completion_date", "DATE_IN_FUTURE"},
      {Outcome::kCompleted, kReferralDate, "completion_date", ""},
      {Outcome::kCompleted, kReferralDate - 1, "completion_date", "DATE_BEFORE_REFERRAL"},
      {Outcome::kLost, kToday, "lost_date", ""},
      {Outcome::kLost, kToday + 1, "lost_date", "DATE_IN_FUTURE"},
      {Outcome::kLost, kReferralDate, "lost_date", ""},
      {Outcome::kLost, kReferralDate - 1, "lost_date", "DATE_BEFORE_REFERRAL"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(absl::StrCat(Name(c.outcome), " ", absl::FormatCivilTime(c.date)));
    Referral referral = ReferralIn(Outcome::kInProgress);
    const Referral before = referral;
    OutcomeReport r = ValidReport(c.outcome);
    if (c.outcome == Outcome::kCompleted) {
      r.completion_date = c.date;
    } else {
      r.lost_date = c.date;
    }
    absl::Status s = ApplyOutcome(r, kToday, referral);
    if (std::string(c.reason).empty()) {
      EXPECT_TRUE(s.ok()) << s;
      EXPECT_EQ(c.outcome == Outcome::kCompleted ? referral.completion_date : referral.lost_date,
                c.date);
    } else {
      EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
      EXPECT_EQ(FieldOf(s), c.field);
      EXPECT_EQ(ReasonOf(s), c.reason);
      EXPECT_EQ(Dump(referral), Dump(before));
    }
  }
}

TEST(ApplyOutcomeTest, ExtraOrdersAreAppendedWithIdZero) {
  Referral referral = ReferralIn(Outcome::kInProgress);
  OutcomeReport r = ValidReport(Outcome::kCompleted);
  r.extra_orders.push_back(
      ExtraOrder{99, ExtraKind::kAdditional, absl::CivilDay(2024, 6, 10), 50000, "追加工事"});
  r.extra_orders.push_back(ExtraOrder{0, ExtraKind::kRepeat, kToday, 70000, ""});
  ASSERT_TRUE(ApplyOutcome(r, kToday, referral).ok());
  ASSERT_EQ(referral.extra_orders.size(), 3u);
  EXPECT_EQ(referral.extra_orders[0].id, 5);
  EXPECT_EQ(referral.extra_orders[0].note, "既存");
  EXPECT_EQ(referral.extra_orders[1].id, 0);  // the caller's 99 is not trusted
  EXPECT_EQ(referral.extra_orders[1].kind, ExtraKind::kAdditional);
  EXPECT_EQ(referral.extra_orders[1].order_date, absl::CivilDay(2024, 6, 10));
  EXPECT_EQ(referral.extra_orders[1].amount, 50000);
  EXPECT_EQ(referral.extra_orders[1].note, "追加工事");
  EXPECT_EQ(referral.extra_orders[2].id, 0);
  EXPECT_EQ(referral.extra_orders[2].kind, ExtraKind::kRepeat);
  EXPECT_EQ(referral.extra_orders[2].amount, 70000);
}

TEST(ApplyOutcomeTest, ExtraOrdersAreValidatedPerIndex) {
  struct Case {
    const char* name;
    ExtraOrder bad;
    const char* field;
    const char* reason;
  };
  const ExtraOrder good{0, ExtraKind::kAdditional, absl::CivilDay(2024, 6, 1), 1000, "ok"};
  auto with = [&good](auto change) {
    ExtraOrder e = good;
    change(e);
    return e;
  };
  const Case kCases[] = {
      {"zero amount", with([](ExtraOrder& e) { e.amount = 0; }), "extra_orders[1].amount",
       "AMOUNT_REQUIRED"},
      {"negative amount", with([](ExtraOrder& e) { e.amount = -1; }), "extra_orders[1].amount",
       "AMOUNT_REQUIRED"},
      {"future date", with([](ExtraOrder& e) { e.order_date = kToday + 1; }),
       "extra_orders[1].order_date", "DATE_IN_FUTURE"},
      {"before referral", with([](ExtraOrder& e) { e.order_date = kReferralDate - 1; }),
       "extra_orders[1].order_date", "DATE_BEFORE_REFERRAL"},
      {"kind unset", with([](ExtraOrder& e) { e.kind = static_cast<ExtraKind>(0); }),
       "extra_orders[1].kind", "KIND_REQUIRED"},
      {"note of 501 characters", with([](ExtraOrder& e) { e.note = Repeat("備", 501); }),
       "extra_orders[1].note", "TOO_LONG"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    Referral referral = ReferralIn(Outcome::kInProgress);
    const Referral before = referral;
    OutcomeReport r = ValidReport(Outcome::kInProgress);
    r.extra_orders = {good, c.bad, good};
    absl::Status s = ApplyOutcome(r, kToday, referral);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(FieldOf(s), c.field);
    EXPECT_EQ(ReasonOf(s), c.reason);
    EXPECT_EQ(Dump(referral), Dump(before));  // nothing appended
  }
  // 500 kanji (1,500 bytes) are within the 500-character note limit.
  Referral referral = ReferralIn(Outcome::kInProgress);
  OutcomeReport r = ValidReport(Outcome::kInProgress);
  r.extra_orders = {with([](ExtraOrder& e) { e.note = Repeat("備", 500); })};
  EXPECT_TRUE(ApplyOutcome(r, kToday, referral).ok());
}

TEST(ApplyOutcomeTest, RemarksCountCharactersNotBytes) {
  Referral referral = ReferralIn(Outcome::kInProgress);
  OutcomeReport r = ValidReport(Outcome::kInProgress);
  r.remarks = Repeat("あ", 500);  // 1,500 bytes
  ASSERT_TRUE(ApplyOutcome(r, kToday, referral).ok());
  EXPECT_EQ(referral.remarks, r.remarks);

  Referral referral2 = ReferralIn(Outcome::kInProgress);
  const Referral before = referral2;
  r.remarks = Repeat("あ", 501);
  absl::Status s = ApplyOutcome(r, kToday, referral2);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(s), "remarks");
  EXPECT_EQ(ReasonOf(s), "TOO_LONG");
  EXPECT_EQ(Dump(referral2), Dump(before));

  r.remarks = Repeat("a", 501);
  EXPECT_EQ(ReasonOf(ApplyOutcome(r, kToday, referral2)), "TOO_LONG");
}

TEST(ApplyOutcomeTest, LostThenCompletedClearsTheLostDate) {
  Referral referral = ReferralIn(Outcome::kInProgress);
  ASSERT_TRUE(ApplyOutcome(ValidReport(Outcome::kLost), kToday, referral).ok());
  EXPECT_EQ(referral.lost_date, absl::CivilDay(2024, 6, 3));
  ASSERT_TRUE(ApplyOutcome(ValidReport(Outcome::kCompleted), kToday, referral).ok());
  EXPECT_EQ(referral.outcome, Outcome::kCompleted);
  EXPECT_EQ(referral.lost_date, absl::nullopt);
  EXPECT_EQ(referral.completion_date, absl::CivilDay(2024, 6, 1));
  // And from there it is final.
  EXPECT_EQ(ApplyOutcome(ValidReport(Outcome::kInProgress), kToday, referral).code(),
            absl::StatusCode::kFailedPrecondition);
}

// ---------------------------------------------------------------------------------------------
// ValidateProject

const std::vector<std::string> kStatuses = {"未着手", "進行中", "保留", "完了"};

Project ValidProject() {
  Project p;
  p.customer_id = 3;
  p.name = "本社空調更新";
  p.order_status = OrderStatus::kProspect;
  p.progress_status = "進行中";
  p.owner = "sato";
  p.department = "営業1部";
  return p;
}

TEST(ValidateProjectTest, AcceptsAValidCaseAndBoundaryLengths) {
  EXPECT_TRUE(ValidateProject(ValidProject(), kStatuses, kToday).ok());
  Project p = ValidProject();
  p.name = Repeat("案", 200);
  p.owner = Repeat("担", 100);
  p.department = Repeat("部", 100);
  p.memo = Repeat("あ", 2000);
  p.progress_status = "";
  p.referral = Referral{};
  p.referral->partner_id = 9;
  p.referral->referral_date = kToday;
  EXPECT_TRUE(ValidateProject(p, kStatuses, kToday).ok());
}

TEST(ValidateProjectTest, EachRuleNamesItsField) {
  struct Case {
    const char* name;
    void (*change)(Project&);
    const char* field;
    const char* reason;
  };
  const Case kCases[] = {
      {"empty name", [](Project& p) { p.name = ""; }, "project.name", "REQUIRED"},
      {"blank name", [](Project& p) { p.name = " \xE3\x80\x80 "; }, "project.name", "REQUIRED"},
      {"long name", [](Project& p) { p.name = Repeat("案", 201); }, "project.name", "TOO_LONG"},
      {"no customer", [](Project& p) { p.customer_id = 0; }, "project.customer_id", "REQUIRED"},
      {"negative category", [](Project& p) { p.category_id = -1; }, "project.category_id",
       "INVALID_ID"},
      {"bad order status", [](Project& p) { p.order_status = static_cast<OrderStatus>(9); },
       "project.order_status", "INVALID_ORDER_STATUS"},
      {"unknown progress", [](Project& p) { p.progress_status = "謎"; },
       "project.progress_status", "INVALID_PROGRESS_STATUS"},
      {"long owner", [](Project& p) { p.owner = Repeat("x", 101); }, "project.owner", "TOO_LONG"},
      {"long department", [](Project& p) { p.department = Repeat("部", 101); },
       "project.department", "TOO_LONG"},
      {"long memo", [](Project& p) { p.memo = Repeat("あ", 2001); }, "project.memo", "TOO_LONG"},
      {"referral without partner",
       [](Project& p) {
         p.referral = Referral{};
         p.referral->referral_date = kToday;
       },
       "project.referral.partner_id", "REQUIRED"},
      {"referral in the future",
       [](Project& p) {
         p.referral = Referral{};
         p.referral->partner_id = 4;
         p.referral->referral_date = kToday + 1;
       },
       "project.referral.referral_date", "DATE_IN_FUTURE"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    Project p = ValidProject();
    c.change(p);
    absl::Status s = ValidateProject(p, kStatuses, kToday);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(FieldOf(s), c.field);
    EXPECT_EQ(ReasonOf(s), c.reason);
  }
}

// The value received is the client's text, of any length: the message names what is allowed.
TEST(ValidateProjectTest, ProgressStatusErrorNamesTheAllowedValuesNotTheValue) {
  Project p = ValidProject();
  p.progress_status = "CLIENT-TEXT-" + Repeat("x", 50);
  absl::Status s = ValidateProject(p, {"見積中", "進行中"}, kToday);
  EXPECT_EQ(ReasonOf(s), "INVALID_PROGRESS_STATUS");
  EXPECT_EQ(s.message(), "project.progress_status: must be one of: 見積中, 進行中");
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr("CLIENT-TEXT")));
  // A long configured list is not spelled out.
  std::vector<std::string> many(30, Repeat("状", 10));
  s = ValidateProject(p, many, kToday);
  EXPECT_EQ(s.message(),
            "project.progress_status: must be one of the configured progress statuses");
  s = ValidateProject(p, {}, kToday);
  EXPECT_THAT(std::string(s.message()), HasSubstr("no progress statuses are configured"));
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr("CLIENT-TEXT")));
}

// Caps count code points: "あ" is three UTF-8 bytes, so a byte count would refuse the limit.
TEST(ValidateProjectTest, MemoCapCountsCharacters) {
  Project p = ValidProject();
  p.memo = Repeat("あ", 2000);
  EXPECT_TRUE(ValidateProject(p, kStatuses, kToday).ok());
  p.memo = Repeat("あ", 2001);
  absl::Status s = ValidateProject(p, kStatuses, kToday);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(s), "project.memo");
  EXPECT_EQ(ReasonOf(s), "TOO_LONG");
  EXPECT_EQ(s.message(), "project.memo: must be at most 2000 characters");
}

TEST(CheckMaxCharsTest, LimitAcceptedOneMoreRefusedWithoutTheValue) {
  EXPECT_TRUE(CheckMaxChars("", 0, "f").ok());
  EXPECT_TRUE(CheckMaxChars(Repeat("あ", 20), 20, "product.unit").ok());
  absl::Status s = CheckMaxChars(Repeat("あ", 21), 20, "product.unit");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(s), "product.unit");
  EXPECT_EQ(ReasonOf(s), "TOO_LONG");
  EXPECT_EQ(s.message(), "product.unit: must be at most 20 characters");
}

TEST(ValidateProjectTest, EmptyStatusListAllowsOnlyABlankStatus) {
  Project p = ValidProject();
  EXPECT_EQ(ReasonOf(ValidateProject(p, {}, kToday)), "INVALID_PROGRESS_STATUS");
  p.progress_status = "";
  EXPECT_TRUE(ValidateProject(p, {}, kToday).ok());
}

TEST(ValidateProjectTest, ViolationsListsEveryProblemInOrder) {
  Project p = ValidProject();
  p.name = "";
  p.customer_id = 0;
  p.progress_status = "謎";
  std::vector<std::string> fields;
  for (const ProjectViolation& v : ProjectViolations(p, kStatuses, kToday)) {
    fields.push_back(v.field + "/" + v.reason);
  }
  EXPECT_THAT(fields, ElementsAre("project.name/REQUIRED", "project.customer_id/REQUIRED",
                                  "project.progress_status/INVALID_PROGRESS_STATUS"));
  EXPECT_EQ(FieldOf(ValidateProject(p, kStatuses, kToday)), "project.name");
  EXPECT_THAT(ProjectViolations(ValidProject(), kStatuses, kToday), IsEmpty());
}

// ---------------------------------------------------------------------------------------------
// PriceQuote

QuoteLine Line(int64_t quantity_milli, int64_t unit_price,
               tax::Category category = tax::Category::kStandard) {
  QuoteLine l;
  l.description = "作業費";
  l.quantity_milli = quantity_milli;
  l.unit_price = unit_price;
  l.tax_category = category;
  return l;
}

Quote QuoteWith(std::vector<QuoteLine> lines) {
  Quote q;
  q.project_id = 1;
  q.issue_date = absl::CivilDay(2024, 6, 1);
  q.valid_until = absl::CivilDay(2024, 6, 30);
  q.win_probability = 50;
  q.expected_order_month = absl::CivilMonth(2024, 7);
  q.lines = std::move(lines);
  return q;
}

TEST(PriceQuoteTest, DesignExampleTaxOncePerRate) {
  Quote q = QuoteWith({Line(1000, 1005), Line(1000, 1005), Line(1000, 1005)});
  ASSERT_TRUE(PriceQuote(q, tax::Rounding::kFloor).ok());
  for (const QuoteLine& l : q.lines) EXPECT_EQ(l.amount, 1005);
  EXPECT_EQ(q.totals.subtotal, 3015);
  EXPECT_EQ(q.totals.tax, 301);  // floor(301.5); per-line rounding would give 300
  EXPECT_EQ(q.totals.total, 3316);
  ASSERT_EQ(q.totals.per_rate.size(), 1u);
  EXPECT_EQ(q.totals.per_rate[0].category, tax::Category::kStandard);
  EXPECT_EQ(q.totals.per_rate[0].taxable, 3015);
  EXPECT_EQ(q.totals.per_rate[0].tax, 301);
}

TEST(PriceQuoteTest, RoundingModeIsTheCompanys) {
  Quote half_up = QuoteWith({Line(1000, 1005), Line(1000, 1005), Line(1000, 1005)});
  ASSERT_TRUE(PriceQuote(half_up, tax::Rounding::kHalfUp).ok());
  EXPECT_EQ(half_up.totals.tax, 302);
  Quote ceiling = QuoteWith({Line(1000, 1001)});  // 100.1
  ASSERT_TRUE(PriceQuote(ceiling, tax::Rounding::kCeiling).ok());
  EXPECT_EQ(ceiling.totals.tax, 101);
  Quote floor = QuoteWith({Line(1000, 1001)});
  ASSERT_TRUE(PriceQuote(floor, tax::Rounding::kFloor).ok());
  EXPECT_EQ(floor.totals.tax, 100);
}

TEST(PriceQuoteTest, LineAmountIsFlooredQuantityTimesPrice) {
  struct Case {
    int64_t quantity_milli;
    int64_t unit_price;
    int64_t amount;
  };
  const Case kCases[] = {
      {1500, 333, 499},    // 499.5
      {1000, 333, 333},
      {1, 999, 0},         // 0.999
      {2500, 1001, 2502},  // 2502.5
      {333, 3, 0},         // 0.999
      {1234, 1000, 1234},
      {3000, 0, 0},        // a free line
      // The product overflows int64 (1e19) but the amount (1e16) does not.
      {10'000'000, 1'000'000'000'000, 10'000'000'000'000'000},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(absl::StrCat(c.quantity_milli, " x ", c.unit_price));
    Quote q = QuoteWith({Line(c.quantity_milli, c.unit_price)});
    ASSERT_TRUE(PriceQuote(q, tax::Rounding::kFloor).ok());
    EXPECT_EQ(q.lines[0].amount, c.amount);
    EXPECT_EQ(q.totals.subtotal, c.amount);
  }
}

TEST(PriceQuoteTest, MixedRatesAreTaxedPerRate) {
  // REDUCED: 999 + floor(1.5 × 667 = 1000.5) = 1999 → 8% = 159.92 → 159
  // STANDARD: 1005 + floor(2.5 × 1201 = 3002.5) = 4007 → 10% = 400.7 → 400
  // EXEMPT: 500 → 0
  Quote q = QuoteWith({Line(1000, 999, tax::Category::kReduced), Line(1000, 1005),
                       Line(1000, 500, tax::Category::kExempt),
                       Line(1500, 667, tax::Category::kReduced), Line(2500, 1201)});
  ASSERT_TRUE(PriceQuote(q, tax::Rounding::kFloor).ok());
  EXPECT_EQ(q.lines[3].amount, 1000);
  EXPECT_EQ(q.lines[4].amount, 3002);
  ASSERT_EQ(q.totals.per_rate.size(), 3u);
  EXPECT_EQ(q.totals.per_rate[0].category, tax::Category::kStandard);
  EXPECT_EQ(q.totals.per_rate[0].taxable, 4007);
  EXPECT_EQ(q.totals.per_rate[0].tax, 400);
  EXPECT_EQ(q.totals.per_rate[1].category, tax::Category::kReduced);
  EXPECT_EQ(q.totals.per_rate[1].taxable, 1999);
  EXPECT_EQ(q.totals.per_rate[1].tax, 159);
  EXPECT_EQ(q.totals.per_rate[2].category, tax::Category::kExempt);
  EXPECT_EQ(q.totals.per_rate[2].taxable, 500);
  EXPECT_EQ(q.totals.per_rate[2].tax, 0);
  EXPECT_EQ(q.totals.subtotal, 6506);
  EXPECT_EQ(q.totals.tax, 559);
  EXPECT_EQ(q.totals.total, 7065);
}

TEST(PriceQuoteTest, ValidationNamesTheField) {
  struct Case {
    const char* name;
    void (*change)(Quote&);
    const char* field;
    const char* reason;
  };
  const Case kCases[] = {
      {"no lines", [](Quote& q) { q.lines.clear(); }, "quote.lines", "REQUIRED"},
      {"201 lines", [](Quote& q) { q.lines.assign(201, Line(1000, 1)); }, "quote.lines",
       "TOO_MANY_LINES"},
      {"zero quantity", [](Quote& q) { q.lines[2].quantity_milli = 0; },
       "quote.lines[2].quantity_milli", "INVALID_QUANTITY"},
      {"negative quantity", [](Quote& q) { q.lines[2].quantity_milli = -1000; },
       "quote.lines[2].quantity_milli", "INVALID_QUANTITY"},
      {"negative price", [](Quote& q) { q.lines[1].unit_price = -1; },
       "quote.lines[1].unit_price", "INVALID_UNIT_PRICE"},
      {"neither product nor description",
       [](Quote& q) { q.lines[0].description = "\xE3\x80\x80"; }, "quote.lines[0].description",
       "REQUIRED"},
      {"negative product", [](Quote& q) { q.lines[1].product_id = -3; },
       "quote.lines[1].product_id", "INVALID_ID"},
      {"bad tax category", [](Quote& q) { q.lines[2].tax_category = static_cast<tax::Category>(7); },
       "quote.lines[2].tax_category", "INVALID_TAX_CATEGORY"},
      {"valid until before issue", [](Quote& q) { q.valid_until = q.issue_date - 1; },
       "quote.valid_until", "VALID_UNTIL_BEFORE_ISSUE_DATE"},
      {"probability -1", [](Quote& q) { q.win_probability = -1; }, "quote.win_probability",
       "OUT_OF_RANGE"},
      {"probability 101", [](Quote& q) { q.win_probability = 101; }, "quote.win_probability",
       "OUT_OF_RANGE"},
      {"line amount beyond int64",
       [](Quote& q) {
         q.lines[1].quantity_milli = 1'000'000'000'000;
         q.lines[1].unit_price = 10'000'000'000'000;
       },
       "quote.lines[1].amount", "AMOUNT_TOO_LARGE"},
      {"sum beyond int64",
       [](Quote& q) {
         q.lines[0].unit_price = 5'000'000'000'000'000'000;
         q.lines[1].unit_price = 5'000'000'000'000'000'000;
       },
       "quote.lines", "AMOUNT_TOO_LARGE"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    Quote q = QuoteWith({Line(1000, 100), Line(1000, 200), Line(1000, 300)});
    c.change(q);
    for (QuoteLine& l : q.lines) l.amount = 42;  // stale values must survive a refusal
    q.totals.subtotal = 42;
    absl::Status s = PriceQuote(q, tax::Rounding::kFloor);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_EQ(FieldOf(s), c.field);
    EXPECT_EQ(ReasonOf(s), c.reason);
    for (const QuoteLine& l : q.lines) EXPECT_EQ(l.amount, 42);
    EXPECT_EQ(q.totals.subtotal, 42);
  }
}

TEST(PriceQuoteTest, BoundariesAccepted) {
  Quote q = QuoteWith(std::vector<QuoteLine>(200, Line(1000, 1)));
  q.valid_until = q.issue_date;
  q.win_probability = 100;
  ASSERT_TRUE(PriceQuote(q, tax::Rounding::kFloor).ok());
  EXPECT_EQ(q.totals.subtotal, 200);
  EXPECT_EQ(q.totals.tax, 20);
  Quote p = QuoteWith({Line(1000, 100)});
  p.lines[0].product_id = 8;
  p.lines[0].description = "";
  p.win_probability = 0;
  EXPECT_TRUE(PriceQuote(p, tax::Rounding::kFloor).ok());
}

TEST(PriceQuoteTest, TextCapsCountCharacters) {
  struct Case {
    const char* name;
    void (*fill)(Quote&, int extra);
    const char* field;
  };
  const Case kCases[] = {
      {"line description",
       [](Quote& q, int extra) { q.lines[1].description = Repeat("あ", 500 + extra); },
       "quote.lines[1].description"},
      {"line unit", [](Quote& q, int extra) { q.lines[1].unit = Repeat("あ", 20 + extra); },
       "quote.lines[1].unit"},
      {"note", [](Quote& q, int extra) { q.note = Repeat("あ", 500 + extra); }, "quote.note"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    Quote at = QuoteWith({Line(1000, 100), Line(1000, 100)});
    c.fill(at, 0);
    EXPECT_TRUE(PriceQuote(at, tax::Rounding::kFloor).ok());
    Quote over = QuoteWith({Line(1000, 100), Line(1000, 100)});
    c.fill(over, 1);
    absl::Status s = PriceQuote(over, tax::Rounding::kFloor);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(FieldOf(s), c.field);
    EXPECT_EQ(ReasonOf(s), "TOO_LONG");
    EXPECT_EQ(over.totals.subtotal, 0);  // unchanged on error
  }
}

// ---------------------------------------------------------------------------------------------
// CheckQuoteTransition

TEST(CheckQuoteTransitionTest, EveryPair) {
  using S = QuoteStatus;
  struct Case {
    S from;
    S to;
    const char* reason;  // "" = allowed
  };
  const Case kCases[] = {
      {S::kDraft, S::kDraft, "INVALID_TRANSITION"},
      {S::kDraft, S::kSent, ""},
      {S::kDraft, S::kAccepted, ""},
      {S::kDraft, S::kRejected, ""},
      {S::kSent, S::kDraft, "INVALID_TRANSITION"},
      {S::kSent, S::kSent, "QUOTE_NOT_DRAFT"},
      {S::kSent, S::kAccepted, ""},
      {S::kSent, S::kRejected, ""},
      {S::kAccepted, S::kDraft, "QUOTE_FINAL"},
      {S::kAccepted, S::kSent, "QUOTE_FINAL"},
      {S::kAccepted, S::kAccepted, "QUOTE_FINAL"},
      {S::kAccepted, S::kRejected, "QUOTE_FINAL"},
      {S::kRejected, S::kDraft, "QUOTE_FINAL"},
      {S::kRejected, S::kSent, "QUOTE_FINAL"},
      {S::kRejected, S::kAccepted, "QUOTE_FINAL"},
      {S::kRejected, S::kRejected, "QUOTE_FINAL"},
      {static_cast<S>(0), S::kSent, "INVALID_TRANSITION"},
      {S::kDraft, static_cast<S>(0), "INVALID_TRANSITION"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(absl::StrCat(static_cast<int>(c.from), " -> ", static_cast<int>(c.to)));
    absl::Status s = CheckQuoteTransition(c.from, c.to);
    if (std::string(c.reason).empty()) {
      EXPECT_TRUE(s.ok()) << s;
    } else {
      EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
      EXPECT_EQ(ReasonOf(s), c.reason);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// ComputeForecast

ForecastInput Fq(const std::string& group, int64_t subtotal, int probability, QuoteStatus status,
                 absl::CivilMonth month) {
  ForecastInput in;
  in.group = group;
  in.quote.totals.subtotal = subtotal;
  in.quote.win_probability = probability;
  in.quote.status = status;
  in.quote.expected_order_month = month;
  return in;
}

std::string Cells(const std::vector<ForecastCellValue>& cells) {
  std::vector<std::string> parts;
  for (const ForecastCellValue& c : cells) {
    parts.push_back(absl::StrCat(absl::FormatCivilTime(c.month), ":", c.expected_amount, "/",
                                 c.won_amount, "/", c.open_quotes));
  }
  return absl::StrJoin(parts, " ");
}

TEST(ComputeForecastTest, HandComputedTable) {
  using S = QuoteStatus;
  const absl::CivilMonth apr(2024, 4), may(2024, 5), jun(2024, 6);
  const std::vector<ForecastInput> quotes = {
      Fq("営業1部", 10001, 30, S::kDraft, apr),      // floor(3000.3) = 3000
      Fq("営業1部", 3333, 50, S::kSent, apr),        // floor(1666.5) = 1666
      Fq("営業1部", 20000, 70, S::kAccepted, may),   // won 20000 (probability ignored)
      Fq("営業1部", 99999, 50, S::kRejected, may),   // ignored
      Fq("営業1部", 7777, 70, S::kSent, jun),        // floor(5443.9) = 5443
      Fq("営業1部", 50000, 50, S::kDraft, absl::CivilMonth(2024, 7)),  // after the range
      Fq("営業1部", 50000, 50, S::kDraft, absl::CivilMonth(2024, 3)),  // before the range
      Fq("営業2部", 1001, 70, S::kDraft, may),       // floor(700.7) = 700
      Fq("営業2部", 1001, 70, S::kSent, may),        // 700: Σ floor = 1400, not floor(Σ) = 1401
      Fq("営業2部", 15000, 30, S::kAccepted, jun),   // won 15000
      Fq("営業3部", 999, 30, S::kSent, jun),         // floor(299.7) = 299
      Fq("営業3部", 5000, 50, S::kAccepted, apr),    // won
      Fq("営業3部", 2500, 50, S::kAccepted, apr),    // won: 7500 in April
      Fq("営業4部", 80000, 90, S::kRejected, may),   // only rejected: no row
      Fq("営業5部", 80000, 90, S::kDraft, absl::CivilMonth(2024, 8)),  // only outside: no row
  };
  const ForecastTable t = ComputeForecast(quotes, apr, jun);
  std::vector<std::string> groups;
  for (const auto& [group, cells] : t.rows) groups.push_back(group);
  EXPECT_THAT(groups, ElementsAre("営業1部", "営業2部", "営業3部"));
  EXPECT_EQ(Cells(t.rows.at("営業1部")),
            "2024-04:4666/0/2 2024-05:0/20000/0 2024-06:5443/0/1");
  EXPECT_EQ(Cells(t.rows.at("営業2部")),
            "2024-04:0/0/0 2024-05:1400/0/2 2024-06:0/15000/0");
  EXPECT_EQ(Cells(t.rows.at("営業3部")),
            "2024-04:0/7500/0 2024-05:0/0/0 2024-06:299/0/1");
  EXPECT_EQ(Cells(t.totals), "2024-04:4666/7500/2 2024-05:1400/20000/2 2024-06:5742/15000/2");

  // The totals are the column sums of the rows.
  for (size_t k = 0; k < t.totals.size(); ++k) {
    int64_t expected = 0, won = 0;
    int open = 0;
    for (const auto& [group, cells] : t.rows) {
      expected += cells[k].expected_amount;
      won += cells[k].won_amount;
      open += cells[k].open_quotes;
    }
    EXPECT_EQ(t.totals[k].expected_amount, expected);
    EXPECT_EQ(t.totals[k].won_amount, won);
    EXPECT_EQ(t.totals[k].open_quotes, open);
  }
}

TEST(ComputeForecastTest, EveryMonthInOrderEvenWhenEmpty) {
  const ForecastTable t =
      ComputeForecast({}, absl::CivilMonth(2024, 11), absl::CivilMonth(2025, 2));
  EXPECT_THAT(t.rows, IsEmpty());
  EXPECT_EQ(Cells(t.totals), "2024-11:0/0/0 2024-12:0/0/0 2025-01:0/0/0 2025-02:0/0/0");

  const ForecastTable one = ComputeForecast(
      {Fq("", 100, 0, QuoteStatus::kDraft, absl::CivilMonth(2025, 1))}, absl::CivilMonth(2024, 12),
      absl::CivilMonth(2025, 1));
  ASSERT_EQ(one.rows.size(), 1u);  // a 0% open quote still counts as an open quote
  EXPECT_EQ(Cells(one.rows.at("")), "2024-12:0/0/0 2025-01:0/0/1");
}

TEST(ComputeForecastTest, ReversedRangeIsEmpty) {
  const ForecastTable t = ComputeForecast(
      {Fq("営業1部", 100, 50, QuoteStatus::kDraft, absl::CivilMonth(2024, 5))},
      absl::CivilMonth(2024, 6), absl::CivilMonth(2024, 4));
  EXPECT_THAT(t.rows, IsEmpty());
  EXPECT_THAT(t.totals, IsEmpty());
}

// ---------------------------------------------------------------------------------------------
// SortTodosForDay

TEST(SortTodosForDayTest, OverdueFirstThenDueDateThenId) {
  auto todo = [](int64_t id, absl::CivilDay due) {
    Todo t;
    t.id = id;
    t.due_date = due;
    return t;
  };
  std::vector<Todo> todos = {
      todo(5, absl::CivilDay(2024, 6, 20)), todo(4, absl::CivilDay(2024, 6, 10)),
      todo(6, kToday),                      todo(3, absl::CivilDay(2024, 6, 10)),
      todo(1, kToday),                      todo(2, absl::CivilDay(2024, 6, 1)),
      todo(7, absl::CivilDay(2024, 6, 14)),
  };
  SortTodosForDay(todos, kToday);
  std::vector<int64_t> ids;
  for (const Todo& t : todos) ids.push_back(t.id);
  // Overdue: 2 (06-01), 3 and 4 (06-10, by id), 7 (06-14); then today's 1 and 6; then 5.
  EXPECT_THAT(ids, ElementsAre(2, 3, 4, 7, 1, 6, 5));
}

}  // namespace
}  // namespace anken::project
