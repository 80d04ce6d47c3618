// Loading contract/rules.yaml into compiled checks, and running them on a record.
#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <fstream>
#include <sstream>

#include "base/error.h"
#include "rules/rules.h"

namespace sluice::rules {

enum class check_kind {
  required,
  uuid,
  email,
  regex,
  enumeration,
  max_length,
  date,
  timestamp,
  date_range,
  timestamp_range,
  url,
  no_control,
  uuid_identity
};

/// One compiled check. Range bounds are days (dates) or ms (timestamps); a bound
/// flagged `*_is_now` means today / now, i.e. the record's timestamp (see validate).
struct compiled_check {
  check_kind kind;
  std::string rule;
  std::string reason;
  std::shared_ptr<const re2::RE2> pattern;
  std::vector<std::string> values;
  std::size_t max = 0;
  std::int64_t min_bound = 0, max_bound = 0;
  bool min_is_now = false, max_is_now = false;
};

namespace {

struct location {
  const std::string& origin;
  const std::string& field;
  const std::string& rule;
  [[noreturn]] void fail(const std::string& what) const {
    throw fatal_error(fmt::format("{}: field '{}', rule '{}': {}", origin, field,
                                  rule.empty() ? "?" : rule, what));
  }
};

check_kind kind_by_name(const std::string& name, const location& where) {
  static const std::vector<std::pair<std::string, check_kind>> kinds = {
      {"required", check_kind::required},
      {"uuid", check_kind::uuid},
      {"email", check_kind::email},
      {"regex", check_kind::regex},
      {"enum", check_kind::enumeration},
      {"max_length", check_kind::max_length},
      {"date", check_kind::date},
      {"timestamp", check_kind::timestamp},
      {"date_range", check_kind::date_range},
      {"timestamp_range", check_kind::timestamp_range},
      {"url", check_kind::url},
      {"no_control", check_kind::no_control},
      {"uuid_identity", check_kind::uuid_identity}};
  for (const auto& [n, k] : kinds) {
    if (n == name) return k;
  }
  where.fail(fmt::format("unknown check '{}'", name));
}

std::shared_ptr<const re2::RE2> compile(std::string_view pattern, const location& where) {
  re2::RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_shared<re2::RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
  if (!re->ok()) where.fail(fmt::format("bad regex '{}': {}", pattern, re->error()));
  return re;
}

std::string scalar(const YAML::Node& node, const char* key, const location& where) {
  if (!node[key] || !node[key].IsScalar()) where.fail(fmt::format("missing key '{}'", key));
  return node[key].as<std::string>();
}

void parse_bound(const YAML::Node& node, const char* key, bool date, std::int64_t& bound,
                 bool& is_now, const location& where) {
  auto text = scalar(node, key, where);
  if (text == (date ? "today" : "now")) {
    is_now = true;
    return;
  }
  if (date) {
    auto days = parse_date_days(text);
    if (!days) where.fail(fmt::format("{}: {}", key, days.err().message));
    bound = *days;
  } else {
    auto ms = parse_timestamp_ms(text);
    if (!ms) where.fail(fmt::format("{}: {}", key, ms.err().message));
    bound = *ms;
  }
}

compiled_check compile_check(const YAML::Node& node, const location& where) {
  compiled_check c;
  c.rule = where.rule;
  c.kind = kind_by_name(scalar(node, "check", where), where);
  switch (c.kind) {
    case check_kind::required:
      c.reason = "missing or blank";
      break;
    case check_kind::uuid:
      c.reason = "not a UUID (8-4-4-4-12 hex)";
      break;
    case check_kind::email:
      c.pattern = compile(email_pattern, where);
      c.reason = "not an e-mail address";
      break;
    case check_kind::regex: {
      auto pattern = scalar(node, "pattern", where);
      c.pattern = compile(pattern, where);
      c.reason = "does not match " + pattern;
      break;
    }
    case check_kind::enumeration:
      if (!node["values"] || !node["values"].IsSequence()) where.fail("missing list 'values'");
      for (const auto& v : node["values"]) c.values.push_back(v.as<std::string>());
      c.reason = fmt::format("not one of {}", fmt::join(c.values, ", "));
      break;
    case check_kind::max_length: {
      auto text = scalar(node, "max", where);
      try {
        c.max = std::stoul(text);
      } catch (const std::exception&) {
        where.fail(fmt::format("max '{}' is not a number", text));
      }
      c.reason = fmt::format("longer than {} characters", c.max);
      break;
    }
    case check_kind::date:
      c.reason = "not a YYYY-MM-DD calendar date";
      break;
    case check_kind::timestamp:
      c.reason = "not a YYYY-MM-DDTHH:MM:SS[.fff]Z timestamp";
      break;
    case check_kind::date_range:
    case check_kind::timestamp_range: {
      bool date = c.kind == check_kind::date_range;
      parse_bound(node, "min", date, c.min_bound, c.min_is_now, where);
      parse_bound(node, "max", date, c.max_bound, c.max_is_now, where);
      c.reason =
          fmt::format("outside {}..{}", scalar(node, "min", where), scalar(node, "max", where));
      break;
    }
    case check_kind::url:
      c.pattern = compile(url_pattern, where);
      c.reason = "not an absolute http(s) URL";
      break;
    case check_kind::no_control:
      c.reason = "contains a control character (U+0000..U+001F or U+007F)";
      break;
    case check_kind::uuid_identity:
      c.reason = "nil or max UUID (names no entity)";
      break;
  }
  return c;
}

bool blank(std::string_view text) {
  for (char ch : text) {
    if (!std::isspace(static_cast<unsigned char>(ch))) return false;
  }
  return true;
}

bool is_uuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < 36; ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (text[i] == '-')) return false;
    if (!dash && !std::isxdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  return true;
}

bool passes(const compiled_check& c, std::string_view value, std::int64_t today_days,
            std::int64_t now_ms) {
  switch (c.kind) {
    case check_kind::required:
      return !blank(value);
    case check_kind::uuid:
      return is_uuid(value);
    case check_kind::email:
    case check_kind::regex:
    case check_kind::url:
      return re2::RE2::FullMatch(re2::StringPiece(value.data(), value.size()), *c.pattern);
    case check_kind::enumeration:
      for (const auto& v : c.values) {
        if (v == value) return true;
      }
      return false;
    case check_kind::max_length:
      return code_points(value) <= c.max;
    case check_kind::date:
      return parse_date_days(value).ok();
    case check_kind::timestamp:
      return parse_timestamp_ms(value).ok();
    case check_kind::date_range: {
      auto days = parse_date_days(value);
      if (!days) return false;
      std::int64_t lo = c.min_is_now ? today_days : c.min_bound;
      std::int64_t hi = c.max_is_now ? today_days : c.max_bound;
      return *days >= lo && *days <= hi;
    }
    case check_kind::timestamp_range: {
      auto ms = parse_timestamp_ms(value);
      if (!ms) return false;
      std::int64_t lo = c.min_is_now ? now_ms : c.min_bound;
      std::int64_t hi = c.max_is_now ? now_ms : c.max_bound;
      return *ms >= lo && *ms <= hi;
    }
    case check_kind::no_control:
      return !has_control_char(value);
    case check_kind::uuid_identity:
      return !is_nil_or_max_uuid(value);
  }
  return false;
}

}  // namespace

