// The session's request path (query plan, send, retry, re-prepare) and its public API:
// asynchronous calls, and blocking ones built on them.
#include <boost/asio/post.hpp>
#include <condition_variable>
#include <future>
#include <random>

#include "cql/policy.h"
#include "cql/session_impl.h"

namespace sluice::cql {
namespace asio = boost::asio;

error server_error_of(const server_error& e, std::string_view what) {
  auto out = make_error(errc::server, "{} failed: {} (0x{:04x}): {}", what.substr(0, 120),
                        error_name(e.code), e.code, e.message);
  out.detail = e.code;
  return out;
}

// ---------------------------------------------------------------- request path

std::vector<std::size_t> session::impl::plan_for(const pending_request& request) {
  std::vector<std::size_t> replicas;
  if (request.token) {
    auto ks = keyspaces_.find(request.keyspace);
    replication r = ks == keyspaces_.end() ? replication{} : ks->second;
    std::vector<const node_info*> owners;
    {
      std::lock_guard lock(state_mutex_);
      owners = ring_.replicas(*request.token, r);
    }
    for (const auto* info : owners)
      replicas.push_back(
          node_index(info->address, info->port ? info->port : config_.port, info->host_id));
  }
  std::vector<plan_node> states;
  states.reserve(nodes_.size());
  for (const auto& n : nodes_) states.push_back({n->data_center, n->up && !n->removed});
  plan_options options;
  options.local_only =
      is_local_level(request.level) && !config_.allow_remote_dc_for_local && !local_dc_.empty();
  options.shuffle_replicas = config_.shuffle_replicas;
  return query_plan(states, replicas, local_dc_, round_robin_++, options);
}

std::shared_ptr<connection> session::impl::pick_connection(node& n) {
  std::shared_ptr<connection> best;
  for (std::size_t k = 0; k < n.pool.size(); ++k) {
    auto& c = n.pool[(n.next_connection + k) % n.pool.size()];
    if (c->closed()) continue;
    if (!best || c->in_flight() < best->in_flight()) best = c;
  }
  ++n.next_connection;
  return best;
}

void session::impl::submit(std::shared_ptr<pending_request> request) {
  ++requests_;
  asio::post(io_, [this, request = std::move(request)]() mutable { dispatch(std::move(request)); });
}

void session::impl::dispatch(std::shared_ptr<pending_request> request) {
  if (stopping_)
    return fail(std::move(request), make_error(errc::unavailable, "the CQL session was closed"));
  if (request->next == 0 && request->plan.empty()) request->plan = plan_for(*request);
  if (send_to_next_node(request)) return;
  std::string known;
  for (const auto& n : nodes_) {
    if (n->removed) continue;
    auto state = n->up ? std::string("up") : n->last_error.empty() ? "connecting" : n->last_error;
    known += fmt::format("{}{}:{} (data centre '{}', {})", known.empty() ? "" : "; ", n->address,
                         n->port, n->data_center, state);
  }
  if (known.empty()) known = "no node known";
  bool local_only =
      is_local_level(request->level) && !local_dc_.empty() && !config_.allow_remote_dc_for_local;
  auto why = local_only ? make_error(errc::unavailable,
                                     "no Cassandra node of the local data centre '{}' is up for a "
                                     "LOCAL_* consistency level (set the local data centre, allow "
                                     "remote ones, or use a non-local level): {}",
                                     local_dc_, known)
                        : make_error(errc::unavailable, "no Cassandra node is up: {}", known);
  retry_or_fail(std::move(request), why, failure_kind::no_node);
}

bool session::impl::send_to_next_node(const std::shared_ptr<pending_request>& request) {
  while (request->next < request->plan.size()) {
    auto& n = *nodes_[request->plan[request->next++]];
    auto via = pick_connection(n);
    if (!via) continue;
    ++n.requests;
    ++request->in_flight;
    request->reprepares = 0;  // a new attempt: this node may not know the statement either
    via->send(request->frame, [this, request, via](result<response> answer) mutable {
      on_response(std::move(request), std::move(via), std::move(answer));
    });
    schedule_speculation(request);
    return true;
  }
  return false;
}

void session::impl::schedule_speculation(const std::shared_ptr<pending_request>& request) {
  if (config_.speculative_delay.count() <= 0 || !request->idempotent ||
      request->speculative >= config_.speculative_max)
    return;
  auto timer = std::make_shared<asio::steady_timer>(io_, config_.speculative_delay);
  retry_timers_.insert(timer);
  int started = request->speculative;
  timer->async_wait([this, timer, request, started](const boost::system::error_code& ec) {
    retry_timers_.erase(timer);
    // Still unanswered, and no other send started since this timer was armed.
    if (ec || request->completed || request->in_flight == 0 || request->speculative != started)
      return;
    ++request->speculative;
    if (send_to_next_node(request)) ++speculative_executions_;
  });
}

namespace {

/// How an attempt that got no answer failed, from the connection's error.
failure_kind transport_failure(const error& e) {
  if (e.detail == connection::never_sent) return failure_kind::not_sent;
  if (e.code == errc::timeout) return failure_kind::client_timeout;
  return failure_kind::connection_lost;
}

}  // namespace

void session::impl::on_response(std::shared_ptr<pending_request> request,
                                std::shared_ptr<connection> via, result<response> answer) {
  --request->in_flight;
  if (request->completed) return;  // another send of it answered first
  if (!answer) {
    auto why = answer.err();
    return retry_or_fail(std::move(request), why, transport_failure(why));
  }
  if (answer->error) {
    bool unprepared = answer->error->code == error_unprepared;
    if (unprepared && request->reprepares < 2 && !cql_of(answer->error->unprepared_id).empty()) {
      return reprepare(std::move(request), std::move(via), answer->error->unprepared_id);
    }
    auto e = server_error_of(*answer->error, request->what);
    if (unprepared && cql_of(answer->error->unprepared_id).empty())
      e.message += fmt::format(
          " (Cassandra at {} does not know the statement and this session "
          "never prepared it: prepare it again)",
          via->endpoint());
    return retry_or_fail(std::move(request), e, failure_kind::server_error, &*answer->error);
  }
  request->completed = true;
  if (answer->result_kind == 5) {  // a schema change: let every node catch up first
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    return await_schema_agreement(via, until, [request, answer = std::move(answer)]() mutable {
      request->done(std::move(answer));
    });
  }
  request->done(std::move(answer));
}

void session::impl::fail(std::shared_ptr<pending_request> request, error why) {
  // With a speculative send still out, its answer decides (this failure is one of two).
  if (request->completed || request->in_flight > 0) return;
  request->completed = true;
  ++failed_;
  request->done(std::move(why));
}

void session::impl::retry_or_fail(std::shared_ptr<pending_request> request, error why,
                                  failure_kind kind, const server_error* server) {
  // Another send of it (speculative) is still out: its answer decides, not this failure.
  if (request->completed || request->in_flight > 0) return;
  auto verdict = decide_retry(kind, server, request->idempotent, request->retries);
  if (verdict.decision == retry_decision::rethrow) {
    bool would_retry =
        !request->idempotent &&
        decide_retry(kind, server, true, request->retries).decision != retry_decision::rethrow;
    if (would_retry) why.message += " (not retried: the statement is not marked idempotent)";
    return fail(std::move(request), std::move(why));
  }
  auto elapsed = std::chrono::steady_clock::now() - request->started;
  if (stopping_ || elapsed > config_.idempotent_retry_for) {
    why.message += fmt::format(" (gave up after retrying for {} s)",
                               std::chrono::duration_cast<std::chrono::seconds>(elapsed).count());
    return fail(std::move(request), std::move(why));
  }
  bool more_nodes = request->next < request->plan.size();
  if (verdict.decision == retry_decision::retry_next && !more_nodes) {
    // Every node of the plan failed it: plan again after a backoff (nodes may be back),
    // for a bounded number of rounds; a statement that may have run only when idempotent.
    bool never_ran = kind == failure_kind::not_sent || kind == failure_kind::no_node ||
                     kind == failure_kind::reprepare_failed;
    if ((!request->idempotent && !never_ran) || request->rounds >= config_.retry_rounds) {
      if (request->rounds >= config_.retry_rounds)
        why.message += fmt::format(" (gave up after {} rounds over the nodes)", request->rounds);
      return fail(std::move(request), std::move(why));
    }
  }
  ++retries_;
  ++request->retries;
  ++retries_by_reason_[static_cast<std::size_t>(verdict.reason)];
  if (verdict.decision == retry_decision::retry_same && request->next > 0) {
    --request->next;  // the node that answered, once more
    return dispatch(std::move(request));
  }
  if (more_nodes) return dispatch(std::move(request));
  retry_after_backoff(std::move(request));
}

void session::impl::retry_after_backoff(std::shared_ptr<pending_request> request) {
  // 50 ms doubling up to 2 s, jittered to 50-100% so that clients do not retry in step.
  auto base = std::min(std::chrono::milliseconds(50) * (1 << std::min(request->rounds, 6)),
                       std::chrono::milliseconds(2000));
  thread_local std::minstd_rand jitter(std::random_device{}());
  auto wait = base / 2 + std::chrono::milliseconds(jitter() % (base.count() / 2 + 1));
  ++request->rounds;
  auto timer = std::make_shared<asio::steady_timer>(io_, wait);
  retry_timers_.insert(timer);
  timer->async_wait([this, timer, request](const boost::system::error_code& ec) mutable {
    retry_timers_.erase(timer);
    request->plan.clear();
    request->next = 0;
    if (ec)
      return fail(std::move(request), make_error(errc::unavailable, "the CQL session was closed"));
    dispatch(std::move(request));
  });
}

std::string session::impl::cql_of(const std::string& id) const {
  auto found = prepared_cql_.find(id);
  return found == prepared_cql_.end() ? std::string() : found->second;
}

void session::impl::reprepare(std::shared_ptr<pending_request> request,
                              std::shared_ptr<connection> via, const std::string& id) {
  ++request->reprepares;
  ++reprepares_;
  auto cql = cql_of(id);  // known: on_response checked
  std::string frame;
  write_prepare(frame, 0, cql);
  ++request->in_flight;  // the PREPARE stands for the request meanwhile
  via->send(std::move(frame), [this, request, via, id](result<response> answer) mutable {
    --request->in_flight;
    if (request->completed) return;
    if (!answer) {
      auto why = answer.err();
      return retry_or_fail(std::move(request), why, transport_failure(why));
    }
    if (answer->error) {  // it did not run here: the next node may prepare it
      return retry_or_fail(std::move(request),
                           server_error_of(*answer->error, "re-PREPARE " + cql_of(id)),
                           failure_kind::reprepare_failed);
    }
    if (answer->prepared.id != id) {
      return fail(request,
                  make_error(errc::server,
                             "{}: the statement's id changed when re-prepared; prepare it again",
                             request->what));
    }
    ++request->in_flight;
    via->send(request->frame, [this, request, via](result<response> again) mutable {
      on_response(std::move(request), std::move(via), std::move(again));
    });
  });
}

void session::impl::prepare_async(std::string cql, std::function<void(result<prepared>)> done) {
  auto request = std::make_shared<pending_request>();
  write_prepare(request->frame, 0, cql);
  request->what = "PREPARE " + cql.substr(0, 80);
  request->idempotent = true;
  request->done = [this, cql, done = std::move(done)](result<response> answer) {
    if (!answer) return done(answer.err());
    prepared p{cql, answer->prepared.id, answer->prepared.bind_columns,
               answer->prepared.partition_key_indexes, current_keyspace_};
    if (!p.bind_columns.empty()) p.keyspace = p.bind_columns[0].keyspace;
    prepared_cql_[p.id] = cql;
    // Other nodes learn it now rather than on their first UNPREPARED.
    for (auto& n : nodes_) {
      if (n->pool.empty()) continue;
      std::string frame;
      write_prepare(frame, 0, cql);
      n->pool.front()->send(std::move(frame), [](result<response>) {});
    }
    done(std::move(p));
  };
  submit(std::move(request));
}

// ---------------------------------------------------------------- public API

session::session(std::unique_ptr<impl> state) : impl_(std::move(state)) {}
session::~session() = default;

result<std::unique_ptr<session>> session::connect(const session_config& config) {
  if (config.connections_per_node < 1 || config.connections_per_node > 64)
    return make_error(errc::invalid_argument, "connections per node must be 1..64, not {}",
                      config.connections_per_node);
  if (!config.compression.empty() && config.compression != "lz4")
    return make_error(errc::invalid_argument, "CQL compression '{}' is not supported (use lz4)",
                      config.compression);
  std::unique_ptr<impl> state;
  try {
    state = std::make_unique<impl>(config);
  } catch (const boost::system::system_error& e) {
    return make_error(errc::invalid_argument, "TLS setup (CA file '{}') failed: {}",
                      config.tls.ca_file, e.what());
  }
  auto started = state->start();
  if (!started) return started.err();
  return std::unique_ptr<session>(new session(std::move(state)));
}

const session_config& session::config() const {
  return impl_->config_;
}

session_stats session::stats() const {
  session_stats out{impl_->requests_,
                    impl_->retries_,
                    impl_->reprepares_,
                    impl_->reconnects_,
                    impl_->failed_,
                    impl_->heartbeat_failures_,
                    impl_->speculative_executions_,
                    {}};
  for (std::size_t i = 0; i < retry_reason_count; ++i) {
    out.retries_by_reason.emplace_back(retry_reason_name(static_cast<retry_reason>(i)),
                                       impl_->retries_by_reason_[i].load());
  }
  return out;
}

std::vector<node_status> session::nodes() const {
  std::lock_guard lock(impl_->state_mutex_);
  std::vector<node_status> out;
  for (const auto& n : impl_->nodes_) {
    if (n->removed) continue;
    out.push_back({n->address, n->port, n->data_center, n->up, n->data_center == impl_->local_dc_,
                   n->requests.load(), n->last_error});
  }
  return out;
}

token_ring session::ring() const {
  std::lock_guard lock(impl_->state_mutex_);
  return impl_->ring_;
}

namespace {

/// Retried after it may have run: SELECTs, and statements declared idempotent that do
/// not change the schema.
bool idempotent(std::string_view cql, const statement_options& options) {
  if (is_schema_statement(cql)) return false;
  return options.idempotent || is_read_statement(cql);
}

/// A request for a prepared statement, routed by the partition key in `routing_values`;
/// its answer goes to `done` as rows.
std::shared_ptr<pending_request> prepared_request(const prepared& statement,
                                                  const std::vector<bound_value>& routing_values,
                                                  const statement_options& options,
                                                  std::string_view what, rows_handler done) {
  auto request = std::make_shared<pending_request>();
  if (auto key = routing_key(routing_values, statement.partition_key_indexes))
    request->token = murmur3_token(*key);
  request->keyspace = statement.keyspace;
  request->idempotent = idempotent(statement.cql, options);
  request->what = fmt::format("{} {}", what, statement.cql.substr(0, 80));
  request->done = [done = std::move(done)](result<response> r) {
    if (!r) return done(r.err());
    done(std::move(r->rows));
  };
  return request;
}

/// Unset values exist from protocol v4 on: with an older server the request is refused
/// here rather than sent with a length the server would misread.
std::optional<error> unset_refused(std::span<const bound_value> values, std::uint8_t version) {
  if (version == 0 || version >= 4) return std::nullopt;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i].unset) {
      return make_error(errc::invalid_argument,
                        "value {} is unset, which needs protocol v4; this session speaks v{}",
                        i + 1, version);
    }
  }
  return std::nullopt;
}

}  // namespace

