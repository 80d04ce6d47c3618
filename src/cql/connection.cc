// The asynchronous CQL connection: handshake, multiplexed requests, timeouts, events.
#include "cql/connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <exception>

#include "cql/compression.h"

namespace sluice::cql {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t max_streams = 32768;
constexpr std::size_t max_orphaned = 1024;  // past this many timed-out ids the node is stuck
constexpr auto sweep_period = std::chrono::milliseconds(50);

void patch_header(std::string& frame, std::uint8_t version, std::int16_t stream) {
  frame[0] = static_cast<char>(version);
  frame[2] = static_cast<char>((static_cast<std::uint16_t>(stream) >> 8) & 0xFF);
  frame[3] = static_cast<char>(static_cast<std::uint16_t>(stream) & 0xFF);
}

/// Rewrites a frame with its body LZ4-compressed and the compression flag set.
std::string compress_frame(const std::string& frame) {
  auto body = lz4_compress_body(std::string_view(frame).substr(header_size));
  std::string out = frame.substr(0, header_size);
  out[1] = static_cast<char>(out[1] | 0x01);
  out += body;
  finish_frame(out, 0);
  return out;
}

/// The response opcodes by the spec's names, for error messages.
std::string_view op_name(opcode op) {
  switch (op) {
    case opcode::error:
      return "ERROR";
    case opcode::ready:
      return "READY";
    case opcode::authenticate:
      return "AUTHENTICATE";
    case opcode::supported:
      return "SUPPORTED";
    case opcode::result:
      return "RESULT";
    case opcode::event:
      return "EVENT";
    case opcode::auth_challenge:
      return "AUTH_CHALLENGE";
    case opcode::auth_success:
      return "AUTH_SUCCESS";
    default:
      return "frame";
  }
}

/// A server's refusal of our protocol version ("Invalid or unsupported protocol version").
bool version_refused(const response& r) {
  return r.error && r.error->code == 0x000A &&
         r.error->message.find("rotocol version") != std::string::npos;
}

}  // namespace

connection::connection(asio::io_context& io, connection_options options)
    : io_(io),
      options_(std::move(options)),
      socket_(io),
      sweep_timer_(io),
      heartbeat_timer_(io),
      connect_timer_(io),
      version_(options_.max_version),
      slots_(max_streams),
      read_chunk_(64 * 1024) {
  free_streams_.reserve(max_streams);
  for (std::size_t s = max_streams; s-- > 0;) free_streams_.push_back(static_cast<std::int16_t>(s));
}

connection::~connection() = default;

std::string connection::endpoint() const {
  if (!options_.address.empty() && options_.address != options_.host)
    return fmt::format("{}:{} ({})", options_.host, options_.port, options_.address);
  return fmt::format("{}:{}", options_.host, options_.port);
}

std::shared_ptr<connection> connection::open(asio::io_context& io, connection_options options,
                                             open_handler done) {
  if (options.max_version < 3 || options.max_version > 4) {
    auto version = options.max_version;
    asio::post(io, [done = std::move(done), version] {
      done(make_error(errc::invalid_argument,
                      "CQL protocol version {} is not supported (use 3 or 4)", version));
    });
    return nullptr;
  }
  std::shared_ptr<connection> c(new connection(io, options));
  auto& context = io;
  c->start_connect([&context, options,
                    done = std::move(done)](result<std::shared_ptr<connection>> opened) mutable {
    if (!opened && opened.err().detail == 0x000A && options.max_version > 3) {
      options.max_version = static_cast<std::uint8_t>(options.max_version - 1);
      open(context, options, std::move(done));  // negotiate down
      return;
    }
    done(std::move(opened));
  });
  return c;
}

void connection::fail_open(open_handler& done, const error& e) {
  close(e);
  if (done) {
    auto call = std::move(done);
    done = nullptr;
    call(e);
  }
}

