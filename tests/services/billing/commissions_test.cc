// Integration tests of missed billing (請求漏れ) and partner commissions (紹介手数料) through the
// billing service's gRPC API, against a real Postgres and the real project and customer services
// (billing_fixture.h): missed billing lists exactly its three kinds (an entry past its billing
// date still UNBILLED / READY, a won case without a plan, a recurring period without an entry)
// and nothing of lost, prospect, billed or future work; a commission is charged once under
// retries (same and new request ids, concurrent), rounds down, is corrected by adjusting
// entries that never edit the billed first one, may be 0, is refused for a case not referred
// to that partner or a customer that is no partner; plan regeneration leaves commission entries
// alone; partner invoices carry commission entries and refuse a total ≤ 0.

#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "tests/services/billing/billing_fixture.h"

namespace anken::billing::testing {
namespace {

class CommissionsTest : public BillingServiceTest {
 protected:
  // A partner store (加盟店) with `rate_bp`, made through the customer API.
  customer::v1::Customer MustCreatePartner(const std::string& name, int rate_bp) {
    customer::v1::Customer c = Corporation(name, 0, 1, 0);
    c.set_is_customer(false);
    c.set_is_partner(true);
    c.mutable_partner()->set_commission_rate_bp(rate_bp);
    c.mutable_partner()->set_notification_email("report@partner.example.jp");
    customer::v1::Customer created = MustCreateCustomer(c);
    EXPECT_TRUE(created.is_partner());
    return created;
  }

  // A case of `customer` referred to `partner` (PROSPECT, as CreateProject leaves it).
  project::v1::Project ReferredCase(const std::string& name, const customer::v1::Customer& customer,
                                    const customer::v1::Customer& partner) {
    project::v1::CreateProjectRequest req;
    req.set_request_id(NextRequestId());
    req.mutable_project()->set_customer_id(customer.id());
    req.mutable_project()->set_name(name);
    req.mutable_project()->mutable_referral()->set_partner_id(partner.id());
    *req.mutable_project()->mutable_referral()->mutable_referral_date() = D(2019, 5, 20);
    absl::StatusOr<project::v1::Project> created =
        CallOn(project_stub_.get(), &ProjectStub::CreateProject, req, project_staff_);
    EXPECT_TRUE(created.ok()) << created.status();
    if (created.ok()) {
      EXPECT_EQ(created->referral().partner_id(), partner.id());
    }
    return created.value_or(project::v1::Project());
  }

  static v1::CreateCommissionChargeRequest ChargeRequest(
      const std::string& request_id, int64_t project_id, int64_t partner_id, int64_t amount,
      common::v1::YearMonth report_month, const std::string& key = "completion",
      v1::CommissionKind kind = v1::COMMISSION_KIND_COMPLETION) {
    v1::CreateCommissionChargeRequest req;
    req.set_request_id(request_id);
    req.set_project_id(project_id);
    req.set_partner_id(partner_id);
    req.set_charge_key(key);
    req.set_kind(kind);
    req.set_construction_amount(amount);
    *req.mutable_completion_date() = D(report_month.year(), report_month.month(), 15);
    *req.mutable_report_month() = report_month;
    return req;
  }
  // As report intake calls it (service token) unless `token` is given.
  absl::StatusOr<v1::CommissionCharge> Charge(const v1::CreateCommissionChargeRequest& req,
                                              const std::string& token = "") {
    return Call(&Stub::CreateCommissionCharge, req, token.empty() ? service_token_ : token);
  }
  v1::CommissionCharge MustCharge(const v1::CreateCommissionChargeRequest& req) {
    absl::StatusOr<v1::CommissionCharge> charged = Charge(req);
    EXPECT_TRUE(charged.ok()) << charged.status();
    return charged.value_or(v1::CommissionCharge());
  }

  absl::StatusOr<v1::ListMissedBillingResponse> MissedBilling(
      const absl::optional<common::v1::Date>& as_of, const std::string& token) {
    v1::ListMissedBillingRequest req;
    if (as_of.has_value()) *req.mutable_as_of() = *as_of;
    return Call(&Stub::ListMissedBilling, req, token);
  }

