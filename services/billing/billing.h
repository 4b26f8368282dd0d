#pragma once
// Domain types of the billing service (請求予定, 請求, 請求書). Plain structs: no protobuf, no
// pqxx. Money is integer yen; business dates are civil days in Asia/Tokyo.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/clock/stamp.h"
#include "absl/types/optional.h"
#include "common/tax/tax.h"

namespace anken::billing {

enum class Timing { kLumpSum = 1, kSplit = 2, kRecurring = 3 };
enum class Interval { kMonthly = 1, kYearly = 2 };
enum class EntryStatus { kUnbilled = 1, kReady = 2, kBilled = 3, kPaid = 4, kUncollectible = 5 };
enum class InvoiceStatus { kIssued = 1, kCancelled = 2 };

using Stamp = ::anken::Stamp;

// The recurring part of a plan (DESIGN.md "Billing timing and generation").
struct RecurringTerms {
  Interval interval = Interval::kMonthly;
  bool split_revenue = false;  // yearly only
  int64_t amount = 0;          // monthly amount (monthly, yearly split) or yearly amount
  absl::CivilMonth start_month;
  absl::CivilMonth end_month;
  bool auto_renew = false;
  int renewal_unit_months = 0;  // 12, or 1..11 for a monthly interval; 0 when not renewing
};

// An entry as the plan defines it (generated, or given for lump-sum/split plans).
struct PlannedEntry {
  // Unique per plan for generated entries: "M2019-07" (monthly), "Y2019-06" (a yearly
  // contract year, by its first month), "S2019-07" (a revenue month of a split year); empty
  // for lump-sum and split entries.
  std::string period;
  absl::CivilDay billing_date;
  absl::CivilDay revenue_date;
  int64_t amount = 0;
  std::string description;
};

// PLAN: from the case's plan. COMMISSION: a partner commission (customer_id is the partner,
// project_id the referred case, which need not have a plan), or an adjustment of one (the
// amount may then be negative). Plan logic (regeneration, renewal) touches PLAN entries only.
enum class EntryKind { kPlan = 1, kCommission = 2 };

struct BillingEntry {
  int64_t id = 0;
  int64_t project_id = 0;
  int64_t customer_id = 0;
  absl::CivilDay billing_date;
  absl::CivilDay revenue_date;
  int64_t amount = 0;
  int64_t tax = 0;  // estimate until invoiced, then the allocated share
  tax::Category tax_category = tax::Category::kStandard;
  EntryStatus status = EntryStatus::kUnbilled;
  std::string period;
  std::string description;
  int64_t invoice_id = 0;
  int64_t version = 0;
  EntryKind kind = EntryKind::kPlan;
  int64_t commission_charge_id = 0;  // COMMISSION entries: their charge
};

struct BillingPlan {
  int64_t project_id = 0;
  int64_t customer_id = 0;
  Timing timing = Timing::kLumpSum;
  tax::Category tax_category = tax::Category::kStandard;
  absl::optional<RecurringTerms> recurring;  // set for kRecurring
  std::vector<PlannedEntry> planned_entries;  // lump sum: one; split: initial ones
  std::vector<BillingEntry> entries;          // as stored, by billing date
  int64_t version = 0;
  Stamp stamp;
};

struct InvoiceLine {
  int64_t entry_id = 0;
  std::string description;
  int64_t amount = 0;
  tax::Category tax_category = tax::Category::kStandard;
  int64_t allocated_tax = 0;
  absl::CivilDay revenue_date;
};

struct Invoice {
  int64_t id = 0;
  std::string number;  // "2026-000042"
  int64_t customer_id = 0;
  std::string recipient_name;
  std::string issuer_name;
  std::string issuer_registration_number;
  // Printed on the PDF, frozen at issue like the name ("" when none was configured). nullopt:
  // issued before they were stored (migration V003); the PDF then prints the configured ones.
  absl::optional<std::string> issuer_address;
  absl::optional<std::string> issuer_bank_account;
  absl::CivilDay issue_date;
  absl::CivilDay due_date;
  std::vector<InvoiceLine> lines;
  tax::Totals totals;
  tax::Rounding rounding = tax::Rounding::kFloor;
  InvoiceStatus status = InvoiceStatus::kIssued;
  std::string cancel_reason;
  absl::optional<absl::Time> cancel_time;
  // Collecting it (payments, 回収不能): balance = total − paid − written off, 0 when cancelled.
  int64_t paid_amount = 0;  // cash allocated plus bank fees booked
  int64_t written_off_amount = 0;
  std::string write_off_reason;
  absl::optional<absl::Time> write_off_time;
  int64_t version = 0;
  Stamp stamp;

  int64_t Balance() const {
    return status == InvoiceStatus::kIssued ? totals.total - paid_amount - written_off_amount : 0;
  }
};

struct RenewalFailure {
  int64_t project_id = 0;
  std::string code;
  std::string reason;
  absl::Time failure_time;
  absl::CivilDay as_of;
};

// One plan's renewal: the new end month and the entries for the added months.
struct PlanRenewal {
  int64_t project_id = 0;
  absl::CivilMonth old_end_month;
  absl::CivilMonth new_end_month;
  std::vector<PlannedEntry> entries;
};

struct InvoiceIssueRequest {
  int64_t id = 0;
  int64_t project_id = 0;
  std::vector<int64_t> entry_ids;
  std::string note;
  std::string requested_by;
  absl::Time request_time;
};

}  // namespace anken::billing
