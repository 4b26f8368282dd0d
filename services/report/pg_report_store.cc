#include "services/report/pg_report_store.h"

#include <algorithm>
#include <map>
#include <pqxx/pqxx>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/db/audit.h"
#include "common/db/idempotency.h"
#include "common/db/pg_values.h"
#include "common/json/json_text.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "services/report/report_queries.h"
#include "services/report/report_rules.h"

namespace anken::report {
namespace {

using db::DayFromField;
using db::DayText;
using db::NonZero;
using db::NumberArray;
using db::OptDay;
using db::OptDayFromField;
using db::Param;
using db::TimeFromMicros;
using db::TimeText;
using db::TruncToMicros;

constexpr absl::string_view kSchema("report");  // == PgReportStore::kSchema

db::TransactOptions ReadOnly(absl::string_view what) {
  db::TransactOptions o;
  o.read_only = true;
  o.what = what;
  return o;
}

db::TransactOptions Writing(absl::string_view what) {
  db::TransactOptions o;
  o.what = what;
  return o;
}

// A month is stored as its first day.
std::string MonthText(absl::CivilMonth m) { return DayText(absl::CivilDay(m)); }

absl::optional<absl::Time> OptTimeFromMicros(const pqxx::field& f) {
  if (f.is_null()) return absl::nullopt;
  return TimeFromMicros(f);
}

// ---- rows ----

Period PeriodFromRow(const pqxx::row& r) {
  Period p;
  p.month = absl::CivilMonth(DayFromField(r["month_days"]));
  p.deadline_day = DayFromField(r["deadline_days"]);
  p.deadline = TimeFromMicros(r["deadline_us"]);
  return p;
}

ReportView ReportViewFromRow(const pqxx::row& r) {
  ReportView v;
  v.period = PeriodFromRow(r);
  v.report.id = r["id"].as<int64_t>();
  v.report.partner_id = r["partner_id"].as<int64_t>();
  v.report.month = v.period.month;
  v.report.submit_time = OptTimeFromMicros(r["submit_us"]);
  v.report.submitted_by = r["submitted_by"].as<std::string>();
  v.report.version = r["version"].as<int64_t>();
  v.partner_name = r["partner_name"].as<std::string>();
  v.partner_email = r["partner_email"].as<std::string>();
  v.line_count = r["line_count"].as<int64_t>();
  v.checked_count = r["checked_count"].as<int64_t>();
  v.submission_count = r["submission_count"].as<int32_t>();
  v.stamp = Stamp{TimeFromMicros(r["create_us"]), r["created_by"].as<std::string>(),
                  TimeFromMicros(r["update_us"]), r["updated_by"].as<std::string>()};
  return v;
}

// The column numbers of ANKEN_LINE_COLUMNS in one result, looked up once: a lookup by name
// per field (libpq compares every column name) was most of the cost of reading a
// 10,000-line report.
struct LineColumns {
  explicit LineColumns(const pqxx::result& r)
      : id(r.column_number("id")),
        report_id(r.column_number("report_id")),
        project_id(r.column_number("project_id")),
        case_number(r.column_number("case_number")),
        customer_name(r.column_number("customer_name")),
        referral_days(r.column_number("referral_days")),
        outcome(r.column_number("outcome")),
        completion_days(r.column_number("completion_days")),
        amount(r.column_number("amount")),
        lost_days(r.column_number("lost_days")),
        answer(r.column_number("answer")),
        new_outcome(r.column_number("new_outcome")),
        new_completion_days(r.column_number("new_completion_days")),
        new_amount(r.column_number("new_amount")),
        new_lost_days(r.column_number("new_lost_days")),
        remarks(r.column_number("remarks")),
        partner_id(r.column_number("partner_id")),
        applied_extra_orders(r.column_number("applied_extra_orders")),
        submitted_answer(r.column_number("submitted_answer")),
        answered_by(r.column_number("answered_by")),
        answer_us(r.column_number("answer_us")),
        version(r.column_number("version")) {}
  pqxx::row::size_type id, report_id, project_id, case_number, customer_name, referral_days,
      outcome, completion_days, amount, lost_days, answer, new_outcome, new_completion_days,
      new_amount, new_lost_days, remarks, partner_id, applied_extra_orders, submitted_answer,
      answered_by, answer_us, version;
};

StoredLine LineFromRow(const pqxx::row& r, const LineColumns& c) {
  StoredLine s;
  ReportLine& l = s.line;
  l.id = r[c.id].as<int64_t>();
  l.report_id = r[c.report_id].as<int64_t>();
  LineSnapshot& snap = l.snapshot;
  snap.project_id = r[c.project_id].as<int64_t>();
  snap.case_number = r[c.case_number].as<std::string>();
  snap.customer_name = r[c.customer_name].as<std::string>();
  snap.referral_date = DayFromField(r[c.referral_days]);
  snap.outcome = static_cast<Outcome>(r[c.outcome].as<int>());
  snap.completion_date = OptDayFromField(r[c.completion_days]);
  snap.amount = r[c.amount].as<int64_t>();
  snap.lost_date = OptDayFromField(r[c.lost_days]);
  l.answer = static_cast<Answer>(r[c.answer].as<int>());
  if (l.answer == Answer::kChanged) {
    l.change.outcome = static_cast<Outcome>(r[c.new_outcome].as<int>());
    l.change.completion_date = OptDayFromField(r[c.new_completion_days]);
    l.change.amount = r[c.new_amount].as<int64_t>();
    l.change.lost_date = OptDayFromField(r[c.new_lost_days]);
    l.change.remarks = r[c.remarks].as<std::string>();
  }
  s.partner_id = r[c.partner_id].as<int64_t>();
  s.applied_extra_orders = r[c.applied_extra_orders].as<int>();
  s.submitted_answer = r[c.submitted_answer].as<std::string>();
  s.answered_by = r[c.answered_by].as<std::string>();
  s.answer_time = OptTimeFromMicros(r[c.answer_us]);
  s.version = r[c.version].as<int64_t>();
  return s;
}

// Every line of a result of ANKEN_LINE_COLUMNS, in its order (extra orders not attached).
std::vector<StoredLine> LinesFromResult(const pqxx::result& rows) {
  std::vector<StoredLine> out;
  if (rows.empty()) return out;
  const LineColumns columns(rows);
  out.reserve(rows.size());
  for (const pqxx::row& r : rows) out.push_back(LineFromRow(r, columns));
  return out;
}

// Reads the extra orders of `lines` (kept in the change of a changed line; the applied ones
// of a line answered otherwise are dropped from view, as the answer no longer lists them).
void AttachExtraOrders(pqxx::work& tx, std::vector<StoredLine>& lines) {
  if (lines.empty()) return;
  std::map<int64_t, StoredLine*> by_id;
  std::vector<int64_t> ids;
  for (StoredLine& l : lines) {
    by_id[l.line.id] = &l;
    ids.push_back(l.line.id);
  }
  for (const pqxx::row& r : tx.exec_params(sql::kExtraOrdersOfLines, NumberArray(ids))) {
    StoredLine* l = by_id.at(r["line_id"].as<int64_t>());
    ExtraOrder x;
    x.kind = static_cast<ExtraKind>(r["kind"].as<int>());
    x.order_date = DayFromField(r["order_days"]);
    x.amount = r["amount"].as<int64_t>();
    x.note = r["note"].as<std::string>();
    l->line.change.extra_orders.push_back(std::move(x));
    l->extra_order_ids.push_back(r["id"].as<int64_t>());
  }
}

absl::StatusOr<ReportView> LoadReport(pqxx::work& tx, int64_t id) {
  pqxx::result rows = tx.exec_params(sql::kGetReport, id);
  if (rows.empty()) return ReportNotFound(id);
  return ReportViewFromRow(rows[0]);
}

absl::StatusOr<ReportView> LockReport(pqxx::work& tx, int64_t id) {
  if (tx.exec_params(sql::kLockReport, id).empty()) return ReportNotFound(id);
  return LoadReport(tx, id);
}

std::vector<StoredLine> LoadLines(pqxx::work& tx, int64_t report_id, int64_t after_id,
                                  int limit) {
  const Param lim = limit > 0 ? Param(absl::StrCat(limit)) : Param();
  std::vector<StoredLine> out =
      LinesFromResult(tx.exec_params(sql::kListLines, report_id, after_id, lim.get()));
  AttachExtraOrders(tx, out);
  return out;
}

absl::StatusOr<StoredLine> LoadLine(pqxx::work& tx, int64_t id) {
  pqxx::result rows = tx.exec_params(sql::kGetLine, id);
  if (rows.empty()) return LineNotFound(id);
  std::vector<StoredLine> one = LinesFromResult(rows);
  AttachExtraOrders(tx, one);
  return std::move(one[0]);
}

Effect EffectFromRow(const pqxx::row& r) {
  Effect e;
  e.id = r["id"].as<int64_t>();
  e.submission_id = r["submission_id"].as<int64_t>();
  e.line_id = r["line_id"].as<int64_t>();
  e.project_id = r["project_id"].as<int64_t>();
  e.case_number = r["case_number"].as<std::string>();
  e.kind = static_cast<EffectKind>(r["kind"].as<int>());
  e.request_id = r["request_id"].as<std::string>();
  e.payload = r["payload"].as<std::string>();
  e.description = r["description"].as<std::string>();
  e.depends_on = r["depends_on"].as<int64_t>();
  e.attempts = r["attempts"].as<int>();
  e.next_attempt_time = TimeFromMicros(r["next_attempt_us"]);
  e.done_time = OptTimeFromMicros(r["done_us"]);
  e.last_error = r["last_error"].as<std::string>();
  return e;
}

std::vector<Submission> LoadSubmissions(pqxx::work& tx, int64_t report_id, int64_t line_id) {
  std::vector<Submission> out;
  std::map<int64_t, size_t> index;
  std::vector<int64_t> ids;
  for (const pqxx::row& r : tx.exec_params(sql::kListSubmissions, report_id, line_id)) {
    Submission s;
    s.id = r["id"].as<int64_t>();
    s.report_id = r["report_id"].as<int64_t>();
    s.case_update_id = r["line_id"].as<int64_t>();
    s.sequence = r["sequence"].as<int>();
    s.submit_time = TimeFromMicros(r["submit_us"]);
    s.submitted_by = r["submitted_by"].as<std::string>();
    index[s.id] = out.size();
    ids.push_back(s.id);
    out.push_back(std::move(s));
  }
  if (ids.empty()) return out;
  for (const pqxx::row& r : tx.exec_params(sql::kEffectsOfSubmissions, NumberArray(ids))) {
    Effect e = EffectFromRow(r);
    out[index.at(e.submission_id)].effects.push_back(std::move(e));
  }
  return out;
}

// ---- audit JSON ----

absl::string_view AnswerName(Answer a) {
  switch (a) {
    case Answer::kUnanswered: return "UNANSWERED";
    case Answer::kNoChange: return "NO_CHANGE";
    case Answer::kChanged: return "CHANGED";
  }
  return "";
}

std::string OptDayJson(const absl::optional<absl::CivilDay>& d) {
  return d ? json::Day(*d) : "null";
}

// The answer as a JSON object: {"answer":"CHANGED","outcome":"施工完了",...}.
std::string AnswerJson(Answer answer, const Change& c) {
  if (answer != Answer::kChanged) {
    return absl::StrCat("{\"answer\":", json::String(AnswerName(answer)), "}");
  }
  std::vector<std::string> extras;
  for (const ExtraOrder& x : c.extra_orders) {
    extras.push_back(absl::StrCat("{\"kind\":", static_cast<int>(x.kind),
                                  ",\"order_date\":", json::Day(x.order_date),
                                  ",\"amount\":", x.amount, ",\"note\":", json::String(x.note),
                                  "}"));
  }
  return absl::StrCat("{\"answer\":\"CHANGED\",\"outcome\":", json::String(OutcomeLabel(c.outcome)),
                      ",\"completion_date\":", OptDayJson(c.completion_date),
                      ",\"amount\":", c.amount, ",\"lost_date\":", OptDayJson(c.lost_date),
                      ",\"remarks\":", json::String(c.remarks), ",\"extra_orders\":[",
                      absl::StrJoin(extras, ","), "]}");
}

std::string OldNew(absl::string_view old_json, absl::string_view new_json) {
  return absl::StrCat("{\"old\":", old_json, ",\"new\":", new_json, "}");
}

// ---- writes shared by reports and case updates ----

// The audit resource of a line: "line" "reports/<r>/lines/<id>", or a case update's.
std::pair<std::string, std::string> LineResource(const StoredLine& line) {
  if (line.line.report_id != 0) {
    return {"line", absl::StrCat("reports/", line.line.report_id, "/lines/", line.line.id)};
  }
  return {"case_update", absl::StrCat("case_updates/", line.line.id)};
}

// The audit change of `w` written over `before`.
std::string AnswerChangeJson(const StoredLine& before, const AnswerWrite& w) {
  return absl::StrCat("{\"answer\":",
                      OldNew(AnswerJson(before.line.answer, before.line.change),
                             AnswerJson(w.answer, w.change)),
                      "}");
}

// Writes `w` onto the line `before` (its applied extra orders stay) and audits it.
absl::Status WriteAnswer(pqxx::work& tx, const WriteContext& ctx, absl::Time now,
                         const StoredLine& before, const AnswerWrite& w) {
  const bool changed = w.answer == Answer::kChanged;
  const Change& c = w.change;
  tx.exec_params0(sql::kUpdateAnswer, before.line.id, static_cast<int>(w.answer),
                  changed ? Param(absl::StrCat(static_cast<int>(c.outcome))).get() : nullptr,
                  changed ? OptDay(c.completion_date).get() : nullptr, changed ? c.amount : 0,
                  changed ? OptDay(c.lost_date).get() : nullptr, changed ? c.remarks : "",
                  ctx.actor, TimeText(now));
  const int keep = before.applied_extra_orders;
  tx.exec_params0(sql::kDeleteExtraOrdersFrom, before.line.id, keep);
  if (changed) {
    for (size_t i = static_cast<size_t>(keep); i < c.extra_orders.size(); ++i) {
      const ExtraOrder& x = c.extra_orders[i];
      tx.exec_params0(sql::kInsertExtraOrder, before.line.id, static_cast<int>(i),
                      static_cast<int>(x.kind), DayText(x.order_date), x.amount, x.note);
    }
  }
  const auto [type, resource] = LineResource(before);
  return db::WriteAuditFor(tx, kSchema, ctx, now, type, resource, AnswerChangeJson(before, w));
}

// The line `before` as writing `w` (WriteAnswer) leaves it, with `new_ids` the ids of the
// extra orders the write inserted (positions applied_extra_orders onwards): what reading it
// back (LoadLine) returns, without reading 10,000 rows back after an upload.
StoredLine Answered(const StoredLine& before, const AnswerWrite& w, const WriteContext& ctx,
                    absl::Time now, const std::vector<int64_t>& new_ids) {
  StoredLine after = before;
  const size_t keep = std::min(static_cast<size_t>(std::max(before.applied_extra_orders, 0)),
                               before.extra_order_ids.size());
  after.line.answer = w.answer;
  after.line.change = w.answer == Answer::kChanged ? w.change : Change();
  after.line.change.extra_orders.assign(before.line.change.extra_orders.begin(),
                                        before.line.change.extra_orders.begin() + keep);
  after.extra_order_ids.assign(before.extra_order_ids.begin(),
                               before.extra_order_ids.begin() + keep);
  if (w.answer == Answer::kChanged) {
    for (size_t k = keep; k < w.change.extra_orders.size(); ++k) {
      after.line.change.extra_orders.push_back(w.change.extra_orders[k]);
    }
    after.extra_order_ids.insert(after.extra_order_ids.end(), new_ids.begin(), new_ids.end());
  }
  after.answered_by = ctx.actor;
  after.answer_time = now;
  after.version = before.version + 1;
  return after;
}

// WriteAnswer for many lines (each once) with a few statements in all, whatever their number
// (a 10,000-row upload written a statement per row took seconds). Returns the lines as
// written, in the order of `writes`.
absl::StatusOr<std::vector<StoredLine>> WriteAnswersAtOnce(
    pqxx::work& tx, const WriteContext& ctx, absl::Time now,
    const std::vector<const StoredLine*>& befores, const std::vector<AnswerWrite>& writes) {
  // db::WriteAudit's checks, once for the batch.
  if (ctx.actor.empty()) return InvalidField("audit.actor", "required");
  if (ctx.method.empty()) return InvalidField("audit.method", "required");
  std::vector<int64_t> ids, amounts, drop_ids;
  std::vector<int> answers, outcomes, drop_from;
  std::vector<std::string> completions, losts, remarks;
  std::vector<int64_t> x_line, x_amount;
  std::vector<int> x_position, x_kind;
  std::vector<std::string> x_date, x_note;
  std::vector<std::string> audit_types, audit_ids, audit_changes;
  for (size_t i = 0; i < writes.size(); ++i) {
    const StoredLine& before = *befores[i];
    const AnswerWrite& w = writes[i];
    const bool changed = w.answer == Answer::kChanged;
    const Change& c = w.change;
    ids.push_back(before.line.id);
    answers.push_back(static_cast<int>(w.answer));
    outcomes.push_back(changed ? static_cast<int>(c.outcome) : 0);
    completions.push_back(changed && c.completion_date ? DayText(*c.completion_date) : "");
    amounts.push_back(changed ? c.amount : 0);
    losts.push_back(changed && c.lost_date ? DayText(*c.lost_date) : "");
    remarks.push_back(changed ? c.remarks : "");
    const int keep = before.applied_extra_orders;
    // The line is locked with its report: the orders read are all there are.
    if (before.extra_order_ids.size() > static_cast<size_t>(keep)) {
      drop_ids.push_back(before.line.id);
      drop_from.push_back(keep);
    }
    if (changed) {
      for (size_t k = static_cast<size_t>(keep); k < c.extra_orders.size(); ++k) {
        const ExtraOrder& x = c.extra_orders[k];
        x_line.push_back(before.line.id);
        x_position.push_back(static_cast<int>(k));
        x_kind.push_back(static_cast<int>(x.kind));
        x_date.push_back(DayText(x.order_date));
        x_amount.push_back(x.amount);
        x_note.push_back(x.note);
      }
    }
    auto [type, resource] = LineResource(before);
    audit_types.push_back(std::move(type));
    audit_ids.push_back(std::move(resource));
    audit_changes.push_back(AnswerChangeJson(before, w));
  }
  tx.exec_params0(sql::kUpdateAnswers, NumberArray(ids), NumberArray(answers),
                  NumberArray(outcomes), db::TextArray(completions), NumberArray(amounts),
                  db::TextArray(losts), db::TextArray(remarks), ctx.actor, TimeText(now));
  if (!drop_ids.empty()) {
    tx.exec_params0(sql::kDeleteExtraOrdersOf, NumberArray(drop_ids), NumberArray(drop_from));
  }
  std::map<int64_t, std::map<int, int64_t>> inserted;  // line → position → extra order id
  if (!x_line.empty()) {
    for (const pqxx::row& r :
         tx.exec_params(sql::kInsertExtraOrders, NumberArray(x_line), NumberArray(x_position),
                        NumberArray(x_kind), db::TextArray(x_date), NumberArray(x_amount),
                        db::TextArray(x_note))) {
      inserted[r[1].as<int64_t>()][r[2].as<int>()] = r[0].as<int64_t>();
    }
  }
  const Param request_id = ctx.request_id.empty() ? Param() : Param(ctx.request_id);
  tx.exec_params0(sql::kInsertAuditEvents, TimeText(now), ctx.actor, ctx.actor_role, ctx.method,
                  request_id.get(), db::TextArray(audit_types), db::TextArray(audit_ids),
                  db::TextArray(audit_changes));
  std::vector<StoredLine> out;
  out.reserve(writes.size());
  for (size_t i = 0; i < writes.size(); ++i) {
    std::vector<int64_t> new_ids;
    for (const auto& [position, id] : inserted[befores[i]->line.id]) new_ids.push_back(id);
    out.push_back(Answered(*befores[i], writes[i], ctx, now, new_ids));
  }
  return out;
}

// The lines `ids` (each with its extra orders), by id.
std::map<int64_t, StoredLine> LoadLinesById(pqxx::work& tx, const std::vector<int64_t>& ids) {
  std::vector<StoredLine> lines = LinesFromResult(tx.exec_params(sql::kGetLines, NumberArray(ids)));
  AttachExtraOrders(tx, lines);
  std::map<int64_t, StoredLine> out;
  for (StoredLine& l : lines) out.emplace(l.line.id, std::move(l));
  return out;
}

// Records a submission with its effects and marks the applied lines. Returns its id.
absl::StatusOr<int64_t> RecordSubmission(pqxx::work& tx, const WriteContext& ctx, absl::Time now,
                                         int64_t report_id, int64_t line_id, int sequence,
                                         const SubmissionPlan& plan) {
  const int64_t submission_id =
      tx.exec_params1(sql::kInsertSubmission, NonZero(report_id).get(), NonZero(line_id).get(),
                      sequence, TimeText(now), ctx.actor)[0]
          .as<int64_t>();
  std::vector<int64_t> ids;
  for (const NewEffect& e : plan.effects) {
    if (e.depends_on >= static_cast<int>(ids.size())) {
      return absl::InternalError("an effect depends on a later one");
    }
    const Param depends = e.depends_on >= 0 ? Param(absl::StrCat(ids[e.depends_on])) : Param();
    pqxx::result inserted =
        tx.exec_params(sql::kInsertEffect, submission_id, e.line_id, static_cast<int>(e.kind),
                       e.request_id, depends.get(), e.payload, e.description, TimeText(now));
    ids.push_back(inserted.empty()
                      ? tx.exec_params1(sql::kEffectIdByRequestId, e.request_id)[0].as<int64_t>()
                      : inserted[0][0].as<int64_t>());
  }
  for (const LineApplied& l : plan.lines) {
    tx.exec_params0(sql::kMarkLineApplied, l.line_id, l.answer_key, l.applied_extra_orders);
  }
  return submission_id;
}

absl::StatusOr<Submission> LoadSubmission(pqxx::work& tx, int64_t report_id, int64_t line_id,
                                          int64_t submission_id) {
  for (Submission& s : LoadSubmissions(tx, report_id, line_id)) {
    if (s.id == submission_id) return std::move(s);
  }
  return absl::InternalError("the submission just written is missing");
}

}  // namespace

// ---- periods and reports ----

absl::StatusOr<PeriodView> PgReportStore::GetPeriod(absl::CivilMonth month, absl::Time deadline) {
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<PeriodView> {
        pqxx::result rows = tx.exec_params(sql::kGetPeriod, MonthText(month));
        if (rows.empty()) {
          return WithReason(absl::NotFoundError(absl::StrCat("the period ",
                                                             absl::FormatCivilTime(month),
                                                             " is not open")),
                            "PERIOD_NOT_FOUND");
        }
        PeriodView v;
        v.period = PeriodFromRow(rows[0]);
        v.open_time = TimeFromMicros(rows[0]["open_us"]);
        v.opened_by = rows[0]["opened_by"].as<std::string>();
        v.report_count = rows[0]["report_count"].as<int64_t>();
        v.submitted_count = rows[0]["submitted_count"].as<int64_t>();
        return v;
      },
      ReadOnly("reading a period"));
}