bool session::impl::refuse_unset(std::span<const bound_value> values, rows_handler& done) {
  auto refused = unset_refused(values, negotiated_version_);
  if (!refused) return false;
  asio::post(io_, [done = std::move(done), e = *refused] { done(e); });
  return true;
}

void session::execute_async(const prepared& statement, const std::vector<bound_value>& values,
                            rows_handler done, statement_options options) {
  if (impl_->refuse_unset(values, done)) return;
  auto request = prepared_request(statement, values, options, "EXECUTE", std::move(done));
  request->level = options.level.value_or(impl_->config_.level);
  bool read = is_read_statement(statement.cql);
  write_execute(request->frame, 0, statement.id, request->level, values,
                read ? options.page_size : 0, options.paging_state);
  impl_->submit(std::move(request));
}

void session::query_async(std::string cql, query_params params, rows_handler done,
                          statement_options options) {
  if (impl_->refuse_unset(params.values, done)) return;
  auto request = std::make_shared<pending_request>();
  request->idempotent = idempotent(cql, options);
  request->what = cql.substr(0, 80);
  if (options.level) params.level = *options.level;
  request->level = params.level;
  write_query(request->frame, 0, cql, params);
  request->done = [done = std::move(done)](result<response> r) {
    if (!r) return done(r.err());
    done(std::move(r->rows));
  };
  impl_->submit(std::move(request));
}

