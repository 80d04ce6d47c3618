// Avro schema parsing (avro-c) and compatibility by Avro schema resolution.
//
// Why the resolution rules are walked here instead of asking avro-c's resolver
// (avro_resolved_writer_new / avro_resolved_reader_new): avro-c 1.11 drops field
// defaults when it parses a schema, so its resolver refuses every reader field that the
// writer lacks, even one with a default ("Reader field b doesn't appear in writer"),
// which would make the most common compatible change (a new optional field) look
// incompatible. It also accepts, at resolver-creation time, cases that only fail when a
// record is read (a writer union branch the reader cannot take, an enum symbol the
// reader lacks). So avro-c parses and validates the schemas and resolves named types;
// the walk below applies the specification's resolution rules to avro-c's parsed
// schemas, taking the field and enum defaults from the JSON text.
#include "registry/schema.h"

#include <avro.h>

#include <array>
#include <map>
#include <set>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

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

struct avro_schema::impl {
  avro_schema_t schema = nullptr;
  std::string normalized;
  std::string identity;
  // Full names of records -> names of their fields that declare a default.
  std::map<std::string, std::set<std::string>> field_defaults;
  // Full names of enums that declare a default symbol.
  std::set<std::string> enum_defaults;
  // Full names of records -> their field names in order (avro-c 1.11 cannot tell how
  // many fields a record has: index lookups past the end return a stale field).
  std::map<std::string, std::vector<std::string>> record_fields;

  ~impl() {
    if (schema != nullptr) avro_schema_decref(schema);
  }
};

namespace {

using json = nlohmann::ordered_json;

std::string full_name(const std::string& name, const std::string& ns) {
  if (name.find('.') != std::string::npos || ns.empty()) return name;
  return ns + "." + name;
}

// Collects the defaults avro-c does not keep, tracking the enclosing namespace as the
// Avro specification defines it.
void collect_defaults(const json& node, const std::string& ns, avro_schema::impl& out) {
  if (node.is_array()) {
    for (const auto& branch : node) collect_defaults(branch, ns, out);
    return;
  }
  if (!node.is_object()) return;
  auto type_it = node.find("type");
  if (type_it == node.end()) return;
  if (!type_it->is_string()) {
    collect_defaults(*type_it, ns, out);
    return;
  }
  const auto& type = type_it->get_ref<const std::string&>();
  if (type == "array" && node.contains("items")) return collect_defaults(node["items"], ns, out);
  if (type == "map" && node.contains("values")) return collect_defaults(node["values"], ns, out);
  if (type != "record" && type != "error" && type != "enum" && type != "fixed") return;
  if (!node.contains("name") || !node["name"].is_string()) return;
  auto name = node["name"].get<std::string>();
  std::string own_ns = ns;
  if (auto dot = name.rfind('.'); dot != std::string::npos) {
    own_ns = name.substr(0, dot);
  } else if (node.contains("namespace") && node["namespace"].is_string()) {
    own_ns = node["namespace"].get<std::string>();
  }
  auto fname = full_name(name, own_ns);
  if (type == "enum") {
    if (node.contains("default")) out.enum_defaults.insert(fname);
    return;
  }
  if (type == "fixed" || !node.contains("fields") || !node["fields"].is_array()) return;
  auto& defaults = out.field_defaults[fname];
  auto& names = out.record_fields[fname];
  for (const auto& field : node["fields"]) {
    if (!field.is_object()) continue;
    if (field.contains("name") && field["name"].is_string()) {
      names.push_back(field["name"].get<std::string>());
    }
    if (field.contains("default") && field.contains("name") && field["name"].is_string()) {
      defaults.insert(field["name"].get<std::string>());
    }
    if (field.contains("type")) collect_defaults(field["type"], own_ns, out);
  }
}

avro_schema_t deref(avro_schema_t s) {
  while (s != nullptr && is_avro_link(s)) s = avro_schema_link_target(s);
  return s;
}

std::string named_full_name(avro_schema_t s) {
  const char* ns = avro_schema_namespace(s);
  return full_name(avro_schema_name(s), ns != nullptr ? ns : "");
}

std::string label(avro_schema_t s) {
  switch (avro_typeof(s)) {
    case AVRO_STRING:
      return "string";
    case AVRO_BYTES:
      return "bytes";
    case AVRO_INT32:
      return "int";
    case AVRO_INT64:
      return "long";
    case AVRO_FLOAT:
      return "float";
    case AVRO_DOUBLE:
      return "double";
    case AVRO_BOOLEAN:
      return "boolean";
    case AVRO_NULL:
      return "null";
    case AVRO_RECORD:
      return "record " + named_full_name(s);
    case AVRO_ENUM:
      return "enum " + named_full_name(s);
    case AVRO_FIXED:
      return "fixed " + named_full_name(s);
    case AVRO_MAP:
      return "map";
    case AVRO_ARRAY:
      return "array";
    case AVRO_UNION:
      return "union";
    default:
      return "link";
  }
}

// Promotions the specification allows from a writer type to a reader type.
bool promotes(avro_type_t writer, avro_type_t reader) {
  switch (writer) {
    case AVRO_INT32:
      return reader == AVRO_INT64 || reader == AVRO_FLOAT || reader == AVRO_DOUBLE;
    case AVRO_INT64:
      return reader == AVRO_FLOAT || reader == AVRO_DOUBLE;
    case AVRO_FLOAT:
      return reader == AVRO_DOUBLE;
    case AVRO_STRING:
      return reader == AVRO_BYTES;
    case AVRO_BYTES:
      return reader == AVRO_STRING;
    default:
      return false;
  }
}

class resolver {
 public:
  resolver(const avro_schema::impl& reader, const avro_schema::impl& writer)
      : reader_(reader), writer_(writer) {}

