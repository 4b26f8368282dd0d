// PgProjectStore against a real Postgres: a fresh database per test, migrated with the
// service's migrations. Row and audit counts are read with a separate connection, so every
// "nothing was written" claim is checked against what the database really holds.

#include "services/project/pg_project_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/db/migrate.h"
#include "common/db/pool.h"
#include "common/status/errors.h"
#include "tests/support/test_database.h"

namespace anken::project {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

constexpr char kService[] = "/anken.project.v1.ProjectService/";
constexpr int64_t kUnknownId = 987654321;

std::string Method(const std::string& name) { return absl::StrCat(kService, name); }

// Deterministic response bytes: what a handler's encoder would keep for a replay.
std::string EncodeProject(const Project& p) {
  std::vector<std::string> extra;
  if (p.referral) {
    for (const ExtraOrder& e : p.referral->extra_orders) {
      extra.push_back(absl::StrCat(e.id, "/", e.amount));
    }
  }
  return absl::StrCat(p.id, "|", p.number, "|", p.version, "|", p.name, "|",
                      p.referral ? static_cast<int>(p.referral->outcome) : 0, "|",
                      absl::StrJoin(extra, ","), "|", absl::ToUnixMicros(p.stamp.update_time));
}
std::string EncodeQuote(const Quote& q) {
  return absl::StrCat(q.id, "|", q.project_id, "|", q.number, "|", q.version);
}
std::string EncodeActivity(const Activity& a) { return absl::StrCat(a.id); }
std::string EncodeTodo(const Todo& t) { return absl::StrCat(t.id); }
std::string EncodeImport(const ProjectStore::ImportResult& r) {
  return absl::StrCat(r.created, "+", r.updated);
}

// The leading id of bytes made by the encoders above.
int64_t IdOf(const std::string& bytes) {
  int64_t id = 0;
  EXPECT_TRUE(absl::SimpleAtoi(bytes.substr(0, bytes.find('|')), &id)) << bytes;
  return id;
}

::testing::AssertionResult IsError(const absl::Status& status, absl::StatusCode code,
                                   const std::string& reason) {
  if (status.code() != code || ErrorReason(status) != reason) {
    return ::testing::AssertionFailure()
           << "expected " << absl::StatusCodeToString(code) << " with reason " << reason
           << ", got " << status << " (reason '" << ErrorReason(status) << "')";
  }
  return ::testing::AssertionSuccess();
}

tax::Totals TotalsOf(std::vector<tax::RateTotal> per_rate) {
  tax::Totals t;
  t.per_rate = std::move(per_rate);
  for (const tax::RateTotal& r : t.per_rate) {
    t.subtotal += r.taxable;
    t.tax += r.tax;
  }
  t.total = t.subtotal + t.tax;
  return t;
}

class PgProjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status migrated = db::Migrate(db_.url(), "project", ANKEN_PROJECT_MIGRATIONS);
    ASSERT_TRUE(migrated.ok()) << migrated;
    db::PoolOptions options;
    options.url = db_.url();
    options.size = 4;
    pool_ = std::make_unique<db::Pool>(options);
    store_ = std::make_unique<PgProjectStore>(*pool_);
  }

  static absl::Time Deadline() { return absl::Now() + absl::Seconds(30); }

  // A write context one second after the previous one (so update times differ), with a
  // sub-microsecond part the store must truncate.
  WriteContext Ctx(const std::string& method, const std::string& request_id = "",
                   const std::string& hash = "hash-1") {
    now_ += absl::Seconds(1);
    WriteContext ctx;
    ctx.actor = "staff-1";
    ctx.actor_role = "staff";
    ctx.method = Method(method);
    ctx.request_id = request_id;
    ctx.request_hash = hash;
    ctx.now = now_ + absl::Nanoseconds(789);
    ctx.deadline = Deadline();
    return ctx;
  }

  int64_t Scalar(const std::string& sql) {
    pqxx::connection c(db_.url());
    pqxx::nontransaction tx(c);
    return tx.exec1(sql)[0].as<int64_t>();
  }
  int64_t Count(const std::string& table) {
    return Scalar(absl::StrCat("SELECT count(*) FROM project.", table));
  }
  // Whether audit event `id`'s change_json equals `json` (compared as jsonb).
  bool AuditJsonIs(int64_t id, const std::string& json) {
    pqxx::connection c(db_.url());
    pqxx::nontransaction tx(c);
    return tx.exec_params1("SELECT change_json = $2::jsonb FROM project.audit_events WHERE id = $1",
                           id, json)[0]
        .as<bool>();
  }
  std::string LastAuditJson() {
    pqxx::connection c(db_.url());
    pqxx::nontransaction tx(c);
    return tx
        .exec1("SELECT change_json::text FROM project.audit_events ORDER BY id DESC LIMIT 1")[0]
        .as<std::string>();
  }
  int64_t LastAuditId() { return Scalar("SELECT max(id) FROM project.audit_events"); }

  static Project NewProject(const std::string& name, int64_t customer_id = 100) {
    Project p;
    p.customer_id = customer_id;
    p.name = name;
    p.order_status = OrderStatus::kProspect;
    return p;
  }

  Project Create(Project p, const std::string& request_id = "") {
    absl::StatusOr<std::string> bytes =
        store_->CreateProject(Ctx("CreateProject", request_id), std::move(p), EncodeProject);
    EXPECT_TRUE(bytes.ok()) << bytes.status();
    if (!bytes.ok()) return Project();
    absl::StatusOr<Project> got = store_->GetProject(IdOf(*bytes), Deadline());
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? *got : Project();
  }

  Project Get(int64_t id) {
    absl::StatusOr<Project> got = store_->GetProject(id, Deadline());
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? *got : Project();
  }

  static Referral InProgress(int64_t partner_id, absl::CivilDay referral_date) {
    Referral r;
    r.partner_id = partner_id;
    r.referral_date = referral_date;
    r.outcome = Outcome::kInProgress;
    return r;
  }

  int64_t NewCategory(const std::string& name) {
    absl::StatusOr<Category> c = store_->CreateCategory(Ctx("CreateCategory"), Category{0, name});
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? c->id : 0;
  }

  // A quote with a 10% line of 1,005 yen three times over (tax 301, not 300: once per rate)
  // and an 8% line of 1,000 yen, priced by hand.
  static Quote NewQuote(int64_t project_id, absl::CivilMonth month = absl::CivilMonth(2026, 5),
                        int probability = 50) {
    Quote q;
    q.project_id = project_id;
    q.issue_date = absl::CivilDay(2026, 4, 1);
    q.valid_until = absl::CivilDay(2026, 4, 30);
    for (int i = 0; i < 3; ++i) {
      QuoteLine l;
      l.description = absl::StrCat("作業 ", i + 1);
      l.quantity_milli = 1500;  // 1.5
      l.unit = "時間";
      l.unit_price = 670;
      l.tax_category = tax::Category::kStandard;
      l.amount = 1005;
      q.lines.push_back(l);
    }
    QuoteLine food;
    food.description = "弁当";
    food.quantity_milli = 2000;
    food.unit = "個";
    food.unit_price = 500;
    food.tax_category = tax::Category::kReduced;
    food.amount = 1000;
    q.lines.push_back(food);
    q.totals = TotalsOf({{tax::Category::kStandard, 3015, 301},
                         {tax::Category::kReduced, 1000, 80}});
    q.win_probability = probability;
    q.expected_order_month = month;
    q.status = QuoteStatus::kDraft;
    q.note = "初回見積";
    return q;
  }

  Quote CreateQuote(Quote q) {
    absl::StatusOr<std::string> bytes =
        store_->CreateQuote(Ctx("CreateQuote"), std::move(q), EncodeQuote);
    EXPECT_TRUE(bytes.ok()) << bytes.status();
    if (!bytes.ok()) return Quote();
    absl::StatusOr<Quote> got = store_->GetQuote(IdOf(*bytes), Deadline());
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? *got : Quote();
  }

  static std::vector<int64_t> Ids(const std::vector<Project>& projects) {
    std::vector<int64_t> ids;
    for (const Project& p : projects) ids.push_back(p.id);
    return ids;
  }

  // Every page of `filter` with `page_size`, following the keyset.
  std::vector<int64_t> ListAll(const ProjectFilter& filter, int page_size) {
    std::vector<int64_t> ids;
    ProjectPosition after;
    for (int pages = 0; pages < 100; ++pages) {
      absl::StatusOr<std::vector<Project>> page =
          store_->ListProjects(filter, after, page_size, Deadline());
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok() || page->empty()) break;
      EXPECT_LE(static_cast<int>(page->size()), page_size);
      for (const Project& p : *page) ids.push_back(p.id);
      after.id = page->back().id;
      after.update_time = page->back().stamp.update_time;
    }
    return ids;
  }

  std::vector<int64_t> ListOnce(const ProjectFilter& filter) {
    absl::StatusOr<std::vector<Project>> page =
        store_->ListProjects(filter, ProjectPosition(), 1000, Deadline());
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? Ids(*page) : std::vector<int64_t>();
  }

  anken::testing::ScratchDatabase db_{"projstore"};
  std::unique_ptr<db::Pool> pool_;
  std::unique_ptr<PgProjectStore> store_;
  absl::Time now_ = absl::FromCivil(absl::CivilSecond(2026, 4, 1, 1, 0, 0), absl::UTCTimeZone());
};

