// Codecs for varint, decimal, float, smallint, tinyint, time, duration, tuple, UDT and
// vector cells (see types.h; the class-name parser is in type_names.cc).
#include "cql/types.h"
#include "cql/bytes.h"

#include <bit>
#include <cctype>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace sluice::cql {
namespace {

using detail::be;
using detail::read_be;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// ---- big integers: magnitudes as little-endian base-2^32 limbs ----

using limbs = std::vector<std::uint32_t>;

constexpr std::uint32_t pow10[] = {1,      10,      100,      1000,      10000,
                                   100000, 1000000, 10000000, 100000000, 1000000000};

/// The magnitude of a string of decimal digits (the caller checked they are digits).
limbs magnitude_from_decimal(std::string_view digits) {
  limbs mag;
  std::size_t at = 0;
  while (at < digits.size()) {
    std::size_t len = at == 0 ? (digits.size() - 1) % 9 + 1 : 9;
    std::uint64_t carry = 0;
    for (std::size_t i = at; i < at + len; ++i) carry = carry * 10 + (digits[i] - '0');
    for (auto& limb : mag) {
      std::uint64_t v = static_cast<std::uint64_t>(limb) * pow10[len] + carry;
      limb = static_cast<std::uint32_t>(v);
      carry = v >> 32;
    }
    if (carry) mag.push_back(static_cast<std::uint32_t>(carry));
    at += len;
  }
  while (!mag.empty() && mag.back() == 0) mag.pop_back();
  return mag;
}

/// Big-endian bytes of a magnitude, without leading zero bytes ("" for zero).
std::string magnitude_bytes(const limbs& mag) {
  std::string out;
  for (std::size_t i = mag.size(); i-- > 0;) out += be(mag[i], 4);
  auto first = out.find_first_not_of('\0');
  return first == std::string::npos ? std::string() : out.substr(first);
}

/// Two's complement negation in place over the bytes' width.
void negate(std::string& bytes) {
  bool carry = true;
  for (std::size_t i = bytes.size(); i-- > 0;) {
    unsigned b = ~static_cast<unsigned char>(bytes[i]) & 0xFFu;
    if (carry) {
      b += 1;
      carry = b > 0xFF;
    }
    bytes[i] = static_cast<char>(b & 0xFF);
  }
}

/// The minimal two's complement encoding of +/- a magnitude.
std::string twos_complement(bool negative, std::string mag) {
  if (mag.empty()) return std::string(1, '\0');
  if (!negative) {
    if (static_cast<unsigned char>(mag[0]) & 0x80) mag.insert(0, 1, '\0');
    return mag;
  }
  negate(mag);
  if (!(static_cast<unsigned char>(mag[0]) & 0x80)) mag.insert(0, 1, '\xFF');
  return mag;
}

std::string magnitude_decimal(limbs mag) {
  while (!mag.empty() && mag.back() == 0) mag.pop_back();
  if (mag.empty()) return "0";
  std::vector<std::uint32_t> chunks;  // base 10^9, least significant first
  while (!mag.empty()) {
    std::uint64_t rem = 0;
    for (std::size_t i = mag.size(); i-- > 0;) {
      std::uint64_t cur = (rem << 32) | mag[i];
      mag[i] = static_cast<std::uint32_t>(cur / 1000000000u);
      rem = cur % 1000000000u;
    }
    chunks.push_back(static_cast<std::uint32_t>(rem));
    while (!mag.empty() && mag.back() == 0) mag.pop_back();
  }
  std::string out = std::to_string(chunks.back());
  for (std::size_t i = chunks.size() - 1; i-- > 0;) out += fmt::format("{:09}", chunks[i]);
  return out;
}

// Longer varints are refused for rendering: the conversion is quadratic in the length.
constexpr std::size_t max_varint_render_bytes = 16384;
constexpr std::size_t max_varint_digits = 40000;

/// Splits an optional sign from decimal digits; false if the rest is not all digits.
bool signed_digits(std::string_view text, bool& negative, std::string_view& digits) {
  negative = !text.empty() && text[0] == '-';
  digits = text.substr(!text.empty() && (text[0] == '-' || text[0] == '+') ? 1 : 0);
  if (digits.empty()) return false;
  for (char c : digits)
    if (!is_digit(c)) return false;
  return true;
}

// ---- vints ----

std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
std::int64_t unzigzag(std::uint64_t v) {
  return static_cast<std::int64_t>((v >> 1) ^ (~(v & 1) + 1));
}

// ---- duration text ----

constexpr std::int64_t nanos_per_us = 1000, nanos_per_ms = 1000000, nanos_per_s = 1000000000;
constexpr std::int64_t nanos_per_min = 60 * nanos_per_s, nanos_per_hour = 60 * nanos_per_min;

/// Adds count × unit to the duration's field for `unit`; false on overflow or an unknown
/// unit.
bool add_unit(duration& d, std::string_view unit, std::uint64_t count) {
  struct unit_def {
    std::string_view name;
    int field;  // 0 months, 1 days, 2 nanoseconds
    std::int64_t factor;
  };
  static constexpr unit_def units[] = {
      {"y", 0, 12},
      {"mo", 0, 1},
      {"w", 1, 7},
      {"d", 1, 1},
      {"h", 2, nanos_per_hour},
      {"m", 2, nanos_per_min},
      {"s", 2, nanos_per_s},
      {"ms", 2, nanos_per_ms},
      {"us", 2, nanos_per_us},
      {"\xC2\xB5s", 2, nanos_per_us},
      {"ns", 2, 1},
  };
  for (const auto& u : units) {
    if (u.name != unit) continue;
    if (count > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return false;
    std::int64_t add = 0;
    if (__builtin_mul_overflow(static_cast<std::int64_t>(count), u.factor, &add)) return false;
    if (u.field == 2) return !__builtin_add_overflow(d.nanoseconds, add, &d.nanoseconds);
    std::int32_t& field = u.field == 0 ? d.months : d.days;
    if (add > std::numeric_limits<std::int32_t>::max()) return false;
    std::int64_t sum = static_cast<std::int64_t>(field) + add;
    if (sum > std::numeric_limits<std::int32_t>::max()) return false;
    field = static_cast<std::int32_t>(sum);
    return true;
  }
  return false;
}

/// The rank of a unit for the order check (larger units first); -1 if unknown.
int unit_rank(std::string_view unit) {
  static constexpr std::string_view order[] = {"y", "mo", "w",  "d",  "h",
                                               "m", "s",  "ms", "us", "ns"};
  if (unit == "\xC2\xB5s") unit = "us";
  for (int i = 0; i < 10; ++i)
    if (order[i] == unit) return i;
  return -1;
}

result<duration> iso_duration(std::string_view text, std::string_view body) {
  auto bad = [&](std::string_view why) {
    return make_error(errc::invalid_argument, "'{}' is not an ISO 8601 duration: {}", text, why);
  };
  duration d;
  bool in_time = false, any = false;
  int components = 0;
  int last_rank = -1;
  std::size_t i = 0;
  while (i < body.size()) {
    if (body[i] == 'T') {
      if (in_time) return bad("a second 'T'");
      in_time = true;
      ++i;
      continue;
    }
    std::uint64_t n = 0;
    std::size_t start = i;
    while (i < body.size() && is_digit(body[i])) {
      if (n > (std::numeric_limits<std::uint64_t>::max() - 9) / 10) return bad("a number too big");
      n = n * 10 + static_cast<std::uint64_t>(body[i++] - '0');
    }
    if (i == start || i == body.size()) return bad("expected a number and a designator");
    char designator = body[i++];
    std::string_view unit;
    if (!in_time) {
      unit = designator == 'Y'   ? "y"
             : designator == 'M' ? "mo"
             : designator == 'W' ? "w"
             : designator == 'D' ? "d"
                                 : "";
    } else {
      unit = designator == 'H' ? "h" : designator == 'M' ? "m" : designator == 'S' ? "s" : "";
    }
    if (unit.empty()) return bad(fmt::format("unexpected designator '{}'", designator));
    int rank = unit_rank(unit);
    if (rank <= last_rank) return bad("designators out of order or repeated");
    last_rank = rank;
    if (!add_unit(d, unit, n)) return bad("out of range");
    any = true;
    ++components;
  }
  if (!any) return bad("no components");
  // Weeks stand alone ("P2W"), as in Cassandra.
  if (body.find('W') != std::string_view::npos && components > 1)
    return bad("weeks cannot be combined with other designators");
  return d;
}

}  // namespace

// ---- varint ----

bound_value varint_value(std::int64_t v) {
  std::uint64_t mag = v < 0 ? ~static_cast<std::uint64_t>(v) + 1 : static_cast<std::uint64_t>(v);
  limbs m = {static_cast<std::uint32_t>(mag), static_cast<std::uint32_t>(mag >> 32)};
  while (!m.empty() && m.back() == 0) m.pop_back();
  return twos_complement(v < 0, magnitude_bytes(m));
}

result<bound_value> varint_value(std::string_view text) {
  bool negative = false;
  std::string_view digits;
  if (!signed_digits(text, negative, digits))
    return make_error(errc::invalid_argument, "'{}' is not an integer", text);
  if (digits.size() > max_varint_digits)
    return make_error(errc::invalid_argument, "varint of {} digits is longer than {}",
                      digits.size(), max_varint_digits);
  return bound_value(twos_complement(negative, magnitude_bytes(magnitude_from_decimal(digits))));
}

result<std::string> varint_text(std::string_view cell) {
  if (cell.empty()) return make_error(errc::protocol, "varint cell is empty");
  if (cell.size() > max_varint_render_bytes)
    return make_error(errc::protocol, "varint of {} bytes is too long to render", cell.size());
  bool negative = static_cast<unsigned char>(cell[0]) & 0x80;
  std::string bytes(cell);
  if (negative) negate(bytes);
  limbs mag((bytes.size() + 3) / 4);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::size_t bit = 8 * (bytes.size() - 1 - i);
    mag[bit / 32] |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << (bit % 32);
  }
  return (negative ? "-" : "") + magnitude_decimal(std::move(mag));
}

