// The dead-letter topic as operators see it: every dead letter with its reason,
// counted by rule, and replayed to the raw topic once the rule (or the data) is fixed.
// A dead letter re-sent after a processor crash has the same source position as the
// first copy; counts and replays take each source position once.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "base/result.h"
#include "kafka/config.h"

namespace sluice::pipeline {

/// One record of the dead-letter topic with the headers the processor wrote.
struct dead_letter_record {
  std::int32_t partition = 0;  // position on the dead-letter topic
  std::int64_t offset = 0;
  std::int64_t timestamp_ms = -1;
  std::optional<std::string> key;
  std::optional<std::string> value;  // the original bytes, untouched
  std::string rules;                 // comma separated rule ids
  std::string fields;
  std::string reason;
  std::string source_topic;
  std::string source_partition;
  std::string source_offset;
  std::string schema_id;
  std::string contract_version;
  bool first_of_its_source = true;  // false for a copy re-sent after a crash

  /// True when `rule` is one of this record's rule ids, or a prefix ending in '.' of
  /// one ("decode." matches every decode rule).
  bool has_rule(std::string_view rule) const;
};

struct dlq_settings {
  kafka::client_settings kafka;
  std::string dlq_topic = "users.dlq";
};

/// Visits every dead letter on the topic now, in offset order per partition.
result<void> scan_dead_letters(const dlq_settings& settings,
                               const std::function<void(const dead_letter_record&)>& visit);

struct dlq_counts {
  std::int64_t records = 0;                      // records on the topic
  std::int64_t distinct = 0;                     // distinct source positions
  std::map<std::string, std::int64_t> by_rule;   // each rule id of a record counts once
  std::map<std::string, std::int64_t> by_field;  // idem for field names
  std::map<std::string, std::int64_t> by_source_topic;
};

result<dlq_counts> count_dead_letters(const dlq_settings& settings);

struct replay_settings {
  dlq_settings dlq;
  std::string rule;  // required: which dead letters to send back ("*" for all)
  std::string target_topic = "users.raw";
  std::int64_t limit = 0;  // 0: no limit
  bool dry_run = false;
};

struct replay_report {
  std::int64_t matched = 0;  // distinct dead letters selected by the rule
  std::int64_t sent = 0;     // acknowledged by the target topic
  std::int64_t failed = 0;
};

/// Produces the original key and value of each selected dead letter to the target
/// topic (idempotent producer, acks=all) with a `sluice.replayed.from` header naming
/// the dead letter's position, so the processor judges it again.
result<replay_report> replay_dead_letters(const replay_settings& settings);

}  // namespace sluice::pipeline
