// The cluster side of the session: contact points and the control connection, topology
// from system.local/system.peers_v2 and replication from system_schema.keyspaces, one
// connection pool per node, reconnection with exponential backoff, and server events.
#include <fmt/ranges.h>
#include <boost/asio/post.hpp>
#include <random>

#include "base/log.h"
#include "cql/session_impl.h"

namespace sluice::cql {
namespace asio = boost::asio;

namespace {

std::vector<std::string> split_hosts(const std::string& hosts) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= hosts.size()) {
    auto comma = hosts.find(',', start);
    auto part = hosts.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    auto first = part.find_first_not_of(' ');
    auto last = part.find_last_not_of(' ');
    if (first != std::string::npos) out.push_back(part.substr(first, last - first + 1));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

/// Every address `name` has (IPv4 and IPv6, in the resolver's order, repeats dropped);
/// none when it does not resolve (the connection attempt reports why).
std::vector<std::string> resolve_addresses(const std::string& name) {
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  boost::system::error_code ec;
  auto found = resolver.resolve(name, "", ec);
  std::vector<std::string> out;
  if (ec) return out;
  for (const auto& entry : found) {
    auto text = entry.endpoint().address().to_string();
    if (std::find(out.begin(), out.end(), text) == out.end()) out.push_back(std::move(text));
  }
  return out;
}

std::chrono::milliseconds backoff(std::chrono::milliseconds base, std::chrono::milliseconds cap,
                                  int failures) {
  auto wait = base * (1LL << std::min(failures, 12));
  if (wait > cap) wait = cap;
  static thread_local std::minstd_rand jitter(std::random_device{}());
  auto spread = std::uniform_real_distribution<double>(0.8, 1.2)(jitter);
  return std::chrono::milliseconds(
      static_cast<long long>(static_cast<double>(wait.count()) * spread));
}

}  // namespace

session::impl::impl(session_config config)
    : config_(std::move(config)), work_(asio::make_work_guard(io_)) {
  contacts_ = expand_contacts(split_hosts(config_.host), resolve_addresses);
  current_keyspace_ = config_.keyspace;
  if (config_.tls.enabled) {
    tls_ = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    if (config_.tls.ca_file.empty()) {
      tls_->set_default_verify_paths();
    } else {
      tls_->load_verify_file(config_.tls.ca_file);
    }
    tls_->set_verify_mode(config_.tls.verify ? asio::ssl::verify_peer : asio::ssl::verify_none);
  }
  control_timer_ = std::make_unique<asio::steady_timer>(io_);
  refresh_timer_ = std::make_unique<asio::steady_timer>(io_);
  thread_ = std::thread([this] { io_.run(); });
  io_thread_id_ = thread_.get_id();
}

session::impl::~impl() {
  asio::post(io_, [this] { stop(); });
  work_.reset();
  thread_.join();
  // Sockets and timers must go before the io_context they were made with.
  control_.reset();
  nodes_.clear();
  retry_timers_.clear();
  control_timer_.reset();
  refresh_timer_.reset();
}

void session::impl::stop() {
  stopping_ = true;
  auto closed = make_error(errc::unavailable, "the CQL session was closed");
  control_timer_->cancel();
  refresh_timer_->cancel();
  for (const auto& timer : retry_timers_) timer->cancel();
  if (control_) control_->close(closed);
  for (auto& n : nodes_) {
    if (n->reconnect_timer) n->reconnect_timer->cancel();
    auto pool = n->pool;
    for (auto& c : pool) c->close(closed);
  }
  // Connections still in their handshake (a frozen node keeps one there for the whole
  // connect timeout): abandon them so that the I/O thread ends now.
  for (auto& weak : opening_) {
    if (auto c = weak.lock()) c->close(closed);
  }
  opening_.clear();
}

result<void> session::impl::start() {
  if (contacts_.empty())
    return make_error(errc::invalid_argument, "no Cassandra contact point given (--host)");
  asio::post(io_, [this] { open_control(0); });
  std::unique_lock lock(start_mutex_);
  start_cv_.wait(lock, [this] { return start_outcome_.has_value(); });
  return *start_outcome_;
}

void session::impl::finish_start(result<void> outcome) {
  std::lock_guard lock(start_mutex_);
  if (start_outcome_) return;
  start_outcome_ = std::move(outcome);
  start_cv_.notify_all();
}

connection_options session::impl::options_for(const std::string& host, int port) const {
  connection_options o;
  o.host = host;
  o.port = port;
  o.keyspace = current_keyspace_;
  o.connect_timeout = config_.timeout;
  o.request_timeout = config_.timeout;
  o.auth = config_.auth;
  o.compression = config_.compression;
  o.max_version = negotiated_version_ ? negotiated_version_ : config_.max_protocol_version;
  o.tls = tls_;
  o.verify_host = config_.tls.verify;
  o.heartbeat_interval = config_.heartbeat_interval;
  o.heartbeat_timeout = config_.heartbeat_timeout;
  return o;
}

void session::impl::open_control(std::size_t contact) {
  if (stopping_) return;
  // Contact points first, then any node already known.
  struct candidate {
    std::string host, address;
    int port;
  };
  std::vector<candidate> candidates;
  for (const auto& c : contacts_) candidates.push_back({c.name, c.address, config_.port});
  for (const auto& n : nodes_) {
    if (!n->removed) candidates.push_back({n->address, "", n->port});
  }
  if (contact >= candidates.size()) {
    bool starting = !start_outcome_;
    if (starting) {
      finish_start(make_error(errc::unavailable, "cannot reach Cassandra: {}", start_errors_));
      return;
    }
    control_timer_->expires_after(
        backoff(config_.reconnect_base, config_.reconnect_max, control_failures_++));
    control_timer_->async_wait([this](const boost::system::error_code& ec) {
      if (!ec) open_control(0);
    });
    return;
  }
  const auto& chosen = candidates[contact];
  auto options = options_for(chosen.host, chosen.port);
  options.address = chosen.address;
  options.keyspace.clear();
  auto pending =
      connection::open(io_, options, [this, contact](result<std::shared_ptr<connection>> opened) {
        if (stopping_) {
          if (opened) (*opened)->close(make_error(errc::unavailable, "the CQL session was closed"));
          return;
        }
        if (!opened) {
          if (!start_outcome_) {
            start_errors_ += (start_errors_.empty() ? "" : "; ") + opened.err().message;
            // A wrong password or a missing keyspace will not get better on another node.
            if (opened.err().code != errc::unavailable && opened.err().code != errc::timeout) {
              finish_start(opened.err());
              return;
            }
          }
          open_control(contact + 1);
          return;
        }
        control_failures_ = 0;
        control_ = *opened;
        // One protocol version per session: the pools speak what the control connection
        // negotiated rather than each negotiating down on its own.
        negotiated_version_ = control_->version();
        control_->on_event([this](const server_event& e) { handle_event(e); });
        control_->on_close([this](const error& why) { control_lost(why); });
        std::string frame;
        write_register(frame, 0, {"TOPOLOGY_CHANGE", "STATUS_CHANGE", "SCHEMA_CHANGE"});
        control_->send(std::move(frame), [](result<response>) {});
        refresh_topology();
      });
  if (pending) opening_.push_back(pending);
}

void session::impl::control_lost(const error& why) {
  control_.reset();
  if (stopping_) return;
  log::get("cql.cluster")->warn("control connection lost, reconnecting: {}", why.message);
  control_timer_->expires_after(
      backoff(config_.reconnect_base, config_.reconnect_max, control_failures_++));
  control_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (!ec) open_control(0);
  });
}

