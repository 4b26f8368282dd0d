// Reliability: renewal kill points. The real anken-billing process reaches Postgres through
// PgFaultProxy (tests/reliability/pg_fault_proxy.h), which counts its statement round trips
// and SIGKILLs it at the n-th one, before forwarding that message or just after (so a COMMIT
// may commit on the server while billing dies without its answer). No fault hook lives in
// production code.
//
// A cycle is what month end does in billing: RunRenewals for the month (P auto-renewing
// monthly plans, seeded with SQL), IssueInvoice for that month's READY entry of a support case,
// and RequestInvoiceIssue for the case (the one write that queues a notification_outbox row;
// renewals and invoices write none). Two cycles run unfaulted, the second giving T, its
// statement count, and T_r, that of its RunRenewals (>= 25, so >= 50 kill points land in
// it). Then each kill point kills the process in a new month's cycle: every (n, before or
// after forwarding) pair of the cycle, at most 200 spread evenly (ANKEN_RELIABILITY_LONG=1:
// 1,200 plans, so more than two renewal batches, and at most 800). After every kill the
// database must be consistent as the killed process left it: a plan's end month moved iff its
// month's entry and its audit event exist, every invoice whole (lines, rate totals, BILLED
// entries, audit, gapless numbers, its idempotency key), an outbox row iff its issue request
// exists. Then a restarted process reruns the cycle with the same request_ids: every call
// succeeds and every plan has exactly one entry per period, none missing, none doubled.

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "anken/billing/v1/billing_service.grpc.pb.h"
#include "anken/customer/v1/customer_service.grpc.pb.h"
#include "tests/reliability/pg_fault_proxy.h"
#include "tests/reliability/reliability_support.h"
#include "tests/reliability/renewal_seed.h"
#include "tests/support/test_database.h"

