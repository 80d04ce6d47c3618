// librdkafka KafkaConsumer wrapper (see consumer.h).
#include "kafka/consumer.h"

#include <fmt/format.h>

#include "base/log.h"
#include "kafka/errors.h"

namespace sluice::kafka {
namespace {

// Owns a vector of RdKafka::TopicPartition* (the C++ API hands out raw pointers).
struct partition_list {
  std::vector<RdKafka::TopicPartition*> items;
  partition_list() = default;
  partition_list(const partition_list&) = delete;
  partition_list& operator=(const partition_list&) = delete;
  ~partition_list() { RdKafka::TopicPartition::destroy(items); }
};

void fill(partition_list& list, const std::vector<topic_partition>& parts) {
  for (const auto& tp : parts) {
    list.items.push_back(RdKafka::TopicPartition::create(tp.topic.str(), tp.partition.value()));
  }
}

void fill(partition_list& list, const std::vector<topic_partition_offset>& parts) {
  for (const auto& tp : parts) {
    list.items.push_back(
        RdKafka::TopicPartition::create(tp.topic.str(), tp.partition.value(), tp.offset.value()));
  }
}

std::vector<topic_partition> to_partitions(const std::vector<RdKafka::TopicPartition*>& items) {
  std::vector<topic_partition> out;
  out.reserve(items.size());
  for (const auto* tp : items) {
    out.push_back({topic(tp->topic()), partition(tp->partition())});
  }
  return out;
}

// The first per-partition error in a list, naming the partition.
result<void> first_partition_error(const std::vector<RdKafka::TopicPartition*>& items,
                                   std::string_view what) {
  for (const auto* tp : items) {
    if (tp->err() != RdKafka::ERR_NO_ERROR) {
      return kafka_error(tp->err(), fmt::format("{} {}[{}]", what, tp->topic(), tp->partition()));
    }
  }
  return ok();
}

std::string describe(const std::vector<topic_partition>& parts) {
  std::string out;
  for (const auto& tp : parts) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{}", tp);
  }
  return out;
}

}  // namespace

// ---- message ----

message::message(std::unique_ptr<RdKafka::Message> msg) : msg_(std::move(msg)) {}
message::message(message&&) noexcept = default;
message& message::operator=(message&&) noexcept = default;
message::~message() = default;

kafka::topic message::topic() const {
  return kafka::topic(msg_->topic_name());
}
kafka::partition message::partition() const {
  return kafka::partition(msg_->partition());
}
kafka::offset message::offset() const {
  return kafka::offset(msg_->offset());
}

std::string_view message::key() const {
  const auto* k = msg_->key_pointer();
  if (k == nullptr) return {};
  return {static_cast<const char*>(k), msg_->key_len()};
}

std::string_view message::value() const {
  if (msg_->payload() == nullptr) return {};
  return {static_cast<const char*>(msg_->payload()), msg_->len()};
}

bool message::has_value() const {
  return msg_->payload() != nullptr;
}

int64_t message::timestamp_ms() const {
  auto ts = msg_->timestamp();
  return ts.type == RdKafka::MessageTimestamp::MSG_TIMESTAMP_NOT_AVAILABLE ? -1 : ts.timestamp;
}

std::optional<std::string> message::header(std::string_view name) const {
  auto* hs = msg_->headers();
  if (hs == nullptr) return std::nullopt;
  for (const auto& h : hs->get_all()) {
    if (h.key() == name) {
      if (h.value() == nullptr) return std::string();
      return std::string(static_cast<const char*>(h.value()), h.value_size());
    }
  }
  return std::nullopt;
}

std::vector<kafka::header> message::headers() const {
  std::vector<kafka::header> out;
  auto* hs = msg_->headers();
  if (hs == nullptr) return out;
  for (const auto& h : hs->get_all()) {
    std::string value;
    if (h.value() != nullptr) value.assign(static_cast<const char*>(h.value()), h.value_size());
    out.push_back({h.key(), std::move(value)});
  }
  return out;
}

// ---- rebalance ----

class consumer::rebalance_adapter : public RdKafka::RebalanceCb {
 public:
  explicit rebalance_adapter(rebalance_callback cb) : cb_(std::move(cb)) {}

  void rebalance_cb(RdKafka::KafkaConsumer* handle, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    static const auto logger = log::get("kafka");
    auto parts = to_partitions(partitions);
    bool cooperative = handle->rebalance_protocol() == "COOPERATIVE";
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      logger->info("assigned: {}", describe(parts));
      if (cooperative) {
        if (auto* e = handle->incremental_assign(partitions)) {
          logger->error("incremental assign of {} failed: {}", describe(parts), e->str());
          delete e;
        }
      } else {
        handle->assign(partitions);
      }
      if (cb_) cb_(rebalance_kind::assigned, parts);
      return;
    }
    // Revoked or lost: tell the caller first so it can commit what it finished.
    bool lost = handle->assignment_lost();
    logger->info("{}: {}", lost ? "lost" : "revoked", describe(parts));
    if (cb_) cb_(lost ? rebalance_kind::lost : rebalance_kind::revoked, parts);
    if (cooperative) {
      if (auto* e = handle->incremental_unassign(partitions)) {
        logger->error("incremental unassign of {} failed: {}", describe(parts), e->str());
        delete e;
      }
    } else {
      handle->unassign();
    }
  }

 private:
  rebalance_callback cb_;
};

// ---- consumer ----

