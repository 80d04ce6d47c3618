// The Kafka and schema-registry connection flags every verb that talks to them shares.
// Secrets are read from an environment variable or a file, never from a flag's value
// (argv is world-readable in /proc and `ps`): `-X sasl.password=...` is refused, and a
// password inside a --registry URL is accepted with a warning and never printed.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "kafka/config.h"

namespace sluice::cli {

struct kafka_flags {
  std::vector<std::string> properties;  // -X key=value
  std::string user;
  std::string password_env = "SLUICE_KAFKA_PASSWORD";
  std::string password_file;
};

/// Adds --bootstrap, -X (and --kafka-property), --kafka-security-protocol,
/// --kafka-sasl-mechanism, --kafka-user, --kafka-password-env, --kafka-password-file and
/// --kafka-ca, writing into `settings` and `flags`.
void add_kafka_flags(CLI::App* cmd, kafka::client_settings& settings, kafka_flags& flags);

/// Completes `settings` from `flags`: parses -X (refusing secret-bearing properties,
/// naming the flag to use instead) and reads the SASL password from the file or the
/// environment variable. Throws fatal_error naming the flag on any problem.
void apply_kafka_flags(const kafka_flags& flags, kafka::client_settings& settings);

/// True for librdkafka properties that hold a secret (sasl.password, ssl.key.password,
/// ...), which must not be given on a command line.
bool is_secret_kafka_property(const std::string& name);

struct registry_flags {
  std::string user;
  std::string password_env = "SLUICE_REGISTRY_PASSWORD";
  std::string password_file;
};

/// Adds --registry (into `url`), --registry-user, --registry-password-env and
/// --registry-password-file.
void add_registry_flags(CLI::App* cmd, std::string& url, registry_flags& flags,
                        const std::string& url_help = "schema registry URL");

/// With --registry-user, puts the user and the password (file or environment) into `url`
/// (the registry client takes them out again for HTTP basic auth and never prints them).
/// Warns when the URL given on the command line holds a password.
void apply_registry_flags(const registry_flags& flags, std::string& url);

/// The password from `file` when given (see read_secret_file), else from the environment
/// variable `env`; fatal_error naming `user_flag`, the variable and `file_flag` when neither
/// holds one.
std::string read_password(const std::string& file, const std::string& file_flag,
                          const std::string& env, const std::string& env_flag,
                          const std::string& user_flag, const std::string& user);

/// The first line of a secret file (no trailing newline); fatal_error naming `flag` when
/// it cannot be read or is empty.
std::string read_secret_file(const std::string& path, const std::string& flag);

}  // namespace sluice::cli