// ---- decimal ----

result<bound_value> decimal_value(std::string_view text) {
  auto bad = [&] {
    return make_error(errc::invalid_argument, "'{}' is not a decimal number", text);
  };
  std::size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) negative = text[i++] == '-';
  std::string digits;
  std::int64_t fraction_digits = 0;
  bool point = false;
  for (; i < text.size() && (is_digit(text[i]) || text[i] == '.'); ++i) {
    if (text[i] == '.') {
      if (point) return bad();
      point = true;
    } else {
      digits.push_back(text[i]);
      fraction_digits += point;
    }
  }
  if (digits.empty() || digits.size() > max_varint_digits) return bad();
  std::int64_t exponent = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    bool exp_negative = false;
    if (++i < text.size() && (text[i] == '-' || text[i] == '+')) exp_negative = text[i++] == '-';
    std::size_t start = i;
    for (; i < text.size() && is_digit(text[i]); ++i) {
      exponent = exponent * 10 + (text[i] - '0');
      if (exponent > (1LL << 40)) return bad();
    }
    if (i == start) return bad();
    if (exp_negative) exponent = -exponent;
  }
  if (i != text.size()) return bad();
  std::int64_t scale = fraction_digits - exponent;
  if (scale < std::numeric_limits<std::int32_t>::min() ||
      scale > std::numeric_limits<std::int32_t>::max())
    return make_error(errc::invalid_argument, "'{}': decimal scale {} is out of range", text,
                      scale);
  auto unscaled = twos_complement(negative, magnitude_bytes(magnitude_from_decimal(digits)));
  return bound_value(be(static_cast<std::uint32_t>(static_cast<std::int32_t>(scale)), 4) +
                     unscaled);
}

