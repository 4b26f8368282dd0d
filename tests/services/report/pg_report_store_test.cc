// PgReportStore against a real Postgres: a fresh database per test, migrated with the
// service's migrations. Rows are counted with a separate connection, so "nothing was written"
// is checked against what the database holds. Effects are planned by hand here: the store must
// not depend on the planning rules.

#include "services/report/pg_report_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/clock/clock.h"
#include "common/db/migrate.h"
#include "common/db/pool.h"
#include "common/status/errors.h"
#include "services/report/report_rules.h"
#include "tests/support/test_database.h"

namespace anken::report {
namespace {

using ::testing::ElementsAre;
using ::testing::SizeIs;

constexpr char kService[] = "/anken.report.v1.ReportIntakeService/";
constexpr int64_t kPartnerA = 11;
constexpr int64_t kPartnerB = 12;

absl::CivilDay D(int y, int m, int d) { return absl::CivilDay(y, m, d); }

LineSnapshot Snap(int64_t project_id, const std::string& number) {
  LineSnapshot s;
  s.project_id = project_id;
  s.case_number = number;
  s.customer_name = absl::StrCat("顧客", number);
  s.referral_date = D(2026, 1, 15);
  return s;
}

// What a handler's encoder would keep for a replay, deterministically.
std::string EncodeOpened(const OpenedPeriod& o) {
  std::vector<std::string> ids;
  for (const ReportView& r : o.reports) {
    ids.push_back(absl::StrCat(r.report.id, ":", r.report.partner_id, ":", r.line_count));
  }
  return absl::StrCat(o.created ? "created" : "existing", "|", absl::StrJoin(ids, ","));
}

std::string EncodeSubmitted(const Submitted& s) {
  std::vector<std::string> effects;
  for (const Effect& e : s.submission.effects) effects.push_back(e.request_id);
  return absl::StrCat(s.submission.id, "|", s.submission.sequence, "|",
                      absl::StrJoin(effects, ","));
}

class PgReportStoreTest : public ::testing::Test {
 protected:
  PgReportStoreTest() : pool_(Options(db_.url())), store_(pool_) {}

  void SetUp() override {
    absl::Status migrated = db::Migrate(db_.url(), "report", ANKEN_REPORT_MIGRATIONS);
    ASSERT_TRUE(migrated.ok()) << migrated;
  }

  static db::PoolOptions Options(const std::string& url) {
    db::PoolOptions o;
    o.url = url;
    o.size = 6;
    return o;
  }

  WriteContext Ctx(const std::string& method, const std::string& request_id = "",
                   const std::string& hash = "h") const {
    WriteContext w;
    w.actor = "partner-user";
    w.actor_role = "partner";
    w.method = absl::StrCat(kService, method);
    w.request_id = request_id;
    w.request_hash = request_id.empty() ? "" : hash;
    w.now = now_;
    w.deadline = absl::Now() + absl::Seconds(30);
    return w;
  }

  int64_t Count(const std::string& sql) const {
    pqxx::connection c(db_.url());
    pqxx::nontransaction tx(c);
    return tx.exec1(sql)[0].as<int64_t>();
  }

  // April 2026 with partner A (two cases) and partner B (one case).
  std::vector<ReportView> OpenApril(const std::string& request_id = "open-1") {
    absl::StatusOr<Period> period = MakePeriod(absl::CivilMonth(2026, 4));
    EXPECT_TRUE(period.ok());
    std::vector<NewReport> reports = {
        {kPartnerA, "加盟店A", "a@example.com", {Snap(101, "0000101"), Snap(102, "0000102")}},
        {kPartnerB, "加盟店B", "b@example.com", {Snap(201, "0000201")}}};
    absl::StatusOr<std::string> bytes =
        store_.OpenPeriod(Ctx("OpenPeriod", request_id), *period, reports, EncodeOpened);
    EXPECT_TRUE(bytes.ok()) << bytes.status();
    ReportFilter f;
    f.now = now_;
    absl::StatusOr<std::vector<ReportView>> all = store_.ListReports(f, 0, 100, Deadline());
    EXPECT_TRUE(all.ok()) << all.status();
    return all.value_or(std::vector<ReportView>());
  }

  std::vector<StoredLine> LinesOf(int64_t report_id) {
    absl::StatusOr<std::vector<StoredLine>> lines = store_.ListLines(report_id, 0, 0, Deadline());
    EXPECT_TRUE(lines.ok()) << lines.status();
    return lines.value_or(std::vector<StoredLine>());
  }

