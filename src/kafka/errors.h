// Maps librdkafka error codes onto sluice's errc and builds errors that carry the
// Kafka context (operation, topic, partition, broker message).
#pragma once

#include <functional>
#include <string_view>

#include <string>
#include <string_view>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include "base/error.h"

namespace sluice::kafka {

/// The errc that best describes a librdkafka error code.
errc classify(RdKafka::ErrorCode code);

/// "what: Broker: message (code name)" as an error.
error kafka_error(RdKafka::ErrorCode code, std::string_view what);

/// Logs librdkafka's events (errors, throttling, its own log lines) on the "kafka"
/// logger, tagged with the client name. One instance per client handle.
/// Statistics events (librdkafka's JSON, every statistics.interval.ms) go to
/// `on_statistics` when one is given.
class event_logger : public RdKafka::EventCb {
 public:
  explicit event_logger(std::function<void(std::string_view)> on_statistics = {})
      : on_statistics_(std::move(on_statistics)) {}
  void event_cb(RdKafka::Event& event) override;

 private:
  std::function<void(std::string_view)> on_statistics_;
};

/// Same for the C API's rd_kafka_resp_err_t (admin calls).
error kafka_error(rd_kafka_resp_err_t code, std::string_view what, std::string_view detail = {});

}  // namespace sluice::kafka
