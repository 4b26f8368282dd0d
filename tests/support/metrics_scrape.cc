#include "tests/support/metrics_scrape.h"

#include <curl/curl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace anken::testing {
namespace {

std::string Key(const std::string& name, const Labels& labels) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : labels) parts.push_back(absl::StrCat(k, "=", v));
  return absl::StrCat(name, "{", absl::StrJoin(parts, ","), "}");
}

size_t AppendToString(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

}  // namespace

Exposition Exposition::Parse(const std::string& text) {
  Exposition e;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::string name;
    Labels labels;
    double value = 0;
    if (!ParseLine(line, &name, &labels, &value)) {
      ADD_FAILURE() << "unparseable sample line: " << line;
      continue;
    }
    e.samples_[Key(name, labels)] = value;
    e.names_.insert({name, value});
  }
  return e;
}

bool Exposition::Has(const std::string& name, const Labels& labels) const {
  return samples_.count(Key(name, labels)) > 0;
}

double Exposition::Get(const std::string& name, const Labels& labels) const {
  auto it = samples_.find(Key(name, labels));
  if (it == samples_.end()) {
    ADD_FAILURE() << "no sample " << Key(name, labels);
    return -1;
  }
  return it->second;
}

bool Exposition::HasName(const std::string& name) const { return names_.count(name) > 0; }

bool Exposition::ParseLine(const std::string& line, std::string* name, Labels* labels,
                         double* value) {
  size_t i = 0;
  while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
  *name = line.substr(0, i);
  if (name->empty()) return false;
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (i < line.size() && line[i] != '}') {
      const size_t eq = line.find('=', i);
      if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"') {
        return false;
      }
      std::string key = line.substr(i, eq - i);
      std::string val;
      size_t j = eq + 2;
      for (; j < line.size() && line[j] != '"'; ++j) {
        if (line[j] == '\\' && j + 1 < line.size()) {
          ++j;
          val.push_back(line[j] == 'n' ? '\n' : line[j]);
        } else {
          val.push_back(line[j]);
        }
      }
      if (j >= line.size()) return false;
      (*labels)[key] = val;
      i = j + 1;
      if (i < line.size() && line[i] == ',') ++i;
    }
    if (i >= line.size()) return false;
    ++i;  // '}'
  }
  if (i >= line.size() || line[i] != ' ') return false;
  std::string rest = line.substr(i + 1);
  // An optional timestamp may follow the value.
  rest = rest.substr(0, rest.find(' '));
  if (rest == "+Inf") {
    *value = std::numeric_limits<double>::infinity();
    return true;
  }
  return absl::SimpleAtod(rest, value);
}

// GET http://127.0.0.1:<port><path>; fails the test unless it answers 200.
std::string HttpGet(int port, const std::string& path) {
  static const bool initialized = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  EXPECT_TRUE(initialized);
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  std::string body;
  const std::string url = absl::StrCat("http://127.0.0.1:", port, path);
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &AppendToString);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl.get(), CURLOPT_NOPROXY, "*");
  const CURLcode rc = curl_easy_perform(curl.get());
  EXPECT_EQ(rc, CURLE_OK) << curl_easy_strerror(rc);
  long status = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
  EXPECT_EQ(status, 200) << body;
  return body;
}

// Runs `promtool check metrics` with `text` on stdin.
CommandResult PromtoolCheckMetrics(const std::string& text) {
  std::string dir = ::testing::TempDir();
  std::string in_path = absl::StrCat(dir, "/metrics_test_scrape_", getpid(), ".txt");
  std::string out_path = absl::StrCat(in_path, ".out");
  {
    std::ofstream f(in_path);
    f << text;
  }
  const std::string cmd = absl::StrCat(ANKEN_PROMTOOL, " check metrics < '", in_path, "' > '",
                                       out_path, "' 2>&1");
  const int raw = std::system(cmd.c_str());
  std::ifstream out(out_path);
  std::stringstream output;
  output << out.rdbuf();
  std::remove(in_path.c_str());
  std::remove(out_path.c_str());
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, output.str()};
}

}  // namespace anken::testing
