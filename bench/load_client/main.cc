// anken-load: a closed-loop gRPC load generator for the suite's RPCs (bench/run drives it).
//
//   anken-load --scenario=GetCustomer --target=127.0.0.1:50051 --concurrency=8
//              --duration=5s --warmup=1s --id_max=10000 --json_out=results.jsonl
//
// N slots each keep exactly one call in flight on gRPC's callback API: a slot starts its next
// call from the completion of the previous one, so the load adapts to the server (closed
// loop) and the latency is what one caller sees. Calls started during the warm-up are not
// counted. Prints one human line (and, with --json_out, appends one JSON line). Exit codes:
// 0 all calls OK, 1 some call failed, 2 bad usage, 3 the target is unreachable.

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/load_client/scenarios.h"
#include "bench/load_client/stats.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

ABSL_FLAG(std::string, scenario, "", "which RPC to drive (--list shows them)");
ABSL_FLAG(bool, list, false, "list the scenarios and exit");
ABSL_FLAG(std::string, target, "127.0.0.1:50051", "host:port of the server");
ABSL_FLAG(int, concurrency, 8, "calls in flight (slots)");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(5), "measured time after the warm-up");
ABSL_FLAG(absl::Duration, warmup, absl::Seconds(1), "time whose calls are not counted");
ABSL_FLAG(int64_t, requests, 0, "stop after this many calls in all (0: run for --duration)");
ABSL_FLAG(absl::Duration, deadline, absl::Seconds(30), "deadline of each call");
ABSL_FLAG(int, channels, 1, "gRPC channels (connections) the slots are spread over");
ABSL_FLAG(std::string, token, "", "bearer token (default: $ANKEN_TOKEN); empty sends none");
ABSL_FLAG(int64_t, id_min, 1, "Get*: smallest id drawn");
ABSL_FLAG(int64_t, id_max, 1, "Get*: largest id drawn");
ABSL_FLAG(int64_t, customer_id_min, 1, "CreateProject: smallest customer id drawn");
ABSL_FLAG(int64_t, customer_id_max, 1, "CreateProject: largest customer id drawn (ACTIVE ones)");
ABSL_FLAG(int, page_size, 50, "List*: page size");
ABSL_FLAG(std::string, request_id_prefix, "", "Create*: request_id prefix (default: unique)");
ABSL_FLAG(std::string, as_of, "", "RunRenewals: the run's day; OpenPeriod: a day of its month (YYYY-MM-DD)");
ABSL_FLAG(std::string, content_file, "", "UploadReportXlsx: the file to upload (report: --id_min)");
ABSL_FLAG(std::string, save_to, "", "DownloadReportXlsx: where to write the file (report: --id_min)");
ABSL_FLAG(uint64_t, seed, 1, "random seed of the request generators");
ABSL_FLAG(std::string, label, "", "free text copied into the JSON line");
ABSL_FLAG(std::string, json_out, "", "append the JSON line to this file ('-': stdout)");

namespace anken::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

class Runner {
 public:
  struct Options {
    int concurrency = 1;
    std::string token;
    absl::Duration deadline;
    SteadyClock::time_point warmup_end;
    SteadyClock::time_point stop_at;
    int64_t max_requests = 0;
  };

  Runner(const Scenario& scenario, const std::vector<std::shared_ptr<grpc::Channel>>& channels,
         const RequestSpace& space, Options options)
      : options_(std::move(options)) {
    for (int i = 0; i < options_.concurrency; ++i) {
      auto slot = std::make_unique<Slot>();
      slot->index = i;
      slot->call = scenario.make_call(channels[static_cast<size_t>(i) % channels.size()], space, i);
      slot->rng.seed(absl::GetFlag(FLAGS_seed) * 1000003u + static_cast<uint64_t>(i));
      slots_.push_back(std::move(slot));
    }
  }

  // Runs until every slot has stopped; returns the merged result.
  RunResult Run() {
    active_ = static_cast<int>(slots_.size());
    for (auto& s : slots_) Issue(*s);
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return active_ == 0; });
    }
    RunResult r;
    r.concurrency = options_.concurrency;
    std::vector<uint32_t> all;
    SteadyClock::time_point last = options_.warmup_end;
    for (auto& s : slots_) {
      all.insert(all.end(), s->latencies.begin(), s->latencies.end());
      r.ok += s->ok;
      r.items += s->items;
      for (const auto& [code, n] : s->errors) r.errors[code] += n;
      for (const auto& [code, msg] : s->first_message) first_message_.emplace(code, msg);
      if (s->last_done > last) last = s->last_done;
    }
    r.seconds = std::chrono::duration<double>(last - options_.warmup_end).count();
    r.latency = Summarise(all);
    return r;
  }

  const std::map<std::string, std::string>& first_messages() const { return first_message_; }

 private:
  struct Slot {
    int index = 0;
    std::unique_ptr<Call> call;
    std::unique_ptr<grpc::ClientContext> ctx;
    std::mt19937_64 rng;
    SteadyClock::time_point started;
    SteadyClock::time_point last_done;
    std::vector<uint32_t> latencies;
    int64_t ok = 0;
    int64_t items = 0;
    std::map<std::string, int64_t> errors;
    std::map<std::string, std::string> first_message;
  };

  void Issue(Slot& s) {
    const SteadyClock::time_point now = SteadyClock::now();
    const bool out_of_calls =
        options_.max_requests > 0 && issued_.fetch_add(1) >= options_.max_requests;
    if (now >= options_.stop_at || out_of_calls) {
      std::lock_guard<std::mutex> lock(mu_);
      if (--active_ == 0) cv_.notify_all();
      return;
    }
    s.ctx = std::make_unique<grpc::ClientContext>();
    if (!options_.token.empty()) s.ctx->AddMetadata("authorization", "Bearer " + options_.token);
    s.ctx->set_deadline(absl::ToChronoTime(absl::Now() + options_.deadline));
    s.started = SteadyClock::now();
    s.call->Start(s.ctx.get(), s.rng,
                  [this, &s](const grpc::Status& status, int64_t items) { Done(s, status, items); });
  }

  void Done(Slot& s, const grpc::Status& status, int64_t items) {
    const SteadyClock::time_point end = SteadyClock::now();
    if (s.started >= options_.warmup_end) {
      const auto us = std::chrono::duration_cast<std::chrono::microseconds>(end - s.started).count();
      s.latencies.push_back(static_cast<uint32_t>(std::min<int64_t>(us, UINT32_MAX)));
      s.last_done = end;
      if (status.ok()) {
        ++s.ok;
        s.items += items;
      } else {
        const std::string code(
            absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())));
        ++s.errors[code];
        s.first_message.emplace(code, status.error_message());
      }
    }
    Issue(s);
  }

  Options options_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::atomic<int64_t> issued_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  int active_ = 0;
  std::map<std::string, std::string> first_message_;
};

