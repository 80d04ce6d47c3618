// Tests of raw value decoding: plain JSON, Confluent Avro with older and newer writer
// schemas, and every kind of undecodable input mapped to its decode.* rule id.
#include <gtest/gtest.h>

#include <avro.h>

#include <chrono>
#include <fstream>
#include <random>
#include <sstream>

#include "pipeline/avro_encode.h"
#include "pipeline/decode.h"

namespace sluice::pipeline {
namespace {

std::string contract_schema() {
  std::ifstream in(std::string(SLUICE_SOURCE_DIR) + "/contract/user.avsc");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

const std::string evolved_schema =
    R"({"type":"record","name":"User","namespace":"sluice.v1","fields":[
  {"name":"id","type":["null","string"],"default":null},
  {"name":"email","type":["null","string"],"default":null},
  {"name":"loyalty_tier","type":["null","string"],"default":null}]})";

// Encodes a record with avro-c for the given schema, fields by name.
std::string encode(const std::string& schema_json, int id,
                   const std::vector<std::pair<std::string, std::string>>& fields) {
  avro_schema_t schema;
  EXPECT_EQ(avro_schema_from_json_length(schema_json.data(), schema_json.size(), &schema), 0);
  auto* iface = avro_generic_class_from_schema(schema);
  avro_value_t value;
  avro_generic_value_new(iface, &value);
  for (size_t i = 0; i < avro_schema_record_size(schema); ++i) {  // every field null first
    avro_value_t field, branch;
    avro_value_get_by_index(&value, i, &field, nullptr);
    avro_value_set_branch(&field, 0, &branch);
    avro_value_set_null(&branch);
  }
  for (const auto& [name, text] : fields) {
    avro_value_t field, branch;
    size_t index = 0;
    for (size_t i = 0; i < avro_schema_record_size(schema); ++i) {
      if (name == avro_schema_record_field_name(schema, static_cast<int>(i))) index = i;
    }
    avro_value_get_by_index(&value, index, &field, nullptr);
    avro_value_set_branch(&field, 1, &branch);
    avro_value_set_string_len(&branch, text.c_str(), text.size() + 1);
  }
  char buffer[4096];
  avro_writer_t writer = avro_writer_memory(buffer, sizeof buffer);
  EXPECT_EQ(avro_value_write(writer, &value), 0);
  auto size = avro_writer_tell(writer);
  avro_writer_free(writer);
  avro_value_decref(&value);
  avro_value_iface_decref(iface);
  avro_schema_decref(schema);
  std::string out(1, '\0');
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((id >> shift) & 0xFF));
  return out + std::string(buffer, static_cast<std::size_t>(size));
}

value_decoder make_decoder() {
  return value_decoder(
      [](int id) -> schema_answer {
        if (id == 1) return {contract_schema(), false, ""};
        if (id == 2) return {std::string(evolved_schema), false, ""};
        return {std::nullopt, true, "subject not found"};
      },
      4096);
}

TEST(Decode, PlainJsonDecodes) {
  auto d = make_decoder();
  auto out = d.decode(std::string_view(R"({"id":"x","email":"a@b.co"})"));
  ASSERT_FALSE(out.failure) << out.failure->reason;
  EXPECT_EQ(*out.record.get(model::field::email), "a@b.co");
  EXPECT_FALSE(out.schema_id);
}

TEST(Decode, ContractAvroDecodesWithItsSchemaId) {
  auto d = make_decoder();
  auto bytes = encode(contract_schema(), 1, {{"id", "abc"}, {"first_name", "Zoë"}});
  auto out = d.decode(bytes);
  ASSERT_FALSE(out.failure) << out.failure->reason;
  EXPECT_EQ(out.schema_id, 1);
  EXPECT_EQ(*out.record.get(model::field::first_name), "Zoë");
  EXPECT_FALSE(out.record.get(model::field::last_name).has_value());
}

TEST(Decode, NewerSchemaWithAnExtraFieldStillDecodes) {
  auto d = make_decoder();
  auto out = d.decode(
      encode(evolved_schema, 2, {{"id", "abc"}, {"email", "e@x.io"}, {"loyalty_tier", "gold"}}));
  ASSERT_FALSE(out.failure) << out.failure->reason;
  EXPECT_EQ(*out.record.get(model::field::email), "e@x.io");
  EXPECT_FALSE(out.record.get(model::field::phone).has_value());
}

TEST(Decode, EveryUndecodableKindGetsItsRuleId) {
  auto d = make_decoder();
  auto good = encode(contract_schema(), 1, {{"id", "abc"}});
  auto unknown_id = encode(contract_schema(), 99, {{"id", "abc"}});
  std::string bad_utf8 = encode(contract_schema(), 1, {{"first_name", "\xff\xfe"}});
  EXPECT_EQ(d.decode(std::nullopt).failure->rule, "decode.empty");
  EXPECT_EQ(d.decode(std::string_view("")).failure->rule, "decode.empty");
  EXPECT_EQ(d.decode(std::string_view("\x07garbage")).failure->rule, "decode.magic");
  EXPECT_EQ(d.decode(std::string_view("\x00\x00", 2)).failure->rule, "decode.magic");
  EXPECT_EQ(d.decode(unknown_id).failure->rule, "decode.schema_id");
  EXPECT_EQ(d.decode(good.substr(0, good.size() - 2)).failure->rule, "decode.avro");
  EXPECT_EQ(d.decode(std::string_view("{not json")).failure->rule, "decode.json");
  EXPECT_EQ(d.decode(bad_utf8).failure->rule, "decode.utf8");
  EXPECT_EQ(d.decode(std::string_view("{\"id\": \"\xff\"}")).failure->rule, "decode.utf8");
  EXPECT_EQ(d.decode(std::string(5000, '{')).failure->rule, "decode.oversize");
}

