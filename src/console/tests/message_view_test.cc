// How the console shows a record: Confluent Avro decoded through the registry, JSON,
// text, and hex with the reason when nothing decodes; and what a search matches.
#include <gtest/gtest.h>

#include "console/message_view.h"

namespace sluice::console {
namespace {

const char* schema = R"({"type":"record","name":"U","fields":[
  {"name":"id","type":"string"},{"name":"age","type":["null","int"]},
  {"name":"tags","type":{"type":"array","items":"string"}}]})";

std::string confluent(int id, std::string avro) {
  std::string out(1, '\0');
  out += static_cast<char>((id >> 24) & 0xff);
  out += static_cast<char>((id >> 16) & 0xff);
  out += static_cast<char>((id >> 8) & 0xff);
  out += static_cast<char>(id & 0xff);
  return out + avro;
}

message_decoder decoder() {
  return message_decoder([](int id) {
    if (id == 7) return schema_text{std::string(schema), ""};
    return schema_text{std::nullopt, "HTTP 404, error_code 40403: Schema not found"};
  });
}

TEST(MessageView, ConfluentAvroIsDecodedToJsonWithUnionsUnwrapped) {
  auto d = decoder();
  // id "ab", age union branch 1 = 21 (zigzag 42), tags ["x"]
  std::string avro = std::string(
                         "\x04"
                         "ab",
                         3) +
                     "\x02\x2a" + std::string("\x02\x02x\x00", 4);
  raw_message m{2, 41, 1700000000000, std::string("k1"), confluent(7, avro), {{"h", "v"}}};
  auto v = d.view(m);
  EXPECT_EQ(v["value_format"], "avro");
  EXPECT_EQ(v["schema_id"], 7);
  EXPECT_EQ(v["value"]["id"], "ab");
  EXPECT_EQ(v["value"]["age"], 21);
  EXPECT_EQ(v["value"]["tags"][0], "x");
  EXPECT_EQ(v["size"], 2 + 2 + m.value->size());
  EXPECT_TRUE(message_decoder::matches(v, "ab"));
  EXPECT_FALSE(message_decoder::matches(v, "zz"));
}

TEST(MessageView, MapsEnumsAndNegativeBlockCountsDecode) {
  message_decoder d([](int) {
    return schema_text{std::string(R"({"type":"record","name":"M","fields":[
      {"name":"m","type":{"type":"map","values":"long"}},
      {"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}}]})"),
                       ""};
  });
  // map: a block of -1 items (zigzag 0x01) of 3 bytes, key "k" -> 5, end; enum index 1
  std::string avro = std::string("\x01\x06\x02k\x0a\x00\x02", 7);
  auto v = d.view(raw_message{0, 0, 0, std::nullopt, confluent(3, avro), {}});
  ASSERT_EQ(v["value_format"], "avro") << v.dump();
  EXPECT_EQ(v["value"]["m"]["k"], 5);
  EXPECT_EQ(v["value"]["e"], "B");
}

TEST(MessageView, AnUnknownSchemaIdShowsHexAndTheRegistrysAnswer) {
  auto d = decoder();
  auto v = d.view(raw_message{0, 0, 0, std::nullopt, confluent(99, "\x02"), {}});
  EXPECT_EQ(v["value_format"], "hex");
  EXPECT_EQ(v["value_hex"], "000000006302");
  EXPECT_NE(v["note"].get<std::string>().find("40403"), std::string::npos);
}

TEST(MessageView, TruncatedAvroIsHexWithWhyNotATurnedAwayRequest) {
  auto d = decoder();
  auto v = d.view(raw_message{0,
                              0,
                              0,
                              std::nullopt,
                              confluent(7,
                                        "\x40"
                                        "a"),
                              {}});
  EXPECT_EQ(v["value_format"], "hex");
  EXPECT_NE(v["note"].get<std::string>().find("exceeds"), std::string::npos);
}

TEST(MessageView, JsonTextAndBinaryValuesAreToldApart) {
  auto d = decoder();
  EXPECT_EQ(d.view(raw_message{0, 0, 0, {}, std::string(R"({"a":1})"), {}})["value"]["a"], 1);
  auto text = d.view(raw_message{0, 0, 0, {}, std::string("{not json"), {}});
  EXPECT_EQ(text["value_format"], "text");
  EXPECT_EQ(text["note"], "looks like JSON but does not parse");
  auto binary =
      d.view(raw_message{0, 0, 0, std::string("\xff\xfe", 2), std::string("\xff\x01", 2), {}});
  EXPECT_EQ(binary["value_format"], "hex");
  EXPECT_EQ(binary["key_hex"], "fffe");
  EXPECT_TRUE(binary["key"].is_null());
  EXPECT_EQ(d.view(raw_message{})["value_format"], "null");
}

TEST(MessageView, SearchMatchesHeadersCaseInsensitively) {
  auto d = decoder();
  auto v =
      d.view(raw_message{0, 0, 0, {}, std::string("plain"), {{"sluice.rules", "Email.Format"}}});
  EXPECT_TRUE(message_decoder::matches(v, "email.format"));
}

}  // namespace
}  // namespace sluice::console
