// Request parsing and response rendering of the randomuser-compatible API. The JSON is
// written by hand into one reserved string: a page of 5000 users must be cheap.
#include "api/randomuser.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <random>
#include <variant>

#include <fmt/format.h>

#include "base/error.h"
#include "model/json.h"

namespace sluice::api {
namespace {

constexpr int max_results = 5000;
constexpr std::uint64_t max_page = 100000000;
constexpr const char* api_version = "1.4";

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    auto item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    std::string trimmed;
    for (char c : item) {
      if (!std::isspace(static_cast<unsigned char>(c))) trimmed.push_back(c);
    }
    if (!trimmed.empty()) out.push_back(trimmed);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

template <typename T>
bool parse_number(const std::string& text, T& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

void escape(std::string_view s, std::string& out) {
  model::append_json_string(s, out);
}

/// A minimal JSON writer that tracks commas; `pretty` adds newlines and indentation.
class json_writer {
 public:
  json_writer(std::string& out, bool pretty) : out_(out), pretty_(pretty) {}
  void begin_object(std::string_view key = {}) { open(key, '{'); }
  void end_object() { close('}'); }
  void begin_array(std::string_view key) { open(key, '['); }
  void end_array() { close(']'); }
  void string(std::string_view key, std::string_view value) {
    prefix(key);
    escape(value, out_);
  }
  void number(std::string_view key, std::int64_t value) {
    prefix(key);
    fmt::format_to(std::back_inserter(out_), "{}", value);
  }
  void null(std::string_view key) {
    prefix(key);
    out_ += "null";
  }

 private:
  void newline() {
    if (!pretty_) return;
    out_.push_back('\n');
    out_.append(depth_ * 2, ' ');
  }
  void prefix(std::string_view key) {
    if (need_comma_) out_.push_back(',');
    if (depth_ > 0) newline();
    if (!key.empty()) {
      escape(key, out_);
      out_ += pretty_ ? ": " : ":";
    }
    need_comma_ = true;
  }
  void open(std::string_view key, char bracket) {
    prefix(key);
    out_.push_back(bracket);
    ++depth_;
    need_comma_ = false;
  }
  void close(char bracket) {
    --depth_;
    if (need_comma_) newline();
    out_.push_back(bracket);
    need_comma_ = true;
  }
  std::string& out_;
  bool pretty_;
  int depth_ = 0;
  bool need_comma_ = false;
};

void write_user(json_writer& w, const gen::profile& p, const std::vector<bool>& inc) {
  const auto& names = field_names();
  w.begin_object();
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!inc[i]) continue;
    const auto& f = names[i];
    if (f == "gender") {
      w.string("gender", p.gender);
    } else if (f == "name") {
      w.begin_object("name");
      w.string("title", p.name.title);
      w.string("first", p.name.first);
      w.string("last", p.name.last);
      w.end_object();
    } else if (f == "location") {
      w.begin_object("location");
      w.begin_object("street");
      w.number("number", p.location.street_number);
      w.string("name", p.location.street_name);
      w.end_object();
      w.string("city", p.location.city);
      w.string("state", p.location.state);
      w.string("country", p.location.country);
      bool numeric =
          std::all_of(p.location.postcode.begin(), p.location.postcode.end(),
                      [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
      if (numeric && !p.location.postcode.empty() && p.location.postcode[0] != '0') {
        w.number("postcode", std::stoll(p.location.postcode));  // as randomuser does
      } else {
        w.string("postcode", p.location.postcode);
      }
      w.begin_object("coordinates");
      w.string("latitude", p.location.latitude);
      w.string("longitude", p.location.longitude);
      w.end_object();
      w.begin_object("timezone");
      w.string("offset", p.location.timezone_offset);
      w.string("description", p.location.timezone_description);
      w.end_object();
      w.end_object();
    } else if (f == "email") {
      w.string("email", p.email);
    } else if (f == "login") {
      w.begin_object("login");
      w.string("uuid", p.login.uuid);
      w.string("username", p.login.username);
      w.string("password", p.login.password);
      w.string("salt", p.login.salt);
      w.string("md5", p.login.md5);
      w.string("sha1", p.login.sha1);
      w.string("sha256", p.login.sha256);
      w.end_object();
    } else if (f == "dob" || f == "registered") {
      bool dob = f == "dob";
      w.begin_object(f);
      w.string("date", dob ? p.dob_date : p.registered_date);
      w.number("age", dob ? p.dob_age : p.registered_age);
      w.end_object();
    } else if (f == "phone") {
      w.string("phone", p.phone);
    } else if (f == "cell") {
      w.string("cell", p.cell);
    } else if (f == "id") {
      w.begin_object("id");
      w.string("name", p.id_name);
      if (p.id_value.empty()) {
        w.null("value");
      } else {
        w.string("value", p.id_value);
      }
      w.end_object();
    } else if (f == "picture") {
      w.begin_object("picture");
      w.string("large", p.picture_large);
      w.string("medium", p.picture_medium);
      w.string("thumbnail", p.picture_thumbnail);
      w.end_object();
    } else if (f == "nat") {
      w.string("nat", p.nat);
    }
  }
  w.end_object();
}

// CSV: one column per leaf, dotted names as randomuser's CSV header does.
struct csv_column {
  const char* group;
  const char* name;
  std::string (*get)(const gen::profile&);
};

const std::vector<csv_column>& csv_columns() {
  static const std::vector<csv_column> columns = {
      {"gender", "gender", [](const gen::profile& p) { return p.gender; }},
      {"name", "name.title", [](const gen::profile& p) { return p.name.title; }},
      {"name", "name.first", [](const gen::profile& p) { return p.name.first; }},
      {"name", "name.last", [](const gen::profile& p) { return p.name.last; }},
      {"location", "location.street.number",
       [](const gen::profile& p) { return std::to_string(p.location.street_number); }},
      {"location", "location.street.name",
       [](const gen::profile& p) { return p.location.street_name; }},
      {"location", "location.city", [](const gen::profile& p) { return p.location.city; }},
      {"location", "location.state", [](const gen::profile& p) { return p.location.state; }},
      {"location", "location.country", [](const gen::profile& p) { return p.location.country; }},
      {"location", "location.postcode", [](const gen::profile& p) { return p.location.postcode; }},
      {"location", "location.coordinates.latitude",
       [](const gen::profile& p) { return p.location.latitude; }},
      {"location", "location.coordinates.longitude",
       [](const gen::profile& p) { return p.location.longitude; }},
      {"location", "location.timezone.offset",
       [](const gen::profile& p) { return p.location.timezone_offset; }},
      {"location", "location.timezone.description",
       [](const gen::profile& p) { return p.location.timezone_description; }},
      {"email", "email", [](const gen::profile& p) { return p.email; }},
      {"login", "login.uuid", [](const gen::profile& p) { return p.login.uuid; }},
      {"login", "login.username", [](const gen::profile& p) { return p.login.username; }},
      {"login", "login.password", [](const gen::profile& p) { return p.login.password; }},
      {"login", "login.salt", [](const gen::profile& p) { return p.login.salt; }},
      {"login", "login.md5", [](const gen::profile& p) { return p.login.md5; }},
      {"login", "login.sha1", [](const gen::profile& p) { return p.login.sha1; }},
      {"login", "login.sha256", [](const gen::profile& p) { return p.login.sha256; }},
      {"dob", "dob.date", [](const gen::profile& p) { return p.dob_date; }},
      {"dob", "dob.age", [](const gen::profile& p) { return std::to_string(p.dob_age); }},
      {"registered", "registered.date", [](const gen::profile& p) { return p.registered_date; }},
      {"registered", "registered.age",
       [](const gen::profile& p) { return std::to_string(p.registered_age); }},
      {"phone", "phone", [](const gen::profile& p) { return p.phone; }},
      {"cell", "cell", [](const gen::profile& p) { return p.cell; }},
      {"id", "id.name", [](const gen::profile& p) { return p.id_name; }},
      {"id", "id.value", [](const gen::profile& p) { return p.id_value; }},
      {"picture", "picture.large", [](const gen::profile& p) { return p.picture_large; }},
      {"picture", "picture.medium", [](const gen::profile& p) { return p.picture_medium; }},
      {"picture", "picture.thumbnail", [](const gen::profile& p) { return p.picture_thumbnail; }},
      {"nat", "nat", [](const gen::profile& p) { return p.nat; }},
  };
  return columns;
}

void csv_cell(const std::string& value, std::string& out) {
  if (value.find_first_of(",\"\n") == std::string::npos) {
    out += value;
    return;
  }
  out.push_back('"');
  for (char c : value) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

bool included(const api_request& req, const char* group) {
  const auto& names = field_names();
  auto it = std::find(names.begin(), names.end(), group);
  return it != names.end() && req.include[static_cast<std::size_t>(it - names.begin())];
}

}  // namespace

const std::vector<std::string>& field_names() {
  static const std::vector<std::string> names = {"gender", "name", "location",   "email",
                                                 "login",  "dob",  "registered", "phone",
                                                 "cell",   "id",   "picture",    "nat"};
  return names;
}

std::uint64_t seed_from_string(const std::string& seed) {
  std::uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : seed) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash;
}

std::variant<api_request, parse_failure> parse_request(const web::request& r,
                                                       const std::string& random_seed) {
  api_request req;
  req.include.assign(field_names().size(), true);
  req.seed = random_seed;
  bool has_inc = false;
  std::vector<std::string> exc;
  for (const auto& [key, value] : r.query) {
    if (key == "results") {
      if (!parse_number(value, req.results) || req.results < 1 || req.results > max_results) {
        return parse_failure{"results",
                             fmt::format("results must be a whole number from 1 to {}, got '{}'",
                                         max_results, value)};
      }
    } else if (key == "seed") {
      if (value.empty() || value.size() > 64) {
        return parse_failure{"seed", "seed must be 1 to 64 characters"};
      }
      req.seed = value;
    } else if (key == "page") {
      if (!parse_number(value, req.page) || req.page < 1 || req.page > max_page) {
        return parse_failure{
            "page",
            fmt::format("page must be a whole number from 1 to {}, got '{}'", max_page, value)};
      }
    } else if (key == "gender") {
      auto g = lower(value);
      if (g != "male" && g != "female") {
        return parse_failure{"gender",
                             fmt::format("gender must be male or female, got '{}'", value)};
      }
      req.gender = g;
    } else if (key == "nat") {
      for (auto& code : split(value)) {
        std::string upper;
        for (char c : code)
          upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
        const auto& known = gen::supported_nationalities();
        if (std::find(known.begin(), known.end(), upper) == known.end()) {
          return parse_failure{"nat", fmt::format("unknown nationality '{}' (known: {})", code,
                                                  fmt::join(known, ", "))};
        }
        req.nationalities.push_back(upper);
      }
    } else if (key == "inc" || key == "exc") {
      auto list = split(lower(value));
      for (const auto& f : list) {
        if (std::find(field_names().begin(), field_names().end(), f) == field_names().end()) {
          return parse_failure{key, fmt::format("unknown field '{}' (fields: {})", f,
                                                fmt::join(field_names(), ", "))};
        }
      }
      if (key == "inc") {
        if (!has_inc) req.include.assign(field_names().size(), false);
        has_inc = true;
        for (std::size_t i = 0; i < field_names().size(); ++i) {
          if (std::find(list.begin(), list.end(), field_names()[i]) != list.end())
            req.include[i] = true;
        }
      } else {
        exc.insert(exc.end(), list.begin(), list.end());
      }
    } else if (key == "format" || key == "fmt") {
      auto f = lower(value);
      if (f == "prettyjson") f = "pretty";
      if (f != "json" && f != "pretty" && f != "csv") {
        return parse_failure{"format",
                             fmt::format("format must be json, pretty or csv, got '{}'", value)};
      }
      req.format = f;
    } else if (key == "noinfo") {
      req.noinfo = true;
    }
    // Unknown parameters are ignored, as randomuser.me does (e.g. cache busters).
  }
  for (std::size_t i = 0; i < field_names().size(); ++i) {
    if (std::find(exc.begin(), exc.end(), field_names()[i]) != exc.end()) req.include[i] = false;
  }
  return req;
}

void render(const api_request& req, const std::vector<gen::profile>& users, std::string& out) {
  if (req.format == "csv") {
    bool first = true;
    for (const auto& c : csv_columns()) {
      if (!included(req, c.group)) continue;
      if (!first) out.push_back(',');
      out += c.name;
      first = false;
    }
    out.push_back('\n');
    for (const auto& p : users) {
      first = true;
      for (const auto& c : csv_columns()) {
        if (!included(req, c.group)) continue;
        if (!first) out.push_back(',');
        csv_cell(c.get(p), out);
        first = false;
      }
      out.push_back('\n');
    }
    return;
  }
  json_writer w(out, req.format == "pretty");
  w.begin_object();
  w.begin_array("results");
  for (const auto& p : users) write_user(w, p, req.include);
  w.end_array();
  if (!req.noinfo) {
    w.begin_object("info");
    w.string("seed", req.seed);
    w.number("results", req.results);
    w.number("page", static_cast<std::int64_t>(req.page));
    w.string("version", api_version);
    w.end_object();
  }
  w.end_object();
}

void install_routes(web::router& routes, web::metrics_registry& metrics) {
  auto& served = metrics.get_counter("api_users_served_total", "Users returned by /api/");
  auto& rejected = metrics.get_counter("api_bad_requests_total", "Requests refused with 4xx");
  auto handle = [&served, &rejected](const web::request& r) -> web::response {
    thread_local std::mt19937_64 random_source{std::random_device{}()};
    auto parsed = parse_request(r, fmt::format("{:016x}", random_source()));
    if (auto* failure = std::get_if<parse_failure>(&parsed)) {
      rejected.inc();
      return web::json_error(400, failure->message, failure->parameter);
    }
    const auto& req = std::get<api_request>(parsed);
    gen::generator g({.seed = seed_from_string(req.seed),
                      .nationalities = req.nationalities,
                      .gender = req.gender});
    std::vector<gen::profile> users;
    users.reserve(static_cast<std::size_t>(req.results));
    std::uint64_t first = (req.page - 1) * static_cast<std::uint64_t>(req.results);
    bool with_login = included(req, "login");
    for (int i = 0; i < req.results; ++i) {
      users.push_back(g.make_profile(first + static_cast<std::uint64_t>(i)));
      if (with_login) g.fill_login_hashes(users.back());
    }
    web::response res;
    res.body.reserve(static_cast<std::size_t>(req.results) * 1400 + 256);
    render(req, users, res.body);
    res.content_type =
        req.format == "csv" ? "text/csv; charset=utf-8" : "application/json; charset=utf-8";
    res.headers.emplace_back("Access-Control-Allow-Origin", "*");
    served.inc(static_cast<std::uint64_t>(req.results));
    return res;
  };
  routes.add("GET", "/api", handle);
  routes.add_prefix("GET", "/api/", handle);
}

}  // namespace sluice::api
