// Reliability: bad input against the five service processes (security_world.h).
// - bad strings: every string field (nested, repeated and map ones included) of every create
//   request, one at a time, holding invalid UTF-8, a truncated sequence, a lone surrogate
//   (ED A0 80) or a NUL → INVALID_ARGUMENT (MALFORMED_REQUEST for what protobuf cannot parse,
//   INVALID_CHARACTER naming the field for NUL), never INTERNAL, nothing written; the same
//   requests without the bad bytes succeed.
// - oversized request: one byte-heavy request per service just over its message limit →
//   RESOURCE_EXHAUSTED, just under it → answered by the handler; the server keeps serving.
// - unique violations and deadlines: the same unique thing created twice, a request_id
//   reused with another body, and every RPC with a 1 ms deadline → never INTERNAL or UNKNOWN,
//   and every service serves normally afterwards.
// Every status goes through the error-leak scan (recorded when the binary ends).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/status/errors.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "tests/reliability/reliability_support.h"
#include "tests/reliability/security_world.h"
#include "tests/support/grpc_probe.h"

namespace anken::reliability {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

const Rpc* FindRpc(SecurityWorld* w, const std::string& path) {
  for (const Rpc& rpc : w->rpcs()) {
    if (rpc.path == path) return &rpc;
  }
  return nullptr;
}

// ---- the scanner itself ----

TEST(LeakScanTest, FlagsInternalsAndPassesTheServicesOwnWords) {
  for (const char* leaky : {
           "ERROR:  duplicate key value violates unique constraint \"customers_code_key\"",
           "INSERT INTO customer.customers (code) VALUES ($1)",
           "could not connect to server: Connection refused",
           "at /work/main/services/customer/pg_customer_store.cc:120",
           "open(\"/tmp/anken/x.sql\") failed",
           "#0 0x00007f in anken::customer::Store::Create()",
           "terminate called after throwing an instance of 'pqxx::sql_error'",
           "peer ipv4:127.0.0.1:5432 went away",
           "connection to localhost failed",
       }) {
    EXPECT_NE(Leak(grpc::Status(grpc::StatusCode::INTERNAL, leaky)), "") << leaky;
  }
  for (const char* clean : {
           "category name 重複区分12 is already taken",
           "request_id: already used for a different request of this method",
           "customer.name: must not contain the NUL character (U+0000)",
           "date must be YYYY-MM-DD or YYYY/MM/DD",
           "Received message larger than max (16781317 vs. 16777216)",
           "the database statement timed out",
           "token expired; obtain a new one",
           "Deadline Exceeded",
       }) {
    EXPECT_EQ(Leak(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, clean)), "") << clean;
  }
  // Details are scanned too.
  EXPECT_NE(Leak(ToGrpcStatus(InvalidField("name", "violates check constraint \"x\""))), "");
}

// ---- bad strings ----

struct BadValue {
  std::string name;
  std::string bytes;
  bool parses;  // protobuf parses it (valid UTF-8): the NUL check refuses it
};

const std::vector<BadValue>& BadValues() {
  static const auto* const values = new std::vector<BadValue>{
      {"invalid UTF-8", "bad\xC3\x28utf8-x", false},
      {"truncated UTF-8", "trunc-utf8\xE3\x81", false},
      {"lone high surrogate", std::string("surrogate-\xED\xA0\x80"), false},
      {"lone low surrogate", std::string("surrogate-\xED\xBF\xBF"), false},
      {"NUL", std::string("nul-before\0after", 16), true},
  };
  return *values;
}

// One step down a request: a field, and for repeated fields the element (kAppend: a new one).
struct Step {
  const FieldDescriptor* field;
  int index;  // -1 singular
};
constexpr int kAppend = -2;

// A string field of a request, reachable by `steps`; `path` as the server names it ("[*]" for
// a map entry, whose position reflection does not promise).
struct Slot {
  std::vector<Step> steps;
  std::string path;
};

