// Reliability: authentication and authorization over every RPC the five service processes
// serve (security_world.h). The RPCs come from server reflection, the roles from each
// service's own method-role table, so a new RPC or role cannot be left out of a matrix.
// - credentials: every RPC with no token, alg=none, HS256 with the wrong key, expired, not
//   yet valid, wrong issuer, wrong audience, a tampered payload and a garbage header →
//   UNAUTHENTICATED with the reason of that check; creates carry valid requests (the same
//   requests succeed with an admin token afterwards) and not one row is written.
// - roles: every RPC with a token of each role its table does not allow → PERMISSION_DENIED
//   (ROLE_NOT_ALLOWED), nothing written.
// - BOLA: every RPC a partner may call that takes an id, with partner A's token and, one id
//   field at a time, partner B's id → NOT_FOUND (a list: nothing of B's), B's data unchanged
//   and nothing written; the same requests with A's own ids reach A's data.

#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/auth/auth.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "tests/fakes/fake_clock.h"
#include "tests/reliability/reliability_support.h"
#include "tests/reliability/security_world.h"

namespace anken::reliability {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// ---- credentials ----

struct BadCredential {
  std::string name;
  std::string header;  // the authorization header value; "" sends none
  std::string reason;  // the ErrorInfo reason expected
};

std::string B64(const std::string& s) {
  std::string out;
  absl::WebSafeBase64Escape(s, &out);
  return out;
}

// Valid admin claims for the suite's issuer and audience, as JSON.
std::string AdminClaims() {
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  return absl::StrCat(R"({"sub":"intruder","role":"admin","iss":"anken","aud":"anken","iat":)", now,
                      R"(,"nbf":)", now, R"(,"exp":)", now + 3600, "}");
}

std::string Mint(auth::MintOptions o) {
  if (o.subject.empty()) o.subject = "intruder";
  o.role = auth::Role::kAdmin;
  if (o.hs256_secret.empty()) o.hs256_secret = kSecret;
  absl::StatusOr<std::string> t = auth::MintToken(o);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.value_or("");
}

std::vector<BadCredential> BadCredentials() {
  std::vector<BadCredential> out;
  out.push_back({"no token", "", "TOKEN_MISSING"});
  out.push_back(
      {"alg=none",
       Bearer(absl::StrCat(B64(R"({"alg":"none","typ":"JWT"})"), ".", B64(AdminClaims()), ".")),
       "TOKEN_INVALID"});
  {
    auth::MintOptions o;
    o.hs256_secret = "not-the-services-secret-0123456789abcdef";
    out.push_back({"HS256 with the wrong key", Bearer(Mint(o)), "TOKEN_INVALID"});
  }
  {
    anken::testing::FakeClock past(absl::Now() - absl::Hours(2));
    auth::MintOptions o;
    o.clock = &past;
    o.ttl = absl::Hours(1);  // expired an hour ago, far beyond the 30 s leeway
    out.push_back({"expired", Bearer(Mint(o)), "TOKEN_EXPIRED"});
  }
  {
    anken::testing::FakeClock future(absl::Now() + absl::Hours(1));
    auth::MintOptions o;
    o.clock = &future;  // nbf an hour from now
    out.push_back({"not yet valid", Bearer(Mint(o)), "TOKEN_NOT_YET_VALID"});
  }
  {
    auth::MintOptions o;
    o.issuer = "someone-else";
    out.push_back({"wrong issuer", Bearer(Mint(o)), "TOKEN_INVALID"});
  }
  {
    auth::MintOptions o;
    o.audience = "another-system";
    out.push_back({"wrong audience", Bearer(Mint(o)), "TOKEN_INVALID"});
  }
  {
    // A real accounting token whose payload is swapped for admin claims, signature kept.
    const std::string real = RoleToken(auth::Role::kAccounting);
    std::vector<std::string> parts = absl::StrSplit(real, '.');
    out.push_back({"tampered payload",
                   Bearer(absl::StrCat(parts[0], ".", B64(AdminClaims()), ".", parts[2])),
                   "TOKEN_INVALID"});
  }
  out.push_back({"garbage", "Bearer not.a.jwt", "TOKEN_MALFORMED"});
  return out;
}

TEST(AuthMatrixTest, BadCredentialsAreUnauthenticatedWithoutSideEffects) {
  SecurityWorld* w = WorldForTest();
  ASSERT_NE(w, nullptr);
  const std::string scenario = "credentials";
  const std::vector<BadCredential> creds = BadCredentials();

  // Requests first (their factories write the rows they refer to), then the count.
  std::map<std::string, std::string> create_text;
  std::vector<std::string> failures;
  int without_request = 0;
  for (const Rpc& rpc : w->rpcs()) {
    if (!SecurityWorld::IsCreate(*rpc.method)) continue;
    absl::StatusOr<std::string> text = w->CreateRequest(rpc.path);
    if (!text.ok()) {
      ++without_request;
      failures.push_back(std::string(text.status().message()));
      continue;
    }
    create_text[rpc.path] = *text;
  }
  absl::StatusOr<int64_t> rows_before = w->CountRows();
  ASSERT_TRUE(rows_before.ok()) << rows_before.status();

  int rpcs = 0, open = 0, cells = 0, wrong = 0;
  std::map<std::string, int> by_credential;
  for (const Rpc& rpc : w->rpcs()) {
    if (rpc.served->roles.IsOpen(rpc.path)) {
      ++open;
      continue;
    }
    ++rpcs;
    std::string request;
    if (auto it = create_text.find(rpc.path); it != create_text.end()) {
      absl::StatusOr<std::unique_ptr<Message>> m = w->Request(rpc, it->second);
      ASSERT_TRUE(m.ok()) << m.status();
      request = (*m)->SerializeAsString();
    }
    for (const BadCredential& c : creds) {
      ++cells;
      RawReply r = RawCall(rpc.served->channel, rpc.path, request, c.header);
      const std::string what = absl::StrCat(rpc.path, " with ", c.name);
      ScanForLeaks("credential", what, r.status);
      if (r.status.error_code() != grpc::StatusCode::UNAUTHENTICATED ||
          ReasonOf(r.status) != c.reason || !r.bytes.empty()) {
        ++wrong;
        ++by_credential[c.name];
        failures.push_back(absl::StrCat(what, ": code ", r.status.error_code(), " reason ",
                                        ReasonOf(r.status), " (want UNAUTHENTICATED ", c.reason,
                                        ") ", r.status.error_message()));
      }
    }
  }
  absl::StatusOr<int64_t> rows_after = w->CountRows();
  ASSERT_TRUE(rows_after.ok()) << rows_after.status();

  // The same create requests with a valid admin token do write: the refusals above mattered.
  int controls_ok = 0;
  for (const auto& [path, text] : create_text) {
    absl::StatusOr<std::unique_ptr<Message>> reply = w->Call(path, text, w->admin());
    if (reply.ok()) {
      ++controls_ok;
    } else {
      failures.push_back(absl::StrCat("control (admin): ", reply.status().ToString()));
    }
  }
  absl::StatusOr<int64_t> rows_controlled = w->CountRows();
  ASSERT_TRUE(rows_controlled.ok()) << rows_controlled.status();
  PrintFailures(failures);

  std::vector<std::string> per;
  for (const BadCredential& c : creds)
    per.push_back(absl::StrCat(c.name, " ", by_credential[c.name]));
  bool held = true;
  held &= Check(
      scenario,
      absl::StrCat(rpcs, " RPCs x ", creds.size(), " bad credentials = ", cells, " cells (", open,
                   " open RPCs skipped): ", wrong, " not UNAUTHENTICATED with the check's reason (",
                   absl::StrJoin(per, ", "), ")"),
      wrong == 0 && rpcs > 0 && cells == rpcs * static_cast<int>(creds.size()));
  held &= Check(scenario,
                absl::StrCat(create_text.size(), " creates sent valid requests (", without_request,
                             " without one): rows before ", *rows_before, ", after ", *rows_after),
                *rows_after == *rows_before && !create_text.empty() && without_request == 0);
  held &=
      Check(scenario,
            absl::StrCat(controls_ok, "/", create_text.size(),
                         " of the same requests succeed with an admin token (rows ", *rows_after,
                         " -> ", *rows_controlled, ")"),
            controls_ok == static_cast<int>(create_text.size()) && *rows_controlled > *rows_after);
  RecordScenario(scenario, held,
                 absl::StrCat(cells, " cells (", rpcs, " RPCs x ", creds.size(), "), ", wrong,
                              " wrong, ", *rows_after - *rows_before, " rows written"));
  EXPECT_TRUE(held);
}

// ---- roles ----

TEST(AuthMatrixTest, EveryRoleAMethodDoesNotAllowIsPermissionDenied) {
  SecurityWorld* w = WorldForTest();
  ASSERT_NE(w, nullptr);
  const std::string scenario = "role matrix";
  const std::vector<auth::Role> roles = {auth::Role::kAdmin, auth::Role::kStaff,
                                         auth::Role::kAccounting, auth::Role::kPartner,
                                         auth::Role::kService};
  absl::StatusOr<int64_t> rows_before = w->CountRows();
  ASSERT_TRUE(rows_before.ok()) << rows_before.status();

  int rpcs = 0, allowed = 0, denied_cells = 0, wrong = 0, undeclared = 0;
  std::map<std::string, int> denied_by_role;
  std::vector<std::string> failures;
  for (const Rpc& rpc : w->rpcs()) {
    if (rpc.served->roles.IsOpen(rpc.path)) continue;
    ++rpcs;
    if (!rpc.served->roles.IsDeclared(rpc.path)) {
      ++undeclared;
      failures.push_back(absl::StrCat(rpc.path, " is served but missing from the role table"));
    }
    for (auth::Role role : roles) {
      const std::string partner_id = role == auth::Role::kPartner ? absl::StrCat(w->a().id) : "";
      const auth::Principal principal{"matrix", role, partner_id};
      if (rpc.served->roles.Check(rpc.path, principal).ok()) {
        ++allowed;
        continue;
      }
      ++denied_cells;
      ++denied_by_role[std::string(auth::RoleName(role))];
      const std::string token = role == auth::Role::kPartner ? w->a().token : RoleToken(role);
      RawReply r = RawCall(rpc.served->channel, rpc.path, "", Bearer(token));
      const std::string what = absl::StrCat(rpc.path, " as ", auth::RoleName(role));
      ScanForLeaks("permission", what, r.status);
      if (r.status.error_code() != grpc::StatusCode::PERMISSION_DENIED ||
          ReasonOf(r.status) != auth::kReasonRoleNotAllowed || !r.bytes.empty()) {
        ++wrong;
        failures.push_back(absl::StrCat(what, ": code ", r.status.error_code(), " reason ",
                                        ReasonOf(r.status), " ", r.status.error_message()));
      }
    }
  }
  absl::StatusOr<int64_t> rows_after = w->CountRows();
  ASSERT_TRUE(rows_after.ok()) << rows_after.status();
  PrintFailures(failures);

  std::vector<std::string> per;
  for (const auto& [role, n] : denied_by_role) per.push_back(absl::StrCat(role, " ", n));
  const int total = rpcs * static_cast<int>(roles.size());
  bool held = true;
  held &=
      Check(scenario,
            absl::StrCat(rpcs, " RPCs x ", roles.size(), " roles = ", total, " cells: ", allowed,
                         " allowed by the tables, ", denied_cells, " denied (",
                         absl::StrJoin(per, ", "), "): ", wrong,
                         " not PERMISSION_DENIED/ROLE_NOT_ALLOWED, ", undeclared, " undeclared"),
            wrong == 0 && undeclared == 0 && denied_cells > 0 && allowed + denied_cells == total);
  held &= Check(scenario, absl::StrCat("rows before ", *rows_before, ", after ", *rows_after),
                *rows_before == *rows_after);
  RecordScenario(scenario, held,
                 absl::StrCat(total, " cells, ", denied_cells, " denied, ", wrong, " wrong"));
  EXPECT_TRUE(held);
}

// ---- BOLA ----

// The id fields of a request type (int64, named id, ids, *_id or *_ids), as dotted paths,
// including those of nested request messages.
void IdFields(const google::protobuf::Descriptor* d, const std::string& prefix, int depth,
              std::vector<std::string>* out) {
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    const std::string& n = f->name();
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_INT64 &&
        (n == "id" || n == "ids" || absl::EndsWith(n, "_id") || absl::EndsWith(n, "_ids"))) {
      out->push_back(prefix + n);
    } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !f->is_repeated() &&
               depth > 0 && !absl::StartsWith(f->message_type()->full_name(), "google.") &&
               !absl::StartsWith(f->message_type()->full_name(), "anken.common.")) {
      IdFields(f->message_type(), absl::StrCat(prefix, n, "."), depth - 1, out);
    }
  }
}

