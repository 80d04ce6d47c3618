// librdkafka producer wrapper (see producer.h).
#include "kafka/producer.h"

#include <fmt/format.h>

#include "kafka/errors.h"

namespace sluice::kafka {

class producer::report_adapter : public RdKafka::DeliveryReportCb {
 public:
  explicit report_adapter(delivery_callback cb) : cb_(std::move(cb)) {}

  void dr_cb(RdKafka::Message& message) override {
    if (!cb_) return;
    delivery_report report;
    report.topic = kafka::topic(message.topic_name());
    report.partition = kafka::partition(message.partition());
    report.opaque = message.msg_opaque();
    report.latency = std::chrono::microseconds(message.latency());
    if (message.err() == RdKafka::ERR_NO_ERROR) {
      report.offset = kafka::offset(message.offset());
    } else {
      report.failure =
          kafka_error(message.err(),
                      fmt::format("delivery to {}[{}]", message.topic_name(), message.partition()));
    }
    cb_(report);
  }

 private:
  delivery_callback cb_;
};

result<std::unique_ptr<producer>> producer::create(const producer_settings& settings,
                                                   delivery_callback on_delivery) {
  auto conf = build_conf(settings);
  if (!conf) return conf.err();
  std::unique_ptr<producer> self(new producer());
  self->adapter_ = std::make_unique<report_adapter>(std::move(on_delivery));
  std::string errstr;
  if ((*conf)->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(self->adapter_.get()),
                   errstr) != RdKafka::Conf::CONF_OK) {
    return make_error(errc::internal, "producer delivery callback: {}", errstr);
  }
  self->events_ = std::make_unique<event_logger>(settings.on_statistics);
  if ((*conf)->set("event_cb", self->events_.get(), errstr) != RdKafka::Conf::CONF_OK) {
    return make_error(errc::internal, "producer event callback: {}", errstr);
  }
  self->handle_.reset(RdKafka::Producer::create(conf->get(), errstr));
  if (!self->handle_) {
    return make_error(errc::invalid_argument, "creating producer for {}: {}",
                      settings.client.bootstrap_servers, errstr);
  }
  return self;
}

producer::~producer() {
  if (handle_) handle_->flush(10'000);
}

result<void> producer::produce(const outgoing_record& record) {
  RdKafka::Headers* headers = nullptr;
  if (!record.headers.empty()) {
    headers = RdKafka::Headers::create();
    for (const auto& h : record.headers) {
      headers->add(h.name, h.value.data(), h.value.size());
    }
  }
  int32_t part = record.partition ? record.partition->value() : RdKafka::Topic::PARTITION_UA;
  // A null payload is a null value (a tombstone); an empty one is an empty value.
  char* payload = record.tombstone ? nullptr : const_cast<char*>(record.value.data());
  auto code = handle_->produce(record.topic.str(), part, RdKafka::Producer::RK_MSG_COPY, payload,
                               record.tombstone ? 0 : record.value.size(), record.key.data(),
                               record.key.size(), 0, headers, record.opaque);
  if (code != RdKafka::ERR_NO_ERROR) {
    delete headers;  // ownership passes to librdkafka only on success
    auto where =
        record.partition ? fmt::format("{}[{}]", record.topic.str(), part) : record.topic.str();
    return kafka_error(code, fmt::format("producing to {}", where));
  }
  return ok();
}

result<void> producer::produce_waiting(const outgoing_record& record) {
  while (true) {
    auto sent = produce(record);
    if (sent || sent.err().code != errc::unavailable) return sent;
    poll(std::chrono::milliseconds(10));  // the local queue is full
  }
}

int producer::poll(std::chrono::milliseconds timeout) {
  return handle_->poll(static_cast<int>(timeout.count()));
}

result<void> producer::flush(std::chrono::milliseconds timeout) {
  auto code = handle_->flush(static_cast<int>(timeout.count()));
  if (code == RdKafka::ERR__TIMED_OUT) {
    return make_error(errc::timeout, "flush: {} record(s) still in flight after {} ms",
                      handle_->outq_len(), timeout.count());
  }
  if (code != RdKafka::ERR_NO_ERROR) return kafka_error(code, "flush");
  return ok();
}

int producer::in_flight() const {
  return handle_->outq_len();
}

std::optional<error> producer::fatal() const {
  std::string errstr;
  auto code = handle_->fatal_error(errstr);
  if (code == RdKafka::ERR_NO_ERROR) return std::nullopt;
  return kafka_error(code, fmt::format("producer {} fatal error: {}", handle_->name(), errstr));
}

std::string producer::name() const {
  return handle_->name();
}

}  // namespace sluice::kafka
