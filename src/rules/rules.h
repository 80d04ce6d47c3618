// The rules engine: compiles the data contract's validation rules (contract/rules.yaml)
// once, then classifies each user_record as valid or as the list of rules it breaks.
//
// The semantics are those written at the top of contract/rules.yaml: each field's
// checks run in order and stop at the field's first failure; `required` means present,
// not null and not blank; an absent optional field skips its checks; `today` and `now`
// are the validation clock in UTC (passed in, so tests are deterministic). Every
// violation names its stable rule id, which the dead-letter topic carries.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "model/user.h"

namespace sluice::rules {

/// One broken rule. The views point into the rule_set, which outlives verdicts.
struct violation {
  std::string_view rule;  // e.g. "dob.range"
  model::field field;
  std::string_view reason;  // short human text, e.g. "date outside 1900-01-01..today"
};

/// The outcome of validating one record. Empty (and allocation-free) when valid.
struct verdict {
  std::vector<violation> violations;
  bool valid() const { return violations.empty(); }
  /// "id.uuid,email.format": the rule ids joined by commas.
  std::string rule_ids() const;
};

struct compiled_check;

/// The compiled rules of one contract version.
class rule_set {
 public:
  /// Loads and compiles a rules file. Throws fatal_error naming the file, the field and
  /// the rule when the file is malformed (unknown check, missing key, bad regex, ...).
  static rule_set load(const std::filesystem::path& file);
  /// Same from text; `origin` names the source in error messages.
  static rule_set parse(const std::string& yaml_text, const std::string& origin);

  verdict validate(const model::user_record& record, std::chrono::sys_seconds now) const;

  int version() const { return version_; }
  const std::string& contract() const { return contract_; }
  /// Every rule id, in file order.
  std::vector<std::string> rule_ids() const;

 private:
  std::string contract_;
  int version_ = 0;
  // Checks per field, in field order; shared so a rule_set is cheap to copy.
  std::shared_ptr<const std::vector<std::vector<compiled_check>>> checks_;
};

/// The pattern behind the `email` check (also used by the Spark job).
inline constexpr std::string_view email_pattern =
    R"(^[A-Za-z0-9._%+'-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}$)";
/// The pattern behind the `url` check (also used by the Spark job).
inline constexpr std::string_view url_pattern =
    R"(^https?://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?(?:[/?#][^\s]*)?$)";

/// "YYYY-MM-DD" (a real calendar day) to days since 1970-01-01: Cassandra's `date`.
result<std::int32_t> parse_date_days(std::string_view text);
/// "YYYY-MM-DDTHH:MM:SS[.fraction]Z" to milliseconds since the epoch: Cassandra's `timestamp`.
result<std::int64_t> parse_timestamp_ms(std::string_view text);
/// Number of Unicode code points in UTF-8 text (continuation bytes not counted).
std::size_t code_points(std::string_view utf8);
/// True when the text is well-formed UTF-8.
bool valid_utf8(std::string_view text);

}  // namespace sluice::rules
