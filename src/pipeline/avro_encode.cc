// Hand-written Avro binary for the contract's all-nullable-string record.
#include "pipeline/avro_encode.h"

namespace sluice::pipeline {
namespace {

void append_varint(std::int64_t value, std::string& out) {
  auto zigzag = (static_cast<std::uint64_t>(value) << 1) ^ static_cast<std::uint64_t>(value >> 63);
  while (zigzag >= 0x80) {
    out.push_back(static_cast<char>((zigzag & 0x7F) | 0x80));
    zigzag >>= 7;
  }
  out.push_back(static_cast<char>(zigzag));
}

}  // namespace

void append_confluent_avro(const model::user_record& record, std::int32_t schema_id,
                           std::string& out) {
  out.push_back('\0');
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((static_cast<std::uint32_t>(schema_id) >> shift) & 0xFF));
  }
  append_avro_binary(record, out);
}

void append_avro_binary(const model::user_record& record, std::string& out) {
  for (const auto& value : record.values) {
    if (!value) {
      append_varint(0, out);  // branch 0: null
      continue;
    }
    append_varint(1, out);  // branch 1: string
    append_varint(static_cast<std::int64_t>(value->size()), out);
    out.append(*value);
  }
}

}  // namespace sluice::pipeline
