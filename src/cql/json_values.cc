// json_to_value / json_to_values (see json_values.h).
#include "cql/json_values.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/ranges.h>

#include "base/error.h"
#include "cql/types.h"
#include "cql/values.h"

namespace sluice::cql {
namespace {

result<bound_value> expected(const nlohmann::json& value, std::string_view what) {
  return make_error(errc::invalid_argument, "expected {}, got {}", what, value.dump());
}

result<bound_value> from_hex(const nlohmann::json& value) {
  if (!value.is_string()) return expected(value, "a \"0x...\" hex string");
  const auto& text = value.get_ref<const std::string&>();
  if (text.size() % 2 != 0 || text.rfind("0x", 0) != 0) return expected(value, "\"0x...\" hex");
  std::string bytes;
  for (std::size_t i = 2; i < text.size(); i += 2) {
    auto nibble = [](char c) {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    int hi = nibble(text[i]), lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) return expected(value, "\"0x...\" hex");
    bytes.push_back(static_cast<char>(hi * 16 + lo));
  }
  return blob_value(bytes);
}

result<bound_value> from_inet(const nlohmann::json& value) {
  if (!value.is_string()) return expected(value, "an IP address string");
  const auto& text = value.get_ref<const std::string&>();
  unsigned char buffer[16];
  if (::inet_pton(AF_INET, text.c_str(), buffer) == 1)
    return bound_value(std::string(reinterpret_cast<char*>(buffer), 4));
  if (::inet_pton(AF_INET6, text.c_str(), buffer) == 1)
    return bound_value(std::string(reinterpret_cast<char*>(buffer), 16));
  return expected(value, "an IPv4 or IPv6 address");
}

result<bound_value> from_collection(const column_type& type, const nlohmann::json& value) {
  if (type.id == type_id::map) {
    if (type.params.size() != 2) return make_error(errc::protocol, "map type without 2 params");
    std::vector<std::pair<bound_value, bound_value>> entries;
    auto add = [&](const nlohmann::json& k, const nlohmann::json& v) -> result<void> {
      auto key = json_to_value(type.params[0], k);
      if (!key) return key.err();
      auto val = json_to_value(type.params[1], v);
      if (!val) return val.err();
      entries.emplace_back(std::move(*key), std::move(*val));
      return {};
    };
    if (value.is_object()) {
      for (const auto& [k, v] : value.items()) {
        if (auto r = add(nlohmann::json(k), v); !r) return r.err();
      }
    } else if (value.is_array()) {
      for (const auto& pair : value) {
        if (!pair.is_array() || pair.size() != 2) return expected(value, "[[key, value], ...]");
        if (auto r = add(pair[0], pair[1]); !r) return r.err();
      }
    } else {
      return expected(value, "an object or [[key, value], ...]");
    }
    return map_value(entries);
  }
  if (type.params.size() != 1) return make_error(errc::protocol, "list/set type without param");
  if (!value.is_array()) return expected(value, "an array");
  std::vector<bound_value> elements;
  for (const auto& e : value) {
    auto cell = json_to_value(type.params[0], e);
    if (!cell) return cell.err();
    elements.push_back(std::move(*cell));
  }
  return collection_value(elements);
}

/// An exact decimal text for varint/decimal: strings as given, JSON integers exactly,
/// other JSON numbers as their shortest round-trip text.
std::optional<std::string> number_text(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_unsigned()) return std::to_string(value.get<std::uint64_t>());
  if (value.is_number_integer()) return std::to_string(value.get<std::int64_t>());
  if (value.is_number_float()) return value.dump();
  return std::nullopt;
}

result<bound_value> from_varint(const nlohmann::json& value) {
  if (value.is_number_float())
    return expected(value, "an integer (a JSON number beyond 64 bits loses digits: use a string)");
  auto text = number_text(value);
  if (!text) return expected(value, "an integer or a string of digits");
  return varint_value(*text);
}

result<bound_value> from_decimal(const nlohmann::json& value) {
  auto text = number_text(value);
  if (!text) return expected(value, "a number or a string like \"-123.4500\"");
  return decimal_value(*text);
}

result<bound_value> from_float(const nlohmann::json& value) {
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    if (text == "NaN") return float_value(std::numeric_limits<float>::quiet_NaN());
    if (text == "Infinity") return float_value(std::numeric_limits<float>::infinity());
    if (text == "-Infinity") return float_value(-std::numeric_limits<float>::infinity());
  }
  if (!value.is_number()) return expected(value, "a number, \"NaN\" or \"[-]Infinity\"");
  double v = value.get<double>();
  if (std::fabs(v) > std::numeric_limits<float>::max())
    return make_error(errc::invalid_argument, "{} is out of float range", value.dump());
  return float_value(static_cast<float>(v));
}

