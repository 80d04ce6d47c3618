// A Kafka record as the console shows it (see message_view.h).
#include "console/message_view.h"

#include <avro.h>

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "pipeline/avro_reader.h"
#include "rules/rules.h"

namespace sluice::console {

struct message_decoder::parsed_schema {
  avro_schema_t schema = nullptr;
  std::string error;  // why the schema cannot be used
  ~parsed_schema() {
    if (schema != nullptr) avro_schema_decref(schema);
  }
};

std::string to_hex(std::string_view bytes, std::size_t max_bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  auto n = std::min(bytes.size(), max_bytes);
  out.reserve(n * 2 + 3);
  for (std::size_t i = 0; i < n; ++i) {
    auto c = static_cast<unsigned char>(bytes[i]);
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  if (n < bytes.size()) out += "...";
  return out;
}

message_decoder::message_decoder(schema_source source) : source_(std::move(source)) {}
message_decoder::~message_decoder() = default;

std::shared_ptr<message_decoder::parsed_schema> message_decoder::schema_for(int id) {
  {
    std::lock_guard lock(mutex_);
    if (auto it = schemas_.find(id); it != schemas_.end()) return it->second;
  }
  auto answer = source_(id);  // outside the lock: a slow registry blocks only this request
  auto parsed = std::make_shared<parsed_schema>();
  if (!answer.schema) {
    parsed->error = fmt::format("schema id {}: {}", id, answer.error);
    return parsed;  // not cached: the registry may answer next time
  }
  if (avro_schema_from_json_length(answer.schema->data(), answer.schema->size(), &parsed->schema) !=
      0) {
    parsed->schema = nullptr;
    parsed->error = fmt::format("schema id {} is not valid Avro: {}", id, avro_strerror());
  }
  std::lock_guard lock(mutex_);
  return schemas_.emplace(id, parsed).first->second;
}

void message_decoder::decode_value(std::string_view value, nlohmann::json& out) {
  auto hex = [&](std::string note) {
    out["value_format"] = "hex";
    out["value_hex"] = to_hex(value);
    out["note"] = std::move(note);
  };
  if (value.size() >= 5 && value[0] == '\0') {
    int id = (static_cast<unsigned char>(value[1]) << 24) |
             (static_cast<unsigned char>(value[2]) << 16) |
             (static_cast<unsigned char>(value[3]) << 8) | static_cast<unsigned char>(value[4]);
    out["schema_id"] = id;
    auto schema = schema_for(id);
    if (schema->schema == nullptr) return hex(schema->error);
    pipeline::avro_reader reader(value.substr(5));
    nlohmann::json decoded;
    std::string problem;
    if (!reader.read_json(schema->schema, decoded, problem, 0)) {
      return hex(fmt::format("Confluent Avro with schema id {}, but the bytes do not decode: {}",
                             id, problem));
    }
    out["value_format"] = "avro";
    out["value"] = std::move(decoded);
    if (!reader.at_end()) {
      out["note"] = fmt::format("{} bytes after the Avro value", reader.remaining());
    }
    return;
  }
  if (!rules::valid_utf8(value)) {
    return hex(value[0] == '\0' ? "magic byte 0 but shorter than the 5-byte Confluent header"
                                : "not Confluent Avro (no magic byte 0), not UTF-8 text");
  }
  auto first = value.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && (value[first] == '{' || value[first] == '[')) {
    auto parsed = nlohmann::json::parse(value, nullptr, false);
    if (!parsed.is_discarded()) {
      out["value_format"] = "json";
      out["value"] = std::move(parsed);
      return;
    }
    out["note"] = "looks like JSON but does not parse";
  }
  out["value_format"] = "text";
  out["value"] = std::string(value);
}

nlohmann::json message_decoder::view(const raw_message& m) {
  nlohmann::json out = {
      {"partition", m.partition}, {"offset", m.offset},   {"timestamp_ms", m.timestamp_ms},
      {"key", nullptr},           {"key_hex", nullptr},   {"schema_id", nullptr},
      {"value", nullptr},         {"value_hex", nullptr}, {"note", nullptr}};
  std::size_t size = 0;
  if (m.key) {
    size += m.key->size();
    if (rules::valid_utf8(*m.key)) {
      out["key"] = *m.key;
    } else {
      out["key_hex"] = to_hex(*m.key);
    }
  }
  nlohmann::json headers = nlohmann::json::array();
  for (const auto& [k, v] : m.headers) {
    size += k.size() + v.size();
    headers.push_back({{"key", k}, {"value", rules::valid_utf8(v) ? v : "0x" + to_hex(v)}});
  }
  out["headers"] = std::move(headers);
  if (!m.value) {
    out["value_format"] = "null";
  } else {
    size += m.value->size();
    if (m.value->empty()) {
      out["value_format"] = "text";
      out["value"] = "";
    } else {
      decode_value(*m.value, out);
    }
  }
  out["size"] = size;
  return out;
}

bool message_decoder::matches(const nlohmann::json& view, const std::string& lower_needle) {
  auto contains = [&](const std::string& hay) {
    auto it = std::search(
        hay.begin(), hay.end(), lower_needle.begin(), lower_needle.end(),
        [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
    return it != hay.end();
  };
  if (view["key"].is_string() && contains(view["key"].get<std::string>())) return true;
  for (const auto& h : view["headers"]) {
    if (contains(h["value"].get<std::string>())) return true;
  }
  const auto& value = view["value"];
  if (value.is_string()) return contains(value.get<std::string>());
  if (!value.is_null()) return contains(value.dump());
  return view["value_hex"].is_string() && contains(view["value_hex"].get<std::string>());
}

}  // namespace sluice::console
