// json_to_value / json_to_values (see json_values.h).
#include "cql/json_values.h"

#include <arpa/inet.h>

#include "base/error.h"
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
    default:
      return make_error(errc::invalid_argument, "binding type 0x{:04x} from JSON is not supported",
                        static_cast<int>(type.id));
  }
}

result<std::vector<bound_value>> json_to_values(const std::vector<column_spec>& columns,
                                                const nlohmann::json& values) {
  if (!values.is_array() || values.size() != columns.size()) {
    return make_error(errc::invalid_argument, "expected a JSON array of {} value(s), got {}",
                      columns.size(), values.dump());
  }
  std::vector<bound_value> out;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    auto cell = json_to_value(columns[i].type, values[i]);
    if (!cell) {
      return make_error(errc::invalid_argument, "value {} (column {}): {}", i + 1, columns[i].name,
                        cell.err().message);
    }
    out.push_back(std::move(*cell));
  }
  return out;
}

}  // namespace sluice::cql
