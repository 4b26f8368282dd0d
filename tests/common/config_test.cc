#include <gtest/gtest.h>

#include "common/config/config.h"

namespace anken {
namespace {

const std::string kSecret = "0123456789abcdef0123456789abcdef";

TEST(Config, DefaultsFromDesign) {
  Env env = Env::FromMap({{"ANKEN_DATABASE_URL", "postgresql://x/anken"},
                          {"ANKEN_JWT_SECRET", kSecret}});
  auto c = LoadCommonConfig(env, "customer", 50051, 9451);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->grpc_port, 50051);
  EXPECT_EQ(c->metrics_port, 9451);
  EXPECT_EQ(c->db_pool_size, 8);
  EXPECT_EQ(c->db_acquire_timeout, absl::Seconds(2));
  EXPECT_EQ(c->page_token_secret, kSecret);
  EXPECT_EQ(c->log_level, "info");
}

TEST(Config, OverridesAreParsed) {
  Env env = Env::FromMap({{"ANKEN_DATABASE_URL", "postgresql://x/anken"},
                          {"ANKEN_JWT_SECRET", kSecret},
                          {"ANKEN_GRPC_PORT", "6000"},
                          {"ANKEN_DB_ACQUIRE_TIMEOUT", "250ms"},
                          {"ANKEN_LOG_LEVEL", "debug"}});
  auto c = LoadCommonConfig(env, "billing", 50053, 9453);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->grpc_port, 6000);
  EXPECT_EQ(c->db_acquire_timeout, absl::Milliseconds(250));
  EXPECT_EQ(c->log_level, "debug");
}

TEST(Config, EveryBadValueIsReportedAtOnce) {
  Env env = Env::FromMap({{"ANKEN_GRPC_PORT", "70000"},
                          {"ANKEN_DB_POOL_SIZE", "many"},
                          {"ANKEN_DB_STATEMENT_TIMEOUT", "soon"},
                          {"ANKEN_LOG_LEVEL", "loud"},
                          {"ANKEN_JWT_SECRET", "short"}});
  auto c = LoadCommonConfig(env, "customer", 50051, 9451);
  ASSERT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string msg(c.status().message());
  for (const char* name : {"ANKEN_GRPC_PORT", "ANKEN_DB_POOL_SIZE", "ANKEN_DB_STATEMENT_TIMEOUT",
                           "ANKEN_LOG_LEVEL", "ANKEN_DATABASE_URL", "ANKEN_JWT_SECRET"}) {
    EXPECT_NE(msg.find(name), std::string::npos) << name << " missing from: " << msg;
  }
}

TEST(Config, ExactlyOneJwtKeyKind) {
  Env both = Env::FromMap({{"ANKEN_DATABASE_URL", "postgresql://x/anken"},
                           {"ANKEN_JWT_SECRET", kSecret},
                           {"ANKEN_JWT_PUBLIC_KEY_FILE", "/k.pem"}});
  EXPECT_FALSE(LoadCommonConfig(both, "customer", 1, 2).ok());
  Env rs = Env::FromMap({{"ANKEN_DATABASE_URL", "postgresql://x/anken"},
                         {"ANKEN_JWT_PUBLIC_KEY_FILE", "/k.pem"}});
  EXPECT_NE(LoadCommonConfig(rs, "customer", 1, 2).status().message().find(
                "ANKEN_PAGE_TOKEN_SECRET"),
            std::string::npos);
}

}  // namespace
}  // namespace anken
