// The processor's class, internal to src/pipeline: its loop, rebalances and commits live
// in process.cc, its sinks (Cassandra writes, dead letters, their failures and
// acknowledgements) in process_sinks.cc. process.h is the public face.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "base/error.h"
#include "base/log.h"
#include "cql/cql.h"
#include "cql/protocol.h"
#include "kafka/kafka.h"
#include "pipeline/decode.h"
#include "pipeline/offset_tracker.h"
#include "pipeline/process.h"
#include "pipeline/process_state.h"
#include "pipeline/route.h"
#include "pipeline/user_row.h"
#include "registry/client.h"
#include "rules/rules.h"

namespace sluice::pipeline::process_detail {

/// Seconds from a Kafka record timestamp (ms since the epoch) to `now`.
inline double seconds_since(std::int64_t record_ms, std::chrono::system_clock::time_point now) {
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
  return static_cast<double>(now_ms.count() - record_ms) / 1000.0;
}

class processor {
 public:
  processor(const process_settings& s, const std::atomic<bool>& stop, web::metrics_registry& m)
      : settings_(s),
        stop_(stop),
        metrics_(m),
        log_(log::get("process")),
        rules_(rules::rule_set::load(s.rules_file)),
        registry_(registry::client_settings{.url = s.registry_url}),
        decoder_([this](int id) { return ask_registry(registry_, id); }, s.max_value_bytes) {}

  int run();

 private:
  void connect();
  std::size_t dead_letter_limit();
  void on_rebalance(kafka::rebalance_kind kind, const std::vector<kafka::topic_partition>& parts);
  /// Routes a polled record to its sink. False when a dependency failed before a verdict
  /// (the registry): the record is not dispatched, and the caller holds it for later.
  bool dispatch(kafka::message& m);
  /// Holds `m` (and everything after it) until the dependency may answer again.
  void hold(kafka::message m, const std::string& why);
  bool owns(std::int32_t partition) const { return tracker_.partitions().count(partition) != 0; }
  void send_rows();
  /// Takes the next request's rows off the front of rows_waiting_: rows of one node, at
  /// most cassandra_batch rows and cassandra_batch_bytes bytes, one version of an id.
  std::vector<std::unique_ptr<row_write>> next_request(clock::time_point now);
  /// A request Cassandra failed: split a refused batch, dead-letter a refused row
  /// (store.rejected), retry the rest with backoff.
  void on_write_failure(std::vector<std::unique_ptr<row_write>> writes, const error& failure);
  void dead_letter_row(std::unique_ptr<row_write> w, const error& failure);
  /// Whether the first waiting row should go now: its retry is due, or a full request is
  /// waiting, or it has lingered long enough.
  bool request_ready(clock::time_point now) const;
  void send_dead_letter(std::unique_ptr<dead_letter_write> letter);
  void on_dead_letter_report(const kafka::delivery_report& r);
  /// Acknowledgements, failures and due retries; waits up to `wait` for an answer.
  void service_sinks(std::chrono::milliseconds wait);
  void acknowledge(std::int32_t partition, std::int64_t offset);
  std::chrono::milliseconds backoff_for(int attempt) const;
  void log_retry(const std::string& what, int attempt);
  /// Serves the sinks until no record of `partitions` (all when empty) is in flight, or
  /// `limit` passes. True when drained.
  bool drain(const std::vector<kafka::topic_partition>& partitions,
             std::chrono::milliseconds limit);
  std::size_t in_flight_of(const std::vector<kafka::topic_partition>& partitions) const;
  void commit(bool only_revoked = false, const std::vector<kafka::topic_partition>& which = {},
              bool async = false);
  /// While busy, commits asynchronously once commit_interval has passed; with `now`
  /// (idle) commits synchronously.
  void commit_if_due(bool now = false);
  /// Polls the consumer while the sinks are full: keeps group membership and serves
  /// rebalances, pauses fetching, and keeps any record that still arrives for later (a
  /// record polled and dropped would be skipped by the next commit).
  void poll_while_waiting();
  void resume_fetching();
  /// Moves each idle partition's committable offset up to the consumer's position, past
  /// transaction markers and compacted gaps that no record's offset reaches.
  void advance_idle_partitions();
  bool drained_group();
  void check_producer();
  void watch_lag(std::stop_token stop);

  const process_settings& settings_;
  const std::atomic<bool>& stop_;
  processor_metrics metrics_;
  std::shared_ptr<spdlog::logger> log_;
  rules::rule_set rules_;
  registry::client registry_;
  value_decoder decoder_;
  // The bookkeeping comes before the clients: members are destroyed in reverse order, and
  // the CQL session's and the producer's callbacks write into it until they are gone.
  offset_tracker tracker_;
  completion_queue completions_;
  std::deque<std::unique_ptr<row_write>> rows_waiting_;             // for a window slot or a retry
  std::deque<std::unique_ptr<dead_letter_write>> letters_waiting_;  // retries
  std::size_t requests_in_cassandra_ = 0;                           // rows or batches
  std::size_t in_flight_ = 0;           // dispatched, not yet acknowledged
  std::deque<kafka::message> stashed_;  // polled but not dispatched yet (full, or held)
  clock::time_point held_until_{};      // a dependency failed: dispatch nothing before
  int hold_attempt_ = 0;
  bool paused_ = false;
  bool assignment_changed_ = false;  // since the last pause: the new partitions fetch
  clock::time_point next_commit_{};
  clock::time_point last_retry_log_{};
  std::map<std::int32_t, std::int64_t> last_committed_;  // what the group has from us
  std::vector<std::string> violated_;
  std::size_t dlq_max_bytes_ = 0;
  std::unique_ptr<kafka::consumer> consumer_;
  std::unique_ptr<kafka::producer> producer_;
  std::unique_ptr<cql::session> cassandra_;
  /// The CQL session's retries (by reason) and heartbeat failures as metrics.
  void publish_cql_stats();
  std::unique_ptr<kafka::admin> admin_;  // for drained_group()
  std::optional<cql::prepared> upsert_;
  std::jthread lag_watcher_;
};

}  // namespace sluice::pipeline::process_detail
