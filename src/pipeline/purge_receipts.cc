// Encoding, decoding and collecting purge receipts (see purge_receipts.h).
#include "pipeline/purge_receipts.h"

#include <algorithm>
#include <ctime>
#include <set>
#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "kafka/kafka.h"

namespace sluice::pipeline {
namespace {

using json = nlohmann::json;

constexpr int receipt_format = 1;

std::string utc_text(std::int64_t ms) {
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03}Z", text, ms % 1000);
}

json range_facts(const purge_range& r, int chunk, int chunks, std::int64_t positions) {
  return {{"receipt", receipt_format},
          {"dlq_topic", r.dlq_topic},
          {"partition", r.partition},
          {"from_offset", r.from_offset},
          {"to_offset", r.to_offset},
          {"chunk", chunk},
          {"chunks", chunks},
          {"purged_at", utc_text(r.purged_at_ms)},
          {"purged_at_ms", r.purged_at_ms},
          {"older_than", r.older_than},
          {"letters", r.letters},
          {"unattributed", r.unattributed},
          {"by_rule", r.by_rule},
          {"positions", positions},
          {"sources", json::array()}};
}

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::size_t digits(std::int64_t v) {
  return fmt::formatted_size("{}", v);
}

/// One source partition's share of a chunk (absolute offsets).
struct chunk_part {
  std::string topic;
  std::int32_t partition = 0;
  std::vector<std::int64_t> offsets;
};

}  // namespace

std::string receipts_topic(const std::string& dlq_topic) {
  return dlq_topic + ".purged";
}

std::string receipt_key(const std::string& dlq_topic, std::int32_t partition,
                        std::int64_t from_offset, int chunk) {
  return fmt::format("{}/{}/{}/{}", dlq_topic, partition, from_offset, chunk);
}

std::vector<std::int64_t> delta_encode(const std::vector<std::int64_t>& ascending) {
  std::vector<std::int64_t> out;
  out.reserve(ascending.size());
  for (std::size_t i = 0; i < ascending.size(); ++i)
    out.push_back(i == 0 ? ascending[0] : ascending[i] - ascending[i - 1]);
  return out;
}

result<std::vector<std::int64_t>> delta_decode(const std::vector<std::int64_t>& deltas) {
  std::vector<std::int64_t> out;
  out.reserve(deltas.size());
  for (std::size_t i = 0; i < deltas.size(); ++i) {
    if (i == 0 ? deltas[i] < 0 : deltas[i] < 1)
      return make_error(errc::parse, "delta list: value {} at index {} is not {}", deltas[i], i,
                        i == 0 ? "an offset" : "an ascending step");
    out.push_back(i == 0 ? deltas[i] : out.back() + deltas[i]);
  }
  return out;
}

std::vector<receipt_record> encode_receipts(const purge_range& r, std::size_t max_bytes) {
  // What every chunk repeats, with room for the widest chunk numbers and position count.
  const std::size_t fixed = dump(range_facts(r, 999999, 999999, r.letters + 1)).size();
  const std::size_t budget = max_bytes > fixed ? max_bytes - fixed : 0;
  std::vector<std::vector<chunk_part>> chunks(1);
  std::size_t used = 0;
  for (const auto& [topic, partitions] : r.sources) {
    for (const auto& [partition, offsets] : partitions) {
      // {"offsets":[],"partition":P,"topic":"T"} and the comma before the next one.
      const std::size_t opening =
          dump(json{{"topic", topic}, {"partition", partition}, {"offsets", json::array()}})
              .size() +
          1;
      bool open = false;
      for (auto offset : offsets) {
        auto cost = digits(open ? offset - chunks.back().back().offsets.back() : offset) + 1;
        if (!open) cost += opening;
        if (used > 0 && used + cost > budget) {  // the next chunk restarts the delta list
          chunks.emplace_back();
          used = 0;
          open = false;
          cost = digits(offset) + 1 + opening;
        }
        if (!open) chunks.back().push_back({topic, partition, {}});
        open = true;
        chunks.back().back().offsets.push_back(offset);
        used += cost;
      }
    }
  }
  std::vector<receipt_record> out;
  const int count = static_cast<int>(chunks.size());
  for (int i = 0; i < count; ++i) {
    std::int64_t positions = 0;
    auto sources = json::array();
    for (const auto& part : chunks[static_cast<std::size_t>(i)]) {
      positions += static_cast<std::int64_t>(part.offsets.size());
      sources.push_back({{"topic", part.topic},
                         {"partition", part.partition},
                         {"offsets", delta_encode(part.offsets)}});
    }
    auto value = range_facts(r, i, count, positions);
    value["sources"] = std::move(sources);
    out.push_back({receipt_key(r.dlq_topic, r.partition, r.from_offset, i), dump(value)});
  }
  return out;
}

