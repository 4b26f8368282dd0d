#pragma once
// gRPC handlers of anken.project.v1.ProjectService: scope checks (a partner sees only cases
// referred to it), proto <-> domain, the rules (project_rules.h), the store and the customer
// directory. Handlers are split over project_service.cc (cases, categories, referrals, import,
// audit) and quote_service.cc (products, quotes, forecast, activities, ToDos).

#include <string>
#include <unordered_map>
#include <vector>

#include "anken/project/v1/project_service.grpc.pb.h"
#include "common/api/page_token.h"
#include "common/auth/auth.h"
#include "common/clock/clock.h"
#include "common/tax/tax.h"
#include "services/project/customer_directory.h"
#include "services/project/project_store.h"

namespace anken::project {

struct ProjectServiceOptions {
  // ANKEN_PROJECT_PROGRESS_STATUSES: the allowed 進捗状況 values.
  std::vector<std::string> progress_statuses = {"未着手", "進行中", "保留", "完了"};
  // ANKEN_TAX_ROUNDING: the company's rounding of quote tax.
  tax::Rounding rounding = tax::Rounding::kFloor;
  // ANKEN_ISSUER_NAME / ANKEN_ISSUER_REGISTRATION_NUMBER / ANKEN_ISSUER_ADDRESS: the company
  // printed on quote PDFs (each optional; left off when unset).
  std::string issuer_name;
  std::string issuer_registration_number;
  std::string issuer_address;
};

using ProductMap = std::unordered_map<int64_t, Product>;

// Lines naming a product take its name, unit, price and (when `source` leaves it unspecified)
// tax category as defaults. NOT_FOUND for an unknown product, FAILED_PRECONDITION for an
// inactive one.
absl::Status FillFromProducts(Quote& quote,
                              const google::protobuf::RepeatedPtrField<v1::QuoteLine>& source,
                              const ProductMap& products);

class ProjectServiceImpl final : public v1::ProjectService::Service {
 public:
  ProjectServiceImpl(ProjectStore& store, CustomerDirectory& customers, const Clock& clock,
                     const api::PageTokenCodec& page_tokens, ProjectServiceOptions options)
      : store_(store), customers_(customers), clock_(clock), page_tokens_(page_tokens),
        options_(std::move(options)) {}

  static auth::MethodRoles Roles();

  grpc::Status GetProject(grpc::ServerContext*, const v1::GetProjectRequest*, v1::Project*) override;
  grpc::Status BatchGetProjects(grpc::ServerContext*, const v1::BatchGetProjectsRequest*,
                                v1::BatchGetProjectsResponse*) override;
  grpc::Status ListProjects(grpc::ServerContext*, const v1::ListProjectsRequest*,
                            v1::ListProjectsResponse*) override;
  grpc::Status CreateProject(grpc::ServerContext*, const v1::CreateProjectRequest*,
                             v1::Project*) override;
  grpc::Status UpdateProject(grpc::ServerContext*, const v1::UpdateProjectRequest*,
                             v1::Project*) override;
  grpc::Status CreateCategory(grpc::ServerContext*, const v1::CreateCategoryRequest*,
                              v1::Category*) override;
  grpc::Status ListCategories(grpc::ServerContext*, const v1::ListCategoriesRequest*,
                              v1::ListCategoriesResponse*) override;
  grpc::Status RecordReferralOutcome(grpc::ServerContext*, const v1::RecordReferralOutcomeRequest*,
                                     v1::Project*) override;
  grpc::Status ListReferrals(grpc::ServerContext*, const v1::ListReferralsRequest*,
                             v1::ListReferralsResponse*) override;
  grpc::Status CreateProduct(grpc::ServerContext*, const v1::CreateProductRequest*,
                             v1::Product*) override;
  grpc::Status ListProducts(grpc::ServerContext*, const v1::ListProductsRequest*,
                            v1::ListProductsResponse*) override;
  grpc::Status GetQuote(grpc::ServerContext*, const v1::GetQuoteRequest*, v1::Quote*) override;
  grpc::Status ListQuotes(grpc::ServerContext*, const v1::ListQuotesRequest*,
                          v1::ListQuotesResponse*) override;
  grpc::Status CreateQuote(grpc::ServerContext*, const v1::CreateQuoteRequest*, v1::Quote*) override;
  grpc::Status UpdateQuote(grpc::ServerContext*, const v1::UpdateQuoteRequest*, v1::Quote*) override;
  grpc::Status SendQuote(grpc::ServerContext*, const v1::SendQuoteRequest*, v1::Quote*) override;
  grpc::Status AcceptQuote(grpc::ServerContext*, const v1::AcceptQuoteRequest*, v1::Quote*) override;
  grpc::Status RejectQuote(grpc::ServerContext*, const v1::RejectQuoteRequest*, v1::Quote*) override;
  grpc::Status GetForecast(grpc::ServerContext*, const v1::GetForecastRequest*,
                           v1::Forecast*) override;
  // Defined in quote_pdf_service.cc.
  grpc::Status GetQuotePdf(grpc::ServerContext*, const v1::GetQuotePdfRequest*,
                           v1::GetQuotePdfResponse*) override;
  grpc::Status CreateActivity(grpc::ServerContext*, const v1::CreateActivityRequest*,
                              v1::Activity*) override;
  grpc::Status ListActivities(grpc::ServerContext*, const v1::ListActivitiesRequest*,
                              v1::ListActivitiesResponse*) override;
  grpc::Status CreateTodo(grpc::ServerContext*, const v1::CreateTodoRequest*, v1::Todo*) override;
  grpc::Status CompleteTodo(grpc::ServerContext*, const v1::CompleteTodoRequest*,
                            v1::Todo*) override;
  grpc::Status ListMyTodos(grpc::ServerContext*, const v1::ListMyTodosRequest*,
                           v1::ListMyTodosResponse*) override;
  grpc::Status ImportProjects(grpc::ServerContext*, const v1::ImportProjectsRequest*,
                              v1::ImportProjectsResponse*) override;
  grpc::Status ListAuditEvents(grpc::ServerContext*, const v1::ListAuditEventsRequest*,
                               v1::ListAuditEventsResponse*) override;

 private:
  WriteContext Write(const grpc::ServerContext& ctx, const auth::Principal& caller,
                     absl::string_view method, const std::string& request_id,
                     const google::protobuf::Message& request) const;
  // The customer must exist and be ACTIVE; a referral's partner must have the partner role.
  absl::Status CheckParties(const Project& p, const grpc::ServerContext& ctx);
  // The products the lines name (missing ones absent).
  absl::StatusOr<ProductMap> LoadProducts(
      const google::protobuf::RepeatedPtrField<v1::QuoteLine>& lines,
      const grpc::ServerContext& ctx);
  absl::CivilDay Today() const;

  ProjectStore& store_;
  CustomerDirectory& customers_;
  const Clock& clock_;
  const api::PageTokenCodec& page_tokens_;
  const ProjectServiceOptions options_;
};

// Conversions shared by the two handler files.
namespace convert {
v1::Project ToProto(const Project& p, bool for_partner);
absl::StatusOr<Project> FromProto(const v1::Project& p, Project base);
v1::Quote ToProto(const Quote& q);
absl::StatusOr<Quote> FromProto(const v1::Quote& p, Quote base);
}  // namespace convert

}  // namespace anken::project
