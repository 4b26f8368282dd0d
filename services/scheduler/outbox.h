#pragma once
// Turning an enqueue request into an outbox row: PrepareNotification validates it (dedup key,
// recipient, template and parameters), renders the Japanese template and derives the
// Message-ID from the dedup key; StoreOutbox is the Outbox the scheduler's own jobs write to
// (the same path as EnqueueNotification, with the scheduler as the actor).

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/clock/clock.h"
#include "services/scheduler/jobs.h"
#include "services/scheduler/scheduler.h"
#include "services/scheduler/scheduler_store.h"

namespace anken::scheduler {

// "<32 hex of SHA-256(dedup_key)@mail_domain>": the same key always gives the same id.
std::string MessageIdFor(absl::string_view dedup_key, absl::string_view mail_domain);

// INVALID_ARGUMENT naming the field (dedup_key, recipient, template_name, parameters[...]).
absl::StatusOr<NewNotification> PrepareNotification(const NotificationRequest& request,
                                                    absl::string_view mail_domain);

class StoreOutbox final : public Outbox {
 public:
  // The actor recorded for notifications the scheduler's jobs enqueue.
  static constexpr char kActor[] = "anken-scheduler";

  StoreOutbox(SchedulerStore& store, const Clock& clock, std::string mail_domain)
      : store_(store), clock_(clock), mail_domain_(std::move(mail_domain)) {}
  absl::Status Enqueue(const NotificationRequest& request) override;

 private:
  SchedulerStore& store_;
  const Clock& clock_;
  std::string mail_domain_;
};

}  // namespace anken::scheduler
