// The managed components of the local stack (PostgreSQL, Kafka, Cassandra, schema
// registry): how each is installed, configured, started, probed and stopped.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "stack/process.h"
#include "stack/stack.h"

namespace sluice::stack {

struct component {
  std::string name;
  int port = 0;
  std::string command_marker;  // must appear in /proc/<pid>/cmdline to be ours
  int stop_signal = 15;
  std::chrono::seconds stop_grace{30};
  std::function<void()> prepare;  // install + configure; idempotent
  std::function<spawn_request()> command;
  std::function<bool()> ready;               // a real request, not just an open port
  std::function<std::string()> skip_reason;  // non-empty: do not start (optional parts)
};

/// The components in start order.
std::vector<component> make_components(const stack_config& config);

/// Installs Java 17, Maven, PostgreSQL and the tools venv when missing.
void ensure_prerequisites(const stack_config& config);

/// After everything is ready: topics, Cassandra schema, Airflow database, Avro schema.
void create_topics(const stack_config& config);
void apply_cassandra_schema(const stack_config& config);
void prepare_postgres_databases(const stack_config& config);
void register_contract_schema(const stack_config& config);

/// The Spark job's venv (spark/requirements.lock) and jars (stack/spark/pom.xml).
void ensure_spark_environment(const stack_config& config);
/// The Spark standalone master and worker (with spark_cluster) and the Spark job (with
/// processor spark or both), in start order.
std::vector<component> spark_components(const stack_config& config);
/// With processor both: the Spark job's own keyspace and dead-letter topic.
void prepare_spark_outputs(const stack_config& config);
/// Environment for anything that runs Spark: JAVA_HOME, SPARK_LOCAL_IP, PYTHONPATH, ...
std::vector<std::string> spark_environment(const stack_config& config);
/// The flags that point `sluice spark` at this stack: Kafka, registry, Cassandra, the
/// metrics port, the jars and the checkpoint under the state folder.
std::vector<std::string> spark_job_stack_flags(const stack_config& config);

/// Airflow's venv (airflow/requirements.lock, pip upgraded first), once per lock content.
void ensure_airflow_environment(const stack_config& config);
/// airflow-api, airflow-triggerer, airflow-dag-processor and airflow-scheduler, in start
/// order (`airflow db migrate` runs before the api-server starts).
std::vector<component> airflow_components(const stack_config& config);
/// The environment of every Airflow process (LAUNCH.md section 3): paths of the secret
/// files, never a secret.
std::vector<std::string> airflow_environment(const stack_config& config);
/// The PostgreSQL password of the role airflow, generated at the first start into a 0600
/// file under <state>/airflow/secrets (folder 0700).
std::string airflow_database_password(const stack_config& config);
/// The password of PostgreSQL's superuser `postgres` for TCP logins (scram-sha-256),
/// generated like the one above; the launcher itself logs in through the socket (peer).
std::string postgres_superuser_password(const stack_config& config);
std::filesystem::path postgres_superuser_password_file(const stack_config& config);
/// The JSON file holding the generated admin password of Airflow's UI and REST API.
std::filesystem::path airflow_admin_password_file(const stack_config& config);

/// The path of the Java 17 binary (throws fatal_error saying what is needed).
std::string java_binary();

}  // namespace sluice::stack
