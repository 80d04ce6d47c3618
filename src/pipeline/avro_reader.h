// A bounds-checked reader of Avro binary driven by avro-c's parsed schema, shared by
// the processor's decoder (which only extracts strings) and the console (which shows a
// whole value as JSON). avro-c's own reader trusts encoded lengths, so it is not used.
#pragma once

#include <avro.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace sluice::pipeline {

/// A bounds-checked reader of Avro binary driven by avro-c's parsed schema. avro-c's own
/// reader trusts encoded lengths (a garbage length makes it try to allocate terabytes),
/// so values are walked here: every length is checked against the bytes that remain.
class avro_reader {
 public:
  /// Array and map items one value may hold, summed over all its arrays and maps. Items
  /// of a zero-byte type (null, an empty record) cost no input, so the bytes left do not
  /// bound them: without this budget a 1 MB value could ask for ~10^10 iterations.
  static constexpr std::uint64_t max_items_per_value = 1'000'000;

  explicit avro_reader(std::string_view data) : data_(data) {}
  bool at_end() const { return pos_ == data_.size(); }
  std::size_t remaining() const { return data_.size() - pos_; }

  /// Reads one value of `type`. Strings (directly or as the chosen union branch) are
  /// returned in `text`; other types are skipped.
  bool read_value(avro_schema_t type, std::optional<std::string_view>& text, std::string& problem,
                  int depth) {
    if (depth > 32) return (problem = "schema nested too deeply", false);
    switch (avro_typeof(type)) {
      case AVRO_NULL:
        return true;
      case AVRO_BOOLEAN:
        return skip(1, problem);
      case AVRO_INT32:
      case AVRO_INT64:
      case AVRO_ENUM: {
        std::int64_t ignored;
        return read_long(ignored, problem);
      }
      case AVRO_FLOAT:
        return skip(4, problem);
      case AVRO_DOUBLE:
        return skip(8, problem);
      case AVRO_FIXED:
        return skip(static_cast<std::size_t>(avro_schema_fixed_size(type)), problem);
      case AVRO_STRING:
      case AVRO_BYTES: {
        std::string_view bytes;
        if (!read_bytes(bytes, problem)) return false;
        if (avro_typeof(type) == AVRO_STRING) text = bytes;
        return true;
      }
      case AVRO_UNION: {
        avro_schema_t branch = nullptr;
        return read_branch(type, branch, problem) && read_value(branch, text, problem, depth + 1);
      }
      case AVRO_RECORD: {
        for (size_t i = 0; i < avro_schema_record_size(type); ++i) {
          std::optional<std::string_view> ignored;
          if (!read_value(avro_schema_record_field_get_by_index(type, static_cast<int>(i)), ignored,
                          problem, depth + 1)) {
            return false;
          }
        }
        return true;
      }
      case AVRO_ARRAY:
      case AVRO_MAP:
        return read_blocks(type, problem, depth);
      case AVRO_LINK:
        return read_value(avro_schema_link_target(type), text, problem, depth + 1);
      default:
        return (problem = "unsupported Avro type", false);
    }
  }

  /// Reads one value of `type` as JSON: records as objects, unions as the chosen
  /// branch's value, bytes and fixed as text (invalid UTF-8 as \uFFFD), enums as symbols.
  bool read_json(avro_schema_t type, nlohmann::json& out, std::string& problem, int depth);

 private:
  /// Reads a union's branch index; the chosen branch's schema in `branch`.
  bool read_branch(avro_schema_t type, avro_schema_t& branch, std::string& problem) {
    std::int64_t index = 0;
    if (!read_long(index, problem)) return false;
    if (index < 0 || static_cast<std::size_t>(index) >= avro_schema_union_size(type)) {
      return (problem = fmt::format("union branch {} does not exist", index), false);
    }
    branch = avro_schema_union_branch(type, static_cast<int>(index));
    return true;
  }
  bool read_json_blocks(avro_schema_t type, nlohmann::json& out, std::string& problem, int depth);
  bool skip(std::size_t n, std::string& problem) {
    if (remaining() < n) return (problem = "truncated value", false);
    pos_ += n;
    return true;
  }
  bool read_long(std::int64_t& value, std::string& problem) {
    std::uint64_t raw = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (at_end()) return (problem = "truncated varint", false);
      auto byte = static_cast<std::uint8_t>(data_[pos_++]);
      raw |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
      if (!(byte & 0x80)) {
        value = static_cast<std::int64_t>(raw >> 1) ^ -static_cast<std::int64_t>(raw & 1);
        return true;
      }
    }
    return (problem = "varint longer than 10 bytes", false);
  }
  bool read_bytes(std::string_view& bytes, std::string& problem) {
    std::int64_t length = 0;
    if (!read_long(length, problem)) return false;
    if (length < 0 || static_cast<std::uint64_t>(length) > remaining()) {
      return (problem = fmt::format("length {} exceeds the {} bytes left", length, remaining()),
              false);
    }
    bytes = data_.substr(pos_, static_cast<std::size_t>(length));
    pos_ += static_cast<std::size_t>(length);
    return true;
  }
  /// Walks the blocks of an array or map, calling on_item(item schema, map key) for each
  /// item with the reader positioned on the item's value.
  template <typename OnItem>
  bool each_block_item(avro_schema_t type, std::string& problem, OnItem&& on_item) {
    bool is_map = avro_typeof(type) == AVRO_MAP;
    avro_schema_t item = is_map ? avro_schema_map_values(type) : avro_schema_array_items(type);
    while (true) {
      std::int64_t count = 0;
      if (!read_long(count, problem)) return false;
      if (count == 0) return true;
      if (count < 0) {  // negative count: followed by the block's size in bytes
        if (count == std::numeric_limits<std::int64_t>::min())  // -count would overflow
          return (problem = fmt::format("block count {} is out of range", count), false);
        std::int64_t size = 0;
        if (!read_long(size, problem)) return false;
        count = -count;
      }
      if (static_cast<std::uint64_t>(count) > remaining()) {
        return (problem = fmt::format("block of {} items exceeds the bytes left", count), false);
      }
      if (static_cast<std::uint64_t>(count) > items_left_) {
        return (problem = fmt::format("more than {} array or map items in one value",
                                      max_items_per_value),
                false);
      }
      items_left_ -= static_cast<std::uint64_t>(count);
      for (std::int64_t k = 0; k < count; ++k) {
        std::string_view key;
        if (is_map && !read_bytes(key, problem)) return false;
        if (!on_item(item, key)) return false;
      }
    }
  }
  bool read_blocks(avro_schema_t type, std::string& problem, int depth) {
    return each_block_item(type, problem, [&](avro_schema_t item, std::string_view) {
      std::optional<std::string_view> ignored;
      return read_value(item, ignored, problem, depth + 1);
    });
  }
  std::string_view data_;
  std::size_t pos_ = 0;
  std::uint64_t items_left_ = max_items_per_value;
};

}  // namespace sluice::pipeline
