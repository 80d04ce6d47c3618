// Integration tests for the Kafka wrappers against the real broker (127.0.0.1:9092 or
// SLUICE_KAFKA_BOOTSTRAP): topic creation and partition counts, a produce/consume
// round trip with headers and delivery reports, committed offsets / lag, and deleting
// the records below an offset.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <string>

#include "kafka/kafka.h"

namespace sluice::kafka {
namespace {

using namespace std::chrono_literals;

client_settings client() {
  client_settings s;
  if (const char* env = std::getenv("SLUICE_KAFKA_BOOTSTRAP")) s.bootstrap_servers = env;
  s.client_id = "sluice-kafka-it";
  return s;
}

std::string unique(const std::string& prefix) {
  std::random_device rd;
  return prefix + "." +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + "." +
         std::to_string(rd() % 100000);
}

std::unique_ptr<admin> make_admin() {
  auto a = admin::create(client());
  EXPECT_TRUE(a) << a.err().message;
  return std::move(*a);
}

TEST(KafkaAdmin, CreatedTopicHasRequestedPartitionsAndSecondCreateIsIdempotent) {
  auto adm = make_admin();
  topic t(unique("sluice.it.admin"));
  auto r = adm->create_topics({{t, 4, 1, {{"cleanup.policy", "compact"}}}}, false, 15s);
  ASSERT_TRUE(r) << r.err().message;
  auto count = adm->partition_count(t, 10s);
  ASSERT_TRUE(count) << count.err().message;
  EXPECT_EQ(*count, 4);
  EXPECT_TRUE(adm->create_topics({{t, 4, 1, {}}}, true, 15s));
  auto again = adm->create_topics({{t, 4, 1, {}}}, false, 15s);
  ASSERT_FALSE(again);
  EXPECT_NE(again.err().message.find(t.str()), std::string::npos) << again.err().message;
}

TEST(KafkaAdmin, TopicConfigReadsTheTopicsOwnValueAndTheBrokerDefault) {
  auto adm = make_admin();
  topic t(unique("sluice.it.config"));
  ASSERT_TRUE(adm->create_topics({{t, 1, 1, {{"max.message.bytes", "2097152"}}}}, false, 15s));
  auto own = adm->topic_config(t, "max.message.bytes", 10s);
  ASSERT_TRUE(own) << own.err().message;
  EXPECT_EQ(*own, "2097152");
  auto inherited = adm->topic_config(t, "cleanup.policy", 10s);
  ASSERT_TRUE(inherited) << inherited.err().message;
  EXPECT_EQ(*inherited, "delete");
  auto unknown = adm->topic_config(t, "no.such.entry", 10s);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.err().code, errc::not_found);
  auto missing = adm->topic_config(topic(unique("sluice.it.missing")), "cleanup.policy", 10s);
  ASSERT_FALSE(missing);
}

TEST(KafkaAdmin, InvalidTopicConfigIsRefusedNamingTheTopic) {
  auto adm = make_admin();
  topic t(unique("sluice.it.badcfg"));
  auto r = adm->create_topics({{t, 1, 1, {{"cleanup.policy", "shred"}}}}, false, 15s);
  ASSERT_FALSE(r);
  EXPECT_NE(r.err().message.find(t.str()), std::string::npos) << r.err().message;
}

TEST(KafkaRoundTrip, ProducedRecordsAreConsumedWithKeysHeadersAndCommittedOffsets) {
  auto adm = make_admin();
  topic t(unique("sluice.it.roundtrip"));
  ASSERT_TRUE(adm->create_topics({{t, 3, 1, {}}}, false, 15s));

  // Produce 30 records; each delivery report carries the record number as opaque.
  std::map<intptr_t, delivery_report> reports;
  producer_settings ps;
  ps.client = client();
  auto prod = producer::create(
      ps, [&](const delivery_report& r) { reports[reinterpret_cast<intptr_t>(r.opaque)] = r; });
  ASSERT_TRUE(prod) << prod.err().message;
  for (intptr_t i = 1; i <= 30; ++i) {
    std::string key = "user-" + std::to_string(i);
    std::string value = "value-" + std::to_string(i);
    auto r = (*prod)->produce(
        {t, std::nullopt, key, value, {{"run", "it"}}, reinterpret_cast<void*>(i)});
    ASSERT_TRUE(r) << r.err().message;
  }
  auto flushed = (*prod)->flush(20s);
  ASSERT_TRUE(flushed) << flushed.err().message;
  ASSERT_EQ(reports.size(), 30u);
  for (const auto& [n, r] : reports) {
    EXPECT_FALSE(r.failure) << r.failure->message;
    EXPECT_GE(r.offset.value(), 0);
    EXPECT_EQ(r.topic, t);
  }

  // Consume them back in a group, committing explicit offsets.
  consumer_settings cs;
  cs.client = client();
  cs.group_id = unique("sluice.it.group");
  std::vector<topic_partition> assigned;
  auto cons = consumer::create(cs, [&](rebalance_kind kind, const auto& parts) {
    if (kind == rebalance_kind::assigned)
      assigned.insert(assigned.end(), parts.begin(), parts.end());
  });
  ASSERT_TRUE(cons) << cons.err().message;
  ASSERT_TRUE((*cons)->subscribe({t}));
  std::map<std::string, std::string> seen;
  std::map<int32_t, int64_t> next_offset;
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (seen.size() < 30 && std::chrono::steady_clock::now() < deadline) {
    auto m = (*cons)->poll(500ms);
    ASSERT_TRUE(m) << m.err().message;
    if (!*m) continue;
    const auto& msg = **m;
    EXPECT_EQ(msg.header("run"), std::optional<std::string>("it"));
    seen[std::string(msg.key())] = std::string(msg.value());
    next_offset[msg.partition().value()] = msg.offset().value() + 1;
  }
  ASSERT_EQ(seen.size(), 30u);
  EXPECT_EQ(seen["user-7"], "value-7");
  EXPECT_EQ(assigned.size(), 3u);

  std::vector<topic_partition_offset> commits;
  for (const auto& [p, o] : next_offset) commits.push_back({t, partition(p), offset(o)});
  auto committed = (*cons)->commit(commits);
  ASSERT_TRUE(committed) << committed.err().message;

  // The admin view of the group: committed offsets equal the high watermarks (no lag).
  auto lag = adm->group_lag(cs.group_id, t, 10s);
  ASSERT_TRUE(lag) << lag.err().message;
  ASSERT_EQ(lag->size(), 3u);
  int64_t total_high = 0;
  for (const auto& l : *lag) {
    EXPECT_EQ(l.lag, 0) << fmt::format("{}", l.partition);
    total_high += l.high.value();
  }
  EXPECT_EQ(total_high, 30);
  ASSERT_TRUE((*cons)->close());
}

TEST(KafkaConsumer, PausedPartitionDeliversNothingUntilResumed) {
  auto adm = make_admin();
  topic t(unique("sluice.it.pause"));
  ASSERT_TRUE(adm->create_topics({{t, 1, 1, {}}}, false, 15s));
  producer_settings ps;
  ps.client = client();
  auto prod = producer::create(ps, nullptr);
  ASSERT_TRUE(prod);
  ASSERT_TRUE((*prod)->produce({t, partition(0), "k", "v", {}, nullptr}));
  ASSERT_TRUE((*prod)->flush(20s));

  consumer_settings cs;
  cs.client = client();
  cs.group_id = unique("sluice.it.pausegroup");
  auto cons = consumer::create(cs, nullptr);
  ASSERT_TRUE(cons);
  topic_partition tp{t, partition(0)};
  ASSERT_TRUE((*cons)->assign({{t, partition(0), offset::beginning()}}));
  ASSERT_TRUE((*cons)->pause({tp}));
  for (int i = 0; i < 4; ++i) {
    auto m = (*cons)->poll(250ms);
    ASSERT_TRUE(m);
    EXPECT_FALSE(*m) << "a paused partition delivered a record";
  }
  ASSERT_TRUE((*cons)->resume({tp}));
  std::optional<message> got;
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!got && std::chrono::steady_clock::now() < deadline) {
    auto m = (*cons)->poll(500ms);
    ASSERT_TRUE(m);
    if (*m) got = std::move(*m);
  }
  ASSERT_TRUE(got);
  EXPECT_EQ(got->value(), "v");
  auto wm = adm->query_watermarks(tp, 10s);
  ASSERT_TRUE(wm);
  EXPECT_EQ(wm->high.value(), 1);
}

