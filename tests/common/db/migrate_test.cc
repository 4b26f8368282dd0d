// The migration runner against a real Postgres (a fresh database per test). Fixtures live in
// testdata/; variants that need changing files are built in a temporary folder.

#include "common/db/migrate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "tests/support/test_database.h"

namespace anken::db {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const std::string kTestdata = ANKEN_DB_TESTDATA;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

class MigrateTest : public ::testing::Test {
 protected:
  // A fresh, empty folder of this test's own.
  fs::path TempDir() {
    static std::atomic<int> n{0};
    fs::path dir = fs::path(::testing::TempDir()) /
                   absl::StrCat("anken_migrate_", ::getpid(), "_", n.fetch_add(1));
    fs::remove_all(dir);
    fs::create_directories(dir);
    made_.push_back(dir);
    return dir;
  }
  // A copy of testdata/<name> that the test may change.
  fs::path CopyOf(const std::string& name) {
    fs::path dir = TempDir();
    for (const auto& entry : fs::directory_iterator(fs::path(kTestdata) / name)) {
      fs::copy_file(entry.path(), dir / entry.path().filename());
    }
    return dir;
  }
  void TearDown() override {
    for (const fs::path& dir : made_) fs::remove_all(dir);
  }

  pqxx::result Query(const std::string& sql) {
    pqxx::connection c(db_.url());
    pqxx::nontransaction tx(c);
    return tx.exec(sql);
  }
  int64_t Scalar(const std::string& sql) { return Query(sql)[0][0].as<int64_t>(); }
  bool Exists(const std::string& qualified) {
    return !Query("SELECT to_regclass('" + qualified + "')")[0][0].is_null();
  }
  // Advisory locks in this test's database (pg_locks is cluster-wide, and other test binaries
  // run migrations at the same time).
  int64_t AdvisoryLocks(bool waiting_only = false) {
    return Scalar(absl::StrCat(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = "
        "(SELECT oid FROM pg_database WHERE datname = current_database())",
        waiting_only ? " AND NOT granted" : ""));
  }
  bool SchemaExists(const std::string& schema) {
    return Scalar("SELECT count(*) FROM pg_namespace WHERE nspname = '" + schema + "'") == 1;
  }

  testing::ScratchDatabase db_{"migrate"};
  std::vector<fs::path> made_;
};

TEST_F(MigrateTest, AppliesInOrderIntoTheSchemaAndRecordsChecksums) {
  const std::string dir = kTestdata + "/basic";
  absl::Status s = Migrate(db_.url(), "svc", dir);
  ASSERT_TRUE(s.ok()) << s;

  pqxx::result rows =
      Query("SELECT version, name, checksum, applied_at IS NOT NULL FROM svc.schema_migrations "
            "ORDER BY version");
  ASSERT_EQ(rows.size(), 3u);
  const std::vector<std::string> files = {"V001__create_notes.sql", "V002__add_note_author.sql",
                                          "V003__seed_welcome_note.sql"};
  const std::vector<std::string> names = {"create_notes", "add_note_author",
                                          "seed_welcome_note"};
  pqxx::connection c(db_.url());
  pqxx::nontransaction tx(c);
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i][0].as<int>(), static_cast<int>(i) + 1);
    EXPECT_EQ(rows[i][1].as<std::string>(), names[i]);
    // Checked against PostgreSQL's own SHA-256 of the file's bytes.
    std::string content = ReadFile(fs::path(dir) / files[i]);
    std::string expected =
        tx.exec_params1("SELECT encode(sha256($1), 'hex')", pqxx::binarystring(content))[0]
            .as<std::string>();
    EXPECT_EQ(rows[i][2].as<std::string>(), expected) << files[i];
    EXPECT_TRUE(rows[i][3].as<bool>());
  }
  // V002 ran after V001 (it alters the table), V003 after V002 (it fills the new column), all
  // in schema svc, not public.
  EXPECT_TRUE(Exists("svc.notes"));
  EXPECT_FALSE(Exists("public.notes"));
  EXPECT_EQ(Scalar("SELECT count(*) FROM svc.notes WHERE author = 'system'"), 1);

  // The common tables came first, recorded apart.
  EXPECT_TRUE(Exists("svc.idempotency_keys"));
  EXPECT_TRUE(Exists("svc.audit_events"));
  EXPECT_EQ(Scalar("SELECT count(*) FROM svc.common_migrations"), 2);
}