  int64_t CommissionEntryRows() const {
    return Count("SELECT count(*) FROM billing.entries WHERE kind = 2");
  }
  int64_t ChargeRows() const { return Count("SELECT count(*) FROM billing.commission_charges"); }
};

// One missed-billing item as a comparable line.
std::string ItemLine(const v1::MissedBilling& m) {
  return absl::StrCat(v1::MissedBillingKind_Name(m.kind()), "|", m.project_id(), "|",
                      m.project_number(), "|", m.customer_id(), "|", m.entry_id(), "|", m.period(),
                      "|", m.has_billing_date() ? DateString(m.billing_date()) : "-", "|",
                      m.amount(), "|", m.code());
}

// (amount, status, billing date, revenue date, invoice id, description) of an entry.
using EntryView = std::tuple<int64_t, v1::EntryStatus, std::string, std::string, int64_t, std::string>;
EntryView View(const v1::BillingEntry& e) {
  return {e.amount(), e.status(), DateString(e.billing_date()), DateString(e.revenue_date()),
          e.invoice_id(), e.description()};
}

TEST_F(CommissionsTest, MissedBillingListsExactlyItsThreeKinds) {
  // Listed: a lump sum still UNBILLED after its billing date; a split plan's READY entry after
  // its date (its future entry is not); a won case without a plan; a monthly plan whose May
  // entry is gone (April and June are billed, July is not due yet).
  const project::v1::Project lump = WonCase("一括 未請求", acme_);
  const v1::BillingPlan lump_plan =
      MustSetPlan(LumpSumPlan(lump.id(), Planned(D(2019, 6, 30), D(2019, 6, 30), 50000)));
  const project::v1::Project split = WonCase("分割 請求OK", kita_);
  const v1::BillingPlan split_plan =
      MustSetPlan(SplitPlan(split.id(), {Planned(D(2019, 6, 15), D(2019, 6, 15), 20000),
                                         Planned(D(2019, 8, 31), D(2019, 8, 31), 30000)}));
  ASSERT_EQ(split_plan.entries_size(), 2);
  ASSERT_TRUE(SetStatus(split_plan.entries(0).id(), v1::ENTRY_STATUS_READY, staff_).ok());
  const project::v1::Project no_plan = WonCase("予定なし", acme_);
  const project::v1::Project monthly = WonCase("月額 期間欠落", kita_);
  const v1::BillingPlan monthly_plan =
      MustSetPlan(RecurringPlan(monthly.id(), Monthly(YM(2019, 4), YM(2019, 9), 10000)));
  ASSERT_EQ(monthly_plan.entries_size(), 6);
  const int64_t april = monthly_plan.entries(0).id();
  const int64_t june = monthly_plan.entries(2).id();
  ASSERT_EQ(monthly_plan.entries(1).period(), "2019-05");
  for (int64_t id : {april, june}) {
    ASSERT_TRUE(SetStatus(id, v1::ENTRY_STATUS_READY, staff_).ok());
  }
  ASSERT_TRUE(Issue(kita_.id(), D(2019, 7, 1), {april, june}).ok());
  // The May entry disappears behind the plan's back (a person deleting a row, a lost import).
  Exec(absl::StrCat("DELETE FROM billing.entries WHERE id = ", monthly_plan.entries(1).id()));

  // Not listed: a won case whose only entry is billed; a lost case and a prospect with overdue
  // UNBILLED entries; a prospect without a plan; a won case with a READY commission entry past
  // its billing date (it bills the partner, not the case's plan).
  const project::v1::Project billed = WonCase("請求済", acme_);
  const v1::BillingPlan billed_plan =
      MustSetPlan(LumpSumPlan(billed.id(), Planned(D(2019, 6, 30), D(2019, 6, 30), 70000)));
  MakeReady(billed_plan);
  ASSERT_TRUE(Issue(acme_.id(), D(2019, 7, 1), {billed_plan.entries(0).id()}).ok());
  const project::v1::Project lost = WonCase("失注", acme_);
  MustSetPlan(LumpSumPlan(lost.id(), Planned(D(2019, 6, 30), D(2019, 6, 30), 80000)));
  SetOrderStatus(lost.id(), project::v1::ORDER_STATUS_LOST);
  const project::v1::Project prospect = ProspectCase("受注予定", acme_);
  MustSetPlan(LumpSumPlan(prospect.id(), Planned(D(2019, 6, 30), D(2019, 6, 30), 90000)));
  ProspectCase("受注予定 予定なし", kita_);
  const customer::v1::Customer partner = MustCreatePartner("加盟店 漏れ対象外", 1000);
  const project::v1::Project referred = ReferredCase("紹介 請求済", acme_, partner);
  SetOrderStatus(referred.id(), project::v1::ORDER_STATUS_WON);
  const v1::BillingPlan referred_plan =
      MustSetPlan(LumpSumPlan(referred.id(), Planned(D(2019, 6, 30), D(2019, 6, 30), 60000)));
  MakeReady(referred_plan);
  ASSERT_TRUE(Issue(acme_.id(), D(2019, 7, 1), {referred_plan.entries(0).id()}).ok());
  const v1::CommissionCharge commission =
      MustCharge(ChargeRequest("c-1", referred.id(), partner.id(), 500000, YM(2019, 5)));
  ASSERT_EQ(commission.entries_size(), 1);
  ASSERT_EQ(commission.entries(0).status(), v1::ENTRY_STATUS_READY);

  const std::vector<std::string> expected = {
      absl::StrCat("MISSED_BILLING_KIND_ENTRY_NOT_BILLED|", lump.id(), "|", lump.number(), "|",
                   acme_.id(), "|", lump_plan.entries(0).id(), "||2019-06-30|50000|ENTRY_NOT_BILLED"),
      absl::StrCat("MISSED_BILLING_KIND_ENTRY_NOT_BILLED|", split.id(), "|", split.number(), "|",
                   kita_.id(), "|", split_plan.entries(0).id(),
                   "||2019-06-15|20000|ENTRY_NOT_BILLED"),
      absl::StrCat("MISSED_BILLING_KIND_NO_PLAN|", no_plan.id(), "|", no_plan.number(), "|",
                   acme_.id(), "|0||-|0|NO_PLAN"),
      absl::StrCat("MISSED_BILLING_KIND_PERIOD_MISSING|", monthly.id(), "|", monthly.number(), "|",
                   kita_.id(), "|0|2019-05|2019-05-31|10000|PERIOD_MISSING"),
  };
  for (const std::string& token : {accounting_, staff_, admin_, service_token_}) {
    absl::StatusOr<v1::ListMissedBillingResponse> got = MissedBilling(D(2019, 7, 10), token);
    ASSERT_TRUE(got.ok()) << got.status();
    std::vector<std::string> lines;
    for (const auto& m : got->items()) {
      lines.push_back(ItemLine(m));
      EXPECT_FALSE(m.reason().empty()) << ItemLine(m);
    }
    EXPECT_EQ(lines, expected);
    EXPECT_EQ(DateString(got->as_of()), "2019-07-10");
  }

  // Without as_of: today in Tokyo (the clock stands at 2019-07-10).
  absl::StatusOr<v1::ListMissedBillingResponse> today = MissedBilling(absl::nullopt, accounting_);
  ASSERT_TRUE(today.ok()) << today.status();
  EXPECT_EQ(DateString(today->as_of()), "2019-07-10");
  EXPECT_EQ(today->items_size(), 4);

  // On 2019-05-31 nothing was due yet but the plan-less case: a billing date is missed only
  // once it has passed (May's entry would have been billed that day).
  absl::StatusOr<v1::ListMissedBillingResponse> early = MissedBilling(D(2019, 5, 31), accounting_);
  ASSERT_TRUE(early.ok()) << early.status();
  ASSERT_EQ(early->items_size(), 1);
  EXPECT_EQ(early->items(0).project_id(), no_plan.id());

  // A bad date is the caller's error.
  EXPECT_TRUE(IsInvalidField(MissedBilling(D(2019, 2, 30), accounting_).status(), "as_of"));
}

TEST_F(CommissionsTest, ARetriedCommissionIsChargedOnce) {
  const customer::v1::Customer partner = MustCreatePartner("加盟店A工務店", 350);  // 3.5%
  const project::v1::Project c = ReferredCase("外壁塗装", acme_, partner);
  const v1::CreateCommissionChargeRequest req =
      ChargeRequest("charge-1", c.id(), partner.id(), 1234567, YM(2019, 7));

  const v1::CommissionCharge first = MustCharge(req);
  EXPECT_GT(first.id(), 0);
  EXPECT_EQ(first.project_id(), c.id());
  EXPECT_EQ(first.partner_id(), partner.id());
  EXPECT_EQ(first.charge_key(), "completion");
  EXPECT_EQ(first.kind(), v1::COMMISSION_KIND_COMPLETION);
  EXPECT_EQ(first.construction_amount(), 1234567);
  EXPECT_EQ(first.rate_bp(), 350);
  EXPECT_EQ(first.commission(), 43209);  // floor(1,234,567 × 0.035) = floor(43,209.845)
  EXPECT_EQ(DateString(first.completion_date()), "2019-07-15");
  EXPECT_EQ(MonthString(first.report_month()), "2019-07");
  EXPECT_EQ(first.audit().created_by(), "anken-scheduler");
  ASSERT_EQ(first.entries_size(), 1);
  const v1::BillingEntry& e = first.entries(0);
  EXPECT_EQ(e.kind(), v1::ENTRY_KIND_COMMISSION);
  EXPECT_EQ(e.commission_charge_id(), first.id());
  EXPECT_EQ(e.customer_id(), partner.id());
  EXPECT_EQ(e.project_id(), c.id());
  EXPECT_EQ(e.status(), v1::ENTRY_STATUS_READY);
  EXPECT_EQ(e.amount(), 43209);
  EXPECT_EQ(e.tax(), 4320);
  EXPECT_EQ(e.tax_category(), common::v1::TAX_CATEGORY_STANDARD);
  EXPECT_EQ(DateString(e.billing_date()), "2019-07-31");
  EXPECT_EQ(DateString(e.revenue_date()), "2019-07-31");
  EXPECT_EQ(e.description(), absl::StrCat("紹介手数料 案件", c.number()));
  EXPECT_EQ(e.period(), "");

  // Ten retries with the same request_id: the same answer.
  for (int i = 0; i < 10; ++i) {
    absl::StatusOr<v1::CommissionCharge> again = Charge(req);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(again->SerializeAsString(), first.SerializeAsString()) << i;
  }
  // Ten new request_ids with the same key and amount, at once: the charge unchanged.
  std::vector<absl::StatusOr<v1::CommissionCharge>> results(10, absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < 10; ++i) {
    threads.emplace_back([&, i] {
      results[i] = Charge(ChargeRequest(absl::StrCat("retry-", i), c.id(), partner.id(), 1234567,
                                        YM(2019, 7)));
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->id(), first.id());
    EXPECT_EQ(r->commission(), 43209);
    ASSERT_EQ(r->entries_size(), 1);
    EXPECT_EQ(r->entries(0).id(), e.id());
    EXPECT_EQ(r->entries(0).etag(), e.etag());
  }
  EXPECT_EQ(ChargeRows(), 1);
  EXPECT_EQ(CommissionEntryRows(), 1);
  EXPECT_EQ(Count("SELECT coalesce(sum(amount), 0) FROM billing.entries"), 43209);
  EXPECT_EQ(Count(absl::StrCat("SELECT count(*) FROM billing.audit_events WHERE resource_id = "
                               "'commissions/", first.id(), "'")),
            1);

  // The same request_id for another request is the client's error.
  v1::CreateCommissionChargeRequest reused = req;
  reused.set_construction_amount(2000000);
  EXPECT_TRUE(IsInvalidField(Charge(reused).status(), "request_id", "REQUEST_ID_REUSED"));
  // The entry is listed with the partner's, and its kind is kept.
  v1::ListBillingEntriesRequest of_partner;
  of_partner.set_customer_id(partner.id());
  const std::vector<v1::BillingEntry> listed = AllEntries(of_partner);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].kind(), v1::ENTRY_KIND_COMMISSION);
  EXPECT_EQ(listed[0].commission_charge_id(), first.id());
}

TEST_F(CommissionsTest, CommissionsRoundDown) {
  struct Case {
    int rate_bp;
    int64_t amount;
    int64_t commission;
  };
  const std::vector<Case> cases = {
      {350, 1234567, 43209},                   // 43,209.845
      {1500, 10001, 1500},                     // 1,500.15
      {3333, 100, 33},                         // 33.33
      {150, 99, 1},                            // 1.485
      {10000, 1, 1},                           // 100%
      {1, 9999, 0},                            // 0.9999
      {1234, 9000000000000, 1110600000000},    // exact for large amounts
      {9999, 922337203685477, 922244969965108},  // floor(922,244,969,965,108.4523)
  };
  int k = 0;
  for (const Case& t : cases) {
    const customer::v1::Customer partner =
        MustCreatePartner(absl::StrCat("加盟店", k), t.rate_bp);
    const project::v1::Project c = ReferredCase(absl::StrCat("端数", k), acme_, partner);
    absl::StatusOr<v1::CommissionCharge> charged =
        Charge(ChargeRequest(absl::StrCat("round-", k), c.id(), partner.id(), t.amount,
                             YM(2019, 7)));
    ASSERT_TRUE(charged.ok()) << charged.status();
    EXPECT_EQ(charged->commission(), t.commission) << t.amount << " at " << t.rate_bp;
    int64_t sum = 0;
    for (const auto& e : charged->entries()) sum += e.amount();
    EXPECT_EQ(sum, t.commission) << t.amount << " at " << t.rate_bp;
    EXPECT_EQ(charged->entries_size(), t.commission == 0 ? 0 : 1);
    ++k;
  }
}

TEST_F(CommissionsTest, ACorrectionAddsAnAdjustingEntryAndNeverEditsTheBilledOne) {
  const customer::v1::Customer partner = MustCreatePartner("加盟店B", 1500);  // 15%
  const project::v1::Project c = ReferredCase("屋根修理", acme_, partner);
  const v1::CommissionCharge first =
      MustCharge(ChargeRequest("first", c.id(), partner.id(), 1000000, YM(2019, 6)));
  ASSERT_EQ(first.commission(), 150000);
  ASSERT_EQ(first.entries_size(), 1);

  // The partner is invoiced for it: the commission entry is on the partner's invoice.
  absl::StatusOr<v1::Invoice> invoice = Issue(partner.id(), D(2019, 7, 1));
  ASSERT_TRUE(invoice.ok()) << invoice.status();
  EXPECT_EQ(invoice->customer_id(), partner.id());
  EXPECT_EQ(invoice->recipient_name(), "加盟店B");
  ASSERT_EQ(invoice->lines_size(), 1);
  EXPECT_EQ(invoice->lines(0).entry_id(), first.entries(0).id());
  EXPECT_EQ(invoice->lines(0).description(), absl::StrCat("紹介手数料 案件", c.number()));
  EXPECT_EQ(invoice->subtotal(), 150000);
  EXPECT_EQ(invoice->tax(), 15000);
  EXPECT_EQ(invoice->total(), 165000);
  const std::vector<v1::BillingEntry> billed = EntriesOfCase(c.id());
  ASSERT_EQ(billed.size(), 1u);
  ASSERT_EQ(billed[0].status(), v1::ENTRY_STATUS_BILLED);

  // Corrected up in the July report: +30,000 on 2019-07-31; the billed entry as it was.
  const v1::CommissionCharge up =
      MustCharge(ChargeRequest("up", c.id(), partner.id(), 1200000, YM(2019, 7)));
  EXPECT_EQ(up.id(), first.id());
  EXPECT_EQ(up.construction_amount(), 1200000);
  EXPECT_EQ(up.commission(), 180000);
  EXPECT_EQ(up.rate_bp(), 1500);
  EXPECT_EQ(MonthString(up.report_month()), "2019-07");
  ASSERT_EQ(up.entries_size(), 2);
  EXPECT_EQ(up.entries(0).SerializeAsString(), billed[0].SerializeAsString());
  EXPECT_EQ(View(up.entries(1)),
            EntryView(30000, v1::ENTRY_STATUS_READY, "2019-07-31", "2019-07-31", 0,
                      absl::StrCat("紹介手数料 金額訂正 案件", c.number())));
  EXPECT_EQ(up.entries(1).tax(), 3000);
  EXPECT_EQ(up.entries(1).kind(), v1::ENTRY_KIND_COMMISSION);

  // Corrected down in August: 1,200,000 → 900,000 takes 45,000 back, as a negative entry.
  const v1::CommissionCharge down =
      MustCharge(ChargeRequest("down", c.id(), partner.id(), 900000, YM(2019, 8)));
  EXPECT_EQ(down.commission(), 135000);
  ASSERT_EQ(down.entries_size(), 3);
  EXPECT_EQ(down.entries(0).SerializeAsString(), billed[0].SerializeAsString());
  EXPECT_EQ(down.entries(1).SerializeAsString(), up.entries(1).SerializeAsString());
  EXPECT_EQ(View(down.entries(2)),
            EntryView(-45000, v1::ENTRY_STATUS_READY, "2019-08-31", "2019-08-31", 0,
                      absl::StrCat("紹介手数料 金額訂正 案件", c.number())));
  EXPECT_EQ(down.entries(2).tax(), -4500);
  // The same amount again (a new request): nothing more.
  const v1::CommissionCharge same =
      MustCharge(ChargeRequest("same", c.id(), partner.id(), 900000, YM(2019, 9)));
  EXPECT_EQ(same.SerializeAsString(), down.SerializeAsString());
  EXPECT_EQ(CommissionEntryRows(), 3);
  EXPECT_EQ(Count("SELECT sum(amount) FROM billing.entries WHERE kind = 2"), 135000);
  EXPECT_EQ(Count(absl::StrCat("SELECT count(*) FROM billing.audit_events WHERE resource_id = "
                               "'commissions/", first.id(), "'")),
            3);

  // +30,000 − 45,000 is no invoice, and neither is the negative entry alone.
  const int64_t invoices = InvoiceRows();
  EXPECT_TRUE(IsError(Issue(partner.id(), D(2019, 9, 1)).status(),
                      absl::StatusCode::kFailedPrecondition, "INVOICE_TOTAL_NOT_POSITIVE"));
  EXPECT_TRUE(IsError(Issue(partner.id(), D(2019, 9, 1), {down.entries(2).id()}).status(),
                      absl::StatusCode::kFailedPrecondition, "INVOICE_TOTAL_NOT_POSITIVE"));
  EXPECT_EQ(InvoiceRows(), invoices);

  // An additional order's commission makes the partner's next invoice positive: all three
  // READY commission entries on one invoice, tax once on their sum.
  const v1::CommissionCharge extra = MustCharge(ChargeRequest(
      "extra", c.id(), partner.id(), 500000, YM(2019, 9), "extra:1",
      v1::COMMISSION_KIND_ADDITIONAL_ORDER));
  EXPECT_NE(extra.id(), first.id());
  ASSERT_EQ(extra.entries_size(), 1);
  EXPECT_EQ(extra.entries(0).amount(), 75000);
  EXPECT_EQ(extra.entries(0).description(),
            absl::StrCat("紹介手数料 追加工事 案件", c.number()));
  absl::StatusOr<v1::Invoice> second = Issue(partner.id(), D(2019, 10, 1));
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->lines_size(), 3);
  EXPECT_EQ(second->subtotal(), 60000);
  EXPECT_EQ(second->tax(), 6000);
  EXPECT_EQ(second->total(), 66000);
  int64_t allocated = 0;
  for (const auto& l : second->lines()) allocated += l.allocated_tax();
  EXPECT_EQ(allocated, 6000);
  for (const auto& e : EntriesOfCase(c.id())) {
    EXPECT_EQ(e.status(), v1::ENTRY_STATUS_BILLED) << e.id();
  }
  // The first entry is still on the first invoice, as billed.
  EXPECT_EQ(EntriesOfCase(c.id())[0].SerializeAsString(), billed[0].SerializeAsString());
}

