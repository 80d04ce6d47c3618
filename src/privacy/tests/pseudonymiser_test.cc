// Unit tests for keyed pseudonyms: values against `openssl dgst -sha256 -hmac`, the field
// list's refusals, key loading from a file and the environment, and the record rewrite.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "privacy/privacy.h"

namespace sluice::privacy {
namespace {

using model::field;

constexpr const char* test_key = "sixteen-byte-key-for-tests";

// printf %s 'ana.lopez@example.com' | openssl dgst -sha256 -hmac 'sixteen-byte-key-for-tests'
TEST(Pseudonym, EqualsOpensslsHmacSha256InLowercaseHex) {
  EXPECT_EQ(pseudonym(test_key, "ana.lopez@example.com"),
            "4bf78deda23f359f37a8745f4ea8f6b5d309629c623a905ee0cc52e3cf643b51");
}

TEST(Pseudonym, KeyIdIsTheFirstSixteenHexOfTheKeysHmacOfItsLabel) {
  EXPECT_EQ(derive_key_id(test_key), "871e36131d3bd023");
}

TEST(Pseudonym, DifferentKeysGiveDifferentPseudonymsOfOneValue) {
  EXPECT_NE(pseudonym(test_key, "x"), pseudonym("another-sixteen-byte-key", "x"));
}

TEST(FieldList, NamesParseInSchemaOrderWithDuplicatesFolded) {
  auto fields = parse_field_list("phone, email,phone");
  ASSERT_TRUE(fields) << fields.err().message;
  EXPECT_EQ(*fields, (std::vector<field>{field::email, field::phone}));
}

TEST(FieldList, UnknownNameIsRefusedListingTheAllowedOnes) {
  auto fields = parse_field_list("email,mail");
  ASSERT_FALSE(fields);
  EXPECT_NE(fields.err().message.find("'mail'"), std::string::npos) << fields.err().message;
  EXPECT_NE(fields.err().message.find("postcode"), std::string::npos) << fields.err().message;
}

TEST(FieldList, RowKeyAndTypedColumnsAreRefusedNamingThem) {
  for (const char* name : {"id", "dob", "registered_date"}) {
    auto fields = parse_field_list(name);
    ASSERT_FALSE(fields) << name;
    EXPECT_NE(fields.err().message.find(name), std::string::npos) << fields.err().message;
  }
}

TEST(FieldList, EmptyEntryIsRefused) {
  EXPECT_FALSE(parse_field_list("email,,phone"));
  EXPECT_FALSE(parse_field_list(""));
}

TEST(Key, FileKeyLosesOneTrailingNewlineOnly) {
  auto path = std::filesystem::temp_directory_path() / "sluice-privacy-test.key";
  std::ofstream(path, std::ios::binary) << test_key << "\r\n";
  auto key = read_key({"", path});
  std::filesystem::remove(path);
  ASSERT_TRUE(key) << key.err().message;
  EXPECT_EQ(*key, test_key);
}

TEST(Key, ShortKeyIsRefusedNamingItsSourceAndLengthButNotItsBytes) {
  ::setenv("SLUICE_PRIVACY_TEST_KEY", "tiny-secret", 1);
  auto key = read_key({"SLUICE_PRIVACY_TEST_KEY", {}});
  ::unsetenv("SLUICE_PRIVACY_TEST_KEY");
  ASSERT_FALSE(key);
  EXPECT_NE(key.err().message.find("SLUICE_PRIVACY_TEST_KEY"), std::string::npos);
  EXPECT_NE(key.err().message.find("11 bytes"), std::string::npos) << key.err().message;
  EXPECT_EQ(key.err().message.find("tiny-secret"), std::string::npos) << key.err().message;
}

TEST(Key, UnsetVariableAndMissingFileAreNamed) {
  auto from_env = read_key({"SLUICE_PRIVACY_TEST_UNSET", {}});
  ASSERT_FALSE(from_env);
  EXPECT_NE(from_env.err().message.find("SLUICE_PRIVACY_TEST_UNSET"), std::string::npos);
  auto from_file = read_key({"", "/nonexistent/sluice.key"});
  ASSERT_FALSE(from_file);
  EXPECT_NE(from_file.err().message.find("/nonexistent/sluice.key"), std::string::npos);
}

TEST(KeyId, MalformedIdsAreRefused) {
  EXPECT_TRUE(check_key_id("2026-12.rotation_1"));
  EXPECT_FALSE(check_key_id(""));
  EXPECT_FALSE(check_key_id("has space"));
  EXPECT_FALSE(check_key_id(std::string(65, 'k')));
}

TEST(Pseudonymiser, ChosenPresentFieldsAreReplacedOthersUntouched) {
  auto p = pseudonymiser::create({field::email, field::phone}, test_key, "");
  ASSERT_TRUE(p) << p.err().message;
  EXPECT_EQ(p->key_id(), "871e36131d3bd023");
  model::user_record r;
  r.set(field::email, "ana.lopez@example.com");
  r.set(field::first_name, "Ana");
  p->apply(r);
  EXPECT_EQ(*r.get(field::email),
            "4bf78deda23f359f37a8745f4ea8f6b5d309629c623a905ee0cc52e3cf643b51");
  EXPECT_FALSE(r.get(field::phone).has_value());
  EXPECT_EQ(*r.get(field::first_name), "Ana");
}

TEST(Pseudonymiser, ShortKeyOrNoFieldIsRefused) {
  EXPECT_FALSE(pseudonymiser::create({field::email}, "short", ""));
  EXPECT_FALSE(pseudonymiser::create({}, test_key, ""));
  EXPECT_FALSE(pseudonymiser::create({field::email}, test_key, "bad id"));
}

}  // namespace
}  // namespace sluice::privacy
