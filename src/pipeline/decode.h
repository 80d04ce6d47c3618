// Turning a raw users.raw message value into a User record, or into the dead-letter
// reason why it cannot be: plain JSON (a value starting with `{`) or Avro in the
// Confluent wire format (magic byte 0, 4-byte schema id, Avro binary written with that
// schema, fetched from the registry and cached). Decoding resolves the writer's schema
// to the contract by field name: fields the reader does not know are skipped, fields
// the writer lacks are null (their default), so older and newer compatible schemas
// both decode. Nothing here throws or crashes on data: every failure is a rule id.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "model/user.h"
#include "registry/client.h"

namespace sluice::pipeline {

/// Why a value could not be decoded: a `decode.*` rule id and a human reason.
struct decode_failure {
  std::string rule;
  std::string reason;
};

struct decoded {
  model::user_record record;
  std::optional<int> schema_id;  // empty for plain JSON
  std::optional<decode_failure> failure;
  /// Set when the value could not be decoded for a fault of a dependency (the registry
  /// failed, timed out or was unreachable): not a verdict on the data. The caller holds
  /// the record and tries again later; nothing about it is cached.
  std::optional<std::string> unavailable;
};

/// A registry's answer to "the writer schema with this id".
struct schema_answer {
  std::optional<std::string> schema;  // the Avro JSON text, when found
  /// True only when the registry definitely answered that the id does not exist (a data
  /// fault: the record names a schema nobody registered). Any other failure (5xx,
  /// timeout, refused connection) leaves it false: the registry is at fault, not the data.
  bool unknown = false;
  std::string error;  // why there is no schema
};

/// Fetches a writer schema (Avro JSON) by id.
using schema_fetcher = std::function<schema_answer(int id)>;

/// A schema registry's answer for `id`, as the decoder wants it.
schema_answer ask_registry(registry::client& registry, int id);

class value_decoder {
 public:
  value_decoder(schema_fetcher fetch, std::size_t max_value_bytes);
  ~value_decoder();
  value_decoder(const value_decoder&) = delete;
  value_decoder& operator=(const value_decoder&) = delete;

  decoded decode(std::optional<std::string_view> value);

 private:
  struct writer_schema;
  decoded decode_avro(std::string_view value);
  schema_fetcher fetch_;
  std::size_t max_value_bytes_;
  std::map<int, std::unique_ptr<writer_schema>> schemas_;
};

}  // namespace sluice::pipeline
