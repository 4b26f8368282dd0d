#pragma once
// The RPCs the load generator can drive, each with a generator of valid requests. A scenario
// makes per-slot Call objects; a Call issues one RPC at a time on the callback API (the
// closed loop: a slot starts its next call from the completion of the previous one).

#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"

namespace anken::bench {

// What the requests are generated from (bench/run passes the seeded ranges).
struct RequestSpace {
  int64_t id_min = 1;            // Get*: ids drawn uniformly from [id_min, id_max]
  int64_t id_max = 1;
  int64_t customer_id_min = 1;   // CreateProject: an ACTIVE customer drawn from
  int64_t customer_id_max = 1;   //   [customer_id_min, customer_id_max]
  int page_size = 50;            // List*
  std::string request_id_prefix; // Create*: request_id = prefix + "-" + slot + "-" + n
  std::string as_of;             // RunRenewals: YYYY-MM-DD; OpenPeriod: its month
  std::string content;           // UploadReportXlsx: the file (report id: id_min)
  std::string save_to;           // DownloadReportXlsx: where the file goes (report id: id_min)
};

class Call {
 public:
  virtual ~Call() = default;
  // Fills a fresh request and starts the RPC on `ctx`; `done` runs once, on a gRPC thread,
  // with the status and the number of items the reply carried (rows, entries).
  virtual void Start(grpc::ClientContext* ctx, std::mt19937_64& rng,
                     std::function<void(const grpc::Status&, int64_t items)> done) = 0;
};

struct Scenario {
  std::string name;
  std::string full_method;  // for messages
  // One Call per slot; slot numbers make Create request_ids unique per run.
  std::function<std::unique_ptr<Call>(std::shared_ptr<grpc::Channel>, const RequestSpace&,
                                      int slot)>
      make_call;
};

// Every scenario, in the table's order.
const std::vector<Scenario>& Scenarios();
// By name; nullptr when unknown.
const Scenario* FindScenario(absl::string_view name);

}  // namespace anken::bench
