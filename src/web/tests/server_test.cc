// Tests of the shared HTTP server over real loopback sockets (port 0, libcurl client).
#include <gtest/gtest.h>

#include <curl/curl.h>

#include <nlohmann/json.hpp>

#include "web/server.h"
#include "web/tests/raw_client.h"

namespace sluice::web {
namespace {

struct reply {
  long status = 0;
  std::string body;
};

size_t collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

reply fetch(const std::string& url, const std::string* post = nullptr) {
  reply r;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
  if (post) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, post->data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(post->size()));
  }
  if (curl_easy_perform(curl) == CURLE_OK)
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  curl_easy_cleanup(curl);
  return r;
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router routes;
    routes.add("GET", "/echo", [](const request& r) {
      const auto* name = r.param("name");
      return response{200, "text/plain", name ? *name : "(none)", {}};
    });
    routes.add("POST", "/echo", [](const request& r) {
      return response{200, "text/plain", r.body, {}};
    });
    routes.add_prefix("GET", "/api/", [](const request& r) {
      return response{200, "text/plain", "api:" + r.path, {}};
    });
    server_options options;
    options.max_body_bytes = 1024;
    server_ = std::make_unique<server>(options, std::move(routes));
    server_->start();
    base_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }
  std::unique_ptr<server> server_;
  std::string base_;
};

TEST_F(ServerTest, QueryParametersArrivePercentDecoded) {
  auto r = fetch(base_ + "/echo?name=Zo%C3%AB+M%C3%BCller&x=1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "Zoë Müller");
}

TEST_F(ServerTest, PrefixRouteServesSubPaths) {
  auto r = fetch(base_ + "/api/1.4/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "api:/api/1.4/");
}

TEST_F(ServerTest, UnknownPathIs404AndWrongMethodIs405WithJsonErrors) {
  auto missing = fetch(base_ + "/nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("\"error\""), std::string::npos);
  std::string body = "x";
  EXPECT_EQ(fetch(base_ + "/api/", &body).status, 405);
}

TEST_F(ServerTest, OversizedBodyIs413AndServerKeepsServing) {
  std::string big(4096, 'x');
  EXPECT_EQ(fetch(base_ + "/echo", &big).status, 413);
  EXPECT_EQ(fetch(base_ + "/echo?name=ok").body, "ok");
}

TEST_F(ServerTest, HugeQueryStringIsRejectedWith4xxAndServerKeepsServing) {
  EXPECT_EQ(fetch(base_ + "/echo?name=" + std::string(20000, 'a')).status, 414);
  EXPECT_EQ(fetch(base_ + "/echo?name=" + std::string(200000, 'a')).status, 431);
  EXPECT_EQ(fetch(base_ + "/echo?name=ok").body, "ok");
}

TEST_F(ServerTest, NonUtf8PathIs400WithJsonErrorNotA500) {
  for (const char* path : {"/%FF", "/nope%C3", "/api/%ED%A0%80"}) {
    auto r = fetch(base_ + path);
    EXPECT_EQ(r.status, 400) << path << ": " << r.body;
    EXPECT_NE(nlohmann::json::parse(r.body)["error"].get<std::string>().find("UTF-8"),
              std::string::npos);
  }
  auto raw = testing::exchange(server_->port(),
                               "GET /nope\xff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(raw.rfind("HTTP/1.1 400", 0), 0u) << raw;
  EXPECT_EQ(fetch(base_ + "/echo?name=ok").body, "ok");
}

TEST_F(ServerTest, HealthAndMetricsAreBuiltIn) {
  auto health = fetch(base_ + "/health");
  EXPECT_EQ(health.status, 200);
  EXPECT_NE(health.body.find("\"status\":\"ok\""), std::string::npos);
  fetch(base_ + "/echo");
  auto metrics = fetch(base_ + "/metrics");
  EXPECT_NE(metrics.body.find("http_requests_total{status=\"200\"}"), std::string::npos)
      << metrics.body;
}

TEST(ServerBind, PortInUseIsAClearErrorNamingThePort) {
  server first({}, router{});
  server_options options;
  options.port = first.port();
  try {
    server second(options, router{});
    FAIL() << "expected the second bind to fail";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find(std::to_string(first.port())), std::string::npos);
  }
}

TEST(QueryParsing, MalformedEscapesAreKeptAndEmptyPartsSkipped) {
  auto q = parse_query("a=%zz&&b=%41&c");
  ASSERT_EQ(q.size(), 3u);
  EXPECT_EQ(q[0].second, "%zz");
  EXPECT_EQ(q[1].second, "A");
  EXPECT_EQ(q[2].first, "c");
  EXPECT_EQ(q[2].second, "");
}

}  // namespace
}  // namespace sluice::web
