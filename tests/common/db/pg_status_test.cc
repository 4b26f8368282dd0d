// StatusFromException without a database: libpqxx's exception types are built directly, the
// way libpqxx throws them.

#include "common/db/pg_status.h"

#include <gtest/gtest.h>

#include <pqxx/except>
#include <sstream>
#include <stdexcept>
#include <string>

#include "common/db/pool.h"
#include "common/log/log.h"

namespace anken::db {
namespace {

constexpr char kQuery[] = "INSERT INTO secret_table (secret_column) VALUES ($1)";
constexpr char kServerMessage[] =
    "ERROR:  duplicate key value violates unique constraint \"secret_table_pkey\"";

class PgStatusTest : public ::testing::Test {
 protected:
  void SetUp() override { log::Init("db_test", log::Level::kDebug, &logged_); }
  void TearDown() override { log::Init("db_test", log::Level::kInfo, nullptr); }

  // The message must never carry SQL or the server's words.
  static void ExpectClean(const absl::Status& s) {
    std::string m(s.message());
    EXPECT_EQ(m.find("secret"), std::string::npos) << m;
    EXPECT_EQ(m.find("INSERT"), std::string::npos) << m;
    EXPECT_EQ(m.find("ERROR"), std::string::npos) << m;
    EXPECT_EQ(m.rfind("creating note: ", 0), 0u) << m;
  }

  std::ostringstream logged_;
};

TEST_F(PgStatusTest, UniqueViolationIsAlreadyExists) {
  absl::Status s = StatusFromException(pqxx::unique_violation(kServerMessage, kQuery, "23505"),
                                       "creating note");
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  ExpectClean(s);
  EXPECT_FALSE(IsRetryableDbError(s));
  // The details go to the log instead, at error level, with the SQLSTATE.
  std::string line = logged_.str();
  EXPECT_NE(line.find("\"level\":\"error\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"sqlstate\":\"23505\""), std::string::npos) << line;
  EXPECT_NE(line.find("secret_table"), std::string::npos) << line;
  EXPECT_NE(line.find("\"during\":\"creating note\""), std::string::npos) << line;
}

TEST_F(PgStatusTest, ConstraintViolationsAreFailedPrecondition) {
  for (const absl::Status& s :
       {StatusFromException(pqxx::foreign_key_violation(kServerMessage, kQuery, "23503"),
                            "creating note"),
        StatusFromException(pqxx::check_violation(kServerMessage, kQuery, "23514"),
                            "creating note"),
        StatusFromException(pqxx::not_null_violation(kServerMessage, kQuery, "23502"),
                            "creating note")}) {
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    ExpectClean(s);
  }
}

TEST_F(PgStatusTest, SerializationFailureAndDeadlockAreRetryableAborted) {
  for (const absl::Status& s :
       {StatusFromException(pqxx::serialization_failure(kServerMessage), "creating note"),
        StatusFromException(pqxx::deadlock_detected(kServerMessage), "creating note"),
        StatusFromException(pqxx::sql_error(kServerMessage, kQuery, "55P03"),
                            "creating note")}) {
    EXPECT_EQ(s.code(), absl::StatusCode::kAborted) << s;
    EXPECT_TRUE(IsRetryableDbError(s)) << s;
    ExpectClean(s);
  }
  // An ABORTED a service makes itself (a stale etag) is not a database conflict.
  EXPECT_FALSE(IsRetryableDbError(absl::AbortedError("stale etag")));
}

TEST_F(PgStatusTest, ConnectionTroubleIsUnavailable) {
  for (const absl::Status& s :
       {StatusFromException(pqxx::broken_connection(kServerMessage), "creating note"),
        StatusFromException(pqxx::in_doubt_error(kServerMessage), "creating note"),
        StatusFromException(pqxx::too_many_connections(kServerMessage), "creating note"),
        StatusFromException(pqxx::sql_error(kServerMessage, kQuery, "57P01"),
                            "creating note"),
        StatusFromException(pqxx::sql_error(kServerMessage, kQuery, "08006"),
                            "creating note")}) {
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
    ExpectClean(s);
  }
}

TEST_F(PgStatusTest, StatementTimeoutIsDeadlineExceeded) {
  absl::Status s = StatusFromException(
      pqxx::sql_error("ERROR:  canceling statement due to statement timeout", kQuery, "57014"),
      "creating note");
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  ExpectClean(s);
}

TEST_F(PgStatusTest, EverythingElseIsInternal) {
  for (const absl::Status& s :
       {StatusFromException(pqxx::syntax_error(kServerMessage, kQuery, "42601"),
                            "creating note"),
        StatusFromException(pqxx::data_exception(kServerMessage, kQuery, "22P02"),
                            "creating note"),
        StatusFromException(pqxx::conversion_error("secret conversion"), "creating note"),
        StatusFromException(std::runtime_error("secret runtime"), "creating note")}) {
    EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << s;
    ExpectClean(s);
  }
}

TEST(SchemaName, AcceptsPlainIdentifiersOnly) {
  for (const char* ok : {"billing", "report", "_x", "a1_b2"}) {
    EXPECT_TRUE(CheckSchemaName(ok).ok()) << ok;
  }
  for (const char* bad : {"", "Billing", "1abc", "bill-ing", "bill\"ing", "a b", "pg_catalog",
                          "x;drop"}) {
    EXPECT_EQ(CheckSchemaName(bad).code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(CheckSchemaName(std::string(64, 'a')).ok());
  EXPECT_TRUE(CheckSchemaName(std::string(63, 'a')).ok());
}

TEST(ConnectTimeout, AddedToUriAndKeywordForms) {
  EXPECT_EQ(WithConnectTimeout("postgresql://u@h:5/db", absl::Seconds(5)),
            "postgresql://u@h:5/db?connect_timeout=5");
  EXPECT_EQ(WithConnectTimeout("postgres://u@h/db?sslmode=disable", absl::Seconds(3)),
            "postgres://u@h/db?sslmode=disable&connect_timeout=3");
  EXPECT_EQ(WithConnectTimeout("host=h dbname=d", absl::Milliseconds(2500)),
            "host=h dbname=d connect_timeout=3");
  // libpq treats 1 as 2; say so rather than pretend.
  EXPECT_EQ(WithConnectTimeout("", absl::Seconds(1)), "connect_timeout=2");
  EXPECT_EQ(WithConnectTimeout("postgresql://h/db?connect_timeout=9", absl::Seconds(5)),
            "postgresql://h/db?connect_timeout=9");
}

}  // namespace
}  // namespace anken::db
