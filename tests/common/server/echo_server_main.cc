// anken-echo: a complete service built only from common/ (ServiceMain), serving the test-only
// anken.testing.v1.EchoService, so the integration test can check the whole runtime as a
// real process: config, migrations, auth, idempotent writes, audit, metrics, health, SIGTERM.

#include <pqxx/pqxx>

#include "anken/testing/v1/echo.grpc.pb.h"
#include "common/auth/auth_interceptor.h"
#include "common/db/audit.h"
#include "common/db/idempotency.h"
#include "common/server/handler.h"
#include "common/server/service_main.h"
#include "common/status/errors.h"

namespace anken::testing {
namespace {

using server::DeadlineOf;
using v1::EchoService;

class EchoServer final : public EchoService::Service {
 public:
  explicit EchoServer(server::Runtime& rt) : rt_(rt) {}

  grpc::Status Echo(grpc::ServerContext* ctx, const v1::EchoRequest* req,
                    v1::EchoResponse* resp) override {
    AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
    if (req->delay_ms() > 0) {
      // Sleeps in the database, to show that the caller's deadline bounds the statement.
      absl::Status s = rt_.pool.Transact(DeadlineOf(*ctx), [&](pqxx::work& tx) {
        tx.exec_params("SELECT pg_sleep($1)", req->delay_ms() / 1000.0);
        return absl::OkStatus();
      });
      if (!s.ok()) return ToGrpcStatus(s);
    }
    resp->set_message(req->message());
    resp->set_subject(caller.subject);
    resp->set_role(std::string(auth::RoleName(caller.role)));
    return grpc::Status::OK;
  }

  grpc::Status CreateNote(grpc::ServerContext* ctx, const v1::CreateNoteRequest* req,
                          v1::Note* resp) override {
    AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
    if (req->text().empty()) return ToGrpcStatus(InvalidField("text", "is required"));
    const std::string method = "/anken.testing.v1.EchoService/CreateNote";
    absl::StatusOr<v1::Note> note = db::Idempotent<v1::Note>(
        rt_.pool, DeadlineOf(*ctx), "echo", method, req->request_id(), *req,
        [&](pqxx::work& tx) -> absl::StatusOr<v1::Note> {
          pqxx::row row = tx.exec_params1(
              "INSERT INTO echo.notes (text, created_by, create_time) VALUES ($1, $2, now()) "
              "RETURNING id",
              req->text(), caller.subject);
          v1::Note n;
          n.set_id(row[0].as<int64_t>());
          n.set_text(req->text());
          db::AuditRecord audit;
          audit.actor = caller.subject;
          audit.actor_role = std::string(auth::RoleName(caller.role));
          audit.method = method;
          audit.resource_type = "note";
          audit.resource_id = std::to_string(n.id());
          audit.change_json = "{\"created\":true}";
          audit.request_id = req->request_id();
          audit.event_time = rt_.clock.Now();
          RETURN_IF_ERROR(db::WriteAudit(tx, "echo", audit));
          return n;
        });
    if (!note.ok()) return ToGrpcStatus(note.status());
    *resp = *note;
    return grpc::Status::OK;
  }

  grpc::Status AdminEcho(grpc::ServerContext* ctx, const v1::EchoRequest* req,
                         v1::EchoResponse* resp) override {
    AUTHORIZE_OR_RETURN(const auth::Principal caller, ctx);
    resp->set_message(req->message());
    resp->set_subject(caller.subject);
    return grpc::Status::OK;
  }

 private:
  server::Runtime& rt_;
};

}  // namespace
}  // namespace anken::testing

int main(int argc, char** argv) {
  using anken::auth::Role;
  anken::server::ServiceDefinition def;
  def.name = "echo";
  def.default_grpc_port = 50099;
  def.default_metrics_port = 9499;
  def.roles
      .Allow("/anken.testing.v1.EchoService/Echo",
             {Role::kAdmin, Role::kStaff, Role::kAccounting, Role::kPartner, Role::kService})
      .Allow("/anken.testing.v1.EchoService/CreateNote", {Role::kAdmin, Role::kStaff})
      .Allow("/anken.testing.v1.EchoService/AdminEcho", {Role::kAdmin});
  def.make_services = [](anken::server::Runtime& rt)
      -> absl::StatusOr<std::vector<anken::server::RegisteredService>> {
    std::vector<anken::server::RegisteredService> out;
    out.push_back(anken::server::Register<anken::testing::v1::EchoService>(std::make_unique<anken::testing::EchoServer>(rt)));
    return out;
  };
  return anken::server::ServiceMain(argc, argv, std::move(def));
}
