// Definitions of the stack's components and the set-up steps that follow start-up.
#include "stack/components.h"

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <librdkafka/rdkafka.h>

#include "base/error.h"
#include "base/hex.h"
#include "stack/http_probe.h"
#include "stack/secrets.h"
#include "stack/secure.h"
#include "stack/setup.h"

namespace sluice::stack {
namespace fs = std::filesystem;
namespace {

constexpr const char* kJava17 = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java";
constexpr const char* kPgBin = "/usr/lib/postgresql/15/bin";

}  // namespace

std::string read_text(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw fatal_error(fmt::format("cannot read {}", file.string()));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::trunc);
  out << text;
  if (!out) throw fatal_error(fmt::format("cannot write {}", file.string()));
}

std::string fill(std::string text, const std::vector<std::pair<std::string, std::string>>& vars) {
  for (const auto& [key, value] : vars) {
    std::string token = "@" + key + "@";
    for (auto pos = text.find(token); pos != std::string::npos; pos = text.find(token, pos)) {
      text.replace(pos, token.size(), value);
      pos += value.size();
    }
  }
  return text;
}

/// The cassandra.yaml line that times a commit log sync mode (see cassandra_commitlog_sync).
std::string commitlog_sync_timing(const std::string& mode) {
  return mode == "periodic" ? "commitlog_sync_period: 10000ms"
                            : "commitlog_sync_group_window: 15ms";
}

void say(const std::string& line) {
  fmt::print(stderr, "  {}\n", line);
}

int run_quiet(std::vector<std::string> argv, const fs::path& log) {
  return run_and_wait({std::move(argv), log, {}, {}, {}});
}

void append(std::vector<std::string>& argv, const std::vector<std::string>& more) {
  argv.insert(argv.end(), more.begin(), more.end());
}

int run_cql_tool(const stack_config& config, const std::vector<std::string>& args,
                 const fs::path& log) {
  std::vector<std::string> argv = {(config.repo_root / ".venv-tools/bin/python").string(),
                                   (config.repo_root / "stack/tools/cql.py").string()};
  append(argv, args);
  append(argv, {"--host", config.host, "--port", std::to_string(config.cassandra_port)});
  std::vector<std::string> env;
  if (config.secure) {
    auto profile = ensure_secure_profile(config);
    // The password of the stack's role, and the one the default role gets, on the
    // environment (never argv); cql.py creates the role at the first start.
    append(argv, {"--user", kSecureUser, "--tls-ca", profile.tls.ca_cert.string()});
    env = cassandra_client_env(config);
    env.push_back("SLUICE_CQL_RETIRED_PASSWORD=" + lower_hex(random_bytes(24)));
  }
  return run_and_wait({argv, log, {}, env, {}});
}

void apt_install(const stack_config& config, const std::vector<std::string>& packages) {
  if (!config.install) {
    throw fatal_error(fmt::format("missing packages {} (install them or drop --no-install)",
                                  fmt::join(packages, " ")));
  }
  say(fmt::format("installing {} with apt-get", fmt::join(packages, " ")));
  auto log = config.log_dir() / "install.log";
  std::vector<std::string> argv = {"apt-get", "install", "-y", "-qq", "--no-install-recommends"};
  argv.insert(argv.end(), packages.begin(), packages.end());
  if (run_quiet(argv, log) != 0) {
    run_quiet({"apt-get", "update", "-qq"}, log);
    if (run_quiet(argv, log) != 0) {
      throw fatal_error(
          fmt::format("apt-get install {} failed; see {}", fmt::join(packages, " "), log.string()));
    }
  }
}

