// The asynchronous connection's handshake against a scripted server: a server that
// refuses protocol v4 gets a second connection offering v3, and the request frames carry
// the version that was agreed.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <thread>

#include "cql/connection.h"
#include "cql/tests/loopback.h"

namespace sluice::cql {
namespace {

/// Accepts two connections: refuses the first STARTUP with "unsupported protocol
/// version", answers READY to the second; remembers the version byte of each STARTUP.
class version_refusing_server {
 public:
  explicit version_refusing_server(std::vector<int>& versions_seen)
      : versions_seen_(versions_seen) {
    listener_ = testing_support::listen_on_loopback(2, port_);
    thread_ = std::thread([this] { serve(); });
  }
  ~version_refusing_server() {
    thread_.join();
    ::close(listener_);
  }
  int port() const { return port_; }

 private:
  static std::string frame(char version, char stream_hi, char stream_lo, char opcode,
                           const std::string& body) {
    std::string f = {version, '\0', stream_hi, stream_lo, opcode};
    auto n = static_cast<std::uint32_t>(body.size());
    for (int i = 3; i >= 0; --i) f.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
    return f + body;
  }
  void serve() {
    for (int round = 0; round < 2; ++round) {
      int client = ::accept(listener_, nullptr, nullptr);
      if (client < 0) return;
      char request[4096];
      auto got = ::recv(client, request, sizeof request, 0);
      if (got < 9) {
        ::close(client);
        return;
      }
      versions_seen_.push_back(request[0]);
      std::string reply;
      if (round == 0) {
        std::string message = "Invalid or unsupported protocol version (4); supported (3/v3)";
        std::string body = {'\0', '\0', '\0', '\x0A', '\0', static_cast<char>(message.size())};
        reply = frame('\x83', request[2], request[3], '\x00', body + message);
      } else {
        reply = frame('\x83', request[2], request[3], '\x02', "");
      }
      (void)::send(client, reply.data(), reply.size(), MSG_NOSIGNAL);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      ::close(client);
    }
  }
  std::vector<int>& versions_seen_;
  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
};

TEST(CqlConnection, ServerRefusingV4GetsASecondHandshakeOfferingV3) {
  std::optional<result<std::shared_ptr<connection>>> outcome;
  std::vector<int> versions_seen;
  {
    version_refusing_server server(versions_seen);
    boost::asio::io_context io;
    connection_options options;
    options.port = server.port();
    options.connect_timeout = std::chrono::milliseconds(2000);
    connection::open(io, options, [&](result<std::shared_ptr<connection>> r) {
      outcome = std::move(r);
      if (outcome->ok()) (**outcome)->close(make_error(errc::unavailable, "test done"));
    });
    io.run_for(std::chrono::seconds(5));
    ASSERT_TRUE(outcome.has_value()) << "the handshake never finished";
    ASSERT_TRUE(outcome->ok()) << outcome->err().message;
    EXPECT_EQ((**outcome)->version(), 3);
    outcome.reset();  // drop the connection while its io_context lives
    io.run_for(std::chrono::milliseconds(100));
  }  // joins the server thread
  EXPECT_EQ(versions_seen, (std::vector<int>{4, 3}));
}

TEST(CqlConnection, UnsupportedMaximumVersionIsRefusedUpFront) {
  boost::asio::io_context io;
  connection_options options;
  options.max_version = 5;
  std::optional<std::string> message;
  connection::open(io, options, [&](result<std::shared_ptr<connection>> r) {
    message = r.ok() ? "" : r.err().message;
  });
  io.run_for(std::chrono::seconds(1));
  ASSERT_TRUE(message.has_value());
  EXPECT_NE(message->find("version 5 is not supported"), std::string::npos) << *message;
}

}  // namespace
}  // namespace sluice::cql