result<std::string> decimal_text(std::string_view cell) {
  if (cell.size() < 5) return make_error(errc::protocol, "decimal cell of {} bytes", cell.size());
  auto scale = static_cast<std::int32_t>(static_cast<std::uint32_t>(read_be(cell.substr(0, 4))));
  auto unscaled = varint_text(cell.substr(4));
  if (!unscaled) return unscaled.err();
  std::string coefficient = *unscaled;
  std::string sign;
  if (coefficient[0] == '-') {
    sign = "-";
    coefficient.erase(0, 1);
  }
  auto len = static_cast<std::int64_t>(coefficient.size());
  std::int64_t adjusted = -static_cast<std::int64_t>(scale) + (len - 1);
  if (scale >= 0 && adjusted >= -6) {  // plain notation
    if (scale == 0) return sign + coefficient;
    if (len > scale)
      return sign + coefficient.substr(0, static_cast<std::size_t>(len - scale)) + "." +
             coefficient.substr(static_cast<std::size_t>(len - scale));
    return sign + "0." + std::string(static_cast<std::size_t>(scale - len), '0') + coefficient;
  }
  std::string out = sign + coefficient.substr(0, 1);
  if (len > 1) out += "." + coefficient.substr(1);
  return out + fmt::format("E{}{}", adjusted >= 0 ? "+" : "", adjusted);
}

