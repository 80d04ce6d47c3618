// What every long-running verb (process, produce) shares: a stop flag raised by
// SIGINT/SIGTERM, and an optional /metrics + /health server on its own port.
#pragma once

#include <signal.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "base/log.h"
#include "web/server.h"

namespace sluice::cli {

/// Blocks SIGINT/SIGTERM in every thread and returns a flag that a waiting thread raises
/// when one arrives. Call before starting other threads.
inline const std::atomic<bool>& stop_on_signals(std::string logger_name) {
  static std::atomic<bool> stop{false};
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::thread([signals, logger_name]() mutable {
    int received = 0;
    sigwait(&signals, &received);
    log::get(logger_name)->info("signal {}: finishing, then stopping", received);
    stop = true;
  }).detach();
  return stop;
}

/// A metrics server on 127.0.0.1:port, or none when port is 0; `registry()` is the
/// server's registry, or a private one when there is no server.
class metrics_endpoint {
 public:
  metrics_endpoint(int port, std::string service_name) {
    if (port <= 0) return;
    server_ =
        std::make_unique<web::server>(web::server_options{.host = "127.0.0.1",
                                                          .port = port,
                                                          .threads = 1,
                                                          .service_name = std::move(service_name)},
                                      web::router{});
    server_->start();
  }
  web::metrics_registry& registry() { return server_ ? server_->metrics() : fallback_; }

 private:
  web::metrics_registry fallback_;
  std::unique_ptr<web::server> server_;
};

}  // namespace sluice::cli
