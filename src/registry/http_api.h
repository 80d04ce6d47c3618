// The HTTP face of `sluice registry`: routes every path to the REST API (service.h),
// behind HTTP basic authentication when it is configured (auth.h), and counts requests
// in the server's /metrics. /health and /metrics are answered by web::server before any
// route, so they stay open with authentication on.
#pragma once

#include <optional>

#include "registry/auth.h"
#include "registry/service.h"
#include "web/metrics.h"
#include "web/server.h"

namespace sluice::registry {

/// Adds the API under "/" (any method) to `routes`; the API decodes the raw target
/// itself (a subject may contain an encoded '/'). With `auth`, a request without the
/// configured credentials is answered 401 with a WWW-Authenticate challenge, logged at
/// info level (method and reason only) and counted in
/// sluice_registry_auth_refused_total{reason}. Every answer is counted in
/// sluice_registry_requests_total{method,status}. `api` and `metrics` must outlive the
/// routes.
void add_api_routes(web::router& routes, service& api, web::metrics_registry& metrics,
                    std::optional<basic_auth> auth);

}  // namespace sluice::registry
