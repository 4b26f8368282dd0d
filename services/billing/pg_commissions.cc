// PgBillingStore: the plans that missed billing compares, and partner commission charges
// (commission_charges and their COMMISSION entries). Contract in billing_store.h.

#include <map>
#include <pqxx/pqxx>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/db/audit.h"
#include "common/db/idempotency.h"
#include "common/db/pg_values.h"
#include "common/json/json_text.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "common/tax/tax.h"
#include "services/billing/billing_queries.h"
#include "services/billing/commission_queries.h"
#include "services/billing/pg_billing_store.h"
#include "services/billing/receivables.h"

namespace anken::billing {
namespace {

using CommissionCharge = BillingStore::CommissionCharge;
using CommissionRequest = BillingStore::CommissionRequest;
using CommissionKind = BillingStore::CommissionKind;

constexpr tax::Category kCommissionTax = tax::Category::kStandard;

const char* KindName(CommissionKind k) {
  switch (k) {
    case CommissionKind::kCompletion: return "COMPLETION";
    case CommissionKind::kAdditionalOrder: return "ADDITIONAL_ORDER";
    case CommissionKind::kRepeatOrder: return "REPEAT_ORDER";
  }
  return "";
}

std::string ChargeResource(int64_t id) { return absl::StrCat("commissions/", id); }

CommissionCharge ChargeFromRow(const pqxx::row& r) {
  CommissionCharge c;
  c.id = r["id"].as<int64_t>();
  c.project_id = r["project_id"].as<int64_t>();
  c.partner_id = r["partner_id"].as<int64_t>();
  c.charge_key = r["charge_key"].as<std::string>();
  c.kind = static_cast<CommissionKind>(r["kind"].as<int>());
  c.construction_amount = r["construction_amount"].as<int64_t>();
  c.completion_date = db::DayFromField(r["completion_days"]);
  c.report_month = absl::CivilMonth(db::DayFromField(r["report_month_days"]));
  c.rate_bp = r["rate_bp"].as<int64_t>();
  c.commission = r["commission"].as<int64_t>();
  c.version = r["version"].as<int64_t>();
  c.stamp.create_time = db::TimeFromMicros(r["create_us"]);
  c.stamp.created_by = r["created_by"].as<std::string>();
  c.stamp.update_time = db::TimeFromMicros(r["update_us"]);
  c.stamp.updated_by = r["updated_by"].as<std::string>();
  return c;
}

// The charge of (project_id, charge_key), locked; nullopt when there is none.
absl::optional<CommissionCharge> LockCharge(pqxx::work& tx, int64_t project_id,
                                            const std::string& charge_key) {
  pqxx::result rows = tx.exec_params(sql::kGetChargeForUpdate, project_id, charge_key);
  if (rows.empty()) return absl::nullopt;
  return ChargeFromRow(rows[0]);
}

// Inserts a READY COMMISSION entry of `charge` (amount ≠ 0) billed on `day`; returns its id.
int64_t InsertCommissionEntry(pqxx::work& tx, const CommissionCharge& charge, int64_t amount,
                              absl::CivilDay day, const std::string& description) {
  return tx.exec_params1(sql::kInsertCommissionEntry, charge.project_id, charge.partner_id,
                         db::DayText(day), amount,
                         tax::TaxFor(amount, kCommissionTax, tax::Rounding::kFloor),
                         tax::CategoryCode(kCommissionTax), description, charge.id)[0]
      .as<int64_t>();
}

// {"field":{"new":v},..} of a created charge, or {"field":{"old":a,"new":b},..} of the fields
// a correction changed; then the entries it added.
std::string ChangeJson(const CommissionCharge* before, const CommissionCharge& after,
                       const std::vector<int64_t>& added_entries) {
  auto fields = [](const CommissionCharge& c) {
    return std::vector<std::pair<const char*, std::string>>{
        {"project_id", absl::StrCat(c.project_id)},
        {"partner_id", absl::StrCat(c.partner_id)},
        {"charge_key", json::String(c.charge_key)},
        {"kind", json::String(KindName(c.kind))},
        {"construction_amount", absl::StrCat(c.construction_amount)},
        {"completion_date", json::Day(c.completion_date)},
        {"report_month", json::String(absl::FormatCivilTime(c.report_month))},
        {"rate_bp", absl::StrCat(c.rate_bp)},
        {"commission", absl::StrCat(c.commission)},
    };
  };
  std::vector<std::string> parts;
  const auto now = fields(after);
  for (size_t k = 0; k < now.size(); ++k) {
    if (before == nullptr) {
      parts.push_back(absl::StrCat(json::String(now[k].first), ":{\"new\":", now[k].second, "}"));
      continue;
    }
    const std::string old = fields(*before)[k].second;
    if (old == now[k].second) continue;
    parts.push_back(absl::StrCat(json::String(now[k].first), ":{\"old\":", old,
                                 ",\"new\":", now[k].second, "}"));
  }
  if (!added_entries.empty()) {
    parts.push_back(
        absl::StrCat("\"entries.added\":{\"new\":[", absl::StrJoin(added_entries, ","), "]}"));
  }
  return absl::StrCat("{", absl::StrJoin(parts, ","), "}");
}

absl::Status ChargeConflict(const CommissionCharge& existing, const CommissionRequest& request) {
  return WithReason(
      absl::FailedPreconditionError(absl::StrCat(
          "commission charge \"", existing.charge_key, "\" of case ", existing.project_id,
          " was made for partner ", existing.partner_id, " as ", KindName(existing.kind),
          "; it cannot be charged to partner ", request.partner_id, " as ",
          KindName(request.kind))),
      "COMMISSION_CHARGE_CONFLICT");
}

}  // namespace

absl::StatusOr<std::vector<BillingPlan>> PgBillingStore::PlansOfCases(
    const std::vector<int64_t>& project_ids, absl::Time deadline) {
  if (project_ids.empty()) return std::vector<BillingPlan>();
  db::TransactOptions options;
  options.read_only = true;
  options.what = "reading the plans of won cases";
  // One snapshot for plans and entries: REPEATABLE READ.
  options.isolation = db::Isolation::kRepeatableRead;
  const std::string ids = db::NumberArray(project_ids);
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<BillingPlan>> {
        std::vector<BillingPlan> plans;
        std::map<int64_t, size_t> index;
        for (const pqxx::row& r : tx.exec_params(sql::kPlansOfCases, ids)) {
          index[r["project_id"].as<int64_t>()] = plans.size();
          plans.push_back(PlanRow(r));
        }
        for (BillingEntry& e : EntryRows(tx.exec_params(sql::kPlanEntriesOfCases, ids))) {
          auto it = index.find(e.project_id);
          if (it != index.end()) plans[it->second].entries.push_back(std::move(e));
        }
        return plans;
      },
      options);
}

