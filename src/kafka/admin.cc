// Kafka admin helpers on librdkafka's C admin API (see admin.h).
#include "kafka/admin.h"

#include <fmt/format.h>

#include <algorithm>
#include <thread>

#include "kafka/admin_internal.h"
#include "kafka/consumer.h"
#include "kafka/errors.h"

namespace sluice::kafka {

using namespace admin_internal;

result<std::unique_ptr<admin>> admin::create(const client_settings& settings) {
  auto conf = build_conf(settings);
  if (!conf) return conf.err();
  std::unique_ptr<admin> self(new admin());
  self->settings_ = settings;
  self->events_ = std::make_unique<event_logger>();
  std::string errstr;
  if ((*conf)->set("event_cb", self->events_.get(), errstr) != RdKafka::Conf::CONF_OK) {
    return make_error(errc::internal, "admin event callback: {}", errstr);
  }
  self->handle_.reset(RdKafka::Producer::create(conf->get(), errstr));
  if (!self->handle_) {
    return make_error(errc::invalid_argument, "creating admin client for {}: {}",
                      settings.bootstrap_servers, errstr);
  }
  return self;
}

admin::~admin() = default;

result<void> admin::create_topics(const std::vector<topic_spec>& topics, bool if_not_exists,
                                  std::chrono::milliseconds timeout) {
  if (topics.empty()) return ok();
  const auto started = std::chrono::steady_clock::now();
  rd_kafka_t* rk = handle_->c_ptr();
  std::vector<rd_kafka_NewTopic_t*> specs;
  auto destroy_specs = [&] { rd_kafka_NewTopic_destroy_array(specs.data(), specs.size()); };
  char errstr[512];
  for (const auto& t : topics) {
    auto* nt = rd_kafka_NewTopic_new(t.topic.str().c_str(), t.partitions, t.replication_factor,
                                     errstr, sizeof errstr);
    if (nt == nullptr) {
      destroy_specs();
      return make_error(errc::invalid_argument, "topic {}: {}", t.topic.str(), errstr);
    }
    specs.push_back(nt);
    for (const auto& [name, value] : t.configs) {
      if (auto e = rd_kafka_NewTopic_set_config(nt, name.c_str(), value.c_str()); e != 0) {
        destroy_specs();
        return kafka_error(e, fmt::format("topic {} config {}={}", t.topic.str(), name, value));
      }
    }
  }
  auto opts = make_options(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout);
  if (!opts) {
    destroy_specs();
    return opts.err();
  }
  rd_kafka_AdminOptions_set_operation_timeout((*opts).get(), static_cast<int>(timeout.count()),
                                              errstr, sizeof errstr);
  queue_ptr queue(rd_kafka_queue_new(rk));
  rd_kafka_CreateTopics(rk, specs.data(), specs.size(), (*opts).get(), queue.get());
  destroy_specs();

  auto ev = wait_result(queue.get(), timeout, "creating topics");
  if (!ev) return ev.err();
  event_ptr owned(*ev);
  const auto* res = rd_kafka_event_CreateTopics_result(owned.get());
  size_t n = 0;
  const auto** results = rd_kafka_CreateTopics_result_topics(res, &n);
  for (size_t i = 0; i < n; ++i) {
    auto code = rd_kafka_topic_result_error(results[i]);
    if (code == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    if (code == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS && if_not_exists) continue;
    const char* msg = rd_kafka_topic_result_error_string(results[i]);
    return kafka_error(code,
                       fmt::format("creating topic {}", rd_kafka_topic_result_name(results[i])),
                       msg != nullptr ? msg : "");
  }
  return wait_until_visible(topics, started + timeout);
}

// KRaft answers CreateTopics once the controller has committed the topic; the broker's
// own metadata catches up a moment later, and until then DescribeConfigs, Metadata and
// Produce say the topic does not exist. Created therefore means "visible": wait for it.
result<void> admin::wait_until_visible(const std::vector<topic_spec>& topics,
                                       std::chrono::steady_clock::time_point deadline) {
  using namespace std::chrono_literals;
  for (const auto& t : topics) {
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      auto count = partition_count(t.topic, std::max(left, 100ms));
      if (count) break;
      if (std::chrono::steady_clock::now() >= deadline) {
        return make_error(errc::timeout,
                          "topic {} was created but is not yet in the broker's "
                          "metadata: {}",
                          t.topic.str(), count.err().message);
      }
      std::this_thread::sleep_for(50ms);
    }
  }
  return ok();
}

result<int32_t> admin::partition_count(const topic& t, std::chrono::milliseconds timeout) {
  std::string errstr;
  std::unique_ptr<RdKafka::Topic> handle(
      RdKafka::Topic::create(handle_.get(), t.str(), nullptr, errstr));
  if (!handle) return make_error(errc::invalid_argument, "topic {}: {}", t.str(), errstr);
  RdKafka::Metadata* raw = nullptr;
  auto code = handle_->metadata(false, handle.get(), &raw, static_cast<int>(timeout.count()));
  std::unique_ptr<RdKafka::Metadata> md(raw);
  if (code != RdKafka::ERR_NO_ERROR) {
    return kafka_error(code, fmt::format("metadata of topic {}", t.str()));
  }
  for (const auto* tm : *md->topics()) {
    if (tm->topic() != t.str()) continue;
    if (tm->err() != RdKafka::ERR_NO_ERROR) {
      return kafka_error(tm->err(), fmt::format("metadata of topic {}", t.str()));
    }
    return static_cast<int32_t>(tm->partitions()->size());
  }
  return make_error(errc::not_found, "topic {} is not in the broker's metadata", t.str());
}

result<watermarks> admin::query_watermarks(const topic_partition& tp,
                                           std::chrono::milliseconds timeout) {
  int64_t low = 0;
  int64_t high = 0;
  auto code = handle_->query_watermark_offsets(tp.topic.str(), tp.partition.value(), &low, &high,
                                               static_cast<int>(timeout.count()));
  if (code != RdKafka::ERR_NO_ERROR) {
    return kafka_error(code, fmt::format("watermarks of {}", tp));
  }
  return watermarks{offset(low), offset(high)};
}

result<std::vector<topic_partition_offset>> admin::committed_offsets(
    const std::string& group_id, const topic& t, std::chrono::milliseconds timeout) {
  auto count = partition_count(t, timeout);
  if (!count) return count.err();
  // Asked through a consumer handle of the group (never subscribed, so it never joins):
  // librdkafka 2.0's ListConsumerGroupOffsets on a handle without a consumer group
  // crashes its main thread when the coordinator answers NOT_COORDINATOR (a group not
  // seen yet, a coordinator still loading); a group member's OffsetFetch handles it.
  consumer_settings cs;
  cs.client = settings_;
  cs.group_id = group_id;
  auto reader = consumer::create(cs, {});
  if (!reader) return reader.err();
  std::vector<topic_partition> parts;
  for (int32_t p = 0; p < *count; ++p) parts.push_back({t, partition(p)});
  auto committed = (*reader)->committed(parts, timeout);
  (void)(*reader)->close();
  if (!committed) {
    return make_error(committed.err().code, "committed offsets of group {} on {}: {}", group_id,
                      t.str(), committed.err().message);
  }
  for (auto& c : *committed) {
    if (c.offset.value() < 0) c.offset = offset::invalid();
  }
  return committed;
}

result<std::vector<partition_lag>> admin::group_lag(const std::string& group_id, const topic& t,
                                                    std::chrono::milliseconds timeout) {
  auto committed = committed_offsets(group_id, t, timeout);
  if (!committed) return committed.err();
  std::vector<partition_lag> out;
  for (const auto& c : *committed) {
    topic_partition tp{c.topic, c.partition};
    auto wm = query_watermarks(tp, timeout);
    if (!wm) return wm.err();
    partition_lag lag{tp, c.offset, wm->high, 0};
    auto from = c.offset == offset::invalid() ? wm->low : c.offset;
    lag.lag = std::max<int64_t>(0, wm->high.value() - from.value());
    out.push_back(lag);
  }
  return out;
}

result<std::string> admin::topic_config(const topic& t, const std::string& name,
                                        std::chrono::milliseconds timeout) {
  auto all = topic_configs(t, timeout);
  if (!all) return all.err();
  for (const auto& entry : *all) {
    if (entry.name == name) return entry.value;
  }
  return make_error(errc::not_found, "describing the configs of topic {}: no entry {}", t.str(),
                    name);
}

}  // namespace sluice::kafka
