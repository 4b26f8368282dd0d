#include "services/billing/outbox_relay.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log/log.h"
#include "common/status/errors.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/client_context.h"

namespace anken::billing {
namespace {

absl::Status BadRow(const OutboxNotification& row, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("outbox row ", row.id, ": ", why));
}

// A JSON number that is a whole id (ids are bigserial; doubles hold them exactly up to 2^53).
bool AsId(const google::protobuf::Value& v, int64_t* out) {
  if (v.kind_case() != google::protobuf::Value::kNumberValue) return false;
  const double d = v.number_value();
  if (!(d >= 1 && d <= 9007199254740992.0) || std::floor(d) != d) return false;
  *out = static_cast<int64_t>(d);
  return true;
}

std::string StringField(const google::protobuf::Struct& s, const std::string& name) {
  auto it = s.fields().find(name);
  if (it == s.fields().end() ||
      it->second.kind_case() != google::protobuf::Value::kStringValue) {
    return "";
  }
  return it->second.string_value();
}

bool Retryable(absl::StatusCode code) {
  return code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kDeadlineExceeded;
}

}  // namespace

absl::StatusOr<scheduler::v1::EnqueueNotificationRequest> NotificationRequest(
    const OutboxNotification& row, const std::string& recipient) {
  if (row.kind != kOutboxKindInvoiceIssueRequest) {
    return BadRow(row, absl::StrCat("unknown kind \"", row.kind, "\""));
  }
  google::protobuf::Struct payload;
  if (!google::protobuf::util::JsonStringToMessage(row.payload, &payload).ok()) {
    return BadRow(row, "payload is not a JSON object");
  }
  int64_t project_id = 0;
  auto project = payload.fields().find("project_id");
  if (project == payload.fields().end() || !AsId(project->second, &project_id)) {
    return BadRow(row, "payload has no project_id");
  }
  scheduler::v1::EnqueueNotificationRequest req;
  req.set_dedup_key(absl::StrCat("billing:notification:", row.id));
  req.set_recipient(recipient);
  req.set_template_name(kInvoiceIssueRequestTemplate);
  auto& params = *req.mutable_parameters();
  params["project"] = absl::StrCat("案件ID ", project_id);
  std::string requested_by = StringField(payload, "requested_by");
  // Required by the template; an anonymous request must still reach accounting.
  params["requested_by"] = requested_by.empty() ? "（不明）" : requested_by;
  auto ids = payload.fields().find("entry_ids");
  if (ids != payload.fields().end() &&
      ids->second.kind_case() == google::protobuf::Value::kListValue) {
    std::vector<std::string> lines;
    for (const google::protobuf::Value& v : ids->second.list_value().values()) {
      int64_t id = 0;
      if (!AsId(v, &id)) return BadRow(row, "payload has a malformed entry id");
      lines.push_back(absl::StrCat("・請求ID ", id));
    }
    if (!lines.empty()) params["entries"] = absl::StrJoin(lines, "\n");
  }
  std::string note = StringField(payload, "note");
  if (!note.empty()) params["note"] = std::move(note);
  return req;
}

absl::Duration NextDelay(const absl::Status& round, absl::Duration previous,
                         const OutboxRelayOptions& options) {
  if (round.ok()) return options.interval;
  const absl::Duration doubled = std::max(previous * 2, options.interval * 2);
  return std::min(doubled, std::max(options.max_backoff, options.interval));
}

OutboxRelay::OutboxRelay(BillingStore& store, std::shared_ptr<grpc::Channel> scheduler,
                         const server::PeerAuth& auth, const Clock& clock,
                         OutboxRelayOptions options)
    : store_(store),
      stub_(scheduler::v1::SchedulerService::NewStub(std::move(scheduler))),
      auth_(auth),
      clock_(clock),
      options_(std::move(options)) {}

OutboxRelay::~OutboxRelay() { Stop(); }

RelayRound OutboxRelay::RunOnce(absl::Time now) {
  RelayRound round;
  absl::StatusOr<std::vector<OutboxNotification>> rows =
      store_.PendingNotifications(options_.batch_size, absl::Now() + options_.call_timeout);
  if (!rows.ok()) {
    round.status = rows.status();
    return round;
  }
  auto fail = [&round](absl::Status s) {
    if (round.status.ok()) round.status = std::move(s);
  };
  for (const OutboxNotification& row : *rows) {
    absl::StatusOr<scheduler::v1::EnqueueNotificationRequest> req =
        NotificationRequest(row, options_.recipient);
    if (!req.ok()) {
      // Left in the outbox for a person to look at (or a fixed relay to pick up).
      log::Error("outbox row cannot be relayed").Int("outbox_id", row.id)
          .Str("error", req.status().ToString());
      fail(req.status());
      continue;
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + options_.call_timeout));
    if (absl::Status s = auth_.Apply(&ctx); !s.ok()) {
      fail(s);
      break;
    }
    scheduler::v1::Notification reply;
    const absl::Status call = FromGrpcStatus(stub_->EnqueueNotification(&ctx, *req, &reply));
    if (!call.ok()) {
      log::Warn("scheduler refused a notification").Int("outbox_id", row.id)
          .Str("dedup_key", req->dedup_key()).Str("error", call.ToString());
      fail(call);
      if (Retryable(call.code())) break;
      continue;
    }
    absl::StatusOr<bool> marked =
        store_.MarkNotificationDelivered(row.id, now, absl::Now() + options_.call_timeout);
    if (!marked.ok()) {
      // The scheduler has it; the next round repeats the call and the dedup key absorbs it.
      fail(marked.status());
      break;
    }
    if (*marked) ++round.relayed;
  }
  return round;
}

void OutboxRelay::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void OutboxRelay::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void OutboxRelay::Loop() {
  absl::Duration delay = options_.interval;
  for (;;) {
    const RelayRound round = RunOnce(clock_.Now());
    if (round.relayed > 0) log::Info("notifications relayed").Int("count", round.relayed);
    delay = NextDelay(round.status, delay, options_);
    if (!round.status.ok()) {
      log::Warn("outbox relay round failed").Str("error", round.status.ToString())
          .Int("retry_in_ms", absl::ToInt64Milliseconds(delay));
    }
    absl::MutexLock lock(&mu_);
    if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), delay)) return;
  }
}

}  // namespace anken::billing
