// The secured stack profile (`sluice up --secure`): one local CA and server certificate
// (certs.h), generated passwords in <state>/secrets (0700, files 0600), and the settings
// that make every engine require them and every client the launcher starts present them:
//   Kafka      SASL_SSL listener only (SCRAM-SHA-512 users `sluice` and `sluice-broker`;
//              PLAIN for `sluice` too, for clients on a librdkafka whose SCRAM Kafka 4
//              refuses), the KRaft controller listener on TLS with client certificates;
//   Cassandra  PasswordAuthenticator (role `sluice`; the default `cassandra` role gets a
//              random password and cannot log in) and client TLS required;
//   registry   HTTP basic auth (user `sluice`).
// No secret goes on a command line: clients get password files or environment variables.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "stack/certs.h"
#include "stack/stack.h"

namespace sluice::stack {

/// The user name of every client of a secured stack (Kafka SASL, Cassandra role, registry).
inline constexpr const char* kSecureUser = "sluice";
/// The SCRAM user the Kafka broker authenticates to itself as.
inline constexpr const char* kBrokerUser = "sluice-broker";

struct secure_profile {
  tls_files tls;
  std::filesystem::path kafka_password_file;         // user kSecureUser
  std::filesystem::path kafka_broker_password_file;  // user kBrokerUser
  std::filesystem::path cassandra_password_file;     // role kSecureUser
  std::filesystem::path registry_password_file;      // user kSecureUser
};

/// The SASL mechanism this build's Kafka clients use on a secured stack: SCRAM-SHA-512,
/// or PLAIN (inside TLS) with a librdkafka older than 2.6.1, whose SCRAM Kafka 4 refuses.
std::string kafka_client_mechanism();

/// Makes (or keeps) the certificates and passwords of a secured stack under the state folder.
secure_profile ensure_secure_profile(const stack_config& config);

/// The first line of a secret file; fatal_error naming the file when it cannot be read.
std::string read_secret(const std::filesystem::path& file);

/// librdkafka properties (key, value) for the launcher's own Kafka clients: empty for a
/// plain stack; SASL_SSL, SCRAM-SHA-512, user, password and CA for a secured one.
std::vector<std::pair<std::string, std::string>> kafka_client_properties(
    const stack_config& config);

/// Flags for a client that talks to Kafka (--kafka-user, --kafka-password-file, ...), with
/// `mechanism` (default: kafka_client_mechanism(), this build's own clients').
std::vector<std::string> kafka_client_flags(const stack_config& config,
                                            const std::string& mechanism = "");
/// Flags for a `sluice` child that talks to the registry (--registry-user, password file).
std::vector<std::string> registry_client_flags(const stack_config& config);
/// Flags for a client that talks to Cassandra (with `prefix`, e.g. "cassandra-": user,
/// password file, CA), and for stack/tools/cql.py the environment entry that carries the
/// password (SLUICE_CQL_PASSWORD=...).
std::vector<std::string> cassandra_client_flags(const stack_config& config,
                                                const std::string& prefix);
std::vector<std::string> cassandra_client_env(const stack_config& config);

/// The Authorization header line for the registry ("" for a plain stack).
std::string registry_authorization_header(const stack_config& config);

/// The Kafka server.properties lines of a secured broker (listeners, SASL, TLS).
std::string secure_kafka_properties(const stack_config& config);
/// The arguments (one per line, for `java @file`) that format KRaft storage with the
/// SCRAM credentials of both Kafka users, so that they exist before the broker starts.
std::string kafka_scram_format_arguments(const stack_config& config);

/// The cassandra.yaml lines of client TLS (required) with the stack's PEM key and CA.
std::string secure_cassandra_yaml(const stack_config& config);

}  // namespace sluice::stack
