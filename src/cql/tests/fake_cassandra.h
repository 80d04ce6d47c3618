// A scripted fake Cassandra node for session-level tests: it speaks enough of native
// protocol v4 for session::connect() (STARTUP, REGISTER, the topology queries, USE) and
// hands every other frame to the test's handler. Every frame the client sends is
// recorded as it arrived on the wire (header flags, raw body) and, when its compression
// flag is set, inflated with liblz4 directly. Its encoders and decoders are written from
// the spec here, not taken from protocol.cc, so the tests witness the client
// independently of the client's own codec.
#pragma once

#include <arpa/inet.h>
#include <lz4.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cql/cql.h"

namespace sluice::cql::testing_support {

// ------------------------------------------------------------------ spec encoders

inline void put_be(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
inline std::string be16(int v) {
  std::string s;
  put_be(s, static_cast<std::uint16_t>(v), 2);
  return s;
}
inline std::string be32(std::int64_t v) {
  std::string s;
  put_be(s, static_cast<std::uint32_t>(v), 4);
  return s;
}
/// [string]: a [short] length and UTF-8 bytes.
inline std::string str(std::string_view s) {
  return be16(static_cast<int>(s.size())) + std::string(s);
}
/// [bytes]: an [int] length (-1: null) and the bytes.
inline std::string bytes(const std::optional<std::string>& b) {
  return b ? be32(static_cast<std::int64_t>(b->size())) + *b : be32(-1);
}
inline std::string short_bytes(std::string_view b) {
  return be16(static_cast<int>(b.size())) + std::string(b);
}

/// Option ids of the column types the fake answers with.
inline std::string type_varchar() {
  return be16(0x000D);
}
inline std::string type_int() {
  return be16(0x0009);
}
inline std::string type_inet() {
  return be16(0x0010);
}
inline std::string type_uuid() {
  return be16(0x000C);
}
inline std::string type_set_of_varchar() {
  return be16(0x0022) + be16(0x000D);
}

struct column {
  std::string name;
  std::string type;  // encoded [option]
};
using row = std::vector<std::optional<std::string>>;

/// RESULT kind Rows (0x0002) with a global table spec and no paging.
inline std::string rows_body(const std::vector<column>& columns, const std::vector<row>& rows) {
  std::string b = be32(2) + be32(0x0001) + be32(static_cast<std::int64_t>(columns.size()));
  b += str("ks") + str("tbl");
  for (const auto& c : columns) b += str(c.name) + c.type;
  b += be32(static_cast<std::int64_t>(rows.size()));
  for (const auto& r : rows)
    for (const auto& cell : r) b += bytes(cell);
  return b;
}
inline std::string void_body() {
  return be32(1);
}
inline std::string set_keyspace_body(std::string_view ks) {
  return be32(3) + str(ks);
}
inline std::string schema_change_body(std::string_view ks, std::string_view table) {
  return be32(5) + str("CREATED") + str("TABLE") + str(ks) + str(table);
}
/// RESULT kind Prepared (v4): id, metadata with `int_binds` int bind markers (the first
/// one the partition key), and result metadata flagged No_metadata.
inline std::string prepared_body(std::string_view id, int int_binds) {
  std::string b = be32(4) + short_bytes(id);
  b += be32(0x0001) + be32(int_binds) + be32(int_binds > 0 ? 1 : 0);
  if (int_binds > 0) b += be16(0);
  b += str("ks") + str("tbl");
  for (int i = 0; i < int_binds; ++i) b += str("c" + std::to_string(i)) + type_int();
  b += be32(0x0004) + be32(0);
  return b;
}
/// ERROR: [int] code, [string] message, then the code's own fields as given.
inline std::string error_body(std::int32_t code, std::string_view message,
                              const std::string& extra = {}) {
  return be32(code) + str(message) + extra;
}
inline std::string inet4(std::string_view dotted) {
  in_addr a{};
  ::inet_pton(AF_INET, std::string(dotted).c_str(), &a);
  return std::string(reinterpret_cast<const char*>(&a), 4);
}
/// A node's identity as a uuid cell (16 bytes): fixed per address and port unless a test
/// gives one, so that a fake node and the peers listing it agree.
inline std::string host_id_cell(std::string_view address, int port) {
  return std::string(8, '\0') + inet4(address) + be32(port);
}
inline std::string int_cell(std::int32_t v) {
  return be32(v);
}
inline std::string set_cell(const std::vector<std::string>& items) {
  std::string c = be32(static_cast<std::int64_t>(items.size()));
  for (const auto& i : items) c += bytes(i);
  return c;
}

/// An LZ4 frame body per spec section 5: the uncompressed length as a 4-byte big-endian
/// integer, then one LZ4 block.
inline std::string lz4_body(std::string_view plain) {
  std::string out = be32(static_cast<std::int64_t>(plain.size()));
  std::string block(static_cast<std::size_t>(LZ4_compressBound(static_cast<int>(plain.size()))),
                    '\0');
  int n = LZ4_compress_default(plain.data(), block.data(), static_cast<int>(plain.size()),
                               static_cast<int>(block.size()));
  block.resize(static_cast<std::size_t>(n > 0 ? n : 0));
  return out + block;
}
/// Inflates an LZ4 frame body; nullopt unless the block decodes to exactly the length.
inline std::optional<std::string> lz4_unbody(std::string_view body) {
  if (body.size() < 4) return std::nullopt;
  std::uint32_t n = 0;
  for (int i = 0; i < 4; ++i)
    n = (n << 8) | static_cast<std::uint8_t>(body[static_cast<size_t>(i)]);
  if (n > (64u << 20)) return std::nullopt;
  std::string out(n, '\0');
  if (n == 0) return body.size() == 4 ? std::optional<std::string>(out) : std::nullopt;
  int got = LZ4_decompress_safe(body.data() + 4, out.data(), static_cast<int>(body.size() - 4),
                                static_cast<int>(n));
  if (got != static_cast<int>(n)) return std::nullopt;
  return out;
}

// ------------------------------------------------------------------ spec decoders

/// Reads the spec's primitives off a body; `ok` turns false on the first overrun.
struct cursor {
  std::string_view data;
  bool ok = true;
  std::string_view take(std::size_t n) {
    if (!ok || data.size() < n) {
      ok = false;
      return {};
    }
    auto out = data.substr(0, n);
    data.remove_prefix(n);
    return out;
  }
  std::int64_t be(int n) {
    auto b = take(static_cast<std::size_t>(n));
    std::uint64_t v = 0;
    for (char c : b) v = (v << 8) | static_cast<std::uint8_t>(c);
    return ok ? static_cast<std::int64_t>(v) : 0;
  }
  std::string string() { return std::string(take(static_cast<std::size_t>(be(2)))); }
  std::string long_string() { return std::string(take(static_cast<std::size_t>(be(4)))); }
  std::string short_bytes() { return string(); }
};

/// STARTUP's [string map].
inline std::optional<std::map<std::string, std::string>> parse_string_map(std::string_view body) {
  cursor c{body};
  std::map<std::string, std::string> m;
  auto n = c.be(2);
  for (std::int64_t i = 0; i < n && c.ok; ++i) {
    auto k = c.string();
    m[k] = c.string();
  }
  if (!c.ok || !c.data.empty()) return std::nullopt;
  return m;
}

/// A frame as the client sent it.
struct frame {
  int connection = 0;  // in accept order
  std::uint8_t version = 0, flags = 0;
  std::int16_t stream = 0;
  std::uint8_t op = 0;
  std::string wire_body;  // as sent
  std::string body;       // inflated when flag 0x01 was set
  bool inflated = true;   // false: flag 0x01 set but the body is no LZ4 body
};

/// QUERY's and PREPARE's leading [long string].
inline std::string query_text(const frame& f) {
  cursor c{f.body};
  return c.long_string();
}
/// EXECUTE's leading [short bytes] id.
inline std::string execute_id(const frame& f) {
  cursor c{f.body};
  return c.short_bytes();
}

struct reply {
  std::uint8_t op = 0x08;  // RESULT
  std::string body;
  bool silent = false;                 // answer nothing
  bool compressed = false;             // LZ4-compress and flag it even if the client did not ask
  std::optional<std::int16_t> stream;  // send on this stream (-1: a server push) instead
  bool precompressed = false;          // `body` is sent as is with the compression flag set
};

// ------------------------------------------------------------------ the node

class fake_cassandra {
 public:
  /// Called for every frame after STARTUP; nullopt: the default answer.
  using handler = std::function<std::optional<reply>(const frame&)>;

  struct peer {
    std::string address;
    int port;
    std::string host_id = {};   // 16 bytes; empty: host_id_cell(address, port)
    bool null_host_id = false;  // a broken row: host_id null
  };

  explicit fake_cassandra(handler h = {}, std::string address = "127.0.0.1",
                          std::vector<peer> peers = {})
      : handler_(std::move(h)), address_(std::move(address)), peers_(std::move(peers)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    ::inet_pton(AF_INET, address_.c_str(), &a.sin_addr);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(listener_, 16);
    socklen_t len = sizeof a;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    accept_thread_ = std::thread([this] { accept_loop(); });
  }
  ~fake_cassandra() {
    stopping_ = true;
    ::shutdown(listener_, SHUT_RDWR);
    accept_thread_.join();
    {
      std::lock_guard lock(mutex_);
      for (int fd : clients_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : client_threads_) t.join();
    for (int fd : clients_) ::close(fd);
    ::close(listener_);
  }
  fake_cassandra(const fake_cassandra&) = delete;
  fake_cassandra& operator=(const fake_cassandra&) = delete;

  int port() const { return port_; }
  const std::string& address() const { return address_; }
  /// From now on no frame is answered, STARTUP included (a frozen process).
  void freeze() { frozen_ = true; }

  /// Peers, set before the client connects (system.peers_v2 lists them).
  void set_peers(std::vector<peer> peers) {
    std::lock_guard lock(mutex_);
    peers_ = std::move(peers);
  }
  /// The identity system.local gives (16 bytes; by default from the address and port).
  void set_host_id(std::string id) {
    std::lock_guard lock(mutex_);
    host_id_ = std::move(id);
  }
  /// Sends an EVENT (its body: type, change, details) to the connection that registered
  /// for events, as a server push; false when no connection registered.
  bool push_event(const std::string& body) {
    int fd = registered_fd_;
    if (fd < 0) return false;
    std::string out("\x84\x00\xff\xff\x0c", 5);
    put_be(out, body.size(), 4);
    out += body;
    return ::send(fd, out.data(), out.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(out.size());
  }
  /// Whether replies after STARTUP are compressed when the client asked for LZ4.
  void compress_replies(bool on) { compress_replies_ = on; }

  std::vector<frame> frames() const {
    std::lock_guard lock(mutex_);
    return frames_;
  }
  /// The STARTUP options of each connection, in accept order.
  std::vector<std::map<std::string, std::string>> startups() const {
    std::lock_guard lock(mutex_);
    return startups_;
  }

 private:
  struct conn_state {
    int index = 0;
    bool lz4_asked = false;
    bool lz4 = false;
  };

  void accept_loop() {
    while (!stopping_) {
      int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) return;
      std::lock_guard lock(mutex_);
      if (stopping_) {
        ::close(fd);
        return;
      }
      clients_.push_back(fd);
      int index = static_cast<int>(clients_.size()) - 1;
      client_threads_.emplace_back([this, fd, index] { serve(fd, index); });
    }
  }

  void serve(int fd, int index) {
    conn_state state{index, false, false};
    std::string in;
    char chunk[65536];
    while (true) {
      auto n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return;
      in.append(chunk, static_cast<std::size_t>(n));
      while (in.size() >= 9) {
        cursor c{in};
        frame f;
        f.connection = index;
        f.version = static_cast<std::uint8_t>(c.be(1));
        f.flags = static_cast<std::uint8_t>(c.be(1));
        f.stream = static_cast<std::int16_t>(c.be(2));
        f.op = static_cast<std::uint8_t>(c.be(1));
        auto length = static_cast<std::size_t>(c.be(4));
        if (in.size() < 9 + length) break;
        f.wire_body = in.substr(9, length);
        in.erase(0, 9 + length);
        f.body = f.wire_body;
        if (f.flags & 0x01) {
          auto plain = lz4_unbody(f.wire_body);
          f.inflated = plain.has_value();
          if (plain) f.body = std::move(*plain);
        }
        {
          std::lock_guard lock(mutex_);
          frames_.push_back(f);
        }
        if (f.op == 0x0B) registered_fd_ = fd;  // REGISTER: where events go
        if (frozen_) continue;  // like a SIGSTOPped node: the kernel accepts, nobody answers
        auto r = answer(f, state);
        if (r.silent) continue;
        send_reply(fd, f, r, state, f.op != 0x01);
        if (f.op == 0x01) state.lz4 = state.lz4_asked;  // replies after READY are compressed
      }
    }
  }

  void send_reply(int fd, const frame& f, const reply& r, const conn_state& state,
                  bool may_compress) {
    std::string body = r.body;
    std::uint8_t flags = 0;
    if (r.precompressed) {
      flags = 0x01;
    } else if (r.compressed || (may_compress && state.lz4 && compress_replies_)) {
      body = lz4_body(body);
      flags = 0x01;
    }
    std::string out;
    out.push_back(static_cast<char>(0x80 | f.version));
    out.push_back(static_cast<char>(flags));
    put_be(out, static_cast<std::uint16_t>(r.stream.value_or(f.stream)), 2);
    out.push_back(static_cast<char>(r.op));
    put_be(out, body.size(), 4);
    out += body;
    (void)::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
  }

  reply answer(const frame& f, conn_state& state) {
    if (f.op == 0x01) {  // STARTUP
      auto options = parse_string_map(f.body);
      state.lz4_asked =
          options && options->count("COMPRESSION") && options->at("COMPRESSION") == "lz4";
      std::lock_guard lock(mutex_);
      if (startups_.size() <= static_cast<std::size_t>(state.index))
        startups_.resize(static_cast<std::size_t>(state.index) + 1);
      startups_[static_cast<std::size_t>(state.index)] =
          options.value_or(std::map<std::string, std::string>{{"<malformed>", ""}});
      return {0x02, ""};  // READY
    }
    if (handler_) {
      if (auto custom = handler_(f)) return *custom;
    }
    if (f.op == 0x0B) return {0x02, ""};  // REGISTER: READY
    if (f.op == 0x09) return {0x08, prepared_body("id-" + query_text(f), 0)};
    if (f.op != 0x07) return {0x08, void_body()};
    auto q = query_text(f);
    std::string dc = "dc1";
    if (q.starts_with("SELECT rpc_address, data_center, rack, tokens, host_id FROM system.local")) {
      std::lock_guard lock(mutex_);
      auto id = host_id_.empty() ? host_id_cell(address_, port_) : host_id_;
      return {0x08, rows_body({{"rpc_address", type_inet()},
                               {"data_center", type_varchar()},
                               {"rack", type_varchar()},
                               {"tokens", type_set_of_varchar()},
                               {"host_id", type_uuid()}},
                              {{inet4(address_), dc, "r1", set_cell({"0"}), id}})};
    }
    if (q.find("FROM system.peers_v2") != std::string::npos) {
      std::vector<row> rows;
      std::lock_guard lock(mutex_);
      std::int64_t token = 1;
      for (const auto& p : peers_)
        rows.push_back({inet4(p.address), dc, "r1", set_cell({std::to_string(1000 * token++)}),
                        int_cell(p.port),
                        p.null_host_id      ? std::nullopt
                        : p.host_id.empty() ? std::optional(host_id_cell(p.address, p.port))
                                            : std::optional(p.host_id)});
      return {0x08, rows_body({{"native_address", type_inet()},
                               {"data_center", type_varchar()},
                               {"rack", type_varchar()},
                               {"tokens", type_set_of_varchar()},
                               {"native_port", type_int()},
                               {"host_id", type_uuid()}},
                              rows)};
    }
    if (q.find("FROM system_schema.keyspaces") != std::string::npos)
      return {0x08,
              rows_body({{"keyspace_name", type_varchar()}, {"replication", type_varchar()}}, {})};
    if (q.starts_with("USE ")) return {0x08, set_keyspace_body("ks")};
    return {0x08, void_body()};
  }

  handler handler_;
  std::string address_;
  std::vector<peer> peers_;
  std::string host_id_;
  std::atomic<bool> compress_replies_{true};
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> frozen_{false};
  std::atomic<int> registered_fd_{-1};
  mutable std::mutex mutex_;
  std::vector<int> clients_;
  std::vector<std::thread> client_threads_;
  std::vector<frame> frames_;
  std::vector<std::map<std::string, std::string>> startups_;
  std::thread accept_thread_;
};

/// A session configuration for one fake node: its address and port, a 3 s timeout.
inline session_config session_config_for(const fake_cassandra& node) {
  session_config c;
  c.host = node.address();
  c.port = node.port();
  c.timeout = std::chrono::milliseconds(3000);
  return c;
}

}  // namespace sluice::cql::testing_support
