// The processor's bookkeeping, apart from its loop (process.cc): its metrics, the writes
// it has in flight to Cassandra and to the dead-letter topic, and the queue that hands
// Cassandra's answers from the session's I/O thread to the processor's thread. Internal
// to src/pipeline.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "cql/cql.h"
#include "kafka/kafka.h"
#include "web/metrics.h"

namespace sluice::pipeline::process_detail {

using clock = std::chrono::steady_clock;

struct processor_metrics {
  explicit processor_metrics(web::metrics_registry& m)
      : registry(m),
        consumed(m.get_counter("sluice_process_consumed_total", "Records read from the raw topic")),
        valid(m.get_counter("sluice_process_valid_total", "Records that passed the rules")),
        written(m.get_counter("sluice_process_written_total", "Rows acknowledged by Cassandra")),
        dead_lettered(
            m.get_counter("sluice_process_dead_lettered_total", "Records acknowledged on the DLQ")),
        retries(m.get_counter("sluice_process_retries_total", "Sink retries after a failure")),
        commits(m.get_counter("sluice_process_commits_total", "Offset commits")),
        cassandra_requests(m.get_counter("sluice_process_cassandra_requests_total",
                                         "Cassandra requests sent (one row or a batch of rows)")),
        in_flight(m.get_gauge("sluice_process_in_flight", "Records polled but not yet committed")),
        lag(m.get_gauge("sluice_process_consumer_lag",
                        "Records in the raw topic not yet committed by the group")),
        latency(m.get_histogram("sluice_process_end_to_end_seconds",
                                "Kafka record timestamp to Cassandra acknowledgement")),
        kafka_delay(m.get_histogram("sluice_process_kafka_delay_seconds",
                                    "Kafka record timestamp to the processor reading it")),
        dependency_waits(m.get_counter(
            "sluice_process_dependency_waits_total",
            "Records held back because a dependency (the schema registry) failed; retried")),
        truncated_letters(m.get_counter(
            "sluice_process_truncated_dead_letters_total",
            "Dead letters whose value was cut to fit the dead-letter topic's size limit")),
        store_latency(m.get_histogram(
            "sluice_process_store_seconds",
            "Processor reading a valid record to Cassandra acknowledging its row")) {}
  web::counter& invalid(const std::string& rule) {
    return registry.get_counter("sluice_process_invalid_total", "Rejected records by rule id",
                                {{"rule", rule}});
  }
  web::metrics_registry& registry;
  web::counter& consumed;
  web::counter& valid;
  web::counter& written;
  web::counter& dead_lettered;
  web::counter& retries;
  web::counter& commits;
  web::counter& cassandra_requests;
  web::gauge& in_flight;
  web::gauge& lag;
  web::histogram& latency;
  web::histogram& kafka_delay;
  web::counter& dependency_waits;
  web::counter& truncated_letters;
  web::histogram& store_latency;
};

/// A valid record on its way to Cassandra. It keeps the record's bytes: a row that
/// Cassandra rejects for good becomes a dead letter (store.rejected) with them.
struct row_write {
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::int64_t timestamp_ms = -1;
  std::string key, value;
  std::vector<cql::bound_value> row;
  std::size_t bytes = 0;  // encoded size of the row's values (batches are bounded by it)
  std::string owner;      // the node owning the row's key (for grouping; empty when unused)
  bool alone = false;     // split out of a batch Cassandra refused: sent as a request alone
  int attempt = 0;
  clock::time_point read{};  // when the processor read it from Kafka
  clock::time_point due{};   // not before (retry backoff)
};

/// An invalid record on its way to the dead-letter topic (owned by the producer's opaque
/// pointer while in flight).
struct dead_letter_write {
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::string key, value;
  std::vector<kafka::header> headers;
  bool null_value = false;    // the record's value was null: so is the letter's
  std::size_t max_bytes = 0;  // the size it must fit (0: the dead-letter topic's limit)
  int attempt = 0;
  clock::time_point due{};
};

/// Cassandra answers, handed from the session's I/O thread to the processor's thread.
class completion_queue {
 public:
  struct item {
    std::vector<std::unique_ptr<row_write>> writes;  // one request: a row or a batch
    std::optional<error> failure;
  };
  void push(item i) {
    {
      std::lock_guard lock(mutex_);
      items_.push_back(std::move(i));
    }
    ready_.notify_one();
  }
  /// Takes what arrived, waiting up to `wait` when nothing has.
  std::vector<item> take(std::chrono::milliseconds wait) {
    std::unique_lock lock(mutex_);
    if (items_.empty() && wait.count() > 0) ready_.wait_for(lock, wait);
    std::vector<item> out;
    out.swap(items_);
    return out;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<item> items_;
};

}  // namespace sluice::pipeline::process_detail
