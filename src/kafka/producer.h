// An idempotent Kafka producer (librdkafka): acks=all, enable.idempotence, compression
// and batching from producer_settings. Every record can carry an opaque pointer that
// comes back in its delivery report, so the caller can do its own bookkeeping (e.g.
// "record N of the run was acknowledged at partition P offset O").
//
// Threading: produce() may be called from several threads; delivery reports run on
// the thread that calls poll() or flush().
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "kafka/config.h"
#include "kafka/types.h"

namespace sluice::kafka {

/// What the broker said about one produced record.
struct delivery_report {
  kafka::topic topic;
  kafka::partition partition;
  kafka::offset offset;          ///< offset::invalid() when delivery failed
  std::optional<error> failure;  ///< empty when the record was acknowledged
  void* opaque = nullptr;        ///< what the caller passed to produce()
  /// Time from produce() to the broker's answer (negative when librdkafka has none).
  std::chrono::microseconds latency{-1};
};

using delivery_callback = std::function<void(const delivery_report&)>;

/// A record header (name and raw bytes).
struct header {
  std::string name;
  std::string value;
};

/// A record to produce. `partition` empty means "let the partitioner choose by key".
struct outgoing_record {
  kafka::topic topic;
  std::optional<kafka::partition> partition;
  std::string_view key;
  std::string_view value;
  std::vector<header> headers;
  void* opaque = nullptr;
  /// Send a null value (a tombstone in a compacted topic); `value` is ignored.
  bool tombstone = false;
};

/// The producer. Destroying it flushes for at most 10 s; call flush() yourself to
/// know whether everything was delivered.
class producer {
 public:
  /// Creates a producer. `on_delivery` may be empty.
  static result<std::unique_ptr<producer>> create(const producer_settings& settings,
                                                  delivery_callback on_delivery);
  ~producer();
  producer(const producer&) = delete;
  producer& operator=(const producer&) = delete;

  /// Enqueues a record (key and value are copied). A full local queue is an error of
  /// code errc::unavailable: poll() and try again.
  result<void> produce(const outgoing_record& record);

  /// produce(), waiting out a full local queue (serving delivery reports meanwhile) rather
  /// than returning it: for batch tools that send everything before flushing.
  result<void> produce_waiting(const outgoing_record& record);

  /// Serves delivery reports for up to `timeout`; returns how many were served.
  int poll(std::chrono::milliseconds timeout);

  /// Waits until every enqueued record is acknowledged or failed, at most `timeout`.
  /// Errors with errc::timeout naming how many records are still in flight.
  result<void> flush(std::chrono::milliseconds timeout);

  /// Records enqueued but not yet reported.
  int in_flight() const;

  /// The idempotent producer's fatal error, if one was raised (the producer is then
  /// unusable and must be recreated).
  std::optional<error> fatal() const;

  /// The client name librdkafka gave this instance (for logs).
  std::string name() const;

 private:
  class report_adapter;
  producer() = default;
  std::unique_ptr<report_adapter> adapter_;
  std::unique_ptr<RdKafka::EventCb> events_;
  std::unique_ptr<RdKafka::Producer> handle_;
};

}  // namespace sluice::kafka
