// The load generator's statistics: nearest-rank percentiles and the JSON line bench/run reads.

#include "bench/load_client/stats.h"

#include <numeric>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace anken::bench {
namespace {

using ::testing::HasSubstr;

TEST(Summarise, NearestRankPercentilesOfOneToHundred) {
  std::vector<uint32_t> us(100);
  std::iota(us.begin(), us.end(), 1);  // 1..100 µs
  std::reverse(us.begin(), us.end());
  LatencySummary s = Summarise(us);
  EXPECT_EQ(s.count, 100);
  EXPECT_DOUBLE_EQ(s.p50_ms, 0.050);
  EXPECT_DOUBLE_EQ(s.p90_ms, 0.090);
  EXPECT_DOUBLE_EQ(s.p99_ms, 0.099);
  EXPECT_DOUBLE_EQ(s.max_ms, 0.100);
  EXPECT_DOUBLE_EQ(s.mean_ms, 0.0505);
}

TEST(Summarise, OneSampleIsEveryPercentile) {
  std::vector<uint32_t> us = {2500};
  LatencySummary s = Summarise(us);
  EXPECT_DOUBLE_EQ(s.p50_ms, 2.5);
  EXPECT_DOUBLE_EQ(s.p99_ms, 2.5);
  EXPECT_DOUBLE_EQ(s.max_ms, 2.5);
}

TEST(Summarise, EmptyIsZero) {
  std::vector<uint32_t> us;
  LatencySummary s = Summarise(us);
  EXPECT_EQ(s.count, 0);
  EXPECT_EQ(s.p99_ms, 0);
}

TEST(Summarise, TailIsNotHiddenByTheBulk) {
  std::vector<uint32_t> us(1000, 100);
  for (int i = 0; i < 20; ++i) us[static_cast<size_t>(i) * 7] = 50000;  // 2% slow calls
  LatencySummary s = Summarise(us);
  EXPECT_DOUBLE_EQ(s.p50_ms, 0.1);
  EXPECT_DOUBLE_EQ(s.p99_ms, 50.0);
}

TEST(RunResult, QpsCountsOnlySuccessfulCalls) {
  RunResult r;
  r.seconds = 2;
  r.ok = 100;
  r.errors["UNAVAILABLE"] = 10;
  EXPECT_DOUBLE_EQ(r.qps(), 50);
  EXPECT_EQ(r.error_count(), 10);
}

TEST(ToJsonLine, CarriesEveryFieldBenchRunReads) {
  RunResult r;
  r.scenario = "GetCustomer";
  r.target = "127.0.0.1:1";
  r.label = "group=db rpc=GetCustomer c=8 run=1";
  r.concurrency = 8;
  r.seconds = 1;
  r.ok = 1234;
  r.items = 1234;
  r.errors["DEADLINE_EXCEEDED"] = 2;
  r.latency.p50_ms = 0.5;
  r.latency.p99_ms = 4.25;
  const std::string line = ToJsonLine(r);
  EXPECT_THAT(line, HasSubstr("\"kind\":\"load\""));
  EXPECT_THAT(line, HasSubstr("\"scenario\":\"GetCustomer\""));
  EXPECT_THAT(line, HasSubstr("\"label\":\"group=db rpc=GetCustomer c=8 run=1\""));
  EXPECT_THAT(line, HasSubstr("\"concurrency\":8"));
  EXPECT_THAT(line, HasSubstr("\"ok\":1234"));
  EXPECT_THAT(line, HasSubstr("\"error_count\":2"));
  EXPECT_THAT(line, HasSubstr("\"errors\":{\"DEADLINE_EXCEEDED\":2}"));
  EXPECT_THAT(line, HasSubstr("\"qps\":1234.0"));
  EXPECT_THAT(line, HasSubstr("\"p99_ms\":4.250"));
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace anken::bench
