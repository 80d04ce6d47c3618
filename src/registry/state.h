// The registry's state as a pure state machine over its log: subjects with numbered
// versions, globally unique schema ids (from 1), and compatibility levels (global and
// per subject). Every change is a log_record (the same key/value shapes Confluent's
// registry keeps in its _schemas topic); the state is rebuilt by applying the records
// of the compacted topic in order. No I/O here.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "registry/schema.h"

namespace sluice::registry {

/// One record of the registry log. `value` empty = tombstone.
struct log_record {
  std::string key;
  std::optional<std::string> value;
};

/// One registered version of a subject.
struct schema_entry {
  std::string subject;
  int version = 0;
  int id = 0;
  std::string schema;  ///< normalised schema text
  bool deleted = false;
  std::string identity;  ///< identity_of(schema), filled in by state::apply
  bool operator==(const schema_entry&) const = default;
};

/// The log record that stores (or soft-deletes, with entry.deleted) a version.
log_record make_schema_record(const schema_entry& entry);
/// The log record that sets the global level (subject empty) or a subject's level.
log_record make_config_record(const std::optional<std::string>& subject, compatibility level);

/// The default compatibility level, as in Confluent's registry.
inline constexpr compatibility default_compatibility = compatibility::backward;

class state {
 public:
  /// Applies one log record. A record this version does not understand, or whose key or
  /// value is malformed (not a JSON object, JSON nested deeper than max_json_nesting, a
  /// field missing or of the wrong type, an id or version outside [1, 2^31-2]) is an
  /// error (errc::parse) naming the key and what is wrong; the state is then unchanged.
  /// Never throws: replaying a topic skips such records and keeps going.
  result<void> apply(const log_record& record);

  /// Subjects with at least one live version (or any version, with include_deleted).
  std::vector<std::string> subjects(bool include_deleted) const;
  /// Every version of a subject, oldest first, soft-deleted ones included; nullptr if
  /// the subject never existed.
  const std::vector<schema_entry>* history(const std::string& subject) const;
  /// Live versions of a subject, oldest first.
  std::vector<schema_entry> live_versions(const std::string& subject) const;
  /// A live version by number, or the latest live version for version -1.
  std::optional<schema_entry> find_version(const std::string& subject, int version) const;
  /// The live version of `subject` whose schema has this identity (see
  /// avro_schema::identity()).
  std::optional<schema_entry> find_schema(const std::string& subject,
                                          const std::string& identity) const;

  /// Schema text by id.
  const std::string* schema_by_id(int id) const;
  /// The id already given to a schema with this identity (under any subject).
  std::optional<int> id_of(const std::string& identity) const;
  /// (subject, version) pairs that use an id, live ones only.
  std::vector<std::pair<std::string, int>> usages(int id) const;

  /// The id the next new schema gets.
  int next_id() const { return next_id_; }
  /// The version number the next registration under `subject` gets.
  int next_version(const std::string& subject) const;

  compatibility global_level() const { return global_level_.value_or(default_compatibility); }
  std::optional<compatibility> subject_level(const std::string& subject) const;
  /// The level that applies to a subject: its own, else the global one.
  compatibility effective_level(const std::string& subject) const;

 private:
  result<void> apply_schema(const std::string& subject, int version,
                            const std::optional<std::string>& value);
  result<void> apply_config(const std::optional<std::string>& subject,
                            const std::optional<std::string>& value);

  std::map<std::string, std::vector<schema_entry>> subjects_;
  std::map<int, std::string> schemas_;
  std::map<std::string, int> ids_;  // by schema identity
  std::optional<compatibility> global_level_;
  std::map<std::string, compatibility> subject_levels_;
  int next_id_ = 1;
};

}  // namespace sluice::registry
