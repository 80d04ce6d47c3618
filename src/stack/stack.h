// The no-Docker launcher behind `sluice up`, `sluice down` and `sluice status`.
//
// It installs what is missing (Java 17, Maven and PostgreSQL from apt, the engine jars
// from Maven Central through stack/<engine>/pom.xml), starts each engine on loopback as
// its own process with its own log and pid file under the state folder (.stack/), waits
// until each one really answers, then creates the Kafka topics, applies
// contract/cassandra.cql and registers contract/user.avsc. Every step is idempotent:
// a second `up` finds everything running and changes nothing.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace sluice::stack {

/// Every port and path of the local stack. Filled in this order: defaults, the config
/// file, SLUICE_* environment variables, command-line flags.
struct stack_config {
  std::filesystem::path repo_root;   // where contract/ and stack/ live
  std::filesystem::path state_dir;   // .stack/ by default: lib/, data/, logs/, run/, conf/
  std::filesystem::path cache_dir;   // downloaded engine jars; .stack/lib by default
  std::filesystem::path sluice_bin;  // the running binary, for `sluice registry`
  std::string host = "127.0.0.1";
  int kafka_port = 9092;
  int kafka_controller_port = 9093;
  int cassandra_port = 9042;
  int cassandra_storage_port = 7000;
  int cassandra_jmx_port = 7199;
  int registry_port = 8081;
  int postgres_port = 5433;
  int process_metrics_port = 9470;  // `sluice process` /metrics and /health
  // Which processor(s) `up` starts: cpp (`sluice process`), spark (`sluice spark`) or
  // both (the Spark job then writes keyspace sluice_spark and topic users.dlq.spark).
  std::string processor = "cpp";
  int spark_metrics_port = 9472;  // `sluice spark` /metrics and /health
  bool spark_cluster = false;     // also run a Spark standalone master and worker
  int spark_master_port = 7077;
  int spark_master_ui_port = 8091;  // the master's web UI (Spark's default 8080 is Airflow's)
  int spark_worker_port = 7078;
  int spark_worker_ui_port = 8092;
  int spark_worker_cores = 2;
  std::string spark_worker_memory = "1g";
  // Apache Airflow (airflow/): api-server, scheduler, dag-processor and triggerer on
  // PostgreSQL's `airflow` database, installed into <state>/airflow/venv.
  bool airflow = true;
  int airflow_api_port = 8082;  // the api-server: UI and REST API (8080 is `sluice api`'s)
  int airflow_parallelism = 2;  // LocalExecutor worker processes (sized for 2 cores)
  // The console (`sluice ui`) on 127.0.0.1:ui_port, started by `up`.
  bool ui = true;
  int ui_port = 9000;
  bool start_pipeline = true;  // also run one `sluice process` and one `sluice produce`
  int produce_rate = 50;       // users per second streamed by `up` (0: no producer)
  double produce_bad_ratio = 0.05;
  std::string kafka_heap = "1g";
  std::string cassandra_heap = "2g";
  // Cassandra's commit log. "periodic" (Cassandra's default) acknowledges a write before
  // the sync (every 10 s), so a killed Cassandra loses the writes since its last sync
  // marker, which with one replica nothing else holds; "group" acknowledges once the log
  // holding the write is synced (a 15 ms window): durable, at 0.19x the drain rate here
  // (bench/cassandra/commitlog_sync.sh). A cluster writing to a quorum keeps periodic.
  std::string cassandra_commitlog_sync = "periodic";
  int raw_partitions = 6;
  int dlq_partitions = 3;
  // How long Kafka keeps a dead letter (retention.ms of users.dlq, applied by every `up`);
  // -1: forever. Longer than users.raw's (7 days, Kafka's default), so a letter outlives
  // its record and `verify` never meets a record whose letter expired; deleting letters
  // sooner is `sluice dlq purge`, which leaves receipts.
  std::chrono::milliseconds dlq_retention{std::chrono::hours(24 * 30)};
  // The secured profile (src/stack/secure.h): Kafka SASL_SSL/SCRAM only, Cassandra with
  // passwords and client TLS, the registry with basic auth; certificates and passwords
  // made under <state>/tls and <state>/secrets.
  bool secure = false;
  bool install = true;             // run apt/mvn when something is missing
  bool registry_available = true;  // this binary has the `registry` verb
  std::chrono::seconds start_timeout{180};

  std::filesystem::path lib_dir() const {
    return cache_dir.empty() ? state_dir / "lib" : cache_dir;
  }
  std::filesystem::path data_dir() const { return state_dir / "data"; }
  std::filesystem::path log_dir() const { return state_dir / "logs"; }
  std::filesystem::path run_dir() const { return state_dir / "run"; }
  std::filesystem::path conf_dir() const { return state_dir / "conf"; }
  std::filesystem::path spark_venv() const { return state_dir / "spark" / "venv"; }
  std::filesystem::path airflow_dir() const { return state_dir / "airflow"; }
  std::filesystem::path airflow_venv() const { return airflow_dir() / "venv"; }
  std::string spark_master_url() const {
    return "spark://" + host + ":" + std::to_string(spark_master_port);
  }
};

/// The settings keys accepted in the config file (`key = value`), as environment
/// variables (SLUICE_<KEY upper-cased>) and as flags (--key-with-dashes).
std::vector<std::string> config_keys();

/// Sets one setting by key from text. Throws fatal_error naming `origin` (a file and
/// line, an environment variable or a flag), the key and the value when it is invalid.
void set_config_value(stack_config& config, const std::string& key, const std::string& value,
                      const std::string& origin);

/// A heap setting (as validated: digits then m or g) in MiB: "2g" -> 2048.
std::size_t heap_mebibytes(const std::string& heap);

/// Applies a config file, then the environment. A missing file named explicitly is an error.
void load_config_file(stack_config& config, const std::filesystem::path& file);
void load_environment(stack_config& config);

/// One managed component's state, as `status` reports it.
struct component_status {
  std::string name;
  bool running = false;
  int pid = 0;
  int port = 0;
  long uptime_seconds = 0;
  long rss_kib = 0;
  std::filesystem::path log;
};

/// Brings the stack up. Returns 0 when everything is healthy; prints progress to stderr.
int up(const stack_config& config);
/// Stops what `up` started (by pid file). `purge` also deletes the data folder.
/// `only` names components to stop (empty: all); `up` starts them again.
int down(const stack_config& config, bool purge, const std::vector<std::string>& only = {});
/// The state of every component.
std::vector<component_status> status(const stack_config& config);

}  // namespace sluice::stack
