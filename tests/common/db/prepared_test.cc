// ExecPrepared against a real Postgres (a fresh database per test): one server-side
// statement per SQL and connection, prepared again on a fresh connection after a reconnect.

#include "common/db/prepared.h"

#include <gtest/gtest.h>

#include <cctype>
#include <pqxx/pqxx>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/db/pg_values.h"
#include "common/db/pool.h"
#include "tests/support/test_database.h"

namespace anken::db {
namespace {

constexpr char kDouble[] = "SELECT $1::bigint * 2 AS twice";
constexpr char kBackend[] = "SELECT pg_backend_pid()";
// The server's own list of this session's prepared statements of ours.
constexpr char kPreparedHere[] =
    "SELECT name, statement FROM pg_prepared_statements WHERE name LIKE 'anken\\_%' "
    "ORDER BY name";

TEST(PreparedNameTest, IsStableAndTellsStatementsApart) {
  EXPECT_EQ(PreparedName("SELECT 1"), PreparedName(std::string("SELECT 1")));
  EXPECT_NE(PreparedName("SELECT 1"), PreparedName("SELECT 2"));
  const std::string name = PreparedName(kDouble);
  ASSERT_EQ(name.size(), 6u + 16u);
  EXPECT_EQ(name.substr(0, 6), "anken_");
  for (char c : name.substr(6)) EXPECT_TRUE(std::isxdigit(c) && !std::isupper(c)) << name;
}

class PreparedTest : public ::testing::Test {
 protected:
  testing::ScratchDatabase db_{"prepared"};
};

TEST_F(PreparedTest, OneServerStatementPerSqlAndConnection) {
  pqxx::connection conn(db_.url());
  for (int64_t i = 1; i <= 3; ++i) {
    pqxx::work tx(conn);
    EXPECT_EQ(ExecPrepared(tx, kDouble, i)[0][0].as<int64_t>(), 2 * i);
    EXPECT_EQ(ExecPrepared1(tx, kDouble, i + 10)["twice"].as<int64_t>(), 2 * (i + 10));
    tx.commit();
  }
  pqxx::work tx(conn);
  pqxx::result prepared = tx.exec(kPreparedHere);
  ASSERT_EQ(prepared.size(), 1u);
  EXPECT_EQ(prepared[0][0].as<std::string>(), PreparedName(kDouble));
  EXPECT_EQ(prepared[0][1].as<std::string>(), kDouble);
}

TEST_F(PreparedTest, SurvivesARolledBackTransaction) {
  pqxx::connection conn(db_.url());
  {
    pqxx::work tx(conn);
    EXPECT_EQ(ExecPrepared(tx, kDouble, 4)[0][0].as<int64_t>(), 8);
    tx.abort();
  }
  pqxx::work tx(conn);
  EXPECT_EQ(ExecPrepared(tx, kDouble, 5)[0][0].as<int64_t>(), 10);
}

TEST_F(PreparedTest, AFreshConnectionAfterAReconnectPreparesAgain) {
  PoolOptions options;
  options.url = db_.url();
  options.size = 1;
  Pool pool(options);
  auto twice = [](int64_t v) {
    return [v](pqxx::work& tx) -> absl::StatusOr<int64_t> {
      return ExecPrepared1(tx, kDouble, v)[0].as<int64_t>();
    };
  };
  ASSERT_EQ(*pool.Transact(absl::InfiniteFuture(), twice(21)), 42);
  absl::StatusOr<int> pid = pool.Transact(
      absl::InfiniteFuture(),
      [](pqxx::work& tx) -> absl::StatusOr<int> { return ExecPrepared1(tx, kBackend)[0].as<int>(); });
  ASSERT_TRUE(pid.ok()) << pid.status();
  {
    pqxx::connection admin(db_.url());
    pqxx::nontransaction tx(admin);
    ASSERT_TRUE(tx.exec_params1("SELECT pg_terminate_backend($1, 10000)", *pid)[0].as<bool>());
  }
  // The pool replaces the dead connection; the statement exists on the new session too.
  absl::StatusOr<int64_t> again = pool.Transact(absl::InfiniteFuture(), twice(50));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, 100);
  EXPECT_EQ(pool.Stats().reconnects_total, 1);
}

// RowReader (pg_values.h) reads the fields a row's column numbers name, in any order, as
// row[i] would.
TEST_F(PreparedTest, RowReaderReadsColumnsInAnyOrder) {
  pqxx::connection conn(db_.url());
  pqxx::work tx(conn);
  pqxx::result rows = tx.exec(
      "SELECT i AS a, i * 10 AS b, 'x' || i AS c, NULL::text AS d FROM generate_series(1, 3) i");
  const auto a = rows[0].column_number("a"), b = rows[0].column_number("b"),
             c = rows[0].column_number("c"), d = rows[0].column_number("d");
  int64_t i = 0;
  for (const pqxx::row& row : rows) {
    ++i;
    RowReader r(row);
    EXPECT_EQ(r[c].as<std::string>(), absl::StrCat("x", i));
    EXPECT_EQ(r[a].as<int64_t>(), i);
    EXPECT_TRUE(r[d].is_null());
    EXPECT_EQ(r[b].as<int64_t>(), 10 * i);
    EXPECT_EQ(r[a].as<int64_t>(), row[a].as<int64_t>());
  }
  EXPECT_EQ(i, 3);
}

// Transact's settings run as prepared statements: a read-only transaction with a deadline
// makes them one round trip; it is read-only, bounded, and neither setting outlives it.
TEST_F(PreparedTest, ReadOnlyTransactionWithADeadlineInOneSettingsStatement) {
  PoolOptions options;
  options.url = db_.url();
  options.size = 1;
  options.statement_timeout = absl::Seconds(45);
  Pool pool(options);
  TransactOptions read_only;
  read_only.read_only = true;
  struct Seen {
    std::string read_only;
    int64_t timeout_ms;
  };
  auto settings = [](pqxx::work& tx) -> absl::StatusOr<Seen> {
    pqxx::row r = tx.exec1(
        "SELECT current_setting('transaction_read_only'), "
        "(SELECT setting::bigint FROM pg_settings WHERE name = 'statement_timeout')");
    return Seen{r[0].as<std::string>(), r[1].as<int64_t>()};
  };
  absl::StatusOr<Seen> seen = pool.Transact(absl::Now() + absl::Seconds(10), settings, read_only);
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(seen->read_only, "on");
  EXPECT_LE(seen->timeout_ms, 10000);
  EXPECT_GT(seen->timeout_ms, 5000);

  absl::Status write = pool.Transact(absl::Now() + absl::Seconds(10), [](pqxx::work& tx) {
    tx.exec0("CREATE TABLE t (x integer)");
    return absl::OkStatus();
  }, read_only);
  EXPECT_EQ(write.code(), absl::StatusCode::kInternal) << write;  // 25006: read-only

  // The next transaction on the same connection is neither read-only nor bounded by it.
  absl::StatusOr<Seen> after = pool.Transact(absl::InfiniteFuture(), settings);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->read_only, "off");
  EXPECT_EQ(after->timeout_ms, 45000);

  absl::StatusOr<int64_t> prepared = pool.Transact(
      absl::InfiniteFuture(), [](pqxx::work& tx) -> absl::StatusOr<int64_t> {
        return tx.exec(kPreparedHere).size();
      });
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  EXPECT_EQ(*prepared, 2);  // read-only + timeout, and timeout alone
}

}  // namespace
}  // namespace anken::db
