#include "tools/ankenctl/cells.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/clock/clock.h"
#include "common/jp/format.h"
#include "tools/ankenctl/table.h"

namespace anken::ctl {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

int32_t IntField(const Message& m, const char* name) {
  const FieldDescriptor* f = m.GetDescriptor()->FindFieldByName(name);
  return f == nullptr ? 0 : m.GetReflection()->GetInt32(m, f);
}

std::string MessageText(const Message& m) {
  const std::string type = m.GetDescriptor()->full_name();
  if (type == "anken.common.v1.Date") {
    if (IntField(m, "year") == 0) return "";
    return absl::StrFormat("%04d-%02d-%02d", IntField(m, "year"), IntField(m, "month"),
                           IntField(m, "day"));
  }
  if (type == "anken.common.v1.YearMonth") {
    if (IntField(m, "year") == 0) return "";
    return absl::StrFormat("%04d-%02d", IntField(m, "year"), IntField(m, "month"));
  }
  if (type == "google.protobuf.Timestamp") {
    const Reflection* r = m.GetReflection();
    const int64_t seconds = r->GetInt64(m, m.GetDescriptor()->FindFieldByName("seconds"));
    if (seconds == 0) return "";
    return absl::FormatTime("%Y-%m-%d %H:%M", absl::FromUnixSeconds(seconds), TokyoTimeZone());
  }
  if (type == "google.protobuf.Duration") {
    const Reflection* r = m.GetReflection();
    const int64_t seconds = r->GetInt64(m, m.GetDescriptor()->FindFieldByName("seconds"));
    const int32_t nanos = r->GetInt32(m, m.GetDescriptor()->FindFieldByName("nanos"));
    return absl::FormatDuration(absl::Seconds(seconds) + absl::Nanoseconds(nanos));
  }
  return m.ShortDebugString();
}

std::string ScalarText(const Message& m, const FieldDescriptor* f, int index, Fmt fmt) {
  const Reflection* r = m.GetReflection();
  const bool rep = f->is_repeated();
  int64_t number = 0;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      return rep ? r->GetRepeatedString(m, f, index) : r->GetString(m, f);
    case FieldDescriptor::CPPTYPE_BOOL: {
      const bool b = rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f);
      return b ? "yes" : (fmt == Fmt::kBool ? "no" : "");
    }
    case FieldDescriptor::CPPTYPE_ENUM:
      return EnumWord(rep ? r->GetRepeatedEnum(m, f, index) : r->GetEnum(m, f));
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return MessageText(rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f));
    case FieldDescriptor::CPPTYPE_INT32:
      number = rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f);
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      number = rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f);
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      number = rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f);
      break;
    default:
      return "";
  }
  if (fmt == Fmt::kYen) return Yen(number);
  if (fmt == Fmt::kQuantity) return jp::FormatQuantity(number);
  if (fmt == Fmt::kId && number == 0) return "";
  return absl::StrCat(number);
}

}  // namespace

std::string EnumWord(const google::protobuf::EnumValueDescriptor* value) {
  if (value == nullptr) return "";
  std::string prefix = value->type()->value(0)->name();
  if (absl::EndsWith(prefix, "UNSPECIFIED")) {
    prefix.resize(prefix.size() - std::string("UNSPECIFIED").size());
  } else {
    prefix.clear();
  }
  if (value->number() == 0) return "";
  std::string name = value->name();
  if (!prefix.empty() && absl::StartsWith(name, prefix)) name.erase(0, prefix.size());
  return absl::AsciiStrToLower(name);
}

std::string Cell(const Message& m, const std::string& path, Fmt fmt) {
  const Message* cur = &m;
  std::vector<std::string> parts = absl::StrSplit(path, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    const FieldDescriptor* f = cur->GetDescriptor()->FindFieldByName(parts[i]);
    if (f == nullptr) return "?";
    const Reflection* r = cur->GetReflection();
    const bool last = i + 1 == parts.size();
    if (!last) {
      if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE || f->is_repeated()) return "?";
      if (!r->HasField(*cur, f)) return "";
      cur = &r->GetMessage(*cur, f);
      continue;
    }
    if (f->is_repeated()) {
      std::vector<std::string> values;
      for (int k = 0; k < r->FieldSize(*cur, f); ++k) values.push_back(ScalarText(*cur, f, k, fmt));
      return absl::StrJoin(values, ",");
    }
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !r->HasField(*cur, f)) return "";
    return ScalarText(*cur, f, -1, fmt);
  }
  return "";
}

std::string RenderMessages(const std::vector<const Message*>& rows,
                           const std::vector<Column>& columns) {
  std::vector<std::string> headers;
  for (const Column& c : columns) headers.push_back(c.header);
  Table table(headers);
  for (size_t c = 0; c < columns.size(); ++c) {
    if (columns[c].fmt == Fmt::kYen || columns[c].fmt == Fmt::kNumber ||
        columns[c].fmt == Fmt::kId || columns[c].fmt == Fmt::kQuantity) {
      table.AlignRight(c);
    }
  }
  for (const Message* row : rows) {
    std::vector<std::string> cells;
    for (const Column& c : columns) cells.push_back(Cell(*row, c.path, c.fmt));
    table.AddRow(std::move(cells));
  }
  return table.Render();
}

std::string RenderRows(const Message& response, const std::string& list_field,
                       const std::vector<Column>& columns) {
  std::vector<const Message*> rows;
  const FieldDescriptor* f = response.GetDescriptor()->FindFieldByName(list_field);
  if (f != nullptr && f->is_repeated() && f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    const Reflection* r = response.GetReflection();
    for (int i = 0; i < r->FieldSize(response, f); ++i) {
      rows.push_back(&r->GetRepeatedMessage(response, f, i));
    }
  }
  return RenderMessages(rows, columns);
}

std::string RenderRecord(const Message& m, const std::vector<Column>& columns) {
  std::vector<std::pair<std::string, std::string>> fields;
  for (const Column& c : columns) fields.emplace_back(c.header, Cell(m, c.path, c.fmt));
  return RenderDetail(fields);
}

}  // namespace anken::ctl