absl::StatusOr<std::string> PgReportStore::OpenPeriod(const WriteContext& ctx,
                                                      const Period& period,
                                                      const std::vector<NewReport>& reports,
                                                      const Encoder<OpenedPeriod>& encode) {
  const absl::Time now = TruncToMicros(ctx.now);
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) {
        return db::OncePerRequest(tx, kSchema, ctx, [&]() -> absl::StatusOr<std::string> {
          OpenedPeriod out;
          const std::string month = MonthText(period.month);
          out.created = !tx.exec_params(sql::kInsertPeriod, month, DayText(period.deadline_day),
                                        TimeText(period.deadline), TimeText(now), ctx.actor)
                             .empty();
          if (out.created && !reports.empty()) {
            // Two statements for the whole period (reports, then every line), whatever the
            // number of partners: a statement per row made a large month take seconds.
            std::vector<int64_t> partner_ids;
            std::vector<std::string> names, emails;
            for (const NewReport& nr : reports) {
              partner_ids.push_back(nr.partner_id);
              names.push_back(nr.partner_name);
              emails.push_back(nr.partner_email);
            }
            std::map<int64_t, int64_t> report_of;  // partner id → report id
            for (const pqxx::row& r :
                 tx.exec_params(sql::kInsertReports, month, NumberArray(partner_ids),
                                db::TextArray(names), db::TextArray(emails), TimeText(now),
                                ctx.actor)) {
              report_of[r[1].as<int64_t>()] = r[0].as<int64_t>();
            }
            std::vector<int64_t> l_report, l_partner, l_project, l_amount;
            std::vector<int> l_outcome;
            std::vector<std::string> l_number, l_customer, l_referral, l_completion, l_lost;
            for (const NewReport& nr : reports) {
              for (const LineSnapshot& s : nr.lines) {
                l_report.push_back(report_of.at(nr.partner_id));
                l_partner.push_back(nr.partner_id);
                l_project.push_back(s.project_id);
                l_number.push_back(s.case_number);
                l_customer.push_back(s.customer_name);
                l_referral.push_back(DayText(s.referral_date));
                l_outcome.push_back(static_cast<int>(s.outcome));
                l_completion.push_back(s.completion_date ? DayText(*s.completion_date) : "");
                l_amount.push_back(s.amount);
                l_lost.push_back(s.lost_date ? DayText(*s.lost_date) : "");
              }
            }
            if (!l_report.empty()) {
              tx.exec_params0(sql::kInsertLines, NumberArray(l_report), NumberArray(l_partner),
                              NumberArray(l_project), db::TextArray(l_number),
                              db::TextArray(l_customer), db::TextArray(l_referral),
                              NumberArray(l_outcome), db::TextArray(l_completion),
                              NumberArray(l_amount), db::TextArray(l_lost), TimeText(now));
            }
          }
          if (out.created) {
            RETURN_IF_ERROR(db::WriteAuditFor(
                tx, kSchema, ctx, now, "period",
                absl::StrCat("periods/", absl::FormatCivilTime(period.month)),
                absl::StrCat("{\"deadline_day\":{\"new\":", json::Day(period.deadline_day),
                             "},\"reports\":{\"new\":", reports.size(), "}}")));
          }
          pqxx::result p = tx.exec_params(sql::kGetPeriod, month);
          out.period.period = PeriodFromRow(p[0]);
          out.period.open_time = TimeFromMicros(p[0]["open_us"]);
          out.period.opened_by = p[0]["opened_by"].as<std::string>();
          out.period.report_count = p[0]["report_count"].as<int64_t>();
          out.period.submitted_count = p[0]["submitted_count"].as<int64_t>();
          for (const pqxx::row& r : tx.exec_params(sql::kReportsOfPeriod, month)) {
            out.reports.push_back(ReportViewFromRow(r));
          }
          return encode(out);
        });
      },
      Writing("opening a period"));
}

