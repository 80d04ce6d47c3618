// Serializing bound values to the CQL wire format and reading cells back, for the types
// sluice's schema and tools use: text/ascii, uuid/timeuuid, int, bigint, boolean,
// double, date, timestamp, blob, inet, and list/set/map of those. The other CQL types
// (varint, decimal, float, smallint, tinyint, time, duration, tuple, UDT, vector) are in
// types.h; cell_text renders all of them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "cql/protocol.h"
#include "cql/types.h"

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
/// A list or set: the serialized elements (protocol v3+ layout: int count, int lengths).
bound_value collection_value(const std::vector<bound_value>& elements);
/// A map: the serialized keys and values, in order.
bound_value map_value(const std::vector<std::pair<bound_value, bound_value>>& entries);
/// The elements of a list/set cell (items_per_entry 1) or the keys and values of a map
/// cell, alternating (items_per_entry 2). Bounds-checked: a malformed cell is an error.
result<std::vector<std::optional<std::string>>> read_collection(std::string_view cell,
                                                                std::size_t items_per_entry = 1);
/// "YYYY-MM-DD" to days since the epoch, for date_value.
result<std::int32_t> date_days_from_text(std::string_view text);
/// "YYYY-MM-DDTHH:MM:SS[.m[m[m]]]Z" to milliseconds since the epoch, for timestamp_value.
result<std::int64_t> timestamp_ms_from_text(std::string_view text);
/// Canonical 8-4-4-4-12 text to the 16-byte form; error on anything else.
result<bound_value> uuid_value(std::string_view text);

std::string uuid_text(std::string_view sixteen_bytes);
std::int64_t read_bigint(std::string_view cell);
std::int32_t read_int(std::string_view cell);
std::int32_t read_date_days(std::string_view cell);

/// An inet cell (4 or 16 bytes) as dotted IPv4 or full-form IPv6 text.
std::string inet_text(std::string_view bytes);
/// A readable rendering of a cell of the given type (for `sluice cql` and tests):
/// collections as [a, b], {a, b} and {k: v}, tuples as (a, b), UDTs as {f: v}, vectors as
/// [1.0, 2.5], with text-like elements JSON-quoted; a malformed cell as "<malformed ...>".
std::string cell_text(const column_type& type, const std::optional<std::string>& cell);

}  // namespace sluice::cql