void StringSlots(const Descriptor* d, const Message* instance, const std::vector<Step>& steps,
                 const std::string& prefix, int depth, std::vector<Slot>* out) {
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    const int size = instance != nullptr && f->is_repeated()
                         ? instance->GetReflection()->FieldSize(*instance, f)
                         : 0;
    std::vector<Step> here = steps;
    if (f->type() == FieldDescriptor::TYPE_STRING) {
      here.push_back({f, f->is_repeated() ? kAppend : -1});
      out->push_back(Slot{here, f->is_repeated() ? absl::StrCat(prefix, f->name(), "[", size, "]")
                                                 : prefix + f->name()});
      continue;
    }
    if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE || depth == 0) continue;
    if (f->is_map()) {
      here.push_back({f, kAppend});
      StringSlots(f->message_type(), nullptr, here, absl::StrCat(prefix, f->name(), "[*]."), 0,
                  out);
      continue;
    }
    const Message* child = nullptr;
    if (f->is_repeated()) {
      here.push_back({f, size > 0 ? 0 : kAppend});
      if (size > 0) child = &instance->GetReflection()->GetRepeatedMessage(*instance, f, 0);
      StringSlots(f->message_type(), child, here, absl::StrCat(prefix, f->name(), "[0]."),
                  depth - 1, out);
    } else {
      here.push_back({f, -1});
      if (instance != nullptr && instance->GetReflection()->HasField(*instance, f)) {
        child = &instance->GetReflection()->GetMessage(*instance, f);
      }
      StringSlots(f->message_type(), child, here, absl::StrCat(prefix, f->name(), "."), depth - 1,
                  out);
    }
  }
}

void SetSlot(Message* m, const Slot& slot, const std::string& value) {
  Message* cur = m;
  for (size_t i = 0; i < slot.steps.size(); ++i) {
    const Step& s = slot.steps[i];
    const auto* r = cur->GetReflection();
    const bool last = i + 1 == slot.steps.size();
    if (last) {
      if (s.index == kAppend) {
        r->AddString(cur, s.field, value);
      } else {
        r->SetString(cur, s.field, value);
      }
      return;
    }
    if (s.index == -1) {
      cur = r->MutableMessage(cur, s.field);
    } else if (s.index == kAppend) {
      cur = r->AddMessage(cur, s.field);
    } else {
      cur = r->MutableRepeatedMessage(cur, s.field, s.index);
    }
  }
}

bool PathMatches(const std::string& got, const std::string& want) {
  const size_t star = want.find("[*]");
  if (star == std::string::npos) return got == want;
  const std::string head = want.substr(0, star + 1), tail = want.substr(star + 2);
  if (!absl::StartsWith(got, head) || !absl::EndsWith(got, tail)) return false;
  const std::string index = got.substr(head.size(), got.size() - head.size() - tail.size());
  return !index.empty() && index.find_first_not_of("0123456789") == std::string::npos;
}

