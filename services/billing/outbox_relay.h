#pragma once
// Moves billing.notification_outbox rows to the scheduler, which owns mail delivery
// (anken.scheduler.v1.SchedulerService/EnqueueNotification).
//
// Contract:
// - At-least-once towards the scheduler, exactly-once mail: a row is marked delivered only
//   after the scheduler answered OK, and every call carries dedup_key
//   "billing:notification:<id>". A crash between the call and the mark, or two replicas
//   relaying the same row, repeats the call with the same key and the same content (the
//   request is a pure function of the row, NotificationRequest below), which the scheduler
//   answers with the stored notification instead of a second mail.
// - No row lock is held across the remote call (PendingNotifications is a plain read):
//   holding a transaction open while waiting on another service would pin a pooled
//   connection for up to the call timeout. MarkNotificationDelivered only sets delivered_at
//   when it is still NULL, so each row is marked once whichever replica gets there first.
// - A failed call leaves the row for a later round. UNAVAILABLE / DEADLINE_EXCEEDED end the
//   round (the scheduler is down; the remaining rows would fail alike); any other error is
//   logged and the round goes on with the next row. The loop then backs off (NextDelay).
// - The loop runs on its own thread (Start/Stop), never on the gRPC server's threads.
//   RunOnce is the loop's body, callable without a thread (tests).
// - Deadlines are wall-clock (absl::Now() + timeouts), like gRPC's and db::Pool's; `now`
//   given to RunOnce is only what delivered_at records.

#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "anken/scheduler/v1/scheduler_service.grpc.pb.h"
#include "common/clock/clock.h"
#include "common/server/peer_auth.h"
#include "grpcpp/channel.h"
#include "services/billing/billing_store.h"

namespace anken::billing {

inline constexpr char kOutboxKindInvoiceIssueRequest[] = "invoice_issue_request";
inline constexpr char kInvoiceIssueRequestTemplate[] = "invoice_issue_request";

struct OutboxRelayOptions {
  std::string recipient;  // the accounting mailbox (ANKEN_ACCOUNTING_EMAIL)
  int batch_size = 50;    // rows read per round
  absl::Duration interval = absl::Seconds(5);
  absl::Duration max_backoff = absl::Minutes(5);
  absl::Duration call_timeout = absl::Seconds(10);  // each scheduler call and store call
};

// The scheduler request for one outbox row: template invoice_issue_request with project
// ("案件ID <project_id>": billing holds no case names, and a name looked up at relay time
// could change between retries and break the dedup key's "same content"), requested_by,
// entries (one line per entry id; omitted when the request named none, so the template's
// "all READY entries" text applies) and note (omitted when empty). INVALID_ARGUMENT for
// another kind or a payload without a project_id.
absl::StatusOr<scheduler::v1::EnqueueNotificationRequest> NotificationRequest(
    const OutboxNotification& row, const std::string& recipient);

// What one round did.
struct RelayRound {
  int relayed = 0;      // rows this round marked delivered
  absl::Status status;  // the first failure (its row and those after it stay pending); OK if none
};

// The wait before the next round: `interval` after a clean round, otherwise twice the
// previous wait (at least twice `interval`), capped at `max_backoff`.
absl::Duration NextDelay(const absl::Status& round, absl::Duration previous,
                         const OutboxRelayOptions& options);

class OutboxRelay {
 public:
  // `store`, `auth` and `clock` must outlive the relay.
  OutboxRelay(BillingStore& store, std::shared_ptr<grpc::Channel> scheduler,
              const server::PeerAuth& auth, const Clock& clock, OutboxRelayOptions options);
  ~OutboxRelay();  // Stop()
  OutboxRelay(const OutboxRelay&) = delete;
  OutboxRelay& operator=(const OutboxRelay&) = delete;

  // One round: up to batch_size pending rows, oldest first; delivered_at = now.
  RelayRound RunOnce(absl::Time now);

  // Starts the background loop (a round at once, then one after each NextDelay). Once only.
  void Start();
  // Wakes and joins the loop; a round in progress finishes first (bounded by call_timeout per
  // call). Idempotent.
  void Stop();

 private:
  void Loop();

  BillingStore& store_;
  std::unique_ptr<scheduler::v1::SchedulerService::Stub> stub_;
  const server::PeerAuth& auth_;
  const Clock& clock_;
  const OutboxRelayOptions options_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace anken::billing
