// The stream processor behind `sluice process`: consume users.raw in a consumer group,
// decode, validate against the contract's rules, upsert valid rows into Cassandra and
// send the rest to the dead-letter topic with their reasons, and commit offsets only
// once both sinks acknowledged every record below them.
//
// Delivery: records are handled in polled batches; a batch's Cassandra writes (many in
// flight) and dead-letter produces (flushed) must all succeed before its offsets are
// committed. A failing sink pauses consumption and is retried with backoff, never
// dropped. The upsert uses no server-side clock, so replaying a record after a crash
// writes the very same row: at-least-once delivery with an idempotent sink gives
// exactly one row per user id.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "kafka/config.h"
#include "web/metrics.h"

namespace sluice::pipeline {

struct process_settings {
  kafka::client_settings kafka;
  std::string group_id = "sluice-processor";
  std::string source_topic = "users.raw";
  std::string dlq_topic = "users.dlq";
  std::string registry_url = "http://127.0.0.1:8081";
  std::string cassandra_host = "127.0.0.1";
  int cassandra_port = 9042;
  std::string keyspace = "sluice";
  std::string rules_file = "contract/rules.yaml";
  std::size_t batch_size = 5000;       // records per poll batch (bounds memory in flight)
  std::size_t cassandra_window = 256;  // concurrent Cassandra writes
  std::size_t max_value_bytes = 1 << 20;
  std::chrono::milliseconds max_backoff{10000};
  std::chrono::milliseconds session_timeout{45000};  // group session: how soon a dead
                                                     // member's partitions move on
  std::chrono::milliseconds lag_interval{5000};      // how often the lag gauge refreshes
  std::chrono::milliseconds commit_interval{500};    // at most this long between commits
                                                     // while busy (a crash re-reads more)
  bool stop_at_end = false;                // exit once every assigned partition is drained
  std::chrono::milliseconds idle_exit{0};  // with stop_at_end: idle time that means "drained"
};

/// Runs until `stop` becomes true (SIGINT/SIGTERM), then finishes the batch, commits
/// and leaves the group. Returns 0 on a clean stop. Metrics go to `metrics`.
int run_processor(const process_settings& settings, const std::atomic<bool>& stop,
                  web::metrics_registry& metrics);

}  // namespace sluice::pipeline
