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
#include "rules/rules.h"

namespace sluice::pipeline {

struct dead_letter {
  std::string rules, fields, reason;
  std::optional<int> schema_id;
};

using routed = std::variant<std::vector<cql::bound_value>, dead_letter>;

/// What routing needs of a consumed record (a view: the bytes stay the caller's).
struct record_view {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::int64_t timestamp_ms = -1;
  std::optional<std::string_view> value;  // nullopt: a null value
};
record_view view_of(const kafka::message& m);

/// Routes `m`; `now` is the validation clock (e.g. "registered is not in the future").
/// Rule ids of every violation land in `violated` (for the per-rule metrics).
routed route_record(const record_view& m, value_decoder& decoder, const rules::rule_set& rules,
                    std::chrono::sys_seconds now, std::vector<std::string>& violated);

/// The dead-letter headers for a record: rule(s), field(s), reason, source
/// topic/partition/offset, contract version and (when known) the writer schema id.
std::vector<kafka::header> dead_letter_headers(const record_view& m, const dead_letter& why,
                                               int contract_version);

}  // namespace sluice::pipeline
