// Tests of the text helpers for untrusted request text: UTF-8 validation (agreeing with
// nlohmann::json), log escaping, and method labels for metrics.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "web/http_text.h"
#include "web/server.h"

namespace sluice::web {
namespace {

bool json_dumps(const std::string& text) {
  try {
    (void)nlohmann::json(text).dump();
    return true;
  } catch (const nlohmann::json::type_error&) {
    return false;
  }
}

TEST(Utf8, WellFormedTextIsValidAndBrokenSequencesAreNotAgreeingWithJsonDump) {
  const std::vector<std::string> good = {
      "", "abc", "Zo\xc3\xab", "\xe2\x82\xac", "\xf0\x9d\x84\x9e", "\xf4\x8f\xbf\xbf"};
  const std::vector<std::string> bad = {"\xff",
                                        "/api/\xfe",
                                        "\xc0\xaf" /* overlong '/' */,
                                        "\xe0\x80\xaf",
                                        "\xed\xa0\x80" /* surrogate */,
                                        "\xf4\x90\x80\x80" /* > U+10FFFF */,
                                        "\xe2\x82" /* cut */,
                                        "\x80",
                                        "a\xc3"};
  for (const auto& s : good) {
    EXPECT_TRUE(valid_utf8(s)) << ::testing::PrintToString(s);
    EXPECT_TRUE(json_dumps(s)) << ::testing::PrintToString(s);
  }
  for (const auto& s : bad) {
    EXPECT_FALSE(valid_utf8(s)) << ::testing::PrintToString(s);
    EXPECT_FALSE(json_dumps(s)) << ::testing::PrintToString(s);
  }
}

TEST(LogEscape, ControlCharactersAndNonUtf8BytesAreEscapedSoARequestStaysOnOneLine) {
  EXPECT_EQ(escape_for_log("/a\r\n2024-01-01 [info] forged"), "/a\\r\\n2024-01-01 [info] forged");
  EXPECT_EQ(escape_for_log(std::string("x\0y\x1b[31m\x7f", 9)), "x\\x00y\\x1b[31m\\x7f");
  EXPECT_EQ(escape_for_log("\xff\xc3"), "\\xff\\xc3");
  EXPECT_EQ(escape_for_log("back\\slash"), "back\\\\slash");
  EXPECT_EQ(escape_for_log("Zo\xc3\xab \xe2\x82\xac"), "Zo\xc3\xab \xe2\x82\xac");
  EXPECT_EQ(escape_for_log("\xc2\x85"), "\\u{0085}");  // NEL
  EXPECT_EQ(escape_for_log("a\xe2\x80\xa8"
                           "b"),
            "a\\u{2028}b");                                // line separator
  EXPECT_EQ(escape_for_log("\xe2\x80\xae"), "\\u{202e}");  // right-to-left override
}

TEST(LogEscape, LongTextIsCutAndEndsWithItsLength) {
  auto out = escape_for_log(std::string(5000, 'a'), 100);
  EXPECT_EQ(out, std::string(100, 'a') + "...(5000 bytes)");
  EXPECT_EQ(escape_for_log("short", 100), "short");
}

TEST(MethodLabel, StandardMethodsKeepTheirNameAndInventedOnesAreOther) {
  for (const char* m : {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    EXPECT_EQ(method_label(m), m);
  }
  EXPECT_EQ(method_label("get"), "other");
  EXPECT_EQ(method_label("BREW"), "other");
  EXPECT_EQ(method_label(""), "other");
}

TEST(JsonError, MessageWithNonUtf8BytesIsReplacedInsteadOfThrowing) {
  response r;
  ASSERT_NO_THROW(r = json_error(400, "no such subject: \xff\xfe", "\xc0"));
  EXPECT_EQ(r.status, 400);
  auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["error"], "no such subject: \xef\xbf\xbd\xef\xbf\xbd");
}

}  // namespace
}  // namespace sluice::web
