// `sluice process`: the stream processor (src/pipeline/process.h), with /metrics and
// /health on its own port, stopping cleanly on SIGINT/SIGTERM.
#include <signal.h>

#include <atomic>
#include <memory>
#include <string_view>
#include <thread>

#include "base/error.h"
#include "base/log.h"
#include "cli/cassandra_flags.h"
#include "cli/privacy_flags.h"
#include "cli/secret_flags.h"
#include "cli/service.h"
#include "cli/verb.h"
#include "kafka/config.h"
#include "pipeline/process.h"
#include "web/server.h"

namespace sluice::cli {
namespace {

struct process_options {
  pipeline::process_settings settings;
  cassandra_flags cassandra;
  kafka_flags kafka;
  registry_flags registry;
  pseudonym_flags pseudonyms;
  int metrics_port = 9470;
  double idle_exit_seconds = 5;
  int session_timeout_ms = 45000;
  int commit_interval_ms = 500;
  int cassandra_linger_ms = 2;
  int fetch_wait_ms = 5;
  int drain_timeout_ms = 30000;
};

/// Refuses a flag value outside [low, high], naming the flag, the value and the range.
template <typename T>
void require_range(std::string_view flag, T value, long long low, long long high,
                   std::string_view why = "") {
  auto v = static_cast<long long>(value);
  if (v < low || v > high)
    throw fatal_error(fmt::format("{}: '{}' must be from {} to {}{}", flag, v, low, high, why));
}

int run_process(process_options opts) {
  auto& s = opts.settings;
  apply_kafka_flags(opts.kafka, s.kafka);
  apply_registry_flags(opts.registry, s.registry_url);
  require_range("--max-in-flight", s.max_in_flight, 1, 100000);
  require_range("--cassandra-batch", s.cassandra_batch, 1, 1000);
  require_range("--cassandra-window", s.cassandra_window, 1, 32000);
  require_range("--cassandra-batch-bytes", s.cassandra_batch_bytes, 1024, 64 << 20);
  if (s.dlq_max_bytes != 0)
    require_range("--dlq-max-bytes", s.dlq_max_bytes, 4096, 1 << 30, " (0: the topic's limit)");
  require_range("--session-timeout-ms", opts.session_timeout_ms, 6000, 300000,
                " (the broker's group limits)");
  s.session_timeout = std::chrono::milliseconds(opts.session_timeout_ms);
  require_range("--commit-interval-ms", opts.commit_interval_ms, 0, 60000);
  s.commit_interval = std::chrono::milliseconds(opts.commit_interval_ms);
  require_range("--cassandra-linger-ms", opts.cassandra_linger_ms, 0, 1000);
  s.cassandra_linger = std::chrono::milliseconds(opts.cassandra_linger_ms);
  require_range("--fetch-wait-ms", opts.fetch_wait_ms, 0, 1000);
  s.fetch_wait = std::chrono::milliseconds(opts.fetch_wait_ms);
  require_range("--drain-timeout-ms", opts.drain_timeout_ms, 0, 600000);
  s.drain_timeout = std::chrono::milliseconds(opts.drain_timeout_ms);
  s.idle_exit = std::chrono::milliseconds(static_cast<long>(opts.idle_exit_seconds * 1000));
  s.pseudonyms = make_pseudonymiser(opts.pseudonyms);

  const auto& stop = stop_on_signals("process");
  metrics_endpoint metrics(opts.metrics_port, "sluice-process");
  return pipeline::run_processor(s, stop, metrics.registry());
}

SLUICE_VERB("process", [](CLI::App& root) -> std::function<int()> {
  auto o = std::make_shared<process_options>();
  auto* cmd = root.add_subcommand(
      "process", "validate users.raw, store good rows in Cassandra, dead-letter the rest");
  add_kafka_flags(cmd, o->settings.kafka, o->kafka);
  cmd->add_option("--group", o->settings.group_id, "consumer group id");
  cmd->add_option("--topic", o->settings.source_topic, "raw topic to consume");
  cmd->add_option("--dlq-topic", o->settings.dlq_topic, "dead-letter topic");
  add_registry_flags(cmd, o->settings.registry_url, o->registry);
  add_cassandra_flags(cmd, "cassandra-", o->settings.cassandra, o->cassandra);
  cmd->add_option("--keyspace", o->settings.keyspace, "Cassandra keyspace holding `users`");
  cmd->add_option("--rules", o->settings.rules_file, "rules file (contract/rules.yaml)");
  cmd->add_option("--max-in-flight", o->settings.max_in_flight,
                  "records polled but not yet acknowledged; fetching pauses past it");
  cmd->add_option("--cassandra-window", o->settings.cassandra_window,
                  "concurrent Cassandra requests");
  cmd->add_option("--cassandra-batch", o->settings.cassandra_batch,
                  "rows owned by one node sent as one unlogged batch (1: row by row)");
  cmd->add_option("--cassandra-batch-bytes", o->settings.cassandra_batch_bytes,
                  "bytes of row values per batch (Cassandra refuses batches past 50 KiB by "
                  "default; a refused batch is split)");
  cmd->add_option("--dlq-max-bytes", o->settings.dlq_max_bytes,
                  "size a dead letter must fit (0: the dead-letter topic's max.message.bytes); "
                  "larger letters are cut, with headers saying so");
  cmd->add_option("--cassandra-linger-ms", o->cassandra_linger_ms,
                  "how long a row may wait for others of its node to share a request");
  cmd->add_option("--fetch-wait-ms", o->fetch_wait_ms,
                  "how long the broker may hold a fetch to fill it (0: answer at once)");
  cmd->add_option("--max-value-bytes", o->settings.max_value_bytes,
                  "larger values are dead-lettered as decode.oversize");
  cmd->add_option("--session-timeout-ms", o->session_timeout_ms,
                  "group session timeout: how soon a dead instance's partitions move on");
  cmd->add_option("--commit-interval-ms", o->commit_interval_ms,
                  "at most this long between offset commits while busy (0: every batch)");
  cmd->add_option("--drain-timeout-ms", o->drain_timeout_ms,
                  "on revoke and stop, how long to wait for in-flight writes (then they are "
                  "re-read by the next owner)");
  add_pseudonym_flags(cmd, o->pseudonyms);
  cmd->add_option("--metrics-port", o->metrics_port, "port for /metrics and /health (0: off)");
  cmd->add_flag("--stop-at-end", o->settings.stop_at_end,
                "exit once the topic is drained (for batch runs and tests)");
  cmd->add_option("--idle-exit", o->idle_exit_seconds,
                  "with --stop-at-end: seconds without records that mean drained");
  return [o] {
    apply_cassandra_flags(o->cassandra, "cassandra-", o->settings.cassandra);
    return run_process(*o);
  };
});

}  // namespace
}  // namespace sluice::cli
