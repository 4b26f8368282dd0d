#include "bench/xlsx/floor_reader.h"

#include <expat.h>
#include <zip.h>

#include <cstring>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace anken::bench {
namespace {

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct ParserFree {
  void operator()(XML_Parser p) const { XML_ParserFree(p); }
};

// Inflates `part` in 64 KiB chunks into expat. NOT_FOUND when the part is absent.
absl::Status StreamPart(zip_t* zip, const std::string& part, XML_Parser parser) {
  zip_file_t* file = zip_fopen(zip, part.c_str(), 0);
  if (file == nullptr) return absl::NotFoundError(absl::StrCat("no ", part));
  std::vector<char> buf(64 << 10);
  absl::Status status;
  for (;;) {
    zip_int64_t n = zip_fread(file, buf.data(), buf.size());
    if (n < 0) {
      status = absl::DataLossError(absl::StrCat("cannot inflate ", part));
      break;
    }
    if (XML_Parse(parser, buf.data(), static_cast<int>(n), n == 0) == XML_STATUS_ERROR) {
      status = absl::InvalidArgumentError(
          absl::StrCat(part, ": ", XML_ErrorString(XML_GetErrorCode(parser))));
      break;
    }
    if (n == 0) break;
  }
  zip_fclose(file);
  return status;
}

// <si> items: the text of every <t> inside, joined.
struct SharedStrings {
  std::vector<std::string> items;
  bool in_t = false;

  static void Start(void* self, const XML_Char* name, const XML_Char**) {
    auto* s = static_cast<SharedStrings*>(self);
    if (std::strcmp(name, "si") == 0) s->items.emplace_back();
    if (std::strcmp(name, "t") == 0) s->in_t = true;
  }
  static void End(void* self, const XML_Char* name) {
    if (std::strcmp(name, "t") == 0) static_cast<SharedStrings*>(self)->in_t = false;
  }
  static void Text(void* self, const XML_Char* text, int len) {
    auto* s = static_cast<SharedStrings*>(self);
    if (s->in_t && !s->items.empty()) s->items.back().append(text, static_cast<size_t>(len));
  }
};

// <row><c t=".."><v>..</v> | <is><t>..</t></is></c></row>
struct SheetStream {
  const std::vector<std::string>* shared = nullptr;
  const std::function<void(const std::vector<std::string>&)>* on_row = nullptr;
  FloorCounts counts;
  std::vector<std::string> row;
  std::string value;
  bool shared_cell = false;
  bool in_value = false;

  static void Start(void* self, const XML_Char* name, const XML_Char** attrs) {
    auto* s = static_cast<SheetStream*>(self);
    if (std::strcmp(name, "c") == 0) {
      s->value.clear();
      s->shared_cell = false;
      for (int i = 0; attrs[i] != nullptr; i += 2) {
        if (std::strcmp(attrs[i], "t") == 0 && std::strcmp(attrs[i + 1], "s") == 0) {
          s->shared_cell = true;
        }
      }
    } else if (std::strcmp(name, "v") == 0 || std::strcmp(name, "t") == 0) {
      s->in_value = true;
    } else if (std::strcmp(name, "row") == 0) {
      s->row.clear();
    }
  }
  static void End(void* self, const XML_Char* name) {
    auto* s = static_cast<SheetStream*>(self);
    if (std::strcmp(name, "v") == 0 || std::strcmp(name, "t") == 0) {
      s->in_value = false;
    } else if (std::strcmp(name, "c") == 0) {
      if (s->shared_cell) {
        size_t index = 0;
        if (absl::SimpleAtoi(s->value, &index) && index < s->shared->size()) {
          s->value = (*s->shared)[index];
        }
      }
      s->counts.text_bytes += static_cast<int64_t>(s->value.size());
      ++s->counts.cells;
      s->row.push_back(std::move(s->value));
      s->value.clear();
    } else if (std::strcmp(name, "row") == 0) {
      ++s->counts.rows;
      if (*s->on_row) (*s->on_row)(s->row);
    }
  }
  static void Text(void* self, const XML_Char* text, int len) {
    auto* s = static_cast<SheetStream*>(self);
    if (s->in_value) s->value.append(text, static_cast<size_t>(len));
  }
};

}  // namespace

absl::StatusOr<FloorCounts> FloorReadSheet(
    absl::string_view bytes, const std::string& sheet_part,
    const std::function<void(const std::vector<std::string>&)>& on_row) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (source == nullptr) return absl::InternalError("zip_source_buffer_create failed");
  std::unique_ptr<zip_t, ZipCloser> zip(zip_open_from_source(source, ZIP_RDONLY, &error));
  if (zip == nullptr) {
    zip_source_free(source);
    return absl::InvalidArgumentError("not a zip");
  }

  SharedStrings shared;
  {
    std::unique_ptr<XML_ParserStruct, ParserFree> parser(XML_ParserCreate(nullptr));
    XML_SetUserData(parser.get(), &shared);
    XML_SetElementHandler(parser.get(), &SharedStrings::Start, &SharedStrings::End);
    XML_SetCharacterDataHandler(parser.get(), &SharedStrings::Text);
    absl::Status s = StreamPart(zip.get(), "xl/sharedStrings.xml", parser.get());
    if (!s.ok() && !absl::IsNotFound(s)) return s;  // inline strings only: no part
  }

  SheetStream sheet;
  sheet.shared = &shared.items;
  sheet.on_row = &on_row;
  std::unique_ptr<XML_ParserStruct, ParserFree> parser(XML_ParserCreate(nullptr));
  XML_SetUserData(parser.get(), &sheet);
  XML_SetElementHandler(parser.get(), &SheetStream::Start, &SheetStream::End);
  XML_SetCharacterDataHandler(parser.get(), &SheetStream::Text);
  absl::Status s = StreamPart(zip.get(), sheet_part, parser.get());
  if (!s.ok()) return s;
  return sheet.counts;
}

}  // namespace anken::bench
