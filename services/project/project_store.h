#pragma once
// Storage of the project service: one Postgres implementation (pg_project_store.h); every
// method is one transaction and nothing throws. Conventions as in customer_store.h: creates
// are idempotent by WriteContext::request_id (the stored response bytes come back on replay;
// same id with another request → INVALID_ARGUMENT REQUEST_ID_REUSED); updates lock the row and
// call `mutate`, then save with version + 1; every write records an audit event in the same
// transaction, with hierarchical resource ids so a case's history includes its parts:
// "projects/7", "projects/7/quotes/3", "projects/7/activities/5", "projects/7/todos/2";
// categories "categories/4", products "products/9".

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "common/db/write_context.h"
#include "services/project/project.h"
#include "services/project/project_rules.h"

namespace anken::project {

using db::AuditEntry;
using db::Encoder;
using db::Mutator;
using db::WriteContext;

enum class ProjectOrder { kNumber, kUpdateTimeDesc };

struct ProjectFilter {
  int64_t customer_id = 0;                 // any when 0
  std::vector<OrderStatus> order_statuses;  // any when empty
  std::string owner;
  std::string department;
  int64_t partner_id = 0;  // only cases referred to this partner when > 0
  std::vector<Outcome> outcomes;  // with partner_id (or alone): only these referral outcomes
  absl::optional<absl::CivilDay> quote_date_from, quote_date_to;
  absl::optional<absl::CivilDay> acceptance_date_from, acceptance_date_to;
  ProjectOrder order = ProjectOrder::kNumber;
};

// Keyset position: the last row of the previous page.
struct ProjectPosition {
  int64_t id = 0;            // 0 = first page
  absl::Time update_time;    // used with kUpdateTimeDesc
};

// The filters of ListQuotes; they combine.
struct QuoteFilter {
  int64_t project_id = 0;             // any when 0
  int64_t customer_id = 0;            // any when 0: only quotes of this customer's cases
  std::vector<QuoteStatus> statuses;  // any when empty
};

// One case of a CSV import: a new case (id 0) or a full replacement of an existing one's
// writable fields (by number), checked against its version when given.
struct ProjectImportRow {
  int row = 0;
  Project project;  // for updates: number set, id 0 (the store resolves it)
};

class ProjectStore {
 public:
  virtual ~ProjectStore() = default;

  virtual absl::StatusOr<Project> GetProject(int64_t id, absl::Time deadline) = 0;
  // Those that exist, any order.
  virtual absl::StatusOr<std::vector<Project>> GetProjects(const std::vector<int64_t>& ids,
                                                           absl::Time deadline) = 0;
  // At most `limit` after `after`, in the filter's order (number ascending = id ascending;
  // or update time descending, then id descending).
  virtual absl::StatusOr<std::vector<Project>> ListProjects(const ProjectFilter& filter,
                                                            const ProjectPosition& after,
                                                            int limit, absl::Time deadline) = 0;
  // Takes the next case number from a sequence (never reused, even when the transaction rolls
  // back); category_id, when set, must exist (NOT_FOUND "CATEGORY_NOT_FOUND").
  virtual absl::StatusOr<std::string> CreateProject(const WriteContext& ctx, Project project,
                                                    const Encoder<Project>& encode) = 0;
  virtual absl::StatusOr<Project> UpdateProject(const WriteContext& ctx, int64_t id,
                                                const Mutator<Project>& mutate) = 0;
  // Idempotent by ctx.request_id: `mutate` applies the outcome (ApplyOutcome) to the locked
  // case; new extra orders (id 0) are inserted; the response bytes are stored.
  virtual absl::StatusOr<std::string> RecordOutcome(const WriteContext& ctx, int64_t project_id,
                                                    const Mutator<Project>& mutate,
                                                    const Encoder<Project>& encode) = 0;

  // ALREADY_EXISTS when the name is taken.
  virtual absl::StatusOr<Category> CreateCategory(const WriteContext& ctx, Category category) = 0;
  virtual absl::StatusOr<std::vector<Category>> ListCategories(absl::Time deadline) = 0;

