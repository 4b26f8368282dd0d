#include "services/report/effects.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/api/proto_time.h"
#include "common/json/json_text.h"
#include "common/log/log.h"
#include "common/status/status_macros.h"
#include "google/protobuf/util/json_util.h"

namespace anken::report {
namespace {

// Guards RunOnce against a store that keeps answering with due effects.
constexpr int kMaxBatchesPerRound = 1000;

std::string OptDayKey(const absl::optional<absl::CivilDay>& d) {
  return d ? absl::FormatCivilTime(*d) : "";
}

// "-<n>" from the second submission on: the first keeps the plain, documented ids.
std::string SequenceSuffix(int sequence) {
  return sequence <= 1 ? "" : absl::StrCat("-", sequence);
}

absl::StatusOr<std::string> ToJson(const google::protobuf::Message& m) {
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(m, &out).ok()) {
    return absl::InternalError("an effect payload cannot be written as JSON");
  }
  return out;
}

billing::v1::CommissionKind CommissionKindOf(ExtraKind k) {
  return k == ExtraKind::kRepeat ? billing::v1::COMMISSION_KIND_REPEAT_ORDER
                                 : billing::v1::COMMISSION_KIND_ADDITIONAL_ORDER;
}

billing::v1::CreateCommissionChargeRequest Charge(const std::string& request_id,
                                                  int64_t project_id, int64_t partner_id,
                                                  const std::string& charge_key,
                                                  billing::v1::CommissionKind kind,
                                                  int64_t amount, absl::CivilDay date,
                                                  absl::CivilMonth month) {
  billing::v1::CreateCommissionChargeRequest req;
  req.set_request_id(request_id);
  req.set_project_id(project_id);
  req.set_partner_id(partner_id);
  req.set_charge_key(charge_key);
  req.set_kind(kind);
  req.set_construction_amount(amount);
  api::ToDate(date, req.mutable_completion_date());
  api::ToYearMonth(month, req.mutable_report_month());
  return req;
}

}  // namespace

std::string AnswerKey(const Change& c) {
  std::vector<std::string> extras;
  for (const ExtraOrder& x : c.extra_orders) {
    extras.push_back(absl::StrCat("[", static_cast<int>(x.kind), ",\"",
                                  absl::FormatCivilTime(x.order_date), "\",", x.amount, ",",
                                  json::String(x.note), "]"));
  }
  return absl::StrCat("[", static_cast<int>(c.outcome), ",\"", OptDayKey(c.completion_date),
                      "\",", c.amount, ",\"", OptDayKey(c.lost_date), "\",",
                      json::String(c.remarks), ",[", absl::StrJoin(extras, ","), "]]");
}

absl::StatusOr<LinePlan> PlanLine(const StoredLine& stored, int64_t partner_id, int sequence,
                                  absl::CivilMonth report_month) {
  LinePlan plan;
  const ReportLine& line = stored.line;
  if (line.answer != Answer::kChanged) return plan;
  std::vector<LineDiff> diff = SubmissionDiff({line});
  if (diff.empty()) return plan;
  const std::string key = AnswerKey(line.change);
  if (key == stored.submitted_answer) return plan;  // applied as it is by an earlier submission
  plan.apply = true;
  plan.diff = std::move(diff[0]);
  const Change& c = line.change;
  const int64_t project_id = line.snapshot.project_id;
  const std::string prefix = absl::StrCat("report-line-", line.id);
  const std::string suffix = SequenceSuffix(sequence);
  const size_t first_new = std::min(static_cast<size_t>(std::max(stored.applied_extra_orders, 0)),
                                    c.extra_orders.size());

  project::v1::RecordReferralOutcomeRequest outcome;
  outcome.set_request_id(absl::StrCat(prefix, "-outcome", suffix));
  outcome.set_project_id(project_id);
  outcome.set_outcome(static_cast<project::v1::ReferralOutcome>(c.outcome));
  if (c.completion_date) api::ToDate(*c.completion_date, outcome.mutable_completion_date());
  outcome.set_amount(c.amount);
  if (c.lost_date) api::ToDate(*c.lost_date, outcome.mutable_lost_date());
  outcome.set_remarks(c.remarks);
  for (size_t i = first_new; i < c.extra_orders.size(); ++i) {
    const ExtraOrder& x = c.extra_orders[i];
    project::v1::ExtraOrder* out = outcome.add_extra_orders();
    out->set_kind(static_cast<project::v1::ExtraOrderKind>(x.kind));
    api::ToDate(x.order_date, out->mutable_order_date());
    out->set_amount(x.amount);
    out->set_note(x.note);
  }
  NewEffect record;
  record.kind = EffectKind::kRecordOutcome;
  record.line_id = line.id;
  record.request_id = outcome.request_id();
  ASSIGN_OR_RETURN(record.payload, ToJson(outcome));
  record.description = absl::StrCat("outcome ", OutcomeLabel(c.outcome));
  if (c.extra_orders.size() > first_new) {
    absl::StrAppend(&record.description, " + ", c.extra_orders.size() - first_new,
                    " extra orders");
  }
  plan.effects.push_back(std::move(record));

  auto add_charge = [&](billing::v1::CreateCommissionChargeRequest req,
                        std::string source) -> absl::Status {
    NewEffect e;
    e.kind = EffectKind::kCommission;
    e.line_id = line.id;
    e.request_id = req.request_id();
    ASSIGN_OR_RETURN(e.payload, ToJson(req));
    e.description = absl::StrCat("commission ", req.charge_key());
    e.depends_on = 0;  // the outcome above
    plan.commissions.push_back(CommissionItem{std::move(source), req.construction_amount(), 0});
    plan.effects.push_back(std::move(e));
    return absl::OkStatus();
  };
  if (plan.diff.newly_completed && c.completion_date) {
    RETURN_IF_ERROR(add_charge(
        Charge(absl::StrCat(prefix, "-completion", suffix), project_id, partner_id, "completion",
               billing::v1::COMMISSION_KIND_COMPLETION, c.amount, *c.completion_date,
               report_month),
        "completion"));
  }
  for (size_t i = first_new; i < c.extra_orders.size(); ++i) {
    if (i >= stored.extra_order_ids.size()) {
      return absl::InternalError("an extra order has no stored id");
    }
    const ExtraOrder& x = c.extra_orders[i];
    RETURN_IF_ERROR(add_charge(
        Charge(absl::StrCat(prefix, "-extra-", i), project_id, partner_id,
               absl::StrCat("extra:", stored.extra_order_ids[i]), CommissionKindOf(x.kind),
               x.amount, x.order_date, report_month),
        absl::StrCat("extra_orders[", i, "]")));
  }
  plan.applied = LineApplied{line.id, key, static_cast<int>(c.extra_orders.size())};
  return plan;
}

