#pragma once
// ProjectStore on Postgres (schema `project`, migrations/V001__init.sql). Every method is one
// Pool::Transact bounded by the caller's deadline (ctx.deadline for writes; reads run READ
// ONLY); nothing throws, and libpqxx errors become statuses by db::StatusFromException (the
// mapping of pg_status.h: a row that breaks a CHECK of the schema is FAILED_PRECONDITION).
//
// Choices the interface leaves open, so handlers and the in-memory fake can match them:
// - Instants are stored with microsecond precision: ctx.now (and activity times) are
//   truncated to the microsecond first, so what a write returns equals what a later read
//   returns.
// - Writes with an empty ctx.request_id are not idempotent (nothing is recorded); with one,
//   db::BeginIdempotent / FinishIdempotent run in the write's transaction under ctx.method
//   and ctx.request_hash. CreateCategory and CreateProduct, which return the row rather than
//   bytes, keep the new row's id as their response and read the row again on a replay.
// - Case numbers are the sequence value as 7 zero-padded digits. The category of a new case
//   is checked before the number is drawn (so that a NOT_FOUND costs no number), but any
//   later failure (a CHECK violation, a failed idempotency finish) leaves a gap: numbers are
//   never reused, so they are not gapless.
// - Updates (UpdateProject, RecordOutcome, UpdateQuote, AcceptQuote): `mutate` sees the
//   locked row. The store keeps what is not the mutator's to change (ids, the case number, a
//   quote's case and number, version, stamps). Extra orders are append-only: those with id 0
//   are inserted, the stored ones are kept as they were whatever the mutator did to them.
//   Removing the referral of a case that has extra orders is FAILED_PRECONDITION
//   ("REFERRAL_HAS_EXTRA_ORDERS"). When the mutated row has the same content as before,
//   nothing is written (no version bump, no audit event) and the row is returned as it was
//   (RecordOutcome still stores the response for its request_id).
// - Audit events: resource types "project", "quote", "activity", "todo", "category",
//   "product"; ids as in project_store.h. change_json holds the changed fields as
//   {"field":{"old":..,"new":..}} (a creation: {"field":{"new":..}} of its non-empty
//   fields), enums by name ("WON", "COMPLETED", "STANDARD"), referral fields as
//   "referral.<field>", appended extra orders as "referral.extra_orders":{"new":[..]}, quote
//   lines as whole arrays. An import writes one event per created or changed case.
// - AcceptQuote locks the case before the quote (the order CreateQuote locks in); the mutator
//   must set status ACCEPTED (INTERNAL otherwise). A case already WON is not written again.
// - ForecastQuotes returns quotes of every status with their totals (per rate too) but
//   without lines (the forecast needs only amounts).
// - CreateActivity: recorded_by defaults to ctx.actor. CreateTodo always creates an open
//   ToDo. Both, and CreateQuote, are NOT_FOUND ("PROJECT_NOT_FOUND") for an unknown case.
// - ImportProjects: an update row replaces customer, name, category, dates, order and
//   progress status, owner, department and memo; its referral, when given, sets the partner
//   and referral date (a case without a referral gets one, IN_PROGRESS), and the outcome,
//   remarks and extra orders stay; a row without a referral leaves the stored one alone. A
//   row with a version that is not the stored one is ABORTED ("VERSION_MISMATCH"). `updated`
//   counts the update rows, changed or not (unchanged ones write nothing). Errors name the
//   row ("row 12: ...").
// - ListAuditEvents and ListActivities are NOT_FOUND for an unknown case.

#include <cstdint>
#include <string>
#include <vector>

#include "common/db/pool.h"
#include "services/project/project_store.h"

namespace anken::project {

class PgProjectStore final : public ProjectStore {
 public:
  // The schema every statement and the idempotency / audit tables use.
  static constexpr char kSchema[] = "project";

  // `pool` must outlive the store.
  explicit PgProjectStore(db::Pool& pool) : pool_(pool) {}

  absl::StatusOr<Project> GetProject(int64_t id, absl::Time deadline) override;
  absl::StatusOr<std::vector<Project>> GetProjects(const std::vector<int64_t>& ids,
                                                   absl::Time deadline) override;
  absl::StatusOr<std::vector<Project>> ListProjects(const ProjectFilter& filter,
                                                    const ProjectPosition& after, int limit,
                                                    absl::Time deadline) override;
  absl::StatusOr<std::string> CreateProject(const WriteContext& ctx, Project project,
                                            const Encoder<Project>& encode) override;
  absl::StatusOr<Project> UpdateProject(const WriteContext& ctx, int64_t id,
                                        const Mutator<Project>& mutate) override;
  absl::StatusOr<std::string> RecordOutcome(const WriteContext& ctx, int64_t project_id,
                                            const Mutator<Project>& mutate,
                                            const Encoder<Project>& encode) override;

  absl::StatusOr<Category> CreateCategory(const WriteContext& ctx, Category category) override;
  absl::StatusOr<std::vector<Category>> ListCategories(absl::Time deadline) override;

  absl::StatusOr<Product> CreateProduct(const WriteContext& ctx, Product product) override;
  absl::StatusOr<std::vector<Product>> ListProducts(bool include_inactive, int64_t after_id,
                                                    int limit, absl::Time deadline) override;
  absl::StatusOr<std::vector<Product>> GetProducts(const std::vector<int64_t>& ids,
                                                   absl::Time deadline) override;

  absl::StatusOr<std::string> CreateQuote(const WriteContext& ctx, Quote quote,
                                          const Encoder<Quote>& encode) override;
  absl::StatusOr<Quote> GetQuote(int64_t id, absl::Time deadline) override;
  absl::StatusOr<std::vector<Quote>> ListQuotes(const QuoteFilter& filter, int64_t after_id,
                                                int limit, absl::Time deadline) override;
  absl::StatusOr<Quote> UpdateQuote(const WriteContext& ctx, int64_t id,
                                    const Mutator<Quote>& mutate) override;
  absl::StatusOr<Quote> AcceptQuote(const WriteContext& ctx, int64_t id,
                                    const Mutator<Quote>& mutate) override;
  absl::StatusOr<std::vector<ForecastInput>> ForecastQuotes(absl::CivilMonth from,
                                                            absl::CivilMonth to, bool by_owner,
                                                            absl::Time deadline) override;

  absl::StatusOr<std::string> CreateActivity(const WriteContext& ctx, Activity activity,
                                             const Encoder<Activity>& encode) override;
  absl::StatusOr<std::vector<Activity>> ListActivities(int64_t project_id,
                                                       absl::Time deadline) override;
  absl::StatusOr<std::string> CreateTodo(const WriteContext& ctx, Todo todo,
                                         const Encoder<Todo>& encode) override;
  absl::StatusOr<Todo> CompleteTodo(const WriteContext& ctx, int64_t id) override;
  absl::StatusOr<std::vector<Todo>> OpenTodos(const std::string& assignee,
                                              absl::Time deadline) override;

  absl::StatusOr<std::string> ImportProjects(const WriteContext& ctx,
                                             std::vector<ProjectImportRow> rows,
                                             const Encoder<ImportResult>& encode) override;
  absl::StatusOr<std::vector<std::string>> ExistingNumbers(const std::vector<std::string>& numbers,
                                                           absl::Time deadline) override;

  absl::StatusOr<std::vector<AuditEntry>> ListAuditEvents(int64_t project_id, int64_t before_id,
                                                          int limit, absl::Time deadline) override;

 private:
  db::Pool& pool_;
};

}  // namespace anken::project
