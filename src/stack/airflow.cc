// The Airflow parts of the stack (airflow/LAUNCH.md is the recipe): a venv installed from
// airflow/requirements.lock, secrets generated once into 0600 files under
// <state>/airflow/secrets and read by Airflow through its *_CMD settings (so no secret is
// on a command line or in an environment variable), `airflow db migrate` before the
// daemons, and the api-server, scheduler, dag-processor and triggerer as supervised
// components, everything on loopback (the log servers are not started).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/hex.h"
#include "stack/components.h"
#include "stack/http_probe.h"
#include "stack/secrets.h"
#include "stack/setup.h"

namespace sluice::stack {
namespace fs = std::filesystem;
namespace {

// The pip the lock was frozen with (LAUNCH.md section 1): Airflow 3.3.2's dependency set
// resolves without the upstream constraints file with it.
constexpr const char* kPipVersion = "26.3";

fs::path airflow_bin(const stack_config& c) {
  return c.airflow_venv() / "bin" / "airflow";
}

fs::path secrets_dir(const stack_config& c) {
  return c.airflow_dir() / "secrets";
}

template <typename Make>
std::string ensure_secret(const stack_config& c, const std::string& name, Make make) {
  return stack::ensure_secret(secrets_dir(c), name, make);
}

/// A path as one shlex token (Airflow splits *_CMD with shlex.split, no shell).
std::string shell_quote(const std::string& text) {
  if (text.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-") ==
      std::string::npos) {
    return text;
  }
  std::string out = "'";
  for (char ch : text) out += ch == '\'' ? std::string("'\"'\"'") : std::string(1, ch);
  return out + "'";
}

std::string read_command(const fs::path& file) {
  return "cat " + shell_quote(file.string());
}

/// Every secret file, generated when missing; the connection URL follows the settings.
void ensure_airflow_secrets(const stack_config& c) {
  auto password = airflow_database_password(c);
  write_secret_file(secrets_dir(c) / "sql_alchemy_conn",
                    fmt::format("postgresql+psycopg2://airflow:{}@{}:{}/airflow", password, c.host,
                                c.postgres_port));
  ensure_secret(c, "jwt_secret", [] { return base64url(random_bytes(32)); });
  ensure_secret(c, "api_secret_key", [] { return lower_hex(random_bytes(32)); });
  ensure_secret(c, "fernet_key", [] { return base64url(random_bytes(32)); });
  ensure_secret(c, "simple_auth_manager_passwords.json", [] {
    return nlohmann::json{{"admin", base64url(random_bytes(18))}}.dump();
  });
}

std::string api_url(const stack_config& c) {
  return fmt::format("http://{}:{}", c.host, c.airflow_api_port);
}

/// GET /api/v2/monitor/health (no token needed) parsed, or null when it did not answer 200.
nlohmann::json airflow_health(const stack_config& c) {
  auto [status, body] = http_get(api_url(c) + "/api/v2/monitor/health");
  if (status != 200) return nullptr;
  auto parsed = nlohmann::json::parse(body, nullptr, false);
  return parsed.is_discarded() ? nlohmann::json(nullptr) : parsed;
}

/// Seconds since the epoch of an ISO 8601 UTC time as Airflow writes it
/// (2026-12-03T19:49:50.488111+00:00), 0 when it is not one.
double parse_utc(const std::string& text) {
  std::tm tm{};
  double seconds = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%lf", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &seconds) != 6) {
    return 0;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<double>(timegm(&tm)) + seconds;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

/// A daemon is ready when the health answer says it is healthy with a heartbeat from
/// after it was started (a heartbeat of its predecessor stays "healthy" for 30 s).
bool daemon_healthy(const stack_config& c, const std::string& key, const std::string& heartbeat,
                    double started) {
  auto health = airflow_health(c);
  if (!health.is_object() || !health.contains(key)) return false;
  const auto& part = health[key];
  if (part.value("status", "") != "healthy") return false;
  if (started <= 0) return true;
  auto beat = part.contains(heartbeat) && part[heartbeat].is_string()
                  ? parse_utc(part[heartbeat].get<std::string>())
                  : 0.0;
  return beat >= started - 1;
}

std::string skip_airflow(const stack_config& c) {
  if (!c.airflow) return "airflow is false";
  if (!fs::exists(c.airflow_venv() / ".requirements")) {
    return "Airflow is not installed (`up` without --no-install installs it)";
  }
  return "";
}

void migrate(const stack_config& c) {
  auto log = c.log_dir() / "airflow-migrate.log";
  say("migrating the Airflow database (airflow db migrate)");
  int rc = run_and_wait(
      {{airflow_bin(c).string(), "db", "migrate"}, log, {}, airflow_environment(c), {}});
  if (rc != 0) {
    throw fatal_error(fmt::format("airflow db migrate failed; last lines of {}:\n{}", log.string(),
                                  tail_file(log, 20)));
  }
}

component airflow_api(const stack_config& c) {
  component api;
  api.name = "airflow-api";
  api.port = c.airflow_api_port;
  // `airflow api-server` until it sets its title to "airflow api_server -- host:...".
  api.command_marker = "airflow api";
  api.skip_reason = [&c] { return skip_airflow(c); };
  api.prepare = [&c] {
    ensure_airflow_secrets(c);
    fs::create_directories(c.airflow_dir() / "home");
    fs::create_directories(c.airflow_dir() / "dag-state");
    migrate(c);
  };
  api.command = [&c] {
    return spawn_request{{airflow_bin(c).string(), "api-server"},
                         c.log_dir() / "airflow-api.log",
                         {},
                         airflow_environment(c),
                         {}};
  };
  api.ready = [&c] {
    auto health = airflow_health(c);
    return health.is_object() && health.contains("metadatabase") &&
           health["metadatabase"].value("status", "") == "healthy";
  };
  return api;
}

component airflow_daemon(const stack_config& c, const std::string& name, const std::string& verb,
                         const std::string& key, const std::string& heartbeat, bool skip_logs) {
  component daemon;
  daemon.name = name;
  daemon.port = 0;  // listens nowhere (the log servers are off)
  daemon.command_marker = "airflow " + verb;
  daemon.skip_reason = [&c] { return skip_airflow(c); };
  auto started = std::make_shared<double>(0.0);
  daemon.prepare = [&c, started] {
    ensure_airflow_secrets(c);
    *started = now_seconds();
  };
  daemon.command = [&c, name, verb, skip_logs] {
    std::vector<std::string> argv = {airflow_bin(c).string(), verb};
    if (skip_logs) argv.push_back("--skip-serve-logs");
    return spawn_request{argv, c.log_dir() / (name + ".log"), {}, airflow_environment(c), {}};
  };
  daemon.ready = [&c, key, heartbeat, started] {
    return daemon_healthy(c, key, heartbeat, *started);
  };
  return daemon;
}

}  // namespace

std::string airflow_database_password(const stack_config& config) {
  return ensure_secret(config, "pg_password", [] { return lower_hex(random_bytes(16)); });
}

std::string postgres_superuser_password(const stack_config& config) {
  return ensure_secret(config, "pg_superuser_password", [] { return lower_hex(random_bytes(16)); });
}

fs::path postgres_superuser_password_file(const stack_config& config) {
  return secrets_dir(config) / "pg_superuser_password";
}

fs::path airflow_admin_password_file(const stack_config& config) {
  return secrets_dir(config) / "simple_auth_manager_passwords.json";
}

std::vector<std::string> airflow_environment(const stack_config& c) {
  auto secrets = secrets_dir(c);
  const char* path = std::getenv("PATH");
  auto api = api_url(c);
  return {
      "AIRFLOW_HOME=" + (c.airflow_dir() / "home").string(),
      "PYTHONPATH=" + (c.repo_root / "airflow").string(),
      "PATH=" + (c.airflow_venv() / "bin").string() + ":" +
          (path ? path : "/usr/local/bin:/usr/bin:/bin"),
      "AIRFLOW__CORE__DAGS_FOLDER=" + (c.repo_root / "airflow" / "dags").string(),
      "AIRFLOW__CORE__LOAD_EXAMPLES=False",
      "MALLOC_ARENA_MAX=2",
      "AIRFLOW__CORE__EXECUTOR=LocalExecutor",
      "AIRFLOW__CORE__PARALLELISM=" + std::to_string(c.airflow_parallelism),
      "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES=1",
      "AIRFLOW__API__WORKERS=1",
      "AIRFLOW__API__HOST=" + c.host,
      "AIRFLOW__API__PORT=" + std::to_string(c.airflow_api_port),
      "AIRFLOW__API__BASE_URL=" + api,
      "AIRFLOW__CORE__EXECUTION_API_SERVER_URL=" + api + "/execution/",
      "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD=" + read_command(secrets / "sql_alchemy_conn"),
      "AIRFLOW__API_AUTH__JWT_SECRET_CMD=" + read_command(secrets / "jwt_secret"),
      "AIRFLOW__API__SECRET_KEY_CMD=" + read_command(secrets / "api_secret_key"),
      "AIRFLOW__CORE__FERNET_KEY_CMD=" + read_command(secrets / "fernet_key"),
      "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=admin:admin",
      "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=" +
          (secrets / "simple_auth_manager_passwords.json").string(),
      // The DAGs' own settings (airflow/sluice_airflow/config.py).
      "SLUICE_BIN=" + c.sluice_bin.string(),
      "SLUICE_SCHEMA_FILE=" + (c.repo_root / "contract" / "user.avsc").string(),
      fmt::format("SLUICE_KAFKA_BOOTSTRAP={}:{}", c.host, c.kafka_port),
      fmt::format("SLUICE_REGISTRY_URL=http://{}:{}", c.host, c.registry_port),
      "SLUICE_CASSANDRA_HOST=" + c.host,
      "SLUICE_CASSANDRA_PORT=" + std::to_string(c.cassandra_port),
      fmt::format("SLUICE_PROCESSOR_URL=http://{}:{}", c.host, c.process_metrics_port),
      "SLUICE_AIRFLOW_STATE=" + (c.airflow_dir() / "dag-state").string(),
  };
}

void ensure_airflow_environment(const stack_config& config) {
  auto venv = config.airflow_venv();
  auto lock = config.repo_root / "airflow" / "requirements.lock";
  auto stamp = venv / ".requirements";
  if (fs::exists(stamp) && read_text(stamp) == read_text(lock)) return;
  if (!config.install) {
    // --no-install: an Airflow venv there is used as it is; none leaves Airflow out.
    if (!fs::exists(stamp)) say("Airflow is not installed and --no-install: leaving it out");
    return;
  }
  auto log = config.log_dir() / "install.log";
  fs::create_directories(config.airflow_dir());
  say(fmt::format("installing Airflow into {} from airflow/requirements.lock", venv.string()));
  if (run_quiet({"python3", "-m", "venv", venv.string()}, log) != 0 ||
      run_quiet({(venv / "bin" / "pip").string(), "install", "-q", "--disable-pip-version-check",
                 std::string("pip==") + kPipVersion},
                log) != 0) {
    throw fatal_error(fmt::format("creating the Airflow venv {} failed; last lines of {}:\n{}",
                                  venv.string(), log.string(), tail_file(log, 20)));
  }
  if (run_quiet({(venv / "bin" / "pip").string(), "install", "-q", "--disable-pip-version-check",
                 "-r", lock.string()},
                log) != 0) {
    throw fatal_error(fmt::format("installing {} failed; last lines of {}:\n{}", lock.string(),
                                  log.string(), tail_file(log, 20)));
  }
  if (run_quiet({(venv / "bin" / "pip").string(), "check", "--disable-pip-version-check"}, log) !=
      0) {
    throw fatal_error(fmt::format("pip check of the Airflow venv failed; last lines of {}:\n{}",
                                  log.string(), tail_file(log, 20)));
  }
  write_text(stamp, read_text(lock));  // the stamp ensure_python_venv would write
}

std::vector<component> airflow_components(const stack_config& config) {
  // Started in this order; `down` stops in reverse: the scheduler first, the api-server
  // last, so that running tasks can still report their state.
  return {airflow_api(config),
          airflow_daemon(config, "airflow-triggerer", "triggerer", "triggerer",
                         "latest_triggerer_heartbeat", true),
          airflow_daemon(config, "airflow-dag-processor", "dag-processor", "dag_processor",
                         "latest_dag_processor_heartbeat", false),
          airflow_daemon(config, "airflow-scheduler", "scheduler", "scheduler",
                         "latest_scheduler_heartbeat", true)};
}

}  // namespace sluice::stack
