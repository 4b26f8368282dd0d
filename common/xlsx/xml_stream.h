#pragma once
// Internal to anken_xlsx: expat, hardened and fed in chunks. A document with any DOCTYPE is
// refused at the declaration (so no internal or external entities, no billion laughs, no
// XXE); external entity and parameter entity loading are off as well; nesting and the bytes
// between two '>' (what expat may have to buffer) are capped.
// Names reach the handler split into namespace URI and local name.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "common/xlsx/limits.h"

struct XML_ParserStruct;

namespace anken::xlsx::internal {

class XmlHandler {
 public:
  virtual ~XmlHandler() = default;
  // `attributes` is expat's NULL-terminated name/value array; use FindAttribute.
  virtual absl::Status Start(absl::string_view ns, absl::string_view name,
                             const char** attributes) = 0;
  virtual absl::Status End(absl::string_view ns, absl::string_view name) = 0;
  virtual absl::Status Text(absl::string_view text) = 0;
};

// The value of the attribute whose local name is `name` (any namespace).
absl::optional<absl::string_view> FindAttribute(const char** attributes, absl::string_view name);

class XmlStream {
 public:
  // `part` names the document in error messages.
  XmlStream(XmlHandler* handler, absl::string_view part, const ReadLimits& limits,
            ReadStats* stats);
  ~XmlStream();
  XmlStream(const XmlStream&) = delete;
  XmlStream& operator=(const XmlStream&) = delete;

  absl::Status Feed(absl::string_view chunk);
  absl::Status Finish();  // end of input: the document must be complete

 private:
  static void OnStart(void* self, const char* name, const char** attributes);
  static void OnEnd(void* self, const char* name);
  static void OnText(void* self, const char* text, int length);
  static void OnDoctype(void* self, const char* name, const char* sysid, const char* pubid,
                        int has_internal_subset);
  static void OnEntityDecl(void* self, const char* name, int is_parameter, const char* value,
                           int length, const char* base, const char* sysid, const char* pubid,
                           const char* notation);
  static int OnExternalEntity(XML_ParserStruct* parser, const char* context, const char* base,
                              const char* sysid, const char* pubid);
  void Fail(absl::Status status);
  absl::Status Parse(const char* data, int length, bool final);

  XML_ParserStruct* parser_;
  XmlHandler* handler_;
  std::string part_;
  const ReadLimits& limits_;
  ReadStats* stats_;
  int depth_ = 0;
  int64_t since_markup_ = 0;  // bytes fed since the last '>'
  absl::Status status_;
};

}  // namespace anken::xlsx::internal
