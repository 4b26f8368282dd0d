#pragma once
// The seed both renewal scenarios share (renewal-double-run, renewal-kill-points): won cases
// and auto-renewing monthly plans written with SQL straight into the project and billing
// schemas after both services' migrations, since creating hundreds through the API would be
// most of the test's time.
//
// Contract:
// - SeedWonCases: cases 1..count (ids and numbers "0000001".. follow g), 受注済
//   (order_status 2), of `customer_id`, named `name_prefix` followed by the number.
// - SeedRenewingPlans: for cases 1..count, a monthly recurring plan of 10,000 yen
//   (tax category 1) running 2024-01..2024-12 with auto_renew, renewing one month at a time,
//   so each RunRenewals for a 2025 month renews every one of them once.
// Both write inside the caller's transaction; the caller commits.

#include <cstdint>
#include <string>

#include <pqxx/pqxx>

namespace anken::reliability {

void SeedWonCases(pqxx::work& tx, int64_t customer_id, int count, const std::string& name_prefix);

void SeedRenewingPlans(pqxx::work& tx, int64_t customer_id, int count);

}  // namespace anken::reliability