  absl::StatusOr<std::vector<StoredLine>> Answer(int64_t report_id, std::vector<AnswerWrite> w) {
    return store_.WriteAnswers(Ctx("ReportChange"), report_id,
                               [w](const ReportView&, const std::vector<StoredLine>&) {
                                 return absl::StatusOr<std::vector<AnswerWrite>>(w);
                               });
  }

  static Change Completed(int64_t amount, std::vector<ExtraOrder> extras = {}) {
    Change c;
    c.outcome = Outcome::kCompleted;
    c.completion_date = D(2026, 3, 20);
    c.amount = amount;
    c.extra_orders = std::move(extras);
    return c;
  }

  static ExtraOrder Extra(int64_t amount) {
    ExtraOrder x;
    x.kind = ExtraKind::kAdditional;
    x.order_date = D(2026, 3, 25);
    x.amount = amount;
    x.note = "追加";
    return x;
  }

  // A plan with one outcome effect per changed line and one commission depending on it.
  static SubmissionPlanner HandPlanner() {
    return [](const ReportView&, const std::vector<StoredLine>& lines,
              int sequence) -> absl::StatusOr<SubmissionPlan> {
      SubmissionPlan p;
      for (const StoredLine& l : lines) {
        if (l.line.answer != Answer::kChanged) continue;
        const int outcome = static_cast<int>(p.effects.size());
        p.effects.push_back(NewEffect{EffectKind::kRecordOutcome, l.line.id,
                                      absl::StrCat("line-", l.line.id, "-outcome-", sequence),
                                      "{\"n\":1}", "outcome", -1});
        p.effects.push_back(NewEffect{EffectKind::kCommission, l.line.id,
                                      absl::StrCat("line-", l.line.id, "-charge-", sequence),
                                      "{\"n\":2}", "commission", outcome});
        p.lines.push_back(LineApplied{l.line.id, "key", static_cast<int>(
                                                            l.line.change.extra_orders.size())});
      }
      return p;
    };
  }

  static absl::Time Deadline() { return absl::Now() + absl::Seconds(30); }

  anken::testing::ScratchDatabase db_{"reportstore"};
  db::Pool pool_;
  PgReportStore store_;
  absl::Time now_ = FromTokyo(absl::CivilSecond(2026, 4, 2, 10, 0, 0));
};

TEST_F(PgReportStoreTest, OpeningAMonthTwiceWritesOneSetOfReports) {
  std::vector<ReportView> reports = OpenApril("open-1");
  ASSERT_THAT(reports, SizeIs(2));
  EXPECT_EQ(reports[0].report.partner_id, kPartnerA);
  EXPECT_EQ(reports[0].line_count, 2);
  EXPECT_EQ(reports[0].partner_email, "a@example.com");
  EXPECT_EQ(reports[0].period.deadline_day, D(2026, 4, 6));  // 4/1 Wed .. 4/6 Mon

  // Another request_id, and other snapshots: the open month is left as it is.
  absl::StatusOr<Period> period = MakePeriod(absl::CivilMonth(2026, 4));
  ASSERT_TRUE(period.ok());
  std::vector<NewReport> other = {{99, "別", "", {Snap(999, "0000999")}}};
  absl::StatusOr<std::string> again =
      store_.OpenPeriod(Ctx("OpenPeriod", "open-2"), *period, other, EncodeOpened);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->substr(0, 9), "existing|");
  EXPECT_EQ(Count("SELECT count(*) FROM report.reports"), 2);
  EXPECT_EQ(Count("SELECT count(*) FROM report.lines"), 3);
  EXPECT_EQ(Count("SELECT count(*) FROM report.audit_events WHERE resource_type = 'period'"), 1);