  std::vector<std::string> run() {
    check(reader_.schema, writer_.schema, "");
    return std::move(problems_);
  }

 private:
  void problem(const std::string& path, std::string what) {
    problems_.push_back(fmt::format("{}: {}", path.empty() ? "/" : path, std::move(what)));
  }

  // Would this pair resolve? (Used to pick a reader union branch without reporting.)
  bool resolves(avro_schema_t rs, avro_schema_t ws) {
    resolver probe(reader_, writer_);
    probe.seen_ = seen_;
    probe.check(rs, ws, "");
    return probe.problems_.empty();
  }

  void check(avro_schema_t rs, avro_schema_t ws, const std::string& path) {
    rs = deref(rs);
    ws = deref(ws);
    // Recursive types: a pair already under examination is assumed to resolve.
    if (!seen_.insert({rs, ws}).second) return;
    auto rt = avro_typeof(rs);
    auto wt = avro_typeof(ws);

    if (wt == AVRO_UNION) {
      // Every branch the writer may have used must be readable.
      for (size_t i = 0; i < avro_schema_union_size(ws); ++i) {
        check(rs, avro_schema_union_branch(ws, static_cast<int>(i)),
              fmt::format("{}[{}]", path, i));
      }
      return;
    }
    if (rt == AVRO_UNION) {
      for (size_t i = 0; i < avro_schema_union_size(rs); ++i) {
        if (resolves(avro_schema_union_branch(rs, static_cast<int>(i)), ws)) return;
      }
      problem(path,
              fmt::format("writer type {} matches no branch of the reader's union", label(ws)));
      return;
    }
    if (rt != wt) {
      if (!promotes(wt, rt)) {
        problem(path,
                fmt::format("reader type {} cannot read writer type {}", label(rs), label(ws)));
      }
      return;
    }
    switch (rt) {
      case AVRO_RECORD:
        return check_record(rs, ws, path);
      case AVRO_ENUM:
        return check_enum(rs, ws, path);
      case AVRO_FIXED:
        if (std::string_view(avro_schema_name(rs)) != avro_schema_name(ws) ||
            avro_schema_fixed_size(rs) != avro_schema_fixed_size(ws)) {
          problem(path, fmt::format("fixed {} (size {}) cannot read fixed {} (size {})",
                                    avro_schema_name(rs), avro_schema_fixed_size(rs),
                                    avro_schema_name(ws), avro_schema_fixed_size(ws)));
        }
        return;
      case AVRO_ARRAY:
        return check(avro_schema_array_items(rs), avro_schema_array_items(ws), path + "/items");
      case AVRO_MAP:
        return check(avro_schema_map_values(rs), avro_schema_map_values(ws), path + "/values");
      default:
        return;  // same primitive type
    }
  }

  // The reader's JSON-side key for a record avro-c parsed: its full name, or, should
  // avro-c not report the inherited namespace, the one record with that simple name.
  std::string record_key(avro_schema_t rs) const {
    auto full = named_full_name(rs);
    if (reader_.record_fields.count(full) > 0) return full;
    std::string suffix = std::string(".") + avro_schema_name(rs);
    for (const auto& [name, fields] : reader_.record_fields) {
      if (name == avro_schema_name(rs) ||
          (name.size() > suffix.size() &&
           name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)) {
        return name;
      }
    }
    return full;
  }

