#pragma once
// The mail delivery loop: every tick, each replica leases due PENDING notifications one at a
// time (SKIP LOCKED, so replicas take different ones), builds the MIME message and hands it to
// the MailSender. Accepted -> SENT. Refused permanently (FAILED_PRECONDITION: a 5xx reply)
// -> DEAD at once. Anything else -> PENDING again after an exponential backoff
// (ANKEN_MAIL_RETRY_BASE doubling up to ANKEN_MAIL_RETRY_MAX), or DEAD once
// ANKEN_MAIL_MAX_ATTEMPTS attempts have failed. Dead letters stay visible in
// ListNotifications with the server's reply.
//
// At-least-once: SMTP has no idempotency, so a crash between the server's acceptance and
// marking the row SENT sends the mail again after the delivery lease lapses. The copy carries
// the same Message-ID (derived from the dedup key), which receivers can deduplicate on.

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock/clock.h"
#include "services/scheduler/scheduler_store.h"
#include "services/scheduler/smtp_sender.h"

namespace anken::scheduler {

struct DeliveryOptions {
  std::string owner;         // this replica
  std::string from_address;  // ANKEN_MAIL_FROM
  std::string from_name;     // ANKEN_MAIL_FROM_NAME, optional
  absl::Duration tick = absl::Seconds(5);
  // How long a replica holds a notification while sending; longer than the SMTP timeout.
  absl::Duration lease = absl::Minutes(2);
  int max_attempts = 8;
  absl::Duration retry_base = absl::Seconds(30);
  absl::Duration retry_cap = absl::Hours(1);
  int max_per_tick = 100;
};

class MailDelivery {
 public:
  // Everything must outlive the loop.
  MailDelivery(SchedulerStore& store, const Clock& clock, MailSender& sender,
               DeliveryOptions options);
  ~MailDelivery();
  MailDelivery(const MailDelivery&) = delete;
  MailDelivery& operator=(const MailDelivery&) = delete;

  void Start();
  void Stop();
  void Wake();

  // One pass on the calling thread: sends every due notification (at most max_per_tick);
  // returns how many were attempted.
  absl::StatusOr<int> DeliverDue();

 private:
  void Loop();
  void DeliverOne(const Notification& n);

  SchedulerStore& store_;
  const Clock& clock_;
  MailSender& sender_;
  DeliveryOptions options_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t wakeups_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace anken::scheduler
