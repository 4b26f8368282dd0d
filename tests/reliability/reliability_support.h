#pragma once
// Shared by the reliability suite (tests/reliability): service binaries as real child
// processes on loopback, tokens for them, and the suite's record of what was tried and what
// held.
//
// Contract:
// - ServiceProcess runs a binary with its output sent to a log file (never a pipe, so a busy
//   service can never block on a full pipe while a test is not reading), learns its gRPC port
//   from the "listening" log line, and kills it (SIGKILL) when destroyed.
// - Check() prints one line "<scenario>: <what>: HELD|FAILED", appends it as a JSON line to
//   the results file of this test binary (ResultsDir()/<binary>.jsonl, truncated at the first
//   record of a run) and returns `held` so the caller can also EXPECT it. RecordScenario()
//   writes the scenario's own line with its figures; tests/reliability/summary reads both.

#include <sys/types.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "anken/customer/v1/customer_service.pb.h"
#include "common/auth/auth.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "tests/support/subprocess.h"

namespace anken::reliability {

// The HS256 secret every process of the suite shares.
inline constexpr char kSecret[] = "anken-reliability-secret-0123456789abcdef";

// A token signed with kSecret (valid for an hour); partner_id only for Role::kPartner.
std::string Token(auth::Role role, const std::string& subject = "reliability",
                  const std::string& partner_id = "");

// Adds the bearer token and a deadline (generous: the machine may be heavily loaded).
void Authorize(grpc::ClientContext* ctx, const std::string& token,
               absl::Duration deadline = absl::Seconds(120));

// A valid CreateCustomer request for a corporation named `name` with the customer role.
customer::v1::CreateCustomerRequest CustomerRequest(const std::string& request_id,
                                                    const std::string& name);

// The environment every service gets: database, secret, loopback, any free ports, a 1 s
// health interval.
std::map<std::string, std::string> ServiceEnv(const std::string& database_url);

// Runs `bin --migrate` with `env` (bounded); OK when it exits 0.
absl::Status Migrate(const std::string& bin, const std::map<std::string, std::string>& env);

class ServiceProcess {
 public:
  // Starts `bin` with `env` and waits (up to 60 s) until it listens.
  static absl::StatusOr<std::unique_ptr<ServiceProcess>> Start(
      const std::string& bin, const std::map<std::string, std::string>& env);
  ~ServiceProcess();

  int port() const { return port_; }
  std::string address() const;
  // A new channel to the process (insecure, loopback).
  std::shared_ptr<grpc::Channel> Channel() const;
  // SIGKILL and reap; returns the exit code (128 + 9).
  absl::StatusOr<int> Kill9();
  // SIGTERM and reap (bounded); returns the exit code.
  absl::StatusOr<int> Stop();
  // The last `bytes` of the process's log, for failure messages.
  std::string LogTail(size_t bytes = 4000) const;

 private:
  ServiceProcess() = default;

  std::unique_ptr<testing::Subprocess> process_;
  std::string log_path_;
  int port_ = 0;
};

// The customer and project services, the peers a billing or report scenario needs.
struct PeerServices {
  std::unique_ptr<ServiceProcess> customer;
  std::unique_ptr<ServiceProcess> project;
};

// Migrates the customer and project services and then each binary of `also_migrate` into
// `env`'s database, starts customer and then project (which looks customers up), and records
// their addresses in `env` (ANKEN_CUSTOMER_ADDR, ANKEN_PROJECT_ADDR) for what starts next.
absl::StatusOr<PeerServices> MigrateAndStartPeers(const std::vector<std::string>& also_migrate,
                                                  std::map<std::string, std::string>* env);

// A loopback TCP proxy in front of a service, for faults between client and server. It
// forwards both ways until HoldReplies(); from then on whatever the server sends is read and
// dropped, so a call can be committed by the server while its reply never reaches the client.
// When either side closes, the other is closed too. Stops (and joins) when destroyed.
class ReplyHoldingProxy {
 public:
  static absl::StatusOr<std::unique_ptr<ReplyHoldingProxy>> Start(int upstream_port);
  ~ReplyHoldingProxy();
  int port() const { return port_; }
  std::string address() const;
  void HoldReplies() { hold_ = true; }

 private:
  ReplyHoldingProxy() = default;
  void AcceptLoop();
  void Pump(int client, int server);

  int listen_fd_ = -1;
  int port_ = 0;
  int upstream_port_ = 0;
  std::atomic<bool> hold_{false};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

// Where results go: $ANKEN_BUILD_DIR/reliability when set, else the build tree's folder
// compiled in (ANKEN_RELIABILITY_DIR).
std::string ResultsDir();

bool Check(const std::string& scenario, const std::string& what, bool held);

// `figures` is a short free text ("50 calls, 1 row, 50 same id").
void RecordScenario(const std::string& scenario, bool held, const std::string& figures);

// True when `message` looks like it leaks internals: SQL, libpqxx/libpq text, addresses.
bool LeaksInternals(const std::string& message);

// True when ANKEN_RELIABILITY_LONG=1 (the long variants).
bool LongVariant();

}  // namespace anken::reliability
