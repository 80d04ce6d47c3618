// The console (`sluice ui`): a web UI and JSON API for Kafka, the schema registry and
// the pipeline (live flow, dead letters, Cassandra, accounting, Airflow runs, health),
// served by the project's HTTP server with the page embedded in the binary. The API is
// described in src/console/API.md; security (Host, token, CSRF) in security.h.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "cql/cql.h"
#include "kafka/config.h"
#include "stack/stack.h"

namespace sluice::console {

struct console_options {
  std::string host = "127.0.0.1";
  int port = 9000;
  std::string access_token;  // required beyond loopback (see security.h)
  kafka::client_settings kafka;
  std::string registry_url = "http://127.0.0.1:8081";
  cql::session_config cassandra;
  std::string keyspace = "sluice";
  std::string raw_topic = "users.raw";
  std::string dlq_topic = "users.dlq";
  std::string group_id = "sluice-processor";
  std::string cpp_metrics_url = "http://127.0.0.1:9470/metrics";
  std::string spark_metrics_url = "http://127.0.0.1:9472/metrics";
  std::string producer_metrics_url = "http://127.0.0.1:9471/metrics";
  std::string airflow_url = "http://127.0.0.1:8082";
  std::filesystem::path airflow_password_file;  // JSON {"admin": "..."}; empty: no Airflow
  std::chrono::milliseconds kafka_timeout{10000};
  /// The stack whose components `/api/v1/status` reports (and whose Kafka data folder
  /// gives topic sizes on disk); empty state_dir: none.
  stack::stack_config stack;
};

class console {
 public:
  explicit console(console_options options);
  ~console();
  console(const console&) = delete;
  console& operator=(const console&) = delete;

  /// The port actually bound.
  int port() const;
  void start();
  void stop();

  struct state;

 private:
  std::unique_ptr<state> state_;
};

}  // namespace sluice::console
