// Routing one consumed record: decode (Avro or JSON), validate against the contract's
// rules, convert to the typed `users` row. The result is either the row to upsert or the
// dead-letter verdict (rule ids, fields, reason, schema id). Pure: no I/O here.
#pragma once

#include <chrono>
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

/// Routes `m`; `now` is the validation clock (e.g. "registered is not in the future").
/// Rule ids of every violation land in `violated` (for the per-rule metrics).
routed route_record(const kafka::message& m, value_decoder& decoder, const rules::rule_set& rules,
                    std::chrono::sys_seconds now, std::vector<std::string>& violated);

/// The dead-letter headers for a record: rule(s), field(s), reason, source
/// topic/partition/offset, contract version and (when known) the writer schema id.
std::vector<kafka::header> dead_letter_headers(const kafka::message& m, const dead_letter& why,
                                               int contract_version);

}  // namespace sluice::pipeline