void session::impl::control_query(std::string cql, std::function<void(result<rows_result>)> done,
                                  std::shared_ptr<connection> via) {
  if (!via) via = control_;
  if (!via) {
    done(make_error(errc::unavailable, "no control connection to Cassandra"));
    return;
  }
  std::string frame;
  write_query(frame, 0, cql, {consistency::one, {}, 0, {}});
  via->send(std::move(frame), [cql, done = std::move(done)](result<response> r) {
    if (!r) return done(r.err());
    if (r->error) return done(server_error_of(*r->error, cql));
    done(std::move(r->rows));
  });
}

void session::impl::refresh_topology() {
  auto fail = [this](const error& e) {
    if (!start_outcome_) finish_start(e);
  };
  control_query(
      "SELECT rpc_address, data_center, rack, tokens, host_id FROM system.local",
      [this, fail](result<rows_result> local) {
        if (!local) return fail(local.err());
        auto with_peers = [this, fail, local = std::move(*local)](result<rows_result> peers) {
          if (!peers) return fail(peers.err());
          control_query("SELECT keyspace_name, replication FROM system_schema.keyspaces",
                        [this, fail, local, peers = std::move(*peers)](result<rows_result> ks) {
                          if (!ks) return fail(ks.err());
                          apply_topology(local, peers, *ks);
                        });
        };
        control_query(
            "SELECT native_address, data_center, rack, tokens, native_port, host_id "
            "FROM system.peers_v2",
            [this, with_peers](result<rows_result> peers) {
              if (peers) return with_peers(std::move(peers));
              control_query(
                  "SELECT rpc_address, data_center, rack, tokens, host_id FROM system.peers",
                  with_peers);  // servers before 4.0
            });
      });
}

