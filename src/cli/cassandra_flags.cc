// Shared Cassandra connection flags (see cassandra_flags.h).
#include "cli/cassandra_flags.h"

#include <cctype>
#include <cstdlib>
#include <map>

#include "base/error.h"
#include "cli/secret_flags.h"

namespace sluice::cli {

void add_cassandra_flags(CLI::App* cmd, const std::string& prefix, cql::session_config& config,
                         cassandra_flags& flags) {
  auto flag = [&](const char* name) { return "--" + prefix + name; };
  cmd->add_option(flag("host"), config.host, "Cassandra contact point(s), comma-separated");
  cmd->add_option(flag("port"), config.port, "Cassandra native port");
  cmd->add_option(flag("user"), flags.user,
                  "user for PasswordAuthenticator (password from --" + prefix +
                      "password-file or --" + prefix + "password-env)");
  cmd->add_option(flag("password-env"), flags.password_env,
                  "environment variable holding the password (default SLUICE_CQL_PASSWORD)");
  cmd->add_option(flag("password-file"), flags.password_file,
                  "file whose first line is the password");
  cmd->add_flag(flag("tls"), flags.tls, "connect with TLS, trusting the system CAs");
  cmd->add_option(flag("tls-ca"), flags.tls_ca, "connect with TLS, trusting this PEM CA file")
      ->check(CLI::ExistingFile);
  cmd->add_flag(flag("tls-no-verify"), flags.tls_no_verify,
                "TLS without checking the server certificate");
  cmd->add_option(flag("compression"), config.compression, "frame compression: lz4")
      ->check(CLI::IsMember({"lz4"}));
  cmd->add_option(flag("local-dc"), config.local_dc,
                  "the local data centre (default: the contact point's); LOCAL_* consistency "
                  "levels use only its nodes");
  cmd->add_flag(flag("allow-remote-dc"), config.allow_remote_dc_for_local,
                "let LOCAL_* consistency levels use another data centre's nodes when no local "
                "one is up");
  cmd->add_option(flag("consistency"), flags.consistency,
                  "consistency level: one, two, three, quorum, all, local_quorum, each_quorum, "
                  "local_one, any (default local_quorum)")
      ->check(CLI::IsMember({"any", "one", "two", "three", "quorum", "all", "local_quorum",
                             "each_quorum", "local_one"},
                            CLI::ignore_case));
  cmd->add_option(flag("speculative-delay-ms"), flags.speculative_delay_ms,
                  "also send an idempotent request to the next node when it has no answer after "
                  "this many ms (up to 2 extra sends; default 0: off)")
      ->check(CLI::Range(0, 600000));
  cmd->add_option(flag("protocol-version"), config.max_protocol_version,
                  "highest CQL protocol version to offer (3 or 4)")
      ->check(CLI::Range(3, 4));
}

void apply_cassandra_flags(const cassandra_flags& flags, const std::string& prefix,
                           cql::session_config& config) {
  if (!flags.user.empty()) {
    config.auth = cql::credentials{
        flags.user,
        read_password(flags.password_file, "--" + prefix + "password-file", flags.password_env,
                      "--" + prefix + "password-env", "--" + prefix + "user", flags.user)};
  } else if (!flags.password_file.empty()) {
    throw fatal_error(fmt::format("--{0}password-file: give the user too (--{0}user)", prefix));
  }
  config.speculative_delay = std::chrono::milliseconds(flags.speculative_delay_ms);
  config.tls = {flags.tls || flags.tls_no_verify || !flags.tls_ca.empty(), flags.tls_ca,
                !flags.tls_no_verify};
  if (!flags.consistency.empty()) {
    static const std::map<std::string, cql::consistency> levels = {
        {"any", cql::consistency::any},
        {"one", cql::consistency::one},
        {"two", cql::consistency::two},
        {"three", cql::consistency::three},
        {"quorum", cql::consistency::quorum},
        {"all", cql::consistency::all},
        {"local_quorum", cql::consistency::local_quorum},
        {"each_quorum", cql::consistency::each_quorum},
        {"local_one", cql::consistency::local_one}};
    std::string name = flags.consistency;
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto found = levels.find(name);
    if (found == levels.end())
      throw fatal_error(
          fmt::format("--{}consistency: unknown level '{}'", prefix, flags.consistency));
    config.level = found->second;
  }
}

}  // namespace sluice::cli
