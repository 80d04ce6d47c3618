// Hexadecimal text (see hex.h).
#include "base/hex.h"

namespace sluice {

std::string lower_hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex(2 * bytes.size(), '0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    auto b = static_cast<unsigned char>(bytes[i]);
    hex[2 * i] = digits[b >> 4];
    hex[2 * i + 1] = digits[b & 0x0f];
  }
  return hex;
}

int hex_digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace sluice