// The id of `p` an id field of `service`'s RPCs names; empty when none is known.
std::vector<int64_t> IdsFor(const std::string& service, const std::string& path,
                            const PartnerData& p) {
  const std::string field =
      path.substr(path.rfind('.') == std::string::npos ? 0 : path.rfind('.') + 1);
  if (field == "id") {
    if (service == "customer") return {p.id};
    if (service == "project") return {p.cases[0]};
    if (service == "report") return {p.report_id};
    return {};
  }
  if (field == "ids" && service == "project") return {p.cases[0], p.cases[1]};
  if (field == "partner_id") return {p.id};
  if (field == "customer_id") return {p.end_customers[0]};
  if (field == "project_id") return {p.cases[0]};
  if (field == "report_id") return {p.report_id};
  if (field == "line_id") return {p.lines[0]};
  if (field == "case_update_id") return {p.case_update_id};
  return {};
}

// What a partner request needs besides its ids to be otherwise valid.
std::string PartnerRequestText(const std::string& method, absl::CivilDay today,
                               const std::string& request_id) {
  if (method == "ReportChange") {
    return absl::StrCat("change { outcome: OUTCOME_LOST lost_date: ", DateText(today), " }");
  }
  if (method == "SubmitReport")
    return absl::StrCat("request_id: ", Quoted(request_id), " attestation: true");
  if (method == "SubmitCaseUpdate") {
    return absl::StrCat("request_id: ", Quoted(request_id),
                        " change { outcome: OUTCOME_COMPLETED completion_date: ", DateText(today),
                        " amount: 300000 }");
  }
  if (method == "UploadReportXlsx") return "dry_run: true";
  return "";
}

