#include "common/auth/auth_interceptor.h"

#include <array>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/synchronization/mutex.h"
#include "common/log/log.h"
#include "common/server/request_check.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/slice.h"

namespace anken::auth {
namespace {

constexpr absl::string_view kAuthorizationHeader = "authorization";
constexpr absl::string_view kReasonAuthNotConfigured = "AUTH_NOT_CONFIGURED";

// Outcomes of the calls in flight, keyed by their context. An entry is owned by the
// interceptor that wrote it, so a context reused for a later call can never see (or have
// erased) a stale outcome. Every call writes, reads and erases its entry, from whichever
// thread gRPC runs it on, so the map is split in shards with a lock each: concurrent calls
// rarely wait for one another.
class CallRegistry {
 public:
  void Put(const grpc::ServerContextBase* ctx, const void* owner,
           absl::StatusOr<Principal> caller) {
    Shard& shard = ShardOf(ctx);
    absl::MutexLock lock(&shard.mu);
    shard.calls.insert_or_assign(ctx, Record{owner, std::move(caller)});
  }
  void Erase(const grpc::ServerContextBase* ctx, const void* owner) {
    Shard& shard = ShardOf(ctx);
    absl::MutexLock lock(&shard.mu);
    auto it = shard.calls.find(ctx);
    if (it != shard.calls.end() && it->second.owner == owner) shard.calls.erase(it);
  }
  std::optional<absl::StatusOr<Principal>> Get(const grpc::ServerContextBase* ctx) const {
    const Shard& shard = ShardOf(ctx);
    absl::MutexLock lock(&shard.mu);
    auto it = shard.calls.find(ctx);
    if (it == shard.calls.end()) return std::nullopt;
    return it->second.caller;
  }
  size_t Size() const {
    size_t n = 0;
    for (const Shard& shard : shards_) {
      absl::MutexLock lock(&shard.mu);
      n += shard.calls.size();
    }
    return n;
  }

 private:
  struct Record {
    const void* owner;
    absl::StatusOr<Principal> caller;
  };
  struct Shard {
    mutable absl::Mutex mu;
    absl::flat_hash_map<const grpc::ServerContextBase*, Record> calls ABSL_GUARDED_BY(mu);
  };
  static constexpr size_t kShards = 16;

  Shard& ShardOf(const grpc::ServerContextBase* ctx) {
    return shards_[absl::HashOf(ctx) % kShards];
  }
  const Shard& ShardOf(const grpc::ServerContextBase* ctx) const {
    return shards_[absl::HashOf(ctx) % kShards];
  }

  std::array<Shard, kShards> shards_;
};

CallRegistry& Registry() {
  static CallRegistry* const registry = new CallRegistry();
  return *registry;
}

class AuthInterceptor final : public grpc::experimental::Interceptor {
 public:
  AuthInterceptor(grpc::experimental::ServerRpcInfo* info,
                  std::shared_ptr<const Authenticator> authenticator,
                  std::shared_ptr<const MethodRoles> roles)
      : ctx_(info->server_context()),
        method_(info->method() != nullptr ? info->method() : ""),
        authenticator_(std::move(authenticator)),
        roles_(std::move(roles)) {}

  ~AuthInterceptor() override {
    if (recorded_) Registry().Erase(ctx_, this);
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      Decide(*methods->GetRecvInitialMetadata());
    }
    const bool send_message =
        methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE);
    const bool send_status =
        methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS);
    if ((send_message || send_status) && !decided_ && !rejection_.has_value() &&
        !roles_->IsOpen(method_)) {
      // Nothing was decided before the answer went out: fail closed.
      rejection_ = WithReason(absl::InternalError("auth outcome missing"),
                              kReasonAuthNotConfigured);
    }
    if (rejection_.has_value()) {
      if (send_message) {
        // A handler that ignored CallerOf() must not leak its answer.
        grpc::ByteBuffer* buffer = methods->GetSerializedSendMessage();
        if (buffer != nullptr) {
          grpc::Slice empty;
          *buffer = grpc::ByteBuffer(&empty, 1);
        }
      }
      if (send_status) methods->ModifySendStatus(ToGrpcStatus(*rejection_));
    }
    methods->Proceed();
  }

 private:
  void Decide(const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) {
    decided_ = true;
    auto [begin, end] = metadata.equal_range(
        grpc::string_ref(kAuthorizationHeader.data(), kAuthorizationHeader.size()));
    absl::StatusOr<Principal> caller = absl::UnknownError("unset");
    if (begin == end) {
      caller = authenticator_->Authenticate("");
    } else if (std::next(begin) != end) {
      caller = WithReason(absl::UnauthenticatedError("send exactly one authorization header"),
                          kReasonTokenMalformed);
    } else {
      caller = authenticator_->Authenticate(
          absl::string_view(begin->second.data(), begin->second.size()));
    }

    if (!roles_->IsOpen(method_)) {
      absl::Status denied = caller.ok() ? roles_->Check(method_, *caller) : caller.status();
      if (!denied.ok()) {
        rejection_ = denied;
        caller = denied;
        log::Info("auth_rejected")
            .Str("rpc", method_)
            .Str("code", absl::StatusCodeToString(denied.code()))
            .Str("reason", ErrorReason(denied));
      }
    }
    Registry().Put(ctx_, this, std::move(caller));
    recorded_ = true;
  }

  const grpc::ServerContextBase* const ctx_;
  const std::string method_;
  const std::shared_ptr<const Authenticator> authenticator_;
  const std::shared_ptr<const MethodRoles> roles_;
  bool decided_ = false;
  bool recorded_ = false;
  std::optional<absl::Status> rejection_;
};

class AuthInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  AuthInterceptorFactory(std::shared_ptr<const Authenticator> authenticator,
                         std::shared_ptr<const MethodRoles> roles)
      : authenticator_(std::move(authenticator)), roles_(std::move(roles)) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new AuthInterceptor(info, authenticator_, roles_);
  }

 private:
  const std::shared_ptr<const Authenticator> authenticator_;
  const std::shared_ptr<const MethodRoles> roles_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeAuthInterceptorFactory(
    std::shared_ptr<const Authenticator> authenticator, std::shared_ptr<const MethodRoles> roles) {
  return std::make_unique<AuthInterceptorFactory>(std::move(authenticator), std::move(roles));
}

absl::StatusOr<Principal> CallerOf(const grpc::ServerContextBase* ctx) {
  std::optional<absl::StatusOr<Principal>> caller = Registry().Get(ctx);
  if (!caller.has_value()) {
    return WithReason(absl::InternalError("no auth interceptor saw this call"),
                      kReasonAuthNotConfigured);
  }
  // A request the server refused before its handler (common/server/request_check.h), told
  // only to a caller who may make the call at all.
  if (caller->ok()) RETURN_IF_ERROR(server::RequestRefusal(*ctx));
  return *std::move(caller);
}

size_t TrackedCallsForTesting() { return Registry().Size(); }

}  // namespace anken::auth
