// The registry state machine (see state.h). Records come from a topic anyone with write
// access can fill, so every field is checked for presence, type and range before the
// state changes; a refused record leaves the state as it was and never throws.
#include "registry/state.h"

#include <algorithm>
#include <climits>
#include <cstdint>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "registry/bounded_json.h"

namespace sluice::registry {
namespace {

using json = nlohmann::ordered_json;

// The JSON type of a value, for messages.
std::string_view type_name(const json& v) {
  return v.type_name();
}

// An optional string field: absent or null -> nullopt; another type -> an error naming it.
result<std::optional<std::string>> optional_string(const json& obj, std::string_view name,
                                                   std::string_view where) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) {
    return make_error(errc::parse, "{}: \"{}\" is {}, expected a string", where, name,
                      type_name(*it));
  }
  return std::optional<std::string>(it->get<std::string>());
}

// A required integer field in [lo, hi].
result<int> int_field(const json& obj, std::string_view name, int lo, int hi,
                      std::string_view where) {
  auto it = obj.find(name);
  if (it == obj.end()) return make_error(errc::parse, "{}: \"{}\" is missing", where, name);
  if (!it->is_number_integer()) {
    return make_error(errc::parse, "{}: \"{}\" is {} {}, expected an integer", where, name,
                      type_name(*it), clipped(it->dump()));
  }
  // Unsigned first: a number above INT64_MAX must not wrap around into range.
  bool in_range = it->is_number_unsigned()
                      ? it->get<std::uint64_t>() <= static_cast<std::uint64_t>(hi) &&
                            static_cast<std::int64_t>(it->get<std::uint64_t>()) >= lo
                      : it->get<std::int64_t>() >= lo && it->get<std::int64_t>() <= hi;
  if (!in_range) {
    return make_error(errc::parse, "{}: \"{}\" is {}, outside [{}, {}]", where, name, it->dump(),
                      lo, hi);
  }
  return static_cast<int>(it->get<std::int64_t>());
}

// An optional field that must have a given JSON type when present.
result<void> optional_of_type(const json& obj, std::string_view name, json::value_t type,
                              std::string_view expected, std::string_view where) {
  auto it = obj.find(name);
  if (it == obj.end() || it->type() == type) return ok();
  if (type == json::value_t::number_integer && it->is_number_integer()) return ok();
  return make_error(errc::parse, "{}: \"{}\" is {}, expected {}", where, name, type_name(*it),
                    expected);
}

// Ids and versions leave room for the next one: the largest is INT_MAX - 1.
constexpr int max_number = INT_MAX - 1;

// The entry a SCHEMA record's value describes, every field checked.
result<schema_entry> parse_schema_value(const std::string& subject, int version,
                                        const std::string& value) {
  auto where = fmt::format("registry log value for {} version {}", clipped(subject), version);
  auto doc = parse_bounded_json<json>(value, where, max_json_nesting);
  if (!doc) return doc.err();
  if (!doc->is_object()) {
    return make_error(errc::parse, "{} is {}, expected a JSON object", where, type_name(*doc));
  }
  schema_entry entry;
  entry.subject = subject;
  entry.version = version;
  auto id = int_field(*doc, "id", 1, max_number, where);
  if (!id) return id.err();
  entry.id = *id;
  auto schema = doc->find("schema");
  if (schema == doc->end() || !schema->is_string()) {
    return make_error(errc::parse, "{}: \"schema\" is {}, expected a string", where,
                      schema == doc->end() ? "missing" : type_name(*schema));
  }
  entry.schema = schema->get<std::string>();
  auto deleted = doc->find("deleted");
  if (deleted != doc->end() && !deleted->is_boolean()) {
    return make_error(errc::parse, "{}: \"deleted\" is {}, expected a boolean", where,
                      type_name(*deleted));
  }
  entry.deleted = deleted != doc->end() && deleted->get<bool>();
  for (const auto* name : {"subject", "schemaType"}) {
    if (auto r = optional_string(*doc, name, where); !r) return r.err();
  }
  if (auto r =
          optional_of_type(*doc, "version", json::value_t::number_integer, "an integer", where);
      !r) {
    return r.err();
  }
  if (auto r = optional_of_type(*doc, "references", json::value_t::array, "an array", where); !r) {
    return r.err();
  }
  entry.identity = identity_of(entry.schema);
  return entry;
}

}  // namespace

log_record make_schema_record(const schema_entry& e) {
  json key = {{"keytype", "SCHEMA"}, {"subject", e.subject}, {"version", e.version}, {"magic", 1}};
  json value = {{"subject", e.subject},
                {"version", e.version},
                {"id", e.id},
                {"schema", e.schema},
                {"deleted", e.deleted}};
  return {key.dump(), value.dump()};
}

log_record make_config_record(const std::optional<std::string>& subject, compatibility level) {
  json key = {{"keytype", "CONFIG"}, {"subject", nullptr}, {"magic", 0}};
  if (subject) key["subject"] = *subject;
  json value = {{"compatibilityLevel", std::string(to_string(level))}};
  return {key.dump(), value.dump()};
}

