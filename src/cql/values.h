// Serializing bound values to the CQL wire format and reading cells back, for the types
// sluice's schema and tools use: text/ascii, uuid/timeuuid, int, bigint, boolean,
// double, date, timestamp, blob.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "cql/protocol.h"

namespace sluice::cql {

bound_value text_value(std::string_view s);
bound_value int_value(std::int32_t v);
bound_value bigint_value(std::int64_t v);
bound_value boolean_value(bool v);
bound_value double_value(double v);
/// Days since 1970-01-01 (Cassandra stores date as an unsigned day count centred on 2^31).
bound_value date_value(std::int32_t days_since_epoch);
/// Milliseconds since the epoch.
bound_value timestamp_value(std::int64_t millis);
bound_value blob_value(std::string_view bytes);
/// Canonical 8-4-4-4-12 text to the 16-byte form; error on anything else.
result<bound_value> uuid_value(std::string_view text);

std::string uuid_text(std::string_view sixteen_bytes);
std::int64_t read_bigint(std::string_view cell);
std::int32_t read_int(std::string_view cell);
std::int32_t read_date_days(std::string_view cell);

/// A readable rendering of a cell of the given type (for `sluice cql` and tests).
/// An inet cell (4 or 16 bytes) as dotted IPv4 or full-form IPv6 text.
std::string inet_text(std::string_view bytes);
std::string cell_text(const column_type& type, const std::optional<std::string>& cell);

}  // namespace sluice::cql
