// The registry's routes on the shared HTTP server, with optional basic auth (see
// http_api.h).
#include "registry/http_api.h"

#include <string>
#include <utility>

#include "base/log.h"
#include "web/http_text.h"

namespace sluice::registry {
namespace {

constexpr const char* refused_metric = "sluice_registry_auth_refused_total";
constexpr const char* refused_help = "Registry requests refused 401 by basic auth, by reason";

void count_answer(web::metrics_registry& metrics, const web::request& req, int status) {
  metrics
      .get_counter("sluice_registry_requests_total", "Registry API requests by method and status",
                   {{"method", std::string(web::method_label(req.method))},
                    {"status", std::to_string(status)}})
      .inc();
}

web::response to_http(api_response answer) {
  web::response out;
  out.status = answer.status;
  out.content_type = registry_content_type;
  out.body = std::move(answer.body);
  return out;
}

// The 401 for a refused request, counted and logged without what was sent.
web::response refuse(web::metrics_registry& metrics, const web::request& req,
                     auth_verdict verdict) {
  metrics
      .get_counter(refused_metric, refused_help, {{"reason", std::string(verdict_name(verdict))}})
      .inc();
  log::get("registry")
      ->info("refused a {} request (HTTP 401): credentials {}", web::method_label(req.method),
             verdict_name(verdict));
  auto out = to_http(unauthorized(verdict));
  out.headers.emplace_back("WWW-Authenticate", auth_challenge);
  return out;
}

web::response serve(service& api, const web::request& req) {
  auto q = req.target.find('?');
  api_request call{req.method, req.target.substr(0, q),
                   q == std::string::npos ? "" : req.target.substr(q + 1), req.body};
  return to_http(api.handle(call));
}

}  // namespace

void add_api_routes(web::router& routes, service& api, web::metrics_registry& metrics,
                    std::optional<basic_auth> auth) {
  if (auth) {
    // Every reason shows in /metrics from the start, at 0.
    for (auto verdict : {auth_verdict::missing, auth_verdict::malformed, auth_verdict::wrong}) {
      metrics.get_counter(refused_metric, refused_help,
                          {{"reason", std::string(verdict_name(verdict))}});
    }
  }
  routes.add_prefix("*", "/", [&api, &metrics, auth = std::move(auth)](const web::request& req) {
    if (auth) {
      auto verdict = auth->check(req.header("authorization"));
      if (verdict != auth_verdict::accepted) {
        auto out = refuse(metrics, req, verdict);
        count_answer(metrics, req, out.status);
        return out;
      }
    }
    auto out = serve(api, req);
    count_answer(metrics, req, out.status);
    return out;
  });
}

}  // namespace sluice::registry
