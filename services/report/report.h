#pragma once
// Domain types of the report-intake service (実績報告): the monthly period, one report per
// partner, and the report's lines, each a snapshot of a referred case taken when the period
// opened plus the partner's answer. Plain structs: no protobuf, no pqxx. Money is integer yen;
// business dates are civil days in Asia/Tokyo; instants are absl::Time.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"

namespace anken::report {

// 取次状況 of a referred case; the numbers match project's Outcome and the proto enum.
enum class Outcome { kInProgress = 1, kCompleted = 2, kLost = 3 };
enum class ExtraKind { kAdditional = 1, kRepeat = 2 };

// Derived, never stored: see DeriveReportStatus.
enum class ReportStatus { kNotStarted = 1, kInProgress = 2, kSubmitted = 3, kOverdue = 4 };

// One reporting month. The deadline is an exclusive bound: a report is on time when submitted
// at t < deadline (00:00 Asia/Tokyo after the 4th business day).
struct Period {
  absl::CivilMonth month;
  absl::CivilDay deadline_day;  // the 4th business day, for display
  absl::Time deadline;
};

// A partner's report for one period. Submitted while submit_time is set; ReopenReport clears it.
struct Report {
  int64_t id = 0;
  int64_t partner_id = 0;
  absl::CivilMonth month;
  absl::optional<absl::Time> submit_time;
  std::string submitted_by;
  int64_t version = 0;
};

// The case as it stood when the period opened (or, for a between-periods update, as it stands
// now). `outcome` and its dates are the values the partner's answer is checked against.
struct LineSnapshot {
  int64_t project_id = 0;
  std::string case_number;  // 7 digits
  std::string customer_name;
  absl::CivilDay referral_date;
  Outcome outcome = Outcome::kInProgress;
  absl::optional<absl::CivilDay> completion_date;
  int64_t amount = 0;  // yen, when COMPLETED
  absl::optional<absl::CivilDay> lost_date;
};

struct ExtraOrder {
  ExtraKind kind = ExtraKind::kAdditional;
  absl::CivilDay order_date;
  int64_t amount = 0;
  std::string note;
};

// A reported change: the new outcome with its fields (an amount of 0 means "no amount"), the
// report remarks (報告備考) and the additional / repeat orders to append.
struct Change {
  Outcome outcome = Outcome::kInProgress;
  absl::optional<absl::CivilDay> completion_date;
  int64_t amount = 0;
  absl::optional<absl::CivilDay> lost_date;
  std::string remarks;
  std::vector<ExtraOrder> extra_orders;
};

// A line is checked (the seed's grey background) once it has an answer.
enum class Answer { kUnanswered = 0, kNoChange = 1, kChanged = 2 };

struct ReportLine {
  int64_t id = 0;
  int64_t report_id = 0;
  LineSnapshot snapshot;
  Answer answer = Answer::kUnanswered;
  Change change;  // meaningful only when answer == kChanged
};

inline bool IsChecked(const ReportLine& line) { return line.answer != Answer::kUnanswered; }

}  // namespace anken::report
