// The registry's compacted-topic log on Kafka (see store.h).
#include "registry/store.h"

#include <thread>

#include <fmt/format.h>

#include "base/log.h"

namespace sluice::registry {

result<std::unique_ptr<kafka_log>> kafka_log::open(const store_settings& settings) {
  std::unique_ptr<kafka_log> self(new kafka_log(settings));
  auto adm = kafka::admin::create(settings.client);
  if (!adm) return adm.err();
  self->admin_ = std::move(*adm);
  kafka::topic_spec spec{
      settings.topic, 1, settings.replication_factor, {{"cleanup.policy", "compact"}}};
  if (auto r = self->admin_->create_topics({spec}, true, settings.timeout); !r) return r.err();
  // Metadata of a topic created a moment ago may not have propagated yet: retry within
  // the timeout rather than failing at start.
  auto count = self->admin_->partition_count(settings.topic, settings.timeout);
  auto wait_until = std::chrono::steady_clock::now() + settings.timeout;
  while (!count && std::chrono::steady_clock::now() < wait_until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    count = self->admin_->partition_count(settings.topic, settings.timeout);
  }
  if (!count) return count.err();
  if (*count != 1) {
    return make_error(errc::invalid_argument,
                      "registry topic {} has {} partitions; the registry needs exactly 1 to keep "
                      "its records in order",
                      settings.topic.str(), *count);
  }
  kafka::producer_settings ps;
  ps.client = settings.client;
  ps.compression = "none";
  ps.linger = std::chrono::milliseconds(0);
  ps.message_timeout = settings.timeout;
  auto* log = self.get();
  auto prod = kafka::producer::create(ps, [log](const kafka::delivery_report& report) {
    auto it = log->pending_.find(reinterpret_cast<uintptr_t>(report.opaque));
    if (it == log->pending_.end()) return;
    it->second.done = true;
    it->second.failure = report.failure;
  });
  if (!prod) return prod.err();
  self->producer_ = std::move(*prod);
  return self;
}

result<size_t> kafka_log::replay(const std::function<result<void>(const log_record&)>& apply) {
  static const auto logger = log::get("registry");
  kafka::topic_partition tp{settings_.topic, kafka::partition(0)};
  // A topic created a moment ago may not have a leader yet (NOT_LEADER_FOR_PARTITION,
  // LEADER_NOT_AVAILABLE): wait for it within the timeout instead of failing at start.
  auto wm = admin_->query_watermarks(tp, settings_.timeout);
  auto wait_until = std::chrono::steady_clock::now() + settings_.timeout;
  while (!wm && std::chrono::steady_clock::now() < wait_until) {
    logger->warn("waiting for a leader of {}: {}", tp.topic.str(), wm.err().message);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    wm = admin_->query_watermarks(tp, settings_.timeout);
  }
  if (!wm) return wm.err();
  if (wm->high <= wm->low) return size_t{0};

  kafka::consumer_settings cs;
  cs.client = settings_.client;
  cs.group_id = "sluice-registry-replay";  // assign() only: never joins, never commits
  auto cons = kafka::consumer::create(cs, nullptr);
  if (!cons) return cons.err();
  if (auto r = (*cons)->assign({{tp.topic, tp.partition, kafka::offset::beginning()}}); !r) {
    return r.err();
  }
  size_t count = 0;
  auto last = wm->high.value() - 1;
  auto deadline = std::chrono::steady_clock::now() + settings_.timeout;
  int64_t position = -1;
  while (position < last) {
    if (std::chrono::steady_clock::now() > deadline) {
      return make_error(errc::timeout,
                        "replaying registry topic {}: reached offset {} of {} within {} ms",
                        tp.topic.str(), position, last, settings_.timeout.count());
    }
    auto msg = (*cons)->poll(std::chrono::milliseconds(500));
    if (!msg) return msg.err();
    if (!*msg) continue;
    const auto& m = **msg;
    position = m.offset().value();
    if (m.key().empty()) {
      logger->warn("{} offset {}: record without key, skipped", tp.topic.str(), position);
      continue;
    }
    log_record record{std::string(m.key()), std::nullopt};
    if (m.has_value()) record.value = std::string(m.value());
    if (auto r = apply(record); !r) {
      logger->warn("{} offset {}: {}, skipped", tp.topic.str(), position, r.err().message);
      continue;
    }
    ++count;
  }
  (void)(*cons)->close();
  return count;
}

result<void> kafka_log::append(const log_record& record) {
  // Reports of appends that timed out earlier may have arrived since: forget them.
  std::erase_if(pending_, [](const auto& entry) { return entry.second.done; });
  auto sequence = next_sequence_++;
  pending_[sequence] = {};
  kafka::outgoing_record out{settings_.topic,
                             kafka::partition(0),
                             record.key,
                             record.value ? std::string_view(*record.value) : std::string_view(),
                             {},
                             reinterpret_cast<void*>(static_cast<uintptr_t>(sequence)),
                             !record.value};
  if (auto r = producer_->produce(out); !r) {
    pending_.erase(sequence);
    return make_error(r.err().code, "writing to registry topic {}: {}", settings_.topic.str(),
                      r.err().message);
  }
  // librdkafka reports every record within message.timeout.ms (= settings_.timeout),
  // delivered or failed, so waiting a little longer means we always learn the outcome
  // and never leave a record in the topic that the in-memory state does not know.
  auto deadline = std::chrono::steady_clock::now() + settings_.timeout + std::chrono::seconds(5);
  while (!pending_[sequence].done && std::chrono::steady_clock::now() < deadline) {
    producer_->poll(std::chrono::milliseconds(50));
  }
  auto outcome = pending_[sequence];
  if (!outcome.done) {
    return make_error(errc::timeout, "writing to registry topic {}: no acknowledgement in {} ms",
                      settings_.topic.str(), settings_.timeout.count());
  }
  pending_.erase(sequence);
  if (outcome.failure) return *outcome.failure;
  return ok();
}

}  // namespace sluice::registry