// ---- create / get ----

TEST_F(PgProjectStoreTest, CreateAndGetRoundTripEveryField) {
  const int64_t category = NewCategory("リフォーム");
  Project p = NewProject("山田邸 外壁塗装", 42);
  p.category_id = category;
  p.quote_date = absl::CivilDay(2026, 3, 10);
  p.acceptance_date = absl::CivilDay(2026, 3, 31);
  p.order_status = OrderStatus::kWon;
  p.progress_status = "施工中";
  p.owner = "鈴木";
  p.department = "営業一部";
  p.memo = "メモ \"引用\" \\ 改行\nあり";
  Referral r = InProgress(7, absl::CivilDay(2026, 3, 1));
  r.outcome = Outcome::kCompleted;
  r.completion_date = absl::CivilDay(2026, 3, 20);
  r.amount = 1'250'000;
  r.remarks = "完了報告済み";
  ExtraOrder extra;
  extra.kind = ExtraKind::kRepeat;
  extra.order_date = absl::CivilDay(2026, 3, 25);
  extra.amount = 30'000;
  extra.note = "追加";
  r.extra_orders.push_back(extra);
  p.referral = r;

  const WriteContext ctx = Ctx("CreateProject", "req-create-1");
  absl::StatusOr<std::string> bytes = store_->CreateProject(ctx, p, EncodeProject);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  const Project got = Get(IdOf(*bytes));

  EXPECT_EQ(got.number, "0000001");
  EXPECT_EQ(got.customer_id, 42);
  EXPECT_EQ(got.name, p.name);
  EXPECT_EQ(got.category_id, category);
  EXPECT_EQ(got.quote_date, p.quote_date);
  EXPECT_EQ(got.acceptance_date, p.acceptance_date);
  EXPECT_EQ(got.order_status, OrderStatus::kWon);
  EXPECT_EQ(got.progress_status, "施工中");
  EXPECT_EQ(got.owner, "鈴木");
  EXPECT_EQ(got.department, "営業一部");
  EXPECT_EQ(got.memo, p.memo);
  ASSERT_TRUE(got.referral.has_value());
  EXPECT_EQ(got.referral->partner_id, 7);
  EXPECT_EQ(got.referral->referral_date, absl::CivilDay(2026, 3, 1));
  EXPECT_EQ(got.referral->outcome, Outcome::kCompleted);
  EXPECT_EQ(got.referral->completion_date, absl::CivilDay(2026, 3, 20));
  EXPECT_EQ(got.referral->amount, 1'250'000);
  EXPECT_FALSE(got.referral->lost_date.has_value());
  EXPECT_EQ(got.referral->remarks, "完了報告済み");
  ASSERT_EQ(got.referral->extra_orders.size(), 1u);
  EXPECT_NE(got.referral->extra_orders[0].id, 0);
  EXPECT_EQ(got.referral->extra_orders[0].kind, ExtraKind::kRepeat);
  EXPECT_EQ(got.referral->extra_orders[0].order_date, absl::CivilDay(2026, 3, 25));
  EXPECT_EQ(got.referral->extra_orders[0].amount, 30'000);
  EXPECT_EQ(got.version, 1);
  // Microseconds are kept, the nanoseconds below them are not.
  EXPECT_EQ(got.stamp.create_time, absl::FromUnixMicros(absl::ToUnixMicros(ctx.now)));
  EXPECT_EQ(got.stamp.update_time, got.stamp.create_time);
  EXPECT_EQ(got.stamp.created_by, "staff-1");
  // What the create answered is what a read answers.
  EXPECT_EQ(*bytes, EncodeProject(got));

  // The creation's audit event names the case, escapes text and spells enums by name.
  pqxx::connection c(db_.url());
  pqxx::nontransaction tx(c);
  pqxx::row audit = tx.exec1(
      "SELECT resource_type, resource_id, request_id, change_json->'memo'->>'new', "
      "change_json->'order_status'->>'new', change_json->'referral.outcome'->>'new', "
      "jsonb_array_length(change_json->'referral.extra_orders'->'new') "
      "FROM project.audit_events WHERE resource_type = 'project'");
  EXPECT_EQ(audit[0].as<std::string>(), "project");
  EXPECT_EQ(audit[1].as<std::string>(), absl::StrCat("projects/", got.id));
  EXPECT_EQ(audit[2].as<std::string>(), "req-create-1");
  EXPECT_EQ(audit[3].as<std::string>(), p.memo);
  EXPECT_EQ(audit[4].as<std::string>(), "WON");
  EXPECT_EQ(audit[5].as<std::string>(), "COMPLETED");
  EXPECT_EQ(audit[6].as<int>(), 1);

  EXPECT_EQ(Create(NewProject("二件目")).number, "0000002");
  EXPECT_EQ(store_->GetProject(kUnknownId, Deadline()).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(PgProjectStoreTest, RolledBackCreatesNeverGiveTheirNumberToAnotherCase) {
  EXPECT_EQ(Create(NewProject("一件目")).number, "0000001");

  // An unknown category is found before a number is drawn: no number is spent on it.
  Project bad_category = NewProject("区分なし");
  bad_category.category_id = kUnknownId;
  EXPECT_TRUE(IsError(
      store_->CreateProject(Ctx("CreateProject"), bad_category, EncodeProject).status(),
      absl::StatusCode::kNotFound, "CATEGORY_NOT_FOUND"));

  // A row the schema refuses (empty name breaks the CHECK) fails after the number was drawn:
  // the transaction rolls back, the sequence does not.
  Project unnamed = NewProject("");
  EXPECT_EQ(store_->CreateProject(Ctx("CreateProject"), unnamed, EncodeProject).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Count("projects"), 1);
  EXPECT_EQ(Count("audit_events"), 1);  // the first case's

  // So the next case skips 0000002: numbers have gaps but are never reused.
  EXPECT_EQ(Create(NewProject("三件目")).number, "0000003");
}

TEST_F(PgProjectStoreTest, IdempotentCreateReplaysTheStoredBytes) {
  int encodes = 0;
  auto encode = [&](const Project& p) {
    ++encodes;
    return EncodeProject(p);
  };
  absl::StatusOr<std::string> first =
      store_->CreateProject(Ctx("CreateProject", "req-1", "hash-A"), NewProject("A"), encode);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::string> replay =
      store_->CreateProject(Ctx("CreateProject", "req-1", "hash-A"), NewProject("A"), encode);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(*replay, *first);
  EXPECT_EQ(encodes, 1);
  EXPECT_EQ(Count("projects"), 1);
  EXPECT_EQ(Count("audit_events"), 1);

  absl::StatusOr<std::string> reused =
      store_->CreateProject(Ctx("CreateProject", "req-1", "hash-B"), NewProject("B"), encode);
  EXPECT_TRUE(IsError(reused.status(), absl::StatusCode::kInvalidArgument, "REQUEST_ID_REUSED"));
  EXPECT_EQ(Count("projects"), 1);
  EXPECT_EQ(Count("audit_events"), 1);

  // Without a request_id nothing is recorded and every call creates.
  ASSERT_TRUE(store_->CreateProject(Ctx("CreateProject"), NewProject("C"), encode).ok());
  EXPECT_EQ(Count("projects"), 2);
  EXPECT_EQ(Count("idempotency_keys"), 1);
}

TEST_F(PgProjectStoreTest, APassedDeadlineTouchesNothing) {
  const Project c = Create(NewProject("期限"));
  WriteContext late = Ctx("CreateProject");
  late.deadline = absl::Now() - absl::Seconds(1);
  EXPECT_EQ(store_->CreateProject(late, NewProject("遅い"), EncodeProject).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(store_->GetProject(c.id, absl::Now() - absl::Seconds(1)).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(Count("projects"), 1);
  EXPECT_EQ(Create(NewProject("次")).number, "0000002");
}

TEST_F(PgProjectStoreTest, GetProjectsReturnsThoseThatExist) {
  const Project a = Create(NewProject("A"));
  const Project b = Create(NewProject("B"));
  absl::StatusOr<std::vector<Project>> got =
      store_->GetProjects({b.id, kUnknownId, a.id}, Deadline());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(Ids(*got), UnorderedElementsAre(a.id, b.id));
  EXPECT_TRUE(store_->GetProjects({}, Deadline())->empty());
}

// ---- list ----

TEST_F(PgProjectStoreTest, ListFiltersEachCriterion) {
  Project p1 = NewProject("p1", 1);
  p1.owner = "alice";
  p1.department = "east";
  p1.quote_date = absl::CivilDay(2026, 1, 10);
  const int64_t id1 = Create(p1).id;

  Project p2 = NewProject("p2", 2);
  p2.owner = "bob";
  p2.department = "east";
  p2.order_status = OrderStatus::kWon;
  p2.quote_date = absl::CivilDay(2026, 2, 10);
  p2.acceptance_date = absl::CivilDay(2026, 3, 5);
  p2.referral = InProgress(500, absl::CivilDay(2026, 1, 1));
  const int64_t id2 = Create(p2).id;

  Project p3 = NewProject("p3", 1);
  p3.owner = "alice";
  p3.department = "west";
  p3.order_status = OrderStatus::kLost;
  p3.acceptance_date = absl::CivilDay(2026, 4, 5);
  Referral lost = InProgress(500, absl::CivilDay(2026, 1, 1));
  lost.outcome = Outcome::kLost;
  lost.lost_date = absl::CivilDay(2026, 2, 1);
  p3.referral = lost;
  const int64_t id3 = Create(p3).id;

  Project p4 = NewProject("p4", 3);
  Referral done = InProgress(600, absl::CivilDay(2026, 1, 1));
  done.outcome = Outcome::kCompleted;
  done.completion_date = absl::CivilDay(2026, 2, 1);
  done.amount = 10;
  p4.referral = done;
  p4.quote_date = absl::CivilDay(2026, 3, 1);
  const int64_t id4 = Create(p4).id;

  ProjectFilter all;
  EXPECT_THAT(ListOnce(all), ElementsAre(id1, id2, id3, id4));

  ProjectFilter f;
  f.customer_id = 1;
  EXPECT_THAT(ListOnce(f), ElementsAre(id1, id3));

  f = ProjectFilter();
  f.order_statuses = {OrderStatus::kWon, OrderStatus::kLost};
  EXPECT_THAT(ListOnce(f), ElementsAre(id2, id3));

  f = ProjectFilter();
  f.owner = "alice";
  EXPECT_THAT(ListOnce(f), ElementsAre(id1, id3));

  f = ProjectFilter();
  f.department = "east";
  EXPECT_THAT(ListOnce(f), ElementsAre(id1, id2));

  f = ProjectFilter();
  f.partner_id = 500;
  EXPECT_THAT(ListOnce(f), ElementsAre(id2, id3));
  f.outcomes = {Outcome::kInProgress};
  EXPECT_THAT(ListOnce(f), ElementsAre(id2));

  f = ProjectFilter();  // outcomes alone: referred cases of any partner
  f.outcomes = {Outcome::kCompleted, Outcome::kLost};
  EXPECT_THAT(ListOnce(f), ElementsAre(id3, id4));

  f = ProjectFilter();
  f.quote_date_from = absl::CivilDay(2026, 2, 10);
  EXPECT_THAT(ListOnce(f), ElementsAre(id2, id4));
  f.quote_date_to = absl::CivilDay(2026, 2, 28);
  EXPECT_THAT(ListOnce(f), ElementsAre(id2));

  f = ProjectFilter();
  f.acceptance_date_to = absl::CivilDay(2026, 3, 31);
  EXPECT_THAT(ListOnce(f), ElementsAre(id2));
  f.acceptance_date_to.reset();
  f.acceptance_date_from = absl::CivilDay(2026, 3, 6);
  EXPECT_THAT(ListOnce(f), ElementsAre(id3));

  // Filters combine, and in update order too.
  f = ProjectFilter();
  f.owner = "alice";
  f.customer_id = 1;
  f.order_statuses = {OrderStatus::kProspect};
  f.order = ProjectOrder::kUpdateTimeDesc;
  EXPECT_THAT(ListOnce(f), ElementsAre(id1));
}

TEST_F(PgProjectStoreTest, KeysetPagingByNumberHasNoGapsOrDuplicates) {
  std::vector<int64_t> east;
  std::vector<int64_t> every;
  for (int i = 0; i < 11; ++i) {
    Project p = NewProject(absl::StrCat("case ", i));
    p.department = i % 3 == 0 ? "west" : "east";
    const int64_t id = Create(p).id;
    every.push_back(id);
    if (i % 3 != 0) east.push_back(id);
  }
  ProjectFilter f;
  EXPECT_THAT(ListAll(f, 3), ElementsAreArray(every));
  EXPECT_THAT(ListAll(f, 1), ElementsAreArray(every));
  f.department = "east";
  EXPECT_THAT(ListAll(f, 2), ElementsAreArray(east));
  EXPECT_THAT(ListAll(f, 100), ElementsAreArray(east));
}

TEST_F(PgProjectStoreTest, KeysetPagingByUpdateTimeNewestFirstWithTiesByIdDescending) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 7; ++i) ids.push_back(Create(NewProject(absl::StrCat("case ", i))).id);
  // Touch cases 2 and 4 later; then 0 and 5 in one instant (a tie, broken by id).
  auto rename = [&](int64_t id, const WriteContext& ctx) {
    ASSERT_TRUE(store_
                    ->UpdateProject(ctx, id,
                                    [](Project& p) {
                                      p.name += " (更新)";
                                      return absl::OkStatus();
                                    })
                    .ok());
  };
  rename(ids[2], Ctx("UpdateProject"));
  rename(ids[4], Ctx("UpdateProject"));
  const WriteContext same = Ctx("UpdateProject");
  rename(ids[0], same);
  rename(ids[5], same);

  const std::vector<int64_t> expected = {ids[5], ids[0], ids[4], ids[2],
                                         ids[6], ids[3], ids[1]};
  ProjectFilter f;
  f.order = ProjectOrder::kUpdateTimeDesc;
  EXPECT_THAT(ListOnce(f), ElementsAreArray(expected));
  for (int size : {1, 2, 3}) {
    EXPECT_THAT(ListAll(f, size), ElementsAreArray(expected)) << "page size " << size;
  }
}

// ---- update ----

TEST_F(PgProjectStoreTest, UpdateSavesTheNextVersionAndAuditsTheChangedFields) {
  const Project before = Create(NewProject("旧名"));
  const int64_t audits = Count("audit_events");
  const WriteContext ctx = Ctx("UpdateProject");
  absl::StatusOr<Project> after = store_->UpdateProject(ctx, before.id, [](Project& p) {
    p.name = "新名 \"x\"\n";
    p.order_status = OrderStatus::kWon;
    p.number = "9999999";  // not the mutator's to change
    p.version = 77;
    return absl::OkStatus();
  });
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->version, 2);
  EXPECT_EQ(after->number, before.number);
  EXPECT_EQ(after->stamp.create_time, before.stamp.create_time);
  EXPECT_EQ(after->stamp.update_time, absl::FromUnixMicros(absl::ToUnixMicros(ctx.now)));
  const Project got = Get(before.id);
  EXPECT_EQ(got.name, "新名 \"x\"\n");
  EXPECT_EQ(got.version, 2);
  EXPECT_EQ(EncodeProject(got), EncodeProject(*after));
  EXPECT_EQ(Count("audit_events"), audits + 1);
  EXPECT_TRUE(AuditJsonIs(LastAuditId(), R"({"name":{"old":"旧名","new":"新名 \"x\"\n"},
                                             "order_status":{"old":"PROSPECT","new":"WON"}})"))
      << LastAuditJson();

  // Nothing changed: nothing written, the row comes back as it was.
  absl::StatusOr<Project> same =
      store_->UpdateProject(Ctx("UpdateProject"), before.id, [](Project& p) {
        return absl::OkStatus();
      });
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->version, 2);
  EXPECT_EQ(same->stamp.update_time, after->stamp.update_time);
  EXPECT_EQ(Count("audit_events"), audits + 1);

  // The mutator's refusal is returned as is, and nothing is written.
  absl::StatusOr<Project> refused =
      store_->UpdateProject(Ctx("UpdateProject"), before.id, [](Project& p) {
        p.name = "x";
        return absl::AbortedError("stale etag");
      });
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(Get(before.id).name, "新名 \"x\"\n");
  EXPECT_EQ(Count("audit_events"), audits + 1);

  // A category that does not exist.
  EXPECT_TRUE(IsError(store_
                          ->UpdateProject(Ctx("UpdateProject"), before.id,
                                          [](Project& p) {
                                            p.category_id = kUnknownId;
                                            return absl::OkStatus();
                                          })
                          .status(),
                      absl::StatusCode::kNotFound, "CATEGORY_NOT_FOUND"));
  EXPECT_TRUE(IsError(store_
                          ->UpdateProject(Ctx("UpdateProject"), kUnknownId,
                                          [](Project&) { return absl::OkStatus(); })
                          .status(),
                      absl::StatusCode::kNotFound, "PROJECT_NOT_FOUND"));
}

