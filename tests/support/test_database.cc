#include "tests/support/test_database.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <pqxx/pqxx>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace anken::testing {
namespace {

// Replaces the database part of a postgresql:// URI.
std::string WithDatabase(const std::string& url, const std::string& db) {
  std::string::size_type scheme = url.find("://");
  std::string::size_type slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  std::string::size_type query = url.find('?');
  std::string base = url.substr(0, slash == std::string::npos ? query : slash);
  std::string rest = query == std::string::npos ? "" : url.substr(query);
  return absl::StrCat(base, "/", db, rest);
}

}  // namespace

std::string HarnessDatabaseUrl() {
  const char* url = std::getenv("ANKEN_TEST_DATABASE_URL");
  if (url == nullptr || *url == '\0') {
    std::fprintf(stderr,
                 "ANKEN_TEST_DATABASE_URL is not set: this test needs the PostgreSQL that "
                 "./scripts/test starts. Run the tests with ./scripts/test.\n");
    std::abort();
  }
  return url;
}

ScratchDatabase::ScratchDatabase(const std::string& prefix) {
  static std::atomic<int> counter{0};
  name_ = absl::AsciiStrToLower(
      absl::StrCat("anken_", prefix, "_", ::getpid(), "_", counter.fetch_add(1)));
  std::string admin = HarnessDatabaseUrl();
  pqxx::connection c(admin);
  pqxx::nontransaction tx(c);
  tx.exec0(absl::StrCat("CREATE DATABASE ", tx.quote_name(name_)));
  url_ = WithDatabase(admin, name_);
}

ScratchDatabase::~ScratchDatabase() {
  try {
    pqxx::connection c(HarnessDatabaseUrl());
    pqxx::nontransaction tx(c);
    tx.exec0(absl::StrCat("DROP DATABASE IF EXISTS ", tx.quote_name(name_), " WITH (FORCE)"));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "could not drop %s: %s\n", name_.c_str(), e.what());
  }
}

}  // namespace anken::testing