// ---- fixed-size numbers ----

bound_value float_value(float v) {
  return be(std::bit_cast<std::uint32_t>(v), 4);
}
bound_value smallint_value(std::int16_t v) {
  return be(static_cast<std::uint16_t>(v), 2);
}
bound_value tinyint_value(std::int8_t v) {
  return be(static_cast<std::uint8_t>(v), 1);
}

std::string float_text(float v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  auto out = fmt::format("{}", v);
  if (out.find_first_not_of("-0123456789") == std::string::npos) out += ".0";
  return out;
}

// ---- time ----

result<bound_value> time_value(std::int64_t nanos) {
  if (nanos < 0 || nanos >= nanos_per_day)
    return make_error(errc::invalid_argument, "time {} ns is outside 0 to {}", nanos,
                      nanos_per_day - 1);
  return bound_value(be(static_cast<std::uint64_t>(nanos), 8));
}

result<std::int64_t> time_nanos_from_text(std::string_view text) {
  auto bad = [&] {
    return make_error(errc::invalid_argument,
                      "'{}' is not a HH:MM:SS[.fffffffff] time of day (00:00:00 to 23:59:59)",
                      text);
  };
  auto two = [&](std::size_t at, std::int64_t& out) {
    if (at + 2 > text.size() || !is_digit(text[at]) || !is_digit(text[at + 1])) return false;
    out = (text[at] - '0') * 10 + (text[at + 1] - '0');
    return true;
  };
  std::int64_t h = 0, m = 0, s = 0, fraction = 0;
  if (text.size() < 8 || text[2] != ':' || text[5] != ':' || !two(0, h) || !two(3, m) ||
      !two(6, s) || h > 23 || m > 59 || s > 59)
    return bad();
  if (text.size() > 8) {
    auto digits = text.substr(9);
    if (text[8] != '.' || digits.empty() || digits.size() > 9) return bad();
    for (char c : digits) {
      if (!is_digit(c)) return bad();
      fraction = fraction * 10 + (c - '0');
    }
    fraction *= pow10[9 - digits.size()];
  }
  return h * nanos_per_hour + m * nanos_per_min + s * nanos_per_s + fraction;
}

std::string time_text(std::int64_t nanos) {
  if (nanos < 0 || nanos >= nanos_per_day) return fmt::format("<malformed time: {} ns>", nanos);
  return fmt::format("{:02}:{:02}:{:02}.{:09}", nanos / nanos_per_hour, nanos / nanos_per_min % 60,
                     nanos / nanos_per_s % 60, nanos % nanos_per_s);
}

// ---- vints and duration ----

void write_unsigned_vint(std::string& out, std::uint64_t v) {
  int size = 9;
  for (int n = 1; n <= 8; ++n) {
    if (v < (1ULL << (7 * n))) {
      size = n;
      break;
    }
  }
  char bytes[9];
  std::uint64_t rest = v;
  for (int i = size - 1; i >= 0; --i) {
    bytes[i] = static_cast<char>(rest & 0xFF);
    rest >>= 8;
  }
  int extra = size - 1;
  bytes[0] = static_cast<char>(static_cast<unsigned char>(bytes[0]) | (~(0xFFu >> extra) & 0xFF));
  out.append(bytes, static_cast<std::size_t>(size));
}

