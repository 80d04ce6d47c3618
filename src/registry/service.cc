// The Confluent Schema Registry API over the registry state (see service.h).
// Path and query decoding are hand-written (a few lines): Boost 1.74 has no Boost.URL
// and the shared HTTP server hands over the raw target.
#include "registry/service.h"
#include "base/hex.h"

#include <charconv>
#include <climits>
#include <optional>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/log.h"
#include "registry/bounded_json.h"

namespace sluice::registry {
namespace {

using json = nlohmann::ordered_json;

std::string percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      int hi = hex_digit_value(text[i + 1]);
      int lo = hex_digit_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) out.push_back(percent_decode(path.substr(start, end - start), false));
    start = end + 1;
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start < query.size()) {
    auto end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    auto pair = query.substr(start, end - start);
    auto eq = pair.find('=');
    if (eq == std::string_view::npos) {
      out[percent_decode(pair, true)] = "";
    } else {
      out[percent_decode(pair.substr(0, eq), true)] = percent_decode(pair.substr(eq + 1), true);
    }
    start = end + 1;
  }
  return out;
}

// Invalid UTF-8 (echoed from a request into a message) is replaced, never thrown about.
api_response reply(int status, const json& body) {
  return {status, body.dump(-1, ' ', false, json::error_handler_t::replace)};
}

// Whether `text` is valid UTF-8, as every string in a JSON document must be.
bool valid_utf8(const std::string& text) {
  try {
    (void)nlohmann::json(text).dump();
    return true;
  } catch (const nlohmann::json::type_error&) {  // 316: invalid UTF-8 byte
    return false;
  }
}

api_response fail(int status, int code, std::string message) {
  return reply(status, json{{"error_code", code}, {"message", std::move(message)}});
}

api_response subject_not_found(const std::string& subject) {
  return fail(404, 40401, fmt::format("Subject '{}' not found.", subject));
}

// "latest" / -1 -> -1; a number in [1, 2^31-1] -> itself; otherwise empty.
std::optional<int> parse_version(const std::string& text) {
  if (text == "latest") return -1;
  int value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  if (value == -1 || value >= 1) return value;
  return std::nullopt;
}

api_response invalid_version(const std::string& text) {
  return fail(422, 42202,
              fmt::format("The specified version '{}' is not a valid version id. Allowed values "
                          "are between [1, 2^31-1] and the string \"latest\"",
                          text));
}

json entry_json(const schema_entry& e) {
  return json{{"subject", e.subject}, {"version", e.version}, {"id", e.id}, {"schema", e.schema}};
}

bool flag(const std::map<std::string, std::string>& query, const std::string& name) {
  auto it = query.find(name);
  return it != query.end() && (it->second == "true" || it->second.empty());
}

// The "schema" (and optional "schemaType") of a request body, parsed.
result<avro_schema> schema_of_body(const std::string& body) {
  auto parsed_body = parse_bounded_json<json>(body, "request body", max_json_nesting);
  if (!parsed_body) {
    // Not JSON: 400. Too deep: 422 (schema_error), naming the limit.
    if (parsed_body.err().detail == json_too_deep) return parsed_body.err();
    return make_error(errc::invalid_argument, "{}", parsed_body.err().message);
  }
  const json& doc = *parsed_body;
  if (!doc.is_object() || !doc.contains("schema") || !doc["schema"].is_string()) {
    return make_error(errc::parse, "request body has no \"schema\" string");
  }
  if (doc.contains("schemaType") && doc["schemaType"].is_string() &&
      doc["schemaType"].get<std::string>() != "AVRO") {
    return make_error(errc::parse, "schema type {} is not supported (only AVRO)",
                      clipped(doc["schemaType"].get<std::string>()));
  }
  if (doc.contains("references") && doc["references"].is_array() && !doc["references"].empty()) {
    return make_error(errc::parse, "schema references are not supported");
  }
  return avro_schema::parse(doc["schema"].get<std::string>());
}

}  // namespace

