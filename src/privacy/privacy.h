// Personal-data controls for stored rows: pseudonymisation of chosen profile fields with
// a keyed HMAC-SHA-256, so rows stay joinable on a field (the same value always gives the
// same pseudonym under one key) without Cassandra ever holding the raw value.
//
// The pseudonym of a value is the lowercase hex of HMAC-SHA-256(key, value's UTF-8
// bytes), 64 characters; anyone holding the key can recompute it
// (`printf %s VALUE | openssl dgst -sha256 -hmac KEY`), nobody without it can. The row
// also stores the key's id, so a rotated key's rows can be told apart. The Spark job
// (spark/sluice_spark) computes exactly the same pseudonyms and key ids.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "model/user.h"

namespace sluice::privacy {

/// The environment variable a key is read from when no source is named.
inline constexpr std::string_view default_key_env = "SLUICE_PSEUDONYM_KEY";
/// Keys shorter than this are refused (HMAC-SHA-256 wants at least 128 bits).
inline constexpr std::size_t min_key_bytes = 16;

/// The fields a pseudonym may replace: the free-text columns. The id is the row key and
/// dob/registered_date are typed columns, so those are refused.
std::vector<model::field> pseudonymisable_fields();

/// Parses a comma-separated list such as "email,phone"; an unknown, refused or empty
/// entry is an error naming it (and, for unknown ones, listing the allowed names).
/// Duplicates are folded. The result is in schema order.
result<std::vector<model::field>> parse_field_list(std::string_view list);

/// Where the key comes from: a file (its bytes, one trailing "\n" or "\r\n" removed) or an
/// environment variable. Exactly one of the two is set.
struct key_source {
  std::string env_name;
  std::filesystem::path file;
  std::string describe() const;  // "file /x/key" or "environment variable NAME"
};

/// Reads the key; errors name the source and, for a short key, its length, never a byte
/// of the key itself.
result<std::string> read_key(const key_source& source);

/// The default key id: the first 16 hex characters of HMAC-SHA-256(key,
/// "sluice-pseudonym-key-id"). Identifies the key without revealing it.
std::string derive_key_id(std::string_view key);

/// A key id given by the operator: 1 to 64 characters of [A-Za-z0-9._-].
result<void> check_key_id(std::string_view id);

/// Lowercase hex of HMAC-SHA-256(key, value).
std::string pseudonym(std::string_view key, std::string_view value);

/// Replaces the chosen fields of valid records with their pseudonyms. The key is wiped
/// from memory when the pseudonymiser goes.
class pseudonymiser {
 public:
  /// Fails when the key is shorter than min_key_bytes, the key id is malformed or no
  /// field is chosen. An empty key id means derive_key_id(key).
  static result<pseudonymiser> create(std::vector<model::field> fields, std::string key,
                                      std::string key_id);
  ~pseudonymiser();
  pseudonymiser(pseudonymiser&& other) noexcept;
  pseudonymiser& operator=(pseudonymiser&& other) noexcept;
  pseudonymiser(const pseudonymiser&) = delete;
  pseudonymiser& operator=(const pseudonymiser&) = delete;

  /// The record with each chosen, present field replaced; absent fields stay absent.
  void apply(model::user_record& record) const;

  const std::string& key_id() const { return key_id_; }
  const std::vector<model::field>& fields() const { return fields_; }

 private:
  struct keyed_mac;  // an OpenSSL HMAC context keyed once, copied for each value
  pseudonymiser() = default;
  void wipe();
  std::vector<model::field> fields_;
  std::string key_;
  std::string key_id_;
  std::shared_ptr<keyed_mac> mac_;
};

}  // namespace sluice::privacy
