// A client for the Confluent Schema Registry REST API (libcurl): register a schema
// under a subject, look its id up, fetch a schema by id (cached: ids never change),
// read the latest version, and check compatibility. Works against `sluice registry` or
// any Confluent-compatible registry.
//
// Errors name the method and URL; when the registry answered with an error body, the
// message carries its HTTP status, error_code and message (e.g. "HTTP 409, error_code
// 409: Schema being registered is incompatible ..."); registry_error_code() reads the
// error_code back. Thread-safe: each call uses its own curl handle.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"

namespace sluice::registry {

struct client_settings {
  /// Base URL, e.g. http://127.0.0.1:8081 (a trailing slash is fine).
  std::string url = "http://127.0.0.1:8081";
  std::chrono::milliseconds timeout{10'000};
  std::chrono::milliseconds connect_timeout{3'000};
  /// "user:password" for HTTP basic auth, empty for none.
  std::string basic_auth;
};

/// A version of a subject as the registry reports it.
struct registered_schema {
  std::string subject;
  int version = 0;
  int id = 0;
  std::string schema;
};

/// The outcome of a compatibility check.
struct compatibility_result {
  bool compatible = false;
  std::vector<std::string> messages;  ///< why not (when the registry says)
};

/// The registry's error_code in an error produced by the client, if it has one.
std::optional<int> registry_error_code(const error& err);

/// True only for the registry's definite "no schema with this id" (HTTP 404 with
/// error_code 40403). A 404 without it (a wrong URL, a proxy's page) is not an answer
/// about the schema, and neither is any other failure.
bool schema_not_found(const error& err);

class client {
 public:
  explicit client(client_settings settings);

  /// Registers `schema` (Avro JSON text) under `subject`; returns its global id. The
  /// same schema again returns the same id. An incompatible schema is an error
  /// carrying error_code 409.
  result<int> register_schema(const std::string& subject, const std::string& schema);

  /// The id of `schema` if it is registered under `subject` (errc::not_found if not).
  result<registered_schema> lookup(const std::string& subject, const std::string& schema);

  /// The schema text for an id. Cached after the first successful fetch.
  result<std::string> schema_by_id(int id);

  /// The latest live version of a subject.
  result<registered_schema> latest(const std::string& subject);

  /// Would `schema` be accepted under `subject` against `version` ("latest" or a
  /// number)?
  result<compatibility_result> check_compatibility(const std::string& subject,
                                                   const std::string& schema,
                                                   const std::string& version = "latest");

  const std::string& url() const { return base_; }

 private:
  struct http_result {
    long status = 0;
    std::string body;
  };
  result<http_result> request(const std::string& method, const std::string& path,
                              const std::string& body);
  result<std::string> call(const std::string& method, const std::string& path,
                           const std::string& body);
  std::string escape(const std::string& segment) const;

  client_settings settings_;
  std::string base_;
  std::mutex mu_;
  std::map<int, std::string> by_id_;
  std::map<std::pair<std::string, std::string>, int> ids_;  // (subject, schema) -> id
};

}  // namespace sluice::registry
