// avro_reader::read_json (see avro_reader.h): a whole Avro value as JSON, with the same
// bounds checks as the string extraction the processor uses.
#include "pipeline/avro_reader.h"

#include <bit>
#include <cstring>

#include "rules/rules.h"

namespace sluice::pipeline {
namespace {

std::string as_json_text(std::string_view bytes) {
  if (rules::valid_utf8(bytes)) return std::string(bytes);
  std::string out;  // nlohmann::json refuses invalid UTF-8 when dumping: replace it
  for (unsigned char c : bytes)
    out += c < 0x80 ? std::string(1, static_cast<char>(c)) : "\xEF\xBF\xBD";
  return out;
}

}  // namespace

bool avro_reader::read_json(avro_schema_t type, nlohmann::json& out, std::string& problem,
                            int depth) {
  if (depth > 32) return (problem = "schema nested too deeply", false);
  switch (avro_typeof(type)) {
    case AVRO_NULL:
      out = nullptr;
      return true;
    case AVRO_BOOLEAN: {
      if (remaining() < 1) return (problem = "truncated value", false);
      out = data_[pos_++] != 0;
      return true;
    }
    case AVRO_INT32:
    case AVRO_INT64: {
      std::int64_t v = 0;
      if (!read_long(v, problem)) return false;
      out = v;
      return true;
    }
    case AVRO_ENUM: {
      std::int64_t index = 0;
      if (!read_long(index, problem)) return false;
      const char* symbol = avro_schema_enum_get(type, static_cast<int>(index));
      if (symbol == nullptr)
        return (problem = fmt::format("enum index {} does not exist", index), false);
      out = symbol;
      return true;
    }
    case AVRO_FLOAT: {
      if (remaining() < 4) return (problem = "truncated value", false);
      std::uint32_t bits = 0;
      std::memcpy(&bits, data_.data() + pos_, 4);  // little-endian on the machines we build for
      pos_ += 4;
      out = static_cast<double>(std::bit_cast<float>(bits));
      return true;
    }
    case AVRO_DOUBLE: {
      if (remaining() < 8) return (problem = "truncated value", false);
      std::uint64_t bits = 0;
      std::memcpy(&bits, data_.data() + pos_, 8);
      pos_ += 8;
      out = std::bit_cast<double>(bits);
      return true;
    }
    case AVRO_FIXED: {
      auto size = static_cast<std::size_t>(avro_schema_fixed_size(type));
      if (remaining() < size) return (problem = "truncated value", false);
      out = as_json_text(data_.substr(pos_, size));
      pos_ += size;
      return true;
    }
    case AVRO_STRING:
    case AVRO_BYTES: {
      std::string_view bytes;
      if (!read_bytes(bytes, problem)) return false;
      out = as_json_text(bytes);
      return true;
    }
    case AVRO_UNION: {
      avro_schema_t branch = nullptr;
      return read_branch(type, branch, problem) && read_json(branch, out, problem, depth + 1);
    }
    case AVRO_RECORD: {
      out = nlohmann::json::object();
      for (size_t i = 0; i < avro_schema_record_size(type); ++i) {
        auto& field = out[avro_schema_record_field_name(type, static_cast<int>(i))];
        if (!read_json(avro_schema_record_field_get_by_index(type, static_cast<int>(i)), field,
                       problem, depth + 1)) {
          return false;
        }
      }
      return true;
    }
    case AVRO_ARRAY:
    case AVRO_MAP:
      return read_json_blocks(type, out, problem, depth);
    case AVRO_LINK:
      return read_json(avro_schema_link_target(type), out, problem, depth + 1);
    default:
      return (problem = "unsupported Avro type", false);
  }
}

bool avro_reader::read_json_blocks(avro_schema_t type, nlohmann::json& out, std::string& problem,
                                   int depth) {
  bool is_map = avro_typeof(type) == AVRO_MAP;
  out = is_map ? nlohmann::json::object() : nlohmann::json::array();
  return each_block_item(type, problem, [&](avro_schema_t item, std::string_view key) {
    nlohmann::json element;
    if (!read_json(item, element, problem, depth + 1)) return false;
    if (is_map) {
      out[as_json_text(key)] = std::move(element);
    } else {
      out.push_back(std::move(element));
    }
    return true;
  });
}

}  // namespace sluice::pipeline
