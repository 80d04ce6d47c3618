// Logger registry on top of spdlog's own registry.
#include "base/log.h"

#include <mutex>

#include <spdlog/sinks/stdout_color_sinks.h>

#include "base/error.h"

namespace sluice::log {
namespace {
std::mutex registry_mutex;
}

std::shared_ptr<spdlog::logger> get(std::string_view name) {
  std::lock_guard lock(registry_mutex);
  std::string key(name);
  if (auto existing = spdlog::get(key)) return existing;
  auto logger = spdlog::stderr_color_mt(key);
  logger->set_level(spdlog::get_level());
  return logger;
}

void set_level(std::string_view level) {
  auto parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") {
    throw fatal_error(fmt::format(
        "--log-level: '{}' is not a level (trace, debug, info, warn, error, critical, off)",
        level));
  }
  spdlog::set_level(parsed);
  spdlog::apply_all([parsed](const std::shared_ptr<spdlog::logger>& l) { l->set_level(parsed); });
}

}  // namespace sluice::log
