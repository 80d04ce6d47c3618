// LZ4 frame bodies through liblz4.
#include "cql/compression.h"

#include <lz4.h>

#include <cstdint>

#include "cql/protocol.h"

namespace sluice::cql {
namespace {
constexpr std::uint64_t lz4_max_ratio = 255;
}  // namespace

std::string lz4_compress_body(std::string_view body) {
  const auto size = static_cast<int>(body.size());
  std::string out(4 + static_cast<std::size_t>(LZ4_compressBound(size)), '\0');
  auto length = static_cast<std::uint32_t>(body.size());
  for (int i = 0; i < 4; ++i)
    out[static_cast<std::size_t>(i)] = static_cast<char>(length >> (24 - 8 * i));
  int written = LZ4_compress_default(body.data(), out.data() + 4, size, LZ4_compressBound(size));
  out.resize(4 + static_cast<std::size_t>(written > 0 ? written : 0));
  return out;
}

result<std::string> lz4_decompress_body(std::string_view body) {
  if (body.size() < 4)
    return make_error(errc::protocol, "LZ4 frame body of {} bytes has no length prefix",
                      body.size());
  std::uint32_t length = 0;
  for (int i = 0; i < 4; ++i)
    length = (length << 8) | static_cast<std::uint8_t>(body[static_cast<std::size_t>(i)]);
  if (length > max_body_size)
    return make_error(errc::protocol, "LZ4 frame claims {} uncompressed bytes (limit {})", length,
                      max_body_size);
  // An LZ4 block expands at most ~255 times (a match length grows by 255 per extension
  // byte): a larger claim is a lie, refused before allocating it.
  const std::uint64_t compressed = body.size() - 4;
  const std::uint64_t most = compressed * lz4_max_ratio + 16;
  if (length > most)
    return make_error(errc::protocol,
                      "LZ4 frame claims {} uncompressed bytes from {} compressed (at most {})",
                      length, compressed, most);
  std::string out(length, '\0');
  if (length == 0) return out;
  int got = LZ4_decompress_safe(body.data() + 4, out.data(), static_cast<int>(body.size() - 4),
                                static_cast<int>(length));
  if (got != static_cast<int>(length))
    return make_error(errc::protocol, "corrupt LZ4 frame body ({} of {} bytes decoded)", got,
                      length);
  return out;
}

}  // namespace sluice::cql
