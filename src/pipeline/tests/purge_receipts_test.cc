// Purge receipts: delta lists, the receipt's JSON (no personal data), chunking under a
// size bound, the ledger verify builds from the receipts topic, and the dead-letter
// offsets below a log start that no receipt covers.
#include "pipeline/purge_receipts.h"

#include <gtest/gtest.h>

#include <set>

#include <nlohmann/json.hpp>

namespace sluice::pipeline {
namespace {

purge_range sample_range() {
  purge_range r;
  r.dlq_topic = "users.dlq";
  r.partition = 2;
  r.from_offset = 100;
  r.to_offset = 105;
  r.purged_at_ms = 1'767'225'600'123;  // 2026-01-01T00:00:00.123Z
  r.older_than = "7d";
  r.letters = 5;
  r.unattributed = 1;
  r.by_rule = {{"email.format", 3}, {"dob.range", 1}};
  r.sources["users.raw"][0] = {7, 9, 40};
  r.sources["users.raw"][3] = {1};
  return r;
}

std::map<std::string, std::optional<std::string>> as_topic(
    const std::vector<receipt_record>& records) {
  std::map<std::string, std::optional<std::string>> latest;
  for (const auto& r : records) latest[r.key] = r.value;
  return latest;
}

TEST(DeltaList, RoundTripsAndStartsAbsolute) {
  std::vector<std::int64_t> offsets = {5, 6, 10, 1'000'000};
  auto deltas = delta_encode(offsets);
  EXPECT_EQ(deltas, (std::vector<std::int64_t>{5, 1, 4, 999'990}));
  auto back = delta_decode(deltas);
  ASSERT_TRUE(back) << back.err().message;
  EXPECT_EQ(*back, offsets);
  EXPECT_TRUE(delta_encode({}).empty());
}

TEST(DeltaList, RefusesNegativeStartAndStepsBelowOne) {
  EXPECT_FALSE(delta_decode({-1, 2}));
  EXPECT_FALSE(delta_decode({3, 0}));
  EXPECT_FALSE(delta_decode({3, 2, -1}));
}

TEST(PurgeReceipt, KeyNamesTopicPartitionFirstOffsetAndChunk) {
  EXPECT_EQ(receipt_key("users.dlq", 2, 100, 0), "users.dlq/2/100/0");
  EXPECT_EQ(receipts_topic("users.dlq"), "users.dlq.purged");
}

TEST(PurgeReceipt, OneChunkHoldsTheRangeCountsAndPositionsAndNothingElse) {
  auto records = encode_receipts(sample_range());
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].key, "users.dlq/2/100/0");
  auto j = nlohmann::json::parse(records[0].value);
  std::set<std::string> fields;
  for (const auto& [name, v] : j.items()) fields.insert(name);
  EXPECT_EQ(fields,
            (std::set<std::string>{"receipt", "dlq_topic", "partition", "from_offset", "to_offset",
                                   "chunk", "chunks", "purged_at", "purged_at_ms", "older_than",
                                   "letters", "unattributed", "by_rule", "positions", "sources"}));
  EXPECT_EQ(j["purged_at"], "2026-01-01T00:00:00.123Z");
  EXPECT_EQ(j["positions"], 4);
  EXPECT_EQ(j["sources"][0]["offsets"], nlohmann::json({7, 2, 31}));

  auto decoded = decode_receipt(records[0].value);
  ASSERT_TRUE(decoded) << decoded.err().message;
  EXPECT_EQ(decoded->chunk, 0);
  EXPECT_EQ(decoded->chunks, 1);
  const auto& r = decoded->range;
  auto want = sample_range();
  EXPECT_EQ(r.dlq_topic, want.dlq_topic);
  EXPECT_EQ(r.partition, want.partition);
  EXPECT_EQ(r.from_offset, want.from_offset);
  EXPECT_EQ(r.to_offset, want.to_offset);
  EXPECT_EQ(r.purged_at_ms, want.purged_at_ms);
  EXPECT_EQ(r.older_than, want.older_than);
  EXPECT_EQ(r.letters, want.letters);
  EXPECT_EQ(r.unattributed, want.unattributed);
  EXPECT_EQ(r.by_rule, want.by_rule);
  EXPECT_EQ(r.sources, want.sources);
}

TEST(PurgeReceipt, ManyPositionsAreChunkedUnderTheBoundAndMergeBack) {
  auto range = sample_range();
  range.sources.clear();
  range.letters = 0;
  for (std::int64_t i = 0; i < 3000; ++i) {
    range.sources["users.raw"][static_cast<std::int32_t>(i % 3)].push_back(1'000'000 + i * 7);
    ++range.letters;
  }
  constexpr std::size_t bound = 2000;
  auto records = encode_receipts(range, bound);
  ASSERT_GT(records.size(), 5u);
  purge_ledger ledger = build_ledger("users.dlq", as_topic(records));
  for (std::size_t i = 0; i < records.size(); ++i) {
    EXPECT_LE(records[i].value.size(), bound) << "chunk " << i;
    EXPECT_EQ(records[i].key, receipt_key("users.dlq", 2, 100, static_cast<int>(i)));
    auto chunk = decode_receipt(records[i].value);
    ASSERT_TRUE(chunk) << chunk.err().message;
    EXPECT_EQ(chunk->chunks, static_cast<int>(records.size()));
    EXPECT_EQ(chunk->range.letters, 3000);  // the range's count, in every chunk
  }
  ASSERT_EQ(ledger.ranges[2].size(), 1u);
  EXPECT_EQ(ledger.ranges[2][0].sources, range.sources);
  EXPECT_EQ(ledger.incomplete, 0);
}

TEST(PurgeReceipt, DefaultBoundKeepsAMillionPositionsFarBelowOneMegabyte) {
  auto range = sample_range();
  range.sources.clear();
  for (std::int64_t i = 0; i < 1'000'000; ++i)
    range.sources["users.raw"][static_cast<std::int32_t>(i % 6)].push_back(i * 13);
  auto records = encode_receipts(range);
  for (const auto& r : records) EXPECT_LE(r.value.size(), receipt_max_bytes);
  auto ledger = build_ledger("users.dlq", as_topic(records));
  ASSERT_EQ(ledger.ranges[2].size(), 1u);
  EXPECT_EQ(ledger.ranges[2][0].sources, range.sources);
}

TEST(PurgeReceipt, UnreadableValuesAreRefused) {
  EXPECT_FALSE(decode_receipt("not json"));
  EXPECT_FALSE(decode_receipt(R"({"receipt": 1})"));
  auto j = nlohmann::json::parse(encode_receipts(sample_range())[0].value);
  j["chunk"] = 3;  // of 1
  EXPECT_FALSE(decode_receipt(j.dump()));
}

TEST(PurgeLedger, AMissingChunkLeavesTheRangeOutAndLeftoversOfAnEarlierRunAreIgnored) {
  auto range = sample_range();
  for (std::int64_t i = 0; i < 500; ++i) range.sources["users.raw"][1].push_back(i * 1000);
  auto first_run = encode_receipts(range, 1000);
  ASSERT_GT(first_run.size(), 2u);

  auto missing = as_topic(first_run);
  missing.erase(first_run[1].key);
  auto without = build_ledger("users.dlq", missing);
  EXPECT_TRUE(without.ranges.empty());
  EXPECT_EQ(without.incomplete, 1);

  // Run again with a nearer cut: fewer chunks overwrite the first keys; the first run's
  // later chunks stay in the compacted topic but belong to another run.
  auto rerun_range = sample_range();
  rerun_range.to_offset = 103;
  rerun_range.purged_at_ms += 60'000;
  auto topic = as_topic(first_run);
  for (const auto& r : encode_receipts(rerun_range, 1000)) topic[r.key] = r.value;
  auto ledger = build_ledger("users.dlq", topic);
  ASSERT_EQ(ledger.ranges[2].size(), 1u);
  EXPECT_EQ(ledger.ranges[2][0].to_offset, 103);
  EXPECT_EQ(ledger.ranges[2][0].sources, rerun_range.sources);
  EXPECT_EQ(ledger.incomplete, 0);
}

TEST(PurgeLedger, TombstonesOtherTopicsAndGarbageAreSkipped) {
  auto topic = as_topic(encode_receipts(sample_range()));
  auto other = sample_range();
  other.dlq_topic = "users.dlq.spark";
  for (const auto& r : encode_receipts(other)) topic[r.key] = r.value;
  topic["users.dlq/0/0/0"] = std::nullopt;  // a tombstone
  topic["junk"] = "{}";
  auto ledger = build_ledger("users.dlq", topic);
  EXPECT_EQ(ledger.ranges.size(), 1u);
  EXPECT_EQ(ledger.receipts, 3);
  EXPECT_EQ(ledger.unreadable, (std::vector<std::string>{"junk"}));
}

TEST(PurgeLedger, OffsetsBelowTheLogStartWithoutAReceiptAreNamed) {
  purge_ledger ledger;
  auto range = [](std::int32_t p, std::int64_t from, std::int64_t to) {
    purge_range r;
    r.partition = p;
    r.from_offset = from;
    r.to_offset = to;
    return r;
  };
  ledger.ranges[0] = {range(0, 0, 10), range(0, 10, 25)};  // purged twice: covered
  ledger.ranges[1] = {range(1, 5, 20)};                    // 0..4 went by retention
  ledger.ranges[2] = {range(2, 0, 50)};                    // not deleted yet
  std::map<std::int32_t, std::int64_t> log_start = {{0, 25}, {1, 30}, {2, 40}, {3, 0}};
  EXPECT_TRUE(range_deleted(ledger.ranges[1][0], log_start));
  EXPECT_FALSE(range_deleted(ledger.ranges[2][0], log_start));
  auto gaps = unreceipted_below_log_start(ledger, log_start);
  EXPECT_EQ(gaps, (std::vector<offset_gap>{{1, 0, 5}, {1, 20, 30}, {2, 0, 40}}));
}

}  // namespace
}  // namespace sluice::pipeline