// One API call: the decoded request plus access to the service's state.
class service::call {
 public:
  call(service& svc, const api_request& req, std::optional<result<avro_schema>> schema)
      : svc_(svc),
        method_(req.method),
        parts_(split_path(req.path)),
        query_(parse_query(req.query)),
        body_(req.body),
        schema_(std::move(schema)) {}

  api_response dispatch() {
    const auto& p = parts_;
    auto n = p.size();
    for (size_t i = 0; i < n; ++i) {
      // A subject or version that no JSON record or answer could carry.
      if (!valid_utf8(p[i])) {
        return fail(400, 400,
                    fmt::format("HTTP 400 path segment {} ('{}') is not valid UTF-8", i + 1,
                                clipped(p[i])));
      }
    }
    if (n == 0) return method_is("GET") ? reply(200, json::object()) : not_allowed();
    if (p[0] == "subjects") {
      if (n == 1) return method_is("GET") ? list_subjects() : not_allowed();
      const auto& subject = p[1];
      if (n == 2) {
        if (method_is("POST")) return lookup(subject);
        if (method_is("DELETE")) return delete_subject(subject);
        return not_allowed();
      }
      if (p[2] != "versions") return not_found();
      if (n == 3) {
        if (method_is("GET")) return list_versions(subject);
        if (method_is("POST")) return register_schema(subject);
        return not_allowed();
      }
      if (n == 4) {
        if (method_is("GET")) return get_version(subject, p[3], false);
        if (method_is("DELETE")) return delete_version(subject, p[3]);
        return not_allowed();
      }
      if (n == 5 && p[4] == "schema") {
        return method_is("GET") ? get_version(subject, p[3], true) : not_allowed();
      }
      if (n == 5 && p[4] == "referencedby") {
        return method_is("GET") ? reply(200, json::array()) : not_allowed();
      }
      return not_found();
    }
    if (p[0] == "schemas") {
      if (n == 2 && p[1] == "types") {
        return method_is("GET") ? reply(200, json::array({"AVRO"})) : not_allowed();
      }
      if (n >= 3 && n <= 4 && p[1] == "ids") {
        if (!method_is("GET")) return not_allowed();
        if (n == 3) return get_by_id(p[2], false);
        if (p[3] == "versions") return get_by_id(p[2], true);
        if (p[3] == "schema") return get_raw_by_id(p[2]);
      }
      return not_found();
    }
    if (p[0] == "config") {
      if (n == 1) {
        if (method_is("GET")) return get_config(std::nullopt);
        if (method_is("PUT")) return put_config(std::nullopt);
        return not_allowed();
      }
      if (n == 2) {
        if (method_is("GET")) return get_config(p[1]);
        if (method_is("PUT")) return put_config(p[1]);
        if (method_is("DELETE")) return delete_config(p[1]);
        return not_allowed();
      }
      return not_found();
    }
    if (p[0] == "compatibility" && n >= 4 && p[1] == "subjects" && p[3] == "versions") {
      if (!method_is("POST")) return not_allowed();
      if (n == 4) return check_compatibility(p[2], std::nullopt);
      if (n == 5) return check_compatibility(p[2], p[4]);
    }
    return not_found();
  }

 private:
  bool method_is(std::string_view m) const { return method_ == m; }
  api_response not_found() { return fail(404, 404, "HTTP 404 Not Found"); }
  api_response not_allowed() { return fail(405, 405, "HTTP 405 Method Not Allowed"); }

  // ---- helpers ----

  // The schema of the request body, parsed (before the lock) by service::parse_body.
  result<avro_schema> body_schema() {
    if (!schema_) return make_error(errc::invalid_argument, "a {} request has no schema", method_);
    return std::move(*schema_);
  }

  api_response schema_error(const error& err) {
    if (err.code == errc::invalid_argument) return fail(400, 400, err.message);
    return fail(422, 42201, fmt::format("Invalid schema: {}", err.message));
  }

