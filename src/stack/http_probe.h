// Minimal HTTP calls the launcher needs (readiness of the registry, registering the
// contract schema), on libcurl.
#pragma once

#include <string>
#include <utility>

namespace sluice::stack {

/// The HTTP status of GET url, or 0 when nothing answered.
int http_get_status(const std::string& url);

/// GET url: status (0 when nothing answered) and body.
std::pair<int, std::string> http_get(const std::string& url);

/// POSTs {"schema": <schema text>} to a Confluent-compatible registry; returns status and body.
std::pair<int, std::string> http_post_schema(const std::string& url, const std::string& schema);

}  // namespace sluice::stack
