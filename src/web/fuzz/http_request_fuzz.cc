// libFuzzer target for the shared HTTP server's request pipeline without sockets
// (web/handling.h): the input is what a client sends on a connection, parsed as one
// HTTP request with small limits (so 413/414/431 are reached), percent-decoded, checked
// and routed to exact, prefix and any-method routes or to /health and /metrics.
// Invariants checked (a violation traps): a route only sees a UTF-8 path and query, a
// JSON answer parses, a status is 200..599, valid_utf8 agrees with nlohmann's dump, and
// the log escape of any text is printable one-line UTF-8. Any crash or sanitizer report
// is a bug.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/log.h"
#include "web/handling.h"
#include "web/http_text.h"

namespace {

using namespace sluice::web;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

/// What a route may rely on: the server refused requests with non-UTF-8 text.
void check_reached_route(const request& r) {
  check(valid_utf8(r.path));
  for (const auto& [k, v] : r.query) check(valid_utf8(k) && valid_utf8(v));
}

router fuzz_routes() {
  router routes;
  routes.add("GET", "/echo", [](const request& r) {
    check_reached_route(r);
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [k, v] : r.query) out[k] = v;  // strict dump: throws on bad UTF-8
    return response{200, "application/json", out.dump(), {}};
  });
  routes.add("POST", "/echo", [](const request& r) {
    check_reached_route(r);
    return response{200, "text/plain", r.body, {}};
  });
  routes.add_prefix("*", "/api/", [](const request& r) {
    check_reached_route(r);
    nlohmann::json out = {{"path", r.path}, {"host", valid_utf8(r.header("host"))}};
    return response{200, "application/json", out.dump(), {}};
  });
  routes.add_prefix("GET", "/boom", [](const request& r) -> response {
    check_reached_route(r);
    throw std::runtime_error("failed on " + r.path);
  });
  routes.add_prefix("GET", "/subjects/", [](const request& r) {
    return json_error(404, "no such subject: " + r.path.substr(10), "subject");
  });
  return routes;
}

request_handler& fuzz_handler() {
  static request_handler h = [] {
    sluice::log::set_level("off");  // a failing route logs each time; the text is still built
    server_options options;
    options.max_body_bytes = 512;
    options.max_target_bytes = 256;
    options.max_header_bytes = 2048;
    return request_handler(options, fuzz_routes());
  }();
  return h;
}

bool json_dumps(std::string_view text) {
  try {
    (void)nlohmann::json(std::string(text)).dump();
    return true;
  } catch (const nlohmann::json::type_error&) {
    return false;
  }
}

void check_log_escape(std::string_view text) {
  std::string escaped = escape_for_log(text, 512);
  check(valid_utf8(escaped));
  for (char c : escaped) {
    auto byte = static_cast<unsigned char>(c);
    check(byte >= 0x20 && byte != 0x7F);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  check(valid_utf8(bytes) == json_dumps(bytes));
  check_log_escape(bytes);
  (void)parse_query(bytes.substr(0, 512));
  if (auto res = fuzz_handler().handle_raw(bytes)) {
    check(res->status >= 200 && res->status <= 599);
    if (res->content_type == "application/json") check(nlohmann::json::accept(res->body));
  }
  return 0;
}
