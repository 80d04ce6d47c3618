// read_topic_to_end and read_topic_range: a manually assigned consumer (outside any
// group, nothing committed) reading until every partition's position reached its end.
#include "kafka/topic_reader.h"

#include <algorithm>
#include <map>

#include "kafka/admin.h"

namespace sluice::kafka {

result<void> read_topic_range(const client_settings& settings, const topic& t,
                              const std::map<std::int32_t, offset_span>& spans,
                              const record_visitor& visit, std::chrono::milliseconds timeout) {
  std::vector<topic_partition_offset> starts;
  std::map<std::int32_t, std::int64_t> ends, next;
  for (const auto& [p, span] : spans) {
    if (span.end <= span.begin) continue;
    starts.push_back({t, partition(p), offset(span.begin)});
    ends[p] = span.end;
    next[p] = span.begin;
  }
  if (starts.empty()) return {};

  consumer_settings cs;
  cs.client = settings;
  cs.group_id = "sluice-topic-reader";  // required by librdkafka; nothing is committed
  auto reader = consumer::create(cs, {});
  if (!reader) return reader.err();
  if (auto assigned = (*reader)->assign(starts); !assigned) return assigned.err();
  auto reached_end = [&] {
    return std::all_of(ends.begin(), ends.end(),
                       [&](const auto& e) { return next[e.first] >= e.second; });
  };
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!reached_end()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return make_error(errc::timeout, "reading topic {} did not reach its end in {} s", t.str(),
                        std::chrono::duration_cast<std::chrono::seconds>(timeout).count());
    }
    auto polled = (*reader)->poll(std::chrono::milliseconds(500));
    if (!polled) return polled.err();
    if (!*polled) {
      // Nothing came: a partition may end in transaction markers or compacted-away
      // offsets, which no record reaches; its position does.
      std::vector<topic_partition> pending;
      for (const auto& [p, end] : ends)
        if (next[p] < end) pending.push_back({t, partition(p)});
      if (auto positions = (*reader)->position(pending); positions) {
        for (const auto& pos : *positions)
          next[pos.partition.value()] = std::max(next[pos.partition.value()], pos.offset.value());
      }
      continue;
    }
    const auto& m = **polled;
    auto p = m.partition().value();
    next[p] = m.offset().value() + 1;
    if (auto end = ends.find(p); end != ends.end() && m.offset().value() < end->second) visit(m);
  }
  (void)(*reader)->close();
  return {};
}

result<std::map<std::int32_t, offset_span>> current_extent(admin& admin, const topic& t) {
  auto call_timeout = std::chrono::seconds(15);
  auto partitions = admin.partition_count(t, call_timeout);
  if (!partitions) return partitions.err();
  std::map<std::int32_t, offset_span> spans;
  for (std::int32_t p = 0; p < *partitions; ++p) {
    auto marks = admin.query_watermarks({t, partition(p)}, call_timeout);
    if (!marks) return marks.err();
    spans[p] = {marks->low.value(), marks->high.value()};
  }
  return spans;
}

result<void> read_topic_to_end(const client_settings& settings, const topic& t,
                               const record_visitor& visit, std::chrono::milliseconds timeout) {
  auto admin = admin::create(settings);
  if (!admin) return admin.err();
  auto spans = current_extent(**admin, t);
  if (!spans) return spans.err();
  return read_topic_range(settings, t, *spans, visit, timeout);
}

}  // namespace sluice::kafka
