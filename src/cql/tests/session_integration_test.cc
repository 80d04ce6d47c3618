// The CQL client against the real Cassandra started by `sluice up` (127.0.0.1:9042, or
// SLUICE_CASSANDRA_PORT). Each run uses its own keyspace.
#include <gtest/gtest.h>

#include <unistd.h>
#include <future>
#include <map>

#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <set>

#include "cql/cql.h"

namespace sluice::cql {
namespace {

session_config local() {
  session_config c;
  if (const char* port = std::getenv("SLUICE_CASSANDRA_PORT")) c.port = std::atoi(port);
  c.timeout = std::chrono::milliseconds(30000);
  return c;
}

/// Asserts a result is ok, printing the error otherwise.
#define ASSERT_CQL_OK(expr)                                       \
  do {                                                            \
    auto&& r_ = (expr);                                           \
    ASSERT_TRUE(r_.ok()) << #expr << ": " << r_.err().describe(); \
  } while (0)

class CqlSession : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto s = session::connect(local());
    ASSERT_TRUE(s.ok()) << s.err().describe();
    keyspace_ = "cqltest_" + std::to_string(getpid());
    auto r =
        (*s)->query("CREATE KEYSPACE IF NOT EXISTS " + keyspace_ +
                    " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
    ASSERT_TRUE(r.ok()) << r.err().describe();
  }
  static void TearDownTestSuite() {
    auto s = session::connect(local());
    if (s.ok()) (void)(*s)->query("DROP KEYSPACE IF EXISTS " + keyspace_);
  }
  std::unique_ptr<session> open() {
    auto c = local();
    c.keyspace = keyspace_;
    auto s = session::connect(c);
    EXPECT_TRUE(s.ok()) << s.err().describe();
    return s.ok() ? std::move(*s) : nullptr;
  }
  static inline std::string keyspace_;
};

TEST_F(CqlSession, EveryTypeRoundTripsIncludingNullsEmptyUnicodeAndLargeBlobs) {
  auto s = open();
  ASSERT_CQL_OK(
      s->query("CREATE TABLE IF NOT EXISTS types (id uuid PRIMARY KEY, t text, i int, "
               "b bigint, f boolean, d double, day date, ts timestamp, blob blob)"));
  auto insert =
      s->prepare("INSERT INTO types (id, t, i, b, f, d, day, ts, blob) VALUES (?,?,?,?,?,?,?,?,?)");
  ASSERT_TRUE(insert.ok()) << insert.err().describe();
  std::string big(1 << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
  auto id1 = *uuid_value("7f1d2c3a-1b2c-4d5e-8f90-0123456789ab");
  auto id2 = *uuid_value("00000000-0000-4000-8000-000000000002");
  ASSERT_TRUE(
      s->execute(*insert, {id1, text_value("Zoë 山田 😀"), int_value(-42), bigint_value(1LL << 40),
                           boolean_value(true), double_value(2.5), date_value(-25567),
                           timestamp_value(1433161845123), blob_value(big)})
          .ok());
  ASSERT_CQL_OK(s->execute(*insert, {id2, text_value(""), std::nullopt, std::nullopt, std::nullopt,
                                     std::nullopt, std::nullopt, std::nullopt, std::nullopt}));
  auto rows = s->query("SELECT id, t, i, b, f, d, day, ts, blob FROM types WHERE id = ?", {id1});
  ASSERT_TRUE(rows.ok()) << rows.err().describe();
  ASSERT_EQ(rows->rows.size(), 1u);
  const auto& r = rows->rows[0];
  EXPECT_EQ(*r[1], "Zoë 山田 😀");
  EXPECT_EQ(read_int(*r[2]), -42);
  EXPECT_EQ(read_bigint(*r[3]), 1LL << 40);
  EXPECT_EQ(cell_text(rows->columns[4].type, r[4]), "true");
  EXPECT_EQ(cell_text(rows->columns[5].type, r[5]), "2.5");
  EXPECT_EQ(read_date_days(*r[6]), -25567);
  EXPECT_EQ(read_bigint(*r[7]), 1433161845123);
  EXPECT_EQ(*r[8], big);
  auto empty = s->query("SELECT t, i FROM types WHERE id = ?", {id2});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty->rows[0][0], "");
  EXPECT_FALSE(empty->rows[0][1].has_value());
}

TEST_F(CqlSession, CollectionsTimeuuidAsciiAndInetRoundTripIncludingEmptyOnes) {
  auto s = open();
  ASSERT_CQL_OK(
      s->query("CREATE TABLE IF NOT EXISTS more_types (id int PRIMARY KEY, tags list<text>, "
               "scores set<int>, attrs map<text, bigint>, at timeuuid, code ascii, ip inet)"));
  auto insert = s->prepare(
      "INSERT INTO more_types (id, tags, scores, attrs, at, code, ip) VALUES (?,?,?,?,?,?,?)");
  ASSERT_TRUE(insert.ok()) << insert.err().describe();
  auto at = *uuid_value("e0c6a8a0-8d3e-11ef-9f1a-0242ac120002");  // a version-1 uuid
  ASSERT_CQL_OK(s->execute(
      *insert,
      {int_value(1), collection_value({text_value("a\"b"), text_value("Zoë")}),
       collection_value({int_value(3), int_value(1), int_value(2)}),
       map_value({{text_value("x"), bigint_value(-1)}, {text_value("y"), bigint_value(1LL << 40)}}),
       at, text_value("ABC-123"), bound_value(std::string("\x0a\x00\x00\x01", 4))}));
  ASSERT_CQL_OK(s->execute(*insert, {int_value(2), collection_value({}), std::nullopt,
                                     map_value({}), std::nullopt, text_value(""), std::nullopt}));
  auto rows = s->query("SELECT tags, scores, attrs, at, code, ip FROM more_types WHERE id = 1");
  ASSERT_TRUE(rows.ok()) << rows.err().describe();
  ASSERT_EQ(rows->rows.size(), 1u);
  const auto& r = rows->rows[0];
  const auto& c = rows->columns;
  EXPECT_EQ(cell_text(c[0].type, r[0]), R"(["a\"b", "Zoë"])");
  EXPECT_EQ(cell_text(c[1].type, r[1]), "{1, 2, 3}");  // a set comes back sorted
  EXPECT_EQ(cell_text(c[2].type, r[2]), R"({"x": -1, "y": 1099511627776})");
  EXPECT_EQ(cell_text(c[3].type, r[3]), "e0c6a8a0-8d3e-11ef-9f1a-0242ac120002");
  EXPECT_EQ(cell_text(c[4].type, r[4]), "ABC-123");
  EXPECT_EQ(cell_text(c[5].type, r[5]), "10.0.0.1");
  // Cassandra stores an empty collection as no collection at all.
  auto empty = s->query("SELECT tags, scores, attrs, code FROM more_types WHERE id = 2");
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->rows[0][0].has_value());
  EXPECT_FALSE(empty->rows[0][2].has_value());
  EXPECT_EQ(*empty->rows[0][3], "");
}

