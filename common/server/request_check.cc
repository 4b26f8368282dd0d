#include "common/server/request_check.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace anken::server {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// Status bounds, in bytes before encoding: grpc-message is percent-encoded (up to 3x for
// Japanese) and the details are base64, and the client refuses response metadata over 8 KiB.
constexpr size_t kMaxMessageBytes = 1024;
constexpr size_t kMaxTextBytes =
    256;  // a field violation's field and description, ErrorInfo values
constexpr size_t kMaxDetailsBytes = 2048;

bool HasNul(const std::string& s) { return s.find('\0') != std::string::npos; }

// `s` cut to at most `max` bytes at a character boundary, marked with "…" when cut.
std::string Cut(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end) + "\u2026";
}

// `status` with its message and the texts of its details cut to the bounds above. Details
// that still do not fit (or do not parse) are dropped: the code and message get through.
grpc::Status Bounded(const grpc::Status& status) {
  std::string details;
  google::rpc::Status rpc;
  if (!status.error_details().empty() && rpc.ParseFromString(status.error_details())) {
    rpc.set_message(Cut(rpc.message(), kMaxMessageBytes));
    for (google::protobuf::Any& any : *rpc.mutable_details()) {
      google::rpc::BadRequest bad;
      google::rpc::ErrorInfo info;
      if (any.Is<google::rpc::BadRequest>() && any.UnpackTo(&bad)) {
        for (auto& v : *bad.mutable_field_violations()) {
          v.set_field(Cut(v.field(), kMaxTextBytes));
          v.set_description(Cut(v.description(), kMaxTextBytes));
        }
        any.PackFrom(bad);
      } else if (any.Is<google::rpc::ErrorInfo>() && any.UnpackTo(&info)) {
        for (auto& [key, value] : *info.mutable_metadata()) value = Cut(value, kMaxTextBytes);
        any.PackFrom(info);
      }
    }
    details = rpc.SerializeAsString();
    if (details.size() > kMaxDetailsBytes) details.clear();
  }
  return grpc::Status(status.error_code(), Cut(status.error_message(), kMaxMessageBytes), details);
}

// The path ("lines[2].description") of the first string field of `m`, at any depth, holding a
// NUL; false when there is none. Only set fields are visited, so this costs what the message
// holds. Bytes fields are skipped: they may carry anything.
bool FindNul(const Message& m, const std::string& prefix, std::string* path) {
  const google::protobuf::Reflection* r = m.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  for (const FieldDescriptor* f : fields) {
    if (f->type() == FieldDescriptor::TYPE_STRING) {
      std::string scratch;
      if (!f->is_repeated()) {
        if (HasNul(r->GetStringReference(m, f, &scratch))) {
          *path = prefix + f->name();
          return true;
        }
        continue;
      }
      for (int i = 0; i < r->FieldSize(m, f); ++i) {
        if (HasNul(r->GetRepeatedStringReference(m, f, i, &scratch))) {
          *path = absl::StrCat(prefix, f->name(), "[", i, "]");
          return true;
        }
      }
    } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (!f->is_repeated()) {
        if (FindNul(r->GetMessage(m, f), absl::StrCat(prefix, f->name(), "."), path)) return true;
        continue;
      }
      for (int i = 0; i < r->FieldSize(m, f); ++i) {
        if (FindNul(r->GetRepeatedMessage(m, f, i), absl::StrCat(prefix, f->name(), "[", i, "]."),
                    path)) {
          return true;
        }
      }
    }
  }
  return false;
}

class RequestCheckInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit RequestCheckInterceptor(grpc::experimental::ServerRpcInfo* info)
      : scan_(info->type() == grpc::experimental::ServerRpcInfo::Type::UNARY &&
              info->method() != nullptr && absl::StartsWith(info->method(), "/anken.")) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      // Only this interceptor may say a request was refused.
      methods->GetRecvInitialMetadata()->erase(kRefusedFieldHeader);
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE)) {
      // The sync server deserializes before this hook; a null message means it failed.
      void* message = methods->GetRecvMessage();
      if (message == nullptr) {
        unparsable_ = true;
      } else if (scan_) {
        CheckText(*static_cast<const google::protobuf::MessageLite*>(message), methods);
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      if (unparsable_ && methods->GetSendStatus().error_code() == grpc::StatusCode::INTERNAL) {
        methods->ModifySendStatus(ToGrpcStatus(WithReason(
            absl::InvalidArgumentError(
                "the request could not be parsed: a string field is not valid UTF-8, or the "
                "bytes are not a request of this method"),
            kReasonMalformedRequest)));
      }
      const grpc::Status status = methods->GetSendStatus();
      if (status.error_message().size() > kMaxMessageBytes ||
          status.error_details().size() > kMaxDetailsBytes) {
        methods->ModifySendStatus(Bounded(status));
      }
    }
    methods->Proceed();
  }

 private:
  void CheckText(const google::protobuf::MessageLite& lite,
                 grpc::experimental::InterceptorBatchMethods* methods) {
    const auto* message = dynamic_cast<const Message*>(&lite);
    auto* md = methods->GetRecvInitialMetadata();
    if (message == nullptr || md == nullptr || !FindNul(*message, "", &refused_field_)) return;
    md->emplace(kRefusedFieldHeader, refused_field_);
  }

  const bool scan_;
  bool unparsable_ = false;
  // Owned here: the metadata map holds a string_ref into it for the call's lifetime.
  std::string refused_field_;
};

class Factory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new RequestCheckInterceptor(info);
  }
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeRequestCheckInterceptorFactory() {
  return std::make_unique<Factory>();
}

}  // namespace anken::server