namespace {

/// Runs an asynchronous call and waits for its callback.
template <typename T, typename Start>
result<T> wait_for(session::impl& state, Start&& start) {
  if (state.on_io_thread())
    return make_error(errc::internal, "a blocking CQL call was made from a session callback");
  std::promise<result<T>> promise;
  auto future = promise.get_future();
  start([&promise](result<T> r) { promise.set_value(std::move(r)); });
  return future.get();
}

}  // namespace

result<rows_result> session::query_page(std::string_view cql, const query_params& params,
                                        statement_options options) {
  if (cql.substr(0, 4) == "USE " || cql.substr(0, 4) == "use ")
    return make_error(errc::invalid_argument,
                      "switch keyspaces with the session's keyspace setting, not '{}'", cql);
  return wait_for<rows_result>(*impl_, [&](rows_handler done) {
    query_async(std::string(cql), params, std::move(done), options);
  });
}

result<rows_result> session::query(std::string_view cql, std::vector<bound_value> values,
                                   statement_options options) {
  query_params params{options.level.value_or(impl_->config_.level), std::move(values), 5000, {}};
  rows_result all;
  while (true) {
    auto page = query_page(cql, params, options);
    if (!page) return page.err();
    if (all.columns.empty()) all.columns = std::move(page->columns);
    for (auto& row : page->rows) all.rows.push_back(std::move(row));
    if (!page->paging_state) break;
    params.paging_state = page->paging_state;
  }
  return all;
}