TEST_F(CqlSession, UnloggedBatchOfOnePartitionWritesEveryRow) {
  auto s = open();
  ASSERT_CQL_OK(s->query(
      "CREATE TABLE IF NOT EXISTS events (user int, seq int, what text, PRIMARY KEY (user, seq))"));
  auto insert = s->prepare("INSERT INTO events (user, seq, what) VALUES (?, ?, ?)");
  ASSERT_TRUE(insert.ok()) << insert.err().describe();
  std::vector<std::vector<bound_value>> rows;
  for (int i = 0; i < 50; ++i)
    rows.push_back({int_value(7), int_value(i), text_value("event " + std::to_string(i))});
  ASSERT_CQL_OK(s->execute_batch(*insert, rows));
  auto back = s->query("SELECT seq, what FROM events WHERE user = 7");
  ASSERT_TRUE(back.ok()) << back.err().describe();
  ASSERT_EQ(back->rows.size(), 50u);
  EXPECT_EQ(*back->rows[49][1], "event 49");
}

TEST_F(CqlSession, BatchWithAValueOfTheWrongSizeIsRefusedWithTheServersMessage) {
  auto s = open();
  ASSERT_CQL_OK(s->query(
      "CREATE TABLE IF NOT EXISTS events (user int, seq int, what text, PRIMARY KEY (user, seq))"));
  auto insert = s->prepare("INSERT INTO events (user, seq, what) VALUES (?, ?, ?)");
  ASSERT_TRUE(insert.ok());
  auto r = s->execute_batch(*insert, {{int_value(8), bigint_value(1), text_value("x")}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().message.find("BATCH"), std::string::npos) << r.err().message;
}

TEST_F(CqlSession, PagingThroughTwentyThousandRowsReturnsEachExactlyOnce) {
  auto s = open();
  ASSERT_CQL_OK(s->query("CREATE TABLE IF NOT EXISTS many (p int, c int, PRIMARY KEY (p, c))"));
  auto insert = s->prepare("INSERT INTO many (p, c) VALUES (?, ?)");
  ASSERT_TRUE(insert.ok()) << insert.err().describe();
  std::vector<std::vector<bound_value>> values;
  for (int i = 0; i < 20000; ++i) values.push_back({int_value(i % 50), int_value(i)});
  auto results = s->execute_many(*insert, values, 512);
  for (const auto& r : results) ASSERT_TRUE(r.ok()) << r.err().describe();
  auto all = s->query("SELECT c FROM many");  // 5000 per page: four pages at least
  ASSERT_TRUE(all.ok()) << all.err().describe();
  std::set<int> seen;
  for (const auto& row : all->rows) seen.insert(read_int(*row[0]));
  EXPECT_EQ(all->rows.size(), 20000u);
  EXPECT_EQ(seen.size(), 20000u);

  // The same rows through a prepared SELECT: EXECUTE pages too.
  auto select = s->prepare("SELECT c FROM many WHERE p = ?");
  ASSERT_TRUE(select.ok()) << select.err().describe();
  std::promise<result<rows_result>> first;
  s->execute_async(*select, {int_value(7)},
                   [&](result<rows_result> r) { first.set_value(std::move(r)); },
                   {.page_size = 100});
  auto page = first.get_future().get();
  ASSERT_TRUE(page.ok()) << page.err().describe();
  EXPECT_EQ(page->rows.size(), 100u);
  EXPECT_TRUE(page->paging_state.has_value()) << "one page of 100 of the partition's 400 rows";
  auto partition = s->execute(*select, {int_value(7)}, {.page_size = 150});
  ASSERT_TRUE(partition.ok()) << partition.err().describe();
  std::set<int> in_partition;
  for (const auto& row : partition->rows) in_partition.insert(read_int(*row[0]));
  EXPECT_EQ(partition->rows.size(), 400u);
  EXPECT_EQ(in_partition.size(), 400u);
}

TEST_F(CqlSession, PreparedSelectAfterAlterTableReturnsTheNewColumnWithItsValue) {
  auto s = open();
  ASSERT_CQL_OK(s->query("DROP TABLE IF EXISTS evolving"));
  ASSERT_CQL_OK(s->query("CREATE TABLE evolving (id int PRIMARY KEY, a text, c int)"));
  auto select = s->prepare("SELECT * FROM evolving WHERE id = ?");
  ASSERT_TRUE(select.ok()) << select.err().describe();
  ASSERT_CQL_OK(s->query("INSERT INTO evolving (id, a, c) VALUES (1, 'x', 7)"));
  auto before = s->execute(*select, {int_value(1)});
  ASSERT_TRUE(before.ok()) << before.err().describe();
  ASSERT_EQ(before->columns.size(), 3u);
  ASSERT_CQL_OK(s->query("ALTER TABLE evolving ADD b text"));
  ASSERT_CQL_OK(s->query("UPDATE evolving SET b = 'y' WHERE id = 1"));
  auto rows = s->execute(*select, {int_value(1)});
  ASSERT_TRUE(rows.ok()) << rows.err().describe();
  ASSERT_EQ(rows->rows.size(), 1u);
  // The statement prepared before the ALTER now returns the new column, and every cell
  // is decoded with its own column's type (a client keeping the old metadata would read
  // b's bytes as c's int or drop b).
  std::map<std::string, std::string> by_name;
  ASSERT_EQ(rows->columns.size(), rows->rows[0].size());
  for (std::size_t i = 0; i < rows->columns.size(); ++i) {
    by_name[rows->columns[i].name] = cell_text(rows->columns[i].type, rows->rows[0][i]);
  }
  EXPECT_EQ(by_name,
            (std::map<std::string, std::string>{{"id", "1"}, {"a", "x"}, {"b", "y"}, {"c", "7"}}));
}

TEST_F(CqlSession, DroppedTableGivesAClearError) {
  auto s = open();
  ASSERT_CQL_OK(s->query("CREATE TABLE IF NOT EXISTS doomed (id int PRIMARY KEY)"));
  auto insert = s->prepare("INSERT INTO doomed (id) VALUES (?)");
  ASSERT_TRUE(insert.ok()) << insert.err().describe();
  ASSERT_CQL_OK(s->query("DROP TABLE doomed"));
  auto r = s->execute(*insert, {int_value(1)});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().message.find("doomed"), std::string::npos) << r.err().message;
}

