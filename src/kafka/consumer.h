// A Kafka consumer (librdkafka KafkaConsumer) for consumer groups with the
// cooperative-sticky assignor, or for manually assigned partitions (no group
// management). Offsets are never committed behind the caller's back: commit() takes
// the explicit "next offset to read" per partition. Partitions can be paused and
// resumed one by one for back-pressure. Rebalances are reported to the caller through
// a callback that runs inside poll(): on revoke it runs *before* the partitions are
// taken away, so the caller can still commit what it finished.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "kafka/config.h"
#include "kafka/producer.h"
#include "kafka/types.h"

namespace sluice::kafka {

/// A consumed record. Owns librdkafka's message; the views stay valid while it lives.
class message {
 public:
  explicit message(std::unique_ptr<RdKafka::Message> msg);
  message(message&&) noexcept;
  message& operator=(message&&) noexcept;
  ~message();

  kafka::topic topic() const;
  kafka::partition partition() const;
  kafka::offset offset() const;
  /// Key and value bytes; empty views for null key/value (see has_value()).
  std::string_view key() const;
  std::string_view value() const;
  bool has_value() const;
  /// Record timestamp in milliseconds since the epoch (-1 when not available).
  int64_t timestamp_ms() const;
  /// Header by name (first match), empty when absent.
  std::optional<std::string> header(std::string_view name) const;
  std::vector<kafka::header> headers() const;

 private:
  std::unique_ptr<RdKafka::Message> msg_;
};

/// What happened in a rebalance.
enum class rebalance_kind { assigned, revoked, lost };

/// Called inside poll() with the partitions that are added or taken away.
using rebalance_callback =
    std::function<void(rebalance_kind kind, const std::vector<topic_partition>& partitions)>;

class consumer {
 public:
  /// Creates a consumer in group settings.group_id. `on_rebalance` may be empty.
  static result<std::unique_ptr<consumer>> create(const consumer_settings& settings,
                                                  rebalance_callback on_rebalance);
  ~consumer();
  consumer(const consumer&) = delete;
  consumer& operator=(const consumer&) = delete;

  /// Joins the group on these topics.
  result<void> subscribe(const std::vector<topic>& topics);

  /// Reads exactly these partitions from these offsets, outside group management.
  result<void> assign(const std::vector<topic_partition_offset>& positions);

  /// Waits up to `timeout` for the next record. Empty on timeout or at the end of a
  /// partition; an error for a consume error (naming topic and partition).
  result<std::optional<message>> poll(std::chrono::milliseconds timeout);

  /// Commits explicit offsets synchronously. The offset is the next one to read
  /// (last processed + 1), as Kafka expects.
  result<void> commit(const std::vector<topic_partition_offset>& offsets);
  /// Sends the commit without waiting for the coordinator's answer. A lost async commit
  /// only means records are read again after a crash; follow with a synchronous commit
  /// where the group must see the offsets (revoke, idle, close).
  result<void> commit_async(const std::vector<topic_partition_offset>& offsets);

  /// The group's committed offsets for these partitions (offset::invalid() if none).
  result<std::vector<topic_partition_offset>> committed(
      const std::vector<topic_partition>& partitions, std::chrono::milliseconds timeout);

  /// Stops / restarts fetching from these partitions (assignment is kept).
  result<void> pause(const std::vector<topic_partition>& partitions);
  result<void> resume(const std::vector<topic_partition>& partitions);

  /// The next offset this consumer will hand out for each partition (offset::invalid()
  /// before the first fetch). It moves past transaction markers and compacted gaps,
  /// which no record's offset + 1 does.
  result<std::vector<topic_partition_offset>> position(
      const std::vector<topic_partition>& partitions);

  /// Partitions currently assigned to this member.
  result<std::vector<topic_partition>> assignment();

  /// Leaves the group cleanly (revocation callback runs). Idempotent.
  result<void> close();

 private:
  class rebalance_adapter;
  consumer() = default;
  std::unique_ptr<rebalance_adapter> rebalance_;
  std::unique_ptr<RdKafka::EventCb> events_;
  std::unique_ptr<RdKafka::KafkaConsumer> handle_;
  bool closed_ = false;
};

}  // namespace sluice::kafka
