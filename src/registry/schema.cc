// Avro schema parsing (avro-c, behind JSON and type nesting limits), identity, and the
// compatibility levels on top of schema resolution (resolver.cc walks the rules).
#include "registry/schema.h"

#include <avro.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <set>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "registry/bounded_json.h"
#include "registry/resolver.h"
#include "registry/schema_impl.h"

namespace sluice::registry {

namespace {
constexpr std::array<std::pair<compatibility, std::string_view>, 7> level_names{{
    {compatibility::none, "NONE"},
    {compatibility::backward, "BACKWARD"},
    {compatibility::backward_transitive, "BACKWARD_TRANSITIVE"},
    {compatibility::forward, "FORWARD"},
    {compatibility::forward_transitive, "FORWARD_TRANSITIVE"},
    {compatibility::full, "FULL"},
    {compatibility::full_transitive, "FULL_TRANSITIVE"},
}};
}  // namespace

std::string_view to_string(compatibility level) {
  for (const auto& [l, name] : level_names) {
    if (l == level) return name;
  }
  return "UNKNOWN";
}

std::optional<compatibility> parse_compatibility(std::string_view name) {
  for (const auto& [l, n] : level_names) {
    if (n == name) return l;
  }
  return std::nullopt;
}

std::string avro_full_name(const std::string& name, const std::string& ns) {
  if (name.find('.') != std::string::npos || ns.empty()) return name;
  return ns + "." + name;
}

namespace {

using json = nlohmann::ordered_json;

// Collects the defaults avro-c does not keep, tracking the enclosing namespace as the
// Avro specification defines it, and refuses a named type defined twice (invalid Avro;
// avro-c 1.11 refuses it too, but leaks the half-built type when it does).
class defaults_collector {
 public:
  explicit defaults_collector(avro_schema::impl& out) : out_(out) {}

  result<void> walk(const json& node, const std::string& ns) {
    if (node.is_array()) {
      for (const auto& branch : node) {
        if (auto r = walk(branch, ns); !r) return r;
      }
      return ok();
    }
    if (!node.is_object()) return ok();
    auto type_it = node.find("type");
    if (type_it == node.end()) return ok();
    if (!type_it->is_string()) return walk(*type_it, ns);
    const auto& type = type_it->get_ref<const std::string&>();
    if (type == "array" && node.contains("items")) return walk(node["items"], ns);
    if (type == "map" && node.contains("values")) return walk(node["values"], ns);
    if (type != "record" && type != "error" && type != "enum" && type != "fixed") return ok();
    if (!node.contains("name") || !node["name"].is_string()) return ok();
    return named(node, type, ns);
  }

 private:
  result<void> named(const json& node, const std::string& type, const std::string& ns) {
    auto name = node["name"].get<std::string>();
    std::string own_ns = ns;
    if (auto dot = name.rfind('.'); dot != std::string::npos) {
      own_ns = name.substr(0, dot);
    } else if (node.contains("namespace") && node["namespace"].is_string()) {
      own_ns = node["namespace"].get<std::string>();
    }
    auto fname = avro_full_name(name, own_ns);
    if (!defined_.insert(fname).second) {
      return make_error(errc::parse, "invalid Avro schema: named type {} is defined twice",
                        clipped(fname));
    }
    if (type == "enum") {
      if (node.contains("default")) out_.enum_defaults.insert(fname);
      return ok();
    }
    if (type == "fixed" || !node.contains("fields") || !node["fields"].is_array()) return ok();
    auto& defaults = out_.field_defaults[fname];
    auto& names = out_.record_fields[fname];
    for (const auto& field : node["fields"]) {
      if (!field.is_object()) continue;
      bool named_field = field.contains("name") && field["name"].is_string();
      if (named_field) names.push_back(field["name"].get<std::string>());
      if (named_field && field.contains("default")) {
        defaults.insert(field["name"].get<std::string>());
      }
      if (!field.contains("type")) continue;
      if (auto r = walk(field["type"], own_ns); !r) return r;
    }
    return ok();
  }

