// Request helpers, JSON errors, percent-decoding, query parsing and the router: the pure
// (socket-free) half of the server API in web/server.h.
#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "web/server.h"

namespace sluice::web {

const std::string* request::param(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return &v;
  }
  return nullptr;
}

std::string request::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return v;
    }
  }
  return {};
}

response json_error(int status, std::string_view message, std::string_view parameter) {
  nlohmann::json body = {{"error", message}};
  if (!parameter.empty()) body["parameter"] = parameter;
  // A message or parameter quoting request text may hold bytes that are not UTF-8:
  // replace them (U+FFFD) rather than throw while answering an error.
  return {status,
          "application/json",
          body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
          {}};
}

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0 && hex(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2])));
      i += 2;
    } else if (text[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!query.empty()) {
    auto amp = query.find('&');
    auto part = query.substr(0, amp);
    if (!part.empty()) {
      auto eq = part.find('=');
      out.emplace_back(percent_decode(part.substr(0, eq)),
                       eq == std::string_view::npos ? "" : percent_decode(part.substr(eq + 1)));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

void router::add(std::string method, std::string path, handler h) {
  routes_.push_back({std::move(method), std::move(path), false, std::move(h)});
}

void router::add_prefix(std::string method, std::string prefix, handler h) {
  routes_.push_back({std::move(method), std::move(prefix), true, std::move(h)});
}

response router::dispatch(const request& r) const {
  const route* best = nullptr;
  bool path_known = false;
  for (const auto& rt : routes_) {
    bool matches = rt.prefix ? r.path.compare(0, rt.path.size(), rt.path) == 0 : r.path == rt.path;
    if (!matches) continue;
    path_known = true;
    if (rt.method != "*" && rt.method != r.method) continue;
    if (!best || (!rt.prefix && best->prefix) ||
        (rt.prefix && best->prefix && rt.path.size() > best->path.size())) {
      best = &rt;
    }
  }
  if (best) return best->h(r);
  if (path_known)
    return json_error(405, fmt::format("method {} not allowed on {}", r.method, r.path));
  return json_error(404, fmt::format("no such path: {}", r.path));
}

}  // namespace sluice::web
