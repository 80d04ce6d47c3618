// `sluice registry`: a Confluent-compatible schema registry persisted in a compacted
// Kafka topic (see src/registry/server.h). Serves the Confluent REST API on --host:--port
// through the shared HTTP server, plus /health and /metrics. Single writer: run one
// instance per topic. With --auth-user, every API request needs HTTP basic auth (the
// password from --auth-password-file or --auth-password-env, never from argv); /health
// and /metrics stay open.
#include <chrono>
#include <csignal>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "base/error.h"
#include "base/log.h"
#include "cli/secret_flags.h"
#include "cli/verb.h"
#include "kafka/config.h"
#include "registry/auth.h"
#include "registry/http_api.h"
#include "registry/server.h"
#include "web/server.h"

namespace sluice::cli {
namespace {

struct registry_options {
  std::string host = "127.0.0.1";
  int port = 8081;
  kafka::client_settings kafka;
  kafka_flags kafka_extra;
  std::string topic = "_schemas";
  int kafka_timeout_ms = 30'000;
  std::string auth_user;
  std::string auth_password_env = "SLUICE_REGISTRY_PASSWORD";
  std::string auth_password_file;
};

// The credentials every API request must carry, or nothing (an open registry).
std::optional<registry::basic_auth> to_auth(const registry_options& o) {
  if (o.auth_user.empty()) {
    if (!o.auth_password_file.empty()) {
      throw fatal_error("--auth-password-file: give the user too (--auth-user)");
    }
    return std::nullopt;
  }
  if (o.auth_user.find(':') != std::string::npos) {
    throw fatal_error(fmt::format(
        "--auth-user {}: a basic auth user cannot contain ':', choose another name", o.auth_user));
  }
  return registry::basic_auth(
      {o.auth_user, read_password(o.auth_password_file, "--auth-password-file", o.auth_password_env,
                                  "--auth-password-env", "--auth-user", o.auth_user)});
}

registry::store_settings to_settings(const registry_options& o) {
  if (o.port < 0 || o.port > 65535) {
    throw fatal_error(fmt::format("--port: '{}' is not a port, expected 0-65535", o.port));
  }
  if (o.topic.empty()) throw fatal_error("--topic: '' is not a topic name, expected e.g. _schemas");
  if (o.kafka_timeout_ms <= 0) {
    throw fatal_error(
        fmt::format("--kafka-timeout-ms: '{}' is not a positive number of ms", o.kafka_timeout_ms));
  }
  registry::store_settings s;
  s.client = o.kafka;
  apply_kafka_flags(o.kafka_extra, s.client);
  s.client.client_id = "sluice-registry";
  if (auto r = kafka::validate(s.client); !r) {
    throw fatal_error(fmt::format("--bootstrap/--kafka-property: {}", r.err().message));
  }
  s.topic = kafka::topic(o.topic);
  s.timeout = std::chrono::milliseconds(o.kafka_timeout_ms);
  return s;
}

int run(const registry_options& o) {
  auto settings = to_settings(o);
  auto auth = to_auth(o);
  auto logger = log::get("registry");
  auto server = registry::registry_server::start(settings);
  if (!server) {
    logger->error("{}", server.err().message);
    return 1;
  }
  auto& api = (*server)->api();

  // Every path but /health and /metrics (answered by web::server) goes to the API.
  web::server_options wopts;
  wopts.host = o.host;
  wopts.port = o.port;
  wopts.service_name = "sluice-registry";
  web::server http(wopts, web::router{});
  const bool auth_on = auth.has_value();
  registry::add_api_routes(http.routes(), api, http.metrics(), std::move(auth));
  http.set_health([&api, topic = o.topic] {
    auto stats = api.stats();
    return fmt::format(R"("topic":"{}","subjects":{},"schemas":{},"next_id":{})", topic,
                       stats.subjects, stats.schemas, stats.next_id);
  });

  // Block SIGINT/SIGTERM in every thread (the server's too) and wait for one here.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  http.start();
  logger->info(
      "schema registry on http://{}:{} (topic {}, Kafka {}, {}); single writer: run one "
      "instance per topic",
      o.host, http.port(), o.topic, o.kafka.bootstrap_servers,
      auth_on ? fmt::format("basic auth as user {}", o.auth_user) : "no authentication");
  int received = 0;
  sigwait(&signals, &received);
  logger->info("signal {}: stopping", received);
  http.stop();
  return 0;
}

}  // namespace

SLUICE_VERB("registry", [](CLI::App& root) {
  auto opts = std::make_shared<registry_options>();
  auto* cmd = root.add_subcommand(
      "registry", "Confluent-compatible schema registry persisted in a compacted Kafka topic");
  cmd->add_option("--host", opts->host, "address to listen on")->capture_default_str();
  cmd->add_option("--port", opts->port, "HTTP port")->capture_default_str();
  add_kafka_flags(cmd, opts->kafka, opts->kafka_extra);
  cmd->add_option("--topic", opts->topic, "compacted topic holding the registry's state")
      ->capture_default_str();
  cmd->add_option("--kafka-timeout-ms", opts->kafka_timeout_ms,
                  "bound on start-up and on each write to Kafka")
      ->capture_default_str();
  cmd->add_option("--auth-user", opts->auth_user,
                  "require HTTP basic auth with this user on every API request but /health "
                  "and /metrics (password from --auth-password-file or --auth-password-env)");
  cmd->add_option("--auth-password-env", opts->auth_password_env,
                  "environment variable holding the --auth-user password")
      ->capture_default_str();
  cmd->add_option("--auth-password-file", opts->auth_password_file,
                  "file whose first line is the --auth-user password");
  return [opts] { return run(*opts); };
});

}  // namespace sluice::cli