void connection::start_connect(open_handler done) {
  auto self = shared_from_this();
  auto shared_done = std::make_shared<open_handler>(std::move(done));
  connect_timer_.expires_after(options_.connect_timeout);
  connect_timer_.async_wait([self, shared_done](const boost::system::error_code& ec) {
    if (ec || !*shared_done) return;
    self->fail_open(*shared_done,
                    make_error(errc::timeout, "connecting to Cassandra at {} took over {} ms",
                               self->endpoint(), self->options_.connect_timeout.count()));
  });
  auto finish = [self, shared_done](result<std::shared_ptr<connection>> r) {
    self->connect_timer_.cancel();
    if (!*shared_done) return;
    if (!r) return self->fail_open(*shared_done, r.err());
    auto call = std::move(*shared_done);
    *shared_done = nullptr;
    call(std::move(r));
  };
  auto resolver = std::make_shared<tcp::resolver>(io_);
  resolver->async_resolve(
      options_.address.empty() ? options_.host : options_.address, std::to_string(options_.port),
      [self, resolver, finish](const boost::system::error_code& ec,
                               const tcp::resolver::results_type& endpoints) {
        if (ec) {
          return finish(make_error(errc::unavailable, "cannot resolve Cassandra host {}: {}",
                                   self->options_.host, ec.message()));
        }
        asio::async_connect(
            self->socket_, endpoints,
            [self, finish](const boost::system::error_code& cec, const tcp::endpoint&) {
              if (cec) {
                return finish(make_error(errc::unavailable,
                                         "cannot connect to Cassandra at {}: {} (is it running?)",
                                         self->endpoint(), cec.message()));
              }
              self->socket_.set_option(tcp::no_delay(true));
              self->enable_keepalive();
              if (!self->options_.tls) {
                self->start_read();
                return self->handshake(finish);
              }
              self->tls_stream_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(
                  self->socket_, *self->options_.tls);
              SSL_set_tlsext_host_name(self->tls_stream_->native_handle(),
                                       self->options_.host.c_str());
              if (self->options_.verify_host) {
                self->tls_stream_->set_verify_callback(
                    asio::ssl::host_name_verification(self->options_.host));
              }
              self->tls_stream_->async_handshake(
                  asio::ssl::stream_base::client,
                  [self, finish](const boost::system::error_code& hec) {
                    if (hec) {
                      return finish(make_error(errc::unavailable,
                                               "TLS handshake with Cassandra at {} failed: {}",
                                               self->endpoint(), hec.message()));
                    }
                    self->start_read();
                    self->handshake(finish);
                  });
            });
      });
}

void connection::handshake(open_handler done) {
  std::string frame;
  write_startup(frame, 0, options_.compression);
  auto self = shared_from_this();
  send(std::move(frame), [self, done = std::move(done)](result<response> r) mutable {
    if (!r) return self->fail_open(done, r.err());
    if (version_refused(*r)) {
      auto e = make_error(errc::protocol, "Cassandra at {} refused protocol v{}: {}",
                          self->endpoint(), self->version_, r->error->message);
      e.detail = 0x000A;
      return self->fail_open(done, e);
    }
    if (r->error) {
      auto e = make_error(errc::server, "Cassandra at {} refused STARTUP: {}", self->endpoint(),
                          r->error->message);
      e.detail = r->error->code;
      return self->fail_open(done, e);
    }
    self->compress_ = !self->options_.compression.empty();
    if (r->op == opcode::authenticate) return self->authenticate(r->authenticator, done);
    self->after_ready(std::move(done));
  });
}

void connection::authenticate(const std::string& authenticator, open_handler done) {
  if (!options_.auth) {
    auto e = make_error(errc::invalid_argument,
                        "Cassandra at {} requires authentication ({}): give a user and password "
                        "(--cql-user/--cql-password)",
                        endpoint(), authenticator);
    e.detail = 0x0100;
    return fail_open(done, e);
  }
  std::string frame;
  write_plain_auth_response(frame, 0, options_.auth->username, options_.auth->password);
  auto self = shared_from_this();
  send(std::move(frame), [self, done = std::move(done)](result<response> r) mutable {
    if (!r) return self->fail_open(done, r.err());
    if (r->error) {
      auto e = make_error(errc::server, "authentication as '{}' at {} failed: {}",
                          self->options_.auth->username, self->endpoint(), r->error->message);
      e.detail = r->error->code;
      return self->fail_open(done, e);
    }
    if (r->op != opcode::auth_success) {
      return self->fail_open(
          done, make_error(errc::protocol,
                           "Cassandra at {} answered the PLAIN credentials with opcode 0x{:02x} "
                           "(only PasswordAuthenticator's single round is supported)",
                           self->endpoint(), static_cast<int>(r->op)));
    }
    self->after_ready(std::move(done));
  });
}

void connection::after_ready(open_handler done) {
  auto self = shared_from_this();
  start_heartbeat();
  if (options_.keyspace.empty()) return done(self);
  std::string frame;
  write_query(frame, 0, "USE " + quote_identifier(options_.keyspace),
              {consistency::one, {}, 0, {}});
  send(std::move(frame), [self, done = std::move(done)](result<response> r) mutable {
    if (!r) return self->fail_open(done, r.err());
    if (r->error) {
      auto e = make_error(errc::server, "USE keyspace '{}' at {} failed: {}",
                          self->options_.keyspace, self->endpoint(), r->error->message);
      e.detail = r->error->code;
      return self->fail_open(done, e);
    }
    done(self);
  });
}