TEST(Decode, RegistryFailureIsNotADeadLetterAndIsAskedAgain) {
  int calls = 0;
  bool registry_up = false;
  value_decoder d(
      [&](int) -> schema_answer {
        ++calls;
        if (!registry_up) return {std::nullopt, false, "HTTP 500: internal error"};
        return {contract_schema(), false, ""};
      },
      4096);
  auto value = encode(contract_schema(), 7, {{"id", "abc"}});
  auto down = d.decode(value);
  EXPECT_FALSE(down.failure);
  ASSERT_TRUE(down.unavailable);
  EXPECT_NE(down.unavailable->find("HTTP 500"), std::string::npos);
  registry_up = true;
  auto up = d.decode(value);
  ASSERT_FALSE(up.failure) << up.failure->reason;
  EXPECT_FALSE(up.unavailable);
  EXPECT_EQ(*up.record.get(model::field::id), "abc");
  EXPECT_EQ(calls, 2);  // the failure was not cached
}

TEST(Decode, RandomBytesNeverCrash) {
  auto d = make_decoder();
  std::mt19937 rng(3);
  for (int i = 0; i < 20000; ++i) {
    std::string bytes(rng() % 200, '\0');
    for (auto& c : bytes) c = static_cast<char>(rng());
    if (!bytes.empty() && i % 2) bytes[0] = 0;  // half of them look like Confluent framing
    if (bytes.size() > 4 && i % 4 == 1) bytes[1] = bytes[2] = bytes[3] = 0, bytes[4] = 1;
    (void)d.decode(bytes);
  }
}

}  // namespace
}  // namespace sluice::pipeline

namespace sluice::pipeline {
namespace {

// Found by avro_decode_fuzz: a negative block count of INT64_MIN (varint ff*9 01) was
// negated (signed overflow) before being checked.
TEST(Decode, ArrayBlockCountOfInt64MinIsADecodeFailureNotAnOverflow) {
  const std::string schema = R"({"type":"record","name":"User","namespace":"sluice.v1",
    "fields":[{"name":"tags","type":{"type":"array","items":"null"}}]})";
  value_decoder decoder([&](int) { return schema_answer{schema, false, ""}; }, 1 << 20);
  std::string value("\0\0\0\0\x07", 5);
  value += std::string(9, '\xff') + '\x01';
  auto d = decoder.decode(value);
  ASSERT_TRUE(d.failure.has_value());
  EXPECT_EQ(d.failure->rule, "decode.avro");
  EXPECT_NE(d.failure->reason.find("out of range"), std::string::npos) << d.failure->reason;
}

// Blocks of zero-byte items cost no input: 4,000 blocks of 1,000 nulls in 8 KB would be
// 4 * 10^6 items (a 1 MB value, ~10^10); the reader stops at its item budget at once.
TEST(Decode, ArraysOfZeroByteItemsPastTheItemBudgetAreADecodeFailureInMilliseconds) {
  const std::string schema = R"({"type":"record","name":"User","namespace":"sluice.v1",
    "fields":[{"name":"tags","type":{"type":"array","items":"null"}}]})";
  value_decoder decoder([&](int) { return schema_answer{schema, false, ""}; }, 1 << 20);
  std::string value("\0\0\0\0\x07", 5);
  for (int block = 0; block < 4000; ++block) value += "\xd0\x0f";  // count 1000 (zigzag)
  value += std::string(2000, '\0');  // bytes enough that each block passes the length check
  auto started = std::chrono::steady_clock::now();
  auto d = decoder.decode(value);
  auto took = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(d.failure.has_value());
  EXPECT_EQ(d.failure->rule, "decode.avro");
  EXPECT_NE(d.failure->reason.find("array or map items"), std::string::npos) << d.failure->reason;
  EXPECT_LT(took, std::chrono::milliseconds(500));
}

TEST(AvroEncode, BytesEqualAvroCsEncodingAndDecodeBack) {
  model::user_record r;
  r.set(model::field::id, "7f1d2c3a-1b2c-4d5e-8f90-0123456789ab");
  r.set(model::field::first_name, "Zoë");
  r.set(model::field::address, std::string(300, 'x'));  // multi-byte varint length
  std::string ours;
  append_confluent_avro(r, 1, ours);
  auto reference = encode(contract_schema(), 1,
                          {{"id", "7f1d2c3a-1b2c-4d5e-8f90-0123456789ab"},
                           {"first_name", "Zoë"},
                           {"address", std::string(300, 'x')}});
  EXPECT_EQ(ours, reference);
  auto d = make_decoder();
  auto back = d.decode(ours);
  ASSERT_FALSE(back.failure) << back.failure->reason;
  EXPECT_EQ(back.record, r);
}

}  // namespace
}  // namespace sluice::pipeline
