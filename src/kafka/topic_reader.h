// Reading a whole topic as it is now: every partition from its low watermark up to the
// high watermark seen when the read starts, outside any consumer group. Used by the
// tools that look at a topic rather than consume it (verify, dlq).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>

#include "base/result.h"
#include "kafka/config.h"
#include "kafka/consumer.h"

namespace sluice::kafka {

/// Called for each record, in offset order within a partition.
using record_visitor = std::function<void(const message&)>;

/// Offsets [begin, end) of one partition.
struct offset_span {
  std::int64_t begin = 0;
  std::int64_t end = 0;
};

class admin;

/// Every partition of `t` from its low to its high watermark, as they are now.
result<std::map<std::int32_t, offset_span>> current_extent(admin& admin, const topic& t);

/// Reads the records of `t` within `spans` (per partition). Transaction markers, aborted
/// records (read_committed) and compacted gaps are skipped: only records are visited.
result<void> read_topic_range(const client_settings& settings, const topic& t,
                              const std::map<std::int32_t, offset_span>& spans,
                              const record_visitor& visit,
                              std::chrono::milliseconds timeout = std::chrono::minutes(5));

/// Reads every record of `topic` that exists when the call starts. Fails if the topic
/// is unknown or the end is not reached within `timeout`.
result<void> read_topic_to_end(const client_settings& settings, const topic& topic,
                               const record_visitor& visit,
                               std::chrono::milliseconds timeout = std::chrono::minutes(5));

}  // namespace sluice::kafka