/// Resolves an engine's jars from its pom into lib/<engine>, once per pom content.
void ensure_jars(const stack_config& config, const std::string& engine) {
  auto pom = config.repo_root / "stack" / engine / "pom.xml";
  auto dir = config.lib_dir() / engine;
  auto stamp = dir / ".resolved-pom";
  auto pom_text = read_text(pom);
  if (fs::exists(stamp) && read_text(stamp) == pom_text) return;
  say(fmt::format("downloading {} jars from Maven Central (first run only)", engine));
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto log = config.log_dir() / ("mvn-" + engine + ".log");
  int rc = run_quiet({"mvn", "-q", "-B", "-f", pom.string(), "dependency:copy-dependencies",
                      "-DincludeScope=runtime", "-DoutputDirectory=" + dir.string()},
                     log);
  if (rc != 0) {
    throw fatal_error(fmt::format("resolving {} jars with Maven failed; last lines of {}:\n{}",
                                  engine, log.string(), tail_file(log, 20)));
  }
  write_text(stamp, pom_text);
}

void ensure_python_venv(const stack_config& config, const fs::path& venv,
                        const fs::path& requirements, const std::string& what) {
  auto stamp = venv / ".requirements";
  if (fs::exists(stamp) && read_text(stamp) == read_text(requirements)) return;
  say(fmt::format("creating the {} venv ({}) from PyPI", what, venv.string()));
  auto log = config.log_dir() / "install.log";
  if (run_quiet({"python3", "-m", "venv", venv.string()}, log) != 0 ||
      run_quiet({(venv / "bin" / "pip").string(), "install", "-q", "--disable-pip-version-check",
                 "-r", requirements.string()},
                log) != 0) {
    throw fatal_error(fmt::format("creating the {} venv {} failed; last lines of {}:\n{}", what,
                                  venv.string(), log.string(), tail_file(log, 20)));
  }
  write_text(stamp, read_text(requirements));
}

namespace {

std::vector<std::string> java_options_file(
    const fs::path& file, const std::vector<std::pair<std::string, std::string>>& vars) {
  std::vector<std::string> options;
  std::istringstream lines(fill(read_text(file), vars));
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty() && line[0] != '#') options.push_back(line);
  }
  return options;
}