void session::impl::schedule_refresh(std::chrono::milliseconds delay) {
  if (refresh_scheduled_ || stopping_) return;
  refresh_scheduled_ = true;
  refresh_timer_->expires_after(delay);
  refresh_timer_->async_wait([this](const boost::system::error_code& ec) {
    refresh_scheduled_ = false;
    if (!ec && control_) refresh_topology();
  });
}

void session::impl::apply_topology(const rows_result& local, const rows_result& peers,
                                   const rows_result& keyspaces) {
  std::vector<std::string> bad_local, bad_peers;
  auto local_nodes = nodes_from_rows(local, &bad_local);
  auto peer_nodes = nodes_from_rows(peers, &bad_peers);
  auto from = control_ ? control_->endpoint() : std::string("?");
  if (!local_nodes || local_nodes->empty()) {
    if (!start_outcome_)
      finish_start(make_error(
          errc::protocol, "cannot read the cluster topology from Cassandra at {}: {}", from,
          !local_nodes ? local_nodes.err().message
          : bad_local.empty()
              ? std::string("system.local is empty")
              : fmt::format("system.local has no usable row ({})", fmt::join(bad_local, "; "))));
    return;
  }
  if (!peer_nodes) {  // unusable as a whole: go on with the node we reached
    log::get("cql.cluster")
        ->warn("Cassandra at {}: ignoring its malformed system.peers: {}", from,
               peer_nodes.err().message);
    peer_nodes = std::vector<node_info>{};
  }
  // A malformed peer row (a broken or hostile node) is left out of the ring, not fatal.
  for (const auto& why : bad_peers)
    log::get("cql.cluster")
        ->warn("Cassandra at {}: ignoring a malformed system.peers row: {}", from, why);
  if (!control_) return;  // the control connection went away meanwhile: it will refresh again
  // The node we asked is known by the address we reached it at, unless it is known
  // already (by its host_id) under the address its peers gave.
  auto& asked = (*local_nodes)[0];
  // (A name that stands for several nodes names none of them: the address reached does.)
  asked.address =
      control_->options().address.empty() ? control_->options().host : control_->options().address;
  asked.port = control_->options().port;
  for (const auto& known : nodes_) {
    if (!asked.host_id.empty() && known->host_id == asked.host_id) {
      asked.address = known->address;
      asked.port = known->port;
    }
  }
  std::vector<node_info> all = std::move(*local_nodes);
  for (auto& p : *peer_nodes) {
    if (p.port == 0) p.port = config_.port;
    // One node, one place: a stale peer row (a node that changed address, listed under
    // both for a while) would otherwise give its tokens two owners, one of them dead.
    auto same = std::find_if(all.begin(), all.end(), [&](const node_info& n) {
      return !p.host_id.empty() && n.host_id == p.host_id;
    });
    if (same != all.end()) {
      log::get("cql.cluster")
          ->warn("Cassandra at {}: node {} is listed at {}:{} and {}:{}; keeping the first", from,
                 p.host_id, same->address, same->port, p.address, p.port);
      continue;
    }
    all.push_back(std::move(p));
  }
  if (local_dc_.empty()) {
    {
      std::lock_guard lock(state_mutex_);
      local_dc_ = config_.local_dc.empty() ? all[0].data_center : config_.local_dc;
    }
    std::set<std::string> centres;
    for (const auto& n : all) centres.insert(n.data_center);
    if (config_.local_dc.empty() && centres.size() > 1) {
      log::get("cql.cluster")
          ->warn(
              "no local data centre set: using '{}', the contact point's; LOCAL_* levels "
              "will use only its nodes (set it with --local-dc)",
              local_dc_);
    } else if (!centres.contains(local_dc_)) {
      log::get("cql.cluster")
          ->warn(
              "the local data centre '{}' has no node (the cluster's: {}): LOCAL_* levels "
              "will find no node",
              local_dc_, fmt::join(centres, ", "));
    }
  }
  std::map<std::string, replication> parsed;
  for (const auto& row : keyspaces.rows) {
    if (row.size() < 2 || !row[0] || !row[1]) continue;
    auto items = read_collection(*row[1], 2);
    if (!items) continue;
    std::vector<std::pair<std::string, std::string>> options;
    for (std::size_t i = 0; i + 1 < items->size(); i += 2)
      options.emplace_back((*items)[i].value_or(""), (*items)[i + 1].value_or(""));
    parsed[*row[0]] = parse_replication(options);
  }
  keyspaces_ = std::move(parsed);
  std::vector<std::size_t> seen;
  for (const auto& info : all) seen.push_back(node_index(info.address, info.port, info.host_id));
  {
    std::lock_guard lock(state_mutex_);
    ring_ = token_ring(all);
    for (std::size_t i = 0; i < all.size(); ++i) {
      auto& n = *nodes_[seen[i]];
      n.data_center = all[i].data_center;
      n.rack = all[i].rack;
      n.removed = false;
    }
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      if (std::find(seen.begin(), seen.end(), i) == seen.end()) nodes_[i]->removed = true;
    }
  }
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    auto& n = *nodes_[i];
    if (n.removed) {
      auto pool = n.pool;
      for (auto& c : pool) c->close(make_error(errc::unavailable, "node left the cluster"));
    } else if (n.pool.empty() && !n.opening && !n.reconnect_scheduled) {
      connect_node(i);
    }
  }
}

