// OutboxRelay against a real Postgres (billing's migrations, outbox rows written by the real
// RequestInvoiceIssue) and a fake SchedulerService behind the real auth interceptor, called
// over gRPC on a port-0 server. Rounds are run with RunOnce, without the relay's thread.

#include "services/billing/outbox_relay.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "anken/scheduler/v1/scheduler_service.grpc.pb.h"
#include "common/auth/auth.h"
#include "common/db/migrate.h"
#include "common/db/pool.h"
#include "common/server/client.h"
#include "common/server/peer_auth.h"
#include "google/protobuf/util/message_differencer.h"
#include "services/billing/pg_billing_store.h"
#include "tests/fakes/fake_clock.h"
#include "tests/support/test_database.h"
#include "tests/support/test_host.h"

namespace anken::billing {
namespace {

using scheduler::v1::EnqueueNotificationRequest;
using ::testing::ElementsAre;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

constexpr char kEnqueue[] = "/anken.scheduler.v1.SchedulerService/EnqueueNotification";
constexpr char kRecipient[] = "keiri@example.co.jp";

// Records every EnqueueNotification and answers like the scheduler: OK for a new key or the
// same content again, ALREADY_EXISTS for a key reused with other content. `Fail` makes it
// refuse calls; `PairCalls` holds each call until a second call with the same key arrives,
// which forces two relays to overlap on every row.
class FakeScheduler final : public scheduler::v1::SchedulerService::Service {
 public:
  grpc::Status EnqueueNotification(grpc::ServerContext*, const EnqueueNotificationRequest* req,
                                   scheduler::v1::Notification* reply) override {
    absl::MutexLock lock(&mu_);
    calls_.push_back(*req);
    if (!fail_.ok() && (fail_key_.empty() || fail_key_ == req->dedup_key())) {
      return grpc::Status(static_cast<grpc::StatusCode>(fail_.code()),
                          std::string(fail_.message()));
    }
    if (pair_calls_) {
      const std::string key = req->dedup_key();
      auto both_arrived = [this, &key]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return Count(key) >= 2;
      };
      // Bounded so that a broken relay fails the test instead of hanging it.
      if (!mu_.AwaitWithTimeout(absl::Condition(&both_arrived), absl::Seconds(20))) {
        return grpc::Status(grpc::StatusCode::INTERNAL, "the second relay never called");
      }
    }
    auto [it, inserted] = stored_.emplace(req->dedup_key(), *req);
    if (!inserted && !google::protobuf::util::MessageDifferencer::Equals(it->second, *req)) {
      ++conflicts_;
      return grpc::Status(grpc::StatusCode::ALREADY_EXISTS, "dedup key reused");
    }
    reply->set_dedup_key(req->dedup_key());
    return grpc::Status::OK;
  }

  void Fail(absl::Status status, std::string only_key = "") {
    absl::MutexLock lock(&mu_);
    fail_ = std::move(status);
    fail_key_ = std::move(only_key);
  }
  void PairCalls() {
    absl::MutexLock lock(&mu_);
    pair_calls_ = true;
  }
  std::vector<EnqueueNotificationRequest> calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  // Notifications the scheduler holds (what would be mailed), by key.
  std::map<std::string, EnqueueNotificationRequest> stored() {
    absl::MutexLock lock(&mu_);
    return stored_;
  }
  int conflicts() {
    absl::MutexLock lock(&mu_);
    return conflicts_;
  }

 private:
  int Count(const std::string& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    int n = 0;
    for (const auto& c : calls_) n += c.dedup_key() == key;
    return n;
  }

