// Reading a whole topic as it is now: every partition from its low watermark up to the
// high watermark seen when the read starts, outside any consumer group. Used by the
// tools that look at a topic rather than consume it (verify, dlq).
#pragma once

#include <chrono>
#include <functional>

#include "base/result.h"
#include "kafka/config.h"
#include "kafka/consumer.h"

namespace sluice::kafka {

/// Called for each record, in offset order within a partition.
using record_visitor = std::function<void(const message&)>;

/// Reads every record of `topic` that exists when the call starts. Fails if the topic
/// is unknown or the end is not reached within `timeout`.
result<void> read_topic_to_end(const client_settings& settings, const topic& topic,
                               const record_visitor& visit,
                               std::chrono::milliseconds timeout = std::chrono::minutes(5));

}  // namespace sluice::kafka
