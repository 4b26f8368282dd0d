#include "common/db/idempotency.h"

#include <memory>
#include <pqxx/pqxx>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/db/migrate.h"
#include "common/db/pg_status.h"
#include "common/log/log.h"
#include "common/status/errors.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace anken::db {
namespace {

constexpr size_t kMaxRequestIdLength = 100;

std::string Table(pqxx::transaction_base& tx, absl::string_view schema) {
  return absl::StrCat(tx.quote_name(std::string(schema)), ".idempotency_keys");
}

std::string Deterministic(const google::protobuf::Message& m) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    m.SerializeToCodedStream(&out);
  }
  return bytes;
}

}  // namespace

absl::Status CheckRequestId(absl::string_view request_id) {
  if (request_id.empty()) return InvalidField("request_id", "required");
  if (request_id.size() > kMaxRequestIdLength) {
    return InvalidField("request_id", absl::StrCat("at most ", kMaxRequestIdLength, " characters"));
  }
  for (char c : request_id) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != ':' && c != '-') {
      return InvalidField("request_id",
                          "only letters, digits and . _ : - are allowed (a UUID fits)");
    }
  }
  return absl::OkStatus();
}

std::string RequestHash(const google::protobuf::Message& request) {
  std::unique_ptr<google::protobuf::Message> copy(request.New());
  copy->CopyFrom(request);
  const google::protobuf::FieldDescriptor* field =
      copy->GetDescriptor()->FindFieldByName("request_id");
  if (field != nullptr) copy->GetReflection()->ClearField(copy.get(), field);
  return Sha256Hex(
      absl::StrCat(copy->GetDescriptor()->full_name(), "\n", Deterministic(*copy)));
}

absl::StatusOr<absl::optional<std::string>> BeginIdempotent(pqxx::work& tx,
                                                            absl::string_view schema,
                                                            absl::string_view method,
                                                            absl::string_view request_id,
                                                            absl::string_view request_hash) {
  RETURN_IF_ERROR(CheckSchemaName(schema));
  RETURN_IF_ERROR(CheckRequestId(request_id));
  if (method.empty() || request_hash.empty()) {
    return absl::InternalError("BeginIdempotent: method and request hash are required");
  }
  try {
    const std::string table = Table(tx, schema);
    pqxx::result inserted = tx.exec_params(
        absl::StrCat("INSERT INTO ", table, " (method, request_id, request_hash) "
                     "VALUES ($1, $2, $3) ON CONFLICT (method, request_id) DO NOTHING"),
        std::string(method), std::string(request_id), std::string(request_hash));
    if (inserted.affected_rows() == 1) return absl::optional<std::string>();

    pqxx::result stored = tx.exec_params(
        absl::StrCat("SELECT request_hash, response FROM ", table,
                     " WHERE method = $1 AND request_id = $2"),
        std::string(method), std::string(request_id));
    if (stored.empty()) {
      // Purged between the two statements: the whole call may simply run again.
      return absl::AbortedError("request_id record changed concurrently; retry");
    }
    if (stored[0][0].as<std::string>() != request_hash) {
      return WithReason(InvalidField("request_id",
                                     "already used for a different request of this method"),
                        "REQUEST_ID_REUSED");
    }
    if (stored[0][1].is_null()) {
      // Committed without FinishIdempotent: a bug in the calling service.
      log::Error("idempotency key committed without a response")
          .Str("method", method)
          .Str("request_id", request_id);
      return absl::InternalError("stored response missing");
    }
    return absl::optional<std::string>(pqxx::binarystring(stored[0][1]).str());
  } catch (const std::exception& e) {
    return StatusFromException(e, "checking request_id");
  }
}

absl::StatusOr<absl::optional<std::string>> FindIdempotent(pqxx::work& tx,
                                                           absl::string_view schema,
                                                           absl::string_view method,
                                                           absl::string_view request_id,
                                                           absl::string_view request_hash) {
  RETURN_IF_ERROR(CheckSchemaName(schema));
  RETURN_IF_ERROR(CheckRequestId(request_id));
  try {
    pqxx::result stored = tx.exec_params(
        absl::StrCat("SELECT request_hash, response FROM ", Table(tx, schema),
                     " WHERE method = $1 AND request_id = $2 AND response IS NOT NULL"),
        std::string(method), std::string(request_id));
    if (stored.empty()) return absl::optional<std::string>();
    if (stored[0][0].as<std::string>() != request_hash) {
      return WithReason(InvalidField("request_id",
                                     "already used for a different request of this method"),
                        "REQUEST_ID_REUSED");
    }
    return absl::optional<std::string>(pqxx::binarystring(stored[0][1]).str());
  } catch (const std::exception& e) {
    return StatusFromException(e, "looking up request_id");
  }
}

absl::Status FinishIdempotent(pqxx::work& tx, absl::string_view schema, absl::string_view method,
                              absl::string_view request_id, absl::string_view response_bytes) {
  RETURN_IF_ERROR(CheckSchemaName(schema));
  try {
    pqxx::result updated = tx.exec_params(
        absl::StrCat("UPDATE ", Table(tx, schema),
                     " SET response = $3, status_code = 0"
                     " WHERE method = $1 AND request_id = $2 AND response IS NULL"),
        std::string(method), std::string(request_id),
        pqxx::binarystring(response_bytes.data(), response_bytes.size()));
    if (updated.affected_rows() != 1) {
      log::Error("FinishIdempotent without a pending BeginIdempotent")
          .Str("method", method)
          .Str("request_id", request_id);
      return absl::InternalError("no pending idempotency record to finish");
    }
    return absl::OkStatus();
  } catch (const std::exception& e) {
    return StatusFromException(e, "storing the response for request_id");
  }
}

absl::StatusOr<int64_t> PurgeIdempotencyKeys(pqxx::work& tx, absl::string_view schema,
                                             absl::Time before) {
  RETURN_IF_ERROR(CheckSchemaName(schema));
  try {
    pqxx::result deleted = tx.exec_params(
        absl::StrCat("DELETE FROM ", Table(tx, schema),
                     " WHERE created_at < $1::timestamptz AND response IS NOT NULL"),
        absl::FormatTime(absl::RFC3339_full, before, absl::UTCTimeZone()));
    return static_cast<int64_t>(deleted.affected_rows());
  } catch (const std::exception& e) {
    return StatusFromException(e, "purging old request_ids");
  }
}

namespace internal {

std::string SerializeResponse(const google::protobuf::Message& response) {
  return Deterministic(response);
}

absl::Status ParseStoredResponse(absl::string_view bytes, google::protobuf::Message* response) {
  if (!response->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    log::Error("stored idempotent response does not parse")
        .Str("type", response->GetDescriptor()->full_name());
    return absl::InternalError("stored response unreadable");
  }
  return absl::OkStatus();
}

}  // namespace internal
}  // namespace anken::db