TEST_F(CqlSession, SyntaxErrorCarriesTheServerMessage) {
  auto s = open();
  auto r = s->query("SELEKT nothing");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().message.find("syntax error"), std::string::npos) << r.err().message;
}

TEST_F(CqlSession, Murmur3TokensEqualCassandrasOwnForBlobAndUuidKeysOfEveryLength) {
  auto s = open();
  ASSERT_CQL_OK(s->query("CREATE TABLE IF NOT EXISTS by_blob (k blob PRIMARY KEY)"));
  ASSERT_CQL_OK(s->query("CREATE TABLE IF NOT EXISTS by_uuid (k uuid PRIMARY KEY)"));
  auto insert_blob = s->prepare("INSERT INTO by_blob (k) VALUES (?)");
  auto insert_uuid = s->prepare("INSERT INTO by_uuid (k) VALUES (?)");
  ASSERT_TRUE(insert_blob.ok() && insert_uuid.ok());
  // Every tail length 1..15 over three block counts, with bytes >= 0x80 (which Java
  // sign-extends) in the tail.
  std::vector<std::vector<bound_value>> blob_rows;
  for (int length = 1; length < 48; ++length) {
    std::string k;
    for (int i = 0; i < length; ++i) k.push_back(static_cast<char>((i * 37 + length * 11) % 256));
    blob_rows.push_back({blob_value(k)});
  }
  for (auto& r : s->execute_many(*insert_blob, blob_rows)) ASSERT_TRUE(r.ok());
  std::vector<std::vector<bound_value>> uuid_rows;
  for (int i = 0; i < 200; ++i) {
    auto id = uuid_value(fmt::format(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}", i * 2654435761u, i * 40503 % 65536, i * 7 % 4096,
        i * 13 % 4096, static_cast<std::uint64_t>(i) * 0x9E3779B97F4Aull % (1ull << 48)));
    ASSERT_TRUE(id.ok());
    uuid_rows.push_back({*id});
  }
  for (auto& r : s->execute_many(*insert_uuid, uuid_rows)) ASSERT_TRUE(r.ok());

  std::size_t compared = 0;
  for (const char* table : {"by_blob", "by_uuid"}) {
    auto rows = s->query(fmt::format("SELECT k, token(k) FROM {}", table));
    ASSERT_TRUE(rows.ok()) << rows.err().describe();
    for (const auto& row : rows->rows) {
      ASSERT_TRUE(row[0] && row[1]);
      EXPECT_EQ(murmur3_token(*row[0]), read_bigint(*row[1])) << table << " key " << *row[0];
      ++compared;
    }
  }
  EXPECT_EQ(compared, blob_rows.size() + uuid_rows.size());
}

