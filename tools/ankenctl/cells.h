#pragma once
// Table cells read from any response message by field path ("referral.amount"), formatted for
// people: yen with separators, anken.common.v1.Date as YYYY-MM-DD, YearMonth as YYYY-MM,
// Timestamps as Tokyo "YYYY-MM-DD HH:MM", enums as their short lower-case word
// (CUSTOMER_KIND_CORPORATION → corporation), quantities in thousandths as decimals (1500 →
// 1.5). Unset dates, times and zero ids print empty.
// Pure (protobuf reflection).

#include <string>
#include <utility>
#include <vector>

#include "google/protobuf/message.h"

namespace anken::ctl {

enum class Fmt { kText, kId, kNumber, kYen, kDate, kMonth, kTime, kEnum, kBool, kQuantity };

struct Column {
  std::string header;
  std::string path;  // dotted field names from the row message
  Fmt fmt = Fmt::kText;
};

// The formatted value at `path` ("" when a message on the way is unset). A repeated last field
// joins its values with ",".
std::string Cell(const google::protobuf::Message& m, const std::string& path, Fmt fmt);

// The rows of repeated message field `list_field` of `response`, one line each (Table).
std::string RenderRows(const google::protobuf::Message& response, const std::string& list_field,
                       const std::vector<Column>& columns);
// Same for an explicit list of messages.
std::string RenderMessages(const std::vector<const google::protobuf::Message*>& rows,
                           const std::vector<Column>& columns);
// One message as label/value lines (RenderDetail).
std::string RenderRecord(const google::protobuf::Message& m, const std::vector<Column>& columns);

// The short word of an enum value name: "CUSTOMER_KIND_CORPORATION" of CustomerKind →
// "corporation" (the prefix is that of the type's zero value, *_UNSPECIFIED).
std::string EnumWord(const google::protobuf::EnumValueDescriptor* value);

}  // namespace anken::ctl
