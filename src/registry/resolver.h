// Internal to the registry's schema code: Avro schema resolution between two parsed
// schemas (can the reader read the writer's data?), memoised and bounded (see
// resolver.cc).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "registry/schema.h"

namespace sluice::registry {

/// Steps a compatibility check may still take, shared by the resolutions of one request.
class check_budget {
 public:
  explicit check_budget(std::uint64_t steps) : total_(steps), left_(steps) {}
  /// Takes `n` steps; false (and from then on exhausted()) once there are not enough.
  bool spend(std::uint64_t n = 1) {
    if (left_ < n) {
      left_ = 0;
      exhausted_ = true;
      return false;
    }
    left_ -= n;
    return true;
  }
  bool exhausted() const { return exhausted_; }
  std::uint64_t total() const { return total_; }
  std::uint64_t spent() const { return total_ - left_; }

 private:
  std::uint64_t total_;
  std::uint64_t left_;
  bool exhausted_ = false;
};

/// The problems a reader has reading a writer's data (empty: none), or an error
/// (errc::invalid_argument) when the budget runs out or the types nest deeper than
/// max_resolution_depth.
result<std::vector<std::string>> resolve(const avro_schema::impl& reader,
                                         const avro_schema::impl& writer, check_budget& budget);

}  // namespace sluice::registry
