// Kafka and schema-registry connection flags with secrets kept off argv (see
// secret_flags.h).
#include "cli/secret_flags.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "base/error.h"
#include "base/url.h"

namespace sluice::cli {
std::string read_password(const std::string& file, const std::string& file_flag,
                          const std::string& env, const std::string& env_flag,
                          const std::string& user_flag, const std::string& user) {
  if (!file.empty()) return read_secret_file(file, file_flag);
  const char* value = std::getenv(env.c_str());
  if (value == nullptr || *value == '\0') {
    throw fatal_error(fmt::format("{} {}: set the password in ${} ({}) or give {}", user_flag, user,
                                  env, env_flag, file_flag));
  }
  return value;
}

std::string read_secret_file(const std::string& path, const std::string& flag) {
  std::ifstream in(path);
  if (!in) throw fatal_error(fmt::format("{} {}: cannot read the file", flag, path));
  std::string secret;
  std::getline(in, secret);
  if (!secret.empty() && secret.back() == '\r') secret.pop_back();
  if (secret.empty()) throw fatal_error(fmt::format("{} {}: the file is empty", flag, path));
  return secret;
}

bool is_secret_kafka_property(const std::string& name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower.find("password") != std::string::npos || lower.find("secret") != std::string::npos ||
         lower == "ssl.key.pem" || lower == "sasl.oauthbearer.config" ||
         lower == "ssl.keystore.location.password";
}

void add_kafka_flags(CLI::App* cmd, kafka::client_settings& settings, kafka_flags& flags) {
  cmd->add_option("--bootstrap", settings.bootstrap_servers, "Kafka bootstrap servers");
  cmd->add_option("-X,--kafka-property", flags.properties,
                  "extra librdkafka property key=value (no secrets: see --kafka-password-env)");
  cmd->add_option("--kafka-security-protocol", settings.security.protocol,
                  "plaintext, ssl, sasl_plaintext or sasl_ssl")
      ->check(CLI::IsMember({"plaintext", "ssl", "sasl_plaintext", "sasl_ssl"}, CLI::ignore_case));
  cmd->add_option("--kafka-sasl-mechanism", settings.security.sasl_mechanism,
                  "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
      ->check(CLI::IsMember({"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}, CLI::ignore_case));
  cmd->add_option("--kafka-user", flags.user,
                  "SASL user (password from --kafka-password-file or --kafka-password-env)");
  cmd->add_option("--kafka-password-env", flags.password_env,
                  "environment variable holding the SASL password (default SLUICE_KAFKA_PASSWORD)");
  cmd->add_option("--kafka-password-file", flags.password_file,
                  "file whose first line is the SASL password");
  cmd->add_option("--kafka-ca", settings.security.ssl_ca_location,
                  "PEM file of the CA that signed the brokers' certificates")
      ->check(CLI::ExistingFile);
}

void apply_kafka_flags(const kafka_flags& flags, kafka::client_settings& settings) {
  for (const auto& text : flags.properties) {
    auto p = kafka::parse_property(text);
    if (!p) throw fatal_error(fmt::format("-X: {}", p.err().message));
    if (is_secret_kafka_property(p->name)) {
      throw fatal_error(
          fmt::format("-X {}: a secret on the command line is visible to every local user (ps, "
                      "/proc/PID/cmdline); give the SASL password with --kafka-password-file or "
                      "--kafka-password-env, other secrets in librdkafka's own files",
                      p->name));
    }
    settings.extra.push_back(*p);
  }
  if (flags.user.empty()) {
    if (!flags.password_file.empty()) {
      throw fatal_error("--kafka-password-file: give the SASL user too (--kafka-user)");
    }
    return;
  }
  settings.security.sasl_username = flags.user;
  settings.security.sasl_password =
      read_password(flags.password_file, "--kafka-password-file", flags.password_env,
                    "--kafka-password-env", "--kafka-user", flags.user);
  if (settings.security.sasl_mechanism.empty()) settings.security.sasl_mechanism = "SCRAM-SHA-512";
  if (settings.security.protocol.empty() || settings.security.protocol == "plaintext") {
    settings.security.protocol = "sasl_ssl";  // a password never crosses the network in clear
  }
}

void add_registry_flags(CLI::App* cmd, std::string& url, registry_flags& flags,
                        const std::string& url_help) {
  cmd->add_option("--registry", url, url_help);
  cmd->add_option("--registry-user", flags.user,
                  "HTTP basic auth user of the registry (password from --registry-password-file "
                  "or --registry-password-env)");
  cmd->add_option("--registry-password-env", flags.password_env,
                  "environment variable holding the registry password (default "
                  "SLUICE_REGISTRY_PASSWORD)");
  cmd->add_option("--registry-password-file", flags.password_file,
                  "file whose first line is the registry password");
}

void apply_registry_flags(const registry_flags& flags, std::string& url) {
  auto given = split_url_credentials(url);
  if (given.userinfo.find(':') != std::string::npos) {
    fmt::print(stderr,
               "warning: --registry {} holds a password, visible to every local user (ps); "
               "use --registry-user with --registry-password-env or --registry-password-file\n",
               redact_url(url));
  }
  if (flags.user.empty()) {
    if (!flags.password_file.empty()) {
      throw fatal_error("--registry-password-file: give the user too (--registry-user)");
    }
    return;
  }
  auto password = read_password(flags.password_file, "--registry-password-file", flags.password_env,
                                "--registry-password-env", "--registry-user", flags.user);
  url = url_with_credentials(given.url, flags.user, password);
}

}  // namespace sluice::cli
