// One asynchronous connection to one Cassandra node on Boost.Asio: many requests in flight
// multiplexed by stream id, writes coalesced into few syscalls, the handshake (protocol
// version negotiated down from v4 to v3, STARTUP with optional LZ4, SASL PLAIN for
// PasswordAuthenticator, USE keyspace), optional TLS, per-request timeouts, and server
// events (stream -1) handed to a listener. The session (cql.h) pools these per node.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "cql/protocol.h"

namespace sluice::cql {

struct connection_options {
  std::string host = "127.0.0.1";
  std::string address;  // when set: connect here (one of `host`'s addresses); TLS checks `host`
  int port = 9042;
  std::string keyspace;  // USE'd after the handshake when not empty
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{10000};
  std::optional<credentials> auth;
  std::string compression;                         // "" or "lz4"
  std::uint8_t max_version = 4;                    // lowered (down to 3) when the server refuses it
  std::shared_ptr<boost::asio::ssl::context> tls;  // null: plain TCP
  bool verify_host = true;                         // with tls: check the certificate names `host`
  /// OPTIONS after this long without a frame read (0: no heartbeat), or after one second
  /// of silence with requests in flight; no answer within heartbeat_timeout closes the
  /// connection with error::detail heartbeat_missed.
  std::chrono::milliseconds heartbeat_interval{30000};
  std::chrono::milliseconds heartbeat_timeout{3000};
  /// A response body larger than this fails its own request (and is skipped as it
  /// arrives); the connection and the other requests on it go on.
  std::uint32_t max_frame_bytes = max_body_size;
};

class connection : public std::enable_shared_from_this<connection> {
 public:
  using response_handler = std::function<void(result<response>)>;
  using open_handler = std::function<void(result<std::shared_ptr<connection>>)>;
  using event_handler = std::function<void(const server_event&)>;
  using close_handler = std::function<void(const error&)>;

  /// error::detail of a request that failed before its bytes were written (it never ran:
  /// safe to send elsewhere), and of a close for a missed heartbeat.
  static constexpr int never_sent = -1;
  static constexpr int heartbeat_missed = -2;

  /// Connects and runs the handshake; `done` runs once on the io thread. Errors name
  /// host:port and say what to do (e.g. credentials missing, wrong password). Returns the
  /// connection being opened (null for bad options), which close() abandons.
  static std::shared_ptr<connection> open(boost::asio::io_context& io, connection_options options,
                                          open_handler done);

  /// Sends a frame built by a write_* function of protocol.h (its stream id, version and
  /// compression are set here). Thread-safe. `done` runs exactly once on the io thread,
  /// with the response, a server error inside it, or a transport error (closed, timeout).
  void send(std::string frame, response_handler done);

  /// Listeners, set before the traffic they concern (both run on the io thread).
  void on_event(event_handler handler) { on_event_ = std::move(handler); }
  void on_close(close_handler handler) { on_close_ = std::move(handler); }

  /// Fails every pending request with `why` and closes the socket (idempotent).
  void close(const error& why);

  bool closed() const { return closed_; }
  std::size_t in_flight() const { return in_flight_; }
  std::uint8_t version() const { return version_; }
  const connection_options& options() const { return options_; }
  std::string endpoint() const;

  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

 private:
  struct slot {
    response_handler done;
    bool orphaned = false;  // timed out: the id is held until the late answer arrives
    std::uint32_t generation = 0;
  };
  struct queued {
    std::string frame;
    response_handler done;
  };
  struct deadline {
    std::chrono::steady_clock::time_point at;
    std::int16_t stream;
    std::uint32_t generation;
  };

  connection(boost::asio::io_context& io, connection_options options);
  void start_connect(open_handler done);
  void handshake(open_handler done);
  void after_ready(open_handler done);
  void authenticate(const std::string& authenticator, open_handler done);
  void fail_open(open_handler& done, const error& e);

  void flush();                  // io thread: queued requests -> output buffer
  void enqueue(queued request);  // io thread: one request -> output buffer
  void start_write();
  void start_read();
  void consume_input();
  /// Fails the request on `stream` whose answer of `length` bytes is too large, and
  /// skips that many bytes of input.
  void skip_oversized(std::int16_t stream, std::uint32_t length);
  void dispatch(const frame_header& header, std::string body);
  void release(std::int16_t stream);
  void arm_sweep();
  void sweep();
  void enable_keepalive();
  void start_heartbeat();
  void arm_heartbeat();
  void heartbeat_tick();

  template <typename Fn>
  void with_stream(Fn&& fn) {
    if (tls_stream_) {
      fn(*tls_stream_);
    } else {
      fn(socket_);
    }
  }

  boost::asio::io_context& io_;
  connection_options options_;
  boost::asio::ip::tcp::socket socket_;
  std::unique_ptr<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls_stream_;
  boost::asio::steady_timer sweep_timer_;
  boost::asio::steady_timer heartbeat_timer_;
  boost::asio::steady_timer connect_timer_;
  std::uint8_t version_;
  bool compress_ = false;
  bool closed_ = false;
  bool sweep_armed_ = false;

  std::mutex queue_mutex_;  // guards queued_ and flush_posted_ (send() from any thread)
  std::vector<queued> queued_;
  bool flush_posted_ = false;

  // io thread only:
  std::vector<slot> slots_;
  std::vector<std::int16_t> free_streams_;
  std::deque<queued> waiting_for_stream_;
  std::deque<deadline> deadlines_;
  std::vector<std::int16_t> unsent_;  // streams whose frames are not yet handed to the socket
  std::chrono::steady_clock::time_point last_read_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point heartbeat_sent_;
  bool heartbeat_pending_ = false;
  std::size_t in_flight_ = 0;
  std::size_t orphaned_ = 0;
  std::string out_, writing_;
  bool writing_now_ = false;
  std::string in_;
  std::size_t in_pos_ = 0;
  std::uint64_t skip_remaining_ = 0;  // bytes of an oversized body still to discard
  std::vector<char> read_chunk_;
  event_handler on_event_;
  close_handler on_close_;
};

}  // namespace sluice::cql