TEST(KafkaConsumer, SecondMemberJoiningRevokesExactlyThePartitionsThatMove) {
  auto adm = make_admin();
  topic t(unique("sluice.it.coop"));
  ASSERT_TRUE(adm->create_topics({{t, 4, 1, {}}}, false, 15s));
  consumer_settings cs;
  cs.client = client();
  cs.group_id = unique("sluice.it.coopgroup");
  cs.session_timeout = 10s;
  // Each member's rebalance history, from its callback only: every partition ever
  // assigned and every partition ever revoked (or lost).
  struct history {
    std::set<topic_partition> owned, ever_revoked;
    std::map<topic_partition, int> times_assigned;
  };
  auto track = [](history& h) {
    return [&h](rebalance_kind kind, const std::vector<topic_partition>& parts) {
      for (const auto& tp : parts) {
        if (kind == rebalance_kind::assigned) {
          h.owned.insert(tp);
          ++h.times_assigned[tp];
        } else {
          h.owned.erase(tp);
          h.ever_revoked.insert(tp);
        }
      }
    };
  };
  history first_member, second_member;
  auto first = consumer::create(cs, track(first_member));
  ASSERT_TRUE(first);
  ASSERT_TRUE((*first)->subscribe({t}));
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (first_member.owned.size() < 4 && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE((*first)->poll(200ms));
  }
  ASSERT_EQ(first_member.owned.size(), 4u);
  ASSERT_TRUE(first_member.ever_revoked.empty());
  const auto all_four = first_member.owned;

  auto second = consumer::create(cs, track(second_member));
  ASSERT_TRUE(second);
  ASSERT_TRUE((*second)->subscribe({t}));
  deadline = std::chrono::steady_clock::now() + 60s;
  while ((second_member.owned.size() != 2 || first_member.owned.size() != 2) &&
         std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE((*first)->poll(100ms));
    ASSERT_TRUE((*second)->poll(100ms));
  }
  ASSERT_EQ(first_member.owned.size(), 2u);
  ASSERT_EQ(second_member.owned.size(), 2u);
  for (const auto& tp : second_member.owned) {
    EXPECT_EQ(first_member.owned.count(tp), 0u) << fmt::format("{}", tp);
  }
  // Cooperative: the first member gave up exactly the two partitions that moved to the
  // second and kept the other two throughout. An eager protocol revokes all four and
  // assigns two back, which fails both checks below.
  EXPECT_EQ(first_member.ever_revoked, second_member.owned);
  std::set<topic_partition> kept;
  for (const auto& tp : all_four) {
    if (!first_member.ever_revoked.count(tp)) kept.insert(tp);
  }
  EXPECT_EQ(kept, first_member.owned);
  for (const auto& tp : kept) {
    EXPECT_EQ(first_member.times_assigned[tp], 1) << fmt::format("{} was assigned again", tp);
  }
  auto now_first = (*first)->assignment();
  ASSERT_TRUE(now_first);
  EXPECT_EQ(std::set<topic_partition>(now_first->begin(), now_first->end()), first_member.owned);
  ASSERT_TRUE((*second)->close());
  ASSERT_TRUE((*first)->close());
}