  const avro_schema* parsed(int id) {
    auto it = svc_.parsed_.find(id);
    if (it != svc_.parsed_.end()) return &it->second;
    const auto* text = svc_.state_.schema_by_id(id);
    if (text == nullptr) return nullptr;
    auto schema = avro_schema::parse(*text);
    if (!schema) return nullptr;
    return &svc_.parsed_.emplace(id, std::move(*schema)).first->second;
  }

  // Problems of `candidate` against `versions` under `level`; a stored schema that no
  // longer parses is reported as a problem rather than ignored. An error when the check
  // is too costly (see service.h).
  result<std::vector<std::string>> problems(compatibility level, const avro_schema& candidate,
                                            const std::vector<schema_entry>& versions) {
    std::vector<existing_version> existing;
    for (const auto& e : versions) {
      const auto* s = parsed(e.id);
      if (s == nullptr) {
        return std::vector<std::string>{
            fmt::format("stored schema id {} (version {}) does not parse", e.id, e.version)};
      }
      existing.push_back({e.version, s});
    }
    return compatibility_problems(level, candidate, existing, svc_.check_steps_);
  }

  // 422: the compatibility check was refused as too costly (err says why).
  api_response too_costly(const std::string& subject, const error& err) {
    return fail(422, 42201,
                fmt::format("Schema for subject \"{}\" was not checked: {}", subject, err.message));
  }

  // Appends to the log, then applies: the state only changes once Kafka has the record.
  std::optional<api_response> write(const log_record& record, std::string_view what) {
    if (auto r = svc_.writer_.append(record); !r) {
      int code = r.err().code == errc::timeout ? 50002 : 50001;
      return fail(500, code, fmt::format("Error while {}: {}", what, r.err().message));
    }
    if (auto r = svc_.state_.apply(record); !r) {
      return fail(500, 50001, fmt::format("Error while {}: {}", what, r.err().message));
    }
    return std::nullopt;
  }

  // ---- subjects and versions ----

  api_response list_subjects() {
    return reply(200, json(svc_.state_.subjects(flag(query_, "deleted"))));
  }

  api_response list_versions(const std::string& subject) {
    bool deleted = flag(query_, "deleted");
    const auto* all = svc_.state_.history(subject);
    json versions = json::array();
    if (all != nullptr) {
      for (const auto& e : *all) {
        if (!e.deleted || deleted) versions.push_back(e.version);
      }
    }
    if (versions.empty()) return subject_not_found(subject);
    return reply(200, versions);
  }

  api_response get_version(const std::string& subject, const std::string& v, bool raw) {
    auto version = parse_version(v);
    if (!version) return invalid_version(v);
    if (svc_.state_.live_versions(subject).empty()) return subject_not_found(subject);
    auto e = svc_.state_.find_version(subject, *version);
    if (!e) return fail(404, 40402, fmt::format("Version {} not found.", v));
    if (raw) return {200, e->schema};
    return reply(200, entry_json(*e));
  }

  api_response register_schema(const std::string& subject) {
    auto schema = body_schema();
    if (!schema) return schema_error(schema.err());
    const auto& text = schema->normalized();
    if (auto existing = svc_.state_.find_schema(subject, schema->identity())) {
      return reply(200, json{{"id", existing->id}});
    }
    auto level = svc_.state_.effective_level(subject);
    auto found = problems(level, *schema, svc_.state_.live_versions(subject));
    if (!found) return too_costly(subject, found.err());
    if (!found->empty()) {
      return fail(409, 409,
                  fmt::format("Schema being registered is incompatible with an earlier schema "
                              "for subject \"{}\" ({}), details: [{}]",
                              subject, to_string(level), fmt::join(*found, "; ")));
    }
    schema_entry entry{subject, svc_.state_.next_version(subject),
                       svc_.state_.id_of(schema->identity()).value_or(svc_.state_.next_id()), text,
                       false};
    if (auto failed = write(make_schema_record(entry), "registering schema")) return *failed;
    svc_.parsed_.emplace(entry.id, std::move(*schema));
    return reply(200, json{{"id", entry.id}});
  }

