// Minimal HTTP calls the launcher needs (readiness of the registry, registering the
// contract schema), on libcurl.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace sluice::stack {

/// The HTTP status of GET url, or 0 when nothing answered.
int http_get_status(const std::string& url);

/// GET url: status (0 when nothing answered) and body.
std::pair<int, std::string> http_get(const std::string& url);

/// GET url (or POST `json_body` as application/json when given) with extra header lines
/// ("Authorization: Bearer ..."): status (0 when nothing answered) and body.
std::pair<int, std::string> http_request(const std::string& url, const std::string* json_body,
                                         const std::vector<std::string>& headers);

/// POSTs {"schema": <schema text>} to a Confluent-compatible registry, with an
/// `authorization` header line when not empty; returns status and body.
std::pair<int, std::string> http_post_schema(const std::string& url, const std::string& schema,
                                             const std::string& authorization = "");

}  // namespace sluice::stack
