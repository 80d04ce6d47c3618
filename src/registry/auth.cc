// HTTP basic authentication for the registry server on OpenSSL: EVP_DecodeBlock for
// base64, SHA-256 digests compared with CRYPTO_memcmp (see auth.h for why).
#include "registry/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include "base/error.h"

namespace sluice::registry {
namespace {

// Far above any real user:password; a longer header is refused without decoding it.
constexpr std::size_t max_credentials_bytes = 4096;

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool is_basic_scheme(std::string_view scheme) {
  constexpr std::string_view basic = "basic";
  if (scheme.size() != basic.size()) return false;
  for (std::size_t i = 0; i < basic.size(); ++i) {
    char c = scheme[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != basic[i]) return false;
  }
  return true;
}

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// Strict padded base64 (RFC 4648 section 4): EVP_DecodeBlock alone would skip blanks and
// keep the bytes that padding stands for, so the alphabet and padding are checked first.
std::optional<std::string> decode_base64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0 || text.size() > max_credentials_bytes) return {};
  std::size_t padding = 0;
  while (padding < 2 && text[text.size() - 1 - padding] == '=') ++padding;
  for (std::size_t i = 0; i < text.size() - padding; ++i) {
    if (!is_base64_char(text[i])) return {};
  }
  std::string out(text.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0 || static_cast<std::size_t>(n) != out.size()) return {};
  out.resize(out.size() - padding);
  return out;
}

std::array<unsigned char, 32> sha256(std::string_view text) {
  std::array<unsigned char, 32> out{};
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), out.data(), &length, EVP_sha256(), nullptr) != 1 ||
      length != out.size()) {
    throw fatal_error(make_error(errc::internal, "registry basic auth: OpenSSL SHA-256 failed"));
  }
  return out;
}

}  // namespace

std::string_view verdict_name(auth_verdict verdict) {
  switch (verdict) {
    case auth_verdict::accepted:
      return "accepted";
    case auth_verdict::missing:
      return "missing";
    case auth_verdict::malformed:
      return "malformed";
    case auth_verdict::wrong:
      return "wrong";
  }
  return "unknown";
}

std::optional<basic_credentials> parse_basic_authorization(std::string_view header) {
  header = trim(header);
  auto space = header.find_first_of(" \t");
  if (space == std::string_view::npos || !is_basic_scheme(header.substr(0, space))) return {};
  auto decoded = decode_base64(trim(header.substr(space + 1)));
  if (!decoded) return {};
  auto colon = decoded->find(':');
  if (colon == std::string::npos) return {};
  return basic_credentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

basic_auth::basic_auth(const basic_credentials& expected)
    : user_(sha256(expected.user)), password_(sha256(expected.password)) {}

auth_verdict basic_auth::check(std::string_view authorization) const {
  if (trim(authorization).empty()) return auth_verdict::missing;
  auto given = parse_basic_authorization(authorization);
  if (!given) return auth_verdict::malformed;
  // Both compared every time (no short circuit), each over digests of equal length.
  const bool user_ok = CRYPTO_memcmp(sha256(given->user).data(), user_.data(), user_.size()) == 0;
  const bool password_ok =
      CRYPTO_memcmp(sha256(given->password).data(), password_.data(), password_.size()) == 0;
  return user_ok && password_ok ? auth_verdict::accepted : auth_verdict::wrong;
}

api_response unauthorized(auth_verdict verdict) {
  std::string message;
  switch (verdict) {
    case auth_verdict::missing:
      message = "Unauthorized: credentials are missing; this registry needs HTTP basic auth";
      break;
    case auth_verdict::malformed:
      message = "Unauthorized: the Authorization header is not valid HTTP basic auth";
      break;
    default:
      message = "Unauthorized: wrong user or password";
      break;
  }
  nlohmann::ordered_json body{{"error_code", 401}, {"message", message}};
  return {401, body.dump()};
}

}  // namespace sluice::registry
