#include "tests/reliability/renewal_seed.h"

#include "absl/strings/str_cat.h"

namespace anken::reliability {

void SeedWonCases(pqxx::work& tx, int64_t customer_id, int count, const std::string& name_prefix) {
  tx.exec0(absl::StrCat(
      "INSERT INTO project.projects (id, number, customer_id, name, order_status, version, "
      "create_time, created_by, update_time, updated_by) "
      "SELECT g, lpad(g::text, 7, '0'), ", customer_id, ", ", tx.quote(name_prefix),
      " || g, 2, 1, now(), 'seed', now(), 'seed' FROM generate_series(1, ", count, ") g"));
}

void SeedRenewingPlans(pqxx::work& tx, int64_t customer_id, int count) {
  tx.exec0(absl::StrCat(
      "INSERT INTO billing.plans (project_id, customer_id, timing, tax_category, "
      "recurring_interval, split_revenue, amount, start_month, end_month, auto_renew, "
      "renewal_unit_months, version, create_time, created_by, update_time, updated_by) "
      "SELECT g, ", customer_id, ", 3, 1, 1, false, 10000, '2024-01-01', '2024-12-01', true, 1, "
      "1, now(), 'seed', now(), 'seed' FROM generate_series(1, ", count, ") g"));
}

}  // namespace anken::reliability
