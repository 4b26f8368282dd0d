// WriteAudit against a real Postgres (a fresh database per test).

#include "common/db/audit.h"

#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <string>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/clock/clock.h"
#include "common/db/migrate.h"
#include "common/status/errors.h"
#include "tests/fakes/fake_clock.h"
#include "tests/support/test_database.h"

namespace anken::db {
namespace {

class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status s = Migrate(db_.url(), "svc", ANKEN_DB_TESTDATA "/basic");
    ASSERT_TRUE(s.ok()) << s;
    PoolOptions options;
    options.url = db_.url();
    pool_ = std::make_unique<Pool>(options);
  }

  AuditRecord Record() {
    AuditRecord r;
    r.actor = "user-42";
    r.actor_role = "accounting";
    r.method = "/anken.billing.v1.BillingService/IssueInvoice";
    r.resource_type = "invoice";
    r.resource_id = "INV-0001";
    r.change_json = R"({"status": ["READY", "BILLED"], "note": "月末"})";
    r.request_id = "req-1";
    r.event_time = FromTokyo(absl::CivilSecond(2024, 4, 1, 9, 30, 0));
    return r;
  }

  absl::Status Write(const AuditRecord& record) {
    return pool_->Transact(absl::InfiniteFuture(),
                           [&](pqxx::work& tx) { return WriteAudit(tx, "svc", record); });
  }

  testing::ScratchDatabase db_{"audit"};
  std::unique_ptr<Pool> pool_;
};

TEST_F(AuditTest, WritesEveryField) {
  ASSERT_TRUE(Write(Record()).ok());
  AuditRecord no_request_id = Record();
  no_request_id.request_id.clear();
  ASSERT_TRUE(Write(no_request_id).ok());

  pqxx::connection c(db_.url());
  pqxx::nontransaction tx(c);
  pqxx::result rows = tx.exec(
      "SELECT extract(epoch FROM event_time)::bigint, actor, actor_role, method, resource_type, "
      "resource_id, change_json->'status'->>1, change_json->>'note', request_id "
      "FROM svc.audit_events ORDER BY id");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][0].as<int64_t>(),
            absl::ToUnixSeconds(FromTokyo(absl::CivilSecond(2024, 4, 1, 9, 30, 0))));
  EXPECT_EQ(rows[0][1].as<std::string>(), "user-42");
  EXPECT_EQ(rows[0][2].as<std::string>(), "accounting");
  EXPECT_EQ(rows[0][3].as<std::string>(), "/anken.billing.v1.BillingService/IssueInvoice");
  EXPECT_EQ(rows[0][4].as<std::string>(), "invoice");
  EXPECT_EQ(rows[0][5].as<std::string>(), "INV-0001");
  EXPECT_EQ(rows[0][6].as<std::string>(), "BILLED");
  EXPECT_EQ(rows[0][7].as<std::string>(), "月末");
  EXPECT_EQ(rows[0][8].as<std::string>(), "req-1");
  EXPECT_TRUE(rows[1][8].is_null());
}

TEST_F(AuditTest, TimeComesFromTheCallersClockWithSubSecondPrecision) {
  anken::testing::FakeClock clock(absl::FromUnixMicros(1700000000123456));
  AuditRecord r = Record();
  r.event_time = clock.Now();
  ASSERT_TRUE(Write(r).ok());
  pqxx::connection c(db_.url());
  pqxx::nontransaction tx(c);
  EXPECT_EQ(tx.exec1("SELECT (extract(epoch FROM event_time) * 1000000)::bigint "
                     "FROM svc.audit_events")[0].as<int64_t>(),
            1700000000123456);
}

TEST_F(AuditTest, RollsBackWithTheMutation) {
  absl::Status s = pool_->Transact(absl::InfiniteFuture(), [&](pqxx::work& tx) {
    absl::Status written = WriteAudit(tx, "svc", Record());
    if (!written.ok()) return written;
    return absl::FailedPreconditionError("the mutation failed after all");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  pqxx::connection c(db_.url());
  pqxx::nontransaction tx(c);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM svc.audit_events")[0].as<int>(), 0);
}

TEST_F(AuditTest, RefusesIncompleteRecordsAndBadJson) {
  AuditRecord no_actor = Record();
  no_actor.actor.clear();
  EXPECT_EQ(Write(no_actor).code(), absl::StatusCode::kInvalidArgument);
  AuditRecord no_time = Record();
  no_time.event_time = absl::Time();
  EXPECT_EQ(Write(no_time).code(), absl::StatusCode::kInvalidArgument);
  AuditRecord bad_json = Record();
  bad_json.change_json = "{not json";
  absl::Status s = Write(bad_json);
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << s;
  EXPECT_EQ(std::string(s.message()).find("json"), std::string::npos) << s;
  EXPECT_EQ(Write(Record()).ok(), true);
  pqxx::connection c(db_.url());
  pqxx::nontransaction tx(c);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM svc.audit_events")[0].as<int>(), 1);
  absl::Status bad_schema = pool_->Transact(absl::InfiniteFuture(), [&](pqxx::work& tx) {
    return WriteAudit(tx, "svc.audit_events; --", Record());
  });
  EXPECT_EQ(bad_schema.code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace anken::db
