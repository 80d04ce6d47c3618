// Boost.Beast sockets of the shared HTTP server: the acceptor (a cap on open connections,
// a back-off when accept fails for lack of file descriptors) and one session per
// connection reading requests in a keep-alive loop. What a request means is decided by
// request_handler (handling.h), which the handlers run through on the I/O threads.
#include "web/server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "base/error.h"
#include "base/log.h"
#include "web/handling.h"

namespace sluice::web {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

/// How long the acceptor waits before trying again after a failure such as EMFILE.
constexpr std::chrono::milliseconds accept_retry_delay{100};

/// True for the OS error `value` (compared as a number: an errc comparison builds an
/// error_condition, which UBSan's vptr check rejects in Boost 1.74).
bool is_errno(const beast::error_code& ec, int value) {
  return ec.category() == boost::system::system_category() && ec.value() == value;
}

/// Accept failures that belong to one connection: the next accept does not repeat them.
bool transient_accept_error(const beast::error_code& ec) {
  return ec == asio::error::connection_aborted || ec == asio::error::connection_reset ||
         ec == asio::error::would_block || ec == asio::error::try_again ||
         ec == asio::error::interrupted || is_errno(ec, EPROTO);
}

bool out_of_descriptors(const beast::error_code& ec) {
  return ec == asio::error::no_descriptors || is_errno(ec, ENFILE);
}

/// The bytes of the 503 sent to a connection over options.max_connections.
std::string over_capacity_answer(const server_options& options) {
  http::response<http::string_body> msg{http::status::service_unavailable, 11};
  msg.set(http::field::server, options.service_name);
  msg.set(http::field::content_type, "application/json");
  msg.set(http::field::retry_after, "1");
  msg.body() = json_error(503, fmt::format("too many open connections (max_connections {}); "
                                           "retry shortly",
                                           options.max_connections))
                   .body;
  msg.keep_alive(false);
  msg.prepare_payload();
  std::ostringstream out;
  out << msg;
  return out.str();
}

}  // namespace

struct server::impl {
  impl(server_options options, router routes);

  // Declared before io: sessions that io destroys still count themselves out here.
  request_handler handler;
  std::atomic<std::size_t> open_connections{0};
  gauge& open_gauge;
  counter& rejected;
  counter& accept_failures;
  std::shared_ptr<spdlog::logger> log = log::get("web");
  const std::string over_capacity;

  asio::io_context io;
  asio::strand<asio::io_context::executor_type> accept_strand = asio::make_strand(io);
  tcp::acceptor acceptor{accept_strand};
  asio::steady_timer retry_timer{accept_strand};
  std::vector<std::thread> threads;
  bool running = false;
  // Only touched on accept_strand: one warning per episode, not per connection or retry.
  std::uint64_t failed_accepts = 0;
  bool at_capacity = false;

  void accept();
  void on_accept_error(const beast::error_code& ec);
  void admit(tcp::socket socket);
  void reject(tcp::socket& socket);
  int bound_port() const;
};

server::impl::impl(server_options options, router routes)
    : handler(std::move(options), std::move(routes)),
      open_gauge(handler.metrics().get_gauge("http_connections_open", "Open HTTP connections")),
      rejected(handler.metrics().get_counter(
          "http_connections_rejected_total",
          "Connections answered 503 and closed because max_connections were open")),
      accept_failures(handler.metrics().get_counter(
          "http_accept_failures_total",
          "Failed accepts retried after a pause (file descriptors or memory ran out)")),
      over_capacity(over_capacity_answer(handler.options())) {}

namespace {

/// One open connection, counted in impl::open_connections for the session's lifetime.
class connection_slot {
 public:
  explicit connection_slot(server::impl& owner) : owner_(owner) {
    owner_.open_connections.fetch_add(1);
    owner_.open_gauge.add(1);
  }
  ~connection_slot() {
    owner_.open_connections.fetch_sub(1);
    owner_.open_gauge.add(-1);
  }
  connection_slot(const connection_slot&) = delete;
  connection_slot& operator=(const connection_slot&) = delete;

 private:
  server::impl& owner_;
};

class session : public std::enable_shared_from_this<session> {
 public:
  session(tcp::socket socket, server::impl& owner)
      : stream_(std::move(socket)), owner_(owner), slot_(owner) {}
  void run() { read(); }