// ---- referral outcome ----

TEST_F(PgProjectStoreTest, RecordOutcomePersistsCompletionAndExtraOrdersOnce) {
  Project p = NewProject("紹介案件");
  p.referral = InProgress(500, absl::CivilDay(2026, 2, 1));
  const Project before = Create(p);
  const int64_t audits = Count("audit_events");

  int mutations = 0;
  auto complete = [&](Project& c) {
    ++mutations;
    c.referral->outcome = Outcome::kCompleted;
    c.referral->completion_date = absl::CivilDay(2026, 3, 15);
    c.referral->amount = 800'000;
    c.referral->remarks = "完了";
    ExtraOrder add;
    add.kind = ExtraKind::kAdditional;
    add.order_date = absl::CivilDay(2026, 3, 16);
    add.amount = 50'000;
    add.note = "追加工事";
    ExtraOrder repeat = add;
    repeat.kind = ExtraKind::kRepeat;
    repeat.amount = 20'000;
    repeat.note = "リピート";
    c.referral->extra_orders.push_back(add);
    c.referral->extra_orders.push_back(repeat);
    return absl::OkStatus();
  };
  absl::StatusOr<std::string> first = store_->RecordOutcome(
      Ctx("RecordReferralOutcome", "report-7-case-1"), before.id, complete, EncodeProject);
  ASSERT_TRUE(first.ok()) << first.status();

  const Project got = Get(before.id);
  ASSERT_TRUE(got.referral.has_value());
  EXPECT_EQ(got.referral->outcome, Outcome::kCompleted);
  EXPECT_EQ(got.referral->completion_date, absl::CivilDay(2026, 3, 15));
  EXPECT_EQ(got.referral->amount, 800'000);
  EXPECT_EQ(got.referral->remarks, "完了");
  ASSERT_EQ(got.referral->extra_orders.size(), 2u);
  EXPECT_EQ(got.referral->extra_orders[0].kind, ExtraKind::kAdditional);
  EXPECT_EQ(got.referral->extra_orders[0].amount, 50'000);
  EXPECT_EQ(got.referral->extra_orders[1].kind, ExtraKind::kRepeat);
  EXPECT_EQ(got.referral->extra_orders[1].note, "リピート");
  EXPECT_LT(got.referral->extra_orders[0].id, got.referral->extra_orders[1].id);
  EXPECT_EQ(got.version, 2);
  EXPECT_EQ(*first, EncodeProject(got));
  EXPECT_EQ(Count("extra_orders"), 2);
  EXPECT_EQ(Count("audit_events"), audits + 1);
  EXPECT_EQ(Scalar("SELECT jsonb_array_length(change_json->'referral.extra_orders'->'new') "
                   "FROM project.audit_events ORDER BY id DESC LIMIT 1"),
            2);

  // Report intake retries: the same bytes, nothing more written, the mutator not run.
  absl::StatusOr<std::string> replay = store_->RecordOutcome(
      Ctx("RecordReferralOutcome", "report-7-case-1"), before.id, complete, EncodeProject);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(*replay, *first);
  EXPECT_EQ(mutations, 1);
  EXPECT_EQ(Count("extra_orders"), 2);
  EXPECT_EQ(Count("audit_events"), audits + 1);
  EXPECT_EQ(Get(before.id).version, 2);

  // Extra orders are append-only, in the store and in the database.
  absl::StatusOr<Project> tampered =
      store_->UpdateProject(Ctx("UpdateProject"), before.id, [](Project& c) {
        c.referral->extra_orders[0].amount = 1;
        c.referral->extra_orders.pop_back();
        return absl::OkStatus();
      });
  ASSERT_TRUE(tampered.ok());
  EXPECT_EQ(tampered->version, 2);  // nothing to write
  EXPECT_EQ(Get(before.id).referral->extra_orders[0].amount, 50'000);
  pqxx::connection c(db_.url());
  pqxx::nontransaction tx(c);
  EXPECT_THROW(tx.exec0("UPDATE project.extra_orders SET amount = 1"), pqxx::sql_error);
  EXPECT_THROW(tx.exec0("DELETE FROM project.extra_orders"), pqxx::sql_error);
  EXPECT_TRUE(IsError(store_
                          ->UpdateProject(Ctx("UpdateProject"), before.id,
                                          [](Project& c) {
                                            c.referral.reset();
                                            return absl::OkStatus();
                                          })
                          .status(),
                      absl::StatusCode::kFailedPrecondition, "REFERRAL_HAS_EXTRA_ORDERS"));
}

TEST_F(PgProjectStoreTest, RefusedOrInvalidOutcomesWriteNothing) {
  Project p = NewProject("紹介案件");
  p.referral = InProgress(500, absl::CivilDay(2026, 2, 1));
  const Project before = Create(p);
  const int64_t audits = Count("audit_events");

  // The rules' refusal (e.g. COMPLETED_IS_FINAL) comes back as is.
  absl::StatusOr<std::string> refused = store_->RecordOutcome(
      Ctx("RecordReferralOutcome", "r-1"), before.id,
      [](Project& c) {
        c.referral->outcome = Outcome::kLost;
        c.referral->extra_orders.push_back(ExtraOrder{0, ExtraKind::kAdditional,
                                                      absl::CivilDay(2026, 3, 1), 5, ""});
        return absl::FailedPreconditionError("COMPLETED_IS_FINAL");
      },
      EncodeProject);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);

  // A combination the schema forbids (COMPLETED without an amount) fails in the database.
  absl::StatusOr<std::string> broken = store_->RecordOutcome(
      Ctx("RecordReferralOutcome", "r-2"), before.id,
      [](Project& c) {
        c.referral->outcome = Outcome::kCompleted;
        c.referral->completion_date = absl::CivilDay(2026, 3, 1);
        return absl::OkStatus();
      },
      EncodeProject);
  EXPECT_EQ(broken.status().code(), absl::StatusCode::kFailedPrecondition);
  // Nor a completion before the referral date.
  absl::StatusOr<std::string> early = store_->RecordOutcome(
      Ctx("RecordReferralOutcome", "r-3"), before.id,
      [](Project& c) {
        c.referral->outcome = Outcome::kCompleted;
        c.referral->completion_date = absl::CivilDay(2026, 1, 31);
        c.referral->amount = 1;
        return absl::OkStatus();
      },
      EncodeProject);
  EXPECT_EQ(early.status().code(), absl::StatusCode::kFailedPrecondition);

  const Project got = Get(before.id);
  EXPECT_EQ(got.version, 1);
  EXPECT_EQ(got.referral->outcome, Outcome::kInProgress);
  EXPECT_EQ(Count("extra_orders"), 0);
  EXPECT_EQ(Count("audit_events"), audits);
  EXPECT_EQ(Count("idempotency_keys"), 0);  // failures are not replayed
  EXPECT_TRUE(IsError(store_
                          ->RecordOutcome(Ctx("RecordReferralOutcome", "r-4"), kUnknownId,
                                          [](Project&) { return absl::OkStatus(); },
                                          EncodeProject)
                          .status(),
                      absl::StatusCode::kNotFound, "PROJECT_NOT_FOUND"));
}

// ---- categories and products ----

TEST_F(PgProjectStoreTest, CategoryNamesAndProductCodesAreUnique) {
  absl::StatusOr<Category> a =
      store_->CreateCategory(Ctx("CreateCategory", "cat-1"), Category{0, "新築"});
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(store_->CreateCategory(Ctx("CreateCategory"), Category{0, "リフォーム"}).ok());
  EXPECT_TRUE(IsError(store_->CreateCategory(Ctx("CreateCategory"), Category{0, "新築"}).status(),
                      absl::StatusCode::kAlreadyExists, "CATEGORY_NAME_TAKEN"));
  // A retried create answers the category it made, not ALREADY_EXISTS.
  absl::StatusOr<Category> replay =
      store_->CreateCategory(Ctx("CreateCategory", "cat-1"), Category{0, "新築"});
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(replay->id, a->id);
  absl::StatusOr<std::vector<Category>> list = store_->ListCategories(Deadline());
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ(Count("categories"), 2);
  EXPECT_EQ(Scalar("SELECT count(*) FROM project.audit_events WHERE resource_type = "
                   "'category'"),
            2);
  EXPECT_EQ(Scalar(absl::StrCat("SELECT count(*) FROM project.audit_events WHERE resource_id = "
                                "'categories/",
                                a->id, "'")),
            1);

  Product paint{0, "P-001", "塗料", "缶", 4'800, tax::Category::kStandard, true};
  Product rice{0, "F-001", "弁当", "個", 500, tax::Category::kReduced, true};
  Product old{0, "X-001", "廃番", "個", 100, tax::Category::kExempt, false};
  absl::StatusOr<Product> p1 = store_->CreateProduct(Ctx("CreateProduct", "prod-1"), paint);
  ASSERT_TRUE(p1.ok()) << p1.status();
  absl::StatusOr<Product> p2 = store_->CreateProduct(Ctx("CreateProduct"), rice);
  absl::StatusOr<Product> p3 = store_->CreateProduct(Ctx("CreateProduct"), old);
  ASSERT_TRUE(p2.ok() && p3.ok());
  Product dup = rice;
  dup.name = "別名";
  EXPECT_TRUE(IsError(store_->CreateProduct(Ctx("CreateProduct"), dup).status(),
                      absl::StatusCode::kAlreadyExists, "PRODUCT_CODE_TAKEN"));
  EXPECT_EQ(store_->CreateProduct(Ctx("CreateProduct", "prod-1"), paint)->id, p1->id);
  EXPECT_EQ(Count("products"), 3);

  absl::StatusOr<std::vector<Product>> active = store_->ListProducts(false, 0, 10, Deadline());
  ASSERT_TRUE(active.ok());
  ASSERT_EQ(active->size(), 2u);
  EXPECT_EQ((*active)[0].code, "P-001");
  EXPECT_EQ((*active)[1].tax_category, tax::Category::kReduced);
  EXPECT_EQ((*active)[1].unit_price, 500);
  absl::StatusOr<std::vector<Product>> page = store_->ListProducts(true, p1->id, 1, Deadline());
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].id, p2->id);
  page = store_->ListProducts(true, p2->id, 10, Deadline());
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].tax_category, tax::Category::kExempt);
  EXPECT_FALSE((*page)[0].active);
  absl::StatusOr<std::vector<Product>> some =
      store_->GetProducts({p3->id, kUnknownId}, Deadline());
  ASSERT_TRUE(some.ok());
  ASSERT_EQ(some->size(), 1u);
  EXPECT_EQ((*some)[0].code, "X-001");
}

