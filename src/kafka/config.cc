// Builds librdkafka configurations from the typed settings in config.h.
#include "kafka/config.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace sluice::kafka {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool one_of(std::string_view value, std::initializer_list<std::string_view> allowed) {
  return std::find(allowed.begin(), allowed.end(), value) != allowed.end();
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

// Applies name=value pairs in order, stopping at the first failure.
result<void> apply_all(RdKafka::Conf& conf, const std::vector<property>& props) {
  for (const auto& prop : props) {
    if (auto r = set_property(conf, prop); !r) return r;
  }
  return ok();
}

std::vector<property> client_properties(const client_settings& s) {
  std::vector<property> props{{"bootstrap.servers", s.bootstrap_servers},
                              {"client.id", s.client_id},
                              {"security.protocol", lower(s.security.protocol)}};
  const auto& sec = s.security;
  auto add_if = [&](const char* name, const std::string& value) {
    if (!value.empty()) props.push_back({name, value});
  };
  add_if("sasl.mechanisms", sec.sasl_mechanism);
  add_if("sasl.username", sec.sasl_username);
  add_if("sasl.password", sec.sasl_password);
  add_if("ssl.ca.location", sec.ssl_ca_location);
  add_if("ssl.certificate.location", sec.ssl_certificate_location);
  add_if("ssl.key.location", sec.ssl_key_location);
  add_if("ssl.key.password", sec.ssl_key_password);
  return props;
}

result<std::unique_ptr<RdKafka::Conf>> build(const client_settings& client,
                                             const std::vector<property>& role_props) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  if (auto r = apply_all(*conf, client_properties(client)); !r) return r.err();
  if (auto r = apply_all(*conf, role_props); !r) return r.err();
  if (auto r = apply_all(*conf, client.extra); !r) return r.err();
  return conf;
}

}  // namespace

result<property> parse_property(std::string_view text) {
  auto eq = text.find('=');
  if (eq == std::string_view::npos) {
    return make_error(errc::invalid_argument,
                      "librdkafka property '{}' is not of the form key=value", text);
  }
  auto name = trim(text.substr(0, eq));
  if (name.empty()) {
    return make_error(errc::invalid_argument, "librdkafka property '{}' has an empty key", text);
  }
  return property{std::string(name), std::string(text.substr(eq + 1))};
}

result<void> set_property(RdKafka::Conf& conf, const property& prop) {
  std::string errstr;
  switch (conf.set(prop.name, prop.value, errstr)) {
    case RdKafka::Conf::CONF_OK:
      return ok();
    case RdKafka::Conf::CONF_UNKNOWN:
      return make_error(errc::invalid_argument, "unknown librdkafka property '{}'", prop.name);
    case RdKafka::Conf::CONF_INVALID:
      break;
  }
  // Never echo secrets back in an error message.
  bool secret = prop.name.find("password") != std::string::npos ||
                prop.name.find("secret") != std::string::npos;
  return make_error(errc::invalid_argument, "librdkafka property '{}' = '{}': {}", prop.name,
                    secret ? "***" : prop.value, errstr);
}