  void check_record(avro_schema_t rs, avro_schema_t ws, const std::string& path) {
    // Records match by unqualified name, as Confluent's checker does.
    if (std::string_view(avro_schema_name(rs)) != avro_schema_name(ws)) {
      problem(path, fmt::format("reader record {} cannot read writer record {}",
                                avro_schema_name(rs), avro_schema_name(ws)));
      return;
    }
    auto key = record_key(rs);
    auto defaults_it = reader_.field_defaults.find(key);
    auto fields_it = reader_.record_fields.find(key);
    if (fields_it == reader_.record_fields.end()) {
      problem(path, fmt::format("record {} not found in the reader's schema text", key));
      return;
    }
    for (const auto& name : fields_it->second) {
      const char* fname = name.c_str();
      auto fpath = fmt::format("{}/{}", path, fname);
      int rindex = avro_schema_record_field_get_index(rs, fname);
      int windex = avro_schema_record_field_get_index(ws, fname);
      if (rindex >= 0 && windex >= 0) {
        check(avro_schema_record_field_get_by_index(rs, rindex),
              avro_schema_record_field_get_by_index(ws, windex), fpath);
        continue;
      }
      bool has_default =
          defaults_it != reader_.field_defaults.end() && defaults_it->second.count(fname) > 0;
      if (!has_default) {
        problem(fpath, fmt::format("reader field '{}' is missing from the writer's data and "
                                   "has no default",
                                   fname));
      }
    }
  }

  void check_enum(avro_schema_t rs, avro_schema_t ws, const std::string& path) {
    if (std::string_view(avro_schema_name(rs)) != avro_schema_name(ws)) {
      problem(path, fmt::format("reader enum {} cannot read writer enum {}", avro_schema_name(rs),
                                avro_schema_name(ws)));
      return;
    }
    if (reader_.enum_defaults.count(named_full_name(rs)) > 0) return;
    for (int i = 0; i < avro_schema_enum_number_of_symbols(ws); ++i) {
      const char* symbol = avro_schema_enum_get(ws, i);
      if (avro_schema_enum_get_by_name(rs, symbol) < 0) {
        problem(path, fmt::format("writer enum symbol '{}' is unknown to the reader, which has "
                                  "no default",
                                  symbol));
      }
    }
  }

  const avro_schema::impl& reader_;
  const avro_schema::impl& writer_;
  std::set<std::pair<avro_schema_t, avro_schema_t>> seen_;
  std::vector<std::string> problems_;
};

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
  try {
    return nlohmann::json::parse(schema_text).dump();  // std::map keys: sorted
  } catch (const nlohmann::json::exception&) {
    return {};
  }
}

result<avro_schema> avro_schema::parse(std::string_view text) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    return make_error(errc::parse, "schema is not valid JSON: {}", e.what());
  }
  auto p = std::make_unique<impl>();
  // avro-c wants the bare JSON (a quoted name for primitive schemas).
  auto compact = doc.dump();
  if (avro_schema_from_json_length(compact.data(), compact.size(), &p->schema) != 0) {
    p->schema = nullptr;
    return make_error(errc::parse, "invalid Avro schema: {}", avro_strerror());
  }
  p->identity = nlohmann::json(doc).dump();
  p->normalized = std::move(compact);
  collect_defaults(doc, "", *p);
  return avro_schema(std::move(p));
}

std::vector<std::string> resolution_problems(const avro_schema& reader, const avro_schema& writer) {
  return resolver(reader.internals(), writer.internals()).run();
}

std::vector<std::string> compatibility_problems(compatibility level, const avro_schema& candidate,
                                                const std::vector<existing_version>& existing) {
  std::vector<std::string> out;
  if (level == compatibility::none || existing.empty()) return out;
  bool transitive = level == compatibility::backward_transitive ||
                    level == compatibility::forward_transitive ||
                    level == compatibility::full_transitive;
  bool backward = level != compatibility::forward && level != compatibility::forward_transitive;
  bool forward = level != compatibility::backward && level != compatibility::backward_transitive;
  auto first = transitive ? existing.begin() : existing.end() - 1;
  for (auto it = first; it != existing.end(); ++it) {
    if (backward) {
      for (auto& p : resolution_problems(candidate, *it->schema)) {
        out.push_back(
            fmt::format("new schema cannot read data written with version {}: {}", it->version, p));
      }
    }
    if (forward) {
      for (auto& p : resolution_problems(*it->schema, candidate)) {
        out.push_back(fmt::format("version {} cannot read data written with the new schema: {}",
                                  it->version, p));
      }
    }
  }
  return out;
}

}  // namespace sluice::registry
