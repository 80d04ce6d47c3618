// Value codecs for CQL cells.
#include "cql/values.h"

#include <bit>
#include <cstring>

#include <fmt/format.h>

namespace sluice::cql {
namespace {

std::string be(std::uint64_t v, int bytes) {
  std::string out;
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  return out;
}

std::uint64_t read_be(std::string_view cell) {
  std::uint64_t v = 0;
  for (unsigned char c : cell) v = (v << 8) | c;
  return v;
}

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
  std::int64_t days = millis >= 0 ? millis / 86400000 : (millis - 86399999) / 86400000;
  std::int64_t rest = millis - days * 86400000;
  return fmt::format("{}T{:02}:{:02}:{:02}.{:03}Z", civil_date(days), rest / 3600000,
                     rest / 60000 % 60, rest / 1000 % 60, rest % 1000);
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
  std::string hexed;
  for (unsigned char c : b) hexed += fmt::format("{:02x}", c);
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

std::string cell_text(const column_type& type, const std::optional<std::string>& cell) {
  if (!cell) return "null";
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
    default: {
      std::string out = "0x";
      for (unsigned char ch : c) out += fmt::format("{:02x}", ch);
      return out;
    }
  }
}

}  // namespace sluice::cql
