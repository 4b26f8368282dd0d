#pragma once
// Domain types of the project service (案件, 紹介, 見積, 商談履歴, ToDo). Plain structs: no
// protobuf, no pqxx. Money is integer yen; business dates are civil days in Asia/Tokyo.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/clock/stamp.h"
#include "absl/types/optional.h"
#include "common/tax/tax.h"

namespace anken::project {

enum class OrderStatus { kProspect = 1, kWon = 2, kLost = 3 };
enum class Outcome { kInProgress = 1, kCompleted = 2, kLost = 3 };
enum class ExtraKind { kAdditional = 1, kRepeat = 2 };

using Stamp = ::anken::Stamp;

struct ExtraOrder {
  int64_t id = 0;
  ExtraKind kind = ExtraKind::kAdditional;
  absl::CivilDay order_date;
  int64_t amount = 0;
  std::string note;
};

struct Referral {
  int64_t partner_id = 0;
  absl::CivilDay referral_date;
  Outcome outcome = Outcome::kInProgress;
  absl::optional<absl::CivilDay> completion_date;
  int64_t amount = 0;
  absl::optional<absl::CivilDay> lost_date;
  std::string remarks;
  std::vector<ExtraOrder> extra_orders;  // oldest first
};

struct Project {
  int64_t id = 0;
  std::string number;  // 7 digits
  int64_t customer_id = 0;
  std::string name;
  int64_t category_id = 0;  // 0 = none
  absl::optional<absl::CivilDay> quote_date;
  absl::optional<absl::CivilDay> acceptance_date;
  OrderStatus order_status = OrderStatus::kProspect;
  std::string progress_status;
  std::string owner;
  std::string department;
  std::string memo;
  absl::optional<Referral> referral;
  int64_t version = 0;
  Stamp stamp;
};

struct Category {
  int64_t id = 0;
  std::string name;
};

struct Product {
  int64_t id = 0;
  std::string code;
  std::string name;
  std::string unit;
  int64_t unit_price = 0;
  tax::Category tax_category = tax::Category::kStandard;
  bool active = true;
};

enum class QuoteStatus { kDraft = 1, kSent = 2, kAccepted = 3, kRejected = 4 };

struct QuoteLine {
  int64_t product_id = 0;  // 0 = free text
  std::string description;
  int64_t quantity_milli = 0;  // thousandths
  std::string unit;
  int64_t unit_price = 0;
  tax::Category tax_category = tax::Category::kStandard;
  int64_t amount = 0;  // computed: floor(quantity_milli × unit_price / 1000)
};

struct Quote {
  int64_t id = 0;
  int64_t project_id = 0;
  int number = 0;
  absl::CivilDay issue_date;
  absl::CivilDay valid_until;
  std::vector<QuoteLine> lines;
  tax::Totals totals;  // computed
  int win_probability = 0;  // %
  absl::CivilMonth expected_order_month;
  QuoteStatus status = QuoteStatus::kDraft;
  std::string note;
  int64_t version = 0;
  Stamp stamp;
};

enum class ActivityKind { kVisit = 1, kCall = 2, kMail = 3, kMeeting = 4, kOther = 5 };

struct Activity {
  int64_t id = 0;
  int64_t project_id = 0;
  ActivityKind kind = ActivityKind::kOther;
  absl::Time occur_time;
  std::string summary;
  std::string next_action;
  std::string recorded_by;
};

struct Todo {
  int64_t id = 0;
  int64_t project_id = 0;
  std::string title;
  absl::CivilDay due_date;
  std::string assignee;
  bool done = false;
  absl::optional<absl::Time> done_time;
};

// What a partner (through report intake) or staff reports about a referred case.
struct OutcomeReport {
  Outcome outcome = Outcome::kInProgress;
  absl::optional<absl::CivilDay> completion_date;
  int64_t amount = 0;
  absl::optional<absl::CivilDay> lost_date;
  std::string remarks;
  std::vector<ExtraOrder> extra_orders;  // to append
};

}  // namespace anken::project