absl::StatusOr<ReportView> PgReportStore::GetReport(int64_t id, absl::Time deadline) {
  return pool_.Transact(
      deadline, [&](pqxx::work& tx) { return LoadReport(tx, id); }, ReadOnly("reading a report"));
}

absl::StatusOr<std::vector<ReportView>> PgReportStore::ListReports(const ReportFilter& filter,
                                                                   int64_t after_id, int limit,
                                                                   absl::Time deadline) {
  std::vector<int> statuses;
  for (ReportStatus s : filter.statuses) statuses.push_back(static_cast<int>(s));
  const Param month = filter.month ? Param(MonthText(*filter.month)) : Param();
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<ReportView>> {
        std::vector<ReportView> out;
        for (const pqxx::row& r :
             tx.exec_params(sql::kListReports, month.get(), filter.partner_id,
                            NumberArray(statuses), TimeText(filter.now), after_id, limit)) {
          out.push_back(ReportViewFromRow(r));
        }
        return out;
      },
      ReadOnly("listing reports"));
}

// ---- lines and answers ----

absl::StatusOr<StoredLine> PgReportStore::GetLine(int64_t id, absl::Time deadline) {
  return pool_.Transact(
      deadline, [&](pqxx::work& tx) { return LoadLine(tx, id); }, ReadOnly("reading a line"));
}

