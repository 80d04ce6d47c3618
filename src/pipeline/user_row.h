// The `users` row the processor writes: the upsert statement and a valid record's typed
// column values. Shared by the processor and the raw-insert benchmark, so both write
// exactly the same rows.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "cql/cql.h"
#include "model/user.h"

namespace sluice::pipeline {

/// INSERT of every column, all bound, with the write timestamp bound too (USING
/// TIMESTAMP, the last marker): no server-side clock anywhere, so a replay, a retry or
/// another processor writes the very same cells with the very same write time.
extern const char* const upsert_user_cql;

/// The Cassandra write timestamp (microseconds) of the row a record becomes: its Kafka
/// timestamp in microseconds plus its offset modulo 1,000,000. Within one partition (the
/// key is the user id, so all versions of an id share one) it grows strictly with the
/// offset whenever timestamps do not go backwards, so the later record of an id wins over
/// an earlier one whatever order their writes reach Cassandra, even within one
/// millisecond. The price: a write time up to one second ahead of the record's timestamp,
/// and one exception, two versions less than a second apart whose offsets straddle a
/// multiple of 1,000,000. A missing timestamp counts as 0. See README, "Which version wins".
std::int64_t write_timestamp_us(std::int64_t timestamp_ms, std::int64_t offset);

/// Where a record came from; stored with the row for lineage.
struct record_origin {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::int64_t timestamp_ms = -1;  // Kafka record timestamp; < 0 when unknown
};

/// The typed column values of a record that passed the rules, in upsert_user_cql's
/// order, the write timestamp last. `pseudonym_key_id` names the key whose pseudonyms
/// replaced some of the record's fields (an empty cell when none did). Fails (parse) when a
/// value that passed the rules still cannot be typed.
result<std::vector<cql::bound_value>> user_row(
    const model::user_record& record, const record_origin& origin, std::optional<int> schema_id,
    int contract_version, std::optional<std::string_view> pseudonym_key_id = std::nullopt);

}  // namespace sluice::pipeline
