// The console's request guard: Host (DNS rebinding), the access token beyond loopback,
// CSRF tokens bound to the session cookie, and foreign Origins.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "console/security.h"

namespace sluice::console {
namespace {

web::request get(std::string host, std::vector<std::pair<std::string, std::string>> headers = {}) {
  web::request r;
  r.method = "GET";
  r.path = "/api/v1/topics";
  r.headers = std::move(headers);
  r.headers.emplace_back("Host", std::move(host));
  return r;
}

std::string session_cookie(const web::response& session) {
  for (const auto& [k, v] : session.headers) {
    if (k == "Set-Cookie") return v.substr(0, v.find(';'));
  }
  return "";
}

TEST(RequestGuard, AForeignHostIsRefusedEvenOnLoopback) {
  request_guard guard({"127.0.0.1", 9000, ""});
  EXPECT_FALSE(guard.check(get("127.0.0.1:9000"), false).has_value());
  EXPECT_FALSE(guard.check(get("localhost:9000"), false).has_value());
  auto refused = guard.check(get("evil.example:9000"), false);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 403);
}

TEST(RequestGuard, BindingBeyondLoopbackWithoutATokenIsAConfigurationError) {
  EXPECT_THROW(request_guard({"0.0.0.0", 9000, ""}), fatal_error);
}

TEST(RequestGuard, BeyondLoopbackEveryRequestNeedsTheToken) {
  request_guard guard({"10.0.0.5", 9000, "a-long-enough-token"});
  EXPECT_EQ(guard.check(get("10.0.0.5:9000"), false)->status, 401);
  EXPECT_EQ(guard.check(get("10.0.0.5:9000", {{"Authorization", "Bearer wrong"}}), false)->status,
            401);
  EXPECT_FALSE(
      guard.check(get("10.0.0.5:9000", {{"Authorization", "Bearer a-long-enough-token"}}), false));
}

TEST(RequestGuard, LoginSetsACookieThatIsNotTheTokenAndThatAuthenticates) {
  request_guard guard({"10.0.0.5", 9000, "a-long-enough-token"});
  web::request login = get("10.0.0.5:9000");
  login.method = "POST";
  login.body = "token=a-long-enough-token";
  auto answer = guard.login(login);
  ASSERT_EQ(answer.status, 303);
  auto cookie = session_cookie(answer);
  EXPECT_EQ(cookie.find("a-long-enough-token"), std::string::npos);
  EXPECT_FALSE(guard.check(get("10.0.0.5:9000", {{"Cookie", cookie}}), false));
  login.body = "token=nope";
  EXPECT_EQ(guard.login(login).status, 401);
}

TEST(RequestGuard, APostNeedsTheCsrfTokenOfItsOwnSession) {
  request_guard guard({"127.0.0.1", 9000, ""});
  auto session = guard.session(get("127.0.0.1:9000"));
  auto cookie = session_cookie(session);
  auto csrf = nlohmann::json::parse(session.body)["csrf_token"].get<std::string>();
  auto post = get("127.0.0.1:9000", {{"Cookie", cookie}});
  post.method = "POST";
  EXPECT_EQ(guard.check(post, true)->status, 403);  // no token
  post.headers.emplace_back("X-CSRF-Token", csrf);
  EXPECT_FALSE(guard.check(post, true).has_value());
  auto other = get("127.0.0.1:9000", {{"Cookie", "sluice_session=00000000000000000000000000000000"},
                                      {"X-CSRF-Token", csrf}});
  EXPECT_EQ(guard.check(other, true)->status, 403);  // the token of another session
  post.headers.emplace_back("Origin", "http://evil.example");
  EXPECT_EQ(guard.check(post, true)->status, 403);
}

TEST(RequestGuard, ASecondGuardDoesNotAcceptTheFirstOnesTokens) {
  request_guard first({"127.0.0.1", 9000, ""});
  request_guard second({"127.0.0.1", 9000, ""});
  auto session = first.session(get("127.0.0.1:9000"));
  auto post =
      get("127.0.0.1:9000", {{"Cookie", session_cookie(session)},
                             {"X-CSRF-Token", nlohmann::json::parse(session.body)["csrf_token"]}});
  EXPECT_EQ(second.check(post, true)->status, 403);
}

}  // namespace
}  // namespace sluice::console
