#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <set>
#include <string>

#include "anken/common/v1/paging.pb.h"
#include "anken/testing/v1/echo.pb.h"
#include "common/api/etag.h"
#include "common/api/field_mask.h"
#include "common/api/page_token.h"
#include "common/status/errors.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/field_mask.pb.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/message_differencer.h"

namespace anken::api {
namespace {

using ::google::protobuf::FieldMask;
using ::google::protobuf::Message;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Sample types with the shapes the helpers must handle (nested and repeated messages, a
// Timestamp, a List request with paging fields), built at run time so that the test needs no
// proto of its own.
constexpr char kTestFile[] = R"pb(
  name: "anken/apitest/v1/widgets.proto"
  package: "anken.apitest.v1"
  syntax: "proto3"
  dependency: "google/protobuf/timestamp.proto"
  message_type {
    name: "Address"
    field { name: "city" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
    field { name: "zip" number: 2 label: LABEL_OPTIONAL type: TYPE_STRING }
  }
  message_type {
    name: "Widget"
    field { name: "id" number: 1 label: LABEL_OPTIONAL type: TYPE_INT64 }
    field { name: "text" number: 2 label: LABEL_OPTIONAL type: TYPE_STRING }
    field { name: "labels" number: 3 label: LABEL_REPEATED type: TYPE_STRING }
    field { name: "address" number: 4 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: ".anken.apitest.v1.Address" }
    field { name: "create_time" number: 5 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: ".google.protobuf.Timestamp" }
    field { name: "version" number: 6 label: LABEL_OPTIONAL type: TYPE_INT64 }
    field { name: "branches" number: 7 label: LABEL_REPEATED type: TYPE_MESSAGE type_name: ".anken.apitest.v1.Address" }
  }
  message_type {
    name: "ListWidgetsRequest"
    field { name: "filter" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
    field { name: "page_size" number: 2 label: LABEL_OPTIONAL type: TYPE_INT32 }
    field { name: "page_token" number: 3 label: LABEL_OPTIONAL type: TYPE_STRING }
    field { name: "order_by" number: 4 label: LABEL_OPTIONAL type: TYPE_STRING }
    field { name: "labels" number: 5 label: LABEL_REPEATED type: TYPE_STRING }
    field { name: "since" number: 6 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: ".google.protobuf.Timestamp" }
  }
  message_type {
    name: "ListGadgetsRequest"
    field { name: "filter" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
    field { name: "page_size" number: 2 label: LABEL_OPTIONAL type: TYPE_INT32 }
    field { name: "page_token" number: 3 label: LABEL_OPTIONAL type: TYPE_STRING }
    field { name: "order_by" number: 4 label: LABEL_OPTIONAL type: TYPE_STRING }
    field { name: "labels" number: 5 label: LABEL_REPEATED type: TYPE_STRING }
    field { name: "since" number: 6 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: ".google.protobuf.Timestamp" }
  }
)pb";

class TestTypes {
 public:
  TestTypes() : pool_(google::protobuf::DescriptorPool::generated_pool()), factory_(&pool_) {
    // Makes sure timestamp.proto is linked in and known to the generated pool.
    (void)google::protobuf::Timestamp::descriptor();
    google::protobuf::FileDescriptorProto file;
    EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(kTestFile, &file));
    EXPECT_NE(pool_.BuildFile(file), nullptr);
  }
  const google::protobuf::Descriptor* Type(const std::string& name) const {
    const auto* d = pool_.FindMessageTypeByName("anken.apitest.v1." + name);
    EXPECT_NE(d, nullptr) << name;
    return d;
  }
  // A message of type `name` from its text format.
  std::unique_ptr<Message> Parse(const std::string& name, const std::string& text) {
    std::unique_ptr<Message> m(factory_.GetPrototype(Type(name))->New());
    EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, m.get())) << text;
    return m;
  }

 private:
  google::protobuf::DescriptorPool pool_;
  google::protobuf::DynamicMessageFactory factory_;
};

TestTypes& Types() {
  static TestTypes* types = new TestTypes();
  return *types;
}

FieldMask Mask(std::initializer_list<const char*> paths) {
  FieldMask mask;
  for (const char* p : paths) mask.add_paths(p);
  return mask;
}

std::string Text(const Message& m) {
  std::string out;
  google::protobuf::TextFormat::Printer printer;
  printer.SetSingleLineMode(true);
  printer.PrintToString(m, &out);
  return out;
}

void ExpectInvalidOn(const absl::Status& status, const std::string& field) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  auto violations = FieldViolations(status);
  ASSERT_FALSE(violations.empty()) << status;
  for (const auto& v : violations) EXPECT_EQ(v.field, field) << status;
}

// ---------------------------------------------------------------------------------------
// Page tokens

constexpr char kSecret[] = "0123456789abcdef0123456789abcdef";

TEST(PageToken, RoundTripsThePosition) {
  PageTokenCodec codec(kSecret);
  for (const std::string& position :
       {std::string("2024-04-01|000123"), std::string(""), std::string("\0\xff\x01", 3),
        std::string("顧客|株式会社あいう|42"), std::string(500, 'x')}) {
    const std::string token = codec.Encode("fp-1", position);
    absl::StatusOr<std::string> decoded = codec.Decode(token, "fp-1");
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, position);
  }
}