int Main(int argc, char** argv) {
  // As the servers do (server::PrepareServingProcess): Debian's Abseil checks every lock of
  // every absl::Mutex (gRPC's own) for deadlock cycles, and the load generator shares the
  // cores with what it measures.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::SetProgramUsageMessage("closed-loop gRPC load generator (bench/run drives it; README: Performance)");
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_list)) {
    for (const Scenario& s : Scenarios()) std::cout << s.name << "\t" << s.full_method << "\n";
    return 0;
  }
  const Scenario* scenario = FindScenario(absl::GetFlag(FLAGS_scenario));
  if (scenario == nullptr) {
    std::cerr << "anken-load: unknown --scenario '" << absl::GetFlag(FLAGS_scenario)
              << "' (--list shows them)\n";
    return 2;
  }
  const int concurrency = absl::GetFlag(FLAGS_concurrency);
  const int channel_count = absl::GetFlag(FLAGS_channels);
  if (concurrency < 1 || channel_count < 1) {
    std::cerr << "anken-load: --concurrency and --channels must be at least 1\n";
    return 2;
  }
  std::string token = absl::GetFlag(FLAGS_token);
  if (token.empty() && std::getenv("ANKEN_TOKEN") != nullptr) token = std::getenv("ANKEN_TOKEN");

  RequestSpace space;
  space.id_min = absl::GetFlag(FLAGS_id_min);
  space.id_max = absl::GetFlag(FLAGS_id_max);
  space.customer_id_min = absl::GetFlag(FLAGS_customer_id_min);
  space.customer_id_max = absl::GetFlag(FLAGS_customer_id_max);
  space.page_size = absl::GetFlag(FLAGS_page_size);
  space.as_of = absl::GetFlag(FLAGS_as_of);
  space.request_id_prefix = absl::GetFlag(FLAGS_request_id_prefix);
  space.save_to = absl::GetFlag(FLAGS_save_to);
  if (const std::string path = absl::GetFlag(FLAGS_content_file); !path.empty()) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      std::cerr << "anken-load: cannot read --content_file " << path << "\n";
      return 2;
    }
    space.content.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  if (space.request_id_prefix.empty()) {
    space.request_id_prefix =
        absl::StrCat("bench-", getpid(), "-", absl::ToUnixMillis(absl::Now()));
  }

  const std::string target = absl::GetFlag(FLAGS_target);
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < channel_count; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("anken.bench.channel", i);  // distinct arguments: a connection of its own
    args.SetMaxReceiveMessageSize(64 << 20);
    auto channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
    if (!channel->WaitForConnected(absl::ToChronoTime(absl::Now() + absl::Seconds(10)))) {
      std::cerr << "anken-load: cannot connect to " << target << "\n";
      return 3;
    }
    channels.push_back(std::move(channel));
  }

  Runner::Options options;
  options.concurrency = concurrency;
  options.token = token;
  options.deadline = absl::GetFlag(FLAGS_deadline);
  options.max_requests = absl::GetFlag(FLAGS_requests);
  const SteadyClock::time_point start = SteadyClock::now();
  options.warmup_end = start + absl::ToChronoNanoseconds(absl::GetFlag(FLAGS_warmup));
  options.stop_at = options.max_requests > 0
                        ? SteadyClock::time_point::max()
                        : options.warmup_end + absl::ToChronoNanoseconds(absl::GetFlag(FLAGS_duration));
  Runner runner(*scenario, channels, space, options);
  RunResult result = runner.Run();
  result.scenario = scenario->name;
  result.target = target;
  result.label = absl::GetFlag(FLAGS_label);

  std::cout << ToHumanLine(result) << "\n";
  for (const auto& [code, message] : runner.first_messages()) {
    std::cout << "  first " << code << ": " << message << "\n";
  }
  const std::string json_out = absl::GetFlag(FLAGS_json_out);
  if (json_out == "-") {
    std::cout << ToJsonLine(result) << "\n";
  } else if (!json_out.empty()) {
    std::ofstream out(json_out, std::ios::app);
    out << ToJsonLine(result) << "\n";
    if (!out) {
      std::cerr << "anken-load: cannot append to " << json_out << "\n";
      return 2;
    }
  }
  return result.error_count() > 0 || result.ok == 0 ? 1 : 0;
}

}  // namespace
}  // namespace anken::bench

int main(int argc, char** argv) { return anken::bench::Main(argc, argv); }
