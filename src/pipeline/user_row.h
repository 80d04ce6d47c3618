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

/// INSERT of every column, all bound (no server-side clock: a replay writes the same row).
extern const char* const upsert_user_cql;

/// Where a record came from; stored with the row for lineage.
struct record_origin {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::int64_t timestamp_ms = -1;  // Kafka record timestamp; < 0 when unknown
};

/// The typed column values of a record that passed the rules, in upsert_user_cql's
/// order. Fails (parse) when a value that passed the rules still cannot be typed.
result<std::vector<cql::bound_value>> user_row(const model::user_record& record,
                                               const record_origin& origin,
                                               std::optional<int> schema_id, int contract_version);

}  // namespace sluice::pipeline
