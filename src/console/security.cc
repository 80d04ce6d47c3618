// The console's request guard (see security.h), on OpenSSL's RAND_bytes and HMAC.
#include "console/security.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <fmt/format.h>

#include "base/error.h"
#include "console/message_view.h"

namespace sluice::console {
namespace {

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    throw fatal_error(
        make_error(errc::internal, "the console could not draw random bytes (OpenSSL RAND_bytes)"));
  }
  return out;
}

web::response refuse(int status, std::string_view message) {
  return web::json_error(status, message, status == 401 ? "token" : "request");
}

}  // namespace

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.starts_with("127.");
}

bool same_secret(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

request_guard::request_guard(security_options options)
    : options_(std::move(options)), key_(random_bytes(32)) {
  if (!is_loopback(options_.bind_host) && options_.access_token.empty()) {
    throw fatal_error(make_error(errc::invalid_argument,
                                 "the console binds {} (beyond loopback) and so needs an access "
                                 "token: --token-file FILE or the environment variable "
                                 "SLUICE_UI_TOKEN",
                                 options_.bind_host));
  }
}

std::string request_guard::hmac_hex(const std::string& message) const {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length);
  return to_hex(std::string_view(reinterpret_cast<const char*>(digest), length));
}

std::string request_guard::cookie(const web::request& r, const std::string& name) const {
  auto header = r.header("cookie");
  std::string_view rest = header;
  while (!rest.empty()) {
    auto semi = rest.find(';');
    auto part = rest.substr(0, semi);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.starts_with(name) && part.size() > name.size() && part[name.size()] == '=') {
      return std::string(part.substr(name.size() + 1));
    }
    rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
  }
  return "";
}

bool request_guard::host_allowed(const std::string& host_header) const {
  auto port = std::to_string(options_.port);
  const auto& bound = options_.bind_host;
  if (bound == "0.0.0.0" || bound == "::") return true;  // any name: the token guards it
  std::vector<std::string> allowed = {bound + ":" + port};
  if (bound.find(':') != std::string::npos) allowed.push_back("[" + bound + "]:" + port);
  if (is_loopback(bound)) {
    for (const char* name : {"127.0.0.1", "localhost", "[::1]"})
      allowed.push_back(std::string(name) + ":" + port);
  }
  for (const auto& a : allowed) {
    if (host_header == a) return true;
  }
  return false;
}

bool request_guard::authenticated(const web::request& r) const {
  if (options_.access_token.empty()) return true;
  auto authorization = r.header("authorization");
  if (authorization.starts_with("Bearer ") &&
      same_secret(authorization.substr(7), options_.access_token)) {
    return true;
  }
  return same_secret(cookie(r, "sluice_auth"), hmac_hex("authenticated"));
}

std::optional<web::response> request_guard::check(const web::request& r, bool changes_state) const {
  auto host = r.header("host");
  if (!host_allowed(host)) {
    return refuse(403, fmt::format("Host header '{}' is not the console's address", host));
  }
  if (!authenticated(r)) {
    return refuse(
        401, "an access token is required: Authorization: Bearer <token>, or log in at /login");
  }
  if (!changes_state) return std::nullopt;
  auto origin = r.header("origin");
  if (!origin.empty() && !host_allowed(origin.starts_with("http://") ? origin.substr(7) : origin)) {
    return refuse(403, fmt::format("Origin '{}' is not the console's own", origin));
  }
  auto session = cookie(r, "sluice_session");
  auto token = r.header("x-csrf-token");
  if (session.empty() || token.empty() || !same_secret(token, hmac_hex("csrf:" + session))) {
    return refuse(
        403, "missing or wrong X-CSRF-Token: GET /api/v1/session first and send its csrf_token");
  }
  return std::nullopt;
}

web::response request_guard::session(const web::request& r) const {
  web::response out;
  auto session = cookie(r, "sluice_session");
  if (session.size() != 32) {
    session = to_hex(random_bytes(16));
    out.headers.emplace_back("Set-Cookie",
                             "sluice_session=" + session + "; Path=/; HttpOnly; SameSite=Strict");
  }
  out.body = nlohmann::json{{"csrf_token", hmac_hex("csrf:" + session)},
                            {"version", "0.1.0"},
                            {"token_required", token_required()}}
                 .dump();
  return out;
}

web::response request_guard::login(const web::request& r) const {
  std::string token;
  for (const auto& [k, v] : web::parse_query(r.body)) {
    if (k == "token") token = v;
  }
  if (options_.access_token.empty() || !same_secret(token, options_.access_token)) {
    return refuse(401, "wrong access token");
  }
  web::response out;
  out.status = 303;
  out.headers.emplace_back("Location", "/");
  out.headers.emplace_back("Set-Cookie", "sluice_auth=" + hmac_hex("authenticated") +
                                             "; Path=/; HttpOnly; SameSite=Strict");
  return out;
}

}  // namespace sluice::console
