// The console's Kafka endpoints (API.md "Kafka"): cluster, topics (list, detail,
// create, delete), the message browser, bounded searches, consumer groups and offset
// resets, on kafka::admin and manually assigned consumers.
#include <algorithm>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "console/console_state.h"
#include "kafka/topic_reader.h"

namespace sluice::console {
namespace {

constexpr std::int64_t max_page = 500;
constexpr std::size_t max_matches = 200;

// Bytes on disk of a topic's partition folders under the stack's Kafka data folder.
nlohmann::json size_on_disk(const console::state& s, const std::string& topic) {
  if (s.options.stack.state_dir.empty()) return nullptr;
  auto root = s.options.stack.data_dir() / "kafka";
  std::error_code ec;
  if (!std::filesystem::is_directory(root, ec)) return nullptr;
  std::uintmax_t total = 0;
  bool found = false;
  for (const auto& dir : std::filesystem::directory_iterator(root, ec)) {
    auto name = dir.path().filename().string();
    auto dash = name.rfind('-');
    if (dash == std::string::npos || name.substr(0, dash) != topic) continue;
    found = true;
    for (const auto& file : std::filesystem::recursive_directory_iterator(dir.path(), ec)) {
      // The segments' records (*.log), as Kafka's DescribeLogDirs counts them; the
      // preallocated index files would add 10 MB each.
      if (file.is_regular_file(ec) && file.path().extension() == ".log")
        total += file.file_size(ec);
    }
  }
  return found ? nlohmann::json(total) : nlohmann::json(nullptr);
}

nlohmann::json topic_summary(console::state& s, const kafka::topic_info& t, bool details,
                             std::optional<error>& failed) {
  std::int64_t messages = 0;
  std::vector<std::string> notes;
  int replication = 0, min_isr = -1, under = 0;
  nlohmann::json partitions = nlohmann::json::array();
  for (const auto& p : t.partitions) {
    replication = std::max<int>(replication, static_cast<int>(p.replicas.size()));
    int isr = static_cast<int>(p.isr.size());
    min_isr = min_isr < 0 ? isr : std::min(min_isr, isr);
    if (p.isr.size() < p.replicas.size()) ++under;
    auto marks = s.admin->query_watermarks({kafka::topic(t.name), kafka::partition(p.partition)},
                                           s.options.kafka_timeout);
    if (!marks && marks.err().code == errc::timeout) {  // the broker is not answering
      failed = marks.err();
      return nullptr;
    }
    nlohmann::json low = nullptr, high = nullptr, count = nullptr;
    if (marks) {
      low = marks->low.value();
      high = marks->high.value();
      count = marks->high.value() - marks->low.value();
      messages += marks->high.value() - marks->low.value();
    } else {  // e.g. a partition of a topic created a moment ago, without a leader yet
      notes.push_back(fmt::format("partition {}: {}", p.partition, marks.err().message));
    }
    if (details) {
      partitions.push_back({{"partition", p.partition},
                            {"leader", p.leader},
                            {"replicas", p.replicas},
                            {"isr", p.isr},
                            {"low", low},
                            {"high", high},
                            {"messages", count}});
    }
  }
  nlohmann::json out = {
      {"name", t.name},
      {"internal", t.internal},
      {"partitions", t.partitions.size()},
      {"replication_factor", replication},
      {"in_sync_replicas", std::max(min_isr, 0)},
      {"under_replicated_partitions", under},
      {"messages", notes.empty() ? nlohmann::json(messages) : nlohmann::json(nullptr)},
      {"size_bytes", size_on_disk(s, t.name)},
      {"notes", notes}};
  if (details) out["partition_details"] = std::move(partitions);
  return out;
}

std::optional<kafka::topic_info> find_topic(const kafka::cluster_info& c, const std::string& name) {
  for (const auto& t : c.topics) {
    if (t.name == name) return t;
  }
  return std::nullopt;
}

// After a create or delete, waits (up to 5 s) until the metadata shows it and every
// partition of a new topic has a leader, so that the next listing agrees.
void wait_for_metadata(console::state& s, const std::string& name, bool exists) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    auto cluster = s.admin->describe_cluster(s.options.kafka_timeout);
    if (cluster) {
      auto t = find_topic(*cluster, name);
      bool led = t && std::all_of(t->partitions.begin(), t->partitions.end(),
                                  [](const auto& p) { return p.leader >= 0; });
      if (exists ? led : !t) return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

web::response unknown_topic(const std::string& name) {
  return web::json_error(404, fmt::format("unknown topic '{}'", name), "topic");
}

web::response list_topics(console::state& s) {
  auto cluster = s.admin->describe_cluster(s.options.kafka_timeout);
  if (!cluster) return engine_failure(cluster.err(), "Kafka");
  nlohmann::json topics = nlohmann::json::array();
  for (const auto& t : cluster->topics) {
    std::optional<error> failed;
    auto summary = topic_summary(s, t, false, failed);
    if (failed) return engine_failure(*failed, "Kafka");
    topics.push_back(std::move(summary));
  }
  return json_answer({{"topics", topics}});
}

web::response topic_detail(console::state& s, const std::string& name) {
  auto cluster = s.admin->describe_cluster(s.options.kafka_timeout);
  if (!cluster) return engine_failure(cluster.err(), "Kafka");
  auto t = find_topic(*cluster, name);
  if (!t) return unknown_topic(name);
  std::optional<error> failed;
  auto out = topic_summary(s, *t, true, failed);
  if (failed) return engine_failure(*failed, "Kafka");
  auto configs = s.admin->topic_configs(kafka::topic(name), s.options.kafka_timeout);
  if (!configs) return engine_failure(configs.err(), "Kafka");
  out["configs"] = nlohmann::json::array();
  for (const auto& c : *configs) {
    out["configs"].push_back(
        {{"name", c.name},
         {"value", c.sensitive ? nlohmann::json(nullptr) : nlohmann::json(c.value)},
         {"is_default", c.is_default},
         {"sensitive", c.sensitive}});
  }
  return json_answer(out);
}

bool valid_topic_name(const std::string& name) {
  if (name.empty() || name.size() > 249 || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

web::response create_topic(console::state& s, const web::request& r) {
  std::optional<web::response> bad;
  auto body = json_body(r, bad);
  if (!body) return *bad;
  auto name = body->value("name", std::string());
  if (!valid_topic_name(name)) {
    return web::json_error(
        400, fmt::format("topic name '{}' must be 1-249 of [a-zA-Z0-9._-]", name), "name");
  }
  auto partitions = body->value("partitions", 1);
  if (partitions < 1 || partitions > 10000) {
    return web::json_error(400, fmt::format("partitions {} must be from 1 to 10000", partitions),
                           "partitions");
  }
  auto replication = body->value("replication_factor", 1);
  if (replication < 1 || replication > 32) {
    return web::json_error(400,
                           fmt::format("replication_factor {} must be from 1 to 32", replication),
                           "replication_factor");
  }
  kafka::topic_spec spec{
      kafka::topic(name), partitions, static_cast<std::int16_t>(replication), {}};
  if (body->contains("configs")) {
    if (!(*body)["configs"].is_object())
      return web::json_error(400, "configs must be an object of strings", "configs");
    for (const auto& [k, v] : (*body)["configs"].items()) {
      if (!v.is_string())
        return web::json_error(400, fmt::format("config {} must be a string", k), "configs");
      spec.configs[k] = v.get<std::string>();
    }
  }
  auto created = s.admin->create_topics({spec}, false, s.options.kafka_timeout);
  if (!created) {
    if (created.err().message.find("already exists") != std::string::npos) {
      return web::json_error(409, fmt::format("topic '{}' already exists", name), "name");
    }
    return engine_failure(created.err(), "Kafka");
  }
  wait_for_metadata(s, name, true);
  return json_answer({{"created", name}}, 201);
}

raw_message to_raw(const kafka::message& m) {
  raw_message out;
  out.partition = m.partition().value();
  out.offset = m.offset().value();
  out.timestamp_ms = m.timestamp_ms();
  if (auto key = m.key(); key.data() != nullptr) out.key = std::string(key);
  if (m.has_value()) out.value = std::string(m.value());
  for (auto& h : m.headers()) out.headers.emplace_back(std::move(h.name), std::move(h.value));
  return out;
}

struct page_request {
  std::optional<std::int32_t> partition;
  std::optional<std::int64_t> offset, timestamp, newest;
  std::int64_t limit = 50;
};

std::optional<page_request> parse_page(const web::request& r, std::optional<web::response>& bad) {
  page_request p;
  if (auto v = int_param(r, "partition", 0, 100000, std::nullopt, bad))
    p.partition = static_cast<std::int32_t>(*v);
  if (bad) return std::nullopt;
  p.offset = int_param(r, "offset", 0, INT64_MAX, std::nullopt, bad);
  if (bad) return std::nullopt;
  p.timestamp = int_param(r, "timestamp", 0, INT64_MAX, std::nullopt, bad);
  if (bad) return std::nullopt;
  p.newest = int_param(r, "newest", 1, max_page, std::nullopt, bad);
  if (bad) return std::nullopt;
  p.limit = *int_param(r, "limit", 1, max_page, 50, bad);
  if (bad) return std::nullopt;
  int modes = (p.offset ? 1 : 0) + (p.timestamp ? 1 : 0) + (p.newest ? 1 : 0);
  if (modes > 1) {
    bad = web::json_error(400, "give one of offset, timestamp or newest", "offset");
    return std::nullopt;
  }
  if (modes == 0) p.newest = p.limit;
  if (p.offset && !p.partition) {
    bad = web::json_error(400, "offset needs a partition", "partition");
    return std::nullopt;
  }
  return p;
}

web::response browse(console::state& s, const std::string& name, const web::request& r) {
  std::optional<web::response> bad;
  auto page = parse_page(r, bad);
  if (!page) return *bad;
  kafka::topic t(name);
  auto count = s.admin->partition_count(t, s.options.kafka_timeout);
  if (!count)
    return count.err().code == errc::not_found ? unknown_topic(name)
                                               : engine_failure(count.err(), "Kafka");
  if (page->partition && *page->partition >= *count) {
    return web::json_error(
        404,
        fmt::format("topic '{}' has no partition {} (it has {})", name, *page->partition, *count),
        "partition");
  }
  std::vector<std::int32_t> partitions;
  for (std::int32_t p = 0; p < *count; ++p) {
    if (!page->partition || *page->partition == p) partitions.push_back(p);
  }
  std::map<std::int32_t, kafka::offset_span> spans, extent;
  std::map<std::int32_t, std::int64_t> by_time;
  if (page->timestamp) {
    auto at = s.admin->offsets_for_time(t, *page->timestamp, s.options.kafka_timeout);
    if (!at) return engine_failure(at.err(), "Kafka");
    for (const auto& o : *at) by_time[o.partition.value()] = o.offset.value();
  }
  for (auto p : partitions) {
    auto marks = s.admin->query_watermarks({t, kafka::partition(p)}, s.options.kafka_timeout);
    if (!marks) return engine_failure(marks.err(), "Kafka");
    auto low = marks->low.value(), high = marks->high.value();
    extent[p] = {low, high};
    std::int64_t begin = low;
    if (page->newest) begin = std::max(low, high - *page->newest);
    if (page->timestamp) begin = std::max(low, by_time[p]);
    if (page->offset) {
      if (*page->offset > high) {
        return web::json_error(400,
                               fmt::format("offset {} is out of range: partition {} holds {} to {}",
                                           *page->offset, p, low, high),
                               "offset");
      }
      begin = std::max(low, *page->offset);
    }
    spans[p] = {begin, std::min(high, begin + (page->newest ? *page->newest : page->limit))};
  }
  std::vector<nlohmann::json> messages;
  auto read = kafka::read_topic_range(
      s.reader_kafka, t, spans,
      [&](const kafka::message& m) { messages.push_back(s.decoder->view(to_raw(m))); },
      std::chrono::seconds(20));
  if (!read) return engine_failure(read.err(), "Kafka");
  auto newest_first = [](const nlohmann::json& a, const nlohmann::json& b) {
    return a["timestamp_ms"].get<std::int64_t>() > b["timestamp_ms"].get<std::int64_t>();
  };
  if (!page->partition) {  // several partitions: the newest (or first) `limit` by time
    std::stable_sort(messages.begin(), messages.end(), newest_first);
    if (static_cast<std::int64_t>(messages.size()) > page->limit) {
      if (page->timestamp) {
        std::reverse(messages.begin(), messages.end());  // from the time on: the earliest
      }
      messages.resize(static_cast<std::size_t>(page->limit));
    }
  }
  nlohmann::json out = {
      {"topic", name},
      {"partition", page->partition ? nlohmann::json(*page->partition) : nlohmann::json(nullptr)},
      {"messages", messages},
      {"next_offset", nullptr},
      {"prev_offset", nullptr}};
  if (page->partition) {
    auto p = *page->partition;
    const auto& span = spans[p];
    out["low"] = extent[p].begin;
    out["high"] = extent[p].end;
    if (span.end < extent[p].end) out["next_offset"] = span.end;
    if (span.begin > extent[p].begin)
      out["prev_offset"] =
          std::max(extent[p].begin, span.begin - (page->newest ? *page->newest : page->limit));
  }
  return json_answer(out);
}

web::response start_search(console::state& s, const std::string& name, const web::request& r) {
  std::optional<web::response> bad;
  const auto* q = r.param("q");
  if (q == nullptr || q->empty())
    return web::json_error(400, "q (the text to search for) is required", "q");
  auto max_scan = int_param(r, "max_scan", 1, 1000000, std::nullopt, bad);
  if (bad) return *bad;
  if (!max_scan)
    return web::json_error(400, "a search needs a bound: max_scan (1 to 1000000 records)",
                           "max_scan");
  auto partition = int_param(r, "partition", 0, 100000, std::nullopt, bad);
  if (bad) return *bad;
  kafka::topic t(name);
  auto spans = kafka::current_extent(*s.admin, t);
  if (!spans)
    return spans.err().code == errc::not_found ? unknown_topic(name)
                                               : engine_failure(spans.err(), "Kafka");
  if (partition && !spans->contains(static_cast<std::int32_t>(*partition))) {
    return web::json_error(404, fmt::format("topic '{}' has no partition {}", name, *partition),
                           "partition");
  }
  // The newest records first: each partition's last max_scan / partitions records.
  std::map<std::int32_t, kafka::offset_span> chosen;
  for (const auto& [p, span] : *spans) {
    if (partition && p != *partition) continue;
    chosen[p] = span;
  }
  auto share = std::max<std::int64_t>(1, *max_scan / static_cast<std::int64_t>(chosen.size()));
  for (auto& [p, span] : chosen) span.begin = std::max(span.begin, span.end - share);
  std::string needle = *q;
  std::transform(needle.begin(), needle.end(), needle.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  auto id = std::to_string(s.next_search++);
  auto job = std::make_unique<search_job>();
  job->max_scan = *max_scan;
  auto* raw = job.get();
  {
    std::lock_guard lock(s.searches_mutex);
    for (auto it = s.searches.begin(); s.searches.size() >= 50 && it != s.searches.end();) {
      std::unique_lock job_lock(it->second->mutex);
      bool finished = it->second->state != "running";
      job_lock.unlock();
      if (!finished) {
        ++it;
        continue;
      }
      if (it->second->worker.joinable()) it->second->worker.join();
      it = s.searches.erase(it);  // only the recent searches are kept
    }
    if (s.searches.size() >= 50) {
      return web::json_error(503, "50 searches are running: wait for one to finish", "q");
    }
  }
  raw->worker = std::thread([&s, raw, t, chosen, needle] {
    auto read = kafka::read_topic_range(
        s.reader_kafka, t, chosen,
        [&](const kafka::message& m) {
          auto view = s.decoder->view(to_raw(m));
          std::lock_guard lock(raw->mutex);
          ++raw->scanned;
          if (raw->matches.size() < max_matches && message_decoder::matches(view, needle)) {
            raw->matches.push_back(std::move(view));
          }
        },
        std::chrono::minutes(5));
    std::lock_guard lock(raw->mutex);
    raw->state = read ? "done" : "failed";
    release_memory();
    if (!read) raw->error = "Kafka: " + read.err().message;
  });
  {
    std::lock_guard lock(s.searches_mutex);
    s.searches[id] = std::move(job);
  }
  return json_answer({{"search_id", id}}, 202);
}

web::response search_status(console::state& s, const std::string& id) {
  std::lock_guard lock(s.searches_mutex);
  auto it = s.searches.find(id);
  if (it == s.searches.end())
    return web::json_error(404, fmt::format("unknown search '{}'", id), "search_id");
  auto& job = *it->second;
  std::lock_guard job_lock(job.mutex);
  return json_answer({{"search_id", id},
                      {"state", job.state},
                      {"scanned", job.scanned},
                      {"max_scan", job.max_scan},
                      {"matches", job.matches},
                      {"error", job.error}});
}

web::response topic_routes(console::state& s, const web::request& r) {
  std::string rest = r.path.substr(std::string("/api/v1/topics/").size());
  auto slash = rest.rfind('/');
  std::string name = slash == std::string::npos ? rest : rest.substr(0, slash);
  std::string action = slash == std::string::npos ? "" : rest.substr(slash + 1);
  if (name.empty()) return web::json_error(404, "no topic named in the path", "topic");
  if (action.empty() && r.method == "GET") return topic_detail(s, name);
  if (action == "messages" && r.method == "GET") return browse(s, name, r);
  if (action == "search" && r.method == "GET") return start_search(s, name, r);
  if (action == "delete" && r.method == "POST") {
    auto deleted = s.admin->delete_topic(kafka::topic(name), s.options.kafka_timeout);
    if (!deleted)
      return deleted.err().code == errc::not_found ? unknown_topic(name)
                                                   : engine_failure(deleted.err(), "Kafka");
    wait_for_metadata(s, name, false);
    return json_answer({{"deleted", name}});
  }
  return web::json_error(404, fmt::format("no endpoint {} {}", r.method, r.path), "path");
}

web::response list_groups(console::state& s) {
  auto groups = s.admin->list_groups(s.options.kafka_timeout);
  if (!groups) return engine_failure(groups.err(), "Kafka");
  nlohmann::json out = nlohmann::json::array();
  for (const auto& g : *groups) {
    auto d = s.admin->describe_group(g.group_id, s.options.kafka_timeout);
    out.push_back({{"group_id", g.group_id},
                   {"state", g.state},
                   {"members", d ? static_cast<int>(d->members.size()) : 0},
                   {"protocol_type", g.simple ? "simple" : "consumer"}});
  }
  return json_answer({{"groups", out}});
}

// The group's committed offsets on every topic it committed to, with lag.
result<nlohmann::json> group_offsets(console::state& s, const std::string& group,
                                     std::int64_t& total_lag) {
  auto cluster = s.admin->describe_cluster(s.options.kafka_timeout);
  if (!cluster) return cluster.err();
  nlohmann::json out = nlohmann::json::array();
  for (const auto& t : cluster->topics) {
    if (t.internal) continue;
    auto lags = s.admin->group_lag(group, kafka::topic(t.name), s.options.kafka_timeout);
    if (!lags) return lags.err();
    for (const auto& l : *lags) {
      if (l.committed == kafka::offset::invalid()) continue;
      total_lag += l.lag;
      out.push_back({{"topic", t.name},
                     {"partition", l.partition.partition.value()},
                     {"committed", l.committed.value()},
                     {"high", l.high.value()},
                     {"lag", l.lag}});
    }
  }
  return out;
}

web::response group_detail(console::state& s, const std::string& group) {
  auto d = s.admin->describe_group(group, s.options.kafka_timeout);
  if (!d) {
    if (d.err().code == errc::not_found)
      return web::json_error(404, fmt::format("unknown consumer group '{}'", group), "group");
    return engine_failure(d.err(), "Kafka");
  }
  nlohmann::json members = nlohmann::json::array();
  for (const auto& m : d->members) {
    nlohmann::json assignments = nlohmann::json::array();
    for (const auto& tp : m.assignment)
      assignments.push_back({{"topic", tp.topic.str()}, {"partition", tp.partition.value()}});
    members.push_back({{"member_id", m.member_id},
                       {"client_id", m.client_id},
                       {"host", m.host},
                       {"assignments", assignments}});
  }
  std::int64_t total_lag = 0;
  auto offsets = group_offsets(s, group, total_lag);
  if (!offsets) return engine_failure(offsets.err(), "Kafka");
  return json_answer({{"group_id", group},
                      {"state", d->state},
                      {"assignor", d->assignor},
                      {"members", members},
                      {"offsets", *offsets},
                      {"total_lag", total_lag}});
}

web::response reset_group(console::state& s, const std::string& group, const web::request& r) {
  std::optional<web::response> bad;
  auto body = json_body(r, bad);
  if (!body) return *bad;
  auto topic_name = body->value("topic", std::string());
  kafka::topic t(topic_name);
  auto to = body->value("to", std::string());
  std::vector<kafka::topic_partition_offset> offsets;
  if (to == "timestamp") {
    if (!(*body)["timestamp_ms"].is_number_integer()) {
      return web::json_error(400, "to=timestamp needs timestamp_ms (milliseconds since the epoch)",
                             "timestamp_ms");
    }
    auto at = s.admin->offsets_for_time(t, (*body)["timestamp_ms"].get<std::int64_t>(),
                                        s.options.kafka_timeout);
    if (!at)
      return at.err().code == errc::not_found ? unknown_topic(topic_name)
                                              : engine_failure(at.err(), "Kafka");
    offsets = *at;
  } else if (to == "earliest" || to == "latest") {
    auto spans = kafka::current_extent(*s.admin, t);
    if (!spans)
      return spans.err().code == errc::not_found ? unknown_topic(topic_name)
                                                 : engine_failure(spans.err(), "Kafka");
    for (const auto& [p, span] : *spans) {
      offsets.push_back(
          {t, kafka::partition(p), kafka::offset(to == "earliest" ? span.begin : span.end)});
    }
  } else {
    return web::json_error(400, fmt::format("to '{}' must be earliest, latest or timestamp", to),
                           "to");
  }
  auto set = s.admin->set_group_offsets(group, offsets, s.options.kafka_timeout);
  if (!set) return engine_failure(set.err(), "Kafka");
  nlohmann::json out = nlohmann::json::array();
  for (const auto& o : offsets)
    out.push_back({{"topic", topic_name},
                   {"partition", o.partition.value()},
                   {"committed", o.offset.value()}});
  return json_answer({{"group_id", group}, {"offsets", out}});
}

web::response group_routes(console::state& s, const web::request& r) {
  std::string rest = r.path.substr(std::string("/api/v1/groups/").size());
  if (rest.ends_with("/reset") && r.method == "POST")
    return reset_group(s, rest.substr(0, rest.size() - 6), r);
  if (r.method == "GET" && !rest.empty()) return group_detail(s, rest);
  return web::json_error(404, fmt::format("no endpoint {} {}", r.method, r.path), "path");
}

}  // namespace

void add_kafka_routes(console::state& s, web::router& routes) {
  routes.add("GET", "/api/v1/cluster", guarded(s, false, [&s](const web::request&) {
               auto c = s.admin->describe_cluster(s.options.kafka_timeout);
               if (!c) return engine_failure(c.err(), "Kafka");
               nlohmann::json brokers = nlohmann::json::array();
               for (const auto& b : c->brokers)
                 brokers.push_back({{"id", b.id}, {"host", b.host}, {"port", b.port}});
               return json_answer({{"cluster_id", c->cluster_id},
                                   {"controller_id", c->controller_id},
                                   {"brokers", brokers}});
             }));
  routes.add("GET", "/api/v1/topics",
             guarded(s, false, [&s](const web::request&) { return list_topics(s); }));
  routes.add("POST", "/api/v1/topics",
             guarded(s, true, [&s](const web::request& r) { return create_topic(s, r); }));
  routes.add_prefix("GET", "/api/v1/topics/",
                    guarded(s, false, [&s](const web::request& r) { return topic_routes(s, r); }));
  routes.add_prefix("POST", "/api/v1/topics/",
                    guarded(s, true, [&s](const web::request& r) { return topic_routes(s, r); }));
  routes.add_prefix("GET", "/api/v1/searches/", guarded(s, false, [&s](const web::request& r) {
                      return search_status(s,
                                           r.path.substr(std::string("/api/v1/searches/").size()));
                    }));
  routes.add("GET", "/api/v1/groups",
             guarded(s, false, [&s](const web::request&) { return list_groups(s); }));
  routes.add_prefix("GET", "/api/v1/groups/",
                    guarded(s, false, [&s](const web::request& r) { return group_routes(s, r); }));
  routes.add_prefix("POST", "/api/v1/groups/",
                    guarded(s, true, [&s](const web::request& r) { return group_routes(s, r); }));
}

}  // namespace sluice::console
