// Reliability: renewal-double-run. Two RunRenewals for the same day (different request_ids)
// race on the real anken-billing process, whose peer is the real anken-project process (the
// cases are 受注済 there). 500 auto-renewing monthly plans are seeded with SQL after both
// services' migrations, for 50 trials (200 with ANKEN_RELIABILITY_LONG=1). Each trial
// renews one month: exactly one entry per plan and period, none missing, each plan renewed
// by exactly one of the two runs; a rerun for the same day writes nothing.

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "anken/billing/v1/billing_service.grpc.pb.h"
#include "anken/customer/v1/customer_service.grpc.pb.h"
#include "tests/reliability/reliability_support.h"
#include "tests/reliability/renewal_seed.h"
#include "tests/support/test_database.h"

namespace anken::reliability {
namespace {

int64_t Count(pqxx::connection& c, const std::string& sql) {
  pqxx::nontransaction tx(c);
  return tx.exec1(sql)[0].as<int64_t>();
}

TEST(RenewalDoubleRunTest, OneEntryPerPlanAndPeriod) {
  const std::string scenario = "renewal-double-run";
  const int plans = 500;
  const int trials = LongVariant() ? 200 : 50;

  anken::testing::ScratchDatabase db("rel_renew");
  std::map<std::string, std::string> env = ServiceEnv(db.url());
  env["ANKEN_ISSUER_NAME"] = "株式会社アンケン";
  env["ANKEN_ISSUER_REGISTRATION_NUMBER"] = "T7000012050002";
  env["ANKEN_DB_POOL_SIZE"] = "8";
  absl::StatusOr<PeerServices> peers = MigrateAndStartPeers({ANKEN_BILLING_BIN}, &env);
  ASSERT_TRUE(peers.ok()) << peers.status();
  auto billing = ServiceProcess::Start(ANKEN_BILLING_BIN, env);
  ASSERT_TRUE(billing.ok()) << billing.status();

  // The customer the cases belong to, through the API (the project service looks it up).
  const std::string staff = Token(auth::Role::kStaff, "reliability-staff");
  customer::v1::Customer owner;
  {
    auto stub = customer::v1::CustomerService::NewStub(peers->customer->Channel());
    grpc::ClientContext ctx;
    Authorize(&ctx, staff);
    grpc::Status s =
        stub->CreateCustomer(&ctx, CustomerRequest("renewal-owner", "株式会社リニューアル"), &owner);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  // N won cases and their monthly plans ending 2024-12, renewing one month at a time.
  pqxx::connection conn(db.url());
  {
    pqxx::work tx(conn);
    SeedWonCases(tx, owner.id(), plans, "renewal ");
    SeedRenewingPlans(tx, owner.id(), plans);
    tx.commit();
  }

  const std::string service = Token(auth::Role::kService, "anken-scheduler");
  bool held = true;
  int duplicates = 0, missing = 0;
  for (int trial = 0; trial < trials; ++trial) {
    const int year = 2025 + trial / 12;  // 2025-01, 2025-02, ... one month per trial
    const int month = 1 + trial % 12;
    const std::string period = absl::StrFormat("M%04d-%02d", year, month);
    billing::v1::RunRenewalsRequest req[3];
    for (int r = 0; r < 3; ++r) {
      req[r].set_request_id(absl::StrCat("renew-", trial, "-", r));
      req[r].mutable_as_of()->set_year(year);
      req[r].mutable_as_of()->set_month(month);
      req[r].mutable_as_of()->set_day(15);
    }
    grpc::Status status[2];
    billing::v1::RenewalRun runs[2];
    absl::Notification go;
    std::vector<std::thread> threads;
    for (int r = 0; r < 2; ++r) {
      threads.emplace_back([&, r] {
        auto stub = billing::v1::BillingService::NewStub((*billing)->Channel());
        go.WaitForNotification();
        grpc::ClientContext ctx;
        Authorize(&ctx, service, absl::Seconds(300));
        status[r] = stub->RunRenewals(&ctx, req[r], &runs[r]);
      });
    }
    go.Notify();
    for (auto& t : threads) t.join();
    const std::string t = absl::StrCat("trial ", trial, " (", period, ")");
    auto text = [](const grpc::Status& s) {
      return s.ok() ? std::string("OK")
                    : absl::StrCat("code ", s.error_code(), " ", s.error_message());
    };
    held &= Check(scenario, absl::StrCat(t, ": both runs answered: ", text(status[0]), " / ",
                                         text(status[1])),
                  status[0].ok() && status[1].ok());
    std::set<int64_t> renewed;
    int reported = 0, failures = 0;
    for (const auto& run : runs) {
      failures += run.failures_size();
      for (const auto& p : run.renewals()) {
        ++reported;
        renewed.insert(p.project_id());
      }
    }
    held &= Check(scenario, absl::StrCat(t, ": ", reported, " renewals reported for ",
                                         renewed.size(), " plans, ", failures,
                                         " failures (want ", plans, ", ", plans, ", 0)"),
                  reported == plans && static_cast<int>(renewed.size()) == plans &&
                      failures == 0);
    const int64_t entries = Count(
        conn, absl::StrCat("SELECT count(*) FROM billing.entries WHERE period = '", period, "'"));
    const int64_t with_entry =
        Count(conn, absl::StrCat("SELECT count(DISTINCT project_id) FROM billing.entries "
                                 "WHERE period = '", period, "'"));
    const int64_t ended = Count(
        conn, absl::StrFormat("SELECT count(*) FROM billing.plans WHERE end_month = "
                              "'%04d-%02d-01'", year, month));
    duplicates += static_cast<int>(entries - with_entry);
    missing += plans - static_cast<int>(with_entry);
    held &= Check(scenario, absl::StrCat(t, ": ", entries, " entries for ", with_entry,
                                         " plans, ", ended, " plans now end in ", period),
                  entries == plans && with_entry == plans && ended == plans);

    // A rerun for the same day writes nothing.
    const int64_t total_before = Count(conn, "SELECT count(*) FROM billing.entries");
    const int64_t versions_before = Count(conn, "SELECT sum(version) FROM billing.plans");
    auto stub = billing::v1::BillingService::NewStub((*billing)->Channel());
    grpc::ClientContext ctx;
    Authorize(&ctx, service, absl::Seconds(300));
    billing::v1::RenewalRun rerun;
    const grpc::Status s = stub->RunRenewals(&ctx, req[2], &rerun);
    const int64_t total_after = Count(conn, "SELECT count(*) FROM billing.entries");
    const int64_t versions_after = Count(conn, "SELECT sum(version) FROM billing.plans");
    held &= Check(scenario, absl::StrCat(t, ": rerun ", s.ok() ? "OK" : s.error_message(), ", ",
                                         rerun.renewals_size(), " renewals, entries ",
                                         total_before, "->", total_after, ", plan versions ",
                                         versions_before, "->", versions_after),
                  s.ok() && rerun.renewals_size() == 0 && total_before == total_after &&
                      versions_before == versions_after);
  }
  const int64_t total = Count(conn, "SELECT count(*) FROM billing.entries");
  held &= Check(scenario, absl::StrCat(total, " entries in all (want ", plans * trials, ")"),
                total == static_cast<int64_t>(plans) * trials);
  RecordScenario(scenario, held,
                 absl::StrCat(trials, " trials x ", plans, " plans, 2 concurrent runs each: ",
                              duplicates, " duplicates, ", missing, " missing"));
  EXPECT_TRUE(held);
}

}  // namespace
}  // namespace anken::reliability