  absl::Mutex mu_;
  std::vector<EnqueueNotificationRequest> calls_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, EnqueueNotificationRequest> stored_ ABSL_GUARDED_BY(mu_);
  int conflicts_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status fail_ ABSL_GUARDED_BY(mu_);
  std::string fail_key_ ABSL_GUARDED_BY(mu_);
  bool pair_calls_ ABSL_GUARDED_BY(mu_) = false;
};

auth::MethodRoles SchedulerRoles() {
  auth::MethodRoles roles;
  roles.Allow(kEnqueue, {auth::Role::kService});
  return roles;
}

class OutboxRelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status migrated = db::Migrate(db_.url(), "billing", ANKEN_BILLING_MIGRATIONS);
    ASSERT_TRUE(migrated.ok()) << migrated;
    db::PoolOptions options;
    options.url = db_.url();
    options.size = 4;
    options.acquire_timeout = absl::Seconds(30);
    pool_ = std::make_unique<db::Pool>(options);
    store_ = std::make_unique<PgBillingStore>(*pool_);
    host_ = std::make_unique<testing::TestHost>(std::vector<grpc::Service*>{&scheduler_},
                                                SchedulerRoles(), clock_);
    auth_ = server::PeerAuth::WithToken(host_->Token(auth::Role::kService, "anken-billing"));
  }

  std::unique_ptr<OutboxRelay> NewRelay() {
    OutboxRelayOptions options;
    options.recipient = kRecipient;
    options.batch_size = 10;
    return std::make_unique<OutboxRelay>(
        *store_, server::MakePeerChannel(absl::StrCat("127.0.0.1:", host_->port())), *auth_,
        clock_, options);
  }

  // A SPLIT plan for `project_id` with `entries` entries; returns their ids.
  std::vector<int64_t> Plan(int64_t project_id, int entries) {
    BillingPlan plan;
    plan.project_id = project_id;
    plan.customer_id = 501;
    plan.timing = Timing::kSplit;
    plan.tax_category = tax::Category::kStandard;
    std::vector<PlannedEntry> planned;
    for (int i = 0; i < entries; ++i) {
      PlannedEntry p;
      p.billing_date = absl::CivilDay(2026, 6, 1 + i);
      p.revenue_date = p.billing_date;
      p.amount = 1000 * (i + 1);
      planned.push_back(p);
    }
    absl::StatusOr<BillingPlan> set = store_->SetPlan(Ctx("SetBillingPlan", ""), plan, planned,
                                                      absl::nullopt);
    EXPECT_TRUE(set.ok()) << set.status();
    std::vector<int64_t> ids;
    if (set.ok()) {
      for (const BillingEntry& e : set->entries) ids.push_back(e.id);
    }
    return ids;
  }

  // Requests an invoice through the store (which writes the outbox row); returns the
  // outbox row's id.
  int64_t Request(int64_t project_id, std::vector<int64_t> entry_ids, std::string note) {
    InvoiceIssueRequest r;
    r.project_id = project_id;
    r.entry_ids = std::move(entry_ids);
    r.note = std::move(note);
    absl::StatusOr<std::string> done = store_->RequestInvoiceIssue(
        Ctx("RequestInvoiceIssue", absl::StrCat("req-", ++requests_)), r,
        [](const InvoiceIssueRequest& x) { return absl::StrCat(x.id); });
    EXPECT_TRUE(done.ok()) << done.status();
    return Scalar("SELECT max(id) FROM billing.notification_outbox");
  }

  WriteContext Ctx(const std::string& method, const std::string& request_id) {
    WriteContext ctx;
    ctx.actor = "staff-1";
    ctx.actor_role = "staff";
    ctx.method = absl::StrCat("/anken.billing.v1.BillingService/", method);
    ctx.request_id = request_id;
    ctx.request_hash = request_id;
    ctx.now = clock_.Now();
    ctx.deadline = absl::Now() + absl::Seconds(60);
    return ctx;
  }

  int64_t Scalar(const std::string& sql) {
    pqxx::connection c(db_.url());
    pqxx::nontransaction tx(c);
    return tx.exec1(sql)[0].as<int64_t>();
  }
  int64_t Undelivered() {
    return Scalar("SELECT count(*) FROM billing.notification_outbox WHERE delivered_at IS NULL");
  }
  // delivered_at of a row in Unix microseconds; -1 when NULL.
  int64_t DeliveredMicros(int64_t id) {
    return Scalar(absl::StrCat(
        "SELECT coalesce((extract(epoch FROM delivered_at) * 1000000)::bigint, -1) "
        "FROM billing.notification_outbox WHERE id = ",
        id));
  }

  testing::ScratchDatabase db_{"outbox_relay"};
  testing::FakeClock clock_;
  FakeScheduler scheduler_;
  std::unique_ptr<db::Pool> pool_;
  std::unique_ptr<PgBillingStore> store_;
  std::unique_ptr<testing::TestHost> host_;
  std::unique_ptr<server::PeerAuth> auth_;
  int requests_ = 0;
};

