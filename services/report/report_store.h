#pragma once
// Storage of the report-intake service behind an interface (one Postgres implementation,
// pg_report_store.h). Every method is one transaction; nothing throws.
//
// Writes carry a WriteContext (who, which RPC, request_id, when) and record audit events in the
// same transaction. OpenPeriod, SubmitReport and SubmitCaseUpdate are idempotent by request_id:
// the response bytes made by `encode` are kept and returned again on a replay. Writes that
// depend on the report's state take the report row's lock first and hand what they read to a
// callback (a planner), which applies the pure rules and may refuse with its own status; so a
// rule is always checked against what is written, never against an earlier read.
//
// Scoping by partner is the caller's: the planners see the report and refuse (NOT_FOUND) what
// the caller may not touch.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "absl/strings/str_cat.h"
#include "common/clock/stamp.h"
#include "common/db/write_context.h"
#include "common/status/domain_error.h"
#include "services/report/report.h"

namespace anken::report {

using db::Encoder;
using db::WriteContext;

struct PeriodView {
  Period period;
  absl::Time open_time;
  std::string opened_by;
  int64_t report_count = 0;
  int64_t submitted_count = 0;
};

// A report with its period and what lists show of it.
struct ReportView {
  Report report;
  Period period;
  std::string partner_name;
  std::string partner_email;
  int64_t line_count = 0;
  int64_t checked_count = 0;
  int32_t submission_count = 0;
  Stamp stamp;
};

// A line (or a case update: report_id 0) as stored.
struct StoredLine {
  ReportLine line;
  int64_t partner_id = 0;
  // The id of each of line.change.extra_orders, by position (charge keys "extra:<id>").
  std::vector<int64_t> extra_order_ids;
  // Positions below this were applied by an earlier submission.
  int applied_extra_orders = 0;
  // AnswerKey of the answer the last submission applied; empty before any.
  std::string submitted_answer;
  std::string answered_by;
  absl::optional<absl::Time> answer_time;
  int64_t version = 0;
};

struct NewReport {
  int64_t partner_id = 0;
  std::string partner_name;
  std::string partner_email;
  std::vector<LineSnapshot> lines;  // stored in this order (the caller sorts by case number)
};

struct OpenedPeriod {
  PeriodView period;
  bool created = false;  // false: it was open already, nothing was written
  std::vector<ReportView> reports;  // by partner id
};

struct ReportFilter {
  absl::optional<absl::CivilMonth> month;
  int64_t partner_id = 0;                // any when 0
  std::vector<ReportStatus> statuses;    // any when empty; derived as of `now`
  absl::Time now;
};

// One answer to write.
struct AnswerWrite {
  int64_t line_id = 0;
  Answer answer = Answer::kNoChange;
  Change change;  // when kChanged
};
// Sees the locked report and all its lines; returns the answers to write (none: nothing is
// written) or refuses.
using AnswerPlanner = std::function<absl::StatusOr<std::vector<AnswerWrite>>(
    const ReportView& report, const std::vector<StoredLine>& lines)>;

enum class EffectKind { kRecordOutcome = 1, kCommission = 2 };

struct NewEffect {
  EffectKind kind = EffectKind::kRecordOutcome;
  int64_t line_id = 0;
  std::string request_id;   // unique; the peer's idempotency key
  std::string payload;      // the peer request as protobuf JSON
  std::string description;  // for people
  int depends_on = -1;      // index of an earlier effect of the same plan, or -1
};

struct Effect {
  int64_t id = 0;
  int64_t submission_id = 0;
  int64_t line_id = 0;
  int64_t project_id = 0;
  std::string case_number;
  EffectKind kind = EffectKind::kRecordOutcome;
  std::string request_id;
  std::string payload;
  std::string description;
  int64_t depends_on = 0;
  int attempts = 0;
  absl::Time next_attempt_time;
  absl::optional<absl::Time> done_time;
  std::string last_error;
};

struct Submission {
  int64_t id = 0;
  int64_t report_id = 0;       // 0 for a case update
  int64_t case_update_id = 0;  // the case update's line id; 0 for a report
  int sequence = 1;
  absl::Time submit_time;
  std::string submitted_by;
  std::vector<Effect> effects;  // by id
};

// What a submission records besides the report's state: the effects, and per applied line the
// answer key and how many of its extra orders are now applied.
struct LineApplied {
  int64_t line_id = 0;
  std::string answer_key;
  int applied_extra_orders = 0;
};
struct SubmissionPlan {
  std::vector<NewEffect> effects;
  std::vector<LineApplied> lines;
};
// Sees the locked report, all its lines and the sequence number this submission gets.
using SubmissionPlanner = std::function<absl::StatusOr<SubmissionPlan>(
    const ReportView& report, const std::vector<StoredLine>& lines, int sequence)>;

struct Submitted {
  ReportView report;
  Submission submission;
};

struct NewCaseUpdate {
  int64_t partner_id = 0;
  LineSnapshot snapshot;
  Change change;
};
// Sees the stored case update (with its id and extra order ids).
using CaseUpdatePlanner = std::function<absl::StatusOr<SubmissionPlan>(const StoredLine& line)>;

struct CaseUpdateResult {
  StoredLine line;
  Submission submission;
};

// The NOT_FOUND of an absent report or line, also what a partner gets for another's: the
// store and the handlers answer with the same words, so absence and another partner's
// resource look alike.
inline absl::Status ReportNotFound(int64_t id) {
  return DomainError(absl::StatusCode::kNotFound, "", "REPORT_NOT_FOUND",
                     absl::StrCat("report ", id, " not found"));
}
inline absl::Status LineNotFound(int64_t id) {
  return DomainError(absl::StatusCode::kNotFound, "", "LINE_NOT_FOUND",
                     absl::StrCat("line ", id, " not found"));
}

class ReportStore {
 public:
  virtual ~ReportStore() = default;

