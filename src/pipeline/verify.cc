// Counting both sides of the reconciliation: watermarks and committed offsets from
// Kafka, distinct ids from Cassandra (paged with sluice's CQL client), and the whole
// dead-letter topic read from its beginning.
#include "pipeline/verify.h"

#include <set>
#include <unordered_set>

#include "cql/cql.h"
#include "kafka/kafka.h"

namespace sluice::pipeline {

result<verify_report> verify(const verify_settings& s) {
  verify_report report;
  auto admin = kafka::admin::create(s.kafka);
  if (!admin) return admin.err();
  auto timeout = std::chrono::seconds(15);
  auto lag = (*admin)->group_lag(s.group_id, kafka::topic(s.source_topic), timeout);
  if (!lag) return lag.err();
  for (const auto& p : *lag) {
    auto marks = (*admin)->query_watermarks(p.partition, timeout);
    if (!marks) return marks.err();
    report.produced += marks->high.value() - marks->low.value();
    auto committed = p.committed.value() < 0 ? marks->low.value() : p.committed.value();
    report.not_yet_processed += std::max<std::int64_t>(0, marks->high.value() - committed);
  }

  auto config = s.cassandra;
  config.keyspace = s.keyspace;
  config.timeout = std::chrono::seconds(60);
  auto session = cql::session::connect(config);
  if (!session) return session.err();
  std::unordered_set<std::string> ids;
  cql::query_params params{cql::consistency::local_quorum, {}, 5000, {}};
  while (true) {
    auto page = (*session)->query_page("SELECT id FROM users", params);
    if (!page) return page.err();
    for (const auto& row : page->rows) {
      if (row[0]) ids.insert(*row[0]);
    }
    if (!page->paging_state) break;
    params.paging_state = page->paging_state;
  }
  report.stored = static_cast<std::int64_t>(ids.size());

  std::set<std::pair<std::string, std::string>> seen;
  auto read =
      kafka::read_topic_to_end(s.kafka, kafka::topic(s.dlq_topic), [&](const kafka::message& m) {
        if (m.header("sluice.source.topic").value_or("") != s.source_topic) return;
        auto position = std::pair{m.header("sluice.source.partition").value_or(""),
                                  m.header("sluice.source.offset").value_or("")};
        if (!seen.insert(position).second) {
          ++report.duplicate_dead_letters;
          return;
        }
        ++report.dead_by_rule[m.header("sluice.rule").value_or("?")];
      });
  if (!read) return read.err();
  report.dead_lettered = static_cast<std::int64_t>(seen.size());
  return report;
}

}  // namespace sluice::pipeline
