#include "common/status/errors.h"

#include "common/status/domain_error.h"

#include <optional>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace anken {
namespace {

constexpr absl::string_view kTypePrefix = "type.googleapis.com/";

std::string TypeUrl(const google::protobuf::Message& m) {
  return absl::StrCat(kTypePrefix, m.GetDescriptor()->full_name());
}

template <typename Message>
std::optional<Message> Payload(const absl::Status& status) {
  Message m;
  absl::optional<absl::Cord> cord = status.GetPayload(TypeUrl(m));
  if (!cord.has_value() || !m.ParseFromString(std::string(*cord))) return std::nullopt;
  return m;
}

template <typename Message>
void SetPayload(absl::Status& status, const Message& m) {
  status.SetPayload(TypeUrl(m), absl::Cord(m.SerializeAsString()));
}

// Turns the plain payloads of DomainError (domain_error.h) into rich details.
absl::Status Enrich(absl::Status status) {
  absl::optional<absl::Cord> field = status.GetPayload(kDomainFieldPayload);
  absl::optional<absl::Cord> reason = status.GetPayload(kDomainReasonPayload);
  if (!field.has_value() && !reason.has_value()) return status;
  status.ErasePayload(kDomainFieldPayload);
  status.ErasePayload(kDomainReasonPayload);
  if (field.has_value()) {
    std::string f(*field);
    std::string message(status.message());
    std::string prefix = f + ": ";
    std::string description =
        message.compare(0, prefix.size(), prefix) == 0 ? message.substr(prefix.size()) : message;
    status = WithFieldViolation(std::move(status), f, description);
  }
  if (reason.has_value()) status = WithReason(std::move(status), std::string(*reason));
  return status;
}

}  // namespace

absl::Status WithReason(absl::Status status, absl::string_view reason) {
  if (status.ok()) return status;
  google::rpc::ErrorInfo info;
  info.set_reason(std::string(reason));
  info.set_domain(std::string(kErrorDomain));
  SetPayload(status, info);
  return status;
}

absl::Status WithFieldViolation(absl::Status status, absl::string_view field,
                                absl::string_view description) {
  if (status.ok()) return status;
  google::rpc::BadRequest bad = Payload<google::rpc::BadRequest>(status).value_or(
      google::rpc::BadRequest());
  auto* v = bad.add_field_violations();
  v->set_field(std::string(field));
  v->set_description(std::string(description));
  SetPayload(status, bad);
  return status;
}

absl::Status InvalidField(absl::string_view field, absl::string_view description,
                          absl::string_view reason) {
  absl::Status status = absl::InvalidArgumentError(absl::StrCat(field, ": ", description));
  status = WithFieldViolation(std::move(status), field, description);
  return WithReason(std::move(status), reason);
}

std::string ErrorReason(const absl::Status& status) {
  auto info = Payload<google::rpc::ErrorInfo>(Enrich(status));
  return info.has_value() ? info->reason() : std::string();
}

std::vector<FieldViolation> FieldViolations(const absl::Status& status) {
  std::vector<FieldViolation> out;
  if (auto bad = Payload<google::rpc::BadRequest>(Enrich(status))) {
    for (const auto& v : bad->field_violations()) out.push_back({v.field(), v.description()});
  }
  return out;
}

grpc::Status ToGrpcStatus(const absl::Status& domain_status) {
  if (domain_status.ok()) return grpc::Status::OK;
  const absl::Status status = Enrich(domain_status);
  std::string message(status.message());
  if (status.code() == absl::StatusCode::kUnknown ||
      status.code() == absl::StatusCode::kInternal) {
    message = "internal error; the request was not completed";
  }
  google::rpc::Status rpc;
  rpc.set_code(static_cast<int>(status.code()));
  rpc.set_message(message);
  status.ForEachPayload([&](absl::string_view type_url, const absl::Cord& payload) {
    if (type_url.substr(0, kTypePrefix.size()) != kTypePrefix) return;
    auto* any = rpc.add_details();
    any->set_type_url(std::string(type_url));
    any->set_value(std::string(payload));
  });
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), message,
                      rpc.details_size() > 0 ? rpc.SerializeAsString() : std::string());
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status out(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  google::rpc::Status rpc;
  if (!status.error_details().empty() && rpc.ParseFromString(status.error_details())) {
    for (const auto& any : rpc.details()) {
      out.SetPayload(any.type_url(), absl::Cord(any.value()));
    }
  }
  return out;
}

}  // namespace anken
