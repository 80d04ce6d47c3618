// Unit tests for the registry client that need no registry: an unreachable URL gives a
// clear error naming it, and error codes are read back from error messages.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "registry/client.h"

namespace sluice::registry {
namespace {

// A loopback port nothing listens on: bound (port 0) and closed again.
int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST(RegistryClient, UnreachableRegistryErrorNamesTheUrl) {
  auto url = "http://127.0.0.1:" + std::to_string(closed_port());
  client c({url + "/", std::chrono::milliseconds(2000), std::chrono::milliseconds(1000), ""});
  auto r = c.schema_by_id(1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, errc::unavailable);
  EXPECT_NE(r.err().message.find(url + "/schemas/ids/1"), std::string::npos) << r.err().message;
  auto reg = c.register_schema("users.raw-value", R"("string")");
  ASSERT_FALSE(reg);
  EXPECT_NE(reg.err().message.find(url + "/subjects/users.raw-value/versions"), std::string::npos)
      << reg.err().message;
}

TEST(RegistryClient, SubjectIsPercentEncodedInTheUrl) {
  auto url = "http://127.0.0.1:" + std::to_string(closed_port());
  client c({url, std::chrono::milliseconds(2000), std::chrono::milliseconds(1000), ""});
  auto r = c.latest("a/b c");
  ASSERT_FALSE(r);
  EXPECT_NE(r.err().message.find("/subjects/a%2Fb%20c/versions/latest"), std::string::npos)
      << r.err().message;
}

TEST(RegistryClient, ErrorCodeIsReadBackFromTheMessage) {
  error e{errc::invalid_argument,
          "schema registry POST http://x/subjects/s/versions: HTTP 409, error_code 409: nope"};
  EXPECT_EQ(registry_error_code(e), 409);
  EXPECT_EQ(registry_error_code(error{errc::io, "no code here"}), std::nullopt);
}

TEST(RegistryClient, OnlyError40403IsASchemaNotFoundNotAWrongUrlOr500) {
  error missing{errc::not_found,
                "schema registry GET http://x/schemas/ids/9: HTTP 404, error_code 40403: "
                "Schema 9 not found"};
  error wrong_path{errc::not_found,
                   "schema registry GET http://x/typo/schemas/ids/9: HTTP 404, error_code 404: "
                   "HTTP 404 Not Found"};
  error proxy_page{errc::not_found, "schema registry GET http://x/schemas/ids/9: HTTP 404: <html>"};
  error server{errc::server, "schema registry GET http://x/schemas/ids/9: HTTP 500: oops"};
  EXPECT_TRUE(schema_not_found(missing));
  EXPECT_FALSE(schema_not_found(wrong_path));
  EXPECT_FALSE(schema_not_found(proxy_page));
  EXPECT_FALSE(schema_not_found(server));
}

}  // namespace
}  // namespace sluice::registry