bool kafka_ready(const stack_config& config) {
  char err[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  auto bootstrap = fmt::format("{}:{}", config.host, config.kafka_port);
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
  for (const auto& [name, value] : kafka_client_properties(config)) {
    rd_kafka_conf_set(conf, name.c_str(), value.c_str(), err, sizeof err);
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) return false;
  const rd_kafka_metadata_t* md = nullptr;
  bool ok = rd_kafka_metadata(rk, 1, nullptr, &md, 3000) == RD_KAFKA_RESP_ERR_NO_ERROR &&
            md->broker_cnt > 0;
  if (md) rd_kafka_metadata_destroy(md);
  rd_kafka_destroy(rk);
  return ok;
}

std::string postgres_user() {
  return getpwnam("postgres") ? "postgres" : "";
}

/// The folder of PostgreSQL's Unix socket: 0700 and owned by the user PostgreSQL runs
/// as, so no other local user can reach the socket at all.
fs::path postgres_socket_dir(const stack_config& config) {
  return config.run_dir() / "postgres";
}

/// psql as the superuser through the socket (peer authentication as the OS user that
/// runs PostgreSQL), reading `stdin_sql` when given (for statements that hold a secret).
int psql(const stack_config& config, const std::string& sql,
         const std::string& database = "postgres", const std::string& stdin_sql = "") {
  std::vector<std::string> argv = {(fs::path(kPgBin) / "psql").string(),
                                   "-h",
                                   postgres_socket_dir(config).string(),
                                   "-p",
                                   std::to_string(config.postgres_port),
                                   "-U",
                                   "postgres",
                                   "-d",
                                   database,
                                   "-v",
                                   "ON_ERROR_STOP=1",
                                   "-q",
                                   "-X"};
  if (stdin_sql.empty()) {
    argv.insert(argv.end(), {"-c", sql});
  } else {
    argv.insert(argv.end(), {"-f", "-"});
  }
  return run_and_wait(
      {argv, config.log_dir() / "postgres-setup.log", {}, {}, postgres_user(), stdin_sql});
}

/// Hands `path` to the user PostgreSQL runs as (when the launcher is root).
void give_to_postgres_user(const fs::path& path) {
  auto user = postgres_user();
  if (user.empty()) return;
  passwd* pw = getpwnam(user.c_str());
  if (pw == nullptr || chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
    throw fatal_error(fmt::format("cannot hand {} to the {} user: {}", path.string(), user,
                                  std::strerror(errno)));
  }
}

/// pg_hba.conf and pg_ident.conf as sluice wants them, rewritten at every start (so a
/// cluster made by an older version with `trust` loses it): the superuser only through
/// the private socket as the OS user PostgreSQL runs as; over TCP, only with a
/// scram-sha-256 password; nobody without one.
void write_postgres_access_files(const stack_config& config) {
  auto dir = config.data_dir() / "postgres";
  auto os_user = postgres_user();
  if (os_user.empty()) {
    const passwd* pw = getpwuid(geteuid());
    os_user = pw != nullptr ? pw->pw_name : "root";
  }
  write_text(dir / "pg_ident.conf",
             fmt::format("# written by sluice up: the OS user running PostgreSQL is `postgres`\n"
                         "owner  {}  postgres\n",
                         os_user));
  write_text(dir / "pg_hba.conf",
             fmt::format("# written by sluice up at every start; edits are lost\n"
                         "local  all  postgres  peer map=owner\n"
                         "host   airflow  airflow  {0}/32  scram-sha-256\n"
                         "host   all  postgres  {0}/32  scram-sha-256\n",
                         config.host));
  for (const char* name : {"pg_hba.conf", "pg_ident.conf"}) {
    fs::permissions(dir / name, fs::perms::owner_read | fs::perms::owner_write,
                    fs::perm_options::replace);
    give_to_postgres_user(dir / name);
  }
}

/// Writes kafka.properties and formats KRaft storage at the first start. With the secured
/// profile the file holds the broker's SCRAM password (so it is 0600) and the format adds
/// both SCRAM users; java reads their passwords from an @file (never a command line),
/// deleted once the format is done.
void prepare_kafka(const stack_config& c) {
  auto properties = c.conf_dir() / "kafka.properties";
  auto listeners =
      c.secure ? secure_kafka_properties(c)
               : fmt::format(
                     "listeners=PLAINTEXT://{0}:{1},CONTROLLER://{0}:{2}\n"
                     "advertised.listeners=PLAINTEXT://{0}:{1}\n"
                     "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT\n"
                     "inter.broker.listener.name=PLAINTEXT\n",
                     c.host, c.kafka_port, c.kafka_controller_port);
  auto text = fill(read_text(c.repo_root / "stack/kafka/server.properties.in"),
                   {{"HOST", c.host},
                    {"KAFKA_PORT", std::to_string(c.kafka_port)},
                    {"CONTROLLER_PORT", std::to_string(c.kafka_controller_port)},
                    {"LISTENERS", listeners},
                    {"DATA_DIR", (c.data_dir() / "kafka").string()}});
  write_secret_file(properties, text);
  if (fs::exists(c.data_dir() / "kafka" / "meta.properties")) return;
  say("formatting Kafka storage (KRaft)");
  auto log = c.log_dir() / "kafka.log";
  auto cp = (c.lib_dir() / "kafka" / "*").string();
  auto log4j =
      "-Dlog4j2.configurationFile=" + (c.repo_root / "stack/kafka/log4j2.properties").string();
  // A fixed cluster id (base64 of 16 bytes): the local cluster keeps one identity.
  const std::string cluster_id = "c2x1aWNlLWxvY2FsLWlkMQ";
  auto arguments = fmt::format(
      "kafka.tools.StorageTool\nformat\n--standalone\n-t\n{}\n-c\n{}\n--ignore-formatted\n",
      cluster_id, properties.string());
  if (c.secure) arguments += kafka_scram_format_arguments(c);
  auto argument_file = ensure_private_dir(c.state_dir / "secrets") / "kafka-format.args";
  write_secret_file(argument_file, arguments);
  int rc = run_quiet({java_binary(), log4j, "-cp", cp, "@" + argument_file.string()}, log);
  fs::remove(argument_file);
  if (rc != 0) {
    throw fatal_error(fmt::format("formatting Kafka storage failed; last lines of {}:\n{}",
                                  log.string(), tail_file(log, 20)));
  }
}

}  // namespace

