// Integration tests for `sluice registry` against the real Kafka (127.0.0.1:9092 or
// SLUICE_KAFKA_BOOTSTRAP): the real binary is started on a free port with a topic unique
// to the run, and driven through the C++ registry client: register the contract schema,
// fetch it by id, an incompatible change refused with 409, a compatible one accepted
// with a new id, and ids that survive a restart (state replayed from the topic).
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "kafka/kafka.h"
#include "registry/client.h"
#include "registry/server.h"
#include "registry/tests/hostile_schemas.h"

extern char** environ;

namespace sluice::registry {
namespace {

using testing::contract_schema;

using namespace std::chrono_literals;
using json = nlohmann::ordered_json;

std::string bootstrap() {
  const char* env = std::getenv("SLUICE_KAFKA_BOOTSTRAP");
  return env != nullptr ? env : "127.0.0.1:9092";
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string with_field(const json& field) {
  auto doc = json::parse(contract_schema());
  doc["fields"].push_back(field);
  return doc.dump();
}

// The `sluice registry` process; stopped with SIGTERM when destroyed.
class registry_process {
 public:
  registry_process(int port, const std::string& topic) : port_(port) {
    std::vector<std::string> args{
        SLUICE_BINARY,        "registry",    "--host",    "127.0.0.1", "--port",
        std::to_string(port), "--bootstrap", bootstrap(), "--topic",   topic};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    EXPECT_EQ(::posix_spawn(&pid_, SLUICE_BINARY, nullptr, nullptr, argv.data(), environ), 0);
  }
  ~registry_process() { stop(); }
  registry_process(const registry_process&) = delete;
  registry_process& operator=(const registry_process&) = delete;

  // Waits until the API answers; false if the process died or 60 s passed.
  bool wait_ready(client& c) {
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        return false;
      }
      auto r = c.latest("readiness-probe");
      if (r || r.err().code == errc::not_found) return true;
      std::this_thread::sleep_for(200ms);
    }
    return false;
  }

  int stop() {
    if (pid_ == 0) return -1;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = 0;
    return status;
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  int port_;
  pid_t pid_ = 0;
};

std::string unique_topic() {
  std::random_device rd;
  return "_schemas.it." +
         std::to_string(std::chrono::system_clock::now().time_since_epoch().count()) + "." +
         std::to_string(rd() % 100000);
}

TEST(RegistryServer, RegistersChecksCompatibilityAndKeepsIdsAcrossRestart) {
  auto topic = unique_topic();
  int port = free_port();
  const std::string subject = "users.raw-value";
  auto v2 = with_field({{"name", "nickname"}, {"type", {"null", "string"}}, {"default", nullptr}});
  int v1_id = 0;
  int v2_id = 0;
  {
    registry_process proc(port, topic);
    client c({proc.url(), 10s, 3s, ""});
    ASSERT_TRUE(proc.wait_ready(c)) << "sluice registry did not come up on " << proc.url();

    auto id = c.register_schema(subject, contract_schema());
    ASSERT_TRUE(id) << id.err().message;
    v1_id = *id;
    EXPECT_EQ(v1_id, 1);  // ids start at 1 on a fresh topic

    auto fetched = c.schema_by_id(v1_id);
    ASSERT_TRUE(fetched) << fetched.err().message;
    EXPECT_EQ(json::parse(*fetched), json::parse(contract_schema()));

    // email: string -> int is refused with 409 and the registry's message.
    auto doc = json::parse(contract_schema());
    doc["fields"][3]["type"] = json::array({"null", "int"});
    auto refused = c.register_schema(subject, doc.dump());
    ASSERT_FALSE(refused);
    EXPECT_EQ(registry_error_code(refused.err()), 409) << refused.err().message;
    EXPECT_NE(refused.err().message.find("/email"), std::string::npos) << refused.err().message;

    // A required field without default is refused too.
    auto required = c.register_schema(subject, with_field({{"name", "age"}, {"type", "int"}}));
    ASSERT_FALSE(required);
    EXPECT_EQ(registry_error_code(required.err()), 409);

    auto check = c.check_compatibility(subject, v2);
    ASSERT_TRUE(check) << check.err().message;
    EXPECT_TRUE(check->compatible);

    auto id2 = c.register_schema(subject, v2);
    ASSERT_TRUE(id2) << id2.err().message;
    v2_id = *id2;
    EXPECT_NE(v2_id, v1_id);
    auto latest = c.latest(subject);
    ASSERT_TRUE(latest);
    EXPECT_EQ(latest->version, 2);
    EXPECT_EQ(latest->id, v2_id);

    // Invalid schema: 42201.
    auto invalid = c.register_schema(subject, R"({"type":"recrod"})");
    ASSERT_FALSE(invalid);
    EXPECT_EQ(registry_error_code(invalid.err()), 42201);

    EXPECT_EQ(proc.stop() & 0x7f, 0) << "registry did not exit cleanly on SIGTERM";
  }
  // Restart on the same topic: the state is replayed from Kafka.
  registry_process proc(port, topic);
  client c({proc.url(), 10s, 3s, ""});
  ASSERT_TRUE(proc.wait_ready(c));
  auto lookup = c.lookup(subject, contract_schema());
  ASSERT_TRUE(lookup) << lookup.err().message;
  EXPECT_EQ(lookup->id, v1_id);
  EXPECT_EQ(lookup->version, 1);
  auto latest = c.latest(subject);
  ASSERT_TRUE(latest) << latest.err().message;
  EXPECT_EQ(latest->id, v2_id);
  // Re-registering returns the persisted id, and a new schema continues the ids.
  auto again = c.register_schema(subject, v2);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, v2_id);
  auto other = c.register_schema("other-value", R"("string")");
  ASSERT_TRUE(other) << other.err().message;
  EXPECT_EQ(*other, v2_id + 1);

