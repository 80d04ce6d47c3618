// `sluice registry`: a Confluent-compatible schema registry persisted in a compacted
// Kafka topic (see src/registry/server.h). Serves the Confluent REST API on --host:--port
// through the shared HTTP server, plus /health and /metrics. Single writer: run one
// instance per topic.
#include <chrono>
#include <csignal>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "base/error.h"
#include "base/log.h"
#include "cli/secret_flags.h"
#include "cli/verb.h"
#include "kafka/config.h"
#include "registry/server.h"
#include "web/http_text.h"
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
};

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
  auto logger = log::get("registry");
  auto server = registry::registry_server::start(settings);
  if (!server) {
    logger->error("{}", server.err().message);
    return 1;
  }
  auto& api = (*server)->api();

  // Every path goes to the registry API, which decodes the raw target itself (a
  // subject may contain an encoded '/'); /health and /metrics come from web::server.
  web::router routes;
  web::metrics_registry* metrics = nullptr;
  routes.add_prefix("*", "/", [&api, &metrics](const web::request& req) {
    auto q = req.target.find('?');
    registry::api_request call{req.method, req.target.substr(0, q),
                               q == std::string::npos ? "" : req.target.substr(q + 1), req.body};
    auto answer = api.handle(call);
    if (metrics != nullptr) {
      metrics
          ->get_counter("sluice_registry_requests_total",
                        "Registry API requests by method and status",
                        {{"method", std::string(web::method_label(req.method))},
                         {"status", std::to_string(answer.status)}})
          .inc();
    }
    web::response out;
    out.status = answer.status;
    out.content_type = registry::registry_content_type;
    out.body = std::move(answer.body);
    return out;
  });

  web::server_options wopts;
  wopts.host = o.host;
  wopts.port = o.port;
  wopts.service_name = "sluice-registry";
  web::server http(wopts, std::move(routes));
  metrics = &http.metrics();
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
      "schema registry on http://{}:{} (topic {}, Kafka {}); single writer: run one "
      "instance per topic",
      o.host, http.port(), o.topic, o.kafka.bootstrap_servers);
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
  return [opts] { return run(*opts); };
});

}  // namespace sluice::cli