std::string java_binary() {
  if (access(kJava17, X_OK) == 0) return kJava17;
  throw fatal_error(
      "Java 17 is needed (Cassandra 5.0 runs on Java 17 only): install openjdk-17-jre-headless "
      "or let `sluice up` install it (it needs apt)");
}

void ensure_prerequisites(const stack_config& config) {
  std::vector<std::string> missing;
  if (access(kJava17, X_OK) != 0) missing.push_back("openjdk-17-jre-headless");
  if (system("command -v mvn >/dev/null 2>&1") != 0) missing.push_back("maven");
  if (access((fs::path(kPgBin) / "postgres").c_str(), X_OK) != 0) missing.push_back("postgresql");
  if (system("command -v python3 >/dev/null 2>&1") != 0) missing.push_back("python3-venv");
  if (!missing.empty()) apt_install(config, missing);
  java_binary();
  ensure_jars(config, "kafka");
  ensure_jars(config, "cassandra");

  ensure_python_venv(config, config.repo_root / ".venv-tools",
                     config.repo_root / "stack" / "tools" / "requirements.txt", "tools");
  ensure_spark_environment(config);
  if (config.airflow) ensure_airflow_environment(config);
}

// The console (`sluice ui`) on loopback, told every address of this stack by flags.
component console_component(const stack_config& config) {
  const auto& c = config;
  component ui;
  ui.name = "ui";
  ui.port = c.ui_port;
  ui.command_marker = " ui ";
  ui.skip_reason = [&c]() -> std::string { return c.ui ? "" : "ui is false"; };
  ui.command = [&c] {
    std::vector<std::string> argv = {c.sluice_bin.string(), "ui", "--port",
                                     std::to_string(c.ui_port)};
    for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
             {"state-dir", c.state_dir.string()},
             {"host", c.host},
             {"kafka-port", std::to_string(c.kafka_port)},
             {"registry-port", std::to_string(c.registry_port)},
             {"cassandra-port", std::to_string(c.cassandra_port)},
             {"process-metrics-port", std::to_string(c.process_metrics_port)},
             {"spark-metrics-port", std::to_string(c.spark_metrics_port)},
             {"airflow", c.airflow ? "true" : "false"},
             {"airflow-api-port", std::to_string(c.airflow_api_port)}}) {
      argv.push_back("--" + key);
      argv.push_back(value);
    }
    append(argv, kafka_client_flags(c));
    append(argv, registry_client_flags(c));
    append(argv, cassandra_client_flags(c, "cql-"));
    return spawn_request{argv, c.log_dir() / "ui.log", {}, {}, {}};
  };
  ui.ready = [&c] {
    return http_get_status(fmt::format("http://{}:{}/health", c.host, c.ui_port)) == 200;
  };
  return ui;
}