absl::StatusOr<SubmissionPlan> PlanSubmission(const std::vector<StoredLine>& lines,
                                              int64_t partner_id, int sequence,
                                              absl::CivilMonth report_month) {
  SubmissionPlan out;
  for (const StoredLine& l : lines) {
    ASSIGN_OR_RETURN(LinePlan p, PlanLine(l, partner_id, sequence, report_month));
    if (!p.apply) continue;
    const int base = static_cast<int>(out.effects.size());
    for (NewEffect& e : p.effects) {
      if (e.depends_on >= 0) e.depends_on += base;
      out.effects.push_back(std::move(e));
    }
    out.lines.push_back(std::move(p.applied));
  }
  return out;
}

absl::Duration Backoff(int attempts, absl::Duration base, absl::Duration cap) {
  absl::Duration d = base;
  for (int i = 1; i < attempts && d < cap; ++i) d *= 2;
  return std::min(d, cap);
}

// ---- delivery ----

EffectDelivery::EffectDelivery(ReportStore& store, EffectPeers& peers, const Clock& clock,
                               EffectDeliveryOptions options)
    : store_(store), peers_(peers), clock_(clock), options_(std::move(options)) {}

EffectDelivery::~EffectDelivery() { Stop(); }

absl::Status EffectDelivery::Deliver(const Effect& effect) {
  const absl::Time deadline = absl::Now() + options_.call_timeout;
  switch (effect.kind) {
    case EffectKind::kRecordOutcome: {
      project::v1::RecordReferralOutcomeRequest req;
      if (!google::protobuf::util::JsonStringToMessage(effect.payload, &req).ok()) {
        return absl::DataLossError("the stored request is unreadable");
      }
      return peers_.RecordReferralOutcome(req, deadline);
    }
    case EffectKind::kCommission: {
      billing::v1::CreateCommissionChargeRequest req;
      if (!google::protobuf::util::JsonStringToMessage(effect.payload, &req).ok()) {
        return absl::DataLossError("the stored request is unreadable");
      }
      return peers_.CreateCommissionCharge(req, deadline);
    }
  }
  return absl::DataLossError("unknown effect kind");
}

DeliveryRound EffectDelivery::RunOnce() {
  DeliveryRound round;
  auto fail = [&round](absl::Status s) {
    if (round.status.ok()) round.status = std::move(s);
  };
  for (int batch = 0; batch < kMaxBatchesPerRound; ++batch) {
    absl::StatusOr<std::vector<Effect>> claimed =
        store_.ClaimEffects(options_.owner, clock_.Now(), options_.lease, options_.batch_size,
                            absl::Now() + options_.call_timeout);
    if (!claimed.ok()) {
      fail(claimed.status());
      break;
    }
    if (claimed->empty()) break;
    round.claimed += static_cast<int>(claimed->size());
    for (const Effect& e : *claimed) {
      const absl::Status call = Deliver(e);
      const absl::Time store_deadline = absl::Now() + options_.call_timeout;
      if (call.ok()) {
        absl::StatusOr<bool> marked = store_.MarkEffectDone(e.id, clock_.Now(), store_deadline);
        if (!marked.ok()) {
          // The peer has it; the lease lapses and the repeat is answered from its record.
          fail(marked.status());
          continue;
        }
        ++round.done;
        continue;
      }
      ++round.failed;
      // e.attempts counts this attempt (the claim counted it).
      const absl::Time next =
          clock_.Now() + Backoff(e.attempts, options_.retry_base, options_.retry_cap);
      log::Warn("report effect failed").Int("effect_id", e.id).Str("request_id", e.request_id)
          .Int("attempts", e.attempts).Str("error", call.ToString());
      if (absl::Status s = store_.MarkEffectFailed(e.id, options_.owner, next, call.ToString(),
                                                   store_deadline);
          !s.ok()) {
        fail(s);
      }
    }
  }
  return round;
}

void EffectDelivery::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void EffectDelivery::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void EffectDelivery::Loop() {
  for (;;) {
    const DeliveryRound round = RunOnce();
    if (round.claimed > 0) {
      log::Info("report effects delivered").Int("done", round.done).Int("failed", round.failed);
    }
    if (!round.status.ok()) {
      log::Warn("report effect round failed").Str("error", round.status.ToString());
    }
    absl::MutexLock lock(&mu_);
    if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.interval)) return;
  }
}

}  // namespace anken::report
