// `up`, `down` and `status`: start the components in order, wait for each to really
// answer, run the set-up steps, and report where everything is.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <thread>

#include "base/error.h"
#include "stack/components.h"
#include "stack/secure.h"
#include "stack/setup.h"
#include "stack/stack.h"

namespace sluice::stack {
namespace fs = std::filesystem;
namespace {

using clock = std::chrono::steady_clock;

fs::path pid_file(const stack_config& config, const component& c) {
  return config.run_dir() / (c.name + ".pid");
}

/// The pid of the component when the process in its pid file is alive and is ours: the
/// same start time as recorded (a pid reused since is another process, even one whose
/// command line holds the same words) and the component's command line.
std::optional<int> running_pid(const stack_config& config, const component& c) {
  auto record = read_pid_record(pid_file(config, c));
  if (!record || !is_recorded_process(*record)) return std::nullopt;
  if (process_command_line(record->pid, 1 << 20).find(c.command_marker) == std::string::npos)
    return std::nullopt;
  return record->pid;
}

std::string upper(std::string text) {
  for (auto& ch : text) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return text;
}

void start(const stack_config& config, const component& c) {
  // Port 0: the component listens nowhere (nothing to check).
  if (c.port != 0 && port_open(config.host, c.port)) {
    throw fatal_error(fmt::format(
        "port {} for {} is already taken by {}: stop that process, or choose another port "
        "with SLUICE_{}_PORT or --{}-port",
        c.port, c.name, port_holder(c.port), upper(c.name), c.name));
  }
  if (c.prepare) c.prepare();
  int pid = spawn_detached(c.command());
  write_pid_file(pid_file(config, c), pid);
  fmt::print(stderr, "  started {} (pid {}, {}log {})\n", c.name, pid,
             c.port != 0 ? fmt::format("port {}, ", c.port) : std::string(),
             (config.log_dir() / (c.name + ".log")).string());
}

void wait_ready(const stack_config& config, const component& c, int pid) {
  auto started = clock::now();
  auto next_note = started + std::chrono::seconds(10);
  while (!c.ready()) {
    auto log = config.log_dir() / (c.name + ".log");
    if (child_exited(pid)) {
      throw fatal_error(fmt::format("{} exited during start-up; last lines of {}:\n{}", c.name,
                                    log.string(), tail_file(log, 20)));
    }
    auto now = clock::now();
    if (now - started > config.start_timeout) {
      throw fatal_error(fmt::format("{} did not become ready within {} s; last lines of {}:\n{}",
                                    c.name, config.start_timeout.count(), log.string(),
                                    tail_file(log, 20)));
    }
    if (now > next_note) {
      fmt::print(stderr, "  waiting for {} ({} s)\n", c.name,
                 std::chrono::duration_cast<std::chrono::seconds>(now - started).count());
      next_note = now + std::chrono::seconds(10);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  fmt::print(stderr, "  {} ready ({:.1f} s)\n", c.name,
             std::chrono::duration<double>(clock::now() - started).count());
}

void bring_up(const stack_config& config, const std::vector<const component*>& group,
              std::vector<std::string>& skipped) {
  std::vector<std::pair<const component*, int>> waiting;
  for (const auto* c : group) {
    if (auto pid = running_pid(config, *c)) {
      fmt::print(stderr, "  {} already running (pid {})\n", c->name, *pid);
      waiting.emplace_back(c, *pid);
      continue;
    }
    if (c->skip_reason) {
      auto reason = c->skip_reason();
      if (!reason.empty()) {
        skipped.push_back(c->name);
        fmt::print(stderr, "  skipping {}: {}\n", c->name, reason);
        continue;
      }
    }
    start(config, *c);
    waiting.emplace_back(c, *read_pid_file(pid_file(config, *c)));
  }
  for (const auto& [c, pid] : waiting) wait_ready(config, *c, pid);
}

/// The state's folders. Logs and generated configuration may quote data and settings:
/// owner only (0700). Data and run (pid files, PostgreSQL's socket folder) let the
/// `postgres` user through to its own sub-folder but list nothing (0711).
void make_state_folders(const stack_config& config) {
  using fs::perms;
  const perms owner_only = perms::owner_all;
  const perms pass_through = perms::owner_all | perms::group_exec | perms::others_exec;
  fs::create_directories(config.lib_dir());
  for (const auto& [dir, mode] :
       {std::pair{config.log_dir(), owner_only}, std::pair{config.conf_dir(), owner_only},
        std::pair{config.data_dir(), pass_through}, std::pair{config.run_dir(), pass_through}}) {
    fs::create_directories(dir);
    fs::permissions(dir, mode, fs::perm_options::replace);
  }
  for (const auto& entry : fs::directory_iterator(config.log_dir())) {  // older logs too
    if (entry.is_regular_file())
      fs::permissions(entry.path(), perms::owner_read | perms::owner_write,
                      fs::perm_options::replace);
  }
}

/// The profile (plain or secure) the state folder's engines were made with, checked
/// against the configuration: Kafka's SCRAM users and Cassandra's roles exist only in a
/// stack made secure, so switching needs `down --purge`. Also refuses the parts the
/// secured profile does not run yet.
void check_profile(const stack_config& config) {
  if (config.secure) {
    std::vector<std::string> refused;
    if (config.airflow) refused.push_back("--airflow false");
    if (config.spark_cluster) refused.push_back("--spark-cluster false");
    if (!refused.empty()) {
      throw fatal_error(
          fmt::format("--secure: Airflow and the Spark standalone cluster (its own RPC has no "
                      "authentication here) do not run on a secured stack yet; add {}",
                      fmt::join(refused, " ")));
    }
  }
  auto marker = config.data_dir() / "profile";
  std::string want = config.secure ? "secure" : "plain";
  std::string have;
  if (fs::exists(marker)) {
    have = read_text(marker);
  } else if (fs::exists(config.data_dir() / "kafka" / "meta.properties")) {
    have = "plain";  // made before profiles were recorded
  }
  if (!have.empty() && have != want) {
    throw fatal_error(fmt::format(
        "the stack in {} was made {}; it cannot be started {} (its Kafka users and Cassandra "
        "roles differ): `sluice down --purge` first, or give another --state-dir",
        config.state_dir.string(), have, want == "secure" ? "with --secure" : "without --secure"));
  }
  write_text(marker, want);
}

}  // namespace

int up(const stack_config& config) {
  auto began = clock::now();
  make_state_folders(config);
  check_profile(config);
  if (config.secure) ensure_secure_profile(config);
  fmt::print(stderr, "sluice up: state in {}\n", config.state_dir.string());
  fmt::print(stderr, "[1/5] checking prerequisites\n");
  ensure_prerequisites(config);

  auto components = make_components(config);
  std::vector<const component*> engines, services, pipeline;
  for (const auto& c : components) {
    if (c.name == "registry") {
      services.push_back(&c);
    } else if (c.name == "process" || c.name == "produce" || c.name == "spark" || c.name == "ui" ||
               c.name.rfind("airflow-", 0) == 0) {
      pipeline.push_back(&c);
    } else {
      engines.push_back(&c);
    }
  }
  std::vector<std::string> skipped;
  fmt::print(stderr, "[2/5] starting engines\n");
  bring_up(config, engines, skipped);
  fmt::print(stderr, "[3/5] starting services\n");
  bring_up(config, services, skipped);
  fmt::print(stderr, "[4/5] topics, Cassandra schema, databases, Avro schema\n");
  create_topics(config);
  apply_cassandra_schema(config);
  prepare_postgres_databases(config);
  prepare_spark_outputs(config);
  if (std::find(skipped.begin(), skipped.end(), "registry") == skipped.end()) {
    register_contract_schema(config);
  }
  // The pipeline needs the topics and the table, so it starts last: one processor and
  // a producer streaming users at a modest rate until `down`.
  fmt::print(stderr, "[5/5] starting the pipeline\n");
  bring_up(config, pipeline, skipped);

  fmt::print(stderr, "\nsluice is up in {:.1f} s:\n",
             std::chrono::duration<double>(clock::now() - began).count());
  fmt::print("  kafka      {}:{}  (topics users.raw, users.dlq)\n", config.host, config.kafka_port);
  fmt::print("  cassandra  {}:{}  (keyspace sluice, table users)\n", config.host,
             config.cassandra_port);
  fmt::print("  postgres   {}:{}  (database airflow, role airflow)\n", config.host,
             config.postgres_port);
  if (std::find(skipped.begin(), skipped.end(), "registry") == skipped.end()) {
    fmt::print("  registry   http://{}:{}  (subject users.raw-value)\n", config.host,
               config.registry_port);
  }
  if (std::find(skipped.begin(), skipped.end(), "process") == skipped.end()) {
    fmt::print("  process    http://{}:{}/metrics  (users.raw -> sluice.users, users.dlq)\n",
               config.host, config.process_metrics_port);
  }
  if (std::find(skipped.begin(), skipped.end(), "produce") == skipped.end()) {
    fmt::print("  produce    http://{}:{}/metrics  ({} users/s into users.raw)\n", config.host,
               config.process_metrics_port + 1, config.produce_rate);
  }
  if (std::find(skipped.begin(), skipped.end(), "spark") == skipped.end()) {
    bool both = config.processor == "both";
    fmt::print(
        "  spark      http://{}:{}/metrics  (users.raw -> {}.users, {}; group sluice-spark)\n",
        config.host, config.spark_metrics_port, both ? "sluice_spark" : "sluice",
        both ? "users.dlq.spark" : "users.dlq");
  }
  if (config.spark_cluster) {
    fmt::print("  spark      {}  (standalone master; web UI http://{}:{}, worker UI :{})\n",
               config.spark_master_url(), config.host, config.spark_master_ui_port,
               config.spark_worker_ui_port);
  }
  if (std::find(skipped.begin(), skipped.end(), "airflow-api") == skipped.end()) {
    fmt::print("  airflow    http://{}:{}/  (UI and REST API; user admin, password in {})\n",
               config.host, config.airflow_api_port, airflow_admin_password_file(config).string());
    fmt::print(
        "  airflow    DAGs sluice_user_stream, randomuser_to_kafka from {} (new DAGs start "
        "paused)\n",
        (config.repo_root / "airflow" / "dags").string());
  }
  if (std::find(skipped.begin(), skipped.end(), "ui") == skipped.end()) {
    fmt::print(
        "  ui         http://{}:{}/  (the console: topics, messages, groups, registry, "
        "live flow, dead letters, verify)\n",
        config.host, config.ui_port);
  }
  if (config.secure) {
    fmt::print(
        "  secure     user {} everywhere; passwords in {}, CA {} (Kafka SASL_SSL: "
        "SCRAM-SHA-512, and PLAIN for sluice's own clients on this librdkafka: {}; Cassandra "
        "TLS and password; registry basic auth)\n",
        kSecureUser, (config.state_dir / "secrets").string(),
        (config.state_dir / "tls" / "ca.pem").string(), kafka_client_mechanism());
  }
  fmt::print("  logs       {}\n", config.log_dir().string());
  return 0;
}

int down(const stack_config& config, bool purge, const std::vector<std::string>& only) {
  auto components = make_components(config);
  for (const auto& name : only) {
    bool known = std::any_of(components.begin(), components.end(),
                             [&](const component& c) { return c.name == name; });
    if (!known) {
      std::string names;
      for (const auto& c : components) names += (names.empty() ? "" : ", ") + c.name;
      throw fatal_error(
          fmt::format("--only: no component named '{}' (components: {})", name, names));
    }
  }
  if (purge && !only.empty()) throw fatal_error("--purge wipes every component: drop --only");
  int failures = 0;
  for (auto it = components.rbegin(); it != components.rend(); ++it) {
    if (!only.empty() && std::find(only.begin(), only.end(), it->name) == only.end()) continue;
    auto pid = running_pid(config, *it);
    if (!pid) {
      std::error_code ec;
      fs::remove(pid_file(config, *it), ec);
      continue;
    }
    fmt::print(stderr, "  stopping {} (pid {})\n", it->name, *pid);
    if (stop_process(*pid, it->stop_signal, it->stop_grace)) {
      fs::remove(pid_file(config, *it));
    } else {
      fmt::print(stderr, "  {} (pid {}) did not stop\n", it->name, *pid);
      ++failures;
    }
  }
  if (purge && failures == 0) {
    fmt::print(stderr, "  purging {}\n", config.data_dir().string());
    fs::remove_all(config.data_dir());
    fs::remove_all(config.conf_dir());
  }
  fmt::print(stderr, "sluice down: {}\n", failures ? "some processes did not stop" : "stopped");
  return failures ? 1 : 0;
}

std::vector<component_status> status(const stack_config& config) {
  std::vector<component_status> all;
  for (const auto& c : make_components(config)) {
    auto pid = running_pid(config, c);
    // A part this configuration leaves out is listed only while it runs.
    if (!pid && c.skip_reason && !c.skip_reason().empty() &&
        (c.name.rfind("spark", 0) == 0 || c.name.rfind("airflow", 0) == 0))
      continue;
    component_status s;
    s.name = c.name;
    s.port = c.port;
    s.log = config.log_dir() / (c.name + ".log");
    if (pid) {
      s.running = true;
      s.pid = *pid;
      s.uptime_seconds = process_uptime_seconds(*pid);
      s.rss_kib = process_rss_kib(*pid);
    }
    all.push_back(s);
  }
  return all;
}

}  // namespace sluice::stack
