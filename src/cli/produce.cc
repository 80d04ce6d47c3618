// `sluice produce`: stream generated users into Kafka (src/pipeline/produce.h).
#include <signal.h>

#include <atomic>
#include <memory>
#include <sstream>
#include <thread>

#include "base/error.h"
#include "base/log.h"
#include "cli/secret_flags.h"
#include "cli/service.h"
#include "cli/verb.h"
#include "pipeline/produce.h"
#include "web/server.h"

namespace sluice::cli {
namespace {

struct produce_options {
  pipeline::produce_settings settings;
  std::string nat;
  kafka_flags kafka;
  registry_flags registry;
  int linger_ms = 5;
  int duration_s = 0;
  int burst_every_s = 0;
  int metrics_port = 0;
};

int run_produce(produce_options o) {
  auto& s = o.settings;
  std::stringstream nats(o.nat);
  for (std::string code; std::getline(nats, code, ',');) {
    if (!code.empty()) s.generator.nationalities.push_back(code);
  }
  apply_kafka_flags(o.kafka, s.kafka.client);
  apply_registry_flags(o.registry, s.registry_url);
  if (o.linger_ms < 0)
    throw fatal_error(fmt::format("--linger-ms: '{}' must be 0 or more", o.linger_ms));
  if (s.rate < 0) throw fatal_error(fmt::format("--rate: '{}' must be 0 or more", s.rate));
  if ((s.burst_size > 0) != (o.burst_every_s > 0)) {
    throw fatal_error(
        "--burst-size and --burst-every go together (e.g. --burst-size 5000 "
        "--burst-every 10)");
  }
  if (o.burst_every_s < 0)
    throw fatal_error(fmt::format("--burst-every: '{}' must be 0 or more", o.burst_every_s));
  if (s.burst_size > 0 && s.rate == 0)
    throw fatal_error("--burst-size needs a steady --rate to burst above");
  s.burst_every = std::chrono::seconds(o.burst_every_s);
  s.kafka.linger = std::chrono::milliseconds(o.linger_ms);
  s.kafka.client.client_id = "sluice-produce";
  s.duration = std::chrono::seconds(o.duration_s);

  const auto& stop = stop_on_signals("produce");
  metrics_endpoint metrics(o.metrics_port, "sluice-produce");
  return pipeline::run_producer(s, stop, metrics.registry());
}

SLUICE_VERB("produce", [](CLI::App& root) -> std::function<int()> {
  auto o = std::make_shared<produce_options>();
  auto& s = o->settings;
  auto* cmd = root.add_subcommand(
      "produce", "stream generated users into Kafka (Avro via the registry, or JSON)");
  add_kafka_flags(cmd, s.kafka.client, o->kafka);
  cmd->add_option("--topic", s.topic, "topic to produce to");
  add_registry_flags(cmd, s.registry_url, o->registry, "schema registry URL (Confluent API)");
  cmd->add_option("--schema", s.schema_file, "Avro schema file registered as <topic>-value");
  cmd->add_option("--format", s.format, "avro or json");
  cmd->add_option("--seed", s.generator.seed, "generator seed (same users as `sluice gen`)");
  cmd->add_option("--count", s.count, "records to produce (0: until Ctrl-C or --duration)");
  cmd->add_option("--start-index", s.start_index, "index of the first user");
  cmd->add_option("--bad-ratio", s.generator.bad_ratio, "share of records with an injected defect");
  cmd->add_option("--nat", o->nat, "nationalities, comma separated");
  cmd->add_option("--rate", s.rate, "records per second (0: as fast as possible)");
  cmd->add_option("--burst-size", s.burst_size, "extra records sent at once every --burst-every");
  cmd->add_option("--burst-every", o->burst_every_s, "seconds between bursts");
  cmd->add_option("--duration", o->duration_s, "stop after this many seconds");
  cmd->add_option("--compression", s.kafka.compression, "none, gzip, snappy, lz4, zstd");
  cmd->add_option("--linger-ms", o->linger_ms, "producer linger");
  cmd->add_option("--batch-size", s.kafka.batch_size_bytes, "producer batch size in bytes");
  cmd->add_option("--manifest", s.manifest_path, "write the run manifest (JSON) here");
  cmd->add_option("--metrics-port", o->metrics_port, "port for /metrics and /health (0: off)");
  return [o] { return run_produce(*o); };
});

}  // namespace
}  // namespace sluice::cli
