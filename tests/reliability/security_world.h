#pragma once
// The world of the security tests (tests/reliability/{auth_matrix,input}_test.cc): the five
// service binaries as real processes on one scratch database, the RPCs they really serve
// (server reflection) with each service's own method-role table, and a small set of data —
// two partner stores A and B, each with end customers, referred cases, a report of the open
// period and a case update — plus, for every create, a factory of fresh valid requests.
//
// Contract:
// - SecurityWorld::Shared() starts everything once per test binary (migrations, five
//   processes, the data) and a gtest environment stops it at the end; it fails (returns the
//   error) when any step does. Nothing runs in the background: schedules are off and the
//   report's effects wait an hour, so CountRows() changes only through the tests' own calls.
// - A "create" is a method named Create*, or whose request carries a request_id or a
//   dedup_key (creates are idempotent by one of them). CreateRequest() returns, for a create,
//   a request (text format) that the admin token may send and that would succeed: each call
//   makes fresh rows for it to refer to, so using one request never spoils another. A create
//   without a factory is an error naming it, so a new one cannot be left out.
// - Leak() says what a status gives away (SQL, libpq/libpqxx text, file paths, host names,
//   stack frames), in its message and in its ErrorInfo / BadRequest details; "" when nothing.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/auth/auth.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "grpcpp/channel.h"
#include "grpcpp/support/status.h"
#include "tests/reliability/reliability_support.h"
#include "tests/support/test_database.h"

namespace anken::reliability {

// One unary call with raw bytes: `authorization` is the whole header value ("" sends none).
struct RawReply {
  grpc::Status status;
  std::string bytes;  // the response, when OK
};
RawReply RawCall(const std::shared_ptr<grpc::Channel>& channel, const std::string& path,
                 const std::string& request, const std::string& authorization,
                 absl::Duration deadline = absl::Seconds(60));
std::string Bearer(const std::string& token);

// What `status` leaks, or "" (see above).
std::string Leak(const grpc::Status& status);
// Leak() of a non-OK status the tests saw, tallied: when the test binary ends, the tally is
// recorded as the scenario "error-leak scan" (statuses scanned by kind, leaks with examples).
std::string ScanForLeaks(const std::string& kind, const std::string& what,
                         const grpc::Status& status);
// The ErrorInfo reason and the BadRequest field violations' fields of `status`.
std::string ReasonOf(const grpc::Status& status);
std::vector<std::string> ViolatedFields(const grpc::Status& status);

// A process with the role table of what it serves.
struct Served {
  std::string name;  // "customer", ...
  std::unique_ptr<ServiceProcess> process;
  std::shared_ptr<grpc::Channel> channel;
  auth::MethodRoles roles;
  int max_message_bytes = 0;  // the service's default ANKEN_MAX_MESSAGE_BYTES
};

// One unary RPC a process serves.
struct Rpc {
  const Served* served = nullptr;
  std::string path;  // "/anken.customer.v1.CustomerService/CreateCustomer"
  const google::protobuf::MethodDescriptor* method = nullptr;
};

// A partner store and what it can reach.
struct PartnerData {
  int64_t id = 0;
  std::string name;                    // carries the partner's marker (see Marker())
  std::string token;                   // role partner, partner_id = id
  std::vector<int64_t> end_customers;  // three
  // cases[0], cases[1]: in progress, on the report; cases[2]: lost before the period, then
  // reported completed through SubmitCaseUpdate.
  std::vector<int64_t> cases;
  int64_t report_id = 0;
  std::vector<int64_t> lines;  // of the report, one per case on it
  int64_t case_update_id = 0;
};

// A role's token; partners get partner_id "1" unless they are A or B.
std::string RoleToken(auth::Role role, const std::string& partner_id = "");

class SecurityWorld {
 public:
  static absl::StatusOr<SecurityWorld*> Shared();
  ~SecurityWorld();

  const std::vector<std::unique_ptr<Served>>& served() const { return served_; }
  const Served& service(const std::string& name) const;
  // Every unary anken.* RPC of every process, in reflection order.
  const std::vector<Rpc>& rpcs() const { return rpcs_; }

  // Calls `path` with a request in text format; the reply, or its error.
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> Call(const std::string& path,
                                                                  const std::string& text,
                                                                  const std::string& token);
  // A fresh request message of `rpc`'s type parsed from `text`.
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> Request(const Rpc& rpc,
                                                                     const std::string& text) const;
  // A new, empty response message of `rpc`'s type.
  std::unique_ptr<google::protobuf::Message> Response(const Rpc& rpc) const;

  static bool IsCreate(const google::protobuf::MethodDescriptor& method);
  // A valid request (text format) for the create `path`, with fresh rows behind it.
  absl::StatusOr<std::string> CreateRequest(const std::string& path);

  // Rows in every table of the five schemas.
  absl::StatusOr<int64_t> CountRows() const;

  absl::CivilDay today() const { return today_; }
  const PartnerData& a() const { return a_; }
  const PartnerData& b() const { return b_; }
  // Text only partner A's (or B's) data carries: in names of the partner, its end customers
  // and its cases.
  static const char* Marker(bool partner_b) { return partner_b ? "BBMARK" : "AAMARK"; }
  const std::string& admin() const { return admin_; }

  // Fresh rows (ids), made with the admin token.
  absl::StatusOr<int64_t> NewCustomer(const std::string& name);
  absl::StatusOr<int64_t> NewPartner(const std::string& name);
  absl::StatusOr<int64_t> NewCase(int64_t customer_id, const std::string& name,
                                  int64_t partner_id = 0, absl::CivilDay referral_date = {});
  // A unique suffix for names, request ids and keys.
  std::string Unique();

 private:
  SecurityWorld() = default;
  absl::Status Start();
  absl::Status LoadRpcs();
  absl::Status MakePartner(bool partner_b, PartnerData* p);
  absl::Status OpenReports();
  // The id of `partner`'s report in an OpenPeriodResponse; 0 when it has none.
  static int64_t ReportOf(const google::protobuf::Message& opened, int64_t partner);
  // The line ids of a report, as `token` lists them.
  absl::StatusOr<std::vector<int64_t>> LinesOf(int64_t report, const std::string& token);

  std::unique_ptr<anken::testing::ScratchDatabase> db_;
  std::vector<std::unique_ptr<Served>> served_;
  std::vector<Rpc> rpcs_;
  std::map<std::string, std::function<absl::StatusOr<std::string>()>> creates_;
  std::string count_sql_;
  absl::CivilDay today_;
  PartnerData a_, b_;
  std::string admin_;
  int64_t inquiry_id_ = 0;
  int unique_ = 0;
  int past_month_ = 0;
};

// For a test: the shared world, or nullptr after an EXPECT failure saying why.
SecurityWorld* WorldForTest();
// Prints the first 40 failures and how many more there were.
void PrintFailures(const std::vector<std::string>& failures);

// Text-format helpers.
std::string DateText(absl::CivilDay day);
std::string MonthText(absl::CivilMonth month);
std::string Quoted(const std::string& s);  // a text-format string literal
// An int64 field of `m` by dotted path ("report.id"); 0 when unset or not there.
int64_t IntAt(const google::protobuf::Message& m, const std::string& path);

}  // namespace anken::reliability
