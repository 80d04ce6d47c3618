// Hexadecimal text: bytes as lowercase hex (digests, ids, binary values shown to people)
// and the value of one hex digit (percent-decoding).
#pragma once

#include <string>
#include <string_view>

namespace sluice {

/// Each byte as two lowercase hex digits ("\x1b\xff" -> "1bff").
std::string lower_hex(std::string_view bytes);

/// The value of a hex digit (either case), or -1 when `c` is none.
int hex_digit_value(char c);

}  // namespace sluice
