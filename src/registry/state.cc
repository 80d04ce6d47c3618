// The registry state machine (see state.h).
#include "registry/state.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace sluice::registry {
namespace {

using json = nlohmann::ordered_json;

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
  json key;
  try {
    key = json::parse(record.key);
  } catch (const json::exception& e) {
    return make_error(errc::parse, "registry log key '{}' is not JSON: {}", record.key, e.what());
  }
  auto keytype = key.value("keytype", std::string());
  std::optional<std::string> subject;
  if (key.contains("subject") && key["subject"].is_string()) {
    subject = key["subject"].get<std::string>();
  }
  if (keytype == "SCHEMA" && subject && key.contains("version") &&
      key["version"].is_number_integer()) {
    return apply_schema(*subject, key["version"].get<int>(), record.value);
  }
  if (keytype == "CONFIG") return apply_config(subject, record.value);
  if (keytype == "NOOP" || keytype == "DELETE_SUBJECT" || keytype == "CLEAR_SUBJECT") {
    return ok();  // written by Confluent's registry; the SCHEMA records carry the effect
  }
  return make_error(errc::parse, "registry log key '{}' is not a known record", record.key);
}

result<void> state::apply_schema(const std::string& subject, int version,
                                 const std::optional<std::string>& value) {
  auto& versions = subjects_[subject];
  auto pos = std::find_if(versions.begin(), versions.end(),
                          [&](const schema_entry& e) { return e.version == version; });
  if (!value) {  // tombstone: the version is gone for good
    if (pos != versions.end()) versions.erase(pos);
    if (versions.empty()) subjects_.erase(subject);
    return ok();
  }
  schema_entry entry;
  try {
    auto v = json::parse(*value);
    entry.subject = subject;
    entry.version = version;
    entry.id = v.at("id").get<int>();
    entry.schema = v.at("schema").get<std::string>();
    entry.deleted = v.value("deleted", false);
  } catch (const json::exception& e) {
    if (versions.empty()) subjects_.erase(subject);
    return make_error(errc::parse, "registry log value for {} version {} is invalid: {}", subject,
                      version, e.what());
  }
  if (entry.id < 1) {
    if (versions.empty()) subjects_.erase(subject);
    return make_error(errc::parse, "registry log value for {} version {} has id {}", subject,
                      version, entry.id);
  }
  entry.identity = identity_of(entry.schema);
  schemas_.emplace(entry.id, entry.schema);
  ids_.emplace(entry.identity, entry.id);
  next_id_ = std::max(next_id_, entry.id + 1);
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
  std::string name;
  try {
    name = json::parse(*value).at("compatibilityLevel").get<std::string>();
  } catch (const json::exception& e) {
    return make_error(errc::parse, "registry config record '{}' is invalid: {}", *value, e.what());
  }
  auto level = parse_compatibility(name);
  if (!level) {
    return make_error(errc::parse, "registry config record has unknown level '{}'", name);
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
