// `sluice api`: serve the randomuser.me-compatible API (src/api) until SIGINT/SIGTERM.
#include <signal.h>

#include <memory>

#include "api/randomuser.h"
#include "base/error.h"
#include "base/log.h"
#include "cli/verb.h"
#include "web/server.h"

namespace sluice::cli {
namespace {

int run_api(web::server_options options) {
  if (options.threads < 1 || options.threads > 256) {
    throw fatal_error(fmt::format("--threads: '{}' must be from 1 to 256", options.threads));
  }
  options.service_name = "sluice-api";
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // worker threads inherit the mask

  web::server server(options, web::router{});
  api::install_routes(server.routes(), server.metrics());
  server.start();
  log::get("api")->info("randomuser-compatible API on http://{}:{}/api/ (/health, /metrics)",
                        options.host, server.port());
  int received = 0;
  sigwait(&signals, &received);
  log::get("api")->info("signal {}: stopping", received);
  server.stop();
  return 0;
}

SLUICE_VERB("api", [](CLI::App& root) -> std::function<int()> {
  auto options = std::make_shared<web::server_options>();
  options->port = 8080;
  auto* cmd = root.add_subcommand("api", "serve the randomuser.me-compatible HTTP API");
  cmd->add_option("--host", options->host, "address to listen on");
  cmd->add_option("--port", options->port, "port (0 picks a free one)");
  cmd->add_option("--threads", options->threads, "worker threads");
  return [options] { return run_api(*options); };
});

}  // namespace
}  // namespace sluice::cli