result<prepared> session::prepare(std::string cql) {
  return wait_for<prepared>(*impl_, [&](std::function<void(result<prepared>)> done) {
    impl_->prepare_async(std::move(cql), std::move(done));
  });
}

result<rows_result> session::execute(prepared& statement, std::vector<bound_value> values,
                                     statement_options options) {
  rows_result all;
  while (true) {
    auto page = wait_for<rows_result>(*impl_, [&](rows_handler done) {
      execute_async(statement, values, std::move(done), options);
    });
    if (!page) return page.err();
    if (all.columns.empty()) all.columns = std::move(page->columns);
    for (auto& row : page->rows) all.rows.push_back(std::move(row));
    if (!page->paging_state) break;
    options.paging_state = page->paging_state;
  }
  return all;
}

void session::execute_batch_async(const prepared& statement,
                                  const std::vector<std::vector<bound_value>>& values,
                                  rows_handler done, statement_options options, batch_kind kind) {
  // Answered without a request, but still on the I/O thread as the callback contract says.
  if (values.empty()) {
    asio::post(impl_->io_, [done = std::move(done)] { done(rows_result{}); });
    return;
  }
  if (values.size() > 0x7FFF) {
    asio::post(impl_->io_, [done = std::move(done), n = values.size()] {
      done(make_error(errc::invalid_argument, "a BATCH holds at most 32767 statements, not {}", n));
    });
    return;
  }
  for (const auto& statement_values : values) {
    if (impl_->refuse_unset(statement_values, done)) return;
  }
  auto request = prepared_request(statement, values[0], options, "BATCH of", std::move(done));
  request->level = options.level.value_or(impl_->config_.level);
  write_batch(request->frame, 0, kind, statement.id, values, request->level);
  impl_->submit(std::move(request));
}

