// Typed settings for librdkafka clients and the builder that turns them into an
// RdKafka::Conf. Every client (producer, consumer, admin) starts from client_settings:
// bootstrap servers, client id, security (SASL/SCRAM, TLS) passed through as-is, and
// arbitrary extra librdkafka properties given as `key=value`. Invalid values and
// unknown property names come back as errors naming the property, never as a crash.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <librdkafka/rdkafkacpp.h>

#include "base/result.h"

namespace sluice::kafka {

/// A librdkafka property as name and value.
struct property {
  std::string name;
  std::string value;
  bool operator==(const property&) const = default;
};

/// Security settings, passed through to librdkafka (security.protocol, sasl.*, ssl.*).
/// Empty strings mean "not set".
struct security_settings {
  /// plaintext, ssl, sasl_plaintext or sasl_ssl (case-insensitive).
  std::string protocol = "plaintext";
  /// PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 when protocol is sasl_*.
  std::string sasl_mechanism;
  std::string sasl_username;
  std::string sasl_password;
  /// PEM files for TLS: CA bundle, client certificate and key.
  std::string ssl_ca_location;
  std::string ssl_certificate_location;
  std::string ssl_key_location;
  std::string ssl_key_password;
};

/// What every client needs.
struct client_settings {
  std::string bootstrap_servers = "127.0.0.1:9092";
  std::string client_id = "sluice";
  security_settings security;
  /// Extra librdkafka properties, applied last (they override the typed fields).
  std::vector<property> extra;
};

/// Producer tuning. The producer is always idempotent with acks=all unless
/// `idempotent` is turned off explicitly.
struct producer_settings {
  client_settings client;
  bool idempotent = true;
  std::string compression = "lz4";  ///< none, gzip, snappy, lz4, zstd
  std::chrono::milliseconds linger{5};
  int batch_size_bytes = 1'000'000;
  int batch_num_messages = 10'000;
  std::chrono::milliseconds message_timeout{300'000};
  /// librdkafka's statistics JSON every `statistics_interval` (0: off), served on the
  /// thread that polls.
  std::chrono::milliseconds statistics_interval{0};
  std::function<void(std::string_view)> on_statistics;
};

/// Consumer group settings. Offsets are never committed automatically: the caller
/// commits explicit offsets once it has finished with the records below them.
struct consumer_settings {
  client_settings client;
  std::string group_id;
  std::string auto_offset_reset = "earliest";  ///< earliest, latest, error
  /// cooperative-sticky (default), range or roundrobin.
  std::string assignment_strategy = "cooperative-sticky";
  std::chrono::milliseconds session_timeout{45'000};
  std::chrono::milliseconds max_poll_interval{300'000};
  /// The broker answers a fetch once it has fetch_min_bytes or after fetch_wait_max.
  std::chrono::milliseconds fetch_wait_max{500};
  int fetch_min_bytes = 1;
};

/// Parses `key=value` (as given on a command line) into a property. Whitespace around
/// the key is trimmed; the value is kept as is and may contain '='.
result<property> parse_property(std::string_view text);

/// Checks the typed fields without touching librdkafka: non-empty bootstrap, a known
/// security protocol, SASL credentials when SASL is on, sane numbers.
result<void> validate(const client_settings& settings);
result<void> validate(const producer_settings& settings);
result<void> validate(const consumer_settings& settings);

/// Builds the librdkafka configuration. Errors name the property and the value
/// (unknown property names are reported by name).
result<std::unique_ptr<RdKafka::Conf>> build_conf(const client_settings& settings);
result<std::unique_ptr<RdKafka::Conf>> build_conf(const producer_settings& settings);
result<std::unique_ptr<RdKafka::Conf>> build_conf(const consumer_settings& settings);

/// Sets one property on a conf, with an error naming it on failure.
result<void> set_property(RdKafka::Conf& conf, const property& prop);

}  // namespace sluice::kafka
