// Named loggers, one per subsystem ("gen", "cql.pool", "process"), on spdlog. Levels
// come from configuration (SLUICE_LOG_LEVEL or --log-level), never from globals in
// the subsystems themselves.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace sluice::log {

/// Returns the logger with this name, creating it (stderr, shared level) on first use.
std::shared_ptr<spdlog::logger> get(std::string_view name);

/// Sets the level of every logger, existing and future ("trace".."off").
/// Throws fatal_error naming the value when it is not a level.
void set_level(std::string_view level);

}  // namespace sluice::log