  // ALREADY_EXISTS when the code is taken.
  virtual absl::StatusOr<Product> CreateProduct(const WriteContext& ctx, Product product) = 0;
  // By id ascending (= creation), ids > after_id.
  virtual absl::StatusOr<std::vector<Product>> ListProducts(bool include_inactive, int64_t after_id,
                                                            int limit, absl::Time deadline) = 0;
  virtual absl::StatusOr<std::vector<Product>> GetProducts(const std::vector<int64_t>& ids,
                                                           absl::Time deadline) = 0;

  // The case must exist (NOT_FOUND); number = the case's highest quote number + 1.
  virtual absl::StatusOr<std::string> CreateQuote(const WriteContext& ctx, Quote quote,
                                                  const Encoder<Quote>& encode) = 0;
  virtual absl::StatusOr<Quote> GetQuote(int64_t id, absl::Time deadline) = 0;
  // At most `limit` quotes with id > after_id, by id, with their lines and per-rate totals.
  virtual absl::StatusOr<std::vector<Quote>> ListQuotes(const QuoteFilter& filter,
                                                        int64_t after_id, int limit,
                                                        absl::Time deadline) = 0;
  // Lines are replaced as a whole when they changed.
  virtual absl::StatusOr<Quote> UpdateQuote(const WriteContext& ctx, int64_t id,
                                            const Mutator<Quote>& mutate) = 0;
  // UpdateQuote, and in the same transaction: FAILED_PRECONDITION
  // ("ANOTHER_QUOTE_ACCEPTED") when another quote of the case is ACCEPTED; the case's
  // order_status becomes WON (audited as a change of the case).
  virtual absl::StatusOr<Quote> AcceptQuote(const WriteContext& ctx, int64_t id,
                                            const Mutator<Quote>& mutate) = 0;
  // Quotes whose expected order month is in [from, to], each with the group of its case
  // (department, or owner when by_owner).
  virtual absl::StatusOr<std::vector<ForecastInput>> ForecastQuotes(absl::CivilMonth from,
                                                                    absl::CivilMonth to,
                                                                    bool by_owner,
                                                                    absl::Time deadline) = 0;

  virtual absl::StatusOr<std::string> CreateActivity(const WriteContext& ctx, Activity activity,
                                                     const Encoder<Activity>& encode) = 0;
  // Newest first (occur_time, then id). NOT_FOUND when the case does not exist.
  virtual absl::StatusOr<std::vector<Activity>> ListActivities(int64_t project_id,
                                                               absl::Time deadline) = 0;
  virtual absl::StatusOr<std::string> CreateTodo(const WriteContext& ctx, Todo todo,
                                                 const Encoder<Todo>& encode) = 0;
  // Sets done and done_time = ctx.now; a done ToDo is returned unchanged.
  virtual absl::StatusOr<Todo> CompleteTodo(const WriteContext& ctx, int64_t id) = 0;
  // Open (not done) ToDos of `assignee`, any order.
  virtual absl::StatusOr<std::vector<Todo>> OpenTodos(const std::string& assignee,
                                                      absl::Time deadline) = 0;

  // All or nothing. New cases get numbers; updates are by number (NOT_FOUND
  // "PROJECT_NOT_FOUND" naming it when unknown) and replace the writable fields except the
  // referral outcome. Idempotent by ctx.request_id.
  struct ImportResult {
    int created = 0;
    int updated = 0;
  };
  virtual absl::StatusOr<std::string> ImportProjects(const WriteContext& ctx,
                                                     std::vector<ProjectImportRow> rows,
                                                     const Encoder<ImportResult>& encode) = 0;
  // Existing case numbers among `numbers`.
  virtual absl::StatusOr<std::vector<std::string>> ExistingNumbers(
      const std::vector<std::string>& numbers, absl::Time deadline) = 0;

  // Newest first: "projects/<id>" and everything below it.
  virtual absl::StatusOr<std::vector<AuditEntry>> ListAuditEvents(int64_t project_id,
                                                                  int64_t before_id, int limit,
                                                                  absl::Time deadline) = 0;
};

}  // namespace anken::project