result<void> state::apply(const log_record& record) {
  auto where = fmt::format("registry log key '{}'", clipped(record.key));
  auto key = parse_bounded_json<json>(record.key, where, max_json_nesting);
  if (!key) return key.err();
  if (!key->is_object()) {
    return make_error(errc::parse, "{} is {}, expected a JSON object", where, type_name(*key));
  }
  auto keytype = optional_string(*key, "keytype", where);
  if (!keytype) return keytype.err();
  auto subject = optional_string(*key, "subject", where);
  if (!subject) return subject.err();
  if (auto magic =
          optional_of_type(*key, "magic", json::value_t::number_integer, "an integer", where);
      !magic) {
    return magic.err();
  }
  if (*keytype == "SCHEMA") {
    if (!*subject) return make_error(errc::parse, "{}: SCHEMA record without a subject", where);
    auto version = int_field(*key, "version", 1, max_number, where);
    if (!version) return version.err();
    return apply_schema(**subject, *version, record.value);
  }
  if (*keytype == "CONFIG") return apply_config(*subject, record.value);
  if (*keytype == "NOOP" || *keytype == "DELETE_SUBJECT" || *keytype == "CLEAR_SUBJECT") {
    return ok();  // written by Confluent's registry; the SCHEMA records carry the effect
  }
  return make_error(errc::parse, "{} is not a known record (keytype {})", where,
                    keytype->value_or("missing"));
}

result<void> state::apply_schema(const std::string& subject, int version,
                                 const std::optional<std::string>& value) {
  if (!value) {  // tombstone: the version is gone for good
    auto it = subjects_.find(subject);
    if (it == subjects_.end()) return ok();
    std::erase_if(it->second, [&](const schema_entry& e) { return e.version == version; });
    if (it->second.empty()) subjects_.erase(it);
    return ok();
  }
  auto parsed = parse_schema_value(subject, version, *value);
  if (!parsed) return parsed.err();
  auto entry = std::move(*parsed);
  schemas_.emplace(entry.id, entry.schema);
  ids_.emplace(entry.identity, entry.id);
  next_id_ = std::max(next_id_, entry.id + 1);
  auto& versions = subjects_[subject];
  auto pos = std::find_if(versions.begin(), versions.end(),
                          [&](const schema_entry& e) { return e.version == version; });
  if (pos != versions.end()) {
    *pos = std::move(entry);
  } else {
    versions.push_back(std::move(entry));
    std::sort(versions.begin(), versions.end(),
              [](const schema_entry& a, const schema_entry& b) { return a.version < b.version; });
  }
  return ok();
}

result<void> state::apply_config(const std::optional<std::string>& subject,
                                 const std::optional<std::string>& value) {
  if (!value) {
    if (subject) {
      subject_levels_.erase(*subject);
    } else {
      global_level_.reset();
    }
    return ok();
  }
  auto where = fmt::format("registry config record for {}",
                           subject ? "subject " + clipped(*subject) : std::string("global"));
  auto doc = parse_bounded_json<json>(*value, where, max_json_nesting);
  if (!doc) return doc.err();
  auto field = doc->is_object() ? doc->find("compatibilityLevel") : doc->end();
  if (field == doc->end() || !field->is_string()) {
    return make_error(errc::parse, "{}: '{}' has no \"compatibilityLevel\" string", where,
                      clipped(*value));
  }
  const auto& name = field->get_ref<const std::string&>();
  auto level = parse_compatibility(name);
  if (!level) {
    return make_error(errc::parse, "{} has unknown level '{}'", where, clipped(name));
  }
  if (subject) {
    subject_levels_[*subject] = *level;
  } else {
    global_level_ = *level;
  }
  return ok();
}

std::vector<std::string> state::subjects(bool include_deleted) const {
  std::vector<std::string> out;
  for (const auto& [name, versions] : subjects_) {
    bool live = std::any_of(versions.begin(), versions.end(),
                            [](const schema_entry& e) { return !e.deleted; });
    if (live || include_deleted) out.push_back(name);
  }
  return out;
}

const std::vector<schema_entry>* state::history(const std::string& subject) const {
  auto it = subjects_.find(subject);
  return it == subjects_.end() ? nullptr : &it->second;
}

std::vector<schema_entry> state::live_versions(const std::string& subject) const {
  std::vector<schema_entry> out;
  if (const auto* all = history(subject)) {
    std::copy_if(all->begin(), all->end(), std::back_inserter(out),
                 [](const schema_entry& e) { return !e.deleted; });
  }
  return out;
}

std::optional<schema_entry> state::find_version(const std::string& subject, int version) const {
  auto live = live_versions(subject);
  if (live.empty()) return std::nullopt;
  if (version == -1) return live.back();
  for (auto& e : live) {
    if (e.version == version) return e;
  }
  return std::nullopt;
}

std::optional<schema_entry> state::find_schema(const std::string& subject,
                                               const std::string& identity) const {
  for (auto& e : live_versions(subject)) {
    if (e.identity == identity) return e;
  }
  return std::nullopt;
}

const std::string* state::schema_by_id(int id) const {
  auto it = schemas_.find(id);
  return it == schemas_.end() ? nullptr : &it->second;
}

std::optional<int> state::id_of(const std::string& identity) const {
  auto it = ids_.find(identity);
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::pair<std::string, int>> state::usages(int id) const {
  std::vector<std::pair<std::string, int>> out;
  for (const auto& [name, versions] : subjects_) {
    for (const auto& e : versions) {
      if (e.id == id && !e.deleted) out.emplace_back(name, e.version);
    }
  }
  return out;
}

int state::next_version(const std::string& subject) const {
  const auto* all = history(subject);
  return all == nullptr || all->empty() ? 1 : all->back().version + 1;
}

std::optional<compatibility> state::subject_level(const std::string& subject) const {
  auto it = subject_levels_.find(subject);
  if (it == subject_levels_.end()) return std::nullopt;
  return it->second;
}

compatibility state::effective_level(const std::string& subject) const {
  return subject_level(subject).value_or(global_level());
}

}  // namespace sluice::registry
