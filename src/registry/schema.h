// Avro schemas as the registry sees them: parsing and validation (avro-c), the
// normalised text that decides whether two registrations are "the same schema", and
// compatibility under Avro schema resolution (can a reader schema read data written
// with a writer schema?), combined into Confluent's compatibility levels.
//
// Limits on hostile input (a schema arrives in one HTTP request, or from the _schemas
// topic, and must not be able to crash or stall the registry):
//   - max_json_nesting: JSON nested deeper than this is refused before it is parsed (a
//     scan of its brackets), so nothing walks it recursively (nlohmann's dump, avro-c,
//     the defaults collector).
//   - max_type_nesting: Avro types nested deeper than this are refused at parse time.
//   - a compatibility check does at most `max_steps` units of work (default
//     default_check_steps, shared by every version one request checks against) and
//     follows named types at most max_resolution_depth levels deep; past either it
//     fails (errc::invalid_argument, "too costly") instead of answering.
#pragma once

#include <cstdint>
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

/// Deepest JSON nesting accepted in a schema text (or any registry JSON document): a
/// container inside 256 others is refused, naming the limit, before the text is parsed.
inline constexpr int max_json_nesting = 256;

/// Deepest Avro type nesting accepted: every record, array, map, union or object-form
/// type opens one level; a schema whose types nest more than 64 levels deep is refused
/// (errc::parse, naming the limit). A named-type reference does not open a level.
inline constexpr int max_type_nesting = 64;

/// Deepest chain of (reader, writer) type pairs a compatibility check follows, through
/// nesting and named-type references alike; deeper is "too costly".
inline constexpr int max_resolution_depth = 256;

/// Work bound of one compatibility check (one request), in steps: one per type pair
/// visited, record field, union branch or enum symbol examined. Spending it all takes
/// 0.25 to 0.45 s of CPU in an optimised build (measured on the costliest kind of step).
inline constexpr std::uint64_t default_check_steps = 1'000'000;

/// A parsed, valid Avro schema.
class avro_schema {
 public:
  /// Parses and validates `text` (named types resolved, primitive names checked).
  /// Errors (errc::parse) carry avro-c's message, or name the nesting limit exceeded
  /// (max_json_nesting, max_type_nesting).
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

/// identity() of a stored schema text (empty if the text is not JSON, or nests deeper
/// than max_json_nesting).
std::string identity_of(std::string_view schema_text);

/// Why a reader cannot read a writer's data: empty when it can. Each entry names the
/// place in the schema ("/email", "/tags/items", "/id[1]") and the rule that failed; at
/// most max_reported_problems are listed. An error (errc::invalid_argument, "too
/// costly") when the check needs more than `max_steps` steps or follows types deeper
/// than max_resolution_depth.
result<std::vector<std::string>> resolution_problems(const avro_schema& reader,
                                                     const avro_schema& writer,
                                                     std::uint64_t max_steps = default_check_steps);

/// A named type's full name per the Avro specification: `name` itself when it already
/// holds a dot or there is no namespace, else `ns.name`.
std::string avro_full_name(const std::string& name, const std::string& ns);

/// Most problems one resolution lists; a last entry says when more were left out.
inline constexpr std::size_t max_reported_problems = 50;

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
/// `max_steps` bounds the work of all the checks together; past it (or past
/// max_resolution_depth) the answer is an error saying the check is too costly.
result<std::vector<std::string>> compatibility_problems(
    compatibility level, const avro_schema& candidate,
    const std::vector<existing_version>& existing, std::uint64_t max_steps = default_check_steps);

}  // namespace sluice::registry