namespace anken::reliability {
namespace {

using billing::v1::BillingService;

// Month k of the run (k = 1: 2025-01).
absl::CivilMonth MonthOf(int k) { return absl::CivilMonth(2025, 1) + (k - 1); }

std::string Period(absl::CivilMonth m) {
  return absl::StrFormat("M%04d-%02d", m.year(), m.month());
}

int64_t One(pqxx::nontransaction& tx, const std::string& sql) {
  return tx.exec1(sql)[0].as<int64_t>();
}

// Everything that must hold whatever instant billing died at; the violations, empty when none.
std::vector<std::string> Violations(const std::string& url) {
  std::vector<std::string> out;
  pqxx::connection c(url);
  pqxx::nontransaction tx(c);
  // Renewals: the end month moved iff the month's entry and the renewal's audit event exist.
  for (const pqxx::row& r : tx.exec(
           "SELECT p.project_id, to_char(p.end_month, 'YYYY-MM'), "
           "((extract(year FROM p.end_month)::int - 2024) * 12 + "
           "  extract(month FROM p.end_month)::int - 12), "
           "(SELECT count(*) FROM billing.entries e WHERE e.project_id = p.project_id), "
           "(SELECT count(DISTINCT e.period) FROM billing.entries e "
           "  WHERE e.project_id = p.project_id), "
           "(SELECT coalesce(min(e.period), '') FROM billing.entries e "
           "  WHERE e.project_id = p.project_id), "
           "(SELECT coalesce(max(e.period), '') FROM billing.entries e "
           "  WHERE e.project_id = p.project_id), "
           "(SELECT count(*) FROM billing.audit_events a WHERE a.resource_type = 'plan' "
           "  AND a.resource_id = 'plans/' || p.project_id AND a.change_json ? 'renewal_run_id') "
           "FROM billing.plans p WHERE p.timing = 3 ORDER BY 1")) {
    const int64_t months = r[2].as<int64_t>();
    const std::string last = "M" + r[1].as<std::string>();
    if (r[3].as<int64_t>() != months || r[4].as<int64_t>() != months ||
        r[7].as<int64_t>() != months ||
        (months > 0 && (r[5].as<std::string>() != "M2025-01" || r[6].as<std::string>() != last))) {
      out.push_back(absl::StrCat("plan ", r[0].as<int64_t>(), " ends ", r[1].as<std::string>(),
                                 " (", months, " months renewed) but has ", r[3].as<int64_t>(),
                                 " entries, ", r[4].as<int64_t>(), " periods ",
                                 r[5].as<std::string>(), "..", r[6].as<std::string>(), ", ",
                                 r[7].as<int64_t>(), " renewal audit events"));
    }
  }
  // Invoices: whole or absent.
  for (const pqxx::row& r : tx.exec(
           "SELECT i.id, i.subtotal, i.tax, i.total, "
           "(SELECT count(*) FROM billing.invoice_lines l WHERE l.invoice_id = i.id), "
           "(SELECT coalesce(sum(l.amount), 0) FROM billing.invoice_lines l "
           "  WHERE l.invoice_id = i.id), "
           "(SELECT count(*) FROM billing.invoice_rate_totals t WHERE t.invoice_id = i.id), "
           "(SELECT coalesce(sum(t.tax), 0) FROM billing.invoice_rate_totals t "
           "  WHERE t.invoice_id = i.id), "
           "(SELECT count(*) FROM billing.entries e WHERE e.invoice_id = i.id AND e.status = 3), "
           "(SELECT count(*) FROM billing.audit_events a WHERE a.resource_type = 'invoice' "
           "  AND a.resource_id = 'invoices/' || i.id) "
           "FROM billing.invoices i ORDER BY 1")) {
    const int64_t lines = r[4].as<int64_t>();
    if (lines < 1 || r[8].as<int64_t>() != lines || r[5].as<int64_t>() != r[1].as<int64_t>() ||
        r[6].as<int64_t>() < 1 || r[7].as<int64_t>() != r[2].as<int64_t>() ||
        r[3].as<int64_t>() != r[1].as<int64_t>() + r[2].as<int64_t>() ||
        r[9].as<int64_t>() != 1) {
      out.push_back(absl::StrCat("invoice ", r[0].as<int64_t>(), " is not whole: ", lines,
                                 " lines, ", r[8].as<int64_t>(), " BILLED entries, ",
                                 r[6].as<int64_t>(), " rate totals, ", r[9].as<int64_t>(),
                                 " audit events"));
    }
  }
  const int64_t invoices = One(tx, "SELECT count(*) FROM billing.invoices");
  const int64_t numbered = One(tx, "SELECT coalesce(sum(last_number), 0) FROM billing.invoice_counters");
  const int64_t invoice_keys = One(
      tx, "SELECT count(*) FROM billing.idempotency_keys WHERE method LIKE '%IssueInvoice'");
  if (numbered != invoices || invoice_keys != invoices) {
    out.push_back(absl::StrCat(invoices, " invoices but counters at ", numbered, " and ",
                               invoice_keys, " IssueInvoice request_ids stored"));
  }
  const int64_t orphan_billed = One(
      tx, "SELECT count(*) FROM billing.entries e WHERE e.status >= 3 AND NOT EXISTS ("
          "SELECT 1 FROM billing.invoice_lines l WHERE l.entry_id = e.id "
          "AND l.invoice_id = e.invoice_id)");
  if (orphan_billed != 0) out.push_back(absl::StrCat(orphan_billed, " BILLED entries off invoice"));
  // The outbox: a row iff its invoice-issue request exists (and only that kind is written).
  const int64_t requests = One(tx, "SELECT count(*) FROM billing.invoice_issue_requests");
  const int64_t without_outbox = One(
      tx, "SELECT count(*) FROM billing.invoice_issue_requests r WHERE (SELECT count(*) FROM "
          "billing.notification_outbox o WHERE o.kind = 'invoice_issue_request' AND "
          "(o.payload->>'request_id')::bigint = r.id) <> 1");
  const int64_t orphan_outbox = One(
      tx, "SELECT count(*) FROM billing.notification_outbox o WHERE o.kind <> "
          "'invoice_issue_request' OR NOT EXISTS (SELECT 1 FROM billing.invoice_issue_requests r "
          "WHERE r.id = (o.payload->>'request_id')::bigint)");
  const int64_t request_keys = One(
      tx, "SELECT count(*) FROM billing.idempotency_keys WHERE method LIKE "
          "'%RequestInvoiceIssue'");
  const int64_t request_audits = One(
      tx, "SELECT count(*) FROM billing.audit_events WHERE resource_type = 'invoice_request'");
  if (without_outbox != 0 || orphan_outbox != 0 || request_keys != requests ||
      request_audits != requests) {
    out.push_back(absl::StrCat(requests, " issue requests: ", without_outbox,
                               " without exactly one outbox row, ", orphan_outbox,
                               " outbox rows without a request, ", request_keys,
                               " request_ids stored, ", request_audits, " audit events"));
  }
  return out;
}

class BillingMonthEnd {
 public:
  BillingMonthEnd(int64_t customer_id, int64_t support_case) :
      customer_id_(customer_id), support_case_(support_case) {}

