// Case CSV bulk register/update, the pure part: encodings, headers in Japanese or English,
// value formats, per-row errors with the header as written and the file's line, and the plan.

#include "services/project/project_csv.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/csv/csv.h"
#include "common/status/domain_error.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace anken::project {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

const absl::CivilDay kToday(2024, 6, 15);
const std::vector<std::string> kStatuses = {"未着手", "進行中", "保留", "完了"};

std::string ReasonOf(const absl::Status& s) {
  absl::optional<absl::Cord> p = s.GetPayload(kDomainReasonPayload);
  return p ? std::string(*p) : std::string();
}
std::string FieldOf(const absl::Status& s) {
  absl::optional<absl::Cord> p = s.GetPayload(kDomainFieldPayload);
  return p ? std::string(*p) : std::string();
}

ProjectImportPlan Plan(absl::string_view csv) {
  absl::StatusOr<ProjectImportPlan> plan = PlanProjectImport(csv, kStatuses, kToday);
  EXPECT_TRUE(plan.ok()) << plan.status();
  return plan.ok() ? *std::move(plan) : ProjectImportPlan{};
}

std::string Errors(const ProjectImportPlan& plan) {
  std::string s;
  for (const ImportRowError& e : plan.errors) {
    absl::StrAppend(&s, e.row, "|", e.column, "|", e.code, "\n");
  }
  return s;
}

constexpr char kJapaneseHeader[] =
    "案件番号,顧客ID,案件名,案件区分ID,見積日,検収日,受注状況,進捗状況,担当者,部門,社内メモ,"
    "加盟店ID,紹介日\n";

TEST(PlanProjectImportTest, JapaneseHeadersCreateAndUpdate) {
  const std::string csv = absl::StrCat(
      kJapaneseHeader,
      ",12,本社空調更新,3,2024-05-01,2024/06/10,受注済,進行中,sato,営業1部,\"鍵は守衛室\n夜間不可\",21,"
      "2024/4/1\n",
      "0000123,14, 倉庫照明 ,,,,失注,,,,,,\n");
  const ProjectImportPlan plan = Plan(csv);
  EXPECT_EQ(Errors(plan), "");
  ASSERT_THAT(plan.rows, SizeIs(2));

  const ProjectImportRow& create = plan.rows[0];
  EXPECT_EQ(create.row, 2);
  const Project& p = create.project;
  EXPECT_EQ(p.id, 0);
  EXPECT_EQ(p.number, "");
  EXPECT_EQ(p.customer_id, 12);
  EXPECT_EQ(p.name, "本社空調更新");
  EXPECT_EQ(p.category_id, 3);
  EXPECT_EQ(p.quote_date, absl::CivilDay(2024, 5, 1));
  EXPECT_EQ(p.acceptance_date, absl::CivilDay(2024, 6, 10));
  EXPECT_EQ(p.order_status, OrderStatus::kWon);
  EXPECT_EQ(p.progress_status, "進行中");
  EXPECT_EQ(p.owner, "sato");
  EXPECT_EQ(p.department, "営業1部");
  EXPECT_EQ(p.memo, "鍵は守衛室\n夜間不可");
  ASSERT_TRUE(p.referral.has_value());
  EXPECT_EQ(p.referral->partner_id, 21);
  EXPECT_EQ(p.referral->referral_date, absl::CivilDay(2024, 4, 1));
  EXPECT_EQ(p.referral->outcome, Outcome::kInProgress);

  // The quoted newline makes row 2 span lines 2-3, so the next record starts on line 4.
  const ProjectImportRow& update = plan.rows[1];
  EXPECT_EQ(update.row, 4);
  EXPECT_EQ(update.project.id, 0);
  EXPECT_EQ(update.project.number, "0000123");
  EXPECT_EQ(update.project.customer_id, 14);
  EXPECT_EQ(update.project.name, "倉庫照明");
  EXPECT_EQ(update.project.category_id, 0);
  EXPECT_EQ(update.project.quote_date, absl::nullopt);
  EXPECT_EQ(update.project.order_status, OrderStatus::kLost);
  EXPECT_FALSE(update.project.referral.has_value());
}

