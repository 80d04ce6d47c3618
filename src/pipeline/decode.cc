// Decoding of raw values: Avro with the writer's schema (parsed by avro-c, fetched by id)
// and plain JSON (simdjson). The Avro record is read with the writer's own schema and
// mapped onto the contract's fields by name; this is Avro schema resolution for the
// contract's shape (all fields nullable strings with default null) without avro-c's
// resolver, whose handling of defaults is unreliable in avro-c 1.11, and without its
// value reader, which trusts encoded lengths (see avro_reader below).
#include "pipeline/decode.h"

#include <avro.h>

#include <cstring>

#include <fmt/format.h>

#include "model/json.h"
#include "pipeline/avro_reader.h"
#include "rules/rules.h"

namespace sluice::pipeline {

struct value_decoder::writer_schema {
  avro_schema_t schema = nullptr;
  std::string load_error;

  ~writer_schema() {
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

schema_answer ask_registry(registry::client& registry, int id) {
  auto schema = registry.schema_by_id(id);
  if (schema) return {std::move(*schema), false, ""};
  // Only the registry's definite "no such id" is a fault of the data.
  return {std::nullopt, registry::schema_not_found(schema.err()), schema.err().message};
}

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
    if (out.failure || out.unavailable) return out;
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
    auto answer = fetch_(id);
    if (!answer.schema && !answer.unknown) {
      // The registry failed, not the data: remember nothing, let the caller retry.
      schemas_.erase(id);
      decoded out;
      out.schema_id = id;
      out.unavailable = fmt::format("schema id {}: {}", id, answer.error);
      return out;
    }
    slot = std::make_unique<writer_schema>();
    if (!answer.schema) {
      slot->load_error = answer.error.empty() ? "unknown schema id" : answer.error;
    } else if (avro_schema_from_json_length(answer.schema->data(), answer.schema->size(),
                                            &slot->schema) != 0) {
      slot->load_error = fmt::format("schema {} is not valid Avro: {}", id, avro_strerror());
    }
  }
  if (!slot->load_error.empty()) {
    return fail("decode.schema_id", fmt::format("schema id {}: {}", id, slot->load_error), id);
  }

  auto payload = value.substr(5);
  avro_reader cursor{payload};
  decoded out;
  out.schema_id = id;
  if (avro_typeof(slot->schema) != AVRO_RECORD) {
    return fail("decode.avro", fmt::format("schema {} is not a record", id), id);
  }
  auto fields = avro_schema_record_size(slot->schema);
  for (size_t i = 0; i < fields; ++i) {
    const char* name = avro_schema_record_field_name(slot->schema, static_cast<int>(i));
    avro_schema_t type = avro_schema_record_field_get_by_index(slot->schema, static_cast<int>(i));
    std::optional<std::string_view> text;
    std::string problem;
    if (!cursor.read_value(type, text, problem, 0)) {
      return fail("decode.avro",
                  fmt::format("field '{}' of schema {}: {}", name ? name : "?", id, problem), id);
    }
    auto target = name ? model::field_by_name(name) : std::nullopt;
    if (!target) continue;  // a field this contract version does not know
    if (text) out.record.set(*target, std::string(*text));
  }
  if (!cursor.at_end()) {
    return fail(
        "decode.avro",
        fmt::format("{} trailing bytes after the record (schema {})", cursor.remaining(), id), id);
  }
  return out;
}

}  // namespace sluice::pipeline