 private:
  const server_options& options() const { return owner_.handler.options(); }

  void read() {
    parser_.emplace();
    parser_->body_limit(options().max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(options().max_header_bytes));
    stream_.expires_after(std::chrono::seconds(60));
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec) {
      auto failure = read_failure_response(ec);
      if (!failure) return close();
      return send(std::move(*failure), false);
    }
    bool keep_alive = parser_->get().keep_alive();
    send(owner_.handler.answer(parser_->get()), keep_alive);
  }

  void send(response res, bool keep_alive) {
    auto msg = std::make_shared<http::response<http::string_body>>();
    msg->result(static_cast<unsigned>(res.status));
    msg->version(11);
    msg->set(http::field::server, options().service_name);
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
  connection_slot slot_;
};

}  // namespace

int server::impl::bound_port() const {
  beast::error_code ec;
  return acceptor.local_endpoint(ec).port();
}

void server::impl::accept() {
  acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) return on_accept_error(ec);
    if (failed_accepts > 0) {
      log->info("port {}: accepting connections again after {} failed attempt(s)", bound_port(),
                failed_accepts);
      failed_accepts = 0;
    }
    admit(std::move(socket));
    accept();
  });
}

void server::impl::on_accept_error(const beast::error_code& ec) {
  if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;  // stopping
  if (transient_accept_error(ec)) return accept();
  accept_failures.inc();
  if (failed_accepts++ == 0) {
    log->warn("port {}: cannot accept connections: {}{}; retrying every {} ms", bound_port(),
              ec.message(),
              out_of_descriptors(ec)
                  ? " (out of file descriptors: raise `ulimit -n` or lower max_connections)"
                  : "",
              accept_retry_delay.count());
  }
  retry_timer.expires_after(accept_retry_delay);
  retry_timer.async_wait([this](beast::error_code wait_ec) {
    if (!wait_ec) accept();
  });
}

void server::impl::admit(tcp::socket socket) {
  const std::size_t cap = handler.options().max_connections;
  if (cap > 0 && open_connections.load() >= cap) return reject(socket);
  if (at_capacity) {
    log->info("port {}: below max_connections ({}) again", bound_port(), cap);
    at_capacity = false;
  }
  std::make_shared<session>(std::move(socket), *this)->run();
}

void server::impl::reject(tcp::socket& socket) {
  rejected.inc();
  if (!at_capacity) {
    log->warn("port {}: {} connections open (max_connections): answering 503 to new ones",
              bound_port(), handler.options().max_connections);
    at_capacity = true;
  }
  // Best effort: a fresh socket's send buffer takes the short answer without blocking.
  beast::error_code ignored;
  socket.non_blocking(true, ignored);
  socket.write_some(asio::buffer(over_capacity), ignored);
  socket.shutdown(tcp::socket::shutdown_send, ignored);
  socket.close(ignored);
}

server::server(server_options options, router routes)
    : impl_(std::make_unique<impl>(std::move(options), std::move(routes))) {
  const auto& opts = impl_->handler.options();
  beast::error_code ec;
  auto address = asio::ip::make_address(opts.host, ec);
  if (ec) throw fatal_error(fmt::format("--host: '{}' is not an IP address", opts.host));
  tcp::endpoint endpoint(address, static_cast<unsigned short>(opts.port));
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor.bind(endpoint, ec);
  if (ec) {
    throw fatal_error(fmt::format(
        "cannot listen on {}:{}: {} (is another process using port {}? stop it or pass --port)",
        opts.host, opts.port, ec.message(), opts.port));
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
  return impl_->handler.metrics();
}
router& server::routes() {
  return impl_->handler.routes();
}
void server::set_health(std::function<std::string()> fields) {
  impl_->handler.set_health(std::move(fields));
}

void server::start() {
  if (impl_->running) return;
  impl_->running = true;
  asio::post(impl_->accept_strand, [this] { impl_->accept(); });
  for (int i = 0; i < std::max(1, impl_->handler.options().threads); ++i) {
    impl_->threads.emplace_back([this] { impl_->io.run(); });
  }
}

void server::stop() {
  if (!impl_ || !impl_->running) return;
  impl_->running = false;
  asio::post(impl_->accept_strand, [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
    impl_->retry_timer.cancel();
  });
  impl_->io.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

}  // namespace sluice::web