absl::StatusOr<std::vector<StoredLine>> PgReportStore::ListLines(int64_t report_id,
                                                                 int64_t after_id, int limit,
                                                                 absl::Time deadline) {
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<StoredLine>> {
        return LoadLines(tx, report_id, after_id, limit);
      },
      ReadOnly("reading report lines"));
}

absl::StatusOr<std::vector<StoredLine>> PgReportStore::WriteAnswers(const WriteContext& ctx,
                                                                    int64_t report_id,
                                                                    const AnswerPlanner& plan) {
  const absl::Time now = TruncToMicros(ctx.now);
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<StoredLine>> {
        ASSIGN_OR_RETURN(ReportView report, LockReport(tx, report_id));
        std::vector<StoredLine> lines = LoadLines(tx, report_id, 0, 0);
        ASSIGN_OR_RETURN(std::vector<AnswerWrite> writes, plan(report, lines));
        std::map<int64_t, const StoredLine*> by_id;
        for (const StoredLine& l : lines) by_id[l.line.id] = &l;
        std::vector<const StoredLine*> befores;
        std::set<int64_t> ids;
        for (const AnswerWrite& w : writes) {
          auto it = by_id.find(w.line_id);
          if (it == by_id.end()) return LineNotFound(w.line_id);
          befores.push_back(it->second);
          ids.insert(w.line_id);
        }
        std::vector<StoredLine> out;
        if (writes.empty()) return out;
        if (ids.size() == writes.size()) return WriteAnswersAtOnce(tx, ctx, now, befores, writes);
        // A line answered twice: one after the other, each over what the one before wrote.
        for (size_t i = 0; i < writes.size(); ++i) {
          ASSIGN_OR_RETURN(StoredLine before, LoadLine(tx, writes[i].line_id));
          RETURN_IF_ERROR(WriteAnswer(tx, ctx, now, before, writes[i]));
        }
        std::map<int64_t, StoredLine> after =
            LoadLinesById(tx, std::vector<int64_t>(ids.begin(), ids.end()));
        for (const AnswerWrite& w : writes) out.push_back(after.at(w.line_id));
        return out;
      },
      Writing("writing report answers"));
}

