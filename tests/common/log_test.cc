#include <gtest/gtest.h>

#include <sstream>

#include "common/log/log.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace anken {
namespace {

TEST(Log, OneParsableJsonObjectPerLine) {
  std::ostringstream out;
  log::Init("customer", log::Level::kInfo, &out);
  log::Info("rpc").Str("rpc", "/anken.customer.v1.CustomerService/GetCustomer")
      .Str("code", "OK").Num("latency_ms", 1.25).Str("note", "quote\" and \n newline");
  log::Debug("hidden").Str("x", "y");
  log::Error("second").Int("n", 7);
  log::Init("anken", log::Level::kInfo, nullptr);

  std::istringstream lines(out.str());
  std::string line;
  std::vector<google::protobuf::Struct> parsed;
  while (std::getline(lines, line)) {
    google::protobuf::Struct s;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &s).ok()) << line;
    parsed.push_back(s);
  }
  ASSERT_EQ(parsed.size(), 2u) << "debug lines are below the level";
  const auto& f = parsed[0].fields();
  EXPECT_EQ(f.at("level").string_value(), "info");
  EXPECT_EQ(f.at("service").string_value(), "customer");
  EXPECT_EQ(f.at("msg").string_value(), "rpc");
  EXPECT_EQ(f.at("code").string_value(), "OK");
  EXPECT_DOUBLE_EQ(f.at("latency_ms").number_value(), 1.25);
  EXPECT_EQ(f.at("note").string_value(), "quote\" and \n newline");
  EXPECT_FALSE(f.at("ts").string_value().empty());
  EXPECT_EQ(parsed[1].fields().at("n").number_value(), 7);
}

}  // namespace
}  // namespace anken
