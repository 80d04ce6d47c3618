// Avro schemas as the registry sees them: parsing and validation (avro-c), the
// normalised text that decides whether two registrations are "the same schema", and
// compatibility under Avro schema resolution (can a reader schema read data written
// with a writer schema?), combined into Confluent's compatibility levels.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace sluice::registry {

/// Confluent compatibility levels.
enum class compatibility {
  none,
  backward,
  backward_transitive,
  forward,
  forward_transitive,
  full,
  full_transitive,
};

/// "BACKWARD", "FULL_TRANSITIVE", ...
std::string_view to_string(compatibility level);
/// Parses a level name (upper case, as Confluent spells it).
std::optional<compatibility> parse_compatibility(std::string_view name);

/// A parsed, valid Avro schema.
class avro_schema {
 public:
  /// Parses and validates `text` (named types resolved, primitive names checked).
  /// Errors (errc::parse) carry avro-c's message.
  static result<avro_schema> parse(std::string_view text);

  avro_schema(avro_schema&&) noexcept;
  avro_schema& operator=(avro_schema&&) noexcept;
  avro_schema(const avro_schema&) = delete;
  avro_schema& operator=(const avro_schema&) = delete;
  ~avro_schema();

  /// The schema as compact JSON with the author's key order kept (what is stored and
  /// served back).
  const std::string& normalized() const;

  /// What decides whether two registrations are the same schema: compact JSON with
  /// object keys sorted, so neither whitespace nor key order matters (array order, such
  /// as the order of fields, does).
  const std::string& identity() const;

  struct impl;
  const impl& internals() const { return *impl_; }

 private:
  explicit avro_schema(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// identity() of a stored schema text (empty if the text is not JSON).
std::string identity_of(std::string_view schema_text);

/// Why a reader cannot read a writer's data: empty when it can. Each entry names the
/// place in the schema ("/fields/email/type") and the rule that failed.
std::vector<std::string> resolution_problems(const avro_schema& reader, const avro_schema& writer);

/// One existing version of a subject, as input to a compatibility check.
struct existing_version {
  int version = 0;
  const avro_schema* schema = nullptr;
};

/// Checks `candidate` against the existing versions of a subject (oldest first) under
/// `level`: BACKWARD = the candidate reads data written with the latest version,
/// FORWARD = the latest version reads the candidate's data, FULL = both; *_TRANSITIVE
/// check every version instead of the latest. Returns the problems found (empty =
/// compatible), each naming the direction and the version it was checked against.
std::vector<std::string> compatibility_problems(compatibility level, const avro_schema& candidate,
                                                const std::vector<existing_version>& existing);

}  // namespace sluice::registry