std::string verdict::rule_ids() const {
  std::string out;
  for (const auto& v : violations) {
    if (!out.empty()) out.push_back(',');
    out += v.rule;
  }
  return out;
}

rule_set rule_set::load(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw fatal_error(fmt::format("cannot read rules file '{}'", file.string()));
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), file.string());
}

rule_set rule_set::parse(const std::string& yaml_text, const std::string& origin) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw fatal_error(fmt::format("{}: not valid YAML: {}", origin, e.what()));
  }
  rule_set set;
  if (!root["contract"] || !root["version"] || !root["fields"] || !root["fields"].IsMap()) {
    throw fatal_error(
        fmt::format("{}: needs keys 'contract', 'version' and a 'fields' map", origin));
  }
  set.contract_ = root["contract"].as<std::string>();
  set.version_ = root["version"].as<int>();
  auto checks = std::make_shared<std::vector<std::vector<compiled_check>>>(model::field_count);
  for (const auto& entry : root["fields"]) {
    auto field_name = entry.first.as<std::string>();
    std::string no_rule;
    location field_where{origin, field_name, no_rule};
    auto f = model::field_by_name(field_name);
    if (!f) field_where.fail("not a field of the User schema");
    if (!entry.second.IsSequence()) field_where.fail("expected a list of checks");
    for (const auto& node : entry.second) {
      if (!node.IsMap()) field_where.fail("each check must be a map");
      std::string rule =
          node["rule"] && node["rule"].IsScalar() ? node["rule"].as<std::string>() : "";
      location where{origin, field_name, rule};
      if (rule.empty()) where.fail("missing key 'rule'");
      (*checks)[static_cast<std::size_t>(*f)].push_back(compile_check(node, where));
    }
  }
  set.checks_ = std::move(checks);
  return set;
}

verdict rule_set::validate(const model::user_record& record, std::chrono::sys_seconds now) const {
  verdict out;
  const std::int64_t now_s = now.time_since_epoch().count();
  const std::int64_t today_days = now_s >= 0 ? now_s / 86400 : (now_s - 86399) / 86400;
  const std::int64_t now_ms = now_s * 1000;
  for (std::size_t i = 0; i < model::field_count; ++i) {
    const auto& value = record.values[i];
    for (const auto& c : (*checks_)[i]) {
      if (!value) {
        if (c.kind == check_kind::required) {
          out.violations.push_back({c.rule, static_cast<model::field>(i), c.reason});
        }
        break;  // absent: `required` reports it; otherwise the field is simply skipped
      }
      if (!passes(c, *value, today_days, now_ms)) {
        out.violations.push_back({c.rule, static_cast<model::field>(i), c.reason});
        break;
      }
    }
  }
  return out;
}

std::vector<std::string> rule_set::rule_ids() const {
  std::vector<std::string> ids;
  for (const auto& field_checks : *checks_) {
    for (const auto& c : field_checks) ids.push_back(c.rule);
  }
  return ids;
}

}  // namespace sluice::rules
