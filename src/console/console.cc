// The console's server (see console.h): engine clients, the flow sampler, the guarded
// routes, and the page embedded at build time (web/ bundled by esbuild, then compiled
// into web_assets.cc by cmake/embed_assets.cmake).
#include "console/console.h"

#include <malloc.h>

#include <charconv>

#include <fmt/format.h>

#include "base/error.h"
#include "base/log.h"
#include "console/assets.h"
#include "console/console_state.h"
#include "stack/http_probe.h"

namespace sluice::console {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

web::response json_answer(const nlohmann::json& body, int status) {
  web::response r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

web::response engine_failure(const error& err, std::string_view engine) {
  int status = 502;
  switch (err.code) {
    case errc::not_found:
      status = 404;
      break;
    case errc::invalid_argument:
    case errc::parse:
      status = 400;
      break;
    case errc::conflict:
      status = 409;
      break;
    case errc::timeout:
    case errc::unavailable:
    case errc::io:
      status = 503;
      break;
    default:
      break;
  }
  return web::json_error(status, fmt::format("{}: {}", engine, err.message), std::string(engine));
}

std::optional<std::int64_t> int_param(const web::request& r, std::string_view name,
                                      std::int64_t min, std::int64_t max,
                                      std::optional<std::int64_t> fallback,
                                      std::optional<web::response>& bad) {
  const auto* text = r.param(name);
  if (text == nullptr || text->empty()) return fallback;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || value < min || value > max) {
    bad = web::json_error(
        400, fmt::format("{} '{}' must be a whole number from {} to {}", name, *text, min, max),
        name);
    return std::nullopt;
  }
  return value;
}

std::optional<nlohmann::json> json_body(const web::request& r, std::optional<web::response>& bad) {
  auto body = nlohmann::json::parse(r.body.empty() ? std::string("{}") : r.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    bad = web::json_error(400, "the request body must be a JSON object", "body");
    return std::nullopt;
  }
  return body;
}

void release_memory() {
  malloc_trim(0);
}

web::handler guarded(console::state& s, bool changes_state, web::handler h) {
  return [&s, changes_state, h = std::move(h)](const web::request& r) {
    if (auto refused = s.guard.check(r, changes_state)) return *refused;
    return h(r);
  };
}

void add_page_routes(console::state& s, web::router& routes) {
  routes.add("GET", "/api/v1/session",
             guarded(s, false, [&s](const web::request& r) { return s.guard.session(r); }));
  routes.add("POST", "/login", [&s](const web::request& r) {
    if (auto refused = s.guard.check(r, false); refused && refused->status != 401) return *refused;
    return s.guard.login(r);
  });
  routes.add("GET", "/login", [](const web::request&) {
    web::response page;
    page.content_type = "text/html; charset=utf-8";
    page.body =
        "<!doctype html><title>sluice console: log in</title><link rel=\"icon\" href=\"data:,\">"
        "<form method=post action=/login><label>Access token <input type=password name=token "
        "autofocus></label> <button>Log in</button></form>";
    return page;
  });
  // The page: /, the bundle's files, and every unknown non-API path (hash routing).
  routes.add_prefix("GET", "/", [&s](const web::request& r) {
    if (auto refused = s.guard.check(r, false)) {
      if (refused->status != 401 || r.path.starts_with("/api/")) return *refused;
      web::response to_login;  // a browser without the token: to the login form
      to_login.status = 303;
      to_login.headers.emplace_back("Location", "/login");
      return to_login;
    }
    if (r.path.starts_with("/api/")) {
      return web::json_error(404, fmt::format("no endpoint GET {}", r.path), "path");
    }
    const auto* file = find_asset(r.path == "/" ? "/index.html" : r.path);
    if (file == nullptr) file = find_asset("/index.html");
    web::response page;
    if (file == nullptr) {
      page.status = 500;
      page.content_type = "text/plain";
      page.body = "this sluice binary was built without the console's page (web/)";
      return page;
    }
    page.content_type = file->content_type;
    page.body.assign(reinterpret_cast<const char*>(file->data), file->size);
    page.headers.emplace_back("Cache-Control", r.path == "/" || r.path == "/index.html"
                                                   ? "no-cache"
                                                   : "public, max-age=3600");
    page.headers.emplace_back("X-Content-Type-Options", "nosniff");
    page.headers.emplace_back("X-Frame-Options", "DENY");
    return page;
  });
}

namespace {

std::optional<std::string> fetch_metrics(const std::string& url, std::string& why_not) {
  auto [code, body] = stack::http_get(url);
  if (code == 200) return body;
  why_not = code == 0 ? fmt::format("nothing answers at {}", url)
                      : fmt::format("{} answered HTTP {}", url, code);
  return std::nullopt;
}

}  // namespace

console::state::state(console_options o)
    : options(std::move(o)),
      guard(security_options{options.host, options.port, options.access_token}) {
  reader_kafka = options.kafka;
  reader_kafka.extra.push_back({"queued.max.messages.kbytes", "2048"});
  auto a = kafka::admin::create(options.kafka);
  if (!a) throw fatal_error(a.err());
  admin = std::move(*a);
  registry =
      std::make_unique<registry::client>(registry::client_settings{.url = options.registry_url});
  decoder = std::make_unique<message_decoder>([this](int id) {
    auto schema = registry->schema_by_id(id);
    if (schema) return schema_text{std::move(*schema), ""};
    return schema_text{std::nullopt, schema.err().message};
  });
  flow = std::make_unique<flow_sampler>(
      std::vector<flow_source>{{"cpp", options.cpp_metrics_url},
                               {"spark", options.spark_metrics_url},
                               {"producer", options.producer_metrics_url}},
      fetch_metrics);
}

console::state::~state() {
  stopping = true;
  if (flow) flow->stop();
  if (server) server->stop();
  std::lock_guard lock(searches_mutex);
  for (auto& [id, job] : searches) {
    if (job->worker.joinable()) job->worker.join();
  }
  if (verify.worker.joinable()) verify.worker.join();
  if (cassandra.worker.joinable()) cassandra.worker.join();
}

console::console(console_options options) : state_(std::make_unique<state>(std::move(options))) {
  web::router routes;
  add_kafka_routes(*state_, routes);
  add_pipeline_routes(*state_, routes);
  add_page_routes(*state_, routes);
  state_->server = std::make_unique<web::server>(web::server_options{.host = state_->options.host,
                                                                     .port = state_->options.port,
                                                                     .threads = 4,
                                                                     .service_name = "sluice-ui"},
                                                 std::move(routes));
  state_->guard.set_port(state_->server->port());
}

console::~console() = default;

int console::port() const {
  return state_->server->port();
}

void console::start() {
  // Few malloc arenas, and memory handed back after large reads (release_memory): the
  // console idles most of the time and should not keep a scan's peak resident.
  mallopt(M_ARENA_MAX, 2);
  state_->flow->start();
  state_->server->start();
  log::get("ui")->info("console on http://{}:{}/", state_->options.host, port());
}

void console::stop() {
  state_->flow->stop();
  state_->server->stop();
}

}  // namespace sluice::console
