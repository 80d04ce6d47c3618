// Decoding of raw values with avro-c (writer schemas by id) and simdjson (plain JSON).
// The Avro record is read with the writer's own schema and mapped onto the contract's
// fields by name; this is Avro schema resolution for the contract's shape (all fields
// nullable strings with default null) without avro-c's resolver, whose handling of
// defaults is unreliable in avro-c 1.11.
#include "pipeline/decode.h"

#include <avro.h>

#include <cstring>

#include <fmt/format.h>

#include "model/json.h"
#include "rules/rules.h"

namespace sluice::pipeline {

struct value_decoder::writer_schema {
  avro_schema_t schema = nullptr;
  avro_value_iface_t* iface = nullptr;
  avro_value_t value{};
  bool has_value = false;
  std::string load_error;

  ~writer_schema() {
    if (has_value) avro_value_decref(&value);
    if (iface) avro_value_iface_decref(iface);
    if (schema) avro_schema_decref(schema);
  }
};

namespace {

decoded fail(std::string rule, std::string reason, std::optional<int> schema_id = std::nullopt) {
  decoded d;
  d.schema_id = schema_id;
  d.failure = decode_failure{std::move(rule), std::move(reason)};
  return d;
}

bool check_utf8(const model::user_record& record, std::string& field_name) {
  for (std::size_t i = 0; i < model::field_count; ++i) {
    if (record.values[i] && !rules::valid_utf8(*record.values[i])) {
      field_name = std::string(model::field_names[i]);
      return false;
    }
  }
  return true;
}

}  // namespace

value_decoder::value_decoder(schema_fetcher fetch, std::size_t max_value_bytes)
    : fetch_(std::move(fetch)), max_value_bytes_(max_value_bytes) {}

value_decoder::~value_decoder() = default;

decoded value_decoder::decode(std::optional<std::string_view> value) {
  if (!value || value->empty()) return fail("decode.empty", "empty or null value");
  if (value->size() > max_value_bytes_) {
    return fail("decode.oversize",
                fmt::format("value of {} bytes exceeds {} bytes", value->size(), max_value_bytes_));
  }
  std::size_t first = value->find_first_not_of(" \t\r\n");
  decoded out;
  if (first != std::string_view::npos && (*value)[first] == '{') {
    if (!rules::valid_utf8(*value)) return fail("decode.utf8", "JSON value is not valid UTF-8");
    auto parsed = model::parse_json(*value);
    if (!parsed) return fail("decode.json", parsed.err().message);
    out.record = std::move(*parsed);
  } else {
    out = decode_avro(*value);
    if (out.failure) return out;
  }
  std::string bad_field;
  if (!check_utf8(out.record, bad_field)) {
    return fail("decode.utf8", fmt::format("field '{}' is not valid UTF-8", bad_field),
                out.schema_id);
  }
  return out;
}

decoded value_decoder::decode_avro(std::string_view value) {
  if (static_cast<unsigned char>(value[0]) != 0) {
    return fail("decode.magic",
                fmt::format("first byte is 0x{:02x}, not the Confluent magic byte 0",
                            static_cast<unsigned char>(value[0])));
  }
  if (value.size() < 5)
    return fail("decode.magic", fmt::format("only {} bytes: no schema id", value.size()));
  int id = 0;
  for (int i = 1; i <= 4; ++i)
    id = (id << 8) | static_cast<unsigned char>(value[static_cast<std::size_t>(i)]);

  auto& slot = schemas_[id];
  if (!slot) {
    slot = std::make_unique<writer_schema>();
    std::string error;
    auto text = fetch_(id, error);
    if (!text) {
      slot->load_error = error.empty() ? "unknown schema id" : error;
    } else if (avro_schema_from_json_length(text->data(), text->size(), &slot->schema) != 0) {
      slot->load_error = fmt::format("schema {} is not valid Avro: {}", id, avro_strerror());
    } else {
      slot->iface = avro_generic_class_from_schema(slot->schema);
      slot->has_value = slot->iface && avro_generic_value_new(slot->iface, &slot->value) == 0;
      if (!slot->has_value) slot->load_error = fmt::format("schema {}: {}", id, avro_strerror());
    }
  }
  if (!slot->load_error.empty()) {
    auto reason = fmt::format("schema id {}: {}", id, slot->load_error);
    // A registry that was unreachable may answer later: forget the failure.
    if (slot->load_error.find("unreachable") != std::string::npos) schemas_.erase(id);
    return fail("decode.schema_id", reason, id);
  }

  auto payload = value.substr(5);
  avro_reader_t reader = avro_reader_memory(payload.data(), static_cast<int64_t>(payload.size()));
  avro_value_reset(&slot->value);
  int rc = avro_value_read(reader, &slot->value);
  avro_reader_free(reader);
  if (rc != 0)
    return fail("decode.avro",
                fmt::format("Avro binary does not match schema {}: {}", id, avro_strerror()), id);

  decoded out;
  out.schema_id = id;
  size_t count = 0;
  avro_value_get_size(&slot->value, &count);
  for (size_t i = 0; i < count; ++i) {
    avro_value_t field;
    const char* name = nullptr;
    if (avro_value_get_by_index(&slot->value, i, &field, &name) != 0 || !name) continue;
    auto target = model::field_by_name(name);
    if (!target) continue;  // a field this contract version does not know
    avro_value_t branch = field;
    if (avro_value_get_type(&field) == AVRO_UNION) {
      if (avro_value_get_current_branch(&field, &branch) != 0) continue;
    }
    auto type = avro_value_get_type(&branch);
    if (type == AVRO_NULL) continue;
    if (type != AVRO_STRING) {
      return fail("decode.avro", fmt::format("field '{}' is not a string in schema {}", name, id),
                  id);
    }
    const char* text = nullptr;
    size_t size = 0;
    avro_value_get_string(&branch, &text, &size);
    out.record.set(*target, std::string(text, size ? size - 1 : 0));  // size counts the NUL
  }
  return out;
}

}  // namespace sluice::pipeline
