// Loading the stack settings from file, environment and flags, with errors that name
// where a bad value came from.
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>

#include "base/duration.h"
#include "base/error.h"
#include "stack/stack.h"

namespace sluice::stack {
namespace {

using setter = std::function<void(stack_config&, const std::string&, const std::string&)>;

int parse_port(const std::string& value, const std::string& where) {
  int port = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), port);
  if (ec != std::errc() || ptr != value.data() + value.size() || port < 1 || port > 65535) {
    throw fatal_error(fmt::format("{}: '{}' is not a port (1-65535)", where, value));
  }
  return port;
}

int parse_count(const std::string& value, const std::string& where) {
  int n = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || ptr != value.data() + value.size() || n < 1 || n > 10000) {
    throw fatal_error(fmt::format("{}: '{}' is not a count (1-10000)", where, value));
  }
  return n;
}

bool parse_bool(const std::string& value, const std::string& where) {
  if (value == "true" || value == "yes" || value == "1") return true;
  if (value == "false" || value == "no" || value == "0") return false;
  throw fatal_error(fmt::format("{}: '{}' is not true or false", where, value));
}

std::string parse_heap(const std::string& value, const std::string& where) {
  bool ok = value.size() >= 2 && (value.back() == 'm' || value.back() == 'g');
  for (std::size_t i = 0; ok && i + 1 < value.size(); ++i) ok = std::isdigit(value[i]) != 0;
  if (!ok)
    throw fatal_error(fmt::format("{}: '{}' is not a heap size like 512m or 1g", where, value));
  return value;
}

std::chrono::milliseconds parse_retention(const std::string& value, const std::string& where) {
  if (value == "forever" || value == "-1") return std::chrono::milliseconds(-1);
  auto d = parse_duration(value);
  if (!d || d->count() < 60'000) {
    throw fatal_error(
        fmt::format("{}: '{}' is not a retention of at least a minute like 30d or "
                    "12h (or forever)",
                    where, value));
  }
  return *d;
}

std::string parse_processor(const std::string& value, const std::string& where) {
  if (value == "cpp" || value == "spark" || value == "both") return value;
  throw fatal_error(fmt::format("{}: '{}' is not a processor (cpp, spark or both)", where, value));
}

std::string parse_commitlog_sync(const std::string& value, const std::string& where) {
  if (value == "group" || value == "periodic") return value;
  throw fatal_error(fmt::format(
      "{}: '{}' is not a commit log sync mode (group: a write is acknowledged once its commit "
      "log is synced; periodic: before, which a killed Cassandra can lose)",
      where, value));
}

}  // namespace

std::size_t heap_mebibytes(const std::string& heap) {
  parse_heap(heap, "heap size");
  std::size_t amount = 0;
  auto [ptr, ec] = std::from_chars(heap.data(), heap.data() + heap.size() - 1, amount);
  if (ec != std::errc() || amount > (std::size_t{1} << 30))
    throw fatal_error(fmt::format("heap size '{}' is out of range", heap));
  return heap.back() == 'g' ? amount * 1024 : amount;
}

