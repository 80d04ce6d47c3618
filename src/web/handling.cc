// Message-to-request conversion, built-in endpoints, routing with metrics and the
// access log, and the socket-free parse-and-answer path used by the fuzz target.
#include "web/handling.h"

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>

#include <fmt/format.h>

#include "base/log.h"
#include "web/http_text.h"

namespace sluice::web {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

std::optional<response> read_failure_response(boost::system::error_code ec) {
  if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
      ec == asio::error::connection_reset || ec == asio::error::eof) {
    return std::nullopt;
  }
  if (ec == http::error::body_limit) return json_error(413, "request body too large");
  if (ec == http::error::header_limit) return json_error(431, "request line or headers too large");
  return json_error(400, fmt::format("malformed HTTP request: {}", ec.message()));
}

namespace {

/// 400 naming the first query parameter whose decoded name or value is not UTF-8.
std::optional<response> non_utf8_query(const request& r) {
  for (const auto& [name, value] : r.query) {
    if (!valid_utf8(name) || !valid_utf8(value)) {
      return json_error(400,
                        fmt::format("query parameter {} is not valid UTF-8 once percent-decoded",
                                    escape_for_log(name, 200)),
                        name);
    }
  }
  return std::nullopt;
}

}  // namespace

std::variant<request, response> to_request(beast_request& msg, const server_options& options) {
  request r;
  r.method = std::string(msg.method_string());
  r.target = std::string(msg.target());
  if (r.target.size() > options.max_target_bytes) {
    return json_error(414, fmt::format("URL longer than {} bytes", options.max_target_bytes),
                      "query");
  }
  auto question = r.target.find('?');
  r.path = percent_decode(std::string_view(r.target).substr(0, question));
  if (!valid_utf8(r.path)) {
    return json_error(400,
                      fmt::format("request path {} is not valid UTF-8 once percent-decoded",
                                  escape_for_log(r.path, 200)),
                      "path");
  }
  if (question != std::string::npos) {
    r.query = parse_query(std::string_view(r.target).substr(question + 1));
    if (auto refused = non_utf8_query(r)) return std::move(*refused);
  }
  for (const auto& field : msg) {
    r.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  r.body = std::move(msg.body());
  return r;
}

std::string access_log_line(std::string_view method, std::string_view target, int status,
                            double seconds) {
  return fmt::format("{} {} -> {} ({:.3f} ms)", escape_for_log(method, 64), escape_for_log(target),
                     status, seconds * 1000);
}

request_handler::request_handler(server_options options, router routes)
    : options_(std::move(options)), routes_(std::move(routes)), log_(log::get("web")) {}

response request_handler::answer(beast_request& msg) {
  auto begin = std::chrono::steady_clock::now();
  auto built = to_request(msg, options_);
  if (auto* refused = std::get_if<response>(&built)) {
    const auto method = msg.method_string();
    const auto target = msg.target();
    record({method.data(), method.size()}, {target.data(), target.size()}, refused->status, begin);
    return std::move(*refused);
  }
  return handle(std::get<request>(built));
}

response request_handler::handle(const request& r) {
  auto begin = std::chrono::steady_clock::now();
  response res = respond(r);
  record(r.method, r.target, res.status, begin);
  return res;
}

response request_handler::respond(const request& r) {
  if (r.path == "/health") return health();
  if (r.path == "/metrics") return {200, "text/plain; version=0.0.4", metrics_.render(), {}};
  try {
    return routes_.dispatch(r);
  } catch (const std::exception& e) {
    log_->error("{} {} failed: {}", escape_for_log(r.method, 64), escape_for_log(r.path),
                escape_for_log(e.what()));
    return json_error(500, fmt::format("internal error: {}", e.what()));
  }
}

response request_handler::health() const {
  auto uptime =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_)
          .count();
  std::string extra = health_fields_ ? health_fields_() : "";
  return {200,
          "application/json",
          fmt::format(R"({{"status":"ok","service":"{}","uptime_seconds":{}{}{}}})",
                      options_.service_name, uptime, extra.empty() ? "" : ",", extra),
          {}};
}

void request_handler::record(std::string_view method, std::string_view target, int status,
                             std::chrono::steady_clock::time_point begin) {
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  metrics_
      .get_counter("http_requests_total", "HTTP requests by status",
                   {{"status", std::to_string(status)}})
      .inc();
  metrics_.get_histogram("http_request_duration_seconds", "HTTP request handling time")
      .observe(seconds);
  if (log_->should_log(spdlog::level::debug)) {
    log_->debug("{}", access_log_line(method, target, status, seconds));
  }
}

namespace {

/// Offers all of `bytes` to the parser, then the end of the stream if it wants more:
/// what beast::http::read does with a connection that sends `bytes` and closes.
beast::error_code feed(http::request_parser<http::string_body>& parser, std::string_view bytes) {
  beast::error_code ec;
  std::size_t used = 0;
  while (!parser.is_done()) {
    std::size_t n = parser.put(asio::const_buffer(bytes.data() + used, bytes.size() - used), ec);
    used += n;
    if (ec == http::error::need_more || (!ec && n == 0)) {
      if (!parser.got_some()) return http::error::end_of_stream;
      ec = {};
      parser.put_eof(ec);
      return ec;
    }
    if (ec) return ec;
  }
  return ec;
}

}  // namespace

std::optional<response> request_handler::handle_raw(std::string_view bytes) {
  http::request_parser<http::string_body> parser;
  parser.eager(true);
  parser.body_limit(options_.max_body_bytes);
  parser.header_limit(static_cast<std::uint32_t>(options_.max_header_bytes));
  if (auto ec = feed(parser, bytes)) return read_failure_response(ec);
  return answer(parser.get());
}

}  // namespace sluice::web