  api_response lookup(const std::string& subject) {
    auto schema = body_schema();
    if (!schema) return schema_error(schema.err());
    if (svc_.state_.live_versions(subject).empty()) return subject_not_found(subject);
    auto e = svc_.state_.find_schema(subject, schema->identity());
    if (!e) return fail(404, 40403, "Schema not found");
    return reply(200, entry_json(*e));
  }

  api_response delete_subject(const std::string& subject) {
    if (flag(query_, "permanent")) return permanent_unsupported();
    auto live = svc_.state_.live_versions(subject);
    if (live.empty()) return subject_not_found(subject);
    json deleted = json::array();
    for (auto e : live) {
      e.deleted = true;
      if (auto failed = write(make_schema_record(e), "deleting subject")) return *failed;
      deleted.push_back(e.version);
    }
    return reply(200, deleted);
  }

  api_response delete_version(const std::string& subject, const std::string& v) {
    if (flag(query_, "permanent")) return permanent_unsupported();
    auto version = parse_version(v);
    if (!version) return invalid_version(v);
    if (svc_.state_.live_versions(subject).empty()) return subject_not_found(subject);
    auto e = svc_.state_.find_version(subject, *version);
    if (!e) return fail(404, 40402, fmt::format("Version {} not found.", v));
    e->deleted = true;
    if (auto failed = write(make_schema_record(*e), "deleting version")) return *failed;
    return reply(200, e->version);
  }

  api_response permanent_unsupported() {
    return fail(501, 50101,
                "Permanent deletion is not supported by this registry (soft delete only): "
                "schema ids are never reused");
  }

  // ---- schemas by id ----