std::vector<component> make_components(const stack_config& config) {
  std::vector<component> all;
  const auto& c = config;

  component postgres;
  postgres.name = "postgres";
  postgres.port = c.postgres_port;
  postgres.command_marker = "postgres";
  postgres.stop_signal = SIGINT;  // fast shutdown
  postgres.prepare = [&c] {
    auto dir = c.data_dir() / "postgres";
    auto socket_dir = postgres_socket_dir(c);
    fs::create_directories(socket_dir);
    fs::permissions(socket_dir, fs::perms::owner_all, fs::perm_options::replace);
    give_to_postgres_user(socket_dir);
    if (!fs::exists(dir / "PG_VERSION")) {
      say("initialising the PostgreSQL cluster");
      fs::create_directories(dir);
      give_to_postgres_user(dir);
      auto log = c.log_dir() / "postgres.log";
      if (run_and_wait({{fs::path(kPgBin) / "initdb", "-D", dir.string(), "-U", "postgres",
                         "--auth-local=peer", "--auth-host=scram-sha-256", "-E", "UTF8"},
                        log,
                        {},
                        {},
                        postgres_user()}) != 0) {
        throw fatal_error(
            fmt::format("initdb failed; last lines of {}:\n{}", log.string(), tail_file(log, 20)));
      }
    }
    write_postgres_access_files(c);
  };
  postgres.command = [&c] {
    return spawn_request{{fs::path(kPgBin) / "postgres", "-D", (c.data_dir() / "postgres").string(),
                          "-p", std::to_string(c.postgres_port), "-h", c.host, "-k",
                          postgres_socket_dir(c).string(), "-c", "unix_socket_permissions=0700"},
                         c.log_dir() / "postgres.log",
                         {},
                         {},
                         postgres_user()};
  };
  postgres.ready = [&c] { return psql(c, "SELECT 1") == 0; };
  all.push_back(postgres);

  component kafka;
  kafka.name = "kafka";
  kafka.port = c.kafka_port;
  kafka.command_marker = "kafka.Kafka";
  kafka.prepare = [&c] { prepare_kafka(c); };
  kafka.command = [&c] {
    // The GC flags of Kafka's own launch scripts (kafka-run-class.sh). Without the 20 ms
    // pause goal G1 grows the young generation to most of the heap and stops the broker
    // for 30-160 ms at a time, which every record in flight then waits out.
    return spawn_request{
        {java_binary(), "-Xms" + c.kafka_heap, "-Xmx" + c.kafka_heap, "-XX:+UseG1GC",
         "-XX:MaxGCPauseMillis=20", "-XX:InitiatingHeapOccupancyPercent=35",
         "-XX:+ExplicitGCInvokesConcurrent",
         "-Dlog4j2.configurationFile=" + (c.repo_root / "stack/kafka/log4j2.properties").string(),
         "-cp", (c.lib_dir() / "kafka" / "*").string(), "kafka.Kafka",
         (c.conf_dir() / "kafka.properties").string()},
        c.log_dir() / "kafka.log",
        {},
        {},
        {}};
  };
  kafka.ready = [&c] { return kafka_ready(c); };
  all.push_back(kafka);

  component cassandra;
  cassandra.name = "cassandra";
  cassandra.port = c.cassandra_port;
  cassandra.command_marker = "CassandraDaemon";
  cassandra.stop_grace = std::chrono::seconds(60);
  cassandra.prepare = [&c] {
    auto dir = c.data_dir() / "cassandra";
    fs::create_directories(dir);
    auto heap = heap_mebibytes(c.cassandra_heap);
    write_text(
        c.conf_dir() / "cassandra.yaml",
        fill(read_text(c.repo_root / "stack/cassandra/cassandra.yaml.in"),
             {{"HOST", c.host},
              {"STORAGE_PORT", std::to_string(c.cassandra_storage_port)},
              {"CQL_PORT", std::to_string(c.cassandra_port)},
              {"AUTHENTICATOR", c.secure ? "PasswordAuthenticator" : "AllowAllAuthenticator"},
              {"CLIENT_ENCRYPTION", c.secure ? secure_cassandra_yaml(c) : ""},
              {"DATA_DIR", dir.string()},
              {"MEMTABLE_HEAP_MIB", std::to_string(heap / 2)},
              {"MEMTABLE_OFFHEAP_MIB", std::to_string(heap)},
              {"COMMITLOG_SYNC", c.cassandra_commitlog_sync},
              {"COMMITLOG_SYNC_TIMING", commitlog_sync_timing(c.cassandra_commitlog_sync)}}));
  };
  cassandra.command = [&c] {
    std::vector<std::string> argv = {java_binary(), "-Xms" + c.cassandra_heap,
                                     "-Xmx" + c.cassandra_heap};
    auto options = java_options_file(c.repo_root / "stack/cassandra/jvm17.options",
                                     {{"JMX_PORT", std::to_string(c.cassandra_jmx_port)}});
    argv.insert(argv.end(), options.begin(), options.end());
    std::string jamm;
    for (const auto& jar : fs::directory_iterator(c.lib_dir() / "cassandra")) {
      if (jar.path().filename().string().rfind("jamm-", 0) == 0) jamm = jar.path().string();
    }
    if (jamm.empty()) throw fatal_error("the jamm jar is missing from .stack/lib/cassandra");
    auto dir = c.data_dir() / "cassandra";
    argv.insert(
        argv.end(),
        {"-javaagent:" + jamm,
         "-Dcassandra.config=file://" + (c.conf_dir() / "cassandra.yaml").string(),
         "-Dcassandra.storagedir=" + dir.string(), "-Dcassandra.logdir=" + c.log_dir().string(),
         // With PasswordAuthenticator: the default superuser at once, not after 10 s.
         "-Dcassandra.superuser_setup_delay_ms=0",
         "-Dlogback.configurationFile=" + (c.repo_root / "stack/cassandra/logback.xml").string(),
         "-cp", (c.lib_dir() / "cassandra" / "*").string(),
         "org.apache.cassandra.service.CassandraDaemon"});
    return spawn_request{argv, c.log_dir() / "cassandra.log", {}, {}, {}};
  };
  cassandra.ready = [&c] {
    if (!port_open(c.host, c.cassandra_port)) return false;
    return run_cql_tool(c, {"check"}, c.log_dir() / "cassandra-probe.log") == 0;
  };
  all.push_back(cassandra);

  component registry;
  registry.name = "registry";
  registry.port = c.registry_port;
  registry.command_marker = "registry";
  registry.skip_reason = [&c]() -> std::string {
    return c.registry_available ? "" : "this sluice build has no `registry` verb";
  };
  registry.command = [&c] {
    std::vector<std::string> argv = {c.sluice_bin.string(),
                                     "registry",
                                     "--host",
                                     c.host,
                                     "--port",
                                     std::to_string(c.registry_port),
                                     "--bootstrap",
                                     fmt::format("{}:{}", c.host, c.kafka_port)};
    append(argv, kafka_client_flags(c));
    if (c.secure) {
      append(argv, {"--auth-user", kSecureUser, "--auth-password-file",
                    ensure_secure_profile(c).registry_password_file.string()});
    }
    return spawn_request{argv, c.log_dir() / "registry.log", {}, {}, {}};
  };
  registry.ready = [&c] {
    auto url = fmt::format("http://{}:{}/subjects", c.host, c.registry_port);
    auto header = registry_authorization_header(c);
    std::vector<std::string> headers;
    if (!header.empty()) headers.push_back(header);
    return http_request(url, nullptr, headers).first == 200;
  };
  all.push_back(registry);

  component process;
  process.name = "process";
  process.port = c.process_metrics_port;
  process.command_marker = " process ";
  process.skip_reason = [&c]() -> std::string {
    return c.start_pipeline ? "" : "start_pipeline is false";
  };
  process.command = [&c] {
    std::vector<std::string> argv = {c.sluice_bin.string(),
                                     "process",
                                     "--bootstrap",
                                     fmt::format("{}:{}", c.host, c.kafka_port),
                                     "--registry",
                                     fmt::format("http://{}:{}", c.host, c.registry_port),
                                     "--cassandra-host",
                                     c.host,
                                     "--cassandra-port",
                                     std::to_string(c.cassandra_port),
                                     "--rules",
                                     (c.repo_root / "contract/rules.yaml").string(),
                                     "--metrics-port",
                                     std::to_string(c.process_metrics_port)};
    append(argv, kafka_client_flags(c));
    append(argv, registry_client_flags(c));
    append(argv, cassandra_client_flags(c, "cassandra-"));
    return spawn_request{argv, c.log_dir() / "process.log", {}, {}, {}};
  };
  process.ready = [&c] {
    return http_get_status(fmt::format("http://{}:{}/health", c.host, c.process_metrics_port)) ==
           200;
  };
  all.push_back(process);

  component produce;
  produce.name = "produce";
  produce.port = c.process_metrics_port + 1;
  produce.command_marker = " produce ";
  produce.skip_reason = [&c]() -> std::string {
    if (!c.start_pipeline) return "start_pipeline is false";
    return c.produce_rate > 0 ? "" : "produce_rate is 0";
  };
  produce.command = [&c] {
    spawn_request request{
        {c.sluice_bin.string(), "produce", "--bootstrap",
         fmt::format("{}:{}", c.host, c.kafka_port), "--registry",
         fmt::format("http://{}:{}", c.host, c.registry_port), "--schema",
         (c.repo_root / "contract/user.avsc").string(), "--rate", std::to_string(c.produce_rate),
         "--bad-ratio", fmt::format("{}", c.produce_bad_ratio), "--seed",
         std::to_string(std::chrono::system_clock::now().time_since_epoch().count()),
         "--metrics-port", std::to_string(c.process_metrics_port + 1)},
        c.log_dir() / "produce.log",
        {},
        {},
        {}};
    append(request.argv, kafka_client_flags(c));
    append(request.argv, registry_client_flags(c));
    return request;
  };
  produce.ready = [&c] {
    return http_get_status(
               fmt::format("http://{}:{}/health", c.host, c.process_metrics_port + 1)) == 200;
  };
  all.push_back(produce);
  auto spark = spark_components(config);
  all.insert(all.end(), spark.begin(), spark.end());
  auto airflow = airflow_components(config);
  all.insert(all.end(), airflow.begin(), airflow.end());
  all.push_back(console_component(config));
  return all;
}

