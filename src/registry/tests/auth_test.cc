// Unit tests for HTTP basic auth on the registry server: parsing the Authorization
// header (scheme, base64, the ':' split), the check against the configured credentials,
// and the routes as web::server serves them (no sockets): refusals are 401 with the
// challenge and a Confluent-style body that echoes nothing, counted by reason in
// /metrics; /health and /metrics stay open; the right credentials reach the API.
#include <gtest/gtest.h>

#include <openssl/evp.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "registry/auth.h"
#include "registry/http_api.h"
#include "registry/service.h"
#include "web/handling.h"

// Own namespace: the tests build as one unity file with the other registry tests.
namespace sluice::registry::auth_test {
namespace {

const basic_credentials expected{"alice", "s3cret:with-colon"};

std::string base64(const std::string& text) {
  std::string out(4 * ((text.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string basic_header(const std::string& user, const std::string& password) {
  return "Basic " + base64(user + ":" + password);
}

TEST(RegistryAuth, ValidHeaderIsParsedIntoUserAndPassword) {
  auto parsed = parse_basic_authorization(basic_header("alice", "pw"));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->user, "alice");
  EXPECT_EQ(parsed->password, "pw");
}

TEST(RegistryAuth, DecodedTextSplitsAtTheFirstColonSoPasswordsMayHoldColons) {
  auto parsed = parse_basic_authorization(basic_header("alice", "a:b:c"));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->user, "alice");
  EXPECT_EQ(parsed->password, "a:b:c");
}

TEST(RegistryAuth, SchemeIsCaseInsensitiveAndBlanksAroundAreIgnored) {
  auto token = base64("alice:pw");
  for (const auto& header : {"basic " + token, "BASIC " + token, "  Basic   " + token + "  "}) {
    auto parsed = parse_basic_authorization(header);
    ASSERT_TRUE(parsed) << header;
    EXPECT_EQ(parsed->password, "pw");
  }
}

TEST(RegistryAuth, PaddingIsNotPartOfThePassword) {
  // "alice:p" and "alice:pw" need padding ("==", "="), "alice:pwd" none.
  for (const std::string password : {"p", "pw", "pwd"}) {
    auto parsed = parse_basic_authorization(basic_header("alice", password));
    ASSERT_TRUE(parsed) << password;
    EXPECT_EQ(parsed->password, password);
  }
}

TEST(RegistryAuth, WrongSchemeIsNotParsed) {
  auto token = base64("alice:pw");
  for (const auto& header : {"Bearer " + token, "Digest " + token, "Basicc " + token, token}) {
    EXPECT_FALSE(parse_basic_authorization(header)) << header;
  }
}

TEST(RegistryAuth, MalformedBase64IsNotParsed) {
  const std::vector<std::string> bad = {
      "Basic ",
      "Basic !!!!",
      "Basic YWxpY2U6cH",  // length not a multiple of 4
      "Basic YWxp Y2U6",
      "Basic =YWxpY2U",
      "Basic YW=pY2U6cHc=",
      "Basic YWxpY2U6c===",
      "Basic YWxpY2U6\n",
      "Basic \xc3\xa9Q=",    // not ASCII
      "Basic YWxpY2U6cHc-",  // base64url alphabet
  };
  for (const auto& header : bad) EXPECT_FALSE(parse_basic_authorization(header)) << header;
}

TEST(RegistryAuth, DecodedTextWithoutColonIsNotParsed) {
  EXPECT_FALSE(parse_basic_authorization("Basic " + base64("alicepw")));
}

TEST(RegistryAuth, RightCredentialsAreAccepted) {
  basic_auth auth(expected);
  EXPECT_EQ(auth.check(basic_header(expected.user, expected.password)), auth_verdict::accepted);
}

TEST(RegistryAuth, AbsentOrEmptyHeaderIsRefusedAsMissing) {
  basic_auth auth(expected);
  EXPECT_EQ(auth.check(""), auth_verdict::missing);
  EXPECT_EQ(auth.check("   "), auth_verdict::missing);
}

TEST(RegistryAuth, WrongSchemeOrMalformedBase64OrNoColonIsRefusedAsMalformed) {
  basic_auth auth(expected);
  EXPECT_EQ(auth.check("Bearer " + base64("alice:s3cret:with-colon")), auth_verdict::malformed);
  EXPECT_EQ(auth.check("Basic not*base64"), auth_verdict::malformed);
  EXPECT_EQ(auth.check("Basic " + base64("alice")), auth_verdict::malformed);
}

TEST(RegistryAuth, WrongPasswordWrongUserOrEmptyCredentialsAreRefusedAsWrong) {
  basic_auth auth(expected);
  EXPECT_EQ(auth.check(basic_header("alice", "s3cret")), auth_verdict::wrong);  // a prefix
  EXPECT_EQ(auth.check(basic_header("alice", "s3cret:with-colon!")), auth_verdict::wrong);
  EXPECT_EQ(auth.check(basic_header("bob", expected.password)), auth_verdict::wrong);
  EXPECT_EQ(auth.check(basic_header("Alice", expected.password)), auth_verdict::wrong);
  EXPECT_EQ(auth.check(basic_header("", "")), auth_verdict::wrong);
  EXPECT_EQ(auth.check(basic_header("alice", "")), auth_verdict::wrong);
}

// ---- the routes as the server serves them ----------------------------------------------

class memory_log : public log_writer {
 public:
  result<void> append(const log_record&) override { return ok(); }
};

web::request make_request(const std::string& method, const std::string& target,
                          const std::string& authorization = "", const std::string& body = "") {
  web::request r;
  r.method = method;
  r.target = target;
  r.path = target.substr(0, target.find('?'));
  r.body = body;
  if (!authorization.empty()) r.headers.emplace_back("Authorization", authorization);
  return r;
}

std::string header_of(const web::response& res, const std::string& name) {
  for (const auto& [k, v] : res.headers) {
    if (k == name) return v;
  }
  return "";
}

class RegistryAuthRoutes : public ::testing::Test {
 protected:
  explicit RegistryAuthRoutes(bool with_auth = true) : handler_(web::server_options{}, {}) {
    std::optional<basic_auth> auth;
    if (with_auth) auth.emplace(expected);
    add_api_routes(handler_.routes(), api_, handler_.metrics(), std::move(auth));
  }
  web::response get(const std::string& target, const std::string& authorization = "") {
    return handler_.handle(make_request("GET", target, authorization));
  }
  web::response register_schema(const std::string& authorization) {
    std::string body = nlohmann::json{{"schema", R"("string")"}}.dump();
    return handler_.handle(make_request("POST", "/subjects/s-value/versions", authorization, body));
  }
  std::string metrics() { return get("/metrics").body; }

  memory_log log_;
  service api_{log_};
  web::request_handler handler_;
};

class RegistryOpenRoutes : public RegistryAuthRoutes {
 protected:
  RegistryOpenRoutes() : RegistryAuthRoutes(false) {}
};

TEST_F(RegistryAuthRoutes, WrongPasswordIsRefusedWith401) {
  auto res = register_schema(basic_header("alice", "guess"));
  EXPECT_EQ(res.status, 401);
  EXPECT_EQ(get("/subjects", basic_header("alice", "guess")).status, 401);
  EXPECT_EQ(api_.stats().subjects, 0u);
}

TEST_F(RegistryAuthRoutes, WrongUserIsRefusedWith401) {
  EXPECT_EQ(register_schema(basic_header("mallory", expected.password)).status, 401);
}

TEST_F(RegistryAuthRoutes, MissingCredentialsAreRefusedWith401AndChallenge) {
  auto res = get("/subjects");
  EXPECT_EQ(res.status, 401);
  EXPECT_EQ(header_of(res, "WWW-Authenticate"), R"(Basic realm="sluice registry")");
  EXPECT_EQ(res.content_type, registry_content_type);
  auto body = nlohmann::json::parse(res.body);
  EXPECT_EQ(body["error_code"], 401);
  EXPECT_NE(body["message"].get<std::string>().find("missing"), std::string::npos) << res.body;
}

TEST_F(RegistryAuthRoutes, RefusalBodyNeverEchoesWhatWasSent) {
  auto sent = basic_header("mallory", "hunter2");
  for (const auto& header : {sent, std::string("Basic %%%%"), std::string("Bearer hunter2")}) {
    auto res = get("/subjects", header);
    EXPECT_EQ(res.status, 401);
    EXPECT_EQ(header_of(res, "WWW-Authenticate"), R"(Basic realm="sluice registry")");
    EXPECT_EQ(res.body.find("mallory"), std::string::npos) << res.body;
    EXPECT_EQ(res.body.find("hunter2"), std::string::npos) << res.body;
    EXPECT_EQ(res.body.find("%%%%"), std::string::npos) << res.body;
  }
}

TEST_F(RegistryAuthRoutes, RightCredentialsRegisterAndReadBackASchema) {
  auto right = basic_header(expected.user, expected.password);
  auto res = register_schema(right);
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(nlohmann::json::parse(res.body)["id"], 1);
  auto latest = get("/subjects/s-value/versions/latest", right);
  EXPECT_EQ(latest.status, 200) << latest.body;
  EXPECT_TRUE(header_of(latest, "WWW-Authenticate").empty());
}

TEST_F(RegistryAuthRoutes, HealthAndMetricsStayOpenWithoutCredentials) {
  auto health = get("/health");
  EXPECT_EQ(health.status, 200) << health.body;
  EXPECT_NE(health.body.find(R"("status":"ok")"), std::string::npos) << health.body;
  EXPECT_EQ(get("/metrics").status, 200);
  EXPECT_EQ(get("/health", basic_header("mallory", "wrong")).status, 200);
}

TEST_F(RegistryAuthRoutes, RefusalsAreCountedByReasonWithoutCredentialsInMetrics) {
  EXPECT_NE(metrics().find(R"(sluice_registry_auth_refused_total{reason="wrong"} 0)"),
            std::string::npos)
      << metrics();
  get("/subjects");
  get("/subjects", "Basic ???");
  get("/subjects", basic_header("mallory", "hunter2"));
  get("/subjects", basic_header("mallory", "hunter2"));
  get("/subjects", basic_header(expected.user, expected.password));
  auto text = metrics();
  EXPECT_NE(text.find(R"(sluice_registry_auth_refused_total{reason="missing"} 1)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(sluice_registry_auth_refused_total{reason="malformed"} 1)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(sluice_registry_auth_refused_total{reason="wrong"} 2)"), std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(sluice_registry_requests_total{method="GET",status="401"} 4)"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("mallory"), std::string::npos);
  EXPECT_EQ(text.find("hunter2"), std::string::npos);
  EXPECT_EQ(text.find(expected.password), std::string::npos);
}

TEST_F(RegistryOpenRoutes, WithoutAuthRequestsWithoutCredentialsReachTheApi) {
  EXPECT_EQ(register_schema("").status, 200);
  EXPECT_EQ(get("/subjects").status, 200);
  EXPECT_EQ(metrics().find("sluice_registry_auth_refused_total"), std::string::npos);
}

}  // namespace
}  // namespace sluice::registry::auth_test
