#pragma once
// Reads a Prometheus /metrics endpoint the way Prometheus would: a real HTTP GET (libcurl),
// the text format parsed into samples, and promtool's verdict on it. Failures are gtest
// failures, so a test that scrapes cannot pass by accident.

#include <map>
#include <string>

namespace anken::testing {

using Labels = std::map<std::string, std::string>;

// Samples of one scrape, looked up by name and exact label set.
class Exposition {
 public:
  // Parses every sample line; a line it cannot read is a test failure.
  static Exposition Parse(const std::string& text);
  bool Has(const std::string& name, const Labels& labels = {}) const;
  // The sample's value; a missing sample fails the test and reads as -1.
  double Get(const std::string& name, const Labels& labels = {}) const;
  bool HasName(const std::string& name) const;
  size_t size() const { return samples_.size(); }

 private:
  static bool ParseLine(const std::string& line, std::string* name, Labels* labels,
                        double* value);
  std::map<std::string, double> samples_;
  std::multimap<std::string, double> names_;
};

// GET http://127.0.0.1:<port><path>; fails the test unless it answers 200.
std::string HttpGet(int port, const std::string& path);

struct CommandResult {
  int exit_code;
  std::string output;
};

// Runs `promtool check metrics` with `text` on stdin.
CommandResult PromtoolCheckMetrics(const std::string& text);

}  // namespace anken::testing
