// A fake Cassandra that answers the client's STARTUP with broken frames: truncated
// header, absurd length, unknown opcode, a body cut short, a malformed ERROR body, and
// random bytes. Each must come back as an error naming the problem; none may crash
// (the unit tests also run under ASan/UBSan) or hang past the session timeout.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <thread>

#include "cql/cql.h"
#include "cql/tests/loopback.h"

namespace sluice::cql {
namespace {

/// Listens on a free loopback port; for one connection, reads what the client sends
/// first, answers `reply`, then either closes or keeps the socket open for `hold`.
class fake_server {
 public:
  fake_server(std::string reply, std::chrono::milliseconds hold)
      : reply_(std::move(reply)), hold_(hold) {
    listener_ = testing_support::listen_on_loopback(1, port_);
    thread_ = std::thread([this] { serve(); });
  }
  ~fake_server() {
    thread_.join();
    ::close(listener_);
  }
  int port() const { return port_; }

 private:
  void serve() {
    int client = ::accept(listener_, nullptr, nullptr);
    if (client < 0) return;
    char buffer[4096];
    (void)::recv(client, buffer, sizeof buffer, 0);  // the STARTUP frame
    (void)::send(client, reply_.data(), reply_.size(), MSG_NOSIGNAL);
    std::this_thread::sleep_for(hold_);
    ::close(client);
  }
  std::string reply_;
  std::chrono::milliseconds hold_;
  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
};

/// A v4 response header: version 0x84, flags 0, stream 0, opcode, body length.
std::string header(std::uint8_t opcode, std::uint32_t length) {
  std::string h = {'\x84', '\0', '\0', '\0', static_cast<char>(opcode)};
  for (int i = 3; i >= 0; --i) h.push_back(static_cast<char>((length >> (8 * i)) & 0xFF));
  return h;
}

/// Connects to a fake server answering `reply`; returns the error (or empty when the
/// handshake somehow succeeded) and checks it came back before `limit`.
std::string connect_error(std::string reply, std::chrono::milliseconds hold = {}) {
  fake_server server(std::move(reply), hold);
  session_config config;
  config.port = server.port();
  config.timeout = std::chrono::milliseconds(300);
  auto started = std::chrono::steady_clock::now();
  auto s = session::connect(config);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
  return s.ok() ? std::string() : s.err().message;
}

TEST(CqlFakeServer, TruncatedHeaderThenCloseIsAClosedConnectionError) {
  EXPECT_NE(connect_error(header(0x02, 0).substr(0, 4)).find("closed"), std::string::npos);
}

TEST(CqlFakeServer, TruncatedHeaderOnAnOpenSocketTimesOutInsteadOfHanging) {
  auto e = connect_error(header(0x02, 0).substr(0, 4), std::chrono::milliseconds(1500));
  EXPECT_NE(e.find("300 ms"), std::string::npos) << e;
}

TEST(CqlFakeServer, AbsurdBodyLengthFailsItsRequestBeforeAllocating) {
  auto e = connect_error(header(0x02, 0x7FFFFFFF));
  EXPECT_NE(e.find("answered with 2147483647 bytes, over the client's limit"), std::string::npos)
      << e;
}

TEST(CqlFakeServer, UnknownOpcodeIsNamed) {
  auto e = connect_error(header(0x04, 0));
  EXPECT_NE(e.find("unknown opcode 0x04"), std::string::npos) << e;
}

TEST(CqlFakeServer, BodyShorterThanItsLengthIsAnError) {
  auto e = connect_error(header(0x02, 100) + std::string(10, 'x'));
  EXPECT_FALSE(e.empty());
}

TEST(CqlFakeServer, MalformedErrorBodyIsAnErrorNotACrash) {
  // ERROR (0x00) whose [string] message claims 200 bytes but the body holds 3.
  std::string body = {'\0', '\0', '\0', '\0', '\0', '\xC8', 'a', 'b', 'c'};
  auto e = connect_error(header(0x00, static_cast<std::uint32_t>(body.size())) + body);
  EXPECT_FALSE(e.empty());
}

TEST(CqlFakeServer, RandomReplyBytesNeverCrashOrHang) {
  std::mt19937 random(7);
  for (int round = 0; round < 60; ++round) {
    std::string reply(random() % 64, '\0');
    for (auto& c : reply) c = static_cast<char>(random());
    if (round % 2 == 0 && reply.size() >= 9) {  // half of them with a plausible header
      reply[0] = '\x84';
      reply[4] = static_cast<char>(random() % 0x11);
    }
    (void)connect_error(reply);
  }
}

}  // namespace
}  // namespace sluice::cql
