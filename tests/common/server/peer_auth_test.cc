#include "common/server/peer_auth.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "common/auth/auth.h"
#include "tests/fakes/fake_clock.h"

namespace anken::server {
namespace {

const std::string kSecret = "peer-auth-test-secret-0123456789abcdef";

CommonConfig Config() {
  CommonConfig c;
  c.service = "project";
  c.jwt_secret = kSecret;
  c.jwt_issuer = "anken";
  c.jwt_audience = "anken";
  return c;
}

TEST(PeerAuth, MintsAServiceTokenPeersAccept) {
  testing::FakeClock clock;
  auto peer = PeerAuth::Create(Config(), Env::FromMap({}), clock);
  ASSERT_TRUE(peer.ok()) << peer.status();
  auto token = (*peer)->Token();
  ASSERT_TRUE(token.ok());
  auth::AuthConfig ac;
  ac.hs256_secret = kSecret;
  ac.issuer = "anken";
  ac.audience = "anken";
  auto authenticator = auth::Authenticator::Create(ac, clock);
  ASSERT_TRUE(authenticator.ok());
  auto who = authenticator->VerifyToken(*token);
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(who->role, auth::Role::kService);
  EXPECT_EQ(who->subject, "anken-project");
}

TEST(PeerAuth, RenewsBeforeExpiry) {
  testing::FakeClock clock;
  auto peer = PeerAuth::Create(Config(), Env::FromMap({}), clock);
  ASSERT_TRUE(peer.ok());
  std::string first = *(*peer)->Token();
  clock.Advance(absl::Minutes(30));
  EXPECT_EQ(*(*peer)->Token(), first) << "reused while far from expiry";
  clock.Advance(absl::Minutes(21));
  EXPECT_NE(*(*peer)->Token(), first) << "renewed when under 10 minutes were left";
}

TEST(PeerAuth, Rs256NeedsATokenFileAndRereadsIt) {
  testing::FakeClock clock;
  CommonConfig c = Config();
  c.jwt_secret.clear();
  EXPECT_EQ(PeerAuth::Create(c, Env::FromMap({}), clock).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::string path = ::testing::TempDir() + "/peer_token";
  std::ofstream(path) << "token-one\n";
  auto peer = PeerAuth::Create(c, Env::FromMap({{"ANKEN_SERVICE_TOKEN_FILE", path}}), clock);
  ASSERT_TRUE(peer.ok());
  EXPECT_EQ(*(*peer)->Token(), "token-one");
  std::ofstream(path) << "token-two";
  EXPECT_EQ(*(*peer)->Token(), "token-one");
  clock.Advance(absl::Minutes(2));
  EXPECT_EQ(*(*peer)->Token(), "token-two");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace anken::server
