// The accounting behind `sluice verify` (see verify.h): snapshot, wait for the group,
// then three reads (the dead-letter topic and its purge receipts, the `users` rows, the
// raw records of the snapshot) and a pass over the raw records that places each one.
#include "pipeline/verify.h"

#include <algorithm>

#include <atomic>
#include <fstream>
#include <limits>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "kafka/kafka.h"
#include "model/user.h"
#include "pipeline/decode.h"
#include "registry/client.h"

namespace sluice::pipeline {
namespace {

using clock = std::chrono::steady_clock;

/// A source position as one number: partition in the top 20 bits, offset below.
std::uint64_t position_key(std::int32_t partition, std::int64_t offset) {
  return (static_cast<std::uint64_t>(partition) << 44) | static_cast<std::uint64_t>(offset);
}

bool in_snapshot(const std::map<std::int32_t, kafka::offset_span>& spans, std::int32_t partition,
                 std::int64_t offset) {
  auto it = spans.find(partition);
  return it != spans.end() && offset >= it->second.begin && offset < it->second.end;
}

/// Where the row of an id came from.
struct row_origin {
  bool same_topic = false;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::int64_t produced_ms = -1;
};

struct dead_letter_index {
  std::unordered_set<std::uint64_t> positions;  // in the snapshot
  std::map<std::string, std::int64_t> by_rule;
  std::int64_t duplicates = 0;
};

void say(const verify_settings& s, const std::string& line) {
  if (s.progress) s.progress(line);
}

/// Waits until the group's committed offset reached each span's end; returns the
/// records still past the committed offsets when it gave up.
result<std::int64_t> wait_for_group(kafka::admin& admin, const verify_settings& s,
                                    const std::map<std::int32_t, kafka::offset_span>& spans) {
  auto deadline = clock::now() + s.timeout;
  auto next_report = clock::now() + std::chrono::seconds(2);
  while (true) {
    auto committed =
        admin.committed_offsets(s.group_id, kafka::topic(s.source_topic), std::chrono::seconds(15));
    if (!committed) return committed.err();
    std::int64_t behind = 0;
    for (const auto& c : *committed) {
      auto span = spans.find(c.partition.value());
      if (span == spans.end() || span->second.end <= span->second.begin) continue;
      auto at = std::max(c.offset.value(), span->second.begin);
      behind += std::max<std::int64_t>(0, span->second.end - at);
    }
    if (behind == 0 || clock::now() >= deadline) return behind;
    if (clock::now() >= next_report) {
      say(s, fmt::format("waiting for group {} to commit past the snapshot: {} offset(s) to go",
                         s.group_id, behind));
      next_report = clock::now() + std::chrono::seconds(2);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

result<dead_letter_index> read_dead_letters(
    const verify_settings& s, const std::map<std::int32_t, kafka::offset_span>& spans) {
  dead_letter_index index;
  auto read =
      kafka::read_topic_to_end(s.kafka, kafka::topic(s.dlq_topic), [&](const kafka::message& m) {
        if (m.header("sluice.source.topic").value_or("") != s.source_topic) return;
        std::int32_t partition = 0;
        std::int64_t offset = 0;
        try {
          partition = std::stoi(m.header("sluice.source.partition").value_or("-1"));
          offset = std::stoll(m.header("sluice.source.offset").value_or("-1"));
        } catch (const std::exception&) {
          return;  // not a letter of ours: no position to account for
        }
        if (!in_snapshot(spans, partition, offset)) return;
        if (!index.positions.insert(position_key(partition, offset)).second) {
          ++index.duplicates;
          return;
        }
        ++index.by_rule[m.header("sluice.rule").value_or("?")];
      });
  if (!read) return read.err();
  return index;
}

/// The source positions of purged letters, from the receipts of ranges that lie below
/// their letter partition's log start (so the letters are gone), and the offsets below a
/// log start that no receipt covers. Read after the letters: a purge writes its receipts
/// before it deletes, so a letter deleted since is named by a receipt read now.
struct purge_index {
  std::unordered_set<std::uint64_t> positions;  // in the snapshot
  std::vector<offset_gap> removed_without_receipt;
  std::int64_t receipts = 0;
};

result<purge_index> read_purges(const verify_settings& s, kafka::admin& admin,
                                const std::map<std::int32_t, kafka::offset_span>& spans) {
  auto extent = kafka::current_extent(admin, kafka::topic(s.dlq_topic));
  if (!extent) return extent.err();
  std::map<std::int32_t, std::int64_t> log_start;
  for (const auto& [p, span] : *extent) log_start[p] = span.begin;
  auto ledger = read_purge_ledger(s.kafka, admin, s.dlq_topic);
  if (!ledger) return ledger.err();
  purge_index index;
  index.receipts = ledger->receipts;
  for (const auto& [p, ranges] : ledger->ranges) {
    for (const auto& range : ranges) {
      auto source = range.sources.find(s.source_topic);
      if (!range_deleted(range, log_start) || source == range.sources.end()) continue;
      for (const auto& [partition, offsets] : source->second)
        for (auto offset : offsets)
          if (in_snapshot(spans, partition, offset))
            index.positions.insert(position_key(partition, offset));
    }
  }
  index.removed_without_receipt = unreceipted_below_log_start(*ledger, log_start);
  return index;
}

using row_map = std::unordered_map<std::string, row_origin>;

/// The `users` rows' ids and lineage. The table is scanned in token ranges, several at
/// once: one paged scan leaves Cassandra's read threads idle between pages.
result<row_map> read_rows(const verify_settings& s) {
  auto config = s.cassandra;
  config.keyspace = s.keyspace;
  config.timeout = std::chrono::seconds(60);
  auto session = cql::session::connect(config);
  if (!session) return session.err();
  constexpr int ranges = 64, workers = 8;
  std::atomic<int> next_range{0};
  std::vector<std::vector<std::pair<std::string, row_origin>>> found(workers);
  std::vector<std::optional<error>> failures(workers);
  auto scan = [&](int worker) {
    // Murmur3 tokens lie in (-2^63, 2^63 - 1]: range i is (lower(i), lower(i + 1)].
    auto lower = [](int i) {
      return i == ranges
                 ? std::numeric_limits<std::int64_t>::max()
                 : static_cast<std::int64_t>(
                       static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::min()) +
                       static_cast<std::uint64_t>(i) * (~std::uint64_t{0} / ranges));
    };
    for (int r = next_range++; r < ranges && !failures[worker]; r = next_range++) {
      cql::query_params params{cql::consistency::local_quorum,
                               {cql::bigint_value(lower(r)), cql::bigint_value(lower(r + 1))},
                               5000,
                               {}};
      while (true) {
        auto page = (*session)->query_page(
            "SELECT id, source_topic, source_partition, source_offset, produced_at FROM users "
            "WHERE token(id) > ? AND token(id) <= ?",
            params);
        if (!page) {
          failures[worker] = page.err();
          return;
        }
        for (const auto& row : page->rows) {
          if (!row[0]) continue;
          row_origin origin;
          origin.same_topic = row[1] && *row[1] == s.source_topic;
          if (row[2]) origin.partition = cql::read_int(*row[2]);
          origin.offset = row[3] ? cql::read_bigint(*row[3]) : -1;
          if (row[4]) origin.produced_ms = cql::read_bigint(*row[4]);
          found[worker].emplace_back(*row[0], origin);
        }
        if (!page->paging_state) break;
        params.paging_state = page->paging_state;
      }
    }
  };
  {
    std::vector<std::jthread> threads;
    for (int w = 0; w < workers; ++w) threads.emplace_back(scan, w);
  }
  for (auto& f : failures)
    if (f) return *f;
  std::size_t total = 0;
  for (const auto& f : found) total += f.size();
  row_map rows;
  rows.reserve(total);
  for (auto& f : found)
    for (auto& [id, origin] : f) rows.emplace(std::move(id), origin);
  return rows;
}

/// The 16-byte id of a raw record: its key when that is a UUID (the producer's contract),
/// else the id inside its value (decoded as the processor would).
class id_reader {
 public:
  explicit id_reader(const verify_settings& s)
      : registry_(registry::client_settings{.url = s.registry_url}),
        decoder_([this](int id) { return ask_registry(registry_, id); }, std::size_t{64} << 20) {}

  result<std::optional<std::string>> id_of(const kafka::message& m) {
    if (auto key = cql::uuid_value(m.key()); key && *key) return std::optional(**key);
    auto d = decoder_.decode(m.has_value() ? std::optional(m.value()) : std::nullopt);
    if (d.unavailable)
      return make_error(errc::unavailable, "reading a record's id: {}", *d.unavailable);
    if (d.failure || !d.record.get(model::field::id)) return std::optional<std::string>();
    auto id = cql::uuid_value(*d.record.get(model::field::id));
    if (!id || !*id) return std::optional<std::string>();
    return std::optional(**id);
  }

 private:
  registry::client registry_;
  value_decoder decoder_;
};

/// What the accounting needs of a raw record.
struct raw_record {
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::int64_t timestamp_ms = -1;
  std::string id;  // 16 bytes; empty when the record has no readable id
};

result<std::vector<raw_record>> read_raw(const verify_settings& s,
                                         const std::map<std::int32_t, kafka::offset_span>& spans) {
  std::vector<raw_record> records;
  std::int64_t expected = 0;
  for (const auto& [p, span] : spans) expected += std::max<std::int64_t>(0, span.end - span.begin);
  records.reserve(static_cast<std::size_t>(expected));
  id_reader ids(s);
  std::optional<error> failure;
  auto read = kafka::read_topic_range(
      s.kafka, kafka::topic(s.source_topic), spans, [&](const kafka::message& m) {
        if (failure) return;
        auto id = ids.id_of(m);
        if (!id) {
          failure = id.err();
          return;
        }
        records.push_back(
            {m.partition().value(), m.offset().value(), m.timestamp_ms(), id->value_or("")});
      });
  if (!read) return read.err();
  if (failure) return *failure;
  return records;
}

/// Whether `row` holds a later version than the record at (partition, offset, ts):
/// within one partition by offset; across partitions by the write timestamp's order.
bool row_is_later(const row_origin& row, std::int32_t partition, std::int64_t offset,
                  std::int64_t timestamp_ms) {
  if (row.same_topic && row.partition == partition) return row.offset > offset;
  return row.produced_ms > timestamp_ms;
}

}  // namespace

result<std::map<std::int32_t, kafka::offset_span>> manifest_spans(const std::string& path,
                                                                  std::string& topic) {
  std::ifstream in(path);
  if (!in) return make_error(errc::not_found, "manifest {}: cannot be read", path);
  try {
    auto j = nlohmann::json::parse(in);
    topic = j.at("topic").get<std::string>();
    std::map<std::int32_t, kafka::offset_span> spans;
    for (const auto& [partition, range] : j.at("partitions").items()) {
      auto first = range.at("first_offset").get<std::int64_t>();
      auto last = range.at("last_offset").get<std::int64_t>();
      if (first < 0 || last < first)
        return make_error(errc::invalid_argument, "manifest {}: partition {} has offsets {}..{}",
                          path, partition, first, last);
      spans[std::stoi(partition)] = {first, last + 1};
    }
    return spans;
  } catch (const std::exception& e) {
    return make_error(errc::invalid_argument, "manifest {}: not a sluice produce manifest: {}",
                      path, e.what());
  }
}

result<verify_report> verify(const verify_settings& settings) {
  auto s = settings;
  verify_report report;
  auto admin = kafka::admin::create(s.kafka);
  if (!admin) return admin.err();
  if (!s.manifest_path.empty()) {
    auto spans = manifest_spans(s.manifest_path, s.source_topic);
    if (!spans) return spans.err();
    report.snapshot = std::move(*spans);
  } else {
    auto spans = kafka::current_extent(**admin, kafka::topic(s.source_topic));
    if (!spans) return spans.err();
    report.snapshot = std::move(*spans);
  }
  auto behind = wait_for_group(**admin, s, report.snapshot);
  if (!behind) return behind.err();
  report.not_yet_processed = *behind;
  result<row_map> rows = make_error(errc::internal, "not read");

  // The three reads run at once: each waits mostly on a server.
  auto started = clock::now();
  auto seconds = [&] { return std::chrono::duration<double>(clock::now() - started).count(); };
  result<dead_letter_index> letters = make_error(errc::internal, "not read");
  result<purge_index> purges = make_error(errc::internal, "not read");
  result<std::vector<raw_record>> raw = make_error(errc::internal, "not read");
  double letters_took = 0, raw_took = 0;
  {
    std::jthread letter_reader([&] {
      letters = read_dead_letters(s, report.snapshot);
      if (letters) purges = read_purges(s, **admin, report.snapshot);
      letters_took = seconds();
    });
    std::jthread raw_reader([&] {
      raw = read_raw(s, report.snapshot);
      raw_took = seconds();
    });
    auto rows_read = read_rows(s);
    rows = std::move(rows_read);
  }
  if (!letters) return letters.err();
  if (!purges) return purges.err();
  if (!raw) return raw.err();
  if (!rows) return rows.err();
  say(s, fmt::format("read {} raw record(s) in {:.1f} s, {} row(s) and {} dead letter(s) in "
                     "{:.1f} s and {:.1f} s",
                     raw->size(), raw_took, rows->size(), letters->positions.size(), seconds(),
                     letters_took));
  if (purges->receipts > 0)
    say(s, fmt::format("read {} purge receipt(s) of {}: {} purged letter position(s) in the "
                       "snapshot",
                       purges->receipts, receipts_topic(s.dlq_topic), purges->positions.size()));

  // Rows that name a position in the snapshot, by position: each must be the record there,
  // of the same id (a row naming another id's record does not store that record).
  struct named_position {
    std::vector<std::string> ids;  // of the rows naming it (one, unless rows are wrong)
    std::int32_t partition = 0;
    std::int64_t offset = 0;
    std::string matched;  // the id of the record there, once found; "*" for an unreadable one
  };
  std::unordered_map<std::uint64_t, named_position> row_positions;
  for (const auto& [id, origin] : *rows) {
    if (!origin.same_topic || !in_snapshot(report.snapshot, origin.partition, origin.offset))
      continue;
    auto& named = row_positions[position_key(origin.partition, origin.offset)];
    named.partition = origin.partition;
    named.offset = origin.offset;
    named.ids.push_back(id);
  }
  std::unordered_set<std::uint64_t> letters_seen;
  auto note = [&](std::vector<unaccounted_record>& list, const raw_record& r) {
    if (list.size() < s.examples)
      list.push_back({r.partition, r.offset, r.id.empty() ? "" : cql::uuid_text(r.id)});
  };
  for (const auto& r : *raw) {
    ++report.produced;
    auto position = position_key(r.partition, r.offset);
    bool lettered = letters->positions.count(position) != 0;
    if (lettered) letters_seen.insert(position);
    bool purged = !lettered && purges->positions.count(position) != 0;
    auto row = row_positions.find(position);
    // A record whose id verify cannot read (not a UUID) is taken at the row's word.
    if (row != row_positions.end() &&
        (r.id.empty() || std::find(row->second.ids.begin(), row->second.ids.end(), r.id) !=
                             row->second.ids.end())) {
      row->second.matched = r.id.empty() ? row->second.ids.front() : r.id;
      if (lettered || purged) {
        ++report.in_both;
        note(report.in_both_records, r);
      } else {
        ++report.stored;
      }
      continue;
    }
    if (lettered) {
      ++report.dead_lettered;
      continue;
    }
    if (purged) {  // dead-lettered, then purged
      ++report.purged;
      continue;
    }
    if (!r.id.empty()) {
      auto found = rows->find(r.id);
      if (found != rows->end() &&
          row_is_later(found->second, r.partition, r.offset, r.timestamp_ms)) {
        ++report.superseded;
        continue;
      }
    }
    ++report.missing;
    note(report.missing_records, r);
  }
  for (const auto& [position, named] : row_positions) {
    // At most one row holds the record at a position; any other names it wrongly.
    for (const auto& id : named.ids) {
      if (id == named.matched) continue;
      ++report.unexpected_rows;
      if (report.unexpected_row_examples.size() < s.examples)
        report.unexpected_row_examples.push_back(
            {named.partition, named.offset, cql::uuid_text(id)});
    }
  }
  report.unexpected_letters =
      static_cast<std::int64_t>(letters->positions.size() - letters_seen.size());
  report.dead_by_rule = std::move(letters->by_rule);
  report.duplicate_dead_letters = letters->duplicates;
  report.purge_receipts = purges->receipts;
  report.letters_removed_without_receipt = std::move(purges->removed_without_receipt);
  return report;
}

}  // namespace sluice::pipeline
