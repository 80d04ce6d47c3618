// Boost.Beast implementation of the shared HTTP server: one acceptor, one session per
// connection reading requests in a keep-alive loop, handlers run on the I/O threads.
#include "web/server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cctype>
#include <chrono>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/log.h"

namespace sluice::web {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

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
  return {status, "application/json", body.dump(), {}};
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

struct server::impl {
  server_options options;
  router routes;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::vector<std::thread> threads;
  metrics_registry metrics;
  std::function<std::string()> health_fields;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  bool running = false;

  response handle(const request& r);
  void accept();
};

namespace {

class session : public std::enable_shared_from_this<session> {
 public:
  session(tcp::socket socket, server::impl& owner) : stream_(std::move(socket)), owner_(owner) {}
  void run() { read(); }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(owner_.options.max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(owner_.options.max_header_bytes));
    stream_.expires_after(std::chrono::seconds(60));
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::connection_reset || ec == asio::error::eof) {
      return close();
    }
    if (ec == http::error::body_limit) return send_error(413, "request body too large", false);
    if (ec == http::error::header_limit) {
      return send_error(431, "request line or headers too large", false);
    }
    if (ec) return send_error(400, fmt::format("malformed HTTP request: {}", ec.message()), false);
    auto& msg = parser_->get();
    request r;
    r.method = std::string(msg.method_string());
    r.target = std::string(msg.target());
    bool keep_alive = msg.keep_alive();
    if (r.target.size() > owner_.options.max_target_bytes) {
      return send(
          json_error(414, fmt::format("URL longer than {} bytes", owner_.options.max_target_bytes),
                     "query"),
          keep_alive);
    }
    auto question = r.target.find('?');
    r.path = percent_decode(std::string_view(r.target).substr(0, question));
    if (question != std::string::npos)
      r.query = parse_query(std::string_view(r.target).substr(question + 1));
    for (const auto& field : msg) {
      r.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    r.body = std::move(msg.body());
    send(owner_.handle(r), keep_alive);
  }

  void send_error(int status, std::string message, bool keep_alive) {
    send(json_error(status, message), keep_alive);
  }

  void send(response res, bool keep_alive) {
    auto msg = std::make_shared<http::response<http::string_body>>();
    msg->result(static_cast<unsigned>(res.status));
    msg->version(11);
    msg->set(http::field::server, owner_.options.service_name);
    msg->set(http::field::content_type, res.content_type);
    for (const auto& [k, v] : res.headers) msg->set(k, v);
    msg->body() = std::move(res.body);
    msg->keep_alive(keep_alive);
    msg->prepare_payload();
    http::async_write(
        stream_, *msg,
        [self = shared_from_this(), msg, keep_alive](beast::error_code ec, std::size_t) {
          if (ec || !keep_alive) return self->close();
          self->read();
        });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  server::impl& owner_;
};

}  // namespace

response server::impl::handle(const request& r) {
  auto begin = std::chrono::steady_clock::now();
  response res;
  if (r.path == "/health") {
    auto uptime = std::chrono::duration_cast<std::chrono::seconds>(begin - started).count();
    std::string extra = health_fields ? health_fields() : "";
    res.body = fmt::format(R"({{"status":"ok","service":"{}","uptime_seconds":{}{}{}}})",
                           options.service_name, uptime, extra.empty() ? "" : ",", extra);
  } else if (r.path == "/metrics") {
    res.content_type = "text/plain; version=0.0.4";
    res.body = metrics.render();
  } else {
    try {
      res = routes.dispatch(r);
    } catch (const std::exception& e) {
      log::get("web")->error("{} {} failed: {}", r.method, r.path, e.what());
      res = json_error(500, fmt::format("internal error: {}", e.what()));
    }
  }
  metrics
      .get_counter("http_requests_total", "HTTP requests by status",
                   {{"status", std::to_string(res.status)}})
      .inc();
  metrics.get_histogram("http_request_duration_seconds", "HTTP request handling time")
      .observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count());
  return res;
}

void server::impl::accept() {
  acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) std::make_shared<session>(std::move(socket), *this)->run();
    accept();
  });
}

server::server(server_options options, router routes) : impl_(std::make_unique<impl>()) {
  impl_->options = std::move(options);
  impl_->routes = std::move(routes);
  beast::error_code ec;
  auto address = asio::ip::make_address(impl_->options.host, ec);
  if (ec) throw fatal_error(fmt::format("--host: '{}' is not an IP address", impl_->options.host));
  tcp::endpoint endpoint(address, static_cast<unsigned short>(impl_->options.port));
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor.bind(endpoint, ec);
  if (ec) {
    throw fatal_error(fmt::format(
        "cannot listen on {}:{}: {} (is another process using port {}? stop it or pass --port)",
        impl_->options.host, impl_->options.port, ec.message(), impl_->options.port));
  }
  impl_->acceptor.listen(asio::socket_base::max_listen_connections);
}

server::~server() {
  stop();
}

int server::port() const {
  return impl_->acceptor.local_endpoint().port();
}
metrics_registry& server::metrics() {
  return impl_->metrics;
}
router& server::routes() {
  return impl_->routes;
}
void server::set_health(std::function<std::string()> fields) {
  impl_->health_fields = std::move(fields);
}

void server::start() {
  if (impl_->running) return;
  impl_->running = true;
  impl_->accept();
  for (int i = 0; i < std::max(1, impl_->options.threads); ++i) {
    impl_->threads.emplace_back([this] { impl_->io.run(); });
  }
}

void server::stop() {
  if (!impl_ || !impl_->running) return;
  impl_->running = false;
  asio::post(impl_->io, [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
  });
  impl_->io.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

}  // namespace sluice::web