TEST_F(MigrateTest, SecondRunIsANoOp) {
  const std::string dir = kTestdata + "/basic";
  ASSERT_TRUE(Migrate(db_.url(), "svc", dir).ok());
  std::string applied_at = Query("SELECT max(applied_at)::text FROM svc.schema_migrations")[0][0]
                               .as<std::string>();
  absl::Status again = Migrate(db_.url(), "svc", dir);
  ASSERT_TRUE(again.ok()) << again;
  EXPECT_EQ(Scalar("SELECT count(*) FROM svc.notes"), 1);  // V003 did not run twice
  EXPECT_EQ(Scalar("SELECT count(*) FROM svc.schema_migrations"), 3);
  EXPECT_EQ(Scalar("SELECT count(*) FROM svc.common_migrations"), 2);
  EXPECT_EQ(Query("SELECT max(applied_at)::text FROM svc.schema_migrations")[0][0]
                .as<std::string>(),
            applied_at);
}

TEST_F(MigrateTest, NewFilesAreAppliedOnTheNextRun) {
  fs::path dir = CopyOf("basic");
  fs::remove(dir / "V003__seed_welcome_note.sql");
  ASSERT_TRUE(Migrate(db_.url(), "svc", dir.string()).ok());
  EXPECT_EQ(Scalar("SELECT count(*) FROM svc.notes"), 0);
  fs::copy_file(fs::path(kTestdata) / "basic" / "V003__seed_welcome_note.sql",
                dir / "V003__seed_welcome_note.sql");
  ASSERT_TRUE(Migrate(db_.url(), "svc", dir.string()).ok());
  EXPECT_EQ(Scalar("SELECT count(*) FROM svc.notes"), 1);
  EXPECT_EQ(Scalar("SELECT max(version) FROM svc.schema_migrations"), 3);
}

TEST_F(MigrateTest, ChangedAppliedFileIsRefusedAndNothingIsApplied) {
  fs::path dir = CopyOf("basic");
  ASSERT_TRUE(Migrate(db_.url(), "svc", dir.string()).ok());
  std::string old_checksum =
      Query("SELECT checksum FROM svc.schema_migrations WHERE version = 2")[0][0]
          .as<std::string>();

  WriteFile(dir / "V002__add_note_author.sql",
            "ALTER TABLE notes ADD COLUMN author text NOT NULL DEFAULT 'someone';\n");
  WriteFile(dir / "V004__create_tags.sql", "CREATE TABLE tags (name text);\n");
  absl::Status s = Migrate(db_.url(), "svc", dir.string());
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("V002__add_note_author.sql"));
  EXPECT_THAT(std::string(s.message()), HasSubstr(old_checksum));
  EXPECT_THAT(std::string(s.message()),
              HasSubstr(Sha256Hex(ReadFile(dir / "V002__add_note_author.sql"))));
  EXPECT_FALSE(Exists("svc.tags"));
  EXPECT_EQ(Scalar("SELECT count(*) FROM svc.schema_migrations"), 3);
  EXPECT_EQ(Query("SELECT checksum FROM svc.schema_migrations WHERE version = 2")[0][0]
                .as<std::string>(),
            old_checksum);
}

TEST_F(MigrateTest, BadFileNamesAreRefusedBeforeTheDatabaseIsTouched) {
  for (const char* bad : {"V1__create.sql", "v002__create.sql", "V002_create.sql",
                          "V002__Create.sql", "V002__create.txt", "V002__.sql",
                          "V002__create__twice.sql", "V002__create-it.sql", "README.md",
                          "V002__create.sql.bak"}) {
    fs::path dir = TempDir();
    WriteFile(dir / "V001__create_notes.sql", "CREATE TABLE notes (id integer);\n");
    WriteFile(dir / bad, "CREATE TABLE other (id integer);\n");
    absl::StatusOr<std::vector<Migration>> loaded = LoadMigrations(dir.string());
    EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    absl::Status s = Migrate(db_.url(), "svc", dir.string());
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(s.message()), HasSubstr(bad));
  }
  EXPECT_FALSE(SchemaExists("svc"));
}