TEST(PlanProjectImportTest, EnglishHeadersInAnyOrderAndCase) {
  const ProjectImportPlan plan = Plan(
      "Name,CUSTOMER_ID,order_status,Number,department\n"
      "Office move,7,won,0000042,Sales\n");
  EXPECT_EQ(Errors(plan), "");
  ASSERT_THAT(plan.rows, SizeIs(1));
  EXPECT_EQ(plan.rows[0].project.name, "Office move");
  EXPECT_EQ(plan.rows[0].project.customer_id, 7);
  EXPECT_EQ(plan.rows[0].project.order_status, OrderStatus::kWon);
  EXPECT_EQ(plan.rows[0].project.number, "0000042");
  EXPECT_EQ(plan.rows[0].project.department, "Sales");
}

TEST(PlanProjectImportTest, DateFormats) {
  struct Case {
    const char* text;
    bool ok;
  };
  const Case kCases[] = {
      {"2024-01-05", true},
      {"2024/01/05", true},
      {"2024/1/5", true},
      {"2024-1-5", true},
      {"２０２４／１／５", true},  // typed with a Japanese IME
      {" 2024/1/5 ", true},
      {"2024-02-30", false},
      {"2023/2/29", false},
      {"2024/13/01", false},
      {"2024/0/10", false},
      {"24/1/5", false},
      {"2024.1.5", false},
      {"2024/1/5/1", false},
      {"2024/001/5", false},
      {"20240105", false},
      {"0024/1/5", false},  // four digits, but no plausible year
      {"来週", false},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.text);
    const ProjectImportPlan plan =
        Plan(absl::StrCat("顧客ID,案件名,見積日\n", "1,案件,", c.text, "\n"));
    if (c.ok) {
      EXPECT_EQ(Errors(plan), "");
      ASSERT_THAT(plan.rows, SizeIs(1));
      EXPECT_EQ(plan.rows[0].project.quote_date, absl::CivilDay(2024, 1, 5));
    } else {
      EXPECT_EQ(Errors(plan), "2|見積日|INVALID_DATE\n");
      EXPECT_THAT(plan.rows, IsEmpty());
      ASSERT_THAT(plan.errors, SizeIs(1));
      EXPECT_THAT(plan.errors[0].message, HasSubstr("見積日"));
    }
  }
  // 2024 is a leap year.
  const ProjectImportPlan leap = Plan("顧客ID,案件名,検収日\n1,案件,2024/2/29\n");
  ASSERT_THAT(leap.rows, SizeIs(1));
  EXPECT_EQ(leap.rows[0].project.acceptance_date, absl::CivilDay(2024, 2, 29));
}

TEST(PlanProjectImportTest, OrderStatusNames) {
  struct Case {
    const char* text;
    OrderStatus status;
  };
  const Case kCases[] = {
      {"受注予定", OrderStatus::kProspect}, {"受注済", OrderStatus::kWon},
      {"受注済み", OrderStatus::kWon},      {"失注", OrderStatus::kLost},
      {"PROSPECT", OrderStatus::kProspect}, {"won", OrderStatus::kWon},
      {"Lost", OrderStatus::kLost},         {"", OrderStatus::kProspect},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.text);
    const ProjectImportPlan plan = Plan(absl::StrCat("顧客ID,案件名,受注状況\n1,案件,", c.text, "\n"));
    EXPECT_EQ(Errors(plan), "");
    ASSERT_THAT(plan.rows, SizeIs(1));
    EXPECT_EQ(plan.rows[0].project.order_status, c.status);
  }
  const ProjectImportPlan bad = Plan("顧客ID,案件名,Order_Status\n1,案件,受注\n");
  EXPECT_EQ(Errors(bad), "2|Order_Status|INVALID_ORDER_STATUS\n");
  EXPECT_THAT(bad.rows, IsEmpty());
}

