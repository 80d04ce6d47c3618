// HTTP basic authentication for `sluice registry` (RFC 7617), without sockets: parses an
// `Authorization: Basic base64(user:password)` header, checks it against the configured
// user and password, and builds the 401 answer (Confluent-style JSON body; the HTTP layer
// adds the WWW-Authenticate challenge). http_api.h applies it to every API request;
// /health and /metrics are answered before it and stay open.
//
// The check hashes the given and the expected user and password with SHA-256 and compares
// the digests with OpenSSL's CRYPTO_memcmp: the compared inputs always have the same
// length and the comparison does not stop at the first difference, so the time taken
// reveals neither the expected values nor their lengths. The user and the password are
// both always compared, so a wrong user takes as long as a wrong password.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "registry/service.h"

namespace sluice::registry {

struct basic_credentials {
  std::string user;
  std::string password;
};

/// Why a request was let through or refused; the reasons are the (bounded) label values
/// of the refusal counter.
enum class auth_verdict { accepted, missing, malformed, wrong };

/// "accepted", "missing", "malformed" or "wrong".
std::string_view verdict_name(auth_verdict verdict);

/// The realm of the WWW-Authenticate challenge sent with every 401.
inline constexpr const char* auth_challenge = R"(Basic realm="sluice registry")";

/// The user and password of an Authorization header value `Basic <base64>`: the scheme
/// is case-insensitive, the decoded text splits at its first ':' (a password may hold
/// ':'). Nothing for another scheme, base64 that is malformed or not padded, or decoded
/// text without ':'.
std::optional<basic_credentials> parse_basic_authorization(std::string_view header);

class basic_auth {
 public:
  /// Keeps only SHA-256 digests of the expected user and password.
  explicit basic_auth(const basic_credentials& expected);

  /// `accepted` when `authorization` (the header value; empty when absent) carries the
  /// expected user and password; otherwise why not.
  auth_verdict check(std::string_view authorization) const;

 private:
  using digest = std::array<unsigned char, 32>;
  digest user_;
  digest password_;
};

/// The 401 answer for a refused request: {"error_code":401,"message":...}, the message
/// saying whether credentials were missing, malformed or wrong, never echoing them.
api_response unauthorized(auth_verdict verdict);

}  // namespace sluice::registry