TEST_F(MigrateTest, GapsAndDuplicateVersionsAreRefused) {
  const std::vector<std::vector<std::string>> cases = {
      {"V001__a.sql", "V003__c.sql"},                 // gap
      {"V002__b.sql"},                                // does not start at 1
      {"V001__a.sql", "V001__b.sql"},                 // duplicate
      {"V001__a.sql", "V0001__a.sql"},                // same number, spelled twice
      {"V000__zero.sql", "V001__a.sql"},              // 0 is not a version
  };
  for (const auto& files : cases) {
    fs::path dir = TempDir();
    for (const std::string& f : files) WriteFile(dir / f, "SELECT 1;\n");
    absl::Status s = Migrate(db_.url(), "svc", dir.string());
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << files.back() << ": " << s;
  }
  EXPECT_FALSE(SchemaExists("svc"));
}

TEST_F(MigrateTest, LoadsInNumericOrderAndIgnoresDotFiles) {
  fs::path dir = TempDir();
  for (int v = 1; v <= 12; ++v) {
    WriteFile(dir / absl::StrFormat("V%03d__step_%d.sql", v, v), absl::StrCat("-- ", v, "\n"));
  }
  WriteFile(dir / "V013__more.sql", "");
  WriteFile(dir / ".gitkeep", "");
  absl::StatusOr<std::vector<Migration>> loaded = LoadMigrations(dir.string());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->size(), 13u);
  for (size_t i = 0; i < loaded->size(); ++i) EXPECT_EQ((*loaded)[i].version, int(i) + 1);
  EXPECT_EQ((*loaded)[11].file_name, "V012__step_12.sql");
  EXPECT_EQ((*loaded)[11].name, "step_12");
  // Comment-only and empty files are fine to apply.
  absl::Status s = Migrate(db_.url(), "svc", dir.string());
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(Scalar("SELECT count(*) FROM svc.schema_migrations"), 13);
}

TEST_F(MigrateTest, MissingFolderIsNotFoundAndEmptyFolderAppliesTheCommonTables) {
  EXPECT_EQ(Migrate(db_.url(), "svc", kTestdata + "/no_such_folder").code(),
            absl::StatusCode::kNotFound);
  fs::path empty = TempDir();
  absl::Status s = Migrate(db_.url(), "svc", empty.string());
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(Exists("svc.idempotency_keys"));
  EXPECT_TRUE(Exists("svc.audit_events"));
  EXPECT_EQ(Scalar("SELECT count(*) FROM svc.schema_migrations"), 0);
}

