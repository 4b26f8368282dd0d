#pragma once
// The SQL of PgBillingStore's partner commissions (pg_commissions.cc), with the conventions of
// billing_queries.h: parameterized ($n, run with exec_params), `billing.`-qualified, dates
// written as 'YYYY-MM-DD' text and read back as days since 1970-01-01, instants read back as
// microseconds. The entry reads (kChargeEntries, kPlanEntriesOfCases) are in
// billing_queries.h, next to the entry columns they share.

namespace anken::billing::sql {

#define ANKEN_CHARGE_COLUMNS                                                                   \
  "c.id, c.project_id, c.partner_id, c.charge_key, c.kind, c.construction_amount, "           \
  "(c.completion_date - DATE '1970-01-01') AS completion_days, "                              \
  "(c.report_month - DATE '1970-01-01') AS report_month_days, c.rate_bp, c.commission, "     \
  "c.version, (extract(epoch FROM c.create_time) * 1000000)::bigint AS create_us, "           \
  "c.created_by, (extract(epoch FROM c.update_time) * 1000000)::bigint AS update_us, "        \
  "c.updated_by"

// $1 project_id, $2 charge_key. Locks the charge: corrections of one charge serialize.
inline constexpr char kGetChargeForUpdate[] =
    "SELECT " ANKEN_CHARGE_COLUMNS
    " FROM billing.commission_charges c WHERE c.project_id = $1 AND c.charge_key = $2"
    " FOR UPDATE";

// $1 project_id, $2 partner_id, $3 charge_key, $4 kind, $5 construction_amount,
// $6 completion_date, $7 report_month (its first day), $8 rate_bp, $9 commission,
// $10 create_time = update_time, $11 created_by = updated_by. Version 1. No row comes back
// when a concurrent first charge of the key committed first (then read it FOR UPDATE).
inline constexpr char kInsertCharge[] = R"sql(INSERT INTO billing.commission_charges (
  project_id, partner_id, charge_key, kind, construction_amount, completion_date,
  report_month, rate_bp, commission, version, create_time, created_by, update_time, updated_by)
VALUES ($1, $2, $3, $4, $5, $6::date, $7::date, $8, $9, 1, $10::timestamptz, $11,
  $10::timestamptz, $11)
ON CONFLICT (project_id, charge_key) DO NOTHING
RETURNING id)sql";

// $1 id, $2 construction_amount, $3 completion_date, $4 report_month, $5 commission,
// $6 version, $7 update_time, $8 updated_by. A correction.
inline constexpr char kUpdateCharge[] = R"sql(UPDATE billing.commission_charges SET
  construction_amount = $2, completion_date = $3::date, report_month = $4::date,
  commission = $5, version = $6, update_time = $7::timestamptz, updated_by = $8
WHERE id = $1)sql";

// $1 project_id (the referred case), $2 customer_id (the partner), $3 billing_date =
// revenue_date, $4 amount (negative for a downward adjustment), $5 tax, $6 tax_category,
// $7 description, $8 commission_charge_id. A READY (2) COMMISSION (2) entry at version 1,
// without a period.
inline constexpr char kInsertCommissionEntry[] = R"sql(INSERT INTO billing.entries (
  project_id, customer_id, billing_date, revenue_date, amount, tax, tax_category, status,
  period, description, version, kind, commission_charge_id)
VALUES ($1, $2, $3::date, $3::date, $4, $5, $6, 2, NULL, $7, 1, 2, $8)
RETURNING id)sql";

#undef ANKEN_CHARGE_COLUMNS

}  // namespace anken::billing::sql