/// smallint / tinyint: an integer within [lo, hi].
result<bound_value> from_small_int(const column_type& type, const nlohmann::json& value,
                                   std::int64_t lo, std::int64_t hi) {
  if (!value.is_number_integer())
    return expected(value, fmt::format("an integer from {} to {}", lo, hi));
  bool in_range = value.is_number_unsigned()
                      ? value.get<std::uint64_t>() <= static_cast<std::uint64_t>(hi)
                      : value.get<std::int64_t>() >= lo && value.get<std::int64_t>() <= hi;
  if (!in_range)
    return make_error(errc::invalid_argument, "{} is out of {} range ({} to {})", value.dump(),
                      type_name(type), lo, hi);
  auto v = value.get<std::int64_t>();
  return type.id == type_id::smallint ? smallint_value(static_cast<std::int16_t>(v))
                                      : tinyint_value(static_cast<std::int8_t>(v));
}

result<bound_value> from_time(const nlohmann::json& value) {
  if (value.is_number_integer()) return time_value(value.get<std::int64_t>());
  if (!value.is_string())
    return expected(value, "a \"HH:MM:SS[.fffffffff]\" string or nanoseconds since midnight");
  auto nanos = time_nanos_from_text(value.get_ref<const std::string&>());
  if (!nanos) return nanos.err();
  return time_value(*nanos);
}

result<bound_value> from_duration(const nlohmann::json& value) {
  if (!value.is_string()) return expected(value, "a duration string like \"1h30m\" or \"PT1H30M\"");
  auto d = duration_from_text(value.get_ref<const std::string&>());
  if (!d) return d.err();
  return duration_value(*d);
}

result<bound_value> from_tuple(const column_type& type, const nlohmann::json& value) {
  if (!value.is_array() || value.size() != type.params.size())
    return expected(value, fmt::format("an array of {} element(s) for {}", type.params.size(),
                                       type_name(type)));
  std::vector<bound_value> elements;
  for (std::size_t i = 0; i < type.params.size(); ++i) {
    auto cell = json_to_value(type.params[i], value[i]);
    if (!cell)
      return make_error(errc::invalid_argument, "{} element {}: {}", type_name(type), i + 1,
                        cell.err().message);
    elements.push_back(std::move(*cell));
  }
  return tuple_value(elements);
}

result<bound_value> from_udt(const column_type& type, const nlohmann::json& value) {
  if (!value.is_object()) return expected(value, fmt::format("an object for {}", type_name(type)));
  if (type.field_names.size() != type.params.size())
    return make_error(errc::protocol, "{}: field names do not match field types", type_name(type));
  for (const auto& [name, _] : value.items()) {
    bool known = false;
    for (const auto& field : type.field_names) known = known || field == name;
    if (!known)
      return make_error(errc::invalid_argument, "{} has no field '{}' (fields: {})",
                        type_name(type), name, fmt::join(type.field_names, ", "));
  }
  std::vector<bound_value> fields;
  for (std::size_t i = 0; i < type.params.size(); ++i) {
    auto it = value.find(type.field_names[i]);
    if (it == value.end()) {
      fields.emplace_back();  // a missing field is null
      continue;
    }
    auto cell = json_to_value(type.params[i], *it);
    if (!cell)
      return make_error(errc::invalid_argument, "{} field '{}': {}", type_name(type),
                        type.field_names[i], cell.err().message);
    fields.push_back(std::move(*cell));
  }
  return tuple_value(fields);
}

result<bound_value> from_vector(const column_type& type, const nlohmann::json& value) {
  if (type.params.size() != 1) return make_error(errc::protocol, "vector type without a param");
  if (!value.is_array() || value.size() != static_cast<std::size_t>(type.dimension))
    return expected(value, fmt::format("an array of exactly {} element(s) for {}", type.dimension,
                                       type_name(type)));
  std::vector<bound_value> elements;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i].is_null())
      return make_error(errc::invalid_argument, "{} element {} is null", type_name(type), i + 1);
    auto cell = json_to_value(type.params[0], value[i]);
    if (!cell)
      return make_error(errc::invalid_argument, "{} element {}: {}", type_name(type), i + 1,
                        cell.err().message);
    elements.push_back(std::move(*cell));
  }
  return vector_value(type, elements);
}

}  // namespace

