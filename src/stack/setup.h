// Set-up steps the components share (src/stack/components.cc): reading and filling
// templates, quiet commands with a log, Maven-resolved jars and Python venvs.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "stack/stack.h"

namespace sluice::stack {

std::string read_text(const std::filesystem::path& file);
void write_text(const std::filesystem::path& file, const std::string& text);
/// Replaces each @KEY@ of `text` by its value.
std::string fill(std::string text, const std::vector<std::pair<std::string, std::string>>& vars);
/// One progress line on stderr, indented under `up`'s step.
void say(const std::string& line);
/// Runs a command to completion with its output appended to `log`; returns its exit code.
int run_quiet(std::vector<std::string> argv, const std::filesystem::path& log);
/// Appends `more` to `argv`.
void append(std::vector<std::string>& argv, const std::vector<std::string>& more);
/// Runs stack/tools/cql.py `args` against the stack's Cassandra (with the secured
/// profile's user, password on the environment, and CA); returns its exit code.
int run_cql_tool(const stack_config& config, const std::vector<std::string>& args,
                 const std::filesystem::path& log);
void apt_install(const stack_config& config, const std::vector<std::string>& packages);
/// Resolves stack/<engine>/pom.xml's jars into lib/<engine>, once per pom content.
void ensure_jars(const stack_config& config, const std::string& engine);
/// Creates `venv` and installs `requirements` into it, once per requirements content.
void ensure_python_venv(const stack_config& config, const std::filesystem::path& venv,
                        const std::filesystem::path& requirements, const std::string& what);

}  // namespace sluice::stack