// ---- quotes ----

TEST_F(PgProjectStoreTest, QuotesAreNumberedPerCaseAndRoundTripLinesAndTotals) {
  const Project a = Create(NewProject("A"));
  const Project b = Create(NewProject("B"));
  absl::StatusOr<Product> paint =
      store_->CreateProduct(Ctx("CreateProduct"),
                            Product{0, "P-001", "塗料", "缶", 670, tax::Category::kStandard, true});
  ASSERT_TRUE(paint.ok());

  Quote in = NewQuote(a.id);
  in.lines[0].product_id = paint->id;
  const Quote q1 = CreateQuote(in);
  EXPECT_EQ(CreateQuote(NewQuote(a.id)).number, 2);
  EXPECT_EQ(CreateQuote(NewQuote(b.id)).number, 1);
  EXPECT_EQ(CreateQuote(NewQuote(a.id)).number, 3);

  EXPECT_EQ(q1.number, 1);
  EXPECT_EQ(q1.project_id, a.id);
  EXPECT_EQ(q1.version, 1);
  EXPECT_EQ(q1.issue_date, absl::CivilDay(2026, 4, 1));
  EXPECT_EQ(q1.valid_until, absl::CivilDay(2026, 4, 30));
  EXPECT_EQ(q1.expected_order_month, absl::CivilMonth(2026, 5));
  EXPECT_EQ(q1.win_probability, 50);
  EXPECT_EQ(q1.status, QuoteStatus::kDraft);
  EXPECT_EQ(q1.note, "初回見積");
  ASSERT_EQ(q1.lines.size(), 4u);
  EXPECT_EQ(q1.lines[0].product_id, paint->id);
  EXPECT_EQ(q1.lines[1].product_id, 0);
  EXPECT_EQ(q1.lines[1].description, "作業 2");
  EXPECT_EQ(q1.lines[0].quantity_milli, 1500);
  EXPECT_EQ(q1.lines[0].unit, "時間");
  EXPECT_EQ(q1.lines[0].unit_price, 670);
  EXPECT_EQ(q1.lines[0].amount, 1005);
  EXPECT_EQ(q1.lines[3].tax_category, tax::Category::kReduced);
  EXPECT_EQ(q1.lines[3].amount, 1000);
  ASSERT_EQ(q1.totals.per_rate.size(), 2u);
  EXPECT_EQ(q1.totals.per_rate[0].category, tax::Category::kStandard);
  EXPECT_EQ(q1.totals.per_rate[0].taxable, 3015);
  EXPECT_EQ(q1.totals.per_rate[0].tax, 301);  // once per rate, not 3 × 100
  EXPECT_EQ(q1.totals.per_rate[1].category, tax::Category::kReduced);
  EXPECT_EQ(q1.totals.per_rate[1].tax, 80);
  EXPECT_EQ(q1.totals.subtotal, 4015);
  EXPECT_EQ(q1.totals.tax, 381);
  EXPECT_EQ(q1.totals.total, 4396);

  EXPECT_TRUE(IsError(
      store_->CreateQuote(Ctx("CreateQuote"), NewQuote(kUnknownId), EncodeQuote).status(),
      absl::StatusCode::kNotFound, "PROJECT_NOT_FOUND"));
  EXPECT_TRUE(IsError(store_->GetQuote(kUnknownId, Deadline()).status(),
                      absl::StatusCode::kNotFound, "QUOTE_NOT_FOUND"));

  // Lines are replaced as a whole; the other fields keep their values.
  absl::StatusOr<Quote> updated =
      store_->UpdateQuote(Ctx("UpdateQuote"), q1.id, [](Quote& q) {
        QuoteLine exempt;
        exempt.description = "印紙";
        exempt.quantity_milli = 1;
        exempt.unit_price = 200'000;
        exempt.tax_category = tax::Category::kExempt;
        exempt.amount = 200;
        q.lines = {exempt};
        q.totals = TotalsOf({{tax::Category::kExempt, 200, 0}});
        q.win_probability = 80;
        q.number = 99;  // not the mutator's to change
        return absl::OkStatus();
      });
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->version, 2);
  EXPECT_EQ(updated->number, 1);
  const Quote reread = *store_->GetQuote(q1.id, Deadline());
  ASSERT_EQ(reread.lines.size(), 1u);
  EXPECT_EQ(reread.lines[0].quantity_milli, 1);
  EXPECT_EQ(reread.lines[0].tax_category, tax::Category::kExempt);
  ASSERT_EQ(reread.totals.per_rate.size(), 1u);
  EXPECT_EQ(reread.totals.per_rate[0].category, tax::Category::kExempt);
  EXPECT_EQ(reread.totals.total, 200);
  EXPECT_EQ(reread.win_probability, 80);
  EXPECT_EQ(reread.number, 1);
  EXPECT_EQ(Scalar(absl::StrCat("SELECT count(*) FROM project.quote_lines WHERE quote_id = ",
                                q1.id)),
            1);
  EXPECT_EQ(Scalar("SELECT count(*) FROM project.audit_events WHERE resource_type = 'quote' "
                   "AND change_json->'lines' ? 'old' AND change_json->'win_probability' ? 'old'"),
            1);

  // Accepting goes through AcceptQuote only (it also wins the case).
  EXPECT_EQ(store_
                ->UpdateQuote(Ctx("UpdateQuote"), q1.id,
                              [](Quote& q) {
                                q.status = QuoteStatus::kAccepted;
                                return absl::OkStatus();
                              })
                .status()
                .code(),
            absl::StatusCode::kInternal);
}

