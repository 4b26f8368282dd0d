// anken-token: prints a signed JWT for local development and manual testing.
//
//   anken-token --role staff --sub alice [--partner-id P001] [--ttl 12h]
//               [--secret-env ANKEN_JWT_SECRET | --private-key key.pem]
//               [--iss anken] [--aud anken]
//
// Exit codes: 0 token printed, 2 bad arguments (usage on stderr), 1 minting failed.

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "common/auth/auth.h"

namespace {

constexpr char kUsage[] =
    R"(usage: anken-token --role ROLE --sub SUBJECT [options]

Prints a signed JWT (HS256 by default, RS256 with --private-key) on stdout.

  --role ROLE          admin | staff | accounting | partner | service   (required)
  --sub SUBJECT        the caller's id, e.g. a user name                  (required)
  --partner-id ID      required with --role partner, refused otherwise
  --ttl DURATION       lifetime, e.g. 30m, 12h (default 1h)
  --secret-env NAME    HS256: read the secret from this environment variable
                       (default ANKEN_JWT_SECRET; at least 32 bytes)
  --private-key FILE   RS256: sign with this PEM RSA private key instead
  --iss ISSUER         default anken (must match ANKEN_JWT_ISSUER)
  --aud AUDIENCE       default anken (must match ANKEN_JWT_AUDIENCE)
  --help               this text

example: anken-token --role partner --sub shop-7 --partner-id P001 --ttl 12h
)";

int Usage(const std::string& problem) {
  std::cerr << "anken-token: " << problem << "\n\n" << kUsage;
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  const std::set<std::string> known = {"--role",       "--sub",         "--partner-id",
                                       "--ttl",        "--secret-env",  "--private-key",
                                       "--iss",        "--aud"};
  std::map<std::string, std::string> flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    std::string value;
    bool has_value = false;
    if (auto eq = arg.find('='); absl::StartsWith(arg, "--") && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    if (known.count(arg) == 0) return Usage("unknown argument " + arg);
    if (flags.count(arg) != 0) return Usage(arg + " given twice");
    if (!has_value) {
      if (i + 1 >= argc) return Usage(arg + " needs a value");
      value = argv[++i];
    }
    flags[arg] = value;
  }

  anken::auth::MintOptions options;
  if (flags["--role"].empty()) return Usage("--role is required");
  absl::StatusOr<anken::auth::Role> role = anken::auth::ParseRole(flags["--role"]);
  if (!role.ok()) return Usage("--role: " + std::string(role.status().message()));
  options.role = *role;
  options.subject = flags["--sub"];
  if (options.subject.empty()) return Usage("--sub is required");
  options.partner_id = flags["--partner-id"];
  if (options.role == anken::auth::Role::kPartner && options.partner_id.empty()) {
    return Usage("--role partner needs --partner-id");
  }
  if (options.role != anken::auth::Role::kPartner && !options.partner_id.empty()) {
    return Usage("--partner-id is only allowed with --role partner");
  }
  if (flags.count("--ttl") != 0) {
    if (!absl::ParseDuration(flags["--ttl"], &options.ttl) || options.ttl <= absl::ZeroDuration()) {
      return Usage("--ttl: expected a positive duration such as 30m or 12h");
    }
  }
  if (flags.count("--iss") != 0) options.issuer = flags["--iss"];
  if (flags.count("--aud") != 0) options.audience = flags["--aud"];
  if (options.issuer.empty() || options.audience.empty()) {
    return Usage("--iss and --aud must not be empty");
  }

  if (flags.count("--private-key") != 0) {
    if (flags.count("--secret-env") != 0) {
      return Usage("--secret-env and --private-key exclude each other");
    }
    std::ifstream in(flags["--private-key"], std::ios::binary);
    if (in) {
      options.rs256_private_key_pem.assign(std::istreambuf_iterator<char>(in),
                                           std::istreambuf_iterator<char>());
    }
    if (!in || options.rs256_private_key_pem.empty()) {
      return Usage("--private-key: cannot read " + flags["--private-key"]);
    }
  } else {
    const std::string env = flags.count("--secret-env") != 0 ? flags["--secret-env"]
                                                             : "ANKEN_JWT_SECRET";
    const char* secret = std::getenv(env.c_str());
    if (secret == nullptr || *secret == '\0') {
      return Usage("environment variable " + env + " is not set (or use --private-key)");
    }
    options.hs256_secret = secret;
  }

  absl::StatusOr<std::string> token = anken::auth::MintToken(options);
  if (!token.ok()) {
    std::cerr << "anken-token: " << token.status().message() << "\n";
    return 1;
  }
  std::cout << *token << "\n";
  return 0;
}