TEST(KafkaAdmin, MissingTopicPartitionCountIsNotFound) {
  auto adm = make_admin();
  auto count = adm->partition_count(topic(unique("sluice.it.missing")), 10s);
  ASSERT_FALSE(count);
  EXPECT_EQ(count.err().code, errc::not_found) << count.err().message;
}

TEST(KafkaAdmin, DeleteRecordsMovesTheLogStartAndReadsBeginThere) {
  auto adm = make_admin();
  topic t(unique("sluice.it.deleterecords"));
  ASSERT_TRUE(adm->create_topics({{t, 2, 1, {}}}, false, 15s));
  producer_settings ps;
  ps.client = client();
  auto prod = producer::create(ps, {});
  ASSERT_TRUE(prod) << prod.err().message;
  for (int i = 0; i < 10; ++i) {
    std::string value = "v" + std::to_string(i);
    ASSERT_TRUE((*prod)->produce({t, partition(0), "", value, {}}));
  }
  ASSERT_TRUE((*prod)->flush(20s));

  auto deleted = adm->delete_records({{t, partition(0), offset(4)}}, 15s);
  ASSERT_TRUE(deleted) << deleted.err().message;
  ASSERT_EQ(deleted->size(), 1u);
  EXPECT_EQ((*deleted)[0].offset.value(), 4);
  auto marks = adm->query_watermarks({t, partition(0)}, 10s);
  ASSERT_TRUE(marks) << marks.err().message;
  EXPECT_EQ(marks->low.value(), 4);
  EXPECT_EQ(marks->high.value(), 10);
  std::vector<std::string> read;
  ASSERT_TRUE(
      read_topic_to_end(client(), t, [&](const message& m) { read.emplace_back(m.value()); }));
  EXPECT_EQ(read, (std::vector<std::string>{"v4", "v5", "v6", "v7", "v8", "v9"}));

  // Deleting below the current log start again changes nothing; past the end is refused.
  auto again = adm->delete_records({{t, partition(0), offset(2)}}, 15s);
  ASSERT_TRUE(again) << again.err().message;
  EXPECT_EQ((*again)[0].offset.value(), 4);
  auto past = adm->delete_records({{t, partition(1), offset(5)}}, 15s);
  ASSERT_FALSE(past);
  EXPECT_NE(past.err().message.find(t.str() + "[1]"), std::string::npos) << past.err().message;
}

TEST(KafkaAdmin, DeleteRecordsOfAMissingTopicIsNotFound) {
  auto adm = make_admin();
  topic missing(unique("sluice.it.missing"));
  auto deleted = adm->delete_records({{missing, partition(0), offset(1)}}, 10s);
  ASSERT_FALSE(deleted);
  EXPECT_EQ(deleted.err().code, errc::not_found) << deleted.err().message;
  EXPECT_NE(deleted.err().message.find(missing.str()), std::string::npos) << deleted.err().message;
}

}  // namespace
}  // namespace sluice::kafka