namespace {

const std::map<std::string, setter>& setters() {
  static const std::map<std::string, setter> table = {
      {"state_dir", [](auto& c, auto& v, auto&) { c.state_dir = v; }},
      {"cache_dir", [](auto& c, auto& v, auto&) { c.cache_dir = v; }},
      {"host", [](auto& c, auto& v, auto&) { c.host = v; }},
      {"kafka_port", [](auto& c, auto& v, auto& w) { c.kafka_port = parse_port(v, w); }},
      {"kafka_controller_port",
       [](auto& c, auto& v, auto& w) { c.kafka_controller_port = parse_port(v, w); }},
      {"cassandra_port", [](auto& c, auto& v, auto& w) { c.cassandra_port = parse_port(v, w); }},
      {"cassandra_storage_port",
       [](auto& c, auto& v, auto& w) { c.cassandra_storage_port = parse_port(v, w); }},
      {"cassandra_jmx_port",
       [](auto& c, auto& v, auto& w) { c.cassandra_jmx_port = parse_port(v, w); }},
      {"registry_port", [](auto& c, auto& v, auto& w) { c.registry_port = parse_port(v, w); }},
      {"postgres_port", [](auto& c, auto& v, auto& w) { c.postgres_port = parse_port(v, w); }},
      {"process_metrics_port",
       [](auto& c, auto& v, auto& w) { c.process_metrics_port = parse_port(v, w); }},
      {"produce_rate",
       [](auto& c, auto& v, auto& w) { c.produce_rate = v == "0" ? 0 : parse_count(v, w); }},
      {"start_pipeline", [](auto& c, auto& v, auto& w) { c.start_pipeline = parse_bool(v, w); }},
      {"kafka_heap", [](auto& c, auto& v, auto& w) { c.kafka_heap = parse_heap(v, w); }},
      {"cassandra_heap", [](auto& c, auto& v, auto& w) { c.cassandra_heap = parse_heap(v, w); }},
      {"cassandra_commitlog_sync",
       [](auto& c, auto& v, auto& w) { c.cassandra_commitlog_sync = parse_commitlog_sync(v, w); }},
      {"raw_partitions", [](auto& c, auto& v, auto& w) { c.raw_partitions = parse_count(v, w); }},
      {"dlq_partitions", [](auto& c, auto& v, auto& w) { c.dlq_partitions = parse_count(v, w); }},
      {"dlq_retention", [](auto& c, auto& v, auto& w) { c.dlq_retention = parse_retention(v, w); }},
      {"processor", [](auto& c, auto& v, auto& w) { c.processor = parse_processor(v, w); }},
      {"spark_metrics_port",
       [](auto& c, auto& v, auto& w) { c.spark_metrics_port = parse_port(v, w); }},
      {"spark_cluster", [](auto& c, auto& v, auto& w) { c.spark_cluster = parse_bool(v, w); }},
      {"spark_master_port",
       [](auto& c, auto& v, auto& w) { c.spark_master_port = parse_port(v, w); }},
      {"spark_master_ui_port",
       [](auto& c, auto& v, auto& w) { c.spark_master_ui_port = parse_port(v, w); }},
      {"spark_worker_port",
       [](auto& c, auto& v, auto& w) { c.spark_worker_port = parse_port(v, w); }},
      {"spark_worker_ui_port",
       [](auto& c, auto& v, auto& w) { c.spark_worker_ui_port = parse_port(v, w); }},
      {"spark_worker_cores",
       [](auto& c, auto& v, auto& w) { c.spark_worker_cores = parse_count(v, w); }},
      {"airflow", [](auto& c, auto& v, auto& w) { c.airflow = parse_bool(v, w); }},
      {"ui", [](auto& c, auto& v, auto& w) { c.ui = parse_bool(v, w); }},
      {"secure", [](auto& c, auto& v, auto& w) { c.secure = parse_bool(v, w); }},
      {"ui_port", [](auto& c, auto& v, auto& w) { c.ui_port = parse_port(v, w); }},
      {"airflow_api_port",
       [](auto& c, auto& v, auto& w) { c.airflow_api_port = parse_port(v, w); }},
      {"airflow_parallelism",
       [](auto& c, auto& v, auto& w) { c.airflow_parallelism = parse_count(v, w); }},
      {"spark_worker_memory",
       [](auto& c, auto& v, auto& w) { c.spark_worker_memory = parse_heap(v, w); }},
  };
  return table;
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

std::string env_name(const std::string& key) {
  std::string name = "SLUICE_";
  for (char c : key) name.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return name;
}

}  // namespace

std::vector<std::string> config_keys() {
  std::vector<std::string> keys;
  for (const auto& [key, fn] : setters()) keys.push_back(key);
  return keys;
}

void set_config_value(stack_config& config, const std::string& key, const std::string& value,
                      const std::string& origin) {
  auto it = setters().find(key);
  if (it == setters().end()) {
    throw fatal_error(fmt::format("{}: unknown setting '{}' (known: {})", origin, key,
                                  fmt::join(config_keys(), ", ")));
  }
  it->second(config, value, origin);
}

void load_config_file(stack_config& config, const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw fatal_error(fmt::format("--config: cannot read '{}'", file.string()));
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    auto text = trim(line.substr(0, line.find('#')));
    if (text.empty()) continue;
    auto eq = text.find('=');
    if (eq == std::string::npos) {
      throw fatal_error(
          fmt::format("{}:{}: expected 'key = value', got '{}'", file.string(), number, text));
    }
    auto key = trim(text.substr(0, eq));
    set_config_value(config, key, trim(text.substr(eq + 1)),
                     fmt::format("{}:{} ({})", file.string(), number, key));
  }
}

void load_environment(stack_config& config) {
  for (const auto& key : config_keys()) {
    auto name = env_name(key);
    if (const char* value = std::getenv(name.c_str())) {
      set_config_value(config, key, value, "environment variable " + name);
    }
  }
}

}  // namespace sluice::stack