TEST(PageToken, IsBase64UrlWithoutPadding) {
  PageTokenCodec codec(kSecret);
  for (int n = 0; n < 8; ++n) {  // every padding remainder
    const std::string token = codec.Encode("fp", std::string(n, 'p'));
    EXPECT_EQ(token.find_first_not_of(
                  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos)
        << token;
  }
}

TEST(PageToken, DoesNotRevealTheSecretOrDependOnlyOnThePosition) {
  PageTokenCodec codec(kSecret);
  EXPECT_EQ(codec.Encode("fp", "pos"), codec.Encode("fp", "pos"));  // deterministic
  EXPECT_NE(codec.Encode("fp", "pos"), codec.Encode("fp2", "pos"));
  EXPECT_NE(codec.Encode("fp", "pos"), PageTokenCodec("other").Encode("fp", "pos"));
  EXPECT_EQ(codec.Encode("fp", "pos").find(kSecret), std::string::npos);
}

TEST(PageToken, EveryAlteredCharacterIsRejected) {
  PageTokenCodec codec(kSecret);
  const std::string token = codec.Encode("fp", "2024-04-01|000123");
  for (std::size_t i = 0; i < token.size(); ++i) {
    for (char replacement : {'A', 'z', '-', '_', '0'}) {
      if (token[i] == replacement) continue;
      std::string altered = token;
      altered[i] = replacement;
      ExpectInvalidOn(codec.Decode(altered, "fp").status(), "page_token");
    }
  }
  // Characters outside the alphabet and padding.
  ExpectInvalidOn(codec.Decode(token + "=", "fp").status(), "page_token");
  ExpectInvalidOn(codec.Decode(token + "==", "fp").status(), "page_token");
  std::string plus = token;
  plus[3] = '+';
  ExpectInvalidOn(codec.Decode(plus, "fp").status(), "page_token");
  ExpectInvalidOn(codec.Decode("!!!!", "fp").status(), "page_token");
}

TEST(PageToken, TruncatedOrExtendedIsRejected) {
  PageTokenCodec codec(kSecret);
  const std::string token = codec.Encode("fp", "position-42");
  for (std::size_t n = 0; n < token.size(); ++n) {
    ExpectInvalidOn(codec.Decode(token.substr(0, n), "fp").status(), "page_token");
  }
  for (const char* suffix : {"A", "AA", "AAA", "AAAA"}) {
    ExpectInvalidOn(codec.Decode(token + suffix, "fp").status(), "page_token");
  }
  ExpectInvalidOn(codec.Decode(std::string(5000, 'A'), "fp").status(), "page_token");
}

TEST(PageToken, AnotherSecretIsRejected) {
  const std::string token = PageTokenCodec("secret-of-another-deployment").Encode("fp", "p");
  absl::Status status = PageTokenCodec(kSecret).Decode(token, "fp").status();
  ExpectInvalidOn(status, "page_token");
  EXPECT_THAT(std::string(status.message()), HasSubstr("without page_token"));
}

TEST(PageToken, AnotherFilterIsRejected) {
  PageTokenCodec codec(kSecret);
  const std::string token = codec.Encode("filter-a", "p");
  ExpectInvalidOn(codec.Decode(token, "filter-b").status(), "page_token");
  ExpectInvalidOn(codec.Decode(token, "").status(), "page_token");
  // Moving bytes between fingerprint and position does not produce a valid token either.
  const std::string split = codec.Encode("ab", "c");
  ExpectInvalidOn(codec.Decode(split, "a").status(), "page_token");
  EXPECT_TRUE(codec.Decode(token, "filter-a").ok());
}

TEST(PageToken, EmptyTokenIsRejected) {
  ExpectInvalidOn(PageTokenCodec(kSecret).Decode("", "fp").status(), "page_token");
}

TEST(FilterFingerprint, IgnoresPagingFieldsOnly) {
  auto page1 = Types().Parse("ListWidgetsRequest",
                             R"(filter: "status=OPEN" order_by: "name" labels: "a")");
  auto page2 = Types().Parse(
      "ListWidgetsRequest",
      R"(filter: "status=OPEN" order_by: "name" labels: "a" page_size: 50 page_token: "abc")");
  const std::string fp = FilterFingerprint(*page1);
  EXPECT_EQ(fp.size(), 64u);
  EXPECT_EQ(fp.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(FilterFingerprint(*page2), fp);
  // The request itself is left alone.
  EXPECT_THAT(Text(*page2), HasSubstr("page_token: \"abc\""));

  for (const char* changed :
       {R"(filter: "status=CLOSED" order_by: "name" labels: "a")",
        R"(filter: "status=OPEN" order_by: "name desc" labels: "a")",
        R"(filter: "status=OPEN" order_by: "name" labels: "b")",
        R"(filter: "status=OPEN" order_by: "name" labels: "a" labels: "b")",
        R"(filter: "status=OPEN" order_by: "name")",
        R"(filter: "status=OPEN" order_by: "name" labels: "a" since { seconds: 1 })"}) {
    EXPECT_NE(FilterFingerprint(*Types().Parse("ListWidgetsRequest", changed)), fp) << changed;
  }
}

TEST(FilterFingerprint, DistinguishesRequestTypes) {
  const std::string text = R"(filter: "x")";
  EXPECT_NE(FilterFingerprint(*Types().Parse("ListWidgetsRequest", text)),
            FilterFingerprint(*Types().Parse("ListGadgetsRequest", text)));
}

TEST(FilterFingerprint, WorksOnGeneratedMessages) {
  anken::testing::v1::Note a, b;
  a.set_text("x");
  b.set_text("x");
  EXPECT_EQ(FilterFingerprint(a), FilterFingerprint(b));
  b.set_text("y");
  EXPECT_NE(FilterFingerprint(a), FilterFingerprint(b));

  anken::common::v1::PageRequest p1, p2;
  p2.set_page_size(10);
  p2.set_page_token("t");
  EXPECT_EQ(FilterFingerprint(p1), FilterFingerprint(p2));
}

TEST(FilterFingerprint, BindsTokensAcrossPagesButNotAcrossFilters) {
  PageTokenCodec codec(kSecret);
  auto first = Types().Parse("ListWidgetsRequest", R"(filter: "open" page_size: 10)");
  const std::string token = codec.Encode(FilterFingerprint(*first), "last-row-7");

  auto next = Types().Parse("ListWidgetsRequest",
                            "filter: \"open\" page_size: 20 page_token: \"" + token + "\"");
  absl::StatusOr<std::string> position = codec.Decode(token, FilterFingerprint(*next));
  ASSERT_TRUE(position.ok()) << position.status();
  EXPECT_EQ(*position, "last-row-7");

  auto other = Types().Parse("ListWidgetsRequest",
                             "filter: \"closed\" page_token: \"" + token + "\"");
  ExpectInvalidOn(codec.Decode(token, FilterFingerprint(*other)).status(), "page_token");
}

TEST(PageSize, DefaultsAndLimits) {
  EXPECT_EQ(*PageSize(0), 100);
  EXPECT_EQ(*PageSize(1), 1);
  EXPECT_EQ(*PageSize(1000), 1000);
  ExpectInvalidOn(PageSize(1001).status(), "page_size");
  ExpectInvalidOn(PageSize(-1).status(), "page_size");
  ExpectInvalidOn(PageSize(std::numeric_limits<int>::min()).status(), "page_size");
  EXPECT_THAT(std::string(PageSize(1001).status().message()), HasSubstr("1000"));
  EXPECT_EQ(*PageSize(0, 25, 50), 25);
  EXPECT_EQ(*PageSize(50, 25, 50), 50);
  ExpectInvalidOn(PageSize(51, 25, 50).status(), "page_size");
}

// ---------------------------------------------------------------------------------------
// Field masks

TEST(ValidateUpdateMask, EmptyMaskIsRejected) {
  absl::Status s = ValidateUpdateMask(FieldMask(), anken::testing::v1::Note::descriptor(),
                                      {"text"});
  ExpectInvalidOn(s, "update_mask");
  EXPECT_EQ(s.message(), "update_mask: must list the fields to change");
}

TEST(ValidateUpdateMask, NoteUpdatableAndNot) {
  const auto* note = anken::testing::v1::Note::descriptor();
  EXPECT_TRUE(ValidateUpdateMask(Mask({"text"}), note, {"text"}).ok());

  absl::Status id = ValidateUpdateMask(Mask({"id"}), note, {"text"});
  ExpectInvalidOn(id, "update_mask");
  EXPECT_THAT(std::string(id.message()), HasSubstr("\"id\" cannot be changed"));

  absl::Status unknown = ValidateUpdateMask(Mask({"title"}), note, {"text"});
  ExpectInvalidOn(unknown, "update_mask");
  EXPECT_THAT(std::string(unknown.message()), HasSubstr("unknown field \"title\""));

  // Every bad path is reported, each with its own violation; good paths are not.
  absl::Status both = ValidateUpdateMask(Mask({"text", "id", "title"}), note, {"text"});
  ExpectInvalidOn(both, "update_mask");
  auto violations = FieldViolations(both);
  ASSERT_EQ(violations.size(), 2u);
  EXPECT_THAT(violations[0].description, HasSubstr("\"id\""));
  EXPECT_THAT(violations[1].description, HasSubstr("\"title\""));
  EXPECT_THAT(std::string(both.message()), ::testing::Not(HasSubstr("\"text\"")));
}

TEST(ValidateUpdateMask, MalformedPaths) {
  const auto* widget = Types().Type("Widget");
  const std::set<std::string> all = {"text", "labels", "address", "branches"};
  for (const char* bad : {"", ".", "text.", ".text", "address..city", "*", "Text", "address.",
                          "address.country", "text.length", "labels.x", "branches.city"}) {
    ExpectInvalidOn(ValidateUpdateMask(Mask({bad}), widget, all), "update_mask");
  }
}

TEST(ValidateUpdateMask, NestedPathsFollowTheirParent) {
  const auto* widget = Types().Type("Widget");
  EXPECT_TRUE(ValidateUpdateMask(Mask({"address"}), widget, {"address"}).ok());
  EXPECT_TRUE(ValidateUpdateMask(Mask({"address.city"}), widget, {"address"}).ok());
  EXPECT_TRUE(ValidateUpdateMask(Mask({"address.city"}), widget, {"address.city"}).ok());
  // Naming the parent would replace the zip too, which is not updatable.
  ExpectInvalidOn(ValidateUpdateMask(Mask({"address"}), widget, {"address.city"}),
                  "update_mask");
  ExpectInvalidOn(ValidateUpdateMask(Mask({"address.zip"}), widget, {"address.city"}),
                  "update_mask");
  // Output-only fields are simply absent from the updatable set.
  ExpectInvalidOn(ValidateUpdateMask(Mask({"create_time"}), widget, {"text"}), "update_mask");
  ExpectInvalidOn(ValidateUpdateMask(Mask({"create_time.seconds"}), widget, {"text"}),
                  "update_mask");
  // A prefix of a name is not a parent.
  ExpectInvalidOn(ValidateUpdateMask(Mask({"text"}), widget, {"tex"}), "update_mask");
}

TEST(ApplyUpdateMask, SetsOnlyMaskedScalars) {
  auto target = Types().Parse("Widget", R"(id: 7 text: "old" version: 3)");
  auto patch = Types().Parse("Widget", R"(id: 99 text: "new" version: 100)");
  ApplyUpdateMask(Mask({"text"}), *patch, target.get());
  EXPECT_EQ(Text(*target), Text(*Types().Parse("Widget", R"(id: 7 text: "new" version: 3)")));
}

TEST(ApplyUpdateMask, MaskedFieldMissingFromPatchIsCleared) {
  auto target = Types().Parse("Widget", R"(id: 7 text: "old" labels: "a"
                                            address { city: "Tokyo" } branches { city: "Kobe" })");
  auto patch = Types().Parse("Widget", "");
  ApplyUpdateMask(Mask({"text", "labels", "address", "branches"}), *patch, target.get());
  EXPECT_EQ(Text(*target), Text(*Types().Parse("Widget", "id: 7")));
}

TEST(ApplyUpdateMask, RepeatedFieldsAreReplacedNotAppended) {
  auto target = Types().Parse("Widget", R"(labels: "a" labels: "b" branches { city: "Kobe" })");
  auto patch = Types().Parse("Widget", R"(labels: "c" branches { city: "Nara" zip: "630" })");
  ApplyUpdateMask(Mask({"labels", "branches"}), *patch, target.get());
  EXPECT_EQ(Text(*target),
            Text(*Types().Parse("Widget",
                                R"(labels: "c" branches { city: "Nara" zip: "630" })")));
}

TEST(ApplyUpdateMask, MessageFieldsAreReplacedNotMerged) {
  auto target = Types().Parse("Widget", R"(address { city: "Tokyo" zip: "100-0001" })");
  auto patch = Types().Parse("Widget", R"(address { city: "Osaka" })");
  ApplyUpdateMask(Mask({"address"}), *patch, target.get());
  EXPECT_EQ(Text(*target), Text(*Types().Parse("Widget", R"(address { city: "Osaka" })")));
}

TEST(ApplyUpdateMask, SubPathChangesOnlyThatSubField) {
  auto target = Types().Parse("Widget", R"(address { city: "Tokyo" zip: "100-0001" })");
  auto patch = Types().Parse("Widget", R"(address { city: "Osaka" zip: "530-0001" })");
  ApplyUpdateMask(Mask({"address.city"}), *patch, target.get());
  EXPECT_EQ(Text(*target),
            Text(*Types().Parse("Widget", R"(address { city: "Osaka" zip: "100-0001" })")));
}

TEST(ApplyUpdateMask, GeneratedMessage) {
  anken::testing::v1::Note target, patch;
  target.set_id(1);
  target.set_text("before");
  patch.set_id(2);
  patch.set_text("after");
  ApplyUpdateMask(Mask({"text"}), patch, &target);
  EXPECT_EQ(target.id(), 1);
  EXPECT_EQ(target.text(), "after");
}

// ---------------------------------------------------------------------------------------
// Etags

TEST(Etag, FormatAndParse) {
  EXPECT_EQ(FormatEtag(7), "\"7\"");
  EXPECT_EQ(FormatEtag(0), "\"0\"");
  for (int64_t v : {int64_t{0}, int64_t{1}, int64_t{42}, std::numeric_limits<int64_t>::max()}) {
    absl::StatusOr<int64_t> parsed = ParseEtag(FormatEtag(v));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, v);
  }
}

TEST(Etag, MatchingOrAbsentIsOk) {
  EXPECT_TRUE(CheckEtag("\"7\"", 7).ok());
  EXPECT_TRUE(CheckEtag("", 7).ok());
  EXPECT_TRUE(CheckEtag("\"7\"", 7, /*required=*/true).ok());
}

TEST(Etag, RequiredButAbsentIsInvalid) {
  ExpectInvalidOn(CheckEtag("", 7, /*required=*/true), "etag");
}

TEST(Etag, StaleIsAbortedWithReason) {
  for (const char* stale : {"\"6\"", "\"8\"", "\"0\""}) {
    absl::Status s = CheckEtag(stale, 7);
    EXPECT_EQ(s.code(), absl::StatusCode::kAborted) << stale;
    EXPECT_EQ(ErrorReason(s), "ETAG_MISMATCH");
    EXPECT_THAT(std::string(s.message()), HasSubstr("read it again"));
    EXPECT_THAT(std::string(s.message()), HasSubstr("\"7\""));
  }
}

TEST(Etag, MalformedIsInvalid) {
  for (const char* bad : {"7", "\"\"", "\"", "\"07\"", "\"+7\"", "\" 7\"", "\"7 \"",
                          "W/\"7\"", "\"-0\"", "\"abc\"", "\"7", "7\"", "'7'",
                          "\"99999999999999999999\""}) {
    absl::Status s = CheckEtag(bad, 7);
    ExpectInvalidOn(s, "etag");
    ExpectInvalidOn(ParseEtag(bad).status(), "etag");
  }
}

}  // namespace
}  // namespace anken::api
