#include "common/server/host.h"

#include <signal.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/log/log.h"
#include "common/server/request_check.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/server_builder.h"

namespace anken::server {

ServiceHost::ServiceHost(HostOptions options) : options_(std::move(options)) {}

ServiceHost::~ServiceHost() {
  Shutdown();
  Wait();
}

void ServiceHost::AddService(grpc::Service* service) { services_.push_back(service); }

void ServiceHost::AddInterceptorFactory(
    std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> factory) {
  interceptors_.push_back(std::move(factory));
}

void ServiceHost::SetHealthProbe(std::function<absl::Status()> probe) {
  probe_ = std::move(probe);
}

absl::Status ServiceHost::Start() {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options_.address, grpc::InsecureServerCredentials(), &port_);
  builder.SetMaxReceiveMessageSize(options_.max_message_bytes);
  builder.SetMaxSendMessageSize(options_.max_message_bytes);
  const int keepalive_ms = static_cast<int>(absl::ToInt64Milliseconds(options_.keepalive_time));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, keepalive_ms);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // Let clients ping as often as every 10 s without being told GOAWAY (too_many_pings).
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  // Two processes must not silently share a port (gRPC enables SO_REUSEPORT by default).
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS,
                              std::max(options_.max_idle_threads, 1));
  for (grpc::Service* s : services_) builder.RegisterService(s);
  // First: the interceptors after it must see its INVALID_ARGUMENT, not gRPC's INTERNAL.
  if (options_.request_check) {
    interceptors_.insert(interceptors_.begin(), MakeRequestCheckInterceptorFactory());
  }
  if (!interceptors_.empty()) {
    builder.experimental().SetInterceptorCreators(std::move(interceptors_));
    interceptors_.clear();
  }
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    server_.reset();
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options_.address, " (address in use or invalid)"));
  }
  SetServing(probe_ ? probe_().ok() : true);
  if (probe_) health_thread_ = std::thread([this] { HealthLoop(); });
  log::Info("listening")
      .Str("address", options_.address)
      .Int("port", port_)
      .Bool("serving", serving_.load());
  return absl::OkStatus();
}

void ServiceHost::SetServing(bool serving) {
  bool was = serving_.exchange(serving);
  if (server_ != nullptr) server_->GetHealthCheckService()->SetServingStatus(serving);
  if (was != serving) log::Warn(serving ? "health SERVING" : "health NOT_SERVING");
}

void ServiceHost::HealthLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, absl::ToChronoMilliseconds(options_.health_interval));
    if (stopping_) break;
    lock.unlock();
    absl::Status s = probe_();
    if (!s.ok() && serving_.load()) log::Warn("health probe failed").Str("error", s.ToString());
    lock.lock();
    if (!stopping_) SetServing(s.ok());
  }
}

void ServiceHost::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || server_ == nullptr) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (health_thread_.joinable()) health_thread_.join();
  log::Info("shutting down").Num("grace_seconds", absl::ToDoubleSeconds(options_.shutdown_grace));
  SetServing(false);
  server_->GetHealthCheckService()->Shutdown();
  server_->Shutdown(std::chrono::system_clock::now() +
                    absl::ToChronoMilliseconds(options_.shutdown_grace));
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
  }
  cv_.notify_all();
  log::Info("stopped");
}

void ServiceHost::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  if (server_ == nullptr) return;
  cv_.wait(lock, [this] { return stopped_; });
}

void PrepareServingProcess() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

void BlockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForShutdownSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

}  // namespace anken::server
