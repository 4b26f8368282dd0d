#include "common/api/proto_time.h"

#include <gtest/gtest.h>

#include "common/status/errors.h"

namespace anken::api {
namespace {

TEST(ProtoTime, TimestampRoundTripKeepsNanos) {
  absl::Time t = absl::FromUnixSeconds(1767225600) + absl::Nanoseconds(123456789);
  google::protobuf::Timestamp ts;
  ToTimestamp(t, &ts);
  EXPECT_EQ(ts.seconds(), 1767225600);
  EXPECT_EQ(ts.nanos(), 123456789);
  EXPECT_EQ(FromTimestamp(ts), t);
}

TEST(ProtoTime, TimestampBeforeEpochHasPositiveNanos) {
  absl::Time t = absl::FromUnixSeconds(-1) + absl::Milliseconds(500);
  google::protobuf::Timestamp ts;
  ToTimestamp(t, &ts);
  EXPECT_EQ(ts.seconds(), -1);
  EXPECT_EQ(ts.nanos(), 500000000);
  EXPECT_EQ(FromTimestamp(ts), t);
}

TEST(ProtoDate, RoundTripAndImpossibleDates) {
  common::v1::Date d;
  ToDate(absl::CivilDay(2024, 2, 29), &d);
  auto back = FromDate(d, "x.date");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, absl::CivilDay(2024, 2, 29));
  d.set_year(2023);
  auto bad = FromDate(d, "x.date");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldViolations(bad.status()).at(0).field, "x.date");
  d.set_month(13);
  EXPECT_FALSE(FromDate(d, "x").ok());
  EXPECT_FALSE(IsDateSet(common::v1::Date()));
}

}  // namespace
}  // namespace anken::api