TEST_F(PgProjectStoreTest, ConcurrentQuotesOfOneCaseGetDistinctNumbers) {
  const Project c = Create(NewProject("同時見積"));
  constexpr int kThreads = 6;
  std::vector<WriteContext> contexts;
  for (int i = 0; i < kThreads; ++i) contexts.push_back(Ctx("CreateQuote"));
  std::vector<absl::StatusOr<std::string>> results(kThreads, absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      results[i] = store_->CreateQuote(contexts[i], NewQuote(c.id), EncodeQuote);
    });
  }
  for (std::thread& t : threads) t.join();
  std::set<int> numbers;
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status();
    numbers.insert(store_->GetQuote(IdOf(*r), Deadline())->number);
  }
  EXPECT_EQ(numbers, (std::set<int>{1, 2, 3, 4, 5, 6}));
}

TEST_F(PgProjectStoreTest, AcceptingAQuoteWinsTheCaseAndOnlyOneQuoteMayBeAccepted) {
  const Project c = Create(NewProject("受注案件"));
  const Quote q1 = CreateQuote(NewQuote(c.id));
  const Quote q2 = CreateQuote(NewQuote(c.id));
  auto accept = [](Quote& q) {
    if (q.status == QuoteStatus::kAccepted || q.status == QuoteStatus::kRejected) {
      return absl::FailedPreconditionError("QUOTE_FINAL");
    }
    q.status = QuoteStatus::kAccepted;
    return absl::OkStatus();
  };

  absl::StatusOr<Quote> accepted = store_->AcceptQuote(Ctx("AcceptQuote"), q1.id, accept);
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_EQ(accepted->status, QuoteStatus::kAccepted);
  EXPECT_EQ(accepted->version, 2);
  EXPECT_EQ(store_->GetQuote(q1.id, Deadline())->status, QuoteStatus::kAccepted);
  const Project won = Get(c.id);
  EXPECT_EQ(won.order_status, OrderStatus::kWon);
  EXPECT_EQ(won.version, 2);
  EXPECT_TRUE(AuditJsonIs(LastAuditId(), R"({"order_status":{"old":"PROSPECT","new":"WON"}})"))
      << LastAuditJson();
  EXPECT_EQ(Scalar(absl::StrCat("SELECT count(*) FROM project.audit_events WHERE resource_id = "
                                "'projects/",
                                c.id, "/quotes/", q1.id, "' AND change_json->'status'->>'new' = "
                                "'ACCEPTED'")),
            1);

  const int64_t audits = Count("audit_events");
  EXPECT_TRUE(IsError(store_->AcceptQuote(Ctx("AcceptQuote"), q2.id, accept).status(),
                      absl::StatusCode::kFailedPrecondition, "ANOTHER_QUOTE_ACCEPTED"));
  EXPECT_EQ(store_->GetQuote(q2.id, Deadline())->status, QuoteStatus::kDraft);
  EXPECT_EQ(store_->GetQuote(q2.id, Deadline())->version, 1);
  EXPECT_EQ(Get(c.id).version, 2);
  EXPECT_EQ(Count("audit_events"), audits);
  // The mutator's own refusal (an accepted quote is final).
  EXPECT_EQ(store_->AcceptQuote(Ctx("AcceptQuote"), q1.id, accept).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Count("audit_events"), audits);
  EXPECT_EQ(store_->AcceptQuote(Ctx("AcceptQuote"), kUnknownId, accept).status().code(),
            absl::StatusCode::kNotFound);

  // The database holds the rule too, whatever path a write takes.
  pqxx::connection conn(db_.url());
  pqxx::nontransaction tx(conn);
  EXPECT_THROW(tx.exec_params0("UPDATE project.quotes SET status = 3 WHERE id = $1", q2.id),
               pqxx::unique_violation);
}