TEST(InputTest, BadStringsInEveryCreateAreInvalidArgumentAndWriteNothing) {
  SecurityWorld* w = WorldForTest();
  ASSERT_NE(w, nullptr);
  const std::string scenario = "bad strings";
  std::vector<std::string> failures;
  int creates = 0, fields = 0, cells = 0, wrong = 0, written = 0, controls_ok = 0, unparsable = 0;
  int placeholder = 0;
  for (const Rpc& rpc : w->rpcs()) {
    if (!SecurityWorld::IsCreate(*rpc.method)) continue;
    ++creates;
    absl::StatusOr<std::string> text = w->CreateRequest(rpc.path);
    if (!text.ok()) {
      failures.push_back(std::string(text.status().message()));
      ++wrong;
      continue;
    }
    absl::StatusOr<std::unique_ptr<Message>> base = w->Request(rpc, *text);
    ASSERT_TRUE(base.ok()) << base.status();
    std::vector<Slot> slots;
    StringSlots(rpc.method->input_type(), base->get(), {}, "", 4, &slots);
    fields += static_cast<int>(slots.size());
    absl::StatusOr<int64_t> rows_before = w->CountRows();
    ASSERT_TRUE(rows_before.ok()) << rows_before.status();
    for (const Slot& slot : slots) {
      for (const BadValue& bad : BadValues()) {
        ++cells;
        // protobuf will not serialize invalid UTF-8 quietly: serialize an ASCII placeholder of
        // the same length and swap the bytes in.
        std::string mark = absl::StrCat("~", ++placeholder, "~");
        mark.resize(bad.bytes.size(), '~');
        std::unique_ptr<Message> req((*base)->New());
        req->CopyFrom(**base);
        SetSlot(req.get(), slot, mark);
        std::string bytes = req->SerializeAsString();
        const size_t at = bytes.find(mark);
        ASSERT_NE(at, std::string::npos);
        ASSERT_EQ(bytes.find(mark, at + 1), std::string::npos) << mark;
        bytes.replace(at, mark.size(), bad.bytes);
        const std::string what = absl::StrCat(rpc.path, " ", slot.path, " = ", bad.name);
        RawReply r = RawCall(rpc.served->channel, rpc.path, bytes, Bearer(w->admin()));
        ScanForLeaks("bad string", what, r.status);
        const std::string reason = ReasonOf(r.status);
        const std::vector<std::string> violated = ViolatedFields(r.status);
        bool ok = r.status.error_code() == grpc::StatusCode::INVALID_ARGUMENT && r.bytes.empty();
        if (bad.parses) {
          ok = ok && reason == "INVALID_CHARACTER" && violated.size() == 1 &&
               PathMatches(violated[0], slot.path);
        } else {
          ok = ok && reason == "MALFORMED_REQUEST";
          unparsable += ok;
        }
        if (!ok) {
          ++wrong;
          failures.push_back(absl::StrCat(what, ": code ", r.status.error_code(), " reason ",
                                          reason, " fields [", absl::StrJoin(violated, ","), "] ",
                                          r.status.error_message()));
        }
      }
    }
    absl::StatusOr<int64_t> rows_after = w->CountRows();
    ASSERT_TRUE(rows_after.ok()) << rows_after.status();
    if (*rows_after != *rows_before) {
      written += static_cast<int>(*rows_after - *rows_before);
      failures.push_back(absl::StrCat(rpc.path, ": ", *rows_after - *rows_before,
                                      " rows written by refused requests"));
    }
    // The request itself, without the bad bytes, is accepted.
    absl::StatusOr<std::unique_ptr<Message>> control = w->Call(rpc.path, *text, w->admin());
    if (control.ok()) {
      ++controls_ok;
    } else {
      failures.push_back(absl::StrCat("control: ", control.status().ToString()));
    }
  }
  PrintFailures(failures);
  bool held = true;
  held &=
      Check(scenario,
            absl::StrCat(creates, " creates, ", fields, " string fields x ", BadValues().size(),
                         " bad values = ", cells, " cells (", unparsable,
                         " refused unparsed as MALFORMED_REQUEST, the NUL ones by field): ", wrong,
                         " not INVALID_ARGUMENT with the right reason and field"),
            wrong == 0 && creates > 0 && cells == fields * static_cast<int>(BadValues().size()));
  held &= Check(scenario, absl::StrCat(written, " rows written by refused requests"), written == 0);
  held &= Check(scenario,
                absl::StrCat(controls_ok, "/", creates,
                             " of the same requests without the bad bytes succeed"),
                controls_ok == creates);
  RecordScenario(scenario, held,
                 absl::StrCat(cells, " cells (", creates, " creates, ", fields, " fields), ", wrong,
                              " wrong, ", written, " rows written"));
  EXPECT_TRUE(held);
}

// ---- long strings ----

