// Shared Cassandra connection flags (see cassandra_flags.h).
#include "cli/cassandra_flags.h"

#include <cstdlib>

#include "base/error.h"

namespace sluice::cli {

void add_cassandra_flags(CLI::App* cmd, const std::string& prefix, cql::session_config& config,
                         cassandra_flags& flags) {
  auto flag = [&](const char* name) { return "--" + prefix + name; };
  cmd->add_option(flag("host"), config.host, "Cassandra contact point(s), comma-separated");
  cmd->add_option(flag("port"), config.port, "Cassandra native port");
  cmd->add_option(flag("user"), flags.user,
                  "user for PasswordAuthenticator (password from --" + prefix + "password-env)");
  cmd->add_option(flag("password-env"), flags.password_env,
                  "environment variable holding the password (default SLUICE_CQL_PASSWORD)");
  cmd->add_flag(flag("tls"), flags.tls, "connect with TLS, trusting the system CAs");
  cmd->add_option(flag("tls-ca"), flags.tls_ca, "connect with TLS, trusting this PEM CA file")
      ->check(CLI::ExistingFile);
  cmd->add_flag(flag("tls-no-verify"), flags.tls_no_verify,
                "TLS without checking the server certificate");
  cmd->add_option(flag("compression"), config.compression, "frame compression: lz4")
      ->check(CLI::IsMember({"lz4"}));
  cmd->add_option(flag("local-dc"), config.local_dc,
                  "data centre to prefer (default: the contact point's)");
  cmd->add_option(flag("protocol-version"), config.max_protocol_version,
                  "highest CQL protocol version to offer (3 or 4)")
      ->check(CLI::Range(3, 4));
}

void apply_cassandra_flags(const cassandra_flags& flags, const std::string& prefix,
                           cql::session_config& config) {
  if (!flags.user.empty()) {
    const char* password = std::getenv(flags.password_env.c_str());
    if (!password) {
      throw fatal_error(fmt::format("--{}user {}: set the password in ${} (--{}password-env)",
                                    prefix, flags.user, flags.password_env, prefix));
    }
    config.auth = cql::credentials{flags.user, password};
  }
  config.tls = {flags.tls || flags.tls_no_verify || !flags.tls_ca.empty(), flags.tls_ca,
                !flags.tls_no_verify};
}

}  // namespace sluice::cli