// Sets the int64 field at dotted `path` of `m` to `ids` (repeated: all, else the first).
bool SetIds(Message* m, const std::string& path, const std::vector<int64_t>& ids) {
  std::vector<std::string> parts = absl::StrSplit(path, '.');
  Message* cur = m;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    const FieldDescriptor* f = cur->GetDescriptor()->FindFieldByName(parts[i]);
    if (f == nullptr) return false;
    cur = cur->GetReflection()->MutableMessage(cur, f);
  }
  const FieldDescriptor* f = cur->GetDescriptor()->FindFieldByName(parts.back());
  if (f == nullptr || ids.empty()) return false;
  if (f->is_repeated()) {
    for (int64_t id : ids) cur->GetReflection()->AddInt64(cur, f, id);
  } else {
    cur->GetReflection()->SetInt64(cur, f, ids[0]);
  }
  return true;
}

// Partner B's data as an admin reads it: any change to it changes these bytes.
std::string DigestOf(SecurityWorld* w, const PartnerData& p) {
  std::string out;
  auto read = [&](const std::string& path, const std::string& text) {
    absl::StatusOr<std::unique_ptr<Message>> m = w->Call(path, text, w->admin());
    out += m.ok() ? (*m)->SerializeAsString() : std::string(m.status().message());
    out += "|";
  };
  read("/anken.customer.v1.CustomerService/GetCustomer", absl::StrCat("id: ", p.id));
  for (int64_t c : p.end_customers) {
    read("/anken.customer.v1.CustomerService/GetCustomer", absl::StrCat("id: ", c));
  }
  for (int64_t c : p.cases) {
    read("/anken.project.v1.ProjectService/GetProject", absl::StrCat("id: ", c));
  }
  read("/anken.report.v1.ReportIntakeService/GetReport", absl::StrCat("id: ", p.report_id));
  read("/anken.report.v1.ReportIntakeService/ListReportLines",
       absl::StrCat("report_id: ", p.report_id));
  read("/anken.report.v1.ReportIntakeService/GetSubmissionStatus",
       absl::StrCat("report_id: ", p.report_id));
  read("/anken.report.v1.ReportIntakeService/GetSubmissionStatus",
       absl::StrCat("case_update_id: ", p.case_update_id));
  return out;
}

