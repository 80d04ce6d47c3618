// Kafka admin helpers: create topics (partitions, replication, configs such as
// cleanup.policy=compact), read partition counts, watermarks, and a consumer group's
// committed offsets (for lag). Built on librdkafka's C admin API through a producer
// handle, since the C++ API has no admin calls.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "kafka/config.h"
#include "kafka/types.h"

namespace sluice::kafka {

/// A topic to create.
struct topic_spec {
  kafka::topic topic;
  int32_t partitions = 1;
  int16_t replication_factor = 1;
  /// Topic configs, e.g. {"cleanup.policy", "compact"}.
  std::map<std::string, std::string> configs;
};

/// Lag of one partition for one group: high watermark minus committed offset.
struct partition_lag {
  topic_partition partition;
  offset committed;  ///< offset::invalid() when the group never committed
  offset high;
  int64_t lag = 0;  ///< high - committed, or high - low when nothing was committed
};

class admin {
 public:
  static result<std::unique_ptr<admin>> create(const client_settings& settings);
  ~admin();
  admin(const admin&) = delete;
  admin& operator=(const admin&) = delete;

  /// Creates the topics. With `if_not_exists`, a topic that already exists is not an
  /// error (its partitions and configs are left as they are).
  result<void> create_topics(const std::vector<topic_spec>& topics, bool if_not_exists,
                             std::chrono::milliseconds timeout);

  /// The value of one configuration entry of a topic (e.g. "max.message.bytes"), as the
  /// broker reports it (the topic's own value or the broker's default);
  /// errc::not_found when the topic or the entry does not exist.
  result<std::string> topic_config(const topic& t, const std::string& name,
                                   std::chrono::milliseconds timeout);

  /// Number of partitions of a topic; errc::not_found when it does not exist.
  result<int32_t> partition_count(const topic& t, std::chrono::milliseconds timeout);

  /// Low and high watermark of one partition, as the broker knows them now.
  result<watermarks> query_watermarks(const topic_partition& tp, std::chrono::milliseconds timeout);

  /// The group's committed offsets for every partition of `t`.
  result<std::vector<topic_partition_offset>> committed_offsets(const std::string& group_id,
                                                                const topic& t,
                                                                std::chrono::milliseconds timeout);

  /// Committed offsets and watermarks combined: the consumer lag per partition.
  result<std::vector<partition_lag>> group_lag(const std::string& group_id, const topic& t,
                                               std::chrono::milliseconds timeout);

 private:
  admin() = default;
  client_settings settings_;
  std::unique_ptr<RdKafka::EventCb> events_;
  std::unique_ptr<RdKafka::Producer> handle_;
};

}  // namespace sluice::kafka