void prepare_postgres_databases(const stack_config& config) {
  // Passwords go to psql on stdin, never on a command line; terse errors and no
  // statement in the server log on error, so that they are not written anywhere else.
  auto sql = fmt::format(
      "\\set VERBOSITY terse\n"
      "SET log_min_error_statement = panic;\n"
      "ALTER ROLE postgres WITH PASSWORD '{}';\n"
      "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'airflow') THEN "
      "CREATE ROLE airflow LOGIN; END IF; END $$;\n"
      "ALTER ROLE airflow WITH LOGIN PASSWORD '{}';\n",
      postgres_superuser_password(config), airflow_database_password(config));
  if (psql(config, "", "postgres", sql) != 0) {
    throw fatal_error(fmt::format("setting the PostgreSQL roles' passwords failed; see {}",
                                  (config.log_dir() / "postgres-setup.log").string()));
  }
  if (psql(config, "SELECT 1", "airflow") != 0 &&
      psql(config, "CREATE DATABASE airflow OWNER airflow") != 0) {
    throw fatal_error("creating the PostgreSQL database airflow failed");
  }
}

void apply_cassandra_schema(const stack_config& config) {
  auto log = config.log_dir() / "cassandra-schema.log";
  if (run_cql_tool(config,
                   {"apply", "--file", (config.repo_root / "contract/cassandra.cql").string()},
                   log) != 0) {
    throw fatal_error(
        fmt::format("applying contract/cassandra.cql failed:\n{}", tail_file(log, 10)));
  }
}

