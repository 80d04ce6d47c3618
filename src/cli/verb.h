// How a `sluice` verb plugs into the command line: each verb lives in its own file
// (src/cli/<verb>.cc) and registers itself with SLUICE_VERB, so adding a verb never
// touches main.cc. A verb's run function returns the process exit code; configuration
// errors are thrown as sluice::fatal_error and printed by main as one clear line.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace sluice::cli {

/// Installs a subcommand on the root app and returns the function to run when chosen.
using verb_installer = std::function<std::function<int()>(CLI::App& root)>;

struct verb_entry {
  std::string name;
  verb_installer install;
};

/// All verbs registered so far (filled during static initialisation).
std::vector<verb_entry>& verbs();

struct verb_registrar {
  verb_registrar(std::string name, verb_installer install) {
    verbs().push_back({std::move(name), std::move(install)});
  }
};

#define SLUICE_CLI_CONCAT_INNER(a, b) a##b
#define SLUICE_CLI_CONCAT(a, b) SLUICE_CLI_CONCAT_INNER(a, b)
/// SLUICE_VERB("gen", [](CLI::App& root) { auto* cmd = root.add_subcommand(...); ...
///   return [opts] { return run(opts); }; });
#define SLUICE_VERB(name, installer) \
  static ::sluice::cli::verb_registrar SLUICE_CLI_CONCAT(sluice_verb_, __LINE__)(name, installer)

}  // namespace sluice::cli