TEST_F(CqlSession, RingDiscoveryFindsTheLocalNodeOwningEveryToken) {
  auto s = open();
  auto ring = discover_ring(*s);
  ASSERT_TRUE(ring.ok()) << ring.err().describe();
  ASSERT_EQ(ring->nodes().size(), 1u);  // the stack runs one node
  const auto& node = ring->nodes()[0];
  EXPECT_EQ(node.address, "127.0.0.1");
  EXPECT_FALSE(node.data_center.empty());
  EXPECT_FALSE(node.tokens.empty());
  EXPECT_EQ(ring->owner(murmur3_token("anything")), &node);
  EXPECT_EQ(ring->owner_in(0, node.data_center), &node);
  EXPECT_EQ(ring->owner_in(0, "no-such-dc"), nullptr);
}

TEST_F(CqlSession, ProtocolV3SessionPreparesAndReadsBackLikeV4) {
  for (std::uint8_t version : {3, 4}) {
    auto c = local();
    c.keyspace = keyspace_;
    c.max_protocol_version = version;
    auto s = session::connect(c);
    ASSERT_TRUE(s.ok()) << s.err().describe();
    ASSERT_CQL_OK((*s)->query("CREATE TABLE IF NOT EXISTS versions (v int PRIMARY KEY, t text)"));
    auto insert = (*s)->prepare("INSERT INTO versions (v, t) VALUES (?, ?)");
    ASSERT_TRUE(insert.ok()) << insert.err().describe();
    ASSERT_CQL_OK(
        (*s)->execute(*insert, {int_value(version), text_value("v" + std::to_string(version))}));
    auto rows = (*s)->query("SELECT t FROM versions WHERE v = ?", {int_value(version)});
    ASSERT_TRUE(rows.ok()) << rows.err().describe();
    ASSERT_EQ(rows->rows.size(), 1u);
    EXPECT_EQ(*rows->rows[0][0], "v" + std::to_string(version));
  }
}

