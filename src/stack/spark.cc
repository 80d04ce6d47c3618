// The Spark parts of the stack: the job's venv and jars, a Spark standalone master and
// worker on loopback (`spark_cluster = true`), and the Spark job itself as a supervised
// component (`processor = spark` or `both`). Spark's daemons run from the pyspark install
// (`spark-class`, which execs java), in the foreground so that pid files stay true.
#include <signal.h>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "stack/components.h"
#include "stack/http_probe.h"
#include "stack/secure.h"
#include "stack/setup.h"

namespace sluice::stack {
namespace fs = std::filesystem;
namespace {

constexpr const char* kJavaHome = "/usr/lib/jvm/java-17-openjdk-amd64";

bool spark_job_wanted(const stack_config& c) {
  return c.start_pipeline && (c.processor == "spark" || c.processor == "both");
}

std::string spark_class(const stack_config& c) {
  return (c.spark_venv() / "bin" / "spark-class").string();
}

/// Alive workers the master knows (its /json/ status page), -1 when it does not answer.
int alive_workers(const stack_config& c) {
  auto [status, body] = http_get(fmt::format("http://{}:{}/json/", c.host, c.spark_master_ui_port));
  if (status != 200) return -1;
  auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_discarded() || !parsed.contains("aliveworkers")) return -1;
  return parsed["aliveworkers"].get<int>();
}

component spark_master(const stack_config& c) {
  component master;
  master.name = "spark-master";
  master.port = c.spark_master_port;
  master.command_marker = "deploy.master.Master";
  master.skip_reason = [&c]() -> std::string {
    return c.spark_cluster ? "" : "spark_cluster is false";
  };
  master.command = [&c] {
    return spawn_request{{spark_class(c), "org.apache.spark.deploy.master.Master", "--host", c.host,
                          "--port", std::to_string(c.spark_master_port), "--webui-port",
                          std::to_string(c.spark_master_ui_port)},
                         c.log_dir() / "spark-master.log",
                         {},
                         spark_environment(c),
                         {}};
  };
  master.ready = [&c] { return alive_workers(c) >= 0; };
  return master;
}

component spark_worker(const stack_config& c) {
  component worker;
  worker.name = "spark-worker";
  worker.port = c.spark_worker_port;
  worker.command_marker = "deploy.worker.Worker";
  worker.skip_reason = [&c]() -> std::string {
    return c.spark_cluster ? "" : "spark_cluster is false";
  };
  worker.prepare = [&c] { fs::create_directories(c.data_dir() / "spark" / "work"); };
  worker.command = [&c] {
    return spawn_request{
        {spark_class(c), "org.apache.spark.deploy.worker.Worker", c.spark_master_url(), "--host",
         c.host, "--port", std::to_string(c.spark_worker_port), "--webui-port",
         std::to_string(c.spark_worker_ui_port), "--cores", std::to_string(c.spark_worker_cores),
         "--memory", c.spark_worker_memory, "--work-dir",
         (c.data_dir() / "spark" / "work").string()},
        c.log_dir() / "spark-worker.log",
        {},
        spark_environment(c),
        {}};
  };
  // Ready once registered: the master counts it as alive.
  worker.ready = [&c] { return alive_workers(c) >= 1; };
  return worker;
}

component spark_job(const stack_config& c) {
  component job;
  job.name = "spark";
  job.port = c.spark_metrics_port;
  job.command_marker = "sluice_spark.job";
  job.stop_grace = std::chrono::seconds(60);
  job.skip_reason = [&c]() -> std::string {
    if (!c.start_pipeline) return "start_pipeline is false";
    return spark_job_wanted(c) ? "" : "processor is " + c.processor;
  };
  job.command = [&c] {
    bool both = c.processor == "both";
    std::vector<std::string> argv = {c.sluice_bin.string(), "spark"};
    auto stack_flags = spark_job_stack_flags(c);
    argv.insert(argv.end(), stack_flags.begin(), stack_flags.end());
    argv.insert(argv.end(),
                {"--group", "sluice-spark", "--keyspace", both ? "sluice_spark" : "sluice",
                 "--dlq-topic", both ? "users.dlq.spark" : "users.dlq", "--master",
                 c.spark_cluster ? c.spark_master_url() : "local[2]"});
    return spawn_request{argv, c.log_dir() / "spark.log", {}, {}, {}};
  };
  job.ready = [&c] {
    return http_get_status(fmt::format("http://{}:{}/health", c.host, c.spark_metrics_port)) == 200;
  };
  return job;
}

}  // namespace

std::vector<std::string> spark_environment(const stack_config& c) {
  std::vector<std::string> env = {
      "SPARK_LOCAL_IP=" + c.host,
      "PYTHONPATH=" + (c.repo_root / "spark").string(),
      "PYSPARK_PYTHON=" + (c.spark_venv() / "bin" / "python").string(),
      "SPARK_LOG_DIR=" + c.log_dir().string(),
      "SPARK_DAEMON_MEMORY=256m",
      "SPARK_NO_DAEMONIZE=1",
  };
  if (!std::getenv("JAVA_HOME")) env.push_back(std::string("JAVA_HOME=") + kJavaHome);
  return env;
}

std::vector<std::string> spark_job_stack_flags(const stack_config& c) {
  std::vector<std::string> flags = {
      "--bootstrap",      fmt::format("{}:{}", c.host, c.kafka_port),
      "--registry",       fmt::format("http://{}:{}", c.host, c.registry_port),
      "--cassandra-host", c.host,
      "--cassandra-port", std::to_string(c.cassandra_port),
      "--metrics-port",   std::to_string(c.spark_metrics_port),
      "--jars-dir",       (c.lib_dir() / "spark").string(),
      "--checkpoint",     (c.data_dir() / "spark" / "checkpoint").string()};
  // The job's Kafka clients (Java, and confluent-kafka's own librdkafka) speak SCRAM.
  append(flags, kafka_client_flags(c, "SCRAM-SHA-512"));
  append(flags, registry_client_flags(c));
  append(flags, cassandra_client_flags(c, "cassandra-"));
  return flags;
}

void ensure_spark_environment(const stack_config& config) {
  ensure_python_venv(config, config.spark_venv(), config.repo_root / "spark" / "requirements.lock",
                     "Spark");
  ensure_jars(config, "spark");
}

std::vector<component> spark_components(const stack_config& config) {
  return {spark_master(config), spark_worker(config), spark_job(config)};
}

void prepare_spark_outputs(const stack_config& config) {
  if (config.processor != "both") return;
  auto cql = read_text(config.repo_root / "contract" / "cassandra.cql");
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"EXISTS sluice", "EXISTS sluice_spark"}, {"sluice.users", "sluice_spark.users"}}) {
    for (auto pos = cql.find(from); pos != std::string::npos; pos = cql.find(from, pos)) {
      cql.replace(pos, from.size(), to);
      pos += to.size();
    }
  }
  auto file = config.conf_dir() / "cassandra-spark.cql";
  write_text(file, cql);
  auto log = config.log_dir() / "cassandra-schema.log";
  if (run_cql_tool(config, {"apply", "--file", file.string()}, log) != 0) {
    throw fatal_error(
        fmt::format("creating keyspace sluice_spark failed:\n{}", tail_file(log, 10)));
  }
}

}  // namespace sluice::stack