TEST_F(OutboxRelayTest, RelaysARequestOnceWithTheTemplateAndMarksItDelivered) {
  const std::vector<int64_t> entries = Plan(5, 2);
  ASSERT_EQ(entries.size(), 2u);
  const int64_t row = Request(5, entries, "月末締めでお願いします");
  std::unique_ptr<OutboxRelay> relay = NewRelay();

  const absl::Time now = clock_.Now() + absl::Minutes(3) + absl::Nanoseconds(789);
  RelayRound round = relay->RunOnce(now);
  ASSERT_TRUE(round.status.ok()) << round.status;
  EXPECT_EQ(round.relayed, 1);

  const std::vector<EnqueueNotificationRequest> calls = scheduler_.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].dedup_key(), absl::StrCat("billing:notification:", row));
  EXPECT_EQ(calls[0].recipient(), kRecipient);
  EXPECT_EQ(calls[0].template_name(), "invoice_issue_request");
  std::map<std::string, std::string> params(calls[0].parameters().begin(),
                                            calls[0].parameters().end());
  EXPECT_THAT(params,
              ElementsAre(Pair("entries", absl::StrCat("・請求ID ", entries[0], "\n・請求ID ",
                                                       entries[1])),
                          Pair("note", "月末締めでお願いします"), Pair("project", "案件ID 5"),
                          Pair("requested_by", "staff-1")));
  EXPECT_EQ(Undelivered(), 0);
  EXPECT_EQ(DeliveredMicros(row), absl::ToUnixMicros(now));

  round = relay->RunOnce(now + absl::Seconds(5));
  ASSERT_TRUE(round.status.ok()) << round.status;
  EXPECT_EQ(round.relayed, 0);
  EXPECT_EQ(scheduler_.calls().size(), 1u);
  EXPECT_EQ(DeliveredMicros(row), absl::ToUnixMicros(now));  // not marked again
}

TEST_F(OutboxRelayTest, ARequestWithoutEntriesOrNoteLeavesThemToTheTemplate) {
  Plan(6, 1);
  Request(6, {}, "");
  RelayRound round = NewRelay()->RunOnce(clock_.Now());
  ASSERT_TRUE(round.status.ok()) << round.status;
  EXPECT_EQ(round.relayed, 1);
  ASSERT_EQ(scheduler_.calls().size(), 1u);
  std::map<std::string, std::string> params(scheduler_.calls()[0].parameters().begin(),
                                            scheduler_.calls()[0].parameters().end());
  EXPECT_THAT(params, ElementsAre(Pair("project", "案件ID 6"), Pair("requested_by", "staff-1")));
}

TEST_F(OutboxRelayTest, AnUnavailableSchedulerLeavesTheRowUntilItRecovers) {
  Plan(5, 1);
  const int64_t first = Request(5, {}, "a");
  const int64_t second = Request(5, {}, "b");
  std::unique_ptr<OutboxRelay> relay = NewRelay();

  scheduler_.Fail(absl::UnavailableError("scheduler down"));
  RelayRound round = relay->RunOnce(clock_.Now());
  EXPECT_EQ(round.status.code(), absl::StatusCode::kUnavailable) << round.status;
  EXPECT_EQ(round.relayed, 0);
  EXPECT_EQ(Undelivered(), 2);
  // The round stops at the first UNAVAILABLE: the second row was never tried.
  ASSERT_FALSE(scheduler_.calls().empty());
  for (const auto& c : scheduler_.calls()) {
    EXPECT_EQ(c.dedup_key(), absl::StrCat("billing:notification:", first));
  }
  EXPECT_TRUE(scheduler_.stored().empty());

  scheduler_.Fail(absl::OkStatus());
  round = relay->RunOnce(clock_.Now());
  ASSERT_TRUE(round.status.ok()) << round.status;
  EXPECT_EQ(round.relayed, 2);
  EXPECT_EQ(Undelivered(), 0);
  EXPECT_THAT(scheduler_.stored(),
              UnorderedElementsAre(Pair(absl::StrCat("billing:notification:", first), ::testing::_),
                                   Pair(absl::StrCat("billing:notification:", second),
                                        ::testing::_)));
}