TEST_F(CqlSession, AsyncExecutesCallBackOnceEachWithTheirOwnResult) {
  auto s = open();
  ASSERT_CQL_OK(s->query("CREATE TABLE IF NOT EXISTS async_kv (k int PRIMARY KEY, v int)"));
  auto insert = s->prepare("INSERT INTO async_kv (k, v) VALUES (?, ?)");
  auto bad = s->prepare("SELECT v FROM async_kv WHERE k = ?");
  ASSERT_TRUE(insert.ok() && bad.ok());
  std::mutex mutex;
  std::condition_variable done;
  int ok_count = 0, error_count = 0;
  for (int i = 0; i < 1000; ++i) {
    auto count = [&](result<rows_result> r) {
      std::lock_guard lock(mutex);
      (r.ok() ? ok_count : error_count) += 1;
      done.notify_all();
    };
    if (i % 100 == 0) {  // a value of the wrong size: the server refuses this one only
      s->execute_async(*bad, {text_value("not an int")}, count);
    } else {
      s->execute_async(*insert, {int_value(i), int_value(i * 2)}, count, {.idempotent = true});
    }
  }
  std::unique_lock lock(mutex);
  ASSERT_TRUE(done.wait_for(lock, std::chrono::seconds(30),
                            [&] { return ok_count + error_count == 1000; }));
  EXPECT_EQ(ok_count, 990);
  EXPECT_EQ(error_count, 10);
  lock.unlock();
  auto rows = s->query("SELECT count(*) FROM async_kv");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(read_bigint(*rows->rows[0][0]), 990);
}

