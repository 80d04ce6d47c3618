// #/topics/<name>/messages — the message browser: one partition or all, the newest N, from
// an offset or from a time, a page limit, Prev/Next through prev_offset/next_offset; and a
// search (text, how many records to scan) run on the server and polled until done.
// The view's settings live in the hash (?partition=&offset=|timestamp=|newest=&limit=).
import { useEffect, useRef, useState } from 'preact/hooks';
import { get, seg } from '../lib/api.js';
import { useApi } from '../lib/hooks.js';
import { href, navigate } from '../lib/router.js';
import { Message } from '../lib/Message.jsx';
import { Empty, ErrorBox, Loading, PageTitle } from '../lib/Status.jsx';
import { localInputToMs, msToLocalInput, num, time } from '../lib/format.js';

/** The request the hash describes: {partition, mode, value, limit}. */
function viewOf(query) {
  const partition = query.partition ?? '';
  const limit = query.limit || '50';
  if (query.offset !== undefined) return { partition, mode: 'offset', value: query.offset, limit };
  if (query.timestamp !== undefined) return { partition, mode: 'timestamp', value: query.timestamp, limit };
  return { partition, mode: 'newest', value: query.newest || '50', limit };
}

function queryOf(v) {
  return { partition: v.partition, [v.mode]: v.value, limit: v.limit };
}

function emptyReason(v) {
  const where = v.partition === '' ? 'this topic' : `partition ${v.partition}`;
  if (v.mode === 'offset') return `No messages in ${where} from offset ${v.value}: the end of the partition is reached`;
  if (v.mode === 'timestamp') return `No messages in ${where} at or after ${time(Number(v.value))}`;
  return `No messages in ${where} yet`;
}

function BrowseForm({ view, partitions, onLoad }) {
  const [partition, setPartition] = useState(view.partition);
  const [mode, setMode] = useState(view.mode);
  const [newest, setNewest] = useState(view.mode === 'newest' ? view.value : '50');
  const [offset, setOffset] = useState(view.mode === 'offset' ? view.value : '0');
  const [when, setWhen] = useState(
    view.mode === 'timestamp' ? msToLocalInput(Number(view.value)) : msToLocalInput(Date.now() - 3600 * 1000),
  );
  const [limit, setLimit] = useState(view.limit);
  const [error, setError] = useState('');

  // Prev/Next change the hash: follow it.
  useEffect(() => {
    setPartition(view.partition);
    setMode(view.mode);
    setLimit(view.limit);
    if (view.mode === 'offset') setOffset(view.value);
    if (view.mode === 'newest') setNewest(view.value);
  }, [view.partition, view.mode, view.value, view.limit]);

  const submit = (e) => {
    e.preventDefault();
    setError('');
    let value;
    if (mode === 'newest') value = newest;
    else if (mode === 'offset') value = offset;
    else {
      const t = localInputToMs(when);
      if (Number.isNaN(t)) {
        setError('Pick a date and time');
        return;
      }
      value = String(t);
    }
    onLoad({ partition, mode, value, limit });
  };

  return (
    <form class="toolbar" onSubmit={submit} data-testid="browse-form">
      <label>
        Partition
        <select data-testid="partition-select" value={partition} onChange={(e) => setPartition(e.currentTarget.value)}>
          <option value="">all</option>
          {Array.from({ length: partitions }, (_, i) => (
            <option key={i} value={String(i)}>
              {i}
            </option>
          ))}
        </select>
      </label>
      <label>
        Show
        <select data-testid="mode-select" value={mode} onChange={(e) => setMode(e.currentTarget.value)}>
          <option value="newest">newest N</option>
          <option value="offset">from offset</option>
          <option value="timestamp">from time</option>
        </select>
      </label>
      {mode === 'newest' ? (
        <label>
          N
          <input data-testid="newest-input" type="number" min="1" max="500" value={newest} onInput={(e) => setNewest(e.currentTarget.value)} />
        </label>
      ) : null}
      {mode === 'offset' ? (
        <label>
          Offset
          <input data-testid="offset-input" type="number" min="0" value={offset} onInput={(e) => setOffset(e.currentTarget.value)} />
        </label>
      ) : null}
      {mode === 'timestamp' ? (
        <label>
          Time (local)
          <input data-testid="timestamp-input" type="datetime-local" step="1" value={when} onInput={(e) => setWhen(e.currentTarget.value)} />
        </label>
      ) : null}
      <label>
        Limit
        <input data-testid="limit-input" type="number" min="1" max="500" value={limit} onInput={(e) => setLimit(e.currentTarget.value)} />
      </label>
      <button class="primary" type="submit" data-testid="load-messages">
        Load
      </button>
      {error ? <span class="bad-text">{error}</span> : null}
    </form>
  );
}

