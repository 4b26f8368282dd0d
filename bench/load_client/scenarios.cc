#include "bench/load_client/scenarios.h"

#include <fstream>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "anken/billing/v1/billing_service.grpc.pb.h"
#include "anken/customer/v1/customer_service.grpc.pb.h"
#include "anken/project/v1/project_service.grpc.pb.h"
#include "anken/report/v1/report_service.grpc.pb.h"
#include "anken/testing/v1/echo.grpc.pb.h"

namespace anken::bench {
namespace {

// One slot's RPC: its own stub, request and response (a slot has one call in flight, so
// they are reused call after call).
template <typename Service, typename Req, typename Resp>
class UnaryCall final : public Call {
 public:
  using Stub = typename Service::Stub;
  using Fill = std::function<void(Req&, std::mt19937_64&, int64_t n)>;
  using Invoke = void (*)(Stub*, grpc::ClientContext*, const Req*, Resp*,
                          std::function<void(grpc::Status)>);
  using Count = int64_t (*)(const Resp&, const RequestSpace&);

  UnaryCall(std::shared_ptr<grpc::Channel> channel, const RequestSpace& space, Fill fill,
            Invoke invoke, Count count)
      : stub_(Service::NewStub(std::move(channel))),
        space_(space),
        fill_(std::move(fill)),
        invoke_(invoke),
        count_(count) {}

  void Start(grpc::ClientContext* ctx, std::mt19937_64& rng,
             std::function<void(const grpc::Status&, int64_t)> done) override {
    req_.Clear();
    resp_.Clear();
    fill_(req_, rng, n_++);
    invoke_(stub_.get(), ctx, &req_, &resp_, [this, done = std::move(done)](grpc::Status s) {
      done(s, s.ok() ? count_(resp_, space_) : 0);
    });
  }