bool read_unsigned_vint(std::string_view& in, std::uint64_t& out) {
  if (in.empty()) return false;
  auto first = static_cast<unsigned char>(in[0]);
  int extra = std::countl_one(first);
  if (in.size() < static_cast<std::size_t>(1 + extra)) return false;
  std::uint64_t v = first & (0xFFu >> extra);
  for (int i = 1; i <= extra; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  in.remove_prefix(static_cast<std::size_t>(1 + extra));
  out = v;
  return true;
}

bound_value duration_value(const duration& d) {
  std::string out;
  write_unsigned_vint(out, zigzag(d.months));
  write_unsigned_vint(out, zigzag(d.days));
  write_unsigned_vint(out, zigzag(d.nanoseconds));
  return out;
}

result<duration> read_duration(std::string_view cell) {
  std::uint64_t parts[3];
  std::string_view rest = cell;
  for (auto& part : parts) {
    if (!read_unsigned_vint(rest, part))
      return make_error(errc::protocol, "duration cell of {} bytes is cut short", cell.size());
  }
  if (!rest.empty()) return make_error(errc::protocol, "duration cell has trailing bytes");
  std::int64_t months = unzigzag(parts[0]), days = unzigzag(parts[1]);
  if (months != static_cast<std::int32_t>(months) || days != static_cast<std::int32_t>(days))
    return make_error(errc::protocol, "duration months/days out of 32-bit range");
  return duration{static_cast<std::int32_t>(months), static_cast<std::int32_t>(days),
                  unzigzag(parts[2])};
}

result<duration> duration_from_text(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return make_error(errc::invalid_argument,
                      "'{}' is not a duration like 1y2mo3w4d5h6m7s8ms9us10ns or P1Y2M3DT4H5M6S: {}",
                      text, why);
  };
  std::string_view body = text;
  bool negative = !body.empty() && body[0] == '-';
  if (negative) body.remove_prefix(1);
  if (body.empty()) return bad("empty");
  result<duration> parsed = duration{};
  if (body[0] == 'P') {
    parsed = iso_duration(text, body.substr(1));
    if (!parsed) return parsed.err();
  } else {
    duration d;
    int last_rank = -1;
    std::size_t i = 0;
    while (i < body.size()) {
      std::uint64_t n = 0;
      std::size_t start = i;
      while (i < body.size() && is_digit(body[i])) {
        if (n > (std::numeric_limits<std::uint64_t>::max() - 9) / 10) return bad("number too big");
        n = n * 10 + static_cast<std::uint64_t>(body[i++] - '0');
      }
      if (i == start) return bad("expected a number");
      std::string unit;
      while (i < body.size() && !is_digit(body[i])) {
        char c = body[i++];
        unit.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
      }
      int rank = unit_rank(unit);
      if (rank < 0) return bad(fmt::format("unknown unit '{}'", unit));
      if (rank <= last_rank) return bad(fmt::format("unit '{}' out of order or repeated", unit));
      last_rank = rank;
      if (!add_unit(d, unit, n)) return bad("out of range");
    }
    parsed = d;
  }
  if (negative) {
    parsed->months = -parsed->months;
    parsed->days = -parsed->days;
    parsed->nanoseconds = -parsed->nanoseconds;
  }
  return parsed;
}

std::string duration_text(const duration& d) {
  if (d.months == 0 && d.days == 0 && d.nanoseconds == 0) return "0s";
  std::string out = d.months < 0 || d.days < 0 || d.nanoseconds < 0 ? "-" : "";
  // Magnitudes as unsigned so that INT64_MIN nanoseconds do not overflow.
  auto magnitude = [](std::int64_t v) {
    return v < 0 ? ~static_cast<std::uint64_t>(v) + 1 : static_cast<std::uint64_t>(v);
  };
  auto append = [&out](std::uint64_t value, std::uint64_t unit, std::string_view suffix) {
    if (value < unit || value == 0) return value;
    out += fmt::format("{}{}", value / unit, suffix);
    return value % unit;
  };
  auto months = append(magnitude(d.months), 12, "y");
  append(months, 1, "mo");
  append(magnitude(d.days), 1, "d");
  auto rest = append(magnitude(d.nanoseconds), nanos_per_hour, "h");
  rest = append(rest, nanos_per_min, "m");
  rest = append(rest, nanos_per_s, "s");
  rest = append(rest, nanos_per_ms, "ms");
  rest = append(rest, nanos_per_us, "us");
  append(rest, 1, "ns");
  return out;
}

// ---- tuple / UDT ----

bound_value tuple_value(const std::vector<bound_value>& elements) {
  std::string out;
  for (const auto& e : elements) {
    out += be(e ? static_cast<std::uint32_t>(e->size()) : 0xFFFFFFFFu, 4);
    if (e) out += *e;
  }
  return out;
}

