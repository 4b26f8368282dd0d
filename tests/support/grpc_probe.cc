#include "tests/support/grpc_probe.h"

#include <chrono>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/unknown_field_set.h"
#include "google/protobuf/wire_format_lite.h"
#include "grpcpp/client_context.h"
#include "grpcpp/impl/codegen/client_unary_call.h"
#include "grpcpp/impl/codegen/rpc_method.h"
#include "grpcpp/impl/codegen/sync_stream.h"
#include "grpcpp/support/byte_buffer.h"
#include "common/status/errors.h"

namespace anken::testing {
namespace {

grpc::ByteBuffer ToBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string FromBuffer(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  (void)buffer.Dump(&slices);
  std::string out;
  for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

// Field `number` (length-delimited) of a serialized message, all occurrences.
std::vector<std::string> Submessages(const std::string& bytes, int number) {
  google::protobuf::UnknownFieldSet set;
  std::vector<std::string> out;
  if (!set.ParseFromString(bytes)) return out;
  for (int i = 0; i < set.field_count(); ++i) {
    const auto& f = set.field(i);
    if (f.number() == number && f.type() == google::protobuf::UnknownField::TYPE_LENGTH_DELIMITED) {
      out.push_back(f.length_delimited());
    }
  }
  return out;
}

std::string StringField(int number, const std::string& value) {
  std::string out;
  google::protobuf::io::StringOutputStream raw(&out);
  google::protobuf::io::CodedOutputStream coded(&raw);
  google::protobuf::internal::WireFormatLite::WriteString(number, value, &coded);
  coded.Trim();
  return out;
}

}  // namespace

absl::StatusOr<bool> HealthServing(const std::shared_ptr<grpc::Channel>& channel,
                                   const std::string& service) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::internal::RpcMethod method("/grpc.health.v1.Health/Check",
                                   grpc::internal::RpcMethod::NORMAL_RPC);
  grpc::ByteBuffer request = ToBuffer(service.empty() ? "" : StringField(1, service));
  grpc::ByteBuffer response;
  grpc::Status s = grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
      channel.get(), method, &ctx, request, &response);
  if (!s.ok()) return FromGrpcStatus(s);
  google::protobuf::UnknownFieldSet set;
  if (!set.ParseFromString(FromBuffer(response))) return absl::InternalError("bad health reply");
  for (int i = 0; i < set.field_count(); ++i) {
    if (set.field(i).number() == 1) return set.field(i).varint() == 1;  // 1 = SERVING
  }
  return false;  // status 0 (UNKNOWN) is omitted on the wire
}

absl::StatusOr<std::vector<std::string>> ReflectionServices(
    const std::shared_ptr<grpc::Channel>& channel) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::internal::RpcMethod method("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                                   grpc::internal::RpcMethod::BIDI_STREAMING);
  std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>> stream(
      grpc::internal::ClientReaderWriterFactory<grpc::ByteBuffer, grpc::ByteBuffer>::Create(
          channel.get(), method, &ctx));
  // ServerReflectionRequest { string list_services = 7; }
  if (!stream->Write(ToBuffer(StringField(7, "")))) return absl::UnavailableError("write failed");
  stream->WritesDone();
  grpc::ByteBuffer reply;
  std::vector<std::string> names;
  while (stream->Read(&reply)) {
    // ServerReflectionResponse.list_services_response = 6 -> ListServiceResponse.service = 1
    // -> ServiceResponse.name = 1.
    for (const auto& list : Submessages(FromBuffer(reply), 6)) {
      for (const auto& svc : Submessages(list, 1)) {
        google::protobuf::UnknownFieldSet set;
        if (set.ParseFromString(svc) && set.field_count() > 0) {
          names.push_back(set.field(0).length_delimited());
        }
      }
    }
  }
  grpc::Status s = stream->Finish();
  if (!s.ok()) return FromGrpcStatus(s);
  return names;
}

}  // namespace anken::testing
