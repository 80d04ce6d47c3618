// JSON encoding (hand-rolled appender, since it is on the generator's hot path) and
// decoding (simdjson) of a user_record.
#include "model/json.h"

#include <simdjson.h>

namespace sluice::model {
namespace {

bool needs_escape(char c) {
  return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
}

}  // namespace

void append_json_string(std::string_view text, std::string& out) {
  out.push_back('"');
  std::size_t run = 0;  // start of the current run of characters needing no escape
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (!needs_escape(c)) continue;
    out.append(text.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default: {
        static constexpr char hex[] = "0123456789abcdef";
        out += "\\u00";
        out.push_back(hex[(c >> 4) & 0xf]);
        out.push_back(hex[c & 0xf]);
      }
    }
  }
  out.append(text.data() + run, text.size() - run);
  out.push_back('"');
}

void append_json(const user_record& record, std::string& out) {
  out.push_back('{');
  for (std::size_t i = 0; i < field_count; ++i) {
    if (i) out.push_back(',');
    out.push_back('"');
    out.append(field_names[i]);
    out.append("\":", 2);
    if (record.values[i]) {
      append_json_string(*record.values[i], out);
    } else {
      out += "null";
    }
  }
  out.push_back('}');
}

result<user_record> parse_json(std::string_view text) {
  // A parser per thread: simdjson parsers are reusable but not thread-safe.
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = parser.parse(text.data(), text.size()).get(root)) {
    return make_error(errc::parse, "invalid JSON: {}", simdjson::error_message(err));
  }
  simdjson::dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) {
    return make_error(errc::parse, "JSON value is not an object");
  }
  user_record record;
  for (auto [key, value] : object) {
    auto f = field_by_name(key);
    if (!f || value.is_null()) continue;
    std::string_view str;
    if (value.get_string().get(str) != simdjson::SUCCESS) {
      return make_error(errc::parse, "field '{}' is not a string", key);
    }
    record.set(*f, std::string(str));
  }
  return record;
}

}  // namespace sluice::model
