// The injectable defects: their names, the one rule each breaks, and how each corrupts
// an otherwise valid record.
#include <array>

#include "gen/generator.h"
#include "rules/rules.h"

namespace sluice::gen {
namespace {

struct kind_info {
  bad_kind kind;
  std::string_view name, rule;
};

constexpr std::array<kind_info, 15> kinds = {{
    {bad_kind::none, "none", ""},
    {bad_kind::bad_uuid, "bad_uuid", "id.uuid"},
    {bad_kind::bad_email, "bad_email", "email.format"},
    {bad_kind::future_dob, "future_dob", "dob.range"},
    {bad_kind::missing_email, "missing_email", "email.required"},
    {bad_kind::empty_first_name, "empty_first_name", "first_name.required"},
    {bad_kind::long_last_name, "long_last_name", "last_name.max_length"},
    {bad_kind::bad_dob_format, "bad_dob_format", "dob.format"},
    {bad_kind::bad_picture_url, "bad_picture_url", "picture.url"},
    {bad_kind::bad_gender, "bad_gender", "gender.enum"},
    {bad_kind::future_registration, "future_registration", "registered_date.not_future"},
    {bad_kind::bad_phone, "bad_phone", "phone.format"},
    {bad_kind::bad_username, "bad_username", "username.format"},
    {bad_kind::bad_registered_format, "bad_registered_format", "registered_date.format"},
    {bad_kind::bad_postcode, "bad_postcode", "postcode.format"},
}};

const kind_info& info(bad_kind kind) {
  return kinds[static_cast<std::size_t>(kind)];
}

/// The same date or instant in the year 2999 (a common year, so 29 February becomes
/// the 28th and the value stays well-formed: only the range rule breaks).
std::string in_year_2999(std::string value) {
  if (value.size() < 10) return value;
  value.replace(0, 4, "2999");
  if (value.compare(5, 5, "02-29") == 0) value[9] = '8';
  return value;
}

}  // namespace

const std::vector<bad_kind>& all_bad_kinds() {
  static const std::vector<bad_kind> all = [] {
    std::vector<bad_kind> out;
    for (const auto& k : kinds) {
      if (k.kind != bad_kind::none) out.push_back(k.kind);
    }
    return out;
  }();
  return all;
}

std::string_view name_of(bad_kind kind) {
  return info(kind).name;
}
std::string_view rule_of(bad_kind kind) {
  return info(kind).rule;
}

std::optional<bad_kind> kind_by_name(std::string_view name) {
  for (const auto& k : kinds) {
    if (k.name == name) return k.kind;
  }
  return std::nullopt;
}

void inject(bad_kind kind, model::user_record& r) {
  using model::field;
  auto value = [&r](field f) -> std::string { return r.get(f).value_or(""); };
  switch (kind) {
    case bad_kind::none:
      break;
    case bad_kind::bad_uuid:
      r.set(field::id, value(field::id).substr(0, 35) + "z");
      break;
    case bad_kind::bad_email: {
      auto email = value(field::email);
      auto at = email.find('@');
      r.set(field::email, at == std::string::npos ? email : email.replace(at, 1, "#"));
      break;
    }
    case bad_kind::future_dob:
      r.set(field::dob, in_year_2999(value(field::dob)));
      break;
    case bad_kind::missing_email:
      r.clear(field::email);
      break;
    case bad_kind::empty_first_name:
      r.set(field::first_name, "");
      break;
    case bad_kind::long_last_name: {
      std::string name = value(field::last_name);
      while (rules::code_points(name) <= 120) name += "-" + value(field::last_name);
      r.set(field::last_name, name);
      break;
    }
    case bad_kind::bad_dob_format: {
      auto dob = value(field::dob);  // YYYY-MM-DD -> DD/MM/YYYY
      r.set(field::dob, dob.substr(8, 2) + "/" + dob.substr(5, 2) + "/" + dob.substr(0, 4));
      break;
    }
    case bad_kind::bad_picture_url:
      r.set(field::picture, "portraits/" + value(field::id).substr(0, 8) + ".jpg");
      break;
    case bad_kind::bad_gender:
      r.set(field::gender, "unspecified");
      break;
    case bad_kind::future_registration:
      r.set(field::registered_date, in_year_2999(value(field::registered_date)));
      break;
    case bad_kind::bad_phone:
      r.set(field::phone, "call me maybe");
      break;
    case bad_kind::bad_username:
      r.set(field::username, "_" + value(field::username));
      break;
    case bad_kind::bad_registered_format:
      r.set(field::registered_date, value(field::registered_date).substr(0, 10));
      break;
    case bad_kind::bad_postcode:
      r.set(field::postcode, value(field::postcode) + "!?");
      break;
  }
}

}  // namespace sluice::gen
