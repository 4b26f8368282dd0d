#include "services/scheduler/smtp_sender.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <mutex>

#include "absl/strings/str_cat.h"

namespace anken::scheduler {
namespace {

struct Upload {
  const std::string* data;
  size_t offset = 0;
};

size_t ReadChunk(char* buffer, size_t size, size_t count, void* userdata) {
  auto* upload = static_cast<Upload*>(userdata);
  const size_t room = size * count;
  const size_t left = upload->data->size() - upload->offset;
  const size_t n = std::min(room, left);
  std::memcpy(buffer, upload->data->data() + upload->offset, n);
  upload->offset += n;
  return n;
}

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

absl::Status SmtpStatus(int curl_code, long reply_code, const std::string& error_text) {
  if (curl_code == CURLE_OK) return absl::OkStatus();
  const std::string text = absl::StrCat(
      "SMTP ", reply_code > 0 ? absl::StrCat("reply ", reply_code, ": ") : std::string(),
      error_text.empty() ? curl_easy_strerror(static_cast<CURLcode>(curl_code)) : error_text);
  // A 5xx answer to MAIL, RCPT or DATA (libcurl: SEND_ERROR; after the message: WEIRD_SERVER_
  // REPLY) refuses this message for good. A 5xx at login or greeting (LOGIN_DENIED,
  // REMOTE_ACCESS_DENIED) is our configuration's fault and would refuse every message alike:
  // transient, so mail waits for the fix instead of all becoming dead letters.
  const bool refused_message =
      curl_code == CURLE_SEND_ERROR || curl_code == CURLE_WEIRD_SERVER_REPLY;
  if (refused_message && reply_code >= 500 && reply_code <= 599) {
    return absl::FailedPreconditionError(text);
  }
  return absl::UnavailableError(text);
}

CurlSmtpSender::CurlSmtpSender(SmtpOptions options) : options_(std::move(options)) {
  GlobalInit();
}

absl::Status CurlSmtpSender::Send(const std::string& from, const std::string& to,
                                  const std::string& message) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return absl::UnavailableError("SMTP: cannot initialize libcurl");
  char error[CURL_ERROR_SIZE] = {0};
  Upload upload{&message, 0};
  const std::string mail_from = absl::StrCat("<", from, ">");
  const std::string rcpt = absl::StrCat("<", to, ">");
  curl_slist* recipients = curl_slist_append(nullptr, rcpt.c_str());
  const long timeout_ms = static_cast<long>(absl::ToInt64Milliseconds(options_.timeout));

  curl_easy_setopt(curl, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, mail_from.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, recipients);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadChunk);
  curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for timeouts
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, std::min(timeout_ms, 10000L));
  switch (options_.starttls) {
    case StartTls::kOff:
      curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_NONE));
      break;
    case StartTls::kTry:
      curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_TRY));
      break;
    case StartTls::kRequired:
      curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
      break;
  }
  if (!options_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (!options_.username.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, options_.username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, options_.password.c_str());
  }

  const CURLcode code = curl_easy_perform(curl);
  long reply = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply);
  curl_slist_free_all(recipients);
  curl_easy_cleanup(curl);
  return SmtpStatus(code, reply, error);
}

}  // namespace anken::scheduler