  // The topic is compacted with one partition.
  kafka::client_settings ks;
  ks.bootstrap_servers = bootstrap();
  auto adm = kafka::admin::create(ks);
  ASSERT_TRUE(adm);
  auto count = (*adm)->partition_count(kafka::topic(topic), 10s);
  ASSERT_TRUE(count) << count.err().message;
  EXPECT_EQ(*count, 1);
  auto policy = (*adm)->topic_config(kafka::topic(topic), "cleanup.policy", 10s);
  ASSERT_TRUE(policy) << policy.err().message;
  EXPECT_EQ(*policy, "compact");
}

TEST(RegistryStore, StateIsRebuiltFromTheTopicByANewInstance) {
  store_settings settings;
  settings.client.bootstrap_servers = bootstrap();
  settings.topic = kafka::topic(unique_topic());
  auto post = [](service& api, const std::string& path, const json& body) {
    return json::parse(api.handle({"POST", path, "", body.dump()}).body);
  };
  {
    auto first = registry_server::start(settings);
    ASSERT_TRUE(first) << first.err().message;
    EXPECT_EQ((*first)->replayed(), 0u);
    auto& api = (*first)->api();
    EXPECT_EQ(post(api, "/subjects/a/versions", {{"schema", contract_schema()}})["id"], 1);
    EXPECT_EQ(post(api, "/subjects/b/versions", {{"schema", R"("string")"}})["id"], 2);
    EXPECT_EQ(api.handle({"PUT", "/config/b", "", R"({"compatibility":"NONE"})"}).status, 200);
    EXPECT_EQ(api.handle({"DELETE", "/subjects/a", "", ""}).status, 200);
  }
  auto second = registry_server::start(settings);
  ASSERT_TRUE(second) << second.err().message;
  EXPECT_EQ((*second)->replayed(), 4u);
  auto& api = (*second)->api();
  EXPECT_EQ(json::parse(api.handle({"GET", "/subjects", "", ""}).body), json::array({"b"}));
  EXPECT_EQ(json::parse(api.handle({"GET", "/config/b", "", ""}).body)["compatibilityLevel"],
            "NONE");
  EXPECT_EQ(post(api, "/subjects/c/versions", {{"schema", R"("int")"}})["id"], 3);
}

TEST(RegistryServer, UnreachableKafkaMakesStartFailWithClearError) {
  int port = free_port();
  int kafka_port = free_port();  // nothing listens there
  std::string cmd = std::string(SLUICE_BINARY) + " registry --port " + std::to_string(port) +
                    " --bootstrap 127.0.0.1:" + std::to_string(kafka_port) +
                    " --topic _schemas.unreachable --kafka-timeout-ms 3000 2>&1";
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  int status = ::pclose(p);
  EXPECT_NE(WEXITSTATUS(status), 0);
  EXPECT_NE(out.find("127.0.0.1:" + std::to_string(kafka_port)), std::string::npos) << out;
}

}  // namespace
}  // namespace sluice::registry