function Search({ topic, partition }) {
  const [q, setQ] = useState('');
  const [maxScan, setMaxScan] = useState('10000');
  const [status, setStatus] = useState(null);
  const [error, setError] = useState(null);
  const run = useRef(0);
  const timer = useRef(null);
  useEffect(
    () => () => {
      run.current += 1;
      clearTimeout(timer.current);
    },
    [],
  );

  const poll = async (id, r) => {
    try {
      const s = await get(`/searches/${seg(id)}`);
      if (r !== run.current) return;
      setStatus(s);
      if (s.state === 'running') timer.current = setTimeout(() => poll(id, r), 500);
    } catch (e) {
      if (r === run.current) setError(e);
    }
  };

  const start = async (e) => {
    e.preventDefault();
    run.current += 1;
    clearTimeout(timer.current);
    const r = run.current;
    setError(null);
    setStatus(null);
    if (!q.trim()) {
      setError('Type the text to search for');
      return;
    }
    try {
      const res = await get(`/topics/${seg(topic)}/search`, { q, max_scan: maxScan, partition });
      if (r !== run.current) return;
      setStatus({ state: 'running', scanned: 0, max_scan: Number(maxScan), matches: [] });
      poll(res.search_id, r);
    } catch (err) {
      if (r === run.current) setError(err);
    }
  };

  const matches = status?.matches || [];
  return (
    <section class="panel search" data-testid="search">
      <h2>Search</h2>
      <form class="toolbar" onSubmit={start}>
        <label>
          Text
          <input data-testid="search-text" value={q} placeholder="key, header or value text" onInput={(e) => setQ(e.currentTarget.value)} />
        </label>
        <label>
          Max scan
          <input data-testid="search-max-scan" type="number" min="1" max="1000000" value={maxScan} onInput={(e) => setMaxScan(e.currentTarget.value)} />
        </label>
        <button class="primary" type="submit" data-testid="search-button">
          Search
        </button>
        <span class="muted small">{partition === '' ? 'all partitions' : `partition ${partition}`}, case-insensitive</span>
      </form>
      <ErrorBox error={error} />
      {status ? (
        <div data-testid="search-results">
          <p data-testid="search-progress" data-state={status.state}>
            {status.state === 'running' ? 'Searching: ' : status.state === 'done' ? 'Done: ' : 'Failed: '}
            scanned {num(status.scanned)} of {num(status.max_scan)}, {num(matches.length)} match{matches.length === 1 ? '' : 'es'}
            {matches.length >= 200 ? ' (the first 200 are kept)' : ''}
          </p>
          {status.state === 'failed' ? <ErrorBox error={status.error || 'the search failed without a reason'} /> : null}
          {status.state === 'done' && !matches.length ? (
            <Empty testid="search-empty">
              No message among the {num(status.scanned)} scanned contains "{q}"
            </Empty>
          ) : null}
          <div class="messages" data-testid="search-matches">
            {matches.map((m) => (
              <Message key={`${m.partition}:${m.offset}`} m={m} />
            ))}
          </div>
        </div>
      ) : null}
    </section>
  );
}

export function Messages({ name, query }) {
  const view = viewOf(query);
  const topic = useApi(() => get(`/topics/${seg(name)}`), [name]);
  const key = JSON.stringify(view);
  const page = useApi(() => get(`/topics/${seg(name)}/messages`, queryOf(view)), [name, key]);
  const go = (v) => navigate(['topics', name, 'messages'], queryOf(v));
  const data = page.data;
  const messages = data?.messages || [];
  const single = view.partition !== '';
  const has = (v) => v !== null && v !== undefined;

  return (
    <div data-testid="page-messages">
      <PageTitle>
        <a href="#/topics">Topics</a> / <a href={href(['topics', name])}>{name}</a> / messages
      </PageTitle>
      {topic.error ? <ErrorBox error={topic.error} /> : null}
      <BrowseForm view={view} partitions={topic.data?.partitions || 0} onLoad={go} />
      <Search topic={name} partition={view.partition} />
      <div class="pager">
        <button
          data-testid="prev-page"
          disabled={!single || !has(data?.prev_offset) || page.loading}
          onClick={() => go({ ...view, mode: 'offset', value: String(data.prev_offset) })}
        >
          ← Prev
        </button>
        <button
          data-testid="next-page"
          disabled={!single || !has(data?.next_offset) || page.loading}
          onClick={() => go({ ...view, mode: 'offset', value: String(data.next_offset) })}
        >
          Next →
        </button>
        <span class="muted small" data-testid="message-count">
          {page.loading ? 'loading…' : `${messages.length} message${messages.length === 1 ? '' : 's'}`}
          {!single ? ' (choose one partition to page with Prev/Next)' : ''}
        </span>
      </div>
      {page.error && page.error.message !== topic.error?.message ? <ErrorBox error={page.error} /> : null}
      {page.loading ? <Loading /> : null}
      {data && !page.loading && !messages.length ? <Empty testid="messages-empty">{emptyReason(view)}</Empty> : null}
      {!page.loading ? (
        <div class="messages" data-testid="messages">
          {messages.map((m) => (
            <Message key={`${m.partition}:${m.offset}`} m={m} />
          ))}
        </div>
      ) : null}
    </div>
  );
}
