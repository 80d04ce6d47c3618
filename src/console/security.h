// The console's request guard: a Host header must name the bound address (DNS
// rebinding), a console bound beyond loopback demands the access token (Bearer header
// or the cookie set by POST /login), and every state-changing POST needs the CSRF token
// of its session cookie and a same-origin Origin. Sessions are stateless: the CSRF
// token is an HMAC of the session id under a key generated at start, so nothing secret
// is ever sent to the page except that session's own CSRF token.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "web/server.h"

namespace sluice::console {

struct security_options {
  std::string bind_host = "127.0.0.1";
  int port = 0;
  std::string access_token;  // empty: none required (loopback only)
};

/// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback(const std::string& host);

class request_guard {
 public:
  /// Throws fatal_error when a non-loopback bind has no access token.
  explicit request_guard(security_options options);

  /// The port is known only once the server bound (port 0 picks one).
  void set_port(int port) { options_.port = port; }

  /// A 4xx answer when the request must be refused, nothing when it may proceed.
  std::optional<web::response> check(const web::request& r, bool changes_state) const;

  /// GET /api/v1/session: the CSRF token for the caller's session, setting a session
  /// cookie when it has none.
  web::response session(const web::request& r) const;

  /// POST /login (form field `token`): sets the authentication cookie and redirects to /.
  web::response login(const web::request& r) const;

  bool token_required() const { return !options_.access_token.empty(); }

 private:
  std::string hmac_hex(const std::string& message) const;
  std::string cookie(const web::request& r, const std::string& name) const;
  bool host_allowed(const std::string& host_header) const;
  bool authenticated(const web::request& r) const;

  security_options options_;
  std::string key_;  // random, per process
};

/// Constant-time equality of two strings.
bool same_secret(const std::string& a, const std::string& b);

}  // namespace sluice::console
