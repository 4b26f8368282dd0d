#pragma once
// A loopback SMTP server for the reliability suite: it records every message it accepts (the
// envelope and the headers) and, when armed, turns the next message into "accepted, but the
// sender died before it could record that": at the end of DATA it stops the sending process
// (SIGSTOP, and waits until every thread is stopped), replies 250, then kills it (SIGKILL).
// Deterministic, no sleeps, no hook in the sender: the sender is the process owning the other
// end of the connection (fault_support.h), and must be a child of the test.
//
// Why not tests/services/scheduler/smtp_sink.py: that sink (Python aiosmtpd) decodes what it
// receives for the mail-format tests but cannot act on the sender; this one exists for the
// armed kill, and keeps only what the reliability checks need.
//
// Contract:
// - Plain SMTP on 127.0.0.1 (no TLS, no AUTH): EHLO/HELO, MAIL, RCPT, DATA (dot-unstuffed),
//   RSET, NOOP, QUIT; a connection per thread.
// - HoldGreetings(): connections accepted from then on wait for ReleaseGreetings() before the
//   220 greeting (the sender waits inside its SMTP exchange; nothing is refused).
// - ArmKill(): one shot, for the next message whose DATA ends. If the sender cannot be found
//   or stopped, the message is refused with 451 and trap_error() says why.
// - Messages() in the order they were accepted (a trapped one included, trapped = true).

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace anken::reliability {

class SmtpTrap {
 public:
  struct Message {
    std::string mail_from;
    std::vector<std::string> rcpt_to;
    std::map<std::string, std::string> headers;  // lower-case name -> unfolded value (first)
    std::string data;                            // as received, dot-unstuffed
    pid_t sender = 0;                            // 0 when it could not be found
    bool trapped = false;  // 250 went to a stopped sender, which was then killed

    // The header's value, "" when absent; `name` in any case.
    std::string Header(const std::string& name) const;
  };

  static absl::StatusOr<std::unique_ptr<SmtpTrap>> Start();
  ~SmtpTrap();
  SmtpTrap(const SmtpTrap&) = delete;
  SmtpTrap& operator=(const SmtpTrap&) = delete;

  int port() const { return port_; }
  std::string url() const;  // smtp://127.0.0.1:<port>

  void HoldGreetings();
  void ReleaseGreetings();
  void ArmKill();

  // Waits until at least `n` messages were accepted (or the trap failed); false on timeout.
  bool WaitForMessages(size_t n, absl::Duration timeout);
  std::vector<Message> Messages() const;
  std::string trap_error() const;

 private:
  SmtpTrap() = default;
  void AcceptLoop();
  void Serve(int fd);
  // Ends a message: the trap (when armed) or a plain 250, then records it.
  void Finish(int fd, int client_port, Message m);

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> armed_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool hold_ = false;             // guarded by mu_
  std::vector<Message> messages_;  // guarded by mu_
  std::string trap_error_;        // guarded by mu_
  std::vector<std::thread> threads_;  // guarded by mu_
  std::thread acceptor_;
};

}  // namespace anken::reliability
