// libcurl-based probes for the launcher.
#include "stack/http_probe.h"

#include <curl/curl.h>

#include <nlohmann/json.hpp>

namespace sluice::stack {
namespace {

size_t append_body(char* data, size_t size, size_t count, void* target) {
  static_cast<std::string*>(target)->append(data, size * count);
  return size * count;
}

std::pair<int, std::string> perform(
    const std::string& url, const std::string* post_body,
    const std::vector<std::string>& extra_headers = {},
    const char* content_type = "Content-Type: application/vnd.schemaregistry.v1+json") {
  CURL* curl = curl_easy_init();
  if (!curl) return {0, "curl_easy_init failed"};
  std::string body;
  curl_slist* headers = nullptr;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  for (const auto& h : extra_headers) headers = curl_slist_append(headers, h.c_str());
  if (post_body) headers = curl_slist_append(headers, content_type);
  if (headers) curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (post_body) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, post_body->c_str());
  }
  long status = 0;
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return {static_cast<int>(status), body};
}

}  // namespace

int http_get_status(const std::string& url) {
  return perform(url, nullptr).first;
}

std::pair<int, std::string> http_get(const std::string& url) {
  return perform(url, nullptr);
}

std::pair<int, std::string> http_request(const std::string& url, const std::string* json_body,
                                         const std::vector<std::string>& headers) {
  return perform(url, json_body, headers, "Content-Type: application/json");
}

std::pair<int, std::string> http_post_schema(const std::string& url, const std::string& schema,
                                             const std::string& authorization) {
  std::string body = nlohmann::json{{"schema", schema}}.dump();
  std::vector<std::string> headers;
  if (!authorization.empty()) headers.push_back(authorization);
  return perform(url, &body, headers);
}

}  // namespace sluice::stack
