// Big-endian integers of a given width, for the cell codecs (values.cc, types.cc).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::cql::detail {

/// The low `bytes` bytes of `v`, most significant first.
inline std::string be(std::uint64_t v, int bytes) {
  std::string out;
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  return out;
}

/// A big-endian unsigned integer of up to 8 bytes.
inline std::uint64_t read_be(std::string_view cell) {
  std::uint64_t v = 0;
  for (unsigned char c : cell) v = (v << 8) | c;
  return v;
}

}  // namespace sluice::cql::detail
