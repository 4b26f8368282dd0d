#include "tests/reliability/fault_support.h"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace anken::reliability {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<std::string> ListDir(const std::string& path) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(path.c_str())) {
    while (dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name != "." && name != "..") out.push_back(name);
    }
    ::closedir(d);
  }
  return out;
}

// The port of a /proc/net/tcp address ("0100007F:C350"); -1 when malformed.
int HexPort(absl::string_view address) {
  const size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos) return -1;
  int port = 0;
  for (char c : address.substr(colon + 1)) {
    int digit = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                       : -1;
    if (digit < 0) return -1;
    port = port * 16 + digit;
  }
  return port;
}

// The inode of the socket local:client_port -> remote:server_port, or "" when not listed.
std::string SocketInode(int client_port, int server_port) {
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::istringstream lines(ReadFile(table));
    std::string line;
    std::getline(lines, line);  // the header
    while (std::getline(lines, line)) {
      std::vector<absl::string_view> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
      if (f.size() < 10) continue;
      if (HexPort(f[1]) == client_port && HexPort(f[2]) == server_port && f[9] != "0") {
        return std::string(f[9]);
      }
    }
  }
  return "";
}

// The parent of `pid` from /proc/<pid>/status, or -1.
pid_t ParentOf(pid_t pid) {
  std::istringstream lines(ReadFile(absl::StrCat("/proc/", pid, "/status")));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("PPid:", 0) != 0) continue;
    int ppid = -1;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(5)), &ppid)) return ppid;
  }
  return -1;
}

absl::Status RequireChild(pid_t pid) {
  if (pid <= 1 || pid == ::getpid() || ParentOf(pid) != ::getpid()) {
    return absl::FailedPreconditionError(
        absl::StrCat("pid ", pid, " is not a child of this test; not signalling it"));
  }
  return absl::OkStatus();
}

absl::Status Send(pid_t pid, int sig) {
  if (absl::Status s = RequireChild(pid); !s.ok()) return s;
  if (::kill(pid, sig) != 0) {
    return absl::InternalError(absl::StrCat("kill(", pid, ", ", sig, "): errno ", errno));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<pid_t> LoopbackClientPid(int client_port, int server_port) {
  const std::string inode = SocketInode(client_port, server_port);
  if (inode.empty()) {
    return absl::NotFoundError(absl::StrCat("no socket 127.0.0.1:", client_port,
                                            " -> :", server_port, " in /proc/net/tcp"));
  }
  const std::string target = absl::StrCat("socket:[", inode, "]");
  for (const std::string& entry : ListDir("/proc")) {
    int pid = 0;
    if (!absl::SimpleAtoi(entry, &pid) || pid == ::getpid()) continue;
    const std::string fds = absl::StrCat("/proc/", pid, "/fd");
    for (const std::string& fd : ListDir(fds)) {
      char link[128];
      const ssize_t n = ::readlink(absl::StrCat(fds, "/", fd).c_str(), link, sizeof(link) - 1);
      if (n > 0 && std::string(link, n) == target) return static_cast<pid_t>(pid);
    }
  }
  return absl::NotFoundError(absl::StrCat("no process holds ", target));
}

int PeerPort(const std::string& grpc_peer) {
  const size_t colon = grpc_peer.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(grpc_peer.substr(colon + 1), &port)) {
    return 0;
  }
  return port;
}

bool IsStopped(pid_t pid) {
  const std::string tasks = absl::StrCat("/proc/", pid, "/task");
  const std::vector<std::string> ids = ListDir(tasks);
  if (ids.empty()) return false;
  for (const std::string& tid : ids) {
    const std::string stat = ReadFile(absl::StrCat(tasks, "/", tid, "/stat"));
    // "<tid> (<comm>) <state> ...": the command may hold spaces and parentheses.
    const size_t close = stat.rfind(')');
    if (close == std::string::npos || close + 2 >= stat.size()) continue;  // the thread ended
    const char state = stat[close + 2];
    if (state != 'T' && state != 't' && state != 'Z' && state != 'X') return false;
  }
  return true;
}

absl::Status StopProcess(pid_t pid, absl::Duration timeout) {
  if (absl::Status s = Send(pid, SIGSTOP); !s.ok()) return s;
  // The group stop reaches every thread within microseconds; this waits for it to be visible.
  const absl::Time end = absl::Now() + timeout;
  while (!IsStopped(pid)) {
    if (absl::Now() > end) {
      return absl::DeadlineExceededError(absl::StrCat("pid ", pid, " did not stop"));
    }
    std::this_thread::yield();
  }
  return absl::OkStatus();
}

absl::Status ContinueProcess(pid_t pid) { return Send(pid, SIGCONT); }

absl::Status KillProcess(pid_t pid) { return Send(pid, SIGKILL); }

pid_t ReplicaPid(const std::string& replica_id) {
  std::vector<std::string> parts = absl::StrSplit(replica_id, '/');
  int pid = 0;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[1], &pid)) return 0;
  return static_cast<pid_t>(pid);
}

std::string QueryText(pqxx::connection& conn, const std::string& sql) {
  pqxx::nontransaction tx(conn);
  pqxx::result r = tx.exec(sql);
  if (r.empty() || r[0][0].is_null()) return "";
  return r[0][0].as<std::string>();
}

int64_t QueryInt(pqxx::connection& conn, const std::string& sql) {
  int64_t n = -1;
  return absl::SimpleAtoi(QueryText(conn, sql), &n) ? n : -1;
}

}  // namespace anken::reliability
