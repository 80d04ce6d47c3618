// Kafka admin helpers: create topics (partitions, replication, configs such as
// cleanup.policy=compact), read partition counts, watermarks, and a consumer group's
// committed offsets (for lag); delete the records below an offset (DeleteRecords). Built on
// librdkafka's C admin API through a producer handle, since the C++ API has no admin calls.
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

/// A broker as the cluster's metadata names it.
struct broker_info {
  int32_t id = 0;
  std::string host;
  int port = 0;
};

/// One partition's placement and replication state.
struct partition_info {
  int32_t partition = 0;
  int32_t leader = -1;
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
};

struct topic_info {
  std::string name;
  bool internal = false;  ///< a topic whose name starts with "__"
  std::vector<partition_info> partitions;
};

/// The cluster as its metadata describes it now.
struct cluster_info {
  std::string cluster_id;
  int32_t controller_id = -1;
  std::vector<broker_info> brokers;
  std::vector<topic_info> topics;
};

/// One configuration entry of a topic.
struct config_entry {
  std::string name;
  std::string value;
  bool is_default = false;
  bool sensitive = false;  ///< the broker hides the value
};

/// A consumer group as ListConsumerGroups reports it.
struct group_listing {
  std::string group_id;
  std::string state;  ///< "Stable", "Empty", "PreparingRebalance", ...
  bool simple = false;
};

struct group_member {
  std::string member_id;
  std::string client_id;
  std::string host;
  std::vector<topic_partition> assignment;
};

struct group_description {
  std::string group_id;
  std::string state;
  std::string assignor;
  std::vector<group_member> members;
};

class admin {
 public:
  static result<std::unique_ptr<admin>> create(const client_settings& settings);
  ~admin();
  admin(const admin&) = delete;
  admin& operator=(const admin&) = delete;

  /// Creates the topics and returns once each is in the broker's metadata (usable).
  /// With `if_not_exists`, a topic that already exists is not an error (its partitions
  /// and configs are left as they are).
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

  /// Brokers, cluster id, controller and every topic's partitions (cluster_admin.cc).
  result<cluster_info> describe_cluster(std::chrono::milliseconds timeout);

  /// Every configuration entry of a topic (sensitive values are empty).
  result<std::vector<config_entry>> topic_configs(const topic& t,
                                                  std::chrono::milliseconds timeout);

  /// Deletes a topic; errc::not_found when it does not exist.
  result<void> delete_topic(const topic& t, std::chrono::milliseconds timeout);

  /// Every consumer group the brokers know.
  result<std::vector<group_listing>> list_groups(std::chrono::milliseconds timeout);

  /// A group's state, members and their assignments; errc::not_found for an unknown
  /// group (Kafka reports it as "Dead").
  result<group_description> describe_group(const std::string& group_id,
                                           std::chrono::milliseconds timeout);

  /// For each partition of `t`, the earliest offset whose record timestamp is at or after
  /// `timestamp_ms` (the high watermark when there is none).
  result<std::vector<topic_partition_offset>> offsets_for_time(const topic& t, int64_t timestamp_ms,
                                                               std::chrono::milliseconds timeout);

  /// Sets a group's committed offsets. The group must have no members (Kafka refuses
  /// commits of an outsider to an active group); errc::conflict when it has.
  result<void> set_group_offsets(const std::string& group_id,
                                 const std::vector<topic_partition_offset>& offsets,
                                 std::chrono::milliseconds timeout);

  /// Deletes every record below each given offset (Kafka DeleteRecords; the offset itself
  /// is kept): the partition's log start offset (low watermark) moves up to it. Returns
  /// each partition's low watermark afterwards. errc::not_found names a topic or partition
  /// that does not exist; an offset past the high watermark is refused naming it.
  result<std::vector<topic_partition_offset>> delete_records(
      const std::vector<topic_partition_offset>& before, std::chrono::milliseconds timeout);

 private:
  admin() = default;
  result<void> wait_until_visible(const std::vector<topic_spec>& topics,
                                  std::chrono::steady_clock::time_point deadline);
  client_settings settings_;
  std::unique_ptr<RdKafka::EventCb> events_;
  std::unique_ptr<RdKafka::Producer> handle_;
};

}  // namespace sluice::kafka
