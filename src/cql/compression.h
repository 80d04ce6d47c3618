// Frame body compression for the CQL native protocol v4 (spec section 5): with LZ4 a body
// is a 4-byte big-endian uncompressed length followed by one LZ4 block (liblz4).
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace sluice::cql {

std::string lz4_compress_body(std::string_view body);
/// Errors on a short prefix, an absurd length or a corrupt block; never over-reads.
result<std::string> lz4_decompress_body(std::string_view body);

}  // namespace sluice::cql