result<std::vector<std::optional<std::string>>> read_tuple(std::string_view cell,
                                                           std::size_t max_elements) {
  std::vector<std::optional<std::string>> out;
  while (!cell.empty()) {
    if (out.size() == max_elements)
      return make_error(errc::protocol, "cell holds more than the type's {} element(s)",
                        max_elements);
    if (cell.size() < 4)
      return make_error(errc::protocol, "element {} length is cut short", out.size() + 1);
    auto len = static_cast<std::int32_t>(static_cast<std::uint32_t>(read_be(cell.substr(0, 4))));
    cell.remove_prefix(4);
    if (len < 0) {
      out.emplace_back();
      continue;
    }
    if (static_cast<std::size_t>(len) > cell.size())
      return make_error(errc::protocol, "element {} of {} bytes overruns the cell", out.size() + 1,
                        len);
    out.emplace_back(std::string(cell.substr(0, static_cast<std::size_t>(len))));
    cell.remove_prefix(static_cast<std::size_t>(len));
  }
  return out;
}

// ---- vector ----

std::int64_t fixed_size(const column_type& type) {
  switch (type.id) {
    case type_id::boolean:
      return 1;
    case type_id::int_:
    case type_id::float_:
      return 4;
    case type_id::bigint:
    case type_id::double_:
    case type_id::timestamp:
      return 8;
    case type_id::uuid:
    case type_id::timeuuid:
      return 16;
    case type_id::vector: {
      if (type.params.size() != 1 || type.dimension < 1) return -1;
      auto element = fixed_size(type.params[0]);
      return element < 0 ? -1 : element * type.dimension;
    }
    default:
      return -1;
  }
}

result<bound_value> vector_value(const column_type& type,
                                 const std::vector<bound_value>& elements) {
  if (type.id != type_id::vector || type.params.size() != 1)
    return make_error(errc::invalid_argument, "{} is not a vector type", type_name(type));
  if (elements.size() != static_cast<std::size_t>(type.dimension))
    return make_error(errc::invalid_argument, "{} needs {} elements, got {}", type_name(type),
                      type.dimension, elements.size());
  auto size = fixed_size(type.params[0]);
  std::string out;
  for (std::size_t i = 0; i < elements.size(); ++i) {
    if (!elements[i])
      return make_error(errc::invalid_argument, "{} element {} is null", type_name(type), i + 1);
    if (size >= 0 && elements[i]->size() != static_cast<std::size_t>(size))
      return make_error(errc::invalid_argument, "{} element {} has {} bytes, not {}",
                        type_name(type), i + 1, elements[i]->size(), size);
    if (size < 0) write_unsigned_vint(out, elements[i]->size());
    out += *elements[i];
  }
  return bound_value(std::move(out));
}

result<std::vector<std::string>> read_vector(const column_type& type, std::string_view cell) {
  if (type.id != type_id::vector || type.params.size() != 1 || type.dimension < 1)
    return make_error(errc::protocol, "{} is not a vector type", type_name(type));
  auto n = static_cast<std::size_t>(type.dimension);
  auto size = fixed_size(type.params[0]);
  std::vector<std::string> out;
  if (size >= 0) {
    if (cell.size() != n * static_cast<std::size_t>(size))
      return make_error(errc::protocol, "{} cell has {} bytes, not {}", type_name(type),
                        cell.size(), n * static_cast<std::size_t>(size));
    for (std::size_t i = 0; i < n; ++i)
      out.emplace_back(
          cell.substr(i * static_cast<std::size_t>(size), static_cast<std::size_t>(size)));
    return out;
  }
  if (n > cell.size())  // every element takes at least its one-byte length
    return make_error(errc::protocol, "{} cell of {} bytes is too short", type_name(type),
                      cell.size());
  for (std::size_t i = 0; i < n; ++i) {
    std::uint64_t len = 0;
    if (!read_unsigned_vint(cell, len) || len > cell.size())
      return make_error(errc::protocol, "{} element {} overruns the cell", type_name(type), i + 1);
    out.emplace_back(cell.substr(0, static_cast<std::size_t>(len)));
    cell.remove_prefix(static_cast<std::size_t>(len));
  }
  if (!cell.empty())
    return make_error(errc::protocol, "{} cell has trailing bytes", type_name(type));
  return out;
}

}  // namespace sluice::cql
