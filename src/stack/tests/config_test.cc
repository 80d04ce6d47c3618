// Tests of the launcher's settings: precedence and errors that name the origin.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "base/error.h"
#include "stack/stack.h"

namespace sluice::stack {
namespace {

std::filesystem::path write_temp(const std::string& name, const std::string& text) {
  auto path = std::filesystem::temp_directory_path() / name;
  std::ofstream(path) << text;
  return path;
}

TEST(StackConfig, FileThenEnvironmentOverrideDefaults) {
  stack_config config;
  load_config_file(config, write_temp("sluice-conf-ok",
                                      "# ports\nkafka_port = 19092\n"
                                      "cassandra_port=19042\n"));
  setenv("SLUICE_CASSANDRA_PORT", "29042", 1);
  load_environment(config);
  unsetenv("SLUICE_CASSANDRA_PORT");
  EXPECT_EQ(config.kafka_port, 19092);
  EXPECT_EQ(config.cassandra_port, 29042);
  EXPECT_EQ(config.registry_port, 8081);
}

TEST(StackConfig, BadPortInFileNamesFileLineAndValue) {
  stack_config config;
  auto file = write_temp("sluice-conf-bad", "\nkafka_port = 99999\n");
  try {
    load_config_file(config, file);
    FAIL() << "expected an error";
  } catch (const fatal_error& e) {
    std::string message = e.what();
    EXPECT_NE(message.find(file.string() + ":2"), std::string::npos) << message;
    EXPECT_NE(message.find("99999"), std::string::npos) << message;
  }
}

TEST(StackConfig, UnknownKeyIsRejectedWithTheKnownKeys) {
  stack_config config;
  try {
    set_config_value(config, "kafka_prot", "1", "--kafka-prot");
    FAIL() << "expected an error";
  } catch (const fatal_error& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("kafka_prot"), std::string::npos);
    EXPECT_NE(message.find("kafka_port"), std::string::npos);
  }
}

TEST(StackConfig, HeapSizesConvertToMebibytes) {
  EXPECT_EQ(heap_mebibytes("2g"), 2048u);
  EXPECT_EQ(heap_mebibytes("512m"), 512u);
  EXPECT_THROW(heap_mebibytes("2gb"), fatal_error);
  EXPECT_THROW(heap_mebibytes("99999999999999999999999g"), fatal_error);
}

TEST(StackConfig, BadHeapSizeIsRejected) {
  stack_config config;
  EXPECT_THROW(set_config_value(config, "kafka_heap", "lots", "flag"), fatal_error);
  set_config_value(config, "kafka_heap", "512m", "flag");
  EXPECT_EQ(config.kafka_heap, "512m");
}

TEST(StackConfig, AirflowSettings) {
  stack_config config;
  EXPECT_TRUE(config.airflow);
  EXPECT_EQ(config.airflow_api_port, 8082);
  EXPECT_EQ(config.airflow_parallelism, 2);
  set_config_value(config, "airflow", "false", "--airflow");
  set_config_value(config, "airflow_api_port", "18082", "--airflow-api-port");
  set_config_value(config, "airflow_parallelism", "4", "--airflow-parallelism");
  EXPECT_FALSE(config.airflow);
  EXPECT_EQ(config.airflow_api_port, 18082);
  EXPECT_EQ(config.airflow_parallelism, 4);
  EXPECT_THROW(set_config_value(config, "airflow", "maybe", "flag"), fatal_error);
  EXPECT_THROW(set_config_value(config, "airflow_parallelism", "0", "flag"), fatal_error);
  config.state_dir = "/s";
  EXPECT_EQ(config.airflow_venv(), std::filesystem::path("/s/airflow/venv"));
}

}  // namespace
}  // namespace sluice::stack