  std::optional<int> parse_id(const std::string& text) {
    int id = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc() || ptr != text.data() + text.size() || id < 1) return std::nullopt;
    return id;
  }

  api_response get_by_id(const std::string& text, bool versions) {
    auto id = parse_id(text);
    const std::string* schema = id ? svc_.state_.schema_by_id(*id) : nullptr;
    if (schema == nullptr) return fail(404, 40403, fmt::format("Schema {} not found", text));
    if (!versions) return reply(200, json{{"schema", *schema}});
    json out = json::array();
    for (const auto& [subject, version] : svc_.state_.usages(*id)) {
      out.push_back(json{{"subject", subject}, {"version", version}});
    }
    return reply(200, out);
  }

  api_response get_raw_by_id(const std::string& text) {
    auto id = parse_id(text);
    const std::string* schema = id ? svc_.state_.schema_by_id(*id) : nullptr;
    if (schema == nullptr) return fail(404, 40403, fmt::format("Schema {} not found", text));
    return {200, *schema};
  }

  // ---- config ----

  api_response get_config(const std::optional<std::string>& subject) {
    if (!subject) {
      return reply(200, json{{"compatibilityLevel", to_string(svc_.state_.global_level())}});
    }
    auto level = svc_.state_.subject_level(*subject);
    if (!level && flag(query_, "defaultToGlobal")) level = svc_.state_.global_level();
    if (!level) {
      return fail(404, 40408,
                  fmt::format("Subject '{}' does not have subject-level compatibility configured",
                              *subject));
    }
    return reply(200, json{{"compatibilityLevel", to_string(*level)}});
  }

  api_response put_config(const std::optional<std::string>& subject) {
    auto doc = parse_bounded_json<json>(body_, "request body", max_json_nesting);
    if (!doc) {
      return fail(422, 42203, fmt::format("Invalid compatibility level: {}", doc.err().message));
    }
    auto field = doc->is_object() ? doc->find("compatibility") : doc->end();
    if (field == doc->end() || !field->is_string()) {
      return fail(422, 42203,
                  fmt::format("Invalid compatibility level: the request body {} has no "
                              "\"compatibility\" string",
                              clipped(body_)));
    }
    const auto& name = field->get_ref<const std::string&>();
    auto level = parse_compatibility(name);
    if (!level) {
      return fail(422, 42203,
                  fmt::format("Invalid compatibility level '{}': expected NONE, BACKWARD, "
                              "BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL or "
                              "FULL_TRANSITIVE",
                              name));
    }
    if (auto failed = write(make_config_record(subject, *level), "updating config")) {
      return *failed;
    }
    return reply(200, json{{"compatibility", name}});
  }

  api_response delete_config(const std::string& subject) {
    auto level = svc_.state_.subject_level(subject);
    if (!level) {
      return fail(404, 40408,
                  fmt::format("Subject '{}' does not have subject-level compatibility configured",
                              subject));
    }
    auto record = make_config_record(subject, *level);
    record.value.reset();  // tombstone: back to the global level
    if (auto failed = write(record, "deleting config")) return *failed;
    return reply(200, json{{"compatibilityLevel", to_string(*level)}});
  }

  // ---- compatibility ----

  api_response check_compatibility(const std::string& subject,
                                   const std::optional<std::string>& v) {
    auto schema = body_schema();
    if (!schema) return schema_error(schema.err());
    auto level = svc_.state_.effective_level(subject);
    auto live = svc_.state_.live_versions(subject);
    std::vector<schema_entry> against;
    if (!v) {
      against = live;  // every version, whatever the level says
      if (level == compatibility::backward) level = compatibility::backward_transitive;
      if (level == compatibility::forward) level = compatibility::forward_transitive;
      if (level == compatibility::full) level = compatibility::full_transitive;
    } else {
      auto version = parse_version(*v);
      if (!version) return invalid_version(*v);
      if (live.empty() && *version == -1) return verdict({});  // nothing to break
      if (live.empty()) return subject_not_found(subject);
      auto e = svc_.state_.find_version(subject, *version);
      if (!e) return fail(404, 40402, fmt::format("Version {} not found.", *v));
      if (*version == -1) {
        against = live;  // "latest" follows the level, transitive or not
      } else {
        against = {*e};
      }
    }
    auto found = problems(level, *schema, against);
    if (!found) return too_costly(subject, found.err());
    return verdict(*found);
  }

  api_response verdict(const std::vector<std::string>& found) {
    json out{{"is_compatible", found.empty()}};
    if (flag(query_, "verbose")) out["messages"] = found;
    return reply(200, out);
  }

  service& svc_;
  std::string method_;
  std::vector<std::string> parts_;
  std::map<std::string, std::string> query_;
  const std::string& body_;
  std::optional<result<avro_schema>> schema_;
};

result<void> service::replay(const log_record& record) {
  std::lock_guard lock(mu_);
  return state_.apply(record);
}

std::optional<result<avro_schema>> service::parse_body(const api_request& request) {
  if (request.method != "POST") return std::nullopt;  // only POSTs carry a schema
  return schema_of_body(request.body);
}

api_response service::handle(const api_request& request) {
  // The HTTP layer has no exception boundary: one escaping here would end the process.
  // Every input is checked before use, so this is the last line, logged as the bug it is.
  try {
    auto schema = parse_body(request);
    std::lock_guard lock(mu_);
    return call(*this, request, std::move(schema)).dispatch();
  } catch (const nlohmann::json::exception& e) {
    log::get("registry")
        ->error("{} {}: unexpected JSON error: {}", request.method, clipped(request.path),
                e.what());
    return fail(500, 50001,
                fmt::format("Internal error handling {} {}: {}", request.method,
                            clipped(request.path), e.what()));
  }
}

service_stats service::stats() {
  std::lock_guard lock(mu_);
  return {state_.subjects(false).size(), static_cast<size_t>(state_.next_id() - 1),
          state_.next_id()};
}

}  // namespace sluice::registry
