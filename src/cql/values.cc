// Value codecs for CQL cells.
#include "cql/values.h"
#include "base/hex.h"

#include <bit>
#include <cstring>

#include <fmt/format.h>

#include "cql/bytes.h"
#include "cql/types.h"

namespace sluice::cql {
namespace {

using detail::be;
using detail::read_be;

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// "YYYY-MM-DD" for days since the epoch (H. Hinnant's civil_from_days).
std::string civil_date(std::int64_t days) {
  std::int64_t z = days + 719468;
  std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  std::int64_t doe = z - era * 146097;
  std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  std::int64_t mp = (5 * doy + 2) / 153;
  std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  return fmt::format("{:04}-{:02}-{:02}", yoe + era * 400 + (m <= 2), m, d);
}

std::string iso_timestamp(std::int64_t millis) {
  // Floor division without overflow: any 64-bit cell value is a valid input.
  std::int64_t days = millis / 86400000;
  std::int64_t rest = millis % 86400000;
  if (rest < 0) {
    rest += 86400000;
    --days;
  }
  return fmt::format("{}T{:02}:{:02}:{:02}.{:03}Z", civil_date(days), rest / 3600000,
                     rest / 60000 % 60, rest / 1000 % 60, rest % 1000);
}

std::string quote_json(std::string_view text) {
  std::string out = "\"";
  for (char ch : text) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (static_cast<unsigned char>(ch) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned char>(ch));
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

}  // namespace

bound_value text_value(std::string_view s) {
  return std::string(s);
}
bound_value int_value(std::int32_t v) {
  return be(static_cast<std::uint32_t>(v), 4);
}
bound_value bigint_value(std::int64_t v) {
  return be(static_cast<std::uint64_t>(v), 8);
}
bound_value boolean_value(bool v) {
  return std::string(1, v ? '\1' : '\0');
}
bound_value double_value(double v) {
  return be(std::bit_cast<std::uint64_t>(v), 8);
}
bound_value date_value(std::int32_t days) {
  return be(static_cast<std::uint32_t>(static_cast<std::int64_t>(days) + (1LL << 31)), 4);
}
bound_value timestamp_value(std::int64_t millis) {
  return bigint_value(millis);
}
bound_value blob_value(std::string_view bytes) {
  return std::string(bytes);
}

bound_value collection_value(const std::vector<bound_value>& elements) {
  std::string out = be(static_cast<std::uint32_t>(elements.size()), 4);
  for (const auto& e : elements) {
    out += be(e ? static_cast<std::uint32_t>(e->size()) : 0xFFFFFFFFu, 4);
    if (e) out += *e;
  }
  return out;
}

bound_value map_value(const std::vector<std::pair<bound_value, bound_value>>& entries) {
  std::vector<bound_value> flat;
  for (const auto& [k, v] : entries) {
    flat.push_back(k);
    flat.push_back(v);
  }
  auto out = collection_value(flat);
  // The count is of entries, not of keys plus values.
  auto count = be(static_cast<std::uint32_t>(entries.size()), 4);
  out->replace(0, 4, count);
  return out;
}

result<std::vector<std::optional<std::string>>> read_collection(std::string_view cell,
                                                                std::size_t items_per_entry) {
  auto take_int = [&cell](std::int32_t& out) {
    if (cell.size() < 4) return false;
    out = static_cast<std::int32_t>(static_cast<std::uint32_t>(read_be(cell.substr(0, 4))));
    cell.remove_prefix(4);
    return true;
  };
  std::int32_t n = 0;
  if (!take_int(n) || n < 0)
    return make_error(errc::protocol, "collection cell: bad element count");
  std::vector<std::optional<std::string>> out;
  for (std::size_t i = 0; i < static_cast<std::size_t>(n) * items_per_entry; ++i) {
    std::int32_t len = 0;
    if (!take_int(len)) return make_error(errc::protocol, "collection cell: element {} cut", i);
    if (len < 0) {
      out.emplace_back();
      continue;
    }
    if (static_cast<std::size_t>(len) > cell.size())
      return make_error(errc::protocol, "collection cell: element {} overruns the cell", i);
    out.emplace_back(std::string(cell.substr(0, static_cast<std::size_t>(len))));
    cell.remove_prefix(static_cast<std::size_t>(len));
  }
  if (!cell.empty()) return make_error(errc::protocol, "collection cell: trailing bytes");
  return out;
}

namespace {

/// Days since 1970-01-01 of a civil date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, std::int64_t m, std::int64_t d) {
  y -= m <= 2;
  std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  std::int64_t yoe = y - era * 400;
  std::int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/// Reads `width` digits at `at`; false if any is not a digit.
bool digits(std::string_view text, std::size_t at, std::size_t width, std::int64_t& out) {
  if (at + width > text.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + width; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

}  // namespace

result<std::int32_t> date_days_from_text(std::string_view text) {
  std::int64_t y = 0, m = 0, d = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' || !digits(text, 0, 4, y) ||
      !digits(text, 5, 2, m) || !digits(text, 8, 2, d))
    return make_error(errc::invalid_argument, "'{}' is not a YYYY-MM-DD date", text);
  if (m < 1 || m > 12)
    return make_error(errc::invalid_argument, "'{}' is not a date: there is no month {}", text, m);
  static constexpr int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  std::int64_t last = month_days[m - 1] + (m == 2 && leap ? 1 : 0);
  if (d < 1 || d > last)
    return make_error(errc::invalid_argument, "'{}' is not a date: {:04}-{:02} has {} days", text,
                      y, m, last);
  return static_cast<std::int32_t>(days_from_civil(y, m, d));
}

result<std::int64_t> timestamp_ms_from_text(std::string_view text) {
  auto bad = [&] {
    return make_error(errc::invalid_argument, "'{}' is not a YYYY-MM-DDTHH:MM:SS[.mmm]Z timestamp",
                      text);
  };
  if (text.size() < 20 || text.back() != 'Z' || (text[10] != 'T' && text[10] != ' ')) return bad();
  auto days = date_days_from_text(text.substr(0, 10));
  if (!days)
    return make_error(errc::invalid_argument, "'{}' is not a timestamp: {}", text,
                      days.err().message);
  std::int64_t h = 0, mi = 0, sec = 0, ms = 0;
  if (text[13] != ':' || text[16] != ':' || !digits(text, 11, 2, h) || !digits(text, 14, 2, mi) ||
      !digits(text, 17, 2, sec))
    return bad();
  if (h > 23 || mi > 59 || sec > 60)
    return make_error(errc::invalid_argument,
                      "'{}' is not a timestamp: {:02}:{:02}:{:02} is not a time of day", text, h,
                      mi, sec);
  auto rest = text.substr(19, text.size() - 20);  // between the seconds and the Z
  if (!rest.empty()) {
    if (rest[0] != '.' || rest.size() < 2 || rest.size() > 4) return bad();
    std::int64_t fraction = 0;
    if (!digits(rest, 1, rest.size() - 1, fraction)) return bad();
    for (auto n = rest.size() - 1; n < 3; ++n) fraction *= 10;
    ms = fraction;
  }
  return static_cast<std::int64_t>(*days) * 86400000 + h * 3600000 + mi * 60000 + sec * 1000 + ms;
}

result<bound_value> uuid_value(std::string_view text) {
  if (text.size() != 36) return make_error(errc::invalid_argument, "'{}' is not a UUID", text);
  std::string out;
  for (std::size_t i = 0; i < 36;) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return make_error(errc::invalid_argument, "'{}' is not a UUID", text);
      ++i;
      continue;
    }
    int hi = hex(text[i]), lo = hex(text[i + 1]);
    if (hi < 0 || lo < 0) return make_error(errc::invalid_argument, "'{}' is not a UUID", text);
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return bound_value(std::move(out));
}

std::string uuid_text(std::string_view b) {
  if (b.size() != 16) return "<bad uuid>";
  std::string hexed = lower_hex(b);
  return hexed.substr(0, 8) + "-" + hexed.substr(8, 4) + "-" + hexed.substr(12, 4) + "-" +
         hexed.substr(16, 4) + "-" + hexed.substr(20);
}

std::int64_t read_bigint(std::string_view cell) {
  return static_cast<std::int64_t>(read_be(cell));
}
std::int32_t read_int(std::string_view cell) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(read_be(cell)));
}
std::int32_t read_date_days(std::string_view cell) {
  return static_cast<std::int32_t>(static_cast<std::int64_t>(read_be(cell)) - (1LL << 31));
}

