// Unit tests for the Confluent REST API logic over an in-memory log: ids, versions,
// lookups, soft delete, config, compatibility (409), invalid schemas (42201), write
// failures, replay of the log rebuilding the same state, and hostile requests (nesting
// past the limits, compatibility checks too costly to finish) answered 422 promptly.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <future>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "registry/service.h"
#include "registry/tests/hostile_schemas.h"

namespace sluice::registry {
namespace {

using testing::contract_schema;

using plain_json = nlohmann::json;

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

std::string with_field(const std::string& base, const plain_json& field) {
  auto doc = plain_json::parse(base);
  doc["fields"].push_back(field);
  return doc.dump();
}

class ServiceTest : public ::testing::Test {
 protected:
  api_response call(const std::string& method, const std::string& target,
                    const plain_json& body = nullptr) {
    auto q = target.find('?');
    api_request req{method, target.substr(0, q), q == std::string::npos ? "" : target.substr(q + 1),
                    body.is_null() ? "" : body.dump()};
    return svc_.handle(req);
  }
  plain_json ok_json(const std::string& method, const std::string& target,
                     const plain_json& body = nullptr) {
    auto r = call(method, target, body);
    EXPECT_EQ(r.status, 200) << method << " " << target << ": " << r.body;
    return plain_json::parse(r.body);
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
  EXPECT_EQ(plain_json::parse(v["schema"].get<std::string>()),
            plain_json::parse(contract_schema()));
  EXPECT_EQ(ok_json("GET", "/subjects"), plain_json::array({"users.raw-value"}));
  EXPECT_EQ(ok_json("GET", "/subjects/users.raw-value/versions"), plain_json::array({1}));
  EXPECT_EQ(log_.records.size(), 1u);
}

TEST_F(ServiceTest, SameSchemaAgainReturnsSameIdWithoutWriting) {
  EXPECT_EQ(register_schema("s", contract_schema()), 1);
  // Reformatted but identical schema.
  EXPECT_EQ(register_schema("s", plain_json::parse(contract_schema()).dump(2)), 1);
  EXPECT_EQ(log_.records.size(), 1u);
  EXPECT_EQ(ok_json("GET", "/subjects/s/versions"), plain_json::array({1}));
}

TEST_F(ServiceTest, IdenticalSchemaUnderAnotherSubjectReusesGlobalId) {
  EXPECT_EQ(register_schema("a-value", contract_schema()), 1);
  EXPECT_EQ(register_schema("b-value", R"("string")"), 2);
  EXPECT_EQ(register_schema("c-value", contract_schema()), 1);
  auto usages = ok_json("GET", "/schemas/ids/1/versions");
  EXPECT_EQ(usages,
            plain_json::parse(
                R"([{"subject":"a-value","version":1},{"subject":"c-value","version":1}])"));
}

TEST_F(ServiceTest, SchemaByIdReturnsTheSchemaAnd40403WhenUnknown) {
  register_schema("s", contract_schema());
  auto s = ok_json("GET", "/schemas/ids/1?subject=s");
  EXPECT_EQ(plain_json::parse(s["schema"].get<std::string>())["name"], "User");
  auto missing = call("GET", "/schemas/ids/42");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(plain_json::parse(missing.body)["error_code"], 40403);
}

TEST_F(ServiceTest, IncompatibleChangeIsRefusedWith409AndNothingIsWritten) {
  register_schema("s", contract_schema());
  auto r = call("POST", "/subjects/s/versions",
                {{"schema", with_field(contract_schema(), {{"name", "age"}, {"type", "int"}})}});
  EXPECT_EQ(r.status, 409);
  auto body = plain_json::parse(r.body);
  EXPECT_EQ(body["error_code"], 409);
  EXPECT_NE(body["message"].get<std::string>().find("'age'"), std::string::npos) << r.body;
  EXPECT_EQ(log_.records.size(), 1u);
  EXPECT_EQ(ok_json("GET", "/subjects/s/versions"), plain_json::array({1}));
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
  EXPECT_EQ(plain_json::parse(r.body)["error_code"], 42201);
  auto t =
      call("POST", "/subjects/s/versions", {{"schema", "\"int\""}, {"schemaType", "PROTOBUF"}});
  EXPECT_EQ(plain_json::parse(t.body)["error_code"], 42201);
  EXPECT_TRUE(log_.records.empty());
}

TEST_F(ServiceTest, LookupFindsRegisteredSchemaOrSays40403) {
  register_schema("s", contract_schema());
  auto found = ok_json("POST", "/subjects/s", {{"schema", contract_schema()}});
  EXPECT_EQ(found["id"], 1);
  EXPECT_EQ(found["version"], 1);
  auto r = call("POST", "/subjects/s", {{"schema", R"("string")"}});
  EXPECT_EQ(plain_json::parse(r.body)["error_code"], 40403);
  auto missing = call("POST", "/subjects/nope", {{"schema", R"("string")"}});
  EXPECT_EQ(plain_json::parse(missing.body)["error_code"], 40401);
}

TEST_F(ServiceTest, UnknownSubjectAndVersionGiveConfluentCodes) {
  EXPECT_EQ(plain_json::parse(call("GET", "/subjects/x/versions").body)["error_code"], 40401);
  register_schema("s", contract_schema());
  EXPECT_EQ(plain_json::parse(call("GET", "/subjects/s/versions/7").body)["error_code"], 40402);
  EXPECT_EQ(plain_json::parse(call("GET", "/subjects/s/versions/zero").body)["error_code"], 42202);
  EXPECT_EQ(call("GET", "/nothing/here").status, 404);
  EXPECT_EQ(call("PATCH", "/subjects").status, 405);
}

TEST_F(ServiceTest, SoftDeletedSubjectDisappearsButIdStaysReachable) {
  register_schema("s", contract_schema());
  EXPECT_EQ(ok_json("DELETE", "/subjects/s"), plain_json::array({1}));
  EXPECT_EQ(ok_json("GET", "/subjects"), plain_json::array());
  EXPECT_EQ(ok_json("GET", "/subjects?deleted=true"), plain_json::array({"s"}));
  EXPECT_EQ(call("GET", "/subjects/s/versions/latest").status, 404);
  ok_json("GET", "/schemas/ids/1");
  // Registering again continues the version numbers and keeps the id.
  EXPECT_EQ(register_schema("s", contract_schema()), 1);
  EXPECT_EQ(ok_json("GET", "/subjects/s/versions"), plain_json::array({2}));
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
  EXPECT_EQ(plain_json::parse(r.body)["error_code"], 42203);
  EXPECT_EQ(plain_json::parse(call("GET", "/config/s").body)["error_code"], 40408);
  EXPECT_EQ(ok_json("GET", "/config/s?defaultToGlobal=true")["compatibilityLevel"], "BACKWARD");
}

TEST_F(ServiceTest, FailedLogWriteIs50001AndStateIsUnchanged) {
  log_.refuse = true;
  auto r = call("POST", "/subjects/s/versions", {{"schema", contract_schema()}});
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(plain_json::parse(r.body)["error_code"], 50001);
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
    return plain_json::parse(restarted.handle({"GET", path, "", ""}).body);
  };
  EXPECT_EQ(get("/subjects"), plain_json::array({"b"}));
  EXPECT_EQ(get("/subjects/b/versions/2")["id"], 3);
  EXPECT_EQ(get("/config")["compatibilityLevel"], "FULL");
  EXPECT_EQ(get("/config/b")["compatibilityLevel"], "NONE");
  // The next new schema continues after the highest id seen.
  auto r = restarted.handle(
      {"POST", "/subjects/c/versions", "", plain_json{{"schema", R"("long")"}}.dump()});
  EXPECT_EQ(plain_json::parse(r.body)["id"], 4);
}

TEST_F(ServiceTest, PercentEncodedSubjectIsDecoded) {
  register_schema("my%2Fsubject", R"("string")");
  EXPECT_EQ(ok_json("GET", "/subjects"), plain_json::array({"my/subject"}));
}

// ---- hostile requests ----

// The status, error code and message of a refused call.
struct refusal {
  int status = 0;
  int code = 0;
  std::string message;
};

refusal refusal_of(const api_response& r) {
  auto body = plain_json::parse(r.body);
  return {r.status, body.value("error_code", 0), body.value("message", std::string())};
}

TEST_F(ServiceTest, RegisterRejectsASchemaNested300000LevelsDeepWith422NamingTheLimit) {
  for (const auto& schema : {testing::brackets(300'000), testing::nested_arrays(300'000)}) {
    auto r = refusal_of(call("POST", "/subjects/s/versions", {{"schema", schema}}));
    EXPECT_EQ(r.status, 422);
    EXPECT_EQ(r.code, 42201);
    EXPECT_NE(r.message.find(std::to_string(max_json_nesting)), std::string::npos) << r.message;
  }
  EXPECT_TRUE(log_.records.empty());
}

TEST_F(ServiceTest, RegisterRejectsASchemaNestedDeeperThanTheTypeLimitWith422) {
  auto r = refusal_of(call("POST", "/subjects/s/versions",
                           {{"schema", testing::nested_arrays(max_type_nesting + 1)}}));
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.code, 42201);
  EXPECT_NE(r.message.find(std::to_string(max_type_nesting)), std::string::npos) << r.message;
  EXPECT_EQ(register_schema("s", testing::nested_arrays(max_type_nesting)), 1);
}

TEST_F(ServiceTest, RequestBodiesNested300000LevelsDeepAre422NamingTheLimit) {
  auto deep_body = testing::brackets(300'000);
  for (const auto& target :
       {"/subjects/s/versions", "/subjects/s", "/compatibility/subjects/s/versions/latest"}) {
    auto r = refusal_of(svc_.handle({"POST", target, "", deep_body}));
    EXPECT_EQ(r.status, 422) << target;
    EXPECT_NE(r.message.find(std::to_string(max_json_nesting)), std::string::npos) << r.message;
  }
  auto config = refusal_of(svc_.handle({"PUT", "/config", "", deep_body}));
  EXPECT_EQ(config.status, 422);
  EXPECT_EQ(config.code, 42203);
  EXPECT_NE(config.message.find(std::to_string(max_json_nesting)), std::string::npos)
      << config.message;
  EXPECT_EQ(refusal_of(svc_.handle({"PUT", "/config", "", R"({"compatibility":7})"})).code, 42203);
}

TEST_F(ServiceTest, RequestsCarryingInvalidUtf8OrHugeNumbersAreAnsweredInsteadOfThrowing) {
  // nlohmann's dump() throws on invalid UTF-8 and its parser on numbers beyond double's
  // range, and the HTTP layer catches nothing: each of these ended the process.
  register_schema("s", contract_schema());
  const std::string bad_body = "{\"schema\":\"\xff\"}";
  const std::string cut_body = "{\"compatibility\":\"" + std::string(150, 'a') + "\xc3\xa9\"}";
  const std::string huge_number =
      R"({"schema":"{\"type\":\"fixed\",\"name\":\"F\",\"size\":1e400}"})";
  std::vector<api_request> requests{
      {"POST", "/subjects/s/versions", "", bad_body},
      {"POST", "/compatibility/subjects/s/versions/latest", "", bad_body},
      {"PUT", "/config", "", bad_body},
      {"PUT", "/config", "", cut_body},
      {"POST", "/subjects/s/versions", "", huge_number},
      {"PUT", "/config", "", R"({"compatibility":1e400})"},
      {"POST", "/subjects/%FF/versions", "", R"({"schema":"\"int\""})"},
      {"GET", "/subjects/s/versions/%FF", "", ""},
      {"PUT", "/config/%C3", "", R"({"compatibility":"NONE"})"},
      {"GET", "/config/%FF", "", ""},
      {"DELETE", "/subjects/%FF", "", ""},
  };
  for (const auto& req : requests) {
    api_response r;
    ASSERT_NO_THROW(r = svc_.handle(req)) << req.method << " " << req.path;
    EXPECT_TRUE(r.status == 400 || r.status == 422)
        << req.method << " " << req.path << ": " << r.body;
    EXPECT_TRUE(plain_json::accept(r.body)) << r.body;
  }
  EXPECT_EQ(log_.records.size(), 1u);
}

