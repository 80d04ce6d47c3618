// librdkafka error codes to sluice errors.
#include "kafka/errors.h"

#include <fmt/format.h>

#include "base/log.h"

namespace sluice::kafka {

errc classify(RdKafka::ErrorCode code) {
  switch (code) {
    case RdKafka::ERR_NO_ERROR:
      return errc::ok;
    case RdKafka::ERR__TIMED_OUT:
    case RdKafka::ERR_REQUEST_TIMED_OUT:
    case RdKafka::ERR__TIMED_OUT_QUEUE:
      return errc::timeout;
    case RdKafka::ERR__TRANSPORT:
    case RdKafka::ERR__ALL_BROKERS_DOWN:
    case RdKafka::ERR__QUEUE_FULL:
    case RdKafka::ERR__RESOLVE:
    case RdKafka::ERR_LEADER_NOT_AVAILABLE:
    case RdKafka::ERR_NOT_LEADER_FOR_PARTITION:
    case RdKafka::ERR_COORDINATOR_NOT_AVAILABLE:
    case RdKafka::ERR_NOT_COORDINATOR:
    case RdKafka::ERR_NOT_ENOUGH_REPLICAS:
      return errc::unavailable;
    case RdKafka::ERR__UNKNOWN_TOPIC:
    case RdKafka::ERR_UNKNOWN_TOPIC_OR_PART:
    case RdKafka::ERR__UNKNOWN_PARTITION:
    case RdKafka::ERR_GROUP_ID_NOT_FOUND:
      return errc::not_found;
    case RdKafka::ERR__INVALID_ARG:
    case RdKafka::ERR_INVALID_CONFIG:
    case RdKafka::ERR_INVALID_PARTITIONS:
    case RdKafka::ERR_INVALID_REPLICATION_FACTOR:
    case RdKafka::ERR_TOPIC_ALREADY_EXISTS:
    case RdKafka::ERR_MSG_SIZE_TOO_LARGE:
      return errc::invalid_argument;
    default:
      return errc::server;
  }
}

error kafka_error(RdKafka::ErrorCode code, std::string_view what) {
  return error{classify(code),
               fmt::format("{}: {} ({})", what, RdKafka::err2str(code),
                           rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(code)))};
}

error kafka_error(rd_kafka_resp_err_t code, std::string_view what, std::string_view detail) {
  auto base = kafka_error(static_cast<RdKafka::ErrorCode>(code), what);
  if (!detail.empty()) base.message += fmt::format(": {}", detail);
  return base;
}

void event_logger::event_cb(RdKafka::Event& event) {
  static const auto logger = log::get("kafka");
  switch (event.type()) {
    case RdKafka::Event::EVENT_ERROR:
      if (event.fatal()) {
        logger->error("fatal: {} ({})", event.str(), RdKafka::err2str(event.err()));
      } else {
        // Transient: librdkafka retries by itself (broker down, connection refused).
        logger->warn("{} ({})", event.str(), RdKafka::err2str(event.err()));
      }
      break;
    case RdKafka::Event::EVENT_LOG:
      if (event.severity() <= RdKafka::Event::EVENT_SEVERITY_ERROR) {
        logger->error("{}: {}", event.fac(), event.str());
      } else if (event.severity() <= RdKafka::Event::EVENT_SEVERITY_WARNING) {
        logger->warn("{}: {}", event.fac(), event.str());
      } else {
        logger->debug("{}: {}", event.fac(), event.str());
      }
      break;
    case RdKafka::Event::EVENT_STATS:
      if (on_statistics_) on_statistics_(event.str());
      break;
    case RdKafka::Event::EVENT_THROTTLE:
      logger->debug("throttled {} ms by broker {}", event.throttle_time(), event.broker_name());
      break;
    default:
      break;
  }
}

}  // namespace sluice::kafka
