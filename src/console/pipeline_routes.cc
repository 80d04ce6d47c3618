// The console's pipeline endpoints (API.md "Stack", "Schema registry", "Pipeline"):
// component health, the registry's subjects, the live flow, dead letters and replay,
// Cassandra, verify runs and the Airflow DAG runs.
#include <deque>
#include <fstream>

#include <fmt/format.h>

#include "base/url.h"
#include "console/console_state.h"
#include "pipeline/dlq.h"
#include "pipeline/user_query.h"
#include "pipeline/verify.h"
#include "stack/http_probe.h"

namespace sluice::console {
namespace {

web::response status(console::state& s) {
  nlohmann::json components = nlohmann::json::array();
  if (!s.options.stack.state_dir.empty()) {
    for (const auto& c : stack::status(s.options.stack)) {
      components.push_back({{"name", c.name},
                            {"running", c.running},
                            {"pid", c.pid},
                            {"port", c.port},
                            {"uptime_seconds", c.uptime_seconds},
                            {"rss_kib", c.rss_kib}});
    }
  }
  return json_answer(
      {{"components", components}, {"state_dir", s.options.stack.state_dir.string()}});
}

// GET on the registry; a JSON answer or the failure as an HTTP answer.
std::optional<nlohmann::json> registry_get(console::state& s, const std::string& path,
                                           std::optional<web::response>& failed) {
  auto url = s.options.registry_url + path;
  auto [code, body] = stack::http_get(url);
  if (code == 0) {
    failed = web::json_error(
        503,
        fmt::format("the schema registry is unreachable at {}", redact_url(s.options.registry_url)),
        "registry");
    return std::nullopt;
  }
  auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (code == 404) {
    failed = web::json_error(404,
                             fmt::format("the registry has no {}: {}", path,
                                         parsed.is_object() ? parsed.value("message", body) : body),
                             "subject");
    return std::nullopt;
  }
  if (code != 200 || parsed.is_discarded()) {
    failed = web::json_error(502,
                             fmt::format("the schema registry answered {} to GET {}: {}", code, url,
                                         body.substr(0, 300)),
                             "registry");
    return std::nullopt;
  }
  return parsed;
}

std::string url_escape(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

web::response registry_overview(console::state& s) {
  std::optional<web::response> failed;
  auto subjects = registry_get(s, "/subjects", failed);
  if (!subjects) return *failed;
  auto global = registry_get(s, "/config", failed);
  std::string compatibility = global ? global->value("compatibilityLevel", "") : "";
  failed.reset();
  nlohmann::json list = nlohmann::json::array();
  for (const auto& subject : *subjects) {
    auto name = subject.get<std::string>();
    auto versions = registry_get(s, "/subjects/" + url_escape(name) + "/versions", failed);
    if (!versions) return *failed;
    auto own = registry_get(s, "/config/" + url_escape(name), failed);
    failed.reset();  // a subject without its own level uses the global one
    list.push_back(
        {{"subject", name},
         {"versions", *versions},
         {"compatibility", own ? own->value("compatibilityLevel", compatibility) : compatibility}});
  }
  return json_answer({{"url", redact_url(s.options.registry_url)},
                      {"compatibility", compatibility},
                      {"subjects", list}});
}

web::response registry_version(console::state& s, const web::request& r) {
  // /api/v1/registry/subjects/{subject}/versions/{version}
  std::string rest = r.path.substr(std::string("/api/v1/registry/subjects/").size());
  auto marker = rest.rfind("/versions/");
  if (marker == std::string::npos)
    return web::json_error(404, "expected /subjects/{subject}/versions/{version}", "path");
  auto subject = rest.substr(0, marker);
  auto version = rest.substr(marker + 10);
  if (version != "latest" &&
      (version.empty() || version.find_first_not_of("0123456789") != std::string::npos)) {
    return web::json_error(400, fmt::format("version '{}' must be a number or latest", version),
                           "version");
  }
  std::optional<web::response> failed;
  auto v = registry_get(s, "/subjects/" + url_escape(subject) + "/versions/" + version, failed);
  if (!v) return *failed;
  auto schema = nlohmann::json::parse(v->value("schema", std::string("null")), nullptr, false);
  return json_answer(
      {{"subject", subject},
       {"version", v->value("version", 0)},
       {"id", v->value("id", 0)},
       {"schema_type", v->value("schemaType", std::string("AVRO"))},
       {"schema", schema.is_discarded() ? nlohmann::json(v->value("schema", "")) : schema}});
}

pipeline::dlq_settings dlq_settings(const console::state& s, bool read_only) {
  pipeline::dlq_settings d;
  d.kafka = read_only ? s.reader_kafka : s.options.kafka;
  d.dlq_topic = s.options.dlq_topic;
  return d;
}

// The dead letter's original value as the message browser would show it, shortened.
std::string value_preview(console::state& s, const pipeline::dead_letter_record& d) {
  raw_message m;
  m.value = d.value;
  auto view = s.decoder->view(m);
  std::string text;
  if (view["value"].is_string()) {
    text = view["value"].get<std::string>();
  } else if (!view["value"].is_null()) {
    text = view["value"].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else if (view["value_hex"].is_string()) {
    text = "0x" + view["value_hex"].get<std::string>();
  }
  return text.size() > 400 ? text.substr(0, 400) + "..." : text;
}

web::response dead_letters(console::state& s, const web::request& r) {
  std::optional<web::response> bad;
  auto samples = *int_param(r, "samples", 0, 50, 5, bad);
  if (bad) return *bad;
  std::int64_t records = 0, distinct = 0;
  std::map<std::string, std::int64_t> by_rule;
  std::map<std::string, std::deque<nlohmann::json>> newest;
  auto scanned = pipeline::scan_dead_letters(
      dlq_settings(s, true), [&](const pipeline::dead_letter_record& d) {
        ++records;
        if (!d.first_of_its_source) return;
        ++distinct;
        std::string_view rules = d.rules;
        while (!rules.empty()) {
          auto comma = rules.find(',');
          std::string rule(rules.substr(0, comma));
          rules = comma == std::string_view::npos ? std::string_view{} : rules.substr(comma + 1);
          ++by_rule[rule];
          auto& keep = newest[rule];
          std::string preview = value_preview(s, d);
          keep.push_back({{"partition", d.partition},
                          {"offset", d.offset},
                          {"timestamp_ms", d.timestamp_ms},
                          {"rules", d.rules},
                          {"fields", d.fields},
                          {"reason", d.reason},
                          {"source_topic", d.source_topic},
                          {"source_partition", d.source_partition},
                          {"source_offset", d.source_offset},
                          {"key", d.key ? nlohmann::json(*d.key) : nlohmann::json(nullptr)},
                          {"value_preview", preview}});
          while (static_cast<std::int64_t>(keep.size()) > samples) keep.pop_front();
        }
      });
  if (!scanned) {
    if (scanned.err().code == errc::not_found) {
      return web::json_error(
          404, fmt::format("the dead-letter topic {} does not exist", s.options.dlq_topic),
          "topic");
    }
    return engine_failure(scanned.err(), "Kafka");
  }
  release_memory();
  nlohmann::json sample_json = nlohmann::json::object();
  for (auto& [rule, list] : newest) {
    sample_json[rule] = nlohmann::json::array();
    for (auto it = list.rbegin(); it != list.rend(); ++it)
      sample_json[rule].push_back(std::move(*it));
  }
  return json_answer({{"topic", s.options.dlq_topic},
                      {"records", records},
                      {"distinct", distinct},
                      {"by_rule", by_rule},
                      {"samples", sample_json}});
}

web::response replay(console::state& s, const web::request& r) {
  std::optional<web::response> bad;
  auto body = json_body(r, bad);
  if (!body) return *bad;
  auto rule = body->value("rule", std::string());
  if (rule.empty())
    return web::json_error(400, "rule (a rule id, a prefix ending in '.', or *) is required",
                           "rule");
  if (body->contains("dry_run") && !(*body)["dry_run"].is_boolean()) {
    return web::json_error(400, "dry_run must be true or false", "dry_run");
  }
  pipeline::replay_settings settings;
  settings.dlq = dlq_settings(s, false);
  settings.rule = rule;
  settings.target_topic = s.options.raw_topic;
  settings.dry_run = body->value("dry_run", true);
  auto report = pipeline::replay_dead_letters(settings);
  if (!report) return engine_failure(report.err(), "Kafka");
  return json_answer({{"rule", rule},
                      {"dry_run", settings.dry_run},
                      {"matched", report->matched},
                      {"sent", report->sent},
                      {"failed", report->failed}});
}

pipeline::user_query_settings cassandra_settings(const console::state& s) {
  pipeline::user_query_settings q;
  q.cassandra = s.options.cassandra;
  q.keyspace = s.options.keyspace;
  return q;
}

constexpr std::int64_t cassandra_fresh_ms = 15000;

// One scan of the table into the cache (the caller marked it refreshing).
void refresh_cassandra(console::state& s) {
  auto overview = pipeline::overview(cassandra_settings(s), 100);
  std::lock_guard lock(s.cassandra.mutex);
  s.cassandra.refreshing = false;
  if (!overview) {
    s.cassandra.error = overview.err().message;
    return;
  }
  s.cassandra.have = true;
  s.cassandra.error.clear();
  s.cassandra.as_of_ms = now_ms();
  s.cassandra.rows = overview->rows;
  s.cassandra.latest = pipeline::rows_json(overview->latest);
  release_memory();
}

web::response cassandra_overview(console::state& s, const web::request& r) {
  std::optional<web::response> bad;
  auto latest = *int_param(r, "latest", 1, 100, 10, bad);
  if (bad) return *bad;
  std::unique_lock lock(s.cassandra.mutex);
  bool stale = now_ms() - s.cassandra.as_of_ms > cassandra_fresh_ms;
  if (!s.cassandra.have) {  // the first look: scan now, while the caller waits
    lock.unlock();
    auto overview = pipeline::overview(cassandra_settings(s), 100);
    if (!overview) return engine_failure(overview.err(), "Cassandra");
    lock.lock();
    s.cassandra.have = true;
    s.cassandra.as_of_ms = now_ms();
    s.cassandra.rows = overview->rows;
    s.cassandra.latest = pipeline::rows_json(overview->latest);
  } else if (stale && !s.cassandra.refreshing) {  // answer now, refresh behind
    if (s.cassandra.worker.joinable()) s.cassandra.worker.join();
    s.cassandra.refreshing = true;
    s.cassandra.worker = std::thread([&s] { refresh_cassandra(s); });
  }
  nlohmann::json rows = nlohmann::json::array();
  for (std::size_t i = 0; i < s.cassandra.latest.size() && static_cast<std::int64_t>(i) < latest;
       ++i) {
    rows.push_back(s.cassandra.latest[i]);
  }
  return json_answer({{"keyspace", s.options.keyspace},
                      {"rows", s.cassandra.rows},
                      {"as_of_ms", s.cassandra.as_of_ms},
                      {"refresh_error", s.cassandra.error},
                      {"latest", rows}});
}

web::response cassandra_user(console::state& s, const web::request& r) {
  auto id = r.path.substr(std::string("/api/v1/cassandra/users/").size());
  auto rows = pipeline::user_by_id(cassandra_settings(s), id);
  if (!rows) {
    if (rows.err().code == errc::invalid_argument) {
      return web::json_error(400, fmt::format("id '{}' is not a UUID", id), "id");
    }
    return engine_failure(rows.err(), "Cassandra");
  }
  auto json = pipeline::rows_json(*rows);
  return json_answer(
      {{"found", !json.empty()}, {"row", json.empty() ? nlohmann::json(nullptr) : json[0]}});
}

nlohmann::json verify_state(console::state& s) {
  std::lock_guard lock(s.verify.mutex);
  return {{"state", s.verify.state},
          {"started_ms", s.verify.started_ms},
          {"finished_ms", s.verify.finished_ms},
          {"report", s.verify.report},
          {"progress", s.verify.progress},
          {"error", s.verify.error}};
}

web::response start_verify(console::state& s) {
  std::lock_guard lock(s.verify.mutex);
  if (s.verify.state == "running")
    return web::json_error(409, "a verify run is in progress", "verify");
  if (s.verify.worker.joinable()) s.verify.worker.join();  // the previous run has finished
  s.verify.state = "running";
  s.verify.started_ms = now_ms();
  s.verify.finished_ms = 0;
  s.verify.error.clear();
  s.verify.progress.clear();
  s.verify.worker = std::thread([&s] {
    pipeline::verify_settings v;
    v.kafka = s.options.kafka;
    v.source_topic = s.options.raw_topic;
    v.dlq_topic = s.options.dlq_topic;
    v.group_id = s.options.group_id;
    v.registry_url = s.options.registry_url;
    v.cassandra = s.options.cassandra;
    v.keyspace = s.options.keyspace;
    v.timeout = std::chrono::seconds(60);
    v.progress = [&s](const std::string& line) {
      std::lock_guard progress_lock(s.verify.mutex);
      s.verify.progress = line;
    };
    auto report = pipeline::verify(v);
    std::lock_guard done_lock(s.verify.mutex);
    s.verify.finished_ms = now_ms();
    if (report) {
      s.verify.state = "done";
      s.verify.report = pipeline::verify_report_json(*report, v);
    } else {
      s.verify.state = "failed";
      s.verify.error = report.err().message;
    }
  });
  return json_answer({{"state", "running"}, {"started_ms", s.verify.started_ms}}, 202);
}

// The last runs of the project's DAGs through Airflow's REST API (a JWT from /auth/token
// with the generated admin password, which stays on the server).
web::response airflow_runs(console::state& s) {
  auto unavailable = [](const std::string& reason) {
    return json_answer(
        {{"available", false}, {"reason", reason}, {"dags", nlohmann::json::array()}});
  };
  const auto& file = s.options.airflow_password_file;
  std::ifstream in(file);
  if (file.empty() || !in) {
    return unavailable(fmt::format("Airflow is not part of this stack (no admin password file{})",
                                   file.empty() ? "" : " at " + file.string()));
  }
  auto passwords = nlohmann::json::parse(in, nullptr, false);
  if (!passwords.is_object() || !passwords.contains("admin")) {
    return unavailable(fmt::format("{} does not hold an admin password", file.string()));
  }
  std::string login =
      nlohmann::json{{"username", "admin"}, {"password", passwords["admin"]}}.dump();
  auto [code, body] = stack::http_request(s.options.airflow_url + "/auth/token", &login, {});
  if (code == 0)
    return unavailable(
        fmt::format("Airflow's API server does not answer at {}", s.options.airflow_url));
  auto token = nlohmann::json::parse(body, nullptr, false);
  if ((code != 200 && code != 201) || !token.is_object() || !token.contains("access_token")) {
    return unavailable(fmt::format("Airflow refused the console's login (HTTP {})", code));
  }
  std::vector<std::string> auth = {"Authorization: Bearer " +
                                   token["access_token"].get<std::string>()};
  nlohmann::json dags = nlohmann::json::array();
  for (const char* dag : {"sluice_user_stream", "randomuser_to_kafka"}) {
    auto [runs_code, runs_body] =
        stack::http_request(fmt::format("{}/api/v2/dags/{}/dagRuns?order_by=-logical_date&limit=5",
                                        s.options.airflow_url, dag),
                            nullptr, auth);
    auto runs = nlohmann::json::parse(runs_body, nullptr, false);
    nlohmann::json out = nlohmann::json::array();
    if (runs_code == 200 && runs.is_object()) {
      for (const auto& run : runs.value("dag_runs", nlohmann::json::array())) {
        auto run_id = run.value("dag_run_id", std::string());
        nlohmann::json verify = nullptr;
        auto [ti_code, ti_body] =
            stack::http_request(fmt::format("{}/api/v2/dags/{}/dagRuns/{}/taskInstances",
                                            s.options.airflow_url, dag, url_escape(run_id)),
                                nullptr, auth);
        auto tis = nlohmann::json::parse(ti_body, nullptr, false);
        if (ti_code == 200 && tis.is_object()) {
          for (const auto& ti : tis.value("task_instances", nlohmann::json::array())) {
            if (ti.value("task_id", std::string()).find("verify") != std::string::npos)
              verify = ti.value("state", nlohmann::json());
          }
        }
        auto text = [&](const char* k) {
          return run.contains(k) ? run[k] : nlohmann::json(nullptr);
        };
        out.push_back({{"run_id", run_id},
                       {"state", text("state")},
                       {"logical_date", text("logical_date")},
                       {"start_date", text("start_date")},
                       {"end_date", text("end_date")},
                       {"verify", verify}});
      }
    }
    dags.push_back({{"dag_id", dag}, {"runs", out}, {"http_status", runs_code}});
  }
  return json_answer(
      {{"available", true}, {"reason", ""}, {"url", s.options.airflow_url}, {"dags", dags}});
}

}  // namespace

void add_pipeline_routes(console::state& s, web::router& routes) {
  routes.add("GET", "/api/v1/status",
             guarded(s, false, [&s](const web::request&) { return status(s); }));
  routes.add("GET", "/api/v1/registry",
             guarded(s, false, [&s](const web::request&) { return registry_overview(s); }));
  routes.add_prefix(
      "GET", "/api/v1/registry/subjects/",
      guarded(s, false, [&s](const web::request& r) { return registry_version(s, r); }));
  routes.add("GET", "/api/v1/flow", guarded(s, false, [&s](const web::request& r) {
               std::optional<web::response> bad;
               auto seconds = *int_param(r, "seconds", 1, 600, 120, bad);
               if (bad) return *bad;
               return json_answer(s.flow->to_json(static_cast<int>(seconds)));
             }));
  routes.add("GET", "/api/v1/dlq",
             guarded(s, false, [&s](const web::request& r) { return dead_letters(s, r); }));
  routes.add("POST", "/api/v1/dlq/replay",
             guarded(s, true, [&s](const web::request& r) { return replay(s, r); }));
  routes.add("GET", "/api/v1/cassandra",
             guarded(s, false, [&s](const web::request& r) { return cassandra_overview(s, r); }));
  routes.add_prefix(
      "GET", "/api/v1/cassandra/users/",
      guarded(s, false, [&s](const web::request& r) { return cassandra_user(s, r); }));
  routes.add("GET", "/api/v1/verify",
             guarded(s, false, [&s](const web::request&) { return json_answer(verify_state(s)); }));
  routes.add("POST", "/api/v1/verify",
             guarded(s, true, [&s](const web::request&) { return start_verify(s); }));
  routes.add("GET", "/api/v1/airflow",
             guarded(s, false, [&s](const web::request&) { return airflow_runs(s); }));
}

}  // namespace sluice::console