  // Runs cycle `k` (month k) with its own request_ids until a call fails; the name of the
  // call that failed (empty when all succeeded) and its status. `after_renewals` runs once
  // RunRenewals succeeded.
  std::pair<std::string, grpc::Status> Run(
      BillingService::Stub& stub, int k, int64_t entry_id,
      const std::function<void()>& after_renewals = [] {}) const {
    const absl::CivilMonth month = MonthOf(k);
    const absl::CivilDay as_of(month.year(), month.month(), 15);
    {
      billing::v1::RunRenewalsRequest req;
      req.set_request_id(absl::StrCat("cycle-", k, "-renew"));
      SetDate(as_of, req.mutable_as_of());
      billing::v1::RenewalRun reply;
      grpc::ClientContext ctx;
      Authorize(&ctx, service_, absl::Seconds(120));
      grpc::Status s = stub.RunRenewals(&ctx, req, &reply);
      if (!s.ok()) return {"RunRenewals", s};
      after_renewals();
    }
    {
      billing::v1::IssueInvoiceRequest req;
      req.set_request_id(absl::StrCat("cycle-", k, "-invoice"));
      req.set_customer_id(customer_id_);
      req.add_entry_ids(entry_id);
      SetDate(as_of, req.mutable_issue_date());
      billing::v1::Invoice reply;
      grpc::ClientContext ctx;
      Authorize(&ctx, accounting_, absl::Seconds(120));
      grpc::Status s = stub.IssueInvoice(&ctx, req, &reply);
      if (!s.ok()) return {"IssueInvoice", s};
    }
    {
      billing::v1::RequestInvoiceIssueRequest req;
      req.set_request_id(absl::StrCat("cycle-", k, "-request"));
      req.set_project_id(support_case_);
      req.set_note(absl::StrCat("月末 ", Period(month)));
      billing::v1::InvoiceIssueRequest reply;
      grpc::ClientContext ctx;
      Authorize(&ctx, staff_, absl::Seconds(120));
      grpc::Status s = stub.RequestInvoiceIssue(&ctx, req, &reply);
      if (!s.ok()) return {"RequestInvoiceIssue", s};
    }
    return {"", grpc::Status::OK};
  }

 private:
  static void SetDate(absl::CivilDay d, common::v1::Date* out) {
    out->set_year(static_cast<int32_t>(d.year()));
    out->set_month(d.month());
    out->set_day(d.day());
  }

