// Purge receipts: what `sluice dlq purge` writes to the compacted topic `<dlq>.purged`
// before it deletes dead letters, and what `verify` reads back to account the records of
// purged letters as "purged" rather than missing. A receipt names a purged offset range of
// one dead-letter partition, when and why it was purged, its letters counted by rule, and
// the source positions of those letters (per source partition, sorted, delta-encoded),
// split into chunks that each stay far below Kafka's 1 MB; never a key, value or reason.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "kafka/admin.h"
#include "kafka/config.h"

namespace sluice::pipeline {

/// Source positions: source topic -> partition -> distinct offsets, ascending.
using source_positions = std::map<std::string, std::map<std::int32_t, std::vector<std::int64_t>>>;

/// One purged range [from_offset, to_offset) of one dead-letter partition.
struct purge_range {
  std::string dlq_topic;
  std::int32_t partition = 0;
  std::int64_t from_offset = 0;
  std::int64_t to_offset = 0;  // the cut: the first offset kept
  std::int64_t purged_at_ms = 0;
  std::string older_than;                       // as the operator gave it ("7d")
  std::int64_t letters = 0;                     // records in the range (re-sent copies included)
  std::int64_t unattributed = 0;                // letters without a readable source position
  std::map<std::string, std::int64_t> by_rule;  // each rule id of a letter counts once
  source_positions sources;
};

/// One record for the receipts topic.
struct receipt_record {
  std::string key;
  std::string value;  // JSON
};

/// "<dlq>.purged".
std::string receipts_topic(const std::string& dlq_topic);

/// "<dlq>/<partition>/<from_offset>/<chunk>": the same for a purge run again after a
/// crash between writing its receipts and deleting, so the second run overwrites them.
std::string receipt_key(const std::string& dlq_topic, std::int32_t partition,
                        std::int64_t from_offset, int chunk);

/// The default bound of a receipt's value (Kafka's default record limit is 1 MB).
constexpr std::size_t receipt_max_bytes = 256 * 1024;

/// The receipts of one range: chunks 0..n-1, each value at most `max_bytes` (at least one
/// position per chunk however small the bound). Every chunk repeats the range's facts
/// (offsets, time, counts by rule) and holds its share of the source positions.
std::vector<receipt_record> encode_receipts(const purge_range& range,
                                            std::size_t max_bytes = receipt_max_bytes);

/// One decoded chunk: `range.sources` holds this chunk's share only.
struct receipt_chunk {
  purge_range range;
  int chunk = 0;
  int chunks = 1;
};

result<receipt_chunk> decode_receipt(std::string_view value);

/// Sorted distinct offsets as the first one and the differences to the next.
std::vector<std::int64_t> delta_encode(const std::vector<std::int64_t>& ascending);
/// The inverse; errors for a negative first value or a difference below 1.
result<std::vector<std::int64_t>> delta_decode(const std::vector<std::int64_t>& deltas);

/// The complete ranges of one dead-letter topic's receipts: a range counts once every chunk
/// of one run (same cut, time and chunk count as its chunk 0) is there; chunks left over
/// from an earlier run of the same key are ignored.
struct purge_ledger {
  std::map<std::int32_t, std::vector<purge_range>> ranges;  // by dead-letter partition
  std::int64_t receipts = 0;                                // records read
  std::int64_t incomplete = 0;                              // ranges missing a chunk
  std::vector<std::string> unreadable;                      // keys of values not understood
};

/// Builds the ledger from the latest value of each key of the receipts topic (a null
/// value, a tombstone, removes the key); receipts of other dead-letter topics are skipped.
purge_ledger build_ledger(const std::string& dlq_topic,
                          const std::map<std::string, std::optional<std::string>>& latest);

/// Offsets [from, to) of one dead-letter partition.
struct offset_gap {
  std::int32_t partition = 0;
  std::int64_t from = 0;
  std::int64_t to = 0;
  bool operator==(const offset_gap&) const = default;
};

/// Whether a range's letters are gone: the range lies below its partition's log start.
bool range_deleted(const purge_range& range, const std::map<std::int32_t, std::int64_t>& log_start);

/// Per partition whose log start is above 0, the offsets below it that no deleted range
/// covers: letters removed without a receipt (by retention, or by hand).
std::vector<offset_gap> unreceipted_below_log_start(
    const purge_ledger& ledger, const std::map<std::int32_t, std::int64_t>& log_start);

/// Reads `<dlq>.purged` (an empty ledger when that topic does not exist).
result<purge_ledger> read_purge_ledger(const kafka::client_settings& settings, kafka::admin& admin,
                                       const std::string& dlq_topic);

}  // namespace sluice::pipeline
