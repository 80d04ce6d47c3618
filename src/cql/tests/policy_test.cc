// The session's query plans: token-aware and DC-aware ordering, down nodes skipped.
#include <gtest/gtest.h>

#include <set>

#include "cql/policy.h"

namespace sluice::cql {
namespace {

// 0,1: dc1   2,3: dc2
std::vector<plan_node> four_nodes() {
  return {{"dc1", true}, {"dc1", true}, {"dc2", true}, {"dc2", true}};
}

TEST(QueryPlan, LocalReplicaComesFirstThenLocalNodesThenRemoteReplicasThenTheRest) {
  auto plan = query_plan(four_nodes(), {3, 1}, "dc1", 0);
  EXPECT_EQ(plan, (std::vector<std::size_t>{1, 0, 3, 2}));
}

TEST(QueryPlan, RemoteNodesNeverComeBeforeALocalOne) {
  for (std::size_t rotation = 0; rotation < 8; ++rotation) {
    auto plan = query_plan(four_nodes(), {}, "dc2", rotation);
    ASSERT_EQ(plan.size(), 4u);
    EXPECT_GE(plan[0], 2u);
    EXPECT_GE(plan[1], 2u);
  }
}

TEST(QueryPlan, RotationSpreadsRequestsWithoutAKeyOverTheLocalNodes) {
  std::set<std::size_t> firsts;
  for (std::size_t rotation = 0; rotation < 8; ++rotation)
    firsts.insert(query_plan(four_nodes(), {}, "dc1", rotation).front());
  EXPECT_EQ(firsts, (std::set<std::size_t>{0, 1}));
}

TEST(QueryPlan, DownNodesAreSkippedAndAllDownGivesAnEmptyPlan) {
  auto nodes = four_nodes();
  nodes[1].up = false;
  EXPECT_EQ(query_plan(nodes, {1}, "dc1", 0).front(), 0u);  // its replica is down
  for (auto& n : nodes) n.up = false;
  EXPECT_TRUE(query_plan(nodes, {0}, "dc1", 0).empty());
}

TEST(QueryPlan, LocalOnlyLeavesRemoteNodesOutEvenWhenEveryLocalNodeIsDown) {
  auto nodes = four_nodes();
  EXPECT_EQ(query_plan(nodes, {3, 1}, "dc1", 0, {.local_only = true}),
            (std::vector<std::size_t>{1, 0}));
  nodes[0].up = nodes[1].up = false;
  EXPECT_TRUE(query_plan(nodes, {3}, "dc1", 0, {.local_only = true}).empty());
  EXPECT_FALSE(query_plan(nodes, {3}, "dc1", 0).empty());  // allowed out: remote nodes
}

TEST(QueryPlan, ShuffledReplicasTakeTurnsAtTheHeadOfThePlan) {
  std::vector<plan_node> nodes = {{"dc1", true}, {"dc1", true}, {"dc1", true}, {"dc1", true}};
  std::set<std::size_t> firsts;
  for (std::size_t rotation = 0; rotation < 9; ++rotation) {
    auto plan = query_plan(nodes, {2, 0, 3}, "dc1", rotation, {.shuffle_replicas = true});
    ASSERT_EQ(plan.size(), 4u);
    EXPECT_NE(plan[0], 1u);  // a replica always comes first
    firsts.insert(plan[0]);
  }
  EXPECT_EQ(firsts, (std::set<std::size_t>{0, 2, 3}));
  EXPECT_EQ(query_plan(nodes, {2, 0, 3}, "dc1", 5).front(), 2u);  // unshuffled: the first
}

TEST(QueryPlan, LocalLevelsAreTheLocalOnes) {
  EXPECT_TRUE(is_local_level(consistency::local_one));
  EXPECT_TRUE(is_local_level(consistency::local_quorum));
  EXPECT_TRUE(is_local_level(consistency::local_serial));
  EXPECT_FALSE(is_local_level(consistency::quorum));
  EXPECT_FALSE(is_local_level(consistency::one));
}

server_error timeout_error(std::int32_t code, std::int32_t received, std::int32_t block_for,
                           bool data, std::string write_type = "") {
  server_error e;
  e.code = code;
  e.has_details = true;
  e.received = received;
  e.block_for = block_for;
  e.data_present = data;
  e.write_type = std::move(write_type);
  return e;
}

TEST(RetryPolicy, ReadTimeoutIsRetriedOnceOnTheSameNodeOnlyWhenOnlyTheDataWasMissing) {
  auto missing = timeout_error(0x1200, 2, 2, false);
  EXPECT_EQ(decide_retry(failure_kind::server_error, &missing, false, 0).decision,
            retry_decision::retry_same);
  EXPECT_EQ(decide_retry(failure_kind::server_error, &missing, false, 1).decision,
            retry_decision::rethrow);
  auto present = timeout_error(0x1200, 2, 2, true);
  EXPECT_EQ(decide_retry(failure_kind::server_error, &present, true, 0).decision,
            retry_decision::rethrow);
  auto too_few = timeout_error(0x1200, 1, 2, false);
  EXPECT_EQ(decide_retry(failure_kind::server_error, &too_few, true, 0).decision,
            retry_decision::rethrow);
}

TEST(RetryPolicy, WriteTimeoutIsRetriedOnlyForAnIdempotentBatchLogWrite) {
  auto batch_log = timeout_error(0x1100, 1, 2, false, "BATCH_LOG");
  EXPECT_EQ(decide_retry(failure_kind::server_error, &batch_log, true, 0).decision,
            retry_decision::retry_same);
  EXPECT_EQ(decide_retry(failure_kind::server_error, &batch_log, false, 0).decision,
            retry_decision::rethrow);
  EXPECT_EQ(decide_retry(failure_kind::server_error, &batch_log, true, 1).decision,
            retry_decision::rethrow);
  for (std::string type : {"SIMPLE", "BATCH", "UNLOGGED_BATCH", "COUNTER", "CAS"}) {
    auto e = timeout_error(0x1100, 1, 2, false, type);
    EXPECT_EQ(decide_retry(failure_kind::server_error, &e, true, 0).decision,
              retry_decision::rethrow)
        << type;
  }
}

TEST(RetryPolicy, UnavailableGoesOnceToTheNextNodeWhateverTheStatement) {
  auto e = timeout_error(0x1000, 1, 2, false);
  EXPECT_EQ(decide_retry(failure_kind::server_error, &e, false, 0).decision,
            retry_decision::retry_next);
  EXPECT_EQ(decide_retry(failure_kind::server_error, &e, true, 1).decision,
            retry_decision::rethrow);
}

TEST(RetryPolicy, OverloadedServerAndTruncateErrorsMoveOnForIdempotentStatementsOnly) {
  for (std::int32_t code : {0x1001, 0x0000, 0x1003}) {
    server_error e;
    e.code = code;
    EXPECT_EQ(decide_retry(failure_kind::server_error, &e, true, 5).decision,
              retry_decision::retry_next)
        << code;
    EXPECT_EQ(decide_retry(failure_kind::server_error, &e, false, 0).decision,
              retry_decision::rethrow)
        << code;
  }
}

TEST(RetryPolicy, WhatNeverRanMovesOnForAnyStatementAndWhatMayHaveRunOnlyIfIdempotent) {
  server_error bootstrapping;
  bootstrapping.code = 0x1002;
  EXPECT_EQ(decide_retry(failure_kind::server_error, &bootstrapping, false, 3).decision,
            retry_decision::retry_next);
  for (auto kind : {failure_kind::not_sent, failure_kind::no_node, failure_kind::reprepare_failed})
    EXPECT_EQ(decide_retry(kind, nullptr, false, 0).decision, retry_decision::retry_next);
  for (auto kind : {failure_kind::connection_lost, failure_kind::client_timeout}) {
    EXPECT_EQ(decide_retry(kind, nullptr, false, 0).decision, retry_decision::rethrow);
    EXPECT_EQ(decide_retry(kind, nullptr, true, 0).decision, retry_decision::retry_next);
  }
}

TEST(RetryPolicy, ErrorsAboutTheStatementItselfAreNeverRetried) {
  for (std::int32_t code : {0x2000, 0x2100, 0x2200, 0x2300, 0x2400, 0x1300, 0x1500, 0x000A}) {
    server_error e;
    e.code = code;
    EXPECT_EQ(decide_retry(failure_kind::server_error, &e, true, 0).decision,
              retry_decision::rethrow)
        << code;
  }
}

TEST(StatementKind, SchemaChangesAreRecognisedPastCommentsAndCase) {
  EXPECT_TRUE(is_schema_statement("CREATE TABLE t (k int PRIMARY KEY)"));
  EXPECT_TRUE(is_schema_statement("  -- a comment\n  drop keyspace ks"));
  EXPECT_TRUE(is_schema_statement("/* why */ Alter TABLE t ADD c int"));
  EXPECT_TRUE(is_schema_statement("TRUNCATE t"));
  EXPECT_TRUE(is_schema_statement("use ks"));
  EXPECT_FALSE(is_schema_statement("INSERT INTO t (k) VALUES (1)"));
  EXPECT_FALSE(is_schema_statement("SELECT create FROM t"));
  EXPECT_TRUE(is_read_statement("\n select * from t"));
  EXPECT_FALSE(is_read_statement("UPDATE t SET v = 1 WHERE k = 1"));
}

}  // namespace
}  // namespace sluice::cql