TEST_F(CqlSession, RealServerErrorsComeBackWithTheirTypedKinds) {
  auto s = open();
  struct expectation {
    std::string cql;
    std::int32_t code;
    server_error_kind kind;
    std::string server_words;  // part of Cassandra's own message
  };
  std::vector<expectation> cases = {
      {"SELEKT nothing", 0x2000, server_error_kind::syntax, "SELEKT"},
      {"SELECT * FROM no_such_table_here", 0x2200, server_error_kind::invalid,
       "no_such_table_here"},
      {"CREATE KEYSPACE " + keyspace_ +
           " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
       0x2400, server_error_kind::already_exists, keyspace_},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.cql);
    auto r = s->query(c.cql);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.err().code, errc::server) << r.err().describe();
    EXPECT_EQ(r.err().detail, c.code) << r.err().message;
    EXPECT_EQ(error_kind(r.err().detail), c.kind);
    EXPECT_NE(r.err().message.find(c.server_words), std::string::npos) << r.err().message;
  }
  // A table created twice is "already exists" too.
  ASSERT_CQL_OK(s->query("CREATE TABLE IF NOT EXISTS twice (k int PRIMARY KEY)"));
  auto again = s->query("CREATE TABLE twice (k int PRIMARY KEY)");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(error_kind(again.err().detail), server_error_kind::already_exists)
      << again.err().message;
}

TEST_F(CqlSession, StatementForgottenWhenItsTableIsRecreatedIsRepreparedTransparently) {
  // Cassandra drops the prepared statements of a dropped table; the id of the same text
  // in the same keyspace is the same after CREATE, so the session's EXECUTE meets
  // UNPREPARED, re-prepares and succeeds.
  auto s = open();
  ASSERT_CQL_OK(s->query("CREATE TABLE IF NOT EXISTS phoenix (k int PRIMARY KEY, v text)"));
  auto insert = s->prepare("INSERT INTO phoenix (k, v) VALUES (?, ?)");
  ASSERT_TRUE(insert.ok()) << insert.err().describe();
  ASSERT_CQL_OK(s->execute(*insert, {int_value(1), text_value("before")}));
  ASSERT_CQL_OK(s->query("DROP TABLE phoenix"));
  ASSERT_CQL_OK(s->query("CREATE TABLE phoenix (k int PRIMARY KEY, v text)"));
  auto before = s->stats().reprepares;
  ASSERT_CQL_OK(s->execute(*insert, {int_value(2), text_value("after")}));
  EXPECT_EQ(s->stats().reprepares, before + 1) << "the server did not forget the statement?";
  auto rows = s->query("SELECT v FROM phoenix WHERE k = 2");
  ASSERT_TRUE(rows.ok()) << rows.err().describe();
  ASSERT_EQ(rows->rows.size(), 1u);
  EXPECT_EQ(*rows->rows[0][0], "after");
}

TEST_F(CqlSession, TableIsUsableTheMomentCreateTableReturnsAndEveryNodeAgreesOnTheSchema) {
  auto s = open();
  for (int round = 0; round < 3; ++round) {
    auto table = fmt::format("fresh_{}", round);
    ASSERT_CQL_OK(s->query(fmt::format("CREATE TABLE {} (k int PRIMARY KEY, v text)", table)));
    // No sleep: the statements below fail with "unconfigured table" if the session
    // returned before the schema change was applied.
    ASSERT_CQL_OK(s->query(fmt::format("INSERT INTO {} (k, v) VALUES (1, 'x')", table)));
    auto rows = s->query(fmt::format("SELECT v FROM {} WHERE k = 1", table));
    ASSERT_TRUE(rows.ok()) << rows.err().describe();
    ASSERT_EQ(rows->rows.size(), 1u);
    EXPECT_EQ(*rows->rows[0][0], "x");
    auto local = s->query("SELECT schema_version FROM system.local");
    auto peers = s->query("SELECT peer, schema_version FROM system.peers");
    ASSERT_TRUE(local.ok() && peers.ok());
    ASSERT_EQ(local->rows.size(), 1u);
    for (const auto& peer : peers->rows) EXPECT_EQ(peer[1], local->rows[0][0]);
  }
}

TEST(CqlConnect, NothingListeningIsAnErrorNamingHostAndPort) {
  session_config c;
  c.port = 1;
  auto s = session::connect(c);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.err().message.find("127.0.0.1:1"), std::string::npos);
}

}  // namespace
}  // namespace sluice::cql