result<receipt_chunk> decode_receipt(std::string_view value) {
  try {
    auto j = json::parse(value);
    if (j.at("receipt").get<int>() != receipt_format)
      return make_error(errc::parse, "purge receipt of format {}, expected {}",
                        j.at("receipt").dump(), receipt_format);
    receipt_chunk c;
    auto& r = c.range;
    r.dlq_topic = j.at("dlq_topic").get<std::string>();
    r.partition = j.at("partition").get<std::int32_t>();
    r.from_offset = j.at("from_offset").get<std::int64_t>();
    r.to_offset = j.at("to_offset").get<std::int64_t>();
    r.purged_at_ms = j.at("purged_at_ms").get<std::int64_t>();
    r.older_than = j.at("older_than").get<std::string>();
    r.letters = j.at("letters").get<std::int64_t>();
    r.unattributed = j.at("unattributed").get<std::int64_t>();
    r.by_rule = j.at("by_rule").get<std::map<std::string, std::int64_t>>();
    c.chunk = j.at("chunk").get<int>();
    c.chunks = j.at("chunks").get<int>();
    if (c.chunks < 1 || c.chunk < 0 || c.chunk >= c.chunks || r.from_offset < 0 ||
        r.to_offset < r.from_offset)
      return make_error(errc::parse, "purge receipt of {}[{}]: chunk {} of {}, offsets {}..{}",
                        r.dlq_topic, r.partition, c.chunk, c.chunks, r.from_offset, r.to_offset);
    for (const auto& source : j.at("sources")) {
      auto offsets = delta_decode(source.at("offsets").get<std::vector<std::int64_t>>());
      if (!offsets) return offsets.err();
      auto& into = r.sources[source.at("topic").get<std::string>()]
                            [source.at("partition").get<std::int32_t>()];
      into.insert(into.end(), offsets->begin(), offsets->end());
    }
    return c;
  } catch (const std::exception& e) {
    return make_error(errc::parse, "not a purge receipt: {}", e.what());
  }
}

purge_ledger build_ledger(const std::string& dlq_topic,
                          const std::map<std::string, std::optional<std::string>>& latest) {
  purge_ledger ledger;
  std::map<std::pair<std::int32_t, std::int64_t>, std::vector<receipt_chunk>> by_range;
  for (const auto& [key, value] : latest) {
    if (!value) continue;
    ++ledger.receipts;
    auto chunk = decode_receipt(*value);
    if (!chunk || receipt_key(chunk->range.dlq_topic, chunk->range.partition,
                              chunk->range.from_offset, chunk->chunk) != key) {
      ledger.unreadable.push_back(key);
      continue;
    }
    if (chunk->range.dlq_topic != dlq_topic) continue;
    by_range[{chunk->range.partition, chunk->range.from_offset}].push_back(std::move(*chunk));
  }
  for (auto& [where, chunks] : by_range) {
    auto first = std::find_if(chunks.begin(), chunks.end(), [](auto& c) { return c.chunk == 0; });
    if (first == chunks.end()) {
      ++ledger.incomplete;
      continue;
    }
    auto run = std::tuple(first->range.to_offset, first->range.purged_at_ms, first->chunks);
    purge_range merged = first->range;
    merged.sources.clear();
    std::set<int> present;
    for (const auto& c : chunks) {
      if (std::tuple(c.range.to_offset, c.range.purged_at_ms, c.chunks) != run) continue;
      present.insert(c.chunk);
      for (const auto& [topic, partitions] : c.range.sources)
        for (const auto& [partition, offsets] : partitions) {
          auto& into = merged.sources[topic][partition];
          into.insert(into.end(), offsets.begin(), offsets.end());
        }
    }
    if (static_cast<int>(present.size()) != first->chunks) {
      ++ledger.incomplete;
      continue;
    }
    for (auto& [topic, partitions] : merged.sources)
      for (auto& [partition, offsets] : partitions) {
        std::sort(offsets.begin(), offsets.end());
        offsets.erase(std::unique(offsets.begin(), offsets.end()), offsets.end());
      }
    ledger.ranges[where.first].push_back(std::move(merged));
  }
  return ledger;
}

bool range_deleted(const purge_range& range,
                   const std::map<std::int32_t, std::int64_t>& log_start) {
  auto start = log_start.find(range.partition);
  return start != log_start.end() && range.to_offset <= start->second;
}

std::vector<offset_gap> unreceipted_below_log_start(
    const purge_ledger& ledger, const std::map<std::int32_t, std::int64_t>& log_start) {
  std::vector<offset_gap> gaps;
  for (const auto& [partition, start] : log_start) {
    if (start <= 0) continue;
    std::vector<std::pair<std::int64_t, std::int64_t>> covered;
    if (auto ranges = ledger.ranges.find(partition); ranges != ledger.ranges.end())
      for (const auto& r : ranges->second)
        if (range_deleted(r, log_start)) covered.emplace_back(r.from_offset, r.to_offset);
    std::sort(covered.begin(), covered.end());
    std::int64_t next = 0;  // the first offset not yet covered
    for (const auto& [from, to] : covered) {
      if (from > next) gaps.push_back({partition, next, from});
      next = std::max(next, to);
    }
    if (next < start) gaps.push_back({partition, next, start});
  }
  return gaps;
}

result<purge_ledger> read_purge_ledger(const kafka::client_settings& settings, kafka::admin& admin,
                                       const std::string& dlq_topic) {
  kafka::topic receipts(receipts_topic(dlq_topic));
  auto partitions = admin.partition_count(receipts, std::chrono::seconds(15));
  if (!partitions) {
    if (partitions.err().code == errc::not_found) return purge_ledger{};
    return partitions.err();
  }
  std::map<std::string, std::optional<std::string>> latest;
  auto read = kafka::read_topic_to_end(settings, receipts, [&](const kafka::message& m) {
    auto& slot = latest[std::string(m.key())];
    if (m.has_value()) {
      slot = std::string(m.value());
    } else {
      slot.reset();
    }
  });
  if (!read) return read.err();
  return build_ledger(dlq_topic, latest);
}

}  // namespace sluice::pipeline