 private:
  std::unique_ptr<Stub> stub_;
  const RequestSpace& space_;  // the scenario's, which outlives every call
  Fill fill_;
  Invoke invoke_;
  Count count_;
  Req req_;
  Resp resp_;
  int64_t n_ = 0;
};

template <typename Service, typename Req, typename Resp>
Scenario Make(std::string name, std::string method,
              std::function<typename UnaryCall<Service, Req, Resp>::Fill(const RequestSpace&, int)>
                  make_fill,
              typename UnaryCall<Service, Req, Resp>::Invoke invoke,
              typename UnaryCall<Service, Req, Resp>::Count count) {
  Scenario s;
  s.name = std::move(name);
  s.full_method = std::move(method);
  s.make_call = [make_fill, invoke, count](std::shared_ptr<grpc::Channel> channel,
                                            const RequestSpace& space,
                                            int slot) -> std::unique_ptr<Call> {
    return std::make_unique<UnaryCall<Service, Req, Resp>>(std::move(channel), space,
                                                           make_fill(space, slot), invoke, count);
  };
  return s;
}

int64_t One(const google::protobuf::Message&) { return 1; }

int64_t UniformId(const RequestSpace& s, std::mt19937_64& rng) {
  std::uniform_int_distribution<int64_t> d(s.id_min, std::max(s.id_min, s.id_max));
  return d(rng);
}

std::string RequestId(const RequestSpace& s, int slot, int64_t n) {
  return absl::StrCat(s.request_id_prefix, "-", slot, "-", n);
}

namespace cv1 = customer::v1;
namespace pv1 = project::v1;
namespace bv1 = billing::v1;
namespace rv1 = report::v1;
namespace tv1 = testing::v1;

// "YYYY-MM-DD" into y, m, d; false when it is not that.
bool SplitDay(const std::string& text, int* y, int* m, int* d) {
  std::vector<std::string> ymd = absl::StrSplit(text, '-');
  return ymd.size() == 3 && absl::SimpleAtoi(ymd[0], y) && absl::SimpleAtoi(ymd[1], m) &&
         absl::SimpleAtoi(ymd[2], d);
}

std::vector<Scenario> BuildTable() {
  std::vector<Scenario> t;
  t.push_back(Make<tv1::EchoService, tv1::EchoRequest, tv1::EchoResponse>(
      "Echo", "/anken.testing.v1.EchoService/Echo",
      [](const RequestSpace&, int) {
        return [](tv1::EchoRequest& r, std::mt19937_64&, int64_t) { r.set_message("ping"); };
      },
      [](tv1::EchoService::Stub* s, grpc::ClientContext* c, const tv1::EchoRequest* q,
         tv1::EchoResponse* r, std::function<void(grpc::Status)> cb) {
        s->async()->Echo(c, q, r, std::move(cb));
      },
      [](const tv1::EchoResponse& r, const RequestSpace&) { return One(r); }));

  t.push_back(Make<cv1::CustomerService, cv1::GetCustomerRequest, cv1::Customer>(
      "GetCustomer", "/anken.customer.v1.CustomerService/GetCustomer",
      [](const RequestSpace& space, int) {
        return [space](cv1::GetCustomerRequest& r, std::mt19937_64& rng, int64_t) {
          r.set_id(UniformId(space, rng));
        };
      },
      [](cv1::CustomerService::Stub* s, grpc::ClientContext* c, const cv1::GetCustomerRequest* q,
         cv1::Customer* r, std::function<void(grpc::Status)> cb) {
        s->async()->GetCustomer(c, q, r, std::move(cb));
      },
      [](const cv1::Customer& r, const RequestSpace&) { return One(r); }));

  t.push_back(Make<cv1::CustomerService, cv1::ListCustomersRequest, cv1::ListCustomersResponse>(
      "ListCustomers", "/anken.customer.v1.CustomerService/ListCustomers",
      [](const RequestSpace& space, int) {
        return [space](cv1::ListCustomersRequest& r, std::mt19937_64&, int64_t) {
          r.set_page_size(space.page_size);
        };
      },
      [](cv1::CustomerService::Stub* s, grpc::ClientContext* c,
         const cv1::ListCustomersRequest* q, cv1::ListCustomersResponse* r,
         std::function<void(grpc::Status)> cb) { s->async()->ListCustomers(c, q, r, std::move(cb)); },
      [](const cv1::ListCustomersResponse& r, const RequestSpace&) {
        return static_cast<int64_t>(r.customers_size());
      }));

  t.push_back(Make<cv1::CustomerService, cv1::CreateCustomerRequest, cv1::Customer>(
      "CreateCustomer", "/anken.customer.v1.CustomerService/CreateCustomer",
      [](const RequestSpace& space, int slot) {
        return [space, slot](cv1::CreateCustomerRequest& r, std::mt19937_64&, int64_t n) {
          r.set_request_id(RequestId(space, slot, n));
          cv1::Customer* c = r.mutable_customer();
          c->set_name(absl::StrCat("株式会社ベンチ", slot, "-", n));
          c->set_name_kana("ｶﾌﾞｼｷｶﾞｲｼｬﾍﾞﾝﾁ");
          c->set_kind(cv1::CUSTOMER_KIND_CORPORATION);
          c->set_is_customer(true);
          c->set_postal_code("1000001");
          c->set_prefecture("東京都");
          c->set_address_line1("千代田区千代田1-1");
          c->set_phone("03-1234-5678");
        };
      },
      [](cv1::CustomerService::Stub* s, grpc::ClientContext* c,
         const cv1::CreateCustomerRequest* q, cv1::Customer* r,
         std::function<void(grpc::Status)> cb) { s->async()->CreateCustomer(c, q, r, std::move(cb)); },
      [](const cv1::Customer& r, const RequestSpace&) { return One(r); }));

  t.push_back(Make<pv1::ProjectService, pv1::GetProjectRequest, pv1::Project>(
      "GetProject", "/anken.project.v1.ProjectService/GetProject",
      [](const RequestSpace& space, int) {
        return [space](pv1::GetProjectRequest& r, std::mt19937_64& rng, int64_t) {
          r.set_id(UniformId(space, rng));
        };
      },
      [](pv1::ProjectService::Stub* s, grpc::ClientContext* c, const pv1::GetProjectRequest* q,
         pv1::Project* r, std::function<void(grpc::Status)> cb) {
        s->async()->GetProject(c, q, r, std::move(cb));
      },
      [](const pv1::Project& r, const RequestSpace&) { return One(r); }));

  t.push_back(Make<pv1::ProjectService, pv1::ListProjectsRequest, pv1::ListProjectsResponse>(
      "ListProjects", "/anken.project.v1.ProjectService/ListProjects",
      [](const RequestSpace& space, int) {
        return [space](pv1::ListProjectsRequest& r, std::mt19937_64&, int64_t) {
          r.set_page_size(space.page_size);
        };
      },
      [](pv1::ProjectService::Stub* s, grpc::ClientContext* c, const pv1::ListProjectsRequest* q,
         pv1::ListProjectsResponse* r, std::function<void(grpc::Status)> cb) {
        s->async()->ListProjects(c, q, r, std::move(cb));
      },
      [](const pv1::ListProjectsResponse& r, const RequestSpace&) {
        return static_cast<int64_t>(r.projects_size());
      }));

  t.push_back(Make<pv1::ProjectService, pv1::CreateProjectRequest, pv1::Project>(
      "CreateProject", "/anken.project.v1.ProjectService/CreateProject",
      [](const RequestSpace& space, int slot) {
        return [space, slot](pv1::CreateProjectRequest& r, std::mt19937_64& rng, int64_t n) {
          r.set_request_id(RequestId(space, slot, n));
          pv1::Project* p = r.mutable_project();
          std::uniform_int_distribution<int64_t> customer(
              space.customer_id_min, std::max(space.customer_id_min, space.customer_id_max));
          p->set_customer_id(customer(rng));
          p->set_name(absl::StrCat("ベンチ案件 ", slot, "-", n));
          p->set_order_status(pv1::ORDER_STATUS_PROSPECT);
          p->set_owner("bench");
          p->set_department("営業1部");
        };
      },
      [](pv1::ProjectService::Stub* s, grpc::ClientContext* c, const pv1::CreateProjectRequest* q,
         pv1::Project* r, std::function<void(grpc::Status)> cb) {
        s->async()->CreateProject(c, q, r, std::move(cb));
      },
      [](const pv1::Project& r, const RequestSpace&) { return One(r); }));

  // One run renews every due plan; items = entries created. Drive it with --requests=1.
  t.push_back(Make<bv1::BillingService, bv1::RunRenewalsRequest, bv1::RenewalRun>(
      "RunRenewals", "/anken.billing.v1.BillingService/RunRenewals",
      [](const RequestSpace& space, int slot) {
        return [space, slot](bv1::RunRenewalsRequest& r, std::mt19937_64&, int64_t n) {
          r.set_request_id(RequestId(space, slot, n));
          int y = 0, m = 0, d = 0;
          if (SplitDay(space.as_of, &y, &m, &d)) {
            r.mutable_as_of()->set_year(y);
            r.mutable_as_of()->set_month(m);
            r.mutable_as_of()->set_day(d);
          }
        };
      },
      [](bv1::BillingService::Stub* s, grpc::ClientContext* c, const bv1::RunRenewalsRequest* q,
         bv1::RenewalRun* r, std::function<void(grpc::Status)> cb) {
        s->async()->RunRenewals(c, q, r, std::move(cb));
      },
      [](const bv1::RenewalRun& r, const RequestSpace&) {
        int64_t entries = 0;
        for (const auto& renewal : r.renewals()) entries += renewal.entries_size();
        return entries;
      }));

  // The report service (items: reports opened / rows accepted / bytes saved).
  t.push_back(Make<rv1::ReportIntakeService, rv1::OpenPeriodRequest, rv1::OpenPeriodResponse>(
      "OpenPeriod", "/anken.report.v1.ReportIntakeService/OpenPeriod",
      [](const RequestSpace& space, int slot) {
        return [space, slot](rv1::OpenPeriodRequest& r, std::mt19937_64&, int64_t n) {
          r.set_request_id(RequestId(space, slot, n));
          int y = 0, m = 0, d = 0;
          if (SplitDay(space.as_of, &y, &m, &d)) {
            r.mutable_month()->set_year(y);
            r.mutable_month()->set_month(m);
          }
        };
      },
      [](rv1::ReportIntakeService::Stub* s, grpc::ClientContext* c, const rv1::OpenPeriodRequest* q,
         rv1::OpenPeriodResponse* r, std::function<void(grpc::Status)> cb) {
        s->async()->OpenPeriod(c, q, r, std::move(cb));
      },
      [](const rv1::OpenPeriodResponse& r, const RequestSpace&) {
        return static_cast<int64_t>(r.reports_size());
      }));

  t.push_back(Make<rv1::ReportIntakeService, rv1::DownloadReportXlsxRequest, rv1::DownloadReportXlsxResponse>(
      "DownloadReportXlsx", "/anken.report.v1.ReportIntakeService/DownloadReportXlsx",
      [](const RequestSpace& space, int) {
        return [space](rv1::DownloadReportXlsxRequest& r, std::mt19937_64&, int64_t) {
          r.set_report_id(space.id_min);
        };
      },
      [](rv1::ReportIntakeService::Stub* s, grpc::ClientContext* c,
         const rv1::DownloadReportXlsxRequest* q, rv1::DownloadReportXlsxResponse* r,
         std::function<void(grpc::Status)> cb) {
        s->async()->DownloadReportXlsx(c, q, r, std::move(cb));
      },
      [](const rv1::DownloadReportXlsxResponse& r, const RequestSpace& space) -> int64_t {
        if (space.save_to.empty()) return static_cast<int64_t>(r.content().size());
        std::ofstream out(space.save_to, std::ios::binary);
        out << r.content();
        return out ? static_cast<int64_t>(r.content().size()) : 0;
      }));

  t.push_back(Make<rv1::ReportIntakeService, rv1::UploadReportXlsxRequest, rv1::UploadReportXlsxResponse>(
      "UploadReportXlsx", "/anken.report.v1.ReportIntakeService/UploadReportXlsx",
      [](const RequestSpace& space, int) {
        return [&space](rv1::UploadReportXlsxRequest& r, std::mt19937_64&, int64_t) {
          r.set_report_id(space.id_min);
          r.set_content(space.content);
        };
      },
      [](rv1::ReportIntakeService::Stub* s, grpc::ClientContext* c,
         const rv1::UploadReportXlsxRequest* q, rv1::UploadReportXlsxResponse* r,
         std::function<void(grpc::Status)> cb) {
        s->async()->UploadReportXlsx(c, q, r, std::move(cb));
      },
      [](const rv1::UploadReportXlsxResponse& r, const RequestSpace&) -> int64_t {
        // A refused file is an OK call with errors: it committed nothing.
        return r.accepted() ? r.no_change_count() + r.changed_count() : 0;
      }));
  return t;
}

}  // namespace

const std::vector<Scenario>& Scenarios() {
  static const std::vector<Scenario>* const table = new std::vector<Scenario>(BuildTable());
  return *table;
}

const Scenario* FindScenario(absl::string_view name) {
  for (const Scenario& s : Scenarios()) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

}  // namespace anken::bench
