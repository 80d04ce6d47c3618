// Credentials in URLs: "http://user:secret@host:8081" works with curl and the registry
// clients, and is also what ends up in error messages, logs, dead-letter reasons and
// /metrics if a URL is printed as given. These helpers take the user information out of
// a URL (for HTTP basic auth) and print URLs without it.
#pragma once

#include <string>
#include <string_view>

namespace sluice {

/// A URL split into the URL without user information and that information.
struct url_credentials {
  std::string url;       ///< the URL with "user:password@" removed
  std::string userinfo;  ///< "user:password" percent-decoded, empty when there was none
};

/// Splits "scheme://user:password@host..." into the URL without "user:password@" and the
/// percent-decoded "user:password". A URL without user information comes back unchanged.
url_credentials split_url_credentials(std::string_view url);

/// The URL as it may be printed: user information replaced with "***" (so a reader sees
/// that credentials were given, never which).
std::string redact_url(std::string_view url);

/// Every URL inside `text` redacted (for messages that quote a URL among other words).
std::string redact_urls_in(std::string_view text);

/// The URL with "user:password@" put in, both percent-encoded.
std::string url_with_credentials(std::string_view url, std::string_view user,
                                 std::string_view password);

}  // namespace sluice
