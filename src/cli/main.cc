// The `sluice` binary: builds the command line from the registered verbs, runs the
// chosen one, and turns configuration errors into one clear line and exit code 2.
#include <cstdio>
#include <exception>
#include <map>

#include <fmt/format.h>

#include "base/error.h"
#include "base/log.h"
#include "cli/verb.h"

namespace sluice::cli {
std::vector<verb_entry>& verbs() {
  static std::vector<verb_entry> all;
  return all;
}
}  // namespace sluice::cli

int main(int argc, char** argv) {
  CLI::App app{"sluice: a real-time pipeline for user-profile events"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "sluice 0.1.0");
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, critical, off")
      ->envname("SLUICE_LOG_LEVEL");

  std::map<CLI::App*, std::function<int()>> runners;
  for (auto& entry : sluice::cli::verbs()) {
    auto before = app.get_subcommands({});
    auto run = entry.install(app);
    for (auto* sub : app.get_subcommands({})) {
      if (std::find(before.begin(), before.end(), sub) == before.end()) runners[sub] = run;
    }
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    sluice::log::set_level(log_level);
    for (auto* sub : app.get_subcommands()) {
      auto it = runners.find(sub);
      if (it != runners.end()) return it->second();
    }
    fmt::print(stderr, "sluice: no verb chosen (try --help)\n");
    return 2;
  } catch (const sluice::fatal_error& e) {
    fmt::print(stderr, "sluice: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "sluice: unexpected error: {}\n", e.what());
    return 1;
  }
}
