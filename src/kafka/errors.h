// Maps librdkafka error codes onto sluice's errc and builds errors that carry the
// Kafka context (operation, topic, partition, broker message).
#pragma once

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
class event_logger : public RdKafka::EventCb {
 public:
  void event_cb(RdKafka::Event& event) override;
};

/// Same for the C API's rd_kafka_resp_err_t (admin calls).
error kafka_error(rd_kafka_resp_err_t code, std::string_view what, std::string_view detail = {});

}  // namespace sluice::kafka