TEST(PlanProjectImportTest, ProgressStatusMustBeConfigured) {
  const ProjectImportPlan plan = Plan("顧客ID,案件名,進捗状況\n1,案件A,保留\n2,案件B,謎\n3,案件C,\n");
  EXPECT_EQ(Errors(plan), "3|進捗状況|INVALID_PROGRESS_STATUS\n");
  ASSERT_THAT(plan.rows, SizeIs(2));
  EXPECT_EQ(plan.rows[0].project.progress_status, "保留");
  EXPECT_EQ(plan.rows[1].project.progress_status, "");
  EXPECT_EQ(plan.rows[1].row, 4);
}

TEST(PlanProjectImportTest, CaseNumbers) {
  const ProjectImportPlan plan = Plan(
      "案件番号,顧客ID,案件名\n"
      "0000123,1,a\n"
      "123,1,b\n"          // Excel dropped the zeros: not 7 digits
      "12345678,1,c\n"
      "00001a3,1,d\n"
      "0000000,1,e\n"
      "９９９９９９９,1,f\n"  // full-width digits
      ",1,g\n");
  EXPECT_EQ(Errors(plan),
            "3|案件番号|INVALID_NUMBER\n"
            "4|案件番号|INVALID_NUMBER\n"
            "5|案件番号|INVALID_NUMBER\n"
            "6|案件番号|INVALID_NUMBER\n");
  ASSERT_THAT(plan.rows, SizeIs(3));
  EXPECT_EQ(plan.rows[0].project.number, "0000123");
  EXPECT_EQ(plan.rows[1].project.number, "9999999");
  EXPECT_EQ(plan.rows[2].project.number, "");
  EXPECT_EQ(plan.rows[2].row, 8);
}

TEST(PlanProjectImportTest, DuplicateNumberOnTheSecondRow) {
  const ProjectImportPlan plan = Plan(
      "案件番号,顧客ID,案件名\n"
      "0000007,1,a\n"
      ",1,new one\n"
      ",1,new two\n"  // blank numbers are new cases, never duplicates
      "0000007,1,b\n");
  EXPECT_EQ(Errors(plan), "5|案件番号|DUPLICATE_NUMBER\n");
  ASSERT_THAT(plan.errors, SizeIs(1));
  EXPECT_THAT(plan.errors[0].message, HasSubstr("2 行目"));
  ASSERT_THAT(plan.rows, SizeIs(3));
  EXPECT_EQ(plan.rows[0].project.name, "a");
}

TEST(PlanProjectImportTest, RequiredAndNumbersReportedOncePerCell) {
  const ProjectImportPlan plan = Plan(
      "顧客ID,案件名,案件区分ID\n"
      ",名前あり,\n"
      "5,,\n"
      "abc,x,\n"    // INVALID_NUMBER only, not also REQUIRED
      "-3,x,\n"
      "5,x,1.5\n"
      "5,\xE3\x80\x80,\n"  // only an ideographic space
      ",,x\n");
  EXPECT_EQ(Errors(plan),
            "2|顧客ID|REQUIRED\n"
            "3|案件名|REQUIRED\n"
            "4|顧客ID|INVALID_NUMBER\n"
            "5|顧客ID|INVALID_NUMBER\n"
            "6|案件区分ID|INVALID_NUMBER\n"
            "7|案件名|REQUIRED\n"
            "8|案件区分ID|INVALID_NUMBER\n"
            "8|案件名|REQUIRED\n"
            "8|顧客ID|REQUIRED\n");
  EXPECT_THAT(plan.rows, IsEmpty());
}

TEST(PlanProjectImportTest, LengthsComeFromValidateProject) {
  std::string long_name;
  for (int i = 0; i < 201; ++i) long_name += "案";
  const ProjectImportPlan plan = Plan(absl::StrCat("顧客ID,案件名\n1,", long_name, "\n1,",
                                                   long_name.substr(3), "\n"));
  EXPECT_EQ(Errors(plan), "2|案件名|TOO_LONG\n");
  ASSERT_THAT(plan.rows, SizeIs(1));
  EXPECT_EQ(plan.rows[0].row, 3);
}

