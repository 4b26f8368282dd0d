#include "common/xlsx/xml_stream.h"

#include <expat.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace anken::xlsx::internal {
namespace {

// Expat joins namespace URI and local name with this; neither a URI nor an XML name holds it.
constexpr char kNsSeparator = '|';

// Called for every element and attribute of a sheet (hundreds of thousands per upload), so one
// pass over the name: strrchr, not strlen and then a search back from the end.
void SplitName(const char* full, absl::string_view* ns, absl::string_view* local) {
  const char* bar = std::strrchr(full, kNsSeparator);
  if (bar == nullptr) {
    *ns = absl::string_view();
    *local = absl::string_view(full);
  } else {
    *ns = absl::string_view(full, static_cast<size_t>(bar - full));
    *local = absl::string_view(bar + 1);
  }
}

}  // namespace

absl::optional<absl::string_view> FindAttribute(const char** attributes, absl::string_view name) {
  for (int i = 0; attributes[i] != nullptr; i += 2) {
    const char* full = attributes[i];
    // Unprefixed attributes (every cell's r, t and s) come as the bare local name.
    if (std::strncmp(full, name.data(), name.size()) == 0 && full[name.size()] == '\0') {
      return absl::string_view(attributes[i + 1]);
    }
    const char* bar = std::strrchr(full, kNsSeparator);
    if (bar != nullptr && absl::string_view(bar + 1) == name) {
      return absl::string_view(attributes[i + 1]);
    }
  }
  return absl::nullopt;
}

XmlStream::XmlStream(XmlHandler* handler, absl::string_view part, const ReadLimits& limits,
                     ReadStats* stats)
    : parser_(XML_ParserCreateNS(nullptr, kNsSeparator)),
      handler_(handler),
      part_(part.substr(0, 80)),
      limits_(limits),
      stats_(stats) {
  if (parser_ == nullptr) {
    status_ = absl::ResourceExhaustedError("xlsx: cannot allocate an XML parser");
    return;
  }
  XML_SetUserData(parser_, this);
  XML_SetElementHandler(parser_, &XmlStream::OnStart, &XmlStream::OnEnd);
  XML_SetCharacterDataHandler(parser_, &XmlStream::OnText);
  XML_SetStartDoctypeDeclHandler(parser_, &XmlStream::OnDoctype);
  XML_SetEntityDeclHandler(parser_, &XmlStream::OnEntityDecl);
  XML_SetExternalEntityRefHandler(parser_, &XmlStream::OnExternalEntity);
  XML_SetParamEntityParsing(parser_, XML_PARAM_ENTITY_PARSING_NEVER);
}

XmlStream::~XmlStream() {
  if (parser_ != nullptr) XML_ParserFree(parser_);
}

void XmlStream::Fail(absl::Status status) {
  if (status_.ok()) status_ = std::move(status);
  // Stops the parse from inside a handler; XML_Parse then returns an error we replace.
  XML_StopParser(parser_, XML_FALSE);
}

void XmlStream::OnStart(void* self_ptr, const char* name, const char** attributes) {
  auto* self = static_cast<XmlStream*>(self_ptr);
  if (!self->status_.ok()) return;
  ++self->depth_;
  self->stats_->deepest_xml = std::max(self->stats_->deepest_xml, self->depth_);
  if (self->depth_ > self->limits_.max_xml_depth) {
    self->Fail(absl::InvalidArgumentError(absl::StrCat("xlsx refused: ", self->part_,
                                                       " nests elements deeper than ",
                                                       self->limits_.max_xml_depth)));
    return;
  }
  absl::string_view ns, local;
  SplitName(name, &ns, &local);
  if (absl::Status s = self->handler_->Start(ns, local, attributes); !s.ok()) self->Fail(s);
}

void XmlStream::OnEnd(void* self_ptr, const char* name) {
  auto* self = static_cast<XmlStream*>(self_ptr);
  if (!self->status_.ok()) return;
  --self->depth_;
  absl::string_view ns, local;
  SplitName(name, &ns, &local);
  if (absl::Status s = self->handler_->End(ns, local); !s.ok()) self->Fail(s);
}

void XmlStream::OnText(void* self_ptr, const char* text, int length) {
  auto* self = static_cast<XmlStream*>(self_ptr);
  if (!self->status_.ok()) return;
  if (absl::Status s = self->handler_->Text(absl::string_view(text, static_cast<size_t>(length)));
      !s.ok()) {
    self->Fail(s);
  }
}

void XmlStream::OnDoctype(void* self_ptr, const char*, const char*, const char*, int) {
  auto* self = static_cast<XmlStream*>(self_ptr);
  self->Fail(absl::InvalidArgumentError(absl::StrCat(
      "xlsx refused: ", self->part_, " has a DOCTYPE (DTDs and entities are not accepted)")));
}

void XmlStream::OnEntityDecl(void* self_ptr, const char*, int, const char*, int, const char*,
                             const char*, const char*, const char*) {
  auto* self = static_cast<XmlStream*>(self_ptr);
  self->Fail(absl::InvalidArgumentError(
      absl::StrCat("xlsx refused: ", self->part_, " declares an entity")));
}

int XmlStream::OnExternalEntity(XML_ParserStruct*, const char*, const char*, const char*,
                                const char*) {
  return XML_STATUS_ERROR;  // never load anything from outside the document
}

absl::Status XmlStream::Parse(const char* data, int length, bool final) {
  if (!status_.ok()) return status_;
  if (XML_Parse(parser_, data, length, final ? XML_TRUE : XML_FALSE) == XML_STATUS_OK) {
    return status_;
  }
  if (!status_.ok()) return status_;  // a handler's refusal, not expat's
  return absl::InvalidArgumentError(absl::StrCat(
      "xlsx refused: ", part_, " is not well-formed XML (line ", XML_GetCurrentLineNumber(parser_),
      ": ", XML_ErrorString(XML_GetErrorCode(parser_)), ")"));
}

absl::Status XmlStream::Feed(absl::string_view chunk) {
  if (!status_.ok()) return status_;
  // Checked before expat sees the bytes, so that it never buffers a token past the cap.
  size_t from = 0;
  while (true) {
    const size_t gt = chunk.find('>', from);
    const size_t end = gt == absl::string_view::npos ? chunk.size() : gt;
    since_markup_ += static_cast<int64_t>(end - from);
    stats_->longest_markup_gap = std::max(stats_->longest_markup_gap, since_markup_);
    if (since_markup_ > limits_.max_markup_gap_bytes) {
      status_ = absl::InvalidArgumentError(absl::StrCat("xlsx refused: ", part_, " has over ",
                                                        limits_.max_markup_gap_bytes,
                                                        " bytes without markup"));
      return status_;
    }
    if (gt == absl::string_view::npos) break;
    since_markup_ = 0;
    from = gt + 1;
  }
  // Chunks come from ZipInput (at most 64 KiB), so they fit an int.
  return Parse(chunk.data(), static_cast<int>(chunk.size()), false);
}

absl::Status XmlStream::Finish() { return Parse("", 0, true); }

}  // namespace anken::xlsx::internal