std::string inet_text(std::string_view bytes) {
  if (bytes.size() == 4) {
    return fmt::format("{}.{}.{}.{}", static_cast<unsigned char>(bytes[0]),
                       static_cast<unsigned char>(bytes[1]), static_cast<unsigned char>(bytes[2]),
                       static_cast<unsigned char>(bytes[3]));
  }
  if (bytes.size() == 16) {  // full form, no :: shortening
    std::string out;
    for (std::size_t i = 0; i < 16; i += 2) {
      if (i) out += ':';
      out += fmt::format("{:x}", static_cast<unsigned char>(bytes[i]) << 8 |
                                     static_cast<unsigned char>(bytes[i + 1]));
    }
    return out;
  }
  return "<bad inet>";
}

namespace {

/// An element of a collection, tuple, UDT or vector: text-like values JSON-quoted so the
/// rendering stays unambiguous.
std::string element_text(const column_type& t, const std::optional<std::string>& item) {
  auto text = cell_text(t, item);
  bool quoted =
      item && (t.id == type_id::varchar || t.id == type_id::ascii || t.id == type_id::uuid ||
               t.id == type_id::timeuuid || t.id == type_id::date || t.id == type_id::timestamp ||
               t.id == type_id::inet || t.id == type_id::time || t.id == type_id::duration);
  return quoted ? quote_json(text) : text;
}

std::string malformed(const column_type& type, std::string_view why) {
  return fmt::format("<malformed {}: {}>", type_name(type), why);
}

/// The types types.h adds: varint, decimal, float, smallint, tinyint, time, duration,
/// tuple, UDT and vector; nullopt for the others.
std::optional<std::string> newer_cell_text(const column_type& type, const std::string& c) {
  auto text_or_malformed = [&type](const result<std::string>& r) {
    return r ? *r : malformed(type, r.err().message);
  };
  switch (type.id) {
    case type_id::varint:
      return text_or_malformed(varint_text(c));
    case type_id::decimal:
      return text_or_malformed(decimal_text(c));
    case type_id::float_:
      if (c.size() != 4) return malformed(type, fmt::format("{} bytes", c.size()));
      return float_text(std::bit_cast<float>(static_cast<std::uint32_t>(read_be(c))));
    case type_id::smallint:
      if (c.size() != 2) return malformed(type, fmt::format("{} bytes", c.size()));
      return std::to_string(static_cast<std::int16_t>(read_be(c)));
    case type_id::tinyint:
      if (c.size() != 1) return malformed(type, fmt::format("{} bytes", c.size()));
      return std::to_string(static_cast<std::int8_t>(c[0]));
    case type_id::time:
      if (c.size() != 8) return malformed(type, fmt::format("{} bytes", c.size()));
      return time_text(read_bigint(c));
    case type_id::duration: {
      auto d = read_duration(c);
      return d ? duration_text(*d) : malformed(type, d.err().message);
    }
    case type_id::tuple:
    case type_id::udt: {
      bool udt = type.id == type_id::udt;
      if (udt && type.field_names.size() != type.params.size())
        return malformed(type, "field names do not match field types");
      auto items = read_tuple(c, type.params.size());
      if (!items) return malformed(type, items.err().message);
      std::string out = udt ? "{" : "(";
      for (std::size_t i = 0; i < type.params.size(); ++i) {
        if (!udt && i >= items->size()) break;
        if (i) out += ", ";
        if (udt) out += type.field_names[i] + ": ";
        out += element_text(type.params[i], i < items->size() ? (*items)[i] : std::nullopt);
      }
      return out + (udt ? "}" : ")");
    }
    case type_id::vector: {
      auto items = read_vector(type, c);
      if (!items) return malformed(type, items.err().message);
      std::string out = "[";
      for (std::size_t i = 0; i < items->size(); ++i)
        out += (i ? ", " : "") + element_text(type.params[0], (*items)[i]);
      return out + "]";
    }
    default:
      return std::nullopt;
  }
}

}  // namespace

