// Idempotent mutations by request_id against a real Postgres (a fresh database per test).

#include "common/db/idempotency.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <pqxx/pqxx>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "anken/testing/v1/echo.pb.h"
#include "common/db/migrate.h"
#include "common/status/errors.h"
#include "tests/support/test_database.h"

namespace anken::db {
namespace {

using ::anken::testing::v1::CreateNoteRequest;
using ::anken::testing::v1::Note;

constexpr char kSchema[] = "svc";
constexpr char kMethod[] = "/anken.testing.v1.EchoService/CreateNote";

CreateNoteRequest Request(const std::string& request_id, const std::string& text) {
  CreateNoteRequest r;
  r.set_request_id(request_id);
  r.set_text(text);
  return r;
}

class IdempotencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // testdata/basic creates svc.notes (and one welcome note) after the common tables.
    absl::Status s = Migrate(db_.url(), kSchema, ANKEN_DB_TESTDATA "/basic");
    ASSERT_TRUE(s.ok()) << s;
    PoolOptions options;
    options.url = db_.url();
    options.size = 4;
    pool_ = std::make_unique<Pool>(options);
  }

  // The mutation's effect: one new note. Counts its runs.
  absl::StatusOr<Note> Effect(pqxx::work& tx, const CreateNoteRequest& request) {
    ++effects_;
    Note note;
    note.set_id(tx.exec_params1("INSERT INTO svc.notes (text) VALUES ($1) RETURNING id",
                                request.text())[0]
                    .as<int64_t>());
    note.set_text(request.text());
    return note;
  }

  absl::StatusOr<Note> Create(const CreateNoteRequest& request,
                              const std::string& method = kMethod) {
    return Idempotent<Note>(*pool_, absl::Now() + absl::Seconds(30), kSchema, method,
                            request.request_id(), request,
                            [&](pqxx::work& tx) { return Effect(tx, request); });
  }

  int64_t Scalar(const std::string& sql) {
    pqxx::connection c(db_.url());
    pqxx::nontransaction tx(c);
    return tx.exec1(sql)[0].as<int64_t>();
  }
  int64_t UserNotes() { return Scalar("SELECT count(*) FROM svc.notes WHERE author = ''"); }

  testing::ScratchDatabase db_{"idem"};
  std::unique_ptr<Pool> pool_;
  std::atomic<int> effects_{0};
};

TEST_F(IdempotencyTest, FirstCallPerformsTheEffectAndAReplayReturnsTheStoredResponse) {
  CreateNoteRequest request = Request("6f1c2f0e-6d1a-4b8e-9a55-0a4f3c2d1e00", "hello");
  absl::StatusOr<Note> first = Create(request);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(effects_.load(), 1);
  EXPECT_EQ(first->text(), "hello");

  absl::StatusOr<Note> replay = Create(request);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(effects_.load(), 1);  // no second effect
  EXPECT_EQ(replay->id(), first->id());
  EXPECT_EQ(replay->text(), "hello");
  EXPECT_EQ(UserNotes(), 1);

  pqxx::connection c(db_.url());
  pqxx::nontransaction tx(c);
  pqxx::row key = tx.exec_params1(
      "SELECT request_hash, response IS NOT NULL, status_code FROM svc.idempotency_keys "
      "WHERE method = $1 AND request_id = $2",
      kMethod, request.request_id());
  EXPECT_EQ(key[0].as<std::string>(), RequestHash(request));
  EXPECT_TRUE(key[1].as<bool>());
  EXPECT_EQ(key[2].as<int>(), 0);
}

TEST_F(IdempotencyTest, SameIdForADifferentRequestIsInvalidArgument) {
  ASSERT_TRUE(Create(Request("req-1", "hello")).ok());
  absl::StatusOr<Note> reused = Create(Request("req-1", "something else"));
  EXPECT_EQ(reused.status().code(), absl::StatusCode::kInvalidArgument) << reused.status();
  EXPECT_EQ(ErrorReason(reused.status()), "REQUEST_ID_REUSED");
  ASSERT_EQ(FieldViolations(reused.status()).size(), 1u);
  EXPECT_EQ(FieldViolations(reused.status())[0].field, "request_id");
  EXPECT_EQ(effects_.load(), 1);
  EXPECT_EQ(UserNotes(), 1);
}

