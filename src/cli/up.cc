// `sluice up`, `sluice down` and `sluice status`: the no-Docker launcher (src/stack).
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "cli/stack_options.h"
#include "cli/verb.h"
#include "stack/stack.h"

namespace sluice::cli {
namespace {
namespace fs = std::filesystem;

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