void connection::send(std::string frame, response_handler done) {
  {
    std::lock_guard lock(queue_mutex_);
    queued_.push_back({std::move(frame), std::move(done)});
    if (flush_posted_) return;
    flush_posted_ = true;
  }
  asio::post(io_, [self = shared_from_this()] { self->flush(); });
}

void connection::flush() {
  std::vector<queued> batch;
  {
    std::lock_guard lock(queue_mutex_);
    batch.swap(queued_);
    flush_posted_ = false;
  }
  for (auto& request : batch) enqueue(std::move(request));
  if (!writing_now_) start_write();
  arm_sweep();
}

void connection::enqueue(queued request) {
  if (closed_) {
    auto e = make_error(errc::unavailable, "connection to Cassandra at {} is closed", endpoint());
    e.detail = never_sent;
    request.done(e);
    return;
  }
  if (free_streams_.empty()) {
    waiting_for_stream_.push_back(std::move(request));
    return;
  }
  auto stream = free_streams_.back();
  free_streams_.pop_back();
  auto& frame = request.frame;
  patch_header(frame, version_, stream);
  auto op = static_cast<opcode>(static_cast<std::uint8_t>(frame[4]));
  auto& s = slots_[static_cast<std::size_t>(stream)];
  s.done = std::move(request.done);
  s.orphaned = false;
  ++s.generation;
  deadlines_.push_back(
      {std::chrono::steady_clock::now() + options_.request_timeout, stream, s.generation});
  ++in_flight_;
  unsent_.push_back(stream);
  if (compress_ && op != opcode::startup) {
    out_ += compress_frame(frame);
  } else {
    out_ += frame;
  }
}

void connection::start_write() {
  if (closed_ || out_.empty()) return;
  writing_now_ = true;
  writing_.swap(out_);
  out_.clear();
  unsent_.clear();  // from here on the server may receive them
  auto self = shared_from_this();
  with_stream([&](auto& stream) {
    asio::async_write(
        stream, asio::buffer(writing_), [self](const boost::system::error_code& ec, std::size_t) {
          self->writing_now_ = false;
          self->writing_.clear();
          if (ec) {
            return self->close(make_error(errc::unavailable,
                                          "connection to Cassandra at {} lost while sending: {}",
                                          self->endpoint(), ec.message()));
          }
          self->start_write();
        });
  });
}

void connection::start_read() {
  if (closed_) return;
  auto self = shared_from_this();
  with_stream([&](auto& stream) {
    stream.async_read_some(asio::buffer(read_chunk_), [self](const boost::system::error_code& ec,
                                                             std::size_t n) {
      if (ec) {
        if (ec == asio::error::operation_aborted) return;
        return self->close(make_error(errc::unavailable, "connection to Cassandra at {} closed: {}",
                                      self->endpoint(), ec.message()));
      }
      self->last_read_ = std::chrono::steady_clock::now();
      // A hostile or broken frame must cost this connection only: whatever parsing or the
      // response path throws (bad_alloc, length_error, ...) closes it with the reason.
      try {
        self->in_.append(self->read_chunk_.data(), n);
        self->consume_input();
      } catch (const std::exception& e) {
        return self->close(make_error(errc::protocol,
                                      "Cassandra at {}: reading a response failed ({} buffered "
                                      "bytes): {}",
                                      self->endpoint(), self->in_.size() - self->in_pos_,
                                      e.what()));
      }
      self->start_read();
    });
  });
}

