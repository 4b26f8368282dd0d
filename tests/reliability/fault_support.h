#pragma once
// What the reliability suite's process-fault scenarios share (notification relay killed after
// the SMTP accept, stale worker): stopping, resuming and killing a service process at a
// precise point, the pid inside a scheduler replica id, and one-value SQL reads.
//
// Contract:
// - LoopbackClientPid finds the process at the other end of a loopback TCP connection a test
//   server accepted: the owner of the socket whose local port is `client_port` and whose peer
//   is 127.0.0.1:`server_port` (/proc/net/tcp, then /proc/<pid>/fd). No hook in the service.
// - The signal helpers act only on a direct child of this test process (ServiceProcess starts
//   services so: `sh -c exec`), so a wrong lookup can never stop or kill anything else; they
//   return FAILED_PRECONDITION otherwise.
// - StopProcess sends SIGSTOP and returns once every thread of the process is stopped (it
//   polls /proc/<pid>/task/*/stat, bounded by `timeout`), so that whatever the test does next
//   cannot be observed by the process before it is resumed or killed.

#include <sys/types.h>

#include <cstdint>
#include <string>

#include <pqxx/pqxx>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace anken::reliability {

absl::StatusOr<pid_t> LoopbackClientPid(int client_port, int server_port);

// The port of a gRPC peer string such as "ipv4:127.0.0.1:54321"; 0 when there is none.
int PeerPort(const std::string& grpc_peer);

absl::Status StopProcess(pid_t pid, absl::Duration timeout = absl::Seconds(30));
absl::Status ContinueProcess(pid_t pid);
absl::Status KillProcess(pid_t pid);

// True when every thread of `pid` is stopped (state T or t).
bool IsStopped(pid_t pid);

// The pid inside a scheduler replica id "<host>/<pid>/<hex>" (services/scheduler/runner.h),
// as recorded in runs.owner and notifications.lease_owner; 0 when malformed.
pid_t ReplicaPid(const std::string& replica_id);

// The first column of the first row of `sql` as text; "" when there is no row or it is NULL.
std::string QueryText(pqxx::connection& conn, const std::string& sql);
// The same as an integer; -1 when there is none.
int64_t QueryInt(pqxx::connection& conn, const std::string& sql);

}  // namespace anken::reliability
