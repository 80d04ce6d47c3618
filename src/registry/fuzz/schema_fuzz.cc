// libFuzzer target for the registry's schema handling (registry/schema.h): the input is
// one schema text, or two separated by the first 0 byte. Each part is parsed (nesting
// limits, avro-c, defaults) and its identity taken; one schema is resolved against
// itself, two are checked for FULL compatibility both ways (the memoised, budgeted
// resolution walk). Any crash, sanitizer report or run past -timeout is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "registry/schema.h"

namespace {

using namespace sluice::registry;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto split = input.find('\0');
  const auto first_text = input.substr(0, split);
  (void)identity_of(first_text);
  auto first = avro_schema::parse(first_text);
  if (split == std::string_view::npos) {
    if (first) (void)resolution_problems(*first, *first);
    return 0;
  }
  const auto second_text = input.substr(split + 1);
  (void)identity_of(second_text);
  auto second = avro_schema::parse(second_text);
  if (first && second) {
    (void)compatibility_problems(compatibility::full, *first, {{1, &*second}});
  }
  return 0;
}