  int64_t customer_id_;
  int64_t support_case_;
  const std::string service_ = Token(auth::Role::kService, "anken-scheduler");
  const std::string accounting_ = Token(auth::Role::kAccounting, "reliability-accounting");
  const std::string staff_ = Token(auth::Role::kStaff, "reliability-staff");
};

TEST(RenewalKillPointsTest, KillNineAtEveryStageThenRerun) {
  const std::string scenario = "renewal-kill-points";
  const absl::Time began = absl::Now();
  const bool long_variant = LongVariant();
  const int plans = long_variant ? 1200 : 20;  // long: more than two renewal batches
  const int support_case = plans + 1;

  anken::testing::ScratchDatabase db("rel_kill");
  std::map<std::string, std::string> env = ServiceEnv(db.url());
  env["ANKEN_ISSUER_NAME"] = "株式会社アンケン";
  env["ANKEN_ISSUER_REGISTRATION_NUMBER"] = "T7000012050002";
  absl::StatusOr<PeerServices> peers = MigrateAndStartPeers({ANKEN_BILLING_BIN}, &env);
  ASSERT_TRUE(peers.ok()) << peers.status();

  // Billing alone goes through the proxy; one health probe at start only, so every counted
  // statement belongs to the cycle.
  const int pg_port = std::stoi(db.url().substr(db.url().rfind(':') + 1));
  auto proxy = PgFaultProxy::Start(pg_port);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  std::map<std::string, std::string> billing_env = env;
  billing_env["ANKEN_DATABASE_URL"] = (*proxy)->Url(db.url());
  billing_env["ANKEN_HEALTH_INTERVAL"] = "1h";

  customer::v1::Customer owner;
  {
    auto stub = customer::v1::CustomerService::NewStub(peers->customer->Channel());
    grpc::ClientContext ctx;
    Authorize(&ctx, Token(auth::Role::kStaff, "reliability-staff"));
    grpc::Status s =
        stub->CreateCustomer(&ctx, CustomerRequest("kill-owner", "株式会社キルポイント"), &owner);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  // Kill points, computed once T is known: at most this many, and one READY support entry
  // per cycle (invoiced in its cycle), seeded now.
  const int max_points = long_variant ? 800 : 200;
  const int max_cycles = max_points + 2;
  pqxx::connection conn(db.url());
  std::vector<int64_t> support_entries;
  {
    pqxx::work tx(conn);
    SeedWonCases(tx, owner.id(), support_case, "保守 ");
    SeedRenewingPlans(tx, owner.id(), plans);
    tx.exec0(absl::StrCat(
        "INSERT INTO billing.plans (project_id, customer_id, timing, tax_category, version, "
        "create_time, created_by, update_time, updated_by) VALUES (", support_case, ", ",
        owner.id(), ", 1, 1, 1, now(), 'seed', now(), 'seed')"));
    for (const pqxx::row& r : tx.exec(absl::StrCat(
             "INSERT INTO billing.entries (project_id, customer_id, billing_date, revenue_date, "
             "amount, tax, tax_category, status, description, version) "
             "SELECT ", support_case, ", ", owner.id(), ", '2025-01-01', '2025-01-01', "
             "1000 * g, 100 * g, 1, 2, '保守作業 ' || g, 1 FROM generate_series(1, ", max_cycles,
             ") g RETURNING id"))) {
      support_entries.push_back(r[0].as<int64_t>());
    }
    tx.commit();
  }
  std::sort(support_entries.begin(), support_entries.end());
  const BillingMonthEnd month_end(owner.id(), support_case);

  // Cycles 1 and 2 unfaulted; T is the second's count, on a process that has run a cycle
  // (like every faulted cycle after it: per-connection state such as prepared statements
  // makes a first cycle longer, and a point past a cycle's end would never fire).
  auto billing = ServiceProcess::Start(ANKEN_BILLING_BIN, billing_env);
  ASSERT_TRUE(billing.ok()) << billing.status();
  int64_t renewal_total = 0;  // statements of RunRenewals, the first of the cycle
  for (int k = 1; k <= 2; ++k) {
    (*proxy)->Reset();
    auto stub = BillingService::NewStub((*billing)->Channel());
    auto [call, status] = month_end.Run(*stub, k, support_entries[k - 1], [&] {
      renewal_total = (*proxy)->statements();
    });
    ASSERT_TRUE(status.ok()) << call << ": " << status.error_message() << "\n"
                             << (*billing)->LogTail();
  }
  const int64_t total = (*proxy)->statements();
  // Kill points are (n, before or after forwarding) pairs: RunRenewals needs 25 statements
  // for 50 of them (the store renews plans in batches, so its count hardly grows with them).
  bool held = Check(scenario, absl::StrCat("an unfaulted cycle (", plans, " renewals, 1 invoice, "
                                           "1 issue request) takes T = ", total,
                                           " statement round trips, RunRenewals the first ",
                                           renewal_total, " (want >= 25)"),
                    renewal_total >= 25 && total > renewal_total);
  std::vector<std::string> first = Violations(db.url());
  held &= Check(scenario, absl::StrCat("database consistent after the unfaulted cycle: ",
                                       first.empty() ? "yes" : absl::StrJoin(first, "; ")),
                first.empty());
  ASSERT_TRUE(held);

  // The kill points: every (n, before / after forwarding the n-th statement) pair of the
  // cycle, or max_points of them spread evenly when there are more.
  struct KillPoint {
    int64_t n;
    PgFaultProxy::When when;
  };
  std::vector<KillPoint> points;
  const int64_t pairs = 2 * total;
  const int64_t count = std::min<int64_t>(pairs, max_points);
  for (int64_t i = 0; i < count; ++i) {
    const int64_t index = count == pairs ? i : i * (pairs - 1) / (count - 1);
    points.push_back({1 + index / 2, index % 2 == 0 ? PgFaultProxy::When::kBeforeForwarding
                                                    : PgFaultProxy::When::kAfterForwarding});
  }

  int fired = 0, consistent = 0, reruns_ok = 0;
  absl::Duration restarting, checking;
  std::map<std::string, int> killed_in;
  int64_t duplicates = 0, missing = 0, entries = 0;
  for (size_t i = 0; i < points.size(); ++i) {
    const int k = static_cast<int>(i) + 3;  // cycle / month number
    const KillPoint& p = points[i];
    const std::string label = absl::StrCat(
        "kill point ", p.n, "/", total,
        p.when == PgFaultProxy::When::kBeforeForwarding ? " (before forwarding)"
                                                        : " (after forwarding)",
        ", month ", Period(MonthOf(k)));
    (*proxy)->Reset();
    ServiceProcess* victim = billing->get();
    (*proxy)->ArmFault(p.n, p.when, [victim] { (void)victim->Kill9(); });
    std::string call;
    grpc::Status status;
    {
      auto stub = BillingService::NewStub((*billing)->Channel());
      std::tie(call, status) = month_end.Run(*stub, k, support_entries[k - 1]);
    }
    const bool killed = (*proxy)->WaitFired(absl::Seconds(30));
    fired += killed ? 1 : 0;
    if (killed) ++killed_in[call.empty() ? "after the last reply" : call];
    absl::Time mark = absl::Now();
    std::vector<std::string> after_kill = Violations(db.url());
    consistent += after_kill.empty() ? 1 : 0;
    checking += absl::Now() - mark;

    // Restart and rerun the cycle with the same request_ids.
    (*proxy)->Reset();
    mark = absl::Now();
    billing = ServiceProcess::Start(ANKEN_BILLING_BIN, billing_env);
    ASSERT_TRUE(billing.ok()) << billing.status();
    restarting += absl::Now() - mark;
    std::string rerun_call;
    grpc::Status rerun;
    {
      auto stub = BillingService::NewStub((*billing)->Channel());
      std::tie(rerun_call, rerun) = month_end.Run(*stub, k, support_entries[k - 1]);
    }
    reruns_ok += rerun.ok() ? 1 : 0;
    mark = absl::Now();
    std::vector<std::string> after_rerun = Violations(db.url());
    checking += absl::Now() - mark;

    pqxx::nontransaction tx(conn);
    const int64_t generated = One(tx, "SELECT count(*) FROM billing.entries WHERE period IS NOT NULL");
    const int64_t distinct = One(
        tx, "SELECT count(*) FROM (SELECT DISTINCT project_id, period FROM billing.entries "
            "WHERE period IS NOT NULL) d");
    const int64_t expected = static_cast<int64_t>(plans) * k;
    const int64_t at_month = One(tx, absl::StrCat("SELECT count(*) FROM billing.plans WHERE "
                                                  "timing = 3 AND end_month = '",
                                                  MonthOf(k).year(), "-",
                                                  absl::StrFormat("%02d", MonthOf(k).month()),
                                                  "-01'"));
    const int64_t invoices = One(tx, "SELECT count(*) FROM billing.invoices");
    const int64_t requests = One(tx, "SELECT count(*) FROM billing.invoice_issue_requests");
    const int64_t outbox = One(tx, "SELECT count(*) FROM billing.notification_outbox");
    tx.commit();
    duplicates = generated - distinct;
    missing = expected - distinct;
    entries = generated;
    const bool ok = killed && after_kill.empty() && rerun.ok() && after_rerun.empty() &&
                    duplicates == 0 && missing == 0 && at_month == plans && invoices == k &&
                    requests == k && outbox == k;
    held &= Check(
        scenario,
        absl::StrCat(label, ": ",
                     killed ? absl::StrCat("killed in ", call.empty() ? "(no call failed)" : call,
                                           " (", status.error_code(), ")")
                            : "NOT killed (the cycle ended first)",
                     "; after the kill ",
                     after_kill.empty() ? "consistent" : absl::StrJoin(after_kill, "; "),
                     "; rerun ",
                     rerun.ok() ? "OK" : absl::StrCat(rerun_call, " ", rerun.error_message()),
                     after_rerun.empty() ? "" : absl::StrCat(" then ",
                                                             absl::StrJoin(after_rerun, "; ")),
                     "; ", generated, " entries for ", expected, " plan-months (", duplicates,
                     " duplicates, ", missing, " missing), ", at_month, "/", plans,
                     " plans at the month, ", invoices, " invoices, ", requests, " requests, ",
                     outbox, " outbox rows (want ", k, " each)"),
        ok);
    if (!ok && !rerun.ok()) {
      ADD_FAILURE() << (*billing)->LogTail();
    }
  }
  std::vector<std::string> where;
  for (const auto& [call, n] : killed_in) where.push_back(absl::StrCat(n, " in ", call));
  const int cycles = static_cast<int>(points.size());
  held &= Check(scenario, absl::StrCat(killed_in["RunRenewals"], " different kill points "
                                       "landed in RunRenewals (want >= 50)"),
                killed_in["RunRenewals"] >= 50);
  held &= Check(scenario, absl::StrCat(fired, "/", cycles, " kill points fired (",
                                       absl::StrJoin(where, ", "), "), ", consistent,
                                       " consistent right after the kill, ", reruns_ok,
                                       " reruns OK (restarts took ",
                                       absl::ToInt64Milliseconds(restarting), " ms, database "
                                       "checks ", absl::ToInt64Milliseconds(checking), " ms)"),
                fired == cycles && consistent == cycles && reruns_ok == cycles);
  RecordScenario(scenario, held,
                 absl::StrCat(fired, " kill points over T=", total, " statements (",
                              absl::StrJoin(where, ", "), "), ", plans, " plans, ", entries,
                              " entries, ", duplicates, " duplicates, ", missing, " missing, ",
                              absl::ToInt64Seconds(absl::Now() - began), " s"));
  EXPECT_TRUE(held);
}

}  // namespace
}  // namespace anken::reliability