TEST(PlanProjectImportTest, ReferralNeedsPartnerAndDate) {
  const ProjectImportPlan plan = Plan(
      "顧客ID,案件名,加盟店ID,紹介日\n"
      "1,a,21,2024-06-15\n"
      "1,b,21,\n"
      "1,c,,2024-06-01\n"
      "1,d,21,2024-06-16\n"  // tomorrow
      "1,e,x1,2024-06-01\n"
      "1,f,,\n");
  EXPECT_EQ(Errors(plan),
            "3|紹介日|REQUIRED\n"
            "4|加盟店ID|REQUIRED\n"
            "5|紹介日|DATE_IN_FUTURE\n"
            "6|加盟店ID|INVALID_NUMBER\n");
  ASSERT_THAT(plan.rows, SizeIs(2));
  ASSERT_TRUE(plan.rows[0].project.referral.has_value());
  EXPECT_EQ(plan.rows[0].project.referral->partner_id, 21);
  EXPECT_EQ(plan.rows[0].project.referral->referral_date, kToday);
  EXPECT_EQ(plan.rows[0].project.referral->outcome, Outcome::kInProgress);
  EXPECT_FALSE(plan.rows[1].project.referral.has_value());
}

TEST(PlanProjectImportTest, ReferralColumnMissingIsNamedInJapanese) {
  const ProjectImportPlan plan = Plan("顧客ID,案件名,partner_id\n1,a,21\n");
  EXPECT_EQ(Errors(plan), "2|紹介日|REQUIRED\n");
}

TEST(PlanProjectImportTest, TooManyColumnsIsARowError) {
  const ProjectImportPlan plan = Plan("顧客ID,案件名\n1,a,surplus\n1,b,,\n");
  EXPECT_EQ(Errors(plan), "2||TOO_MANY_COLUMNS\n");
  ASSERT_THAT(plan.rows, SizeIs(1));  // empty extra cells (Excel) are fine
  EXPECT_EQ(plan.rows[0].project.name, "b");
}

TEST(PlanProjectImportTest, HeaderAsWrittenAndBlankRowsSkipped) {
  const ProjectImportPlan plan = Plan(
      "\"  顧客ＩＤ \",Quote_Date,案件名,,\n"
      "\n"
      ",,\n"
      "1,2024-99-01,a\n");
  EXPECT_EQ(Errors(plan), "4|Quote_Date|INVALID_DATE\n");
}

TEST(PlanProjectImportTest, Cp932AndBomInput) {
  const std::string utf8 = absl::StrCat(kJapaneseHeader,
                                        ",12,本社空調更新,,2024/1/5,,受注予定,未着手,佐藤,営業２部,メモ,,\n");
  absl::StatusOr<std::string> cp932 = csv::EncodeCp932(utf8);
  ASSERT_TRUE(cp932.ok()) << cp932.status();
  ASSERT_NE(*cp932, utf8);
  for (const std::string& bytes : {*cp932, absl::StrCat("\xEF\xBB\xBF", utf8), utf8}) {
    const ProjectImportPlan plan = Plan(bytes);
    EXPECT_EQ(Errors(plan), "");
    ASSERT_THAT(plan.rows, SizeIs(1));
    EXPECT_EQ(plan.rows[0].project.name, "本社空調更新");
    EXPECT_EQ(plan.rows[0].project.owner, "佐藤");
    EXPECT_EQ(plan.rows[0].project.department, "営業２部");  // free text is kept as written
    EXPECT_EQ(plan.rows[0].project.progress_status, "未着手");
    EXPECT_EQ(plan.rows[0].project.quote_date, absl::CivilDay(2024, 1, 5));
  }
}