std::string session::replica_of(const prepared& statement,
                                const std::vector<bound_value>& values) const {
  auto key = routing_key(values, statement.partition_key_indexes);
  if (!key) return {};
  std::lock_guard lock(impl_->state_mutex_);
  auto token = murmur3_token(*key);
  const auto* owner = impl_->local_dc_.empty() ? impl_->ring_.owner(token)
                                               : impl_->ring_.owner_in(token, impl_->local_dc_);
  return owner ? owner->address : std::string();
}

result<void> session::execute_batch(prepared& statement,
                                    const std::vector<std::vector<bound_value>>& values,
                                    batch_kind kind, statement_options options) {
  auto r = wait_for<rows_result>(*impl_, [&](rows_handler done) {
    execute_batch_async(statement, values, std::move(done), options, kind);
  });
  if (!r) return r.err();
  return ok();
}

std::vector<result<void>> session::execute_many(prepared& statement,
                                                const std::vector<std::vector<bound_value>>& values,
                                                std::size_t window,
                                                std::vector<std::chrono::microseconds>* latencies,
                                                statement_options options) {
  std::vector<result<void>> results(values.size(), ok());
  if (latencies) latencies->assign(values.size(), std::chrono::microseconds(-1));
  if (impl_->on_io_thread()) {
    for (auto& r : results)
      r = make_error(errc::internal, "a blocking CQL call was made from a session callback");
    return results;
  }
  window = std::clamp<std::size_t>(window, 1, 32000);
  std::mutex mutex;
  std::condition_variable changed;
  std::size_t in_flight = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    {
      std::unique_lock lock(mutex);
      changed.wait(lock, [&] { return in_flight < window; });
      ++in_flight;
    }
    auto sent = std::chrono::steady_clock::now();
    execute_async(
        statement, values[i],
        [&, i, sent](result<rows_result> r) {
          if (!r) results[i] = r.err();
          if (latencies) {
            (*latencies)[i] = std::chrono::duration_cast<std::chrono::microseconds>(
                std::chrono::steady_clock::now() - sent);
          }
          std::lock_guard lock(mutex);
          --in_flight;
          changed.notify_all();
        },
        options);
  }
  std::unique_lock lock(mutex);
  changed.wait(lock, [&] { return in_flight == 0; });
  return results;
}

}  // namespace sluice::cql
