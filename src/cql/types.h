// Codecs for the CQL types beyond values.h's basics: varint, decimal, float, smallint,
// tinyint, time, duration, tuple, UDT and vector (Cassandra 5), plus the parser of the
// custom-type class names protocol v4 uses for duration and vector
// ("org.apache.cassandra.db.marshal.VectorType(org.apache.cassandra.db.marshal.FloatType,3)").
// Every decoder is bounds-checked: a malformed cell is an error, never an over-read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "cql/protocol.h"

namespace sluice::cql {

/// A class name from a custom option (id 0x0000) as the column_type it denotes: Cassandra's
/// marshal classes map to their native ids (DurationType to duration, VectorType(T,N) to
/// the synthetic type_id::vector, FrozenType/ReversedType unwrapped); a class sluice does
/// not know stays custom with `custom_class` set. Malformed text, or nesting deeper than
/// 32, is an error.
result<column_type> parse_type_class(std::string_view class_name);

/// The CQL spelling of a type for messages: "smallint", "tuple<int, text>", "vector<float, 3>".
std::string type_name(const column_type& type);

// --- varint: arbitrary-precision two's complement, big-endian, minimal length ---
bound_value varint_value(std::int64_t v);
/// Decimal digits with an optional sign, any length ("-100000000000000000000000000000").
result<bound_value> varint_value(std::string_view decimal_text);
/// The cell as decimal digits; error on an empty cell.
result<std::string> varint_text(std::string_view cell);

// --- decimal: [int] scale, then the unscaled value as a varint ---
/// "-123.4500" (scale 4), "1E+40" (scale -40), "12", "1.5e-3".
result<bound_value> decimal_value(std::string_view text);
/// The cell as text the way Cassandra (Java BigDecimal) and Python's Decimal print it:
/// plain when the scale is >= 0 and the exponent >= -6, otherwise "1.23E+40".
result<std::string> decimal_text(std::string_view cell);

// --- fixed-size numbers ---
bound_value float_value(float v);
bound_value smallint_value(std::int16_t v);
bound_value tinyint_value(std::int8_t v);
/// Shortest text that reads back as the same float, always with a '.' or exponent
/// ("1.0", "2.5", "1e+20"); "NaN", "Infinity", "-Infinity".
std::string float_text(float v);

// --- time: [long] nanoseconds since midnight, 0 to 86399999999999 ---
inline constexpr std::int64_t nanos_per_day = 86400LL * 1000000000LL;
/// Errors when `nanos` is outside a day.
result<bound_value> time_value(std::int64_t nanos);
/// "HH:MM:SS[.f...]" with up to 9 fraction digits.
result<std::int64_t> time_nanos_from_text(std::string_view text);
/// "HH:MM:SS.fffffffff".
std::string time_text(std::int64_t nanos);

// --- duration: three zigzag-encoded signed vints ---
struct duration {
  std::int32_t months = 0;
  std::int32_t days = 0;
  std::int64_t nanoseconds = 0;
  bool operator==(const duration&) const = default;
};
bound_value duration_value(const duration& d);
/// Cassandra's forms: "1y2mo3w4d5h6m7s8ms9us10ns" (units in any case, "µs" too, an
/// optional leading '-') and ISO 8601 "P1Y2M3DT4H5M6S" / "P2W"; error names the text.
result<duration> duration_from_text(std::string_view text);
result<duration> read_duration(std::string_view cell);
/// Cassandra's own rendering: "1y2mo3d4h5m6s", "-10ms"; "0s" for the zero duration.
std::string duration_text(const duration& d);

// --- unsigned vint (Cassandra's VIntCoding): leading 1 bits of the first byte count the
// bytes that follow ---
void write_unsigned_vint(std::string& out, std::uint64_t v);
/// Reads one from the front of `in` and drops it; false if `in` is cut short.
bool read_unsigned_vint(std::string_view& in, std::uint64_t& out);

// --- tuple and UDT: each element as [bytes], null allowed ---
bound_value tuple_value(const std::vector<bound_value>& elements);
/// Up to `max_elements` elements; fewer is fine (a UDT written before fields were added
/// lacks the trailing ones). Error on a cut element, on more elements, or trailing bytes.
result<std::vector<std::optional<std::string>>> read_tuple(std::string_view cell,
                                                           std::size_t max_elements);

// --- vector<T, N> (Cassandra 5) ---
/// The serialized size of every value of `type`, or -1 when values vary in size.
std::int64_t fixed_size(const column_type& type);
/// N elements: concatenated when the element type is fixed-size, each after an unsigned
/// vint length otherwise. Error on a wrong count, a null element or a wrong-sized one.
result<bound_value> vector_value(const column_type& type, const std::vector<bound_value>& elements);
result<std::vector<std::string>> read_vector(const column_type& type, std::string_view cell);

}  // namespace sluice::cql
