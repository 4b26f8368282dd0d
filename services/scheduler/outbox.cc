#include "services/scheduler/outbox.h"

#include "common/db/migrate.h"
#include "common/status/domain_error.h"
#include "common/status/status_macros.h"
#include "services/scheduler/mail.h"
#include "services/scheduler/templates.h"

namespace anken::scheduler {

std::string MessageIdFor(absl::string_view dedup_key, absl::string_view mail_domain) {
  return MessageIdFrom(db::Sha256Hex(dedup_key), mail_domain);
}

absl::StatusOr<NewNotification> PrepareNotification(const NotificationRequest& request,
                                                    absl::string_view mail_domain) {
  RETURN_IF_ERROR(CheckDedupKey(request.dedup_key));
  if (!IsValidMailAddress(request.recipient)) {
    return DomainInvalid("recipient", "INVALID_RECIPIENT",
                         "must be one mail address such as keiri@example.co.jp");
  }
  ASSIGN_OR_RETURN(RenderedMail mail, RenderTemplate(request.template_name, request.parameters));
  NewNotification n;
  n.dedup_key = request.dedup_key;
  n.recipient = request.recipient;
  n.template_name = request.template_name;
  n.parameters = request.parameters;
  n.subject = std::move(mail.subject);
  n.body = std::move(mail.body);
  n.message_id = MessageIdFor(request.dedup_key, mail_domain);
  return n;
}

absl::Status StoreOutbox::Enqueue(const NotificationRequest& request) {
  ASSIGN_OR_RETURN(NewNotification n, PrepareNotification(request, mail_domain_));
  WriteContext ctx;
  ctx.actor = kActor;
  ctx.actor_role = "service";
  ctx.method = "scheduler.job";
  ctx.now = clock_.Now();
  return store_.EnqueueNotification(ctx, n).status();
}

}  // namespace anken::scheduler
