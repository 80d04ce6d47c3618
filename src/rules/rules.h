// The rules engine: compiles the data contract's validation rules (contract/rules.yaml)
// once, then classifies each user_record as valid or as the list of rules it breaks.
//
// The semantics are those written at the top of contract/rules.yaml: each field's
// checks run in order and stop at the field's first failure; `required` means present,
// not null and not blank; an absent optional field skips its checks; `now` is the
// record's own Kafka timestamp and `today` its UTC date (the caller passes the timestamp,
// the engine never reads a clock, so a verdict is a pure function of the record). Every
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

  /// `now` is the record's Kafka timestamp floored to whole seconds: `now` in
  /// timestamp ranges, and its UTC calendar date is `today` in date ranges.
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
/// True when the text holds a control character: a code point in U+0000..U+001F (TAB,
/// LF and CR included) or U+007F (DEL); the `no_control` check. In well-formed UTF-8
/// these code points are single bytes and every byte of a longer sequence is >= 0x80,
/// so a byte scan sees exactly them; C1 controls (U+0080..U+009F) are not included.
bool has_control_char(std::string_view utf8);
/// True for the two UUIDs that name nothing (RFC 9562): the nil UUID
/// 00000000-0000-0000-0000-000000000000 and the max UUID
/// ffffffff-ffff-ffff-ffff-ffffffffffff, hex digits in any case; the `uuid_identity`
/// check fails on them. Any other text, UUID or not, is false.
bool is_nil_or_max_uuid(std::string_view text);

}  // namespace sluice::rules