result<bound_value> json_to_value(const column_type& type, const nlohmann::json& value) {
  if (value.is_null()) return bound_value();
  switch (type.id) {
    case type_id::ascii:
    case type_id::varchar:
      if (!value.is_string()) return expected(value, "a string");
      return text_value(value.get_ref<const std::string&>());
    case type_id::uuid:
    case type_id::timeuuid:
      if (!value.is_string()) return expected(value, "a UUID string");
      return uuid_value(value.get_ref<const std::string&>());
    case type_id::int_:
      if (!value.is_number_integer() || value.get<std::int64_t>() < INT32_MIN ||
          value.get<std::int64_t>() > INT32_MAX)
        return expected(value, "a 32-bit integer");
      return int_value(value.get<std::int32_t>());
    case type_id::bigint:
    case type_id::counter:
      if (!value.is_number_integer()) return expected(value, "an integer");
      return bigint_value(value.get<std::int64_t>());
    case type_id::boolean:
      if (!value.is_boolean()) return expected(value, "true or false");
      return boolean_value(value.get<bool>());
    case type_id::double_:
      if (!value.is_number()) return expected(value, "a number");
      return double_value(value.get<double>());
    case type_id::date: {
      if (!value.is_string()) return expected(value, "a \"YYYY-MM-DD\" string");
      auto days = date_days_from_text(value.get_ref<const std::string&>());
      if (!days) return days.err();
      return date_value(*days);
    }
    case type_id::timestamp: {
      if (value.is_number_integer()) return timestamp_value(value.get<std::int64_t>());
      if (!value.is_string()) return expected(value, "an ISO-8601 UTC string or epoch millis");
      auto ms = timestamp_ms_from_text(value.get_ref<const std::string&>());
      if (!ms) return ms.err();
      return timestamp_value(*ms);
    }
    case type_id::blob:
      return from_hex(value);
    case type_id::inet:
      return from_inet(value);
    case type_id::list:
    case type_id::set:
    case type_id::map:
      return from_collection(type, value);
    case type_id::varint:
      return from_varint(value);
    case type_id::decimal:
      return from_decimal(value);
    case type_id::float_:
      return from_float(value);
    case type_id::smallint:
      return from_small_int(type, value, INT16_MIN, INT16_MAX);
    case type_id::tinyint:
      return from_small_int(type, value, INT8_MIN, INT8_MAX);
    case type_id::time:
      return from_time(value);
    case type_id::duration:
      return from_duration(value);
    case type_id::tuple:
      return from_tuple(type, value);
    case type_id::udt:
      return from_udt(type, value);
    case type_id::vector:
      return from_vector(type, value);
    default:
      return make_error(errc::invalid_argument, "binding {} from JSON is not supported",
                        type_name(type));
  }
}

namespace {

result<bound_value> column_value(const std::vector<column_spec>& columns, std::size_t i,
                                 const nlohmann::json& value) {
  auto cell = json_to_value(columns[i].type, value);
  if (!cell) {
    return make_error(errc::invalid_argument, "value {} (column {}): {} (type {})", i + 1,
                      columns[i].name, cell.err().message, type_name(columns[i].type));
  }
  return cell;
}

/// {"name": value, ...}: every bind marker of that name gets the value; a marker whose name
/// is absent is unset (its column left as it is); a name that is no marker is an error.
result<std::vector<bound_value>> named_values(const std::vector<column_spec>& columns,
                                              const nlohmann::json& values) {
  std::vector<std::string> names;
  for (const auto& c : columns) names.push_back(c.name);
  for (const auto& [name, value] : values.items()) {
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      return make_error(errc::invalid_argument,
                        "\"{}\" is not a bind marker of the statement (its markers: {})", name,
                        fmt::join(names, ", "));
    }
  }
  std::vector<bound_value> out;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    auto given = values.find(columns[i].name);
    if (given == values.end()) {
      out.push_back(unset_value());
      continue;
    }
    auto cell = column_value(columns, i, *given);
    if (!cell) return cell.err();
    out.push_back(std::move(*cell));
  }
  return out;
}

}  // namespace

result<std::vector<bound_value>> json_to_values(const std::vector<column_spec>& columns,
                                                const nlohmann::json& values) {
  if (values.is_object()) return named_values(columns, values);
  if (!values.is_array() || values.size() != columns.size()) {
    return make_error(errc::invalid_argument,
                      "expected a JSON array of {} value(s) or an object by marker name, got {}",
                      columns.size(), values.dump());
  }
  std::vector<bound_value> out;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    auto cell = column_value(columns, i, values[i]);
    if (!cell) return cell.err();
    out.push_back(std::move(*cell));
  }
  return out;
}

}  // namespace sluice::cql
