// read_topic_to_end: watermarks first, then a manually assigned consumer until every
// partition's position reached its recorded end.
#include "kafka/topic_reader.h"

#include <map>

#include "kafka/admin.h"

namespace sluice::kafka {

result<void> read_topic_to_end(const client_settings& settings, const topic& t,
                               const record_visitor& visit, std::chrono::milliseconds timeout) {
  auto admin = admin::create(settings);
  if (!admin) return admin.err();
  auto call_timeout = std::chrono::seconds(15);
  auto partitions = (*admin)->partition_count(t, call_timeout);
  if (!partitions) return partitions.err();
  std::vector<topic_partition_offset> starts;
  std::map<std::int32_t, std::int64_t> ends;
  for (std::int32_t p = 0; p < *partitions; ++p) {
    topic_partition tp{t, partition(p)};
    auto marks = (*admin)->query_watermarks(tp, call_timeout);
    if (!marks) return marks.err();
    if (marks->high.value() > marks->low.value()) {
      starts.push_back({t, tp.partition, marks->low});
      ends[p] = marks->high.value();
    }
  }
  if (starts.empty()) return {};

  consumer_settings cs;
  cs.client = settings;
  cs.group_id = "sluice-topic-reader";  // required by librdkafka; nothing is committed
  auto reader = consumer::create(cs, {});
  if (!reader) return reader.err();
  if (auto assigned = (*reader)->assign(starts); !assigned) return assigned.err();
  std::map<std::int32_t, std::int64_t> next;
  auto reached_end = [&] {
    for (const auto& [p, end] : ends) {
      if (next[p] < end) return false;
    }
    return true;
  };
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!reached_end()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return make_error(errc::timeout, "reading topic {} did not reach its end in {} s", t.str(),
                        std::chrono::duration_cast<std::chrono::seconds>(timeout).count());
    }
    auto polled = (*reader)->poll(std::chrono::milliseconds(500));
    if (!polled) return polled.err();
    if (!*polled) continue;
    const auto& m = **polled;
    next[m.partition().value()] = m.offset().value() + 1;
    if (m.offset().value() < ends[m.partition().value()]) visit(m);
  }
  (void)(*reader)->close();
  return {};
}

}  // namespace sluice::kafka