namespace {

// A dead letter is its raw record plus headers: the dead-letter topic takes the raw
// topic's largest record (the broker's default limit) with 64 KiB to spare, so no letter
// of a record the raw topic accepted needs cutting; and it keeps letters dlq_retention.
std::vector<std::pair<std::string, std::string>> dead_letter_topic_configs(
    const stack_config& config) {
  return {{"max.message.bytes", "1114124"},
          {"retention.ms", std::to_string(config.dlq_retention.count())}};
}

// Sets the topics' configs (also on topics an earlier `up` made). Kafka's AlterConfigs
// (librdkafka 2.0 has no incremental form) resets a topic's other dynamic settings, so
// `configs` is the whole set `up` manages for them. Returns the failure, or "".
std::string alter_topic_configs(rd_kafka_t* rk, const std::vector<std::string>& topics,
                                const std::vector<std::pair<std::string, std::string>>& configs) {
  std::vector<rd_kafka_ConfigResource_t*> resources;
  for (const auto& topic : topics) {
    auto* resource = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str());
    for (const auto& [name, value] : configs) {
      rd_kafka_ConfigResource_set_config(resource, name.c_str(), value.c_str());
    }
    resources.push_back(resource);
  }
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_AlterConfigs(rk, resources.data(), resources.size(), nullptr, queue);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, 15000);
  std::string failure;
  if (event == nullptr) {
    failure = "setting the dead-letter topics' configs: no answer from Kafka within 15 s";
  } else if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    failure = fmt::format("setting the dead-letter topics' configs failed: {}",
                          rd_kafka_event_error_string(event));
  } else {
    size_t count = 0;
    const auto** results =
        rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(event), &count);
    for (size_t i = 0; i < count && failure.empty(); ++i) {
      if (rd_kafka_ConfigResource_error(results[i]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* why = rd_kafka_ConfigResource_error_string(results[i]);
        failure = fmt::format("setting the configs of topic {} failed: {}",
                              rd_kafka_ConfigResource_name(results[i]), why ? why : "");
      }
    }
  }
  if (event != nullptr) rd_kafka_event_destroy(event);
  rd_kafka_ConfigResource_destroy_array(resources.data(), resources.size());
  rd_kafka_queue_destroy(queue);
  return failure;
}

}  // namespace