  avro_schema::impl& out_;
  std::set<std::string> defined_;  // full names of the named types met so far
};

// avro-c keeps its last error message in one process-wide buffer (not per thread):
// parses are serialised so that each reads its own message.
std::mutex avro_parse_mutex;

result<void> avro_parse(const std::string& compact, avro_schema_t& out) {
  std::lock_guard lock(avro_parse_mutex);
  if (avro_schema_from_json_length(compact.data(), compact.size(), &out) != 0) {
    out = nullptr;
    return make_error(errc::parse, "invalid Avro schema: {}", clipped(avro_strerror(), 400));
  }
  return ok();
}

// How deep Avro types nest in `node`: each record, array, map, union or object-form type
// opens a level, a name (primitive or reference) opens none. Counting stops a level past
// `limit`. Recursion is bounded by the JSON nesting limit the document was parsed with.
int type_depth(const json& node, int limit) {
  if (limit < 0) return 0;
  int inner = 0;
  auto deepest = [&inner, limit](const json& child) {
    inner = std::max(inner, type_depth(child, limit - 1));
    return inner > limit - 1;  // past the limit already: stop looking
  };
  if (node.is_array()) {
    for (const auto& branch : node) {
      if (deepest(branch)) break;
    }
    return 1 + inner;
  }
  if (!node.is_object()) return 0;
  auto type = node.find("type");
  if (type == node.end()) return 1;
  if (!type->is_string()) {
    deepest(*type);
    return 1 + inner;
  }
  const auto& name = type->get_ref<const std::string&>();
  if (name == "array" && node.contains("items")) deepest(node["items"]);
  if (name == "map" && node.contains("values")) deepest(node["values"]);
  if ((name == "record" || name == "error") && node.contains("fields") &&
      node["fields"].is_array()) {
    for (const auto& field : node["fields"]) {
      if (field.is_object() && field.contains("type") && deepest(field["type"])) break;
    }
  }
  return 1 + inner;
}

}  // namespace

avro_schema::avro_schema(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
avro_schema::avro_schema(avro_schema&&) noexcept = default;
avro_schema& avro_schema::operator=(avro_schema&&) noexcept = default;
avro_schema::~avro_schema() = default;

const std::string& avro_schema::normalized() const {
  return impl_->normalized;
}
const std::string& avro_schema::identity() const {
  return impl_->identity;
}

std::string identity_of(std::string_view schema_text) {
  auto doc = parse_bounded_json<nlohmann::json>(schema_text, "schema", max_json_nesting);
  return doc ? doc->dump() : std::string();  // std::map keys: sorted
}

result<avro_schema> avro_schema::parse(std::string_view text) {
  auto doc = parse_bounded_json<json>(text, "schema", max_json_nesting);
  if (!doc) return doc.err();
  if (int depth = type_depth(*doc, max_type_nesting); depth > max_type_nesting) {
    return make_error(errc::parse, "schema nests Avro types deeper than {} levels (the limit)",
                      max_type_nesting);
  }
  auto p = std::make_unique<impl>();
  if (auto collected = defaults_collector(*p).walk(*doc, ""); !collected) return collected.err();
  // avro-c wants the bare JSON (a quoted name for primitive schemas).
  auto compact = doc->dump();
  if (auto parsed = avro_parse(compact, p->schema); !parsed) return parsed.err();
  p->identity = nlohmann::json(*doc).dump();
  p->normalized = std::move(compact);
  return avro_schema(std::move(p));
}

result<std::vector<std::string>> resolution_problems(const avro_schema& reader,
                                                     const avro_schema& writer,
                                                     std::uint64_t max_steps) {
  check_budget budget(max_steps);
  return resolve(reader.internals(), writer.internals(), budget);
}

result<std::vector<std::string>> compatibility_problems(
    compatibility level, const avro_schema& candidate,
    const std::vector<existing_version>& existing, std::uint64_t max_steps) {
  std::vector<std::string> out;
  if (level == compatibility::none || existing.empty()) return out;
  bool transitive = level == compatibility::backward_transitive ||
                    level == compatibility::forward_transitive ||
                    level == compatibility::full_transitive;
  bool backward = level != compatibility::forward && level != compatibility::forward_transitive;
  bool forward = level != compatibility::backward && level != compatibility::backward_transitive;
  check_budget budget(max_steps);  // one budget for every version checked
  auto first = transitive ? existing.begin() : existing.end() - 1;
  for (auto it = first; it != existing.end(); ++it) {
    if (backward) {
      auto found = resolve(candidate.internals(), it->schema->internals(), budget);
      if (!found) {
        return make_error(found.err().code, "checking that the new schema reads version {}: {}",
                          it->version, found.err().message);
      }
      for (auto& p : *found) {
        out.push_back(
            fmt::format("new schema cannot read data written with version {}: {}", it->version, p));
      }
    }
    if (forward) {
      auto found = resolve(it->schema->internals(), candidate.internals(), budget);
      if (!found) {
        return make_error(found.err().code, "checking that version {} reads the new schema: {}",
                          it->version, found.err().message);
      }
      for (auto& p : *found) {
        out.push_back(fmt::format("version {} cannot read data written with the new schema: {}",
                                  it->version, p));
      }
    }
  }
  return out;
}

}  // namespace sluice::registry