void connection::consume_input() {
  while (!closed_) {
    if (skip_remaining_ > 0) {
      auto n = std::min<std::uint64_t>(skip_remaining_, in_.size() - in_pos_);
      in_pos_ += n;
      skip_remaining_ -= n;
      if (skip_remaining_ > 0) break;
      continue;
    }
    if (in_.size() - in_pos_ < header_size) break;
    auto header_bytes = std::string_view(in_).substr(in_pos_, header_size);
    auto header = parse_header(header_bytes);
    if (!header && header.err().detail != frame_too_large) {
      return close(make_error(errc::protocol, "Cassandra at {} sent a bad frame: {}", endpoint(),
                              header.err().message));
    }
    if (!header || header->length > options_.max_frame_bytes) {
      auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(header_bytes[i]); };
      auto stream = static_cast<std::int16_t>((byte(2) << 8) | byte(3));
      auto length =
          static_cast<std::uint32_t>((byte(5) << 24) | (byte(6) << 16) | (byte(7) << 8) | byte(8));
      in_pos_ += header_size;
      skip_oversized(stream, length);
      continue;
    }
    if (in_.size() - in_pos_ - header_size < header->length) break;
    std::string body = in_.substr(in_pos_ + header_size, header->length);
    in_pos_ += header_size + header->length;
    dispatch(*header, std::move(body));
  }
  if (in_pos_ == in_.size()) {
    in_.clear();
    in_pos_ = 0;
  } else if (in_pos_ > (1u << 20)) {
    in_.erase(0, in_pos_);
    in_pos_ = 0;
  }
}

void connection::skip_oversized(std::int16_t stream, std::uint32_t length) {
  skip_remaining_ = length;
  auto why = make_error(errc::invalid_argument,
                        "Cassandra at {} answered with {} bytes, over the client's limit of {} "
                        "bytes: page the query (a smaller page size) or select less",
                        endpoint(), length, options_.max_frame_bytes);
  if (stream < 0) return;  // an oversized event: nobody waits for it
  auto& s = slots_[static_cast<std::size_t>(stream)];
  if (!s.done && !s.orphaned) return;
  auto done = std::move(s.done);
  s.done = nullptr;
  bool was_orphaned = s.orphaned;
  s.orphaned = false;
  if (was_orphaned) --orphaned_;
  release(stream);
  if (!was_orphaned && done) done(why);
}

void connection::dispatch(const frame_header& received, std::string body) {
  frame_header header = received;
  if (header.flags & 0x01) {
    if (options_.compression != "lz4") {
      return close(make_error(errc::protocol,
                              "Cassandra at {} sent a compressed frame though none was negotiated",
                              endpoint()));
    }
    auto plain = lz4_decompress_body(body);
    if (!plain) {
      return close(
          make_error(errc::protocol, "Cassandra at {}: {}", endpoint(), plain.err().message));
    }
    body = std::move(*plain);
    header.flags = static_cast<std::uint8_t>(header.flags & ~0x01);
  }
  if (header.stream < 0) {
    auto parsed = parse_response(header, body);
    if (!parsed) {
      return close(make_error(errc::protocol,
                              "Cassandra at {} sent a malformed {} on stream {}: {}", endpoint(),
                              op_name(header.op), header.stream, parsed.err().message));
    }
    if (parsed->op == opcode::event && on_event_) on_event_(parsed->event);
    return;
  }
  auto& s = slots_[static_cast<std::size_t>(header.stream)];
  if (!s.done && !s.orphaned) return;  // an answer to nothing we sent
  auto done = std::move(s.done);
  s.done = nullptr;
  bool was_orphaned = s.orphaned;
  s.orphaned = false;
  if (was_orphaned) --orphaned_;
  release(header.stream);
  auto parsed = parse_response(header, body);
  if (!parsed) {
    // The frame was cut where its header said, but a server that sends malformed bodies
    // cannot be trusted with the other requests either: close, then report the cause.
    auto why = make_error(errc::protocol, "Cassandra at {} sent a malformed {} on stream {}: {}",
                          endpoint(), op_name(header.op), header.stream, parsed.err().message);
    close(why);
    if (!was_orphaned && done) done(why);
    return;
  }
  if (!was_orphaned && done) done(std::move(parsed));
}

void connection::release(std::int16_t stream) {
  --in_flight_;
  free_streams_.push_back(stream);
  if (!waiting_for_stream_.empty()) {
    auto next = std::move(waiting_for_stream_.front());
    waiting_for_stream_.pop_front();
    enqueue(std::move(next));
    if (!writing_now_) start_write();
  }
}

void connection::arm_sweep() {
  if (sweep_armed_ || closed_ || in_flight_ == 0) return;
  sweep_armed_ = true;
  sweep_timer_.expires_after(sweep_period);
  sweep_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    self->sweep_armed_ = false;
    if (!ec) self->sweep();
  });
}