void create_topics(const stack_config& config) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  auto bootstrap = fmt::format("{}:{}", config.host, config.kafka_port);
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof err);
  for (const auto& [name, value] : kafka_client_properties(config)) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      throw fatal_error(fmt::format("Kafka client setting {}: {}", name, err));
    }
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) throw fatal_error(fmt::format("Kafka client: {}", err));
  struct topic_spec {
    std::string name;
    int partitions;
  };
  std::vector<topic_spec> specs = {{"users.raw", config.raw_partitions},
                                   {"users.dlq", config.dlq_partitions}};
  if (config.processor == "both") specs.push_back({"users.dlq.spark", config.dlq_partitions});
  std::vector<rd_kafka_NewTopic_t*> topics;
  for (const auto& spec : specs) {
    topics.push_back(rd_kafka_NewTopic_new(spec.name.c_str(), spec.partitions, 1, err, sizeof err));
  }
  const auto letter_configs = dead_letter_topic_configs(config);
  for (std::size_t i = 1; i < topics.size(); ++i) {
    for (const auto& [name, value] : letter_configs) {
      rd_kafka_NewTopic_set_config(topics[i], name.c_str(), value.c_str());
    }
  }
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_CreateTopics(rk, topics.data(), topics.size(), nullptr, queue);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, 15000);
  std::string failure;
  if (!event) {
    failure = "no answer from Kafka within 15 s";
  } else {
    const auto* result = rd_kafka_event_CreateTopics_result(event);
    size_t count = 0;
    const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(result, &count);
    for (size_t i = 0; i < count; ++i) {
      auto code = rd_kafka_topic_result_error(results[i]);
      if (code == RD_KAFKA_RESP_ERR_NO_ERROR) {
        say(fmt::format("created topic {}", rd_kafka_topic_result_name(results[i])));
      } else if (code != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        failure =
            fmt::format("creating topic {} failed: {}", rd_kafka_topic_result_name(results[i]),
                        rd_kafka_topic_result_error_string(results[i]));
      }
    }
    rd_kafka_event_destroy(event);
  }
  for (auto* t : topics) rd_kafka_NewTopic_destroy(t);
  rd_kafka_queue_destroy(queue);
  if (failure.empty()) {
    std::vector<std::string> letter_topics;
    for (std::size_t i = 1; i < specs.size(); ++i) letter_topics.push_back(specs[i].name);
    failure = alter_topic_configs(rk, letter_topics, letter_configs);
  }
  rd_kafka_destroy(rk);
  if (!failure.empty()) throw fatal_error(failure);
}

void register_contract_schema(const stack_config& config) {
  auto schema = read_text(config.repo_root / "contract/user.avsc");
  auto url = fmt::format("http://{}:{}/subjects/users.raw-value/versions", config.host,
                         config.registry_port);
  auto [status, body] = http_post_schema(url, schema, registry_authorization_header(config));
  if (status != 200) {
    throw fatal_error(
        fmt::format("registering contract/user.avsc at {} failed: HTTP {} {}", url, status, body));
  }
  say(fmt::format("schema users.raw-value registered: {}", body));
}

}  // namespace sluice::stack
