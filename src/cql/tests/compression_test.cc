// LZ4 frame bodies: round trip, and corrupt or lying input is an error, never a crash.
#include <gtest/gtest.h>

#include "cql/compression.h"

namespace sluice::cql {
namespace {

TEST(Lz4Body, CompressedBodyDecompressesToTheSameBytes) {
  std::string body;
  for (int i = 0; i < 5000; ++i) body += "user " + std::to_string(i % 17) + ";";
  auto packed = lz4_compress_body(body);
  EXPECT_LT(packed.size(), body.size() / 2);
  auto unpacked = lz4_decompress_body(packed);
  ASSERT_TRUE(unpacked.ok()) << unpacked.err().message;
  EXPECT_EQ(*unpacked, body);
  EXPECT_EQ(*lz4_decompress_body(lz4_compress_body("")), "");
}

TEST(Lz4Body, ShortPrefixAbsurdLengthAndCorruptBlockAreErrors) {
  EXPECT_FALSE(lz4_decompress_body("ab").ok());
  EXPECT_FALSE(lz4_decompress_body(std::string("\x7f\xff\xff\xff", 4) + "xyz").ok());
  auto packed = lz4_compress_body(std::string(1000, 'a'));
  packed.resize(packed.size() - 3);  // cut the block short
  auto r = lz4_decompress_body(packed);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().message.find("corrupt LZ4"), std::string::npos) << r.err().message;
}

}  // namespace
}  // namespace sluice::cql