TEST(InputTest, LongStringsInEveryCreateNeverFailInternally) {
  SecurityWorld* w = WorldForTest();
  ASSERT_NE(w, nullptr);
  const std::string scenario = "long strings";
  // 20,000 characters of 3 bytes: past every length limit, in characters and in bytes.
  std::string long_value;
  for (int i = 0; i < 20000; ++i) long_value += "あ";
  std::vector<std::string> failures, accepted;
  int cells = 0, refused = 0, other = 0, wrong = 0;
  for (const Rpc& rpc : w->rpcs()) {
    if (!SecurityWorld::IsCreate(*rpc.method)) continue;
    absl::StatusOr<std::string> first = w->CreateRequest(rpc.path);
    ASSERT_TRUE(first.ok()) << first.status();
    absl::StatusOr<std::unique_ptr<Message>> first_base = w->Request(rpc, *first);
    ASSERT_TRUE(first_base.ok()) << first_base.status();
    std::vector<Slot> slots;
    StringSlots(rpc.method->input_type(), first_base->get(), {}, "", 4, &slots);
    for (size_t i = 0; i < slots.size(); ++i) {
      // A fresh request each time (its own request_id, names and rows), so that an accepted
      // long value cannot turn the next cell into a replay or a duplicate.
      absl::StatusOr<std::string> text = i == 0 ? first : w->CreateRequest(rpc.path);
      ASSERT_TRUE(text.ok()) << text.status();
      absl::StatusOr<std::unique_ptr<Message>> base = w->Request(rpc, *text);
      ASSERT_TRUE(base.ok()) << base.status();
      std::vector<Slot> fresh;
      StringSlots(rpc.method->input_type(), base->get(), {}, "", 4, &fresh);
      const Slot* slot = nullptr;
      for (const Slot& s : fresh) {
        if (s.path == slots[i].path) slot = &s;
      }
      ASSERT_NE(slot, nullptr) << rpc.path << " " << slots[i].path;
      SetSlot(base->get(), *slot, long_value);
      ++cells;
      const std::string what = absl::StrCat(rpc.path, " ", slot->path, " of 20,000 characters");
      RawReply r =
          RawCall(rpc.served->channel, rpc.path, (*base)->SerializeAsString(), Bearer(w->admin()));
      ScanForLeaks("long string", what, r.status);
      const grpc::StatusCode code = r.status.error_code();
      if (code == grpc::StatusCode::OK) {
        accepted.push_back(absl::StrCat(rpc.method->name(), ".", slot->path));
      } else if (code == grpc::StatusCode::INVALID_ARGUMENT) {
        ++refused;
      } else if (code == grpc::StatusCode::INTERNAL || code == grpc::StatusCode::UNKNOWN ||
                 code == grpc::StatusCode::DATA_LOSS || code == grpc::StatusCode::UNAVAILABLE ||
                 code == grpc::StatusCode::RESOURCE_EXHAUSTED) {
        ++wrong;
        failures.push_back(absl::StrCat(what, ": code ", code, " ", r.status.error_message()));
      } else {
        ++other;
      }
    }
  }
  PrintFailures(failures);
  std::cout << "long strings: accepted in " << accepted.size()
            << " fields: " << absl::StrJoin(accepted, ", ") << "\n";
  // Only fields the server fills itself may take the long value (it ignores what a create
  // sends there): a field a caller can store must have a cap.
  std::vector<std::string> uncapped;
  for (const std::string& field : accepted) {
    const bool output_only =
        absl::EndsWith(field, ".etag") || absl::EndsWith(field, ".audit.created_by") ||
        absl::EndsWith(field, ".audit.updated_by") || absl::EndsWith(field, ".recorded_by") ||
        field == "CreateProject.project.number" ||
        absl::StartsWith(field, "CreateInquiry.inquiry.responses[");  // AddInquiryResponse's
    if (!output_only) uncapped.push_back(field);
  }
  EXPECT_THAT(uncapped, ::testing::IsEmpty()) << "fields that store 20,000 characters";
  const bool held = Check(
      scenario,
      absl::StrCat(cells, " string fields of creates, one at a time, at 20,000 characters: ",
                   refused, " INVALID_ARGUMENT, ", accepted.size(), " accepted, ", other,
                   " other refusals, ", wrong, " INTERNAL/UNKNOWN/UNAVAILABLE/RESOURCE_EXHAUSTED; ",
                   uncapped.size(), " accepted fields a caller can store"),
      wrong == 0 && cells > 0 && refused > 0 && uncapped.empty());
  RecordScenario(scenario, held, absl::StrCat(cells, " cells, ", wrong, " wrong"));
  EXPECT_TRUE(held);
}

