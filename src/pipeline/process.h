// The stream processor behind `sluice process`: consume users.raw in a consumer group,
// decode, validate against the contract's rules, upsert valid rows into Cassandra and
// send the rest to the dead-letter topic with their reasons, and commit offsets only
// once both sinks acknowledged every record below them.
//
// Delivery: records flow continuously: each is routed as it is polled and handed to its
// sink (Cassandra upserts, up to cassandra_window in flight; dead-letter produces), and a
// partition's offset is committed only past records both sinks acknowledged, whatever
// order the acknowledgements come in. A failing sink is retried with backoff, never
// dropped; with max_in_flight records unacknowledged, fetching pauses. The upsert uses no
// server-side clock (its write timestamp comes from the record), so replaying a record
// after a crash writes the very same row, and an older version never overwrites a newer
// one: at-least-once delivery with an idempotent sink gives exactly one row per user id.
// A failing dependency (Cassandra, the dead-letter topic, the schema registry) pauses and
// retries; only a fault of the data becomes a dead letter.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "cql/cql.h"
#include "kafka/config.h"
#include "privacy/privacy.h"
#include "web/metrics.h"

namespace sluice::pipeline {

struct process_settings {
  kafka::client_settings kafka;
  std::string group_id = "sluice-processor";
  std::string source_topic = "users.raw";
  std::string dlq_topic = "users.dlq";
  std::string registry_url = "http://127.0.0.1:8081";
  cql::session_config cassandra;  // contact points, auth, TLS (keyspace comes from below)
  std::string keyspace = "sluice";
  std::string rules_file = "contract/rules.yaml";
  std::size_t max_in_flight = 5000;   // records polled but unacknowledged (bounds memory)
  std::size_t cassandra_window = 32;  // concurrent Cassandra requests (more only queue there)
  std::size_t cassandra_batch = 32;   // rows of one node per request (1: row by row)
  // Bytes of row values per batch: Cassandra refuses batches past batch_size_fail_threshold
  // (50 KiB by default) and warns past 5 KiB.
  std::size_t cassandra_batch_bytes = 40 * 1024;
  // The dead-letter topic's record size limit; 0: ask the broker for the topic's
  // max.message.bytes at start. A dead letter past it is cut to fit, with headers saying so.
  std::size_t dlq_max_bytes = 0;
  // How long a row may wait for others of its node to share one request. Cassandra pays
  // per request, not per row: at 10,000 rows/s, 2 ms turns 10,000 requests a second into
  // about 500, for at most 2 ms more latency.
  std::chrono::milliseconds cassandra_linger{2};
  // How long the broker may hold a fetch for more data (fetch.wait.max.ms, with
  // fetch.min.bytes 64 KiB): fewer, fuller fetches cost the broker far less CPU.
  std::chrono::milliseconds fetch_wait{5};
  std::size_t max_value_bytes = 1 << 20;
  std::chrono::milliseconds max_backoff{10000};
  std::chrono::milliseconds session_timeout{45000};  // group session: how soon a dead
                                                     // member's partitions move on
  std::chrono::milliseconds lag_interval{5000};      // how often the lag gauge refreshes
  std::chrono::milliseconds commit_interval{500};    // at most this long between commits
                                                     // while busy (a crash re-reads more)
  // How long a revoke or a stop waits for the sinks to acknowledge what is in flight;
  // what is still unacknowledged then is re-read by the next owner (never committed).
  std::chrono::milliseconds drain_timeout{30000};
  // Fields replaced by keyed pseudonyms before rows are written; null: stored as received.
  std::shared_ptr<const privacy::pseudonymiser> pseudonyms;
  bool stop_at_end = false;                // exit once every assigned partition is drained
  std::chrono::milliseconds idle_exit{0};  // with stop_at_end: idle time that means "drained"
};

/// Runs until `stop` becomes true (SIGINT/SIGTERM), then finishes what is in flight,
/// commits and leaves the group. Returns 0 on a clean stop. Metrics go to `metrics`.
int run_processor(const process_settings& settings, const std::atomic<bool>& stop,
                  web::metrics_registry& metrics);

}  // namespace sluice::pipeline
