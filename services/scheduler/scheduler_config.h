#pragma once
// The scheduler's own settings (besides the common ones of config.h), read once at start and
// validated as a whole (one message naming every bad variable):
//
//   ANKEN_SCHEDULE_RENEWALS            "daily 00:00"        schedule.h syntax, or "off"
//   ANKEN_SCHEDULE_OPEN_REPORT_PERIOD  "monthly 1 00:00"
//   ANKEN_SCHEDULE_REPORT_REMINDERS    "businessdays 09:00"
//   ANKEN_SCHEDULE_BILLING_ALERTS      "daily 09:00"
//   ANKEN_SCHEDULER_TICK               5s      how often each replica looks for due work
//   ANKEN_SCHEDULER_LEASE              1m      a claimed run's lease (renewed every tick)
//   ANKEN_SCHEDULER_CATCHUP_HORIZON    35d     older missed slots are skipped (and reported);
//                                              "35d" or a duration such as "840h"
//   ANKEN_SCHEDULER_CALL_TIMEOUT       10m     bound of one attempt's peer calls
//   ANKEN_SCHEDULER_MAX_ATTEMPTS       5       attempts of a run before it is FAILED
//   ANKEN_SCHEDULER_RETRY_BASE         1m      backoff after a run's first failed attempt
//   ANKEN_BILLING_ADDR                 (unset) billing's host:port; unset disables renewals
//                                              and billing_alerts
//   ANKEN_REPORT_ADDR                  (unset) the report service's host:port; unset disables
//                                              open_report_period and report_reminders
//   ANKEN_STAFF_EMAIL                  (unset) where the overdue-report summary goes
//   ANKEN_ACCOUNTING_EMAIL             (unset) where billing alerts go
//   ANKEN_SMTP_URL                     (unset) smtp://host:port or smtps://; unset: mail stays
//                                              in the outbox (delivery off)
//   ANKEN_SMTP_STARTTLS                try     off | try | required
//   ANKEN_SMTP_USERNAME / ANKEN_SMTP_PASSWORD (or ANKEN_SMTP_PASSWORD_FILE)  AUTH, optional
//   ANKEN_SMTP_CA_FILE                 (unset) CA bundle (PEM) for the relay's certificate
//   ANKEN_SMTP_TIMEOUT                 30s     one SMTP exchange
//   ANKEN_MAIL_FROM                    required with ANKEN_SMTP_URL; also the Message-ID domain
//   ANKEN_MAIL_FROM_NAME               (unset) display name, may be Japanese
//   ANKEN_MAIL_MAX_ATTEMPTS            8       delivery attempts before a dead letter
//   ANKEN_MAIL_RETRY_BASE              30s     backoff after the first failed delivery
//   ANKEN_MAIL_RETRY_MAX               1h      backoff cap
//   ANKEN_TEST_CLOCK_FILE              TEST ONLY (file_clock.h); refused unless
//   ANKEN_ALLOW_TEST_CLOCK=1

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/config/config.h"
#include "services/scheduler/jobs.h"
#include "services/scheduler/schedule.h"
#include "services/scheduler/smtp_sender.h"

namespace anken::scheduler {

struct SchedulerConfig {
  std::map<std::string, Schedule> schedules;  // by job name, every kind present
  absl::Duration tick;
  absl::Duration lease;
  absl::Duration horizon;
  absl::Duration call_timeout;
  int max_attempts = 5;
  absl::Duration retry_base;
  std::string billing_addr;
  std::string report_addr;
  AlertRecipients recipients;
  bool mail_enabled = false;
  SmtpOptions smtp;
  std::string mail_from;
  std::string mail_from_name;
  int mail_max_attempts = 8;
  absl::Duration mail_retry_base;
  absl::Duration mail_retry_max;
  std::string test_clock_file;  // empty: the system clock
};

absl::StatusOr<SchedulerConfig> LoadSchedulerConfig(const Env& env);

// The domain of Message-IDs: ANKEN_MAIL_FROM's, or "anken.invalid" without one.
std::string MailDomain(const SchedulerConfig& config);

}  // namespace anken::scheduler
