// Credentials in URLs (see url.h). Only the authority's user information is handled
// here, so a full URL parser (and its dependency) is not needed.
#include "base/url.h"
#include "base/hex.h"

#include <cctype>

#include <fmt/format.h>

namespace sluice {
namespace {

/// Where the user information of `url` ends (the '@' before the host), or npos.
/// The authority runs from after "://" to the first '/', '?' or '#'.
std::size_t userinfo_end(std::string_view url, std::size_t& authority_start) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string_view::npos;
  authority_start = scheme_end + 3;
  auto authority_end = url.find_first_of("/?#", authority_start);
  if (authority_end == std::string_view::npos) authority_end = url.size();
  auto at = url.substr(0, authority_end).rfind('@');
  if (at == std::string_view::npos || at < authority_start) return std::string_view::npos;
  return at;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_digit_value(text[i + 1]) >= 0 &&
        hex_digit_value(text[i + 2]) >= 0) {
      out.push_back(
          static_cast<char>(hex_digit_value(text[i + 1]) * 16 + hex_digit_value(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::string percent_encode(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

}  // namespace

url_credentials split_url_credentials(std::string_view url) {
  std::size_t start = 0;
  auto at = userinfo_end(url, start);
  if (at == std::string_view::npos) return {std::string(url), ""};
  std::string rest(url.substr(0, start));
  rest += url.substr(at + 1);
  return {rest, percent_decode(url.substr(start, at - start))};
}

std::string redact_url(std::string_view url) {
  std::size_t start = 0;
  auto at = userinfo_end(url, start);
  if (at == std::string_view::npos) return std::string(url);
  return fmt::format("{}***{}", url.substr(0, start), url.substr(at));
}

std::string redact_urls_in(std::string_view text) {
  std::string out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto scheme = text.find("://", pos);
    if (scheme == std::string_view::npos) break;
    auto word_start = scheme;  // back to the start of the scheme
    while (word_start > pos && (std::isalnum(static_cast<unsigned char>(text[word_start - 1])) ||
                                text[word_start - 1] == '+' || text[word_start - 1] == '.' ||
                                text[word_start - 1] == '-')) {
      --word_start;
    }
    auto word_end = text.find_first_of(" \t\r\n\"'<>", scheme);
    if (word_end == std::string_view::npos) word_end = text.size();
    out += text.substr(pos, word_start - pos);
    out += redact_url(text.substr(word_start, word_end - word_start));
    pos = word_end;
  }
  out += text.substr(pos);
  return out;
}

std::string url_with_credentials(std::string_view url, std::string_view user,
                                 std::string_view password) {
  auto plain = split_url_credentials(url).url;
  auto scheme_end = plain.find("://");
  if (scheme_end == std::string::npos) return plain;
  return fmt::format("{}{}:{}@{}", plain.substr(0, scheme_end + 3), percent_encode(user),
                     percent_encode(password), plain.substr(scheme_end + 3));
}

}  // namespace sluice