result<std::unique_ptr<consumer>> consumer::create(const consumer_settings& settings,
                                                   rebalance_callback on_rebalance) {
  auto conf = build_conf(settings);
  if (!conf) return conf.err();
  std::unique_ptr<consumer> self(new consumer());
  self->rebalance_ = std::make_unique<rebalance_adapter>(std::move(on_rebalance));
  self->events_ = std::make_unique<event_logger>();
  std::string errstr;
  if ((*conf)->set("rebalance_cb", static_cast<RdKafka::RebalanceCb*>(self->rebalance_.get()),
                   errstr) != RdKafka::Conf::CONF_OK ||
      (*conf)->set("event_cb", self->events_.get(), errstr) != RdKafka::Conf::CONF_OK) {
    return make_error(errc::internal, "consumer callbacks: {}", errstr);
  }
  self->handle_.reset(RdKafka::KafkaConsumer::create(conf->get(), errstr));
  if (!self->handle_) {
    return make_error(errc::invalid_argument, "creating consumer for {} (group {}): {}",
                      settings.client.bootstrap_servers, settings.group_id, errstr);
  }
  return self;
}

consumer::~consumer() {
  if (handle_ && !closed_) handle_->close();
}

result<void> consumer::subscribe(const std::vector<topic>& topics) {
  std::vector<std::string> names;
  for (const auto& t : topics) names.push_back(t.str());
  auto code = handle_->subscribe(names);
  if (code != RdKafka::ERR_NO_ERROR) {
    return kafka_error(code, fmt::format("subscribing to {}", fmt::join(names, ", ")));
  }
  return ok();
}

result<void> consumer::assign(const std::vector<topic_partition_offset>& positions) {
  partition_list list;
  fill(list, positions);
  auto code = handle_->assign(list.items);
  if (code != RdKafka::ERR_NO_ERROR) return kafka_error(code, "assigning partitions");
  return ok();
}

result<std::optional<message>> consumer::poll(std::chrono::milliseconds timeout) {
  std::unique_ptr<RdKafka::Message> msg(handle_->consume(static_cast<int>(timeout.count())));
  switch (msg->err()) {
    case RdKafka::ERR_NO_ERROR:
      return std::optional<message>(message(std::move(msg)));
    case RdKafka::ERR__TIMED_OUT:
    case RdKafka::ERR__PARTITION_EOF:
      return std::optional<message>();
    default:
      if (msg->topic_name().empty()) return kafka_error(msg->err(), "consume");
      return kafka_error(msg->err(),
                         fmt::format("consume from {}[{}]", msg->topic_name(), msg->partition()));
  }
}

result<void> consumer::commit(const std::vector<topic_partition_offset>& offsets) {
  if (offsets.empty()) return ok();
  partition_list list;
  fill(list, offsets);
  auto code = handle_->commitSync(list.items);
  if (code != RdKafka::ERR_NO_ERROR) return kafka_error(code, "committing offsets");
  return first_partition_error(list.items, "committing offset of");
}

result<void> consumer::commit_async(const std::vector<topic_partition_offset>& offsets) {
  if (offsets.empty()) return ok();
  partition_list list;
  fill(list, offsets);
  auto code = handle_->commitAsync(list.items);
  if (code != RdKafka::ERR_NO_ERROR) return kafka_error(code, "committing offsets (async)");
  return ok();
}

result<std::vector<topic_partition_offset>> consumer::committed(
    const std::vector<topic_partition>& partitions, std::chrono::milliseconds timeout) {
  partition_list list;
  fill(list, partitions);
  auto code = handle_->committed(list.items, static_cast<int>(timeout.count()));
  if (code != RdKafka::ERR_NO_ERROR) return kafka_error(code, "fetching committed offsets");
  if (auto r = first_partition_error(list.items, "committed offset of"); !r) return r.err();
  std::vector<topic_partition_offset> out;
  for (const auto* tp : list.items) {
    out.push_back({topic(tp->topic()), partition(tp->partition()), offset(tp->offset())});
  }
  return out;
}

result<void> consumer::pause(const std::vector<topic_partition>& partitions) {
  partition_list list;
  fill(list, partitions);
  auto code = handle_->pause(list.items);
  if (code != RdKafka::ERR_NO_ERROR) {
    return kafka_error(code, fmt::format("pausing {}", describe(partitions)));
  }
  return first_partition_error(list.items, "pausing");
}

result<void> consumer::resume(const std::vector<topic_partition>& partitions) {
  partition_list list;
  fill(list, partitions);
  auto code = handle_->resume(list.items);
  if (code != RdKafka::ERR_NO_ERROR) {
    return kafka_error(code, fmt::format("resuming {}", describe(partitions)));
  }
  return first_partition_error(list.items, "resuming");
}

result<std::vector<topic_partition_offset>> consumer::position(
    const std::vector<topic_partition>& partitions) {
  partition_list list;
  fill(list, partitions);
  auto code = handle_->position(list.items);
  if (code != RdKafka::ERR_NO_ERROR) return kafka_error(code, "reading positions");
  std::vector<topic_partition_offset> out;
  for (const auto* tp : list.items) {
    out.push_back({topic(tp->topic()), partition(tp->partition()), offset(tp->offset())});
  }
  return out;
}

result<std::vector<topic_partition>> consumer::assignment() {
  partition_list list;
  auto code = handle_->assignment(list.items);
  if (code != RdKafka::ERR_NO_ERROR) return kafka_error(code, "reading assignment");
  return to_partitions(list.items);
}

result<void> consumer::close() {
  if (closed_) return ok();
  closed_ = true;
  auto code = handle_->close();
  if (code != RdKafka::ERR_NO_ERROR) return kafka_error(code, "closing consumer");
  return ok();
}

}  // namespace sluice::kafka