// ---- submission ----

absl::StatusOr<std::string> PgReportStore::SubmitReport(const WriteContext& ctx,
                                                        int64_t report_id,
                                                        const SubmissionPlanner& plan,
                                                        const Encoder<Submitted>& encode) {
  const absl::Time now = TruncToMicros(ctx.now);
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) {
        return db::OncePerRequest(tx, kSchema, ctx, [&]() -> absl::StatusOr<std::string> {
          ASSIGN_OR_RETURN(ReportView before, LockReport(tx, report_id));
          std::vector<StoredLine> lines = LoadLines(tx, report_id, 0, 0);
          const int sequence = before.submission_count + 1;
          ASSIGN_OR_RETURN(SubmissionPlan p, plan(before, lines, sequence));
          ASSIGN_OR_RETURN(int64_t submission_id,
                           RecordSubmission(tx, ctx, now, report_id, 0, sequence, p));
          tx.exec_params0(sql::kMarkSubmitted, report_id, TimeText(now), ctx.actor);
          RETURN_IF_ERROR(db::WriteAuditFor(
              tx, kSchema, ctx, now, "report", absl::StrCat("reports/", report_id),
              absl::StrCat("{\"status\":{\"new\":\"SUBMITTED\"},\"submission\":{\"new\":",
                           sequence, "},\"effects\":{\"new\":", p.effects.size(), "}}")));
          Submitted out;
          ASSIGN_OR_RETURN(out.report, LoadReport(tx, report_id));
          ASSIGN_OR_RETURN(out.submission, LoadSubmission(tx, report_id, 0, submission_id));
          return encode(out);
        });
      },
      Writing("submitting a report"));
}

