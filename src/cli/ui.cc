// `sluice ui`: the console (src/console), a web UI and JSON API for Kafka, the registry
// and the pipeline. Its engines' addresses come from the stack settings (the same
// config file, SLUICE_* variables and flags as `sluice up`); the access token comes
// from a file or SLUICE_UI_TOKEN, never from the command line, and so do the Kafka and
// registry passwords (the shared flags of src/cli/secret_flags.h).
#include <cstdlib>
#include <fstream>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "base/error.h"
#include "cli/cassandra_flags.h"
#include "cli/secret_flags.h"
#include "cli/service.h"
#include "cli/stack_options.h"
#include "cli/verb.h"
#include "console/console.h"
#include "stack/components.h"

namespace sluice::cli {
namespace {

struct ui_options {
  stack_options stack;
  std::string bind = "127.0.0.1";
  int port = 0;  // 0: the stack's ui_port
  std::string token_file;
  kafka::client_settings kafka;  // bootstrap empty: the stack's
  kafka_flags kafka_extra;
  std::string registry;  // empty: the stack's
  registry_flags registry_extra;
  std::string process_metrics, spark_metrics, producer_metrics, airflow_url;
  cql::session_config cassandra;
  cassandra_flags cassandra_extra;
};

std::string read_token(const ui_options& o) {
  if (!o.token_file.empty()) {
    std::ifstream in(o.token_file);
    if (!in) throw fatal_error(fmt::format("--token-file: cannot read '{}'", o.token_file));
    std::string token;
    std::getline(in, token);
    if (token.size() < 16) {
      throw fatal_error(fmt::format(
          "--token-file: the token in '{}' must have at least 16 characters", o.token_file));
    }
    return token;
  }
  const char* env = std::getenv("SLUICE_UI_TOKEN");
  return env != nullptr ? env : "";
}

console::console_options console_settings(ui_options& o) {
  auto config = build_config(o.stack);
  console::console_options c;
  c.host = o.bind;
  c.port = o.port > 0 ? o.port : config.ui_port;
  c.access_token = read_token(o);
  c.kafka = o.kafka;
  if (c.kafka.bootstrap_servers.empty()) {
    c.kafka.bootstrap_servers = fmt::format("{}:{}", config.host, config.kafka_port);
  }
  c.kafka.client_id = "sluice-ui";
  apply_kafka_flags(o.kafka_extra, c.kafka);
  c.registry_url = fmt::format("http://{}:{}", config.host, config.registry_port);
  c.cassandra = o.cassandra;
  if (c.cassandra.host == cql::session_config{}.host) c.cassandra.host = config.host;
  if (c.cassandra.port == cql::session_config{}.port) c.cassandra.port = config.cassandra_port;
  apply_cassandra_flags(o.cassandra_extra, "cql-", c.cassandra);
  if (!o.registry.empty()) c.registry_url = o.registry;
  apply_registry_flags(o.registry_extra, c.registry_url);
  c.cpp_metrics_url = fmt::format("http://{}:{}/metrics", config.host, config.process_metrics_port);
  c.producer_metrics_url =
      fmt::format("http://{}:{}/metrics", config.host, config.process_metrics_port + 1);
  c.spark_metrics_url = fmt::format("http://{}:{}/metrics", config.host, config.spark_metrics_port);
  c.airflow_url = fmt::format("http://{}:{}", config.host, config.airflow_api_port);
  if (!o.process_metrics.empty()) c.cpp_metrics_url = o.process_metrics;
  if (!o.spark_metrics.empty()) c.spark_metrics_url = o.spark_metrics;
  if (!o.producer_metrics.empty()) c.producer_metrics_url = o.producer_metrics;
  if (!o.airflow_url.empty()) c.airflow_url = o.airflow_url;
  if (config.airflow) c.airflow_password_file = stack::airflow_admin_password_file(config);
  c.stack = config;
  return c;
}

int run_ui(ui_options o) {
  const auto& stop = stop_on_signals("ui");
  console::console ui(console_settings(o));
  ui.start();
  fmt::print(stderr, "sluice ui: http://{}:{}/\n", o.bind, ui.port());
  while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ui.stop();
  return 0;
}

}  // namespace

SLUICE_VERB("ui", [](CLI::App& root) -> std::function<int()> {
  auto o = std::make_shared<ui_options>();
  auto* cmd =
      root.add_subcommand("ui", "the web console: Kafka, the registry and the live pipeline");
  cmd->add_option("--bind", o->bind, "address to listen on (beyond loopback needs a token)");
  cmd->add_option("--port", o->port, "port (default: the stack's ui_port, 9000)")
      ->check(CLI::Range(0, 65535));
  cmd->add_option(
      "--token-file", o->token_file,
      "file holding the access token (or set SLUICE_UI_TOKEN); required beyond loopback");
  o->kafka.bootstrap_servers.clear();
  add_kafka_flags(cmd, o->kafka, o->kafka_extra);
  add_registry_flags(cmd, o->registry, o->registry_extra,
                     "schema registry URL (default: the stack's)");
  cmd->add_option("--process-metrics", o->process_metrics, "URL of `sluice process` /metrics");
  cmd->add_option("--spark-metrics", o->spark_metrics, "URL of the Spark job's /metrics");
  cmd->add_option("--producer-metrics", o->producer_metrics, "URL of `sluice produce` /metrics");
  cmd->add_option("--airflow-url", o->airflow_url, "Airflow's API server (default: the stack's)");
  add_cassandra_flags(cmd, "cql-", o->cassandra, o->cassandra_extra);
  add_stack_flags(cmd, o->stack);
  return [o] { return run_ui(*o); };
});

}  // namespace sluice::cli