namespace sluice::cql {
namespace {

TEST(ContactPoints, NameWithSeveralAddressesBecomesOneContactPerAddressKeepingTheName) {
  auto resolve = [](const std::string& name) -> std::vector<std::string> {
    if (name == "cassandra.internal") return {"10.0.0.1", "10.0.0.2", "10.0.0.3"};
    if (name == "one.internal") return {"10.0.1.1"};
    return {};  // does not resolve
  };
  auto contacts = expand_contacts(
      {"cassandra.internal", "one.internal", "nowhere", "cassandra.internal"}, resolve);
  ASSERT_EQ(contacts.size(), 5u);
  EXPECT_EQ(contacts[0].name, "cassandra.internal");
  EXPECT_EQ(contacts[0].address, "10.0.0.1");
  EXPECT_EQ(contacts[1].address, "10.0.0.2");
  EXPECT_EQ(contacts[2].address, "10.0.0.3");
  // One address: connect to the name itself (as before); none: kept, its error comes later.
  EXPECT_EQ(contacts[3].name, "one.internal");
  EXPECT_EQ(contacts[3].address, "");
  EXPECT_EQ(contacts[4].name, "nowhere");
  EXPECT_EQ(contacts[4].address, "");
}

}  // namespace
}  // namespace sluice::cql