absl::StatusOr<ReportView> PgReportStore::ReopenReport(
    const WriteContext& ctx, int64_t report_id,
    const std::function<absl::Status(const ReportView&)>& check, const std::string& reason) {
  const absl::Time now = TruncToMicros(ctx.now);
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<ReportView> {
        ASSIGN_OR_RETURN(ReportView before, LockReport(tx, report_id));
        RETURN_IF_ERROR(check(before));
        tx.exec_params0(sql::kReopen, report_id, TimeText(now), ctx.actor);
        RETURN_IF_ERROR(db::WriteAuditFor(
            tx, kSchema, ctx, now, "report", absl::StrCat("reports/", report_id),
            absl::StrCat("{\"status\":{\"old\":\"SUBMITTED\",\"new\":\"REOPENED\"},"
                         "\"reason\":{\"new\":",
                         json::String(reason), "}}")));
        return LoadReport(tx, report_id);
      },
      Writing("reopening a report"));
}

absl::StatusOr<std::string> PgReportStore::SubmitCaseUpdate(
    const WriteContext& ctx, const NewCaseUpdate& update, const CaseUpdatePlanner& plan,
    const Encoder<CaseUpdateResult>& encode) {
  const absl::Time now = TruncToMicros(ctx.now);
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) {
        return db::OncePerRequest(tx, kSchema, ctx, [&]() -> absl::StatusOr<std::string> {
          const LineSnapshot& s = update.snapshot;
          const int64_t line_id =
              tx.exec_params1(sql::kInsertLine, nullptr, update.partner_id, s.project_id,
                              s.case_number, s.customer_name, DayText(s.referral_date),
                              static_cast<int>(s.outcome), OptDay(s.completion_date).get(),
                              s.amount, OptDay(s.lost_date).get(), TimeText(now))[0]
                  .as<int64_t>();
          ASSIGN_OR_RETURN(StoredLine fresh, LoadLine(tx, line_id));
          RETURN_IF_ERROR(WriteAnswer(tx, ctx, now, fresh,
                                      AnswerWrite{line_id, Answer::kChanged, update.change}));
          CaseUpdateResult out;
          ASSIGN_OR_RETURN(out.line, LoadLine(tx, line_id));
          ASSIGN_OR_RETURN(SubmissionPlan p, plan(out.line));
          ASSIGN_OR_RETURN(int64_t submission_id,
                           RecordSubmission(tx, ctx, now, 0, line_id, 1, p));
          ASSIGN_OR_RETURN(out.line, LoadLine(tx, line_id));
          ASSIGN_OR_RETURN(out.submission, LoadSubmission(tx, 0, line_id, submission_id));
          return encode(out);
        });
      },
      Writing("recording a case update"));
}

