// Tests of the socket-free request pipeline (handling.h): raw request bytes in, the
// answer a connection would send out, and what the "web" logger writes meanwhile.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>
#include "web/handling.h"
#include "web/tests/log_capture.h"

namespace sluice::web {
namespace {

router test_routes() {
  router routes;
  routes.add("GET", "/echo", [](const request& r) {
    const auto* name = r.param("name");
    return response{200, "text/plain", name ? *name : "(none)", {}};
  });
  routes.add("POST", "/echo", [](const request& r) {
    return response{200, "text/plain", r.body, {}};
  });
  routes.add_prefix("GET", "/boom", [](const request& r) -> response {
    throw std::runtime_error("handler failed on " + r.path);
  });
  routes.add_prefix("GET", "/subjects/", [](const request& r) {
    return json_error(404, "no such subject: " + r.path.substr(10), "subject");
  });
  return routes;
}

class RawRequest : public ::testing::Test {
 protected:
  response answer(const std::string& bytes) {
    auto res = handler_.handle_raw(bytes);
    if (!res) return response{0, "", "(closed without an answer)", {}};
    return *res;
  }
  request_handler handler_{server_options{}, test_routes()};
};

std::string get(const std::string& target) {
  return "GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n";
}

TEST_F(RawRequest, PercentEncodedNonUtf8PathIs400WithJsonErrorNot500) {
  for (const char* target : {"/%FF", "/subjects/%C0%AF", "/echo%ED%A0%80"}) {
    auto res = answer(get(target));
    EXPECT_EQ(res.status, 400) << target << ": " << res.body;
    auto body = nlohmann::json::parse(res.body);
    EXPECT_NE(body["error"].get<std::string>().find("not valid UTF-8"), std::string::npos);
    EXPECT_EQ(body["parameter"], "path");
  }
}

TEST_F(RawRequest, RawNonUtf8BytesInPathAre400) {
  auto res = answer(get("/subjects/\xff\xfe"));
  EXPECT_EQ(res.status, 400) << res.body;
  EXPECT_TRUE(nlohmann::json::accept(res.body)) << res.body;
}

TEST_F(RawRequest, NonUtf8QueryValueIs400NamingTheParameter) {
  auto res = answer(get("/echo?name=%FF"));
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(nlohmann::json::parse(res.body)["parameter"], "name");
  EXPECT_EQ(answer(get("/echo?name=Zo%C3%AB")).body, "Zo\xc3\xab");
}

TEST_F(RawRequest, Utf8PathsStillRouteAndMalformedEscapesStay404) {
  EXPECT_EQ(answer(get("/subjects/caf%C3%A9")).status, 404);
  EXPECT_EQ(answer(get("/%zz")).status, 404);
  EXPECT_EQ(answer(get("/echo?name=ok")).body, "ok");
}

TEST_F(RawRequest, ChunkedBodyReachesTheHandler) {
  auto res = answer(
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "hello world");
}

TEST_F(RawRequest, TruncatedRequestIs400AndSilenceClosesWithoutAnswer) {
  EXPECT_EQ(answer("POST /echo HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc").status, 400);
  EXPECT_EQ(answer("GET / HTTP/1.1\r\nHost").status, 400);
  EXPECT_EQ(answer("").status, 0);
  EXPECT_EQ(answer("\x01\x02 / HTTP/1.1\r\n\r\n").status, 400);
}

TEST_F(RawRequest, OversizedBodyAndHeadAre413And431) {
  std::string body(2 << 20, 'x');
  EXPECT_EQ(answer("POST /echo HTTP/1.1\r\nContent-Length: " + std::to_string(body.size()) +
                   "\r\n\r\n" + body)
                .status,
            413);
  EXPECT_EQ(answer("GET / HTTP/1.1\r\nX: " + std::string(70000, 'a') + "\r\n\r\n").status, 431);
}

TEST_F(RawRequest, HandlerErrorQuotingNonUtf8TextStillAnswersItsOwnStatus) {
  // The route's json_error quotes the raw subject: it must not become a 500.
  request r;
  r.method = "GET";
  r.path = "/subjects/\xff";
  r.target = r.path;
  auto res = handler_.handle(r);
  EXPECT_EQ(res.status, 404);
  EXPECT_TRUE(nlohmann::json::accept(res.body)) << res.body;
}

TEST(AccessLog, LineEscapesMethodAndTarget) {
  EXPECT_EQ(access_log_line("GET", "/a%0Ab\r\nforged", 404, 0.00012),
            "GET /a%0Ab\\r\\nforged -> 404 (0.120 ms)");
  EXPECT_EQ(access_log_line("G\x1b[2J", "/\xff", 400, 0), "G\\x1b[2J /\\xff -> 400 (0.000 ms)");
}

TEST(AccessLog, ControlCharactersInPathCannotForgeLogLines) {
  testing::log_capture captured;
  request_handler handler{server_options{}, test_routes()};
  (void)handler.handle_raw(get("/nope%0D%0A[info]%20forged"));
  (void)handler.handle_raw(get("/boom%0A[error]%20forged"));  // the handler throws: 500, logged
  (void)handler.handle_raw(get("/boom\xff"));                 // not UTF-8: 400, logged
  auto text = captured.text();
  std::istringstream lines(text);
  int count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    EXPECT_EQ(line.find("[info] forged"), std::string::npos) << line;
    EXPECT_NE(line.rfind("[", 0), 0u) << "a line starts with request text: " << line;
    EXPECT_TRUE(std::none_of(line.begin(), line.end(), [](char c) {
      return static_cast<unsigned char>(c) < 0x20;
    })) << line;
  }
  EXPECT_EQ(count, 4) << text;  // three access lines and the handler's failure
  EXPECT_NE(text.find("/boom\\n[error] forged failed: handler failed on /boom\\n[error] forged"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("/boom\\xff -> 400"), std::string::npos) << text;
}

}  // namespace
}  // namespace sluice::web
