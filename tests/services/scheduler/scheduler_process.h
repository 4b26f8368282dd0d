#pragma once
// Real anken-scheduler processes for end-to-end tests: a shared test clock file the test moves
// (the processes run with ANKEN_TEST_CLOCK_FILE + ANKEN_ALLOW_TEST_CLOCK=1), a migrated
// scratch database, and helpers to start a replica, learn its replica id and gRPC port from its
// log, call it with a token, and wait for a condition (polling with a bound, never sleeping
// blindly).

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <unistd.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "anken/scheduler/v1/scheduler_service.grpc.pb.h"
#include "common/auth/auth.h"
#include "common/status/errors.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/create_channel.h"
#include "services/scheduler/schedule.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_database.h"

namespace anken::scheduler::testing {

inline constexpr char kProcessJwtSecret[] = "scheduler-e2e-secret-0123456789abcdef-0123";

// The value of `key` in a JSON log line, or "" when the line is not JSON or lacks it.
inline std::string LogField(const std::string& line, const std::string& key) {
  google::protobuf::Struct s;
  if (!google::protobuf::util::JsonStringToMessage(line, &s).ok()) return "";
  auto it = s.fields().find(key);
  if (it == s.fields().end()) return "";
  if (it->second.has_number_value()) return absl::StrCat(it->second.number_value());
  return it->second.string_value();
}

// Polls `condition` until it holds or `timeout` passes (real time).
inline bool WaitUntil(const std::function<bool()>& condition,
                      absl::Duration timeout = absl::Seconds(30)) {
  const absl::Time end = absl::Now() + timeout;
  while (absl::Now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

// The clock file every replica of a test reads.
class TestClockFile {
 public:
  TestClockFile() {
    char tmpl[] = "/tmp/anken-sched-clock-XXXXXX";
    const int fd = ::mkstemp(tmpl);
    EXPECT_GE(fd, 0);
    if (fd >= 0) ::close(fd);
    path_ = tmpl;
  }
  ~TestClockFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

  // Writes atomically (temporary file, rename), so a reader never sees half a time.
  void Set(absl::Time t) {
    now_ = t;
    const std::string tmp = path_ + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << absl::FormatTime(absl::RFC3339_full, t, TokyoZone()) << "\n";
    }
    ASSERT_EQ(std::rename(tmp.c_str(), path_.c_str()), 0);
  }
  void SetTokyo(int y, int m, int d, int hh, int mm, int ss = 0) {
    Set(SlotInstant(absl::CivilMinute(y, m, d, hh, mm)) + absl::Seconds(ss));
  }
  void Advance(absl::Duration d) { Set(now_ + d); }
  absl::Time now() const { return now_; }

 private:
  std::string path_;
  absl::Time now_;
};

// Keeps reading a child's output on a thread of its own, so that the child never blocks
// writing its log into a full pipe (a replica logs every call, and tests poll often). Nothing
// else may touch the Subprocess while a Drainer runs.
class Drainer {
 public:
  explicit Drainer(anken::testing::Subprocess* process)
      : process_(process), thread_([this] { Loop(); }) {}
  ~Drainer() {
    stop_ = true;
    thread_.join();
  }

 private:
  void Loop() {
    while (!stop_) {
      auto line = process_->WaitForLine([](const std::string&) { return false; },
                                        absl::Milliseconds(50));
      if (line.status().code() == absl::StatusCode::kNotFound) return;  // output closed
    }
  }

  anken::testing::Subprocess* process_;
  std::atomic<bool> stop_{false};
  std::thread thread_;  // last: starts once the members above exist
};

// One running replica.
struct Replica {
  std::unique_ptr<anken::testing::Subprocess> process;
  std::unique_ptr<Drainer> drainer;  // destroyed before `process`
  std::string id;  // the owner recorded in runs
  int port = 0;
  std::unique_ptr<v1::SchedulerService::Stub> stub;

  // Stops draining and hands the process to the test (to signal it, wait, read its output).
  anken::testing::Subprocess& Quiet() {
    drainer.reset();
    return *process;
  }
};

class SchedulerProcessTest : public ::testing::Test {
 protected:
  // The environment of every replica; tests add to it.
  std::map<std::string, std::string> BaseEnv() const {
    return {{"ANKEN_DATABASE_URL", db_.url()},
            {"ANKEN_JWT_SECRET", kProcessJwtSecret},
            {"ANKEN_LISTEN_HOST", "127.0.0.1"},
            {"ANKEN_GRPC_PORT", "0"},
            {"ANKEN_METRICS_PORT", "0"},
            {"ANKEN_HEALTH_INTERVAL", "1s"},
            {"ANKEN_SHUTDOWN_GRACE", "2s"},
            {"ANKEN_DB_POOL_SIZE", "4"},
            {"ANKEN_SCHEDULER_TICK", "50ms"},
            {"ANKEN_SCHEDULER_LEASE", "10s"},
            {"ANKEN_TEST_CLOCK_FILE", clock_.path()},
            {"ANKEN_ALLOW_TEST_CLOCK", "1"}};
  }

  void Migrate(const std::map<std::string, std::string>& env) {
    auto m = anken::testing::RunToExit(ANKEN_SCHEDULER_BIN, {"--migrate"}, env);
    ASSERT_TRUE(m.ok()) << m.status();
    ASSERT_EQ(m->first, 0) << m->second;
  }

  // Starts a replica and waits until it serves.
  void Start(const std::map<std::string, std::string>& env, Replica* out) {
    auto p = anken::testing::Subprocess::Start(ANKEN_SCHEDULER_BIN, {}, env);
    ASSERT_TRUE(p.ok()) << p.status();
    out->process = std::move(*p);
    auto started = out->process->WaitForLine(
        [](const std::string& l) { return LogField(l, "msg") == "scheduler started"; },
        absl::Seconds(30));
    ASSERT_TRUE(started.ok()) << started.status() << "\n" << out->process->output();
    out->id = LogField(*started, "replica");
    ASSERT_FALSE(out->id.empty());
    auto listening = out->process->WaitForLine(
        [](const std::string& l) { return LogField(l, "msg") == "listening"; }, absl::Seconds(30));
    ASSERT_TRUE(listening.ok()) << listening.status() << "\n" << out->process->output();
    ASSERT_TRUE(absl::SimpleAtoi(LogField(*listening, "port"), &out->port));
    out->stub = v1::SchedulerService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", out->port), grpc::InsecureChannelCredentials()));
    out->drainer = std::make_unique<Drainer>(out->process.get());
  }

  static std::string Token(auth::Role role, const std::string& subject) {
    auth::MintOptions o;
    o.subject = subject;
    o.role = role;
    o.hs256_secret = kProcessJwtSecret;
    auto t = auth::MintToken(o);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.value_or("");
  }

  template <typename Req, typename Resp>
  static absl::StatusOr<Resp> Call(
      const Replica& r,
      grpc::Status (v1::SchedulerService::Stub::*rpc)(grpc::ClientContext*, const Req&, Resp*),
      const Req& request, const std::string& token) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + token);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    Resp response;
    grpc::Status s = (r.stub.get()->*rpc)(&ctx, request, &response);
    if (!s.ok()) return FromGrpcStatus(s);
    return response;
  }

  // The single integer `sql` selects (one connection, reused: tests poll with it).
  int64_t Count(const std::string& sql) {
    if (conn_ == nullptr) conn_ = std::make_unique<pqxx::connection>(db_.url());
    pqxx::nontransaction tx(*conn_);
    return tx.exec1(sql)[0].as<int64_t>();
  }

  void TearDown() override { conn_.reset(); }

  anken::testing::ScratchDatabase db_{"schedproc"};
  TestClockFile clock_;
  std::unique_ptr<pqxx::connection> conn_;
};

}  // namespace anken::scheduler::testing
