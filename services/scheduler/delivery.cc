#include "services/scheduler/delivery.h"

#include <utility>

#include "common/log/log.h"
#include "services/scheduler/mail.h"
#include "services/scheduler/run_rules.h"

namespace anken::scheduler {

MailDelivery::MailDelivery(SchedulerStore& store, const Clock& clock, MailSender& sender,
                           DeliveryOptions options)
    : store_(store), clock_(clock), sender_(sender), options_(std::move(options)) {}

MailDelivery::~MailDelivery() { Stop(); }

void MailDelivery::Start() { thread_ = std::thread([this] { Loop(); }); }

void MailDelivery::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void MailDelivery::Wake() {
  absl::MutexLock lock(&mu_);
  ++wakeups_;
}

void MailDelivery::Loop() {
  uint64_t seen = 0;
  for (;;) {
    absl::StatusOr<int> n = DeliverDue();
    if (!n.ok()) log::Warn("mail delivery pass failed").Str("error", n.status().ToString());
    absl::MutexLock lock(&mu_);
    auto woken = [this, &seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stopping_ || wakeups_ != seen;
    };
    mu_.AwaitWithTimeout(absl::Condition(&woken), options_.tick);
    seen = wakeups_;
    if (stopping_) return;
  }
}

absl::StatusOr<int> MailDelivery::DeliverDue() {
  int attempted = 0;
  while (attempted < options_.max_per_tick) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) break;
    }
    const absl::Time now = clock_.Now();
    absl::StatusOr<absl::optional<Notification>> claimed =
        store_.ClaimDelivery(options_.owner, now, now + options_.lease);
    if (!claimed.ok()) return claimed.status();
    if (!claimed->has_value()) break;
    DeliverOne(**claimed);
    ++attempted;
  }
  return attempted;
}

void MailDelivery::DeliverOne(const Notification& n) {
  MailMessage m;
  m.from_address = options_.from_address;
  m.from_name = options_.from_name;
  m.to_address = n.recipient;
  m.subject = n.subject;
  m.body = n.body;
  m.message_id = n.message_id;
  m.date = clock_.Now();
  absl::StatusOr<std::string> data = BuildMessage(m);
  // A message we cannot even build is as permanent as a 5xx.
  absl::Status sent = data.ok() ? sender_.Send(options_.from_address, n.recipient, *data)
                                : absl::FailedPreconditionError(data.status().message());
  const absl::Time now = clock_.Now();
  absl::StatusOr<bool> recorded;
  if (sent.ok()) {
    recorded = store_.MarkSent(n.id, options_.owner, now);
    log::Info("notification sent")
        .Int("id", n.id)
        .Str("template", n.template_name)
        .Str("message_id", n.message_id)
        .Int("attempt", n.attempts);
  } else {
    const FailureOutcome next = AfterFailure(n.attempts, options_.max_attempts,
                                             IsRetryable(sent.code()), now, options_.retry_base,
                                             options_.retry_cap);
    recorded = store_.MarkDeliveryFailed(n.id, options_.owner, std::string(sent.message()),
                                         next.final, next.next_attempt, now);
    log::Event event = next.final ? log::Error("notification is a dead letter")
                                  : log::Warn("notification delivery failed; retrying");
    event.Int("id", n.id)
        .Str("template", n.template_name)
        .Int("attempt", n.attempts)
        .Str("error", sent.ToString());
  }
  if (!recorded.ok()) {
    log::Error("could not record a delivery outcome")
        .Int("id", n.id)
        .Str("error", recorded.status().ToString());
  }
}

}  // namespace anken::scheduler
