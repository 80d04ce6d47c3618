// Persistence of the registry in a compacted Kafka topic (default `_schemas`, one
// partition, cleanup.policy=compact): every change is one keyed record, so compaction
// keeps the latest state of each (subject, version) and each config. At start-up the
// topic is created if missing and read from the beginning up to its high watermark to
// rebuild the state; appends return only once Kafka acknowledged them (acks=all).
//
// Single writer: one `sluice registry` per topic. A second instance writing the same
// topic would not see the first one's writes and could hand out the same id twice.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>

#include "base/result.h"
#include "kafka/kafka.h"
#include "registry/service.h"

namespace sluice::registry {

struct store_settings {
  kafka::client_settings client;
  kafka::topic topic{"_schemas"};
  int16_t replication_factor = 1;
  /// Bound on each Kafka operation (topic creation, replay, one append).
  std::chrono::milliseconds timeout{30'000};
};

class kafka_log : public log_writer {
 public:
  /// Connects, creates the topic if it is missing and checks it has one partition.
  static result<std::unique_ptr<kafka_log>> open(const store_settings& settings);

  /// Reads every record from the beginning to the current end, in order. Records that
  /// `apply` refuses are logged and skipped. Returns how many records were read.
  result<size_t> replay(const std::function<result<void>(const log_record&)>& apply);

  /// Produces the record to partition 0 and waits for its acknowledgement. Not
  /// thread-safe: the service calls it under its own lock.
  result<void> append(const log_record& record) override;

 private:
  // The outcome of one append, filled in by its delivery report.
  struct pending_append {
    bool done = false;
    std::optional<error> failure;
  };

  explicit kafka_log(store_settings settings) : settings_(std::move(settings)) {}
  store_settings settings_;
  // Appends awaiting their delivery report, by sequence number (kept here rather than
  // on the stack so that a report arriving after a timeout lands somewhere valid).
  std::map<uint64_t, pending_append> pending_;
  uint64_t next_sequence_ = 0;
  std::unique_ptr<kafka::admin> admin_;
  std::unique_ptr<kafka::producer> producer_;
};

}  // namespace sluice::registry