TEST_F(MigrateTest, BadSchemaNameIsRefused) {
  for (const char* bad : {"", "Svc", "svc; DROP TABLE x", "pg_temp", "a-b"}) {
    EXPECT_EQ(Migrate(db_.url(), bad, kTestdata + "/basic").code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST_F(MigrateTest, FailingMigrationLeavesNothingOfItselfBehind) {
  absl::Status s = Migrate(db_.url(), "svc", kTestdata + "/failing");
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("V002__half_done.sql"));
  EXPECT_THAT(std::string(s.message()), ::testing::Not(HasSubstr("no_such_table")));
  // V001 is applied and recorded; V002's first statements are rolled back with it; V003 never
  // ran.
  EXPECT_TRUE(Exists("svc.items"));
  EXPECT_EQ(Scalar("SELECT count(*) FROM svc.items"), 0);
  EXPECT_FALSE(Exists("svc.half_done"));
  EXPECT_FALSE(Exists("svc.never_reached"));
  EXPECT_EQ(Scalar("SELECT count(*) FROM svc.schema_migrations"), 1);
  // The lock died with the runner's connection: a fixed file goes through at once.
  EXPECT_EQ(AdvisoryLocks(), 0);

  fs::path dir = CopyOf("failing");
  WriteFile(dir / "V002__half_done.sql",
            "CREATE TABLE half_done (id integer PRIMARY KEY);\n"
            "INSERT INTO items (id) VALUES (1);\n");
  absl::Status fixed = Migrate(db_.url(), "svc", dir.string());
  ASSERT_TRUE(fixed.ok()) << fixed;
  EXPECT_TRUE(Exists("svc.half_done"));
  EXPECT_TRUE(Exists("svc.never_reached"));
  EXPECT_EQ(Scalar("SELECT count(*) FROM svc.items"), 1);
}

TEST_F(MigrateTest, ConcurrentRunnersApplyEachFileExactlyOnce) {
  // The test holds the runners' lock, so that both are surely waiting on it at once.
  pqxx::connection holder(db_.url());
  {
    pqxx::nontransaction tx(holder);
    tx.exec_params("SELECT pg_advisory_lock($1)", MigrationLockKey("svc"));
  }
  const std::string dir = kTestdata + "/basic";
  absl::Status results[2];
  std::vector<std::thread> runners;
  for (int i = 0; i < 2; ++i) {
    runners.emplace_back([&, i] { results[i] = Migrate(db_.url(), "svc", dir); });
  }
  absl::Time until = absl::Now() + absl::Seconds(30);
  while (AdvisoryLocks(/*waiting_only=*/true) <
             2 &&
         absl::Now() < until) {
  }
  EXPECT_EQ(AdvisoryLocks(/*waiting_only=*/true),
            2);
  {
    pqxx::nontransaction tx(holder);
    tx.exec_params("SELECT pg_advisory_unlock($1)", MigrationLockKey("svc"));
  }
  for (std::thread& t : runners) t.join();
  EXPECT_TRUE(results[0].ok()) << results[0];
  EXPECT_TRUE(results[1].ok()) << results[1];
  EXPECT_EQ(Scalar("SELECT count(*) FROM svc.notes"), 1);  // V003 ran exactly once
  EXPECT_EQ(Scalar("SELECT count(*) FROM svc.schema_migrations"), 3);
  EXPECT_EQ(Scalar("SELECT count(*) FROM svc.common_migrations"), 2);
}

TEST_F(MigrateTest, GivesUpWaitingForTheLockAfterTheLockTimeout) {
  pqxx::connection holder(db_.url());
  {
    pqxx::nontransaction tx(holder);
    tx.exec_params("SELECT pg_advisory_lock($1)", MigrationLockKey("svc"));
  }
  MigrateOptions options;
  options.lock_timeout = absl::Milliseconds(200);
  absl::Status s = Migrate(db_.url(), "svc", kTestdata + "/basic", options);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_FALSE(SchemaExists("svc"));
}

TEST_F(MigrateTest, RunsOnAPoolAndGivesItsConnectionBack) {
  PoolOptions options;
  options.url = db_.url();
  options.size = 1;
  Pool pool(options);
  absl::Status s = Migrate(pool, "svc", kTestdata + "/basic");
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(pool.Stats().in_use, 0);
  EXPECT_EQ(pool.Stats().connected, 0);  // closed: a file may have changed session settings
  // The advisory lock was released, not left on the pooled session.
  EXPECT_EQ(AdvisoryLocks(), 0);
  absl::StatusOr<int64_t> notes =
      pool.Transact(absl::InfiniteFuture(), [](pqxx::work& tx) -> absl::StatusOr<int64_t> {
        return tx.exec1("SELECT count(*) FROM svc.notes")[0].as<int64_t>();
      });
  ASSERT_TRUE(notes.ok());
  EXPECT_EQ(*notes, 1);
  // A second schema in the same database is independent.
  ASSERT_TRUE(Migrate(pool, "other", kTestdata + "/basic").ok());
  EXPECT_EQ(Scalar("SELECT count(*) FROM other.notes"), 1);
}

TEST_F(MigrateTest, DatabaseAheadOfTheBinaryIsAccepted) {
  fs::path dir = CopyOf("basic");
  ASSERT_TRUE(Migrate(db_.url(), "svc", dir.string()).ok());
  fs::remove(dir / "V003__seed_welcome_note.sql");  // an older release's folder
  absl::Status s = Migrate(db_.url(), "svc", dir.string());
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(Scalar("SELECT count(*) FROM svc.schema_migrations"), 3);
}

}  // namespace
}  // namespace anken::db
