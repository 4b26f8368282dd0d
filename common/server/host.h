#pragma once
// ServiceHost: the gRPC server every Anken service runs, on the synchronous API (libpqxx
// calls block; the sync server's thread pool is the simple, correct place for them).
//
// It adds grpc.health.v1 (overall status NOT_SERVING while the health probe — the database
// ping — fails, re-checked every interval), server reflection, the message size limit,
// keepalive, the interceptors it is given (call log first), and a graceful shutdown: on
// Shutdown() health turns NOT_SERVING, new calls are refused, and calls in flight get until
// the grace deadline to finish before they are cancelled.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "grpcpp/server.h"
#include "grpcpp/support/server_interceptor.h"

namespace anken::server {

struct HostOptions {
  std::string service_name;           // for logs, e.g. "customer"
  std::string address = "127.0.0.1:0";  // host:port; port 0 picks a free one
  int max_message_bytes = 16 << 20;
  absl::Duration keepalive_time = absl::Minutes(1);
  absl::Duration shutdown_grace = absl::Seconds(10);
  absl::Duration health_interval = absl::Seconds(5);
  // Idle threads the synchronous server keeps waiting for calls. gRPC's default (2) makes a
  // thread whose call ends exit whenever two others wait, and the next call start a new one:
  // with handlers that block on the database, that was a thread created and destroyed for
  // every few calls under load. Threads are still made only when calls need them.
  int max_idle_threads = 64;
  // The request check (request_check.h): every service runs it, first. Off only for the
  // benchmark's bare Echo, the yardstick without any interceptor.
  bool request_check = true;
};

class ServiceHost {
 public:
  explicit ServiceHost(HostOptions options);
  ~ServiceHost();
  ServiceHost(const ServiceHost&) = delete;
  ServiceHost& operator=(const ServiceHost&) = delete;

  // Before Start(). The services must outlive the host.
  void AddService(grpc::Service* service);
  void AddInterceptorFactory(
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> factory);
  // Called every health_interval; a non-OK result sets health NOT_SERVING until it passes.
  void SetHealthProbe(std::function<absl::Status()> probe);

  // Binds and starts serving; UNAVAILABLE when the address cannot be bound.
  absl::Status Start();
  // The bound port (after Start()).
  int port() const { return port_; }
  bool serving() const { return serving_.load(); }

  // Graceful stop; idempotent and safe from any thread.
  void Shutdown();
  // Blocks until Shutdown() has completed.
  void Wait();

 private:
  void HealthLoop();
  void SetServing(bool serving);

  HostOptions options_;
  std::vector<grpc::Service*> services_;
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors_;
  std::function<absl::Status()> probe_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::atomic<bool> serving_{false};

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool stopped_ = false;
  std::thread health_thread_;
};

// Blocks SIGTERM and SIGINT in the calling thread and every thread it creates afterwards.
// Call first thing in main(), before any thread exists, then WaitForShutdownSignal().
void BlockShutdownSignals();
// Process-wide settings of a serving binary (ServiceMain, the bench's Echo servers); call
// first thing in main(). It turns off Abseil's mutex deadlock detection, which Debian's
// Abseil build leaves on: it records every lock order of every absl::Mutex (gRPC's own
// included) in a global graph, with a stack trace, on every acquisition — a debugging aid
// that cost the serving path a large share of its CPU (bench/run's profile). Tests leave it
// on, where it catches lock-order bugs.
void PrepareServingProcess();
// Waits for SIGTERM or SIGINT (which must be blocked) and returns its number.
int WaitForShutdownSignal();

}  // namespace anken::server
