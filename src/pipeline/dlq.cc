// Scanning, counting and replaying the dead-letter topic (see dlq.h).
#include "pipeline/dlq.h"

#include <atomic>
#include <set>

#include "kafka/kafka.h"

namespace sluice::pipeline {
namespace {

std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    auto comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    if (comma > start) out.push_back(list.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

dead_letter_record to_record(const kafka::message& m) {
  dead_letter_record r;
  r.partition = m.partition().value();
  r.offset = m.offset().value();
  r.timestamp_ms = m.timestamp_ms();
  if (!m.key().empty()) r.key = std::string(m.key());
  if (m.has_value()) r.value = std::string(m.value());
  auto header = [&m](const char* name) { return m.header(name).value_or(""); };
  r.rules = header("sluice.rule");
  r.fields = header("sluice.field");
  r.reason = header("sluice.reason");
  r.source_topic = header("sluice.source.topic");
  r.source_partition = header("sluice.source.partition");
  r.source_offset = header("sluice.source.offset");
  r.schema_id = header("sluice.schema.id");
  r.contract_version = header("sluice.contract.version");
  return r;
}

}  // namespace

bool dead_letter_record::has_rule(std::string_view rule) const {
  if (rule == "*") return true;
  for (const auto& id : split_list(rules)) {
    if (id == rule) return true;
    if (!rule.empty() && rule.back() == '.' && id.starts_with(rule)) return true;
  }
  return false;
}

result<void> scan_dead_letters(const dlq_settings& s,
                               const std::function<void(const dead_letter_record&)>& visit) {
  std::set<std::tuple<std::string, std::string, std::string>> seen;
  return kafka::read_topic_to_end(s.kafka, kafka::topic(s.dlq_topic), [&](const kafka::message& m) {
    auto r = to_record(m);
    r.first_of_its_source =
        r.source_offset.empty() ||
        seen.insert({r.source_topic, r.source_partition, r.source_offset}).second;
    visit(r);
  });
}

result<dlq_counts> count_dead_letters(const dlq_settings& s) {
  dlq_counts counts;
  auto scanned = scan_dead_letters(s, [&](const dead_letter_record& r) {
    ++counts.records;
    if (!r.first_of_its_source) return;
    ++counts.distinct;
    ++counts.by_source_topic[r.source_topic.empty() ? "?" : r.source_topic];
    for (const auto& rule : split_list(r.rules)) ++counts.by_rule[rule];
    for (const auto& field : split_list(r.fields)) ++counts.by_field[field];
  });
  if (!scanned) return scanned.err();
  return counts;
}

result<replay_report> replay_dead_letters(const replay_settings& s) {
  if (s.rule.empty())
    return make_error(errc::invalid_argument, "replay needs a rule id (or '*' for all)");
  replay_report report;
  std::vector<dead_letter_record> selected;
  auto scanned = scan_dead_letters(s.dlq, [&](const dead_letter_record& r) {
    if (!r.first_of_its_source || !r.has_rule(s.rule)) return;
    if (s.limit > 0 && static_cast<std::int64_t>(selected.size()) >= s.limit) return;
    selected.push_back(r);
  });
  if (!scanned) return scanned.err();
  report.matched = static_cast<std::int64_t>(selected.size());
  if (s.dry_run || selected.empty()) return report;

  kafka::producer_settings ps;
  ps.client = s.dlq.kafka;
  ps.client.client_id = "sluice-dlq-replay";
  std::atomic<std::int64_t> acked{0}, failed{0};
  std::string first_error;
  auto producer = kafka::producer::create(ps, [&](const kafka::delivery_report& d) {
    if (d.failure) {
      if (failed.fetch_add(1) == 0) first_error = d.failure->message;
    } else {
      acked.fetch_add(1);
    }
  });
  if (!producer) return producer.err();
  for (const auto& r : selected) {
    std::vector<kafka::header> headers = {
        {"sluice.replayed.from", fmt::format("{}/{}/{}", s.dlq.dlq_topic, r.partition, r.offset)},
        {"sluice.replayed.rule", r.rules}};
    // Views into `r`, which outlives the produce call (value_or would return a temporary).
    std::string_view key = r.key ? std::string_view(*r.key) : std::string_view();
    std::string_view value = r.value ? std::string_view(*r.value) : std::string_view();
    kafka::outgoing_record out{kafka::topic(s.target_topic), std::nullopt, key, value, headers};
    out.tombstone = !r.value.has_value();  // a null value stays null
    if (auto sent = (*producer)->produce_waiting(out); !sent) return sent.err();
  }
  if (auto flushed = (*producer)->flush(std::chrono::seconds(60)); !flushed) return flushed.err();
  report.sent = acked.load();
  report.failed = failed.load();
  if (report.failed > 0)
    return make_error(errc::unavailable,
                      "{} of {} replayed records were not acknowledged by {}: {}", report.failed,
                      report.matched, s.target_topic, first_error);
  return report;
}

}  // namespace sluice::pipeline