  // The same request_id replays the first answer.
  absl::StatusOr<std::string> replay =
      store_.OpenPeriod(Ctx("OpenPeriod", "open-1"), *period, other, EncodeOpened);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(replay->substr(0, 8), "created|");
}

TEST_F(PgReportStoreTest, ConcurrentOpenersMakeOneSetOfReports) {
  absl::StatusOr<Period> period = MakePeriod(absl::CivilMonth(2026, 5));
  ASSERT_TRUE(period.ok());
  std::vector<NewReport> reports = {{kPartnerA, "A", "", {Snap(101, "0000101")}}};
  std::mutex mu;
  int created = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      absl::StatusOr<std::string> b = store_.OpenPeriod(
          Ctx("OpenPeriod", absl::StrCat("concurrent-", i)), *period, reports, EncodeOpened);
      ASSERT_TRUE(b.ok()) << b.status();
      std::lock_guard<std::mutex> lock(mu);
      if (b->rfind("created", 0) == 0) ++created;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created, 1);
  EXPECT_EQ(Count("SELECT count(*) FROM report.reports"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM report.lines"), 1);
}

TEST_F(PgReportStoreTest, AnswersAreWrittenWithTheirExtraOrdersAndARefusalWritesNothing) {
  std::vector<ReportView> reports = OpenApril();
  const int64_t rid = reports[0].report.id;
  std::vector<StoredLine> lines = LinesOf(rid);
  ASSERT_THAT(lines, SizeIs(2));
  EXPECT_EQ(lines[0].line.snapshot.case_number, "0000101");
  EXPECT_EQ(lines[0].line.answer, Answer::kUnanswered);

  absl::StatusOr<std::vector<StoredLine>> written =
      Answer(rid, {{lines[0].line.id, Answer::kChanged, Completed(500000, {Extra(1000), Extra(2000)})},
                   {lines[1].line.id, Answer::kNoChange, Change()}});
  ASSERT_TRUE(written.ok()) << written.status();
  ASSERT_THAT(*written, SizeIs(2));
  const StoredLine& changed = (*written)[0];
  EXPECT_EQ(changed.line.answer, Answer::kChanged);
  EXPECT_EQ(changed.line.change.outcome, Outcome::kCompleted);
  EXPECT_EQ(changed.line.change.amount, 500000);
  ASSERT_THAT(changed.line.change.extra_orders, SizeIs(2));
  EXPECT_EQ(changed.line.change.extra_orders[1].amount, 2000);
  EXPECT_THAT(changed.extra_order_ids, SizeIs(2));
  EXPECT_EQ(changed.version, lines[0].version + 1);
  EXPECT_EQ(changed.answered_by, "partner-user");

  absl::StatusOr<ReportView> report = store_.GetReport(rid, Deadline());
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->checked_count, 2);

  // Replacing the answer replaces the (unapplied) orders.
  written = Answer(rid, {{lines[0].line.id, Answer::kChanged, Completed(500000, {Extra(3000)})}});
  ASSERT_TRUE(written.ok()) << written.status();
  ASSERT_THAT((*written)[0].line.change.extra_orders, SizeIs(1));
  EXPECT_EQ((*written)[0].line.change.extra_orders[0].amount, 3000);
  EXPECT_EQ(Count("SELECT count(*) FROM report.line_extra_orders"), 1);

  // A planner that refuses: nothing written, its status returned.
  const int64_t events = Count("SELECT count(*) FROM report.audit_events");
  absl::StatusOr<std::vector<StoredLine>> refused = store_.WriteAnswers(
      Ctx("MarkNoChange"), rid,
      [](const ReportView&, const std::vector<StoredLine>&)
          -> absl::StatusOr<std::vector<AnswerWrite>> {
        return absl::FailedPreconditionError("no");
      });
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Count("SELECT count(*) FROM report.audit_events"), events);
  EXPECT_EQ(Count("SELECT count(*) FROM report.line_extra_orders"), 1);

  EXPECT_EQ(Answer(987654, {}).status().code(), absl::StatusCode::kNotFound);
}

// Every stored field of a line, as text: what WriteAnswers returns must read as a fresh read
// of the line does.
std::string Describe(const StoredLine& l) {
  auto day = [](const absl::optional<absl::CivilDay>& d) {
    return d ? absl::FormatCivilTime(*d) : std::string("-");
  };
  std::string out = absl::StrCat(
      l.line.id, " report ", l.line.report_id, " answer ", static_cast<int>(l.line.answer),
      " outcome ", static_cast<int>(l.line.change.outcome), " ", day(l.line.change.completion_date),
      " ", l.line.change.amount, " ", day(l.line.change.lost_date), " '", l.line.change.remarks,
      "' partner ", l.partner_id, " applied ", l.applied_extra_orders, " '", l.submitted_answer,
      "' by ", l.answered_by, " at ",
      l.answer_time ? absl::FormatTime(*l.answer_time) : std::string("-"), " v", l.version,
      " orders");
  for (size_t i = 0; i < l.line.change.extra_orders.size(); ++i) {
    const ExtraOrder& x = l.line.change.extra_orders[i];
    absl::StrAppend(&out, " [", i < l.extra_order_ids.size() ? l.extra_order_ids[i] : 0, " ",
                    static_cast<int>(x.kind), " ", absl::FormatCivilTime(x.order_date), " ",
                    x.amount, " ", x.note, "]");
  }
  return absl::StrCat(out, " ids ", l.extra_order_ids.size());
}

