#include "tests/reliability/reliability_support.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <mutex>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "tests/reliability/loopback.h"

namespace anken::reliability {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The number after "port": in the host's {"msg":"listening",...} line, 0 when not there yet.
int ListeningPort(const std::string& log) {
  std::istringstream lines(log);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find("\"msg\":\"listening\"") == std::string::npos) continue;
    const std::string key = "\"port\":";
    const size_t at = line.find(key);
    if (at == std::string::npos) continue;
    size_t end = at + key.size();
    while (end < line.size() && line[end] >= '0' && line[end] <= '9') ++end;
    int port = 0;
    if (absl::SimpleAtoi(line.substr(at + key.size(), end - at - key.size()), &port)) return port;
  }
  return 0;
}

void MakeDirs(const std::string& path) {
  std::string sofar;
  for (size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || (path[i] == '/' && i > 0)) {
      sofar = path.substr(0, i);
      if (::mkdir(sofar.c_str(), 0755) != 0 && errno != EEXIST) return;
    }
  }
}

// A JSON string literal (the texts here are ASCII or UTF-8 without control characters other
// than those escaped).
std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::mutex results_mu;
bool results_started = false;

void AppendResult(const std::string& json) {
  std::lock_guard<std::mutex> lock(results_mu);
  const std::string dir = ResultsDir();
  MakeDirs(dir);
  const std::string path = absl::StrCat(dir, "/", program_invocation_short_name, ".jsonl");
  std::ofstream out(path, results_started ? std::ios::app : std::ios::trunc);
  results_started = true;
  out << json << "\n";
}

}  // namespace

std::string Token(auth::Role role, const std::string& subject, const std::string& partner_id) {
  auth::MintOptions o;
  o.subject = subject;
  o.role = role;
  o.partner_id = partner_id;
  o.hs256_secret = kSecret;
  o.ttl = absl::Hours(1);
  absl::StatusOr<std::string> t = auth::MintToken(o);
  if (!t.ok()) {
    std::cerr << "minting a token failed: " << t.status() << "\n";
    std::abort();
  }
  return *t;
}

void Authorize(grpc::ClientContext* ctx, const std::string& token, absl::Duration deadline) {
  ctx->AddMetadata("authorization", absl::StrCat("Bearer ", token));
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + deadline));
}

customer::v1::CreateCustomerRequest CustomerRequest(const std::string& request_id,
                                                    const std::string& name) {
  customer::v1::CreateCustomerRequest req;
  req.set_request_id(request_id);
  req.mutable_customer()->set_name(name);
  req.mutable_customer()->set_kind(customer::v1::CUSTOMER_KIND_CORPORATION);
  req.mutable_customer()->set_is_customer(true);
  return req;
}

std::map<std::string, std::string> ServiceEnv(const std::string& database_url) {
  return {{"ANKEN_DATABASE_URL", database_url},
          {"ANKEN_JWT_SECRET", kSecret},
          {"ANKEN_LISTEN_HOST", "127.0.0.1"},
          {"ANKEN_GRPC_PORT", "0"},
          {"ANKEN_METRICS_PORT", "0"},
          {"ANKEN_HEALTH_INTERVAL", "1s"},
          {"ANKEN_SHUTDOWN_GRACE", "2s"},
          {"ANKEN_LOG_LEVEL", "info"}};
}