absl::StatusOr<absl::optional<std::string>> PgReportStore::FindReplay(const WriteContext& ctx) {
  if (ctx.request_id.empty()) return absl::optional<std::string>();
  return pool_.Transact(
      ctx.deadline,
      [&](pqxx::work& tx) {
        return db::FindIdempotent(tx, kSchema, ctx.method, ctx.request_id, ctx.request_hash);
      },
      ReadOnly("looking up a request"));
}

absl::StatusOr<std::vector<Submission>> PgReportStore::ListSubmissions(int64_t report_id,
                                                                       int64_t case_update_id,
                                                                       absl::Time deadline) {
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<Submission>> {
        return LoadSubmissions(tx, report_id, case_update_id);
      },
      ReadOnly("reading submissions"));
}

// ---- the effect outbox ----

absl::StatusOr<std::vector<Effect>> PgReportStore::ClaimEffects(const std::string& owner,
                                                                absl::Time now,
                                                                absl::Duration lease, int limit,
                                                                absl::Time deadline) {
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<Effect>> {
        std::vector<Effect> out;
        for (const pqxx::row& r : tx.exec_params(sql::kClaimEffects, owner,
                                                 TimeText(TruncToMicros(now + lease)),
                                                 TimeText(TruncToMicros(now)), limit)) {
          out.push_back(EffectFromRow(r));
        }
        std::sort(out.begin(), out.end(),
                  [](const Effect& a, const Effect& b) { return a.id < b.id; });
        return out;
      },
      Writing("claiming effects"));
}

absl::StatusOr<bool> PgReportStore::MarkEffectDone(int64_t id, absl::Time now,
                                                   absl::Time deadline) {
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::StatusOr<bool> {
        return tx.exec_params(sql::kMarkEffectDone, id, TimeText(TruncToMicros(now)))
                   .affected_rows() == 1;
      },
      Writing("marking an effect done"));
}

absl::Status PgReportStore::MarkEffectFailed(int64_t id, const std::string& owner,
                                             absl::Time next_attempt, const std::string& error,
                                             absl::Time deadline) {
  return pool_.Transact(
      deadline,
      [&](pqxx::work& tx) -> absl::Status {
        tx.exec_params0(sql::kMarkEffectFailed, id, owner,
                        TimeText(TruncToMicros(next_attempt)), error);
        return absl::OkStatus();
      },
      Writing("recording a failed effect"));
}

}  // namespace anken::report