// ---- oversized requests ----

// A request of `rpc` whose top-level bytes field, or else its page_token, holds `size` bytes
// of 'x'; "" when it has neither. (Fields a handler may quote back in an error message are
// avoided: a 16 MB message cannot travel in a status.)
std::string BigRequest(SecurityWorld* w, const Rpc& rpc, size_t size) {
  const Descriptor* d = rpc.method->input_type();
  const FieldDescriptor* pick = nullptr;
  for (int i = 0; i < d->field_count() && pick == nullptr; ++i) {
    const FieldDescriptor* f = d->field(i);
    if (!f->is_repeated() && f->type() == FieldDescriptor::TYPE_BYTES) pick = f;
  }
  if (pick == nullptr) pick = d->FindFieldByName("page_token");
  if (pick == nullptr) return "";
  absl::StatusOr<std::unique_ptr<Message>> m = w->Request(rpc, "");
  if (!m.ok()) return "";
  (*m)->GetReflection()->SetString(m->get(), pick, std::string(size, 'x'));
  return (*m)->SerializeAsString();
}

// A normal call the service answers OK: a List* RPC the admin may call with an empty request.
grpc::Status NormalCall(SecurityWorld* w, const Served& s, std::string* which) {
  grpc::Status last(grpc::StatusCode::NOT_FOUND, "no List RPC answered OK");
  const auth::Principal admin{"admin", auth::Role::kAdmin, ""};
  for (const Rpc& rpc : w->rpcs()) {
    if (rpc.served != &s || !absl::StartsWith(rpc.method->name(), "List") ||
        !s.roles.Check(rpc.path, admin).ok()) {
      continue;
    }
    RawReply r = RawCall(s.channel, rpc.path, "", Bearer(w->admin()));
    if (r.status.ok()) {
      *which = rpc.method->name();
      return r.status;
    }
    last = r.status;
  }
  return last;
}

