// Building the stack configuration shared by the stack-aware verbs (see stack_options.h).
#include "cli/stack_options.h"

#include <algorithm>
#include <cstdlib>

#include "base/error.h"
#include "cli/verb.h"

namespace sluice::cli {
namespace fs = std::filesystem;

fs::path self_path() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path("sluice") : p;
}

fs::path find_repo_root() {
  if (const char* home = std::getenv("SLUICE_HOME")) return home;
  for (auto start : {fs::current_path(), self_path().parent_path()}) {
    for (auto dir = start; !dir.empty(); dir = dir.parent_path()) {
      if (fs::exists(dir / "contract" / "user.avsc")) return dir;
      if (dir == dir.parent_path()) break;
    }
  }
  throw fatal_error(
      "cannot find the sluice repository (contract/user.avsc): run from inside it or set "
      "SLUICE_HOME");
}

void add_stack_flags(CLI::App* cmd, stack_options& opts) {
  cmd->add_option("--config", opts.config_file, "settings file (key = value lines)");
  for (const auto& key : stack::config_keys()) {
    std::string flag = "--" + key;
    for (auto& ch : flag) {
      if (ch == '_') ch = '-';
    }
    auto* option = cmd->add_option_function<std::string>(
        flag,
        [&opts, key](const std::string& v) {
          opts.flags[key] = v.empty() && key == "secure" ? "true" : v;
        },
        "overrides setting " + key);
    if (key == "secure") option->expected(0, 1);  // `--secure` alone means true
  }
}

stack::stack_config build_config(const stack_options& opts) {
  stack::stack_config config;
  config.repo_root = find_repo_root();
  config.state_dir = config.repo_root / ".stack";
  config.cache_dir = config.repo_root / ".stack" / "lib";
  config.sluice_bin = self_path();
  if (!opts.config_file.empty()) {
    stack::load_config_file(config, opts.config_file);
  } else if (fs::exists(config.repo_root / "sluice.conf")) {
    stack::load_config_file(config, config.repo_root / "sluice.conf");
  }
  stack::load_environment(config);
  for (const auto& [key, value] : opts.flags) {
    auto flag = "--" + key;  // as typed: the config key kafka_port is the flag --kafka-port
    std::replace(flag.begin(), flag.end(), '_', '-');
    stack::set_config_value(config, key, value, flag);
  }
  config.install = !opts.no_install;
  config.registry_available = std::any_of(verbs().begin(), verbs().end(),
                                          [](const verb_entry& v) { return v.name == "registry"; });
  if (config.state_dir.is_relative()) config.state_dir = fs::absolute(config.state_dir);
  if (config.cache_dir.is_relative()) config.cache_dir = fs::absolute(config.cache_dir);
  return config;
}

}  // namespace sluice::cli