TEST_F(IdempotencyTest, KeysArePerMethod) {
  ASSERT_TRUE(Create(Request("req-1", "a")).ok());
  ASSERT_TRUE(Create(Request("req-1", "a"), "/anken.testing.v1.EchoService/Other").ok());
  EXPECT_EQ(effects_.load(), 2);
  EXPECT_EQ(UserNotes(), 2);
}

TEST_F(IdempotencyTest, RequestIdMustBeAShortOpaqueToken) {
  for (const std::string& bad : {std::string(), std::string(101, 'a'), std::string("a b"),
                                 std::string("x/y"), std::string("caf\xc3\xa9"),
                                 std::string("a'; DROP TABLE x; --")}) {
    absl::StatusOr<Note> r = Create(Request(bad, "t"));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    ASSERT_EQ(FieldViolations(r.status()).size(), 1u) << bad;
    EXPECT_EQ(FieldViolations(r.status())[0].field, "request_id");
  }
  EXPECT_EQ(effects_.load(), 0);
  for (const std::string& good : {std::string("6F1C2F0E-6D1A-4B8E-9A55-0A4F3C2D1E00"),
                                  std::string("abc.DEF_1:2-3"), std::string(100, 'z')}) {
    EXPECT_TRUE(CheckRequestId(good).ok()) << good;
    EXPECT_TRUE(Create(Request(good, "t")).ok()) << good;
  }
  EXPECT_EQ(effects_.load(), 3);
}

TEST_F(IdempotencyTest, FailedEffectStoresNothingSoARetryRunsAgain) {
  CreateNoteRequest request = Request("req-9", "x");
  int calls = 0;
  auto flaky = [&](pqxx::work& tx) -> absl::StatusOr<Note> {
    ++calls;
    absl::StatusOr<Note> note = Effect(tx, request);
    if (calls == 1) return absl::UnavailableError("peer down");
    return note;
  };
  absl::StatusOr<Note> failed = Idempotent<Note>(*pool_, absl::InfiniteFuture(), kSchema,
                                                 kMethod, "req-9", request, flaky);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(UserNotes(), 0);
  EXPECT_EQ(Scalar("SELECT count(*) FROM svc.idempotency_keys"), 0);

  absl::StatusOr<Note> retried = Idempotent<Note>(*pool_, absl::InfiniteFuture(), kSchema,
                                                  kMethod, "req-9", request, flaky);
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(UserNotes(), 1);
}

TEST_F(IdempotencyTest, TwoConcurrentCallsWithTheSameIdProduceOneEffect) {
  CreateNoteRequest request = Request("req-concurrent", "once");
  absl::Notification first_in_effect;
  absl::Notification let_first_commit;
  absl::StatusOr<Note> first;
  std::thread a([&] {
    first = Idempotent<Note>(*pool_, absl::InfiniteFuture(), kSchema, kMethod,
                             request.request_id(), request, [&](pqxx::work& tx) {
      absl::StatusOr<Note> note = Effect(tx, request);
      first_in_effect.Notify();
      let_first_commit.WaitForNotification();
      return note;
    });
  });
  first_in_effect.WaitForNotification();

  absl::StatusOr<Note> second;
  std::thread b([&] { second = Create(request); });
  // The second call's INSERT must be blocked on the first's uncommitted key before the first
  // commits; otherwise this would not test the race at all.
  {
    pqxx::connection c(db_.url());
    absl::Time until = absl::Now() + absl::Seconds(30);
    int64_t waiting = 0;
    while (waiting == 0 && absl::Now() < until) {
      pqxx::nontransaction tx(c);
      waiting = tx.exec_params1("SELECT count(*) FROM pg_stat_activity "
                                "WHERE datname = $1 AND wait_event_type = 'Lock'",
                                db_.name())[0]
                    .as<int64_t>();
    }
    EXPECT_EQ(waiting, 1);
  }
  let_first_commit.Notify();
  a.join();
  b.join();
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->id(), first->id());
  EXPECT_EQ(effects_.load(), 1);
  EXPECT_EQ(UserNotes(), 1);
}