std::string cell_text(const column_type& type, const std::optional<std::string>& cell) {
  if (!cell) return "null";
  if (auto text = newer_cell_text(type, *cell)) return *text;
  const auto& c = *cell;
  switch (type.id) {
    case type_id::ascii:
    case type_id::varchar:
      return c;
    case type_id::uuid:
    case type_id::timeuuid:
      return uuid_text(c);
    case type_id::int_:
      return c.size() == 4 ? std::to_string(read_int(c)) : "<bad int>";
    case type_id::bigint:
    case type_id::counter:
      return c.size() == 8 ? std::to_string(read_bigint(c)) : "<bad bigint>";
    case type_id::boolean:
      return !c.empty() && c[0] ? "true" : "false";
    case type_id::double_:
      return c.size() == 8 ? fmt::format("{}", std::bit_cast<double>(read_be(c))) : "<bad double>";
    case type_id::date:
      return c.size() == 4 ? civil_date(read_date_days(c)) : "<bad date>";
    case type_id::timestamp:
      return c.size() == 8 ? iso_timestamp(read_bigint(c)) : "<bad timestamp>";
    case type_id::inet:
      return inet_text(c);
    case type_id::list:
    case type_id::set:
    case type_id::map: {
      bool is_map = type.id == type_id::map;
      if (type.params.size() != (is_map ? 2u : 1u)) return "<bad collection type>";
      auto items = read_collection(c, is_map ? 2 : 1);
      if (!items) return "<bad collection>";
      auto element = element_text;
      std::string out = type.id == type_id::list ? "[" : "{";
      for (std::size_t i = 0; i < items->size(); i += is_map ? 2 : 1) {
        if (i) out += ", ";
        out += element(type.params[0], (*items)[i]);
        if (is_map) out += ": " + element(type.params[1], (*items)[i + 1]);
      }
      return out + (type.id == type_id::list ? "]" : "}");
    }
    default: {
      return "0x" + lower_hex(c);
    }
  }
}

}  // namespace sluice::cql
