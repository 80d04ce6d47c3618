// The producer behind `sluice produce`: generates users in-process (the same generator
// and seed as `sluice gen`) and produces them to the raw topic with an idempotent
// producer (acks=all), key = user id, value = Confluent Avro (schema registered through
// the registry) or plain JSON. Writes a run manifest that `sluice verify` and the
// reconciliation read: counts of good records and of each injected kind, and the first
// and last offset acknowledged per partition.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "gen/generator.h"
#include "kafka/config.h"
#include "web/metrics.h"

namespace sluice::pipeline {

struct produce_settings {
  kafka::producer_settings kafka;
  std::string topic = "users.raw";
  std::string registry_url = "http://127.0.0.1:8081";
  std::string schema_file = "contract/user.avsc";
  std::string format = "avro";  // avro or json
  gen::options generator;
  std::uint64_t start_index = 0;
  std::uint64_t count = 0;  // 0: until stopped
  double rate = 0;          // records per second; 0: as fast as possible
  // Bursts on top of a steady --rate: `burst_size` extra records sent back to back at
  // the start of every `burst_every` (both 0: no bursts).
  std::uint64_t burst_size = 0;
  std::chrono::seconds burst_every{0};
  std::chrono::seconds duration{0};
  std::chrono::seconds connect_timeout{30};
  std::string manifest_path;  // empty: no manifest
};

/// How many records may have been sent `elapsed` into a paced run (steady rate plus
/// the bursts due so far); the pacing loop sends while it is ahead of `sent`.
double records_due(const produce_settings& settings, std::chrono::duration<double> elapsed);

/// Produces until done or `stop`; returns 0 when every record was acknowledged.
int run_producer(const produce_settings& settings, const std::atomic<bool>& stop,
                 web::metrics_registry& metrics);

}  // namespace sluice::pipeline
