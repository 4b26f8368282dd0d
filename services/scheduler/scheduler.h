#pragma once
// Domain types of the scheduler service: job rows, runs and notifications. Plain structs: no
// protobuf, no pqxx. Slots are civil minutes in Asia/Tokyo; everything else is an instant.

#include <cstdint>
#include <map>
#include <string>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "services/scheduler/run_rules.h"

namespace anken::scheduler {

// The stored state of a job (its schedule and enablement come from configuration and code).
struct JobRow {
  std::string name;
  absl::CivilMinute cursor;  // the latest slot accounted for (run, queued or skipped)
  bool paused = false;
  std::string paused_by;
  std::string pause_reason;
  absl::optional<absl::Time> pause_time;
};

struct Run {
  int64_t id = 0;
  std::string job;
  absl::CivilMinute slot;
  RunState state = RunState::kQueued;
  RunTrigger trigger = RunTrigger::kSchedule;
  std::string triggered_by;
  int attempts = 0;
  int takeovers = 0;
  std::string owner;  // set while kRunning
  absl::optional<absl::Time> lease_until;
  absl::optional<absl::Time> next_attempt_time;
  absl::Time create_time;
  absl::optional<absl::Time> start_time;
  absl::optional<absl::Time> finish_time;
  int64_t duration_ms = 0;
  std::string summary;
  std::string error;
  std::string error_code;
};

enum class NotificationState { kPending = 1, kSent = 2, kDead = 3 };

// A notification ready for the outbox: validated and rendered.
struct NewNotification {
  std::string dedup_key;
  std::string recipient;
  std::string template_name;
  std::map<std::string, std::string> parameters;
  std::string subject;
  std::string body;
  std::string message_id;
};

struct Notification {
  int64_t id = 0;
  std::string dedup_key;
  std::string recipient;
  std::string template_name;
  std::map<std::string, std::string> parameters;
  std::string subject;
  std::string body;
  std::string message_id;
  NotificationState state = NotificationState::kPending;
  int attempts = 0;
  std::string last_error;
  absl::Time next_attempt_time;
  std::string created_by;
  absl::Time create_time;
  absl::optional<absl::Time> sent_time;
  absl::optional<absl::Time> dead_time;
};

}  // namespace anken::scheduler
