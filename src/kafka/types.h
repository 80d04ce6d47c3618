// Strong types for Kafka coordinates (topic, partition, offset) so that a partition
// number can never be passed where an offset is expected, plus the small aggregates
// the wrappers exchange (topic+partition, topic+partition+offset).
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace sluice::kafka {

/// A topic name.
class topic {
 public:
  topic() = default;
  explicit topic(std::string name) : name_(std::move(name)) {}
  const std::string& str() const { return name_; }
  bool empty() const { return name_.empty(); }
  auto operator<=>(const topic&) const = default;

 private:
  std::string name_;
};

/// A partition number within a topic.
class partition {
 public:
  constexpr partition() = default;
  constexpr explicit partition(int32_t value) : value_(value) {}
  constexpr int32_t value() const { return value_; }
  auto operator<=>(const partition&) const = default;

 private:
  int32_t value_ = 0;
};

/// An offset within a partition. Negative values are librdkafka's logical offsets.
class offset {
 public:
  constexpr offset() = default;
  constexpr explicit offset(int64_t value) : value_(value) {}
  constexpr int64_t value() const { return value_; }
  auto operator<=>(const offset&) const = default;

  /// The logical offsets librdkafka understands when assigning partitions.
  static constexpr offset beginning() { return offset{-2}; }
  static constexpr offset end() { return offset{-1}; }
  static constexpr offset stored() { return offset{-1000}; }
  /// "No committed offset" as reported by the broker.
  static constexpr offset invalid() { return offset{-1001}; }

 private:
  int64_t value_ = -1001;
};

/// One partition of one topic.
struct topic_partition {
  kafka::topic topic;
  kafka::partition partition;
  auto operator<=>(const topic_partition&) const = default;
};

/// A position in one partition (for assign, commit and committed-offset queries).
struct topic_partition_offset {
  kafka::topic topic;
  kafka::partition partition;
  kafka::offset offset;
  auto operator<=>(const topic_partition_offset&) const = default;
};

/// Low and high watermark of a partition: the first offset still held and the offset
/// the next record will get.
struct watermarks {
  offset low;
  offset high;
};

}  // namespace sluice::kafka

template <>
struct fmt::formatter<sluice::kafka::topic_partition> : fmt::formatter<std::string_view> {
  template <typename Ctx>
  auto format(const sluice::kafka::topic_partition& tp, Ctx& ctx) const {
    return fmt::format_to(ctx.out(), "{}[{}]", tp.topic.str(), tp.partition.value());
  }
};
