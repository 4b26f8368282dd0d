#pragma once
// The dynamic-call core every ankenctl command is built on: find a method among the linked
// service descriptors, parse a JSON request into its input type, call it on the service's
// address (--addr, else ANKEN_<SERVICE>_ADDR, else the default local port) with --token /
// ANKEN_TOKEN as bearer, and hand back the response (a generated message). Errors go to
// stderr and come back as exit codes: 0 ok, 1 refused (a user error: INVALID_ARGUMENT,
// NOT_FOUND, PERMISSION_DENIED, ...), 2 bad usage, 3 server or network.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "grpcpp/support/status.h"
#include "tools/ankenctl/args.h"
#include "tools/ankenctl/request.h"

namespace anken::ctl {

constexpr int kExitOk = 0;
constexpr int kExitRefused = 1;
constexpr int kExitUsage = 2;
constexpr int kExitServer = 3;

// Every service this binary can talk to.
const std::vector<const google::protobuf::ServiceDescriptor*>& Services();

int ExitCodeFor(grpc::StatusCode code);

// "ankenctl: <problem>" and where to read the usage (`ankenctl help <args.command>`); returns 2.
int UsageProblem(const Args& args, const std::string& problem);

// Calls `target` ("pkg.Service/Method") with the JSON request; on success sets *response.
int Invoke(const Args& args, const std::string& target, const std::string& json,
           std::unique_ptr<google::protobuf::Message>* response);

// A List* call: page_size from --page-size, page_token from --page-token; with --all it
// follows next_page_token and merges every page into *response (next_page_token cleared).
// Without --all a further page is announced on stderr.
int InvokeList(const Args& args, const std::string& target, JsonObject request,
               std::unique_ptr<google::protobuf::Message>* response);

// The proto JSON of `m` (proto field names, indented), as `ankenctl call` prints it.
std::string ToJson(const google::protobuf::Message& m);

// Prints `m` as JSON with --json, else what `render` returns. Returns 0.
int Show(const Args& args, const google::protobuf::Message& m,
         const std::function<std::string()>& render);

// --request-id, else a fresh uuid-like id (a retried command line with --request-id is
// idempotent on the server).
std::string RequestIdFor(const Args& args);

// One line of progress on stderr ("ankenctl: ...").
void Progress(const std::string& line);

// ---- pieces every command uses; each returns 0, or 2 after printing the usage problem ----

// args.words must be `count` operands, the first a positive id (`what` names it).
int IdOperand(const Args& args, const std::string& what, size_t count, int64_t* id);
// --flag ID / --flag YYYY-MM-DD / --flag YYYY-MM as `field` of *req, when the flag is given.
int IdFlag(const Args& args, const std::string& flag, const std::string& field, JsonObject* req);
int DateFlag(const Args& args, const std::string& flag, const std::string& field,
             JsonObject* req);
int MonthFlag(const Args& args, const std::string& flag, const std::string& field,
              JsonObject* req);
// --flag WORD as a one-value repeated enum filter: --status ready with prefix ENTRY_STATUS
// → "statuses": ["ENTRY_STATUS_READY"] (an unknown word is refused by the JSON parser: 2).
void EnumFilter(const Args& args, const std::string& flag, const std::string& field,
                const std::string& prefix, JsonObject* req);

// Saves downloaded `content` to -o FILE, else to `suggested` (the server's file name, as a
// plain name in the current folder, never a path), else `fallback`; prints "FILE (N bytes)".
int SaveDownload(const Args& args, const std::string& content, std::string suggested,
                 const std::string& fallback);

// Whole files; false (and a message on stderr) when they cannot be read or written.
bool ReadFileBytes(const std::string& path, std::string* out);
bool WriteFileBytes(const std::string& path, const std::string& bytes);

}  // namespace anken::ctl
