// Routing one consumed record: decode (Avro or JSON), validate against the contract's
// rules, convert to the typed `users` row. The result is either the row to upsert or the
// dead-letter verdict (rule ids, fields, reason, schema id). Pure: no I/O here.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "cql/protocol.h"
#include "kafka/consumer.h"
#include "pipeline/decode.h"
#include "privacy/privacy.h"
#include "rules/rules.h"

namespace sluice::pipeline {

struct dead_letter {
  std::string rules, fields, reason;
  std::optional<int> schema_id;
};

/// The record cannot be judged now because a dependency failed (the registry): hold it
/// and route it again later. Never a verdict on the data.
struct retry_later {
  std::string reason;
};

using routed = std::variant<std::vector<cql::bound_value>, dead_letter, retry_later>;

/// What routing needs of a consumed record (a view: the bytes stay the caller's).
struct record_view {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::int64_t timestamp_ms = -1;
  std::optional<std::string_view> value;  // nullopt: a null value
};
record_view view_of(const kafka::message& m);

/// The clock the rules judge a record by (`today`/`now` in contract/rules.yaml): the
/// record's own Kafka timestamp, so that a verdict is a pure function of the record and a
/// replay, a retry or another processor gives the same one. A record without a timestamp
/// (older than message format v1) is judged at `fallback`.
std::chrono::sys_seconds validation_clock(const record_view& m, std::chrono::sys_seconds fallback);

/// Routes `m`; `now` is the validation clock (validation_clock(m, ...) in the processor).
/// Rule ids of every violation land in `violated` (for the per-rule metrics). With
/// `pseudonyms`, a valid record's chosen fields are pseudonymised after the rules judged
/// the raw values (a dead letter keeps the original bytes).
routed route_record(const record_view& m, value_decoder& decoder, const rules::rule_set& rules,
                    std::chrono::sys_seconds now, std::vector<std::string>& violated,
                    const privacy::pseudonymiser* pseudonyms = nullptr);

/// The dead-letter headers for a record: rule(s), field(s), reason, source
/// topic/partition/offset, contract version and (when known) the writer schema id.
std::vector<kafka::header> dead_letter_headers(const record_view& m, const dead_letter& why,
                                               int contract_version);

/// The schema id of a value in the Confluent wire format (magic byte 0), if it is one.
std::optional<int> schema_id_of(std::string_view value);

/// Makes a dead letter fit the dead-letter topic's size limit (`max_bytes`, its
/// max.message.bytes): when key, value and headers with Kafka's per-record overhead
/// exceed it, the value is cut to fit and headers say so: `sluice.truncated` = true,
/// `sluice.original.bytes` and `sluice.original.sha256` (hex) of the whole original value,
/// so the letter still names the record and proves which bytes it had. True when cut.
bool fit_dead_letter(std::string_view key, std::string& value, std::vector<kafka::header>& headers,
                     std::size_t max_bytes);

}  // namespace sluice::pipeline
