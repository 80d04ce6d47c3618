// libFuzzer target for the registry state machine (registry/state.h) replaying _schemas:
// the input is a sequence of records, key and value separated by 0 bytes (key 0 value 0
// key 0 value ...; an empty or missing value is a tombstone), applied in order to a
// fresh state, which is then queried. apply() must refuse what it cannot use, never throw
// (an escaping exception made every later start exit), and never leave the state
// inconsistent. Any crash, uncaught exception or sanitizer report is a bug.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "registry/state.h"

namespace {

using namespace sluice::registry;

std::vector<log_record> records_of(std::string_view input) {
  std::vector<log_record> out;
  while (!input.empty()) {
    auto key_end = input.find('\0');
    log_record record{std::string(input.substr(0, key_end)), std::nullopt};
    if (key_end == std::string_view::npos) {
      out.push_back(std::move(record));
      break;
    }
    input.remove_prefix(key_end + 1);
    auto value_end = input.find('\0');
    auto value = input.substr(0, value_end);
    if (!value.empty()) record.value = std::string(value);
    out.push_back(std::move(record));
    if (value_end == std::string_view::npos) break;
    input.remove_prefix(value_end + 1);
  }
  return out;
}

void query(const state& st) {
  for (const auto& subject : st.subjects(true)) {
    for (const auto& e : st.live_versions(subject)) {
      if (st.schema_by_id(e.id) == nullptr) __builtin_trap();  // a version without its schema
      (void)st.find_schema(subject, e.identity);
      (void)st.usages(e.id);
    }
    (void)st.find_version(subject, -1);
    if (st.next_version(subject) < 1) __builtin_trap();
    (void)st.effective_level(subject);
  }
  if (st.next_id() < 1) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  state st;
  for (const auto& record : records_of({reinterpret_cast<const char*>(data), size})) {
    (void)st.apply(record);
  }
  query(st);
  return 0;
}
