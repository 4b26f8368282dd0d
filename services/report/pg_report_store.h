#pragma once
// ReportStore on Postgres (schema `report`, migrations/V001__init.sql). Every method is one
// Pool::Transact bounded by the caller's deadline (reads run READ ONLY); nothing throws, and
// libpqxx errors become statuses (common/db/pg_status.h).
//
// Choices the interface leaves open:
// - Instants are stored with microsecond precision (ctx.now truncated first), so what a write
//   returns equals what a later read returns.
// - OpenPeriod inserts the period first (ON CONFLICT DO NOTHING): of two concurrent openers
//   the second waits on the key and then writes nothing, so one set of reports exists.
// - WriteAnswers replaces a line's extra orders from its first unapplied position; applied
//   ones (positions below applied_extra_orders) are never deleted, so their ids stay stable.
//   Lines whose answer the plan repeats exactly are written anyway (their version moves): an
//   answer is also a "checked by whom, when".
// - An effect whose request_id already exists is not inserted again (the existing row stands).
// - Audit events: resource types "period" ("periods/2026-04"), "report" ("reports/<id>"),
//   "line" ("reports/<rid>/lines/<id>") and "case_update" ("case_updates/<id>").

#include <cstdint>
#include <string>
#include <vector>

#include "common/db/pool.h"
#include "services/report/report_store.h"

namespace anken::report {

class PgReportStore final : public ReportStore {
 public:
  static constexpr char kSchema[] = "report";

  // `pool` must outlive the store.
  explicit PgReportStore(db::Pool& pool) : pool_(pool) {}

  absl::StatusOr<PeriodView> GetPeriod(absl::CivilMonth month, absl::Time deadline) override;
  absl::StatusOr<std::string> OpenPeriod(const WriteContext& ctx, const Period& period,
                                         const std::vector<NewReport>& reports,
                                         const Encoder<OpenedPeriod>& encode) override;
  absl::StatusOr<ReportView> GetReport(int64_t id, absl::Time deadline) override;
  absl::StatusOr<std::vector<ReportView>> ListReports(const ReportFilter& filter, int64_t after_id,
                                                      int limit, absl::Time deadline) override;

  absl::StatusOr<StoredLine> GetLine(int64_t id, absl::Time deadline) override;
  absl::StatusOr<std::vector<StoredLine>> ListLines(int64_t report_id, int64_t after_id, int limit,
                                                    absl::Time deadline) override;
  absl::StatusOr<std::vector<StoredLine>> WriteAnswers(const WriteContext& ctx, int64_t report_id,
                                                       const AnswerPlanner& plan) override;

  absl::StatusOr<std::string> SubmitReport(const WriteContext& ctx, int64_t report_id,
                                           const SubmissionPlanner& plan,
                                           const Encoder<Submitted>& encode) override;
  absl::StatusOr<ReportView> ReopenReport(
      const WriteContext& ctx, int64_t report_id,
      const std::function<absl::Status(const ReportView&)>& check,
      const std::string& reason) override;
  absl::StatusOr<std::string> SubmitCaseUpdate(const WriteContext& ctx,
                                               const NewCaseUpdate& update,
                                               const CaseUpdatePlanner& plan,
                                               const Encoder<CaseUpdateResult>& encode) override;
  absl::StatusOr<absl::optional<std::string>> FindReplay(const WriteContext& ctx) override;
  absl::StatusOr<std::vector<Submission>> ListSubmissions(int64_t report_id,
                                                          int64_t case_update_id,
                                                          absl::Time deadline) override;

  absl::StatusOr<std::vector<Effect>> ClaimEffects(const std::string& owner, absl::Time now,
                                                   absl::Duration lease, int limit,
                                                   absl::Time deadline) override;
  absl::StatusOr<bool> MarkEffectDone(int64_t id, absl::Time now, absl::Time deadline) override;
  absl::Status MarkEffectFailed(int64_t id, const std::string& owner, absl::Time next_attempt,
                                const std::string& error, absl::Time deadline) override;

 private:
  db::Pool& pool_;
};

}  // namespace anken::report