struct BolaCell {
  const Rpc* rpc;
  std::string id_field;
  std::vector<int64_t> b_ids;
  std::unique_ptr<Message> as_b;     // B's id in the field
  std::unique_ptr<Message> as_none;  // an id nobody has
  std::unique_ptr<Message> as_a;     // A's own id: the control
};

constexpr int64_t kNobodysId = 987654321;

// `text` with every number that is one of `ids` written as "#", so that answers about
// different ids compare.
std::string WithoutIds(const std::string& text, const std::vector<int64_t>& ids) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) {
      out += text[i++];
      continue;
    }
    size_t end = i;
    while (end < text.size() && absl::ascii_isdigit(static_cast<unsigned char>(text[end]))) ++end;
    const std::string digits = text.substr(i, end - i);
    bool is_id = false;
    for (int64_t id : ids) is_id |= digits == absl::StrCat(id);
    out += is_id ? "#" : digits;
    i = end;
  }
  return out;
}

TEST(AuthMatrixTest, PartnerACannotReachPartnerBsObjects) {
  SecurityWorld* w = WorldForTest();
  ASSERT_NE(w, nullptr);
  const std::string scenario = "BOLA";
  const PartnerData& a = w->a();
  const PartnerData& b = w->b();
  const auth::Principal a_principal{"partner-a", auth::Role::kPartner, absl::StrCat(a.id)};
  const std::string b_marker = SecurityWorld::Marker(true);
  const std::string a_marker = SecurityWorld::Marker(false);

  std::vector<std::string> failures;
  std::vector<std::string> without_ids;
  std::vector<BolaCell> cells;
  int partner_rpcs = 0, n = 0, unknown_ids = 0;
  for (const Rpc& rpc : w->rpcs()) {
    if (rpc.served->roles.IsOpen(rpc.path) ||
        !rpc.served->roles.Check(rpc.path, a_principal).ok()) {
      continue;
    }
    ++partner_rpcs;
    std::vector<std::string> id_fields;
    IdFields(rpc.method->input_type(), "", 2, &id_fields);
    if (id_fields.empty()) {
      without_ids.push_back(rpc.method->name());
      continue;
    }
    for (const std::string& field : id_fields) {
      const std::string text =
          PartnerRequestText(rpc.method->name(), w->today(), absl::StrCat("bola-", ++n));
      absl::StatusOr<std::unique_ptr<Message>> as_b = w->Request(rpc, text);
      absl::StatusOr<std::unique_ptr<Message>> as_none = w->Request(rpc, text);
      absl::StatusOr<std::unique_ptr<Message>> as_a = w->Request(rpc, text);
      ASSERT_TRUE(as_b.ok() && as_none.ok() && as_a.ok()) << as_b.status() << as_a.status();
      const std::vector<int64_t> b_ids = IdsFor(rpc.served->name, field, b);
      const std::vector<int64_t> a_ids = IdsFor(rpc.served->name, field, a);
      if (!SetIds(as_b->get(), field, b_ids) || !SetIds(as_a->get(), field, a_ids) ||
          !SetIds(as_none->get(), field, {kNobodysId})) {
        ++unknown_ids;
        failures.push_back(absl::StrCat(rpc.path, ".", field,
                                        ": no id of partner B known for this field (add it to "
                                        "IdsFor): the cell cannot be left out"));
        continue;
      }
      cells.push_back(
          BolaCell{&rpc, field, b_ids, std::move(*as_b), std::move(*as_none), std::move(*as_a)});
    }
  }

  const std::string digest_before = DigestOf(w, b);
  absl::StatusOr<int64_t> rows_before = w->CountRows();
  ASSERT_TRUE(rows_before.ok()) << rows_before.status();
  int wrong = 0, oracles = 0;
  std::map<std::string, int> codes;
  for (const BolaCell& c : cells) {
    const std::string what = absl::StrCat(c.rpc->path, " with B's ", c.id_field);
    RawReply r =
        RawCall(c.rpc->served->channel, c.rpc->path, c.as_b->SerializeAsString(), Bearer(a.token));
    ScanForLeaks("BOLA", what, r.status);
    const bool list = absl::StartsWith(c.rpc->method->name(), "List");
    const bool read_b = absl::StrContains(r.bytes, b_marker) ||
                        absl::StrContains(r.status.error_message(), b_marker) ||
                        absl::StrContains(r.status.error_message(), b.name);
    const bool ok =
        !read_b && (r.status.error_code() == grpc::StatusCode::NOT_FOUND ? r.bytes.empty()
                                                                         : list && r.status.ok());
    ++codes[absl::StatusCodeToString(static_cast<absl::StatusCode>(r.status.error_code()))];
    // B's object must look exactly like one that does not exist: same code, same words.
    RawReply none = RawCall(c.rpc->served->channel, c.rpc->path, c.as_none->SerializeAsString(),
                            Bearer(a.token));
    std::vector<int64_t> ids = c.b_ids;
    ids.push_back(kNobodysId);
    if (none.status.error_code() != r.status.error_code() ||
        WithoutIds(none.status.error_message(), ids) != WithoutIds(r.status.error_message(), ids) ||
        none.bytes != r.bytes) {
      ++oracles;
      failures.push_back(absl::StrCat(what, ": answered unlike an id nobody has (code ",
                                      r.status.error_code(), " \"", r.status.error_message(),
                                      "\" vs ", none.status.error_code(), " \"",
                                      none.status.error_message(), "\")"));
    }
    if (!ok) {
      ++wrong;
      failures.push_back(absl::StrCat(what, ": code ", r.status.error_code(),
                                      read_b ? " and B's data in the reply" : "", " ",
                                      r.status.error_message()));
    }
  }
  absl::StatusOr<int64_t> rows_after = w->CountRows();
  ASSERT_TRUE(rows_after.ok()) << rows_after.status();
  const std::string digest_after = DigestOf(w, b);

  // Controls: the same requests with A's own ids reach A's objects.
  int controls_ok = 0;
  for (const BolaCell& c : cells) {
    RawReply r =
        RawCall(c.rpc->served->channel, c.rpc->path, c.as_a->SerializeAsString(), Bearer(a.token));
    const bool list = absl::StartsWith(c.rpc->method->name(), "List");
    const bool ok = list ? r.status.ok() && absl::StrContains(r.bytes, a_marker)
                         : r.status.error_code() != grpc::StatusCode::NOT_FOUND;
    if (ok) {
      ++controls_ok;
    } else {
      failures.push_back(absl::StrCat("control ", c.rpc->path, " with A's own ", c.id_field,
                                      ": code ", r.status.error_code(), " ",
                                      r.status.error_message()));
    }
  }
  PrintFailures(failures);

  std::vector<std::string> code_list;
  for (const auto& [code, count] : codes) code_list.push_back(absl::StrCat(code, " ", count));
  bool held = true;
  held &= Check(
      scenario,
      absl::StrCat(partner_rpcs, " RPCs a partner may call (", without_ids.size(),
                   " take no id: ", absl::StrJoin(without_ids, ", "), "), ", cells.size(),
                   " cells of partner A with one of B's ids (", absl::StrJoin(code_list, ", "),
                   "): ", wrong, " not NOT_FOUND / nothing of B's, ", unknown_ids,
                   " id fields without a known id of B"),
      wrong == 0 && unknown_ids == 0 && !cells.empty());
  held &= Check(scenario,
                absl::StrCat(cells.size() - oracles, "/", cells.size(),
                             " answers about B's objects are those about an id nobody has "
                             "(no existence oracle)"),
                oracles == 0);
  held &= Check(scenario,
                absl::StrCat("B's data as admin reads it unchanged: ",
                             digest_before == digest_after ? "yes" : "NO", "; rows before ",
                             *rows_before, ", after ", *rows_after),
                digest_before == digest_after && *rows_before == *rows_after);
  held &= Check(scenario,
                absl::StrCat(controls_ok, "/", cells.size(),
                             " of the same requests with A's own ids reach A's objects"),
                controls_ok == static_cast<int>(cells.size()));
  RecordScenario(scenario, held,
                 absl::StrCat(cells.size(), " cells, ", wrong, " wrong, B unchanged"));
  EXPECT_TRUE(held);
}

}  // namespace
}  // namespace anken::reliability
