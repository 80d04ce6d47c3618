// `sluice up`, `sluice down` and `sluice status`: the no-Docker launcher (src/stack).
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "cli/verb.h"
#include "stack/stack.h"

namespace sluice::cli {
namespace {
namespace fs = std::filesystem;

fs::path self_path() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path("sluice") : p;
}

/// The repository root: SLUICE_HOME, else the nearest folder above the current
/// directory or above the binary that holds contract/user.avsc.
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

struct stack_options {
  std::string config_file;
  std::map<std::string, std::string> flags;
  bool no_install = false;
  bool purge = false;
  std::vector<std::string> only;
  std::string output = "text";
};

void add_stack_flags(CLI::App* cmd, stack_options& opts) {
  cmd->add_option("--config", opts.config_file, "settings file (key = value lines)");
  for (const auto& key : stack::config_keys()) {
    std::string flag = "--" + key;
    for (auto& ch : flag) {
      if (ch == '_') ch = '-';
    }
    cmd->add_option_function<std::string>(
        flag, [&opts, key](const std::string& v) { opts.flags[key] = v; },
        "overrides setting " + key);
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

int print_status(const stack::stack_config& config, const std::string& output) {
  auto all = stack::status(config);
  bool all_running = true;
  if (output == "json") {
    auto list = nlohmann::json::array();
    for (const auto& s : all) {
      list.push_back({{"name", s.name},
                      {"running", s.running},
                      {"pid", s.pid},
                      {"port", s.port},
                      {"uptime_seconds", s.uptime_seconds},
                      {"rss_kib", s.rss_kib},
                      {"log", s.log.string()}});
    }
    fmt::print("{}\n", list.dump(2));
  } else {
    fmt::print("{:<10} {:<8} {:>8} {:>6} {:>10} {:>10}  {}\n", "COMPONENT", "STATE", "PID", "PORT",
               "UPTIME", "RSS", "LOG");
    for (const auto& s : all) {
      fmt::print("{:<10} {:<8} {:>8} {:>6} {:>9}s {:>8}MB  {}\n", s.name,
                 s.running ? "running" : "stopped", s.running ? std::to_string(s.pid) : "-", s.port,
                 s.uptime_seconds, s.rss_kib / 1024, s.log.string());
    }
  }
  for (const auto& s : all) all_running = all_running && s.running;
  return all_running ? 0 : 3;
}

SLUICE_VERB("up", [](CLI::App& root) -> std::function<int()> {
  auto opts = std::make_shared<stack_options>();
  auto* cmd = root.add_subcommand("up", "install what is missing and start the local stack");
  add_stack_flags(cmd, *opts);
  cmd->add_flag("--no-install", opts->no_install, "never run apt-get or mvn");
  return [opts] { return stack::up(build_config(*opts)); };
});

SLUICE_VERB("down", [](CLI::App& root) -> std::function<int()> {
  auto opts = std::make_shared<stack_options>();
  auto* cmd = root.add_subcommand("down", "stop what `sluice up` started");
  add_stack_flags(cmd, *opts);
  cmd->add_flag("--purge", opts->purge, "also delete all data (topics, tables, schemas)");
  cmd->add_option("--only", opts->only, "stop only these components (e.g. --only kafka)")
      ->delimiter(',');
  return [opts] { return stack::down(build_config(*opts), opts->purge, opts->only); };
});

SLUICE_VERB("status", [](CLI::App& root) -> std::function<int()> {
  auto opts = std::make_shared<stack_options>();
  auto* cmd =
      root.add_subcommand("status", "state, pid, port, uptime and memory of each component");
  add_stack_flags(cmd, *opts);
  cmd->add_option("--output", opts->output, "text or json")->check(CLI::IsMember({"text", "json"}));
  return [opts] { return print_status(build_config(*opts), opts->output); };
});

}  // namespace
}  // namespace sluice::cli
