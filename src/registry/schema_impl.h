// Internal to the registry's schema code (schema.cc, resolver.cc): what an avro_schema
// holds besides avro-c's parsed form.
#pragma once

#include <avro.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "registry/schema.h"

namespace sluice::registry {

struct avro_schema::impl {
  avro_schema_t schema = nullptr;
  std::string normalized;
  std::string identity;
  // Full names of records -> names of their fields that declare a default.
  std::map<std::string, std::set<std::string>> field_defaults;
  // Full names of enums that declare a default symbol.
  std::set<std::string> enum_defaults;
  // Full names of records -> their field names in order (avro-c 1.11 cannot tell how
  // many fields a record has: index lookups past the end return a stale field).
  std::map<std::string, std::vector<std::string>> record_fields;

  impl() = default;
  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;
  ~impl() {
    if (schema != nullptr) avro_schema_decref(schema);
  }
};

}  // namespace sluice::registry
