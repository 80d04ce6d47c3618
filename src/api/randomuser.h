// The randomuser.me-compatible API: `GET /api/` with results, seed, page, gender, nat,
// inc, exc, format and noinfo, answering the same JSON shape (results[] of nested
// name/location/login/dob/registered/picture objects, plus info), so a client written
// for randomuser.me works against sluice unchanged. Also CSV, YAML-less "pretty" JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/result.h"
#include "gen/generator.h"
#include "web/server.h"

namespace sluice::api {

/// The top-level profile fields randomuser lets inc/exc choose from, in output order.
const std::vector<std::string>& field_names();

struct api_request {
  int results = 1;
  std::string seed;  // as given (or generated); hashed into the generator seed
  std::uint64_t page = 1;
  std::optional<std::string> gender;
  std::vector<std::string> nationalities;
  std::vector<bool> include;    // per field_names() entry
  std::string format = "json";  // json, pretty, csv
  bool noinfo = false;
};

struct parse_failure {
  std::string parameter, message;
};

/// Validates the query. Errors name the parameter. `random_seed` is used when none is given.
std::variant<api_request, parse_failure> parse_request(const web::request& r,
                                                       const std::string& random_seed);

/// The generator seed for a randomuser seed string (FNV-1a 64).
std::uint64_t seed_from_string(const std::string& seed);

/// Renders one page of users in the requested format into `out`.
void render(const api_request& req, const std::vector<gen::profile>& users, std::string& out);

/// Registers GET /api/ (and versioned prefixes like /api/1.4/) on the router; counts
/// served users in the server's metrics.
void install_routes(web::router& routes, web::metrics_registry& metrics);

}  // namespace sluice::api