TEST(InputTest, OversizedRequestsAreResourceExhaustedAndServingGoesOn) {
  SecurityWorld* w = WorldForTest();
  ASSERT_NE(w, nullptr);
  const std::string scenario = "oversized request";
  std::vector<std::string> failures;
  int services = 0, over_ok = 0, under_ok = 0, after_ok = 0;
  for (const auto& served : w->served()) {
    ++services;
    // The first RPC of the service with a top-level bytes field, else with a page_token.
    const Rpc* target = nullptr;
    for (bool bytes_only : {true, false}) {
      for (const Rpc& rpc : w->rpcs()) {
        if (target != nullptr || rpc.served != served.get() || BigRequest(w, rpc, 1).empty()) {
          continue;
        }
        bool has_bytes = false;
        for (int i = 0; i < rpc.method->input_type()->field_count(); ++i) {
          has_bytes |= rpc.method->input_type()->field(i)->type() == FieldDescriptor::TYPE_BYTES;
        }
        if (has_bytes || !bytes_only) target = &rpc;
      }
    }
    ASSERT_NE(target, nullptr) << served->name;
    const size_t limit = static_cast<size_t>(served->max_message_bytes);
    RawReply over = RawCall(served->channel, target->path, BigRequest(w, *target, limit + 4096),
                            Bearer(w->admin()));
    ScanForLeaks("oversized", target->path, over.status);
    if (over.status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      ++over_ok;
    } else {
      failures.push_back(absl::StrCat(target->path, " over ", limit, " bytes: code ",
                                      over.status.error_code(), " ", over.status.error_message()));
    }
    // Just under the limit the request reaches the handler, which answers on its own terms.
    RawReply under = RawCall(served->channel, target->path, BigRequest(w, *target, limit - 4096),
                             Bearer(w->admin()));
    ScanForLeaks("oversized", target->path, under.status);
    const grpc::StatusCode uc = under.status.error_code();
    if (uc != grpc::StatusCode::RESOURCE_EXHAUSTED && uc != grpc::StatusCode::INTERNAL &&
        uc != grpc::StatusCode::UNKNOWN && uc != grpc::StatusCode::UNAVAILABLE) {
      ++under_ok;
    } else {
      failures.push_back(absl::StrCat(target->path, " under ", limit, " bytes: code ", uc, " ",
                                      under.status.error_message()));
    }
    std::string which;
    grpc::Status normal = NormalCall(w, *served, &which);
    absl::StatusOr<bool> health = anken::testing::HealthServing(served->channel);
    if (normal.ok() && health.ok() && *health) {
      ++after_ok;
      std::cout << "oversized request: " << served->name << " " << target->method->name()
                << " over " << limit << " bytes -> " << over.status.error_message() << "; then "
                << which << " OK\n";
    } else {
      failures.push_back(absl::StrCat(
          served->name, " after the oversized request: ", normal.error_message(), " health ",
          health.ok() ? (*health ? "SERVING" : "NOT_SERVING") : health.status().ToString()));
    }
  }
  PrintFailures(failures);
  bool held = true;
  held &=
      Check(scenario,
            absl::StrCat(over_ok, "/", services,
                         " services answer a request 4 KiB over their limit RESOURCE_EXHAUSTED"),
            over_ok == services && services == 5);
  held &= Check(scenario,
                absl::StrCat(under_ok, "/", services, " pass one 4 KiB under it to the handler"),
                under_ok == services);
  held &= Check(
      scenario,
      absl::StrCat(after_ok, "/", services, " serve a normal call and report SERVING afterwards"),
      after_ok == services);
  RecordScenario(
      scenario, held,
      absl::StrCat(services, " services, ", over_ok, " refused, ", after_ok, " serving after"));
  EXPECT_TRUE(held);
}

// ---- unique violations and deadlines ----

bool Bad(grpc::StatusCode code) {
  return code == grpc::StatusCode::INTERNAL || code == grpc::StatusCode::UNKNOWN ||
         code == grpc::StatusCode::DATA_LOSS;
}