TEST_F(PgProjectStoreTest, ForecastQuotesAreTheRangesQuotesWithTheirCasesGroup) {
  Project east = NewProject("east case");
  east.department = "east";
  east.owner = "alice";
  Project west = NewProject("west case");
  west.department = "west";
  west.owner = "bob";
  const Project e = Create(east);
  const Project w = Create(west);
  const Quote before_range = CreateQuote(NewQuote(e.id, absl::CivilMonth(2026, 3)));
  const Quote e4 = CreateQuote(NewQuote(e.id, absl::CivilMonth(2026, 4), 30));
  const Quote w5 = CreateQuote(NewQuote(w.id, absl::CivilMonth(2026, 5), 70));
  const Quote e6 = CreateQuote(NewQuote(e.id, absl::CivilMonth(2026, 6)));
  const Quote after_range = CreateQuote(NewQuote(w.id, absl::CivilMonth(2026, 7)));
  (void)before_range;
  (void)after_range;

  absl::StatusOr<std::vector<ForecastInput>> by_department = store_->ForecastQuotes(
      absl::CivilMonth(2026, 4), absl::CivilMonth(2026, 6), false, Deadline());
  ASSERT_TRUE(by_department.ok()) << by_department.status();
  ASSERT_EQ(by_department->size(), 3u);
  std::vector<std::pair<std::string, int64_t>> got;
  for (const ForecastInput& in : *by_department) got.emplace_back(in.group, in.quote.id);
  EXPECT_THAT(got, ElementsAre(std::make_pair(std::string("east"), e4.id),
                               std::make_pair(std::string("west"), w5.id),
                               std::make_pair(std::string("east"), e6.id)));
  const Quote& q = (*by_department)[1].quote;
  EXPECT_EQ(q.win_probability, 70);
  EXPECT_EQ(q.expected_order_month, absl::CivilMonth(2026, 5));
  EXPECT_EQ(q.status, QuoteStatus::kDraft);
  EXPECT_EQ(q.totals.subtotal, 4015);
  EXPECT_EQ(q.totals.per_rate.size(), 2u);

  absl::StatusOr<std::vector<ForecastInput>> by_owner = store_->ForecastQuotes(
      absl::CivilMonth(2026, 5), absl::CivilMonth(2026, 5), true, Deadline());
  ASSERT_TRUE(by_owner.ok());
  ASSERT_EQ(by_owner->size(), 1u);
  EXPECT_EQ((*by_owner)[0].group, "bob");
  EXPECT_EQ((*by_owner)[0].quote.id, w5.id);
}