std::size_t session::impl::node_index(const std::string& address, int port,
                                      const std::string& host_id) {
  // A node is who its host_id says: a node that came back at a new address keeps its place
  // (its pool reconnects to the new address) rather than leaving a dead twin behind.
  if (!host_id.empty()) {
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      auto& known = *nodes_[i];
      if (known.host_id != host_id) continue;
      if (known.address != address || known.port != port) readdress(i, address, port);
      return i;
    }
  }
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    auto& known = *nodes_[i];
    if (known.address != address || known.port != port) continue;
    if (known.host_id.empty() || host_id.empty()) {
      if (known.host_id.empty()) known.host_id = host_id;
      return i;
    }
    // Another identity at a known address: the old node was replaced. It keeps the place
    // under the new identity (the old process held this address, so its connections
    // have closed already).
    log::get("cql.cluster")
        ->info("Cassandra at {}:{} is now node {} (was {})", address, port, host_id, known.host_id);
    known.host_id = host_id;
    return i;
  }
  auto n = std::make_unique<node>();
  n->address = address;
  n->port = port;
  n->host_id = host_id;
  n->reconnect_timer = std::make_unique<asio::steady_timer>(io_);
  std::lock_guard lock(state_mutex_);
  nodes_.push_back(std::move(n));
  return nodes_.size() - 1;
}

