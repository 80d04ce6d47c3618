// The Cassandra connection flags every verb that talks to Cassandra shares: contact
// points, port, PasswordAuthenticator user (password from a file or an environment
// variable, never a flag's value), TLS, LZ4, the local data centre and the protocol version.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "cql/cql.h"

namespace sluice::cli {

struct cassandra_flags {
  std::string user;
  std::string password_env = "SLUICE_CQL_PASSWORD";
  std::string password_file;
  std::string tls_ca;
  bool tls = false;
  bool tls_no_verify = false;
  std::string consistency;       // empty: the verb's default
  int speculative_delay_ms = 0;  // 0: no speculative execution
};

/// Adds --<prefix>host, --<prefix>port, --<prefix>user, ... (prefix "" or "cassandra-")
/// writing into `config` and `flags`.
void add_cassandra_flags(CLI::App* cmd, const std::string& prefix, cql::session_config& config,
                         cassandra_flags& flags);

/// Completes `config` from `flags` (reads the password); throws fatal_error naming the
/// flag when the password variable is unset.
void apply_cassandra_flags(const cassandra_flags& flags, const std::string& prefix,
                           cql::session_config& config);

}  // namespace sluice::cli