void connection::sweep() {
  auto now = std::chrono::steady_clock::now();
  while (!deadlines_.empty() && deadlines_.front().at <= now) {
    auto d = deadlines_.front();
    deadlines_.pop_front();
    auto& s = slots_[static_cast<std::size_t>(d.stream)];
    if (s.generation != d.generation || !s.done) continue;  // answered already
    auto done = std::move(s.done);
    s.done = nullptr;
    s.orphaned = true;
    ++orphaned_;
    done(make_error(errc::timeout, "no answer from Cassandra at {} within {} ms", endpoint(),
                    options_.request_timeout.count()));
  }
  // Drop deadlines of answered requests at the front so the queue stays short.
  while (!deadlines_.empty()) {
    auto& front = deadlines_.front();
    auto& s = slots_[static_cast<std::size_t>(front.stream)];
    if (s.generation == front.generation && s.done) break;
    deadlines_.pop_front();
  }
  if (orphaned_ > max_orphaned) {
    return close(make_error(errc::timeout,
                            "Cassandra at {} left {} requests unanswered; reconnecting", endpoint(),
                            orphaned_));
  }
  arm_sweep();
}

void connection::close(const error& why) {
  if (closed_) return;
  closed_ = true;
  sweep_timer_.cancel();
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  heartbeat_timer_.cancel();
  connect_timer_.cancel();
  // Requests whose bytes never reached the socket failed without running anywhere: the
  // session may send them to another node whatever the statement (error::detail never_sent).
  std::vector<response_handler> sent, not_sent;
  for (auto stream : unsent_) {
    auto& s = slots_[static_cast<std::size_t>(stream)];
    if (s.done) not_sent.push_back(std::move(s.done));
    s.done = nullptr;
  }
  unsent_.clear();
  for (auto& s : slots_) {
    if (s.done) sent.push_back(std::move(s.done));
    s.done = nullptr;
  }
  for (auto& w : waiting_for_stream_) not_sent.push_back(std::move(w.done));
  waiting_for_stream_.clear();
  {
    std::lock_guard lock(queue_mutex_);
    for (auto& q : queued_) not_sent.push_back(std::move(q.done));
    queued_.clear();
  }
  in_flight_ = 0;
  for (auto& done : sent) done(why);
  auto unsent_why = why;
  unsent_why.detail = never_sent;
  unsent_why.message += " (before the request was sent)";
  for (auto& done : not_sent) done(unsent_why);
  if (on_close_) {
    auto listener = std::move(on_close_);
    on_close_ = nullptr;
    listener(why);
  }
}

// ---------------------------------------------------------------- failure detection

void connection::enable_keepalive() {
  // The kernel's probes find a peer that vanished without a RST (power loss, a cut link)
  // even on an idle connection whose heartbeat is off: first probe after 30 s, 3 x 10 s.
  boost::system::error_code ignored;
  socket_.set_option(asio::socket_base::keep_alive(true), ignored);
  int fd = socket_.native_handle();
  int idle = 30, interval = 10, count = 3;
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
}

void connection::start_heartbeat() {
  if (options_.heartbeat_interval.count() <= 0) return;
  last_read_ = std::chrono::steady_clock::now();
  arm_heartbeat();
}

void connection::arm_heartbeat() {
  if (closed_) return;
  auto tick = std::min<std::chrono::milliseconds>(options_.heartbeat_interval,
                                                  std::chrono::milliseconds(250));
  heartbeat_timer_.expires_after(tick);
  heartbeat_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec) self->heartbeat_tick();
  });
}

void connection::heartbeat_tick() {
  if (closed_) return;
  auto now = std::chrono::steady_clock::now();
  if (heartbeat_pending_) {
    if (now - heartbeat_sent_ >= options_.heartbeat_timeout) {
      auto e = make_error(errc::timeout,
                          "Cassandra at {} missed a heartbeat: no answer to OPTIONS within {} ms "
                          "(the node is frozen, overloaded or unreachable); closing the connection",
                          endpoint(), options_.heartbeat_timeout.count());
      e.detail = heartbeat_missed;
      return close(e);
    }
    return arm_heartbeat();
  }
  // Busy and silent for a second is suspicious; idle and silent is normal until the interval.
  auto busy_silence =
      std::min<std::chrono::milliseconds>(options_.heartbeat_interval, std::chrono::seconds(1));
  auto threshold = in_flight_ > 0 ? busy_silence : options_.heartbeat_interval;
  if (now - last_read_ >= threshold) {
    heartbeat_pending_ = true;
    heartbeat_sent_ = now;
    std::string frame;
    write_options(frame, 0);
    std::weak_ptr<connection> weak = shared_from_this();
    send(std::move(frame), [weak](const result<response>&) {
      if (auto self = weak.lock()) self->heartbeat_pending_ = false;
    });
  }
  arm_heartbeat();
}

}  // namespace sluice::cql
