// The user generator: realistic, deterministic user profiles in the shape randomuser.me
// returns, and their mapping onto the contract's User record (contract/user.avsc).
//
// Every profile is a pure function of (seed, index): record i does not depend on any
// other record, so the API can serve page p directly, generation can run in parallel,
// and `--seed S` prints the same users on every machine and every day (ages and dates
// are relative to a fixed `as_of` date, not to the clock). With `bad_ratio` > 0 some
// records are corrupted by an injected kind, each of which breaks exactly one rule of
// contract/rules.yaml, so tests can predict every dead-letter reason.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/user.h"

namespace sluice::gen {

/// One user as randomuser.me describes it.
struct profile {
  std::string gender;  // "male" or "female"
  struct {
    std::string title, first, last;
  } name;
  struct {
    int street_number = 0;
    std::string street_name, city, state, country, postcode;
    std::string latitude, longitude;
    std::string timezone_offset, timezone_description;
  } location;
  std::string email;
  struct {
    std::string uuid, username, password, salt, md5, sha1, sha256;
  } login;
  std::string dob_date;  // ISO 8601 instant, e.g. 1993-07-20T09:44:18.674Z
  int dob_age = 0;
  std::string registered_date;
  int registered_age = 0;
  std::string phone, cell;
  std::string id_name, id_value;  // id_value empty means null (as randomuser does)
  std::string picture_large, picture_medium, picture_thumbnail;
  std::string nat;
};

/// An injected defect. Each breaks exactly the one rule rule_of() names.
enum class bad_kind : std::uint8_t {
  none,
  bad_uuid,
  bad_email,
  future_dob,
  missing_email,
  empty_first_name,
  long_last_name,
  bad_dob_format,
  bad_picture_url,
  bad_gender,
  future_registration,
  bad_phone,
  bad_username,
  bad_registered_format,
  bad_postcode,
};

/// Every injectable kind (bad_kind::none excluded).
const std::vector<bad_kind>& all_bad_kinds();
std::string_view name_of(bad_kind kind);
/// The rule id of contract/rules.yaml the kind breaks ("" for none).
std::string_view rule_of(bad_kind kind);
std::optional<bad_kind> kind_by_name(std::string_view name);

struct options {
  std::uint64_t seed = 1;
  std::vector<std::string> nationalities;  // randomuser codes; empty = all
  std::optional<std::string> gender;       // "male" / "female"; empty = both
  double bad_ratio = 0.0;                  // 0..1
  std::string as_of = "2026-01-01";        // the generator's "today" (YYYY-MM-DD)
};

/// A generated record and the defect injected into it, if any.
struct generated {
  model::user_record record;
  bad_kind kind = bad_kind::none;
};

/// Nationality codes the generator knows, e.g. AU, BR, CA, ...
const std::vector<std::string>& supported_nationalities();

class generator {
 public:
  /// Throws fatal_error naming the option when a value is invalid (unknown nat, ratio
  /// outside 0..1, bad as_of date, unknown gender).
  explicit generator(options opts);

  profile make_profile(std::uint64_t index) const;
  /// Computes login.salt/md5/sha1/sha256 as randomuser does (only the API needs them).
  void fill_login_hashes(profile& p) const;
  generated make_record(std::uint64_t index) const;

  const options& settings() const { return opts_; }

 private:
  profile build(std::uint64_t index, bool full) const;
  options opts_;
  std::vector<std::size_t> nat_indices_;
  std::int64_t as_of_seconds_ = 0;
};

/// The mapping onto the contract's twelve fields.
model::user_record to_record(const profile& p);

/// Applies an injected defect to a good record.
void inject(bad_kind kind, model::user_record& record);

}  // namespace sluice::gen
