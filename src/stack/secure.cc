// The secured stack profile: certificates, passwords and the engines' and clients'
// security settings (see secure.h).
#include "stack/secure.h"

#include <fstream>

#include <librdkafka/rdkafka.h>

#include "base/error.h"
#include "base/hex.h"
#include "stack/secrets.h"

namespace sluice::stack {
namespace fs = std::filesystem;
namespace {

fs::path secrets_dir(const stack_config& config) {
  return config.state_dir / "secrets";
}

fs::path tls_dir(const stack_config& config) {
  return config.state_dir / "tls";
}

secure_profile profile_paths(const stack_config& config) {
  auto secrets = secrets_dir(config);
  auto tls = tls_dir(config);
  secure_profile p;
  p.tls = {tls / "ca.pem", tls / "server.pem", tls / "server-key.pem", tls / "server-bundle.pem"};
  p.kafka_password_file = secrets / "kafka.password";
  p.kafka_broker_password_file = secrets / "kafka-broker.password";
  p.cassandra_password_file = secrets / "cassandra.password";
  p.registry_password_file = secrets / "registry.password";
  return p;
}

// Hex passwords: nothing to quote in a JAAS line, a java @file or a URL.
std::string new_password() {
  return lower_hex(random_bytes(24));
}

}  // namespace

std::string kafka_client_mechanism() {
  // librdkafka before 2.6.1 appends its nonce twice in SCRAM's final message, which
  // Kafka 4 rejects as invalid credentials (confluentinc/librdkafka#4895); Debian 12
  // ships 2.0.2. Those clients use PLAIN, which the broker also offers, inside TLS.
  return rd_kafka_version() >= 0x020601ff ? "SCRAM-SHA-512" : "PLAIN";
}

secure_profile ensure_secure_profile(const stack_config& config) {
  certificate_request request;
  request.hosts = {config.host};
  if (config.host != "localhost") request.hosts.push_back("localhost");
  auto profile = profile_paths(config);
  profile.tls = ensure_certificates(tls_dir(config), request);
  for (const auto& file : {profile.kafka_password_file, profile.kafka_broker_password_file,
                           profile.cassandra_password_file, profile.registry_password_file}) {
    ensure_secret(file.parent_path(), file.filename().string(), new_password);
  }
  return profile;
}

std::string read_secret(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  if (!in || !std::getline(in, line) || line.empty()) {
    throw fatal_error(
        fmt::format("cannot read the secret in {} (made by `sluice up --secure`; run it again)",
                    file.string()));
  }
  return line;
}

std::vector<std::pair<std::string, std::string>> kafka_client_properties(
    const stack_config& config) {
  if (!config.secure) return {};
  auto p = profile_paths(config);
  return {{"security.protocol", "SASL_SSL"},
          {"sasl.mechanisms", kafka_client_mechanism()},
          {"sasl.username", kSecureUser},
          {"sasl.password", read_secret(p.kafka_password_file)},
          {"ssl.ca.location", p.tls.ca_cert.string()}};
}

std::vector<std::string> kafka_client_flags(const stack_config& config,
                                            const std::string& mechanism) {
  if (!config.secure) return {};
  auto p = profile_paths(config);
  return {"--kafka-security-protocol",
          "sasl_ssl",
          "--kafka-sasl-mechanism",
          mechanism.empty() ? kafka_client_mechanism() : mechanism,
          "--kafka-user",
          kSecureUser,
          "--kafka-password-file",
          p.kafka_password_file.string(),
          "--kafka-ca",
          p.tls.ca_cert.string()};
}

std::vector<std::string> registry_client_flags(const stack_config& config) {
  if (!config.secure) return {};
  return {"--registry-user", kSecureUser, "--registry-password-file",
          profile_paths(config).registry_password_file.string()};
}

std::vector<std::string> cassandra_client_flags(const stack_config& config,
                                                const std::string& prefix) {
  if (!config.secure) return {};
  auto p = profile_paths(config);
  return {"--" + prefix + "user",          kSecureUser,
          "--" + prefix + "password-file", p.cassandra_password_file.string(),
          "--" + prefix + "tls-ca",        p.tls.ca_cert.string()};
}

std::vector<std::string> cassandra_client_env(const stack_config& config) {
  if (!config.secure) return {};
  return {"SLUICE_CQL_PASSWORD=" + read_secret(profile_paths(config).cassandra_password_file)};
}

std::string registry_authorization_header(const stack_config& config) {
  if (!config.secure) return "";
  auto credentials =
      std::string(kSecureUser) + ":" + read_secret(profile_paths(config).registry_password_file);
  return "Authorization: Basic " + base64(credentials);
}

std::string secure_kafka_properties(const stack_config& config) {
  auto p = profile_paths(config);
  auto host = config.host;
  return fmt::format(
      "listeners=SASL_SSL://{0}:{1},CONTROLLER://{0}:{2}\n"
      "advertised.listeners=SASL_SSL://{0}:{1}\n"
      "listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:SSL\n"
      "inter.broker.listener.name=SASL_SSL\n"
      "sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN\n"
      "sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512\n"
      "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config="
      "org.apache.kafka.common.security.scram.ScramLoginModule required "
      "username=\"{3}\" password=\"{4}\";\n"
      "listener.name.sasl_ssl.plain.sasl.jaas.config="
      "org.apache.kafka.common.security.plain.PlainLoginModule required "
      "user_{7}=\"{8}\";\n"
      "ssl.keystore.type=PEM\n"
      "ssl.keystore.location={5}\n"
      "ssl.truststore.type=PEM\n"
      "ssl.truststore.location={6}\n"
      "ssl.endpoint.identification.algorithm=https\n"
      "listener.name.controller.ssl.client.auth=required\n",
      host, config.kafka_port, config.kafka_controller_port, kBrokerUser,
      read_secret(p.kafka_broker_password_file), p.tls.server_bundle.string(),
      p.tls.ca_cert.string(), kSecureUser, read_secret(p.kafka_password_file));
}

std::string kafka_scram_format_arguments(const stack_config& config) {
  auto p = profile_paths(config);
  std::string lines;
  for (const auto& [user, file] :
       {std::pair{std::string(kSecureUser), p.kafka_password_file},
        std::pair{std::string(kBrokerUser), p.kafka_broker_password_file}}) {
    lines +=
        fmt::format("--add-scram\nSCRAM-SHA-512=[name={},password={}]\n", user, read_secret(file));
  }
  return lines;
}

std::string secure_cassandra_yaml(const stack_config& config) {
  auto p = profile_paths(config);
  return fmt::format(
      "client_encryption_options:\n"
      "  enabled: true\n"
      "  optional: false\n"
      "  ssl_context_factory:\n"
      "    class_name: org.apache.cassandra.security.PEMBasedSslContextFactory\n"
      "  keystore: {}\n"
      "  truststore: {}\n"
      "  require_client_auth: false\n",
      p.tls.server_bundle.string(), p.tls.ca_cert.string());
}

}  // namespace sluice::stack
