// `sluice spark`: runs the Spark Structured Streaming processor (spark/sluice_spark) in
// its own venv, with the stack's addresses as defaults. Every flag after `spark` goes to
// the job (see `sluice spark --help`); the venv and jars are installed when missing.
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/error.h"
#include "cli/stack_options.h"
#include "cli/verb.h"
#include "stack/components.h"

extern char** environ;

namespace sluice::cli {
namespace {

/// The job's flags: the stack's addresses first, so that the user's own flags win.
std::vector<std::string> job_argv(const stack::stack_config& c,
                                  const std::vector<std::string>& user_args) {
  std::vector<std::string> argv = {(c.spark_venv() / "bin" / "python").string(), "-m",
                                   "sluice_spark.job"};
  auto stack_flags = stack::spark_job_stack_flags(c);
  argv.insert(argv.end(), stack_flags.begin(), stack_flags.end());
  argv.insert(argv.end(), user_args.begin(), user_args.end());
  return argv;
}

int run_spark(const std::vector<std::string>& user_args) {
  auto config = build_config(stack_options{});
  std::filesystem::create_directories(config.log_dir());
  stack::ensure_spark_environment(config);
  auto argv = job_argv(config, user_args);
  for (const auto& variable : stack::spark_environment(config)) {
    auto eq = variable.find('=');
    setenv(variable.substr(0, eq).c_str(), variable.substr(eq + 1).c_str(), 1);
  }
  std::vector<char*> raw;
  for (auto& arg : argv) raw.push_back(arg.data());
  raw.push_back(nullptr);
  execve(raw[0], raw.data(), environ);
  throw fatal_error(
      fmt::format("cannot run the Spark job with {}: {}", argv[0], std::strerror(errno)));
}

SLUICE_VERB("spark", [](CLI::App& root) -> std::function<int()> {
  auto* cmd = root.add_subcommand(
      "spark",
      "Spark Structured Streaming processor: users.raw -> validate -> Cassandra or the DLQ "
      "(flags: sluice spark --help)");
  cmd->prefix_command();  // every argument goes to the job, --help included
  cmd->set_help_flag();
  return [cmd] { return run_spark(cmd->remaining()); };
});

}  // namespace
}  // namespace sluice::cli
