// UTF-8 validation, log escaping and method labels for untrusted request text.
#include "web/http_text.h"

#include <algorithm>
#include <array>
#include <iterator>

#include <fmt/format.h>

namespace sluice::web {
namespace {

/// The length of the well-formed UTF-8 sequence at text[i] (its code point in `cp`), or
/// 0 when the bytes there are not one.
std::size_t utf8_sequence(std::string_view text, std::size_t i, char32_t& cp) {
  auto byte = [&text](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) {
    cp = lead;
    return 1;
  }
  const std::size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0;
  if (length == 0 || lead > 0xF4 || i + length > text.size()) return 0;
  cp = lead & (0x7Fu >> length);
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3Fu);
  }
  static constexpr std::array<char32_t, 5> shortest = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < shortest[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return length;
}

/// Characters that end, hide or reorder what a log viewer shows.
bool unsafe_in_log(char32_t cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0) || cp == 0x2028 || cp == 0x2029 ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

/// `\xNN` for one byte (hand-written: logging escapes every byte of a hostile target).
void append_hex_byte(std::string& out, unsigned char byte) {
  static constexpr std::string_view digits = "0123456789abcdef";
  out += "\\x";
  out += digits[byte >> 4];
  out += digits[byte & 0xF];
}

void append_escaped(std::string& out, char32_t cp) {
  switch (cp) {
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    default:
      break;
  }
  if (cp < 0x80) {
    append_hex_byte(out, static_cast<unsigned char>(cp));
  } else {
    fmt::format_to(std::back_inserter(out), "\\u{{{:04x}}}", static_cast<unsigned>(cp));
  }
}

}  // namespace

bool valid_utf8(std::string_view text) {
  char32_t cp = 0;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = utf8_sequence(text, i, cp);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

std::string escape_for_log(std::string_view text, std::size_t max_bytes) {
  std::string out;
  out.reserve(std::min(text.size(), max_bytes) + 8);
  std::size_t i = 0;
  char32_t cp = 0;
  while (i < text.size() && i < max_bytes) {
    const std::size_t length = utf8_sequence(text, i, cp);
    if (length == 0) {  // not UTF-8: show the byte
      append_hex_byte(out, static_cast<unsigned char>(text[i]));
      ++i;
      continue;
    }
    if (unsafe_in_log(cp)) {
      append_escaped(out, cp);
    } else if (cp == '\\') {
      out += "\\\\";
    } else {
      out.append(text.substr(i, length));
    }
    i += length;
  }
  if (i < text.size()) fmt::format_to(std::back_inserter(out), "...({} bytes)", text.size());
  return out;
}

std::string_view method_label(std::string_view method) {
  static constexpr std::array<std::string_view, 9> known = {
      "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"};
  const auto* found = std::find(known.begin(), known.end(), method);
  return found == known.end() ? std::string_view("other") : *found;
}

}  // namespace sluice::web