// ---- activities and todos ----

TEST_F(PgProjectStoreTest, ActivitiesAreListedNewestFirst) {
  const Project c = Create(NewProject("商談"));
  const Project other = Create(NewProject("他"));
  auto add = [&](int64_t project_id, absl::CivilSecond when, const std::string& summary) {
    Activity a;
    a.project_id = project_id;
    a.kind = ActivityKind::kVisit;
    a.occur_time = absl::FromCivil(when, absl::UTCTimeZone()) + absl::Nanoseconds(5);
    a.summary = summary;
    a.next_action = "見積提出";
    absl::StatusOr<std::string> bytes =
        store_->CreateActivity(Ctx("CreateActivity"), a, EncodeActivity);
    EXPECT_TRUE(bytes.ok()) << bytes.status();
    return bytes.ok() ? IdOf(*bytes) : 0;
  };
  const int64_t middle = add(c.id, absl::CivilSecond(2026, 3, 2, 10, 0, 0), "二回目");
  const int64_t oldest = add(c.id, absl::CivilSecond(2026, 3, 1, 10, 0, 0), "初回");
  const int64_t newest = add(c.id, absl::CivilSecond(2026, 3, 3, 10, 0, 0), "三回目");
  add(other.id, absl::CivilSecond(2026, 3, 4, 10, 0, 0), "他案件");

  absl::StatusOr<std::vector<Activity>> list = store_->ListActivities(c.id, Deadline());
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].id, newest);
  EXPECT_EQ((*list)[1].id, middle);
  EXPECT_EQ((*list)[2].id, oldest);
  EXPECT_EQ((*list)[0].summary, "三回目");
  EXPECT_EQ((*list)[0].kind, ActivityKind::kVisit);
  EXPECT_EQ((*list)[0].recorded_by, "staff-1");  // defaults to the writer
  EXPECT_EQ((*list)[0].occur_time,
            absl::FromCivil(absl::CivilSecond(2026, 3, 3, 10, 0, 0), absl::UTCTimeZone()));

  EXPECT_TRUE(IsError(store_->ListActivities(kUnknownId, Deadline()).status(),
                      absl::StatusCode::kNotFound, "PROJECT_NOT_FOUND"));
  Activity orphan;
  orphan.project_id = kUnknownId;
  orphan.summary = "x";
  orphan.occur_time = now_;
  EXPECT_EQ(store_->CreateActivity(Ctx("CreateActivity"), orphan, EncodeActivity).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(PgProjectStoreTest, TodosOpenAndCompleteIdempotently) {
  const Project c = Create(NewProject("ToDo案件"));
  auto add = [&](const std::string& assignee, absl::CivilDay due) {
    Todo t;
    t.project_id = c.id;
    t.title = absl::StrCat("連絡 ", assignee);
    t.due_date = due;
    t.assignee = assignee;
    t.done = true;  // a new ToDo is open whatever it asks
    absl::StatusOr<std::string> bytes = store_->CreateTodo(Ctx("CreateTodo"), t, EncodeTodo);
    EXPECT_TRUE(bytes.ok()) << bytes.status();
    return bytes.ok() ? IdOf(*bytes) : 0;
  };
  const int64_t a1 = add("alice", absl::CivilDay(2026, 4, 3));
  const int64_t a2 = add("alice", absl::CivilDay(2026, 4, 1));
  add("bob", absl::CivilDay(2026, 4, 2));

  absl::StatusOr<std::vector<Todo>> open = store_->OpenTodos("alice", Deadline());
  ASSERT_TRUE(open.ok()) << open.status();
  ASSERT_EQ(open->size(), 2u);
  std::set<int64_t> ids;
  for (const Todo& t : *open) {
    ids.insert(t.id);
    EXPECT_FALSE(t.done);
    EXPECT_FALSE(t.done_time.has_value());
    EXPECT_EQ(t.project_id, c.id);
  }
  EXPECT_EQ(ids, (std::set<int64_t>{a1, a2}));

  const int64_t audits = Count("audit_events");
  const WriteContext first = Ctx("CompleteTodo");
  absl::StatusOr<Todo> done = store_->CompleteTodo(first, a1);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_TRUE(done->done);
  EXPECT_EQ(done->done_time, absl::FromUnixMicros(absl::ToUnixMicros(first.now)));
  EXPECT_EQ(Count("audit_events"), audits + 1);
  EXPECT_EQ(Scalar("SELECT count(*) FROM project.audit_events WHERE resource_type = 'todo' AND "
                   "change_json->'done'->>'new' = 'true'"),
            1);

  absl::StatusOr<Todo> again = store_->CompleteTodo(Ctx("CompleteTodo"), a1);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->done_time, done->done_time);  // unchanged
  EXPECT_EQ(Count("audit_events"), audits + 1);

  open = store_->OpenTodos("alice", Deadline());
  ASSERT_EQ(open->size(), 1u);
  EXPECT_EQ((*open)[0].id, a2);
  EXPECT_TRUE(IsError(store_->CompleteTodo(Ctx("CompleteTodo"), kUnknownId).status(),
                      absl::StatusCode::kNotFound, "TODO_NOT_FOUND"));
  Todo orphan;
  orphan.project_id = kUnknownId;
  orphan.title = "x";
  orphan.assignee = "x";
  orphan.due_date = absl::CivilDay(2026, 4, 1);
  EXPECT_EQ(store_->CreateTodo(Ctx("CreateTodo"), orphan, EncodeTodo).status().code(),
            absl::StatusCode::kNotFound);
}

