// Confluent Schema Registry REST client on libcurl (see client.h).
#include "registry/client.h"

#include <curl/curl.h>

#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/url.h"

namespace sluice::registry {
namespace {

size_t collect(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

struct curl_deleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct slist_deleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

errc classify_status(long status) {
  if (status == 404) return errc::not_found;
  if (status == 409 || status == 422 || status == 400) return errc::invalid_argument;
  if (status == 408 || status == 504) return errc::timeout;
  if (status == 503) return errc::unavailable;
  return errc::server;
}

std::string body_for(const std::string& schema) {
  return nlohmann::json{{"schema", schema}}.dump();
}

result<nlohmann::json> parse_body(const std::string& body, const std::string& what) {
  try {
    return nlohmann::json::parse(body);
  } catch (const nlohmann::json::exception& e) {
    return make_error(errc::protocol, "{}: answer is not JSON ({}): {}", what, e.what(),
                      body.substr(0, 200));
  }
}

registered_schema to_registered(const nlohmann::json& j) {
  return {j.value("subject", std::string()), j.value("version", 0), j.value("id", 0),
          j.value("schema", std::string())};
}

}  // namespace

bool schema_not_found(const error& err) {
  return err.code == errc::not_found && registry_error_code(err) == 40403;
}

std::optional<int> registry_error_code(const error& err) {
  static constexpr std::string_view marker = "error_code ";
  auto pos = err.message.find(marker);
  if (pos == std::string::npos) return std::nullopt;
  try {
    return std::stoi(err.message.substr(pos + marker.size()));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

client::client(client_settings settings) : settings_(std::move(settings)) {
  // Credentials in the URL become basic auth; the URL kept (and quoted in every error,
  // hence in logs and dead-letter reasons) is the one without them.
  auto split = split_url_credentials(settings_.url);
  base_ = split.url;
  if (settings_.basic_auth.empty()) settings_.basic_auth = split.userinfo;
  settings_.url = base_;
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
}

std::string client::escape(const std::string& segment) const {
  std::unique_ptr<CURL, curl_deleter> h(curl_easy_init());
  char* escaped = curl_easy_escape(h.get(), segment.c_str(), static_cast<int>(segment.size()));
  std::string out = escaped != nullptr ? escaped : segment;
  curl_free(escaped);
  return out;
}

result<client::http_result> client::request(const std::string& method, const std::string& path,
                                            const std::string& body) {
  auto url = base_ + path;
  std::unique_ptr<CURL, curl_deleter> h(curl_easy_init());
  if (!h) return make_error(errc::internal, "{} {}: curl_easy_init failed", method, url);
  std::unique_ptr<curl_slist, slist_deleter> headers(curl_slist_append(
      nullptr, "Accept: application/vnd.schemaregistry.v1+json, application/json"));
  headers.reset(
      curl_slist_append(headers.release(), "Content-Type: application/vnd.schemaregistry.v1+json"));
  http_result out;
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(h.get(), CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h.get(), CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "POST" || method == "PUT") {
    curl_easy_setopt(h.get(), CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(h.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_easy_setopt(h.get(), CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(h.get(), CURLOPT_WRITEDATA, &out.body);
  curl_easy_setopt(h.get(), CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(settings_.timeout.count()));
  curl_easy_setopt(h.get(), CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(settings_.connect_timeout.count()));
  curl_easy_setopt(h.get(), CURLOPT_NOSIGNAL, 1L);
  if (!settings_.basic_auth.empty()) {
    curl_easy_setopt(h.get(), CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(h.get(), CURLOPT_USERPWD, settings_.basic_auth.c_str());
  }
  auto code = curl_easy_perform(h.get());
  if (code != CURLE_OK) {
    std::string detail = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(code);
    errc kind = code == CURLE_OPERATION_TIMEDOUT ? errc::timeout : errc::unavailable;
    return make_error(kind, "schema registry {} {} unreachable: {}", method, url, detail);
  }
  curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &out.status);
  return out;
}

result<std::string> client::call(const std::string& method, const std::string& path,
                                 const std::string& body) {
  auto r = request(method, path, body);
  if (!r) return r.err();
  if (r->status >= 200 && r->status < 300) return std::move(r->body);
  auto url = base_ + path;
  // Confluent error body: {"error_code": 40401, "message": "..."}.
  try {
    auto j = nlohmann::json::parse(r->body);
    if (j.is_object() && j.contains("error_code")) {
      return make_error(classify_status(r->status),
                        "schema registry {} {}: HTTP {}, error_code {}: {}", method, url, r->status,
                        j["error_code"].dump(), j.value("message", std::string()));
    }
  } catch (const nlohmann::json::exception&) {
    // not a registry error body: report the raw answer below
  }
  return make_error(classify_status(r->status), "schema registry {} {}: HTTP {}: {}", method, url,
                    r->status, r->body.substr(0, 300));
}

result<int> client::register_schema(const std::string& subject, const std::string& schema) {
  {
    std::lock_guard lock(mu_);
    if (auto it = ids_.find({subject, schema}); it != ids_.end()) return it->second;
  }
  auto path = fmt::format("/subjects/{}/versions", escape(subject));
  auto body = call("POST", path, body_for(schema));
  if (!body) return body.err();
  auto j = parse_body(*body, "registering under " + subject);
  if (!j) return j.err();
  if (!j->contains("id") || !(*j)["id"].is_number_integer()) {
    return make_error(errc::protocol, "schema registry POST {}{}: answer has no id: {}", base_,
                      path, *body);
  }
  int id = (*j)["id"].get<int>();
  std::lock_guard lock(mu_);
  ids_[{subject, schema}] = id;
  by_id_.emplace(id, schema);
  return id;
}

result<registered_schema> client::lookup(const std::string& subject, const std::string& schema) {
  auto body = call("POST", fmt::format("/subjects/{}", escape(subject)), body_for(schema));
  if (!body) return body.err();
  auto j = parse_body(*body, "looking up under " + subject);
  if (!j) return j.err();
  return to_registered(*j);
}

result<std::string> client::schema_by_id(int id) {
  {
    std::lock_guard lock(mu_);
    if (auto it = by_id_.find(id); it != by_id_.end()) return it->second;
  }
  auto body = call("GET", fmt::format("/schemas/ids/{}", id), "");
  if (!body) return body.err();
  auto j = parse_body(*body, fmt::format("schema id {}", id));
  if (!j) return j.err();
  if (!j->contains("schema") || !(*j)["schema"].is_string()) {
    return make_error(errc::protocol, "schema registry GET {}/schemas/ids/{}: answer has no schema",
                      base_, id);
  }
  auto schema = (*j)["schema"].get<std::string>();
  std::lock_guard lock(mu_);
  by_id_.emplace(id, schema);
  return schema;
}

result<registered_schema> client::latest(const std::string& subject) {
  auto body = call("GET", fmt::format("/subjects/{}/versions/latest", escape(subject)), "");
  if (!body) return body.err();
  auto j = parse_body(*body, "latest version of " + subject);
  if (!j) return j.err();
  return to_registered(*j);
}

result<compatibility_result> client::check_compatibility(const std::string& subject,
                                                         const std::string& schema,
                                                         const std::string& version) {
  auto path = fmt::format("/compatibility/subjects/{}/versions/{}?verbose=true", escape(subject),
                          escape(version));
  auto body = call("POST", path, body_for(schema));
  if (!body) return body.err();
  auto j = parse_body(*body, "compatibility under " + subject);
  if (!j) return j.err();
  compatibility_result out;
  out.compatible = j->value("is_compatible", false);
  if (j->contains("messages") && (*j)["messages"].is_array()) {
    for (const auto& m : (*j)["messages"]) {
      out.messages.push_back(m.is_string() ? m.get<std::string>() : m.dump());
    }
  }
  return out;
}

}  // namespace sluice::registry