absl::StatusOr<std::string> PgBillingStore::ChargeCommission(
    const WriteContext& ctx, const CommissionRequest& request,
    const Encoder<CommissionCharge>& encode) {
  const absl::Time now = db::TruncToMicros(ctx.now);
  db::TransactOptions options;
  options.what = "charging the partner commission";
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) {
        return db::OncePerRequest(tx, kSchema, ctx, [&]() -> absl::StatusOr<std::string> {
          absl::optional<CommissionCharge> existing =
              LockCharge(tx, request.project_id, request.charge_key);
          std::vector<int64_t> added;
          CommissionCharge after;
          if (!existing.has_value()) {
            ASSIGN_OR_RETURN(const int64_t commission,
                             Commission(request.construction_amount, request.rate_bp));
            after.project_id = request.project_id;
            after.partner_id = request.partner_id;
            after.charge_key = request.charge_key;
            after.kind = request.kind;
            after.construction_amount = request.construction_amount;
            after.completion_date = request.completion_date;
            after.report_month = request.report_month;
            after.rate_bp = request.rate_bp;
            after.commission = commission;
            after.version = 1;
            after.stamp = Stamp{now, ctx.actor, now, ctx.actor};
            pqxx::result inserted = tx.exec_params(
                sql::kInsertCharge, after.project_id, after.partner_id, after.charge_key,
                static_cast<int>(after.kind), after.construction_amount,
                db::DayText(after.completion_date),
                db::DayText(absl::CivilDay(after.report_month)), after.rate_bp, after.commission,
                db::TimeText(now), ctx.actor);
            if (inserted.empty()) {
              // A concurrent first charge of the key committed in between: correct that one.
              existing = LockCharge(tx, request.project_id, request.charge_key);
              if (!existing.has_value()) {
                return absl::AbortedError("commission charge changed concurrently");
              }
            } else {
              after.id = inserted[0][0].as<int64_t>();
              if (after.commission != 0) {
                added.push_back(InsertCommissionEntry(tx, after, after.commission,
                                                      CommissionBillingDate(after.report_month),
                                                      request.description));
              }
              RETURN_IF_ERROR(db::WriteAuditFor(tx, kSchema, ctx, now, "commission_charge",
                                                ChargeResource(after.id),
                                                ChangeJson(nullptr, after, added)));
            }
          }
          if (existing.has_value()) {
            const CommissionCharge& before = *existing;
            if (before.partner_id != request.partner_id || before.kind != request.kind) {
              return ChargeConflict(before, request);
            }
            after = before;
            if (before.construction_amount != request.construction_amount) {
              // Corrections use the rate of the first charge (the proto's rate_bp).
              ASSIGN_OR_RETURN(const int64_t delta,
                               CommissionAdjustment(before.construction_amount,
                                                    request.construction_amount, before.rate_bp));
              after.construction_amount = request.construction_amount;
              after.completion_date = request.completion_date;
              after.report_month = request.report_month;
              after.commission = before.commission + delta;
              after.version = before.version + 1;
              after.stamp.update_time = now;
              after.stamp.updated_by = ctx.actor;
              tx.exec_params0(sql::kUpdateCharge, after.id, after.construction_amount,
                              db::DayText(after.completion_date),
                              db::DayText(absl::CivilDay(after.report_month)), after.commission,
                              after.version, db::TimeText(now), ctx.actor);
              if (delta != 0) {
                added.push_back(InsertCommissionEntry(tx, after, delta,
                                                      CommissionBillingDate(after.report_month),
                                                      request.adjustment_description));
              }
              RETURN_IF_ERROR(db::WriteAuditFor(tx, kSchema, ctx, now, "commission_charge",
                                                ChargeResource(after.id),
                                                ChangeJson(&before, after, added)));
            }
          }
          after.entries = EntryRows(tx.exec_params(sql::kChargeEntries, after.id));
          return encode(after);
        });
      },
      options);
}

}  // namespace anken::billing