TEST(InputTest, UniqueViolationsAndDeadlinesAnswerCleanly) {
  SecurityWorld* w = WorldForTest();
  ASSERT_NE(w, nullptr);
  const std::string scenario = "unique violations and deadlines";
  std::vector<std::string> failures;

  // The same unique thing twice.
  struct Twice {
    std::string path;
    std::string first, second;
    std::vector<grpc::StatusCode> want;  // for the second
  };
  const std::string u = w->Unique();
  absl::StatusOr<int64_t> partner = w->NewPartner("重複の加盟店");
  absl::StatusOr<int64_t> customer = w->NewCustomer("重複の顧客");
  ASSERT_TRUE(partner.ok() && customer.ok());
  absl::StatusOr<int64_t> project = w->NewCase(*customer, "重複の案件", *partner, w->today() - 5);
  ASSERT_TRUE(project.ok()) << project.status();
  auto customer_text = [&](const std::string& rid, const std::string& name) {
    return absl::StrCat(
        "request_id: ", Quoted(rid), " customer { code: ", Quoted(absl::StrCat("DUP-", u)),
        " name: ", Quoted(name), " kind: CUSTOMER_KIND_CORPORATION is_customer: true }");
  };
  auto charge_text = [&](const std::string& rid) {
    return absl::StrCat(
        "request_id: ", Quoted(rid), " project_id: ", *project, " partner_id: ", *partner,
        " charge_key: \"completion\" kind: COMMISSION_KIND_COMPLETION"
        " construction_amount: 800000 completion_date: ",
        DateText(w->today()), " report_month: ", MonthText(absl::CivilMonth(w->today())));
  };
  const std::string notification =
      absl::StrCat("dedup_key: ", Quoted(absl::StrCat("dup-", u)),
                   " recipient: \"dup@example.jp\" template_name: \"report_reminder\""
                   " parameters { key: \"partner_name\" value: \"加盟店\" }"
                   " parameters { key: \"period\" value: \"2026年11月\" }"
                   " parameters { key: \"deadline\" value: \"12月4日\" }");
  const std::vector<Twice> twice = {
      {"/anken.project.v1.ProjectService/CreateCategory",
       absl::StrCat("category { name: ", Quoted(absl::StrCat("重複区分", u)), " }"),
       absl::StrCat("category { name: ", Quoted(absl::StrCat("重複区分", u)), " }"),
       {grpc::StatusCode::ALREADY_EXISTS}},
      {"/anken.project.v1.ProjectService/CreateProduct",
       absl::StrCat("product { code: ", Quoted(absl::StrCat("DUP-", u)),
                    " name: \"重複\" unit_price: 1 tax_category: TAX_CATEGORY_STANDARD }"),
       absl::StrCat("product { code: ", Quoted(absl::StrCat("DUP-", u)),
                    " name: \"重複\" unit_price: 1 tax_category: TAX_CATEGORY_STANDARD }"),
       {grpc::StatusCode::ALREADY_EXISTS}},
      {"/anken.customer.v1.CustomerService/CreateCustomer",
       customer_text(absl::StrCat("dup-1-", u), "重複商事"),
       customer_text(absl::StrCat("dup-2-", u), "重複商事"),
       {grpc::StatusCode::ALREADY_EXISTS}},
      {"/anken.billing.v1.BillingService/CreateCommissionCharge",
       charge_text(absl::StrCat("dup-charge-1-", u)),
       charge_text(absl::StrCat("dup-charge-2-", u)),
       {grpc::StatusCode::ALREADY_EXISTS, grpc::StatusCode::OK}},
      {"/anken.scheduler.v1.SchedulerService/EnqueueNotification",
       notification,
       notification,
       {grpc::StatusCode::ALREADY_EXISTS, grpc::StatusCode::OK}},
      // Not unique in the table but in the idempotency record: another body, same request_id.
      {"/anken.customer.v1.CustomerService/CreateCustomer",
       absl::StrCat("request_id: ", Quoted(absl::StrCat("reuse-", u)),
                    " customer { name: \"最初の会社\" kind: CUSTOMER_KIND_CORPORATION"
                    " is_customer: true }"),
       absl::StrCat("request_id: ", Quoted(absl::StrCat("reuse-", u)),
                    " customer { name: \"別の会社\" kind: CUSTOMER_KIND_CORPORATION"
                    " is_customer: true }"),
       {grpc::StatusCode::INVALID_ARGUMENT}},
  };
  int unique_cells = 0, unique_wrong = 0;
  for (const Twice& t : twice) {
    const Rpc* rpc = FindRpc(w, t.path);
    ASSERT_NE(rpc, nullptr) << t.path;
    absl::StatusOr<std::unique_ptr<Message>> a = w->Request(*rpc, t.first);
    absl::StatusOr<std::unique_ptr<Message>> b = w->Request(*rpc, t.second);
    ASSERT_TRUE(a.ok() && b.ok()) << a.status() << b.status();
    RawReply r1 =
        RawCall(rpc->served->channel, t.path, (*a)->SerializeAsString(), Bearer(w->admin()));
    RawReply r2 =
        RawCall(rpc->served->channel, t.path, (*b)->SerializeAsString(), Bearer(w->admin()));
    ++unique_cells;
    ScanForLeaks("unique violation", t.path, r2.status);
    bool wanted = false;
    for (grpc::StatusCode c : t.want) wanted |= r2.status.error_code() == c;
    if (!r1.status.ok() || !wanted) {
      ++unique_wrong;
      failures.push_back(absl::StrCat(t.path, " twice: first ", r1.status.error_code(), " ",
                                      r1.status.error_message(), "; second ",
                                      r2.status.error_code(), " ", r2.status.error_message()));
    } else {
      std::cout << "unique violation: " << rpc->method->name() << " twice -> "
                << absl::StatusCodeToString(static_cast<absl::StatusCode>(r2.status.error_code()))
                << " \"" << r2.status.error_message() << "\"\n";
    }
  }

  // Every RPC with a 1 ms deadline (creates with real requests, so the database is busy when
  // the deadline passes).
  int deadline_cells = 0, deadline_exceeded = 0, deadline_wrong = 0;
  for (const Rpc& rpc : w->rpcs()) {
    if (rpc.served->roles.IsOpen(rpc.path)) continue;
    std::string request;
    if (SecurityWorld::IsCreate(*rpc.method)) {
      absl::StatusOr<std::string> text = w->CreateRequest(rpc.path);
      ASSERT_TRUE(text.ok()) << text.status();
      absl::StatusOr<std::unique_ptr<Message>> m = w->Request(rpc, *text);
      ASSERT_TRUE(m.ok()) << m.status();
      request = (*m)->SerializeAsString();
    }
    ++deadline_cells;
    RawReply r =
        RawCall(rpc.served->channel, rpc.path, request, Bearer(w->admin()), absl::Milliseconds(1));
    ScanForLeaks("deadline", rpc.path, r.status);
    deadline_exceeded += r.status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
    if (Bad(r.status.error_code())) {
      ++deadline_wrong;
      failures.push_back(absl::StrCat(rpc.path, " with 1 ms: code ", r.status.error_code(), " ",
                                      r.status.error_message()));
    }
  }
  // A handler may still finish (and commit) after its caller gave up: wait, bounded, until
  // the row count stands still, so that no later count sees these writes land.
  {
    absl::StatusOr<int64_t> last = w->CountRows();
    int still = 0;
    for (const absl::Time end = absl::Now() + absl::Seconds(10); still < 3 && absl::Now() < end;) {
      absl::SleepFor(absl::Milliseconds(100));  // pacing of the poll, bounded by `end`
      absl::StatusOr<int64_t> now = w->CountRows();
      still = now.ok() && last.ok() && *now == *last ? still + 1 : 0;
      last = now;
    }
  }
  int serving = 0;
  for (const auto& served : w->served()) {
    std::string which;
    grpc::Status normal = NormalCall(w, *served, &which);
    absl::StatusOr<bool> health = anken::testing::HealthServing(served->channel);
    if (normal.ok() && health.ok() && *health) {
      ++serving;
    } else {
      failures.push_back(
          absl::StrCat(served->name, " after the deadlines: ", normal.error_message()));
    }
  }
  PrintFailures(failures);
  bool held = true;
  held &= Check(scenario,
                absl::StrCat(unique_cells,
                             " unique things created twice (and a reused "
                             "request_id): ",
                             unique_wrong, " not the documented answer"),
                unique_wrong == 0);
  held &= Check(scenario,
                absl::StrCat(deadline_cells, " RPCs with a 1 ms deadline (", deadline_exceeded,
                             " DEADLINE_EXCEEDED): ", deadline_wrong, " INTERNAL/UNKNOWN"),
                deadline_wrong == 0 && deadline_cells > 0);
  held &=
      Check(scenario,
            absl::StrCat(serving, "/", w->served().size(), " services serve normally afterwards"),
            serving == static_cast<int>(w->served().size()));
  RecordScenario(scenario, held,
                 absl::StrCat(unique_cells, " duplicates, ", deadline_cells, " deadlines, ",
                              unique_wrong + deadline_wrong, " wrong"));
  EXPECT_TRUE(held);
}

}  // namespace
}  // namespace anken::reliability