TEST_F(IdempotencyTest, ManyConcurrentRetriesStillOneEffect) {
  CreateNoteRequest request = Request("req-storm", "storm");
  std::vector<std::thread> threads;
  std::vector<absl::StatusOr<Note>> results(8);
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = Create(request); });
  }
  for (std::thread& t : threads) t.join();
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->id(), results[0]->id());
  }
  EXPECT_EQ(effects_.load(), 1);
  EXPECT_EQ(UserNotes(), 1);
}

TEST_F(IdempotencyTest, BeginAndFinishInsideACallersTransaction) {
  absl::Status s = pool_->Transact(absl::InfiniteFuture(), [](pqxx::work& tx) -> absl::Status {
    absl::StatusOr<absl::optional<std::string>> begun =
        BeginIdempotent(tx, kSchema, "M", "id-1", "hash-1");
    if (!begun.ok()) return begun.status();
    EXPECT_FALSE(begun->has_value());
    // Raw bytes survive the bytea round trip, NULs included.
    const std::string bytes("\x00\x01\xff" "abc", 6);
    absl::Status finished = FinishIdempotent(tx, kSchema, "M", "id-1", bytes);
    if (!finished.ok()) return finished;
    EXPECT_EQ(FinishIdempotent(tx, kSchema, "M", "id-1", bytes).code(),
              absl::StatusCode::kInternal);  // already finished
    EXPECT_EQ(FinishIdempotent(tx, kSchema, "M", "never-begun", bytes).code(),
              absl::StatusCode::kInternal);
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  absl::StatusOr<absl::optional<std::string>> replay = pool_->Transact(
      absl::InfiniteFuture(), [](pqxx::work& tx) {
        return BeginIdempotent(tx, kSchema, "M", "id-1", "hash-1");
      });
  ASSERT_TRUE(replay.ok()) << replay.status();
  ASSERT_TRUE(replay->has_value());
  EXPECT_EQ(**replay, std::string("\x00\x01\xff" "abc", 6));

  absl::StatusOr<absl::optional<std::string>> bad_schema = pool_->Transact(
      absl::InfiniteFuture(), [](pqxx::work& tx) {
        return BeginIdempotent(tx, "svc; DROP", "M", "id-1", "hash-1");
      });
  EXPECT_EQ(bad_schema.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(IdempotencyTest, PurgeDeletesOnlyOldFinishedKeys) {
  ASSERT_TRUE(Create(Request("old", "a")).ok());
  absl::StatusOr<int64_t> none = pool_->Transact(absl::InfiniteFuture(), [](pqxx::work& tx) {
    return PurgeIdempotencyKeys(tx, kSchema, absl::Now() - absl::Hours(1));
  });
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(*none, 0);
  absl::StatusOr<int64_t> one = pool_->Transact(absl::InfiniteFuture(), [](pqxx::work& tx) {
    return PurgeIdempotencyKeys(tx, kSchema, absl::Now() + absl::Hours(1));
  });
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(*one, 1);
}

TEST(RequestHash, IgnoresRequestIdAndSeesEverythingElse) {
  EXPECT_EQ(RequestHash(Request("a", "text")), RequestHash(Request("b", "text")));
  EXPECT_NE(RequestHash(Request("a", "text")), RequestHash(Request("a", "text2")));
  EXPECT_EQ(RequestHash(Request("a", "text")).size(), 64u);
  // Another message type with the same bytes does not collide.
  Note note;
  note.set_id(0);
  CreateNoteRequest empty;
  EXPECT_NE(RequestHash(note), RequestHash(empty));
}

}  // namespace
}  // namespace anken::db
