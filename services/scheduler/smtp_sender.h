#pragma once
// Sending one mail over SMTP with libcurl: ANKEN_SMTP_URL (smtp://host:port, or smtps:// for
// TLS from the start), STARTTLS off / try / required, optional AUTH (user and password) and a
// CA file for a private relay, and a timeout for the whole exchange.
//
// The outcome is a status the delivery loop can act on: OK when the server accepted the
// message (250 after DATA); FAILED_PRECONDITION when it refused this message permanently (a
// 5xx reply to MAIL FROM, RCPT TO or the message, e.g. "550 mailbox unavailable": retrying
// cannot help, so the notification becomes a dead letter); UNAVAILABLE for everything else
// (connection refused, timeouts, 4xx replies, TLS or login failures — a refused login is our
// configuration, not the message: worth retrying once it is fixed). Messages name the server's reply code, never
// credentials.

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace anken::scheduler {

class MailSender {
 public:
  virtual ~MailSender() = default;
  // Sends `message` (a whole RFC 5322 message with CRLF line ends) from `from` to `to`.
  virtual absl::Status Send(const std::string& from, const std::string& to,
                            const std::string& message) = 0;
};

enum class StartTls { kOff, kTry, kRequired };

struct SmtpOptions {
  std::string url;  // smtp://host:port or smtps://host:port
  StartTls starttls = StartTls::kTry;
  std::string username;  // AUTH when non-empty
  std::string password;
  std::string ca_file;   // trust this CA (PEM) instead of the system's; optional
  absl::Duration timeout = absl::Seconds(30);
};

class CurlSmtpSender final : public MailSender {
 public:
  explicit CurlSmtpSender(SmtpOptions options);
  absl::Status Send(const std::string& from, const std::string& to,
                    const std::string& message) override;

 private:
  SmtpOptions options_;
};

// The status for a finished libcurl exchange: `curl_code` (CURLcode), the server's last reply
// code (0 when none) and curl's error text. Exposed for tests.
absl::Status SmtpStatus(int curl_code, long reply_code, const std::string& error_text);

}  // namespace anken::scheduler
