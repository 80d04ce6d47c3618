// The stack settings every stack-aware verb shares (`up`, `down`, `status`, `spark`):
// the setting flags, and the configuration built from defaults, file, environment, flags.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "stack/stack.h"

namespace sluice::cli {

struct stack_options {
  std::string config_file;
  std::map<std::string, std::string> flags;
  bool no_install = false;
  bool purge = false;
  std::vector<std::string> only;
  std::string output = "text";
};

/// The running binary's path (/proc/self/exe).
std::filesystem::path self_path();
/// The repository root: SLUICE_HOME, else the nearest folder above the current
/// directory or above the binary that holds contract/user.avsc.
std::filesystem::path find_repo_root();
/// --config and one --<key> flag per stack setting.
void add_stack_flags(CLI::App* cmd, stack_options& opts);
/// Defaults, then the config file (or sluice.conf at the root), the environment, the flags.
stack::stack_config build_config(const stack_options& opts);

}  // namespace sluice::cli
