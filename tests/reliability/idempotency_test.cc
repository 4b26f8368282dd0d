// Reliability: creates are once per request_id under concurrency and across a crash.
//
// - request-id storm: 50 concurrent CreateCustomer with one request_id against the real
//   anken-customer process → one row, every success carries the same id; the same id with
//   another body → INVALID_ARGUMENT REQUEST_ID_REUSED and nothing written.
// - kill -9 after commit: concurrent CreateProject calls against the real anken-project
//   process, which is killed with SIGKILL as soon as the first of them is committed (so some
//   are committed with their reply lost, some in flight, some not begun); a new process answers
//   every retry with the same request_id: one row per request, the first reply when one was
//   observed.

#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "anken/customer/v1/customer_service.grpc.pb.h"
#include "anken/project/v1/project_service.grpc.pb.h"
#include "common/status/errors.h"
#include "grpcpp/create_channel.h"
#include "tests/reliability/reliability_support.h"
#include "tests/support/test_database.h"

namespace anken::reliability {
namespace {

using CustomerStub = customer::v1::CustomerService::Stub;
using ProjectStub = project::v1::ProjectService::Stub;

int64_t Count(const std::string& url, const std::string& sql) {
  pqxx::connection c(url);
  pqxx::work tx(c);
  return tx.exec1(sql)[0].as<int64_t>();
}

class IdempotencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = ServiceEnv(db_.url());
    ASSERT_TRUE(Migrate(ANKEN_CUSTOMER_BIN, env_).ok());
    ASSERT_TRUE(Migrate(ANKEN_PROJECT_BIN, env_).ok());
    auto c = ServiceProcess::Start(ANKEN_CUSTOMER_BIN, env_);
    ASSERT_TRUE(c.ok()) << c.status();
    customer_ = std::move(*c);
    customers_ = customer::v1::CustomerService::NewStub(customer_->Channel());
    env_["ANKEN_CUSTOMER_ADDR"] = customer_->address();
  }

  anken::testing::ScratchDatabase db_{"rel_idem"};
  std::map<std::string, std::string> env_;
  std::unique_ptr<ServiceProcess> customer_;
  std::unique_ptr<CustomerStub> customers_;
  const std::string staff_ = Token(auth::Role::kStaff, "reliability-staff");
};

TEST_F(IdempotencyTest, RequestIdStorm) {
  const std::string scenario = "request-id storm";
  constexpr int kCalls = 50;
  const auto request = CustomerRequest("storm-1", "株式会社ストーム");
  std::vector<grpc::Status> statuses(kCalls);
  std::vector<int64_t> ids(kCalls, 0);
  absl::Notification go;
  std::vector<std::thread> threads;
  for (int i = 0; i < kCalls; ++i) {
    threads.emplace_back([&, i] {
      // One channel per caller: 50 connections, so the calls really arrive together.
      auto stub = customer::v1::CustomerService::NewStub(customer_->Channel());
      go.WaitForNotification();
      grpc::ClientContext ctx;
      Authorize(&ctx, staff_);
      customer::v1::Customer reply;
      statuses[i] = stub->CreateCustomer(&ctx, request, &reply);
      ids[i] = reply.id();
    });
  }
  go.Notify();
  for (auto& t : threads) t.join();

  int ok = 0, same = 0, leaks = 0;
  int64_t first_id = 0;
  for (int i = 0; i < kCalls; ++i) {
    if (LeaksInternals(statuses[i].error_message())) ++leaks;
    if (!statuses[i].ok()) {
      ADD_FAILURE() << "call " << i << ": " << statuses[i].error_code() << " "
                    << statuses[i].error_message();
      continue;
    }
    ++ok;
    if (first_id == 0) first_id = ids[i];
    if (ids[i] == first_id) ++same;
  }
  const int64_t rows =
      Count(db_.url(), "SELECT count(*) FROM customer.customers WHERE name = '株式会社ストーム'");
  bool held = true;
  held &= Check(scenario, absl::StrCat(kCalls, " concurrent calls, ", ok, " succeeded"),
                ok == kCalls);
  held &= Check(scenario, absl::StrCat(rows, " row written (want 1)"), rows == 1);
  held &= Check(scenario, absl::StrCat(same, " of ", ok, " successes returned the same id ",
                                       first_id),
                same == ok && first_id > 0);
  held &= Check(scenario, absl::StrCat(leaks, " messages leaking internals"), leaks == 0);

  // The same request_id with another body: refused, nothing written.
  const int64_t before = Count(db_.url(), "SELECT count(*) FROM customer.customers");
  grpc::ClientContext ctx;
  Authorize(&ctx, staff_);
  customer::v1::Customer reply;
  const grpc::Status reused =
      customers_->CreateCustomer(&ctx, CustomerRequest("storm-1", "株式会社ベツモノ"), &reply);
  const std::string reason = ErrorReason(FromGrpcStatus(reused));
  const int64_t after = Count(db_.url(), "SELECT count(*) FROM customer.customers");
  held &= Check(scenario,
                absl::StrCat("same id, other body: code ", reused.error_code(), " reason ",
                             reason, " (want 3 REQUEST_ID_REUSED)"),
                reused.error_code() == grpc::StatusCode::INVALID_ARGUMENT &&
                    reason == "REQUEST_ID_REUSED");
  held &= Check(scenario, absl::StrCat("rows before/after the reuse: ", before, "/", after),
                before == after);
  held &= Check(scenario, "the reuse message leaks no internals",
                !LeaksInternals(reused.error_message()));
  RecordScenario(scenario, held,
                 absl::StrCat(kCalls, " calls, ", rows, " row, ", same, " same id; reuse ",
                              reason.empty() ? "accepted" : reason));
  EXPECT_TRUE(held);
}

