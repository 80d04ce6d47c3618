// A blocking loopback TCP client for the server tests: raw bytes out, raw bytes back,
// with a receive timeout so that a server which never answers fails the test instead
// of hanging it. POSIX sockets, so a test can open it before the fd table fills up.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace sluice::web::testing {

class raw_client {
 public:
  raw_client() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    timeval timeout{3, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }
  ~raw_client() { close(); }
  raw_client(const raw_client&) = delete;
  raw_client& operator=(const raw_client&) = delete;

  bool connect(int port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }

  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  /// Everything until the server closes (or an error, or 3 s of silence).
  std::string read_until_close() {
    std::string out;
    while (read_some(out)) {
    }
    return out;
  }

  /// One response: the head, then as many body bytes as its Content-Length says.
  std::string read_response() {
    std::string out;
    std::size_t head_end = std::string::npos;
    while ((head_end = out.find("\r\n\r\n")) == std::string::npos) {
      if (!read_some(out)) return out;
    }
    std::size_t length = 0;
    if (auto at = out.find("Content-Length: "); at != std::string::npos && at < head_end) {
      length = std::strtoul(out.c_str() + at + 16, nullptr, 10);
    }
    while (out.size() < head_end + 4 + length) {
      if (!read_some(out)) break;
    }
    return out;
  }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  bool read_some(std::string& out) {
    char chunk[4096];
    auto n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    out.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  int fd_;
};

/// Sends `request` on a new connection and returns all the server sends back.
inline std::string exchange(int port, std::string_view request) {
  raw_client client;
  if (!client.connect(port) || !client.send(request)) return {};
  return client.read_until_close();
}

}  // namespace sluice::web::testing
