#pragma once
// Access to the throwaway PostgreSQL 15 cluster that scripts/test starts for the run.
//
// scripts/test exports ANKEN_TEST_DATABASE_URL (a superuser URI of the run's cluster). A test
// that needs Postgres calls one of these; without the variable it fails loudly, never skips.
// ScratchDatabase gives each test its own empty database, so tests run in parallel without
// seeing each other's rows.

#include <string>

namespace anken::testing {

// The harness's superuser URI; aborts the test binary with a clear message when unset.
std::string HarnessDatabaseUrl();

// A fresh database, created in the constructor and dropped in the destructor.
class ScratchDatabase {
 public:
  // `prefix` becomes part of the database name, for reading server logs.
  explicit ScratchDatabase(const std::string& prefix = "t");
  ~ScratchDatabase();
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;

  const std::string& name() const { return name_; }
  // A libpq URI for this database (superuser).
  const std::string& url() const { return url_; }

 private:
  std::string name_;
  std::string url_;
};

}  // namespace anken::testing