TEST_F(IdempotencyTest, KillNineAfterCommitThenRetry) {
  const std::string scenario = "kill -9 after commit";
  constexpr int kTrials = 3;
  constexpr int kCalls = 16;

  grpc::ClientContext cctx;
  Authorize(&cctx, staff_);
  customer::v1::Customer owner;
  ASSERT_TRUE(customers_->CreateCustomer(&cctx, CustomerRequest("kill-owner", "株式会社キル"),
                                         &owner)
                  .ok());

  bool held = true;
  int committed_unobserved = 0, observed = 0, retried = 0;
  for (int trial = 0; trial < kTrials; ++trial) {
    auto started = ServiceProcess::Start(ANKEN_PROJECT_BIN, env_);
    ASSERT_TRUE(started.ok()) << started.status();
    std::unique_ptr<ServiceProcess> project = std::move(*started);

    // Call kCalls - 1 goes through a proxy that drops the server's bytes once the connection
    // is up: it is committed, and its reply is certainly never observed.
    auto proxy = ReplyHoldingProxy::Start(project->port());
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    auto held_stub = project::v1::ProjectService::NewStub(grpc::CreateChannel(
        (*proxy)->address(), grpc::InsecureChannelCredentials()));
    {
      grpc::ClientContext ctx;
      Authorize(&ctx, staff_);
      project::v1::GetProjectRequest warm;
      warm.set_id(1 << 30);
      project::v1::Project none;
      const grpc::Status s = held_stub->GetProject(&ctx, warm, &none);
      ASSERT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
    }
    (*proxy)->HoldReplies();

    std::vector<project::v1::CreateProjectRequest> requests(kCalls);
    for (int i = 0; i < kCalls; ++i) {
      requests[i].set_request_id(absl::StrCat("kill-", trial, "-", i));
      requests[i].mutable_project()->set_customer_id(owner.id());
      requests[i].mutable_project()->set_name(absl::StrCat("kill ", trial, " ", i));
      requests[i].mutable_project()->set_order_status(project::v1::ORDER_STATUS_PROSPECT);
    }
    std::vector<grpc::Status> statuses(kCalls);
    std::vector<project::v1::Project> replies(kCalls);
    absl::Notification go;
    std::vector<std::thread> threads;
    for (int i = 0; i < kCalls; ++i) {
      threads.emplace_back([&, i] {
        auto stub = project::v1::ProjectService::NewStub(project->Channel());
        go.WaitForNotification();
        grpc::ClientContext ctx;
        Authorize(&ctx, staff_);
        statuses[i] = (i == kCalls - 1 ? held_stub : stub)->CreateProject(&ctx, requests[i],
                                                                           &replies[i]);
      });
    }
    go.Notify();
    // Kill as soon as the first of them is committed.
    const std::string like = absl::StrCat("SELECT count(*) FROM project.projects WHERE name LIKE 'kill ",
                                          trial, " %'");
    int64_t at_kill = 0;
    {
      pqxx::connection watch(db_.url());
      const absl::Time end = absl::Now() + absl::Seconds(90);
      const std::string held_row = absl::StrCat(
          "SELECT count(*) FROM project.projects WHERE name = 'kill ", trial, " ", kCalls - 1,
          "'");
      int64_t held_committed = 0;
      while (held_committed == 0 && absl::Now() < end) {
        pqxx::nontransaction tx(watch);
        held_committed = tx.exec1(held_row)[0].as<int64_t>();
      }
      pqxx::nontransaction tx(watch);
      at_kill = tx.exec1(like)[0].as<int64_t>();
    }
    absl::StatusOr<int> killed = project->Kill9();
    for (auto& t : threads) t.join();
    proxy->reset();
    // What the crashed process committed, before any retry.
    std::vector<bool> committed(kCalls, false);
    for (int i = 0; i < kCalls; ++i) {
      committed[i] = Count(db_.url(), absl::StrCat("SELECT count(*) FROM project.projects "
                                                   "WHERE name = 'kill ", trial, " ", i, "'")) == 1;
    }
    ASSERT_TRUE(killed.ok()) << killed.status();
    held &= Check(scenario, absl::StrCat("trial ", trial, ": killed with SIGKILL after ",
                                         at_kill, " commit(s) seen"),
                  at_kill >= 1 && *killed == 128 + SIGKILL);
    held &= Check(scenario, absl::StrCat("trial ", trial, ": the proxied call was committed and "
                                         "its reply not observed (client saw code ",
                                         statuses[kCalls - 1].error_code(), ")"),
                  committed[kCalls - 1] && !statuses[kCalls - 1].ok());

    // A new process: every retry with the same request_id gets one row and the first reply.
    started = ServiceProcess::Start(ANKEN_PROJECT_BIN, env_);
    ASSERT_TRUE(started.ok()) << started.status();
    project = std::move(*started);
    auto stub = project::v1::ProjectService::NewStub(project->Channel());
    int one_row = 0, same_reply = 0, retry_ok = 0, leaks = 0;
    int trial_observed = 0;
    for (int i = 0; i < kCalls; ++i) {
      if (LeaksInternals(statuses[i].error_message())) ++leaks;
      grpc::ClientContext ctx;
      Authorize(&ctx, staff_);
      project::v1::Project again;
      const grpc::Status s = stub->CreateProject(&ctx, requests[i], &again);
      if (LeaksInternals(s.error_message())) ++leaks;
      if (s.ok()) ++retry_ok;
      const int64_t rows = Count(
          db_.url(), absl::StrCat("SELECT count(*) FROM project.projects WHERE name = 'kill ",
                                  trial, " ", i, "'"));
      const int64_t row_id = rows == 1 ? Count(db_.url(), absl::StrCat(
          "SELECT id FROM project.projects WHERE name = 'kill ", trial, " ", i, "'")) : 0;
      if (rows == 1 && s.ok() && again.id() == row_id) ++one_row;
      if (statuses[i].ok()) {
        ++trial_observed;
        if (s.ok() && again.id() == replies[i].id() && again.number() == replies[i].number() &&
            again.etag() == replies[i].etag()) {
          ++same_reply;
        }
      } else if (committed[i]) {
        ++committed_unobserved;  // committed, but the client never saw the reply
      }
    }
    observed += trial_observed;
    retried += kCalls;
    held &= Check(scenario, absl::StrCat("trial ", trial, ": ", retry_ok, "/", kCalls,
                                         " retries succeeded"),
                  retry_ok == kCalls);
    held &= Check(scenario, absl::StrCat("trial ", trial, ": ", one_row, "/", kCalls,
                                         " requests have exactly one row, the retry's id"),
                  one_row == kCalls);
    held &= Check(scenario, absl::StrCat("trial ", trial, ": ", same_reply, "/", trial_observed,
                                         " observed replies repeated exactly"),
                  same_reply == trial_observed);
    held &= Check(scenario, absl::StrCat("trial ", trial, ": ", leaks, " leaking messages"),
                  leaks == 0);
  }
  const int64_t total = Count(db_.url(), "SELECT count(*) FROM project.projects");
  held &= Check(scenario, absl::StrCat(total, " rows for ", retried, " requests"),
                total == retried);
  held &= Check(scenario, absl::StrCat(committed_unobserved, " committed calls whose reply was "
                                       "lost (want >= ", kTrials, ")"),
                committed_unobserved >= kTrials);
  RecordScenario(scenario, held,
                 absl::StrCat(kTrials, " kills, ", retried, " requests, ", observed,
                              " replies observed before the kill, ", committed_unobserved,
                              " unacknowledged, ", total, " rows"));
  EXPECT_TRUE(held);
}

}  // namespace
}  // namespace anken::reliability