  // ---- periods and reports ----

  // NOT_FOUND when the month is not open.
  virtual absl::StatusOr<PeriodView> GetPeriod(absl::CivilMonth month, absl::Time deadline) = 0;
  // Inserts the period and its reports with their lines, unless the month is open already:
  // then nothing is written and the existing reports are returned (created = false).
  virtual absl::StatusOr<std::string> OpenPeriod(const WriteContext& ctx, const Period& period,
                                                 const std::vector<NewReport>& reports,
                                                 const Encoder<OpenedPeriod>& encode) = 0;
  // NOT_FOUND when absent.
  virtual absl::StatusOr<ReportView> GetReport(int64_t id, absl::Time deadline) = 0;
  // Ascending id, ids > after_id, at most `limit`.
  virtual absl::StatusOr<std::vector<ReportView>> ListReports(const ReportFilter& filter,
                                                              int64_t after_id, int limit,
                                                              absl::Time deadline) = 0;

  // ---- lines and answers ----

  // A report line or a case update. NOT_FOUND when absent.
  virtual absl::StatusOr<StoredLine> GetLine(int64_t id, absl::Time deadline) = 0;
  // The lines of a report by id (OpenPeriod inserts them by case number), ids > after_id, at
  // most `limit` (0: all).
  virtual absl::StatusOr<std::vector<StoredLine>> ListLines(int64_t report_id, int64_t after_id,
                                                            int limit, absl::Time deadline) = 0;
  // Locks the report, runs `plan` and writes its answers (answered_by = ctx.actor, version + 1,
  // one audit event per line). Returns the written lines, in the plan's order. NOT_FOUND when
  // the report is absent (or `plan` says so).
  virtual absl::StatusOr<std::vector<StoredLine>> WriteAnswers(const WriteContext& ctx,
                                                               int64_t report_id,
                                                               const AnswerPlanner& plan) = 0;

  // ---- submission ----

  // Idempotent by ctx.request_id. Locks the report, runs `plan`, then records the submission
  // (sequence = submission_count + 1) with its effects, marks the report submitted (version
  // + 1) and the lines applied, with an audit event.
  virtual absl::StatusOr<std::string> SubmitReport(const WriteContext& ctx, int64_t report_id,
                                                   const SubmissionPlanner& plan,
                                                   const Encoder<Submitted>& encode) = 0;
  // Locks the report; `check` decides (CheckReopen); clears the submission (version + 1) and
  // audits the reason.
  virtual absl::StatusOr<ReportView> ReopenReport(
      const WriteContext& ctx, int64_t report_id,
      const std::function<absl::Status(const ReportView&)>& check, const std::string& reason) = 0;
  // Idempotent by ctx.request_id: stores the case update as a submitted, changed line, then its
  // submission with the effects `plan` makes, with an audit event.
  virtual absl::StatusOr<std::string> SubmitCaseUpdate(const WriteContext& ctx,
                                                       const NewCaseUpdate& update,
                                                       const CaseUpdatePlanner& plan,
                                                       const Encoder<CaseUpdateResult>& encode) = 0;
  // The stored response of an earlier, completed call with ctx's method and request_id
  // (nullopt when none); INVALID_ARGUMENT REQUEST_ID_REUSED when it was another request. For
  // handlers whose checks the first call's own effect would fail on a retry.
  virtual absl::StatusOr<absl::optional<std::string>> FindReplay(const WriteContext& ctx) = 0;
  // The submissions of a report (report_id) or of a case update (case_update_id), oldest
  // first, each with its effects.
  virtual absl::StatusOr<std::vector<Submission>> ListSubmissions(int64_t report_id,
                                                                  int64_t case_update_id,
                                                                  absl::Time deadline) = 0;

  // ---- the effect outbox (delivery loop) ----

  // Leases up to `limit` due effects (not done, next_attempt_at <= now, no live lease, the
  // effect they depend on done) to `owner` until now + lease and counts the attempt. Rows
  // locked by another replica's claim are skipped.
  virtual absl::StatusOr<std::vector<Effect>> ClaimEffects(const std::string& owner,
                                                           absl::Time now, absl::Duration lease,
                                                           int limit, absl::Time deadline) = 0;
  // Marks an effect applied (whoever holds it: the peer answered). False when it was done
  // already.
  virtual absl::StatusOr<bool> MarkEffectDone(int64_t id, absl::Time now,
                                              absl::Time deadline) = 0;
  // Records a failed attempt of `owner`'s lease: retried at `next_attempt`.
  virtual absl::Status MarkEffectFailed(int64_t id, const std::string& owner,
                                        absl::Time next_attempt, const std::string& error,
                                        absl::Time deadline) = 0;
};

}  // namespace anken::report
