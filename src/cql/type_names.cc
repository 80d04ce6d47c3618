// The parser of Cassandra's custom-type class names (protocol v4 sends duration and
// vector types as "org.apache.cassandra.db.marshal.VectorType(...)") and the CQL names
// of column types (see types.h).
#include <cctype>
#include <optional>

#include <fmt/format.h>

#include "cql/types.h"

namespace sluice::cql {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

constexpr std::string_view marshal_prefix = "org.apache.cassandra.db.marshal.";

std::optional<type_id> simple_class(std::string_view name) {
  static constexpr std::pair<std::string_view, type_id> names[] = {
      {"AsciiType", type_id::ascii},
      {"LongType", type_id::bigint},
      {"BytesType", type_id::blob},
      {"BooleanType", type_id::boolean},
      {"CounterColumnType", type_id::counter},
      {"DecimalType", type_id::decimal},
      {"DoubleType", type_id::double_},
      {"FloatType", type_id::float_},
      {"Int32Type", type_id::int_},
      {"TimestampType", type_id::timestamp},
      {"DateType", type_id::timestamp},
      {"UUIDType", type_id::uuid},
      {"UTF8Type", type_id::varchar},
      {"IntegerType", type_id::varint},
      {"TimeUUIDType", type_id::timeuuid},
      {"InetAddressType", type_id::inet},
      {"SimpleDateType", type_id::date},
      {"TimeType", type_id::time},
      {"ShortType", type_id::smallint},
      {"ByteType", type_id::tinyint},
      {"DurationType", type_id::duration},
  };
  for (const auto& [n, id] : names)
    if (n == name) return id;
  return std::nullopt;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Recursive descent over Cassandra's TypeParser syntax: Name or Name(arg, ...).
class class_parser {
 public:
  explicit class_parser(std::string_view text) : text_(text) {}

  result<column_type> parse_all() {
    auto t = parse(0);
    if (!t) return t;
    skip_ws();
    if (pos_ != text_.size()) return fail("unexpected text after the type");
    return t;
  }

 private:
  static constexpr int max_depth = 32;

  error fail(std::string_view what) const {
    return make_error(errc::protocol, "custom type '{}': {} at offset {}", text_, what, pos_);
  }
  void skip_ws() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
  }
  bool eat(char c) {
    skip_ws();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  std::string_view token() {
    skip_ws();
    auto start = pos_;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '$')) break;
      ++pos_;
    }
    return text_.substr(start, pos_ - start);
  }
  result<std::string> hex_name() {
    auto hex = token();
    if (hex.empty() || hex.size() % 2) return fail("expected a hex-encoded name");
    std::string out;
    for (std::size_t i = 0; i < hex.size(); i += 2) {
      int hi = hex_digit(hex[i]), lo = hex_digit(hex[i + 1]);
      if (hi < 0 || lo < 0) return fail("expected a hex-encoded name");
      out.push_back(static_cast<char>(hi * 16 + lo));
    }
    return out;
  }
  /// After '(': types separated by ',' up to ')'.
  result<std::vector<column_type>> type_args(int depth) {
    std::vector<column_type> out;
    do {
      auto t = parse(depth + 1);
      if (!t) return t.err();
      out.push_back(std::move(*t));
    } while (eat(','));
    if (!eat(')')) return fail("expected ',' or ')'");
    return out;
  }
  /// Skips a balanced parenthesised argument list of an unknown class.
  result<void> skip_args() {
    int open = 0;
    do {
      if (pos_ >= text_.size()) return fail("unbalanced parentheses");
      if (text_[pos_] == '(') ++open;
      if (text_[pos_] == ')') --open;
      ++pos_;
    } while (open > 0);
    return ok();
  }

  result<column_type> parse(int depth) {
    if (depth > max_depth) return fail("nested too deeply");
    skip_ws();
    auto start = pos_;
    auto full = token();
    if (full.empty()) return fail("expected a type name");
    std::string_view name = full;
    bool ours = false;
    if (name.starts_with(marshal_prefix)) {
      name.remove_prefix(marshal_prefix.size());
      ours = true;
    } else {
      ours = name.find('.') == std::string_view::npos;
    }
    skip_ws();
    bool has_args = pos_ < text_.size() && text_[pos_] == '(';
    column_type t;
    if (ours) {
      if (auto id = simple_class(name)) {
        if (has_args) return fail(fmt::format("{} takes no parameters", name));
        t.id = *id;
        return t;
      }
      if (name == "ListType" || name == "SetType" || name == "MapType" || name == "TupleType" ||
          name == "FrozenType" || name == "ReversedType") {
        if (!eat('(')) return fail(fmt::format("{} needs parameters", name));
        auto args = type_args(depth);
        if (!args) return args.err();
        std::size_t want = name == "MapType" ? 2 : name == "TupleType" ? args->size() : 1;
        if (args->size() != want)
          return fail(fmt::format("{} with {} parameters", name, args->size()));
        if (name == "FrozenType" || name == "ReversedType") return std::move((*args)[0]);
        t.id = name == "ListType"  ? type_id::list
               : name == "SetType" ? type_id::set
               : name == "MapType" ? type_id::map
                                   : type_id::tuple;
        t.params = std::move(*args);
        return t;
      }
      if (name == "VectorType") {
        if (!eat('(')) return fail("VectorType needs parameters");
        auto element = parse(depth + 1);
        if (!element) return element;
        if (!eat(',')) return fail("expected ',' before the vector dimension");
        auto digits = token();
        int n = 0;
        for (char c : digits) {
          if (!is_digit(c) || n > 100000000) return fail("bad vector dimension");
          n = n * 10 + (c - '0');
        }
        if (digits.empty() || n < 1) return fail("bad vector dimension");
        if (!eat(')')) return fail("expected ')' after the vector dimension");
        t.id = type_id::vector;
        t.dimension = n;
        t.params.push_back(std::move(*element));
        return t;
      }
      if (name == "UserType") {
        if (!eat('(')) return fail("UserType needs parameters");
        t.id = type_id::udt;
        t.udt_keyspace = std::string(token());
        if (t.udt_keyspace.empty() || !eat(',')) return fail("expected the UDT's keyspace");
        auto type_name_text = hex_name();
        if (!type_name_text) return type_name_text.err();
        t.udt_name = std::move(*type_name_text);
        while (eat(',')) {
          auto field = hex_name();
          if (!field) return field.err();
          if (!eat(':')) return fail("expected ':' after a field name");
          auto field_type = parse(depth + 1);
          if (!field_type) return field_type;
          t.field_names.push_back(std::move(*field));
          t.params.push_back(std::move(*field_type));
        }
        if (!eat(')')) return fail("expected ',' or ')'");
        return t;
      }
    }
    if (has_args) {
      if (auto skipped = skip_args(); !skipped) return skipped.err();
    }
    t.id = type_id::custom;
    t.custom_class = std::string(text_.substr(start, pos_ - start));
    return t;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

result<column_type> parse_type_class(std::string_view class_name) {
  return class_parser(class_name).parse_all();
}

std::string type_name(const column_type& type) {
  auto join = [&type] {
    std::string out;
    for (std::size_t i = 0; i < type.params.size(); ++i)
      out += (i ? ", " : "") + type_name(type.params[i]);
    return out;
  };
  switch (type.id) {
    case type_id::custom:
      return fmt::format("'{}'", type.custom_class);
    case type_id::ascii:
      return "ascii";
    case type_id::bigint:
      return "bigint";
    case type_id::blob:
      return "blob";
    case type_id::boolean:
      return "boolean";
    case type_id::counter:
      return "counter";
    case type_id::decimal:
      return "decimal";
    case type_id::double_:
      return "double";
    case type_id::float_:
      return "float";
    case type_id::int_:
      return "int";
    case type_id::timestamp:
      return "timestamp";
    case type_id::uuid:
      return "uuid";
    case type_id::varchar:
      return "text";
    case type_id::varint:
      return "varint";
    case type_id::timeuuid:
      return "timeuuid";
    case type_id::inet:
      return "inet";
    case type_id::date:
      return "date";
    case type_id::time:
      return "time";
    case type_id::smallint:
      return "smallint";
    case type_id::tinyint:
      return "tinyint";
    case type_id::duration:
      return "duration";
    case type_id::list:
      return "list<" + join() + ">";
    case type_id::set:
      return "set<" + join() + ">";
    case type_id::map:
      return "map<" + join() + ">";
    case type_id::tuple:
      return "tuple<" + join() + ">";
    case type_id::udt:
      return type.udt_keyspace.empty() ? type.udt_name : type.udt_keyspace + "." + type.udt_name;
    case type_id::vector:
      return fmt::format("vector<{}, {}>", join(), type.dimension);
  }
  return fmt::format("type 0x{:04x}", static_cast<int>(type.id));
}

}  // namespace sluice::cql
