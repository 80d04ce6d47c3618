// Purging old dead letters with receipts first (see dlq_purge.h).
#include "pipeline/dlq_purge.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <set>

#include <fmt/format.h>

#include "kafka/kafka.h"

namespace sluice::pipeline {
namespace {

constexpr auto call_timeout = std::chrono::seconds(30);

void say(const purge_settings& s, const std::string& line) {
  if (s.progress) s.progress(line);
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// Adds a letter's rule ids (each once) and source position to its range.
void note_letter(purge_range& r, const kafka::message& m) {
  ++r.letters;
  std::set<std::string> rules;
  auto list = m.header("sluice.rule").value_or("");
  for (std::size_t start = 0; start <= list.size();) {
    auto comma = std::min(list.find(',', start), list.size());
    if (comma > start) rules.insert(list.substr(start, comma - start));
    start = comma + 1;
  }
  for (const auto& rule : rules) ++r.by_rule[rule];
  auto topic = m.header("sluice.source.topic").value_or("");
  try {
    auto partition = std::stoi(m.header("sluice.source.partition").value_or(""));
    auto offset = std::stoll(m.header("sluice.source.offset").value_or(""));
    if (topic.empty() || partition < 0 || offset < 0) throw std::invalid_argument("negative");
    r.sources[topic][partition].push_back(offset);
  } catch (const std::exception&) {
    ++r.unattributed;  // no position to account for
  }
}

/// The letters below each partition's cut, as ranges ready for their receipts.
result<std::map<std::int32_t, purge_range>> plan_purge(const purge_settings& s, kafka::admin& admin,
                                                       std::int64_t now_ms,
                                                       std::int64_t cutoff_ms) {
  const auto& dlq = s.dlq.dlq_topic;
  kafka::topic t(dlq);
  auto extent = kafka::current_extent(admin, t);
  if (!extent) {
    if (extent.err().code == errc::not_found)
      return make_error(errc::not_found, "dead-letter topic {} does not exist", dlq);
    return extent.err();
  }
  auto cuts = admin.offsets_for_time(t, cutoff_ms, call_timeout);
  if (!cuts) return cuts.err();
  std::map<std::int32_t, kafka::offset_span> below;
  std::map<std::int32_t, purge_range> ranges;
  for (const auto& c : *cuts) {
    auto span = extent->find(c.partition.value());
    if (span == extent->end()) continue;
    auto cut = std::clamp(c.offset.value(), span->second.begin, span->second.end);
    if (cut <= span->second.begin) continue;
    below[span->first] = {span->second.begin, cut};
    ranges[span->first] = {.dlq_topic = dlq,
                           .partition = span->first,
                           .from_offset = span->second.begin,
                           .to_offset = cut,
                           .purged_at_ms = now_ms,
                           .older_than = s.older_than_text};
  }
  auto read = kafka::read_topic_range(s.dlq.kafka, t, below, [&](const kafka::message& m) {
    auto& r = ranges[m.partition().value()];
    if (m.offset().value() >= r.to_offset) return;
    // The cut is the first letter at or after the cutoff, whatever the broker's time
    // index said: what is below it is exactly what was read.
    if (m.timestamp_ms() >= cutoff_ms) {
      r.to_offset = m.offset().value();
      return;
    }
    note_letter(r, m);
  });
  if (!read) return read.err();
  std::erase_if(ranges, [](const auto& r) { return r.second.to_offset <= r.second.from_offset; });
  for (auto& [p, r] : ranges)
    for (auto& [topic, partitions] : r.sources)
      for (auto& [partition, offsets] : partitions) {
        std::sort(offsets.begin(), offsets.end());
        offsets.erase(std::unique(offsets.begin(), offsets.end()), offsets.end());
      }
  return ranges;
}

/// Creates `<dlq>.purged` if missing; refuses one that would not keep every receipt.
result<void> ensure_receipts_topic(kafka::admin& admin, const std::string& name) {
  kafka::topic t(name);
  auto created =
      admin.create_topics({{t, 1, -1, {{"cleanup.policy", "compact"}}}}, true, call_timeout);
  if (!created) return created.err();
  auto policy = admin.topic_config(t, "cleanup.policy", call_timeout);
  if (!policy) return policy.err();
  if (*policy != "compact")
    return make_error(errc::conflict,
                      "receipts topic {} has cleanup.policy={}: receipts would be deleted by "
                      "retention; set cleanup.policy=compact",
                      name, *policy);
  return ok();
}

/// Produces the receipts with acks=all and returns once every one is acknowledged.
result<void> write_receipts(const purge_settings& s, const std::string& topic,
                            const std::vector<receipt_record>& receipts) {
  kafka::producer_settings ps;
  ps.client = s.dlq.kafka;
  ps.client.client_id = "sluice-dlq-purge";
  ps.idempotent = true;  // acks=all
  std::atomic<std::int64_t> failed{0};
  std::string first_error;
  auto producer = kafka::producer::create(ps, [&](const kafka::delivery_report& d) {
    if (d.failure && failed.fetch_add(1) == 0) first_error = d.failure->message;
  });
  if (!producer) return producer.err();
  for (const auto& r : receipts) {
    kafka::outgoing_record out{kafka::topic(topic), std::nullopt, r.key, r.value, {}};
    if (auto sent = (*producer)->produce_waiting(out); !sent) return sent.err();
  }
  if (auto flushed = (*producer)->flush(std::chrono::seconds(60)); !flushed) return flushed.err();
  if (failed.load() > 0)
    return make_error(errc::unavailable,
                      "{} of {} purge receipts were not acknowledged by {} (nothing deleted): {}",
                      failed.load(), receipts.size(), topic, first_error);
  return ok();
}

}  // namespace

result<purge_report> purge_dead_letters(const purge_settings& s) {
  const auto& dlq = s.dlq.dlq_topic;
  purge_report report;
  report.receipts_topic = receipts_topic(dlq);
  const auto now_ms = s.now_ms >= 0 ? s.now_ms : wall_ms();
  report.cutoff_ms = now_ms - s.older_than.count();
  auto admin = kafka::admin::create(s.dlq.kafka);
  if (!admin) return admin.err();
  auto ranges = plan_purge(s, **admin, now_ms, report.cutoff_ms);
  if (!ranges) return ranges.err();

  std::vector<receipt_record> receipts;
  std::vector<kafka::topic_partition_offset> cuts;
  for (const auto& [p, r] : *ranges) {
    auto encoded = encode_receipts(r, s.receipt_max_bytes);
    report.partitions.push_back(
        {p, r.from_offset, r.to_offset, r.letters, static_cast<std::int64_t>(encoded.size())});
    report.letters += r.letters;
    report.receipts += static_cast<std::int64_t>(encoded.size());
    receipts.insert(receipts.end(), std::make_move_iterator(encoded.begin()),
                    std::make_move_iterator(encoded.end()));
    cuts.push_back({kafka::topic(dlq), kafka::partition(p), kafka::offset(r.to_offset)});
    say(s, fmt::format("{}[{}]: offsets {}..{} ({} letter(s)) are older than {}", dlq, p,
                       r.from_offset, r.to_offset - 1, r.letters, s.older_than_text));
  }
  if (s.dry_run || cuts.empty()) return report;

  if (auto made = ensure_receipts_topic(**admin, report.receipts_topic); !made) return made.err();
  if (auto written = write_receipts(s, report.receipts_topic, receipts); !written)
    return written.err();
  say(s, fmt::format("wrote {} receipt(s) to {}", receipts.size(), report.receipts_topic));
  auto deleted = (*admin)->delete_records(cuts, call_timeout);
  if (!deleted)
    return make_error(deleted.err().code,
                      "{} (the receipts are written; running the purge again completes it)",
                      deleted.err().message);
  for (const auto& d : *deleted)
    say(s, fmt::format("{}[{}]: log start is now offset {}", dlq, d.partition.value(),
                       d.offset.value()));
  return report;
}

}  // namespace sluice::pipeline
