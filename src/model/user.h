// The User record of contract/user.avsc (sluice.v1.User) as the pipeline carries it:
// twelve nullable strings, exactly as a source sends them. No I/O here: the generator,
// the codecs, the rules engine and the sinks all share this type without depending
// on one another.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::model {

/// The fields of sluice.v1.User, in schema order.
enum class field : std::uint8_t {
  id,
  first_name,
  last_name,
  email,
  phone,
  gender,
  dob,
  address,
  postcode,
  username,
  registered_date,
  picture,
};

inline constexpr std::size_t field_count = 12;

inline constexpr std::array<std::string_view, field_count> field_names = {
    "id",  "first_name", "last_name", "email",    "phone",           "gender",
    "dob", "address",    "postcode",  "username", "registered_date", "picture",
};

constexpr std::string_view name_of(field f) {
  return field_names[static_cast<std::size_t>(f)];
}

/// Looks a field up by its schema name.
std::optional<field> field_by_name(std::string_view name);

/// One user profile as carried on the raw topic. A missing field is std::nullopt.
struct user_record {
  std::array<std::optional<std::string>, field_count> values;

  const std::optional<std::string>& get(field f) const {
    return values[static_cast<std::size_t>(f)];
  }
  std::optional<std::string>& get(field f) { return values[static_cast<std::size_t>(f)]; }
  void set(field f, std::string value) { get(f) = std::move(value); }
  void clear(field f) { get(f).reset(); }

  bool operator==(const user_record&) const = default;
};

/// Strong type for a user id as text (the record key on Kafka).
struct user_id {
  std::string value;
  bool operator==(const user_id&) const = default;
};

}  // namespace sluice::model