TEST_F(CommissionsTest, AZeroCommissionIsAChargeWithoutAnEntry) {
  const customer::v1::Customer partner = MustCreatePartner("加盟店C", 150);  // 1.5%
  const project::v1::Project c = ReferredCase("小工事", acme_, partner);
  const v1::CommissionCharge zero =
      MustCharge(ChargeRequest("zero", c.id(), partner.id(), 66, YM(2019, 7)));  // 0.99
  EXPECT_GT(zero.id(), 0);
  EXPECT_EQ(zero.commission(), 0);
  EXPECT_EQ(zero.entries_size(), 0);
  EXPECT_EQ(ChargeRows(), 1);
  EXPECT_EQ(EntryRows(), 0);
  // Corrected to an amount with a commission: that is the first entry.
  const v1::CommissionCharge corrected =
      MustCharge(ChargeRequest("more", c.id(), partner.id(), 1000, YM(2019, 8)));
  EXPECT_EQ(corrected.commission(), 15);
  ASSERT_EQ(corrected.entries_size(), 1);
  EXPECT_EQ(corrected.entries(0).amount(), 15);
  EXPECT_EQ(DateString(corrected.entries(0).billing_date()), "2019-08-31");
  EXPECT_EQ(EntryRows(), 1);
}

TEST_F(CommissionsTest, OnlyAReferredCaseOfThatPartnerIsCharged) {
  const customer::v1::Customer partner = MustCreatePartner("加盟店D", 1000);
  const customer::v1::Customer other = MustCreatePartner("加盟店E", 1000);
  const project::v1::Project c = ReferredCase("紹介案件", acme_, partner);
  const project::v1::Project direct = WonCase("直販", acme_);

  EXPECT_TRUE(IsError(Charge(ChargeRequest("a", c.id(), other.id(), 100000, YM(2019, 7))).status(),
                      absl::StatusCode::kFailedPrecondition, "NOT_REFERRED_TO_PARTNER"));
  EXPECT_TRUE(
      IsError(Charge(ChargeRequest("b", direct.id(), partner.id(), 100000, YM(2019, 7))).status(),
              absl::StatusCode::kFailedPrecondition, "NOT_REFERRED_TO_PARTNER"));
  EXPECT_TRUE(IsError(Charge(ChargeRequest("c", c.id(), acme_.id(), 100000, YM(2019, 7))).status(),
                      absl::StatusCode::kFailedPrecondition, "NOT_A_PARTNER"));
  EXPECT_TRUE(
      IsError(Charge(ChargeRequest("d", kUnknownId, partner.id(), 100000, YM(2019, 7))).status(),
              absl::StatusCode::kNotFound));
  EXPECT_TRUE(IsError(Charge(ChargeRequest("e", c.id(), kUnknownId, 100000, YM(2019, 7))).status(),
                      absl::StatusCode::kNotFound));

  // The request itself.
  v1::CreateCommissionChargeRequest bad = ChargeRequest("f", c.id(), partner.id(), 1, YM(2019, 7));
  bad.set_charge_key("extra 1");
  EXPECT_TRUE(IsInvalidField(Charge(bad).status(), "charge_key", "INVALID_CHARGE_KEY"));
  bad = ChargeRequest("f", c.id(), partner.id(), 0, YM(2019, 7));
  EXPECT_TRUE(IsInvalidField(Charge(bad).status(), "construction_amount"));
  bad = ChargeRequest("f", c.id(), partner.id(), 1, YM(2019, 7));
  bad.clear_kind();
  EXPECT_TRUE(IsInvalidField(Charge(bad).status(), "kind"));
  bad = ChargeRequest("f", c.id(), partner.id(), 1, YM(2019, 7));
  bad.clear_report_month();
  EXPECT_TRUE(IsInvalidField(Charge(bad).status(), "report_month"));
  bad = ChargeRequest("f", c.id(), partner.id(), 1, YM(2019, 7));
  bad.clear_completion_date();
  EXPECT_TRUE(IsInvalidField(Charge(bad).status(), "completion_date"));
  bad = ChargeRequest("", c.id(), partner.id(), 1, YM(2019, 7));
  EXPECT_TRUE(IsInvalidField(Charge(bad).status(), "request_id"));

  // Report intake (service) and admin may charge; staff and accounting may not.
  const v1::CreateCommissionChargeRequest ok =
      ChargeRequest("g", c.id(), partner.id(), 100000, YM(2019, 7));
  EXPECT_TRUE(IsError(Charge(ok, staff_).status(), absl::StatusCode::kPermissionDenied));
  EXPECT_TRUE(IsError(Charge(ok, accounting_).status(), absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ChargeRows(), 0);
  EXPECT_EQ(EntryRows(), 0);
  absl::StatusOr<v1::CommissionCharge> by_admin = Charge(ok, admin_);
  ASSERT_TRUE(by_admin.ok()) << by_admin.status();
  EXPECT_EQ(by_admin->commission(), 10000);

  // The key is the charge's: the same key as another kind is a conflict, not a second charge.
  EXPECT_TRUE(IsError(Charge(ChargeRequest("h", c.id(), partner.id(), 100000, YM(2019, 7),
                                           "completion", v1::COMMISSION_KIND_REPEAT_ORDER))
                          .status(),
                      absl::StatusCode::kFailedPrecondition, "COMMISSION_CHARGE_CONFLICT"));
  EXPECT_EQ(ChargeRows(), 1);
  EXPECT_EQ(EntryRows(), 1);
}

TEST_F(CommissionsTest, PlanRegenerationLeavesCommissionEntriesAlone) {
  const customer::v1::Customer partner = MustCreatePartner("加盟店F", 1000);
  const project::v1::Project c = ReferredCase("紹介 定期", acme_, partner);
  SetOrderStatus(c.id(), project::v1::ORDER_STATUS_WON);
  const v1::BillingPlan plan =
      MustSetPlan(RecurringPlan(c.id(), Monthly(YM(2019, 7), YM(2019, 9), 10000, 1)));
  ASSERT_EQ(plan.entries_size(), 3);
  const v1::CommissionCharge charge =
      MustCharge(ChargeRequest("c", c.id(), partner.id(), 300000, YM(2019, 7)));
  ASSERT_EQ(charge.entries_size(), 1);
  // Staff may hold the commission back (UNBILLED), which is what a re-plan deletes of a plan.
  absl::StatusOr<v1::BillingEntry> held =
      SetStatus(charge.entries(0).id(), v1::ENTRY_STATUS_UNBILLED, staff_);
  ASSERT_TRUE(held.ok()) << held.status();

  // The plan does not list it; re-planning, renewing and re-planning again keep it as it is.
  EXPECT_EQ(MustGetPlan(c.id()).entries_size(), 3);
  const v1::BillingPlan replanned =
      MustSetPlan(RecurringPlan(c.id(), Monthly(YM(2019, 7), YM(2019, 10), 12000, 1)));
  EXPECT_EQ(replanned.entries_size(), 4);
  for (const auto& e : replanned.entries()) EXPECT_EQ(e.kind(), v1::ENTRY_KIND_PLAN);
  absl::StatusOr<v1::RenewalRun> renewed = RunRenewals(D(2019, 11, 1), "renew-1");
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  ASSERT_EQ(renewed->renewals_size(), 1);
  EXPECT_EQ(MustGetPlan(c.id()).entries_size(), 5);
  MustSetPlan(LumpSumPlan(c.id(), Planned(D(2019, 8, 31), D(2019, 8, 31), 40000)));

  const std::vector<v1::BillingEntry> entries = EntriesOfCase(c.id());
  std::vector<v1::BillingEntry> commissions;
  for (const auto& e : entries) {
    if (e.kind() == v1::ENTRY_KIND_COMMISSION) commissions.push_back(e);
  }
  ASSERT_EQ(commissions.size(), 1u);
  EXPECT_EQ(commissions[0].SerializeAsString(), held->SerializeAsString());
  EXPECT_EQ(entries.size(), 2u);  // the lump sum and the commission
  EXPECT_EQ(MustGetPlan(c.id()).entries_size(), 1);
  // The charge still reads the same entry.
  const v1::CommissionCharge again =
      MustCharge(ChargeRequest("again", c.id(), partner.id(), 300000, YM(2019, 7)));
  ASSERT_EQ(again.entries_size(), 1);
  EXPECT_EQ(again.entries(0).SerializeAsString(), held->SerializeAsString());
}

TEST_F(CommissionsTest, ACommissionEntryKeepsItsAmountButItsDatesAndStatusMayChange) {
  // The referred case has no billing plan of its own: its commission entry still works.
  const customer::v1::Customer partner = MustCreatePartner("加盟店G", 500);
  const project::v1::Project c = ReferredCase("計画なし", acme_, partner);
  const v1::CommissionCharge charge =
      MustCharge(ChargeRequest("g", c.id(), partner.id(), 200000, YM(2019, 7)));
  ASSERT_EQ(charge.entries_size(), 1);
  const int64_t entry_id = charge.entries(0).id();

  v1::UpdateBillingEntryRequest amount;
  amount.mutable_entry()->set_id(entry_id);
  amount.mutable_entry()->set_amount(1);
  amount.mutable_update_mask()->add_paths("amount");
  EXPECT_TRUE(IsError(Call(&Stub::UpdateBillingEntry, amount, staff_).status(),
                      absl::StatusCode::kFailedPrecondition, "AMOUNT_FROM_COMMISSION"));

  v1::UpdateBillingEntryRequest date;
  date.mutable_entry()->set_id(entry_id);
  *date.mutable_entry()->mutable_billing_date() = D(2019, 8, 10);
  date.mutable_update_mask()->add_paths("billing_date");
  absl::StatusOr<v1::BillingEntry> moved = Call(&Stub::UpdateBillingEntry, date, staff_);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(DateString(moved->billing_date()), "2019-08-10");
  EXPECT_EQ(moved->amount(), 10000);

  absl::StatusOr<v1::BillingEntry> held = SetStatus(entry_id, v1::ENTRY_STATUS_UNBILLED, staff_);
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_EQ(held->status(), v1::ENTRY_STATUS_UNBILLED);
  EXPECT_EQ(held->kind(), v1::ENTRY_KIND_COMMISSION);
}

}  // namespace
}  // namespace anken::billing::testing