absl::Status Migrate(const std::string& bin, const std::map<std::string, std::string>& env) {
  auto run = testing::RunToExit(bin, {"--migrate"}, env, absl::Seconds(120));
  if (!run.ok()) return run.status();
  if (run->first != 0) {
    return absl::InternalError(absl::StrCat(bin, " --migrate exited ", run->first, ": ",
                                            run->second));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ServiceProcess>> ServiceProcess::Start(
    const std::string& bin, const std::map<std::string, std::string>& env) {
  std::unique_ptr<ServiceProcess> p(new ServiceProcess());
  const std::string logs = absl::StrCat(ResultsDir(), "/logs");
  MakeDirs(logs);
  static int counter = 0;
  const std::string base = bin.substr(bin.rfind('/') + 1);
  p->log_path_ = absl::StrCat(logs, "/", program_invocation_short_name, "-", base, "-",
                              ::getpid(), "-", ++counter, ".log");
  std::map<std::string, std::string> full = env;
  full["RELIABILITY_LOG_FILE"] = p->log_path_;
  // exec: the pid is the service's own, so signals reach it and not a shell.
  auto started = testing::Subprocess::Start(
      "/bin/sh", {"-c", "exec \"$0\" >\"$RELIABILITY_LOG_FILE\" 2>&1", bin}, full);
  if (!started.ok()) return started.status();
  p->process_ = std::move(*started);
  const absl::Time end = absl::Now() + absl::Seconds(60);
  while (absl::Now() < end) {
    p->port_ = ListeningPort(ReadFile(p->log_path_));
    if (p->port_ > 0) return p;
    absl::StatusOr<int> exited = p->process_->Wait(absl::ZeroDuration());
    if (exited.ok()) {
      return absl::InternalError(
          absl::StrCat(base, " exited ", *exited, " before listening:\n", p->LogTail()));
    }
    absl::SleepFor(absl::Milliseconds(50));  // pacing of the poll, bounded by `end`
  }
  return absl::DeadlineExceededError(
      absl::StrCat(base, " did not listen within 60 s:\n", p->LogTail()));
}

ServiceProcess::~ServiceProcess() {
  if (process_ != nullptr) (void)Kill9();
}

std::string ServiceProcess::address() const { return absl::StrCat("127.0.0.1:", port_); }

std::shared_ptr<grpc::Channel> ServiceProcess::Channel() const {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetMaxSendMessageSize(64 << 20);
  return grpc::CreateCustomChannel(address(), grpc::InsecureChannelCredentials(), args);
}

absl::StatusOr<int> ServiceProcess::Kill9() {
  process_->Signal(SIGKILL);
  return process_->Wait(absl::Seconds(30));
}

absl::StatusOr<int> ServiceProcess::Stop() {
  process_->Signal(SIGTERM);
  absl::StatusOr<int> code = process_->Wait(absl::Seconds(60));
  if (!code.ok()) return Kill9();
  return code;
}

absl::StatusOr<PeerServices> MigrateAndStartPeers(const std::vector<std::string>& also_migrate,
                                                  std::map<std::string, std::string>* env) {
  std::vector<std::string> bins = {ANKEN_CUSTOMER_BIN, ANKEN_PROJECT_BIN};
  bins.insert(bins.end(), also_migrate.begin(), also_migrate.end());
  for (const std::string& bin : bins) {
    if (absl::Status m = Migrate(bin, *env); !m.ok()) return m;
  }
  PeerServices peers;
  absl::StatusOr<std::unique_ptr<ServiceProcess>> customer =
      ServiceProcess::Start(ANKEN_CUSTOMER_BIN, *env);
  if (!customer.ok()) return customer.status();
  peers.customer = std::move(*customer);
  (*env)["ANKEN_CUSTOMER_ADDR"] = peers.customer->address();
  absl::StatusOr<std::unique_ptr<ServiceProcess>> project =
      ServiceProcess::Start(ANKEN_PROJECT_BIN, *env);
  if (!project.ok()) return project.status();
  peers.project = std::move(*project);
  (*env)["ANKEN_PROJECT_ADDR"] = peers.project->address();
  return peers;
}

std::string ServiceProcess::LogTail(size_t bytes) const {
  const std::string log = ReadFile(log_path_);
  return log.size() <= bytes ? log : log.substr(log.size() - bytes);
}

absl::StatusOr<std::unique_ptr<ReplyHoldingProxy>> ReplyHoldingProxy::Start(int upstream_port) {
  std::unique_ptr<ReplyHoldingProxy> p(new ReplyHoldingProxy());
  p->upstream_port_ = upstream_port;
  absl::StatusOr<LoopbackSocket> listening = ListenOnLoopback(64, "proxy");
  if (!listening.ok()) return listening.status();
  p->listen_fd_ = listening->fd;
  p->port_ = listening->port;
  p->acceptor_ = std::thread([raw = p.get()] { raw->AcceptLoop(); });
  return p;
}

ReplyHoldingProxy::~ReplyHoldingProxy() {
  stop_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& t : threads_) t.join();
  ::close(listen_fd_);
}

std::string ReplyHoldingProxy::address() const { return absl::StrCat("127.0.0.1:", port_); }

void ReplyHoldingProxy::AcceptLoop() {
  while (!stop_) {
    pollfd pfd{listen_fd_, POLLIN, 0};
    if (::poll(&pfd, 1, 100) <= 0) continue;
    const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    const int server = ConnectToLoopback(upstream_port_);
    if (server < 0) {
      ::close(client);
      continue;
    }
    std::lock_guard<std::mutex> lock(mu_);
    threads_.emplace_back([this, client, server] { Pump(client, server); });
  }
}

void ReplyHoldingProxy::Pump(int client, int server) {
  char buf[16384];
  bool open = true;
  while (open && !stop_) {
    pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
    if (::poll(fds, 2, 100) <= 0) continue;
    for (int i = 0; i < 2 && open; ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const ssize_t n = ::read(fds[i].fd, buf, sizeof(buf));
      if (n <= 0) {
        open = false;
        break;
      }
      if (i == 1 && hold_) continue;  // the server's bytes, dropped
      const int to = i == 0 ? server : client;
      for (ssize_t off = 0; off < n;) {
        const ssize_t w = ::send(to, buf + off, n - off, MSG_NOSIGNAL);
        if (w <= 0) {
          open = false;
          break;
        }
        off += w;
      }
    }
  }
  ::close(client);
  ::close(server);
}

std::string ResultsDir() {
  const char* build = std::getenv("ANKEN_BUILD_DIR");
  if (build != nullptr && *build != '\0') return absl::StrCat(build, "/reliability");
  return ANKEN_RELIABILITY_DIR;
}

bool Check(const std::string& scenario, const std::string& what, bool held) {
  std::cout << scenario << ": " << what << ": " << (held ? "HELD" : "FAILED") << std::endl;
  AppendResult(absl::StrCat("{\"kind\":\"check\",\"scenario\":", Quote(scenario),
                            ",\"what\":", Quote(what), ",\"held\":", held ? "true" : "false",
                            "}"));
  return held;
}

void RecordScenario(const std::string& scenario, bool held, const std::string& figures) {
  std::cout << scenario << ": " << figures << ": " << (held ? "HELD" : "FAILED") << std::endl;
  AppendResult(absl::StrCat("{\"kind\":\"scenario\",\"scenario\":", Quote(scenario),
                            ",\"figures\":", Quote(figures),
                            ",\"held\":", held ? "true" : "false", "}"));
}

bool LeaksInternals(const std::string& message) {
  for (const char* needle : {"SELECT", "INSERT", "UPDATE ", "DELETE FROM", "pqxx", "ERROR:",
                             "0x", "libpq", "postgresql://", ".cc:", "terminate called"}) {
    if (absl::StrContains(message, needle)) return true;
  }
  return false;
}

bool LongVariant() {
  const char* v = std::getenv("ANKEN_RELIABILITY_LONG");
  return v != nullptr && std::string(v) == "1";
}

}  // namespace anken::reliability
