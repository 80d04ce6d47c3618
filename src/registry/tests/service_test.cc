// Unit tests for the Confluent REST API logic over an in-memory log: ids, versions,
// lookups, soft delete, config, compatibility (409), invalid schemas (42201), write
// failures, and replay of the log rebuilding the same state.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "registry/service.h"

namespace sluice::registry {
namespace {

using json = nlohmann::json;

// The log, kept in memory; can be told to refuse writes.
class memory_log : public log_writer {
 public:
  result<void> append(const log_record& record) override {
    if (refuse) return make_error(errc::unavailable, "broker down (test)");
    records.push_back(record);
    return ok();
  }
  std::vector<log_record> records;
  bool refuse = false;
};

std::string contract_schema() {
  std::ifstream in(std::string(SLUICE_SOURCE_DIR) + "/contract/user.avsc");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string with_field(const std::string& base, const json& field) {
  auto doc = json::parse(base);
  doc["fields"].push_back(field);
  return doc.dump();
}

class ServiceTest : public ::testing::Test {
 protected:
  api_response call(const std::string& method, const std::string& target,
                    const json& body = nullptr) {
    auto q = target.find('?');
    api_request req{method, target.substr(0, q), q == std::string::npos ? "" : target.substr(q + 1),
                    body.is_null() ? "" : body.dump()};
    return svc_.handle(req);
  }
  json ok_json(const std::string& method, const std::string& target, const json& body = nullptr) {
    auto r = call(method, target, body);
    EXPECT_EQ(r.status, 200) << method << " " << target << ": " << r.body;
    return json::parse(r.body);
  }
  int register_schema(const std::string& subject, const std::string& schema) {
    return ok_json("POST", "/subjects/" + subject + "/versions", {{"schema", schema}})["id"];
  }

  memory_log log_;
  service svc_{log_};
};

TEST_F(ServiceTest, FirstSchemaGetsIdOneAndVersionOne) {
  EXPECT_EQ(register_schema("users.raw-value", contract_schema()), 1);
  auto v = ok_json("GET", "/subjects/users.raw-value/versions/latest");
  EXPECT_EQ(v["subject"], "users.raw-value");
  EXPECT_EQ(v["version"], 1);
  EXPECT_EQ(v["id"], 1);
  EXPECT_EQ(json::parse(v["schema"].get<std::string>()), json::parse(contract_schema()));
  EXPECT_EQ(ok_json("GET", "/subjects"), json::array({"users.raw-value"}));
  EXPECT_EQ(ok_json("GET", "/subjects/users.raw-value/versions"), json::array({1}));
  EXPECT_EQ(log_.records.size(), 1u);
}

TEST_F(ServiceTest, SameSchemaAgainReturnsSameIdWithoutWriting) {
  EXPECT_EQ(register_schema("s", contract_schema()), 1);
  // Reformatted but identical schema.
  EXPECT_EQ(register_schema("s", json::parse(contract_schema()).dump(2)), 1);
  EXPECT_EQ(log_.records.size(), 1u);
  EXPECT_EQ(ok_json("GET", "/subjects/s/versions"), json::array({1}));
}

TEST_F(ServiceTest, IdenticalSchemaUnderAnotherSubjectReusesGlobalId) {
  EXPECT_EQ(register_schema("a-value", contract_schema()), 1);
  EXPECT_EQ(register_schema("b-value", R"("string")"), 2);
  EXPECT_EQ(register_schema("c-value", contract_schema()), 1);
  auto usages = ok_json("GET", "/schemas/ids/1/versions");
  EXPECT_EQ(
      usages,
      json::parse(R"([{"subject":"a-value","version":1},{"subject":"c-value","version":1}])"));
}

TEST_F(ServiceTest, SchemaByIdReturnsTheSchemaAnd40403WhenUnknown) {
  register_schema("s", contract_schema());
  auto s = ok_json("GET", "/schemas/ids/1?subject=s");
  EXPECT_EQ(json::parse(s["schema"].get<std::string>())["name"], "User");
  auto missing = call("GET", "/schemas/ids/42");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(json::parse(missing.body)["error_code"], 40403);
}

TEST_F(ServiceTest, IncompatibleChangeIsRefusedWith409AndNothingIsWritten) {
  register_schema("s", contract_schema());
  auto r = call("POST", "/subjects/s/versions",
                {{"schema", with_field(contract_schema(), {{"name", "age"}, {"type", "int"}})}});
  EXPECT_EQ(r.status, 409);
  auto body = json::parse(r.body);
  EXPECT_EQ(body["error_code"], 409);
  EXPECT_NE(body["message"].get<std::string>().find("'age'"), std::string::npos) << r.body;
  EXPECT_EQ(log_.records.size(), 1u);
  EXPECT_EQ(ok_json("GET", "/subjects/s/versions"), json::array({1}));
}

TEST_F(ServiceTest, CompatibleChangeGetsNewIdAndVersion) {
  register_schema("s", contract_schema());
  auto v2 = with_field(contract_schema(),
                       {{"name", "nickname"}, {"type", {"null", "string"}}, {"default", nullptr}});
  EXPECT_EQ(register_schema("s", v2), 2);
  EXPECT_EQ(ok_json("GET", "/subjects/s/versions/latest")["version"], 2);
  EXPECT_EQ(ok_json("GET", "/subjects/s/versions/1")["id"], 1);
}

TEST_F(ServiceTest, NoneLevelAcceptsAnyChange) {
  register_schema("s", contract_schema());
  EXPECT_EQ(ok_json("PUT", "/config/s", {{"compatibility", "NONE"}})["compatibility"], "NONE");
  EXPECT_EQ(register_schema("s", R"("int")"), 2);
  EXPECT_EQ(ok_json("GET", "/config/s")["compatibilityLevel"], "NONE");
  EXPECT_EQ(ok_json("GET", "/config")["compatibilityLevel"], "BACKWARD");
}

TEST_F(ServiceTest, InvalidSchemaIs42201) {
  auto r = call("POST", "/subjects/s/versions", {{"schema", R"({"type":"recrd"})"}});
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(json::parse(r.body)["error_code"], 42201);
  auto t =
      call("POST", "/subjects/s/versions", {{"schema", "\"int\""}, {"schemaType", "PROTOBUF"}});
  EXPECT_EQ(json::parse(t.body)["error_code"], 42201);
  EXPECT_TRUE(log_.records.empty());
}

TEST_F(ServiceTest, LookupFindsRegisteredSchemaOrSays40403) {
  register_schema("s", contract_schema());
  auto found = ok_json("POST", "/subjects/s", {{"schema", contract_schema()}});
  EXPECT_EQ(found["id"], 1);
  EXPECT_EQ(found["version"], 1);
  auto r = call("POST", "/subjects/s", {{"schema", R"("string")"}});
  EXPECT_EQ(json::parse(r.body)["error_code"], 40403);
  auto missing = call("POST", "/subjects/nope", {{"schema", R"("string")"}});
  EXPECT_EQ(json::parse(missing.body)["error_code"], 40401);
}

TEST_F(ServiceTest, UnknownSubjectAndVersionGiveConfluentCodes) {
  EXPECT_EQ(json::parse(call("GET", "/subjects/x/versions").body)["error_code"], 40401);
  register_schema("s", contract_schema());
  EXPECT_EQ(json::parse(call("GET", "/subjects/s/versions/7").body)["error_code"], 40402);
  EXPECT_EQ(json::parse(call("GET", "/subjects/s/versions/zero").body)["error_code"], 42202);
  EXPECT_EQ(call("GET", "/nothing/here").status, 404);
  EXPECT_EQ(call("PATCH", "/subjects").status, 405);
}

TEST_F(ServiceTest, SoftDeletedSubjectDisappearsButIdStaysReachable) {
  register_schema("s", contract_schema());
  EXPECT_EQ(ok_json("DELETE", "/subjects/s"), json::array({1}));
  EXPECT_EQ(ok_json("GET", "/subjects"), json::array());
  EXPECT_EQ(ok_json("GET", "/subjects?deleted=true"), json::array({"s"}));
  EXPECT_EQ(call("GET", "/subjects/s/versions/latest").status, 404);
  ok_json("GET", "/schemas/ids/1");
  // Registering again continues the version numbers and keeps the id.
  EXPECT_EQ(register_schema("s", contract_schema()), 1);
  EXPECT_EQ(ok_json("GET", "/subjects/s/versions"), json::array({2}));
  EXPECT_EQ(call("DELETE", "/subjects/s?permanent=true").status, 501);
}

TEST_F(ServiceTest, CompatibilityEndpointAnswersWithoutRegistering) {
  register_schema("s", contract_schema());
  auto bad = with_field(contract_schema(), {{"name", "age"}, {"type", "int"}});
  auto good = with_field(contract_schema(), {{"name", "age"}, {"type", "int"}, {"default", 0}});
  auto r =
      ok_json("POST", "/compatibility/subjects/s/versions/latest?verbose=true", {{"schema", bad}});
  EXPECT_EQ(r["is_compatible"], false);
  EXPECT_FALSE(r["messages"].empty());
  EXPECT_EQ(
      ok_json("POST", "/compatibility/subjects/s/versions/1", {{"schema", good}})["is_compatible"],
      true);
  EXPECT_EQ(ok_json("POST", "/compatibility/subjects/new/versions/latest",
                    {{"schema", bad}})["is_compatible"],
            true);
  EXPECT_EQ(log_.records.size(), 1u);
}

TEST_F(ServiceTest, InvalidCompatibilityLevelIs42203) {
  auto r = call("PUT", "/config", {{"compatibility", "SIDEWAYS"}});
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(json::parse(r.body)["error_code"], 42203);
  EXPECT_EQ(json::parse(call("GET", "/config/s").body)["error_code"], 40408);
  EXPECT_EQ(ok_json("GET", "/config/s?defaultToGlobal=true")["compatibilityLevel"], "BACKWARD");
}

TEST_F(ServiceTest, FailedLogWriteIs50001AndStateIsUnchanged) {
  log_.refuse = true;
  auto r = call("POST", "/subjects/s/versions", {{"schema", contract_schema()}});
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(json::parse(r.body)["error_code"], 50001);
  EXPECT_NE(r.body.find("broker down"), std::string::npos);
  log_.refuse = false;
  EXPECT_EQ(register_schema("s", contract_schema()), 1);
}

TEST_F(ServiceTest, ReplayingTheLogRebuildsIdsVersionsAndConfig) {
  register_schema("a", contract_schema());
  register_schema("b", R"("string")");
  ok_json("PUT", "/config", {{"compatibility", "FULL"}});
  ok_json("PUT", "/config/b", {{"compatibility", "NONE"}});
  register_schema("b", R"("int")");
  ok_json("DELETE", "/subjects/a");

  memory_log second_log;
  service restarted(second_log);
  for (const auto& rec : log_.records) ASSERT_TRUE(restarted.replay(rec));
  auto get = [&](const std::string& path) {
    return json::parse(restarted.handle({"GET", path, "", ""}).body);
  };
  EXPECT_EQ(get("/subjects"), json::array({"b"}));
  EXPECT_EQ(get("/subjects/b/versions/2")["id"], 3);
  EXPECT_EQ(get("/config")["compatibilityLevel"], "FULL");
  EXPECT_EQ(get("/config/b")["compatibilityLevel"], "NONE");
  // The next new schema continues after the highest id seen.
  auto r =
      restarted.handle({"POST", "/subjects/c/versions", "", json{{"schema", R"("long")"}}.dump()});
  EXPECT_EQ(json::parse(r.body)["id"], 4);
}

TEST_F(ServiceTest, PercentEncodedSubjectIsDecoded) {
  register_schema("my%2Fsubject", R"("string")");
  EXPECT_EQ(ok_json("GET", "/subjects"), json::array({"my/subject"}));
}

TEST(ServiceReplay, GarbledRecordIsAnErrorNamingIt) {
  memory_log log;
  service svc(log);
  auto r = svc.replay({R"({"keytype":"WHAT"})", "{}"});
  ASSERT_FALSE(r);
  EXPECT_NE(r.err().message.find("WHAT"), std::string::npos);
}

}  // namespace
}  // namespace sluice::registry
