// How the console shows a Kafka record: key, headers, timestamp, size, and the value
// decoded through the schema registry (Confluent Avro framing), as JSON, as text, or
// as hex with a note saying why it could not be decoded. Also the text a search
// matches against.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace sluice::console {

/// A record as read from Kafka, before decoding.
struct raw_message {
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::int64_t timestamp_ms = -1;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<std::pair<std::string, std::string>> headers;
};

/// The registry's answer for a schema id: the schema text, or why there is none.
struct schema_text {
  std::optional<std::string> schema;
  std::string error;
};
using schema_source = std::function<schema_text(int id)>;

/// Lower-case hex of `bytes`, at most `max_bytes` of them ("..." marks a cut).
std::string to_hex(std::string_view bytes, std::size_t max_bytes = 4096);

/// Decodes values for display; caches parsed schemas by id. Thread-safe.
class message_decoder {
 public:
  explicit message_decoder(schema_source source);
  ~message_decoder();
  message_decoder(const message_decoder&) = delete;
  message_decoder& operator=(const message_decoder&) = delete;

  /// The API's message object (see src/console/API.md).
  nlohmann::json view(const raw_message& m);

  /// True when `needle` (lower-case) occurs in the key, a header value or the decoded
  /// value's text, case-insensitively.
  static bool matches(const nlohmann::json& view, const std::string& lower_needle);

 private:
  struct parsed_schema;
  std::shared_ptr<parsed_schema> schema_for(int id);
  void decode_value(std::string_view value, nlohmann::json& out);

  schema_source source_;
  std::mutex mutex_;
  std::map<int, std::shared_ptr<parsed_schema>> schemas_;
};

}  // namespace sluice::console