TEST(PlanProjectImportTest, TwoThousandCp932RowsWithOneBadRow) {
  std::string utf8 = "案件番号,顧客ID,案件名,見積日,受注状況,進捗状況,担当者,部門\n";
  constexpr int kBadIndex = 1234;  // data row index; its line is kBadIndex + 2
  for (int i = 0; i < 2000; ++i) {
    const std::string number = i % 2 == 0 ? "" : absl::StrFormat("%07d", i);
    const std::string date = i == kBadIndex ? "2024/02/30" : "2024/2/29";
    absl::StrAppend(&utf8, number, ",", 100 + i, ",案件その", i, ",", date, ",",
                    i % 3 == 0 ? "受注済" : "受注予定", ",保留,担当", i % 7, ",営業", i % 3, "部\r\n");
  }
  absl::StatusOr<std::string> cp932 = csv::EncodeCp932(utf8);
  ASSERT_TRUE(cp932.ok()) << cp932.status();
  const ProjectImportPlan plan = Plan(*cp932);
  ASSERT_THAT(plan.errors, SizeIs(1));
  EXPECT_EQ(plan.errors[0].row, kBadIndex + 2);
  EXPECT_EQ(plan.errors[0].column, "見積日");
  EXPECT_EQ(plan.errors[0].code, "INVALID_DATE");
  ASSERT_THAT(plan.rows, SizeIs(1999));
  EXPECT_EQ(plan.rows[0].row, 2);
  EXPECT_EQ(plan.rows[0].project.number, "");
  EXPECT_EQ(plan.rows[1].project.number, "0000001");
  EXPECT_EQ(plan.rows[1998].row, 2001);
  EXPECT_EQ(plan.rows[1998].project.name, "案件その1999");
  EXPECT_EQ(plan.rows[1998].project.number, "0001999");
  for (const ProjectImportRow& r : plan.rows) ASSERT_NE(r.row, kBadIndex + 2);
}

TEST(PlanProjectImportTest, FileLevelErrors) {
  struct Case {
    const char* name;
    std::string bytes;
    const char* reason;
    const char* mentions;
  };
  std::string too_many = "顧客ID,案件名\n";
  for (int i = 0; i < 10001; ++i) too_many += "1,a\n";
  const Case kCases[] = {
      {"unknown column", "顧客ID,案件名,予算\n1,a,3\n", "UNKNOWN_COLUMN", "column 3"},
      {"blank header in the middle", "顧客ID,,案件名\n1,,a\n", "UNKNOWN_COLUMN", "column 2"},
      {"duplicate column", "顧客ID,案件名,name\n1,a,b\n", "DUPLICATE_COLUMN",
       "columns 2 and 3 of the header row are both 案件名 (name)"},
      {"no name column", "顧客ID,担当者\n1,sato\n", "MISSING_COLUMN", "案件名"},
      {"no customer column", "案件名\na\n", "MISSING_COLUMN", "顧客ID"},
      {"empty file", "", "NO_HEADER", "header"},
      {"blank first line", ",,\n1,a\n", "NO_HEADER", "header"},
      {"unterminated quote", "顧客ID,案件名\n1,\"a\n", "INVALID_CSV", "line"},
      {"neither UTF-8 nor CP932", "\xFF\xFE\xFD,\x81\n", "INVALID_ENCODING", ""},
      {"more than 10,000 rows", too_many, "TOO_MANY_ROWS", "10001"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<ProjectImportPlan> plan = PlanProjectImport(c.bytes, kStatuses, kToday);
    ASSERT_FALSE(plan.ok());
    EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(ReasonOf(plan.status()), c.reason);
    EXPECT_EQ(FieldOf(plan.status()), "csv");
    EXPECT_THAT(std::string(plan.status().message()), HasSubstr(c.mentions));
  }
  // A header cell is the client's text: named by position, never quoted back.
  for (const std::string& header : {std::string("顧客ID,案件名,CLIENT-TEXT-予算\n1,a,3\n"),
                                    std::string("顧客ID,案件名, name \n1,a,b\n")}) {
    absl::StatusOr<ProjectImportPlan> plan = PlanProjectImport(header, kStatuses, kToday);
    ASSERT_FALSE(plan.ok());
    EXPECT_THAT(std::string(plan.status().message()), Not(HasSubstr("CLIENT-TEXT")));
    EXPECT_THAT(std::string(plan.status().message()), Not(HasSubstr(" name ")));
  }
  // Exactly 10,000 rows are fine.
  std::string limit = "顧客ID,案件名\n";
  for (int i = 0; i < 10000; ++i) limit += "1,a\n";
  EXPECT_THAT(Plan(limit).rows, SizeIs(10000));
}

}  // namespace
}  // namespace anken::project