TEST_F(PgReportStoreTest, ManyAnswersAreWrittenAtOnceWithAnEventEachAndALineTwiceInTurn) {
  // A report of 300 lines (an upload's size, scaled down), all answered in one call.
  absl::StatusOr<Period> period = MakePeriod(absl::CivilMonth(2026, 6));
  ASSERT_TRUE(period.ok());
  NewReport big{kPartnerA, "A", "", {}};
  for (int i = 0; i < 300; ++i) {
    big.lines.push_back(Snap(1000 + i, absl::StrFormat("%07d", 1000 + i)));
  }
  ASSERT_TRUE(store_.OpenPeriod(Ctx("OpenPeriod", "open-june"), *period, {big}, EncodeOpened).ok());
  ReportFilter f;
  f.now = now_;
  f.month = absl::CivilMonth(2026, 6);
  absl::StatusOr<std::vector<ReportView>> reports = store_.ListReports(f, 0, 10, Deadline());
  ASSERT_TRUE(reports.ok() && reports->size() == 1u);
  const int64_t rid = (*reports)[0].report.id;
  std::vector<StoredLine> lines = LinesOf(rid);
  ASSERT_THAT(lines, SizeIs(300));
  EXPECT_EQ(lines[299].line.snapshot.case_number, "0001299");
  std::vector<AnswerWrite> writes;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i % 3 == 0) {
      writes.push_back({lines[i].line.id, Answer::kChanged,
                        Completed(1000 * static_cast<int64_t>(i + 1),
                                  i % 2 == 0 ? std::vector<ExtraOrder>{Extra(500)}
                                             : std::vector<ExtraOrder>{})});
    } else {
      writes.push_back({lines[i].line.id, Answer::kNoChange, Change()});
    }
  }
  std::reverse(writes.begin(), writes.end());  // the plan's order, not the lines'
  const int64_t events = Count("SELECT count(*) FROM report.audit_events");
  // The page of each line before the answers (V002: lines keep half of each page free).
  {
    pqxx::connection c(db_.url());
    pqxx::nontransaction tx(c);
    tx.exec0(absl::StrCat("CREATE TABLE report.pages_before AS SELECT id, "
                          "(ctid::text::point)[0] AS page FROM report.lines WHERE report_id = ",
                          rid));
  }
  absl::StatusOr<std::vector<StoredLine>> written = Answer(rid, writes);
  ASSERT_TRUE(written.ok()) << written.status();
  ASSERT_THAT(*written, SizeIs(300));
  // Nearly every new line version stayed on its page (a HOT update: no index entries). The
  // last few a page takes in one statement outgrow the free half; without V002 all 300 move.
  const int64_t moved =
      Count("SELECT count(*) FROM report.lines l JOIN report.pages_before b USING (id) "
            "WHERE (l.ctid::text::point)[0] <> b.page");
  EXPECT_LE(moved, 300 / 6) << moved << " of 300 lines moved to another page";
  EXPECT_EQ(Count("SELECT count(*) FROM report.pages_before"), 300);
  EXPECT_EQ((*written)[0].line.id, writes[0].line_id);  // in the plan's order
  for (const StoredLine& l : *written) {
    const size_t i = static_cast<size_t>(l.line.snapshot.project_id - 1000);
    SCOPED_TRACE(i);
    EXPECT_EQ(l.version, 2);
    EXPECT_EQ(l.answered_by, "partner-user");
    if (i % 3 == 0) {
      EXPECT_EQ(l.line.answer, Answer::kChanged);
      EXPECT_EQ(l.line.change.amount, 1000 * static_cast<int64_t>(i + 1));
      EXPECT_EQ(l.line.change.extra_orders.size(), i % 2 == 0 ? 1u : 0u);
    } else {
      EXPECT_EQ(l.line.answer, Answer::kNoChange);
    }
  }
  // What the call returned is what is stored.
  std::map<int64_t, std::string> stored;
  for (const StoredLine& l : LinesOf(rid)) stored[l.line.id] = Describe(l);
  for (const StoredLine& l : *written) EXPECT_EQ(Describe(l), stored[l.line.id]);
  EXPECT_EQ(Count("SELECT count(*) FROM report.audit_events"), events + 300);
  EXPECT_EQ(Count(absl::StrCat("SELECT count(*) FROM report.audit_events WHERE resource_id = "
                               "'reports/", rid, "/lines/", lines[3].line.id,
                               "' AND change_json->'answer'->'new'->>'answer' = 'CHANGED'")),
            1);
  EXPECT_EQ(Count("SELECT count(*) FROM report.line_extra_orders"), 50);
  absl::StatusOr<ReportView> report = store_.GetReport(rid, Deadline());
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->checked_count, 300);

  // A plan naming a line twice: applied one after the other, the second over the first.
  written = Answer(rid, {{lines[1].line.id, Answer::kChanged, Completed(7000, {Extra(700)})},
                         {lines[1].line.id, Answer::kNoChange, Change()}});
  ASSERT_TRUE(written.ok()) << written.status();
  ASSERT_THAT(*written, SizeIs(2));
  EXPECT_EQ((*written)[1].line.answer, Answer::kNoChange);
  EXPECT_EQ((*written)[1].version, 4);
  EXPECT_TRUE((*written)[1].line.change.extra_orders.empty());
  EXPECT_EQ(Count(absl::StrCat("SELECT count(*) FROM report.audit_events WHERE resource_id = "
                               "'reports/", rid, "/lines/", lines[1].line.id,
                               "' AND change_json->'answer'->'old'->>'answer' = 'CHANGED'")),
            1);
}

