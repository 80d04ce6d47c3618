// libFuzzer target for the registry's REST API logic (registry/service.h), the code every
// HTTP request reaches: the input is a sequence of requests, each a method byte (GET,
// POST, PUT, DELETE by its value modulo 4), a target (path and optional ?query) ended by a
// 0 byte, and a body ended by a 0 byte, served in order by a fresh service over an
// in-memory log. handle() must answer every request (the HTTP layer catches nothing, so
// an escaping exception ends the process), with a JSON body (or the raw schema text of
// the /schema endpoints); then the log is replayed into a second service, which must
// accept every record the first one wrote. Any crash or sanitizer report is a bug.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "registry/service.h"

namespace {

using namespace sluice::registry;

class memory_log : public log_writer {
 public:
  sluice::result<void> append(const log_record& record) override {
    records.push_back(record);
    return sluice::ok();
  }
  std::vector<log_record> records;
};

// The next 0-terminated part of `input` (all of it if there is no 0 byte).
std::string_view take_part(std::string_view& input) {
  auto end = input.find('\0');
  auto part = input.substr(0, end);
  input.remove_prefix(end == std::string_view::npos ? input.size() : end + 1);
  return part;
}

std::vector<api_request> requests_of(std::string_view input) {
  static constexpr std::array<const char*, 4> methods{"GET", "POST", "PUT", "DELETE"};
  std::vector<api_request> out;
  while (!input.empty() && out.size() < 16) {
    auto method = methods[static_cast<unsigned char>(input.front()) % methods.size()];
    input.remove_prefix(1);
    auto target = take_part(input);
    auto body = take_part(input);
    auto q = target.find('?');
    out.push_back({method, std::string(target.substr(0, q)),
                   q == std::string_view::npos ? "" : std::string(target.substr(q + 1)),
                   std::string(body)});
  }
  return out;
}

bool raw_schema_answer(const api_request& req) {
  return req.method == "GET" && req.path.ends_with("/schema");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  memory_log log;
  service svc(log, 20'000);  // a smaller budget keeps each input fast
  for (const auto& req : requests_of({reinterpret_cast<const char*>(data), size})) {
    auto answer = svc.handle(req);
    if (answer.status == 200 && raw_schema_answer(req)) continue;
    if (!nlohmann::json::accept(answer.body)) __builtin_trap();  // not JSON
  }
  memory_log replay_log;
  service restarted(replay_log);
  for (const auto& record : log.records) {
    if (!restarted.replay(record)) __builtin_trap();  // wrote a record it cannot read back
  }
  return 0;
}