TEST_F(OutboxRelayTest, ARefusedRowStaysWhileTheNextOnesGoOn) {
  Plan(5, 1);
  const int64_t refused = Request(5, {}, "a");
  const int64_t fine = Request(5, {}, "b");
  std::unique_ptr<OutboxRelay> relay = NewRelay();
  scheduler_.Fail(absl::InvalidArgumentError("bad parameter"),
                  absl::StrCat("billing:notification:", refused));

  RelayRound round = relay->RunOnce(clock_.Now());
  EXPECT_EQ(round.status.code(), absl::StatusCode::kInvalidArgument) << round.status;
  EXPECT_EQ(round.relayed, 1);
  EXPECT_EQ(DeliveredMicros(refused), -1);
  EXPECT_NE(DeliveredMicros(fine), -1);
}

TEST_F(OutboxRelayTest, TwoReplicasOverlappingSendTheSameContentAndMarkEachRowOnce) {
  Plan(5, 1);
  std::vector<int64_t> rows;
  for (int i = 0; i < 3; ++i) rows.push_back(Request(5, {}, absl::StrCat("note ", i)));
  // Every call waits for the other replica's call with the same key, so both replicas read
  // all three rows before either marks one, and both call for every row.
  scheduler_.PairCalls();
  std::unique_ptr<OutboxRelay> a = NewRelay();
  std::unique_ptr<OutboxRelay> b = NewRelay();
  RelayRound round_a, round_b;
  std::thread ta([&] { round_a = a->RunOnce(clock_.Now()); });
  std::thread tb([&] { round_b = b->RunOnce(clock_.Now()); });
  ta.join();
  tb.join();
  ASSERT_TRUE(round_a.status.ok()) << round_a.status;
  ASSERT_TRUE(round_b.status.ok()) << round_b.status;

  EXPECT_EQ(scheduler_.calls().size(), 6u);  // each row twice: the replicas really overlapped
  EXPECT_EQ(scheduler_.conflicts(), 0);      // never the same key with other content
  EXPECT_EQ(scheduler_.stored().size(), 3u);  // so three mails, not six
  EXPECT_EQ(round_a.relayed + round_b.relayed, 3);  // each row marked by exactly one replica
  EXPECT_EQ(Undelivered(), 0);
}

TEST(NextDelayTest, BacksOffDoublingUpToTheCapAndResetsOnSuccess) {
  OutboxRelayOptions o;
  o.interval = absl::Seconds(5);
  o.max_backoff = absl::Seconds(30);
  const absl::Status down = absl::UnavailableError("down");
  EXPECT_EQ(NextDelay(absl::OkStatus(), absl::Seconds(20), o), absl::Seconds(5));
  EXPECT_EQ(NextDelay(down, absl::Seconds(5), o), absl::Seconds(10));
  EXPECT_EQ(NextDelay(down, absl::Seconds(10), o), absl::Seconds(20));
  EXPECT_EQ(NextDelay(down, absl::Seconds(20), o), absl::Seconds(30));
  EXPECT_EQ(NextDelay(down, absl::Seconds(30), o), absl::Seconds(30));
}

TEST(NotificationRequestTest, RefusesUnknownKindsAndPayloadsWithoutAProject) {
  OutboxNotification row;
  row.id = 7;
  row.kind = "something_else";
  row.payload = R"({"project_id":5})";
  EXPECT_EQ(NotificationRequest(row, kRecipient).status().code(),
            absl::StatusCode::kInvalidArgument);
  row.kind = "invoice_issue_request";
  row.payload = R"({"note":"x"})";
  EXPECT_EQ(NotificationRequest(row, kRecipient).status().code(),
            absl::StatusCode::kInvalidArgument);
  row.payload = R"({"project_id":5,"requested_by":""})";
  absl::StatusOr<EnqueueNotificationRequest> req = NotificationRequest(row, kRecipient);
  ASSERT_TRUE(req.ok()) << req.status();
  EXPECT_EQ(req->dedup_key(), "billing:notification:7");
  EXPECT_EQ(req->parameters().at("requested_by"), "（不明）");
}

}  // namespace
}  // namespace anken::billing