TEST_F(ServiceTest, LookalikeUnionCheckAnswersWithinASecondWithTheVerdictOr422) {
  auto [reader, writer] = testing::lookalike_union_pair(40);
  EXPECT_EQ(register_schema("s", writer), 1);
  auto start = std::chrono::steady_clock::now();
  auto r = call("POST", "/compatibility/subjects/s/versions/latest", {{"schema", reader}});
  auto reg = call("POST", "/subjects/s/versions", {{"schema", reader}});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  for (const auto& answer : {r, reg}) {
    if (answer.status == 200) continue;
    auto why = refusal_of(answer);
    EXPECT_EQ(why.status, 422) << answer.body;
    EXPECT_NE(why.message.find("too costly"), std::string::npos) << why.message;
  }
  if (r.status == 200) {
    EXPECT_EQ(plain_json::parse(r.body)["is_compatible"], true) << r.body;
  }
  if (reg.status == 200) {
    EXPECT_EQ(plain_json::parse(reg.body)["id"], 2) << reg.body;
  }
}

TEST(ServiceCheckBudget, RegisterAnswers422TooCostlyWhenTheCheckExceedsTheBudgetAndWritesNothing) {
  memory_log log;
  service svc(log, 20);
  auto [reader, writer] = testing::lookalike_union_pair(5);
  auto first =
      svc.handle({"POST", "/subjects/s/versions", "", plain_json{{"schema", writer}}.dump()});
  ASSERT_EQ(first.status, 200) << first.body;
  for (const auto& target : {"/subjects/s/versions", "/compatibility/subjects/s/versions/1"}) {
    auto r = refusal_of(svc.handle({"POST", target, "", plain_json{{"schema", reader}}.dump()}));
    EXPECT_EQ(r.status, 422) << target;
    EXPECT_EQ(r.code, 42201) << target;
    EXPECT_NE(r.message.find("too costly"), std::string::npos) << r.message;
    EXPECT_NE(r.message.find("20 steps"), std::string::npos) << r.message;
  }
  EXPECT_EQ(log.records.size(), 1u);
}