TEST_F(PgReportStoreTest, SubmittingStoresTheEffectsOnceAndMarksTheReport) {
  std::vector<ReportView> reports = OpenApril();
  const int64_t rid = reports[0].report.id;
  std::vector<StoredLine> lines = LinesOf(rid);
  ASSERT_TRUE(Answer(rid, {{lines[0].line.id, Answer::kChanged, Completed(500000, {Extra(1000)})},
                           {lines[1].line.id, Answer::kNoChange, Change()}})
                  .ok());
  absl::StatusOr<std::string> bytes =
      store_.SubmitReport(Ctx("SubmitReport", "submit-1"), rid, HandPlanner(), EncodeSubmitted);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  const std::string outcome_id = absl::StrCat("line-", lines[0].line.id, "-outcome-1");
  EXPECT_NE(bytes->find(outcome_id), std::string::npos) << *bytes;

  absl::StatusOr<ReportView> report = store_.GetReport(rid, Deadline());
  ASSERT_TRUE(report.ok());
  ASSERT_TRUE(report->report.submit_time.has_value());
  EXPECT_EQ(*report->report.submit_time, now_);
  EXPECT_EQ(report->submission_count, 1);
  EXPECT_EQ(report->report.version, 2);
  EXPECT_EQ(Count("SELECT count(*) FROM report.effects"), 2);
  EXPECT_EQ(Count("SELECT count(*) FROM report.effects WHERE depends_on IS NOT NULL"), 1);
  absl::StatusOr<StoredLine> applied = store_.GetLine(lines[0].line.id, Deadline());
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(applied->submitted_answer, "key");
  EXPECT_EQ(applied->applied_extra_orders, 1);

  // A retry replays; another request is refused by the planner's state rule, writing nothing.
  absl::StatusOr<std::string> replay =
      store_.SubmitReport(Ctx("SubmitReport", "submit-1"), rid, HandPlanner(), EncodeSubmitted);
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(*replay, *bytes);
  absl::StatusOr<std::string> second = store_.SubmitReport(
      Ctx("SubmitReport", "submit-2"), rid,
      [](const ReportView& r, const std::vector<StoredLine>& l,
         int) -> absl::StatusOr<SubmissionPlan> {
        if (absl::Status s = CheckSubmittable(r.report, {}, true); !s.ok()) return s;
        (void)l;
        return SubmissionPlan();
      },
      EncodeSubmitted);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Count("SELECT count(*) FROM report.submissions"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM report.effects"), 2);

  // Reopened, the applied order stays (a new answer cannot delete it) and a second submission
  // gets sequence 2.
  absl::StatusOr<ReportView> reopened = store_.ReopenReport(
      Ctx("ReopenReport"), rid, [](const ReportView& r) { return CheckReopen(r.report, "誤り"); },
      "誤り");
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_FALSE(reopened->report.submit_time.has_value());
  EXPECT_EQ(Count("SELECT count(*) FROM report.audit_events WHERE resource_type = 'report' "
                  "AND change_json->'reason'->>'new' = '誤り'"),
            1);
  absl::StatusOr<std::vector<StoredLine>> rewritten = Answer(
      rid, {{lines[0].line.id, Answer::kChanged, Completed(600000, {Extra(1000), Extra(4000)})},
            {lines[1].line.id, Answer::kNoChange, Change()}});
  ASSERT_TRUE(rewritten.ok()) << rewritten.status();
  absl::StatusOr<StoredLine> kept = store_.GetLine(lines[0].line.id, Deadline());
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(Describe((*rewritten)[0]), Describe(*kept));  // the applied order kept, one added
  ASSERT_THAT(kept->extra_order_ids, SizeIs(2));
  EXPECT_EQ(kept->extra_order_ids[0], applied->extra_order_ids[0]);
  absl::StatusOr<std::string> resubmit =
      store_.SubmitReport(Ctx("SubmitReport", "submit-3"), rid, HandPlanner(), EncodeSubmitted);
  ASSERT_TRUE(resubmit.ok()) << resubmit.status();
  EXPECT_NE(resubmit->find(absl::StrCat("line-", lines[0].line.id, "-outcome-2")),
            std::string::npos);
  absl::StatusOr<std::vector<Submission>> subs = store_.ListSubmissions(rid, 0, Deadline());
  ASSERT_TRUE(subs.ok());
  ASSERT_THAT(*subs, SizeIs(2));
  EXPECT_EQ((*subs)[1].sequence, 2);
  EXPECT_THAT((*subs)[0].effects, SizeIs(2));
  EXPECT_EQ((*subs)[0].effects[0].case_number, "0000101");
}

TEST_F(PgReportStoreTest, ClaimsLeaseDueEffectsInDependencyOrderAndRetryLater) {
  std::vector<ReportView> reports = OpenApril();
  const int64_t rid = reports[0].report.id;
  std::vector<StoredLine> lines = LinesOf(rid);
  ASSERT_TRUE(Answer(rid, {{lines[0].line.id, Answer::kChanged, Completed(500000)},
                           {lines[1].line.id, Answer::kChanged, Completed(700000)}})
                  .ok());
  ASSERT_TRUE(
      store_.SubmitReport(Ctx("SubmitReport", "s-1"), rid, HandPlanner(), EncodeSubmitted).ok());

  const absl::Duration lease = absl::Minutes(1);
  // Only the outcomes are due: the commissions wait for them.
  absl::StatusOr<std::vector<Effect>> first = store_.ClaimEffects("r1", now_, lease, 10, Deadline());
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_THAT(*first, SizeIs(2));
  EXPECT_EQ((*first)[0].kind, EffectKind::kRecordOutcome);
  EXPECT_EQ((*first)[0].attempts, 1);
  EXPECT_EQ((*first)[0].payload, "{\"n\": 1}");  // jsonb's text form
  // Leased: another replica gets nothing now.
  absl::StatusOr<std::vector<Effect>> none = store_.ClaimEffects("r2", now_, lease, 10, Deadline());
  ASSERT_TRUE(none.ok());
  EXPECT_THAT(*none, SizeIs(0));

  // One done, one failed: the done one's commission becomes due, the failed one waits.
  absl::StatusOr<bool> done = store_.MarkEffectDone((*first)[0].id, now_, Deadline());
  ASSERT_TRUE(done.ok());
  EXPECT_TRUE(*done);
  absl::StatusOr<bool> again = store_.MarkEffectDone((*first)[0].id, now_, Deadline());
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  ASSERT_TRUE(store_.MarkEffectFailed((*first)[1].id, "r1", now_ + absl::Minutes(5), "down",
                                      Deadline())
                  .ok());
  absl::StatusOr<std::vector<Effect>> second =
      store_.ClaimEffects("r2", now_, lease, 10, Deadline());
  ASSERT_TRUE(second.ok());
  ASSERT_THAT(*second, SizeIs(1));
  EXPECT_EQ((*second)[0].kind, EffectKind::kCommission);
  EXPECT_EQ((*second)[0].depends_on, (*first)[0].id);

  ASSERT_TRUE(store_.MarkEffectDone((*second)[0].id, now_, Deadline()).ok());

  // After the backoff the failed outcome is due again, with its error kept until then.
  absl::StatusOr<std::vector<Submission>> subs = store_.ListSubmissions(rid, 0, Deadline());
  ASSERT_TRUE(subs.ok());
  const Effect& failed = (*subs)[0].effects[2];
  EXPECT_EQ(failed.id, (*first)[1].id);
  EXPECT_EQ(failed.last_error, "down");
  EXPECT_EQ(failed.next_attempt_time, now_ + absl::Minutes(5));
  absl::StatusOr<std::vector<Effect>> early =
      store_.ClaimEffects("r1", now_ + absl::Minutes(4), lease, 10, Deadline());
  ASSERT_TRUE(early.ok());
  EXPECT_THAT(*early, SizeIs(0));
  absl::StatusOr<std::vector<Effect>> later =
      store_.ClaimEffects("r1", now_ + absl::Minutes(5), lease, 10, Deadline());
  ASSERT_TRUE(later.ok());
  ASSERT_THAT(*later, SizeIs(1));
  EXPECT_EQ((*later)[0].id, failed.id);
  EXPECT_EQ((*later)[0].attempts, 2);

  // r1 dies holding it: once the lease lapses r3 takes it over, and r1's late report of a
  // failure no longer touches it.
  absl::StatusOr<std::vector<Effect>> taken =
      store_.ClaimEffects("r3", now_ + absl::Minutes(7), lease, 10, Deadline());
  ASSERT_TRUE(taken.ok());
  ASSERT_THAT(*taken, SizeIs(1));
  EXPECT_EQ((*taken)[0].id, failed.id);
  EXPECT_EQ((*taken)[0].attempts, 3);
  ASSERT_TRUE(store_.MarkEffectFailed(failed.id, "r1", now_ + absl::Hours(1), "late", Deadline())
                  .ok());
  EXPECT_EQ(Count(absl::StrCat("SELECT count(*) FROM report.effects WHERE id = ", failed.id,
                               " AND lease_owner = 'r3' AND last_error = 'down'")),
            1);
  ASSERT_TRUE(store_.MarkEffectDone(failed.id, now_ + absl::Minutes(7), Deadline()).ok());
  EXPECT_EQ(Count("SELECT count(*) FROM report.effects WHERE done_at IS NULL"), 1);
}

TEST_F(PgReportStoreTest, ReplicasClaimingAtOnceTakeDifferentEffects) {
  // Many changed lines in one report, submitted: 40 outcome effects due at once.
  absl::StatusOr<Period> period = MakePeriod(absl::CivilMonth(2026, 6));
  ASSERT_TRUE(period.ok());
  NewReport nr{kPartnerA, "A", "", {}};
  for (int i = 0; i < 40; ++i) nr.lines.push_back(Snap(1000 + i, absl::StrFormat("%07d", 1000 + i)));
  ASSERT_TRUE(store_.OpenPeriod(Ctx("OpenPeriod", "o"), *period, {nr}, EncodeOpened).ok());
  ReportFilter f;
  f.now = now_;
  absl::StatusOr<std::vector<ReportView>> reports = store_.ListReports(f, 0, 10, Deadline());
  ASSERT_TRUE(reports.ok());
  const int64_t rid = (*reports)[0].report.id;
  std::vector<AnswerWrite> writes;
  for (const StoredLine& l : LinesOf(rid)) writes.push_back({l.line.id, Answer::kChanged, Completed(1)});
  ASSERT_TRUE(Answer(rid, writes).ok());
  SubmissionPlanner outcomes_only = [](const ReportView&, const std::vector<StoredLine>& lines,
                                       int) -> absl::StatusOr<SubmissionPlan> {
    SubmissionPlan p;
    for (const StoredLine& l : lines) {
      p.effects.push_back(NewEffect{EffectKind::kRecordOutcome, l.line.id,
                                    absl::StrCat("o-", l.line.id), "{}", "outcome", -1});
    }
    return p;
  };
  ASSERT_TRUE(store_.SubmitReport(Ctx("SubmitReport", "s"), rid, outcomes_only, EncodeSubmitted).ok());

  std::mutex mu;
  std::vector<int64_t> claimed;
  std::vector<std::thread> replicas;
  for (int r = 0; r < 4; ++r) {
    replicas.emplace_back([&, r] {
      for (;;) {
        absl::StatusOr<std::vector<Effect>> got =
            store_.ClaimEffects(absl::StrCat("replica-", r), now_, absl::Minutes(1), 3, Deadline());
        ASSERT_TRUE(got.ok()) << got.status();
        if (got->empty()) return;
        std::lock_guard<std::mutex> lock(mu);
        for (const Effect& e : *got) claimed.push_back(e.id);
      }
    });
  }
  for (auto& t : replicas) t.join();
  std::set<int64_t> unique(claimed.begin(), claimed.end());
  EXPECT_EQ(claimed.size(), 40u);
  EXPECT_EQ(unique.size(), 40u);
  EXPECT_EQ(Count("SELECT count(*) FROM report.effects WHERE attempts = 1"), 40);
}

TEST_F(PgReportStoreTest, ListsReportsByDerivedStatus) {
  std::vector<ReportView> reports = OpenApril();
  const int64_t a = reports[0].report.id;
  const int64_t b = reports[1].report.id;
  std::vector<StoredLine> lines = LinesOf(a);
  ASSERT_TRUE(Answer(a, {{lines[0].line.id, Answer::kNoChange, Change()}}).ok());

  auto ids = [&](std::vector<ReportStatus> statuses, absl::Time at) {
    ReportFilter f;
    f.statuses = std::move(statuses);
    f.now = at;
    absl::StatusOr<std::vector<ReportView>> got = store_.ListReports(f, 0, 100, Deadline());
    EXPECT_TRUE(got.ok()) << got.status();
    std::vector<int64_t> out;
    for (const ReportView& r : got.value_or(std::vector<ReportView>())) out.push_back(r.report.id);
    return out;
  };
  EXPECT_THAT(ids({ReportStatus::kInProgress}, now_), ElementsAre(a));
  EXPECT_THAT(ids({ReportStatus::kNotStarted}, now_), ElementsAre(b));
  EXPECT_THAT(ids({ReportStatus::kOverdue}, now_), ElementsAre());
  const absl::Time after_deadline = reports[0].period.deadline;
  EXPECT_THAT(ids({ReportStatus::kOverdue}, after_deadline), ElementsAre(a, b));
  EXPECT_THAT(ids({ReportStatus::kOverdue}, after_deadline - absl::Microseconds(1)), ElementsAre());

  // Paging by id and the partner filter.
  ReportFilter f;
  f.now = now_;
  f.partner_id = kPartnerB;
  absl::StatusOr<std::vector<ReportView>> only_b = store_.ListReports(f, 0, 100, Deadline());
  ASSERT_TRUE(only_b.ok());
  ASSERT_THAT(*only_b, SizeIs(1));
  EXPECT_EQ((*only_b)[0].report.id, b);
  f.partner_id = 0;
  absl::StatusOr<std::vector<ReportView>> after_a = store_.ListReports(f, a, 100, Deadline());
  ASSERT_TRUE(after_a.ok());
  ASSERT_THAT(*after_a, SizeIs(1));
  EXPECT_EQ((*after_a)[0].report.id, b);
}

TEST_F(PgReportStoreTest, ACaseUpdateIsStoredAnsweredWithItsSubmission) {
  NewCaseUpdate u;
  u.partner_id = kPartnerA;
  u.snapshot = Snap(301, "0000301");
  u.snapshot.outcome = Outcome::kLost;
  u.snapshot.lost_date = D(2026, 2, 1);
  u.change = Completed(800000, {Extra(5000)});
  CaseUpdatePlanner plan = [](const StoredLine& line) -> absl::StatusOr<SubmissionPlan> {
    SubmissionPlan p;
    p.effects.push_back(NewEffect{EffectKind::kRecordOutcome, line.line.id,
                                  absl::StrCat("cu-", line.line.id), "{}", "outcome", -1});
    EXPECT_THAT(line.extra_order_ids, SizeIs(1));
    p.lines.push_back(LineApplied{line.line.id, "k", 1});
    return p;
  };
  auto encode = [](const CaseUpdateResult& r) {
    return absl::StrCat(r.line.line.id, "|", r.submission.id, "|", r.submission.effects.size(),
                        "|", r.line.applied_extra_orders);
  };
  absl::StatusOr<std::string> bytes =
      store_.SubmitCaseUpdate(Ctx("SubmitCaseUpdate", "cu-1"), u, plan, encode);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_THAT(*bytes, ::testing::EndsWith("|1|1"));
  EXPECT_EQ(Count("SELECT count(*) FROM report.lines WHERE report_id IS NULL AND answer = 2"), 1);
  absl::StatusOr<absl::optional<std::string>> replay =
      store_.FindReplay(Ctx("SubmitCaseUpdate", "cu-1"));
  ASSERT_TRUE(replay.ok());
  ASSERT_TRUE(replay->has_value());
  EXPECT_EQ(**replay, *bytes);
  absl::StatusOr<absl::optional<std::string>> reused =
      store_.FindReplay(Ctx("SubmitCaseUpdate", "cu-1", "another-hash"));
  EXPECT_EQ(reused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorReason(reused.status()), "REQUEST_ID_REUSED");
}

}  // namespace
}  // namespace anken::report
