// Field lookup by name for the User record.
#include "model/user.h"

namespace sluice::model {

std::optional<field> field_by_name(std::string_view name) {
  for (std::size_t i = 0; i < field_count; ++i) {
    if (field_names[i] == name) return static_cast<field>(i);
  }
  return std::nullopt;
}

}  // namespace sluice::model