result<void> validate(const client_settings& s) {
  if (trim(s.bootstrap_servers).empty()) {
    return make_error(errc::invalid_argument, "bootstrap servers are empty (expected host:port)");
  }
  auto protocol = lower(s.security.protocol);
  if (!one_of(protocol, {"plaintext", "ssl", "sasl_plaintext", "sasl_ssl"})) {
    return make_error(errc::invalid_argument,
                      "security protocol '{}' is not one of plaintext, ssl, sasl_plaintext, "
                      "sasl_ssl",
                      s.security.protocol);
  }
  bool sasl = protocol.rfind("sasl_", 0) == 0;
  if (sasl) {
    const auto& mech = s.security.sasl_mechanism;
    if (!one_of(mech, {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"})) {
      return make_error(errc::invalid_argument,
                        "SASL mechanism '{}' is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 "
                        "(security protocol {})",
                        mech, protocol);
    }
    if (s.security.sasl_username.empty() || s.security.sasl_password.empty()) {
      return make_error(errc::invalid_argument, "SASL mechanism {} needs a username and a password",
                        mech);
    }
  } else if (!s.security.sasl_mechanism.empty()) {
    return make_error(errc::invalid_argument,
                      "SASL mechanism '{}' is set but security protocol '{}' does not use SASL",
                      s.security.sasl_mechanism, protocol);
  }
  for (const auto& prop : s.extra) {
    if (trim(prop.name).empty()) {
      return make_error(errc::invalid_argument, "extra librdkafka property with an empty name");
    }
  }
  return ok();
}

result<void> validate(const producer_settings& s) {
  if (auto r = validate(s.client); !r) return r;
  if (!one_of(s.compression, {"none", "gzip", "snappy", "lz4", "zstd"})) {
    return make_error(errc::invalid_argument,
                      "compression '{}' is not one of none, gzip, snappy, lz4, zstd",
                      s.compression);
  }
  if (s.linger.count() < 0) {
    return make_error(errc::invalid_argument, "linger {} ms is negative", s.linger.count());
  }
  if (s.batch_size_bytes <= 0 || s.batch_num_messages <= 0) {
    return make_error(errc::invalid_argument, "batch size {} bytes / {} messages must be > 0",
                      s.batch_size_bytes, s.batch_num_messages);
  }
  return ok();
}

result<void> validate(const consumer_settings& s) {
  if (auto r = validate(s.client); !r) return r;
  if (s.group_id.empty()) {
    return make_error(errc::invalid_argument, "consumer group id is empty");
  }
  if (!one_of(s.auto_offset_reset, {"earliest", "latest", "error"})) {
    return make_error(errc::invalid_argument,
                      "auto offset reset '{}' is not one of earliest, latest, error",
                      s.auto_offset_reset);
  }
  if (!one_of(s.assignment_strategy, {"cooperative-sticky", "range", "roundrobin"})) {
    return make_error(errc::invalid_argument,
                      "assignment strategy '{}' is not one of cooperative-sticky, range, "
                      "roundrobin",
                      s.assignment_strategy);
  }
  return ok();
}

result<std::unique_ptr<RdKafka::Conf>> build_conf(const client_settings& settings) {
  if (auto r = validate(settings); !r) return r.err();
  return build(settings, {});
}

result<std::unique_ptr<RdKafka::Conf>> build_conf(const producer_settings& s) {
  if (auto r = validate(s); !r) return r.err();
  std::vector<property> props{
      {"enable.idempotence", s.idempotent ? "true" : "false"},
      {"acks", "all"},
      {"compression.codec", s.compression},
      {"linger.ms", std::to_string(s.linger.count())},
      {"batch.size", std::to_string(s.batch_size_bytes)},
      {"batch.num.messages", std::to_string(s.batch_num_messages)},
      {"statistics.interval.ms", std::to_string(s.statistics_interval.count())},
      {"message.timeout.ms", std::to_string(s.message_timeout.count())},
  };
  return build(s.client, props);
}

result<std::unique_ptr<RdKafka::Conf>> build_conf(const consumer_settings& s) {
  if (auto r = validate(s); !r) return r.err();
  std::vector<property> props{
      {"group.id", s.group_id},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", s.auto_offset_reset},
      {"partition.assignment.strategy", s.assignment_strategy},
      {"session.timeout.ms", std::to_string(s.session_timeout.count())},
      {"max.poll.interval.ms", std::to_string(s.max_poll_interval.count())},
      {"fetch.wait.max.ms", std::to_string(s.fetch_wait_max.count())},
      {"fetch.min.bytes", std::to_string(s.fetch_min_bytes)},
  };
  return build(s.client, props);
}

}  // namespace sluice::kafka