// ---- import ----

TEST_F(PgProjectStoreTest, ImportIsAllOrNothing) {
  Project referred = NewProject("紹介");
  Referral done = InProgress(500, absl::CivilDay(2026, 1, 10));
  done.outcome = Outcome::kCompleted;
  done.completion_date = absl::CivilDay(2026, 2, 1);
  done.amount = 90'000;
  referred.referral = done;
  const Project one = Create(referred);     // 0000001
  const Project two = Create(NewProject("二"));  // 0000002
  const int64_t audits = Count("audit_events");

  auto update_row = [](int row, const std::string& number, const std::string& name) {
    ProjectImportRow r;
    r.row = row;
    r.project = NewProject(name, 300);
    r.project.number = number;
    return r;
  };
  ProjectImportRow fresh;
  fresh.row = 2;
  fresh.project = NewProject("新規");

  std::vector<ProjectImportRow> bad = {fresh, update_row(3, "0000001", "更新1"),
                                       update_row(4, "0009999", "不明"),
                                       update_row(5, "0000002", "更新2")};
  absl::StatusOr<std::string> failed =
      store_->ImportProjects(Ctx("ImportProjects", "imp-1"), bad, EncodeImport);
  EXPECT_TRUE(IsError(failed.status(), absl::StatusCode::kNotFound, "PROJECT_NOT_FOUND"));
  EXPECT_THAT(std::string(failed.status().message()), HasSubstr("row 4"));
  EXPECT_THAT(std::string(failed.status().message()), HasSubstr("0009999"));
  EXPECT_EQ(Count("projects"), 2);
  EXPECT_EQ(Count("audit_events"), audits);
  EXPECT_EQ(Get(one.id).name, "紹介");
  EXPECT_EQ(Get(one.id).version, 1);

  // A stale version.
  ProjectImportRow stale = update_row(2, "0000002", "古い");
  stale.project.version = 5;
  EXPECT_TRUE(IsError(
      store_->ImportProjects(Ctx("ImportProjects"), {stale}, EncodeImport).status(),
      absl::StatusCode::kAborted, "VERSION_MISMATCH"));

  ProjectImportRow update_one = update_row(3, "0000001", "更新1");
  update_one.project.owner = "carol";
  update_one.project.version = 1;
  update_one.project.referral = InProgress(501, absl::CivilDay(2026, 1, 5));
  std::vector<ProjectImportRow> good = {fresh, update_one, update_row(4, "0000002", "更新2")};
  absl::StatusOr<std::string> ok =
      store_->ImportProjects(Ctx("ImportProjects", "imp-2"), good, EncodeImport);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(*ok, "1+2");
  EXPECT_EQ(Count("projects"), 3);
  EXPECT_EQ(Count("audit_events"), audits + 3);
  const Project got = Get(one.id);
  EXPECT_EQ(got.name, "更新1");
  EXPECT_EQ(got.owner, "carol");
  EXPECT_EQ(got.customer_id, 300);
  EXPECT_EQ(got.version, 2);
  // The partner and referral date are replaced; the outcome is not the import's to change.
  ASSERT_TRUE(got.referral.has_value());
  EXPECT_EQ(got.referral->partner_id, 501);
  EXPECT_EQ(got.referral->referral_date, absl::CivilDay(2026, 1, 5));
  EXPECT_EQ(got.referral->outcome, Outcome::kCompleted);
  EXPECT_EQ(got.referral->amount, 90'000);
  EXPECT_EQ(Get(two.id).name, "更新2");
  EXPECT_FALSE(Get(two.id).referral.has_value());

  // A replay answers the same and writes nothing.
  absl::StatusOr<std::string> replay =
      store_->ImportProjects(Ctx("ImportProjects", "imp-2"), good, EncodeImport);
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(*replay, *ok);
  EXPECT_EQ(Count("projects"), 3);
  EXPECT_EQ(Count("audit_events"), audits + 3);

  absl::StatusOr<std::vector<std::string>> existing =
      store_->ExistingNumbers({"0000002", "0009999", "0000001"}, Deadline());
  ASSERT_TRUE(existing.ok());
  EXPECT_THAT(*existing, UnorderedElementsAre("0000001", "0000002"));
}

// ---- audit ----

TEST_F(PgProjectStoreTest, AuditEventsOfACaseIncludeItsPartsAndNoOtherCase) {
  std::vector<Project> cases;
  for (int i = 0; i < 10; ++i) cases.push_back(Create(NewProject(absl::StrCat("case ", i))));
  const Project& c = cases[0];     // "projects/1"
  const Project& ten = cases[9];   // "projects/10": must not match "projects/1/%"
  ASSERT_EQ(c.id, 1);
  ASSERT_EQ(ten.id, 10);

  const Quote q = CreateQuote(NewQuote(c.id));
  Activity a;
  a.project_id = c.id;
  a.summary = "訪問";
  a.occur_time = now_;
  ASSERT_TRUE(store_->CreateActivity(Ctx("CreateActivity"), a, EncodeActivity).ok());
  Todo t;
  t.project_id = c.id;
  t.title = "電話";
  t.assignee = "alice";
  t.due_date = absl::CivilDay(2026, 4, 2);
  absl::StatusOr<std::string> todo = store_->CreateTodo(Ctx("CreateTodo"), t, EncodeTodo);
  ASSERT_TRUE(todo.ok());
  ASSERT_TRUE(store_->CompleteTodo(Ctx("CompleteTodo"), IdOf(*todo)).ok());
  CreateQuote(NewQuote(ten.id));
  ASSERT_TRUE(store_
                  ->UpdateProject(Ctx("UpdateProject"), ten.id,
                                  [](Project& p) {
                                    p.memo = "x";
                                    return absl::OkStatus();
                                  })
                  .ok());

  absl::StatusOr<std::vector<AuditEntry>> events =
      store_->ListAuditEvents(c.id, 0, 100, Deadline());
  ASSERT_TRUE(events.ok()) << events.status();
  std::vector<std::string> resources;
  for (const AuditEntry& e : *events) resources.push_back(e.resource_id);
  EXPECT_THAT(resources, ElementsAre("projects/1/todos/1", "projects/1/todos/1",
                                     "projects/1/activities/1",
                                     absl::StrCat("projects/1/quotes/", q.id), "projects/1"));
  EXPECT_EQ((*events)[0].resource_type, "todo");
  EXPECT_EQ((*events)[0].actor, "staff-1");
  EXPECT_EQ((*events)[0].actor_role, "staff");
  EXPECT_EQ((*events)[0].method, Method("CompleteTodo"));
  EXPECT_EQ((*events)[2].resource_type, "activity");
  EXPECT_EQ((*events)[3].resource_type, "quote");

  // Paging by id, newest first.
  absl::StatusOr<std::vector<AuditEntry>> page =
      store_->ListAuditEvents(c.id, (*events)[1].id, 2, Deadline());
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].id, (*events)[2].id);
  EXPECT_EQ((*page)[1].id, (*events)[3].id);

  absl::StatusOr<std::vector<AuditEntry>> tens =
      store_->ListAuditEvents(ten.id, 0, 100, Deadline());
  ASSERT_TRUE(tens.ok());
  EXPECT_EQ(tens->size(), 3u);
  EXPECT_TRUE(IsError(store_->ListAuditEvents(kUnknownId, 0, 10, Deadline()).status(),
                      absl::StatusCode::kNotFound, "PROJECT_NOT_FOUND"));
}

}  // namespace
}  // namespace anken::project
