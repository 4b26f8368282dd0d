#include "services/scheduler/scheduler_config.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/scheduler/mail.h"

namespace anken::scheduler {
namespace {

// "35d" (whole days) or any duration ConfigReader accepts.
absl::Duration Horizon(ConfigReader& r, const Env& env, const std::string& name,
                       absl::Duration fallback) {
  std::optional<std::string> v = env.Get(name);
  if (v.has_value() && absl::EndsWith(*v, "d")) {
    int days = 0;
    if (!absl::SimpleAtoi(absl::string_view(*v).substr(0, v->size() - 1), &days) || days < 0 ||
        days > 3650) {
      r.Fail(name, absl::StrCat("\"", *v, "\" is not a number of days such as 35d"));
      return fallback;
    }
    return absl::Hours(24) * days;
  }
  return r.Duration(name, fallback);
}

void CheckAddress(ConfigReader& r, const std::string& name, const std::string& value) {
  if (!value.empty() && !IsValidMailAddress(value)) r.Fail(name, "is not a mail address");
}

}  // namespace

absl::StatusOr<SchedulerConfig> LoadSchedulerConfig(const Env& env) {
  ConfigReader r(env);
  SchedulerConfig c;
  for (const JobKind& kind : JobKinds()) {
    const std::string text = r.String(kind.env_name, kind.default_schedule);
    absl::StatusOr<Schedule> s = ParseSchedule(text);
    if (!s.ok()) {
      r.Fail(kind.env_name, std::string(s.status().message()));
      s = ParseSchedule(kind.default_schedule);
    }
    c.schedules[kind.name] = *s;
  }
  c.tick = r.Duration("ANKEN_SCHEDULER_TICK", absl::Seconds(5));
  if (c.tick < absl::Milliseconds(10) || c.tick > absl::Hours(1)) {
    r.Fail("ANKEN_SCHEDULER_TICK", "must be between 10ms and 1h");
  }
  c.lease = r.Duration("ANKEN_SCHEDULER_LEASE", absl::Minutes(1));
  if (c.lease < c.tick * 3) {
    r.Fail("ANKEN_SCHEDULER_LEASE", "must be at least three ticks (it is renewed every tick)");
  }
  c.horizon = Horizon(r, env, "ANKEN_SCHEDULER_CATCHUP_HORIZON", absl::Hours(24 * 35));
  c.call_timeout = r.Duration("ANKEN_SCHEDULER_CALL_TIMEOUT", absl::Minutes(10));
  if (c.call_timeout < absl::Seconds(1)) r.Fail("ANKEN_SCHEDULER_CALL_TIMEOUT", "must be at least 1s");
  c.max_attempts = static_cast<int>(r.Int("ANKEN_SCHEDULER_MAX_ATTEMPTS", 5, 1, 100));
  c.retry_base = r.Duration("ANKEN_SCHEDULER_RETRY_BASE", absl::Minutes(1));

  c.billing_addr = r.String("ANKEN_BILLING_ADDR", "");
  c.report_addr = r.String("ANKEN_REPORT_ADDR", "");
  c.recipients.staff = r.String("ANKEN_STAFF_EMAIL", "");
  c.recipients.accounting = r.String("ANKEN_ACCOUNTING_EMAIL", "");
  CheckAddress(r, "ANKEN_STAFF_EMAIL", c.recipients.staff);
  CheckAddress(r, "ANKEN_ACCOUNTING_EMAIL", c.recipients.accounting);

  c.smtp.url = r.String("ANKEN_SMTP_URL", "");
  c.mail_enabled = !c.smtp.url.empty();
  if (c.mail_enabled && !absl::StartsWith(c.smtp.url, "smtp://") &&
      !absl::StartsWith(c.smtp.url, "smtps://")) {
    r.Fail("ANKEN_SMTP_URL", "must start with smtp:// or smtps://");
  }
  const std::string starttls = r.OneOf("ANKEN_SMTP_STARTTLS", "try", {"off", "try", "required"});
  c.smtp.starttls = starttls == "off"        ? StartTls::kOff
                    : starttls == "required" ? StartTls::kRequired
                                             : StartTls::kTry;
  c.smtp.username = r.String("ANKEN_SMTP_USERNAME", "");
  c.smtp.password = r.String("ANKEN_SMTP_PASSWORD", "");
  const std::string password_file = r.String("ANKEN_SMTP_PASSWORD_FILE", "");
  if (!password_file.empty()) {
    std::ifstream in(password_file);
    std::stringstream text;
    if (!in) {
      r.Fail("ANKEN_SMTP_PASSWORD_FILE", "cannot be read");
    } else {
      text << in.rdbuf();
      c.smtp.password = std::string(absl::StripTrailingAsciiWhitespace(text.str()));
    }
  }
  c.smtp.ca_file = r.String("ANKEN_SMTP_CA_FILE", "");
  c.smtp.timeout = r.Duration("ANKEN_SMTP_TIMEOUT", absl::Seconds(30));
  if (c.smtp.timeout < absl::Seconds(1)) r.Fail("ANKEN_SMTP_TIMEOUT", "must be at least 1s");
  c.mail_from = r.String("ANKEN_MAIL_FROM", "");
  if (c.mail_enabled && c.mail_from.empty()) {
    r.Fail("ANKEN_MAIL_FROM", "is required when ANKEN_SMTP_URL is set");
  }
  CheckAddress(r, "ANKEN_MAIL_FROM", c.mail_from);
  c.mail_from_name = r.String("ANKEN_MAIL_FROM_NAME", "");
  if (!IsValidUtf8(c.mail_from_name) || absl::StrContains(c.mail_from_name, "\n") ||
      absl::StrContains(c.mail_from_name, "\r")) {
    r.Fail("ANKEN_MAIL_FROM_NAME", "must be one line of UTF-8");
  }
  c.mail_max_attempts = static_cast<int>(r.Int("ANKEN_MAIL_MAX_ATTEMPTS", 8, 1, 100));
  c.mail_retry_base = r.Duration("ANKEN_MAIL_RETRY_BASE", absl::Seconds(30));
  c.mail_retry_max = r.Duration("ANKEN_MAIL_RETRY_MAX", absl::Hours(1));
  if (c.mail_retry_max < c.mail_retry_base) {
    r.Fail("ANKEN_MAIL_RETRY_MAX", "must not be below ANKEN_MAIL_RETRY_BASE");
  }

  c.test_clock_file = r.String("ANKEN_TEST_CLOCK_FILE", "");
  const bool allow_test_clock = r.Bool("ANKEN_ALLOW_TEST_CLOCK", false);
  if (!c.test_clock_file.empty() && !allow_test_clock) {
    r.Fail("ANKEN_TEST_CLOCK_FILE",
           "is for tests only and is refused unless ANKEN_ALLOW_TEST_CLOCK=1 is set too");
  }
  if (absl::Status s = r.Finish(); !s.ok()) return s;
  return c;
}

std::string MailDomain(const SchedulerConfig& config) {
  return config.mail_from.empty() ? "anken.invalid" : DomainOf(config.mail_from);
}

}  // namespace anken::scheduler
