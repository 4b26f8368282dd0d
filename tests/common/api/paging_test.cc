#include <gtest/gtest.h>

#include "anken/common/v1/paging.pb.h"
#include "common/api/page_token.h"
#include "common/status/errors.h"

namespace anken::api {
namespace {

TEST(IdPaging, RoundTripBoundToTheRequest) {
  PageTokenCodec codec("paging-test-secret-0123456789");
  common::v1::PageRequest req;
  req.set_page_size(10);
  std::string token = EncodeIdPosition(codec, req, 4711);
  req.set_page_token(token);
  auto pos = DecodeIdPosition(codec, req, token);
  ASSERT_TRUE(pos.ok()) << pos.status();
  EXPECT_EQ(*pos, 4711);
  EXPECT_EQ(*DecodeIdPosition(codec, req, ""), 0);
  std::string tampered = token;
  tampered[tampered.size() / 2] ^= 1;
  auto bad = DecodeIdPosition(codec, req, tampered);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldViolations(bad.status()).at(0).field, "page_token");
}

}  // namespace
}  // namespace anken::api