TEST(ServiceCheckBudget, StatsAnswerWithinASecondWhileAPathologicalCheckRuns) {
  memory_log log;
  service svc(log);
  auto [reader, writer] = testing::lookalike_union_pair(40);
  ASSERT_EQ(svc.handle({"POST", "/subjects/s/versions", "", plain_json{{"schema", writer}}.dump()})
                .status,
            200);
  auto check = std::async(std::launch::async, [&svc, reader = reader] {
    return svc.handle({"POST", "/compatibility/subjects/s/versions/latest", "",
                       plain_json{{"schema", reader}}.dump()});
  });
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(svc.stats().next_id, 2);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  ASSERT_EQ(check.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  auto answer = check.get();
  EXPECT_TRUE(answer.status == 200 || answer.status == 422) << answer.body;
}

TEST(ServiceReplay, MalformedRecordsAreRefusedWithoutThrowingAndGoodOnesServed) {
  memory_log log;
  service svc(log);
  const std::string key = R"({"keytype":"SCHEMA","subject":"s","version":1,"magic":1})";
  EXPECT_FALSE(svc.replay({"[]", R"({"id":1,"schema":"\"int\""})"}));
  EXPECT_FALSE(svc.replay({key, R"({"id":"1","schema":"\"int\""})"}));
  EXPECT_FALSE(svc.replay({key, R"({"id":1,"schema":"\"int\"","deleted":"no"})"}));
  ASSERT_TRUE(svc.replay({key, R"({"id":1,"schema":"\"int\""})"}));
  auto got = plain_json::parse(svc.handle({"GET", "/subjects/s/versions/1", "", ""}).body);
  EXPECT_EQ(got["id"], 1);
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
