// The cluster-wide half of kafka::admin (see admin.h): metadata, topic configurations,
// topic deletion, record deletion below an offset, consumer groups (list, describe,
// offsets by time, offset reset), on librdkafka's C admin API. The console is its main user.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "kafka/admin.h"
#include "kafka/admin_internal.h"
#include "kafka/consumer.h"
#include "kafka/errors.h"

namespace sluice::kafka {

using namespace admin_internal;

namespace {

using partition_list_ptr = std::unique_ptr<rd_kafka_topic_partition_list_t,
                                           c_deleter<rd_kafka_topic_partition_list_destroy>>;

std::string group_state_name(rd_kafka_consumer_group_state_t state) {
  const char* name = rd_kafka_consumer_group_state_name(state);
  return name != nullptr ? name : "Unknown";
}

std::string text_or_empty(const char* text) {
  return text != nullptr ? text : "";
}

}  // namespace

result<cluster_info> admin::describe_cluster(std::chrono::milliseconds timeout) {
  RdKafka::Metadata* raw = nullptr;
  auto code = handle_->metadata(true, nullptr, &raw, static_cast<int>(timeout.count()));
  std::unique_ptr<RdKafka::Metadata> md(raw);
  if (code != RdKafka::ERR_NO_ERROR) return kafka_error(code, "reading the cluster metadata");
  cluster_info info;
  rd_kafka_t* rk = handle_->c_ptr();
  if (char* id = rd_kafka_clusterid(rk, static_cast<int>(timeout.count())); id != nullptr) {
    info.cluster_id = id;
    rd_kafka_mem_free(rk, id);
  }
  info.controller_id = rd_kafka_controllerid(rk, static_cast<int>(timeout.count()));
  for (const auto* b : *md->brokers()) info.brokers.push_back({b->id(), b->host(), b->port()});
  std::sort(info.brokers.begin(), info.brokers.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  for (const auto* tm : *md->topics()) {
    if (tm->err() != RdKafka::ERR_NO_ERROR) continue;  // being deleted or not yet led
    topic_info t{tm->topic(), tm->topic().starts_with("__"), {}};
    for (const auto* pm : *tm->partitions()) {
      partition_info p;
      p.partition = pm->id();
      p.leader = pm->leader();
      p.replicas.assign(pm->replicas()->begin(), pm->replicas()->end());
      p.isr.assign(pm->isrs()->begin(), pm->isrs()->end());
      t.partitions.push_back(std::move(p));
    }
    std::sort(t.partitions.begin(), t.partitions.end(),
              [](const auto& a, const auto& b) { return a.partition < b.partition; });
    info.topics.push_back(std::move(t));
  }
  std::sort(info.topics.begin(), info.topics.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  return info;
}

result<std::vector<config_entry>> admin::topic_configs(const topic& t,
                                                       std::chrono::milliseconds timeout) {
  rd_kafka_t* rk = handle_->c_ptr();
  auto opts = make_options(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeout);
  if (!opts) return opts.err();
  using resource_ptr =
      std::unique_ptr<rd_kafka_ConfigResource_t, c_deleter<rd_kafka_ConfigResource_destroy>>;
  resource_ptr resource(rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, t.str().c_str()));
  auto* raw = resource.get();
  queue_ptr queue(rd_kafka_queue_new(rk));
  rd_kafka_DescribeConfigs(rk, &raw, 1, (*opts).get(), queue.get());
  auto what = fmt::format("describing the configs of topic {}", t.str());
  auto ev = wait_result(queue.get(), timeout, what);
  if (!ev) return ev.err();
  event_ptr owned(*ev);
  const auto* res = rd_kafka_event_DescribeConfigs_result(owned.get());
  size_t n = 0;
  const auto** resources = rd_kafka_DescribeConfigs_result_resources(res, &n);
  std::vector<config_entry> out;
  for (size_t i = 0; i < n; ++i) {
    if (auto code = rd_kafka_ConfigResource_error(resources[i]); code != 0) {
      if (code == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
        return make_error(errc::not_found, "topic {} does not exist", t.str());
      }
      return kafka_error(code, what,
                         text_or_empty(rd_kafka_ConfigResource_error_string(resources[i])));
    }
    size_t entries = 0;
    const auto** configs = rd_kafka_ConfigResource_configs(resources[i], &entries);
    for (size_t e = 0; e < entries; ++e) {
      config_entry entry;
      entry.name = text_or_empty(rd_kafka_ConfigEntry_name(configs[e]));
      entry.sensitive = rd_kafka_ConfigEntry_is_sensitive(configs[e]) != 0;
      if (!entry.sensitive) entry.value = text_or_empty(rd_kafka_ConfigEntry_value(configs[e]));
      entry.is_default = rd_kafka_ConfigEntry_is_default(configs[e]) != 0;
      out.push_back(std::move(entry));
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

result<void> admin::delete_topic(const topic& t, std::chrono::milliseconds timeout) {
  rd_kafka_t* rk = handle_->c_ptr();
  auto opts = make_options(rk, RD_KAFKA_ADMIN_OP_DELETETOPICS, timeout);
  if (!opts) return opts.err();
  char errstr[512];
  rd_kafka_AdminOptions_set_operation_timeout((*opts).get(), static_cast<int>(timeout.count()),
                                              errstr, sizeof errstr);
  rd_kafka_DeleteTopic_t* spec = rd_kafka_DeleteTopic_new(t.str().c_str());
  queue_ptr queue(rd_kafka_queue_new(rk));
  rd_kafka_DeleteTopics(rk, &spec, 1, (*opts).get(), queue.get());
  rd_kafka_DeleteTopic_destroy(spec);
  auto what = fmt::format("deleting topic {}", t.str());
  auto ev = wait_result(queue.get(), timeout, what);
  if (!ev) return ev.err();
  event_ptr owned(*ev);
  size_t n = 0;
  const auto** results =
      rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(owned.get()), &n);
  for (size_t i = 0; i < n; ++i) {
    auto code = rd_kafka_topic_result_error(results[i]);
    if (code == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    if (code == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
      return make_error(errc::not_found, "topic {} does not exist", t.str());
    }
    return kafka_error(code, what, text_or_empty(rd_kafka_topic_result_error_string(results[i])));
  }
  return ok();
}

result<std::vector<group_listing>> admin::list_groups(std::chrono::milliseconds timeout) {
  rd_kafka_t* rk = handle_->c_ptr();
  auto opts = make_options(rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS, timeout);
  if (!opts) return opts.err();
  queue_ptr queue(rd_kafka_queue_new(rk));
  rd_kafka_ListConsumerGroups(rk, (*opts).get(), queue.get());
  auto ev = wait_result(queue.get(), timeout, "listing consumer groups");
  if (!ev) return ev.err();
  event_ptr owned(*ev);
  const auto* res = rd_kafka_event_ListConsumerGroups_result(owned.get());
  size_t n = 0;
  const auto** listings = rd_kafka_ListConsumerGroups_result_valid(res, &n);
  std::vector<group_listing> out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back({text_or_empty(rd_kafka_ConsumerGroupListing_group_id(listings[i])),
                   group_state_name(rd_kafka_ConsumerGroupListing_state(listings[i])),
                   rd_kafka_ConsumerGroupListing_is_simple_consumer_group(listings[i]) != 0});
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.group_id < b.group_id; });
  return out;
}

result<group_description> admin::describe_group(const std::string& group_id,
                                                std::chrono::milliseconds timeout) {
  rd_kafka_t* rk = handle_->c_ptr();
  auto opts = make_options(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS, timeout);
  if (!opts) return opts.err();
  queue_ptr queue(rd_kafka_queue_new(rk));
  const char* ids[] = {group_id.c_str()};
  rd_kafka_DescribeConsumerGroups(rk, ids, 1, (*opts).get(), queue.get());
  auto what = fmt::format("describing consumer group {}", group_id);
  auto ev = wait_result(queue.get(), timeout, what);
  if (!ev) return ev.err();
  event_ptr owned(*ev);
  size_t n = 0;
  const auto** groups = rd_kafka_DescribeConsumerGroups_result_groups(
      rd_kafka_event_DescribeConsumerGroups_result(owned.get()), &n);
  if (n == 0) return make_error(errc::not_found, "{}: no answer for the group", what);
  const auto* g = groups[0];
  if (const auto* err = rd_kafka_ConsumerGroupDescription_error(g); err != nullptr) {
    return kafka_error(rd_kafka_error_code(err), what, text_or_empty(rd_kafka_error_string(err)));
  }
  group_description out;
  out.group_id = group_id;
  out.state = group_state_name(rd_kafka_ConsumerGroupDescription_state(g));
  if (out.state == "Dead") {
    return make_error(errc::not_found, "consumer group {} does not exist", group_id);
  }
  out.assignor = text_or_empty(rd_kafka_ConsumerGroupDescription_partition_assignor(g));
  for (size_t m = 0; m < rd_kafka_ConsumerGroupDescription_member_count(g); ++m) {
    const auto* member = rd_kafka_ConsumerGroupDescription_member(g, m);
    group_member gm{text_or_empty(rd_kafka_MemberDescription_consumer_id(member)),
                    text_or_empty(rd_kafka_MemberDescription_client_id(member)),
                    text_or_empty(rd_kafka_MemberDescription_host(member)),
                    {}};
    const auto* assignment = rd_kafka_MemberDescription_assignment(member);
    const auto* parts =
        assignment != nullptr ? rd_kafka_MemberAssignment_partitions(assignment) : nullptr;
    for (int i = 0; parts != nullptr && i < parts->cnt; ++i) {
      gm.assignment.push_back({topic(parts->elems[i].topic), partition(parts->elems[i].partition)});
    }
    std::sort(gm.assignment.begin(), gm.assignment.end());
    out.members.push_back(std::move(gm));
  }
  return out;
}

result<std::vector<topic_partition_offset>> admin::offsets_for_time(
    const topic& t, int64_t timestamp_ms, std::chrono::milliseconds timeout) {
  auto count = partition_count(t, timeout);
  if (!count) return count.err();
  partition_list_ptr list(rd_kafka_topic_partition_list_new(*count));
  for (int32_t p = 0; p < *count; ++p) {
    // The query's "offset" is the timestamp; the answer replaces it with an offset.
    rd_kafka_topic_partition_list_add(list.get(), t.str().c_str(), p)->offset = timestamp_ms;
  }
  auto code =
      rd_kafka_offsets_for_times(handle_->c_ptr(), list.get(), static_cast<int>(timeout.count()));
  if (code != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return kafka_error(code, fmt::format("offsets of topic {} at time {}", t.str(), timestamp_ms));
  }
  std::vector<topic_partition_offset> out;
  for (int i = 0; i < list->cnt; ++i) {
    const auto& e = list->elems[i];
    int64_t at = e.offset;
    if (at < 0) {  // no record at or after the time: the end of the partition
      auto wm = query_watermarks({t, partition(e.partition)}, timeout);
      if (!wm) return wm.err();
      at = wm->high.value();
    }
    out.push_back({t, partition(e.partition), offset(at)});
  }
  return out;
}

result<void> admin::set_group_offsets(const std::string& group_id,
                                      const std::vector<topic_partition_offset>& offsets,
                                      std::chrono::milliseconds timeout) {
  auto group = describe_group(group_id, timeout);
  if (!group && group.err().code != errc::not_found) return group.err();
  if (group && !group->members.empty()) {
    return make_error(errc::conflict,
                      "consumer group {} has {} active member(s): stop its consumers before "
                      "resetting its offsets",
                      group_id, group->members.size());
  }
  // A member-less commit through a consumer of the group that never subscribes: Kafka
  // accepts it for a group without members (generation -1).
  consumer_settings cs;
  cs.client = settings_;
  cs.group_id = group_id;
  auto committer = consumer::create(cs, {});
  if (!committer) return committer.err();
  auto done = (*committer)->commit(offsets);
  (void)(*committer)->close();
  if (!done) {
    return make_error(done.err().code, "setting the offsets of group {}: {}", group_id,
                      done.err().message);
  }
  return ok();
}

result<std::vector<topic_partition_offset>> admin::delete_records(
    const std::vector<topic_partition_offset>& before, std::chrono::milliseconds timeout) {
  std::vector<topic_partition_offset> out;
  if (before.empty()) return out;
  rd_kafka_t* rk = handle_->c_ptr();
  auto opts = make_options(rk, RD_KAFKA_ADMIN_OP_DELETERECORDS, timeout);
  if (!opts) return opts.err();
  char errstr[512];
  rd_kafka_AdminOptions_set_operation_timeout((*opts).get(), static_cast<int>(timeout.count()),
                                              errstr, sizeof errstr);
  std::map<std::pair<std::string, int32_t>, int64_t> requested;
  partition_list_ptr list(rd_kafka_topic_partition_list_new(static_cast<int>(before.size())));
  for (const auto& b : before) {
    rd_kafka_topic_partition_list_add(list.get(), b.topic.str().c_str(), b.partition.value())
        ->offset = b.offset.value();
    requested[{b.topic.str(), b.partition.value()}] = b.offset.value();
  }
  rd_kafka_DeleteRecords_t* spec = rd_kafka_DeleteRecords_new(list.get());  // copies the list
  queue_ptr queue(rd_kafka_queue_new(rk));
  rd_kafka_DeleteRecords(rk, &spec, 1, (*opts).get(), queue.get());
  rd_kafka_DeleteRecords_destroy(spec);
  auto what = fmt::format("deleting the records of topic {}", before.front().topic.str());
  auto ev = wait_result(queue.get(), timeout, what);
  if (!ev) {
    // librdkafka fails the whole request when it finds no leader ("No leaders found"),
    // which is what a topic that does not exist looks like: say so.
    for (const auto& [tp, below] : requested) {
      auto count = partition_count(topic(tp.first), timeout);
      if (!count && count.err().code == errc::not_found)
        return make_error(errc::not_found, "deleting the records of topic {}: it does not exist",
                          tp.first);
    }
    return ev.err();
  }
  event_ptr owned(*ev);
  const auto* offsets =
      rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(owned.get()));
  for (int i = 0; offsets != nullptr && i < offsets->cnt; ++i) {
    const auto& e = offsets->elems[i];
    auto below = requested[{e.topic, e.partition}];
    if (e.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
        e.err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION ||
        e.err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
      return make_error(errc::not_found, "deleting the records of {}[{}]: no such partition",
                        e.topic, e.partition);
    }
    if (e.err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE) {
      return make_error(errc::invalid_argument,
                        "deleting the records of {}[{}] below offset {}: the offset is past the "
                        "partition's end",
                        e.topic, e.partition, below);
    }
    if (e.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return kafka_error(e.err, fmt::format("deleting the records of {}[{}] below offset {}",
                                            e.topic, e.partition, below));
    }
    out.push_back({topic(e.topic), partition(e.partition), offset(e.offset)});
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace sluice::kafka
