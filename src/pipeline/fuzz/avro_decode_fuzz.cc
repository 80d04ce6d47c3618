// libFuzzer target for the processor's value decoder (pipeline/decode.h): the input is a
// raw users.raw message value (Confluent-framed Avro or plain JSON). Schema id 1 is the
// contract (contract/user.avsc), 2 an evolved User, 3 a User with arrays, maps, fixed,
// enum, nested records and numbers (the reader's skip paths); the Avro payload is also
// read as JSON with schema 3 as the console shows it. Any crash or sanitizer report is a bug.
#include <avro.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "pipeline/avro_reader.h"
#include "pipeline/decode.h"

namespace {

using namespace sluice::pipeline;

const char* const evolved_schema = R"({"type":"record","name":"User","namespace":"sluice.v1",
  "fields":[{"name":"id","type":["null","string"],"default":null},
  {"name":"email","type":["null","string"],"default":null},
  {"name":"loyalty_tier","type":["null","string"],"default":null}]})";

const char* const rich_schema = R"({"type":"record","name":"User","namespace":"sluice.v1",
  "fields":[{"name":"id","type":["null","string"]},
  {"name":"tags","type":{"type":"array","items":"string"}},
  {"name":"attrs","type":{"type":"map","values":["null","long"]}},
  {"name":"hash","type":{"type":"fixed","name":"H","size":4}},
  {"name":"kind","type":{"type":"enum","name":"K","symbols":["A","B"]}},
  {"name":"inner","type":{"type":"record","name":"I","fields":[{"name":"x","type":"double"},
    {"name":"y","type":"float"},{"name":"b","type":"boolean"},{"name":"raw","type":"bytes"},
    {"name":"n","type":"int"}]}},
  {"name":"email","type":["null","string"]}]})";

std::string contract_schema() {
  std::ifstream in(std::string(SLUICE_SOURCE_DIR) + "/contract/user.avsc");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

schema_answer fetch(int id) {
  static const std::string contract = contract_schema();
  schema_answer a;
  if (id == 1) a.schema = contract;
  if (id == 2) a.schema = evolved_schema;
  if (id == 3) a.schema = rich_schema;
  if (!a.schema) {
    a.unknown = true;
    a.error = "no such schema";
  }
  return a;
}

avro_schema_t parsed_rich_schema() {
  static avro_schema_t schema = [] {
    avro_schema_t s = nullptr;
    std::string_view text = rich_schema;
    if (avro_schema_from_json_length(text.data(), text.size(), &s) != 0) __builtin_trap();
    return s;
  }();
  return schema;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view value(reinterpret_cast<const char*>(data), size);
  static value_decoder decoder(fetch, 1 << 20);  // schemas are cached across inputs
  (void)decoder.decode(value);
  (void)decoder.decode(std::nullopt);
  if (size >= 5) {
    avro_reader reader(value.substr(5));
    nlohmann::json out;
    std::string problem;
    (void)reader.read_json(parsed_rich_schema(), out, problem, 0);
  }
  return 0;
}