void session::impl::readdress(std::size_t index, const std::string& address, int port) {
  auto& n = *nodes_[index];
  log::get("cql.cluster")
      ->info("Cassandra node {} moved from {}:{} to {}:{}", n.host_id, n.address, n.port, address,
             port);
  {
    std::lock_guard lock(state_mutex_);
    n.address = address;
    n.port = port;
  }
  // Connections to the old address are of no use once the node answers elsewhere.
  auto pool = n.pool;
  for (auto& c : pool)
    c->close(make_error(errc::unavailable, "node {} moved to {}:{}", n.host_id, address, port));
}

void session::impl::connect_node(std::size_t index) {
  auto& n = *nodes_[index];
  if (n.opening || stopping_ || n.removed) return;
  n.opening = true;
  auto pending = connection::open(io_, options_for(n.address, n.port),
                                  [this, index](result<std::shared_ptr<connection>> opened) {
                                    node_opened(index, std::move(opened));
                                  });
  std::erase_if(opening_, [](const auto& weak) { return weak.expired(); });
  if (pending) opening_.push_back(pending);
}

void session::impl::node_opened(std::size_t index, result<std::shared_ptr<connection>> opened) {
  auto& n = *nodes_[index];
  n.opening = false;
  if (stopping_) {
    if (opened) (*opened)->close(make_error(errc::unavailable, "the CQL session was closed"));
    return;
  }
  if (!opened) {
    ++n.failures;
    {
      std::lock_guard lock(state_mutex_);
      n.last_error = opened.err().message;
    }
    bool any_up = false, all_tried = true;
    for (const auto& other : nodes_) {
      any_up = any_up || other->up;
      all_tried = all_tried && (other->up || other->failures > 0);
    }
    if (!start_outcome_ && !any_up && all_tried) finish_start(opened.err());
    schedule_reconnect(index);
    return;
  }
  auto c = *opened;
  const connection* identity = c.get();
  c->on_close(
      [this, index, identity](const error& why) { connection_closed(index, identity, why); });
  n.pool.push_back(c);
  if (n.ever_up && !n.up) ++reconnects_;
  n.failures = 0;
  n.ever_up = true;
  {
    std::lock_guard lock(state_mutex_);
    n.up = true;
  }
  if (static_cast<int>(n.pool.size()) < config_.connections_per_node) connect_node(index);
  finish_start(ok());
}

void session::impl::schedule_reconnect(std::size_t index) {
  auto& n = *nodes_[index];
  if (n.reconnect_scheduled || stopping_ || n.removed) return;
  n.reconnect_scheduled = true;
  n.reconnect_timer->expires_after(
      backoff(config_.reconnect_base, config_.reconnect_max, std::max(n.failures - 1, 0)));
  n.reconnect_timer->async_wait([this, index](const boost::system::error_code& ec) {
    nodes_[index]->reconnect_scheduled = false;
    if (!ec) connect_node(index);
  });
}

void session::impl::connection_closed(std::size_t index, const connection* closed,
                                      const error& why) {
  auto& n = *nodes_[index];
  if (why.detail == connection::heartbeat_missed) ++heartbeat_failures_;
  std::erase_if(n.pool, [closed](const auto& c) { return c.get() == closed; });
  if (n.pool.empty()) {
    std::lock_guard lock(state_mutex_);
    n.up = false;
    n.last_error = why.message;
  }
  if (!stopping_) schedule_reconnect(index);
}

void session::impl::await_schema_agreement(std::shared_ptr<connection> coordinator,
                                           std::chrono::steady_clock::time_point until,
                                           std::function<void()> then) {
  auto ask = [this, coordinator](std::string cql, std::function<void(result<rows_result>)> done) {
    control_query(std::move(cql), std::move(done), coordinator);
  };
  ask("SELECT schema_version FROM system.local", [this, ask, coordinator, until,
                                                  then](result<rows_result> local) {
    ask("SELECT peer, rpc_address, schema_version FROM system.peers",
        [this, coordinator, until, then, local = std::move(local)](result<rows_result> peers) {
          std::set<std::string> versions;
          bool readable = local.ok() && peers.ok();
          if (readable) {
            for (const auto& row : local->rows)
              if (!row.empty()) versions.insert(row[0].value_or(""));
            for (const auto& row : peers->rows) {
              if (row.size() < 3) continue;  // malformed: not a peer we can judge
              auto listen = row[0] ? inet_text(*row[0]) : "";
              auto rpc = row[1] ? inet_text(*row[1]) : "";
              bool up = false;
              for (const auto& n : nodes_)
                up = up || ((n->address == listen || n->address == rpc) && n->up);
              if (up) versions.insert(row[2].value_or(""));
            }
          }
          if (!readable || versions.size() <= 1 || std::chrono::steady_clock::now() > until) {
            return then();  // agreed, or no way or no time to know: go on
          }
          auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(200));
          retry_timers_.insert(timer);
          timer->async_wait(
              [this, timer, coordinator, until, then](const boost::system::error_code& ec) {
                retry_timers_.erase(timer);
                if (ec) return then();
                await_schema_agreement(coordinator, until, then);
              });
        });
  });
}

void session::impl::handle_event(const server_event& event) {
  if (config_.on_event) config_.on_event(event);
  if (event.type == "SCHEMA_CHANGE") {
    if (event.target == "KEYSPACE") schedule_refresh(std::chrono::milliseconds(200));
  } else if (event.type == "TOPOLOGY_CHANGE") {
    schedule_refresh(std::chrono::milliseconds(1000));
  } else if (event.type == "STATUS_CHANGE" && event.change == "DOWN") {
    // The cluster saw it go: stop routing to it now rather than after a timeout. Its pool
    // closes (idempotent requests in flight go elsewhere) and reconnection with backoff
    // brings it back if the report was wrong.
    for (auto& node_ptr : nodes_) {
      auto& n = *node_ptr;
      if (n.address != event.address || n.removed) continue;
      {
        std::lock_guard lock(state_mutex_);
        n.up = false;
        n.last_error = "reported down by the cluster (STATUS_CHANGE DOWN)";
      }
      auto pool = n.pool;  // close() calls back into connection_closed, which edits it
      for (auto& c : pool)
        c->close(make_error(errc::unavailable, "Cassandra reported {} down", n.address));
    }
  } else if (event.type == "STATUS_CHANGE" && event.change == "UP") {
    // The spec advises a short wait: the node announces itself before its native
    // transport accepts connections.
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      auto& n = *nodes_[i];
      if (n.address == event.address && n.pool.empty() && !n.opening) {
        n.reconnect_timer->cancel();  // it is back: do not wait out the backoff
        n.reconnect_scheduled = true;
        n.reconnect_timer->expires_after(std::chrono::seconds(1));
        n.reconnect_timer->async_wait([this, i](const boost::system::error_code& ec) {
          if (ec || stopping_) return;
          nodes_[i]->reconnect_scheduled = false;
          if (nodes_[i]->pool.empty() && !nodes_[i]->opening) connect_node(i);
        });
      }
    }
  }
}

}  // namespace sluice::cql
